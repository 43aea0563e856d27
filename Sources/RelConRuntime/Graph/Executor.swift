// The graph executor: runs a session's compiled steps (Session.swift's control block) on one window, one
// function per operator. `forward` walks the steps in the planned order (skipping the head layers off the chain
// to the value asked for), checks every value against the plan before a kernel sees it, and hands each step to
// its operator's function; that function picks the kernel by the values' types (ValueType): the f32 kernels
// (f32/f16 blobs, and the f32 tail of int8 blobs) or the int8 ones (docs/quantization.md §2), and for CONV1D
// and int8 AFFINE / ADD the entry of the session's kernel table (Kernels/Dispatch.swift).
//
//   operator   f32 / f16 kernel                          int8 kernel
//   CONV1D     table conv_f32 / conv_f16 (Conv1D+F32)    table conv_i8
//   AFFINE     ElementwiseF32.affine                     table affine_i8, else Int8Ops.affine
//   MAXPOOL    PoolF32.maxpool                           Int8Ops.maxpool
//   ADD        ElementwiseF32.add                        table add_i8, else Int8Ops.add
//   MEAN       PoolF32.mean                              Int8Ops.mean
//   LINEAR     LinearF32.run / runF16                    (none: the head layers are f32)
//   RELU       ElementwiseF32.relu                       Int8Ops.relu
//   QUANTIZE   (none)                                    Int8Ops.quantize (f32 in, i8 out)
//
// A new operator: one `case` in `Op` (Blob/BlobFormat.swift), its rules in Blob/GraphValidator.swift, one
// function here and one line in `run`, its kernels in Kernels/ (one file per operator and type).

import CRelConKernels

enum Executor {
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
        let kernels = KernelTable(isa)   // resolved once for every step of this window

        /// Value v: its buffer, length at this window and type (checked against the plan, defensively).
        func value(_ v: UInt32) throws(RelConError) -> Value {
            guard v <= h.steps else { throw .sessionInvalid }
            let r = values.loadUnaligned(fromByteOffset: Int(v) &* Int(ArenaPlanner.valueRecordBytes), as: ValueRecord.self)
            guard let type = ValueType(rawValue: r.dtype), let length = r.form.length(window: window),
                  UInt64(length) &* UInt64(r.channels) &* type.elementBytes <= r.bytes,
                  r.offset &+ r.bytes <= h.arenaBytes &- h.controlBytes
            else { throw .sessionInvalid }
            return Value(p: buffers + Int(truncatingIfNeeded: r.offset), length: Int(truncatingIfNeeded: length),
                         channels: Int(truncatingIfNeeded: r.channels), dtype: type)
        }

        // Value 0: the scaled, clipped input, [n][3], f32.
        let x0 = try value(0)
        guard x0.channels == 3, x0.dtype == .f32 else { throw .sessionInvalid }
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
            try run(step(i), out: i &+ 1, value: value, blob: blob, blobBytes: h.blobBytes, kernels: kernels,
                    f16: h.precision == BlobFormat.dtypeF16)
            let y = try value(i &+ 1)
            if y.dtype == .f32, !allFinite(y.f32, count: y.length &* y.channels) { throw .outputNotFinite }
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

    // MARK: steps

    /// What one step's operator function reads: its record, its values (checked against the plan), the blob's
    /// tensors and the session's kernel table.
    struct Step {
        let s: StepRecord
        let x: Value                 // in0
        let x1: Value?               // in1 (the residual of CONV1D, the second input of ADD), when the step has one
        let y: Value                 // the output
        let blob: UnsafeRawPointer
        let blobBytes: UInt64
        let kernels: KernelTable
        let f16: Bool                // an f16 blob: CONV1D / LINEAR weights are binary16

        var relu: Bool { s.act == 1 }

        func tensor(_ offset: UInt32) -> UnsafeRawPointer? {
            guard offset != BlobFormat.none, UInt64(offset) < blobBytes else { return nil }
            return blob + Int(truncatingIfNeeded: offset)
        }
        func f32(_ offset: UInt32) -> UnsafePointer<Float>? { tensor(offset)?.assumingMemoryBound(to: Float.self) }
        func i32(_ offset: UInt32) -> UnsafePointer<Int32>? { tensor(offset)?.assumingMemoryBound(to: Int32.self) }

        var shape: Conv1DShape {
            Conv1DShape(lengthIn: x.length, channelsIn: x.channels, lengthOut: y.length, channelsOut: y.channels,
                        kernel: Int(truncatingIfNeeded: s.kernel), stride: Int(truncatingIfNeeded: s.stride),
                        dilation: Int(truncatingIfNeeded: s.dilation), padLeft: Int(truncatingIfNeeded: s.padLeft))
        }

