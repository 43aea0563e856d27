// libFuzzer harness over the CLI's recording readers (CSV, NPY) and the resampler (Sources/RelConSwift): any bytes,
// with a rate and time unit taken from the first byte, through RecordingReader.parse and Recording.convert to
// 100 Hz. Errors are CLIError / ResamplerError (thrown, one line each in the CLI); nothing may trap or run away.
// Built by mk/fuzz.mk (fuzz-cli) with the Kit sources and the instrumented runtime twin.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func relconFuzzCLI(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let data = Data(bytes: bytes, count: size)
    let b = bytes[0]
    let rates: [Double?] = [nil, 25, 26, 50, 52, 100, 104, 200, 1, 5000, 0.5, 1e6]
    let rate = rates[Int(b & 0x0F) % rates.count]
    let units = TimeUnit.allCases[Int(b >> 4) % TimeUnit.allCases.count]
    do {
        var rec = try RecordingReader.parse(Data(data.dropFirst()), path: "fuzz", rate: rate, timeUnit: units)
        guard rec.count <= 200_000 else { return 0 }   // bounds one execution, not the reader
        try rec.convert(units: .g, targetRate: 100)
        _ = rec.interleaved()
    } catch {}
    return 0
}
