"""oracle_truncate.py -- scans of files that another process truncates and
rewrites while they run: the scanning process must survive every round,
every error must be the documented truncation error, and every answer must
be the right one for some state the file was in.

Each round writes a text file (lines, some with ERROR) and a record file
(a i64, b f64; 16-byte records), then starts a scanner: a child Python
process with MemBase loaded that runs, in a loop,
  - count(*) over membase_lines (the in-place search under the fault guard)
  - count(*) WHERE line LIKE '%ERROR%' (the pattern prefilter, windows)
  - count(*), sum(length) (text scan)
  - rowid = K seeks (the line index)
  - SELECT sum(a), count(*) FROM r over CREATE VIRTUAL TABLE r USING
    membase(file=..., layout='a i64, b f64', tail=ignore)
  - SELECT count, sum FROM membase_aggregate('r', 'b')
while this process changes both files underneath:
  - "shrink" rounds truncate them a few times to smaller and smaller sizes
    (mid-line, mid-record, near page ends, to 0). Every answer must then
    be exactly the answer for one of the sizes the file had in the round,
    or the documented truncation error.
  - "rewrite" rounds truncate and write the same bytes back again and
    again. A scan may then see a mix of states, so only the form of each
    answer is checked (a count within bounds) and that every error is a
    documented one.
The scanner runs in a child because a SIGBUS would kill the process that
scans: its exit status must not be a signal. Checks go through
Oracle.equal (an answer against itself when it is in the valid set, else
against a valid one), so --selftest's injected wrong answer is caught.
"""
import json
import os
import random
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_common as oc

NAME = "oracle_truncate"
PER_ROUND = 40

SCANNER = r'''
import json, os, random, sqlite3, sys
ext, text, rec, n, seed, nlines = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rng = random.Random(seed)
db = sqlite3.connect(":memory:", isolation_level=None)
db.enable_load_extension(True)
db.load_extension(ext)
db.execute("CREATE VIRTUAL TABLE r USING membase(file='%s', layout='a i64, b f64', tail=ignore)"
           % rec.replace("'", "''"))
Q = {
    "count": ("SELECT count(*) FROM membase_lines(?)", (text,)),
    "like": ("SELECT count(*) FROM membase_lines(?) WHERE line LIKE '%ERROR%'", (text,)),
    "text": ("SELECT count(*), sum(length) FROM membase_lines(?)", (text,)),
    "rsum": ("SELECT sum(a), count(*) FROM r", ()),
    "agg": ("SELECT count, sum FROM membase_aggregate('r', 'b')", ()),
}
print("ready", flush=True)
for i in range(n):
    k = rng.choice(["count", "count", "count", "like", "text", "seek", "seek", "rsum", "agg"])
    if k == "seek":
        row = rng.randrange(1, nlines + 2)
        sql, args = "SELECT offset, length FROM membase_lines(?) WHERE rowid = ?", (text, row)
    else:
        sql, args = Q[k]
        row = 0
    try:
        res = [list(r) for r in db.execute(sql, args).fetchall()]
        print(json.dumps({"k": k, "row": row, "ok": res}), flush=True)
    except sqlite3.Error as e:
        print(json.dumps({"k": k, "row": row, "err": str(e)}), flush=True)
'''

ERR_LINES = re.compile(r'^membase_lines: ".*" was truncated during the scan$')
# mb_records.c documents "the file was truncated while it was read"; the
# detail in parentheses names the record or the sizes.
ERR_REC = re.compile(r'^membase: .*: the file was truncated while it was read'
                     r'( \((record at byte \d+ is gone|it has \d+ bytes, the query read '
                     r'up to byte \d+)\))?$')
ERR_AGG = re.compile(r'^membase_aggregate: .*: the file was truncated while it was read '
                     r'\(.*\)$')
DOC_ERR = {"count": ERR_LINES, "like": ERR_LINES, "text": ERR_LINES, "seek": ERR_LINES,
           "rsum": ERR_REC, "agg": ERR_AGG}


