/* ab: paired A/B of two librelcon.so builds in one process, for kernel work on a noisy machine.
 *
 *   ab LIB_A LIB_B [--iters N] [--warmup-ms MS] [--lengths 256] [--isa-a L] [--isa-b L] BLOB [BLOB ...]
 *
 * --isa-a / --isa-b: RELCON_ISA (portable, v3, v4) while A's / B's session is opened (the level is chosen once
 * per session), so LIB_A = LIB_B pairs two ISA levels of one build: `ab L L --isa-a v3 --isa-b v4 BLOB...`.
 *
 * Loads both libraries with dlopen(RTLD_LOCAL) (each keeps its own symbols), opens one session of each on the
 * same blob and input, and alternates calls: A then B on even iterations, B then A on odd ones, each timed alone
 * with CLOCK_THREAD_CPUTIME_ID. Prints per blob and length the median CPU time of each, and the median and
 * interquartile range of the per-pair ratio B/A (< 1: B is faster). Because the two calls of a pair run
 * microseconds apart, a machine whose speed drifts between seconds (a shared VM's clock, a neighbour's job)
 * moves both: the ratio is far steadier than the ratio of two separate runs. Also says whether the two
 * embeddings are bit-identical (an int8 blob must be; fp32 ones may differ when the summation order changed).
 *
 *   make bench-ab AB_A=/path/to/old/librelcon.so        # B defaults to this tree's build
 *
 * Timings are figures, not pass/fail criteria. Exit status: 0, or 1 with one line on stderr when a library or
 * blob cannot be loaded or a call fails, 2 for a usage error.
 */
#define _GNU_SOURCE
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relcon.h"

typedef relcon_status (*inspect_fn)(const void *, size_t, uint32_t, relcon_model_info *);
typedef relcon_status (*init_fn)(const void *, size_t, uint32_t, void *, size_t, relcon_session **);
typedef relcon_status (*embed_fn)(relcon_session *, const float *, uint32_t, float *, uint32_t);

typedef struct {
    const char *path;
    inspect_fn inspect;
    init_fn init;
    embed_fn embed;
} lib;

static double cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static double wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int load_lib(lib *l, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "ab: %s\n", dlerror()); return 1; }
    l->path = path;
    l->inspect = (inspect_fn)dlsym(h, "relcon_inspect");
    l->init = (init_fn)dlsym(h, "relcon_session_init");
    l->embed = (embed_fn)dlsym(h, "relcon_embed");
    if (!l->inspect || !l->init || !l->embed) { fprintf(stderr, "ab: %s: not a librelcon (missing exports)\n", path); return 1; }
    return 0;
}

static void *read_file(const char *path, size_t *bytes) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = aligned_alloc(64, ((size_t)n + 63) & ~(size_t)63);
            if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
            *bytes = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static void usage(const char *argv0) {
    fprintf(stderr, "usage: %s LIB_A LIB_B [--iters N] [--warmup-ms MS] [--lengths 256,1000] [--isa-a L] [--isa-b L] "
            "BLOB...\n", argv0);
}

