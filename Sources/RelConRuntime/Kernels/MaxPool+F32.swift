// MAXPOOL (op 3), fp32, channels-last, over time.

extension PoolF32 {
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
}
