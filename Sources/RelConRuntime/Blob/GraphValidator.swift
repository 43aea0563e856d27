// The layer graph's rules (docs/blob-format.md, "Graph"): operators, wiring, unused fields, tensor shapes,
// channel counts and lengths. Lengths are checked for every T at once through LengthForm.

enum GraphValidator {
    /// Checks every layer (also those after output_value) and the output value; returns min_samples.
    static func validate(_ model: Model) throws(RelConError) -> UInt32 {
        let n = model.nLayers
        return try LiveSet.with { (live: inout LiveSet) throws(RelConError) -> UInt32 in
            var minSamples: Int64 = 1
            var outputForm: LengthForm? = nil
            try live.insert(LiveEntry(value: 0, death: try model.lastUse(of: 0, from: 0, end: n) ?? 0,
                                      form: .input, offset: 0, bytes: 0))
            var i: UInt32 = 0
            while i < n {
                live.removeDead(before: i)
                let v = i &+ 1
                let form = try checkLayer(model, index: i, live: live)
                try checkPrecision(model, index: i)
                guard let m = form.minWindow else { throw .blobGraph }
                minSamples = max(minSamples, m)
                if v == model.outputValue { outputForm = form }
                try live.insert(LiveEntry(value: v, death: try model.lastUse(of: v, from: v, end: n) ?? i,
                                          form: form, offset: 0, bytes: 0))
                i &+= 1
            }
            // The embedding: value 1...n_layers of shape [1][embedding_dim].
            guard model.outputValue >= 1, model.outputValue <= n, outputForm == .constant(1),
                  try model.channels(ofValue: model.outputValue) == model.embeddingDim,
                  try model.dtype(ofValue: model.outputValue) == BlobFormat.dtypeF32
            else { throw .blobGraph }
            guard minSamples <= Int64(UInt32.max) else { throw .blobGraph }
            return UInt32(truncatingIfNeeded: minSamples)
        }
    }

    /// Checks layer `index` against the values alive before it; returns its output's length form.
    static func checkLayer(_ model: Model, index i: UInt32, live: LiveSet) throws(RelConError) -> LengthForm {
        let r = try model.layer(i)
        let none = BlobFormat.none
        guard let op = Op(rawValue: r.op), r.out == i &+ 1, r.act <= 1, r.outChannels >= 1,
              r.reserved0 == 0, r.reserved1 == 0, r.reserved2 == 0,
              r.in0 <= i, r.in1 == none || r.in1 <= i,
              r.t0 == none || r.t0 < model.nTensors, r.t1 == none || r.t1 < model.nTensors
        else { throw .blobGraph }
        guard let input = live.find(r.in0) else { throw .blobGraph }
        let cin = try model.channels(ofValue: r.in0)
        let cout = r.outChannels
        let windowFieldsZero = r.kernel == 0 && r.stride == 0 && r.dilation == 0 && r.padLeft == 0 && r.padRight == 0

        switch op {
        case .conv1d:
            // t0 weight [Cout][K][Cin], t1 bias [Cout] or NONE; optional fused residual in1 [L'][Cout].
            guard r.t0 != none, try tensorHasShape(model, r.t0, rank: 3, cout, r.kernel, cin),
                  try optionalTensorHasShape(model, r.t1, cout),
                  let form = input.form.after(r)
            else { throw .blobGraph }
            if r.in1 != none {
                guard let residual = live.find(r.in1), residual.form == form,
                      try model.channels(ofValue: r.in1) == cout
                else { throw .blobGraph }
            }
            return form

        case .affine:
            guard r.in1 == none, windowFieldsZero, cout == cin,
                  r.t0 != none, try tensorHasShape(model, r.t0, rank: 1, cin, 0, 0),
                  r.t1 != none, try tensorHasShape(model, r.t1, rank: 1, cin, 0, 0)
            else { throw .blobGraph }
            return input.form

        case .maxpool:
            // −∞ padding: every window must hold at least one real sample, hence pads < kernel.
            guard r.in1 == none, r.t0 == none, r.t1 == none, r.act == 0, cout == cin, r.dilation == 1,
                  r.padLeft < r.kernel, r.padRight < r.kernel,
                  let form = input.form.after(r)
            else { throw .blobGraph }
            return form

        case .add:
            guard r.in1 != none, r.t0 == none, r.t1 == none, windowFieldsZero, cout == cin,
                  let other = live.find(r.in1), other.form == input.form,
                  try model.channels(ofValue: r.in1) == cin
            else { throw .blobGraph }
            return input.form

        case .mean:
            guard r.in1 == none, r.t0 == none, r.t1 == none, windowFieldsZero, r.act == 0, cout == cin
            else { throw .blobGraph }
            return .constant(1)

        case .linear:
            guard r.in1 == none, windowFieldsZero, input.form == .constant(1),
                  r.t0 != none, try tensorHasShape(model, r.t0, rank: 2, cout, cin, 0),
                  try optionalTensorHasShape(model, r.t1, cout)
            else { throw .blobGraph }
            return .constant(1)

        case .relu:
            guard r.in1 == none, r.t0 == none, r.t1 == none, windowFieldsZero, r.act == 0, cout == cin
            else { throw .blobGraph }
            return input.form

        case .quantize:
            // int8 blobs only: t0 multiplier [C] (f32), the f32 input to i8.
            guard model.isInt8, r.in1 == none, r.t1 == none, windowFieldsZero, r.act == 0, cout == cin,
                  r.t0 != none, try tensorHasShape(model, r.t0, rank: 1, cin, 0, 0)
            else { throw .blobGraph }
            return input.form
        }
    }

