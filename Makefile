# relcon — one entry point for native builds and every test.
#
#   make demo    the shipped model, run from C by the firmware simulator over a real recording (main job)
#   make test    everything: Python (pytest), Swift (swift test), C (cmocka against librelcon.so), .so checks,
#                Cortex-M4F and aarch64 under QEMU (mk/arm.mk), install (mk/install.mk)
#
# A fresh machine needs nothing but Swift, a C compiler and Python 3: `make deps` installs the Debian
# packages (libopenblas-dev, libcmocka-dev) and `make venv` the pinned Python environment in .venv.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
EXPORT := $(VENV)/bin/relcon-export
DATA ?= $(abspath ../shared/data)
export RELCON_DATA_DIR ?= $(DATA)

LIBDIR := $(abspath .build/release)
LIB := $(LIBDIR)/librelcon.so
CBUILD := .build/ctests
FIX := .build/fixtures
CC ?= cc
CFLAGS := -O2 -g -std=c11 -Wall -Wextra -Werror -Iinclude -ITests/CTests
LDLIBS := -L$(LIBDIR) -lrelcon -Wl,-rpath,$(LIBDIR) -lm
APT_PACKAGES := libopenblas-dev libcmocka-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps venv build fixtures test test-own-data test-python test-swift test-c check-so demo embed-recording bench bench-compare bench-ab clean test-cli cli firmware-sim

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

$(VENV)/.stamp: export/requirements.txt export/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r export/requirements.txt
	$(PY) -m pip install -q -e export
	touch $@

venv: $(VENV)/.stamp

build:
	swift build -c release

$(LIB): build

