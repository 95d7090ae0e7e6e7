#!/bin/sh
# po_complete.sh XGETTEXT MSGFMT SOURCE_DIR XGETTEXT-ARGS... -- SOURCES...
# po/id.po against the sources as they are now: every message marked with
# _(), N_() or P_() is translated (not missing, empty or fuzzy), po/id.po
# has no message the sources lost, and `msgfmt -c` accepts it (each
# translation keeps its message's printf conversions).
set -u
xgettext=$1 msgfmt=$2 src=$3
shift 3
args=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  args="$args $1"
  shift
done
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kj-po.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$src" || exit 1
# shellcheck disable=SC2086 # args are words
"$xgettext" $args -o "$tmp/now.pot" "$@" || exit 1
fails=0
"$msgfmt" -c --statistics -o "$tmp/id.mo" po/id.po 2>"$tmp/stats" || {
  cat "$tmp/stats" >&2
  echo "FAIL: msgfmt -c po/id.po" >&2
  exit 1
}
cat "$tmp/stats"
if grep -q 'untranslated\|fuzzy' "$tmp/stats"; then
  echo "FAIL: po/id.po has untranslated or fuzzy messages" >&2
  fails=1
fi
# the msgids of each file, one per line (msgcat --no-wrap joins them)
ids() {
  msgcat --no-wrap --no-location "$1" | sed -n 's/^msgid "\(.*\)"$/\1/p' | grep -v '^$' | sort -u
}
ids "$tmp/now.pot" >"$tmp/now"
ids po/id.po >"$tmp/po"
if ! cmp -s "$tmp/now" "$tmp/po"; then
  echo "FAIL: po/id.po does not match the sources (cmake --build BUILD --target kinerja-pot, then translate):" >&2
  diff "$tmp/po" "$tmp/now" | sed -n 's/^> /  missing from po\/id.po: /p; s/^< /  no longer in the sources: /p' >&2
  fails=1
fi
exit $fails
