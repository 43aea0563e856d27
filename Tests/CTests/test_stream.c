/* cmocka: the streaming API (include/relcon.h, "Streaming") equals the batch API on the same resampled
 * windows, bit for bit, for every sensor rate in {25, 26, 50, 52, 100, 104, 200} Hz, for chunk sizes from 1 to
 * 4096 (fixed and mixed), across explicit gaps and timestamp gaps, for float and int16 input; no allocation
 * inside librelcon.so while streaming (malloc family interposed as in test_noalloc.c).
 *
 * Reference for each segment (the samples between two gaps): relcon_resample over the whole segment (the same
 * filter), cut at k0 = 0, hop, 2*hop, ...; relcon_embed / relcon_classify / relcon_regress on each window.
 * Streaming may only emit windows whose every tap is inside the segment; the test computes that count itself.
 * Equality is exact for every precision: one process, one kernel set (int8 results are bit-exact anywhere).
 *
 *   test_stream BLOB [BLOB ...]
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

/* RELCON_NO_INTERPOSE: the sanitizer builds (mk/fuzz.mk, test-sanitize) bring their own allocator; the
 * allocation count is then not checked (it is in the normal build). */
#include "heap_count.h"

static const char **g_blobs;
static unsigned long g_windows;   /* results compared */
static int g_n_blobs;
static const double RATES[] = {25, 26, 50, 52, 100, 104, 200};
#define N_RATES (sizeof RATES / sizeof RATES[0])

typedef struct model {
    void *blob;
    size_t blob_bytes;
    relcon_model_info info;
    uint32_t n_heads;
    relcon_head_desc heads[8];
    uint32_t head_outputs;
    void *arena;               /* batch session */
    relcon_session *s;
} model;

static void model_load(model *m, const char *path) {
    memset(m, 0, sizeof *m);
    m->blob = read_file_aligned(path, &m->blob_bytes);
    if (!m->blob) fail_msg("cannot read %s", path);
    assert_int_equal(relcon_inspect(m->blob, m->blob_bytes, 0, &m->info), RELCON_OK);
    assert_int_equal(relcon_head_count(m->blob, m->blob_bytes, &m->n_heads), RELCON_OK);
    assert_true(m->n_heads <= 8);
    for (uint32_t h = 0; h < m->n_heads; h++) {
        assert_int_equal(relcon_head_info(m->blob, m->blob_bytes, h, &m->heads[h]), RELCON_OK);
        m->head_outputs += m->heads[h].n_outputs;
    }
    m->arena = aligned_alloc(64, (m->info.arena_bytes + 63) & ~(uint64_t)63);
    assert_int_equal(relcon_session_init(m->blob, m->blob_bytes, 0, m->arena, m->info.arena_bytes, &m->s), RELCON_OK);
}

static void model_free(model *m) { free(m->arena); free(m->blob); }

/* A deterministic wrist-like signal in g at `rate`: gravity, a few sines, LCG noise. */
static float *signal(uint32_t n, double rate, uint32_t seed) {
    float *x = malloc(sizeof(float) * 3 * n);
    uint32_t s = seed;
    for (uint32_t i = 0; i < n; i++) {
        double t = i / rate;
        for (int a = 0; a < 3; a++) {
            s = s * 1664525u + 1013904223u;
            double noise = ((s >> 8) / 16777216.0 - 0.5) * 0.05;
            x[3 * i + a] = (float)((a == 2 ? 0.98 : 0.1 * a) + 0.4 * sin(2 * 3.14159265358979323846 * (1.7 + a) * t + a) +
                                   0.15 * sin(2 * 3.14159265358979323846 * 5.3 * t) + noise);
        }
    }
    return x;
}

/* Expected windows of a segment of n inputs: k0 = j*hop while output k0+W-1 has all its taps inside. */
static uint32_t expected_windows(const relcon_resample_desc *d, uint64_t n, uint32_t w, uint32_t hop) {
    uint32_t half = d->taps / 2, count = 0;
    for (uint64_t k0 = 0;; k0 += hop) {
        uint64_t k = k0 + w - 1;
        int ok = d->up == d->down ? k < n : (k * d->down / d->up + half < n);
        if (!ok) return count;
        count++;
    }
}

/* The batch reference of one segment: resampled samples. */
static float *batch(const model *m, double rate, const float *x, uint32_t n, uint32_t *out_n) {
    relcon_resample_desc d;
    assert_int_equal(relcon_resample_info(rate, m->info.sample_rate_hz, &d), RELCON_OK);
    void *work = d.work_bytes ? aligned_alloc(64, (d.work_bytes + 63) & ~(uint64_t)63) : NULL;
    uint32_t cap = (uint32_t)((uint64_t)(n - 1) * d.up / d.down + 1);
    float *y = malloc(sizeof(float) * 3 * cap);
    assert_int_equal(relcon_resample(rate, m->info.sample_rate_hz, x, n, work, d.work_bytes, y, cap, out_n), RELCON_OK);
    assert_int_equal(*out_n, cap);
    free(work);
    return y;
}

