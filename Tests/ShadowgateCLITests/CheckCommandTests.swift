import Testing

@Suite struct CheckCommandTests {
    @Test("check on the demo configuration exits 0 and prints each lane's routing per listener")
    func demo() async {
        let run = await runShadowgate(["check", "--config", demoConfig])
        #expect(run.exitCode == 0)
        #expect(run.stderr.isEmpty)
        #expect(run.stdout.contains("listener demo-mysql (mysql) 127.0.0.1:13307 -> 127.0.0.1:13306"))
        #expect(run.stdout.contains("listener demo-pg (postgres) 127.0.0.1:16432 -> 127.0.0.1:15432"))
        #expect(run.stdout.contains("tables.map: mse_demo_table -> mse_demo_table_gray"))
        #expect(run.stdout.contains("tables.suffix: T -> T_shadow"))
        #expect(run.stdout.contains("unmapped_writes: reject"))
    }

    @Test("check on an invalid configuration prints every error to stderr and exits 1")
    func invalid() async {
        let path = repositoryRoot + "/fixtures/configs/invalid/typos.yaml"
        let run = await runShadowgate(["check", "--config", path])
        #expect(run.exitCode == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("\(path):3:15: error: listeners[0].protocol: expected one of mysql, postgres, found 'mysq'"))
        #expect(run.stderr.contains("did you mean 'handshake_timeout'?"))
        #expect(run.stderr.contains("3 errors in \(path)"))
    }

    @Test("check on a file that cannot be read exits 2")
    func unreadable() async {
        let run = await runShadowgate(["check", "--config", "/nonexistent/shadowgate.yaml"])
        #expect(run.exitCode == 2)
        #expect(run.stderr.contains("cannot read '/nonexistent/shadowgate.yaml'"))
    }

    @Test("check without --config is a usage error")
    func usage() async {
        let run = await runShadowgate(["check"])
        #expect(run.exitCode == 64)
        #expect(run.stderr.contains("--config"))
    }
}
