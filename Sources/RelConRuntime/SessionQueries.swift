// Session-level queries (include/relcon.h, "Session queries (0.5)"): what a session was planned with and runs
// at, and its heads, from the checksummed control block (Session.check) and bounds-checked reads of the blob's
// header and metadata. The blob is not validated again: no CRC over it, no graph walk. Anything that no longer
// fits the session's records (a blob changed after relcon_session_init) is RELCON_E_SESSION_INVALID.

extension ISA {
    /// The name relcon_session_info reports: the value of RELCON_ISA that selects this level.
    var name: StaticString {
        switch self {
        case .portable: return "portable"
        #if arch(x86_64)
        case .v3: return "v3"
        case .v4: return "v4"
        #elseif arch(arm64) && RELCON_A64_KERNELS
        case .neon: return "neon"
        case .dotprod: return "dotprod"
        #endif
        }
    }
}

/// A session as relcon_session_info describes it.
struct SessionSummary {
    var isa: ISA
    var arenaBytes: UInt64
    var blobBytes: UInt64
    var minSamples: UInt32
    var maxSamples: UInt32
    var windowSamples: UInt32
    var inputChannels: UInt32
    var sampleRateHz: Float
    var embeddingDim: UInt32
    var precision: UInt32
    var heads: UInt32
}

extension Session {
    /// relcon_session_info.
    static func summary(_ session: UnsafeRawPointer) throws(RelConError) -> SessionSummary {
        let h = try check(session)
        guard let isa = ISA(rawValue: h.isa) else { throw .sessionInvalid }
        // The contract's rate and window from the blob header (fixed offsets, checked against what init saw).
        let b = try blobBytes(h)
        let rate: Float, window: UInt32, heads: UInt32
        do throws(RelConError) {
            rate = try b.f32(BlobFormat.Header.sampleRate)
            window = try b.u32(BlobFormat.Header.windowSamples)
            heads = try Heads.count(try metaRegion(h))
        } catch { throw .sessionInvalid }
        guard rate.isFinite, rate > 0, window >= h.minSamples,
              (heads == 0) == (h.steps == h.embedSteps)   // init compiled head layers iff the blob had heads
        else { throw .sessionInvalid }
        return SessionSummary(isa: isa, arenaBytes: h.arenaBytes, blobBytes: h.blobBytes, minSamples: h.minSamples,
                              maxSamples: h.maxSamples, windowSamples: window, inputChannels: h.inputChannels,
                              sampleRateHz: rate, embeddingDim: h.embeddingDim, precision: h.precision,
                              heads: heads)
    }

    /// relcon_session_head_info: head `index` with its name (and target and unit for a regressor).
    static func headInfo(_ session: UnsafeRawPointer, _ index: UInt32) throws(RelConError) -> HeadInfo {
        let h = try check(session)
        let head = try head(session, h, index)   // noSuchHead; kind, value and K checked against the records
        let meta = try metaRegion(h)
        guard let name = meta.find(.head(index, "_name")) else { throw .sessionInvalid }
        var info = HeadInfo(name: name, kind: head.kind, value: head.value, outputs: head.outputs, target: nil,
                            unit: nil)
        if head.kind == .regressor {
            guard let target = meta.find(.head(index, "_target")), let unit = meta.find(.head(index, "_unit")) else {
                throw .sessionInvalid
            }
            info.target = target
            info.unit = unit
        }
        return info
    }

    /// relcon_session_head_class_name.
    static func className(_ session: UnsafeRawPointer, head index: UInt32, classIndex: UInt32) throws(RelConError)
        -> UnsafePointer<CChar>
    {
        let h = try check(session)
        let head = try head(session, h, index)
        guard head.kind == .classifier, classIndex < head.outputs else { throw .invalidArgument }
        guard let s = try metaRegion(h).find(MetaKey(prefix: "head", index: index, suffix: "_class", index2: classIndex))
        else { throw .sessionInvalid }
        return s.cString
    }
}
