// Recording readers (CSV and NPY) and the conversion to the model's sensor contract (rate, units).
import Foundation

public struct CLIError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum Units: String, CaseIterable, Sendable {
    case g
    case ms2 = "m/s2"
    case mg
    /// Factor that converts a value in these units to g.
    public var toG: Double {
        switch self {
        case .g: return 1
        case .ms2: return 1 / 9.80665
        case .mg: return 1e-3
        }
    }
}

/// A 3-axis recording at a uniform rate, channel-major, in g once `convert` ran.
public struct Recording: Sendable {
    public var t0: Double
    public var rate: Double
    public var x: [Double]
    public var y: [Double]
    public var z: [Double]
    public var count: Int { x.count }
    public init(t0: Double, rate: Double, x: [Double], y: [Double], z: [Double]) {
        self.t0 = t0; self.rate = rate; self.x = x; self.y = y; self.z = z
    }

    /// Interleaved x,y,z floats (what relcon_embed takes).
    public func interleaved() -> [Float] {
        var out = [Float](repeating: 0, count: 3 * count)
        for i in 0..<count {
            out[3 * i] = Float(x[i]); out[3 * i + 1] = Float(y[i]); out[3 * i + 2] = Float(z[i])
        }
        return out
    }

    /// Scales to g and resamples to `targetRate` (anti-aliased); returns the resampler used (nil: none needed).
    /// A rate within `tolerance` (relative) of the target is taken as the target rate.
    @discardableResult
    public mutating func convert(units: Units, targetRate: Double, tolerance: Double = 1e-3) throws -> Resampler? {
        if units != .g {
            let f = units.toG
            x = x.map { $0 * f }; y = y.map { $0 * f }; z = z.map { $0 * f }
        }
        if abs(rate - targetRate) <= tolerance * targetRate {
            rate = targetRate
            return nil
        }
        let r = try Resampler(inputRate: rate, outputRate: targetRate)
        let c = try r.process(channels: [x, y, z])
        x = c[0]; y = c[1]; z = c[2]
        rate = targetRate
        return r
    }
}

/// Unit of a recording's timestamps.
public enum TimeUnit: String, CaseIterable, Sendable {
    case s, ms, us, ns
    public var seconds: Double {
        switch self { case .s: return 1; case .ms: return 1e-3; case .us: return 1e-6; case .ns: return 1e-9 }
    }
}

/// The rates the resampler takes (include/relcon.h, RELCON_RESAMPLE_MIN/MAX_RATE_HZ).
public let minRateHz = 1.0, maxRateHz = 5000.0

/// One line naming the likely cause of a rate implied by timestamps that is outside minRateHz...maxRateHz.
func impliedRateError(_ path: String, rate fs: Double, samples n: Int, span: Double, unit: TimeUnit) -> CLIError {
    let base = "\(path): timestamps imply \(String(format: "%.6g", fs)) Hz (\(n) samples over \(String(format: "%.6g", span)) s), outside \(Int(minRateHz))–\(Int(maxRateHz)) Hz"
    for (u, f) in [(TimeUnit.ms, 1e3), (.us, 1e6), (.ns, 1e9)] where unit == .s {
        if fs * f >= minRateHz && fs * f <= maxRateHz {
            return CLIError("\(base): timestamps look like \(u == .ms ? "milliseconds" : u == .us ? "microseconds" : "nanoseconds"): pass --time-unit \(u.rawValue)")
        }
    }
    if unit != .s, fs / (1 / unit.seconds) >= minRateHz, fs / (1 / unit.seconds) <= maxRateHz {
        return CLIError("\(base): timestamps look like seconds: drop --time-unit \(unit.rawValue)")
    }
    return CLIError("\(base): check the timestamps or pass --rate HZ")
}

