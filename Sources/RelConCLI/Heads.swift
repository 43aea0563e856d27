// Heads (classifiers / regressors stored in the blob, API 0.3) and the blob's own self-test vector, all through
// the C API: relcon_head_count/info/class_name, relcon_classify/regress(_recording), relcon_selftest.
import CRelCon
import Foundation
import RelConSwift

struct Head {
    var index: UInt32
    var name: String
    var kind: UInt32
    var nOutputs: UInt32
    var target: String?
    var unit: String?
    var classNames: [String]
    var isClassifier: Bool { kind == UInt32(RELCON_HEAD_CLASSIFIER) }
}

func heads(_ b: Blob) throws -> [Head] {
    let base = UnsafeRawPointer(b.bytes.baseAddress)
    var count: UInt32 = 0
    try checkStatus(relcon_head_count(base, b.count, &count), "\(b.path): head_count")
    var out: [Head] = []
    for i in 0..<count {
        var d = relcon_head_desc()
        try checkStatus(relcon_head_info(base, b.count, i, &d), "\(b.path): head_info \(i)")
        var names: [String] = []
        if d.kind == UInt32(RELCON_HEAD_CLASSIFIER) {
            for k in 0..<d.n_outputs {
                var p: UnsafePointer<CChar>? = nil
                try checkStatus(relcon_head_class_name(base, b.count, i, k, &p), "\(b.path): head_class_name \(i) \(k)")
                names.append(p.map { String(cString: $0) } ?? "class\(k)")
            }
        }
        out.append(Head(index: i, name: d.name.map { String(cString: $0) } ?? "head\(i)", kind: d.kind,
                        nOutputs: d.n_outputs, target: d.target.map { String(cString: $0) },
                        unit: d.unit.map { String(cString: $0) }, classNames: names))
    }
    return out
}

func checkStatus(_ st: relcon_status, _ context: String) throws {
    if st != .RELCON_OK { throw RuntimeError(st, context) }
}

struct HeadsDescription {
    var text: String
    var json: Any
}

func headsDescription(_ b: Blob) -> HeadsDescription {
    guard let hs = try? heads(b) else { return HeadsDescription(text: "? (head_count failed)", json: NSNull()) }
    if hs.isEmpty { return HeadsDescription(text: "none", json: [Any]()) }
    let text = hs.map { h in
        h.isClassifier
            ? "\n    \(h.index) \(h.name): classifier, \(h.nOutputs) classes: \(h.classNames.joined(separator: ", "))"
            : "\n    \(h.index) \(h.name): regressor, \(h.target ?? "?") in \(h.unit.map { $0.isEmpty ? "(dimensionless)" : $0 } ?? "?")"
    }.joined()
    let json: [[String: Any]] = hs.map { h in
        var d: [String: Any] = ["index": h.index, "name": h.name, "kind": h.isClassifier ? "classifier" : "regressor",
                                "n_outputs": h.nOutputs]
        if h.isClassifier { d["classes"] = h.classNames } else { d["target"] = h.target ?? ""; d["unit"] = h.unit ?? "" }
        return d
    }
    return HeadsDescription(text: "\(hs.count)" + text, json: json)
}

