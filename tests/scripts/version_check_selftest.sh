#!/bin/sh
# tests/scripts/version_check_selftest.sh -- version_check.sh catches a
# disagreement (ctest: docs.version.selftest). It runs the check on a
# scratch copy of the files it reads, first as they are (must pass), then
# with one version changed at a time (must fail, naming the file and both
# versions), packaging included.
#
#   sh tests/scripts/version_check_selftest.sh [SCRATCH_DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=${1:-${TMPDIR:-/tmp}}/version_check_selftest.$$
fails=0
trap 'rm -rf "$tmp"' EXIT INT TERM

fresh() {
  rm -rf "$tmp"
  mkdir -p "$tmp/ext"
  cp "$root/CMakeLists.txt" "$root/CHANGELOG.md" "$tmp/"
  cp "$root/ext/membase.h" "$tmp/ext/"
}
v=$(sed -n 's/^project(membase[[:space:]].*VERSION[[:space:]]\{1,\}\([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt")

# expect NAME RC PATTERN: the check's exit status is RC and its output
# matches PATTERN (grep -E).
expect() {
  out=$(sh "$here/version_check.sh" --root "$tmp" 2>&1)
  rc=$?
  if [ "$rc" != "$2" ] || ! printf '%s\n' "$out" | grep -Eq "$3"; then
    echo "FAILED $1: exit $rc (expected $2), output:"
    printf '%s\n' "$out" | sed 's/^/    /'
    fails=$((fails + 1))
  else
    echo "ok $1"
  fi
}

fresh
expect as-is 0 "all agree on $v"
expect packaging-absent 0 "packaging/debian/changelog not present"

fresh
awk '!done && /^## \[[0-9]/ { sub(/\[[^]]*\]/, "[9.9.9]"); done = 1 } { print }' \
    "$root/CHANGELOG.md" > "$tmp/CHANGELOG.md"
expect changelog 1 "CHANGELOG.md says 9.9.9, CMakeLists.txt says $v"

fresh
sed "s/^#define MEMBASE_VERSION \".*\"/#define MEMBASE_VERSION \"0.0.9\"/" "$root/ext/membase.h" > "$tmp/ext/membase.h"
expect header 1 "ext/membase.h says 0.0.9, CMakeLists.txt says $v"

fresh
sed "s/^project(membase VERSION [0-9.]*/project(membase VERSION 1.2.3/" "$root/CMakeLists.txt" > "$tmp/CMakeLists.txt"
expect cmake 1 "CHANGELOG.md says $v, CMakeLists.txt says 1.2.3"

fresh
mkdir -p "$tmp/packaging/npm/a" "$tmp/packaging/npm/b"
printf '{\n  "name": "a",\n  "version": "%s"\n}\n' "$v" > "$tmp/packaging/npm/a/package.json"
printf '{\n  "name": "b",\n  "version": "0.0.1"\n}\n' > "$tmp/packaging/npm/b/package.json"
expect npm 1 "packaging/npm/b/package.json says 0.0.1, CMakeLists.txt says $v"
printf '{\n  "name": "b",\n  "version": "%s",\n  "optionalDependencies": {\n    "membase-linux-x64": "%s",\n    "membase-win32-x64": "0.0.3"\n  }\n}\n' "$v" "$v" > "$tmp/packaging/npm/b/package.json"
expect npm-optional 1 "packaging/npm/b/package.json optionalDependencies membase-win32-x64 says 0.0.3, CMakeLists.txt says $v"

fresh
mkdir -p "$tmp/packaging/debian"
printf 'membase (1:%s-2) unstable; urgency=medium\n\n  * Release.\n' "$v" > "$tmp/packaging/debian/changelog"
expect debian-agrees 0 "packaging/debian/changelog $v"
printf 'membase (0.0.2-1) unstable; urgency=medium\n\n  * Release.\n' > "$tmp/packaging/debian/changelog"
expect debian 1 "packaging/debian/changelog says 0.0.2, CMakeLists.txt says $v"

fresh
printf '# Changelog\n\n## [Unreleased]\n' > "$tmp/CHANGELOG.md"
expect no-release 1 "CHANGELOG.md states no version"

if [ "$fails" -gt 0 ]; then
  echo "version_check_selftest: $fails case(s) not caught"
  exit 1
fi
echo "version_check_selftest: every disagreement caught"
