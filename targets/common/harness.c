/* Device test harness: the same checks on x86-64, aarch64 Linux (qemu-aarch64) and Cortex-M4F bare metal
 * (qemu-system-arm, files through semihosting). Plain C, no printf, no allocation inside librelcon.
 *
 *   harness PLAN          PLAN: a text file, one command per line ('#' starts a comment):
 *
 *   golden BLOB GOLDEN [MAX_WINDOWS]   embeddings against golden vectors (Tests/Fixtures/README.md): bit for bit
 *                                      when the golden file has the bit-exact flag (int8), else max |err| <=
 *                                      1e-4 * max |want| and cosine >= 0.99999 per window (as test_golden.c);
 *                                      prints a hash (FNV-1a 64) of every output bit
 *   bad BLOB                           a defect fixture named <STATUS>__<what>.blob gives exactly <STATUS>
 *   reject BLOB STATUS                 relcon_inspect and relcon_session_init give STATUS (a relcon.h name)
 *   selftest BLOB                      relcon_selftest passes (bit-exact for int8 blobs)
 *   heads BLOB HEADS_GOLDEN            classifier probabilities and regressor value within 1e-4 (test_heads.c)
 *   corrupt BLOB STRIDE                every STRIDE-th byte changed (xor 0xFF): inspect and session_init reject it
 *   mkref BLOB CSV N HOP OUT           (hosted only) this build's embeddings of N windows of a t,x,y,z recording
 *                                      (starting at 0, HOP apart) written as golden file OUT: bit-exact flag for
 *                                      int8 blobs, so another target's `golden BLOB OUT` compares with this one
 *
 * Every failure prints one line "FAIL [target] blob: what, first differing value ..." and the harness goes on;
 * the exit status is 1 when anything failed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plat.h"
#include "relcon.h"

#ifdef PLAT_HOSTED
#include <stdio.h>
#include <stdlib.h>
#endif

static unsigned g_checks, g_failures;

static void fail_begin(out_buf *b, const char *blob) {
    out_str(b, "FAIL [");
    out_str(b, plat_target);
    out_str(b, "] ");
    out_str(b, blob);
    out_str(b, ": ");
}

static void fail_status(const char *blob, const char *what, relcon_status st) {
    out_buf b = {0};
    fail_begin(&b, blob);
    out_str(&b, what);
    out_str(&b, ": ");
    out_str(&b, relcon_status_string(st));
    out_str(&b, "\n");
    out_flush(&b);
    g_failures++;
}

static void fail_text(const char *blob, const char *what) {
    out_buf b = {0};
    fail_begin(&b, blob);
    out_str(&b, what);
    out_str(&b, "\n");
    out_flush(&b);
    g_failures++;
}

static double dabs(double x) { return x < 0 ? -x : x; }

static uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) { h ^= c[i]; h *= 0x100000001b3ull; }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

static uint32_t rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* ---- golden files -------------------------------------------------------------------------------------- */
typedef struct golden {
    uint32_t n_windows, n_samples, channels, dim, flags, precision;
    const float *inputs, *embeddings;
} golden;

static int golden_load(const char *path, golden *g) {
    size_t n = 0;
    const unsigned char *buf = plat_read_file(path, &n);
    memset(g, 0, sizeof *g);
    if (!buf || n < 24 || memcmp(buf, "RCGD", 4) != 0) return -1;
    uint32_t version = rd32(buf + 4);
    if (version != 1 && version != 2) return -1;
    size_t header = version == 1 ? 24 : 32;
    if (n < header) return -1;
    g->n_windows = rd32(buf + 8); g->n_samples = rd32(buf + 12); g->channels = rd32(buf + 16); g->dim = rd32(buf + 20);
    g->flags = version == 2 ? rd32(buf + 24) : 0;
    g->precision = version == 2 ? rd32(buf + 28) : 1;
    uint64_t n_in = (uint64_t)g->n_windows * g->n_samples * g->channels, n_out = (uint64_t)g->n_windows * g->dim;
    if ((uint64_t)n != header + 4 * (n_in + n_out)) return -1;
    g->inputs = (const float *)(const void *)(buf + header);
    g->embeddings = g->inputs + n_in;
    return 0;
}

