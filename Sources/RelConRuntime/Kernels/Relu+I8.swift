// RELU (op 7), int8: i8 in, u8 / u7 out.

extension Int8Ops {
    /// RELU: max(x, 0), written as u8.
    static func relu(x: Value, y: UnsafeMutableRawPointer) {
        let n = x.length &* x.channels
        var i = 0
        while i < n {
            y.storeBytes(of: UInt8(truncatingIfNeeded: max(load(x, i), 0)), toByteOffset: i, as: UInt8.self)
            i &+= 1
        }
    }
}
