#!/usr/bin/env bash
# mb_bench_memory.sh -- scan resistance under a memory limit.
#
# Creates a memory cgroup (v1 under /sys/fs/cgroup/memory, else v2) with a
# 1 GiB limit and runs bench/mb_bench_memory.py inside it once per mode:
#   off   membase scans with dropbehind=off
#   auto  membase scans with dropbehind=auto
#   ref   the same scans by `grep -c` and numpy's sum over np.memmap
# Each mode: a 400 MB database on the membase VFS, warmed, serving random
# point lookups; a full scan of a 4 GiB log and of a 4 GiB record file;
# lookups again; the page cache the scanned files still hold (mincore).
# The page cache is dropped before every mode, so each starts cold.
# Prints one table with ratios, also written to bench/results/latest-memory.txt.
#
# Needs root (cgroup, drop_caches). If no cgroup can be made it stops and
# says why: it never runs without the limit.
#
# Environment:
#   MB_BENCH_SCALE  size factor (default 1): 0.25 = 1 GiB files, 100 MB db,
#                   256 MiB limit
#   MB_BENCH_DATA   data directory (default build-mbench/data); the files
#                   are generated once per scale and kept
#   MB_BENCH_BUILD  build directory holding membase.so (default build-mbench;
#                   configured and built there if membase.so is missing)
#   MB_BENCH_HOT_SECONDS  length of each lookup phase (default 5)
#   MB_BENCH_MODES  modes to run (default "off auto ref")
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
SCRIPT="$HERE/mb_bench_memory.py"
SCALE=${MB_BENCH_SCALE:-1}
BUILD=${MB_BENCH_BUILD:-$ROOT/build-mbench}
DATA_BASE=${MB_BENCH_DATA:-$ROOT/build-mbench/data}
HOT_SECONDS=${MB_BENCH_HOT_SECONDS:-5}
MODES=${MB_BENCH_MODES:-off auto ref}
OUT="$HERE/results/latest-memory.txt"
CG=""
CG_VERSION=""

