import ShadowConfig
import Testing

@Suite struct ConfigErrorTests {
    @Test("an error renders as file:line:column: error: path: message, with the fix on its own line")
    func rendering() {
        let errors = loadErrors(oneMySQLListener + "lanes:\n  gray:\n    unmapped_writes: rejct\n")
        #expect(errors.map(\.description) == [
            "config.yaml:8:22: error: lanes.gray.unmapped_writes: expected one of reject, pass, found 'rejct'"
        ])
        let withFix = loadErrors(oneMySQLListener + "lanes:\n  gray:\n    tables: { suffix: '' }\n")
        #expect(withFix.first?.rendered.hasSuffix("\n    fix: use a suffix such as _gray, or remove the key to rely on the explicit map") == true)
        #expect(withFix.first?.code == .emptySuffix)
    }

    @Test("every problem is reported, in file order, not just the first")
    func allErrors() {
        let yaml = """
            listeners:
              - { name: a, protocol: mysql, listen: "127.0.0.1:1", backend: nowhere }
            lanes:
              gray: { unmapped_reads: maybe, colour: red }
            """
        let errors = loadErrors(yaml)
        #expect(errors.map(\.code) == [.badEndpoint, .invalidValue, .unknownKey])
        #expect(errors.map { $0.location?.line ?? 0 } == [2, 4, 4])
    }

    @Test("an unknown key close to a known one suggests it")
    func didYouMean() {
        let errors = loadErrors(oneMySQLListener + "lane:\n  gray: {}\n")
        #expect(errors.map(\.message) == ["unknown key; did you mean 'lanes'?"])
        #expect(errors.first?.path == "lane")
    }

    @Test("a shadow name over the PostgreSQL limit is refused only when a PostgreSQL listener uses it")
    func identifierLimits() {
        let sixtyFour = String(repeating: "t", count: 64)
        let lane = "lanes:\n  gray: { tables: { map: { orders: \(sixtyFour) } } }\n"
        #expect(loadErrors(oneMySQLListener + lane).isEmpty)
        let postgres = "listeners:\n  - { name: pg, protocol: postgres, listen: '127.0.0.1:6433', backend: '127.0.0.1:5432' }\n"
        #expect(loadErrors(postgres + lane).map(\.code) == [.identifierTooLong])
        let sixtyFive = "lanes:\n  gray: { tables: { map: { orders: \(sixtyFour)x } } }\n"
        #expect(loadErrors(oneMySQLListener + sixtyFive).map(\.code) == [.identifierTooLong])
    }

    @Test("a suffix that pushes a known table name over the limit is refused")
    func suffixLimit() {
        let base = String(repeating: "o", count: 60)
        let yaml = oneMySQLListener + "lanes:\n  gray: { tables: { map: { \(base): short } } }\n  stress: { tables: { suffix: _shadow } }\n"
        let errors = loadErrors(yaml)
        #expect(errors.map(\.code) == [.identifierTooLong])
        #expect(errors.first?.path == "lanes.stress.tables.suffix")
    }

    @Test("a case-insensitive MySQL listener treats a shadow name differing only in case as the base name")
    func caseInsensitiveEquality() {
        let yaml = oneMySQLListener + "    lower_case_table_names: 2\nlanes:\n  gray: { tables: { map: { Orders: orders } } }\n"
        #expect(loadErrors(yaml).map(\.code) == [.shadowEqualsBase])
        let sensitive = oneMySQLListener + "lanes:\n  gray: { tables: { map: { Orders: orders } } }\n"
        #expect(loadErrors(sensitive).isEmpty)
    }

    @Test("a table both shared and mapped is a conflict")
    func sharedAndMapped() {
        let yaml = oneMySQLListener + "lanes:\n  gray: { tables: { map: { t: t_g } }, shared_tables: [t] }\n"
        #expect(loadErrors(yaml).map(\.code) == [.conflictingKeys])
    }

    @Test("name-case keys on a PostgreSQL listener are refused")
    func caseKeysOnPostgres() {
        let yaml = "listeners:\n  - { name: pg, protocol: postgres, listen: '127.0.0.1:1', backend: '127.0.0.1:2', case_sensitive_names: true }\n"
        #expect(loadErrors(yaml).map(\.code) == [.invalidValue])
    }

    @Test("the admin endpoint may not take a listener's port, and a PostgreSQL setting needs a dot")
    func adminPortAndSetting() {
        let yaml = "label: { postgres_setting: lane }\n" + oneMySQLListener + "admin: { listen: 0.0.0.0:3307 }\n"
        #expect(loadErrors(yaml).map(\.code) == [.invalidValue, .duplicatePort])
    }

    @Test("a duplicate key is reported with its position")
    func duplicateKey() {
        let errors = loadErrors(oneMySQLListener + "lanes: {}\nlanes: {}\n")
        #expect(errors.map(\.code) == [.duplicateKey])
        #expect(errors.first?.location != nil)
    }

    @Test(
        "hostile or empty input produces an error, never a crash",
        arguments: [
            "", "   \n# only a comment\n", "- a\n- b\n", "just text", "{", "listeners: [[[[]]]]", "label: [1, 2]",
            "listeners:\n  - 42\n", "lanes:\n  gray: [1]\n", "lanes:\n  ? [a]\n  : b\n", "listeners: &a [*a]",
            "\u{1}\u{2}\u{3}binary\u{0}", "a: *undefined",
        ]
    )
    func hostileInput(_ yaml: String) {
        #expect(!loadErrors(yaml).isEmpty)
    }

    @Test("deeply nested flow and block documents are refused before parsing")
    func deepNesting() {
        let flow = String(repeating: "[", count: 200_000)
        #expect(loadErrors(flow).map(\.code) == [.tooDeep])
        let block = (0..<500).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        #expect(loadErrors(block).map(\.code) == [.tooDeep])
        let compact = String(repeating: "- ", count: 5_000) + "x"
        #expect(loadErrors(compact).map(\.code) == [.tooDeep])
    }

    @Test("bytes that are not UTF-8 are refused")
    func notUTF8() throws {
        let path = "/tmp/shadowgate-config-test-\(UInt32.random(in: 0...UInt32.max)).yaml"
        let file = try #require(fopen(path, "w"))
        let bytes: [UInt8] = [0xFF, 0xFE, 0x00, 0x80, 0x41]
        fwrite(bytes, 1, bytes.count, file)
        fclose(file)
        defer { remove(path) }
        #expect(throws: ConfigErrors.self) { try ShadowgateConfiguration.load(path: path) }
    }

    @Test("an unreadable file is one unreadable_file error")
    func unreadable() {
        #expect {
            try ShadowgateConfiguration.load(path: "/nonexistent/shadowgate.yaml")
        } throws: { error in
            (error as? ConfigErrors)?.errors.map(\.code) == [.unreadableFile]
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
