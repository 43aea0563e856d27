// Run-time ISA dispatch through one kernel table per ISA level. relcon_session_init picks the level once
// (rlck_detect_isa in relcon_kernels.h: CPUID + XGETBV on x86-64, capped by RELCON_ISA) and records it in the
// session's checksummed control block; every inference of that session then resolves that level's table once
// (`KernelTable`) and calls its entries:
//
//   level     table                                  where the kernels live
//   portable  Portable.kernels (Kernels/ISA+Portable)  this module (x86-64 baseline, or any other CPU): runs anywhere
//   v3        v3Kernels()                              RelConKernelsV3 (AVX2, FMA, F16C)
//   v4        v4Kernels()                              RelConKernelsV4 (AVX-512 + VNNI)
//   neon      neonKernels()                            RelConKernelsA64 (aarch64 Advanced SIMD; raw value 1)
//   dotprod   neonKernels() + A64Dot.convI8            RelConKernelsA64Dot (+ FEAT_DotProd SDOT; raw value 2)
//
// A table (`rlck_kernels`, relcon_kernels.h) is C function pointers: the CONV1D entries (fp32, fp16, int8), the
// int8 AFFINE / ADD entries (NULL: the level below's, else the portable loops of Affine+I8.swift and
// Add+I8.swift), and an optional per-shape rule `keeps` that sends a CONV1D to the level below (`fallback`) where
// that level's lanes were measured faster. Each per-ISA module is a separate Swift module compiled with its own
// CPU flags (Swift has no per-function target attribute) and the runtime calls only its table function
// (@export(interface), a name of its own), so this file lists no wrapper per entry point, and the hosted test
// build and the Embedded build share every line.
//
// A new ISA level (docs/runtime.md, "Kernel tables"; docs/architecture.md, "Where a new ISA goes"):
//   1. one module with its lanes and one table function (`xyzKernels() -> rlck_kernels`), or, for lanes that need
//      no flags beyond the target's, one file in Kernels/ with a `static var kernels: rlck_kernels`;
//   2. one `case` in `ISA` below and one line in `ISA.kernels`, inside its architecture's `#if arch(...)`;
//   3. one detection branch in rlck_detect_isa (relcon_kernels.h) returning the case's raw value.

import CRelConKernels
#if arch(x86_64)
#if RELCON_HOSTED
import RelConKernelsV3Hosted
import RelConKernelsV4Hosted
#else
import RelConKernelsV3
import RelConKernelsV4
#endif
#endif
#if arch(arm64) && RELCON_A64_KERNELS
// aarch64 (mk/arm-a64.mk): levels neon (RelConKernelsA64: baseline Advanced SIMD) and dotprod
// (RelConKernelsA64Dot: FEAT_DotProd), from getauxval(AT_HWCAP) (relcon_kernels.h). The dotprod table is the neon
// one with its int8 CONV1D replaced: the extension adds nothing to fp32/fp16.
import RelConKernelsA64
import RelConKernelsA64Dot
#endif

/// The kernel levels of this architecture, in increasing order (raw value = rlck_detect_isa's level).
enum ISA: UInt32, CaseIterable {
    case portable = 0
    #if arch(x86_64)
    case v3 = 1, v4 = 2
    #elseif arch(arm64) && RELCON_A64_KERNELS
    case neon = 1, dotprod = 2
    #endif

    /// This level's kernel table: one line per level.
    var kernels: rlck_kernels {
        switch self {
        case .portable: return Portable.kernels
        #if arch(x86_64)
        case .v3: return v3Kernels()
        case .v4: return v4Kernels()
        #elseif arch(arm64) && RELCON_A64_KERNELS
        case .neon: return neonKernels()
        case .dotprod:
            var t = neonKernels()                                  // fp32/fp16: the extension adds nothing
            t.conv_i8 = { RelConKernelsA64Dot.convI8($0) }
            t.fallback = Int32(RLCK_ISA_A64_NEON)
            return t
        #endif
        }
    }

