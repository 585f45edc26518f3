import Foundation

/// Renders the read-only status page at `/`: plain HTML and CSS, refreshing itself every few seconds, no script
/// and nothing loaded from outside (it must work on an air-gapped bastion host).
public enum StatusPage {
    /// The page for `status`, generated at `now` (seconds since the epoch).
    public static func render(_ status: AdminStatus, now: Double, refreshSeconds: Int = 2) -> String {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>Shadowgate status</title>
            <style>
            body{font:13px/1.4 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px;color:#222;background:#fafafa}
            h1{font-size:18px;margin:0 0 4px} h2{font-size:15px;margin:18px 0 6px;border-bottom:2px solid #4a6;padding-bottom:2px}
            table{border-collapse:collapse;width:100%;background:#fff} th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
            th{background:#e8f0e8} .num{text-align:right;font-variant-numeric:tabular-nums} .lane{font-weight:600}
            .refused{color:#a00} .muted{color:#777} code{font-size:12px}
            </style></head><body>
            <h1>Shadowgate \(escape(status.version))</h1>
            <div class="muted">configuration generation \(status.configurationGeneration) · up \(formatDuration(now - status.startedAt)) · \(status.connections.count) live connections · refreshed every \(refreshSeconds) s</div>

            """
        html += "<h2>Listeners</h2><table><tr><th>name</th><th>protocol</th><th>listen</th><th>base server</th><th>TLS</th><th class=num>connections</th></tr>\n"
        for listener in status.listeners {
            html += "<tr><td>\(escape(listener.name))</td><td>\(escape(listener.wireProtocol))</td><td>\(escape(listener.listen))</td>"
            html += "<td>\(escape(listener.backend))</td><td>\(listener.tls ? "yes" : "no")</td><td class=num>\(listener.connections)</td></tr>\n"
        }
        html += "</table>\n<h2>Lanes</h2><table><tr><th>lane</th><th>mapping</th><th>policies</th><th class=num>statements</th><th class=num>rewrites</th><th class=num>refusals</th><th>last refusals</th><th>last rewrites</th></tr>\n"
        for lane in [status.baseLane] + status.lanes {
            html += "<tr><td class=lane>\(escape(lane.name))</td><td>\(mappingText(lane))</td>"
            html += "<td>writes: \(escape(lane.unmappedWrites))<br>reads: \(escape(lane.unmappedReads))</td>"
            html += "<td class=num>\(lane.statistics.statements)</td><td class=num>\(lane.statistics.rewrites)</td>"
            html += "<td class=num>\(lane.statistics.refusals)</td>"
            html += "<td class=refused>\(lane.statistics.lastRefusals.reversed().map { "<code>\(escape($0))</code>" }.joined(separator: "<br>"))</td>"
            html += "<td>\(lane.statistics.lastRewrites.reversed().map { "<code>\(escape($0))</code>" }.joined(separator: "<br>"))</td></tr>\n"
        }
        html += "</table>\n<h2>Live connections</h2><table><tr><th class=num>id</th><th>listener</th><th>client</th><th>user</th><th>lane</th><th>server</th><th class=num>age</th><th class=num>statements</th></tr>\n"
        for connection in status.connections {
            html += "<tr><td class=num>\(connection.id)</td><td>\(escape(connection.listener))</td><td>\(escape(connection.client))</td>"
            html += "<td>\(escape(connection.user ?? "—"))</td><td class=lane>\(escape(connection.lane))</td>"
            html += "<td>\(escape(connection.backend ?? "—"))</td><td class=num>\(formatDuration(now - connection.openedAt))</td>"
            html += "<td class=num>\(connection.statements)</td></tr>\n"
        }
        if !status.dualWrite.isEmpty {
            html += "</table>\n<h2>Dual-write</h2><table><tr><th>stream</th><th>mirror</th><th>mode</th><th class=num>last LSN</th><th class=num>applied</th><th class=num>lag (records)</th><th class=num>lag</th><th class=num>log size</th><th>applier</th><th class=num>flagged</th><th>problem</th></tr>\n"
            for stream in status.dualWrite {
                html += "<tr><td>\(escape(stream.target))</td><td>\(escape(stream.mirror))</td><td>\(escape(stream.durability))</td>"
                html += "<td class=num>\(stream.lastLSN)</td><td class=num>\(stream.appliedLSN)</td><td class=num>\(stream.lagRecords)</td>"
                html += "<td class=num>\(formatDuration(stream.lagSeconds))</td><td class=num>\(stream.logBytes)</td><td>\(escape(stream.applierState))</td>"
                let problem = stream.mirroringStopped.map { "mirroring stopped, resync needed: \($0)" } ?? stream.lastError ?? ""
                html += "<td class=num>\(stream.flaggedRecords)</td><td class=refused>\(escape(problem))</td></tr>\n"
            }
        }
        html += "</table>\n<p class=muted>JSON: <a href=\"/api/status\">/api/status</a> · Prometheus: <a href=\"/metrics\">/metrics</a> · <a href=\"/healthz\">/healthz</a> · <a href=\"/readyz\">/readyz</a></p>\n</body></html>\n"
        return html
    }

    private static func mappingText(_ lane: AdminStatus.Lane) -> String {
        var parts: [String] = []
        if let suffix = lane.suffix { parts.append("suffix <code>\(escape(suffix))</code>") }
        for (base, shadow) in lane.tables.sorted(by: { $0.key < $1.key }) {
            parts.append("<code>\(escape(base))</code> → <code>\(escape(shadow))</code>")
        }
        for (base, shadow) in lane.databases.sorted(by: { $0.key < $1.key }) {
            parts.append("database <code>\(escape(base))</code> → <code>\(escape(shadow))</code>")
        }
        for (listener, server) in lane.backends.sorted(by: { $0.key < $1.key }) {
            parts.append("server for \(escape(listener)): <code>\(escape(server))</code>")
        }
        if !lane.users.isEmpty { parts.append("users: \(lane.users.map(escape).joined(separator: ", "))") }
        return parts.isEmpty ? "<span class=muted>unchanged</span>" : parts.joined(separator: "<br>")
    }

    static func formatDuration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\(s % 3600 / 60)m"
    }

    /// Escapes text for HTML element content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
