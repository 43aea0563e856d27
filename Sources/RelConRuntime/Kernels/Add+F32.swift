// ADD (op 4), fp32: the residual sum of two values of one shape.

extension ElementwiseF32 {
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
}
