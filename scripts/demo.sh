#!/usr/bin/env bash
# The demo: installs what is missing, starts MariaDB and PostgreSQL on loopback in a temporary directory, loads the
# seed schema (sql/), starts Shadowgate with fixtures/configs/demo.yaml, runs the gray-release scenario through real
# clients, prints what happened, and leaves the proxy running until Ctrl-C.
# Options: --no-wait   stop after the scenario (for scripted runs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
wait_for_ctrl_c=1
[ "${1:-}" = "--no-wait" ] && wait_for_ctrl_c=0

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
step() { printf '  \033[36m$ %s\033[0m\n' "$*"; }

bash scripts/install-deps.sh
bold "Building shadowgate (debug)…"
swift build --product shadowgate 2>&1 | tail -n 1
bin="$root/.build/debug/shadowgate"

dir=$(mktemp -d /tmp/shadowgate-demo.XXXXXX)
proxy_pid=""
cleanup() {
  if [ -n "$proxy_pid" ]; then kill -TERM "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
  bash scripts/servers.sh stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

bold "Starting MariaDB and PostgreSQL on loopback…"
bash scripts/servers.sh start "$dir"
# shellcheck disable=SC1091
. "$dir/env.sh"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick() { if port_free "$1"; then echo "$1"; else python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; fi; }
my_port=$(pick 13307); pg_port=$(pick 16432); admin_port=$(pick 19901)
sed -e "s/127.0.0.1:13307/127.0.0.1:$my_port/" -e "s/127.0.0.1:16432/127.0.0.1:$pg_port/" \
    -e "s/127.0.0.1:19901/127.0.0.1:$admin_port/" \
    -e "s/127.0.0.1:13306/127.0.0.1:$SHADOWGATE_MYSQL_PORT/" -e "s/127.0.0.1:15432/127.0.0.1:$SHADOWGATE_PG_PORT/" \
    fixtures/configs/demo.yaml >"$dir/demo.yaml"

bold "The routing Shadowgate will apply (shadowgate check):"
"$bin" check --config "$dir/demo.yaml"

bold "Starting the proxy: MySQL on 127.0.0.1:$my_port, PostgreSQL on 127.0.0.1:$pg_port, admin on http://127.0.0.1:$admin_port/"
"$bin" serve --config "$dir/demo.yaml" --log-level notice >"$dir/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 100); do
  if ! port_free "$my_port" && ! port_free "$pg_port"; then break; fi
  kill -0 "$proxy_pid" 2>/dev/null || { cat "$dir/proxy.log"; echo "the proxy exited" >&2; exit 1; }
  sleep 0.1
done

my() { mariadb --no-defaults --comments -h127.0.0.1 -P"$my_port" -ushadow -pshadow-pass mse_demo "$@"; }
my_direct() { mariadb --no-defaults -h127.0.0.1 -P"$SHADOWGATE_MYSQL_PORT" -ushadow -pshadow-pass mse_demo "$@"; }
pg() { PGPASSWORD=shadow-pass psql -X -q -h 127.0.0.1 -p "$pg_port" -U shadow -d mse_demo "$@"; }
pg_direct() { PGPASSWORD=shadow-pass psql -X -q -h 127.0.0.1 -p "$SHADOWGATE_PG_PORT" -U shadow -d mse_demo "$@"; }

bold "MySQL/MariaDB through the proxy"
step "base:  INSERT INTO mse_demo_table(location) VALUES('hangzhou-base')"
my -e "INSERT INTO mse_demo_table(location) VALUES('hangzhou-base')"
step "gray (comment hint):  /* lane=gray */ INSERT INTO mse_demo_table(location) VALUES('hangzhou-gray-hint')"
my -e "/* lane=gray */ INSERT INTO mse_demo_table(location) VALUES('hangzhou-gray-hint')"
step "gray (connection attribute lane=gray, PyMySQL):  INSERT INTO mse_demo_table(location) VALUES('hangzhou-gray-attr')"
python3 - "$my_port" <<'PY'
import sys, pymysql
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="shadow", password="shadow-pass",
                       database="mse_demo", autocommit=True, defer_connect=True)
conn._connect_attrs["lane"] = "gray"
conn.connect()
with conn.cursor() as cur:
    cur.execute("INSERT INTO mse_demo_table(location) VALUES('hangzhou-gray-attr')")
conn.close()
PY
step "gray write to an unmapped table:  /* lane=gray */ INSERT INTO mse_orders(item) VALUES('book')"
my -e "/* lane=gray */ INSERT INTO mse_orders(item) VALUES('book')" || true
echo "  what the server holds (read directly, not through the proxy):"
my_direct -t -e "SELECT 'mse_demo_table' AS tbl, location FROM mse_demo_table UNION ALL SELECT 'mse_demo_table_gray', location FROM mse_demo_table_gray UNION ALL SELECT 'mse_orders', item FROM mse_orders"

bold "PostgreSQL through the proxy"
step "base:  INSERT INTO mse_demo_table(location) VALUES('shanghai-base')"
pg -c "INSERT INTO mse_demo_table(location) VALUES('shanghai-base')"
step "gray (startup option -c shadow.lane=gray):  INSERT INTO mse_demo_table(location) VALUES('shanghai-gray-option')"
PGOPTIONS="-c shadow.lane=gray" pg -c "INSERT INTO mse_demo_table(location) VALUES('shanghai-gray-option')"
step "gray (sqlcommenter hint):  INSERT INTO mse_demo_table(location) VALUES('shanghai-gray-hint') /*lane='gray'*/"
pg -c "INSERT INTO mse_demo_table(location) VALUES('shanghai-gray-hint') /*lane='gray'*/"
step "gray write to an unmapped table:  INSERT INTO mse_orders(item) VALUES('pen')  with -c shadow.lane=gray"
PGOPTIONS="-c shadow.lane=gray" pg -c "INSERT INTO mse_orders(item) VALUES('pen')" || true
echo "  what the server holds (read directly, not through the proxy):"
pg_direct -c "SELECT 'mse_demo_table' AS tbl, location FROM mse_demo_table UNION ALL SELECT 'mse_demo_table_gray', location FROM mse_demo_table_gray UNION ALL SELECT 'mse_orders', item FROM mse_orders"

bold "Shadowgate is running"
cat <<TXT
  MySQL/MariaDB:  mariadb --comments -h127.0.0.1 -P$my_port -ushadow -pshadow-pass mse_demo
                  (JDBC: jdbc:mariadb://127.0.0.1:$my_port/mse_demo?connectionAttributes=lane:gray)
  PostgreSQL:     PGPASSWORD=shadow-pass PGOPTIONS='-c shadow.lane=gray' psql -h 127.0.0.1 -p $pg_port -U shadow mse_demo
  Status page:    http://127.0.0.1:$admin_port/     metrics: http://127.0.0.1:$admin_port/metrics
  Proxy log:      $dir/proxy.log
TXT
if [ "$wait_for_ctrl_c" = 1 ]; then
  echo "Press Ctrl-C to stop."
  while kill -0 "$proxy_pid" 2>/dev/null; do sleep 1; done
fi
