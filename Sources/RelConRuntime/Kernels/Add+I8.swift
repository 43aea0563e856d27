// ADD (op 4), int8, the portable loop (a kernel table's add_i8 replaces it where the level has one:
// Sources/RelConKernelsV3/Elementwise.swift, bit-exact with this).

extension Int8Ops {
    /// ADD: y = clamp((x0·M + x1·M_r + 2^(s−1)) >> s, lo, hi) per channel.
    static func add(x: Value, b: Value, mult: UnsafePointer<Int32>, multRes: UnsafePointer<Int32>,
                    shift: UnsafePointer<Int32>, lo: Int32, hi: Int32, y: UnsafeMutableRawPointer)
    {
        var t = 0
        while t < x.length {
            var c = 0
            while c < x.channels {
                let i = t &* x.channels &+ c
                let q = Requant.requantize(load(x, i), mult: mult[c], shift: shift[c], residual: load(b, i),
                                           multRes: multRes[c], lo: lo, hi: hi)
                y.storeBytes(of: UInt8(truncatingIfNeeded: q), toByteOffset: i, as: UInt8.self)
                c &+= 1
            }
            t &+= 1
        }
    }
}
