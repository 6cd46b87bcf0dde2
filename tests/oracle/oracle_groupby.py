"""oracle_groupby.py -- GROUP BY and DISTINCT on the record table (the
hashed grouping pass of vtab/mb_recgroup.c) against a native SQLite table
holding the same rows.

Each round builds a random record file (every numeric type in either byte
order, bool, blob(N), a char(8) column, sometimes a .npy file and a sorted
column) whose columns draw their values from pools of 1, a few, or many
values, so a query meets one group, a few, or many. The pools hold the special
values: NaN (reads as NULL), +-inf, -0.0 next to 0.0, u64 above 2^63
(two that round to the same REAL must be one group), integer extremes (a
sum that overflows is SQL's "integer overflow" error on both sides), and
char(8) texts with NUL bytes inside. The expected SQL value of every field
is decoded here with struct (oracle_records.py's codec), independently of
MemBase.

The queries mix GROUP BY on 1-3 columns and DISTINCT; count(*), count(c),
sum, min, max, avg, total, group_concat; WHERE ranges on the rowid and the
sorted key, IN lists, terms on other columns; HAVING; ORDER BY (the group
columns in any direction, or an aggregate); LIMIT and OFFSET; a self-join;
and queries inside a transaction that has updated and appended records
(its own uncommitted writes must be seen), rolled back afterwards. Results
are compared exactly (types and values; float sums too: MemBase returns a
group's records in record order, as the native table's GROUP BY adds
them), as multisets unless the ORDER BY fixes the order. The run fails if
too few queries took the grouping plan (EXPLAIN QUERY PLAN shows '#'), so
a change that quietly stops using it is seen.
"""
import math
import os
import random
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_common as oc
import oracle_records as orr

AGGS = ["count(*)", "count({c})", "sum({c})", "min({c})", "max({c})",
        "avg({c})", "total({c})", "group_concat({c})"]

U64_REAL = [2**64 - 1, 2**64 - 2, 2**64 - 1024, 2**63, 2**63 + 1,
            2**63 + 2048, 2**63 - 1]
TEXTS = [b"a\0b", b"a\0c", b"a", b"a\0", b"", b"\0\0x", b"AB", b"ab",
         b"abcdefgh", b"abcdefg"]


def pool_value(rng, c):
    if c.typ == "u64" and rng.random() < 0.4:
        return rng.choice(U64_REAL)
    if c.typ == "char" and rng.random() < 0.5:
        b = rng.choice(TEXTS)[:c.size]
        return b + b"\0" * (c.size - len(b))
    if c.typ in ("f32", "f64") and rng.random() < 0.3:
        return rng.choice([0.0, -0.0, math.nan, math.inf, -math.inf])
    if c.typ == "i64" and rng.random() < 0.2:
        return rng.choice([2**63 - 1, -2**63, 2**62, -2**62])
    return orr.rand_value(rng, c)


def make_table(rng, d, k, db):
    types = list(orr.INT_TYPES) + ["f32", "f64", "f64", "bool", "char", "blob"]
    use_npy = rng.random() < 0.25
    ncol = rng.randint(2, 5)
    cols = []
    for i in range(ncol):
        typ = "char" if i == 0 and not use_npy else rng.choice(types)
        if use_npy and typ in ("char", "bool", "blob"):
            typ = rng.choice(["i32", "f64", "u64", "i8"])
        size = 8 if typ == "char" else rng.randint(1, 3) if typ == "blob" else 0
        cols.append(orr.Col("c%d" % i, typ, rng.random() < 0.4 and not use_npy, size))
    n = rng.choice([0, 1, 7, 60, 300, 2000])
    pools = []
    for c in cols:
        m = rng.choice([1, 2, 5, 30, 0])    # 0: a fresh value each row
        pools.append([pool_value(rng, c) for _ in range(m)])
    rows = [[rng.choice(p) if p else pool_value(rng, c)
             for p, c in zip(pools, cols)] for _ in range(n)]
    sortable = [c for c in cols if c.typ in ("f32", "f64", "bool") or
                (c.typ in orr.INT_TYPES and c.typ != "u64")]
    skey = rng.choice(sortable) if sortable and rng.random() < 0.5 else None
    if skey is not None:
        i = cols.index(skey)
        vals = orr.sorted_values(rng, skey, n)
        if rng.random() < 0.5 and n:
            # few distinct keys: groups of ties
            vals = sorted(rng.choice(vals[:3]) for _ in range(n))
            if skey.typ == "bool":
                vals = sorted(vals, key=lambda v: v != 0)
        for r, v in zip(rows, vals):
            r[i] = v
    recs = [b"".join(c.pack(r[i]) for i, c in enumerate(cols)) for r in rows]
    if use_npy:
        import numpy as np
        path = os.path.join(d, "g%d.npy" % k)
        dt = np.dtype([(c.name, orr.NPY_CODE[c.typ]) for c in cols])
        arr = np.frombuffer(b"".join(recs), dtype=dt, count=n) if n else \
            np.zeros(0, dtype=dt)
        np.save(path, arr)
        opts = "file='%s'" % path
    else:
        path = os.path.join(d, "g%d.bin" % k)
        with open(path, "wb") as f:
            f.write(b"".join(recs))
        opts = "file='%s', layout='%s'" % (path, ", ".join(c.layout() for c in cols))
    if skey is not None:
        opts += ", sorted=%s" % skey.name
    t, nt = "t%d" % k, "n%d" % k
    db.execute("CREATE VIRTUAL TABLE %s USING membase(%s)" % (t, opts))
    db.execute("CREATE TABLE %s(rowid INTEGER PRIMARY KEY, %s)" % (
        nt, ", ".join("%s %s" % (c.name, c.decl) for c in cols)))
    exp = []
    for b in recs:
        vals, o = [], 0
        for c in cols:
            vals.append(c.sql_value(b[o:o + c.nbytes]))
            o += c.nbytes
        exp.append(vals)
    db.executemany("INSERT INTO %s VALUES (%s)" % (nt, ",".join("?" * (ncol + 1))),
                   [[i] + v for i, v in enumerate(exp)])
    return {"t": t, "n": nt, "cols": cols, "skey": skey, "rows": exp,
            "path": path, "npy": use_npy}


