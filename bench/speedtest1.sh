#!/usr/bin/env bash
# bench/speedtest1.sh -- SQLite's own speedtest1 (test/speedtest1.c of the
# system's SQLite, from Debian's source package) on stock SQLite and on the
# membase VFSes, in one go, and one table of medians and ratios.
#
#   bash bench/speedtest1.sh                 # --size 50, 5 reps
#   bash bench/speedtest1.sh --quick         # --size 50, 2 reps
#   bash bench/speedtest1.sh --size 100 --reps 7 --no-full
#
#   --size N     speedtest1's relative size (default 50)
#   --reps N     runs of every configuration; they alternate (rep 1 of all
#                configurations, then rep 2, ...) and every figure is the
#                median (default 5; --quick 2)
#   --no-full    skip the synchronous=FULL section
#   --build DIR  build and cache dir (default build-vbench/ at the top of the
#                tree): the Debian source, speedtest1, libmembase.a, the
#                database files and the raw outputs (DIR/speedtest1/runs/)
#   Other arguments of bench/run.sh (--no-cold, --verbose) are ignored.
#
# speedtest1 is linked with the system libsqlite3 and libmembase.a, plus
# bench/speedtest1_preload.c, which registers the membase VFSes before main()
# (speedtest1 cannot load extensions); "unix" stays the default VFS, so the
# rows without --vfs are stock SQLite. The membase rows use speedtest1's own
# --vfs option.
#
# Configurations, all --nosync (synchronous=OFF): --memdb; stock unix; unix
# with mmap_size at Debian's cap (mmap=max); --vfs unix-excl; --exclusive
# with mmap=max; --journal wal; membase (rollback, no --mmap), membase with
# mmap=max, membase WAL, membase-process rollback and WAL. Then, without
# --nosync (synchronous=FULL, Debian's default for rollback and WAL): stock
# unix, unix mmap=max, unix WAL and the four membase rows.
#
# Timing is speedtest1's own: the wall clock of each test case, in ms, from
# the default VFS's xCurrentTimeInt64 (so per-test figures of a few ms are
# noise), and the TOTAL line is their sum (opening the file is not in it).
#
# The table goes to stdout (bench/run.sh keeps it in
# bench/results/latest-speedtest1.txt); progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$root/build-vbench"
size=50
reps=5
full=1
while [ $# -gt 0 ]; do
  case $1 in
    --size)    size=$2; shift 2 ;;
    --reps)    reps=$2; shift 2 ;;
    --quick)   reps=2; shift ;;
    --no-full) full=0; shift ;;
    --build)   build=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --no-cold|--verbose) shift ;;
    *) echo "usage: $0 [--size N] [--reps N] [--quick] [--no-full] [--build DIR]" >&2; exit 2 ;;
  esac
done

. "$root/tests/scripts/deps.sh"
mb_require_build
mb_require "command -v dpkg-source" dpkg-dev
mb_require "command -v python3" python3
mb_install_missing

# ------------------------------------------------------------ the source
# test/speedtest1.c of the SQLite the system runs, from Debian's source
# package; fetched once and kept under $build/src.
find_src(){
  local f
  for f in "$build"/src/sqlite3-*/test/speedtest1.c; do
    if [ -f "$f" ]; then echo "$f"; return; fi
  done
}
src=$(find_src)
if [ -z "$src" ]; then
  if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "speedtest1.sh: apt has no deb-src entry; run as root, or add one:" >&2
      echo "  sed 's/^Types: deb\$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > /etc/apt/sources.list.d/membase-src.sources && apt-get update" >&2
      exit 2
    fi
    echo "speedtest1.sh: adding /etc/apt/sources.list.d/membase-src.sources (deb-src)" >&2
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > /etc/apt/sources.list.d/membase-src.sources
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
  fi
  mkdir -p "$build/src"
  # The source of the installed library if the archive still has it.
  ver=$(dpkg-query -W -f='${Version}' libsqlite3-0 2>/dev/null || true)
  echo "speedtest1.sh: apt-get source sqlite3${ver:+=$ver} into $build/src" >&2
  ( cd "$build/src" &&
    { apt-get source -qq "sqlite3${ver:+=$ver}" || apt-get source -qq sqlite3; } ) >&2
  src=$(find_src)
  [ -n "$src" ] || { echo "speedtest1.sh: no test/speedtest1.c in the source package" >&2; exit 2; }
fi

# ------------------------------------------------------------ the build
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" --target membase_static -j "$(nproc 2>/dev/null || echo 2)" >&2
work="$build/speedtest1"
mkdir -p "$work"
exe="$work/speedtest1"
# speedtest1.c is upstream code: built as upstream builds it, no warnings.
cc -O2 -w -o "$exe" "$src" "$here/speedtest1_preload.c" \
   -I"$root/ext" "$build/libmembase.a" "$build/libmembase_core.a" \
   -lsqlite3 -lpthread -lm
sqlite_ver=$(sqlite3 --version | cut -d" " -f1)

