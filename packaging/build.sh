#!/usr/bin/env bash
# packaging/build.sh -- build what users install, into dist/:
#   dist/libsqlite3-mod-membase_<version>_<arch>.deb   the loadable module
#   dist/libmembase-dev_<version>_<arch>.deb           headers, static library, pkg-config
# built with debhelper (dpkg-buildpackage) from packaging/debian/ and checked
# by lintian (a warning or an error fails the build).
#
#   bash packaging/build.sh
#
# Installs what the machine lacks (as root) or prints the line to run. The
# package is built from the tracked files of the working tree (git ls-files),
# copied to build-pkg/, so build folders and local files stay out of it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/tests/scripts/deps.sh"
mb_require_build
mb_require "command -v dpkg-buildpackage" dpkg-dev
mb_require "command -v dh" debhelper
mb_require "command -v lintian" lintian
mb_install_missing

dist=$root/dist
work=$root/build-pkg
rm -rf "$work"
mkdir -p "$work/membase" "$dist"
# the source: tracked files as they are in the working tree
(cd "$root" && git ls-files -z | tar --null -T - -cf -) | tar -C "$work/membase" -xf -
rm -rf "$work/membase/debian"
cp -r "$root/packaging/debian" "$work/membase/debian"

echo "packaging: dpkg-buildpackage (log: $work/build.log)"
if ! (cd "$work/membase" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log" >&2
    echo "packaging: dpkg-buildpackage failed (log: $work/build.log)" >&2
    exit 1
fi
debs=("$work"/*.deb)
# lintian on the .changes checks both packages and the upload together
if ! lintian --fail-on error,warning --suppress-tags bad-distribution-in-changes-file "$work"/*.changes; then
    echo "packaging: lintian found problems (above)" >&2
    exit 1
fi
rm -f "$dist"/*.deb
cp "${debs[@]}" "$dist/"
for d in "${debs[@]}"; do echo "packaging: dist/$(basename "$d")"; done