/* A session for blob (read from path) planned for n_samples; NULL after printing a failure. */
static relcon_session *open_session(const char *path, uint32_t n_samples, relcon_model_info *info) {
    size_t bytes = 0;
    void *blob = plat_read_file(path, &bytes);
    if (!blob) { fail_text(path, "cannot read the blob (missing, or no buffer memory left)"); return NULL; }
    relcon_status st = relcon_inspect(blob, bytes, n_samples, info);
    if (st != RELCON_OK) { fail_status(path, "relcon_inspect", st); return NULL; }
    void *arena = plat_alloc(info->arena_bytes, RELCON_ARENA_ALIGN);
    if (!arena) { fail_text(path, "no buffer memory for the arena"); return NULL; }
    relcon_session *s = NULL;
    st = relcon_session_init(blob, bytes, n_samples, arena, (size_t)info->arena_bytes, &s);
    if (st != RELCON_OK) { fail_status(path, "relcon_session_init", st); return NULL; }
    return s;
}

static void cmd_golden(const char *blob, const char *gpath, uint32_t max_windows) {
    g_checks++;
    golden g;
    if (golden_load(gpath, &g) != 0) { fail_text(gpath, "cannot read the golden file"); return; }
    relcon_model_info info;
    relcon_session *s = open_session(blob, g.n_samples, &info);
    if (!s) return;
    if (info.embedding_dim != g.dim || info.input_channels != g.channels || info.weight_dtype != g.precision) {
        fail_text(blob, "embedding dim, channels or precision differ from the golden file's");
        return;
    }
    int exact = (g.flags & 1u) != 0;
    float *out = plat_alloc(sizeof(float) * g.dim, 16);
    if (!out) { fail_text(blob, "no buffer memory"); return; }
    uint32_t n = g.n_windows < max_windows ? g.n_windows : max_windows;
    uint64_t hash = FNV_INIT;
    double worst_rel = 0, worst_cos = 1;
    for (uint32_t w = 0; w < n; w++) {
        const float *x = g.inputs + (size_t)w * g.n_samples * g.channels;
        const float *want = g.embeddings + (size_t)w * g.dim;
        relcon_status st = relcon_embed(s, x, g.n_samples, out, g.dim);
        if (st != RELCON_OK) { fail_status(blob, "relcon_embed", st); return; }
        hash = fnv1a(hash, out, sizeof(float) * g.dim);
        double max_err = 0, max_ref = 0, dot = 0, na = 0, nb = 0;
        for (uint32_t i = 0; i < g.dim; i++) {
            double e = dabs((double)out[i] - want[i]);
            if (e > max_err) max_err = e;
            if (dabs(want[i]) > max_ref) max_ref = dabs(want[i]);
            dot += (double)out[i] * want[i];
            na += (double)out[i] * out[i];
            nb += (double)want[i] * want[i];
        }
        double limit = 1e-4 * (max_ref > 0 ? max_ref : 1.0);
        /* cosine >= 0.99999  <=>  dot > 0 and dot^2 >= 0.99999^2 * na * nb (no sqrt: no libm on bare metal) */
        int cos_ok = dot > 0 && dot * dot >= 0.99999 * 0.99999 * na * nb;
        for (uint32_t i = 0; i < g.dim; i++) {
            int differs = exact ? bits_of(out[i]) != bits_of(want[i])
                                : dabs((double)out[i] - want[i]) > limit;
            if (differs || (!exact && i == g.dim - 1 && !cos_ok)) {
                uint32_t k = differs ? i : 0;
                out_buf b = {0};
                fail_begin(&b, blob);
                out_str(&b, exact ? "not bit-exact with " : "outside tolerance (1e-4 relative, cosine 0.99999) of ");
                out_str(&b, gpath);
                out_str(&b, ": window ");
                out_u64(&b, w);
                out_str(&b, ", first differing value: output ");
                out_u64(&b, k);
                out_str(&b, " = ");
                out_g(&b, out[k]);
                out_str(&b, " (");
                out_hex(&b, bits_of(out[k]), 8);
                out_str(&b, "), want ");
                out_g(&b, want[k]);
                out_str(&b, " (");
                out_hex(&b, bits_of(want[k]), 8);
                out_str(&b, ")\n");
                out_flush(&b);
                g_failures++;
                return;
            }
        }
        double rel = max_err / (max_ref > 0 ? max_ref : 1.0);
        if (rel > worst_rel) worst_rel = rel;
        double cos2 = (na > 0 && nb > 0) ? dot * dot / (na * nb) : 0;
        if (cos2 < worst_cos) worst_cos = cos2;
    }
    out_buf b = {0};
    out_str(&b, "ok   [");
    out_str(&b, plat_target);
    out_str(&b, "] golden ");
    out_str(&b, blob);
    out_str(&b, ": ");
    out_u64(&b, n);
    out_str(&b, " windows x ");
    out_u64(&b, g.n_samples);
    out_str(&b, exact ? " samples bit-exact" : " samples, worst relative error ");
    if (!exact) { out_g(&b, worst_rel); out_str(&b, ", worst cosine^2 "); out_f(&b, worst_cos, 9); }
    out_str(&b, ", hash ");
    out_hex(&b, hash, 16);
    out_str(&b, "\n");
    out_flush(&b);
}

