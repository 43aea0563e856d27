// Heads and the self-test vector (docs/blob-format.md "Heads", "Self-test"): metadata parsing, validation
// statuses, and classify / regress / selftest through the C API against a naive computation.

import CRelCon
import Foundation
import Testing
@testable import RelConRuntimeHosted

/// Graphs.resnet with a classifier head (LINEAR, K = 3) and a regressor head (LINEAR+ReLU -> LINEAR) and a
/// self-test vector; returns the graph and the two heads' weights for a naive check.
private func headGraph(tolerance: String = "1e-5", meta extra: [(String, String?)] = []) -> TestGraph {
    var g = Graphs.resnet()
    var rng = SeededRandom(9)
    let e = g.outputValue
    let c = g.linear(e, cout: 3, rng: &rng)
    let h = g.linear(e, cout: 4, relu: true, rng: &rng)
    let r = g.linear(h, cout: 1, rng: &rng)
    let x = rng.floats(64 * 3, -1.5, 1.5)
    let y = Reference.run(g, input: x, samples: 64)
    let ti = g.tensor(TestTensor([64, 3], x))
    let to = g.tensor(TestTensor([1, y.count], y))
    var meta: [(String, String)] = g.meta + [
        ("n_heads", "2"), ("head0_name", "activity"), ("head0_kind", "classifier"), ("head0_value", "\(c)"),
        ("head0_class0", "walk"), ("head0_class1", "sit"), ("head0_class2", "stand"),
        ("head1_name", "speed"), ("head1_kind", "regressor"), ("head1_value", "\(r)"),
        ("head1_target", "walking_speed"), ("head1_unit", "m/s"),
        ("selftest_input", "\(ti)"), ("selftest_output", "\(to)"), ("selftest_tolerance", tolerance),
    ]
    for (k, v) in extra {
        meta.removeAll { $0.0 == k }
        if let v { meta.append((k, v)) }
    }
    g.meta = meta
    return g
}

/// LINEAR on a vector with the graph's tensors.
private func linear(_ g: TestGraph, layer: UInt32, _ x: [Float]) -> [Float] {
    let l = g.layers[Int(layer) - 1]
    let w = g.tensors[Int(l.t0)].values, b = g.tensors[Int(l.t1)].values
    let cout = Int(l.outChannels), cin = x.count
    return (0..<cout).map { o in
        var s: Float = 0
        for i in 0..<cin { s += w[o * cin + i] * x[i] }
        let v = s + b[o]
        return l.act == 1 ? max(v, 0) : v
    }
}

