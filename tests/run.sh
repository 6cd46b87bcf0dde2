#!/usr/bin/env bash
# tests/run.sh -- build MemBase and run every test:
#   1. the release build (warnings are errors): C unit tests of the core and
#      the Tcl tests of the extension, under ctest;
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#      (the kill -9 harness and the LD_PRELOAD fault injection included);
#   2b. the threaded tests under ThreadSanitizer and the C tests under
#      valgrind memcheck (tests/scripts/sanitizers.sh);
#   2c. the libFuzzer targets, 60 s each (tests/scripts/fuzz.sh);
#   3. the core and its unit tests cross-built for Windows with mingw-w64
#      and run under Wine (and the whole extension built as a Windows DLL);
#   3b. the whole suite cross-built for Linux arm64 and run under qemu-aarch64
#      (tests/scripts/arm64.sh; its summary line in build/platforms/);
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
mb_require "command -v x86_64-w64-mingw32-gcc" gcc-mingw-w64-x86-64
mb_require "test -x /usr/lib/wine/wine64" wine64
mb_require "command -v valgrind" valgrind
# SQLite's own test suite (step 4): checked now, so nothing is missing later.
mb_require_suite
mb_install_missing
mb_require_debsrc

jobs=$(nproc)
step() { printf '\n=== %s ===\n' "$*"; }

# The hardening tests (kill -9, fault injection, torture, fuzzing) report
# what they tried here; the table is printed at the end.
report=$root/build/hardening-report
rm -rf "$report"
mkdir -p "$report"

step "release build + tests"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMBASE_WERROR=ON >/dev/null
cmake --build "$root/build" -j "$jobs"
(cd "$root/build" && MB_REPORT_DIR=$report ctest --output-on-failure -j "$jobs")

step "ASan + UBSan build + tests"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DMEMBASE_SANITIZE=ON \
      -DMEMBASE_WERROR=ON -DMEMBASE_BENCH=OFF >/dev/null
cmake --build "$root/build-asan" -j "$jobs"
(cd "$root/build-asan" && ctest --output-on-failure -j "$jobs")

step "ThreadSanitizer (threaded tests) and valgrind memcheck (C tests)"
bash "$root/tests/scripts/sanitizers.sh" all

step "Fuzzing: each libFuzzer target for 60 s (corpus and regressions replayed first)"
MB_REPORT_DIR=$report bash "$root/tests/scripts/fuzz.sh" 60

step "Windows backend: mingw-w64 cross-build, tests under Wine"
bash "$root/tests/scripts/windows.sh" "$root/build-win"

step "Linux arm64: cross-build, tests under qemu-aarch64"
mkdir -p "$root/build/platforms"
MB_PLATFORM_LINE=$root/build/platforms/40-linux-arm64.line \
    bash "$root/tests/scripts/arm64.sh" "$root/build-arm64"

step "SQLite's own test suite on the membase VFS"
bash "$root/tests/scripts/sqlite_suite.sh"

step "hardening: what was tried and survived (quick setting)"
bash "$root/tests/scripts/hardening_report.sh" "$report"

echo
echo "membase: all test suites passed"
