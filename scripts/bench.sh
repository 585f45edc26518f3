#!/usr/bin/env bash
# Benchmarks (not tests): builds in release, starts the servers, runs the proxy benchmark against direct,
# Shadowgate (base lane and rewriting lane), haproxy (mode tcp), pgbouncer (session mode) and the bare SwiftNIO relay
# of Benchmarks/RelayFloor (the cost floor of any relay on the library Shadowgate's data path uses).
# Usage: scripts/bench.sh [--protocol mysql|postgres|both] [--rounds N] [--seconds S] [--clients 1,16] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build-release.sh --product shadowgate
bash scripts/build-release.sh --package-path Benchmarks/RelayFloor
dir=$(mktemp -d /tmp/shadowgate-bench.XXXXXX)
trap 'bash scripts/servers.sh stop "$dir"; rm -rf "$dir"' EXIT
bash scripts/servers.sh start "$dir"
python3 scripts/bench/proxy_bench.py --servers-env "$dir/env.sh" --shadowgate .build/release/shadowgate \
  --nio-floor Benchmarks/RelayFloor/.build/release/relay-floor "$@"
