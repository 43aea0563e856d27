// Unit tests of the CLI's resampler and readers (Sources/RelConSwift). The CLI binary itself is tested by
// Tests/cli_test.sh (make test-cli).
import Foundation
import Testing
@testable import RelConSwift

/// Amplitude of the frequency-f component of y (sampled at rate, first sample at t0), by least squares on
/// sin/cos over the given index range.
private func amplitude(_ y: [Double], rate: Double, f: Double, range: Range<Int>) -> Double {
    var ss = 0.0, cc = 0.0, sc = 0.0, ys = 0.0, yc = 0.0
    for i in range {
        let t = Double(i) / rate
        let s = sin(2 * .pi * f * t), c = cos(2 * .pi * f * t)
        ss += s * s; cc += c * c; sc += s * c; ys += y[i] * s; yc += y[i] * c
    }
    let det = ss * cc - sc * sc
    let a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det
    return (a * a + b * b).squareRoot()
}

private func sine(_ n: Int, rate: Double, f: Double, phase: Double = 0.3) -> [Double] {
    (0..<n).map { sin(2 * .pi * f * Double($0) / rate + phase) }
}

/// The ratio comes from the runtime (relcon_resample_info): Fraction(out/in).limit_denominator(1000).
private func ratio(_ fin: Double, _ fout: Double) throws -> (Int, Int) {
    let r = try Resampler(inputRate: fin, outputRate: fout)
    return (r.up, r.down)
}

@Suite struct RationalTests {
    @Test func commonRates() throws {
        #expect(try ratio(50, 100) == (2, 1))
        #expect(try ratio(52, 100) == (25, 13))
        #expect(try ratio(200, 100) == (1, 2))
        #expect(try ratio(32, 100) == (25, 8))
        #expect(try ratio(30, 100) == (10, 3))
        #expect(try ratio(100, 100) == (1, 1))
        #expect(try ratio(26, 100) == (50, 13))
        #expect(try ratio(104, 100) == (25, 26))
    }

    /// Same answers as Python's Fraction(x).limit_denominator(1000) (what the exporter's resampler uses).
    @Test func matchesLimitDenominator() throws {
        #expect(try ratio(47.123, 100) == (1008, 475))
        #expect(try ratio(33.3, 100) == (1000, 333))
        #expect(try ratio(99.97123, 100) == (1, 1))
    }

    /// Rates outside 1–5000 Hz (or not finite) are refused with a message, never a trap or a huge table.
    @Test func ratesOutsideTheRange() {
        for r in [0.0, -50, 0.5, 1e-5, 1e-300, 5000.5, 1e6, 1e9, 1e30, .infinity, .nan] {
            #expect(throws: ResamplerError.self, "\(r)") { try Resampler(inputRate: r, outputRate: 100) }
        }
        #expect(throws: Never.self) { try Resampler(inputRate: 1, outputRate: 100) }
        #expect(throws: Never.self) { try Resampler(inputRate: 5000, outputRate: 100) }
    }
}

@Suite struct ResamplerTests {
    @Test func identityWhenRatesMatch() throws {
        let r = try Resampler(inputRate: 100, outputRate: 100)
        #expect(r.isIdentity)
        let x = sine(500, rate: 100, f: 3)
        #expect(try r.process(x) == x.map { Double(Float($0)) })
    }

    @Test(arguments: [(50.0, 100.0), (52.0, 100.0), (200.0, 100.0), (30.0, 100.0), (1000.0, 100.0), (100.0, 64.0)])
    func dcGainIsExactlyOneEverywhere(rates: (Double, Double)) throws {
        let r = try Resampler(inputRate: rates.0, outputRate: rates.1)
        let y = try r.process([Double](repeating: 0.981, count: 777))
        #expect(y.count == r.outputCount(777))
        // f32 taps summed in f32: within a few f32 ulps of 0.981, also at both ends (odd reflection, unit-sum phases)
        #expect(y.allSatisfy { abs($0 - 0.981) < 1e-6 })
    }

