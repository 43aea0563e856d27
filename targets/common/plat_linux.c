/* plat.h on hosted Linux (x86-64, and aarch64 under qemu-aarch64): stdio and aligned_alloc. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plat.h"

#ifndef PLAT_TARGET
#if defined(__aarch64__)
#define PLAT_TARGET "aarch64"
#elif defined(__x86_64__)
#define PLAT_TARGET "x86-64"
#else
#define PLAT_TARGET "host"
#endif
#endif
const char plat_target[] = PLAT_TARGET;

void plat_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); fflush(stdout); }

/* Allocations are kept in a list so that plat_release can free them (the hosted "bump allocator"). */
#define MAX_BLOCKS 4096
static void *g_blocks[MAX_BLOCKS];
static size_t g_nblocks;

void *plat_alloc(size_t bytes, size_t align) {
    if (g_nblocks == MAX_BLOCKS || align == 0 || (align & (align - 1))) return NULL;
    if (align < sizeof(void *)) align = sizeof(void *);
    size_t rounded = (bytes + align - 1) / align * align;
    void *p = aligned_alloc(align, rounded ? rounded : align);
    if (p) g_blocks[g_nblocks++] = p;
    return p;
}

size_t plat_mark(void) { return g_nblocks; }

void plat_release(size_t mark) {
    while (g_nblocks > mark) free(g_blocks[--g_nblocks]);
}

void *plat_read_file(const char *path, size_t *out_bytes) {
    *out_bytes = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    unsigned char *buf = plat_alloc((size_t)n + 1, 64);
    if (!buf) { fclose(f); return NULL; }
    if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); return NULL; }
    fclose(f);
    buf[n] = 0;
    *out_bytes = (size_t)n;
    return buf;
}

int plat_write_file(const char *path, const void *data, size_t bytes) {
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= sizeof tmp) return -1;
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, bytes, f) == bytes;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) { remove(tmp); return -1; }
    return 0;
}

uint64_t plat_instructions(void) { return 0; }
void plat_stack_paint(void) {}
size_t plat_stack_used(void) { return 0; }

int plat_args(int argc, char **argv, char ***out_argv) { *out_argv = argv; return argc; }

void plat_exit(int code) { fflush(stdout); exit(code); }