static const struct { const char *name; relcon_status s; } k_status[] = {
    {"RELCON_OK", RELCON_OK},
    {"RELCON_E_NULL_ARGUMENT", RELCON_E_NULL_ARGUMENT}, {"RELCON_E_INVALID_ARGUMENT", RELCON_E_INVALID_ARGUMENT},
    {"RELCON_E_BUFFER_TOO_SMALL", RELCON_E_BUFFER_TOO_SMALL},
    {"RELCON_E_BLOB_TOO_SMALL", RELCON_E_BLOB_TOO_SMALL}, {"RELCON_E_BLOB_MAGIC", RELCON_E_BLOB_MAGIC},
    {"RELCON_E_BLOB_VERSION", RELCON_E_BLOB_VERSION}, {"RELCON_E_BLOB_CHECKSUM", RELCON_E_BLOB_CHECKSUM},
    {"RELCON_E_BLOB_BOUNDS", RELCON_E_BLOB_BOUNDS}, {"RELCON_E_BLOB_ALIGNMENT", RELCON_E_BLOB_ALIGNMENT},
    {"RELCON_E_BLOB_TENSOR", RELCON_E_BLOB_TENSOR}, {"RELCON_E_BLOB_GRAPH", RELCON_E_BLOB_GRAPH},
    {"RELCON_E_BLOB_CONTRACT", RELCON_E_BLOB_CONTRACT}, {"RELCON_E_BLOB_METADATA", RELCON_E_BLOB_METADATA},
    {"RELCON_E_ARENA_TOO_SMALL", RELCON_E_ARENA_TOO_SMALL}, {"RELCON_E_ARENA_MISALIGNED", RELCON_E_ARENA_MISALIGNED},
    {"RELCON_E_SESSION_INVALID", RELCON_E_SESSION_INVALID},
    {"RELCON_E_WINDOW_TOO_SHORT", RELCON_E_WINDOW_TOO_SHORT}, {"RELCON_E_WINDOW_TOO_LONG", RELCON_E_WINDOW_TOO_LONG},
    {"RELCON_E_INPUT_NOT_FINITE", RELCON_E_INPUT_NOT_FINITE},
    {"RELCON_E_NOT_FOUND", RELCON_E_NOT_FOUND}, {"RELCON_E_NO_SUCH_HEAD", RELCON_E_NO_SUCH_HEAD},
    {"RELCON_E_SELFTEST_FAILED", RELCON_E_SELFTEST_FAILED},
};

/* The status whose name `s` starts with, followed by `end` ("__" for file names, "" for a whole word). */
static int status_named(const char *s, const char *end, relcon_status *out) {
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof k_status / sizeof k_status[0]; i++) {
        size_t len = strlen(k_status[i].name);
        if (strncmp(s, k_status[i].name, len) == 0 && strncmp(s + len, end, strlen(end)) == 0 &&
            (*end || s[len] == 0) && len > best_len) { best = (int)i; best_len = len; }
    }
    if (best < 0) return -1;
    *out = k_status[best].s;
    return 0;
}

