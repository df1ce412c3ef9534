import DuetTestSupport
import Foundation
import Testing

/// `duet experiment validate|assign|show`, run as a real process.
@Suite struct ExperimentCLITests {
    @Test func validateSaysOkPerFile() throws {
        let r = try TestSupport.run(["experiment", "validate", "experiments/homepage.yaml", "experiments/search-ranking-a.yaml", "experiments/search-ranking-b.yaml"])
        #expect(r.status == 0)
        #expect(r.stdoutLines == ["ok homepage", "ok search-ranking-a", "ok search-ranking-b"])
    }

    @Test func validateListsEveryProblemOnStderrAndNothingOnStdout() throws {
        let dir = try TestSupport.temporaryDirectory()
        let bad = dir.appendingPathComponent("bad.yaml")
        try "key: k\ncoverage: 3\narms: [{name: a, weight: 0.5, model: static}, {name: a, weight: 0.5, model: nope}]\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try TestSupport.run(["experiment", "validate", "experiments/homepage.yaml", bad.path])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderrLines.contains("\(bad.path): coverage: must be within [0, 1], got 3.0"))
        #expect(r.stderrLines.contains { $0.hasPrefix("\(bad.path): arms[1].name: duplicate") })
        #expect(r.stderrLines.contains { $0.hasPrefix("\(bad.path): arms[1].model:") })
    }

    @Test func assignFromFlagsAndFromStdinAgree() throws {
        let flags = try TestSupport.run(["experiment", "assign", "experiments/homepage.yaml", "--user", "u1", "--user", "qa-online", "--user", "u3"])
        #expect(flags.status == 0)
        #expect(flags.stdoutLines.count == 3 && flags.stdoutLines[1] == "qa-online\tonline")
        let stdin = try TestSupport.run(["experiment", "assign", "experiments/homepage.yaml"], stdin: Data("u1\nqa-online\r\nu3".utf8))
        #expect(stdin.stdout == flags.stdout)
    }

    @Test func assignStreamsManyUsersInOrder() throws {
        let ids = (0..<100_000).map { "user-\($0)" }
        let r = try TestSupport.run(["experiment", "assign", "experiments/search-ranking-a.yaml"], stdin: Data(ids.joined(separator: "\n").utf8))
        #expect(r.status == 0)
        let lines = r.stdoutLines
        #expect(lines.count == 100_000)
        #expect(lines.first?.hasPrefix("user-0\t") == true && lines.last?.hasPrefix("user-99999\t") == true)
        // Half the users are outside the namespace: `-`.
        let outside = lines.filter { $0.hasSuffix("\t-") }.count
        #expect(outside > 45_000 && outside < 55_000)
    }

    @Test func showPrintsBucketRanges() throws {
        let r = try TestSupport.run(["experiment", "show", "experiments/homepage.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("buckets [0.0000, 0.6000)"))
        #expect(r.stdout.contains("buckets [0.6000, 1.0000)"))
    }

    @Test func aMissingFileIsAnErrorNamingIt() throws {
        let r = try TestSupport.run(["experiment", "validate", "experiments/nope.yaml"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("experiments/nope.yaml: (file): cannot read"))
    }
}
