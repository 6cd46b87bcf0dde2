#!/usr/bin/python3
"""bench/plot.py -- the figures of docs/BENCHMARKS.md, drawn from bench/results/.

    /usr/bin/python3 bench/plot.py [--results DIR] [--out DIR] [--dump]

Reads the benchmark outputs bench/results/latest-*.txt and writes one SVG
per benchmark into docs/img/ (bench-*.svg): horizontal bars, MemBase beside
each peer, the ratio the results file prints written beside each group, the
machine line of the file in the title. bench/report.sh runs it (and with
--check compares its output with docs/img/), so the pictures are never
drawn by hand and never go stale.

Every number comes from a table row that must match the row format exactly;
a row that does not, a missing header, or a printed ratio that does not
follow from the printed times (within their rounding) stops the script with
exit 1 and "FILE:LINE: what was wrong": a picture of wrong numbers is worse
than no picture. --dump prints the parsed figures as JSON instead of
drawing (tests/scripts/plot_selftest.py uses it).

latest-analytics.txt (bench/mb_bench_analytics.py) gives bench-analytics.svg:
ms per query per system, grouped bars, log scale; its ratio table is in
the format of latest-sql_records.txt and is checked the same way, and a
MISMATCH row (a system's answer differed from numpy's) stops the script.

Optional: latest-duckdb.txt, if present, is read as a table in the format
of latest-sql_records.txt ("figure membase baseline ratio", ms, ratio =
baseline / membase) and drawn as bench-duckdb.svg.

Output is byte-identical for the same results and the same matplotlib:
fixed svg.hashsalt, no date or creator metadata, text kept as text.
Needs only Debian's python3 and python3-matplotlib.
"""
import argparse
import json
import os
import re
import statistics
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "img"))

COLORS = {"membase": "#1f5fa8", "peer": "#d9822b", "ref": "#a0a0a0"}
# bench-analytics.svg: one colour per system (MemBase blues, DuckDB
# oranges, native SQLite greens, numpy grey).
ANALYTICS_SYSTEMS = {
    "numpy": "#a0a0a0",
    "MemBase SQL": "#8fb3de",
    "MemBase vectorised, 1 thread": "#1f5fa8",
    "MemBase vectorised, 2 threads": "#0b3566",
    "DuckDB, 1 thread": "#f0a35e",
    "DuckDB, 2 threads": "#b35f12",
    "native SQLite": "#93c47d",
    "native SQLite, indexed": "#38761d",
}
COLORS.update({"sys:" + k: v for k, v in ANALYTICS_SYSTEMS.items()})
ROLE_NAMES = {"membase": "MemBase", "peer": "peer", "ref": "reference"}


class Fail(Exception):
    """A results file is not in the format this script reads."""


# --------------------------------------------------------------------------
# Reading: every figure from a row that matches its format exactly.

class Results:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        try:
            with open(path, encoding="utf-8") as f:
                self.lines = f.read().split("\n")
        except OSError as e:
            raise Fail(f"{path}: cannot read: {e.strerror}")

    def fail(self, lineno, msg):
        raise Fail(f"{self.path}:{lineno}: {msg}")

    def find(self, prefix, start=0):
        """Index of the first line at or after start beginning with prefix."""
        for i in range(start, len(self.lines)):
            if self.lines[i].startswith(prefix):
                return i
        raise Fail(f"{self.path}: no line starting with {prefix!r}")

    def header(self, i, words):
        """Line i (0-based) must read `words`, however it is spaced."""
        if " ".join(self.lines[i].split()) != words:
            self.fail(i + 1, f"expected the header {words!r}, found {self.lines[i]!r}")

    def machine(self):
        """The machine line: the line after "machine", or "machine: ...". """
        for i, line in enumerate(self.lines):
            if line.startswith("machine: "):
                return line[len("machine: "):].strip()
            if line == "machine" and i + 1 < len(self.lines) and self.lines[i + 1].strip():
                return self.lines[i + 1].strip()
        raise Fail(f"{self.path}: no machine line")

    def rows(self, first, pattern, what):
        """The rows from line index `first` up to a blank line or a "  (" note;
        each must match `pattern` in full. Returns [(lineno, match)]."""
        out = []
        i = first
        while i < len(self.lines) and self.lines[i].strip() and not self.lines[i].startswith("  ("):
            m = re.fullmatch(pattern, self.lines[i])
            if not m:
                self.fail(i + 1, f"not a {what} row in the expected format: {self.lines[i]!r}")
            out.append((i + 1, m))
            i += 1
        if not out:
            self.fail(first + 1, f"no {what} rows")
        return out


