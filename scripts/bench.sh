#!/usr/bin/env bash
# Benchmarks (not tests): builds in release, starts the servers, runs the proxy benchmark against direct,
# Shadowgate (base lane and rewriting lane), haproxy (mode tcp) and pgbouncer (session mode).
# Usage: scripts/bench.sh [--protocol mysql|postgres|both] [--rounds N] [--seconds S] [--clients 1,16] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product shadowgate
dir=$(mktemp -d /tmp/shadowgate-bench.XXXXXX)
trap 'bash scripts/servers.sh stop "$dir"; rm -rf "$dir"' EXIT
bash scripts/servers.sh start "$dir"
python3 scripts/bench/proxy_bench.py --servers-env "$dir/env.sh" --shadowgate .build/release/shadowgate "$@"
