// LINEAR, fp32 (op 6): y[o] = b[o] + Σ_c w[o][c] · x[c], then ReLU if asked. x: [Cin], w: [Cout][Cin].

enum LinearF32 {
    static func run(x: UnsafePointer<Float>, channelsIn cin: Int, w: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, channelsOut cout: Int, relu: Bool, y: UnsafeMutablePointer<Float>)
    {
        var o = 0
        while o &+ 4 <= cout {
            let r = DotF32.dot4(x, xTap: 0, w + o &* cin, wTap: 0, wRow: cin, taps: 1, n: cin)
            y[o] = r[0]; y[o &+ 1] = r[1]; y[o &+ 2] = r[2]; y[o &+ 3] = r[3]
            o &+= 4
        }
        while o < cout {
            y[o] = DotF32.dot1(x, xTap: 0, w + o &* cin, wTap: 0, taps: 1, n: cin)
            o &+= 1
        }
        for o in 0..<cout {
            var v = y[o]
            if let bias { v = bias[o] + v }
            if relu, v < 0 { v = 0 }
            y[o] = v
        }
    }
}

extension LinearF32 {
    /// LINEAR with binary16 weights (f16 blobs), computed in f32: y[o] = b[o] + Σ_c f32(w[o][c])·x[c], then ReLU.
    static func runF16(x: UnsafePointer<Float>, channelsIn cin: Int, w: UnsafeRawPointer, bias: UnsafePointer<Float>?,
                       channelsOut cout: Int, relu: Bool, y: UnsafeMutablePointer<Float>)
    {
        var o = 0
        while o < cout {
            var s: Float = 0
            var c = 0
            while c < cin {
                s += x[c] * Half.widen(w.loadUnaligned(fromByteOffset: (o &* cin &+ c) &* 2, as: UInt16.self))
                c &+= 1
            }
            var v = s
            if let bias { v = bias[o] + v }
            if relu, v < 0 { v = 0 }
            y[o] = v
            o &+= 1
        }
    }
}
