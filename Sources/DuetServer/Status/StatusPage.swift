import DuetAPI
import Foundation

/// The server-rendered status page at `GET /`: experiments and their split, CTR per arm over time
/// (inline SVG), model versions per slot, feature versions, the last audit rows. No JavaScript.
public struct StatusPage: Sendable {
    public struct Arm: Sendable {
        public var name: String
        public var model: String
        public var configuredShare: Double
        public var assigned: Int
        public var requests: Int
        public var clicks: Int
        public var feedback: Int
        /// CTR per time bucket (oldest first); nil where the bucket had no feedback.
        public var ctrSeries: [Double?]
        /// Why the arm cannot be served (a pinned version that is not there), or nil.
        public var failing: String? = nil
    }

    public struct Experiment: Sendable {
        public var key: String
        public var revision: Int
        public var status: String
        public var srmPValue: Double
        public var arms: [Arm]
        /// Requests of forced users and of users outside the experiment (counted for no arm).
        public var forced = 0
        public var outside = 0
    }

    public struct Version: Sendable {
        public var id: String
        public var createdAt: Double
        public var examples: Int
        public var logloss: Double?
        public var current: Bool
        /// Marked healthy by the guardrail.
        public var healthy = false
    }

    public struct Slot: Sendable {
        public var name: String
        public var versions: [Version]
    }

