# The C API's session queries and header rules (issue 15), hooked into test-c. Included from the Makefile.
#   test-capi     Tests/CTests/test_session_info.c on blobs with and without heads (every precision)
#   check-header  Tests/CTests/check_header.sh: RELCON_API and a "Since" note on every declaration, the header
#                 alone compiles as C99/C11/C++11 -pedantic, RELCON_DEPRECATED warns, RELCON_NO_EXPERIMENTAL
SESSION_INFO_BLOBS = Tests/Fixtures/tiny.blob Tests/Fixtures/tiny_int8.blob Tests/Fixtures/tiny_u7.blob \
	Tests/Fixtures/tiny_f16.blob $(FIX)/tiny_heads.blob $(FIX)/tiny_int8_heads.blob $(FIX)/tiny_f16_heads.blob \
	$(wildcard models/*.blob)

.PHONY: test-capi check-header
test-capi: build fixtures check-header $(CBUILD)/test_session_info
	$(CBUILD)/test_session_info $(SESSION_INFO_BLOBS) 2>&1

check-header:
	Tests/CTests/check_header.sh include/relcon.h

test-c: test-capi
