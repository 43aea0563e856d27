/* bench: per-window latency of librelcon for one or more blobs and window lengths.
 *
 *   bench [--iters N] [--warmup N] [--warmup-ms MS] [--lengths 256,1000] [--input FILE] [--json] BLOB [BLOB ...]
 *   bench --clock                    estimate this core's clock (GHz) from a chain of dependent adds
 *
 * For each blob and window length: relcon_inspect (arena bytes, MACs), one session in a caller-provided arena,
 * `warmup` untimed calls (and more until --warmup-ms of wall time have passed: a core that has been idle may run
 * at a lower clock for a while), then `iters` timed relcon_embed calls on the same deterministic input (a sum of
 * sinusoids in g, like a walking wrist; --input: raw little-endian f32 [T][3], repeated or cut to each length),
 * each timed alone with CLOCK_MONOTONIC (wall) and CLOCK_THREAD_CPUTIME_ID (CPU time of this thread: on a
 * shared machine it excludes the time the thread waited for a core). Prints p50/p90/p99/max wall ms, the
 * median CPU ms, arena and blob bytes, and GMAC/s at the wall and CPU medians. --json prints one JSON object
 * per line instead (for examples/bench/compare.py), with the process's peak RSS. Single thread: the library
 * never starts threads.
 *
 * The first line (text mode) and each JSON object ("isa") say which kernel level the sessions run: the one
 * relcon_session_init picks, i.e. the highest this CPU and OS support (CPUID + XGETBV) capped by RELCON_ISA
 * (portable, v3, v4): the first line from the runtime's own probe (Sources/CRelConKernels/include/relcon_kernels.h),
 * the JSON field from each session (relcon_session_info).
 * On v4, the CONV1D shapes of Dispatch.swift's static rule still run the v3 kernels (docs/performance.md).
 *
 * Timings are figures, not pass/fail criteria: the machine may be shared.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "relcon.h"
#include "../../Sources/CRelConKernels/include/relcon_kernels.h"   /* the runtime's ISA probe (static inline) */

/* The level relcon_session_init picks (Dispatch.swift: min(rlck_detect_isa(), rlck_isa_cap())). */
static const char *isa_name(void) {
    int32_t hw = rlck_detect_isa(), cap = rlck_isa_cap(), level = hw < cap ? hw : cap;
    return level == RLCK_ISA_V4_VNNI ? "v4" : level == RLCK_ISA_V3 ? "v3" : "portable";
}

static const char *isa_detail(const char *name) {
    if (!strcmp(name, "v4")) return "AVX-512 F/BW/DQ/VL + VNNI; some CONV1D shapes routed to v3";
    if (!strcmp(name, "v3")) return "AVX2 + FMA + F16C";
    return "x86-64 baseline";
}

static void *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = aligned_alloc(64, ((size_t)n + 63) & ~(size_t)63);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return NULL; }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* A chain of dependent 64-bit adds retires one per cycle on every x86-64 core: adds / CPU time = clock. */
static double clock_ghz(void) {
    double best = 0;
    for (int r = 0; r < 5; r++) {
        volatile uint64_t seed = 1;
        uint64_t x = seed;
        const long n = 200000000;
        double t0 = cpu_ms();
        for (long i = 0; i < n; i++) __asm__ volatile("add $1, %0" : "+r"(x));
        double ms = cpu_ms() - t0;
        seed = x;
        double ghz = n / (ms * 1e-3) / 1e9;
        if (ghz > best) best = ghz;
    }
    return best;
}

/* Peak resident set of this process image (VmHWM; ru_maxrss would also count a parent's RSS across exec). */
static long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) { kb = strtol(line + 6, NULL, 10); break; }
    if (f) fclose(f);
    if (kb < 0) { struct rusage ru; getrusage(RUSAGE_SELF, &ru); kb = ru.ru_maxrss; }
    return kb;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, int n, double q) {
    int i = (int)ceil(q * n) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return sorted[i];
}