static void check_rejects(const char *path, relcon_status want, int with_session) {
    size_t bytes = 0;
    void *blob = plat_read_file(path, &bytes);
    if (!blob) { fail_text(path, "cannot read the blob"); return; }
    relcon_model_info info;
    relcon_status got = relcon_inspect(blob, bytes, 0, &info);
    if (got != want) {
        out_buf b = {0};
        fail_begin(&b, path);
        out_str(&b, "relcon_inspect gave ");
        out_str(&b, relcon_status_string(got));
        out_str(&b, ", want ");
        out_str(&b, relcon_status_string(want));
        out_str(&b, "\n");
        out_flush(&b);
        g_failures++;
        return;
    }
    if (with_session) {
        static uint64_t arena[64 * 1024 / 8] __attribute__((aligned(64)));
        relcon_session *s = NULL;
        got = relcon_session_init(blob, bytes, 0, arena, sizeof arena, &s);
        if (got != want) { fail_status(path, "relcon_session_init gave another status", got); return; }
    }
}

static const char *base_name(const char *p) {
    const char *b = p;
    for (; *p; p++) if (*p == '/') b = p + 1;
    return b;
}

static unsigned g_bad_ok;

static void cmd_bad(const char *path) {
    g_checks++;
    relcon_status want;
    if (status_named(base_name(path), "__", &want) != 0) { fail_text(path, "file name does not start with a status"); return; }
    unsigned before = g_failures;
    check_rejects(path, want, 0);
    if (g_failures == before) g_bad_ok++;
}

static void cmd_reject(const char *path, const char *status) {
    g_checks++;
    relcon_status want;
    if (status_named(status, "", &want) != 0) { fail_text(status, "not a status name"); return; }
    unsigned before = g_failures;
    check_rejects(path, want, 1);
    if (g_failures == before) {
        out_buf b = {0};
        out_str(&b, "ok   [");
        out_str(&b, plat_target);
        out_str(&b, "] ");
        out_str(&b, path);
        out_str(&b, " rejected: ");
        out_str(&b, status);
        out_str(&b, "\n");
        out_flush(&b);
    }
}

static void cmd_selftest(const char *path) {
    g_checks++;
    relcon_model_info info;
    relcon_session *s = open_session(path, 0, &info);
    if (!s) return;
    float err = -1;
    relcon_status st = relcon_selftest(s, &err);
    if (st != RELCON_OK) {
        out_buf b = {0};
        fail_begin(&b, path);
        out_str(&b, "relcon_selftest: ");
        out_str(&b, relcon_status_string(st));
        out_str(&b, ", max relative error ");
        out_g(&b, err);
        out_str(&b, "\n");
        out_flush(&b);
        g_failures++;
        return;
    }
    out_buf b = {0};
    out_str(&b, "ok   [");
    out_str(&b, plat_target);
    out_str(&b, "] selftest ");
    out_str(&b, path);
    out_str(&b, ": max relative error ");
    out_g(&b, err);
    out_str(&b, "\n");
    out_flush(&b);
}

/* The session queries (0.5) on a heads fixture: the 64-byte relcon_session_desc (the same layout on 32- and 64-bit
 * targets), the two heads and the classifier's class names. 0 when they agree with relcon_inspect and the blob. */
static int check_session_queries(const char *path, const relcon_session *s, const relcon_model_info *info,
                                 const char **isa) {
    relcon_session_desc d;
    memset(&d, 0, sizeof d);
    d.struct_bytes = sizeof d;
    relcon_status st = relcon_session_info(s, &d);
    if (st != RELCON_OK) { fail_status(path, "relcon_session_info", st); return 1; }
    if (d.struct_bytes != RELCON_SESSION_DESC_V1_BYTES || d.n_heads != 2 || d.embedding_dim != info->embedding_dim ||
        d.max_samples != info->n_samples || d.arena_bytes != info->arena_bytes || d.window_samples != info->window_samples ||
        d.precision != info->weight_dtype || !d.isa_name) {
        fail_text(path, "relcon_session_info differs from relcon_inspect");
        return 1;
    }
    relcon_head_desc h0;
    const char *c = NULL, *cb = NULL;
    if (relcon_session_head_info(s, 0, &h0) != RELCON_OK || memcmp(h0.name, "activity", 9) != 0 ||
        h0.kind != RELCON_HEAD_CLASSIFIER || h0.n_outputs != 3 ||
        relcon_session_head_class_name(s, 0, 2, &c) != RELCON_OK || !c ||
        relcon_session_head_class_name(s, 0, 3, &cb) != RELCON_E_INVALID_ARGUMENT ||
        relcon_session_head_info(s, 2, &h0) != RELCON_E_NO_SUCH_HEAD) {
        fail_text(path, "relcon_session_head_info / _class_name");
        return 1;
    }
    *isa = d.isa_name;
    return 0;
}

