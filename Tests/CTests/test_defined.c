/* cmocka: defined results for every input (include/relcon.h; issue 13, D1 and D3) and the statuses of the
 * resampler and the stream.
 *   D1  a finite but huge input (±1e38 g) is clamped to input_clip (default 16 g): relcon_embed gives exactly
 *       the embedding of the clamped window, every head call OK and finite; finite weights that overflow
 *       (every value of one f32 weight tensor set to 3e38, CRC fixed) give RELCON_E_OUTPUT_NOT_FINITE from every
 *       function that computes (relcon_selftest: RELCON_E_SELFTEST_FAILED with an infinite error), never OK,
 *       never RELCON_E_SESSION_INVALID, and nothing is written.
 *   D3  a copy of the first 128 bytes of a live session (or of the whole arena, elsewhere) is refused with
 *       RELCON_E_SESSION_INVALID by every session function (under ASan: without reading past the copy).
 *
 *   test_defined F32_HEADS_BLOB [BLOB ...]     (the first blob must be f32 with a classifier and a regressor)
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

static const char **g_blobs;
static int g_n_blobs;

static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t rd32(const uint8_t *b, size_t o) { uint32_t v; memcpy(&v, b + o, 4); return v; }
static void wr32(uint8_t *b, size_t o, uint32_t v) { memcpy(b + o, &v, 4); }

static void fix_crc(uint8_t *b) {
    uint32_t total = rd32(b, 16);
    wr32(b, 12, 0);
    wr32(b, 12, crc32_ieee(b, total));
}

typedef struct loaded {
    uint8_t *blob;
    size_t bytes;
    relcon_model_info info;
    void *arena;
    relcon_session *s;
    uint32_t n_heads, cls, reg;   /* first classifier / regressor head, or UINT32_MAX */
} loaded;

static void load(loaded *l, uint8_t *blob, size_t bytes) {
    memset(l, 0, sizeof *l);
    l->blob = blob;
    l->bytes = bytes;
    assert_int_equal(relcon_inspect(blob, bytes, 0, &l->info), RELCON_OK);
    l->arena = aligned_alloc(64, (l->info.arena_bytes + 63) & ~(uint64_t)63);
    assert_int_equal(relcon_session_init(blob, bytes, 0, l->arena, l->info.arena_bytes, &l->s), RELCON_OK);
    assert_int_equal(relcon_head_count(blob, bytes, &l->n_heads), RELCON_OK);
    l->cls = l->reg = UINT32_MAX;
    for (uint32_t h = 0; h < l->n_heads; h++) {
        relcon_head_desc d;
        assert_int_equal(relcon_head_info(blob, bytes, h, &d), RELCON_OK);
        if (d.kind == RELCON_HEAD_CLASSIFIER && l->cls == UINT32_MAX) l->cls = h;
        if (d.kind == RELCON_HEAD_REGRESSOR && l->reg == UINT32_MAX) l->reg = h;
    }
}

static float *window_of(uint32_t w, float big) {
    float *x = malloc(sizeof(float) * 3 * w * 4);
    for (uint32_t i = 0; i < 3 * w * 4; i++) x[i] = (float)(0.3 * sin(0.05 * i)) + (i % 3 == 2 ? 1.0f : 0.0f);
    if (big != 0)
        for (uint32_t i = 0; i < 3 * w * 4; i += 7) x[i] = (i % 2) ? big : -big;
    return x;
}

