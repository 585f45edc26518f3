import Foundation
import ShadowConfig
import Testing

@Suite struct DocumentationTests {
    @Test("every key the loader accepts is described in docs/configuration.md")
    func everyKeyDocumented() throws {
        let doc = try String(contentsOfFile: repositoryRoot + "/docs/configuration.md", encoding: .utf8)
        let missing = ConfigurationKeys.documentedPaths.filter { !doc.contains("`\($0)`") }
        #expect(missing.isEmpty, "undocumented keys: \(missing)")
    }
}
