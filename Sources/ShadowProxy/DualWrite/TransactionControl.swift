import ShadowSQL

/// What a transaction-control statement does, read from its leading keywords: the proxy turns a successful one
/// into a ``TransactionCaptureStateMachine`` event.
public enum TransactionControl: Sendable, Hashable {
    case begin
    case commit
    case rollback
    case savepoint(String)
    case rollbackToSavepoint(String)
    case releaseSavepoint(String)

    /// Parses `BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK [WORK|TRANSACTION] [TO [SAVEPOINT] x]`,
    /// `ABORT`, `SAVEPOINT x`, `RELEASE [SAVEPOINT] x`; nil for anything else (including `XA`, which dual-write does
    /// not mirror, and `COMMIT AND CHAIN`, handled as a commit followed by a begin by the server's status flags).
    public static func parse(_ sql: String, dialect: SQLDialect) -> TransactionControl? {
        parse(StatementWords(sql, dialect: dialect))
    }

    /// `parse` over words already read from the statement.
    static func parse(_ statementWords: StatementWords) -> TransactionControl? {
        let words = statementWords.words
        guard let first = words.first, first.isBareWord else { return nil }
        func name(at index: Int) -> String? {
            guard index < words.count else { return nil }
            let word = words[index]
            guard !word.isBareWord else { return word.text }
            return String(word.text.dropFirst().dropLast())
        }
        func word(_ index: Int) -> String? { index < words.count && words[index].isBareWord ? words[index].text : nil }
        switch first.text {
        case "begin":
            // MySQL `BEGIN NOT ATOMIC` opens a compound statement, not a transaction.
            return word(1) == "not" ? nil : .begin
        case "start":
            return word(1) == "transaction" ? .begin : nil
        case "commit", "end":
            return .commit
        case "abort":
            return .rollback
        case "rollback":
            var index = 1
            if word(index) == "work" || word(index) == "transaction" { index += 1 }
            guard word(index) == "to" else { return .rollback }
            index += 1
            if word(index) == "savepoint" { index += 1 }
            return name(at: index).map { .rollbackToSavepoint($0) }
        case "savepoint":
            return name(at: 1).map { .savepoint($0) }
        case "release":
            return name(at: word(1) == "savepoint" ? 2 : 1).map { .releaseSavepoint($0) }
        default:
            return nil
        }
    }
}
