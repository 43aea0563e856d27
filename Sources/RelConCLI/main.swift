// relcon: command-line tool for RelCon blobs (docs/cli.md).
//
//   relcon inspect BLOB [--samples N] [--json]
//   relcon embed BLOB RECORDING [--rate HZ] [--time-unit s|ms|us|ns] [--units g|m/s2|mg] [--hop N]
//                [--out FILE.csv|FILE.npy|FILE.jsonl] [--json]
//   relcon classify BLOB RECORDING [--head NAME] [--json] ...
//   relcon selftest BLOB [--json]
//   relcon bench BLOB [--samples N] [--runs K] [--json]
//   relcon resample RECORDING --to HZ ...
// RECORDING "-" reads standard input (embed, classify, resample); --json writes JSON Lines (JSON.swift).
//
// Exit status: 0 success; 1 a runtime, input or self-test failure (one line on stderr); 2 a usage error.
import ArgumentParser
import CRelCon
import Foundation
import RelConSwift

extension Units: ExpressibleByArgument {}

struct RelconCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relcon",
        abstract: "Inspect, run, test and time RelCon encoder blobs through librelcon's C API.",
        version: "relcon \(libraryVersion())",
        subcommands: [Inspect.self, Embed.self, Classify.self, Selftest.self, Bench.self, Resample.self]
    )
}

// MARK: - Shared options

struct RecordingOptions: ParsableArguments {
    @Argument(help: "Recording, or '-' for standard input: text (t,x,y,z or x,y,z with --rate; separated by commas, semicolons, tabs or spaces; '#' comments and a header line allowed) or NPY ((N,3) x,y,z with --rate, or (N,4) t,x,y,z).")
    var recording: String

    @Option(parsing: .unconditional,
            help: "Sample rate of the recording in Hz, 1–5000 (required without timestamps; overrides them).")
    var rate: Double?

    @Option(help: "Unit of the timestamps: s, ms, us or ns.")
    var timeUnit: TimeUnit = .s

    @Option(help: "Units of x,y,z: g, m/s2 or mg.")
    var units: Units = .g

    @Option(help: "Samples (at the contract rate) between window starts; default: one window (no overlap).")
    var hop: Int?

    func validate() throws {
        if let h = hop, h <= 0 { throw ValidationError("--hop must be a positive number of samples") }
        try validateRate(rate)
    }
}

extension TimeUnit: ExpressibleByArgument {}

/// --rate: a number of Hz within the resampler's range (include/relcon.h, RELCON_RESAMPLE_*_RATE_HZ).
func validateRate(_ rate: Double?, option: String = "--rate") throws {
    guard let r = rate else { return }
    let lo = RELCON_RESAMPLE_MIN_RATE_HZ, hi = RELCON_RESAMPLE_MAX_RATE_HZ
    guard r.isFinite, r >= lo, r <= hi else {
        var hint = ""
        if r.isFinite, r > 0, r < lo { hint = " (a period in seconds? pass the rate in Hz)" }
        throw ValidationError("\(option) must be a number of Hz within \(fmt(lo))–\(fmt(hi)), got \(r)\(hint)")
    }
}

/// A recording converted to the contract of `info`, ready to window.
struct PreparedRecording {
    var recording: Recording
    var sourceRate: Double
    var ratio: (up: Int, down: Int)?
    var samples: [Float]
    var starts: [Int]
    var window: Int
    var hop: Int
    var note: String

    init(_ opts: RecordingOptions, info: relcon_model_info) throws {
        var rec = try RecordingReader.read(path: opts.recording, rate: opts.rate, timeUnit: opts.timeUnit)
        let sourceRate = rec.rate
        let r = try rec.convert(units: opts.units, targetRate: Double(info.sample_rate_hz))
        window = Int(info.window_samples)
        hop = opts.hop ?? window
        guard rec.count >= window else {
            throw CLIError("\(opts.recording): \(rec.count) samples at \(fmt(rec.rate)) Hz is shorter than one window (\(window))")
        }
        samples = rec.interleaved()
        starts = windowStarts(count: rec.count, window: window, hop: hop)
        recording = rec
        self.sourceRate = sourceRate
        ratio = r.map { ($0.up, $0.down) }
        if let r {
            note = "resampled \(fmt(sourceRate)) Hz -> \(fmt(r.effectiveOutputRate)) Hz (x\(r.up)/\(r.down), Kaiser-sinc low-pass)"
        } else {
            note = "at \(fmt(sourceRate)) Hz (contract rate, not resampled)"
        }
    }

