// Whole-model runs through the C API (the hosted twin exports the same relcon_* functions as
// librelcon.so): embeddings against the naive reference interpreter, the golden vectors written by PyTorch,
// the argument checks, the session's self-checks.

import CRelCon
import Foundation
import Testing
@testable import RelConRuntimeHosted

/// A blob, an arena and a session planned for `maxSamples`.
final class TestSession {
    let blob: AlignedBytes
    let info: relcon_model_info
    let arena: AlignedBytes
    let session: OpaquePointer

    init(_ bytes: [UInt8], maxSamples: UInt32) throws {
        blob = AlignedBytes(bytes)
        var info = relcon_model_info()
        try #require(relcon_inspect(blob.pointer, bytes.count, maxSamples, &info) == relcon_status.RELCON_OK)
        self.info = info
        arena = AlignedBytes(zeroed: Int(info.arena_bytes))
        var s: OpaquePointer? = nil
        try #require(relcon_session_init(blob.pointer, bytes.count, maxSamples, arena.pointer, arena.count, &s) == relcon_status.RELCON_OK)
        session = try #require(s)
    }

    func embed(_ samples: [Float], n: Int) -> (relcon_status, [Float]) {
        var out = [Float](repeating: 0, count: Int(info.embedding_dim))
        let st = relcon_embed(session, samples, UInt32(n), &out, UInt32(out.count))
        return (st, out)
    }
}

func maxRelativeError(_ got: [Float], _ want: [Float]) -> Double {
    let scale = want.map { abs(Double($0)) }.max() ?? 0
    let err = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return scale > 0 ? err / scale : err
}

@Suite struct SessionTests {
    @Test(arguments: [("resnet", Graphs.resnet()), ("assorted", Graphs.assorted()), ("longSkip", Graphs.longSkip())])
    func embeddingsMatchTheReference(_ named: (String, TestGraph)) throws {
        let g = named.1
        let t = try TestSession(BlobWriter.write(g).bytes, maxSamples: 300)
        var rng = SeededRandom(31)
        let minT = Int(t.info.min_samples)
        for n in [minT, minT + 1, 64, 255, 300] {
            let x = rng.floats(3 * n, -2, 2)
            let (st, got) = t.embed(x, n: n)
            #expect(st == relcon_status.RELCON_OK)
            let want = Reference.run(g, input: x, samples: n)
            #expect(maxRelativeError(got, want) <= 1e-5, "\(named.0) n=\(n)")
        }
    }

    @Test func inputContractIsApplied() throws {
        var g = Graphs.resnet()
        g.scale = [2, 0.5, -1]
        g.offset = [0.25, 0, -1]
        g.clip = 1.5
        let t = try TestSession(BlobWriter.write(g).bytes, maxSamples: 64)
        var rng = SeededRandom(32)
        let x = rng.floats(3 * 64, -3, 3)
        let scaled = x.enumerated().map { i, v in min(max(v * g.scale[i % 3] + g.offset[i % 3], -1.5), 1.5) }
        let (st, got) = t.embed(x, n: 64)
        #expect(st == relcon_status.RELCON_OK)
        #expect(maxRelativeError(got, Reference.run(g, input: scaled, samples: 64)) <= 1e-5)
        #expect(t.info.input_clip == 1.5 && t.info.input_scale.1 == 0.5 && t.info.input_offset.2 == -1)
    }

    /// A session planned for 300 samples gives bit-identical results to one planned for exactly n.
    @Test func shorterWindowsReuseThePlan() throws {
        let bytes = BlobWriter.write(Graphs.assorted()).bytes
        let big = try TestSession(bytes, maxSamples: 300)
        var rng = SeededRandom(33)
        let x = rng.floats(3 * 300)
        for n in [Int(big.info.min_samples), 20, 77, 299] {
            let exact = try TestSession(bytes, maxSamples: UInt32(n))
            #expect(exact.info.arena_bytes <= big.info.arena_bytes)
            #expect(big.embed(x, n: n).1 == exact.embed(x, n: n).1)
        }
    }

