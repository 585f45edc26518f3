/// Estimates, without parsing, how deeply a YAML text nests, so hostile input (`[[[[…` a million deep) is refused
/// before the recursive composer could exhaust the stack.
///
/// The estimate is an upper bound in practice: flow brackets outside quotes and comments, plus twice the number
/// of enclosing indentation levels (a mapping and a sequence may share one indentation), plus the block
/// indicators (`- `, `? `, `: `) on the line itself. Real configurations stay far below the limit.
enum NestingDepthScanner {
    static let limit = 64

    /// The deepest estimated nesting of `text`.
    static func estimatedDepth(of text: some Collection<UInt8>) -> Int {
        var deepest = 0
        var flowDepth = 0
        var indents: [Int] = []
        var lineIndent = 0
        var atLineStart = true
        var indicatorsOnLine = 0
        var quote: UInt8? = nil
        var inComment = false
        var previous: UInt8 = 0x0A

        func finishLine() {
            deepest = max(deepest, flowDepth + 2 * indents.count + indicatorsOnLine)
        }

        var iterator = text.makeIterator()
        var pending: UInt8? = iterator.next()
        while let byte = pending {
            let next = iterator.next()
            defer {
                previous = byte
                pending = next
            }
            if byte == 0x0A {
                finishLine()
                atLineStart = true
                lineIndent = 0
                indicatorsOnLine = 0
                inComment = false
                continue
            }
            if inComment { continue }
            if atLineStart {
                if byte == 0x20 {
                    lineIndent += 1
                    continue
                }
                atLineStart = false
                if byte != 0x23 && byte != 0x0D {  // comment-only and blank lines do not open levels
                    while let last = indents.last, last >= lineIndent { indents.removeLast() }
                    indents.append(lineIndent)
                }
            }
            if let open = quote {
                if byte == open && !(open == 0x22 && previous == 0x5C) { quote = nil }
                continue
            }
            let followedBySpace = next == nil || next == 0x20 || next == 0x0A || next == 0x0D
            switch byte {
            case 0x22, 0x27:
                if previous == 0x20 || previous == 0x0A || "[{,:-".utf8.contains(previous) { quote = byte }
            case 0x23 where previous == 0x20 || previous == 0x0A:
                inComment = true
            case 0x5B, 0x7B:
                flowDepth += 1
                deepest = max(deepest, flowDepth + 2 * indents.count + indicatorsOnLine)
            case 0x5D, 0x7D:
                flowDepth = max(0, flowDepth - 1)
            case 0x2D, 0x3F, 0x3A:
                if followedBySpace { indicatorsOnLine += 1 }
            default:
                break
            }
        }
        finishLine()
        return deepest
    }
}
