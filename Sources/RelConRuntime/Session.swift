// A session: the control block at the start of the caller's arena, then the value buffers.
//
//   arena: [ SessionHeader 128 B | StepRecord 64 B × S | ValueRecord 48 B × (S + 1) | pad to 64 ][ buffers ]
//
// The control block is written once by relcon_session_init and only read afterwards, so one session can
// run from one thread while another session on the same blob runs from another. It holds a magic number
// and two CRC-32s (over the 128-byte header, and over the step and value records): relcon_embed rejects a
// pointer that is not a session, or a session whose control block was overwritten, before it touches
// anything else, and it never reads past the header until the header's own CRC has matched.
//
// Steps are the layers [0, output_value) compiled at init (blob offsets of their tensors, channel counts),
// so relcon_embed never decodes the blob's tables again. The blob's tensor data is used in place. Running the
// steps is the executor's (Graph/Executor.swift); this file holds the control block, its writing and its check.
//
// Windows shorter than max_samples reuse the plan made for max_samples. That is correct: every value's
// length L_v(T) = ⌊(T + A_v)/S_v⌋ (or a constant) never decreases with T, so for n <= max_samples each
// value fits in the buffer planned for it, and buffers that were disjoint while their values were alive
// stay disjoint (the liveness intervals do not depend on T). Results do not depend on the plan either:
// kernels read only shapes, never addresses, to choose their summation order.

import CRelConKernels

/// The first 128 bytes of the arena.
struct SessionHeader {
    var magic: UInt64            // "RLCNSES1"
    var headerCRC: UInt32        // CRC-32 of these 128 bytes, this field read as zero   (byte offset 8)
    var bodyCRC: UInt32          // CRC-32 of the step and value records
    var blobAddress: UInt64      // the blob's first byte
    var blobBytes: UInt64        // its total_bytes
    var arenaBytes: UInt64       // arena_bytes the session was planned with (control block + buffers)
    var controlBytes: UInt64     // align64(128 + 64·S + 48·(S + 1)); buffers start here
    var steps: UInt32            // S = output_value
    var maxSamples: UInt32
    var minSamples: UInt32
    var embeddingDim: UInt32
    var inputChannels: UInt32
    var inputScale0: Float, inputScale1: Float, inputScale2: Float
    var inputOffset0: Float, inputOffset1: Float, inputOffset2: Float
    var inputClip: Float
    var isa: UInt32              // kernel ISA level chosen at init (Kernels/Dispatch.swift)
    var precision: UInt32        // the blob's: f32 (1), f16 (2), int8 (3)
    var embedSteps: UInt32       // output_value: relcon_embed runs steps [0, embedSteps); heads run later steps
    var rawClip: Float           // samples (g) are clamped to ±rawClip before scaling (InputClip.swift)
    var reserved2: UInt64
    var selfAddress: UInt64      // the arena's first byte: a copy of the control block elsewhere is not a session

    static let magicValue: UInt64 = 0x3153_4553_4E43_4C52   // "RLCNSES1" little-endian
    static let crcFieldOffset = 8
}

/// One compiled layer (64 bytes). Tensor fields are blob offsets of the tensors' data, or NONE.
struct StepRecord {
    var op: UInt32, act: UInt32, in0: UInt32, in1: UInt32
    var channelsIn: UInt32, channelsOut: UInt32
    var kernel: UInt32, stride: UInt32, dilation: UInt32, padLeft: UInt32
    var weight: UInt32           // t0: weight / AFFINE scale or A / QUANTIZE multiplier
    var bias: UInt32             // t1: bias / AFFINE shift or B
    var mult: UInt32             // int8: requantisation multiplier [Cout]
    var shift: UInt32            // int8: right shift [Cout]
    var multRes: UInt32          // int8: multiplier of in1 [Cout]
    var scale: UInt32            // int8 MEAN: the input value's dequantisation scale [C]
}

/// Where value v lives and how long it is for a window of T samples (48 bytes).
struct ValueRecord {
    var offset: UInt64           // from the start of the buffers
    var bytes: UInt64            // buffer size planned for max_samples
    var formA: Int64             // LengthForm
    var formS: Int64
    var channels: UInt32
    var dtype: UInt32            // a ValueType's raw value: f32 (1), i8 (3), u8 (5) or u7 (6)
    var reserved1: UInt64

    var form: LengthForm { LengthForm(a: formA, s: formS) }
}

enum Session {
    // MARK: init