def half_ulp(s):
    """Half a unit of the last printed digit: the rounding of a printed number."""
    return 0.5 * 10 ** -(len(s.split(".")[1]) if "." in s else 0)


def check_ratio(res, lineno, ratio, num, den, what):
    """The printed ratio must follow from the printed num / den, allowing for
    the rounding of all three."""
    n, d, r = float(num), float(den), float(ratio)
    hn, hd, hr = half_ulp(num), half_ulp(den), half_ulp(ratio)
    if d - hd <= 0:
        res.fail(lineno, f"{what}: divisor {den} is not positive")
    lo, hi = (n - hn) / (d + hd), (n + hn) / (d - hd)
    if r + hr < lo - 1e-12 or r - hr > hi + 1e-12:
        res.fail(lineno, f"{what}: ratio {ratio}x does not follow from {num} / {den} "
                         f"(= {n / d:.4f})")


def rows_by_name(res, lineno, rows, baselines):
    """The rows by their name; each baseline row must be there."""
    by = {m["name"]: m for _, m in rows}
    for b in baselines:
        if b not in by:
            res.fail(lineno, f"no {b!r} row to compare with")
    return by


def check_median(res, lineno, figure, reps):
    vals = [float(x) for x in reps.split()]
    if abs(statistics.median(vals) - float(figure)) > half_ulp(figure) + 1e-9:
        res.fail(lineno, f"{figure} is not the median of the reps ({reps.strip()})")


NUM = r"\d+(?:\.\d+)?"


def read_records(res):
    """latest-sql_records.txt (and latest-duckdb.txt): figure, membase ms,
    baseline ms, ratio = baseline / membase, the peer."""
    h = res.find("figure ")
    res.header(h, "figure membase baseline ratio")
    out = []
    for lineno, m in res.rows(h + 1, rf"(?P<name>\S.*?)\s+(?P<mb>{NUM}) ms\s+(?P<base>{NUM}) ms"
                                       rf"\s+(?P<ratio>{NUM})x  vs (?P<peer>\S.*)", "figure"):
        check_ratio(res, lineno, m["ratio"], m["base"], m["mb"], m["name"])
        out.append({"line": lineno, "name": m["name"], "membase_ms": m["mb"],
                    "peer": m["peer"], "peer_ms": m["base"], "ratio": m["ratio"]})
    return out


def read_analytics(res):
    """latest-analytics.txt: the times (query, system, best ms or n/a, timed
    runs, answer) and the ratio table (read as latest-sql_records.txt)."""
    h = res.find("query ")
    res.header(h, "query system time runs answer")
    names = "|".join(re.escape(k) for k in ANALYTICS_SYSTEMS)
    times = []
    for lineno, m in res.rows(h + 1, rf"(?P<q>\S+)\s+(?P<sys>{names})\s+(?:(?P<ms>{NUM}) ms\s+(?P<runs>\d+)"
                                     rf"\s+(?P<ans>reference|ok)|(?P<na>n/a|MISMATCH)\s+-\s+(?P<why>\S.*))",
                              "query"):
        if m["na"] == "MISMATCH":
            res.fail(lineno, f"{m['q']}, {m['sys']}: the answer differed from numpy's: {m['why']}")
        if (m["ans"] == "reference") != (m["sys"] == "numpy"):
            res.fail(lineno, f"{m['q']}: numpy, and only numpy, is the reference")
        times.append({"line": lineno, "query": m["q"], "system": m["sys"], "ms": m["ms"],
                      "runs": m["runs"], "na": m["why"] if m["na"] else None})
    queries = []
    for t in times:
        if t["query"] not in queries:
            queries.append(t["query"])
    for q in queries:
        got = [t["system"] for t in times if t["query"] == q]
        if sorted(got) != sorted(ANALYTICS_SYSTEMS):
            res.fail(times[0]["line"], f"{q}: expected one row per system, found {got}")
    ratios = read_records(res)
    by = {(t["query"], t["system"]): t["ms"] for t in times}
    for r in ratios:
        q = r["name"].split(":")[0]
        if r["peer_ms"] not in (by.get((q, r["peer"])),):
            res.fail(r["line"], f"{r['name']}: {r['peer_ms']} ms is not {r['peer']}'s time for {q}")
        if r["membase_ms"] not in {by.get((q, s)) for s in ANALYTICS_SYSTEMS if s.startswith("MemBase")}:
            res.fail(r["line"], f"{r['name']}: {r['membase_ms']} ms is no MemBase time for {q}")
    return {"times": times, "ratios": ratios}


