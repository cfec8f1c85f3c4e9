# C core tests, without Python.
#   make ctest      build and run every tests/c/test_*.c against the C core
#   make sanitize   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make build      build the extension in place (src/fast_litellm/_native*.so)
#   make tsan       the same under ThreadSanitizer (report_destroy_locked=0: the
#                   fork tests deliberately re-create, in the child, a lock a
#                   parent thread held at fork time)
#   make fuzz-smoke every fuzz target as a standalone driver under ASan+UBSan
#                   (pseudo-random inputs; any C compiler)
#   make fuzz       every fuzz target under libFuzzer (clang), FUZZ_SECONDS each
#   make sanitize-ext  the Python extension (binding + core) built with ASan +
#                   UBSan out of place (build/sanitize-ext/, never the in-place
#                   .so) and a subset of the Python suite run against it
#                   (scripts/sanitize-ext.sh; SANITIZE_EXT_ARGS replaces the subset)
# Each tests/c/test_X.c is its own program, linked with every core source
# (csrc/<component>/*.c, never csrc/binding/), and prints "N passed, N failed".
# The core sources are compiled once per kind of build (build/<kind>/core/,
# with exactly the flags that kind's test programs use) and every test program
# of that kind links those objects: the same code, without compiling the core
# again for each of the 11 tests (and each of the 3 fuzz targets).

CC ?= gcc
PYTHON ?= python3
CORE_SRC := $(filter-out csrc/binding/% $(wildcard csrc/*/fuzz_*.c),$(wildcard csrc/*/*.c))
TESTS := $(wildcard tests/c/test_*.c)
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Icsrc -Itests/c -g
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

FUZZ_SRC := $(wildcard csrc/*/fuzz_*.c)
FUZZ_SECONDS ?= 30
CLANG ?= clang
FUZZ_NAMES := $(basename $(notdir $(FUZZ_SRC)))
vpath fuzz_%.c $(sort $(dir $(FUZZ_SRC)))
CORE_HDR := $(wildcard csrc/*/*.h)
# the core's objects for one kind of build: build/<kind>/core/<component>/<name>.o
core_objs = $(patsubst csrc/%.c,build/$(1)/core/%.o,$(CORE_SRC))
CTEST_FLAGS := $(CFLAGS_COMMON) -O2
SANITIZE_FLAGS := $(CFLAGS_COMMON) -O1 $(SAN)
TSAN_FLAGS := $(CFLAGS_COMMON) -O1 -fsanitize=thread
SMOKE_FLAGS := $(CFLAGS_COMMON) -O1 $(SAN) -DFL_FUZZ_BUILD -DFL_FUZZ_STANDALONE
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Icsrc -g -O1 -fsanitize=fuzzer,address,undefined -DFL_FUZZ_BUILD

.PHONY: ctest sanitize tsan build clean fuzz fuzz-smoke sanitize-ext

build:
	$(PYTHON) setup.py -q build_ext --inplace

sanitize-ext:
	./scripts/sanitize-ext.sh $(SANITIZE_EXT_ARGS)

build/ctest/core/%.o: csrc/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CTEST_FLAGS) -c -o $@ $<

build/ctest/%: tests/c/%.c $(call core_objs,ctest) $(CORE_HDR) tests/c/check.h
	@mkdir -p build/ctest
	$(CC) $(CTEST_FLAGS) -o $@ $< $(call core_objs,ctest) -lpthread -lm

build/sanitize/core/%.o: csrc/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(SANITIZE_FLAGS) -c -o $@ $<

build/sanitize/%: tests/c/%.c $(call core_objs,sanitize) $(CORE_HDR) tests/c/check.h
	@mkdir -p build/sanitize
	$(CC) $(SANITIZE_FLAGS) -o $@ $< $(call core_objs,sanitize) -lpthread -lm

build/tsan/core/%.o: csrc/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(TSAN_FLAGS) -c -o $@ $<

build/tsan/%: tests/c/%.c $(call core_objs,tsan) $(CORE_HDR) tests/c/check.h
	@mkdir -p build/tsan
	$(CC) $(TSAN_FLAGS) -o $@ $< $(call core_objs,tsan) -lpthread -lm

tsan: $(patsubst tests/c/%.c,build/tsan/%,$(TESTS))
	@set -e; for t in $^; do TSAN_OPTIONS=halt_on_error=1:report_destroy_locked=0 ./$$t; done

ctest: $(patsubst tests/c/%.c,build/ctest/%,$(TESTS))
	@set -e; for t in $^; do ./$$t; done

sanitize: $(patsubst tests/c/%.c,build/sanitize/%,$(TESTS))
	@set -e; for t in $^; do ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ./$$t; done

build/fuzz-smoke/core/%.o: csrc/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(SMOKE_FLAGS) -c -o $@ $<

build/fuzz-smoke/%: %.c $(call core_objs,fuzz-smoke) $(CORE_HDR)
	@mkdir -p build/fuzz-smoke
	$(CC) $(SMOKE_FLAGS) -o $@ $< $(call core_objs,fuzz-smoke) -lpthread -lm

fuzz-smoke: $(addprefix build/fuzz-smoke/,$(FUZZ_NAMES))
	@set -e; for t in $^; do echo "fuzz-smoke $$t"; ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$$t; done

build/fuzz/core/%.o: csrc/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -c -o $@ $<

build/fuzz/%: %.c $(call core_objs,fuzz) $(CORE_HDR)
	@mkdir -p build/fuzz
	$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(call core_objs,fuzz) -lpthread -lm

fuzz: $(addprefix build/fuzz/,$(FUZZ_NAMES))
	@set -e; for t in $^; do echo "libFuzzer $$t for $(FUZZ_SECONDS)s"; \
	  if ./$$t -max_len=4096 -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 > $$t.log 2>&1; \
	  then grep -E "stat::number_of_executed_units|Done" $$t.log | tail -1; \
	  else tail -40 $$t.log; exit 1; fi; done

clean:
	rm -rf build src/fast_litellm/_native*.so