    @Test func lineStaysALineAtTheEdges() throws {
        let r = try Resampler(inputRate: 50, outputRate: 100)
        let x = (0..<400).map { 0.5 + 0.002 * Double($0) }
        let y = try r.process(x)
        for (k, v) in y.enumerated() { #expect(abs(v - (0.5 + 0.001 * Double(k))) < 1e-4) }
    }

    @Test func outputTimingAndCount() throws {
        let r = try Resampler(inputRate: 50, outputRate: 100)
        #expect(r.outputCount(3000) == 5999)
        let r2 = try Resampler(inputRate: 200, outputRate: 100)
        #expect(r2.outputCount(12000) == 6000)
    }

    /// A band-limited sine (well below both Nyquists) comes through intact, sample for sample.
    @Test(arguments: [(50.0, 100.0, 7.0), (52.0, 100.0, 11.0), (200.0, 100.0, 19.0), (100.0, 30.0, 4.0)])
    func bandLimitedSineIsIntact(c: (Double, Double, Double)) throws {
        let (fin, fout, f) = c
        let r = try Resampler(inputRate: fin, outputRate: fout)
        let n = Int(fin * 20)
        let y = try r.process(sine(n, rate: fin, f: f))
        let expected = sine(y.count, rate: fout, f: f)
        let margin = Int(fout)     // the edges (odd reflection) are checked separately by the DC/line tests
        var maxErr = 0.0
        for k in margin..<(y.count - margin) { maxErr = max(maxErr, abs(y[k] - expected[k])) }
        #expect(maxErr < 2e-3, "max error \(maxErr)")
    }

    /// Downsampling 200 -> 100 Hz: passband flat to 0.8 x Nyquist, everything above the output Nyquist
    /// (which would alias) attenuated by at least 60 dB.
    @Test func frequencyResponseDownsampling() throws {
        let r = try Resampler(inputRate: 200, outputRate: 100)
        let n = 8000
        let interior = 200..<(r.outputCount(n) - 200)
        for f in [1.0, 10.0, 25.0, 38.0] {
            let y = try r.process(sine(n, rate: 200, f: f))
            let g = amplitude(y, rate: 100, f: f, range: interior)
            #expect(abs(g - 1) < 2e-3, "passband \(f) Hz gain \(g)")
        }
        for f in [52.0, 60.0, 75.0, 90.0, 99.0] {
            let y = try r.process(sine(n, rate: 200, f: f))
            var rms = 0.0
            for k in interior { rms += y[k] * y[k] }
            rms = (rms / Double(interior.count)).squareRoot() * 2.0.squareRoot()   // amplitude-equivalent
            #expect(rms < 1e-3, "stopband \(f) Hz leaks \(rms) (alias of \(200 - f) or \(f - 100) Hz)")
        }
    }

    /// Upsampling 50 -> 100 Hz: images of the 50 Hz band (frequencies above 25 Hz) are removed.
    @Test func upsamplingRemovesImages() throws {
        let r = try Resampler(inputRate: 50, outputRate: 100)
        let x = sine(5000, rate: 50, f: 12)
        let y = try r.process(x)
        let interior = 100..<(y.count - 100)
        let g = amplitude(y, rate: 100, f: 12, range: interior)
        let image = amplitude(y, rate: 100, f: 50 - 12, range: interior)
        #expect(abs(g - 1) < 2e-3)
        #expect(image < 1e-3, "image at 38 Hz: \(image)")
    }
}

@Suite struct ReaderTests {
    private func tmp(_ name: String, _ text: String) -> String {
        let p = NSTemporaryDirectory() + "relcon-cli-\(getpid())-\(name)"
        #expect(FileManager.default.createFile(atPath: p, contents: Data(text.utf8)), "cannot write \(p)")
        return p
    }

    @Test func csvWithCommentsHeaderAndTimestamps() throws {
        let p = tmp("a.csv", "# comment\nt,x,y,z\n0.00,1,2,3\n0.02,4,5,6\n\n0.04,7,8,9\n")
        let r = try RecordingReader.read(path: p, rate: nil)
        #expect(r.count == 3)
        #expect(abs(r.rate - 50) < 1e-9)
        #expect(r.z == [3, 6, 9])
    }

    @Test func xyzNeedsRate() throws {
        let p = tmp("b.csv", "1,2,3\n4,5,6\n")
        #expect(throws: CLIError.self) { try RecordingReader.read(path: p, rate: nil) }
        let r = try RecordingReader.read(path: p, rate: 25)
        #expect(r.rate == 25 && r.x == [1, 4])
    }

