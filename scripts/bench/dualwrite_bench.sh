#!/usr/bin/env bash
# Benchmark (not a test): sysbench oltp_write_only through the MySQL proxy with dual-write off, async and sync,
# in one run, against real MariaDB servers (base = primary, shadow server = mirror).
# Usage: scripts/bench/dualwrite_bench.sh [--seconds S] [--threads T] [--table-size N] [--tables K]
# Prints one line per mode: transactions/s, queries/s, p95 latency (ms), and the mirror lag at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=20 threads=16 table_size=10000 tables=4
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --table-size) table_size=$2; shift 2 ;;
    --tables) tables=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v sysbench >/dev/null || { echo "sysbench is required (apt-get install sysbench)" >&2; exit 2; }
swift build -c release --product shadowgate >/dev/null
bin=.build/release/shadowgate
dir=$(mktemp -d /tmp/shadowgate-dwbench.XXXXXX)
chmod 755 "$dir"  # the servers run as their own users
proxy_pid=
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null || true
  bash scripts/servers.sh stop "$dir/servers" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
bash scripts/servers.sh start "$dir/servers" >/dev/null
# shellcheck disable=SC1091
source "$dir/servers/env.sh"
h=$SHADOWGATE_MYSQL_HOST u=$SHADOWGATE_MYSQL_USER p=$SHADOWGATE_MYSQL_PASSWORD
sql() { mariadb --no-defaults -h "$h" -P "$1" -u "$u" -p"$p" -e "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sb() { # port action
  sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$1" --mysql-user="$u" \
    --mysql-password="$p" --mysql-db=sbtest --tables="$tables" --table-size="$table_size" --threads="$threads" \
    --time="$seconds" --report-interval=0 --rand-seed=1 "$2"
}

run_mode() { # mode
  local mode=$1 port config
  port=$(free_port)
  config=$dir/$mode.yaml
  sql "$SHADOWGATE_MYSQL_PORT" "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
  sql "$SHADOWGATE_MYSQL_SHADOW_PORT" "DROP DATABASE IF EXISTS sbtest_mirror; CREATE DATABASE sbtest_mirror"
  sb "$SHADOWGATE_MYSQL_PORT" prepare >/dev/null
  # The mirror starts as a copy of the primary (the offline copy of a real migration).
  mariadb-dump --no-defaults -h "$h" -P "$SHADOWGATE_MYSQL_PORT" -u "$u" -p"$p" sbtest \
    | mariadb --no-defaults -h "$h" -P "$SHADOWGATE_MYSQL_SHADOW_PORT" -u "$u" -p"$p" sbtest_mirror
  {
    echo "listeners:"
    echo "  - { name: bench, protocol: mysql, listen: 127.0.0.1:$port, backend: $h:$SHADOWGATE_MYSQL_PORT }"
    if [ "$mode" != off ]; then
      echo "replay_log: { dir: $dir/log-$mode }"
      echo "base_dual_write:"
      echo "  mirror: { backend: $h:$SHADOWGATE_MYSQL_SHADOW_PORT, database: sbtest_mirror, credentials: { user: $u, password: \"$p\" } }"
      echo "  durability: $mode"
    fi
  } >"$config"
  "$bin" serve --config "$config" --log-level error &
  proxy_pid=$!
  for _ in $(seq 1 100); do sql "$port" "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
  local out tps qps p95 lag=""
  out=$(sb "$port" run)
  tps=$(echo "$out" | awk '/transactions:/ { gsub(/\(/, "", $3); print $3 }')
  qps=$(echo "$out" | awk '/queries:/ && /per sec/ { gsub(/\(/, "", $3); print $3 }')
  p95=$(echo "$out" | awk '/95th percentile:/ { print $3 }')
  if [ "$mode" != off ]; then
    # Let the applier catch up, then report how long it took.
    local start=$SECONDS
    until "$bin" replay status --dir "$dir/log-$mode/base@bench" | grep -q "lag: *0 records"; do
      sleep 0.5
      [ $((SECONDS - start)) -gt 300 ] && break
    done
    lag=" caught_up_after=$((SECONDS - start))s"
  fi
  kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=
  printf '%-6s tps=%-10s qps=%-10s p95_ms=%-8s%s\n' "$mode" "$tps" "$qps" "$p95" "$lag"
}

echo "sysbench oltp_write_only, $threads threads, $tables tables x $table_size rows, ${seconds}s per mode"
for mode in off async sync; do run_mode "$mode"; done
