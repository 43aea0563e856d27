// relcon_stream_*: samples at the sensor's rate in, one result every `hop` contract samples out
// (include/relcon.h, "Streaming"; docs/runtime.md, "Streaming").
//
//   arena: [ StreamState 256 B | tap table | gather scratch | input history | window ring | results | session ]
//
// Input history: the last C = taps + 1 input samples of the current segment, each stored twice (slot i mod C
// and C + i mod C) so the taps of any output are contiguous. Output k of a segment is computed as soon as its
// last tap (input ⌊k·down/up⌋ + half) has arrived, by ResampleKernel (the same computation as relcon_resample:
// streaming equals batch bit for bit). Window ring: contract sample k at slots k mod W and W + k mod W, so the
// last window is contiguous and relcon_embed's forward reads it in place.
//
// The first 128 bytes (layout, configuration) are written once and checked by CRC-32 on every call; the
// counters after them change on every push and are range-checked before use (every index is reduced modulo its
// ring), so a damaged state can give wrong numbers but never an access outside the arena.

import CRelCon

struct StreamState {
    // immutable (CRC-32 over bytes 0 ..< 128, this CRC field read as zero)
    var magic: UInt64                // "RLCNSTR1"
    var crc: UInt32
    var hop: UInt32
    var selfAddress: UInt64
    var totalBytes: UInt64
    var tableOffset: UInt32, scratchOffset: UInt32, historyOffset: UInt32, ringOffset: UInt32
    var resultOffset: UInt32, sessionOffset: UInt32
    var up: UInt32, down: UInt32, half: UInt32, historyCap: UInt32
    var window: UInt32, embeddingDim: UInt32
    var headOutputs: UInt32, heads: UInt32
    var inputRate: Double
    var countScale0: Float, countScale1: Float, countScale2: Float
    var countOffset0: Float, countOffset1: Float, countOffset2: Float
    var rawClip: Float
    var reserved0: UInt32
    // mutable
    var received: UInt64             // input samples of the current segment
    var produced: UInt64             // contract samples of the current segment
    var nextPosition: Double         // input-sample position of the next sample
    var segmentOrigin: Double        // position of the current segment's sample 0
    var timeOrigin: Double           // timestamp of position 0 (NaN until a timestamp arrives)
    var results: UInt64
    var restartPending: UInt32
    var reserved1: UInt32
    var reserved2: UInt64, reserved3: UInt64, reserved4: UInt64, reserved5: UInt64, reserved6: UInt64
    var reserved7: UInt64, reserved8: UInt64

    static let magicValue: UInt64 = 0x3152_5453_4E43_4C52   // "RLCNSTR1" little-endian
    static let bytes: UInt64 = 256
    static let immutableBytes = 128
    static let crcOffset = 8
}

/// The sizes of a stream's regions.
struct StreamLayout {
    var design: ResampleDesign
    var window: UInt32
    var hop: UInt32
    var dim: UInt32
    var headOutputs: UInt32
    var heads: UInt32
    var historyCap: UInt32
    var tableOffset: UInt64, scratchOffset: UInt64, historyOffset: UInt64, ringOffset: UInt64
    var resultOffset: UInt64, sessionOffset: UInt64, sessionBytes: UInt64, totalBytes: UInt64

    static let maxWindow: UInt32 = 65536

    static func make(_ model: Model, _ c: StreamConfig) throws(RelConError) -> StreamLayout {
        guard c.reservedZero, c.countScaleFinite else { throw .invalidArgument }
        let design = try ResampleDesign.make(inRate: c.inputRate, outRate: Double(model.contract.sampleRateHz))
        let w = model.contract.windowSamples
        guard w >= model.minSamples, w <= maxWindow else { throw .blobContract }
        let hop = c.hop == 0 ? (w / 2 > 0 ? w / 2 : 1) : c.hop
        guard hop <= w else { throw .invalidArgument }
        let plan = try ArenaPlanner.plan(model, window: w) { (_: ValuePlacement) throws(RelConError) in }
        // heads: outputs of every head
        let meta = try Heads.region(model)
        let nHeads = try Heads.count(meta)
        var outs: UInt64 = 0
        var i: UInt32 = 0
        while i < nHeads {
            outs &+= UInt64(try Heads.info(model, meta, i).outputs)
            i &+= 1
        }
        guard outs <= 1 << 20 else { throw .blobGraph }
        let a = ArenaPlanner.align64
        let cap: UInt64 = design.isIdentity ? 1 : UInt64(design.taps) &+ 1
        var l = StreamLayout(design: design, window: w, hop: hop, dim: model.embeddingDim,
                             headOutputs: UInt32(truncatingIfNeeded: outs), heads: nHeads,
                             historyCap: UInt32(truncatingIfNeeded: cap),
                             tableOffset: StreamState.bytes, scratchOffset: 0, historyOffset: 0, ringOffset: 0,
                             resultOffset: 0, sessionOffset: 0, sessionBytes: plan.arenaBytes, totalBytes: 0)
        l.scratchOffset = a(l.tableOffset &+ design.tableBytes)
        l.historyOffset = a(l.scratchOffset &+ 12 &* UInt64(design.taps))
        l.ringOffset = a(l.historyOffset &+ 24 &* cap)
        l.resultOffset = a(l.ringOffset &+ 24 &* UInt64(w))
        l.sessionOffset = a(l.resultOffset &+ 4 &* (UInt64(model.embeddingDim) &+ outs))
        l.totalBytes = l.sessionOffset &+ plan.arenaBytes
        // 32-bit offsets in the state; every offset and size also fits Int on a 32-bit target
        guard l.sessionOffset < UInt64(UInt32.max), l.totalBytes <= UInt64(Int.max) else { throw .invalidArgument }
        return l
    }
}

