#!/bin/sh
# run_fuzz.sh BINARY CORPUS SECONDS - run a libFuzzer target for SECONDS over
# a temp copy of its seed corpus (the repo is never written); a crash
# leaves its input in the temp dir, whose path is printed.
set -u
bin=$(realpath "$1") corpus=$(realpath "$2") secs=$3
work=$(mktemp -d /tmp/kj-fuzz-XXXXXX) || exit 1
mkdir "$work/corpus"
cp "$corpus"/* "$work/corpus/" 2>/dev/null
cd "$work" || exit 1
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 "$work/corpus" 2>"$work/log"
rc=$?
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/log"
if [ $rc -ne 0 ]; then
  tail -60 "$work/log"
  echo "fuzz: $(basename "$bin") failed (rc $rc); inputs and log kept in $work" >&2
  exit $rc
fi
rm -rf "$work"
