"""security_policy.py -- the process-wide file policy of docs/SECURITY.md
(section 2, and the policy half of section 3), written from the contract.

    /usr/bin/python3 tests/security_policy.py [--only NAME,...] [--selftest]
                                              [--verbose]

The policy is one per process and only narrows, so every scenario runs in
a fresh child process (this script again, with --child NAME DIR), with the
environment it needs (MEMBASE_ALLOWED_DIRS or not). Each child builds
its files under DIR:

    DIR/in/               the allowed directory of most scenarios
        ok.txt            "inside\\n" (7 bytes)
        sub/deep.txt      "deep\\n"
        multi.txt         "one\\ntwo\\nthree\\n"
        rec.bin           int64 records 1, 2, 3
        arr.npy           structured .npy, field a (int64): 1, 2, 3
    DIR/in2/two.txt       "second\\n", a second allowed directory
    DIR/out/              outside the policy
        secret.txt        "OUTSIDE-SECRET\\n" (15 bytes)
        rec.bin           int64 records 10, 20
        arr.npy           field a: 10, 20

and checks exact results and exact messages (patterns where the contract
gives only a shape). A child prints "ok NAME" or "FAIL NAME: ..." per
check and exits 1 if any check failed.

Scenarios:
  env_inside_outside  MEMBASE_ALLOWED_DIRS: every opener inside OK, outside
                      refused naming path, resolved path, policy and
                      "set by MEMBASE_ALLOWED_DIRS"
  env_two_dirs        two directories in the variable
  env_empty           an empty value means no file access
  env_missing_dir     a directory that does not exist: the load fails naming
                      it, and the process has no file access (fails closed)
  env_not_a_dir       the same with a regular file
  narrowing           membase_allowed_directories(): text results, narrower
                      OK, wider refused and nothing changed, relative and
                      symlinked spellings resolved, bad arguments
  external_access     membase_external_access(0): every opener refused;
                      (1) refused afterwards; the policy cannot come back
  openers             every opener under a policy set by SQL: membase_map,
                      membase_lines (function and CREATE VIRTUAL TABLE),
                      membase_lines_index, record tables (raw, .npy,
                      create=1 outside: refused and not created), a journal
                      that leads outside, a directory symlink that does
  escapes             symlinks in and out, "..", relative paths after
                      chdir, /proc/self/fd/N, hard links (link count rule),
                      a missing file outside refused like a present one
  race                a symlink swapped between an inside and an outside
                      file by another thread while membase_lines and
                      membase_map open it 2000 times each: every open is
                      refused or gives the inside file, never the outside
  registry            a file mapped before the policy was set is refused to
                      SQL afterwards (the registry is checked too)
  schema_tables       tables from a database schema whose file lies outside
                      the policy are refused even with trusted_schema ON
  bind_mounts         (under unshare -m) an allowed directory reached
                      through a bind mount counts as allowed; a mount placed
                      inside an allowed directory is part of it
  vfs_outside         the membase VFS opens a database outside the policy

--selftest shows that the checks catch a wrong outcome: a scenario run
without its policy (so an outside open succeeds) must be reported as
failing, the same scenario with the policy left out of the expectation
must pass, and the race classifier must flag outside content.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

EXT = os.environ.get("MEMBASE_EXT", "")
PY = "/usr/bin/python3"

INSIDE_TXT = "inside\n"
OUTSIDE_TXT = "OUTSIDE-SECRET\n"


# ---------------------------------------------------------------------------
# The child side: checks and helpers.
# ---------------------------------------------------------------------------

class Checker:
    def __init__(self, verbose=False):
        self.nfail = 0
        self.npass = 0
        self.verbose = verbose

    def ok(self, name):
        self.npass += 1
        print("ok %s" % name, flush=True)

    def fail(self, name, why):
        self.nfail += 1
        print("FAIL %s: %s" % (name, why), flush=True)

    def eq(self, name, got, want):
        if got == want:
            self.ok(name)
        else:
            self.fail(name, "expected %r, got %r" % (want, got))

    def true(self, name, cond, why=""):
        if cond:
            self.ok(name)
        else:
            self.fail(name, why or "condition false")

    def value(self, name, fn, want):
        """fn() must return want."""
        try:
            got = fn()
        except Exception as e:  # noqa: BLE001
            self.fail(name, "expected %r, got error %r" % (want, str(e)))
            return
        self.eq(name, got, want)

    def error(self, name, fn, want):
        """fn() must raise an error whose message is want (a str, exact)
        or matches want (a compiled regex, whole message)."""
        try:
            got = fn()
        except Exception as e:  # noqa: BLE001
            msg = str(e)
            if isinstance(want, str):
                if msg == want:
                    self.ok(name)
                else:
                    self.fail(name, "expected error %r, got error %r"
                              % (want, msg))
            else:
                if want.fullmatch(msg):
                    self.ok(name)
                else:
                    self.fail(name, "expected error matching /%s/, got "
                              "error %r" % (want.pattern, msg))
            return
        self.fail(name, "expected an error (%s), got result %r"
                  % (want if isinstance(want, str) else "/" + want.pattern
                     + "/", got))


def connect(path=":memory:", load=True, uri=False):
    import sqlite3
    c = sqlite3.connect(path, isolation_level=None, uri=uri)
    if load:
        c.enable_load_extension(True)
        c.load_extension(EXT)
    return c


def one(c, sql, params=()):
    row = c.execute(sql, params).fetchone()
    return None if row is None else row[0]


def q(s):
    return "'" + s.replace("'", "''") + "'"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


def int64s(*vals):
    import struct
    return struct.pack("<%dq" % len(vals), *vals)


def write_npy(path, vals):
    import numpy as np
    np.save(path, np.array([(v,) for v in vals], dtype=[("a", "<i8")]))


class Tree:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.IN = os.path.join(self.root, "in")
        self.IN2 = os.path.join(self.root, "in2")
        self.OUT = os.path.join(self.root, "out")
        write(os.path.join(self.IN, "ok.txt"), INSIDE_TXT)
        write(os.path.join(self.IN, "sub", "deep.txt"), "deep\n")
        write(os.path.join(self.IN, "multi.txt"), "one\ntwo\nthree\n")
        write(os.path.join(self.IN, "rec.bin"), int64s(1, 2, 3))
        write_npy(os.path.join(self.IN, "arr.npy"), [1, 2, 3])
        write(os.path.join(self.IN2, "two.txt"), "second\n")
        write(os.path.join(self.OUT, "secret.txt"), OUTSIDE_TXT)
        write(os.path.join(self.OUT, "rec.bin"), int64s(10, 20))
        write_npy(os.path.join(self.OUT, "arr.npy"), [10, 20])

    def i(self, *p):
        return os.path.join(self.IN, *p)

    def o(self, *p):
        return os.path.join(self.OUT, *p)


# Message shapes (docs/SECURITY.md, "How a path is checked").
def outside_msg(fn, path, resolved, policy, by):
    return ('%s: "%s" resolves to "%s", outside the allowed directories %s '
            '(set by %s)' % (fn, path, resolved, policy, by))


def off_msg(fn, path, by="membase_external_access(0)"):
    return '%s: "%s": file access is turned off (by %s)' % (fn, path, by)


def off_re(fn, path, by_re):
    return re.compile(re.escape('%s: "%s": file access is turned off (' %
                                (fn, path)) + by_re + r"\)")


def hardlink_msg(fn, path, n, policy, by):
    return ('%s: "%s" has %d hard links; under the allowed directories %s '
            '(set by %s) only files with one name are opened'
            % (fn, path, n, policy, by))


def changed_re(fn, path):
    return re.compile(re.escape('%s: "%s": the file opened is "' % (fn, path))
                      + r'[^"]*' + re.escape('", outside the allowed directories ')
                      + r'.*' + re.escape('; it changed during the open: refused'))


_seq = [0]


def _name(prefix):
    _seq[0] += 1
    return "%s%d" % (prefix, _seq[0])


# The openers: each takes (conn, path) and returns what it read, so that
# inside content can be told from outside content.
def op_map(c, path):
    n = one(c, "SELECT membase_map(?)", (path,))
    try:
        c.execute("SELECT membase_unmap(?)", (path,))
    except Exception:  # noqa: BLE001 -- only cleanup
        pass
    return n


def op_lines(c, path):
    return one(c, "SELECT group_concat(line, '|') FROM membase_lines(?)",
               (path,))


def op_lines_table(c, path):
    t = _name("lt")
    try:
        c.execute("CREATE VIRTUAL TABLE temp.%s USING membase_lines(file=%s)"
                  % (t, q(path)))
        return one(c, "SELECT group_concat(line, '|') FROM temp.%s" % t)
    finally:
        try:
            c.execute("DROP TABLE IF EXISTS temp.%s" % t)
        except Exception:  # noqa: BLE001 -- only cleanup
            pass


def op_lines_index(c, path):
    # build the index through a rowid lookup first (own SQL), then ask it
    r = one(c, "SELECT line FROM membase_lines(?) WHERE rowid = 2", (path,))
    return (r, one(c, "SELECT json_extract(membase_lines_index(?), "
                   "'$.lines')", (path,)))


def op_lines_index_only(c, path):
    return one(c, "SELECT membase_lines_index(?)", (path,))


def op_records(c, path, layout="a i64", extra=""):
    t = _name("rt")
    opts = "file=%s" % q(path)
    if layout:
        opts += ", layout=%s" % q(layout)
    if extra:
        opts += ", " + extra
    try:
        c.execute("CREATE VIRTUAL TABLE temp.%s USING membase(%s)" % (t, opts))
        return one(c, "SELECT sum(a) FROM temp.%s" % t)
    finally:
        try:
            c.execute("DROP TABLE IF EXISTS temp.%s" % t)
        except Exception:  # noqa: BLE001 -- only cleanup
            pass


def op_npy(c, path):
    return op_records(c, path, layout="")


# (label, message prefix, opener, inside file, inside result, outside file)
def openers(t):
    return [
        ("map", "membase_map", op_map, t.i("ok.txt"), 7, t.o("secret.txt")),
        ("lines", "membase_lines", op_lines, t.i("ok.txt"), "inside",
         t.o("secret.txt")),
        ("lines_table", "membase_lines", op_lines_table, t.i("ok.txt"),
         "inside", t.o("secret.txt")),
        ("lines_index", "membase_lines_index", op_lines_index_only,
         t.i("ok.txt"), None, t.o("secret.txt")),
        ("records", "membase", op_records, t.i("rec.bin"), 6,
         t.o("rec.bin")),
        ("npy", "membase", op_npy, t.i("arr.npy"), 6, t.o("arr.npy")),
    ]


# ---------------------------------------------------------------------------
# Scenarios (each runs in its own child process).
# ---------------------------------------------------------------------------

def sc_env_inside_outside(ck, t, c):
    pol = t.IN
    by = "MEMBASE_ALLOWED_DIRS"
    ck.value("policy text", lambda: one(c, "SELECT membase_allowed_directories()"),
             pol)
    ck.value("access on", lambda: one(c, "SELECT membase_external_access()"), 1)
    for label, fn, op, inside, want, outside in openers(t):
        ck.value("inside %s" % label, lambda: op(c, inside), want)
        ck.error("outside %s" % label, lambda: op(c, outside),
                 outside_msg(fn, outside, outside, pol, by))
    # the lines index of an inside file, through own SQL
    ck.value("inside lines_index built", lambda: op_lines_index(
        c, t.i("multi.txt")), ("two", 3))
    # a subdirectory of the allowed directory is inside
    ck.value("subdirectory", lambda: op_lines(c, t.i("sub", "deep.txt")), "deep")
    # a second connection of the process has the same policy
    c2 = connect(load=False)
    ck.error("second connection", lambda: op_map(c2, t.o("secret.txt")),
             outside_msg("membase_map", t.o("secret.txt"), t.o("secret.txt"),
                         pol, by))
    c2.close()


def sc_env_two_dirs(ck, t, c):
    pol = t.IN + ":" + t.IN2
    ck.value("policy text", lambda: one(c, "SELECT membase_allowed_directories()"),
             pol)
    ck.value("first dir", lambda: op_lines(c, t.i("ok.txt")), "inside")
    ck.value("second dir", lambda: op_lines(c, os.path.join(t.IN2, "two.txt")),
             "second")
    ck.error("outside", lambda: op_lines(c, t.o("secret.txt")),
             outside_msg("membase_lines", t.o("secret.txt"), t.o("secret.txt"),
                         pol, "MEMBASE_ALLOWED_DIRS"))


def sc_env_empty(ck, t, c):
    ck.value("policy text", lambda: one(c, "SELECT membase_allowed_directories()"),
             "no file access")
    ck.value("access off", lambda: one(c, "SELECT membase_external_access()"), 0)
    for label, fn, op, inside, want, outside in openers(t):
        for where, p in (("inside", inside), ("outside", outside)):
            ck.error("%s %s" % (where, label), lambda: op(c, p),
                     off_re(fn, p, r".*MEMBASE_ALLOWED_DIRS.*"))
    ck.error("turn on", lambda: one(c, "SELECT membase_external_access(1)"),
             re.compile(r"membase_external_access: .*cannot be turned on "
                        r"again in this process"))


def _fails_closed(ck, t, bad):
    import sqlite3
    c = connect(load=False)
    c.enable_load_extension(True)
    try:
        c.load_extension(EXT)
    except sqlite3.Error as e:
        msg = str(e)
        ck.true("load fails naming the directory", bad in msg,
                "message %r does not name %r" % (msg, bad))
    else:
        ck.fail("load fails naming the directory", "the load succeeded")
    # whatever a later load does, nothing opens
    c2 = connect(load=False)
    c2.enable_load_extension(True)
    try:
        c2.load_extension(EXT)
        loaded = True
    except sqlite3.Error:
        loaded = False
    if loaded:
        ck.value("fails closed: policy", lambda: one(
            c2, "SELECT membase_allowed_directories()"), "no file access")
        for label, fn, op, inside, want, outside in openers(t):
            ck.error("fails closed: %s" % label, lambda: op(c2, inside),
                     re.compile(re.escape('%s: "%s": file access is turned '
                                          'off (' % (fn, inside)) + r".*\)"))
    else:
        ck.ok("fails closed: every later load fails too")


def sc_env_missing_dir(ck, t, c):
    _fails_closed(ck, t, os.path.join(t.root, "nope"))


def sc_env_not_a_dir(ck, t, c):
    _fails_closed(ck, t, t.i("ok.txt"))


def sc_narrowing(ck, t, c):
    sub = t.i("sub")
    ck.value("default", lambda: one(c, "SELECT membase_allowed_directories()"),
             "unrestricted")
    ck.value("access on", lambda: one(c, "SELECT membase_external_access()"), 1)
    ck.value("on while on", lambda: one(c, "SELECT membase_external_access(1)"), 1)
    # bad arguments change nothing
    ck.error("blob", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                 (t.IN.encode(),)),
             "membase_allowed_directories: DIR must be TEXT (a file path), "
             "not BLOB")
    ck.error("nul", lambda: one(
        c, "SELECT membase_allowed_directories(CAST(? AS TEXT))",
        ((t.IN + "\0/x").encode(),)),
        'membase_allowed_directories: DIR contains a NUL byte at offset %d: '
        '"%s"' % (len(t.IN.encode()), t.IN))
    nope = os.path.join(t.root, "nope")
    ck.error("missing", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                    (nope,)),
             'membase_allowed_directories: "%s": cannot resolve: no such file'
             % nope)
    ck.value("unchanged", lambda: one(c, "SELECT membase_allowed_directories()"),
             "unrestricted")
    # two directories, one spelled with "..", one through a symlink
    os.symlink(t.IN2, os.path.join(t.root, "in2link"))
    ck.value("set two", lambda: one(
        c, "SELECT membase_allowed_directories(?, ?)",
        (t.IN + "/sub/..", os.path.join(t.root, "in2link"))),
        t.IN + ":" + t.IN2)
    ck.value("read back", lambda: one(c, "SELECT membase_allowed_directories()"),
             t.IN + ":" + t.IN2)
    # narrower: relative to the working directory at the time of the call
    os.chdir(t.IN)
    ck.value("narrow relative", lambda: one(
        c, "SELECT membase_allowed_directories('sub')"), sub)
    os.chdir(t.root)
    ck.value("inside narrowed", lambda: op_lines(c, t.i("sub", "deep.txt")),
             "deep")
    ck.error("outside narrowed", lambda: op_lines(c, t.i("ok.txt")),
             outside_msg("membase_lines", t.i("ok.txt"), t.i("ok.txt"), sub,
                         "membase_allowed_directories"))
    # wider: refused, changes nothing (also when mixed with a narrower one)
    ck.error("wider", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                  (t.IN,)),
             'membase_allowed_directories: "%s" (resolves to "%s") is outside '
             'the allowed directories %s (set by membase_allowed_directories):'
             ' the policy can only narrow' % (t.IN, t.IN, sub))
    ck.error("wider via ..", lambda: one(
        c, "SELECT membase_allowed_directories(?)", (sub + "/..",)),
        'membase_allowed_directories: "%s/.." (resolves to "%s") is outside '
        'the allowed directories %s (set by membase_allowed_directories): '
        'the policy can only narrow' % (sub, t.IN, sub))
    ck.error("mixed", lambda: one(
        c, "SELECT membase_allowed_directories(?, ?)", (sub, t.IN2)),
        'membase_allowed_directories: "%s" (resolves to "%s") is outside '
        'the allowed directories %s (set by membase_allowed_directories): '
        'the policy can only narrow' % (t.IN2, t.IN2, sub))
    ck.value("still narrowed", lambda: one(
        c, "SELECT membase_allowed_directories()"), sub)
    ck.value("same again", lambda: one(
        c, "SELECT membase_allowed_directories(?)", (sub,)), sub)
    # then off, for good
    ck.value("off", lambda: one(c, "SELECT membase_external_access(0)"), 0)
    ck.value("off read", lambda: one(c, "SELECT membase_external_access()"), 0)
    ck.value("off text", lambda: one(c, "SELECT membase_allowed_directories()"),
             "no file access")
    ck.error("on again", lambda: one(c, "SELECT membase_external_access(1)"),
             "membase_external_access: file access was turned off by "
             "membase_external_access(0) and cannot be turned on again in "
             "this process")
    ck.error("dirs again", lambda: one(
        c, "SELECT membase_allowed_directories(?)", (sub,)),
        re.compile(r"membase_allowed_directories: .+"))
    ck.value("still off", lambda: one(c, "SELECT membase_allowed_directories()"),
             "no file access")
    ck.error("off: inside narrowed", lambda: op_lines(c, t.i("sub", "deep.txt")),
             off_msg("membase_lines", t.i("sub", "deep.txt")))


def sc_external_access(ck, t, c):
    ck.value("off", lambda: one(c, "SELECT membase_external_access(0)"), 0)
    ck.value("off again", lambda: one(c, "SELECT membase_external_access(0)"), 0)
    for label, fn, op, inside, want, outside in openers(t):
        ck.error("inside %s" % label, lambda: op(c, inside),
                 off_msg(fn, inside))
        ck.error("outside %s" % label, lambda: op(c, outside),
                 off_msg(fn, outside))
    # refused before anything is looked up: a missing file says the same
    miss = t.o("missing.txt")
    ck.error("missing", lambda: op_map(c, miss), off_msg("membase_map", miss))
    ck.error("create=1", lambda: op_records(c, t.i("new.bin"), extra="create=1"),
             off_msg("membase", t.i("new.bin")))
    ck.true("create=1 created nothing", not os.path.exists(t.i("new.bin")))
    ck.error("on", lambda: one(c, "SELECT membase_external_access(1)"),
             "membase_external_access: file access was turned off by "
             "membase_external_access(0) and cannot be turned on again in "
             "this process")
    ck.value("other connection", lambda: one(
        connect(load=False), "SELECT membase_external_access()"), 0)


def sc_openers(ck, t, c):
    pol = t.IN
    by = "membase_allowed_directories"
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), pol)
    for label, fn, op, inside, want, outside in openers(t):
        ck.value("inside %s" % label, lambda: op(c, inside), want)
        ck.error("outside %s" % label, lambda: op(c, outside),
                 outside_msg(fn, outside, outside, pol, by))
    ck.value("lines_index inside", lambda: op_lines_index(
        c, t.i("multi.txt")), ("two", 3))
    # create=1: inside creates the file, outside is refused and creates none
    ck.value("create inside", lambda: op_records(
        c, t.i("new.bin"), extra="create=1"), None)
    ck.true("created inside", os.path.exists(t.i("new.bin")))
    newo = t.o("new.bin")
    ck.error("create outside", lambda: op_records(c, newo, extra="create=1"),
             outside_msg("membase", newo, newo, pol, by))
    ck.true("not created outside", not os.path.exists(newo))
    newd = t.o("newdir", "new.bin")
    ck.error("create outside, missing dir", lambda: op_records(
        c, newd, extra="create=1"), outside_msg("membase", newd, newd, pol, by))
    ck.true("no dir created outside", not os.path.exists(t.o("newdir")))
    # a directory symlink inside that leads outside: data file and journal
    os.symlink(t.OUT, t.i("outdir"))
    viad = t.i("outdir", "rec.bin")
    ck.error("dir symlink records", lambda: op_records(c, viad),
             outside_msg("membase", viad, t.o("rec.bin"), pol, by))
    ck.error("dir symlink create", lambda: op_records(
        c, t.i("outdir", "made.bin"), extra="create=1"),
        outside_msg("membase", t.i("outdir", "made.bin"), t.o("made.bin"),
                    pol, by))
    ck.true("dir symlink create made nothing",
            not os.path.exists(t.o("made.bin")))
    # the journal beside the path given leads outside (a symlink to a file
    # outside that does not exist yet): refused when the table is opened,
    # and nothing is written there
    write(t.i("j.bin"), int64s(5, 6))
    os.symlink(t.o("stolen-journal"), t.i("j.bin-mbjournal"))
    jp = t.i("j.bin-mbjournal")

    def use_journal():
        tn = _name("jt")
        c.execute("CREATE VIRTUAL TABLE temp.%s USING membase(file=%s, "
                  "layout='a i64')" % (tn, q(t.i("j.bin"))))
        c.execute("UPDATE temp.%s SET a = a + 1" % tn)
        return one(c, "SELECT sum(a) FROM temp.%s" % tn)
    ck.error("journal outside", use_journal, outside_msg(
        "membase", jp, t.o("stolen-journal"), pol, by))
    ck.true("journal outside not written",
            not os.path.exists(t.o("stolen-journal")))
    with open(t.i("j.bin"), "rb") as f:
        ck.eq("data file untouched", f.read(), int64s(5, 6))
    # a journal symlink to an existing outside file is not written either
    write(t.o("victim"), b"precious")
    write(t.i("k.bin"), int64s(7))
    os.symlink(t.o("victim"), t.i("k.bin-mbjournal"))
    kp = t.i("k.bin-mbjournal")

    def use_k():
        tn = _name("kt")
        c.execute("CREATE VIRTUAL TABLE temp.%s USING membase(file=%s, "
                  "layout='a i64')" % (tn, q(t.i("k.bin"))))
        c.execute("UPDATE temp.%s SET a = 8" % tn)
        return one(c, "SELECT sum(a) FROM temp.%s" % tn)
    ck.error("journal outside, present", use_k, outside_msg(
        "membase", kp, t.o("victim"), pol, by))
    with open(t.o("victim"), "rb") as f:
        ck.eq("outside file untouched", f.read(), b"precious")


def sc_escapes(ck, t, c):
    pol = t.IN
    by = "membase_allowed_directories"
    sec = t.o("secret.txt")
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), pol)
    # symlinks
    os.symlink(t.i("ok.txt"), t.i("l_in"))
    os.symlink(sec, t.i("l_out"))
    os.symlink("../out/secret.txt", t.i("l_rel_out"))
    os.symlink(t.i("l_out"), t.i("l_chain"))
    os.symlink(t.i("ok.txt"), t.o("l_back_in"))   # outside link to inside
    for label, fn, op in (("map", "membase_map", op_map),
                          ("lines", "membase_lines", op_lines),
                          ("lines_table", "membase_lines", op_lines_table)):
        want = 7 if label == "map" else "inside"
        ck.value("symlink in->in %s" % label, lambda: op(c, t.i("l_in")), want)
        for ln in ("l_out", "l_rel_out", "l_chain"):
            ck.error("symlink %s %s" % (ln, label), lambda: op(c, t.i(ln)),
                     outside_msg(fn, t.i(ln), sec, pol, by))
        # a link outside that leads inside: the file is inside
        ck.value("symlink out->in %s" % label,
                 lambda: op(c, t.o("l_back_in")), want)
        # ".."
        dd = t.IN + "/../out/secret.txt"
        ck.error("dotdot %s" % label, lambda: op(c, dd),
                 outside_msg(fn, dd, sec, pol, by))
        dd2 = t.IN + "/sub/../ok.txt"
        ck.value("dotdot inside %s" % label, lambda: op(c, dd2), want)
    rl = t.i("l_rec")
    os.symlink(t.o("rec.bin"), rl)
    ck.error("symlink records", lambda: op_records(c, rl),
             outside_msg("membase", rl, t.o("rec.bin"), pol, by))
    # relative paths: resolved against the working directory of the call
    os.chdir(t.IN)
    ck.value("relative inside", lambda: op_lines(c, "ok.txt"), "inside")
    ck.value("relative sub", lambda: op_lines(c, "sub/deep.txt"), "deep")
    ck.error("relative dotdot", lambda: op_lines(c, "../out/secret.txt"),
             outside_msg("membase_lines", "../out/secret.txt", sec, pol, by))
    os.chdir(t.OUT)
    ck.error("relative outside", lambda: op_lines(c, "secret.txt"),
             outside_msg("membase_lines", "secret.txt", sec, pol, by))
    ck.error("relative outside map", lambda: op_map(c, "secret.txt"),
             outside_msg("membase_map", "secret.txt", sec, pol, by))
    ck.error("relative outside records", lambda: op_records(c, "rec.bin"),
             outside_msg("membase", "rec.bin", t.o("rec.bin"), pol, by))
    ck.value("relative back in", lambda: op_lines(c, "../in/ok.txt"), "inside")
    os.chdir(t.root)
    # /proc/self/fd/N of a file outside
    fd = os.open(sec, os.O_RDONLY)
    pfd = "/proc/self/fd/%d" % fd
    ck.error("proc fd lines", lambda: op_lines(c, pfd),
             outside_msg("membase_lines", pfd, sec, pol, by))
    ck.error("proc fd map", lambda: op_map(c, pfd),
             outside_msg("membase_map", pfd, sec, pol, by))
    os.close(fd)
    fd = os.open(t.i("ok.txt"), os.O_RDONLY)
    pfd_in = "/proc/self/fd/%d" % fd
    ck.value("proc fd inside", lambda: op_lines(c, pfd_in), "inside")
    os.close(fd)
    # hard links: a second name inside for a file outside is refused;
    # so is any file with two names; one name is fine
    hl = t.i("hl.txt")
    os.link(sec, hl)
    ck.error("hard link map", lambda: op_map(c, hl),
             hardlink_msg("membase_map", hl, 2, pol, by))
    ck.error("hard link lines", lambda: op_lines(c, hl),
             hardlink_msg("membase_lines", hl, 2, pol, by))
    ck.error("hard link lines_table", lambda: op_lines_table(c, hl),
             hardlink_msg("membase_lines", hl, 2, pol, by))
    ck.error("hard link lines_index", lambda: op_lines_index_only(c, hl),
             hardlink_msg("membase_lines_index", hl, 2, pol, by))
    hr = t.i("hl.bin")
    os.link(t.o("rec.bin"), hr)
    ck.error("hard link records", lambda: op_records(c, hr),
             hardlink_msg("membase", hr, 2, pol, by))
    os.link(t.i("rec.bin"), t.i("rec2.bin"))
    os.link(t.i("rec.bin"), t.i("rec3.bin"))
    ck.error("three names inside", lambda: op_records(c, t.i("rec.bin")),
             hardlink_msg("membase", t.i("rec.bin"), 3, pol, by))
    ck.value("one name", lambda: os.stat(t.i("ok.txt")).st_nlink, 1)
    ck.value("one name opens", lambda: op_map(c, t.i("ok.txt")), 7)
    # a missing file outside is refused like a present one; a missing file
    # inside gets the ordinary "no such file"
    miss = t.o("missing.txt")
    ck.error("missing outside", lambda: op_map(c, miss),
             outside_msg("membase_map", miss, miss, pol, by))
    ck.error("present outside", lambda: op_map(c, sec),
             outside_msg("membase_map", sec, sec, pol, by))
    missd = t.o("nodir", "deeper", "missing.txt")
    ck.error("missing outside, missing dirs", lambda: op_lines(c, missd),
             outside_msg("membase_lines", missd, missd, pol, by))
    ck.error("missing outside via dotdot", lambda: op_lines(
        c, t.IN + "/../out/missing.txt"),
        outside_msg("membase_lines", t.IN + "/../out/missing.txt", miss, pol,
                    by))
    os.symlink(t.o("dangling-target"), t.i("dangling"))
    ck.error("dangling link outside", lambda: op_map(c, t.i("dangling")),
             outside_msg("membase_map", t.i("dangling"),
                         t.o("dangling-target"), pol, by))
    ck.error("missing inside", lambda: op_map(c, t.i("missing.txt")),
             'membase_map: cannot map "%s": no such file' % t.i("missing.txt"))


def classify_race(fn, link, res, inside_val, outside_val, pol, out_target):
    """One open of the swapped link: 'inside', 'refused' or a string saying
    what went wrong. res is ('ok', value) or ('err', message)."""
    kind, v = res
    if kind == "ok":
        if v == inside_val:
            return "inside"
        if v == outside_val:
            return "OUTSIDE CONTENT %r" % (v,)
        return "unexpected result %r" % (v,)
    if v == outside_msg(fn, link, out_target, pol,
                        "membase_allowed_directories"):
        return "refused"
    if changed_re(fn, link).fullmatch(v):
        return "refused"
    return "unexpected error %r" % (v,)


def sc_race(ck, t, c):
    pol = t.IN
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), pol)
    link = t.i("swap")
    tmp = t.i("swap.tmp")
    os.symlink(t.i("ok.txt"), link)
    stop = threading.Event()
    swaps = [0]

    def swapper():
        targets = (t.o("secret.txt"), t.i("ok.txt"))
        k = 0
        while not stop.is_set():
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            os.symlink(targets[k % 2], tmp)
            os.replace(tmp, link)       # atomic: the link always exists
            k += 1
            swaps[0] = k

    th = threading.Thread(target=swapper, daemon=True)
    th.start()
    try:
        for label, fn, op, inside_val, outside_val in (
                ("lines", "membase_lines", op_lines, "inside",
                 "OUTSIDE-SECRET"),
                ("map", "membase_map", op_map, 7, 15)):
            counts = {}
            bad = []
            conn = connect(load=False)
            for i in range(2000):
                if i % 200 == 199:
                    conn.close()
                    conn = connect(load=False)
                try:
                    res = ("ok", op(conn, link))
                except Exception as e:  # noqa: BLE001
                    res = ("err", str(e))
                r = classify_race(fn, link, res, inside_val, outside_val, pol,
                                  t.o("secret.txt"))
                counts[r] = counts.get(r, 0) + 1
                if r not in ("inside", "refused") and len(bad) < 5:
                    bad.append(r)
            conn.close()
            ck.true("race %s: only inside content or refusals" % label,
                    not bad, "; ".join(bad) + " (counts %r)" % counts)
            ck.true("race %s: some opens got the inside file" % label,
                    counts.get("inside", 0) > 0, "counts %r" % counts)
            ck.true("race %s: some opens were refused" % label,
                    counts.get("refused", 0) > 0, "counts %r" % counts)
    finally:
        stop.set()
        th.join()
    ck.true("race: the link was swapped", swaps[0] > 100,
            "only %d swaps" % swaps[0])


def sc_registry(ck, t, c):
    sec = t.o("secret.txt")
    # before any policy: the application maps the outside file itself
    ck.value("map before", lambda: one(c, "SELECT membase_map(?)", (sec,)), 15)
    ck.value("lines before", lambda: op_lines(c, sec), "OUTSIDE-SECRET")
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), t.IN)
    ck.value("still mapped", lambda: one(
        c, "SELECT count(*) FROM membase_stats WHERE path = ?", (sec,)), 1)
    by = "membase_allowed_directories"
    c2 = connect(load=False)
    for who, conn in (("same connection", c), ("other connection", c2)):
        ck.error("%s map" % who, lambda: one(conn, "SELECT membase_map(?)",
                                             (sec,)),
                 outside_msg("membase_map", sec, sec, t.IN, by))
        ck.error("%s lines" % who, lambda: op_lines(conn, sec),
                 outside_msg("membase_lines", sec, sec, t.IN, by))
    os.symlink(sec, t.i("to_mapped"))
    ck.error("symlink to mapped", lambda: op_map(c2, t.i("to_mapped")),
             outside_msg("membase_map", t.i("to_mapped"), sec, t.IN, by))
    # an inside file mapped before is still served
    ck.value("inside", lambda: op_map(c2, t.i("ok.txt")), 7)
    c2.close()


def sc_schema_tables(ck, t, c):
    # a database in the allowed directory whose schema names files inside
    # and outside, written before the policy
    dbp = t.i("app.db")
    w = connect(dbp, load=False)
    w.execute("CREATE VIRTUAL TABLE inside_t USING membase(file=%s, "
              "layout='a i64')" % q(t.i("rec.bin")))
    w.execute("CREATE VIRTUAL TABLE outside_t USING membase(file=%s, "
              "layout='a i64')" % q(t.o("rec.bin")))
    w.execute("CREATE VIRTUAL TABLE outside_l USING membase_lines(file=%s)"
              % q(t.o("secret.txt")))
    w.close()
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), t.IN)
    v = connect(dbp, load=False)
    ck.value("trusted", lambda: one(v, "PRAGMA trusted_schema"), 1)
    ck.value("inside table", lambda: one(v, "SELECT sum(a) FROM inside_t"), 6)
    orec = re.escape(t.o("rec.bin"))
    osec = re.escape(t.o("secret.txt"))
    pol = re.escape(t.IN)
    ck.error("outside table", lambda: one(v, "SELECT sum(a) FROM outside_t"),
             re.compile(r'membase: .*"' + orec + r'".*outside the allowed '
                        r'directories ' + pol + r'\b.*'))
    ck.error("outside lines table", lambda: one(
        v, "SELECT count(*) FROM outside_l"),
        re.compile(r'membase_lines: .*"' + osec + r'".*outside the allowed '
                   r'directories ' + pol + r'\b.*'))
    ck.error("outside table update", lambda: v.execute(
        "UPDATE outside_t SET a = 0"),
        re.compile(r'membase: .*"' + orec + r'".*outside the allowed '
                   r'directories ' + pol + r'\b.*'))
    with open(t.o("rec.bin"), "rb") as f:
        ck.eq("outside data untouched", f.read(), int64s(10, 20))
    v.close()
    # access off: schema tables are refused too
    ck.value("off", lambda: one(c, "SELECT membase_external_access(0)"), 0)
    v = connect(dbp, load=False)
    ck.error("inside table, access off", lambda: one(
        v, "SELECT sum(a) FROM inside_t"),
        re.compile(r'membase: .*file access is turned off.*'))
    v.close()


def sc_bind_mounts(ck, t, c):
    # run under unshare -m (the parent arranges it): private mounts
    view = os.path.join(t.root, "view")       # outside, the same dir as IN
    os.makedirs(view)
    subprocess.run(["mount", "--bind", t.IN, view], check=True)
    os.makedirs(t.i("mnt"))
    subprocess.run(["mount", "--bind", t.OUT, t.i("mnt")], check=True)
    other = os.path.join(t.root, "other")     # outside, the same dir as OUT
    os.makedirs(other)
    subprocess.run(["mount", "--bind", t.OUT, other], check=True)
    pol = t.IN
    by = "membase_allowed_directories"
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), pol)
    vp = os.path.join(view, "ok.txt")
    ck.value("bind view of allowed dir: lines", lambda: op_lines(c, vp),
             "inside")
    ck.value("bind view of allowed dir: map", lambda: op_map(c, vp), 7)
    ck.value("bind view of allowed dir: records", lambda: op_records(
        c, os.path.join(view, "rec.bin")), 6)
    mp = t.i("mnt", "secret.txt")
    ck.value("mount inside allowed dir", lambda: op_lines(c, mp),
             "OUTSIDE-SECRET")
    op_ = os.path.join(other, "secret.txt")
    ck.error("bind view of an outside dir", lambda: op_lines(c, op_),
             outside_msg("membase_lines", op_, op_, pol, by))
    ck.error("outside dir itself", lambda: op_lines(c, t.o("secret.txt")),
             outside_msg("membase_lines", t.o("secret.txt"),
                         t.o("secret.txt"), pol, by))
    # a policy set through the view names the same directory
    ck.value("narrow through the view", lambda: one(
        c, "SELECT membase_allowed_directories(?)", (os.path.join(view, "sub"),)),
        os.path.join(view, "sub"))
    ck.value("deep through the real path", lambda: op_lines(
        c, t.i("sub", "deep.txt")), "deep")


def sc_vfs_outside(ck, t, c):
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), t.IN)
    dbp = t.o("x.db")
    d = connect("file:%s?vfs=membase" % dbp, load=False, uri=True)
    d.execute("CREATE TABLE t(x)")
    d.execute("INSERT INTO t VALUES ('hello'), ('world')")
    ck.value("vfs db outside", lambda: [r[0] for r in d.execute(
        "SELECT x FROM t ORDER BY x")], ["hello", "world"])
    ck.value("vfs is membase", lambda: one(d, "PRAGMA membase_locking"),
             "shared")
    d.close()
    d = connect("file:%s?vfs=membase" % dbp, load=False, uri=True)
    ck.value("vfs db reopened", lambda: one(d, "SELECT count(*) FROM t"), 2)
    # ... while SQL on that very connection still cannot name outside files
    ck.error("but SQL outside", lambda: op_map(d, t.o("secret.txt")),
             outside_msg("membase_map", t.o("secret.txt"), t.o("secret.txt"),
                         t.IN, "membase_allowed_directories"))
    d.close()


# name -> (function, environment changes: (name, value or None), wrapper)
# "@IN", "@IN2", "@ROOT" in a value are replaced by the tree's directories.

# ---------------------------------------------------------------------------
# Regressions of the adversarial review (issue 15): each failed before its
# fix.
# ---------------------------------------------------------------------------

def sc_proc_root_namespace(ck, t, c):
    """F1: /proc/PID/root of a process in another mount namespace, where an
    outside directory is bind-mounted over the allowed one. realpath reads
    the link as "/" and /proc/self/fd names the file as that namespace sees
    it: only the identity of that name here tells the files apart."""
    secret = t.o("key")
    write(secret, "topsecret\n")
    pidfile = os.path.join(t.root, "ns.pid")
    helper = subprocess.Popen(
        ["unshare", "-Urm", "--propagation", "private", "sh", "-c",
         "mount --bind %s %s && echo $$ > %s && exec sleep 60"
         % (t.OUT, t.IN, pidfile)])
    try:
        for _ in range(100):
            if os.path.exists(pidfile) and open(pidfile).read().strip():
                break
            time.sleep(0.05)
        pid = open(pidfile).read().strip()
        ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                    (t.IN,)), t.IN)
        via = "/proc/%s/root%s" % (pid, t.i("key"))
        ns_re = lambda fn: re.compile(
            re.escape('%s: "%s": the file opened, named "%s" by the system, is '
                      'not the file that name means in this process' % (fn, via, t.i("key")))
            + ".*")
        ck.error("read through another namespace: lines",
                 lambda: op_lines(c, via), ns_re("membase_lines"))
        ck.error("read through another namespace: map",
                 lambda: op_map(c, via), ns_re("membase_map"))
        planted = "/proc/%s/root%s" % (pid, t.i("planted.bin"))
        try:
            op_records(c, planted, extra=", create=1")
        except Exception:  # noqa: BLE001
            pass
        ck.true("nothing created in the outside directory",
                not os.path.exists(t.o("planted.bin")),
                "%s exists" % t.o("planted.bin"))
    finally:
        helper.kill()
        helper.wait()


def sc_create_race(ck, t, c):
    """F2: create=1 while another thread swaps a symlink to an outside file
    in and out under the name: the file is created in its checked directory,
    exclusively, never through the symlink."""
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), t.IN)
    name = t.i("new.bin")
    target = t.o("created-outside")
    stop = threading.Event()

    def flipper():
        while not stop.is_set():
            try:
                os.symlink(target, name)
            except OSError:
                pass
            try:
                os.unlink(name)
            except OSError:
                pass
    th = threading.Thread(target=flipper)
    th.start()
    try:
        for i in range(3000):
            try:
                c.execute("CREATE VIRTUAL TABLE temp.cr%d USING membase("
                          "file=%s, layout='a i64', create=1)" % (i, q(name)))
                c.execute("DROP TABLE temp.cr%d" % i)
            except Exception:  # noqa: BLE001
                pass
            if os.path.lexists(target):
                break
    finally:
        stop.set()
        th.join()
    ck.true("no file created outside", not os.path.lexists(target),
            "%s was created" % target)


def sc_journal_hardlink(ck, t, c):
    """F3: a hard link to an outside file put under the journal's name in
    the middle of a transaction is never truncated or written."""
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), t.IN)
    victim = t.o("victim.conf")
    write(victim, "IMPORTANT\n" * 4)
    data = t.i("j.bin")
    c.execute("CREATE VIRTUAL TABLE temp.r USING membase(file=%s, "
              "layout='a i64', create=1)" % q(data))
    c.execute("INSERT INTO r VALUES(1)")
    c.execute("BEGIN")
    c.execute("UPDATE r SET a = 2")
    tmp = t.i("j.tmp")
    os.link(victim, tmp)
    os.rename(tmp, data + "-mbjournal")
    try:
        c.execute("COMMIT")
    except Exception:  # noqa: BLE001
        c.execute("ROLLBACK")
    with open(victim) as f:
        ck.eq("the outside file is untouched", f.read(), "IMPORTANT\n" * 4)
    ck.value("the table is whole", lambda: one(c, "SELECT a FROM r"), 2)


def sc_trust_confusion(ck, t, c):
    """F4: a table this connection created is trusted again only as itself
    (the same database file, name and declaration): not another file
    attached under the same schema name, and not because a connect of a
    schema-borne table happened during some CREATE statement."""
    evil = os.path.join(t.root, "evil.db")
    mine = os.path.join(t.root, "mine.db")
    e = connect(evil)
    e.execute("CREATE VIRTUAL TABLE logs USING membase_lines(file=%s)"
              % q(t.o("secret.txt")))
    e.close()
    c.execute("PRAGMA trusted_schema = OFF")
    c.execute("ATTACH %s AS aux" % q(mine))
    c.execute("CREATE VIRTUAL TABLE aux.logs USING membase_lines(file=%s)"
              % q(t.i("ok.txt")))
    ck.value("own table", lambda: one(c, "SELECT line FROM aux.logs"), "inside")
    c.execute("DETACH aux")
    c.execute("ATTACH %s AS aux" % q(evil))
    ck.error("another file under the same schema name",
             lambda: one(c, "SELECT line FROM aux.logs"),
             re.compile(re.escape('membase_lines: table "logs" in schema "aux" '
                                  'comes from the database file') + ".*"))
    c.execute("DETACH aux")
    d = connect(evil)
    d.execute("PRAGMA trusted_schema = OFF")
    ck.error("a connect inside CREATE TABLE AS",
             lambda: d.execute("CREATE TEMP TABLE cols AS SELECT * FROM "
                               "pragma_table_info('logs')"),
             re.compile(re.escape('membase_lines: table "logs" in schema '
                                  '"main" comes from the database file') + ".*"))
    ck.error("and afterwards", lambda: one(d, "SELECT line FROM logs"),
             re.compile(re.escape('membase_lines: table "logs" in schema '
                                  '"main" comes from the database file') + ".*"))
    d.close()


def sc_own_sql_tokens(ck, t, c):
    """F5: the own-SQL rule looks for a call, not a substring: the name in
    a string literal, a comment or as a table name does not count."""
    evil = os.path.join(t.root, "notes.db")
    e = connect(evil)
    e.execute("CREATE TABLE notes(body CHECK (membase_vfs_default('unix-dotfile')"
              " IS NOT NULL))")
    e.execute("CREATE TABLE membase_vfs_default(x CHECK (membase_vfs_default("
              "'unix-dotfile') IS NOT NULL))")
    e.close()
    v = connect(evil)
    before = one(v, "SELECT membase_vfs_default()")
    unsafe = ("unsafe use of membase_vfs_default(): called by a schema object "
              "(such as a CHECK constraint), not by the statement's own SQL")
    for label, sql in (
            ("a string literal", "INSERT INTO notes VALUES('see membase_vfs_default( in the manual')"),
            ("a comment", "INSERT INTO notes VALUES(1) -- membase_vfs_default()"),
            ("a quoted identifier", 'INSERT INTO notes("body") SELECT 1 AS "membase_vfs_default("'),
            ("the table's name", "INSERT INTO membase_vfs_default(x) VALUES(2)"),
            ("a schema-qualified table", "INSERT INTO main.membase_vfs_default VALUES(2)")):
        ck.error(label, lambda: v.execute(sql), unsafe)
    ck.value("the default VFS is unchanged",
             lambda: one(v, "SELECT membase_vfs_default()"), before)
    ck.value("a call in the statement's own SQL still acts",
             lambda: one(v, "SELECT membase_vfs_default(?)", (before,)), before)
    v.close()


# Regressions of the second adversarial round.

def sc_vacuum_crafted(ck, t, c):
    """A crafted sqlite_schema row (type 'table', a root page, the SQL of a
    CREATE VIRTUAL TABLE): VACUUM runs that SQL, an xCreate that is not the
    application's. Refused whatever trusted_schema says; nothing created."""
    import sqlite3
    for mod, args, made in (
            ("membase", "file=%s, layout='a i32', create=1" % q(t.o("v.npy")), t.o("v.npy")),
            ("membase_lines", "file=%s" % q(t.o("secret.txt")), None)):
        db = os.path.join(t.root, "crafted-%s.db" % mod)
        e = sqlite3.connect(db)
        e.execute("CREATE TABLE t(a)")
        e.execute("CREATE TABLE pad(b)")
        e.commit()
        e.execute("PRAGMA writable_schema=ON")
        e.execute("UPDATE sqlite_schema SET sql=?, name='x', tbl_name='x' "
                  "WHERE name='pad'",
                  ("CREATE VIRTUAL TABLE x USING %s(%s)" % (mod, args),))
        e.commit()
        e.close()
        for trust in ("ON", "OFF"):
            v = connect(db)
            v.execute("PRAGMA trusted_schema=%s" % trust)
            ck.error("%s, trusted_schema %s" % (mod, trust),
                     lambda: v.execute("VACUUM"),
                     '%s: table "x": VACUUM would create it from a row of the '
                     "database file's schema (a virtual table has no root page; "
                     "the row was crafted): refused" % mod)
            v.close()
        if made:
            ck.true("%s: nothing created" % mod, not os.path.exists(made),
                    "%s exists" % made)