def read_lines(res):
    """latest-sql_lines.txt: query, membase time, baseline tool + time,
    x base, native table time, x native (ratios = membase / peer)."""
    h = res.find("query ")
    res.header(h, "query membase baseline x base native x native")
    res.header(h + 1, "(lower= table")
    res.header(h + 2, "better)")
    t = rf"(?:{NUM}) (?:ms|us)"
    pat = (rf"(?P<name>\S.*?|  \S.*?)\s+(?P<mb>{t})\s+(?:(?P<tool>\S.*?) (?P<base>{t})|-)"
           rf"\s+(?:(?P<xbase>{NUM})x|-)\s+(?:(?P<nat>{t})|-)\s+(?:(?P<xnat>{NUM})x|-)")
    out = []
    for lineno, m in res.rows(h + 3, pat, "query"):
        for peer, ratio in (("base", "xbase"), ("nat", "xnat")):
            if (m[peer] is None) != (m[ratio] is None):
                res.fail(lineno, f"{m['name'].strip()}: a time without its ratio or a ratio without its time")
            if m[peer] is not None:
                a, ua = m["mb"].split()
                b, ub = m[peer].split()
                if ua != ub:
                    res.fail(lineno, f"{m['name'].strip()}: {m['mb']} and {m[peer]} in different units")
                check_ratio(res, lineno, m[ratio], a, b, m["name"].strip())
        out.append({"line": lineno, "name": m["name"].strip(), "membase": m["mb"],
                    "tool": m["tool"], "baseline": m["base"], "x_base": m["xbase"],
                    "native": m["nat"], "x_native": m["xnat"]})
    return out


def read_speedtest1(res):
    """latest-speedtest1.txt: the two totals tables (--nosync, sync=FULL)."""
    out = {}
    for key, prefix, cols, bases in (
            ("nosync", "totals, --nosync", "configuration arguments total x memdb x unix (each rep)",
             ("memdb", "unix")),
            ("full", "totals, synchronous=FULL", "configuration arguments total x unix x WAL (each rep)",
             ("unix", "unix WAL"))):
        h = res.find(prefix)
        res.header(h + 1, cols)
        rows = res.rows(h + 2, rf"  (?P<name>\S+(?: \S+)*)\s{{2,}}(?:(?P<args>--\S+(?: \S+)*)\s+)?"
                               rf"(?P<total>{NUM})s\s+(?P<x1>{NUM})x\s+(?P<x2>{NUM})x\s+"
                               rf"(?P<reps>{NUM}(?: +{NUM})*)", "configuration")
        totals = {m["name"]: m["total"] for _, m in rows}
        for b in bases:
            if b not in totals:
                res.fail(h + 1, f"no {b!r} row to compare with")
        table = []
        for lineno, m in rows:
            check_median(res, lineno, m["total"], m["reps"])
            check_ratio(res, lineno, m["x1"], m["total"], totals[bases[0]], m["name"])
            check_ratio(res, lineno, m["x2"], m["total"], totals[bases[1]], m["name"])
            table.append({"line": lineno, "name": m["name"], "total_s": m["total"],
                          "x_" + bases[0]: m["x1"], "x_" + bases[1]: m["x2"]})
        out[key] = table
    return out


