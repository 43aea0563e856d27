// fp32 kernels against straightforward references (Double accumulation) over sweeps of shapes, strides,
// dilations and paddings, asymmetric ones included.

import CRelConKernels
import Testing
@testable import RelConRuntimeHosted

/// |got − want| <= 1e-5 · (Σ|terms|) + 1e-6: the bound float summation of those terms obeys.
func close(_ got: Float, _ want: Float, magnitude: Double) -> Bool {
    abs(Double(got) - Double(want)) <= 1e-5 * magnitude + 1e-6
}

struct ConvCase: CustomStringConvertible {
    var length: Int, cin: Int, cout: Int, k: Int, stride: Int, dilation: Int, pl: Int, pr: Int
    var bias = true, residual = false, relu = false
    var lengthOut: Int { (length + pl + pr - dilation * (k - 1) - 1) / stride + 1 }
    var valid: Bool { length + pl + pr - dilation * (k - 1) - 1 >= 0 }
    var description: String {
        "L=\(length) Cin=\(cin) Cout=\(cout) K=\(k) s=\(stride) d=\(dilation) pads=\(pl)/\(pr) bias=\(bias) res=\(residual) relu=\(relu)"
    }
}

/// Runs the kernel and the reference on random data; returns the number of mismatching outputs.
/// isa: the kernel module to run (its own lanes, whatever the shape, unless `routed`: then the level Kernels.route
/// picks, as a session runs it); half: binary16 weights (the reference uses the same rounded weights).
func checkConv(_ c: ConvCase, rng: inout SeededRandom, isa: ISA = .detect(), half: Bool = false,
               routed: Bool = false) -> Int {
    let x = rng.floats(c.length * c.cin)
    var w = rng.floats(c.cout * c.k * c.cin)
    let w16 = w.map { Float16($0) }
    if half { w = w16.map { Float($0) } }
    let b = rng.floats(c.cout)
    let lout = c.lengthOut
    let res = rng.floats(lout * c.cout)
    let ref = Reference.conv(x, length: c.length, cin: c.cin, w: w, bias: c.bias ? b : nil, cout: c.cout, k: c.k,
                             stride: c.stride, dilation: c.dilation, padLeft: c.pl, padRight: c.pr)
    var y = [Float](repeating: .nan, count: lout * c.cout + 1)     // one guard element past the end
    let shape = Conv1DShape(lengthIn: c.length, channelsIn: c.cin, lengthOut: lout, channelsOut: c.cout,
                            kernel: c.k, stride: c.stride, dilation: c.dilation, padLeft: c.pl)
    x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
            b.withUnsafeBufferPointer { bp in
                res.withUnsafeBufferPointer { rp in
                    y.withUnsafeMutableBufferPointer { yp in
                        if half {
                            w16.withUnsafeBytes { hp in
                                var a = shape.args
                                a.x = UnsafeRawPointer(xp.baseAddress!); a.w = hp.baseAddress
                                a.bias = c.bias ? UnsafeRawPointer(bp.baseAddress!) : nil
                                a.residual = c.residual ? UnsafeRawPointer(rp.baseAddress!) : nil
                                a.y = UnsafeMutableRawPointer(yp.baseAddress!); a.relu = c.relu ? 1 : 0
                                withUnsafePointer(to: &a) { Kernels.convF16(isa, $0, routed: routed) }
                            }
                        } else {
                            Conv1DF32.run(shape, x: xp.baseAddress!, w: wp.baseAddress!, bias: c.bias ? bp.baseAddress! : nil,
                                          residual: c.residual ? rp.baseAddress! : nil, relu: c.relu, y: yp.baseAddress!,
                                          isa: isa, routed: routed)
                        }
                    }
                }
            }
        }
    }
    var bad = 0
    for i in 0..<lout * c.cout {
        var want = ref.y[i]
        var mag = ref.magnitude[i]
        if c.residual { want += res[i]; mag += Double(abs(res[i])) }
        if c.relu { want = max(want, 0) }
        if !close(y[i], want, magnitude: mag) { bad += 1 }
    }
    if !y[lout * c.cout].isNaN { bad += 1 }     // wrote past the output
    return bad
}

