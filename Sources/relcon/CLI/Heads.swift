// Heads (classifiers / regressors stored in the blob) and the blob's own self-test vector.
//
// The heads C API (relcon_head_count, relcon_head_info, relcon_classify, relcon_regress, ..., relcon_selftest)
// is not in include/relcon.h yet; until it lands, these report that the runtime has no heads.
import CRelCon
import Foundation
import RelConCLIKit

struct HeadsDescription {
    var text: String
    var json: Any
}

func headsDescription(_ b: Blob) -> HeadsDescription {
    HeadsDescription(text: "none (this runtime has no heads API)", json: [Any]())
}

func classifyRecording(session: Session, prep: PreparedRecording, headName: String?) throws {
    throw CLIError("\(session.blob.path): no heads (librelcon \(libraryVersion()) has no heads API); use `relcon embed`")
}

/// Runs the blob's shipped self-test vector; returns the number of failed checks.
func blobSelftest(_ b: Blob) -> Int {
    print("skip shipped self-test vector (librelcon \(libraryVersion()) has no relcon_selftest)")
    return 0
}