/* Compares one stream result with the batch API on window k0 of the segment's resampled samples. */
static void compare(const model *m, const relcon_stream_result *r, const float *y, uint32_t ny, uint64_t k0) {
    uint32_t w = m->info.window_samples;
    assert_true(k0 + w <= ny);
    float *e = malloc(sizeof(float) * m->info.embedding_dim);
    assert_int_equal(relcon_embed(m->s, y + 3 * k0, w, e, m->info.embedding_dim), RELCON_OK);
    if (memcmp(e, r->embedding, sizeof(float) * m->info.embedding_dim) != 0)
        fail_msg("window at k0=%llu: stream embedding differs from relcon_embed", (unsigned long long)k0);
    free(e);
    const float *ho = r->head_outputs;
    assert_int_equal(r->n_head_outputs, m->head_outputs);
    for (uint32_t h = 0; h < m->n_heads; h++) {
        if (m->heads[h].kind == RELCON_HEAD_CLASSIFIER) {
            float p[64];
            uint32_t top;
            assert_int_equal(relcon_classify(m->s, y + 3 * k0, w, h, p, 64, &top), RELCON_OK);
            assert_memory_equal(p, ho, sizeof(float) * m->heads[h].n_outputs);
        } else {
            float v;
            assert_int_equal(relcon_regress(m->s, y + 3 * k0, w, h, &v), RELCON_OK);
            assert_memory_equal(&v, ho, sizeof(float));
        }
        ho += m->heads[h].n_outputs;
    }
}

/* Chunk schedules: fixed sizes, then mixed sizes from an LCG in 1..4096. */
static const uint32_t FIXED[] = {1, 2, 3, 7, 64, 333, 1000, 4096};
#define N_FIXED (sizeof FIXED / sizeof FIXED[0])
static uint32_t chunk_size(int schedule, uint32_t *lcg) {
    if (schedule < (int)N_FIXED) return FIXED[schedule];
    *lcg = *lcg * 1103515245u + 12345u;
    uint32_t r = (*lcg >> 8) % 100;
    return r < 50 ? 1 + r % 16 : r < 90 ? 1 + (*lcg >> 4) % 512 : 1 + (*lcg >> 3) % 4096;
}
#define N_SCHEDULES ((int)N_FIXED + 2)

typedef enum { GAP_NONE, GAP_CALL, GAP_TIME } gap_kind;

/* Streams x (n samples at rate) with the given schedule; a gap after `split` samples (missing `missing`
 * samples for GAP_TIME); checks every result against the batch reference of its segment. */
static void run_case(const model *m, double rate, const float *x, const int16_t *counts, float count_scale,
                     uint32_t n, int schedule, gap_kind gap, uint32_t split, uint32_t missing, uint32_t hop) {
    relcon_stream_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_rate_hz = rate;
    cfg.hop = hop;
    for (int a = 0; a < 3; a++) { cfg.count_scale[a] = count_scale; cfg.count_offset[a] = 0; }
    uint64_t bytes = 0;
    assert_int_equal(relcon_stream_arena_bytes(m->blob, m->blob_bytes, &cfg, &bytes), RELCON_OK);
    void *arena = aligned_alloc(64, (bytes + 63) & ~(uint64_t)63);
    relcon_resample_desc d;
    assert_int_equal(relcon_resample_info(rate, m->info.sample_rate_hz, &d), RELCON_OK);
    const uint32_t w = m->info.window_samples;

    /* the references, per segment */
    uint32_t seg_start[2] = {0, gap == GAP_NONE ? n : split};
    uint32_t seg_len[2] = {gap == GAP_NONE ? n : split, gap == GAP_NONE ? 0 : n - split};
    double seg_origin[2] = {0, gap == GAP_TIME ? split + missing : split};
    float *ref[2] = {NULL, NULL};
    uint32_t ref_n[2] = {0, 0};
    for (int sg = 0; sg < 2; sg++) if (seg_len[sg]) ref[sg] = batch(m, rate, x + 3 * seg_start[sg], seg_len[sg], &ref_n[sg]);
    uint32_t want[2] = {expected_windows(&d, seg_len[0], w, hop), seg_len[1] ? expected_windows(&d, seg_len[1], w, hop) : 0};

    relcon_stream *st = NULL;
    heap_count_calls = 0;
    heap_count_on = 1;
    relcon_status init = relcon_stream_init(m->blob, m->blob_bytes, &cfg, arena, bytes, &st);
    heap_count_on = 0;
    assert_int_equal(init, RELCON_OK);
    uint32_t got[2] = {0, 0}, lcg = 12345u + (uint32_t)schedule;
    uint64_t results = 0;
    uint32_t pos = 0;
    while (pos < n) {
        uint32_t end = pos + chunk_size(schedule, &lcg);
        if (end > n) end = n;
        int sg = gap != GAP_NONE && pos >= split;
        if (gap != GAP_NONE && pos < split && end > split) end = split;
        if (gap == GAP_CALL && pos == split) assert_int_equal(relcon_stream_gap(st), RELCON_OK);
        double t = RELCON_STREAM_NO_TIME;
        if (gap == GAP_TIME) t = (pos + (sg ? missing : 0)) / rate;
        int first_call = 1;
        while (pos < end) {
            relcon_stream_result r;
            uint32_t used = 0;
            heap_count_on = 1;
            relcon_status status = counts
                ? relcon_stream_push_i16(st, counts + 3 * pos, end - pos, first_call ? t : RELCON_STREAM_NO_TIME, &used, &r)
                : relcon_stream_push_f32(st, x + 3 * pos, end - pos, first_call ? t : RELCON_STREAM_NO_TIME, &used, &r);
            heap_count_on = 0;
            assert_int_equal(status, RELCON_OK);
            assert_true(used <= end - pos);
            first_call = 0;
            pos += used;
            if (!r.ready) { assert_int_equal(used, end - pos + used); continue; }
            assert_int_equal(r.index, results);
            results++;
            /* which segment: the second one's results start at or after its origin */
            int rs = seg_len[1] && r.start >= seg_origin[1] - 1e-9;
            double k0f = (r.start - seg_origin[rs]) * d.up / d.down;
            uint64_t k0 = (uint64_t)llround(k0f);
            assert_true(fabs(k0f - (double)k0) < 1e-6);
            assert_int_equal(k0, (uint64_t)got[rs] * hop);
            assert_true(fabs(r.end - r.start - (double)w * d.down / d.up) < 1e-6);
            assert_int_equal(r.restarted, got[rs] == 0);
            compare(m, &r, ref[rs], ref_n[rs], k0);
            got[rs]++;
            g_windows++;
        }
    }
    if (got[0] != want[0] || got[1] != want[1])
        fail_msg("rate %.0f schedule %d gap %d: %u+%u windows, expected %u+%u", rate, schedule, gap, got[0], got[1],
                 want[0], want[1]);
    assert_int_equal(heap_count_calls, 0);
    free(ref[0]); free(ref[1]); free(arena);
}

