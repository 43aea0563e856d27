# Streaming (issue 13): Tests/CTests/test_stream.c (stream == batch for every rate, chunk size and gap; no
# allocation), hooked into test-c. Included from the Makefile.
STREAM_BLOBS = Tests/Fixtures/tiny.blob Tests/Fixtures/tiny_int8.blob Tests/Fixtures/tiny_f16.blob \
	$(FIX)/tiny_heads.blob $(FIX)/tiny_int8_heads.blob $(FIX)/tiny_f16_heads.blob $(wildcard models/relcon-compact-int8.blob)

.PHONY: test-stream
test-stream: build fixtures $(CBUILD)/test_stream
	$(CBUILD)/test_stream $(STREAM_BLOBS) 2>&1

test-c: test-stream

# Defined results for every input (D1: huge inputs clamped, overflowing weights -> RELCON_E_OUTPUT_NOT_FINITE;
# D3: copies of a session refused) and the statuses of relcon_resample / relcon_stream_*.
DEFINED_BLOBS = models/relcon-compact-f32.blob models/relcon-compact-f16.blob models/relcon-compact-int8.blob \
	Tests/Fixtures/tiny.blob Tests/Fixtures/tiny_f16.blob Tests/Fixtures/tiny_int8.blob Tests/Fixtures/tiny_u7.blob
# ... and a blob exported with --input-clip 2 (the exporter's metadata key): test_defined checks that librelcon
# clamps ±1e38 g windows to exactly ±2 g on it (not the 16 g default).
CLIP_BLOB := $(CBUILD)/tiny_clip2.blob
$(CLIP_BLOB): $(VENV)/.stamp export/relcon_export/format/rules.py export/relcon_export/deploy/builder.py
	@mkdir -p $(CBUILD)
	$(EXPORT) export --random-init --config tiny --seed 1 --input-clip 2 --out $@ --model-name tiny-clip2 \
	  --training-data "none (random init)" >/dev/null
.PHONY: test-defined
test-defined: build $(CBUILD)/test_defined $(CLIP_BLOB)
	$(CBUILD)/test_defined $(DEFINED_BLOBS) $(CLIP_BLOB) 2>&1

test-c: test-defined
