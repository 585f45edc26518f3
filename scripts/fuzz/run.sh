#!/usr/bin/env bash
# Builds the libFuzzer + AddressSanitizer fuzz targets and runs them (see docs/fuzzing.md).
#   scripts/fuzz/run.sh [--smoke] [--time SECONDS] [--merge] [--build-only] [target…]
#     (no option)   run each target for 10 minutes from its corpus in fixtures/fuzz/<target>
#     --smoke       run each target for 15 seconds; exit non-zero on any crash, hang or leak (CI)
#     --time N      run each target for N seconds
#     --merge       fold what runs found into fixtures/fuzz/<target>, minimised (-set_cover_merge=1), then exit
#     --build-only  build the targets and stop
#   targets: mysql-client mysql-server pg-frontend pg-backend sql-lexer sql-rewrite config (default: all)
#   A bare number as the first argument is taken as --time N (older usage).
#
# Library modules are compiled once by SwiftPM into .build-fuzz with -sanitize=fuzzer,address (coverage and ASan
# instrumentation, no linking); each harness in scripts/fuzz/targets is then compiled and linked against those
# objects with swiftc. Nothing here touches Package.swift or the normal .build.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
scratch=$root/.build-fuzz
out=$scratch/fuzz
all_targets=(mysql-client mysql-server pg-frontend pg-backend sql-lexer sql-rewrite config)

seconds=600 smoke=0 merge=0 build_only=0 targets=()
if [[ ${1:-} =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1; seconds=15 ;;
    --time) seconds=${2:?--time needs seconds}; shift ;;
    --merge) merge=1 ;;
    --build-only) build_only=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

sources_of() { # the harness files of a target
  case $1 in
    pg-frontend|pg-backend) echo "scripts/fuzz/targets/$1.swift scripts/fuzz/targets/pg-shared.swift" ;;
    mysql-client|mysql-server|sql-lexer|sql-rewrite|config) echo "scripts/fuzz/targets/$1.swift" ;;
    *) echo "run.sh: unknown target $1 (known: ${all_targets[*]})" >&2; exit 2 ;;
  esac
}
dict_of() {
  case $1 in
    sql-*|mysql-client|pg-frontend) echo "scripts/fuzz/dicts/sql.dict" ;;
    config) echo "scripts/fuzz/dicts/config.dict" ;;
    *) echo "" ;;
  esac
}

# 1. Instrumented library modules. MySQLWire and PostgresWire pull in ShadowSQL, ShadowConfig, Yams and NIOCore.
echo "run.sh: building instrumented modules in .build-fuzz (first build takes several minutes)" >&2
for module in MySQLWire PostgresWire; do
  swift build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address --target "$module" >&2
done
release=$(cd "$scratch/release" && pwd -P)
# Every object SwiftPM produced: only library targets are built here, so no object defines main.
mapfile -t objects < <(find "$release" -path '*.build/*' -name '*.o' | sort)
# Clang modules (NIO's C shims) that the Swift modules import.
module_flags=()
while IFS= read -r map; do module_flags+=(-Xcc "-fmodule-map-file=$map"); done \
  < <(find "$release" -maxdepth 2 -name module.modulemap; find "$scratch/checkouts" -path '*/include/module.modulemap')
while IFS= read -r inc; do module_flags+=(-Xcc -I -Xcc "$inc"); done \
  < <(find "$scratch/checkouts" -type d -path '*/Sources/*/include')

# 2. One fuzzer binary per target.
mkdir -p "$out"
for target in "${targets[@]}"; do
  srcs=$(sources_of "$target")
  bin="$out/$target"
  newest=$(ls -t $srcs scripts/fuzz/support/*.swift "${objects[@]}" | head -1 || true)
  if [ ! -x "$bin" ] || [ "$newest" -nt "$bin" ]; then
    echo "run.sh: linking $target" >&2
    # shellcheck disable=SC2086
    swiftc -O -parse-as-library -sanitize=fuzzer,address -use-ld=lld -module-name "fuzz_${target//-/_}" \
      -I "$release/Modules" "${module_flags[@]}" $srcs scripts/fuzz/support/*.swift "${objects[@]}" -o "$bin"
  fi
done
[ $build_only = 1 ] && exit 0

# 3. Run. The Swift runtime's backtracer fights ASan for the crashing thread; libFuzzer reports instead.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
failed=()
for target in "${targets[@]}"; do
  corpus=fixtures/fuzz/$target
  work=$out/work/$target
  artifacts=$out/artifacts/$target
  mkdir -p "$corpus" "$work" "$artifacts"
  dict=$(dict_of "$target")
  flags=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -n "$dict" ] && flags+=(-dict="$dict")
  if [ $merge = 1 ]; then
    merged=$out/merged/$target
    rm -rf "$merged"; mkdir -p "$merged"
    # Set-cover merge on edge coverage only (no hit counters, no comparison features) and inputs ≤ 8 KiB: keeps
    # the committed corpus at a few hundred small files per target.
    "$out/$target" -set_cover_merge=1 -use_counters=0 -use_cmp=0 "${flags[@]}" -max_len=8192 "$merged" "$corpus" "$work"
    rm -f "$corpus"/*; cp "$merged"/* "$corpus"/
    echo "run.sh: $target corpus minimised to $(ls "$corpus" | wc -l) files" >&2
    continue
  fi
  log=$out/$target.log
  echo "run.sh: fuzzing $target for ${seconds}s (log $log)" >&2
  # New units go to the work directory; the committed corpus is only read.
  if "$out/$target" -max_total_time="$seconds" "${flags[@]}" "$work" "$corpus" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -2 >&2 || true
  else
    echo "run.sh: $target FAILED; input saved under $artifacts:" >&2
    grep -E 'ERROR:|Fatal error|SUMMARY|Test unit written' "$log" | head -8 >&2
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "run.sh: no findings in ${targets[*]}" >&2
