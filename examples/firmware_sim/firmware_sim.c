/* firmware_sim: a wearable's firmware loop on the host, against librelcon.so, streaming at the sensor's rate.
 *
 *   firmware_sim MODEL.blob RECORDING [--rate HZ] [--hop N] [--counts LSB_PER_G] [--labels FILE --exp N]
 *                [--head K] [--quiet]
 *
 * What it simulates:
 *   boot     the blob is "flashed" into a static, 64-byte aligned flash image (read once from the file);
 *            relcon_stream_arena_bytes sizes the stream for this sensor rate and is checked against the static
 *            arena (FW_ARENA_BYTES); relcon_stream_init puts the stream and its session in that arena.
 *   sensor   a 3-axis accelerometer at its own rate (the recording's native rate: `x y z` / `x,y,z` lines with
 *            --rate, or `t,x,y,z` lines whose timestamps go with each FIFO burst); with --counts it delivers
 *            int16 counts (LSB_PER_G counts per g, saturating like a real sensor) instead of floats. Its FIFO
 *            raises an interrupt every FW_FIFO_WATERMARK samples.
 *   app      each burst goes to relcon_stream_push_f32 / _i16, which resamples to the contract rate, keeps the
 *            window and runs the model every `hop` contract samples (no resampling or windowing here). One line
 *            per result: window start and end (s), the classifier's top class and probability (or a regressor's
 *            value, or the embedding norm), the annotated activity over that window when --labels is given, and
 *            the latency of the push that produced it.
 *   end      windows, latency p50/p99, arena used / static arena, the recording-level majority vote, the
 *            agreement with the labels per class and overall, and the heap calls made after boot (counted by
 *            the malloc family defined below, which also sees any allocation inside librelcon.so): 0.
 *
 * Labels (UCI HAPT RawData/labels.txt): rows `exp user activity start end`, 1-based inclusive sample rows of
 * experiment --exp. A window's label is the activity of most of its input samples; a window is scored when that
 * activity is one of the head's classes (HAPT activities 1..6 = the shipped "activity" head's classes in order;
 * postural transitions and unlabelled stretches are not scored).
 * Errors: one line on stderr, exit status 2.
 * Build: cc -O2 -std=c11 -Iinclude examples/firmware_sim/firmware_sim.c -L.build/release -lrelcon \
 *        -Wl,-rpath,$PWD/.build/release -lm        (or `make demo`)
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
#define FW_ARENA_BYTES (256u * 1024u)        /* RAM reserved for the model and the stream */
#endif
#ifndef FW_FLASH_BYTES
#define FW_FLASH_BYTES (16u * 1024u * 1024u) /* flash partition for the blob */
#endif
#define FW_FIFO_WATERMARK 25u                /* sensor FIFO interrupt every 25 samples (0.5 s at 50 Hz) */
#define FW_MAX_WINDOWS 100000u               /* latency log */
#define FW_MAX_CLASSES 64u
#define FW_MAX_LABELLED (1u << 22)           /* samples with a label (84 min at 833 Hz) */

/* ---- heap accounting: every malloc-family call after boot is counted (glibc; the .so binds to these too) --- */
#include "../../Tests/CTests/heap_count.h"

/* ---- static memory: everything the firmware uses ---------------------------------------------------------- */
static uint8_t flash[FW_FLASH_BYTES] __attribute__((aligned(64)));
static uint8_t arena[FW_ARENA_BYTES] __attribute__((aligned(RELCON_ARENA_ALIGN)));
static float fifo[3 * FW_FIFO_WATERMARK];
static int16_t fifo_counts[3 * FW_FIFO_WATERMARK];
static double fifo_t[FW_FIFO_WATERMARK];
static uint32_t votes[FW_MAX_CLASSES];
static uint32_t scored[FW_MAX_CLASSES], agreed[FW_MAX_CLASSES];
static double latency_us[FW_MAX_WINDOWS];
static int8_t labels[FW_MAX_LABELLED];      /* per input sample: HAPT activity, 0 = none */
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

/* The accelerometer: one sample per line, `x y z`, `x,y,z` or `t,x,y,z` (commas or spaces). Returns 1 for a
 * sample, 0 at the end. The first sample fixes the format. */