/// relcon_stream_config read field by field (the C struct stays out of the rest of the runtime).
struct StreamConfig {
    var inputRate: Double
    var hop: UInt32
    var scale: (Float, Float, Float)
    var offset: (Float, Float, Float)
    var reservedZero: Bool
    var countScaleFinite: Bool
}

enum Stream {
    static func state(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<StreamState> {
        p.assumingMemoryBound(to: StreamState.self)
    }

    static func initialize(blob: UnsafeRawPointer, blobBytes: UInt, config c: StreamConfig,
                           arena: UnsafeMutableRawPointer, arenaBytes: UInt) throws(RelConError) -> UnsafeMutableRawPointer
    {
        let model = try Model.validate(blob, byteCount: blobBytes)
        let l = try StreamLayout.make(model, c)
        guard UInt(bitPattern: arena) % 64 == 0 else { throw .arenaMisaligned }
        guard UInt64(arenaBytes) >= l.totalBytes else { throw .arenaTooSmall }
        _ = try Session.initialize(blob: blob, blobBytes: blobBytes, maxSamples: l.window,
                                   arena: arena + Int(l.sessionOffset), arenaBytes: arenaBytes &- UInt(l.sessionOffset))
        l.design.fill((arena + Int(l.tableOffset)).assumingMemoryBound(to: Float.self))
        let o = { (x: UInt64) -> UInt32 in UInt32(truncatingIfNeeded: x) }
        var s = StreamState(
            magic: StreamState.magicValue, crc: 0, hop: l.hop, selfAddress: UInt64(UInt(bitPattern: arena)),
            totalBytes: l.totalBytes, tableOffset: o(l.tableOffset), scratchOffset: o(l.scratchOffset),
            historyOffset: o(l.historyOffset), ringOffset: o(l.ringOffset), resultOffset: o(l.resultOffset),
            sessionOffset: o(l.sessionOffset), up: l.design.up, down: l.design.down, half: l.design.half,
            historyCap: l.historyCap, window: l.window, embeddingDim: l.dim, headOutputs: l.headOutputs,
            heads: l.heads, inputRate: c.inputRate,
            countScale0: c.scale.0, countScale1: c.scale.1, countScale2: c.scale.2,
            countOffset0: c.offset.0, countOffset1: c.offset.1, countOffset2: c.offset.2,
            rawClip: try InputClip.raw(model), reserved0: 0,
            received: 0, produced: 0, nextPosition: 0, segmentOrigin: 0, timeOrigin: .nan, results: 0,
            restartPending: 1, reserved1: 0, reserved2: 0, reserved3: 0, reserved4: 0, reserved5: 0, reserved6: 0,
            reserved7: 0, reserved8: 0)
        arena.storeBytes(of: s, as: StreamState.self)
        s.crc = CRC32.checksum(UnsafeRawPointer(arena), count: StreamState.immutableBytes,
                               zeroedOffset: StreamState.crcOffset)
        arena.storeBytes(of: s, as: StreamState.self)
        return arena
    }

    /// The stream's immutable part is intact and describes this arena.
    static func check(_ p: UnsafeMutableRawPointer) throws(RelConError) -> StreamState {
        guard UInt(bitPattern: p) % 64 == 0 else { throw .sessionInvalid }
        let s = p.load(as: StreamState.self)
        guard s.magic == StreamState.magicValue, s.selfAddress == UInt64(UInt(bitPattern: p)),
              CRC32.checksum(UnsafeRawPointer(p), count: StreamState.immutableBytes,
                             zeroedOffset: StreamState.crcOffset) == s.crc,
              s.up >= 1, s.down >= 1, s.historyCap >= 1, s.window >= 1, s.hop >= 1, s.hop <= s.window,
              s.up == s.down ? s.half == 0 : (s.historyCap == 2 &* s.half &+ 1),
              UInt64(s.sessionOffset) < s.totalBytes, s.rawClip > 0
        else { throw .sessionInvalid }
        return s
    }

    static func session(_ p: UnsafeMutableRawPointer) throws(RelConError) -> UnsafeMutableRawPointer {
        let s = try check(p)
        let session = p + Int(s.sessionOffset)
        _ = try Session.check(UnsafeRawPointer(session))
        return session
    }

    /// Restarts the resampler and the window (the clock goes on).
    static func restart(_ st: UnsafeMutablePointer<StreamState>) {
        st.pointee.received = 0
        st.pointee.produced = 0
        st.pointee.segmentOrigin = st.pointee.nextPosition
        st.pointee.restartPending = 1
    }

    static func gap(_ p: UnsafeMutableRawPointer) throws(RelConError) {
        _ = try check(p)
        restart(state(p))
    }

    /// Pushes n samples; sample(j) gives sample j in g (or nil when it is not finite).
    static func push(_ p: UnsafeMutableRawPointer, n: UInt32, time: Double, consumed: UnsafeMutablePointer<UInt32>,
                     result r: UnsafeMutablePointer<relcon_stream_result>,
                     sample: (Int) -> (Float, Float, Float)) throws(RelConError)
    {
        consumed.pointee = 0
        r.pointee = relcon_stream_result()
        let s = try check(p)
        let sessionPtr = p + Int(s.sessionOffset)
        let h = try Session.check(UnsafeRawPointer(sessionPtr))
        guard h.maxSamples == s.window, h.embeddingDim == s.embeddingDim else { throw .sessionInvalid }
        let st = state(p)
        // sanitise the counters (a damaged state gives wrong numbers, never a wild access)
        if !st.pointee.nextPosition.isFinite || !st.pointee.segmentOrigin.isFinite { st.pointee.nextPosition = 0; restart(st) }

        // timestamps: a chunk more than half a period away from where the last one ended is a gap
        if time.isFinite, time >= 0, n > 0 {
            if st.pointee.timeOrigin.isNaN {
                st.pointee.timeOrigin = time - st.pointee.nextPosition / s.inputRate
            } else {
                let position = (time - st.pointee.timeOrigin) * s.inputRate
                let d = position - st.pointee.nextPosition
                if !(d <= 0.5 && d >= -0.5) {
                    if position.isFinite, position > -1e15, position < 1e15 { st.pointee.nextPosition = position }
                    restart(st)
                }
            }
        }

        let identity = s.up == s.down
        let taps = Int(s.half) &* 2, half = Int64(s.half)
        let up = UInt64(s.up), down = UInt64(s.down)
        let cap = Int(s.historyCap), w = Int(s.window)
        let table = UnsafePointer((p + Int(s.tableOffset)).assumingMemoryBound(to: Float.self))
        let scratch = (p + Int(s.scratchOffset)).assumingMemoryBound(to: Float.self)
        let history = (p + Int(s.historyOffset)).assumingMemoryBound(to: Float.self)
        let ring = (p + Int(s.ringOffset)).assumingMemoryBound(to: Float.self)
        let raw = s.rawClip

        func historySample(_ i: Int64) -> UnsafePointer<Float> {
            UnsafePointer(history + Int(UInt64(i) % UInt64(cap)) &* 3)
        }
        /// Output k of the segment is computable from the samples received so far.
        func ready(_ k: UInt64) -> Bool {
            let received = st.pointee.received
            if identity { return k < received }
            let i0 = k &* down / up
            return i0 &+ UInt64(half) < received
        }
        func produce(_ k: UInt64) {
            let v: (Float, Float, Float)
            if identity {
                let x = historySample(Int64(k))
                v = (x[0], x[1], x[2])
            } else {
                let num = k &* down
                let i0 = num / up
                let phase = num &- i0 &* up
                let base = Int64(i0) &- half &+ 1
                let row = table + Int(phase) &* taps
                if base >= 0 {
                    v = ResampleKernel.dot(historySample(base), row, taps: taps)
                } else {
                    v = ResampleKernel.reflected(base: base, count: Int64.max, taps: taps, row: row, scratch: scratch,
                                                 sample: historySample)
                }
            }
            let slot = Int(k % UInt64(w))
            let a = ring + slot &* 3, b = ring + (slot &+ w) &* 3
            a[0] = v.0; a[1] = v.1; a[2] = v.2
            b[0] = v.0; b[1] = v.1; b[2] = v.2
        }

        var used: UInt32 = 0
        while true {
            // every contract sample the received input allows, a window when one is due
            while ready(st.pointee.produced) {
                let k = st.pointee.produced
                produce(k)
                st.pointee.produced = k &+ 1
                let count = k &+ 1
                if count >= UInt64(w), (count &- UInt64(w)) % UInt64(s.hop) == 0 {
                    consumed.pointee = used
                    try runWindow(p, s, st, sessionPtr, h, first: count &- UInt64(w), result: r)
                    return
                }
            }
            if used >= n { break }
            let x = sample(Int(truncatingIfNeeded: used))
            guard x.0.isFinite, x.1.isFinite, x.2.isFinite else { consumed.pointee = used; throw .inputNotFinite }
            let i = st.pointee.received
            let slot = Int(i % UInt64(cap))
            let a = history + slot &* 3, b = history + (slot &+ cap) &* 3
            let c0 = min(max(x.0, -raw), raw), c1 = min(max(x.1, -raw), raw), c2 = min(max(x.2, -raw), raw)
            a[0] = c0; a[1] = c1; a[2] = c2
            b[0] = c0; b[1] = c1; b[2] = c2
            st.pointee.received = i &+ 1
            st.pointee.nextPosition += 1
            used &+= 1
        }
        consumed.pointee = used
    }

    /// The window of contract samples [first, first + W): embedding and every head.
    private static func runWindow(_ p: UnsafeMutableRawPointer, _ s: StreamState, _ st: UnsafeMutablePointer<StreamState>,
                                  _ session: UnsafeMutableRawPointer, _ h: SessionHeader, first: UInt64,
                                  result r: UnsafeMutablePointer<relcon_stream_result>) throws(RelConError)
    {
        let w = Int(s.window)
        let ring = (p + Int(s.ringOffset)).assumingMemoryBound(to: Float.self)
        let window = UnsafePointer(ring + Int(first % UInt64(w)) &* 3)
        let out = (p + Int(s.resultOffset)).assumingMemoryBound(to: Float.self)
        let restarted = st.pointee.restartPending
        st.pointee.restartPending = 0
        let index = st.pointee.results
        st.pointee.results = index &+ 1
        let ratio = Double(s.down) / Double(s.up)
        let start = st.pointee.segmentOrigin + Double(first) * ratio
        let end = start + Double(w) * ratio

        // head values in blob order: value -> position in out
        let dim = Int(s.embeddingDim)
        let target = s.heads >= 1 ? h.steps : h.embedSteps
        var filledHeads: UInt32 = 0
        var filledOutputs = 0
        do throws(RelConError) {
            _ = try Executor.forward(session, header: h, samples: window, n: s.window, through: target, all: true)
            { (v: UInt32, y: Value) throws(RelConError) in
                if v == h.embedSteps {
                    guard y.length == 1, y.channels == dim, y.dtype == .f32 else { throw .sessionInvalid }
                    out.update(from: y.f32, count: dim)
                }
                var j: UInt32 = 0
                var at = dim
                while v > h.embedSteps, j < s.heads {
                    let head = try Session.head(UnsafeRawPointer(session), h, j)
                    if head.value == v {
                        guard y.length == 1, y.channels == Int(head.outputs), y.dtype == .f32,
                              at &+ y.channels <= dim &+ Int(s.headOutputs)
                        else { throw .sessionInvalid }
                        let k = y.channels
                        if head.kind == .classifier {
                            let best = Int(Session.argmax(y.f32, k))
                            let zmax = Double(y.f32[best])
                            var sum: Double = 0
                            var q = 0
                            while q < k { sum += SoftMath.exp(Double(y.f32[q]) - zmax); q &+= 1 }
                            guard sum.isFinite, sum >= 1 else { throw .outputNotFinite }
                            q = 0
                            while q < k { out[at &+ q] = Float(SoftMath.exp(Double(y.f32[q]) - zmax) / sum); q &+= 1 }
                        } else {
                            out[at] = y.f32[0]
                        }
                        filledHeads &+= 1
                        filledOutputs &+= k
                    }
                    at &+= Int(head.outputs)
                    j &+= 1
                }
            }
        } catch {
            if error == .outputNotFinite { st.pointee.restartPending = restarted }   // reported with the next result
            throw error
        }
        guard filledHeads == s.heads, filledOutputs == Int(s.headOutputs) else { throw .sessionInvalid }
        var res = relcon_stream_result()
        res.ready = 1
        res.restarted = restarted
        res.index = index
        res.start = start
        res.end = end
        res.embedding = UnsafePointer(out)
        res.head_outputs = s.heads >= 1 ? UnsafePointer(out + dim) : nil
        res.n_head_outputs = s.headOutputs
        r.pointee = res
    }
}
