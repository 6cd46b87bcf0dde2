#!/usr/bin/env bash
# tests/scripts/sanitizers.sh -- the threaded tests under ThreadSanitizer and the C
# unit tests under valgrind memcheck (part of the hardening tests). Both must be clean.
#
#   bash tests/scripts/sanitizers.sh            # both parts
#   bash tests/scripts/sanitizers.sh tsan       # or one of them
#   bash tests/scripts/sanitizers.sh valgrind
#
# 1. TSan: build-tsan (Debug, MEMBASE_TSAN=ON), then every threaded test
#    with halt_on_error=1: the core tests that start threads (listed in
#    TSAN_CORE_TESTS below: readers during growth and moves, registry
#    acquire/release, cache put/get/release, per-thread guards and
#    untorn fields) and every ctest test labelled `threaded` (the torture
#    tests). The Tcl tests cannot run here: tclsh is not instrumented.
# 2. valgrind: build-vg (RelWithDebInfo, no sanitizer), then every C test
#    (ctest names core.*, vfs.*, faults.*, static.*, and sql.*: the shared
#    SQL scripts, driver and whole module under memcheck) under
#    valgrind --error-exitcode=99 --leak-check=full
#    --errors-for-leak-kinds=definite,indirect. Tests see
#    MB_UNDER_VALGRIND=1; what they skip or shrink because of it they print
#    (tests detect valgrind with RUNNING_ON_VALGRIND where
#    <valgrind/valgrind.h> exists, else with that variable):
#      core.test_guard  deliberate faults on the PROT_NONE reservation (memcheck
#                       flags the reads the guard turns into MB_EFAULT; the
#                       per-thread case faults on truncated pages instead),
#                       and the raw soft-fault reads (valgrind cannot resume
#                       a load after the handler patches the page)
#      core.test_grow   same-address checks after growth (valgrind refuses
#                       the 64 GiB default reservation, so growth moves the
#                       view) and one deliberate fault on the reservation
#      vfs.test_vfs_faults  every 5th write point of each fault sweep
#      faults.powerloss  seed 1, every 4th crash point, no power loss in the
#                       recovery (every child runs under valgrind too)
#    About 2 minutes on 2 vCPUs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jobs=$(nproc)
what=${1:-all}

# The core tests that start threads (grep -l t_thread_start tests/core).
TSAN_CORE_TESTS='^(core\.test_(cache|grow|guard|registry|parallel)|sql\.aggregate)$'
# Under valgrind: every C test (the Tcl tests run in tclsh).
VG_TESTS='^(core|vfs|faults|static|sql)\.'

step() { printf '\n=== %s ===\n' "$*"; }

run_tsan() {
  local b=$root/build-tsan t0
  t0=$(date +%s)
  step "ThreadSanitizer: threaded tests"
  cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=Debug -DMEMBASE_TSAN=ON \
        -DMEMBASE_WERROR=ON -DMEMBASE_BENCH=OFF >/dev/null
  cmake --build "$b" -j "$jobs"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4"
  echo "threaded tests:"
  (cd "$b" && ctest -N -R "$TSAN_CORE_TESTS" | sed -n 's/^ *Test *#[0-9]*: /  /p')
  (cd "$b" && ctest -N -L threaded | sed -n 's/^ *Test *#[0-9]*: /  /p')
  (cd "$b" && ctest --output-on-failure -j "$jobs" -R "$TSAN_CORE_TESTS")
  (cd "$b" && ctest --output-on-failure -j "$jobs" -L threaded --no-tests=ignore)
  echo "tsan: clean ($(( $(date +%s) - t0 )) s)"
}

run_valgrind() {
  local b=$root/build-vg t0
  t0=$(date +%s)
  step "valgrind memcheck: C tests"
  command -v valgrind >/dev/null || { echo "valgrind is not installed: apt-get install valgrind" >&2; exit 1; }
  # Every add_test() whose command is a built program runs through the
  # "emulator" (as the Windows build runs its tests under Wine), so ctest
  # keeps each test's environment, and prints valgrind's report with the
  # test's output when it fails. --trace-children: faults.preload runs
  # itself again with LD_PRELOAD set.
  local vg
  vg="$(command -v valgrind);--error-exitcode=99;--leak-check=full"
  vg+=";--errors-for-leak-kinds=definite,indirect;--track-fds=no;--trace-children=yes"
  # Registers up to date at every memory access: the soft-fault handler
  # returns to retry a faulting load, which valgrind can resume only so.
  vg+=";--vex-iropt-register-updates=allregs-at-mem-access"
  cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMBASE_WERROR=ON \
        -DMEMBASE_BENCH=OFF "-DCMAKE_CROSSCOMPILING_EMULATOR=$vg" >/dev/null
  cmake --build "$b" -j "$jobs"
  echo "tests:"
  (cd "$b" && ctest -N -R "$VG_TESTS" | sed -n 's/^ *Test *#[0-9]*: /  /p')
  (cd "$b" && MB_UNDER_VALGRIND=1 MB_VALGRIND_ALLREGS=1 ctest --output-on-failure -j "$jobs" -R "$VG_TESTS")
  echo "valgrind: clean ($(( $(date +%s) - t0 )) s)"
}

case $what in
  all) run_tsan; run_valgrind ;;
  tsan) run_tsan ;;
  valgrind) run_valgrind ;;
  *) echo "usage: bash tests/scripts/sanitizers.sh [all|tsan|valgrind]" >&2; exit 2 ;;
esac
