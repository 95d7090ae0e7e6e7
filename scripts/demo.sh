#!/usr/bin/env bash
# make demo: the whole system in about a minute, in a temporary directory.
#   1. a central server with master data for three kecamatan offices
#   2. three office PCs enrolled with device tokens
#   3. each office records a month while the server is down
#   4b. each camat sets a PIN with an activation code and approves
#   4. the server comes up; `kinerja sync --watch` on each PC syncs by itself
#   5. the consolidated ranking and one office's employee scores
#   6. the web apps: the BKD dashboard and /publik (kinerjad serve), the office
#      app and its kiosk (kinerja ui), with their addresses
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${KJ_BIN:-$ROOT/build}
KINERJA=$BIN/client/kinerja
KINERJAD=$BIN/server/kinerjad
MONTH=${DEMO_MONTH:-$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)}  # last full month
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kinerja-demo.XXXXXX")
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "demo files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. server: init and master data (3 offices, 30 employees, 4 indicators)"
export KINERJAD_DATA=$WORK/server
"$KINERJAD" init | sed 's/\(admin token: \).*/\1(hidden)/'
python3 "$ROOT/scripts/gen-data.py" master "$WORK/master" --offices 3 --employees-per-office 10
for t in office employee indicator; do
  "$KINERJAD" import "$t" "$WORK/master/${t}s.csv" | tail -n 1
done
# the services each office offers (protocol 2): the pick-list of a survey
printf 'office,name\n' >"$WORK/master/services.csv"
for o in 36.73.01 36.73.02 36.73.03; do
  printf '%s,KTP-el\n%s,Kartu Keluarga\n%s,Akta Kelahiran\n' "$o" "$o" "$o" >>"$WORK/master/services.csv"
done
"$KINERJAD" import service "$WORK/master/services.csv" | tail -n 1
# each camat (the office's head, first of its roster) gets an activation
# code to set a PIN at the office PC; it reaches the PC with the first sync
mkdir -p "$WORK/codes"
for o in 36.73.01 36.73.02 36.73.03; do
  head=$(python3 -c 'import csv, sys
print(next(r["nip"] for r in csv.DictReader(open(sys.argv[1])) if r["office"] == sys.argv[2]))' \
    "$WORK/master/employees.csv" "$o")
  echo "$head" >"$WORK/codes/$o.head"
  "$KINERJAD" person activate "$head" --days 1 | sed -n 's/^activation code: //p' >"$WORK/codes/$o.code"
done
echo "  activation codes made for the three camats"

step "2. enrol three office devices"
OFFICES=(36.73.01 36.73.02 36.73.03)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=https://127.0.0.1:$PORT
for o in "${OFFICES[@]}"; do
  tok=$("$KINERJAD" device add --office "$o" --name "PC $o" | sed -n 's/^device token: //p')
  # the token goes in by standard input: never on a command line that ps shows
  printf '%s\n' "$tok" | "$KINERJA" --db "$WORK/$o.db" init --office "$o" --server "$URL" \
    --token - --ca "$KINERJAD_DATA/cert.pem"
done

step "3. offices record $MONTH while the server is down"
for o in "${OFFICES[@]}"; do
  python3 "$ROOT/scripts/gen-data.py" month "$WORK/$o" --office "$o" --month "$MONTH" \
    --employees "$WORK/master/employees.csv"
  for f in targets activities surveys complaints; do
    "$KINERJA" --db "$WORK/$o.db" import "$f" "$WORK/$o/$f.csv" >/dev/null
  done
  # ratings are written by their raters: the month's appraisal forms are
  # loaded at the BKD (a PC takes a rating only from its rater, signed in)
  "$KINERJAD" import rating "$WORK/$o/ratings.csv" >/dev/null
  echo "  [$o] $("$KINERJA" --db "$WORK/$o.db" status | sed -n 's/^pending: *//p') waiting for the server"
done

step "4. clients start 'kinerja sync --watch' (server still down), then the server comes up"
for o in "${OFFICES[@]}"; do
  "$KINERJA" --db "$WORK/$o.db" sync --watch --interval 5 >"$WORK/$o.sync.log" 2>&1 &
  PIDS+=($!)
done
sleep 2
"$KINERJAD" serve --listen "127.0.0.1:$PORT" >"$WORK/server.out" 2>"$WORK/server.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^listening on' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
cat "$WORK/server.out"
for o in "${OFFICES[@]}"; do
  for _ in $(seq 1 300); do
    if "$KINERJA" --db "$WORK/$o.db" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["pending"] == 0 and d["state"] == "ok" else 1)'; then break; fi
    sleep 0.1
  done
  "$KINERJA" --db "$WORK/$o.db" status --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
