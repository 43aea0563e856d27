/* cmocka: heads and the self-test (include/relcon.h "Heads (0.3)", "Self-test (0.3)") on the committed fixtures
 * fixtures `make fixtures` writes to .build/fixtures (RELCON_HEAD_FIXTURES; not committed: the committed fixtures
 * stay under 200 kB): tiny{,_int8,_f16}_heads.blob (a 3-class classifier "activity" and a regressor "speed" plus
 * a self-test vector) against <name>.heads.golden: per window the classifier's softmax probabilities and the
 * regressor's value, computed by the exporter (relcon_export.heads.predict); bad_heads/ single defects. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>

#include "test_util.h"

typedef struct fixture {
    void *blob;
    size_t blob_bytes;
    relcon_model_info info;
    void *arena;
    relcon_session *s;
    golden g;
} fixture;

static const char *head_dir(void) {
    const char *d = getenv("RELCON_HEAD_FIXTURES");
    return d && *d ? d : ".build/fixtures";
}

static void load(fixture *f, const char *name) {
    char path[512];
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/%s.blob", head_dir(), name);
    f->blob = read_file_aligned(path, &f->blob_bytes);
    if (!f->blob) fail_msg("cannot read %s", path);
    assert_int_equal(relcon_inspect(f->blob, f->blob_bytes, 0, &f->info), RELCON_OK);
    f->arena = aligned_alloc(64, (f->info.arena_bytes + 63) & ~(uint64_t)63);
    assert_int_equal(relcon_session_init(f->blob, f->blob_bytes, 0, f->arena, f->info.arena_bytes, &f->s), RELCON_OK);
    snprintf(path, sizeof path, "%s/%s.heads.golden", head_dir(), name);
    if (golden_load(path, &f->g) != 0) fail_msg("cannot read %s", path);
    assert_int_equal(f->g.n_samples, f->info.window_samples);
    assert_int_equal(f->g.dim, 4); /* 3 probabilities + 1 value */
}

static void unload(fixture *f) {
    free(f->arena);
    free(f->blob);
    free(f->g.storage);
}

static const char *const k_fixtures[] = {"tiny_heads", "tiny_int8_heads", "tiny_f16_heads"};

static void test_describe(void **state) {
    (void)state;
    for (size_t b = 0; b < sizeof k_fixtures / sizeof *k_fixtures; b++) {
        fixture f;
        load(&f, k_fixtures[b]);
        uint32_t n = 99;
        assert_int_equal(relcon_head_count(f.blob, f.blob_bytes, &n), RELCON_OK);
        assert_int_equal(n, 2);
        relcon_head_desc d;
        assert_int_equal(relcon_head_info(f.blob, f.blob_bytes, 0, &d), RELCON_OK);
        assert_string_equal(d.name, "activity");
        assert_int_equal(d.kind, RELCON_HEAD_CLASSIFIER);
        assert_int_equal(d.n_outputs, 3);
        assert_null(d.target);
        assert_null(d.unit);
        const char *names[] = {"walk", "sit", "stand"};
        for (uint32_t k = 0; k < 3; k++) {
            const char *c = NULL;
            assert_int_equal(relcon_head_class_name(f.blob, f.blob_bytes, 0, k, &c), RELCON_OK);
            assert_string_equal(c, names[k]);
        }
        assert_int_equal(relcon_head_info(f.blob, f.blob_bytes, 1, &d), RELCON_OK);
        assert_string_equal(d.name, "speed");
        assert_int_equal(d.kind, RELCON_HEAD_REGRESSOR);
        assert_int_equal(d.n_outputs, 1);
        assert_string_equal(d.target, "walking_speed");
        assert_string_equal(d.unit, "m/s");
        unload(&f);
    }
}

static void test_classify_regress_match_python(void **state) {
    (void)state;
    for (size_t b = 0; b < sizeof k_fixtures / sizeof *k_fixtures; b++) {
        fixture f;
        load(&f, k_fixtures[b]);
        const golden *g = &f.g;
        double worst_p = 0, worst_v = 0;
        for (uint32_t w = 0; w < g->n_windows; w++) {
            const float *x = g->inputs + (size_t)w * g->n_samples * 3;
            const float *e = g->embeddings + (size_t)w * 4;
            float p[3] = {0};
            uint32_t top = 99;
            assert_int_equal(relcon_classify(f.s, x, g->n_samples, 0, p, 3, &top), RELCON_OK);
            uint32_t want = 0;
            for (uint32_t k = 0; k < 3; k++) {
                worst_p = fmax(worst_p, fabs((double)p[k] - e[k]));
                if (e[k] > e[want]) want = k;
            }
            assert_int_equal(top, want);
            assert_true(fabs((double)p[0] + p[1] + p[2] - 1.0) < 1e-6);
            float v = NAN;
            assert_int_equal(relcon_regress(f.s, x, g->n_samples, 1, &v), RELCON_OK);
            worst_v = fmax(worst_v, fabs((double)v - e[3]) / fmax(1.0, fabs(e[3])));
        }
        printf("[ heads ] %s: %u windows, max |p - p_python| %.3g, max rel value error %.3g\n", k_fixtures[b],
               g->n_windows, worst_p, worst_v);
        assert_true(worst_p <= 1e-4);
        assert_true(worst_v <= 1e-4);
        /* Heads do not change the embedding: relcon_embed stops at output_value. */
        unload(&f);
    }
}

