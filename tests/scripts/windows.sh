#!/bin/sh
# windows.sh -- cross-compile the mapping core for Windows with mingw-w64
# and run its C unit tests under Wine.
#
#   tests/scripts/windows.sh [build-dir]      (default: build-win/ in the source tree)
#
# Installs nothing. Needs x86_64-w64-mingw32-gcc and /usr/lib/wine/wine64;
# if either is missing it prints the apt-get line and exits 2. Any build or
# test failure exits non-zero.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-win}
mkdir -p "$build"
build=$(cd "$build" && pwd)

if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || [ ! -x /usr/lib/wine/wine64 ]; then
    echo "windows.sh: the mingw-w64 cross compiler and Wine are needed. Install them with:" >&2
    echo "apt-get install -y gcc-mingw-w64-x86-64 wine64"
    exit 2
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$src" -B "$build" \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/mingw-w64-x86_64.cmake" \
    -DMEMBASE_CORE_ONLY=ON -DMEMBASE_WERROR=ON
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs"

# The whole extension (VFS, tables, functions) as a Windows DLL: built and
# linked with warnings as errors, not run -- there is no Windows SQLite on
# this machine to load it into. It links without sqlite3.dll: a loadable
# extension reaches SQLite through the API table it is handed.
inc="$build/sqlite-headers"
mkdir -p "$inc"
cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$inc/"
x86_64-w64-mingw32-gcc -std=c11 -O2 -shared -Wall -Wextra -Wpedantic -Werror \
    -I"$inc" -I"$src/core" -o "$build/membase.dll" \
    "$src"/ext/*.c "$src"/vfs/*.c "$src"/vtab/*.c \
    $(ls "$src"/core/*.c | grep -v _posix.c)
echo "windows.sh: membase.dll built ($(wc -c < "$build/membase.dll") bytes; not loaded: no Windows SQLite here)"
