#!/usr/bin/python3
"""mb_bench_tx.py -- what the record table's transactions cost (issue 14):
MemBase and its peers in the same run, one table with ratios.

    /usr/bin/python3 bench/mb_bench_tx.py --module build/membase.so \\
        [--old OLD/membase.so] [--reps N] [--quick] [--only 1,2,3,4] \\
        [--rows N] [--updates N] [--txs N] [--window S] [--trace-txs N] \\
        [--json FILE] [--dir DIR]

The record file: ROWS records of 32 bytes, layout 'id i64, bal i64, seq
i64, pad i64' (rowid = record index = id). The native peer: the same rows
in `t(id INTEGER PRIMARY KEY, bal, seq, pad)`, cache_size 1 GiB,
synchronous=FULL, journal_mode=DELETE (rollback) or WAL. Every system runs
the same statement, `UPDATE t SET bal = bal + ? WHERE rowid = ?`, through
executemany over the same random rowids (seeded), with BEGIN/COMMIT
around each transaction.

Figures (each repeated --reps times, alternating the systems; the best is
reported and the spread, (worst - best) / best, beside it):
  1. UPDATES in-place updates in one transaction: MemBase vs native
     rollback journal vs --old (a MemBase build before the journal of
     issue 14: today's unjournaled path). Goals: >= native, <= 1.5x old.
  2. TXS transactions of 10 updates, each commit durable: MemBase vs
     native rollback vs native WAL. Goal: >= native rollback.
  3. `SELECT sum(bal) FROM t` and `SELECT * FROM membase_aggregate('t',
     'bal')` for WINDOW seconds while another process commits transactions
     of 10 updates through MemBase in a loop, against the same with no
     writer: queries/s, their ratio (goal >= 0.8), the writer's commits,
     and queries that failed with SQLITE_BUSY (goal 0).
  4. The cost of the guarantees, measured with strace: syncs (fsync,
     fdatasync, msync MS_SYNC) per commit and bytes written to the journal
     (FILE-mbjournal, DB-journal, DB-wal) per updated record, over
     TRACE_TXS transactions of 10 updates.

Prints the configuration, the machine and one Markdown table on stdout
(progress on stderr); --json also writes the figures as JSON. bench/run.sh
runs it and keeps the output in bench/results/latest-tx.txt (and .json).
Internal: --child writer|trace runs the writer of figure 3 and the traced
program of figure 4.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

LAYOUT = "id i64, bal i64, seq i64, pad i64"
UPDATE = "UPDATE t SET bal = bal + ? WHERE rowid = ?"
TX_SIZE = 10
MARK_BEGIN = b"MBTX-BEGIN"
MARK_END = b"MBTX-END"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ data

def make_record_file(path, rows):
    a = np.zeros(rows, dtype=[("id", "<i8"), ("bal", "<i8"), ("seq", "<i8"), ("pad", "<i8")])
    a["id"] = np.arange(rows)
    a["bal"] = 1000
    a.tofile(path)
    _fsync_path(path)


def make_native_db(path, rows, wal):
    for suffix in ("", "-journal", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=%s" % ("WAL" if wal else "DELETE"))
    db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, bal INTEGER, seq INTEGER, pad INTEGER)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO t VALUES (?, 1000, 0, 0)", ((i,) for i in range(rows)))
    db.execute("COMMIT")
    if wal:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def connect_membase(module, path):
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(module)
    db.execute("CREATE VIRTUAL TABLE t USING membase(file='%s', layout='%s')" % (path, LAYOUT))
    return db


def connect_native(path, wal):
    db = sqlite3.connect(path, isolation_level=None)
    mode = db.execute("PRAGMA journal_mode=%s" % ("WAL" if wal else "DELETE")).fetchone()[0]
    assert mode.lower() == ("wal" if wal else "delete"), mode
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA cache_size=-1048576")        # 1 GiB: the whole table stays cached
    db.execute("SELECT sum(bal) FROM t").fetchone()  # warm the cache
    return db


def random_updates(rows, n, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, rows, size=n)
    deltas = rng.integers(-50, 51, size=n)
    return list(zip(deltas.tolist(), ids.tolist()))


# ------------------------------------------------------------------ timing

class Series:
    """Repeated measurements of one figure: best and spread."""

    def __init__(self, higher_better=False):
        self.v = []
        self.higher_better = higher_better
        self.error = None      # a failed run: the message, and no more runs


    def add(self, x):
        self.v.append(x)

    @property
    def best(self):
        return max(self.v) if self.higher_better else min(self.v)

    @property
    def spread(self):
        b, w = self.best, (min(self.v) if self.higher_better else max(self.v))
        return abs(w - b) / b if b else 0.0

    def json(self):
        if self.error or not self.v:
            return {"error": self.error, "all": self.v}
        return {"best": self.best, "spread": self.spread, "all": self.v}


def fmt_time(s):
    return "%.3f s" % s if s >= 1 else "%.1f ms" % (s * 1e3)


def cell(series, unit=""):
    if series is not None and series.error:
        return "FAILED: %s" % series.error
    if series is None or not series.v:
        return "n/a"
    x = series.best
    txt = fmt_time(x) if unit == "s" else ("%.1f %s" % (x, unit)).strip()
    return "%s (spread %d%%)" % (txt, round(series.spread * 100))


def timed_txs(db, res, txs):
    """Run the transactions and add the time to res; a failure (COMMIT's
    error) is recorded in res.error, rolled back, and not timed."""
    if res.error:
        return None
    t0 = time.perf_counter()
    try:
        for tx in txs:
            db.execute("BEGIN")
            db.executemany(UPDATE, tx)
            db.execute("COMMIT")
    except sqlite3.Error as e:
        if db.in_transaction:
            db.execute("ROLLBACK")
        res.error = str(e)
        return None
    dt = time.perf_counter() - t0
    res.add(dt)
    return dt


def ok(*series):
    return all(s is not None and s.v and not s.error for s in series)


def rotate(keys, r):
    r %= len(keys)
    return keys[r:] + keys[:r]


# ------------------------------------------------------------------ figure 1

def figure1(a, files, systems):
    """UPDATES random updates in one transaction."""
    res = {k: Series() for k in systems}
    batch = random_updates(a.rows, a.updates, 1)
    checks = {}
    for r in range(a.reps):
        for k in rotate(list(systems), r):
            dt = timed_txs(systems[k], res[k], [batch])
            log("  fig1 rep %d %-8s %s" % (r, k, "%8.3f s" % dt if dt else "FAILED: %s" % res[k].error))
    for k, db in systems.items():
        checks[k] = db.execute("SELECT sum(bal) FROM t").fetchone()[0]
    if len(set(checks.values())) != 1:
        log("  fig1: the systems disagree on sum(bal): %r" % checks)
    return res, checks


# ------------------------------------------------------------------ figure 2

def figure2(a, systems):
    """TXS transactions of TX_SIZE updates, durable commits."""
    res = {k: Series() for k in systems}
    flat = random_updates(a.rows, a.txs * TX_SIZE, 2)
    txs = [flat[i:i + TX_SIZE] for i in range(0, len(flat), TX_SIZE)]
    for r in range(a.reps):
        for k in rotate(list(systems), r):
            dt = timed_txs(systems[k], res[k], txs)
            log("  fig2 rep %d %-8s %s" % (r, k, "%8.3f s (%.0f commits/s)" % (dt, a.txs / dt) if dt
                                         else "FAILED: %s" % res[k].error))
    return res


# ------------------------------------------------------------------ figure 3

def child_writer(a):
    """Commit transactions of TX_SIZE updates until SIGTERM; print counts."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    db = connect_membase(a.module, a.file)
    rows = db.execute("SELECT count(*) FROM t").fetchone()[0]
    flat = random_updates(rows, 100000 * TX_SIZE, os.getpid())
    commits = busy = errors = 0
    i = 0
    print("ready", flush=True)
    t0 = time.perf_counter()
    while not stop:
        tx = flat[i:i + TX_SIZE]
        i = (i + TX_SIZE) % len(flat)
        try:
            db.execute("BEGIN")
            db.executemany(UPDATE, tx)
            db.execute("COMMIT")
            commits += 1
        except sqlite3.OperationalError as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if getattr(e, "sqlite_errorcode", 0) & 0xff == sqlite3.SQLITE_BUSY:
                busy += 1
            else:
                errors += 1
                if errors == 1:
                    log("  writer: %s" % e)
    print(json.dumps({"commits": commits, "busy": busy, "errors": errors,
                      "seconds": time.perf_counter() - t0}), flush=True)


