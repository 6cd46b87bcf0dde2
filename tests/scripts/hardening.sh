#!/usr/bin/env bash
# tests/scripts/hardening.sh -- the hardening runs on their own, quick or long, and
# the table of what they tried and survived (docs/HARDENING.md).
#
#   bash tests/scripts/hardening.sh            # quick: the settings CI runs
#   bash tests/scripts/hardening.sh --long     # long: the separate, longer target
#   add --docs to either to rewrite the table of docs/HARDENING.md with the results
#
# Runs, in build-hard/ (release build, warnings as errors):
#   kill -9 harness      tests/crash/mb_crash: quick --iterations 60
#                        --seconds 90; long --iterations 1000 --seconds 2400
#                        (1000 kills of each of the 9 workloads, the
#                        transfers included: ~15 min release; the bound
#                        is a safety net, not the expected length)
#   fault injection      tests/faults/test_faults_preload: every fault
#                        point of every operation (~15 s; both settings)
#   power loss           tests/faults/test_powerloss: every event of a
#                        record table's commits, quick 4 transactions x 3
#                        seeds; long 8 x 16
#   concurrency torture  tests/torture/mb_torture (when built): quick 2
#                        processes x 2 threads x 6 s; long 4 x 4 x 300 s
#   differential oracles tests/oracle/oracle_*.py: quick seed 1; long
#                        --long (>= 100,000 queries per suite), seed 7
#   fuzzing              tests/scripts/fuzz.sh: 60 s per target, long 600 s
# then tests/scripts/hardening_report.sh prints the table (exit 1 on any failure).
# CI (tests/run.sh) gets the same numbers from its own runs of these tests.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
setting=quick
readme=""
for a in "$@"; do
  case $a in
    --long) setting=long ;;
    --quick) setting=quick ;;
    --docs|--readme) readme=--docs ;;   # --readme: the old spelling
    *) echo "usage: bash tests/scripts/hardening.sh [--quick|--long] [--docs]" >&2; exit 2 ;;
  esac
done

b=$root/build-hard
cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMBASE_WERROR=ON \
      -DMEMBASE_BENCH=OFF >/dev/null
cmake --build "$b" -j "$(nproc)"
report=$b/report
rm -rf "$report"
mkdir -p "$report" "$b/tests/tmp"
export MB_REPORT_DIR=$report MB_TEST_TMPDIR=$b/tests/tmp
export MB_HARDENING_SETTING="--$setting"

step() { printf '\n=== %s ===\n' "$*"; }
status=0

step "kill -9 harness ($setting)"
if [ "$setting" = long ]; then
  "$b/tests/crash/mb_crash" --iterations 1000 --seconds 2400 || status=1
else
  "$b/tests/crash/mb_crash" --iterations 60 --seconds 90 || status=1
fi

step "fault injection (every fault point, both settings)"
"$b/tests/faults/test_faults_preload" || status=1

step "power loss ($setting): every write, sync and unlink of a record table's files"
if [ "$setting" = long ]; then
  "$b/tests/faults/test_powerloss" --long || status=1
else
  "$b/tests/faults/test_powerloss" || status=1
fi

if [ -x "$b/tests/torture/mb_torture" ]; then
  step "concurrency torture ($setting)"
  if [ "$setting" = long ]; then
    "$b/tests/torture/mb_torture" --procs 4 --threads 4 --seconds 300 --scenario all || status=1
  else
    "$b/tests/torture/mb_torture" --procs 2 --threads 2 --seconds 6 --scenario all --seed 1 || status=1
  fi
fi

step "differential oracles ($setting): tests/oracle/oracle_*.py"
# quick: the CI setting (ctest runs the same with seed 1); long: 100,000
# queries or more per suite, seed 7
for o in "$root"/tests/oracle/oracle_*.py; do
  [ "$(basename "$o")" = oracle_common.py ] && continue   # the harness
  if [ "$setting" = long ]; then
    MEMBASE_EXT=$b/membase.so MEMBASE_TESTDIR=$b/tests/tmp /usr/bin/python3 "$o" --long --seed 7 || status=1
  else
    MEMBASE_EXT=$b/membase.so MEMBASE_TESTDIR=$b/tests/tmp /usr/bin/python3 "$o" --seed 1 || status=1
  fi
done

step "fuzzing ($setting)"
if [ "$setting" = long ]; then
  bash "$root/tests/scripts/fuzz.sh" 600 || status=1
else
  bash "$root/tests/scripts/fuzz.sh" 60 || status=1
fi

step "what was tried and survived"
bash "$root/tests/scripts/hardening_report.sh" "$report" $readme || status=1
exit $status
