"""file_cycles.py -- no two source files call each other.

    /usr/bin/python3 tests/scripts/file_cycles.py OBJDIR [OBJDIR...]

Reads the symbol tables of the object files under each OBJDIR (nm): a file
that uses a symbol another file defines depends on it. Prints every cycle
between files (a strongly connected set of two or more) and exits 1 if
there is one; exits 0 otherwise. Uses nm, so it
sees calls and data references across files, not static or inline code.
sqlite3_api, the loader's pointer every SQLite-facing file shares
(SQLITE_EXTENSION_INIT3), is not counted.
"""
import os
import subprocess
import sys


def objects(dirs):
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                if f.endswith(".o") or f.endswith(".obj"):
                    yield os.path.join(root, f)


def name_of(path):
    base = os.path.basename(path)
    for ext in (".o", ".obj"):
        if base.endswith(ext):
            base = base[: -len(ext)]
    return base


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip())
        return 2
    defs, uses = {}, {}
    for o in objects(sys.argv[1:]):
        n = name_of(o)
        out = subprocess.run(["nm", o], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "U":
                uses.setdefault(n, set()).add(parts[1])
            elif len(parts) == 3 and parts[1] in "TDBRC" and parts[2] != "sqlite3_api":
                defs[parts[2]] = n
        uses.setdefault(n, set())
    edges = {n: set() for n in uses}
    for n, syms in uses.items():
        for s in syms:
            m = defs.get(s)
            if m and m != n:
                edges[n].add(m)
    # Tarjan's strongly connected components
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    bad = [sorted(c) for c in sccs if len(c) > 1]
    for c in bad:
        print("cycle: " + " <-> ".join(c))
        for a in c:
            for b in sorted(edges[a] & set(c)):
                syms = sorted(s for s in uses[a] if defs.get(s) == b)
                print("  %s -> %s: %s" % (a, b, ", ".join(syms[:6])))
    if bad:
        return 1
    print("no cycles among %d files" % len(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
