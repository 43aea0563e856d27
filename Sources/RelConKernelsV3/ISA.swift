// Kernels for x86-64-v3 (AVX2, FMA, F16C): this module is compiled with -Xcc -march=x86-64-v3 and only ever
// called after the runtime has checked the CPU (relcon_kernels.h, rlck_detect_isa). Entry points are
// @export(interface): clients call the symbol, they never get a copy of the body compiled with their own flags.
//
//   fp32  8 lanes of f32, fused multiply-add
//   fp16  8 lanes; weights widened from binary16 with F16C (vcvtph2ps), exact
//   int8  u7 activations (0...127, proven by the caller: rlck_conv.x_max): 32 elements per step, vpmaddubsw
//         (u8 × i8 pairs summed into i16: exact, |pair| ≤ 2·127·128 = 32512 < 2^15) then vpmaddwd by 1 into
//         i32 lanes; other u8 and i8 activations: 16 elements per step, activations and weights widened to
//         i16, vpmaddwd into i32 lanes (exact: each pair of products is at most 2·255·128 in magnitude)

import CRelConKernels
import _Builtin_intrinsics.intel

@export(interface) public func convF32(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF32.self) }
@export(interface) public func convF16(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF16.self) }
@export(interface) public func convI8(_ a: UnsafePointer<rlck_conv>) {
    let p = a.pointee
    if p.x_signed != 0 {
        ConvDriver.run(a, LaneI8S.self)
    } else if p.x_max > 0, p.x_max <= 127 {
        ConvDriver.run(a, LaneI8U7.self)
    } else {
        ConvDriver.run(a, LaneI8U.self)
    }
}

typealias VF = SIMD8<Float>

enum LaneF32: ConvLane {
    static var chunk: Int { 8 }
    static var rows: Int { 4 }
    static var xBytes: Int { 4 }
    static var wBytes: Int { 4 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func mad(_ acc: VF, _ x: VF, _ w: VF) -> VF { acc.addingProduct(x, w) }
    @inline(__always) static func reduce(_ acc: VF) -> Float { acc.sum() }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        FloatTail.dot(x, w, n)
    }
    @inline(__always) static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static var sZero: Float { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? { Epilogue.floatContext(a) }
    @inline(__always) static func store(_ c: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) { Epilogue.float(c, t, o, dot) }
}

enum LaneF16: ConvLane {
    static var chunk: Int { 8 }
    static var rows: Int { 4 }
    static var xBytes: Int { 4 }
    static var wBytes: Int { 2 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF {
        // vcvtph2ps ymm (F16C); SIMD8<Float>(SIMD8<Float16>) would convert lane by lane.
        _mm256_cvtph_ps(p.loadUnaligned(as: __m128i.self))
    }
    @inline(__always) static func mad(_ acc: VF, _ x: VF, _ w: VF) -> VF { acc.addingProduct(x, w) }
    @inline(__always) static func reduce(_ acc: VF) -> Float { acc.sum() }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n {
            s = s + x.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
                * Float(w.loadUnaligned(fromByteOffset: i &* 2, as: Float16.self))
        }
        return s
    }
    @inline(__always) static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static var sZero: Float { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? { Epilogue.floatContext(a) }
    @inline(__always) static func store(_ c: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) { Epilogue.float(c, t, o, dot) }
}

enum FloatTail {
    @inline(__always) static func dot(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n {
            s = s + x.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
                * w.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
        }
        return s
    }
}

enum IntTail {
    @inline(__always) static func dot(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int, signed: Bool) -> Int32 {
        var s: Int32 = 0
        for i in 0..<n {
            let xv = signed ? Int32(x.load(fromByteOffset: i, as: Int8.self)) : Int32(x.load(fromByteOffset: i, as: UInt8.self))
            s = s &+ xv &* Int32(w.load(fromByteOffset: i, as: Int8.self))
        }
        return s
    }
}

/// Every int8 lane: 8 int32 accumulator lanes, 3 × 3 register blocks (unless the lane says otherwise), the
/// vectorised epilogue (I8Row), the tails.
protocol LaneI8Out: ConvLane where XV == __m256i, WV == __m256i, Acc == __m256i, S == Int32, Ctx == Int8Epilogue,
                                   RowCtx == I8Row.Params {
    static var xSigned: Bool { get }
    /// Weights as loaded by `loadW`, with the elements 0 ..< chunk − rest zeroed (those an earlier full chunk
    /// already counted; see `loadWTail`).
    static func keepLastW(_ w: __m256i, _ rest: Int) -> __m256i
}

/// The int8 lanes that widen to i16 (16 elements → 8 int32 lanes). The two differ only in how the activations
/// are widened (u8 after a ReLU, i8 otherwise).
protocol LaneI8: LaneI8Out {}

extension LaneI8 {
    static var chunk: Int { 16 }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepi8_epi16(p.loadUnaligned(as: __m128i.self))
    }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
    }
    @inline(__always) static func keepLastW(_ w: __m256i, _ rest: Int) -> __m256i { I8Tail.keepLast(w, rest) }
}

