"""oracle_writes.py -- writes to the record table against a byte model and
numpy.

Each round builds a random record file (raw with a random layout, or .npy)
and keeps a model of it in Python: the list of record images, as bytes.
Random statements run on MemBase: UPDATE with literal or computed values
over a random set of rows, INSERT (appends), inside random transactions
with SAVEPOINT, ROLLBACK TO, RELEASE, COMMIT and ROLLBACK. The model
applies the same statement with its own encoder (written here from the
manual's rules: ranges, types, NULL, text length, blob size, the sorted
order), all or nothing per statement, and keeps a snapshot per savepoint.

After every statement, MemBase's rows must equal the model's decoded
values (own writes visible). Outside a transaction:
  - the file's bytes equal the model's bytes, exactly: every field no
    statement assigned keeps its bytes (NaN payloads, -0.0, bool bytes
    of 2, u64 above 2^63, padding);
  - numpy reads the same values (np.load, with and without mmap_mode)
    for .npy files, and np.frombuffer for raw ones.
A statement MemBase refuses must be one the model refuses, and the error
must name the column.
"""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_common as oc
from oracle_records import Col, INT_TYPES, NPY_CODE, rand_value

NPY_TYPES = list(INT_TYPES) + ["f32", "f64"]


class Refused(Exception):
    pass


def encode(c, v):
    """The bytes MemBase must store for SQL value v in column c."""
    e = ">" if c.big else "<"
    if v is None:
        raise Refused("NULL")
    if c.typ in ("f32", "f64"):
        if not isinstance(v, (int, float)):
            raise Refused("mismatch")
        r = float(v)
        if c.typ == "f32":
            if math.isfinite(r) and abs(r) > 3.4028234663852886e38:
                raise Refused("range")
            return struct.pack(e + "f", r)
        return struct.pack(e + "d", r)
    if c.typ == "char":
        if not isinstance(v, str):
            raise Refused("mismatch")
        b = v.encode("utf-8")
        if len(b) > c.size:
            raise Refused("too long")
        return b + b"\0" * (c.size - len(b))
    if c.typ == "blob":
        if not isinstance(v, bytes) or len(v) != c.size:
            raise Refused("blob")
        return v
    # integers and bool
    if isinstance(v, int):
        x = v
    elif isinstance(v, float):
        if math.isnan(v) or math.isinf(v) or v != math.floor(v):
            raise Refused("mismatch")
        if c.typ == "u64" and 2.0**63 <= v < 2.0**64:
            return struct.pack(e + "Q", int(v))
        if v < -2.0**63 or v >= 2.0**63:
            raise Refused("range")
        x = int(v)
    else:
        raise Refused("mismatch")
    if c.typ == "bool":
        lo, hi = 0, 1
    else:
        lo, hi = INT_TYPES[c.typ][1], INT_TYPES[c.typ][2]
        if c.typ == "u64":
            hi = 2**63 - 1
    if x < lo or x > hi:
        raise Refused("range")
    if c.typ == "bool":
        return bytes([x])
    return struct.pack(e + INT_TYPES[c.typ][0], x)


def key_less(c, a, b):
    """The sorted column's order on two encoded keys (NaN is 'less')."""
    va, vb = decode_num(c, a), decode_num(c, b)
    if c.typ in ("f32", "f64"):
        return not (va >= vb)
    return va < vb


def decode_num(c, raw):
    e = ">" if c.big else "<"
    if c.typ in INT_TYPES:
        return struct.unpack(e + INT_TYPES[c.typ][0], raw)[0]
    return struct.unpack(e + ("f" if c.typ == "f32" else "d"), raw)[0]


