# aarch64-linux-gnu.cmake -- cross-compile MemBase for Linux arm64 with
# Debian's cross compiler (gcc-aarch64-linux-gnu) against a private arm64
# sysroot of Debian packages (libsqlite3-dev, tcl8.6, ...), and run what it
# builds under qemu-user (qemu-user-static), explicitly: binfmt_misc is not
# needed.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DMB_ARM64_SYSROOT=build-arm64/sysroot
#   cmake --build build-arm64 && (cd build-arm64 && ctest --output-on-failure)
#
# tests/scripts/arm64.sh builds the sysroot (apt-get download, dpkg-deb -x)
# and does all of this. The C library comes from the cross compiler's own
# tree (/usr/aarch64-linux-gnu); the sysroot adds what Debian's cross
# packages do not have (SQLite, Tcl) and the run-time libraries qemu loads.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(MB_ARM64_TRIPLE aarch64-linux-gnu)
find_program(CMAKE_C_COMPILER NAMES ${MB_ARM64_TRIPLE}-gcc REQUIRED)
find_program(CMAKE_AR NAMES ${MB_ARM64_TRIPLE}-gcc-ar ${MB_ARM64_TRIPLE}-ar)
find_program(CMAKE_RANLIB NAMES ${MB_ARM64_TRIPLE}-gcc-ranlib ${MB_ARM64_TRIPLE}-ranlib)

if(NOT MB_ARM64_SYSROOT)
  set(MB_ARM64_SYSROOT "${CMAKE_BINARY_DIR}/sysroot")
endif()
set(MB_ARM64_SYSROOT "${MB_ARM64_SYSROOT}" CACHE PATH "arm64 Debian packages extracted (tests/scripts/arm64.sh)")
# try_compile projects read this file again: hand them the same sysroot
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MB_ARM64_SYSROOT)
if(NOT EXISTS "${MB_ARM64_SYSROOT}/usr/include/sqlite3.h")
  message(FATAL_ERROR "no arm64 sysroot at ${MB_ARM64_SYSROOT}: tests/scripts/arm64.sh builds it")
endif()

# Headers and libraries from the sysroot and the cross libc, programs from
# the host.
set(CMAKE_FIND_ROOT_PATH "${MB_ARM64_SYSROOT}" /usr/${MB_ARM64_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# libsqlite3.so's own dependencies (libm, libc) resolve in the cross libc;
# -rpath-link lets the linker find any that live in the sysroot only.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${MB_ARM64_SYSROOT}/usr/lib/${MB_ARM64_TRIPLE}:${MB_ARM64_SYSROOT}/lib/${MB_ARM64_TRIPLE}")

# ctest (and try_run) start every test program through qemu; -L makes the
# sysroot the root for the dynamic loader and the libraries.
find_program(MB_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${MB_QEMU_AARCH64};-L;${MB_ARM64_SYSROOT}")