    func startTime(_ start: Int) -> Double { recording.t0 + Double(start) / recording.rate }

    /// What the --json summaries say about the input.
    func summary(_ path: String) -> [String: Any] {
        ["recording": path, "samples": recording.count, "source_rate_hz": sourceRate, "rate_hz": recording.rate,
         "resampled": ratio.map { ["up": $0.up, "down": $0.down] as Any } ?? NSNull(),
         "window_samples": window, "hop": hop, "windows": starts.count]
    }
}

func fmt(_ x: Double, _ digits: Int = 3) -> String {
    var s = String(format: "%.\(digits)f", x)
    if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s
}

func norm(_ v: [Float]) -> Double { v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

// MARK: - inspect

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a blob and describe it (contract, sizes, arena, MACs, metadata).")

    @Argument(help: "Blob file.") var blob: String
    @Option(help: "Window length (samples) that sizes the arena and MACs; default: the contract window.")
    var samples: UInt32 = 0
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let b = try Blob(path: blob)
        let info = try b.inspect(samples: samples)
        let meta = b.metadata()
        let heads = headsDescription(b)
        // The kernel level a session on this machine runs at (relcon_session_info; capped by RELCON_ISA).
        let isa = try Session(blob: b, maxSamples: samples).isaName()
        if json {
            var d: [String: Any] = [
                "path": blob, "valid": true, "library_version": libraryVersion(),
                "format_version": info.format_version, "weight_dtype": dtypeName(info.weight_dtype),
                "input_channels": info.input_channels, "embedding_dim": info.embedding_dim,
                "sample_rate_hz": Double(info.sample_rate_hz), "window_samples": info.window_samples,
                "min_samples": info.min_samples, "units": info.units == UInt32(RELCON_UNITS_G) ? "g" : "\(info.units)",
                "axis_order": axisOrder(info),
                "input_scale": [info.input_scale.0, info.input_scale.1, info.input_scale.2].map(Double.init),
                "input_offset": [info.input_offset.0, info.input_offset.1, info.input_offset.2].map(Double.init),
                "input_clip": Double(info.input_clip),
                "n_layers": info.n_layers, "n_tensors": info.n_tensors, "n_parameters": info.n_parameters,
                "n_samples": info.n_samples, "macs": info.macs, "blob_bytes": info.blob_bytes,
                "file_bytes": b.fileBytes, "arena_bytes": info.arena_bytes, "isa": isa,
            ]
            d["metadata"] = Dictionary(meta, uniquingKeysWith: { a, _ in a })
            d["heads"] = heads.json
            print(try JSONOut.text(d, pretty: true))
            return
        }
        let name = b.meta("model_name") ?? "?"
        print("\(blob): valid (librelcon \(libraryVersion()))")
        print("  model           \(name)")
        print("  format          version \(info.format_version), weights \(dtypeName(info.weight_dtype))")
        print("  contract        \(fmt(Double(info.sample_rate_hz))) Hz, \(info.window_samples) samples, \(info.input_channels) axes \(axisOrder(info)), units \(info.units == UInt32(RELCON_UNITS_G) ? "g" : "\(info.units)")")
        print("  input           scale \(info.input_scale.0) \(info.input_scale.1) \(info.input_scale.2), offset \(info.input_offset.0) \(info.input_offset.1) \(info.input_offset.2), clip \(info.input_clip)")
        print("  embedding       \(info.embedding_dim) floats")
        print("  window          min \(info.min_samples) samples; sized for \(info.n_samples)")
        print("  graph           \(info.n_layers) layers, \(info.n_tensors) tensors, \(info.n_parameters) parameters")
        print("  MACs            \(info.macs) per \(info.n_samples)-sample window (\(fmt(Double(info.macs) / 1e6, 2)) M)")
        print("  blob bytes      \(info.blob_bytes)")
        print("  arena bytes     \(info.arena_bytes) (for \(info.n_samples) samples, \(RELCON_ARENA_ALIGN)-aligned)")
        print("  kernels         \(isa) (the ISA level sessions run at here; RELCON_ISA caps it)")
        print("  metadata")
        for (k, v) in meta { print("    \(k.padding(toLength: max(k.count, 15), withPad: " ", startingAt: 0)) \(v)") }
        print("  heads           \(heads.text)")
    }
}

