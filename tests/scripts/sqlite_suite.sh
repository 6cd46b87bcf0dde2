#!/usr/bin/env bash
# tests/scripts/sqlite_suite.sh -- SQLite's own test suite run on the membase VFS.
#
# What it does:
#   1. fetches SQLite 3.40.1 from Debian's source package (apt-get source
#      sqlite3; adds a deb-src entry first if the machine has none) and keeps
#      the tree in build-suite/src/ so reruns skip this;
#   2. builds libmembase.a (build-suite/cmake) and SQLite's testfixture
#      (build-suite/fixture) with -DSQLITE_EXTRA_INIT=membase_testfixture_init,
#      tests/scripts/sqlite_suite_init.c, libmembase.a and libmembase_core.a linked in.
#      The environment of each run then picks the default VFS
#      (MEMBASE_SUITE_VFS, MEMBASE_SUITE_CHILD_VFS: see sqlite_suite_init.c);
#      the baseline is the same binary with stock "unix";
#   3. runs each of these twice, baseline and membase, side by side:
#        veryquick  test/veryquick.test, "membase" the default VFS in every
#                   process, children included;
#        mmap       test/permutations.test mmap (every file with
#                   mmap_size=256MB), "membase" as above;
#        process    "membase-process" the default, on the veryquick files that
#                   run in one process (criterion below);
#        mixed      "membase" in the test process, stock "unix" in the child
#                   processes it spawns, on the multi-process files
#                   mmap1 mmap4 lock2 lock6 wal*.test (criterion below);
#   4. prints, per run, the failures of both sides side by side, and for each
#      test that fails only with membase the harness's own lines about it.
#      A test file that stops testfixture (an uncaught Tcl error, a crash)
#      counts as the failure "FILE(aborted)", with its error, and the run
#      goes on from the next file (--start=NEXT).
#
# The baseline is not quite clean: io-5.5 fails on both sides, because of
# Debian's patch 31 (SQLITE_MAX_DEFAULT_PAGE_SIZE raised to 32k).
#
# Exit status: 0 if membase fails no test that the baseline passes and no run
# crashed, aborted or timed out; 1 otherwise; 2 if the machine lacks packages
# and we are not root.
#
# Usage: bash tests/scripts/sqlite_suite.sh [--quick] [--only RUN[,RUN...]] [--jobs N] [--report]
#   --quick    a few files per run (under a minute of tests), for iteration
#   --only     veryquick|mmap|process|mixed (comma-separated, or repeated)
#   --jobs N   runs at once (default: the number of CPUs, at least 2)
#   --report   only print the report again from the logs of the last runs
# The default (what CI runs) is all four runs: about 8 minutes on 2 CPUs, plus
# about 1 minute to build testfixture when libmembase.a has changed.
#
# Files: build-suite/logs/<run>-<side>.log (full harness output),
# build-suite/logs/summary.txt (the report printed at the end); with --quick,
# build-suite/logs-quick/ (and --report --quick shows that report).
# The tests run in build-suite/work/<run>-<side>/. As root they run as user
# "nobody" (as root, veryquick aborts in attach.test).
#
# Environment: MEMBASE_SUITE_DIR (default <repo>/build-suite),
# MEMBASE_SUITE_TIMEOUT (seconds per run, default 900),
# MEMBASE_SUITE_EXTRA_OBJS (objects linked before libmembase.a, e.g. a stub).
set -euo pipefail
umask 022
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bs=${MEMBASE_SUITE_DIR:-$root/build-suite}
# shellcheck source-path=SCRIPTDIR source=deps.sh
. "$root/tests/scripts/deps.sh"

usage() { sed -n '/^# Usage:/,/^#$/p' "$0" | sed 's/^# \{0,1\}//'; }
quick=0
report_only=0
only=()
njobs=$(nproc 2>/dev/null || echo 2)
[ "$njobs" -lt 2 ] && njobs=2
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --only) [ $# -ge 2 ] || { usage >&2; exit 2; }
                IFS=, read -r -a more <<<"$2"; only+=("${more[@]}"); shift ;;
        --only=*) IFS=, read -r -a more <<<"${1#--only=}"; only+=("${more[@]}") ;;
        --jobs) [ $# -ge 2 ] || { usage >&2; exit 2; }; njobs=$2; shift ;;
        --jobs=*) njobs=${1#--jobs=} ;;
        --report) report_only=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "sqlite_suite: unknown argument \"$1\"" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[ ${#only[@]} -eq 0 ] && only=(veryquick mmap process mixed)
for r in "${only[@]}"; do
    case $r in veryquick|mmap|process|mixed) ;;
        *) echo "sqlite_suite: unknown run \"$r\" (veryquick, mmap, process, mixed)" >&2; exit 2 ;;
    esac
