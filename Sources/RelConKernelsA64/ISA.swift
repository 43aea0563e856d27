// Kernels for baseline aarch64 (Armv8-A Advanced SIMD, present on every aarch64 CPU): the lanes of LanesA64.swift
// over ConvDriver.swift's blocking. Built by mk/arm-a64.mk as its own module (no -march beyond the baseline) and
// linked into the aarch64 librelcon; the runtime calls these entry points on the `neon` level and above
// (Kernels/Dispatch.swift). Entry points are @export(interface): the runtime calls the symbol and never gets a
// copy of the body. The rlck_a64_neon_* C names are for the kernel test (targets/aarch64/test_kernels.c), which
// links this module's object directly; librelcon does not export them.

import CRelConA64
import CRelConKernels

/// This level's kernel table (relcon_kernels.h, `rlck_kernels`; Kernels/Dispatch.swift): CONV1D in every precision;
/// int8 AFFINE / ADD stay on the portable loops; the level below is portable.
@export(interface) public func neonKernels() -> rlck_kernels {
    rlck_kernels(conv_f32: { convF32($0) }, conv_f16: { convF16($0) }, conv_i8: { convI8($0) },
                 affine_i8: nil, add_i8: nil, keeps: nil, fallback: Int32(RLCK_ISA_PORTABLE))
}

@export(interface) public func convF32(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF32.self) }
@export(interface) public func convF16(_ a: UnsafePointer<rlck_conv>) { ConvDriver.run(a, LaneF16.self) }
@export(interface) public func convI8(_ a: UnsafePointer<rlck_conv>) {
    if bytesAsSigned(a.pointee) { ConvDriver.run(a, LaneI8S.self) } else { ConvDriver.run(a, LaneU8W.self) }
}

@_cdecl("rlck_a64_neon_conv_f32") public func cConvF32(_ a: UnsafePointer<rlck_conv>) { convF32(a) }
@_cdecl("rlck_a64_neon_conv_f16") public func cConvF16(_ a: UnsafePointer<rlck_conv>) { convF16(a) }
@_cdecl("rlck_a64_neon_conv_i8") public func cConvI8(_ a: UnsafePointer<rlck_conv>) { convI8(a) }
