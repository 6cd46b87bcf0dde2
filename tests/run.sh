#!/usr/bin/env bash
# tests/run.sh -- build MemBase and run every test:
#   1. the release build (warnings are errors): C unit tests of the core and
#      the Tcl tests of the extension, under ctest;
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#      (the kill -9 harness and the LD_PRELOAD fault injection included);
#   2b. the threaded tests under ThreadSanitizer and the C tests under
#      valgrind memcheck (tests/scripts/sanitizers.sh);
#   2c. the libFuzzer targets, MB_FUZZ_SECONDS (20) s each (tests/scripts/fuzz.sh);
#   3. the platforms (docs/PLATFORMS.md): Windows (SQLite built with
#      mingw-w64 from Debian's source; the C tests and the SQL scripts with
#      membase.dll loaded, under Wine; tests/scripts/windows.sh), macOS
#      (membase.dylib for arm64 and x86-64, compiled and linked with Zig,
#      not run) and the portable glibc 2.17 module (tests/scripts/zig.sh),
#      Linux arm64 (cross-built, run under qemu-user; tests/scripts/arm64.sh),
#      and the SQLite version guard against a real SQLite 3.34.1
#      (tests/scripts/sqlite_old.sh), and a newer SQLite, 3.46.1, where
#      sqlite3_interrupt stops the vectorised scans and the oracles run
#      against its aggregates (tests/scripts/sqlite_new.sh); each leaves its summary line in
#      build/platforms/, and docs/PLATFORMS.md's table must match them;
#   3b. the Debian packages (packaging/build.sh): built with debhelper,
#      lintian-clean, installed with apt-get, the docs/using pages of every
#      client run against them (the shell, Python, Tcl, C, Go, Rust, Ruby,
#      PHP), removed (tests/scripts/package_deb.sh); the npm packages packed
#      with the platform stages' binaries, installed beside better-sqlite3,
#      used from Node 20 and Node 22's node:sqlite, the Node page run
#      (tests/scripts/package_npm.sh); the versions agree (version_check.sh);
#   4. SQLite's own test suite (from Debian's source package) with membase as
#      the default VFS, against the same testfixture on stock unix
#      (tests/scripts/sqlite_suite.sh: veryquick, the mmap permutation, process
#      locking, and stock child processes under a membase parent).
# Installs what the machine lacks (as root) or prints the line to run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/tests/scripts/deps.sh"
mb_require_build
mb_require "echo 'if {[catch {package require sqlite3}]} {exit 1}' | tclsh" tcl libsqlite3-tcl
# The record table's tests check that numpy reads the .npy files we write.
mb_require "/usr/bin/python3 -c 'import numpy'" python3-numpy
# bench/report.sh --check (ctest docs.benchmarks) redraws docs/img/bench-*.svg.
mb_require "/usr/bin/python3 -c 'import matplotlib'" python3-matplotlib
mb_require "command -v x86_64-w64-mingw32-gcc" gcc-mingw-w64-x86-64
mb_require "test -x /usr/lib/wine/wine64" wine64
mb_require "command -v valgrind" valgrind
# SQLite's own test suite (step 4): checked now, so nothing is missing later.
mb_require_suite
# The packages and the docs/using pages' clients (the packaging stage).
mb_require_packaging
mb_install_missing
mb_require_debsrc

jobs=$(nproc)
# Each stage's wall time, printed at the end (CI's limit is 90 minutes; we
# keep the whole run under 30).
t_run=$(date +%s) t_step=$t_run step_name= timings=()
step_done() {
    [ -n "$step_name" ] && timings+=("$(printf '%5d s  %s' $(( $(date +%s) - t_step )) "$step_name")")
    t_step=$(date +%s) step_name=$1
}
step() { step_done "$*"; printf '\n=== %s ===\n' "$*"; }
# A platform stage's one-line summary, for docs/PLATFORMS.md's table.
plat=$root/build/platforms
rm -rf "$plat"
mkdir -p "$plat"