done
timeout_s=${MEMBASE_SUITE_TIMEOUT:-900}

step() { printf '\n=== %s ===\n' "$*"; }
now() { date +%s; }
t_start=$(now)

logs=$bs/logs
[ $quick -eq 1 ] && logs=$bs/logs-quick    # a --quick run keeps the full run's logs
work=$bs/work
extra_objs=${MEMBASE_SUITE_EXTRA_OBJS:-}
want_ver=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' /usr/include/sqlite3.h 2>/dev/null || true)
side_name() { [ "$1" = process ] && echo membase-process || echo membase; }
if [ $report_only -eq 0 ]; then
# ------------------------------------------------------------------ packages
mb_require_build
mb_require_suite
mb_install_missing

# ------------------------------------------------------------------ source
# The testfixture must be the SQLite our library is compiled against: the
# version of /usr/include/sqlite3.h, from the same Debian source package.
mb_sqlite_source "$bs"
want_ver=$mb_sqlite_version
src=$mb_sqlite_src

# ------------------------------------------------------------------ build
step "build libmembase.a"
cmake -S "$root" -B "$bs/cmake" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMEMBASE_TESTS=OFF -DMEMBASE_BENCH=OFF >/dev/null
cmake --build "$bs/cmake" -j "$njobs" --target membase_static mb_core
# What was built, for the report: the commit, "-dirty" if the tree had changes.
git -C "$root" describe --always --dirty >"$bs/cmake/.membase-rev" 2>/dev/null ||
    echo "(not a git tree)" >"$bs/cmake/.membase-rev"
lib=$bs/cmake/libmembase.a
corelib=$bs/cmake/libmembase_core.a
# (grep without -q: with pipefail, nm's SIGPIPE would fail the pipeline.)
if ! nm "$lib" 2>/dev/null | grep ' T membase_vfs_register$' >/dev/null && [ -z "$extra_objs" ]; then
    echo "sqlite_suite: $lib has no membase_vfs_register (is vfs/mb_vfs.c there?)" >&2
    exit 1
fi

step "build testfixture (SQLite $want_ver, SQLITE_EXTRA_INIT=membase_testfixture_init)"
fx=$bs/fixture
mkdir -p "$fx"
if [ ! -f "$fx/Makefile" ] || [ ! -f "$fx/.membase-src" ] || [ "$(cat "$fx/.membase-src")" != "$src" ]; then
    rm -rf "$fx" && mkdir -p "$fx"
    (cd "$fx" && "$src/configure" --with-tcl=/usr/lib/tcl8.6 >configure.log 2>&1) ||
        { tail -20 "$fx/configure.log" >&2; echo "sqlite_suite: configure failed" >&2; exit 1; }
    echo "$src" >"$fx/.membase-src"
fi
cc -O2 -g -std=c11 -Wall -Wextra -Werror -I"$root/ext" \
   -c "$root/tests/scripts/sqlite_suite_init.c" -o "$fx/sqlite_suite_init.o"
