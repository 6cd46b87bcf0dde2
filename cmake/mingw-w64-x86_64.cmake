# mingw-w64-x86_64.cmake -- cross-compile MemBase for 64-bit Windows with
# mingw-w64 (Debian: gcc-mingw-w64-x86-64) and run what it builds under
# Wine, so ctest runs the Windows unit tests on Linux:
#
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#         -DMEMBASE_CORE_ONLY=ON
#   cmake --build build-win && (cd build-win && ctest --output-on-failure)
#
# The whole extension (membase.dll, the SQL script driver mbsql.exe, the C
# tests of the VFS) needs a Windows SQLite: tests/scripts/sqlite_win.sh
# builds one into build-suite/win, and
#
#   cmake ... -DSQLite3_INCLUDE_DIR=build-suite/win/include \
#             -DSQLite3_LIBRARY=build-suite/win/libsqlite3.dll.a \
#             -DMEMBASE_WINE_DLL_DIR=build-suite/win
#
# (absolute paths) builds and tests it. tests/scripts/windows.sh does both. The Wine prefix lives in the build
# directory (build-win/wineprefix), so a build never touches ~/.wine.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MB_MINGW_TRIPLE x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${MB_MINGW_TRIPLE}-gcc ${MB_MINGW_TRIPLE}-gcc-win32 REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${MB_MINGW_TRIPLE}-windres)
find_program(CMAKE_AR NAMES ${MB_MINGW_TRIPLE}-gcc-ar ${MB_MINGW_TRIPLE}-ar)
find_program(CMAKE_RANLIB NAMES ${MB_MINGW_TRIPLE}-gcc-ranlib ${MB_MINGW_TRIPLE}-ranlib)

# Headers and libraries come from the mingw sysroot, programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${MB_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained programs and DLLs: no libgcc DLL to find at run time under
# Wine (membase.dll is loaded into someone else's process).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc")

# Where Wine finds the DLLs the programs import (sqlite3.dll for the whole
# extension's tests: tests/scripts/sqlite_win.sh's build-suite/win). Put on
# WINEPATH by wine-run.sh --path.
set(MEMBASE_WINE_DLL_DIR "" CACHE PATH "Folder of the DLLs (sqlite3.dll) the Windows test programs load under Wine")

# ctest (and try_run) start every test program through this wrapper.
set(CMAKE_CROSSCOMPILING_EMULATOR
    "${CMAKE_CURRENT_LIST_DIR}/../tests/scripts/wine-run.sh;--prefix;${CMAKE_BINARY_DIR}/wineprefix")
if(MEMBASE_WINE_DLL_DIR)
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR --path ${MEMBASE_WINE_DLL_DIR})
endif()
