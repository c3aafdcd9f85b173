# SPDX-License-Identifier: MIT
# Thin wrapper around CMake: `make`, `make test`, `make demo`, `make bench`, `make format`.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all setup configure build test unit integration demo bench package format check-format clean

all: build

setup:
	@scripts/setup

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: setup configure
	cmake --build $(BUILD) -j $(JOBS)

test: build check-format
	cd $(BUILD) && ctest --output-on-failure --timeout 600

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
	rm -rf $(BUILD)
