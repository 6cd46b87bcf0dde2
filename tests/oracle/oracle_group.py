"""oracle_group.py -- membase_group() against SQL's own GROUP BY over the same
rows, against a plain Python model, and against itself at other thread
counts.

Each round writes a random record file with numpy: every numeric type
(i8..i64, u8..u64, f32, f64, bool) in a random byte order, with the special
values of oracle_aggregate (NaN, +-inf, -0.0, i64 and u64 extremes, u64
above 2^63, bool bytes 2 and 255, i64 values whose sums overflow), plus
group keys: a char(8) column with embedded NUL bytes and a few distinct
values ('A\\0B', 'A\\0C', 'A' and 'A\\0', which read the same, ...), an
integer with one value, one with a few, one with many, a timestamp for
'ts/N', and sometimes a sorted key column. The file becomes a membase
table, and its rows, as the table reads them, are copied into a native
SQLite table.

Each query picks COLS (1 to 4 numeric columns), BY (NULL, any key or
numeric column, or COL/N), LO/HI over the rowid or the sorted key, KEY and
THREADS, and compares
  - every row of membase_group (grp, col, n, count, sum, min, max, avg)
    with the Python model computed from the native table's values: the
    groups in order of their first record, n/count/min/max and INTEGER sums
    exactly (types too), REAL sums and avg within 2*n*2^-53*sum(|x|), the
    integer overflow error where sum() fails;
  - with SELECT <by>, count(*), count(c), sum(c), min(c), max(c), avg(c)
    ... GROUP BY <by> on the same membase table and on the native table
    (matched by key; without BY: no GROUP BY);
  - the same query at 1 thread and at 2, 3 or 4 threads: identical, except
    the REAL sums and avg of float and u64 columns (within the bound).
Then two fixed checks: 1,000,000 distinct keys (every group right, and a
small MAXMEM fails with its message), and a file truncated and restored by
another thread while 4 threads scan it (an error or the full answer, never
a crash).

Quick setting: 1,500 queries; --long: 15,000. --selftest: oracle_common
changes one answer.
"""
import math
import os
import re
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_common as oc

try:
    import numpy as np
except ImportError:
    print("oracle_group: numpy not found, skipped")
    sys.exit(0)
import oracle_aggregate as oa   # gen_values, expect, close, pick_bound

TYPES = oa.TYPES
NPY = oa.NPY
EPS = oa.EPS
I64_MAX = oa.I64_MAX
CHARS = [b"A\0B", b"A\0C", b"A", b"A\0", b"", b"\0\0X", b"ABCDEFGH",
         b"AB\0\0\0\0\0\0", b"Z"]


class Table:
    pass