# make only knows the C sources; relink when what we link in has changed.
link_in="$fx/sqlite_suite_init.o $extra_objs $lib $corelib"
# shellcheck disable=SC2086
stamp=$(cat $link_in | sha256sum | cut -d' ' -f1)
if [ ! -x "$fx/testfixture" ] || [ "$(cat "$fx/.membase-link" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$fx/testfixture"
    t0=$(now)
    if ! make -C "$fx" testfixture \
            OPTS="-DSQLITE_EXTRA_INIT=membase_testfixture_init" \
            LIBS="$link_in -lpthread -lm" >"$fx/make.log" 2>&1; then
        tail -30 "$fx/make.log" >&2
        echo "sqlite_suite: building testfixture failed ($fx/make.log)" >&2
        exit 1
    fi
    echo "$stamp" >"$fx/.membase-link"
    echo "testfixture built in $(( $(now) - t0 )) s"
else
    echo "testfixture up to date"
fi
testfixture=$fx/testfixture
testdir=$src/test

# ------------------------------------------------------------------ file sets
# Multi-process files: those that start another testfixture on the same
# database files (crash tests, multi-client tests). Found by what they call:
mp_regex='do_multiclient_test|launch_testfixture|testfixture_nb|crashsql|nameofexec|open +"?\|'
mapfile -t mp_files < <(cd "$src" && grep -lE "$mp_regex" test/*.test ext/rtree/*.test \
    ext/fts5/test/*.test ext/expert/*.test ext/lsm1/test/*.test ext/recover/*.test \
    ext/session/*.test 2>/dev/null | xargs -n1 basename | sort -u)
# process: veryquick minus the multi-process files (a child process would
# take the OS locks that membase-process holds for the whole process, which
# is a different configuration). Files that open the same database through
# two VFSes in one process stay in: that is a real use of membase-process.
process_omit=$(printf '^%s$,' "${mp_files[@]//./\\.}"); process_omit=${process_omit%,}
# mixed: mmap1 mmap4 lock2 lock6 and wal*.test, except walthread.test (one
# process, many threads, 145 s) and walcrash3.test (130 s of crash loops).
mixed_files=(mmap1.test mmap4.test lock2.test lock6.test)
for f in "$testdir"/wal*.test; do
    case ${f##*/} in walthread.test|walcrash3.test) ;; *) mixed_files+=("${f##*/}") ;; esac
done
# --quick: a few files per run that touch the pager, the WAL, mmap and locking.
quick_files=(pager1.test pager2.test pager3.test wal.test wal2.test wal5.test walro.test
             mmap1.test mmap3.test lock.test lock2.test journal1.test trans.test
             backup2.test vacuum.test corrupt2.test incrblob.test e_walauto.test init.test)
quick_mixed=(mmap1.test lock2.test wal.test wal3.test wal5.test walro.test walcrash.test)
is_mp() { local f; for f in "${mp_files[@]}"; do [ "$f" = "$1" ] && return 0; done; return 1; }

# ------------------------------------------------------------------ runs
mkdir -p "$logs" "$work"
if [ "$(id -u)" -eq 0 ]; then
    run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    owner=nobody:nogroup
else
    run_as=()
    owner=
fi

# A job: "RUN SIDE ENV FILE ARGS...", ENV being VAR=VALUE;VAR=VALUE or "-".
jobs_list=()
add_job() { jobs_list+=("$*"); }
for r in "${only[@]}"; do
    envx=
    case $r in
    veryquick)
        if [ $quick -eq 1 ]; then args="permutations.test veryquick ${quick_files[*]}"
        else args="veryquick.test"; fi
        vfs="MEMBASE_SUITE_VFS=membase" ;;
    mmap)
        if [ $quick -eq 1 ]; then args="permutations.test mmap ${quick_files[*]}"
        else args="permutations.test mmap"; fi
        vfs="MEMBASE_SUITE_VFS=membase" ;;
    process)
        if [ $quick -eq 1 ]; then
            sel=(); for f in "${quick_files[@]}"; do is_mp "$f" || sel+=("$f"); done
            args="permutations.test veryquick ${sel[*]}"
        else args="veryquick.test"; envx="QUICKTEST_OMIT=$process_omit"; fi
        vfs="MEMBASE_SUITE_VFS=membase-process" ;;
    mixed)
        if [ $quick -eq 1 ]; then args="permutations.test ${quick_mixed[*]}"
        else args="permutations.test ${mixed_files[*]}"; fi
        vfs="MEMBASE_SUITE_VFS=membase;MEMBASE_SUITE_CHILD_VFS=unix" ;;
    esac
    add_job "$r baseline ${envx:--} $args"
    add_job "$r $(side_name "$r") $vfs${envx:+;$envx} $args"
