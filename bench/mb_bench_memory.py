#!/usr/bin/python3
"""mb_bench_memory.py -- scan resistance under a memory limit (one mode per process).

Driven by bench/mb_bench_memory.sh, which creates the memory cgroup, drops the
page cache before each mode and runs this script inside the cgroup:

  mb_bench_memory.py generate --dir D --scale S
      write D/hot.db (~400 MB * S), D/app.log and D/ticks.bin (4 GiB * S each),
      once; files that exist with the right size are kept.
  mb_bench_memory.py run --mode off|auto|ref --dir D --module M --cgroup CG
      [--hot-seconds N]
      1. warm the database, N seconds of random point lookups
      2. scan the log (LIKE '%ERROR%') and the record file (sum of price):
         membase_lines + membase_aggregate with dropbehind=MODE, or for
         mode ref: `grep -c ERROR` and numpy's sum over np.memmap
      3. N seconds of lookups again
      4. page cache still held by the scanned files (mincore), the cgroup's
         memory charge
      prints one JSON object on stdout.
"""
import argparse
import ctypes
import ctypes.util
import json
import mmap
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time

GIB = 1 << 30
DB_ROWS_FULL = 380_000          # rows of ~1000 B: ~400 MB at scale 1
BLOB = 1000
REC_DTYPE = [("ts", "<i8"), ("price", "<f8")]

# --------------------------------------------------------------- generation


def _sizes(scale):
    return int(DB_ROWS_FULL * scale), int(4 * GIB * scale) // 16 * 16


def _gen_db(path, rows):
    if os.path.exists(path):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            n = c.execute("SELECT count(*) FROM t").fetchone()[0]
            c.close()
            if n == rows:
                return
        except sqlite3.Error:
            pass
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    c = sqlite3.connect(tmp)
    c.executescript("PRAGMA page_size=4096; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                    "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB);")
    c.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<?) "
              "INSERT INTO t SELECT x, randomblob(?) FROM c", (rows, BLOB))
    c.commit()
    c.close()
    os.rename(tmp, path)


def _log_block():
    """~16 MiB of log lines, 1 in 1000 an ERROR line; returns (bytes, errors)."""
    rnd = random.Random(42)
    levels = ["INFO ", "INFO ", "INFO ", "DEBUG", "WARN "]
    paths = ["/api/v1/items", "/api/v1/users", "/health", "/api/v2/orders", "/static/app.js"]
    out = []
    size = 0
    errors = 0
    i = 0
    while size < 16 * (1 << 20):
        ts = "2024-05-%02dT%02d:%02d:%02d.%03dZ" % (1 + i // 4_000_000 % 28, i // 360000 % 24,
                                                   i // 6000 % 60, i // 100 % 60, i % 1000)
        if i % 1000 == 999:
            line = ("%s ERROR [worker-%d] request id=%016x path=%s/%d failed: "
                    "upstream timeout after %d ms\n" % (
                        ts, rnd.randrange(64), rnd.getrandbits(64), rnd.choice(paths),
                        rnd.randrange(100000), rnd.randrange(1000, 30000)))
            errors += 1
        else:
            line = ("%s %s [worker-%d] request id=%016x path=%s/%d status=%d dur_ms=%d "
                    "bytes=%d\n" % (ts, rnd.choice(levels), rnd.randrange(64), rnd.getrandbits(64),
                                    rnd.choice(paths), rnd.randrange(100000),
                                    rnd.choice((200, 200, 200, 204, 301, 404)),
                                    rnd.randrange(1, 900), rnd.randrange(100, 90000)))
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode(), errors


def _gen_log(path, size):
    meta = path + ".errors"
    if os.path.exists(path) and os.path.exists(meta) and os.path.getsize(path) >= size - (1 << 20):
        return
    block, berr = _log_block()
    tmp = path + ".tmp"
    total = 0
    errors = 0
    with open(tmp, "wb", buffering=0) as f:
        while total + len(block) <= size:
            f.write(block)
            total += len(block)
            errors += berr
        rest = size - total
        cut = block.rfind(b"\n", 0, rest) + 1
        f.write(block[:cut])
        total += cut
        errors += block[:cut].count(b"ERROR")
    os.rename(tmp, path)
    with open(meta, "w") as f:
        f.write("%d\n" % errors)


def _gen_rec(path, size):
    import numpy as np
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    n = size // 16
    tmp = path + ".tmp"
    rng = np.random.default_rng(7)
    step = 8 << 20
    with open(tmp, "wb") as f:
        for lo in range(0, n, step):
            m = min(step, n - lo)
            a = np.empty(m, dtype=REC_DTYPE)
            a["ts"] = np.arange(lo, lo + m, dtype=np.int64) * 1000 + 1_700_000_000_000
            a["price"] = rng.random(m) * 100.0
            a.tofile(f)
    os.rename(tmp, path)


def generate(args):
    os.makedirs(args.dir, exist_ok=True)
    rows, fsize = _sizes(args.scale)
    t0 = time.time()
    _gen_db(os.path.join(args.dir, "hot.db"), rows)
    _gen_log(os.path.join(args.dir, "app.log"), fsize)
    _gen_rec(os.path.join(args.dir, "ticks.bin"), fsize)
    os.sync()
    print("generated in %.1f s" % (time.time() - t0), file=sys.stderr)

# --------------------------------------------------------------- measurement


_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]