def make_table(o, db, d, idx):
    rng = o.rng
    t = Table()
    n = rng.choice([0, 1, 2, 5, 17, 100, 1000, 3000, rng.randint(0, 4000)])
    t.n = n
    fields, layout, data = [], [], {}
    t.cols = []       # (name, type) of the numeric columns

    def add(name, typ, values, code=None):
        big = rng.random() < 0.5 and typ not in ("i8", "u8", "bool", "char")
        e = ">" if big else "<"
        fields.append((name, e + (code or NPY[typ])))
        layout.append("%s %s%s" % (name, typ if typ != "char" else "char(8)",
                                   "be" if big else ""))
        data[name] = values

    keytyp = rng.choice([None, None, "i64", "f64"])
    t.key = None
    if keytyp:
        if keytyp == "i64":
            k = np.sort(np.array([rng.randint(-1000, 1000) for _ in range(n)],
                                 dtype="i8"))
        else:
            k = np.sort(np.array([rng.choice([rng.uniform(-100, 100),
                                              float(rng.randint(-50, 50))])
                                  for _ in range(n)], dtype="f8"))
        t.key, t.keytyp = "k", keytyp
        add("k", keytyp, k)
    types = TYPES[:]
    rng.shuffle(types)
    for typ in types:
        add("c_" + typ, typ, oa.gen_values(rng, typ, n))
        t.cols.append(("c_" + typ, typ))
    nfew = rng.randint(1, 8)
    add("g_one", "u8", np.full(n, rng.randint(0, 255), dtype="u1"))
    add("g_few", "i16", np.array([rng.randint(-nfew, nfew) for _ in range(n)],
                                 dtype="i2"))
    add("g_many", "i32", np.array([rng.randint(0, max(1, n)) for _ in range(n)],
                                  dtype="i4"))
    add("ts", "i64", np.array([rng.randint(-10**6, 10**6) for _ in range(n)],
                              dtype="i8"))
    chars = rng.sample(CHARS, rng.randint(1, len(CHARS)))
    add("s", "char", np.array([rng.choice(chars) for _ in range(n)],
                              dtype="S8"), code="S8")
    arr = np.zeros(n, dtype=np.dtype(fields))
    for f, _ in fields:
        arr[f] = data[f]
    binf = os.path.join(d, "g%d.bin" % idx)
    arr.tofile(binf)
    t.name = "g%d" % idx
    t.nat = "n%d" % idx
    db.execute("CREATE VIRTUAL TABLE %s USING membase(file='%s', layout='%s'%s)"
               % (t.name, binf, ", ".join(layout),
                  ", sorted=k" if t.key else ""))
    names = [f for f, _ in fields]
    # the declared types give the native columns the membase columns'
    # affinities (a TEXT bound '2.5' compares as a number with both)
    decl = {f: "TEXT" if f == "s" else "REAL" if ("f4" in c or "f8" in c)
            else "INTEGER" for f, c in fields}
    db.execute("CREATE TABLE %s(%s)" % (t.nat, ", ".join(
        "%s %s" % (f, decl[f]) for f in names)))
    db.execute("INSERT INTO %s(rowid, %s) SELECT rowid, %s FROM %s"
               % (t.nat, ", ".join(names), ", ".join(names), t.name))
    rows = db.execute("SELECT rowid, %s FROM %s ORDER BY rowid"
                      % (", ".join(names), t.nat)).fetchall()
    t.vals = {f: [r[i + 1] for r in rows] for i, f in enumerate(names)}
    t.keyvals = t.vals["k"] if t.key else None
    t.bys = ["g_one", "g_few", "g_many", "s"] + [c for c, _ in t.cols]
    return t


def trunc_div(x, nn):
    if isinstance(x, float):
        return x / nn
    q = abs(x) // nn
    return q if x >= 0 else -q


def pick_by(rng, t):
    r = rng.random()
    if r < 0.15:
        return None, None
    if r < 0.35:
        nn = rng.choice([1, 2, 3, 7, 100, 3600, 10**5, 10**9])
        c = rng.choice(["ts", "ts", "g_many", "c_i8", "c_u64", "c_i64",
                        "c_bool", "c_u32"])
        return "%s/%d" % (c, nn), (c, nn)
    return rng.choice(t.bys), None


def model(t, idxs, cols, by, div):
    """The expected rows, in the order of each group's first record."""
    groups = {}
    order = []
    for i in idxs:
        if by is None:
            k = None
        elif div:
            x = t.vals[div[0]][i]
            k = trunc_div(x, div[1])
        else:
            k = t.vals[by][i]
        if by is None:
            k = "all"
        if k not in groups:
            groups[k] = []
            order.append(k)
        groups[k].append(i)
    if by is None and not order:
        groups["all"] = []
        order.append("all")
    out = []
    for k in order:
        ii = groups[k]
        grp = None if by is None else (t.vals[by][ii[0]] if not div
                                       else trunc_div(t.vals[div[0]][ii[0]],
                                                      div[1]))
        for c in cols:
            want, tol = oa.expect([t.vals[c][i] for i in ii])
            out.append(((grp, c, len(ii)) + want, tol))
    return out


