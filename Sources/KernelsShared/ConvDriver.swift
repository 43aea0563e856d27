// CONV1D for every precision and ISA level: one blocking scheme, specialised per "lane" (how a chunk of
// activations and weights is loaded and multiply-accumulated). This file is compiled three times, with
// different CPU flags: into RelConRuntime (portable x86-64), RelConKernelsV3 (x86-64-v3) and RelConKernelsV4
// (x86-64-v4 + VNNI); each module supplies its lanes in its ISA file (v3 and v4 share Lanes.swift, both in Sources/KernelsShared; docs/runtime.md,
// "Kernels").
//
// Channels-last dot form: y[t][o] = Σ_k Σ_c w[o][k][c] · x[t·stride − padLeft + k·dilation][c]. With
// dilation 1 the taps of one output are one contiguous run of K·Cin elements in both x and w, so every output
// is a single dot product (a run that is not a multiple of the chunk ends with one zero-filled partial chunk).
// Register blocking: `rows` time steps × `cols` output channels share each loaded chunk (4 × 3 by default:
// 4 activation loads + 3 weight loads feed 12 multiply-accumulates; the v3 int8 lanes 2 × 4). Output-channel
// blocks are outermost (a block's weights stay in L1 while time runs inside), and all interior blocks of one
// output-channel block run in one call (`sweepRuns`). Time steps whose taps reach into the padding are
// computed one by one with the taps clipped (the same as multiplying them by zero): nothing is materialised.
//
// Summation order: which block computes an output depends on the shapes only (interior outputs: one accumulator
// per output over its chunks in increasing order, then one reduction and the scalar tail; outputs whose taps are
// clipped, and blocks of fewer than 4 steps: four accumulators taking the chunks in turn). So results depend on
// the shapes and the ISA level only, never on addresses: sessions with different plans agree bit for bit.

import CRelConKernels

/// How one precision is computed on one ISA: `chunk` elements of activations and weights per step.
protocol ConvLane {
    associatedtype XV
    associatedtype WV
    associatedtype Acc
    associatedtype S
    static var chunk: Int { get }
    /// Time steps per register block: 4 (4 × 3 accumulators) or 3 (3 × 3, for lanes whose multiply-accumulate
    /// needs a scratch register, so that 16 vector registers suffice).
    static var rows: Int { get }
    static var xBytes: Int { get }
    static var wBytes: Int { get }
    static func zero() -> Acc
    static func loadX(_ p: UnsafeRawPointer) -> XV
    static func loadW(_ p: UnsafeRawPointer) -> WV
    static func mad(_ acc: Acc, _ x: XV, _ w: WV) -> Acc
    static func reduce(_ acc: Acc) -> S
    /// Scalar dot product of n < chunk elements (the part of a run that does not fill a chunk).
    static func tail(_ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ n: Int) -> S
    static func plus(_ a: S, _ b: S) -> S
    static var sZero: S { get }
    /// What the epilogue needs, read once per call (a local copy: stores to y cannot alias it).
    associatedtype Ctx
    static func context(_ a: UnsafePointer<rlck_conv>) -> Ctx?
    /// Epilogue of output (t, o): bias, residual, activation / requantisation; writes y.
    static func store(_ c: Ctx, _ t: Int, _ o: Int, _ dot: S)
    /// Epilogue of the three outputs (t, o…o+2) of a register block, from their accumulators (no scalar tail).
    /// Default: `reduce` + `store` each, in channel order; a lane may replace it with a vectorised equivalent
    /// that writes exactly the same bytes (the v3 int8 lanes: one horizontal reduction and one 64-bit
    /// requantisation for the three channels).
    static func storeRow3(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ a1: Acc, _ a2: Acc)
    /// The same for outputs whose dot products are split over two accumulators each (a + b, no scalar tail).
    static func storeRow3Pairs(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ b0: Acc, _ a1: Acc, _ b1: Acc,
                               _ a2: Acc, _ b2: Acc)
    /// The last `rest` (< chunk) elements of a run at p, as one chunk whose other lanes contribute nothing to the
    /// dot product. `back`: at least one full chunk of the same run precedes p, so a lane may instead read the
    /// chunk that ends at p + rest (with one of the two operands zeroed in the lanes already counted) rather than
    /// copying. Defaults: the zero-filled copies `loadXPartial` / `loadWPartial`.
    static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> XV
    static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> WV
    /// What `storeRow3` needs for channels o…o+2, prepared once per output-channel block (the driver passes it to
    /// every register block of those channels).
    associatedtype RowCtx = Void
    static func rowContext(_ c: Ctx, _ o: Int) -> RowCtx
    /// Output channels per register block: 3 (default), or 4 for a lane whose epilogue handles four channels at
    /// once (then blocks are `rows4` × 4, and the last cout mod 4 channels go one by one).
    static var cols: Int { get }
    /// Time steps of the 4-column blocks: 2 (default: 8 accumulators, for 16 vector registers) or 4 (16
    /// accumulators, for lanes of a module with 32: x86-64-v4); a 4 × 4 block is two 2 × 4 epilogues.
    static var rows4: Int { get }
    /// `rowContext` for channels o…o+3 (lanes with `cols` 4).
    static func rowContext4(_ c: Ctx, _ o: Int) -> RowCtx
    /// Epilogue of outputs (t, o…o+3) from their accumulators (lanes with `cols` 4; no scalar tail).
    static func storeRow4(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ a1: Acc, _ a2: Acc, _ a3: Acc)
    /// Epilogue of a `rows` 2 × `cols` 4 register block: outputs (t, o…o+3) from a0…a3 and (t + 1, o…o+3) from
    /// b0…b3. Default: `storeRow4` twice; a lane may replace it with one vectorised epilogue of all eight outputs
    /// that writes exactly the same bytes (the v3 int8 lanes: one 8-lane requantisation in 32-bit lanes).
    static func storeBlock24(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ a1: Acc, _ a2: Acc, _ a3: Acc,
                             _ b0: Acc, _ b1: Acc, _ b2: Acc, _ b3: Acc)
    /// The same for dot products split over two accumulators each (a + b).
    static func storeRow4Pairs(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ b0: Acc, _ a1: Acc, _ b1: Acc,
                               _ a2: Acc, _ b2: Acc, _ a3: Acc, _ b3: Acc)
}

extension ConvLane where RowCtx == Void {
    @inline(__always) static func rowContext(_ c: Ctx, _ o: Int) {}
}