def read_vfs_lookup(res):
    """latest-vfs_lookup.txt: lookups/s autocommit and in one txn per configuration."""
    h = res.find("configuration ")
    res.header(h, "configuration vfs mmap_size autocommit x unix x u+mmap one txn x unix x u+mmap first scan")
    res.header(h + 1, "lookups/s lookups/s")
    rows = res.rows(h + 2, rf"(?P<name>\S+(?: \S+)*)\s{{2,}}(?P<vfs>\S+)\s+(?P<mmap>\d+)\s+(?P<ac>\d+)"
                           rf"\s+(?P<ac1>{NUM})x\s+(?P<ac2>{NUM})x\s+(?P<tx>\d+)\s+(?P<tx1>{NUM})x"
                           rf"\s+(?P<tx2>{NUM})x\s+(?P<scan>{NUM}) s", "configuration")
    by = rows_by_name(res, h + 1, rows, ("unix", "unix mmap=max"))
    out = []
    for lineno, m in rows:
        for col, base, what in (("ac1", "unix", "ac"), ("ac2", "unix mmap=max", "ac"),
                                ("tx1", "unix", "tx"), ("tx2", "unix mmap=max", "tx")):
            # mb_bench_vfs_lookup before the branch plot printed 1.00x as the
            # unix row's "x u+mmap" (the baseline was read before it was set):
            # that one figure is not checked, and not drawn.
            if m["name"] == "unix" and base == "unix mmap=max" and m[col] == "1.00":
                continue
            check_ratio(res, lineno, m[col], m[what], by[base][what],
                        m["name"] + (" autocommit" if what == "ac" else " one txn"))
        out.append({"line": lineno, "name": m["name"], "vfs": m["vfs"],
                    "autocommit": m["ac"], "autocommit_x_unix": m["ac1"],
                    "one_txn": m["tx"], "one_txn_x_unix": m["tx1"]})
    return out


def read_vfs_threads(res):
    """latest-vfs_threads.txt: ops/s of four threads per configuration."""
    h = res.find("configuration ")
    res.header(h, "configuration vfs journal mmap_size ops/s reads/s writes/s busy x unix x WAL "
                  "(ops/s of the reps, sorted)")
    rows = res.rows(h + 1, rf"(?P<name>\S+(?: \S+)*)\s{{2,}}(?P<vfs>\S+)\s+(?P<journal>delete|wal)"
                           rf"\s+(?P<mmap>\d+)\s+(?P<ops>\d+)\s+(?P<reads>\d+)\s+(?P<writes>\d+)"
                           rf"\s+(?P<busy>\d+)\s+(?P<x1>{NUM})x\s+(?P<x2>{NUM})x\s+(?P<reps>\d+(?: \d+)*)",
                    "configuration")
    by = rows_by_name(res, h + 1, rows, ("unix", "unix WAL"))
    out = []
    for lineno, m in rows:
        check_median(res, lineno, m["ops"], m["reps"])
        check_ratio(res, lineno, m["x1"], m["ops"], by["unix"]["ops"], m["name"])
        check_ratio(res, lineno, m["x2"], m["ops"], by["unix WAL"]["ops"], m["name"])
        out.append({"line": lineno, "name": m["name"], "journal": m["journal"],
                    "ops": m["ops"], "x_unix": m["x1"], "x_wal": m["x2"]})
    return out


