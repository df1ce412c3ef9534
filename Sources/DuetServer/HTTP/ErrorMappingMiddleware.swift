import DuetAPI
import Hummingbird

/// The one place domain errors become HTTP answers: each error a service throws is mapped to a
/// status and a JSON body naming the problem (`APIError`). Anything else stays a 500.
struct ErrorMappingMiddleware: RouterMiddleware {
    typealias Context = DuetRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as RequestError {
            throw Self.map(e)
        } catch let e as ServingError {
            throw Self.map(e)
        } catch let e as ExperimentError {
            throw Self.map(e)
        } catch let e as ModelError {
            throw Self.map(e)
        }
    }

    static func map(_ e: RequestError) -> APIError {
        APIError(.badRequest, code: e.code.rawValue, message: e.message, field: e.field)
    }

    static func map(_ e: ServingError) -> APIError {
        switch e {
        case .unknownExperiment: APIError(.notFound, code: "unknown_experiment", message: e.description, field: "experiment")
        case .modelNotReady: APIError(.serviceUnavailable, code: "model_not_ready", message: e.description)
        case .impressionExpired: APIError(.gone, code: "impression_expired", message: e.description, field: "request_id")
        case .unknownRequest: APIError(.notFound, code: "unknown_request", message: e.description, field: "request_id")
        case .unknownItem: APIError(.notFound, code: "unknown_item", message: e.description, field: "item")
        case .duplicateFeedback: APIError(.conflict, code: "duplicate_feedback", message: e.description, field: "item")
        case .learnerBusy: APIError(.serviceUnavailable, code: "learner_busy", message: e.description)
        case .feedbackLogUnavailable: APIError(.serviceUnavailable, code: "feedback_log_unavailable", message: e.description)
        case .clusterUnavailable: APIError(.serviceUnavailable, code: "cluster_unavailable", message: e.description)
        }
    }

    static func map(_ e: ExperimentError) -> APIError {
        switch e {
        case .unknownExperiment: APIError(.notFound, code: "unknown_experiment", message: e.description)
        case .invalidConfig(let problems):
            APIError(.unprocessableContent, code: "invalid_config", message: e.description, details: problems.map(\.description))
        case .unknownRevision: APIError(.notFound, code: "unknown_revision", message: e.description, field: "to")
        case .noEarlierRevision: APIError(.conflict, code: "no_earlier_revision", message: e.description)
        }
    }

    static func map(_ e: ModelError) -> APIError {
        switch e {
        case .unknownSlot: APIError(.notFound, code: "unknown_slot", message: e.description)
        case .rollbackRefused: APIError(.conflict, code: "rollback_refused", message: e.description)
        case .unknownVersion: APIError(.notFound, code: "unknown_version", message: e.description)
        }
    }
}
