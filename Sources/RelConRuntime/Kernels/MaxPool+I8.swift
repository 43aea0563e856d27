// MAXPOOL (op 3) on i8 / u8 / u7 values.

extension Int8Ops {
    /// MAXPOOL (dilation 1): the maximum over the taps inside [0, L); every window holds one (pads < kernel).
    /// MAXPOOL on bytes: i8 values compared as u8 after flipping their sign bit (x ⊕ 0x80 orders −128…127 as
    /// 0…255), so one unsigned loop serves every dtype; 16 channels at a time (`pmaxub`), the rest one by one.
    static func maxpool(x: Value, kernel: Int, stride: Int, padLeft: Int, lengthOut: Int, y: UnsafeMutableRawPointer) {
        let ch = x.channels
        let flip: UInt8 = x.dtype == .i8 ? 0x80 : 0
        let flip16 = SIMD16<UInt8>(repeating: flip)
        let src = UnsafeRawPointer(x.p)
        var t = 0
        while t < lengthOut {
            let start = t &* stride &- padLeft
            let lo = max(start, 0), hi = min(start &+ kernel, x.length)
            let out = y + t &* ch
            guard lo < hi else {                   // no real sample in the window (the format rules it out)
                out.initializeMemory(as: UInt8.self, repeating: 0, count: ch)
                t &+= 1
                continue
            }
            var c = 0
            while c &+ 16 <= ch {
                var m = src.loadUnaligned(fromByteOffset: lo &* ch &+ c, as: SIMD16<UInt8>.self) ^ flip16
                var p = lo &+ 1
                while p < hi {
                    m = pointwiseMax(m, src.loadUnaligned(fromByteOffset: p &* ch &+ c, as: SIMD16<UInt8>.self) ^ flip16)
                    p &+= 1
                }
                out.storeBytes(of: m ^ flip16, toByteOffset: c, as: SIMD16<UInt8>.self)
                c &+= 16
            }
            while c < ch {
                var m = src.load(fromByteOffset: lo &* ch &+ c, as: UInt8.self) ^ flip
                var p = lo &+ 1
                while p < hi { m = max(m, src.load(fromByteOffset: p &* ch &+ c, as: UInt8.self) ^ flip); p &+= 1 }
                out.storeBytes(of: m ^ flip, toByteOffset: c, as: UInt8.self)
                c &+= 1
            }
            t &+= 1
        }
    }
}
