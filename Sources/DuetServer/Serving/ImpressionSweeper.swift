import Foundation
import ServiceLifecycle

/// Frees expired impressions every `interval`, so memory follows the TTL and not only the capacity.
struct ImpressionSweeper: Service {
    let impressions: ImpressionStore<Impression>
    var interval: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: interval)) != nil {
                impressions.sweep()
            }
        }
    }
}
