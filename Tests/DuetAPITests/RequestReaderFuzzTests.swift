import DuetAPI
import DuetModels
import Foundation
import Testing

/// A bounded fuzz run of the hot-path request readers (seeded, so a failure reproduces): valid bodies
/// with bytes flipped, inserted, deleted or truncated must read or be refused with a `RequestError`,
/// never trap, and what reads must hold only what the reader promises (no NaN, no wrong types).
@Suite struct RequestReaderFuzzTests {
    static let seeds: [String] = [
        #"{"experiment": "homepage", "user": "u\u00e9", "candidates": ["1", "2", "x\"y"], "k": 2, "context": {"position": "1", "age": -0.25, "new": true}}"#,
        #"{"request_id": "abc", "item": "7", "label": 0.5}"#,
        #"{"experiment":"e","user":"u","extra":{"a":[1,2.5e-3,null,true,{"b":"c"}]},"candidates":null}"#,
    ]
    static let alphabet = Array(#"{}[]":,\ 0123456789.eE+-tfnulrsa"#.utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xF0, 0x9F, 0xFF, 0x0A]

    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &rng)] = alphabet.randomElement(using: &rng)!
            case 1: b.insert(alphabet.randomElement(using: &rng)!, at: Int.random(in: 0...b.count, using: &rng))
            case 2 where !b.isEmpty: b.remove(at: Int.random(in: 0..<b.count, using: &rng))
            case 3 where !b.isEmpty: b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
            default:
                // Deep nesting and long runs.
                let run = [UInt8](repeating: alphabet.randomElement(using: &rng)!, count: Int.random(in: 1...300, using: &rng))
                b.insert(contentsOf: run, at: Int.random(in: 0...b.count, using: &rng))
            }
        }
        return b
    }

    @Test func mutatedBodiesReadOrAreRefusedNeverTrap() {
        var rng = SplitMix64(seed: 0x5EED)
        var read = 0, refused = 0
        for i in 0..<6_000 {
            let body = Self.mutate(Array(Self.seeds[i % Self.seeds.count].utf8), &rng)
            body.withUnsafeBytes { bytes in
                do {
                    let r = try RecommendRequest(json: bytes)
                    read += 1
                    for value in (r.context ?? [:]).values {
                        if case .number(let d) = value { #expect(!d.isNaN) }
                    }
                } catch is RequestError { refused += 1 } catch { Issue.record("not a RequestError: \(error)") }
                do {
                    let f = try FeedbackRequest(json: bytes)
                    #expect(!f.label.isNaN)
                } catch is RequestError {} catch { Issue.record("not a RequestError: \(error)") }
            }
        }
        // The run explored both sides.
        #expect(read > 50 && refused > 1_000, "read \(read), refused \(refused)")
    }
}
