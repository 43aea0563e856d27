// The CLI's resampler: the runtime's (relcon_resample, include/relcon.h "Resampling"), so a recording resampled
// here and the same samples streamed through relcon_stream_* give the same contract-rate samples, bit for bit.
// The design lives in Sources/RelConRuntime/Stream/StreamResampler.swift (docs/cli.md, "Resampling"):
// rational up/down with down ≤ 1000, Kaiser-windowed sinc (24 zero crossings, β 8, cut-off 0.9 of the lower
// Nyquist), unit-sum phases, odd reflection at both ends, f32 arithmetic; n_out = ⌊(n − 1)·up/down⌋ + 1.
import CRelCon
import Foundation

public enum ResamplerError: Error, CustomStringConvertible {
    case badRate(Double, Double)
    case tooLong(Int, Double, Double, Int)
    case failed(String)
    public var description: String {
        switch self {
        case .badRate(let a, let b):
            return "cannot resample from \(a) Hz to \(b) Hz: input rates must be within "
                + "\(Int(RELCON_RESAMPLE_MIN_RATE_HZ))–\(Int(RELCON_RESAMPLE_MAX_RATE_HZ)) Hz"
        case .tooLong(let n, let a, let b, let m):
            return "resampling \(n) samples from \(a) Hz to \(b) Hz would give \(m) samples, more than the "
                + "\(Resampler.maxOutputSamples) the CLI holds (check --rate and the timestamps' unit)"
        case .failed(let s): return "resampling failed: \(s)"
        }
    }
}

public struct Resampler: Sendable {
    /// The longest resampled recording the CLI builds (46.6 h at 100 Hz): memory stays bounded by the input.
    public static let maxOutputSamples = 1 << 24

    public let inputRate: Double
    public let outputRate: Double
    /// out/in = up/down (reduced).
    public let up: Int
    public let down: Int
    /// Taps per phase (0 for identity).
    public let taps: Int
    private let workBytes: Int

    public var effectiveOutputRate: Double { inputRate * Double(up) / Double(down) }
    public var isIdentity: Bool { up == down }

    public init(inputRate: Double, outputRate: Double) throws {
        var d = relcon_resample_desc()
        guard relcon_resample_info(inputRate, outputRate, &d) == .RELCON_OK else {
            throw ResamplerError.badRate(inputRate, outputRate)
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        up = Int(d.up)
        down = Int(d.down)
        taps = Int(d.taps)
        workBytes = Int(d.work_bytes)
    }

    public func outputCount(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        if isIdentity { return n }
        return (n - 1) * up / down + 1
    }

    /// Resamples interleaved x,y,z floats (n samples).
    public func process(interleaved x: [Float]) throws -> [Float] {
        let n = x.count / 3
        guard n >= 1 else { return [] }
        let m = outputCount(n)
        guard m <= Resampler.maxOutputSamples, n <= Int(UInt32.max) else {
            throw ResamplerError.tooLong(n, inputRate, outputRate, m)
        }
        var y = [Float](repeating: 0, count: 3 * m)
        let work = UnsafeMutableRawPointer.allocate(byteCount: max(workBytes, 16), alignment: 64)
        defer { work.deallocate() }
        var got: UInt32 = 0
        let status = x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                relcon_resample(inputRate, outputRate, xp.baseAddress, UInt32(n), work, workBytes, yp.baseAddress,
                                UInt32(m), &got)
            }
        }
        guard status == .RELCON_OK, Int(got) == m else {
            throw ResamplerError.failed(String(cString: relcon_status_string(status)))
        }
        return y
    }

    /// Resamples channel-major x, y, z.
    public func process(channels c: [[Double]]) throws -> [[Double]] {
        precondition(c.count == 3 && c[1].count == c[0].count && c[2].count == c[0].count)
        let n = c[0].count
        var x = [Float](repeating: 0, count: 3 * n)
        for i in 0..<n { x[3 * i] = Float(c[0][i]); x[3 * i + 1] = Float(c[1][i]); x[3 * i + 2] = Float(c[2][i]) }
        let y = try process(interleaved: x)
        let m = y.count / 3
        var out = [[Double]](repeating: [Double](repeating: 0, count: m), count: 3)
        for k in 0..<m { out[0][k] = Double(y[3 * k]); out[1][k] = Double(y[3 * k + 1]); out[2][k] = Double(y[3 * k + 2]) }
        return out
    }

    /// Resamples one channel (the others zero).
    public func process(_ x: [Double]) throws -> [Double] {
        try process(channels: [x, [Double](repeating: 0, count: x.count), [Double](repeating: 0, count: x.count)])[0]
    }
}
