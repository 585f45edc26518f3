#!/usr/bin/env bash
# Benchmark (not a test): how fast the replay applier brings a mirror up to date, with the mirror on this machine
# and behind a relay that adds network latency, as a mirror on another machine would be.
# Usage: scripts/bench/applier_bench.sh [--protocol mysql|postgres] [--seconds S] [--delays-ms 0,0.5] [--rounds R]
#          [--shadowgate BIN[,BIN…]]
# Records a log once through the proxy in async mode with the mirror unreachable, so nothing is applied (MySQL:
# sysbench oltp_write_only, 16 threads; PostgreSQL: pgbench's TPC-B-like script -M extended, 16 clients), then for
# each delay (one way, so the round trip is twice it), binary and round: a fresh copy of the log and of the mirror's
# starting data, `shadowgate replay apply --until-caught-up`, timed. Prints records per second and checks that the
# mirror ends equal to the primary (MySQL: CHECKSUM TABLE of every table; PostgreSQL: sums and counts of the
# pgbench tables, history times aside: CURRENT_TIMESTAMP is the mirror's own).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=10 delays=0,0.5 rounds=2 binaries= protocol=mysql
while [ $# -gt 0 ]; do
  case $1 in
    --protocol) protocol=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --delays-ms) delays=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --shadowgate) binaries=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v sysbench >/dev/null || { echo "sysbench is required (apt-get install sysbench)" >&2; exit 2; }
if [ -z "$binaries" ]; then
  bash scripts/build-release.sh --product shadowgate >/dev/null
  binaries=.build/release/shadowgate
fi
first_binary=${binaries%%,*}
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
pids=()
bench_on_exit() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
bench_servers applierbench
if [ "$protocol" = mysql ]; then
  primary=$SHADOWGATE_MYSQL_PORT mirror=$SHADOWGATE_MYSQL_SHADOW_PORT
  sql() { mariadb --no-defaults -h "$h" -P "$1" -u "$u" -p"$p" -N -e "$2"; }
  sb() {
    sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$1" --mysql-user="$u" \
      --mysql-password="$p" --mysql-db=sbtest --tables=4 --table-size=10000 --threads=16 --time="$seconds" \
      --report-interval=0 --rand-seed=1 "$2"
  }
  prepare_primary() {
    sql "$primary" "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
    sb "$primary" prepare >/dev/null
    mariadb-dump --no-defaults -h "$h" -P "$primary" -u "$u" -p"$p" sbtest >"$dir/start.sql"
  }
  load() { sb "$1" run >/dev/null; }
  ready() { sql "$1" "SELECT 1" >/dev/null 2>&1; }
  reset_mirror() {
    sql "$mirror" "DROP DATABASE IF EXISTS bench_mirror; CREATE DATABASE bench_mirror"
    mariadb --no-defaults -h "$h" -P "$mirror" -u "$u" -p"$p" bench_mirror <"$dir/start.sql"
  }
  fingerprint() { # port database
    for t in 1 2 3 4; do sql "$1" "CHECKSUM TABLE $2.sbtest$t" | awk '{ print $2 }'; done | tr '\n' ' '
  }
  primary_database=sbtest workload="oltp_write_only (16 threads)"
