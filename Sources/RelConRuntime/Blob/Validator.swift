// Checks every rule of docs/blob-format.md, in the order given in its "Validation order" section, so that
// each defect class maps to its own error. Nothing is trusted before it is checked; all arithmetic on
// blob fields is done in UInt64 (u32 + u32 cannot overflow) or with overflow reporting.

extension Model {
    /// Validates the blob at `base` (`byteCount` bytes available) completely: header, checksum over
    /// every byte, tables, tensors, metadata, sensor contract and graph.
    static func validate(_ base: UnsafeRawPointer, byteCount: UInt) throws(RelConError) -> Model {
        // 1. Pointer alignment and size of the header.
        guard UInt(bitPattern: base) % BlobFormat.blobAlignment == 0 else { throw .blobAlignment }
        let available = UInt64(byteCount)
        guard available >= BlobFormat.headerBytes else { throw .blobTooSmall }
        let head = BlobBytes(base: base, count: BlobFormat.headerBytes)
        typealias H = BlobFormat.Header

        // 2. Identity: magic, version, header size (128 for version 1, 192 for versions 2 and 3).
        guard try head.u32(H.magic) == BlobFormat.magic else { throw .blobMagic }
        let version = try head.u32(H.formatVersion)
        guard version >= BlobFormat.version, version <= BlobFormat.version3 else { throw .blobVersion }
        let headerBytes = version == BlobFormat.version ? BlobFormat.headerBytes : BlobFormat.headerBytesV2
        guard try UInt64(head.u32(H.headerBytes)) == headerBytes else { throw .blobVersion }

        // 3. Size, then the checksum over all total_bytes bytes (bytes 12-15 read as zero).
        let total = UInt64(try head.u32(H.totalBytes))
        guard total <= available else { throw .blobTooSmall }
        guard total >= headerBytes else { throw .blobBounds }
        let stored = try head.u32(H.crc32)
        guard CRC32.checksum(base, count: Int(truncatingIfNeeded: total), zeroedOffset: Int(H.crc32)) == stored
        else { throw .blobChecksum }
        let blob = BlobBytes(base: base, count: total)

        // 4. Reserved header fields (room for later versions); versions 2 and 3: precision, quantisation table.
        guard try blob.u32(H.flags) == 0, try blob.u32(H.reserved52) == 0 else { throw .blobVersion }
        var r = H.reserved108
        while r < H.reserved108 &+ H.reserved108Bytes {
            guard try blob.u32(r) == 0 else { throw .blobVersion }
            r &+= 4
        }
        var precision = BlobFormat.dtypeF32
        var quantTable: UInt64 = 0
        if version >= BlobFormat.version2 {
            var q = H.reservedV2
            while q < H.reservedV2 &+ H.reservedV2Bytes {
                guard try blob.u32(q) == 0 else { throw .blobVersion }
                q &+= 4
            }
            precision = try blob.u32(H.precision)
            quantTable = UInt64(try blob.u32(H.quantTable))
            guard precision >= BlobFormat.dtypeF32, precision <= BlobFormat.dtypeI8 else { throw .blobVersion }
            guard precision == BlobFormat.dtypeI8 || quantTable == 0 else { throw .blobVersion }
        }
        let isInt8 = precision == BlobFormat.dtypeI8
        #if RELCON_INT8_ONLY
        // An int8-only library (-D RELCON_INT8_ONLY, docs/embedded.md) has no f32/f16 convolution kernels: it
        // does not read f32 or f16 blobs.
        guard isInt8 else { throw .blobVersion }
        #endif

        // 5. Counts, then where the tables and the metadata are.
        let nTensors = try blob.u32(H.nTensors)
        guard nTensors >= 1, nTensors <= BlobFormat.maxTensors else { throw .blobTensor }
        let nLayers = try blob.u32(H.nLayers)
        guard nLayers >= 1, nLayers <= BlobFormat.maxLayers else { throw .blobGraph }
        let tensorTable = UInt64(try blob.u32(H.tensorTable))
        let layerTable = UInt64(try blob.u32(H.layerTable))
        let metaOffset = UInt64(try blob.u32(H.metaOffset))
        let metaBytes = UInt64(try blob.u32(H.metaBytes))
        guard tensorTable % BlobFormat.tableAlignment == 0, layerTable % BlobFormat.tableAlignment == 0,
              quantTable % BlobFormat.tableAlignment == 0
        else { throw .blobAlignment }
        let tensorTableBytes = UInt64(nTensors) &* BlobFormat.tensorRecordBytes
        let layerTableBytes = UInt64(nLayers) &* BlobFormat.layerRecordBytes
        let quantTableBytes = isInt8 ? UInt64(nLayers) &* BlobFormat.quantRecordBytes : 0
        try checkRegion(blob, tensorTable, tensorTableBytes, headerBytes)
        try checkRegion(blob, layerTable, layerTableBytes, headerBytes)
        try checkRegion(blob, metaOffset, metaBytes, headerBytes)
        if isInt8 { try checkRegion(blob, quantTable, quantTableBytes, headerBytes) }
        guard !overlaps(tensorTable, tensorTableBytes, layerTable, layerTableBytes),
              !overlaps(tensorTable, tensorTableBytes, metaOffset, metaBytes),
              !overlaps(layerTable, layerTableBytes, metaOffset, metaBytes),
              !overlaps(quantTable, quantTableBytes, tensorTable, tensorTableBytes),
              !overlaps(quantTable, quantTableBytes, layerTable, layerTableBytes),
              !overlaps(quantTable, quantTableBytes, metaOffset, metaBytes)
        else { throw .blobBounds }
        let regionsEnd = max(max(max(tensorTable &+ tensorTableBytes, layerTable &+ layerTableBytes),
                                 metaOffset &+ metaBytes), quantTable &+ quantTableBytes)

        // 6. Tensors, in table order.
        let nParameters = try validateTensors(blob, table: tensorTable, count: nTensors, regionsEnd: regionsEnd,
                                              precision: version == BlobFormat.version ? 0 : precision)

        // 7. Metadata strings.
        try Metadata.validate(blob, offset: metaOffset, length: metaBytes)

        // 8. Sensor contract (window_samples >= min_samples is checked after the graph).
        let contract = SensorContract(
            sampleRateHz: try blob.f32(H.sampleRate),
            windowSamples: try blob.u32(H.windowSamples),
            inputChannels: try blob.u32(H.inputChannels),
            units: try blob.u32(H.units),
            axisOrder: (try blob.byte(H.axisOrder), try blob.byte(H.axisOrder &+ 1),
                        try blob.byte(H.axisOrder &+ 2), try blob.byte(H.axisOrder &+ 3)),
            scale: (try blob.f32(H.inputScale), try blob.f32(H.inputScale &+ 4), try blob.f32(H.inputScale &+ 8)),
            offset: (try blob.f32(H.inputOffset), try blob.f32(H.inputOffset &+ 4), try blob.f32(H.inputOffset &+ 8)),
            clip: try blob.f32(H.inputClip))
        try validateContract(contract)

        // 9. Graph: operators, wiring, tensor shapes, lengths; min_samples by shape inference.
        var model = Model(
            bytes: blob, version: version, headerBytes: headerBytes, precision: precision, quantTable: quantTable,
            nTensors: nTensors, tensorTable: tensorTable, nLayers: nLayers, layerTable: layerTable,
            outputValue: try blob.u32(H.outputValue), metaOffset: metaOffset, metaBytes: metaBytes,
            contract: contract, embeddingDim: try blob.u32(H.embeddingDim), minSamples: 0,
            nParameters: nParameters)
        model.minSamples = try GraphValidator.validate(model)

        // 10. The contract's window must be one the architecture accepts.
        guard contract.windowSamples >= model.minSamples else { throw .blobContract }

        // 11. Heads and the self-test vector (Heads.swift).
        try Heads.validate(model)
        return model
    }

