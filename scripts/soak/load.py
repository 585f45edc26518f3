#!/usr/bin/env python3
"""Soak load for scripts/soak.sh: N threads per protocol through the proxy, mixed lanes (base, gray by hint,
gray by connection label, session switch), reads and writes on the seed tables. With --direct-mysql-port and
--direct-pg-port, one more thread per protocol runs the same base-lane mix straight to the servers as a reference:
its p99 moves with the machine's load (other processes, the GIL of this very script), not with the proxy, so the
ratio of the two tells whether the proxy itself got slower. Every minute it prints one JSON line {"minute",
"statements", "errors", "p99_ms", "direct_p99_ms"}; it stops after --minutes and exits non-zero on any error."""
import argparse, json, random, sys, threading, time

import psycopg2
import pymysql

parser = argparse.ArgumentParser()
parser.add_argument("--mysql-port", type=int, required=True)
parser.add_argument("--pg-port", type=int, required=True)
parser.add_argument("--clients", type=int, default=16)
parser.add_argument("--minutes", type=float, default=30)
parser.add_argument("--direct-mysql-port", type=int)
parser.add_argument("--direct-pg-port", type=int)
parser.add_argument("--direct-mysql-table", default="mse_demo_table",
                    help="the table the MySQL reference writes to (another one when the proxy mirrors mse_demo_table: "
                         "writes that bypass the proxy never reach the mirror)")
args = parser.parse_args()

lock = threading.Lock()
latencies, direct_latencies, errors, counts = [], [], [], [0]
stop = threading.Event()


def statements(lane_literal, table="mse_demo_table"):
    v = random.randint(1, 10**6)
    return random.choice([
        f"INSERT INTO {table} (location) VALUES ('soak-{lane_literal}-{v}')",
        f"SELECT COUNT(*) FROM {table}",
        f"SELECT id, location FROM {table} WHERE id > {v % 1000} ORDER BY id LIMIT 20",
        f"UPDATE {table} SET location = 'soak-{lane_literal}-u' WHERE id = {v % 500}",
        f"DELETE FROM {table} WHERE location LIKE 'soak-%' AND id % 97 = {v % 97}",
    ])


def connect(kind, label, direct=False):
    if kind == "mysql":
        port = args.direct_mysql_port if direct else args.mysql_port
        c = pymysql.connect(host="127.0.0.1", port=port, user="gray_app" if label else "shadow",
                            password="gray-pass" if label else "shadow-pass", database="mse_demo", autocommit=True)
        return c, c.cursor()
    port = args.direct_pg_port if direct else args.pg_port
    c = psycopg2.connect(host="127.0.0.1", port=port, user="shadow", password="shadow-pass", dbname="mse_demo",
                         options="-c shadow.lane=gray" if label else "")
    c.autocommit = True
    return c, c.cursor()


def worker(kind, index):
    rng = random.Random(index)
    label = index % 4 == 1
    conn, cur = connect(kind, label)
    session = None
    done = 0
    while not stop.is_set():
        mode = rng.random()
        if mode < 0.05:
            session = None if session else "gray"
            sql = (f"SET @lane = {'NULL' if session is None else repr(session)}" if kind == "mysql"
                   else ("RESET shadow.lane" if session is None else "SET shadow.lane = 'gray'"))
        else:
            hint = rng.choice([None, None, "gray", "base"])
            lane = hint or session or ("gray" if label else "base")
            sql = (f"/* lane={hint} */ " if hint else "") + statements(lane)
        start = time.perf_counter()
        try:
            cur.execute(sql)
            if cur.description:
                cur.fetchall()
        except Exception as e:  # any error fails the soak
            with lock:
                errors.append(f"{kind}: {e}: {sql}")
            try:
                conn.close()
            except Exception:
                pass
            conn, cur = connect(kind, label)
            session = None
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)
            counts[0] += 1
        done += 1
        if done % 2000 == 0:  # reconnect now and then: connection churn is part of the soak
            conn.close()
            conn, cur = connect(kind, label)
            session = None
    conn.close()


def direct_worker(kind):
    """The reference: the base-lane mix straight to the server, timed the same way."""
    rng = random.Random(kind)
    conn, cur = connect(kind, False, direct=True)
    while not stop.is_set():
        sql = statements("base", args.direct_mysql_table if kind == "mysql" else "mse_demo_table")
        start = time.perf_counter()
        try:
            cur.execute(sql)
            if cur.description:
                cur.fetchall()
        except Exception:  # the reference measures time only; the proxy's errors are what the soak judges
            conn.close()
            conn, cur = connect(kind, False, direct=True)
            continue
        elapsed = time.perf_counter() - start
        with lock:
            direct_latencies.append(elapsed)
        time.sleep(rng.random() * 0.002)
    conn.close()


threads = [threading.Thread(target=worker, args=("mysql" if i % 2 == 0 else "postgres", i), daemon=True)
           for i in range(args.clients)]
if args.direct_mysql_port:
    threads.append(threading.Thread(target=direct_worker, args=("mysql",), daemon=True))
if args.direct_pg_port:
    threads.append(threading.Thread(target=direct_worker, args=("postgres",), daemon=True))
for t in threads:
    t.start()
start = time.time()
minute = 0
while minute < args.minutes:
    time.sleep(max(0, start + 60 * (minute + 1) - time.time()))
    minute += 1
    with lock:
        sample, latencies[:] = sorted(latencies), []
        direct, direct_latencies[:] = sorted(direct_latencies), []
        n, e = counts[0], len(errors)
    p99 = sample[int(len(sample) * 0.99)] * 1000 if sample else 0
    direct_p99 = direct[int(len(direct) * 0.99)] * 1000 if direct else 0
    print(json.dumps({"minute": minute, "statements": n, "errors": e, "p99_ms": round(p99, 3),
                      "direct_p99_ms": round(direct_p99, 3)}), flush=True)
stop.set()
for t in threads:
    t.join(timeout=10)
for line in errors[:10]:
    print("error:", line, file=sys.stderr)
sys.exit(1 if errors else 0)
