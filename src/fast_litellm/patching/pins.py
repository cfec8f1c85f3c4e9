"""The LiteLLM release fast_litellm is verified against, in one place.

Every patched LiteLLM function is listed with the SHA-256 of its source
(``inspect.getsource``, UTF-8) in that release.  The patch engine refuses a
patch when the installed LiteLLM version is not in ``LITELLM_VERSIONS`` or
the function's source hash differs: LiteLLM changed, so our proof of
exactness no longer holds for it.

Regenerate the hashes with ``python tools/pin_hashes.py`` after verifying a
new LiteLLM release with the differential tests.

LiteLLM 1.82.7 and 1.82.8 were compromised on PyPI: never pin them.
"""
from typing import Dict, FrozenSet

LITELLM_PIN = "1.110.2"
LITELLM_VERSIONS: FrozenSet[str] = frozenset({LITELLM_PIN})
FORBIDDEN_VERSIONS: FrozenSet[str] = frozenset({"1.82.7", "1.82.8"})

TIKTOKEN_ORACLE = "0.14.0"

# target ("module:qualname") -> sha256 of the original's source
VERIFIED: Dict[str, str] = {
    # cache helper: InMemoryCache methods (native_in_memory_cache)
    "litellm.caching.in_memory_cache:InMemoryCache.get_cache": "95de469b15c02fc018b006d06ef15bb69534c6627c9584d515a2d951497fe305",
    "litellm.caching.in_memory_cache:InMemoryCache.set_cache": "73707f12ed18db989e92bab791b5e1389673041f6edd226f87ee135095161074",
    "litellm.caching.in_memory_cache:InMemoryCache.batch_get_cache": "0d3daeeff23c04cfbb1f29f1467c418ac8cd420df097d8b7a934fe0fc2d2595d",
    "litellm.caching.in_memory_cache:InMemoryCache.increment_cache": "6b6fb1474f046f3a74a851aecedb00710bf5ba73337195270e71515142322077",
    "litellm.caching.in_memory_cache:InMemoryCache.delete_cache": "04249363433e5ef5841b36c435ce6436e28136e6c14d5ecc721d0ff0299c9524",
    "litellm.caching.in_memory_cache:InMemoryCache.flush_cache": "d150085bd74354596965aeb2672f429ea14c4e32f839331ee07fbc1262a5bbe8",
    "litellm.caching.in_memory_cache:InMemoryCache.evict_cache": "4671d22693b87562a53e55ddec4e13970996c9066341b3b36d4885c4c8853966",
    "litellm.caching.in_memory_cache:InMemoryCache.async_batch_get_cache": "b33251d65783067f753840c72ae8682a67d97d3070d5da0d12bbea6bcc2e5443",
    # cache helper: v3 proxy limiter pure computation (rust_rate_limiting)
    "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3._collect_windowed_keys_and_gauges": "8c3c41bd4120a3537ae2744fcc55349651b038be5ce7e2e19943b89057adee02",
    "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3.is_cache_list_over_limit": "86b6b6dbc2658c06500db0cef5f9d8aaad4db633f8f5d4ac2049ef567e46619a",
    "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3._local_counter_states": "3c5c198556195faa9690e2eba6520ee69f50b278265915f74662cb86073f9041",
    "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3._in_memory_cache_sliding_window": "ce06a034e7e5dd0afe12df9cfb839a7b71edd099277f2a8b6729e989a247012d",
    # token_counter (fast_litellm/token_counter/patches.py); the helpers it
    # reproduces are pinned in fast_litellm/token_counter/_pins.py
    "litellm.litellm_core_utils.token_counter:token_counter":
        "3d5cb5f0243edcffeddc8a3e2ca4e2bda8b5047cb1f7d228eb923e7d8443ad80",
    "litellm.utils:token_counter":
        "1fe11ad74a98f0943134c7ed7f326fb86d02f1bd27b2b4689f8b4e5ab77e19e3",
    # routing (fast_litellm/routing/patches.py)
    "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler._get_available_deployments":
        "ebbe87a871db655ace8c128f8ed4a73dd0101807ed749baf1ed1af65a62e17b2",
    "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler.async_get_available_deployments":
        "aaf3fc04069a672aba0b1fab3d0a059f22e73dfe79e92231a2d486bde64795de",
    "litellm.router_strategy.lowest_latency:LowestLatencyLoggingHandler.get_available_deployments":
        "cb90f63d7a66eb31a897b62bac14ab46db463668e3d2cad2863729d7a3e3445f",
    "litellm.router_strategy.lowest_cost:LowestCostLoggingHandler.async_get_available_deployments":
        "ac03bdde271e2089d0fbf0ea2d42238a1ff02b9abd5d695b4cc6baef6dfa37d2",
    "litellm.router_rust.core:RustCore._strategy_inputs":
        "7fe1eea242c0d11293ce02a38de23cd1c49d70542cade77fe08778db4188ed79",
    "litellm.router_rust.routing_stores:_cooldown_ids":
        "56e7c25c7a8a8d345d6ed4bef728eaef9ed86bcc015993e394049dfbaad51518",
    "litellm.router_rust.core:_plain":
        "bd2e5b119f05e36d062277fcb08d3e51213d52a6ef03112f815e2a2d58a798f9",
    "litellm.router_rust.core:RustCore._usage_read_scope":
        "f1cad27242ad6a830270aa07b946e218f859046836a16ed3ab3ced6d8c19ab4b",
    "litellm.router_rust.core:RustCore._group_policy_fields":
        "66d368c29f322ed816f4290ee4fef50fbb1896caaca26ad47814d0f08a088e95",
    "litellm.router_rust.core:RustCore._answer_cache":
        "9afecd8a3f179e4dc703395ec871826de37bd769c21665dbabc50707b7cfb722",
}