    // MARK: version 2: tensor dtypes per role, the int8 quantisation records

    /// f16 blobs: CONV1D/LINEAR weights are f16, every other tensor a layer uses f32. int8 blobs: the rules of
    /// docs/blob-format.md "Version 2" and docs/quantization.md §2/§6 (dtypes, scales > 0, multipliers ≥ 0,
    /// shifts in [1, 62], |bias| ≤ 2^30, K·Cin ≤ 32768, value dtypes). Everything is RELCON_E_BLOB_GRAPH.
    static func checkPrecision(_ model: Model, index i: UInt32) throws(RelConError) {
        let r = try model.layer(i)
        let none = BlobFormat.none
        guard let op = Op(rawValue: r.op) else { throw .blobGraph }
        if model.precision == BlobFormat.dtypeF16 {
            if r.t0 != none {
                let want = op == .conv1d || op == .linear ? BlobFormat.dtypeF16 : BlobFormat.dtypeF32
                guard try model.tensor(r.t0).dtype == want else { throw .blobGraph }
            }
            if r.t1 != none { guard try model.tensor(r.t1).dtype == BlobFormat.dtypeF32 else { throw .blobGraph } }
            return
        }
        guard model.isInt8 else { return }

        let q = try model.quant(i)
        let f32 = BlobFormat.dtypeF32, i8 = BlobFormat.dtypeI8, u8 = BlobFormat.dtypeU8, i32 = BlobFormat.dtypeI32
        let u7 = BlobFormat.dtypeU7
        guard q.reserved0 == 0, q.reserved1 == 0, q.reserved2 == 0,
              q.outScale == none || q.outScale < model.nTensors, q.mult == none || q.mult < model.nTensors,
              q.shift == none || q.shift < model.nTensors, q.multRes == none || q.multRes < model.nTensors,
              q.outDtype == f32 || q.outDtype == i8 || q.outDtype == u8
                  || (q.outDtype == u7 && model.version >= BlobFormat.version3)
        else { throw .blobGraph }
        let c = r.outChannels
        let din = try model.dtype(ofValue: r.in0)
        /// A CONV1D / AFFINE / ADD output: u8 or u7 (0...127) after a ReLU, else i8.
        let actOK = r.act == 1 ? q.outDtype == u8 || q.outDtype == u7 : q.outDtype == i8

        /// Tensor t exists with this dtype (and shape [c] when asked); returns its data offset.
        func need(_ t: UInt32, _ dtype: UInt32, shape: Bool = true) throws(RelConError) -> UInt64 {
            guard t != none else { throw .blobGraph }
            let rec = try model.tensor(t)
            guard rec.dtype == dtype, !shape || (rec.rank == 1 && rec.d0 == c) else { throw .blobGraph }
            return UInt64(rec.dataOffset)
        }
        func eachI32(_ t: UInt32, _ ok: (Int32) -> Bool) throws(RelConError) {
            let offset = try need(t, i32)
            var k: UInt64 = 0
            while k < UInt64(c) { guard ok(try model.bytes.i32(offset &+ 4 &* k)) else { throw .blobGraph }; k &+= 1 }
        }
        func positiveF32(_ t: UInt32, shape: Bool = true) throws(RelConError) {
            let offset = try need(t, f32, shape: shape)
            let rec = try model.tensor(t)
            let n = UInt64(rec.dataBytes) / 4
            var k: UInt64 = 0
            while k < n { guard try model.bytes.f32(offset &+ 4 &* k) > 0 else { throw .blobGraph }; k &+= 1 }
        }
        func scaleOut() throws(RelConError) { try positiveF32(q.outScale) }
        func shifts() throws(RelConError) {
            try eachI32(q.shift) { $0 >= BlobFormat.shiftMin && $0 <= BlobFormat.shiftMax }
        }
        func multiplier(_ t: UInt32) throws(RelConError) { try eachI32(t) { $0 >= 0 } }
        func quantised(_ v: UInt32) throws(RelConError) -> Bool {
            let d = try model.dtype(ofValue: v)
            return d == i8 || d == u8 || d == u7
        }

        if op == .quantize {
            guard din == f32, q.outDtype == i8 else { throw .blobGraph }
            try positiveF32(r.t0, shape: false)
            try scaleOut()
            guard q.mult == none, q.shift == none, q.multRes == none else { throw .blobGraph }
            return
        }
        if din == f32 {
            // The f32 tail after MEAN: LINEAR and RELU with f32 tensors.
            guard op == .linear || op == .relu, q.outDtype == f32,
                  q.outScale == none, q.mult == none, q.shift == none, q.multRes == none
            else { throw .blobGraph }
            if r.t0 != none { guard try model.tensor(r.t0).dtype == f32 else { throw .blobGraph } }
            if r.t1 != none { guard try model.tensor(r.t1).dtype == f32 else { throw .blobGraph } }
            return
        }
        switch op {
        case .conv1d:
            guard actOK else { throw .blobGraph }
            let w = try model.tensor(r.t0)
            guard UInt64(w.d1) &* UInt64(w.d2) <= BlobFormat.maxInt8Dot else { throw .blobGraph }
            _ = try need(r.t0, i8, shape: false)
            if r.t1 != none {
                try eachI32(r.t1) { $0 >= -BlobFormat.biasBound && $0 <= BlobFormat.biasBound }
            }
            try scaleOut()
            try multiplier(q.mult)
            try shifts()
            if r.in1 == none {
                guard q.multRes == none else { throw .blobGraph }
            } else {
                guard try quantised(r.in1) else { throw .blobGraph }
                try multiplier(q.multRes)
            }
        case .affine:
            guard actOK else { throw .blobGraph }
            _ = try need(r.t0, i32)
            _ = try need(r.t1, i32)
            try scaleOut()
            try shifts()
            guard q.mult == none, q.multRes == none else { throw .blobGraph }
        case .add:
            guard try quantised(r.in1), actOK else { throw .blobGraph }
            try scaleOut()
            try multiplier(q.mult)
            try multiplier(q.multRes)
            try shifts()
        case .maxpool, .relu:
            // MAXPOOL keeps its input's dtype; RELU writes u8, or u7 from an i8 / u7 input (never from u8: that
            // could exceed 127).
            guard op == .maxpool ? q.outDtype == din : q.outDtype == u8 || (q.outDtype == u7 && din != u8),
                  r.in0 >= 1,
                  q.outScale == (try model.quant(r.in0 &- 1).outScale),
                  q.mult == none, q.shift == none, q.multRes == none
            else { throw .blobGraph }
        case .mean:
            guard q.outDtype == f32, q.outScale == none, q.mult == none, q.shift == none, q.multRes == none
            else { throw .blobGraph }
        case .linear, .quantize:
            throw .blobGraph
        }
    }

    /// t1 of CONV1D and LINEAR: NONE, or a bias [count].
    private static func optionalTensorHasShape(_ model: Model, _ index: UInt32, _ count: UInt32) throws(RelConError) -> Bool {
        index == BlobFormat.none ? true : try tensorHasShape(model, index, rank: 1, count, 0, 0)
    }

    private static func tensorHasShape(_ model: Model, _ index: UInt32, rank: UInt32,
                                       _ d0: UInt32, _ d1: UInt32, _ d2: UInt32) throws(RelConError) -> Bool {
        let t = try model.tensor(index)
        return t.rank == rank && t.d0 == d0 && t.d1 == d1 && t.d2 == d2
    }
}
