// Pooling over time, fp32, channels-last: MAXPOOL (op 3) and MEAN (op 5).

enum PoolF32 {
    /// MAXPOOL with −∞ padding, dilation 1: y[t][c] = max_{k < kernel} x[t·stride − padLeft + k][c] over the
    /// taps inside [0, lengthIn). The validator guarantees pads < kernel, so every window has a real tap.
    static func maxpool(x: UnsafePointer<Float>, lengthIn: Int, channels: Int, kernel: Int, stride: Int,
                        padLeft: Int, lengthOut: Int, y: UnsafeMutablePointer<Float>)
    {
        var t = 0
        while t < lengthOut {
            let start = t &* stride &- padLeft
            let lo = max(start, 0)
            let hi = min(start &+ kernel, lengthIn)
            let yr = y + t &* channels
            if lo < hi {
                let first = x + lo &* channels
                for c in 0..<channels { yr[c] = first[c] }
                var p = lo &+ 1
                while p < hi {
                    let xr = x + p &* channels
                    for c in 0..<channels where xr[c] > yr[c] { yr[c] = xr[c] }
                    p &+= 1
                }
            } else {
                for c in 0..<channels { yr[c] = -Float.infinity }
            }
            t &+= 1
        }
    }

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
