#!/usr/bin/env python3
"""Memory of the wire proxies, per protocol, against a `shadowgate serve` subprocess (not part of the test suite):

1. Idle connections: RSS of the proxy before and after N clients (default 1,000) connect through it, authenticate
   (PyMySQL / psycopg2, password users), run one statement and sit idle; (after - before) / N once RSS settles.
2. Slow reader: one client reads a large result (default 1 GiB) at a limited rate (16 KiB recv() calls);
   the proxy's RSS is sampled every --sample seconds; the peak growth over the RSS before the statement is reported.

Usage: scripts/bench/memory_bench.py --servers-env DIR/env.sh --shadowgate .build/release/shadowgate
           [--protocol mysql|postgres|both] [--clients 1000] [--result-mib 1024] [--read-mib-per-s 32]
           [--row-bytes 1000] [--sample 1.0] [--idle-result-kib K] [--skip idle|reader] [--out FILE]
--idle-result-kib makes each idle client read a result of about K KiB first (receive buffers kept after a result).
Exits non-zero when a figure misses its target (64 KiB per idle connection, 16 MiB growth for the slow reader).
"""
import argparse, os, signal, socket, struct, subprocess, sys, tempfile, threading, time

import psycopg2
import pymysql

sys.dont_write_bytecode = True  # importing the sibling script must not leave __pycache__ in the tree
from proxy_bench import free_port, load_env  # noqa: E402

IDLE_TARGET_KIB = 64
READER_TARGET_MIB = 16


def rss_bytes(pid):
    """Resident set size of `pid` (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise SystemExit(f"process {pid} has no VmRSS (gone?)")


def settle(pid, quiet_bytes=64 << 10, quiet_seconds=3.0, timeout=30.0):
    """RSS once it moved less than `quiet_bytes` over `quiet_seconds` (or at `timeout`)."""
    start = time.time()
    window = [(time.time(), rss_bytes(pid))]
    while time.time() - start < timeout:
        time.sleep(0.25)
        now = time.time()
        window.append((now, rss_bytes(pid)))
        window = [(t, r) for t, r in window if now - t <= quiet_seconds]
        if now - start >= quiet_seconds and max(r for _, r in window) - min(r for _, r in window) < quiet_bytes:
            break
    return window[-1][1]


class Proxy:
    """`shadowgate serve` with one listener in front of the base server."""

    def __init__(self, binary, proto, backend_port, tmp):
        self.port = free_port()
        cfg = os.path.join(tmp, f"memory-{proto}.yaml")
        with open(cfg, "w") as f:
            f.write(f"""label:
  key: lane
listeners:
  - name: memory
    protocol: {proto}
    listen: 127.0.0.1:{self.port}
    backend: 127.0.0.1:{backend_port}
lanes:
  gray:
    tables:
      suffix: _gray
    users: [gray_app]
""")
        self.log = open(os.path.join(tmp, f"memory-{proto}.log"), "w")
        self.p = subprocess.Popen([binary, "serve", "--config", cfg, "--log-level", "warning"],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 20
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close(); return
            except OSError:
                if self.p.poll() is not None: break
                time.sleep(0.1)
        raise SystemExit(f"shadowgate serve did not start (see {self.log.name})")

    @property
    def pid(self):
        return self.p.pid

    def descriptors(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try: self.p.wait(20)
            except subprocess.TimeoutExpired: self.p.kill(); self.p.wait()
        self.log.close()


# --- clients ---------------------------------------------------------------------------------------------------

def mysql_connect(env, port, result_kib=0):
    """Logs in through the proxy and runs `SELECT 1`, or a result of about `result_kib` KiB."""
    conn = pymysql.connect(host="127.0.0.1", port=port, user=env["SHADOWGATE_MYSQL_USER"],
                           password=env["SHADOWGATE_MYSQL_PASSWORD"], database="mse_demo", connect_timeout=30)
    with conn.cursor() as cur:
        cur.execute(f"SELECT repeat('x', 1000) FROM mse_demo.seq_1_to_{result_kib}" if result_kib else "SELECT 1")
        cur.fetchall()
    return conn


def pg_connect(env, port, result_kib=0):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user=env["SHADOWGATE_PG_USER"],
                            password=env["SHADOWGATE_PG_PASSWORD"], dbname="mse_demo", sslmode="disable",
                            connect_timeout=30)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"SELECT repeat('x', 1000) FROM generate_series(1, {result_kib})" if result_kib else "SELECT 1")
        cur.fetchall()
    return conn


def server_sessions(env, proto):
    """Client sessions the base server holds (proves the idle clients really reached it)."""
    if proto == "mysql":
        conn = pymysql.connect(unix_socket=env["SHADOWGATE_MYSQL_SOCKET"], user="root")
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s",
                        (env["SHADOWGATE_MYSQL_USER"],))
            n = cur.fetchone()[0]
    else:
        conn = psycopg2.connect(host=env["SHADOWGATE_PG_SOCKET_DIR"], port=env["SHADOWGATE_PG_PORT"],
                                user=env["SHADOWGATE_PG_USER"], dbname="postgres")
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
            n = cur.fetchone()[0]
    conn.close()
    return n


def idle_connections(env, proto, proxy, clients, result_kib=0):
    connect = mysql_connect if proto == "mysql" else pg_connect
    # Warm-up: first-connection allocations (TLS-free code paths, metrics families, lazily built tables).
    for _ in range(20): connect(env, proxy.port).close()
    before = settle(proxy.pid)
    fds_before = proxy.descriptors()
    started = time.time()
    conns = [connect(env, proxy.port, result_kib) for _ in range(clients)]
    opened_s = time.time() - started
    after = settle(proxy.pid)
    sessions = server_sessions(env, proto)
    fds_after = proxy.descriptors()
    for c in conns: c.close()
    closed = settle(proxy.pid)
    per_conn = (after - before) / clients
    return {
        "clients": clients, "open_seconds": opened_s, "rss_before": before, "rss_after": after, "rss_closed": closed,
        "per_connection": per_conn, "server_sessions": sessions, "fds_before": fds_before, "fds_after": fds_after,
    }


def raw_socket(conn, proto, rcvbuf):
    """The client's socket after the driver logged in, with a small receive buffer."""
    if proto == "mysql":
        sock = conn._sock
    else:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    if rcvbuf: sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(60)
    return sock