    @Test func windowAndBufferChecks() throws {
        let t = try TestSession(BlobWriter.write(Graphs.resnet()).bytes, maxSamples: 100)
        let x = [Float](repeating: 0.5, count: 3 * 101)
        var out = [Float](repeating: 7, count: 16)
        #expect(relcon_embed(t.session, x, 10, &out, 12) == relcon_status.RELCON_E_WINDOW_TOO_SHORT)
        #expect(relcon_embed(t.session, x, 0, &out, 12) == relcon_status.RELCON_E_WINDOW_TOO_SHORT)
        #expect(relcon_embed(t.session, x, 101, &out, 12) == relcon_status.RELCON_E_WINDOW_TOO_LONG)
        #expect(relcon_embed(t.session, x, 100, &out, 11) == relcon_status.RELCON_E_BUFFER_TOO_SMALL)
        #expect(relcon_embed(t.session, nil, 100, &out, 12) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_embed(t.session, x, 100, nil, 12) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_embed(nil, x, 100, &out, 12) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(out.allSatisfy { $0 == 7 })
        for bad in [Float.nan, .infinity, -.infinity] {
            var y = x
            y[3 * 100 - 1] = bad
            #expect(relcon_embed(t.session, y, 100, &out, 12) == relcon_status.RELCON_E_INPUT_NOT_FINITE)
        }
        #expect(out.allSatisfy { $0 == 7 })
        #expect(relcon_embed(t.session, x, 100, &out, 16) == relcon_status.RELCON_OK)
        #expect(out[12..<16].allSatisfy { $0 == 7 })
    }

    /// Any change to the control block, and pointers that are not sessions, give SESSION_INVALID.
    @Test func sessionSelfCheck() throws {
        let t = try TestSession(BlobWriter.write(Graphs.assorted()).bytes, maxSamples: 64)
        let x = [Float](repeating: 0.25, count: 3 * 64)
        var out = [Float](repeating: 0, count: Int(t.info.embedding_dim))
        #expect(relcon_embed(t.session, x, 64, &out, UInt32(out.count)) == relcon_status.RELCON_OK)
        let control = Int(ArenaPlanner.controlBytes(steps: 10))
        let used = 128 + 64 * 10 + 48 * 11
        let bytes = t.arena.pointer.assumingMemoryBound(to: UInt8.self)
        for i in stride(from: 0, to: used, by: 7) {
            bytes[i] ^= 0x40
            #expect(relcon_embed(t.session, x, 64, &out, UInt32(out.count)) == relcon_status.RELCON_E_SESSION_INVALID, "byte \(i)")
            bytes[i] ^= 0x40
        }
        // The buffers after the control block are scratch: overwriting them is harmless.
        memset(t.arena.pointer + control, 0xFF, t.arena.count - control)
        #expect(relcon_embed(t.session, x, 64, &out, UInt32(out.count)) == relcon_status.RELCON_OK)
        // Not sessions.
        let garbage = AlignedBytes([UInt8](repeating: 0x5A, count: 4096))
        #expect(relcon_embed(OpaquePointer(garbage.pointer), x, 64, &out, UInt32(out.count)) == relcon_status.RELCON_E_SESSION_INVALID)
        #expect(relcon_embed(OpaquePointer(t.arena.pointer + 64), x, 64, &out, UInt32(out.count)) == relcon_status.RELCON_E_SESSION_INVALID)
        #expect(relcon_embed(OpaquePointer(t.arena.pointer + 4), x, 64, &out, UInt32(out.count)) == relcon_status.RELCON_E_SESSION_INVALID)
        memset(t.arena.pointer, 0, control)
        #expect(relcon_embed(t.session, x, 64, &out, UInt32(out.count)) == relcon_status.RELCON_E_SESSION_INVALID)
    }

