#!/usr/bin/env bash
# packaging/build.sh -- build what users install, into dist/:
#   dist/libsqlite3-mod-membase_<version>_<arch>.deb   the loadable module
#   dist/libmembase-dev_<version>_<arch>.deb           headers, static library, pkg-config
# built with debhelper (dpkg-buildpackage) from packaging/debian/ and checked
# by lintian (a warning or an error fails the build); and the npm packages,
# as `npm pack` names them:
#   dist/membase-<version>.tgz                 the loader (packaging/npm/membase)
#   dist/membase-<platform>-<version>.tgz      one per platform, with its binary:
#     linux-x64, linux-arm64     membase.so for glibc 2.17+ (tests/scripts/zig.sh)
#     darwin-x64, darwin-arm64   membase.dylib (zig.sh; compiled and linked, not run)
#     win32-x64                  membase.dll (mingw-w64; tests/scripts/windows.sh)
#
#   bash packaging/build.sh [--reuse] [--deb-only | --npm-only]
#
# The binaries come from the platform scripts, which build them and run
# their tests; --reuse takes them from their build folders when present
# (tests/run.sh, right after those scripts ran). --deb-only, --npm-only:
# one kind of package.
#
# Installs what the machine lacks (as root) or prints the line to run. The
# package is built from the tracked files of the working tree (git ls-files),
# copied to build-pkg/, so build folders and local files stay out of it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reuse=0 npm=1 deb=1
for a in "$@"; do
    case $a in
        --reuse) reuse=1 ;;
        --deb-only) npm=0 ;;
        --npm-only) deb=0 ;;
        *) echo "usage: bash packaging/build.sh [--reuse] [--deb-only | --npm-only]" >&2; exit 2 ;;
    esac
done
. "$root/tests/scripts/deps.sh"
mb_require_build
mb_require "command -v dpkg-buildpackage" dpkg-dev
mb_require "command -v dh" debhelper
mb_require "command -v lintian" lintian
mb_install_missing

dist=$root/dist
work=$root/build-pkg
mkdir -p "$dist"
if [ $deb -eq 1 ]; then
    # ------------------------------------------------------------ Debian
    rm -rf "$work/membase" "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo
    mkdir -p "$work/membase"
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
fi

[ $npm -eq 1 ] || exit 0

# ------------------------------------------------------------ npm
command -v npm >/dev/null || { echo "packaging: npm is missing; run: apt-get install -y npm" >&2; exit 2; }
zig_out=$root/build-zig
win_out=$root/build-win
declare -A binary=(
    [linux-x64]=$zig_out/linux-x86_64/membase.so
    [linux-arm64]=$zig_out/linux-aarch64/membase.so
    [darwin-x64]=$zig_out/macos-x86_64/membase.dylib
    [darwin-arm64]=$zig_out/macos-arm64/membase.dylib
    [win32-x64]=$win_out/membase.dll
)
if [ $reuse -eq 0 ] || [ ! -f "${binary[linux-x64]}" ] || [ ! -f "${binary[darwin-arm64]}" ]; then
    bash "$root/tests/scripts/zig.sh" "$zig_out"
fi
if [ $reuse -eq 0 ] || [ ! -f "${binary[win32-x64]}" ]; then
    bash "$root/tests/scripts/windows.sh" "$win_out"
fi
stage=$work/npm
rm -rf "$stage"
cp -r "$root/packaging/npm" "$stage"
rm -f "$dist"/membase-*.tgz
for d in "$stage"/*/; do
    name=$(basename "$d")
    key=${name#membase-}
    if [ "$name" = membase ]; then
        # the Node page, without the markers its doc test reads
        sed "/^<!-- doctest: .* -->$/d" "$root/docs/using/node.md" >"$d/README.md"
    else
        src=${binary[$key]:-}
        [ -f "$src" ] || { echo "packaging: no binary for $name (expected $src)" >&2; exit 1; }
        cp "$src" "$d/"
        printf '# %s\n\nMemBase'"'"'s SQLite extension for %s, installed by the `membase` package\n(its loader finds it: `require("membase").getLoadablePath()`). See\nhttps://www.npmjs.com/package/membase.\n' "$name" "$key" >"$d/README.md"
        cp "$root/LICENSE" "$d/"
    fi
    [ -f "$d/LICENSE" ] || cp "$root/LICENSE" "$d/"
    (cd "$dist" && npm pack --loglevel=error "$d" >/dev/null)
done
for t in "$dist"/membase-*.tgz; do echo "packaging: dist/$(basename "$t")"; done
