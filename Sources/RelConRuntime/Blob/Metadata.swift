// The metadata region: `key\0value\0key\0value\0...` (docs/blob-format.md, "Metadata").

enum Metadata {
    /// Checks the region: whole pairs ending exactly at its end; keys 1-63 bytes of [a-z0-9_] and unique;
    /// values valid UTF-8 (the terminating NUL is the only NUL). At most `BlobFormat.maxMetaPairs` pairs.
    static func validate(_ blob: BlobBytes, offset: UInt64, length: UInt64) throws(RelConError) {
        guard blob.contains(offset: offset, length: length) else { throw .blobBounds }
        let start = blob.base.advanced(by: Int(truncatingIfNeeded: offset)).assumingMemoryBound(to: UInt8.self)
        let n = Int(truncatingIfNeeded: length)
        var pos = 0
        var pairs = 0
        while pos < n {
            // Key.
            let keyStart = pos
            while pos < n, start[pos] != 0 {
                let c = start[pos]
                guard (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                      || c == UInt8(ascii: "_")
                else { throw .blobMetadata }
                pos &+= 1
            }
            let keyLength = pos &- keyStart
            guard pos < n, keyLength >= 1, keyLength <= BlobFormat.maxMetaKeyBytes else { throw .blobMetadata }
            pos &+= 1
            // Value: UTF-8 up to its NUL, which must exist inside the region.
            let valueStart = pos
            while pos < n, start[pos] != 0 { pos &+= 1 }
            guard pos < n, isValidUTF8(start + valueStart, count: pos &- valueStart) else { throw .blobMetadata }
            pos &+= 1
            pairs &+= 1
            guard pairs <= BlobFormat.maxMetaPairs else { throw .blobMetadata }
            // Unique: compare with every earlier key.
            var q = 0
            while q < keyStart {
                let otherStart = q
                while start[q] != 0 { q &+= 1 }
                if q &- otherStart == keyLength, equalBytes(start + otherStart, start + keyStart, keyLength) {
                    throw .blobMetadata
                }
                q &+= 1
                while start[q] != 0 { q &+= 1 }   // skip the value
                q &+= 1
            }
        }
    }

    /// The value of `key` (a C string from the caller) in a validated region, as a pointer into the blob;
    /// nil when absent. Keys longer than 63 bytes, or empty, are never present.
    static func lookup(_ blob: BlobBytes, offset: UInt64, length: UInt64, key: UnsafePointer<CChar>)
        -> UnsafePointer<CChar>?
    {
        guard blob.contains(offset: offset, length: length) else { return nil }
        // Length of the caller's key, reading at most 64 bytes of it.
        let k = UnsafeRawPointer(key).assumingMemoryBound(to: UInt8.self)
        var keyLength = 0
        while keyLength <= BlobFormat.maxMetaKeyBytes, k[keyLength] != 0 { keyLength &+= 1 }
        guard keyLength >= 1, keyLength <= BlobFormat.maxMetaKeyBytes else { return nil }

        let start = blob.base.advanced(by: Int(truncatingIfNeeded: offset)).assumingMemoryBound(to: UInt8.self)
        let n = Int(truncatingIfNeeded: length)
        var pos = 0
        while pos < n {
            let keyStart = pos
            while pos < n, start[pos] != 0 { pos &+= 1 }
            let thisLength = pos &- keyStart
            pos &+= 1
            let valueStart = pos
            while pos < n, start[pos] != 0 { pos &+= 1 }
            pos &+= 1
            if valueStart < n, thisLength == keyLength, equalBytes(start + keyStart, k, keyLength) {
                return UnsafeRawPointer(start + valueStart).assumingMemoryBound(to: CChar.self)
            }
        }
        return nil
    }

    private static func equalBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i < n {
            if a[i] != b[i] { return false }
            i &+= 1
        }
        return true
    }

    /// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    static func isValidUTF8(_ p: UnsafePointer<UInt8>, count: Int) -> Bool {
        var i = 0
        while i < count {
            let b0 = p[i]
            if b0 < 0x80 { i &+= 1; continue }
            var need = 0
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF   // allowed range of the second byte
            switch b0 {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return false
            }
            guard count &- i > need else { return false }
            let b1 = p[i &+ 1]
            guard b1 >= lo, b1 <= hi else { return false }
            var j = 2
            while j <= need {
                guard p[i &+ j] & 0xC0 == 0x80 else { return false }
                j &+= 1
            }
            i &+= need &+ 1
        }
        return true
    }
}
