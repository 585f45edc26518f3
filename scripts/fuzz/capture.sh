#!/usr/bin/env bash
# Records real client/server traffic through scripts/fuzz/capture_relay.py to seed the wire-protocol corpora.
#   scripts/fuzz/capture.sh OUT_DIR
# Needs servers started with `bash scripts/servers.sh start DIR` and DIR/env.sh sourced. Runs mariadb, psql,
# pgbench and sysbench (a few seconds each, TLS off so the bytes are readable) and writes OUT_DIR/{mysql,pg}/*.cap;
# then run scripts/fuzz/make_corpus.py OUT_DIR to turn them into seeds.
set -euo pipefail
out=${1:?usage: capture.sh OUT_DIR}
: "${SHADOWGATE_MYSQL_PORT:?source env.sh from servers.sh first}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$out/mysql" "$out/pg"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
myport=$(free_port)
pgport=$(free_port)
python3 "$here/capture_relay.py" --listen "$myport" --upstream "127.0.0.1:$SHADOWGATE_MYSQL_PORT" --out "$out/mysql" &
my_relay=$!
python3 "$here/capture_relay.py" --listen "$pgport" --upstream "127.0.0.1:$SHADOWGATE_PG_PORT" --out "$out/pg" &
pg_relay=$!
trap 'kill "$my_relay" "$pg_relay" 2>/dev/null || true' EXIT
sleep 1

