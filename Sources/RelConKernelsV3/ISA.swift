// Kernels for x86-64-v3 (AVX2, FMA, F16C): this module is compiled with -Xcc -march=x86-64-v3 and only ever
// called after the runtime has checked the CPU (relcon_kernels.h, rlck_detect_isa). Entry points are
// @export(interface): clients call the symbol, they never get a copy of the body compiled with their own flags.
//
//   fp32  8 lanes of f32, fused multiply-add
//   fp16  8 lanes; weights widened from binary16 with F16C (vcvtph2ps), exact
//   int8  16 elements per step: u8/i8 activations and i8 weights widened to i16, vpmaddwd into i32 lanes
//         (exact: each pair of products is at most 2·255·127 in magnitude), summed into i32 accumulators

import CRelConKernels
import _Builtin_intrinsics.intel

@export(interface) public func convF32(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF32.self) }
@export(interface) public func convF16(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF16.self) }
@export(interface) public func convI8(_ a: UnsafePointer<rlck_conv>) {
    if a.pointee.x_signed != 0 { ConvDriver.run(a, LaneI8S.self) } else { ConvDriver.run(a, LaneI8U.self) }
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
        unsafeBitCast(_mm256_cvtph_ps(p.loadUnaligned(as: __m128i.self)), to: VF.self)
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

/// int8 lane: 16 elements → 8 int32 lanes.
enum LaneI8U: ConvLane {
    static var chunk: Int { 16 }
    static var rows: Int { 3 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> __m256i { _mm256_setzero_si256() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepu8_epi16(p.loadUnaligned(as: __m128i.self))
    }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepi8_epi16(p.loadUnaligned(as: __m128i.self))
    }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
    }
    @inline(__always) static func reduce(_ acc: __m256i) -> Int32 { I8Reduce.sum(acc) }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        IntTail.dot(x, w, n, signed: false)
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}

enum LaneI8S: ConvLane {
    static var chunk: Int { 16 }
    static var rows: Int { 3 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> __m256i { _mm256_setzero_si256() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepi8_epi16(p.loadUnaligned(as: __m128i.self))
    }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepi8_epi16(p.loadUnaligned(as: __m128i.self))
    }
    @inline(__always) static func mad(_ acc: __m256i, _ x: __m256i, _ w: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(x, w))
    }
    @inline(__always) static func reduce(_ acc: __m256i) -> Int32 { I8Reduce.sum(acc) }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        IntTail.dot(x, w, n, signed: true)
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}

enum I8Reduce {
    @inline(__always) static func sum(_ v: __m256i) -> Int32 {
        unsafeBitCast(v, to: SIMD8<Int32>.self).wrappedSum()
    }
}
