#!/usr/bin/env bash
# Starts (or stops) the real database servers Shadowgate's tests and demo run against, on loopback,
# in a temporary directory:
#   - MariaDB "base"    (the production server behind the proxy)
#   - MariaDB "shadow"  (a second server: connection-level shadow database, dual-write mirror)
#   - PostgreSQL "base" and PostgreSQL "shadow" (same roles)
# Usage: servers.sh start DIR [--max-connections N]
#                               → writes DIR/env.sh with SHADOWGATE_* variables (source it); --max-connections
#                                 raises both servers' connection limit (default: MariaDB 2000, PostgreSQL 300)
#        servers.sh stop DIR    → stops what start started (by the PIDs it recorded)
# Any server that fails to start makes the script exit non-zero with its log: never a silent skip.
set -euo pipefail

cmd=${1:?usage: servers.sh start|stop DIR}
dir=${2:?usage: servers.sh start|stop DIR}
max_connections=""
if [ "${3:-}" = "--max-connections" ]; then
  max_connections=${4:?usage: servers.sh start DIR --max-connections N}
  [[ $max_connections =~ ^[0-9]+$ ]] || { echo "servers.sh: --max-connections needs a number" >&2; exit 2; }
elif [ -n "${3:-}" ]; then
  echo "usage: servers.sh start|stop DIR [--max-connections N]" >&2; exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  echo "servers.sh: PostgreSQL server binaries (initdb) not found under /usr/lib/postgresql/*/bin; run scripts/install-deps.sh" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

fail() {
  echo "servers.sh: $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" >&2
  exit 1
}

make_certs() {
  mkdir -p "$dir/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/tls/server.key" -out "$dir/tls/server.pem" >/dev/null 2>&1
  chmod 644 "$dir/tls/server.pem"; chmod 640 "$dir/tls/server.key"
  chgrp postgres "$dir/tls/server.key" 2>/dev/null || true
}

start_mariadb() { # name port
  local name=$1 port=$2 data="$dir/mariadb-$1"
  mkdir -p "$data"
  mariadb-install-db --no-defaults --datadir="$data/data" --user=root --auth-root-authentication-method=socket \
    --skip-test-db >"$data/install.log" 2>&1 || fail "mariadb-install-db ($name) failed" "$data/install.log"
  mariadbd --no-defaults --datadir="$data/data" --user=root --bind-address=127.0.0.1 --port="$port" \
    --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" --log-error="$data/error.log" \
    --skip-name-resolve --max-allowed-packet=1G --max-connections="${max_connections:-2000}" \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=256M \
    --ssl-cert="$dir/tls/server.pem" --ssl-key="$dir/tls/server.key" \
    --general-log=1 --general-log-file="$data/general.log" --lower-case-table-names=0 \
    >/dev/null 2>&1 &
  echo $! >"$data/server.pid"
  local i
  for i in $(seq 1 100); do
    if mariadb --no-defaults -uroot --socket="$data/mysqld.sock" -e 'select 1' >/dev/null 2>&1; then break; fi
    kill -0 "$(cat "$data/server.pid")" 2>/dev/null || fail "MariaDB ($name) exited during start" "$data/error.log"
    sleep 0.2
  done
  mariadb --no-defaults -uroot --socket="$data/mysqld.sock" >"$data/setup.log" 2>&1 <<SQL || fail "MariaDB ($name) setup failed" "$data/setup.log"
INSTALL SONAME 'auth_ed25519';
CREATE USER 'shadow'@'%' IDENTIFIED BY 'shadow-pass';
GRANT ALL ON *.* TO 'shadow'@'%' WITH GRANT OPTION;
CREATE USER 'gray_app'@'%' IDENTIFIED BY 'gray-pass';
GRANT ALL ON *.* TO 'gray_app'@'%';
CREATE USER 'shadow_ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pass');
GRANT ALL ON *.* TO 'shadow_ed'@'%';
SET GLOBAL general_log = 0;
SQL
  mariadb --no-defaults -uroot --socket="$data/mysqld.sock" <"$root/sql/mysql/seed.sql" >"$data/seed.log" 2>&1 \
    || fail "MariaDB ($name) seed failed" "$data/seed.log"
}