def bound(rng, info, c):
    vals = [r[info["cols"].index(c)] for r in info["rows"]]
    vals = [v for v in vals if v is not None]
    if vals and rng.random() < 0.8:
        v = rng.choice(vals)
    else:
        v = rng.choice([0, -1, 5, 2.5, -0.0])
    if isinstance(v, bytes):
        return "x'%s'" % v.hex()
    if isinstance(v, float):
        if math.isinf(v):
            return "1e999" if v > 0 else "-1e999"
        return repr(v)
    return str(v)


def where(rng, info):
    n = len(info["rows"])
    terms = []
    r = rng.random()
    if r < 0.25:
        a = rng.randint(-2, n + 2)
        terms.append("rowid >= %d" % a)
        if rng.random() < 0.6:
            terms.append("rowid < %d" % (a + rng.randint(0, n + 3)))
    elif r < 0.35:
        terms.append("rowid IN (%s)" % ",".join(str(rng.randint(0, n + 1))
                                                for _ in range(rng.randint(1, 6))))
    sk = info["skey"]
    if sk is not None and rng.random() < 0.4:
        op = rng.choice(["=", "<", "<=", ">", ">="])
        terms.append("%s %s %s" % (sk.name, op, bound(rng, info, sk)))
        if rng.random() < 0.3:
            terms.append("%s <= %s" % (sk.name, bound(rng, info, sk)))
    if rng.random() < 0.15:
        c = rng.choice(info["cols"])
        if c.typ != "char":
            terms.append("%s > %s" % (c.name, bound(rng, info, c)))
        else:
            terms.append("%s <> 'a'" % c.name)
    return (" WHERE " + " AND ".join(terms)) if terms else ""


def one_query(rng, info, alias="{T}"):
    names = [c.name for c in info["cols"]]
    g = rng.sample(names, rng.randint(1, min(3, len(names))))
    w = where(rng, info)
    if rng.random() < 0.25:
        # DISTINCT
        sql = "SELECT DISTINCT %s FROM {T}%s" % (", ".join(g), w)
        if rng.random() < 0.4:
            sql += " ORDER BY " + ", ".join(
                x + rng.choice(["", " DESC", " ASC"]) for x in rng.sample(g, len(g)))
            return _limit(rng, sql, "ordered")
        return _limit(rng, sql, "set")
    aggs = []
    for _ in range(rng.randint(1, 3)):
        aggs.append(rng.choice(AGGS).format(c=rng.choice(names)))
    shown = rng.sample(g, rng.randint(0, len(g))) if rng.random() < 0.3 else list(g)
    sel = shown + aggs
    sql = "SELECT %s FROM {T}%s GROUP BY %s" % (", ".join(sel), w, ", ".join(g))
    if rng.random() < 0.25:
        sql += rng.choice([" HAVING count(*) > 1", " HAVING count(*) = 1",
                           " HAVING %s IS NOT NULL" % aggs[0],
                           " HAVING min(%s) < max(%s)" % (g[0], g[0])])
    r = rng.random()
    if r < 0.35:
        # ORDER BY every group column: groups are unique, so a total order
        # when all are shown ... and the group columns are what is sorted
        sql += " ORDER BY " + ", ".join(
            x + rng.choice(["", " DESC"]) for x in rng.sample(g, len(g)))
        return _limit(rng, sql, "ordered")
    if r < 0.45:
        sql += " ORDER BY %d DESC" % (len(sel))
        return _limit(rng, sql, "set")
    return _limit(rng, sql, "set")


