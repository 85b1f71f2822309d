# SPDX-License-Identifier: BSD-3-Clause
# The front door. Everything here is a thin wrapper over CMake presets
# (CMakePresets.json), so building by hand gives the same result.

JOBS ?= $(shell nproc)
CTEST_FLAGS ?= --output-on-failure --no-tests=error -j $(JOBS)

.PHONY: all build release deps test test-dev test-asan tsan bench demo format check-format clean

all: build

deps:
	@sh devtools/deps.sh

build:
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

# Every test, once in the normal build and once under ASan+UBSan.
test: deps
	@$(MAKE) --no-print-directory test-dev test-asan

test-dev: build
	cd build/dev && ctest $(CTEST_FLAGS)

test-asan:
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	cd build/asan && ctest $(CTEST_FLAGS)

# The thread-based stress tests under ThreadSanitizer (not part of `make test`).
tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS)
	cd build/tsan && ctest $(CTEST_FLAGS) -L tsan

# The -O3 build that bench and demo run (its warnings differ from -O0's).
release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

bench: release
	@sh bench/run.sh build/release out/bench

demo: release
	@sh examples/demo.sh build/release out/demo $(DEMO_FLAGS)

format:
	@sh devtools/check-format.sh --fix

check-format:
	@sh devtools/check-format.sh

clean:
	rm -rf build out
