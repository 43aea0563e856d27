// int8 CONV1D for 32-bit Arm (Cortex-M): one compact kernel instead of ConvDriver's generic lanes, whose SIMD16
// accumulators spill on a 13-register core, and whose specialisations are ~100 KB of flash.
//
//   RELCON_ARM_DSP (mk/arm.mk sets it when the C compiler for the target defines __ARM_FEATURE_DSP: Cortex-M4/M7)
//       four bytes per step: one word load per operand, SXTB16/UXTB16 into the even (b0, b2) and odd (b1, b3)
//       16-bit halves, two SMLAD (dual 16 × 16 multiply-accumulate) per accumulator (relcon_kernels.h wrappers).
//   otherwise (Cortex-M0/M3, or RELCON_ARM_DSP not given): the same blocks one byte at a time.
//
// Register blocks of 2 time steps × 2 output channels (4 accumulators, 6 unpacked halves, 4 pointers and offsets:
// 14 values in the 14 allocatable registers; one loop bound reloaded per step). Time steps whose taps reach into the padding run one by one
// with the taps clipped (1 × 2). int8 sums are exact integers (docs/quantization.md §6), so any blocking gives
// the reference's results bit for bit.
//
// The epilogue is 32-bit work (no 64-bit shift, no library call): T = dot·M + (bias·M + 2^(s−1)) [+ r·Mr] with
// SMLAL, then ⌊T / 2^s⌋ from T's two words (Kernels/ARM/Requant32.swift). Entry point: `ArmI8.conv` (Portable.convI8 on arch(arm)).

#if arch(arm) && !RELCON_ARM_PORTABLE
import CRelConKernels

enum ArmI8 {
    /// One int8 CONV1D (the `rlck_conv` contract of relcon_kernels.h).
    static func conv(_ a: UnsafePointer<rlck_conv>) {
        let p = a.pointee
        guard let x = p.x, let w = p.w, let e = Epilogue.int8Context(a) else { return }
        guard p.stride >= 1, p.dilation >= 1, p.kernel >= 1, p.channels_in >= 1 else { return }
        if p.x_signed != 0 { MConv<MLaneS>.run(p, e, x, w) } else { MConv<MLaneU>.run(p, e, x, w) }
    }
}

/// How four bytes of activations and weights are loaded and multiply-accumulated.
protocol MLane {
    associatedtype Q
    static func loadX(_ p: UnsafeRawPointer) -> Q
    static func loadW(_ p: UnsafeRawPointer) -> Q
    /// acc + Σ_{j<4} x_j·w_j
    static func mac(_ acc: Int32, _ x: Q, _ w: Q) -> Int32
    static func xByte(_ p: UnsafeRawPointer) -> Int32
    /// false: the blocks take every byte through their byte loop (cores without DSP: a byte load and a 32-bit
    /// multiply-accumulate per element beat extracting bytes from words).
    static var words: Bool { get }
}

#if RELCON_ARM_DSP
/// A word's bytes as two words of 16-bit halves: (b0, b2) and (b1, b3).
struct MPair {
    var even: UInt32
    var odd: UInt32
}

extension MLane where Q == MPair {
    static var words: Bool { true }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> MPair {
        let v = p.loadUnaligned(as: UInt32.self)
        return MPair(even: rlck_sxtb16_even(v), odd: rlck_sxtb16_odd(v))
    }
    @inline(__always) static func mac(_ acc: Int32, _ x: MPair, _ w: MPair) -> Int32 {
        rlck_smlad(x.odd, w.odd, rlck_smlad(x.even, w.even, acc))
    }
}

/// Activations after a ReLU: u8, zero-extended (UXTB16).
enum MLaneU: MLane {
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> MPair {
        let v = p.loadUnaligned(as: UInt32.self)
        return MPair(even: rlck_uxtb16_even(v), odd: rlck_uxtb16_odd(v))
    }
    @inline(__always) static func xByte(_ p: UnsafeRawPointer) -> Int32 { Int32(p.load(as: UInt8.self)) }
}

/// Signed activations (the input stem, the residual stream): i8, sign-extended (SXTB16).
enum MLaneS: MLane {
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> MPair { loadW(p) }
    @inline(__always) static func xByte(_ p: UnsafeRawPointer) -> Int32 { Int32(p.load(as: Int8.self)) }
}
#else
/// No DSP extension: every byte through the blocks' byte loops (`words` false); `mac` is their word form.
extension MLane where Q == UInt32 {
    static var words: Bool { false }
    @inline(__always) static func loadX(_ p: UnsafeRawPointer) -> UInt32 { p.loadUnaligned(as: UInt32.self) }
    @inline(__always) static func loadW(_ p: UnsafeRawPointer) -> UInt32 { p.loadUnaligned(as: UInt32.self) }
}

