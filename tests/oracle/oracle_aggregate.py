"""oracle_aggregate.py -- membase_aggregate() against SQL's own count(col),
sum, min, max and avg over the same table, and against numpy.

Each round writes a random record file with numpy: a structured array with
every numeric type (i8..i64, u8..u64, f32, f64, bool), each column in a
random byte order, sometimes with padding between and after the fields (a
dtype with offsets and itemsize; pad(N) in the layout), special values (NaN, +-inf, -0.0, i64 and u64 extremes,
u64 values above 2^63, non-canonical bool bytes 0x02 and 0xff), and
sometimes a sorted key column (i64 ascending with ties, or f64 ascending,
never NaN). The same array is written raw (.bin, with a layout) and as a
.npy file (sometimes of shape (n, 1): n records, columns named c_0), and
both become membase tables.

Each query picks a table, a column and a range: lo and hi over the rowid or
the sorted key (the 5th argument), NULL bounds, reversed bounds, bounds
out of range, REAL bounds on integer keys. The answer of

    SELECT count, sum, min, max, avg FROM membase_aggregate(t, col, lo, hi [, key])

is compared with

    SELECT count(col), sum(col), min(col), max(col), avg(col)
      FROM t WHERE key >= lo AND key <= hi     (a NULL bound: no condition)

and with the same aggregates computed here from the numpy array (NaN is
NULL: skipped; a u64 above 2^63-1 is REAL; sum() overflow rules of the
running SQLite). Types must be equal (INTEGER vs REAL, NULL); count, min,
max and INTEGER sums exactly; REAL sums and every avg within the
documented bound 2*n*2^-53*sum(|x|) (over count for avg), since they are
added in a different order. An overflowing sum is an error in all three.

Quick setting: 20,000 queries (80,000 checks: two tables, two oracles);
--long: 150,000 queries. --selftest: oracle_common changes one answer.
"""
import math
import os
import struct
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_common as oc

try:
    import numpy as np
except ImportError:
    print("oracle_aggregate: numpy not found, skipped")
    sys.exit(0)

TYPES = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
         "bool"]
NPY = {"i8": "i1", "i16": "i2", "i32": "i4", "i64": "i8", "u8": "u1",
       "u16": "u2", "u32": "u4", "u64": "u8", "f32": "f4", "f64": "f8",
       "bool": "u1"}
I64_MIN, I64_MAX = -2**63, 2**63 - 1
EPS = 2.0**-53
# SQLite before 3.43 reports an INTEGER overflow of sum() even when REAL
# values follow; 3.43 and later make the sum REAL then.
OLD_SUM = sqlite3.sqlite_version_info < (3, 43, 0)


class Table:
    pass


def gen_values(rng, typ, n):
    """A numpy array of n values of typ (bool as raw bytes), with specials."""
    nr = np.random.default_rng(rng.getrandbits(32))
    special = rng.random() < 0.7
    if typ in ("f32", "f64"):
        scale = rng.choice([1.0, 1e3, 1e-3, 1e30] + ([1e200] if typ == "f64" else []))
        v = nr.standard_normal(n) * scale
        if rng.random() < 0.3:
            v = np.round(v)   # many ties
        v = v.astype(NPY[typ])
        if special and n:
            specials = [np.nan, np.inf, -np.inf, -0.0, 0.0]
            for _ in range(rng.randint(1, 6)):
                v[rng.randrange(n)] = rng.choice(specials)
            if rng.random() < 0.3:
                v[0] = np.nan   # NaN first: the old min/max bug
        return v
    if typ == "bool":
        return np.array([rng.choice([0, 1, 1, 2, 255, 0]) for _ in range(n)],
                        dtype="u1")
    if typ == "u64":
        mode = rng.choice(["small", "full", "edge", "low"])
        out = []
        for _ in range(n):
            if mode == "small":
                x = rng.randrange(0, 2**40)
            elif mode == "low":
                x = rng.randrange(2**61, 2**62)
            elif mode == "full":
                x = rng.getrandbits(64)
            else:
                x = 2**63 + rng.randrange(-50, 50)
            out.append(x)
        if special and n and rng.random() < 0.5:
            out[rng.randrange(n)] = rng.choice([0, 2**64 - 1, 2**63, 2**63 - 1])
        return np.array(out, dtype="u8")
    bits = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "u8": 8, "u16": 16,
            "u32": 32}[typ]
    signed = typ[0] == "i"
    lo, hi = (-2**(bits - 1), 2**(bits - 1) - 1) if signed else (0, 2**bits - 1)
    if typ == "i64" and rng.random() < 0.5:
        lo, hi = -2**40, 2**40
    out = [rng.randint(lo, hi) for _ in range(n)]
    if special and n and typ == "i64" and rng.random() < 0.5:
        for _ in range(rng.randint(1, 2)):
            out[rng.randrange(n)] = rng.choice([I64_MIN, I64_MAX])
    return np.array(out, dtype=NPY[typ])