        /// The clamp of a quantised output (u8 0...255, u7 0...127, i8 −127...127).
        var outRange: (lo: Int32, hi: Int32) { y.dtype.clampRange }
    }

    /// Runs one compiled step: checks its record against its values, then calls its operator's function. `float`:
    /// the step reads f32 values (every layer of f32/f16 blobs, the f32 tail of int8 blobs); otherwise it is an
    /// int8 blob's step on i8/u8/u7 values (or its QUANTIZE, f32 in).
    static func run(_ s: StepRecord, out: UInt32, value: (UInt32) throws(RelConError) -> Value,
                    blob: UnsafeRawPointer, blobBytes: UInt64, kernels: KernelTable, f16: Bool) throws(RelConError)
    {
        let x = try value(s.in0)
        let y = try value(out)
        // The records passed the CRC, so these hold; checking them costs nothing and keeps a division by
        // zero impossible whatever memory the pointer came from.
        guard s.stride >= 1 || (s.op != Op.conv1d.rawValue && s.op != Op.maxpool.rawValue),
              s.dilation >= 1 || s.op != Op.conv1d.rawValue,
              x.channels == Int(s.channelsIn), y.channels == Int(s.channelsOut),
              let op = Op(rawValue: s.op)
        else { throw .sessionInvalid }
        let x1: Value? = (op == .conv1d || op == .add) && s.in1 != BlobFormat.none ? try value(s.in1) : nil
        let step = Step(s: s, x: x, x1: x1, y: y, blob: blob, blobBytes: blobBytes, kernels: kernels, f16: f16)
        let float = x.dtype == .f32 && op != .quantize
        if float { guard y.dtype == .f32 || op == .mean else { throw .sessionInvalid } }
        switch op {
        case .conv1d: try conv1d(step, float: float)
        case .affine: try affine(step, float: float)
        case .maxpool: try maxpool(step, float: float)
        case .add: try add(step, float: float)
        case .mean: try mean(step, float: float)
        case .linear: try linear(step, float: float)
        case .relu: try relu(step, float: float)
        case .quantize: try quantize(step)
        }
    }

    // MARK: operators (docs/blob-format.md, "Operators"; int8: docs/quantization.md §2)

    /// CONV1D through the kernel table. int8: a u7 input is clamped to 0...127 by whatever writes it (or is a
    /// RELU / MAXPOOL of an i8 / u7 value: GraphValidator), so the kernel may take the vpmaddubsw lane (x_max).
    static func conv1d(_ c: Step, float: Bool) throws(RelConError) {
        let s = c.s, x = c.x, y = c.y
        guard let w = c.tensor(s.weight) else { throw .sessionInvalid }
        var a = c.shape.args
        a.x = UnsafeRawPointer(x.p); a.w = w; a.bias = c.tensor(s.bias); a.y = y.p
        if float {
            if let r = c.x1 {
                guard r.dtype == .f32 else { throw .sessionInvalid }
                a.residual = UnsafeRawPointer(r.p)
            }
            a.relu = c.relu ? 1 : 0
            withUnsafePointer(to: &a) { c.f16 ? c.kernels.convF16($0) : c.kernels.convF32($0) }
            return
        }
        guard let m = c.i32(s.mult), let sh = c.i32(s.shift), y.dtype != .f32 else { throw .sessionInvalid }
        a.mult = m; a.shift = sh; a.x_signed = x.dtype == .i8 ? 1 : 0
        a.x_max = x.dtype == .u7 ? 127 : 0
        (a.out_lo, a.out_hi) = c.outRange
        if let r = c.x1 {
            guard r.dtype != .f32, let mr = c.i32(s.multRes) else { throw .sessionInvalid }
            a.residual = UnsafeRawPointer(r.p); a.res_signed = r.dtype == .i8 ? 1 : 0
            a.mult_res = mr
        }
        withUnsafePointer(to: &a) { c.kernels.convI8($0) }
    }

    /// AFFINE (the batch-norm that cannot be folded): f32 y = x·scale + shift; int8 per-channel A, B, shift.
    static func affine(_ c: Step, float: Bool) throws(RelConError) {
        let s = c.s, x = c.x, y = c.y
        if float {
            guard let scale = c.f32(s.weight), let shift = c.f32(s.bias) else { throw .sessionInvalid }
            ElementwiseF32.affine(x: x.f32, scale: scale, shift: shift, length: x.length, channels: x.channels,
                                  relu: c.relu, y: y.f32)
            return
        }
        guard let aa = c.i32(s.weight), let bb = c.i32(s.bias), let sh = c.i32(s.shift), y.dtype != .f32
        else { throw .sessionInvalid }
        let (lo, hi) = c.outRange
        var a = Int8Ops.eltwiseArgs(x: x, mult: aa, shift: sh, lo: lo, hi: hi, y: y.p)
        a.bias = bb
        if !withUnsafePointer(to: &a, { c.kernels.affineI8($0) }) {
            Int8Ops.affine(x: x, a: aa, b: bb, shift: sh, lo: lo, hi: hi, y: y.p)
        }
    }

