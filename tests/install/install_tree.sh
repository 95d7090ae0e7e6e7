#!/bin/sh
# install_tree.sh CMAKE BUILD_DIR [GROFF] - ctest install_tree.
# Installs BUILD_DIR into a fresh temporary prefix (and once more with
# DESTDIR), checks every installed file, runs the installed programs, and
# removes the prefix whatever happens.
set -u
cmake=$1
build=$2
groff=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kj-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
fail() {
  echo "FAIL: $*" >&2
  fails=$((fails + 1))
}

# cmake --install writes BUILD/install_manifest.txt; after a
# `sudo cmake --install build` that file is root's.  Then install the
# default component (every rule of dist/CMakeLists.txt is in it), whose
# manifest has another name.
comp=
if [ -e "$build/install_manifest.txt" ] && [ ! -w "$build/install_manifest.txt" ]; then
  echo "install_tree: $build/install_manifest.txt is not writable: --component Unspecified"
  comp="--component Unspecified"
fi
prefix=$tmp/prefix
# shellcheck disable=SC2086 # $comp is empty or two words
if ! "$cmake" --install "$build" --prefix "$prefix" $comp >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" >&2
  echo "FAIL: cmake --install $build --prefix $prefix $comp" >&2
  exit 1
fi

# the programs
for p in kinerja kinerjad; do
  [ -x "$prefix/bin/$p" ] || fail "$prefix/bin/$p missing or not executable"
done
LANGUAGE=en "$prefix/bin/kinerja" --help >"$tmp/kinerja.help" 2>&1 || fail "installed kinerja --help exits $?"
grep -q '^usage: kinerja ' "$tmp/kinerja.help" || fail "installed kinerja --help: no usage line"
# the Indonesian catalogue, found from the program under the prefix (common/i18n.h)
[ -f "$prefix/share/locale/id/LC_MESSAGES/kinerja.mo" ] || fail "$prefix/share/locale/id/LC_MESSAGES/kinerja.mo missing"
env -u LANGUAGE -u LC_ALL -u LC_MESSAGES -u LANG "$prefix/bin/kinerja" --help >"$tmp/kinerja.help.id" 2>&1
grep -q '^cara pakai: kinerja ' "$tmp/kinerja.help.id" || fail "installed kinerja --help is not Indonesian: $(head -1 "$tmp/kinerja.help.id")"
"$prefix/bin/kinerjad" --help >"$tmp/kinerjad.help" 2>&1 || fail "installed kinerjad --help exits $?"
grep -q '^usage: kinerjad ' "$tmp/kinerjad.help" || fail "installed kinerjad --help: no usage line"

# the units, with this prefix's bindir in ExecStart and nothing left unfilled
units=$prefix/lib/systemd/system
check_unit() { # FILE EXPECTED-EXECSTART
  if [ ! -f "$1" ]; then
    fail "$1 missing"
    return
  fi
  grep -qxF "ExecStart=$2" "$1" || fail "$1: no line 'ExecStart=$2'"
  if grep -q '@[A-Z_]*@' "$1"; then fail "$1: unsubstituted @VAR@"; fi
}
check_unit "$units/kinerjad.service" "$prefix/bin/kinerjad --data /var/lib/kinerjad serve"
check_unit "$units/kinerja-sync@.service" \
  "$prefix/bin/kinerja --db /var/lib/kinerja/%i.db sync --watch"
for key in User=kinerjad NoNewPrivileges=yes ProtectSystem=strict \
  ReadWritePaths=/var/lib/kinerjad PrivateTmp=yes Restart=on-failure; do
  grep -qxF "$key" "$units/kinerjad.service" 2>/dev/null || fail "kinerjad.service: no '$key'"
done
grep -qxF User=kinerja "$units/kinerja-sync@.service" 2>/dev/null ||
  fail "kinerja-sync@.service: no 'User=kinerja'"

# the man pages; without warnings when groff is there
for m in man1/kinerja.1 man8/kinerjad.8; do
  f=$prefix/share/man/$m
  if [ ! -s "$f" ]; then
    fail "$f missing or empty"
    continue
  fi
  if [ -n "$groff" ]; then
    "$groff" -man -Tutf8 -ww -z "$f" >"$tmp/groff.log" 2>&1 || fail "groff $f exits $?"
    if [ -s "$tmp/groff.log" ]; then
      cat "$tmp/groff.log" >&2
      fail "groff warns about $f"
    fi
  fi
done

# the man pages name every command of the installed programs' --help and
# every flag of each command's --help (roff source: '.B CMD', '\-\-flag')
check_coverage() { # PROGRAM MANPAGE
  prog=$1
  page=$2
  [ -s "$page" ] || return
  cmds=$("$prog" --help 2>&1 | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p' | sort -u)
  [ -n "$cmds" ] || fail "$prog --help: no commands found"
  for c in $cmds; do
    grep -Eq "^\.B $c( |\$)" "$page" || fail "$page: no entry for command '$c'"
  done
  flags=$( (
    "$prog" --help
    for c in $cmds; do "$prog" "$c" --help; done
  ) 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
  for f in $flags; do
    esc=$(printf '%s' "$f" | sed 's/-/\\-/g')
    grep -qF -- "$esc" "$page" || fail "$page: flag '$f' of $(basename "$prog") not documented"
  done
}
check_coverage "$prefix/bin/kinerja" "$prefix/share/man/man1/kinerja.1"
check_coverage "$prefix/bin/kinerjad" "$prefix/share/man/man8/kinerjad.8"

# DESTDIR staging (packagers): files under DESTDIR, ExecStart without it
stage=$tmp/stage
# shellcheck disable=SC2086
if DESTDIR=$stage "$cmake" --install "$build" --prefix /usr $comp >"$tmp/install2.log" 2>&1; then
  check_unit "$stage/usr/lib/systemd/system/kinerjad.service" \
    "/usr/bin/kinerjad --data /var/lib/kinerjad serve"
  [ -x "$stage/usr/bin/kinerja" ] || fail "DESTDIR install: no $stage/usr/bin/kinerja"
else
  cat "$tmp/install2.log" >&2
  fail "DESTDIR=$stage cmake --install $build --prefix /usr"
fi

if [ "$fails" -ne 0 ]; then
  echo "install_tree: $fails failure(s); installed files:" >&2
  (cd "$tmp" && find . -type f | sort) >&2
  exit 1
fi
echo "install_tree: ok ($prefix)"
