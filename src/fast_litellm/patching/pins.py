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
    "litellm.proxy.hooks.parallel_request_limiter_v3:_PROXY_MaxParallelRequestsHandler_v3.should_rate_limit": "4e68c8c875278f13a755bed793dbf792abc67123bb933915935f7e961fca0365",
    "litellm.redis.stores.connection:RedisStores.rate_limits": "dfeda6bba81110b79458690de8d1e5ba6f8ca015c52cc3dcfb456f4f4e02fb06",
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
    "litellm.router_rust.core:_start_fields":
        "18913630bb0c2178cbbed531d1c1c00bde1ad3bc69d83735006c196edfc6ae4f",
    "litellm.router_deprecated:_DeprecatedAttribute.__get__":
        "620665379d1ceac03bbfffbf7a4ba28f178df419961eb7e8ff9dd59db63363d8",
    "litellm.router:Router.__getattribute__":
        "ae0373414c843910138d0168ee5a1e2fab207b24f6c02d8cad8f33e599984a25",
    "litellm.router_deprecated:_unreserved_picker":
        "974bf753bdfd99f80fe93c7936e280c84869dc58f8dc9d16be1c600beab1c97e",
    "litellm.router_rust.core:RustCore._pre_route":
        "47e04ea211469208e5faa41a73b442b4fc91cc7cefc08c6a5d26f7ff65b3aac3",
    "litellm.router_rust.core:RustCore._prefetch_usage_selector":
        "f7fba1550d78d53c06ac52c2882fe5f65a268b0ac3a7cd7badf3d73c457ec35f",
    "litellm.router_rust.core:_Selection._served":
        "1e46a54100d2339fe835d22acf1255060ba1a48ca615ad314d00a50f0706331c",
    "litellm._service_logger:ServiceLogging.async_service_success_hook":
        "3c6fde163653fcff0f101db7bb2e4f0e2903b797d2b7581b35781be84db7bc3b",
    "litellm.router_rust.core:_narrowing_fields":
        "fee8faa480fb5510b9c1f5ee031c0d74ee99d1642ffd5978e9ae484c81f8b36c",
    "litellm.router_rust.core:RustCore.select":
        "55536c313f0ee8f9fe7c53e374a195e1216f8cf60238ba97d1b8a9cf0e8a9763",
    # routing/shadow_handle.py: the handle's construction, re-done to keep its documents
    "litellm.router_rust.core:RustCore._new_handle":
        "2eab41e25d42f4dcb157997b47894c1604c63b23eed52ee9723ef576f5736d40",
    "litellm.caching.dual_cache:DualCache.async_get_cache":
        "74703830ad19f9cf630f8b74ed571013f92f1bc389edd790fad63798f08e334b",
    "litellm.caching.dual_cache:DualCache.get_cache":
        "30f09d26ae8a293ad364e32cb929a294110c332917d19efd3789ed0df4646cb9",
    # cost (fast_litellm/cost/patches.py)
    "litellm.cost_calculator:completion_cost":
        "672cb9937a6c62c839a0a0687d0c718f885bbc16a48f928d4fae9838eb16d0e1",
    "litellm.cost_calculator:cost_per_token":
        "0f37e16d316f117fcade37869367806c13ec3080d08e5e0dbbea5591eb14413a",
    "litellm.litellm_core_utils.llm_cost_calc.utils:_get_token_base_cost":
        "d59f7eb6bf37ce99d6181c94d31cbcf773940993cabba105934027cb6c3aa786",
    # routing/selector_fast.py: the usage-based selectors' binding of the token count
    "litellm.router_strategy.lowest_tpm_rpm_v2:embedding_aware_token_count":
        "4f31e1536feaa62442468a216ee48027799ec9b32a0111a782519b03960b6fdc",
    "litellm.router_strategy.lowest_tpm_rpm:embedding_aware_token_count":
        "4f31e1536feaa62442468a216ee48027799ec9b32a0111a782519b03960b6fdc",
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler._select":
        "3b2095d4fbaf533099af0cc27545450e515648fd1ccbdcf46a0530081b7a060d",
    "litellm.router_strategy.least_busy:_deployment_ids":
        "b3942acf2ef50f7922e3300a2695240cc15dc32cc10013b17ad34cc0dd3e31c8",
    "litellm.router_strategy.least_busy:_request_count_keys":
        "e2f1f38638910856189b7edbdb339eb94a5943066f269274612d3f797b4a81ab",
    # routing/litellm_fast.py: the registry's lookup rows as the entries they name
    "litellm.router_rust.surface.registry:HostRegistry._rows":
        "dbcb7b60736c5eeca0edf962eb9355da1ba6527feaf04cb52d33f2cfb07cc2f8",
    # routing/selector_fast.py: usage-based-routing-v2 counter keys and count checks
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2.usage_counter_keys":
        "634d393d44a4b9685d948509ac962322f00442b0094967bcf9d8bf18ed89c89d",
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2._common_checks_available_deployment":
        "a9e032c5ec677d2dc81e01b6b89f3fb21714c106e341699cc15ae361ed60d26a",
    # routing/selector_fast.py: usage-based-routing-v2's usage read (the gather's second Task)
    "litellm.router_utils.routing_read_batch:RoutingReadBatch.read_usage":
        "05d6a6c7058b75089072e5246ff693b3ac88d1f0045cd68ce1cc1a1517286e0a",
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
    # routing/shadow_handle.py: a rebuild swaps the handle, then adopts the old one's
    # providers under the registry lock; the static document asks for the stage
    "litellm.router_rust.core:RustCore._rebuild": "08adc62229e31ada62a6a0a0fa2f86aa4fbfb41204f56fd74e45628df2903964",
    "litellm.router_rust.core:Resolved.static_document": "7cf884437c961c741f28f877d58bd3eea8718db22c690d13ab1b5a09f51640ae",
    "litellm.router_rust.surface.registry:HostRegistry._row_entry": "d100c7778fbba29ddb3280801debd227f7c3cd0a3e1945d3e3739ccae9179335",
    "litellm.router_rust.surface.registry:HostRegistry._list_scope": "dbb0582e9ee1b39988d8cbc81adabc1645a3a7ecdd266ac8594214ff80561ba5",
    "litellm.router_rust.surface.registry:HostRegistry._at": "151658ba33d5f3eaa3d19c4b914ff239ef3a017a026a5d689332bdf90a88109a",
    # ... and what its rows are kept by (litellm_fast._GroupRows)
    "litellm.router_rust.surface.registry:HostRegistry._lookup": "2a9f6525b2563e74b561add33d15b99ab187dd4243f46446cfea61f540c03779",
    "litellm.router_rust.surface.registry:HostRegistry._live_handle": "85cc43fe694c75718ed93650e69e94124048a15c074cbed7a5bcdc118d4716b9",
    "litellm.router_rust.surface.registry:HostRegistry._core_model_names": "676e4c176ba40750ad1b67081a67a3651a07fd7df004ad7090275e021bb78171",
    "litellm.router_rust.surface.registry:_index_key": "a377d7d81645c87b6afd5e3ce40e681381d80dcba6908638e4b0d9167009bb4b",
    # ... and what decides whether that read, skipped for other strategies, would refresh
    # the registry's index views (litellm_fast._GroupRows.read_is_idle, session 20 hunt)
    "litellm.router_rust.surface.indexes:HostedIndexes.refresh": "09ed9e9a23bb5463b3c5fd6bc6655b6d37338f29a02c5271e543acbb15602fb3",
    "litellm.router_rust.core:RustCore._live_handle": "c6403e0803aca6cf3740cd9ec9ec069e1f1337fc2bded04cd18c165857b1fd86",
    "litellm.router_rust.surface.model_list:HostedModelList": "8dd62e1244a3480e881559310fc23b88660c720e298e237ceef8830c130c0691",
    # routing's retry-policy fields: what the skipped resolution computes,
    # and the two callers that validate the request just before
    "litellm.router_rust.core:RustCore._group_policies": "c842485f0fa88b0b07fe7fcf3a592a6ec0c9455f15b52a4485263fbacf5ac1c7",
    "litellm.router_rust.core:RustCore._policy_lookup_names": "4b7105d31a138a35b87ea774398e972c9a8cba33a48f4d5f74c15ae2b1a4786b",
    "litellm.router_rust.core:RustCore._routing_fields": "6a4323b28e3555b276cd2b3ed771862b7a1fd921ed1e384bc338261a55b09909",
    "litellm.router_rust.core:RustCore.stream_policy": "2233c2bd5916f2bea9d88823b677aebcaef598dcd54bbd07165471a2b194fa60",
    "litellm.router_rust.core:_start_fields": "18913630bb0c2178cbbed531d1c1c00bde1ad3bc69d83735006c196edfc6ae4f",
    "litellm.router_rust.core:_request_start_fields": "2d654c9ec92d12168d98e33c8b4215d3c4594e506f45a60ac37b4fce2c2643f6",
    # routing's usage-v2 usage read (selector_fast.make_read_usage): the layers it goes around
    "litellm.router_utils.routing_read_batch:_selector_keys": "3adc45b6bae4e37d01ea32a08723a7aff25b1043859e58ff20b2b9b4ad725f77",
    "litellm.router_utils.routing_read_batch:_selector_read": "4db9fb6d44e3b978ee43b65be556e603c957d388d5fd8d6c004dd6a3b552ba9c",
    "litellm.router_utils.routing_prefetch:selector_read": "655973bcc7d4cd198d95e509669c12dff9cff11ff75b7b81ac793062fb163e66",
    "litellm.router_utils.routing_prefetch:TierRead": "0253afc1a80cf5a4e562e5817ca4be08d73ae36df7d2b96371b9d2430fecf6bd",
    "litellm.router_utils.routing_prefetch:read": "87676a9f2c524b9d9ac8603cc7f360115dc1fb0cbfbf3203f28adc028d0a9143",
    "litellm.router_utils.routing_prefetch:_read_prefetched": "7c3699d213646423bc70367f6960b9e61862984547a324b5ef820cdfac3821d1",
    "litellm.router_utils.routing_prefetch:_take": "186aad2e908c381655f1162fbf3fe7a0cefeb801aed4445de35f30966b242297",
    "litellm.caching.redis_batch:active_request_redis_batches": "e11649931019962057db0bba5cc362f1cdadbf7a72fa4c86444616f1d7d193bd",
    "litellm.caching.dual_cache:DualCache.async_batch_get_cache_shared": "162b60288ed1e15e04208e6d20aaa9142d1819b87795c7ae21ee1d2ab65e4d3b",
    "litellm.caching.dual_cache:DualCache.async_batch_get_cache": "a9a7a7ae305400a7e288dd7adc6a7a3a94a0ab78de6b08a52caa4d0e50080604",
    "litellm.caching.dual_cache:DualCache._prepare_batch_get": "9a5e77cd46a9d153ebc543db391f24897b9701aa93a3793b565b4b3cc102aaaf",
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
    # routing's start fields without pydantic (protocol_fast.make_start_fields)
    "litellm.router_rust.core:_listing_team_id": "bf5e3f83c6bf52a2da1431a0f3da09c367df095a9118b0f3af2ea45179f54228",
    "litellm.router_rust.core:RequestStartFields": "19b9009eb043cd57bfeafb56aafe19f179f048d33bc6271df58abc6ef41f3682",
    "litellm.litellm_core_utils.routing_common_utils:get_request_team_id": "4ad38d990b14255a7d8e12a44424962aaf85872df4d7c50274f1e0bed4eeb7fd",
    "litellm.router_rust.steps.access:caller_fields": "30f775816fb71366daf7f99e892703797511c41d1402a0db336a8b183bc24ac8",
    "litellm.router_rust.surface.retries:request_retry_fields": "44f587a2c65e5852f4cab12547778b5ed1f29d64e57cbf20aeaa84078f64086a",
    "litellm.router_rust.steps.selection:normalize_strategy": "f9f1a6cb8cadfb81f781a28cea345df390590104eb7efc6f372372a5249bd942",
    # routing's deprecated pick attribute read (protocol_fast.make_unreserved_picker)
    "litellm.router_deprecated:_async_picker": "4edf1c58f89a46e7b252366c0094cc769c1b8aa549bae430a97760de964112c1",
    "litellm.router_deprecated:_without_reserving": "d26ea934b4371effd25fb0470a9fdef0b2f43e8ea014e2b5da410d945beb03e6",
    "litellm.router_deprecated:_public_attribute_error": "fc95fb16d4fce5adc2d42840b27a30428843fb6dc8a50d4700030b328b013058",
    # least-busy's call id, read back without CALL_IDENTITY's validation (protocol_fast.least_busy_call_id)
    "litellm.router_strategy.least_busy:call_id_of": "9f873f2d32c34cf54a5ce13b6b937526c838d5803019c216882af1a9033c016d",
    # the native deprecated-attribute read (protocol_fast.make_deprecated_get): what it does in C
    "litellm.router_deprecated:_note": "807d41b0eb9a5e3534e99b87fdd6402f462e52cd8af57d3f189bc35d45c6b1b3",
    "litellm.router_deprecated:_as_router": "14bcf629e20c59e947af2779a534d8b14a228b88f6a579abb2a007709a6480cd",
    "litellm.router:Router.__getattribute__": "ae0373414c843910138d0168ee5a1e2fab207b24f6c02d8cad8f33e599984a25",
    "litellm.router_rust.core:RustCore.__getattr__": "b7c6eab3887437a969f1395ae821e3892a19c88872098ff71ef6468362a891a7",
    "litellm.router_rust.core:RustCore._settings_attribute": "44be5e4cfd5e128f9fb712aa17f6c38497919857734d6f62088edec4880b3af5",
    "litellm.router_rust.core:RustCore._unset_attributes.fget": "95919a96e71348b499b2bc7a40c6b23022d9b3352415e6f7d7e4c6a285ee003c",
    "litellm.router_rust.core:Resolved.read": "46242992758bef9d8214cc60b28adcc55dd9123a6a2e92025cfa024da57ca1f0",
    "litellm.router_rust.invoke.endpoints:RustEndpoints.member": "3d89187e9c8a1176535b678aa1a94e0de545f961c376372a8e22d003449192a9",
    "litellm.router_rust.invoke.endpoints:generic_plan": "1dace71045032acbb538dcdd3fb064c4f6f414d19fc06d80b4467235d595d28f",
    "litellm.router_rust.surface.settings:argument_attribute": "3281c62e3affba21e238d69da1a9015fc3d142c7f001548b2bcbe2ecc297a5b5",
    # routing's pre-routing with no strategy registered (protocol_fast.make_pre_route)
    "litellm.router_rust.steps.prerouting:PreRouter.pre_route": "1fa91329c65fdebb8ce12fe0b146b5b0b711865a49a3a13e652bc83fb4934f9a",
    "litellm.router_rust.steps.prerouting:PreRouter._hook": "5e37ee11c98af38d738fbffaa0a1616e66eb78a01be36e56eedc77d2651a9ad5",
    "litellm.router_rust.steps.prerouting:PreRouter._resolve_session_router": "728cbcd0b7e4afd928eee8223993e0dd0e3a6b1b6fad31c07e7339c0f0d3bfb7",
    "litellm.router_rust.steps.prerouting:PreRouter._select_strategy": "027309531395b4080a389aa424af3db2a396045586efdd1bd10c6b51c3c30e1c",
    "litellm.router_rust.steps.prerouting:PreRouter._pin_tier_params": "5052fdfdf77f5a9683e654f3c0ab3c28ad4b2506714e4ab2454c002ce505b803",
    "litellm.router_rust.steps.prerouting:PreRoutingStrategies": "a7862fdfcd55ba166de6d47f4981e8ffd8b6b46ddae4ddb6f89946d6e32431cd",
    "litellm.router_rust.steps.prerouting:picks_async": "0092adcb260815812d55cc2aa6d1379e17c305a6bea609e074997802a98bb676",
    "litellm.router_rust.steps.prerouting:_record_routing_decision": "de777a3ba738029b00b3a7098ad96f144600f7ad90c6b2cd5bd7a18e37011b19",
    "litellm.router_rust.steps.prerouting:_stamp_or_clear_metadata_key": "8a0a08afdaf6395dd155d99547130802c85d8ff9a637b9e082ac738cd1a97049",
    "litellm.router_rust.steps.prerouting:_restore_client_output_ceiling": "26f8ebf6e64808bdb436ea1e2c0f79c06f7b70bb6a4f9494fddbf9642221db84",
    "litellm.router_rust.core:_served_as": "a4f52886f7a6d4912fa374c9aee575cf04fd737fc19eea34b8977f0dc578739e",
    "litellm.litellm_core_utils.routing_common_utils:request_user_api_key_auth": "9ac1e617367802cfd7627fb52de75878e925a2cac9172c37310aa0c85fd6184b",
    "litellm.router_rust.steps.prerouting:stamped_client_ceiling": "49d6c4fd285fe79d084f560c7e86be9f0c728137d093d821e457a0ef01c36eee",
    "litellm.router_strategy.complexity_router.context_compaction:arm_compaction": "e882d7b617adf4a91eeee80b198029bfdcaca5f02a1a7fb8ca59484bf0087e42",
    "litellm.router_deprecated:renamed_router_param": "26b1b37b8f92fa5d54671c509700415ff553cf600cce155e7051593f14f392db",
    "litellm.router_rust.surface.registry:HostRegistry._core_get_model_from_alias": "eb344eac1969a61a4f160f135cb0ede4b98ed549dcb189b5040f24919ad47413",
    "litellm.router_rust.surface.registry:HostRegistry.__getattr__": "1a31f4a0c8d18f499847430df7dc3606c46f9ccb1835a10a5a46d9d6ef784f68",
    "litellm.litellm_core_utils.routing_common_utils:resolve_model_group_alias": "3ec941aadb8c4d86e52543d000aab537ca9fbd2180c5d60226b09b6a4d2946a3",
    "litellm.integrations.otel.routing:routing_decision_attributes": "fc3d5d6cb2f18b98821ce2a26589ba12d3c684c323c766dfe7a203d045c552a1",
    # the pre-route's phase record of no decision, skipped where it records nothing (session 19)
    "litellm.integrations.otel.runtime:phase_attributes": "9ad40740ca8f36a8ded159c3f4d8f1e7a0ccfd7e8a16160006ae09222b70aebb",
    "litellm.integrations.otel.logger:phase_attributes": "b8d857bc39585f6d70ffc74b49af4682ca3a3201ca0bba644eca49b20849b0e7",
    # routing's usage-v2 selector probe (protocol_fast.make_prefetch_usage_selector)
    "litellm.router_rust.core:RustCore._prefetch_strategy_and_selector": "c9da00e6827d3afe76b2fe68c8aa16f14ae21f20fcc6b41b76b16275a2bdbba3",
    "litellm.router_rust.surface.registry:HostRegistry.get_routing_group": "7fdce9fdaf04a141c0e26eebc2d031d981ce42b1b1ecfd59f4fe08019b59e237",
    "litellm.router_rust.steps.selection:StrategySelectors.default.fget": "48f26da88d8d4cb71c45ab8db58b07c8a6e404e38e0b33518c76ee396522adcd",
    # routing's served record and narrowing fields (protocol_fast.make_served, make_narrowing_fields)
    "litellm.router_rust.surface.model_list:typed_deployment": "06b5e72aa1e2c1ec840596c7cca84c2d9f0fa20ab8ba1cb53f528ead9cd9c31b",
    "litellm.router_attempt:for_requested_model": "5427e03cd3dcaaca2eb1363119646bc86da2a5e8572113d1df6773ab6b9ddf9a",
    "litellm.router_attempt:_wildcard_match": "8c2b7f23bd054bdab8d8cdb9a1172eb3a282e717d9d9c834f5b6a189e2706a61",
    "litellm.router_attempt:_as_mapping": "7fb0d96a3cd38cce4eb810c50ca5d7fb2897dc77cbe5e7b8e955ba9140b8e1b2",
    "litellm.router_rust.core:_request_narrowing": "0a890e23fbb9ae587c07393b8b1a4a9d17e4e7cd08116beb27df5c9b351ec251",
    "litellm.router_rust.core:_with_live_params": "f8a6fba28ad450aa9060df286ea942945ef17b1cb49292066ca1c6c0f81b9436",
    "litellm.router_rust.surface.registry:HostRegistry.live_params": "0fc2fb43fda24709589984fec031a833bfea8754820ead076c473e271a1cec65",
    "litellm.router_rust.surface.registry:HostRegistry.live_info": "b2bfce7e4c4f7c2e9a0222efaa4aab60f5503defa77545121d1c36a579e67aad",
    # routing's cache reads (routing/cache_reads.py) skip only what this returns early for
    "litellm._logging:print_verbose": "a82e40c081a9ea3d39090448004fdad74ab0bed3b49b6e62a7df844aec8fa7a7",
    # ... and the latency functions the native latency scan computes as they do
    "litellm.router_strategy.lowest_latency:_usable_latency_samples": "db012d4613a222c8a1e371df84ff6b17bde3534af7f7fdcaf282feeab6480d45",
    "litellm.router_strategy.lowest_latency:_average_latency": "fbdfb90950e9b08673dba1c2251dc5560f968d260554a50568cf6809b00398b5",
    "litellm.router_strategy.lowest_latency:_percentile_latency": "78304fc60f5058ff68e30967dfd7aa7a03b433a86a0ed5165ae012253737761e",
    # ... and the metadata-field choice the latency pick makes inline (session 19)
    "litellm.integrations.custom_logger:CustomLogger._select_metadata_field": "16beedc3667dd4b6c7f5c45712a6f7b5dd3cc52649081c9c4d043d07f2bea8d5",
    # routing's shared candidate records (routing/strategy_fast.py): the code
    # between _strategy_inputs and the selector only reads the candidates
    "litellm.router_rust.core:RustCore._answer_select": "e4138d5c3187109536b4aaca31ceeb666ef3e822685d5d63917f37b4af363d59",
    "litellm.router_rust.core:RustCore._answer_select_sync": "8e4affda303193da6a63e70257489f1f5d5f9baafec64ed32988e118da77bd7e",
    "litellm.router_rust.core:_pick_with_prefetched_usage": "0cc0fcf8547df4e02c17d1f9fa1fa258f39dec4ebeed49aa7fedc174647b72f6",
    "litellm.router_rust.core:_pick_answer": "ee5599821305c4077394c0f8d76459464c587a85fd448ca83896383ff343c1a1",
    "litellm.router_rust.steps.selection:pick_async": "bc3f661a790d39c9db1b1fb340d4ad85912be76d14ca77a5562820e511d26332",
    "litellm.router_rust.steps.selection:pick_sync": "c3861374e73cce5921aa79a11acb1384ce478aa7e9706baf013f254fb6c83971",
    "litellm.router_rust.steps.selection:picked_id": "ce38c7e8f1343948358d7fce0aaf99cd7f097c8d344c8ac26182764445331121",
    # ... and what the selectors given shared records run on them (read only)
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler.async_get_available_deployments": "f8f936345b3c26b0979427cf42543cf08b3d034e7f6e081ebd02955c445d2c93",
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler.get_available_deployments": "0479ec0ec4453396121cfdf6ca8dc7c0bc4ad0d7a272bd04e2dd5e31e9d59ef7",
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler._select": "3b2095d4fbaf533099af0cc27545450e515648fd1ccbdcf46a0530081b7a060d",
    "litellm.router_strategy.least_busy:_deployment_ids": "b3942acf2ef50f7922e3300a2695240cc15dc32cc10013b17ad34cc0dd3e31c8",
    "litellm.litellm_core_utils.deployment_pricing:deployment_backend_models": "cee82745f7085db0e5f05c7ae39ef1d5263237287da8e4c21f6c319866c2a36f",
    "litellm.litellm_core_utils.deployment_pricing:deployment_backend_model": "84df0a8bf4d3da391a06dbbd9ba49ada74bfa0347ddd74af1554bace9035ac4c",
    "litellm.litellm_core_utils.deployment_pricing:deployment_pricing_models": "3e965d2f024d0af1a03593021db2a4b341426d97bc6ec72ef0dc52be8ffd7220",
    "litellm.litellm_core_utils.token_counter:embedding_aware_token_count": "4f31e1536feaa62442468a216ee48027799ec9b32a0111a782519b03960b6fdc",
    "litellm.litellm_core_utils.token_counter:split_embedding_input_tokens": "8d4c1ee9ac7b260e85987a31976edada46b1d8fa07e50eb9f371edbbc158907b",
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2.async_get_available_deployments":
        "4aaabbd2a06d6aa152ed356740b11a4cdc21d7fc70f083e1ac837bdd04afdfeb",
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2.get_available_deployments":
        "26832a960f250d4c61e748674035a4eeab0311c4b338b8474c50ce47fe4113ed",
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2._common_checks_available_deployment":
        "a9e032c5ec677d2dc81e01b6b89f3fb21714c106e341699cc15ae361ed60d26a",
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2._return_potential_deployments":
        "4f59dc8e784c16687556098074bacc793ebc9afe6111157fed9aae0e885c5f77",
    "litellm.router_strategy.lowest_tpm_rpm_v2:LowestTPMLoggingHandler_v2.usage_counter_keys":
        "634d393d44a4b9685d948509ac962322f00442b0094967bcf9d8bf18ed89c89d",
    # ... and the rows the usage read hands it: a dict subclass overriding only writers
    "litellm.router_rust.surface.model_list:_HostedEntry":
        "7980bfae8b655e38ce46fdf857cac50755809c97814b78d1f80e801ec80e86fd",
    # cost-based-routing: the cost-map rows of aliased and Router-registered models, a dict
    # subclass with two slots and only __init__ (its reads are also checked at each read)
    "litellm.litellm_core_utils.get_model_cost_map:AliasedCostEntry":
        "a52b097dfd9abd3b12ea35466dfc964561625b88e9d1ad3557a51aa640596d51",
    # cost: LiteLLM's built-in tool cost, which the fast completion_cost takes as 0.0
    # while these read the same tool signals (no_built_in_tool_signal, azure_assistant_params)
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking.get_cost_for_built_in_tools": "4a1fa18bb87e5e59b3fdff71a0d5144903eeac30cf6acdb57c4fa5a521135396",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking._handle_google_maps_grounding_cost": "3e4389a1649dc0318a439fbdf9ac00e6a6cf355d68ea6c584766c3abf1bb9b62",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking._handle_image_generation_cost": "01a60210938741eaf7050acc70595083e3d59106a149e194b84c16145c3ed502",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking.response_object_includes_web_search_call": "0fb3bc098a3462eb7ea5ce3d95c0270e12a50058866cb940e7ba22640710a709",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking.response_object_includes_file_search_call": "6dfb9973944bbdf9abe43cd540905c1862f1f6d2b60de05097410a84443a7c26",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking.response_includes_annotation_type": "c787fbdd6620bd62ec2629d945e34dbf7fad223ce127cc4a18dfb2d32580c435",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking._handle_azure_assistant_costs": "76eb4176efdaabe6458426ad6e591c695b649e36d97ce0c37a30d9217cffaa88",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking._get_vector_store_cost": "ccd9c09c522a64568adfd329f4db5791a1f5faaca800cacb635eac6ecc3e15ec",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking._get_computer_use_cost": "36fc81f1f1cd25ee1fa3fb75d72554808c047f69c89ebcad13cbd06607dc76c4",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:StandardBuiltInToolCostTracking._get_code_interpreter_cost": "a030d8a4e8f4ef5feac1ceae02b773f794b0cb49cb18926a12c7abffe0f7c0fe",
    "litellm.litellm_core_utils.llm_cost_calc.tool_call_cost_tracking:_usage_reports_server_side_web_search_calls": "cbcc7e3ab2bc71918c269fe5222d0ad0d7606833152a41fd89e3126853f2eca7",
    "litellm.litellm_core_utils.llm_cost_calc.utils:get_web_search_requests_from_usage": "4fe368ac76e569ebd5ffc5b10c5911760746239c1089a368fb51b929f5e51bcd",
    "litellm.litellm_core_utils.llm_cost_calc.utils:get_web_search_requests": "4a911e5d6114f0676b0ebe67e05247f8971895a9f19961faf3e2361dc357bf78",
    "litellm.llms.gemini.cost_calculator:google_maps_grounding_requests": "7201fe9b508abc96615fdaf5a48c7ff31641c73e2476442243259c5d174ee6bb",
    "litellm.llms.anthropic.cost_calculation:get_anthropic_web_search_requests_from_response": "97310681a12a4c3023adb7117805440937e47a23f43f50119fa80aa65e7d9ae5",
    # cost: sources the fast completion_cost / cost_per_token / _get_token_base_cost rely on
    "litellm.cost_calculator:infer_call_type": "8495ca1175df87a752adcb8705f819e0f1835f6b8e85b31ddf5a9bb195f78485",
    "litellm.cost_calculator:get_usage_object": "060a9a54633a825c4da2512287c1780eab1b70f5109dc55574c3f680e73f9564",
    "litellm.cost_calculator:_served_service_tier": "ac12f5c180752613e650158531fb9a662ea188209034f870ea9e06a010750a42",
    "litellm.cost_calculator:_extract_service_tier": "02c0bf14c9cfcb01e954b2f215b22440638c26ff865477e084f6b2b00e5c06f8",
    "litellm.cost_calculator:_resolve_billable_service_tier": "1728c8f4f910446339c7b4c55accd42d32e901dcf487947305d55f12aadce9d3",
    "litellm.cost_calculator:_normalize_service_tier": "98ef4c09c56d2c99a86feb0400ba0ee0ac60ae7054b908e3b9a339e015ec58f2",
    "litellm.cost_calculator:select_model_name_for_cost_calc": "53fbb87bf3f1c80197422e34c736e4f60099bfb765de71b082795c45af2c357b",
    "litellm.cost_calculator:_get_provider_for_cost_calc": "56d9af8f0818820d082d04faf3c395b724f9278e1abdd162f281fb1ebaae5192",
    "litellm.cost_calculator:_bedrock_pricing_info": "8d247c75ab149f3b3ef57a7d4e0d614f01b1fdee12559d1e4089ded177eb1b9e",
    "litellm.cost_calculator:_invoked_model_id_for_cost": "caef623bd6879992f4079995e58b7cb7bee6d42811da4d99fd325896c4051f60",
    "litellm.cost_calculator:_get_response_model": "91c241193db0bb855cdcff4a292dfc06f195d5eac8cf160761c39ea6d5bb6d65",
    "litellm.cost_calculator:_priced_candidates_before_unpriced_rules": "9251531d475c1302b415b3464f5a9e028e737928c0dded08cfb1aa89ebb506b6",
    "litellm.cost_calculator:_is_unpriced_generalized_candidate": "0f2dd1f882fa294fb868db9958159c624b2a48c6378850a53700c92632fdc8c8",
    "litellm.cost_calculator:_is_known_usage_objects": "3980edb60925c73595f6e290c35dba78a752cb7677d9336e338c1f7880312c3d",
    "litellm.cost_calculator:_without_provider_stated_cost": "a88923a787b3cafe0c1a2ac7f3d4cc0d21059aa3b3b38485720990e6c0a0a2d6",
    "litellm.cost_calculator:_pricing_provider_for_cost_candidate": "7ae8c6079a170c6436d8ce69e88801978474874fe2530779648a0915f8f9ce86",
    "litellm.cost_calculator:_cost_per_token_custom_pricing_helper": "6277e4d03a1aabcef8f47ccac36efe08c5c1e1fd3d7c1137fe392d68ed5fc668",
    "litellm.cost_calculator:_base_model_pricing_provider": "0242a15552561a4cdc1c782e96f168d06010b13bc41ba174d06ab2e5d78eb19b",
    "litellm.cost_calculator:_get_hidden_str_for_cost_calc": "624bebc8469cbe24f957f247bf30cd7c5557735daa8f16e51ea4c46a3d77d21c",
    "litellm.litellm_core_utils.llm_cost_calc.utils:_parse_above_token_threshold": "9a43be79926a4d2f5734ad2cdb8e9870e535e23c447b0d0661a9d9ab1a6e3a6b",
    "litellm.litellm_core_utils.llm_cost_calc.utils:_parse_token_threshold": "d87f7ec5ff76eaff7824361deafb21631e8eb03d0b5311764655cb0d509ce9f1",
    "litellm.litellm_core_utils.core_helpers:billed_usage_cost": "80ca53ea38294bc88fb0d0f00b14f39b6b1f10108e5e17b1ece842812b5548f4",
    "litellm.litellm_core_utils.core_helpers:provider_reported_usage_cost": "e37c5319cfd40cb602cdef4a7d4a67dc2242928d03b5d8b642877d85831f1857",
    "litellm.litellm_core_utils.core_helpers:_usage_field": "52ba1824163790d8da4dc5dd50908a0d024df500ff7ac91eda89cd8603b20d55",
    "litellm.litellm_core_utils.core_helpers:_reported_cost_value": "d0201ee3f496b64a783894978a6b13aee2b5f6e2e4526375d3b5738d50cc7adf",
    "litellm.litellm_core_utils.core_helpers:finite_reported_cost": "11c339bfe9fc208698dd00847230b7610f798c67352b16b2eb8aed87c075d904",
    "litellm.litellm_core_utils.core_helpers:finite_cost": "a6f7c2ca1e1b829355c4cbedb0bed02c454ff6a20e935a294e315bc991fa9ec1",
    "litellm.litellm_core_utils.core_helpers:as_str_mapping": "487cef1e15af0fd9dcb170f8c2da468db70e7daa267676e11af7d7685fa78f86",
    "litellm.litellm_core_utils.core_helpers:get_parent_otel_span_from_kwargs": "b8690d5ce7c9075bc1441eb480cc5c7bf8abe5cb450a36bde5eea99cf8f6c33d",
    "litellm.utils:get_potential_model_names": "11d9f51727244b559c044e722edd94fd096dd78bd2a69b526a5aa5daf868cc4d",
    "litellm.utils:unmapped_model_generalization": "075770f6b37ee9feaf00dbcd906c4eb4b00428a7c32ec5bc4ee755cacc10a5e5",
    "litellm.utils:_get_model_info_from_generalization": "130e6de4633b5b4d0c05bc050eb61580a40bc941211de0178608c6493dac6731",
    "litellm.utils:_model_cost_lookup_order": "6865d83483033828055882ac64464c39aeb66d8477f66d5d2e929757bf3e95fc",
    "litellm.utils:get_model_cost_key": "c24d127a7ee3e2e87b39cc853c406c868e3c11bafb9c4685955fc2d4cb5dcb12",
    "litellm.utils:_strip_model_name": "d1decdcec3f82291401b28e31567ecb863bf79247afa6aeec45e914b2686e997",
    "litellm.utils:ProviderConfigManager.get_provider_model_info": "f2a1b412fa2b180565e6a1bac9b1bb9a5118332b15350cea9abac83f851f5620",
    "litellm.litellm_core_utils.get_llm_provider_logic:get_llm_provider": "9754e83d36096fd9c3661642800b08ebd81b39e4e09fa33f626de8bc5a2e8082",
    "litellm.litellm_core_utils.get_llm_provider_logic:_get_llm_provider": "acca700f03d9e27ee3788737258ebc920593dcbc57e66f1ac811619e93592488",
    "litellm.types.utils:Usage.__init__": "220c6d780b254eec75c297e436de9d178b18b5421ec895a4e58373c02ecb4263",
    "litellm.types.utils:ModelResponse.__init__": "7f0070994b221dad44835bc437dc9aee35d96990537cccd388ce47e676d44a90",
    "litellm.types.utils:ModelResponse.get": "f856bdf08f79ed58adc6584a30641300522aa4b78d367be526fbc2e90335c762",
    "litellm.types.utils:SafeAttributeModel.__delattr__": "abfeeb3c44febf014f68cb3ebd783390e2f8cce951b9bd782e202a615233100e",
    "litellm.llms.anthropic.chat.transformation:AnthropicConfig.is_anthropic_usage_object": "102775327edf771802729aa66cdaeb601ca3c9919c4baefc5c36fd70025464b0",
    "litellm.responses.utils:ResponseAPILoggingUtils.is_response_api_usage": "a7d0a594e29266bdda3a0dccf04021fddad77055b771cd11b1e29948630e3f6f",
    "litellm.litellm_core_utils.llm_cost_calc.usage_object_transformation:TranscriptionUsageObjectTransformation.is_transcription_usage_object": "2acf4e485a0999ac2baf557fb72b1f20d6be37d6ecc756f0c88a413922edd561",
    "litellm.litellm_core_utils.llm_cost_calc.usage_object_transformation:InteractionsUsageObjectTransformation.is_interactions_usage_object": "f0a4c904de52453fee4c622f92cec9bfe1bb188d4fd1ef14729b3e16856f78c7",
    # routing/selector_fast.py: the selectors' token count with no messages and no input
    "litellm._lazy_imports:get_token_counter_new": "da92be38445147cb68d9bc99bf98ae0dae684e5b80bb19ad0e35b9783b2c3c5e",
    "litellm.litellm_core_utils.prompt_templates.tpm_media_utils:split_embedding_media_for_tpm": "2c0f4bb3b433afc4e3e6710b2ec92e9080220ce508c8133c7a5186beff6bfefb",
    "litellm.litellm_core_utils.prompt_templates.tpm_media_utils:_is_json_array": "f66e9c7bb44ed414bfa56f9922b0e39031215cb10d818ca5f70821753965a06b",
    "litellm.litellm_core_utils.prompt_templates.tpm_media_utils:_tpm_embedding_leaf": "c0474ae0e0c29a979f00050073c44493d4ca19c58ce98082268bf3e6dde29ef0",
    "litellm.litellm_core_utils.prompt_templates.tpm_media_utils:_tpm_media_leaf": "e2a7bce0845e165e2338c337f0de0fc55c51a0f0e32aa7f2767ecc3317336f48",
    "litellm.litellm_core_utils.prompt_templates.tpm_media_utils:_TPMMediaProjection": "6601d1a7752dfa40b4dc931ef25130226b7d296b1b4b4e52d49846ff956fee0c",
    "litellm.router_strategy.lowest_tpm_rpm:LowestTPMLoggingHandler.get_available_deployments":
        "c0adee5bf8c26a7423f59720567634df07b124d322dc141585c7514b17b59d1d",
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler._this_workers_counts":
        "c58d7ac2363fa405606a64b256788f023f95463b6c6b796a8c0abec011ad2b07",
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler._live_reservations":
        "e24e9eed87828e9a3622183dd50a792ca42fefbf65a186e49708fe84cc584d29",
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler._store_reservations":
        "1d1186c5ac7e06cc9902a91999b1094e98ce460007c59c026e903a2357df74a8",
    "litellm.router_strategy.least_busy:LeastBusyLoggingHandler._record_pick":
        "65a9b7fc8eab18f907fe40474baa942cc21656703990a28a915f3a95c58280e9",
    "litellm.router_strategy.least_busy:_local_counts":
        "a6323a4948fc1cfe04339e57717ecdb4ba1b410ac2882a0d46bb51ad846a4002",
    "litellm.router_strategy.least_busy:_as_counts":
        "6d53a14a329189b14fd71de244858353ca0e5ad0eac94f63810fe075beaae770",
    "litellm.router_strategy.least_busy:_picks":
        "507cf15abe0bfd12dfe6881d67de37f7a7400fa4f79ebe3be75984005a7190b8",
    "litellm.router_strategy.least_busy:_unexpired":
        "53f093e5cdfea0553700300901cb065a0f6331d93b6192d8288360f75f96b446",
    "litellm.router_strategy.least_busy:_reservation_key":
        "d892b9f7d6441088508dc53866a0e4f01015efe1b39627869b0d25a9fdc91375",
    "litellm.router_strategy.least_busy:_least_busy_index":
        "3231364f5d553e0fd564c9d6c282086d17e2bdd966516fb57a0442ee4cb68aba",
    # the fused pick (protocol_fast.make_select): the selection's run and step loop,
    # the reservation flag's context manager, the OTel phase span it opens
    "litellm.router_rust.core:_Selection.run":
        "28dd930d71e24f6e7074d5b79226978fb96e55e05d79ce1935a855b0d0eefca9",
    "litellm.router_rust.core:_Selection._run":
        "c2bbacc1434526be36fe80bbbee52fb80a2e1761637a2c43d2d2259b34bc7e2f",
    "litellm.router_rust.core:_Selection._resolved_pod":
        "cb719c53b705f87f6f12abe744d99e1672221b7ef83b9a0155197a5b01dc5c7e",
    "litellm.router_utils.kubernetes_pod_discovery:KubernetesPodDiscovery.async_resolve_deployment":
        "2057001cb3269ef079988715aceb0b340858e3f5bd11c325a2d1f5f0060532ae",
    "litellm.router_utils.kubernetes_pod_discovery:KubernetesPodDiscovery._eligible":
        "a378a787b59bdbd45823ee614f847febbb073fc79692a22d798265da2d1d6722",
    "litellm.router_utils.kubernetes_pod_discovery:KubernetesPodDiscovery._target":
        "9bbd822fbcd2df50506b4379e18e7a72c01ab23abed1311abe58999c95345821",
    "litellm.router_strategy.least_busy:picks_reserve":
        "e0cb515891612ada7dbc91e02f53b29b84387c445b7de6da167626d96513b7c6",
    "litellm.integrations.otel.runtime:phase_span":
        "d3980be789b379af63238c1b20572d14cf2737677bef48ea48a30adad21f5954",
    "litellm.integrations.otel.runtime:_otel_runtime":
        "36a72dbb8db62852453d97c3eba33257e73a16c574c91305c055e5114e844fc7",
    "litellm.integrations.otel.logger:phase_span":
        "215860d5a9a405d9d2820f3f9b9d05342e04f8961bc61f5aea015b5b9ebdd9af",
    "litellm.integrations.otel.logger:_registered_v2_logger":
        "d2f86d00fd9f41569ede6705adfa20a4e7f853621fa194eab7ae1ea7d75efea6",
    "litellm.router_strategy.lowest_tpm_rpm_v2:PrefetchedUsage.scoped":
        "982f74249ec40d227ae645da8e4f41adedf751d50cb6e7a90fa116ad74cca073",
    # usage-based-routing-v2's selector call made in the fused pick (selector_fast.make_usage_v2_pick):
    # the prefetched usage its body reads (the class: a frozen dataclass of keys and values)
    "litellm.router_strategy.lowest_tpm_rpm_v2:PrefetchedUsage":
        "68758418bffc4f291385c9109e7724649bf6b6d9db4f6de72da5de02e93d004e",
    "litellm.router_strategy.lowest_tpm_rpm_v2:PrefetchedUsage.active":
        "7a6e3068b44c4bb39273fc1015d50adfebf10e99752cdcd95e3941b23ddc6a71",
    "litellm.router_strategy.lowest_tpm_rpm_v2:PrefetchedUsage.covers":
        "0ee454b206332a9c7a79de22c85e24bd4cc6be318debc5650720820aced3e067",
    "litellm.router_strategy.lowest_tpm_rpm_v2:PrefetchedUsage.values_for":
        "30b7f851a67962b70ba328134d8957c31f7657c7e75eedeb1be248447f2fe48c",
    # the fused pick's selection set-up (protocol_fast.make_select's set_up): what
    # _Selection.__init__ runs for a pick, made inline when each helper's answer is known
    "litellm.router_rust.core:_Selection.__init__":
        "97eaef1f7307de2096824a839b05380d2e37514350f10437e57561f3332adf5d",
    "litellm.router_rust.core:RustCore._model_tag_filtering":
        "e32941fa36adc681c162c128bbd431c79bf7c874a5eabff6794a2735218c9a01",
    "litellm.router_rust.core:RustCore._picks_async":
        "87b5d7364b5d92f1258b4606a07b344543632841a37555a57b174f38ea877a36",
    "litellm.router_rust.core:RustCore._sync_routing_state":
        "cee476842d2850c1fd5247b337ed49afa5773ffe0371c0a22596f62891196a0b",
    "litellm.router_rust.core:RustCore._sync_plugin_stage":
        "0f53ecf2bbc54a10663cb002ba401323cbbf49abce42ee9a13d0cf86f622c3fd",
    "litellm.router_rust.core:RustCore._sync_index":
        "e737880e1feb68ccc5fa3343552c688b480c9936edd6e574f823101e980a602b",
    "litellm.router_rust.core:RustCore._sync_allowed_fails":
        "d9c978eb325043eb9adddc407ae597d97dc3a374c2dae32dbafe7f389bdc3486",
    "litellm.router_rust.core:Resolved.allowed_fails_is_default":
        "56e1e85be142ca294e02d5d3fc9fdc35fe4705d23c152639522eea482d46f75f",
    "litellm.router_rust.core:_document":
        "9b0897cd3a50352dffbfa60bb2d04b1a97f297c376aab459e7b64628b11d0822",
    "litellm.router_rust.steps.precall:request_carries_image":
        "62261ce6bf7ae818c24e93ea7cc8807180319d37f9ffbf57e7d25f9f8f45297f",
    "litellm.litellm_core_utils.prompt_templates.common_utils:request_contains_image_content":
        "ca3dc7ee338ce92a669a557eb43c97f572b130660026b6e00b72a11da4059e03",
    "litellm.router_utils.endpoint_eligibility:selected_endpoint":
        "f7825e99aad8d335e6f931e7eae50d04c0cd68d834bc8d4a656c6426beb4d85d",
    "litellm.litellm_core_utils.routing_common_utils:is_web_search_request":
        "15d17ec77c2601ec1b58959611da44350e63335bcc7d5c914f103429984ec475",
    # least-busy's counter keys formatted in place of this helper (selector_fast.make_request_count_keys)
    "litellm.router_strategy.least_busy:_request_count_key":
        "6742ec38f1853afe72a9fcc1d4de4e50562818467b9d7eaf55d3626cf1178761",
    # the fused pick's ROUTER service event, scheduled as LiteLLM's service_logged schedules it
    "litellm.router_rust.core:RustCore.service_logged":
        "18d776fe73b9e8d3bfa315a3a54b7281b28a0a087c063da925ccafdb2186088a",
    # the fused pick's strategy answer reads pick_reserves' context variable itself (session 21)
    "litellm.router_strategy.least_busy:pick_reserves":
        "d0e9d06bc2431d0378f6e6cef732b6b26da5cb1ea7fc781a9125fbc946c2450b",
    # the fused pick's deleted-reads check answered inline while nothing is deleted (session 21)
    "litellm.router_rust.core:RustCore._refuse_deleted_reads":
        "4b4782f8b7f06be6925d785b13dfcbf876ce50bbf881a68886c29a60d109d41d",
    # the fused pick's callback-filter answer with no filter registered (protocol_fast._filter_state)
    "litellm.router_rust.steps.callbacks:RustOptionalChecks._answer_callback_filters":
        "17b199e3ff4410bcd1e01650586baf996669a4b95d5c1fb3dd1f933115272e5a",
    "litellm.router_rust.steps.callbacks:RustOptionalChecks._opt.fget":
        "25920b118c2f306e6ee554b1e6dd4affd96074d4ed9ffc1d6da42240df98ac03",
    "litellm.router_rust.steps.callbacks:OptionalChecks.has_filters":
        "74033841a76cc49a3491d6588d483a2f308863e3e0dc7aaa90a97d708840314b",
    "litellm.router_rust.steps.callbacks:OptionalChecks.routing_callbacks":
        "66d811597473af092f52130f7aef434cd6f5393ff8c62975395d40b43f00d245",
    "litellm.router_rust.steps.callbacks:_callbacks":
        "47f3776fd40a93148c2291b79be4da6f12b350e1bb94f891b1f68a93c296fb4d",
    "litellm.router_rust.steps.callbacks:filters_deployments":
        "76a8025374ed9d63c6a0aa44859ebcf8d5d008f77f6ffc5483fd064e25d5893d",
    "litellm.router_python_host:PythonHost.callback_list":
        "abefe9daca9480211336305b867c647dab7bd8e55b2791288b4b6cc0eb2f104c",
}
