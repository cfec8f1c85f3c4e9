"""Patch engine: guarded, reversible, visible replacement of LiteLLM code."""
from .engine import (  # noqa: F401
    apply_acceleration,
    get_patch_status,
    health_check,
    remove_acceleration,
)
from .registry import NotAccelerated, Patch, register  # noqa: F401
