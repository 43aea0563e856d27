// Structural fuzzing: blobs with random fields overwritten and a *valid* CRC (so the mutations reach the
// table, tensor, metadata, contract and graph checks), run through inspect, session_init and embed. The
// hosted twin is built with Swift's overflow and bounds checks, so any trap fails the run. Every call must
// return a status; whatever is accepted must also run.

import CRelCon
import Testing
@testable import RelConRuntimeHosted

@Suite struct FuzzTests {
    static let interesting: [UInt32] = [0, 1, 2, 3, 4, 7, 8, 63, 64, 65, 127, 128, 255, 256, 4095, 4096, 65535, 65536,
                                        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF]

    static func bases() -> [(String, [UInt8])] {
        var list = [("assorted", BlobWriter.write(Graphs.assorted()).bytes), ("resnet", BlobWriter.write(Graphs.resnet()).bytes)]
        if let tiny = Fixtures.bytes("tiny.blob") { list.append(("tiny.blob", tiny)) }
        return list
    }

    @Test(arguments: bases())
    func mutatedFieldsNeverTrap(_ named: (String, [UInt8])) {
        let base = named.1
        let structEnd = min(base.count, Int(BlobWriter.getU32(base, 44) + BlobWriter.getU32(base, 48)))   // meta end
        var rng = SeededRandom(0xF022 &+ UInt64(base.count))
        var accepted = 0, ran = 0
        for round in 0..<400 {
            var b = base
            for _ in 0..<rng.int(1...3) {
                let offset = 4 * rng.int(1...(structEnd / 4 - 1))
                let value: UInt32
                switch rng.int(0...3) {
                case 0: value = Self.interesting[rng.int(0...(Self.interesting.count - 1))]
                case 1: value = BlobWriter.getU32(b, offset) &+ UInt32(bitPattern: Int32(rng.int(-3...3)))
                case 2: value = UInt32(truncatingIfNeeded: rng.next())
                default: value = Float(rng.float(-2, 300)).bitPattern
                }
                BlobWriter.putU32(&b, offset, value)
            }
            if round % 5 == 0 {                           // sometimes also damage tensor data or truncate
                b[rng.int(structEnd...(b.count - 1))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            }
            BlobWriter.fixCRC(&b)
            let count = round % 7 == 0 ? rng.int(0...b.count) : b.count
            let blob = AlignedBytes(b)
            var info = relcon_model_info()
            guard relcon_inspect(blob.pointer, count, 0, &info) == .RELCON_OK else { continue }
            accepted += 1
            let window = min(info.window_samples, 96)
            guard window >= info.min_samples,
                  relcon_inspect(blob.pointer, count, window, &info) == .RELCON_OK,
                  info.arena_bytes <= 64 << 20
            else { continue }
            let arena = AlignedBytes(zeroed: Int(info.arena_bytes))
            var session: OpaquePointer? = nil
            guard relcon_session_init(blob.pointer, count, window, arena.pointer, arena.count, &session) == .RELCON_OK,
                  let session
            else { Issue.record("inspect accepted a blob that session_init refused"); continue }
            var out = [Float](repeating: 0, count: Int(info.embedding_dim))
            let x = rng.floats(3 * Int(window))
            for n in [info.min_samples, window] {
                _ = relcon_embed(session, x, n, &out, UInt32(out.count))
                ran += 1
            }
        }
        // Most mutations are caught, some (values in unused tensor data, a field set to what it was) are not.
        #expect(accepted < 400)
        print("fuzz \(named.0): \(accepted) of 400 mutated blobs accepted, \(ran) embeds ran")
    }
}
