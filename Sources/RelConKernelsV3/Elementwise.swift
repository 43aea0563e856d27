// int8 AFFINE and ADD (docs/quantization.md §2) for x86-64-v3, vectorised over 8 channels: per channel,
//   AFFINE  y = clamp((x·A + B + 2^(s−1)) >> s, lo, hi)
//   ADD     y = clamp((x·M + r·Mr + 2^(s−1)) >> s, lo, hi)
// in 64-bit lanes (vpmuldq products, the rounding shift and clamp of `I8Shift`, shared with the CONV1D epilogue), bit-exact
// with `Requant.affine` / `Requant.requantize`, which the last C mod 8 channels use. Arguments travel in a
// `rlck_eltwise` (relcon_kernels.h; the runtime's portable loops: Sources/RelConRuntime/Kernels/Affine+I8.swift
// and Add+I8.swift).
// Layout channels-last [L][C]; channel blocks outermost, so their parameters stay in registers.

import CRelConKernels
import _Builtin_intrinsics.intel

@export(interface) public func affineI8(_ a: UnsafePointer<rlck_eltwise>) { ElementwiseI8.run(a, add: false) }
@export(interface) public func addI8(_ a: UnsafePointer<rlck_eltwise>) { ElementwiseI8.run(a, add: true) }

enum ElementwiseI8 {
    /// Four channels' parameters in i64 lanes.
    struct Quad {
        var mult: __m256i, multRes: __m256i, offset: __m256i, shift: I8Shift

        @inline(__always)
        init(_ m: UnsafePointer<Int32>, _ mr: UnsafePointer<Int32>?, _ b: UnsafePointer<Int32>?,
             _ sh: UnsafePointer<Int32>, _ c: Int) {
            // Zero-extended: vpmuldq reads the low 32 bits as signed (A may be negative); see I8Row.params.
            mult = _mm256_cvtepu32_epi64(UnsafeRawPointer(m + c).loadUnaligned(as: __m128i.self))
            multRes = mr.map { _mm256_cvtepu32_epi64(UnsafeRawPointer($0 + c).loadUnaligned(as: __m128i.self)) }
                ?? _mm256_setzero_si256()
            shift = I8Shift(UnsafeRawPointer(sh + c).loadUnaligned(as: __m128i.self))
            // 2^(s−1) (+ B): one constant, the Int64 additions wrap, so their order does not matter.
            var off = shift.round
            if let b = b {
                off = _mm256_add_epi64(off, _mm256_cvtepi32_epi64(UnsafeRawPointer(b + c).loadUnaligned(as: __m128i.self)))
            }
            offset = off
        }

        @inline(__always)
        func apply(_ x: __m256i, _ r: __m256i?, _ lo: __m256i, _ hi: __m256i) -> __m256i {
            var total = _mm256_add_epi64(_mm256_mul_epi32(x, mult), offset)
            if let r = r { total = _mm256_add_epi64(total, _mm256_mul_epi32(r, multRes)) }
            return shift.apply(total, lo, hi)
        }
    }

    /// Four bytes at p, widened to i64 lanes.
    @inline(__always)
    static func load4(_ p: UnsafeRawPointer, _ signed: Bool) -> __m256i {
        let v = _mm_cvtsi32_si128(p.loadUnaligned(as: Int32.self))
        return signed ? _mm256_cvtepi8_epi64(v) : _mm256_cvtepu8_epi64(v)
    }

    static func run(_ a: UnsafePointer<rlck_eltwise>, add: Bool) {
        let p = a.pointee
        guard let x = p.x, let y = p.y, let m = p.mult, let sh = p.shift else { return }
        let res = add ? p.r : nil
        let mr = add ? p.mult_r : nil
        if add, res == nil || mr == nil { return }
        let b = add ? nil : p.bias
        if !add, b == nil { return }
        let len = Int(p.length), ch = Int(p.channels)
        let xs = p.x_signed != 0, rs = p.r_signed != 0
        let lo32 = p.out_lo, hi32 = p.out_hi
        let lo = _mm256_set1_epi64x(Int64(lo32)), hi = _mm256_set1_epi64x(Int64(hi32))
        // Low byte of each i64 lane of q0 to bytes 0-3, of q1 to bytes 4-7 (per 128-bit half, then OR of halves).
        let pick0 = _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                     -1, -1, 0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
        let pick1 = _mm256_setr_epi8(-1, -1, -1, -1, 0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                     -1, -1, -1, -1, -1, -1, 0, 8, -1, -1, -1, -1, -1, -1, -1, -1)
        // One loop per signedness combination (constants after inlining): the widening stays in the block of its
        // vpmuldq (see I8Row.store3).
        let vectorChannels = ch / 8 &* 8
        @inline(__always) func loop(_ xs: Bool, _ rs: Bool) {
            var c = 0
            while c < vectorChannels {
                let p0 = Quad(m, mr, b, sh, c), p1 = Quad(m, mr, b, sh, c &+ 4)
                var t = 0
                while t < len {
                    let i = t &* ch &+ c
                    let x0 = load4(x + i, xs), x1 = load4(x + (i &+ 4), xs)
                    var r0: __m256i? = nil, r1: __m256i? = nil
                    if let res { r0 = load4(res + i, rs); r1 = load4(res + (i &+ 4), rs) }
                    let q0 = p0.apply(x0, r0, lo, hi), q1 = p1.apply(x1, r1, lo, hi)
                    let packed = unsafeBitCast(_mm256_or_si256(_mm256_shuffle_epi8(q0, pick0),
                                                               _mm256_shuffle_epi8(q1, pick1)), to: SIMD32<UInt8>.self)
                    let bytes = unsafeBitCast(packed.lowHalf | packed.highHalf, to: SIMD2<UInt64>.self)[0]
                    (y + i).storeBytes(of: bytes, as: UInt64.self)
                    t &+= 1
                }
                c &+= 8
            }
        }
        switch (xs, rs && add) {
        case (false, false): loop(false, false)
        case (false, true): loop(false, true)
        case (true, false): loop(true, false)
        case (true, true): loop(true, true)
        }
        var c = vectorChannels
        while c < ch {
            var t = 0
            while t < len {
                let i = t &* ch &+ c
                let xv = xs ? Int32(x.load(fromByteOffset: i, as: Int8.self)) : Int32(x.load(fromByteOffset: i, as: UInt8.self))
                let q: Int32
                if let res, let mr {
                    let rv = rs ? Int32(res.load(fromByteOffset: i, as: Int8.self))
                                : Int32(res.load(fromByteOffset: i, as: UInt8.self))
                    q = Requant.requantize(xv, mult: m[c], shift: sh[c], residual: rv, multRes: mr[c], lo: lo32, hi: hi32)
                } else {
                    q = Requant.affine(xv, a: m[c], b: b![c], shift: sh[c], lo: lo32, hi: hi32)
                }
                y.storeBytes(of: UInt8(truncatingIfNeeded: q), toByteOffset: i, as: UInt8.self)
                t &+= 1
            }
            c &+= 1
        }
    }
}
