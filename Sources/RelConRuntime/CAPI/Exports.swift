// Every C entry point of librelcon (include/relcon.h), and nothing else: check the arguments, call one
// Swift function, map its error to a relcon_status (Errors.swift). `@c @implementation` makes the compiler
// check each signature against the header's declaration.
//
// size_t arrives as Int; it is reinterpreted as UInt (a C size above Int.max is a large size, not a
// negative one).

public import CRelCon

/// "MAJOR.MINOR.PATCH" of include/relcon.h; a Swift test checks it against the header's macros.
let versionString: StaticString = "0.4.1"

@c @implementation
public func relcon_version() -> UInt32 {
    UInt32(RELCON_VERSION_MAJOR) &* 10000 &+ UInt32(RELCON_VERSION_MINOR) &* 100 &+ UInt32(RELCON_VERSION_PATCH)
}

@c @implementation
public func relcon_version_string() -> UnsafePointer<CChar>! {
    cString(versionString)
}

@c @implementation
public func relcon_status_string(_ status: relcon_status) -> UnsafePointer<CChar>! {
    // Read the raw 32 bits: C may pass a value that is not a case of the enum.
    cString(statusText(unsafeBitCast(status, to: UInt32.self)))
}

@c @implementation
public func relcon_inspect(_ blob: UnsafeRawPointer?, _ blobBytes: Int, _ nSamples: UInt32,
                           _ outInfo: UnsafeMutablePointer<relcon_model_info>?) -> relcon_status
{
    guard let blob, let outInfo else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        outInfo.pointee = try Inspect.describe(blob: blob, blobBytes: UInt(bitPattern: blobBytes), nSamples: nSamples)
    }
}

@c @implementation
public func relcon_meta(_ blob: UnsafeRawPointer?, _ blobBytes: Int, _ key: UnsafePointer<CChar>?,
                        _ outValue: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> relcon_status
{
    guard let blob, let key, let outValue else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        outValue.pointee = try Inspect.meta(blob: blob, blobBytes: UInt(bitPattern: blobBytes), key: key)
    }
}

@c @implementation
public func relcon_session_init(_ blob: UnsafeRawPointer?, _ blobBytes: Int, _ maxSamples: UInt32,
                                _ arena: UnsafeMutableRawPointer?, _ arenaBytes: Int,
                                _ outSession: UnsafeMutablePointer<OpaquePointer?>?) -> relcon_status
{
    guard let blob, let arena, let outSession else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let session = try Session.initialize(blob: blob, blobBytes: UInt(bitPattern: blobBytes), maxSamples: maxSamples,
                                             arena: arena, arenaBytes: UInt(bitPattern: arenaBytes))
        outSession.pointee = OpaquePointer(session)
    }
}

@c @implementation
public func relcon_embed(_ session: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ nSamples: UInt32,
                         _ outEmbedding: UnsafeMutablePointer<Float>?, _ embeddingCapacity: UInt32) -> relcon_status
{
    guard let session, let samples, let outEmbedding else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        try Session.embed(UnsafeMutableRawPointer(session), samples: samples, n: nSamples,
                          output: outEmbedding, capacity: embeddingCapacity)
    }
}

/// The error mapping of every entry point: RELCON_OK when `body` returns, the status of its error when it
/// throws (Errors.swift). The closure is non-escaping: nothing is allocated.
@inline(__always)
func cStatus(_ body: () throws(RelConError) -> Void) -> relcon_status {
    do throws(RelConError) {
        try body()
        return .RELCON_OK
    } catch {
        return error.status
    }
}

/// A static string literal as a C string (Swift emits literals NUL-terminated).
private func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}
