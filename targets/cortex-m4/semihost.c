/* plat.h on bare-metal Cortex-M4F under qemu-system-arm -semihosting: console and host files through ARM
 * semihosting (bkpt 0xab), a bump allocator over the linker script's test memory, the CMSDK timer 0 as an
 * instruction counter (with -icount), stack painting. Test rig only: a firmware has none of this. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plat.h"

const char plat_target[] = "cortex-m4";

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_FLEN = 0x0C,
       SYS_GET_CMDLINE = 0x15, SYS_EXIT = 0x18, SYS_EXIT_EXTENDED = 0x20 };

static int semihost(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void plat_write(const char *s, size_t n) {
    uint32_t args[3] = {1 /* stdout: the handle of ":tt" opened for writing is not needed by QEMU */, (uint32_t)(uintptr_t)s, (uint32_t)n};
    static int tt = -1;
    if (tt < 0) {
        uint32_t open_args[3] = {(uint32_t)(uintptr_t)":tt", 4 /* "w" */, 3};
        tt = semihost(SYS_OPEN, open_args);
    }
    args[0] = (uint32_t)tt;
    semihost(SYS_WRITE, args);
}

void plat_exit(int code) {
    /* SYS_EXIT_EXTENDED: ADP_Stopped_ApplicationExit with the exit code (QEMU's exit status). */
    uint32_t args[2] = {0x20026u, (uint32_t)code};
    semihost(SYS_EXIT_EXTENDED, args);
    semihost(SYS_EXIT, (void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20024u));
    for (;;) {}
}

void plat_fault(const char *what) {
    plat_write("FAIL [cortex-m4] ", 17);
    plat_write(what, strlen(what));
    plat_write("\n", 1);
    plat_exit(3);
}

extern unsigned char __test_mem_start[], __test_mem_end[];
static size_t g_used;

void *plat_alloc(size_t bytes, size_t align) {
    if (align == 0 || (align & (align - 1))) return NULL;
    uintptr_t base = (uintptr_t)__test_mem_start + g_used;
    uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
    size_t avail = (size_t)(__test_mem_end - __test_mem_start);
    size_t end = (size_t)(p - (uintptr_t)__test_mem_start);
    if (end > avail || bytes > avail - end) return NULL;
    g_used = end + bytes;
    return (void *)p;
}

size_t plat_mark(void) { return g_used; }
void plat_release(size_t mark) { if (mark <= g_used) g_used = mark; }

void *plat_read_file(const char *path, size_t *out_bytes) {
    *out_bytes = 0;
    uint32_t open_args[3] = {(uint32_t)(uintptr_t)path, 1 /* "rb" */, (uint32_t)strlen(path)};
    int h = semihost(SYS_OPEN, open_args);
    if (h < 0) return NULL;
    uint32_t flen_args[1] = {(uint32_t)h};
    int n = semihost(SYS_FLEN, flen_args);
    unsigned char *buf = n >= 0 ? plat_alloc((size_t)n + 1, 64) : NULL;
    int ok = buf != NULL;
    if (ok && n > 0) {
        uint32_t read_args[3] = {(uint32_t)h, (uint32_t)(uintptr_t)buf, (uint32_t)n};
        ok = semihost(SYS_READ, read_args) == 0;   /* returns the number of bytes NOT read */
    }
    uint32_t close_args[1] = {(uint32_t)h};
    semihost(SYS_CLOSE, close_args);
    if (!ok) return NULL;
    buf[n] = 0;
    *out_bytes = (size_t)n;
    return buf;
}

int plat_write_file(const char *path, const void *data, size_t bytes) { (void)path; (void)data; (void)bytes; return -1; }

/* CMSDK APB timer 0 (mps2-an386: 0x40000000, 25 MHz system clock), free-running down from 0xFFFFFFFF. With
 * -icount shift=0 every guest instruction advances the virtual clock by 1 ns, so one tick is 40 instructions;
 * the factor is measured at the first call against a loop of known length (calibration), not assumed. */
#define TIMER0 ((volatile uint32_t *)0x40000000u)
static uint64_t g_ticks;
static uint32_t g_last;
static double g_instr_per_tick;

static uint32_t timer_now(void) { return TIMER0[1]; }

static uint64_t ticks(void) {
    uint32_t v = timer_now();
    g_ticks += (uint32_t)(g_last - v);
    g_last = v;
    return g_ticks;
}

uint64_t plat_instructions(void) {
    if (g_instr_per_tick == 0) {
        TIMER0[0] = 0;
        TIMER0[2] = 0xFFFFFFFFu;   /* RELOAD */
        TIMER0[1] = 0xFFFFFFFFu;   /* VALUE */
        TIMER0[0] = 1;             /* enable */
        g_last = timer_now();
        /* 2 instructions per iteration (subs, bne) x 2,000,000 */
        uint32_t n = 2000000u;
        uint64_t t0 = ticks();
        __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) :: "cc");
        uint64_t t1 = ticks();
        g_instr_per_tick = t1 > t0 ? 4000000.0 / (double)(t1 - t0) : 0;
        if (g_instr_per_tick == 0) return 0;
    }
    return (uint64_t)((double)ticks() * g_instr_per_tick);
}

double plat_instructions_per_tick(void) { (void)plat_instructions(); return g_instr_per_tick; }

extern uint32_t __stack_limit[];
static uint32_t *g_paint_top;
#define PAINT 0xC5A1C5A1u

__attribute__((noinline)) void plat_stack_paint(void) {
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    g_paint_top = sp - 16;    /* below this function's own frame */
    for (uint32_t *p = __stack_limit; p < g_paint_top; p++) *p = PAINT;
}

size_t plat_stack_used(void) {
    if (!g_paint_top) return 0;
    uint32_t *p = __stack_limit;
    while (p < g_paint_top && *p == PAINT) p++;
    return (size_t)((char *)g_paint_top - (char *)p);
}

int plat_args(int argc, char **argv, char ***out_argv) {
    (void)argc; (void)argv;
    static char line[1024];
    static char *av[16];
    uint32_t args[2] = {(uint32_t)(uintptr_t)line, sizeof line};
    if (semihost(SYS_GET_CMDLINE, args) != 0) line[0] = 0;
    int ac = 0;
    for (char *p = line; *p && ac < 16;) {
        while (*p == ' ') *p++ = 0;
        if (!*p) break;
        av[ac++] = p;
        while (*p && *p != ' ') p++;
    }
    *out_argv = av;
    return ac;
}
