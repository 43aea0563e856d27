// AFFINE (op 2), int8, the portable loop (a kernel table's affine_i8 replaces it where the level has one:
// Sources/RelConKernelsV3/Elementwise.swift, bit-exact with this).

extension Int8Ops {
    /// AFFINE: y = clamp((x·A + B + 2^(s−1)) >> s, lo, hi) per channel.
    static func affine(x: Value, a: UnsafePointer<Int32>, b: UnsafePointer<Int32>, shift: UnsafePointer<Int32>,
                       lo: Int32, hi: Int32, y: UnsafeMutableRawPointer)
    {
        var t = 0
        while t < x.length {
            var c = 0
            while c < x.channels {
                let i = t &* x.channels &+ c
                let q = Requant.affine(load(x, i), a: a[c], b: b[c], shift: shift[c], lo: lo, hi: hi)
                y.storeBytes(of: UInt8(truncatingIfNeeded: q), toByteOffset: i, as: UInt8.self)
                c &+= 1
            }
            t &+= 1
        }
    }
}
