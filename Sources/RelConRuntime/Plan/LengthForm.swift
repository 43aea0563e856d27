// Shape inference without a window length: every value's length is an exact function of T.
//
// A windowed layer (CONV1D, MAXPOOL) maps L to ⌊(L + e − 1) / s⌋ + 1 with e = pl + pr − d·(K − 1).
// Starting from L = T and using ⌊(⌊x/a⌋ + b) / c⌋ = ⌊(x + a·b) / (a·c)⌋ (integers x, b; a, c > 0), any
// chain of such layers is ONE function
//
//     L(T) = ⌊(T + A) / S⌋          S = product of the strides, A an integer,
//
// and the next windowed layer gives  S' = S·s,  A' = A + S·(e + s − 1).  MEAN and LINEAR give the constant
// length 1; a windowed layer on a constant c gives ⌊(c + e − 1)/s⌋ + 1.
//
// So two values have the same length for every T exactly when their (A, S) are equal (ADD and the fused
// residual need that), the smallest T with L(T) >= 1 is S − A, and min_samples is the largest of these
// over all values (lengths never decrease with T).

/// The length of a value as a function of the window length T.
struct LengthForm: Equatable {
    /// s >= 1: L(T) = ⌊(T + a) / s⌋.  s == 0: the constant length a.
    var a: Int64
    var s: Int64

    /// Value 0, the network input: L(T) = T.
    static var input: LengthForm { LengthForm(a: 0, s: 1) }
    static func constant(_ c: Int64) -> LengthForm { LengthForm(a: c, s: 0) }

    var isConstant: Bool { s == 0 }

    /// The form after a window of `kernel` taps, `stride`, `dilation` and zero/−∞ padding. nil when the
    /// arithmetic overflows Int64, or when a constant length would drop below 1 (no T can fix that).
    func windowed(kernel: UInt32, stride: UInt32, dilation: UInt32, padLeft: UInt32, padRight: UInt32)
        -> LengthForm?
    {
        guard kernel >= 1, stride >= 1, dilation >= 1 else { return nil }
        let (span, o1) = Int64(dilation).multipliedReportingOverflow(by: Int64(kernel) - 1)
        if o1 { return nil }
        let (e, o2) = (Int64(padLeft) + Int64(padRight)).subtractingReportingOverflow(span)
        if o2 { return nil }
        let st = Int64(stride)
        if isConstant {
            let (num, o3) = (a.addingReportingOverflow(e))
            if o3 || num < 1 { return nil }               // ⌊(c + e − 1)/s⌋ + 1 >= 1  ⟺  c + e >= 1
            return .constant((num - 1) / st + 1)
        }
        let (s2, o4) = s.multipliedReportingOverflow(by: st)
        let (k, o5) = e.addingReportingOverflow(st - 1)
        if o4 || o5 { return nil }
        let (sk, o6) = s.multipliedReportingOverflow(by: k)
        if o6 { return nil }
        let (a2, o7) = a.addingReportingOverflow(sk)
        if o7 { return nil }
        return LengthForm(a: a2, s: s2)
    }

    /// The smallest T for which the length is >= 1 (nil on overflow).
    var minWindow: Int64? {
        if isConstant { return 1 }
        let (m, o) = s.subtractingReportingOverflow(a)
        return o ? nil : max(m, 1)
    }

    /// The length for window length `t`; nil when it is below 1 or overflows.
    func length(window t: Int64) -> Int64? {
        if isConstant { return a >= 1 ? a : nil }
        let (num, o) = t.addingReportingOverflow(a)
        if o || num < s { return nil }
        return num / s
    }
}

extension LengthForm {
    /// The form of layer `r`'s output when its in0 has this form (nil: overflow, or never >= 1).
    /// Shared by the validator and the planner so both infer the same shapes.
    func after(_ r: LayerRecord) -> LengthForm? {
        switch Op(rawValue: r.op) {
        case .conv1d?, .maxpool?:
            return windowed(kernel: r.kernel, stride: r.stride, dilation: r.dilation,
                            padLeft: r.padLeft, padRight: r.padRight)
        case .affine?, .add?, .relu?, .quantize?:
            return self
        case .mean?, .linear?:
            return .constant(1)
        case nil:
            return nil
        }
    }
}
