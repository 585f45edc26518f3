/// What a hot reload may change. Dual-write streams (their replay log writers, appliers and mirror connections) are
/// built once when `serve` starts; a reload that adds, removes or changes one is refused as a whole, so the running
/// configuration — routing included — stays in force and no acknowledged write is ever routed past a stream that
/// the running process does not have.
extension ShadowgateConfiguration {
    /// Loads `path` for a hot reload of `running`: the same validation as ``load(path:)``, plus a refusal (code
    /// `reload_not_possible`) when `replay_log`, `base_dual_write` or any `lanes.<lane>.dual_write` differ.
    public static func load(path: String, reloading running: ShadowgateConfiguration) throws -> ShadowgateConfiguration {
        let proposed = try load(path: path)
        let problems = proposed.dualWriteReloadProblems(running: running)
        guard problems.isEmpty else { throw ConfigErrors(problems) }
        return proposed
    }

    /// One error per dual-write difference between `running` and this configuration; empty when a reload may proceed.
    public func dualWriteReloadProblems(running: ShadowgateConfiguration) -> [ConfigError] {
        let fix = "restart shadowgate serve to apply dual-write changes (stop it with SIGTERM: records in flight are flushed)"
        var problems: [ConfigError] = []
        if replayLog != running.replayLog {
            problems.append(
                ConfigError(
                    code: .reloadNotPossible, location: nil, path: "replay_log",
                    message: "replay_log changed, but the replay log is opened when serve starts; the reload is refused", fix: fix))
        }
        func key(_ stream: DualWriteConfiguration) -> String { "\(stream.lane)@\(stream.listener)" }
        let before = Dictionary(running.dualWrites.map { (key($0), $0) }) { first, _ in first }
        let after = Dictionary(dualWrites.map { (key($0), $0) }) { first, _ in first }
        for name in Set(before.keys).union(after.keys).sorted() {
            let change: String
            switch (before[name], after[name]) {
            case (nil, .some): change = "would be added"
            case (.some, nil): change = "would be removed"
            case (let old?, let new?) where old != new: change = "would change (mirror, maps or durability)"
            default: continue
            }
            let lane = (before[name] ?? after[name])?.lane ?? name
            let path = lane == label.baseLane ? "base_dual_write" : "lanes.\(lane).dual_write"
            problems.append(
                ConfigError(
                    code: .reloadNotPossible, location: nil, path: path,
                    message: "dual-write stream \(name) \(change), but streams are set up when serve starts; the reload is refused",
                    fix: fix))
        }
        return problems
    }
}
