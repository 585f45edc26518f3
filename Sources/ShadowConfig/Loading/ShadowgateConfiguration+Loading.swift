import Foundation
import Yams

/// Serialises every use of Yams in the process (see ``ShadowgateConfiguration/load(bytes:fileName:baseDirectory:)``).
private let yamsLock = NSLock()

extension ShadowgateConfiguration {
    /// Largest configuration file accepted; far beyond any real one, small enough that hostile input stays cheap.
    public static let maximumFileSize = 4 << 20

    /// Reads, parses and validates the configuration file at `path`.
    /// Relative file paths inside it (TLS certificates) are resolved against the file's folder.
    /// - Throws: ``ConfigErrors`` with every problem found (one ``ConfigError/Code/unreadableFile`` if it cannot be read).
    public static func load(path: String) throws -> ShadowgateConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors([
                ConfigError(
                    code: .unreadableFile, location: nil, path: "", message: "cannot read '\(path)'",
                    fix: "check that the file exists and is readable"
                )
            ])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try load(bytes: Array(data), fileName: path, baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Parses and validates configuration text. `fileName` is used in error locations only;
    /// relative file paths are resolved against `baseDirectory` (the current directory when nil).
    public static func load(yaml: String, fileName: String = "config.yaml", baseDirectory: String? = nil) throws
        -> ShadowgateConfiguration
    {
        try load(bytes: Array(yaml.utf8), fileName: fileName, baseDirectory: baseDirectory)
    }

    static func load(bytes: [UInt8], fileName: String, baseDirectory: String?) throws -> ShadowgateConfiguration {
        // Yams resolves scalar tags with shared NSRegularExpression instances, which swift-corelibs-foundation does not
        // make safe for concurrent use (concurrent loads crashed in NSRegularExpression.firstMatch). Loads are rare
        // (start, reload, tools), so one process-wide lock costs nothing.
        try yamsLock.withLock { try loadUnlocked(bytes: bytes, fileName: fileName, baseDirectory: baseDirectory) }
    }

    private static func loadUnlocked(bytes: [UInt8], fileName: String, baseDirectory: String?) throws
        -> ShadowgateConfiguration
    {
        func fail(_ code: ConfigError.Code, _ message: String, line: Int? = nil, column: Int? = nil, fix: String? = nil) -> ConfigErrors {
            let location = line.map { SourceLocation(file: fileName, line: $0, column: column ?? 1) }
            return ConfigErrors([ConfigError(code: code, location: location, path: "", message: message, fix: fix)])
        }
        guard bytes.count <= maximumFileSize else {
            throw fail(.invalidYAML, "the file is \(bytes.count) bytes, over the \(maximumFileSize)-byte limit")
        }
        guard let text = String(validating: bytes, as: UTF8.self), !bytes.contains(0) else {
            throw fail(.invalidYAML, "the file is not UTF-8 text", fix: "save the configuration as UTF-8 YAML")
        }
        let depth = NestingDepthScanner.estimatedDepth(of: bytes)
        guard depth <= NestingDepthScanner.limit else {
            throw fail(.tooDeep, "the document nests about \(depth) levels deep; a configuration needs fewer than 10")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw YAMLErrorTranslation.configErrors(from: error, fileName: fileName)
        } catch {
            throw fail(.invalidYAML, "\(error)")
        }
        guard let root else {
            throw fail(.missingKey, "the file is empty", line: 1, column: 1, fix: "start from fixtures/configs/demo.yaml")
        }
        var decoder = ConfigurationDecoder(fileName: fileName, baseDirectory: baseDirectory)
        let configuration = decoder.decode(root)
        decoder.validate()
        let errors = decoder.reader.errors
        guard errors.isEmpty else { throw ConfigErrors(Self.inFileOrder(errors)) }
        return configuration
    }

    private static func inFileOrder(_ errors: [ConfigError]) -> [ConfigError] {
        errors.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            let ka = (la?.line ?? 0, la?.column ?? 0, a.offset), kb = (lb?.line ?? 0, lb?.column ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
    }
}

/// Turns Yams' parse errors into located ``ConfigError``s.
enum YAMLErrorTranslation {
    static func configErrors(from error: YamlError, fileName: String) -> ConfigErrors {
        func one(_ mark: Mark?, _ message: String) -> ConfigErrors {
            let location = mark.map { SourceLocation(file: fileName, line: $0.line, column: $0.column) }
            return ConfigErrors([ConfigError(code: .invalidYAML, location: location, path: "", message: message)])
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text): " } ?? ""
            return one(mark, "invalid YAML: \(prefix)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigErrors([
                ConfigError(
                    code: .duplicateKey,
                    location: SourceLocation(file: fileName, line: context.mark.line, column: context.mark.column),
                    path: "", message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one map",
                    fix: "keep one entry per key"
                )
            ])
        case .reader(let problem, _, _, _):
            return one(nil, "invalid YAML: \(problem)")
        default:
            return one(nil, "invalid YAML: \(error)")
        }
    }
}
