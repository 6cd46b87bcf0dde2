#!/usr/bin/env bash
# tests/scripts/sqlite_old.sh -- the SQLite version guard against a real
# older SQLite: Debian 11's 3.34.1, from the Debian mirror's bullseye source
# package, built into a sqlite3 shell, which then loads the module.
#
#   bash tests/scripts/sqlite_old.sh MODULE [WORKDIR]
#
# MODULE is the built membase.so; WORKDIR (default build-oldsqlite/ in the
# tree) keeps the download and the shell, so reruns only run the checks.
# The download is verified as apt would: bullseye's InRelease signature
# (gpgv, Debian's archive keyring), the Sources index's SHA256 from it, the
# tarball's SHA256 from the index.
#
# Checks: the old shell loads the module and gets
#   membase needs SQLite 3.40.0 or newer; this is 3.34.1
# as the load's error (and the process lives); the same module loads in the
# system's SQLite (3.40) and answers. The last line printed says so in one
# line (also written to the file $MB_PLATFORM_LINE names, when set, for
# docs/PLATFORMS.md's table). Exit 0 if both hold, 1 if not, 2 if
# something needed is missing (the line to run is printed).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
module=${1:?usage: sqlite_old.sh MODULE [WORKDIR]}
work=${2:-$root/build-oldsqlite}
want=3.34.1
mkdir -p "$work"
. "$root/tests/scripts/debian_sqlite.sh"

shell=$work/sqlite3-$want
if [ ! -x "$shell" ]; then
    t0=$(date +%s)
    rc=0
    mb_debian_sqlite bullseye "$want" "$work/src" || rc=$?
    [ $rc -eq 0 ] || exit $rc
    cc -O1 -DSQLITE_THREADSAFE=1 -I"$work/src" -o "$shell.tmp" "$work/src/shell.c" "$work/src/sqlite3.c" -lpthread -ldl -lm
    mv "$shell.tmp" "$shell"
    rm -rf "$work/src"
    echo "sqlite_old: built the SQLite $want shell from Debian bullseye's source in $(( $(date +%s) - t0 )) s"
fi

fail=0
got=$("$shell" -version | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "sqlite_old: the shell is SQLite $got, expected $want" >&2; exit 1; }
out=$("$shell" :memory: ".load $module" "SELECT 'loaded';" 2>&1 || true)
expect="membase needs SQLite 3.40.0 or newer; this is $want"
if printf '%s\n' "$out" | grep -qF "$expect" && ! printf '%s\n' "$out" | grep -q '^loaded$'; then
    echo "ok: SQLite $want refuses the load: $expect"
else
    echo "FAIL: SQLite $want loading $module: expected \"$expect\", got:"
    printf '%s\n' "$out" | sed 's/^/    /'
    fail=1
fi
# the same binary in the system's SQLite (the refusal is the version's, not the file's)
out=$(sqlite3 :memory: ".load $module" "SELECT membase_version();" 2>&1 || true)
if printf '%s\n' "$out" | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+'; then
    echo "ok: SQLite $(sqlite3 -version | cut -d' ' -f1) loads it: membase_version() = $out"
else
    echo "FAIL: the system sqlite3 did not load $module:"
    printf '%s\n' "$out" | sed 's/^/    /'
    fail=1
fi
[ $fail -eq 0 ] || exit 1
# the summary line for docs/PLATFORMS.md's table (tests/run.sh)
line="sqlite versions: SQLite $want (built from Debian 11's source) refuses the load with \"$expect\"; SQLite $(sqlite3 -version | cut -d' ' -f1) (the system's) loads the same module"
echo "$line"
[ -z "${MB_PLATFORM_LINE:-}" ] || echo "$line" >"$MB_PLATFORM_LINE"
