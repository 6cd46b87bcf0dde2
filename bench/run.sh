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
