import ShadowConfig

/// The repository root, found from this file's location, for fixtures and docs.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/ShadowConfigTests/TestSupport.swift
    return parts.joined(separator: "/")
}()

/// Loads YAML and returns the errors it produced (empty when it loaded).
func loadErrors(_ yaml: String, fileName: String = "config.yaml") -> [ConfigError] {
    do {
        _ = try ShadowgateConfiguration.load(yaml: yaml, fileName: fileName)
        return []
    } catch let errors as ConfigErrors {
        return errors.errors
    } catch {
        return [ConfigError(code: .invalidYAML, location: nil, path: "", message: "unexpected \(error)")]
    }
}

let oneMySQLListener = """
    listeners:
      - name: orders-mysql
        protocol: mysql
        listen: 127.0.0.1:3307
        backend: 127.0.0.1:3306

    """
