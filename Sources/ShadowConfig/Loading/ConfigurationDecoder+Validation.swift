import Foundation
import ShadowSQL
import Yams

/// Cross-checks that need the whole file: uniqueness, references between sections, and the safety rules that keep
/// a lane from ever naming a base object.
extension ConfigurationDecoder {
    mutating func validate() {
        validateListeners()
        validateLaneReferences()
        validateLaneMembers()
        for source in laneSources { validateNames(of: source) }
        validateFiles()
    }

    private static func bindsSamePort(_ a: Endpoint, _ b: Endpoint) -> Bool {
        let wildcards: Set<String> = ["0.0.0.0", "::", "*"]
        return a.port == b.port && (a.host == b.host || wildcards.contains(a.host) || wildcards.contains(b.host))
    }

    private mutating func validateListeners() {
        var seenNames: [String: Node] = [:]
        var seenListens: [(Endpoint, String, Node)] = []
        for source in listenerSources {
            let listener = source.listener
            if let first = seenNames[listener.name] {
                reader.report(
                    .duplicateListenerName, at: source.nameNode, path: "listeners.\(listener.name)",
                    "listener name '\(listener.name)' is already used at \(placeDescription(first))",
                    fix: "give every listener its own name"
                )
            } else {
                seenNames[listener.name] = source.nameNode
            }
            if let clash = seenListens.first(where: { Self.bindsSamePort($0.0, listener.listen) }) {
                reportPortClash(listener.listen, node: source.listenNode, path: "listeners.\(listener.name).listen", with: clash)
            }
            seenListens.append((listener.listen, "listener '\(listener.name)'", source.listenNode))
        }
        if let adminNode = adminListenNode, let admin = Endpoint(parsing: reader.string(adminNode, path: "admin.listen") ?? ""),
            let clash = seenListens.first(where: { Self.bindsSamePort($0.0, admin) })
        {
            reportPortClash(admin, node: adminNode, path: "admin.listen", with: clash)
        }
    }

    private mutating func reportPortClash(_ endpoint: Endpoint, node: Node, path: String, with clash: (Endpoint, String, Node)) {
        reader.report(
            .duplicatePort, at: node, path: path,
            "\(endpoint) binds the same port as \(clash.1) (\(clash.0)) at \(placeDescription(clash.2))",
            fix: "use a different port"
        )
    }

    private func placeDescription(_ node: Node) -> String {
        reader.location(of: node).map { "line \($0.line)" } ?? "another place"
    }

    private mutating func validateLaneReferences() {
        let listenerNames = listenerSources.map(\.listener.name)
        for source in laneSources {
            for reference in source.backendRefs where !listenerNames.contains(reference.listener) {
                let hint = DidYouMean.closest(to: reference.listener, among: listenerNames).map { "; did you mean '\($0)'?" } ?? ""
                reader.report(
                    .unknownListener, at: reference.keyNode, path: "lanes.\(source.lane.name).backends.\(reference.listener)",
                    "no listener is named '\(reference.listener)'\(hint)",
                    fix: "use one of the listener names: \(listenerNames.joined(separator: ", "))"
                )
            }
        }
    }

    /// A login user or application_name prefix in two lanes would make the lane depend on file order.
    private mutating func validateLaneMembers() {
        var users: [String: String] = [:]
        var prefixes: [String: String] = [:]
        for source in laneSources {
            let lane = source.lane.name
            for (user, node) in source.userNodes {
                if let other = users[user] {
                    reader.report(
                        .ambiguousLaneMember, at: node, path: "lanes.\(lane).users",
                        "user '\(user)' is already in lane '\(other)'", fix: "a login user can be in one lane only"
                    )
                } else {
                    users[user] = lane
                }
            }
            for (prefix, node) in source.applicationNameNodes {
                if let other = prefixes[prefix] {
                    reader.report(
                        .ambiguousLaneMember, at: node, path: "lanes.\(lane).application_names",
                        "application_name prefix '\(prefix)' is already in lane '\(other)'",
                        fix: "an application_name prefix can be in one lane only"
                    )
                } else {
                    prefixes[prefix] = lane
                }
            }
        }
    }

    private mutating func validateFiles() {
        for file in tlsFiles {
            let resolved = file.path.hasPrefix("/") || baseDirectory == nil ? file.path : "\(baseDirectory!)/\(file.path)"
            if !FileManager.default.fileExists(atPath: resolved) {
                reader.report(
                    .missingFile, at: file.node, path: file.key, "file '\(file.path)' does not exist",
                    fix: "relative paths are resolved against the configuration file's folder"
                )
            }
        }
    }
}
