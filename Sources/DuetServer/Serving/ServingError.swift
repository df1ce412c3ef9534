/// Why a recommend or feedback request was refused past its body's validation (which throws
/// `RequestError`). `HTTP/` maps each case to a status.
public enum ServingError: Error, CustomStringConvertible, Sendable {
    case unknownExperiment(String)
    /// The arm's slot or pinned version has no model loaded.
    case modelNotReady(String)
    /// The impression is older than its TTL, or was evicted.
    case impressionExpired(requestID: String)
    case unknownRequest(requestID: String)
    case unknownItem(item: String, requestID: String)
    case duplicateFeedback(item: String, requestID: String)
    /// The learner's queue is full: retry shortly.
    case learnerBusy
    /// The feedback log could not take the event: it was not accepted.
    case feedbackLogUnavailable(String)
    /// Cluster mode: a change could not go through Redis to every replica.
    case clusterUnavailable(String)

    public var description: String {
        switch self {
        case .unknownExperiment(let key): "no experiment '\(key)'"
        case .modelNotReady(let why): why
        case .impressionExpired(let id): "request \(id) is older than the impression TTL (or was evicted)"
        case .unknownRequest(let id): "no recommendation with request_id \(id)"
        case .unknownItem(let item, let id): "item '\(item)' was not recommended in request \(id)"
        case .duplicateFeedback(let item, let id): "feedback for item '\(item)' of request \(id) was already recorded"
        case .learnerBusy: "the online learner's queue is full; retry shortly"
        case .feedbackLogUnavailable(let why): "the feedback log could not record the event (not accepted; retry): \(why)"
        case .clusterUnavailable(let why): why
        }
    }
}
