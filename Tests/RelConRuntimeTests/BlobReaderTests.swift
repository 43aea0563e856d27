// The blob reader: valid blobs load; every defect class of docs/blob-format.md ("Validation order and
// status codes") gives its own error, for blobs written here and for Tests/Fixtures/bad/*.blob.

import CRelConKernels
import Foundation
import Testing
@testable import RelConRuntimeHosted

@Suite struct CRC32Tests {
    @Test func knownVectors() {
        let check = Array("123456789".utf8)
        let crc = check.withUnsafeBytes { CRC32.checksum($0.baseAddress!, count: 9, zeroedOffset: nil) }
        #expect(crc == 0xCBF4_3926)
        #expect(referenceCRC32(check) == 0xCBF4_3926)
        var rng = SeededRandom(9)
        // Every length mod 4 (the 4-byte steps and the byte tail), from unaligned starts, and the zeroed field at
        // aligned and unaligned offsets, first and last.
        for n in [0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18, 19, 100, 1000, 1001, 1002, 1003, 3077] {
            let bytes = (0..<n + 3).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for start in 0..<(n >= 16 ? 3 : 1) {
                var slice = Array(bytes[start..<start + n])
                let fast = bytes.withUnsafeBytes {
                    CRC32.checksum(($0.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!) + start, count: n, zeroedOffset: nil)
                }
                #expect(fast == referenceCRC32(slice), "n \(n) start \(start)")
                for z in [0, 8, 12, 13, n - 4] where n >= 16 && z <= n - 4 {
                    let zeroed = bytes.withUnsafeBytes { CRC32.checksum($0.baseAddress! + start, count: n, zeroedOffset: z) }
                    let keep = slice
                    for k in z..<z + 4 { slice[k] = 0 }
                    #expect(zeroed == referenceCRC32(slice), "n \(n) start \(start) zeroed at \(z)")
                    slice = keep
                }
            }
        }
    }

    /// The slicing-by-4 tables (constant data in Sources/CRelConKernels/crc32_table.c) against the polynomial:
    /// row 0 bit by bit, rows 1–3 by their recurrence.
    @Test func tableMatchesThePolynomial() {
        withUnsafeBytes(of: rlck_crc32_table) { raw in
            let t = raw.bindMemory(to: UInt32.self)
            #expect(t.count == 4 * 256)
            for n in 0..<256 {
                var c = UInt32(n)
                for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
                #expect(t[n] == c, "row 0, byte \(n)")
                for k in 1..<4 {
                    let prev = t[256 * (k - 1) + n]
                    #expect(t[256 * k + n] == (prev >> 8) ^ t[Int(prev & 0xFF)], "row \(k), byte \(n)")
                }
            }
        }
    }
}

@Suite struct BlobReaderTests {
    static let good = BlobWriter.write(Graphs.resnet())

    @Test func validBlobsLoad() throws {
        for g in [Graphs.resnet(), Graphs.assorted(), Graphs.longSkip()] {
            let blob = try LoadedBlob(BlobWriter.write(g).bytes)
            #expect(blob.model.nLayers == UInt32(g.layers.count))
            #expect(blob.model.nTensors == UInt32(g.tensors.count))
            #expect(blob.model.nParameters == UInt64(g.tensors.reduce(0) { $0 + $1.values.count }))
            #expect(blob.model.embeddingDim == g.embeddingDim)
        }
        // RelCon-like stem: L1 = ⌊(T−7)/2⌋+1, L2 = ⌊(L1−3)/2⌋+1 >= 1  ⟺  T >= 11.
        #expect(try LoadedBlob(Self.good.bytes).model.minSamples == 11)
    }

    /// Applies `edit` to the good blob, optionally re-computes the CRC, and returns the reader's error.
    @Test func resnetLayout() {
        // The indices graphDefects relies on.
        let g = Graphs.resnet()
        #expect(g.layers.map(\.op) == [1, 3, 2, 1, 1, 2, 1, 1, 1, 5])
        #expect(g.outputValue == 10)
    }

    func defect(fixCRC: Bool = true, _ edit: (inout [UInt8], BlobLayout) -> Void) -> RelConError? {
        var b = Self.good.bytes
        edit(&b, Self.good.layout)
        if fixCRC { BlobWriter.fixCRC(&b) }
        return readerError(b)
    }

