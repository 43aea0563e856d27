// Test helpers: a blob writer that follows docs/blob-format.md (independent of the runtime's reader), a
// naive reference interpreter in Double, a seeded random generator, aligned buffers and fixture paths.
// Test code only: it may allocate freely.

import Foundation
@testable import RelConRuntimeHosted

let NONE: UInt32 = 0xFFFF_FFFF

/// SplitMix64: a small deterministic generator, so every test run sees the same data.
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func floats(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in float(lo, hi) } }
}

/// `count` bytes at a 64-byte-aligned address (plus `shift` bytes, to test misalignment).
final class AlignedBytes {
    let raw: UnsafeMutableRawPointer
    let count: Int
    let shift: Int
    init(_ bytes: [UInt8], shift: Int = 0) {
        count = bytes.count
        self.shift = shift
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(count + shift, 1), alignment: 64)
        bytes.withUnsafeBytes { (raw + shift).copyMemory(from: $0.baseAddress!, byteCount: count) }
    }
    init(zeroed count: Int) {
        self.count = count
        shift = 0
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
    }
    var pointer: UnsafeMutableRawPointer { raw + shift }
    deinit { raw.deallocate() }
}

/// Bitwise CRC-32 (zlib), written independently of the runtime's table-driven one.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

// MARK: - Graph description and blob writer

struct TestTensor {
    var dims: [Int]
    var values: [Float]
    init(_ dims: [Int], _ values: [Float]) { self.dims = dims; self.values = values }
    init(_ dims: [Int], random rng: inout SeededRandom, scale: Float = 0.5) {
        self.dims = dims
        values = rng.floats(dims.reduce(1, *), -scale, scale)
    }
}

struct TestLayer {
    var op: UInt32
    var in0: UInt32
    var in1: UInt32 = NONE
    var t0: UInt32 = NONE
    var t1: UInt32 = NONE
    var kernel: UInt32 = 0, stride: UInt32 = 0, dilation: UInt32 = 0
    var padLeft: UInt32 = 0, padRight: UInt32 = 0
    var act: UInt32 = 0
    var outChannels: UInt32
}

struct TestGraph {
    var tensors: [TestTensor] = []
    var layers: [TestLayer] = []
    var outputValue: UInt32 = 0
    var embeddingDim: UInt32 = 0
    var sampleRate: Float = 100
    var windowSamples: UInt32 = 64
    var axisOrder: [UInt8] = Array("xyz".utf8) + [0]
    var scale: [Float] = [1, 1, 1]
    var offset: [Float] = [0, 0, 0]
    var clip: Float = 0
    var meta: [(String, String)] = [("model_name", "test"), ("source_commit", "0000000")]

    /// Channels of every value (value 0 = input).
    var channels: [Int] { [3] + layers.map { Int($0.outChannels) } }

    mutating func tensor(_ t: TestTensor) -> UInt32 {
        tensors.append(t)
        return UInt32(tensors.count - 1)
    }

    /// Appends a layer; returns the value it writes.
    @discardableResult
    mutating func add(_ l: TestLayer) -> UInt32 {
        layers.append(l)
        return UInt32(layers.count)
    }

