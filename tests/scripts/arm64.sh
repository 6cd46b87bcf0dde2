#!/usr/bin/env bash
# tests/scripts/arm64.sh -- cross-build MemBase for Linux arm64 and run its
# tests under qemu-user (issue 17).
#
#   bash tests/scripts/arm64.sh [build-dir]     (default: build-arm64/)
#
# 1. Installs the cross compiler and qemu (gcc-aarch64-linux-gnu,
#    qemu-user-static) as root, or exits 2 printing the apt-get line.
# 2. Builds a private arm64 sysroot in <build-dir>/sysroot: Debian's arm64
#    packages (libsqlite3, Tcl 8.6 and the sqlite3 Tcl package, libc, ...)
#    fetched by apt-get download with a private apt configuration
#    (<build-dir>/apt: its own sources, lists, status and cache; arm64 only;
#    the host's dpkg never learns of arm64) and unpacked with dpkg-deb -x.
#    apt checks the Release signatures and the packages' hashes as always.
#    The sysroot is kept, so later runs skip this step.
# 3. Configures with cmake/aarch64-linux-gnu.cmake, warnings as errors, and
#    runs under qemu-aarch64 -L <sysroot> (binfmt_misc is not used): the
#    core's C tests, the VFS and table C tests, the Tcl tests (the arm64
#    tclsh8.6 of the sysroot loading the arm64 sqlite3 package and the
#    module) and the shared SQL scripts (mbsql; its "process" children are
#    started through MBSQL_EMULATOR).
# The last line is the summary; with MB_PLATFORM_LINE=FILE it also goes
# into FILE (tests/scripts/platforms_report.sh).
set -euo pipefail
t0=$(date +%s)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/tests/scripts/deps.sh"
build=${1:-$src/build-arm64}
mkdir -p "$build"
build=$(cd "$build" && pwd)
triple=aarch64-linux-gnu

mb_require_build
mb_require "command -v $triple-gcc" gcc-aarch64-linux-gnu
mb_require "command -v qemu-aarch64-static" qemu-user-static
mb_require "command -v dpkg-deb" dpkg
mb_require "test -f /usr/share/keyrings/debian-archive-keyring.gpg" debian-archive-keyring
mb_install_missing

# ------------------------------------------------------------ sysroot
# What the tests load at run time, and the headers the build needs; apt
# adds their dependencies.
pkgs="libc6 libsqlite3-0 libsqlite3-dev libtcl8.6 tcl8.6 libsqlite3-tcl zlib1g sqlite3"
sysroot=$build/sysroot
aptdir=$build/apt
stamp="$sysroot/.membase-sysroot"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$pkgs" ]; then
    echo "arm64.sh: building the arm64 sysroot in $sysroot"
    rm -rf "$sysroot" "$aptdir/debs"
    mkdir -p "$aptdir/state/lists/partial" "$aptdir/cache/archives/partial" \
             "$aptdir/sources.list.d" "$aptdir/preferences.d" "$aptdir/debs"
    : > "$aptdir/state/status"          # nothing installed: apt resolves everything
    key=/usr/share/keyrings/debian-archive-keyring.gpg
    cat > "$aptdir/sources.list" <<SRC
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian bookworm main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian bookworm-updates main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
SRC
    apt=(apt-get -q
         -o APT::Architecture=arm64 -o APT::Architectures::=arm64
         -o Dir::Etc::sourcelist="$aptdir/sources.list"
         -o Dir::Etc::sourceparts="$aptdir/sources.list.d"
         -o Dir::Etc::preferencesparts="$aptdir/preferences.d"
         -o Dir::State="$aptdir/state" -o Dir::State::status="$aptdir/state/status"
         -o Dir::Cache="$aptdir/cache" -o Debug::NoLocking=1
         -o APT::Sandbox::User="$(id -un)"
         -o APT::Get::AllowUnauthenticated=false)
    "${apt[@]}" update >/dev/null
    # The dependency closure, as apt would install it on an empty arm64 system.
    # shellcheck disable=SC2086
    closure=$("${apt[@]}" -s install --no-install-recommends $pkgs | awk '/^Inst /{print $2}')
    [ -n "$closure" ] || { echo "arm64.sh: apt resolved no packages" >&2; exit 1; }
    # shellcheck disable=SC2086
    (cd "$aptdir/debs" && "${apt[@]}" download $closure >/dev/null)
    mkdir -p "$sysroot"
    for deb in "$aptdir"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
    printf '%s\n' "$pkgs" > "$stamp"
    echo "arm64.sh: sysroot has $(find "$aptdir/debs" -name '*.deb' | wc -l) packages"
