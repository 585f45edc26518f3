#!/usr/bin/env bash
# Benchmark (not a test): `shadowgate diff` on 1,000,000-row base/shadow table pairs on MariaDB and PostgreSQL,
# against each database's own full-scan checksum and, on MariaDB, Percona Toolkit's pt-table-sync, in one run.
# Usage: scripts/bench/diff_bench.sh [--rows N] [--small-rows N] [--build release|debug]
# Needs percona-toolkit (apt-get install percona-toolkit) and /usr/bin/time. Starts its own servers.
# Prints, per engine: checksum-query time, diff time (identical, 100 differences), their ratios, bytes on the wire
# for two chunk counts (and with 100 differences), peak RSS at two table sizes; on MariaDB also pt-table-sync's time
# and whether both tools found the same rows; then `diff --against` of MariaDB's tables with PostgreSQL's.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=1000000 small_rows=100000 build=release
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --small-rows) small_rows=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v pt-table-sync >/dev/null || { echo "pt-table-sync is required (apt-get install percona-toolkit)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 2; }
nice -n 19 swift build -c "$build" --product shadowgate >/dev/null
bin=.build/$build/shadowgate
dir=$(mktemp -d /tmp/shadowgate-diffbench.XXXXXX)
chmod 755 "$dir"  # the servers run as their own users
counter_pid=
cleanup() {
  [ -n "$counter_pid" ] && kill "$counter_pid" 2>/dev/null || true
  bash scripts/servers.sh stop "$dir/servers" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
bash scripts/servers.sh start "$dir/servers" >/dev/null
# shellcheck disable=SC1091
source "$dir/servers/env.sh"
h=$SHADOWGATE_MYSQL_HOST
my() { mariadb --no-defaults -h "$h" -P "$SHADOWGATE_MYSQL_PORT" -u "$SHADOWGATE_MYSQL_USER" -p"$SHADOWGATE_MYSQL_PASSWORD" -N -e "$1"; }
pg() { PGPASSWORD=$SHADOWGATE_PG_PASSWORD psql -q -X -h "$h" -p "${2:-$SHADOWGATE_PG_PORT}" -U "$SHADOWGATE_PG_USER" -d mse_demo -At -c "$1"; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
# 100 scattered differences: base keys are even; a third of the picked keys are deleted from the shadow (missing),
# a third get an odd neighbour inserted (extra), the rest are updated (changed).
diff_ids() { python3 -c "n=$1; print(','.join(str(2 * (1 + k * (n // 101))) for k in range(1, 101)))"; }

setup_mysql() {
  local ids; ids=$(diff_ids "$rows")
  my "DROP DATABASE IF EXISTS bench; CREATE DATABASE bench"
  for t in same moved small; do
    local n=$rows; [ $t = small ] && n=$small_rows
    my "USE bench; CREATE TABLE bench.$t (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, created DATETIME(6) NOT NULL,
          amount DECIMAL(12,2) NOT NULL, note TEXT NULL);
        INSERT INTO bench.$t SELECT 2 * seq, CONCAT('customer-', seq, '-', MD5(seq)), '2024-01-01' + INTERVAL seq SECOND,
          (seq % 100000) / 100, IF(seq % 3 = 0, NULL, CONCAT('note ', seq)) FROM seq_1_to_$n;
        CREATE TABLE bench.${t}_gray LIKE bench.$t; INSERT INTO bench.${t}_gray SELECT * FROM bench.$t;
        ANALYZE TABLE bench.$t, bench.${t}_gray" >/dev/null
  done
  my "DELETE FROM bench.moved_gray WHERE id IN ($ids) AND (id DIV 2) % 3 = 0;
      INSERT INTO bench.moved_gray SELECT id + 1, 'extra', created, 1, NULL FROM bench.moved WHERE id IN ($ids) AND (id DIV 2) % 3 = 1;
      UPDATE bench.moved_gray SET amount = amount + 1 WHERE id IN ($ids) AND (id DIV 2) % 3 = 2"
}

setup_postgres() {
  local ids; ids=$(diff_ids "$rows")
  pg "DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench"
  for t in same moved small; do
    local n=$rows; [ $t = small ] && n=$small_rows
    pg "CREATE TABLE bench.$t (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, created TIMESTAMP(6) NOT NULL,
          amount NUMERIC(12,2) NOT NULL, note TEXT NULL);
        INSERT INTO bench.$t SELECT 2 * s, 'customer-' || s || '-' || md5(s::text), TIMESTAMP '2024-01-01' + s * INTERVAL '1 second',
          (s % 100000) / 100.0, CASE WHEN s % 3 = 0 THEN NULL ELSE 'note ' || s END FROM generate_series(1, $n) s;
        CREATE TABLE bench.${t}_gray (LIKE bench.$t INCLUDING ALL); INSERT INTO bench.${t}_gray SELECT * FROM bench.$t"
    pg "VACUUM ANALYZE bench.$t"; pg "VACUUM ANALYZE bench.${t}_gray"
  done
  pg "DELETE FROM bench.moved_gray WHERE id IN ($ids) AND (id / 2) % 3 = 0;
      INSERT INTO bench.moved_gray SELECT id + 1, 'extra', created, 1, NULL FROM bench.moved WHERE id IN ($ids) AND (id / 2) % 3 = 1;
      UPDATE bench.moved_gray SET amount = amount + 1 WHERE id IN ($ids) AND (id / 2) % 3 = 2"
}

config() { # engine port database → path
  local path=$dir/$1-$2.yaml user password
  if [ "$1" = mysql ]; then user=$SHADOWGATE_MYSQL_USER password=$SHADOWGATE_MYSQL_PASSWORD; else user=$SHADOWGATE_PG_USER password=$SHADOWGATE_PG_PASSWORD; fi
  cat >"$path" <<EOF
listeners:
  - name: bench
    protocol: $1
    listen: 127.0.0.1:1
    backend: $h:$2
    credentials: { user: $user, password: $password, database: $3 }
lanes:
  gray:
    tables: { suffix: _gray }
EOF
  echo "$path"
}

# Runs `shadowgate diff` on one table; sets elapsed (s), rss (KiB) and found (missing+extra+changed).
run_diff() { # config table [extra options…]
  local cfg=$1 table=$2; shift 2
  local start; start=$(now)
  /usr/bin/time -v -o "$dir/time.txt" "$bin" diff --config "$cfg" --lane gray --table "$table" --format json \
    --recheck-delay 0 "$@" >"$dir/report.json" || [ $? -eq 1 ]
  elapsed=$(calc "round($(now) - $start, 3)")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
  found=$(python3 -c "import json; t = json.load(open('$dir/report.json'))['tables'][0]; print(t['missing_in_shadow'] + t['extra_in_shadow'] + t['changed'])")
}

# (kind, key) of every statement in a repair script: pt-table-sync's and shadowgate's spell them alike.
statement_keys() {
  python3 -c '
import re, sys
keys = set()
for line in sys.stdin:
    kind = line.split(" ", 1)[0]
    if kind not in ("INSERT", "UPDATE", "DELETE", "REPLACE"): continue
    m = re.search(r"VALUES \(\x27?(-?\d+)", line) if kind in ("INSERT", "REPLACE") else re.search(r"WHERE .id. ?= ?\x27?(-?\d+)", line)
    keys.add((kind, int(m.group(1))))
import hashlib
print(len(keys), hashlib.sha1(repr(sorted(keys)).encode()).hexdigest()[:12])'
}

bench_engine() { # engine
  local engine=$1 port database t_ref t_same t_moved
  if [ "$engine" = mysql ]; then port=$SHADOWGATE_MYSQL_PORT database=bench; else port=$SHADOWGATE_PG_PORT database=mse_demo; fi
  local cfg; cfg=$(config "$engine" "$port" "$database")
  echo "== $engine: $rows rows per table =="
  # The database's own full-scan checksum of both tables (warms the buffer pools for every run after it, too).
  for _ in 1 2; do
    local start; start=$(now)
    if [ "$engine" = mysql ]; then my "CHECKSUM TABLE bench.same, bench.same_gray" >/dev/null
    else pg "SELECT sum(hashtext(t::text)::bigint) FROM bench.same t; SELECT sum(hashtext(t::text)::bigint) FROM bench.same_gray t" >/dev/null; fi
    t_ref=$(calc "round($(now) - $start, 3)")
  done
  run_diff "$cfg" bench.same; t_same=$elapsed; local rss_large=$rss
  [ "$found" = 0 ] || { echo "identical pair reported $found differences" >&2; exit 1; }
  run_diff "$cfg" bench.moved; t_moved=$elapsed
  local found_moved=$found
  run_diff "$cfg" bench.small; local rss_small=$rss
  echo "checksum query (both tables):   ${t_ref}s"
  echo "diff, identical:                ${t_same}s  = $(calc "round($t_same / $t_ref, 2)")x the checksum query (target <= 1.5x)"
  echo "diff, 100 differences:          ${t_moved}s  = $(calc "round($t_moved / $t_same, 2)")x identical (target <= 2x); found $found_moved of 100"
  echo "peak RSS:                       ${rss_small} KiB at $small_rows rows, ${rss_large} KiB at $rows rows"
  if [ "$engine" = mysql ]; then
    local start pt_keys sg_keys t_pt
    start=$(now)
    pt-table-sync --print "h=$h,P=$port,u=$SHADOWGATE_MYSQL_USER,p=$SHADOWGATE_MYSQL_PASSWORD,D=bench,t=moved" t=moved_gray >"$dir/pt.sql" \
      || [ $? -eq 2 ]  # 2: differences found
    t_pt=$(calc "round($(now) - $start, 3)")
    pt_keys=$(statement_keys <"$dir/pt.sql")
    "$bin" diff --config "$cfg" --lane gray --table bench.moved --recheck-delay 0 --repair print >"$dir/sg.sql" 2>/dev/null || true
    sg_keys=$(statement_keys <"$dir/sg.sql")
    echo "pt-table-sync --print:          ${t_pt}s; shadowgate diff = $(calc "round($t_moved / $t_pt, 2)")x its time (target <= 0.5x)"
    echo "rows to fix (count, key-set hash): pt-table-sync $pt_keys, shadowgate $sg_keys ($([ "$pt_keys" = "$sg_keys" ] && echo same || echo DIFFERENT))"
  fi
  # Bytes on the wire, both directions, for two chunk counts on the large table, the first count on the small one, and
  # the first count on the pair with 100 differences.
  local large_chunk_rows=$((rows / 100)) small_chunk_rows=$((small_rows / 100))
  for spec in "bench.same $large_chunk_rows" "bench.same $((large_chunk_rows / 10))" "bench.small $small_chunk_rows" \
    "bench.moved $large_chunk_rows"; do
    set -- $spec
    local bytes chunks
    if [ "$engine" = mysql ]; then
      local before after
      before=$(my "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('BYTES_SENT', 'BYTES_RECEIVED')")
      run_diff "$cfg" "$1" --chunk-rows "$2" --target-chunk-time 0
      after=$(my "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('BYTES_SENT', 'BYTES_RECEIVED')")
      bytes=$((after - before))
    else
      local counter_port; counter_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      python3 scripts/bench/byte_counter.py "$counter_port" "$h" "$port" "$dir/bytes" &
      counter_pid=$!
      for _ in $(seq 1 50); do [ -f "$dir/bytes" ] && break; sleep 0.1; done
      run_diff "$(config postgres "$counter_port" mse_demo)" "$1" --chunk-rows "$2" --target-chunk-time 0
      kill "$counter_pid"; wait "$counter_pid" 2>/dev/null || true; counter_pid=
      bytes=$(cat "$dir/bytes"); rm -f "$dir/bytes"
    fi
    chunks=$(python3 -c "import json; print(json.load(open('$dir/report.json'))['tables'][0]['chunks'])")
    echo "bytes on the wire:              $bytes bytes for $chunks chunks of $2 rows ($1)"
  done
}

# Across engines: MariaDB's bench.same against PostgreSQL's (the same rows in each engine's types), then the pair
# with 100 differences (MariaDB's moved against PostgreSQL's moved_gray).
bench_cross() {
  local path=$dir/cross.yaml
  cat >"$path" <<EOF
listeners:
  - name: my
    protocol: mysql
    listen: 127.0.0.1:1
    backend: $h:$SHADOWGATE_MYSQL_PORT
    credentials: { user: $SHADOWGATE_MYSQL_USER, password: $SHADOWGATE_MYSQL_PASSWORD, database: bench }
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:2
    backend: $h:$SHADOWGATE_PG_PORT
    credentials: { user: $SHADOWGATE_PG_USER, password: $SHADOWGATE_PG_PASSWORD, database: mse_demo }
lanes:
  gray:
    tables: { suffix: _gray }
EOF
  echo "== across engines: MariaDB against PostgreSQL, $rows rows =="
  local spec
  for spec in "bench.same=bench.same identical" "bench.moved=bench.moved_gray 100-differences"; do
    set -- $spec
    local start; start=$(now)
    "$bin" diff --config "$path" --listener my --against pg --table "$1" --format json --recheck-delay 0 >"$dir/report.json" \
      || [ $? -eq 1 ]
    local elapsed; elapsed=$(calc "round($(now) - $start, 3)")
    found=$(python3 -c "import json; t = json.load(open('$dir/report.json'))['tables'][0]; print(t['missing_in_shadow'] + t['extra_in_shadow'] + t['changed'])")
    echo "diff --against, $2:$(printf '%*s' $((17 - ${#2})) '')${elapsed}s; found $found"
  done
}

setup_mysql
setup_postgres
bench_engine mysql
bench_engine postgres
bench_cross
