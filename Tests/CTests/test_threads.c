/* Many sessions on one blob from many threads (pthreads): every thread's results equal the single-threaded ones,
 * bit for bit. Run under ThreadSanitizer by `make test-sanitize` (mk/fuzz.mk).
 *
 *   test_threads BLOB [THREADS] [ITERATIONS]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static void *g_blob;
static size_t g_bytes;
static relcon_model_info g_info;
static float *g_window, *g_expected;
static int g_iters;

static void *worker(void *arg) {
    long id = (long)(intptr_t)arg;
    void *arena = aligned_alloc(64, (g_info.arena_bytes + 63) & ~(uint64_t)63);
    relcon_session *s;
    float *e = malloc(sizeof(float) * g_info.embedding_dim);
    long bad = 0;
    if (relcon_session_init(g_blob, g_bytes, 0, arena, g_info.arena_bytes, &s) != RELCON_OK) bad++;
    for (int i = 0; i < g_iters && !bad; i++) {
        const float *x = g_window + 3 * (uint32_t)((i + id) % 4) * 16;
        if (relcon_embed(s, x, g_info.window_samples, e, g_info.embedding_dim) != RELCON_OK) { bad++; break; }
        if (memcmp(e, g_expected + (size_t)((i + id) % 4) * g_info.embedding_dim, sizeof(float) * g_info.embedding_dim))
            bad++;
    }
    free(e);
    free(arena);
    return (void *)(intptr_t)bad;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: test_threads BLOB [THREADS] [ITERATIONS]\n"); return 2; }
    int threads = argc > 2 ? atoi(argv[2]) : 8;
    g_iters = argc > 3 ? atoi(argv[3]) : 200;
    g_blob = read_file_aligned(argv[1], &g_bytes);
    if (!g_blob || relcon_inspect(g_blob, g_bytes, 0, &g_info) != RELCON_OK) { fprintf(stderr, "bad blob\n"); return 1; }
    uint32_t w = g_info.window_samples;
    g_window = malloc(sizeof(float) * 3 * (w + 64));
    for (uint32_t i = 0; i < 3 * (w + 64); i++) g_window[i] = (float)((i * 37u) % 101) / 50.0f - 1.0f;
    g_expected = malloc(sizeof(float) * 4 * g_info.embedding_dim);
    void *arena = aligned_alloc(64, (g_info.arena_bytes + 63) & ~(uint64_t)63);
    relcon_session *s;
    if (relcon_session_init(g_blob, g_bytes, 0, arena, g_info.arena_bytes, &s) != RELCON_OK) return 1;
    for (int k = 0; k < 4; k++)
        if (relcon_embed(s, g_window + 3 * k * 16, w, g_expected + (size_t)k * g_info.embedding_dim, g_info.embedding_dim))
            return 1;
    pthread_t t[64];
    if (threads > 64) threads = 64;
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    long bad = 0;
    for (int i = 0; i < threads; i++) { void *r; pthread_join(t[i], &r); bad += (long)(intptr_t)r; }
    printf("test_threads: %s: %d threads x %d embeds, %ld mismatches\n", argv[1], threads, g_iters, bad);
    free(arena);
    return bad ? 1 : 0;
}
