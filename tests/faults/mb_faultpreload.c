/*
** mb_faultpreload.c -- an LD_PRELOAD library that makes chosen system calls
** fail, for tests/faults/test_faults_preload.c.
**
** It interposes fsync, fdatasync, ftruncate(64), pwrite(64), write,
** msync, mmap(64), fallocate(64) and posix_fallocate(64): every program
** and library in the process (the system libsqlite3, MemBase's core, the
** VFS, the virtual tables) calls them through the dynamic linker, so the
** faults reach code that xSetSystemCall cannot (the core's msync, fsync,
** ftruncate and mmap, and the record table's journal).
**
** Control, found by the driver with dlsym(RTLD_DEFAULT, ...):
**
**   mb_fault_arm(calls, pattern, nth, err)
**     calls:   a mask of MBF_* bits (mb_fault.h), the calls that are watched
**     pattern: only calls on a file whose path contains it are watched
**              (ending in '$': whose path ends with it)
**              (fd calls: the path of /proc/self/fd/N; msync: the file
**              mapped at the address, from /proc/self/maps); stdio,
**              anonymous mappings and every other file pass untouched
**     nth:     the nth watched call (from 1) fails with errno = err;
**              0 = count only; -1 = every watched call fails
**   mb_fault_disarm()                 stop watching (counters stay)
**   mb_fault_seen()                   watched calls since mb_fault_arm
**   mb_fault_fired()                  calls made to fail since then
**   mb_fault_last()                   the name of the last call failed
**   mb_fault_on_kill(fn)              fn(call, path, nth) runs just before
**                                     a kill action (below) raises SIGKILL
**
** The kill action: err = -9 makes the nth watched call raise(SIGKILL)
** before the real call runs, instead of failing (a kill -9 that lands
** exactly at that call: tests/crash/mb_crash.c).
**
** Arming from the environment: when the library is loaded, a constructor
** reads MB_FAULT_ARM="calls:pattern:nth:err" (calls: the mask in hex, with
** or without 0x; nth and err: decimal) and arms with it, so a child of any
** language (Python, Tcl, a C program) can be killed or failed at its Nth
** fsync, msync, pwrite or ftruncate of a file without calling
** mb_fault_arm. Example: MB_FAULT_ARM=0x2d:-mbjournal:3:-9 kills the
** process at its third fsync, ftruncate, pwrite or msync of a -mbjournal.
** The pattern may contain ':' (the first and the last two fields are cut
** off). A malformed value is reported on stderr and exits with status 2:
** a test that silently runs unarmed would prove nothing. The variable is
** inherited: the processes a child starts arm themselves too.
**
** A failed call does nothing and returns -1 (MAP_FAILED for mmap) with
** errno set, as the kernel does for EIO/ENOSPC/ENOMEM. The real functions
** come from dlsym(RTLD_NEXT): under AddressSanitizer the library must be
** preloaded after libasan (the driver sets LD_PRELOAD so).
*/
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "mb_fault.h"

#define MBF_EXPORT __attribute__((visibility("default")))

MBF_EXPORT void mb_fault_arm(unsigned calls, const char *pattern, long nth, int err);
MBF_EXPORT void mb_fault_disarm(void);
MBF_EXPORT long mb_fault_seen(void);
MBF_EXPORT long mb_fault_fired(void);
MBF_EXPORT const char *mb_fault_last(void);
MBF_EXPORT void mb_fault_on_kill(void (*fn)(const char *call, const char *path, long nth));

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned s_calls;          /* 0: disarmed */
static char s_pattern[1024];
static long s_nth, s_seen, s_fired;
static int s_err;
static const char *s_last = "";
static void (*s_onKill)(const char *call, const char *path, long nth);

#define MBF_KILL (-9)   /* err of the kill action */

void mb_fault_arm(unsigned calls, const char *pattern, long nth, int err) {
    pthread_mutex_lock(&s_mu);
    snprintf(s_pattern, sizeof s_pattern, "%s", pattern ? pattern : "");
    s_nth = nth;
    s_err = err;
    s_seen = s_fired = 0;
    s_last = "";
    s_calls = calls;
    pthread_mutex_unlock(&s_mu);
}

void mb_fault_disarm(void) {
    pthread_mutex_lock(&s_mu);
    s_calls = 0;
    pthread_mutex_unlock(&s_mu);
}

long mb_fault_seen(void) {
    pthread_mutex_lock(&s_mu);
    long n = s_seen;
    pthread_mutex_unlock(&s_mu);
    return n;
}

