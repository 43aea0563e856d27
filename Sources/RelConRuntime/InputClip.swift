// Input clamping (docs/runtime.md, "Input range"): every sample (in the contract's units, g) is clamped to
// ±raw before the contract's scale and offset, so no finite input, however large, can overflow the network.
//
// raw = the blob's metadata key `input_clip` when present: a decimal number (digits [. digits] [e[±]digits],
// as selftest_tolerance) in g, > 0 and below 1e30; the exporter writes the sensor's full-scale range (e.g. 16
// for a ±16 g accelerometer). Without the key: defaultRawClip (16 g, the largest full-scale range of common
// wearable accelerometers, far beyond anything the model saw in training). A malformed key is
// RELCON_E_BLOB_METADATA from every function that validates the blob.

enum InputClip {
    static let defaultRawClip: Float = 16

    static func raw(_ m: Model) throws(RelConError) -> Float { try raw(try Heads.region(m)) }

    static func raw(_ meta: MetaRegion) throws(RelConError) -> Float {
        guard let v = meta.find(MetaKey(prefix: "input_clip")) else { return defaultRawClip }
        guard let d = v.decimalNumber(), d > 0, d < 1e30 else { throw .blobMetadata }
        let f = Float(d)
        guard f > 0, f.isFinite else { throw .blobMetadata }
        return f
    }
}
