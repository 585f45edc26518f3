# Shared by the benchmark scripts (source it from the repository root): a temporary directory with MariaDB and
# PostgreSQL started by scripts/servers.sh, stopped and removed on exit.
#   bench_servers NAME   sets $dir, starts the servers, sources their env.sh, sets h, u, p (MariaDB host and user)
#   bench_on_exit        define it to stop what the script started (called first on exit)
#   free_port            prints a free loopback port

bench_servers() {
  dir=$(mktemp -d "/tmp/shadowgate-$1.XXXXXX")
  chmod 755 "$dir"  # the servers run as their own users
  trap bench_cleanup EXIT
  bash scripts/servers.sh start "$dir/servers" >/dev/null
  # shellcheck disable=SC1091
  source "$dir/servers/env.sh"
  h=$SHADOWGATE_MYSQL_HOST u=$SHADOWGATE_MYSQL_USER p=$SHADOWGATE_MYSQL_PASSWORD
}

bench_cleanup() {
  if declare -F bench_on_exit >/dev/null; then bench_on_exit || true; fi
  bash scripts/servers.sh stop "$dir/servers" >/dev/null 2>&1 || true
  rm -rf "$dir"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
