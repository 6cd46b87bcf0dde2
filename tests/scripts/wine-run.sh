#!/bin/sh
# wine-run.sh -- run a Windows console program under Wine, headless.
#
#   tests/scripts/wine-run.sh [--prefix DIR] [--path DLLDIR] program.exe [args...]
#
# The CMake toolchain cmake/mingw-w64-x86_64.cmake uses this as
# CMAKE_CROSSCOMPILING_EMULATOR, so ctest runs the Windows tests on Linux.
# The program's exit status is passed through.
#
# Headless: no display is needed or used (DISPLAY is unset so a developer's
# X server never gets a dialog), the Mono/Gecko installers that a fresh
# prefix would offer are disabled, and Wine's debug chatter is off.
# --path puts DLLDIR on WINEPATH, where Wine looks for the DLLs a program
# imports (sqlite3.dll), after the program's own folder.
# The prefix (default: $WINEPREFIX, else ~/.wine) is created on first use,
# once, under a lock, so parallel ctest jobs do not race to create it.
set -eu

prefix=${WINEPREFIX:-${HOME:-/tmp}/.wine}
while [ $# -ge 2 ]; do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --path) WINEPATH=$2${WINEPATH:+;$WINEPATH}; export WINEPATH; shift 2 ;;
        *) break ;;
    esac
done
if [ $# -lt 1 ]; then
    echo "usage: $0 [--prefix DIR] [--path DLLDIR] program.exe [args...]" >&2
    exit 2
fi

WINE=${WINE:-/usr/lib/wine/wine64}
if [ ! -x "$WINE" ]; then
    echo "wine-run.sh: $WINE not found; install it with:" >&2
    echo "apt-get install -y gcc-mingw-w64-x86-64 wine64" >&2
    exit 2
fi
wineserver=$(dirname "$WINE")/wineserver

export WINEPREFIX="$prefix"
export WINEARCH=win64
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY WAYLAND_DISPLAY

# Create the prefix once. wineboot -i builds it; wineserver -w waits until
# it is written out, so the next program starts on a complete prefix.
if [ ! -f "$prefix/system.reg" ]; then
    mkdir -p "$prefix"
    (
        if command -v flock >/dev/null 2>&1; then flock 9; fi
        if [ ! -f "$prefix/system.reg" ]; then
            "$WINE" wineboot -i >/dev/null 2>&1 || true
            if [ -x "$wineserver" ]; then "$wineserver" -w || true; fi
        fi
    ) 9>"$prefix.lock"
fi

exec "$WINE" "$@"
