// Shape inference (LengthForm) and the arena planner, checked against independent recomputations of the
// rules in docs/runtime.md: naive per-layer lengths, liveness by scanning, first fit by scanning gaps.

import Foundation
import Testing
@testable import RelConRuntimeHosted

/// The layer fields the planner uses, decoded from a validated blob.
struct PlanLayer {
    var op: UInt32, in0: Int, in1: Int?, k: Int, s: Int, d: Int, pl: Int, pr: Int, cout: Int, kernelDims: Int
}

/// docs/runtime.md "Arena planner", recomputed with arrays.
struct PlanOracle {
    var lengths: [Int] = [], channels: [Int] = [], bytes: [Int] = [], birth: [Int] = [], death: [Int] = []
    var offsets: [Int] = []
    var peak = 0, control = 0, arena = 0, macs = 0

    init(layers: [PlanLayer], outputValue: Int, window t: Int) {
        let s = outputValue
        lengths = [t]
        channels = [3]
        for l in layers.prefix(s) {
            let len = lengths[l.in0]
            switch l.op {
            case 1, 3: lengths.append((len + l.pl + l.pr - l.d * (l.k - 1) - 1) / l.s + 1)
            case 5, 6: lengths.append(1)
            default: lengths.append(len)
            }
            channels.append(l.cout)
            if l.op == 1 { macs += lengths.last! * l.cout * l.k * channels[l.in0] }
            if l.op == 6 { macs += l.cout * channels[l.in0] }
        }
        for v in 0...s {
            bytes.append((lengths[v] * channels[v] * 4 + 63) / 64 * 64)
            let b = max(v - 1, 0)
            var last = b
            for (i, l) in layers.prefix(s).enumerated() where l.in0 == v || l.in1 == v { last = max(last, i) }
            birth.append(b)
            death.append(v == s ? b : last)
        }
        // First fit in birth order (= value order): lowest gap among buffers alive at the birth.
        for v in 0...s {
            let alive = (0..<v).filter { death[$0] >= birth[v] }.sorted { offsets[$0] < offsets[$1] }
            var candidate = 0
            for u in alive {
                if candidate + bytes[v] <= offsets[u] { break }
                candidate = max(candidate, offsets[u] + bytes[u])
            }
            offsets.append(candidate)
            peak = max(peak, candidate + bytes[v])
        }
        control = (128 + 64 * s + 48 * (s + 1) + 63) / 64 * 64
        arena = control + peak
    }
}

func planLayers(_ m: Model) throws -> [PlanLayer] {
    try (0..<m.nLayers).map { i in
        let r = try m.layer(i)
        return PlanLayer(op: r.op, in0: Int(r.in0), in1: r.in1 == NONE ? nil : Int(r.in1), k: Int(r.kernel),
                         s: Int(r.stride), d: Int(r.dilation), pl: Int(r.padLeft), pr: Int(r.padRight),
                         cout: Int(r.outChannels), kernelDims: 0)
    }
}

@Suite struct LengthFormTests {
    /// Random chains of windowed layers: the closed form equals the per-layer recursion for every T where
    /// all lengths are >= 1, and the largest minWindow over the chain is exactly the first such T.
    @Test func closedFormMatchesRecursion() {
        var rng = SeededRandom(11)
        for _ in 0..<300 {
            let depth = rng.int(1...5)
            var layers: [(k: Int, s: Int, d: Int, pl: Int, pr: Int)] = []
            var form = LengthForm.input
            var minSamples: Int64 = 1
            for _ in 0..<depth {
                let l = (k: rng.int(1...7), s: rng.int(1...3), d: rng.int(1...3), pl: rng.int(0...4), pr: rng.int(0...4))
                layers.append(l)
                form = form.windowed(kernel: UInt32(l.k), stride: UInt32(l.s), dilation: UInt32(l.d),
                                     padLeft: UInt32(l.pl), padRight: UInt32(l.pr))!
                minSamples = max(minSamples, form.minWindow!)
            }
            var firstValid: Int? = nil
            for t in 1...400 {
                var len = t
                var ok = true
                for l in layers {
                    len = Int((Double(len + l.pl + l.pr - l.d * (l.k - 1) - 1) / Double(l.s)).rounded(.down)) + 1
                    if len < 1 { ok = false; break }
                }
                if ok {
                    if firstValid == nil { firstValid = t }
                    #expect(form.length(window: Int64(t)) == Int64(len))
                }
            }
            if let first = firstValid { #expect(minSamples == Int64(first)) } else { #expect(minSamples > 400) }
        }
    }

    @Test func constantsAndOverflow() {
        let one = LengthForm.constant(1)
        #expect(one.windowed(kernel: 1, stride: 1, dilation: 1, padLeft: 0, padRight: 0) == one)
        #expect(one.windowed(kernel: 3, stride: 1, dilation: 1, padLeft: 1, padRight: 1) == one)
        #expect(one.windowed(kernel: 3, stride: 1, dilation: 1, padLeft: 0, padRight: 0) == nil)
        #expect(LengthForm.constant(10).windowed(kernel: 3, stride: 2, dilation: 1, padLeft: 0, padRight: 0) == .constant(4))
        #expect(LengthForm.input.windowed(kernel: .max, stride: 1, dilation: .max, padLeft: 0, padRight: 0) == nil)
        var f = LengthForm.input
        for _ in 0..<2 { f = f.windowed(kernel: 1, stride: .max, dilation: 1, padLeft: 0, padRight: 0) ?? f }
        #expect(f.windowed(kernel: 1, stride: .max, dilation: 1, padLeft: 0, padRight: 0) == nil)   // S overflows
    }
}

@Suite struct ArenaPlannerTests {
    static func graphs() -> [(String, [UInt8])] {
        var list = [("resnet", BlobWriter.write(Graphs.resnet()).bytes),
                    ("assorted", BlobWriter.write(Graphs.assorted()).bytes),
                    ("longSkip", BlobWriter.write(Graphs.longSkip()).bytes)]
        if let tiny = Fixtures.bytes("tiny.blob") { list.append(("tiny.blob", tiny)) }
        return list
    }

