// Run-time ISA dispatch. relcon_session_init picks the level once (CPUID + XGETBV through relcon_kernels.h,
// capped by RELCON_ISA) and records it in the session's checksummed control block; every CONV1D of that
// session then goes to the same module:
//
//   portable  this module's own kernels (Kernels/ISA+Portable.swift), x86-64 baseline: runs anywhere
//   v3        RelConKernelsV3 (AVX2, FMA, F16C)
//   v4        RelConKernelsV4 (AVX-512 + VNNI)
//
// Each per-ISA module is a separate Swift module compiled with its own -march (Swift has no per-function
// target attribute); its entry points are @export(interface), so this module only calls their symbols.

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
// aarch64 (mk/arm-a64.mk): the raw values 1 and 2 are the levels neon (RelConKernelsA64: baseline Advanced SIMD)
// and dotprod (RelConKernelsA64Dot: FEAT_DotProd), from getauxval(AT_HWCAP) (relcon_kernels.h); the v3/v4 calls
// below go to them. `route` keeps every shape on the session's level there (v4 → v3 is an x86 rule), except that
// fp32/fp16 on dotprod run the neon module (the extension adds nothing to them).
import RelConKernelsA64
import RelConKernelsA64Dot
#endif

enum ISA: UInt32, CaseIterable {
    case portable = 0, v3 = 1, v4 = 2

    /// The highest level this CPU and OS support, capped by RELCON_ISA.
    static func detect() -> ISA {
        let level = min(rlck_detect_isa(), rlck_isa_cap())
        return ISA(rawValue: UInt32(clamping: level)) ?? .portable
    }

    /// The highest level the CPU supports, ignoring RELCON_ISA (tests run every level up to this one).
    static var hardware: ISA { ISA(rawValue: UInt32(clamping: rlck_detect_isa())) ?? .portable }
}

enum Kernels {
    /// The precisions of `route`.
    enum Conv { case f32, f16, i8 }

    /// The level one CONV1D runs at on a session of level `isa` (a static rule of the shape, the same for every
    /// call: docs/performance.md, "ISA levels"). The run is K·Cin elements with dilation 1, else Cin. v4 takes
    ///   fp32/fp16  Cout a multiple of 4 (every channel then in a 4 × 4 block, whose last partial chunk is a masked
    ///              load) or runs that are a multiple of 16 floats (whole zmm chunks). Otherwise the last Cout mod 4
    ///              channels would end each output with a scalar tail where v3's 8-float chunks may fit;
    ///   int8       runs of at least 16 bytes (shorter ones take the same zero-filled-copy path on both levels).
    /// Everything else runs v3's lanes. `make bench-shapes`, v4 ÷ v3 per call, paired: every CONV1D of the
    /// reference, compact and tiny encoders that the rule keeps on v4 at 0.22–0.97 (fp32/fp16 0.22–0.94, int8
    /// 0.53–0.97); int8 tiny proj 8>16 k1 (run 8) 1.02 → v3. Before the float 4 × 4 blocks (3-channel blocks, so
    /// Cout 8 left 2 channels to the scalar-tail path) the tiny 8>8 k3 fp32 was 1.95 on v4.
    @inline(__always)
    static func route(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, _ kind: Conv) -> ISA {
        #if arch(arm64)
        return isa
        #else
        guard isa == .v4 else { return isa }
        let p = a.pointee
        let run = p.dilation == 1 || p.kernel == 1 ? p.kernel &* p.channels_in : p.channels_in
        switch kind {
        case .f32, .f16: return p.channels_out % 4 == 0 || run % 16 == 0 ? .v4 : .v3
        case .i8: return run >= 16 ? .v4 : .v3
        }
        #endif
    }

    /// `routed`: false runs `isa`'s own lanes whatever the shape (the tests cover every lane on every shape).
    static func convF32(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, routed: Bool = true) {
        switch routed ? route(isa, a, .f32) : isa {
        case .portable: Portable.convF32(a)
        case .v3: v3ConvF32(a)
        case .v4: v4ConvF32(a)
        }
    }

    static func convF16(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, routed: Bool = true) {
        switch routed ? route(isa, a, .f16) : isa {
        case .portable: Portable.convF16(a)
        case .v3: v3ConvF16(a)
        case .v4: v4ConvF16(a)
        }
    }

