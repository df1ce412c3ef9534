import DuetRouting
import DuetStore
import Foundation
import Hummingbird
import NIOCore

/// Admin routes for experiments (apply, revert, history, report) and the audit log.
extension DuetRuntime {
    struct ArmState: Encodable {
        var name: String
        var weight: Double
        var model: String
        var assigned: Int
    }

    struct ExperimentState: Encodable {
        var key: String
        var revision: Int
        var status: String
        var srm_p_value: Double
        var yaml: String
        var arms: [ArmState]
    }

    func experimentState(_ config: ExperimentConfig, _ snapshot: ExperimentControl.Snapshot) -> ExperimentState {
        let arms = snapshot.stats[config.key]?.arms ?? []
        let assigned = config.arms.indices.map { $0 < arms.count ? arms[$0].assigned : 0 }
        return ExperimentState(
            key: config.key, revision: snapshot.revisions[config.key]?.revision ?? 0, status: config.status.rawValue,
            srm_p_value: snapshot.srmPValue(config),
            yaml: snapshot.revisions[config.key]?.config ?? "",
            arms: zip(config.arms, assigned).map { ArmState(name: $0.name, weight: $0.weight, model: $0.model.description, assigned: $1) })
    }

    struct Applied: Encodable {
        struct Item: Encodable { var key: String; var revision: Int }
        var applied: [Item]
        init(_ revisions: [ExperimentRevision]) { applied = revisions.map { Item(key: $0.key, revision: $0.revision) } }
    }

    /// Reads the request body up to the configured limit (413 beyond it).
    func body(_ request: Request) async throws -> Data {
        Data(buffer: try await bodyBuffer(request))
    }

