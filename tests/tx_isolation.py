"""tx_isolation.py -- what others see of a membase record table's
transactions (docs/TRANSACTIONS.md, "What others see"), checked on every
statement, written from the contract, not from the implementation.

    python3 tests/tx_isolation.py [--seed N] [--long] [--seconds S]
                                  [--kinds raw,npy] [--pause-ms MS]
                                  [--selftest] [--verbose]

1. Deterministic sub-tests, on a raw file and on a .npy file:
   own-writes   a connection inside BEGIN..COMMIT sees its own UPDATE and
                INSERT (scan, rowid lookup, IN list, range, aggregate)
   isolation    another connection of the process and another process do
                not see them before COMMIT, and the file's bytes are not
                touched before COMMIT; after COMMIT everyone sees them
   rollback     ROLLBACK and ROLLBACK TO drop what they should
   delay        a statement of another connection that is running when
                COMMIT wants to apply delays the apply; the statement
                sees none of the commit; COMMIT then succeeds
   statement-lock  a commit wanting to apply between two subqueries of one
                statement (table scans; membase_aggregate calls) waits for
                the statement's end
   busy         a statement held open past 5 s: COMMIT fails with
                SQLITE_BUSY in about 5 s, the file untouched, no hot journal
   lost-update  an UPDATE (bal = bal + 1) of a second connection that waits
                for the writer lock while another transaction changes the
                same record must not overwrite the committed change (SQLite
                never loses an update; the contract implies it: writers take
                turns)

2. Stress: a file of N records in G groups (rowid % G) whose `bal` column
   sums to a constant per group (and so in total), with `seq` (the txn id
   that last wrote the record) and `chk` = bal * 1000003 + seq (a record
   torn between fields shows). Two writer processes commit transfer
   transactions continuously: 2..500 random records of one group, random
   non-zero amounts summing to 0, each record's seq set to the txn id;
   sometimes an append of records with bal = 0. Reader processes and
   reader threads (a connection each) check on EVERY statement:
     full      SELECT sum(bal), count(*): the total; count never shrinks
     rec       no record with chk != bal*M + seq (full scan)
     groups    GROUP BY rowid % G: every group's sum
     range3    three range scans in one statement (rowid < a, BETWEEN a
               AND b, > b): their sums add up to the total
     selfjoin  a range read twice in one statement (a join on rowid):
               both reads of every record agree
     agg       membase_aggregate(): the total; agg3: three ranges of it
     mixed     a scan and membase_aggregate in one statement agree
     inlist    WHERE rowid IN (a whole group): the group's sum
   The writers are stopped with SIGSTOP now and then for 20..200 ms,
   wherever they are (--no-stop: never): slow writers, not dead ones.
   Readers pause up to --pause-ms (3 ms) between statements: back to back
   (0) they leave COMMIT no moment to apply, and writers starve (a COMMIT
   waits for no statement to be reading; a handful of commits in 15 s).
   Writers also check their own writes inside each transaction. At the end
   a new connection checks the file against the model built from the
   committed transactions (every committed delta applied, no lost update),
   and that no journal is left. Any violation or unexpected error fails.

3. --selftest: the checker can fail. A "foreign" writer changes the file
   directly with numpy memmap (no MemBase, no lock) in two steps (one
   record of a group, then another; a record's bal before its chk);
   readers run as above and must report violations (the run passes only
   if they do).

Quick setting: ~20 s. --long: minutes (--seconds sets the stress time per
file kind). Environment: MEMBASE_EXT (the built module, required),
MEMBASE_TESTDIR (scratch folder).
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import signal
import sqlite3
import struct
import sys
import tempfile
import threading
import time
import traceback

import numpy as np

M = 1000003
G = 40
# A reader's pause between statements (ms, random up to this; --pause-ms,
# passed to the spawned processes through the environment)
PAUSE_MS = float(os.environ.get("MB_ISO_PAUSE_MS", "0"))
STOP_WRITERS = True      # --no-stop: never SIGSTOP the writers
DTYPE = np.dtype([("bal", "<i8"), ("seq", "<i8"), ("chk", "<i8")])
LAYOUT = "bal i64, seq i64, chk i64"


# ---------------------------------------------------------------------------
# Files and connections

def ext_path():
    ext = os.environ.get("MEMBASE_EXT")
    if not ext:
        sys.exit("tx_isolation: set MEMBASE_EXT to the built module (build/membase.so)")
    return ext


def scratch_dir():
    base = os.environ.get("MEMBASE_TESTDIR") or tempfile.gettempdir()
    d = os.path.join(base, "tx_isolation-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    return d


def table_opts(path, kind):
    if kind == "npy":
        return "file='%s'" % path
    return "file='%s', layout='%s'" % (path, LAYOUT)


def connect(path, kind):
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.enable_load_extension(True)
    db.load_extension(ext_path())
    db.execute("CREATE VIRTUAL TABLE t USING membase(%s)" % table_opts(path, kind))
    return db


def make_file(path, kind, n, seed):
    rng = np.random.default_rng(seed)
    a = np.zeros(n, dtype=DTYPE)
    a["bal"] = rng.integers(1000, 100000, n)
    a["seq"] = 0
    a["chk"] = a["bal"] * M
    for p in (path, path + "-mbjournal"):
        if os.path.exists(p):
            os.unlink(p)
    if kind == "npy":
        np.save(path, a)
    else:
        a.tofile(path)
    gsum = [int(a["bal"][g::G].sum()) for g in range(G)]
    return a["bal"].astype(np.int64).copy(), gsum


def read_all(path, kind):
    """The records in the file, as numpy reads them (no MemBase)."""
    if kind == "npy":
        return np.load(path)
    return np.fromfile(path, dtype=DTYPE)


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def journal_state(path):
    """'none', 'unarmed' (shorter than 64, no magic, arm word 0) or 'hot'."""
    j = path + "-mbjournal"
    if not os.path.exists(j):
        return "none"
    b = file_bytes(j)
    if len(b) < 64 or b[:8] != b"MBJRNL02":
        return "unarmed" if b[:8] != b"MBJRNL01" else "v1"
    return "unarmed" if struct.unpack_from("<Q", b, 56)[0] == 0 else "hot"


def errcode(e):
    return getattr(e, "sqlite_errorcode", None)


# ---------------------------------------------------------------------------
# Deterministic sub-tests

class Det:
    def __init__(self, verbose):
        self.fails = []
        self.n = 0
        self.verbose = verbose

    def eq(self, name, got, want):
        self.n += 1
        if got != want:
            self.fails.append("%s: got %r, want %r" % (name, got, want))
            print("  FAIL %s: got %r, want %r" % (name, got, want), flush=True)
        elif self.verbose:
            print("  ok %s" % name, flush=True)

    def true(self, name, cond, info=""):
        self.n += 1
        if not cond:
            self.fails.append("%s: %s" % (name, info))
            print("  FAIL %s: %s" % (name, info), flush=True)
        elif self.verbose:
            print("  ok %s" % name, flush=True)


def peek_proc(path, kind, q):
    """Another process: what it sees."""
    try:
        db = connect(path, kind)
        q.put(snapshot(db))
        db.close()
    except Exception as e:  # pragma: no cover - reported
        q.put("error: %r" % e)


def peek_other_process(path, kind):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=peek_proc, args=(path, kind, q))
    p.start()
    r = q.get(timeout=60)
    p.join(30)
    return r


def snapshot(db):
    """What a connection sees: bal[3], count, sum, aggregate sum, IN-list
    sum of rowids 3 and 4, range sum 0..9."""
    return [
        db.execute("SELECT bal FROM t WHERE rowid = 3").fetchone()[0],
        db.execute("SELECT count(*) FROM t").fetchone()[0],
        db.execute("SELECT sum(bal) FROM t").fetchone()[0],
        db.execute("SELECT sum FROM membase_aggregate('t', 'bal')").fetchone()[0],
        db.execute("SELECT sum(bal) FROM t WHERE rowid IN (3, 4)").fetchone()[0],
        db.execute("SELECT sum(bal) FROM t WHERE rowid BETWEEN 0 AND 9").fetchone()[0],
    ]


def det_tests(d, kind, dirpath, seed):
    n = 1000
    path = os.path.join(dirpath, "det." + ("npy" if kind == "npy" else "bin"))
    bal, _ = make_file(path, kind, n, seed)
    total = int(bal.sum())
    b3, b4 = int(bal[3]), int(bal[4])
    r10 = int(bal[:10].sum())
    A = connect(path, kind)
    B = connect(path, kind)
    base = [b3, n, total, total, b3 + b4, r10]
    d.eq(kind + ".base.A", snapshot(A), base)
    d.eq(kind + ".base.B", snapshot(B), base)

    # own writes / isolation
    before = file_bytes(path)
    A.execute("BEGIN")
    A.execute("UPDATE t SET bal = bal + 7, seq = 1, chk = (bal + 7) * %d + 1 WHERE rowid = 3" % M)
    A.execute("INSERT INTO t(bal, seq, chk) VALUES (5, 1, 5 * %d + 1)" % M)
    mine = [b3 + 7, n + 1, total + 12, total + 12, b3 + b4 + 7, r10 + 7]
    d.eq(kind + ".own-writes", snapshot(A), mine)
    d.eq(kind + ".own-writes.inserted",
         A.execute("SELECT bal, seq FROM t WHERE rowid = %d" % n).fetchall(), [(5, 1)])
    d.eq(kind + ".isolation.connection", snapshot(B), base)
    d.eq(kind + ".isolation.process", peek_other_process(path, kind), base)
    d.true(kind + ".isolation.file-untouched", file_bytes(path) == before,
           "the file changed before COMMIT")
    A.execute("COMMIT")
    d.eq(kind + ".commit.A", snapshot(A), mine)
    d.eq(kind + ".commit.B", snapshot(B), mine)
    d.eq(kind + ".commit.process", peek_other_process(path, kind), mine)
    f = read_all(path, kind)
    d.eq(kind + ".commit.file", (len(f), int(f["bal"][3]), int(f["bal"][n])), (n + 1, b3 + 7, 5))
    d.eq(kind + ".commit.journal", journal_state(path), "none")

    # rollback and savepoints
    before = file_bytes(path)
    A.execute("BEGIN")
    A.execute("UPDATE t SET bal = bal + 1000 WHERE rowid = 3")
    A.execute("INSERT INTO t(bal, seq, chk) VALUES (9, 2, 9)")
    A.execute("ROLLBACK")
    d.eq(kind + ".rollback.A", snapshot(A), mine)
    d.true(kind + ".rollback.file", file_bytes(path) == before, "the file changed")
    A.execute("BEGIN")
    A.execute("UPDATE t SET bal = bal + 1, seq = 3, chk = (bal + 1) * %d + 3 WHERE rowid = 3" % M)
    A.execute("SAVEPOINT s")
    A.execute("UPDATE t SET bal = bal + 100 WHERE rowid = 4")
    A.execute("INSERT INTO t(bal, seq, chk) VALUES (9, 2, 9)")
    A.execute("ROLLBACK TO s")
    A.execute("RELEASE s")
    mine = [b3 + 8, n + 1, total + 13, total + 13, b3 + b4 + 8, r10 + 8]
    d.eq(kind + ".savepoint.A", snapshot(A), mine)
    d.eq(kind + ".savepoint.B", snapshot(B)[:3], [b3 + 7, n + 1, total + 12])
    A.execute("COMMIT")
    d.eq(kind + ".savepoint.commit", snapshot(B), mine)

    # a running statement delays the apply
    A.execute("BEGIN")
    A.execute("UPDATE t SET bal = bal + 5, seq = 4, chk = (bal + 5) * %d + 4 WHERE rowid = 1" % M)
    A.execute("UPDATE t SET bal = bal - 5, seq = 4, chk = (bal - 5) * %d + 4 WHERE rowid = 998" % M)
    old1 = B.execute("SELECT bal FROM t WHERE rowid = 1").fetchone()[0]
    before = file_bytes(path)
    cur = B.execute("SELECT rowid, bal FROM t")
    first = cur.fetchone()
    res = {}

    def commit_a():
        t0 = time.monotonic()
        try:
            A.execute("COMMIT")
            res["rc"] = 0
        except sqlite3.Error as e:
            res["rc"] = errcode(e)
            res["msg"] = str(e)
        res["t"] = time.monotonic() - t0

    th = threading.Thread(target=commit_a)
    th.start()
    time.sleep(0.8)
    d.true(kind + ".delay.waiting", th.is_alive(),
           "COMMIT returned while another statement was running: %r" % res)
    d.true(kind + ".delay.file-untouched", file_bytes(path) == before,
           "the file changed while a statement was running")
    rows = [first] + cur.fetchall()
    d.eq(kind + ".delay.statement-saw-old", (len(rows), rows[1][1], rows[998][1]),
         (n + 1, old1, int(read_col_before(before, kind, 998))))
    th.join(10)
    d.eq(kind + ".delay.commit", res.get("rc"), 0)
    d.eq(kind + ".delay.after", B.execute("SELECT bal FROM t WHERE rowid = 1").fetchone()[0], old1 + 5)

    # one statement, two reads with a commit wanting to apply between them
    # (pause(), a function evaluated between the two subqueries, lets
    # another connection's COMMIT run for up to 1.5 s): the commit must
    # wait for the statement's end, whether the reads are table scans or
    # membase_aggregate calls
    for form, q in (
            ("scan", "SELECT (SELECT sum(bal) FROM t WHERE rowid < 10), pause(), "
                     "(SELECT sum(bal) FROM t WHERE rowid >= 10)"),
            ("aggregate", "SELECT (SELECT sum FROM membase_aggregate('t', 'bal', 0, 9)), pause(), "
                          "(SELECT sum FROM membase_aggregate('t', 'bal', 10, NULL))")):
        R = connect(path, kind)
        W = connect(path, kind)
        tot0 = R.execute("SELECT sum(bal) FROM t").fetchone()[0]
        W.execute("BEGIN")
        W.execute("UPDATE t SET bal = bal - 1000, chk = (bal - 1000) * %d + seq WHERE rowid = 5" % M)
        W.execute("UPDATE t SET bal = bal + 1000, chk = (bal + 1000) * %d + seq WHERE rowid = 15" % M)
        wres = {}

        def commit_w():
            try:
                W.execute("COMMIT")
                wres["rc"] = 0
            except sqlite3.Error as e:
                wres["rc"] = errcode(e)

        state = {}

        def pause():
            th = threading.Thread(target=commit_w)
            th.start()
            th.join(1.5)
            state["applied-during-statement"] = not th.is_alive()
            state["thread"] = th
            return 0

        R.create_function("pause", 0, pause)
        parts = R.execute(q).fetchone()
        state["thread"].join(10)
        d.eq("%s.statement-lock.%s" % (kind, form),
             (parts[0] + parts[2], state["applied-during-statement"]), (tot0, False))
        d.eq("%s.statement-lock.%s.commit" % (kind, form), wres.get("rc"), 0)
        d.eq("%s.statement-lock.%s.after" % (kind, form),
             R.execute("SELECT sum(bal) FROM t").fetchone()[0], tot0)
        R.close()
        W.close()

    # a statement held past 5 s: COMMIT fails with SQLITE_BUSY
    A.execute("BEGIN")
    A.execute("UPDATE t SET bal = bal + 3, seq = 5, chk = (bal + 3) * %d + 5 WHERE rowid = 2" % M)
    A.execute("UPDATE t SET bal = bal - 3, seq = 5, chk = (bal - 3) * %d + 5 WHERE rowid = 997" % M)
    old2 = B.execute("SELECT bal FROM t WHERE rowid = 2").fetchone()[0]
    before = file_bytes(path)
    cur = B.execute("SELECT rowid, bal FROM t")
    cur.fetchone()
    res.clear()
    th = threading.Thread(target=commit_a)
    th.start()
    th.join(12)
    d.true(kind + ".busy.returned", not th.is_alive(), "COMMIT still waiting after 12 s")
    d.eq(kind + ".busy.code", (res.get("rc") or 0) & 0xff, 5)
    d.true(kind + ".busy.time", 4.0 <= res.get("t", 0) <= 9.0, "COMMIT took %r s" % res.get("t"))
    d.true(kind + ".busy.file-untouched", file_bytes(path) == before, "the file changed")
    d.true(kind + ".busy.no-hot-journal", journal_state(path) in ("none", "unarmed"),
           "journal: %s" % journal_state(path))
    cur.fetchall()
    still = A.in_transaction
    if still:
        try:
            A.execute("COMMIT")
            want2 = old2 + 3
        except sqlite3.Error as e:
            d.true(kind + ".busy.retry", False, "COMMIT retried after the statement ended: %s" % e)
            A.execute("ROLLBACK")
            want2 = old2
    else:
        want2 = old2
    print("  %s.busy: COMMIT rc %s; %s" %
          (kind, res.get("rc"), "the transaction still open (COMMIT retried)" if still
           else "no transaction open after it"), flush=True)
    d.eq(kind + ".busy.after", B.execute("SELECT bal FROM t WHERE rowid = 2").fetchone()[0], want2)
    d.eq(kind + ".busy.sum", B.execute("SELECT sum(bal) FROM t").fetchone()[0], total + 13)

    # lost update
    old5 = B.execute("SELECT bal FROM t WHERE rowid = 5").fetchone()[0]
    A.execute("BEGIN")
    A.execute("UPDATE t SET bal = bal + 100 WHERE rowid = 5")
    res_b = {}

    def update_b():
        t0 = time.monotonic()
        try:
            B.execute("UPDATE t SET bal = bal + 1 WHERE rowid = 5")
            res_b["rc"] = 0
        except sqlite3.Error as e:
            res_b["rc"] = errcode(e)
            res_b["msg"] = str(e)
        res_b["t"] = time.monotonic() - t0

    th = threading.Thread(target=update_b)
    th.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    try:
        A.execute("COMMIT")
        rc_a = 0
    except sqlite3.Error as e:
        rc_a = errcode(e)
        if A.in_transaction:
            A.execute("ROLLBACK")
    t_a = time.monotonic() - t0
    th.join(15)
    final = A.execute("SELECT bal FROM t WHERE rowid = 5").fetchone()[0]
    want = old5 + (100 if rc_a == 0 else 0) + (1 if res_b.get("rc") == 0 else 0)
    print("  %s.lost-update: A's COMMIT rc %s in %.2f s; B's UPDATE rc %s in %.2f s %s" %
          (kind, rc_a, t_a, res_b.get("rc"), res_b.get("t", -1), res_b.get("msg", "")), flush=True)
    d.eq(kind + ".lost-update", final, want)
    d.eq(kind + ".lost-update.commit", rc_a, 0)
    A.close()
    B.close()


def read_col_before(b, kind, i):
    off = 0
    if kind == "npy":
        hl = struct.unpack_from("<H", b, 8)[0]
        off = 10 + hl
    return struct.unpack_from("<q", b, off + i * DTYPE.itemsize)[0]


# ---------------------------------------------------------------------------
# Stress: writers

def writer_proc(wid, path, kind, n, gsum, deadline, seed, q):
    rng = random.Random(seed * 1000 + wid)
    out = {"wid": wid, "commits": 0, "busy": 0, "errors": [], "deltas": {},
           "appended": 0, "own_checks": 0, "own_fail": [],
           "commit_s": 0.0, "commit_max": 0.0}
    try:
        db = connect(path, kind)
        groups = [list(range(g, n, G)) for g in range(G)]
        k_txn = 0
        while time.time() < deadline:
            k_txn += 1
            txn = wid + 2 * k_txn + 2
            g = rng.randrange(G)
            k = rng.randint(2, min(500, len(groups[g])))
            rows = rng.sample(groups[g], k)
            deltas = [rng.choice((-1, 1)) * rng.randint(1, 1000) for _ in range(k - 1)]
            last = -sum(deltas)
            if last == 0:
                deltas[0] += 1
                last = -1
            deltas.append(last)
            napp = rng.randint(1, 3) if rng.random() < 0.1 else 0
            check_own = rng.random() < 0.3
            try:
                db.execute("BEGIN")
                upd = ("UPDATE t SET bal = bal + ?1, seq = ?2, chk = (bal + ?1) * %d + ?2 "
                       "WHERE rowid = ?3" % M)
                args = [(dl, txn, r) for dl, r in zip(deltas, rows)]
                # rows[0] last: its value is read once this transaction
                # holds the writer lock (the first UPDATE takes it), so no
                # other commit can come between the read and the write
                db.executemany(upd, args[1:])
                if check_own:
                    pre = db.execute("SELECT bal FROM t WHERE rowid = ?", (rows[0],)).fetchone()[0]
                db.execute(upd, args[0])
                for _ in range(napp):
                    db.execute("INSERT INTO t(bal, seq, chk) VALUES (0, ?1, ?1)", (txn,))
                if check_own:
                    out["own_checks"] += 1
                    post = db.execute("SELECT bal FROM t WHERE rowid = ?", (rows[0],)).fetchone()[0]
                    gs = db.execute("SELECT sum(bal) FROM t WHERE rowid IN (%s)" %
                                    ",".join(map(str, groups[g]))).fetchone()[0]
                    tot = db.execute("SELECT sum(bal) FROM t").fetchone()[0]
                    if post != pre + deltas[0] or gs != gsum[g] or tot != sum(gsum):
                        out["own_fail"].append("txn %d: pre %s post %s (delta %d), group %d sum %s want %s, total %s want %s"
                                               % (txn, pre, post, deltas[0], g, gs, gsum[g], tot, sum(gsum)))
                t0 = time.monotonic()
                db.execute("COMMIT")
                tc = time.monotonic() - t0
                out["commit_s"] += tc
                out["commit_max"] = max(out["commit_max"], tc)
            except sqlite3.Error as e:
                if db.in_transaction:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if (errcode(e) or 0) & 0xff == 5:
                    out["busy"] += 1
                else:
                    out["errors"].append("txn %d: %s (code %s)" % (txn, e, errcode(e)))
                continue
            out["commits"] += 1
            out["appended"] += napp
            for dl, r in zip(deltas, rows):
                out["deltas"][r] = out["deltas"].get(r, 0) + dl
        db.close()
    except Exception:
        out["errors"].append(traceback.format_exc())
    out["deltas"] = {str(k): v for k, v in out["deltas"].items()}
    q.put(out)


def foreign_writer_proc(path, kind, n, deadline, seed, q):
    """Self-test: changes the file directly (numpy memmap, no lock) in two
    steps, keeping every group sum right only once both steps are done."""
    rng = random.Random(seed * 7919)
    steps = 0
    try:
        while time.time() < deadline:
            if kind == "npy":
                a = np.load(path, mmap_mode="r+")
            else:
                a = np.memmap(path, dtype=DTYPE, mode="r+")
            for _ in range(50):
                i = rng.randrange(n)
                j = i + G * rng.randint(1, (n - 1 - i) // G) if i + G < n else i - G
                d = rng.randint(1, 1000)
                # step 1: one record, bal before chk
                a["bal"][i] -= d
                time.sleep(0.0005)
                a["chk"][i] = a["bal"][i] * M + a["seq"][i]
                time.sleep(0.001)
                # step 2: the other record of the group
                a["bal"][j] += d
                a["chk"][j] = a["bal"][j] * M + a["seq"][j]
                steps += 1
                time.sleep(0.001)
            del a
    except Exception:
        q.put({"foreign": steps, "error": traceback.format_exc()})
        return
    q.put({"foreign": steps})


# ---------------------------------------------------------------------------
# Stress: readers

class Checker:
    KINDS = ("full", "rec", "groups", "range3", "selfjoin", "agg", "agg3", "mixed", "inlist")

    def __init__(self, db, n, gsum, rng, name):
        self.db, self.n, self.gsum, self.rng, self.name = db, n, gsum, rng, name
        self.total = sum(gsum)
        self.groups = [list(range(g, n, G)) for g in range(G)]
        self.last_count = n
        self.checks = {k: 0 for k in self.KINDS}
        self.viol = 0
        self.vkind = {}
        self.samples = []
        self.errors = []

    def bad(self, kind, info):
        self.viol += 1
        self.vkind[kind] = self.vkind.get(kind, 0) + 1
        if len(self.samples) < 10:
            self.samples.append("%s %s: %s" % (self.name, kind, info))

    def one(self):
        kind = self.rng.choice(self.KINDS)
        db, total = self.db, self.total
        self.checks[kind] += 1
        try:
            if kind == "full":
                s, c = db.execute("SELECT sum(bal), count(*) FROM t").fetchone()
                if s != total:
                    self.bad(kind, "sum %s, want %s" % (s, total))
                if c < self.last_count:
                    self.bad(kind, "count %s after %s" % (c, self.last_count))
                self.last_count = max(self.last_count, c)
            elif kind == "rec":
                r = db.execute("SELECT count(*), min(rowid) FROM t WHERE chk != bal * %d + seq" % M).fetchone()
                if r[0] != 0:
                    self.bad(kind, "%d torn records, first %s" % r)
            elif kind == "groups":
                got = dict(db.execute("SELECT rowid %% %d, sum(bal) FROM t GROUP BY 1" % G).fetchall())
                bad = [(g, got.get(g), self.gsum[g]) for g in range(G) if got.get(g) != self.gsum[g]]
                if bad:
                    self.bad(kind, "groups (g, got, want) %s" % bad[:3])
            elif kind in ("range3", "agg3"):
                a = self.rng.randrange(self.n)
                b = self.rng.randrange(a, self.n)
                if kind == "range3":
                    q = ("SELECT (SELECT sum(bal) FROM t WHERE rowid < ?1), "
                         "(SELECT sum(bal) FROM t WHERE rowid BETWEEN ?1 AND ?2), "
                         "(SELECT sum(bal) FROM t WHERE rowid > ?2)")
                else:
                    q = ("SELECT (SELECT sum FROM membase_aggregate('t', 'bal', 0, ?1 - 1)), "
                         "(SELECT sum FROM membase_aggregate('t', 'bal', ?1, ?2)), "
                         "(SELECT sum FROM membase_aggregate('t', 'bal', ?2 + 1, NULL))")
                parts = db.execute(q, (a, b)).fetchone()
                s = sum(p or 0 for p in parts)
                if s != total:
                    self.bad(kind, "[%d, %d]: parts %s sum %s, want %s" % (a, b, parts, s, total))
            elif kind == "selfjoin":
                a = self.rng.randrange(self.n)
                b = min(self.n - 1, a + self.rng.randint(0, 3000))
                r = db.execute("SELECT count(*), sum(x.bal != y.bal OR x.seq != y.seq OR x.chk != y.chk) "
                               "FROM t AS x JOIN t AS y ON y.rowid = x.rowid "
                               "WHERE x.rowid BETWEEN ?1 AND ?2", (a, b)).fetchone()
                if r[0] != b - a + 1 or r[1]:
                    self.bad(kind, "[%d, %d]: %s rows, %s differ between the two reads" % (a, b, r[0], r[1]))
            elif kind == "agg":
                s, c = db.execute("SELECT sum, count FROM membase_aggregate('t', 'bal')").fetchone()
                if s != total or c < self.n:
                    self.bad(kind, "sum %s count %s, want %s" % (s, c, total))
            elif kind == "mixed":
                r = db.execute("SELECT (SELECT sum(bal) FROM t), "
                               "(SELECT sum FROM membase_aggregate('t', 'bal')), "
                               "(SELECT count(*) FROM t), "
                               "(SELECT count FROM membase_aggregate('t', 'bal'))").fetchone()
                if r[0] != total or r[1] != total or r[2] != r[3]:
                    self.bad(kind, "scan sum %s, aggregate sum %s, counts %s %s, want %s" % (r[0], r[1], r[2], r[3], total))
            elif kind == "inlist":
                g = self.rng.randrange(G)
                rows = list(self.groups[g])
                self.rng.shuffle(rows)
                s, c = db.execute("SELECT sum(bal), count(*) FROM t WHERE rowid IN (%s)" %
                                  ",".join(map(str, rows))).fetchone()
                if s != self.gsum[g] or c != len(rows):
                    self.bad(kind, "group %d: sum %s count %s, want %s %s" % (g, s, c, self.gsum[g], len(rows)))
        except sqlite3.Error as e:
            if len(self.errors) < 10:
                self.errors.append("%s %s: %s (code %s)" % (self.name, kind, e, errcode(e)))
            else:
                self.errors.append("")

    def result(self):
        return {"checks": self.checks, "viol": self.viol, "vkind": self.vkind, "samples": self.samples,
                "errors": [e for e in self.errors if e], "nerrors": len(self.errors)}


def reader_loop(name, path, kind, n, gsum, deadline, seed):
    rng = random.Random(seed)
    try:
        db = connect(path, kind)
    except sqlite3.Error as e:
        return {"checks": {}, "viol": 0, "samples": [], "errors": ["%s: open: %s" % (name, e)], "nerrors": 1}
    c = Checker(db, n, gsum, rng, name)
    while time.time() < deadline:
        c.one()
        if PAUSE_MS:
            time.sleep(rng.random() * PAUSE_MS / 1000.0)
    db.close()
    return c.result()


def run_reader_threads(prefix, path, kind, n, gsum, deadline, seed, nthreads):
    results = [None] * nthreads

    def run(i):
        results[i] = reader_loop("%s.t%d" % (prefix, i), path, kind, n, gsum, deadline, seed * 100 + i)

    ths = [threading.Thread(target=run, args=(i,)) for i in range(nthreads)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return results


def reader_proc(rid, path, kind, n, gsum, deadline, seed, nthreads, q):
    try:
        q.put({"readers": run_reader_threads("p%d" % rid, path, kind, n, gsum, deadline,
                                             seed * 10 + rid, nthreads)})
    except Exception:
        q.put({"readers": [], "error": traceback.format_exc()})


def merge(results):
    tot = {"checks": {}, "viol": 0, "vkind": {}, "samples": [], "errors": [], "nerrors": 0}
    for r in results:
        for k, v in r.get("vkind", {}).items():
            tot["vkind"][k] = tot["vkind"].get(k, 0) + v
        for k, v in r["checks"].items():
            tot["checks"][k] = tot["checks"].get(k, 0) + v
        tot["viol"] += r["viol"]
        tot["samples"] += r["samples"]
        tot["errors"] += r["errors"]
        tot["nerrors"] += r["nerrors"]
    return tot


def stress(kind, dirpath, seed, seconds, n, nwriters, nreaderprocs, nthreads, selftest):
    path = os.path.join(dirpath, "stress." + ("npy" if kind == "npy" else "bin"))
    bal0, gsum = make_file(path, kind, n, seed)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start = time.time() + 2.0       # the spawned processes start together
    deadline = start + seconds
    procs = []
    if selftest:
        procs.append(ctx.Process(target=foreign_writer_proc, args=(path, kind, n, deadline, seed, q)))
    else:
        for w in range(nwriters):
            procs.append(ctx.Process(target=writer_proc, args=(w, path, kind, n, gsum, deadline, seed, q)))
    for r in range(nreaderprocs):
        procs.append(ctx.Process(target=reader_proc, args=(r, path, kind, n, gsum, deadline, seed, nthreads, q)))
    for p in procs:
        p.start()
    time.sleep(max(0, start - time.time()))
    # Writers are stopped (SIGSTOP) now and then for 20..200 ms, wherever
    # they are (inside COMMIT too): a writer that is slow, not gone. Its
    # armed journal must not be taken for a dead writer's.
    stops = [0]
    stopper_done = threading.Event()

    def stopper():
        srng = random.Random(seed * 31 + 5)
        wprocs = [p for p in procs[:nwriters]] if not selftest else []
        while wprocs and not stopper_done.wait(srng.uniform(0.2, 0.6)):
            p = srng.choice(wprocs)
            try:
                os.kill(p.pid, signal.SIGSTOP)
                time.sleep(srng.uniform(0.02, 0.2))
            finally:
                os.kill(p.pid, signal.SIGCONT)
            stops[0] += 1

    st = threading.Thread(target=stopper)
    if STOP_WRITERS:
        st.start()
    local = run_reader_threads("main", path, kind, n, gsum, deadline, seed * 10 + 9, nthreads)
    stopper_done.set()
    if STOP_WRITERS:
        st.join()
    outs = []
    for _ in procs:
        outs.append(q.get(timeout=seconds + 120))
    for p in procs:
        p.join(30)
    readers = list(local)
    writers = []
    fails = []
    foreign = 0
    for o in outs:
        if "readers" in o:
            readers += o["readers"]
            if "error" in o:
                fails.append("reader process: " + o["error"])
        elif "foreign" in o:
            foreign = o["foreign"]
            if "error" in o:
                fails.append("foreign writer: " + o["error"])
        else:
            writers.append(o)
    rd = merge(readers)
    nchecks = sum(rd["checks"].values())
    print("  %s: %d reader statements checked %s" % (kind, nchecks, json.dumps(rd["checks"], sort_keys=True)))
    print("  %s: violations %d %s, reader errors %d" % (kind, rd["viol"], json.dumps(rd["vkind"], sort_keys=True), rd["nerrors"]))
    for s in rd["samples"][:10]:
        print("    violation: " + s)
    for s in rd["errors"][:10]:
        print("    reader error: " + s)
    if STOP_WRITERS and not selftest:
        print("  %s: writers stopped (SIGSTOP) %d times" % (kind, stops[0]))
    if selftest:
        print("  %s: foreign writer steps %d" % (kind, foreign))
        return fails, rd["viol"]

    for w in sorted(writers, key=lambda w: w["wid"]):
        print("  %s: writer %d: %d commits (COMMIT %.3f s on average, %.3f s at most), %d SQLITE_BUSY, "
              "%d appended, %d own-writes checks, %d errors"
              % (kind, w["wid"], w["commits"], w["commit_s"] / max(1, w["commits"]), w["commit_max"],
                 w["busy"], w["appended"], w["own_checks"], len(w["errors"])))
        for e in w["errors"][:5]:
            print("    writer error: " + e)
        for e in w["own_fail"][:5]:
            print("    own-writes violation: " + e)
        if w["errors"]:
            fails.append("writer %d: %d errors, first: %s" % (w["wid"], len(w["errors"]), w["errors"][0]))
        if w["own_fail"]:
            fails.append("writer %d: %d own-writes violations, first: %s" % (w["wid"], len(w["own_fail"]), w["own_fail"][0]))
        if w["commits"] == 0:
            fails.append("writer %d committed nothing" % w["wid"])
    if len(writers) != nwriters:
        fails.append("%d writers reported, want %d" % (len(writers), nwriters))
    if rd["viol"]:
        fails.append("%d reader violations, first: %s" % (rd["viol"], rd["samples"][0]))
    if rd["nerrors"]:
        fails.append("%d reader errors, first: %s" % (rd["nerrors"], rd["errors"][0] if rd["errors"] else "?"))
    if nchecks == 0:
        fails.append("no reader statement ran")

    # the end state against the model of the committed transactions
    model = bal0.copy()
    appended = 0
    for w in writers:
        appended += w["appended"]
        for r, dl in w["deltas"].items():
            model[int(r)] += dl
    js = journal_state(path)
    if js != "none":
        fails.append("journal left after the run: %s" % js)
    db = connect(path, kind)
    c = Checker(db, n, gsum, random.Random(seed), "final")
    for _ in range(50):
        c.one()
    res = c.result()
    if res["viol"] or res["nerrors"]:
        fails.append("final state: %s %s" % (res["samples"][:3], res["errors"][:3]))
    cnt = db.execute("SELECT count(*) FROM t").fetchone()[0]
    got = np.array([r[0] for r in db.execute("SELECT bal FROM t WHERE rowid < ?", (n,))], dtype=np.int64)
    db.close()
    if cnt != n + appended:
        fails.append("final count %d, want %d (+%d appended by committed transactions)" % (cnt, n + appended, appended))
    diff = np.nonzero(got != model)[0]
    if len(diff):
        fails.append("final bal differs from the committed transactions at %d records, first rowid %d: %d, want %d"
                     % (len(diff), diff[0], got[diff[0]], model[diff[0]]))
    f = read_all(path, kind)
    if len(f) != n + appended or not np.array_equal(f["bal"][:n], model):
        fails.append("the file read by numpy differs from the model (%d records)" % len(f))
    return fails, rd["viol"]


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(prog="tx_isolation")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--long", action="store_true", help="minutes instead of ~20 s")
    ap.add_argument("--seconds", type=float, default=None, help="stress time per file kind")
    ap.add_argument("--kinds", default="raw,npy")
    ap.add_argument("--records", type=int, default=None)
    ap.add_argument("--selftest", action="store_true",
                    help="a foreign writer breaks the invariants: pass only if the readers see it")
    ap.add_argument("--no-det", action="store_true", help="skip the deterministic sub-tests")
    ap.add_argument("--pause-ms", type=float, default=3.0,
                    help="readers pause up to this many ms between statements (default 3). "
                         "0: back to back, which starves the writers (COMMIT waits for a moment "
                         "when no statement is reading)")
    ap.add_argument("--no-stop", action="store_true", help="never stop the writers with SIGSTOP")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    global PAUSE_MS, STOP_WRITERS
    STOP_WRITERS = not a.no_stop
    PAUSE_MS = a.pause_ms
    os.environ["MB_ISO_PAUSE_MS"] = str(a.pause_ms)
    ext_path()
    kinds = a.kinds.split(",")
    seconds = a.seconds if a.seconds is not None else (120.0 if a.long else (3.0 if a.selftest else 4.0))
    # --long runs longer, not wider: more readers or longer statements
    # (100000 records, 3 x 3 readers) leave COMMIT no moment to apply
    # (9 commits and 14 SQLITE_BUSY in 60 s), which tests nothing
    n = a.records or 20000
    nthreads = 2
    nreaderprocs = 2
    dirpath = scratch_dir()
    print("tx_isolation: seed %d, %s, %d records, %.0f s per kind, kinds %s, reader pause <= %g ms, %s" %
          (a.seed, "long" if a.long else "quick", n, seconds, a.kinds, a.pause_ms,
           "selftest" if a.selftest else "check"), flush=True)
    fails = []
    if a.selftest:
        for kind in kinds:
            f, viol = stress(kind, dirpath, a.seed, seconds, n, 0, 1, nthreads, True)
            fails += f
            if viol == 0:
                fails.append("%s: the foreign writer broke the invariants, the readers saw nothing" % kind)
        if fails:
            print("tx_isolation selftest FAILED: the checker did not catch the foreign writer")
            for f in fails:
                print("  " + f)
            return 1
        print("tx_isolation selftest: ok (the readers caught the foreign writer)")
        return 0

    if not a.no_det:
        d = Det(a.verbose)
        for kind in kinds:
            print("deterministic: %s" % kind, flush=True)
            try:
                det_tests(d, kind, dirpath, a.seed)
            except Exception:
                d.fails.append("%s: %s" % (kind, traceback.format_exc()))
                print(traceback.format_exc())
        print("deterministic: %d checks, %d failed" % (d.n, len(d.fails)), flush=True)
        fails += d.fails
    for kind in kinds:
        print("stress: %s" % kind, flush=True)
        f, _ = stress(kind, dirpath, a.seed, seconds, n, 2, nreaderprocs, nthreads, False)
        fails += ["%s: %s" % (kind, x) for x in f]
    if fails:
        print("tx_isolation FAILED (%d):" % len(fails))
        for f in fails:
            print("  " + f)
        return 1
    print("tx_isolation: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
