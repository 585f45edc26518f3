/// A scalar JSON value of the flat objects exchanged by `rewrite --jsonl`.
enum JSONScalar: Equatable {
    case string(String)
    /// The number's text as written, echoed back unchanged (ids may exceed Double precision).
    case number(String)
    case bool(Bool)
    case null
}

/// Why a line is not a flat JSON object.
struct JSONLineError: Error, Equatable {
    var message: String
}

/// Parses one line holding a flat JSON object (`{"id": 1, "sql": "…"}`): string, number, boolean and null values,
/// all escapes including surrogate pairs. Nested objects and arrays are refused. Hand-written because the line
/// shape is tiny and Foundation's JSONSerialization per line is slow.
struct JSONLineParser {
    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    static func parseObject(_ line: String) throws(JSONLineError) -> [String: JSONScalar] {
        var parser = JSONLineParser(Array(line.utf8))
        return try parser.object()
    }

    private mutating func object() throws(JSONLineError) -> [String: JSONScalar] {
        skipSpace()
        try expect(UInt8(ascii: "{"))
        var fields: [String: JSONScalar] = [:]
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                let value = try scalar()
                if fields[key] != nil { throw fail("duplicate key \"\(key)\"") }
                fields[key] = value
                skipSpace()
                guard let next = peek() else { throw fail("unterminated object") }
                index += 1
                if next == UInt8(ascii: "}") { break }
                if next != UInt8(ascii: ",") { throw fail("expected ',' or '}'", at: index - 1) }
            }
        }
        skipSpace()
        if index != bytes.count { throw fail("unexpected text after the object") }
        return fields
    }

    private mutating func scalar() throws(JSONLineError) -> JSONScalar {
        guard let byte = peek() else { throw fail("missing value") }
        switch byte {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "{"), UInt8(ascii: "["): throw fail("nested objects and arrays are not supported")
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: String) throws(JSONLineError) {
        for expected in word.utf8 {
            guard peek() == expected else { throw fail("invalid literal") }
            index += 1
        }
    }

    /// RFC 8259 number grammar: -? int frac? exp?
    private mutating func number() throws(JSONLineError) -> String {
        let start = index
        func digits(_ parser: inout JSONLineParser) -> Int {
            var count = 0
            while let byte = parser.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                parser.index += 1
                count += 1
            }
            return count
        }
        if peek() == UInt8(ascii: "-") { index += 1 }
        if peek() == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            throw fail("invalid number", at: start)
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            if digits(&self) == 0 { throw fail("invalid number", at: start) }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            if digits(&self) == 0 { throw fail("invalid number", at: start) }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func string() throws(JSONLineError) -> String {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw fail("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = peek() else { throw fail("unterminated escape") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                default: throw fail("invalid escape", at: index - 2)
                }
            case 0x00..<0x20:
                throw fail("control character in string", at: index - 1)
            default:
                out.append(byte)
            }
        }
    }

    /// `\uXXXX`, with a following `\uXXXX` low surrogate when the first is a high surrogate.
    private mutating func unicodeEscape() throws(JSONLineError) -> [UInt8] {
        let start = index - 2
        var value = try hex4()
        if (0xD800...0xDBFF).contains(value) {
            guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate", at: start)
            }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate", at: start) }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw fail("unpaired surrogate", at: start)
        }
        guard let scalar = Unicode.Scalar(value) else { throw fail("invalid code point", at: start) }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws(JSONLineError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(JSONLineError) {
        guard peek() == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    private func fail(_ message: String, at position: Int? = nil) -> JSONLineError {
        JSONLineError(message: "\(message) at column \((position ?? index) + 1)")
    }
}

/// Writes flat JSON objects, one per line, escaping exactly what JSON requires (quotes, backslashes, control
/// characters); other text, including non-ASCII, is written as UTF-8.
enum JSONLineEncoder {
    static func line(_ fields: [(String, JSONScalar)]) -> String {
        var out = "{"
        for (offset, (key, value)) in fields.enumerated() {
            if offset > 0 { out += "," }
            appendString(key, to: &out)
            out += ":"
            switch value {
            case .string(let text): appendString(text, to: &out)
            case .number(let text): out += text
            case .bool(let flag): out += flag ? "true" : "false"
            case .null: out += "null"
            }
        }
        out += "}\n"
        return out
    }

    static func appendString(_ text: String, to out: inout String) {
        let hex: [Character] = Array("0123456789abcdef")
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}", "\u{2028}", "\u{2029}":
                let value = Int(scalar.value)
                out += "\\u"
                for shift in [12, 8, 4, 0] { out.append(hex[(value >> shift) & 0xF]) }
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
