// The resampler of the stream and of relcon_resample (include/relcon.h, "Resampling"): one filter design and
// one per-output computation, so a stream and a whole-recording resample give the same samples, bit for bit.
//
//   ratio   out/in ≈ up/down, the best rational approximation with down ≤ 1000 (continued fractions, as
//           Python's Fraction.limit_denominator(1000)); exact for every integer-Hz pair below 1 kHz.
//   filter  h(τ) = sinc(2·fc·τ)·kaiser(τ/τmax, β), τ in input samples, fc = 0.9·½·min(1, up/down) cycles per
//           input sample, τmax = 24/(2·fc), β = 8: transition ≈ [0.80, 1.00] × the lower Nyquist, stopband
//           ≈ −80 dB. Phase p (of `up`) has 2·half taps (half = ⌈τmax⌉ + 1) at τ = j − half + 1 − p/up,
//           designed in double and normalised to sum 1 (unity DC gain), stored as f32.
//   output  sample k: position k·down/up, i0 = ⌊k·down/up⌋, taps over inputs i0 − half + 1 … i0 + half,
//           y = Σ_j x[i0 − half + 1 + j]·t[p][j] in f32, in tap order (no reassociation, no FMA).
//   edges   before the first input: odd reflection x[−m] = 2·x[0] − x[m]; after the last (whole segments
//           only): x[n−1+m] = 2·x[n−1] − x[n−1−m] (indices clamped into the segment).
// No libm: sin, I0 and sqrt are computed here (SoftMath), so the design is the same on every target.

struct ResampleDesign {
    var up: UInt32
    var down: UInt32
    var half: UInt32          // 0 for identity

    static let maxDenominator: Int64 = 1000
    static let zeroCrossings: Double = 24
    static let beta: Double = 8
    static let cutoff: Double = 0.9
    static let minRate: Double = 1
    static let maxRate: Double = 5000
    static let maxOutRate: Double = 100_000
    static let maxTableBytes: UInt64 = 64 << 20

    var isIdentity: Bool { up == down }
    var taps: UInt32 { isIdentity ? 0 : 2 &* half }
    var tableFloats: UInt64 { isIdentity ? 0 : UInt64(up) &* UInt64(taps) }
    var tableBytes: UInt64 { tableFloats &* 4 }

    /// The design for inRate -> outRate (Hz), or .invalidArgument (include/relcon.h, relcon_resample_info).
    static func make(inRate: Double, outRate: Double) throws(RelConError) -> ResampleDesign {
        guard inRate.isFinite, outRate.isFinite, inRate >= minRate, inRate <= maxRate, outRate > 0,
              outRate <= maxOutRate
        else { throw .invalidArgument }
        let (u, d) = rational(outRate / inRate, maxDenominator: maxDenominator)
        guard u >= 1, d >= 1, u <= Int64(UInt32.max), d <= maxDenominator else { throw .invalidArgument }
        if u == d { return ResampleDesign(up: 1, down: 1, half: 0) }
        let fc = cutoff * 0.5 * (u < d ? Double(u) / Double(d) : 1.0)
        let tauMax = zeroCrossings / (2 * fc)
        guard tauMax < 1e7 else { throw .invalidArgument }
        let h = SoftMath.ceil(tauMax) &+ 1
        let design = ResampleDesign(up: UInt32(truncatingIfNeeded: u), down: UInt32(truncatingIfNeeded: d),
                                    half: UInt32(truncatingIfNeeded: h))
        guard design.tableBytes <= maxTableBytes else { throw .invalidArgument }
        return design
    }