def split_lines(data):
    out, pos, n = [], 0, len(data)
    while pos < n:
        e = data.find(b"\n", pos)
        stop = n if e < 0 else e
        line = data[pos:stop]
        if line.endswith(b"\r"):
            line = line[:-1]
        out.append((pos, line))
        pos = n if e < 0 else e + 1
    return out


def text_answers(data):
    lines = split_lines(data)
    return {
        "count": [[len(lines)]],
        "like": [[sum(1 for _, l in lines if b"ERROR" in l)]],
        "text": [[len(lines), sum(len(l) for _, l in lines) if lines else None]],
        "lines": lines,
    }


def rec_answers(a, b, k):
    return {
        "rsum": [[sum(a[:k]) if k else None, k]],
        "agg": [[k, float(sum(b[:k])) if k else None]],
    }


def make_text(rng):
    if rng.random() < 0.35:
        # Lines of 16 bytes after a first line of 9 (+ k pages): every
        # search for 512 line ends (the count-only scan) then starts 6
        # bytes before the end of a page, where glibc's memchr loads the
        # aligned block below its range (the SIGBUS of an exact-range
        # guard).
        pool = [b"ERROR ok xxxxx\r", b"ok ok ok ok 123", b"GET /x ERROR 12", b"               "]
        first = b"f" * (9 + 4096 * rng.randrange(0, 3))
        n = rng.choice([20000, 100000, 300000])
        return first + b"\n" + b"".join(rng.choice(pool) + b"\n" for _ in range(n))
    words = [b"ERROR", b"ok", b"GET /x", b"warn", b"timeout", b"", b"x" * 40]
    out = []
    size = rng.choice([64 << 10, 1 << 20, 3 << 20, 6 << 20])
    total = 0
    while total < size:
        line = b" ".join(rng.choice(words) for _ in range(rng.randrange(0, 6)))
        if rng.random() < 0.1:
            line += b"\r"
        out.append(line)
        total += len(line) + 1
    data = b"\n".join(out) + b"\n"
    if rng.random() < 0.3:
        data = data[:-1]
    return data


def flat(rows):
    """An answer as one flat tuple (what Oracle.equal can alter)."""
    vals = tuple(v for r in rows for v in r)
    return vals if vals else ("no rows",)


