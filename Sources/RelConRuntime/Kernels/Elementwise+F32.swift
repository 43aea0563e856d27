// Elementwise fp32 ops over channels-last [L][C] values: AFFINE (op 2), ADD (op 4), RELU (op 7).

enum ElementwiseF32 {
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

    /// ADD: y[i] = a[i] + b[i] for `count` floats, then ReLU if asked.
    static func add(a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int, relu: Bool,
                    y: UnsafeMutablePointer<Float>)
    {
        var i = 0
        while i < count {
            var v = a[i] + b[i]
            if relu, v < 0 { v = 0 }
            y[i] = v
            i &+= 1
        }
    }

    /// RELU: y[i] = max(x[i], 0) for `count` floats.
    static func relu(x: UnsafePointer<Float>, count: Int, y: UnsafeMutablePointer<Float>) {
        var i = 0
        while i < count {
            let v = x[i]
            y[i] = v < 0 ? 0 : v
            i &+= 1
        }
    }
}