def sc_journal_fifo(ck, t, c):
    """A FIFO under the journal's name would block a read-only open forever
    (with the writer's locks held): refused at once, with a message."""
    data = t.i("f.bin")
    c.execute("CREATE VIRTUAL TABLE temp.r USING membase(file=%s, "
              "layout='a i64', create=1)" % q(data))
    c.execute("INSERT INTO r VALUES(1)")
    c.close()
    os.mkfifo(data + "-mbjournal")
    started = time.time()
    v = connect()
    ck.error("open with a FIFO as the journal",
             lambda: v.execute("CREATE VIRTUAL TABLE temp.r USING membase("
                               "file=%s, layout='a i64')" % q(data)),
             "membase: %s: cannot roll back the journal %s-mbjournal: it is "
             "not a regular file (remove it: MemBase never made it)"
             % (data, data))
    ck.true("no hang", time.time() - started < 20, "took too long")
    os.unlink(data + "-mbjournal")
    ck.value("after removing it", lambda: one(v, "SELECT count(*) FROM temp.r")
             if v.execute("CREATE VIRTUAL TABLE temp.r USING membase(file=%s, "
                          "layout='a i64')" % q(data)) else None, 1)
    v.close()


def sc_own_sql_tokens2(ck, t, c):
    """Parameters (@name(, :name(, $name(, ?1) and CTE names are not calls."""
    evil = os.path.join(t.root, "notes2.db")
    e = connect(evil)
    e.execute("CREATE TABLE notes(body CHECK (membase_vfs_default('unix-dotfile')"
              " IS NOT NULL))")
    e.close()
    v = connect(evil)
    before = one(v, "SELECT membase_vfs_default()")
    unsafe = ("unsafe use of membase_vfs_default(): called by a schema object "
              "(such as a CHECK constraint), not by the statement's own SQL")
    for label, sql, params in (
            ("an @ parameter", "INSERT INTO notes VALUES(@membase_vfs_default)", {"membase_vfs_default": 1}),
            ("a : parameter", "INSERT INTO notes SELECT :membase_vfs_default", {"membase_vfs_default": 1}),
            ("a CTE name", "WITH membase_vfs_default(v) AS (SELECT 1) INSERT INTO notes SELECT v FROM membase_vfs_default", ()),
            ("a second CTE name", "WITH a(x) AS (SELECT 1), membase_vfs_default(v) AS (SELECT 2) INSERT INTO notes SELECT v FROM membase_vfs_default", ())):
        ck.error(label, lambda: v.execute(sql, params), unsafe)
    ck.value("the default VFS is unchanged",
             lambda: one(v, "SELECT membase_vfs_default()"), before)
    # a call with an alias is a call, not a CTE name (the npm review found
    # "SELECT membase_vfs_default() AS v" refused as unsafe)
    for label, sql in (("a call AS an alias", "SELECT membase_vfs_default() AS v"),
                       ("a call AS an alias, spaced", "SELECT membase_vfs_default( ) AS v"),
                       ("a call AS a quoted alias", 'SELECT membase_vfs_default() AS "(x"')):
        ck.value(label, lambda: one(v, sql), before)
    for label, sql in (
            ("a MATERIALIZED CTE name", "WITH membase_vfs_default(v) AS MATERIALIZED (SELECT 1) INSERT INTO notes SELECT v FROM membase_vfs_default"),
            ("a NOT MATERIALIZED CTE name", "WITH membase_vfs_default(v) AS NOT MATERIALIZED (SELECT 1) INSERT INTO notes SELECT v FROM membase_vfs_default")):
        ck.error(label, lambda: v.execute(sql), unsafe)
    v.close()


