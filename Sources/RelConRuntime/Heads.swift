// Heads and the self-test vector (docs/blob-format.md, "Heads" and "Self-test").
//
// Heads are f32 LINEAR / RELU layers after output_value, described by metadata keys:
//   n_heads = "H"; per head i: head<i>_name, head<i>_kind (classifier | regressor), head<i>_value (the value
//   holding the head's output [1][K]); classifiers head<i>_class<k> for k < K; regressors (K = 1)
//   head<i>_target and head<i>_unit.
// The self-test vector: selftest_input / selftest_output (tensor indices of an f32 [T][3] window and its f32
// [1][D] embedding, used by no layer) and selftest_tolerance (max relative error, decimal; 0 = bit-exact).
//
// Validation (the last step of Model.validate): malformed strings / missing keys -> .blobMetadata; head values,
// layers and self-test tensors that do not fit the graph -> .blobGraph. Keys are matched without building
// strings (no allocation): a key is compared piecewise against "head" + decimal + suffix (+ decimal).

/// A metadata key compared piecewise: prefix, optional decimal, suffix, optional decimal.
struct MetaKey {
    var prefix: StaticString
    var index: UInt32? = nil
    var suffix: StaticString = ""
    var index2: UInt32? = nil

    static func head(_ i: UInt32, _ suffix: StaticString) -> MetaKey { MetaKey(prefix: "head", index: i, suffix: suffix) }

    /// True when the `n` bytes at `p` spell this key.
    func matches(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var pos = 0
        func literal(_ s: StaticString) -> Bool {
            let q = s.utf8Start
            var j = 0
            while j < s.utf8CodeUnitCount {
                guard pos < n, p[pos] == q[j] else { return false }
                pos &+= 1; j &+= 1
            }
            return true
        }
        func decimal(_ v: UInt32) -> Bool {
            var div: UInt32 = 1
            while v / div >= 10 { div &*= 10 }
            while div >= 1 {
                guard pos < n, p[pos] == UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: (v / div) % 10) else { return false }
                pos &+= 1
                div /= 10
            }
            return true
        }
        guard literal(prefix) else { return false }
        if let index { guard decimal(index) else { return false } }
        guard literal(suffix) else { return false }
        if let index2 { guard decimal(index2) else { return false } }
        return pos == n
    }
}

/// A metadata string inside the blob: `count` bytes at `p`, NUL-terminated at p[count].
struct MetaString {
    var p: UnsafePointer<UInt8>
    var count: Int
    var cString: UnsafePointer<CChar> { UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self) }

    func equals(_ s: StaticString) -> Bool {
        guard s.utf8CodeUnitCount == count else { return false }
        var j = 0
        while j < count { guard p[j] == s.utf8Start[j] else { return false }; j &+= 1 }
        return true
    }

    /// Canonical decimal: "0" or [1-9][0-9]*, at most 2^32 − 1.
    func index() -> UInt32? {
        guard count >= 1, count <= 10, count == 1 || p[0] != UInt8(ascii: "0") else { return nil }
        var v: UInt64 = 0
        var j = 0
        while j < count {
            let c = p[j]
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            v = v &* 10 &+ UInt64(c &- UInt8(ascii: "0"))
            j &+= 1
        }
        return v <= UInt64(UInt32.max) ? UInt32(truncatingIfNeeded: v) : nil
    }

    /// digits [. digits] [(e|E) [+|-] digits], finite; parsed to the nearest double up to a few ulps.
    func decimalNumber() -> Double? {
        var j = 0
        var mantissa: Double = 0
        var exponent = 0
        var digits = 0
        while j < count, p[j] >= UInt8(ascii: "0"), p[j] <= UInt8(ascii: "9") {
            mantissa = mantissa * 10 + Double(p[j] &- UInt8(ascii: "0")); j &+= 1; digits &+= 1
        }
        guard digits >= 1 else { return nil }
        if j < count, p[j] == UInt8(ascii: ".") {
            j &+= 1
            var frac = 0
            while j < count, p[j] >= UInt8(ascii: "0"), p[j] <= UInt8(ascii: "9") {
                mantissa = mantissa * 10 + Double(p[j] &- UInt8(ascii: "0")); j &+= 1; frac &+= 1
                exponent &-= 1
            }
            guard frac >= 1 else { return nil }
        }
        if j < count, p[j] == UInt8(ascii: "e") || p[j] == UInt8(ascii: "E") {
            j &+= 1
            var negative = false
            if j < count, p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-") { negative = p[j] == UInt8(ascii: "-"); j &+= 1 }
            var e = 0
            var ed = 0
            while j < count, p[j] >= UInt8(ascii: "0"), p[j] <= UInt8(ascii: "9") {
                if e < 10000 { e = e &* 10 &+ Int(p[j] &- UInt8(ascii: "0")) }
                j &+= 1; ed &+= 1
            }
            guard ed >= 1 else { return nil }
            exponent = negative ? exponent &- e : exponent &+ e
        }
        guard j == count else { return nil }
        var v = mantissa
        while exponent > 0 { v *= 10; exponent &-= 1 }
        while exponent < 0 { v /= 10; exponent &+= 1 }
        return v.isFinite ? v : nil
    }
}