def main():
    args = oc.parse_args(NAME, 1600, 100000)
    o = oc.Oracle(NAME, args)
    rng = random.Random(args.seed * 104729 + 3)
    d = oc.scratch_dir("truncate")
    ext = os.environ.get("MEMBASE_EXT")
    if not ext:
        sys.exit("oracle: set MEMBASE_EXT to the built module (build/membase.so)")
    text = os.path.join(d, "t.log")
    rec = os.path.join(d, "x.bin")
    rounds = max(1, (args.queries + PER_ROUND - 1) // PER_ROUND)
    stats = {"rounds": 0, "errors": 0, "answers": 0, "signals": 0}
    for rnd in range(rounds):
        data = make_text(rng)
        nrec = rng.choice([1000, 60000, 250000])
        a = [rng.randrange(-1000, 1000) for _ in range(nrec)]
        b = [float(rng.randrange(-50, 50)) for _ in range(nrec)]
        blob = b"".join(struct.pack("<qd", x, y) for x, y in zip(a, b))
        with open(text, "wb") as f:
            f.write(data)
        with open(rec, "wb") as f:
            f.write(blob)
        nlines = len(split_lines(data))
        shrink = rng.random() < 0.7
        child = subprocess.Popen(
            [sys.executable, "-c", SCANNER, ext, text, rec, str(PER_ROUND),
             str(rng.randrange(1 << 30)), str(nlines)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        # Unbuffered: a buffered readline() may take the start of the first
        # answer along with "ready", and communicate() reads the pipe's
        # descriptor directly, so those bytes were lost (a cut first line,
        # seen under load: the harness's bug, not MemBase's).
        child.stdout.readline()   # "ready"
        tsizes, rsizes = [len(data)], [len(blob)]
        deadline = time.time() + 0.6
        while child.poll() is None and time.time() < deadline:
            time.sleep(rng.random() * 0.01)
            if shrink:
                if len(tsizes) >= 6:
                    continue
                t = tsizes[-1]
                r = rsizes[-1]
                if rng.random() < 0.3 and t > 8192:
                    nt = (rng.randrange(t // 2, t) // 4096) * 4096 - rng.randrange(1, 32)
                else:
                    nt = rng.randrange(0, t + 1) if rng.random() < 0.2 else \
                        rng.randrange(t * 3 // 4, t + 1)
                nr = rng.randrange(r * 3 // 4, r + 1) if r else 0
                nt, nr = max(0, min(nt, t)), max(0, min(nr, r))
                os.truncate(text, nt)
                os.truncate(rec, nr)
                tsizes.append(nt)
                rsizes.append(nr)
            else:
                os.truncate(text, rng.randrange(0, len(data) + 1))
                os.truncate(rec, rng.randrange(0, len(blob) + 1))
                time.sleep(rng.random() * 0.003)
                with open(text, "r+b") as f:
                    f.write(data)
                with open(rec, "r+b") as f:
                    f.write(blob)
        out, err = child.communicate()
        stats["rounds"] += 1
        # The scanner survived: no signal (SIGBUS, SIGSEGV).
        if child.returncode < 0:
            stats["signals"] += 1
        o.equal("round %d: scanner exit status (%s)%s" % (
            rnd, "shrink" if shrink else "rewrite",
            "" if child.returncode == 0 else "\n" + err.decode(errors="replace")[-2000:]),
            child.returncode, 0)
        if child.returncode != 0:
            continue
        # The valid answers.
        valid = {}
        if shrink:
            for s in set(tsizes):
                ans = text_answers(data[:s])
                for k in ("count", "like", "text"):
                    valid.setdefault(k, []).append(ans[k])
                valid.setdefault("lines", []).append(ans["lines"])
            for s in set(rsizes):
                ans = rec_answers(a, b, s // 16)
                for k in ("rsum", "agg"):
                    valid.setdefault(k, []).append(ans[k])
        full = text_answers(data)
        for line in out.decode(errors="replace").splitlines():
            try:
                res = json.loads(line)
            except ValueError:
                # the scanner writes one JSON object per line, nothing else
                o.equal("round %d: scanner output line (output %r, stderr %r)"
                        % (rnd, out[-600:], err[-600:]), line, "<a JSON answer>")
                continue
            k, row = res["k"], res["row"]
            label = "round %d (%s) %s%s" % (rnd, "shrink" if shrink else "rewrite", k,
                                            " rowid=%d" % row if row else "")
            if "err" in res:
                stats["errors"] += 1
                msg = res["err"]
                want = msg if DOC_ERR[k].match(msg) else "<the documented truncation error>"
                o.equal(label, msg, want)
                continue
            stats["answers"] += 1
            got = res["ok"]
            if shrink:
                if k == "seek":
                    cands = []
                    for ls in valid["lines"]:
                        cands.append([[ls[row - 1][0], len(ls[row - 1][1])]] if row <= len(ls) else [])
                else:
                    cands = valid[k]
            else:
                # a mix of states: the form only
                if k in ("count", "like", "text"):
                    ok = len(got) == 1 and 0 <= got[0][0] <= full[k][0][0] + 1
                elif k == "seek":
                    ok = len(got) <= 1
                else:
                    ok = len(got) == 1 and 0 <= got[0][1 if k == "rsum" else 0] <= nrec
                cands = [got] if ok else []
            want = got if got in cands else (cands[0] if cands else None)
            o.equal(label, flat(got), flat(want) if want is not None else "<no valid answer>")
    print("%s: %d rounds, %d answers checked, %d documented errors, %d killed by a signal"
          % (NAME, stats["rounds"], stats["answers"], stats["errors"], stats["signals"]))
    o.finish()


if __name__ == "__main__":
    main()