class Table:
    def __init__(self, rng, d, k):
        self.rng = rng
        self.npy = rng.random() < 0.35
        ncol = rng.randint(1, 5)
        types = NPY_TYPES if self.npy else \
            NPY_TYPES + ["bool", "bool", "char", "blob", "f64"]
        self.cols = []
        for i in range(ncol):
            typ = rng.choice(types)
            size = rng.randint(1, 6) if typ in ("char", "blob") else 0
            self.cols.append(Col("c%d" % i, typ,
                                 not self.npy and rng.random() < 0.3, size))
        self.pads = {}
        if not self.npy:
            for i in range(ncol + 1):
                if rng.random() < 0.2:
                    self.pads[i] = rng.randint(1, 3)
        self.offs = []
        o = 0
        for i, c in enumerate(self.cols):
            o += self.pads.get(i, 0)
            self.offs.append(o)
            o += c.nbytes
        self.size = o + self.pads.get(ncol, 0)
        sortable = [i for i, c in enumerate(self.cols)
                    if c.typ in ("f32", "f64") or
                    (c.typ in INT_TYPES and c.typ != "u64")]
        self.skey = rng.choice(sortable) if sortable and rng.random() < 0.3 else None
        n = rng.choice([0, 1, 3, 8, 30, 100])
        self.recs = [self.random_record() for _ in range(n)]
        if self.skey is not None:
            c = self.cols[self.skey]
            # NaN out before sorting: it would break Python's sort too
            keys = [k for k in (self.field(r, self.skey) for r in self.recs)
                    if not (c.typ in ("f32", "f64") and math.isnan(decode_num(c, k)))]
            keys.sort(key=lambda b: decode_num(c, b))
            self.recs = self.recs[:len(keys)]
            self.recs = [self.with_field(r, self.skey, kb)
                         for r, kb in zip(self.recs, keys)]
        self.name = "w%d" % k
        if self.npy:
            import numpy as np
            self.path = os.path.join(d, "w%d.npy" % k)
            self.dtype = np.dtype([(c.name, NPY_CODE[c.typ]) for c in self.cols])
            arr = np.frombuffer(b"".join(self.recs), dtype=self.dtype) if self.recs \
                else np.zeros(0, dtype=self.dtype)
            np.save(self.path, arr)
            with open(self.path, "rb") as f:
                data = f.read()
            self.header = len(data) - len(self.recs) * self.size
            opts = "file='%s'" % self.path
        else:
            self.path = os.path.join(d, "w%d.bin" % k)
            with open(self.path, "wb") as f:
                f.write(b"".join(self.recs))
            parts = []
            for i, c in enumerate(self.cols):
                if i in self.pads:
                    parts.append("_p%d pad(%d)" % (i, self.pads[i]))
                parts.append(c.layout())
            if ncol in self.pads:
                parts.append("_p%d pad(%d)" % (ncol, self.pads[ncol]))
            opts = "file='%s', layout='%s'" % (self.path, ", ".join(parts))
            self.header = 0
        if self.skey is not None:
            opts += ", sorted=%s" % self.cols[self.skey].name
        self.create_sql = "CREATE VIRTUAL TABLE %s USING membase(%s)" % (self.name, opts)

    def random_record(self):
        b = bytearray(os.urandom(0) + bytes([0xa5]) * self.size)
        for i, c in enumerate(self.cols):
            v = rand_value(self.rng, c)
            if c.typ in ("f32", "f64") and self.rng.random() < 0.1:
                # a NaN with a payload of its own
                if c.typ == "f64":
                    raw = struct.pack("<Q", 0x7ff0000000000001 |
                                      self.rng.getrandbits(51))
                    if c.big:
                        raw = raw[::-1]
                else:
                    raw = struct.pack("<I", 0x7f800001 | self.rng.getrandbits(22))
                    if c.big:
                        raw = raw[::-1]
            elif c.typ == "bool":
                raw = bytes([v])
            else:
                raw = c.pack(v)
            b[self.offs[i]:self.offs[i] + c.nbytes] = raw
        return bytes(b)

    def field(self, rec, i):
        return rec[self.offs[i]:self.offs[i] + self.cols[i].nbytes]

    def with_field(self, rec, i, raw):
        return rec[:self.offs[i]] + raw + rec[self.offs[i] + len(raw):]

    def values(self, rec):
        return tuple(c.sql_value(self.field(rec, i)) for i, c in enumerate(self.cols))


def rand_sql_value(rng, t, c, rec_vals):
    """A value to assign: mostly valid, sometimes out of range or of the
    wrong type. Returns (sql_literal_or_param, python_value)."""
    r = rng.random()
    if r < 0.55:
        if c.typ == "bool":
            v = rng.choice([0, 1])
        elif c.typ == "char":
            v = "".join(rng.choice("abcxyz") for _ in range(rng.randint(0, c.size)))
        else:
            raw = rand_value(rng, c)
            v = c.sql_value(c.pack(raw)) if c.typ != "blob" else raw
        return v
    return rng.choice([None, "7", "abc", b"\x01\x02", 1.5, -1, 2**63 - 1, -2**63,
                       9.3e18, 1.8446744073709552e19, 1e40, math.inf, -0.0, 300,
                       70000, 2**31, 0, 1, "x" * 9, 2.0])