enum MLaneU: MLane {
    @inline(__always) static func mac(_ acc: Int32, _ x: UInt32, _ w: UInt32) -> Int32 {
        var a = acc
        var j: UInt32 = 0
        while j < 32 {
            a = a &+ Int32(truncatingIfNeeded: (x &>> j) & 0xFF) &* Int32(Int8(truncatingIfNeeded: w &>> j))
            j &+= 8
        }
        return a
    }
    @inline(__always) static func xByte(_ p: UnsafeRawPointer) -> Int32 { Int32(p.load(as: UInt8.self)) }
}

enum MLaneS: MLane {
    @inline(__always) static func mac(_ acc: Int32, _ x: UInt32, _ w: UInt32) -> Int32 {
        var a = acc
        var j: UInt32 = 0
        while j < 32 {
            a = a &+ Int32(Int8(truncatingIfNeeded: x &>> j)) &* Int32(Int8(truncatingIfNeeded: w &>> j))
            j &+= 8
        }
        return a
    }
    @inline(__always) static func xByte(_ p: UnsafeRawPointer) -> Int32 { Int32(p.load(as: Int8.self)) }
}
#endif

/// One output channel's requantisation constants (Requant32: c = bias·M + 2^(s−1)).
struct MChan {
    var m: Int32
    var mr: Int32
    var c: Int64
    var s: Int32
}

struct MAcc4 {
    var a00: Int32, a01: Int32, a10: Int32, a11: Int32
}

enum MConv<L: MLane> {
    static func run(_ p: rlck_conv, _ e: Int8Epilogue, _ x: UnsafeRawPointer, _ w: UnsafeRawPointer) {
        let cin = Int(p.channels_in), cout = Int(p.channels_out), k = Int(p.kernel)
        let s = Int(p.stride), d = Int(p.dilation), pl = Int(p.pad_left)
        let lin = Int(p.length_in), lout = Int(p.length_out)
        // Interior outputs: every tap inside [0, lin) (ConvDriver.run's rule).
        let tLo = min(lout, (pl &+ s &- 1) / s)
        let hiNum = lin &- 1 &- (k &- 1) &* d &+ pl
        let tHi = hiNum < 0 ? tLo : max(tLo, min(lout, hiNum / s &+ 1))
        let wRow = k &* cin
        let taps = d == 1 ? 1 : k, n = d == 1 ? k &* cin : cin
        let xStep = s &* cin, xTap = d &* cin
        var o = 0
        while o < cout {
            // Two channels per block; an odd last channel runs as a block whose second channel repeats it (that
            // result is not stored).
            let two = o &+ 2 <= cout
            let c0 = chan(e, o), c1 = two ? chan(e, o &+ 1) : c0
            let w0 = w + o &* wRow, wOff = two ? wRow : 0
            var t = 0
            while t < lout {
                if t >= tLo, t &+ 2 <= tHi {
                    let xa = x + (t &* s &- pl) &* cin
                    var r = block22(xa, xStep, w0, wOff, n)
                    var tap = 1
                    while tap < taps {
                        let q = block22(xa + tap &* xTap, xStep, w0 + tap &* cin, wOff, n)
                        r.a00 = r.a00 &+ q.a00; r.a01 = r.a01 &+ q.a01; r.a10 = r.a10 &+ q.a10; r.a11 = r.a11 &+ q.a11
                        tap &+= 1
                    }
                    let i = t &* cout &+ o
                    put(e, c0, i, r.a00)
                    put(e, c0, i &+ cout, r.a10)
                    if two { put(e, c1, i &+ 1, r.a01); put(e, c1, i &+ cout &+ 1, r.a11) }
                    t &+= 2
                } else {
                    let r = edge(p, x, w0, wOff, t)
                    let i = t &* cout &+ o
                    put(e, c0, i, r.a00)
                    if two { put(e, c1, i &+ 1, r.a01) }
                    t &+= 1
                }
            }
            o &+= two ? 2 : 1
        }
    }

    @inline(__always)
    static func chan(_ e: Int8Epilogue, _ o: Int) -> MChan {
        let m = e.mult[o], s = e.shift[o]
        return MChan(m: m, mr: e.multRes.map { $0[o] } ?? 0,
                     c: Requant32.constant(bias: e.bias.map { $0[o] } ?? 0, mult: m, shift: s), s: s)
    }

