import Testing

@testable import ShadowgateCLI

@Suite struct JSONLineParserTests {
    @Test("a flat object parses strings, numbers, booleans and null")
    func scalars() throws {
        let fields = try JSONLineParser.parseObject(#" { "a": "x", "b": -1.5e3, "c": true, "d": null, "e": 0 } "#)
        #expect(fields == ["a": .string("x"), "b": .number("-1.5e3"), "c": .bool(true), "d": .null, "e": .number("0")])
    }

    @Test("escapes decode, including surrogate pairs")
    func escapes() throws {
        let fields = try JSONLineParser.parseObject(#"{"s": "\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00"}"#)
        #expect(fields["s"] == .string("\"\\/\u{8}\u{C}\n\r\tAé😀"))
    }

    @Test(
        "malformed lines are errors, not crashes",
        arguments: [
            "", "{", "}", "[]", #"{"a"}"#, #"{"a": }"#, #"{"a": 01}"#, #"{"a": 1.}"#, #"{"a": "\ud83d"}"#,
            #"{"a": "\ude00"}"#, #"{"a": "\x"}"#, #"{"a": "\u12"}"#, #"{"a": {"b": 1}}"#, #"{"a": 1} x"#,
            #"{"a": 1, "a": 2}"#, "{\"a\": \"\u{1}\"}", #"{"a": tru}"#, #"{"a": 1,}"#,
        ]
    )
    func malformed(_ line: String) {
        #expect(throws: JSONLineError.self) { try JSONLineParser.parseObject(line) }
    }

    @Test("the encoder escapes quotes, backslashes and control characters and keeps other text")
    func encoder() throws {
        let line = JSONLineEncoder.line([("id", .number("1")), ("sql", .string("a\"b\\c\n\u{1}\u{2028}é"))])
        #expect(line == "{\"id\":1,\"sql\":\"a\\\"b\\\\c\\n\\u0001\\u2028é\"}\n")
        let back = try JSONLineParser.parseObject(String(line.dropLast()))
        #expect(back["sql"] == .string("a\"b\\c\n\u{1}\u{2028}é"))
    }
}
