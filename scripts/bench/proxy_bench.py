#!/usr/bin/env python3
"""Proxy throughput and latency benchmark: direct vs Shadowgate (base lane, rewriting lane) vs haproxy (mode tcp)
vs pgbouncer (session mode, PostgreSQL only). Targets are interleaved round by round in one run; medians reported as
ratios against direct and against the peer proxy. Not part of the test suite.

Usage: scripts/bench/proxy_bench.py --servers-env DIR/env.sh --shadowgate .build/release/shadowgate
           [--protocol mysql|postgres|both] [--rounds 3] [--seconds 5] [--clients 1,16]
           [--shadowgate-threads default,1] [--out FILE]

Besides throughput and latency it reports each proxy's own CPU time per transaction (user + system, from
/proc/PID/stat around each run): unlike throughput on a 2-core machine shared by client, proxy and server, it
hardly moves with the machine's load, so it compares the proxies' efficiency directly.
"""
import argparse, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def load_env(path):
    env = {}
    for line in open(path):
        m = re.match(r"export (\w+)='?([^']*)'?$", line.strip())
        if m: env[m.group(1)] = m.group(2)
    return env

def wait_port(port, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close(); return
        except OSError: time.sleep(0.1)
    raise SystemExit(f"port {port} did not open")

def run(cmd, env=None, check=True):
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout[-3000:]}")
    return r.stdout

def cpu_seconds(pid):
    """User + system CPU time of a process so far (0 when there is no process to measure)."""
    if not pid: return 0.0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def find_pid(name, needle):
    """The newest process called `name` whose command line contains `needle` (a daemon started through runuser)."""
    out = run(["pgrep", "-n", "-f", needle], check=False).split()
    for pid in out:
        if open(f"/proc/{pid}/comm").read().strip() == name: return int(pid)
    return None

class Proc:
    def __init__(self, cmd, **kw):
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
        self.pid = self.p.pid
    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try: self.p.wait(10)
            except subprocess.TimeoutExpired: self.p.kill(); self.p.wait()

def write_haproxy(tmp, listen, backend):
    cfg = os.path.join(tmp, f"haproxy-{listen}.cfg")
    open(cfg, "w").write(f"""global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen db
  bind 127.0.0.1:{listen}
  server s1 127.0.0.1:{backend}
""")
    return Proc(["haproxy", "-f", cfg, "-db"])

def thread_args(threads):
    """The event-loop option of one --shadowgate-threads variant, for Shadowgate and the bare relay alike."""
    return [] if threads == "default" else ["--threads", threads]

def variant_suffix(threads):
    """How a --shadowgate-threads variant shows in target names ('' for the default, '-1t' for one loop)."""
    return "" if threads == "default" else f"-{threads}t"

def write_shadowgate(tmp, sg, proto, listen, backend, suffix_tables, threads="default"):
    cfg = os.path.join(tmp, f"shadowgate-{proto}-{threads}.yaml")
    open(cfg, "w").write(f"""label:
  key: lane
listeners:
  - name: bench
    protocol: {proto}
    listen: 127.0.0.1:{listen}
    backend: 127.0.0.1:{backend}
lanes:
  gray:
    tables:
      suffix: _gray
    users: [gray_app]
    unmapped_writes: reject
""")
    return Proc([sg, "serve", "--config", cfg, "--log-level", "error"] + thread_args(threads))

def shadowgate_targets(args, tmp, proto, backend, users):
    """One Shadowgate per --shadowgate-threads variant, each with a base-lane and a rewriting-lane target."""
    procs, targets = [], {}
    for threads in args.shadowgate_threads:
        port = free_port()
        procs.append(write_shadowgate(tmp, args.shadowgate, proto, port, backend, True, threads))
        wait_port(port)
        suffix = variant_suffix(threads)
        targets[f"shadowgate-base{suffix}"] = (port, users["base"], procs[-1].pid)
        targets[f"shadowgate-gray{suffix}"] = (port, users["gray"], procs[-1].pid)
    return procs, targets

def sysbench(port, user, password, test, clients, seconds, ps_mode):
    out = run(["sysbench", test, "--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-port={port}",
               f"--mysql-user={user}", f"--mysql-password={password}", "--mysql-db=sbtest", "--tables=4",
               "--table-size=10000", f"--threads={clients}", f"--time={seconds}", f"--db-ps-mode={ps_mode}",
               "--report-interval=0", "--mysql-ssl=off", "run"])
    tps = float(re.search(r"transactions:\s+\d+\s+\(([\d.]+) per sec", out).group(1))
    count = int(re.search(r"transactions:\s+(\d+)", out).group(1))
    lat = float(re.search(r"avg:\s+([\d.]+)", out).group(1))  # ms
    return tps, lat, count