/* D1, part 1: huge finite inputs are clamped, for every blob. */
static void test_huge_input_is_clamped(void **state) {
    (void)state;
    for (int b = 0; b < g_n_blobs; b++) {
        size_t bytes;
        uint8_t *blob = read_file_aligned(g_blobs[b], &bytes);
        assert_non_null(blob);
        loaded l;
        load(&l, blob, bytes);
        const uint32_t w = l.info.window_samples, dim = l.info.embedding_dim;
        float *huge = window_of(w, 1e38f), *clamped = window_of(w, 16.0f);   /* default input_clip: 16 g */
        const char *clip = NULL;
        if (relcon_meta(blob, bytes, "input_clip", &clip) == RELCON_OK) {
            float c = strtof(clip, NULL);
            free(clamped);
            clamped = window_of(w, c);
        }
        float *e1 = malloc(4 * dim), *e2 = malloc(4 * dim);
        assert_int_equal(relcon_embed(l.s, huge, w, e1, dim), RELCON_OK);
        assert_int_equal(relcon_embed(l.s, clamped, w, e2, dim), RELCON_OK);
        for (uint32_t i = 0; i < dim; i++) assert_true(isfinite(e1[i]));
        assert_memory_equal(e1, e2, 4 * dim);
        if (l.cls != UINT32_MAX) {
            float p[64];
            uint32_t top, votes[64], nw;
            assert_int_equal(relcon_classify(l.s, huge, w, l.cls, p, 64, &top), RELCON_OK);
            assert_true(isfinite(p[top]));
            assert_int_equal(relcon_classify_recording(l.s, huge, 4 * w, w, l.cls, votes, 64, &top, &nw), RELCON_OK);
        }
        if (l.reg != UINT32_MAX) {
            float v;
            uint32_t nw;
            assert_int_equal(relcon_regress(l.s, huge, w, l.reg, &v), RELCON_OK);
            assert_true(isfinite(v));
            assert_int_equal(relcon_regress_recording(l.s, huge, 4 * w, w, l.reg, &v, &nw), RELCON_OK);
            assert_true(isfinite(v));
        }
        free(e1); free(e2); free(huge); free(clamped); free(l.arena); free(blob);
    }
}


/* The input_clip metadata key: the blob's "created_by" pair (same key length) rewritten in place. */
static uint8_t *with_input_clip(const char *path, size_t *bytes, const char *digits_or_junk, int junk) {
    uint8_t *b = read_file_aligned(path, bytes);
    assert_non_null(b);
    uint32_t off = rd32(b, 44), len = rd32(b, 48);
    uint8_t *m = b + off;
    for (uint32_t i = 0; i + 11 < len; i++) {
        if (memcmp(m + i, "created_by", 11) != 0 || (i > 0 && m[i - 1] != 0)) continue;
        memcpy(m + i, "input_clip", 10);
        uint8_t *v = m + i + 11;
        size_t vl = strlen((char *)v);
        assert_true(vl >= 3);
        if (junk) { memset(v, 'x', vl); }
        else {   /* "8" then ".000..." to the same length */
            memset(v, '0', vl);
            v[0] = (uint8_t)digits_or_junk[0];
            v[1] = '.';
        }
        fix_crc(b);
        return b;
    }
    fail_msg("%s has no created_by key", path);
    return NULL;
}

static void test_input_clip_key(void **state) {
    (void)state;
    size_t bytes;
    relcon_model_info info;
    uint8_t *bad = with_input_clip(g_blobs[0], &bytes, NULL, 1);
    assert_int_equal(relcon_inspect(bad, bytes, 0, &info), RELCON_E_BLOB_METADATA);
    free(bad);
    uint8_t *blob = with_input_clip(g_blobs[0], &bytes, "8", 0);
    const char *v;
    assert_int_equal(relcon_meta(blob, bytes, "input_clip", &v), RELCON_OK);
    assert_true(strtof(v, NULL) == 8.0f);
    loaded l;
    load(&l, blob, bytes);
    const uint32_t w = l.info.window_samples, dim = l.info.embedding_dim;
    float *huge = window_of(w, 1e38f), *at8 = window_of(w, 8.0f), *at16 = window_of(w, 16.0f);
    float *e1 = malloc(4 * dim), *e2 = malloc(4 * dim), *e3 = malloc(4 * dim);
    assert_int_equal(relcon_embed(l.s, huge, w, e1, dim), RELCON_OK);
    assert_int_equal(relcon_embed(l.s, at8, w, e2, dim), RELCON_OK);
    assert_int_equal(relcon_embed(l.s, at16, w, e3, dim), RELCON_OK);
    assert_memory_equal(e1, e2, 4 * dim);                 /* clamped at the key's 8 g */
    assert_memory_equal(e2, e3, 4 * dim);                 /* 16 g is beyond it too */
    free(e1); free(e2); free(e3); free(huge); free(at8); free(at16); free(l.arena); free(blob);
}