# Regressions of the third adversarial round.

def sc_journal_dir_swap(ck, t, c):
    """The journal is looked up by name at each statement: a directory of
    its path swapped for a symlink to outside after the table opened must
    not make recovery read or delete the file it now leads to."""
    os.makedirs(t.i("sub"), exist_ok=True)
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), t.IN)
    c.execute("CREATE VIRTUAL TABLE temp.r USING membase(file=%s, "
              "layout='a i32', create=1)" % q(t.i("sub", "x.bin")))
    c.execute("INSERT INTO r VALUES(1)")
    os.rename(t.i("sub"), t.i("sub.real"))
    os.symlink(t.OUT, t.i("sub"))
    victim = t.o("x.bin-mbjournal")
    write(victim, "a file outside the allowed directories")
    ck.error("a statement after the swap", lambda: one(c, "SELECT * FROM r"),
             'membase: the journal of %s: "%s-mbjournal" resolves to "%s", '
             'outside the allowed directories %s (set by '
             'membase_allowed_directories)'
             % (t.i("sub", "x.bin"), t.i("sub", "x.bin"), victim, t.IN))
    ck.true("the outside file is still there", os.path.exists(victim),
            "%s was deleted" % victim)


def sc_table_before_policy(ck, t, c):
    """A table opened before the policy keeps its mapping (nothing is
    reopened), but its journal is checked at COMMIT: writes stop there."""
    data = t.o("early.bin")
    c.execute("CREATE VIRTUAL TABLE temp.r USING membase(file=%s, "
              "layout='a i32', create=1)" % q(data))
    c.execute("INSERT INTO r VALUES(1)")
    jn = data + "-mbjournal"

    def jstate():
        # the empty journal a commit keeps (no policy then), as it is
        return (os.path.exists(jn), os.path.getsize(jn) if os.path.exists(jn)
                else None, os.stat(jn).st_mtime_ns if os.path.exists(jn)
                else None)
    before = jstate()
    ck.value("set", lambda: one(c, "SELECT membase_allowed_directories(?)",
                                (t.IN,)), t.IN)
    ck.value("reads go on", lambda: one(c, "SELECT count(*) FROM r"), 1)
    ck.error("a write stops at COMMIT",
             lambda: c.execute("INSERT INTO r VALUES(2)"),
             'membase: the journal of %s: "%s-mbjournal" resolves to '
             '"%s-mbjournal", outside the allowed directories %s (set by '
             'membase_allowed_directories)' % (data, data, data, t.IN))
    ck.value("nothing written", lambda: one(c, "SELECT count(*) FROM r"), 1)
    ck.eq("the journal outside untouched", jstate(), before)