    /// Best rational approximation p/q of x > 0 with q ≤ maxDenominator (Fraction.limit_denominator).
    static func rational(_ x: Double, maxDenominator: Int64) -> (Int64, Int64) {
        var p0: Int64 = 0, q0: Int64 = 1, p1: Int64 = 1, q1: Int64 = 0
        var v = x
        var iter = 0
        while iter < 64 {
            iter &+= 1
            guard v < 1e15 else { break }
            let a = Int64(v)                        // v > 0: truncation is floor
            let q2 = q0 &+ a &* q1
            if q2 > maxDenominator {
                let k = (maxDenominator &- q0) / q1
                let b1p = p0 &+ k &* p1, b1q = q0 &+ k &* q1
                let e1 = abs(Double(b1p) / Double(b1q) - x), e2 = abs(Double(p1) / Double(q1) - x)
                return e2 <= e1 ? reduce(p1, q1) : reduce(b1p, b1q)
            }
            let p2 = p0 &+ a &* p1
            p0 = p1; q0 = q1; p1 = p2; q1 = q2
            let frac = v - Double(a)
            if frac < 1e-12 || abs(Double(p1) / Double(q1) - x) <= 1e-15 * x { break }
            v = 1 / frac
        }
        return q1 == 0 ? (0, 1) : reduce(p1, q1)
    }

    private static func reduce(_ p: Int64, _ q: Int64) -> (Int64, Int64) {
        var a = p, b = q
        while b != 0 { let t = a % b; a = b; b = t }
        return a == 0 ? (p, q) : (p / a, q / a)
    }

    private static func abs(_ x: Double) -> Double { x < 0 ? -x : x }

    /// Writes the [up][taps] f32 table.
    func fill(_ table: UnsafeMutablePointer<Float>) {
        guard !isIdentity else { return }
        let u = Double(up), d = Double(down)
        let fc = ResampleDesign.cutoff * 0.5 * (up < down ? u / d : 1.0)
        let tauMax = ResampleDesign.zeroCrossings / (2 * fc)
        let i0b = SoftMath.besselI0(ResampleDesign.beta)
        let n = Int(taps), h = Int(half)
        var phase = 0
        while phase < Int(up) {
            let frac = Double(phase) / u
            let row = table + phase &* n
            var sum: Double = 0
            // first pass: the sum (double), second pass: normalised values (recomputed: no scratch)
            var pass = 0
            while pass < 2 {
                var j = 0
                while j < n {
                    let tau = Double(j &- h &+ 1) - frac
                    var v: Double = 0
                    if ResampleDesign.abs(tau) < tauMax {
                        let arg = 2 * fc * tau
                        let sinc = arg == 0 ? 1.0 : SoftMath.sinPi(arg) / (Double.pi * arg)
                        let r = tau / tauMax
                        v = sinc * SoftMath.besselI0(ResampleDesign.beta * SoftMath.sqrt(1 - r * r)) / i0b
                    }
                    if pass == 0 { sum += v } else { row[j] = Float(v / sum) }
                    j &+= 1
                }
                pass &+= 1
            }
            phase &+= 1
        }
    }

    /// Outputs of a whole segment of n inputs.
    func outputCount(_ n: UInt64) -> UInt64 {
        guard n > 0 else { return 0 }
        return isIdentity ? n : (n &- 1) &* UInt64(up) / UInt64(down) &+ 1
    }
}