die() { echo "mb_bench_memory: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root: it creates a memory cgroup and drops the page cache (run it with sudo)"
[[ -x $PY ]] || die "$PY not found"
"$PY" -c 'import numpy, sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)' \
  || die "$PY needs numpy and sqlite3 with enable_load_extension"

LIMIT=$("$PY" -c "import sys; print(int(1073741824 * float(sys.argv[1])))" "$SCALE") \
  || die "MB_BENCH_SCALE must be a number, got \"$SCALE\""
[[ $LIMIT -ge 67108864 ]] || die "MB_BENCH_SCALE=$SCALE is too small (limit under 64 MiB)"

# ------------------------------------------------------------------ cgroup
V1_ROOT=/sys/fs/cgroup/memory
V2_ROOT=""
if [[ ! -f $V1_ROOT/memory.limit_in_bytes ]]; then
  for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    if [[ -f $d/cgroup.controllers ]] && grep -qw memory "$d/cgroup.controllers"; then
      V2_ROOT=$d
      break
    fi
  done
fi

cg_remove() {
  [[ -n $CG && -d $CG ]] || return 0
  if [[ $CG_VERSION == 1 ]]; then
    echo 0 >"$CG/memory.force_empty" 2>/dev/null || true
  fi
  rmdir "$CG" 2>/dev/null || true
}

cg_create() {
  if [[ -f $V1_ROOT/memory.limit_in_bytes ]]; then
    CG_VERSION=1
    CG=$V1_ROOT/membase-bench-$$
    mkdir "$CG" || die "cannot create the cgroup v1 directory $CG"
    echo "$LIMIT" >"$CG/memory.limit_in_bytes" \
      || die "cannot set $CG/memory.limit_in_bytes to $LIMIT"
    [[ $(cat "$CG/memory.limit_in_bytes") -le $LIMIT ]] \
      || die "$CG/memory.limit_in_bytes reads $(cat "$CG/memory.limit_in_bytes"), not $LIMIT"
  elif [[ -n $V2_ROOT ]]; then
    CG_VERSION=2
    if ! grep -qw memory "$V2_ROOT/cgroup.subtree_control"; then
      echo +memory >"$V2_ROOT/cgroup.subtree_control" \
        || die "cannot enable the memory controller in $V2_ROOT/cgroup.subtree_control"
    fi
    CG=$V2_ROOT/membase-bench-$$
    mkdir "$CG" || die "cannot create the cgroup v2 directory $CG"
    [[ -f $CG/memory.max ]] || die "$CG has no memory.max: the memory controller is not enabled there"
    echo "$LIMIT" >"$CG/memory.max" || die "cannot set $CG/memory.max to $LIMIT"
    if [[ -f $CG/memory.swap.max ]]; then echo 0 >"$CG/memory.swap.max" || true; fi
  else
    die "no memory cgroup: $V1_ROOT has no memory.limit_in_bytes and no cgroup v2 hierarchy \
(/sys/fs/cgroup, /sys/fs/cgroup/unified) lists the memory controller; refusing to run unlimited"
  fi
}

trap cg_remove EXIT
trap 'exit 130' INT TERM

# Prove a cgroup can be made before any work.
cg_create
cg_remove

# ------------------------------------------------------------------ build
MODULE="$BUILD/membase"
if [[ ! -f $MODULE.so ]]; then
  echo "building $BUILD ..." >&2
  cmake -S "$ROOT" -B "$BUILD" -DMEMBASE_HARDENING=OFF -DMEMBASE_BENCH=OFF -DMEMBASE_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 >/dev/null
fi
[[ -f $MODULE.so ]] || die "no $MODULE.so after the build"

# ------------------------------------------------------------------ data
DATA="$DATA_BASE/scale-$SCALE"
mkdir -p "$DATA"
if [[ ! -f $DATA/hot.db || ! -f $DATA/app.log.errors || ! -f $DATA/ticks.bin ]]; then
  NEED=$("$PY" -c "import sys; print(int(12e9 * float(sys.argv[1])))" "$SCALE")
  FREE=$(df --output=avail -B1 "$DATA" | tail -n 1 | tr -d ' ')
  [[ $FREE -ge $NEED ]] || die "$DATA has $((FREE / 1000000)) MB free; generating the data needs $((NEED / 1000000)) MB"
fi
echo "data in $DATA (generated once, outside the cgroup) ..." >&2
"$PY" "$SCRIPT" generate --dir "$DATA" --scale "$SCALE"

# ------------------------------------------------------------------ runs
RESULTS=$(mktemp)
trap 'cg_remove; rm -f "$RESULTS"' EXIT
T0=$(date +%s)
for mode in $MODES; do
  cg_remove
  sync
  echo 3 >/proc/sys/vm/drop_caches
  cg_create
  echo "mode $mode ..." >&2
  # shellcheck disable=SC2016  # $$ is the inner shell's pid, on purpose
  sh -c 'echo $$ >"$1" && shift && exec "$@"' sh "$CG/cgroup.procs" \
    "$PY" "$SCRIPT" run --mode "$mode" --dir "$DATA" --module "$MODULE" \
    --cgroup "$CG" --hot-seconds "$HOT_SECONDS" >>"$RESULTS" \
    || die "mode $mode failed"
done
T1=$(date +%s)

mkdir -p "$(dirname "$OUT")"
{
  echo "mb_bench_memory: scan resistance under a memory limit ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  echo "machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), \
Linux $(uname -r), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
  if [[ -r /sys/kernel/mm/lru_gen/enabled ]]; then
    echo "kernel: lru_gen (MGLRU) $(cat /sys/kernel/mm/lru_gen/enabled)"
  fi
  echo "cgroup: v$CG_VERSION, limit $LIMIT bytes ($((LIMIT / 1048576)) MiB), scale $SCALE, runs took $((T1 - T0)) s"
  "$PY" "$SCRIPT" report --results "$RESULTS"
} | tee "$OUT"
