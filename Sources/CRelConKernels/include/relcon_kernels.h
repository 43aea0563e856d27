/* Internal to librelcon (not installed, not exported): the argument blocks the kernels take (`rlck_conv` for
 * CONV1D, `rlck_eltwise` for int8 AFFINE / ADD), the kernel table each ISA level fills (`rlck_kernels`), and the
 * CPU feature probe the runtime uses to pick a level once per session.
 *
 * The per-ISA kernel modules (Sources/RelConKernelsV3, Sources/RelConKernelsV4) and the portable kernels inside
 * RelConRuntime all take these blocks by pointer and publish their entry points as one `rlck_kernels` table of C
 * function pointers, so the runtime can call whichever module the CPU supports without the modules sharing any
 * Swift type (Sources/RelConRuntime/Kernels/Dispatch.swift; docs/runtime.md, "Kernel tables"). */
#ifndef RELCON_KERNELS_H
#define RELCON_KERNELS_H

/* Function-pointer nullability for Swift (clang: the table's CONV1D entries import as non-optional, the others as
 * optional); GCC, which compiles this header for the ARM C units, has none. The other pointers of this header stay
 * unannotated (clang's completeness warning is silenced for this header). */
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-completeness"
#pragma clang diagnostic ignored "-Wnullability-completeness-on-arrays"
#pragma clang diagnostic ignored "-Wnullability-extension"
#define RLCK_NONNULL _Nonnull
#define RLCK_NULLABLE _Nullable
#else
#define RLCK_NONNULL
#define RLCK_NULLABLE
#endif

#include <stdint.h>

/* A hosted C library (getenv for RELCON_ISA) only where there is one: an OS target, or a build that says so
 * with -DRLCK_HOSTED_LIBC=1 (mk/arm.mk for aarch64 Linux, whose objects use the aarch64-none-none-elf Swift
 * triple). Bare-metal builds (Cortex-M) have no environment: no <stdlib.h>, no getenv, no cap. */
#if !defined(RLCK_HOSTED_LIBC)
#if defined(__linux__) || defined(__APPLE__) || defined(__unix__) || defined(_WIN32)
#define RLCK_HOSTED_LIBC 1
#else
#define RLCK_HOSTED_LIBC 0
#endif
#endif
#if RLCK_HOSTED_LIBC
#include <stdlib.h>
#endif

/* One CONV1D call. Activations are channels-last [length][channels]; weights [channels_out][kernel][channels_in].
 *   fp32 / fp16:  x, residual, y f32; w f32 (fp32) or IEEE binary16 (fp16); bias f32 or NULL.
 *   int8:         x i8 (x_signed = 1) or u8; w i8; bias i32 or NULL; residual i8 (res_signed = 1) or u8, or
 *                 NULL; y i8/u8 clamped to [out_lo, out_hi]; mult, shift, mult_res per output channel
 *                 (docs/quantization.md: y = clamp((acc*M + res*Mr + 2^(s-1)) >> s, lo, hi) in 64-bit);
 *                 x_max: an upper bound of every x element when the caller can prove one (a u7 value: 127, its
 *                 producer clamped it), else 0. u8 x with 0 < x_max <= 127 lets the AVX2 kernel use vpmaddubsw,
 *                 exact because |x_i*w_i + x_j*w_j| <= 2*127*128 = 32512 < 2^15. */
typedef struct rlck_conv {
    const void *x;
    const void *w;
    const void *bias;
    const void *residual;
    void *y;
    const int32_t *mult;
    const int32_t *shift;
    const int32_t *mult_res;
    int64_t length_in, channels_in, length_out, channels_out;
    int64_t kernel, stride, dilation, pad_left;
    int32_t relu;        /* fp32/fp16: ReLU after bias and residual */
    int32_t x_signed;    /* int8: 1 = x is i8, 0 = u8 */
    int32_t res_signed;  /* int8: 1 = residual is i8, 0 = u8 */
    int32_t out_lo, out_hi;
    int32_t x_max;       /* int8: 0, or a proven bound 1..127 of the u8 x elements (see above) */
} rlck_conv;

/* One int8 AFFINE or ADD call (docs/quantization.md §2), channels-last [length][channels], per channel c:
 *   AFFINE  y = clamp((x*A + B + 2^(s-1)) >> s, out_lo, out_hi)      mult = A, bias = B; r, mult_r NULL
 *   ADD     y = clamp((x*M + r*Mr + 2^(s-1)) >> s, out_lo, out_hi)   mult = M, r, mult_r = Mr; bias NULL
 * in 64-bit. x i8 (x_signed = 1) or u8; r i8 (r_signed = 1) or u8; y i8/u8 (the clamp decides); mult, bias,
 * mult_r, shift: i32 [channels]. */