/* D1, part 2: weights that overflow give RELCON_E_OUTPUT_NOT_FINITE everywhere, nothing written. */
static void test_overflowing_weights(void **state) {
    (void)state;
    size_t bytes;
    uint8_t *blob = read_file_aligned(g_blobs[0], &bytes);
    assert_non_null(blob);
    relcon_model_info info;
    assert_int_equal(relcon_inspect(blob, bytes, 0, &info), RELCON_OK);
    assert_int_equal(info.weight_dtype, RELCON_DTYPE_F32);
    /* tensor 0 (the stem's weight): every value 3e38, finite */
    uint32_t table = rd32(blob, 28);
    assert_int_equal(rd32(blob, table), RELCON_DTYPE_F32);
    uint32_t off = rd32(blob, table + 20), n = rd32(blob, table + 24) / 4;
    for (uint32_t i = 0; i < n; i++) { float v = (i % 2) ? 3e38f : -3e38f; memcpy(blob + off + 4 * i, &v, 4); }
    fix_crc(blob);
    loaded l;
    load(&l, blob, bytes);
    assert_true(l.cls != UINT32_MAX && l.reg != UINT32_MAX);
    const uint32_t w = l.info.window_samples, dim = l.info.embedding_dim;
    float *x = window_of(w, 0);
    float out[256], keep[256];
    for (int i = 0; i < 256; i++) keep[i] = out[i] = 777.0f;
    uint32_t top = 4242, nw = 4242, votes[64];
    float v = 777.0f;
    assert_true(dim <= 256);
    assert_int_equal(relcon_embed(l.s, x, w, out, dim), RELCON_E_OUTPUT_NOT_FINITE);
    assert_memory_equal(out, keep, sizeof out);
    assert_int_equal(relcon_classify(l.s, x, w, l.cls, out, 64, &top), RELCON_E_OUTPUT_NOT_FINITE);
    assert_memory_equal(out, keep, sizeof out);
    assert_int_equal(top, 4242);
    assert_int_equal(relcon_regress(l.s, x, w, l.reg, &v), RELCON_E_OUTPUT_NOT_FINITE);
    assert_true(v == 777.0f);
    assert_int_equal(relcon_classify_recording(l.s, x, 4 * w, w, l.cls, votes, 64, &top, &nw), RELCON_E_OUTPUT_NOT_FINITE);
    assert_int_equal(top, 4242);
    assert_int_equal(relcon_regress_recording(l.s, x, 4 * w, w, l.reg, &v, &nw), RELCON_E_OUTPUT_NOT_FINITE);
    assert_true(v == 777.0f && nw == 4242);
    float err = 0;
    relcon_status st = relcon_selftest(l.s, &err);
    if (st != RELCON_E_NOT_FOUND) {
        assert_int_equal(st, RELCON_E_SELFTEST_FAILED);
        assert_true(isinf(err));
    }
    /* the session is intact: the status is not SESSION_INVALID, and the stream reports the same */
    relcon_stream_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_rate_hz = 50;
    uint64_t sb;
    assert_int_equal(relcon_stream_arena_bytes(blob, bytes, &cfg, &sb), RELCON_OK);
    void *sa = aligned_alloc(64, (sb + 63) & ~(uint64_t)63);
    relcon_stream *stream;
    assert_int_equal(relcon_stream_init(blob, bytes, &cfg, sa, sb, &stream), RELCON_OK);
    relcon_status last = RELCON_OK;
    uint32_t pos = 0, fails = 0;
    while (pos < 2 * w) {
        relcon_stream_result r;
        uint32_t used;
        last = relcon_stream_push_f32(stream, x + 3 * pos, 2 * w - pos, RELCON_STREAM_NO_TIME, &used, &r);
        assert_true(last == RELCON_OK || last == RELCON_E_OUTPUT_NOT_FINITE);
        assert_int_equal(r.ready, 0);
        if (last != RELCON_OK) fails++;
        pos += used;
    }
    assert_true(fails >= 1);
    free(sa); free(x); free(l.arena); free(blob);
}