fi

# ------------------------------------------------------------ build
qemu=$(command -v qemu-aarch64-static)
emu="$qemu -L $sysroot"
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$src" -B "$build" \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" \
    -DMB_ARM64_SYSROOT="$sysroot" -DMEMBASE_WERROR=ON -DMEMBASE_BENCH=OFF \
    "-DMEMBASE_TCLSH=$qemu;-L;$sysroot;$sysroot/usr/bin/tclsh8.6" >/dev/null
cmake --build "$build" -j "$jobs"

# ------------------------------------------------------------ run
# qemu-user sets flags for every page a program reserves: the core's 64 GiB
# reservation per view costs seconds each (core/mb_view.c). Children of the
# SQL scripts' "process" blocks run through qemu too (CMake also sets it).
export MEMBASE_RESERVE_FLOOR=64MiB
export MBSQL_EMULATOR=$emu
# Not run under qemu, each for a reason of the emulator, not of MemBase:
#   4g                  lines_4g, vfs_4g: 4 GiB files; minutes of emulated
#                       copying per test (they run natively)
#   crash.              the kill -9 harness: its kill delays are tuned to
#                       native speed, and it re-executes itself with an
#                       LD_PRELOAD fault library without the emulator
#   tcl.records_crash   kill -9 after 20-270 ms: under qemu the child has
#                       not committed its first batch by then
#   faults.             LD_PRELOAD fault injection: the drivers re-execute
#                       themselves with LD_PRELOAD, without the emulator
#   torture.            timed multi-process, multi-thread rounds: under qemu
#                       too few rounds to mean anything
exclude='4g|^crash\.|^tcl\.records_crash$|^faults\.|^torture\.'
log=$build/arm64-ctest.log
set +e
(cd "$build" && ctest --output-on-failure -j "$((jobs * 2))" -E "$exclude") | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { echo "arm64.sh: ctest failed under qemu (log: $log)" >&2; exit 1; }

# ------------------------------------------------------------ summary
passed() { grep -cE "Test +#[0-9]+: $1[^ ]* \.+ +Passed" "$log" || true; }
n_c=$(( $(passed 'core\.') + $(passed 'vfs\.') + $(passed 'vtab\.') + $(passed 'static\.') ))
n_tcl=$(passed 'tcl\.')
n_sql=$(( $(passed 'sql\.') - $(passed 'sql\.selftest') ))
sql_self=$([ "$(passed 'sql\.selftest')" -eq 1 ] && echo ' + the SQL selftest')
n_all=$(grep -cE "Test +#[0-9]+: " "$log" || true)
qver=$("$qemu" --version | sed -n '1s/^qemu-aarch64 version \([^ ]*\).*/\1/p')
sqlver=$(find "$aptdir/debs" -name 'libsqlite3-0_*_arm64.deb' |
         sed 's/.*libsqlite3-0_\(.*\)_arm64.deb/\1/; s/%3a/:/')
secs=$(( $(date +%s) - t0 ))
# The versions go to the log, not into the line: docs/PLATFORMS.md's table
# is checked against the line, and a Debian update must not fail that.
echo "arm64.sh: qemu-aarch64 $qver, Debian arm64 libsqlite3 $sqlver, tcl 8.6"
line="arm64: $n_c C tests, $n_tcl Tcl test files, $n_sql SQL scripts$sql_self passed under qemu-aarch64 (Debian 12's arm64 libsqlite3 and Tcl 8.6); $n_all ctest tests in all ($secs s)"
if [ -n "${MB_PLATFORM_LINE:-}" ]; then printf '%s\n' "$line" > "$MB_PLATFORM_LINE"; fi
echo "$line"