    public var experiments: [Experiment]
    public var slots: [Slot]
    public var featureVersions: [(set: String, version: String)]
    public var featureStore: String
    /// The last audit rows; nil when the caller is not an admin (actors and changes stay private).
    public var audit: [AuditRecord]?
    public var bucketSeconds: Int
    /// The guardrail's last rollback: when, by which experiment, from → to, and why.
    public var guardrail: (at: Double, actor: String, from: String, to: String, why: String)? = nil
    /// Cluster mode: who trains, the replicas and their versions (nil: one process).
    public var cluster: String? = nil

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]

    public func render() -> String {
        var h = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Duet status</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
        h1{margin:0 0 4px} h2{margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        table{border-collapse:collapse;margin:6px 0 14px;background:#fff}
        th,td{border:1px solid #ddd;padding:4px 8px;text-align:left} th{background:#f0f0f0}
        td.num{text-align:right;font-variant-numeric:tabular-nums}
        .cur{font-weight:bold;color:#2a7} .warn{color:#c33;font-weight:bold} .muted{color:#888}
        .exp{background:#fff;border:1px solid #ddd;padding:10px 14px;margin:10px 0;border-radius:6px}
        </style></head><body>
        <h1>Duet</h1><div class="muted">online-learning recommender with a built-in A/B router ·
        <a href="/metrics">metrics</a> · <a href="/openapi.json">API</a></div>
        <h2>Experiments</h2>
        """
        if experiments.isEmpty { h += "<p class=muted>No experiments.</p>" }
        for e in experiments {
            let totalAssigned = max(1, e.arms.reduce(0) { $0 + $1.assigned })
            let srmClass = e.srmPValue < 0.001 ? "warn" : ""
            h += "<div class=exp><h3>\(esc(e.key)) <span class=muted>revision \(e.revision) · \(esc(e.status))</span></h3>"
            h += "<div>SRM p-value (distinct users): <span class=\"\(srmClass)\">\(fmt(e.srmPValue, 4))</span></div>"
            h += "<table><tr><th>arm</th><th>model</th><th>configured</th><th>observed</th><th>users</th><th>requests</th><th>feedback</th><th>clicks</th><th>CTR</th></tr>"
            for (i, a) in e.arms.enumerated() {
                let ctr = a.feedback > 0 ? Double(a.clicks) / Double(a.feedback) : 0
                let swatch = "<span style=\"color:\(Self.palette[i % Self.palette.count])\">■</span>"
                let model = a.failing.map { "<span class=warn title=\"\(esc($0))\">\(esc(a.model)) ⚠ failing</span>" } ?? esc(a.model)
                h += "<tr><td>\(swatch) \(esc(a.name))</td><td>\(model)</td>"
                h += "<td class=num>\(pct(a.configuredShare))</td><td class=num>\(pct(Double(a.assigned) / Double(totalAssigned)))</td>"
                h += "<td class=num>\(a.assigned)</td><td class=num>\(a.requests)</td><td class=num>\(a.feedback)</td><td class=num>\(a.clicks)</td><td class=num>\(pct(ctr, 2))</td></tr>"
            }
            h += "</table>"
            if e.forced + e.outside > 0 {
                h += "<div class=muted>not counted for any arm: \(e.forced) requests of forced users, \(e.outside) of users outside the experiment</div>"
            }
            for a in e.arms { if let why = a.failing { h += "<div class=warn>arm \(esc(a.name)) is failing: \(esc(why)) (/readyz answers 503)</div>" } }
            h += chart(e)
            h += "</div>"
        }
        h += "<h2>Models</h2>"
        if let c = cluster { h += "<div>\(esc(c))</div>" }
        if let g = guardrail {
            h += "<div class=warn>\(date(g.at)): the guardrail (\(esc(g.actor))) rolled the online model back \(esc(g.from)) → \(esc(g.to)): \(esc(g.why))</div>"
        }
        for s in slots {
            h += "<h3>\(esc(s.name))</h3><table><tr><th>version</th><th>created</th><th>examples</th><th>log loss</th><th></th></tr>"
            for v in s.versions {
                h += "<tr\(v.current ? " class=cur" : "")><td>\(esc(v.id))</td><td>\(date(v.createdAt))</td><td class=num>\(v.examples)</td>"
                h += "<td class=num>\(v.logloss.map { fmt($0, 5) } ?? "–")</td><td>\([v.current ? "current" : "", v.healthy ? "healthy" : ""].filter { !$0.isEmpty }.joined(separator: ", "))</td></tr>"
            }
            if s.versions.isEmpty { h += "<tr><td colspan=5 class=muted>no version yet</td></tr>" }
            h += "</table>"
        }
        h += "<h2>Features <span class=muted>(\(esc(featureStore)))</span></h2><table><tr><th>set</th><th>current version</th></tr>"
        for f in featureVersions { h += "<tr><td>\(esc(f.set))</td><td>\(esc(f.version))</td></tr>" }
        h += "</table><h2>Audit</h2><table><tr><th>when</th><th>who</th><th>what</th><th>target</th><th>before</th><th>after</th></tr>"
        if let audit {
            for a in audit {
                h += "<tr><td>\(date(a.at))</td><td>\(esc(a.actor))</td><td>\(esc(a.action))</td><td>\(esc(a.target))</td>"
                h += "<td>\(esc(a.before ?? ""))</td><td>\(esc(a.after ?? ""))</td></tr>"
            }
            if audit.isEmpty { h += "<tr><td colspan=6 class=muted>nothing yet</td></tr>" }
        } else {
            h += "<tr><td colspan=6 class=muted>shown with an admin token (Authorization: Bearer …)</td></tr>"
        }
        h += "</table></body></html>\n"
        return h
    }

    /// CTR per arm over time as an inline SVG line chart.
    func chart(_ e: Experiment) -> String {
        let width = 640.0, height = 180.0, pad = 36.0
        let n = e.arms.map(\.ctrSeries.count).max() ?? 0
        let maxCTR = max(0.001, e.arms.flatMap { $0.ctrSeries.compactMap { $0 } }.max() ?? 0)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"CTR per arm over time\">"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#fff\" stroke=\"#ddd\"/>"
        svg += "<text x=\"4\" y=\"14\" font-size=\"11\" fill=\"#666\">CTR per arm (\(bucketSeconds)s buckets), max \(pct(maxCTR, 2))</text>"
        svg += "<line x1=\"\(pad)\" y1=\"\(height - pad / 2)\" x2=\"\(width - 8)\" y2=\"\(height - pad / 2)\" stroke=\"#bbb\"/>"
        if n >= 1 {
            for (i, a) in e.arms.enumerated() {
                var points: [String] = []
                for (j, value) in a.ctrSeries.enumerated() {
                    guard let value else { continue }
                    let x = pad + (n == 1 ? 0 : Double(j) / Double(n - 1)) * (width - pad - 8)
                    let y = (height - pad / 2) - value / maxCTR * (height - pad)
                    points.append("\(fmt(x, 1)),\(fmt(y, 1))")
                }
                let color = Self.palette[i % Self.palette.count]
                if points.count == 1 {
                    let xy = points[0].split(separator: ",")
                    svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"\(color)\"/>"
                } else if !points.isEmpty {
                    svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
                }
            }
        } else {
            svg += "<text x=\"\(pad)\" y=\"\(height / 2)\" font-size=\"12\" fill=\"#999\">no feedback yet</text>"
        }
        return svg + "</svg>"
    }

    func esc(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    func pct(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f%%", x * 100) }
    func date(_ t: Double) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: t)) + "Z"
    }
}