/// u7 activations (0...127, rlck_conv.x_max): 32 bytes per step, no widening. vpmaddubsw multiplies the u8
/// activations by the i8 weights and adds adjacent pairs into i16 with saturation, which never happens here:
/// |x_i·w_i + x_j·w_j| ≤ 2·127·128 = 32512 < 32767. vpmaddwd by 1 then adds adjacent i16 into the i32 lanes.
/// Half the multiply-accumulate µops of the widening lanes per element, and no widening loads.
enum LaneI8U7: LaneI8Out {
    static var chunk: Int { 32 }
    static var rows: Int { 2 }
    static var cols: Int { 4 }
    static var xSigned: Bool { false }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), _mm256_set1_epi16(1)))
    }
    @inline(__always) static func keepLastW(_ w: __m256i, _ rest: Int) -> __m256i { I8Tail.keepLastBytes(w, rest) }
}

extension LaneI8Out {
    static var rows: Int { 3 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        IntTail.dot(x, w, n, signed: xSigned)
    }
    /// The partial last chunk of a run: with a full chunk before it, the chunk that ends at the end of the run,
    /// weights of the elements already counted zeroed (no copy); otherwise a zero-filled copy.
    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> __m256i {
        back ? loadX(p + (rest &- chunk)) : loadXPartial(p, rest)
    }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> __m256i {
        back ? keepLastW(loadW(p + (rest &- chunk)), rest) : loadWPartial(p, rest)
    }
    @inline(__always) static func zero() -> __m256i { _mm256_setzero_si256() }
    @inline(__always) static func reduce(_ acc: __m256i) -> Int32 { I8Reduce.sum(acc) }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
    @inline(__always) static func rowContext(_ c: Int8Epilogue, _ o: Int) -> I8Row.Params { I8Row.params(c, o) }
    @inline(__always) static func rowContext4(_ c: Int8Epilogue, _ o: Int) -> I8Row.Params {
        I8Row.params(c, o, lanes: 4)
    }
    @inline(__always) static func storeRow4(_ c: Int8Epilogue, _ r: I8Row.Params, _ t: Int, _ o: Int, _ a0: __m256i,
                                            _ a1: __m256i, _ a2: __m256i, _ a3: __m256i) {
        I8Row.store4(c, r, t, o, a0, a1, a2, a3)
    }
    @inline(__always) static func storeRow4Pairs(_ c: Int8Epilogue, _ r: I8Row.Params, _ t: Int, _ o: Int,
                                                 _ a0: __m256i, _ b0: __m256i, _ a1: __m256i, _ b1: __m256i,
                                                 _ a2: __m256i, _ b2: __m256i, _ a3: __m256i, _ b3: __m256i) {
        I8Row.store4(c, r, t, o, _mm256_add_epi32(a0, b0), _mm256_add_epi32(a1, b1), _mm256_add_epi32(a2, b2),
                     _mm256_add_epi32(a3, b3))
    }
    @inline(__always) static func storeRow3Pairs(_ c: Int8Epilogue, _ r: I8Row.Params, _ t: Int, _ o: Int,
                                                 _ a0: __m256i, _ b0: __m256i, _ a1: __m256i, _ b1: __m256i,
                                                 _ a2: __m256i, _ b2: __m256i) {
        I8Row.store3(c, r, t, o, _mm256_add_epi32(a0, b0), _mm256_add_epi32(a1, b1), _mm256_add_epi32(a2, b2))
    }
    @inline(__always) static func storeRow3(_ c: Int8Epilogue, _ r: I8Row.Params, _ t: Int, _ o: Int, _ a0: __m256i,
                                            _ a1: __m256i, _ a2: __m256i) { I8Row.store3(c, r, t, o, a0, a1, a2) }
}

/// Activations after a ReLU: u8, zero-extended.
enum LaneI8U: LaneI8 {
    static var xSigned: Bool { false }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepu8_epi16(p.loadUnaligned(as: __m128i.self))
    }
}

/// Signed activations (the input stem, the residual stream): i8, sign-extended.
enum LaneI8S: LaneI8 {
    static var xSigned: Bool { true }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepi8_epi16(p.loadUnaligned(as: __m128i.self))
    }
}

enum I8Tail {
    /// The 16 i16 lanes of w with lanes 0 ..< 16 − rest zeroed (the ones an earlier full chunk already counted).
    @inline(__always)
    static func keepLast(_ w: __m256i, _ rest: Int) -> __m256i {
        let lane = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        return _mm256_and_si256(w, _mm256_cmpgt_epi16(lane, _mm256_set1_epi16(Int16(truncatingIfNeeded: 15 &- rest))))
    }

