// The session queries (include/relcon.h "Session queries (0.5)") through the C API: relcon_session_info against
// relcon_inspect, relcon_session_head_info / _class_name against the blob-level relcon_head_*, struct_bytes,
// bad arguments, and relcon_status as an open enum in Swift.

import CRelCon
import Foundation
import Testing
@testable import RelConRuntimeHosted

/// Graphs.resnet with a classifier (K = 3) and a regressor (LINEAR+ReLU -> LINEAR).
private func twoHeadGraph() -> TestGraph {
    var g = Graphs.resnet()
    var rng = SeededRandom(21)
    let e = g.outputValue
    let c = g.linear(e, cout: 3, rng: &rng)
    let h = g.linear(e, cout: 4, relu: true, rng: &rng)
    let r = g.linear(h, cout: 1, rng: &rng)
    g.meta += [
        ("n_heads", "2"), ("head0_name", "activity"), ("head0_kind", "classifier"), ("head0_value", "\(c)"),
        ("head0_class0", "walk"), ("head0_class1", "sit"), ("head0_class2", "stand"),
        ("head1_name", "speed"), ("head1_kind", "regressor"), ("head1_value", "\(r)"),
        ("head1_target", "walking_speed"), ("head1_unit", "m/s"),
    ]
    return g
}

private func describe(_ s: OpaquePointer) -> (relcon_status, relcon_session_desc) {
    var d = relcon_session_desc()
    d.struct_bytes = UInt32(MemoryLayout<relcon_session_desc>.stride)
    let st = relcon_session_info(s, &d)
    return (st, d)
}

@Suite struct SessionInfoTests {
    @Test func infoMatchesInspect() throws {
        for (graph, heads) in [(Graphs.resnet(), UInt32(0)), (twoHeadGraph(), 2)] {
            let bytes = BlobWriter.write(graph).bytes
            for maxSamples: UInt32 in [0, 100] {
                let ts = try TestSession(bytes, maxSamples: maxSamples)
                let (st, d) = describe(ts.session)
                #expect(st == relcon_status.RELCON_OK)
                #expect(d.struct_bytes == 64 && Int(d.struct_bytes) == MemoryLayout<relcon_session_desc>.stride)
                #expect(d.arena_bytes == ts.info.arena_bytes && d.blob_bytes == ts.info.blob_bytes)
                #expect(d.min_samples == ts.info.min_samples && d.window_samples == ts.info.window_samples)
                #expect(d.max_samples == (maxSamples == 0 ? ts.info.window_samples : maxSamples))
                #expect(d.input_channels == 3 && d.sample_rate_hz == ts.info.sample_rate_hz)
                #expect(d.embedding_dim == ts.info.embedding_dim && d.precision == ts.info.weight_dtype)
                #expect(d.n_heads == heads)
                // The level init chose: the CPU's, capped by RELCON_ISA, and its name.
                #expect(d.isa_level == ISA.detect().rawValue)
                let isa = try #require(ISA(rawValue: d.isa_level))
                #expect(String(cString: d.isa_name) == isa.name.description)
            }
        }
    }

    @Test func isaNamesAndLevels() {
        #expect(ISA.portable.rawValue == UInt32(RELCON_ISA_PORTABLE))
        #expect(ISA.v3.rawValue == UInt32(RELCON_ISA_X86_64_V3))
        #expect(ISA.v4.rawValue == UInt32(RELCON_ISA_X86_64_V4))
        // each name is the RELCON_ISA value that selects the level (relcon_kernels.h, rlck_isa_cap)
        #expect(ISA.allCases.map { $0.name.description } == ["portable", "v3", "v4"])
    }

