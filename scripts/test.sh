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
# the shared data (the four vocabularies): FAST_LITELLM_SHARED_DIR, else a
# shared/ beside the checkout or above it (as tests/python/conftest.py finds it);
# the C tests on real vocabularies and the fuzz smoke read it, else skip those parts
shared="${FAST_LITELLM_SHARED_DIR:-}"
if [ -z "$shared" ]; then
    d="$(pwd)"
    while [ "$d" != "/" ]; do
        d="$(dirname "$d")"
        if [ -d "$d/shared/data/tiktoken" ]; then shared="$d/shared"; break; fi
    done
fi
if [ -n "$shared" ] && [ -f "$shared/data/tiktoken/cl100k_base.tiktoken" ]; then
    export FL_TIKTOKEN_DIR="$(cd "$shared/data/tiktoken" && pwd)"
    export FL_FUZZ_VOCAB="$FL_TIKTOKEN_DIR/cl100k_base.tiktoken"
else
    echo "note: no shared/data/tiktoken found; C tests on real vocabularies are skipped"
fi
# Two streams side by side (the machines have 2 cores and each stream is mostly
# one process at a time): the C core's tests, and the native core on the other
# Python versions.  They share nothing (build/ctest, build/sanitize, ... against
# setuptools' build/temp.* and a .so per version); each one's output is kept in
# a log and shown whole, in order, when both are done.
c_core_tests() {
    echo "== C core tests"
    make -s ctest
    echo "== C core tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    make -s sanitize
    echo "== C core tests under ThreadSanitizer"
    make -s tsan
    echo "== fuzz targets: standalone drivers under ASan + UBSan"
    make -s fuzz-smoke
    if command -v clang >/dev/null 2>&1; then
        echo "== fuzz targets: libFuzzer, ${FUZZ_SECONDS:-10}s each"
        make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
    fi
}
other_pythons() {
    echo "== the native core on the other Python versions installed here (build + smoke; Router tests on the newest)"
    ./scripts/test-pythons.sh --routing
}
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
( set -e; c_core_tests ) >"$logs/c" 2>&1 &
c_pid=$!
( set -e; other_pythons ) >"$logs/py" 2>&1 &
py_pid=$!
c_rc=0; py_rc=0
wait "$c_pid" || c_rc=$?
wait "$py_pid" || py_rc=$?
cat "$logs/c"
echo "(C core tests: exit $c_rc)"
cat "$logs/py"
echo "(other Python versions: exit $py_rc)"
if [ "$c_rc" -ne 0 ] || [ "$py_rc" -ne 0 ]; then exit 1; fi
echo "== Python tests (native and pure-Python twins)"
set +e
python3 -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi
exit "$rc"
