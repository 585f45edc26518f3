// Helpers compiled into every fuzz target (scripts/fuzz/run.sh adds this directory to each build).

/// The bytes as readable text for failure messages: printable ASCII as is, anything else as `\xNN`.
func escaped<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var out = ""
    for b in bytes {
        switch b {
        case 0x5C: out += "\\\\"
        case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
        default: out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return out
}

/// Stops the run with `message` when an invariant does not hold; libFuzzer records the input as a crash.
@inline(never)
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(message()) }
}