def _limit(rng, sql, kind):
    if rng.random() < 0.3:
        sql += " LIMIT %d" % rng.randint(0, 5)
        if rng.random() < 0.5:
            sql += " OFFSET %d" % rng.randint(0, 4)
        if kind != "ordered":
            kind = "limit-unordered"
    return sql, kind


def run(db, sql):
    try:
        return db.execute(sql).fetchall(), None
    except Exception as e:
        return None, "%s: %s" % (type(e).__name__, e)


def check(orc, db, info, sql, kind, stats):
    s_t = sql.replace("{T}", info["t"])
    s_n = sql.replace("{T}", info["n"])
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + s_t))
    stats["queries"] += 1
    if "#" in plan:
        stats["grouped"] += 1
    m = re.search(r"INDEX (\d+):", plan)
    if m and int(m.group(1)) & 1:
        # a descending scan of the sorted column (not the grouping pass):
        # ties, so a group's rows, come in descending record order, as from
        # a native index scanned backwards; the native twin is fed that way
        # so group_concat and float sums see the same order
        s_n = sql.replace("{T}", "(SELECT * FROM %s ORDER BY rowid DESC) AS %s"
                          % (info["n"], info["n"]))
    got, gerr = run(db, s_t)
    want, werr = run(db, s_n)
    label = s_t + "   [plan: %s]" % plan
    if werr is not None:
        orc.equal(label + " [error]", gerr, werr)
        return
    if gerr is not None:
        orc.error(label, gerr)
        return
    if kind == "limit-unordered":
        full, ferr = run(db, orr._strip_limit(s_n))
        if ferr is not None:
            # a group left out by the LIMIT overflows: both answered with
            # the same groups, in SQLite's (sorted) group order
            orc.rows(label, got, want, ordered=False)
            return
        m = orr._limit_count(s_n, len(full))
        ok = len(got) == m and orr._submultiset(got, full)
        orc.rows(label, got, got if ok else full, ordered=False)
        return
    # an ORDER BY on some group columns is not total when others are not
    # shown: compare as a multiset then, and the order separately
    orc.rows(label, got, want, ordered=(kind == "ordered" and _total(sql)))


def _total(sql):
    """ORDER BY lists every GROUP BY / DISTINCT column, all shown."""
    if " GROUP BY " not in sql:
        return True
    sel = sql[7:sql.index(" FROM ")].split(", ")
    g = sql[sql.index(" GROUP BY ") + 10:].split(" HAVING ")[0].split(" ORDER BY ")[0]
    return all(x in sel for x in g.split(", "))


def _writable(c, v):
    # NULL (a NaN) cannot be written; a u64 read as the REAL 2^64 is out of
    # range
    return v is not None and not (c.typ == "u64" and isinstance(v, float)
                                  and v >= 2.0**64)


def writes(rng, db, info):
    """Inside a transaction: update and append records of both tables the
    same way (values taken from other rows), for the queries to see."""
    rows = info["rows"]
    cols = info["cols"]
    if not rows:
        return
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(rows))
        c = rng.choice(cols)
        if c is info["skey"]:
            continue
        v = rng.choice(rows)[cols.index(c)]
        if not _writable(c, v):
            continue
        for t in (info["t"], info["n"]):
            db.execute("UPDATE %s SET %s = ? WHERE rowid = ?" % (t, c.name), (v, i))
    if not info["npy"] and rng.random() < 0.7:
        src = list(rng.choice(rows))
        if info["skey"] is not None:
            src[cols.index(info["skey"])] = rows[-1][cols.index(info["skey"])]
        if not all(_writable(c, v) for c, v in zip(cols, src)):
            return
        ph = ",".join("?" * len(cols))
        names = ",".join(c.name for c in cols)
        db.execute("INSERT INTO %s(%s) VALUES (%s)" % (info["t"], names, ph), src)
        db.execute("INSERT INTO %s(rowid, %s) VALUES (?, %s)" % (info["n"], names, ph),
                   [len(rows)] + src)


