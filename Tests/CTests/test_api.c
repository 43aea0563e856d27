/* cmocka: the public API through librelcon.so — version handshake, status strings, and an invalid-argument
 * table for every public function. Uses the committed Tests/Fixtures/tiny.blob.
 *
 *   make test-c            (or: build/ctests/test_api, with RELCON_FIXTURES=Tests/Fixtures)
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

typedef struct fixture {
    void *blob;
    size_t blob_bytes;
    relcon_model_info info;
    void *arena;
    relcon_session *session;
    float *window;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    char path[1024];
    fixture_path(path, sizeof path, "tiny.blob");
    f->blob = read_file_aligned(path, &f->blob_bytes);
    if (!f->blob) { fprintf(stderr, "cannot read %s\n", path); free(f); return -1; }
    if (relcon_inspect(f->blob, f->blob_bytes, 256, &f->info) != RELCON_OK) return -1;
    f->arena = aligned_alloc(RELCON_ARENA_ALIGN, (f->info.arena_bytes + 63) & ~(uint64_t)63);
    if (relcon_session_init(f->blob, f->blob_bytes, 256, f->arena, f->info.arena_bytes, &f->session) != RELCON_OK)
        return -1;
    f->window = calloc(256 * 3, sizeof(float));
    for (int i = 0; i < 256 * 3; i++) f->window[i] = (float)sin(0.05 * i);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    free(f->blob);
    free(f->arena);
    free(f->window);
    free(f);
    return 0;
}

static void test_version_handshake(void **state) {
    (void)state;
    assert_int_equal(relcon_version(), RELCON_VERSION_NUMBER);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", RELCON_VERSION_MAJOR, RELCON_VERSION_MINOR, RELCON_VERSION_PATCH);
    assert_string_equal(relcon_version_string(), expect);
}

static void test_status_strings(void **state) {
    (void)state;
    /* Every pinned value has its own text; unknown values still give a non-NULL string. */
    static const relcon_status all[] = {
        RELCON_OK, RELCON_E_NULL_ARGUMENT, RELCON_E_INVALID_ARGUMENT, RELCON_E_BUFFER_TOO_SMALL,
        RELCON_E_BLOB_TOO_SMALL, RELCON_E_BLOB_MAGIC, RELCON_E_BLOB_VERSION, RELCON_E_BLOB_CHECKSUM,
        RELCON_E_BLOB_BOUNDS, RELCON_E_BLOB_ALIGNMENT, RELCON_E_BLOB_TENSOR, RELCON_E_BLOB_GRAPH,
        RELCON_E_BLOB_CONTRACT, RELCON_E_BLOB_METADATA, RELCON_E_ARENA_TOO_SMALL, RELCON_E_ARENA_MISALIGNED,
        RELCON_E_SESSION_INVALID, RELCON_E_WINDOW_TOO_SHORT, RELCON_E_WINDOW_TOO_LONG, RELCON_E_INPUT_NOT_FINITE,
        RELCON_E_NOT_FOUND,
    };
    const size_t n = sizeof all / sizeof all[0];
    const char *unknown = relcon_status_string((relcon_status)9999);
    assert_non_null(unknown);
    for (size_t i = 0; i < n; i++) {
        const char *s = relcon_status_string(all[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(s, relcon_status_string(all[j]));
    }
    assert_non_null(relcon_status_string((relcon_status)-1));
    assert_non_null(relcon_status_string((relcon_status)13));
}

static void test_pinned_values(void **state) {
    (void)state;
    assert_int_equal(RELCON_OK, 0);
    assert_int_equal(RELCON_E_NULL_ARGUMENT, 10);
    assert_int_equal(RELCON_E_BLOB_CHECKSUM, 23);
    assert_int_equal(RELCON_E_ARENA_TOO_SMALL, 30);
    assert_int_equal(RELCON_E_WINDOW_TOO_SHORT, 40);
    assert_int_equal(RELCON_E_NOT_FOUND, 50);
    assert_int_equal(sizeof(relcon_status), 4);
}

static void test_inspect_reports_contract(void **state) {
    fixture *f = *state;
    relcon_model_info *i = &f->info;
    assert_int_equal(i->format_version, 1); /* tiny.blob is a version-1 blob; the library reads 1, 2 and 3 */
    assert_true(i->format_version <= RELCON_BLOB_FORMAT_VERSION);
    assert_int_equal(i->input_channels, 3);
    assert_int_equal(i->units, RELCON_UNITS_G);
    assert_true(i->sample_rate_hz > 0.0f);
    assert_true(i->embedding_dim > 0);
    assert_int_equal(i->min_samples, 11);
    assert_int_equal(i->n_samples, 256);
    assert_int_equal(i->blob_bytes, f->blob_bytes);
    assert_true(i->arena_bytes > 0);
    assert_true(i->macs > 0);
    assert_true(i->n_parameters > 0);
    assert_true(memchr(i->axis_order, 0, sizeof i->axis_order) != NULL);
    /* n_samples = 0 means the contract's window. */
    relcon_model_info d;
    assert_int_equal(relcon_inspect(f->blob, f->blob_bytes, 0, &d), RELCON_OK);
    assert_int_equal(d.n_samples, d.window_samples);
    /* Longer windows need at least as much arena. */
    relcon_model_info big;
    assert_int_equal(relcon_inspect(f->blob, f->blob_bytes, 1000, &big), RELCON_OK);
    assert_true(big.arena_bytes >= i->arena_bytes);
    assert_true(big.macs > i->macs);
}

static void test_inspect_invalid_arguments(void **state) {
    fixture *f = *state;
    relcon_model_info info;
    memset(&info, 0xAB, sizeof info);
    const relcon_model_info untouched = info;
    struct { const void *blob; size_t bytes; uint32_t n; relcon_model_info *out; relcon_status want; } cases[] = {
        {NULL, f->blob_bytes, 256, &info, RELCON_E_NULL_ARGUMENT},
        {f->blob, f->blob_bytes, 256, NULL, RELCON_E_NULL_ARGUMENT},
        {f->blob, 0, 256, &info, RELCON_E_BLOB_TOO_SMALL},
        {f->blob, 127, 256, &info, RELCON_E_BLOB_TOO_SMALL},
        {f->blob, f->blob_bytes - 1, 256, &info, RELCON_E_BLOB_TOO_SMALL},
        {(const char *)f->blob + 1, f->blob_bytes - 1, 256, &info, RELCON_E_BLOB_ALIGNMENT},
        {f->blob, f->blob_bytes, 10, &info, RELCON_E_WINDOW_TOO_SHORT},
        {f->blob, f->blob_bytes, 1, &info, RELCON_E_WINDOW_TOO_SHORT},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        relcon_status s = relcon_inspect(cases[c].blob, cases[c].bytes, cases[c].n, cases[c].out);
        if (s != cases[c].want) fail_msg("inspect case %zu: got %d (%s), want %d", c, s, relcon_status_string(s), cases[c].want);
        assert_memory_equal(&info, &untouched, sizeof info);
    }
    /* A buffer larger than total_bytes (e.g. a flash partition) is accepted. */
    void *bigger = aligned_alloc(64, ((f->blob_bytes + 64) + 63) & ~(size_t)63);
    memcpy(bigger, f->blob, f->blob_bytes);
    memset((char *)bigger + f->blob_bytes, 0xFF, 64);
    assert_int_equal(relcon_inspect(bigger, f->blob_bytes + 64, 256, &info), RELCON_OK);
    assert_int_equal(info.blob_bytes, f->blob_bytes);
    free(bigger);
}

static void test_meta(void **state) {
    fixture *f = *state;
    const char *v = NULL;
    assert_int_equal(relcon_meta(f->blob, f->blob_bytes, "model_name", &v), RELCON_OK);
    assert_non_null(v);
    assert_true(strlen(v) > 0);
    assert_int_equal(relcon_meta(f->blob, f->blob_bytes, "source_commit", &v), RELCON_OK);
    assert_int_equal(relcon_meta(f->blob, f->blob_bytes, "encoder_config", &v), RELCON_OK);
    assert_non_null(strstr(v, "widths"));
    const char *keep = (const char *)0x1;
    v = keep;
    assert_int_equal(relcon_meta(f->blob, f->blob_bytes, "no_such_key", &v), RELCON_E_NOT_FOUND);
    assert_ptr_equal(v, keep);
    assert_int_equal(relcon_meta(f->blob, f->blob_bytes, "", &v), RELCON_E_NOT_FOUND);
    assert_int_equal(relcon_meta(NULL, f->blob_bytes, "model_name", &v), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_meta(f->blob, f->blob_bytes, NULL, &v), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_meta(f->blob, f->blob_bytes, "model_name", NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_meta(f->blob, 64, "model_name", &v), RELCON_E_BLOB_TOO_SMALL);
}

static void test_session_init_invalid_arguments(void **state) {
    fixture *f = *state;
    size_t need = f->info.arena_bytes;
    char *arena = aligned_alloc(64, need + 128);
    relcon_session *keep = (relcon_session *)0x1;
    struct { const void *blob; size_t bytes; uint32_t max; void *arena; size_t arena_bytes; int null_out; relcon_status want; } cases[] = {
        {NULL, f->blob_bytes, 256, arena, need, 0, RELCON_E_NULL_ARGUMENT},
        {f->blob, f->blob_bytes, 256, NULL, need, 0, RELCON_E_NULL_ARGUMENT},
        {f->blob, f->blob_bytes, 256, arena, need, 1, RELCON_E_NULL_ARGUMENT},
        {f->blob, 100, 256, arena, need, 0, RELCON_E_BLOB_TOO_SMALL},
        {(const char *)f->blob + 8, f->blob_bytes - 8, 256, arena, need, 0, RELCON_E_BLOB_ALIGNMENT},
        {f->blob, f->blob_bytes, 256, arena + 8, need, 0, RELCON_E_ARENA_MISALIGNED},
        {f->blob, f->blob_bytes, 256, arena, need - 1, 0, RELCON_E_ARENA_TOO_SMALL},
        {f->blob, f->blob_bytes, 256, arena, 0, 0, RELCON_E_ARENA_TOO_SMALL},
        {f->blob, f->blob_bytes, 10, arena, need, 0, RELCON_E_WINDOW_TOO_SHORT},
        {f->blob, f->blob_bytes, 1000, arena, need, 0, RELCON_E_ARENA_TOO_SMALL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        relcon_session *s = keep;
        relcon_status st = relcon_session_init(cases[c].blob, cases[c].bytes, cases[c].max, cases[c].arena,
                                               cases[c].arena_bytes, cases[c].null_out ? NULL : &s);
        if (st != cases[c].want) fail_msg("session_init case %zu: got %d (%s), want %d", c, st, relcon_status_string(st), cases[c].want);
        assert_ptr_equal(s, keep);
    }
    /* Exactly arena_bytes suffices, and the session sits inside the arena. */
    relcon_session *s = NULL;
    assert_int_equal(relcon_session_init(f->blob, f->blob_bytes, 256, arena, need, &s), RELCON_OK);
    assert_true((char *)s >= arena && (char *)s < arena + need);
    free(arena);
}

static void test_embed_invalid_arguments(void **state) {
    fixture *f = *state;
    const uint32_t dim = f->info.embedding_dim;
    float *out = malloc(sizeof(float) * (dim + 1));
    for (uint32_t i = 0; i <= dim; i++) out[i] = 12345.0f;
    float *nan_window = malloc(sizeof(float) * 256 * 3);
    memcpy(nan_window, f->window, sizeof(float) * 256 * 3);
    nan_window[100] = NAN;
    float *inf_window = malloc(sizeof(float) * 256 * 3);
    memcpy(inf_window, f->window, sizeof(float) * 256 * 3);
    inf_window[767] = -INFINITY;
    static char garbage[8192] __attribute__((aligned(64)));
    memset(garbage, 0x5A, sizeof garbage);

    struct { relcon_session *s; const float *x; uint32_t n; float *out; uint32_t cap; relcon_status want; } cases[] = {
        {NULL, f->window, 256, out, dim, RELCON_E_NULL_ARGUMENT},
        {f->session, NULL, 256, out, dim, RELCON_E_NULL_ARGUMENT},
        {f->session, f->window, 256, NULL, dim, RELCON_E_NULL_ARGUMENT},
        {f->session, f->window, 256, out, dim - 1, RELCON_E_BUFFER_TOO_SMALL},
        {f->session, f->window, 256, out, 0, RELCON_E_BUFFER_TOO_SMALL},
        {f->session, f->window, 10, out, dim, RELCON_E_WINDOW_TOO_SHORT},
        {f->session, f->window, 0, out, dim, RELCON_E_WINDOW_TOO_SHORT},
        {f->session, f->window, 257, out, dim, RELCON_E_WINDOW_TOO_LONG},
        {f->session, nan_window, 256, out, dim, RELCON_E_INPUT_NOT_FINITE},
        {f->session, inf_window, 256, out, dim, RELCON_E_INPUT_NOT_FINITE},
        {(relcon_session *)garbage, f->window, 256, out, dim, RELCON_E_SESSION_INVALID},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        relcon_status st = relcon_embed(cases[c].s, cases[c].x, cases[c].n, cases[c].out, cases[c].cap);
        if (st != cases[c].want) fail_msg("embed case %zu: got %d (%s), want %d", c, st, relcon_status_string(st), cases[c].want);
        for (uint32_t i = 0; i <= dim; i++) assert_true(out[i] == 12345.0f); /* untouched on error */
    }
    /* A larger output buffer is fine: exactly dim floats are written. */
    assert_int_equal(relcon_embed(f->session, f->window, 256, out, dim + 1), RELCON_OK);
    assert_true(out[dim] == 12345.0f);
    for (uint32_t i = 0; i < dim; i++) assert_true(isfinite(out[i]));
    free(out);
    free(nan_window);
    free(inf_window);
}

static void test_embed_any_window_length(void **state) {
    /* Every length in [min_samples, max] runs and equals a session planned exactly for it. */
    fixture *f = *state;
    const uint32_t dim = f->info.embedding_dim;
    float *a = malloc(sizeof(float) * dim), *b = malloc(sizeof(float) * dim);
    static const uint32_t lengths[] = {11, 12, 13, 64, 100, 199, 200, 255, 256};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        uint32_t n = lengths[i];
        assert_int_equal(relcon_embed(f->session, f->window, n, a, dim), RELCON_OK);
        relcon_model_info info;
        assert_int_equal(relcon_inspect(f->blob, f->blob_bytes, n, &info), RELCON_OK);
        void *arena = aligned_alloc(64, (info.arena_bytes + 63) & ~(uint64_t)63);
        relcon_session *s = NULL;
        assert_int_equal(relcon_session_init(f->blob, f->blob_bytes, n, arena, info.arena_bytes, &s), RELCON_OK);
        assert_int_equal(relcon_embed(s, f->window, n, b, dim), RELCON_OK);
        assert_memory_equal(a, b, sizeof(float) * dim);
        free(arena);
    }
    free(a);
    free(b);
}

static void test_sessions_are_independent(void **state) {
    /* Two sessions on one blob give identical results; an overwritten arena is detected, not crashed on. */
    fixture *f = *state;
    const uint32_t dim = f->info.embedding_dim;
    void *arena2 = aligned_alloc(64, (f->info.arena_bytes + 63) & ~(uint64_t)63);
    relcon_session *s2 = NULL;
    assert_int_equal(relcon_session_init(f->blob, f->blob_bytes, 256, arena2, f->info.arena_bytes, &s2), RELCON_OK);
    float *a = malloc(sizeof(float) * dim), *b = malloc(sizeof(float) * dim);
    assert_int_equal(relcon_embed(f->session, f->window, 256, a, dim), RELCON_OK);
    assert_int_equal(relcon_embed(s2, f->window, 256, b, dim), RELCON_OK);
    assert_memory_equal(a, b, sizeof(float) * dim);
    memset(arena2, 0, f->info.arena_bytes);
    assert_int_equal(relcon_embed(s2, f->window, 256, b, dim), RELCON_E_SESSION_INVALID);
    free(arena2);
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_handshake),
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_pinned_values),
        cmocka_unit_test_setup_teardown(test_inspect_reports_contract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_init_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embed_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embed_any_window_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_are_independent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
