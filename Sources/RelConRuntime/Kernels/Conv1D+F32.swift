// CONV1D, fp32, channels-last (docs/blob-format.md op 1):
//   y[t][o] = b[o] + Σ_k Σ_c w[o][k][c] · x[t·stride − padLeft + k·dilation][c]   (zero padding)
//             (+ residual[t][o]) (then ReLU)
// Padding is never materialised: for each t the taps that fall outside [0, L) are clipped away, which is
// the same as multiplying them by zero. No scratch memory.

/// Shape of one CONV1D call. Every field comes from the validated plan.
struct Conv1DShape {
    var lengthIn: Int, channelsIn: Int
    var lengthOut: Int, channelsOut: Int
    var kernel: Int, stride: Int, dilation: Int, padLeft: Int
}

enum Conv1DF32 {
    /// x: [lengthIn][channelsIn]; w: [channelsOut][kernel][channelsIn]; bias: [channelsOut] or nil;
    /// residual: [lengthOut][channelsOut] or nil; y: [lengthOut][channelsOut] (must not alias the inputs).
    static func run(_ s: Conv1DShape, x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    residual: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>)
    {
        let cout = s.channelsOut
        // Output channels in blocks of 4, all times inside a block: the block's weights (4·K·Cin floats,
        // 16 KiB for 256 channels and K = 4) stay in L1 while the activations stream from L2, instead of the
        // whole weight tensor streaming once per time step.
        var o = 0
        while o &+ 4 <= cout {
            block(s, o: o, width: 4, x: x, w: w, bias: bias, residual: residual, relu: relu, y: y)
            o &+= 4
        }
        while o < cout {
            block(s, o: o, width: 1, x: x, w: w, bias: bias, residual: residual, relu: relu, y: y)
            o &+= 1
        }
    }

    /// Output channels [o, o + width) (width 4 or 1) for every t.
    @inline(__always)
    private static func block(_ s: Conv1DShape, o: Int, width: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                              y: UnsafeMutablePointer<Float>)
    {
        let cin = s.channelsIn, cout = s.channelsOut, k = s.kernel, d = s.dilation
        let wRow = k &* cin                       // floats per output channel's weights
        let wBlock = w + o &* wRow
        var t = 0
        while t < s.lengthOut {
            // Taps k in [kLo, kHi) read x[start + k·d], all inside [0, lengthIn).
            let start = t &* s.stride &- s.padLeft
            let kLo = start >= 0 ? 0 : (0 &- start &+ d &- 1) / d
            let kHi = start >= s.lengthIn ? 0 : min(k, (s.lengthIn &- 1 &- start) / d &+ 1)
            var r = SIMD4<Float>()
            if kHi > kLo {
                let xFirst = x + (start &+ kLo &* d) &* cin
                let wFirst = wBlock + kLo &* cin
                // Dilation 1 (or a single tap): the taps are one contiguous run of (kHi − kLo)·Cin floats.
                let contiguous = d == 1 || kHi &- kLo == 1
                let taps = contiguous ? 1 : kHi &- kLo
                let n = contiguous ? (kHi &- kLo) &* cin : cin
                if width == 4 {
                    r = DotF32.dot4(xFirst, xTap: d &* cin, wFirst, wTap: cin, wRow: wRow, taps: taps, n: n)
                } else {
                    r[0] = DotF32.dot1(xFirst, xTap: d &* cin, wFirst, wTap: cin, taps: taps, n: n)
                }
            }
            // Epilogue: bias, residual, activation, in the order the format defines.
            let yRow = y + (t &* cout &+ o)
            let rRow = residual.map { $0 + (t &* cout &+ o) }
            for j in 0..<width {
                var v = r[j]
                if let bias { v = bias[o &+ j] + v }
                if let rRow { v += rRow[j] }
                if relu, v < 0 { v = 0 }
                yRow[j] = v
            }
            t &+= 1
        }
    }
}