// MARK: - embed

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed a recording window by window (resampled to the contract rate, scaled to g).",
        discussion: "Rows: t_start (seconds), then the embedding. CSV to stdout, or --out FILE.csv / FILE.npy (float64, (windows, 1+dim)), written atomically. --json: JSON Lines, one {\"type\": \"window\", ...} object per window and a {\"type\": \"summary\", ...} object (to stdout, or --out FILE.jsonl).")

    @Argument(help: "Blob file.") var blob: String
    @OptionGroup var rec: RecordingOptions
    @Option(help: "Output file (.csv, .npy, or .jsonl with --json), written atomically; default: stdout.") var out: String?
    @Flag(help: "JSON Lines: one object per window (t_start, t_end, embedding), then a summary object.") var json = false

    func validate() throws {
        if let o = out {
            let ok = json ? o.hasSuffix(".jsonl") || o.hasSuffix(".json") : o.hasSuffix(".csv") || o.hasSuffix(".npy")
            if !ok { throw ValidationError(json ? "--out with --json must end in .jsonl or .json" : "--out must end in .csv or .npy") }
        }
    }

    func run() throws {
        let b = try Blob(path: blob)
        let session = try Session(blob: b)
        let prep = try PreparedRecording(rec, info: session.info)
        let dim = session.embeddingDim
        var rows: [Double] = []
        rows.reserveCapacity(prep.starts.count * (dim + 1))
        var csv = "t_start," + (0..<dim).map { "e\($0)" }.joined(separator: ",") + "\n"
        var lines = ""
        var emb = [Float](repeating: 0, count: dim)
        try prep.samples.withUnsafeBufferPointer { s in
            for (i, start) in prep.starts.enumerated() {
                try emb.withUnsafeMutableBufferPointer { o in try session.embed(s, offset: start, n: prep.window, into: o) }
                let t = prep.startTime(start)
                if json {
                    lines += try JSONOut.text(["type": "window", "index": i, "start": start, "t_start": t,
                                               "t_end": prep.startTime(start + prep.window),
                                               "embedding": JSONOut.floats(emb)]) + "\n"
                    continue
                }
                rows.append(t)
                rows.append(contentsOf: emb.map(Double.init))
                csv += String(format: "%.3f", t)
                for v in emb { csv += "," + String(format: "%.7g", Double(v)) }
                csv += "\n"
            }
        }
        if json {
            var sum = prep.summary(rec.recording)
            sum["type"] = "summary"
            sum["blob"] = blob
            sum["model_name"] = b.meta("model_name") ?? NSNull()
            sum["embedding_dim"] = dim
            lines += try JSONOut.text(sum) + "\n"
            if let o = out { try writeAtomically(Data(lines.utf8), to: o) } else { FileHandle.standardOutput.write(Data(lines.utf8)) }
            return
        }
        guard let o = out else {
            FileHandle.standardOutput.write(Data(csv.utf8))
            return
        }
        let data = o.hasSuffix(".npy") ? NPY.encode(rows: prep.starts.count, cols: dim + 1, values: rows) : Data(csv.utf8)
        try writeAtomically(data, to: o)
        print("\(rec.recording): \(prep.recording.count) samples \(prep.note); \(prep.starts.count) windows of \(prep.window) (hop \(prep.hop)) -> \(o)")
    }
}

// MARK: - classify

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-window predictions of a blob's head (top class + probability, or value + unit) and the recording-level vote / mean.")

    @Argument(help: "Blob file.") var blob: String
    @OptionGroup var rec: RecordingOptions
    @Option(help: "Head name (default: the blob's first head).") var head: String?
    @Flag(help: "JSON Lines: one object per window (t_start, t_end, class, probability, probabilities / value), then a summary object (the vote or mean).")
    var json = false

    func run() throws {
        let b = try Blob(path: blob)
        let session = try Session(blob: b)
        let prep = try PreparedRecording(rec, info: session.info)
        try classifyRecording(session: session, prep: prep, headName: head, json: json, path: rec.recording)
    }
}

// MARK: - selftest

