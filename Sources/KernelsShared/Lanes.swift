// The lane pieces shared by the x86-64-v3 and x86-64-v4 kernel modules: this file is compiled into
// RelConKernelsV3 (-march=x86-64-v3) and, through the symlink Sources/RelConKernelsV4/Lanes.swift, into
// RelConKernelsV4 (-march=x86-64-v4 + VNNI), like ConvDriver.swift. Each module's ISA.swift picks the lanes.
//
//   FloatRow   the fp32/fp16 three-output epilogue (8-lane accumulators; v4 folds its 16 lanes first)
//   LaneI8Out  every int8 lane with 8 int32 accumulator lanes: tails, the vectorised epilogues (I8Row)
//   LaneI8U/S  the widening lanes (16 elements per step, vpmaddwd); LaneI8U7/Sign the vpmaddubsw ones
//   I8Row, I8Shift  the int8 epilogues of 3, 4 and 2 × 4 outputs, bit-exact with Epilogue.int8

import CRelConKernels
import _Builtin_intrinsics.intel

/// The fp32/fp16 epilogue of three outputs (t, o…o+2) at once: one horizontal reduction of the three accumulators
/// (vhaddps; the sums' order depends on nothing but the lane, so results stay independent of addresses), then per
/// channel exactly the steps of `Epilogue.float`: bias + dot, + residual, ReLU. Bias, residual and y are accessed
/// as three floats (vmaskmovps: nothing past them is touched).
enum FloatRow {
    @inline(__always)
    static func store3(_ e: FloatEpilogue, _ t: Int, _ o: Int, _ a0: SIMD8<Float>, _ a1: SIMD8<Float>, _ a2: SIMD8<Float>) {
        let h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, _mm256_setzero_ps()))
        var v = h.lowHalf + h.highHalf
        let mask = _mm_setr_epi32(-1, -1, -1, 0)
        let i = t &* e.cout &+ o
        if let b = e.bias { v = _mm_add_ps(_mm_maskload_ps(b + o, mask), v) }
        if let r = e.residual { v = _mm_add_ps(v, _mm_maskload_ps(r + i, mask)) }
        if e.relu { v = _mm_max_ps(_mm_setzero_ps(), v) }      // (0, v): a NaN stays NaN, −0 stays −0, like v < 0 ? 0 : v
        _mm_maskstore_ps(e.y + i, mask, v)
    }
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
    static var rows: Int { 2 }
    static var cols: Int { 4 }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepi8_epi16(p.loadUnaligned(as: __m128i.self))
    }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
    }
    @inline(__always) static func keepLastW(_ w: __m256i, _ rest: Int) -> __m256i { I8Tail.keepLast(w, rest) }
}

/// The int8 lanes on vpmaddubsw: 32 bytes of activations and weights per step, loaded as they are; `pairs` gives
/// the 16 i16 sums of adjacent products (vpmaddubsw, which saturates, so each lane says why its pairs fit), then
/// vpmaddwd by 1 adds adjacent i16 into the i32 lanes. Half the multiply-accumulate µops of the widening lanes per
/// element, and no widening loads. Register blocks 2 time steps × 4 channels.
protocol LaneI8Pairs: LaneI8Out {
    static func pairs(_ x: __m256i, _ w: __m256i) -> __m256i
}

extension LaneI8Pairs {
    static var chunk: Int { 32 }
    static var rows: Int { 2 }
    static var cols: Int { 4 }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(pairs(x, w), _mm256_set1_epi16(1)))
    }
    @inline(__always) static func keepLastW(_ w: __m256i, _ rest: Int) -> __m256i { I8Tail.keepLastBytes(w, rest) }
}

/// u7 activations (0...127, rlck_conv.x_max): vpmaddubsw of the activations (u8) and the weights (i8) never
/// saturates: |x_i·w_i + x_j·w_j| ≤ 2·127·128 = 32512 < 32767.
enum LaneI8U7: LaneI8Pairs {
    static var xSigned: Bool { false }
    @inline(__always) static func pairs(_ x: __m256i, _ w: __m256i) -> __m256i { _mm256_maddubs_epi16(x, w) }
}