SCENARIOS = {
    "env_inside_outside": (sc_env_inside_outside,
                           {"MEMBASE_ALLOWED_DIRS": "@IN"}, None),
    "env_two_dirs": (sc_env_two_dirs,
                     {"MEMBASE_ALLOWED_DIRS": "@IN:@IN2"}, None),
    "env_empty": (sc_env_empty, {"MEMBASE_ALLOWED_DIRS": ""}, None),
    "env_missing_dir": (sc_env_missing_dir,
                        {"MEMBASE_ALLOWED_DIRS": "@IN:@ROOT/nope"}, "noload"),
    "env_not_a_dir": (sc_env_not_a_dir,
                      {"MEMBASE_ALLOWED_DIRS": "@IN/ok.txt"}, "noload"),
    "narrowing": (sc_narrowing, {}, None),
    "external_access": (sc_external_access, {}, None),
    "openers": (sc_openers, {}, None),
    "escapes": (sc_escapes, {}, None),
    "race": (sc_race, {}, None),
    "registry": (sc_registry, {}, None),
    "schema_tables": (sc_schema_tables, {}, None),
    "bind_mounts": (sc_bind_mounts, {}, "unshare"),
    "vfs_outside": (sc_vfs_outside, {}, None),
    "proc_root_namespace": (sc_proc_root_namespace, {}, "unshare"),
    "create_race": (sc_create_race, {}, None),
    "journal_hardlink": (sc_journal_hardlink, {}, None),
    "trust_confusion": (sc_trust_confusion, {}, None),
    "own_sql_tokens": (sc_own_sql_tokens, {}, None),
    "vacuum_crafted": (sc_vacuum_crafted, {}, None),
    "journal_fifo": (sc_journal_fifo, {}, None),
    "own_sql_tokens2": (sc_own_sql_tokens2, {}, None),
    "journal_dir_swap": (sc_journal_dir_swap, {}, None),
    "table_before_policy": (sc_table_before_policy, {}, None),
}


