import DuetAPI
@testable import DuetServer
import DuetTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The handlers through the real router, middleware and services (`app.test(.router)`), on the
/// embedded feature store and a SQLite file in a temporary directory. The process-level suites in
/// DuetEndToEndTests run the same routes over real HTTP.
@Suite struct AppTests {
    static func json(_ value: some Encodable) throws -> ByteBuffer { ByteBuffer(bytes: try JSONEncoder().encode(value)) }
    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(buffer: response.body))
    }
    static let admin: HTTPFields = [.authorization: "Bearer \(TestApp.adminToken)"]

    @Test func recommendThenFeedbackJoinsOnceAndCountsTheArm() async throws {
        let config = try TestApp.configuration("app-serving")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            let request = RecommendRequest(experiment: "homepage", user: "u1", candidates: ["1", "2", "3", "4"], k: 2, context: ["position": .string("1")])
            let rec = try await client.execute(uri: "/v1/recommend", method: .post, body: Self.json(request)) { response in
                #expect(response.status == .ok)
                return try Self.decode(RecommendResponse.self, response)
            }
            #expect(rec.items.count == 2)
            #expect(Set(rec.items.map(\.id)).isSubset(of: ["1", "2", "3", "4"]))
            #expect(["static", "online"].contains(rec.arm) && rec.model.slot == rec.arm)
            #expect(rec.featureVersion.hasPrefix("user_profile@") && !rec.featuresDegraded)

            let feedback = FeedbackRequest(requestID: rec.requestID, item: rec.items[0].id, label: 1)
            try await client.execute(uri: "/v1/feedback", method: .post, body: Self.json(feedback)) { response in
                #expect(response.status == .ok)
                let f = try Self.decode(FeedbackResponse.self, response)
                #expect(f.accepted && f.arm == rec.arm && f.experiment == "homepage")
            }
            try await client.execute(uri: "/v1/feedback", method: .post, body: Self.json(feedback)) { response in
                #expect(response.status == .conflict)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.code == "duplicate_feedback")
            }
            let wrongItem = FeedbackRequest(requestID: rec.requestID, item: "not-shown", label: 0)
            try await client.execute(uri: "/v1/feedback", method: .post, body: Self.json(wrongItem)) { response in
                #expect(response.status == .notFound)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.field == "item")
            }
            let report = try await client.execute(uri: "/v1/admin/experiments/homepage/report", method: .get, headers: Self.admin) { response in
                #expect(response.status == .ok)
                return try Self.decode(ExperimentReport.self, response)
            }
            let arm = try #require(report.arms.first { $0.arm == rec.arm })
            #expect(arm.requests == 1 && arm.feedback == 1 && arm.clicks == 1)
        }
    }

    @Test func badRequestsAre4xxNamingTheField() async throws {
        let config = try TestApp.configuration("app-errors")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            let cases: [(String, HTTPResponse.Status, String?, String)] = [
                (#"{"experiment": "homepage", "user": "u", "k": 0}"#, .badRequest, "k", "invalid_field"),
                (#"{"experiment": "homepage", "user": 7}"#, .badRequest, "user", "invalid_field"),
                (#"{"experiment": "homepage", "user": "u", "candidates": []}"#, .badRequest, "candidates", "invalid_field"),
                (#"{"experiment": "nope", "user": "u"}"#, .notFound, "experiment", "unknown_experiment"),
                ("{not json", .badRequest, nil, "malformed_json"),
            ]
            for (body, status, field, code) in cases {
                try await client.execute(uri: "/v1/recommend", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body)")
                    let error = try Self.decode(ErrorBody.self, response).error
                    #expect(error.field == field && error.code == code, "\(body)")
                }
            }
            try await client.execute(uri: "/v1/feedback", method: .post, body: ByteBuffer(string: #"{"request_id": "nope", "item": "1", "label": 1}"#)) { response in
                #expect(response.status == .notFound)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.field == "request_id")
            }
            try await client.execute(uri: "/v1/feedback", method: .post, body: ByteBuffer(string: #"{"request_id": "r", "item": "1", "label": 2}"#)) { response in
                #expect(response.status == .badRequest)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.field == "label")
            }
        }
    }

    @Test func adminRoutesNeedATokenAndMapDomainErrors() async throws {
        let config = try TestApp.configuration("app-admin")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/admin/models", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            try await client.execute(uri: "/v1/admin/models", method: .get, headers: [.authorization: "Bearer wrong"]) { response in
                #expect(response.status == .unauthorized)
            }
            let slots = try await client.execute(uri: "/v1/admin/models", method: .get, headers: Self.admin) { response in
                #expect(response.status == .ok)
                return try Self.decode(SlotList.self, response).slots
            }
            #expect(slots.map(\.slot) == ["static", "online"])
            #expect(slots[0].current == "obd-static")
            try await client.execute(uri: "/v1/admin/models/static/rollback", method: .post, headers: Self.admin) { response in
                #expect(response.status == .conflict)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.code == "rollback_refused")
            }
            try await client.execute(uri: "/v1/admin/models/nope", method: .get, headers: Self.admin) { response in
                #expect(response.status == .notFound)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.code == "unknown_slot")
            }
            let bad = ExperimentBatch(configs: [.init(file: "bad.yaml", yaml: "key: homepage\narms: []\n")])
            try await client.execute(uri: "/v1/admin/experiments", method: .put, headers: Self.admin, body: Self.json(bad)) { response in
                #expect(response.status == .unprocessableContent)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.details?.isEmpty == false)
            }
            try await client.execute(uri: "/v1/admin/experiments/homepage/revert", method: .post, headers: Self.admin,
                                     body: Self.json(RevertRequest(to: 99))) { response in
                #expect(response.status == .notFound)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.code == "unknown_revision" && error.field == "to")
            }
            // The live revision is the first: there is none before it to revert to.
            try await client.execute(uri: "/v1/admin/experiments/homepage/revert", method: .post, headers: Self.admin,
                                     body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .conflict)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.code == "no_earlier_revision")
            }
            // What was refused changed nothing and left an audit trail of the start only.
            let audit = try await client.execute(uri: "/v1/admin/audit", method: .get, headers: Self.admin) { response in
                try Self.decode(AuditList.self, response).entries
            }
            #expect(audit.allSatisfy { $0.actor == "startup" })
        }
    }

    @Test func revertWithoutAnEarlierRevisionIs409AndRevisionsAreIntegersFromOne() async throws {
        let config = try TestApp.configuration("app-revert")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            let revert = "/v1/admin/experiments/homepage/revert"
            for body in ["", "{}", #"{"to": null}"#] {
                try await client.execute(uri: revert, method: .post, headers: Self.admin, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .conflict, "\(body)")
                    let error = try Self.decode(ErrorBody.self, response).error
                    #expect(error.code == "no_earlier_revision", "\(body)")
                }
            }
            for body in [#"{"to": 0}"#, #"{"to": -3}"#, #"{"to": 1.5}"#, #"{"to": 1e300}"#, #"{"to": 12241568381316357595070464}"#] {
                try await client.execute(uri: revert, method: .post, headers: Self.admin, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    let error = try Self.decode(ErrorBody.self, response).error
                    #expect(error.code == "invalid_field" && error.field == "to", "\(body): \(error.message)")
                }
            }
            // A config whose key is not the URL's is refused like any other invalid config: 422, the problem listed.
            let other = "key: search-ranking-a\narms:\n  - {name: a, model: static}\n  - {name: b, model: online}\n"
            try await client.execute(uri: "/v1/admin/experiments/homepage", method: .put, headers: Self.admin, body: ByteBuffer(string: other)) { response in
                #expect(response.status == .unprocessableContent)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.code == "invalid_config" && error.details?.first?.contains("key") == true)
            }
            // With a second revision, the default is the first; the new revision is the third.
            let yaml = "key: homepage\narms:\n  - {name: static, model: static}\n  - {name: online, model: online}\n"
            try await client.execute(uri: "/v1/admin/experiments/homepage", method: .put, headers: Self.admin, body: ByteBuffer(string: yaml)) {
                #expect($0.status == .ok)
            }
            let applied = try await client.execute(uri: revert, method: .post, headers: Self.admin, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .ok)
                return try Self.decode(AppliedRevisions.self, response).applied
            }
            #expect(applied.map(\.revision) == [3])
            let history = try await client.execute(uri: "/v1/admin/experiments/homepage/history", method: .get, headers: Self.admin) {
                try Self.decode(RevisionList.self, $0).revisions
            }
            #expect(history.last?.revertedFrom == 1)
        }
    }

    @Test func stringLimitsCountCharactersAndNullsAreAbsent() async throws {
        let config = try TestApp.configuration("app-limits")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            // 256 characters of 2, 3 and 4 UTF-8 bytes each: within the limit, as the document's maxLength counts.
            for c in ["é", "日", "😀"] {
                let s = String(repeating: c, count: 256)
                let body = #"{"experiment": "homepage", "user": "\#(s)", "candidates": ["1", "\#(s)"], "k": 1, "context": {"\#(s)": "\#(s)"}}"#
                try await client.execute(uri: "/v1/recommend", method: .post, body: ByteBuffer(string: body)) { #expect($0.status == .ok, "\(c)") }
            }
            let long = String(repeating: "é", count: 257)
            for (body, field) in [(#"{"experiment": "homepage", "user": "\#(long)"}"#, "user"),
                                  (#"{"experiment": "homepage", "user": "u", "candidates": ["\#(long)"]}"#, "candidates[0]"),
                                  (#"{"experiment": "homepage", "user": "u", "context": {"a": "\#(long)"}}"#, "context.a"),
                                  (#"{"experiment": "homepage", "user": "u", "context": {"a": 1000001}}"#, "context.a")] {
                try await client.execute(uri: "/v1/recommend", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(field)")
                    let error = try Self.decode(ErrorBody.self, response).error
                    #expect(error.field == field)
                }
            }
            let nulls = #"{"experiment": "homepage", "user": "u", "candidates": null, "k": null, "context": null}"#
            try await client.execute(uri: "/v1/recommend", method: .post, body: ByteBuffer(string: nulls)) { #expect($0.status == .ok) }
        }
    }

    @Test func requestMetricsAreLabelledByRoutePattern() async throws {
        let config = try TestApp.configuration("app-metrics")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/admin/experiments/homepage", method: .get, headers: Self.admin) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/admin/experiments/nope", method: .get, headers: Self.admin) { #expect($0.status == .notFound) }
            let request = RecommendRequest(experiment: "homepage", user: "qa-online", candidates: ["1"], k: 1)
            try await client.execute(uri: "/v1/recommend", method: .post, body: Self.json(request)) { #expect($0.status == .ok) }
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains(#"duet_http_requests_total{route="/v1/admin/experiments/{key}",status="200"} 1"#))
            #expect(text.contains(#"duet_http_requests_total{route="/v1/admin/experiments/{key}",status="404"} 1"#))
            #expect(text.contains(#"route="/v1/recommend",experiment="homepage",arm="online",status="200""#))
            #expect(!text.contains("/v1/admin/experiments/nope"))
        }
    }

    @Test func bearerSchemeIsCaseInsensitiveAndTheStatusPageHidesTheAuditFromAnonymousCallers() async throws {
        let config = try TestApp.configuration("app-auth")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
                try await client.execute(uri: "/v1/admin/models", method: .get, headers: [.authorization: "\(scheme) \(TestApp.adminToken)"]) { response in
                    #expect(response.status == .ok, "\(scheme)")
                }
            }
            for header in ["Basic \(TestApp.adminToken)", "Bearer", "Bearer ", "Bearer\(TestApp.adminToken)", "Bearerx \(TestApp.adminToken)"] {
                try await client.execute(uri: "/v1/admin/models", method: .get, headers: [.authorization: header]) { response in
                    #expect(response.status == .unauthorized, "\(header)")
                }
            }
            let anonymous = try await client.execute(uri: "/", method: .get) { String(buffer: $0.body) }
            #expect(anonymous.contains("homepage") && !anonymous.contains("startup"))
            let admin = try await client.execute(uri: "/", method: .get, headers: Self.admin) { String(buffer: $0.body) }
            #expect(admin.contains("startup") && admin.contains("experiment.apply"))
        }
    }

    @Test func apiTokensGuardTheDataPlaneAndFeedbackIsRateLimitedPerClient() async throws {
        var config = try TestApp.configuration("app-api")
        config.apiTokens = ["shop": "s1", "bot": "b1"]
        config.feedbackRatePerClient = 2  // bursts of 4
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            let request = try Self.json(RecommendRequest(experiment: "homepage", user: "u1", candidates: ["1", "2"], k: 1))
            try await client.execute(uri: "/v1/recommend", method: .post, body: request) { response in
                #expect(response.status == .unauthorized)
                let error = try Self.decode(ErrorBody.self, response).error
                #expect(error.message.contains("API token"))
            }
            // The admin token is not a data-plane token.
            try await client.execute(uri: "/v1/recommend", method: .post, headers: Self.admin, body: request) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/recommend", method: .post, headers: [.authorization: "Bearer s1"], body: request) { #expect($0.status == .ok) }
            let feedback = try Self.json(FeedbackRequest(requestID: "nope", item: "1", label: 1))
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 {
                try await client.execute(uri: "/v1/feedback", method: .post, headers: [.authorization: "Bearer b1"], body: feedback) { response in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests { #expect(response.headers[.retryAfter] == "1") }
                }
            }
            #expect(statuses.prefix(4).allSatisfy { $0 == .notFound } && statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
            // Another client has its own bucket.
            try await client.execute(uri: "/v1/feedback", method: .post, headers: [.authorization: "Bearer s1"], body: feedback) { #expect($0.status == .notFound) }
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains(#"duet_feedback_rejected_total{reason="rate_limited"} 2"#))
            #expect(!text.contains("b1") && !text.contains("s1\""))
        }
    }

    @Test func theRateLimiterRefillsAtItsRate() {
        let limiter = RateLimitMiddleware(rate: 10, metrics: DuetMetrics())
        let t0 = ContinuousClock.now
        #expect((0..<20).map { _ in limiter.take("c", now: t0) }.filter { $0 }.count == 20)
        #expect(!limiter.take("c", now: t0))
        #expect(limiter.take("c", now: t0 + .milliseconds(110)))
        #expect(!limiter.take("c", now: t0 + .milliseconds(110)))
        #expect(limiter.take("other", now: t0))
    }

    @Test func aDeclaredBodyOverTheLimitIsRefusedUnread() async throws {
        let config = try TestApp.configuration("app-413")
        let app = try await buildApplication(config, dependencies: TestApp.dependencies(config))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/feedback", method: .post, headers: [.contentLength: "100000000"]) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.connection] == "close")
            }
        }
    }

    @Test func everyRegisteredRouteIsDocumented() async throws {
        let config = try TestApp.configuration("app-openapi")
        let (router, _) = try await buildRouter(config, dependencies: TestApp.dependencies(config))
        let doc = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as! [String: Any]
        let paths = doc["paths"] as! [String: [String: Any]]
        #expect(router.routes.count >= 18)
        for route in router.routes {
            // Hummingbird prints captures as `{name}`, as OpenAPI does; normalise a `:name` form too.
            let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            let key = path.hasPrefix("/") ? path : "/" + path
            #expect(paths[key]?[route.method.rawValue.lowercased()] != nil, "\(route.method) \(key) is not in the OpenAPI document")
        }
    }
}
