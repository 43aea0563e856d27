/* cmocka: embeddings computed in C through librelcon.so match the PyTorch fp32 model on real windows.
 *
 *   test_golden BLOB GOLDEN [BLOB GOLDEN ...]
 *
 * Each pair is a blob and golden vectors written by `relcon-export golden` (Tests/Fixtures/README.md): real
 * windows from ../shared/data and the embeddings PyTorch computed for them (eval mode, unfolded BatchNorm).
 * Criterion per window: max_i |c_i - p_i| <= 1e-4 * max_i |p_i| (relative error <= 1e-4, elementwise
 * against the embedding's scale), and cosine similarity >= 0.99999.
 *
 * Exact mode: golden files of version 2 with the bit-exact flag (int8 blobs: the expected embeddings are the
 * NumPy integer reference's, export/relcon_export/intref.py) must be matched bit for bit: every output float's
 * 32-bit pattern equals the expected one. The blob's precision must be the golden file's.
 */
#include <math.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

typedef struct pair {
    const char *blob;
    const char *golden;
} pair;

static void test_golden_pair(void **state) {
    const pair *p = *state;
    size_t blob_bytes = 0;
    void *blob = read_file_aligned(p->blob, &blob_bytes);
    if (!blob) fail_msg("cannot read %s", p->blob);
    golden g;
    if (golden_load(p->golden, &g) != 0) fail_msg("cannot read golden vectors %s", p->golden);

    relcon_model_info info;
    relcon_status st = relcon_inspect(blob, blob_bytes, g.n_samples, &info);
    if (st != RELCON_OK) fail_msg("inspect %s: %s", p->blob, relcon_status_string(st));
    assert_int_equal(info.embedding_dim, g.dim);
    assert_int_equal(info.input_channels, g.channels);
    assert_int_equal(info.weight_dtype, g.precision);
    int exact = (g.flags & GOLDEN_FLAG_BIT_EXACT) != 0;
    uint32_t mismatched = 0;
    void *arena = aligned_alloc(RELCON_ARENA_ALIGN, (info.arena_bytes + 63) & ~(uint64_t)63);
    relcon_session *s = NULL;
    assert_int_equal(relcon_session_init(blob, blob_bytes, g.n_samples, arena, info.arena_bytes, &s), RELCON_OK);

    float *out = malloc(sizeof(float) * g.dim);
    double worst_rel = 0.0, worst_cos = 1.0;
    for (uint32_t w = 0; w < g.n_windows; w++) {
        const float *x = g.inputs + (size_t)w * g.n_samples * g.channels;
        const float *want = g.embeddings + (size_t)w * g.dim;
        assert_int_equal(relcon_embed(s, x, g.n_samples, out, g.dim), RELCON_OK);
        double max_err = 0.0, max_ref = 0.0, dot = 0.0, na = 0.0, nb = 0.0;
        for (uint32_t i = 0; i < g.dim; i++) {
            double e = fabs((double)out[i] - want[i]);
            if (e > max_err) max_err = e;
            if (fabs(want[i]) > max_ref) max_ref = fabs(want[i]);
            dot += (double)out[i] * want[i];
            na += (double)out[i] * out[i];
            nb += (double)want[i] * want[i];
        }
        if (exact) {
            uint32_t diff = 0;
            for (uint32_t i = 0; i < g.dim; i++) diff += memcmp(&out[i], &want[i], sizeof(float)) != 0;
            if (diff) fail_msg("%s window %u: %u of %u outputs differ from the bit-exact reference (max |err| %.3g)",
                               p->blob, w, diff, g.dim, max_err);
            mismatched += diff;
        }
        double rel = max_err / (max_ref > 0 ? max_ref : 1.0);
        double cos = dot / (sqrt(na) * sqrt(nb) + 1e-30);
        if (rel > worst_rel) worst_rel = rel;
        if (cos < worst_cos) worst_cos = cos;
        if (rel > 1e-4 || cos < 0.99999)
            fail_msg("%s window %u: relative error %.3g (limit 1e-4), cosine %.8f", p->blob, w, rel, cos);
    }
    printf("[ golden   ] %s: %u windows x %u samples, dim %u, %s, worst relative error %.3g, worst cosine %.9f, arena %llu B\n",
           p->blob, g.n_windows, g.n_samples, g.dim, exact ? "bit-exact (all outputs identical)" : "tolerance",
           worst_rel, worst_cos, (unsigned long long)info.arena_bytes);
    (void)mismatched;
    free(out);
    free(arena);
    free(g.storage);
    free(blob);
}

int main(int argc, char **argv) {
    if (argc < 3 || (argc - 1) % 2 != 0) {
        fprintf(stderr, "usage: %s BLOB GOLDEN [BLOB GOLDEN ...]\n", argv[0]);
        return 2;
    }
    int n = (argc - 1) / 2;
    pair *pairs = calloc((size_t)n, sizeof *pairs);
    struct CMUnitTest *tests = calloc((size_t)n, sizeof *tests);
    for (int i = 0; i < n; i++) {
        pairs[i].blob = argv[1 + 2 * i];
        pairs[i].golden = argv[2 + 2 * i];
        tests[i].name = pairs[i].blob;
        tests[i].test_func = test_golden_pair;
        tests[i].initial_state = &pairs[i];
    }
    int failures = _cmocka_run_group_tests("golden", tests, (size_t)n, NULL, NULL);
    free(tests);
    free(pairs);
    return failures;
}
