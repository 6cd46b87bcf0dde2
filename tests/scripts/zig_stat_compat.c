/*
** zig_stat_compat.c -- stat, fstat and lstat for the portable Linux build
** (tests/scripts/zig.sh: zig cc -target <arch>-linux-gnu.2.17).
**
** Why: glibc before 2.33 has no stat/fstat/lstat symbols; its libc_nonshared.a
** supplies them as wrappers of __xstat64 and friends. Zig 0.11 links its own
** wrappers instead: a raw newfstatat system call that stores a failure's
** code in a thread-local `errno` compiled into the module, not in glibc's.
** A failed stat then leaves glibc's errno as it was, and MemBase reads a
** stale code (ENOENT reported as something else, or as success's leftover).
** These definitions replace Zig's: they call the versioned glibc entry
** points every glibc since 2.0 exports, which set the real errno.
**
** Only for glibc targets older than 2.33; never part of the CMake build.
*/
#define _GNU_SOURCE 1
#include <sys/stat.h>
#if !defined(__linux__) || !defined(__GLIBC__)
#error "zig_stat_compat.c is for the glibc-2.17 Linux target only"
#endif

/* The struct layout version __xstat64 is asked for: _STAT_VER_LINUX on
** x86_64 (1), _STAT_VER_KERNEL on the generic ABI of aarch64 (0). Newer
** headers dropped _STAT_VER, so it is spelled out here. */
#if defined(__x86_64__)
#  define MB_STAT_VER 1
#elif defined(__aarch64__)
#  define MB_STAT_VER 0
#else
#  error "zig_stat_compat.c: add this architecture's _STAT_VER"
#endif

/* On both 64-bit targets struct stat and struct stat64 are one layout. */
extern int __xstat64(int ver, const char *path, struct stat64 *st);
extern int __fxstat64(int ver, int fd, struct stat64 *st);
extern int __lxstat64(int ver, const char *path, struct stat64 *st);

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
               "struct stat and struct stat64 differ on this target");

int stat(const char *restrict path, struct stat *restrict st) {
    return __xstat64(MB_STAT_VER, path, (struct stat64 *)(void *)st);
}

int fstat(int fd, struct stat *st) {
    return __fxstat64(MB_STAT_VER, fd, (struct stat64 *)(void *)st);
}

int lstat(const char *restrict path, struct stat *restrict st) {
    return __lxstat64(MB_STAT_VER, path, (struct stat64 *)(void *)st);
}