def resident_bytes(path):
    """Bytes of PATH in the page cache now (mincore over a fresh PROT_READ map:
    mapping does not touch the pages)."""
    size = os.path.getsize(path)
    if size == 0:
        return 0
    page = mmap.PAGESIZE
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap")
        try:
            npages = (size + page - 1) // page
            vec = ctypes.create_string_buffer(npages)
            if _libc.mincore(ctypes.c_void_p(addr), size, vec) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
            raw = vec.raw
            return min(size, (npages - raw[:npages].translate(_TR).count(b"\x00")) * page)
        finally:
            _libc.munmap(ctypes.c_void_p(addr), size)
    finally:
        os.close(fd)


_TR = bytes([(b & 1) for b in range(256)])


def cgroup_read(cg):
    """The cgroup's memory charge now and its peak, and its page cache."""
    out = {}
    if not cg:
        return out

    def rd(name):
        try:
            with open(os.path.join(cg, name)) as f:
                return f.read()
        except OSError:
            return None
    if os.path.exists(os.path.join(cg, "memory.usage_in_bytes")):
        out["usage"] = int(rd("memory.usage_in_bytes"))
        out["peak"] = int(rd("memory.max_usage_in_bytes"))
        out["failcnt"] = int(rd("memory.failcnt"))
        stat = rd("memory.stat") or ""
        kv = dict(l.split() for l in stat.splitlines() if len(l.split()) == 2)
        out["cache"] = int(kv.get("cache", 0))
        out["active_file"] = int(kv.get("active_file", 0))
        out["inactive_file"] = int(kv.get("inactive_file", 0))
    else:
        out["usage"] = int(rd("memory.current"))
        p = rd("memory.peak")
        out["peak"] = int(p) if p else None
        stat = rd("memory.stat") or ""
        kv = dict(l.split() for l in stat.splitlines() if len(l.split()) == 2)
        out["cache"] = int(kv.get("file", 0))
        out["active_file"] = int(kv.get("active_file", 0))
        out["inactive_file"] = int(kv.get("inactive_file", 0))
    return out


def majflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_majflt


def minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def hot_phase(db, rows, seconds, seed):
    """Random point lookups for `seconds`: the rate is the median of 0.25 s
    slices (robust to a moment of CPU taken by another process on a small
    machine); also the mean, lookups per CPU second, and the faults."""
    rnd = random.Random(seed)
    keys = [rnd.randrange(1, rows + 1) for _ in range(200_000)]
    q = "SELECT v FROM t WHERE k=?"
    cur = db.cursor()
    n = 0
    f0 = majflt()
    m0 = minflt()
    c0 = time.process_time()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    nk = len(keys)
    slices = []
    s_n, s_t = 0, t0
    while True:
        for _ in range(200):
            r = cur.execute(q, (keys[n % nk],)).fetchone()
            if r is None:
                raise RuntimeError("lookup missed")
            n += 1
        now = time.perf_counter()
        if now - s_t >= 0.25:
            slices.append((n - s_n) / (now - s_t))
            s_n, s_t = n, now
        if now >= deadline:
            break
    cpu = time.process_time() - c0
    slices.sort()
    return {"lookups_per_s": slices[len(slices) // 2], "mean_per_s": n / (now - t0),
            "per_cpu_s": n / cpu if cpu > 0 else None, "lookups": n,
            "majflt": majflt() - f0, "minflt": minflt() - m0, "cpu_seconds": cpu,
            "seconds": now - t0, "slices": len(slices)}


def run(args):
    d = args.dir
    dbp = os.path.join(d, "hot.db")
    logp = os.path.join(d, "app.log")
    recp = os.path.join(d, "ticks.bin")
    with open(logp + ".errors") as f:
        want_errors = int(f.read())
    res = {"mode": args.mode, "pid": os.getpid()}
    with open("/proc/self/cgroup") as f:
        res["in_cgroup"] = [l.strip() for l in f if "memory" in l or l.startswith("0::")]

    mem = sqlite3.connect(":memory:")
    mem.enable_load_extension(True)
    mem.load_extension(args.module)
    mem.enable_load_extension(False)
    dbmode = "off" if args.mode == "ref" else args.mode
    res["default"] = mem.execute("SELECT membase_dropbehind_default(?)", (dbmode,)).fetchone()[0]
    res["membase_memory"] = json.loads(mem.execute("SELECT membase_memory()").fetchone()[0])

    # The database: the membase VFS in every mode (ref too, with drop-behind
    # off), so the hot phase is the same and only the scanner differs.
    db = sqlite3.connect("file:%s?vfs=membase&mode=ro&membase_dropbehind=%s" % (dbp, dbmode),
                         uri=True)
    rows = db.execute("SELECT max(k) FROM t").fetchone()[0]
    t0 = time.perf_counter()
    f0 = majflt()
    db.execute("SELECT sum(length(v)) FROM t").fetchone()
    res["warm"] = {"seconds": time.perf_counter() - t0, "majflt": majflt() - f0,
                   "db_resident": resident_bytes(dbp)}
    res["db_size"] = os.path.getsize(dbp)
    res["hot_before"] = hot_phase(db, rows, args.hot_seconds, 1)
    res["hot_before"]["db_resident"] = resident_bytes(dbp)
    res["cg_before_scan"] = cgroup_read(args.cgroup)

    scans = {}
    if args.mode in ("off", "auto"):
        mem.execute("CREATE VIRTUAL TABLE logs USING membase_lines(file='%s', dropbehind=%s)"
                    % (logp, args.mode))
        t0 = time.perf_counter()
        n = mem.execute("SELECT count(*) FROM logs WHERE line LIKE '%ERROR%'").fetchone()[0]
        dt = time.perf_counter() - t0
        scans["log"] = {"how": "membase_lines LIKE '%ERROR%'", "seconds": dt, "result": n,
                        "gbps": os.path.getsize(logp) / dt / 1e9}
        mem.execute("CREATE VIRTUAL TABLE rec USING membase(file='%s', layout='ts i64, price f64', "
                    "dropbehind=%s)" % (recp, args.mode))
        t0 = time.perf_counter()
        s = mem.execute("SELECT sum FROM membase_aggregate('rec','price')").fetchone()[0]
        dt = time.perf_counter() - t0
        scans["rec"] = {"how": "membase_aggregate sum(price)", "seconds": dt, "result": s,
                        "gbps": os.path.getsize(recp) / dt / 1e9}
    else:
        import numpy as np
        t0 = time.perf_counter()
        p = subprocess.run(["grep", "-c", "ERROR", logp], stdout=subprocess.PIPE, check=False)
        dt = time.perf_counter() - t0
        scans["log"] = {"how": "grep -c ERROR", "seconds": dt, "result": int(p.stdout),
                        "gbps": os.path.getsize(logp) / dt / 1e9}
        t0 = time.perf_counter()
        a = np.memmap(recp, dtype=REC_DTYPE, mode="r")
        s = float(a["price"].sum())
        del a
        dt = time.perf_counter() - t0
        scans["rec"] = {"how": "numpy memmap ['price'].sum()", "seconds": dt, "result": s,
                        "gbps": os.path.getsize(recp) / dt / 1e9}
    if scans["log"]["result"] != want_errors:
        raise RuntimeError("log scan counted %d ERROR lines, expected %d"
                           % (scans["log"]["result"], want_errors))
    res["scans"] = scans
    res["cg_after_scan"] = cgroup_read(args.cgroup)
    res["after_scan_resident"] = {"log": resident_bytes(logp), "rec": resident_bytes(recp),
                                  "db": resident_bytes(dbp)}

    res["hot_after"] = hot_phase(db, rows, args.hot_seconds, 2)
    res["hot_after"]["db_resident"] = resident_bytes(dbp)

    # After: the page cache the scanned files still hold.
    if args.mode in ("off", "auto"):
        st = {}
        for path, resident, dropped in mem.execute(
                "SELECT path, resident, dropped_behind FROM membase_stats"):
            st[os.path.basename(path)] = {"resident": resident, "dropped_behind": dropped}
        res["membase_stats"] = st
    res["after"] = {"log": resident_bytes(logp), "rec": resident_bytes(recp),
                    "db": resident_bytes(dbp),
                    "log_size": os.path.getsize(logp), "rec_size": os.path.getsize(recp)}
    res["cg_end"] = cgroup_read(args.cgroup)
    db.close()
    mem.close()
    print(json.dumps(res))


def _mib(b):
    return "-" if b is None else "%.0f" % (b / (1 << 20))


def report(args):
    rows = {}
    with open(args.results) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                rows[r["mode"]] = r
    any_r = next(iter(rows.values()))
    a = any_r["after"]
    scanned = a["log_size"] + a["rec_size"]
    print("files: database %.0f MB, log %.2f GiB, records %.2f GiB (16-byte records "
          "'ts i64, price f64'); lookup phases %.0f s each"
          % (any_r["db_size"] / 1e6, a["log_size"] / GIB, a["rec_size"] / GIB,
             any_r["hot_before"]["seconds"]))
    print("database on the membase VFS in every row (dropbehind as the row; ref: off); "
          "page cache dropped before each row")
    print()
    hdr = ("%-22s | %21s | %8s | %8s | %21s | %6s | %17s | %15s | %15s"
           % ("mode", "hot before /s (majflt)", "log GB/s", "rec GB/s",
              "hot after /s (majflt)", "after/", "db cached MiB", "scanned files", "cgroup MiB"))
    hdr2 = ("%-22s | %21s | %8s | %8s | %21s | %6s | %17s | %15s | %15s"
            % ("", "", "", "", "", "before", "after scan / end", "cached after", "after scan/peak"))
    print(hdr)
    print(hdr2)
    print("-" * len(hdr))
    names = {"off": "membase dropbehind=off", "auto": "membase dropbehind=auto",
             "ref": "grep -c + numpy memmap"}
    for m in ("off", "auto", "ref"):
        r = rows.get(m)
        if not r:
            continue
        hb, ha = r["hot_before"], r["hot_after"]
        cached = r["after"]["log"] + r["after"]["rec"]
        print("%-22s | %11.0f (%7d) | %8.2f | %8.2f | %11.0f (%7d) | %5.2fx | %7s / %7s | %5.1f%% %6s MiB | %6s / %6s"
              % (names[m], hb["lookups_per_s"], hb["majflt"], r["scans"]["log"]["gbps"],
                 r["scans"]["rec"]["gbps"], ha["lookups_per_s"], ha["majflt"],
                 ha["lookups_per_s"] / hb["lookups_per_s"],
                 _mib(r["after_scan_resident"]["db"]), _mib(r["after"]["db"]),
                 100.0 * cached / scanned, _mib(cached),
                 _mib(r["cg_after_scan"].get("usage")), _mib(r["cg_end"].get("peak"))))
    print()
    for m in ("off", "auto", "ref"):
        r = rows.get(m)
        if not r:
            continue
        c = r["cg_after_scan"]
        extra = ""
        if "membase_stats" in r:
            dropped = sum((v.get("dropped_behind") or 0) for k, v in r["membase_stats"].items()
                          if k in ("app.log", "ticks.bin"))
            extra = ", membase_stats: dropped_behind %s MiB, resident %s" % (
                _mib(dropped), ", ".join("%s %s MiB" % (k, _mib(v.get("resident")))
                                         for k, v in sorted(r["membase_stats"].items())))
        print("  %-5s cgroup after scans: usage %s MiB, page cache %s MiB (active %s, inactive %s), "
              "failcnt %s; warm-up read %.1f s%s"
              % (m, _mib(c.get("usage")), _mib(c.get("cache")), _mib(c.get("active_file")),
                 _mib(c.get("inactive_file")), c.get("failcnt", "-"), r["warm"]["seconds"], extra))
    print()
    print("lookups/s above: median of 0.25 s slices; the same ratio by other measures "
          "(mean over the phase / per CPU second), and minor faults before -> after:")
    for m in ("off", "auto", "ref"):
        r = rows.get(m)
        if not r:
            continue
        hb, ha = r["hot_before"], r["hot_after"]
        print("  %-5s mean %.2fx, per CPU second %.2fx, minflt %d -> %d"
              % (m, ha["mean_per_s"] / hb["mean_per_s"], ha["per_cpu_s"] / hb["per_cpu_s"],
                 hb["minflt"], ha["minflt"]))
    print("load on this machine while it ran (/proc/loadavg at the end): %s"
          % open("/proc/loadavg").read().split(" ")[0])
    print()
    print("targets (auto):")

    def line(name, val, ok, fmt):
        print("  %-52s %s  %s" % (name, fmt % val, "met" if ok else "NOT MET"))
    au = rows.get("auto")
    of = rows.get("off")
    if au:
        v = au["hot_after"]["lookups_per_s"] / au["hot_before"]["lookups_per_s"]
        line("post-scan / pre-scan lookups (>= 0.9)", v, v >= 0.9, "%.2fx")
        v = 100.0 * (au["after"]["log"] + au["after"]["rec"]) / scanned
        line("scanned files cached after the scan (<= 10%)", v, v <= 10.0, "%.1f%%")
        if of:
            for k, nm in (("log", "log scan"), ("rec", "record scan")):
                v = au["scans"][k]["gbps"] / of["scans"][k]["gbps"]
                line("%s speed auto / off (>= 0.9)" % nm, v, v >= 0.9, "%.2fx")
    print("for comparison:")
    for m in ("off", "ref"):
        r = rows.get(m)
        if r:
            v = r["hot_after"]["lookups_per_s"] / r["hot_before"]["lookups_per_s"]
            c = 100.0 * (r["after"]["log"] + r["after"]["rec"]) / scanned
            print("  %-5s post/pre lookups %.2fx, scanned files cached after %.1f%%, "
                  "cgroup usage after scans %s MiB" % (m, v, c, _mib(r["cg_after_scan"].get("usage"))))
    if au and of:
        print("  auto / off log scan %.2fx, record scan %.2fx; cgroup usage after scans auto %s MiB "
              "vs off %s MiB" % (au["scans"]["log"]["gbps"] / of["scans"]["log"]["gbps"],
                                 au["scans"]["rec"]["gbps"] / of["scans"]["rec"]["gbps"],
                                 _mib(au["cg_after_scan"].get("usage")),
                                 _mib(of["cg_after_scan"].get("usage"))))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--dir", required=True)
    g.add_argument("--scale", type=float, default=1.0)
    r = sub.add_parser("run")
    r.add_argument("--mode", choices=("off", "auto", "ref"), required=True)
    r.add_argument("--dir", required=True)
    r.add_argument("--module", required=True)
    r.add_argument("--cgroup", default="")
    r.add_argument("--hot-seconds", type=float, default=5.0)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    a = ap.parse_args()
    if a.cmd == "generate":
        generate(a)
    elif a.cmd == "report":
        report(a)
    else:
        run(a)


if __name__ == "__main__":
    main()