# ------------------------------------------------------------ the runs
mmax=2147418112   # 0x7fff0000: Debian's SQLITE_MAX_MMAP_SIZE
# name|speedtest1 arguments (besides --size and the sync option)
configs=(
  "memdb|--memdb"
  "unix|"
  "unix mmap=max|--mmap $mmax"
  "unix-excl|--vfs unix-excl"
  "exclusive mmap=max|--exclusive --mmap $mmax"
  "unix WAL|--journal wal"
)
full_configs=(
  "unix|"
  "unix mmap=max|--mmap $mmax"
  "unix WAL|--journal wal"
)
configs+=(
  "membase|--vfs membase"
  "membase mmap=max|--vfs membase --mmap $mmax"
  "membase WAL|--vfs membase --journal wal"
  "membase-process|--vfs membase-process"
  "membase-process WAL|--vfs membase-process --journal wal"
)
full_configs+=(
  "membase|--vfs membase"
  "membase WAL|--vfs membase --journal wal"
  "membase-process|--vfs membase-process"
  "membase-process WAL|--vfs membase-process --journal wal"
)
runs="$work/runs"
rm -rf "$runs"
mkdir -p "$runs"
db="$work/speedtest1.db"

# run_set <section> <sync args> <configs...>: reps alternating runs of every
# configuration; outputs in $runs/<section>.<config index>.<rep>
run_set(){
  local section=$1 sync=$2; shift 2
  local r i name args
  for ((r = 1; r <= reps; r++)); do
    i=0
    for c in "$@"; do
      name=${c%%|*}; args=${c#*|}
      echo "speedtest1.sh: $section rep $r/$reps: $name" >&2
      rm -f "$db" "$db-journal" "$db-wal" "$db-shm"
      # shellcheck disable=SC2086  # args are words on purpose
      if ! "$exe" --size "$size" $sync $args "$db" > "$runs/$section.$i.$r" 2>&1; then
        echo "speedtest1.sh: FAILED: speedtest1 --size $size $sync $args" >&2
        tail -n 5 "$runs/$section.$i.$r" >&2
        exit 1
      fi
      i=$((i + 1))
    done
  done
}

load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
t0=$(date +%s)
run_set nosync --nosync "${configs[@]}"
if [ $full -eq 1 ]; then
  run_set full "" "${full_configs[@]}"
fi
t1=$(date +%s)
load1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
rm -f "$db" "$db-journal" "$db-wal" "$db-shm"

# ------------------------------------------------------------ the table
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || true)
fs=$(df -T "$work" 2>/dev/null | awk 'NR==2 {print $2}')
printf '%s\n' "${configs[@]}" > "$runs/nosync.names"
printf '%s\n' "${full_configs[@]}" > "$runs/full.names"

python3 - "$runs" "$reps" "$full" <<PYEOF
import re, statistics, sys
runs, reps, full = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"

def load(section):
    names = [l.rstrip("\n") for l in open(f"{runs}/{section}.names")]
    names = [(n.split("|", 1)[0], n.split("|", 1)[1]) for n in names]
    res = []       # per config: {"tests": {num: [secs...]}, "title": {...}, "total": [...]}
    for i, _ in enumerate(names):
        tests, title, total = {}, {}, []
        for r in range(1, reps + 1):
            for line in open(f"{runs}/{section}.{i}.{r}"):
                m = re.match(r"^\s*(\d+) - (.*?)\.*\s+(\d+\.\d+)s\s*$", line)
                if m:
                    n = int(m.group(1))
                    tests.setdefault(n, []).append(float(m.group(3)))
                    title[n] = m.group(2).rstrip(". ")
                    continue
                m = re.match(r"^\s*TOTAL\.*\s+(\d+\.\d+)s", line)
                if m:
                    total.append(float(m.group(1)))
        res.append({"tests": {k: statistics.median(v) for k, v in tests.items()},
                    "title": title, "total": statistics.median(total), "all": total})
    return names, res

def ms(x): return f"{x*1000:.0f}"

print(f"MemBase VFS benchmark: speedtest1 (SQLite's test/speedtest1.c)")
print()
print("configuration")
print(f"  speedtest1   $src")
print(f"               --size $size, {reps} reps per configuration, alternating; every figure")
print(f"               is the median; times are speedtest1's own (wall clock per test, ms)")
print(f"  SQLite       $sqlite_ver (system libsqlite3), speedtest1 linked with libmembase.a")
print(f"  database     $db ($fs), deleted before every run")
print(f"  mmap=max     PRAGMA mmap_size=$mmax (0x7fff0000, Debian's SQLITE_MAX_MMAP_SIZE)")
print(f"  run time     $((t1 - t0)) s; load average $load0 before, $load1 after (a busy")
print(f"               machine shows as reps that differ; see each rep below)")
print()
print("machine")
print(f"  nproc $(nproc), CPU $cpu, kernel $(uname -r), page $(getconf PAGESIZE) B")
print()