/// Signed activations (i8: the quantised input, the residual stream) through the same vpmaddubsw step: |x| as the
/// unsigned operand (≤ 128) and w with x's sign (vpsignb: w where x > 0, −w where x < 0, 0 where x = 0), so each
/// product is x·w exactly and |pair| ≤ 2·128·127 = 32512 < 2^15. Needs w ≠ −128 (−w would wrap), which the
/// validator guarantees for every int8 weight (docs/quantization.md §1). One vpsignb more per multiply-accumulate
/// than LaneI8U7: about 1.8× the widening lane's rate on AVX2.
enum LaneI8Sign: LaneI8Pairs {
    static var xSigned: Bool { true }
    @inline(__always) static func pairs(_ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_maddubs_epi16(_mm256_abs_epi8(x), _mm256_sign_epi8(w, x))
    }
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
    @inline(__always) static func storeBlock24(_ c: Int8Epilogue, _ r: I8Row.Params, _ t: Int, _ o: Int,
                                               _ a0: __m256i, _ a1: __m256i, _ a2: __m256i, _ a3: __m256i,
                                               _ b0: __m256i, _ b1: __m256i, _ b2: __m256i, _ b3: __m256i) {
        I8Row.store24(c, r, t, o, a0, a1, a2, a3, b0, b1, b2, b3)
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
        /// `store24` (params of `lanes` 4 only): eight i32 lanes, channels o…o+3 twice (two time steps).
        var wide: Wide
    }

