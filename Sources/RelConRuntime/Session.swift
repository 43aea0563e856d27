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
    var dtype: UInt32            // f32 (1), i8 (3), u8 (5) or u7 (6)
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
                                     channels: p.channels, dtype: p.dtype, reserved1: 0)
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
        let y = try forward(session, header: h, samples: samples, n: n, through: h.embedSteps)
        guard y.length == 1, y.channels == Int(h.embeddingDim), y.dtype == BlobFormat.dtypeF32 else { throw .sessionInvalid }
        output.update(from: y.f32, count: y.channels)   // finite: forward checked every f32 value
    }

    /// Runs the embedding's steps [0, embedSteps) on one window and then, when `target` > embedSteps, only the
    /// head layers on the chain from the embedding to value `target` (Heads.swift). Returns value `target`
    /// (a buffer in the arena, valid until the next call). Checks n and the samples; the caller checked the
    /// session (`h`).
    static func forward(_ session: UnsafeMutableRawPointer, header h: SessionHeader, samples: UnsafePointer<Float>,
                        n: UInt32, through target: UInt32) throws(RelConError) -> Value
    {
        try forward(session, header: h, samples: samples, n: n, through: target, all: false) { _, _ in }
    }

    /// As above; with `all`, every step [0, target) runs (no head is skipped: the planned schedule, so every
    /// value is intact when `visit(v, value)` sees it right after the step that writes it).
    /// Every f32 value a step writes is checked: NaN or ±∞ anywhere is RELCON_E_OUTPUT_NOT_FINITE.
    static func forward(_ session: UnsafeMutableRawPointer, header h: SessionHeader, samples: UnsafePointer<Float>,
                        n: UInt32, through target: UInt32, all: Bool,
                        visit: (UInt32, Value) throws(RelConError) -> Void) throws(RelConError) -> Value
    {
        guard target >= h.embedSteps, target <= h.steps else { throw .sessionInvalid }
        guard n >= h.minSamples else { throw .windowTooShort }
        guard n <= h.maxSamples else { throw .windowTooLong }
        guard let blob = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: h.blobAddress)) else {
            throw .sessionInvalid
        }
        let steps = UnsafeRawPointer(session + Int(ArenaPlanner.controlHeaderBytes))
        let values = steps + Int(h.steps) &* Int(ArenaPlanner.stepRecordBytes)
        let buffers = session + Int(truncatingIfNeeded: h.controlBytes)
        let window = Int64(n)
        // The level relcon_session_init chose for this CPU (CPUID is not re-run per call: under a hypervisor each
        // CPUID is a VM exit, microseconds). The header CRC has matched, so it is the value init wrote.
        guard let isa = ISA(rawValue: h.isa) else { throw .sessionInvalid }

        /// Value v: its buffer, length at this window and dtype (checked against the plan, defensively).
        func value(_ v: UInt32) throws(RelConError) -> Value {
            guard v <= h.steps else { throw .sessionInvalid }
            let r = values.loadUnaligned(fromByteOffset: Int(v) &* Int(ArenaPlanner.valueRecordBytes), as: ValueRecord.self)
            let size: UInt64 = r.dtype == BlobFormat.dtypeF32 ? 4 : 1
            guard let length = r.form.length(window: window),
                  r.dtype == BlobFormat.dtypeF32 || r.dtype == BlobFormat.dtypeI8 || r.dtype == BlobFormat.dtypeU8
                      || r.dtype == BlobFormat.dtypeU7,
                  UInt64(length) &* UInt64(r.channels) &* size <= r.bytes,
                  r.offset &+ r.bytes <= h.arenaBytes &- h.controlBytes
            else { throw .sessionInvalid }
            return Value(p: buffers + Int(truncatingIfNeeded: r.offset), length: Int(truncatingIfNeeded: length),
                         channels: Int(truncatingIfNeeded: r.channels), dtype: r.dtype)
        }

        // Value 0: the scaled, clipped input, [n][3], f32.
        let x0 = try value(0)
        guard x0.channels == 3, x0.dtype == BlobFormat.dtypeF32 else { throw .sessionInvalid }
        try copyInput(samples, count: Int(truncatingIfNeeded: n), header: h, into: x0.f32)

        func step(_ i: UInt32) -> StepRecord {
            steps.loadUnaligned(fromByteOffset: Int(i) &* Int(ArenaPlanner.stepRecordBytes), as: StepRecord.self)
        }
        var i: UInt32 = 0
        while i < target {
            if i >= h.embedSteps && !all {
                // A head layer: run it only if its output lies on the chain target <- ... <- embedding.
                var v = target
                var hops: UInt32 = 0
                while v > h.embedSteps, v != i &+ 1, hops <= Heads.maxChain {
                    let in0 = step(v &- 1).in0
                    guard in0 < v else { throw .sessionInvalid }
                    v = in0
                    hops &+= 1
                }
                if v != i &+ 1 { i &+= 1; continue }
            }
            try run(step(i), out: i &+ 1, value: value, blob: blob, blobBytes: h.blobBytes, isa: isa,
                    f16: h.precision == BlobFormat.dtypeF16)
            let y = try value(i &+ 1)
            if y.dtype == BlobFormat.dtypeF32, !allFinite(y.f32, count: y.length &* y.channels) { throw .outputNotFinite }
            try visit(i &+ 1, y)
            i &+= 1
        }
        return try value(target)
    }

    /// True when none of the `count` floats is NaN or ±∞ (exponent bits all ones): an integer max over the
    /// magnitudes' bit patterns, which the compiler vectorises (a float reduction it may not reorder).
    static func allFinite(_ p: UnsafePointer<Float>, count: Int) -> Bool {
        let bits = UnsafeRawPointer(p).assumingMemoryBound(to: UInt32.self)
        var m: UInt32 = 0
        var i = 0
        while i < count { m = max(m, bits[i] & 0x7FFF_FFFF); i &+= 1 }
        return m < 0x7F80_0000
    }

    /// Samples clamped to ±rawClip (g), then x·scale + offset per axis, clamped to ±clip when clip > 0.
    /// Rejects NaN and ±∞ samples.
    static func copyInput(_ samples: UnsafePointer<Float>, count n: Int, header h: SessionHeader,
                                  into x: UnsafeMutablePointer<Float>) throws(RelConError)
    {
        let scale = SIMD3<Float>(h.inputScale0, h.inputScale1, h.inputScale2)
        let offset = SIMD3<Float>(h.inputOffset0, h.inputOffset1, h.inputOffset2)
        let clip = h.inputClip
        let raw = h.rawClip
        var t = 0
        while t < n {
            let s = SIMD3<Float>(samples[3 &* t], samples[3 &* t &+ 1], samples[3 &* t &+ 2])
            guard s[0].isFinite, s[1].isFinite, s[2].isFinite else { throw .inputNotFinite }
            var v = s.clamped(lowerBound: SIMD3(repeating: -raw), upperBound: SIMD3(repeating: raw)) * scale + offset
            if clip > 0 { v = v.clamped(lowerBound: SIMD3(repeating: -clip), upperBound: SIMD3(repeating: clip)) }
            x[3 &* t] = v[0]; x[3 &* t &+ 1] = v[1]; x[3 &* t &+ 2] = v[2]
            t &+= 1
        }
    }

    /// Runs one compiled step.
    private static func run(_ s: StepRecord, out: UInt32, value: (UInt32) throws(RelConError) -> Value,
                            blob: UnsafeRawPointer, blobBytes: UInt64, isa: ISA, f16: Bool) throws(RelConError)
    {
        let x = try value(s.in0)
        let y = try value(out)
        let relu = s.act == 1
        // The records passed the CRC, so these hold; checking them costs nothing and keeps a division by
        // zero impossible whatever memory the pointer came from.
        guard s.stride >= 1 || (s.op != Op.conv1d.rawValue && s.op != Op.maxpool.rawValue),
              s.dilation >= 1 || s.op != Op.conv1d.rawValue,
              x.channels == Int(s.channelsIn), y.channels == Int(s.channelsOut)
        else { throw .sessionInvalid }
        let kernel = Int(truncatingIfNeeded: s.kernel), stride = Int(truncatingIfNeeded: s.stride)
        let dilation = Int(truncatingIfNeeded: s.dilation), padLeft = Int(truncatingIfNeeded: s.padLeft)
        func tensor(_ offset: UInt32) -> UnsafeRawPointer? {
            guard offset != BlobFormat.none, UInt64(offset) < blobBytes else { return nil }
            return blob + Int(truncatingIfNeeded: offset)
        }
        func f32(_ offset: UInt32) -> UnsafePointer<Float>? { tensor(offset)?.assumingMemoryBound(to: Float.self) }
        func i32(_ offset: UInt32) -> UnsafePointer<Int32>? { tensor(offset)?.assumingMemoryBound(to: Int32.self) }
        let shape = Conv1DShape(lengthIn: x.length, channelsIn: x.channels, lengthOut: y.length, channelsOut: y.channels,
                                kernel: kernel, stride: stride, dilation: dilation, padLeft: padLeft)

        if x.dtype == BlobFormat.dtypeF32 && s.op != Op.quantize.rawValue {
            // f32 values: every layer of f32/f16 blobs, and the f32 tail of int8 blobs.
            guard y.dtype == BlobFormat.dtypeF32 || s.op == Op.mean.rawValue else { throw .sessionInvalid }
            switch Op(rawValue: s.op) {
            case .conv1d?:
                guard let w = tensor(s.weight) else { throw .sessionInvalid }
                var residual: UnsafeRawPointer? = nil
                if s.in1 != BlobFormat.none {
                    let r = try value(s.in1)
                    guard r.dtype == BlobFormat.dtypeF32 else { throw .sessionInvalid }
                    residual = UnsafeRawPointer(r.p)
                }
                var a = shape.args
                a.x = UnsafeRawPointer(x.p); a.w = w; a.bias = tensor(s.bias); a.residual = residual
                a.y = y.p; a.relu = relu ? 1 : 0
                withUnsafePointer(to: &a) { f16 ? Kernels.convF16(isa, $0) : Kernels.convF32(isa, $0) }
            case .affine?:
                guard let scale = f32(s.weight), let shift = f32(s.bias) else { throw .sessionInvalid }
                ElementwiseF32.affine(x: x.f32, scale: scale, shift: shift, length: x.length, channels: x.channels,
                                      relu: relu, y: y.f32)
            case .maxpool?:
                PoolF32.maxpool(x: x.f32, lengthIn: x.length, channels: x.channels, kernel: kernel, stride: stride,
                                padLeft: padLeft, lengthOut: y.length, y: y.f32)
            case .add?:
                let b = try value(s.in1)
                guard b.dtype == BlobFormat.dtypeF32 else { throw .sessionInvalid }
                ElementwiseF32.add(a: x.f32, b: b.f32, count: x.length &* x.channels, relu: relu, y: y.f32)
            case .mean?:
                PoolF32.mean(x: x.f32, length: x.length, channels: x.channels, y: y.f32)
            case .linear?:
                guard let w = tensor(s.weight) else { throw .sessionInvalid }
                if f16 {
                    LinearF32.runF16(x: x.f32, channelsIn: x.channels, w: w, bias: f32(s.bias), channelsOut: y.channels,
                                     relu: relu, y: y.f32)
                } else {
                    LinearF32.run(x: x.f32, channelsIn: x.channels, w: w.assumingMemoryBound(to: Float.self),
                                  bias: f32(s.bias), channelsOut: y.channels, relu: relu, y: y.f32)
                }
            case .relu?:
                ElementwiseF32.relu(x: x.f32, count: x.length &* x.channels, y: y.f32)
            case .quantize?, nil:
                throw .sessionInvalid
            }
            return
        }

        // int8 blobs: i8/u8/u7 values (docs/quantization.md §2). A u7 value is clamped to 0...127 by whatever
        // writes it (or is a RELU / MAXPOOL of an i8 / u7 value: GraphValidator), so a CONV1D reading one may
        // take the vpmaddubsw lane (x_max).
        let (lo, hi): (Int32, Int32) = y.dtype == BlobFormat.dtypeU8 ? (0, 255)
                                     : y.dtype == BlobFormat.dtypeU7 ? (0, 127) : (-127, 127)
        switch Op(rawValue: s.op) {
        case .quantize?:
            guard let mult = f32(s.weight), y.dtype == BlobFormat.dtypeI8 else { throw .sessionInvalid }
            Int8Ops.quantize(x: x.f32, length: x.length, channels: x.channels, mult: mult, y: y.p)
        case .conv1d?:
            guard let w = tensor(s.weight), let m = i32(s.mult), let sh = i32(s.shift), y.dtype != BlobFormat.dtypeF32
            else { throw .sessionInvalid }
            var a = shape.args
            a.x = UnsafeRawPointer(x.p); a.w = w; a.bias = tensor(s.bias); a.y = y.p
            a.mult = m; a.shift = sh; a.x_signed = x.dtype == BlobFormat.dtypeI8 ? 1 : 0
            a.x_max = x.dtype == BlobFormat.dtypeU7 ? 127 : 0
            a.out_lo = lo; a.out_hi = hi
            if s.in1 != BlobFormat.none {
                let r = try value(s.in1)
                guard r.dtype != BlobFormat.dtypeF32, let mr = i32(s.multRes) else { throw .sessionInvalid }
                a.residual = UnsafeRawPointer(r.p); a.res_signed = r.dtype == BlobFormat.dtypeI8 ? 1 : 0
                a.mult_res = mr
            }
            withUnsafePointer(to: &a) { Kernels.convI8(isa, $0) }
        case .affine?:
            guard let aa = i32(s.weight), let bb = i32(s.bias), let sh = i32(s.shift), y.dtype != BlobFormat.dtypeF32
            else { throw .sessionInvalid }
            var a = Int8Ops.eltwiseArgs(x: x, mult: aa, shift: sh, lo: lo, hi: hi, y: y.p)
            a.bias = UnsafeRawPointer(bb)
            if !withUnsafePointer(to: &a, { Kernels.affineI8(isa, $0) }) {
                Int8Ops.affine(x: x, a: aa, b: bb, shift: sh, lo: lo, hi: hi, y: y.p)
            }
        case .add?:
            let b = try value(s.in1)
            guard b.dtype != BlobFormat.dtypeF32, let m = i32(s.mult), let mr = i32(s.multRes), let sh = i32(s.shift),
                  y.dtype != BlobFormat.dtypeF32
            else { throw .sessionInvalid }
            var a = Int8Ops.eltwiseArgs(x: x, mult: m, shift: sh, lo: lo, hi: hi, y: y.p)
            a.residual = UnsafeRawPointer(b.p); a.res_signed = b.dtype == BlobFormat.dtypeI8 ? 1 : 0; a.mult_res = mr
            if !withUnsafePointer(to: &a, { Kernels.addI8(isa, $0) }) {
                Int8Ops.add(x: x, b: b, mult: m, multRes: mr, shift: sh, lo: lo, hi: hi, y: y.p)
            }
        case .maxpool?:
            guard y.dtype == x.dtype else { throw .sessionInvalid }
            Int8Ops.maxpool(x: x, kernel: kernel, stride: stride, padLeft: padLeft, lengthOut: y.length, y: y.p)
        case .relu?:
            guard y.dtype == BlobFormat.dtypeU8 || y.dtype == BlobFormat.dtypeU7 else { throw .sessionInvalid }
            Int8Ops.relu(x: x, y: y.p)
        case .mean?:
            guard let scale = f32(s.scale), y.dtype == BlobFormat.dtypeF32 else { throw .sessionInvalid }
            Int8Ops.mean(x: x, scale: scale, y: y.f32)
        case .linear?, nil:
            throw .sessionInvalid
        }
    }
}

/// A value's buffer at the current window.
struct Value {
    var p: UnsafeMutableRawPointer
    var length: Int
    var channels: Int
    var dtype: UInt32
    var f32: UnsafeMutablePointer<Float> { p.assumingMemoryBound(to: Float.self) }
}