def run_group(db, args):
    """The rows of membase_group(args): sum is 'ERR' where reading it fails
    with the overflow error (the statement is then resumed after it)."""
    base = db.execute("SELECT rowid, grp, col, n, count, min, max, avg "
                      "FROM membase_group(%s)" % args).fetchall()
    sums = {}
    after = 0
    while True:
        try:
            cur = db.execute("SELECT rowid, sum FROM membase_group(%s) WHERE "
                             "rowid > %d" % (args, after))
            for rid, s in cur:
                sums[rid] = s
                after = rid
            break
        except sqlite3.Error as e:
            if "membase_group: integer overflow" not in str(e):
                raise
            # the cursor may have stepped ahead: find the row alone
            after += 1
            try:
                r = db.execute("SELECT sum FROM membase_group(%s) WHERE "
                               "rowid = %d" % (args, after)).fetchone()
                sums[after] = r[0] if r else "MISSING"
            except sqlite3.Error as e2:
                if "membase_group: integer overflow" not in str(e2):
                    raise
                sums[after] = "ERR"
    return [(r[1], r[2], r[3], r[4], sums.get(r[0], "MISSING"), r[5], r[6],
             r[7]) for r in base]


def where_of(key, lo_s, hi_s):
    k = key or "rowid"
    w = []
    if lo_s != "NULL":
        w.append("%s >= %s" % (k, lo_s))
    if hi_s != "NULL":
        w.append("%s <= %s" % (k, hi_s))
    return (" WHERE " + " AND ".join(w)) if w else ""


def run_sql(db, tab, c, byexpr, where):
    """{key: (n, count, sum|'ERR', min, max, avg)} of SQL's GROUP BY."""
    if byexpr is None:
        q = "SELECT NULL, count(*), count({c}), min({c}), max({c}), avg({c}) " \
            "FROM {t}{w}".format(c=c, t=tab, w=where)
        qs = "SELECT NULL, sum({c}) FROM {t}{w}".format(c=c, t=tab, w=where)
    else:
        q = "SELECT {b}, count(*), count({c}), min({c}), max({c}), avg({c}) " \
            "FROM {t}{w} GROUP BY {b}".format(b=byexpr, c=c, t=tab, w=where)
        qs = "SELECT {b}, sum({c}) FROM {t}{w} GROUP BY {b}".format(
            b=byexpr, c=c, t=tab, w=where)
    res = {}
    for r in db.execute(q):
        res[r[0]] = [r[1], r[2], None, r[3], r[4], r[5]]
    try:
        for r in db.execute(qs):
            res[r[0]][2] = r[1]
        ok = True
    except sqlite3.Error as e:
        if "integer overflow" not in str(e):
            raise
        ok = False
    return res, ok


def norm_row(got, want, tol):
    """got (grp, col, n, count, sum, min, max, avg) with REAL sum and avg
    replaced by want's where within the bound."""
    g = list(got)
    n = want[3]
    for i, tl in ((4, tol), (7, tol / n if n else 0.0)):
        if isinstance(g[i], float) and isinstance(want[i], float) \
                and oa.close(g[i], want[i], tl):
            g[i] = want[i]
    return tuple(g)


