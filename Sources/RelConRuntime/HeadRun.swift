// Heads and the self-test on a session: relcon_classify, relcon_regress, the recording-level aggregations
// and relcon_selftest. The session was made from a validated blob (heads and self-test vector checked by
// Model.validate); here the blob's metadata is read again through bounds-checked reads (a few hundred bytes
// per call), and anything that no longer fits the session's records is RELCON_E_SESSION_INVALID.

/// A head as a session sees it.
struct SessionHead {
    var kind: HeadKind
    var value: UInt32
    var outputs: UInt32
}

extension Session {
    /// The blob of a checked session, bounds-checked to its total_bytes.
    static func blobBytes(_ h: SessionHeader) throws(RelConError) -> BlobBytes {
        guard let base = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: h.blobAddress)) else { throw .sessionInvalid }
        return BlobBytes(base: base, count: h.blobBytes)
    }

    static func metaRegion(_ h: SessionHeader) throws(RelConError) -> MetaRegion {
        let b = try blobBytes(h)
        do throws(RelConError) {
            return try MetaRegion(b, offset: UInt64(try b.u32(BlobFormat.Header.metaOffset)),
                                  length: UInt64(try b.u32(BlobFormat.Header.metaBytes)))
        } catch { throw .sessionInvalid }
    }

    /// Head `index` of the session's blob: kind, value and K (from the session's value record).
    static func head(_ session: UnsafeRawPointer, _ h: SessionHeader, _ index: UInt32) throws(RelConError) -> SessionHead {
        let meta = try metaRegion(h)
        let n: UInt32
        do throws(RelConError) { n = try Heads.count(meta) } catch { throw .sessionInvalid }
        guard index < n else { throw .noSuchHead }
        guard let kind = meta.find(.head(index, "_kind")), let valueString = meta.find(.head(index, "_value")),
              let value = valueString.index(), value > h.embedSteps, value <= h.steps
        else { throw .sessionInvalid }
        let header = Int(ArenaPlanner.controlHeaderBytes)
        let stepBytes: Int = Int(h.steps) &* Int(ArenaPlanner.stepRecordBytes)
        let values: UnsafeRawPointer = session + (header &+ stepBytes)
        let at: Int = Int(value) &* Int(ArenaPlanner.valueRecordBytes)
        let record = values.loadUnaligned(fromByteOffset: at, as: ValueRecord.self)
        let k: HeadKind
        if kind.equals("classifier") { k = .classifier } else if kind.equals("regressor") { k = .regressor }
        else { throw .sessionInvalid }
        guard record.channels >= 1 else { throw .sessionInvalid }
        return SessionHead(kind: k, value: value, outputs: record.channels)
    }

    /// Embeds one window and runs the head; returns its output [1][K] (f32, in the arena).
    static func runHead(_ session: UnsafeMutableRawPointer, _ h: SessionHeader, _ head: SessionHead,
                        samples: UnsafePointer<Float>, n: UInt32) throws(RelConError) -> UnsafeMutablePointer<Float>
    {
        let y = try Executor.forward(session, header: h, samples: samples, n: n, through: head.value)
        guard y.length == 1, y.channels == Int(head.outputs), y.dtype == .f32 else { throw .sessionInvalid }
        return y.f32
    }

    /// The largest logit's index; ties -> the lowest index.
    static func argmax(_ z: UnsafePointer<Float>, _ k: Int) -> UInt32 {
        var best = 0
        var j = 1
        while j < k { if z[j] > z[best] { best = j }; j &+= 1 }
        return UInt32(truncatingIfNeeded: best)
    }

    // MARK: relcon_classify / relcon_regress

    static func classify(_ session: UnsafeMutableRawPointer, samples: UnsafePointer<Float>, n: UInt32, head index: UInt32,
                         probs: UnsafeMutablePointer<Float>, capacity: UInt32, top: UnsafeMutablePointer<UInt32>)
        throws(RelConError)
    {
        let h = try check(UnsafeRawPointer(session))
        let head = try head(UnsafeRawPointer(session), h, index)
        guard head.kind == .classifier else { throw .invalidArgument }
        guard capacity >= head.outputs else { throw .bufferTooSmall }
        let z = try runHead(session, h, head, samples: samples, n: n)
        let k = Int(head.outputs)
        let best = argmax(z, k)
        // Softmax in double: p_j = exp(z_j − max) / Σ exp(z_i − max).
        let zmax = Double(z[Int(best)])
        var sum: Double = 0
        var j = 0
        while j < k { sum += SoftMath.exp(Double(z[j]) - zmax); j &+= 1 }
        guard sum.isFinite, sum >= 1 else { throw .outputNotFinite }   // z finite (forward checked it): sum in [1, K]
        j = 0
        while j < k { probs[j] = Float(SoftMath.exp(Double(z[j]) - zmax) / sum); j &+= 1 }
        top.pointee = best
    }

    static func regress(_ session: UnsafeMutableRawPointer, samples: UnsafePointer<Float>, n: UInt32, head index: UInt32,
                        value: UnsafeMutablePointer<Float>) throws(RelConError)
    {
        let h = try check(UnsafeRawPointer(session))
        let head = try head(UnsafeRawPointer(session), h, index)
        guard head.kind == .regressor, head.outputs == 1 else { throw .invalidArgument }
        value.pointee = try runHead(session, h, head, samples: samples, n: n)[0]
    }

    // MARK: recordings

    /// Windows of max_samples at 0, hop, 2·hop, ... that fit in nTotal; checks hop, the length and every sample.
    private static func windows(_ h: SessionHeader, samples: UnsafePointer<Float>, nTotal: UInt32, hop: UInt32)
        throws(RelConError) -> UInt32
    {
        guard hop >= 1 else { throw .invalidArgument }
        guard nTotal >= h.maxSamples else { throw .windowTooShort }
        var i = 0
        let count = Int(nTotal) &* 3
        while i < count { guard samples[i].isFinite else { throw .inputNotFinite }; i &+= 1 }
        return (nTotal &- h.maxSamples) / hop &+ 1
    }

    static func classifyRecording(_ session: UnsafeMutableRawPointer, samples: UnsafePointer<Float>, nTotal: UInt32,
                                  hop: UInt32, head index: UInt32, votes: UnsafeMutablePointer<UInt32>,
                                  capacity: UInt32, top: UnsafeMutablePointer<UInt32>,
                                  windowCount: UnsafeMutablePointer<UInt32>) throws(RelConError)
    {
        let h = try check(UnsafeRawPointer(session))
        let head = try head(UnsafeRawPointer(session), h, index)
        guard head.kind == .classifier else { throw .invalidArgument }
        guard capacity >= head.outputs else { throw .bufferTooSmall }
        let n = try windows(h, samples: samples, nTotal: nTotal, hop: hop)
        let k = Int(head.outputs)
        var j = 0
        while j < k { votes[j] = 0; j &+= 1 }
        var w: UInt32 = 0
        while w < n {
            let start = Int(w) &* Int(hop)
            let z = try runHead(session, h, head, samples: samples + start &* 3, n: h.maxSamples)
            let c = Int(argmax(z, k))
            votes[c] &+= 1
            w &+= 1
        }
        var best = 0
        j = 1
        while j < k { if votes[j] > votes[best] { best = j }; j &+= 1 }
        top.pointee = UInt32(truncatingIfNeeded: best)
        windowCount.pointee = n
    }

    static func regressRecording(_ session: UnsafeMutableRawPointer, samples: UnsafePointer<Float>, nTotal: UInt32,
                                 hop: UInt32, head index: UInt32, mean: UnsafeMutablePointer<Float>,
                                 windowCount: UnsafeMutablePointer<UInt32>) throws(RelConError)
    {
        let h = try check(UnsafeRawPointer(session))
        let head = try head(UnsafeRawPointer(session), h, index)
        guard head.kind == .regressor, head.outputs == 1 else { throw .invalidArgument }
        let n = try windows(h, samples: samples, nTotal: nTotal, hop: hop)
        var sum: Double = 0
        var w: UInt32 = 0
        while w < n {
            let start = Int(w) &* Int(hop)
            sum += Double(try runHead(session, h, head, samples: samples + start &* 3, n: h.maxSamples)[0])
            w &+= 1
        }
        let m = Float(sum / Double(n))
        guard m.isFinite else { throw .outputNotFinite }   // each value was finite; their mean overflows f32
        mean.pointee = m
        windowCount.pointee = n
    }

    // MARK: relcon_selftest

    /// Runs the blob's self-test vector; returns the max relative error (throws .selftestFailed after writing it).
    static func selfTest(_ session: UnsafeMutableRawPointer, error out: UnsafeMutablePointer<Float>) throws(RelConError) {
        let h = try check(UnsafeRawPointer(session))
        let meta = try metaRegion(h)
        let a = meta.find(MetaKey(prefix: "selftest_input"))
        let b = meta.find(MetaKey(prefix: "selftest_output"))
        let c = meta.find(MetaKey(prefix: "selftest_tolerance"))
        if a == nil && b == nil && c == nil { throw .notFound }
        guard let input = a?.index(), let output = b?.index(), let tolerance = c?.decimalNumber() else {
            throw .sessionInvalid
        }
        let blob = try blobBytes(h)
        let x: TensorRecord, y: TensorRecord
        do throws(RelConError) {
            let nTensors = try blob.u32(BlobFormat.Header.nTensors)
            let table = UInt64(try blob.u32(BlobFormat.Header.tensorTable))
            guard input < nTensors, output < nTensors else { throw .sessionInvalid }
            x = try blob.tensorRecord(table: table, index: input)
            y = try blob.tensorRecord(table: table, index: output)
        } catch { throw .sessionInvalid }
        guard x.dtype == BlobFormat.dtypeF32, x.rank == 2, x.d1 == 3, UInt64(x.dataBytes) == UInt64(x.d0) &* 12,
              blob.contains(offset: UInt64(x.dataOffset), length: UInt64(x.dataBytes)), x.dataOffset % 4 == 0,
              y.dtype == BlobFormat.dtypeF32, y.rank == 2, y.d0 == 1, y.d1 == h.embeddingDim,
              UInt64(y.dataBytes) == UInt64(y.d1) &* 4,
              blob.contains(offset: UInt64(y.dataOffset), length: UInt64(y.dataBytes)), y.dataOffset % 4 == 0
        else { throw .sessionInvalid }
        guard x.d0 <= h.maxSamples else { throw .windowTooLong }
        let samples = (blob.base + Int(x.dataOffset)).assumingMemoryBound(to: Float.self)
        let expected = (blob.base + Int(y.dataOffset)).assumingMemoryBound(to: Float.self)
        let e: Value
        do throws(RelConError) {
            e = try Executor.forward(session, header: h, samples: samples, n: x.d0, through: h.embedSteps)
        } catch {
            // a non-finite value anywhere: the self-test fails (its documented status), with an infinite error
            if error == .outputNotFinite { out.pointee = .infinity; throw .selftestFailed }
            throw error
        }
        guard e.length == 1, e.channels == Int(h.embeddingDim), e.dtype == .f32 else {
            throw .sessionInvalid
        }
        let got = e.f32
        var scale: Double = 0
        var worst: Double = 0
        var finite = true
        var j = 0
        while j < e.channels {
            let ex = Double(expected[j]), g = Double(got[j])
            if !g.isFinite { finite = false }
            scale = max(scale, ex < 0 ? -ex : ex)
            let d = g - ex
            worst = max(worst, d < 0 ? -d : d)
            j &+= 1
        }
        let rel: Double = !finite ? .infinity : worst == 0 ? 0 : worst / max(scale, Double(Float.leastNormalMagnitude))
        out.pointee = Float(rel)
        guard finite, rel <= tolerance else { throw .selftestFailed }
    }
}

/// exp without libm (the library imports only memset and strlen).
enum SoftMath {
    /// e^x for x <= 0 (softmax arguments), relative error ~1e-15; 0 below −708.
    static func exp(_ x: Double) -> Double {
        guard x > -708 else { return 0 }
        guard x < 0 else { return x == 0 ? 1 : .infinity }
        let log2e = 1.4426950408889634
        let k = -Int(-x * log2e + 0.5)                  // round(x / ln 2), x < 0
        let r = (x - Double(k) * 6.93147180369123816490e-01) - Double(k) * 1.90821492927058770002e-10
        // Taylor series of e^r, |r| <= 0.35: 12 terms.
        var p: Double = 1.0 / 479001600.0
        var j = 11
        while j >= 1 {
            p = p * r + 1.0 / factorial(j)
            j &-= 1
        }
        p = p * r + 1
        return p * Double(sign: .plus, exponent: k, significand: 1)
    }

    private static func factorial(_ n: Int) -> Double {
        var f: Double = 1
        var i = 2
        while i <= n { f *= Double(i); i &+= 1 }
        return f
    }
}
