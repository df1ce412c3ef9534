import DuetAPI
import DuetStore

extension AuditRecord {
    /// A stored audit row as the API and the status page show it.
    init(_ e: AuditEntry) {
        self.init(id: e.id, at: e.at, actor: e.actor, action: e.action, target: e.target, before: e.before, after: e.after)
    }
}
