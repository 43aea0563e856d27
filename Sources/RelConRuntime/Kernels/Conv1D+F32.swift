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
        let cin = s.channelsIn, cout = s.channelsOut, k = s.kernel, d = s.dilation
        let wRow = k &* cin                       // floats per output channel's weights
        var t = 0
        while t < s.lengthOut {
            // Taps k in [kLo, kHi) read x[start + k·d], all inside [0, lengthIn).
            let start = t &* s.stride &- s.padLeft
            let kLo = start >= 0 ? 0 : (0 &- start &+ d &- 1) / d
            let kHi = start >= s.lengthIn ? 0 : min(k, (s.lengthIn &- 1 &- start) / d &+ 1)
            let yRow = y + t &* cout
            if kHi > kLo {
                let xFirst = x + (start &+ kLo &* d) &* cin
                let wFirst = w + kLo &* cin
                // Dilation 1 (or a single tap): the taps are one contiguous run of (kHi − kLo)·Cin floats.
                let contiguous = d == 1 || kHi &- kLo == 1
                let taps = contiguous ? 1 : kHi &- kLo
                let n = contiguous ? (kHi &- kLo) &* cin : cin
                let xTap = d &* cin
                var o = 0
                while o &+ 4 <= cout {
                    let r = DotF32.dot4(xFirst, xTap: xTap, wFirst + o &* wRow, wTap: cin, wRow: wRow, taps: taps, n: n)
                    yRow[o] = r[0]; yRow[o &+ 1] = r[1]; yRow[o &+ 2] = r[2]; yRow[o &+ 3] = r[3]
                    o &+= 4
                }
                while o < cout {
                    yRow[o] = DotF32.dot1(xFirst, xTap: xTap, wFirst + o &* wRow, wTap: cin, taps: taps, n: n)
                    o &+= 1
                }
            } else {
                for o in 0..<cout { yRow[o] = 0 }
            }
            // Epilogue: bias, residual, activation, in the order the format defines.
            let rRow = residual.map { $0 + t &* cout }
            for o in 0..<cout {
                var v = yRow[o]
                if let bias { v = bias[o] + v }
                if let rRow { v += rRow[o] }
                if relu, v < 0 { v = 0 }
                yRow[o] = v
            }
            t &+= 1
        }
    }
}
