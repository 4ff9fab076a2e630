# The two commands: `make run` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
CLANG_DIR ?= build-clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 65536
FUZZ_TARGETS ?=
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:7400
# `make run CONFIG=countersign.toml` starts the gateway with that config file (policies,
# groups, channels); empty runs it with none.
CONFIG ?=

.PHONY: deps build run test test-asan check-thread-safety fuzz ci format clean

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	mkdir -p data
	./$(BUILD_DIR)/countersign serve --listen $(LISTEN) --store sqlite:./data/countersign.db \
	  $(if $(CONFIG),--config $(CONFIG))

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The suite once more under AddressSanitizer and UndefinedBehaviorSanitizer: every unit test
# and the integration tests of tests/integration, which drive the server's code through its
# API. Left out are the tests whose time goes elsewhere and whose server paths those cover: the
# browser tests (Chromium), the MCP SDK tests (Node; src/mcp has its own unit tests), the
# Python and TypeScript clients', the PostgreSQL integration tests (clusters and replicas; the PostgreSQL
# store runs under the sanitizers in the store.*Postgres* unit tests) and the package test
# (cpack). ASAN_EXCLUDE= runs them all.
ASAN_EXCLUDE ?= ^(browser\.|mcp\.|typescript\.|python_client$$|integration\.test_pg_|integration\.test_package$$)
test-asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCOUNTERSIGN_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) $(if $(ASAN_EXCLUDE),-E '$(ASAN_EXCLUDE)')

# The two checks that need clang++ share one build tree (configured the same way by both), so
# the libraries they both compile are compiled once: the thread-safety analysis and the fuzzers.
CLANG_CONFIGURE = CC=clang CXX=clang++ cmake -S . -B $(CLANG_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCOUNTERSIGN_THREAD_SAFETY=ON -DCOUNTERSIGN_FUZZ=ON -DCOUNTERSIGN_TESTS=OFF \
  -DCOUNTERSIGN_MIMALLOC=OFF $(CMAKE_FLAGS)

# Clang's thread-safety analysis over the libraries that hold a Mutex: every CS_GUARDED_BY
# member touched without its lock fails the build (src/core/thread_annotations.hpp).
TSA_TARGETS ?= cs_core cs_store cs_auth cs_policy cs_notify cs_engine cs_http cs_compat cs_config \
  cs_mcp cs_cli
check-thread-safety: deps
	$(CLANG_CONFIGURE)
	cmake --build $(CLANG_DIR) -j $(JOBS) --target $(TSA_TARGETS)

# The libFuzzer targets of fuzz/ (docs/fuzzing.md), built with clang++ under ASan+UBSan, each
# run for FUZZ_SECONDS on a scratch copy of its seed corpus (in $(CLANG_DIR)/fuzz-out, never in
# fuzz/corpus); fails if any target crashes. FUZZ_TARGETS="form_data cookies" runs only those.
fuzz: deps
	$(CLANG_CONFIGURE)
	cmake --build $(CLANG_DIR) -j $(JOBS) --target fuzzers
	./scripts/run-fuzzers.sh $(CLANG_DIR) $(FUZZ_SECONDS) $(FUZZ_MAX_LEN) $(FUZZ_TARGETS)

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(CLANG_DIR) $(PACKAGE_DIR)

# The Debian package, countersign_<version>-1_<arch>.deb in $(PACKAGE_DIR): a Release build of
# the server alone (no tests), stripped, with the systemd unit, /etc/countersign/countersign.toml
# and the maintainer scripts of packaging/ (docs/operations.md). Install it with
# `sudo apt install ./$(PACKAGE_DIR)/countersign_*.deb`.
PACKAGE_DIR ?= build-package
.PHONY: package
package: deps
	cmake -S . -B $(PACKAGE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOUNTERSIGN_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(PACKAGE_DIR) -j $(JOBS) --target countersign
	cd $(PACKAGE_DIR) && cpack -G DEB
