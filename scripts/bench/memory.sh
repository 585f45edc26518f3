#!/usr/bin/env bash
# Memory of the wire proxies (a benchmark, not a test): RSS per idle client connection with 1,000 idle clients,
# and the RSS growth while one client slowly reads a 1 GiB result, for MySQL and PostgreSQL.
# Builds `shadowgate` in release (at low priority), starts MariaDB and PostgreSQL with room for the clients, then
# runs scripts/bench/memory_bench.py against a `shadowgate serve` subprocess per measurement.
# Usage: scripts/bench/memory.sh [--protocol mysql|postgres|both] [--clients N] [--result-mib M]
#                                [--read-mib-per-s R] [--row-bytes B] [--sample S] [--idle-result-kib K]
#                                [--skip idle|reader] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
clients=1000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--clients" ] && clients=${args[$((i + 1))]}
done
# Each idle client holds a descriptor in the client process and two in the proxy (client and server sides).
need=$((2 * clients + 256))
[ "$(ulimit -n)" -ge "$need" ] || ulimit -n "$need" || { echo "memory.sh: ulimit -n $need refused" >&2; exit 1; }
kernel_max=$(cat /proc/sys/fs/file-max)
[ "$kernel_max" -ge $((4 * clients)) ] || { echo "memory.sh: fs.file-max $kernel_max is too low for $clients clients" >&2; exit 1; }
nice -n 19 bash scripts/build-release.sh --product shadowgate
dir=$(mktemp -d /tmp/shadowgate-memory.XXXXXX)
trap 'bash scripts/servers.sh stop "$dir"; rm -rf "$dir"' EXIT
bash scripts/servers.sh start "$dir" --max-connections $((clients + 100))
python3 scripts/bench/memory_bench.py --servers-env "$dir/env.sh" --shadowgate .build/release/shadowgate "$@"
