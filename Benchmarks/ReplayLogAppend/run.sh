#!/usr/bin/env bash
# Sync-mode append throughput of the replay log with group commit, 1/16/64 concurrent appenders.
# Usage: Benchmarks/ReplayLogAppend/run.sh [DIR]   (DIR must be on the disk the log will live on)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$(mktemp -d)}
cd "$root"
swift build -c release --product shadowgate
.build/release/shadowgate replay bench --dir "$dir" --appenders 1,16,64 --records 50000
