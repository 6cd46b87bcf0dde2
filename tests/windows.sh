#!/bin/sh
# windows.sh -- cross-compile the mapping core for Windows with mingw-w64
# and run its C unit tests under Wine.
#
#   tests/windows.sh [build-dir]      (default: build-win/ in the source tree)
#
# Installs nothing. Needs x86_64-w64-mingw32-gcc and /usr/lib/wine/wine64;
# if either is missing it prints the apt-get line and exits 2. Any build or
# test failure exits non-zero.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-win}

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
