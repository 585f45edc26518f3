#!/usr/bin/env bash
# Sync-mode append throughput of the replay log with group commit (benchmark, not a test).
# Usage: Benchmarks/ReplayLogAppend/run.sh [DIR] [bench options...]
#   DIR must be on the disk the log will live on (default: a temporary directory).
#   Options: --appenders 1,16,64  --seconds 3  --rounds 5  --variants append/1,zero-filled/1,zero-filled/2
#            --driver eventloops|threads
#   Or: --probe-syncs 2000   (latency of one small write + sync per way a segment can grow, interleaved)
# Prints one line per run and a table of medians (records/s, records per fdatasync, ack latency p50/p99).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$(mktemp -d)}
[ $# -gt 0 ] && shift
swift build -c release --package-path "$here" --product replay-append-bench >/dev/null
"$here/.build/release/replay-append-bench" --dir "$dir" "$@"
