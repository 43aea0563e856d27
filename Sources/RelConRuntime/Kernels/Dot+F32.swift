// fp32 dot products, the inner loop of CONV1D and LINEAR.
//
// Channels-last activations and [Cout][K][Cin] weights make every output a dot product of contiguous runs
// (one run of taps·Cin floats when dilation is 1, else one run of Cin per tap). Four output channels share
// each activation load. Accumulators are SIMD8<Float> (8 lanes each, f32): strict IEEE order rules out
// vectorising a scalar reduction, explicit lanes do not. Loads are unaligned: activation rows start at any
// multiple of 4 bytes, and blob tensors are only 16-byte aligned in memory.
//
// The summation order depends only on the shape (never on addresses), so every session, whatever its
// arena offsets, computes bit-identical results.

enum DotF32 {
    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Four dot products of the same activations with four weight rows `wRow` floats apart:
    ///   result[j] = Σ_{tap < taps} Σ_{i < n} x[tap·xTap + i] · w[j·wRow + tap·wTap + i].
    @inline(__always)
    static func dot4(_ x: UnsafePointer<Float>, xTap: Int, _ w: UnsafePointer<Float>, wTap: Int, wRow: Int,
                     taps: Int, n: Int) -> SIMD4<Float>
    {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var tail = SIMD4<Float>()
        var tap = 0
        while tap < taps {
            let xp = x + tap &* xTap
            let w0 = w + tap &* wTap
            let w1 = w0 + wRow, w2 = w0 + 2 &* wRow, w3 = w0 + 3 &* wRow
            var i = 0
            while i &+ 8 <= n {
                let xv = load8(xp + i)
                a0 += xv * load8(w0 + i)
                a1 += xv * load8(w1 + i)
                a2 += xv * load8(w2 + i)
                a3 += xv * load8(w3 + i)
                i &+= 8
            }
            while i < n {
                tail += SIMD4<Float>(repeating: xp[i]) * SIMD4<Float>(w0[i], w1[i], w2[i], w3[i])
                i &+= 1
            }
            tap &+= 1
        }
        return SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum()) + tail
    }

    /// One dot product: Σ_{tap < taps} Σ_{i < n} x[tap·xTap + i] · w[tap·wTap + i].
    @inline(__always)
    static func dot1(_ x: UnsafePointer<Float>, xTap: Int, _ w: UnsafePointer<Float>, wTap: Int,
                     taps: Int, n: Int) -> Float
    {
        var a = SIMD8<Float>()
        var tail: Float = 0
        var tap = 0
        while tap < taps {
            let xp = x + tap &* xTap
            let wp = w + tap &* wTap
            var i = 0
            while i &+ 8 <= n {
                a += load8(xp + i) * load8(wp + i)
                i &+= 8
            }
            while i < n {
                tail += xp[i] * wp[i]
                i &+= 1
            }
            tap &+= 1
        }
        return a.sum() + tail
    }
}