class ResultEnd(Exception):
    pass


def mysql_query_packet(sql):
    payload = b"\x03" + sql.encode()
    return struct.pack("<I", len(payload))[:3] + b"\x00" + payload


def mysql_scanner():
    """Walks the MySQL frames of one single-column text result: column count, column definition, an EOF unless
    CLIENT_DEPRECATE_EOF was negotiated, rows, then the EOF/OK that ends it (raises ResultEnd)."""
    state = {"buf": bytearray(), "rows": 0, "header_packets": 2}

    def feed(data):
        buf = state["buf"]; buf += data; pos = 0
        while len(buf) - pos >= 4:
            length = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
            if len(buf) - pos - 4 < length: break
            first = buf[pos + 4] if length else None
            pos += 4 + length
            if first == 0xFF: raise SystemExit("server error in the middle of the result")
            if state["header_packets"] > 0:
                state["header_packets"] -= 1
                continue
            if first == 0xFE and length < 16:
                if state["rows"] > 0: raise ResultEnd()
                continue  # the EOF after the column definitions
            state["rows"] += 1
        del buf[:pos]
    return feed, state


def pg_scanner():
    state = {"buf": bytearray(), "rows": 0}

    def feed(data):
        buf = state["buf"]; buf += data; pos = 0
        while len(buf) - pos >= 5:
            kind = buf[pos]; length = int.from_bytes(buf[pos + 1:pos + 5], "big")
            if len(buf) - pos - 1 < length: break
            pos += 1 + length
            if kind == 0x44: state["rows"] += 1          # DataRow
            elif kind == 0x45: raise SystemExit("server error in the middle of the result")
            elif kind == 0x5A: raise ResultEnd()        # ReadyForQuery
        del buf[:pos]
    return feed, state