    /// y[i] from the dot product of output i (channel constants `ch`): Requant32, bit-exact with Epilogue.int8.
    @inline(__always)
    static func put(_ e: Int8Epilogue, _ ch: MChan, _ i: Int, _ dot: Int32) {
        var res: Int32? = nil
        if let r = e.residual {
            res = e.residualSigned ? Int32(r.load(fromByteOffset: i, as: Int8.self))
                                   : Int32(r.load(fromByteOffset: i, as: UInt8.self))
        }
        let q = Requant32.requantize(dot, mult: ch.m, constant: ch.c, shift: ch.s, residual: res, multRes: ch.mr,
                                     lo: e.lo, hi: e.hi)
        e.y[i] = UInt8(truncatingIfNeeded: q)
    }

    /// Outputs (t, o) and (t, o + 1) (weights at w0, w0 + wOff) with the taps clipped to [0, lin) (a01 = the second channel).
    @inline(never)
    static func edge(_ p: rlck_conv, _ x: UnsafeRawPointer, _ w0: UnsafeRawPointer, _ wOff: Int,
                     _ t: Int) -> MAcc4 {
        let (kLo, kHi, xStart) = ConvDriver.clippedTaps(p, t)
        var r = MAcc4(a00: 0, a01: 0, a10: 0, a11: 0)
        guard kHi > kLo else { return r }
        let cin = Int(p.channels_in), d = Int(p.dilation)
        let xs = x + xStart &* cin, off = kLo &* cin
        if d == 1 || kHi &- kLo == 1 {
            return block12(xs, w0 + off, wOff, (kHi &- kLo) &* cin)
        }
        var k = 0
        while k < kHi &- kLo {
            let q = block12(xs + k &* d &* cin, w0 + (off &+ k &* cin), wOff, cin)
            r.a00 = r.a00 &+ q.a00; r.a01 = r.a01 &+ q.a01
            k &+= 1
        }
        return r
    }

    /// Σ x0·w0, x0·w1, x1·w0, x1·w1 over n bytes (x1 = x0 + xStep, w1 = w0 + wRow): the hot loop. Per four bytes
    /// 4 word loads, 8 SXTB16/UXTB16, 8 SMLAD and 4 instructions of loop (one a reload of `end`: 14 values are
    /// live, 1.5 instructions per MAC). Left at -Osize: `@_optimize(speed)` unrolls it 4× and spills accumulators
    /// (checked with arm-none-eabi-objdump; docs/embedded.md, "Cortex-M int8 kernel").
    @inline(never)
    static func block22(_ x0: UnsafeRawPointer, _ xStep: Int, _ w0: UnsafeRawPointer, _ wRow: Int, _ n: Int) -> MAcc4 {
        var a00: Int32 = 0, a01: Int32 = 0, a10: Int32 = 0, a11: Int32 = 0
        var px = x0, pw = w0
        let end = w0 + (L.words ? n & ~3 : 0)
        while pw < end {
            let v0 = L.loadW(pw), u0 = L.loadX(px)
            a00 = L.mac(a00, u0, v0)
            let u1 = L.loadX(px + xStep)
            a10 = L.mac(a10, u1, v0)
            let v1 = L.loadW(pw + wRow)
            a01 = L.mac(a01, u0, v1)
            a11 = L.mac(a11, u1, v1)
            px += 4; pw += 4
        }
        let tailEnd = w0 + n
        while pw < tailEnd {
            let u0 = L.xByte(px), u1 = L.xByte(px + xStep)
            let v0 = Int32(pw.load(as: Int8.self)), v1 = Int32(pw.load(fromByteOffset: wRow, as: Int8.self))
            a00 = a00 &+ u0 &* v0; a01 = a01 &+ u0 &* v1; a10 = a10 &+ u1 &* v0; a11 = a11 &+ u1 &* v1
            px += 1; pw += 1
        }
        return MAcc4(a00: a00, a01: a01, a10: a10, a11: a11)
    }

    /// Σ x·w0, x·w1 over n bytes (w1 = w0 + wRow; a00, a01).
    @inline(never)
    static func block12(_ x: UnsafeRawPointer, _ w0: UnsafeRawPointer, _ wRow: Int, _ n: Int) -> MAcc4 {
        var a0: Int32 = 0, a1: Int32 = 0
        var px = x, pw = w0
        let end = w0 + (L.words ? n & ~3 : 0)
        while pw < end {
            let u = L.loadX(px)
            a0 = L.mac(a0, u, L.loadW(pw))
            a1 = L.mac(a1, u, L.loadW(pw + wRow))
            px += 4; pw += 4
        }
        let tailEnd = w0 + n
        while pw < tailEnd {
            let u = L.xByte(px)
            a0 = a0 &+ u &* Int32(pw.load(as: Int8.self))
            a1 = a1 &+ u &* Int32(pw.load(fromByteOffset: wRow, as: Int8.self))
            px += 1; pw += 1
        }
        return MAcc4(a00: a0, a01: a1, a10: 0, a11: 0)
    }
}
#endif
