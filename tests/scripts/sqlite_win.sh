#!/usr/bin/env bash
# tests/scripts/sqlite_win.sh -- SQLite for Windows, cross-compiled with
# mingw-w64, so the Windows build of MemBase can be loaded and run under Wine.
#
#   bash tests/scripts/sqlite_win.sh [SUITE-DIR]     (default: <repo>/build-suite)
#
# The SQLite is the one the Linux build uses: the version of the installed
# /usr/include/sqlite3.h, from Debian's source package, fetched once by
# mb_sqlite_source (tests/scripts/deps.sh, shared with sqlite_suite.sh).
#   1. SUITE-DIR/amalg: SQLite's own tools make the amalgamation natively
#      (./configure && make sqlite3.c: mksqlite3c.tcl, with Debian's patches
#      already applied to the tree);
#   2. SUITE-DIR/win: x86_64-w64-mingw32-gcc compiles it into sqlite3.dll,
#      its import library libsqlite3.dll.a, the shell sqlite3.exe (shell.c,
#      linked to the DLL) and include/sqlite3.h, sqlite3ext.h.
# The compile options are Debian's (debian/rules), so a script behaves the
# same on both sides; extension loading is on, as there.
# Each step is skipped when its output is newer than its input, so a rerun
# takes well under a second.
#
# Prints the win directory on its last line. Exit status: 0 when built, 1 on
# a build failure, 2 when packages are missing (with the apt-get line).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bs=${1:-${MEMBASE_SUITE_DIR:-$root/build-suite}}
mkdir -p "$bs"
bs=$(cd "$bs" && pwd)
# shellcheck source-path=SCRIPTDIR source=deps.sh
. "$root/tests/scripts/deps.sh"

cc_win=x86_64-w64-mingw32-gcc
mb_require "command -v $cc_win" gcc-mingw-w64-x86-64
mb_require "command -v make" make
mb_require "command -v tclsh" tcl              # mksqlite3c.tcl makes the amalgamation
mb_require "command -v dpkg-source" dpkg-dev   # apt-get source unpacks with it
mb_require "command -v xz" xz-utils
mb_require "test -f /usr/include/sqlite3.h" libsqlite3-dev
mb_install_missing

mb_sqlite_source "$bs"
src=$mb_sqlite_src

# ---------------------------------------------------------------- amalgamation
amalg=$bs/amalg
if [ ! -f "$amalg/sqlite3.c" ] || [ "$(cat "$amalg/.membase-src" 2>/dev/null)" != "$src" ]; then
    echo "sqlite_win: making the amalgamation of SQLite $mb_sqlite_version ($amalg)"
    rm -rf "$amalg" && mkdir -p "$amalg"
    (cd "$amalg" && "$src/configure" --disable-tcl >configure.log 2>&1) ||
        { tail -20 "$amalg/configure.log" >&2; echo "sqlite_win: configure failed" >&2; exit 1; }
    make -C "$amalg" sqlite3.c shell.c >"$amalg/make.log" 2>&1 ||
        { tail -20 "$amalg/make.log" >&2; echo "sqlite_win: make sqlite3.c failed" >&2; exit 1; }
    echo "$src" >"$amalg/.membase-src"
fi

# ---------------------------------------------------------------- windows
# Debian's options (debian/rules), minus what names a Linux path.
opts=(-O2 -fno-strict-aliasing
      -DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_COLUMN_METADATA
      -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS
      -DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1 -DSQLITE_ENABLE_UNLOCK_NOTIFY
      -DSQLITE_OMIT_LOOKASIDE=1 -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ALLOW_ROWID_IN_VIEW
      -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1 -DSQLITE_ENABLE_LOAD_EXTENSION
      -DSQLITE_ENABLE_JSON1 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_THREADSAFE=1
      -DSQLITE_ENABLE_FTS3_TOKENIZER=1 -DSQLITE_USE_URI=1 -DSQLITE_MAX_SCHEMA_RETRY=25
      -DSQLITE_ENABLE_PREUPDATE_HOOK -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_STMTVTAB
      -DSQLITE_MAX_VARIABLE_NUMBER=250000 -DSQLITE_ENABLE_MATH_FUNCTIONS)
win=$bs/win
mkdir -p "$win/include"
stamp="$cc_win $($cc_win -dumpversion) ${opts[*]}"
if [ "$(cat "$win/.membase-opts" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$win/sqlite3.dll" "$win/sqlite3.exe"
fi
if [ ! -f "$win/sqlite3.dll" ] || [ "$amalg/sqlite3.c" -nt "$win/sqlite3.dll" ]; then
    echo "sqlite_win: compiling sqlite3.dll with $cc_win"
    # -static-libgcc: Wine (and a bare Windows) need not find libgcc's DLL.
    # SQLITE_API=dllexport exports exactly the sqlite3_ API.
    $cc_win "${opts[@]}" "-DSQLITE_API=__declspec(dllexport)" -shared -static-libgcc \
        -o "$win/sqlite3.dll" -Wl,--out-implib,"$win/libsqlite3.dll.a" "$amalg/sqlite3.c"
    rm -f "$win/sqlite3.exe"
fi
if [ ! -f "$win/sqlite3.exe" ]; then
    echo "sqlite_win: compiling sqlite3.exe (the shell) with $cc_win"
    $cc_win "${opts[@]}" -static-libgcc -I"$amalg" -o "$win/sqlite3.exe" \
        "$amalg/shell.c" "$win/libsqlite3.dll.a"
fi
cp -p "$amalg/sqlite3.h" "$amalg/sqlite3ext.h" "$win/include/"
echo "$stamp" >"$win/.membase-opts"
echo "$win"
