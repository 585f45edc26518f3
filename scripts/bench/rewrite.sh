#!/usr/bin/env bash
# Rewrite-engine benchmark (not a test): release build, medians over 31 batches per case, and heap allocations per
# statement counted with valgrind (difference between 2,000 and 1,000 iterations, so warm-up allocations cancel out).
set -euo pipefail
cd "$(dirname "$0")/../.."
pkg=Benchmarks/RewriteBenchmark
swift build -c release --package-path "$pkg" --scratch-path .build-bench 2>&1 | tail -n 1
bin=.build-bench/release/rewrite-bench
"$bin"
if command -v valgrind >/dev/null 2>&1; then
  echo
  echo "| case index | heap allocations per statement |"
  echo "|---|---|"
  for i in 0 1 2 3 4; do
    a=$(valgrind --tool=memcheck "$bin" --iterations-only 1000 "$i" 2>&1 | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
    b=$(valgrind --tool=memcheck "$bin" --iterations-only 2000 "$i" 2>&1 | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
    echo "| $i | $(python3 -c "print(round(($b-$a)/1000, 2))") |"
  done
fi
