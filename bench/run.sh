#!/usr/bin/env bash
# bench/run.sh -- build the benchmarks (Release, into build-bench/) and run
# every one of them, passing the arguments through:
#
#   bash bench/run.sh            # full run (1 GiB, 5 reps; cold section:
#                                #   512 MiB, 5 reps, evicted before each)
#   bash bench/run.sh --quick    # CI: 256 MiB, 3 reps; cold 128 MiB, 2 reps
#   bash bench/run.sh --no-cold  # skip the cold (page cache evicted) section
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
set -euo pipefail

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
  benches+=("$(basename "$src" .c)")
done
if [ ${#benches[@]} -eq 0 ]; then
  echo "run.sh: no benchmarks under $here" >&2
  exit 1
fi

# Build only the benchmarks (and what they link), so a half-written part of
# the tree elsewhere cannot stop a benchmark run. Incremental: a no-op when
# nothing changed.
cmake --build "$build" --target "${benches[@]}" -j "$(nproc 2>/dev/null || echo 2)" >&2

mkdir -p "$results"
status=0
for b in "${benches[@]}"; do
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

# SQLite's own speedtest1 on stock SQLite and on the membase VFSes: built by
# its script (from Debian's source package, cached in build-vbench/).
echo "== speedtest1 $*" >&2
if ! bash "$here/speedtest1.sh" "$@" | tee "$results/latest-speedtest1.txt"; then
  status=1
  echo "run.sh: speedtest1.sh failed (see above)" >&2
fi
# Scan resistance under a 1 GiB memory cgroup (root: it makes the cgroup;
# it stops and says why if it cannot). Writes its own results file.
echo "== mb_bench_memory" >&2
if ! bash "$here/mb_bench_memory.sh"; then
  status=1
  echo "run.sh: mb_bench_memory.sh failed (see above)" >&2
fi
exit $status