def sc_selftest_outside(ck, t, c):
    """Selftest: the policy must refuse the outside file. Run with
    MEMBASE_ALLOWED_DIRS removed (sabotage), the open succeeds and the
    check must report it."""
    ck.error("outside map", lambda: op_map(c, t.o("secret.txt")),
             outside_msg("membase_map", t.o("secret.txt"), t.o("secret.txt"),
                         t.IN, "MEMBASE_ALLOWED_DIRS"))


def sc_selftest_inside(ck, t, c):
    """Selftest: with no policy, an outside open succeeds: a correct
    expectation passes."""
    ck.value("outside map, no policy", lambda: op_map(c, t.o("secret.txt")), 15)
    ck.value("outside lines, no policy", lambda: op_lines(c, t.o("secret.txt")),
             "OUTSIDE-SECRET")


SELFTESTS = {
    "selftest_outside": (sc_selftest_outside, {}, None),
    "selftest_inside": (sc_selftest_inside, {}, None),
}


def child_main(name, root):
    fn, _env, wrap = {**SCENARIOS, **SELFTESTS}[name]
    ck = Checker()
    t = Tree(root)
    os.chdir(t.root)
    c = None
    if wrap != "noload":
        c = connect()
    try:
        fn(ck, t, c)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        ck.fail("scenario %s" % name, "raised %r" % e)
    print("%d passed, %d failed" % (ck.npass, ck.nfail), flush=True)
    return 1 if ck.nfail else 0