def slow_reader(env, proto, proxy, result_mib, rate_mib, row_bytes, sample, rcvbuf=0, chunk=16 << 10):
    rows = (result_mib << 20) // (row_bytes + 8) + 1
    if proto == "mysql":
        conn = mysql_connect(env, proxy.port)
        query = mysql_query_packet(f"SELECT repeat('x', {row_bytes}) FROM mse_demo.seq_1_to_{rows}")
        feed, state = mysql_scanner()
    else:
        conn = pg_connect(env, proxy.port)
        sql = f"SELECT repeat('x', {row_bytes}) FROM generate_series(1, {rows})".encode() + b"\x00"
        query = b"Q" + struct.pack(">I", len(sql) + 4) + sql
        feed, state = pg_scanner()
    sock = raw_socket(conn, proto, rcvbuf)
    before = settle(proxy.pid)
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            samples.append((time.time(), rss_bytes(proxy.pid)))
            stop.wait(sample)

    thread = threading.Thread(target=sampler, daemon=True); thread.start()
    started = time.time()
    sock.sendall(query)
    received = 0
    per_chunk = chunk / (rate_mib * (1 << 20))   # seconds per chunk at the target rate
    next_due = time.time()
    try:
        while True:
            data = sock.recv(chunk)
            if not data: raise SystemExit("proxy closed the slow reader's connection")
            received += len(data)
            feed(data)
            next_due += per_chunk
            delay = next_due - time.time()
            if delay > 0: time.sleep(delay)
    except ResultEnd:
        pass
    elapsed = time.time() - started
    stop.set(); thread.join()
    samples.append((time.time(), rss_bytes(proxy.pid)))
    sock.close(); conn.close()
    if state["rows"] != rows:
        raise SystemExit(f"slow reader got {state['rows']} rows, expected {rows}")
    peak = max(r for _, r in samples)
    after_close = settle(proxy.pid)
    return {
        "rows": rows, "received": received, "seconds": elapsed, "rss_before": before, "rss_peak": peak,
        "growth": peak - before, "rss_after_close": after_close, "samples": len(samples),
        "rate": received / elapsed,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers-env", required=True)
    ap.add_argument("--shadowgate", required=True)
    ap.add_argument("--protocol", default="both", choices=["mysql", "postgres", "both"])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--result-mib", type=int, default=1024)
    ap.add_argument("--read-mib-per-s", type=float, default=32)
    ap.add_argument("--row-bytes", type=int, default=1000)
    ap.add_argument("--sample", type=float, default=1.0)
    ap.add_argument("--idle-result-kib", type=int, default=0,
                    help="each idle client first reads a result of about this many KiB (default: SELECT 1)")
    ap.add_argument("--skip", default="", help="idle or reader: leave that measurement out")
    ap.add_argument("--out")
    args = ap.parse_args()
    env = load_env(args.servers_env)
    protos = ["mysql", "postgres"] if args.protocol == "both" else [args.protocol]
    lines, missed = [], []
    with tempfile.TemporaryDirectory(prefix="shadowgate-memory.") as tmp:
        for proto in protos:
            backend = int(env["SHADOWGATE_MYSQL_PORT" if proto == "mysql" else "SHADOWGATE_PG_PORT"])
            if "idle" not in args.skip:
                proxy = Proxy(args.shadowgate, proto, backend, tmp)
                try:
                    r = idle_connections(env, proto, proxy, args.clients, args.idle_result_kib)
                finally:
                    proxy.stop()
                kib = r["per_connection"] / 1024
                what = f"after a {args.idle_result_kib} KiB result" if args.idle_result_kib else "after SELECT 1"
                line = (f"{proto} idle ({what}): {r['clients']} clients opened in {r['open_seconds']:.1f} s, server sessions "
                        f"{r['server_sessions']}, fds {r['fds_before']} -> {r['fds_after']}; RSS "
                        f"{r['rss_before'] / 2**20:.1f} MiB -> {r['rss_after'] / 2**20:.1f} MiB "
                        f"({r['rss_closed'] / 2**20:.1f} MiB after closing them): {kib:.1f} KiB per connection "
                        f"(target <= {IDLE_TARGET_KIB} KiB)")
                print(line, flush=True); lines.append(line)
                if r["server_sessions"] < r["clients"]:
                    missed.append(f"{proto}: only {r['server_sessions']} server sessions for {r['clients']} clients")
                if kib > IDLE_TARGET_KIB: missed.append(f"{proto} idle: {kib:.1f} KiB per connection")
            if "reader" not in args.skip:
                proxy = Proxy(args.shadowgate, proto, backend, tmp)
                try:
                    r = slow_reader(env, proto, proxy, args.result_mib, args.read_mib_per_s, args.row_bytes, args.sample)
                finally:
                    proxy.stop()
                mib = r["growth"] / 2**20
                line = (f"{proto} slow reader: {r['rows']} rows, {r['received'] / 2**20:.0f} MiB in {r['seconds']:.0f} s "
                        f"({r['rate'] / 2**20:.1f} MiB/s); RSS {r['rss_before'] / 2**20:.1f} MiB, peak "
                        f"{r['rss_peak'] / 2**20:.1f} MiB over {r['samples']} samples: +{mib:.1f} MiB "
                        f"(target <= {READER_TARGET_MIB} MiB); {r['rss_after_close'] / 2**20:.1f} MiB after close")
                print(line, flush=True); lines.append(line)
                if mib > READER_TARGET_MIB: missed.append(f"{proto} slow reader: +{mib:.1f} MiB")
    if args.out:
        with open(args.out, "w") as f: f.write("\n".join(lines) + "\n")
    if missed:
        print("targets missed: " + "; ".join(missed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
