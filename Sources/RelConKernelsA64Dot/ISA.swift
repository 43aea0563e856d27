// Kernels for aarch64 with the dot-product extension (FEAT_DotProd, Armv8.2-A and later: Cortex-A55/A75/A76…):
// built by mk/arm-a64.mk with -Xcc -march=armv8.2-a+dotprod and only ever called after the runtime has seen
// HWCAP_ASIMDDP in getauxval(AT_HWCAP) (relcon_kernels.h, rlck_detect_isa): a Cortex-A53 would SIGILL here.
//
//   int8  signed activations, and u7 ones (0…127, rlck_conv.x_max) read as i8: sdot, 16 products per
//         instruction into four i32 lanes (exact); u8 activations above 127: the NEON widening lane (LaneU8W)
//   fp32/fp16: none here: the runtime routes them to RelConKernelsA64 (the dot-product extension adds nothing
//         to them), which keeps this module's code to the int8 lanes.

import CRelConA64
import CRelConKernels

/// sdot: lane i of acc += Σ_{j<4} x[4i+j]·w[4i+j].
enum LaneI8Dot: LaneA64Bytes {
    @inline(__always) static func mad(_ acc: VI4, _ x: VB16, _ w: VB16) -> VI4 { rlck_a64_sdot(acc, x, w) }
}

@export(interface) public func convI8(_ a: UnsafePointer<rlck_conv>) {
    if bytesAsSigned(a.pointee) { ConvDriver.run(a, LaneI8Dot.self) } else { ConvDriver.run(a, LaneU8W.self) }
}

@_cdecl("rlck_a64_dot_conv_i8") public func cConvI8(_ a: UnsafePointer<rlck_conv>) { convI8(a) }
