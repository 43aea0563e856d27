// The stream's state layout and the resampler design (Sources/RelConRuntime/Stream). Streaming equals batch is
// tested from C (Tests/CTests/test_stream.c) against librelcon.so.
import Testing
@testable import RelConRuntimeHosted

@Suite struct StreamLayoutTests {
    /// The CRC covers exactly the immutable first 128 bytes; the counters follow; everything fits 256 bytes, with
    /// no padding (the same layout on 32-bit targets).
    @Test func stateLayout() {
        #expect(MemoryLayout<StreamState>.size <= Int(StreamState.bytes))
        #expect(MemoryLayout<StreamState>.offset(of: \StreamState.received) == StreamState.immutableBytes)
        #expect(MemoryLayout<StreamState>.offset(of: \StreamState.reserved0) == StreamState.immutableBytes - 4)
        #expect(MemoryLayout<StreamState>.offset(of: \StreamState.crc) == StreamState.crcOffset)
        #expect(MemoryLayout<SessionHeader>.size == 128)
        #expect(MemoryLayout<SessionHeader>.offset(of: \SessionHeader.selfAddress) == 120)
    }

    /// Ratios of the common sensor rates to 100 Hz, and the table sizes they need.
    @Test func designs() throws {
        let cases: [(Double, UInt32, UInt32)] = [(25, 4, 1), (26, 50, 13), (50, 2, 1), (52, 25, 13), (100, 1, 1),
                                                  (104, 25, 26), (200, 1, 2)]
        for (rate, up, down) in cases {
            let d = try ResampleDesign.make(inRate: rate, outRate: 100)
            #expect(d.up == up && d.down == down, "\(rate) Hz")
            #expect(d.isIdentity == (up == down))
            #expect(d.tableBytes == UInt64(up) * UInt64(d.taps) * 4)
        }
        for bad in [0.0, 0.999, 5000.01, 1e30, -50, .nan, .infinity] {
            #expect(throws: RelConError.invalidArgument) { try ResampleDesign.make(inRate: bad, outRate: 100) }
        }
    }

    /// The runtime's own sin, sqrt and I0 (no libm) against Foundation-free identities.
    @Test func softMath() {
        for x in stride(from: -3.0, through: 3.0, by: 0.125) {
            let s = SoftMath.sinPi(x), c = SoftMath.sinPi(x + 0.5)
            #expect(abs(s * s + c * c - 1) < 1e-14, "\(x)")
        }
        #expect(SoftMath.sinPi(1) == 0 || abs(SoftMath.sinPi(1)) < 1e-15)
        for x in [1e-300, 1e-5, 0.5, 2, 1e10, 1e300] { #expect(abs(SoftMath.sqrt(x) * SoftMath.sqrt(x) / x - 1) < 1e-15) }
        #expect(abs(SoftMath.besselI0(8) - 427.56411572180478) < 1e-9)   // I0(8), tabulated
        #expect(SoftMath.besselI0(0) == 1)
    }
}