def read_core(res):
    """latest-core.txt: the warm table (seq GB/s, rand ns/rd) and the cold table."""
    h = res.find("variant ")
    res.header(h, "variant figure unit spread x base x RAM setup close minflt minflt majflt check")
    res.header(h + 1, "(median) ms ms setup run")
    warm = (rf"(?P<kind>seq |rand) (?P<name>\S.*?)\s+(?P<fig>{NUM})\s+(?P<unit>GB/s|ns/rd)\s+{NUM}%"
            rf"\s+(?P<x>{NUM})x\s+{NUM}x\s+{NUM}\s+{NUM}\s+\d+\s+\d+\s+\d+ ok")
    seq = res.rows(h + 2, warm, "sequential variant")
    rand_h = h + 2 + len(seq)
    if res.lines[rand_h].strip():
        res.fail(rand_h + 1, "expected a blank line between the sequential and random rows")
    rnd = res.rows(rand_h + 1, warm, "random variant")
    c = res.find("variant ", rand_h)
    res.header(c, "variant figure unit spread x base setup close minflt minflt majflt cold PMD check")
    res.header(c + 1, "(median) ms ms setup run resid MiB")
    cold = res.rows(c + 2, rf"(?P<kind>cold) (?P<name>\S.*?)\s+(?P<fig>{NUM})\s+(?P<unit>GB/s)\s+{NUM}%"
                           rf"\s+(?P<x>{NUM})x\s+{NUM}\s+{NUM}\s+\d+\s+\d+\s+\d+\s+{NUM}%\s+(?:\d+|-) ok",
                    "cold variant")
    out = {}
    for key, rows, kind, unit in (("seq", seq, "seq ", "GB/s"), ("rand", rnd, "rand", "ns/rd"),
                                  ("cold", cold, "cold", "GB/s")):
        base = [m for _, m in rows if m["name"].endswith("[baseline]")]
        if len(base) != 1:
            res.fail(rows[0][0], f"expected one [baseline] row among the {key} rows")
        table = []
        for lineno, m in rows:
            if m["kind"] != kind or m["unit"] != unit:
                res.fail(lineno, f"a {m['kind'].strip()} row in {m['unit']} among the {key} rows")
            # x base is "higher is better": rate / base rate, or base time / time.
            if unit == "GB/s":
                check_ratio(res, lineno, m["x"], m["fig"], base[0]["fig"], m["name"])
            else:
                check_ratio(res, lineno, m["x"], base[0]["fig"], m["fig"], m["name"])
            table.append({"line": lineno, "name": m["name"], "figure": m["fig"], "unit": unit,
                          "x_base": m["x"]})
        out[key] = table
    return out


def read_memory(res):
    """latest-memory.txt: per mode, hot lookups/s before and after the scans,
    and the scan speeds."""
    h = res.find("mode ")
    res.header(h, "mode | hot before /s (majflt) | log GB/s | rec GB/s | hot after /s (majflt) | after/ "
                  "| db cached MiB | scanned files | cgroup MiB")
    res.header(h + 1, "| | | | | before | after scan / end | cached after | after scan/peak")
    if not re.fullmatch(r"-+", res.lines[h + 2]):
        res.fail(h + 3, "expected a rule of dashes under the header")
    rows = res.rows(h + 3, rf"(?P<mode>\S.*?) *\| +(?P<before>\d+) \( *(?P<bmaj>\d+)\) \| +(?P<log>{NUM})"
                           rf" \| +(?P<rec>{NUM}) \| +(?P<after>\d+) \( *(?P<amaj>\d+)\) \| +(?P<ratio>{NUM})x"
                           rf" \| +\d+ / +\d+ \| +{NUM}% +\d+ MiB \| +\d+ / +\d+", "mode")
    out = []
    for lineno, m in rows:
        check_ratio(res, lineno, m["ratio"], m["after"], m["before"], m["mode"])
        out.append({"line": lineno, "mode": m["mode"], "before": m["before"],
                    "before_majflt": m["bmaj"], "after": m["after"], "after_majflt": m["amaj"],
                    "ratio": m["ratio"], "log_gbs": m["log"], "rec_gbs": m["rec"]})
    return out


# --------------------------------------------------------------------------
# Drawing.

def setup_matplotlib():
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams.update({
        "svg.hashsalt": "membase-bench",   # fixed ids: same results, same bytes
        "svg.fonttype": "none",            # text stays text (and greppable)
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })
    import matplotlib.pyplot as plt
    return plt


def vfs_role(name):
    """A VFS configuration: membase*, memdb (the in-memory reference) or stock."""
    return "membase" if "membase" in name else "ref" if "memdb" in name else "peer"


def core_role(name):
    """A core variant: read()/pread() (the peers), the RAM buffer, or a mapping."""
    return "peer" if "read()" in name else "ref" if "RAM buffer" in name else "membase"


