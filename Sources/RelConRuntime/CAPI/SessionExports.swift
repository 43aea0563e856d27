// C entry points of the session queries (include/relcon.h, "Session queries (0.5)"): check the pointers, call
// one Swift function (SessionQueries.swift), map its error (Errors.swift).

public import CRelCon

@c @implementation
public func relcon_session_info(_ session: OpaquePointer?, _ outInfo: UnsafeMutablePointer<relcon_session_desc>?)
    -> relcon_status
{
    guard let session, let outInfo else { return .RELCON_E_NULL_ARGUMENT }
    // The caller's struct may be an older, shorter layout: read only its leading struct_bytes field, and write
    // no more bytes than it says.
    // This library knows the 0.5 layout (64 bytes, tail padding included on 32-bit targets, where Swift's
    // MemoryLayout.size stops at the last field).
    let callerBytes = UnsafeRawPointer(outInfo).load(as: UInt32.self)
    let known = Int(RELCON_SESSION_DESC_V1_BYTES)
    return cStatus { () throws(RelConError) in
        guard callerBytes >= UInt32(known) else { throw .invalidArgument }
        let s = try Session.summary(UnsafeRawPointer(session))
        let n = known
        var d = relcon_session_desc()
        d.struct_bytes = UInt32(n)
        d.isa_level = s.isa.rawValue
        d.arena_bytes = s.arenaBytes
        d.blob_bytes = s.blobBytes
        d.min_samples = s.minSamples
        d.max_samples = s.maxSamples
        d.window_samples = s.windowSamples
        d.input_channels = s.inputChannels
        d.sample_rate_hz = s.sampleRateHz
        d.embedding_dim = s.embeddingDim
        d.precision = s.precision
        d.n_heads = s.heads
        d.isa_name = UnsafeRawPointer(s.isa.name.utf8Start).assumingMemoryBound(to: CChar.self)
        withUnsafeBytes(of: &d) { field in
            if let base = field.baseAddress {
                UnsafeMutableRawPointer(outInfo).copyMemory(from: base, byteCount: min(n, field.count))
            }
        }
    }
}

@c @implementation
public func relcon_session_head_info(_ session: OpaquePointer?, _ head: UInt32,
                                     _ outInfo: UnsafeMutablePointer<relcon_head_desc>?) -> relcon_status
{
    guard let session, let outInfo else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let h = try Session.headInfo(UnsafeRawPointer(session), head)
        var d = relcon_head_desc()
        d.name = h.name.cString
        d.target = h.target?.cString
        d.unit = h.unit?.cString
        d.kind = h.kind.rawValue
        d.n_outputs = h.outputs
        outInfo.pointee = d
    }
}

@c @implementation
public func relcon_session_head_class_name(_ session: OpaquePointer?, _ head: UInt32, _ classIndex: UInt32,
                                           _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> relcon_status
{
    guard let session, let outName else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        outName.pointee = try Session.className(UnsafeRawPointer(session), head: head, classIndex: classIndex)
    }
}
