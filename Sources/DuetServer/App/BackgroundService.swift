import ServiceLifecycle

/// A service whose `run` (and every task it starts) runs on the `BackgroundExecutor`: the learner,
/// the model watcher, the experiments' flushes and the impression sweeper may block or hold a core
/// for milliseconds, which no event loop may.
struct BackgroundService: Service {
    let service: any Service
    let executor: BackgroundExecutor

    init(_ service: any Service, on executor: BackgroundExecutor) {
        self.service = service
        self.executor = executor
    }

    func run() async throws {
        try await withTaskExecutorPreference(executor) { try await service.run() }
    }
}
