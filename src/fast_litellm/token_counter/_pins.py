"""LiteLLM helpers whose behaviour the fast token_counter reproduces or
relies on, with the SHA-256 of their source (``inspect.getsource``) in the
pinned LiteLLM release.  The patch engine pins the patched functions
themselves (``patching/pins.py``); the fast path also depends on these, so
``patches.py`` refuses to build when any of them changed.
"""
from __future__ import annotations

from typing import Dict, List

HELPERS: Dict[str, str] = {
    "litellm.litellm_core_utils.token_counter:_MessageCountParams": "e813b494e68543089b6d3f294971d1e7660a7d3aa5cb8b646d700afcbda8ca91",
    "litellm.litellm_core_utils.token_counter:_count_messages": "571af5aeb5bb25a0f125236d10fab13a9d084d88713489226594998e56ba2c57",
    "litellm.litellm_core_utils.token_counter:_count_function_call_tokens": "f8601da1d6fa98870ba23eb4bd333b8c06233f3cf3ef395572aacde67f432a29",
    "litellm.litellm_core_utils.token_counter:_count_extra": "d47417f4efc5d18257bfaa986f9d46b985edb59efebd68c3b4213544206fecc8",
    "litellm.litellm_core_utils.token_counter:_count_tool_definitions": "e8658f94e98996a0d4efbde9d40f6d5e719d1f21579ade7a2fb220dd920510cb",
    "litellm.litellm_core_utils.token_counter:_count_tool_choice": "a5b80f403930820ec69e7db9dbe9ba728f6c7303be0bb562a0e67173ef7cc08a",
    "litellm.litellm_core_utils.token_counter:_format_function_definitions": "b4fa759eb4e6c7cc2ed472f709ec96971ee87f06f374bdfa89a3b20052663ab1",
    "litellm.litellm_core_utils.token_counter:_function_definitions": "dcfafe521381ddf667928ab1deda1610712767419ed4f8871c9cae2c832b0737",
    "litellm.litellm_core_utils.token_counter:_tool_mappings": "d1c97ac5a1a0984c28e56bc43cf4fec2c5a508471d8a961674db28045dae32e9",
    "litellm.litellm_core_utils.token_counter:_format_single_function_definition": "4751e4144e29c79ea539b19b73665826a7781415ed599b558b23978773a076c9",
    "litellm.litellm_core_utils.token_counter:_format_object_parameters": "ebf3422e299e2e5f08a21e7eccf7a333dd6395098b423c43de208f23d39f80ca",
    "litellm.litellm_core_utils.token_counter:_format_type": "105c3c36b564f011ffd20d0572932c129930fac1cd073f197ab1694676ca84b0",
    "litellm.litellm_core_utils.token_counter:_count_content_list": "1d88fc63447f9141cc5464ee58f14087b86365e4b32b984b7a10464980b7d243",
    "litellm.litellm_core_utils.token_counter:_count_image_tokens": "832ad22490f15a1369e04eb4d387f967916f7662c4de573dcf6f18de778d24b0",
    "litellm.litellm_core_utils.token_counter:calculate_img_tokens": "dcc93600e18909adb378b9156c011ae4d9f9f1b206f4085e4a02cdfda22a1510",
    "litellm.litellm_core_utils.token_counter:_get_count_function": "82360fef83dfe105f13780113c4c2ae4421de37523eeb27aa426c5ed4666f813",
    "litellm.litellm_core_utils.token_counter:_get_exact_count_function": "2329e494c055bacef2c39cdb8e43b51ace6146bb7e4e3faa8accae123b62fb4a",
    "litellm.litellm_core_utils.token_counter:_get_extrapolating_count_function": "0d6ab191bf5ba56e02522ea4f3e64823c9ce5730f0da5673049280c1e24516bf",
    "litellm.litellm_core_utils.token_counter:_evenly_spaced_samples": "7290edb477b7d8420b6182b65deecb441b29a772458b836672f3cdc2f7baabac",
    "litellm.litellm_core_utils.token_counter:_get_tiktoken_count_function": "a12e4f7669fe3c1952e318a3a01a469a4a9c49ddcbc0249d92814cc95ef2d260",
    "litellm.litellm_core_utils.token_counter:_encoding_count": "61f1ca86c6634694f8e80479ac1a31df1407fadf721c38a24409e29569a4c27e",
    "litellm.litellm_core_utils.token_counter:openai_tokenizer_encoding": "94a4edeccfe5682c437097609790e753d07340f284bace89567bfa8655d7e013",
    "litellm.litellm_core_utils.token_counter:openai_tokenizer_encoding_name": "af99cf67911be362831832b08a2c2f7bfe4c54c8bcf4fdf674eab534ec37f04b",
    "litellm.litellm_core_utils.token_counter:uses_legacy_message_accounting": "776e6411605df10a18ba3476f77a88184510036a24cdd4194c5bfd322920ef91",
    "litellm.litellm_core_utils.token_counter:_fix_model_name": "aa9458c1a9895c7f4d23b429462e08f3139f208c3318a2c0286d27b7ee5dd42c",
    "litellm.litellm_core_utils.token_counter:_openai_model_name": "73d5a7407ce28507902e245b83807ab74238e2b973d7a33b109cebab86cf71f9",
    "litellm.litellm_core_utils.token_counter:_listed_openai_model_name": "f137cd715dcd6fa3e50728b25c8513fd2a8383663edc9bf30bcdaa897d26bef3",
    "litellm.litellm_core_utils.token_counter:_is_openai_cost_map_model": "3ec2031502b836ca5b29f2e60eda454a426fb1f8b13da99fc3ef25057817d707",
    "litellm.litellm_core_utils.token_counter:_is_azure_openai_text_model": "706edf8a7b4a0d97bf6bf8e9a6ca63831ea7afce54422feca08e42403e37b010",
    "litellm.litellm_core_utils.token_counter:_azure_openai_chat_model_name": "4c988d0984b35b2245103abeeb2bab6b2b5bfbf931a678664c0ca4d2f2dc849d",
    "litellm.litellm_core_utils.token_counter:_is_azure_openai_chat_model": "53df66651ec1a5d802056ac6b5a52efd470ffb1f42d12958dc60b64a2e449be4",
    "litellm.litellm_core_utils.token_counter:_openai_deployment_name": "6bce2b6240f10fd8c26525f6a63a6a95436e075855ae895f18b669dbde215990",
    "litellm.litellm_core_utils.token_counter:_cost_map_entry": "bc1fee3903c246d97978ec432b3ebf2fc2d4fba88697cf3fbae07f8b831537d3",
    "litellm.litellm_core_utils.token_counter:_is_listed_non_chat_model": "fdbf5119bbfce5771097299a87b44be5afd9afa816b0762651fff7aed085b000",
    "litellm.litellm_core_utils.token_counter:_compaction_summaries": "facc908787417011892a1e875bea617e030f58fb9c5b2e5a11d3140eb838c1bc",
    "litellm.utils:convert_list_message_to_dict": "23449e944a8c01e6f822d31be8c8f983ef1966ea150b916a269d0c20fa4b6313",
    "litellm.utils:convert_to_dict": "d4a69c22c3bdb35116f9ae6fcf183f875eada8c9f2a61e79d6a7690cee8da3a3",
    "litellm.utils:cleanup_none_field_in_message": "e3bbe963d931fa3c4e2b481de4fbea0caa849463593e195cf28463528b828da3",
    "litellm.utils:select_tokenizer": "efddb09f2b75e7ace178a99eea528dc9b47a4381a03365758e1f817e14186c85",
    "litellm.utils:_select_tokenizer_helper": "08f73e2713db89f26e1a8e93895937cc5084e53db37b99d1dde9dca83d51d4e1",
    "litellm.utils:_return_huggingface_tokenizer": "928cfa64a53d684e6ea0e977f962d2c2593f29c099d2aba23db5d678fdf3ceeb",
    "litellm.utils:_return_openai_tokenizer": "213a9166d10fb8414bc2af59cd4280d6678321f0c45d66b7e9d7c0b794441abd",
    "litellm.utils:huggingface_tokenizer_kind": "b37386658f667888ccc4faa4ffb13d2fb4dbc5b4a1e4f4f97ca1bf33d3f61a07",
    "litellm.utils:uses_anthropic_tokenizer": "d871b1549488e4589dce1fd3c70a661b5574551dbb4348f4b45b48c816af96a1",
    "litellm.utils:print_verbose": "7a626591e4410694b3e4f92e44b77c352d0de5c3cef41477318eabd3de4286c6",
}


def changed_helpers() -> List[str]:
    """Targets in ``HELPERS`` whose installed source differs (or is missing)."""
    from ..patching import guards

    return guards.changed_sources(HELPERS, guards.resolve_target)