def draw_panel(ax, groups, unit, title=None, higher_better=False, log=None):
    """groups: [(label, [(series, value(float), text, role)], ratio_text)],
    drawn top to bottom, one bar per series, the ratio right of the group."""
    y, ticks, ticklabels, ratio_at, drawn = 0.0, [], [], [], []
    values = []
    for label, bars, ratio in groups:
        top = y
        for series, value, text, role in bars:
            values.append(value)
            drawn.append((y, value, f"{text}  {series}" if series else text, role))
            y += 1
        ticks.append((top + y - 1) / 2)
        ticklabels.append(label)
        ratio_at.append(((top + y - 1) / 2, ratio))
        y += 0.6
    import math
    lo, hi = min(values), max(values)
    if log is None:
        log = hi / lo > 20
    # the longest bar ends where its label still fits in the axis (~4.3 pt a
    # character at 7.5 pt, an axis ~430 pt wide)
    frac = min(0.85, max(0.45, 1 - (max(len(t) for _, _, t, _ in drawn) * 4.3 + 8) / 430))
    if log:
        left = 10 ** math.floor(math.log10(lo))
        ax.set_xscale("log")
        ax.set_xlim(left, 10 ** (math.log10(left) + (math.log10(hi) - math.log10(left)) / frac))
    else:
        left = 0
        ax.set_xlim(0, hi / frac)
        if hi >= 10000:   # 100,000 reads at a glance; 100000 does not
            from matplotlib.ticker import StrMethodFormatter
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    for yy, value, text, role in drawn:
        light = role.endswith("-light")   # a second bar of the same system
        ax.barh(yy, value - left, left=left, height=0.8, color=COLORS[role.replace("-light", "")],
                alpha=0.5 if light else 1.0)
        ax.text(value * (1.08 if log else 1) + (0 if log else hi * 0.01), yy, text,
                va="center", ha="left", fontsize=7.5)
    for yy, ratio in ratio_at:
        if ratio:
            ax.annotate(ratio, xy=(1.01, yy), xycoords=("axes fraction", "data"), va="center",
                        ha="left", fontsize=8, fontweight="bold")
    ax.set_yticks(ticks)
    ax.set_yticklabels(ticklabels)
    ax.set_ylim(y - 0.6 + 0.1, -0.9)
    ax.set_xlabel(unit + (" (log scale)" if log else "") +
                  ("; higher is better" if higher_better else "; lower is better"))
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, loc="left", fontsize=9, fontweight="bold")
    return y


def figure(plt, panels, title, res, note, names=ROLE_NAMES, log=None):
    """panels: [(groups, unit, subtitle, higher_better)]; height from the bar count."""
    from matplotlib.patches import Patch
    sizes = [sum(len(b) for _, b, _ in g) + 0.6 * len(g) for g, _, _, _ in panels]
    fig = plt.figure(figsize=(9.5, 1.2 + 0.24 * sum(sizes) + 0.75 * len(panels)))
    axes = fig.subplots(len(panels), 1, gridspec_kw={"height_ratios": sizes}, squeeze=False)[:, 0]
    roles = set()
    for ax, (groups, unit, sub, hb) in zip(axes, panels):
        draw_panel(ax, groups, unit, sub, hb, log)
        roles |= {r.replace("-light", "") for _, bars, _ in groups for _, _, _, r in bars}
    fig.suptitle(f"{title}\n{res.machine()}  ({res.name})", x=0.01, ha="left", fontsize=10)
    if names:   # None: the bars' own labels say what each colour is
        handles = [Patch(color=COLORS[r], label=names[r]) for r in ("membase", "peer", "ref") if r in roles]
        fig.legend(handles=handles, loc="upper right", ncol=len(handles), frameon=False, fontsize=8)
    if note:
        fig.text(0.01, 0.005, note, fontsize=7.5, color="#444444", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03 if note else 0, 0.93, 1))
    return fig


def plot_records(plt, res, data, title):
    groups = []
    for r in data:
        groups.append((r["name"], [("MemBase", float(r["membase_ms"]), r["membase_ms"] + " ms", "membase"),
                                   (r["peer"], float(r["peer_ms"]), r["peer_ms"] + " ms", "peer")],
                       r["ratio"] + "x"))
    return figure(plt, [(groups, "ms per run", None, False)], title, res,
                  "ratio (bold) = peer time / MemBase time: above 1x MemBase is faster")


