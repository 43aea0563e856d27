// Kernels for x86-64-v4 with AVX512-VNNI: this module is compiled with -Xcc -march=x86-64-v4 -Xcc -mavx512vnni
// and only ever called after the runtime has checked the CPU and the OS's saved register state
// (relcon_kernels.h, rlck_detect_isa). Entry points are @export(interface) (see RelConKernelsV3/ISA.swift).
//
//   fp32  16 lanes of f32 (zmm), fused multiply-add
//   fp16  16 lanes; weights widened from binary16 (vcvtph2ps zmm), exact
//   int8  u8 activations (every conv input after a ReLU): 32 bytes per step with vpdpbusd (u8 × i8, four
//         products summed into each i32 lane, no saturation: exact);
//         i8 activations (the stem and projection shortcuts): 32 elements widened to i16, vpmaddwd (exact)

import CRelConKernels
import _Builtin_intrinsics.intel

@export(interface) public func convF32(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF32.self) }
@export(interface) public func convF16(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF16.self) }
@export(interface) public func convI8(_ a: UnsafePointer<rlck_conv>) {
    if a.pointee.x_signed != 0 { ConvDriver.run(a, LaneI8S.self) } else { ConvDriver.run(a, LaneI8U.self) }
}

typealias VF = SIMD16<Float>

enum LaneF32: ConvLane {
    static var chunk: Int { 16 }
    static var rows: Int { 4 }
    static var xBytes: Int { 4 }
    static var wBytes: Int { 4 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func mad(_ acc: VF, _ x: VF, _ w: VF) -> VF { acc.addingProduct(x, w) }
    @inline(__always) static func reduce(_ acc: VF) -> Float { acc.sum() }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n {
            s = s + x.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
                * w.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
        }
        return s
    }
    @inline(__always) static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static var sZero: Float { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? { Epilogue.floatContext(a) }
    @inline(__always) static func store(_ c: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) { Epilogue.float(c, t, o, dot) }
}

enum LaneF16: ConvLane {
    static var chunk: Int { 16 }
    static var rows: Int { 4 }
    static var xBytes: Int { 4 }
    static var wBytes: Int { 2 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF {
        // vcvtph2ps zmm; SIMD16<Float>(SIMD16<Float16>) would convert lane by lane.
        _mm512_cvtph_ps(p.loadUnaligned(as: __m256i.self))
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

/// u8 activations × i8 weights, 32 per step: vpdpbusd on ymm (AVX512-VL). 32 divides every channel count of
/// the RelCon encoders times K, so no scalar tail; Zen 4 runs a zmm vpdpbusd as two ymm halves anyway.
enum LaneI8U: ConvLane {
    static var chunk: Int { 32 }
    static var rows: Int { 4 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> __m256i { _mm256_setzero_si256() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_mask_dpbusd_epi32(acc, 0xFF, x, w)   // all lanes: the unmasked macro form does not import
    }
    @inline(__always) static func reduce(_ acc: __m256i) -> Int32 {
        unsafeBitCast(acc, to: SIMD8<Int32>.self).wrappedSum()
    }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        IntTail.dot(x, w, n, signed: false)
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}

/// i8 activations × i8 weights, 32 per step: sign-extend to i16, vpmaddwd.
enum LaneI8S: ConvLane {
    static var chunk: Int { 32 }
    static var rows: Int { 4 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> __m512i { _mm512_setzero_si512() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m512i {
        _mm512_cvtepi8_epi16(p.loadUnaligned(as: __m256i.self))
    }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m512i {
        _mm512_cvtepi8_epi16(p.loadUnaligned(as: __m256i.self))
    }
    @inline(__always) static func mad(_ acc: __m512i, _ x: __m512i, _ w: __m512i) -> __m512i {
        _mm512_add_epi32(acc, _mm512_madd_epi16(x, w))
    }
    @inline(__always) static func reduce(_ acc: __m512i) -> Int32 { _mm512_reduce_add_epi32(acc) }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        IntTail.dot(x, w, n, signed: true)
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}
