/* The few services the device test harness (harness.c) and the bare-metal examples need from their platform:
 * console output, whole-file reads, a bump allocator for test buffers, an instruction counter and the stack.
 *
 *   plat_linux.c     hosted (x86-64 and aarch64 Linux under qemu-aarch64): stdio, aligned_alloc
 *   ../cortex-m4/semihost.c   bare metal (qemu-system-arm -M mps2-an386): ARM semihosting, a RAM region
 *
 * Test code only: librelcon itself needs none of this. */
#ifndef RELCON_PLAT_H
#define RELCON_PLAT_H

#include <stddef.h>
#include <stdint.h>

/* Writes n bytes to the console. */
void plat_write(const char *s, size_t n);

/* Reads a whole file into a new 64-byte-aligned buffer from plat_alloc (at least 1 byte of slack after the
 * data); returns NULL on any error (missing file, not enough buffer memory). */
void *plat_read_file(const char *path, size_t *out_bytes);

/* Writes a file (hosted platforms only; bare metal returns -1). Temp file, then rename. */
int plat_write_file(const char *path, const void *data, size_t bytes);

/* Test-buffer memory: a bump allocator; plat_mark()/plat_release() free everything allocated after a mark. */
void *plat_alloc(size_t bytes, size_t align);
size_t plat_mark(void);
void plat_release(size_t mark);

/* Instructions retired so far (bare metal under qemu -icount: calibrated timer ticks), or 0 when unknown. */
uint64_t plat_instructions(void);

/* Stack high-water mark around one call: plat_stack_paint() fills the unused stack below the caller's frame
 * with a pattern; plat_stack_used() returns how many bytes below that frame were written since (0 when the
 * platform cannot tell). */
void plat_stack_paint(void);
size_t plat_stack_used(void);

/* The harness's command line (argv on hosted platforms, the semihosting command line on bare metal). */
int plat_args(int argc, char **argv, char ***out_argv);

/* Ends the program (0 = success). */
void plat_exit(int code) __attribute__((noreturn));

/* Name of the target, for messages: "x86-64", "aarch64", "cortex-m4". */
extern const char plat_target[];

/* ---- small text formatting (no printf on bare metal) ---------------------------------------------------- */
typedef struct out_buf { char s[512]; size_t n; } out_buf;
void out_str(out_buf *b, const char *s);
void out_u64(out_buf *b, uint64_t v);
void out_i64(out_buf *b, int64_t v);
void out_hex(out_buf *b, uint64_t v, int digits);
void out_f(out_buf *b, double v, int decimals);   /* fixed point, e.g. 0.123 */
void out_g(out_buf *b, double v);                 /* 4 significant digits, exponent form for small/large */
void out_flush(out_buf *b);                       /* writes and empties the buffer */

#endif
