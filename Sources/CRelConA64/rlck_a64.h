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

/* ---- epilogues of four output channels o…o+3 of one time step (contiguous in y: channels-last) -------------- */

/* The four dot products of accumulators a0…a3 as one vector (addp tree): lane j = the sum of aj's lanes. */
static inline int32x4_t rlck_a64_reduce4_s32(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3) {
    return vpaddq_s32(vpaddq_s32(a0, a1), vpaddq_s32(a2, a3));
}

/* The same for f32: lane j = (aj0 + aj1) + (aj2 + aj3), the order of rlck_a64_sum_f32 (faddp, faddp). */
static inline float32x4_t rlck_a64_reduce4_f32(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3) {
    return vpaddq_f32(vpaddq_f32(a0, a1), vpaddq_f32(a2, a3));
}

/* Per-channel constants of the int8 epilogue of channels o…o+3 (prepared once per output-channel block). */
typedef struct rlck_a64_rq4 {
    int32x4_t bias; /* bias[o…o+3], or 0 */
    int32x4_t mult; /* M */
    int32x4_t mult_res; /* Mr, or 0 without a residual */
    int64x2_t round_lo, round_hi; /* 2^(s-1) of channels o, o+1 / o+2, o+3 */
    int64x2_t shift_lo, shift_hi; /* -s (sshl by -s: arithmetic shift right) */
} rlck_a64_rq4;

static inline rlck_a64_rq4 rlck_a64_rq4_make(const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                             const int32_t *mult_res) {
    rlck_a64_rq4 q;
    q.bias = bias ? vld1q_s32(bias) : vdupq_n_s32(0);
    q.mult = vld1q_s32(mult);
    q.mult_res = mult_res ? vld1q_s32(mult_res) : vdupq_n_s32(0);
    int32x4_t s = vld1q_s32(shift);
    int64x2_t slo = vmovl_s32(vget_low_s32(s)), shi = vmovl_high_s32(s);
    int64x2_t one = vdupq_n_s64(1);
    /* 1 << (s - 1) with the masking of Swift's &<< (the validator keeps 1 <= s <= 62) */
    q.round_lo = vshlq_s64(one, vandq_s64(vsubq_s64(slo, one), vdupq_n_s64(63)));
    q.round_hi = vshlq_s64(one, vandq_s64(vsubq_s64(shi, one), vdupq_n_s64(63)));
    q.shift_lo = vnegq_s64(vandq_s64(slo, vdupq_n_s64(63)));
    q.shift_hi = vnegq_s64(vandq_s64(shi, vdupq_n_s64(63)));
    return q;
}

/* docs/quantization.md's CONV1D epilogue for four channels at once, bit for bit the scalar one (Epilogue.int8):
 * acc = dot + bias (i32, wrapping); total = acc·M + 2^(s-1) [+ res·Mr] in i64 (smull: exact products);
 * q = total >> s (arithmetic); y = clamp(q, lo, hi) as a byte. The clamp goes through a saturating narrow to i32
 * (sqxtn), which keeps every q outside [lo, hi] outside it. res: the four residual bytes at y's index, or NULL. */
static inline void rlck_a64_requant4_store(int32x4_t dot, rlck_a64_rq4 q, const void *res, int res_signed,
                                           int32_t lo, int32_t hi, void *y) {
    int32x4_t acc = vaddq_s32(dot, q.bias);
    int64x2_t tlo = vmlal_s32(q.round_lo, vget_low_s32(acc), vget_low_s32(q.mult));
    int64x2_t thi = vmlal_high_s32(q.round_hi, acc, q.mult);
    if (res) {
        uint32_t r4;
        __builtin_memcpy(&r4, res, 4);
        uint8x8_t rb = vreinterpret_u8_u32(vdup_n_u32(r4));
        int16x8_t r16 = res_signed ? vmovl_s8(vreinterpret_s8_u8(rb)) : vreinterpretq_s16_u16(vmovl_u8(rb));
        int32x4_t r32 = vmovl_s16(vget_low_s16(r16));
        tlo = vmlal_s32(tlo, vget_low_s32(r32), vget_low_s32(q.mult_res));
        thi = vmlal_high_s32(thi, r32, q.mult_res);
    }
    tlo = vshlq_s64(tlo, q.shift_lo);
    thi = vshlq_s64(thi, q.shift_hi);
    int32x4_t v = vcombine_s32(vqmovn_s64(tlo), vqmovn_s64(thi));
    v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(lo)), vdupq_n_s32(hi));
    uint8x8_t b = vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(v), vdup_n_s16(0))));
    uint32_t out = vget_lane_u32(vreinterpret_u32_u8(b), 0);
    __builtin_memcpy(y, &out, 4);
}

/* The fp32/fp16 epilogue (Epilogue.float) for four channels: bias + dot, + residual, ReLU as `v < 0 ? 0 : v`. */
static inline void rlck_a64_float4_store(float32x4_t dot, const float *bias, const float *res, int relu, float *y) {
    float32x4_t v = bias ? vaddq_f32(vld1q_f32(bias), dot) : dot;
    if (res) v = vaddq_f32(v, vld1q_f32(res));
    if (relu) v = vbslq_f32(vcltzq_f32(v), vdupq_n_f32(0), v);
    vst1q_f32(y, v);
}

#if defined(__ARM_FEATURE_DOTPROD)
/* acc + Σ x·w over 16 signed bytes, one instruction: sdot (lane i += Σ_{j<4} x[4i+j]·w[4i+j]). Exact: i8 × i8
 * products summed into i32. */
static inline int32x4_t rlck_a64_sdot(int32x4_t acc, int8x16_t x, int8x16_t w) { return vdotq_s32(acc, x, w); }
#endif

#endif /* __aarch64__ */
#endif