    mutating func conv(_ input: UInt32, cout: Int, k: Int, stride: Int = 1, dilation: Int = 1, pads: (Int, Int) = (0, 0),
                       relu: Bool = false, bias: Bool = true, residual: UInt32 = NONE, rng: inout SeededRandom) -> UInt32 {
        let cin = channels[Int(input)]
        let w = tensor(TestTensor([cout, k, cin], random: &rng, scale: 1 / Float(k * cin).squareRoot()))
        let b = bias ? tensor(TestTensor([cout], random: &rng, scale: 0.1)) : NONE
        return add(TestLayer(op: 1, in0: input, in1: residual, t0: w, t1: b, kernel: UInt32(k), stride: UInt32(stride),
                             dilation: UInt32(dilation), padLeft: UInt32(pads.0), padRight: UInt32(pads.1),
                             act: relu ? 1 : 0, outChannels: UInt32(cout)))
    }
    mutating func affine(_ input: UInt32, relu: Bool = true, rng: inout SeededRandom) -> UInt32 {
        let c = channels[Int(input)]
        let s = tensor(TestTensor([c], rng.floats(c, 0.5, 1.5)))
        let h = tensor(TestTensor([c], rng.floats(c, -0.2, 0.2)))
        return add(TestLayer(op: 2, in0: input, t0: s, t1: h, act: relu ? 1 : 0, outChannels: UInt32(c)))
    }
    mutating func maxpool(_ input: UInt32, k: Int, stride: Int, pads: (Int, Int) = (0, 0)) -> UInt32 {
        add(TestLayer(op: 3, in0: input, kernel: UInt32(k), stride: UInt32(stride), dilation: 1,
                      padLeft: UInt32(pads.0), padRight: UInt32(pads.1), outChannels: UInt32(channels[Int(input)])))
    }
    mutating func addValues(_ a: UInt32, _ b: UInt32, relu: Bool = false) -> UInt32 {
        add(TestLayer(op: 4, in0: a, in1: b, act: relu ? 1 : 0, outChannels: UInt32(channels[Int(a)])))
    }
    mutating func mean(_ input: UInt32) -> UInt32 {
        add(TestLayer(op: 5, in0: input, outChannels: UInt32(channels[Int(input)])))
    }
    mutating func linear(_ input: UInt32, cout: Int, relu: Bool = false, bias: Bool = true, rng: inout SeededRandom) -> UInt32 {
        let cin = channels[Int(input)]
        let w = tensor(TestTensor([cout, cin], random: &rng, scale: 1 / Float(cin).squareRoot()))
        let b = bias ? tensor(TestTensor([cout], random: &rng, scale: 0.1)) : NONE
        return add(TestLayer(op: 6, in0: input, t0: w, t1: b, act: relu ? 1 : 0, outChannels: UInt32(cout)))
    }
    mutating func relu(_ input: UInt32) -> UInt32 {
        add(TestLayer(op: 7, in0: input, outChannels: UInt32(channels[Int(input)])))
    }
    mutating func output(_ v: UInt32) {
        outputValue = v
        embeddingDim = UInt32(channels[Int(v)])
    }
}

/// Byte positions inside a blob written by `BlobWriter`, for defect tests.
struct BlobLayout {
    var tensorTable = 0, layerTable = 0, meta = 0, metaBytes = 0
    var dataOffsets: [Int] = []
    var total = 0
}

enum BlobWriter {
    static func align(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }

    static func metadata(_ pairs: [(String, String)]) -> [UInt8] {
        pairs.flatMap { Array($0.0.utf8) + [0] + Array($0.1.utf8) + [0] }
    }