    @Test func initAndInspectArguments() throws {
        let bytes = BlobWriter.write(Graphs.resnet()).bytes
        let blob = AlignedBytes(bytes)
        var info = relcon_model_info()
        #expect(relcon_inspect(blob.pointer, bytes.count, 0, &info) == relcon_status.RELCON_OK)
        #expect(info.n_samples == 64 && info.window_samples == 64 && info.min_samples == 11)
        #expect(info.format_version == 1 && info.weight_dtype == UInt32(RELCON_DTYPE_F32) && info.units == 1)
        #expect(info.axis_order.0 == CChar(UInt8(ascii: "x")) && info.axis_order.3 == 0)
        #expect(info.blob_bytes == UInt64(bytes.count) && info.n_layers == 10 && info.reserved == 0)
        #expect(relcon_inspect(blob.pointer, bytes.count, 10, &info) == relcon_status.RELCON_E_WINDOW_TOO_SHORT)
        #expect(relcon_inspect(nil, bytes.count, 0, &info) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_inspect(blob.pointer, bytes.count, 0, nil) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_inspect(blob.pointer, -1, 0, &info) == relcon_status.RELCON_OK)            // SIZE_MAX: a big buffer
        #expect(relcon_inspect(blob.pointer, 100, 0, &info) == relcon_status.RELCON_E_BLOB_TOO_SMALL)

        #expect(relcon_inspect(blob.pointer, bytes.count, 64, &info) == relcon_status.RELCON_OK)
        let need = Int(info.arena_bytes)
        let arena = AlignedBytes(zeroed: need + 64)
        var s: OpaquePointer? = OpaquePointer(bitPattern: 1)
        #expect(relcon_session_init(blob.pointer, bytes.count, 64, arena.pointer, need - 1, &s) == relcon_status.RELCON_E_ARENA_TOO_SMALL)
        #expect(relcon_session_init(blob.pointer, bytes.count, 64, arena.pointer + 16, need, &s) == relcon_status.RELCON_E_ARENA_MISALIGNED)
        #expect(relcon_session_init(blob.pointer, bytes.count, 10, arena.pointer, need, &s) == relcon_status.RELCON_E_WINDOW_TOO_SHORT)
        #expect(relcon_session_init(blob.pointer, bytes.count, 1000, arena.pointer, need, &s) == relcon_status.RELCON_E_ARENA_TOO_SMALL)
        #expect(relcon_session_init(nil, bytes.count, 64, arena.pointer, need, &s) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_session_init(blob.pointer, bytes.count, 64, nil, need, &s) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_session_init(blob.pointer, bytes.count, 64, arena.pointer, need, nil) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(s == OpaquePointer(bitPattern: 1))
        #expect(relcon_session_init(blob.pointer, bytes.count, 0, arena.pointer, need, &s) == relcon_status.RELCON_OK)
        #expect(s == OpaquePointer(arena.pointer))
    }

    @Test func metadataLookup() throws {
        var g = Graphs.resnet()
        g.meta = [("model_name", "relcon-test"), ("empty", ""), ("unicode", "größe ✓")]
        let bytes = BlobWriter.write(g).bytes
        let blob = AlignedBytes(bytes)
        var value: UnsafePointer<CChar>? = nil
        #expect(relcon_meta(blob.pointer, bytes.count, "model_name", &value) == relcon_status.RELCON_OK)
        #expect(String(cString: value!) == "relcon-test")
        #expect(relcon_meta(blob.pointer, bytes.count, "empty", &value) == relcon_status.RELCON_OK)
        #expect(String(cString: value!) == "")
        #expect(relcon_meta(blob.pointer, bytes.count, "unicode", &value) == relcon_status.RELCON_OK)
        #expect(String(cString: value!) == "größe ✓")
        value = nil
        for key in ["model", "model_name_", "", String(repeating: "a", count: 200)] {
            #expect(relcon_meta(blob.pointer, bytes.count, key, &value) == relcon_status.RELCON_E_NOT_FOUND)
        }
        #expect(value == nil)
        #expect(relcon_meta(blob.pointer, bytes.count, nil, &value) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_meta(blob.pointer, bytes.count, "model_name", nil) == relcon_status.RELCON_E_NULL_ARGUMENT)
        #expect(relcon_meta(nil, bytes.count, "model_name", &value) == relcon_status.RELCON_E_NULL_ARGUMENT)
    }

