#!/usr/bin/env bash
# tests/scripts/fuzz.sh -- build the libFuzzer targets of tests/fuzz/, replay their
# seed corpus and regression inputs, then fuzz each for a bounded time.
#
#   bash tests/scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
#
# Builds with clang -fsanitize=fuzzer,address,undefined into build-fuzz/
# (the product sources linked in directly, compiled with -DSQLITE_CORE like
# CMake's membase_static, against the system libsqlite3). Then:
#   1. replays tests/fuzz/corpus/<target>/ and tests/fuzz/regressions/<target>/
#      (any crash fails the run at once);
#   2. fuzzes every target for SECONDS, two at a time, from a copy of its seed
#      corpus in build-fuzz/work/<target>/ (the committed corpus is never
#      written), and prints the executions of each.
# Fails (exit 1) if any target crashes, leaks, times out (10 s per input) or
# runs out of memory (2 GiB); the input is left in
# build-fuzz/artifacts/<target>/ and should be copied into
# tests/fuzz/regressions/<target>/ once the bug is fixed.
# With MB_REPORT_DIR set, appends to $MB_REPORT_DIR/fuzz.tsv:
#   execs.<target>  seconds.<target>  (per target)   and   crashes
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${1:-60}
case $secs in
    ''|*[!0-9]*) echo "usage: bash tests/scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac

# shellcheck source=tests/scripts/deps.sh
. "$root/tests/scripts/deps.sh"
mb_require "command -v clang" clang
mb_require "compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'" libclang-rt-14-dev
mb_require "test -f /usr/include/sqlite3.h" libsqlite3-dev
mb_install_missing

fz=$root/tests/fuzz
out=$root/build-fuzz
targets=(layout npy options records lines)
declare -A max_len=([layout]=512 [npy]=4096 [options]=512 [records]=8192 [lines]=32768)

cc=${MB_FUZZ_CC:-clang}
warn=(-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
      -Wpointer-arith -Wcast-align -Wformat=2 -Wundef -Wvla -Wwrite-strings
      -Wold-style-definition -Wnull-dereference -Wdouble-promotion)
# shellcheck disable=SC2054  # the commas are clang's
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
cflags=(-std=c11 -g -O1 "${warn[@]}" "${san[@]}" -DSQLITE_CORE=1
        -I"$root/core" -I"$root/ext" -I"$root/vtab" -I"$root/vfs")

# A 64 MiB quarantine (ASan: 256) keeps two targets well under -rss_limit_mb.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Scratch files of the targets (one per process and role; see fuzz_util.h).
if [ -w /dev/shm ]; then scratch=/dev/shm/mbfuzz-$$; else scratch=$out/tmp-$$; fi
mkdir -p "$scratch"
export MB_FUZZ_TMPDIR=$scratch
trap 'rm -rf "$scratch"' EXIT

t_start=$(date +%s)