def plot_analytics(plt, res, data):
    groups = []
    for q in dict.fromkeys(t["query"] for t in data["times"]):
        bars = [(t["system"], float(t["ms"]), t["ms"] + " ms", "sys:" + t["system"])
                for t in data["times"] if t["query"] == q and t["ms"]]
        na = [t["system"] for t in data["times"] if t["query"] == q and not t["ms"]]
        vs = [r for r in data["ratios"] if r["name"].startswith(q + ": vectorised vs DuckDB, 1 thread")]
        ratio = f"{vs[0]['ratio']}x\nvs DuckDB\n1 thread" if vs else ""
        groups.append((q + (f"\n({len(na)} n/a)" if na else ""), bars, ratio))
    return figure(plt, [(groups, "ms per query, best run", None, False)],
                  "Analytics on one 32-byte-record .npy file: MemBase vs DuckDB, numpy, native SQLite",
                  res, "ratio (bold) = DuckDB time / MemBase vectorised time, 1 thread each: above 1x "
                  "MemBase is faster; n/a systems are left out (the results file says why)",
                  names=None, log=True)


def plot_lines(plt, res, data):
    scans, lookups = [], []
    for r in data:
        val = lambda t: float(t.split()[0])   # noqa: E731 (one unit per group: checked)
        bars = [("MemBase", val(r["membase"]), r["membase"], "membase")]
        ratios = []
        if r["baseline"]:
            bars.append((r["tool"], val(r["baseline"]), r["baseline"], "peer"))
            ratios.append(f"{r['x_base']}x {r['tool'].split()[0]}")
        if r["native"]:
            bars.append(("native table", val(r["native"]), r["native"], "peer"))
            ratios.append(f"{r['x_native']}x native")
        if len(bars) > 1:
            (lookups if r["membase"].endswith(" us") else scans).append((r["name"], bars, "\n".join(ratios)))
    panels = [(scans, "ms per query", "scans of the whole file", False)]
    if lookups:
        panels.append((lookups, "us per query", "lookups by rowid", False))
    return figure(plt, panels,
                  "membase_lines: a 1 GiB log, MemBase vs wc/grep and a native table", res,
                  "ratio (bold) = MemBase time / peer time: below 1x MemBase is faster; "
                  "rows with no peer are left out")


def plot_speedtest1(plt, res, data):
    panels = []
    for key, sub, base in (("nosync", "--nosync (synchronous=OFF)", "unix"),
                           ("full", "synchronous=FULL (Debian's default)", "unix")):
        groups = [(r["name"], [("", float(r["total_s"]), r["total_s"] + " s", vfs_role(r["name"]))],
                   f"{r['x_' + base]}x unix") for r in data[key]]
        panels.append((groups, "s per speedtest1 run (--size 50)", sub, False))
    return figure(plt, panels, "speedtest1 totals: membase VFS vs stock unix and memdb", res,
                  "ratio (bold) = time / stock unix time: below 1x faster than stock")


def plot_vfs_lookup(plt, res, data):
    panels = []
    for key, sub in (("autocommit", "autocommit"), ("one_txn", "all lookups in one transaction")):
        groups = [(r["name"], [("", float(r[key]), f"{int(r[key]):,}/s", vfs_role(r["name"]))],
                   f"{r[key + '_x_unix']}x unix") for r in data]
        panels.append((groups, "random point lookups per second", sub, True))
    return figure(plt, panels, "Random point lookups, 2.5 GB database: membase VFS vs stock unix", res,
                  "ratio (bold) = lookups/s / stock unix (mmap_size=0): above 1x faster than stock")


def plot_vfs_threads(plt, res, data):
    groups = [(r["name"], [("", float(r["ops"]), f"{int(r['ops']):,}/s", vfs_role(r["name"]))],
               f"{r['x_wal']}x WAL") for r in data]
    return figure(plt, [(groups, "operations per second, 4 threads", None, True)],
                  "Four threads, 90% reads / 10% writes: membase VFS vs stock unix", res,
                  "ratio (bold) = ops/s / stock unix WAL: above 1x faster than stock WAL")


