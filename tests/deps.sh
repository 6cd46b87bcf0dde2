# tests/deps.sh -- sourced by tests/run.sh, sql/demo.sh and bench/run.sh.
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