extension ConvLane {
    static var cols: Int { 3 }
    static var rows4: Int { 2 }
    @inline(__always) static func rowContext4(_ c: Ctx, _ o: Int) -> RowCtx { rowContext(c, o) }

    @inline(__always)
    static func storeRow4(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ a1: Acc, _ a2: Acc, _ a3: Acc) {
        let z = sZero
        store(c, t, o, plus(reduce(a0), z))
        store(c, t, o &+ 1, plus(reduce(a1), z))
        store(c, t, o &+ 2, plus(reduce(a2), z))
        store(c, t, o &+ 3, plus(reduce(a3), z))
    }

    @inline(__always)
    static func storeBlock24(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ a1: Acc, _ a2: Acc, _ a3: Acc,
                             _ b0: Acc, _ b1: Acc, _ b2: Acc, _ b3: Acc) {
        storeRow4(c, r, t, o, a0, a1, a2, a3)
        storeRow4(c, r, t &+ 1, o, b0, b1, b2, b3)
    }

    @inline(__always)
    static func storeRow4Pairs(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ b0: Acc, _ a1: Acc, _ b1: Acc,
                               _ a2: Acc, _ b2: Acc, _ a3: Acc, _ b3: Acc) {
        store(c, t, o, plus(reduce(a0), reduce(b0)))
        store(c, t, o &+ 1, plus(reduce(a1), reduce(b1)))
        store(c, t, o &+ 2, plus(reduce(a2), reduce(b2)))
        store(c, t, o &+ 3, plus(reduce(a3), reduce(b3)))
    }

    @inline(__always) static func loadXTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> XV { loadXPartial(p, rest) }
    @inline(__always) static func loadWTail(_ p: UnsafeRawPointer, _ rest: Int, back: Bool) -> WV { loadWPartial(p, rest) }

    @inline(__always)
    static func storeRow3Pairs(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ b0: Acc, _ a1: Acc, _ b1: Acc,
                               _ a2: Acc, _ b2: Acc) {
        let z = sZero
        store(c, t, o, plus(plus(reduce(a0), reduce(b0)), z))
        store(c, t, o &+ 1, plus(plus(reduce(a1), reduce(b1)), z))
        store(c, t, o &+ 2, plus(plus(reduce(a2), reduce(b2)), z))
    }

    @inline(__always)
    static func storeRow3(_ c: Ctx, _ r: RowCtx, _ t: Int, _ o: Int, _ a0: Acc, _ a1: Acc, _ a2: Acc) {
        let z = sZero
        store(c, t, o, plus(reduce(a0), z))
        store(c, t, o &+ 1, plus(reduce(a1), z))
        store(c, t, o &+ 2, plus(reduce(a2), z))
    }
}

extension ConvLane {
    /// The first `count` (< chunk) elements at p, zero-filled to a chunk (a stack copy: never reads past them).
    @inline(__always)
    static func loadXPartial(_ p: UnsafeRawPointer, _ count: Int) -> XV {
        var v = SIMD64<UInt8>()
        return withUnsafeMutablePointer(to: &v) { ptr in
            let raw = UnsafeMutableRawPointer(ptr)
            raw.copyMemory(from: p, byteCount: min(count &* xBytes, 64))
            return loadX(UnsafeRawPointer(raw))
        }
    }

    @inline(__always)
    static func loadWPartial(_ p: UnsafeRawPointer, _ count: Int) -> WV {
        var v = SIMD64<UInt8>()
        return withUnsafeMutablePointer(to: &v) { ptr in
            let raw = UnsafeMutableRawPointer(ptr)
            raw.copyMemory(from: p, byteCount: min(count &* wBytes, 64))
            return loadW(UnsafeRawPointer(raw))
        }
    }
}

enum ConvDriver {
    static func run<L: ConvLane>(_ a: UnsafePointer<rlck_conv>, _: L.Type) {
        let p = a.pointee
        guard let xBase = p.x, let wBase = p.w, let c = L.context(a) else { return }
        let cin = Int(p.channels_in), cout = Int(p.channels_out), k = Int(p.kernel)
        let s = Int(p.stride), d = Int(p.dilation), pl = Int(p.pad_left)
        let lin = Int(p.length_in), lout = Int(p.length_out)
        guard s >= 1, d >= 1, k >= 1, cin >= 1 else { return }
        // Interior outputs: every tap inside [0, lin): t·s − pl ≥ 0 and t·s − pl + (k−1)·d ≤ lin − 1.
        let tLo = min(lout, (pl &+ s &- 1) / s)
        let hiNum = lin &- 1 &- (k &- 1) &* d &+ pl
        let tHi = hiNum < 0 ? tLo : max(tLo, min(lout, hiNum / s &+ 1))
        let contiguous = d == 1
        let taps = contiguous ? 1 : k
        let n = contiguous ? k &* cin : cin
        let xB = L.xBytes, wB = L.wBytes
        let xTapB = d &* cin &* xB, wTapB = cin &* wB
        let wRowB = k &* cin &* wB
        let xStepB = s &* cin &* xB          // from one output time step to the next
        func xAt(_ t: Int) -> UnsafeRawPointer { xBase + (t &* s &- pl) &* cin &* xB }

        var o = 0
        // Output-channel blocks of `cols` channels (4 or 3), then the remaining channels one by one; within each,
        // the time steps as `sweep` orders them.
        while L.cols == 4, o &+ 4 <= cout {
            let w0 = wBase + o &* wRowB
            // The next block's weights, while this one computes: blobs larger than L2 stream them from L3, and
            // the first (padded-edge) step of a block would otherwise wait for every line.
            if o &+ 8 <= cout { rlck_prefetch(w0 + 4 &* wRowB, Int64(4 &* wRowB)) }
            let r = L.rowContext4(c, o)          // the epilogue's per-channel constants, once per channel block
            sweepRuns(lout: lout, tLo: tLo, tHi: tHi, rows: L.rows4 == 4 ? 4 : 2,
                      edge: { t in edge4(a, c, r, L.self, t, o) },
                      blocks: { t0, count, tLast in
                          if L.rows4 == 4 {
                              blocks44(c, r, L.self, t0, count, tLast, o, xAt(t0), xStepB, xTapB, w0, wRowB, wTapB, taps, n)
                          } else {
                              blocks24(c, r, L.self, t0, count, tLast, o, xAt(t0), xStepB, xTapB, w0, wRowB, wTapB, taps, n)
                          }
                      },
                      single: { t in edge4(a, c, r, L.self, t, o) })
            o &+= 4
        }
        while L.cols == 3, o &+ 3 <= cout {
            let w0 = wBase + o &* wRowB
            let single = { (t: Int) in block13(c, L.self, t, o, xAt(t), xTapB, w0, wRowB, wTapB, taps, n) }
            let r = L.rowContext(c, o)
            // 3-column lanes have 4 × 3 (block43) or 3 × 3 (block33) blocks: `rows` is 3 or 4, nothing else.
            sweepRuns(lout: lout, tLo: tLo, tHi: tHi, rows: L.rows == 3 ? 3 : 4,
                      edge: { t in edge3(a, c, r, L.self, t, o) },
                      blocks: { t0, count, tLast in
                          blocks3(c, r, L.self, t0, count, tLast, o, xAt(t0), xStepB, xTapB, w0, wRowB, wTapB, taps, n)
                      },
                      single: single)
            o &+= 3
        }
        while o < cout {
            let w0 = wBase + o &* wRowB
            sweep(lout: lout, tLo: tLo, tHi: tHi, rows: 4, edge: { t in edge(a, c, L.self, t, o) },
                  block: { t in block41(c, L.self, t, o, xAt(t), xStepB, xTapB, w0, wTapB, taps, n) },
                  single: { t in L.store(c, t, o, dot(L.self, xAt(t), xTapB, w0, wTapB, taps, n)) })
            o &+= 1
        }
    }

