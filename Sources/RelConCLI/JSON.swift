// The CLI's one JSON writer: `inspect --json` (one pretty object) and the `--json` of embed, classify, selftest and
// bench (JSON Lines: one compact object per line, each with a "type": "window" / "check" / "run", then one
// "summary"). Keys sorted, slashes unescaped; floats are written so that they read back to the same f32 (an f32
// widened to Double prints its shortest round-trip form).
import Foundation
import RelConSwift

enum JSONOut {
    static func text(_ object: Any, pretty: Bool = false) throws -> String {
        var opts: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { opts.insert(.prettyPrinted) }
        guard JSONSerialization.isValidJSONObject(object) else { throw CLIError("internal error: not a JSON object") }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: opts), as: UTF8.self)
    }

    /// One object on one line of stdout (JSON Lines).
    static func line(_ object: [String: Any]) throws {
        print(try text(object))
    }

    /// Floats as JSON numbers; a non-finite value (JSON has none) as null.
    static func floats(_ v: [Float]) -> [Any] { v.map { $0.isFinite ? Double($0) as Any : NSNull() } }
    static func number(_ v: Double) -> Any { v.isFinite ? v as Any : NSNull() }
}