long mb_fault_fired(void) {
    pthread_mutex_lock(&s_mu);
    long n = s_fired;
    pthread_mutex_unlock(&s_mu);
    return n;
}

const char *mb_fault_last(void) { return s_last; }

void mb_fault_on_kill(void (*fn)(const char *call, const char *path, long nth)) {
    pthread_mutex_lock(&s_mu);
    s_onKill = fn;
    pthread_mutex_unlock(&s_mu);
}

/* MB_FAULT_ARM="calls:pattern:nth:err", read when the library loads. */
__attribute__((constructor)) static void arm_from_env(void) {
    const char *z = getenv("MB_FAULT_ARM");
    char buf[1200], *end;
    char *c1, *c3, *c2;
    unsigned long calls;
    long nth, err;
    if (!z || !z[0]) return;
    if (strlen(z) >= sizeof buf) goto bad;
    strcpy(buf, z);
    c1 = strchr(buf, ':');
    c3 = strrchr(buf, ':');
    if (!c1 || c3 == c1) goto bad;
    *c3 = 0;
    c2 = strrchr(buf, ':');
    if (c2 == c1 || !c2) goto bad;   /* a pattern field is required */
    *c1 = 0;
    *c2 = 0;
    errno = 0;
    calls = strtoul(buf, &end, 16);
    if (errno || end == buf || *end || calls == 0) goto bad;
    nth = strtol(c2 + 1, &end, 10);
    if (errno || end == c2 + 1 || *end) goto bad;
    err = strtol(c3 + 1, &end, 10);
    if (errno || end == c3 + 1 || *end) goto bad;
    mb_fault_arm((unsigned)calls, c1 + 1, nth, (int)err);
    return;
bad:
    fprintf(stderr, "mb_faultpreload: MB_FAULT_ARM=\"%s\": expected "
            "calls_mask_hex:pattern:nth:err (e.g. 0x2d:-mbjournal:3:-9)\n", z);
    _exit(2);
}

/* The path behind a descriptor, or "" (a pipe, a socket, closed). */
static void fd_path(int fd, char *out, size_t n) {
    char link[64];
    out[0] = 0;
    if (fd < 0) return;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(link, out, n - 1);
    out[k > 0 ? (size_t)k : 0] = 0;
}

/* The file mapped at addr, from /proc/self/maps, or "". Read with open()
** and read(), which this library does not interpose. */
static void addr_path(const void *addr, char *out, size_t n) {
    out[0] = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    static char buf[1 << 16];   /* under s_mu */
    size_t have = 0;
    uintptr_t a = (uintptr_t)addr;
    for (;;) {
        ssize_t k = read(fd, buf + have, sizeof buf - 1 - have);
        if (k <= 0) break;
        have += (size_t)k;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = 0;
            uintmax_t lo = 0, hi = 0;
            int pos = 0;
            if (sscanf(line, "%jx-%jx %*s %*s %*s %*s %n", &lo, &hi, &pos) >= 2 &&
                a >= lo && a < hi) {
                snprintf(out, n, "%s", pos > 0 ? line + pos : "");
                close(fd);
                return;
            }
            line = nl + 1;
        }
        have = strlen(line);
        memmove(buf, line, have);
        if (have >= sizeof buf - 1) have = 0;   /* an absurd line: drop it */
    }
    close(fd);
}

/* Does path contain pattern? A pattern ending in '$' must end the path
** (a file, and not its FILE-mbjournal). */
static int path_matches(const char *path, const char *pattern) {
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '$') {
        size_t k = strlen(path);
        return k >= n - 1 && memcmp(path + k - (n - 1), pattern, n - 1) == 0;
    }
    return strstr(path, pattern) != NULL;
}

/* Should this call fail? fd >= 0 names the file, else addr does. The
** kill action does not return. */
static int should_fail(unsigned bit, const char *name, int fd, const void *addr) {
    int fail = 0, kill = 0;
    int saved = errno;
    char path[4096];
    long nth = 0;
    void (*onKill)(const char *, const char *, long) = NULL;
    pthread_mutex_lock(&s_mu);
    if (s_calls & bit) {
        if (fd >= 0) fd_path(fd, path, sizeof path);
        else addr_path(addr, path, sizeof path);
        if (path[0] && path_matches(path, s_pattern)) {
            s_seen++;
            if (s_nth < 0 || s_seen == s_nth) {
                fail = 1;
                s_fired++;
                s_last = name;
                saved = s_err;
                kill = s_err == MBF_KILL;
                nth = s_seen;
                onKill = s_onKill;
            }
        }
    }
    pthread_mutex_unlock(&s_mu);
    if (kill) {
        /* the mutex is released: the callback may be anything, and no
        ** other thread of this process runs on after the signal */
        if (onKill) onKill(name, path, nth);
        raise(SIGKILL);
        for (;;) pause();   /* not reached: SIGKILL cannot be caught */
    }
    errno = saved;
    return fail;
}

