"""oracle_common.py -- what every differential suite (tests/oracle/oracle_*.py)
shares: loading the built extension, comparing MemBase's answer with an
independent one, counting checks, and the self-test switch.

A suite is run as

    python3 tests/oracle/oracle_X.py [--seed N] [--queries N] [--selftest]

--selftest sets MB_ORACLE_INJECT: the harness changes one MemBase answer
before it is compared (a value altered, or a row dropped or added), and
the suite must report the mismatch. The run then exits 0 only if the
injected wrong answer was caught, and says at which check.

Environment: MEMBASE_EXT (the built module, required), MEMBASE_TESTDIR
(scratch folder), MB_ORACLE_SCALE (a factor on the quick setting), MB_REPORT_DIR (if set, each run appends its number of checks and of
failures to oracle.tsv, for tests/scripts/hardening_report.sh).
"""
import argparse
import math
import os
import random
import sqlite3
import struct
import sys
import tempfile


def parse_args(name, quick_queries, long_queries):
    ap = argparse.ArgumentParser(prog=name)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=None)
    ap.add_argument("--long", action="store_true",
                    help="the long setting (%d queries)" % long_queries)
    ap.add_argument("--selftest", action="store_true",
                    help="inject a wrong answer; pass only if it is caught")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    if a.queries is None:
        # MB_ORACLE_SCALE shrinks the quick setting (the sanitizer build
        # runs a quarter of it: the same code paths, in CI's time)
        scale = float(os.environ.get("MB_ORACLE_SCALE", "1"))
        a.queries = long_queries if a.long else max(1, int(quick_queries * scale))
    return a


def scratch_dir(name):
    base = os.environ.get("MEMBASE_TESTDIR") or tempfile.gettempdir()
    d = os.path.join(base, "oracle-%s-%d" % (name, os.getpid()))
    os.makedirs(d, exist_ok=True)
    return d


def connect(path=":memory:"):
    ext = os.environ.get("MEMBASE_EXT")
    if not ext:
        sys.exit("oracle: set MEMBASE_EXT to the built module (build/membase.so)")
    db = sqlite3.connect(path, isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(ext)
    return db


def tag(v):
    """A total order over SQLite values that keeps types apart: 1 and 1.0
    are different answers, -0.0 and 0.0 are the same REAL."""
    if v is None:
        return (0, 0)
    if isinstance(v, int):
        return (1, v, 0)
    if isinstance(v, float):
        return (1, v, 1)
    if isinstance(v, str):
        return (2, v)
    return (3, bytes(v))


def row_key(row):
    return tuple(tag(v) for v in row)


def same_value(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def same_rows(got, want, ordered):
    if len(got) != len(want):
        return False
    if not ordered:
        got = sorted(got, key=row_key)
        want = sorted(want, key=row_key)
    for g, w in zip(got, want):
        if len(g) != len(w):
            return False
        if not all(same_value(x, y) for x, y in zip(g, w)):
            return False
    return True


def corrupt(rows):
    """The injected wrong answer: one value changed, or a row added."""
    rows = [tuple(r) for r in rows]
    if not rows:
        return [(12345,)]
    r = list(rows[-1])
    v = r[0]
    if isinstance(v, bool):
        r[0] = not v
    elif v is None:
        r[0] = 1
    elif isinstance(v, (int, float)):
        r[0] = v + 1 if not (isinstance(v, float) and math.isinf(v)) else 0.5
    elif isinstance(v, str):
        r[0] = v + "x"
    else:
        r[0] = bytes(v) + b"x"
    rows[-1] = tuple(r)
    return rows


class Oracle:
    """Counts checks and failures; prints the first failures in full."""

    def __init__(self, name, args):
        self.name = name
        self.args = args
        self.checks = 0
        self.failures = 0
        self.inject = args.selftest or os.environ.get("MB_ORACLE_INJECT") == "1"
        self.injected_at = None
        self.caught_at = None
        self.rng = random.Random(args.seed)

    def _maybe_inject(self, got):
        if self.inject and self.injected_at is None:
            # inject into a check some way in, not always the first
            if self.checks >= 3 or self.rng.random() < 0.2:
                self.injected_at = self.checks
                return corrupt(got)
        return got

    def fail(self, label, detail):
        self.failures += 1
        if self.injected_at is not None and self.caught_at is None:
            self.caught_at = self.checks
        if self.failures <= 10 or self.args.verbose:
            print("MISMATCH %s #%d: %s\n%s" % (self.name, self.checks, label,
                                                detail), file=sys.stderr)

    def rows(self, label, got, want, ordered=False):
        """Compare two result sets (lists of tuples); ordered compares
        row for row, otherwise as multisets."""
        self.checks += 1
        got = self._maybe_inject([tuple(r) for r in got])
        want = [tuple(r) for r in want]
        if not same_rows(got, want, ordered):
            self.fail(label, "  membase: %r\n  oracle:  %r" % (got[:20], want[:20]))
            return False
        return True

    def equal(self, label, got, want):
        """Compare two plain Python values (bytes, numbers, lists)."""
        self.checks += 1
        if self.inject and self.injected_at is None and self.checks >= 3:
            self.injected_at = self.checks
            got = corrupt([(got,)])[0][0] if not isinstance(got, (list, tuple)) \
                else corrupt([tuple(got)])[0]
        if got != want:
            self.fail(label, "  membase: %r\n  oracle:  %r" % (got, want))
            return False
        return True

    def error(self, label, err):
        """MemBase raised where the oracle expected an answer."""
        self.checks += 1
        self.fail(label, "  membase raised: %s" % err)

    def finish(self):
        setting = "long" if self.args.long else "quick"
        rd = os.environ.get("MB_REPORT_DIR")
        if rd and not self.args.selftest:
            os.makedirs(rd, exist_ok=True)
            # metric<TAB>value lines, as tests/scripts/hardening_report.sh reads them
            with open(os.path.join(rd, "oracle.tsv"), "a") as f:
                f.write("checks.%s\t%d\nfailures\t%d\n"
                        % (self.name, self.checks, self.failures))
        if self.args.selftest:
            if self.injected_at is None:
                print("%s selftest: FAILED, nothing was injected (%d checks)"
                      % (self.name, self.checks))
                sys.exit(1)
            if self.caught_at is None:
                print("%s selftest: FAILED, the wrong answer injected at "
                      "check %d was not reported" % (self.name, self.injected_at))
                sys.exit(1)
            print("%s selftest: the wrong answer injected at check %d was "
                  "reported at check %d" % (self.name, self.injected_at,
                                            self.caught_at))
            sys.exit(0)
        print("%s (%s, seed %d): %d checks, %d failures"
              % (self.name, setting, self.args.seed, self.checks, self.failures))
        sys.exit(1 if self.failures else 0)