static const char *precision_name(uint32_t dtype) {
    switch (dtype) {
    case RELCON_DTYPE_F32: return "fp32";
    case RELCON_DTYPE_F16: return "fp16";
    case RELCON_DTYPE_I8: return "int8";
    default: return "?";
    }
}

int main(int argc, char **argv) {
    int iters = 200, warmup = 20, json = 0;
    double warmup_ms = 0;
    const char *input_path = NULL;
    float *input = NULL;
    size_t input_samples = 0;
    uint32_t lengths[16];
    int n_lengths = 0;
    int first_blob = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup-ms") && i + 1 < argc) warmup_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) input_path = argv[++i];
        else if (!strcmp(argv[i], "--clock")) { printf("%.3f\n", clock_ghz()); return 0; }
        else if (!strcmp(argv[i], "--lengths") && i + 1 < argc) {
            char *s = argv[++i];
            while (*s && n_lengths < 16) {
                lengths[n_lengths++] = (uint32_t)strtoul(s, &s, 10);
                if (*s == ',') s++;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--iters N] [--warmup N] [--warmup-ms MS] [--lengths 256,1000] [--json] BLOB...\n", argv[0]);
            return 2;
        } else { first_blob = i; break; }
    }
    if (first_blob >= argc || iters < 1) {
        fprintf(stderr, "usage: %s [--iters N] [--warmup N] [--warmup-ms MS] [--lengths 256,1000] [--json] BLOB...\n", argv[0]);
        return 2;
    }
    if (n_lengths == 0) lengths[n_lengths++] = 0;   /* the contract's window */
    if (input_path) {
        size_t bytes = 0;
        input = read_file(input_path, &bytes);
        input_samples = bytes / 12;
        if (!input || input_samples == 0) { fprintf(stderr, "bench: cannot read %s\n", input_path); return 1; }
    }

    const char *isa = isa_name();
    int32_t hw = rlck_detect_isa();
    if (!json)
        printf("kernels: %s (%s); CPU supports %s, RELCON_ISA=%s\n", isa, isa_detail(isa),
               hw == RLCK_ISA_V4_VNNI ? "v4" : hw == RLCK_ISA_V3 ? "v3" : "portable",
               getenv("RELCON_ISA") ? getenv("RELCON_ISA") : "(unset)");
    if (!json)
        printf("%-22s %-5s %5s %9s %8s %10s %8s %8s %8s %8s %8s %7s %7s\n", "blob", "prec", "T", "blob B", "arena B",
               "MACs", "p50 ms", "p90 ms", "p99 ms", "max ms", "cpu ms", "GMAC/s", "cpuGM/s");
    double *times = malloc(sizeof(double) * (size_t)iters);
    double *cpu = malloc(sizeof(double) * (size_t)iters);
    for (int b = first_blob; b < argc; b++) {
        size_t blob_bytes = 0;
        void *blob = read_file(argv[b], &blob_bytes);
        if (!blob) { fprintf(stderr, "bench: cannot read %s\n", argv[b]); return 1; }
        for (int li = 0; li < n_lengths; li++) {
            relcon_model_info info;
            relcon_status st = relcon_inspect(blob, blob_bytes, lengths[li], &info);
            if (st != RELCON_OK) { fprintf(stderr, "bench: %s: %s\n", argv[b], relcon_status_string(st)); return 1; }
            uint32_t T = info.n_samples;
            void *arena = aligned_alloc(RELCON_ARENA_ALIGN, (info.arena_bytes + 63) & ~(uint64_t)63);
            relcon_session *s = NULL;
            st = relcon_session_init(blob, blob_bytes, T, arena, info.arena_bytes, &s);
            if (st != RELCON_OK) { fprintf(stderr, "bench: session: %s\n", relcon_status_string(st)); return 1; }
            /* the level this session's kernels run at, from the session itself (relcon_session_info, 0.5) */
            relcon_session_desc sd;
            memset(&sd, 0, sizeof sd);
            sd.struct_bytes = sizeof sd;
            st = relcon_session_info(s, &sd);
            if (st != RELCON_OK) { fprintf(stderr, "bench: session_info: %s\n", relcon_status_string(st)); return 1; }
            if (strcmp(sd.isa_name, isa) != 0) fprintf(stderr, "bench: the session runs %s, not %s\n", sd.isa_name, isa);
            float *x = malloc(sizeof(float) * 3 * T);
            for (uint32_t t = 0; t < T && input; t++)
                for (int a = 0; a < 3; a++) x[3 * t + a] = input[3 * (t % input_samples) + a];
            for (uint32_t t = 0; t < T && !input; t++) {
                double u = t / (double)info.sample_rate_hz;
                x[3 * t] = (float)(0.3 * sin(2 * M_PI * 1.8 * u) + 0.05 * sin(2 * M_PI * 7.1 * u));
                x[3 * t + 1] = (float)(0.2 * cos(2 * M_PI * 1.8 * u) - 0.98);
                x[3 * t + 2] = (float)(0.1 * sin(2 * M_PI * 3.6 * u + 0.4));
            }
            float *z = malloc(sizeof(float) * info.embedding_dim);
            double w0 = now_ms();
            for (int i = 0; i < warmup || now_ms() - w0 < warmup_ms; i++)
                if (relcon_embed(s, x, T, z, info.embedding_dim) != RELCON_OK) { fprintf(stderr, "bench: embed failed\n"); return 1; }
            for (int i = 0; i < iters; i++) {
                double t0 = now_ms(), c0 = cpu_ms();
                st = relcon_embed(s, x, T, z, info.embedding_dim);
                cpu[i] = cpu_ms() - c0;
                times[i] = now_ms() - t0;
                if (st != RELCON_OK) { fprintf(stderr, "bench: embed failed\n"); return 1; }
            }
            qsort(times, (size_t)iters, sizeof(double), cmp_double);
            qsort(cpu, (size_t)iters, sizeof(double), cmp_double);
            double p50 = quantile(times, iters, 0.5), p90 = quantile(times, iters, 0.9);
            double p99 = quantile(times, iters, 0.99), mx = times[iters - 1];
            double c50 = quantile(cpu, iters, 0.5);
            double gmacs = (double)info.macs / (p50 * 1e-3) / 1e9;
            double cgmacs = (double)info.macs / (c50 * 1e-3) / 1e9;

            const char *name = strrchr(argv[b], '/') ? strrchr(argv[b], '/') + 1 : argv[b];
            if (json)
                printf("{\"blob\": \"%s\", \"isa\": \"%s\", \"precision\": \"%s\", \"n_samples\": %u, \"blob_bytes\": %llu, "
                       "\"arena_bytes\": %llu, \"macs\": %llu, \"iters\": %d, \"p50_ms\": %.4f, \"p90_ms\": %.4f, "
                       "\"p99_ms\": %.4f, \"max_ms\": %.4f, \"cpu_p50_ms\": %.4f, \"gmacs\": %.3f, "
                       "\"cpu_gmacs\": %.3f, \"peak_rss_kb\": %ld, \"embedding\": [",
                       argv[b], sd.isa_name, precision_name(info.weight_dtype), T, (unsigned long long)info.blob_bytes,
                       (unsigned long long)info.arena_bytes, (unsigned long long)info.macs, iters, p50, p90, p99,
                       mx, c50, gmacs, cgmacs, peak_rss_kb());
            if (json) {
                for (uint32_t k = 0; k < info.embedding_dim; k++) printf("%s%.9g", k ? ", " : "", z[k]);
                printf("]}\n");
            }
            else
                printf("%-22.22s %-5s %5u %9llu %8llu %10llu %8.3f %8.3f %8.3f %8.3f %8.3f %7.2f %7.2f\n", name,
                       precision_name(info.weight_dtype), T, (unsigned long long)info.blob_bytes,
                       (unsigned long long)info.arena_bytes, (unsigned long long)info.macs, p50, p90, p99, mx, c50,
                       gmacs, cgmacs);
            fflush(stdout);
            free(z);
            free(x);
            free(arena);
        }
        free(blob);
    }
    free(times);
    free(cpu);
    free(input);
    return 0;
}