@Suite struct HeadTests {
    @Test func metaKeyAndNumbers() {
        func s(_ text: String, _ body: (MetaString) -> Void) {
            var bytes = Array(text.utf8) + [0]
            bytes.withUnsafeMutableBufferPointer { body(MetaString(p: UnsafePointer($0.baseAddress!), count: text.utf8.count)) }
        }
        s("0") { #expect($0.index() == 0) }
        s("4294967295") { #expect($0.index() == UInt32.max) }
        for bad in ["", "01", "4294967296", "1a", "-1", "+1", " 1"] { s(bad) { #expect($0.index() == nil) } }
        s("1e-4") { #expect($0.decimalNumber() == 1e-4) }
        s("0") { #expect($0.decimalNumber() == 0) }
        s("2.5E+1") { #expect($0.decimalNumber() == 25) }
        for bad in ["", ".5", "1.", "1e", "-1", "inf", "nan", "1e99999", "1 "] { s(bad) { #expect($0.decimalNumber() == nil) } }
        let key = Array("head12_class3".utf8)
        key.withUnsafeBufferPointer { p in
            #expect(MetaKey(prefix: "head", index: 12, suffix: "_class", index2: 3).matches(p.baseAddress!, p.count))
            #expect(!MetaKey(prefix: "head", index: 12, suffix: "_class", index2: 31).matches(p.baseAddress!, p.count))
            #expect(!MetaKey(prefix: "head", index: 12, suffix: "_class").matches(p.baseAddress!, p.count))
        }
    }

    @Test func classifyRegressSelftest() throws {
        let g = headGraph()
        let bytes = BlobWriter.write(g).bytes
        let ts = try TestSession(bytes, maxSamples: 64)
        var n: UInt32 = 0
        #expect(relcon_head_count(ts.blob.pointer, bytes.count, &n) == relcon_status.RELCON_OK)
        #expect(n == 2)
        var d = relcon_head_desc()
        #expect(relcon_head_info(ts.blob.pointer, bytes.count, 1, &d) == relcon_status.RELCON_OK)
        #expect(String(cString: d.name) == "speed" && String(cString: d.unit) == "m/s" && d.kind == 2 && d.n_outputs == 1)
        #expect(relcon_head_info(ts.blob.pointer, bytes.count, 0, &d) == relcon_status.RELCON_OK)
        #expect(d.target == nil && d.unit == nil && d.kind == 1 && d.n_outputs == 3)

        var rng = SeededRandom(5)
        let x = rng.floats(64 * 3)
        let z = Reference.run(g, input: x, samples: 64)
        let heads = g.layers.count
        let logits = linear(g, layer: UInt32(heads - 2), z)
        let m = logits.max()!
        let ex = logits.map { Foundation.exp(Double($0 - m)) }
        let p = ex.map { $0 / ex.reduce(0, +) }
        var probs = [Float](repeating: 0, count: 3)
        var top: UInt32 = 9
        #expect(relcon_classify(ts.session, x, 64, 0, &probs, 3, &top) == relcon_status.RELCON_OK)
        for k in 0..<3 { #expect(abs(Double(probs[k]) - p[k]) < 1e-5) }
        #expect(top == UInt32(logits.firstIndex(of: m)!))
        var v: Float = 0
        #expect(relcon_regress(ts.session, x, 64, 1, &v) == relcon_status.RELCON_OK)
        let want = linear(g, layer: UInt32(heads), linear(g, layer: UInt32(heads - 1), z))[0]
        #expect(abs(v - want) <= 1e-4 * max(1, abs(want)))
        // relcon_embed is unchanged by the heads.
        let (st, e) = ts.embed(x, n: 64)
        #expect(st == relcon_status.RELCON_OK && maxRelativeError(e, z) < 1e-5)
        var err: Float = -1
        #expect(relcon_selftest(ts.session, &err) == relcon_status.RELCON_OK)
        #expect(err >= 0 && err < 1e-5)
    }

    @Test func selftestDetectsAMismatch() throws {
        let bytes = BlobWriter.write(headGraph(tolerance: "0")).bytes
        let ts = try TestSession(bytes, maxSamples: 64)
        var err: Float = -1
        let st = relcon_selftest(ts.session, &err)
        // tolerance 0: passes only when the runtime matches the naive interpreter bit for bit
        #expect(st == relcon_status.RELCON_OK || (st == relcon_status.RELCON_E_SELFTEST_FAILED && err > 0))
    }

    @Test func headDefectStatuses() {
        func status(_ extra: [(String, String?)]) -> RelConError? { readerError(BlobWriter.write(headGraph(meta: extra)).bytes) }
        #expect(status([]) == nil)
        #expect(status([("n_heads", "02")]) == .blobMetadata)
        #expect(status([("n_heads", "3")]) == .blobMetadata)
        #expect(status([("head0_kind", "ranker")]) == .blobMetadata)
        #expect(status([("head0_kind", nil)]) == .blobMetadata)
        #expect(status([("head0_name", "Bad")]) == .blobMetadata)
        #expect(status([("head1_name", "activity")]) == .blobMetadata)
        #expect(status([("head0_class2", nil)]) == .blobMetadata)
        #expect(status([("head0_class3", "x")]) == .blobMetadata)
        #expect(status([("head1_unit", nil)]) == .blobMetadata)
        #expect(status([("head2_name", "x")]) == .blobMetadata)
        #expect(status([("selftest_tolerance", nil)]) == .blobMetadata)
        #expect(status([("selftest_tolerance", "abc")]) == .blobMetadata)
        let g = headGraph()
        #expect(status([("head0_value", "\(g.outputValue)")]) == .blobGraph)
        #expect(status([("head0_value", "\(g.layers.count + 1)")]) == .blobGraph)
        #expect(status([("head1_value", "\(g.layers.count - 2)")]) == .blobGraph)   // K = 3 for a regressor
        #expect(status([("head0_value", "\(g.layers.count - 1)")]) == .blobMetadata) // K = 4: no head0_class3
        #expect(status([("selftest_input", "0")]) == .blobGraph)                    // a weight of layer 0
        #expect(status([("n_heads", nil)]) == nil)                                   // heads ignored, still valid
    }
}
