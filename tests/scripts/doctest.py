#!/usr/bin/python3
"""tests/scripts/doctest.py -- run the code of the docs/using pages.

    /usr/bin/python3 tests/scripts/doctest.py [--dir SCRATCH] [--selftest] PAGE.md...

Every fenced code block of a page is preceded by one HTML comment (invisible
on the rendered page) that says what it is:

    <!-- doctest: file NAME -->   the block's text is written to NAME
    <!-- doctest: run -->         the block (sh) is run by bash -eo pipefail in
                                  the scratch folder; its output (stdout and
                                  stderr) is kept
    <!-- doctest: run NAME -->    the same, with the folder that --path
                                  NAME=DIR gives first in PATH (a second
                                  Node, say); without it the run fails
    <!-- doctest: output -->      the block is the exact output of the run
                                  before it (trailing blanks ignored)

A code block without a marker, an output with no run before it, or a run
that fails or prints something else than its output block fails the page:
a snippet that breaks fails CI. Each page runs in a fresh scratch folder
(SCRATCH/<page name>, default build/doctest), files first written there in
page order. --selftest runs a page with a wrong output block and a failing
run, and passes only if both are reported.
"""
import os
import re
import shutil
import subprocess
import sys

MARK = re.compile(r'^<!--\s*doctest:\s*(file|run|output)\s*(\S*)\s*-->\s*$')
FENCE = re.compile(r'^(```+|~~~+)')


def blocks(path):
    """(line, kind, arg, text) for each fenced block; kind None if unmarked."""
    lines = open(path, encoding='utf-8').read().split('\n')
    out, i, mark = [], 0, None
    while i < len(lines):
        m = MARK.match(lines[i])
        if m:
            mark = (m.group(1), m.group(2))
            i += 1
            continue
        f = FENCE.match(lines[i])
        if f:
            start, fence, body = i + 1, f.group(1), []
            i += 1
            while i < len(lines) and not lines[i].startswith(fence):
                body.append(lines[i])
                i += 1
            text = '\n'.join(body) + '\n'
            out.append((start, mark[0] if mark else None, mark[1] if mark else '', text))
            mark = None
        elif lines[i].strip():
            mark = None if not lines[i].startswith('<!--') else mark
        i += 1
    return out


def norm(s):
    return '\n'.join(l.rstrip() for l in s.rstrip('\n').split('\n'))


def run_page(page, scratch, paths=None):
    name = os.path.splitext(os.path.basename(page))[0]
    work = os.path.join(scratch, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fails, last, nrun = [], None, 0
    for line, kind, arg, text in blocks(page):
        where = f'{page}:{line}'
        if kind is None:
            fails.append(f'{where}: a code block without a <!-- doctest: ... --> marker')
        elif kind == 'file':
            if not arg:
                fails.append(f'{where}: "doctest: file" needs a file name')
                continue
            with open(os.path.join(work, arg), 'w', encoding='utf-8') as fh:
                fh.write(text)
        elif kind == 'run':
            nrun += 1
            env = dict(os.environ)
            if arg:
                if arg not in (paths or {}):
                    fails.append(f'{where}: this run needs --path {arg}=DIR')
                    last = None
                    continue
                env['PATH'] = paths[arg] + os.pathsep + env['PATH']
            p = subprocess.run(['bash', '-eo', 'pipefail', '-c', text], cwd=work, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            last = (where, p.stdout)
            if p.returncode != 0:
                fails.append(f'{where}: the run failed (exit {p.returncode}); it printed:\n'
                             + indent(p.stdout))
                last = None
        elif kind == 'output':
            if last is None:
                fails.append(f'{where}: an output block with no successful run before it')
                continue
            if norm(last[1]) != norm(text):
                fails.append(f'{where}: the run at {last[0]} printed:\n' + indent(last[1])
                             + '\n  the page shows:\n' + indent(text))
            last = None
    return nrun, fails


def indent(s):
    return '\n'.join('    | ' + l for l in s.rstrip('\n').split('\n'))


def selftest(scratch):
    page = os.path.join(scratch, 'selftest.md')
    os.makedirs(scratch, exist_ok=True)
    with open(page, 'w') as fh:
        fh.write('<!-- doctest: run -->\n```sh\necho 4\n```\n<!-- doctest: output -->\n'
                 '```\n5\n```\n\n<!-- doctest: run -->\n```sh\nfalse\n```\n\n'
                 '```sh\nunmarked\n```\n')
    _, fails = run_page(page, scratch)
    want = ['printed', 'the run failed', 'without a']
    caught = [w for w in want if any(w in f for f in fails)]
    print(f'doctest selftest: {len(caught)} of {len(want)} planted faults caught')
    return 0 if len(caught) == len(want) else 1


def main(argv):
    scratch = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'build', 'doctest')
    pages, self_test, paths = [], False, {}
    i = 0
    while i < len(argv):
        if argv[i] == '--dir':
            scratch = argv[i + 1]
            i += 2
            continue
        if argv[i] == '--path':
            name, _, d = argv[i + 1].partition('=')
            paths[name] = os.path.abspath(d)
            i += 2
            continue
        if argv[i] == '--selftest':
            self_test = True
        else:
            pages.append(argv[i])
        i += 1
    scratch = os.path.abspath(scratch)
    if self_test:
        return selftest(scratch)
    if not pages:
        print(__doc__.strip().split('\n')[2], file=sys.stderr)
        return 2
    bad = 0
    for page in pages:
        nrun, fails = run_page(page, scratch, paths)
        if fails or nrun == 0:
            bad += 1
            print(f'FAIL {page}' + ('' if nrun else ': nothing to run'))
            for f in fails:
                print('  ' + f)
        else:
            print(f'ok {page}: {nrun} snippets ran, their output as shown')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