# The hardening tests (kill -9, fault injection, torture, fuzzing) report
# what they tried here; the table is printed at the end.
report=$root/build/hardening-report
rm -rf "$report"
mkdir -p "$report"

step "release build + tests"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMBASE_WERROR=ON >/dev/null
cmake --build "$root/build" -j "$jobs"
(cd "$root/build" && MB_REPORT_DIR=$report ctest --output-on-failure -j "$jobs") | tee "$plat/release.log"
n_release=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$plat/release.log")

step "ASan + UBSan build + tests"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DMEMBASE_SANITIZE=ON \
      -DMEMBASE_WERROR=ON -DMEMBASE_BENCH=OFF >/dev/null
cmake --build "$root/build-asan" -j "$jobs"
(cd "$root/build-asan" && ctest --output-on-failure -j "$jobs") | tee "$plat/asan.log"
n_asan=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$plat/asan.log")
n_sql=$(cd "$root/build" && ctest -N -R '^sql\.' -E selftest | sed -n 's/^Total Tests: //p')
echo "linux x86_64: $n_release ctest tests passed in the release build (C, Tcl, $n_sql SQL scripts), $n_asan under ASan+UBSan; TSan, valgrind, fuzzing and SQLite's own suite below" \
    >"$plat/10-linux-x86_64.line"

step "ThreadSanitizer (threaded tests) and valgrind memcheck (C tests)"
bash "$root/tests/scripts/sanitizers.sh" all

fuzz_s=${MB_FUZZ_SECONDS:-20}
step "Fuzzing: each libFuzzer target for $fuzz_s s (corpus and regressions replayed first)"
MB_REPORT_DIR=$report bash "$root/tests/scripts/fuzz.sh" "$fuzz_s"

step "Windows: SQLite and membase.dll built with mingw-w64, C tests and SQL scripts under Wine"
MB_PLATFORM_LINE=$plat/20-windows-x86_64.line bash "$root/tests/scripts/windows.sh" "$root/build-win"

step "macOS (compiled and linked, not run) and the portable Linux module (glibc 2.17), with Zig"
MB_PLATFORM_LINE=$plat/30-macos-and-glibc-2.17.line bash "$root/tests/scripts/zig.sh"

step "Linux arm64: cross-built, tests under qemu-user"
MB_PLATFORM_LINE=$plat/40-linux-arm64.line bash "$root/tests/scripts/arm64.sh" "$root/build-arm64"

step "The SQLite version guard against a real older SQLite (3.34.1, Debian 11's source)"
MB_PLATFORM_LINE=$plat/50-sqlite-versions.line \
    bash "$root/tests/scripts/sqlite_old.sh" "$root/build/membase.so"

step "A newer SQLite (3.46.1, Debian 13's source): interrupts, the oracles"
MB_PLATFORM_LINE=$plat/55-sqlite-newer.line \
    bash "$root/tests/scripts/sqlite_new.sh" "$root/build/membase.so"
bash "$root/tests/scripts/platforms_report.sh" --check "$plat"

step "Debian packages: built, lintian-clean, installed, the docs/using pages run against them, removed"
bash "$root/tests/scripts/package_deb.sh"

step "npm packages: packed (the platform stages' binaries), installed beside better-sqlite3, used from Node 20 and 22"
bash "$root/packaging/build.sh" --npm-only --reuse
bash "$root/tests/scripts/package_npm.sh"
bash "$root/tests/scripts/version_check.sh" "$root/build/membase.so"

step "SQLite's own test suite on the membase VFS"
bash "$root/tests/scripts/sqlite_suite.sh"

step "hardening: what was tried and survived (quick setting)"
bash "$root/tests/scripts/hardening_report.sh" "$report"
step_done ""

echo
echo "stage times:"
printf '%s\n' "${timings[@]}"
printf '%5d s  in all\n' $(( $(date +%s) - t_run ))
echo "membase: all test suites passed"
