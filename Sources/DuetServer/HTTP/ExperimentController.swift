import DuetAPI
import DuetRouting
import DuetStore
import Foundation
import Hummingbird

/// The admin routes for experiments (list, apply, history, revert, report) and the audit log.
struct ExperimentController: Sendable {
    let experiments: ExperimentControl
    let reporter: ExperimentReporter
    let database: DuetDatabase
    let body: BodyLimit

    func addRoutes(to admin: RouterGroup<DuetRequestContext>) {
        admin.get("experiments") { _, _ in
            try JSONResponse.make(ExperimentList(experiments: await reporter.states()))
        }
        admin.put("experiments") { request, context in
            let batch = try RequestDecoding.decode(ExperimentBatch.self, from: try await body.data(request, context: context))
            guard !batch.configs.isEmpty else { throw RequestError.invalidField("configs", "configs must not be empty") }
            let saved = try await experiments.apply(batch.configs.map { ($0.file, $0.yaml) }, actor: context.actor ?? "")
            return try JSONResponse.make(Self.applied(saved))
        }
        admin.get("experiments/{key}") { _, context in
            try JSONResponse.make(try await reporter.state(try context.parameters.require("key")))
        }
        admin.put("experiments/{key}") { request, context in
            let key = try context.parameters.require("key")
            let text = String(decoding: try await body.data(request, context: context), as: UTF8.self)
            let parsed: ExperimentConfig
            do {
                parsed = try ExperimentLoader.parse(yaml: text, file: key)
            } catch let error as ExperimentValidationError {
                throw ExperimentError.invalidConfig(error.problems)
            }
            guard parsed.key == key else {
                // A problem of the config's content, like every other the validator finds: a 422.
                throw ExperimentError.invalidConfig([ValidationProblem(file: key, field: "key", message: "'\(parsed.key)' is not the URL's '\(key)'")])
            }
            let saved = try await experiments.apply([(key, text)], actor: context.actor ?? "")
            return try JSONResponse.make(Self.applied(saved))
        }
        admin.get("experiments/{key}/history") { _, context in
            let key = try context.parameters.require("key")
            let revisions = try await database.revisions(key: key)
            guard !revisions.isEmpty else { throw ExperimentError.unknownExperiment(key) }
            return try JSONResponse.make(RevisionList(revisions: revisions.map {
                RevisionInfo(revision: $0.revision, author: $0.author, createdAt: $0.createdAt, yaml: $0.config, revertedFrom: $0.revertedFrom)
            }))
        }
        admin.post("experiments/{key}/revert") { request, context in
            let key = try context.parameters.require("key")
            let data = try await body.data(request, context: context)
            let to = data.isEmpty ? nil : try RequestDecoding.decode(RevertRequest.self, from: data).to
            let saved = try await experiments.revert(key: key, to: to, actor: context.actor ?? "")
            return try JSONResponse.make(Self.applied([saved]))
        }
        admin.get("experiments/{key}/report") { _, context in
            try JSONResponse.make(try await reporter.report(try context.parameters.require("key")))
        }
        admin.get("audit") { request, _ in
            var since: Double?
            if let s = request.uri.queryParameters["since"] {
                guard let v = Double(String(s)), v.isFinite else { throw RequestError.invalidField("since", "since must be seconds since 1970") }
                since = v
            }
            var limit = 200
            if let l = request.uri.queryParameters["limit"] {
                guard let v = Int(String(l)), v > 0, v <= 10_000 else { throw RequestError.invalidField("limit", "limit must be 1…10000") }
                limit = v
            }
            let entries = try await database.auditEntries(since: since, limit: limit)
            return try JSONResponse.make(AuditList(entries: entries.map(AuditRecord.init)))
        }
    }

    static func applied(_ revisions: [ExperimentRevision]) -> AppliedRevisions {
        AppliedRevisions(applied: revisions.map { .init(key: $0.key, revision: $0.revision) })
    }
}
