# C core tests, without Python.
#   make ctest      build and run every tests/c/test_*.c against the C core
#   make sanitize   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make build      build the extension in place (src/fast_litellm/_native*.so)
#   make fuzz-smoke every fuzz target as a standalone driver under ASan+UBSan
#                   (pseudo-random inputs; any C compiler)
#   make fuzz       every fuzz target under libFuzzer (clang), FUZZ_SECONDS each
# Each tests/c/test_X.c is its own program, linked with every core source
# (csrc/<component>/*.c, never csrc/binding/), and prints "N passed, N failed".

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

.PHONY: ctest sanitize build clean fuzz fuzz-smoke

build:
	$(PYTHON) setup.py -q build_ext --inplace

build/ctest/%: tests/c/%.c $(CORE_SRC) $(wildcard csrc/*/*.h) tests/c/check.h
	@mkdir -p build/ctest
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $< $(CORE_SRC) -lpthread -lm

build/sanitize/%: tests/c/%.c $(CORE_SRC) $(wildcard csrc/*/*.h) tests/c/check.h
	@mkdir -p build/sanitize
	$(CC) $(CFLAGS_COMMON) -O1 $(SAN) -o $@ $< $(CORE_SRC) -lpthread -lm

ctest: $(patsubst tests/c/%.c,build/ctest/%,$(TESTS))
	@set -e; for t in $^; do ./$$t; done

sanitize: $(patsubst tests/c/%.c,build/sanitize/%,$(TESTS))
	@set -e; for t in $^; do ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ./$$t; done

build/fuzz-smoke/%: %.c $(CORE_SRC) $(wildcard csrc/*/*.h)
	@mkdir -p build/fuzz-smoke
	$(CC) $(CFLAGS_COMMON) -O1 $(SAN) -DFL_FUZZ_BUILD -DFL_FUZZ_STANDALONE -o $@ $< $(CORE_SRC) -lpthread -lm

fuzz-smoke: $(addprefix build/fuzz-smoke/,$(FUZZ_NAMES))
	@set -e; for t in $^; do echo "fuzz-smoke $$t"; ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$$t; done

build/fuzz/%: %.c $(CORE_SRC) $(wildcard csrc/*/*.h)
	@mkdir -p build/fuzz
	$(CLANG) -std=c11 -D_GNU_SOURCE -Icsrc -g -O1 -fsanitize=fuzzer,address,undefined -DFL_FUZZ_BUILD -o $@ $< $(CORE_SRC) -lpthread -lm

fuzz: $(addprefix build/fuzz/,$(FUZZ_NAMES))
	@set -e; for t in $^; do echo "libFuzzer $$t for $(FUZZ_SECONDS)s"; \
	  if ./$$t -max_len=4096 -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 > $$t.log 2>&1; \
	  then grep -E "stat::number_of_executed_units|Done" $$t.log | tail -1; \
	  else tail -40 $$t.log; exit 1; fi; done

clean:
	rm -rf build src/fast_litellm/_native*.so