    static func convI8(_ isa: ISA, _ a: UnsafePointer<rlck_conv>, routed: Bool = true) {
        switch routed ? route(isa, a, .i8) : isa {
        case .portable: Portable.convI8(a)
        case .v3: v3ConvI8(a)
        case .v4: v4ConvI8(a)
        }
    }

    /// int8 AFFINE / ADD on v3 and v4 CPUs (the v3 module's AVX2 loops; v4 implies v3). Returns false on the
    /// portable level: the caller runs Int8Ops' scalar loops.
    static func affineI8(_ isa: ISA, _ a: UnsafePointer<rlck_conv>) -> Bool {
        #if arch(x86_64)
        guard isa != .portable else { return false }
        v3AffineI8(a)
        return true
        #else
        return false
        #endif
    }

    static func addI8(_ isa: ISA, _ a: UnsafePointer<rlck_conv>) -> Bool {
        #if arch(x86_64)
        guard isa != .portable else { return false }
        v3AddI8(a)
        return true
        #else
        return false
        #endif
    }
}

#if arch(arm64) && RELCON_A64_KERNELS
@inline(__always) private func v3ConvF32(_ a: UnsafePointer<rlck_conv>) { RelConKernelsA64.convF32(a) }
@inline(__always) private func v3ConvF16(_ a: UnsafePointer<rlck_conv>) { RelConKernelsA64.convF16(a) }
@inline(__always) private func v3ConvI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsA64.convI8(a) }
@inline(__always) private func v4ConvF32(_ a: UnsafePointer<rlck_conv>) { RelConKernelsA64.convF32(a) }
@inline(__always) private func v4ConvF16(_ a: UnsafePointer<rlck_conv>) { RelConKernelsA64.convF16(a) }
@inline(__always) private func v4ConvI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsA64Dot.convI8(a) }
#elseif !arch(x86_64)
// Off x86-64 there are no per-ISA modules (Cortex-M, aarch64: docs/embedded.md) and rlck_detect_isa() returns
// portable, so a session never records v3/v4; these keep the switches above total.
@inline(__always) private func v3ConvF32(_ a: UnsafePointer<rlck_conv>) { Portable.convF32(a) }
@inline(__always) private func v3ConvF16(_ a: UnsafePointer<rlck_conv>) { Portable.convF16(a) }
@inline(__always) private func v3ConvI8(_ a: UnsafePointer<rlck_conv>) { Portable.convI8(a) }
@inline(__always) private func v4ConvF32(_ a: UnsafePointer<rlck_conv>) { Portable.convF32(a) }
@inline(__always) private func v4ConvF16(_ a: UnsafePointer<rlck_conv>) { Portable.convF16(a) }
@inline(__always) private func v4ConvI8(_ a: UnsafePointer<rlck_conv>) { Portable.convI8(a) }
#elseif RELCON_HOSTED
@inline(__always) private func v3ConvF32(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3Hosted.convF32(a) }
@inline(__always) private func v3ConvF16(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3Hosted.convF16(a) }
@inline(__always) private func v3ConvI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3Hosted.convI8(a) }
@inline(__always) private func v3AffineI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3Hosted.affineI8(a) }
@inline(__always) private func v3AddI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3Hosted.addI8(a) }
@inline(__always) private func v4ConvF32(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV4Hosted.convF32(a) }
@inline(__always) private func v4ConvF16(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV4Hosted.convF16(a) }
@inline(__always) private func v4ConvI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV4Hosted.convI8(a) }
#else
@inline(__always) private func v3ConvF32(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3.convF32(a) }
@inline(__always) private func v3ConvF16(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3.convF16(a) }
@inline(__always) private func v3ConvI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3.convI8(a) }
@inline(__always) private func v3AffineI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3.affineI8(a) }
@inline(__always) private func v3AddI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV3.addI8(a) }
@inline(__always) private func v4ConvF32(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV4.convF32(a) }
@inline(__always) private func v4ConvF16(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV4.convF16(a) }
@inline(__always) private func v4ConvI8(_ a: UnsafePointer<rlck_conv>) { RelConKernelsV4.convI8(a) }
#endif