def rows_where(rng, t, n):
    """A WHERE clause on rowid, and the rowids it selects (the model's)."""
    r = rng.random()
    if n == 0 or r < 0.1:
        return "", list(range(n))
    if t.skey is not None and r < 0.35:
        # a range of the sorted column: binary search on the update path
        c = t.cols[t.skey]
        keys = [decode_num(c, t.field(rec, t.skey)) for rec in t.recs]
        a, b = sorted([rng.choice(keys), rng.choice(keys)])
        lit = lambda v: ("1e999" if v > 0 else "-1e999") if math.isinf(v) else repr(v)
        return " WHERE %s BETWEEN %s AND %s" % (c.name, lit(a), lit(b)), \
            [i for i, k in enumerate(keys) if a <= k <= b]
    if r < 0.5:
        ids = sorted(set(rng.randrange(n + 2) for _ in range(rng.randint(1, 4))))
        return " WHERE rowid IN (%s)" % ",".join(map(str, ids)), \
            [i for i in ids if i < n]
    a = rng.randrange(n)
    b = rng.randrange(a, n + 2)
    return " WHERE rowid BETWEEN %d AND %d" % (a, b), list(range(a, min(b, n - 1) + 1))


def one_statement(rng, db, t, orc, state):
    """Run one random UPDATE or INSERT on MemBase and on the model."""
    n = len(t.recs)
    if rng.random() < 0.6 and n:
        w, ids = rows_where(rng, t, n)
        k = rng.randint(1, len(t.cols))
        which = rng.sample(range(len(t.cols)), k)
        sets, params = [], []
        per_row = {}   # col -> value for every row (literal)
        exprs = {}
        for i in which:
            c = t.cols[i]
            if rng.random() < 0.1:
                sets.append("%s = %s" % (c.name, c.name))   # identity
                exprs[i] = None
            elif c.typ in INT_TYPES and rng.random() < 0.3:
                d = rng.choice([1, -1, 0])
                sets.append("%s = %s + %d" % (c.name, c.name, d))
                exprs[i] = d
            else:
                v = rand_sql_value(rng, t, c, None)
                sets.append("%s = ?" % c.name)
                params.append(v)
                per_row[i] = v
        sql = "UPDATE %s SET %s%s" % (t.name, ", ".join(sets), w)
        new = list(t.recs)
        refused = None
        try:
            for rid in ids:
                rec = new[rid]
                vals = t.values(rec)
                for i in which:
                    if i in per_row:
                        v = per_row[i]
                    else:
                        v0 = vals[i]
                        # SQL's v + d: integer overflow becomes REAL
                        if exprs[i] is None:
                            v = v0
                        elif v0 is None:
                            v = None
                        elif isinstance(v0, float):
                            v = v0 + exprs[i]
                        else:
                            v = v0 + exprs[i]
                            if not (-2**63 <= v < 2**63):
                                v = float(v0) + exprs[i]
                    # the value the field already reads as: bytes kept
                    same = (v is None and vals[i] is None) or (
                        v is not None and vals[i] is not None and
                        oc.same_value(v, vals[i]))
                    if not same:
                        rec = t.with_field(rec, i, encode(t.cols[i], v))
                # MemBase checks the sorted order row by row, in rowid
                # order, against the neighbours as they are at that moment
                if t.skey is not None and \
                        t.field(rec, t.skey) != t.field(new[rid], t.skey):
                    c = t.cols[t.skey]
                    kb = t.field(rec, t.skey)
                    if rid > 0 and key_less(c, kb, t.field(new[rid - 1], t.skey)):
                        raise Refused("order")
                    if rid + 1 < n and key_less(c, t.field(new[rid + 1], t.skey), kb):
                        raise Refused("order")
                new[rid] = rec
        except Refused as e:
            refused = e
    else:
        vals = [rand_sql_value(rng, t, c, None) for c in t.cols]
        if rng.random() < 0.7:
            # mostly valid rows, from a fresh random record
            rec = t.random_record()
            vals = list(t.values(rec))
            if any(v is None for v in vals):
                vals = [0.5 if v is None else v for v in vals]
        sql = "INSERT INTO %s(%s) VALUES (%s)" % (
            t.name, ",".join(c.name for c in t.cols), ",".join("?" * len(vals)))
        params = vals
        new = list(t.recs)
        refused = None
        try:
            rec = bytearray(t.size)   # padding of an appended record: zeros
            for i, c in enumerate(t.cols):
                rec[t.offs[i]:t.offs[i] + c.nbytes] = encode(c, vals[i])
            rec = bytes(rec)
            if t.skey is not None and n:
                if key_less(t.cols[t.skey], t.field(rec, t.skey),
                            t.field(new[-1], t.skey)):
                    raise Refused("order")
            new.append(rec)
        except Refused as e:
            refused = e
    err = None
    try:
        db.execute(sql, params)
    except Exception as e:
        err = str(e)
    label = "%s -- %r" % (sql, params)
    if refused is None:
        if err is not None:
            orc.error(label, err)
            state["broken"] = True
            return
        t.recs = new
    else:
        if err is None:
            orc.equal(label + " [model refuses: %s]" % refused, "accepted", "refused")
            state["broken"] = True
            return
        # the message names the column or the record at fault
        named = any('"%s"' % c.name in err for c in t.cols) or "record" in err
        orc.equal(label + " [message names the column]", named, True)