/* The next definition of `name` after this library. */
static void *real(const char *name) {
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        static const char msg[] = "mb_faultpreload: a real function is missing\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(127);
    }
    return p;
}

/* Resolved once per call site; a race between two threads resolving the
** same pointer stores the same value. */
#define REAL(type, name) \
    static type s_##name; \
    type fn = __atomic_load_n(&s_##name, __ATOMIC_ACQUIRE); \
    if (!fn) { *(void **)&fn = real(#name); __atomic_store_n(&s_##name, fn, __ATOMIC_RELEASE); }

typedef int (*fd_fn)(int);
typedef int (*trunc_fn)(int, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*msync_fn)(void *, size_t, int);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*falloc_fn)(int, int, off_t, off_t);
typedef int (*pfalloc_fn)(int, off_t, off_t);

int fsync(int fd) {
    REAL(fd_fn, fsync)
    if (should_fail(MBF_FSYNC, "fsync", fd, NULL)) return -1;
    return fn(fd);
}

int fdatasync(int fd) {
    REAL(fd_fn, fdatasync)
    if (should_fail(MBF_FDATASYNC, "fdatasync", fd, NULL)) return -1;
    return fn(fd);
}

int ftruncate(int fd, off_t n) {
    REAL(trunc_fn, ftruncate)
    if (should_fail(MBF_FTRUNCATE, "ftruncate", fd, NULL)) return -1;
    return fn(fd, n);
}

int ftruncate64(int fd, off_t n) {
    REAL(trunc_fn, ftruncate64)
    if (should_fail(MBF_FTRUNCATE, "ftruncate", fd, NULL)) return -1;
    return fn(fd, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t o) {
    REAL(pwrite_fn, pwrite)
    if (should_fail(MBF_PWRITE, "pwrite", fd, NULL)) return -1;
    return fn(fd, b, n, o);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t o) {
    REAL(pwrite_fn, pwrite64)
    if (should_fail(MBF_PWRITE, "pwrite", fd, NULL)) return -1;
    return fn(fd, b, n, o);
}

ssize_t write(int fd, const void *b, size_t n) {
    REAL(write_fn, write)
    /* stdio and pipes have no path that matches: fd_path is "" or a tty */
    if (fd > 2 && should_fail(MBF_WRITE, "write", fd, NULL)) return -1;
    return fn(fd, b, n);
}

int msync(void *addr, size_t len, int flags) {
    REAL(msync_fn, msync)
    if (should_fail(MBF_MSYNC, "msync", -1, addr)) return -1;
    return fn(addr, len, flags);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    REAL(mmap_fn, mmap)
    if (!(flags & MAP_ANONYMOUS) && fd >= 0 && should_fail(MBF_MMAP, "mmap", fd, NULL))
        return MAP_FAILED;
    return fn(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    REAL(mmap_fn, mmap64)
    if (!(flags & MAP_ANONYMOUS) && fd >= 0 && should_fail(MBF_MMAP, "mmap", fd, NULL))
        return MAP_FAILED;
    return fn(addr, len, prot, flags, fd, off);
}

int fallocate(int fd, int mode, off_t off, off_t len) {
    REAL(falloc_fn, fallocate)
    if (should_fail(MBF_FALLOCATE, "fallocate", fd, NULL)) return -1;
    return fn(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len) {
    REAL(falloc_fn, fallocate64)
    if (should_fail(MBF_FALLOCATE, "fallocate", fd, NULL)) return -1;
    return fn(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno. */
int posix_fallocate(int fd, off_t off, off_t len) {
    REAL(pfalloc_fn, posix_fallocate)
    if (should_fail(MBF_FALLOCATE, "posix_fallocate", fd, NULL)) return errno;
    return fn(fd, off, len);
}

int posix_fallocate64(int fd, off_t off, off_t len) {
    REAL(pfalloc_fn, posix_fallocate64)
    if (should_fail(MBF_FALLOCATE, "posix_fallocate", fd, NULL)) return errno;
    return fn(fd, off, len);
}