static void test_recording_matches_per_window(void **state) {
    (void)state;
    fixture f;
    load(&f, "tiny_heads");
    const golden *g = &f.g;
    uint32_t t = g->n_samples, n_total = g->n_windows * t;
    for (uint32_t hop = t / 2; hop <= t; hop += t / 2) {
        uint32_t votes[8], top = 99, windows = 0;
        memset(votes, 0xEE, sizeof votes);
        assert_int_equal(relcon_classify_recording(f.s, g->inputs, n_total, hop, 0, votes, 8, &top, &windows), RELCON_OK);
        assert_int_equal(windows, (n_total - t) / hop + 1);
        uint32_t want[3] = {0, 0, 0};
        double sum = 0;
        for (uint32_t w = 0; w < windows; w++) {
            float p[3];
            uint32_t c;
            float v;
            assert_int_equal(relcon_classify(f.s, g->inputs + (size_t)w * hop * 3, t, 0, p, 3, &c), RELCON_OK);
            assert_int_equal(relcon_regress(f.s, g->inputs + (size_t)w * hop * 3, t, 1, &v), RELCON_OK);
            want[c]++;
            sum += v;
        }
        uint32_t best = 0;
        for (uint32_t k = 0; k < 3; k++) {
            assert_int_equal(votes[k], want[k]);
            if (want[k] > want[best]) best = k;
        }
        assert_int_equal(votes[3], 0xEEEEEEEEu); /* only K counters written */
        assert_int_equal(top, best);
        float mean = NAN;
        uint32_t wn = 0;
        assert_int_equal(relcon_regress_recording(f.s, g->inputs, n_total, hop, 1, &mean, &wn), RELCON_OK);
        assert_int_equal(wn, windows);
        assert_true(fabs(mean - sum / windows) <= 1e-6 * fmax(1.0, fabs(sum / windows)));
    }
    unload(&f);
}

static void test_selftest(void **state) {
    (void)state;
    for (size_t b = 0; b < sizeof k_fixtures / sizeof *k_fixtures; b++) {
        fixture f;
        load(&f, k_fixtures[b]);
        float err = -1;
        assert_int_equal(relcon_selftest(f.s, &err), RELCON_OK);
        printf("[ selftest ] %s: max relative error %.3g\n", k_fixtures[b], err);
        if (f.info.weight_dtype == RELCON_DTYPE_I8) assert_true(err == 0.0f);
        /* Corrupt the expected embedding in place (as flash damage after boot would): detected. */
        const char *idx = NULL;
        assert_int_equal(relcon_meta(f.blob, f.blob_bytes, "selftest_output", &idx), RELCON_OK);
        uint32_t t = (uint32_t)atoi(idx);
        const uint8_t *base = (const uint8_t *)f.blob;
        uint32_t tt, off;
        memcpy(&tt, base + 28, 4);
        memcpy(&off, base + tt + 32 * t + 20, 4);
        float *expected = (float *)((uint8_t *)f.blob + off);
        expected[0] += 0.5f + fabsf(expected[0]);
        err = -1;
        assert_int_equal(relcon_selftest(f.s, &err), RELCON_E_SELFTEST_FAILED);
        assert_true(err > 0.01f);
        unload(&f);
    }
}