    /// Writes `g` as a version-1 blob: header, tensor table, layer table, metadata, zero pad, tensor data.
    static func write(_ g: TestGraph, meta rawMeta: [UInt8]? = nil) -> (bytes: [UInt8], layout: BlobLayout) {
        let meta = rawMeta ?? metadata(g.meta)
        var layout = BlobLayout()
        layout.tensorTable = 128
        layout.layerTable = layout.tensorTable + 32 * g.tensors.count
        layout.meta = layout.layerTable + 64 * g.layers.count
        layout.metaBytes = meta.count
        var pos = align(layout.meta + meta.count, 64)
        for t in g.tensors {
            layout.dataOffsets.append(pos)
            pos = align(pos + 4 * t.values.count, 64)
        }
        layout.total = g.tensors.isEmpty ? align(layout.meta + meta.count, 64)
            : layout.dataOffsets.last! + 4 * g.tensors.last!.values.count
        var b = [UInt8](repeating: 0, count: layout.total)

        putBytes(&b, 0, Array("RLCN".utf8))
        let header: [(Int, UInt32)] = [
            (4, 1), (8, 128), (16, UInt32(layout.total)), (24, UInt32(g.tensors.count)),
            (28, UInt32(layout.tensorTable)), (32, UInt32(g.layers.count)), (36, UInt32(layout.layerTable)),
            (40, g.outputValue), (44, UInt32(layout.meta)), (48, UInt32(meta.count)),
            (56, g.sampleRate.bitPattern), (60, g.windowSamples), (64, 3), (68, 1),
            (76, g.scale[0].bitPattern), (80, g.scale[1].bitPattern), (84, g.scale[2].bitPattern),
            (88, g.offset[0].bitPattern), (92, g.offset[1].bitPattern), (96, g.offset[2].bitPattern),
            (100, g.clip.bitPattern), (104, g.embeddingDim),
        ]
        for (o, v) in header { putU32(&b, o, v) }
        putBytes(&b, 72, g.axisOrder)
        for (i, t) in g.tensors.enumerated() {
            let r = layout.tensorTable + 32 * i
            let dims = t.dims + [Int](repeating: 0, count: 3 - t.dims.count)
            for (j, v) in ([1, t.dims.count] + dims + [layout.dataOffsets[i], 4 * t.values.count, 0]).enumerated() {
                putU32(&b, r + 4 * j, UInt32(v))
            }
            for (j, v) in t.values.enumerated() { putU32(&b, layout.dataOffsets[i] + 4 * j, v.bitPattern) }
        }
        for (i, l) in g.layers.enumerated() {
            let fields: [UInt32] = [l.op, l.in0, l.in1, UInt32(i + 1), l.t0, l.t1, l.kernel, l.stride, l.dilation,
                                    l.padLeft, l.padRight, l.act, l.outChannels, 0, 0, 0]
            for (j, v) in fields.enumerated() { putU32(&b, layout.layerTable + 64 * i + 4 * j, v) }
        }
        putBytes(&b, layout.meta, meta)
        fixCRC(&b)
        return (b, layout)
    }

    static func putU32(_ b: inout [UInt8], _ o: Int, _ v: UInt32) {
        for k in 0..<4 { b[o + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }
    static func getU32(_ b: [UInt8], _ o: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) }
    }
    static func putBytes(_ b: inout [UInt8], _ o: Int, _ v: [UInt8]) {
        for (k, x) in v.enumerated() { b[o + k] = x }
    }

    /// Recomputes the CRC over total_bytes bytes with bytes 12-15 as zero.
    static func fixCRC(_ b: inout [UInt8]) {
        let total = min(Int(getU32(b, 16)), b.count)
        guard total >= 16 else { return }          // the reader rejects it before looking at the CRC
        var copy = Array(b[0..<total])
        for k in 12..<16 { copy[k] = 0 }
        putU32(&b, 12, referenceCRC32(copy))
    }
}

// MARK: - Models made of the layers above

enum Graphs {
    /// A small pre-activation ResNet shaped like RelCon's encoder: stem conv k7 s2 + ReLU, maxpool k3 s2,
    /// an identity block (k3, pads 1/1), a projection block (k4, pads 1/2), mean.
    static func resnet(seed: UInt64 = 1) -> TestGraph {
        var rng = SeededRandom(seed)
        var g = TestGraph()
        var x = g.conv(0, cout: 8, k: 7, stride: 2, relu: true, rng: &rng)
        x = g.maxpool(x, k: 3, stride: 2)
        // identity block
        var a = g.affine(x, rng: &rng)
        var h = g.conv(a, cout: 8, k: 3, pads: (1, 1), relu: true, rng: &rng)
        x = g.conv(h, cout: 8, k: 3, pads: (1, 1), residual: x, rng: &rng)
        // projection block
        a = g.affine(x, rng: &rng)
        h = g.conv(a, cout: 12, k: 4, pads: (1, 2), relu: true, rng: &rng)
        let p = g.conv(x, cout: 12, k: 1, rng: &rng)
        x = g.conv(h, cout: 12, k: 4, pads: (1, 2), residual: p, rng: &rng)
        g.output(g.mean(x))
        return g
    }

