@testable import DuetAPI
import DuetJSON
import Foundation
import Testing

/// The hot path's own JSON reader and writer against Foundation's.
@Suite struct JSONCodingTests {
    let strings = ["", "plain", "sku-42", "quote\"d", "back\\slash", "line\nbreak\ttab\r", "\u{01}\u{1f}", "café 日本", "a/b", "😀"]

    @Test func writtenStringsReadBackByFoundation() throws {
        for s in strings {
            var w = JSONWriter(capacity: 16)
            w.raw("["); w.string(s); w.raw("]")
            let back = try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String]
            #expect(back == [s], "\(s.debugDescription)")
        }
    }

    @Test func requestStringsEscapedOrNotDecodeAlike() throws {
        for s in strings {
            let encoded = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
            let body = #"{"experiment":"e","user":"u","candidates":[\#(encoded),"x",\#(encoded)],"context":{"c":\#(encoded)}}"#
            let r = try Array((body).utf8).withUnsafeBytes { try RecommendRequest(json: $0) }
            #expect(r.candidates == [s, "x", s], "\(s.debugDescription)")
            #expect(r.context?["c"] == .string(s))
        }
        // \u escapes, surrogate pairs included.
        let r = try Array((#"{"experiment":"\u0065","user":"\ud83d\ude00","candidates":["a\u00e9"]}"#).utf8).withUnsafeBytes { try RecommendRequest(json: $0) }
        #expect(r.experiment == "e" && r.user == "😀" && r.candidates == ["aé"])
    }

    /// Numbers are written as `description` writes them (the fast path for small whole numbers too).
    @Test func numbersAreTheirDescription() {
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 1.5, 10, 999_999, -999_999, 1e6, 1e15, 1e16, 123_456.0, 0.1, 1e-7, .ulpOfOne, 2.5e-324]
        values += (0..<2000).map { _ in Double(Int.random(in: -2_000_000...2_000_000)) }
        for x in values {
            var w = JSONWriter(capacity: 32)
            w.number(x)
            #expect(String(decoding: w.bytes, as: UTF8.self) == x.description, "\(x)")
        }
        var w = JSONWriter(capacity: 8)
        w.number(Double.nan)
        #expect(w.bytes == Array("null".utf8))
    }
}
