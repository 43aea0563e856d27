// Anti-aliased rational resampler (polyphase, Kaiser-windowed sinc), used by the CLI to bring a recording at
// any sample rate to the model's contract rate. Host-side only: the device runtime never resamples.
//
// Design (docs/cli.md, "Resampling"):
//   ratio     out/in ≈ up/down, the best rational approximation with down ≤ 1000 (as the exporter's
//             Fraction(...).limit_denominator(1000)); exact for every integer-Hz pair below 1 kHz.
//   filter    ideal low-pass h(τ) = sinc(2·fc·τ) · kaiser(τ/τmax, β), τ in input samples,
//             fc = cutoff · ½ · min(1, up/down) cycles per input sample (cutoff = 0.9 of the lower Nyquist),
//             τmax = zeroCrossings / (2·fc). With 24 zero crossings and β = 8 the transition band is
//             ≈ [0.80, 1.00] × the lower Nyquist and the stopband ≈ −80 dB: nothing above the output Nyquist
//             aliases into the band, content below 0.8 × Nyquist passes with < 0.1 % gain error.
//   phases    output k sits at input position p = k·down/up; its fractional part is one of `up` phases, each
//             with its own precomputed tap row, normalised to sum exactly 1 (unity DC gain per phase, so
//             gravity never ripples).
//   edges     the signal is extended by odd reflection about its end samples (2·x₀ − x₋ₖ), which continues
//             constants and lines exactly: no ringing of the gravity offset at the recording's ends.
//   output    n_out = ⌊(n − 1)·up/down⌋ + 1 samples, the first at the first input sample's time.
import Foundation

public enum ResamplerError: Error, CustomStringConvertible {
    case badRate(Double, Double)
    public var description: String {
        switch self {
        case let .badRate(a, b): return "cannot resample from \(a) Hz to \(b) Hz (rates must be finite and > 0)"
        }
    }
}

/// Best rational approximation p/q of x with 1 ≤ q ≤ maxDenominator (continued fractions, as Python's
/// Fraction.limit_denominator).
public func rationalApproximation(_ x: Double, maxDenominator: Int) -> (num: Int, den: Int) {
    precondition(x > 0 && x.isFinite && maxDenominator >= 1)
    var p0 = 0, q0 = 1, p1 = 1, q1 = 0
    var v = x
    for _ in 0..<64 {
        let a = Int(v.rounded(.down))
        let q2 = q0 + a * q1
        if q2 > maxDenominator {
            // the best semiconvergent with denominator ≤ max, or the last convergent
            let k = (maxDenominator - q0) / q1
            let b1 = (p0 + k * p1, q0 + k * q1)
            let b2 = (p1, q1)
            let e1 = abs(Double(b1.0) / Double(b1.1) - x), e2 = abs(Double(b2.0) / Double(b2.1) - x)
            return e2 <= e1 ? b2 : b1
        }
        (p0, q0, p1, q1) = (p1, q1, p0 + a * p1, q2)
        let frac = v - Double(a)
        if frac < 1e-12 || abs(Double(p1) / Double(q1) - x) <= 1e-15 * x { break }
        v = 1 / frac
    }
    let g = gcd(p1, q1)
    return (p1 / g, q1 / g)
}

private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? Swift.abs(a) : gcd(b, a % b) }

/// Zeroth-order modified Bessel function of the first kind (power series; converges for all x used here).
func besselI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    let y = x * x / 4
    var k = 1.0
    while term > 1e-17 * sum {
        term *= y / (k * k)
        sum += term
        k += 1
    }
    return sum
}

public struct Resampler: Sendable {
    public let inputRate: Double
    public let outputRate: Double
    /// out/in = up/down (reduced).
    public let up: Int
    public let down: Int
    public let zeroCrossings: Int
    public let beta: Double
    public let cutoff: Double
    /// Taps per phase (even): input samples i0 − half + 1 … i0 + half contribute to an output whose position's
    /// integer part is i0.
    public let half: Int
    private let table: [Double]   // [up][2·half]

    /// The output rate the rational ratio actually gives (equals outputRate when the ratio is exact).
    public var effectiveOutputRate: Double { inputRate * Double(up) / Double(down) }
    public var isIdentity: Bool { up == down }

    public init(inputRate: Double, outputRate: Double, zeroCrossings: Int = 24, beta: Double = 8.0,
                cutoff: Double = 0.9, maxDenominator: Int = 1000) throws {
        guard inputRate.isFinite, outputRate.isFinite, inputRate > 0, outputRate > 0 else {
            throw ResamplerError.badRate(inputRate, outputRate)
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.zeroCrossings = zeroCrossings
        self.beta = beta
        self.cutoff = cutoff
        let (u, d) = rationalApproximation(outputRate / inputRate, maxDenominator: maxDenominator)
        up = u
        down = d
        if u == d {
            half = 0
            table = []
            return
        }
        let fc = cutoff * 0.5 * min(1.0, Double(u) / Double(d))    // cycles per input sample
        let tauMax = Double(zeroCrossings) / (2 * fc)
        let h = Int(tauMax.rounded(.up)) + 1
        half = h
        let i0b = besselI0(beta)
        var tab = [Double](repeating: 0, count: u * 2 * h)
        for phase in 0..<u {
            let frac = Double(phase) / Double(u)
            var sum = 0.0
            for j in 0..<(2 * h) {
                let tau = Double(j - h + 1) - frac           // input index − output position
                var v = 0.0
                if abs(tau) < tauMax {
                    let arg = 2 * fc * tau
                    let sinc = arg == 0 ? 1.0 : sin(Double.pi * arg) / (Double.pi * arg)
                    let r = tau / tauMax
                    v = sinc * besselI0(beta * (1 - r * r).squareRoot()) / i0b
                }
                tab[phase * 2 * h + j] = v
                sum += v
            }
            for j in 0..<(2 * h) { tab[phase * 2 * h + j] /= sum }
        }
        table = tab
    }

    public func outputCount(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        if isIdentity { return n }
        return (n - 1) * up / down + 1
    }

    /// Resamples one channel.
    public func process(_ x: [Double]) -> [Double] {
        let n = x.count
        if isIdentity || n == 0 { return x }
        if n == 1 { return x }
        // Odd reflection about both ends: x[-k] = 2x[0] - x[k], x[n-1+k] = 2x[n-1] - x[n-1-k] (clamped).
        let pad = half + 1
        var ext = [Double](repeating: 0, count: n + 2 * pad)
        for i in 0..<n { ext[pad + i] = x[i] }
        for k in 1...pad {
            ext[pad - k] = 2 * x[0] - x[min(k, n - 1)]
            ext[pad + n - 1 + k] = 2 * x[n - 1] - x[max(n - 1 - k, 0)]
        }
        let m = outputCount(n)
        var y = [Double](repeating: 0, count: m)
        let taps = 2 * half
        ext.withUnsafeBufferPointer { e in
            table.withUnsafeBufferPointer { t in
                for k in 0..<m {
                    let num = k * down
                    let i0 = num / up
                    let phase = num - i0 * up
                    let base = pad + i0 - half + 1
                    let row = phase * taps
                    var acc = 0.0
                    for j in 0..<taps { acc += e[base + j] * t[row + j] }
                    y[k] = acc
                }
            }
        }
        return y
    }

    /// Resamples every channel of channel-major data.
    public func process(channels: [[Double]]) -> [[Double]] { channels.map { process($0) } }
}
