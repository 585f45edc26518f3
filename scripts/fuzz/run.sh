#!/usr/bin/env bash
# Builds the ShadowSQL fuzz target with libFuzzer and AddressSanitizer, then fuzzes it.
#   scripts/fuzz/run.sh [seconds]   (default 60; corpus kept in .build/fuzz/corpus)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
out=.build/fuzz
mkdir -p "$out/corpus"
# Seed the corpus with the statements used by the unit tests' fixtures, if any.
if [ -d fixtures/statements ]; then
    find fixtures/statements -type f -name '*.sql' -exec cp {} "$out/corpus/" \; 2>/dev/null || true
fi
swiftc -sanitize=fuzzer,address -parse-as-library -module-name ShadowSQLFuzz -O \
    $(find Sources/ShadowSQL -name '*.swift') scripts/fuzz/FuzzTarget.swift \
    -o "$out/shadowsql-fuzz"
exec "$out/shadowsql-fuzz" -max_total_time="$seconds" -max_len=4096 "$out/corpus"
