// The values alive at the current step of a walk over the layers, in a small fixed table on the stack.
//
// Shape inference and the arena planner both walk the layers in order and only ever need the values that
// are still alive (a layer reads only live values). Keeping just those makes validation and planning
// allocation-free and bounded in memory: at most `capacity` values may be alive at once (a runtime limit,
// reported as RELCON_E_BLOB_GRAPH; the RelCon ResNet needs 4).

/// One live value: its length form and, when planning, its place in the arena.
struct LiveEntry {
    var value: UInt32
    var death: UInt32      // last step that reads it
    var form: LengthForm
    var offset: UInt64     // arena offset of its buffer (planning only)
    var bytes: UInt64      // buffer size, a multiple of 64 (planning only)
}

struct LiveSet {
    /// At most this many values alive at one step (40 bytes each: 960 bytes of stack).
    static let capacity = 24

    private let slots: UnsafeMutablePointer<LiveEntry>
    private(set) var count = 0

    /// Runs `body` with an empty live set on the stack.
    static func with<R>(_ body: (inout LiveSet) throws(RelConError) -> R) throws(RelConError) -> R {
        let result: Result<R, RelConError> = withUnsafeTemporaryAllocation(of: LiveEntry.self, capacity: capacity) {
            buffer in
            guard let base = buffer.baseAddress else { return .failure(.blobGraph) }
            var set = LiveSet(slots: base)
            do throws(RelConError) { return .success(try body(&set)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private init(slots: UnsafeMutablePointer<LiveEntry>) { self.slots = slots }

    subscript(i: Int) -> LiveEntry { slots[i] }

    /// Drops the values whose last reader ran before `step` (keeps the others in order).
    mutating func removeDead(before step: UInt32) {
        var kept = 0
        for i in 0..<count where slots[i].death >= step {
            slots[kept] = slots[i]
            kept &+= 1
        }
        count = kept
    }

    func find(_ value: UInt32) -> LiveEntry? {
        for i in 0..<count where slots[i].value == value { return slots[i] }
        return nil
    }

    mutating func insert(_ entry: LiveEntry) throws(RelConError) {
        guard count < LiveSet.capacity else { throw .blobGraph }
        (slots + count).initialize(to: entry)
        count &+= 1
    }

    /// Greedy first fit: the lowest offset, among 0 and the ends of the live buffers, where `bytes` bytes
    /// overlap no live buffer. Every live buffer conflicts with a value born now (it is alive at this step).
    func firstFit(bytes: UInt64) -> UInt64 {
        var best = UInt64.max
        var c = -1                          // candidate -1 is offset 0
        while c < count {
            let candidate: UInt64 = c < 0 ? 0 : slots[c].offset &+ slots[c].bytes
            c &+= 1
            if candidate >= best { continue }
            var fits = true
            for j in 0..<count {
                let e = slots[j]
                if candidate < e.offset &+ e.bytes && e.offset < candidate &+ bytes { fits = false; break }
            }
            if fits { best = candidate }
        }
        return best
    }
}
