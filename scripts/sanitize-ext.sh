#!/usr/bin/env bash
# The Python binding (csrc/binding/*.c, with the core it links) under
# AddressSanitizer + UndefinedBehaviorSanitizer, driven by the Python suite.
#
#   scripts/sanitize-ext.sh [pytest args]   (make sanitize-ext; test.sh runs it)
#
# The C core's own tests run sanitized (make sanitize/tsan/fuzz-smoke); the
# binding, which handles every Python object, only runs under pytest.  This
# builds the extension with -fsanitize=address,undefined OUT OF PLACE
# (build/sanitize-ext/: setuptools' temp and lib dirs, then a copy of the
# package with the sanitized .so in it, first on PYTHONPATH), so the in-place
# src/fast_litellm/_native*.so other jobs import is never touched, and runs a
# subset of the suite (SANITIZE_EXT_TESTS below; arguments replace it) with:
#   LD_PRELOAD=libasan.so  the ASan runtime must come first; CPython is not
#                          built with it
#   PYTHONMALLOC=malloc    Python objects from malloc, not pymalloc's arenas,
#                          so a refcount error (an object freed while we still
#                          hold it) is a heap-use-after-free ASan sees
#   detect_leaks=0         CPython leaves objects alive at exit by design
#   PYTHONMALLOC=malloc_debug
#                          Python objects from malloc, not pymalloc's arenas
#                          (ASan sees each one), freed ones overwritten with
#                          0xDD first, so a refcount error (an object freed
#                          while we still use it) is a heap-use-after-free in
#                          our code or a crash in CPython's, and every
#                          PyMem/PyObject allocation checks that the GIL is held
#   detect_leaks=0         CPython leaves objects alive at exit by design
#   allocator_may_return_null=1
#                          a huge request is NULL, as from libc (the binding's
#                          MemoryError paths), not an ASan abort
#   UBSan halt_on_error=1  the first undefined behaviour fails the run
# No suppressions are needed: only our extension is instrumented (CPython,
# LiteLLM's and other extensions are not, so they cannot report), and the
# runs of session 25 (all Router, tokenizer, token counter, limiter, pool,
# cache and monitor tests, both twins: 2,800 tests) reported nothing.
# Tests that cannot pass under ASan for reasons outside the code under test,
# and are so left out of any sanitized run: a child with RLIMIT_AS (ASan
# reserves terabytes of address space; test_tokenizer_loading's child now
# drops LD_PRELOAD), RSS per key (test_ratelimit's million-key test: ASan's
# redzones), wall-clock bounds (test_pool's many-credentials labels: 2 s,
# failed on the C twin too in a fresh-clone CI run at load 14;
# test_cache_patches' 60 s import of LiteLLM in a child).
# Any report fails the run: the process aborts (pytest-xdist reports the
# worker crashed) and the reports, written under build/sanitize-ext/logs/
# (children's too), are shown and fail the run even when pytest passed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_python.sh
root=build/sanitize-ext
py="$(python3 -c 'import sys; print(sys.executable)')"
asan_rt="$(${CC:-gcc} -print-file-name=libasan.so)"
if [ ! -e "$asan_rt" ] || [ "$asan_rt" = libasan.so ]; then
    echo "sanitize-ext: no libasan.so from ${CC:-gcc}; skipped"
    exit 0
fi
t=$SECONDS
FAST_LITELLM_SANITIZE_BUILD=1 FAST_LITELLM_REQUIRE_NATIVE=1 \
    "$py" setup.py -q build_ext --build-lib "$root/lib" --build-temp "$root/temp" >/dev/null
rm -rf "$root/pkg" "$root/logs"
mkdir -p "$root/pkg" "$root/logs"
# the package's Python files as they are now, without the in-place .so
(cd src && find fast_litellm -name __pycache__ -prune -o -name '*.so' -o -type f -print) |
    while read -r f; do mkdir -p "$root/pkg/$(dirname "$f")"; cp "src/$f" "$root/pkg/$f"; done
cp "$root"/lib/fast_litellm/_native*.so "$root/pkg/fast_litellm/"
echo "(sanitized build: $((SECONDS - t))s)"

# The subset: the tests that drive the binding hardest per second (the C
# twin only: FL_TEST_IMPLEMENTATIONS=native).  Measured per file under the
# sanitizers in session 25 (docs/testing note in ARCHITECTURE.md); the
# three slowest tests of test_routing_deprecated_get (subprocess and warning
# walks, 400 s under ASan on a loaded machine) are left to the plain run.
SANITIZE_EXT_TESTS=(
    tests/python/test_routing_native_layer.py
    tests/python/test_routing_memo_native.py
    tests/python/test_routing_route23a.py
    tests/python/test_routing_route24a.py
    tests/python/test_routing_route24b.py
    tests/python/test_routing_route24c.py
    tests/python/test_routing_usage_v2_pick.py
    tests/python/test_routing_deprecated_get.py
    --deselect tests/python/test_routing_deprecated_get.py::test_engine_applied_read_warns_where_litellms_does
    --deselect tests/python/test_routing_deprecated_get.py::test_audit_events_of_the_walk_are_litellms
    --deselect tests/python/test_routing_deprecated_get.py::test_getter_dropped_by_its_warning_is_held
    tests/python/test_token_counter_walk.py
    tests/python/test_bad_inputs23.py
    tests/python/test_cache_limiter_store.py
    tests/python/test_monitor.py
    tests/python/test_pool.py
    --deselect tests/python/test_pool.py::test_stats_labels_of_many_credentials_of_one_url
    tests/python/test_ratelimit.py
    --deselect tests/python/test_ratelimit.py::test_native_memory_per_key_at_a_million_keys
)
[ "$#" -gt 0 ] || set -- "${SANITIZE_EXT_TESTS[@]}"
workers="${FL_TEST_WORKERS:-2}"
logs="$(pwd)/$root/logs"
t=$SECONDS
# run_sanitized CMD...: CMD with the sanitized package and runtime
run_sanitized() {
    env LD_PRELOAD="$asan_rt${LD_PRELOAD:+:$LD_PRELOAD}" \
        PYTHONMALLOC=malloc_debug \
        ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
        PYTHONPATH="$(pwd)/$root/pkg${PYTHONPATH:+:$PYTHONPATH}" \
        FAST_LITELLM_REQUIRE_NATIVE=1 FL_TEST_IMPLEMENTATIONS=native "$@"
}
# the tests must import the sanitized build, not src/'s or an installed one
run_sanitized "$py" -c 'import sys, fast_litellm._native as n
sys.exit(0 if n.__file__.startswith(sys.argv[1]) else "sanitize-ext: imported %s" % n.__file__)' \
    "$(pwd)/$root/pkg/"
set +e
run_sanitized "$py" -m pytest -q -p no:cacheprovider -n "$workers" --dist loadfile "$@"
rc=$?
set -e
echo "(sanitized tests: $((SECONDS - t))s)"
if [ -n "$(ls -A "$logs")" ]; then
    for f in "$logs"/*; do echo "== $f"; cat "$f"; done
    echo "sanitize-ext: sanitizer reports above"
    exit 1
fi
[ "$rc" -ne 5 ] || { echo "pytest collected no tests"; exit 1; }
exit "$rc"