    /// Every operator and odd shapes: dilation, asymmetric and large pads, stride 3, maxpool with pads,
    /// explicit ADD and RELU, convs without bias, a linear head, and a layer after the output value.
    static func assorted(seed: UInt64 = 2) -> TestGraph {
        var rng = SeededRandom(seed)
        var g = TestGraph()
        let c1 = g.conv(0, cout: 5, k: 3, stride: 1, dilation: 2, pads: (2, 2), relu: false, rng: &rng)
        let r1 = g.relu(c1)
        let c2 = g.conv(r1, cout: 5, k: 2, dilation: 3, pads: (1, 2), bias: false, rng: &rng)
        let s = g.addValues(c2, c1, relu: true)
        let m = g.maxpool(s, k: 3, stride: 2, pads: (1, 2))
        let c3 = g.conv(m, cout: 9, k: 4, stride: 3, pads: (0, 3), relu: true, rng: &rng)
        let a = g.affine(c3, relu: false, rng: &rng)
        let mean = g.mean(a)
        let l1 = g.linear(mean, cout: 6, relu: true, rng: &rng)
        let l2 = g.linear(l1, cout: 7, bias: false, rng: &rng)
        g.output(l2)
        _ = g.linear(l2, cout: 2, rng: &rng)        // a "head" after the embedding: validated, not run
        return g
    }

    /// A value read much later than it is written (value 0 by the last conv), so several buffers are alive
    /// at once, and a chain of length-preserving layers.
    static func longSkip(seed: UInt64 = 3) -> TestGraph {
        var rng = SeededRandom(seed)
        var g = TestGraph()
        let first = g.conv(0, cout: 4, k: 3, pads: (1, 1), rng: &rng)
        var x = first
        for _ in 0..<4 { x = g.conv(x, cout: 4, k: 3, pads: (1, 1), relu: true, rng: &rng) }
        let skip = g.conv(0, cout: 4, k: 1, rng: &rng)
        x = g.addValues(x, skip)
        x = g.addValues(x, first)
        g.output(g.mean(x))
        return g
    }
}

// MARK: - Naive reference interpreter (Double accumulation)

enum Reference {
    static func conv(_ x: [Float], length: Int, cin: Int, w: [Float], bias: [Float]?, cout: Int, k: Int, stride: Int,
                     dilation: Int, padLeft: Int, padRight: Int) -> (y: [Float], length: Int, magnitude: [Double]) {
        let lout = (length + padLeft + padRight - dilation * (k - 1) - 1) / stride + 1
        var y = [Float](repeating: 0, count: max(lout, 0) * cout)
        var mag = [Double](repeating: 0, count: y.count)
        for t in 0..<max(lout, 0) {
            for o in 0..<cout {
                var acc = Double(bias?[o] ?? 0)
                var m = abs(acc)
                for kk in 0..<k {
                    let p = t * stride - padLeft + kk * dilation
                    if p < 0 || p >= length { continue }
                    for c in 0..<cin {
                        let v = Double(w[(o * k + kk) * cin + c]) * Double(x[p * cin + c])
                        acc += v
                        m += abs(v)
                    }
                }
                y[t * cout + o] = Float(acc)
                mag[t * cout + o] = m
            }
        }
        return (y, lout, mag)
    }

