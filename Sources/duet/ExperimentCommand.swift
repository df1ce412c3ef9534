import ArgumentParser
import DuetIngest
import DuetRouting
import Foundation

/// `duet experiment …`: offline tools on config files, and the verbs that change a running server.
struct ExperimentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Validate, inspect and apply experiment configs.",
        subcommands: [
            Validate.self, Assign.self, Show.self,
            ExperimentRemote.Apply.self, ExperimentRemote.List.self, ExperimentRemote.History.self,
            ExperimentRemote.Diff.self, ExperimentRemote.Revert.self, ExperimentRemote.Report.self,
        ]
    )

    /// Loads and validates files; on problems prints `FILE: field: problem` lines to stderr and exits 1.
    static func loadOrExit(_ files: [String]) throws -> [ExperimentConfig] {
        do {
            return try ExperimentLoader.load(files: files)
        } catch let error as ExperimentValidationError {
            FileHandle.standardError.write(Data((error.problems.map(\.description).joined(separator: "\n") + "\n").utf8))
            throw ExitCode(1)
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check configs; print `ok KEY` per file, or every problem.")
        @Argument(help: "Experiment YAML files (checked together: namespaces must not overlap).") var files: [String]

        func run() throws {
            let configs = try ExperimentCommand.loadOrExit(files)
            for c in configs { print("ok \(c.key)") }
        }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print `ID<TAB>ARM` per user (`-` when not in the experiment); users from --user or stdin, one per line.")
        @Argument(help: "Experiment YAML file.") var file: String
        @Option(name: .customLong("user"), help: "A user id (repeatable). Without any, ids are read from stdin.") var users: [String] = []

        func run() throws {
            let configs = try ExperimentCommand.loadOrExit([file])
            let table = RouteTable(experiments: configs)
            let key = configs[0].key
            var out = OutputBuffer()
            if !users.isEmpty {
                for u in users { out.line(u, Self.armText(table, key, u)) }
            } else {
                let stdin = LineReader(fileDescriptor: 0, name: "stdin")
                while let line = try stdin.next() {
                    let u = String(decoding: line, as: UTF8.self)
                    out.line(u, Self.armText(table, key, u))
                }
            }
            out.flush()
        }

        static func armText(_ table: RouteTable, _ key: String, _ user: String) -> String {
            guard let a = table.assign(experiment: key, user: user), a.inExperiment else { return "-" }
            return a.arm
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a config: arms, models, bucket ranges.")
        @Argument var file: String

        func run() throws {
            let c = try ExperimentCommand.loadOrExit([file])[0]
            print("experiment \(c.key)  (status \(c.status.rawValue), seed \"\(c.seed)\", hash v\(c.hashVersion), coverage \(c.coverage))")
            if let ns = c.namespace { print("namespace \(ns.name) [\(ns.start), \(ns.end))  — \(Int(((ns.end - ns.start) * 100).rounded()))% of users are eligible") }
            print("arms\(c.weightsGiven ? "" : " (equal split)"):")
            for (arm, r) in zip(c.arms, c.bucketRanges) {
                let def = arm.name == c.defaultArm ? "  (default arm)" : ""
                let name = arm.name.padding(toLength: max(12, arm.name.count), withPad: " ", startingAt: 0)
                let model = arm.model.description.padding(toLength: max(22, arm.model.description.count), withPad: " ", startingAt: 0)
                print("  \(name) \(model) " + String(format: "weight %.4f  buckets [%.4f, %.4f)", arm.weight, r.start, r.end) + def)
            }
            let outside = 1 - c.bucketRanges.reduce(0) { $0 + ($1.end - $1.start) }
            if outside > 1e-9 { print(String(format: "  %.1f%% of eligible users fall outside coverage and get the default arm", outside * 100)) }
            if !c.force.isEmpty {
                print("forced:")
                for (u, a) in c.force.sorted(by: { $0.key < $1.key }) { print("  \(u) → \(a)") }
            }
            if let g = c.guardrails {
                print("guardrails: max_logloss_ratio \(g.maxLoglossRatio.map { "\($0)" } ?? "-"), min_examples \(g.minExamples.map(String.init) ?? "-"), window \(g.window.map(String.init) ?? "-")")
            }
        }
    }
}

/// Buffered stdout for the streaming commands: one write per 64 KiB, not per line.
struct OutputBuffer {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 16) }

    mutating func line(_ a: String, _ b: String) {
        bytes.append(contentsOf: a.utf8)
        bytes.append(9)
        bytes.append(contentsOf: b.utf8)
        bytes.append(10)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        bytes.withUnsafeBufferPointer { p in
            var offset = 0
            while offset < p.count {
                let n = write(1, p.baseAddress! + offset, p.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