    /// The 32 bytes of w with bytes 0 ..< 32 − rest zeroed.
    @inline(__always)
    static func keepLastBytes(_ w: __m256i, _ rest: Int) -> __m256i {
        let lane = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31)
        return _mm256_and_si256(w, _mm256_cmpgt_epi8(lane, _mm256_set1_epi8(Int8(truncatingIfNeeded: 31 &- rest))))
    }
}

enum I8Reduce {
    @inline(__always) static func sum(_ v: __m256i) -> Int32 {
        unsafeBitCast(v, to: SIMD8<Int32>.self).wrappedSum()
    }
}

/// The int8 epilogue of three outputs (t, o…o+2) at once, bit-exact with `Epilogue.int8` (docs/quantization.md):
/// one horizontal reduction of the three accumulators (int32, wrapping: any order gives the same sum), + bias,
/// then clamp((acc·M + res·Mr + 2^(s−1)) >> s, lo, hi) in four 64-bit lanes (three used): vpmuldq for the
/// 32×32→64 products, an arithmetic shift built from the logical one ((v ⊕ 2^63) >>> s − 2^63 >>> s, exact for
/// every s), 64-bit compares for the clamp. Per-channel parameters are read with vpmaskmovd (lane 3 is never
/// read, so nothing past the arrays is touched); y and the residual are accessed as 2 + 1 bytes.
enum I8Row {
    /// Channels o…o+2 (lane 3 unused): bias (i32), M, Mr, s & 63 and 2^(s−1) (i64 lanes).
    struct Params {
        var bias: __m128i
        var mult: __m256i
        var shift: I8Shift
        var round: __m256i              // 2^(s−1), − 128·Mr for an i8 residual
        var multRes32: __m128i          // Mr as i32 (widened where it is used, see requantize)
        var resFlip: UInt32             // 0x808080 for an i8 residual: r + 128 as u8 (and −128·Mr in round)
        var lo: __m256i, hi: __m256i
    }

    /// Channels o…o+2 (`lanes` 3; lane 3 is zero and never read) or o…o+3 (`lanes` 4).
    @inline(__always)
    static func params(_ e: Int8Epilogue, _ o: Int, lanes: Int = 3) -> Params {
        let mask3 = lanes == 4 ? _mm_set1_epi32(-1) : _mm_setr_epi32(-1, -1, -1, 0)
        let bias = e.bias.map { _mm_maskload_epi32($0 + o, mask3) } ?? _mm_setzero_si128()
        // Multipliers zero-extended: vpmuldq reads their low 32 bits as signed, and a visibly zero-extended
        // operand keeps the code generator on vpmuldq (a sign-extended one loaded in another block does not).
        let m = _mm256_cvtepu32_epi64(_mm_maskload_epi32(e.mult + o, mask3))
        let mr32 = e.multRes.map { _mm_maskload_epi32($0 + o, mask3) } ?? _mm_setzero_si128()
        let sh = I8Shift(_mm_maskload_epi32(e.shift + o, mask3))
        var round = sh.round
        let signedRes = e.residual != nil && e.residualSigned
        // An i8 residual r is read as the u8 r + 128 (its bits ^ 0x80): r·Mr = (r + 128)·Mr − 128·Mr, exactly.
        if signedRes { round = _mm256_sub_epi64(round, _mm256_slli_epi64(_mm256_cvtepu32_epi64(mr32), 7)) }
        return Params(bias: bias, mult: m, shift: sh, round: round, multRes32: mr32, resFlip: signedRes ? (lanes == 4 ? 0x8080_8080 : 0x80_8080) : 0,
                      lo: _mm256_set1_epi64x(Int64(e.lo)), hi: _mm256_set1_epi64x(Int64(e.hi)))
    }

    @inline(__always)
    static func store3(_ e: Int8Epilogue, _ p: Params, _ t: Int, _ o: Int, _ a0: __m256i, _ a1: __m256i,
                       _ a2: __m256i) {
        let i = t &* e.cout &+ o
        let res = e.residual.map {
            UInt32($0.loadUnaligned(fromByteOffset: i, as: UInt16.self)) | (UInt32($0.load(fromByteOffset: i &+ 2, as: UInt8.self)) << 16)
        }
        let q = requantize(p, sums(p, a0, a1, a2, a2), residual: res)
        // The low byte of each 64-bit lane: lanes 0, 1 (low 128 bits) and 2 (high 128 bits).
        let qv = unsafeBitCast(q, to: SIMD32<UInt8>.self)
        let y = UnsafeMutableRawPointer(e.y + i)
        y.storeBytes(of: UInt16(qv[0]) | (UInt16(qv[8]) << 8), as: UInt16.self)
        y.storeBytes(of: qv[16], toByteOffset: 2, as: UInt8.self)
    }

