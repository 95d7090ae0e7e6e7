#!/usr/bin/env bash
# Profile the client's side of a push: `kinerja sync` pushing N new surveys
# (default 100,000) to a real kinerjad, under valgrind --tool=callgrind, and
# print the instructions per record of the whole program and of each part
# of its push (inclusive: the outbox read, the encode, the compression,
# the answer's decode, the acknowledgement, TLS), then the top functions.
# callgrind counts instructions: the figures do not depend on the
# machine's load (docs/performance.md "Push throughput" cites them).
#   bench/profile-client.sh [BUILD] [N] [OUT]   (OUT: keep callgrind's file there)
# LINK_RATE=B/s: the PC's last sync measured that rate (meta link_rate:
# batch sizes and zstd level from the first batch, docs/protocol.md
# "Pipelined push"); unset: none known (the first batches at level 12, and
# under valgrind the push measures the client's own slowed pace).
# Valgrind slows kinerja ~50x: a push of 100,000 takes a few minutes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${2:-100000}
OUT=${3:-}
KINERJA=$BUILD/client/kinerja
KINERJAD=$BUILD/server/kinerjad
command -v valgrind >/dev/null || { echo "profile-client: valgrind is not installed" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kinerja-cprof.XXXXXX")
SRV_PID=
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
python3 "$ROOT/scripts/gen-data.py" surveys "$WORK/s.csv" --rows "$N" --office 36.73.01 >/dev/null
export KINERJAD_DATA=$WORK/srv
"$KINERJAD" init >/dev/null
printf 'code,name,region,population\n36.73.01,Kantor,Bench,1000\n' >"$WORK/o.csv"
"$KINERJAD" import office "$WORK/o.csv" >/dev/null
# kinerja under valgrind writes a request far slower than the server's
# default header timeout (10 s) allows
printf 'header_timeout_ms = 600000\nidle_timeout_ms = 600000\n' >>"$KINERJAD_DATA/kinerjad.conf"
tok=$("$KINERJAD" device add --office 36.73.01 | sed -n 's/^device token: //p')
"$KINERJAD" serve --listen 127.0.0.1:0 >"$WORK/out" 2>"$WORK/log" &
SRV_PID=$!
for _ in $(seq 1 600); do grep -q '^listening on' "$WORK/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$WORK/out")
"$KINERJA" --db "$WORK/c.db" init --office 36.73.01 --server "$url" --token "$tok" \
  --ca "$KINERJAD_DATA/cert.pem" >/dev/null
"$KINERJA" --db "$WORK/c.db" import survey "$WORK/s.csv" >/dev/null
if [ -n "${LINK_RATE:-}" ]; then
  sqlite3 "$WORK/c.db" "INSERT OR REPLACE INTO meta(key, value) VALUES ('link_rate', '$LINK_RATE')"
fi
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" --log-file="$WORK/vg.log" \
  "$KINERJA" --db "$WORK/c.db" sync >"$WORK/sync.out" 2>&1 ||
  { cat "$WORK/sync.out" "$WORK/vg.log" >&2; exit 1; }
kill -TERM "$SRV_PID"
wait "$SRV_PID" || true
SRV_PID=
[ -n "$OUT" ] && cp "$WORK/cg.out" "$OUT"
left=$(sqlite3 "$WORK/c.db" "SELECT count(*) FROM outbox" 2>/dev/null || echo "?")
echo "=== client: kinerja sync of $N surveys (outbox rows left: $left)"
# instructions per record, inclusive, of the program and of the parts of
# the push (a function absent from this build prints nothing)
callgrind_annotate --inclusive=yes --threshold=100 "$WORK/cg.out" 2>/dev/null |
  awk -v n="$N" '
    BEGIN {
      split("main kjc_sync_run push_with kjc_outbox_batch_after kjc_outbox_batch_wire " \
            "kj_push_encode_inc kjc_outbox_body kjc_net_send kj_zst_compress kj_gz_compress " \
            "kj_zst_compress_level kjc_net_recv kj_push_answer_decode push_results kjc_outbox_ack kjc_outbox_ack_range " \
            "kjc_store_commit pull Curl_ssl_send mbedtls_ssl_write SSL_write SSL_read sqlite3_step " \
            "malloc free", want, " ")
      for (i in want) order[want[i]] = i
    }
    /^ *[0-9,]+ / {
      fn = $NF; if (fn ~ /^\[/) fn = $(NF-1)
      sub(/^.*:/, "", fn)
      if (fn in order && !(fn in seen)) { v = $1; gsub(",", "", v); seen[fn] = v }
    }
    END {
      for (i = 1; i <= length(want); i++) if (want[i] in seen)
        printf "%12.0f  %s\n", seen[want[i]] / n, want[i]
    }'
echo "=== client: inclusive"
callgrind_annotate --inclusive=yes "$WORK/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -45 || true
echo "=== client: self"
callgrind_annotate "$WORK/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -30 || true
