// shapes: paired per-shape timing of the CONV1D kernels of two ISA levels (default v3 against v4), for every
// CONV1D shape of the RelCon reference, compact and tiny (the test fixtures') encoders at T = 256, in fp32, fp16 and int8: the evidence for
// the static v4 → v3 routing rule (v4Keeps in Sources/RelConKernelsV4/ISA.swift, the v4 kernel table; docs/performance.md,
// "ISA levels").
//
//   make bench-shapes [SHAPES_ARGS="--iters 400"]        (mk/bench.mk: builds this against the hosted modules)
//
// It calls the kernel modules' public entry points (RelConKernelsV3Hosted / V4Hosted: the same sources as the
// shipped ones, release build) directly, one shape at a time, on random data; the two levels' calls alternate
// (A then B, B then A), each a batch of calls timed with the thread's CPU clock, and the table gives the median
// CPU µs per call of each and the median of the per-pair ratios B/A (< 1: B faster). int8 outputs of the two
// levels are compared (they must be identical). Figures only: nothing here is a test. Needs a CPU with both
// levels (it says so and exits 1 otherwise).

import CRelConKernels
import Glibc
import RelConKernelsV3Hosted
import RelConKernelsV4Hosted

struct Shape {
    var name: String
    var cin: Int, cout: Int, k: Int, stride: Int, padLeft: Int, lin: Int, lout: Int
    var signedX: Bool          // int8: the raw residual stream / quantised input (i8), else u7 after a ReLU
    var residual: Bool         // conv2 of a block: + shortcut
    var relu: Bool
}

/// Every CONV1D of ResNet1D (export/relcon_export/model.py) at T samples, as the planner lays it out.
func shapes(stem: Int, widths: [Int], blocks: [Int], kernels: [Int], t: Int, tag: String) -> [Shape] {
    let l1 = (t - 7) / 2 + 1, l2 = (l1 - 3) / 2 + 1
    var out = [Shape(name: "\(tag) stem 3>\(stem) k7 s2", cin: 3, cout: stem, k: 7, stride: 2, padLeft: 0, lin: t,
                     lout: l1, signedX: true, residual: false, relu: true)]
    var cin = stem
    var seen = Set<String>()
    for (i, w) in widths.enumerated() {
        for _ in 0..<blocks[i] {
            let k = kernels[i], pl = (k - 1) / 2
            let list = [
                Shape(name: "\(tag) conv1 \(cin)>\(w) k\(k)", cin: cin, cout: w, k: k, stride: 1, padLeft: pl, lin: l2,
                      lout: l2, signedX: false, residual: false, relu: true),
                Shape(name: "\(tag) conv2 \(w)>\(w) k\(k) +res", cin: w, cout: w, k: k, stride: 1, padLeft: pl, lin: l2,
                      lout: l2, signedX: false, residual: true, relu: false),
            ] + (cin != w ? [Shape(name: "\(tag) proj \(cin)>\(w) k1", cin: cin, cout: w, k: 1, stride: 1, padLeft: 0,
                                   lin: l2, lout: l2, signedX: true, residual: false, relu: false)] : [])
            for s in list where !seen.contains(s.name) { seen.insert(s.name); out.append(s) }
            cin = w
        }
    }
    return out
}

struct Rng {
    var s: UInt64
    mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    mutating func float() -> Float { Float(next() % 2001) / 1000 - 1 }
}

func cpuMicros() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) * 1e-3
}

typealias Kernel = @convention(thin) (UnsafePointer<rlck_conv>) -> Void

enum Precision: String, CaseIterable { case fp32, fp16, int8 }

func kernel(_ level: String, _ p: Precision) -> Kernel {
    switch (level, p) {
    case ("v3", .fp32): return RelConKernelsV3Hosted.convF32
    case ("v3", .fp16): return RelConKernelsV3Hosted.convF16
    case ("v3", .int8): return RelConKernelsV3Hosted.convI8
    case (_, .fp32): return RelConKernelsV4Hosted.convF32
    case (_, .fp16): return RelConKernelsV4Hosted.convF16
    default: return RelConKernelsV4Hosted.convI8
    }
}

