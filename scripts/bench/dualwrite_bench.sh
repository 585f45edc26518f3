#!/usr/bin/env bash
# Benchmark (not a test): sysbench oltp_write_only through the MySQL proxy with dual-write off, async and sync,
# in one run, against real MariaDB servers (base = primary, shadow server = mirror).
# Usage: scripts/bench/dualwrite_bench.sh [--seconds S] [--threads T] [--table-size N] [--tables K]
#          [--rounds R] [--modes off,off-1t,async,sync,async-noapply,sync-noapply] [--durable-servers] [--nice-mirror]
# Modes ending in -noapply point the mirror at a closed port: the log is written exactly as in the plain mode but
# the applier only waits for the mirror, so the difference to the plain mode is what the applier and the mirror
# server cost by competing for the machine. Modes run interleaved, R rounds; prints one line per run (transactions/s,
# queries/s, p95 latency in ms, the proxy's own CPU time per transaction, records per fdatasync, time for the mirror
# to catch up) and the medians per mode. off-1t is off with `serve --threads 1`: every connection on one event loop,
# as a mirrored listener runs its connections (docs/dual-write.md, "Order"), so off-1t against async-noapply is
# the capture's own cost.
# --durable-servers runs both MariaDB servers with innodb_flush_log_at_trx_commit=1 (MariaDB's default, what a
# production primary runs: each commit is on disk before its OK) instead of the test servers' 2 (no sync per commit).
# --nice-mirror runs the mirror MariaDB at nice 19: it then uses the CPU the primary path leaves idle, which
# approximates a mirror on another machine while the applier (inside the proxy) still does its work at normal
# priority; the mirror may lag during the run and catch up after it (reported).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=20 threads=16 table_size=10000 tables=4 rounds=1 modes=off,async,sync durable=0 nice_mirror=0
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --table-size) table_size=$2; shift 2 ;;
    --tables) tables=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --durable-servers) durable=1; shift ;;
    --nice-mirror) nice_mirror=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v sysbench >/dev/null || { echo "sysbench is required (apt-get install sysbench)" >&2; exit 2; }
