# Streaming (issue 13): Tests/CTests/test_stream.c (stream == batch for every rate, chunk size and gap; no
# allocation), hooked into test-c. Included from the Makefile.
STREAM_BLOBS = Tests/Fixtures/tiny.blob Tests/Fixtures/tiny_int8.blob Tests/Fixtures/tiny_f16.blob \
	$(FIX)/tiny_heads.blob $(FIX)/tiny_int8_heads.blob $(FIX)/tiny_f16_heads.blob $(wildcard models/relcon-compact-int8.blob)

.PHONY: test-stream
test-stream: build fixtures $(CBUILD)/test_stream
	$(CBUILD)/test_stream $(STREAM_BLOBS) 2>&1

test-c: test-stream