static void cmd_heads(const char *path, const char *gpath) {
    g_checks++;
    golden g;
    if (golden_load(gpath, &g) != 0 || g.dim != 4 || g.channels != 3) { fail_text(gpath, "cannot read the heads golden file"); return; }
    relcon_model_info info;
    relcon_session *s = open_session(path, g.n_samples, &info);
    if (!s) return;
    const char *isa = "?";
    if (check_session_queries(path, s, &info, &isa)) return;
    double worst = 0;
    for (uint32_t w = 0; w < g.n_windows; w++) {
        const float *x = g.inputs + (size_t)w * g.n_samples * 3;
        const float *e = g.embeddings + (size_t)w * 4;
        float p[3] = {0}, v = 0;
        uint32_t top = 99, want = 0;
        relcon_status st = relcon_classify(s, x, g.n_samples, 0, p, 3, &top);
        if (st != RELCON_OK) { fail_status(path, "relcon_classify", st); return; }
        st = relcon_regress(s, x, g.n_samples, 1, &v);
        if (st != RELCON_OK) { fail_status(path, "relcon_regress", st); return; }
        for (uint32_t k = 0; k < 3; k++) {
            if (e[k] > e[want]) want = k;
            double d = dabs((double)p[k] - e[k]);
            if (d > worst) worst = d;
            if (d > 1e-4) {
                out_buf b = {0};
                fail_begin(&b, path);
                out_str(&b, "window ");
                out_u64(&b, w);
                out_str(&b, " class ");
                out_u64(&b, k);
                out_str(&b, ": probability ");
                out_g(&b, p[k]);
                out_str(&b, ", want ");
                out_g(&b, e[k]);
                out_str(&b, "\n");
                out_flush(&b);
                g_failures++;
                return;
            }
        }
        double ref = dabs(e[3]) > 1 ? dabs(e[3]) : 1;
        double dv = dabs((double)v - e[3]) / ref;
        if (top != want || dv > 1e-4) {
            out_buf b = {0};
            fail_begin(&b, path);
            out_str(&b, "window ");
            out_u64(&b, w);
            out_str(&b, top != want ? ": top class differs" : ": regressor value ");
            if (top == want) { out_g(&b, v); out_str(&b, ", want "); out_g(&b, e[3]); }
            out_str(&b, "\n");
            out_flush(&b);
            g_failures++;
            return;
        }
    }
    out_buf b = {0};
    out_str(&b, "ok   [");
    out_str(&b, plat_target);
    out_str(&b, "] heads ");
    out_str(&b, path);
    out_str(&b, ": ");
    out_u64(&b, g.n_windows);
    out_str(&b, " windows, max |p - p_python| ");
    out_g(&b, worst);
    out_str(&b, "; session queries ok, kernels ");
    out_str(&b, isa);
    out_str(&b, "\n");
    out_flush(&b);
}