    /// The highest level this CPU and OS support, capped by RELCON_ISA.
    static func detect() -> ISA {
        let level = min(rlck_detect_isa(), rlck_isa_cap())
        return ISA(rawValue: UInt32(clamping: level)) ?? .portable
    }

    /// The highest level the CPU supports, ignoring RELCON_ISA (tests run every level up to this one).
    static var hardware: ISA { ISA(rawValue: UInt32(clamping: rlck_detect_isa())) ?? .portable }
}

/// A level's table together with its fallback level's, resolved once per inference (two calls into the modules'
/// table functions) and then read by every step of that inference.
struct KernelTable {
    let own: rlck_kernels
    /// The fallback level's table (the level's own when it names none, or itself).
    let lower: rlck_kernels

    init(_ isa: ISA) {
        own = isa.kernels
        if let f = ISA(rawValue: UInt32(bitPattern: own.fallback)), f != isa { lower = f.kernels } else { lower = own }
    }

    /// The table whose CONV1D entry runs this call: `own` unless its rule sends the shape below.
    @inline(__always)
    func conv(_ a: UnsafePointer<rlck_conv>, _ kind: Kernels.Conv, routed: Bool) -> rlck_kernels {
        guard routed, let keeps = own.keeps, keeps(a, kind.rawValue) == 0 else { return own }
        return lower
    }

    func convF32(_ a: UnsafePointer<rlck_conv>, routed: Bool = true) { conv(a, .f32, routed: routed).conv_f32(a) }
    func convF16(_ a: UnsafePointer<rlck_conv>, routed: Bool = true) { conv(a, .f16, routed: routed).conv_f16(a) }
    func convI8(_ a: UnsafePointer<rlck_conv>, routed: Bool = true) { conv(a, .i8, routed: routed).conv_i8(a) }

    /// int8 AFFINE / ADD: the level's entry, else its fallback's; false when neither has one (the caller then
    /// runs Int8Ops' portable loops).
    func affineI8(_ a: UnsafePointer<rlck_eltwise>) -> Bool {
        guard let f = own.affine_i8 ?? lower.affine_i8 else { return false }
        f(a)
        return true
    }

    func addI8(_ a: UnsafePointer<rlck_eltwise>) -> Bool {
        guard let f = own.add_i8 ?? lower.add_i8 else { return false }
        f(a)
        return true
    }
}

/// One-call forms of the table for the tests and the float helpers (each resolves the table; the executor
/// resolves it once per inference instead).
enum Kernels {
    /// The precisions of a CONV1D (`kind` of rlck_kernels.keeps).
    enum Conv: Int32 {
        case f32 = 0, f16 = 1, i8 = 2   // RLCK_CONV_F32, _F16, _I8
    }

    /// The level one CONV1D runs at on a session of level `isa`: `isa`, or its fallback where its table's rule
    /// sends the shape there (v4 → v3: RelConKernelsV4/ISA.swift, v4Keeps).
    static func route(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, _ kind: Conv) -> ISA {
        let t = isa.kernels
        guard let keeps = t.keeps, keeps(a, kind.rawValue) == 0,
              let f = ISA(rawValue: UInt32(bitPattern: t.fallback)) else { return isa }
        return f
    }

    /// `routed`: false runs `isa`'s own lanes whatever the shape (the tests cover every lane on every shape).
    static func convF32(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, routed: Bool = true) {
        KernelTable(isa).convF32(a, routed: routed)
    }

    static func convF16(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, routed: Bool = true) {
        KernelTable(isa).convF16(a, routed: routed)
    }

    static func convI8(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, routed: Bool = true) {
        KernelTable(isa).convI8(a, routed: routed)
    }

    /// int8 AFFINE / ADD on `isa`'s table (v3 and v4: the v3 module's AVX2 loops). Returns false on the portable
    /// level: the caller runs Int8Ops' scalar loops.
    static func affineI8(_ isa: ISA, _ a: UnsafePointer<rlck_eltwise>) -> Bool { KernelTable(isa).affineI8(a) }

    static func addI8(_ isa: ISA, _ a: UnsafePointer<rlck_eltwise>) -> Bool { KernelTable(isa).addI8(a) }
}