# ---------------------------------------------------------------------------
# The parent side.
# ---------------------------------------------------------------------------

def scratch_root():
    base = os.environ.get("MEMBASE_TESTDIR") or tempfile.gettempdir()
    # one folder per process: the selftest and the main run go on at once
    # under ctest -j, and neither may empty the other's tree
    d = os.path.join(base, "security_policy-%d" % os.getpid())
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    SCRATCH.append(d)
    return os.path.realpath(d)


def run_child(name, root, env_changes, wrap, drop_env=False):
    d = os.path.join(root, name)
    os.makedirs(d)
    d = os.path.realpath(d)
    env = dict(os.environ)
    env.pop("MEMBASE_ALLOWED_DIRS", None)
    if not drop_env:
        for k, v in env_changes.items():
            v = (v.replace("@IN2", os.path.join(d, "in2"))
                  .replace("@IN", os.path.join(d, "in"))
                  .replace("@ROOT", d))
            env[k] = v
    cmd = [PY, os.path.abspath(__file__), "--child", name, d]
    if wrap == "unshare":
        cmd = ["unshare", "-m", "--propagation", "private"] + cmd
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    return p.returncode, p.stdout


def unshare_works():
    try:
        p = subprocess.run(["unshare", "-m", "--propagation", "private",
                            "true"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return "unshare cannot run: %s" % e
    if p.returncode != 0:
        return "unshare -m failed: %s" % p.stdout.strip()
    return ""


def selftest(root, verbose):
    ok = True
    # 1. the sabotaged run (no policy) must be reported as failing
    rc, out = run_child("selftest_outside", root,
                        {"MEMBASE_ALLOWED_DIRS": "@IN"}, None, drop_env=True)
    if verbose:
        sys.stdout.write(out)
    caught = rc != 0 and "FAIL outside map" in out
    print("selftest: an outside open that succeeds is %s"
          % ("caught" if caught else "NOT CAUGHT"))
    ok = ok and caught
    # 2. a correct expectation passes
    rc, out = run_child("selftest_inside", root, {}, None)
    if verbose:
        sys.stdout.write(out)
    passed = rc == 0 and "0 failed" in out
    print("selftest: a correct expectation %s"
          % ("passes" if passed else "FAILS:\n" + out))
    ok = ok and passed
    # 3. the race classifier flags outside content and odd errors
    cases = [
        (("ok", "OUTSIDE-SECRET"), False),
        (("ok", "inside"), True),
        (("err", outside_msg("membase_lines", "/d/in/swap", "/d/out/s",
                             "/d/in", "membase_allowed_directories")), True),
        (("err", 'membase_lines: "/d/in/swap": the file opened is "/d/out/s", '
                 'outside the allowed directories /d/in (set by '
                 'membase_allowed_directories); it changed during the open: '
                 'refused'), True),
        (("err", "membase_lines: cannot open: no such file"), False),
        (("ok", None), False),
    ]
    for res, good in cases:
        r = classify_race("membase_lines", "/d/in/swap", res, "inside",
                          "OUTSIDE-SECRET", "/d/in", "/d/out/s")
        got = r in ("inside", "refused")
        if got != good:
            print("selftest: race classifier wrong for %r: %r" % (res, r))
            ok = False
    print("selftest: race classifier %s" % ("ok" if ok else "WRONG"))
    # 4. the message matcher: a message with another path must not match
    ck = Checker()
    import io
    import contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ck.error("x", lambda: (_ for _ in ()).throw(Exception(
            outside_msg("membase_map", "/a", "/b", "/c", "X"))),
            outside_msg("membase_map", "/a", "/OTHER", "/c", "X"))
        ck.error("y", lambda: 1, "anything")
    if ck.nfail != 2:
        print("selftest: the error matcher accepted a wrong outcome")
        ok = False
    print("selftest: %s" % ("PASSED" if ok else "FAILED"))
    return 0 if ok else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "--child":
        return child_main(argv[1], argv[2])
    if not EXT or not os.path.exists(EXT):
        print("security_policy.py: MEMBASE_EXT must name the built module")
        return 1
    verbose = "--verbose" in argv
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1].split(",")
    root = scratch_root()
    if "--selftest" in argv:
        return selftest(root, verbose)
    failed = []
    for name, (fn, env, wrap) in SCENARIOS.items():
        if only and name not in only:
            continue
        if wrap == "unshare":
            why = unshare_works()
            if why:
                print("%s: SKIPPED: %s" % (name, why))
                continue
        t0 = time.time()
        try:
            rc, out = run_child(name, root, env, wrap)
        except subprocess.TimeoutExpired:
            rc, out = 1, "timed out\n"
        nf = sum(1 for ln in out.splitlines() if ln.startswith("FAIL "))
        status = "ok" if rc == 0 else "FAILED"
        print("%s: %s (%.1f s)" % (name, status, time.time() - t0))
        if rc != 0 or verbose:
            for ln in out.splitlines():
                if verbose or not ln.startswith("ok "):
                    print("    " + ln)
        if rc != 0:
            failed.append("%s (%d checks)" % (name, nf))
    if failed:
        print("FAILED scenarios: " + ", ".join(failed))
        return 1
    print("all scenarios passed")
    return 0


def main_and_tidy(argv):
    rc = main(argv)
    if rc == 0 and "--child" not in argv and SCRATCH:
        shutil.rmtree(SCRATCH[0], ignore_errors=True)   # kept on failure
    return rc


SCRATCH = []

if __name__ == "__main__":
    sys.exit(main_and_tidy(sys.argv[1:]))