names, res = load("nosync")
idx = {n: i for i, (n, _) in enumerate(names)}
mem = res[idx["memdb"]]["total"]
unix = res[idx["unix"]]["total"]
print("totals, --nosync (synchronous=OFF)")
print(f"  {'configuration':<22} {'arguments':<42} {'total':>9} {'x memdb':>8} {'x unix':>8}   (each rep)")
for (n, a), r in zip(names, res):
    print(f"  {n:<22} {a:<42} {r['total']:8.3f}s {r['total']/mem:7.2f}x {r['total']/unix:7.2f}x   "
          + " ".join(f"{t:.3f}" for t in r["all"]))
print("  (x memdb = time / --memdb time, x unix = time / stock unix time; lower is better)")
print()

# per-test table: every configuration's median, in ms
short = {"memdb": "memdb", "unix": "unix", "unix mmap=max": "u+mmap", "unix-excl": "u-excl",
         "exclusive mmap=max": "ex+mmap", "unix WAL": "u WAL", "membase": "mb",
         "membase WAL": "mb WAL", "membase mmap=max": "mb+mmap", "membase-process": "mbp", "membase-process WAL": "mbp WAL"}
tests = sorted(res[idx["unix"]]["tests"])
have_mb = "membase" in idx
print("per test, --nosync: medians in ms" + ("; mb/u+mmap = membase / unix mmap=max" if have_mb else ""))
hdr = f"  {'test':<46}" + "".join(f"{short.get(n, n)[:8]:>8}" for n, _ in names)
if have_mb:
    hdr += f"{'mb/u+mmap':>10}{'mb+mmap/':>10}"
print(hdr)
flagged = []
for t in tests:
    title = res[idx["unix"]]["title"][t]
    row = f"  {t:>3} {title[:42]:<42}" + "".join(f"{ms(r['tests'].get(t, float('nan'))):>8}" for r in res)
    if have_mb:
        m, u = res[idx["membase"]]["tests"][t], res[idx["unix mmap=max"]]["tests"][t]
        ratio = m / u if u > 0 else float("nan")
        row += f"{ratio:9.2f}x" if u > 0 else f"{'-':>10}"
        mm = res[idx["membase mmap=max"]]["tests"][t]
        row += f"{mm/u:9.2f}x" if u > 0 else f"{'-':>10}"
        if m > u * 1.05:
            noise = (m - u) < 0.003
            row += "  SLOWER" + (" (<3 ms: noise)" if noise else "")
            if not noise:
                flagged.append(t)
    print(row)
if have_mb:
    print("  (mb/u+mmap = membase / unix mmap=max, mb+mmap/ = membase mmap=max / unix mmap=max;")
    print("   SLOWER: membase more than 5% slower than unix mmap=max on that test; per-test")
    print("   times have 1 ms resolution, so differences under 3 ms are marked as noise)")
print()

if full:
    fnames, fres = load("full")
    fidx = {n: i for i, (n, _) in enumerate(fnames)}
    fu = fres[fidx["unix"]]["total"]
    fw = fres[fidx["unix WAL"]]["total"]
    print("totals, synchronous=FULL (speedtest1 without --nosync: Debian's default synchronous=2)")
    print(f"  {'configuration':<22} {'arguments':<42} {'total':>9} {'x unix':>8} {'x WAL':>8}   (each rep)")
    for (n, a), r in zip(fnames, fres):
        print(f"  {n:<22} {a:<42} {r['total']:8.3f}s {r['total']/fu:7.2f}x {r['total']/fw:7.2f}x   "
              + " ".join(f"{t:.3f}" for t in r["all"]))
    print("  (x unix = time / stock unix rollback, x WAL = time / stock unix WAL)")
    print()

print("targets (reported, not asserted)")
if not have_mb:
    print("  membase rows not run: libmembase.a has no membase_vfs_register yet")
else:
    mb = res[idx["membase"]]["total"]
    mbp = res[idx["membase-process"]]["total"]
    def pf(ok): return "PASS" if ok else "FAIL"
    mbm = res[idx["membase mmap=max"]]["total"]
    print(f"  membase total <= 0.80x stock unix               {mb/unix:6.3f}x  {pf(mb/unix <= 0.80)}")
    print(f"  membase mmap=max total <= 0.80x stock unix      {mbm/unix:6.3f}x  {pf(mbm/unix <= 0.80)}")
    print(f"  no test > 5% slower than unix mmap=max          {len(flagged)} test(s)  {pf(not flagged)}"
          + (f"  ({', '.join(map(str, flagged))})" if flagged else ""))
    print(f"  membase-process total <= 1.05x memdb            {mbp/mem:6.3f}x  {pf(mbp/mem <= 1.05)}")
    if full:
        for n, base in (("membase", "unix"), ("membase-process", "unix"),
                        ("membase WAL", "unix WAL"), ("membase-process WAL", "unix WAL")):
            a, b = fres[fidx[n]]["total"], fres[fidx[base]]["total"]
            print(f"  sync=FULL: {n:<20} <= {base:<9}        {a/b:6.3f}x  {pf(a <= b)}")
PYEOF
