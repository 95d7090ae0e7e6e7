#!/usr/bin/env bash
# Profile one push of N surveys (default 10,000) with valgrind --tool=callgrind:
# the server (kinerjad serve) and the client (kinerja sync), each in its own
# run, and print the top functions by inclusive and self cost; for the
# server first the instructions per record of the push handler and of what
# it calls (callgrind counts instructions: the figure does not depend on
# the machine's load).
#   bench/profile-push.sh [BUILD] [N]       (docs/performance.md cites its output)
#   SIDES=server: profile one side only; KEEP=DIR: keep the callgrind files
# Valgrind slows the profiled side ~50x: the shares matter, not the times.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${2:-10000}
KINERJA=$BUILD/client/kinerja
KINERJAD=$BUILD/server/kinerjad
command -v valgrind >/dev/null || { echo "profile-push: valgrind is not installed" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kinerja-prof.XXXXXX")
SRV_PID=
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
# KEEP=DIR: each side's callgrind output is kept as DIR/server.cg, DIR/client.cg
trap cleanup EXIT
python3 "$ROOT/scripts/gen-data.py" surveys "$WORK/s.csv" --rows "$N" --office 36.73.01

one() { # SIDE: server|client
  local side=$1 d=$WORK/$1
  mkdir -p "$d"
  export KINERJAD_DATA=$d/srv
  "$KINERJAD" init >/dev/null
  printf 'code,name,region,population\n36.73.01,Kantor,Bench,1000\n' >"$d/o.csv"
  "$KINERJAD" import office "$d/o.csv" >/dev/null
  local tok
  tok=$("$KINERJAD" device add --office 36.73.01 | sed -n 's/^device token: //p')
  local pre=()
  [ "$side" = server ] && pre=(valgrind --tool=callgrind --callgrind-out-file="$d/cg.out")
  "${pre[@]}" "$KINERJAD" serve --listen 127.0.0.1:0 >"$d/out" 2>"$d/log" &
  SRV_PID=$!
  for _ in $(seq 1 600); do grep -q '^listening on' "$d/out" 2>/dev/null && break; sleep 0.1; done
  local url
  url=$(sed -n 's/^listening on //p' "$d/out")
  "$KINERJA" --db "$d/c.db" init --office 36.73.01 --server "$url" --token "$tok" \
    --ca "$KINERJAD_DATA/cert.pem" >/dev/null
  "$KINERJA" --db "$d/c.db" import survey "$WORK/s.csv" >/dev/null
  if [ "$side" = client ]; then
    valgrind --tool=callgrind --callgrind-out-file="$d/cg.out" "$KINERJA" --db "$d/c.db" sync \
      2>/dev/null
  else
    "$KINERJA" --db "$d/c.db" sync
  fi
  kill -TERM "$SRV_PID"
  wait "$SRV_PID" || true
  SRV_PID=
  [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$d/cg.out" "$KEEP/$side.cg"
  if [ "$side" = server ]; then
    # instructions per record: the push handler's inclusive cost (decode,
    # digests, the transaction, the answer) over the records pushed
    callgrind_annotate --inclusive=yes "$d/cg.out" 2>/dev/null |
      awk -v n="$N" '/:h_push / { gsub(",", "", $1); printf "=== server: %.0f instructions per record in the push handler (h_push, %d records)\n", $1 / n, n }'
    callgrind_annotate --inclusive=yes --tree=calling "$d/cg.out" 2>/dev/null |
      awk -v n="$N" '/\*  [^ ]*:(h_push|kjs_txn_apply) / { p = 1; print "--- per record, under " $4; next }
        p && /^$/ { p = 0 } p { gsub(",", "", $1); if ($1 / n >= 500) printf "%10.0f  %s\n", $1 / n, $(NF-2) }'
  fi
  echo "=== $side: inclusive"
  callgrind_annotate --inclusive=yes "$d/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -40 || true
  echo "=== $side: self"
  callgrind_annotate "$d/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -25 || true
}
for side in ${SIDES:-server client}; do one "$side"; done