done
# A test file that raises an uncaught Tcl error (or crashes the process) ends
# the whole testfixture run. run_job then starts it again from the next file
# (--start=FILE) and records "FILE(aborted)" as a failure, with the error, so
# one such file does not hide the results of the files after it.
# list.tcl gives the files a run goes through, in its order.
cat >"$work/list.tcl" <<'EOF_TCL'
# list.tcl TESTDIR FILE ARGS...: the test files "testfixture FILE ARGS" runs,
# in its order (run_tests sorts its -files list).
set mb_testdir [lindex $argv 0]
set mb_file [lindex $argv 1]
set mb_args [lrange $argv 2 end]
set argv0 [file join $mb_testdir membase-list.test]  ;# so permutations.test has no main
set argv {}
source [file join $mb_testdir permutations.test]
set pats {}
if {$mb_file eq "permutations.test" && [llength $mb_args]} {
  set suite [lindex $mb_args 0]
  set pats [lrange $mb_args 1 end]
  if {![info exists ::testspec($suite)]} { set pats $mb_args; set suite default }
} else {
  set suite [file rootname $mb_file]
}
if {[llength $pats]} {
  set files {}
  foreach p $pats {
    set p [string map {% *} $p]
    foreach f $::alltests {
      if {[lsearch $files $f]<0 && [string match $p [file tail $f]]} { lappend files $f }
    }
  }
} else {
  array set o $::testspec($suite)
  set files $o(-files)
}
foreach f [lsort $files] { puts "MBFILE [file tail $f]" }
exit 0
EOF_TCL
run_job() {
    local run=$1 side=$2 envs=$3 file=$4; shift 4
    local dir=$work/$run-$side log=$logs/$run-$side.log seg=$logs/$run-$side.seg
    local aborted=$logs/$run-$side.aborted list=$work/$run-$side.files
    local t0 rc more start=() n=0 bad_file msg last next fails
    local envv=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$dir" LANG=C.UTF-8)
    if [ "$envs" != - ]; then IFS=';' read -r -a more <<<"$envs"; envv+=("${more[@]}"); fi
    rm -rf "$dir" "$list"; mkdir -p "$dir"
    [ -n "$owner" ] && chown "$owner" "$dir"
    : >"$log"; : >"$aborted"
    t0=$(now)
    while :; do
        set +e
        (cd "$dir" && exec timeout -k 10 "$timeout_s" "${run_as[@]}" env -i "${envv[@]}" \
            "$testfixture" "$testdir/$file" "$@" "${start[@]}" >"$seg" 2>&1)
        rc=$?
        set -e
        cat "$seg" >>"$log"
        # Finished (summary printed), timed out, or too many restarts: done.
        if grep -a -E '^[0-9]+ errors out of [0-9]+ tests' "$seg" >/dev/null ||
           [ $rc -eq 124 ] || [ $rc -eq 137 ] || [ $n -ge 25 ]; then break; fi
        n=$((n + 1))
        # No summary from this part: count its tests and failures from its
        # lines ("! NAME expected:" and "NAME..." + "Error:"), so that the
        # report does not lose them.
        fails=$(awk '/^! [^ ]+ expected: / { print $2 }
                     prev ~ /\.\.\.$/ && /^Error: / { sub(/\.\.\.$/, "", prev); print prev }
                     { prev = $0 }' "$seg" | sort -u)
        {
            echo "(sqlite_suite.sh: this part of the run stopped before its summary; from its lines:)"
            echo "$(grep -c . <<<"$fails" || true) errors out of $(grep -a -c '^[^ !]*\.\.\.' "$seg" || true) tests"
            [ -n "$fails" ] && echo "!Failures on these tests: $(tr '\n' ' ' <<<"$fails")"
        } >>"$log"
        if [ ! -s "$list" ]; then
            mkdir -p "$dir.list"
            (cd "$dir.list" && env -i "${envv[@]}" "$testfixture" \
                "$work/list.tcl" "$testdir" "$file" "$@" 2>/dev/null) |
                sed -n 's/^MBFILE //p' >"$list" || true
            rm -rf "$dir.list"
        fi
        # The file that stopped the run: the one being sourced in the Tcl
        # error's trace; after a crash, the one after the last "Time:" line.
        bad_file=$(sed -n 's/^"source \(.*\.test\)"$/\1/p' "$seg" | tail -1)
        bad_file=${bad_file##*/}
        if [ -n "$bad_file" ]; then
            msg=$(grep -a -B1 -m1 '^    while executing' "$seg" | head -1 | sed 's/^.*testfixture: //' || true)
        else
            last=$(sed -n 's/^Time: \([^ ]*\) .*/\1/p' "$seg" | tail -1)
            if [ -n "$last" ]; then bad_file=$(grep -A1 -xF "$last" "$list" | sed -n 2p || true)
            elif [ ${#start[@]} -gt 0 ]; then bad_file=${start[0]#--start=}
            else bad_file=$(head -1 "$list"); fi
            msg="process died (exit $rc): $(grep -a -v '^\s*$' "$seg" | tail -1 || true)"
        fi
        [ -n "$bad_file" ] || break
        printf '%s\t%s\n' "$bad_file" "$msg" >>"$aborted"
        echo "  !     $run $side: $bad_file stopped the run ($(cut -c1-100 <<<"$msg")); going on after it"
        next=$(grep -A1 -xF "$bad_file" "$list" | sed -n 2p || true)
        [ -n "$next" ] || break
        start=("--start=$next")
    done
    rm -f "$seg"
    echo "$rc $(( $(now) - t0 ))" >"$logs/$run-$side.rc"
    printf '  done  %-10s %-16s %s  %4d s  exit %d\n' "$run" "$side" "$(date +%T)" "$(( $(now) - t0 ))" "$rc"
}

# Before the long runs: does each side get the default VFS it should, in the
# test process and in a child it spawns the way the tests do ([exec [info
# nameofexec] ...])? Mixed mode relies on Tcl's exec passing on the
# environment that membase_testfixture_init changed.
step "check the default VFS of each side, parent and child"
if [ -n "$owner" ] && ! { "${run_as[@]}" test -x "$testfixture" &&
                           "${run_as[@]}" test -r "$testdir/tester.tcl"; }; then
    echo "sqlite_suite: user nobody cannot reach $bs (a parent directory is not" \
         "world-readable?); set MEMBASE_SUITE_DIR to a directory it can reach" >&2
    exit 1
fi
pre=$work/preflight
rm -rf "$pre"; mkdir -p "$pre"
[ -n "$owner" ] && chown "$owner" "$pre"
cat >"$pre/vfs.tcl" <<'EOF_TCL'
sqlite3_shutdown; sqlite3_initialize   ;# as tester.tcl does at start-up
set vfs [lindex [sqlite3_vfs_list] 0]
if {[lindex $argv 0] eq "child"} { puts $vfs; exit 0 }
puts "$vfs [exec [info nameofexec] [info script] child]"
EOF_TCL
preflight() {   # ENV EXPECTED
    local envv=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$pre" LANG=C.UTF-8) more got
    if [ "$1" != - ]; then IFS=';' read -r -a more <<<"$1"; envv+=("${more[@]}"); fi
    got=$(cd "$pre" && timeout 60 "${run_as[@]}" env -i "${envv[@]}" "$testfixture" vfs.tcl 2>&1) || true
    printf '  %-58s parent, child: %s\n' "$1" "$got"
    if [ "$got" != "$2" ]; then
        echo "sqlite_suite: expected \"$2\"" >&2
        exit 1
    fi
}
preflight - "unix unix"
preflight "MEMBASE_SUITE_VFS=membase" "membase membase"
preflight "MEMBASE_SUITE_VFS=membase-process" "membase-process membase-process"
preflight "MEMBASE_SUITE_VFS=membase;MEMBASE_SUITE_CHILD_VFS=unix" "membase unix"

step "run ${only[*]}$([ $quick -eq 1 ] && echo ' (--quick)') with $njobs at once; logs in $logs"
rm -f "$logs"/*.rc
set -f
for j in "${jobs_list[@]}"; do
    # shellcheck disable=SC2086
    set -- $j
    while [ "$(jobs -rp | wc -l)" -ge "$njobs" ]; do wait -n || true; done
    printf '  start %-10s %-16s %s\n' "$1" "$2" "$(date +%T)"
    run_job "$@" &
done
wait
set +f

fi   # report_only

# ------------------------------------------------------------------ report
# (grep -a: the logs hold a few bytes of binary test data, and grep would
# answer "binary file matches" instead of the lines.)
# parse RUN SIDE: sets p_status, p_tests, p_errors, p_secs, p_fail (sorted names).
parse() {
    local log=$logs/$1-$2.log rcf=$logs/$1-$2.rc rc=255 secs='?' sums
    [ -f "$rcf" ] && read -r rc secs <"$rcf"
    p_secs=$secs
    if [ ! -f "$log" ]; then
        p_status="NOT RUN (no $log)"; p_errors=; p_tests=; p_fail=
        return
    fi
    # A run restarted after an aborted file has one summary per part: add up.
    sums=$(grep -a -E '^[0-9]+ errors out of [0-9]+ tests' "$log" 2>/dev/null || true)
    if [ -n "$sums" ]; then
        p_errors=$(awk '{e += $1} END {print e}' <<<"$sums")
        p_tests=$(awk '{t += $5} END {print t}' <<<"$sums")
    else p_errors=; p_tests=; fi
    p_fail=$(grep -a -E '^!Failures on these tests:' "$log" 2>/dev/null |
             sed 's/^!Failures on these tests://' | tr ' ' '\n' || true)
    # Counted as errors by the harness, but under no test name:
    if grep -a -E '^Unfreed memory: ' "$log" >/dev/null 2>&1; then p_fail+=$'\n'"(unfreed-memory)"; fi
    if grep -a -E '^[0-9]+ files were left open' "$log" >/dev/null 2>&1; then p_fail+=$'\n'"(files-left-open)"; fi
    if [ -s "$logs/$1-$2.aborted" ]; then
        p_fail+=$'\n'$(cut -f1 "$logs/$1-$2.aborted" | sed 's/$/(aborted)/')
        p_errors=$(( ${p_errors:-0} + $(wc -l <"$logs/$1-$2.aborted") ))
    fi
    p_fail=$(sed '/^$/d' <<<"$p_fail" | sort -u)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then p_status="TIMEOUT after ${secs} s"
    elif [ -z "$sums" ] && [ ! -s "$logs/$1-$2.aborted" ]; then
        p_status="CRASHED/ABORTED (exit $rc; last line: $(grep -a -v '^\s*$' "$log" 2>/dev/null | tail -1 | cut -c1-160 || true))"
    else p_status=ok; fi
}
# what_said LOG TEST: the harness's lines about one failed test: its
# "TEST..." line and what follows up to the next test, and "! TEST ..." lines.
what_said() {
    case $2 in
        *"(aborted)") grep -F "${2%(aborted)}"$'\t' "${1%.log}.aborted" | cut -f2 | head -3; return ;;
        "(unfreed-memory)") grep -a -E '^Unfreed memory' "$1" | head -2; return ;;
        "(files-left-open)") grep -a -E 'files were left open' "$1" | head -2; return ;;
    esac
    awk -v t="$2" '
        index($0, t "...") == 1 { on = 1; n = 0; print; next }
        on && /^[^ !]+\.\.\./    { on = 0 }
        on && /^Time: /          { on = 0 }
        on && n < 8              { print; n++ }
        !on && index($0, "! " t " ") == 1 { print }
    ' "$1" | awk '!seen[$0]++' | head -12
}
# Tests of the "process" run that cannot pass with membase_locking=process,
# by its design, each with the reason (docs/GUIDE.md, "Locking modes"). They are
# listed in the report under their reason and do not fail the run; any other
# membase-only failure does. Keep this list exact: a name, or a pattern
# of one group of cases of one test.
by_design() {   # TEST -> prints the reason, or nothing
    case $1 in
        delete_db-1.2.0|delete_db-1.4.0|e_wal-3.1|"e_walauto.test(aborted)"|\
        wal2-12.2.[1-4].[34]|wal2-13.*|wal64k-1.[12]|wal9-1.5|walpersist-1.1|\
        walpersist-1.4|walpersist-1.11)
            echo "the WAL index is in process memory: there is no -shm file to look at" ;;
        exclusive-5.[1-57]|shared-1.1.1|shared-1.2.1|shared-1.4.1.[23]|shared-2.1.1|\
        shared-2.2.1|shared-2.4.1.[23]|stmt-1.[2-7]|stmt-1.6.[12]|stmt-2.[1-46]|\
        swarmvtab-1.x|tempdb-2.[23])
            echo "one more open file per database: the one that holds the OS lock (sqlite_open_file_count)" ;;
        incrcorrupt-2.*|corruptL-17.2|tkt3457-1.[2-4]|jrnlmode2-2.6)
            echo "the test changes the database or its journal behind SQLite's back while the process holds it; process mode trusts its exclusive OS lock" ;;
    esac
}

report() {
    echo "SQLite $want_ver test suite on membase: $(date -u '+%F %T') UTC, $(nproc) CPUs$([ $quick -eq 1 ] && echo ', --quick')"
    echo "membase $(cat "$bs/cmake/.membase-rev" 2>/dev/null)$([ -n "$extra_objs" ] && echo ", with $extra_objs linked first")"
    local r mside all only_m t bf mf
    for r in "${only[@]}"; do
        mside=$(side_name "$r")
        parse "$r" baseline
        b_status=$p_status b_tests=$p_tests b_errors=$p_errors b_fail=$p_fail b_secs=$p_secs
        parse "$r" "$mside"
        m_status=$p_status m_tests=$p_tests m_errors=$p_errors m_fail=$p_fail m_secs=$p_secs
        echo
        echo "== $r"
        printf '   %-16s %5s errors out of %7s tests, %4s s  %s\n' baseline "${b_errors:-?}" \
            "${b_tests:-?}" "$b_secs" "$([ "$b_status" = ok ] || echo "$b_status")"
        printf '   %-16s %5s errors out of %7s tests, %4s s  %s\n' "$mside" "${m_errors:-?}" \
            "${m_tests:-?}" "$m_secs" "$([ "$m_status" = ok ] || echo "$m_status")"
        [ "$b_status" = ok ] || bad=1
        [ "$m_status" = ok ] || bad=1
        all=$(printf '%s\n%s\n' "$b_fail" "$m_fail" | sed '/^$/d' | sort -u)
        only_m=$(comm -13 <(echo "$b_fail") <(echo "$m_fail") | sed '/^$/d')
        if [ -n "$all" ]; then
            printf '   %-48s %-9s %s\n' "failed test" baseline "$mside"
            while read -r t; do
                bf=.; mf=.
                grep -qxF -- "$t" <<<"$b_fail" && bf=FAIL
                grep -qxF -- "$t" <<<"$m_fail" && mf=FAIL
                printf '   %-48s %-9s %s\n' "$t" "$bf" "$mf"
            done <<<"$all"
        fi
        if [ "$r" = process ] && [ -n "$only_m" ]; then
            local designed=() rest=() why
            while read -r t; do
                why=$(by_design "$t")
                if [ -n "$why" ]; then designed+=("$why"$'\t'"$t"); else rest+=("$t"); fi
            done <<<"$only_m"
            if [ ${#designed[@]} -gt 0 ]; then
                echo "   -- $(( ${#designed[@]} )) fail only with $mside, by its design:"
                printf '%s\n' "${designed[@]}" | sort | awk -F'\t' '
                    $1 != last { if (last != "") print line; line = "      (" $1 "): " $2; last = $1; next }
                    { line = line " " $2 }
                    END { if (last != "") print line }' | fold -s -w 110 | sed 's/^\([^ ]\)/         \1/'
            fi
            only_m=$(printf '%s\n' "${rest[@]}" | sed '/^$/d')
        fi
        if [ -n "$only_m" ]; then
            bad=1
            echo "   -- $(wc -l <<<"$only_m") fail only with $mside; the harness said:"
            while read -r t; do
                echo "   [$t]"
                what_said "$logs/$r-$mside.log" "$t" | LC_ALL=C tr -c '\11\12\40-\176' '?' |
                    cut -c1-300 | sed 's/^/      /' || true
            done <<<"$only_m"
        fi
    done
    echo
    echo "total $(( $(now) - t_start )) s; logs in $logs"
}
summary=$logs/summary.txt
bad=0
report >"$summary"
cat "$summary"
if [ $bad -ne 0 ]; then
    echo "sqlite_suite: FAILED: membase fails tests that the baseline passes, or a run did not finish"
    exit 1
fi
echo "sqlite_suite: membase passes every test that the baseline passes"