    /// relcon_session_init: validates the blob, plans for `maxSamples` (0 = the contract's window) and
    /// writes the control block at the start of `arena`. Returns the session pointer (= arena).
    static func initialize(blob: UnsafeRawPointer, blobBytes: UInt, maxSamples: UInt32,
                           arena: UnsafeMutableRawPointer, arenaBytes: UInt) throws(RelConError) -> UnsafeMutableRawPointer
    {
        guard UInt(bitPattern: arena) % 64 == 0 else { throw .arenaMisaligned }
        let model = try Model.validate(blob, byteCount: blobBytes)
        let window = maxSamples == 0 ? model.contract.windowSamples : maxSamples
        guard window >= model.minSamples else { throw .windowTooShort }
        let plan = try ArenaPlanner.plan(model, window: window) { (_: ValuePlacement) throws(RelConError) in }
        guard UInt64(arenaBytes) >= plan.arenaBytes else { throw .arenaTooSmall }

        // The arena is big enough: write the records, then the header and its checksums. With heads, the
        // steps after output_value are the head layers (run only by relcon_classify / relcon_regress).
        let steps = try Heads.runSteps(model)
        let stepBase = arena + Int(ArenaPlanner.controlHeaderBytes)
        let valueBase = stepBase + Int(steps) &* Int(ArenaPlanner.stepRecordBytes)
        let none = BlobFormat.none
        var i: UInt32 = 0
        while i < steps {
            let r = try model.layer(i)
            func data(_ t: UInt32) throws(RelConError) -> UInt32 { t == none ? none : try model.tensor(t).dataOffset }
            var record = StepRecord(
                op: r.op, act: r.act, in0: r.in0, in1: r.in1,
                channelsIn: try model.channels(ofValue: r.in0), channelsOut: r.outChannels,
                kernel: r.kernel, stride: r.stride, dilation: r.dilation, padLeft: r.padLeft,
                weight: try data(r.t0), bias: try data(r.t1), mult: none, shift: none, multRes: none, scale: none)
            if model.isInt8 {
                let q = try model.quant(i)
                record.mult = try data(q.mult)
                record.shift = try data(q.shift)
                record.multRes = try data(q.multRes)
                if r.op == Op.mean.rawValue, r.in0 >= 1 { record.scale = try data(try model.quant(r.in0 &- 1).outScale) }
            }
            (stepBase + Int(i) &* Int(ArenaPlanner.stepRecordBytes)).storeBytes(of: record, as: StepRecord.self)
            i &+= 1
        }
        _ = try ArenaPlanner.plan(model, window: window) { (p: ValuePlacement) throws(RelConError) in
            let record = ValueRecord(offset: p.offset, bytes: p.bytes, formA: p.form.a, formS: p.form.s,
                                     channels: p.channels, dtype: p.dtype.rawValue, reserved1: 0)
            (valueBase + Int(p.value) &* Int(ArenaPlanner.valueRecordBytes)).storeBytes(of: record, as: ValueRecord.self)
        }
        let bodyBytes = Int(steps) &* Int(ArenaPlanner.stepRecordBytes)
            &+ (Int(steps) &+ 1) &* Int(ArenaPlanner.valueRecordBytes)
        let c = model.contract
        var header = SessionHeader(
            magic: SessionHeader.magicValue, headerCRC: 0,
            bodyCRC: CRC32.checksum(UnsafeRawPointer(stepBase), count: bodyBytes, zeroedOffset: nil),
            blobAddress: UInt64(UInt(bitPattern: blob)), blobBytes: model.bytes.count,
            arenaBytes: plan.arenaBytes, controlBytes: plan.controlBytes,
            steps: steps, maxSamples: window, minSamples: model.minSamples,
            embeddingDim: model.embeddingDim, inputChannels: c.inputChannels,
            inputScale0: c.scale.0, inputScale1: c.scale.1, inputScale2: c.scale.2,
            inputOffset0: c.offset.0, inputOffset1: c.offset.1, inputOffset2: c.offset.2,
            inputClip: c.clip, isa: ISA.detect().rawValue, precision: model.precision, embedSteps: model.outputValue,
            rawClip: try InputClip.raw(model), reserved2: 0, selfAddress: UInt64(UInt(bitPattern: arena)))
        arena.storeBytes(of: header, as: SessionHeader.self)
        header.headerCRC = CRC32.checksum(UnsafeRawPointer(arena), count: Int(ArenaPlanner.controlHeaderBytes),
                                          zeroedOffset: SessionHeader.crcFieldOffset)
        arena.storeBytes(of: header, as: SessionHeader.self)
        return arena
    }

    // MARK: embed

    /// Checks that `session` points at an intact control block; returns its header.
    static func check(_ session: UnsafeRawPointer) throws(RelConError) -> SessionHeader {
        guard UInt(bitPattern: session) % 64 == 0 else { throw .sessionInvalid }
        let h = session.load(as: SessionHeader.self)
        guard h.magic == SessionHeader.magicValue,
              CRC32.checksum(session, count: Int(ArenaPlanner.controlHeaderBytes),
                             zeroedOffset: SessionHeader.crcFieldOffset) == h.headerCRC,
              h.steps >= 1, h.steps <= BlobFormat.maxLayers, h.embedSteps >= 1, h.embedSteps <= h.steps,
              h.controlBytes == ArenaPlanner.controlBytes(steps: h.steps), h.arenaBytes >= h.controlBytes,
              // the control block was written here, for an arena of arenaBytes from here: a copy of the 128-byte
              // header elsewhere (whose records and buffers would lie past the copy) is refused before any
              // byte after the header is read
              h.selfAddress == UInt64(UInt(bitPattern: session)),
              h.arenaBytes <= UInt64(UInt.max) &- UInt64(UInt(bitPattern: session)),
              h.rawClip > 0, h.rawClip.isFinite
        else { throw .sessionInvalid }
        let bodyBytes = Int(h.steps) &* Int(ArenaPlanner.stepRecordBytes)
            &+ (Int(h.steps) &+ 1) &* Int(ArenaPlanner.valueRecordBytes)
        guard CRC32.checksum(session + Int(ArenaPlanner.controlHeaderBytes), count: bodyBytes, zeroedOffset: nil)
                == h.bodyCRC
        else { throw .sessionInvalid }
        return h
    }

    /// relcon_embed: one window of `n` interleaved x,y,z samples -> `embeddingDim` floats in `output`.
    static func embed(_ session: UnsafeMutableRawPointer, samples: UnsafePointer<Float>, n: UInt32,
                      output: UnsafeMutablePointer<Float>, capacity: UInt32) throws(RelConError)
    {
        let h = try check(UnsafeRawPointer(session))
        guard capacity >= h.embeddingDim else { throw .bufferTooSmall }
        let y = try Executor.forward(session, header: h, samples: samples, n: n, through: h.embedSteps)
        guard y.length == 1, y.channels == Int(h.embeddingDim), y.dtype == .f32 else { throw .sessionInvalid }
        output.update(from: y.f32, count: y.channels)   // finite: forward checked every f32 value
    }
}