def make_table(o, db, d, idx, n=None):
    rng = o.rng
    t = Table()
    if n is None:
        n = rng.choice([0, 1, 2, 5, 17, 100, 1000, 3000, rng.randint(0, 5000)])
    t.n = n
    t.cols = []
    fields = []
    layout = []
    data = {}
    offsets = []
    state = {"off": 0, "pad": 0}
    bpad = rng.random() < 0.4

    def add(name, e, c, typ):
        # numpy's padding: a gap before the field (a dtype with offsets)
        if bpad and rng.random() < 0.3:
            g = rng.randint(1, 5)
            layout.append("_p%d pad(%d)" % (state["pad"], g))
            state["pad"] += 1
            state["off"] += g
        fields.append((name, e, c))
        offsets.append(state["off"])
        layout.append("%s %s%s" % (name, typ, "be" if e == ">" else ""))
        state["off"] += np.dtype(c).itemsize

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
            if rng.random() < 0.5:
                k[k == 0.0] = -0.0   # -0.0 and 0.0 are equal keys
                k[:n // 2][k[:n // 2] == 0.0] = 0.0
            if n and rng.random() < 0.3:
                k[0] = -np.inf
            if n > 1 and rng.random() < 0.3:
                k[-1] = np.inf
        big = rng.random() < 0.5
        t.key = "k"
        t.keytyp = keytyp
        add("k", ">" if big else "<", NPY[keytyp], keytyp)
        data["k"] = k
        t.cols.append(("k", keytyp))
    types = TYPES[:]
    rng.shuffle(types)
    for typ in types:
        name = "c_" + typ
        big = rng.random() < 0.5 and typ not in ("i8", "u8", "bool")
        add(name, ">" if big else "<", NPY[typ], typ)
        data[name] = gen_values(rng, typ, n)
        t.cols.append((name, typ))
    # raw bytes: bool as u1, then the same bytes under the bool dtype
    itemsize = state["off"]
    if bpad and rng.random() < 0.5:
        g = rng.randint(1, 7)   # trailing padding (itemsize)
        layout.append("_p%d pad(%d)" % (state["pad"], g))
        itemsize += g

    def mkdt(codes):
        return np.dtype({"names": [f for f, _, _ in fields],
                         "formats": codes, "offsets": offsets,
                         "itemsize": itemsize})
    raw_dt = mkdt([e + c for f, e, c in fields])
    arr = np.zeros(n, dtype=raw_dt)
    for f, _, _ in fields:
        arr[f] = data[f]
    file_dt = mkdt([(e + c) if c != "u1" or not f.endswith("bool")
                    else "|b1" for f, e, c in fields])
    farr = np.frombuffer(arr.tobytes(), dtype=file_dt) if n else \
        np.zeros(0, dtype=file_dt)
    binf = os.path.join(d, "t%d.bin" % idx)
    npyf = os.path.join(d, "t%d.npy" % idx)
    arr.tofile(binf)
    # shape (n, 1): n records whose columns are named c_0
    sfx = "_0" if rng.random() < 0.3 else ""
    np.save(npyf, farr.reshape(n, 1) if sfx else farr)
    t.names = []
    for kind, f in (("bin", binf), ("npy", npyf)):
        name = "%s%d" % (kind, idx)
        x = sfx if kind == "npy" else ""
        sorted_opt = (", sorted=k" + x) if t.key else ""
        if kind == "bin":
            db.execute("CREATE VIRTUAL TABLE %s USING membase(file='%s', "
                       "layout='%s'%s)" % (name, f, ", ".join(layout),
                                           sorted_opt))
        else:
            db.execute("CREATE VIRTUAL TABLE %s USING membase(file='%s'%s)"
                       % (name, f, sorted_opt))
        t.names.append((name, x))
    # the SQL values, computed from numpy independently of MemBase
    t.vals = {}
    for name, typ in t.cols:
        a = data[name]
        if typ in ("f32", "f64"):
            t.vals[name] = [None if math.isnan(x) else float(x)
                            for x in a.astype("f8").tolist()]
        elif typ == "bool":
            t.vals[name] = [1 if x else 0 for x in a.tolist()]
        elif typ == "u64":
            t.vals[name] = [x if x <= I64_MAX else float(x) for x in a.tolist()]
        else:
            t.vals[name] = [int(x) for x in a.tolist()]
    t.keyvals = data["k"].astype("f8" if t.key and t.keytyp == "f64" else "i8").tolist() \
        if t.key else None
    return t


def expect(vals):
    """count, sum (or 'ERR'), min, max, avg, and the float bounds, of SQL's
    aggregates over vals (None is NULL)."""
    xs = [v for v in vals if v is not None]
    n = len(xs)
    if n == 0:
        return (0, None, None, None, None), 0.0
    mn = min(xs)   # first of equal values, as SQL
    mx = max(xs)
    # sum(): INTEGER while every value is INTEGER and no overflow
    isum, ovfl, anyreal = 0, False, False
    for x in xs:
        if isinstance(x, float):
            anyreal = True
            continue
        if not anyreal and not ovfl:
            isum += x
            if not (I64_MIN <= isum <= I64_MAX):
                ovfl = True
    infs = [x for x in xs if isinstance(x, float) and math.isinf(x)]
    fin = [x for x in xs if not (isinstance(x, float) and math.isinf(x))]
    abssum = math.fsum(abs(float(x)) for x in fin)
    if infs:
        rsum = None if (math.inf in infs and -math.inf in infs) else infs[0]
    else:
        # exact sum of the values (ints exactly), rounded once
        ints = sum(x for x in fin if not isinstance(x, float))
        rsum = math.fsum([float(x) for x in fin if isinstance(x, float)]
                         + [float(ints)]) if fin else 0.0
    if ovfl and (OLD_SUM or not anyreal):
        s = "ERR"
    elif anyreal:
        s = rsum
    elif ovfl:
        s = "ERR"
    else:
        s = isum
    if not anyreal and not ovfl:
        avg = isum / n   # exact, rounded once
    else:
        avg = None if rsum is None else rsum / n
    tol = 2 * n * EPS * abssum
    return (n, s, mn, mx, avg), tol


def close(got, want, tol):
    """got is an acceptable float answer for want (None = NULL)."""
    if type(got) is not type(want):
        return False
    if not isinstance(got, float):
        return got == want
    if math.isinf(want) or math.isinf(got):
        return got == want or math.isinf(tol)
    return abs(got - want) <= tol + 4 * EPS * abs(want)


def normalize(got, want, tol):
    """got with each float replaced by want's value where it is within the
    bound (so Oracle.rows compares the rest exactly)."""
    g = list(got)
    for i in (1, 4):   # sum, avg
        tl = tol if i == 1 else (tol / want[0] if want[0] else 0.0)
        if isinstance(g[i], float) and isinstance(want[i], float) \
                and close(g[i], want[i], tl):
            g[i] = want[i]
    return tuple(g)


def run_membase(db, tab, col, lo, hi, key, threads=None):
    args = "'%s', '%s', %s, %s" % (tab, col, lo, hi)
    if key or threads is not None:
        args += ", '%s'" % key if key else ", NULL"
    if threads is not None:
        args += ", %s" % threads
    row = db.execute("SELECT count, min, max, avg FROM membase_aggregate(%s)"
                     % args).fetchone()
    try:
        s = db.execute("SELECT sum FROM membase_aggregate(%s)" % args).fetchone()[0]
    except sqlite3.Error as e:
        s = "ERR" if "integer overflow" in str(e) else "ERR: %s" % e
    return (row[0], s, row[1], row[2], row[3])


def run_sql(db, tab, col, lo, hi, key):
    k = key or "rowid"
    w = []
    if lo != "NULL":
        w.append("%s >= %s" % (k, lo))
    if hi != "NULL":
        w.append("%s <= %s" % (k, hi))
    where = (" WHERE " + " AND ".join(w)) if w else ""
    row = db.execute("SELECT count(%s), min(%s), max(%s), avg(%s) FROM %s%s"
                     % (col, col, col, col, tab, where)).fetchone()
    try:
        s = db.execute("SELECT sum(%s) FROM %s%s" % (col, tab, where)).fetchone()[0]
    except sqlite3.Error as e:
        s = "ERR" if "integer overflow" in str(e) else "ERR: %s" % e
    return (row[0], s, row[1], row[2], row[3])


class AboveNumbers:
    """A TEXT bound that is not a number: above every number, as SQL
    compares them."""
    def __le__(self, x):
        return False

    def __ge__(self, x):
        return True

    def __gt__(self, x):
        return True

    def __lt__(self, x):
        return False


TEXT = AboveNumbers()


def in_range(x, lo, hi):
    return (lo is None or x >= lo) and (hi is None or x <= hi)


def pick_bound(rng, t, key):
    """A bound as SQL text and as a Python number (None for NULL)."""
    r = rng.random()
    if r < 0.15:
        return "NULL", None
    if r < 0.18:
        # TEXT: a number in text is that number (affinity), else above all
        x = rng.choice([3, 2.5, -1, TEXT])
        return ("'abc'" if x is TEXT else "'%r'" % x), x
    if key:
        kv = t.keyvals
        if kv and r < 0.6:
            x = rng.choice(kv)
            if math.isinf(x):
                return ("9e999" if x > 0 else "-9e999"), x
            if t.keytyp == "i64":
                x = int(x) + rng.choice([0, 0, -1, 1])
            return repr(x), x
        if r < 0.8:
            x = rng.randint(-1200, 1200) + 0.5
            return repr(x), x
        x = rng.choice([-10**6, 10**6, -2**63, 2**63 - 1, -0.0, 0.0,
                        9.3e18, -9.3e18])
        return repr(x), x
    if r < 0.7 and t.n:
        x = rng.randrange(-2, t.n + 2)
        return str(x), x
    if r < 0.85:
        x = rng.randrange(-3, t.n + 3) + rng.choice([0.5, -0.5, 0.25])
        return repr(x), x
    x = rng.choice([-2**63, 2**63 - 1, 10**12, -1, 9.3e18, -9.3e18, -0.0])
    return repr(x), x


def main():
    args = oc.parse_args("oracle_aggregate", 20000, 150000)
    o = oc.Oracle("oracle_aggregate", args)
    rng = o.rng
    d = oc.scratch_dir("aggregate")
    db = oc.connect()
    tables = []
    idx = 0
    q = 0
    while q < args.queries:
        if not tables or rng.random() < 0.01:
            tables.append(make_table(o, db, d, idx))
            idx += 1
            if len(tables) > 6:
                old = tables.pop(0)
                for nm, _ in old.names:
                    db.execute("DROP TABLE %s" % nm)
        t = rng.choice(tables)
        col, typ = rng.choice(t.cols)
        key = t.key if t.key and rng.random() < 0.5 else None
        if key is None and rng.random() < 0.1:
            key_arg = "rowid"
        else:
            key_arg = key
        lo_s, lo = pick_bound(rng, t, key)
        hi_s, hi = pick_bound(rng, t, key)
        if lo is not None and hi is not None and (lo > hi) != \
                (rng.random() < 0.1):
            lo_s, lo, hi_s, hi = hi_s, hi, lo_s, lo   # 10% reversed
        keys = t.keyvals if key else range(t.n)
        vals = [v for kk, v in zip(keys, t.vals[col]) if in_range(kk, lo, hi)]
        want, tol = expect(vals)
        for tab, x in t.names:
            label = "%s.%s [%s, %s] key=%s (%s)" % (tab, col, lo_s, hi_s,
                                                    key_arg or "-", typ)
            try:
                got = run_membase(db, tab, col + x, lo_s, hi_s,
                                  key_arg + x if key_arg and key_arg != "rowid"
                                  else key_arg)
            except sqlite3.Error as e:
                o.error(label, e)
                continue
            sql = run_sql(db, tab, col + x, lo_s, hi_s, key and key + x)
            # SQL's own float sums are in record order: same bound
            o.rows(label + " vs SQL", [normalize(got, sql, tol)], [sql])
            o.rows(label + " vs numpy", [normalize(got, want, tol)], [want])
        q += 1
    chunk_phase(o, db, d, idx, args)
    if args.verbose:
        print("tables:", idx)
    o.finish()


def bits(row):
    """A row with each float as its bytes: equal rows are equal bit for
    bit (NaN, -0.0 included)."""
    return tuple(struct.pack("<d", v) if isinstance(v, float) else v
                 for v in row)


# Records per chunk of membase_aggregate (vtab/mb_aggregate.c MB_AGG_CHUNK):
# the big tables below span several, so threads split them.
CHUNK = 65536


def chunk_phase(o, db, d, idx, args):
    """Tables of several chunks: random ranges, each asked with 1 thread
    and with 2, 3, 5 and the default (NULL); every answer must equal the
    1-thread one bit for bit, and SQL's and numpy's within the bound.
    Values near the 64-bit limits sit at chunk boundaries, where the
    per-chunk overflow check must see the running sum across them."""
    rng = o.rng
    ntab = max(1, args.queries // 6000)
    nq = max(4, min(40, args.queries // 400))
    for ti in range(ntab):
        n = rng.choice([CHUNK + 1, 2 * CHUNK, 2 * CHUNK + rng.randint(1, 999),
                        3 * CHUNK + rng.randint(0, 5000)])
        t = make_table(o, db, d, idx + 1000 + ti, n)
        # an i64 column whose running sum crosses the limit at a chunk edge
        # and comes back (SQL: overflow) or comes close without leaving
        edge = rng.choice([CHUNK - 1, CHUNK, 2 * CHUNK - 2])
        for name, typ in t.cols:
            if typ == "i64" and name != t.key and rng.random() < 0.7:
                v = [0] * t.n
                if rng.random() < 0.5:
                    v[edge], v[edge + 1] = I64_MAX, rng.choice([1, -1])
                else:
                    v[edge], v[edge + 1] = I64_MIN, rng.choice([-1, 1])
                if edge + 2 < t.n:
                    v[edge + 2] = -v[edge + 1]
                for nm, x in t.names:
                    db.execute("UPDATE %s SET %s = 0" % (nm, name + x))
                    db.executemany("UPDATE %s SET %s = ?1 WHERE rowid = ?2"
                                   % (nm, name + x),
                                   [(v[i], i) for i in range(t.n) if v[i]])
                t.vals[name] = v
        for _ in range(nq):
            col, typ = rng.choice(t.cols)
            if rng.random() < 0.5:
                lo_s, lo, hi_s, hi = "NULL", None, "NULL", None
            else:
                a = rng.randrange(0, t.n)
                b = rng.randrange(a, t.n)
                lo_s, lo, hi_s, hi = str(a), a, str(b), b
            vals = [v for kk, v in zip(range(t.n), t.vals[col])
                    if in_range(kk, lo, hi)]
            want, tol = expect(vals)
            tab, x = rng.choice(t.names)
            label = "%s.%s [%s, %s] (%s, %d records)" % (tab, col, lo_s, hi_s,
                                                         typ, t.n)
            try:
                one = run_membase(db, tab, col + x, lo_s, hi_s, None, 1)
                sql = run_sql(db, tab, col + x, lo_s, hi_s, None)
                o.rows(label + " vs SQL", [normalize(one, sql, tol)], [sql])
                o.rows(label + " vs numpy", [normalize(one, want, tol)], [want])
                for th in (2, 3, 5, "NULL"):
                    got = run_membase(db, tab, col + x, lo_s, hi_s, None, th)
                    o.equal(label + " threads=%s vs 1" % th, bits(got),
                            bits(one))
            except sqlite3.Error as e:
                o.error(label, e)


if __name__ == "__main__":
    main()