# Sources a fast path relies on without replacing them (helpers it inlines,
# types it reads): checked when the patch is built.
CACHE = "litellm.caching.in_memory_cache:InMemoryCache."
DEPENDENCIES: Dict[str, str] = {
    CACHE + "__init__": "ce6b0235ee156aab000f17ac7608de38524975441ab167f8fad16f294e92dfbf",
    CACHE + "check_value_size": "f8249c4b2ee016ad466f6180ddb610b2d91342d28a9dbcb13d62b33e2ea12f8c",
    CACHE + "allow_ttl_override": "e2d6bd44cae4dcb97317080a3700508a7b42ccfe5548d0e9f1baa9b0fc38283d",
    CACHE + "evict_element_if_expired": "795c13a6fbaecb9f718fdbbbcc806fd03f87aee3e28873d769a5e0fb44b0e188",
    CACHE + "_is_key_expired": "ef4db5ae89138285228b6bd52dfd9fbf331bb1d4047541eebb385f0afe0cc38b",
    CACHE + "_remove_key": "422077fddc0d40da597e96f9fd11d94adfad98dcdd68afa6c1be7e07f42c937e",
    CACHE + "_cache_keys": "388eba66ececf45d838d1445531c5e932e1fbfc28237a61507eef09625ec52ec",
    "litellm.redis.stores.rate_limits.types:RateLimitScope": "07d9449d25fa8f5b189391b05e489c98be9f7f69be9600e586c7ced4b06cb9e1",
    "litellm.redis.stores.rate_limits.types:RateLimitCounter": "e0872201e83a74bf0dec2ab52a824c9cc48989609a8cd92465a065cfe0054679",
    "litellm.redis.stores.rate_limits.types:RateLimitWindow": "80a28c76b378c4834eec5258228f3592c8a40d2f234d7460d14559b73319a6e4",
    "litellm.redis.stores.rate_limits:RateLimitStore.local": "51ea2bec0d430fe042a0c422c51064c82aa6470c50baea10a178f1b1f949f77a",
    "litellm.redis.stores.rate_limits:RateLimitStore.set_local": "e2b194e6af852a852944b6913a2f6aea507f14a21430e9fbdf2b8a4e816f9f9c",
    "litellm.proxy.hooks.parallel_request_limiter_v3:_scalar": "7152fa75a97502fc55aa5fb2855fdad06bf849227e8b11efc91a0d22e74c8590",
    # routing's usage-read scope skips this read when its result is unused:
    # it must stay a pure read (no side effects but its exceptions)
    "litellm.router_rust.surface.registry:HostRegistry._core_get_model_list": "abdaf1f0a6285b19e155002ca8f4fdde2af3237e78f30116ce640fd45b475521",
    "litellm.router_rust.surface.registry:HostRegistry._rows": "dbcb7b60736c5eeca0edf962eb9355da1ba6527feaf04cb52d33f2cfb07cc2f8",
    "litellm.router_rust.surface.registry:HostRegistry._row_entry": "d100c7778fbba29ddb3280801debd227f7c3cd0a3e1945d3e3739ccae9179335",
    "litellm.router_rust.surface.registry:HostRegistry._list_scope": "dbb0582e9ee1b39988d8cbc81adabc1645a3a7ecdd266ac8594214ff80561ba5",
    "litellm.router_rust.surface.registry:HostRegistry._at": "151658ba33d5f3eaa3d19c4b914ff239ef3a017a026a5d689332bdf90a88109a",
    # routing's retry-policy fields: what the skipped resolution computes,
    # and the two callers that validate the request just before
    "litellm.router_rust.core:RustCore._group_policies": "c842485f0fa88b0b07fe7fcf3a592a6ec0c9455f15b52a4485263fbacf5ac1c7",
    "litellm.router_rust.core:RustCore._policy_lookup_names": "4b7105d31a138a35b87ea774398e972c9a8cba33a48f4d5f74c15ae2b1a4786b",
    "litellm.router_rust.core:RustCore._routing_fields": "6a4323b28e3555b276cd2b3ed771862b7a1fd921ed1e384bc338261a55b09909",
    "litellm.router_rust.core:RustCore.stream_policy": "2233c2bd5916f2bea9d88823b677aebcaef598dcd54bbd07165471a2b194fa60",
    "litellm.router_rust.core:_start_fields": "18913630bb0c2178cbbed531d1c1c00bde1ad3bc69d83735006c196edfc6ae4f",
    "litellm.router_rust.core:_request_start_fields": "2d654c9ec92d12168d98e33c8b4215d3c4594e506f45a60ac37b4fce2c2643f6",
    # routing's cooldown batch read: the layers it goes around
    "litellm.router_rust.core:RustCore._answer_cache_in_target": "cd40452e996f9653e0860c01ae0182d2b0d4110494fe0cd8e5b62c2ca2cc9e8d",
    "litellm.router_rust.core:RustCore._batch_read": "5d510cc105327258c247ec6b3fe41d5c61cbdfea1b7fe97fd9e46e587e993d4d",
    "litellm.router_rust.core:RustCore._stored_with_usage": "7468e3822fc2b1624db62b5128487f470c28378350f2c2cfa7be6aa8f200e8f3",
    "litellm.router_rust.core:RustCore._stores.fget": "71fcd19c618fd99e63284aeecbc45692fcec58960263ae66e5d1eb27011ed345",
    "litellm.router_rust.core:_cache_target": "334183b3f3381122a2f7aa8944fa7aea6439d28b130852f8185a2cd5cdda0c90",
    "litellm.router_rust.core:_as_list": "91211e0fb0fe7f958e059de7e8c60edc7f77256a2a73bccf977f55a8a1563d4a",
    "litellm.router_rust.routing_stores:RoutingStores.batch_get": "a8e613f4f8f1710da78284d88d849cd7e03fbc3a179262bb6159d24351f465a9",
    "litellm.router_rust.routing_stores:_aligned": "04788fc9a2e439fc64bd79225ef3f46c20924fd0f46f43d63fc645bbd6f18a59",
    "litellm.router_utils.routing_prefetch:read_cooldowns": "15525ce89a652cf66fdd9aada31f601c77e4be19e32a071f70dc280438759042",
    "litellm.router_utils.routing_prefetch:_armed_cooldowns": "890933bff75f73b8bfabd677448553eec367c9a0e27e0a8090af0183e2804ecd",
    "litellm.redis.stores.router_cooldowns:RouterCooldownStore.active": "bf8fcc9885581bbbfc8e8e5c5e0ad21a43793ebf394e7085877aafb1bc831d83",
    "litellm.redis.stores.router_cooldowns:RouterCooldownStore.active_sync": "87a4e8725094952dc6a276d37be85ed11a1c94c29232a3120cf75a6e22376049",
    "litellm.redis.stores.router_cooldowns:RouterCooldownStore.has_redis.fget": "8c65c9cbd4863886bfd4b3d95792f0a92a23869910dd0b9cd0429fa65ec17242",
    "litellm._internal_context:service_target": "a7ccc257e927e7c2de6dba7f480a87d078e3ebeed542ee981f16a1e2922c8732",
    "litellm._internal_context:_restore": "52424a198c04d8900a2816778621320c0cc4b0541a288a513cd2d693061af657",
    "litellm._internal_context:with_service_target": "2f8c433ed328aedc2f74e72fd87868e670caf99532fffeab285c22723ba829e2",
}