def pgbench(port, user, password, mode, clients, seconds, options=None):
    env = dict(os.environ, PGPASSWORD=password)
    if options: env["PGOPTIONS"] = options
    out = run(["pgbench", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-S", "-M", mode, "-c", str(clients),
               "-j", str(min(clients, 2)), "-T", str(seconds), "-n", "bench"], env=env)
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    count = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    lat = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    return tps, lat, count

def measured(pid, bench):
    """Runs `bench` (returning tps, latency, transactions) and adds the proxy's CPU µs per transaction."""
    before = cpu_seconds(pid)
    tps, lat, count = bench()
    return tps, lat, ((cpu_seconds(pid) - before) * 1e6 / count) if pid and count else None

def selected(args, workload):
    return not args.workloads or workload in args.workloads

def floor_targets(args, backend, users):
    """The bare SwiftNIO relay (Benchmarks/RelayFloor), once per --shadowgate-threads variant: the cost floor of
    any relay built on the library Shadowgate's data path uses, with none of the protocol work."""
    procs, targets = [], {}
    if not args.nio_floor: return procs, targets
    for threads in args.shadowgate_threads:
        port = free_port()
        procs.append(Proc([args.nio_floor, "--listen", f"127.0.0.1:{port}", "--backend", f"127.0.0.1:{backend}"]
                          + thread_args(threads)))
        wait_port(port)
        targets[f"nio-relay{variant_suffix(threads)}"] = (port, users, procs[-1].pid)
    return procs, targets

def bench_mysql(args, env, tmp, results):
    port = env["SHADOWGATE_MYSQL_PORT"]; sock = env["SHADOWGATE_MYSQL_SOCKET"]
    root = ["mariadb", "--no-defaults", "-uroot", f"--socket={sock}"]
    run(root + ["-e", "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"])
    run(["sysbench", "oltp_read_write", "--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-port={port}",
         "--mysql-user=shadow", "--mysql-password=shadow-pass", "--mysql-db=sbtest", "--tables=4",
         "--table-size=10000", "--mysql-ssl=off", "prepare"])
    for i in range(1, 5):
        run(root + ["sbtest", "-e", f"CREATE TABLE sbtest{i}_gray LIKE sbtest{i}; INSERT INTO sbtest{i}_gray SELECT * FROM sbtest{i}"])
    hp = free_port()
    procs = [write_haproxy(tmp, hp, port)]
    try:
        wait_port(hp)
        sg_procs, sg_targets = shadowgate_targets(
            args, tmp, "mysql", port, {"base": ("shadow", "shadow-pass"), "gray": ("gray_app", "gray-pass")})
        procs += sg_procs
        floor_procs, floor = floor_targets(args, port, ("shadow", "shadow-pass"))
        procs += floor_procs
        targets = {"direct": (port, ("shadow", "shadow-pass"), None), "haproxy": (hp, ("shadow", "shadow-pass"), procs[0].pid)}
        targets.update(floor)
        targets.update(sg_targets)
        for rnd in range(args.rounds):
            for test in ["oltp_point_select", "oltp_read_write"]:
                for ps in ["auto", "disable"]:
                    if not selected(args, f"{test} ps={ps}"): continue
                    for c in args.clients:
                        for name, (p, (u, pw), pid) in targets.items():
                            tps, lat, cpu = measured(pid, lambda: sysbench(p, u, pw, test, c, args.seconds, ps))
                            results.setdefault(("mysql", f"{test} ps={ps}", c, name), []).append((tps, lat, cpu))
                            print(f"round {rnd+1} mysql {test} ps={ps} c={c} {name}: {tps:.0f} tps {lat:.3f} ms"
                                  + (f" {cpu:.1f} µs CPU/tx" if cpu else ""), flush=True)
    finally:
        for p in procs: p.stop()