    /// The 8-lane epilogue's constants (`store24`). The rounding shift runs on the high halves of the 64-bit
    /// totals: for a total T (|T| < 2^63, docs/quantization.md §6) the high 32 bits of T·2^u are ⌊T·2^u / 2^32⌋
    /// exactly as long as |T·2^u| < 2^63, and a 32-bit arithmetic shift by v then gives ⌊T / 2^s⌋ when
    /// u − v = 32 − s. Per channel: s ≥ 32 → u = 0, v = s − 32 (always exact); s < 32 → u = 32 − s, v = 0, exact
    /// once acc is clamped to [accLo, accHi], bounds outside which the output saturates for every residual
    /// (so the clamp changes no output) and inside which |T|·2^u < 2^63 (checked when the bounds are built;
    /// otherwise `ok` is false and `store24` takes the 64-bit path of `store4`).
    struct Wide {
        var ok: Bool
        var bias: __m256i               // i32 [b0 b1 b2 b3 b0 b1 b2 b3]
        var accLo: __m256i, accHi: __m256i      // i32, the same layout
        var mult: __m256i               // i32 [M0 … M3 M0 … M3]: vpmuldq reads the even lanes (channels 0, 2)
        var multOdd: __m256i            // the same >> 32 in each 64-bit lane: channels 1, 3
        var multRes: __m256i, multResOdd: __m256i
        var roundEven: __m256i          // i64 2^(s−1) (− 128·Mr for an i8 residual) of channels 0, 2, 0, 2
        var roundOdd: __m256i           // … of channels 1, 3, 1, 3
        var leftEven: __m256i, leftOdd: __m256i // i64 u
        var right: __m256i              // i32 v
        var lo: __m256i, hi: __m256i    // i32
        var resFlip: UInt64
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
                      lo: _mm256_set1_epi64x(Int64(e.lo)), hi: _mm256_set1_epi64x(Int64(e.hi)),
                      wide: wide(e, o, lanes == 4, bias: bias, signedRes: signedRes))
    }

    /// `Params.wide` for channels o…o+3 (`four`; otherwise an unused value with `ok` false).
    @inline(__always)
    static func wide(_ e: Int8Epilogue, _ o: Int, _ four: Bool, bias: __m128i, signedRes: Bool) -> Wide {
        let z = _mm256_setzero_si256()
        var w = Wide(ok: false, bias: z, accLo: z, accHi: z, mult: z, multOdd: z, multRes: z, multResOdd: z,
                     roundEven: z, roundOdd: z, leftEven: z, leftOdd: z, right: z, lo: z, hi: z, resFlip: 0)
        guard four else { return w }
        let c0 = channel(e, o, signedRes), c1 = channel(e, o &+ 1, signedRes)
        let c2 = channel(e, o &+ 2, signedRes), c3 = channel(e, o &+ 3, signedRes)
        let ok = c0.ok && c1.ok && c2.ok && c3.ok
        let lo4 = SIMD4<Int32>(c0.accLo, c1.accLo, c2.accLo, c3.accLo)
        let hi4 = SIMD4<Int32>(c0.accHi, c1.accHi, c2.accHi, c3.accHi)
        let m4 = SIMD4<Int32>(c0.m, c1.m, c2.m, c3.m), mr4 = SIMD4<Int32>(c0.mr, c1.mr, c2.mr, c3.mr)
        let round4 = SIMD4<Int64>(c0.round, c1.round, c2.round, c3.round)
        let left4 = SIMD4<Int64>(c0.left, c1.left, c2.left, c3.left)
        let right4 = SIMD4<Int32>(c0.right, c1.right, c2.right, c3.right)
        let twice = { (v: SIMD4<Int32>) in unsafeBitCast(SIMD8<Int32>(lowHalf: v, highHalf: v), to: __m256i.self) }
        let pairs = { (a: Int64, b: Int64) -> __m256i in SIMD4<Int64>(a, b, a, b) }   // __m256i is SIMD4<Int64>
        let m = twice(m4), mr = twice(mr4)
        w.ok = ok
        w.bias = _mm256_set_m128i(bias, bias)
        w.accLo = twice(lo4); w.accHi = twice(hi4)
        w.mult = m; w.multOdd = _mm256_srli_epi64(m, 32)
        w.multRes = mr; w.multResOdd = _mm256_srli_epi64(mr, 32)
        w.roundEven = pairs(round4[0], round4[2]); w.roundOdd = pairs(round4[1], round4[3])
        w.leftEven = pairs(left4[0], left4[2]); w.leftOdd = pairs(left4[1], left4[3])
        w.right = twice(right4)
        w.lo = _mm256_set1_epi32(e.lo); w.hi = _mm256_set1_epi32(e.hi)
        w.resFlip = signedRes ? 0x8080_8080_8080_8080 : 0
        return w
    }

    /// One channel's part of `Wide` (see there): the acc bounds, multipliers, rounding term and shifts.
    @inline(__always)
    static func channel(_ e: Int8Epilogue, _ o: Int, _ signedRes: Bool)
        -> (ok: Bool, accLo: Int32, accHi: Int32, m: Int32, mr: Int32, round: Int64, left: Int64, right: Int32)
    {
        let s = Int64(e.shift[o]), m = Int64(e.mult[o]), mr = e.multRes.map { Int64($0[o]) } ?? 0
        let m32 = Int32(truncatingIfNeeded: m), mr32 = Int32(truncatingIfNeeded: mr)
        guard s >= 1, s <= 62, m >= 0, mr >= 0 else { return (false, 0, 0, m32, mr32, 0, 0, 0) }
        let round = (1 &<< (s &- 1)) &- (signedRes ? mr &<< 7 : 0)
        if s >= 32 { return (true, .min, .max, m32, mr32, round, 0, Int32(truncatingIfNeeded: s &- 32)) }
        // s < 32: every term below is < 2^41, exact in Int64. The residual r is in [−128, 255] (i8 or u8).
        var accLo = Int64(Int32.min), accHi = Int64(Int32.max)
        if m > 0 {
            // acc ≥ ⌈(hi·2^s − 2^(s−1) + 128·Mr) / M⌉ → output hi for every r; acc ≤ ⌊((lo+1)·2^s − 2^(s−1)
            // − 255·Mr − 1) / M⌋ → output lo for every r. The numerators are exact doubles (< 2^41), the
            // quotients within 2^−11 of the true ones, so ⌈·⌉ + 1 and ⌊·⌋ − 1 are safe bounds (a looser bound only
            // clamps values that saturate anyway; the overflow check below uses it).
            let hiNum = Int64(e.hi) &<< s &- (1 &<< (s &- 1)) &+ 128 &* mr
            let loNum = (Int64(e.lo) &+ 1) &<< s &- (1 &<< (s &- 1)) &- 255 &* mr &- 1
            let rm = 1 / Double(m)
            accHi = min(accHi, Int64((Double(hiNum) * rm).rounded(.up)) &+ 1)
            accLo = max(accLo, Int64((Double(loNum) * rm).rounded(.down)) &- 1)
        } else {
            accLo = 0; accHi = 0
        }
        // |T| ≤ max|acc|·M + 255·Mr + 2^(s−1) (< 2^63 by §6) must stay below 2^(63−u) = 2^(31+s).
        let bound = max(accHi, 0 &- accLo) &* m &+ 255 &* mr &+ (1 &<< (s &- 1))
        return (bound < (1 as Int64) &<< (31 &+ s), Int32(truncatingIfNeeded: accLo), Int32(truncatingIfNeeded: accHi),
                m32, mr32, round, 32 &- s, 0)
    }

    /// The eight outputs (t, o…o+3) from a0…a3 and (t + 1, o…o+3) from b0…b3 (params of `lanes` 4), bit-exact with
    /// `store4` twice: one horizontal reduction of the eight accumulators into one vector, + bias, then
    /// clamp((acc·M + r·Mr + 2^(s−1)) >> s, lo, hi) with vpmuldq for the even and odd lanes, the high halves of the
    /// 64-bit totals (⌊total / 2^32⌋) and a 32-bit arithmetic shift by s − 32 (see `Wide`). y and the residual are
    /// accessed as one 4-byte word per time step.
    @inline(__always)
    static func store24(_ e: Int8Epilogue, _ p: Params, _ t: Int, _ o: Int, _ a0: __m256i, _ a1: __m256i,
                        _ a2: __m256i, _ a3: __m256i, _ b0: __m256i, _ b1: __m256i, _ b2: __m256i, _ b3: __m256i) {
        let w = p.wide
        guard w.ok else {
            store4(e, p, t, o, a0, a1, a2, a3)
            store4(e, p, t &+ 1, o, b0, b1, b2, b3)
            return
        }
        // Per 128-bit half: [Σ half of a0 … a3] (low: lanes 0–3 of each accumulator; high: lanes 4–7).
        let ha = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3))
        let hb = _mm256_hadd_epi32(_mm256_hadd_epi32(b0, b1), _mm256_hadd_epi32(b2, b3))
        let lows = _mm256_set_m128i(_mm256_castsi256_si128(hb), _mm256_castsi256_si128(ha))
        let highs = _mm256_set_m128i(unsafeBitCast(unsafeBitCast(hb, to: SIMD8<Int32>.self).highHalf, to: __m128i.self),
                                     unsafeBitCast(unsafeBitCast(ha, to: SIMD8<Int32>.self).highHalf, to: __m128i.self))
        let sum = _mm256_add_epi32(_mm256_add_epi32(lows, highs), w.bias)
        let acc = _mm256_min_epi32(_mm256_max_epi32(sum, w.accLo), w.accHi)
        let i = t &* e.cout &+ o
        var even = _mm256_add_epi64(_mm256_mul_epi32(acc, w.mult), w.roundEven)
        var odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), w.multOdd), w.roundOdd)
        if let r = e.residual {
            let bytes = (UInt64(r.loadUnaligned(fromByteOffset: i &+ e.cout, as: UInt32.self)) << 32
                         | UInt64(r.loadUnaligned(fromByteOffset: i, as: UInt32.self))) ^ w.resFlip
            // r (as u8, see Params.resFlip) and Mr are non-negative and < 2^32: vpmuludq.
            let rv = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: bytes)))
            even = _mm256_add_epi64(even, _mm256_mul_epu32(rv, w.multRes))
            odd = _mm256_add_epi64(odd, _mm256_mul_epu32(_mm256_srli_epi64(rv, 32), w.multResOdd))
        }
        even = _mm256_sllv_epi64(even, w.leftEven)
        odd = _mm256_sllv_epi64(odd, w.leftOdd)
        // The high 32 bits of each total, in channel order: even lanes moved down, odd lanes kept in place.
        var q = _mm256_or_si256(_mm256_srli_epi64(even, 32), _mm256_and_si256(odd, _mm256_set1_epi64x(-1 << 32)))
        q = _mm256_srav_epi32(q, w.right)
        q = _mm256_min_epi32(_mm256_max_epi32(q, w.lo), w.hi)
        // The low byte of each i32 lane: bytes 0–3 of each 128-bit half.
        let pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                    0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
        let b = unsafeBitCast(_mm256_shuffle_epi8(q, pick), to: SIMD8<UInt32>.self)
        let y = UnsafeMutableRawPointer(e.y + i)
        y.storeBytes(of: b[0], as: UInt32.self)
        y.storeBytes(of: b[4], toByteOffset: e.cout, as: UInt32.self)
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
