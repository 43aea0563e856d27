// AFFINE (op 2), fp32, channels-last [L][C]: per-channel scale and shift (the batch-norm that cannot be folded).

extension ElementwiseF32 {
    /// AFFINE: y[t][c] = x[t][c]·scale[c] + shift[c], then ReLU if asked. x, y: [length][channels].
    static func affine(x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                       length: Int, channels: Int, relu: Bool, y: UnsafeMutablePointer<Float>)
    {
        var t = 0
        while t < length {
            let xr = x + t &* channels, yr = y + t &* channels
            var c = 0
            while c < channels {
                var v = xr[c] * scale[c] + shift[c]
                if relu, v < 0 { v = 0 }
                yr[c] = v
                c &+= 1
            }
            t &+= 1
        }
    }
}
