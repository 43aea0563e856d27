# Fuzzing and sanitizer builds (issue 13, docs/reliability.md). Included from the Makefile.
#
#   make fuzz FUZZ_SECONDS=N   libFuzzer over Tests/Fuzz/fuzz_blob.c and the instrumented hosted twin (below);
#                              seeds: every committed fixture blob; new coverage merged (minimised) into
#                              Tests/Fuzz/corpus.tar.xz, crashes written to Tests/Fuzz/crashes
#   make test-sanitize         (part of test-c) the C suites with -fsanitize=address,undefined, the corpus and the
#                              crashes replayed under the same sanitizers, test_threads under -fsanitize=thread
#                              (the system cc: the toolchain clang's TSan runtime needs libdispatch)
FUZZ_CC ?= $(firstword $(wildcard /opt/swift/usr/bin/clang) $(shell command -v clang 2>/dev/null))
FUZZ_SECONDS ?= 60
FUZZ := .build/fuzz
SAN := .build/sanitize
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_LD := -fuse-ld=lld -L$(LIBDIR) -lrelcon -Wl,-rpath,$(LIBDIR) -lm
SAN_ENV := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
# The Swift runtime's own crash backtracer (swift-backtrace) is turned off: it races ASan/libFuzzer's handlers on a
# trap and once hung holding the pipe of `tee`; libFuzzer then writes the crashing input as usual.
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no
FUZZ_SEEDS := Tests/Fixtures/*.blob Tests/Fixtures/bad/*.blob Tests/Fixtures/bad_v2/*.blob

.PHONY: fuzz test-sanitize

# The fuzzer runs the hosted twin of the runtime (the same Swift sources as librelcon.so, Sources/RelConRuntimeHosted)
# compiled with coverage (-sanitize=fuzzer, -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp:
# what libFuzzer reads) and AddressSanitizer, linked into the harness: coverage-guided over the library's own
# branches. (The shipped .so is Embedded Swift, which takes no sanitizers; the same sources compiled hosted are
# what can be instrumented.)
FUZZ_TWIN := .build-fuzz
TWIN_OBJS = $(foreach m,RelConRuntimeHosted RelConKernelsV3Hosted RelConKernelsV4Hosted CRelConKernels CRelCon,$(wildcard $(FUZZ_TWIN)/release/$(m).build/*.o))
RUNTIME_SOURCES := $(shell find Sources/RelConRuntime Sources/RelConKernelsV3 Sources/RelConKernelsV4 Sources/CRelConKernels -name '*.swift' -o -name '*.c' -o -name '*.h') include/relcon.h
$(FUZZ)/twin.stamp: $(RUNTIME_SOURCES)
	@mkdir -p $(FUZZ)
	nice swift build -c release --build-path $(FUZZ_TWIN) --target RelConRuntimeHosted -Xswiftc -sanitize=fuzzer \
	  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xcc -fsanitize=fuzzer-no-link -Xcc -fsanitize=address
	touch $@
$(FUZZ)/fuzz_blob: Tests/Fuzz/fuzz_blob.c $(FUZZ)/twin.stamp
	$(FUZZ_CC) -c -O1 -g -fsanitize=fuzzer-no-link,address -std=c11 -Iinclude $< -o $(FUZZ)/fuzz_blob.o
	swiftc -sanitize=fuzzer,address $(FUZZ)/fuzz_blob.o $(TWIN_OBJS) -o $@

# The minimised blob corpus is committed as Tests/Fuzz/corpus.tar.xz (inputs of ~40 KB that differ in a few bytes:
# ~23 MB as files, under 200 KB compressed), unpacked into $(FUZZ)/corpus to fuzz or replay.
$(FUZZ)/corpus/.stamp: Tests/Fuzz/corpus.tar.xz
	@rm -rf $(FUZZ)/corpus && mkdir -p $(FUZZ)
	tar -C $(FUZZ) -xJf $<
	@touch $@

fuzz: fixtures $(FUZZ)/fuzz_blob $(FUZZ)/corpus/.stamp
	@mkdir -p $(FUZZ)/seeds $(FUZZ)/work Tests/Fuzz/crashes
	@cp $(FUZZ_SEEDS) $(wildcard $(FIX)/tiny*_heads.blob) $(FUZZ)/seeds/
	cd $(FUZZ) && $(FUZZ_ENV) nice ./fuzz_blob -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(CURDIR)/Tests/Fuzz/crashes/ work seeds corpus \
	  2>&1 | tee fuzz.log | grep -E "INITED|DONE|stat::|ERROR|SUMMARY"
	$(FUZZ_ENV) $(FUZZ)/fuzz_blob -merge=1 -max_len=65536 $(FUZZ)/corpus $(FUZZ)/work 2>&1 | tail -1
	rm -f $(FUZZ)/corpus/.stamp && tar -C $(FUZZ) -cf - corpus | xz -9e > Tests/Fuzz/corpus.tar.xz.tmp \
	  && mv Tests/Fuzz/corpus.tar.xz.tmp Tests/Fuzz/corpus.tar.xz && touch $(FUZZ)/corpus/.stamp

$(SAN)/%: Tests/CTests/%.c Tests/CTests/test_util.h Tests/CTests/heap_count.h include/relcon.h $(LIB)
	@mkdir -p $(SAN)
	$(FUZZ_CC) $(SAN_FLAGS) -std=c11 -DRELCON_NO_INTERPOSE -Iinclude -ITests/CTests $< -o $@ $(SAN_LD) -lcmocka

$(SAN)/fuzz_replay: Tests/Fuzz/fuzz_blob.c include/relcon.h $(LIB)
	@mkdir -p $(SAN)
	$(FUZZ_CC) $(SAN_FLAGS) -std=c11 -DFUZZ_REPLAY_MAIN -Iinclude $< -o $@ $(SAN_LD)

$(SAN)/test_threads_tsan: Tests/CTests/test_threads.c Tests/CTests/test_util.h include/relcon.h $(LIB)
	@mkdir -p $(SAN)
	$(CC) -O1 -g -fsanitize=thread -std=c11 -Iinclude -ITests/CTests $< -o $@ -L$(LIBDIR) -lrelcon \
	  -Wl,-rpath,$(LIBDIR) -lm -lpthread

test-sanitize: build fixtures $(addprefix $(SAN)/,test_api test_blobs test_heads test_defined test_stream fuzz_replay test_threads_tsan) \
	$(FUZZ)/corpus/.stamp
	@echo "test-sanitize: C suites under -fsanitize=address,undefined"
	$(SAN_ENV) RELCON_FIXTURES=Tests/Fixtures $(SAN)/test_api 2>&1 | tail -1
	$(SAN_ENV) RELCON_FIXTURES=Tests/Fixtures $(SAN)/test_blobs 2>&1 | tail -1
	$(SAN_ENV) RELCON_FIXTURES=Tests/Fixtures RELCON_HEAD_FIXTURES=$(FIX) $(SAN)/test_heads 2>&1 | tail -1
	$(SAN_ENV) $(SAN)/test_defined $(DEFINED_BLOBS) 2>&1 | tail -1
	$(SAN_ENV) $(SAN)/test_stream Tests/Fixtures/tiny_int8.blob $(FIX)/tiny_heads.blob 2>&1 | tail -1
	$(SAN_ENV) $(SAN)/fuzz_replay $(FUZZ)/corpus Tests/Fuzz/crashes $(FUZZ_SEEDS)
	TSAN_OPTIONS=halt_on_error=1 $(SAN)/test_threads_tsan Tests/Fixtures/tiny_int8.blob 8 100
	TSAN_OPTIONS=halt_on_error=1 $(SAN)/test_threads_tsan Tests/Fixtures/tiny.blob 8 100

test-c: test-sanitize

# test_threads against the hosted twin built with -sanitize=thread: the library's own loads and stores are
# instrumented (the shipped .so, Embedded Swift, cannot be). The Swift Testing suites under ASan/TSan:
# mk/sanitize-swift.mk (RELCON_HOSTED_ONLY=1, the manifest without the Embedded targets).
TSAN_TWIN := .build-tsan
TSAN_OBJS = $(foreach m,RelConRuntimeHosted RelConKernelsV3Hosted RelConKernelsV4Hosted CRelConKernels CRelCon,$(wildcard $(TSAN_TWIN)/release/$(m).build/*.o))
$(SAN)/tsan_twin.stamp: $(RUNTIME_SOURCES)
	@mkdir -p $(SAN)
	nice swift build -c release --build-path $(TSAN_TWIN) --target RelConRuntimeHosted -Xswiftc -sanitize=thread \
	  -Xcc -fsanitize=thread
	touch $@
$(SAN)/test_threads_twin: Tests/CTests/test_threads.c $(SAN)/tsan_twin.stamp
	$(FUZZ_CC) -c -O1 -g -fsanitize=thread -std=c11 -Iinclude -ITests/CTests $< -o $(SAN)/test_threads_twin.o
	swiftc -sanitize=thread $(SAN)/test_threads_twin.o $(TSAN_OBJS) -o $@

.PHONY: test-sanitize-twin
test-sanitize-twin: $(SAN)/test_threads_twin
	TSAN_OPTIONS=halt_on_error=1 $(SAN)/test_threads_twin Tests/Fixtures/tiny_int8.blob 8 100
	TSAN_OPTIONS=halt_on_error=1 $(SAN)/test_threads_twin Tests/Fixtures/tiny.blob 8 100

# The second harness: the CLI's readers (CSV, NPY) and resampler (Tests/Fuzz/fuzz_cli.swift with the Kit sources
# and the instrumented twin). `make fuzz-cli FUZZ_SECONDS=N`; its minimised corpus (Tests/Fuzz/cli_corpus) is
# replayed through relcon-cli by Tests/cli_test.sh.
FUZZ_TWIN_MODULEMAP := $(FUZZ_TWIN)/release/CRelCon.build/module.modulemap
$(FUZZ)/fuzz_cli: Tests/Fuzz/fuzz_cli.swift $(wildcard Sources/RelConSwift/*.swift) $(FUZZ)/twin.stamp
	nice swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name RelConSwift \
	  -Xcc -fmodule-map-file=$(FUZZ_TWIN_MODULEMAP) -I Sources/CRelCon/include Tests/Fuzz/fuzz_cli.swift \
	  $(wildcard Sources/RelConSwift/*.swift) $(TWIN_OBJS) -o $@

.PHONY: fuzz-cli
fuzz-cli: $(FUZZ)/fuzz_cli
	@mkdir -p $(FUZZ)/work_cli Tests/Fuzz/cli_corpus Tests/Fuzz/crashes
	cd $(FUZZ) && $(FUZZ_ENV) nice ./fuzz_cli -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
	  -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix=$(CURDIR)/Tests/Fuzz/crashes/cli- work_cli \
	  $(CURDIR)/Tests/Fuzz/cli_seeds $(CURDIR)/Tests/Fuzz/cli_corpus 2>&1 | tee fuzz_cli.log | grep -E "INITED|DONE|stat::|ERROR"
	$(FUZZ_ENV) $(FUZZ)/fuzz_cli -merge=1 -max_len=16384 Tests/Fuzz/cli_corpus $(FUZZ)/work_cli 2>&1 | tail -1
test-sanitize: test-sanitize-twin
