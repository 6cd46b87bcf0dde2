#!/usr/bin/env bash
# tests/scripts/package_deb.sh -- the Debian packages as a user gets them:
# build them (packaging/build.sh), install them with apt-get, use the module
# by its bare name from the sqlite3 shell, Debian's Python and Tcl, link a C
# program through pkg-config, then remove the packages again.
#
#   bash tests/scripts/package_deb.sh
#
# Needs root (it installs packages); prints the line to run otherwise. The
# packages are removed at the end, also when a check fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "package_deb: installing packages needs root; run: sudo bash tests/scripts/package_deb.sh" >&2
    exit 2
fi
. "$root/tests/scripts/deps.sh"
mb_require "command -v pkg-config" pkg-config
mb_require "echo 'if {[catch {package require sqlite3}]} {exit 1}' | tclsh" tcl libsqlite3-tcl
mb_install_missing
bash "$root/packaging/build.sh"

pkgs=(libsqlite3-mod-membase libmembase-dev)
remove() { DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${pkgs[@]}" >/dev/null 2>&1 || true; }
trap remove EXIT
remove
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "$root"/dist/libsqlite3-mod-membase_*.deb "$root"/dist/libmembase-dev_*.deb >/dev/null

want=$(sed -n 's/^project(membase VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
work=$(mktemp -d)
trap 'rm -rf "$work"; remove' EXIT
cd "$work"
fail=0
check() {   # NAME EXPECTED GOT
    if [ "$2" = "$3" ]; then echo "ok: $1: $3"; else echo "FAIL: $1: expected \"$2\", got \"$3\""; fail=1; fi
}
# A text file for membase_lines, and a database through the membase VFS.
printf 'alpha\nbeta\ngamma\n' >lines.txt
check "sqlite3 shell, .load membase" "$want|3" \
    "$(sqlite3 :memory: '.load membase' "SELECT membase_version(), count(*) FROM membase_lines('$work/lines.txt');" 2>&1)"
check "sqlite3 shell, the membase VFS" "membase/unix 2" \
    "$(sqlite3 :memory: '.load membase' ".open file:$work/vfs.db?vfs=membase" \
        "CREATE TABLE t(x); INSERT INTO t VALUES (1),(2);" .vfsname "SELECT count(*) FROM t;" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check "python3 sqlite3, load_extension('membase')" "$want beta" \
    "$(/usr/bin/python3 -c "
import sqlite3
db = sqlite3.connect(':memory:')
db.enable_load_extension(True)
db.load_extension('membase')
v = db.execute('SELECT membase_version()').fetchone()[0]
l = db.execute(\"SELECT line FROM membase_lines('$work/lines.txt') WHERE rowid = 2\").fetchone()[0]
print(v, l)" 2>&1)"
check "tclsh sqlite3, load_extension membase" "$want 3" \
    "$(echo 'package require sqlite3; sqlite3 db :memory:; db enable_load_extension 1
db eval {SELECT load_extension('"'"'membase'"'"')}
puts [db eval {SELECT membase_version(), count(*) FROM membase_lines('"'"'$work/lines.txt'"'"')}]' |
      sed "s|\$work|$work|" | tclsh 2>&1)"
# The static library through pkg-config: membase_register_db on a connection.
cat >prog.c <<'C'
#include <stdio.h>
#include <sqlite3.h>
#include <membase.h>
int main(void) {
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
    if (membase_register_db(db) != SQLITE_OK) { puts(sqlite3_errmsg(db)); return 1; }
    if (sqlite3_prepare_v2(db, "SELECT membase_version()", -1, &st, 0) != SQLITE_OK) return 1;
    if (sqlite3_step(st) == SQLITE_ROW) printf("%s\n", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
C
# shellcheck disable=SC2046  # pkg-config's words are meant to split
cc -o prog prog.c $(pkg-config --cflags membase) $(pkg-config --static --libs membase)
check "C, libmembase.a through pkg-config" "$want" "$(./prog 2>&1)"
[ $fail -eq 0 ] || exit 1
echo "package_deb: the packages install, load by bare name in sqlite3, Python and Tcl, link in C, and remove"