static void test_stream_equals_batch(void **state) {
    (void)state;
    for (int b = 0; b < g_n_blobs; b++) {
        model m;
        model_load(&m, g_blobs[b]);
        const uint32_t w = m.info.window_samples;
        uint32_t checked = 0;
        for (size_t ri = 0; ri < N_RATES; ri++) {
            double rate = RATES[ri];
            /* about 3.5 windows plus the filter's reach, so each segment holds several windows */
            uint32_t n = (uint32_t)(rate * (3.5 * w / m.info.sample_rate_hz)) + 200;
            float *x = signal(n, rate, 7u + (uint32_t)ri);
            uint32_t hop = w / 4;
            for (int sc = 0; sc < N_SCHEDULES; sc++) {
                run_case(&m, rate, x, NULL, 0, n, sc, GAP_NONE, 0, 0, hop);
                run_case(&m, rate, x, NULL, 0, n, sc, GAP_CALL, n / 2 + 3, 0, hop);
                run_case(&m, rate, x, NULL, 0, n, sc, GAP_TIME, n / 2 - 5, 37, hop);
                checked += 3;
            }
            /* hop 1 and hop = window, one schedule each */
            run_case(&m, rate, x, NULL, 0, n < 3 * w ? n : 3 * w, N_SCHEDULES - 1, GAP_NONE, 0, 0, w);
            /* int16 counts at 2048 LSB/g: the reference is the same conversion done here */
            int16_t *c = malloc(sizeof(int16_t) * 3 * n);
            float *xc = malloc(sizeof(float) * 3 * n);
            const float scale = 1.0f / 2048.0f;
            for (uint32_t i = 0; i < 3 * n; i++) {
                c[i] = (int16_t)lrintf(x[i] * 2048.0f);
                xc[i] = (float)c[i] * scale + 0.0f;
            }
            run_case(&m, rate, xc, c, scale, n, N_SCHEDULES - 2, GAP_CALL, n / 3, 0, hop);
            free(c); free(xc); free(x);
        }
        /* hop 1 at one rate (every contract sample a window) */
        {
            uint32_t n = (uint32_t)(52.0 * (w + 40) / m.info.sample_rate_hz) + 200;
            float *x = signal(n, 52, 99);
            run_case(&m, 52, x, NULL, 0, n, 2, GAP_NONE, 0, 0, 1);
            free(x);
        }
        print_message("test_stream: %s (%u samples at %.0f Hz): %u cases x 7 rates, %lu windows, stream == batch "
                      "bit for bit\n", g_blobs[b], w, m.info.sample_rate_hz, checked / 7, g_windows);
        g_windows = 0;
        model_free(&m);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: test_stream BLOB [BLOB ...]\n"); return 2; }
    g_blobs = (const char **)(argv + 1);
    g_n_blobs = argc - 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_equals_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