/* D3: copies of a session's control block are not sessions. */
static void test_session_copies_refused(void **state) {
    (void)state;
    for (int b = 0; b < g_n_blobs; b++) {
        size_t bytes;
        uint8_t *blob = read_file_aligned(g_blobs[b], &bytes);
        loaded l;
        load(&l, blob, bytes);
        const uint32_t w = l.info.window_samples, dim = l.info.embedding_dim;
        float *x = window_of(w, 0);
        float *e = malloc(4 * dim), p[64], v, err;
        uint32_t top, nw, votes[64];
        void *copy128 = aligned_alloc(64, 128);
        memcpy(copy128, l.arena, 128);
        void *copy_all = aligned_alloc(64, (l.info.arena_bytes + 63) & ~(uint64_t)63);
        memcpy(copy_all, l.arena, l.info.arena_bytes);
        relcon_session *bad[2] = {(relcon_session *)copy128, (relcon_session *)copy_all};
        for (int c = 0; c < 2; c++) {
            assert_int_equal(relcon_embed(bad[c], x, w, e, dim), RELCON_E_SESSION_INVALID);
            assert_int_equal(relcon_classify(bad[c], x, w, 0, p, 64, &top), RELCON_E_SESSION_INVALID);
            assert_int_equal(relcon_regress(bad[c], x, w, 0, &v), RELCON_E_SESSION_INVALID);
            assert_int_equal(relcon_classify_recording(bad[c], x, 4 * w, w, 0, votes, 64, &top, &nw), RELCON_E_SESSION_INVALID);
            assert_int_equal(relcon_regress_recording(bad[c], x, 4 * w, w, 0, &v, &nw), RELCON_E_SESSION_INVALID);
            assert_int_equal(relcon_selftest(bad[c], &err), RELCON_E_SESSION_INVALID);
        }
        assert_int_equal(relcon_embed(l.s, x, w, e, dim), RELCON_OK);   /* the original still works */
        free(copy128); free(copy_all); free(e); free(x); free(l.arena); free(blob);
    }
}