    /// The time steps of one output-channel block: those whose window reaches into the padding one at a time
    /// (`edge`), the interior ones in register blocks of `rows` steps (`block(t)`: steps t ..< t + rows). The last
    /// 1 ..< rows interior steps are one more full block ending at tHi when there are at least `rows` interior
    /// steps (it recomputes up to rows − 1 outputs with exactly the same arithmetic and stores the same values
    /// again: y never aliases an input), else one at a time (`single`).
    @inline(__always)
    static func sweep(lout: Int, tLo: Int, tHi: Int, rows: Int, edge: (Int) -> Void, block: (Int) -> Void,
                      single: (Int) -> Void) {
        var t = 0
        while t < tLo { edge(t); t &+= 1 }
        while t &+ rows <= tHi { block(t); t &+= rows }
        if t < tHi, tHi &- tLo >= rows { block(tHi &- rows); t = tHi }
        while t < tHi { single(t); t &+= 1 }
        while t < lout { edge(t); t &+= 1 }
    }

    /// `sweep` with the interior register blocks handed over in one call, `blocks(t0, count, tLast)`: blocks at
    /// t0, t0 + rows, … (`count` of them), then the overlapping last block at tLast (−1: none). The same blocks in
    /// the same order, without a call per block.
    @inline(__always)
    static func sweepRuns(lout: Int, tLo: Int, tHi: Int, rows: Int, edge: (Int) -> Void,
                          blocks: (Int, Int, Int) -> Void, single: (Int) -> Void) {
        var t = 0
        while t < tLo { edge(t); t &+= 1 }
        let count = max(0, tHi &- t) / rows
        let tLast = (tHi &- t) % rows != 0 && tHi &- tLo >= rows ? tHi &- rows : -1
        if count > 0 || tLast >= 0 { blocks(t, count, tLast) }
        t = tLast >= 0 ? tHi : t &+ count &* rows
        while t < tHi { single(t); t &+= 1 }
        while t < lout { edge(t); t &+= 1 }
    }

    /// The taps of output t that fall inside [0, lin): k in kLo ..< kHi (none when kHi ≤ kLo), and the input time
    /// step that tap kLo reads.
    @inline(__always)
    static func clippedTaps(_ p: rlck_conv, _ t: Int) -> (kLo: Int, kHi: Int, xStart: Int) {
        let k = Int(p.kernel), d = Int(p.dilation), lin = Int(p.length_in)
        let start = t &* Int(p.stride) &- Int(p.pad_left)
        let kLo = start >= 0 ? 0 : (0 &- start &+ d &- 1) / d
        let kHi = start >= lin ? 0 : min(k, (lin &- 1 &- start) / d &+ 1)
        return (kLo, kHi, start &+ kLo &* d)
    }

    /// One output whose window may reach into the padding: the taps outside [0, lin) are skipped.
    @inline(never)   // a separate specialisation per lane keeps each function small enough to inline its leaves
    static func edge<L: ConvLane>(_ a: UnsafePointer<rlck_conv>, _ c: L.Ctx, _: L.Type, _ t: Int, _ o: Int) {
        let p = a.pointee
        guard let xBase = p.x, let wBase = p.w else { return }
        let cin = Int(p.channels_in), k = Int(p.kernel), d = Int(p.dilation)
        let (kLo, kHi, xStart) = clippedTaps(p, t)
        var v = L.sZero
        if kHi > kLo {
            let x = xBase + xStart &* cin &* L.xBytes
            let w = wBase + (o &* k &+ kLo) &* cin &* L.wBytes
            let contiguous = d == 1 || kHi &- kLo == 1
            v = dot(L.self, x, d &* cin &* L.xBytes, w, cin &* L.wBytes,
                    contiguous ? 1 : kHi &- kLo, contiguous ? (kHi &- kLo) &* cin : cin)
        }
        L.store(c, t, o, v)
    }

