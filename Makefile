# SPDX-License-Identifier: MIT
# Thin wrapper around CMake: `make`, `make test`, `make demo`, `make bench`, `make format`.
BUILD ?= build
SAN_BUILD ?= build-sanitize
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all setup configure build test test-sanitize unit integration demo bench package format check-format clean

all: build

setup:
	@scripts/setup

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: setup configure
	cmake --build $(BUILD) -j $(JOBS)

# Every test, then every test again on an ASan/UBSan/LSan build: memory errors, undefined
# behaviour and leaks fail the run.
test: build check-format
	cd $(BUILD) && ctest --output-on-failure --timeout 600
	$(MAKE) test-sanitize

test-sanitize: setup
	cmake -S . -B $(SAN_BUILD) -DVIGIL_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ctest --output-on-failure --timeout 900

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

demo: build
	scripts/demo $(BUILD)

bench: build
	scripts/bench $(BUILD)

package: build
	cd $(BUILD) && cpack -G DEB

format:
	scripts/format

check-format:
	scripts/format --check

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
