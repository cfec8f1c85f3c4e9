"""Patch engine (being written: see issue 2)."""
from typing import Any, Dict


def apply_on_import() -> None:
    return None


def apply_acceleration() -> bool:
    raise NotImplementedError


def remove_acceleration() -> None:
    raise NotImplementedError


def get_patch_status() -> Dict[str, Any]:
    raise NotImplementedError


def health_check() -> Dict[str, Any]:
    raise NotImplementedError