def plot_core(plt, res, data):
    panels = []
    for key, sub, hb in (("seq", "sequential sum of a cached 1 GiB file", True),
                         ("rand", "random 8-byte reads, cached 1 GiB file", False),
                         ("cold", "sequential sum, cold page cache (512 MiB)", True)):
        groups = []
        for r in data[key]:
            name = r["name"].replace(" [baseline]", "")
            groups.append((name, [("", float(r["figure"]), f"{r['figure']} {r['unit']}", core_role(name))],
                           f"{r['x_base']}x"))
        unit = "GB/s" if key != "rand" else "ns per read"
        panels.append((groups, unit, sub, hb))
    return figure(plt, panels, "The mapping core: mapped reads vs read()/pread()", res,
                  "ratio (bold) = x base: speed against read() 4 KiB (warm), read() 64 KiB (cold) "
                  "or pread() (random); higher is better")


def plot_memory(plt, res, data):
    look, scan = [], []
    for r in data:
        rl = "membase" if "auto" in r["mode"] else ("ref" if "grep" in r["mode"] else "peer")
        look.append((r["mode"], [("before the scans", float(r["before"]), f"{int(r['before']):,}/s", rl),
                                 ("after", float(r["after"]),
                                  f"{int(r['after']):,}/s ({r['after_majflt']} major faults)", rl + "-light")],
                     f"{r['ratio']}x after/before"))
        scan.append((r["mode"], [("log scan", float(r["log_gbs"]), r["log_gbs"] + " GB/s", rl),
                                 ("record scan", float(r["rec_gbs"]), r["rec_gbs"] + " GB/s", rl + "-light")],
                     ""))
    return figure(plt, [(look, "hot-set lookups per second", "lookups before and after 8 GiB of scans", True),
                        (scan, "GB/s", "the scans themselves", True)],
                  "Scan resistance in a 1 GiB cgroup: dropbehind=auto vs off vs grep + numpy", res,
                  "ratio (bold) = lookups/s after the scans / before: 1x means the hot set survived; "
                  "pale bars: after the scans, record scan",
                  names=None)


# name, results file, reader, plotter, required
FIGURES = [
    ("bench-records.svg", "latest-sql_records.txt", read_records,
     lambda plt, res, d: plot_records(plt, res, d, "Record tables: MemBase vs native SQLite vs numpy, 10 M records"),
     True),
    ("bench-lines.svg", "latest-sql_lines.txt", read_lines, plot_lines, True),
    ("bench-speedtest1.svg", "latest-speedtest1.txt", read_speedtest1, plot_speedtest1, True),
    ("bench-vfs-lookup.svg", "latest-vfs_lookup.txt", read_vfs_lookup, plot_vfs_lookup, True),
    ("bench-vfs-threads.svg", "latest-vfs_threads.txt", read_vfs_threads, plot_vfs_threads, True),
    ("bench-core.svg", "latest-core.txt", read_core, plot_core, True),
    ("bench-memory.svg", "latest-memory.txt", read_memory, plot_memory, True),
    ("bench-analytics.svg", "latest-analytics.txt", read_analytics, plot_analytics, True),
    ("bench-duckdb.svg", "latest-duckdb.txt", read_records,
     lambda plt, res, d: plot_records(plt, res, d, "MemBase vs DuckDB"), False),
]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=RESULTS, help="folder of latest-*.txt (default bench/results)")
    ap.add_argument("--out", default=OUT, help="folder for the SVGs (default docs/img)")
    ap.add_argument("--dump", action="store_true", help="print the parsed figures as JSON, draw nothing")
    args = ap.parse_args(argv)
    try:
        parsed = []
        for svg, name, reader, plotter, required in FIGURES:
            path = os.path.join(args.results, name)
            if not required and not os.path.exists(path):
                continue
            res = Results(path)
            parsed.append((svg, res, reader(res), plotter))
    except Fail as e:
        print(f"bench/plot.py: {e}", file=sys.stderr)
        return 1
    if args.dump:
        json.dump({res.name: {"machine": res.machine(), "data": d} for _, res, d, _ in parsed},
                  sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    try:
        plt = setup_matplotlib()
    except ImportError:
        print("bench/plot.py: matplotlib is missing; run as root: "
              "apt-get update && apt-get install -y python3-matplotlib", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    for svg, res, data, plotter in parsed:
        fig = plotter(plt, res, data)
        fig.savefig(os.path.join(args.out, svg), format="svg",
                    metadata={"Date": None, "Creator": None})
        plt.close(fig)
    print(f"bench/plot.py: {len(parsed)} figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
