// The int8 operators other than CONV1D (docs/quantization.md §2), on channels-last [L][C] i8/u8 values: plain
// scalar loops over the exact integer formulas (the helpers of ConvDriver.swift's `Requant`, tested
// exhaustively). On v3/v4 CPUs AFFINE and ADD run the v3 module's vectorised loops instead
// (Sources/RelConKernelsV3/Elementwise.swift, bit-exact with these; Kernels.affineI8 / addI8); these loops
// are the portable path (RELCON_ISA=portable).

import CRelConKernels

enum Int8Ops {
    /// The `rlck_conv` block of an int8 AFFINE / ADD for the v3 loops (the fields they read are listed in
    /// Sources/RelConKernelsV3/Elementwise.swift).
    static func eltwiseArgs(x: Value, mult: UnsafePointer<Int32>, shift: UnsafePointer<Int32>, lo: Int32, hi: Int32,
                            y: UnsafeMutableRawPointer) -> rlck_conv
    {
        var a = rlck_conv()
        a.x = UnsafeRawPointer(x.p); a.y = y; a.mult = mult; a.shift = shift
        a.length_in = Int64(x.length); a.channels_in = Int64(x.channels)
        a.x_signed = x.dtype == BlobFormat.dtypeI8 ? 1 : 0
        a.out_lo = lo; a.out_hi = hi
        return a
    }

    @inline(__always)
    static func load(_ v: Value, _ i: Int) -> Int32 {
        v.dtype == BlobFormat.dtypeI8 ? Int32(v.p.load(fromByteOffset: i, as: Int8.self))
                                      : Int32(v.p.load(fromByteOffset: i, as: UInt8.self))
    }

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

    /// MAXPOOL (dilation 1): the maximum over the taps inside [0, L); every window holds one (pads < kernel).
    /// MAXPOOL on bytes: i8 values compared as u8 after flipping their sign bit (x ⊕ 0x80 orders −128…127 as
    /// 0…255), so one unsigned loop serves every dtype; 16 channels at a time (`pmaxub`), the rest one by one.
    static func maxpool(x: Value, kernel: Int, stride: Int, padLeft: Int, lengthOut: Int, y: UnsafeMutableRawPointer) {
        let ch = x.channels
        let flip: UInt8 = x.dtype == BlobFormat.dtypeI8 ? 0x80 : 0
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

    /// RELU: max(x, 0), written as u8.
    static func relu(x: Value, y: UnsafeMutableRawPointer) {
        let n = x.length &* x.channels
        var i = 0
        while i < n {
            y.storeBytes(of: UInt8(truncatingIfNeeded: max(load(x, i), 0)), toByteOffset: i, as: UInt8.self)
            i &+= 1
        }
    }

    /// MEAN: S = Σ_t x[t][c] exactly (64-bit), y[c] = f32(f32(f32(S)·scale[c]) / f32(L)).
    static func mean(x: Value, scale: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        var c = 0
        while c < x.channels {
            var sum: Int64 = 0
            var t = 0
            while t < x.length { sum &+= Int64(load(x, t &* x.channels &+ c)); t &+= 1 }
            y[c] = meanOne(sum: sum, scale: scale[c], length: x.length)
            c &+= 1
        }
    }

    @inline(__always)
    static func meanOne(sum: Int64, scale: Float, length: Int) -> Float {
        (Float(sum) * scale) / Float(length)
    }
}