static void cmd_corrupt(const char *path, uint32_t stride) {
    g_checks++;
    size_t bytes = 0;
    unsigned char *blob = plat_read_file(path, &bytes);
    if (!blob || stride == 0) { fail_text(path, "cannot read the blob (or STRIDE 0)"); return; }
    relcon_model_info info;
    relcon_status st = relcon_inspect(blob, bytes, 0, &info);
    if (st != RELCON_OK) { fail_status(path, "relcon_inspect of the intact blob", st); return; }
    void *arena = plat_alloc(info.arena_bytes, RELCON_ARENA_ALIGN);
    if (!arena) { fail_text(path, "no buffer memory for the arena"); return; }
    uint32_t n = 0;
    for (size_t i = 0; i < bytes; i += stride) {
        unsigned char keep = blob[i];
        blob[i] = (unsigned char)(keep ^ 0xFF);
        relcon_session *s = NULL;
        relcon_status s1 = relcon_inspect(blob, bytes, 0, &info);
        relcon_status s2 = relcon_session_init(blob, bytes, 0, arena, (size_t)info.arena_bytes, &s);
        blob[i] = keep;
        if (s1 == RELCON_OK || s2 == RELCON_OK) {
            out_buf b = {0};
            fail_begin(&b, path);
            out_str(&b, "byte ");
            out_u64(&b, i);
            out_str(&b, " changed and still accepted\n");
            out_flush(&b);
            g_failures++;
            return;
        }
        n++;
    }
    out_buf b = {0};
    out_str(&b, "ok   [");
    out_str(&b, plat_target);
    out_str(&b, "] corrupt ");
    out_str(&b, path);
    out_str(&b, ": ");
    out_u64(&b, n);
    out_str(&b, " single-byte corruptions rejected\n");
    out_flush(&b);
}

#ifdef PLAT_HOSTED
/* mkref: this build's embeddings of real windows, as a golden file another target compares against. */
static void cmd_mkref(const char *path, const char *csv, uint32_t n_windows, uint32_t hop, const char *outp) {
    g_checks++;
    size_t cbytes = 0;
    char *text = plat_read_file(csv, &cbytes);
    if (!text) { fail_text(csv, "cannot read the recording"); return; }
    relcon_model_info info;
    relcon_session *s = open_session(path, 0, &info);
    if (!s) return;
    uint32_t T = info.window_samples, need = (n_windows - 1) * hop + T;
    float *xyz = plat_alloc(sizeof(float) * 3 * (size_t)need, 16);
    if (!xyz) { fail_text(csv, "no memory"); return; }
    uint32_t got = 0;
    for (char *line = text; *line && got < need;) {
        char *next = strchr(line, '\n');
        if (next) *next = 0;
        double v[4];
        char *p = line, *e;
        int k = 0;
        for (; k < 4; k++) {
            v[k] = strtod(p, &e);
            if (e == p) break;
            p = e;
            while (*p == ',' || *p == ' ') p++;
        }
        if (k == 4) { xyz[3 * got] = (float)v[1]; xyz[3 * got + 1] = (float)v[2]; xyz[3 * got + 2] = (float)v[3]; got++; }
        if (!next) break;
        line = next + 1;
    }
    if (got < need) { fail_text(csv, "recording shorter than the windows asked for"); return; }
    size_t n_in = (size_t)n_windows * T * 3, n_out = (size_t)n_windows * info.embedding_dim;
    size_t total = 32 + 4 * (n_in + n_out);
    unsigned char *g = plat_alloc(total, 16);
    if (!g) { fail_text(outp, "no memory"); return; }
    uint32_t h[8] = {0x44474352u /* "RCGD" */, 2, n_windows, T, 3, info.embedding_dim,
                     info.weight_dtype == RELCON_DTYPE_I8 ? 1u : 0u, info.weight_dtype};
    memcpy(g, h, 32);
    float *in = (float *)(void *)(g + 32), *emb = in + n_in;
    uint64_t hash = FNV_INIT;
    for (uint32_t w = 0; w < n_windows; w++) {
        memcpy(in + (size_t)w * T * 3, xyz + (size_t)w * hop * 3, sizeof(float) * 3 * T);
        relcon_status st = relcon_embed(s, in + (size_t)w * T * 3, T, emb + (size_t)w * info.embedding_dim,
                                        info.embedding_dim);
        if (st != RELCON_OK) { fail_status(path, "relcon_embed", st); return; }
        hash = fnv1a(hash, emb + (size_t)w * info.embedding_dim, sizeof(float) * info.embedding_dim);
    }
    if (plat_write_file(outp, g, total) != 0) { fail_text(outp, "cannot write"); return; }
    out_buf b = {0};
    out_str(&b, "ok   [");
    out_str(&b, plat_target);
    out_str(&b, "] mkref ");
    out_str(&b, outp);
    out_str(&b, ": ");
    out_u64(&b, n_windows);
    out_str(&b, " real windows of ");
    out_str(&b, csv);
    out_str(&b, " through ");
    out_str(&b, path);
    out_str(&b, ", hash ");
    out_hex(&b, hash, 16);
    out_str(&b, "\n");
    out_flush(&b);
}
#endif