struct Selftest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate, start a session, check determinism, finite outputs and error statuses (and the blob's own self-test vector when the runtime has one). Exit 0 when all pass, 1 otherwise.")

    @Argument(help: "Blob file.") var blob: String
    @Flag(help: "JSON Lines: one {\"type\": \"check\", \"status\": \"ok\"|\"FAIL\"|\"skip\", \"check\": ...} object per check, then a summary object.")
    var json = false

    func run() throws {
        let out = CheckReport(json: json)
        func report(_ ok: Bool, _ what: String) { out.check(ok ? .ok : .fail, what) }
        defer { out.summary(blob) }
        let v = relcon_version()
        report(v / 10000 == UInt32(RELCON_VERSION_MAJOR), "library \(libraryVersion()) matches header \(RELCON_VERSION_MAJOR).\(RELCON_VERSION_MINOR).\(RELCON_VERSION_PATCH)")
        let b: Blob
        do {
            b = try Blob(path: blob)
        } catch {
            out.check(.fail, "read: \(error)")
            throw error
        }
        let info: relcon_model_info
        do {
            info = try b.inspect()
            report(true, "inspect: valid, \(dtypeName(info.weight_dtype)), \(info.embedding_dim)-d, \(info.window_samples) samples at \(fmt(Double(info.sample_rate_hz))) Hz")
        } catch {
            out.check(.fail, "inspect: \(error)")
            throw error
        }
        let w = Int(info.window_samples)
        let window = syntheticWindow(samples: w, rate: Double(info.sample_rate_hz))
        do {
            let s1 = try Session(blob: b)
            report(true, "session_init: arena \(info.arena_bytes) bytes")
            let e1 = try s1.embed(window, n: w)
            report(e1.allSatisfy { $0.isFinite }, "embed: \(e1.count) finite values, norm \(fmt(norm(e1), 4))")
            let e2 = try s1.embed(window, n: w)
            report(e1.map(\.bitPattern) == e2.map(\.bitPattern), "determinism: same window twice, bit-identical")
            let s2 = try Session(blob: b)
            let e3 = try s2.embed(window, n: w)
            report(e1.map(\.bitPattern) == e3.map(\.bitPattern), "determinism: second session, bit-identical")
            let m = Int(info.min_samples)
            let eMin = try s1.embed(window, n: m)
            report(eMin.allSatisfy { $0.isFinite }, "shortest window (\(m) samples): finite")
            var bad = window
            bad[3 * (w / 2) + 1] = .nan
            var statusOK = false
            do { _ = try s1.embed(bad, n: w) } catch let e as RuntimeError { statusOK = e.status == .RELCON_E_INPUT_NOT_FINITE }
            report(statusOK, "NaN input rejected (RELCON_E_INPUT_NOT_FINITE)")
            let longer = window + window
            statusOK = false
            do { _ = try s1.embed(longer, n: w + 1) } catch let e as RuntimeError { statusOK = e.status == .RELCON_E_WINDOW_TOO_LONG }
            report(statusOK, "window longer than the session rejected (RELCON_E_WINDOW_TOO_LONG)")
            let e4 = try s1.embed(window, n: w)
            report(e1.map(\.bitPattern) == e4.map(\.bitPattern), "session still deterministic after rejected calls")
        } catch {
            report(false, "\(error)")
        }
        blobSelftest(b, out)
        if out.failed > 0 { throw CLIError("selftest: \(out.failed) check(s) failed (\(blob))") }
        if !json { print("selftest: all checks passed") }
    }
}

/// Gravity on z plus two slow sines per axis: a deterministic, realistic-looking window in g.
func syntheticWindow(samples n: Int, rate: Double) -> [Float] {
    var out = [Float](repeating: 0, count: 3 * n)
    for i in 0..<n {
        let t = Double(i) / rate
        out[3 * i] = Float(0.1 * sin(2 * .pi * 1.7 * t) + 0.05 * sin(2 * .pi * 5.3 * t))
        out[3 * i + 1] = Float(0.2 * cos(2 * .pi * 1.1 * t) - 0.04 * sin(2 * .pi * 7.9 * t))
        out[3 * i + 2] = Float(1.0 + 0.15 * sin(2 * .pi * 2.3 * t + 0.4))
    }
    return out
}

