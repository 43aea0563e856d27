// The int8 operators other than CONV1D (docs/quantization.md §2), on channels-last [L][C] i8/u8/u7 values, one
// file per operator (Quantize+I8, Affine+I8, Add+I8, MaxPool+I8, Relu+I8, Mean+I8; this file: what they share):
// plain scalar loops over the exact integer formulas (the helpers of ConvDriver.swift's `Requant`, tested
// exhaustively). These loops are the portable path (RELCON_ISA=portable); on v3/v4 CPUs AFFINE and ADD run the
// kernel table's affine_i8 / add_i8 instead (the v3 module's vectorised loops,
// Sources/RelConKernelsV3/Elementwise.swift, bit-exact with these). CONV1D int8 is the table's conv_i8 (the
// portable lanes: ISA+Portable.swift).

import CRelConKernels

enum Int8Ops {
    /// The `rlck_eltwise` block of an int8 AFFINE / ADD for a kernel table's entries (relcon_kernels.h), without
    /// the operator's second operand (AFFINE: bias = B; ADD: r, r_signed, mult_r).
    static func eltwiseArgs(x: Value, mult: UnsafePointer<Int32>, shift: UnsafePointer<Int32>, lo: Int32, hi: Int32,
                            y: UnsafeMutableRawPointer) -> rlck_eltwise
    {
        var a = rlck_eltwise()
        a.x = UnsafeRawPointer(x.p); a.y = y; a.mult = mult; a.shift = shift
        a.length = Int64(x.length); a.channels = Int64(x.channels)
        a.x_signed = x.dtype == .i8 ? 1 : 0
        a.out_lo = lo; a.out_hi = hi
        return a
    }

    @inline(__always)
    static func load(_ v: Value, _ i: Int) -> Int32 {
        v.dtype == .i8 ? Int32(v.p.load(fromByteOffset: i, as: Int8.self))
                       : Int32(v.p.load(fromByteOffset: i, as: UInt8.self))
    }
}
