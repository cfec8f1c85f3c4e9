#!/usr/bin/env bash
# Set-up on a fresh machine: system packages the tests use (redis-server),
# the pinned Python dependencies, and the package built in place.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) \
            || echo "warning: could not install redis-server; Redis tests will skip"
    fi
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# the LiteLLM proxy's runtime dependencies (its [proxy] extra needs the unpublished
# litellm-proxy package), plotting and process tools for the benchmarks
python3 -m pip install -q --disable-pip-version-check -r requirements-bench.txt
python3 -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps -e .
FAST_LITELLM_REQUIRE_NATIVE=1 python3 setup.py -q build_ext --inplace
