// Kernels for x86-64-v4 with AVX512-VNNI: this module is compiled with -Xcc -march=x86-64-v4 -Xcc -mavx512vnni
// and only ever called after the runtime has checked the CPU and the OS's saved register state
// (relcon_kernels.h, rlck_detect_isa). Entry points are @export(interface) (see RelConKernelsV3/ISA.swift).
// The driver (ConvDriver.swift) and the int8 epilogues (Lanes.swift) are the v3 module's files, compiled here
// with this module's flags; the lanes below are what differs.
//
//   fp32  16 lanes of f32 (zmm), fused multiply-add, 4 × 4 register blocks (16 of the 32 zmm registers); the
//         four-output epilogue (FloatRow4) folds each 16-lane accumulator to 8 lanes (one vaddps of its halves)
//         and reduces the four with vhaddps; the last partial chunk of a run is a masked load
//   fp16  the same; weights widened from binary16 (vcvtph2ps zmm), exact
//   int8  every activation kind on vpdpbusd (u8 × i8, four products summed into each i32 lane: exact, no
//         saturation), 32 bytes per step, 4 × 4 (u8) or 2 × 4 (i8) register blocks and the v3 epilogues (I8Row):
//           u8 and u7 activations (after a ReLU)   vpdpbusd of x and w as they are
//           i8 activations (the residual stream)  vpdpbusd of |x| (≤ 128 as u8) and w with x's sign (vpsignb)
//         runs shorter than 32 bytes (the stem: 7 taps × 3 axes) stay on the widening lane (LaneI8S), as on v3
//
// Which shapes run here at all is this module's static rule (`v4Keeps`, in its kernel table v4Kernels()): the
// runtime sends a CONV1D to v3 where these lanes were measured slower (docs/performance.md, "ISA levels").

import CRelConKernels
import _Builtin_intrinsics.intel

/// This level's kernel table (relcon_kernels.h, `rlck_kernels`): the one symbol the runtime calls
/// (Sources/RelConRuntime/Kernels/Dispatch.swift). int8 AFFINE / ADD are left to the level below, v3 (its AVX2
/// loops: v4 implies v3), and so is every CONV1D that `keeps` declines.
@export(interface) public func v4Kernels() -> rlck_kernels {
    rlck_kernels(conv_f32: { convF32($0) }, conv_f16: { convF16($0) }, conv_i8: { convI8($0) },
                 affine_i8: nil, add_i8: nil, keeps: { v4Keeps($0, $1) }, fallback: Int32(RLCK_ISA_V3))
}

/// Whether one CONV1D runs on these lanes (1) or on v3's (0): a static rule of the shape, the same for every
/// call (docs/performance.md, "ISA levels"). The run is K·Cin elements with dilation 1, else Cin. v4 takes
///   fp32/fp16  Cout a multiple of 4 (every channel then in a 4 × 4 block, whose last partial chunk is a masked
///              load) or runs that are a multiple of 16 floats (whole zmm chunks). Otherwise the last Cout mod 4
///              channels would end each output with a scalar tail where v3's 8-float chunks may fit;
///   int8       runs of at least 16 bytes (shorter ones take the same zero-filled-copy path on both levels).
/// `make bench-shapes`, v4 ÷ v3 per call, paired: every CONV1D of the reference, compact and tiny encoders that
/// the rule keeps on v4 at 0.22–0.97 (fp32/fp16 0.22–0.94, int8 0.53–0.97); int8 tiny proj 8>16 k1 (run 8) 1.02
/// → v3. Before the float 4 × 4 blocks (3-channel blocks, so Cout 8 left 2 channels to the scalar-tail path) the
/// tiny 8>8 k3 fp32 was 1.95 on v4.
@export(interface) public func v4Keeps(_ a: UnsafePointer<rlck_conv>, _ kind: Int32) -> Int32 {
    let p = a.pointee
    let run = p.dilation == 1 || p.kernel == 1 ? p.kernel &* p.channels_in : p.channels_in
    if kind == Int32(RLCK_CONV_I8) { return run >= 16 ? 1 : 0 }
    return p.channels_out % 4 == 0 || run % 16 == 0 ? 1 : 0
}

