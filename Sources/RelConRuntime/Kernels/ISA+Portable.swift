// Portable kernels (x86-64 baseline, or whatever RELCON_MARCH the runtime is built with): the lanes of
// ConvDriver.swift for a CPU without AVX2. Plain Swift SIMD types, no intrinsics, no fused multiply-add (which
// would be a library call without FMA hardware), binary16 widened with integer operations.

import CRelConKernels

enum Portable {
    /// The portable level's kernel table (Kernels/Dispatch.swift): the CONV1D lanes below; int8 AFFINE / ADD
    /// have no entry (Int8Ops' loops run them), no shape goes elsewhere.
    static var kernels: rlck_kernels {
        rlck_kernels(conv_f32: { Portable.convF32($0) }, conv_f16: { Portable.convF16($0) },
                     conv_i8: { Portable.convI8($0) }, affine_i8: nil, add_i8: nil, keeps: nil,
                     fallback: Int32(RLCK_ISA_PORTABLE))
    }

    #if RELCON_INT8_ONLY
    // Unreachable in an int8-only library: its validator rejects f32/f16 blobs (RELCON_E_BLOB_VERSION) and the
    // f32 tail of an int8 blob has no CONV1D (GraphValidator). Leaving the float lanes out saves ~80 KB of code.
    static func convF32(_ a: UnsafePointer<rlck_conv>) {}
    static func convF16(_ a: UnsafePointer<rlck_conv>) {}
    #else
    static func convF32(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF32.self) }
    static func convF16(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF16.self) }
    #endif
    static func convI8(_ a: UnsafePointer<rlck_conv>) {
        #if arch(arm) && !RELCON_ARM_PORTABLE
        // 32-bit Arm: the Cortex-M kernel (Kernels/ARM/ConvI8M.swift; SMLAD with RELCON_ARM_DSP). The
        // RELCON_ARM_PORTABLE build keeps these generic lanes (mk/arm.mk's cortex-m4-portable, for comparison).
        ArmI8.conv(a)
        #else
        if a.pointee.x_signed != 0 { ConvDriver.run(a, LaneI8S.self) } else { ConvDriver.run(a, LaneI8U.self) }
        #endif
    }
}

typealias VF = SIMD8<Float>

/// IEEE binary16 → binary32, exact, for finite inputs (the validator rejects non-finite tensors): the
/// magnitude bits shifted into place and scaled by 2^112 (normal and subnormal halves alike), then the sign.
enum Half {
    @inline(__always) static func widen(_ h: SIMD8<UInt16>) -> VF {
        let u = SIMD8<UInt32>(truncatingIfNeeded: h)
        let magnitude = unsafeBitCast((u & 0x7FFF) &<< 13, to: VF.self) * VF(repeating: 0x1p112)
        return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | ((u & 0x8000) &<< 16), to: VF.self)
    }

    @inline(__always) static func widen(_ h: UInt16) -> Float {
        let u = UInt32(h)
        let magnitude = Float(bitPattern: (u & 0x7FFF) &<< 13) * 0x1p112
        return Float(bitPattern: magnitude.bitPattern | ((u & 0x8000) &<< 16))
    }
}

enum LaneF32: ConvLane {
    static var chunk: Int { 8 }
    static var rows: Int { 4 }
    static var xBytes: Int { 4 }
    static var wBytes: Int { 4 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func mad(_ acc: VF, _ x: VF, _ w: VF) -> VF { acc + x * w }
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
    static var chunk: Int { 8 }
    static var rows: Int { 4 }
    static var xBytes: Int { 4 }
    static var wBytes: Int { 2 }
    @inline(__always) static func zero() -> VF { VF() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF { p.loadUnaligned(as: VF.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF { Half.widen(p.loadUnaligned(as: SIMD8<UInt16>.self)) }
    @inline(__always) static func mad(_ acc: VF, _ x: VF, _ w: VF) -> VF { acc + x * w }
    @inline(__always) static func reduce(_ acc: VF) -> Float { acc.sum() }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n {
            s = s + x.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
                * Half.widen(w.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
        }
        return s
    }
    @inline(__always) static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static var sZero: Float { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? { Epilogue.floatContext(a) }
    @inline(__always) static func store(_ c: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) { Epilogue.float(c, t, o, dot) }
}

/// int8 × int8 products in 16-bit lanes, summed in 32-bit lanes: every product fits Int16 (|u8 · i8| ≤ 255 · 127:
/// the validator rejects −128 weights; |i8 · i8| ≤ 128 · 127), so one 16-bit multiply (SSE2 pmullw, NEON mul .8h)
/// replaces the 32-bit multiplies of 8-bit data that baseline x86-64 has no instruction for, and each chunk's 8
/// products are widened and added pairwise into 4 Int32 lanes. 4 × 3 blocks: 12 accumulators (one 128-bit
/// register each; measured 8 % faster than 3 × 3, which fits 16 registers, and 13 % faster than chunks of 16).
/// Integer sums are exact in any order, so results equal every other level's bit for bit.
typealias VX16 = SIMD8<Int16>
typealias VI = SIMD4<Int32>

enum Int8Pairs {
    @inline(__always) static func mad(_ acc: VI, _ x: VX16, _ w: VX16) -> VI {
        let p = x &* w
        return acc &+ VI(truncatingIfNeeded: p.lowHalf) &+ VI(truncatingIfNeeded: p.highHalf)
    }
}

enum LaneI8U: ConvLane {
    static var chunk: Int { 8 }
    static var rows: Int { 4 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> VI { VI() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VX16 {
        VX16(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<UInt8>.self))
    }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VX16 {
        VX16(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<Int8>.self))
    }
    @inline(__always) static func mad(_ acc: VI, _ x: VX16, _ w: VX16) -> VI { Int8Pairs.mad(acc, x, w) }
    @inline(__always) static func reduce(_ acc: VI) -> Int32 { acc.wrappedSum() }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        var s: Int32 = 0
        for i in 0..<n { s = s &+ Int32(x.load(fromByteOffset: i, as: UInt8.self)) &* Int32(w.load(fromByteOffset: i, as: Int8.self)) }
        return s
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}

enum LaneI8S: ConvLane {
    static var chunk: Int { 8 }
    static var rows: Int { 4 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> VI { VI() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VX16 {
        VX16(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<Int8>.self))
    }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VX16 {
        VX16(truncatingIfNeeded: p.loadUnaligned(as: SIMD8<Int8>.self))
    }
    @inline(__always) static func mad(_ acc: VI, _ x: VX16, _ w: VX16) -> VI { Int8Pairs.mad(acc, x, w) }
    @inline(__always) static func reduce(_ acc: VI) -> Int32 { acc.wrappedSum() }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        var s: Int32 = 0
        for i in 0..<n { s = s &+ Int32(x.load(fromByteOffset: i, as: Int8.self)) &* Int32(w.load(fromByteOffset: i, as: Int8.self)) }
        return s
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}
