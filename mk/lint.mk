# make lint: static checks, no build, a few seconds. Run by `make test` and .ci/run.
#   lint-python  ruff on export/ (its configuration: [tool.ruff] in export/pyproject.toml; ruff is pinned in
#                export/requirements.txt, so `make venv` installs it)
#   lint-swift   `swift format lint` (ships with the toolchain) with .swift-format on every tracked .swift file
#                (symlinked folders once); fails on any rule finding and on trailing whitespace. The pretty-printer's
#                layout findings are not checked: see the comment in .swift-format.
#   lint-c       `clang-format --dry-run --Werror` with .clang-format on every tracked C file except include/relcon.h
#                (laid out by hand) and C_FORMAT_LEGACY, the files written before the configuration in a layout
#                clang-format cannot express (see .clang-format); a file leaves the list when it is reformatted.
.PHONY: lint lint-python lint-swift lint-c

APT_PACKAGES += clang-format
SWIFT_FORMAT ?= swift format
CLANG_FORMAT ?= clang-format
# the pretty-printer's categories (layout), reported by `swift format lint` whatever the configuration says
SWIFT_FORMAT_LAYOUT := Indentation|LineLength|AddLines|RemoveLine|Spacing|TrailingComma
C_FORMAT_LEGACY := Sources/CRelCon/abi_checks.c Sources/CRelConKernels/crc32_table.c \
	Sources/CRelConKernels/include/relcon_kernels.h Tests/CTests/test_api.c Tests/CTests/test_blobs.c \
	Tests/CTests/test_defined.c Tests/CTests/test_heads.c Tests/CTests/test_noalloc.c Tests/CTests/test_stream.c \
	Tests/CTests/test_threads.c Tests/CTests/test_util.h Tests/Fuzz/fuzz_blob.c examples/bench/ab.c \
	examples/bench/bench.c examples/firmware_sim/firmware_sim.c examples/firmware_sim/firmware_sim_baremetal.c \
	targets/common/harness.c targets/common/out.c targets/common/plat.h targets/common/plat_linux.c \
	targets/cortex-m4/measure.c targets/cortex-m4/semihost.c targets/cortex-m4/startup.c

lint: lint-python lint-swift lint-c

lint-python: venv
	$(VENV)/bin/ruff check export

lint-swift:
	@files=$$(git ls-files '*.swift' | while read -r f; do [ -L "$$f" ] || echo "$$f"; done); \
	out=$$($(SWIFT_FORMAT) lint --configuration .swift-format --parallel $$files 2>&1); rc=$$?; \
	findings=$$(grep -vE '\[($(SWIFT_FORMAT_LAYOUT))\]' <<<"$$out" | grep -v '^$$' || true); \
	if [ -n "$$findings" ]; then echo "$$findings" >&2; echo "lint-swift: swift-format findings above" >&2; exit 1; fi; \
	if [ $$rc -ne 0 ] && ! grep -qE '\[($(SWIFT_FORMAT_LAYOUT))\]' <<<"$$out"; then echo "lint-swift: swift format failed" >&2; exit 1; fi; \
	echo "lint-swift: $$(wc -w <<<"$$files") files, no rule findings (.swift-format)"

lint-c:
	@command -v $(CLANG_FORMAT) >/dev/null || { echo "lint-c: clang-format not found (make deps installs it)" >&2; exit 1; }
	@files=$$(git ls-files '*.c' '*.h' | grep -v '^include/' | while read -r f; do [ -L "$$f" ] || echo "$$f"; done \
	  | grep -vxF -f <(printf '%s\n' $(C_FORMAT_LEGACY))); \
	for f in $(C_FORMAT_LEGACY); do [ -f "$$f" ] || echo "lint-c: warning: C_FORMAT_LEGACY names a missing file: $$f" >&2; done; \
	$(CLANG_FORMAT) --dry-run --Werror $$files && \
	echo "lint-c: $$(wc -w <<<"$$files") files in the .clang-format layout ($(words $(C_FORMAT_LEGACY)) older files not yet: C_FORMAT_LEGACY)"
