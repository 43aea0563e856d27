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
// so relcon_embed never decodes the blob's tables again. The blob's tensor data is used in place.
//
// Windows shorter than max_samples reuse the plan made for max_samples. That is correct: every value's
// length L_v(T) = ⌊(T + A_v)/S_v⌋ (or a constant) never decreases with T, so for n <= max_samples each
// value fits in the buffer planned for it, and buffers that were disjoint while their values were alive
// stay disjoint (the liveness intervals do not depend on T). Results do not depend on the plan either:
// kernels read only shapes, never addresses, to choose their summation order.

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
    var reserved1: UInt64, reserved2: UInt64, reserved3: UInt64

    static let magicValue: UInt64 = 0x3153_4553_4E43_4C52   // "RLCNSES1" little-endian
    static let crcFieldOffset = 8
}

/// One compiled layer (64 bytes).
struct StepRecord {
    var op: UInt32, act: UInt32, in0: UInt32, in1: UInt32, out: UInt32
    var channelsIn: UInt32, channelsOut: UInt32
    var kernel: UInt32, stride: UInt32, dilation: UInt32, padLeft: UInt32, padRight: UInt32
    var weight: UInt32           // blob offset of t0's data, or NONE
    var bias: UInt32             // blob offset of t1's data, or NONE
    var reserved0: UInt32, reserved1: UInt32
}

/// Where value v lives and how long it is for a window of T samples (48 bytes).
struct ValueRecord {
    var offset: UInt64           // from the start of the buffers
    var bytes: UInt64            // buffer size planned for max_samples
    var formA: Int64             // LengthForm
    var formS: Int64
    var channels: UInt32
    var reserved0: UInt32
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