@export(interface) public func convF32(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF32.self) }
@export(interface) public func convF16(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF16.self) }
@export(interface) public func convI8(_ a: UnsafePointer<rlck_conv>) {
    let p = a.pointee
    if p.x_signed != 0 {
        // As on v3: runs shorter than one 32-byte chunk stay on the widening lane (no zero-filled copy).
        let run = p.dilation == 1 || p.kernel == 1 ? p.kernel &* p.channels_in : p.channels_in
        if run >= 32 {
            ConvDriver.run(a, LaneI8DotSign.self)
        } else {
            ConvDriver.run(a, LaneI8S.self)
        }
    } else {
        ConvDriver.run(a, LaneI8DotU.self)
    }
}

typealias VF = SIMD16<Float>

/// The 8-lane sum of a 16-lane accumulator (its halves added: one vextractf64x4 + vaddps).
@inline(__always) func fold(_ v: VF) -> SIMD8<Float> { v.lowHalf + v.highHalf }

/// Lanes 0 ..< rest of a 16-lane mask (rest < 16).
@inline(__always) func tailMask(_ rest: Int) -> __mmask16 { __mmask16(truncatingIfNeeded: (1 &<< rest) &- 1) }

/// fp32 and fp16 on zmm: the two differ only in how the weights are loaded.
protocol LaneF: ConvLane where XV == VF, WV == VF, Acc == VF, S == Float, Ctx == FloatEpilogue, RowCtx == Void {}

extension LaneF {
    static var chunk: Int { 16 }
    static var rows: Int { 4 }
    /// 4 × 4 blocks (16 accumulators + 4 activations + 1 weight of the 32 zmm), epilogues of four outputs.
    static var cols: Int { 4 }
    static var rows4: Int { 4 }
    static var xBytes: Int { 4 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func mad(_ acc: VF, _ x: VF, _ w: VF) -> VF { acc.addingProduct(x, w) }
    @inline(__always) static func reduce(_ acc: VF) -> Float { fold(acc).sum() }
    /// The last `rest` (< 16) activations of a run: a zero-masking load (vmovups zmm{k}{z}: the lanes outside the
    /// mask are neither read nor faulted), the same values as the default zero-filled copy, without the copy.
    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF {
        _mm512_maskz_loadu_ps(tailMask(rest), p)
    }
    @inline(__always) static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static var sZero: Float { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? { Epilogue.floatContext(a) }
    @inline(__always) static func store(_ c: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) { Epilogue.float(c, t, o, dot) }
    @inline(__always) static func storeRow3(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ a1: VF,
                                            _ a2: VF) { FloatRow.store3(c, t, o, fold(a0), fold(a1), fold(a2)) }
    @inline(__always) static func storeRow3Pairs(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ b0: VF,
                                                 _ a1: VF, _ b1: VF, _ a2: VF, _ b2: VF) {
        FloatRow.store3(c, t, o, fold(a0 + b0), fold(a1 + b1), fold(a2 + b2))
    }
    @inline(__always) static func storeRow4(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ a1: VF,
                                            _ a2: VF, _ a3: VF) { FloatRow4.store4(c, t, o, fold(a0), fold(a1), fold(a2), fold(a3)) }
    @inline(__always) static func storeRow4Pairs(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ b0: VF,
                                                 _ a1: VF, _ b1: VF, _ a2: VF, _ b2: VF, _ a3: VF, _ b3: VF) {
        FloatRow4.store4(c, t, o, fold(a0 + b0), fold(a1 + b1), fold(a2 + b2), fold(a3 + b3))
    }
}

/// The fp32/fp16 epilogue of four outputs (t, o…o+3), like v3's FloatRow.store3 with all four lanes: one horizontal
/// reduction (vhaddps), then per channel bias + dot, + residual, ReLU; bias, residual and y as four floats.
enum FloatRow4 {
    @inline(__always)
    static func store4(_ e: FloatEpilogue, _ t: Int, _ o: Int, _ a0: SIMD8<Float>, _ a1: SIMD8<Float>,
                       _ a2: SIMD8<Float>, _ a3: SIMD8<Float>) {
        let h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3))
        var v = h.lowHalf + h.highHalf
        let i = t &* e.cout &+ o
        if let b = e.bias { v = UnsafeRawPointer(b + o).loadUnaligned(as: SIMD4<Float>.self) + v }
        if let r = e.residual { v = v + UnsafeRawPointer(r + i).loadUnaligned(as: SIMD4<Float>.self) }
        if e.relu { v = _mm_max_ps(_mm_setzero_ps(), v) }      // as in FloatRow.store3
        UnsafeMutableRawPointer(e.y + i).storeBytes(of: v, as: SIMD4<Float>.self)
    }
}

