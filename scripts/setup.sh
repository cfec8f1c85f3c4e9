#!/usr/bin/env bash
# Set-up on a fresh machine: system packages the tests use (redis-server, clang),
# the pinned Python dependencies, and the package built in place.
set -euo pipefail
cd "$(dirname "$0")/.."
# redis-server: the Redis backend's tests start a real one; clang: libFuzzer.
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v clang >/dev/null 2>&1 || missing="$missing clang"
# Debian splits venv/ensurepip and the headers the extension needs out of python3
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing="$missing python3-venv"
python3 -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || missing="$missing python3-dev"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) \
        || echo "warning: could not install$missing; the tests that need them will skip"
fi
if [ -z "${VIRTUAL_ENV:-}" ] && python3 -c 'import os, sys, sysconfig; sys.exit(not (sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))'; then
    [ -x .venv/bin/python3 ] || python3 -m venv .venv
fi
. scripts/_python.sh
# setuptools and wheel: the build below runs without isolation, and venvs of
# Python 3.12+ no longer come with setuptools
python3 -m pip install -q --disable-pip-version-check "setuptools>=77" wheel
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# the LiteLLM proxy's runtime dependencies (its [proxy] extra needs the unpublished
# litellm-proxy package), plotting and process tools for the benchmarks
python3 -m pip install -q --disable-pip-version-check -r requirements-bench.txt
# the tokenizer bench's peers: compiled wheels that may not exist for every
# machine, so one at a time (one missing wheel must not keep out the others)
for peer in $(grep -v '^#' requirements-peers.txt); do
    python3 -m pip install -q --disable-pip-version-check "$peer" \
        || echo "warning: tokenizer peer $peer did not install; the bench reports it as not available"
done
python3 -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps -e .
FAST_LITELLM_REQUIRE_NATIVE=1 python3 setup.py -q build_ext --inplace
