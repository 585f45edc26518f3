import Foundation

/// A tiny PostgreSQL frontend in Python (subprocess) that sends hand-built protocol messages: extended-protocol
/// pipelines, prepared statements across lanes, and direct TLS — things psql 15 and libpq's simple API cannot do.
/// It logs in as a trust user, runs each step (a list of messages ending in Sync or a Query), reads until
/// ReadyForQuery and prints one JSON line per step: the message types received with error codes and texts.
enum PostgresRawClient {
    /// One client message: `["P", name, sql]`, `["B", portal, statement]`, `["E", portal]`, `["S"]`, `["Q", sql]`.
    typealias Message = [String]

    struct StepResult: Decodable {
        /// Backend message types in order, e.g. `["1", "2", "C", "E", "Z"]`.
        var types: [String]
        /// `"CODE: message"` of each ErrorResponse.
        var errors: [String]
        /// The transaction status of the final ReadyForQuery, or `closed` when the server closed the connection.
        var status: String
    }

    static let script = #"""
import json, socket, ssl, struct, sys
host, port, user, db, options, direct_tls, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] == "1", json.loads(sys.argv[7])
sock = socket.create_connection((host, port), timeout=20)
if direct_tls:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["postgresql"])
    sock = ctx.wrap_socket(sock)
    print(json.dumps({"alpn": sock.selected_alpn_protocol()}), flush=True)
def cstr(s): return s.encode() + b"\0"
def send(tag, body): sock.sendall(tag + struct.pack("!I", len(body) + 4) + body)
buf = b""
def recv():
    global buf
    while len(buf) < 5 or len(buf) < 1 + struct.unpack("!I", buf[1:5])[0]:
        chunk = sock.recv(65536)
        if not chunk: return None
        buf += chunk
    n = struct.unpack("!I", buf[1:5])[0]
    msg, buf = (buf[0:1], buf[5:1 + n]), buf[1 + n:]
    return msg
def until_ready():
    types, errors = [], []
    while True:
        msg = recv()
        if msg is None: return {"types": types, "errors": errors, "status": "closed"}
        t, body = msg
        types.append(t.decode())
        if t == b"E":
            fields = dict((f[0:1].decode(), f[1:].decode()) for f in body.split(b"\0") if f)
            errors.append(fields.get("C", "") + ": " + fields.get("M", ""))
        if t == b"Z": return {"types": types, "errors": errors, "status": body.decode()}
params = cstr("user") + cstr(user) + cstr("database") + cstr(db)
if options: params += cstr("options") + cstr(options)
for k, v in (json.loads(sys.argv[8]) if len(sys.argv) > 8 else []): params += cstr(k) + cstr(v)
body = struct.pack("!I", 196608) + params + b"\0"
sock.sendall(struct.pack("!I", len(body) + 4) + body)
print(json.dumps(until_ready()), flush=True)
for step in steps:
    for m in step:
        if m[0] == "P": send(b"P", cstr(m[1]) + cstr(m[2]) + struct.pack("!H", 0))
        elif m[0] == "B": send(b"B", cstr(m[1]) + cstr(m[2]) + struct.pack("!HHH", 0, 0, 0))
        elif m[0] == "E": send(b"E", cstr(m[1]) + struct.pack("!I", 0))
        elif m[0] == "S": send(b"S", b"")
        elif m[0] == "Q": send(b"Q", cstr(m[1]))
    result = until_ready()
    print(json.dumps(result), flush=True)
    if result["status"] == "closed": break
else:
    send(b"X", b"")
"""#

    /// Runs `steps` on one connection; the first result is the login's. `extraParameters` (`[name, value]` pairs)
    /// are appended to the StartupMessage after `options`.
    static func run(
        port: Int, user: String = "shadow_trust", database: String = "mse_demo", options: String = "",
        directTLS: Bool = false, extraParameters: [[String]] = [], steps: [[Message]]
    ) throws -> (alpn: String?, results: [StepResult]) {
        let stepsJSON = String(decoding: try JSONEncoder().encode(steps), as: UTF8.self)
        let extraJSON = String(decoding: try JSONEncoder().encode(extraParameters), as: UTF8.self)
        let output = try PostgresClientProcess.run(
            "python3",
            ["-c", script, "127.0.0.1", "\(port)", user, database, options, directTLS ? "1" : "0", stepsJSON, extraJSON])
        guard output.status == 0 else {
            throw PostgresTestError("raw client failed (\(output.status)): \(output.stderr)\n\(output.stdout)")
        }
        var alpn: String?
        var results: [StepResult] = []
        for line in output.stdout.split(separator: "\n") {
            let data = Data(line.utf8)
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["alpn"] != nil {
                alpn = object["alpn"] as? String
                continue
            }
            results.append(try JSONDecoder().decode(StepResult.self, from: data))
        }
        return (alpn, results)
    }
}