enum LaneF32: LaneF {
    static var wBytes: Int { 4 }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF {
        _mm512_maskz_loadu_ps(tailMask(rest), p)
    }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        FloatTail.dot(x, w, n)
    }
}

enum LaneF16: LaneF {
    static var wBytes: Int { 2 }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF {
        // vcvtph2ps zmm; SIMD16<Float>(SIMD16<Float16>) would convert lane by lane.
        _mm512_cvtph_ps(p.loadUnaligned(as: __m256i.self))
    }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF {
        _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tailMask(rest), p))   // binary16 +0 widens to +0
    }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n {
            s = s + x.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
                * Float(w.loadUnaligned(fromByteOffset: i &* 2, as: Float16.self))
        }
        return s
    }
}

/// The int8 lanes on vpdpbusd (AVX512-VNNI on ymm, AVX512-VL): 32 bytes of activations and weights per step,
/// loaded as they are; `operands` gives the unsigned and the signed operand, whose four adjacent byte products
/// vpdpbusd adds into each i32 lane. Each product is at most 255·128 in magnitude and the four at most 130560,
/// so nothing saturates or wraps before the i32 accumulation, which wraps like the reference's int32 sum.
/// One µop per 32 multiply-accumulates (v3: vpmaddubsw + vpmaddwd + vpaddd). Register blocks 2 × 4 (u8: 4 × 4).
protocol LaneI8Dot: LaneI8Out {
    static func operands(_ x: __m256i, _ w: __m256i) -> (u: __m256i, s: __m256i)
}

extension LaneI8Dot {
    static var chunk: Int { 32 }
    static var rows: Int { 2 }
    static var cols: Int { 4 }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        let (u, s) = operands(x, w)
        return _mm256_mask_dpbusd_epi32(acc, 0xFF, u, s)   // all lanes: the unmasked macro form does not import
    }
    @inline(__always) static func keepLastW(_ w: __m256i, _ rest: Int) -> __m256i { I8Tail.keepLastBytes(w, rest) }
}

/// u8 activations (after a ReLU; u7 ones too): x is the unsigned operand, w the signed one, as stored.
enum LaneI8DotU: LaneI8Dot {
    static var xSigned: Bool { false }
    /// 4 × 4 blocks: 16 accumulators + 4 activations + 1 weight of the 32 ymm registers (LaneI8DotSign keeps 2 × 4:
    /// vpsignb has no EVEX form, so its operands must live in ymm0–15, and 4 × 4 spills: proj 32>64 k1 went from
    /// 0.85 to 1.01 of v3).
    static var rows4: Int { 4 }
    @inline(__always) static func operands(_ x: __m256i, _ w: __m256i) -> (u: __m256i, s: __m256i) { (x, w) }
}

/// i8 activations: |x| (≤ 128, read as u8) and w with x's sign (vpsignb: w where x > 0, −w where x < 0, 0 where
/// x = 0), so each product is x·w exactly. Needs w ≠ −128 (−w would wrap), which the validator guarantees for
/// every int8 weight (docs/quantization.md §1), as for v3's LaneI8Sign.
enum LaneI8DotSign: LaneI8Dot {
    static var xSigned: Bool { true }
    @inline(__always) static func operands(_ x: __m256i, _ w: __m256i) -> (u: __m256i, s: __m256i) {
        (_mm256_abs_epi8(x), _mm256_sign_epi8(w, x))
    }
}
