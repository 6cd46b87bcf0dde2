"""oracle_lines.py -- membase_lines against a Python model of the file.

The model splits the file's bytes here, independently of MemBase: a line is
the bytes up to a delimiter, a last line without one is a line, a delimiter
at the very end starts no other, and with the delimiter \\n one trailing \\r
is not part of the line. The model's lines go into a native SQLite table
n(id INTEGER PRIMARY KEY, line TEXT, "offset", length) -- the same bytes,
stored as TEXT, so that LIKE, GLOB and ORDER BY line see what they see in
membase_lines -- and the same SQL runs against both. The native table is
checked against the model itself after every change of a file.

Files: random lines with CRLF, empty lines, NUL bytes, invalid UTF-8, no
final delimiter, the delimiters \\n , \\t and \\0, the empty file and a
file that is a single delimiter; a few files long enough for the line
index (hundreds of samples) and lines longer than a scan window.

Changes between queries, in this process or in a child process: append,
in-place edit before the end (delimiters added and removed), edit followed
by growth, truncate and rewrite, and a same-size rewrite with the mtime
put back (os.utime with the old nanoseconds).

Queries: LIKE and GLOB (ESCAPE, case folding, character classes), NOT
LIKE, rowid =, IN (lists and subqueries), ranges and BETWEEN with bounds
of other types (text, NULL, real, +-1e999, int64 extremes, blobs), LIMIT
and OFFSET (negative included) under a total ORDER BY, ORDER BY rowid
DESC and ORDER BY line, count(*), the offset and length columns; the
function form membase_lines(FILE[, DELIM]) and CREATE VIRTUAL TABLE ...
USING membase_lines(file=..., delimiter=...). Results are compared row for
row when the ORDER BY is total, as multisets otherwise.
"""
import os
import random
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_common as oc

NAME = "oracle_lines"
DELIMS = [(b"\n", "\\n"), (b"\n", "\\n"), (b",", ","), (b"\t", "\\t"), (b"\0", "\\0")]
WORDS = [b"ERROR", b"error", b"Error", b"warn", b"GET /api/v1", b"timeout",
         b"x", b"a_b", b"50%", b"[x]", b"*", b"?", b"\\", b"caf\xc3\xa9",
         b"\xff\xfe", b"\xc3(", b"\x00", b"\r", b"ok", b"line", b"ab", b"AB",
         b"\xe2\x82\xac", b"'q'", b"x,y", b"t\tu"]


def model_lines(data, delim):
    """[(rowid, bytes, offset, length)] of data split at delim."""
    out = []
    pos, n, row = 0, len(data), 0
    while pos < n:
        e = data.find(delim, pos)
        stop = n if e < 0 else e
        line = data[pos:stop]
        if delim == b"\n" and line.endswith(b"\r"):
            line = line[:-1]
        row += 1
        out.append((row, line, pos, len(line)))
        pos = n if e < 0 else e + 1
    return out


def random_line(rng, delim):
    k = rng.choice([0, 0, 1, 1, 2, 3, 5])
    parts = [rng.choice(WORDS) for _ in range(k)]
    s = b" ".join(parts)
    if rng.random() < 0.03:
        s += bytes(rng.randrange(32, 127) for _ in range(rng.randrange(200, 3000)))
    s = s.replace(delim, b"_") if rng.random() < 0.9 else s
    if delim == b"\n" and rng.random() < 0.2:
        s += b"\r"
    return s


def random_text(rng, delim, nlines=None):
    r = rng.random()
    if nlines is None:
        if r < 0.05:
            return b""
        if r < 0.08:
            return delim
        if r < 0.1:
            return delim * rng.randrange(2, 600)
        nlines = rng.choice([1, 2, 3, 5, 10, 30, 100, 300, 1000, 3000])
    body = delim.join(random_line(rng, delim) for _ in range(nlines))
    if rng.random() < 0.7:
        body += delim
    if rng.random() < 0.01:
        # a line longer than a scan window (256 KiB)
        body += b"big " + b"y" * 300000 + b" ERROR" + delim
    return body


# The changes, applied by this process or by a child (same code).
MUTATOR = r'''
import os, random, sys
def mutate(path, kind, seed, delim):
    rng = random.Random(seed)
    with open(path, "rb") as f:
        data = f.read()
    st = os.stat(path)
    def some_bytes(k):
        pool = [b"ERROR", b"x", delim, b"\r", b"\xff", b"ok", b" "]
        return b"".join(rng.choice(pool) for _ in range(k))[:max(k, 1)]
    if kind == "append":
        data2 = data + some_bytes(rng.randrange(1, 40)) + delim
        with open(path, "ab") as f:
            f.write(data2[len(data):])
        return
    if kind in ("edit", "edit_grow") and data:
        # overwrite in place, before the end, without changing the size
        off = rng.randrange(len(data))
        k = min(rng.randrange(1, 8), len(data) - off)
        with open(path, "r+b") as f:
            f.seek(off)
            f.write(some_bytes(k)[:k].ljust(k, b"_"))
        if kind == "edit_grow":
            with open(path, "ab") as f:
                f.write(some_bytes(rng.randrange(1, 3000)) + delim)
        return
    if kind == "same_size" and data:
        # a rewrite of the same size, the mtime put back exactly
        new = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            i = rng.randrange(len(new))
            new[i] = rng.choice(b"x_" + delim)
        with open(path, "r+b") as f:
            f.write(bytes(new))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return
    # truncate and rewrite
    k = rng.randrange(0, max(1, len(data) + 100))
    with open(path, "wb") as f:
        f.write((some_bytes(k) + delim)[:k])
if __name__ == "__main__":
    mutate(sys.argv[1], sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4]))
'''
_ns = {}
exec(compile(MUTATOR, "mutator", "exec"), _ns)
mutate_here = _ns["mutate"]
KINDS = ["append", "append", "edit", "edit_grow", "same_size", "rewrite"]


