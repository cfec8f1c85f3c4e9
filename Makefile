# C core tests, without Python.
#   make ctest      build and run every tests/c/test_*.c against the C core
#   make sanitize   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make build      build the extension in place (src/fast_litellm/_native*.so)
# Each tests/c/test_X.c is its own program, linked with every core source
# (csrc/<component>/*.c, never csrc/binding/), and prints "N passed, N failed".

CC ?= gcc
PYTHON ?= python3
CORE_SRC := $(filter-out csrc/binding/% $(wildcard csrc/*/fuzz_*.c),$(wildcard csrc/*/*.c))
TESTS := $(wildcard tests/c/test_*.c)
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Icsrc -Itests/c -g
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: ctest sanitize build clean

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

clean:
	rm -rf build src/fast_litellm/_native*.so
