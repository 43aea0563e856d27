// C entry points for heads and the self-test (include/relcon.h, "Heads (0.3)" and "Self-test (0.3)"):
// check the pointers, call one Swift function, map its error (Errors.swift).

public import CRelCon

@c @implementation
public func relcon_head_count(_ blob: UnsafeRawPointer?, _ blobBytes: Int,
                              _ outCount: UnsafeMutablePointer<UInt32>?) -> relcon_status
{
    guard let blob, let outCount else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        outCount.pointee = try Heads.count(blob: blob, blobBytes: UInt(bitPattern: blobBytes))
    }
}

@c @implementation
public func relcon_head_info(_ blob: UnsafeRawPointer?, _ blobBytes: Int, _ head: UInt32,
                             _ outInfo: UnsafeMutablePointer<relcon_head_desc>?) -> relcon_status
{
    guard let blob, let outInfo else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let h = try Heads.describe(blob: blob, blobBytes: UInt(bitPattern: blobBytes), head: head)
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
public func relcon_head_class_name(_ blob: UnsafeRawPointer?, _ blobBytes: Int, _ head: UInt32, _ classIndex: UInt32,
                                   _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> relcon_status
{
    guard let blob, let outName else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        outName.pointee = try Heads.className(blob: blob, blobBytes: UInt(bitPattern: blobBytes), head: head,
                                              classIndex: classIndex)
    }
}

@c @implementation
public func relcon_classify(_ session: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ nSamples: UInt32,
                            _ head: UInt32, _ outProbs: UnsafeMutablePointer<Float>?, _ probsCapacity: UInt32,
                            _ outTop: UnsafeMutablePointer<UInt32>?) -> relcon_status
{
    guard let session, let samples, let outProbs, let outTop else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        try Session.classify(UnsafeMutableRawPointer(session), samples: samples, n: nSamples, head: head,
                             probs: outProbs, capacity: probsCapacity, top: outTop)
    }
}

@c @implementation
public func relcon_regress(_ session: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ nSamples: UInt32,
                           _ head: UInt32, _ outValue: UnsafeMutablePointer<Float>?) -> relcon_status
{
    guard let session, let samples, let outValue else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        try Session.regress(UnsafeMutableRawPointer(session), samples: samples, n: nSamples, head: head, value: outValue)
    }
}

@c @implementation
public func relcon_classify_recording(_ session: OpaquePointer?, _ samples: UnsafePointer<Float>?,
                                      _ nTotalSamples: UInt32, _ hop: UInt32, _ head: UInt32,
                                      _ votes: UnsafeMutablePointer<UInt32>?, _ votesCapacity: UInt32,
                                      _ outTop: UnsafeMutablePointer<UInt32>?,
                                      _ outWindows: UnsafeMutablePointer<UInt32>?) -> relcon_status
{
    guard let session, let samples, let votes, let outTop, let outWindows else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        try Session.classifyRecording(UnsafeMutableRawPointer(session), samples: samples, nTotal: nTotalSamples, hop: hop,
                                      head: head, votes: votes, capacity: votesCapacity, top: outTop,
                                      windowCount: outWindows)
    }
}

@c @implementation
public func relcon_regress_recording(_ session: OpaquePointer?, _ samples: UnsafePointer<Float>?,
                                     _ nTotalSamples: UInt32, _ hop: UInt32, _ head: UInt32,
                                     _ outMean: UnsafeMutablePointer<Float>?,
                                     _ outWindows: UnsafeMutablePointer<UInt32>?) -> relcon_status
{
    guard let session, let samples, let outMean, let outWindows else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        try Session.regressRecording(UnsafeMutableRawPointer(session), samples: samples, nTotal: nTotalSamples, hop: hop,
                                     head: head, mean: outMean, windowCount: outWindows)
    }
}

@c @implementation
public func relcon_selftest(_ session: OpaquePointer?, _ outMaxRelError: UnsafeMutablePointer<Float>?) -> relcon_status {
    guard let session, let outMaxRelError else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        try Session.selfTest(UnsafeMutableRawPointer(session), error: outMaxRelError)
    }
}