    /// The same for four outputs (t, o…o+3) (params of `lanes` 4): all four 64-bit lanes used, the residual read and
    /// y written as one 4-byte word.
    @inline(__always)
    static func store4(_ e: Int8Epilogue, _ p: Params, _ t: Int, _ o: Int, _ a0: __m256i, _ a1: __m256i,
                       _ a2: __m256i, _ a3: __m256i) {
        let i = t &* e.cout &+ o
        let q = requantize(p, sums(p, a0, a1, a2, a3), residual: e.residual?.loadUnaligned(fromByteOffset: i, as: UInt32.self))
        // The low byte of each 64-bit lane (bytes 0 and 8 of each 128-bit half) into one 32-bit word.
        let pick = _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                    -1, -1, 0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
        let b = _mm256_shuffle_epi8(q, pick)
        let word = _mm_or_si128(_mm256_castsi256_si128(b),
                                unsafeBitCast(unsafeBitCast(b, to: SIMD32<UInt8>.self).highHalf, to: __m128i.self))
        UnsafeMutableRawPointer(e.y + i).storeBytes(of: UInt32(bitPattern: _mm_cvtsi128_si32(word)), as: UInt32.self)
    }

    /// [Σa0, Σa1, Σa2, Σa3] + bias: one horizontal reduction of four accumulators (int32, wrapping: any order gives
    /// the same sum).
    @inline(__always)
    static func sums(_ p: Params, _ a0: __m256i, _ a1: __m256i, _ a2: __m256i, _ a3: __m256i) -> __m128i {
        let h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3))
        return _mm_add_epi32(_mm_add_epi32(_mm256_castsi256_si128(h), unsafeBitCast(
            unsafeBitCast(h, to: SIMD8<Int32>.self).highHalf, to: __m128i.self)), p.bias)
    }

    /// clamp((acc·M + r·Mr + 2^(s−1)) >> s, lo, hi) in the four 64-bit lanes, from the four i32 sums `acc` and, with
    /// a residual, its bytes (byte k for lane k, as stored: `Params.resFlip` maps i8 ones to u8).
    @inline(__always)
    static func requantize(_ p: Params, _ acc: __m128i, residual: UInt32?) -> __m256i {
        var total = _mm256_add_epi64(_mm256_mul_epi32(_mm256_cvtepi32_epi64(acc), p.mult), p.round)
        if let bytes = residual {
            // Both factors non-negative and < 2^32: vpmuludq. Widened here, next to the product, so that the code
            // generator sees they fit in 32 bits (operands widened in another block become a 64-bit multiply
            // emulation).
            let rv = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(Int32(bitPattern: bytes ^ p.resFlip)))
            total = _mm256_add_epi64(total, _mm256_mul_epu32(rv, _mm256_cvtepu32_epi64(p.multRes32)))
        }
        return p.shift.apply(total, p.lo, p.hi)
    }
}

/// The 64-bit rounding shift of docs/quantization.md in four lanes, shared by every int8 epilogue of this module
/// (I8Row, ElementwiseI8): per lane s & 63 (the validator keeps s in 1…62), the rounding term 2^(s−1), and
/// 2^63 >>> s for an arithmetic shift built from the logical one, (v ⊕ 2^63) >>> s − 2^63 >>> s (exact for every s).
struct I8Shift {
    var shift: __m256i, round: __m256i, signShift: __m256i

    /// From four i32 shifts.
    @inline(__always)
    init(_ s32: __m128i) {
        let m63 = _mm256_set1_epi64x(63), one = _mm256_set1_epi64x(1)
        shift = _mm256_and_si256(_mm256_cvtepu32_epi64(s32), m63)
        round = _mm256_sllv_epi64(one, _mm256_and_si256(_mm256_sub_epi64(shift, one), m63))
        signShift = _mm256_srlv_epi64(_mm256_set1_epi64x(Int64.min), shift)
    }

    /// clamp(total >> s, lo, hi), >> arithmetic (total already holds the rounding term).
    @inline(__always)
    func apply(_ total: __m256i, _ lo: __m256i, _ hi: __m256i) -> __m256i {
        var q = _mm256_sub_epi64(_mm256_srlv_epi64(_mm256_xor_si256(total, _mm256_set1_epi64x(Int64.min)), shift),
                                 signShift)
        q = _mm256_blendv_epi8(q, lo, _mm256_cmpgt_epi64(lo, q))
        return _mm256_blendv_epi8(q, hi, _mm256_cmpgt_epi64(q, hi))
    }
}
