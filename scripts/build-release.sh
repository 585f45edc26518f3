#!/usr/bin/env bash
# The release build of Shadowgate: what to deploy, and what every benchmark measures.
# Usage: scripts/build-release.sh [swift build options, e.g. --product shadowgate or --package-path DIR]
#
# Beyond `swift build -c release`, it turns off Swift's dynamic exclusivity checks in every module, SwiftNIO
# included. Package.swift already does so for Shadowgate's own data-path modules, but a package cannot set flags for
# its dependencies, and the checks inside SwiftNIO's channel code (each a call into the runtime that looks up a
# thread-local access set) cost about 1–2 µs of CPU per relayed round trip (docs/benchmarks.md, "Statement shapes
# and unchecked exclusivity"). The checks trap on overlapping accesses to a variable, which the compiler already
# rules out statically within a module; debug builds and the test suite keep them.
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift build -c release -Xswiftc -enforce-exclusivity=unchecked "$@"
