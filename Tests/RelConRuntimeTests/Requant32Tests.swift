// The 32-bit requantisation of the Cortex-M int8 kernel (Sources/RelConRuntime/Kernels/ARM/Requant32.swift)
// against Requant.requantize (itself checked against exact rounding in QuantizedTests.swift) over the edge domains:
// every shift 1…62 (both of its branches, s < 32 and s ≥ 32), edge multipliers, every i8/u8 dot and residual
// value, accumulators at the ±2^31 edges, with and without bias and residual. On x86-64: the arithmetic is the same
// Swift integer code the ARM build compiles.

import Testing
@testable import RelConRuntimeHosted

@Suite struct Requant32Tests {
    static let multipliers: [Int32] = [0, 1, 2, 3, 127, 1 << 15, (1 << 30) - 1, 1 << 30, 1_518_500_250, Int32.max]
    static let biases: [Int32] = [0, 1, -1, 12_345, -(1 << 30), 1 << 30]

    @Test func smallDotsEveryShift() {
        var checked = 0
        for s in Int32(1)...62 {
            for m in Self.multipliers {
                for bias in Self.biases {
                    let c = Requant32.constant(bias: bias, mult: m, shift: s)
                    for (lo, hi) in [(Int32(-127), Int32(127)), (Int32(0), Int32(255)), (Int32(0), Int32(127))] {
                        for dot in Int32(-300)...300 {
                            let want = Requant.requantize(dot &+ bias, mult: m, shift: s, residual: nil, multRes: 0,
                                                          lo: lo, hi: hi)
                            let got = Requant32.requantize(dot, mult: m, constant: c, shift: s, residual: nil,
                                                           multRes: 0, lo: lo, hi: hi)
                            if got != want { Issue.record("dot \(dot) bias \(bias) M \(m) s \(s): \(got) ≠ \(want)") }
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 3_000_000)
    }

    /// Dots at the edges of the validator's bound (|dot + bias| ≤ 2,134,933,504), every residual byte.
    @Test func edgeAccumulatorsWithResidual() {
        let dots: [Int32] = [-1_061_191_680, -1_000_000, -65_537, -1, 0, 1, 77_777, 1_061_191_680]
        let multRes: [Int32] = [0, 1, 1 << 20, (1 << 30) + 7, Int32.max]
        for s in Int32(1)...62 {
            for m in Self.multipliers where m % 2 == 0 || s % 2 == 0 {
                for bias in [Int32(0), 1 << 30, -(1 << 30)] {
                    let c = Requant32.constant(bias: bias, mult: m, shift: s)
                    for mr in multRes {
                        for dot in dots {
                            for r in Int32(-127)...255 {
                                let want = Requant.requantize(dot &+ bias, mult: m, shift: s, residual: r, multRes: mr,
                                                              lo: -127, hi: 127)
                                let got = Requant32.requantize(dot, mult: m, constant: c, shift: s, residual: r,
                                                               multRes: mr, lo: -127, hi: 127)
                                if got != want {
                                    Issue.record("dot \(dot) bias \(bias) M \(m) r \(r) Mr \(mr) s \(s): \(got) ≠ \(want)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// ⌊t / 2^s⌋ near every power of two that the high/low-word split touches, and at the int32 saturation edges.
    @Test func shiftAgainstInt64() {
        var values: [Int64] = [0, 1, -1, Int64(Int32.max), Int64(Int32.min), 1 << 62, -(1 << 62)]
        for e in 0..<63 {
            let p = Int64(1) << e
            values += [p - 1, p, p + 1, -p - 1, -p, -p + 1]
        }
        for s in Int32(1)...62 {
            for v in values {
                for (lo, hi) in [(Int32.min, Int32.max), (Int32(-127), Int32(127)), (Int32(0), Int32(255))] {
                    let want = Int32(min(max(v >> Int64(s), Int64(lo)), Int64(hi)))
                    #expect(Requant32.shift(v, s, lo: lo, hi: hi) == want, "t \(v) s \(s)")
                }
            }
        }
    }
}