public enum RecordingReader {
    /// Reads a CSV (`t,x,y,z` or, with `rate`, `x,y,z`; separated by commas, semicolons, tabs or spaces) or an NPY
    /// file ((N,3) x,y,z with `rate`, or (N,4) t,x,y,z). `rate` overrides the rate derived from timestamps.
    /// `path` "-" reads standard input (messages then say "stdin").
    public static func read(path: String, rate: Double?, timeUnit: TimeUnit = .s) throws -> Recording {
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            return try parse(data, path: "stdin", rate: rate, timeUnit: timeUnit)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { throw CLIError("cannot open \(path): no such file") }
            throw CLIError("cannot read \(path)")
        }
        return try parse(data, path: path, rate: rate, timeUnit: timeUnit)
    }

    /// The bytes of a recording file (what `read` does after reading it; the CLI fuzz harness calls this).
    public static func parse(_ data: Data, path: String, rate: Double?, timeUnit: TimeUnit = .s) throws -> Recording {
        if let r = rate, !(r.isFinite && r >= minRateHz && r <= maxRateHz) {
            throw CLIError("--rate must be a number of Hz within \(Int(minRateHz))–\(Int(maxRateHz)), got \(r)")
        }
        let rows: [[Double]]
        let width: Int
        if data.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) {   // \x93NUMPY
            (rows, width) = try NPY.readMatrix(data, path: path)
        } else {
            (rows, width) = try parseCSV(data, path: path)
        }
        let n = rows.count
        guard n > 0 else {
            throw CLIError("\(path) holds no samples (no line of 3 or 4 numbers separated by commas, semicolons, tabs or spaces)")
        }
        var x = [Double](), y = [Double](), z = [Double]()
        x.reserveCapacity(n); y.reserveCapacity(n); z.reserveCapacity(n)
        let c0 = width == 4 ? 1 : 0
        for r in rows { x.append(r[c0]); y.append(r[c0 + 1]); z.append(r[c0 + 2]) }
        var t0 = 0.0
        var fs: Double
        if width == 4 {
            t0 = rows[0][0] * timeUnit.seconds
            for i in 1..<n where !(rows[i][0] > rows[i - 1][0]) {
                throw CLIError("\(path): timestamps must increase (sample \(i + 1): \(rows[i][0]) after \(rows[i - 1][0]))")
            }
            if let r = rate {
                fs = r
            } else {
                guard n >= 2 else { throw CLIError("\(path): one sample cannot give a sample rate (pass --rate)") }
                let span = (rows[n - 1][0] - rows[0][0]) * timeUnit.seconds
                fs = Double(n - 1) / span
                guard fs.isFinite, fs >= minRateHz, fs <= maxRateHz else {
                    throw impliedRateError(path, rate: fs, samples: n, span: span, unit: timeUnit)
                }
            }
        } else {
            guard let r = rate else {
                throw CLIError("\(path) has x,y,z columns and no timestamps: pass --rate HZ")
            }
            fs = r
        }
        guard fs.isFinite, fs > 0 else { throw CLIError("\(path): sample rate \(fs) is not usable") }
        return Recording(t0: t0, rate: fs, x: x, y: y, z: z)
    }

    /// Text: 3 or 4 numbers per line, separated by commas, semicolons, tabs or spaces (the separator of the first
    /// sample line, for every line; tabs and spaces are one kind, any run of them counts as one). Blank lines and lines starting with '#' are
    /// skipped; lines without any number are allowed only before the first sample (headers). Every row must have the
    /// width of the first one, and every value must be finite.
    static func parseCSV(_ data: Data, path: String) throws -> ([[Double]], Int) {
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(path) is not a UTF-8 text file") }
        var rows: [[Double]] = []
        var width = 0
        var lineNo = 0
        var sep: Character? = nil                     // " ": runs of spaces and tabs (TSV included)
        let anySep: (Character) -> Bool = { $0 == "," || $0 == ";" || $0 == "\t" || $0 == " " }
        let sepName: (Character) -> String = { c in
            c == "," ? "commas" : c == ";" ? "semicolons" : c == "\t" ? "tabs" : "spaces or tabs"
        }
        for sub in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = sub.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if sep == nil {
                let tokens = line.split(whereSeparator: anySep)
                if !tokens.contains(where: { Double($0) != nil }) { continue }   // a header
                sep = line.contains(";") ? ";" : line.contains(",") ? "," : " "
            }
            let fields: [String]
            if sep == " " {
                fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            } else {
                fields = line.split(separator: sep!, omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
            }
            let values = fields.map { Double($0) }
            if let bad = values.firstIndex(where: { $0 == nil }) {
                if sep != ",", Double(fields[bad].replacingOccurrences(of: ",", with: ".")) != nil {
                    throw CLIError("\(path) line \(lineNo): \"\(fields[bad])\" has a decimal comma; write numbers with a decimal point")
                }
                let other = fields[bad].first(where: { anySep($0) && $0 != " " }) ?? fields[bad].first(where: anySep)
                if let o = other {
                    throw CLIError("\(path) line \(lineNo): separated by \(sepName(o)), but the first sample line by \(sepName(sep!)) (one separator per file: commas, semicolons, tabs or spaces)")
                }
                throw CLIError("\(path) line \(lineNo): not a number in \"\(line.prefix(80))\" (expected 3 or 4 numbers separated by commas, semicolons, tabs or spaces)")
            }
            let v = values.map { $0! }
            if width == 0 {
                guard v.count == 3 || v.count == 4 else {
                    throw CLIError("\(path) line \(lineNo): \(v.count) columns separated by \(sepName(sep!)); expected t,x,y,z (4) or x,y,z (3)")
                }
                width = v.count
            } else if v.count != width {
                throw CLIError("\(path) line \(lineNo): \(v.count) columns, expected \(width) like the first sample")
            }
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw CLIError("\(path) line \(lineNo): column \(bad + 1) is not finite (\(fields[bad]))")
            }
            rows.append(v)
        }
        return (rows, width)
    }
}