def query(o, db, t, q):
    rng = o.rng
    ncol = rng.randint(1, 4)
    cols = [c for c, _ in rng.sample(t.cols, ncol)]
    by, div = pick_by(rng, t)
    key = t.key if t.key and rng.random() < 0.5 else None
    key_arg = "rowid" if key is None and rng.random() < 0.1 else key
    lo_s, lo = oa.pick_bound(rng, t, key)
    hi_s, hi = oa.pick_bound(rng, t, key)
    keys = t.keyvals if key else range(t.n)
    idxs = [i for i, kk in enumerate(keys) if oa.in_range(kk, lo, hi)]
    threads = rng.choice([2, 3, 4, 0])
    spaced = rng.choice([",", ", ", " , "])
    colarg = spaced.join(c.upper() if rng.random() < 0.1 else c for c in cols)

    def args(th):
        return "'%s', '%s', %s, %s, %s, %s, %s" % (
            t.name, colarg, "NULL" if by is None else "'%s'" % by, lo_s, hi_s,
            "'%s'" % key_arg if key_arg else "NULL", th)
    label = "%s cols=%s by=%s [%s, %s] key=%s" % (t.name, colarg, by, lo_s,
                                                  hi_s, key_arg)
    try:
        got1 = run_group(db, args(1))
        gotn = run_group(db, args(threads))
    except sqlite3.Error as e:
        o.error(label, e)
        return
    exp = model(t, idxs, cols, by, div)
    want = [w for w, _ in exp]
    tols = [tl for _, tl in exp]
    # 1. the model, in order
    if len(got1) == len(want):
        got1n = [norm_row(g, w, tl) for g, w, tl in zip(got1, want, tols)]
    else:
        got1n = got1
    o.rows(label + " vs model", got1n, want, ordered=True)
    # 2. thread counts: identical but for float sums
    fl = {c: typ in ("f32", "f64", "u64") for c, typ in t.cols}
    if len(gotn) == len(got1):
        gn = []
        for a, b, tl in zip(gotn, got1, tols):
            a = list(a)
            if fl.get(b[1]) or fl.get(b[1].lower()):
                for i, tt in ((4, 2 * tl), (7, 2 * tl / b[3] if b[3] else 0)):
                    if isinstance(a[i], float) and isinstance(b[i], float) \
                            and oa.close(a[i], b[i], tt):
                        a[i] = b[i]
            gn.append(tuple(a))
    else:
        gn = gotn
    o.rows(label + " threads=%d vs 1" % threads, gn, got1, ordered=True)
    # 3. SQL's GROUP BY, on the membase table and on the native one
    if div:
        byexpr = "%s/%d" % div
    else:
        byexpr = by
    where = where_of(key, lo_s, hi_s)
    for tab in (t.name, t.nat):
        for c in cols:
            res, ok = run_sql(db, tab, c, byexpr, where)
            mine = [(g, w, tl) for g, (w, tl) in zip(got1, exp) if w[1] == c]
            gotrows, wantrows = [], []
            for g, w, tl in mine:
                k = g[0]
                s = res.get(k)
                if s is None:
                    wantrows.append(("no group", k))
                    gotrows.append(("group", k))
                    continue
                row = (k, c, s[0], s[1], s[2] if ok else g[4], s[3], s[4], s[5])
                gotrows.append(norm_row(g, row, tl))
                wantrows.append(row)
            if len(mine) != len(res):
                gotrows.append(("groups", len(mine)))
                wantrows.append(("groups", len(res)))
            o.rows(label + " vs SQL on %s (%s)" % (tab, c), gotrows, wantrows)
            if not ok:
                # SQL failed: the model must have an overflow in some group
                o.equal(label + " overflow on %s" % tab,
                        any(w[4] == "ERR" for g, w, tl in mine), True)


def many_keys(o, db, d):
    """1,000,000 distinct keys: every group right; a small MAXMEM fails."""
    n = 1000000
    nr = np.random.default_rng(7)
    arr = np.zeros(n, dtype=[("k", "<i8"), ("v", "<i4")])
    arr["k"] = nr.permutation(n).astype("i8") * 3 - 17
    arr["v"] = nr.integers(-1000, 1000, n)
    f = os.path.join(d, "many.bin")
    arr.tofile(f)
    db.execute("CREATE VIRTUAL TABLE many USING membase(file='%s', "
               "layout='k i64, v i32')" % f)
    t0 = time.time()
    rows = db.execute("SELECT grp, n, sum, min, threads, memory FROM "
                      "membase_group('many', 'v', 'k', NULL, NULL, NULL, 4)"
                      ).fetchall()
    dt = time.time() - t0
    o.equal("many: rows", len(rows), n)
    o.equal("many: order (first appearance)", [r[0] for r in rows[:1000]],
            arr["k"][:1000].tolist())
    o.equal("many: n, sum, min", [tuple(r[1:4]) for r in rows[::997]],
            [(1, int(v), int(v)) for v in arr["v"][::997]])
    o.equal("many: threads", rows[0][4], 4)
    print("many keys: 1,000,000 groups in %.2f s, %d bytes of group tables"
          % (dt, rows[0][5]))
    try:
        db.execute("SELECT count(*) FROM membase_group('many', 'v', 'k', "
                   "NULL, NULL, NULL, 2, 10000000)").fetchall()
        o.equal("many: MAXMEM=10000000 fails", "answered", "error")
    except sqlite3.Error as e:
        m = re.match(r"membase_group: many: the groups need more than "
                     r"MAXMEM=10000000 bytes \((\d+) distinct keys so far\); "
                     r"raise MAXMEM or group by fewer keys$", str(e))
        o.equal("many: MAXMEM message: %s" % e, bool(m) and
                0 < int(m.group(1)) < n, True)
    db.execute("DROP TABLE many")
    os.remove(f)