    @Test func badInputs() throws {
        for (name, text) in [("nan.csv", "0,1,2,3\n0.01,nan,2,3\n"), ("cols.csv", "0,1,2,3\n0.01,1,2\n"),
                             ("two.csv", "1,2\n"), ("time.csv", "0,1,2,3\n0,1,2,3\n"), ("text.csv", "0,1,2,3\n1,a,2,3\n")] {
            let p = tmp(name, text)
            #expect(throws: CLIError.self, "\(name)") { try RecordingReader.read(path: p, rate: nil) }
        }
    }

    @Test func separatorsCommaSemicolonTabSpaces() throws {
        let comma = try RecordingReader.read(path: tmp("s0.csv", "t,x,y,z\n0.00,1,2,3\n0.02,4,5,6\n"), rate: nil)
        for (name, text) in [("s1.txt", "t;x;y;z\n0.00;1;2;3\n0.02;4;5;6\n"),
                             ("s2.tsv", "t\tx\ty\tz\n0.00\t1\t2\t3\n0.02\t4\t5\t6\n"),
                             ("s3.txt", "t x y z\n  0.00   1 2\t3\n0.02 4  5 6 \n")] {
            let r = try RecordingReader.read(path: tmp(name, text), rate: nil)
            #expect(r.x == comma.x && r.y == comma.y && r.z == comma.z && r.rate == comma.rate, "\(name)")
        }
        func message(_ name: String, _ text: String) -> String {
            do { _ = try RecordingReader.read(path: tmp(name, text), rate: nil); return "" } catch { return "\(error)" }
        }
        #expect(message("m.txt", "0,1,2,3\n0.02\t1\t2\t3\n").contains("separated by tabs, but the first sample line by commas"))
        #expect(message("d.txt", "0;1,5;2;3\n").contains("decimal comma"))
        #expect(message("p.txt", "0|1|2|3\n0.02|1|2|3\n").contains("holds no samples (no line of 3 or 4 numbers separated by"))
    }

    @Test func npyRoundTripAndUnits() throws {
        let values: [Double] = [0, 9.80665, 0, 0.01, 0, 9.80665]
        let data = NPY.encode(rows: 2, cols: 3, values: values)
        let p = NSTemporaryDirectory() + "relcon-cli-\(getpid()).npy"
        try writeAtomically(data, to: p)
        var r = try RecordingReader.read(path: p, rate: 100)
        #expect(r.count == 2)
        try r.convert(units: .ms2, targetRate: 100)
        #expect(abs(r.y[0] - 1) < 1e-12 && abs(r.z[1] - 1) < 1e-12)
    }

    /// A row count from the header that is negative, or whose n·w·itemSize overflows Int, is an error, not a trap
    /// (found by fuzz_cli: Tests/Fuzz/crashes/cli-crash-78e62b94...: shape (-5, 3) trapped in Array(count:)).
    @Test func npyShapeOutOfRange() throws {
        let good = NPY.encode(rows: 2, cols: 3, values: [Double](repeating: 0.5, count: 6))
        let text = String(decoding: good, as: UTF8.self)
        #expect(text.contains("(2, 3)"))
        for shape in ["(-5, 3)", "(-1, 4)", "(4611686018427387904, 3)", "(9223372036854775807, 4)", "(3, 3)"] {
            // same header length: the shape text is padded with the header's spaces
            var header = String(decoding: good[10..<(10 + Int(good[8]) + Int(good[9]) << 8)], as: UTF8.self)
            header = header.replacingOccurrences(of: "(2, 3), }", with: shape + ", }")
            let pad = (64 - (10 + header.utf8.count) % 64) % 64
            header = header.trimmingCharacters(in: .whitespacesAndNewlines) + String(repeating: " ", count: pad) + "\n"
            let hl = header.utf8.count
            var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(hl & 0xff), UInt8(hl >> 8)])
            data.append(contentsOf: Array(header.utf8))
            data.append(good[(10 + Int(good[8]) + Int(good[9]) << 8)...])
            #expect(throws: CLIError.self, "\(shape)") {
                _ = try RecordingReader.parse(data, path: "shape.npy", rate: 100, timeUnit: .s)
            }
        }
    }
}