// MARK: - bench

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time relcon_embed: latency p50/p90/max, arena and blob bytes.")

    @Argument(help: "Blob file.") var blob: String
    @Option(help: "Window length in samples (default: the contract window).") var samples: UInt32 = 0
    @Option(help: "Timed runs (after 3 warm-up runs).") var runs: Int = 50
    @Flag(help: "JSON Lines: one {\"type\": \"run\", \"latency_us\": ...} object per timed run, then a summary object.")
    var json = false

    func validate() throws {
        if runs <= 0 { throw ValidationError("--runs must be positive") }
    }

    func run() throws {
        let b = try Blob(path: blob)
        let session = try Session(blob: b, maxSamples: samples)
        let n = Int(session.maxSamples)
        let window = syntheticWindow(samples: n, rate: Double(session.info.sample_rate_hz))
        var out = [Float](repeating: 0, count: session.embeddingDim)
        var lat: [Double] = []
        try window.withUnsafeBufferPointer { s in
            try out.withUnsafeMutableBufferPointer { o in
                for i in 0..<(runs + 3) {
                    let t0 = monotonicMicros()
                    try session.embed(s, n: n, into: o)
                    let dt = monotonicMicros() - t0
                    if i >= 3 { lat.append(dt) }
                }
            }
        }
        let inOrder = lat
        lat.sort()
        let info = session.info
        let p50 = percentile(lat, 50)
        if json {
            for (i, t) in inOrder.enumerated() { try JSONOut.line(["type": "run", "index": i, "latency_us": t]) }
            var d: [String: Any] = ["type": "summary", "blob": blob, "samples": n, "runs": runs, "warmup_runs": 3]
            d["isa"] = try session.isaName()
            d["model_name"] = b.meta("model_name") ?? NSNull()
            d["weight_dtype"] = dtypeName(info.weight_dtype)
            d["latency_us"] = ["p50": p50, "p90": percentile(lat, 90), "max": lat.last ?? 0] as [String: Double]
            d["macs"] = info.macs
            d["gmac_per_s_p50"] = Double(info.macs) / p50 / 1e3
            d["arena_bytes"] = info.arena_bytes
            d["blob_bytes"] = info.blob_bytes
            try JSONOut.line(d)
            return
        }
        print("\(blob): \(b.meta("model_name") ?? "?"), \(dtypeName(info.weight_dtype)), \(n) samples, \(runs) runs, kernels \(try session.isaName())")
        print("latency us: p50 \(fmt(p50, 1))  p90 \(fmt(percentile(lat, 90), 1))  max \(fmt(lat.last ?? .nan, 1))")
        print("MACs \(info.macs) (\(fmt(Double(info.macs) / p50 / 1e3, 2)) GMAC/s at p50); arena \(info.arena_bytes) B; blob \(info.blob_bytes) B")
    }
}

// MARK: - resample

struct Resample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resample a recording (anti-aliased) and write it as t,x,y,z CSV in g: what embed and classify feed the model.")

    @Argument(help: "Recording (text or NPY, as for embed), or '-' for standard input.") var recording: String
    @Option(parsing: .unconditional, help: "Sample rate of the recording in Hz, 1–5000 (required without timestamps; overrides them).")
    var rate: Double?
    @Option(help: "Unit of the timestamps: s, ms, us or ns.") var timeUnit: TimeUnit = .s
    @Option(help: "Units of x,y,z: g, m/s2 or mg.") var units: Units = .g
    @Option(parsing: .unconditional, help: "Output rate in Hz.") var to: Double
    @Option(help: "Output CSV, written atomically; default: stdout.") var out: String?

    func validate() throws {
        if !(to.isFinite && to > 0 && to <= 100_000) { throw ValidationError("--to must be a number of Hz in (0, 100000], got \(to)") }
        try validateRate(rate)
    }

    func run() throws {
        var rec = try RecordingReader.read(path: recording, rate: rate, timeUnit: timeUnit)
        let source = rec.rate
        let r = try rec.convert(units: units, targetRate: to)
        var csv = "# resampled by relcon from \(fmt(source)) Hz to \(fmt(to)) Hz\(r.map { " (x\($0.up)/\($0.down))" } ?? " (unchanged)"), g\nt,x,y,z\n"
        csv.reserveCapacity(40 * rec.count)
        for i in 0..<rec.count {
            csv += String(format: "%.4f,%.6f,%.6f,%.6f\n", rec.t0 + Double(i) / rec.rate, rec.x[i], rec.y[i], rec.z[i])
        }
        if let o = out { try writeAtomically(Data(csv.utf8), to: o) } else { FileHandle.standardOutput.write(Data(csv.utf8)) }
    }
}

// MARK: - main: one-line errors, exit 2 for usage, 1 for everything else

func fail(_ message: String, code: Int32) -> Never {
    let line = message.split(separator: "\n").first.map(String.init) ?? message
    FileHandle.standardError.write(Data("relcon: \(line)\n".utf8))
    exit(code)
}

do {
    var command = try RelconCommand.parseAsRoot()
    try command.run()
} catch let e as CLIError {
    fail(e.message, code: 1)
} catch let e as RuntimeError {
    fail(e.description, code: 1)
} catch let e as ResamplerError {
    fail(e.description, code: 1)
} catch {
    let code = RelconCommand.exitCode(for: error)
    if code == .success {
        print(RelconCommand.fullMessage(for: error))
        exit(0)
    }
    if let e = error as? ExitCode { exit(e.rawValue) }
    var msg = RelconCommand.message(for: error)
    if msg.hasPrefix("Error: ") { msg.removeFirst(7) }
    fail(msg.isEmpty ? "\(error)" : msg, code: code == .validationFailure ? 2 : 1)
}