    /// Outputs (t, o…o+2) whose window may reach into the padding: the taps outside [0, lin) are skipped; the
    /// three output channels share each activation load, two accumulators each take the chunks in turn.
    @inline(never)
    static func edge3<L: ConvLane>(_ a: UnsafePointer<rlck_conv>, _ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t: Int,
                                   _ o: Int) {
        let p = a.pointee
        guard let xBase = p.x, let wBase = p.w else { return }
        let cin = Int(p.channels_in), k = Int(p.kernel), d = Int(p.dilation)
        let (kLo, kHi, xStart) = clippedTaps(p, t)
        guard kHi > kLo else {
            L.store(e, t, o, L.sZero); L.store(e, t, o &+ 1, L.sZero); L.store(e, t, o &+ 2, L.sZero)
            return
        }
        let xB = L.xBytes, wB = L.wBytes, c = L.chunk
        let x = xBase + xStart &* cin &* xB
        let wRowB = k &* cin &* wB
        let w0 = wBase + (o &* k &+ kLo) &* cin &* wB, w1 = w0 + wRowB, w2 = w1 + wRowB
        let contiguous = d == 1 || kHi &- kLo == 1
        let taps = contiguous ? 1 : kHi &- kLo, n = contiguous ? (kHi &- kLo) &* cin : cin
        let xTapB = d &* cin &* xB, wTapB = cin &* wB
        let full = n / c &* c
        var a0 = L.zero(), a1 = L.zero(), a2 = L.zero(), b0 = L.zero(), b1 = L.zero(), b2 = L.zero()
        var r0 = L.sZero, r1 = L.sZero, r2 = L.sZero
        var tap = 0
        while tap < taps {
            let xo = tap &* xTapB, wo = tap &* wTapB
            var i = 0
            while i &+ 2 &* c <= full {
                let u = L.loadX(x + (xo &+ i &* xB)), wi = wo &+ i &* wB
                a0 = L.mad(a0, u, L.loadW(w0 + wi)); a1 = L.mad(a1, u, L.loadW(w1 + wi)); a2 = L.mad(a2, u, L.loadW(w2 + wi))
                let v = L.loadX(x + (xo &+ (i &+ c) &* xB)), wj = wo &+ (i &+ c) &* wB
                b0 = L.mad(b0, v, L.loadW(w0 + wj)); b1 = L.mad(b1, v, L.loadW(w1 + wj)); b2 = L.mad(b2, v, L.loadW(w2 + wj))
                i &+= 2 &* c
            }
            if i < full {
                let u = L.loadX(x + (xo &+ i &* xB)), wi = wo &+ i &* wB
                a0 = L.mad(a0, u, L.loadW(w0 + wi)); a1 = L.mad(a1, u, L.loadW(w1 + wi)); a2 = L.mad(a2, u, L.loadW(w2 + wi))
            }
            if full < n {
                let xr = x + (xo &+ full &* xB), wr = wo &+ full &* wB
                r0 = L.plus(r0, L.tail(xr, w0 + wr, n &- full))
                r1 = L.plus(r1, L.tail(xr, w1 + wr, n &- full))
                r2 = L.plus(r2, L.tail(xr, w2 + wr, n &- full))
            }
            tap &+= 1
        }
        if full == n {
            L.storeRow3Pairs(e, r, t, o, a0, b0, a1, b1, a2, b2)
            return
        }
        L.store(e, t, o, L.plus(L.plus(L.reduce(a0), L.reduce(b0)), r0))
        L.store(e, t, o &+ 1, L.plus(L.plus(L.reduce(a1), L.reduce(b1)), r1))
        L.store(e, t, o &+ 2, L.plus(L.plus(L.reduce(a2), L.reduce(b2)), r2))
    }

    /// Σ_{tap < taps} Σ_{i < n} x[tap·xTap + i]·w[tap·wTap + i] (strides in bytes).
    @inline(__always)
    static func dot<L: ConvLane>(_: L.Type, _ x: UnsafeRawPointer, _ xTapB: Int, _ w: UnsafeRawPointer, _ wTapB: Int,
                                 _ taps: Int, _ n: Int) -> L.S
    {
        // Four accumulators in turn: a single one would wait for each multiply-add's latency.
        let c = L.chunk, xB = L.xBytes, wB = L.wBytes
        let full = n / c &* c
        var a0 = L.zero(), a1 = L.zero(), a2 = L.zero(), a3 = L.zero()
        var tail = L.sZero
        var tap = 0
        while tap < taps {
            let xp = x + tap &* xTapB, wp = w + tap &* wTapB
            var i = 0
            while i &+ 4 &* c <= full {
                a0 = L.mad(a0, L.loadX(xp + i &* xB), L.loadW(wp + i &* wB))
                a1 = L.mad(a1, L.loadX(xp + (i &+ c) &* xB), L.loadW(wp + (i &+ c) &* wB))
                a2 = L.mad(a2, L.loadX(xp + (i &+ 2 &* c) &* xB), L.loadW(wp + (i &+ 2 &* c) &* wB))
                a3 = L.mad(a3, L.loadX(xp + (i &+ 3 &* c) &* xB), L.loadW(wp + (i &+ 3 &* c) &* wB))
                i &+= 4 &* c
            }
            while i < full {
                a0 = L.mad(a0, L.loadX(xp + i &* xB), L.loadW(wp + i &* wB))
                i &+= c
            }
            if full < n { tail = L.plus(tail, L.tail(xp + full &* xB, wp + full &* wB, n &- full)) }
            tap &+= 1
        }
        return L.plus(L.plus(L.plus(L.reduce(a0), L.reduce(a1)), L.plus(L.reduce(a2), L.reduce(a3))), tail)
    }

    /// Outputs (t…t+3, o…o+2), all interior.
    @inline(__always)
    static func block43<L: ConvLane>(_ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t: Int, _ o: Int,
                                     _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                     _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        let c = L.chunk, xB = L.xBytes, wB = L.wBytes
        let full = n / c &* c
        let x1 = x0 + xStepB, x2 = x1 + xStepB, x3 = x2 + xStepB
        let w1 = w0 + wRowB, w2 = w1 + wRowB
        var a00 = L.zero(), a01 = L.zero(), a02 = L.zero()
        var a10 = L.zero(), a11 = L.zero(), a12 = L.zero()
        var a20 = L.zero(), a21 = L.zero(), a22 = L.zero()
        var a30 = L.zero(), a31 = L.zero(), a32 = L.zero()
        var tap = 0
        while tap < taps {
            let xo = tap &* xTapB, wo = tap &* wTapB
            var i = 0
            while i < full {
                let xi = xo &+ i &* xB, wi = wo &+ i &* wB
                let v0 = L.loadW(w0 + wi), v1 = L.loadW(w1 + wi), v2 = L.loadW(w2 + wi)
                let u0 = L.loadX(x0 + xi)
                a00 = L.mad(a00, u0, v0); a01 = L.mad(a01, u0, v1); a02 = L.mad(a02, u0, v2)
                let u1 = L.loadX(x1 + xi)
                a10 = L.mad(a10, u1, v0); a11 = L.mad(a11, u1, v1); a12 = L.mad(a12, u1, v2)
                let u2 = L.loadX(x2 + xi)
                a20 = L.mad(a20, u2, v0); a21 = L.mad(a21, u2, v1); a22 = L.mad(a22, u2, v2)
                let u3 = L.loadX(x3 + xi)
                a30 = L.mad(a30, u3, v0); a31 = L.mad(a31, u3, v1); a32 = L.mad(a32, u3, v2)
                i &+= c
            }
            if full < n {
                // The rest of the run (e.g. the 3-channel stem's 21 = 16 + 5): one zero-filled partial chunk.
                let rest = n &- full, xi = xo &+ full &* xB, wi = wo &+ full &* wB, back = full >= c
                let v0 = L.loadWTail(w0 + wi, rest, back: back), v1 = L.loadWTail(w1 + wi, rest, back: back)
                let v2 = L.loadWTail(w2 + wi, rest, back: back)
                let u0 = L.loadXTail(x0 + xi, rest, back: back)
                a00 = L.mad(a00, u0, v0); a01 = L.mad(a01, u0, v1); a02 = L.mad(a02, u0, v2)
                let u1 = L.loadXTail(x1 + xi, rest, back: back)
                a10 = L.mad(a10, u1, v0); a11 = L.mad(a11, u1, v1); a12 = L.mad(a12, u1, v2)
                let u2 = L.loadXTail(x2 + xi, rest, back: back)
                a20 = L.mad(a20, u2, v0); a21 = L.mad(a21, u2, v1); a22 = L.mad(a22, u2, v2)
                let u3 = L.loadXTail(x3 + xi, rest, back: back)
                a30 = L.mad(a30, u3, v0); a31 = L.mad(a31, u3, v1); a32 = L.mad(a32, u3, v2)
            }
            tap &+= 1
        }
        L.storeRow3(e, r, t, o, a00, a01, a02)
        L.storeRow3(e, r, t &+ 1, o, a10, a11, a12)
        L.storeRow3(e, r, t &+ 2, o, a20, a21, a22)
        L.storeRow3(e, r, t &+ 3, o, a30, a31, a32)
    }

