// Kernels for x86-64-v3 (AVX2, FMA, F16C): this module is compiled with -Xcc -march=x86-64-v3 and only ever
// called after the runtime has checked the CPU (relcon_kernels.h, rlck_detect_isa). Entry points are
// @export(interface): clients call the symbol, they never get a copy of the body compiled with their own flags.
// The runtime reaches them through the module's kernel table, v3Kernels() (the bench of shapes calls them directly).
//
//   fp32  8 lanes of f32, fused multiply-add
//   fp16  8 lanes; weights widened from binary16 with F16C (vcvtph2ps), exact
//   int8  u7 activations (0...127, proven by the caller: rlck_conv.x_max): 32 elements per step, vpmaddubsw
//         (u8 × i8 pairs summed into i16: exact, |pair| ≤ 2·127·128 = 32512 < 2^15) then vpmaddwd by 1 into
//         i32 lanes; other u8 and i8 activations: 16 elements per step, activations and weights widened to
//         i16, vpmaddwd into i32 lanes (exact: each pair of products is at most 2·255·128 in magnitude)

import CRelConKernels
import _Builtin_intrinsics.intel

/// This level's kernel table (relcon_kernels.h, `rlck_kernels`): the one symbol the runtime calls
/// (Sources/RelConRuntime/Kernels/Dispatch.swift). Every entry is this module's; the level below is portable.
@export(interface) public func v3Kernels() -> rlck_kernels {
    rlck_kernels(conv_f32: { convF32($0) }, conv_f16: { convF16($0) }, conv_i8: { convI8($0) },
                 affine_i8: { affineI8($0) }, add_i8: { addI8($0) }, keeps: nil, fallback: Int32(RLCK_ISA_PORTABLE))
}

@export(interface) public func convF32(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF32.self) }
@export(interface) public func convF16(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF16.self) }
@export(interface) public func convI8(_ a: UnsafePointer<rlck_conv>) {
    let p = a.pointee
    if p.x_signed != 0 {
        // Runs (taps × channels with dilation 1, else channels) shorter than one 32-byte chunk (the stem: 7 taps ×
        // 3 axes) stay on the 16-element widening lane, which needs no zero-filled copy for them.
        let run = p.dilation == 1 || p.kernel == 1 ? p.kernel &* p.channels_in : p.channels_in
        if run >= 32 {
            ConvDriver.run(a, LaneI8Sign.self)
        } else {
            ConvDriver.run(a, LaneI8S.self)
        }
    } else if p.x_max > 0, p.x_max <= 127 {
        ConvDriver.run(a, LaneI8U7.self)
    } else {
        ConvDriver.run(a, LaneI8U.self)
    }
}

typealias VF = SIMD8<Float>

/// The last `rest` (< 8) floats of a run: vmaskmovps with lanes 0 ..< rest (the others read as +0 and are never
/// touched, so nothing past the run is read): the same values as the default zero-filled copy, without the copy
/// (the 21-element stem runs twice as fast).
@inline(__always) func loadFloatTail(_ p: UnsafeRawPointer, _ rest: Int) -> VF {
    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(Int32(truncatingIfNeeded: rest)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
    return _mm256_maskload_ps(p.assumingMemoryBound(to: Float.self), mask)
}

enum LaneF32: ConvLane {
    static var chunk: Int { 8 }
    static var rows: Int { 4 }
    static var xBytes: Int { 4 }
    static var wBytes: Int { 4 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF { loadFloatTail(p, rest) }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF { loadFloatTail(p, rest) }
    @inline(__always) static func mad(_ acc: VF, _ x: VF, _ w: VF) -> VF { acc.addingProduct(x, w) }
    @inline(__always) static func reduce(_ acc: VF) -> Float { acc.sum() }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        FloatTail.dot(x, w, n)
    }
    @inline(__always) static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static var sZero: Float { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? { Epilogue.floatContext(a) }
    @inline(__always) static func store(_ c: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) { Epilogue.float(c, t, o, dot) }
    @inline(__always) static func storeRow3(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ a1: VF,
                                            _ a2: VF) { FloatRow.store3(c, t, o, a0, a1, a2) }
    @inline(__always) static func storeRow3Pairs(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ b0: VF,
                                                 _ a1: VF, _ b1: VF, _ a2: VF, _ b2: VF) {
        FloatRow.store3(c, t, o, a0 + b0, a1 + b1, a2 + b2)
    }
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
    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF { loadFloatTail(p, rest) }
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
    @inline(__always) static func storeRow3(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ a1: VF,
                                            _ a2: VF) { FloatRow.store3(c, t, o, a0, a1, a2) }
    @inline(__always) static func storeRow3Pairs(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF, _ b0: VF,
                                                 _ a1: VF, _ b1: VF, _ a2: VF, _ b2: VF) {
        FloatRow.store3(c, t, o, a0 + b0, a1 + b1, a2 + b2)
    }
}

