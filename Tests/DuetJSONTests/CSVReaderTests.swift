import DuetJSON
import Testing

/// The one CSV reader (snapshots, OBD item files, replayed logs): RFC 4180 quoting, CRLF, empty
/// lines, and errors that name the source and line.
@Suite struct CSVReaderTests {
    func records(_ text: String) throws -> [[String]] {
        var out: [[String]] = []
        try CSVReader(bytes: Array(text.utf8), source: "t.csv").forEachRecord { n, fields in
            #expect(n == out.count)
            out.append(fields.map { String(decoding: $0, as: UTF8.self) })
        }
        return out
    }

    @Test func plainQuotedAndEmptyFields() throws {
        #expect(try records("id,a,b\n1,x,\n\n2,\"q,\"\"uote\"\"\",z\r\n3,,\"\"") == [
            ["id", "a", "b"], ["1", "x", ""], ["2", "q,\"uote\"", "z"], ["3", "", ""],
        ])
        #expect(try records("a\nb") == [["a"], ["b"]])
    }

    @Test func malformedQuotesNameTheLine() {
        #expect(throws: CSVError.self) { try records("id\n\"open") }
        do {
            _ = try records("id,a\n1,\"x\"y\n")
            Issue.record("no error")
        } catch let e as CSVError {
            #expect(e.line == 2 && e.description.hasPrefix("t.csv: line 2:"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func escapeQuotesOnlyWhatNeedsIt() throws {
        for value in ["plain", "a,b", "say \"hi\"", "two\nlines", ""] {
            let line = CSVReader.escape(value)
            #expect(try records(line + ",end") == [[value, "end"]])
        }
    }
}
