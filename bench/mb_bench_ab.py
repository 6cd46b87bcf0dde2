"""mb_bench_ab.py -- two builds of MemBase side by side, in one process,
on the same files: before/after figures for a change, immune to the
machine's drift (each figure alternates between the builds, best of N).

    /usr/bin/python3 bench/mb_bench_ab.py OLD.so NEW.so [--rows N] [--reps N]

Each build is loaded into its own connection (a loadable extension is
per connection), over the same record file (ts i64 sorted, price f64,
qty i32, side u8, pad 3, sym char(8)) and the same text file. Prints one
table: the figure, each build's best time, and new/old. The connection
loaded first tends to be a few per cent slower on this kind of machine:
run it twice with the builds swapped and read both.
"""
import argparse
import os
import sqlite3
import struct
import tempfile
import time


def make_files(d, rows):
    rec = os.path.join(d, "ab_records.bin")
    txt = os.path.join(d, "ab_lines.log")
    if not os.path.exists(rec) or os.path.getsize(rec) != rows * 32:
        with open(rec, "wb") as f:
            chunk = []
            for i in range(rows):
                chunk.append(struct.pack("<qdiB3x8s", i * 10, (i % 1000) * 0.5, i % 97,
                                         i & 1, b"SYM%d" % (i % 100)))
                if len(chunk) == 65536:
                    f.write(b"".join(chunk)); chunk = []
            f.write(b"".join(chunk))
    if not os.path.exists(txt):
        with open(txt, "wb") as f:
            for i in range(rows):
                f.write(b"2026-12-03 12:00:%02d %s request %d took %d ms\n"
                        % (i % 60, b"ERROR" if i % 97 == 0 else b"INFO", i, i % 1000))
    return rec, txt


def connect(ext, rec, txt):
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(ext)
    db.execute("CREATE VIRTUAL TABLE t USING membase(file='%s', layout='ts i64, price f64, "
               "qty i32, side u8, _ pad(3), sym char(8)', sorted=ts)" % rec)
    db.execute("CREATE VIRTUAL TABLE l USING membase_lines(file='%s')" % txt)
    return db


def figures(rows):
    n = rows
    return [
        ("full scan SELECT sum(price)", "SELECT sum(price) FROM t", None),
        ("membase_aggregate sum(price)", "SELECT sum FROM membase_aggregate('t','price')", None),
        ("20k rowid lookups", "SELECT sum((SELECT price FROM t WHERE rowid = (c.i*7919) %% %d)) "
         "FROM (WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<19999) "
         "SELECT i FROM c) c" % n, None),
        ("200 range counts (10k rows)", "SELECT sum((SELECT count(*) FROM t WHERE ts BETWEEN "
         "(c.i*%d) AND (c.i*%d)+99999)) FROM (WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL "
         "SELECT i+1 FROM c WHERE i<199) SELECT i FROM c) c" % (n // 200 * 10, n // 200 * 10), None),
        ("ORDER BY ts DESC LIMIT 10", "SELECT ts FROM t ORDER BY ts DESC LIMIT 10", None),
        ("20k in-place updates by rowid", None,
         lambda db: updates(db, n)),
        ("lines count(*)", "SELECT count(*) FROM l", None),
        ("lines LIKE '%ERROR%'", "SELECT count(*) FROM l WHERE line LIKE '%ERROR%'", None),
        ("lines 20k rowid lookups", "SELECT sum((SELECT length FROM l WHERE rowid = 1 + (c.i*7919) %% %d)) "
         "FROM (WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<19999) "
         "SELECT i FROM c) c" % n, None),
    ]


def updates(db, n):
    """20k one-row UPDATE statements in one transaction."""
    db.execute("BEGIN")
    for i in range(20000):
        db.execute("UPDATE t SET qty = qty + 1 WHERE rowid = ?", ((i * 7919) % n,))
    db.execute("COMMIT")
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    a = ap.parse_args()
    rec, txt = make_files(a.dir, a.rows)
    dbs = {"old": connect(a.old, rec, txt), "new": connect(a.new, rec, txt)}
    print("MemBase A/B: %s (old) vs %s (new)" % (a.old, a.new))
    print("  %d records of 32 bytes (sorted=ts), a %d-line log; best of %d, alternating"
          % (a.rows, a.rows, a.reps))
    print("  nproc %d, kernel %s, sqlite %s" % (os.cpu_count(), os.uname().release,
                                                 sqlite3.sqlite_version))
    print("%-34s %12s %12s %8s" % ("figure", "old", "new", "new/old"))
    for name, sql, fn in figures(a.rows):
        best = {"old": 1e9, "new": 1e9}
        answers = {}
        for r in range(a.reps):
            for k in (("old", "new") if r % 2 == 0 else ("new", "old")):
                t0 = time.perf_counter()
                answers[k] = fn(dbs[k]) if fn else dbs[k].execute(sql).fetchall()
                best[k] = min(best[k], time.perf_counter() - t0)
        if fn is None and answers["old"] != answers["new"]:
            print("  (the builds disagree on %s: %r vs %r)" % (name, answers["old"][:3],
                                                              answers["new"][:3]))
        print("%-34s %9.2f ms %9.2f ms %7.2fx" % (name, best["old"] * 1e3, best["new"] * 1e3,
                                                 best["new"] / best["old"]))


if __name__ == "__main__":
    main()
