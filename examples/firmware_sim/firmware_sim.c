/* firmware_sim: a wearable's firmware loop on the host, against librelcon.so.
 *
 *   firmware_sim MODEL.blob RECORDING.csv [--hop SAMPLES] [--quiet]
 *
 * What it simulates:
 *   boot     the blob is "flashed" into a static, 64-byte aligned flash image (read once from the file);
 *            relcon_inspect validates it and its arena_bytes is checked against the static arena, sized at compile
 *            time (FW_ARENA_BYTES); relcon_session_init puts the session in that arena. stdio gets static buffers.
 *   sensor   a 3-axis accelerometer at the model's contract rate (the recording's t,x,y,z lines in g, replayed in
 *            time order); its hardware FIFO raises a watermark interrupt every FW_FIFO_WATERMARK samples, the
 *            "ISR" drains it into a ring buffer of FW_RING_SAMPLES samples.
 *   app      every `hop` new samples (once a window is full) the latest window is copied out of the ring and run:
 *            relcon_classify with the blob's first head when it has heads (top class + probability; a regressor
 *            head prints value + unit), else relcon_embed (embedding norm). One line per window: time, result,
 *            latency in microseconds.
 *   end      windows, latency p50/p99, arena used / static arena, blob bytes, the recording-level majority vote
 *            (classifier) or mean (regressor), and the number of heap calls made after boot (counted by the
 *            malloc family defined below, which also catches any allocation inside librelcon.so): 0.
 *
 * The recording must already be at the contract rate (firmware does not resample): `relcon-export recording
 * --fs 100` or `relcon resample REC --to 100` produce one. Errors: one line on stderr, exit status 2.
 * Build: cc -O2 -std=c11 -Iinclude examples/firmware_sim/firmware_sim.c -L.build/release -lrelcon \
 *        -Wl,-rpath,$PWD/.build/release -lm        (or `make firmware-sim`)
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relcon.h"

#ifndef FW_ARENA_BYTES
#define FW_ARENA_BYTES (256u * 1024u)        /* RAM reserved for the model (the compact encoder needs ~96 KiB) */
#endif
#ifndef FW_FLASH_BYTES
#define FW_FLASH_BYTES (16u * 1024u * 1024u) /* flash partition for the blob */
#endif
#define FW_MAX_WINDOW 2048u                  /* longest contract window supported */
#define FW_RING_SAMPLES (2u * FW_MAX_WINDOW)
#define FW_FIFO_WATERMARK 25u                /* sensor FIFO interrupt every 25 samples (250 ms at 100 Hz) */
#define FW_MAX_WINDOWS 100000u               /* latency log */
#define FW_MAX_CLASSES 64u

/* ---- heap accounting: every malloc-family call after boot is counted (glibc; the .so binds to these too) --- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
static volatile int g_booted;
static volatile unsigned long g_heap_calls_after_boot;
#define COUNT() do { if (g_booted) g_heap_calls_after_boot++; } while (0)
void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void free(void *p) { COUNT(); __libc_free(p); }
void *memalign(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { COUNT(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    COUNT();
    void *p = __libc_memalign(a, n);
    if (!p) return 12;
    *out = p;
    return 0;
}

/* ---- static memory: everything the firmware uses ---------------------------------------------------------- */
static uint8_t flash[FW_FLASH_BYTES] __attribute__((aligned(64)));
static uint8_t arena[FW_ARENA_BYTES] __attribute__((aligned(RELCON_ARENA_ALIGN)));
static float ring[3 * FW_RING_SAMPLES];            /* interleaved x,y,z */
static double ring_t[FW_RING_SAMPLES];
static float window_buf[3 * FW_MAX_WINDOW];        /* contiguous copy of the latest window */
static float fifo[3 * FW_FIFO_WATERMARK];
static double fifo_t[FW_FIFO_WATERMARK];
static float probs[FW_MAX_CLASSES];
static float embedding[4096];
static uint32_t votes[FW_MAX_CLASSES];
static double latency_us[FW_MAX_WINDOWS];
static char stdout_buf[1 << 16], sensor_buf[1 << 16];

