// The lanes of the aarch64 kernel modules: this file is compiled into RelConKernelsA64 (baseline Armv8-A NEON)
// and, through the symlink Sources/RelConKernelsA64Dot/LanesA64.swift, into RelConKernelsA64Dot
// (-march=armv8.2-a+dotprod), like ConvDriver.swift (mk/arm-a64.mk builds both; SwiftPM never sees them).
// NEON has 32 128-bit registers, so every lane here runs 4 × 4 register blocks (16 accumulators, 4 activation
// and 4 weight registers) except the widening u8 lane (2 × 4: its operands take two registers each).
//
//   LaneF32   4 f32 per step, fmla (fused: results within the golden tolerance of the portable level, not equal)
//   LaneF16   the same with the weights widened from binary16 by fcvtl (exact)
//   LaneA64Bytes  int8 lanes on 16 bytes of activations and weights loaded as they are (signed i8, or u7 read as
//             i8: the same bits); the module supplies `mad` (NEON: smull + smlal2 + sadalp; dotprod: sdot)
//   LaneU8W   u8 activations that may exceed 127: both operands widened to i16, smlal + smlal2 into i32
// Epilogues: four channels at once where a register block ends (rlck_a64_requant4_store, rlck_a64_float4_store:
// the same bytes / values as ConvDriver.swift's Epilogue.int8 / .float), Epilogue.int8 / .float elsewhere.

import CRelConA64
import CRelConKernels

typealias VF4 = SIMD4<Float>
typealias VI4 = SIMD4<Int32>
typealias VB16 = SIMD16<Int8>

/// Lane masks for the last partial chunk of a run (see `ConvLane.loadWTail`): lanes 0 ..< chunk − rest cleared.
enum TailMask {
    @inline(__always) static func keepLast(_ v: VF4, _ rest: Int) -> VF4 {
        let k = SIMD4<Int32>(0, 1, 2, 3) &- SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: 4 &- rest))
        let keep = ~(k &>> 31)              // lane i ≥ 4 − rest: all ones
        return unsafeBitCast(unsafeBitCast(v, to: SIMD4<Int32>.self) & keep, to: VF4.self)
    }

    @inline(__always) static func keepLast(_ v: VB16, _ rest: Int) -> VB16 {
        let lane = VB16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let k = lane &- VB16(repeating: Int8(truncatingIfNeeded: 16 &- rest))
        return v & ~(k &>> 7)
    }
}

protocol LaneA64Float: ConvLane where XV == VF4, WV == VF4, Acc == VF4, S == Float, Ctx == FloatEpilogue,
                                      RowCtx == Void {}

