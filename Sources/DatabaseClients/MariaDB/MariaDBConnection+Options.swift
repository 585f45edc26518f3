internal import CMariaDB

extension MariaDBConnection {
    /// Sets libmariadb options (timeouts, TLS, character set, connection attributes) before `mysql_real_connect`.
    static func applyOptions(
        _ configuration: Configuration, to handle: UnsafeMutablePointer<MYSQL>, context: String
    ) throws {
        func check(_ rc: Int32, _ what: String) throws {
            if rc != 0 {
                throw DatabaseClientError(code: .invalidArgument, message: "libmariadb rejected option \(what)",
                                          context: context)
            }
        }
        func setTimeout(_ option: mysql_option, _ seconds: UInt32?, _ what: String) throws {
            guard var value = seconds else { return }
            try check(mysql_options(handle, option, &value), what)
        }
        try setTimeout(MYSQL_OPT_CONNECT_TIMEOUT, configuration.timeouts.connect, "connect timeout")
        try setTimeout(MYSQL_OPT_READ_TIMEOUT, configuration.timeouts.read, "read timeout")
        try setTimeout(MYSQL_OPT_WRITE_TIMEOUT, configuration.timeouts.write, "write timeout")
        try check(mysql_options(handle, MYSQL_SET_CHARSET_NAME, configuration.characterSet), "character set")
        if configuration.unixSocket != nil {
            var protocolType = UInt32(MYSQL_PROTOCOL_SOCKET.rawValue)
            try check(mysql_options(handle, MYSQL_OPT_PROTOCOL, &protocolType), "protocol=socket")
        } else {
            // Without this, host "localhost" silently means the default Unix socket rather than TCP.
            var protocolType = UInt32(MYSQL_PROTOCOL_TCP.rawValue)
            try check(mysql_options(handle, MYSQL_OPT_PROTOCOL, &protocolType), "protocol=tcp")
        }
        if case .required(let caPath) = configuration.tls {
            var enforce: my_bool = 1
            try check(mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &enforce), "TLS enforce")
            var verify: my_bool = caPath == nil ? 0 : 1
            try check(mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify), "TLS verify")
            if let caPath { try check(mysql_options(handle, MYSQL_OPT_SSL_CA, caPath), "TLS CA '\(caPath)'") }
        }
        if configuration.localInfile {
            var enable: UInt32 = 1
            try check(mysql_options(handle, MYSQL_OPT_LOCAL_INFILE, &enable), "local infile")
        }
        for (key, value) in configuration.connectionAttributes.sorted(by: { $0.key < $1.key }) {
            try check(mysql_options4(handle, MYSQL_OPT_CONNECT_ATTR_ADD, key, value),
                      "connection attribute '\(key)'")
        }
    }
}