/// The one per-output computation (both callers go through it).
enum ResampleKernel {
    /// Σ_j x[j]·row[j] per axis over `taps` contiguous interleaved samples, f32, in tap order.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ row: UnsafePointer<Float>, taps: Int) -> (Float, Float, Float) {
        var a: Float = 0, b: Float = 0, c: Float = 0
        var j = 0
        while j < taps {
            let t = row[j]
            a = a + x[3 &* j] * t
            b = b + x[3 &* j &+ 1] * t
            c = c + x[3 &* j &+ 2] * t
            j &+= 1
        }
        return (a, b, c)
    }

    /// Gathers taps input samples starting at signed index `base` of a segment whose samples 0 ..< count are
    /// given by `sample(i)` (with odd reflection outside) into `scratch` ([taps][3]), then dots.
    @inline(__always)
    static func reflected(base: Int64, count: Int64, taps: Int, row: UnsafePointer<Float>,
                          scratch: UnsafeMutablePointer<Float>,
                          sample: (Int64) -> UnsafePointer<Float>) -> (Float, Float, Float)
    {
        let last = count &- 1
        var j = 0
        while j < taps {
            let i = base &+ Int64(j)
            let o = scratch + 3 &* j
            if i < 0 {
                let m = -i < last ? -i : last
                let e = sample(0), s = sample(m)
                o[0] = 2 * e[0] - s[0]; o[1] = 2 * e[1] - s[1]; o[2] = 2 * e[2] - s[2]
            } else if i > last {
                let m0 = 2 &* last &- i
                let m = m0 > 0 ? m0 : 0
                let e = sample(last), s = sample(m)
                o[0] = 2 * e[0] - s[0]; o[1] = 2 * e[1] - s[1]; o[2] = 2 * e[2] - s[2]
            } else {
                let s = sample(i)
                o[0] = s[0]; o[1] = s[1]; o[2] = s[2]
            }
            j &+= 1
        }
        return dot(UnsafePointer(scratch), row, taps: taps)
    }

    /// relcon_resample: a whole segment of n interleaved samples -> design.outputCount(n) samples.
    /// `table` holds the design's table followed by 3·taps floats of scratch.
    static func segment(_ d: ResampleDesign, table: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        input x: UnsafePointer<Float>, count n: UInt32, output y: UnsafeMutablePointer<Float>)
    {
        let m = d.outputCount(UInt64(n))
        if d.isIdentity || n == 1 {
            var i = 0
            while i < Int(n) &* 3 { y[i] = x[i]; i &+= 1 }
            return
        }
        let taps = Int(d.taps), half = Int64(d.half), up = UInt64(d.up), down = UInt64(d.down)
        let count = Int64(n)
        var k: UInt64 = 0
        while k < m {
            let num = k &* down
            let i0 = num / up
            let phase = num &- i0 &* up
            let base = Int64(i0) &- half &+ 1
            let row = table + Int(phase) &* taps
            let v: (Float, Float, Float)
            if base >= 0 && base &+ Int64(taps) <= count {
                v = dot(x + Int(base) &* 3, row, taps: taps)
            } else {
                v = reflected(base: base, count: count, taps: taps, row: row, scratch: scratch) { i in
                    UnsafePointer(x + Int(i) &* 3)
                }
            }
            let o = y + Int(k) &* 3
            o[0] = v.0; o[1] = v.1; o[2] = v.2
            k &+= 1
        }
    }
}

extension SoftMath {
    /// ⌈x⌉ for 0 ≤ x < 2^52.
    static func ceil(_ x: Double) -> Int64 {
        let t = Int64(x)
        return Double(t) < x ? t &+ 1 : t
    }

    /// √x for x ≥ 0 (Newton from a bit-level estimate; exact to an ulp or two).
    static func sqrt(_ x: Double) -> Double {
        guard x > 0 else { return 0 }
        guard x.isFinite else { return x }
        var y = Double(sign: .plus, exponent: x.exponent / 2, significand: 1)
        var i = 0
        while i < 8 { y = 0.5 * (y + x / y); i &+= 1 }
        return y
    }

    /// sin(π·x) (range-reduced to |r| ≤ ½, then a Taylor series of 14 terms: error ~1e-16).
    static func sinPi(_ x: Double) -> Double {
        guard x.isFinite, x > -1e15, x < 1e15 else { return 0 }
        // r = x − 2·round(x/2) ∈ [−1, 1]
        let h = x * 0.5
        let t = Int64(h < 0 ? h - 0.5 : h + 0.5)
        var r = x - 2 * Double(t)
        if r > 0.5 { r = 1 - r } else if r < -0.5 { r = -1 - r }
        let a = Double.pi * r
        let a2 = a * a
        var term = a
        var sum = a
        var k = 1
        while k <= 14 {
            term = -term * a2 / Double((2 &* k) &* (2 &* k &+ 1))
            sum += term
            k &+= 1
        }
        return sum
    }

    /// I0(x), the zeroth-order modified Bessel function of the first kind (power series; 0 ≤ x ≤ 8 here).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0
        let y = x * x / 4
        var k = 1.0
        var n = 0
        while term > 1e-17 * sum, n < 200 {
            term *= y / (k * k)
            sum += term
            k += 1
            n &+= 1
        }
        return sum
    }
}