    /// Outputs (t…t+2, o…o+2), all interior (lanes with `rows` 3).
    @inline(__always)
    static func block33<L: ConvLane>(_ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t: Int, _ o: Int,
                                     _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                     _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        let c = L.chunk, xB = L.xBytes, wB = L.wBytes
        let full = n / c &* c
        let x1 = x0 + xStepB, x2 = x1 + xStepB
        let w1 = w0 + wRowB, w2 = w1 + wRowB
        var a00 = L.zero(), a01 = L.zero(), a02 = L.zero()
        var a10 = L.zero(), a11 = L.zero(), a12 = L.zero()
        var a20 = L.zero(), a21 = L.zero(), a22 = L.zero()
        var tap = 0
        while tap < taps {
            let xo = tap &* xTapB, wo = tap &* wTapB
            var i = 0
            while i < full {
                let xi = xo &+ i &* xB, wi = wo &+ i &* wB
                let v0 = L.loadW(w0 + wi), v1 = L.loadW(w1 + wi), v2 = L.loadW(w2 + wi)
                let u0 = L.loadX(x0 + xi)
                a00 = L.mad(a00, u0, v0); a01 = L.mad(a01, u0, v1); a02 = L.mad(a02, u0, v2)
                let u1 = L.loadX(x1 + xi)
                a10 = L.mad(a10, u1, v0); a11 = L.mad(a11, u1, v1); a12 = L.mad(a12, u1, v2)
                let u2 = L.loadX(x2 + xi)
                a20 = L.mad(a20, u2, v0); a21 = L.mad(a21, u2, v1); a22 = L.mad(a22, u2, v2)
                i &+= c
            }
            if full < n {
                let rest = n &- full, xi = xo &+ full &* xB, wi = wo &+ full &* wB, back = full >= c
                let v0 = L.loadWTail(w0 + wi, rest, back: back), v1 = L.loadWTail(w1 + wi, rest, back: back)
                let v2 = L.loadWTail(w2 + wi, rest, back: back)
                let u0 = L.loadXTail(x0 + xi, rest, back: back)
                a00 = L.mad(a00, u0, v0); a01 = L.mad(a01, u0, v1); a02 = L.mad(a02, u0, v2)
                let u1 = L.loadXTail(x1 + xi, rest, back: back)
                a10 = L.mad(a10, u1, v0); a11 = L.mad(a11, u1, v1); a12 = L.mad(a12, u1, v2)
                let u2 = L.loadXTail(x2 + xi, rest, back: back)
                a20 = L.mad(a20, u2, v0); a21 = L.mad(a21, u2, v1); a22 = L.mad(a22, u2, v2)
            }
            tap &+= 1
        }
        L.storeRow3(e, r, t, o, a00, a01, a02)
        L.storeRow3(e, r, t &+ 1, o, a10, a11, a12)
        L.storeRow3(e, r, t &+ 2, o, a20, a21, a22)
    }

    /// The interior register blocks of channels o…o+2 (`sweepRuns`): `rows` × 3 blocks (block43 or block33),
    /// `count` of them from t0 (activations at x0), then the one at tLast (−1: none).
    @inline(never)   // a separate specialisation per lane keeps each function small enough to inline its leaves
    static func blocks3<L: ConvLane>(_ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t0: Int, _ count: Int, _ tLast: Int,
                                     _ o: Int, _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                     _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        let rows = L.rows == 3 ? 3 : 4          // the rows of block33 / block43, as `run` sweeps them
        let one = { (t: Int) in
            let x = x0 + (t &- t0) &* xStepB
            if rows == 3 {
                block33(e, r, L.self, t, o, x, xStepB, xTapB, w0, wRowB, wTapB, taps, n)
            } else {
                block43(e, r, L.self, t, o, x, xStepB, xTapB, w0, wRowB, wTapB, taps, n)
            }
        }
        var j = 0
        while j < count { one(t0 &+ rows &* j); j &+= 1 }
        if tLast >= 0 { one(tLast) }
    }

    /// The interior register blocks of channels o…o+3 (`sweepRuns`): `count` blocks from t0 (activations at x0),
    /// then the one at tLast (−1: none).
    @inline(never)   // a separate specialisation per lane keeps each function small enough to inline its leaves
    static func blocks24<L: ConvLane>(_ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t0: Int, _ count: Int, _ tLast: Int,
                                      _ o: Int, _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                      _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        var j = 0
        while j < count {
            block24(e, r, L.self, t0 &+ 2 &* j, o, x0 + 2 &* j &* xStepB, xStepB, xTapB, w0, wRowB, wTapB, taps, n)
            j &+= 1
        }
        if tLast >= 0 {
            block24(e, r, L.self, tLast, o, x0 + (tLast &- t0) &* xStepB, xStepB, xTapB, w0, wRowB, wTapB, taps, n)
        }
    }

