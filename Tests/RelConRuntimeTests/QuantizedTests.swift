// int8 and float16 (blob format v2, docs/quantization.md): the integer helpers exhaustively over their small
// domains against an independent formulation, the CONV1D kernels of every ISA level this CPU runs against exact
// references, and the committed v2 fixtures (bit-exact int8 golden, f16 golden, bad_v2 defects, arena figure).

import CRelCon
import CRelConKernels
import Foundation
import Testing
@testable import RelConRuntimeHosted

/// ⌊N / 2^s + ½⌋ computed from the remainder (not by adding 2^(s−1) and shifting, as the runtime does):
/// q = ⌊N / 2^s⌋, then +1 when the remainder is at least half of 2^s. Exact for any Int64 N, 1 ≤ s ≤ 62.
func roundHalfUp(_ n: Int64, shift s: Int64) -> Int64 {
    let d = Int64(1) << s
    var q = n / d                          // truncates toward zero
    var r = n % d
    if r < 0 { q -= 1; r += d }            // floor division, 0 ≤ r < d
    return 2 * r >= d ? q + 1 : q
}

/// The ISA levels this machine can run (portable always).
var runnableISAs: [ISA] { ISA.allCases.filter { $0.rawValue <= ISA.hardware.rawValue } }

@Suite struct RequantTests {
    static let shifts: [Int32] = Array(1...62)
    static let multipliers: [Int32] = [0, 1, 2, 3, 127, 1 << 15, (1 << 30) - 1, 1 << 30, 1_518_500_250, Int32.max]

