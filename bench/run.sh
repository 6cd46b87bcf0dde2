#!/usr/bin/env bash
# bench/run.sh -- build the benchmarks (Release, into build-bench/) and run
# every one of them, passing the arguments through:
#
#   bash bench/run.sh            # full run (1 GiB, 5 reps; cold section:
#                                #   512 MiB, 5 reps, evicted before each)
#   bash bench/run.sh --quick    # CI: 256 MiB, 3 reps; cold 128 MiB, 2 reps
#   bash bench/run.sh --no-cold  # skip the cold (page cache evicted) section
#   bash bench/run.sh --only analytics   # one benchmark (or a comma list of
#                                #   core, sql_lines, sql_records, vfs_lookup,
#                                #   vfs_threads, tx, speedtest1, memory,
#                                #   analytics); the other arguments pass on
#   bash bench/run.sh --no-analytics     # all but the analytics benchmark
#
# Each benchmark bench/mb_bench_<name>.c prints one table on stdout; it is
# shown and also kept in bench/results/latest-<name>.txt; so is the table of
# bench/speedtest1.sh (SQLite's speedtest1, run last). Progress and build
# output go to stderr and are not kept. Works from any directory.
#
# bench/mb_bench_tx.py (record-table transactions, issue 14) runs on the
# module built here and on a build of the tree before the journal (the
# "old" column), written to bench/results/latest-tx.txt and latest-tx.json:
#   MB_BENCH_TX_OLD=PATH/membase.so   the old build to compare with; default:
#                                     built from MB_BENCH_TX_OLD_REV (1c5137b,
#                                     the unjournaled record table) into
#                                     build-bench/old-REV/ (git archive)
#   MB_BENCH_TX_ARGS="--reps 5"       more arguments for mb_bench_tx.py only
#
# bench/mb_bench_analytics.py (MemBase vs DuckDB, numpy and native SQLite on
# one 10 M-record .npy file; DuckDB through Node and npm @duckdb/node-api,
# installed by the script into ~/.cache/membase/duckdb-node) runs last,
# written to bench/results/latest-analytics.txt:
#   MB_BENCH_ANALYTICS=0              skip it (as --no-analytics does)
#   MB_BENCH_ANALYTICS_ARGS="--rows N" more arguments for it only
set -euo pipefail

# run.sh's own options; the rest go to every benchmark.
only=""
analytics=${MB_BENCH_ANALYTICS:-1}
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --only) only=${2:?run.sh: --only needs a list, e.g. --only analytics}; shift 2 ;;
    --only=*) only=${1#--only=}; shift ;;
    --no-analytics) analytics=0; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- ${args[@]+"${args[@]}"}
for name in ${only//,/ }; do
  case $name in
    core|sql_lines|sql_records|vfs_lookup|vfs_threads|tx|speedtest1|memory|analytics) ;;
    *) echo "run.sh: --only: no benchmark \"$name\" (core, sql_lines, sql_records, vfs_lookup," \
            "vfs_threads, tx, speedtest1, memory, analytics)" >&2; exit 2 ;;
  esac
done
# wanted NAME: whether to run benchmark NAME (--only, else all).
wanted() {
  [ -z "$only" ] && return 0
  case ",$only," in *",$1,"*) return 0 ;; esac
  return 1
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$root/build-bench"
results="$here/results"

# What the benchmarks need: the build tools, and numpy for the record
# table's comparison with np.memmap. Installed as root, else the line to run.
. "$root/tests/scripts/deps.sh"
mb_require_build
mb_require "/usr/bin/python3 -c 'import numpy'" python3-numpy
mb_install_missing

# Configure every time (a second is nothing next to the benchmarks): a new
# bench/mb_bench_*.c must become a target even in an existing build dir.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2

shopt -s nullglob
benches=()
for src in "$here"/mb_bench_*.c; do
  b=$(basename "$src" .c)
  wanted "${b#mb_bench_}" && benches+=("$b")