    /// The interior 4 × 4 register blocks of channels o…o+3 (lanes with `rows4` 4; `sweepRuns`): `count` blocks
    /// from t0, then the one at tLast (−1: none).
    @inline(never)   // a separate specialisation per lane keeps each function small enough to inline its leaves
    static func blocks44<L: ConvLane>(_ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t0: Int, _ count: Int, _ tLast: Int,
                                      _ o: Int, _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                      _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        var j = 0
        while j < count {
            block44(e, r, L.self, t0 &+ 4 &* j, o, x0 + 4 &* j &* xStepB, xStepB, xTapB, w0, wRowB, wTapB, taps, n)
            j &+= 1
        }
        if tLast >= 0 {
            block44(e, r, L.self, tLast, o, x0 + (tLast &- t0) &* xStepB, xStepB, xTapB, w0, wRowB, wTapB, taps, n)
        }
    }

    /// Outputs (t…t+3, o…o+3), all interior (lanes with `rows4` 4): 16 accumulators, each weight chunk loaded once
    /// for four time steps; the epilogue of each pair of steps is the lane's 2 × 4 one.
    @inline(__always)
    static func block44<L: ConvLane>(_ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t: Int, _ o: Int,
                                     _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                     _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        let c = L.chunk, xB = L.xBytes, wB = L.wBytes
        let full = n / c &* c
        let x1 = x0 + xStepB, x2 = x1 + xStepB, x3 = x2 + xStepB
        let w1 = w0 + wRowB, w2 = w1 + wRowB, w3 = w2 + wRowB
        var a00 = L.zero(), a01 = L.zero(), a02 = L.zero(), a03 = L.zero()
        var a10 = L.zero(), a11 = L.zero(), a12 = L.zero(), a13 = L.zero()
        var a20 = L.zero(), a21 = L.zero(), a22 = L.zero(), a23 = L.zero()
        var a30 = L.zero(), a31 = L.zero(), a32 = L.zero(), a33 = L.zero()
        var tap = 0
        while tap < taps {
            let xo = tap &* xTapB, wo = tap &* wTapB
            var i = 0
            while i < full {
                let xi = xo &+ i &* xB, wi = wo &+ i &* wB
                let u0 = L.loadX(x0 + xi), u1 = L.loadX(x1 + xi), u2 = L.loadX(x2 + xi), u3 = L.loadX(x3 + xi)
                let v0 = L.loadW(w0 + wi)
                a00 = L.mad(a00, u0, v0); a10 = L.mad(a10, u1, v0); a20 = L.mad(a20, u2, v0); a30 = L.mad(a30, u3, v0)
                let v1 = L.loadW(w1 + wi)
                a01 = L.mad(a01, u0, v1); a11 = L.mad(a11, u1, v1); a21 = L.mad(a21, u2, v1); a31 = L.mad(a31, u3, v1)
                let v2 = L.loadW(w2 + wi)
                a02 = L.mad(a02, u0, v2); a12 = L.mad(a12, u1, v2); a22 = L.mad(a22, u2, v2); a32 = L.mad(a32, u3, v2)
                let v3 = L.loadW(w3 + wi)
                a03 = L.mad(a03, u0, v3); a13 = L.mad(a13, u1, v3); a23 = L.mad(a23, u2, v3); a33 = L.mad(a33, u3, v3)
                i &+= c
            }
            if full < n {
                let rest = n &- full, xi = xo &+ full &* xB, wi = wo &+ full &* wB, back = full >= c
                let u0 = L.loadXTail(x0 + xi, rest, back: back), u1 = L.loadXTail(x1 + xi, rest, back: back)
                let u2 = L.loadXTail(x2 + xi, rest, back: back), u3 = L.loadXTail(x3 + xi, rest, back: back)
                let v0 = L.loadWTail(w0 + wi, rest, back: back)
                a00 = L.mad(a00, u0, v0); a10 = L.mad(a10, u1, v0); a20 = L.mad(a20, u2, v0); a30 = L.mad(a30, u3, v0)
                let v1 = L.loadWTail(w1 + wi, rest, back: back)
                a01 = L.mad(a01, u0, v1); a11 = L.mad(a11, u1, v1); a21 = L.mad(a21, u2, v1); a31 = L.mad(a31, u3, v1)
                let v2 = L.loadWTail(w2 + wi, rest, back: back)
                a02 = L.mad(a02, u0, v2); a12 = L.mad(a12, u1, v2); a22 = L.mad(a22, u2, v2); a32 = L.mad(a32, u3, v2)
                let v3 = L.loadWTail(w3 + wi, rest, back: back)
                a03 = L.mad(a03, u0, v3); a13 = L.mad(a13, u1, v3); a23 = L.mad(a23, u2, v3); a33 = L.mad(a33, u3, v3)
            }
            tap &+= 1
        }
        L.storeBlock24(e, r, t, o, a00, a01, a02, a03, a10, a11, a12, a13)
        L.storeBlock24(e, r, t &+ 2, o, a20, a21, a22, a23, a30, a31, a32, a33)
    }

    /// Outputs (t…t+1, o…o+3), all interior (lanes with `cols` 4 and `rows` 2): 8 accumulators.
    @inline(__always)
    static func block24<L: ConvLane>(_ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t: Int, _ o: Int,
                                     _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                     _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        let c = L.chunk, xB = L.xBytes, wB = L.wBytes
        let full = n / c &* c
        let x1 = x0 + xStepB
        let w1 = w0 + wRowB, w2 = w1 + wRowB, w3 = w2 + wRowB
        var a00 = L.zero(), a01 = L.zero(), a02 = L.zero(), a03 = L.zero()
        var a10 = L.zero(), a11 = L.zero(), a12 = L.zero(), a13 = L.zero()
        var tap = 0
        while tap < taps {
            let xo = tap &* xTapB, wo = tap &* wTapB
            var i = 0
            while i < full {
                let xi = xo &+ i &* xB, wi = wo &+ i &* wB
                let u0 = L.loadX(x0 + xi), u1 = L.loadX(x1 + xi)
                let v0 = L.loadW(w0 + wi)
                a00 = L.mad(a00, u0, v0); a10 = L.mad(a10, u1, v0)
                let v1 = L.loadW(w1 + wi)
                a01 = L.mad(a01, u0, v1); a11 = L.mad(a11, u1, v1)
                let v2 = L.loadW(w2 + wi)
                a02 = L.mad(a02, u0, v2); a12 = L.mad(a12, u1, v2)
                let v3 = L.loadW(w3 + wi)
                a03 = L.mad(a03, u0, v3); a13 = L.mad(a13, u1, v3)
                i &+= c
            }
            if full < n {
                let rest = n &- full, xi = xo &+ full &* xB, wi = wo &+ full &* wB, back = full >= c
                let u0 = L.loadXTail(x0 + xi, rest, back: back), u1 = L.loadXTail(x1 + xi, rest, back: back)
                let v0 = L.loadWTail(w0 + wi, rest, back: back)
                a00 = L.mad(a00, u0, v0); a10 = L.mad(a10, u1, v0)
                let v1 = L.loadWTail(w1 + wi, rest, back: back)
                a01 = L.mad(a01, u0, v1); a11 = L.mad(a11, u1, v1)
                let v2 = L.loadWTail(w2 + wi, rest, back: back)
                a02 = L.mad(a02, u0, v2); a12 = L.mad(a12, u1, v2)
                let v3 = L.loadWTail(w3 + wi, rest, back: back)
                a03 = L.mad(a03, u0, v3); a13 = L.mad(a13, u1, v3)
            }
            tap &+= 1
        }
        L.storeBlock24(e, r, t, o, a00, a01, a02, a03, a10, a11, a12, a13)
    }

