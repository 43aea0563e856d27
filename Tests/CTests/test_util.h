/* Helpers shared by the cmocka suites: read whole files into aligned buffers, read golden vectors.
 * Test code only: it may allocate (the library under test may not). */
#ifndef RELCON_TEST_UTIL_H
#define RELCON_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relcon.h"

/* Reads a file into a 64-byte-aligned buffer; returns NULL (and *out_len = 0) when it cannot. */
static inline void *read_file_aligned(const char *path, size_t *out_len) {
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    size_t cap = ((size_t)n + 63u) & ~(size_t)63u;
    void *buf = aligned_alloc(64, cap ? cap : 64);
    if (!buf) { fclose(f); return NULL; }
    if ((size_t)n && fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return NULL; }
    fclose(f);
    *out_len = (size_t)n;
    return buf;
}

/* Golden vectors (Tests/Fixtures/README.md): "RCGD", version 1, n_windows, n_samples, channels, dim,
 * f32 inputs [n][T][channels], f32 embeddings [n][dim]. Version 2 adds u32 flags (bit 0: bit-exact) and u32
 * precision (1 f32, 2 f16, 3 int8) before the data. */
#define GOLDEN_FLAG_BIT_EXACT 1u
typedef struct golden {
    uint32_t n_windows, n_samples, channels, dim;
    uint32_t flags, precision;
    const float *inputs;      /* [n_windows][n_samples][channels] */
    const float *embeddings;  /* [n_windows][dim] */
    void *storage;
} golden;

static inline int golden_load(const char *path, golden *g) {
    size_t len = 0;
    uint8_t *buf = (uint8_t *)read_file_aligned(path, &len);
    memset(g, 0, sizeof *g);
    if (!buf) return -1;
    uint32_t h[8] = {0};
    if (len < 24) { free(buf); return -1; }
    memcpy(h, buf, 24);
    if (memcmp(buf, "RCGD", 4) != 0 || (h[1] != 1 && h[1] != 2)) { free(buf); return -1; }
    size_t header = h[1] == 1 ? 24 : 32;
    if (len < header) { free(buf); return -1; }
    memcpy(h, buf, header);
    g->n_windows = h[2]; g->n_samples = h[3]; g->channels = h[4]; g->dim = h[5];
    g->flags = h[1] == 2 ? h[6] : 0;
    g->precision = h[1] == 2 ? h[7] : 1;
    size_t n_in = (size_t)g->n_windows * g->n_samples * g->channels;
    size_t n_out = (size_t)g->n_windows * g->dim;
    if (len != header + 4 * (n_in + n_out)) { free(buf); return -1; }
    g->inputs = (const float *)(buf + header);
    g->embeddings = g->inputs + n_in;
    g->storage = buf;
    return 0;
}

/* Directory of the committed fixtures; RELCON_FIXTURES overrides (the Makefile sets it). */
static inline const char *fixtures_dir(void) {
    const char *d = getenv("RELCON_FIXTURES");
    return d && *d ? d : "Tests/Fixtures";
}

static inline void fixture_path(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", fixtures_dir(), name);
}

#endif