else
  export PGPASSWORD=$SHADOWGATE_PG_PASSWORD PGOPTIONS="-c client_min_messages=warning"
  h=$SHADOWGATE_PG_HOST u=$SHADOWGATE_PG_USER p=$SHADOWGATE_PG_PASSWORD
  primary=$SHADOWGATE_PG_PORT mirror=$SHADOWGATE_PG_SHADOW_PORT
  sql() { psql -X -q -A -t -h "$h" -p "$1" -U "$u" -d "${3:-postgres}" -c "$2"; }
  prepare_primary() {
    sql "$primary" "DROP DATABASE IF EXISTS bench" && sql "$primary" "CREATE DATABASE bench"
    pgbench -i -s 1 -q -h "$h" -p "$primary" -U "$u" bench >/dev/null 2>&1
    pg_dump -h "$h" -p "$primary" -U "$u" bench >"$dir/start.sql"
  }
  load() { pgbench -M extended -c 16 -j 2 -T "$seconds" -h 127.0.0.1 -p "$1" -U "$u" bench >/dev/null 2>&1; }
  ready() { sql "$1" "SELECT 1" bench >/dev/null 2>&1; }
  reset_mirror() {
    sql "$mirror" "DROP DATABASE IF EXISTS bench_mirror" && sql "$mirror" "CREATE DATABASE bench_mirror"
    psql -X -q -h "$h" -p "$mirror" -U "$u" -d bench_mirror -f "$dir/start.sql" >/dev/null
  }
  fingerprint() { # port database
    sql "$1" "SELECT (SELECT sum(abalance) || '/' || count(*) FROM pgbench_accounts) || ' ' ||
      (SELECT sum(bbalance) FROM pgbench_branches) || ' ' || (SELECT sum(tbalance) FROM pgbench_tellers) || ' ' ||
      (SELECT sum(delta) || '/' || count(*) FROM pgbench_history)" "$2"
  }
  primary_database=bench workload="pgbench TPC-B-like -M extended (16 clients)"
fi

prepare_primary
# Record the log: async dual-write to a mirror nobody listens on.
port=$(free_port)
cat >"$dir/record.yaml" <<EOF
listeners:
  - { name: bench, protocol: $protocol, listen: 127.0.0.1:$port, backend: $h:$primary }
replay_log: { dir: $dir/log }
base_dual_write:
  mirror: { backend: 127.0.0.1:$(free_port), database: bench_mirror, credentials: { user: $u, password: "$p" } }
  durability: async
EOF
"$first_binary" serve --config "$dir/record.yaml" --log-level error &
proxy=$!
pids+=("$proxy")
for _ in $(seq 1 100); do ready "$port" && break; sleep 0.1; done
load "$port"
kill "$proxy"; wait "$proxy" 2>/dev/null || true
records=$("$first_binary" replay status --dir "$dir/log/base@bench" | awk '/last LSN|last lsn/ { print $NF; exit }')
expected=$(fingerprint "$primary" "$primary_database")
echo "log: ${records:-?} records from ${seconds}s of $workload"

# A relay that delays every chunk by the given one-way delay, in both directions, without serialising them.
cat >"$dir/relay.py" <<'EOF'
import asyncio, sys, time
listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
async def pipe(reader, writer):
    queue = asyncio.Queue()
    async def read():
        while data := await reader.read(65536):
            await queue.put((time.monotonic() + delay, data))
        await queue.put((0, b""))
    async def write():
        while True:
            due, data = await queue.get()
            if not data:
                writer.close()
                return
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
    await asyncio.gather(read(), write())
async def handle(client_reader, client_writer):
    server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()
asyncio.run(main())
EOF

printf '%-10s %-40s %-6s %-10s %-12s %s\n' "delay_ms" "binary" "round" "seconds" "records/s" "mirror"
for delay in ${delays//,/ }; do
  relay_port=$(free_port)
  python3 "$dir/relay.py" "$relay_port" "$mirror" "$delay" &
  relay=$!
  pids+=("$relay")
  sleep 0.5
  for round in $(seq 1 "$rounds"); do
    for bin in ${binaries//,/ }; do
      reset_mirror
      rm -rf "$dir/apply" && cp -r "$dir/log/base@bench" "$dir/apply"
      start=$(date +%s.%N)
      "$bin" replay apply --dir "$dir/apply" --dialect "$protocol" --host 127.0.0.1 --port "$relay_port" --user "$u" \
        --password "$p" --database bench_mirror --until-caught-up >/dev/null 2>&1
      end=$(date +%s.%N)
      got=$(fingerprint "$mirror" bench_mirror)
      verdict=$([ "$got" = "$expected" ] && echo "equal" || echo "DIFFERENT")
      awk -v d="$delay" -v b="$bin" -v r="$round" -v s="$start" -v e="$end" -v n="${records:-0}" -v v="$verdict" \
        'BEGIN { printf "%-10s %-40s %-6s %-10.2f %-12.0f %s\n", d, b, r, e - s, n / (e - s), v }'
    done
  done
  kill "$relay" 2>/dev/null || true
done