/// Median CPU µs per call of A and B, median and quartiles of the pair ratios B/A, and whether the outputs agree.
func measure(_ s: Shape, _ p: Precision, _ a: Kernel, _ b: Kernel, iters: Int, batch: Int, rng: inout Rng)
    -> (Double, Double, Double, Double, Double, Bool)
{
    let xBytes = p == .int8 ? 1 : 4, wBytes = p == .int8 ? 1 : (p == .fp16 ? 2 : 4), yBytes = p == .int8 ? 1 : 4
    let nx = s.lin * s.cin, nw = s.cout * s.k * s.cin, ny = s.lout * s.cout
    let x = UnsafeMutableRawPointer.allocate(byteCount: nx * xBytes + 64, alignment: 64)
    let w = UnsafeMutableRawPointer.allocate(byteCount: nw * wBytes + 64, alignment: 64)
    let res = UnsafeMutableRawPointer.allocate(byteCount: ny * yBytes + 64, alignment: 64)
    let bias = UnsafeMutableRawPointer.allocate(byteCount: s.cout * 4 + 64, alignment: 64)
    let ys = [UnsafeMutableRawPointer.allocate(byteCount: ny * yBytes + 64, alignment: 64),
              UnsafeMutableRawPointer.allocate(byteCount: ny * yBytes + 64, alignment: 64)]
    let mult = UnsafeMutablePointer<Int32>.allocate(capacity: s.cout)
    let shift = UnsafeMutablePointer<Int32>.allocate(capacity: s.cout)
    let multRes = UnsafeMutablePointer<Int32>.allocate(capacity: s.cout)
    defer { for q in [x, w, res, bias] + ys { q.deallocate() }; mult.deallocate(); shift.deallocate(); multRes.deallocate() }
    for i in 0..<nx {
        if p == .int8 {
            x.storeBytes(of: UInt8(truncatingIfNeeded: s.signedX ? rng.int(-128, 127) : rng.int(0, 127)),
                         toByteOffset: i, as: UInt8.self)
        } else { x.storeBytes(of: rng.float(), toByteOffset: 4 * i, as: Float.self) }
    }
    for i in 0..<nw {
        switch p {
        case .int8: w.storeBytes(of: Int8(rng.int(-127, 127)), toByteOffset: i, as: Int8.self)
        case .fp16: w.storeBytes(of: Float16(rng.float() * 0.1), toByteOffset: 2 * i, as: Float16.self)
        case .fp32: w.storeBytes(of: rng.float() * 0.1, toByteOffset: 4 * i, as: Float.self)
        }
    }
    for i in 0..<ny {
        if p == .int8 { res.storeBytes(of: UInt8(truncatingIfNeeded: rng.int(-128, 127)), toByteOffset: i, as: UInt8.self) }
        else { res.storeBytes(of: rng.float(), toByteOffset: 4 * i, as: Float.self) }
    }
    for o in 0..<s.cout {
        if p == .int8 { bias.storeBytes(of: Int32(rng.int(-5000, 5000)), toByteOffset: 4 * o, as: Int32.self) }
        else { bias.storeBytes(of: rng.float(), toByteOffset: 4 * o, as: Float.self) }
        mult[o] = Int32(rng.int(1 << 20, 1 << 22)); shift[o] = Int32(rng.int(28, 36)); multRes[o] = Int32(rng.int(1 << 20, 1 << 22))
    }
    func args(_ y: UnsafeMutableRawPointer) -> rlck_conv {
        var c = rlck_conv()
        c.x = UnsafeRawPointer(x); c.w = UnsafeRawPointer(w); c.bias = UnsafeRawPointer(bias)
        c.residual = s.residual ? UnsafeRawPointer(res) : nil
        c.y = y
        if p == .int8 { c.mult = UnsafePointer(mult); c.shift = UnsafePointer(shift); c.mult_res = UnsafePointer(multRes) }
        c.length_in = Int64(s.lin); c.channels_in = Int64(s.cin); c.length_out = Int64(s.lout); c.channels_out = Int64(s.cout)
        c.kernel = Int64(s.k); c.stride = Int64(s.stride); c.dilation = 1; c.pad_left = Int64(s.padLeft)
        c.relu = s.relu ? 1 : 0
        c.x_signed = s.signedX ? 1 : 0; c.res_signed = 1
        c.out_lo = s.relu ? 0 : -128; c.out_hi = 127
        c.x_max = s.signedX ? 0 : 127
        return c
    }
    var ca = args(ys[0]), cb = args(ys[1])
    let fs = [a, b]
    var d: [[Double]] = [[], []]
    var ratios: [Double] = []
    for i in 0..<(iters + iters / 10) {
        var t = [0.0, 0.0]
        for j in 0..<2 {
            let k = (i & 1) ^ j
            let c0 = cpuMicros()
            if k == 0 { withUnsafePointer(to: &ca) { ptr in for _ in 0..<batch { fs[0](ptr) } } }
            else { withUnsafePointer(to: &cb) { ptr in for _ in 0..<batch { fs[1](ptr) } } }
            t[k] = (cpuMicros() - c0) / Double(batch)
        }
        if i >= iters / 10 { d[0].append(t[0]); d[1].append(t[1]); ratios.append(t[1] / t[0]) }   // first 10 %: warm-up
    }
    let same = p != .int8 || memcmp(ys[0], ys[1], ny) == 0
    let med = { (v: [Double]) -> Double in v.sorted()[v.count / 2] }
    let r = ratios.sorted()
    return (med(d[0]), med(d[1]), r[r.count / 2], r[r.count / 4], r[3 * r.count / 4], same)
}