static uint32_t parse_u32(const char *s, int *ok) {
    uint64_t v = 0;
    *ok = *s != 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 0xFFFFFFFFull / 10) { *ok = 0; return 0; }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > 0xFFFFFFFFull) *ok = 0;
    return (uint32_t)v;
}

int main(int argc, char **argv) {
    char **av;
    int ac = plat_args(argc, argv, &av);
    if (ac < 2) {
        out_buf b = {0};
        out_str(&b, "usage: harness PLAN\n");
        out_flush(&b);
        plat_exit(2);
    }
    size_t plan_bytes = 0;
    char *plan = plat_read_file(av[1], &plan_bytes);
    if (!plan) { fail_text(av[1], "cannot read the plan"); plat_exit(2); }
    size_t mark = plat_mark();
    unsigned lineno = 0;
    for (char *line = plan; *line;) {
        char *next = line;
        while (*next && *next != '\n') next++;
        int last = *next == 0;
        *next = 0;
        lineno++;
        char *tok[8];
        int nt = 0;
        for (char *p = line; *p && *p != '#' && nt < 8;) {
            while (*p == ' ' || *p == '\t' || *p == '\r') *p++ = 0;
            if (!*p || *p == '#') break;
            tok[nt++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#') p++;
            if (*p == '#') { *p = 0; break; }
        }
        int ok = 1;
        if (nt == 0) {
        } else if (!strcmp(tok[0], "golden") && (nt == 3 || nt == 4)) {
            uint32_t maxw = nt == 4 ? parse_u32(tok[3], &ok) : 0xFFFFFFFFu;
            if (ok) cmd_golden(tok[1], tok[2], maxw);
        } else if (!strcmp(tok[0], "bad") && nt == 2) {
            cmd_bad(tok[1]);
        } else if (!strcmp(tok[0], "reject") && nt == 3) {
            cmd_reject(tok[1], tok[2]);
        } else if (!strcmp(tok[0], "selftest") && nt == 2) {
            cmd_selftest(tok[1]);
        } else if (!strcmp(tok[0], "heads") && nt == 3) {
            cmd_heads(tok[1], tok[2]);
        } else if (!strcmp(tok[0], "corrupt") && nt == 3) {
            uint32_t stride = parse_u32(tok[2], &ok);
            if (ok) cmd_corrupt(tok[1], stride);
#ifdef PLAT_HOSTED
        } else if (!strcmp(tok[0], "mkref") && nt == 6) {
            int ok2 = 1;
            uint32_t n = parse_u32(tok[3], &ok), hop = parse_u32(tok[4], &ok2);
            ok = ok && ok2 && n > 0 && hop > 0;
            if (ok) cmd_mkref(tok[1], tok[2], n, hop, tok[5]);
#endif
        } else {
            ok = 0;
        }
        if (!ok) {
            out_buf b = {0};
            fail_begin(&b, av[1]);
            out_str(&b, "line ");
            out_u64(&b, lineno);
            out_str(&b, ": not a command: ");
            out_str(&b, tok[0]);
            out_str(&b, "\n");
            out_flush(&b);
            g_failures++;
        }
        plat_release(mark);
        if (last) break;
        line = next + 1;
    }
    out_buf b = {0};
    if (g_bad_ok) {
        out_str(&b, "ok   [");
        out_str(&b, plat_target);
        out_str(&b, "] ");
        out_u64(&b, g_bad_ok);
        out_str(&b, " defective blobs gave their own status\n");
    }
    out_str(&b, g_failures ? "FAILED [" : "PASSED [");
    out_str(&b, plat_target);
    out_str(&b, "] ");
    out_str(&b, av[1]);
    out_str(&b, ": ");
    out_u64(&b, g_checks - g_failures);
    out_str(&b, " of ");
    out_u64(&b, g_checks);
    out_str(&b, " checks passed\n");
    out_flush(&b);
    plat_exit(g_failures ? 1 : 0);
}
