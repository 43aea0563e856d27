// The kernel tables (Sources/RelConRuntime/Kernels/Dispatch.swift, relcon_kernels.h `rlck_kernels`): what each
// ISA level's table holds, how a level's missing int8 AFFINE / ADD entries resolve through its fallback, and the
// value types against the blob format's codes. The kernels behind the entries are tested on every runnable level
// in QuantizedTests / KernelTests.

import CRelConKernels
import Testing
@testable import RelConRuntimeHosted

@Suite struct KernelTableTests {
    /// Every level falls back to a level of this architecture at or below itself; portable has no int8
    /// AFFINE / ADD entries and no shape rule; v3 has both entries and no rule; v4 leaves both to v3 and has the
    /// v4 → v3 rule.
    @Test func tablesAndFallbacks() {
        for isa in ISA.allCases {
            let t = isa.kernels
            let fallback = ISA(rawValue: UInt32(bitPattern: t.fallback))
            #expect(fallback != nil, "\(isa): fallback \(t.fallback) is no level")
            #expect((fallback?.rawValue ?? .max) <= isa.rawValue, "\(isa) falls back upwards")
        }
        let p = ISA.portable.kernels
        #expect(p.affine_i8 == nil && p.add_i8 == nil && p.keeps == nil && p.fallback == Int32(RLCK_ISA_PORTABLE))
        #if arch(x86_64)
        let v3 = ISA.v3.kernels, v4 = ISA.v4.kernels
        #expect(v3.affine_i8 != nil && v3.add_i8 != nil && v3.keeps == nil && v3.fallback == Int32(RLCK_ISA_PORTABLE))
        #expect(v4.affine_i8 == nil && v4.add_i8 == nil && v4.keeps != nil && v4.fallback == Int32(RLCK_ISA_V3))
        let resolved = KernelTable(.v4)
        #expect(resolved.lower.affine_i8 != nil && resolved.lower.add_i8 != nil && resolved.lower.keeps == nil)
        #endif
    }

    /// The int8 AFFINE / ADD entry a session of each runnable level reaches: none on portable (the executor then
    /// runs the portable loops), v3's on v3 and (inherited) on v4. An empty block: nothing is read or written.
    @Test(arguments: runnableISAs) func elementwiseEntries(_ isa: ISA) {
        var bytes: [UInt8] = [0, 0xA5]                 // x, y
        let params: [Int32] = [1, 1]                   // A = M = B = Mr, shift
        bytes.withUnsafeMutableBytes { b in
            params.withUnsafeBufferPointer { q in
                var a = rlck_eltwise()
                a.x = UnsafeRawPointer(b.baseAddress!); a.y = b.baseAddress! + 1
                a.mult = q.baseAddress; a.bias = q.baseAddress; a.mult_r = q.baseAddress; a.shift = q.baseAddress! + 1
                a.r = a.x
                a.length = 0; a.channels = 0
                let vector = isa != .portable
                #expect(withUnsafePointer(to: &a) { Kernels.affineI8(isa, $0) } == vector, "\(isa) affine")
                #expect(withUnsafePointer(to: &a) { Kernels.addI8(isa, $0) } == vector, "\(isa) add")
            }
        }
        #expect(bytes == [0, 0xA5])
    }

    /// ValueType's raw values are the format's value codes; tensor-only codes (f16, i32) are no value type.
    @Test func valueTypeCodes() {
        #expect(ValueType.f32.rawValue == BlobFormat.dtypeF32)
        #expect(ValueType.i8.rawValue == BlobFormat.dtypeI8)
        #expect(ValueType.u8.rawValue == BlobFormat.dtypeU8)
        #expect(ValueType.u7.rawValue == BlobFormat.dtypeU7)
        #expect(ValueType(rawValue: BlobFormat.dtypeF16) == nil)
        #expect(ValueType(rawValue: BlobFormat.dtypeI32) == nil)
        #expect(ValueType(rawValue: 0) == nil && ValueType(rawValue: 7) == nil)
        #expect(ValueType.f32.elementBytes == 4 && ValueType.i8.elementBytes == 1 && ValueType.u7.elementBytes == 1)
        #expect(ValueType.u8.clampRange.lo == 0 && ValueType.u8.clampRange.hi == 255)
        #expect(ValueType.u7.clampRange.lo == 0 && ValueType.u7.clampRange.hi == 127)
        #expect(ValueType.i8.clampRange.lo == -127 && ValueType.i8.clampRange.hi == 127)
    }
}
