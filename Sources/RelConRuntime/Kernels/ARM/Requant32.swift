// The int8 requantisation of docs/quantization.md in 32-bit operations, for cores without 64-bit shifts (the
// Cortex-M int8 kernel, Kernels/ARM/ConvI8M.swift). Compiled on every target so that the x86-64 tests check it
// against Requant.requantize over the same edge domains (Tests/RelConRuntimeTests/Requant32Tests.swift).
//
//   T = dot·M + c [+ r·Mr],  c = bias·M + 2^(s−1)      (one 32 × 32 → 64 multiply-accumulate each: SMLAL)
//   y = clamp(⌊T / 2^s⌋, lo, hi)                      from T's two 32-bit words:
//       s ≥ 32:  ⌊T / 2^s⌋ = hi >> (s − 32)                                  (always fits in 32 bits)
//       s < 32:  its low word  hi·2^(32−s) | lo >>> s, its high word hi >> s; when the high word is not the sign
//                of the low one the quotient is outside int32 and saturates to the side of its sign.
// Exact where Requant.requantize is: (dot + bias)·M = dot·M + bias·M because |dot + bias| < 2^31 and every term
// stays below 2^63 (docs/quantization.md §6, which the validator enforces).

enum Requant32 {
    /// c of one output channel.
    @inline(__always)
    static func constant(bias: Int32, mult: Int32, shift: Int32) -> Int64 {
        Int64(bias) &* Int64(mult) &+ ((1 as Int64) &<< Int64(shift &- 1))
    }

    /// clamp(⌊t / 2^s⌋, lo, hi) for 1 ≤ s ≤ 62, from t's words.
    @inline(__always)
    static func shift(_ t: Int64, _ s: Int32, lo: Int32, hi: Int32) -> Int32 {
        let h = Int32(truncatingIfNeeded: t &>> 32)
        var q: Int32
        if s >= 32 {
            q = h &>> (s &- 32)
        } else {
            let l = UInt32(truncatingIfNeeded: t)
            let ql = Int32(bitPattern: (UInt32(bitPattern: h) &<< (32 &- s)) | (l &>> s))
            let qh = h &>> s
            q = qh == (ql &>> 31) ? ql : (qh < 0 ? Int32.min : Int32.max)
        }
        return min(max(q, lo), hi)
    }

    /// clamp((dot·M + c [+ r·Mr]) >> s, lo, hi): Requant.requantize(dot + bias, …) with c = constant(bias, M, s).
    @inline(__always)
    static func requantize(_ dot: Int32, mult: Int32, constant c: Int64, shift s: Int32, residual: Int32?,
                           multRes: Int32, lo: Int32, hi: Int32) -> Int32 {
        var t = Int64(dot) &* Int64(mult) &+ c
        if let r = residual { t = t &+ Int64(r) &* Int64(multRes) }
        return shift(t, s, lo: lo, hi: hi)
    }
}