print("  [%s] state %s, %d changes pending, last sync %s" %
      (sys.argv[1], d["state"], d["pending"], d.get("last_sync")))' "$o"
done
echo "  services 36.73.01 pulled: $("$KINERJA" --db "$WORK/36.73.01.db" list service --json |
  python3 -c 'import json, sys; print(", ".join(r["name"] for r in json.load(sys.stdin)))')"
echo "  what 'kinerja sync --watch' logged on 36.73.01:"
sed 's/^/    /' "$WORK/36.73.01.sync.log"

step "4b. each camat sets a PIN with the activation code and approves what waits"
for o in "${OFFICES[@]}"; do
  head=$(cat "$WORK/codes/$o.head")
  export KINERJA_PIN=$((RANDOM % 900000 + 100000))
  "$KINERJA" --db "$WORK/$o.db" person setup "$head" --code "$(cat "$WORK/codes/$o.code")" >/dev/null
  # the staff's submitted activities (the camat's own are approved at the BKD)
  ids=$("$KINERJA" --db "$WORK/$o.db" list activity --status submitted --json | python3 -c 'import json, sys
print(" ".join(r["id"] for r in json.load(sys.stdin) if r["nip"] != sys.argv[1]))' "$head")
  n=0
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    n=$("$KINERJA" --db "$WORK/$o.db" approve $ids --as "$head" | tail -n 1 | awk '{print $2}')
  fi
  unset KINERJA_PIN
  echo "  [$o] camat $head signed in and approved $n activities"
done
for o in "${OFFICES[@]}"; do
  for _ in $(seq 1 300); do
    if "$KINERJA" --db "$WORK/$o.db" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["pending"] == 0 and d["state"] == "ok" else 1)'; then break; fi
    sleep 0.1
  done
done

step "5. consolidated office ranking for $MONTH"
"$KINERJAD" report offices --period "$MONTH"
step "   employees of 36.73.01"
"$KINERJAD" report employees --period "$MONTH" --office 36.73.01

step "   the same month on the office PC of 36.73.01, offline (kinerja report)"
"$KINERJA" --db "$WORK/36.73.01.db" report --period "$MONTH" || echo "  (kinerja report holds the current and previous month, quarter and year)"

step "6. the web apps: the BKD dashboard (kinerjad serve) and the office app (kinerja ui)"
DEMO_PW=demo-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
printf '%s\n' "$DEMO_PW" >"$WORK/pw" && chmod 600 "$WORK/pw"
"$KINERJAD" user add analis --role analyst --password-file "$WORK/pw" >/dev/null
"$KINERJA" --db "$WORK/36.73.01.db" ui --listen 127.0.0.1:0 --operator-password-file "$WORK/pw" \
  >"$WORK/ui.out" 2>"$WORK/ui.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^open ' "$WORK/ui.out" 2>/dev/null && break; sleep 0.1; done
UI_URL=$(sed -n 's/^open \(http[^ ]*\) in a browser$/\1/p' "$WORK/ui.out")
cat <<TXT
  BKD dashboard:   $URL/  (user analis, password $DEMO_PW; the certificate
                   is the server's own: $KINERJAD_DATA/cert.pem)
  public IKM page: $URL/publik
  office app:      ${UI_URL:-(did not start: see $WORK/ui.log)}  (office 36.73.01:
                   operator, password $DEMO_PW)
  kiosk:           ${UI_URL:-?}kiosk
TXT
if [ -t 0 ]; then
  read -r -p "  the apps run until you press Enter " _ || true
fi

step "where to look next"
cat <<TXT
  README.md, docs/operations.md (deploying for real), docs/protocol.md (the wire),
  docs/scoring.md (the formulas). Run it again with KEEP=1 to keep $WORK.
TXT