def bench_postgres(args, env, tmp, results):
    port = env["SHADOWGATE_PG_PORT"]; sockdir = env["SHADOWGATE_PG_SOCKET_DIR"]
    psql = ["psql", "-X", "-q", "-h", sockdir, "-p", port, "-U", "shadow"]
    run(psql + ["-d", "postgres", "-c", "DROP DATABASE IF EXISTS bench", "-c", "CREATE DATABASE bench"])
    run(["pgbench", "-i", "-s", "10", "-q", "-h", sockdir, "-p", port, "-U", "shadow", "bench"])
    for t in ["accounts", "branches", "tellers", "history"]:
        run(psql + ["-d", "bench", "-c", f"CREATE TABLE pgbench_{t}_gray (LIKE pgbench_{t} INCLUDING ALL); INSERT INTO pgbench_{t}_gray SELECT * FROM pgbench_{t}"])
    hp, bp = free_port(), free_port()
    ini = os.path.join(tmp, "pgbouncer.ini"); users = os.path.join(tmp, "userlist.txt")
    open(users, "w").write('"shadow" "shadow-pass"\n"gray_app" "gray-pass"\n')
    open(ini, "w").write(f"""[databases]
bench = host=127.0.0.1 port={port} dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {bp}
auth_type = scram-sha-256
auth_file = {users}
pool_mode = session
max_client_conn = 200
default_pool_size = 40
unix_socket_dir =
""")
    os.chmod(tmp, 0o755)
    procs = [write_haproxy(tmp, hp, port), Proc(["runuser", "-u", "postgres", "--", "pgbouncer", ini])]
    try:
        wait_port(hp); wait_port(bp)
        sg_procs, sg_targets = shadowgate_targets(
            args, tmp, "postgres", port, {"base": None, "gray": "-c shadow.lane=gray"})
        procs += sg_procs
        floor_procs, floor = floor_targets(args, port, None)
        procs += floor_procs
        targets = {"direct": (port, None, None), "pgbouncer": (bp, None, find_pid("pgbouncer", ini)),
                   "haproxy": (hp, None, procs[0].pid)}
        targets.update(floor)
        targets.update(sg_targets)
        for rnd in range(args.rounds):
            for mode in ["simple", "extended", "prepared"]:
                if not selected(args, mode): continue
                for c in args.clients:
                    for name, (p, opts, pid) in targets.items():
                        tps, lat, cpu = measured(pid, lambda: pgbench(p, "shadow", "shadow-pass", mode, c, args.seconds, opts))
                        results.setdefault(("postgres", f"pgbench -S -M {mode}", c, name), []).append((tps, lat, cpu))
                        print(f"round {rnd+1} postgres -M {mode} c={c} {name}: {tps:.0f} tps {lat:.3f} ms"
                              + (f" {cpu:.1f} µs CPU/tx" if cpu else ""), flush=True)
    finally:
        for p in procs: p.stop()

def report(results, out):
    lines = ["| protocol | workload | clients | target | median tps | × direct | × peer | avg latency ms | added vs direct µs | proxy CPU µs/tx |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({k[:3] for k in results})
    for proto, work, c in keys:
        peer = "pgbouncer" if proto == "postgres" else "haproxy"
        med = {}
        for (p, w, cc, name), v in results.items():
            if (p, w, cc) != (proto, work, c): continue
            cpus = [u for _, _, u in v if u is not None]
            med[name] = (statistics.median(t for t, _, _ in v), statistics.median(l for _, l, _ in v),
                         statistics.median(cpus) if cpus else None)
        d_tps, d_lat, _ = med["direct"]
        for name, (tps, lat, cpu) in med.items():
            lines.append(f"| {proto} | {work} | {c} | {name} | {tps:.0f} | {tps/d_tps:.3f} | "
                         f"{tps/med[peer][0]:.3f} | {lat:.3f} | {(lat-d_lat)*1000:.0f} | "
                         + (f"{cpu:.1f} |" if cpu is not None else "— |"))
    text = "\n".join(lines) + "\n"
    print(text)
    if out: open(out, "w").write(text)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers-env", required=True)
    ap.add_argument("--shadowgate", required=True)
    ap.add_argument("--protocol", default="both")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--clients", default="1,16")
    ap.add_argument("--shadowgate-threads", default="default",
                    help="comma-separated event-loop thread counts to run Shadowgate with ('default' = one per core)")
    ap.add_argument("--nio-floor", help="path of the relay-floor binary (Benchmarks/RelayFloor): adds the bare "
                    "SwiftNIO relay as a target, once per --shadowgate-threads variant")
    ap.add_argument("--workloads", help="comma-separated subset to run, e.g. 'oltp_point_select ps=auto,simple' "
                    "(MySQL workloads as in the report, PostgreSQL by -M mode); default: all")
    ap.add_argument("--out")
    args = ap.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    args.shadowgate_threads = args.shadowgate_threads.split(",")
    args.workloads = set(args.workloads.split(",")) if args.workloads else None
    env = load_env(args.servers_env)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.protocol in ("mysql", "both"): bench_mysql(args, env, tmp, results)
        if args.protocol in ("postgres", "both"): bench_postgres(args, env, tmp, results)
    report(results, args.out)

if __name__ == "__main__":
    main()