static void test_invalid_arguments(void **state) {
    (void)state;
    fixture f;
    load(&f, "tiny_heads");
    const float *x = f.g.inputs;
    uint32_t t = f.g.n_samples, n = 0, top = 0, votes[4], wn = 0;
    float p[3], v, err;
    relcon_head_desc d;
    const char *c;

    assert_int_equal(relcon_head_count(NULL, f.blob_bytes, &n), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_head_count(f.blob, f.blob_bytes, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_head_count(f.blob, 64, &n), RELCON_E_BLOB_TOO_SMALL);
    assert_int_equal(relcon_head_info(NULL, f.blob_bytes, 0, &d), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_head_info(f.blob, f.blob_bytes, 0, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_head_info(f.blob, f.blob_bytes, 2, &d), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_head_info(f.blob, f.blob_bytes, UINT32_MAX, &d), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_head_class_name(NULL, f.blob_bytes, 0, 0, &c), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_head_class_name(f.blob, f.blob_bytes, 0, 0, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_head_class_name(f.blob, f.blob_bytes, 0, 3, &c), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_head_class_name(f.blob, f.blob_bytes, 1, 0, &c), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_head_class_name(f.blob, f.blob_bytes, 2, 0, &c), RELCON_E_NO_SUCH_HEAD);

    assert_int_equal(relcon_classify(NULL, x, t, 0, p, 3, &top), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify(f.s, NULL, t, 0, p, 3, &top), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify(f.s, x, t, 0, NULL, 3, &top), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify(f.s, x, t, 0, p, 3, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify(f.s, x, t, 2, p, 3, &top), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_classify(f.s, x, t, 1, p, 3, &top), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_classify(f.s, x, t, 0, p, 2, &top), RELCON_E_BUFFER_TOO_SMALL);
    assert_int_equal(relcon_classify(f.s, x, 5, 0, p, 3, &top), RELCON_E_WINDOW_TOO_SHORT);
    assert_int_equal(relcon_classify(f.s, x, t + 1, 0, p, 3, &top), RELCON_E_WINDOW_TOO_LONG);
    assert_int_equal(relcon_classify((relcon_session *)((char *)f.arena + 64), x, t, 0, p, 3, &top),
                     RELCON_E_SESSION_INVALID);
    assert_int_equal(relcon_classify((relcon_session *)((char *)f.arena + 1), x, t, 0, p, 3, &top),
                     RELCON_E_SESSION_INVALID);

    assert_int_equal(relcon_regress(NULL, x, t, 1, &v), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_regress(f.s, NULL, t, 1, &v), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_regress(f.s, x, t, 1, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_regress(f.s, x, t, 0, &v), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_regress(f.s, x, t, 7, &v), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_regress(f.s, x, 3, 1, &v), RELCON_E_WINDOW_TOO_SHORT);

    uint32_t total = f.g.n_windows * t;
    assert_int_equal(relcon_classify_recording(NULL, x, total, t, 0, votes, 4, &top, &wn), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify_recording(f.s, NULL, total, t, 0, votes, 4, &top, &wn), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify_recording(f.s, x, total, t, 0, NULL, 4, &top, &wn), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify_recording(f.s, x, total, t, 0, votes, 4, NULL, &wn), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify_recording(f.s, x, total, t, 0, votes, 4, &top, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_classify_recording(f.s, x, total, t, 1, votes, 4, &top, &wn), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_classify_recording(f.s, x, total, t, 2, votes, 4, &top, &wn), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_classify_recording(f.s, x, total, t, 0, votes, 2, &top, &wn), RELCON_E_BUFFER_TOO_SMALL);
    assert_int_equal(relcon_classify_recording(f.s, x, total, 0, 0, votes, 4, &top, &wn), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_classify_recording(f.s, x, t - 1, t, 0, votes, 4, &top, &wn), RELCON_E_WINDOW_TOO_SHORT);
    assert_int_equal(relcon_regress_recording(NULL, x, total, t, 1, &v, &wn), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_regress_recording(f.s, NULL, total, t, 1, &v, &wn), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_regress_recording(f.s, x, total, t, 1, NULL, &wn), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_regress_recording(f.s, x, total, t, 1, &v, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_regress_recording(f.s, x, total, t, 0, &v, &wn), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_regress_recording(f.s, x, total, t, 9, &v, &wn), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_regress_recording(f.s, x, total, 0, 1, &v, &wn), RELCON_E_INVALID_ARGUMENT);
    assert_int_equal(relcon_regress_recording(f.s, x, 2, t, 1, &v, &wn), RELCON_E_WINDOW_TOO_SHORT);
    /* A NaN anywhere in the recording (also past the last full window's start) is found before any window runs. */
    float *rec = aligned_alloc(64, sizeof(float) * 3 * total);
    memcpy(rec, x, sizeof(float) * 3 * total);
    rec[3 * total - 1] = NAN;
    assert_int_equal(relcon_classify_recording(f.s, rec, total, t, 0, votes, 4, &top, &wn), RELCON_E_INPUT_NOT_FINITE);
    assert_int_equal(relcon_regress_recording(f.s, rec, total, t, 1, &v, &wn), RELCON_E_INPUT_NOT_FINITE);
    rec[0] = INFINITY;
    assert_int_equal(relcon_classify(f.s, rec, t, 0, p, 3, &top), RELCON_E_INPUT_NOT_FINITE);
    free(rec);

    assert_int_equal(relcon_selftest(NULL, &err), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_selftest(f.s, NULL), RELCON_E_NULL_ARGUMENT);
    assert_int_equal(relcon_selftest((relcon_session *)((char *)f.arena + 128), &err), RELCON_E_SESSION_INVALID);
    /* A session planned for shorter windows cannot run the stored window. */
    relcon_session *small = NULL;
    assert_int_equal(relcon_session_init(f.blob, f.blob_bytes, 128, f.arena, f.info.arena_bytes, &small), RELCON_OK);
    assert_int_equal(relcon_selftest(small, &err), RELCON_E_WINDOW_TOO_LONG);
    unload(&f);

    /* A blob without heads or self-test vector. */
    char path[512];
    size_t bytes = 0;
    fixture_path(path, sizeof path, "tiny.blob");
    void *blob = read_file_aligned(path, &bytes);
    relcon_model_info info;
    assert_int_equal(relcon_inspect(blob, bytes, 0, &info), RELCON_OK);
    void *arena = aligned_alloc(64, info.arena_bytes);
    relcon_session *s = NULL;
    assert_int_equal(relcon_session_init(blob, bytes, 0, arena, info.arena_bytes, &s), RELCON_OK);
    assert_int_equal(relcon_head_count(blob, bytes, &n), RELCON_OK);
    assert_int_equal(n, 0);
    assert_int_equal(relcon_head_info(blob, bytes, 0, &d), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_classify(s, x, t, 0, p, 3, &top), RELCON_E_NO_SUCH_HEAD);
    assert_int_equal(relcon_selftest(s, &err), RELCON_E_NOT_FOUND);
    free(arena);
    free(blob);
}

static void test_embedding_unchanged_by_heads(void **state) {
    (void)state;
    const char *pairs[][2] = {{"tiny", "tiny_heads"}, {"tiny_int8", "tiny_int8_heads"}};
    for (int b = 0; b < 2; b++) {
        fixture f;
        load(&f, pairs[b][1]);
        char path[512];
        size_t bytes = 0;
        snprintf(path, sizeof path, "%s/%s.blob", fixtures_dir(), pairs[b][0]);
        void *blob = read_file_aligned(path, &bytes);
        relcon_model_info info;
        assert_int_equal(relcon_inspect(blob, bytes, 0, &info), RELCON_OK);
        assert_int_equal(info.macs, f.info.macs);   /* macs count the embedding only */
        void *arena = aligned_alloc(64, info.arena_bytes);
        relcon_session *s = NULL;
        assert_int_equal(relcon_session_init(blob, bytes, 0, arena, info.arena_bytes, &s), RELCON_OK);
        float a[64], c[64];
        assert_int_equal(relcon_embed(s, f.g.inputs, f.g.n_samples, a, 64), RELCON_OK);
        assert_int_equal(relcon_embed(f.s, f.g.inputs, f.g.n_samples, c, 64), RELCON_OK);
        assert_memory_equal(a, c, sizeof(float) * info.embedding_dim);
        free(arena);
        free(blob);
        unload(&f);
    }
}

/* <RELCON_HEAD_FIXTURES>/bad_heads/<STATUS>__<defect>.blob (relcon_export.heads.make_head_defects): single head /
 * self-test defects with a valid CRC; inspect, session_init and head_count must all return <STATUS>. */
static void test_head_defects(void **state) {
    (void)state;
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/bad_heads", head_dir());
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        relcon_status want;
        if (strncmp(name, "RELCON_E_BLOB_METADATA__", 24) == 0) want = RELCON_E_BLOB_METADATA;
        else if (strncmp(name, "RELCON_E_BLOB_GRAPH__", 21) == 0) want = RELCON_E_BLOB_GRAPH;
        else continue;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t bytes = 0;
        void *blob = read_file_aligned(path, &bytes);
        if (!blob) fail_msg("cannot read %s", path);
        relcon_model_info info;
        uint32_t count;
        static _Alignas(64) uint8_t arena[1 << 16];
        relcon_session *s = NULL;
        relcon_status a = relcon_inspect(blob, bytes, 0, &info);
        relcon_status b = relcon_session_init(blob, bytes, 0, arena, sizeof arena, &s);
        relcon_status c = relcon_head_count(blob, bytes, &count);
        if (a != want || b != want || c != want)
            fail_msg("%s: inspect %d, session_init %d, head_count %d; want %d", name, a, b, c, want);
        free(blob);
        n++;
    }
    closedir(d);
    printf("[ heads ] %d head/self-test defect blobs rejected with their status\n", n);
    assert_true(n >= 15);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_classify_regress_match_python),
        cmocka_unit_test(test_recording_matches_per_window),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_embedding_unchanged_by_heads),
        cmocka_unit_test(test_head_defects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