    /// A table or the metadata region: inside the blob, after the header.
    private static func checkRegion(_ blob: BlobBytes, _ offset: UInt64, _ length: UInt64, _ headerBytes: UInt64)
        throws(RelConError)
    {
        guard offset >= headerBytes, blob.contains(offset: offset, length: length) else { throw .blobBounds }
    }

    /// Half-open ranges overlap (an empty range overlaps nothing).
    private static func overlaps(_ a: UInt64, _ aLen: UInt64, _ b: UInt64, _ bLen: UInt64) -> Bool {
        aLen > 0 && bLen > 0 && a < b &+ bLen && b < a &+ aLen
    }

    /// Tensor records and data: type, rank, dims, size, alignment, bounds, order, zero padding between
    /// tensors, finite values (f32, f16), no −128 (i8). Returns the number of elements of all tensors.
    /// `precision` 0 is a version-1 blob (f32 only); version 2 allows f32 + f16 (f16 blobs) or f32 + i8 + i32 (int8).
    private static func validateTensors(_ blob: BlobBytes, table: UInt64, count: UInt32, regionsEnd: UInt64,
                                        precision: UInt32) throws(RelConError) -> UInt64
    {
        var previousEnd = regionsEnd   // padding before the first tensor is checked too
        var elementsTotal: UInt64 = 0
        var i: UInt32 = 0
        while i < count {
            let t = try blob.tensorRecord(table: table, index: i)
            let allowed: Bool
            switch t.dtype {
            case BlobFormat.dtypeF32: allowed = true
            case BlobFormat.dtypeF16: allowed = precision == BlobFormat.dtypeF16
            case BlobFormat.dtypeI8, BlobFormat.dtypeI32: allowed = precision == BlobFormat.dtypeI8
            default: allowed = false
            }
            guard allowed, t.rank >= 1, t.rank <= 3, t.reserved == 0 else { throw .blobTensor }
            let size: UInt64 = t.dtype == BlobFormat.dtypeF16 ? 2 : t.dtype == BlobFormat.dtypeI8 ? 1 : 4
            let dims = (t.d0, t.d1, t.d2)
            guard dims.0 >= 1,
                  t.rank >= 2 ? dims.1 >= 1 : dims.1 == 0,
                  t.rank >= 3 ? dims.2 >= 1 : dims.2 == 0
            else { throw .blobTensor }
            // product(dims) * 4 in UInt64: at most (2^32)^3 * 4 overflows, so report it.
            var elements = UInt64(dims.0)
            var overflow = false
            if t.rank >= 2 { (elements, overflow) = elements.multipliedReportingOverflow(by: UInt64(dims.1)) }
            if !overflow, t.rank >= 3 { (elements, overflow) = elements.multipliedReportingOverflow(by: UInt64(dims.2)) }
            let (bytes, overflow2) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, !overflow2, bytes == UInt64(t.dataBytes) else { throw .blobTensor }

            let offset = UInt64(t.dataOffset)
            guard offset % BlobFormat.tensorAlignment == 0 else { throw .blobAlignment }
            guard offset >= previousEnd, blob.contains(offset: offset, length: bytes) else { throw .blobBounds }
            var p = previousEnd
            while p < offset {
                guard try blob.byte(p) == 0 else { throw .blobTensor }
                p &+= 1
            }
            // Every float value finite (a NaN or infinite weight can only make NaN embeddings); no i8 −128
            // (i8 tensors are symmetric, so a kernel may negate any value).
            let data = blob.base.advanced(by: Int(truncatingIfNeeded: offset))
            var k = 0
            let n = Int(truncatingIfNeeded: elements)
            switch t.dtype {
            case BlobFormat.dtypeF32:
                while k < n {
                    let bits = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: k &* 4, as: UInt32.self))
                    guard bits & 0x7F80_0000 != 0x7F80_0000 else { throw .blobTensor }
                    k &+= 1
                }
            case BlobFormat.dtypeF16:
                while k < n {
                    let bits = UInt16(littleEndian: data.loadUnaligned(fromByteOffset: k &* 2, as: UInt16.self))
                    guard bits & 0x7C00 != 0x7C00 else { throw .blobTensor }
                    k &+= 1
                }
            case BlobFormat.dtypeI8:
                while k < n {
                    guard data.load(fromByteOffset: k, as: UInt8.self) != 0x80 else { throw .blobTensor }
                    k &+= 1
                }
            default:
                break
            }
            previousEnd = offset &+ bytes
            elementsTotal &+= elements   // at most 65536 tensors of < 2^30 elements: no overflow
            i &+= 1
        }
        return elementsTotal
    }

    /// The sensor contract's rules.
    private static func validateContract(_ c: SensorContract) throws(RelConError) {
        guard c.sampleRateHz.isFinite, c.sampleRateHz > 0,
              c.windowSamples >= 1,
              c.inputChannels == BlobFormat.inputChannels,
              c.units == BlobFormat.unitsG,
              c.scale.0.isFinite, c.scale.1.isFinite, c.scale.2.isFinite,
              c.scale.0 != 0, c.scale.1 != 0, c.scale.2 != 0,
              c.offset.0.isFinite, c.offset.1.isFinite, c.offset.2.isFinite,
              c.clip.isFinite, c.clip >= 0
        else { throw .blobContract }
        // axis_order: a permutation of "xyz", then NUL.
        let (a, b, d, nul) = c.axisOrder
        let x = UInt8(ascii: "x"), y = UInt8(ascii: "y"), z = UInt8(ascii: "z")
        guard nul == 0, a != b, a != d, b != d,
              a == x || a == y || a == z, b == x || b == y || b == z, d == x || d == y || d == z
        else { throw .blobContract }
    }
}
