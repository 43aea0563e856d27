/* Internal to librelcon (aarch64 only; not installed, not part of the SwiftPM build): `static inline` wrappers
 * over the ACLE NEON intrinsics of <arm_neon.h> that the aarch64 kernel modules (Sources/RelConKernelsA64,
 * Sources/RelConKernelsA64Dot, mk/arm-a64.mk) import, for the operations Swift's SIMD types do not lower to one
 * instruction (widening 8-bit multiplies, pairwise accumulation, SDOT, binary16 widening, fused multiply-add).
 *
 * Every wrapper takes and returns the vector types Swift imports as SIMD types (int8x16_t = SIMD16<Int8>,
 * int32x4_t = SIMD4<Int32>, float32x4_t = SIMD4<Float>, ...). The SDOT wrapper exists only in a module compiled
 * with the dot-product extension (-march=armv8.2-a+dotprod defines __ARM_FEATURE_DOTPROD); the runtime calls that
 * module only after getauxval(AT_HWCAP) & HWCAP_ASIMDDP (relcon_kernels.h, rlck_detect_isa). */
#ifndef RLCK_A64_H
#define RLCK_A64_H

#if defined(__aarch64__)
#include <arm_neon.h>
#include <stdint.h>

/* acc + Σ x·w over 16 signed bytes, 3 instructions: smull (bytes 0-7 → 8 i16 products), smlal2 (bytes 8-15 added
 * onto them: each i16 lane is x_i·w_i + x_{i+8}·w_{i+8}, |…| ≤ 2·128·127 = 32512 < 2^15 because the validator
 * never lets an int8 weight be −128), sadalp (adjacent i16 pairs into the four i32 lanes). Exact. */
static inline int32x4_t rlck_a64_mad_s8(int32x4_t acc, int8x16_t x, int8x16_t w) {
    int16x8_t p = vmull_s8(vget_low_s8(x), vget_low_s8(w));
    p = vmlal_high_s8(p, x, w);
    return vpadalq_s16(acc, p);
}

/* u8 (0...255) activations widened to i16 in two halves, and the int8 weights the same way. */
static inline int16x8_t rlck_a64_widen_u8_lo(uint8x16_t x) { return vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(x))); }
static inline int16x8_t rlck_a64_widen_u8_hi(uint8x16_t x) { return vreinterpretq_s16_u16(vmovl_high_u8(x)); }
static inline int16x8_t rlck_a64_widen_s8_lo(int8x16_t w) { return vmovl_s8(vget_low_s8(w)); }
static inline int16x8_t rlck_a64_widen_s8_hi(int8x16_t w) { return vmovl_high_s8(w); }

/* acc + Σ x·w over 8 i16 lanes (u8 activations, i8 weights, widened): each product |x·w| ≤ 255·128 fits i16,
 * but a sum of two may not, so the products go straight into i32 lanes: smlal + smlal2. Exact. */
static inline int32x4_t rlck_a64_mad_s16(int32x4_t acc, int16x8_t x, int16x8_t w) {
    acc = vmlal_s16(acc, vget_low_s16(x), vget_low_s16(w));
    return vmlal_high_s16(acc, x, w);
}

/* Sum of the four i32 lanes (addv), wrapping like Int32 &+. */
static inline int32_t rlck_a64_sum_s32(int32x4_t v) { return vaddvq_s32(v); }

/* acc + x·w, fused (fmla). */
static inline float32x4_t rlck_a64_fma_f32(float32x4_t acc, float32x4_t x, float32x4_t w) { return vfmaq_f32(acc, x, w); }

/* Four IEEE binary16 values at p (any alignment) widened to f32, exactly (fcvtl). */
static inline float32x4_t rlck_a64_load_f16(const void *p) {
    uint16x4_t h = vld1_u16((const uint16_t *)p);
    return vcvt_f32_f16(vreinterpret_f16_u16(h));
}

/* One binary16 value widened to f32, exactly. */
static inline float rlck_a64_half(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

/* Sum of the four f32 lanes: (v0 + v1) + (v2 + v3) (two faddp). */
static inline float rlck_a64_sum_f32(float32x4_t v) { return vaddvq_f32(v); }

#if defined(__ARM_FEATURE_DOTPROD)
/* acc + Σ x·w over 16 signed bytes, one instruction: sdot (lane i += Σ_{j<4} x[4i+j]·w[4i+j]). Exact: i8 × i8
 * products summed into i32. */
static inline int32x4_t rlck_a64_sdot(int32x4_t acc, int8x16_t x, int8x16_t w) { return vdotq_s32(acc, x, w); }
#endif

#endif /* __aarch64__ */
#endif
