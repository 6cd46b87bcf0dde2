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
# shown and also kept in bench/results/latest-<name>.txt. Progress and build
# output go to stderr and are not kept. Works from any directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$root/build-bench"
results="$here/results"

# Configure when there is no build yet or it is not a Release build.
if ! grep -qs '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
fi

# mb_bench_sql_records compares with numpy over np.memmap: it needs
# Debian's python3-numpy (the row is left out without it).
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  echo "run.sh: python3-numpy is missing; for the numpy row run:" >&2
  echo "  apt-get install -y python3-numpy" >&2
fi

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
exit $status
