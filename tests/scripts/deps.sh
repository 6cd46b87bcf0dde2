# shellcheck shell=bash
# tests/scripts/deps.sh -- sourced by tests/run.sh, sql/demo.sh and bench/run.sh.
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