var iters = 200
var only = ""
let levels = ("v3", "v4")
var argi = 1
let argv = CommandLine.arguments
while argi < argv.count {
    switch argv[argi] {
    case "--iters" where argi + 1 < argv.count: iters = max(8, Int(argv[argi + 1]) ?? iters); argi += 1
    case "--only" where argi + 1 < argv.count: only = argv[argi + 1]; argi += 1
    default: fputs("usage: shapes [--iters N] [--only SUBSTRING of 'shape precision']\n", stderr); exit(2)
    }
    argi += 1
}
guard rlck_detect_isa() >= RLCK_ISA_V4_VNNI else {
    fputs("shapes: this CPU has no AVX-512 VNNI (rlck_detect_isa): nothing to compare\n", stderr)
    exit(1)
}
let all = shapes(stem: 64, widths: [64, 128, 256], blocks: [3, 4, 6], kernels: [3, 4, 4], t: 256, tag: "ref")
    + shapes(stem: 64, widths: [32, 64, 128], blocks: [2, 2, 2], kernels: [3, 4, 4], t: 256, tag: "compact")
    + shapes(stem: 8, widths: [8, 16, 32], blocks: [1, 1, 1], kernels: [3, 4, 4], t: 256, tag: "tiny")
print("A = \(levels.0), B = \(levels.1); \(iters) pairs per shape, CPU µs per call (median), ratio B/A per pair")
print("| shape | precision | MAC | A µs | B µs | B/A median | B/A IQR | int8 outputs |")
print("|---|---|---|---|---|---|---|---|")
var rng = Rng(s: 0x9E37_79B9_7F4A_7C15)
for p in Precision.allCases {
    for s in all where only.isEmpty || "\(s.name) \(p.rawValue)".contains(only) {
        let macs = s.lout * s.cout * s.k * s.cin
        let batch = max(1, 200_000 / macs)
        let (ta, tb, r, q1, q3, same) = measure(s, p, kernel(levels.0, p), kernel(levels.1, p), iters: iters,
                                                 batch: batch, rng: &rng)
        let f = { (v: Double, n: Int32) -> String in
            var buf = [CChar](repeating: 0, count: 32)
            _ = withVaList([v]) { vsnprintf(&buf, 32, "%.\(n)f", $0) }
            return String(cString: buf)
        }
        print("| \(s.name) | \(p.rawValue) | \(macs) | \(f(ta, 2)) | \(f(tb, 2)) | \(f(r, 3)) | \(f(q1, 3))–\(f(q3, 3)) | "
              + "\(p == .int8 ? (same ? "identical" : "DIFFER") : "") |")
        fflush(stdout)
    }
}