bash scripts/build-release.sh --product shadowgate >/dev/null
bin=.build/release/shadowgate
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
proxy_pid=
bench_on_exit() { [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null; }
bench_servers dwbench
sql() { mariadb --no-defaults -h "$h" -P "$1" -u "$u" -p"$p" -e "$2"; }
flush_at_commit=2
if [ "$durable" = 1 ]; then
  flush_at_commit=1
  for sock in "$SHADOWGATE_MYSQL_SOCKET" "$SHADOWGATE_SERVERS_DIR/mariadb-shadow/mysqld.sock"; do
    mariadb --no-defaults -uroot --socket="$sock" -e "SET GLOBAL innodb_flush_log_at_trx_commit = 1"
  done
fi
sb() { # port action
  sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$1" --mysql-user="$u" \
    --mysql-password="$p" --mysql-db=sbtest --tables="$tables" --table-size="$table_size" --threads="$threads" \
    --time="$seconds" --report-interval=0 --rand-seed=1 "$2"
}

run_mode() { # mode
  local mode=$1 durability=${1%-noapply} port config mirror_port=$SHADOWGATE_MYSQL_SHADOW_PORT serve_args=()
  if [ "$mode" = off-1t ]; then durability=off serve_args=(--threads 1); fi
  port=$(free_port)
  admin_port=$(free_port)
  [ "$mode" != "$durability" ] && mirror_port=$(free_port)  # nobody listens there: the applier only waits
  config=$dir/$mode.yaml
  rm -rf "$dir/log-$mode"
  sql "$SHADOWGATE_MYSQL_PORT" "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
  sql "$SHADOWGATE_MYSQL_SHADOW_PORT" "DROP DATABASE IF EXISTS sbtest_mirror; CREATE DATABASE sbtest_mirror"
  sb "$SHADOWGATE_MYSQL_PORT" prepare >/dev/null
  # The mirror starts as a copy of the primary (the offline copy of a real migration).
  mariadb-dump --no-defaults -h "$h" -P "$SHADOWGATE_MYSQL_PORT" -u "$u" -p"$p" sbtest \
    | mariadb --no-defaults -h "$h" -P "$SHADOWGATE_MYSQL_SHADOW_PORT" -u "$u" -p"$p" sbtest_mirror
  {
    echo "admin: { listen: 127.0.0.1:$admin_port }"
    echo "listeners:"
    echo "  - { name: bench, protocol: mysql, listen: 127.0.0.1:$port, backend: $h:$SHADOWGATE_MYSQL_PORT }"
    if [ "$durability" != off ]; then
      echo "replay_log: { dir: $dir/log-$mode }"
      echo "base_dual_write:"
      echo "  mirror: { backend: $h:$mirror_port, database: sbtest_mirror, credentials: { user: $u, password: \"$p\" } }"
      echo "  durability: $durability"
    fi
  } >"$config"
  "$bin" serve --config "$config" --log-level error "${serve_args[@]}" &
  proxy_pid=$!
  for _ in $(seq 1 100); do sql "$port" "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
  local out tps qps p95 lag="" batch="" cpu_before cpu_after transactions
  cpu_before=$(proxy_cpu_ticks)
  out=$(sb "$port" run)
  cpu_after=$(proxy_cpu_ticks)
  transactions=$(echo "$out" | awk '/transactions:/ { print $2 }')
  tps=$(echo "$out" | awk '/transactions:/ { gsub(/\(/, "", $3); print $3 }')
  qps=$(echo "$out" | awk '/queries:/ && /per sec/ { gsub(/\(/, "", $3); print $3 }')
  p95=$(echo "$out" | awk '/95th percentile:/ { print $3 }')
  if [ "$durability" != off ]; then
    local metrics
    sleep 1.2  # the writer's gauges are published every second
    metrics=$(curl -s "http://127.0.0.1:$admin_port/metrics" || true)
    batch=" records_per_sync=$(echo "$metrics" | awk '
      /^shadowgate_replay_last_lsn/ { lsn = $2 } /^shadowgate_replay_syncs/ { syncs = $2 }
      END { if (syncs > 0) printf "%.1f", lsn / syncs; else print "?" }')"
  fi
  if [ "$mode" = "$durability" ] && [ "$durability" != off ]; then
    # Let the applier catch up, then report how long it took.
    local start=$SECONDS
    until "$bin" replay status --dir "$dir/log-$mode/base@bench" | grep -q "lag: *0 records"; do
      sleep 0.5
      [ $((SECONDS - start)) -gt 120 ] && break
    done
    lag=" caught_up_after=$((SECONDS - start))s"
  fi
  kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=
  local cpu_us
  cpu_us=$(awk -v t="$((cpu_after - cpu_before))" -v hz="$(getconf CLK_TCK)" -v n="$transactions" \
    'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  printf '%-13s tps=%-10s qps=%-10s p95_ms=%-8s cpu_us_per_tx=%-6s%s%s\n' "$mode" "$tps" "$qps" "$p95" "$cpu_us" \
    "$batch" "$lag" | tee -a "$dir/results"
}
# utime + stime of the proxy (all its threads: event loops, log writer, applier), in clock ticks.
proxy_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$proxy_pid/stat"; }

echo "sysbench oltp_write_only, $threads threads, $tables tables x $table_size rows, ${seconds}s per mode, $rounds round(s)"
if [ "$nice_mirror" = 1 ]; then
  # Every thread (renice -p changes one); threads it starts later inherit the nice value.
  mirror_pid=$(cat "$SHADOWGATE_SERVERS_DIR/mariadb-shadow/mysqld.pid")
  for task in /proc/"$mirror_pid"/task/*; do renice -n 19 -p "${task##*/}" >/dev/null; done
fi
echo "servers: innodb_flush_log_at_trx_commit=$flush_at_commit; mirror server at nice $([ "$nice_mirror" = 1 ] && echo 19 || echo 0)"
echo "load before: $(uptime)"
for round in $(seq 1 "$rounds"); do
  for mode in ${modes//,/ }; do run_mode "$mode"; done
done
echo "load after: $(uptime)"
echo "medians per mode (tps, p95 ms, proxy CPU µs per transaction), and tps against off:"
awk '{ mode = $1; sub("tps=", "", $2); sub("p95_ms=", "", $4); sub("cpu_us_per_tx=", "", $5)
       tps[mode] = tps[mode] " " $2; p95[mode] = p95[mode] " " $4; cpu[mode] = cpu[mode] " " $5 }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  END {
    base = median(tps["off"])
    for (mode in tps) printf "%-13s tps=%-10s p95_ms=%-8s cpu_us_per_tx=%-6s %s\n", mode, median(tps[mode]),
      median(p95[mode]), median(cpu[mode]), (base > 0 ? sprintf("%.1f%% of off", 100 * median(tps[mode]) / base) : "")
  }' "$dir/results"
