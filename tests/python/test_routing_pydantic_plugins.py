"""A pydantic plugin (entry-point group ``pydantic``, e.g. logfire's) sees
every validation of the validators built while it is loaded - LiteLLM's
models and adapters, at its import.  The routing fast paths skip validations
whose answer is known, so with a plugin loaded no routing patch is built and
the plugin sees stock's validations (session-14 exactness hunt).  Run in a
subprocess: plugins are found when pydantic first builds a validator."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("litellm")

_PLUGIN = '''
import collections
COUNTS = collections.Counter()
class _OnValidate:
    def __init__(self, name): self.name = name
    def on_enter(self, *a, **k): COUNTS[self.name] += 1
class _Plugin:
    def new_schema_validator(self, schema, schema_type, schema_type_path, schema_kind, config, plugin_settings):
        return _OnValidate(getattr(schema_type, "__name__", repr(schema_type))), None, None
plugin = _Plugin()
'''

_RUN = textwrap.dedent('''
    import asyncio, random, sys, warnings
    warnings.simplefilter("ignore")
    import countplug
    import test_routing_protocol as T
    from fast_litellm.routing import _local_patch
    _local_patch.install()
    out = []
    for strategy in ("simple-shuffle", "least-busy", "usage-based-routing-v2"):
        for on in (False, True):
            router = T._router(routing_strategy=strategy)
            async def picks():
                got = []
                for _ in range(3):
                    got.append((await router._core.select("g", {"metadata": {}}))["model_info"]["id"])
                return got
            with _local_patch.accelerated(on):
                random.seed(4)
                asyncio.run(picks())
                countplug.COUNTS.clear()
                random.seed(4)
                got = asyncio.run(picks())
            out.append((strategy, on, got, sorted(countplug.COUNTS.items())))
            router.retire()
    print(repr(out))
''')


def _plugin_dir(tmp_path):
    (tmp_path / "countplug.py").write_text(_PLUGIN)
    info = tmp_path / "countplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: countplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pydantic]\ncountplug = countplug:plugin\n")
    return tmp_path


def test_a_pydantic_plugin_sees_stocks_validations(tmp_path):
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(os.path.dirname(os.path.dirname(here)), "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(_plugin_dir(tmp_path)), here, src]))
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    done = subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr
    by = {(strategy, on): (got, counts) for strategy, on, got, counts in runs}
    for strategy in ("simple-shuffle", "least-busy", "usage-based-routing-v2"):
        assert by[(strategy, True)] == by[(strategy, False)], strategy
        assert dict(by[(strategy, False)][1]).get("RequestStartFields")  # the plugin saw LiteLLM's validations