    /// MAXPOOL (dilation 1, zero-free: padded taps are skipped). int8: the output keeps the input's type.
    static func maxpool(_ c: Step, float: Bool) throws(RelConError) {
        let s = c.s, x = c.x, y = c.y
        let kernel = Int(truncatingIfNeeded: s.kernel), stride = Int(truncatingIfNeeded: s.stride)
        let padLeft = Int(truncatingIfNeeded: s.padLeft)
        if float {
            PoolF32.maxpool(x: x.f32, lengthIn: x.length, channels: x.channels, kernel: kernel, stride: stride,
                            padLeft: padLeft, lengthOut: y.length, y: y.f32)
            return
        }
        guard y.dtype == x.dtype else { throw .sessionInvalid }
        Int8Ops.maxpool(x: x, kernel: kernel, stride: stride, padLeft: padLeft, lengthOut: y.length, y: y.p)
    }

    /// ADD of in0 and in1 (then ReLU). int8: both inputs rescaled (M, Mr) before one rounding shift.
    static func add(_ c: Step, float: Bool) throws(RelConError) {
        let s = c.s, x = c.x, y = c.y
        guard let b = c.x1 else { throw .sessionInvalid }
        if float {
            guard b.dtype == .f32 else { throw .sessionInvalid }
            ElementwiseF32.add(a: x.f32, b: b.f32, count: x.length &* x.channels, relu: c.relu, y: y.f32)
            return
        }
        guard b.dtype != .f32, let m = c.i32(s.mult), let mr = c.i32(s.multRes), let sh = c.i32(s.shift),
              y.dtype != .f32
        else { throw .sessionInvalid }
        let (lo, hi) = c.outRange
        var a = Int8Ops.eltwiseArgs(x: x, mult: m, shift: sh, lo: lo, hi: hi, y: y.p)
        a.r = UnsafeRawPointer(b.p); a.r_signed = b.dtype == .i8 ? 1 : 0; a.mult_r = mr
        if !withUnsafePointer(to: &a, { c.kernels.addI8($0) }) {
            Int8Ops.add(x: x, b: b, mult: m, multRes: mr, shift: sh, lo: lo, hi: hi, y: y.p)
        }
    }

    /// MEAN over time: [L][C] -> [1][C] f32 (int8: the exact integer sum, then the input's scale).
    static func mean(_ c: Step, float: Bool) throws(RelConError) {
        let x = c.x, y = c.y
        if float {
            PoolF32.mean(x: x.f32, length: x.length, channels: x.channels, y: y.f32)
            return
        }
        guard let scale = c.f32(c.s.scale), y.dtype == .f32 else { throw .sessionInvalid }
        Int8Ops.mean(x: x, scale: scale, y: y.f32)
    }

    /// LINEAR (head layers; f32 values only, binary16 weights in f16 blobs).
    static func linear(_ c: Step, float: Bool) throws(RelConError) {
        let s = c.s, x = c.x, y = c.y
        guard float, let w = c.tensor(s.weight) else { throw .sessionInvalid }
        if c.f16 {
            LinearF32.runF16(x: x.f32, channelsIn: x.channels, w: w, bias: c.f32(s.bias), channelsOut: y.channels,
                             relu: c.relu, y: y.f32)
        } else {
            LinearF32.run(x: x.f32, channelsIn: x.channels, w: w.assumingMemoryBound(to: Float.self),
                          bias: c.f32(s.bias), channelsOut: y.channels, relu: c.relu, y: y.f32)
        }
    }

    /// RELU: max(x, 0); int8 writes u8 or u7.
    static func relu(_ c: Step, float: Bool) throws(RelConError) {
        let x = c.x, y = c.y
        if float {
            ElementwiseF32.relu(x: x.f32, count: x.length &* x.channels, y: y.f32)
            return
        }
        guard y.dtype == .u8 || y.dtype == .u7 else { throw .sessionInvalid }
        Int8Ops.relu(x: x, y: y.p)
    }

    /// QUANTIZE (int8 blobs: the f32 network input -> i8).
    static func quantize(_ c: Step) throws(RelConError) {
        let x = c.x, y = c.y
        guard let mult = c.f32(c.s.weight), y.dtype == .i8 else { throw .sessionInvalid }
        Int8Ops.quantize(x: x.f32, length: x.length, channels: x.channels, mult: mult, y: y.p)
    }
}
