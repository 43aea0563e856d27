// A validated blob: every rule of docs/blob-format.md holds (Blob/Validator.swift checks them in a fixed
// order, each defect class giving its own error).

/// The sensor contract stored in the blob header.
struct SensorContract {
    var sampleRateHz: Float
    var windowSamples: UInt32
    var inputChannels: UInt32
    var units: UInt32
    var axisOrder: (UInt8, UInt8, UInt8, UInt8)
    var scale: (Float, Float, Float)
    var offset: (Float, Float, Float)
    var clip: Float
}

/// A blob that passed validation. It points into the caller's blob (nothing is copied); reads still go
/// through the bounds-checked `BlobBytes`, so even a blob changed after validation cannot cause an
/// out-of-bounds read here.
struct Model {
    let bytes: BlobBytes          // count = total_bytes
    let version: UInt32           // format_version: 1, 2 or 3
    let headerBytes: UInt64       // 128 (v1) or 192 (v2, v3)
    let precision: UInt32         // dtype of the conv weights: f32 (1), f16 (2), int8 (3); v1 is f32
    let quantTable: UInt64        // int8: offset of the quantisation table, else 0
    let nTensors: UInt32
    let tensorTable: UInt64
    let nLayers: UInt32
    let layerTable: UInt64
    let outputValue: UInt32       // value index of the embedding; layers [0, outputValue) compute it
    let metaOffset: UInt64
    let metaBytes: UInt64
    let contract: SensorContract
    let embeddingDim: UInt32
    var minSamples: UInt32        // by shape inference (Plan/LengthForm.swift)
    let nParameters: UInt64       // elements of all tensors

    func layer(_ index: UInt32) throws(RelConError) -> LayerRecord {
        guard index < nLayers else { throw .blobGraph }
        return try bytes.layerRecord(table: layerTable, index: index)
    }

    func tensor(_ index: UInt32) throws(RelConError) -> TensorRecord {
        guard index < nTensors else { throw .blobGraph }
        return try bytes.tensorRecord(table: tensorTable, index: index)
    }

    var isInt8: Bool { precision == BlobFormat.dtypeI8 }

    /// Quantisation record of layer `index` (int8 blobs only).
    func quant(_ index: UInt32) throws(RelConError) -> QuantRecord {
        guard isInt8, index < nLayers else { throw .blobGraph }
        return try bytes.quantRecord(table: quantTable, index: index)
    }

    /// Element type of value `v`: f32 for every value of f32/f16 blobs and for value 0; in int8 blobs the
    /// out_dtype of layer v − 1 (f32, i8, u8 or u7).
    func dtype(ofValue v: UInt32) throws(RelConError) -> UInt32 {
        guard isInt8, v >= 1 else { return BlobFormat.dtypeF32 }
        return try quant(v &- 1).outDtype
    }

    /// Type of value `v` for the planner and the executor, once the validator has checked the raw field
    /// (GraphValidator); a code that is no value type is RELCON_E_BLOB_GRAPH, as the validator says.
    func valueType(ofValue v: UInt32) throws(RelConError) -> ValueType {
        guard let t = ValueType(rawValue: try dtype(ofValue: v)) else { throw .blobGraph }
        return t
    }

    /// Bytes per element of value `v` (4 for f32, 1 for i8/u8/u7).
    func elementBytes(ofValue v: UInt32) throws(RelConError) -> UInt64 {
        try dtype(ofValue: v) == BlobFormat.dtypeF32 ? 4 : 1
    }

    /// Channels of value `v`: the input's for value 0, else the out_channels of layer v − 1.
    func channels(ofValue v: UInt32) throws(RelConError) -> UInt32 {
        if v == 0 { return contract.inputChannels }
        return try layer(v &- 1).outChannels
    }

    /// The step of the last layer in [from, end) that reads value `v`, or nil when none does.
    /// Linear in the number of layers; the planner calls it once per value.
    func lastUse(of v: UInt32, from: UInt32, end: UInt32) throws(RelConError) -> UInt32? {
        var last: UInt32? = nil
        var i = from
        while i < end {
            let r = layerTable &+ UInt64(i) &* BlobFormat.layerRecordBytes
            let in0 = try bytes.u32(r &+ 4), in1 = try bytes.u32(r &+ 8)
            if in0 == v || in1 == v { last = i }
            i &+= 1
        }
        return last
    }
}
