/* libFuzzer harness: a blob (and a window derived from it) through every librelcon entry point that reads
 * one: inspect -> meta -> session_init -> embed / classify / regress / recordings / selftest -> the stream.
 * Custom mutator: libFuzzer's mutation, then the CRC-32 (bytes 12..15) recomputed over min(total_bytes, size)
 * bytes, so mutants get past the checksum and reach the validator, the planner and the kernels.
 *
 *   make fuzz FUZZ_SECONDS=N     (mk/fuzz.mk; clang -fsanitize=fuzzer,address,undefined)
 *   replay: the same file built with -DFUZZ_REPLAY_MAIN runs every corpus file once (make test)
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relcon.h"

#define MAX_ARENA (8u << 20)
#ifndef STREAM_RESULTS
#define STREAM_RESULTS 3
#endif

static uint32_t crc_table[256];
static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}
static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
    if (!crc_table[1]) crc_init();
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return ~c;
}

static void fix_crc(uint8_t *d, size_t size) {
    if (size < 20) return;
    uint32_t total;
    memcpy(&total, d + 16, 4);
    size_t n = total < size ? total : size;
    if (n < 16) return;
    memset(d + 12, 0, 4);
    uint32_t c = crc32_ieee(d, n);
    memcpy(d + 12, &c, 4);
}

#ifndef FUZZ_REPLAY_MAIN
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
    (void)seed;
    size_t n = LLVMFuzzerMutate(data, size, max_size);
    fix_crc(data, n);
    return n;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t *blob, *arena;
    static float window[3 * 4096 * 2], out[4096];
    if (!blob) { blob = aligned_alloc(64, 1u << 21); arena = aligned_alloc(64, MAX_ARENA); }
    if (size > (1u << 21)) return 0;
    memcpy(blob, data, size);
    relcon_model_info info;
    if (relcon_inspect(blob, size, 0, &info) != RELCON_OK) return 0;
    const char *v;
    (void)relcon_meta(blob, size, "model_name", &v);
    if (info.arena_bytes > MAX_ARENA || info.window_samples > 4096 || info.embedding_dim > 4096) return 0;
    relcon_session *s;
    if (relcon_session_init(blob, size, 0, arena, MAX_ARENA, &s) != RELCON_OK) return 0;
    const uint32_t w = info.window_samples;
    /* a window from the blob's last bytes, scaled to a few g, with some huge values */
    for (uint32_t i = 0; i < 3 * w * 2; i++) {
        uint8_t b = data[(i * 7919u) % size];
        window[i] = (b == 0xFF) ? 1e38f : (b == 0xFE) ? -3e37f : ((int)b - 128) / 32.0f;
    }
    (void)relcon_embed(s, window, w, out, 4096);
    (void)relcon_embed(s, window, info.min_samples, out, 4096);
    uint32_t heads = 0, top, nw, votes[256];
    float p[256], val, err;
    if (relcon_head_count(blob, size, &heads) == RELCON_OK) {
        for (uint32_t h = 0; h < heads && h < 8; h++) {
            relcon_head_desc d;
            if (relcon_head_info(blob, size, h, &d) != RELCON_OK) continue;
            const char *name;
            (void)relcon_head_class_name(blob, size, h, 0, &name);
            (void)relcon_classify(s, window, w, h, p, 256, &top);
            (void)relcon_regress(s, window, w, h, &val);
            (void)relcon_classify_recording(s, window, 2 * w, w / 2 + 1, h, votes, 256, &top, &nw);
            (void)relcon_regress_recording(s, window, 2 * w, w / 2 + 1, h, &val, &nw);
        }
    }
    (void)relcon_selftest(s, &err);
    /* the stream, at a rate taken from the data: at most STREAM_RESULTS results (each one is a forward pass; the
     * first ones reach every branch of the stream, later ones only repeat them), a gap after the first */
    static const double rates[] = {25, 26, 50, 52, 100, 104, 200, 1, 5000, 33};
    relcon_stream_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_rate_hz = rates[data[size / 2] % 10];
    cfg.hop = w / 3 + 1;
    cfg.count_scale[0] = cfg.count_scale[1] = cfg.count_scale[2] = 1.0f / 4096;
    uint64_t need;
    if (relcon_stream_arena_bytes(blob, size, &cfg, &need) == RELCON_OK && need <= MAX_ARENA) {
        relcon_stream *st;
        if (relcon_stream_init(blob, size, &cfg, arena, MAX_ARENA, &st) == RELCON_OK) {
            uint32_t pos = 0, total = 2 * w, guard = 0, results = 0;
            while (pos < total && guard++ < 64 && results < STREAM_RESULTS) {
                relcon_stream_result r;
                uint32_t used = 0;
                relcon_status rs = relcon_stream_push_f32(st, window + 3 * pos, total - pos, -1, &used, &r);
                if (rs != RELCON_OK && rs != RELCON_E_OUTPUT_NOT_FINITE) break;
                if (r.ready) {
                    for (uint32_t k = 0; k < info.embedding_dim; k++) val = r.embedding[k];
                    if (++results == 1) (void)relcon_stream_gap(st);
                }
                pos += used;
            }
        }
    }
    return 0;
}

#ifdef FUZZ_REPLAY_MAIN
/* Replay: every file given (or every file in the folders given) once. */
#include <dirent.h>
static int replay(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    static uint8_t buf[1u << 21];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 1;
}
int main(int argc, char **argv) {
    unsigned files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) { files += replay(argv[i]); continue; }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
            files += replay(p);
        }
        closedir(d);
    }
    printf("fuzz replay: %u inputs, no crash\n", files);
    return 0;
}
#endif