    @Test func recordLayoutsMatchTheFormula() {
        #expect(MemoryLayout<SessionHeader>.size == Int(ArenaPlanner.controlHeaderBytes))
        #expect(MemoryLayout<StepRecord>.stride == Int(ArenaPlanner.stepRecordBytes))
        #expect(MemoryLayout<ValueRecord>.stride == Int(ArenaPlanner.valueRecordBytes))
        #expect(MemoryLayout<LiveEntry>.stride * LiveSet.capacity <= 1024)   // stays on the stack
        for s: UInt32 in [1, 2, 3, 57, 4096] {
            let want = (128 + 64 * Int(s) + 48 * (Int(s) + 1) + 63) / 64 * 64
            #expect(ArenaPlanner.controlBytes(steps: s) == UInt64(want))
        }
    }

    @Test(arguments: graphs())
    func planMatchesOracleAndNeverOverlaps(_ named: (String, [UInt8])) throws {
        let blob = try LoadedBlob(named.1)
        let m = blob.model
        let layers = try planLayers(m)
        let minT = Int(m.minSamples)
        for t in [minT, minT + 1, minT + 2, 37, 64, 100, 256, 1000] where t >= minT {
            var placed: [ValuePlacement] = []
            let plan = try ArenaPlanner.plan(m, window: UInt32(t)) { (p: ValuePlacement) throws(RelConError) in placed.append(p) }
            let oracle = PlanOracle(layers: layers, outputValue: Int(m.outputValue), window: t)
            #expect(plan.arenaBytes == UInt64(oracle.arena), "\(named.0) T=\(t)")
            #expect(plan.controlBytes == UInt64(oracle.control))
            #expect(plan.peakBytes == UInt64(oracle.peak))
            #expect(plan.macs == UInt64(oracle.macs))
            #expect(placed.map { Int($0.offset) } == oracle.offsets, "\(named.0) T=\(t)")
            #expect(placed.map { Int($0.value) } == Array(0...Int(m.outputValue)))
            // Each buffer holds its value; no two buffers alive at the same step overlap.
            for p in placed {
                let v = Int(p.value)
                #expect(Int(p.bytes) >= oracle.lengths[v] * oracle.channels[v] * 4)
                #expect(p.bytes % 64 == 0 && p.offset % 64 == 0)
                #expect(p.form.length(window: Int64(t)) == Int64(oracle.lengths[v]))
            }
            for a in placed {
                for b in placed where b.value > a.value {
                    let (u, v) = (Int(a.value), Int(b.value))
                    let together = oracle.birth[v] <= oracle.death[u] && oracle.birth[u] <= oracle.death[v]
                    if together {
                        #expect(a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset,
                                "\(named.0) T=\(t): values \(u) and \(v) overlap")
                    }
                }
            }
            // Shorter windows fit the buffers planned for this one (the session reuses the plan).
            for shorter in stride(from: minT, through: t, by: max(1, (t - minT) / 7)) {
                for p in placed {
                    let len = try #require(p.form.length(window: Int64(shorter)))
                    #expect(UInt64(len) * UInt64(p.channels) * 4 <= p.bytes)
                }
            }
        }
    }

    /// The arena the tiny fixture needs is pinned: a change to the planner or the control block that makes
    /// it grow fails here (update the number, and docs/runtime.md, on purpose).
    @Test(.enabled(if: Fixtures.hasTiny)) func tinyFixtureArenaIsPinned() throws {
        let blob = try LoadedBlob(try #require(Fixtures.bytes("tiny.blob")))
        let plan = try ArenaPlanner.plan(blob.model, window: 256) { (_: ValuePlacement) throws(RelConError) in }
        #expect(plan.controlBytes == 1792)      // 14 steps: align64(128 + 64·14 + 48·15)
        #expect(plan.arenaBytes == 25600)
    }

    @Test func hugeWindowsPlanWithoutTrapping() throws {
        // A stride-1 conv with 2^32 − 1 samples of padding on each side: lengths near 2^36, sizes near 2^40.
        var rng = SeededRandom(5)
        var g = TestGraph()
        let c = g.add(TestLayer(op: 1, in0: 0, t0: g.tensor(TestTensor([4, 1, 3], random: &rng)), kernel: 1, stride: 1,
                                dilation: 1, padLeft: 0xFFFF_FFFF, padRight: 0xFFFF_FFFF, outChannels: 4))
        var x = c
        for _ in 0..<8 {
            x = g.add(TestLayer(op: 3, in0: x, kernel: 1, stride: 1, dilation: 1, outChannels: 4))
        }
        g.output(g.mean(x))
        let blob = try LoadedBlob(BlobWriter.write(g).bytes)
        let plan = try ArenaPlanner.plan(blob.model, window: .max) { (_: ValuePlacement) throws(RelConError) in }
        let length = UInt64(UInt32.max) + 2 * UInt64(UInt32.max)
        #expect(plan.arenaBytes >= 2 * length * 4 * 4)
        #expect(plan.macs == length * 4 * 3)
    }
}
