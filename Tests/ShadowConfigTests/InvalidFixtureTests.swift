import Foundation
import ShadowConfig
import Testing

/// Each `fixtures/configs/invalid/NAME.yaml` must fail with exactly the diagnostics in `NAME.expected`.
@Suite struct InvalidFixtureTests {
    static let directory = repositoryRoot + "/fixtures/configs/invalid"

    static var fixtureNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test("there are invalid fixtures to check")
    func fixturesExist() {
        #expect(Self.fixtureNames.count >= 5)
    }

    @Test("each invalid fixture produces exactly its expected diagnostics", arguments: fixtureNames)
    func matchesExpected(_ name: String) throws {
        let yaml = try String(contentsOfFile: "\(Self.directory)/\(name)", encoding: .utf8)
        let expectedPath = "\(Self.directory)/\(name.dropLast(5)).expected"
        let expected = try String(contentsOfFile: expectedPath, encoding: .utf8)
        let errors = loadErrors(yaml, fileName: name)
        let rendered = errors.map(\.rendered).joined(separator: "\n") + "\n"
        #expect(rendered == expected)
    }
}