    func put(_ b: inout [UInt8], _ o: Int, _ v: UInt32) { BlobWriter.putU32(&b, o, v) }

    @Test func headerDefects() {
        let b = Self.good.bytes
        #expect(readerError(b, shift: 4) == .blobAlignment)
        #expect(readerError(b, shift: 8) == .blobAlignment)
        #expect(readerError(b, count: 127) == .blobTooSmall)
        #expect(readerError(b, count: 0) == .blobTooSmall)
        #expect(readerError(b, count: b.count - 1) == .blobTooSmall)
        #expect(readerError(b + [0xFF, 0xFF]) == nil)        // a larger buffer is fine
        #expect(defect { b, _ in b[0] = UInt8(ascii: "X") } == .blobMagic)
        #expect(defect { b, _ in put(&b, 4, 2) } == .blobVersion)
        #expect(defect { b, _ in put(&b, 8, 64) } == .blobVersion)
        #expect(defect { b, _ in put(&b, 16, 100) } == .blobBounds)
        #expect(defect(fixCRC: false) { b, _ in b[b.count - 1] ^= 1 } == .blobChecksum)
        #expect(defect(fixCRC: false) { b, _ in b[13] ^= 0x10 } == .blobChecksum)
        #expect(defect { b, _ in put(&b, 20, 1) } == .blobVersion)           // flags
        #expect(defect { b, _ in put(&b, 52, 1) } == .blobVersion)           // reserved
        #expect(defect { b, _ in b[127] = 1 } == .blobVersion)               // reserved tail
    }

    @Test func tableDefects() {
        #expect(defect { b, _ in put(&b, 24, 0) } == .blobTensor)            // n_tensors
        #expect(defect { b, _ in put(&b, 24, 70000) } == .blobTensor)
        #expect(defect { b, _ in put(&b, 32, 0) } == .blobGraph)             // n_layers
        #expect(defect { b, _ in put(&b, 32, 5000) } == .blobGraph)
        #expect(defect { b, l in put(&b, 28, UInt32(l.tensorTable + 2)) } == .blobAlignment)
        #expect(defect { b, l in put(&b, 36, UInt32(l.layerTable + 1)) } == .blobAlignment)
        #expect(defect { b, _ in put(&b, 28, 64) } == .blobBounds)           // inside the header
        #expect(defect { b, l in put(&b, 36, UInt32(l.total - 4)) } == .blobBounds)
        #expect(defect { b, l in put(&b, 36, UInt32(l.tensorTable)) } == .blobBounds)   // overlaps
        #expect(defect { b, l in put(&b, 44, UInt32(l.layerTable)) } == .blobBounds)    // meta overlaps
        #expect(defect { b, l in put(&b, 48, UInt32(l.total)) } == .blobBounds)
    }