    /// Runs layers [0, outputValue) on `input` ([T][3], already scaled); returns the output value.
    static func run(_ g: TestGraph, input: [Float], samples: Int) -> [Float] {
        var values: [[Float]] = [input]
        var lengths = [samples]
        let ch = g.channels
        for i in 0..<Int(g.outputValue) {
            let l = g.layers[i]
            let x = values[Int(l.in0)], len = lengths[Int(l.in0)], cin = ch[Int(l.in0)]
            let cout = Int(l.outChannels)
            var y: [Float] = []
            var outLen = len
            switch l.op {
            case 1:
                let r = conv(x, length: len, cin: cin, w: g.tensors[Int(l.t0)].values,
                             bias: l.t1 == NONE ? nil : g.tensors[Int(l.t1)].values, cout: cout, k: Int(l.kernel),
                             stride: Int(l.stride), dilation: Int(l.dilation), padLeft: Int(l.padLeft),
                             padRight: Int(l.padRight))
                y = r.y
                outLen = r.length
                if l.in1 != NONE { y = zip(y, values[Int(l.in1)]).map { $0 + $1 } }
            case 2:
                let s = g.tensors[Int(l.t0)].values, h = g.tensors[Int(l.t1)].values
                y = x.enumerated().map { $0.element * s[$0.offset % cin] + h[$0.offset % cin] }
            case 3:
                let k = Int(l.kernel), st = Int(l.stride), pl = Int(l.padLeft), pr = Int(l.padRight)
                outLen = (len + pl + pr - (k - 1) - 1) / st + 1
                y = [Float](repeating: -.infinity, count: outLen * cin)
                for t in 0..<outLen {
                    for kk in 0..<k {
                        let p = t * st - pl + kk
                        if p < 0 || p >= len { continue }
                        for c in 0..<cin { y[t * cin + c] = max(y[t * cin + c], x[p * cin + c]) }
                    }
                }
            case 4:
                y = zip(x, values[Int(l.in1)]).map { $0 + $1 }
            case 5:
                outLen = 1
                y = (0..<cin).map { c in Float((0..<len).reduce(0.0) { $0 + Double(x[$1 * cin + c]) } / Double(len)) }
            case 6:
                outLen = 1
                let w = g.tensors[Int(l.t0)].values
                y = (0..<cout).map { o in
                    Float((0..<cin).reduce(Double(l.t1 == NONE ? 0 : g.tensors[Int(l.t1)].values[o])) {
                        $0 + Double(w[o * cin + $1]) * Double(x[$1])
                    })
                }
            case 7:
                y = x.map { max($0, 0) }
            default:
                fatalError("unknown op in a test graph")
            }
            if l.act == 1 { y = y.map { max($0, 0) } }
            values.append(y)
            lengths.append(outLen)
        }
        return values[Int(g.outputValue)]
    }
}

// MARK: - Fixtures

enum Fixtures {
    /// Tests/Fixtures of this repository.
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }
    static func bytes(_ name: String) -> [UInt8]? {
        (try? Data(contentsOf: directory.appendingPathComponent(name))).map { [UInt8]($0) }
    }
    static var hasTiny: Bool { FileManager.default.fileExists(atPath: directory.appendingPathComponent("tiny.blob").path) }
}

/// A blob in 64-aligned memory with the runtime's validated view of it (keep this alive while using model).
final class LoadedBlob {
    let buffer: AlignedBytes
    let model: Model
    init(_ bytes: [UInt8]) throws(RelConError) {
        buffer = AlignedBytes(bytes)
        model = try Model.validate(UnsafeRawPointer(buffer.pointer), byteCount: UInt(bytes.count))
    }
    var pointer: UnsafeRawPointer { UnsafeRawPointer(buffer.pointer) }
    var count: Int { buffer.count }
}

/// The error (or nil) the reader gives for `bytes`.
func readerError(_ bytes: [UInt8], count: Int? = nil, shift: Int = 0) -> RelConError? {
    let buffer = AlignedBytes(bytes, shift: shift)
    do throws(RelConError) {
        _ = try Model.validate(UnsafeRawPointer(buffer.pointer), byteCount: UInt(count ?? bytes.count))
        return nil
    } catch {
        return error
    }
}