REGRESSIONS = [
    # (layout, rows as tuples of field values, query, kind)
    # 0.0 and -0.0 one group; NaN (NULL) one group
    ("c0 f64", [(0.0,), (-0.0,), (math.nan,), (math.nan,), (1.5,)],
     "SELECT c0, count(*) FROM {T} GROUP BY c0", "set"),
    # two u64 above 2^63 that read as the same REAL: one group
    ("c0 u64", [(2**64 - 1,), (2**64 - 2,), (2**63 - 1,), (2**63,)],
     "SELECT c0, count(*) FROM {T} GROUP BY c0", "set"),
    # char(8) with NULs inside: 'a\0b' and 'a\0c' differ, 'a' and 'a\0' do not
    ("c0 char(8)", [(b"a\0b",), (b"a\0c",), (b"a",), (b"a\0",), (b"",)],
     "SELECT c0, count(*) FROM {T} GROUP BY c0", "set"),
    # GROUP BY x ORDER BY x DESC: SQLite 3.40 leaves the order to the table
    ("c0 i32, c1 i32", [(3, 1), (1, 2), (2, 3), (3, 4), (1, 5)],
     "SELECT c0, sum(c1) FROM {T} GROUP BY c0 ORDER BY c0 DESC", "ordered"),
    ("c0 i32, c1 i32", [(3, 1), (1, 2), (2, 3), (3, 4), (1, 5)],
     "SELECT c0, sum(c1) FROM {T} GROUP BY c0 ORDER BY c0", "ordered"),
    # integer overflow inside one group: the same error
    ("c0 i8, c1 i64", [(1, 2**63 - 1), (2, 5), (1, 1)],
     "SELECT c0, sum(c1) FROM {T} GROUP BY c0", "set"),
]


def run_regressions(orc, db, d, stats):
    for k, (layout, vals, sql, kind) in enumerate(REGRESSIONS):
        cols = []
        for part in layout.split(", "):
            name, typ = part.split(" ")
            size = 0
            if typ.startswith("char("):
                size, typ = int(typ[5:-1]), "char"
            cols.append(orr.Col(name, typ, False, size))
        path = os.path.join(d, "greg%d.bin" % k)
        def raw(c, v):
            return c.pack(v) if c.typ != "char" else v + b"\0" * (c.size - len(v))
        with open(path, "wb") as f:
            for r in vals:
                f.write(b"".join(raw(c, v) for c, v in zip(cols, r)))
        t, n = "greg%d" % k, "gregn%d" % k
        db.execute("CREATE VIRTUAL TABLE %s USING membase(file='%s', layout='%s')"
                   % (t, path, ", ".join(c.layout() for c in cols)))
        db.execute("CREATE TABLE %s(rowid INTEGER PRIMARY KEY, %s)"
                   % (n, ", ".join("%s %s" % (c.name, c.decl) for c in cols)))
        for i, r in enumerate(vals):
            row = []
            for c, v in zip(cols, r):
                row.append(c.sql_value(raw(c, v)))
            db.execute("INSERT INTO %s VALUES (?, %s)" % (n, ",".join("?" * len(cols))),
                       [i] + row)
        check(orc, db, {"t": t, "n": n}, sql, kind, stats)


def main():
    args = oc.parse_args("oracle_groupby", 10000, 100000)
    orc = oc.Oracle("oracle_groupby", args)
    rng = orc.rng
    d = oc.scratch_dir("groupby")
    db = oc.connect()
    stats = {"queries": 0, "grouped": 0}
    run_regressions(orc, db, d, stats)
    per_table = 60
    k = 0
    done = 0
    while done < args.queries:
        info = make_table(rng, d, k, db)
        in_tx = False
        for j in range(min(per_table, args.queries - done)):
            if not in_tx and j > 5 and rng.random() < 0.04:
                db.execute("BEGIN")
                in_tx = True
                writes(rng, db, info)
            if rng.random() < 0.05:
                sql = ("SELECT a.%s, count(*), sum(b.rowid) FROM {T} a JOIN {T} b "
                       "ON a.rowid = b.rowid GROUP BY a.%s" % ((rng.choice(info["cols"]).name,) * 2))
                kind = "set"
            else:
                sql, kind = one_query(rng, info)
            if args.verbose:
                print(sql)
            check(orc, db, info, sql, kind, stats)
            done += 1
            if in_tx and rng.random() < 0.2:
                db.execute("ROLLBACK")
                in_tx = False
        if in_tx:
            db.execute("ROLLBACK")
        db.execute("DROP TABLE %s" % info["t"])
        db.execute("DROP TABLE %s" % info["n"])
        os.remove(info["path"])
        k += 1
    # the grouping plan must have been taken: otherwise this suite tests
    # nothing of it
    share = stats["grouped"] / max(1, stats["queries"])
    if not args.selftest:
        orc.equal("share of queries on the grouping plan >= 0.4 (%d of %d)"
                  % (stats["grouped"], stats["queries"]), share >= 0.4, True)
    orc.finish()


if __name__ == "__main__":
    main()
