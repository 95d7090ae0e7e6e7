#!/usr/bin/env bash
# make bench: every benchmark of issue "Benchmarks" in one go (bench/bench.py),
# against the Release programs in BUILD (default build/). Prints the table and
# rewrites the measured block of docs/performance.md.
#   scripts/bench.sh [BUILD]      BENCH_QUICK=1 for a short development run
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$BUILD/CMakeCache.txt" 2>/dev/null; then
  echo "bench: $BUILD is not a Release build (cmake -DCMAKE_BUILD_TYPE=Release)" >&2
  exit 1
fi
# 1,000 devices at once need about 2,000 descriptors (client and server side).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
start=$(date +%s)
python3 "$ROOT/bench/bench.py" "$BUILD"
echo "bench: done in $(($(date +%s) - start)) s" >&2
