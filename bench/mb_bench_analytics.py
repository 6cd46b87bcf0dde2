#!/usr/bin/python3
"""mb_bench_analytics.py -- analytics on one record file: MemBase (plain SQL
and its vectorised functions) against DuckDB, numpy and native SQLite, in
the same run, on the same values; one table with ratios.

    /usr/bin/python3 bench/mb_bench_analytics.py --module build-bench/membase.so \\
        [--rows N] [--quick] [--reps N] [--budget S] [--only sum,group-100,...] \\
        [--dir DIR] [--keep] [--no-duckdb] [--out FILE]

The data (generated each run into --dir, seed 1): one .npy file of ROWS
records (default 10,000,000; --quick 1,000,000), 32 bytes each:
  ts    int64, ascending (1,600,000,000 plus a running sum of steps in
        [0, 20): ties happen): the table's sorted key
  price float64 in [1, 1000)
  qty   int32, uniform in [1, 1000000] (GROUP BY qty: ~1 M groups)
  side  uint8 (0 or 1), then 3 pad bytes
  sym   'S8', one of 100 symbols (SYM000 .. SYM099)
How each system gets it:
  MemBase  CREATE VIRTUAL TABLE ticks USING membase(file='ticks.npy',
           sorted=ts, readonly=1) (the layout comes from the .npy header)
  numpy    np.load('ticks.npy', mmap_mode='r')
  native   ticks.db, table n(ts INTEGER, price REAL, qty INTEGER, side
           INTEGER, sym TEXT) filled by INSERT INTO n SELECT ... FROM the
           membase table, with INDEX on ts, on sym and on qty; "native
           SQLite" queries `n NOT INDEXED`, "native SQLite, indexed" lets
           the planner use the indexes (EXPLAIN QUERY PLAN is printed)
  DuckDB   an in-memory table filled by bench/mb_bench_analytics_duckdb.mjs
           (Node, npm @duckdb/node-api, pinned below) from raw column files
           written here with a[col].tofile(): the .npy file's own bits, no
           text conversion. Checked after the load against numpy: count,
           sum(price), sum(ts), sum(qty), sum(side), count(DISTINCT sym) and
           sum((rowid % 1000) * qty) (which catches rows out of place).
The queries (labels are stable; plot.py and docs/BENCHMARKS.md use them):
  sum          sum(price) over every record
  range-sum    sum(price) over the middle quarter of ts (sorted key)
  group-100    SELECT sym, sum(qty) ... GROUP BY sym (100 groups)
  group-1M     SELECT qty, sum(price) ... GROUP BY qty (~1 M groups)
  group-multi  count(*), sum/min/max/avg of price and of qty GROUP BY sym
Systems: numpy (the reference answer), MemBase SQL (the plain SQL on the
membase table), MemBase vectorised (membase_aggregate for the sums,
membase_group for the GROUP BYs) with THREADS 1 and 2, DuckDB with SET
threads=1 and 2, native SQLite without and with its indexes. A function or
argument the module lacks (membase_group, membase_aggregate's 6th argument
THREADS) is found by trying it: that row says n/a and why. With 1 thread,
a membase_aggregate without THREADS is called without it (single-threaded).

Timing: warm (the files cached, the native database in a 4 GiB page cache;
each figure runs once untimed first, and that run's answer is checked),
then best of --reps timed runs (default 5, --quick 3), fewer once a
figure's timed runs add up to --budget seconds (default 20). Every result
row reaches the host: Python's fetchall for SQLite, runAndReadAll for
DuckDB (Node), numpy arrays for numpy.

Answers: every system's answer is compared with numpy's: integers
exactly, float sums, minima, maxima and averages within a relative 1e-9.
A mismatch is printed instead of the time, described on stderr, and the
script exits 1 after printing the table.

Prints the configuration, the machine, the times (query, system, ms, timed
runs, answer), the queries each system ran, and the ratios in the format
of latest-sql_records.txt ("figure membase baseline ratio", ratio =
baseline / membase: above 1 MemBase is faster): vectorised vs DuckDB at
equal threads and vs numpy, plain SQL vs native SQLite (without and with
indexes). bench/run.sh keeps it in bench/results/latest-analytics.txt;
bench/plot.py draws docs/img/bench-analytics.svg from it.

DuckDB: installed by this script into ~/.cache/membase/duckdb-node (or
$MB_DUCKDB_NODE_DIR) with `npm install --prefix DIR @duckdb/node-api@PIN`
when missing; without node or npm (or with --no-duckdb) its rows are n/a
and the line to run is printed. Needs Debian's python3-numpy.
"""
import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np

