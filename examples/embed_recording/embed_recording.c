/* embed_recording: embed a whole accelerometer recording, window by window, through librelcon.so.
 *
 *   embed_recording MODEL.blob RECORDING.csv [--hop SAMPLES] [--out EMBEDDINGS.csv]
 *
 * RECORDING.csv: one sample per line, "t,x,y,z" (t in seconds, x,y,z in g), an optional header line; the
 * sample rate must be the model's contract rate (relcon-export recording writes such files from real data).
 * Prints one line per window (start/end time, embedding norm, first values, latency) and a summary with the
 * arena and blob bytes. All memory is allocated before the session starts; the runtime itself never allocates.
 * Errors: one line on stderr, exit status 2.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relcon.h"

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "embed_recording: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static void *read_blob(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open model %s", path);
    if (fseek(f, 0, SEEK_END) != 0) die("cannot seek %s", path);
    long n = ftell(f);
    if (n <= 0) die("model %s is empty", path);
    rewind(f);
    void *buf = aligned_alloc(64, ((size_t)n + 63) & ~(size_t)63);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read %s", path);
    fclose(f);
    *out_len = (size_t)n;
    return buf;
}

/* Reads "t,x,y,z" lines; returns the count, fills *t and *xyz (interleaved). */
static size_t read_csv(const char *path, double **t, float **xyz) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open recording %s", path);
    size_t cap = 4096, n = 0;
    *t = malloc(cap * sizeof **t);
    *xyz = malloc(cap * 3 * sizeof **xyz);
    char line[512];
    size_t lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '#') continue;
        double tt;
        float x, y, z;
        if (sscanf(line, "%lf,%f,%f,%f", &tt, &x, &y, &z) != 4) {
            if (n == 0) continue; /* header lines before the first sample */
            char msg[600];
            snprintf(msg, sizeof msg, "%s line %zu is not t,x,y,z", path, lineno);
            die("%s", msg);
        }
        if (n == cap) {
            cap *= 2;
            *t = realloc(*t, cap * sizeof **t);
            *xyz = realloc(*xyz, cap * 3 * sizeof **xyz);
            if (!*t || !*xyz) die("out of memory reading %s", path);
        }
        (*t)[n] = tt;
        (*xyz)[3 * n] = x;
        (*xyz)[3 * n + 1] = y;
        (*xyz)[3 * n + 2] = z;
        n++;
    }
    fclose(f);
    return n;
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.blob RECORDING.csv [--hop SAMPLES] [--out EMBEDDINGS.csv]\n", argv[0]);
        return 2;
    }
    const char *model_path = argv[1], *rec_path = argv[2], *out_path = NULL;
    long hop = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--hop") == 0 && i + 1 < argc) {
            char *end;
            hop = strtol(argv[++i], &end, 10);
            if (*end || hop <= 0) die("--hop must be a positive integer, got %s", argv[i]);
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else {
            die("unknown argument %s", argv[i]);
        }
    }
    if (relcon_version() / 10000 != RELCON_VERSION_MAJOR || relcon_version() / 100 % 100 != RELCON_VERSION_MINOR)
        die("librelcon.so %s does not match this header", relcon_version_string());

    size_t blob_bytes = 0;
    void *blob = read_blob(model_path, &blob_bytes);
    relcon_model_info info;
    relcon_status st = relcon_inspect(blob, blob_bytes, 0, &info);
    if (st != RELCON_OK) die("invalid model: %s", relcon_status_string(st));
    const char *name; /* relcon_meta is RELCON_NODISCARD: gcc warns on a (void) cast, so the status is used */
    if (relcon_meta(blob, blob_bytes, "model_name", &name) != RELCON_OK) name = "?";
    const uint32_t win = info.window_samples;
    if (hop == 0) hop = win;

    double *t = NULL;
    float *xyz = NULL;
    size_t n = read_csv(rec_path, &t, &xyz);
    if (n < win) die("recording %s is shorter than one window", rec_path);
    double rate = (n - 1) / (t[n - 1] - t[0]);
    if (!(fabs(rate - info.sample_rate_hz) <= 0.01 * info.sample_rate_hz)) {
        char msg[200];
        snprintf(msg, sizeof msg, "recording is at %.2f Hz but the model expects %.2f Hz (resample it first)", rate,
                 info.sample_rate_hz);
        die("%s", msg);
    }

    void *arena = aligned_alloc(RELCON_ARENA_ALIGN, (info.arena_bytes + 63) & ~(uint64_t)63);
    float *emb = malloc(sizeof(float) * info.embedding_dim);
    size_t n_windows = (n - win) / (size_t)hop + 1;
    double *lat = malloc(sizeof(double) * n_windows);
    relcon_session *session = NULL;
    st = relcon_session_init(blob, blob_bytes, win, arena, info.arena_bytes, &session);
    if (st != RELCON_OK) die("session_init: %s", relcon_status_string(st));
    FILE *out = NULL;
    char tmp_path[4096];
    if (out_path) {
        snprintf(tmp_path, sizeof tmp_path, "%s.tmp", out_path);
        out = fopen(tmp_path, "w");
        if (!out) die("cannot write %s", tmp_path);
    }

    printf("model %s: %u-d embedding, %u samples at %.1f Hz (%s, g), blob %llu B, arena %llu B, %.1f M MAC/window\n",
           name, info.embedding_dim, win, info.sample_rate_hz, info.axis_order, (unsigned long long)info.blob_bytes,
           (unsigned long long)info.arena_bytes, info.macs / 1e6);
    printf("%10s %10s %8s  %-36s %10s\n", "start_s", "end_s", "norm", "embedding[0:4]", "latency_us");
    for (size_t w = 0; w < n_windows; w++) {
        size_t s0 = w * (size_t)hop;
        double t0 = now_us();
        st = relcon_embed(session, xyz + 3 * s0, win, emb, info.embedding_dim);
        lat[w] = now_us() - t0;
        if (st != RELCON_OK) {
            fprintf(stderr, "embed_recording: window %zu: %s\n", w, relcon_status_string(st));
            return 2;
        }
        double norm = 0;
        for (uint32_t i = 0; i < info.embedding_dim; i++) norm += (double)emb[i] * emb[i];
        printf("%10.2f %10.2f %8.3f  % .4f % .4f % .4f % .4f %10.0f\n", t[s0], t[s0 + win - 1], sqrt(norm), emb[0],
               emb[1], emb[2], emb[3], lat[w]);
        if (out) {
            fprintf(out, "%.3f", t[s0]);
            for (uint32_t i = 0; i < info.embedding_dim; i++) fprintf(out, ",%.7g", emb[i]);
            fputc('\n', out);
        }
    }
    if (out) {
        if (fclose(out) != 0 || rename(tmp_path, out_path) != 0) die("cannot write %s", out_path);
    }
    qsort(lat, n_windows, sizeof *lat, cmp_double);
    printf("%zu windows (hop %ld): latency p50 %.0f us, p90 %.0f us, max %.0f us; arena %llu B; blob %llu B\n",
           n_windows, hop, lat[n_windows / 2], lat[(n_windows * 9) / 10], lat[n_windows - 1],
           (unsigned long long)info.arena_bytes, (unsigned long long)info.blob_bytes);
    free(lat);
    free(emb);
    free(arena);
    free(t);
    free(xyz);
    free(blob);
    return 0;
}
