/* cmocka: librelcon.so never touches the heap. This executable defines the malloc family itself; the dynamic
 * linker binds the library's calls to these definitions, so every allocation made inside librelcon.so is
 * counted. inspect, meta, session_init and 1000 embeds (several window lengths) must count zero; for blobs with
 * heads also every head function (per window, per recording, descriptions) and relcon_selftest.
 *
 *   test_noalloc BLOB [BLOB ...]
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include "heap_count.h"

static const char **g_blobs;
static int g_n_blobs;

static void test_counter_works(void **state) {
    (void)state;
    /* The interposer must see allocations, otherwise a zero below proves nothing. */
    heap_count_calls = 0;
    heap_count_on = 1;
    void *volatile p = malloc(16);
    free(p);
    heap_count_on = 0;
    assert_int_equal(heap_count_calls, 2);
}

static void test_library_never_allocates(void **state) {
    (void)state;
    for (int b = 0; b < g_n_blobs; b++) {
        size_t blob_bytes = 0;
        void *blob = read_file_aligned(g_blobs[b], &blob_bytes);
        if (!blob) fail_msg("cannot read %s", g_blobs[b]);
        relcon_model_info info;
        assert_int_equal(relcon_inspect(blob, blob_bytes, 256, &info), RELCON_OK);
        void *arena = aligned_alloc(64, (info.arena_bytes + 63) & ~(uint64_t)63);
        float *x = aligned_alloc(64, sizeof(float) * 256 * 3);
        float *out = aligned_alloc(64, sizeof(float) * info.embedding_dim);
        for (int i = 0; i < 256 * 3; i++) x[i] = (float)cos(0.01 * i) * 0.8f;

        heap_count_calls = 0;
        heap_count_on = 1;
        relcon_session *s = NULL;
        const char *v = NULL;
        relcon_status st = relcon_inspect(blob, blob_bytes, 256, &info);
        st |= relcon_meta(blob, blob_bytes, "model_name", &v);
        st |= relcon_session_init(blob, blob_bytes, 256, arena, info.arena_bytes, &s);
        for (int run = 0; st == RELCON_OK && run < 1000; run++)
            st |= relcon_embed(s, x, 200 + (uint32_t)(run % 57), out, info.embedding_dim);
        /* heads and the self-test (blobs with heads): per window, per recording, descriptions */
        uint32_t n_heads = 0;
        st |= relcon_head_count(blob, blob_bytes, &n_heads);
        for (uint32_t h = 0; st == RELCON_OK && h < n_heads; h++) {
            relcon_head_desc d;
            float probs[64], value, err;
            uint32_t top, votes[64], windows;
            st |= relcon_head_info(blob, blob_bytes, h, &d);
            if (d.kind == RELCON_HEAD_CLASSIFIER && d.n_outputs <= 64) {
                const char *name = NULL;
                st |= relcon_head_class_name(blob, blob_bytes, h, 0, &name);
                for (int run = 0; st == RELCON_OK && run < 100; run++)
                    st |= relcon_classify(s, x, 200 + (uint32_t)(run % 57), h, probs, 64, &top);
                st |= relcon_classify_recording(s, x, 256, 16, h, votes, 64, &top, &windows);
            } else if (d.kind == RELCON_HEAD_REGRESSOR) {
                for (int run = 0; st == RELCON_OK && run < 100; run++)
                    st |= relcon_regress(s, x, 200 + (uint32_t)(run % 57), h, &value);
                st |= relcon_regress_recording(s, x, 256, 16, h, &value, &windows);
            }
            relcon_status e = relcon_selftest(s, &err);
            if (e != RELCON_E_NOT_FOUND) st |= e;
            if (relcon_classify(s, x, 256, n_heads, probs, 64, &top) != RELCON_E_NO_SUCH_HEAD)   /* error path */
                st |= RELCON_E_INVALID_ARGUMENT;
        }
        /* the session queries (0.5), also on their error paths */
        relcon_session_desc sd;
        sd.struct_bytes = sizeof sd;
        st |= relcon_session_info(s, &sd);
        for (uint32_t h = 0; st == RELCON_OK && h < sd.n_heads; h++) {
            relcon_head_desc d;
            const char *name = NULL;
            st |= relcon_session_head_info(s, h, &d);
            if (d.kind == RELCON_HEAD_CLASSIFIER) st |= relcon_session_head_class_name(s, h, d.n_outputs - 1, &name);
        }
        relcon_head_desc nd;
        if (relcon_session_head_info(s, sd.n_heads, &nd) != RELCON_E_NO_SUCH_HEAD) st |= RELCON_E_INVALID_ARGUMENT;
        sd.struct_bytes = 8;
        if (relcon_session_info(s, &sd) != RELCON_E_INVALID_ARGUMENT) st |= RELCON_E_INVALID_ARGUMENT;
        (void)relcon_status_string(st);
        (void)relcon_version_string();
        /* error paths must not allocate either */
        relcon_status e1 = relcon_embed(s, x, 5, out, info.embedding_dim);
        relcon_status e2 = relcon_inspect(blob, 64, 256, &info);
        heap_count_on = 0;
        assert_int_equal(e1, RELCON_E_WINDOW_TOO_SHORT);
        assert_int_equal(e2, RELCON_E_BLOB_TOO_SMALL);

        assert_int_equal(st, RELCON_OK);
        if (heap_count_calls != 0) fail_msg("%s: %ld heap calls inside librelcon.so", g_blobs[b], (long)heap_count_calls);
        printf("[ no-alloc ] %s: 0 heap calls over inspect + meta + init + 1000 embeds + session queries\n",
               g_blobs[b]);
        free(arena);
        free(x);
        free(out);
        free(blob);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BLOB [BLOB ...]\n", argv[0]);
        return 2;
    }
    g_blobs = (const char **)(argv + 1);
    g_n_blobs = argc - 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_works),
        cmocka_unit_test(test_library_never_allocates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