typedef struct rlck_eltwise {
    const void *x;
    const void *r;
    void *y;
    const int32_t *mult;
    const int32_t *bias;
    const int32_t *mult_r;
    const int32_t *shift;
    int64_t length, channels;
    int32_t x_signed, r_signed;
    int32_t out_lo, out_hi;
} rlck_eltwise;

/* The precision of a CONV1D, for rlck_kernels.keeps. */
enum { RLCK_CONV_F32 = 0, RLCK_CONV_F16 = 1, RLCK_CONV_I8 = 2 };

/* One ISA level's kernels: what the runtime calls for the operators whose speed depends on the CPU. Every level
 * has all three CONV1D entries; affine_i8 / add_i8 NULL run the fallback level's, else the runtime's portable
 * loops (Kernels/Affine+I8.swift, Add+I8.swift).
 * keeps NULL: every CONV1D runs this level's lanes; otherwise keeps(a, kind) == 0 sends that call to the
 * entries of level `fallback` (a lower level of the same CPU, whose lanes were measured faster for that shape:
 * a static rule of the shape, so every call of a session takes the same path). */
typedef struct rlck_kernels {
    void (*RLCK_NONNULL conv_f32)(const rlck_conv *RLCK_NONNULL);
    void (*RLCK_NONNULL conv_f16)(const rlck_conv *RLCK_NONNULL);
    void (*RLCK_NONNULL conv_i8)(const rlck_conv *RLCK_NONNULL);
    void (*RLCK_NULLABLE affine_i8)(const rlck_eltwise *RLCK_NONNULL);
    void (*RLCK_NULLABLE add_i8)(const rlck_eltwise *RLCK_NONNULL);
    int32_t (*RLCK_NULLABLE keeps)(const rlck_conv *RLCK_NONNULL, int32_t kind);
    int32_t fallback;
} rlck_kernels;

/* ISA levels, in increasing order. */
enum {
    RLCK_ISA_PORTABLE = 0,   /* x86-64 baseline (SSE2): runs anywhere */
    RLCK_ISA_V3 = 1,         /* x86-64-v3: AVX2, FMA, F16C, BMI2 */
    RLCK_ISA_V4_VNNI = 2     /* x86-64-v4 (AVX-512 F/BW/CD/DQ/VL) + AVX512-VNNI */
};
/* The same numbers on aarch64 (a session records one of them; Kernels/Dispatch.swift): 0 portable, 1 neon (baseline
 * Advanced SIMD: Sources/RelConKernelsA64), 2 dotprod (FEAT_DotProd: Sources/RelConKernelsA64Dot). */
enum {
    RLCK_ISA_A64_NEON = 1,
    RLCK_ISA_A64_DOTPROD = 2
};

#if defined(__x86_64__)
static inline void rlck_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    uint32_t a = leaf, b, c = sub, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    r[0] = a; r[1] = b; r[2] = c; r[3] = d;
}

static inline uint64_t rlck_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* The highest level this CPU and OS support: CPUID feature bits, and XCR0 for the register state the OS saves
 * (YMM for v3; opmask, ZMM_Hi256, Hi16_ZMM for v4). */
static inline int32_t rlck_detect_isa(void) {
    uint32_t r[4];
    rlck_cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    if (max_leaf < 7) return RLCK_ISA_PORTABLE;
    rlck_cpuid(1, 0, r);
    uint32_t ecx1 = r[2];
    int osxsave = (ecx1 >> 27) & 1, avx = (ecx1 >> 28) & 1, fma = (ecx1 >> 12) & 1, f16c = (ecx1 >> 29) & 1;
    int movbe = (ecx1 >> 22) & 1, popcnt = (ecx1 >> 23) & 1, sse41 = (ecx1 >> 19) & 1, sse42 = (ecx1 >> 20) & 1;
    int ssse3 = (ecx1 >> 9) & 1;
    if (!osxsave || !avx) return RLCK_ISA_PORTABLE;
    uint64_t xcr0 = rlck_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return RLCK_ISA_PORTABLE;          /* XMM and YMM state */
    rlck_cpuid(7, 0, r);
    uint32_t ebx7 = r[1], ecx7 = r[2];
    int avx2 = (ebx7 >> 5) & 1, bmi1 = (ebx7 >> 3) & 1, bmi2 = (ebx7 >> 8) & 1;
    rlck_cpuid(0x80000000u, 0, r);
    int lzcnt = 0;
    if (r[0] >= 0x80000001u) { rlck_cpuid(0x80000001u, 0, r); lzcnt = (r[2] >> 5) & 1; }
    if (!(avx2 && fma && f16c && bmi1 && bmi2 && movbe && popcnt && sse41 && sse42 && ssse3 && lzcnt))
        return RLCK_ISA_PORTABLE;
    int avx512f = (ebx7 >> 16) & 1, avx512dq = (ebx7 >> 17) & 1, avx512cd = (ebx7 >> 28) & 1;
    int avx512bw = (ebx7 >> 30) & 1, avx512vl = (ebx7 >> 31) & 1, vnni = (ecx7 >> 11) & 1;
    if (avx512f && avx512dq && avx512cd && avx512bw && avx512vl && vnni && (xcr0 & 0xE6) == 0xE6)
        return RLCK_ISA_V4_VNNI;
    return RLCK_ISA_V3;
}
#elif defined(__aarch64__) && RLCK_HOSTED_LIBC && !defined(__APPLE__)
#include <sys/auxv.h>
/* aarch64 Linux (mk/arm.mk: the aarch64-none-none-elf triple with RLCK_HOSTED_LIBC=1): the kernel's hardware
 * capabilities (Advanced SIMD is part of Armv8-A, but a kernel that does not report it gets the portable level).
 * HWCAP_ASIMDDP is FEAT_DotProd (sdot/udot): Cortex-A55/A75 and later, not Cortex-A53/A72. */
