// Minimal NumPy .npy reader/writer (format versions 1.0-3.0; little-endian float32/float64 2-D arrays).
import Foundation

public enum NPY {
    /// Reads a 2-D little-endian f4/f8 array with 3 or 4 columns as rows of doubles; checks every value is finite.
    public static func readMatrix(_ data: Data, path: String) throws -> ([[Double]], Int) {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw CLIError("\(path) is not an NPY file")
        }
        let major = bytes[6]
        var headerLen = 0, headerStart = 0
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw CLIError("\(path): truncated NPY header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw CLIError("\(path): NPY format version \(major) is not supported")
        }
        guard headerStart + headerLen <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLen)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else { throw CLIError("\(path): truncated NPY header") }
        let dataStart = headerStart + headerLen

        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)'") else { return nil }
            var rest = header[r.upperBound...].drop(while: { $0 == " " || $0 == ":" })
            if rest.first == "(" {
                guard let close = rest.firstIndex(of: ")") else { return nil }
                return String(rest[...close])
            }
            if rest.first == "'" {
                rest = rest.dropFirst()
                guard let close = rest.firstIndex(of: "'") else { return nil }
                return String(rest[..<close])
            }
            return String(rest.prefix(while: { $0 != "," && $0 != "}" })).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr"), let fortran = field("fortran_order"), let shapeText = field("shape") else {
            throw CLIError("\(path): NPY header lacks descr/fortran_order/shape")
        }
        let itemSize: Int
        switch descr {
        case "<f4", "=f4": itemSize = 4
        case "<f8", "=f8": itemSize = 8
        default: throw CLIError("\(path): NPY dtype \(descr) is not supported (float32 or float64, little-endian)")
        }
        let dims = shapeText.dropFirst().dropLast().split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard dims.count == 2, dims[1] == 3 || dims[1] == 4 else {
            throw CLIError("\(path): NPY shape \(shapeText); expected (N, 3) x,y,z or (N, 4) t,x,y,z")
        }
        let (n, w) = (dims[0], dims[1])
        // n from the file: negative, or so large that n·w·itemSize overflows, is refused before any arithmetic on it
        guard n >= 0 else { throw CLIError("\(path): NPY shape \(shapeText) has a negative row count") }
        guard n <= (bytes.count - dataStart) / (w * itemSize) else { throw CLIError("\(path): NPY data is truncated") }
        let isFortran = fortran == "True"
        var rows = [[Double]](repeating: [Double](repeating: 0, count: w), count: n)
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                for j in 0..<w {
                    let k = isFortran ? j * n + i : i * w + j
                    let off = dataStart + k * itemSize
                    if itemSize == 4 {
                        rows[i][j] = Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: off, as: UInt32.self).littleEndian))
                    } else {
                        rows[i][j] = Double(bitPattern: raw.loadUnaligned(fromByteOffset: off, as: UInt64.self).littleEndian)
                    }
                }
            }
        }
        for i in 0..<n {
            if let bad = rows[i].firstIndex(where: { !$0.isFinite }) {
                throw CLIError("\(path): row \(i), column \(bad + 1) is not finite (\(rows[i][bad]))")
            }
        }
        return (rows, w)
    }

    /// Encodes a row-major float64 matrix as NPY version 1.0.
    public static func encode(rows: Int, cols: Int, values: [Double]) -> Data {
        precondition(values.count == rows * cols)
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let hl = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(hl & 0xff), UInt8(hl >> 8)])
        out.append(contentsOf: Array(header.utf8))
        var le = values.map { $0.bitPattern.littleEndian }
        out.append(Data(bytes: &le, count: le.count * 8))
        return out
    }
}

/// Writes `data` to `path` atomically: a temporary file in the same folder, then rename(2).
/// Errors name `path` (the user's), never the temporary file. An existing read-only `path` is not replaced
/// (rename(2) would replace it: the folder's permission decides, not the file's); nor is a folder.
public func writeAtomically(_ data: Data, to path: String) throws {
    var st = stat()
    if lstat(path, &st) == 0 {
        if (st.st_mode & S_IFMT) == S_IFDIR { throw CLIError("cannot write \(path): is a directory") }
        if (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0 || access(path, W_OK) != 0 {
            throw CLIError("cannot write \(path): the file is read-only (not replaced)")
        }
    }
    let tmp = path + ".tmp.\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
    var ok = true
    var err: Int32 = 0
    data.withUnsafeBytes { raw in
        var off = 0
        while off < raw.count {
            let w = write(fd, raw.baseAddress! + off, raw.count - off)
            if w <= 0 { ok = false; err = errno; break }
            off += w
        }
    }
    if ok && fsync(fd) != 0 { ok = false; err = errno }
    if close(fd) != 0 && ok { ok = false; err = errno }
    guard ok else {
        unlink(tmp)
        throw CLIError("cannot write \(path): \(String(cString: strerror(err)))")
    }
    if rename(tmp, path) != 0 {
        let e = String(cString: strerror(errno))
        unlink(tmp)
        throw CLIError("cannot write \(path): \(e)")
    }
}
