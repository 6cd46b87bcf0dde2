# mingw-w64-x86_64.cmake -- cross-compile MemBase for 64-bit Windows with
# mingw-w64 (Debian: gcc-mingw-w64-x86-64) and run what it builds under
# Wine, so ctest runs the Windows unit tests on Linux:
#
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#         -DMEMBASE_CORE_ONLY=ON
#   cmake --build build-win && (cd build-win && ctest --output-on-failure)
#
# tests/scripts/windows.sh does exactly that. The Wine prefix lives in the build
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

# Self-contained executables: no libgcc DLL to find at run time under Wine.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static-libgcc")

# ctest (and try_run) start every test program through this wrapper.
set(CMAKE_CROSSCOMPILING_EMULATOR
    "${CMAKE_CURRENT_LIST_DIR}/../tests/scripts/wine-run.sh;--prefix;${CMAKE_BINARY_DIR}/wineprefix")
