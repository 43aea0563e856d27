// C entry points of the resampler and the stream (include/relcon.h, "Resampling (0.5)", "Streaming (0.5)").

public import CRelCon

@c @implementation
public func relcon_resample_info(_ inRate: Double, _ outRate: Double,
                                 _ outDesc: UnsafeMutablePointer<relcon_resample_desc>?) -> relcon_status
{
    guard let outDesc else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let d = try ResampleDesign.make(inRate: inRate, outRate: outRate)
        var r = relcon_resample_desc()
        r.up = d.up; r.down = d.down; r.taps = d.taps; r.reserved = 0
        r.effective_rate_hz = inRate * Double(d.up) / Double(d.down)
        r.work_bytes = d.tableBytes &+ 12 &* UInt64(d.taps)
        outDesc.pointee = r
    }
}

@c @implementation
public func relcon_resample(_ inRate: Double, _ outRate: Double, _ input: UnsafePointer<Float>?, _ nIn: UInt32,
                            _ work: UnsafeMutableRawPointer?, _ workBytes: Int, _ output: UnsafeMutablePointer<Float>?,
                            _ outCapacity: UInt32, _ outN: UnsafeMutablePointer<UInt32>?) -> relcon_status
{
    guard let input, let output, let outN else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let d = try ResampleDesign.make(inRate: inRate, outRate: outRate)
        guard nIn >= 1 else { throw .invalidArgument }
        let need = d.tableBytes &+ 12 &* UInt64(d.taps)
        var table = UnsafeMutablePointer<Float>(bitPattern: 16)!   // unused when need == 0
        if need > 0 {
            guard let work else { throw .nullArgument }
            guard UInt(bitPattern: work) % 16 == 0 else { throw .arenaMisaligned }
            guard UInt64(UInt(bitPattern: workBytes)) >= need else { throw .arenaTooSmall }
            table = work.assumingMemoryBound(to: Float.self)
        }
        let m = d.outputCount(UInt64(nIn))
        guard m <= UInt64(outCapacity) else { throw .bufferTooSmall }
        // 3·n floats must be addressable (32-bit targets): larger counts cannot be real buffers
        guard UInt64(nIn) &* 3 <= UInt64(Int.max), m &* 3 <= UInt64(Int.max) else { throw .invalidArgument }
        guard Executor.allFinite(input, count: Int(nIn) &* 3) else { throw .inputNotFinite }
        d.fill(table)
        ResampleKernel.segment(d, table: UnsafePointer(table), scratch: table + Int(d.tableFloats),
                               input: input, count: nIn, output: output)
        guard Executor.allFinite(UnsafePointer(output), count: Int(m) &* 3) else { throw .outputNotFinite }
        outN.pointee = UInt32(truncatingIfNeeded: m)
    }
}

/// The configuration, or .invalidArgument for non-zero reserved fields / non-finite count scaling.
private func streamConfig(_ c: relcon_stream_config) -> StreamConfig {
    let finite = c.count_scale.0.isFinite && c.count_scale.1.isFinite && c.count_scale.2.isFinite
        && c.count_offset.0.isFinite && c.count_offset.1.isFinite && c.count_offset.2.isFinite
    let zero = c.reserved0 == 0 && c.reserved.0 == 0 && c.reserved.1 == 0 && c.reserved.2 == 0 && c.reserved.3 == 0
    return StreamConfig(inputRate: c.input_rate_hz, hop: c.hop, scale: c.count_scale, offset: c.count_offset,
                        reservedZero: zero, countScaleFinite: finite)
}

@c @implementation
public func relcon_stream_arena_bytes(_ blob: UnsafeRawPointer?, _ blobBytes: Int,
                                      _ config: UnsafePointer<relcon_stream_config>?,
                                      _ outBytes: UnsafeMutablePointer<UInt64>?) -> relcon_status
{
    guard let blob, let config, let outBytes else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let model = try Model.validate(blob, byteCount: UInt(bitPattern: blobBytes))
        outBytes.pointee = try StreamLayout.make(model, streamConfig(config.pointee)).totalBytes
    }
}

@c @implementation
public func relcon_stream_init(_ blob: UnsafeRawPointer?, _ blobBytes: Int, _ config: UnsafePointer<relcon_stream_config>?,
                               _ arena: UnsafeMutableRawPointer?, _ arenaBytes: Int,
                               _ outStream: UnsafeMutablePointer<OpaquePointer?>?) -> relcon_status
{
    guard let blob, let config, let arena, let outStream else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let s = try Stream.initialize(blob: blob, blobBytes: UInt(bitPattern: blobBytes), config: streamConfig(config.pointee),
                                      arena: arena, arenaBytes: UInt(bitPattern: arenaBytes))
        outStream.pointee = OpaquePointer(s)
    }
}

@c @implementation
public func relcon_stream_push_f32(_ stream: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ nSamples: UInt32,
                                   _ tFirst: Double, _ outConsumed: UnsafeMutablePointer<UInt32>?,
                                   _ outResult: UnsafeMutablePointer<relcon_stream_result>?) -> relcon_status
{
    guard let stream, let outConsumed, let outResult else { return .RELCON_E_NULL_ARGUMENT }
    guard nSamples == 0 || samples != nil else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        try Stream.push(UnsafeMutableRawPointer(stream), n: nSamples, time: tFirst, consumed: outConsumed,
                        result: outResult) { j in
            let x = samples.unsafelyUnwrapped + 3 &* j
            return (x[0], x[1], x[2])
        }
    }
}

@c @implementation
public func relcon_stream_push_i16(_ stream: OpaquePointer?, _ counts: UnsafePointer<Int16>?, _ nSamples: UInt32,
                                   _ tFirst: Double, _ outConsumed: UnsafeMutablePointer<UInt32>?,
                                   _ outResult: UnsafeMutablePointer<relcon_stream_result>?) -> relcon_status
{
    guard let stream, let outConsumed, let outResult else { return .RELCON_E_NULL_ARGUMENT }
    guard nSamples == 0 || counts != nil else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        let p = UnsafeMutableRawPointer(stream)
        let s = try Stream.check(p)
        try Stream.push(p, n: nSamples, time: tFirst, consumed: outConsumed, result: outResult) { j in
            let x = counts.unsafelyUnwrapped + 3 &* j
            return (Float(x[0]) * s.countScale0 + s.countOffset0, Float(x[1]) * s.countScale1 + s.countOffset1,
                    Float(x[2]) * s.countScale2 + s.countOffset2)
        }
    }
}

@c @implementation
public func relcon_stream_gap(_ stream: OpaquePointer?) -> relcon_status {
    guard let stream else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in try Stream.gap(UnsafeMutableRawPointer(stream)) }
}

@c @implementation
public func relcon_stream_session(_ stream: OpaquePointer?, _ outSession: UnsafeMutablePointer<OpaquePointer?>?)
    -> relcon_status
{
    guard let stream, let outSession else { return .RELCON_E_NULL_ARGUMENT }
    return cStatus { () throws(RelConError) in
        outSession.pointee = OpaquePointer(try Stream.session(UnsafeMutableRawPointer(stream)))
    }
}
