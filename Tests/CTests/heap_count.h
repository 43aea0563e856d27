/* heap_count.h: counts the malloc-family calls of a whole process, librelcon.so's included (glibc).
 *
 * Include it in exactly one translation unit of an executable. It defines malloc, calloc, realloc, free,
 * memalign, aligned_alloc and posix_memalign on top of glibc's __libc_* entry points; the dynamic linker binds
 * every caller in the process, the shared library too, to these definitions. While heap_count_on is non-zero
 * each call adds one to heap_count_calls. Used by Tests/CTests/test_noalloc.c, Tests/CTests/test_stream.c and
 * examples/firmware_sim/firmware_sim.c ("no heap call inside librelcon after init").
 *
 * RELCON_NO_INTERPOSE: only the two counters (sanitizer builds bring their own allocator; nothing is counted).
 */
#ifndef RELCON_HEAP_COUNT_H
#define RELCON_HEAP_COUNT_H

#include <stddef.h>

static volatile int heap_count_on; /* count while non-zero */
static volatile unsigned long heap_count_calls; /* calls counted so far */

#ifndef RELCON_NO_INTERPOSE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define HEAP_COUNT()                           \
    do {                                       \
        if (heap_count_on) heap_count_calls++; \
    } while (0)
void *malloc(size_t n) {
    HEAP_COUNT();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    HEAP_COUNT();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    HEAP_COUNT();
    return __libc_realloc(p, n);
}
void free(void *p) {
    HEAP_COUNT();
    __libc_free(p);
}
void *memalign(size_t a, size_t n) {
    HEAP_COUNT();
    return __libc_memalign(a, n);
}
void *aligned_alloc(size_t a, size_t n) {
    HEAP_COUNT();
    return __libc_memalign(a, n);
}
int posix_memalign(void **out, size_t a, size_t n) {
    HEAP_COUNT();
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
#undef HEAP_COUNT
#endif

#endif
