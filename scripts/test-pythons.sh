#!/usr/bin/env bash
# The native core on the other CPython versions this machine has (3.10+,
# as LiteLLM 1.110.2; 3.9 is past its end of life).  The binding reads
# some CPython internals behind version checks, so a build that only ever
# ran on one version can break on another without anyone noticing.
#
#   scripts/test-pythons.sh          build on each, implicit declarations as
#                                    errors, then a smoke run of the native
#                                    core (test.sh runs this)
#   scripts/test-pythons.sh --full   also the whole Python suite on each
#                                    version, in a venv per
#                                    version (.venv-pyX.Y) with the pinned
#                                    requirements; minutes per version
#   scripts/test-pythons.sh --routing
#                                    also the Router tests on the newest
#                                    version found (test.sh runs this): the
#                                    routing memos rely on dict version tags,
#                                    which CPython 3.12+ no longer has, so
#                                    that path needs a run of its own
#
# Versions are looked for as pythonX.Y on PATH, then under pyenv's root;
# the one scripts/_python.sh uses is skipped (test.sh covers it), and a
# version that is not installed is reported, not an error.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_python.sh
full=0
routing=0
[ "${1:-}" = "--full" ] && full=1
[ "${1:-}" = "--routing" ] && routing=1
# pytest-xdist workers for the suites run here (test.sh sets it: its core count)
workers="${FL_TEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}"
newest=""
main_version="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
status=0
for v in 3.10 3.11 3.12 3.13 3.14; do
    [ "$v" = "$main_version" ] && continue
    py=""
    if command -v "python$v" >/dev/null 2>&1 && "python$v" -c pass >/dev/null 2>&1; then
        py="$(command -v "python$v")"
    else
        for cand in "$pyenv_root"/versions/"$v".*/bin/"python$v"; do
            [ -x "$cand" ] && "$cand" -c pass >/dev/null 2>&1 && py="$cand"
        done
    fi
    if [ -z "$py" ]; then
        echo "python $v: not installed here, skipped"
        continue
    fi
    venv=".venv-py$v"
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "setuptools>=77" wheel
    echo "== python $v ($py): build"
    if ! CFLAGS="-Werror=implicit-function-declaration" FAST_LITELLM_REQUIRE_NATIVE=1 \
            "$venv/bin/python" setup.py -q build_ext --inplace >/dev/null; then
        echo "python $v: the native core did not build"; status=1; continue
    fi
    echo "== python $v: smoke"
    if ! PYTHONPATH=src FAST_LITELLM_REQUIRE_NATIVE=1 "$venv/bin/python" tests/smoke_native.py; then
        status=1; continue
    fi
    newest="$v:$venv"
    if [ "$full" = 1 ]; then
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt -r requirements-bench.txt
        echo "== python $v: Python suite"
        PYTHONPATH=src FAST_LITELLM_REQUIRE_NATIVE=1 LITELLM_LOCAL_MODEL_COST_MAP=True \
            "$venv/bin/python" -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile tests/python || status=1
    fi
done
if [ "$routing" = 1 ] && [ -n "$newest" ]; then
    v="${newest%%:*}"
    venv="${newest#*:}"
    echo "== python $v: Router tests"
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt \
            -r requirements-bench.txt; then
        echo "python $v: the pinned requirements did not install"; exit 1
    fi
    PYTHONPATH=src FAST_LITELLM_REQUIRE_NATIVE=1 LITELLM_LOCAL_MODEL_COST_MAP=True \
        "$venv/bin/python" -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile tests/python \
        -k "routing or router" || status=1
fi
exit "$status"
