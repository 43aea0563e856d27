// RELU (op 7), fp32.

extension ElementwiseF32 {
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
