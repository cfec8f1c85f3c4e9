#!/usr/bin/env python3
"""Print (or check) the source hashes of every patched LiteLLM function.

    python tools/pin_hashes.py          # print target -> sha256 for pins.VERIFIED
    python tools/pin_hashes.py --check  # exit 1 if pins.VERIFIED disagrees

Imports LiteLLM (offline) and the modules each patch targets, then hashes
each original with the same function the guard uses.  Run it after the
differential tests pass against a new LiteLLM release, never instead.
"""
import argparse
import importlib
import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ["FAST_LITELLM_ENABLED"] = "false"  # hash the originals, unpatched
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from fast_litellm.patching import engine, guards, pins, registry  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    engine._sync_records()
    rows = {}
    for patch in sorted(registry.all_patches(), key=lambda p: p.target):
        importlib.import_module(patch.module)
        _, _, raw = engine._resolve(patch)
        rows[patch.target] = guards.source_hash(guards.unwrap_descriptor(raw))
    bad = 0
    for target, digest in rows.items():
        if args.check:
            if pins.VERIFIED.get(target) != digest:
                print("MISMATCH %s: pinned %s, installed %s" % (target, pins.VERIFIED.get(target), digest))
                bad += 1
        else:
            print('    "%s":\n        "%s",' % (target, digest))
    print("# litellm %s, %d patched targets" % (guards.installed_litellm_version(), len(rows)),
          file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