int main(int argc, char **argv) {
    if (argc < 4) { usage(argv[0]); return 2; }
    lib libs[2];
    if (load_lib(&libs[0], argv[1]) || load_lib(&libs[1], argv[2])) return 1;
    int iters = 1000;
    double warmup_ms = 500;
    uint32_t lengths[16];
    int n_lengths = 0, first_blob = argc;
    const char *isa[2] = {NULL, NULL};
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup-ms") && i + 1 < argc) warmup_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--isa-a") && i + 1 < argc) isa[0] = argv[++i];
        else if (!strcmp(argv[i], "--isa-b") && i + 1 < argc) isa[1] = argv[++i];
        else if (!strcmp(argv[i], "--lengths") && i + 1 < argc) {
            char *s = argv[++i];
            while (*s && n_lengths < 16) {
                lengths[n_lengths++] = (uint32_t)strtoul(s, &s, 10);
                if (*s == ',') s++;
            }
        } else if (argv[i][0] == '-') { usage(argv[0]); return 2; }
        else { first_blob = i; break; }
    }
    if (first_blob >= argc || iters < 4) { usage(argv[0]); return 2; }
    if (n_lengths == 0) lengths[n_lengths++] = 0;   /* the contract's window */
    printf("A = %s%s%s\nB = %s%s%s\n", libs[0].path, isa[0] ? ", RELCON_ISA=" : "", isa[0] ? isa[0] : "",
           libs[1].path, isa[1] ? ", RELCON_ISA=" : "", isa[1] ? isa[1] : "");
    const char *isa_env = getenv("RELCON_ISA");
    char *isa_saved = isa_env ? strdup(isa_env) : NULL;
    printf("%-28s %6s %11s %11s %9s %15s %s\n", "blob", "T", "A cpu us", "B cpu us", "B/A", "B/A IQR", "outputs");
    double *d[2] = {malloc(sizeof(double) * iters), malloc(sizeof(double) * iters)};
    double *ratio = malloc(sizeof(double) * iters);
    if (!d[0] || !d[1] || !ratio) { fprintf(stderr, "ab: out of memory\n"); return 1; }
    for (int b = first_blob; b < argc; b++) {
        size_t blob_bytes = 0;
        void *blob = read_file(argv[b], &blob_bytes);
        if (!blob) { fprintf(stderr, "ab: cannot read %s\n", argv[b]); return 1; }
        for (int li = 0; li < n_lengths; li++) {
            relcon_session *s[2];
            void *arena[2];
            relcon_model_info info = {0};
            for (int k = 0; k < 2; k++) {
                relcon_status st = libs[k].inspect(blob, blob_bytes, lengths[li], &info);
                if (st != RELCON_OK) { fprintf(stderr, "ab: %s: inspect failed with %s (status %d)\n", argv[b], libs[k].path, (int)st); return 1; }
                arena[k] = aligned_alloc(RELCON_ARENA_ALIGN, (info.arena_bytes + 63) & ~(uint64_t)63);
                if (!arena[k]) { fprintf(stderr, "ab: out of memory\n"); return 1; }
                if (isa[k]) setenv("RELCON_ISA", isa[k], 1);
                else if (isa_saved) setenv("RELCON_ISA", isa_saved, 1);
                else unsetenv("RELCON_ISA");
                st = libs[k].init(blob, blob_bytes, info.n_samples, arena[k], info.arena_bytes, &s[k]);
                if (st != RELCON_OK) { fprintf(stderr, "ab: %s: session failed with %s (status %d)\n", argv[b], libs[k].path, (int)st); return 1; }
            }
            uint32_t T = info.n_samples, dim = info.embedding_dim;
            float *x = malloc(sizeof(float) * 3 * T), *z[2] = {malloc(sizeof(float) * dim), malloc(sizeof(float) * dim)};
            if (!x || !z[0] || !z[1]) { fprintf(stderr, "ab: out of memory\n"); return 1; }
            for (uint32_t t = 0; t < T; t++) {   /* the input of examples/bench/bench.c */
                double u = t / (double)info.sample_rate_hz;
                x[3 * t] = (float)(0.3 * sin(2 * M_PI * 1.8 * u) + 0.05 * sin(2 * M_PI * 7.1 * u));
                x[3 * t + 1] = (float)(0.2 * cos(2 * M_PI * 1.8 * u) - 0.98);
                x[3 * t + 2] = (float)(0.1 * sin(2 * M_PI * 3.6 * u + 0.4));
            }
            double w0 = wall_ms();
            do {
                for (int k = 0; k < 2; k++)
                    if (libs[k].embed(s[k], x, T, z[k], dim) != RELCON_OK) { fprintf(stderr, "ab: %s: embed failed\n", argv[b]); return 1; }
            } while (wall_ms() - w0 < warmup_ms);
            for (int i = 0; i < iters; i++) {
                for (int j = 0; j < 2; j++) {
                    int k = (i & 1) ^ j;
                    double c0 = cpu_us();
                    relcon_status st = libs[k].embed(s[k], x, T, z[k], dim);
                    d[k][i] = cpu_us() - c0;
                    if (st != RELCON_OK) { fprintf(stderr, "ab: %s: embed failed\n", argv[b]); return 1; }
                }
                ratio[i] = d[1][i] / d[0][i];
            }
            int same = memcmp(z[0], z[1], sizeof(float) * dim) == 0;
            qsort(d[0], (size_t)iters, sizeof(double), cmp_double);
            qsort(d[1], (size_t)iters, sizeof(double), cmp_double);
            qsort(ratio, (size_t)iters, sizeof(double), cmp_double);
            const char *name = strrchr(argv[b], '/') ? strrchr(argv[b], '/') + 1 : argv[b];
            printf("%-28.28s %6u %11.1f %11.1f %9.3f %7.3f-%-7.3f %s\n", name, T, d[0][iters / 2], d[1][iters / 2],
                   ratio[iters / 2], ratio[iters / 4], ratio[3 * iters / 4], same ? "identical" : "differ");
            free(x); free(z[0]); free(z[1]); free(arena[0]); free(arena[1]);
        }
        free(blob);
    }
    return 0;
}
