#!/usr/bin/env bash
# windows.sh -- MemBase cross-compiled for Windows with mingw-w64 and run
# under Wine: the core, the whole extension (membase.dll) and its tests.
#
#   bash tests/scripts/windows.sh [build-dir]   (default: build-win/ in the source tree)
#
#   1. tests/scripts/sqlite_win.sh builds SQLite for Windows (sqlite3.dll,
#      its import library, sqlite3.exe) from the Debian source the Linux
#      build uses, cached in build-suite/;
#   2. CMake cross-builds membase.dll, the SQL script driver mbsql.exe and
#      the C tests that run on Windows (cmake/mingw-w64-x86_64.cmake;
#      MB_HOST_TESTS is off: no Tcl, Python or fork() tests);
#   3. ctest runs them under Wine: the core's C tests, the VFS's C tests,
#      the static-link test, every tests/sqlscript/*.test (sql.<name>) and
#      the driver's selftest;
#   4. the Windows sqlite3.exe loads membase.dll (.load), queries a record
#      table and membase_lines, and opens a database through the membase VFS.
# The last line is the summary, with the counts of this run; with
# MB_PLATFORM_LINE set it is also written to that file
# (tests/scripts/platforms_report.sh reads it).
#
# Installs nothing. Needs x86_64-w64-mingw32-gcc and /usr/lib/wine/wine64;
# if either is missing it prints the apt-get line and exits 2. Any build or
# test failure exits non-zero.
set -euo pipefail
t0=$(date +%s)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$src/build-win}
mkdir -p "$build"
build=$(cd "$build" && pwd)

if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || [ ! -x /usr/lib/wine/wine64 ]; then
    echo "windows.sh: the mingw-w64 cross compiler and Wine are needed. Install them with:" >&2
    echo "apt-get install -y gcc-mingw-w64-x86-64 wine64 tcl dpkg-dev xz-utils"
    exit 2
fi
wine_ver=$(/usr/lib/wine/wine64 --version | sed -n 's/^wine-\([0-9.]*\).*/\1/p')

# ---------------------------------------------------------------- SQLite
win=$(bash "$src/tests/scripts/sqlite_win.sh" | tail -n 1)
[ -f "$win/sqlite3.dll" ] || { echo "windows.sh: sqlite_win.sh built no sqlite3.dll" >&2; exit 1; }

# ---------------------------------------------------------------- build
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$src" -B "$build" \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/mingw-w64-x86_64.cmake" \
    -DMEMBASE_WERROR=ON -DMEMBASE_BENCH=OFF \
    -DSQLite3_INCLUDE_DIR="$win/include" -DSQLite3_LIBRARY="$win/libsqlite3.dll.a" \
    -DMEMBASE_WINE_DLL_DIR="$win" >/dev/null
cmake --build "$build" -j "$jobs"

# ---------------------------------------------------------------- tests
(cd "$build" && ctest --output-on-failure -j "$jobs")
# LastTest.log holds every test's output, the passing ones' too; kept
# aside, as any later ctest call (ctest -N too) rewrites it.
log=$build/windows-ctest.log
cp "$build/Testing/Temporary/LastTest.log" "$log"
# Counts from this run: the tests ctest knows, the driver's own lines.
tests=$(cd "$build" && ctest -N | sed -n 's/^ *Test *#[0-9]*: //p')
n_c=$(grep -cE '^(core|vfs|static)\.' <<<"$tests" || true)
n_sql=$(grep -E '^sql\.' <<<"$tests" | grep -vcx 'sql.selftest' || true)
grep -qx 'sql.selftest' <<<"$tests" || { echo "windows.sh: no sql.selftest" >&2; exit 1; }
# mbsql prints "SCRIPT: N passed, M failed, S skipped on windows-x86_64 ..."
# per script; the child mbsql of a "process" record prints its own line for
# its temporary script (in the build tree): only the scripts of
# tests/sqlscript/ count, the selftest aside.
summaries=$(awk -v pre="$src/tests/sqlscript/" \
    'index($0, pre) == 1 && / passed, 0 failed, [0-9]+ skipped on windows/ && !/\/selftest\.test:/' "$log")
read -r n_checks n_skip n_lines < <(awk 'NF { p += $2; s += $6; n++ } END { print p + 0, s + 0, n + 0 }' <<<"$summaries")
if [ "$n_lines" -ne "$n_sql" ]; then
    echo "windows.sh: expected $n_sql mbsql summaries in $log, found $n_lines" >&2
    exit 1
fi

# ---------------------------------------------------------------- the shell
# A user's session: the Windows sqlite3.exe loads membase.dll, reads a
# record table and a text file, and keeps a database through the VFS.
smoke=$build/smoke
rm -rf "$smoke" && mkdir -p "$smoke"
printf 'alpha\nbeta\ngamma\n' >"$smoke/log.txt"
printf '\001\000\000\000\002\000\000\000\003\000\000\000' >"$smoke/r.bin"
cat >"$smoke/session.sql" <<EOF
.load $build/membase
CREATE VIRTUAL TABLE temp.r USING membase(file='$smoke/r.bin', layout='a i32');
SELECT 'records', count(*), sum(a) FROM r;
SELECT 'lines', count(*), group_concat(line, ',') FROM membase_lines('$smoke/log.txt');
.open file:$smoke/v.db?vfs=membase
CREATE TABLE t(x);
INSERT INTO t VALUES (1), (2), (3);
SELECT 'vfs', sum(x) FROM t;
.vfsname
EOF
want=$'records|3|6\nlines|3|alpha,beta,gamma\nvfs|6\nmembase/win32'
got=$(cd "$smoke" && "$src/tests/scripts/wine-run.sh" --prefix "$build/wineprefix" \
        --path "$win" "$win/sqlite3.exe" -batch -bail :memory: <"$smoke/session.sql" 2>&1 | tr -d '\r')
if [ "$got" != "$want" ]; then
    printf 'windows.sh: the shell session gave:\n%s\nexpected:\n%s\n' "$got" "$want" >&2
    exit 1
fi
[ -s "$smoke/v.db" ] || { echo "windows.sh: the shell left no v.db" >&2; exit 1; }

line="windows: $n_c C tests, $n_sql SQL scripts ($n_checks checks; $n_skip skipped on Windows) + the SQL selftest, the shell: passed under Wine $wine_ver ($(( $(date +%s) - t0 )) s)"
if [ -n "${MB_PLATFORM_LINE:-}" ]; then echo "$line" >"$MB_PLATFORM_LINE"; fi
echo "$line"
