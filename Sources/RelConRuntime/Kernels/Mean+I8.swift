// MEAN (op 5), int8 in, f32 out: the exact integer sum, then the input's dequantisation scale.

extension Int8Ops {
    /// MEAN: S = Σ_t x[t][c] exactly (64-bit), y[c] = f32(f32(f32(S)·scale[c]) / f32(L)).
    static func mean(x: Value, scale: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        var c = 0
        while c < x.channels {
            var sum: Int64 = 0
            var t = 0
            while t < x.length { sum &+= Int64(load(x, t &* x.channels &+ c)); t &+= 1 }
            y[c] = meanOne(sum: sum, scale: scale[c], length: x.length)
            c &+= 1
        }
    }

    @inline(__always)
    static func meanOne(sum: Int64, scale: Float, length: Int) -> Float {
        (Float(sum) * scale) / Float(length)
    }
}