    @Test func tensorDefects() {
        let r = Self.good.layout.tensorTable      // tensor 0: the stem weight [8][7][3]
        #expect(defect { b, _ in put(&b, r, 2) } == .blobTensor)             // f16
        #expect(defect { b, _ in put(&b, r, 0) } == .blobTensor)
        #expect(defect { b, _ in put(&b, r + 4, 0) } == .blobTensor)         // rank
        #expect(defect { b, _ in put(&b, r + 4, 4) } == .blobTensor)
        #expect(defect { b, _ in put(&b, r + 4, 2) } == .blobTensor)         // dims[2] must then be 0
        #expect(defect { b, _ in put(&b, r + 8, 0) } == .blobTensor)         // a zero dim
        #expect(defect { b, _ in put(&b, r + 24, 100) } == .blobTensor)      // data_bytes
        #expect(defect { b, _ in put(&b, r + 28, 1) } == .blobTensor)        // reserved
        #expect(defect { b, _ in put(&b, r + 8, 0x4000_0000); put(&b, r + 12, 0x4000_0000) } == .blobTensor)   // overflow
        #expect(defect { b, l in put(&b, r + 20, UInt32(l.dataOffsets[0] + 16)) } == .blobAlignment)
        #expect(defect { b, l in put(&b, r + 20, UInt32(l.dataOffsets[0] - 64)) } == .blobBounds)  // before meta end
        #expect(defect { b, l in put(&b, r + 32 + 20, UInt32(l.dataOffsets[0])) } == .blobBounds) // overlap
        #expect(defect { b, l in
            let last = l.dataOffsets.count - 1
            put(&b, r + 32 * last + 20, UInt32((l.total + 63) / 64 * 64))
        } == .blobBounds)
        #expect(defect { b, l in b[l.dataOffsets[1] - 1] = 7 } == .blobTensor)              // padding
        #expect(defect { b, l in b[l.meta + l.metaBytes] = 7 } == .blobTensor)              // padding after meta
        #expect(defect { b, l in put(&b, l.dataOffsets[0] + 8, Float.nan.bitPattern) } == .blobTensor)
        #expect(defect { b, l in put(&b, l.dataOffsets[2], Float.infinity.bitPattern) } == .blobTensor)
    }

    @Test func metadataDefects() {
        func withMeta(_ meta: [UInt8]) -> RelConError? {
            readerError(BlobWriter.write(Graphs.resnet(), meta: meta).bytes)
        }
        #expect(withMeta([]) == nil)
        #expect(withMeta(Array("a\0\0".utf8)) == nil)                        // empty value
        #expect(withMeta(Array("k\0v".utf8)) == .blobMetadata)               // value without NUL
        #expect(withMeta(Array("k\0".utf8)) == .blobMetadata)                // key without value
        #expect(withMeta(Array("\0v\0".utf8)) == .blobMetadata)              // empty key
        #expect(withMeta(Array("Key\0v\0".utf8)) == .blobMetadata)           // upper case
        #expect(withMeta(Array("a-b\0v\0".utf8)) == .blobMetadata)
        #expect(withMeta(Array((String(repeating: "k", count: 64) + "\0v\0").utf8)) == .blobMetadata)
        #expect(withMeta(Array((String(repeating: "k", count: 63) + "\0v\0").utf8)) == nil)
        #expect(withMeta(Array("a\0x\0b\0y\0a\0z\0".utf8)) == .blobMetadata) // duplicate
        #expect(withMeta(Array("a\0".utf8) + [0xC3, 0x28, 0]) == .blobMetadata)   // bad UTF-8
        #expect(withMeta(Array("a\0".utf8) + [0xED, 0xA0, 0x80, 0]) == .blobMetadata)   // surrogate
        #expect(withMeta(Array("a\0".utf8) + [0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0]) == nil)
        let many = (0..<1025).flatMap { Array("k\($0)\0v\0".utf8) }
        #expect(withMeta(many) == .blobMetadata)
        #expect(withMeta(Array((0..<1024).flatMap { Array("k\($0)\0v\0".utf8) })) == nil)
    }

    @Test func contractDefects() {
        var g = Graphs.resnet()
        func check(_ edit: (inout TestGraph) -> Void) -> RelConError? {
            var h = g
            edit(&h)
            return readerError(BlobWriter.write(h).bytes)
        }
        #expect(check { $0.sampleRate = 0 } == .blobContract)
        #expect(check { $0.sampleRate = .nan } == .blobContract)
        #expect(check { $0.sampleRate = -100 } == .blobContract)
        #expect(check { $0.windowSamples = 0 } == .blobContract)
        #expect(check { $0.windowSamples = 10 } == .blobContract)    // below min_samples 11
        #expect(check { $0.windowSamples = 11 } == nil)
        #expect(check { $0.axisOrder = Array("xxz".utf8) + [0] } == .blobContract)
        #expect(check { $0.axisOrder = Array("xyzw".utf8) } == .blobContract)
        #expect(check { $0.axisOrder = Array("zxy".utf8) + [0] } == nil)
        #expect(check { $0.scale = [1, 0, 1] } == .blobContract)
        #expect(check { $0.scale = [1, .infinity, 1] } == .blobContract)
        #expect(check { $0.offset = [.nan, 0, 0] } == .blobContract)
        #expect(check { $0.clip = -1 } == .blobContract)
        #expect(check { $0.clip = .infinity } == .blobContract)
        #expect(check { $0.clip = 4; $0.scale = [9.81, 9.81, 9.81]; $0.offset = [0, 0, -9.81] } == nil)
        g.meta = []
        #expect(check { _ in } == nil)
        // input_channels and units live at fixed offsets
        var b = BlobWriter.write(Graphs.resnet()).bytes
        BlobWriter.putU32(&b, 64, 6); BlobWriter.fixCRC(&b)
        #expect(readerError(b) == .blobContract)
        b = BlobWriter.write(Graphs.resnet()).bytes
        BlobWriter.putU32(&b, 68, 2); BlobWriter.fixCRC(&b)
        #expect(readerError(b) == .blobContract)
    }

    @Test func graphDefects() {
        func check(_ base: TestGraph = Graphs.resnet(), _ edit: (inout TestGraph) -> Void) -> RelConError? {
            var g = base
            edit(&g)
            return readerError(BlobWriter.write(g).bytes)
        }
        #expect(check { $0.layers[0].op = 9 } == .blobGraph)
        #expect(check { $0.layers[0].op = 0 } == .blobGraph)
        #expect(check { $0.layers[2].in0 = 3 } == .blobGraph)                 // forward reference
        #expect(check { $0.layers[2].in0 = NONE } == .blobGraph)
        #expect(check { $0.layers[3].in1 = 7 } == .blobGraph)
        #expect(check { $0.layers[0].act = 2 } == .blobGraph)
        #expect(check { $0.layers[0].t0 = 99 } == .blobGraph)                 // tensor index
        #expect(check { $0.layers[0].t0 = NONE } == .blobGraph)               // conv needs weights
        #expect(check { $0.layers[0].t0 = 1 } == .blobGraph)                  // wrong shape
        #expect(check { $0.layers[0].kernel = 6 } == .blobGraph)              // disagrees with weights
        #expect(check { $0.layers[0].stride = 0 } == .blobGraph)
        #expect(check { $0.layers[0].dilation = 0 } == .blobGraph)
        #expect(check { $0.layers[0].outChannels = 0 } == .blobGraph)
        #expect(check { $0.layers[1].dilation = 2 } == .blobGraph)            // maxpool dilation
        #expect(check { $0.layers[1].padLeft = 3 } == .blobGraph)             // maxpool pad >= kernel
        #expect(check { $0.layers[1].padRight = 2; $0.layers[1].padLeft = 2 } == nil)
        #expect(check { $0.layers[1].act = 1 } == .blobGraph)                 // maxpool act
        #expect(check { $0.layers[1].t0 = 0 } == .blobGraph)                  // unused field
        #expect(check { $0.layers[2].kernel = 1 } == .blobGraph)              // affine: unused
        #expect(check { $0.layers[2].in1 = 1 } == .blobGraph)
        #expect(check { $0.layers[2].outChannels = 9 } == .blobGraph)
        #expect(check { $0.layers[4].padRight = 2 } == .blobGraph)            // residual length differs
        #expect(check { $0.layers[4].in1 = 1 } == .blobGraph)                 // residual from before maxpool
        #expect(check { $0.layers[9].act = 1 } == .blobGraph)                 // mean act
        #expect(check { $0.outputValue = 0 } == .blobGraph)
        #expect(check { $0.outputValue = 12 } == .blobGraph)
        #expect(check { $0.outputValue = 9 } == .blobGraph)                   // not length 1
        #expect(check { $0.embeddingDim = 13 } == .blobGraph)
        // ADD: channels and lengths must agree; LINEAR needs length 1; RELU act 0.
        #expect(check(Graphs.assorted()) { $0.layers[3].in1 = 2 } == nil)            // relu keeps the length
        #expect(check(Graphs.assorted()) { $0.layers[3].in1 = 0 } == .blobGraph)     // 3 channels, not 5
        #expect(check(Graphs.longSkip()) { $0.layers[1].padRight = 2 } == .blobGraph)   // ADD lengths differ
        #expect(check(Graphs.longSkip()) { $0.layers[1].padRight = 2; $0.layers[2].padLeft = 0 } == nil)
        #expect(check(Graphs.assorted()) { $0.layers[8].in0 = 7 } == .blobGraph)     // linear on [L][C]
        #expect(check(Graphs.assorted()) { $0.layers[1].act = 1 } == .blobGraph)     // relu act
        #expect(check(Graphs.assorted()) { $0.layers[3].in1 = NONE } == .blobGraph)  // add needs in1
        // Reserved layer fields.
        var b = BlobWriter.write(Graphs.resnet()).bytes
        BlobWriter.putU32(&b, Self.good.layout.layerTable + 64 * 3 + 56, 1)
        BlobWriter.fixCRC(&b)
        #expect(readerError(b) == .blobGraph)
        // out must be i + 1.
        b = BlobWriter.write(Graphs.resnet()).bytes
        BlobWriter.putU32(&b, Self.good.layout.layerTable + 64 * 3 + 12, 5)
        BlobWriter.fixCRC(&b)
        #expect(readerError(b) == .blobGraph)
    }

    /// A conv on a constant length that cannot produce output, and more live values than the reader keeps.
    @Test func graphLimits() {
        var rng = SeededRandom(4)
        var g = Graphs.resnet()
        let m = UInt32(g.layers.count)
        _ = g.conv(m, cout: 2, k: 3, rng: &rng)                     // [1][12] -> needs 3 samples: never
        #expect(readerError(BlobWriter.write(g).bytes) == .blobGraph)

        var wide = TestGraph()
        _ = wide.tensor(TestTensor([1], [0]))                         // a blob holds at least one tensor
        var outs: [UInt32] = []
        for _ in 0..<LiveSet.capacity { outs.append(wide.relu(0)) }     // 24 values alive together with value 0
        var acc = outs[0]
        for v in outs.dropFirst() { acc = wide.addValues(acc, v) }
        wide.output(wide.mean(acc))
        #expect(readerError(BlobWriter.write(wide).bytes) == .blobGraph)
        var narrow = TestGraph()
        _ = narrow.tensor(TestTensor([1], [0]))
        outs = []
        for _ in 0..<(LiveSet.capacity - 3) { outs.append(narrow.relu(0)) }
        acc = outs[0]
        for v in outs.dropFirst() { acc = narrow.addValues(acc, v) }
        narrow.output(narrow.mean(acc))
        #expect(readerError(BlobWriter.write(narrow).bytes) == nil)
    }

    /// Every single-byte change of a (small) blob is rejected.
    @Test func everyByteMatters() {
        let b = BlobWriter.write(Graphs.assorted()).bytes
        for i in 0..<b.count {
            var c = b
            c[i] ^= 0x5A
            #expect(readerError(c) != nil, "byte \(i)")
        }
    }

    // MARK: fixtures written by the Python exporter

    static var badFixtures: [String] {
        let dir = Fixtures.directory.appendingPathComponent("bad")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".blob") }.sorted()
    }

    static let statusNames: [String: RelConError] = [
        "RELCON_E_BLOB_TOO_SMALL": .blobTooSmall, "RELCON_E_BLOB_MAGIC": .blobMagic,
        "RELCON_E_BLOB_VERSION": .blobVersion, "RELCON_E_BLOB_CHECKSUM": .blobChecksum,
        "RELCON_E_BLOB_BOUNDS": .blobBounds, "RELCON_E_BLOB_ALIGNMENT": .blobAlignment,
        "RELCON_E_BLOB_TENSOR": .blobTensor, "RELCON_E_BLOB_GRAPH": .blobGraph,
        "RELCON_E_BLOB_CONTRACT": .blobContract, "RELCON_E_BLOB_METADATA": .blobMetadata,
    ]

    @Test(.enabled(if: !badFixtures.isEmpty), arguments: badFixtures)
    func badFixture(_ name: String) throws {
        let status = name.components(separatedBy: "__")[0]
        let want = try #require(Self.statusNames[status], "\(name): unknown status \(status)")
        let bytes = try #require(Fixtures.bytes("bad/" + name))
        #expect(readerError(bytes) == want, "\(name)")
    }

    @Test(.enabled(if: Fixtures.hasTiny)) func tinyFixtureLoads() throws {
        let blob = try LoadedBlob(try #require(Fixtures.bytes("tiny.blob")))
        #expect(blob.model.minSamples == 11)
        #expect(blob.model.contract.windowSamples == 256)
        #expect(blob.model.nParameters == 9104)
        #expect(blob.model.embeddingDim == 32)
    }
}