    /// Outputs (t, o…o+3) whose window may reach into the padding (lanes with `cols` 4): the taps outside
    /// [0, lin) are skipped; the four channels share each activation load, two accumulators each take the chunks
    /// in turn (one would wait for each multiply-accumulate's latency), then the scalar tail.
    @inline(never)
    static func edge4<L: ConvLane>(_ a: UnsafePointer<rlck_conv>, _ e: L.Ctx, _ r: L.RowCtx, _: L.Type, _ t: Int,
                                   _ o: Int) {
        let p = a.pointee
        guard let xBase = p.x, let wBase = p.w else { return }
        let cin = Int(p.channels_in), k = Int(p.kernel), d = Int(p.dilation)
        let (kLo, kHi, xStart) = clippedTaps(p, t)
        guard kHi > kLo else {
            var j = 0
            while j < 4 { L.store(e, t, o &+ j, L.sZero); j &+= 1 }
            return
        }
        let xB = L.xBytes, wB = L.wBytes, c = L.chunk
        let x = xBase + xStart &* cin &* xB
        let wRowB = k &* cin &* wB
        let w0 = wBase + (o &* k &+ kLo) &* cin &* wB, w1 = w0 + wRowB, w2 = w1 + wRowB, w3 = w2 + wRowB
        let contiguous = d == 1 || kHi &- kLo == 1
        let taps = contiguous ? 1 : kHi &- kLo, n = contiguous ? (kHi &- kLo) &* cin : cin
        let xTapB = d &* cin &* xB, wTapB = cin &* wB
        let full = n / c &* c
        var a0 = L.zero(), a1 = L.zero(), a2 = L.zero(), a3 = L.zero()
        var b0 = L.zero(), b1 = L.zero(), b2 = L.zero(), b3 = L.zero()
        var r0 = L.sZero, r1 = L.sZero, r2 = L.sZero, r3 = L.sZero
        var tap = 0
        while tap < taps {
            let xo = tap &* xTapB, wo = tap &* wTapB
            var i = 0
            while i &+ 2 &* c <= full {
                let u = L.loadX(x + (xo &+ i &* xB)), wi = wo &+ i &* wB
                a0 = L.mad(a0, u, L.loadW(w0 + wi)); a1 = L.mad(a1, u, L.loadW(w1 + wi))
                a2 = L.mad(a2, u, L.loadW(w2 + wi)); a3 = L.mad(a3, u, L.loadW(w3 + wi))
                let v = L.loadX(x + (xo &+ (i &+ c) &* xB)), wj = wo &+ (i &+ c) &* wB
                b0 = L.mad(b0, v, L.loadW(w0 + wj)); b1 = L.mad(b1, v, L.loadW(w1 + wj))
                b2 = L.mad(b2, v, L.loadW(w2 + wj)); b3 = L.mad(b3, v, L.loadW(w3 + wj))
                i &+= 2 &* c
            }
            if i < full {
                let u = L.loadX(x + (xo &+ i &* xB)), wi = wo &+ i &* wB
                a0 = L.mad(a0, u, L.loadW(w0 + wi)); a1 = L.mad(a1, u, L.loadW(w1 + wi))
                a2 = L.mad(a2, u, L.loadW(w2 + wi)); a3 = L.mad(a3, u, L.loadW(w3 + wi))
            }
            if full < n {
                let xr = x + (xo &+ full &* xB), wr = wo &+ full &* wB
                r0 = L.plus(r0, L.tail(xr, w0 + wr, n &- full))
                r1 = L.plus(r1, L.tail(xr, w1 + wr, n &- full))
                r2 = L.plus(r2, L.tail(xr, w2 + wr, n &- full))
                r3 = L.plus(r3, L.tail(xr, w3 + wr, n &- full))
            }
            tap &+= 1
        }
        if full == n {
            L.storeRow4Pairs(e, r, t, o, a0, b0, a1, b1, a2, b2, a3, b3)
            return
        }
        L.store(e, t, o, L.plus(L.plus(L.reduce(a0), L.reduce(b0)), r0))
        L.store(e, t, o &+ 1, L.plus(L.plus(L.reduce(a1), L.reduce(b1)), r1))
        L.store(e, t, o &+ 2, L.plus(L.plus(L.reduce(a2), L.reduce(b2)), r2))
        L.store(e, t, o &+ 3, L.plus(L.plus(L.reduce(a3), L.reduce(b3)), r3))
    }

    /// Outputs (t, o…o+2), interior.
    @inline(never)   // a separate specialisation per lane keeps each function small enough to inline its leaves
    static func block13<L: ConvLane>(_ e: L.Ctx, _: L.Type, _ t: Int, _ o: Int,
                                     _ x0: UnsafeRawPointer, _ xTapB: Int,
                                     _ w0: UnsafeRawPointer, _ wRowB: Int, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        L.store(e, t, o, dot(L.self, x0, xTapB, w0, wTapB, taps, n))
        L.store(e, t, o &+ 1, dot(L.self, x0, xTapB, w0 + wRowB, wTapB, taps, n))
        L.store(e, t, o &+ 2, dot(L.self, x0, xTapB, w0 + 2 &* wRowB, wTapB, taps, n))
    }