done
if [ ${#benches[@]} -eq 0 ] && [ -z "$only" ]; then
  echo "run.sh: no benchmarks under $here" >&2
  exit 1
fi

# Build only the benchmarks (and what they link), so a half-written part of
# the tree elsewhere cannot stop a benchmark run. Incremental: a no-op when
# nothing changed.
if [ ${#benches[@]} -gt 0 ]; then
  cmake --build "$build" --target "${benches[@]}" -j "$(nproc 2>/dev/null || echo 2)" >&2
fi

mkdir -p "$results"
status=0
for b in ${benches[@]+"${benches[@]}"}; do
  out="$results/latest-${b#mb_bench_}.txt"
  echo "== $b $*" >&2
  # pipefail: the benchmark's own exit status survives the tee.
  if ! "$build/bench/$b" "$@" | tee "$out"; then
    status=1
    echo "run.sh: $b failed (see above)" >&2
  fi
done

# Record-table transactions: the loadable module, and the build before the
# journal, side by side (mb_bench_tx.py, Python: the sqlite3 module).
if wanted tx; then
  echo "== mb_bench_tx $*" >&2
  tx_old=${MB_BENCH_TX_OLD:-}
  tx_rev=${MB_BENCH_TX_OLD_REV:-1c5137b}
  if [ -z "$tx_old" ] && git -C "$root" rev-parse -q --verify "$tx_rev^{commit}" >/dev/null 2>&1; then
    old_src="$build/old-$tx_rev/src"
    if [ ! -f "$build/old-$tx_rev/build/membase.so" ]; then
      rm -rf "$old_src"; mkdir -p "$old_src"
      git -C "$root" archive "$tx_rev" | tar -x -C "$old_src"
      cmake -S "$old_src" -B "$build/old-$tx_rev/build" -DCMAKE_BUILD_TYPE=Release \
        -DMEMBASE_TESTS=OFF -DMEMBASE_BENCH=OFF -DMEMBASE_HARDENING=OFF >&2
      cmake --build "$build/old-$tx_rev/build" --target membase -j "$(nproc 2>/dev/null || echo 2)" >&2
    fi
    tx_old="$build/old-$tx_rev/build/membase.so"
  fi
  cmake --build "$build" --target membase -j "$(nproc 2>/dev/null || echo 2)" >&2
  # shellcheck disable=SC2086 # MB_BENCH_TX_ARGS is split on purpose
  if ! /usr/bin/python3 "$here/mb_bench_tx.py" --module "$build/membase.so" \
       ${tx_old:+--old "$tx_old"} --json "$results/latest-tx.json" "$@" ${MB_BENCH_TX_ARGS:-} \
       | tee "$results/latest-tx.txt"; then
    status=1
    echo "run.sh: mb_bench_tx.py failed (see above)" >&2
  fi
fi

# SQLite's own speedtest1 on stock SQLite and on the membase VFSes: built by
# its script (from Debian's source package, cached in build-vbench/).
if wanted speedtest1; then
  echo "== speedtest1 $*" >&2
  if ! bash "$here/speedtest1.sh" "$@" | tee "$results/latest-speedtest1.txt"; then
    status=1
    echo "run.sh: speedtest1.sh failed (see above)" >&2
  fi
fi
# Scan resistance under a 1 GiB memory cgroup (root: it makes the cgroup;
# it stops and says why if it cannot). Writes its own results file.
if wanted memory; then
  echo "== mb_bench_memory" >&2
  if ! bash "$here/mb_bench_memory.sh"; then
    status=1
    echo "run.sh: mb_bench_memory.sh failed (see above)" >&2
  fi
fi

# Analytics: MemBase vs DuckDB, numpy and native SQLite (the module built
# here; the DuckDB package is installed by the script when missing).
if wanted analytics && [ "$analytics" != 0 ]; then
  echo "== mb_bench_analytics $*" >&2
  cmake --build "$build" --target membase -j "$(nproc 2>/dev/null || echo 2)" >&2
  # Written to a temporary file first: a failed run (a wrong answer
  # included) is shown but leaves the last good table in place.
  # shellcheck disable=SC2086 # MB_BENCH_ANALYTICS_ARGS is split on purpose
  if /usr/bin/python3 "$here/mb_bench_analytics.py" --module "$build/membase.so" "$@" \
       ${MB_BENCH_ANALYTICS_ARGS:-} >"$results/.latest-analytics.tmp"; then
    cat "$results/.latest-analytics.tmp"
    mv "$results/.latest-analytics.tmp" "$results/latest-analytics.txt"
  else
    cat "$results/.latest-analytics.tmp"
    rm -f "$results/.latest-analytics.tmp"
    status=1
    echo "run.sh: mb_bench_analytics.py failed (see above); bench/results/latest-analytics.txt kept" >&2
  fi
fi
exit $status
