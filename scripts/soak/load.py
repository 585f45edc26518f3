#!/usr/bin/env python3
"""Soak load for scripts/soak.sh: N threads per protocol through the proxy, mixed lanes (base, gray by hint,
gray by connection label, session switch), reads and writes on the seed tables. Every minute it prints one JSON
line {"minute", "statements", "errors", "p99_ms"}; it stops after --minutes and exits non-zero on any error."""
import argparse, json, random, sys, threading, time

import psycopg2
import pymysql

parser = argparse.ArgumentParser()
parser.add_argument("--mysql-port", type=int, required=True)
parser.add_argument("--pg-port", type=int, required=True)
parser.add_argument("--clients", type=int, default=16)
parser.add_argument("--minutes", type=float, default=30)
args = parser.parse_args()

lock = threading.Lock()
latencies, errors, counts = [], [], [0]
stop = threading.Event()


def statements(lane_literal):
    v = random.randint(1, 10**6)
    return random.choice([
        f"INSERT INTO mse_demo_table (location) VALUES ('soak-{lane_literal}-{v}')",
        "SELECT COUNT(*) FROM mse_demo_table",
        f"SELECT id, location FROM mse_demo_table WHERE id > {v % 1000} ORDER BY id LIMIT 20",
        f"UPDATE mse_demo_table SET location = 'soak-{lane_literal}-u' WHERE id = {v % 500}",
        f"DELETE FROM mse_demo_table WHERE location LIKE 'soak-%' AND id % 97 = {v % 97}",
    ])


def connect(kind, label):
    if kind == "mysql":
        c = pymysql.connect(host="127.0.0.1", port=args.mysql_port, user="gray_app" if label else "shadow",
                            password="gray-pass" if label else "shadow-pass", database="mse_demo", autocommit=True)
        return c, c.cursor()
    c = psycopg2.connect(host="127.0.0.1", port=args.pg_port, user="shadow", password="shadow-pass", dbname="mse_demo",
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


threads = [threading.Thread(target=worker, args=("mysql" if i % 2 == 0 else "postgres", i), daemon=True)
           for i in range(args.clients)]
for t in threads:
    t.start()
start = time.time()
minute = 0
while minute < args.minutes:
    time.sleep(max(0, start + 60 * (minute + 1) - time.time()))
    minute += 1
    with lock:
        sample, latencies[:] = sorted(latencies), []
        n, e = counts[0], len(errors)
    p99 = sample[int(len(sample) * 0.99)] * 1000 if sample else 0
    print(json.dumps({"minute": minute, "statements": n, "errors": e, "p99_ms": round(p99, 3)}), flush=True)
stop.set()
for t in threads:
    t.join(timeout=10)
for line in errors[:10]:
    print("error:", line, file=sys.stderr)
sys.exit(1 if errors else 0)
