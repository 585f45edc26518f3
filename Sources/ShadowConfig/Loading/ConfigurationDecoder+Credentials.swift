import Foundation
import Yams

extension ConfigurationDecoder {
    /// `credentials: { user, password | password_env, database }`. `password_env` names an environment variable,
    /// read now so a missing variable is reported with the line that names it.
    mutating func decodeCredentials(_ node: Node, path: String) -> DatabaseCredentials? {
        guard let entries = reader.mapping(node, path: path, allowedKeys: ConfigurationKeys.credentials) else { return nil }
        func entry(_ key: String) -> MappingEntry? { entries.first { $0.key == key } }
        var complete = true
        for required in ["user", "database"] where entry(required) == nil {
            reader.report(.missingKey, at: node, path: "\(path).\(required)", "missing key", fix: "credentials need user and database")
            complete = false
        }
        let user = entry("user").flatMap { reader.name($0.value, path: "\(path).user", what: "user name") }
        let database = entry("database").flatMap { reader.name($0.value, path: "\(path).database", what: "database name") }
        var password = ""
        if entry("password") != nil, let variable = entry("password_env") {
            reader.report(
                .conflictingKeys, at: variable.keyNode, path: "\(path).password_env", "both password and password_env are set",
                fix: "keep only one of them"
            )
            complete = false
        } else if let plain = entry("password") {
            password = reader.string(plain.value, path: "\(path).password") ?? ""
        } else if let variable = entry("password_env") {
            if let name = reader.name(variable.value, path: "\(path).password_env", what: "environment variable name") {
                if let value = ProcessInfo.processInfo.environment[name] {
                    password = value
                } else {
                    reader.report(
                        .invalidValue, at: variable.value, path: "\(path).password_env",
                        "environment variable \(name) is not set", fix: "export \(name) before running, or use password"
                    )
                    complete = false
                }
            }
        }
        guard complete, let user, let database else { return nil }
        return DatabaseCredentials(user: user, password: password, database: database)
    }

    /// A login without a database (`{ user, password | password_env }`), for sections that name the database apart.
    mutating func decodeLogin(_ node: Node, path: String, allowedKeys: [String]) -> (user: String, password: String)? {
        guard let entries = reader.mapping(node, path: path, allowedKeys: allowedKeys) else { return nil }
        func entry(_ key: String) -> MappingEntry? { entries.first { $0.key == key } }
        guard let userEntry = entry("user") else {
            reader.report(.missingKey, at: node, path: "\(path).user", "missing key", fix: "credentials need a user")
            return nil
        }
        guard let user = reader.name(userEntry.value, path: "\(path).user", what: "user name") else { return nil }
        if entry("password") != nil, let variable = entry("password_env") {
            reader.report(
                .conflictingKeys, at: variable.keyNode, path: "\(path).password_env", "both password and password_env are set",
                fix: "keep only one of them")
            return nil
        }
        if let plain = entry("password") { return reader.string(plain.value, path: "\(path).password").map { (user, $0) } }
        guard let variable = entry("password_env") else { return (user, "") }
        guard let name = reader.name(variable.value, path: "\(path).password_env", what: "environment variable name") else { return nil }
        guard let value = ProcessInfo.processInfo.environment[name] else {
            reader.report(
                .invalidValue, at: variable.value, path: "\(path).password_env", "environment variable \(name) is not set",
                fix: "export \(name) before running, or use password")
            return nil
        }
        return (user, value)
    }
}
