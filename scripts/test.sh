#!/usr/bin/env bash
# The README's test command: set up (idempotent), build, then run every test:
# the C core's tests plain and under ASan/UBSan, then the Python suite
# against both the native and the pure-Python implementations.
set -euo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True
export FAST_LITELLM_REQUIRE_NATIVE=1
./scripts/setup.sh
. scripts/_python.sh
echo "== C core tests"
make -s ctest
echo "== C core tests under AddressSanitizer + UndefinedBehaviorSanitizer"
make -s sanitize
echo "== C core tests under ThreadSanitizer"
make -s tsan
if [ -f ../shared/data/tiktoken/cl100k_base.tiktoken ]; then
    export FL_FUZZ_VOCAB="$(cd ../shared/data/tiktoken && pwd)/cl100k_base.tiktoken"
fi
echo "== fuzz targets: standalone drivers under ASan + UBSan"
make -s fuzz-smoke
if command -v clang >/dev/null 2>&1; then
    echo "== fuzz targets: libFuzzer, ${FUZZ_SECONDS:-10}s each"
    make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
fi
echo "== Python tests (native and pure-Python twins)"
set +e
python3 -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi
exit "$rc"