DUCKDB_PIN = "1.5.6-r.1"          # npm @duckdb/node-api, DuckDB 1.5.6
DUCKDB_DIR = os.environ.get("MB_DUCKDB_NODE_DIR") or os.path.expanduser("~/.cache/membase/duckdb-node")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = 1
NSYM = 100
QTY_MAX = 1_000_000
CACHE_KIB = 4 * 1024 * 1024
RTOL = 1e-9

DTYPE = np.dtype({"names": ["ts", "price", "qty", "side", "sym"],
                  "formats": ["<i8", "<f8", "<i4", "u1", "S8"],
                  "offsets": [0, 8, 16, 20, 24], "itemsize": 32})

# The systems, in table order: key, printed name.
SYSTEMS = [
    ("numpy", "numpy"),
    ("mb_sql", "MemBase SQL"),
    ("mb_vec1", "MemBase vectorised, 1 thread"),
    ("mb_vec2", "MemBase vectorised, 2 threads"),
    ("duck1", "DuckDB, 1 thread"),
    ("duck2", "DuckDB, 2 threads"),
    ("native", "native SQLite"),
    ("native_idx", "native SQLite, indexed"),
]
NAME = dict(SYSTEMS)
QUERIES = ["sum", "range-sum", "group-100", "group-1M", "group-multi"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# the machine line and a folder's file system, as the tx benchmark prints them
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mb_bench_tx import machine, fs_type  # noqa: E402


# ------------------------------------------------------------------ data

def make_data(path, rows):
    """The record file, written in slices of 1 M records (bounded memory)."""
    rng = np.random.default_rng(SEED)
    syms = np.array([b"SYM%03d" % i for i in range(NSYM)], dtype="S8")
    a = np.lib.format.open_memmap(path, mode="w+", dtype=DTYPE, shape=(rows,))
    ts = 1_600_000_000
    step = 1 << 20
    for lo in range(0, rows, step):
        k = min(step, rows - lo)
        part = np.zeros(k, dtype=DTYPE)
        steps = rng.integers(0, 20, size=k)
        part["ts"] = ts + np.cumsum(steps)
        ts = int(part["ts"][-1])
        part["price"] = 1.0 + 999.0 * rng.random(k)
        part["qty"] = rng.integers(1, QTY_MAX + 1, size=k, dtype=np.int32)
        part["side"] = rng.integers(0, 2, size=k, dtype=np.uint8)
        part["sym"] = syms[rng.integers(0, NSYM, size=k)]
        a[lo:lo + k] = part
    a.flush()
    del a


def write_columns(a, d):
    """The raw column files DuckDB is loaded from: the .npy's own values."""
    out = {}
    for col in ("ts", "price", "qty", "side", "sym"):
        p = os.path.join(d, "col_%s.bin" % col)
        np.ascontiguousarray(a[col]).tofile(p)
        out[col] = p
    return out


def load_checks(a):
    """The checksums DuckDB's table must give (numpy, exact where integer)."""
    n = len(a)
    qty = a["qty"].astype(np.int64)
    pos = np.int64(0)
    step = 1 << 22
    for lo in range(0, n, step):   # sum((rowid % 1000) * qty), exact, in slices
        idx = np.arange(lo, min(n, lo + step), dtype=np.int64) % 1000
        pos += np.sum(idx * qty[lo:lo + step])
    return [n, float(a["price"].sum()), int(a["ts"].astype(np.int64).sum()), int(qty.sum()),
            int(a["side"].astype(np.int64).sum()), len(np.unique(a["sym"].view("<u8"))), int(pos)]


LOAD_CHECK_SQL = ("SELECT count(*), sum(price), sum(ts), sum(qty), sum(side), count(DISTINCT sym), "
                  "sum((rowid % 1000) * qty) FROM ticks")
LOAD_CHECK_NAMES = ["count(*)", "sum(price)", "sum(ts)", "sum(qty)", "sum(side)",
                    "count(DISTINCT sym)", "sum((rowid % 1000) * qty)"]


def make_native(module, npy, db_path):
    for suffix in ("", "-journal", "-wal"):
        if os.path.exists(db_path + suffix):
            os.unlink(db_path + suffix)
    db = sqlite3.connect(db_path, isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(module)
    db.execute("PRAGMA cache_size=-%d" % CACHE_KIB)
    db.execute("CREATE VIRTUAL TABLE temp.ticks USING membase(file='%s', sorted=ts, readonly=1)" % npy)
    db.execute("CREATE TABLE n(ts INTEGER, price REAL, qty INTEGER, side INTEGER, sym TEXT)")
    db.execute("BEGIN")
    db.execute("INSERT INTO n(rowid, ts, price, qty, side, sym) "
               "SELECT rowid + 1, ts, price, qty, side, sym FROM temp.ticks")
    db.execute("COMMIT")
    for col in ("ts", "sym", "qty"):
        db.execute("CREATE INDEX n_%s ON n(%s)" % (col, col))
    db.execute("ANALYZE")
    db.close()


# ------------------------------------------------------------------ answers
# An answer is ("scalar", kinds, values) or ("groups", kinds, keys, [columns]):
# kinds says per value "i" (exact) or "f" (relative 1e-9).

def scalar(kind, v):
    return ("scalar", kind, v)


def groups_from_rows(rows, kinds):
    rows = sorted(rows, key=lambda r: r[0])
    keys = np.array([r[0] for r in rows], dtype=object)
    cols = [[r[i + 1] for r in rows] for i in range(len(kinds))]
    return ("groups", kinds, keys, cols)


def groups_from_columns(columns, kinds):
    """DuckDB's answer: columns, integers possibly as text (beyond 2^53)."""
    rows = list(zip(*columns))
    conv = []
    for r in rows:
        out = [r[0]]
        for k, v in zip(kinds, r[1:]):
            out.append(int(v) if k == "i" and isinstance(v, str) else v)
        conv.append(tuple(out))
    return groups_from_rows(conv, kinds)


def groups_from_membase_group(rows, ncols):
    """membase_group's rows (grp, col, count, sum, min, max, avg), one per
    group per value column, pivoted into the GROUP BY query's columns."""
    cols_seen = []
    by = {}
    for grp, col, count, s, mn, mx, avg in rows:
        if col not in cols_seen:
            cols_seen.append(col)
        by.setdefault(grp, {})[col] = (count, s, mn, mx, avg)
    return by, cols_seen


def compare(ref, got):
    """None if got matches ref, else a short description of the first difference."""
    if ref[0] == "scalar":
        kind, r, g = ref[1], ref[2], got[2]
        return None if same(kind, r, g) else "%r, expected %r" % (g, r)
    _, kinds, rkeys, rcols = ref
    _, _, gkeys, gcols = got
    if len(rkeys) != len(gkeys):
        return "%d groups, expected %d" % (len(gkeys), len(rkeys))
    if not all(a == b for a, b in zip(rkeys, gkeys)):
        i = next(i for i, (a, b) in enumerate(zip(rkeys, gkeys)) if a != b)
        return "group %d is %r, expected %r" % (i, gkeys[i], rkeys[i])
    for c, (kind, rc, gc) in enumerate(zip(kinds, rcols, gcols)):
        if kind == "i":
            g = np.array(gc, dtype=object)
            if not all(isinstance(x, int) for x in g):
                bad = next(x for x in g if not isinstance(x, int))
                return "column %d: %r is not an integer" % (c + 1, bad)
            eq = np.array([a == b for a, b in zip(rc, g)])
        else:
            r = np.asarray(rc, dtype=np.float64)
            try:
                g = np.asarray(gc, dtype=np.float64)
            except (TypeError, ValueError):
                return "column %d: not numbers" % (c + 1)
            eq = np.abs(g - r) <= RTOL * np.abs(r)
        if not eq.all():
            i = int(np.argmin(eq))
            return "group %r column %d: %r, expected %r" % (rkeys[i], c + 1, gc[i], rc[i])
    return None


def same(kind, r, g):
    if kind == "i":
        return isinstance(g, int) and g == r
    try:
        return abs(float(g) - r) <= RTOL * abs(r)
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------ numpy

def sym_keys(a):
    """sym as one uint64 a value: np.unique sorts integers, not strings."""
    keys, inv = np.unique(a["sym"].view("<u8"), return_inverse=True)
    names = [k.rstrip(b"\0").decode() for k in keys.view("S8").tolist()]
    order = np.argsort(names, kind="stable")     # the text order, as SQL's
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return [names[i] for i in order], rank[inv]


def np_sum(a):
    return float(a["price"].sum())


def np_range(a, lo, hi):
    ts = a["ts"]
    i0, i1 = np.searchsorted(ts, lo, "left"), np.searchsorted(ts, hi, "right")
    return float(a["price"][i0:i1].sum())


def np_group100(a):
    names, inv = sym_keys(a)
    sums = np.bincount(inv, weights=a["qty"], minlength=len(names))   # exact below 2^53
    return names, [int(x) for x in sums]


def np_group1m(a):
    keys, inv = np.unique(a["qty"], return_inverse=True)
    sums = np.bincount(inv, weights=a["price"], minlength=len(keys))
    return keys, sums


def np_multi(a):
    names, inv = sym_keys(a)
    g = len(names)
    price, qty = np.asarray(a["price"]), np.asarray(a["qty"])
    cnt = np.bincount(inv, minlength=g)
    sp = np.bincount(inv, weights=price, minlength=g)
    sq = np.bincount(inv, weights=qty, minlength=g)
    order = np.argsort(inv, kind="stable")
    starts = np.concatenate(([0], np.cumsum(cnt)[:-1]))
    ps, qs = price[order], qty[order]
    return (names, cnt, sp, np.minimum.reduceat(ps, starts), np.maximum.reduceat(ps, starts),
            sp / cnt, sq, np.minimum.reduceat(qs, starts), np.maximum.reduceat(qs, starts), sq / cnt)


MULTI_KINDS = ["i", "f", "f", "f", "f", "i", "i", "i", "f"]


def np_answer(label, out):
    if label in ("sum", "range-sum"):
        return scalar("f", out)
    if label == "group-100":
        return ("groups", ["i"], np.array(out[0], dtype=object), [out[1]])
    if label == "group-1M":
        return ("groups", ["f"], np.array([int(k) for k in out[0]], dtype=object), [out[1]])
    names, cnt, sp, pmin, pmax, pavg, sq, qmin, qmax, qavg = out
    return ("groups", MULTI_KINDS, np.array(names, dtype=object),
            [[int(x) for x in cnt], sp, pmin, pmax, pavg, [int(x) for x in sq],
             [int(x) for x in qmin], [int(x) for x in qmax], qavg])


# ------------------------------------------------------------------ SQL

MULTI_COLS = ("count(*), sum(price), min(price), max(price), avg(price), "
              "sum(qty), min(qty), max(qty), avg(qty)")


def sql_of(label, table, lo, hi):
    return {
        "sum": "SELECT sum(price) FROM %s" % table,
        "range-sum": "SELECT sum(price) FROM %s WHERE ts BETWEEN %d AND %d" % (table, lo, hi),
        "group-100": "SELECT sym, sum(qty) FROM %s GROUP BY sym" % table,
        "group-1M": "SELECT qty, sum(price) FROM %s GROUP BY qty" % table,
        "group-multi": "SELECT sym, %s FROM %s GROUP BY sym" % (MULTI_COLS, table),
    }[label]


def sql_answer(label, rows):
    if label in ("sum", "range-sum"):
        return scalar("f", rows[0][0])
    return groups_from_rows(rows, {"group-100": ["i"], "group-1M": ["f"], "group-multi": MULTI_KINDS}[label])


def vec_sql(label, lo, hi, threads):
    """The vectorised form of a query; threads None: without THREADS."""
    t = "" if threads is None else ", %d" % threads
    if label == "sum":
        return ("SELECT sum FROM membase_aggregate('ticks', 'price'%s)"
                % ("" if threads is None else ", NULL, NULL, NULL" + t))
    if label == "range-sum":
        return "SELECT sum FROM membase_aggregate('ticks', 'price', %d, %d, 'ts'%s)" % (lo, hi, t)
    what = {"group-100": ("qty", "sym", "grp, sum"), "group-1M": ("price", "qty", "grp, sum"),
            "group-multi": ("price,qty", "sym", "grp, col, count, sum, min, max, avg")}[label]
    rest = "" if threads is None else ", NULL, NULL, NULL" + t
    return "SELECT %s FROM membase_group('ticks', '%s', '%s'%s)" % (what[2], what[0], what[1], rest)


def vec_answer(label, rows):
    if label in ("sum", "range-sum"):
        return scalar("f", rows[0][0])
    if label in ("group-100", "group-1M"):
        return groups_from_rows(rows, ["i"] if label == "group-100" else ["f"])
    by, cols = groups_from_membase_group(rows, 2)
    if len(cols) != 2:
        raise ValueError("membase_group gave value columns %r, expected price and qty" % cols)
    out = []
    for grp, per in by.items():
        p, q = per.get(cols[0]), per.get(cols[1])
        if p is None or q is None:
            raise ValueError("group %r lacks a value column" % grp)
        # count(*) is price's count: no value is NULL (or NaN) in this data
        out.append((grp, p[0], p[1], p[2], p[3], p[4], q[1], q[2], q[3], q[4]))
    return groups_from_rows(out, MULTI_KINDS)


# ------------------------------------------------------------------ timing

class Figure:
    def __init__(self):
        self.times = []      # ms
        self.answer = None
        self.na = None       # why not measured
        self.mismatch = None

    @property
    def best(self):
        return min(self.times)


def measure(run, to_answer, reps, budget):
    """One untimed warm-up run (its answer kept), then up to reps timed runs."""
    f = Figure()
    f.answer = to_answer(run())
    spent = 0.0
    while len(f.times) < reps and (not f.times or spent < budget * 1000):
        t0 = time.perf_counter()
        run()
        ms = (time.perf_counter() - t0) * 1000.0
        f.times.append(ms)
        spent += ms
    return f


def na(why):
    f = Figure()
    f.na = why
    return f


# ------------------------------------------------------------------ DuckDB

def duckdb_api():
    """The pinned @duckdb/node-api: its lib/index.js, installing it if
    missing. (path, None) or (None, why not)."""
    pkg = os.path.join(DUCKDB_DIR, "node_modules", "@duckdb", "node-api")
    line = "npm install --prefix %s --no-audit --no-fund @duckdb/node-api@%s" % (DUCKDB_DIR, DUCKDB_PIN)

    def installed():
        try:
            with open(os.path.join(pkg, "package.json")) as f:
                return json.load(f).get("version") == DUCKDB_PIN
        except (OSError, ValueError):
            return False
    if not shutil.which("node"):
        return None, "node is not on PATH (Node 20+ and then: %s)" % line
    if not installed():
        if not shutil.which("npm"):
            return None, "npm is missing; run: %s" % line
        log("installing DuckDB: %s" % line)
        os.makedirs(DUCKDB_DIR, exist_ok=True)
        p = subprocess.run(line.split(), stdout=sys.stderr, stderr=sys.stderr)
        if p.returncode != 0 or not installed():
            return None, "npm install failed; run: %s" % line
    return os.path.join(pkg, "lib", "index.js"), None


def run_duckdb(api, columns, rows, labels, lo, hi, reps, budget, d):
    spec = {"api": api, "rows": rows, "columns": columns, "threads": [1, 2], "reps": reps,
            "budget": budget, "checks": [{"label": "load", "sql": LOAD_CHECK_SQL}],
            "queries": [{"label": q, "sql": sql_of(q, "ticks", lo, hi)} for q in labels]}
    sp, op = os.path.join(d, "duckdb_spec.json"), os.path.join(d, "duckdb_out.json")
    with open(sp, "w") as f:
        json.dump(spec, f)
    p = subprocess.run(["node", os.path.join(HERE, "mb_bench_analytics_duckdb.mjs"), sp, op],
                       stdout=sys.stderr, stderr=sys.stderr)
    if p.returncode != 0:
        return None, "the Node helper failed (exit %d, see stderr)" % p.returncode
    with open(op) as f:
        return json.load(f), None


# ------------------------------------------------------------------ output

def fmt_ms(ms):
    return "%.1f" % ms if ms >= 100 else "%.2f" % ms if ms >= 1 else "%.3f" % ms


def fmt_ratio(r):
    return "%.2f" % r if r >= 0.1 else "%.3f" % r


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--module", default=os.path.join(ROOT, "build-bench", "membase.so"),
                    help="the MemBase build (default build-bench/membase.so)")
    ap.add_argument("--rows", type=int, help="records (default 10000000; --quick 1000000)")
    ap.add_argument("--quick", action="store_true", help="1 M records, best of 3")
    ap.add_argument("--reps", type=int, help="timed runs per figure, best of N (default 5; --quick 3)")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="stop repeating a figure once its timed runs add up to S seconds (default 20)")
    ap.add_argument("--only", default=",".join(QUERIES), help="queries to run, e.g. sum,group-1M")
    ap.add_argument("--dir", help="scratch folder (default: a new one under build-bench/)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    ap.add_argument("--no-duckdb", action="store_true", help="DuckDB rows n/a")
    ap.add_argument("--out", help="also write the table to FILE")
    ap.add_argument("--no-cold", action="store_true", help=argparse.SUPPRESS)  # bench/run.sh's
    args = ap.parse_args(argv)
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    reps = args.reps or (3 if args.quick else 5)
    labels = [q.strip() for q in args.only.split(",") if q.strip()]
    for q in labels:
        if q not in QUERIES:
            ap.error("unknown query %r (one of %s)" % (q, ", ".join(QUERIES)))
    module = os.path.abspath(args.module)
    if not os.path.exists(module):
        ap.error("no module %s (build it: cmake --build build-bench --target membase)" % module)

    if args.dir:
        d = os.path.abspath(args.dir)
        os.makedirs(d, exist_ok=True)
        own = False
    else:
        base = os.path.join(ROOT, "build-bench")
        os.makedirs(base, exist_ok=True)
        d = tempfile.mkdtemp(prefix="analytics.", dir=base)
        own = True
    try:
        return bench(args, module, rows, reps, labels, d)
    finally:
        if own and not args.keep:
            shutil.rmtree(d, ignore_errors=True)


def bench(args, module, rows, reps, labels, d):
    npy = os.path.join(d, "ticks.npy")
    dbp = os.path.join(d, "ticks.db")
    t0 = time.perf_counter()
    log("generating %d records into %s" % (rows, npy))
    make_data(npy, rows)
    a = np.load(npy, mmap_mode="r")
    ts = a["ts"]
    lo, hi = int(ts[rows * 3 // 8]), int(ts[rows * 5 // 8 - 1])   # the middle quarter
    log("native database %s (INSERT ... SELECT from the membase table, 3 indexes)" % dbp)
    make_native(module, npy, dbp)
    t_data = time.perf_counter() - t0

    # DuckDB first, in its own process; its memory is gone before the rest runs.
    duck, duck_why, duck_load = None, None, None
    if args.no_duckdb:
        duck_why = "--no-duckdb"
    else:
        api, duck_why = duckdb_api()
        if api:
            log("DuckDB: writing the column files")
            cols = write_columns(a, d)
            duck, duck_why = run_duckdb(api, cols, rows, labels, lo, hi, reps, args.budget, d)
            for p in cols.values():
                os.unlink(p)
    if duck:
        want = load_checks(a)
        got = duck["checks"][0]["columns"]
        got = [c[0] for c in got]
        bad = [n for n, w, g in zip(LOAD_CHECK_NAMES, want, got)
               if not (same("f", w, g) if n == "sum(price)" else int(g) == w)]
        duck_load = "%.1f s" % (duck["loadMs"] / 1000)
        if bad:
            log("MISMATCH: DuckDB's table is not the .npy file's data: %s (DuckDB %r, numpy %r)"
                % (", ".join(bad), got, want))
            duck_why = "its table does not hold the .npy file's values (%s)" % ", ".join(bad)
            duck = None
            return_code_load = 1
        else:
            return_code_load = 0
    else:
        return_code_load = 0

    mb = sqlite3.connect(":memory:", isolation_level=None)
    mb.enable_load_extension(True)
    mb.load_extension(module)
    mb.execute("PRAGMA cache_size=-%d" % CACHE_KIB)   # the sorter of GROUP BY: as native's
    mb.execute("CREATE VIRTUAL TABLE ticks USING membase(file='%s', sorted=ts, readonly=1)" % npy)
    nat = sqlite3.connect(dbp, isolation_level=None)
    nat.execute("PRAGMA cache_size=-%d" % CACHE_KIB)
    nat.execute("SELECT count(*), sum(length(sym)), sum(price) FROM n NOT INDEXED").fetchone()
    for col in ("ts", "sym", "qty"):
        nat.execute("SELECT count(*) FROM n INDEXED BY n_%s WHERE %s IS NOT NULL" % (col, col)).fetchone()

    figs = {}
    plans = {}
    sqls = {}
    for q in labels:
        log("== %s" % q)
        fq = figs[q] = {}
        # numpy: the reference
        fn = {"sum": lambda: np_sum(a), "range-sum": lambda: np_range(a, lo, hi),
              "group-100": lambda: np_group100(a), "group-1M": lambda: np_group1m(a),
              "group-multi": lambda: np_multi(a)}[q]
        log("   numpy")
        fq["numpy"] = measure(fn, lambda out, q=q: np_answer(q, out), reps, args.budget)
        ref = fq["numpy"].answer
        # MemBase SQL
        s = sql_of(q, "ticks", lo, hi)
        log("   MemBase SQL")
        fq["mb_sql"] = measure(lambda s=s: mb.execute(s).fetchall(), lambda r, q=q: sql_answer(q, r),
                               reps, args.budget)
        # MemBase vectorised
        for key, tries in (("mb_vec1", (1, None)), ("mb_vec2", (2,))):
            why = None
            for t in tries:
                vs = vec_sql(q, lo, hi, t)
                try:
                    mb.execute(vs).fetchall()
                except sqlite3.Error as e:
                    why = why or str(e)
                    continue
                log("   %s: %s" % (NAME[key], vs))
                sqls[(q, key)] = vs
                try:
                    fq[key] = measure(lambda vs=vs: mb.execute(vs).fetchall(),
                                      lambda r, q=q: vec_answer(q, r), reps, args.budget)
                except ValueError as e:
                    fq[key] = na(None)
                    fq[key].mismatch = str(e)
                break
            else:
                fq[key] = na(why)
        # DuckDB
        for key, t in (("duck1", 1), ("duck2", 2)):
            if not duck:
                fq[key] = na("DuckDB: %s" % duck_why)
                continue
            r = next(x for x in duck["results"] if x["label"] == q and x["threads"] == t)
            f = Figure()
            f.times = r["times"]
            cols = r["columns"]
            if q in ("sum", "range-sum"):
                f.answer = scalar("f", cols[0][0])
            else:
                f.answer = groups_from_columns(cols, {"group-100": ["i"], "group-1M": ["f"],
                                                      "group-multi": MULTI_KINDS}[q])
            fq[key] = f
        # native SQLite
        for key, table in (("native", "n NOT INDEXED"), ("native_idx", "n")):
            s = sql_of(q, table, lo, hi)
            plans[(q, key)] = "; ".join(r[3] for r in nat.execute("EXPLAIN QUERY PLAN " + s))
            log("   %s: %s" % (NAME[key], plans[(q, key)]))
            fq[key] = measure(lambda s=s: nat.execute(s).fetchall(), lambda r, q=q: sql_answer(q, r),
                              reps, args.budget)
        for key, f in fq.items():
            if key != "numpy" and f.answer is not None and f.mismatch is None:
                f.mismatch = compare(ref, f.answer)
            if f.mismatch:
                log("MISMATCH: %s, %s: %s" % (q, NAME[key], f.mismatch))

    # ---------------------------------------------------------------- print
    out = []
    p = out.append
    p("MemBase analytics benchmark: mb_bench_analytics.py")
    p("")
    p("configuration")
    p("  records      %d x 32 bytes {ts i64 asc, price f64, qty i32 in [1, %d], side u8, pad(3), "
      "sym char(8) of %d}, seed %d" % (rows, QTY_MAX, NSYM, SEED))
    p("  data         %s (%s), files cached; generated and loaded in %.0f s (this run)"
      % (os.path.relpath(npy, ROOT) if npy.startswith(ROOT) else npy, fs_type(d), t_data))
    p("  membase      %s: CREATE VIRTUAL TABLE ticks USING membase(file=ticks.npy, sorted=ts, readonly=1)"
      % (os.path.relpath(module, ROOT) if module.startswith(ROOT) else module))
    p("  numpy        %s: np.load(mmap_mode='r')" % np.__version__)
    p("  native       ticks.db, n(ts, price, qty, side, sym), INDEX on ts, sym, qty, cache_size 4 GiB, warm;")
    p("               \"native SQLite\" reads n NOT INDEXED, \"indexed\" lets the planner choose")
    if duck:
        p("  duckdb       %s (npm @duckdb/node-api %s, Node %s), in-memory table from the .npy's columns "
          "(raw files, appender), loaded in %s" % (duck["version"], DUCKDB_PIN,
                                                   subprocess.run(["node", "--version"], capture_output=True,
                                                                  text=True).stdout.strip(), duck_load))
        p("               checked against numpy: %s: equal" % ", ".join(LOAD_CHECK_NAMES))
    else:
        p("  duckdb       n/a: %s" % duck_why)
    p("  timing       warm; one untimed run per figure (its answer checked), then best of %d "
      "(fewer past %.0f s a figure)" % (reps, args.budget))
    p("  answers      every system against numpy: integers exact, floats within a relative 1e-9")
    p("  sqlite       %s; python %s" % (sqlite3.sqlite_version, platform.python_version()))
    p("machine")
    p("  " + machine())
    p("")
    w = max(len(n) for _, n in SYSTEMS)
    p("%-12s %-*s %12s %5s  %s" % ("query", w, "system", "time", "runs", "answer"))
    status = return_code_load
    for q in labels:
        for key, name in SYSTEMS:
            f = figs[q][key]
            if f.mismatch:
                status = 1
                p("%-12s %-*s %12s %5s  %s" % (q, w, name, "MISMATCH", "-", "MISMATCH: " + f.mismatch))
            elif f.na is not None:
                p("%-12s %-*s %12s %5s  %s" % (q, w, name, "n/a", "-", "n/a: " + f.na))
            else:
                p("%-12s %-*s %12s %5d  %s" % (q, w, name, fmt_ms(f.best) + " ms", len(f.times),
                                                "reference" if key == "numpy" else "ok"))
    p("  (time: best of the timed runs, ms; every result row fetched into the host)")
    p("")
    p("queries")
    p("  SQL runs on ticks (MemBase SQL, DuckDB) and on n (native); range-sum: WHERE ts BETWEEN %d AND %d"
      % (lo, hi))
    p("  (records %d to %d of %d, the middle quarter)" % (rows * 3 // 8, rows * 5 // 8 - 1, rows))
    for q in labels:
        p("  %-12s SQL: %s" % (q, sql_of(q, "T", lo, hi)))
        for key in ("mb_vec1", "mb_vec2"):
            if (q, key) in sqls:
                p("  %-12s %s: %s" % ("", NAME[key], sqls[(q, key)]))
            elif key == "mb_vec1" or figs[q]["mb_vec1"].na is None:
                p("  %-12s %s: n/a" % ("", NAME[key]))
        p("  %-12s numpy: %s" % ("", {
            "sum": "a['price'].sum()",
            "range-sum": "np.searchsorted on a['ts'], then a['price'][i0:i1].sum()",
            "group-100": "np.unique(a['sym'].view('<u8'), return_inverse=True) + np.bincount(inv, weights=qty)",
            "group-1M": "np.unique(a['qty'], return_inverse=True) + np.bincount(inv, weights=price)",
            "group-multi": "np.unique(sym as u8, return_inverse) + np.bincount (count, sums); "
                           "argsort(inv) + np.minimum/maximum.reduceat (min, max)"}[q]))
        p("  %-12s native, indexed plan: %s" % ("", plans[(q, "native_idx")]))
    p("")

    # ratios: baseline / membase, above 1 MemBase is faster
    rat, skipped = [], {}

    def ratio(name, mkey, q, bkey, peer):
        fm, fb = figs[q][mkey], figs[q][bkey]
        if fm.times and fb.times and not fm.mismatch and not fb.mismatch:
            rat.append((name, fm.best, fb.best, peer))
        else:
            skipped.setdefault(q, []).append(name.split(": ", 1)[1])
    for q in labels:
        ratio("%s: vectorised vs DuckDB, 1 thread" % q, "mb_vec1", q, "duck1", NAME["duck1"])
        ratio("%s: vectorised vs DuckDB, 2 threads" % q, "mb_vec2", q, "duck2", NAME["duck2"])
        ratio("%s: vectorised, 1 thread vs numpy" % q, "mb_vec1", q, "numpy", "numpy")
        ratio("%s: SQL vs native" % q, "mb_sql", q, "native", NAME["native"])
        ratio("%s: SQL vs native, indexed" % q, "mb_sql", q, "native_idx", NAME["native_idx"])
    wn = max([len(r[0]) for r in rat] + [30])
    p("%-*s %12s %13s %8s" % (wn, "figure", "membase", "baseline", "ratio"))
    for name, m, b, peer in rat:
        p("%-*s %12s %13s %7sx  vs %s" % (wn, name, fmt_ms(m) + " ms", fmt_ms(b) + " ms",
                                          fmt_ratio(b / m), peer))
    p("  (ratio = baseline time / membase time: above 1 membase is faster)")
    for q, names in skipped.items():
        p("  (not compared, a side n/a or wrong: %s: %s)" % (q, "; ".join(names)))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    if status:
        log("mb_bench_analytics.py: MISMATCH (see above): the answers differ")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