# Golden vectors for the reference and compact configs (too big to commit): written by the exporter
# from real windows of ../shared/data. Skipped, with a message, when the data is absent.
#   CFG.golden       f32 blob, PyTorch fp32 embeddings (tolerance)
#   CFG_int8.golden  int8 blob, NumPy integer reference embeddings of 32 real windows (bit-exact)
#   CFG_f16.golden   f16 blob, f32 graph with the f16 weights (tolerance)
GOLDEN_SETS := reference compact reference_int8 compact_int8 reference_f16 compact_f16
# The fixtures are rebuilt whenever the exporter code that writes them changes (a stale int8 fixture would test
# an older quantisation), keyed by a checksum of the format/ and deploy/ subpackages (every file, sorted) in $(FIX)/.rev.
FIXTURE_REV := $(shell cat $(sort $(wildcard export/relcon_export/format/*.py export/relcon_export/deploy/*.py)) \
	2>/dev/null | cksum | cut -d' ' -f1)
fixtures: venv
	@mkdir -p $(FIX)
	@if [ "$$(cat $(FIX)/.rev 2>/dev/null)" != "$(FIXTURE_REV)" ]; then \
	  echo "fixtures: exporter sources changed, rebuilding $(FIX)"; rm -rf $(FIX); mkdir -p $(FIX); \
	  echo "$(FIXTURE_REV)" > $(FIX)/.rev; fi
	@if [ -d "$(RELCON_DATA_DIR)" ]; then \
	  for cfg in reference compact; do \
	    [ -f $(FIX)/$$cfg.golden ] || $(EXPORT) golden --config $$cfg --seed 7 --n-windows 8 --out-dir $(FIX) --name $$cfg || exit 1; \
	    for p in int8 f16; do \
	      [ -f $(FIX)/$${cfg}_$$p.golden ] || $(EXPORT) golden --config $$cfg --seed 7 --n-windows 32 --precision $$p \
	        --out-dir $(FIX) --name $${cfg}_$$p || exit 1; \
	    done; \
	  done; \
	else echo "fixtures: SKIP reference/compact golden vectors: $(RELCON_DATA_DIR) not found (set RELCON_DATA_DIR)"; fi
	@# Heads (docs/blob-format.md "Heads"): the tiny fixtures with a classifier, a regressor and a self-test vector,
	@# their expected head outputs, and single head/self-test defects (relcon_export.deploy.fixtures; a few seconds).
	@for t in tiny tiny_int8 tiny_f16; do \
	  [ -f $(FIX)/$${t}_heads.blob -a -f $(FIX)/$${t}_heads.heads.golden ] || \
	    $(EXPORT) heads-fixture --from Tests/Fixtures/$$t.blob --out-dir $(FIX) --name $${t}_heads || exit 1; \
	done; \
	[ -d $(FIX)/bad_heads ] || $(EXPORT) heads-fixture --from Tests/Fixtures/tiny.blob --out-dir $(FIX) \
	    --name tiny_heads --bad-dir $(FIX)/bad_heads

test-python: venv
	$(PY) -m pytest export/tests -q

test-swift:
	swift test

$(CBUILD)/%: Tests/CTests/%.c Tests/CTests/test_util.h Tests/CTests/heap_count.h include/relcon.h $(LIB)
	@mkdir -p $(CBUILD)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS) -lcmocka

CTESTS := $(addprefix $(CBUILD)/,test_api test_blobs test_golden test_noalloc test_heads)
include mk/stream.mk
include mk/fuzz.mk
include mk/capi.mk
include mk/sanitize-swift.mk

test-c: build fixtures $(CTESTS)
	Tests/CTests/check_so.sh $(LIB)
	RELCON_FIXTURES=Tests/Fixtures $(CBUILD)/test_api 2>&1
	RELCON_FIXTURES=Tests/Fixtures $(CBUILD)/test_blobs 2>&1
	RELCON_FIXTURES=Tests/Fixtures RELCON_HEAD_FIXTURES=$(FIX) $(CBUILD)/test_heads 2>&1
	@pairs=""; blobs=""; \
	for t in tiny tiny_int8 tiny_u7 tiny_f16; do pairs="$$pairs Tests/Fixtures/$$t.blob Tests/Fixtures/$$t.golden"; blobs="$$blobs Tests/Fixtures/$$t.blob"; done; \
	for cfg in $(GOLDEN_SETS); do \
	  if [ -f $(FIX)/$$cfg.golden ]; then pairs="$$pairs $(FIX)/$$cfg.blob $(FIX)/$$cfg.golden"; blobs="$$blobs $(FIX)/$$cfg.blob"; \
	  else echo "test-c: SKIP $$cfg golden test: no $(FIX)/$$cfg.golden (needs $(RELCON_DATA_DIR))"; fi; \
	done; \
	for t in tiny_heads tiny_int8_heads tiny_f16_heads; do blobs="$$blobs $(FIX)/$$t.blob"; done; \
	$(CBUILD)/test_golden $$pairs 2>&1 && $(CBUILD)/test_noalloc $$blobs 2>&1 && \
	for isa in v3 portable; do \
	  echo "test-c: golden again with the $$isa kernels (RELCON_ISA=$$isa; the default run above used the CPU's highest level)" && \
	  RELCON_ISA=$$isa $(CBUILD)/test_golden $$pairs 2>&1 || exit 1; \
	done

# The main job: the shipped default model (models/, int8) run from C by the firmware simulator over a real
# recording of a subject held out from pretraining (UCI HAPT subject 06, experiment 11), fed at the sensor's
# native 50 Hz as int16 counts through the streaming API (relcon_stream_*: resampled to the contract rate inside
# the runtime): per-window predictions with timestamps, agreement with the HAPT annotations, latency, memory.
DEMO := .build/demo
DEMO_MODEL ?= models/relcon-compact-int8.blob
DEMO_SUBJECT ?= 06
DEMO_EXP ?= 11
HAPT_RAW := $(DATA)/uci_hapt/RawData
demo: build
	@mkdir -p $(DEMO)
	@[ -f $(HAPT_RAW)/acc_exp$(DEMO_EXP)_user$(DEMO_SUBJECT).txt.gz ] || { echo "demo: $(HAPT_RAW) not found (set DATA)" >&2; exit 2; }
	@[ -f $(DEMO)/hapt-exp$(DEMO_EXP)-user$(DEMO_SUBJECT).txt ] || { zcat $(HAPT_RAW)/acc_exp$(DEMO_EXP)_user$(DEMO_SUBJECT).txt.gz \
	  > $(DEMO)/.raw.tmp && mv $(DEMO)/.raw.tmp $(DEMO)/hapt-exp$(DEMO_EXP)-user$(DEMO_SUBJECT).txt; }
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -Iinclude examples/firmware_sim/firmware_sim.c -o $(DEMO)/firmware_sim $(LDLIBS)
	$(DEMO)/firmware_sim $(DEMO_MODEL) $(DEMO)/hapt-exp$(DEMO_EXP)-user$(DEMO_SUBJECT).txt --rate 50 --counts 4096 --hop 128 \
	  --labels $(HAPT_RAW)/labels.txt --exp $(DEMO_EXP)

# examples/embed_recording: every window's embedding of a recording, written as CSV.
embed-recording: venv build
	@mkdir -p $(DEMO)
	@[ -f $(DEMO)/hapt-$(DEMO_SUBJECT).csv ] || $(EXPORT) recording --dataset hapt --subject $(DEMO_SUBJECT) --fs 100 --out $(DEMO)/hapt-$(DEMO_SUBJECT).csv
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -Iinclude examples/embed_recording/embed_recording.c -o $(DEMO)/embed_recording $(LDLIBS)
	$(DEMO)/embed_recording $(DEMO_MODEL) $(DEMO)/hapt-$(DEMO_SUBJECT).csv --out $(DEMO)/embeddings.csv

# Latency benchmark (examples/bench): librelcon alone, then side by side with ONNX Runtime and PyTorch.
# Figures only, no thresholds. BENCH_ARGS e.g. "--iters 500".
BENCH := .build/bench/bench
$(BENCH): examples/bench/bench.c include/relcon.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c11 -Wall -Wextra -Iinclude $< -o $@ $(LDLIBS)
bench: build fixtures $(BENCH)
	$(BENCH) --lengths 256,1000 $(BENCH_ARGS) $(foreach s,$(GOLDEN_SETS),$(wildcard $(FIX)/$(s).blob))
bench-compare: venv build $(BENCH)
	$(PY) examples/bench/compare.py --bench $(BENCH) $(BENCH_ARGS)
# Paired A/B of two librelcon.so builds in one process (examples/bench/ab.c): AB_A = the other build (required),
# AB_B = this tree's by default; AB_BLOBS = the blobs (default: the int8 and fp32 golden sets).
AB := .build/bench/ab
AB_B ?= $(LIB)
AB_BLOBS ?= $(foreach s,compact_int8 reference_int8 compact,$(wildcard $(FIX)/$(s).blob))
$(AB): examples/bench/ab.c include/relcon.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -Iinclude $< -o $@ -ldl -lm
bench-ab: build fixtures $(AB)
	@[ -n "$(AB_A)" ] || { echo "bench-ab: set AB_A=/path/to/other/librelcon.so" >&2; exit 2; }
	$(AB) $(AB_A) $(AB_B) $(BENCH_ARGS) $(AB_BLOBS)

include mk/bench.mk

check-so: build
	Tests/CTests/check_so.sh $(LIB)

# The relcon command-line tool (docs/cli.md): .build/release/relcon-cli (product name relcon-cli; `relcon` is the
# library product). test-cli runs Tests/cli_test.sh against it; its resampler unit tests run in `swift test`.
CLI := .build/release/relcon-cli
cli:
	swift build -c release --product relcon-cli
test-cli: venv build fixtures cli
	PY=$(PY) EXPORT=$(EXPORT) LIBDIR=$(LIBDIR) HEADS_FIXTURES=$(FIX) Tests/cli_test.sh $(CLI)
	@# the shipped models: valid, and their self-test vectors reproduce through the runtime
	@for b in models/*.blob; do $(CLI) inspect $$b > /dev/null && $(CLI) selftest $$b | tail -1 | sed "s|^|$$b: |" || exit 1; done

# examples/firmware_sim: a wearable's loop (static arena, sensor FIFO, the stream, heads) over a real recording
# (UCI HAPT subject 01, t,x,y,z at 100 Hz: the rate comes from the timestamps, each burst carries its time). FW_MODEL: the shipped model when models/ has one, else
# the heads fixture of `make fixtures` (a random tiny encoder: the plumbing, not meaningful predictions).
FW := .build/firmware_sim
FW_MODEL ?= $(firstword $(wildcard models/*int8*.blob) $(wildcard models/*.blob) $(FIX)/tiny_heads.blob)
FW_HOP ?= 128
firmware-sim: venv build fixtures
	@mkdir -p $(FW)
	@[ -f $(FW)/recording.csv ] || $(EXPORT) recording --dataset hapt --subject 01 --fs 100 --max-seconds 120 --out $(FW)/recording.csv
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -Iinclude examples/firmware_sim/firmware_sim.c -o $(FW)/firmware_sim $(LDLIBS)
	$(FW)/firmware_sim $(FW_MODEL) $(FW)/recording.csv --hop $(FW_HOP)

test: deps venv
	$(MAKE) lint
	$(MAKE) build
	$(MAKE) test-python
	$(MAKE) test-swift
	$(MAKE) test-c
	$(MAKE) test-cli
	$(MAKE) test-own-data
	$(MAKE) test-arm
	$(MAKE) test-install
	@echo "make test: all suites passed"

# docs/own-data.md followed verbatim on real recordings rewritten into a user's layout (Tests/own_data/walkthrough.sh).
test-own-data: venv build cli
	Tests/own_data/walkthrough.sh

clean:
	rm -rf .build/ctests .build/fixtures .build/demo

include mk/lint.mk
include mk/arm.mk
include mk/install.mk
include mk/gpu.mk