start_postgres() { # name port
  local name=$1 port=$2 data="$dir/postgres-$1" bin
  bin=$(pg_bin)
  mkdir -p "$data"; chown postgres:postgres "$data"
  echo "shadow-pass" >"$data/pwfile"; chown postgres "$data/pwfile"
  runuser -u postgres -- "$bin/initdb" -D "$data/data" -U shadow --pwfile="$data/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 >"$data/initdb.log" 2>&1 || fail "initdb ($name) failed" "$data/initdb.log"
  cat >>"$data/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = ${max_connections:-300}
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$dir/tls/server.pem'
ssl_key_file = '$dir/tls/server.key'
log_statement = 'none'
CONF
  cat >"$data/data/pg_hba.conf" <<HBA
local all all trust
host all shadow_trust 127.0.0.1/32 trust
host all shadow_md5 127.0.0.1/32 md5
host all shadow_password 127.0.0.1/32 password
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
HBA
  runuser -u postgres -- "$bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w -t 60 start >/dev/null \
    || fail "PostgreSQL ($name) failed to start" "$data/server.log"
  head -1 "$data/data/postmaster.pid" >"$data/server.pid"
  local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$data" -p "$port" -U shadow)
  "${psql[@]}" -d postgres >"$data/setup.log" 2>&1 <<SQL || fail "PostgreSQL ($name) setup failed" "$data/setup.log"
SET password_encryption = 'md5';
CREATE ROLE shadow_md5 LOGIN SUPERUSER PASSWORD 'md5-pass';
SET password_encryption = 'scram-sha-256';
CREATE ROLE shadow_password LOGIN SUPERUSER PASSWORD 'plain-pass';
CREATE ROLE shadow_trust LOGIN SUPERUSER;
CREATE ROLE gray_app LOGIN SUPERUSER PASSWORD 'gray-pass';
CREATE DATABASE mse_demo;
CREATE DATABASE mse_demo_gray;
SQL
  "${psql[@]}" -d mse_demo -f "$root/sql/postgres/seed.sql" >"$data/seed.log" 2>&1 \
    || fail "PostgreSQL ($name) seed failed" "$data/seed.log"
  "${psql[@]}" -d mse_demo_gray -f "$root/sql/postgres/seed.sql" >>"$data/seed.log" 2>&1 \
    || fail "PostgreSQL ($name) seed of mse_demo_gray failed" "$data/seed.log"
}

stop_all() {
  local f pid
  for f in "$dir"/mariadb-*/server.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for f in "$dir"/postgres-*/data; do
    [ -d "$f" ] || continue
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$f" -m fast -w stop >/dev/null 2>&1 || true
  done
}

case "$cmd" in
  start)
    mkdir -p "$dir"; chmod 755 "$dir"
    make_certs
    my1=$(free_port); my2=$(free_port); pg1=$(free_port); pg2=$(free_port)
    start_mariadb base "$my1"
    start_mariadb shadow "$my2"
    start_postgres base "$pg1"
    start_postgres shadow "$pg2"
    cat >"$dir/env.sh" <<ENV
export SHADOWGATE_SERVERS_DIR='$dir'
export SHADOWGATE_MYSQL_HOST=127.0.0.1
export SHADOWGATE_MYSQL_PORT=$my1
export SHADOWGATE_MYSQL_SHADOW_PORT=$my2
export SHADOWGATE_MYSQL_USER=shadow
export SHADOWGATE_MYSQL_PASSWORD=shadow-pass
export SHADOWGATE_MYSQL_SOCKET='$dir/mariadb-base/mysqld.sock'
export SHADOWGATE_MYSQL_GENERAL_LOG='$dir/mariadb-base/general.log'
export SHADOWGATE_PG_HOST=127.0.0.1
export SHADOWGATE_PG_PORT=$pg1
export SHADOWGATE_PG_SHADOW_PORT=$pg2
export SHADOWGATE_PG_USER=shadow
export SHADOWGATE_PG_PASSWORD=shadow-pass
export SHADOWGATE_PG_SOCKET_DIR='$dir/postgres-base'
export SHADOWGATE_TLS_CERT='$dir/tls/server.pem'
export SHADOWGATE_TLS_KEY='$dir/tls/server.key'
ENV
    echo "servers.sh: MariaDB on $my1 (shadow $my2), PostgreSQL on $pg1 (shadow $pg2); env in $dir/env.sh"
    ;;
  stop) stop_all ;;
  *) echo "usage: servers.sh start|stop DIR" >&2; exit 2 ;;
esac