def run_queries(db, sql, seconds):
    n = busy = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while True:
        try:
            db.execute(sql).fetchall()
            n += 1
        except sqlite3.OperationalError as e:
            if getattr(e, "sqlite_errorcode", 0) & 0xff in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                busy += 1
            else:
                raise
        now = time.perf_counter()
        if now >= end:
            return n / (now - t0), busy


def figure3(a, path):
    queries = [("sum", "SELECT sum(bal) FROM t"),
               ("aggregate", "SELECT * FROM membase_aggregate('t','bal')")]
    db = connect_membase(a.module, path)
    res = {}
    for name, _ in queries:
        res[name] = {"alone": Series(True), "writer": Series(True),
                     "busy": 0, "commits": [], "writer_busy": 0, "writer_errors": 0}
    for r in range(a.reps):
        for name, sql in queries:
            for mode in (("alone", "writer") if r % 2 == 0 else ("writer", "alone")):
                child = None
                if mode == "writer":
                    child = subprocess.Popen(
                        [sys.executable, os.path.abspath(__file__), "--child", "writer",
                         "--module", a.module, "--file", path],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
                    if child.stdout.readline().strip() != "ready":
                        child.kill()
                        raise SystemExit("mb_bench_tx: the writer did not start")
                    time.sleep(0.2)    # let it reach its steady state
                qps, busy = run_queries(db, sql, a.window)
                res[name][mode].add(qps)
                res[name]["busy"] += busy
                extra = ""
                if child:
                    child.send_signal(signal.SIGTERM)
                    out, _ = child.communicate(timeout=60)
                    w = json.loads(out.strip().splitlines()[-1])
                    res[name]["commits"].append(w["commits"] / w["seconds"])
                    res[name]["writer_busy"] += w["busy"]
                    res[name]["writer_errors"] += w["errors"]
                    extra = " writer %d commits in %.1f s, %d busy, %d errors" % (
                        w["commits"], w["seconds"], w["busy"], w["errors"])
                log("  fig3 rep %d %-9s %-6s %8.1f q/s, %d busy%s" % (r, name, mode, qps, busy, extra))
    db.close()
    return res


# ------------------------------------------------------------------ figure 4

def child_trace(a):
    """The traced program: TRACE_TXS commits of TX_SIZE updates between markers."""
    if a.system == "native-wal" or a.system == "native":
        db = connect_native(a.file, a.system == "native-wal")
    else:
        db = connect_membase(a.module, a.file)
    rows = db.execute("SELECT count(*) FROM t").fetchone()[0]
    flat = random_updates(rows, a.trace_txs * TX_SIZE, 4)
    # one transaction first: whatever a first write opens or creates once
    db.execute("BEGIN")
    db.executemany(UPDATE, flat[:TX_SIZE])
    db.execute("COMMIT")
    null = os.open(os.devnull, os.O_WRONLY)
    os.write(null, MARK_BEGIN)
    for i in range(0, len(flat), TX_SIZE):
        db.execute("BEGIN")
        db.executemany(UPDATE, flat[i:i + TX_SIZE])
        db.execute("COMMIT")
    os.write(null, MARK_END)
    os.close(null)
    db.close()


SYSCALL = re.compile(r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\((.*)\)\s+=\s+(-?\d+|0x[0-9a-f]+)")
FDPATH = re.compile(r"^\d+<([^>]*)>")


def parse_trace(text, journal_suffixes):
    """Count syncs and journal bytes between the markers of child_trace."""
    on = False
    c = {"fsync": 0, "fdatasync": 0, "msync": 0, "dir_syncs": 0,
         "journal_bytes": 0, "data_bytes": 0, "other_bytes": 0, "ftruncate": 0, "unlink": 0}
    for line in text.splitlines():
        m = SYSCALL.match(line.strip())
        if not m:
            continue
        call, args, ret = m.group(1), m.group(2), m.group(3)
        if call == "write" and "/dev/null" in args:
            if MARK_BEGIN.decode() in args:
                on = True
            elif MARK_END.decode() in args:
                on = False
            continue
        if not on:
            continue
        fp = FDPATH.match(args)
        path = fp.group(1) if fp else ""
        if call in ("fsync", "fdatasync"):
            c[call] += 1
            if path and os.path.isdir(path):
                c["dir_syncs"] += 1
        elif call == "msync":
            if "MS_SYNC" in args:
                c["msync"] += 1
        elif call in ("write", "pwrite64"):
            n = int(ret, 0)
            if n <= 0:
                continue
            if path.endswith(journal_suffixes):
                c["journal_bytes"] += n
            elif path.startswith("/"):
                c["data_bytes"] += n
            else:
                c["other_bytes"] += n
        elif call in ("ftruncate", "ftruncate64"):
            c["ftruncate"] += 1
        elif call in ("unlink", "unlinkat"):
            c["unlink"] += 1
    c["syncs"] = c["fsync"] + c["fdatasync"] + c["msync"]
    return c


def figure4(a, files):
    strace = shutil.which("strace")
    if not strace:
        log("  fig4: strace not found (apt-get install strace): skipped")
        return None
    res = {}
    plan = [("membase", "membase", files["membase"], ("-mbjournal",)),
            ("native", "native", files["native"], ("-journal", "-wal")),
            ("native-wal", "native-wal", files["native-wal"], ("-journal", "-wal"))]
    if a.old:
        plan.insert(1, ("old", "membase", files["old"], ("-mbjournal",)))
    for key, system, path, suffixes in plan:
        module = a.old if key == "old" else a.module
        with tempfile.NamedTemporaryFile(prefix="mbtx-strace-", suffix=".txt", delete=False) as t:
            out = t.name
        cmd = [strace, "-f", "-y", "-s", "24", "-o", out,
               "-e", "trace=fsync,fdatasync,msync,pwrite64,write,ftruncate,unlink,unlinkat",
               sys.executable, os.path.abspath(__file__), "--child", "trace",
               "--system", system, "--module", module, "--file", path,
               "--trace-txs", str(a.trace_txs)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            c = parse_trace(f.read(), suffixes)
        os.unlink(out)
        c["commits"] = a.trace_txs
        c["records"] = a.trace_txs * TX_SIZE
        res[key] = c
        log("  fig4 %-10s %s" % (key, json.dumps(c)))
    return res


# ------------------------------------------------------------------ report

def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "nproc %d, CPU %s, kernel %s" % (os.cpu_count(), model, platform.release())


def fs_type(path):
    try:
        out = subprocess.run(["df", "-T", path], capture_output=True, text=True).stdout.split("\n")[1]
        return out.split()[1]
    except (OSError, IndexError):
        return "?"


def ratio(x):
    return "n/a" if x is None else "%.2fx" % x


def met(ok):
    return "yes" if ok else "**NO**"


def build_table(a, f1, f2, f3, f4):
    rows = []
    J = {}
    if f1:
        res, checks = f1
        mb, nat = res["membase"], res["native"]
        r = nat.best / mb.best if ok(mb, nat) else None
        rows.append(("1. %dk random updates, 1 tx" % (a.updates // 1000), cell(mb, "s"),
                     "native rollback %s" % cell(nat, "s"), ratio(r) + " native/MemBase",
                     ">= 1.00x", met(r is not None and r >= 1.0)))
        J["fig1_native_over_membase"] = r
        if "old" in res:
            old = res["old"]
            r2 = mb.best / old.best if ok(mb, old) else None
            rows.append(("1. same, vs the unjournaled build", cell(mb, "s"),
                         "old build %s" % cell(old, "s"), ratio(r2) + " MemBase/old",
                         "<= 1.50x", met(r2 is not None and r2 <= 1.5)))
            J["fig1_membase_over_old"] = r2
        J["fig1"] = {k: s.json() for k, s in res.items()}
        J["fig1_sum_bal"] = checks
    if f2:
        mb, nat = f2["membase"], f2["native"]
        r = nat.best / mb.best if ok(mb, nat) else None
        rate = lambda s: "%.0f commits/s" % (a.txs / s.best) if ok(s) else "-"
        rows.append(("2. %d tx x %d updates, durable" % (a.txs, TX_SIZE),
                     "%s, %s" % (cell(mb, "s"), rate(mb)),
                     "native rollback %s, %s" % (cell(nat, "s"), rate(nat)),
                     ratio(r) + " native/MemBase", ">= 1.00x", met(r is not None and r >= 1.0)))
        wal = f2["native-wal"]
        rows.append(("2. same, vs WAL", "%s, %s" % (cell(mb, "s"), rate(mb)),
                     "native WAL %s, %s" % (cell(wal, "s"), rate(wal)),
                     ratio(wal.best / mb.best if ok(mb, wal) else None) + " WAL/MemBase",
                     "(reported)", "-"))
        if "old" in f2:
            old = f2["old"]
            rows.append(("2. same, vs the unjournaled build", "%s, %s" % (cell(mb, "s"), rate(mb)),
                         "old build %s, %s" % (cell(old, "s"), rate(old)),
                         ratio(mb.best / old.best if ok(mb, old) else None) + " MemBase/old",
                         "(reported)", "-"))
        J["fig2"] = {k: s.json() for k, s in f2.items()}
        J["fig2_native_over_membase"] = r
    if f3:
        names = {"sum": "SELECT sum(bal) FROM t", "aggregate": "membase_aggregate('t','bal')"}
        J["fig3"] = {}
        for name, d in f3.items():
            r = d["writer"].best / d["alone"].best
            com = d["commits"]
            rows.append(("3. %s, another process committing" % names[name],
                         "%s with writer" % cell(d["writer"], "q/s"),
                         "no writer %s" % cell(d["alone"], "q/s"),
                         ratio(r) + " with/without", ">= 0.80x", met(r >= 0.8)))
            rows.append(("3. %s: writer commits, BUSY" % names[name],
                         "writer %.0f commits/s (median of %d windows), %d commits BUSY, %d errors"
                         % (statistics.median(com), len(com), d["writer_busy"], d["writer_errors"]),
                         "-", "%d queries BUSY" % d["busy"], "0 BUSY",
                         met(d["busy"] == 0 and d["writer_busy"] == 0 and d["writer_errors"] == 0)))
            J["fig3"][name] = {"with_writer_qps": d["writer"].json(), "alone_qps": d["alone"].json(),
                               "ratio": r, "writer_commits_per_s": com,
                               "query_busy": d["busy"], "writer_busy": d["writer_busy"],
                               "writer_errors": d["writer_errors"]}
    if f4:
        def syncs(c):
            return c["syncs"] / c["commits"]

        def jb(c):
            return c["journal_bytes"] / c["records"]
        mb = f4["membase"]
        peers = [("native rollback", f4["native"]), ("WAL", f4["native-wal"])]
        if "old" in f4:
            peers.append(("old", f4["old"]))
        rows.append(("4. syncs per commit (10 updates)", "%.2f" % syncs(mb),
                     ", ".join("%s %.2f" % (n, syncs(c)) for n, c in peers),
                     "-", "(reported)", "-"))
        rows.append(("4. journal bytes per updated record", "%.1f" % jb(mb),
                     ", ".join("%s %.1f" % (n, jb(c)) for n, c in peers),
                     "-", "(reported)", "-"))
        J["fig4"] = f4
    return rows, J


def print_table(rows):
    head = ("figure", "MemBase", "peer(s)", "ratio", "goal", "met?")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--module", help="the MemBase build under test (membase.so)")
    ap.add_argument("--old", help="a MemBase build before the journal (figures 1, 2, 4)")
    ap.add_argument("--rows", type=int, help="records (default 2000000)")
    ap.add_argument("--updates", type=int, help="figure 1's updates (default 1000000)")
    ap.add_argument("--txs", type=int, help="figure 2's transactions (default 10000)")
    ap.add_argument("--window", type=float, help="seconds per figure-3 window (default 3)")
    ap.add_argument("--trace-txs", type=int, help="figure 4's traced commits (default 200)")
    ap.add_argument("--reps", type=int, help="repetitions of each figure, best of N (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="CI size: 200k rows, 100k updates, 1000 txs, 1 s windows, 100 traced "
                         "commits, 2 reps (explicit options win)")
    ap.add_argument("--no-cold", action="store_true", help=argparse.SUPPRESS)  # bench/run.sh's
    ap.add_argument("--only", default="1,2,3,4", help="figures to run, e.g. 1,3")
    ap.add_argument("--dir", help="data directory (default: build-bench/txdata of the tree)")
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--child", choices=("writer", "trace"), help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    ap.add_argument("--system", help=argparse.SUPPRESS)
    # bench/run.sh passes its arguments to every benchmark: skip (and name)
    # the ones meant for the others
    a, unknown = ap.parse_known_args()
    if unknown:
        log("mb_bench_tx: ignoring %s (not options of mb_bench_tx.py)" % " ".join(unknown))
    if a.child == "writer":
        return child_writer(a)
    if a.child == "trace":
        return child_trace(a)
    if not a.module:
        ap.error("--module is required")
    sizes = {"rows": (2_000_000, 200_000), "updates": (1_000_000, 100_000), "txs": (10_000, 1000),
             "window": (3.0, 1.0), "trace_txs": (200, 100), "reps": (3, 2)}
    for k, (full, quick) in sizes.items():
        if getattr(a, k) is None:
            setattr(a, k, quick if a.quick else full)
    a.module = os.path.abspath(a.module)
    if a.old:
        a.old = os.path.abspath(a.old)
    only = {int(x) for x in a.only.split(",") if x}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    d = a.dir or os.path.join(root, "build-bench", "txdata")
    os.makedirs(d, exist_ok=True)

    files = {"membase": os.path.join(d, "tx_membase.bin"), "old": os.path.join(d, "tx_old.bin"),
             "native": os.path.join(d, "tx_native.db"), "native-wal": os.path.join(d, "tx_wal.db")}
    log("mb_bench_tx: making %d records in %s" % (a.rows, d))
    for k in ("membase", "old"):
        for suffix in ("", "-mbjournal"):
            if os.path.exists(files[k] + suffix):
                os.unlink(files[k] + suffix)
        if k == "membase" or a.old:
            make_record_file(files[k], a.rows)
    make_native_db(files["native"], a.rows, False)
    make_native_db(files["native-wal"], a.rows, True)

    f1 = f2 = f3 = f4 = None
    if only & {1, 2}:
        systems = {"membase": connect_membase(a.module, files["membase"]),
                   "native": connect_native(files["native"], False)}
        if a.old:
            systems["old"] = connect_membase(a.old, files["old"])
        if 1 in only:
            log("figure 1: %d random updates in one transaction" % a.updates)
            f1 = figure1(a, files, systems)
        if 2 in only:
            log("figure 2: %d transactions of %d updates" % (a.txs, TX_SIZE))
            systems["native-wal"] = connect_native(files["native-wal"], True)
            f2 = figure2(a, systems)
        for db in systems.values():
            db.close()
    if 3 in only:
        log("figure 3: scans with and without a committing process, %.1f s windows" % a.window)
        f3 = figure3(a, files["membase"])
    if 4 in only:
        log("figure 4: syncs and journal bytes over %d commits, under strace" % a.trace_txs)
        f4 = figure4(a, files)

    rows, J = build_table(a, f1, f2, f3, f4)
    print("MemBase transaction benchmark (issue 14): mb_bench_tx.py")
    print()
    print("configuration")
    print("  records      %d x 32 bytes {%s}, rowid = record index" % (a.rows, LAYOUT))
    print("  statement    %s, executemany over seeded random rowids, BEGIN/COMMIT" % UPDATE)
    print("  membase      %s" % a.module)
    print("  old build    %s" % (a.old or "(not given: --old)"))
    print("  native       t(id INTEGER PRIMARY KEY, bal, seq, pad), synchronous=FULL, "
          "cache_size 1 GiB, journal DELETE or WAL")
    print("  data         %s (%s), files cached" % (d, fs_type(d)))
    print("  reps         best of %d, alternating systems; spread = (worst - best) / best; "
          "figure 3: %.1f s windows" % (a.reps, a.window))
    print("  sqlite       %s; python %s; numpy %s" % (sqlite3.sqlite_version, platform.python_version(),
                                                     np.__version__))
    print("machine")
    print("  %s" % machine())
    print()
    print_table(rows)
    if f4:
        print()
        print("figure 4 in detail, per commit of %d updates (strace -f -y, %d commits)" % (TX_SIZE, a.trace_txs))
        for k, c in f4.items():
            n = c["commits"]
            print("  %-10s fsync %.2f (directories %.2f), fdatasync %.2f, msync(MS_SYNC) %.2f, "
                  "journal bytes %.0f, data file bytes written %.0f, ftruncate %.2f, unlink %.2f"
                  % (k, c["fsync"] / n, c["dir_syncs"] / n, c["fdatasync"] / n, c["msync"] / n,
                     c["journal_bytes"] / n, c["data_bytes"] / n, c["ftruncate"] / n, c["unlink"] / n))
    J["config"] = {"rows": a.rows, "updates": a.updates, "txs": a.txs, "reps": a.reps,
                   "window": a.window, "trace_txs": a.trace_txs, "module": a.module, "old": a.old,
                   "sqlite": sqlite3.sqlite_version, "machine": machine()}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(J, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