/// The metadata region of a blob (bounds checked once).
struct MetaRegion {
    var p: UnsafePointer<UInt8>
    var count: Int

    init(_ bytes: BlobBytes, offset: UInt64, length: UInt64) throws(RelConError) {
        guard bytes.contains(offset: offset, length: length) else { throw .blobBounds }
        p = bytes.base.advanced(by: Int(truncatingIfNeeded: offset)).assumingMemoryBound(to: UInt8.self)
        count = Int(truncatingIfNeeded: length)
    }

    /// The value of `key`, or nil. Tolerates a malformed region (stops at its end).
    func find(_ key: MetaKey) -> MetaString? {
        var pos = 0
        while pos < count {
            let k = pos
            while pos < count, p[pos] != 0 { pos &+= 1 }
            let kn = pos &- k
            pos &+= 1
            let v = pos
            while pos < count, p[pos] != 0 { pos &+= 1 }
            guard pos < count else { return nil }
            let vn = pos &- v
            pos &+= 1
            if key.matches(p + k, kn) { return MetaString(p: p + v, count: vn) }
        }
        return nil
    }
}

enum HeadKind: UInt32 { case classifier = 1, regressor = 2 }

/// One head, as the metadata and the graph describe it.
struct HeadInfo {
    var name: MetaString
    var kind: HeadKind
    var value: UInt32            // value index of the head's output [1][outputs]
    var outputs: UInt32          // K
    var target: MetaString?      // regressors
    var unit: MetaString?        // regressors
}

/// The self-test vector: tensor indices and tolerance.
struct SelfTestInfo {
    var input: UInt32
    var output: UInt32
    var tolerance: Double
}

enum Heads {
    /// Reader limits (RELCON_E_BLOB_METADATA / _GRAPH beyond them).
    static let maxHeads: UInt32 = 256
    static let maxChain: UInt32 = 16       // layers from the embedding to a head's value

    static func region(_ m: Model) throws(RelConError) -> MetaRegion {
        try MetaRegion(m.bytes, offset: m.metaOffset, length: m.metaBytes)
    }

    /// n_heads (0 when absent). Malformed -> .blobMetadata.
    static func count(_ meta: MetaRegion) throws(RelConError) -> UInt32 {
        guard let s = meta.find(MetaKey(prefix: "n_heads")) else { return 0 }
        guard let n = s.index(), n <= maxHeads else { throw .blobMetadata }
        return n
    }

    /// Steps a session compiles: every layer when the blob has heads (then all layers after output_value are
    /// head layers: LINEAR / RELU on [1][C]), else the embedding's layers [0, output_value).
    static func runSteps(_ m: Model) throws(RelConError) -> UInt32 {
        try count(try region(m)) >= 1 ? m.nLayers : m.outputValue
    }

    /// Head i of a validated blob (i < count). Checks everything about it.
    static func info(_ m: Model, _ meta: MetaRegion, _ i: UInt32) throws(RelConError) -> HeadInfo {
        guard let name = meta.find(.head(i, "_name")), name.count >= 1, name.count <= BlobFormat.maxMetaKeyBytes,
              isKeyLike(name),
              let kindString = meta.find(.head(i, "_kind")),
              let valueString = meta.find(.head(i, "_value"))
        else { throw .blobMetadata }
        let kind: HeadKind
        if kindString.equals("classifier") { kind = .classifier }
        else if kindString.equals("regressor") { kind = .regressor }
        else { throw .blobMetadata }
        guard let value = valueString.index() else { throw .blobMetadata }
        // Graph: a value after the embedding, reached from it through at most maxChain LINEAR / RELU layers.
        guard value > m.outputValue, value <= m.nLayers else { throw .blobGraph }
        var v = value
        var hops: UInt32 = 0
        while v != m.outputValue {
            let r = try m.layer(v &- 1)
            hops &+= 1
            guard r.op == Op.linear.rawValue || r.op == Op.relu.rawValue, r.in0 >= m.outputValue, r.in0 < v,
                  hops <= maxChain
            else { throw .blobGraph }
            v = r.in0
        }
        let outputs = try m.channels(ofValue: value)
        guard try m.dtype(ofValue: value) == BlobFormat.dtypeF32 else { throw .blobGraph }
        var head = HeadInfo(name: name, kind: kind, value: value, outputs: outputs, target: nil, unit: nil)
        switch kind {
        case .classifier:
            guard outputs >= 2 else { throw .blobGraph }
            var k: UInt32 = 0
            while k < outputs {
                guard meta.find(MetaKey(prefix: "head", index: i, suffix: "_class", index2: k)) != nil else {
                    throw .blobMetadata
                }
                k &+= 1
            }
            guard meta.find(MetaKey(prefix: "head", index: i, suffix: "_class", index2: outputs)) == nil,
                  meta.find(.head(i, "_target")) == nil, meta.find(.head(i, "_unit")) == nil
            else { throw .blobMetadata }
        case .regressor:
            guard outputs == 1 else { throw .blobGraph }
            guard let target = meta.find(.head(i, "_target")), target.count >= 1,
                  let unit = meta.find(.head(i, "_unit")),
                  meta.find(MetaKey(prefix: "head", index: i, suffix: "_class", index2: 0)) == nil
            else { throw .blobMetadata }
            head.target = target
            head.unit = unit
        }
        return head
    }

