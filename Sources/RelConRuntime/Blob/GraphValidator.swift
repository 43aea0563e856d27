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
                guard let m = form.minWindow else { throw .blobGraph }
                minSamples = max(minSamples, m)
                if v == model.outputValue { outputForm = form }
                try live.insert(LiveEntry(value: v, death: try model.lastUse(of: v, from: v, end: n) ?? i,
                                          form: form, offset: 0, bytes: 0))
                i &+= 1
            }
            // The embedding: value 1...n_layers of shape [1][embedding_dim].
            guard model.outputValue >= 1, model.outputValue <= n, outputForm == .constant(1),
                  try model.channels(ofValue: model.outputValue) == model.embeddingDim
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
