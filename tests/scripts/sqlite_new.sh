#!/usr/bin/env bash
# tests/scripts/sqlite_new.sh -- MemBase on a newer SQLite than the
# system's: Debian 13's 3.46.1, from the Debian mirror's trixie source
# package (verified as apt would: tests/scripts/debian_sqlite.sh), built
# as a shared libsqlite3.so.0 that Debian's python3 then loads in place of
# the system's 3.40 (LD_LIBRARY_PATH).
#
#   bash tests/scripts/sqlite_new.sh MODULE [WORKDIR]
#
# MODULE is the built membase.so (built against 3.40's headers, as shipped);
# WORKDIR (default build-newsqlite/ in the tree) keeps the library.
# Checks:
#  - sqlite3_interrupt() stops a membase_aggregate scan between chunks
#    (tests/interrupt/test_interrupt.c against 3.46.1: sqlite3_is_interrupted
#    is found at run time), while on the system's 3.40 the same program
#    shows the scan running to its end (reported, as the manual says);
#  - the aggregate, group and GROUP BY oracles (MB_NEW_ORACLES names
#    others) against SQLite 3.46.1's own aggregates: sum()'s overflow rule
#    changed in 3.43 and the vectorised functions follow the running
#    library's rule.
# The last line printed says what held (also written to $MB_PLATFORM_LINE
# when set). Exit 0 if all held, 1 if not, 2 if a tool is missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
module=$(cd "$(dirname "${1:?usage: sqlite_new.sh MODULE [WORKDIR]}")" && pwd)/$(basename "$1")
work=${2:-$root/build-newsqlite}
want=3.46.1
mkdir -p "$work"
. "$root/tests/scripts/debian_sqlite.sh"

lib=$work/lib/libsqlite3.so.0
if [ ! -f "$lib" ]; then
    t0=$(date +%s)
    rc=0
    mb_debian_sqlite trixie "$want" "$work/src" || rc=$?
    [ $rc -eq 0 ] || exit $rc
    mkdir -p "$work/lib"
    # what Debian's build enables that its python3 and our tests use
    cc -O2 -fPIC -shared -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_COLUMN_METADATA \
       -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_MATH_FUNCTIONS \
       -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ENABLE_DESERIALIZE \
       -Wl,-soname,libsqlite3.so.0 -o "$lib.tmp" "$work/src/sqlite3.c" -lpthread -ldl -lm
    mv "$lib.tmp" "$lib"
    echo "sqlite_new: built libsqlite3.so.0 $want from Debian trixie's source in $(( $(date +%s) - t0 )) s"
fi

fail=0
got=$(LD_LIBRARY_PATH=$work/lib /usr/bin/python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')
[ "$got" = "$want" ] || { echo "sqlite_new: python3 runs SQLite $got with the new library, expected $want" >&2; exit 1; }

tmp=$work/tmp
rm -rf "$tmp" && mkdir -p "$tmp"
cc -O1 -Wall -I"$work/src" -o "$work/test_interrupt_new" "$root/tests/interrupt/test_interrupt.c" \
   -L"$work/lib" -l:libsqlite3.so.0 -lpthread
cc -O1 -Wall -o "$work/test_interrupt_sys" "$root/tests/interrupt/test_interrupt.c" -lsqlite3 -lpthread
if LD_LIBRARY_PATH=$work/lib "$work/test_interrupt_new" "$module" "$tmp" 1; then
    int_new="interrupts stop a scan"
else
    fail=1 int_new="FAIL: interrupt"
fi
"$work/test_interrupt_sys" "$module" "$tmp" 0 || fail=1

n_or=0
# the oracles whose answers follow the running SQLite's aggregates, at a
# third of their quick setting (the same code paths, in CI's time)
for o in ${MB_NEW_ORACLES:-oracle_aggregate oracle_group oracle_groupby}; do
    [ -f "$root/tests/oracle/$o.py" ] || continue
    if LD_LIBRARY_PATH=$work/lib MEMBASE_EXT=$module MEMBASE_TESTDIR=$tmp MB_ORACLE_SCALE=0.3 \
         /usr/bin/python3 "$root/tests/oracle/$o.py" --seed 3; then
        n_or=$((n_or + 1))
    else
        fail=1
    fi
done
rm -rf "$tmp"
[ $fail -eq 0 ] || { echo "sqlite_new: FAILED"; exit 1; }
line="sqlite versions: SQLite $want (built from Debian 13's source, loaded by python3 in place of the system's): $int_new, $n_or oracle(s) agree"
echo "$line"
[ -z "${MB_PLATFORM_LINE:-}" ] || echo "$line" >"$MB_PLATFORM_LINE"