static FILE *sensor;
static unsigned long sensor_line;
static int sensor_columns;
static int sensor_read(double *t, float xyz[3]) {
    char line[256];
    while (fgets(line, sizeof line, sensor)) {
        sensor_line++;
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\r' || line[0] == 't' || line[0] == 'x') continue;
        for (char *c = line; *c; c++) if (*c == ',') *c = ' ';
        double v[4];
        int n = sscanf(line, "%lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3]);
        if (sensor_columns == 0) {
            if (n != 3 && n != 4) die("recording line is not x,y,z or t,x,y,z: ", line);
            sensor_columns = n;
        }
        if (n != sensor_columns) {
            char msg[64];
            snprintf(msg, sizeof msg, "%lu", sensor_line);
            die("recording changes its number of columns at line ", msg);
        }
        int o = n == 4;
        *t = o ? v[0] : NAN;
        for (int a = 0; a < 3; a++) xyz[a] = (float)v[o + a];
        return 1;
    }
    return 0;
}

/* HAPT labels.txt rows of experiment `exp`. Returns the number of labelled rows read. */
static unsigned read_labels(const char *path, int exp) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open labels ", path);
    unsigned rows = 0;
    int e, u, a;
    long s, t;
    while (fscanf(f, "%d %d %d %ld %ld", &e, &u, &a, &s, &t) == 5) {
        if (e != exp) continue;
        if (s < 1 || t < s || t > (long)FW_MAX_LABELLED || a < 1 || a > 127) die("bad labels row in ", path);
        for (long i = s - 1; i < t; i++) labels[i] = (int8_t)a;
        rows++;
    }
    fclose(f);
    return rows;
}

/* The activity of most input samples in [start, end), or 0. */
static int window_label(double start, double end) {
    long a = (long)floor(start), b = (long)ceil(end);
    if (a < 0) a = 0;
    if (b > (long)FW_MAX_LABELLED) b = FW_MAX_LABELLED;
    unsigned count[128] = {0};
    for (long i = a; i < b; i++) count[(uint8_t)labels[i] & 127]++;
    int best = 0;
    for (int k = 1; k < 128; k++) if (count[k] > count[best]) best = k;
    return best;
}