extension LaneA64Float {
    static var chunk: Int { 4 }
    static var rows: Int { 4 }
    static var cols: Int { 4 }
    static var rows4: Int { 4 }
    static var xBytes: Int { 4 }
    @inline(__always) static func zero() -> VF4 { VF4() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VF4 { p.loadUnaligned(as: VF4.self) }
    /// With a full chunk before it: the chunk that ends at the end of the run, the lanes already counted cleared in
    /// both operands (so no product of a finite and a non-finite value can appear); else the zero-filled copy.
    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF4 {
        back ? TailMask.keepLast(loadX(p + (rest &- 4) &* 4), rest) : loadXPartial(p, rest)
    }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VF4 {
        back ? TailMask.keepLast(loadW(p + (rest &- 4) &* wBytes), rest) : loadWPartial(p, rest)
    }
    @inline(__always) static func mad(_ acc: VF4, _ x: VF4, _ w: VF4) -> VF4 { rlck_a64_fma_f32(acc, x, w) }
    @inline(__always) static func reduce(_ acc: VF4) -> Float { rlck_a64_sum_f32(acc) }
    @inline(__always) static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static var sZero: Float { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? { Epilogue.floatContext(a) }
    @inline(__always) static func store(_ c: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) { Epilogue.float(c, t, o, dot) }
    /// Outputs (t, o…o+3): Epilogue.float's steps on four channels at once (the same values).
    @inline(__always) static func storeRow4(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF4, _ a1: VF4,
                                            _ a2: VF4, _ a3: VF4) {
        let i = t &* c.cout &+ o
        rlck_a64_float4_store(rlck_a64_reduce4_f32(a0, a1, a2, a3), c.bias.map { $0 + o }, c.residual.map { $0 + i },
                              c.relu ? 1 : 0, c.y + i)
    }
    @inline(__always) static func storeRow4Pairs(_ c: FloatEpilogue, _ r: Void, _ t: Int, _ o: Int, _ a0: VF4, _ b0: VF4,
                                                 _ a1: VF4, _ b1: VF4, _ a2: VF4, _ b2: VF4, _ a3: VF4, _ b3: VF4) {
        let i = t &* c.cout &+ o
        let d = rlck_a64_reduce4_f32(a0, a1, a2, a3) + rlck_a64_reduce4_f32(b0, b1, b2, b3)
        rlck_a64_float4_store(d, c.bias.map { $0 + o }, c.residual.map { $0 + i }, c.relu ? 1 : 0, c.y + i)
    }
}

enum LaneF32: LaneA64Float {
    static var wBytes: Int { 4 }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF4 { p.loadUnaligned(as: VF4.self) }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n {
            s = s + x.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
                * w.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
        }
        return s
    }
}

enum LaneF16: LaneA64Float {
    static var wBytes: Int { 2 }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VF4 { rlck_a64_load_f16(p) }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n {
            s = s + x.loadUnaligned(fromByteOffset: i &* 4, as: Float.self)
                * rlck_a64_half(w.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
        }
        return s
    }
}

enum IntTailA64 {
    @inline(__always) static func dot(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int, signed: Bool) -> Int32 {
        var s: Int32 = 0
        for i in 0..<n {
            let xv = signed ? Int32(x.load(fromByteOffset: i, as: Int8.self)) : Int32(x.load(fromByteOffset: i, as: UInt8.self))
            s = s &+ xv &* Int32(w.load(fromByteOffset: i, as: Int8.self))
        }
        return s
    }
}

/// The int8 epilogue of four channels at once (rlck_a64_requant4_store: bit for bit Epilogue.int8), for every int8
/// lane here (4-lane i32 accumulators, `cols` 4).
protocol LaneA64I8Out: ConvLane where Acc == VI4, S == Int32, Ctx == Int8Epilogue, RowCtx == rlck_a64_rq4 {}

extension LaneA64I8Out {
    @inline(__always) static func rowContext4(_ c: Int8Epilogue, _ o: Int) -> rlck_a64_rq4 {
        rlck_a64_rq4_make(c.bias.map { $0 + o }, c.mult + o, c.shift + o, c.multRes.map { $0 + o })
    }
    /// Only the 3-column blocks call this, which no lane here has (`cols` 4); kept total with the same constants.
    @inline(__always) static func rowContext(_ c: Int8Epilogue, _ o: Int) -> rlck_a64_rq4 { rowContext4(c, o) }
    @inline(__always) static func storeRow4(_ c: Int8Epilogue, _ r: rlck_a64_rq4, _ t: Int, _ o: Int, _ a0: VI4,
                                            _ a1: VI4, _ a2: VI4, _ a3: VI4) {
        let i = t &* c.cout &+ o
        rlck_a64_requant4_store(rlck_a64_reduce4_s32(a0, a1, a2, a3), r, c.residual.map { $0 + i },
                                c.residualSigned ? 1 : 0, c.lo, c.hi, c.y + i)
    }
    @inline(__always) static func storeRow4Pairs(_ c: Int8Epilogue, _ r: rlck_a64_rq4, _ t: Int, _ o: Int, _ a0: VI4,
                                                 _ b0: VI4, _ a1: VI4, _ b1: VI4, _ a2: VI4, _ b2: VI4, _ a3: VI4,
                                                 _ b3: VI4) {
        storeRow4(c, r, t, o, a0 &+ b0, a1 &+ b1, a2 &+ b2, a3 &+ b3)
    }
}

/// int8 lanes whose operands are 16 bytes loaded as they are: signed activations, or u8 activations with a proven
/// bound ≤ 127 (rlck_conv.x_max), whose bytes read as i8 are the same values. Each module gives `mad`.
protocol LaneA64Bytes: LaneA64I8Out where XV == VB16, WV == VB16 {}

extension LaneA64Bytes {
    static var chunk: Int { 16 }
    static var rows: Int { 4 }
    static var cols: Int { 4 }
    static var rows4: Int { 4 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> VI4 { VI4() }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> VB16 { p.loadUnaligned(as: VB16.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> VB16 { p.loadUnaligned(as: VB16.self) }
    /// With a full chunk before it: the chunk that ends at the end of the run, weights of the bytes already counted
    /// cleared (no copy); else the zero-filled copy.
    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VB16 {
        back ? loadX(p + (rest &- 16)) : loadXPartial(p, rest)
    }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> VB16 {
        back ? TailMask.keepLast(loadW(p + (rest &- 16)), rest) : loadWPartial(p, rest)
    }
    @inline(__always) static func reduce(_ acc: VI4) -> Int32 { rlck_a64_sum_s32(acc) }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        IntTailA64.dot(x, w, n, signed: true)
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}

/// Baseline NEON: smull + smlal2 + sadalp per 16 products (rlck_a64_mad_s8: exact for weights ≠ −128).
enum LaneI8S: LaneA64Bytes {
    @inline(__always) static func mad(_ acc: VI4, _ x: VB16, _ w: VB16) -> VI4 { rlck_a64_mad_s8(acc, x, w) }
}

/// 16 bytes widened to i16 in two registers.
struct Wide16 {
    var lo: SIMD8<Int16>
    var hi: SIMD8<Int16>
}

/// u8 activations without a bound ≤ 127: activations zero-extended and weights sign-extended to i16 (ushll/sshll),
/// smlal + smlal2 into the i32 lanes per 8 products (each |x·w| ≤ 255·128; no i16 sums). 2 × 4 blocks.
enum LaneU8W: LaneA64I8Out {
    static var chunk: Int { 16 }
    static var rows: Int { 4 }
    static var cols: Int { 4 }
    static var rows4: Int { 2 }
    static var xBytes: Int { 1 }
    static var wBytes: Int { 1 }
    @inline(__always) static func zero() -> VI4 { VI4() }
    @inline(__always) static func widenX(_ b: SIMD16<UInt8>) -> Wide16 {
        Wide16(lo: rlck_a64_widen_u8_lo(b), hi: rlck_a64_widen_u8_hi(b))
    }
    @inline(__always) static func widenW(_ b: VB16) -> Wide16 {
        Wide16(lo: rlck_a64_widen_s8_lo(b), hi: rlck_a64_widen_s8_hi(b))
    }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> Wide16 { widenX(p.loadUnaligned(as: SIMD16<UInt8>.self)) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> Wide16 { widenW(p.loadUnaligned(as: VB16.self)) }
    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> Wide16 {
        back ? loadX(p + (rest &- 16)) : loadXPartial(p, rest)
    }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> Wide16 {
        back ? widenW(TailMask.keepLast(p.loadUnaligned(fromByteOffset: rest &- 16, as: VB16.self), rest))
             : loadWPartial(p, rest)
    }
    @inline(__always) static func mad(_ acc: VI4, _ x: Wide16, _ w: Wide16) -> VI4 {
        rlck_a64_mad_s16(rlck_a64_mad_s16(acc, x.lo, w.lo), x.hi, w.hi)
    }
    @inline(__always) static func reduce(_ acc: VI4) -> Int32 { rlck_a64_sum_s32(acc) }
    @inline(__always) static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> Int32 {
        IntTailA64.dot(x, w, n, signed: false)
    }
    @inline(__always) static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static var sZero: Int32 { 0 }
    @inline(__always) static func context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? { Epilogue.int8Context(a) }
    @inline(__always) static func store(_ c: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) { Epilogue.int8(c, t, o, dot) }
}

/// Activations that may be read as i8 by the byte lanes: signed, or u8 with a proven bound 1 ... 127.
@inline(__always) func bytesAsSigned(_ p: rlck_conv) -> Bool { p.x_signed != 0 || (p.x_max > 0 && p.x_max <= 127) }