@Suite struct KernelTests {
    /// Every kernel size, stride, dilation and padding pair (asymmetric 1/2 and 2/1 included) for a few
    /// lengths, with channel counts that exercise the 4-channel blocks, the 8-lane loop and both tails.
    @Test func conv1dSweep() {
        var rng = SeededRandom(21)
        var cases = 0, failures: [String] = []
        let pads = [(0, 0), (1, 1), (1, 2), (2, 1), (0, 3), (3, 0), (5, 4)]
        for k in [1, 2, 3, 4, 7] {
            for stride in [1, 2, 3] {
                for dilation in [1, 2, 3] {
                    for (pl, pr) in pads {
                        for length in [1, 2, 5, 13, 31] {
                            let cin = [1, 3, 8, 9, 17][cases % 5]
                            let cout = [1, 4, 5, 8, 7, 3][cases % 6]
                            let c = ConvCase(length: length, cin: cin, cout: cout, k: k, stride: stride, dilation: dilation,
                                             pl: pl, pr: pr, bias: cases % 3 != 0, residual: cases % 4 == 1, relu: cases % 2 == 0)
                            guard c.valid else { continue }
                            cases += 1
                            if checkConv(c, rng: &rng) > 0 { failures.append(c.description) }
                        }
                    }
                }
            }
        }
        #expect(cases > 1000)
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    /// Random larger shapes, RelCon-like ones included (k4 pads 1/2 at 64-256 channels, stem k7 s2 on 3).
    @Test func conv1dRandomAndRelConShapes() {
        var rng = SeededRandom(22)
        var list: [ConvCase] = [
            ConvCase(length: 256, cin: 3, cout: 64, k: 7, stride: 2, dilation: 1, pl: 0, pr: 0, relu: true),
            ConvCase(length: 62, cin: 64, cout: 64, k: 3, stride: 1, dilation: 1, pl: 1, pr: 1, residual: true),
            ConvCase(length: 62, cin: 128, cout: 128, k: 4, stride: 1, dilation: 1, pl: 1, pr: 2, relu: true),
            ConvCase(length: 62, cin: 64, cout: 128, k: 1, stride: 1, dilation: 1, pl: 0, pr: 0),
            ConvCase(length: 11, cin: 256, cout: 9, k: 4, stride: 1, dilation: 1, pl: 1, pr: 2, residual: true),
        ]
        for _ in 0..<60 {
            list.append(ConvCase(length: rng.int(1...70), cin: rng.int(1...40), cout: rng.int(1...21), k: rng.int(1...9),
                                 stride: rng.int(1...4), dilation: rng.int(1...4), pl: rng.int(0...6), pr: rng.int(0...6),
                                 bias: rng.int(0...1) == 1, residual: rng.int(0...1) == 1, relu: rng.int(0...1) == 1))
        }
        for c in list where c.valid {
            #expect(checkConv(c, rng: &rng) == 0, "\(c)")
        }
    }

    @Test func affineAddRelu() {
        var rng = SeededRandom(23)
        for (length, channels) in [(1, 1), (3, 5), (17, 64), (9, 3)] {
            let n = length * channels
            let x = rng.floats(n, -3, 3), x2 = rng.floats(n, -3, 3)
            let scale = rng.floats(channels), shift = rng.floats(channels)
            for relu in [false, true] {
                var y = [Float](repeating: .nan, count: n)
                ElementwiseF32.affine(x: x, scale: scale, shift: shift, length: length, channels: channels, relu: relu, y: &y)
                for i in 0..<n {
                    var want = x[i] * scale[i % channels] + shift[i % channels]
                    if relu { want = max(want, 0) }
                    #expect(y[i] == want)
                }
                ElementwiseF32.add(a: x, b: x2, count: n, relu: relu, y: &y)
                for i in 0..<n { #expect(y[i] == (relu ? max(x[i] + x2[i], 0) : x[i] + x2[i])) }
            }
            var y = [Float](repeating: .nan, count: n)
            ElementwiseF32.relu(x: x, count: n, y: &y)
            for i in 0..<n { #expect(y[i] == max(x[i], 0)) }
        }
    }

    @Test func maxpoolSweep() {
        var rng = SeededRandom(24)
        for k in 1...5 {
            for stride in 1...3 {
                for pl in 0..<k {
                    for pr in 0..<k {
                        for length in [1, 2, 4, 9] {
                            let channels = 3
                            guard length + pl + pr - k >= 0 else { continue }
                            let lout = (length + pl + pr - k) / stride + 1
                            let x = rng.floats(length * channels, -5, 5)
                            var y = [Float](repeating: .nan, count: lout * channels)
                            PoolF32.maxpool(x: x, lengthIn: length, channels: channels, kernel: k, stride: stride,
                                            padLeft: pl, lengthOut: lout, y: &y)
                            for t in 0..<lout {
                                for c in 0..<channels {
                                    var want = -Float.infinity
                                    for kk in 0..<k {
                                        let p = t * stride - pl + kk
                                        if p >= 0 && p < length { want = max(want, x[p * channels + c]) }
                                    }
                                    #expect(want.isFinite)      // pads < kernel: never a window of padding only
                                    #expect(y[t * channels + c] == want, "k=\(k) s=\(stride) pads=\(pl)/\(pr) L=\(length)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test func meanAndLinear() {
        var rng = SeededRandom(25)
        for (length, channels) in [(1, 1), (5, 3), (62, 256), (1000, 7)] {
            let x = rng.floats(length * channels, -2, 2)
            var y = [Float](repeating: .nan, count: channels)
            PoolF32.mean(x: x, length: length, channels: channels, y: &y)
            for c in 0..<channels {
                let terms = (0..<length).map { Double(x[$0 * channels + c]) }
                let want = terms.reduce(0, +) / Double(length)
                #expect(abs(Double(y[c]) - want) <= 1e-6 * terms.map(abs).reduce(0, +) / Double(length) + 1e-7)
            }
        }
        for (cin, cout) in [(1, 1), (3, 4), (9, 5), (256, 10), (17, 3)] {
            let x = rng.floats(cin), w = rng.floats(cin * cout), b = rng.floats(cout)
            for (useBias, relu) in [(true, false), (false, true)] {
                var y = [Float](repeating: .nan, count: cout + 1)
                b.withUnsafeBufferPointer { bp in
                    LinearF32.run(x: x, channelsIn: cin, w: w, bias: useBias ? bp.baseAddress! : nil, channelsOut: cout,
                                  relu: relu, y: &y)
                }
                for o in 0..<cout {
                    let terms = (0..<cin).map { Double(w[o * cin + $0]) * Double(x[$0]) }
                    var want = Float(terms.reduce(useBias ? Double(b[o]) : 0, +))
                    if relu { want = max(want, 0) }
                    #expect(close(y[o], want, magnitude: terms.map(abs).reduce(abs(Double(b[o])), +)))
                }
                #expect(y[cout].isNaN)
            }
        }
    }
}