static void die(const char *msg, const char *arg) {
    fprintf(stderr, "firmware_sim: %s%s\n", msg, arg ? arg : "");
    exit(2);
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

/* The accelerometer: one t,x,y,z line per sample. Returns 1 for a sample, 0 at the end. */
static FILE *sensor;
static unsigned long sensor_line;
static int sensor_read(double *t, float xyz[3]) {
    char line[256];
    while (fgets(line, sizeof line, sensor)) {
        sensor_line++;
        if (line[0] == '#' || line[0] == '\n' || line[0] == 't') continue;   /* comments, header */
        if (sscanf(line, "%lf,%f,%f,%f", t, &xyz[0], &xyz[1], &xyz[2]) != 4) {
            char msg[64];
            snprintf(msg, sizeof msg, "%lu", sensor_line);
            die("recording line is not t,x,y,z: ", msg);
        }
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) die("usage: firmware_sim MODEL.blob RECORDING.csv [--hop SAMPLES] [--quiet]", NULL);
    uint32_t hop = 0;
    int quiet = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--hop") == 0 && i + 1 < argc) {
            char *end;
            long h = strtol(argv[++i], &end, 10);
            if (*end || h <= 0 || h > (long)FW_MAX_WINDOW) die("--hop must be in 1..2048, got ", argv[i]);
            hop = (uint32_t)h;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else {
            die("unknown argument ", argv[i]);
        }
    }

    /* ---- boot ---- */
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    if (relcon_version() / 10000 != RELCON_VERSION_MAJOR) die("librelcon does not match this header: ", relcon_version_string());
    FILE *bf = fopen(argv[1], "rb");
    if (!bf) die("cannot open model ", argv[1]);
    size_t blob_bytes = fread(flash, 1, sizeof flash, bf);
    int too_big = fgetc(bf) != EOF;
    fclose(bf);
    if (too_big) die("model does not fit the flash partition: ", argv[1]);
    relcon_model_info info;
    relcon_status st = relcon_inspect(flash, blob_bytes, 0, &info);
    if (st != RELCON_OK) die("invalid model: ", relcon_status_string(st));
    const uint32_t win = info.window_samples;
    if (win > FW_MAX_WINDOW || info.embedding_dim > sizeof embedding / sizeof embedding[0])
        die("model window or embedding too large for this firmware build", NULL);
    if (info.arena_bytes > sizeof arena) {
        char msg[128];
        snprintf(msg, sizeof msg, "%llu bytes needed, %u reserved (rebuild with -DFW_ARENA_BYTES=...)",
                 (unsigned long long)info.arena_bytes, (unsigned)sizeof arena);
        die("static arena too small: ", msg);
    }
    if (hop == 0) hop = win / 2;
    relcon_session *session = NULL;
    st = relcon_session_init(flash, blob_bytes, win, arena, sizeof arena, &session);
    if (st != RELCON_OK) die("session_init: ", relcon_status_string(st));

    uint32_t n_heads = 0;
    relcon_head_desc head = {0};
    st = relcon_head_count(flash, blob_bytes, &n_heads);
    if (st != RELCON_OK) die("head_count: ", relcon_status_string(st));
    if (n_heads > 0) {
        st = relcon_head_info(flash, blob_bytes, 0, &head);
        if (st != RELCON_OK) die("head_info: ", relcon_status_string(st));
        if (head.kind == RELCON_HEAD_CLASSIFIER && head.n_outputs > FW_MAX_CLASSES) die("too many classes", NULL);
    }
    const char *class_names[FW_MAX_CLASSES];
    for (uint32_t k = 0; head.kind == RELCON_HEAD_CLASSIFIER && k < head.n_outputs; k++)
        if (relcon_head_class_name(flash, blob_bytes, 0, k, &class_names[k]) != RELCON_OK) class_names[k] = "?";
    const char *model_name = "?";
    if (relcon_meta(flash, blob_bytes, "model_name", &model_name) != RELCON_OK) model_name = "?";

    sensor = fopen(argv[2], "r");
    if (!sensor) die("cannot open recording ", argv[2]);
    setvbuf(sensor, sensor_buf, _IOFBF, sizeof sensor_buf);
    printf("boot: model %s (%s), %u samples at %.0f Hz, hop %u; arena %llu of %u static bytes; blob %zu bytes in flash\n",
           model_name, n_heads ? head.name : "no heads: embedding norm", win, info.sample_rate_hz, hop,
           (unsigned long long)info.arena_bytes, (unsigned)sizeof arena, blob_bytes);
    printf("%10s  %-24s %10s\n", "t_start_s", n_heads ? (head.kind == RELCON_HEAD_CLASSIFIER ? "class (p)" : head.target)
                                                       : "embedding_norm", "latency_us");
    fflush(stdout);
    /* the counter must see allocations, otherwise its 0 below proves nothing */
    g_booted = 1;
    void *volatile probe = malloc(16);
    free(probe);
    if (g_heap_calls_after_boot != 2) die("heap counter does not see malloc/free (not glibc?)", NULL);
    g_heap_calls_after_boot = 0; /* from here on: no heap */

    /* ---- run ---- */
    uint64_t total = 0;          /* samples received */
    uint32_t since = 0;          /* samples since the last window ran */
    uint32_t n_windows = 0;
    double reg_sum = 0, prev_t = NAN, first_dt = NAN;
    for (;;) {
        /* sensor: fill the FIFO up to the watermark (or the end of the recording), then "interrupt" */
        uint32_t n_fifo = 0;
        while (n_fifo < FW_FIFO_WATERMARK && sensor_read(&fifo_t[n_fifo], &fifo[3 * n_fifo])) n_fifo++;
        if (n_fifo == 0) break;
        /* ISR: drain the FIFO into the ring; the app runs a window every `hop` samples */
        for (uint32_t i = 0; i < n_fifo; i++) {
            if (!isnan(prev_t)) {
                double dt = fifo_t[i] - prev_t;
                if (isnan(first_dt)) {
                    first_dt = dt;
                    if (!(fabs(1.0 / dt - info.sample_rate_hz) <= 0.01 * info.sample_rate_hz))
                        die("recording is not at the contract rate (resample it: relcon resample REC --to RATE)", NULL);
                }
            }
            prev_t = fifo_t[i];
            uint32_t slot = (uint32_t)(total % FW_RING_SAMPLES);
            memcpy(&ring[3 * slot], &fifo[3 * i], 3 * sizeof(float));
            ring_t[slot] = fifo_t[i];
            total++;
            since++;
            if (total < win || (since < hop && total > win)) continue;
            since = 0;
            /* app: the latest window, linearised out of the ring */
            uint64_t start = total - win;
            for (uint32_t k = 0; k < win; k++)
                memcpy(&window_buf[3 * k], &ring[3 * ((start + k) % FW_RING_SAMPLES)], 3 * sizeof(float));
            double t_start = ring_t[start % FW_RING_SAMPLES];
            double t0 = now_us();
            char result[64];
            if (n_heads > 0 && head.kind == RELCON_HEAD_CLASSIFIER) {
                uint32_t top = 0;
                st = relcon_classify(session, window_buf, win, 0, probs, FW_MAX_CLASSES, &top);
                if (st == RELCON_OK) {
                    votes[top]++;
                    snprintf(result, sizeof result, "%s (%.3f)", class_names[top], probs[top]);
                }
            } else if (n_heads > 0) {
                float value = 0;
                st = relcon_regress(session, window_buf, win, 0, &value);
                if (st == RELCON_OK) {
                    reg_sum += value;
                    snprintf(result, sizeof result, "%.4g %s", value, head.unit ? head.unit : "");
                }
            } else {
                st = relcon_embed(session, window_buf, win, embedding, info.embedding_dim);
                double norm = 0;
                for (uint32_t k = 0; k < info.embedding_dim; k++) norm += (double)embedding[k] * embedding[k];
                snprintf(result, sizeof result, "%.4f", sqrt(norm));
            }
            double dt_us = now_us() - t0;
            if (st != RELCON_OK) die("inference: ", relcon_status_string(st));
            if (n_windows < FW_MAX_WINDOWS) latency_us[n_windows] = dt_us;
            n_windows++;
            if (!quiet) printf("%10.2f  %-24s %10.0f\n", t_start, result, dt_us);
        }
    }
    unsigned long heap_calls = g_heap_calls_after_boot;
    g_booted = 0;

    /* ---- report ---- */
    if (n_windows == 0) die("recording is shorter than one window", NULL);
    uint32_t logged = n_windows < FW_MAX_WINDOWS ? n_windows : FW_MAX_WINDOWS;
    qsort(latency_us, logged, sizeof latency_us[0], cmp_double);
    double p50 = latency_us[(logged - 1) / 2], p99 = latency_us[(uint32_t)ceil(0.99 * logged) - 1];
    printf("summary: %u windows of %u samples (hop %u) from %llu samples; latency p50 %.0f us, p99 %.0f us; "
           "arena %llu of %u bytes; blob %zu bytes; heap calls after boot: %lu\n",
           n_windows, win, hop, (unsigned long long)total, p50, p99, (unsigned long long)info.arena_bytes,
           (unsigned)sizeof arena, blob_bytes, heap_calls);
    if (n_heads > 0 && head.kind == RELCON_HEAD_CLASSIFIER) {
        uint32_t best = 0;
        for (uint32_t k = 1; k < head.n_outputs; k++)
            if (votes[k] > votes[best]) best = k;
        printf("recording: %s = %s (majority vote:", head.name, class_names[best]);
        for (uint32_t k = 0; k < head.n_outputs; k++)
            if (votes[k]) printf(" %s %u", class_names[k], votes[k]);
        printf(")\n");
    } else if (n_heads > 0) {
        printf("recording: %s = %.4g %s (mean of %u windows)\n", head.target, reg_sum / n_windows,
               head.unit ? head.unit : "", n_windows);
    }
    fflush(stdout);
    fclose(sensor);
    return heap_calls == 0 ? 0 : 1;
}
