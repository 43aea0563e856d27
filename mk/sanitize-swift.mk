# The Swift Testing suites (RelConRuntimeTests, CLITests) under AddressSanitizer and ThreadSanitizer (issue 13,
# docs/reliability.md). Included from the Makefile; part of test-swift.
#
# `swift test --sanitize=...` applies the flag to every target, and the Embedded librelcon.so cannot take it
# (-z defs: __asan_* undefined). RELCON_HOSTED_ONLY=1 gives the manifest without the Embedded targets, the .so
# and the CLI (Package.swift, at the end): the hosted twin, RelConSwift and the two test targets, built once per
# sanitizer in its own build path (debug, as `swift test`), so the normal .build is untouched.
#   ASan: detect_leaks=0 (the Swift runtime's metadata caches and Swift Testing's globals live until exit).
#   TSan: halt_on_error=1, so any reported race fails the run; Swift Testing runs the tests in parallel.
#   SWIFT_BACKTRACE=enable=no: the Swift backtracer can hang on a trap under a sanitizer (seen with the fuzzers).
SAN_SWIFT := .build-sanitize
SAN_SWIFT_RUN = set -o pipefail; RELCON_HOSTED_ONLY=1 SWIFT_BACKTRACE=enable=no
# gold warns once per exported local __asan_/__tsan_ helper symbol (harmless, ~140 lines): not shown
SAN_SWIFT_QUIET := grep -v "Cannot export local symbol" | tail -2

.PHONY: test-sanitize-swift test-sanitize-swift-asan test-sanitize-swift-tsan
test-sanitize-swift: test-sanitize-swift-asan test-sanitize-swift-tsan

test-sanitize-swift-asan:
	@echo "test-sanitize-swift: Swift Testing suites under -sanitize=address"
	$(SAN_SWIFT_RUN) nice swift build --build-tests --sanitize=address --build-path $(SAN_SWIFT)/asan 2>&1 | $(SAN_SWIFT_QUIET)
	$(SAN_SWIFT_RUN) ASAN_OPTIONS=detect_leaks=0 nice swift test --skip-build --sanitize=address --build-path $(SAN_SWIFT)/asan 2>&1 \
	  | grep -E "^(✘|.*error|.*ERROR|.*SUMMARY)|Test run with" ; \
	  exit $${PIPESTATUS[0]}

test-sanitize-swift-tsan:
	@echo "test-sanitize-swift: Swift Testing suites under -sanitize=thread"
	$(SAN_SWIFT_RUN) nice swift build --build-tests --sanitize=thread --build-path $(SAN_SWIFT)/tsan 2>&1 | $(SAN_SWIFT_QUIET)
	$(SAN_SWIFT_RUN) TSAN_OPTIONS=halt_on_error=1 nice swift test --skip-build --sanitize=thread --build-path $(SAN_SWIFT)/tsan \
	  2>&1 | grep -E "^(✘|.*error|.*ThreadSanitizer|.*SUMMARY)|Test run with" ; \
	  exit $${PIPESTATUS[0]}

test-swift: test-sanitize-swift