    @Test func versionAndStatusStrings() {
        #expect(relcon_version() == UInt32(RELCON_VERSION_MAJOR * 10000 + RELCON_VERSION_MINOR * 100 + RELCON_VERSION_PATCH))
        #expect(String(cString: relcon_version_string()) == "\(RELCON_VERSION_MAJOR).\(RELCON_VERSION_MINOR).\(RELCON_VERSION_PATCH)")
        let all: [relcon_status] = [
            relcon_status.RELCON_OK, relcon_status.RELCON_E_NULL_ARGUMENT, relcon_status.RELCON_E_INVALID_ARGUMENT, relcon_status.RELCON_E_BUFFER_TOO_SMALL,
            relcon_status.RELCON_E_BLOB_TOO_SMALL, relcon_status.RELCON_E_BLOB_MAGIC, relcon_status.RELCON_E_BLOB_VERSION, relcon_status.RELCON_E_BLOB_CHECKSUM,
            relcon_status.RELCON_E_BLOB_BOUNDS, relcon_status.RELCON_E_BLOB_ALIGNMENT, relcon_status.RELCON_E_BLOB_TENSOR, relcon_status.RELCON_E_BLOB_GRAPH,
            relcon_status.RELCON_E_BLOB_CONTRACT, relcon_status.RELCON_E_BLOB_METADATA, relcon_status.RELCON_E_ARENA_TOO_SMALL, relcon_status.RELCON_E_ARENA_MISALIGNED,
            relcon_status.RELCON_E_SESSION_INVALID, relcon_status.RELCON_E_WINDOW_TOO_SHORT, relcon_status.RELCON_E_WINDOW_TOO_LONG, relcon_status.RELCON_E_INPUT_NOT_FINITE,
            relcon_status.RELCON_E_NOT_FOUND,
        ]
        let texts = all.map { String(cString: relcon_status_string($0)) }
        #expect(Set(texts).count == all.count)
        let unknown = String(cString: relcon_status_string(unsafeBitCast(UInt32(9999), to: relcon_status.self)))
        #expect(unknown == "unknown status" && !texts.contains(unknown))
        #expect(String(cString: relcon_status_string(unsafeBitCast(UInt32.max, to: relcon_status.self))) == unknown)
        // Every RelConError maps to its own status.
        let errors: [RelConError] = [.nullArgument, .invalidArgument, .bufferTooSmall, .blobTooSmall, .blobMagic,
                                     .blobVersion, .blobChecksum, .blobBounds, .blobAlignment, .blobTensor, .blobGraph,
                                     .blobContract, .blobMetadata, .arenaTooSmall, .arenaMisaligned, .sessionInvalid,
                                     .windowTooShort, .windowTooLong, .inputNotFinite, .notFound]
        #expect(Set(errors.map { unsafeBitCast($0.status, to: UInt32.self) }).count == errors.count)
        #expect(!errors.map(\.status).contains(relcon_status.RELCON_OK))
    }

    // MARK: golden vectors written by PyTorch (Tests/Fixtures/README.md)

    @Test(.enabled(if: Fixtures.hasTiny)) func tinyGolden() throws {
        let golden = try #require(Fixtures.bytes("tiny.golden"))
        func u32(_ o: Int) -> Int { Int(BlobWriter.getU32(golden, o)) }
        #expect(Array(golden[0..<4]) == Array("RCGD".utf8) && u32(4) == 1)
        let (windows, n, channels, dim) = (u32(8), u32(12), u32(16), u32(20))
        #expect(golden.count == 24 + 4 * (windows * n * channels + windows * dim))
        let floats: [Float] = stride(from: 24, to: golden.count, by: 4).map { Float(bitPattern: BlobWriter.getU32(golden, $0)) }
        let t = try TestSession(try #require(Fixtures.bytes("tiny.blob")), maxSamples: UInt32(n))
        #expect(Int(t.info.embedding_dim) == dim && channels == 3)
        #expect(t.info.arena_bytes == 25600)
        for w in 0..<windows {
            let x = Array(floats[(w * n * channels)..<((w + 1) * n * channels)])
            let base = windows * n * channels + w * dim
            let want = Array(floats[base..<(base + dim)])
            let (st, got) = t.embed(x, n: n)
            #expect(st == relcon_status.RELCON_OK)
            #expect(maxRelativeError(got, want) <= 1e-4, "window \(w)")
        }
    }
}
