#!/usr/bin/python3
"""tests/scripts/plot_selftest.py -- bench/plot.py draws the numbers the
results files hold, and refuses the ones it cannot read (ctest: docs.plots).

    /usr/bin/python3 tests/scripts/plot_selftest.py [SOURCE_DIR] [TMPDIR]

1. Every figure plot.py parses (--dump) is found again, by a plain
   whitespace split with no regular expression, on the line it names.
2. The drawn SVGs carry those numbers: every MemBase and peer time and
   every ratio of the record table, and every ratio of the lines table.
3. Two drawings of the same results are byte-identical.
4. Planted faults each make plot.py exit 1 naming the file and line:
   a changed unit, a time that no longer gives the printed ratio, a median
   that is not the median of its reps, a renamed header, a broken table
   row, a missing results file.
   In latest-analytics.txt: a MISMATCH row, an unknown system, and a
   ratio row whose times are not the times table's.
5. latest-duckdb.txt is optional: absent, no bench-duckdb.svg; present
   (in the record table's format), it is drawn.
Exits 0 when all hold, 1 naming what failed, 2 when matplotlib is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
base_tmp = sys.argv[2] if len(sys.argv) > 2 else None
plot = os.path.join(root, "bench", "plot.py")
results = os.path.join(root, "bench", "results")
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def run(rdir, *args):
    p = subprocess.run([sys.executable, plot, "--results", rdir, *args],
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def copy_results(tmp, name):
    d = os.path.join(tmp, name)
    shutil.copytree(results, d)
    return d


def tokens(line):
    """The numbers of a line, read without a regular expression: split on
    white space and '|', strip brackets and the units glued to numbers."""
    out = set()
    for t in line.replace("|", " ").split():
        t = t.strip("(),")
        for suffix in ("x", "s", "%", ""):
            if suffix and t.endswith(suffix):
                t2 = t[: -len(suffix)]
            elif not suffix:
                t2 = t
            else:
                continue
            try:
                float(t2)
                out.add(t2)
            except ValueError:
                pass
    return out


def numbers_of(row):
    """The numeric strings of a parsed row ("250.2 ms" gives "250.2")."""
    out = []
    for k, v in row.items():
        if k == "line" or not isinstance(v, str):
            continue
        for w in v.split():
            try:
                float(w)
                out.append(w)
            except ValueError:
                pass
    return out


def rows_of(data):
    if isinstance(data, list):
        return data
    return [r for v in data.values() for r in v]


def plant(tmp, name, file, old, new, expect_in_err, count=1):
    """Replace old by new in a copy of file; plot.py must exit 1 and name
    file:LINE, LINE being where old was (found here by a plain search)."""
    d = copy_results(tmp, name)
    path = os.path.join(d, file)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    where = [i for i, line in enumerate(lines) if old in line]
    if len(where) < 1:
        check(False, f"{name}: the text to plant into ({old!r}) is not in {file}")
        return
    i = where[0]
    lines[i] = lines[i].replace(old, new, count)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    rc, _, err = run(d, "--dump")
    want = f"{path}:{i + 1}:" if expect_in_err is None else expect_in_err.replace("FILE", path)
    check(rc == 1 and want in err, f"{name}: exit 1 naming {want!r} (got {rc}: {err.strip()!r})")


def plant_analytics(tmp):
    """The analytics table's own faults, planted into the lines found by a
    plain search of the committed file (its figures change with each run)."""
    with open(os.path.join(results, "latest-analytics.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    duck = next((ln for ln in lines if ln.startswith("sum ") and "DuckDB, 1 thread " in ln
                 and ln.rstrip().endswith(" ok")), None)
    if duck is None:
        check(False, "latest-analytics.txt: no timed DuckDB, 1 thread row for sum to plant into")
        return
    head, tail = duck.split(" ms ", 1)
    cut = head.rsplit(" ", 1)[0]
    plant(tmp, "analytics-mismatch", "latest-analytics.txt", duck,
          cut + " MISMATCH " + " " * (len(head) - len(cut) - 9) + "-  MISMATCH: 1.0, expected 2.0", None)
    plant(tmp, "analytics-system", "latest-analytics.txt", duck,
          duck.replace("DuckDB, 1 thread ", "DuckDB, 3 threads"), None)
    ratio = next((ln for ln in lines if ln.startswith("sum: ") and " ms " in ln), None)
    if ratio is None:
        check(False, "latest-analytics.txt: no ratio row for sum to plant into")
        return
    # both times ten times larger: the ratio still follows, the times table
    # no longer has them
    words = ratio.split()
    at = [i for i, w in enumerate(words) if w == "ms"]
    new = ratio
    for i in at:
        t = words[i - 1]
        dec = len(t.split(".")[1]) if "." in t else 0
        new = new.replace(t + " ms", f"{float(t) * 10:.{dec}f} ms", 1)
    plant(tmp, "analytics-ratio-time", "latest-analytics.txt", ratio, new, None)


def main():
    tmp = tempfile.mkdtemp(prefix="plot_selftest.", dir=base_tmp)
    try:
        # 1. parsed figures against a regex-free reading of their lines
        rc, out, err = run(results, "--dump")
        check(rc == 0, f"the committed results parse (exit {rc}: {err.strip()})")
        if rc != 0:
            return
        dump = json.loads(out)
        for name in ("latest-sql_records.txt", "latest-sql_lines.txt", "latest-speedtest1.txt",
                     "latest-vfs_lookup.txt", "latest-vfs_threads.txt", "latest-core.txt",
                     "latest-memory.txt", "latest-analytics.txt"):
            check(name in dump, f"{name} is parsed")
        nfig = 0
        for name, entry in dump.items():
            with open(os.path.join(results, name), encoding="utf-8") as f:
                lines = f.read().split("\n")
            bad = []
            for row in rows_of(entry["data"]):
                have = tokens(lines[row["line"] - 1])
                for n in numbers_of(row):
                    nfig += 1
                    if n not in have:
                        bad.append(f"{name}:{row['line']}: {n}")
            check(not bad, f"{name}: every parsed figure is on the line it names" +
                  (f" (not: {bad[:3]})" if bad else ""))
        check(nfig > 150, f"{nfig} figures parsed in all")

        try:
            import matplotlib  # noqa: F401  (only whether it is there)
        except ImportError:
            print("plot_selftest: matplotlib is missing; run as root:\n"
                  "  apt-get update && apt-get install -y python3-matplotlib", file=sys.stderr)
            sys.exit(2)

        # 2. the numbers reach the SVG (text is kept as text)
        out1, out2 = os.path.join(tmp, "svg1"), os.path.join(tmp, "svg2")
        rc, _, err = run(results, "--out", out1)
        check(rc == 0, f"the committed results are drawn (exit {rc}: {err.strip()})")
        with open(os.path.join(out1, "bench-records.svg"), encoding="utf-8") as f:
            svg = f.read()
        missing = [s for r in dump["latest-sql_records.txt"]["data"]
                   for s in (r["membase_ms"] + " ms", r["peer_ms"] + " ms", r["ratio"] + "x")
                   if s not in svg]
        check(not missing, "bench-records.svg shows every time and ratio of the record table"
              + (f" (not: {missing})" if missing else ""))
        with open(os.path.join(out1, "bench-lines.svg"), encoding="utf-8") as f:
            svg = f.read()
        missing = [f"{r[k]}x" for r in dump["latest-sql_lines.txt"]["data"]
                   for k in ("x_base", "x_native") if r[k] and f"{r[k]}x" not in svg]
        check(not missing, "bench-lines.svg shows every ratio of the lines table"
              + (f" (not: {missing})" if missing else ""))
        check("<dc:date" not in svg and "Matplotlib v" not in svg,
              "no date or creator in the SVG")

        # 3. deterministic
        run(results, "--out", out2)
        names = sorted(os.listdir(out1))
        same = names == sorted(os.listdir(out2)) and all(
            open(os.path.join(out1, n), "rb").read() == open(os.path.join(out2, n), "rb").read()
            for n in names)
        check(same and len(names) >= 7, f"two drawings are byte-identical ({len(names)} SVGs)")
        check("bench-duckdb.svg" not in names, "no latest-duckdb.txt: no bench-duckdb.svg")

        # 4. planted faults
        plant(tmp, "unit", "latest-sql_records.txt", "1336.2 ms", "1336.2 sec", None)
        plant(tmp, "ratio", "latest-sql_records.txt", "7345.4 ms", "9345.4 ms", None)
        plant(tmp, "lines-ratio", "latest-sql_lines.txt", "1515.9 ms     0.12x", "1515.9 ms     0.21x", None)
        plant(tmp, "median", "latest-speedtest1.txt", "1.662 1.599 1.616", "1.662 1.699 1.716", None)
        plant(tmp, "header", "latest-sql_lines.txt", "x native", "x nativ", None)
        plant(tmp, "threads-row", "latest-vfs_threads.txt", "membase WAL          membase          wal",
              "membase WAL          membase          wall", None)
        plant(tmp, "memory-row", "latest-memory.txt", "|       19179 (  60815) |", "|       19179 (  60815)  ",
              None)
        plant(tmp, "core-ratio", "latest-core.txt", "62.32x", "26.32x", None)
        plant(tmp, "lookup-ratio", "latest-vfs_lookup.txt", "5.09x", "5.90x", None)
        plant_analytics(tmp)
        d = copy_results(tmp, "absent")
        os.remove(os.path.join(d, "latest-core.txt"))
        rc, _, err = run(d, "--dump")
        want = os.path.join(d, "latest-core.txt")
        check(rc == 1 and want in err, f"absent file: exit 1 naming {want!r} (got {rc}: {err.strip()!r})")

        # 5. the optional DuckDB figure
        d = copy_results(tmp, "duckdb")
        shutil.copy(os.path.join(d, "latest-sql_records.txt"), os.path.join(d, "latest-duckdb.txt"))
        out3 = os.path.join(tmp, "svg3")
        rc, _, err = run(d, "--out", out3)
        check(rc == 0 and os.path.exists(os.path.join(out3, "bench-duckdb.svg")),
              f"latest-duckdb.txt present: bench-duckdb.svg drawn (exit {rc}: {err.strip()})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
if failures:
    print(f"plot_selftest: {len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("plot_selftest: all checks passed")