# ------------------------------------------------------------------ build
echo "== build ($cc, into build-fuzz/)"
mkdir -p "$out/obj"
# Every source of core/ but the Windows backend, and all of ext/ vfs/ vtab/
# (as CMake's membase_static: the globs follow files added there).
srcs=()
for d in core ext vfs vtab; do
    for f in "$root/$d"/*.c; do
        case $f in *_win.c) continue ;; esac
        srcs+=("$d/$(basename "$f")")
    done
done
export MB_FZ_CC=$cc MB_FZ_ROOT=$root MB_FZ_OUT=$out
# The product: instrumented for coverage (fuzzer-no-link), two compilers at a time.
# shellcheck disable=SC2016  # expanded by the inner bash
printf '%s\n' "${srcs[@]}" | xargs -P 2 -I{} bash -c '
    set -euo pipefail
    src=$1; shift
    obj=$MB_FZ_OUT/obj/$(echo "$src" | tr / _).o
    "$MB_FZ_CC" "$@" -fsanitize=fuzzer-no-link -c "$MB_FZ_ROOT/$src" -o "$obj"
' _ {} "${cflags[@]}"
rm -f "$out/libmbfuzz.a"
ar rcs "$out/libmbfuzz.a" "$out"/obj/*.o
for t in "${targets[@]}"; do
    "$cc" "${cflags[@]}" -Werror -fsanitize=fuzzer "$fz/fuzz_$t.c" "$out/libmbfuzz.a" \
        -lsqlite3 -lpthread -lm -o "$out/fuzz_$t"
done
t_built=$(date +%s)
echo "   built in $((t_built - t_start)) s"

# ------------------------------------------------------------------ replay
echo "== replay corpus and regressions"
for t in "${targets[@]}"; do
    mapfile -t inputs < <(find "$fz/corpus/$t" "$fz/regressions/$t" -type f \
                               ! -name 'README*' 2>/dev/null | sort)
    if [ ${#inputs[@]} -eq 0 ]; then
        echo "fuzz: no seed inputs for $t in tests/fuzz/corpus/$t" >&2
        exit 1
    fi
    log=$out/replay-$t.log
    if ! "$out/fuzz_$t" -timeout=10 -rss_limit_mb=2048 "${inputs[@]}" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz: $t crashed while replaying its corpus/regressions (log: $log)" >&2
        exit 1
    fi
    echo "   $t: ${#inputs[@]} inputs ok"
done

# ------------------------------------------------------------------ fuzz
# A target's run: writes $out/result-<t> = "rc execs seconds".
# A timeout is confirmed by replaying its input alone: on a loaded machine
# (other jobs on the 2 cores) libFuzzer's alarm can fire on an input that
# takes milliseconds. One that runs in time alone is set aside as
# artifacts/<t>/unconfirmed-*, said so, and fuzzing resumes for the time
# left; one that times out again fails the run like a crash.
fuzz_one() {
    local t=$1 work=$out/work/$1 art=$out/artifacts/$1 log=$out/fuzz-$1.log
    local dict=() t0 now left rc=0 execs=0 n input tries=0
    mkdir -p "$work" "$art"
    cp -n "$fz/corpus/$t"/* "$work"/ 2>/dev/null || true
    [ -f "$fz/dict/$t.dict" ] && dict=(-dict="$fz/dict/$t.dict")
    : >"$log"
    t0=$(date +%s)
    left=$secs
    while :; do
        rc=0
        "$out/fuzz_$t" "$work" -max_total_time="$left" -max_len="${max_len[$t]}" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$art/" "${dict[@]}" >"$log.part" 2>&1 || rc=$?
        cat "$log.part" >>"$log"
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.part" | tail -n 1)
        # with a crash there are no final stats: take the last status line
        [ -n "$n" ] || n=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log.part" | tail -n 1)
        execs=$((execs + ${n:-0}))
        [ "$rc" -ne 0 ] || break
        input=$(sed -n 's/.*Test unit written to \(.*timeout-.*\)$/\1/p' "$log.part" | tail -n 1)
        if [ -z "$input" ] || [ ! -f "$input" ]; then break; fi
        tries=$((tries + 1))
        if [ "$tries" -gt 3 ] || ! "$out/fuzz_$t" -timeout=10 -rss_limit_mb=2048 "$input" \
                >>"$out/fuzz-$t.replay.log" 2>&1; then
            break
        fi
        mv "$input" "$art/unconfirmed-${input##*/timeout-}"
        echo "fuzz: $t: timeout not reproduced alone (machine load $(cut -d' ' -f1 /proc/loadavg)); resuming" \
            | tee -a "$log" >&2
        now=$(date +%s)
        left=$((secs - (now - t0)))
        if [ "$left" -lt 5 ]; then rc=0; break; fi
    done
    rm -f "$log.part"
    echo "$rc $execs $(( $(date +%s) - t0 ))" >"$out/result-$t"
}

echo "== fuzz $secs s per target, 2 at a time"
rm -f "$out"/result-*
running=0
for t in "${targets[@]}"; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge 2 ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

crashes=0
report=()
for t in "${targets[@]}"; do
    read -r rc execs took <"$out/result-$t"
    printf '   %-8s %10s executions in %3s s' "$t" "$execs" "$took"
    if [ "$rc" -ne 0 ]; then
        crashes=$((crashes + 1))
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out/fuzz-$t.log" | tail -n 1)
        printf '  FAILED (exit %s)\n' "$rc"
        grep -m 3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|check failed|fuzz_[a-z]+: ' \
            "$out/fuzz-$t.log" | sed 's/^/      /' >&2 || true
        echo "      log: $out/fuzz-$t.log" >&2
        echo "      input: ${artifact:-(none written; see the log)}" >&2
        echo "      reproduce: $out/fuzz_$t ${artifact:-<input>}" >&2
        echo "      after the fix, copy it into tests/fuzz/regressions/$t/" >&2
    else
        printf '\n'
    fi
    report+=("execs.$t	$execs" "seconds.$t	$took")
done
report+=("crashes	$crashes")
if [ -n "${MB_REPORT_DIR:-}" ]; then
    mkdir -p "$MB_REPORT_DIR"
    printf '%s\n' "${report[@]}" >>"$MB_REPORT_DIR/fuzz.tsv"
fi
echo "== fuzz: $crashes failing target(s); wall time $(( $(date +%s) - t_start )) s"
[ "$crashes" -eq 0 ]
