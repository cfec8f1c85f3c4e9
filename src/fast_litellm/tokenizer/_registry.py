"""The encodings and model tables, as data.

ENCODINGS mirrors tiktoken_ext/openai_public.py of tiktoken 0.14.0 (file,
SHA-256, pattern family, special tokens, explicit vocabulary size);
MODEL_TO_ENCODING and MODEL_PREFIX_TO_ENCODING are identical to tiktoken
0.14.0's tiktoken/model.py.  Only encodings whose vocabulary is a
``.tiktoken`` file are listed (gpt2's data-gym files and o200k_harmony's
1000+ reserved tokens are not served; asking for them is an unknown
encoding error).
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional

BLOB_BASE = "https://openaipublic.blob.core.windows.net/encodings/"

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

# Pattern families of the pre-tokenizer (== fl_pattern_id in pretokenize.h).
PATTERN_R50K, PATTERN_CL100K, PATTERN_O200K = 0, 1, 2


class EncodingSpec(NamedTuple):
    name: str
    file: str  # file name of the vocabulary, e.g. "cl100k_base.tiktoken"
    sha256: str
    pattern: int
    special_tokens: Dict[str, int]
    explicit_n_vocab: Optional[int]

    @property
    def url(self) -> str:
        return BLOB_BASE + self.file

    @property
    def cache_name(self) -> str:
        """tiktoken's (and LiteLLM's bundled) file name: sha1 of the URL
        (as data for the known files: hashlib costs ~2.5 ms to import)."""
        known = CACHE_NAMES.get(self.file)
        if known is not None:
            return known
        import hashlib

        return hashlib.sha1(self.url.encode()).hexdigest()


# sha1(BLOB_BASE + file), checked by tests/python/test_tokenizer_vocab_cache.py
CACHE_NAMES: Dict[str, str] = {
    "r50k_base.tiktoken": "0ea1e91bbb3a60f729a8dc8f777fd2fc07cd8df4",
    "p50k_base.tiktoken": "ec7223a39ce59f226a68acc30dc1af2788490e15",
    "cl100k_base.tiktoken": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base.tiktoken": "fb374d419588a4632f3f557e76b4b70aebbca790",
}


_R50K_SHA = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
_P50K_SHA = "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"
_CL100K_SHA = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_O200K_SHA = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

ENCODINGS: Dict[str, EncodingSpec] = {
    spec.name: spec
    for spec in (
        EncodingSpec("r50k_base", "r50k_base.tiktoken", _R50K_SHA, PATTERN_R50K,
                     {ENDOFTEXT: 50256}, 50257),
        EncodingSpec("p50k_base", "p50k_base.tiktoken", _P50K_SHA, PATTERN_R50K,
                     {ENDOFTEXT: 50256}, 50281),
        EncodingSpec("p50k_edit", "p50k_base.tiktoken", _P50K_SHA, PATTERN_R50K,
                     {ENDOFTEXT: 50256, FIM_PREFIX: 50281, FIM_MIDDLE: 50282, FIM_SUFFIX: 50283},
                     None),
        EncodingSpec("cl100k_base", "cl100k_base.tiktoken", _CL100K_SHA, PATTERN_CL100K,
                     {ENDOFTEXT: 100257, FIM_PREFIX: 100258, FIM_MIDDLE: 100259,
                      FIM_SUFFIX: 100260, ENDOFPROMPT: 100276},
                     None),
        EncodingSpec("o200k_base", "o200k_base.tiktoken", _O200K_SHA, PATTERN_O200K,
                     {ENDOFTEXT: 199999, ENDOFPROMPT: 200018}, None),
    )
}

# tiktoken 0.14.0 tiktoken/model.py, verbatim as data.
MODEL_PREFIX_TO_ENCODING: Dict[str, str] = {
    "o1-": "o200k_base",
    "o3-": "o200k_base",
    "o4-mini-": "o200k_base",
    "gpt-5": "o200k_base",
    "gpt-4.5-": "o200k_base",
    "gpt-4.1-": "o200k_base",
    "chatgpt-4o-": "o200k_base",
    "gpt-4o-": "o200k_base",
    "gpt-4-": "cl100k_base",
    "gpt-3.5-turbo-": "cl100k_base",
    "gpt-35-turbo-": "cl100k_base",
    "gpt-oss-": "o200k_harmony",
    "ft:gpt-4o": "o200k_base",
    "ft:gpt-4": "cl100k_base",
    "ft:gpt-3.5-turbo": "cl100k_base",
    "ft:davinci-002": "cl100k_base",
    "ft:babbage-002": "cl100k_base",
}

MODEL_TO_ENCODING: Dict[str, str] = {
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4-mini": "o200k_base",
    "gpt-5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4o": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5-turbo": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "gpt-35-turbo": "cl100k_base",
    "davinci-002": "cl100k_base",
    "babbage-002": "cl100k_base",
    "text-embedding-ada-002": "cl100k_base",
    "text-embedding-3-small": "cl100k_base",
    "text-embedding-3-large": "cl100k_base",
    "text-davinci-003": "p50k_base",
    "text-davinci-002": "p50k_base",
    "text-davinci-001": "r50k_base",
    "text-curie-001": "r50k_base",
    "text-babbage-001": "r50k_base",
    "text-ada-001": "r50k_base",
    "davinci": "r50k_base",
    "curie": "r50k_base",
    "babbage": "r50k_base",
    "ada": "r50k_base",
    "code-davinci-002": "p50k_base",
    "code-davinci-001": "p50k_base",
    "code-cushman-002": "p50k_base",
    "code-cushman-001": "p50k_base",
    "davinci-codex": "p50k_base",
    "cushman-codex": "p50k_base",
    "text-davinci-edit-001": "p50k_edit",
    "code-davinci-edit-001": "p50k_edit",
    "text-similarity-davinci-001": "r50k_base",
    "text-similarity-curie-001": "r50k_base",
    "text-similarity-babbage-001": "r50k_base",
    "text-similarity-ada-001": "r50k_base",
    "text-search-davinci-doc-001": "r50k_base",
    "text-search-curie-doc-001": "r50k_base",
    "text-search-babbage-doc-001": "r50k_base",
    "text-search-ada-doc-001": "r50k_base",
    "code-search-babbage-code-001": "r50k_base",
    "code-search-ada-code-001": "r50k_base",
    "gpt2": "gpt2",
    "gpt-2": "gpt2",
}


def encoding_name_for_model(model_name: str) -> Optional[str]:
    """tiktoken's encoding_name_for_model, returning None when unknown."""
    if model_name in MODEL_TO_ENCODING:
        return MODEL_TO_ENCODING[model_name]
    for prefix, encoding_name in MODEL_PREFIX_TO_ENCODING.items():
        if model_name.startswith(prefix):
            return encoding_name
    return None