int main(int argc, char **argv) {
    if (argc < 3)
        die("usage: firmware_sim MODEL.blob RECORDING [--rate HZ] [--hop N] [--counts LSB_PER_G] "
            "[--labels FILE --exp N] [--head K] [--quiet]", NULL);
    uint32_t hop = 0, head_index = 0;
    int quiet = 0, exp = -1;
    double rate = 0, lsb_per_g = 0;
    const char *labels_path = NULL;
    for (int i = 3; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--hop") == 0 && i + 1 < argc) {
            long h = strtol(argv[++i], &end, 10);
            if (*end || h <= 0 || h > 65536) die("--hop must be in 1..65536, got ", argv[i]);
            hop = (uint32_t)h;
        } else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
            rate = strtod(argv[++i], &end);
            if (*end || !(rate >= RELCON_RESAMPLE_MIN_RATE_HZ && rate <= RELCON_RESAMPLE_MAX_RATE_HZ))
                die("--rate must be a number of Hz in [1, 5000], got ", argv[i]);
        } else if (strcmp(argv[i], "--counts") == 0 && i + 1 < argc) {
            lsb_per_g = strtod(argv[++i], &end);
            if (*end || !(lsb_per_g >= 1 && lsb_per_g <= 32768)) die("--counts must be in [1, 32768] LSB/g, got ", argv[i]);
        } else if (strcmp(argv[i], "--labels") == 0 && i + 1 < argc) {
            labels_path = argv[++i];
        } else if (strcmp(argv[i], "--exp") == 0 && i + 1 < argc) {
            long e = strtol(argv[++i], &end, 10);
            if (*end || e < 1 || e > 100000) die("--exp must be an experiment number, got ", argv[i]);
            exp = (int)e;
        } else if (strcmp(argv[i], "--head") == 0 && i + 1 < argc) {
            long h = strtol(argv[++i], &end, 10);
            if (*end || h < 0 || h > 1000) die("--head must be a head index, got ", argv[i]);
            head_index = (uint32_t)h;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else {
            die("unknown argument ", argv[i]);
        }
    }
    if (labels_path && exp < 0) die("--labels needs --exp N (the experiment number of the recording)", NULL);
    unsigned label_rows = labels_path ? read_labels(labels_path, exp) : 0;
    if (labels_path && label_rows == 0) die("no labels for that experiment in ", labels_path);

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

    sensor = fopen(argv[2], "r");
    if (!sensor) die("cannot open recording ", argv[2]);
    setvbuf(sensor, sensor_buf, _IOFBF, sizeof sensor_buf);
    /* the sensor's rate: --rate, else from the first two timestamps (a real driver knows its ODR) */
    uint32_t n_fifo = 0;
    while (n_fifo < FW_FIFO_WATERMARK && sensor_read(&fifo_t[n_fifo], &fifo[3 * n_fifo])) n_fifo++;
    if (rate == 0) {
        if (sensor_columns != 4 || n_fifo < 2) die("recording has no timestamps: pass --rate HZ", NULL);
        rate = (n_fifo - 1) / (fifo_t[n_fifo - 1] - fifo_t[0]);
        if (!(rate >= RELCON_RESAMPLE_MIN_RATE_HZ && rate <= RELCON_RESAMPLE_MAX_RATE_HZ))
            die("timestamps imply a rate outside 1..5000 Hz (seconds expected)", NULL);
    }

    relcon_stream_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_rate_hz = rate;
    cfg.hop = hop;
    for (int a = 0; a < 3; a++) cfg.count_scale[a] = lsb_per_g > 0 ? (float)(1.0 / lsb_per_g) : 1.0f;
    uint64_t need = 0;
    st = relcon_stream_arena_bytes(flash, blob_bytes, &cfg, &need);
    if (st != RELCON_OK) die("stream configuration: ", relcon_status_string(st));
    if (need > sizeof arena) {
        char msg[128];
        snprintf(msg, sizeof msg, "%llu bytes needed, %u reserved (rebuild with -DFW_ARENA_BYTES=...)",
                 (unsigned long long)need, (unsigned)sizeof arena);
        die("static arena too small: ", msg);
    }
    relcon_stream *stream = NULL;
    st = relcon_stream_init(flash, blob_bytes, &cfg, arena, sizeof arena, &stream);
    if (st != RELCON_OK) die("stream_init: ", relcon_status_string(st));
    relcon_resample_desc rd;
    if (relcon_resample_info(rate, info.sample_rate_hz, &rd) != RELCON_OK) die("resampler", NULL);
    if (hop == 0) hop = info.window_samples / 2;

    /* Heads and the kernels from the stream's session: no blob validation (the blob-level relcon_head_* would
     * checksum the whole blob on every call). */
    relcon_session *session = NULL;
    st = relcon_stream_session(stream, &session);
    if (st != RELCON_OK) die("stream_session: ", relcon_status_string(st));
    relcon_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.struct_bytes = sizeof sd;
    st = relcon_session_info(session, &sd);
    if (st != RELCON_OK) die("session_info: ", relcon_status_string(st));
    uint32_t n_heads = sd.n_heads, out_at = 0;
    relcon_head_desc head = {0};
    if (n_heads > 0 && head_index >= n_heads) die("--head: the model has fewer heads", NULL);
    for (uint32_t h = 0; h <= head_index && h < n_heads; h++) {
        st = relcon_session_head_info(session, h, &head);
        if (st != RELCON_OK) die("session_head_info: ", relcon_status_string(st));
        if (h < head_index) out_at += head.n_outputs;
    }
    if (n_heads > 0 && head.kind == RELCON_HEAD_CLASSIFIER && head.n_outputs > FW_MAX_CLASSES) die("too many classes", NULL);
    const char *class_names[FW_MAX_CLASSES];
    for (uint32_t k = 0; n_heads > 0 && head.kind == RELCON_HEAD_CLASSIFIER && k < head.n_outputs; k++)
        if (relcon_session_head_class_name(session, head_index, k, &class_names[k]) != RELCON_OK) class_names[k] = "?";
    const char *model_name = "?";
    if (relcon_meta(flash, blob_bytes, "model_name", &model_name) != RELCON_OK) model_name = "?";
    int classify = n_heads > 0 && head.kind == RELCON_HEAD_CLASSIFIER;
    int score = classify && labels_path;

    printf("boot: model %s (%s), window %u samples at %.0f Hz, hop %u; sensor %.4g Hz %s, resampled x%u/%u in the "
           "stream; arena %llu of %u static bytes; blob %zu bytes in flash; kernels %s\n",
           model_name, n_heads ? head.name : "no heads: embedding norm", info.window_samples, info.sample_rate_hz, hop,
           rate, lsb_per_g > 0 ? "int16 counts" : "float g", rd.up, rd.down, (unsigned long long)need,
           (unsigned)sizeof arena, blob_bytes, sd.isa_name);
    if (!quiet)
        printf("%9s %9s  %-26s %-20s %10s\n", "start_s", "end_s",
               n_heads ? (classify ? "class (p)" : head.target) : "embedding_norm", score ? "annotated" : "",
               "latency_us");
    fflush(stdout);
    /* the counter must see allocations, otherwise its 0 below proves nothing */
    heap_count_on = 1;
    void *volatile probe = malloc(16);
    free(probe);
    if (heap_count_calls != 2) die("heap counter does not see malloc/free (not glibc?)", NULL);
    heap_count_calls = 0; /* from here on: no heap */

    /* ---- run ---- */
    uint64_t total = 0;
    uint32_t n_windows = 0, n_restarts = 0;
    double reg_sum = 0;
    while (n_fifo > 0) {
        /* ISR: the burst goes to the stream as it is (float g, or int16 counts) */
        if (lsb_per_g > 0)
            for (uint32_t i = 0; i < 3 * n_fifo; i++) {
                double c = nearbyint(fifo[i] * lsb_per_g);
                fifo_counts[i] = (int16_t)(c > 32767 ? 32767 : c < -32768 ? -32768 : c);
            }
        uint32_t done = 0;
        double t_burst = sensor_columns == 4 ? fifo_t[0] : RELCON_STREAM_NO_TIME;
        while (done < n_fifo) {
            relcon_stream_result r;
            uint32_t used = 0;
            double t0 = now_us();
            st = lsb_per_g > 0 ? relcon_stream_push_i16(stream, fifo_counts + 3 * done, n_fifo - done, t_burst, &used, &r)
                               : relcon_stream_push_f32(stream, fifo + 3 * done, n_fifo - done, t_burst, &used, &r);
            double dt_us = now_us() - t0;
            t_burst = RELCON_STREAM_NO_TIME;
            if (st != RELCON_OK) die("stream: ", relcon_status_string(st));
            done += used;
            if (!r.ready) continue;
            if (n_windows < FW_MAX_WINDOWS) latency_us[n_windows] = dt_us;
            n_windows++;
            if (r.restarted && r.index > 0) n_restarts++;
            char result[64], annotated[40] = "";
            if (classify) {
                const float *p = r.head_outputs + out_at;
                uint32_t top = 0;
                for (uint32_t k = 1; k < head.n_outputs; k++) if (p[k] > p[top]) top = k;
                votes[top]++;
                snprintf(result, sizeof result, "%s (%.3f)", class_names[top], p[top]);
                if (score) {
                    int lab = window_label(r.start, r.end);
                    if (lab >= 1 && (uint32_t)lab <= head.n_outputs) {
                        scored[lab - 1]++;
                        if ((uint32_t)lab - 1 == top) agreed[lab - 1]++;
                        snprintf(annotated, sizeof annotated, "%s %s", (uint32_t)lab - 1 == top ? "=" : "x",
                                 class_names[lab - 1]);
                    } else {
                        snprintf(annotated, sizeof annotated, "- (%s)", lab ? "transition" : "unlabelled");
                    }
                }
            } else if (n_heads > 0) {
                float value = r.head_outputs[out_at];
                reg_sum += value;
                snprintf(result, sizeof result, "%.4g %s", value, head.unit ? head.unit : "");
            } else {
                double norm = 0;
                for (uint32_t k = 0; k < info.embedding_dim; k++) norm += (double)r.embedding[k] * r.embedding[k];
                snprintf(result, sizeof result, "%.4f", sqrt(norm));
            }
            if (!quiet)
                printf("%9.2f %9.2f  %-26s %-20s %10.0f%s\n", r.start / rate, r.end / rate, result, annotated, dt_us,
                       r.restarted && r.index > 0 ? "  (restart after a gap)" : "");
        }
        total += n_fifo;
        /* sensor: the next burst */
        n_fifo = 0;
        while (n_fifo < FW_FIFO_WATERMARK && sensor_read(&fifo_t[n_fifo], &fifo[3 * n_fifo])) n_fifo++;
    }
    unsigned long heap_calls = heap_count_calls;
    heap_count_on = 0;

    /* ---- report ---- */
    if (n_windows == 0) die("recording is shorter than one window", NULL);
    uint32_t logged = n_windows < FW_MAX_WINDOWS ? n_windows : FW_MAX_WINDOWS;
    qsort(latency_us, logged, sizeof latency_us[0], cmp_double);
    double p50 = latency_us[(logged - 1) / 2], p99 = latency_us[(uint32_t)ceil(0.99 * logged) - 1];
    printf("summary: %u windows (hop %u contract samples, %u restarts) from %llu samples at %.4g Hz (%.1f s); push "
           "latency with a result p50 %.0f us, p99 %.0f us; arena %llu of %u bytes; blob %zu bytes; heap calls after "
           "boot: %lu\n",
           n_windows, hop, n_restarts, (unsigned long long)total, rate, total / rate, p50, p99,
           (unsigned long long)need, (unsigned)sizeof arena, blob_bytes, heap_calls);
    if (classify) {
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
    if (score) {
        uint32_t s = 0, a = 0;
        printf("agreement with the annotated activity (windows whose majority label is a class):");
        for (uint32_t k = 0; k < head.n_outputs; k++) {
            if (!scored[k]) continue;
            printf(" %s %u/%u", class_names[k], agreed[k], scored[k]);
            s += scored[k];
            a += agreed[k];
        }
        printf("; overall %u/%u = %.1f %%\n", a, s, s ? 100.0 * a / s : 0.0);
    }
    fflush(stdout);
    fclose(sensor);
    return heap_calls == 0 ? 0 : 1;
}
