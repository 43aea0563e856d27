// The one error type of the runtime and the one switch that maps it to relcon_status.
//
// Everything inside the runtime throws `RelConError` (typed throws: no existentials, which Embedded Swift
// lacks); only CAPI/Exports.swift turns it into a C status.

import CRelCon

/// Every way a call can fail. Each case is exactly one `relcon_status` (see `status`).
enum RelConError: Error, Equatable {
    case nullArgument, invalidArgument, bufferTooSmall
    case blobTooSmall, blobMagic, blobVersion, blobChecksum, blobBounds, blobAlignment
    case blobTensor, blobGraph, blobContract, blobMetadata
    case arenaTooSmall, arenaMisaligned, sessionInvalid
    case windowTooShort, windowTooLong, inputNotFinite, outputNotFinite
    case notFound, noSuchHead, selftestFailed

    /// The C status of this error (include/relcon.h). The only place errors become numbers.
    var status: relcon_status {
        switch self {
        case .nullArgument: return .RELCON_E_NULL_ARGUMENT
        case .invalidArgument: return .RELCON_E_INVALID_ARGUMENT
        case .bufferTooSmall: return .RELCON_E_BUFFER_TOO_SMALL
        case .blobTooSmall: return .RELCON_E_BLOB_TOO_SMALL
        case .blobMagic: return .RELCON_E_BLOB_MAGIC
        case .blobVersion: return .RELCON_E_BLOB_VERSION
        case .blobChecksum: return .RELCON_E_BLOB_CHECKSUM
        case .blobBounds: return .RELCON_E_BLOB_BOUNDS
        case .blobAlignment: return .RELCON_E_BLOB_ALIGNMENT
        case .blobTensor: return .RELCON_E_BLOB_TENSOR
        case .blobGraph: return .RELCON_E_BLOB_GRAPH
        case .blobContract: return .RELCON_E_BLOB_CONTRACT
        case .blobMetadata: return .RELCON_E_BLOB_METADATA
        case .arenaTooSmall: return .RELCON_E_ARENA_TOO_SMALL
        case .arenaMisaligned: return .RELCON_E_ARENA_MISALIGNED
        case .sessionInvalid: return .RELCON_E_SESSION_INVALID
        case .windowTooShort: return .RELCON_E_WINDOW_TOO_SHORT
        case .windowTooLong: return .RELCON_E_WINDOW_TOO_LONG
        case .inputNotFinite: return .RELCON_E_INPUT_NOT_FINITE
        case .outputNotFinite: return .RELCON_E_OUTPUT_NOT_FINITE
        case .notFound: return .RELCON_E_NOT_FOUND
        case .noSuchHead: return .RELCON_E_NO_SUCH_HEAD
        case .selftestFailed: return .RELCON_E_SELFTEST_FAILED
        }
    }
}

/// The text of relcon_status_string() for a raw status value. Takes the raw 32-bit value, not the
/// imported enum: C may pass any integer, and a Swift enum holding an undeclared value is undefined.
/// Every string is a literal, so it is static and NUL-terminated.
func statusText(_ raw: UInt32) -> StaticString {
    switch raw {
    case 0: return "ok"
    case 10: return "a required pointer was NULL"
    case 11: return "an argument is out of its documented range"
    case 12: return "the output buffer is too small"
    case 20: return "blob too small (truncated or shorter than its header says)"
    case 21: return "not a relcon blob (bad magic)"
    case 22: return "unsupported blob format version"
    case 23: return "blob checksum mismatch"
    case 24: return "a blob table or tensor reaches outside the blob"
    case 25: return "blob pointer or tensor offset misaligned"
    case 26: return "malformed tensor record in the blob"
    case 27: return "malformed layer graph in the blob"
    case 28: return "malformed sensor contract in the blob"
    case 29: return "malformed metadata strings in the blob"
    case 30: return "arena too small"
    case 31: return "arena misaligned"
    case 32: return "not an initialised session (or its arena was overwritten)"
    case 40: return "window shorter than the model's minimum"
    case 41: return "window longer than the session's max_samples"
    case 42: return "input sample is NaN or infinite"
    case 43: return "a computed value is NaN or infinite (the weights overflow on this input)"
    case 50: return "metadata key not found"
    case 51: return "no such head in the blob"
    case 52: return "self-test failed: output differs from the blob's expected embedding"
    default: return "unknown status"
    }
}