def sql_str(b):
    """A SQL literal for text bytes that are valid in the query."""
    return "'" + b.replace("'", "''") + "'"


class File:
    def __init__(self, path, delim, dname, vtab):
        self.path, self.delim, self.dname, self.vtab = path, delim, dname, vtab
        self.lines = []


def main():
    args = oc.parse_args(NAME, 10000, 100000)
    o = oc.Oracle(NAME, args)
    rng = random.Random(args.seed * 7919 + 1)
    d = oc.scratch_dir("lines")
    mb = oc.connect()
    nat = sqlite3.connect(":memory:", isolation_level=None)

    files = []
    for i in range(6):
        delim, dname = DELIMS[i % len(DELIMS)]
        f = File(os.path.join(d, "f%d.txt" % i), delim, dname, "v%d" % i)
        with open(f.path, "wb") as fh:
            fh.write(random_text(rng, delim))
        # The CREATE form, delimiter as an escape or (for , and \t) the byte
        dopt = dname if rng.random() < 0.5 or dname in ("\\n", "\\0") else delim.decode()
        dclause = "" if (delim == b"\n" and rng.random() < 0.5) else \
            ", delimiter=%s" % sql_str(dopt)
        mb.execute("CREATE VIRTUAL TABLE %s USING membase_lines(file=%s%s)"
                   % (f.vtab, sql_str(f.path), dclause))
        files.append(f)

    def load(f):
        with open(f.path, "rb") as fh:
            data = fh.read()
        f.lines = model_lines(data, f.delim)
        tab = "n_" + f.vtab
        nat.execute("DROP TABLE IF EXISTS %s" % tab)
        nat.execute('CREATE TABLE %s(id INTEGER PRIMARY KEY, line TEXT, "offset" INTEGER,'
                    ' length INTEGER)' % tab)
        nat.execute("BEGIN")
        nat.executemany("INSERT INTO %s VALUES(?, CAST(? AS TEXT), ?, ?)" % tab, f.lines)
        nat.execute("COMMIT")
        # the native table holds the model, byte for byte
        got = nat.execute('SELECT id, CAST(line AS BLOB), "offset", length FROM %s ORDER BY id'
                          % tab).fetchall()
        if got != [(r, l, off, n) for r, l, off, n in f.lines]:
            print("oracle_lines: the native table does not hold the model", file=sys.stderr)
            sys.exit(2)

    for f in files:
        load(f)

    def mb_table(f):
        r = rng.random()
        if r < 0.4:
            return f.vtab
        if f.delim == b"\n" and r < 0.7:
            return "membase_lines(%s)" % sql_str(f.path)
        dn = f.dname if rng.random() < 0.6 or f.dname in ("\\n", "\\0") else f.delim.decode()
        return "membase_lines(%s, %s)" % (sql_str(f.path), sql_str(dn))

    def sample_text(f):
        """A piece of some line, as str (latin-1 safe parts only)."""
        if f.lines and rng.random() < 0.8:
            line = rng.choice(f.lines)[1]
            if line:
                a = rng.randrange(len(line))
                b = min(len(line), a + rng.randrange(1, 8))
                piece = line[a:b]
            else:
                piece = b""
        else:
            piece = rng.choice(WORDS)
        s = "".join(chr(c) for c in piece if 32 <= c < 127)
        return s

    def flip_case(s):
        return "".join(c.swapcase() if rng.random() < 0.3 else c for c in s)

    def like_term(f):
        lit = sample_text(f)
        esc = rng.random() < 0.15
        if esc:
            lit = lit.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        else:
            lit = lit.replace("\\", "")
        lit = flip_case(lit)
        pat = rng.choice(["%{}%", "{}%", "%{}", "{}", "%{}_%", "_{}%", "%{}%{}%"])
        pat = pat.replace("{}", lit, 1).replace("{}", flip_case(sample_text(f)).replace("\\", ""))
        t = "line %sLIKE %s" % ("NOT " if rng.random() < 0.08 else "", sql_str(pat))
        if esc:
            t += " ESCAPE '\\'"
        return t

    def glob_term(f):
        lit = sample_text(f).replace("[", "").replace("*", "").replace("?", "")
        pat = rng.choice(["*{}*", "{}*", "*{}", "*{}?*", "*[a-z]{}*", "*[^x]*{}*", "?{}*"])
        return "line GLOB %s" % sql_str(pat.replace("{}", lit))

    def bound(f):
        n = len(f.lines)
        r = rng.random()
        if r < 0.55:
            return str(rng.randrange(-3, n + 4))
        return rng.choice([
            "0", "-1", "9223372036854775807", "-9223372036854775808",
            "1e999", "-1e999", "NULL", "'abc'", "'%d'" % rng.randrange(0, n + 3),
            "' %d '" % rng.randrange(0, n + 3), "%d.5" % rng.randrange(-1, n + 2),
            "%d.0" % rng.randrange(0, n + 2), "x'35'", "9.3e18", "-9.3e18",
            "'%d.0'" % rng.randrange(0, n + 2), "2.5e-1"])

    def rowid_term(f):
        n = len(f.lines)
        r = rng.random()
        if r < 0.25:
            return "rowid = %s" % bound(f)
        if r < 0.4:
            vals = ", ".join(bound(f) for _ in range(rng.randrange(0, 5)))
            return "rowid IN (%s)" % vals
        if r < 0.47:
            a, b = rng.randrange(-2, n + 3), rng.randrange(-2, n + 3)
            return "rowid IN (SELECT %d UNION SELECT %d)" % (a, b)
        if r < 0.55:
            return "rowid BETWEEN %s AND %s" % (bound(f), bound(f))
        return "rowid %s %s" % (rng.choice([">", ">=", "<", "<="]), bound(f))

    def where(f):
        terms = []
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            r = rng.random()
            if r < 0.3:
                terms.append(like_term(f))
            elif r < 0.45:
                terms.append(glob_term(f))
            elif r < 0.92:
                terms.append(rowid_term(f))
            elif r < 0.96:
                terms.append("length %s %d" % (rng.choice(["<", ">", "="]), rng.randrange(0, 20)))
            else:
                terms.append("(%s OR %s)" % (rowid_term(f), like_term(f)))
        return (" WHERE " + " AND ".join(terms)) if terms else ""

    def query(f):
        cols = rng.choice([
            "rowid, CAST(line AS BLOB), offset, length", "count(*)", "rowid",
            "offset", "rowid, length", "CAST(line AS BLOB)", "count(*), sum(length)",
            "hex(line), offset"])
        agg = cols.startswith("count")
        w = where(f)
        order, limit, ordered = "", "", False
        if not agg:
            r = rng.random()
            if r < 0.25:
                order, ordered = " ORDER BY rowid", True
            elif r < 0.4:
                order, ordered = " ORDER BY rowid DESC", True
            elif r < 0.5:
                order, ordered = " ORDER BY line, rowid", True
            elif r < 0.58:
                order = " ORDER BY line"
            if ordered and rng.random() < 0.4:
                limit = " LIMIT %d" % rng.choice([-1, 0, 1, 2, 5, 100])
                if rng.random() < 0.5:
                    limit += " OFFSET %d" % rng.choice([-3, 0, 1, 2, 7])
        sql = "SELECT %s FROM {T}%s%s%s" % (cols, w, order, limit)
        return sql, ordered

    def compare(f, sql, ordered):
        T = mb_table(f)
        msql = sql.replace("{T}", T)
        nsql = sql.replace("{T}", "n_" + f.vtab)
        try:
            want = nat.execute(nsql).fetchall()
        except sqlite3.Error as e:
            # The SQL itself is wrong for SQLite: both must refuse it.
            try:
                mb.execute(msql).fetchall()
                o.error(msql, "native refused (%s), membase answered" % e)
            except sqlite3.Error:
                o.checks += 1
            return
        try:
            got = mb.execute(msql).fetchall()
        except sqlite3.Error as e:
            o.error(msql + "   [file %s]" % f.path, e)
            return
        o.rows(msql, got, want, ordered=ordered)

    def change(f):
        kind = rng.choice(KINDS)
        seed = rng.randrange(1 << 30)
        if rng.random() < 0.3:
            subprocess.run([sys.executable, "-c", MUTATOR, f.path, kind, str(seed),
                            f.delim.hex()], check=True)
        else:
            mutate_here(f.path, kind, seed, f.delim)
        load(f)
        # the whole file, in order: the model itself
        T = mb_table(f)
        try:
            got = mb.execute("SELECT rowid, CAST(line AS BLOB), offset, length FROM %s" % T).fetchall()
            o.rows("whole file after %s: %s" % (kind, T), got, f.lines, ordered=True)
        except sqlite3.Error as e:
            o.error("whole file after %s: %s" % (kind, T), e)

    nq = 0
    while nq < args.queries:
        f = rng.choice(files)
        if rng.random() < 0.08:
            change(f)
        # seeks right after a change are where a stale index shows
        for _ in range(rng.choice([1, 1, 2, 4])):
            sql, ordered = query(f)
            compare(f, sql, ordered)
            nq += 1
        if rng.random() < 0.002:
            for g in files:   # start over with new content
                with open(g.path, "wb") as fh:
                    fh.write(random_text(rng, g.delim))
                load(g)
    mb.close()
    nat.close()
    o.finish()


if __name__ == "__main__":
    main()
