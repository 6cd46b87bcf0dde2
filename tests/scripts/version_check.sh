#!/bin/sh
# tests/scripts/version_check.sh -- every place that states MemBase's
# version states the same one (ctest: docs.version; docs/VERSIONING.md).
#
#   sh tests/scripts/version_check.sh [--root DIR] [MODULE]
#
# Compares, against the project version of CMakeLists.txt
# (project(membase VERSION X.Y.Z ...)):
#   ext/membase.h                  #define MEMBASE_VERSION "X.Y.Z"
#   CHANGELOG.md                   the top released version: the first
#                                  heading "## [X.Y.Z]" ([Unreleased] is not
#                                  a release)
#   MODULE (optional)              membase_version() of a built module,
#                                  through the sqlite3 shell
#   packaging/npm/*/package.json   "version", each file, when present
#   packaging/debian/changelog     the first entry's upstream version
#                                  (epoch and Debian revision removed),
#                                  when present
# Absent packaging is reported as "not present". Exit 0 when all agree; 1
# with one line per disagreement naming the file and both versions; 2 when
# a required file or version cannot be read.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = "--root" ]; then
  root=$2
  shift 2
fi
module=${1:-}
status=0
say() { echo "version_check: $*"; }
die() { echo "version_check: $*" >&2; exit 2; }

[ -f "$root/CMakeLists.txt" ] || die "$root/CMakeLists.txt not found"
want=$(sed -n 's/^project(membase[[:space:]].*VERSION[[:space:]]\{1,\}\([0-9][0-9.]*\).*/\1/p' \
       "$root/CMakeLists.txt" | head -n 1)
[ -n "$want" ] || die "CMakeLists.txt: no project(membase VERSION X.Y.Z ...)"
say "CMakeLists.txt $want"

# check FILE VERSION: VERSION must be the project's.
check() {
  if [ -z "$2" ]; then
    echo "version_check: $1 states no version (CMakeLists.txt says $want)" >&2
    status=1
  elif [ "$2" != "$want" ]; then
    echo "version_check: $1 says $2, CMakeLists.txt says $want" >&2
    status=1
  else
    say "$1 $2"
  fi
}

[ -f "$root/ext/membase.h" ] || die "ext/membase.h not found"
check ext/membase.h "$(sed -n 's/^#define[[:space:]]\{1,\}MEMBASE_VERSION[[:space:]]\{1,\}"\([^"]*\)".*/\1/p' \
                       "$root/ext/membase.h" | head -n 1)"

[ -f "$root/CHANGELOG.md" ] || die "CHANGELOG.md not found"
check CHANGELOG.md "$(sed -n 's/^## \[\([0-9][^]]*\)\].*/\1/p' "$root/CHANGELOG.md" | head -n 1)"

if [ -n "$module" ]; then
  [ -f "$module" ] || die "module $module not found"
  command -v sqlite3 >/dev/null 2>&1 || die "no sqlite3 shell to ask $module"
  got=$(sqlite3 :memory: ".load $module" "SELECT membase_version()" 2>&1) ||
    die "cannot load $module: $got"
  check "membase_version() of $module" "$got"
else
  say "membase_version(): no module given (not checked)"
fi

found=0
for f in "$root"/packaging/npm/*/package.json; do
  [ -f "$f" ] || continue
  found=1
  check "${f#"$root"/}" "$(sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | head -n 1)"
  # the loader's optional platform packages: each pinned to this version
  deps=$(sed -n 's/^[[:space:]]*"\(membase-[a-z0-9-]*\)"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1=\2/p' "$f")
  for dep in $deps; do
    check "${f#"$root"/} optionalDependencies ${dep%%=*}" "${dep#*=}"
  done
done
[ "$found" = 1 ] || say "packaging/npm/*/package.json not present"

f=$root/packaging/debian/changelog
if [ -f "$f" ]; then
  # "membase (1:0.1.0-1) unstable; urgency=medium": upstream is 0.1.0
  v=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$f")
  v=${v#*:}
  check packaging/debian/changelog "${v%-*}"
else
  say "packaging/debian/changelog not present"
fi

if [ "$status" = 0 ]; then say "all agree on $want"; fi
exit $status
