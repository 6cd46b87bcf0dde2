# shellcheck shell=bash
# tests/scripts/deps.sh -- sourced by tests/run.sh, sql/demo.sh, bench/run.sh and
# the platform scripts (sqlite_suite.sh, sqlite_win.sh, windows.sh).
# mb_require "<check command>" <debian package>...
#   Runs the check; if it fails, installs the packages with apt-get when we
#   are root, or stops at once printing the exact line to run.
mb_missing_pkgs=()
mb_require() {
    local check=$1; shift
    if ! eval "$check" >/dev/null 2>&1; then
        mb_missing_pkgs+=("$@")
    fi
}
mb_install_missing() {
    [ ${#mb_missing_pkgs[@]} -eq 0 ] && return 0
    local line="apt-get update && apt-get install -y ${mb_missing_pkgs[*]}"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "membase: installing ${mb_missing_pkgs[*]}"
        # apt-get update can fail on one stale mirror list and still leave
        # the index usable; the install below is what must succeed.
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${mb_missing_pkgs[@]}"; then
            echo "membase: installing failed; run as root: $line" >&2
            exit 2
        fi
    else
        echo "membase: missing packages; run as root:" >&2
        echo "  $line" >&2
        exit 2
    fi
    mb_missing_pkgs=()
}
# What every build needs (a fresh machine has these, but say so if not).
mb_require_build() {
    mb_require "command -v cmake" cmake
    mb_require "command -v cc" gcc
    mb_require "command -v make" make
    mb_require "test -f /usr/include/sqlite3ext.h" libsqlite3-dev
    mb_require "command -v sqlite3" sqlite3
}
# What tests/scripts/sqlite_suite.sh needs on top of the build: Debian's source
# package tools and SQLite's testfixture build dependencies.
mb_require_suite() {
    mb_require "command -v dpkg-source" dpkg-dev            # apt-get source unpacks with it
    mb_require "command -v xz" xz-utils
    mb_require "command -v tclsh" tcl
    mb_require "test -f /usr/lib/tcl8.6/tclConfig.sh" tcl8.6-dev   # --with-tcl=/usr/lib/tcl8.6
    mb_require "test -f /usr/include/zlib.h" zlib1g-dev      # testfixture links zlib when found
    mb_require "command -v setpriv" util-linux
    mb_require "command -v timeout" coreutils
}
# Whether apt has a deb-src entry (apt-get source needs one).
mb_have_debsrc() {
    # shellcheck disable=SC2016  # $(CREATED_BY) is apt's, not ours
    apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -x Sources >/dev/null
}
# Not root and no deb-src entry: stop at once with the line to run (as root,
# tests/scripts/sqlite_suite.sh adds the entry itself when it needs it).
mb_require_debsrc() {
    if [ "$(id -u)" -ne 0 ] && ! mb_have_debsrc; then
        echo "membase: apt has no deb-src entry (SQLite's sources are needed); run as root:" >&2
        echo "  sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources" \
             "> /etc/apt/sources.list.d/membase-src.sources && apt-get update" >&2
        exit 2
    fi
}
# What the packaging tests need (tests/scripts/package_deb.sh and
# package_npm.sh): debhelper and lintian for the packages, and every client
# of the docs/using pages, all from Debian (offline: Go and Rust take their
# libraries from Debian's source folders).
mb_require_packaging() {
    mb_require "command -v dpkg-buildpackage" dpkg-dev
    mb_require "command -v dh" debhelper
    mb_require "command -v lintian" lintian
    mb_require "command -v npm" npm
    mb_require "command -v pkg-config" pkg-config
    mb_require "echo 'if {[catch {package require sqlite3}]} {exit 1}' | tclsh" tcl libsqlite3-tcl
    mb_require "/usr/bin/python3 -c 'import apsw'" python3-apsw
    mb_require "command -v go" golang-go
    mb_require "test -d /usr/share/gocode/src/github.com/mattn/go-sqlite3" golang-github-mattn-go-sqlite3-dev
    mb_require "command -v cargo" cargo
    mb_require "ls -d /usr/share/cargo/registry/rusqlite-0.*" librust-rusqlite-dev
    mb_require "ruby -e 'require \"sqlite3\"'" ruby-sqlite3
    mb_require "php -r 'new SQLite3(\":memory:\");'" php-cli php-sqlite3
}
# mb_sqlite_source DIR -- SQLite's source tree, the version of the installed
# /usr/include/sqlite3.h, from Debian's source package (apt-get source
# sqlite3; as root it adds a deb-src entry first if the machine has none).
# Kept in DIR/src/sqlite3-VERSION, so later calls return at once. Sets
# mb_sqlite_version and mb_sqlite_src. Used by tests/scripts/sqlite_suite.sh
# (the testfixture) and tests/scripts/sqlite_win.sh (the Windows build): one
# fetch, one tree, so both test the SQLite the library is compiled against.
# Exits 1 when the fetch fails, 2 when not root and apt lacks a deb-src entry.
mb_sqlite_source() {
    local bs=$1
    mb_sqlite_version=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' /usr/include/sqlite3.h)
    [ -n "$mb_sqlite_version" ] || { echo "membase: no SQLITE_VERSION in /usr/include/sqlite3.h" >&2; exit 1; }
    mb_sqlite_src=$bs/src/sqlite3-$mb_sqlite_version
    [ -f "$mb_sqlite_src/.membase-fetched" ] && return 0
    printf '\n=== %s ===\n' "fetch SQLite $mb_sqlite_version source (apt-get source sqlite3)"
    # Any deb-src line? Without one, apt-get source cannot work.
    if ! mb_have_debsrc; then
        mb_require_debsrc   # not root: stops here with the line to run
        if [ -f /etc/apt/sources.list.d/debian.sources ]; then
            echo "membase: adding /etc/apt/sources.list.d/membase-src.sources (deb-src)"
            sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
                > /etc/apt/sources.list.d/membase-src.sources
        elif grep -qs '^deb ' /etc/apt/sources.list; then
            echo "membase: adding /etc/apt/sources.list.d/membase-src.list (deb-src)"
            sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
                > /etc/apt/sources.list.d/membase-src.list
        else
            echo "membase: found no Debian apt source to copy as deb-src" >&2
            exit 1
        fi
    fi
    # A deb-src entry added (now or earlier) needs its index downloaded.
    if ! apt-get source --print-uris sqlite3 >/dev/null 2>&1; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "membase: apt has no Sources index for sqlite3; run as root:" >&2
            echo "  apt-get update" >&2
            exit 2
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    fi
    local dl=$bs/src/download got deb_ver
    rm -rf "$dl" "$mb_sqlite_src"
    mkdir -p "$dl"
    # The source version of the installed headers first; if the archive has
    # moved on, the current one (same upstream version: checked below).
    deb_ver=$(dpkg-query -W -f='${source:Version}' libsqlite3-dev 2>/dev/null || true)
    (cd "$dl" && { { [ -n "$deb_ver" ] && apt-get source -qq "sqlite3=$deb_ver"; } ||
                   apt-get source -qq sqlite3; }) 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
    got=$(find "$dl" -maxdepth 1 -mindepth 1 -type d -name 'sqlite3-*' | head -1)
    if [ -z "$got" ] || [ ! -f "$got/VERSION" ]; then
        echo "membase: apt-get source sqlite3 failed (see above)" >&2
        exit 1
    fi
    if [ "$(cat "$got/VERSION")" != "$mb_sqlite_version" ]; then
        echo "membase: source is SQLite $(cat "$got/VERSION"), headers are $mb_sqlite_version" >&2
        exit 1
    fi
    mv "$got" "$mb_sqlite_src"
    rm -rf "$dl"
    touch "$mb_sqlite_src/.membase-fetched"
}
