# The two commands: `make run` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSA_DIR ?= build-tsa
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 65536
FUZZ_TARGETS ?=
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:7400

.PHONY: deps build run test test-asan check-thread-safety fuzz ci format clean

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	mkdir -p data
	./$(BUILD_DIR)/countersign serve --listen $(LISTEN) --store sqlite:./data/countersign.db

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The whole suite once more under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCOUNTERSIGN_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Clang's thread-safety analysis over the libraries that hold a Mutex: every CS_GUARDED_BY
# member touched without its lock fails the build (src/core/thread_annotations.hpp).
TSA_TARGETS ?= cs_core cs_store cs_auth cs_policy cs_notify cs_engine cs_http cs_compat cs_config \
  cs_mcp cs_cli
check-thread-safety: deps
	CC=clang CXX=clang++ cmake -S . -B $(TSA_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCOUNTERSIGN_THREAD_SAFETY=ON -DCOUNTERSIGN_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(TSA_DIR) -j $(JOBS) --target $(TSA_TARGETS)

# The libFuzzer targets of fuzz/ (docs/fuzzing.md), built with clang++ under ASan+UBSan, each
# run for FUZZ_SECONDS on a scratch copy of its seed corpus (in $(FUZZ_DIR)/fuzz-out, never in
# fuzz/corpus); fails if any target crashes. FUZZ_TARGETS="form_data cookies" runs only those.
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCOUNTERSIGN_FUZZ=ON -DCOUNTERSIGN_TESTS=OFF -DCOUNTERSIGN_MIMALLOC=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzzers
	./scripts/run-fuzzers.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_MAX_LEN) $(FUZZ_TARGETS)

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSA_DIR) $(FUZZ_DIR)