    /// The whole body, refused past `maxBodyBytes`.
    func bodyBuffer(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "request body is larger than \(configuration.maxBodyBytes) bytes")
        }
    }

    func addExperimentRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/admin/experiments") { [self] request, _ in
            try await metrics.timed("/v1/admin/experiments") { _ in
                _ = try auth.authenticate(request)
                let s = experiments.snapshot
                return try JSONResponse.make(["experiments": s.table.experiments.map { experimentState($0, s) }])
            }
        }
        router.put("/v1/admin/experiments") { [self] request, _ in
            try await metrics.timed("/v1/admin/experiments") { _ in
                let actor = try auth.authenticate(request)
                struct Batch: Decodable {
                    struct File: Decodable { var file: String; var yaml: String }
                    var configs: [File]
                }
                let batch = try RequestDecoding.decode(Batch.self, from: try await body(request))
                guard !batch.configs.isEmpty else { throw APIError.badField("configs", "configs must not be empty") }
                let saved = try await experiments.apply(batch.configs.map { ($0.file, $0.yaml) }, actor: actor)
                return try JSONResponse.make(Applied(saved))
            }
        }
        router.get("/v1/admin/experiments/{key}") { [self] request, context in
            try await metrics.timed("/v1/admin/experiments/{key}") { _ in
                _ = try auth.authenticate(request)
                let key = try context.parameters.require("key")
                let s = experiments.snapshot
                guard let config = s.table.experiment(key) else {
                    throw APIError(.notFound, code: "unknown_experiment", message: "no experiment '\(key)'")
                }
                return try JSONResponse.make(experimentState(config, s))
            }
        }
        router.put("/v1/admin/experiments/{key}") { [self] request, context in
            try await metrics.timed("/v1/admin/experiments/{key}") { _ in
                let actor = try auth.authenticate(request)
                let key = try context.parameters.require("key")
                let text = String(decoding: try await body(request), as: UTF8.self)
                let parsed: ExperimentConfig
                do {
                    parsed = try ExperimentLoader.parse(yaml: text, file: key)
                } catch let error as ExperimentValidationError {
                    throw APIError(.unprocessableContent, code: "invalid_config", message: "\(error.problems.count) problem(s); nothing was applied",
                                   details: error.problems.map(\.description))
                }
                guard parsed.key == key else {
                    throw APIError.badField("key", "config key '\(parsed.key)' does not match the URL's '\(key)'")
                }
                let saved = try await experiments.apply([(key, text)], actor: actor)
                return try JSONResponse.make(Applied(saved))
            }
        }
        router.get("/v1/admin/experiments/{key}/history") { [self] request, context in
            try await metrics.timed("/v1/admin/experiments/{key}/history") { _ in
                _ = try auth.authenticate(request)
                let key = try context.parameters.require("key")
                let revisions = try await database.revisions(key: key)
                guard !revisions.isEmpty else { throw APIError(.notFound, code: "unknown_experiment", message: "no experiment '\(key)'") }
                struct Rev: Encodable { var revision: Int; var author: String; var created_at: Double; var yaml: String; var reverted_from: Int? }
                return try JSONResponse.make(["revisions": revisions.map {
                    Rev(revision: $0.revision, author: $0.author, created_at: $0.createdAt, yaml: $0.config, reverted_from: $0.revertedFrom)
                }])
            }
        }
        router.post("/v1/admin/experiments/{key}/revert") { [self] request, context in
            try await metrics.timed("/v1/admin/experiments/{key}/revert") { _ in
                let actor = try auth.authenticate(request)
                let key = try context.parameters.require("key")
                struct Body: Decodable { var to: Int? }
                let data = try await body(request)
                let to = data.isEmpty ? nil : try RequestDecoding.decode(Body.self, from: data).to
                let saved = try await experiments.revert(key: key, to: to, actor: actor)
                return try JSONResponse.make(Applied([saved]))
            }
        }
        router.get("/v1/admin/experiments/{key}/report") { [self] request, context in
            try await metrics.timed("/v1/admin/experiments/{key}/report") { _ in
                _ = try auth.authenticate(request)
                let key = try context.parameters.require("key")
                return try JSONResponse.make(try report(key))
            }
        }
        router.get("/v1/admin/audit") { [self] request, _ in
            try await metrics.timed("/v1/admin/audit") { _ in
                _ = try auth.authenticate(request)
                var since: Double?
                if let s = request.uri.queryParameters["since"] {
                    guard let v = Double(String(s)), v.isFinite else { throw APIError.badField("since", "since must be seconds since 1970") }
                    since = v
                }
                var limit = 200
                if let l = request.uri.queryParameters["limit"] {
                    guard let v = Int(String(l)), v > 0, v <= 10_000 else { throw APIError.badField("limit", "limit must be 1…10000") }
                    limit = v
                }
                return try JSONResponse.make(["entries": try await database.auditEntries(since: since, limit: limit)])
            }
        }
    }

    struct Report: Encodable {
        struct ArmRow: Encodable {
            var arm: String
            var model: String
            var requests: Int
            var feedback: Int
            var clicks: Int
            var ctr: Double
            var ctr_low: Double
            var ctr_high: Double
            var logloss: Double?
            var versions: Int?
        }
        struct Difference: Encodable {
            var arm: String
            var baseline: String
            var difference: Double
            var low: Double
            var high: Double
        }
        var experiment: String
        var revision: Int
        var srm_p_value: Double
        var arms: [ArmRow]
        var differences: [Difference]
    }

    func report(_ key: String) throws -> Report {
        let s = experiments.snapshot
        guard let config = s.table.experiment(key), let stats = s.stats[key] else {
            throw APIError(.notFound, code: "unknown_experiment", message: "no experiment '\(key)'")
        }
        let arms = stats.arms
        let rows = zip(config.arms, arms).map { arm, a -> Report.ArmRow in
            let ci = ExperimentStatistics.wilsonInterval(successes: a.clicks, trials: a.feedback)
            return Report.ArmRow(
                arm: arm.name, model: arm.model.description, requests: a.requests, feedback: a.feedback, clicks: a.clicks,
                ctr: a.feedback > 0 ? Double(a.clicks) / Double(a.feedback) : 0, ctr_low: ci.low, ctr_high: ci.high,
                logloss: a.logloss, versions: versionCount(slot: arm.model.slot))
        }
        var differences: [Report.Difference] = []
        if let base = arms.first {
            for (arm, a) in zip(config.arms, arms).dropFirst() {
                let d = ExperimentStatistics.rateDifference(successesA: base.clicks, trialsA: base.feedback, successesB: a.clicks, trialsB: a.feedback)
                differences.append(Report.Difference(arm: arm.name, baseline: config.arms[0].name, difference: d.difference, low: d.low, high: d.high))
            }
        }
        return Report(
            experiment: key, revision: stats.revision,
            srm_p_value: s.srmPValue(config),
            arms: rows, differences: differences)
    }
}