my=(mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$myport" -u "$SHADOWGATE_MYSQL_USER" -p"$SHADOWGATE_MYSQL_PASSWORD")
gray=(mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$myport" -u gray_app -pgray-pass)
# Statement fixtures and a session exercising the command phase: queries, multi-statements, errors, session
# switches, prepared statements, LOCAL INFILE, field list, change of database.
for f in "$root"/fixtures/statements/*.sql; do
  "${my[@]}" mse_demo <"$f" >/dev/null 2>&1 || true
done
"${my[@]}" --force --local-infile=1 mse_demo >/dev/null 2>&1 <<'SQL' || true
SELECT 1; SELECT * FROM mse_demo_table LIMIT 3;
SHOW TABLES;
/*lane=gray*/ SELECT id FROM mse_demo_table WHERE id = 1;
SET @lane = 'gray'; INSERT INTO mse_demo_table (name) VALUES ('x'); SET @lane = 'base';
BEGIN; UPDATE mse_demo_table SET name = 'y' WHERE id = 1; ROLLBACK;
PREPARE s FROM 'SELECT * FROM mse_demo_table WHERE id = ?'; SET @a = 1; EXECUTE s USING @a; DEALLOCATE PREPARE s;
SELECT no_such_column FROM mse_demo_table;
CREATE TEMPORARY TABLE t1 (a INT, b TEXT); INSERT INTO t1 VALUES (1, 'a'), (2, NULL); SELECT * FROM t1;
LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE t1;
CALL no_such_procedure();
USE mse_demo;
SQL
"${gray[@]}" -e 'SELECT * FROM mse_demo_table LIMIT 2; SHOW COLUMNS FROM mse_demo_table' mse_demo >/dev/null 2>&1 || true
"${my[@]}" -e 'SELECT @@version; SHOW STATUS LIKE "Threads%"' >/dev/null 2>&1 || true
# mariadb-admin: COM_STATISTICS, COM_PING, COM_PROCESS_INFO-style commands.
mariadb-admin --no-defaults --skip-ssl -h 127.0.0.1 -P "$myport" -u "$SHADOWGATE_MYSQL_USER" \
  -p"$SHADOWGATE_MYSQL_PASSWORD" status ping processlist >/dev/null 2>&1 || true
# sysbench: server-side prepared statements (COM_STMT_PREPARE/EXECUTE/CLOSE, binary rows).
sb=(sysbench --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$myport" --mysql-user="$SHADOWGATE_MYSQL_USER"
    --mysql-password="$SHADOWGATE_MYSQL_PASSWORD" --mysql-db=mse_demo --tables=1 --table-size=50 --threads=1)
"${sb[@]}" oltp_read_write prepare >/dev/null 2>&1 || true
"${sb[@]}" --time=2 oltp_read_write run >/dev/null 2>&1 || true
"${sb[@]}" oltp_read_write cleanup >/dev/null 2>&1 || true

export PGPASSWORD=$SHADOWGATE_PG_PASSWORD
pg=(psql -X -h 127.0.0.1 -p "$pgport" -U "$SHADOWGATE_PG_USER")
for f in "$root"/fixtures/statements/*.sql; do
  PGSSLMODE=disable "${pg[@]}" -d mse_demo -f "$f" >/dev/null 2>&1 || true
done
PGSSLMODE=disable "${pg[@]}" -d mse_demo >/dev/null 2>&1 <<'SQL' || true
SELECT 1; SELECT * FROM mse_demo_table LIMIT 3;
/*lane=gray*/ SELECT id FROM mse_demo_table WHERE id = 1;
SET shadowgate.lane = 'gray'; RESET shadowgate.lane;
BEGIN; UPDATE mse_demo_table SET name = 'y' WHERE id = 1; SAVEPOINT a; ROLLBACK TO a; ROLLBACK;
PREPARE s(int) AS SELECT * FROM mse_demo_table WHERE id = $1; EXECUTE s(1); DEALLOCATE s;
SELECT no_such_column FROM mse_demo_table;
CREATE TEMP TABLE t1 (a int, b text); COPY t1 FROM STDIN;
1	a
2	\N
\.
COPY t1 TO STDOUT;
LISTEN ch; NOTIFY ch, 'x';
DO $$ BEGIN RAISE NOTICE 'hello'; END $$;
\d mse_demo_table
SELECT 1 \bind \g
SQL
# TLS negotiation, then refusal: the SSLRequest with the server's 'S' (the rest is encrypted, kept as seed head).
PGSSLMODE=require "${pg[@]}" -d mse_demo -c 'SELECT 1' >/dev/null 2>&1 || true
PGSSLMODE=disable PGPASSWORD=md5-pass psql -X -h 127.0.0.1 -p "$pgport" -U shadow_md5 -d mse_demo -c 'SELECT 2' >/dev/null 2>&1 || true
PGSSLMODE=disable PGPASSWORD=gray-pass psql -X -h 127.0.0.1 -p "$pgport" -U gray_app -d mse_demo \
  -c "SELECT * FROM mse_demo_table LIMIT 1" >/dev/null 2>&1 || true
PGSSLMODE=disable PGOPTIONS='-c shadowgate.lane=gray' "${pg[@]}" -d mse_demo -c 'SHOW shadowgate.lane' >/dev/null 2>&1 || true
# pgbench: extended protocol (Parse/Bind/Describe/Execute/Sync), prepared mode, and simple mode.
pb=(pgbench -h 127.0.0.1 -p "$pgport" -U "$SHADOWGATE_PG_USER")
PGSSLMODE=disable "${pb[@]}" -i -s 1 -q mse_demo >/dev/null 2>&1 || true
PGSSLMODE=disable "${pb[@]}" -T 2 -c 1 -M prepared mse_demo >/dev/null 2>&1 || true
PGSSLMODE=disable "${pb[@]}" -T 1 -c 1 -M extended mse_demo >/dev/null 2>&1 || true
PGSSLMODE=disable "${pb[@]}" -T 1 -c 1 -M simple -S mse_demo >/dev/null 2>&1 || true
PGSSLMODE=disable "${pb[@]}" -i -I d mse_demo >/dev/null 2>&1 || true
# A cancel request (psql sends one on SIGINT while a query runs).
PGSSLMODE=disable "${pg[@]}" -d mse_demo -c 'SELECT pg_sleep(3)' >/dev/null 2>&1 &
sleep 1; kill -INT $! 2>/dev/null || true; wait $! 2>/dev/null || true
sleep 0.5
echo "capture.sh: $(ls "$out/mysql" | wc -l) MySQL and $(ls "$out/pg" | wc -l) PostgreSQL connections in $out"
