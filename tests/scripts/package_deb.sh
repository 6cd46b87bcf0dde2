#!/usr/bin/env bash
# tests/scripts/package_deb.sh -- the Debian packages as a user gets them:
# build them (packaging/build.sh: debhelper, lintian), install them with
# apt-get, run the docs/using pages of every client that uses them (the
# sqlite3 shell, Python, Tcl, C, Go, Rust, Ruby, PHP; tests/scripts/doctest.py
# runs each page's code and checks the output the page shows), then remove
# the packages again.
#
#   bash tests/scripts/package_deb.sh
#
# Needs root (it installs packages); prints the line to run otherwise. The
# packages are removed at the end, also when a page fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "package_deb: installing packages needs root; run: sudo bash tests/scripts/package_deb.sh" >&2
    exit 2
fi
. "$root/tests/scripts/deps.sh"
mb_require_packaging
mb_install_missing
bash "$root/packaging/build.sh" --deb-only

pkgs=(libsqlite3-mod-membase libmembase-dev)
remove() { DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${pkgs[@]}" >/dev/null 2>&1 || true; }
trap remove EXIT
remove
arch=$(dpkg --print-architecture)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "$root"/dist/libsqlite3-mod-membase_*_"$arch".deb "$root"/dist/libmembase-dev_*_"$arch".deb >/dev/null
echo "package_deb: installed $(dpkg-query -W -f '${Package} ${Version}, ' "${pkgs[@]}" | sed 's/, $//')"

pages=()
for p in shell python tcl c go rust ruby php; do pages+=("$root/docs/using/$p.md"); done
/usr/bin/python3 "$root/tests/scripts/doctest.py" --dir "$root/build-pkg/doctest" "${pages[@]}"
/usr/bin/python3 "$root/tests/scripts/doctest.py" --dir "$root/build-pkg/doctest" --selftest
echo "package_deb: the packages install; ${#pages[@]} docs/using pages ran against them; removed"