/* The statuses of relcon_resample(_info) and of the stream functions. */
static void test_stream_statuses(void **state) {
    (void)state;
    size_t bytes;
    uint8_t *blob = read_file_aligned(g_blobs[0], &bytes);
    relcon_resample_desc d;
    const double bad_rates[] = {0, -50, 0.5, 1e-5, 1e-300, 5000.5, 1e6, 1e9, 1e30, INFINITY, NAN};
    for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++)
        assert_int_equal(relcon_resample_info(bad_rates[i], 100, &d), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_resample_info(50, 0, &d), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_resample_info(50, 100, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_resample_info(1, 100, &d), RELCON_OK);
    assert_int_equal(relcon_resample_info(5000, 100, &d), RELCON_OK);
    assert_int_equal(relcon_resample_info(50, 100, &d), RELCON_OK);
    assert_true(d.up == 2 && d.down == 1 && d.taps > 0);
    float in[3 * 64], out[3 * 200];
    for (int i = 0; i < 3 * 64; i++) in[i] = 1.0f;
    void *work = aligned_alloc(64, (d.work_bytes + 63) & ~(uint64_t)63);
    uint32_t n = 0;
    assert_int_equal(relcon_resample(50, 100, in, 64, work, d.work_bytes, out, 127, &n), RELCON_OK);
    assert_int_equal(n, 127);
    assert_int_equal(relcon_resample(50, 100, in, 64, work, d.work_bytes, out, 126, &n), RELCON_E_BUFFER_TOO_SMALL);
    assert_int_equal(relcon_resample(50, 100, in, 64, work, d.work_bytes - 1, out, 200, &n), RELCON_E_ARENA_TOO_SMALL);
    assert_int_equal(relcon_resample(50, 100, in, 64, (char *)work + 4, d.work_bytes, out, 200, &n), RELCON_E_ARENA_MISALIGNED);
    assert_int_equal(relcon_resample(50, 100, in, 0, work, d.work_bytes, out, 200, &n), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_resample(1e6, 100, in, 64, work, d.work_bytes, out, 200, &n), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_resample(50, 100, NULL, 64, work, d.work_bytes, out, 200, &n), RELCON_E_NULL_ARGUMENT);
    in[10] = NAN;
    assert_int_equal(relcon_resample(50, 100, in, 64, work, d.work_bytes, out, 200, &n), RELCON_E_INPUT_NOT_FINITE);
    for (int i = 0; i < 3 * 64; i++) in[i] = (i % 2) ? 3e38f : -3e38f;
    assert_int_equal(relcon_resample(50, 100, in, 64, work, d.work_bytes, out, 200, &n), RELCON_E_OUTPUT_NOT_FINITE);
    free(work);

    relcon_stream_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_rate_hz = 52;
    uint64_t need = 0;
    relcon_model_info info;
    assert_int_equal(relcon_inspect(blob, bytes, 0, &info), RELCON_OK);
    relcon_stream_config bad = cfg;
    bad.input_rate_hz = 0.5;
    assert_int_equal(relcon_stream_arena_bytes(blob, bytes, &bad, &need), RELCON_E_INVALID_ARGUMENT);
    bad = cfg; bad.input_rate_hz = NAN;
    assert_int_equal(relcon_stream_arena_bytes(blob, bytes, &bad, &need), RELCON_E_INVALID_ARGUMENT);
    bad = cfg; bad.hop = info.window_samples + 1;
    assert_int_equal(relcon_stream_arena_bytes(blob, bytes, &bad, &need), RELCON_E_INVALID_ARGUMENT);
    bad = cfg; bad.reserved[2] = 1;
    assert_int_equal(relcon_stream_arena_bytes(blob, bytes, &bad, &need), RELCON_E_INVALID_ARGUMENT);
    bad = cfg; bad.count_scale[1] = INFINITY;
    assert_int_equal(relcon_stream_arena_bytes(blob, bytes, &bad, &need), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_stream_arena_bytes(NULL, bytes, &cfg, &need), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_stream_arena_bytes(blob, 100, &cfg, &need), RELCON_E_BLOB_TOO_SMALL);
    assert_int_equal(relcon_stream_arena_bytes(blob, bytes, &cfg, &need), RELCON_OK);
    assert_true(need > info.arena_bytes);
    char *arena = aligned_alloc(64, (need + 128 + 63) & ~(uint64_t)63);
    relcon_stream *st = NULL;
    assert_int_equal(relcon_stream_init(blob, bytes, &cfg, arena + 8, need, &st), RELCON_E_ARENA_MISALIGNED);
    assert_int_equal(relcon_stream_init(blob, bytes, &cfg, arena, need - 1, &st), RELCON_E_ARENA_TOO_SMALL);
    assert_null(st);
    assert_int_equal(relcon_stream_init(blob, bytes, &cfg, arena, need, &st), RELCON_OK);
    relcon_session *ss = NULL;
    assert_int_equal(relcon_stream_session(st, &ss), RELCON_OK);
    float sample[3 * 8] = {0};
    relcon_stream_result r;
    uint32_t used = 99;
    assert_int_equal(relcon_stream_push_f32(st, NULL, 3, -1, &used, &r), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_stream_push_f32(st, NULL, 0, -1, &used, &r), RELCON_OK);
    assert_int_equal(used, 0);
    sample[3 * 5 + 1] = NAN;
    assert_int_equal(relcon_stream_push_f32(st, sample, 8, -1, &used, &r), RELCON_E_INPUT_NOT_FINITE);
    assert_int_equal(used, 5);
    assert_int_equal(r.ready, 0);
    assert_int_equal(relcon_stream_gap(st), RELCON_OK);
    assert_int_equal(relcon_stream_gap(NULL), RELCON_E_NULL_ARGUMENT);
    static char garbage[4096] __attribute__((aligned(64)));
    memset(garbage, 0x5A, sizeof garbage);
    assert_int_equal(relcon_stream_push_f32((relcon_stream *)garbage, sample, 1, -1, &used, &r), RELCON_E_SESSION_INVALID);
    assert_int_equal(relcon_stream_gap((relcon_stream *)garbage), RELCON_E_SESSION_INVALID);
    void *copy = aligned_alloc(64, 256);
    memcpy(copy, arena, 256);
    assert_int_equal(relcon_stream_push_f32((relcon_stream *)copy, sample, 1, -1, &used, &r), RELCON_E_SESSION_INVALID);
    assert_int_equal(relcon_stream_session((relcon_stream *)copy, &ss), RELCON_E_SESSION_INVALID);
    free(copy);
    /* a damaged immutable byte: refused */
    arena[40] ^= 1;
    assert_int_equal(relcon_stream_push_f32(st, sample, 1, -1, &used, &r), RELCON_E_SESSION_INVALID);
    free(arena);
    free(blob);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: test_defined F32_HEADS_BLOB [BLOB ...]\n"); return 2; }
    g_blobs = (const char **)(argv + 1);
    g_n_blobs = argc - 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_input_is_clamped),
        cmocka_unit_test(test_input_clip_key),
        cmocka_unit_test(test_overflowing_weights),
        cmocka_unit_test(test_session_copies_refused),
        cmocka_unit_test(test_stream_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
