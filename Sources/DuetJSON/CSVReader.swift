/// A small, fast RFC 4180 CSV reader over bytes in memory.
///
/// Fields are handed out as byte slices of the input (quoted fields with `""` are unescaped into a
/// copy). Records end at LF or CRLF; a final record without a newline counts.
public struct CSVReader {
    public let bytes: [UInt8]
    public let source: String

    public init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// Calls `body(recordNumber, fields)` for each record (record 0 is the header). Empty lines are skipped.
    public func forEachRecord(_ body: (Int, [ArraySlice<UInt8>]) throws -> Void) throws {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(64)
        var record = 0
        var i = 0
        let n = bytes.count
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(10), cr = UInt8(13)
        var line = 1
        while i < n {
            fields.removeAll(keepingCapacity: true)
            if bytes[i] == lf { i += 1; line += 1; continue }
            if bytes[i] == cr, i + 1 < n, bytes[i + 1] == lf { i += 2; line += 1; continue }
            while true {
                if i < n, bytes[i] == quote {
                    var value: [UInt8] = []
                    i += 1
                    var closed = false
                    while i < n {
                        let b = bytes[i]
                        if b == quote {
                            if i + 1 < n, bytes[i + 1] == quote { value.append(quote); i += 2; continue }
                            i += 1
                            closed = true
                            break
                        }
                        if b == lf { line += 1 }
                        value.append(b)
                        i += 1
                    }
                    guard closed else { throw CSVError(source: source, line: line, problem: "unterminated quoted field") }
                    fields.append(value[...])
                    if i < n, bytes[i] != comma, bytes[i] != lf, bytes[i] != cr {
                        throw CSVError(source: source, line: line, problem: "text after a closing quote")
                    }
                } else {
                    let start = i
                    while i < n, bytes[i] != comma, bytes[i] != lf, bytes[i] != cr { i += 1 }
                    fields.append(bytes[start..<i])
                }
                if i < n, bytes[i] == comma { i += 1; continue }
                break
            }
            if i < n, bytes[i] == cr { i += 1 }
            if i < n, bytes[i] == lf { i += 1 }
            try body(record, fields)
            record += 1
            line += 1
        }
    }

    /// Quotes a value for CSV when it needs it.
    public static func escape(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
}

import Foundation