static inline int32_t rlck_detect_isa(void) {
    unsigned long hw = getauxval(AT_HWCAP);
    if (!(hw & (1ul << 1))) return RLCK_ISA_PORTABLE;          /* HWCAP_ASIMD */
    if (hw & (1ul << 20)) return RLCK_ISA_A64_DOTPROD;          /* HWCAP_ASIMDDP */
    return RLCK_ISA_A64_NEON;
}
#elif defined(__aarch64__)
/* aarch64 without an OS to ask: the baseline (Advanced SIMD is part of Armv8-A). */
static inline int32_t rlck_detect_isa(void) { return RLCK_ISA_A64_NEON; }
#else
static inline int32_t rlck_detect_isa(void) { return RLCK_ISA_PORTABLE; }
#endif

/* CRC-32 (IEEE) tables for slicing by 4 (crc32_table.c): constant data, not exported from librelcon.so. */
__attribute__((visibility("hidden"))) extern const uint32_t rlck_crc32_table[4][256];
/* The tables in place (Swift would copy an imported C array value onto the stack: 4 KiB per use). */
static inline const uint32_t *rlck_crc32_rows(void) { return &rlck_crc32_table[0][0]; }

/* Hint that `bytes` bytes at p will be read soon (one prefetch per 64-byte line; never faults, changes nothing). */
static inline void rlck_prefetch(const void *p, int64_t bytes) {
    for (int64_t i = 0; i < bytes; i += 64) __builtin_prefetch((const char *)p + i, 0, 3);
}

/* RELCON_ISA=portable|v3|v4 (aarch64: portable|neon|dotprod) caps the level (for benchmarks and tests); unset or
 * anything else: no cap. A cap never raises the level above what the CPU supports. Without a hosted libc: no cap (and no getenv). */
static inline int32_t rlck_isa_cap(void) {
#if !RLCK_HOSTED_LIBC
    return 2;
#else
    const char *v = getenv("RELCON_ISA");
    if (!v) return 2;
    if (v[0] == 'p') return RLCK_ISA_PORTABLE;
#if defined(__aarch64__)
    if (v[0] == 'n' && v[1] == 'e' && v[2] == 'o' && v[3] == 'n' && v[4] == 0) return RLCK_ISA_A64_NEON;
#else
    if (v[0] == 'v' && v[1] == '3' && v[2] == 0) return RLCK_ISA_V3;
#endif
    return 2;
#endif
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

/* Armv7E-M DSP (Cortex-M4/M7, __ARM_FEATURE_DSP): the ACLE intrinsics the Cortex-M int8 lane
 * (Sources/RelConRuntime/Kernels/ARM/ConvI8M.swift, Swift condition RELCON_ARM_DSP) multiply-accumulates with.
 * A word of four bytes b0 b1 b2 b3 unpacks into two words of 16-bit halves: "even" (b0, b2) and "odd" (b1, b3),
 * sign- (SXTB16) or zero-extended (UXTB16); SMLAD adds both 16 x 16 products of two such words to a 32-bit
 * accumulator. The even and odd words of activations and weights pair up the same bytes, so no reordering of
 * either is needed. Each wrapper is one instruction (the rotate, written portably: GCC 12's arm_acle.h has no __ror, becomes
 * SXTB16's own ROR #8 operand). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
static inline int32_t rlck_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}
static inline uint32_t rlck_sxtb16_even(uint32_t v) { return (uint32_t)__sxtb16((int8x4_t)v); }
static inline uint32_t rlck_sxtb16_odd(uint32_t v) { return (uint32_t)__sxtb16((int8x4_t)((v >> 8) | (v << 24))); }
static inline uint32_t rlck_uxtb16_even(uint32_t v) { return (uint32_t)__uxtb16((int8x4_t)v); }
static inline uint32_t rlck_uxtb16_odd(uint32_t v) { return (uint32_t)__uxtb16((int8x4_t)((v >> 8) | (v << 24))); }
#endif

#endif