    /// The last validation step: heads, then the self-test vector.
    static func validate(_ m: Model) throws(RelConError) {
        let meta = try region(m)
        let n = try count(meta)
        if n >= 1 {
            guard meta.find(.head(n, "_name")) == nil else { throw .blobMetadata }
            var i: UInt32 = 0
            while i < n {
                let h = try info(m, meta, i)
                var j: UInt32 = 0
                while j < i {   // names are unique
                    if let other = meta.find(.head(j, "_name")), other.count == h.name.count,
                       equal(other.p, h.name.p, h.name.count)
                    { throw .blobMetadata }
                    j &+= 1
                }
                i &+= 1
            }
            // Every layer after the embedding is a head layer: LINEAR or RELU on values after it.
            var l = m.outputValue
            while l < m.nLayers {
                let r = try m.layer(l)
                guard r.op == Op.linear.rawValue || r.op == Op.relu.rawValue, r.in0 >= m.outputValue else {
                    throw .blobGraph
                }
                l &+= 1
            }
        }
        _ = try selfTest(m, meta)
        _ = try InputClip.raw(meta)
    }

    /// The self-test vector of a validated blob, nil when it has none.
    static func selfTest(_ m: Model, _ meta: MetaRegion) throws(RelConError) -> SelfTestInfo? {
        let a = meta.find(MetaKey(prefix: "selftest_input"))
        let b = meta.find(MetaKey(prefix: "selftest_output"))
        let c = meta.find(MetaKey(prefix: "selftest_tolerance"))
        if a == nil && b == nil && c == nil { return nil }
        guard let a, let b, let c, let input = a.index(), let output = b.index(), let tol = c.decimalNumber()
        else { throw .blobMetadata }
        guard input < m.nTensors, output < m.nTensors, input != output else { throw .blobGraph }
        let x = try m.tensor(input), y = try m.tensor(output)
        guard x.dtype == BlobFormat.dtypeF32, x.rank == 2, x.d0 >= m.minSamples, x.d1 == m.contract.inputChannels,
              y.dtype == BlobFormat.dtypeF32, y.rank == 2, y.d0 == 1, y.d1 == m.embeddingDim
        else { throw .blobGraph }
        // Used by no layer (nor quantisation record).
        var l: UInt32 = 0
        while l < m.nLayers {
            let r = try m.layer(l)
            var refs = (r.t0, r.t1, BlobFormat.none, BlobFormat.none, BlobFormat.none)
            if m.isInt8 {
                let q = try m.quant(l)
                refs = (r.t0, r.t1, q.outScale, q.mult, q.shift)
                guard q.multRes != input, q.multRes != output else { throw .blobGraph }
            }
            guard refs.0 != input, refs.0 != output, refs.1 != input, refs.1 != output, refs.2 != input,
                  refs.2 != output, refs.3 != input, refs.3 != output, refs.4 != input, refs.4 != output
            else { throw .blobGraph }
            l &+= 1
        }
        return SelfTestInfo(input: input, output: output, tolerance: tol)
    }

    private static func isKeyLike(_ s: MetaString) -> Bool {
        var j = 0
        while j < s.count {
            let c = s.p[j]
            guard (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                  || c == UInt8(ascii: "_")
            else { return false }
            j &+= 1
        }
        return true
    }

    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i < n { if a[i] != b[i] { return false }; i &+= 1 }
        return true
    }

    // MARK: blob-level queries (relcon_head_count, relcon_head_info, relcon_head_class_name)

    static func count(blob: UnsafeRawPointer, blobBytes: UInt) throws(RelConError) -> UInt32 {
        let m = try Model.validate(blob, byteCount: blobBytes)
        return try count(try region(m))
    }

    static func describe(blob: UnsafeRawPointer, blobBytes: UInt, head: UInt32) throws(RelConError) -> HeadInfo {
        let m = try Model.validate(blob, byteCount: blobBytes)
        let meta = try region(m)
        guard head < (try count(meta)) else { throw .noSuchHead }
        return try info(m, meta, head)
    }

    static func className(blob: UnsafeRawPointer, blobBytes: UInt, head: UInt32, classIndex: UInt32)
        throws(RelConError) -> UnsafePointer<CChar>
    {
        let m = try Model.validate(blob, byteCount: blobBytes)
        let meta = try region(m)
        guard head < (try count(meta)) else { throw .noSuchHead }
        let h = try info(m, meta, head)
        guard h.kind == .classifier, classIndex < h.outputs,
              let s = meta.find(MetaKey(prefix: "head", index: head, suffix: "_class", index2: classIndex))
        else { throw .invalidArgument }
        return s.cString
    }
}
