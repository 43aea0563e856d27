// relcon_inspect and relcon_meta: answers from the blob alone, before any allocation.

import CRelCon

enum Inspect {
    /// relcon_inspect: validates the blob and describes it for windows of up to `nSamples` samples
    /// (0 = the contract's window_samples).
    static func describe(blob: UnsafeRawPointer, blobBytes: UInt, nSamples: UInt32) throws(RelConError)
        -> relcon_model_info
    {
        let model = try Model.validate(blob, byteCount: blobBytes)
        let window = nSamples == 0 ? model.contract.windowSamples : nSamples
        guard window >= model.minSamples else { throw .windowTooShort }
        let plan = try ArenaPlanner.plan(model, window: window) { (_: ValuePlacement) throws(RelConError) in }
        let c = model.contract
        var info = relcon_model_info()
        info.format_version = model.version
        info.weight_dtype = model.precision
        info.input_channels = c.inputChannels
        info.embedding_dim = model.embeddingDim
        info.sample_rate_hz = c.sampleRateHz
        info.window_samples = c.windowSamples
        info.min_samples = model.minSamples
        info.units = c.units
        info.axis_order = (CChar(bitPattern: c.axisOrder.0), CChar(bitPattern: c.axisOrder.1),
                           CChar(bitPattern: c.axisOrder.2), CChar(bitPattern: c.axisOrder.3))
        info.input_scale = c.scale
        info.input_offset = c.offset
        info.input_clip = c.clip
        info.n_layers = model.nLayers
        info.n_tensors = model.nTensors
        info.n_parameters = model.nParameters
        info.macs = plan.macs
        info.blob_bytes = model.bytes.count
        info.arena_bytes = plan.arenaBytes
        info.n_samples = window
        info.reserved = 0
        return info
    }

    /// relcon_meta: the value of `key`, a NUL-terminated string inside the blob.
    static func meta(blob: UnsafeRawPointer, blobBytes: UInt, key: UnsafePointer<CChar>) throws(RelConError)
        -> UnsafePointer<CChar>
    {
        let model = try Model.validate(blob, byteCount: blobBytes)
        guard let value = Metadata.lookup(model.bytes, offset: model.metaOffset, length: model.metaBytes, key: key)
        else { throw .notFound }
        return value
    }
}