func classifyRecording(session: Session, prep: PreparedRecording, headName: String?, json: Bool = false,
                       path: String = "") throws {
    let b = session.blob
    let hs = try heads(b)
    guard !hs.isEmpty else { throw CLIError("\(b.path) has no heads; use `relcon embed` for embeddings") }
    let head: Head
    if let n = headName {
        guard let h = hs.first(where: { $0.name == n }) else {
            throw CLIError("\(b.path) has no head \"\(n)\" (heads: \(hs.map(\.name).joined(separator: ", ")))")
        }
        head = h
    } else {
        head = hs[0]
    }
    let w = UInt32(prep.window)
    var summary = prep.summary(path)
    summary["type"] = "summary"
    summary["blob"] = b.path
    summary["model_name"] = b.meta("model_name") ?? NSNull()
    summary["head"] = head.name
    summary["kind"] = head.isClassifier ? "classifier" : "regressor"
    if !json {
        print("# \(b.meta("model_name") ?? "?"), head \(head.name); \(prep.recording.count) samples \(prep.note); windows of \(prep.window), hop \(prep.hop)")
    }
    func window(_ i: Int, _ start: Int) -> [String: Any] {
        ["type": "window", "index": i, "start": start, "t_start": prep.startTime(start),
         "t_end": prep.startTime(start + prep.window)]
    }
    try prep.samples.withUnsafeBufferPointer { s in
        guard let base = s.baseAddress else { return }
        if head.isClassifier {
            var probs = [Float](repeating: 0, count: Int(head.nOutputs))
            if !json { print("t_start,t_end,class,probability") }
            for (i, start) in prep.starts.enumerated() {
                var top: UInt32 = 0
                try probs.withUnsafeMutableBufferPointer { p in
                    try checkStatus(relcon_classify(session.rawSession, base + 3 * start, w, head.index, p.baseAddress,
                                                    UInt32(p.count), &top), "classify window at sample \(start)")
                }
                if json {
                    var d = window(i, start)
                    d["class"] = head.classNames[Int(top)]
                    d["class_index"] = Int(top)
                    d["probability"] = Double(probs[Int(top)])
                    d["probabilities"] = JSONOut.floats(probs)
                    try JSONOut.line(d)
                    continue
                }
                print(String(format: "%.2f,%.2f,", prep.startTime(start), prep.startTime(start + prep.window))
                      + head.classNames[Int(top)] + String(format: ",%.4f", Double(probs[Int(top)])))
            }
            var votes = [UInt32](repeating: 0, count: Int(head.nOutputs))
            var top: UInt32 = 0, windows: UInt32 = 0
            try votes.withUnsafeMutableBufferPointer { v in
                try checkStatus(relcon_classify_recording(session.rawSession, base, UInt32(prep.recording.count),
                                                          UInt32(prep.hop), head.index, v.baseAddress, UInt32(v.count),
                                                          &top, &windows), "classify_recording")
            }
            if json {
                summary["class"] = head.classNames[Int(top)]
                summary["class_index"] = Int(top)
                summary["classes"] = head.classNames
                summary["votes"] = votes.map { Int($0) }
                summary["vote_windows"] = Int(windows)
                try JSONOut.line(summary)
                return
            }
            let tally = zip(head.classNames, votes).filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
                .map { "\($0.0) \($0.1)" }.joined(separator: ", ")
            print("# recording: \(head.classNames[Int(top)]) (majority vote of \(windows) windows: \(tally))")
        } else {
            let unit = head.unit ?? ""
            if !json { print("t_start,t_end,\(head.target ?? "value"),unit") }
            for (i, start) in prep.starts.enumerated() {
                var value: Float = 0
                try checkStatus(relcon_regress(session.rawSession, base + 3 * start, w, head.index, &value),
                                "regress window at sample \(start)")
                if json {
                    var d = window(i, start)
                    d["value"] = JSONOut.number(Double(value))
                    d["target"] = head.target ?? "value"
                    d["unit"] = unit
                    try JSONOut.line(d)
                    continue
                }
                print(String(format: "%.2f,%.2f,%.5g,", prep.startTime(start), prep.startTime(start + prep.window),
                             Double(value)) + unit)
            }
            var mean: Float = 0
            var windows: UInt32 = 0
            try checkStatus(relcon_regress_recording(session.rawSession, base, UInt32(prep.recording.count),
                                                     UInt32(prep.hop), head.index, &mean, &windows), "regress_recording")
            if json {
                summary["target"] = head.target ?? "value"
                summary["unit"] = unit
                summary["mean"] = JSONOut.number(Double(mean))
                summary["vote_windows"] = Int(windows)
                try JSONOut.line(summary)
                return
            }
            print("# recording: \(head.target ?? "value") \(String(format: "%.5g", Double(mean))) \(unit) (mean of \(windows) windows)")
        }
    }
}

/// The checks of `relcon selftest`: one "ok  " / "FAIL" / "skip" line each, or with --json one JSON object each
/// and a summary object.
final class CheckReport {
    enum Status: String { case ok, fail = "FAIL", skip }
    let json: Bool
    private(set) var passed = 0, failed = 0, skipped = 0
    init(json: Bool) { self.json = json }

    func check(_ st: Status, _ what: String) {
        switch st { case .ok: passed += 1; case .fail: failed += 1; case .skip: skipped += 1 }
        if json {
            if let line = try? JSONOut.text(["type": "check", "status": st.rawValue, "check": what]) { print(line) }
        } else {
            print("\(st.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(what)")
        }
    }

    func summary(_ blob: String) {
        guard json else { return }
        if let line = try? JSONOut.text(["type": "summary", "blob": blob, "passed": passed, "failed": failed,
                                         "skipped": skipped, "ok": failed == 0]) { print(line) }
    }
}

/// Runs the blob's shipped self-test vector and the heads on one window, reporting each check to `out`.
func blobSelftest(_ b: Blob, _ out: CheckReport) {
    do {
        let s = try Session(blob: b)
        var err: Float = 0
        let st = relcon_selftest(s.rawSession, &err)
        switch st {
        case .RELCON_OK: out.check(.ok, "shipped self-test vector: max relative error \(err)")
        case .RELCON_E_NOT_FOUND: out.check(.skip, "shipped self-test vector: the blob has none")
        default:
            out.check(.fail, "shipped self-test vector: \(String(cString: relcon_status_string(st))) (max relative error \(err))")
        }
        let hs = try heads(b)
        let w = Int(s.info.window_samples)
        let window = syntheticWindow(samples: w, rate: Double(s.info.sample_rate_hz))
        for h in hs {
            try window.withUnsafeBufferPointer { x in
                if h.isClassifier {
                    var probs = [Float](repeating: 0, count: Int(h.nOutputs))
                    var top: UInt32 = 0
                    try probs.withUnsafeMutableBufferPointer { p in
                        try checkStatus(relcon_classify(s.rawSession, x.baseAddress, UInt32(w), h.index, p.baseAddress,
                                                        UInt32(p.count), &top), "classify")
                    }
                    let sum = probs.reduce(0, +)
                    let ok = probs.allSatisfy { $0.isFinite && $0 >= 0 } && abs(sum - 1) < 1e-4 && Int(top) < probs.count
                    out.check(ok ? .ok : .fail, "head \(h.name): \(h.nOutputs) probabilities sum to \(sum), top \(h.classNames[Int(top)])")
                } else {
                    var v: Float = 0
                    try checkStatus(relcon_regress(s.rawSession, x.baseAddress, UInt32(w), h.index, &v), "regress")
                    out.check(v.isFinite ? .ok : .fail, "head \(h.name): \(h.target ?? "value") = \(v) \(h.unit ?? "")")
                }
            }
        }
    } catch {
        out.check(.fail, "heads / self-test vector: \(error)")
    }
}