    /// Outputs (t…t+3, o), interior.
    @inline(never)   // a separate specialisation per lane keeps each function small enough to inline its leaves
    static func block41<L: ConvLane>(_ e: L.Ctx, _: L.Type, _ t: Int, _ o: Int,
                                     _ x0: UnsafeRawPointer, _ xStepB: Int, _ xTapB: Int,
                                     _ w0: UnsafeRawPointer, _ wTapB: Int, _ taps: Int, _ n: Int)
    {
        let c = L.chunk, xB = L.xBytes, wB = L.wBytes
        let full = n / c &* c
        guard full == n else {
            var j = 0
            while j < 4 { L.store(e, t &+ j, o, dot(L.self, x0 + j &* xStepB, xTapB, w0, wTapB, taps, n)); j &+= 1 }
            return
        }
        let x1 = x0 + xStepB, x2 = x1 + xStepB, x3 = x2 + xStepB
        var a0 = L.zero(), a1 = L.zero(), a2 = L.zero(), a3 = L.zero()
        var tap = 0
        while tap < taps {
            let xo = tap &* xTapB, wo = tap &* wTapB
            var i = 0
            while i < full {
                let v = L.loadW(w0 + (wo &+ i &* wB))
                let xi = xo &+ i &* xB
                a0 = L.mad(a0, L.loadX(x0 + xi), v); a1 = L.mad(a1, L.loadX(x1 + xi), v)
                a2 = L.mad(a2, L.loadX(x2 + xi), v); a3 = L.mad(a3, L.loadX(x3 + xi), v)
                i &+= c
            }
            tap &+= 1
        }
        let z = L.sZero
        L.store(e, t, o, L.plus(L.reduce(a0), z)); L.store(e, t &+ 1, o, L.plus(L.reduce(a1), z))
        L.store(e, t &+ 2, o, L.plus(L.reduce(a2), z)); L.store(e, t &+ 3, o, L.plus(L.reduce(a3), z))
    }
}

// MARK: - Epilogues (shared by every ISA)

/// Epilogue state of fp32/fp16 convolutions.
struct FloatEpilogue {
    var y: UnsafeMutablePointer<Float>
    var bias: UnsafePointer<Float>?
    var residual: UnsafePointer<Float>?
    var relu: Bool
    var cout: Int
}

/// Epilogue state of int8 convolutions.
struct Int8Epilogue {
    var y: UnsafeMutablePointer<UInt8>
    var bias: UnsafePointer<Int32>?
    var mult: UnsafePointer<Int32>
    var shift: UnsafePointer<Int32>
    var multRes: UnsafePointer<Int32>?
    var residual: UnsafeRawPointer?
    var residualSigned: Bool
    var lo: Int32, hi: Int32
    var cout: Int
}

enum Epilogue {
    @inline(__always)
    static func floatContext(_ a: UnsafePointer<rlck_conv>) -> FloatEpilogue? {
        let p = a.pointee
        guard let y = p.y else { return nil }
        return FloatEpilogue(y: y.assumingMemoryBound(to: Float.self), bias: p.bias?.assumingMemoryBound(to: Float.self),
                             residual: p.residual?.assumingMemoryBound(to: Float.self), relu: p.relu != 0,
                             cout: Int(p.channels_out))
    }

    @inline(__always)
    static func int8Context(_ a: UnsafePointer<rlck_conv>) -> Int8Epilogue? {
        let p = a.pointee
        guard let y = p.y, let m = p.mult, let s = p.shift else { return nil }
        if p.residual != nil, p.mult_res == nil { return nil }
        return Int8Epilogue(y: y.assumingMemoryBound(to: UInt8.self), bias: p.bias?.assumingMemoryBound(to: Int32.self),
                            mult: m, shift: s, multRes: p.mult_res, residual: p.residual,
                            residualSigned: p.res_signed != 0, lo: p.out_lo, hi: p.out_hi, cout: Int(p.channels_out))
    }

    /// fp32/fp16: y = bias[o] + dot, then + residual[t][o], then ReLU (docs/blob-format.md op 1).
    @inline(__always)
    static func float(_ e: FloatEpilogue, _ t: Int, _ o: Int, _ dot: Float) {
        let i = t &* e.cout &+ o
        var v = dot
        if let b = e.bias { v = b[o] + v }
        if let r = e.residual { v += r[i] }
        if e.relu, v < 0 { v = 0 }
        e.y[i] = v
    }

    /// int8: acc = dot + bias[o] (int32); y = clamp((acc·M + res·Mr + 2^(s−1)) >> s, lo, hi) in 64-bit
    /// (docs/quantization.md, "CONV1D with int8 weights").
    @inline(__always)
    static func int8(_ e: Int8Epilogue, _ t: Int, _ o: Int, _ dot: Int32) {
        let i = t &* e.cout &+ o
        var acc = dot
        if let b = e.bias { acc = acc &+ b[o] }
        var res: Int32? = nil
        var mr: Int32 = 0
        if let r = e.residual, let m = e.multRes {
            res = e.residualSigned ? Int32(r.load(fromByteOffset: i, as: Int8.self))
                                   : Int32(r.load(fromByteOffset: i, as: UInt8.self))
            mr = m[o]
        }
        let q = Requant.requantize(acc, mult: e.mult[o], shift: e.shift[o], residual: res, multRes: mr, lo: e.lo, hi: e.hi)
        e.y[i] = UInt8(truncatingIfNeeded: q)
    }
}

/// The integer primitives of docs/quantization.md, one function each (tested exhaustively over their domains).
enum Requant {
    /// clamp((acc·M [+ res·Mr] + 2^(s−1)) >> s, lo, hi), all in Int64; >> is arithmetic (floor division by 2^s).
    /// The validator guarantees 1 ≤ s ≤ 62, M, Mr ≥ 0, and the bounds of docs/quantization.md that keep every
    /// intermediate inside Int64; the masking shifts (&<<, &>>) keep even an unchecked s from trapping.
    @inline(__always)
    static func requantize(_ acc: Int32, mult: Int32, shift: Int32, residual: Int32?, multRes: Int32,
                           lo: Int32, hi: Int32) -> Int32
    {
        let s = Int64(shift)
        var total = Int64(acc) &* Int64(mult) &+ ((1 as Int64) &<< (s &- 1))
        if let residual { total = total &+ Int64(residual) &* Int64(multRes) }
        let q = total &>> s
        return Int32(truncatingIfNeeded: min(max(q, Int64(lo)), Int64(hi)))
    }

    /// AFFINE: clamp((x·A + B + 2^(s−1)) >> s, lo, hi) in Int64.
    @inline(__always)
    static func affine(_ x: Int32, a: Int32, b: Int32, shift: Int32, lo: Int32, hi: Int32) -> Int32 {
        let s = Int64(shift)
        let total = Int64(x) &* Int64(a) &+ Int64(b) &+ ((1 as Int64) &<< (s &- 1))
        return Int32(truncatingIfNeeded: min(max(total &>> s, Int64(lo)), Int64(hi)))
    }
}