def compare_rows(orc, db, t, label):
    try:
        got = db.execute("SELECT rowid, * FROM %s ORDER BY rowid" % t.name).fetchall()
    except Exception as e:   # e.g. bytes that are not text at all
        orc.error(label + " rows", e)
        return False
    want = [(i,) + t.values(r) for i, r in enumerate(t.recs)]
    return orc.rows(label + " rows", got, want, ordered=True)


def compare_file(orc, t, label):
    with open(t.path, "rb") as f:
        data = f.read()
    body = data[t.header:]
    ok = orc.equal(label + " file bytes", body, b"".join(t.recs))
    if not ok:
        return False
    import numpy as np
    if t.npy:
        a = np.load(t.path)
        m = np.load(t.path, mmap_mode="r")
        want = np.frombuffer(b"".join(t.recs), dtype=t.dtype) if t.recs \
            else np.zeros(0, dtype=t.dtype)
        same = (a.shape == want.shape and m.shape == want.shape and
                a.tobytes() == want.tobytes() and bytes(m.tobytes()) == want.tobytes())
        del m
        return orc.equal(label + " numpy", same, True)
    return True


def main():
    args = oc.parse_args("oracle_writes", 3000, 100000)
    orc = oc.Oracle("oracle_writes", args)
    rng = orc.rng
    d = oc.scratch_dir("writes")
    db = oc.connect()
    k = 0
    done = 0
    while done < args.queries:
        t = Table(rng, d, k)
        db.execute(t.create_sql)
        state = {"broken": False}
        for _ in range(rng.randint(1, 6)):          # transactions
            if state["broken"] or done >= args.queries:
                break
            explicit = rng.random() < 0.6
            snaps = []
            base = list(t.recs)
            outer = None
            if explicit and rng.random() < 0.3:
                # SAVEPOINT without BEGIN: it is the transaction, and
                # ROLLBACK TO it is xRollbackTo(-1)
                outer = "s0"
                db.execute("SAVEPOINT s0")
            elif explicit:
                db.execute("BEGIN")
            for _ in range(rng.randint(1, 8)):
                r = rng.random()
                if explicit and r < 0.12:
                    snaps.append(list(t.recs))
                    db.execute("SAVEPOINT s%d" % len(snaps))
                elif explicit and r < 0.2 and snaps:
                    db.execute("ROLLBACK TO s%d" % len(snaps))
                    t.recs = list(snaps[-1])
                elif explicit and r < 0.25 and snaps:
                    db.execute("RELEASE s%d" % len(snaps))
                    snaps.pop()
                else:
                    one_statement(rng, db, t, orc, state)
                    done += 1
                if state["broken"]:
                    break
                if not compare_rows(orc, db, t, "in transaction"):
                    state["broken"] = True
                    break
            if explicit:
                r = rng.random()
                if outer and r < 0.3:
                    db.execute("ROLLBACK TO s0")
                    t.recs = list(base)
                    if not compare_rows(orc, db, t, "after ROLLBACK TO the outer savepoint"):
                        state["broken"] = True
                    db.execute("RELEASE s0")
                elif r < 0.35:
                    db.execute("ROLLBACK")
                    t.recs = base
                elif outer:
                    db.execute("RELEASE s0")
                else:
                    db.execute("COMMIT")
            if state["broken"]:
                break
            if not compare_rows(orc, db, t, "after transaction"):
                break
            if not compare_file(orc, t, "after transaction"):
                break
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.execute("DROP TABLE %s" % t.name)
        os.remove(t.path)
        k += 1
    orc.finish()


if __name__ == "__main__":
    main()