    @Test func headsMatchBlobQueries() throws {
        let bytes = BlobWriter.write(twoHeadGraph()).bytes
        let ts = try TestSession(bytes, maxSamples: 64)
        for head: UInt32 in 0..<2 {
            var a = relcon_head_desc(), b = relcon_head_desc()
            #expect(relcon_session_head_info(ts.session, head, &a) == relcon_status.RELCON_OK)
            #expect(relcon_head_info(ts.blob.pointer, bytes.count, head, &b) == relcon_status.RELCON_OK)
            #expect(a.name == b.name && a.target == b.target && a.unit == b.unit)
            #expect(a.kind == b.kind && a.n_outputs == b.n_outputs)
        }
        var d = relcon_head_desc()
        #expect(relcon_session_head_info(ts.session, 1, &d) == relcon_status.RELCON_OK)
        #expect(String(cString: d.name) == "speed" && String(cString: d.target) == "walking_speed")
        #expect(String(cString: d.unit) == "m/s" && d.kind == UInt32(RELCON_HEAD_REGRESSOR) && d.n_outputs == 1)
        var names: [String] = []
        for k: UInt32 in 0..<3 {
            var p: UnsafePointer<CChar>? = nil
            #expect(relcon_session_head_class_name(ts.session, 0, k, &p) == relcon_status.RELCON_OK)
            names.append(String(cString: try #require(p)))
        }
        #expect(names == ["walk", "sit", "stand"])
        var p: UnsafePointer<CChar>? = nil
        #expect(relcon_session_head_class_name(ts.session, 0, 3, &p) == relcon_status.RELCON_E_INVALID_ARGUMENT)
        #expect(relcon_session_head_class_name(ts.session, 1, 0, &p) == relcon_status.RELCON_E_INVALID_ARGUMENT)
        #expect(relcon_session_head_class_name(ts.session, 2, 0, &p) == relcon_status.RELCON_E_NO_SUCH_HEAD)
        #expect(relcon_session_head_info(ts.session, 2, &d) == relcon_status.RELCON_E_NO_SUCH_HEAD)
        #expect(p == nil)
        // no heads: every head index is out of range
        let plain = try TestSession(BlobWriter.write(Graphs.resnet()).bytes, maxSamples: 64)
        #expect(relcon_session_head_info(plain.session, 0, &d) == relcon_status.RELCON_E_NO_SUCH_HEAD)
        #expect(relcon_session_head_class_name(plain.session, 0, 0, &p) == relcon_status.RELCON_E_NO_SUCH_HEAD)
    }

    @Test func badArguments() throws {
        let bytes = BlobWriter.write(twoHeadGraph()).bytes
        let ts = try TestSession(bytes, maxSamples: 64)
        var d = relcon_session_desc()
        d.struct_bytes = 64
        var h = relcon_head_desc()
        var p: UnsafePointer<CChar>? = nil
        #expect(relcon_session_info(nil, &d) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_session_info(ts.session, nil) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_session_head_info(nil, 0, &h) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_session_head_info(ts.session, 0, nil) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_session_head_class_name(nil, 0, 0, &p) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_session_head_class_name(ts.session, 0, 0, nil) == relcon_status.RELCON_E_NULL_ARGUMENT)
        // struct_bytes below the 0.5 layout: refused, nothing written
        for size: UInt32 in [0, 1, 63] {
            var small = relcon_session_desc()
            small.struct_bytes = size
            small.embedding_dim = 12345
            #expect(relcon_session_info(ts.session, &small) == relcon_status.RELCON_E_INVALID_ARGUMENT)
            #expect(small.struct_bytes == size && small.embedding_dim == 12345)
        }
        // not a session: zeroed memory, and a copy of the control block at another address
        let zero = AlignedBytes(zeroed: Int(ts.info.arena_bytes))
        let copy = AlignedBytes(zeroed: Int(ts.info.arena_bytes))
        copy.pointer.copyMemory(from: UnsafeRawPointer(ts.session), byteCount: Int(ts.info.arena_bytes))
        for bad in [zero.pointer, copy.pointer] {
            let s = OpaquePointer(bad)
            #expect(relcon_session_info(s, &d) == relcon_status.RELCON_E_SESSION_INVALID)
            #expect(relcon_session_head_info(s, 0, &h) == relcon_status.RELCON_E_SESSION_INVALID)
            #expect(relcon_session_head_class_name(s, 0, 0, &p) == relcon_status.RELCON_E_SESSION_INVALID)
        }
        #expect(p == nil)
    }

    /// relcon_status is declared open (enum_extensibility(open)): Swift accepts values the header does not list
    /// (a failable init that succeeds for any raw value; a closed enum would return nil), so a newer library's
    /// status reaches a Swift client intact, and relcon_status_string describes it.
    @Test func statusIsAnOpenEnum() throws {
        let future = try #require(relcon_status(rawValue: 99))
        #expect(future.rawValue == 99)
        #expect(String(cString: relcon_status_string(future)) == "unknown status")
        let known = try #require(relcon_status(rawValue: 51))
        #expect(known == .RELCON_E_NO_SUCH_HEAD)
        func describe(_ s: relcon_status) -> String {
            switch s {
            case .RELCON_OK: return "ok"
            default: return "error \(s.rawValue)"
            }
        }
        #expect(describe(future) == "error 99" && describe(.RELCON_OK) == "ok")
    }
}
