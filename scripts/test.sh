#!/usr/bin/env bash
# The README's test command: set up (idempotent), build, then run every test:
# the C core's tests plain and under ASan/UBSan, the Python suite against
# both the native and the pure-Python implementations, and the extension
# built with ASan/UBSan under its binder-focused tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True
export FAST_LITELLM_REQUIRE_NATIVE=1
echo "== set-up and build"
./scripts/setup.sh
echo "(set-up and build: ${SECONDS}s)"
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
# Four streams side by side, so that the machine's cores (2 on CI) are never
# idle while work remains; each one's output is kept in a log and shown whole,
# in order, with its time, when all are done:
#   1. the C core's tests (plain, ASan+UBSan, TSan, the fuzz targets);
#   2. the native core on the other Python versions (build + smoke each, then
#      the Router tests on the newest, across $workers pytest-xdist workers);
#   3. the Python suite on this Python, across $workers pytest-xdist workers;
#   4. the extension (binding + core) built with ASan + UBSan out of place
#      and the binder-focused tests run against it (scripts/sanitize-ext.sh).
# They share nothing they write: build/<kind>/ for the C tests, setuptools'
# build/temp.* and a .so per Python version, build/sanitize-ext/ (its own
# temp, lib and package copy: never the in-place .so), and the test suites
# write only under their own temporary directories (ARCHITECTURE.md, "The test command",
# says why running them in parallel is safe).
workers="${FL_TEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}"
[ "$workers" -ge 2 ] 2>/dev/null || workers=2
export FL_TEST_WORKERS="$workers"
c_core_tests() {
    t=$SECONDS
    echo "== C core tests"
    make -s ctest
    echo "(C core tests: $((SECONDS - t))s)"; t=$SECONDS
    echo "== C core tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    make -s sanitize
    echo "(ASan + UBSan: $((SECONDS - t))s)"; t=$SECONDS
    echo "== C core tests under ThreadSanitizer"
    make -s tsan
    echo "(TSan: $((SECONDS - t))s)"; t=$SECONDS
    echo "== fuzz targets: standalone drivers under ASan + UBSan"
    make -s fuzz-smoke
    echo "(fuzz smoke: $((SECONDS - t))s)"; t=$SECONDS
    if command -v clang >/dev/null 2>&1; then
        echo "== fuzz targets: libFuzzer, ${FUZZ_SECONDS:-10}s each"
        make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
        echo "(libFuzzer: $((SECONDS - t))s)"
    fi
}
other_pythons() {
    echo "== the native core on the other Python versions installed here (build + smoke; Router tests on the newest)"
    ./scripts/test-pythons.sh --routing
}
sanitized_extension() {
    echo "== the extension under AddressSanitizer + UndefinedBehaviorSanitizer (binder-focused tests)"
    ./scripts/sanitize-ext.sh
}
python_suite() {
    echo "== Python tests (native and pure-Python twins), $workers workers"
    set +e
    python3 -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile "$@"
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then echo "pytest collected no tests"; return 1; fi
    return "$rc"
}
# run_stream NAME LOG FUNCTION [ARGS]: FUNCTION under set -e, its output and
# then its exit status and time in LOG
run_stream() {
    local name="$1" log="$2" t=$SECONDS rc
    shift 2
    set +e
    ( set -e; "$@" ) >"$log" 2>&1
    rc=$?
    echo "($name: exit $rc, $((SECONDS - t))s)" >>"$log"
    return "$rc"
}
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
echo "== running side by side: C core tests, other Python versions, Python suite ($workers workers), sanitized extension"
run_stream "C core tests" "$logs/c" c_core_tests &
c_pid=$!
run_stream "other Python versions" "$logs/py" other_pythons &
py_pid=$!
run_stream "Python suite" "$logs/suite" python_suite "$@" &
suite_pid=$!
run_stream "sanitized extension" "$logs/san" sanitized_extension &
san_pid=$!
c_rc=0; py_rc=0; suite_rc=0; san_rc=0
wait "$c_pid" || c_rc=$?
wait "$py_pid" || py_rc=$?
wait "$suite_pid" || suite_rc=$?
wait "$san_pid" || san_rc=$?
cat "$logs/c" "$logs/py" "$logs/suite" "$logs/san"
if [ "$c_rc" -ne 0 ] || [ "$py_rc" -ne 0 ] || [ "$suite_rc" -ne 0 ] || [ "$san_rc" -ne 0 ]; then
    echo "FAILED:$([ "$c_rc" -ne 0 ] && echo " C core tests")$([ "$py_rc" -ne 0 ] && echo " other Python versions")$([ "$suite_rc" -ne 0 ] && echo " Python suite")$([ "$san_rc" -ne 0 ] && echo " sanitized extension") (${SECONDS}s in all)"
    exit 1
fi
echo "all tests passed (${SECONDS}s in all)"
