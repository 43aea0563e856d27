// CONV1D, fp32, channels-last (docs/blob-format.md op 1):
//   y[t][o] = b[o] + Σ_k Σ_c w[o][k][c] · x[t·stride − padLeft + k·dilation][c]   (zero padding)
//             (+ residual[t][o]) (then ReLU)
// The work is done by ConvDriver.swift in the module of the session's ISA level (Kernels/Dispatch.swift).

import CRelConKernels

/// Shape of one CONV1D call. Every field comes from the validated plan.
struct Conv1DShape {
    var lengthIn: Int, channelsIn: Int
    var lengthOut: Int, channelsOut: Int
    var kernel: Int, stride: Int, dilation: Int, padLeft: Int

    /// The kernel argument block for this shape, with no tensors yet.
    var args: rlck_conv {
        var a = rlck_conv()
        a.length_in = Int64(lengthIn); a.channels_in = Int64(channelsIn)
        a.length_out = Int64(lengthOut); a.channels_out = Int64(channelsOut)
        a.kernel = Int64(kernel); a.stride = Int64(stride); a.dilation = Int64(dilation); a.pad_left = Int64(padLeft)
        return a
    }
}

enum Conv1DF32 {
    /// x: [lengthIn][channelsIn]; w: [channelsOut][kernel][channelsIn]; bias: [channelsOut] or nil;
    /// residual: [lengthOut][channelsOut] or nil; y: [lengthOut][channelsOut] (must not alias the inputs).
    /// routed: false runs `isa`'s lanes whatever the shape (Kernels.route; for the tests).
    static func run(_ s: Conv1DShape, x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    residual: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>, isa: ISA = .detect(),
                    routed: Bool = true)
    {
        var a = s.args
        a.x = UnsafeRawPointer(x); a.w = UnsafeRawPointer(w); a.bias = bias.map { UnsafeRawPointer($0) }
        a.residual = residual.map { UnsafeRawPointer($0) }; a.y = UnsafeMutableRawPointer(y)
        a.relu = relu ? 1 : 0
        withUnsafePointer(to: &a) { Kernels.convF32(isa, $0, routed: routed) }
    }
}
