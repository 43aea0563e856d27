// MEAN (op 5), fp32, channels-last: the average over time.

extension PoolF32 {
    /// MEAN over time: y[c] = (Σ_{t < length} x[t][c]) / length, summed in f32 in increasing t.
    static func mean(x: UnsafePointer<Float>, length: Int, channels: Int, y: UnsafeMutablePointer<Float>) {
        for c in 0..<channels { y[c] = 0 }
        var t = 0
        while t < length {
            let xr = x + t &* channels
            for c in 0..<channels { y[c] += xr[c] }
            t &+= 1
        }
        let n = Float(length)
        for c in 0..<channels { y[c] = y[c] / n }
    }
}