def truncate_race(o, db, d, attempts):
    """Another thread cuts the file and puts it back while 4 threads scan
    it: each query fails with an error naming the file or gives the full
    answer; the process never dies."""
    n = 1 << 21
    arr = np.zeros(n, dtype=[("k", "<i8"), ("v", "<i8"), ("x", "<f8"),
                             ("p", "<i8")])
    arr["k"] = np.arange(n) % 1000
    arr["v"] = np.arange(n)
    arr["x"] = 0.5
    f = os.path.join(d, "race.bin")
    raw = arr.tobytes()
    with open(f, "wb") as fh:
        fh.write(raw)
    db.execute("CREATE VIRTUAL TABLE race USING membase(file='%s', "
               "layout='k i64, v i64, x f64, p i64')" % f)
    q = ("SELECT sum(n), sum(sum) FROM membase_group('race', 'v', 'k', "
         "NULL, NULL, NULL, 4)")
    t0 = time.time()
    full = db.execute(q).fetchone()
    tq = time.time() - t0
    o.equal("race: full answer", full, (n, n * (n - 1) // 2))
    nerr = nok = nmid = 0
    for a in range(attempts):
        def cutter():
            time.sleep(o.rng.random() * 1.5 * tq)
            os.truncate(f, o.rng.choice([0, 4096, 32 * 1000, len(raw) // 2,
                                         len(raw) // 2 + 13]))
        th = threading.Thread(target=cutter)
        th.start()
        try:
            r = db.execute(q).fetchone()
            nok += 1
            if r != full:
                # the statement started after the cut: the answer over the
                # m records left (v = 0..m-1), whole
                m = r[0] or 0
                o.equal("race: a partial answer is over a prefix: %r" % (r,),
                        m <= n and (r[1] or 0) == m * (m - 1) // 2, True)
        except sqlite3.Error as e:
            nerr += 1
            # cut during the scan (the guard's fault, or the size check
            # at its end) rather than before it
            nmid += "membase_group:" in str(e)
            if o.args.verbose:
                print("race:", e)
            o.equal("race: the error names the file: %s" % e,
                    f in str(e) or "race" in str(e), True)
        th.join()
        with open(f, "r+b") as fh:
            fh.write(raw)
    print("race: %d attempts, %d errors (%d during the scan), %d answers"
          % (attempts, nerr, nmid, nok))
    db.execute("DROP TABLE race")
    os.remove(f)


def main():
    args = oc.parse_args("oracle_group", 1500, 15000)
    o = oc.Oracle("oracle_group", args)
    rng = o.rng
    d = oc.scratch_dir("group")
    db = oc.connect()
    tables = []
    idx = 0
    for q in range(args.queries):
        if not tables or rng.random() < 0.03:
            tables.append(make_table(o, db, d, idx))
            idx += 1
            if len(tables) > 5:
                old = tables.pop(0)
                db.execute("DROP TABLE %s" % old.name)
                db.execute("DROP TABLE %s" % old.nat)
        query(o, db, rng.choice(tables), q)
    if not args.selftest:
        many_keys(o, db, d)
        truncate_race(o, db, d, 40 if not args.long else 400)
    o.finish()


if __name__ == "__main__":
    main()