        // The arena is big enough: write the records, then the header and its checksums.
        let steps = model.outputValue
        let stepBase = arena + Int(ArenaPlanner.controlHeaderBytes)
        let valueBase = stepBase + Int(steps) &* Int(ArenaPlanner.stepRecordBytes)
        let none = BlobFormat.none
        var i: UInt32 = 0
        while i < steps {
            let r = try model.layer(i)
            let weight = r.t0 == none ? none : try model.tensor(r.t0).dataOffset
            let bias = r.t1 == none ? none : try model.tensor(r.t1).dataOffset
            let record = StepRecord(
                op: r.op, act: r.act, in0: r.in0, in1: r.in1, out: r.out,
                channelsIn: try model.channels(ofValue: r.in0), channelsOut: r.outChannels,
                kernel: r.kernel, stride: r.stride, dilation: r.dilation, padLeft: r.padLeft, padRight: r.padRight,
                weight: weight, bias: bias, reserved0: 0, reserved1: 0)
            (stepBase + Int(i) &* Int(ArenaPlanner.stepRecordBytes)).storeBytes(of: record, as: StepRecord.self)
            i &+= 1
        }
        _ = try ArenaPlanner.plan(model, window: window) { (p: ValuePlacement) throws(RelConError) in
            let record = ValueRecord(offset: p.offset, bytes: p.bytes, formA: p.form.a, formS: p.form.s,
                                     channels: p.channels, reserved0: 0, reserved1: 0)
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
            inputClip: c.clip, isa: ISA.detect().rawValue, reserved1: 0, reserved2: 0, reserved3: 0)
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
              h.steps >= 1, h.steps <= BlobFormat.maxLayers,
              h.controlBytes == ArenaPlanner.controlBytes(steps: h.steps), h.arenaBytes >= h.controlBytes
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
        guard n >= h.minSamples else { throw .windowTooShort }
        guard n <= h.maxSamples else { throw .windowTooLong }
        guard let blob = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: h.blobAddress)) else {
            throw .sessionInvalid
        }
        let steps = UnsafeRawPointer(session + Int(ArenaPlanner.controlHeaderBytes))
        let values = steps + Int(h.steps) &* Int(ArenaPlanner.stepRecordBytes)
        let buffers = session + Int(truncatingIfNeeded: h.controlBytes)
        let window = Int64(n)
        guard let isa = ISA(rawValue: h.isa), isa.rawValue <= ISA.hardware.rawValue else { throw .sessionInvalid }

        /// Value v: its buffer and length at this window (checked against the plan, defensively).
        func value(_ v: UInt32) throws(RelConError) -> (UnsafeMutablePointer<Float>, Int, Int) {
            guard v <= h.steps else { throw .sessionInvalid }
            let r = values.loadUnaligned(fromByteOffset: Int(v) &* Int(ArenaPlanner.valueRecordBytes), as: ValueRecord.self)
            guard let length = r.form.length(window: window),
                  UInt64(length) &* UInt64(r.channels) &* 4 <= r.bytes,
                  r.offset &+ r.bytes <= h.arenaBytes &- h.controlBytes
            else { throw .sessionInvalid }
            let p = (buffers + Int(truncatingIfNeeded: r.offset)).assumingMemoryBound(to: Float.self)
            return (p, Int(truncatingIfNeeded: length), Int(truncatingIfNeeded: r.channels))
        }

        // Value 0: the scaled, clipped input, [n][3].
        let (x0, _, c0) = try value(0)
        guard c0 == 3 else { throw .sessionInvalid }
        try copyInput(samples, count: Int(truncatingIfNeeded: n), header: h, into: x0)

        var i: UInt32 = 0
        while i < h.steps {
            let s = steps.loadUnaligned(fromByteOffset: Int(i) &* Int(ArenaPlanner.stepRecordBytes), as: StepRecord.self)
            try run(s, value: value, blob: blob, blobBytes: h.blobBytes, isa: isa)
            i &+= 1
        }
        let (y, length, channels) = try value(h.steps)
        guard length == 1, channels == Int(h.embeddingDim) else { throw .sessionInvalid }
        output.update(from: y, count: channels)
    }

    /// x·scale + offset per axis, clamped to ±clip when clip > 0. Rejects NaN and ±∞ samples.
    private static func copyInput(_ samples: UnsafePointer<Float>, count n: Int, header h: SessionHeader,
                                  into x: UnsafeMutablePointer<Float>) throws(RelConError)
    {
        let scale = SIMD3<Float>(h.inputScale0, h.inputScale1, h.inputScale2)
        let offset = SIMD3<Float>(h.inputOffset0, h.inputOffset1, h.inputOffset2)
        let clip = h.inputClip
        var t = 0
        while t < n {
            let s = SIMD3<Float>(samples[3 &* t], samples[3 &* t &+ 1], samples[3 &* t &+ 2])
            guard s[0].isFinite, s[1].isFinite, s[2].isFinite else { throw .inputNotFinite }
            var v = s * scale + offset
            if clip > 0 { v = v.clamped(lowerBound: SIMD3(repeating: -clip), upperBound: SIMD3(repeating: clip)) }
            x[3 &* t] = v[0]; x[3 &* t &+ 1] = v[1]; x[3 &* t &+ 2] = v[2]
            t &+= 1
        }
    }

    /// Runs one compiled step.
    private static func run(_ s: StepRecord,
                            value: (UInt32) throws(RelConError) -> (UnsafeMutablePointer<Float>, Int, Int),
                            blob: UnsafeRawPointer, blobBytes: UInt64, isa: ISA) throws(RelConError)
    {
        let (x, lengthIn, cin) = try value(s.in0)
        let (y, lengthOut, cout) = try value(s.out)
        let relu = s.act == 1
        // The records passed the CRC, so these hold; checking them costs nothing and keeps a division by
        // zero impossible whatever memory the pointer came from.
        guard s.stride >= 1 || (s.op != Op.conv1d.rawValue && s.op != Op.maxpool.rawValue),
              s.dilation >= 1 || s.op != Op.conv1d.rawValue
        else { throw .sessionInvalid }
        let kernel = Int(truncatingIfNeeded: s.kernel), stride = Int(truncatingIfNeeded: s.stride)
        let dilation = Int(truncatingIfNeeded: s.dilation), padLeft = Int(truncatingIfNeeded: s.padLeft)
        func tensor(_ offset: UInt32) -> UnsafePointer<Float>? {
            guard offset != BlobFormat.none, UInt64(offset) < blobBytes else { return nil }
            return (blob + Int(truncatingIfNeeded: offset)).assumingMemoryBound(to: Float.self)
        }
        switch Op(rawValue: s.op) {
        case .conv1d?:
            guard let w = tensor(s.weight) else { throw .sessionInvalid }
            var residual: UnsafePointer<Float>? = nil
            if s.in1 != BlobFormat.none { residual = UnsafePointer(try value(s.in1).0) }
            let shape = Conv1DShape(lengthIn: lengthIn, channelsIn: cin, lengthOut: lengthOut, channelsOut: cout,
                                    kernel: kernel, stride: stride, dilation: dilation, padLeft: padLeft)
            Conv1DF32.run(shape, x: x, w: w, bias: tensor(s.bias), residual: residual, relu: relu, y: y, isa: isa)
        case .affine?:
            guard let scale = tensor(s.weight), let shift = tensor(s.bias) else { throw .sessionInvalid }
            ElementwiseF32.affine(x: x, scale: scale, shift: shift, length: lengthIn, channels: cin, relu: relu, y: y)
        case .maxpool?:
            PoolF32.maxpool(x: x, lengthIn: lengthIn, channels: cin, kernel: kernel, stride: stride,
                            padLeft: padLeft, lengthOut: lengthOut, y: y)
        case .add?:
            let b = try value(s.in1).0
            ElementwiseF32.add(a: x, b: b, count: lengthIn &* cin, relu: relu, y: y)
        case .mean?:
            PoolF32.mean(x: x, length: lengthIn, channels: cin, y: y)
        case .linear?:
            guard let w = tensor(s.weight) else { throw .sessionInvalid }
            LinearF32.run(x: x, channelsIn: cin, w: w, bias: tensor(s.bias), channelsOut: cout, relu: relu, y: y)
        case .relu?:
            ElementwiseF32.relu(x: x, count: lengthIn &* cin, y: y)
        case nil:
            throw .sessionInvalid
        }
    }
}