    /// Every i8 and u8 input × every shift × edge and typical multipliers; residual of either kind too.
    @Test func requantizeExhaustiveSmallInputs() {
        var checked = 0
        for s in Self.shifts {
            for m in Self.multipliers {
                for (lo, hi) in [(Int32(-127), Int32(127)), (Int32(0), Int32(255))] {
                    for x in Int32(-127)...255 {
                        let got = Requant.requantize(x, mult: m, shift: s, residual: nil, multRes: 0, lo: lo, hi: hi)
                        let want = min(max(roundHalfUp(Int64(x) * Int64(m), shift: Int64(s)), Int64(lo)), Int64(hi))
                        #expect(Int64(got) == want, "x \(x) M \(m) s \(s)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 300_000)
    }

    /// Fused residual: accumulators at the edges of the int32 range and in between, every residual byte.
    @Test func requantizeWithResidual() {
        let accs: [Int32] = [Int32.min + 1, -2_134_933_504, -1_000_000, -65_537, -1, 0, 1, 77_777, 2_134_933_504, Int32.max]
        var rng = SeededRandom(5)
        for s in Self.shifts where s % 3 == 1 || s >= 60 {
            for m in Self.multipliers {
                let mr = Int32(truncatingIfNeeded: rng.int(0...Int(Int32.max)))
                for acc in accs {
                    for r in Int32(-127)...255 {
                        let got = Requant.requantize(acc, mult: m, shift: s, residual: r, multRes: mr, lo: -127, hi: 127)
                        let n = Int64(acc) * Int64(m) + Int64(r) * Int64(mr)
                        let want = min(max(roundHalfUp(n, shift: Int64(s)), -127), 127)
                        #expect(Int64(got) == want, "acc \(acc) M \(m) r \(r) Mr \(mr) s \(s)")
                    }
                }
            }
        }
    }

    /// AFFINE: every i8/u8 input, every shift, signed A (negative γ) and B at their int32 edges.
    @Test func affineExhaustive() {
        let as_: [Int32] = [Int32.min + 1, -1_073_741_824, -3, -1, 0, 1, 5, 1_073_741_824, Int32.max]
        let bs: [Int32] = [Int32.min + 1, -123_456_789, -1, 0, 1, 987_654_321, Int32.max]
        for s in Self.shifts {
            for a in as_ {
                for b in bs where (Int(s) + Int(a & 7) + Int(b & 3)) % 2 == 0 {
                    for x in Int32(-127)...255 {
                        for (lo, hi) in [(Int32(-127), Int32(127)), (Int32(0), Int32(255))] {
                            let got = Requant.affine(x, a: a, b: b, shift: s, lo: lo, hi: hi)
                            let want = min(max(roundHalfUp(Int64(x) * Int64(a) + Int64(b), shift: Int64(s)), Int64(lo)), Int64(hi))
                            #expect(Int64(got) == want, "x \(x) A \(a) B \(b) s \(s)")
                        }
                    }
                }
            }
        }
    }

    /// Rounding ties: half up, also for negative values (−2.5 → −2), never half away from zero.
    @Test func roundingTies() {
        // v·M / 2^s = k + ½ exactly: M = 1, s = 1, v odd.
        for v in Int32(-255)...255 where v % 2 != 0 {
            let got = Requant.requantize(v, mult: 1, shift: 1, residual: nil, multRes: 0, lo: -1000, hi: 1000)
            #expect(Double(got) == (Double(v) / 2).rounded(.up), "\(v)")
        }
    }

    /// QUANTIZE: round half to even after the f32 product and clamp; ±∞ products clamp to ±127.
    @Test func quantizeInput() {
        let ties: [(Float, Int8)] = [(0.5, 0), (1.5, 2), (2.5, 2), (-0.5, 0), (-1.5, -2), (-2.5, -2), (126.5, 126),
                                     (127.5, 127), (-127.5, -127), (1e30, 127), (-1e30, -127), (0, 0), (-0.0, 0)]
        for (p, want) in ties { #expect(Int8Ops.quantizeOne(p, 1) == want, "\(p)") }
        #expect(Int8Ops.quantizeOne(3e38, 10) == 127)      // the product overflows to +∞
        var rng = SeededRandom(9)
        for _ in 0..<200_000 {
            let x = rng.float(-20, 20), m = rng.float(0.01, 40)
            let p = min(max(x * m, -127), 127)
            #expect(Int8Ops.quantizeOne(x, m) == Int8(p.rounded(.toNearestOrEven)), "x \(x) m \(m)")
        }
    }

    /// MEAN: f32(f32(S)·scale) / f32(L), two IEEE operations (no reciprocal, no fused multiply-add).
    @Test func meanDequantize() {
        var rng = SeededRandom(10)
        for _ in 0..<100_000 {
            let length = rng.int(1...5000)
            let sum = Int64(rng.int(-127 * length...255 * length))
            let scale = rng.float(1e-5, 1)
            let want = (Float(sum) * scale) / Float(length)
            #expect(Int8Ops.meanOne(sum: sum, scale: scale, length: length).bitPattern == want.bitPattern)
        }
    }

    /// binary16 → binary32 of the portable path: every finite half, against Float(Float16).
    @Test func halfWidenEveryValue() {
        for bits in UInt16(0)...UInt16.max where bits & 0x7C00 != 0x7C00 {
            let want = Float(Float16(bitPattern: bits))
            #expect(Half.widen(bits).bitPattern == want.bitPattern, "\(bits)")
            if bits % 8 == 0 {
                let v = Half.widen(SIMD8<UInt16>(repeating: bits))
                #expect(v[3].bitPattern == want.bitPattern)
            }
        }
    }
}

// MARK: - kernels of every ISA level

struct Int8ConvCase: CustomStringConvertible {
    var length: Int, cin: Int, cout: Int, k: Int, stride: Int, dilation: Int, pl: Int, pr: Int
    var signedX: Bool, bias: Bool, residual: Int   // 0 none, 1 i8, 2 u8
    var outU8: Bool
    /// u7 activations (0...127, x_max = 127: the vpmaddubsw lane on v3); `extreme`: x ∈ {0, 127} and
    /// w ∈ {−128, 127} only, the largest pair sums vpmaddubsw can see.
    var xU7 = false, extreme = false
    /// Negative control: x = 255 while claiming x_max = 127 (never done by the runtime), so that vpmaddubsw
    /// saturates: shows the `extreme` cases can fail.
    var lie = false
    /// Requantisation parameters per output channel (mult, shift, multRes, bias) instead of the random ones, from
    /// the channel and the exact dot product of its middle time step: the epilogue tests pick them at the edges of
    /// the 8-lane epilogue (I8Row.store24).
    var params: ((Int, Int64) -> (mult: Int32, shift: Int32, multRes: Int32, bias: Int32))? = nil
    /// Output u7 ([0, 127], a ReLU layer of a format-3 blob) instead of `outU8`'s range.
    var outU7 = false
    var lengthOut: Int { (length + pl + pr - dilation * (k - 1) - 1) / stride + 1 }
    var valid: Bool { length + pl + pr - dilation * (k - 1) - 1 >= 0 }
    var description: String {
        "L=\(length) Cin=\(cin) Cout=\(cout) K=\(k) s=\(stride) d=\(dilation) pads=\(pl)/\(pr) x=\(signedX ? "i8" : "u8") bias=\(bias) res=\(residual) out=\(outU7 ? "u7" : outU8 ? "u8" : "i8")\(xU7 ? " x=u7" : "")\(extreme ? " extreme" : "")"
    }
}

/// The descriptions of the valid cases whose int8 CONV1D on `isa` differs from the exact Int64 reference: `isa`'s
/// own lanes on every case and, where Kernels.route sends a shape elsewhere (v4 → v3), the routed call too.
func failingInt8Convs(_ cases: [Int8ConvCase], isa: ISA, rng: inout SeededRandom) -> [String] {
    var failures: [String] = []
    for c in cases where c.valid {
        if checkInt8Conv(c, isa: isa, rng: &rng) > 0 { failures.append(c.description) }
        if isa == .v4, checkInt8Conv(c, isa: isa, rng: &rng, routed: true) > 0 { failures.append("routed \(c.description)") }
    }
    return failures
}

/// Runs the int8 CONV1D of `isa` (its own lanes, or with `routed` the level Kernels.route picks) and the exact
/// Int64 reference; returns the number of differing outputs.
func checkInt8Conv(_ c: Int8ConvCase, isa: ISA, rng: inout SeededRandom, routed: Bool = false) -> Int {
    let lout = c.lengthOut
    // extreme: constant over time (so the bias below cancels every interior step); signed: −127 and 127 by
    // channel (vpsignb flips w for the negative ones), unsigned: 127 (255 for the negative control).
    let x: [UInt8] = (0..<c.length * c.cin).map { i in
        c.extreme ? (c.signedX ? UInt8(bitPattern: i % c.cin % 2 == 0 ? -127 : 127) : c.lie ? 255 : 127)
            : c.xU7 ? UInt8(rng.int(0...127))
            : c.signedX ? UInt8(bitPattern: Int8(rng.int(-127...127))) : UInt8(rng.int(0...255))
    }
    // int8 weights are in [−127, 127] (the validator rejects −128, docs/quantization.md §1); the unsigned lanes are
    // exact even for −128, so their cases use it too.
    let wMin = c.signedX ? -127 : -128
    let w: [Int8] = (0..<c.cout * c.k * c.cin).map { _ in
        c.extreme ? (rng.int(0...1) == 0 ? Int8(wMin) : 127) : Int8(rng.int(wMin...127))
    }
    // The exact dot products.
    var dots = [Int64](repeating: 0, count: lout * c.cout)
    for t in 0..<lout {
        for o in 0..<c.cout {
            var acc: Int64 = 0
            for kk in 0..<c.k {
                let p = t * c.stride - c.pl + kk * c.dilation
                guard p >= 0, p < c.length else { continue }
                for ch in 0..<c.cin {
                    let xv = c.signedX ? Int64(Int8(bitPattern: x[p * c.cin + ch])) : Int64(x[p * c.cin + ch])
                    acc += xv * Int64(w[(o * c.k + kk) * c.cin + ch])
                }
            }
            dots[t * c.cout + o] = acc
        }
    }
    // extreme: unit scale (M·2^−s = 1) and a bias that cancels the dot product of the middle time step (with a
    // constant x every interior step has the same one), so an error of 1 in any dot product changes the output.
    var bias: [Int32] = (0..<c.cout).map { o in
        c.extreme ? Int32(clamping: -dots[lout / 2 * c.cout + o] + Int64(rng.int(-20...20)))
                  : Int32(rng.int(-(1 << 20)...(1 << 20)))
    }
    var mult: [Int32] = (0..<c.cout).map { _ in c.extreme ? 1 << 30 : Int32(rng.int((1 << 30)...Int(Int32.max))) }
    var shift: [Int32] = (0..<c.cout).map { _ in c.extreme ? 30 : Int32(rng.int(28...40)) }
    var multRes: [Int32] = (0..<c.cout).map { _ in Int32(rng.int(0...Int(Int32.max))) }
    let res: [UInt8] = (0..<lout * c.cout).map { _ in
        c.residual == 1 ? UInt8(bitPattern: Int8(rng.int(-127...127))) : UInt8(rng.int(0...255))
    }
    if let params = c.params {
        for o in 0..<c.cout {
            let p = params(o, dots[lout / 2 * c.cout + o])
            mult[o] = p.mult; shift[o] = p.shift; multRes[o] = p.multRes; bias[o] = p.bias
        }
    }
    let (lo, hi): (Int32, Int32) = c.outU7 ? (0, 127) : c.outU8 ? (0, 255) : (-127, 127)
    var want = [Int64](repeating: 0, count: lout * c.cout)
    for t in 0..<lout {
        for o in 0..<c.cout {
            let acc = dots[t * c.cout + o] + (c.bias ? Int64(bias[o]) : 0)
            var n = acc * Int64(mult[o])
            if c.residual != 0 {
                let r = c.residual == 1 ? Int64(Int8(bitPattern: res[t * c.cout + o])) : Int64(res[t * c.cout + o])
                n += r * Int64(multRes[o])
            }
            want[t * c.cout + o] = min(max(roundHalfUp(n, shift: Int64(shift[o])), Int64(lo)), Int64(hi))
        }
    }
    var y = [UInt8](repeating: 0xA5, count: lout * c.cout + 1)
    let shape = Conv1DShape(lengthIn: c.length, channelsIn: c.cin, lengthOut: lout, channelsOut: c.cout,
                            kernel: c.k, stride: c.stride, dilation: c.dilation, padLeft: c.pl)
    x.withUnsafeBytes { xp in w.withUnsafeBytes { wp in bias.withUnsafeBufferPointer { bp in
        mult.withUnsafeBufferPointer { mp in shift.withUnsafeBufferPointer { sp in multRes.withUnsafeBufferPointer { mrp in
            res.withUnsafeBytes { rp in y.withUnsafeMutableBytes { yp in
                var a = shape.args
                a.x = xp.baseAddress; a.w = wp.baseAddress; a.bias = c.bias ? UnsafeRawPointer(bp.baseAddress) : nil
                a.y = yp.baseAddress; a.mult = mp.baseAddress; a.shift = sp.baseAddress
                a.x_signed = c.signedX ? 1 : 0; a.out_lo = lo; a.out_hi = hi; a.x_max = c.xU7 ? 127 : 0
                if c.residual != 0 {
                    a.residual = rp.baseAddress; a.mult_res = mrp.baseAddress; a.res_signed = c.residual == 1 ? 1 : 0
                }
                withUnsafePointer(to: &a) { Kernels.convI8(isa, $0, routed: routed) }
            } }
        } } }
    } } }
    var bad = 0
    for i in 0..<lout * c.cout {
        let got = c.outU8 || c.outU7 ? Int64(y[i]) : Int64(Int8(bitPattern: y[i]))
        if got != want[i] { bad += 1 }
    }
    if y[lout * c.cout] != 0xA5 { bad += 1 }       // wrote past the output
    return bad
}

@Suite struct ISAKernelTests {
    @Test func detectedLevelIsRunnable() {
        #expect(ISA.detect().rawValue <= ISA.hardware.rawValue)
        print("ISA levels runnable here: \(runnableISAs) (hardware \(ISA.hardware))")
    }

    /// int8 CONV1D, exact, on every runnable ISA: i8 and u8 inputs, residuals of both kinds, clipped taps,
    /// strides, dilations, channel counts around every chunk width (16, 32) and the 4×3 blocking.
    @Test(arguments: runnableISAs) func int8ConvExact(_ isa: ISA) {
        var rng = SeededRandom(31)
        var cases: [Int8ConvCase] = [
            Int8ConvCase(length: 256, cin: 3, cout: 16, k: 7, stride: 2, dilation: 1, pl: 0, pr: 0, signedX: true,
                         bias: true, residual: 0, outU8: true),
            Int8ConvCase(length: 62, cin: 64, cout: 7, k: 3, stride: 1, dilation: 1, pl: 1, pr: 1, signedX: false,
                         bias: true, residual: 1, outU8: false),
            Int8ConvCase(length: 62, cin: 32, cout: 5, k: 4, stride: 1, dilation: 1, pl: 1, pr: 2, signedX: false,
                         bias: true, residual: 0, outU8: true),
            Int8ConvCase(length: 62, cin: 64, cout: 10, k: 1, stride: 1, dilation: 1, pl: 0, pr: 0, signedX: true,
                         bias: true, residual: 0, outU8: false),
        ]
        for i in 0..<120 {
            cases.append(Int8ConvCase(length: rng.int(1...40), cin: [1, 3, 15, 16, 17, 31, 32, 33, 48, 64][i % 10],
                                      cout: rng.int(1...8), k: rng.int(1...5), stride: rng.int(1...3),
                                      dilation: rng.int(1...3), pl: rng.int(0...4), pr: rng.int(0...4),
                                      signedX: i % 2 == 0, bias: i % 3 != 0, residual: i % 3, outU8: i % 4 < 2))
        }
        let failures = failingInt8Convs(cases, isa: isa, rng: &rng)
        #expect(failures.isEmpty, "\(isa): \(failures.prefix(8))")
    }

    /// u7 activations (x_max = 127): the vpmaddubsw lane on v3 CPUs (the other levels ignore x_max), exact against
    /// the Int64 reference: runs of K·Cin around multiples of its 32-byte chunk, every tail form, and the extreme
    /// operands (x = 127 against w = −128 or 127: pair sums ±32,512, just inside vpmaddubsw's i16 range).
    @Test(arguments: runnableISAs) func int8ConvU7Exact(_ isa: ISA) {
        var rng = SeededRandom(33)
        var cases: [Int8ConvCase] = [
            Int8ConvCase(length: 62, cin: 128, cout: 7, k: 4, stride: 1, dilation: 1, pl: 1, pr: 2, signedX: false,
                         bias: true, residual: 1, outU8: false, xU7: true),
            Int8ConvCase(length: 62, cin: 64, cout: 8, k: 3, stride: 1, dilation: 1, pl: 1, pr: 1, signedX: false,
                         bias: true, residual: 0, outU8: true, xU7: true),
        ]
        for i in 0..<160 {
            cases.append(Int8ConvCase(length: rng.int(1...40), cin: [1, 5, 11, 16, 31, 32, 33, 63, 64, 65, 96][i % 11],
                                      cout: rng.int(1...8), k: rng.int(1...5), stride: rng.int(1...3),
                                      dilation: rng.int(1...3), pl: rng.int(0...4), pr: rng.int(0...4),
                                      signedX: false, bias: i % 3 != 0 || i % 5 == 0, residual: i % 5 == 0 ? 0 : i % 3,
                                      outU8: i % 4 < 2, xU7: true, extreme: i % 5 == 0))
        }
        for (cin, k) in [(32, 3), (64, 4), (128, 4), (96, 1), (21, 7)] {
            cases.append(Int8ConvCase(length: 62, cin: cin, cout: 7, k: k, stride: 1, dilation: 1, pl: 1, pr: 2,
                                      signedX: false, bias: true, residual: 0, outU8: false, xU7: true, extreme: true))
        }
        let failures = failingInt8Convs(cases, isa: isa, rng: &rng)
        #expect(failures.isEmpty, "\(isa): \(failures.prefix(8))")
    }

    /// Signed activations at the extremes (x = ±127 against w = ±127: pair sums ±32,258) on every ISA: the v3
    /// vpmaddubsw lane for signed inputs (|x| times w with x's sign) for runs of at least 32 elements, the widening
    /// lane below; unit scale and a cancelling bias, so an error of 1 in any dot product shows.
    @Test(arguments: runnableISAs) func int8ConvSignedExtremeExact(_ isa: ISA) {
        var rng = SeededRandom(36)
        var cases: [Int8ConvCase] = []
        for (cin, k, d) in [(32, 1, 1), (64, 1, 1), (33, 1, 1), (3, 7, 1), (16, 2, 1), (64, 4, 1), (40, 3, 2),
                            (128, 1, 1), (31, 1, 1), (21, 3, 1)] {
            for residual in 0...2 {
                cases.append(Int8ConvCase(length: 62, cin: cin, cout: 9, k: k, stride: 1, dilation: d, pl: k / 2,
                                          pr: k - 1 - k / 2, signedX: true, bias: true, residual: residual,
                                          outU8: false, extreme: true))
            }
        }
        let failures = failingInt8Convs(cases, isa: isa, rng: &rng)
        #expect(failures.isEmpty, "\(isa): \(failures.prefix(8))")
    }

    /// The 8-lane int8 epilogue (v3, `I8Row.store24`: register blocks of 2 time steps × 4 channels) against the
    /// Int64 reference at its edges: every shift 1…62 (s ≥ 32: the high halves of the totals; s < 32: the totals
    /// shifted left by 32 − s after acc is clamped to bounds outside which the output saturates, or the 64-bit
    /// path when the bounds cannot rule out an overflow), multipliers 0, 1, 2^30 and 2^31 − 1, residual multipliers
    /// up to 2^31 − 1, biases up to ±2^30, and biases placed so that outputs land on lo, hi and one step inside them;
    /// i8, u8 and u7 outputs.
    @Test(arguments: runnableISAs) func int8WideEpilogueExact(_ isa: ISA) {
        var rng = SeededRandom(37)
        var failures: [String] = []
        let mults: [Int32] = [0, 1, 3, 1 << 30, Int32.max, 1_518_500_250]
        for trial in 0..<240 {
            let signedX = trial % 3 == 0, outU8 = trial % 2 == 0, outU7 = trial % 4 == 1, residual = trial % 5 % 3
            let hiOut = outU8 ? 255 : 127, loOut = outU8 || outU7 ? 0 : -127
            // Per channel: a shift (sweeping 1…62 over the trials, neighbours mixed), a multiplier, a residual
            // multiplier and a bias that puts acc·M/2^s near a clamp edge or anywhere.
            var table: [(mult: Int32, shift: Int32, multRes: Int32, bias: Int32, edge: Double?)] = []
            for o in 0..<12 {
                let s = Int32(o % 3 == 0 ? (trial + o) % 62 + 1 : rng.int(1...62))
                let m = o % 2 == 0 ? mults[rng.int(0...(mults.count - 1))] : Int32(rng.int(0...Int(Int32.max)))
                let mr = [0, 1, Int32.max, Int32(rng.int(0...Int(Int32.max)))][rng.int(0...3)]
                let b = Int32(rng.int(-(1 << 30)...(1 << 30)))
                // Half the channels: acc·M ≈ edge·2^s at the middle step, edge ∈ {lo, hi, lo ± 1, hi ± 1}.
                let edge = o % 2 == 1 && m > 0
                    ? Double([loOut, hiOut][rng.int(0...1)] + rng.int(-1...1)) : nil
                table.append((m, s, mr, b, edge))
            }
            let params = { (o: Int, dot: Int64) -> (mult: Int32, shift: Int32, multRes: Int32, bias: Int32) in
                let p = table[o]
                guard let edge = p.edge else { return (p.mult, p.shift, p.multRes, p.bias) }
                let v = edge * pow(2, Double(p.shift)) / Double(p.mult) - Double(dot)
                let b = abs(v) < Double(1 << 30) ? Int32(v.rounded()) + Int32(o % 5 - 2) : p.bias
                return (p.mult, p.shift, p.multRes, b)
            }
            let c = Int8ConvCase(length: rng.int(2...9), cin: [32, 64, 8][trial % 3], cout: [8, 12, 4, 9][trial % 4],
                                 k: trial % 4 == 3 ? 3 : 1, stride: 1, dilation: 1, pl: trial % 4 == 3 ? 1 : 0,
                                 pr: trial % 4 == 3 ? 1 : 0, signedX: signedX, bias: true, residual: residual,
                                 outU8: outU8, xU7: !signedX, params: params, outU7: outU7)
            if c.valid, checkInt8Conv(c, isa: isa, rng: &rng) > 0 { failures.append("trial \(trial): \(c.description)") }
        }
        #expect(failures.isEmpty, "\(isa): \(failures.prefix(8))")
    }

    /// int8 MAXPOOL (Int8Ops.maxpool: 16 channels at a time, i8 compared through a sign flip) against a direct
    /// Int32 reference: i8, u8 and u7 values at their extremes, channel counts around 16, pads, strides.
    @Test func int8MaxpoolMatchesReference() {
        var rng = SeededRandom(35)
        var failures: [String] = []
        for trial in 0..<150 {
            let dtype = [ValueType.i8, .u8, .u7][trial % 3]
            let ch = [1, 3, 15, 16, 17, 31, 32, 33, 64][trial % 9]
            let length = rng.int(1...20), k = rng.int(1...4), stride = rng.int(1...3), pl = rng.int(0...(k - 1))
            let lout = (length + pl + rng.int(0...(k - 1)) - k) / stride + 1
            guard lout >= 1 else { continue }
            var x: [UInt8] = (0..<length * ch).map { _ in
                dtype == .i8 ? UInt8(bitPattern: Int8(rng.int(-127...127)))
                    : UInt8(rng.int(0...(dtype == .u7 ? 127 : 255)))
            }
            if dtype == .i8, !x.isEmpty { x[0] = 0x81 }      // −127 next to positives
            var y = [UInt8](repeating: 0xA5, count: lout * ch + 1)
            x.withUnsafeMutableBytes { xp in
                y.withUnsafeMutableBytes { yp in
                    let v = Value(p: xp.baseAddress!, length: length, channels: ch, dtype: dtype)
                    Int8Ops.maxpool(x: v, kernel: k, stride: stride, padLeft: pl, lengthOut: lout, y: yp.baseAddress!)
                }
            }
            for t in 0..<lout {
                for c in 0..<ch {
                    let lo = max(t * stride - pl, 0), hi = min(t * stride - pl + k, length)
                    var want: Int32 = lo < hi ? Int32.min : 0
                    for p in lo..<max(lo, hi) {
                        let b = x[p * ch + c]
                        want = max(want, dtype == .i8 ? Int32(Int8(bitPattern: b)) : Int32(b))
                    }
                    let got = dtype == .i8 ? Int32(Int8(bitPattern: y[t * ch + c])) : Int32(y[t * ch + c])
                    if got != want { failures.append("trial \(trial) t \(t) c \(c): \(got) != \(want)") }
                }
            }
            if y[lout * ch] != 0xA5 { failures.append("trial \(trial): wrote past the output") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// The negative control of `int8ConvU7Exact`: x = 255 with x_max = 127 claimed (the runtime never does this: it
    /// only sets x_max for u7 values) makes vpmaddubsw saturate (2·255·127 > 32,767), and the comparison sees it.
    /// Only the v3 lane uses x_max; the portable and VNNI kernels are exact for any u8 x.
    @Test func int8ConvU7ControlDetectsSaturation() {
        guard runnableISAs.contains(.v3) else { return }
        var rng = SeededRandom(34)
        let c = Int8ConvCase(length: 62, cin: 64, cout: 6, k: 4, stride: 1, dilation: 1, pl: 1, pr: 2, signedX: false,
                             bias: true, residual: 0, outU8: false, xU7: true, extreme: true, lie: true)
        #expect(checkInt8Conv(c, isa: .v3, rng: &rng) > 0)
    }

    /// fp32 and fp16 CONV1D on every runnable ISA against Double references (RelCon-like and random shapes).
    @Test(arguments: runnableISAs) func floatConv(_ isa: ISA) {
        var rng = SeededRandom(32)
        var list: [ConvCase] = [
            ConvCase(length: 256, cin: 3, cout: 64, k: 7, stride: 2, dilation: 1, pl: 0, pr: 0, relu: true),
            ConvCase(length: 62, cin: 64, cout: 64, k: 3, stride: 1, dilation: 1, pl: 1, pr: 1, residual: true),
            ConvCase(length: 62, cin: 128, cout: 11, k: 4, stride: 1, dilation: 1, pl: 1, pr: 2, relu: true),
        ]
        for _ in 0..<60 {
            list.append(ConvCase(length: rng.int(1...50), cin: rng.int(1...40), cout: rng.int(1...13), k: rng.int(1...7),
                                 stride: rng.int(1...3), dilation: rng.int(1...3), pl: rng.int(0...5), pr: rng.int(0...5),
                                 bias: rng.int(0...1) == 1, residual: rng.int(0...1) == 1, relu: rng.int(0...1) == 1))
        }
        for c in list where c.valid {
            #expect(checkConv(c, rng: &rng, isa: isa) == 0, "\(isa) f32 \(c)")
            #expect(checkConv(c, rng: &rng, isa: isa, half: true) == 0, "\(isa) f16 \(c)")
            if isa == .v4 {
                #expect(checkConv(c, rng: &rng, isa: isa, routed: true) == 0, "\(isa) routed f32 \(c)")
                #expect(checkConv(c, rng: &rng, isa: isa, half: true, routed: true) == 0, "\(isa) routed f16 \(c)")
            }
        }
    }

    /// The static v4 → v3 rule (Kernels.route): v4 only for fp32/fp16 with Cout a multiple of 4 or runs (K·Cin with
    /// dilation 1, else Cin) a multiple of 16, and int8 runs of at least 16; every other level is kept as it is.
    @Test func routeRule() {
        func level(_ isa: ISA, cin: Int, k: Int, dilation: Int = 1, cout: Int = 32, _ kind: Kernels.Conv) -> ISA {
            var a = Conv1DShape(lengthIn: 62, channelsIn: cin, lengthOut: 62, channelsOut: cout, kernel: k, stride: 1,
                                dilation: dilation, padLeft: 1).args
            return withUnsafePointer(to: &a) { Kernels.route(isa, $0, kind) }
        }
        for kind in [Kernels.Conv.f32, .f16] {
            #expect(level(.v4, cin: 64, k: 3, kind) == .v4)                 // run 192
            #expect(level(.v4, cin: 3, k: 7, kind) == .v4)                  // the stem: run 21, Cout 32
            #expect(level(.v4, cin: 3, k: 7, cout: 6, kind) == .v3)         // run 21, Cout 6
            #expect(level(.v4, cin: 8, k: 3, cout: 7, kind) == .v3)         // run 24, Cout 7
            #expect(level(.v4, cin: 16, k: 1, cout: 7, kind) == .v4)        // run 16
            #expect(level(.v4, cin: 24, k: 2, dilation: 2, cout: 5, kind) == .v3)   // dilated: the run is Cin
            #expect(level(.v4, cin: 32, k: 3, dilation: 2, cout: 5, kind) == .v4)
        }
        #expect(level(.v4, cin: 8, k: 3, .i8) == .v4)        // run 24
        #expect(level(.v4, cin: 3, k: 7, .i8) == .v4)        // the stem: run 21
        #expect(level(.v4, cin: 16, k: 3, dilation: 2, .i8) == .v4)
        #expect(level(.v4, cin: 8, k: 1, .i8) == .v3)        // run 8
        #expect(level(.v4, cin: 5, k: 3, .i8) == .v3)        // run 15
        #expect(level(.v4, cin: 15, k: 3, dilation: 2, .i8) == .v3)
        for isa in [ISA.portable, .v3] {
            for kind in [Kernels.Conv.f32, .f16, .i8] {
                #expect(level(isa, cin: 3, k: 7, kind) == isa)
                #expect(level(isa, cin: 64, k: 3, kind) == isa)
            }
        }
    }
}

/// int8 AFFINE and ADD as the session runs them on `isa` (the v3 loops on v3/v4, Int8Ops' scalar loops on
/// portable) against the exact Int64 reference; returns the number of differing outputs (+1 for a write past y).
func checkInt8Eltwise(add: Bool, isa: ISA, length: Int, channels: Int, signedX: Bool, signedR: Bool, outU8: Bool,
                      rng: inout SeededRandom) -> Int {
    let n = length * channels
    func bytes(_ signed: Bool) -> [UInt8] {
        (0..<n).map { _ in signed ? UInt8(bitPattern: Int8(rng.int(-127...127))) : UInt8(rng.int(0...255)) }
    }
    let x = bytes(signedX), r = bytes(signedR)
    let edges: [Int32] = [Int32.min + 1, -1_073_741_824, -3, -1, 0, 1, 5, 1_073_741_824, Int32.max]
    func param(_ lo: Int, _ hi: Int, _ useEdges: Bool) -> [Int32] {
        (0..<channels).map { _ in
            useEdges && rng.int(0...2) == 0 ? min(max(edges[rng.int(0...edges.count - 1)], Int32(lo)), Int32(hi))
                                            : Int32(rng.int(lo...hi))
        }
    }
    // AFFINE: A, B anywhere in int32 (negative γ too). ADD: M, Mr ≥ 0.
    let m = add ? param(0, Int(Int32.max), true) : param(Int(Int32.min) + 1, Int(Int32.max), true)
    let bOrMr = add ? param(0, Int(Int32.max), true) : param(Int(Int32.min) + 1, Int(Int32.max), true)
    let shift: [Int32] = (0..<channels).map { _ in Int32(rng.int(1...62)) }
    let (lo, hi): (Int32, Int32) = outU8 ? (0, 255) : (-127, 127)
    func val(_ v: [UInt8], _ signed: Bool, _ i: Int) -> Int64 { signed ? Int64(Int8(bitPattern: v[i])) : Int64(v[i]) }
    var y = [UInt8](repeating: 0xA5, count: n + 1)
    var xm = x, rm = r
    xm.withUnsafeMutableBytes { xp in rm.withUnsafeMutableBytes { rp in y.withUnsafeMutableBytes { yp in
        m.withUnsafeBufferPointer { mp in bOrMr.withUnsafeBufferPointer { bp in shift.withUnsafeBufferPointer { sp in
            let xv = Value(p: xp.baseAddress!, length: length, channels: channels,
                           dtype: signedX ? .i8 : .u8)
            let rv = Value(p: rp.baseAddress!, length: length, channels: channels,
                           dtype: signedR ? .i8 : .u8)
            var a = Int8Ops.eltwiseArgs(x: xv, mult: mp.baseAddress!, shift: sp.baseAddress!, lo: lo, hi: hi,
                                        y: yp.baseAddress!)
            if add {
                a.r = UnsafeRawPointer(rp.baseAddress); a.r_signed = signedR ? 1 : 0; a.mult_r = bp.baseAddress
                if !withUnsafePointer(to: &a, { Kernels.addI8(isa, $0) }) {
                    Int8Ops.add(x: xv, b: rv, mult: mp.baseAddress!, multRes: bp.baseAddress!, shift: sp.baseAddress!,
                                lo: lo, hi: hi, y: yp.baseAddress!)
                }
            } else {
                a.bias = bp.baseAddress
                if !withUnsafePointer(to: &a, { Kernels.affineI8(isa, $0) }) {
                    Int8Ops.affine(x: xv, a: mp.baseAddress!, b: bp.baseAddress!, shift: sp.baseAddress!, lo: lo, hi: hi,
                                   y: yp.baseAddress!)
                }
            }
        } } }
    } } }
    var bad = 0
    for i in 0..<n {
        let c = i % channels
        let total = add ? val(x, signedX, i) * Int64(m[c]) + val(r, signedR, i) * Int64(bOrMr[c])
                        : val(x, signedX, i) * Int64(m[c]) + Int64(bOrMr[c])
        let want = min(max(roundHalfUp(total, shift: Int64(shift[c])), Int64(lo)), Int64(hi))
        let got = outU8 ? Int64(y[i]) : Int64(Int8(bitPattern: y[i]))
        if got != want { bad += 1 }
    }
    if y[n] != 0xA5 { bad += 1 }
    return bad
}

@Suite struct ISAElementwiseTests {
    /// int8 AFFINE and ADD, exact, on every runnable ISA: channel counts around the 8-channel vector width, every
    /// input kind, multipliers and offsets at their int32 edges, shifts 1…62.
    @Test(arguments: runnableISAs) func int8AffineAndAddExact(_ isa: ISA) {
        var rng = SeededRandom(33)
        var failures: [String] = []
        for i in 0..<160 {
            let channels = [1, 3, 7, 8, 9, 15, 16, 17, 24, 64, 128, 256][i % 12]
            let length = rng.int(1...(channels >= 64 ? 8 : 40))
            let add = i % 2 == 0, sx = (i / 2) % 2 == 0, sr = (i / 4) % 2 == 0, u8 = (i / 8) % 2 == 0
            let bad = checkInt8Eltwise(add: add, isa: isa, length: length, channels: channels, signedX: sx, signedR: sr,
                                       outU8: u8, rng: &rng)
            if bad > 0 { failures.append("\(add ? "ADD" : "AFFINE") L=\(length) C=\(channels) x=\(sx ? "i8" : "u8") "
                                         + "r=\(sr ? "i8" : "u8") out=\(u8 ? "u8" : "i8"): \(bad) wrong") }
        }
        #expect(failures.isEmpty, "\(isa): \(failures.prefix(8))")
    }
}

// MARK: - version-2 fixtures (Tests/Fixtures/README.md)

struct GoldenFile {
    var version: Int, windows: Int, samples: Int, channels: Int, dim: Int, flags: Int, precision: Int
    var inputs: [Float], embeddings: [Float]

    init?(_ bytes: [UInt8]) {
        func u32(_ o: Int) -> Int { Int(BlobWriter.getU32(bytes, o)) }
        guard bytes.count >= 24, Array(bytes[0..<4]) == Array("RCGD".utf8) else { return nil }
        version = u32(4)
        let header = version == 2 ? 32 : 24
        (windows, samples, channels, dim) = (u32(8), u32(12), u32(16), u32(20))
        (flags, precision) = version == 2 ? (u32(24), u32(28)) : (0, 1)
        let nIn = windows * samples * channels, nOut = windows * dim
        guard bytes.count == header + 4 * (nIn + nOut) else { return nil }
        let floats: [Float] = stride(from: header, to: bytes.count, by: 4).map { Float(bitPattern: BlobWriter.getU32(bytes, $0)) }
        inputs = Array(floats[0..<nIn])
        embeddings = Array(floats[nIn...])
    }
}

@Suite struct Version2FixtureTests {
    static func has(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: Fixtures.directory.appendingPathComponent(name).path)
    }

    /// The int8 golden files hold the NumPy integer reference's embeddings: equal bit for bit (at the CPU's ISA
    /// level; `make test-c` repeats the goldens with RELCON_ISA=portable). tiny_int8: u8 activations (format
    /// version 2); tiny_u7: u7 activations (format version 3, the exporter's default; the vpmaddubsw lane on v3).
    @Test(arguments: [("tiny_int8", UInt32(2)), ("tiny_u7", UInt32(3))])
    func tinyInt8BitExact(_ name: String, _ version: UInt32) throws {
        guard Self.has(name + ".golden") else { return }
        let gb = try #require(Fixtures.bytes(name + ".golden"))
        let g = try #require(GoldenFile(gb))
        #expect(g.version == 2 && g.flags & 1 == 1 && g.precision == 3)
        let blob = try #require(Fixtures.bytes(name + ".blob"))
        let t = try TestSession(blob, maxSamples: UInt32(g.samples))
        #expect(t.info.format_version == version && t.info.weight_dtype == 3)
        #expect(t.info.arena_bytes == 7872)       // docs/quantization.md §9
        for w in 0..<g.windows {
            let (st, got) = t.embed(Array(g.inputs[(w * g.samples * 3)..<((w + 1) * g.samples * 3)]), n: g.samples)
            #expect(st == relcon_status.RELCON_OK)
            let want = Array(g.embeddings[(w * g.dim)..<((w + 1) * g.dim)])
            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(name) window \(w)")
        }
    }

    @Test(.enabled(if: has("tiny_f16.golden"))) func tinyF16Golden() throws {
        let gb = try #require(Fixtures.bytes("tiny_f16.golden"))
        let g = try #require(GoldenFile(gb))
        #expect(g.precision == 2)
        let blob = try #require(Fixtures.bytes("tiny_f16.blob"))
        let t = try TestSession(blob, maxSamples: UInt32(g.samples))
        #expect(t.info.format_version == 2 && t.info.weight_dtype == 2)
        for w in 0..<g.windows {
            let (st, got) = t.embed(Array(g.inputs[(w * g.samples * 3)..<((w + 1) * g.samples * 3)]), n: g.samples)
            #expect(st == relcon_status.RELCON_OK)
            #expect(maxRelativeError(got, Array(g.embeddings[(w * g.dim)..<((w + 1) * g.dim)])) <= 1e-4, "window \(w)")
        }
    }

    /// Shorter windows through a session planned for a longer one: int8 still equals a session planned for
    /// exactly that length (bit for bit: the integer result does not depend on the plan).
    @Test(.enabled(if: has("tiny_int8.blob"))) func int8SessionsAgreeAcrossPlans() throws {
        let bytes = try #require(Fixtures.bytes("tiny_int8.blob"))
        let long = try TestSession(bytes, maxSamples: 400)
        var rng = SeededRandom(3)
        for n in [11, 37, 256, 399] {
            let exact = try TestSession(bytes, maxSamples: UInt32(n))
            #expect(exact.info.arena_bytes <= long.info.arena_bytes)
            let x = rng.floats(3 * n, -2, 2)
            let (s1, a) = long.embed(x, n: n)
            let (s2, b) = exact.embed(x, n: n)
            #expect(s1 == relcon_status.RELCON_OK && s2 == relcon_status.RELCON_OK)
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "n \(n)")
        }
    }

    static var badV2: [String] {
        let dir = Fixtures.directory.appendingPathComponent("bad_v2")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".blob") }.sorted()
    }

    @Test(.enabled(if: !badV2.isEmpty), arguments: badV2)
    func badV2Fixture(_ name: String) throws {
        let status = name.components(separatedBy: "__")[0]
        let want = try #require(BlobReaderTests.statusNames[status], "\(name): unknown status \(status)")
        let bytes = try #require(Fixtures.bytes("bad_v2/" + name))
        #expect(readerError(bytes) == want, "\(name)")
    }

    /// Every single-byte change of the int8 fixture is rejected (CRC or an earlier check), never a crash.
    @Test(.enabled(if: has("tiny_int8.blob"))) func int8EveryByteChangeRejected() throws {
        let b = try #require(Fixtures.bytes("tiny_int8.blob"))
        for i in stride(from: 0, to: b.count, by: 7) {
            var c = b
            c[i] ^= 0x21
            #expect(readerError(c) != nil, "byte \(i)")
        }
    }
}
