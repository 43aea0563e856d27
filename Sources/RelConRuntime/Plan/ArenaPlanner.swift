// The arena planner: how many bytes a session needs for windows of up to T samples, and where each value
// lives. Pure: it reads the validated model and writes nothing but what `visit` does with the placements.
// docs/runtime.md states the same algorithm in prose so a test can recompute it independently.
//
// Arena layout:  [ control block | value buffers ]
//   control block = align64(128 + 64·S + 48·(S + 1)),  S = output_value (the layers that run), or n_layers
//   when the blob has heads (docs/blob-format.md, "Heads": then every later layer is a small head layer)
//   arena_bytes   = control block + peak
//
// Values 0...S each get one buffer of align64(L_v(T) · C_v · e_v) bytes (channels-last [L][C]; e_v = 4 for f32
// values, 1 for the i8/u8 values of an int8 blob).
// Value v is born at step max(v − 1, 0) (value 0, the input, is written before step 0) and dies after its
// last reader among layers [0, S); a value nobody reads (the output, value S) dies at its birth step.
// In birth order, each value goes to the lowest offset where it overlaps no buffer alive at its birth
// (greedy first fit; candidates 0 and the ends of the live buffers). peak = max(offset + bytes).
// Kernels need no scratch: padding is handled by clipping taps.

/// Where one value lives.
struct ValuePlacement {
    var value: UInt32
    var offset: UInt64       // from the start of the value buffers (after the control block)
    var bytes: UInt64
    var form: LengthForm
    var channels: UInt32
    var dtype: ValueType     // f32, i8, u8 or u7
}

/// The sizes a session needs for windows of up to `window` samples.
struct ArenaPlan {
    var window: UInt32
    var controlBytes: UInt64
    var peakBytes: UInt64
    var arenaBytes: UInt64
    var macs: UInt64         // conv and linear multiply-accumulates at `window` samples (saturating)
}

enum ArenaPlanner {
    static let controlHeaderBytes: UInt64 = 128
    static let stepRecordBytes: UInt64 = 64
    static let valueRecordBytes: UInt64 = 48
    /// Largest single buffer the planner accepts (keeps every sum of live buffers far from overflow).
    static let maxBufferBytes: UInt64 = 1 << 56

    static func align64(_ x: UInt64) -> UInt64 { (x &+ 63) & ~63 }   // callers keep x < 2^63

    /// align64(128 + 64·S + 48·(S + 1)) for S steps (S <= 4096, so no overflow).
    static func controlBytes(steps: UInt32) -> UInt64 {
        let s = UInt64(steps)
        return align64(controlHeaderBytes &+ stepRecordBytes &* s &+ valueRecordBytes &* (s &+ 1))
    }

    /// Plans the arena for windows of up to `window` samples (>= model.minSamples, checked by the caller).
    /// Calls `visit` once per value 0...output_value, in order.
    static func plan(_ model: Model, window: UInt32,
                     visit: (ValuePlacement) throws(RelConError) -> Void) throws(RelConError) -> ArenaPlan
    {
        let steps = try Heads.runSteps(model)   // output_value, or every layer when the blob has heads
        let t = Int64(window)
        return try LiveSet.with { (live: inout LiveSet) throws(RelConError) -> ArenaPlan in
            var peak: UInt64 = 0
            var macs: UInt64 = 0

            func place(_ v: UInt32, _ form: LengthForm, _ channels: UInt32, death: UInt32)
                throws(RelConError) -> Int64
            {
                guard let length = form.length(window: t) else { throw .blobGraph }
                let dtype = try model.valueType(ofValue: v)
                let (elements, o1) = UInt64(length).multipliedReportingOverflow(by: UInt64(channels))
                let (raw, o2) = elements.multipliedReportingOverflow(by: dtype.elementBytes)
                guard !o1, !o2, raw <= maxBufferBytes else { throw .invalidArgument }
                let bytes = align64(raw)
                let offset = live.firstFit(bytes: bytes)
                peak = max(peak, offset &+ bytes)       // < 25 · 2^56: no overflow
                try live.insert(LiveEntry(value: v, death: death, form: form, offset: offset, bytes: bytes))
                try visit(ValuePlacement(value: v, offset: offset, bytes: bytes, form: form, channels: channels,
                                         dtype: dtype))
                return length
            }

            _ = try place(0, .input, model.contract.inputChannels,
                          death: try model.lastUse(of: 0, from: 0, end: steps) ?? 0)
            var i: UInt32 = 0
            while i < steps {
                live.removeDead(before: i)
                let r = try model.layer(i)
                let v = i &+ 1
                guard let input = live.find(r.in0), let form = input.form.after(r) else { throw .blobGraph }
                let death = v == steps ? i : (try model.lastUse(of: v, from: v, end: steps) ?? i)
                let length = try place(v, form, r.outChannels, death: death)
                if i < model.outputValue {   // macs: the embedding only (what relcon_embed runs)
                    macs = saturatingAdd(macs, try layerMACs(model, r, outputLength: length))
                }
                i &+= 1
            }
            let control = controlBytes(steps: steps)
            return ArenaPlan(window: window, controlBytes: control, peakBytes: peak,
                             arenaBytes: control &+ peak, macs: macs)
        }
    }

    /// Multiply-accumulates of one layer: CONV1D L'·Cout·K·Cin (padding taps included, as PyTorch counts),
    /// LINEAR Cout·Cin, others 0.
    private static func layerMACs(_ model: Model, _ r: LayerRecord, outputLength: Int64) throws(RelConError) -> UInt64 {
        switch Op(rawValue: r.op) {
        case .conv1d?:
            let cin = UInt64(try model.channels(ofValue: r.in0))
            return saturatingProduct(saturatingProduct(UInt64(outputLength), UInt64(r.outChannels)),
                                     saturatingProduct(UInt64(r.kernel), cin))
        case .linear?:
            return saturatingProduct(UInt64(r.outChannels), UInt64(try model.channels(ofValue: r.in0)))
        default:
            return 0
        }
    }

    private static func saturatingAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? .max : s
    }

    private static func saturatingProduct(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o ? .max : p
    }
}
