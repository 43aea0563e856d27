// The session queries of include/relcon.h ("Session queries (0.5)") for the CLI: what a session runs at
// (relcon_session_info), without validating the blob again.
import CRelCon

extension Session {
    /// relcon_session_info: the plan, the blob's contract and heads, and the kernel ISA level of this session.
    public func describe() throws -> relcon_session_desc {
        var d = relcon_session_desc()
        d.struct_bytes = UInt32(MemoryLayout<relcon_session_desc>.stride)
        try check(relcon_session_info(session, &d), "session_info")
        return d
    }

    /// The ISA level this session's kernels run at, e.g. "v4" (the RELCON_ISA value that selects it).
    public func isaName() throws -> String { String(cString: try describe().isa_name) }
}
