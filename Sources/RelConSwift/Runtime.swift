// A thin Swift wrapper over the C API of include/relcon.h. Every runtime call of the CLI goes through here, so the
// CLI exercises exactly what a C caller gets (the implementation is the hosted twin of the Embedded runtime).
import CRelCon
import Foundation

public struct RuntimeError: Error, CustomStringConvertible {
    public let status: relcon_status
    public let context: String
    public init(_ status: relcon_status, _ context: String) { self.status = status; self.context = context }
    public var statusText: String { String(cString: relcon_status_string(status)) }
    public var description: String { "\(context): \(statusText)" }
}

@inline(__always)
func check(_ st: relcon_status, _ context: @autoclosure () -> String) throws {
    if st != .RELCON_OK { throw RuntimeError(st, context()) }
}

public func libraryVersion() -> String { String(cString: relcon_version_string()) }

public func dtypeName(_ d: UInt32) -> String {
    switch Int32(d) {
    case RELCON_DTYPE_F32: return "f32"
    case RELCON_DTYPE_F16: return "f16"
    case RELCON_DTYPE_I8: return "int8"
    case RELCON_DTYPE_I32: return "i32"
    default: return "dtype\(d)"
    }
}

public func axisOrder(_ info: relcon_model_info) -> String {
    var a = info.axis_order
    return withUnsafeBytes(of: &a) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}

/// A blob file loaded once, RELCON_BLOB_ALIGN-aligned (64 here), kept for the lifetime of every session.
public final class Blob: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeMutableRawBufferPointer

    /// Reads the header first (192 bytes), then only the header's total_bytes (docs/blob-format.md): a huge file
    /// that is not a blob costs one small read, a blob followed by other data is read up to its end.
    public init(path: String) throws {
        self.path = path
        guard let fh = FileHandle(forReadingAtPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { throw CLIError("cannot open \(path): no such file") }
            throw CLIError("cannot read \(path)")
        }
        defer { try? fh.close() }
        let size = (try? fh.seekToEnd()).map(Int.init) ?? 0
        try? fh.seek(toOffset: 0)
        fileBytes = size
        let head = (try? fh.read(upToCount: 192)) ?? Data()
        var want = head.count
        if head.count >= 20, head.starts(with: [0x52, 0x4C, 0x43, 0x4E]) {   // "RLCN"
            let total = head.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian) }
            want = max(head.count, min(total, size))
        }
        var data = head
        if want > head.count {
            guard let rest = try? fh.read(upToCount: want - head.count) else { throw CLIError("cannot read \(path)") }
            data.append(rest)
        }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { src in
            if let b = src.baseAddress, let d = buf.baseAddress { d.copyMemory(from: b, byteCount: data.count) }
        }
        bytes = buf
        count = data.count
    }
    /// Bytes read (at most the header's total_bytes) and the file's size.
    public let count: Int
    public let fileBytes: Int
    deinit { bytes.deallocate() }

    /// relcon_inspect: validates the whole blob and sizes the arena for windows of up to `samples` (0 = contract).
    public func inspect(samples: UInt32 = 0) throws -> relcon_model_info {
        var info = relcon_model_info()
        try check(relcon_inspect(bytes.baseAddress, count, samples, &info), "\(path)")
        return info
    }

    /// relcon_meta for one key; nil when the key is missing.
    public func meta(_ key: String) -> String? {
        var value: UnsafePointer<CChar>? = nil
        let st = key.withCString { relcon_meta(bytes.baseAddress, count, $0, &value) }
        guard st == .RELCON_OK, let v = value else { return nil }
        return String(cString: v)
    }

    /// Every metadata pair, in blob order. Read from the metadata region the header points to (offsets 44/48,
    /// docs/blob-format.md), bounds-checked, each key confirmed through relcon_meta. Call after inspect succeeded.
    public func metadata() -> [(String, String)] {
        guard count >= 128 else { return [] }
        let raw = UnsafeRawBufferPointer(bytes)
        let off = Int(raw.loadUnaligned(fromByteOffset: 44, as: UInt32.self).littleEndian)
        let len = Int(raw.loadUnaligned(fromByteOffset: 48, as: UInt32.self).littleEndian)
        guard off >= 0, len >= 0, off + len <= count else { return [] }
        var strings: [String] = []
        var start = off
        for i in off..<(off + len) where raw[i] == 0 {
            strings.append(String(decoding: raw[start..<i], as: UTF8.self))
            start = i + 1
        }
        var pairs: [(String, String)] = []
        var i = 0
        while i + 1 < strings.count {
            if let v = meta(strings[i]) { pairs.append((strings[i], v)) }
            i += 2
        }
        return pairs
    }
}

/// A session in an arena owned by this object (allocated once, RELCON_ARENA_ALIGN-aligned).
public final class Session: @unchecked Sendable {
    public let blob: Blob
    public let info: relcon_model_info
    public let maxSamples: UInt32
    let arena: UnsafeMutableRawBufferPointer
    let session: OpaquePointer

    public init(blob: Blob, maxSamples: UInt32 = 0) throws {
        self.blob = blob
        let info = try blob.inspect(samples: maxSamples)
        self.info = info
        self.maxSamples = maxSamples == 0 ? info.window_samples : maxSamples
        let arenaBytes = Int(info.arena_bytes)
        arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(arenaBytes, 64), alignment: Int(RELCON_ARENA_ALIGN))
        var s: OpaquePointer? = nil
        let st = relcon_session_init(blob.bytes.baseAddress, blob.count, maxSamples, arena.baseAddress, arenaBytes, &s)
        guard st == .RELCON_OK, let sess = s else {
            arena.deallocate()
            throw RuntimeError(st, "session_init")
        }
        session = sess
    }
    deinit { arena.deallocate() }

    public var embeddingDim: Int { Int(info.embedding_dim) }
    public var rawSession: OpaquePointer { session }

    /// Embeds `n` samples starting at sample `offset` of interleaved `samples`; writes into `out`.
    public func embed(_ samples: UnsafeBufferPointer<Float>, offset: Int = 0, n: Int,
                      into out: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = samples.baseAddress, offset >= 0, 3 * (offset + n) <= samples.count else {
            throw CLIError("window [\(offset), \(offset + n)) is outside the recording")
        }
        try check(relcon_embed(session, base + 3 * offset, UInt32(n), out.baseAddress, UInt32(out.count)), "embed")
    }

    public func embed(_ samples: [Float], offset: Int = 0, n: Int) throws -> [Float] {
        var out = [Float](repeating: 0, count: embeddingDim)
        try samples.withUnsafeBufferPointer { s in
            try out.withUnsafeMutableBufferPointer { o in try embed(s, offset: offset, n: n, into: o) }
        }
        return out
    }
}

/// Window start indices for `n` samples, windows of `window`, step `hop`.
public func windowStarts(count n: Int, window: Int, hop: Int) -> [Int] {
    guard window > 0, hop > 0, n >= window else { return [] }
    return Array(stride(from: 0, through: n - window, by: hop))
}

/// Percentile of a sorted array (nearest rank).
public func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let k = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[k]
}

public func monotonicMicros() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}
