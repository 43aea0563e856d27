// QUANTIZE (op 8, int8 blobs): the f32 network input -> i8 (docs/quantization.md §2).

extension Int8Ops {
    /// QUANTIZE: q = rint(min(max(f32(x·mult[c]), −127), 127)), round half to even.
    static func quantize(x: UnsafePointer<Float>, length: Int, channels: Int, mult: UnsafePointer<Float>,
                         y: UnsafeMutableRawPointer)
    {
        var t = 0
        while t < length {
            var c = 0
            while c < channels {
                let i = t &* channels &+ c
                y.storeBytes(of: quantizeOne(x[i], mult[c]), toByteOffset: i, as: Int8.self)
                c &+= 1
            }
            t &+= 1
        }
    }

    @inline(__always)
    static func quantizeOne(_ x: Float, _ mult: Float) -> Int8 {
        var p = x * mult
        p = min(max(p, -127), 127)                 // also maps ±∞ to ±127
        // Round half to even without libm's rintf: for |p| < 2^22, adding and subtracting 1.5·2^23 rounds p to
        // an integer in the current (default: nearest-even) IEEE rounding mode, exactly as rint does.
        let magic: Float = 12_582_912                // 1.5 · 2^23
        let r = (p + magic) - magic
        return Int8(r)                             // |r| ≤ 127: the conversion cannot trap
    }
}
