/*
** mb_internal.h -- what the portable core files need from a platform
** backend, and the counters they share. Not installed; not for vfs/vtab.
**
** Portable files (no platform #ifdefs):
**   mb_error.c     error strings, per-thread OS error, enum names
**   mb_stats.c     process-wide counters
**   mb_registry.c  one shared map per file
**   mb_scan.c      sequential prefetch-ahead
**   mb_copy.c      mb_map_read / mb_map_write (range check + guarded copy)
**   mb_view.c      option checks and view sizing, before any OS call
**   mb_map_common.c  what mb_map.h is the same on every platform (the
**                  fields of struct mb_map_common)
** Backend files (one per platform) implement mb_map.h plus the mb__
** functions below:
**   mb_map_posix.c / mb_guard_posix.c
**   mb_map_win.c   / mb_guard_win.c
*/
#ifndef MB_INTERNAL_H
#define MB_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "mb_map.h"

/* Thread-local storage of the core. On ELF systems in the initial-exec
** model: glibc places it in the static TLS block at dlopen (16 bytes of
** its surplus), so an access is one %fs-relative load instead of a call
** to __tls_get_addr. That is faster on the guarded-copy path, and it keeps
** the module out of LeakSanitizer's tracking of dynamic TLS, whose guess
** at the size of a block (GCC 12's libsanitizer reads the word before it
** as a glibc chunk header) can crash its exit-time leak check depending
** on heap layout ("Tracer caught signal 11"). */
#if defined(__ELF__) && defined(__GNUC__)
#  define MB_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#  define MB_TLS _Thread_local
#endif

/* A function taking a printf format at argument fmt and its arguments from
** argument args: the compiler checks the callers' formats, and clang's
** -Wformat-nonliteral accepts the vsnprintf inside. */
#if defined(__GNUC__) || defined(__clang__)
#  define MB_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#  define MB_PRINTF_LIKE(fmt, args)
#endif

/* Internal open flag: open the file descriptor read-write whenever the file
** allows it, while mapping the view read-only. Lets the registry upgrade a
** shared map to writable later (mb__map_make_writable) without remapping. */
#define MB__MAP_WRITABLE_FD 0x1000u

/* Round v up to a multiple of unit (unit > 0). */
static inline uint64_t mb__round_up(uint64_t v, uint64_t unit) {
    return (v + unit - 1) / unit * unit;
}

/* ---- view planning (mb_view.c), shared by the backends ---- */
/* Validate opt (unknown flags, CREATE without WRITE, offset+length
** overflow) and return the effective flags (CREATE implies ALLOW_EMPTY). */
int mb__check_options(const mb_map_options *opt, unsigned *flags_out);
typedef struct mb_view_plan {
    uint64_t aoff;     /* the offset rounded down to the granularity */
    uint64_t delta;    /* offset - aoff */
    uint64_t size;     /* bytes in the view */
    uint64_t reserve;  /* bytes of view the reservation must hold (>= size) */
} mb_view_plan;
/* Size the view for a file of file_size bytes: MB_ERANGE, MB_EEMPTY or
** MB_EOVERFLOW for a view that cannot be. */
int mb__plan_view(const mb_map_options *opt, unsigned flags, uint64_t file_size,
                  uint64_t granularity, mb_view_plan *plan);

/* ---- the copy a guard runs ---- */
/* memcpy, except that 1, 2, 4 or 8 bytes are moved with one atomic load
** from an aligned source and one atomic store to an aligned destination:
** another process reading or writing the same naturally aligned field of a
** shared mapping never sees it half old, half new. */
static inline void mb__guarded_memcpy(void *dst, const void *src, size_t n) {
    uint64_t v = 0;
    switch (n) {
    case 1: __atomic_store_n((uint8_t *)dst, __atomic_load_n((const uint8_t *)src, __ATOMIC_RELAXED),
                             __ATOMIC_RELAXED);
        return;
    case 2: case 4: case 8:
        if ((uintptr_t)src % n == 0) {
            if (n == 2) { uint16_t w = __atomic_load_n((const uint16_t *)src, __ATOMIC_RELAXED); memcpy(&v, &w, 2); }
            else if (n == 4) { uint32_t w = __atomic_load_n((const uint32_t *)src, __ATOMIC_RELAXED); memcpy(&v, &w, 4); }
            else v = __atomic_load_n((const uint64_t *)src, __ATOMIC_RELAXED);
        } else {
            memcpy(&v, src, n);
        }
        if ((uintptr_t)dst % n == 0) {
            if (n == 2) { uint16_t w; memcpy(&w, &v, 2); __atomic_store_n((uint16_t *)dst, w, __ATOMIC_RELAXED); }
            else if (n == 4) { uint32_t w; memcpy(&w, &v, 4); __atomic_store_n((uint32_t *)dst, w, __ATOMIC_RELAXED); }
            else __atomic_store_n((uint64_t *)dst, v, __ATOMIC_RELAXED);
        } else {
            memcpy(dst, &v, n);
        }
        return;
    default:
        memcpy(dst, src, n);
    }
}

/* ---- the fault guard (mb_guard_posix.c / mb_guard_win.c) ---- */
/* Run fn(ctx) with this thread's guard armed for [lo1, hi1) and
** [lo2, hi2) (either may be empty): MB_OK, or MB_EFAULT if a page of one
** of them faulted (fn is then abandoned). mb_copy.c builds the public
** mb_guarded_copy and mb_guarded_call on it. */
int mb__guarded_run(const char *lo1, const char *hi1, const char *lo2, const char *hi2,
                    void (*fn)(void *), void *ctx);

/* ---- per-thread OS error (mb_error.c) ---- */
void mb__set_oserror(int e);
/* Return rc after recording oserr; a tidy way to fail: return mb__fail(MB_EIO, errno); */
int  mb__fail(int rc, int oserr);

/* ---- process counters (mb_stats.c) ---- */
void mb__stat_map_opened(uint64_t mapped, uint64_t reserved);
void mb__stat_map_closed(uint64_t mapped, uint64_t reserved);
void mb__stat_resized(uint64_t old_mapped, uint64_t new_mapped,
                      uint64_t old_reserved, uint64_t new_reserved);
void mb__stat_guard_fault(void);
/* The counters above as mb_stats fields (the rest of mb_stats_get is
** gathered by mb_registry.c). */
void mb__stats_load(mb_stats *st);
/* Soft-fault ranges (mb_guard_posix.c): register [lo, hi) of a map's
** reservation; returns a slot (>= 0) or -1 when full. Move a slot to a new
** range, drop it, read its count of patched pages. */
int  mb__soft_register(char *lo, char *hi, int writable);
void mb__soft_move(int slot, char *lo, char *hi);
void mb__soft_unregister(int slot);
uint64_t mb__soft_count(int slot);

/* ---- backend hooks ---- */
/* Open a map (mb_map_open / mb_map_open_fd, with the same errors) but do
** not populate it: MB_MAP_POPULATE is applied by the portable wrappers in
** mb_populate.c, bounded by memory, so no backend calls the policy. */
int  mb__map_open_path(const char *path, const mb_map_options *opt, mb_map **out);
int  mb__map_open_fd(const char *path, int fd, const mb_map_options *opt, mb_map **out);
/* Identity of a file: (device, inode) on POSIX, (volume serial, file index)
** on Windows. */
typedef struct mb_file_id { uint64_t dev, ino; } mb_file_id;
/* Identity of the file `path` names now, with the same error codes as
** mb_map_open (MB_ENOENT, MB_EISDIR, MB_EACCES, ...). */
int  mb__path_file_id(const char *path, mb_file_id *id);
/* Paths as the file policy sees them (mb_policy.c; mb_path_posix.c,
** mb_path_win.c). mb__os_realpath: the canonical absolute name of what
** path names now, every symlink, "." and ".." resolved by the system,
** malloc'd into *out (caller frees); MB_ENOENT when it or a directory on
** the way does not exist. mb__os_path_info: identity, link count and
** kind of what path names now (following symlinks). prefix_eq: whether
** the first n bytes of two canonical names are the same name (case-blind
** on Windows). MB__DIR_SEP: the separator of canonical names;
** MB__LIST_SEP: the separator of a list of directories (PATH-style). */
int  mb__os_realpath(const char *path, char **out);
int  mb__os_path_info(const char *path, mb_file_id *id, uint64_t *nlink, int *is_dir);
int  mb__os_path_prefix_eq(const char *a, const char *b, size_t n);
/* The target of the symlink path (not followed further), malloc'd; MB_EINVAL
** when path is not a symlink, MB_ENOTSUP where links are not read. */
int  mb__os_readlink(const char *path, char **out);
#if !defined(_WIN32)
/* The name the system gives descriptor fd (Linux /proc/self/fd, macOS
** F_GETPATH), malloc'd; MB_ENOTSUP where it cannot tell. */
int  mb__os_fd_path(int fd, char **out);
#endif
/* Create the file at the canonical path exclusively, in a descriptor of
** its directory opened without following symlinks and checked to be the
** directory named: never through a symlink. An existing file is MB_OK
** (left alone). MB_EPOLICY when the directory or the name changed into a
** symlink since path was resolved; MB_ENOENT, MB_EACCES, ... as the OS
** says; MB_ENOTSUP where not implemented (Windows). */
int  mb__os_create_excl(const char *path);
#if defined(_WIN32)
#  define MB__DIR_SEP  '\\'
#  define MB__LIST_SEP ';'
#else
#  define MB__DIR_SEP  '/'
#  define MB__LIST_SEP ':'
#endif
/* The name of the file a map has open, as the system knows it from the
** descriptor itself (Linux /proc/self/fd, macOS F_GETPATH, Windows
** GetFinalPathNameByHandle), malloc'd into *out, and its link count.
** MB_ENOTSUP where the system cannot tell (the policy then falls back to
** resolving the path again and comparing identities). */
int  mb__map_path(const mb_map *m, char **out, uint64_t *nlink);
/* Back to the default policy (MB_POLICY_OPEN), for tests and fuzzing:
** the policy otherwise only narrows. */
void mb__policy_reset(void);
/* Identity of the file a map has open (fstat of its descriptor). */
int  mb__map_file_id(const mb_map *m, mb_file_id *id);
/* Make a map that was opened with MB__MAP_WRITABLE_FD writable in place
** (same address). MB_EREADONLY if its descriptor is read-only. */
int  mb__map_make_writable(mb_map *m);
/* The view lock's bytes as the OS sees them (mb_viewlock.c keeps the
** counts). Never waits: MB_EBUSY when another process holds them.
**   MB__VIEW_OS_SHARED   take the lock byte shared, through the pending
**                        byte (refused while a writer holds it)
**   MB__VIEW_OS_UNLOCK   drop the lock byte
**   MB__VIEW_OS_PENDING  take the pending byte exclusive
**   MB__VIEW_OS_EXCL     take the lock byte exclusive (converting a
**                        shared one: bShared says the process holds it)
**   MB__VIEW_OS_DONE     drop the pending byte; the exclusive lock byte
**                        back to shared if bShared, else dropped
**   MB__VIEW_OS_CANCEL   drop the pending byte only (a writer gives up) */
enum { MB__VIEW_OS_SHARED = 1, MB__VIEW_OS_UNLOCK, MB__VIEW_OS_PENDING,
       MB__VIEW_OS_EXCL, MB__VIEW_OS_DONE, MB__VIEW_OS_CANCEL };
int  mb__os_view_lock(mb_map *m, int op, int bShared);
/* The map's change counter: odd while a refresh or resize is changing the
** view (growing, moving, shrinking it), even otherwise; it moves on with
** every change. mb_map_read/mb_map_write retry a copy that raced one, so a
** transient fault (Windows must unmap the tail granule to grow it) or a
** half-replaced mapping is never reported as the file's state. */
uint64_t mb__map_generation(const mb_map *m);
/* Give up the CPU to another thread (sched_yield / SwitchToThread). */
void mb__yield(void);
/* The refcount shown in mb_map_info; kept by the registry. */
void mb__map_set_refcount(mb_map *m, unsigned n);
/* The map's I/O counters (mb_map_count_io), atomics kept by each backend
** in its struct mb_map. */
typedef struct mb__io_atomic {
    _Atomic(uint64_t) count[MB_IO_NKINDS];
    _Atomic(uint64_t) bytes[MB_IO_NKINDS];
    _Atomic(uint64_t) dropped;        /* mb_mem_counts */
    _Atomic(uint64_t) window;
    _Atomic(uint64_t) populate_bound;
} mb__io_atomic;
mb__io_atomic *mb__map_io(mb_map *m);

/* ---- the fields every backend's map starts with ----
** Each backend's struct mb_map has this as its first member (libuv's
** common-fields pattern), so mb_map_common.c can serve the functions
** that only read or count (mb_map_size, mb_map_get_info, ...) once for
** both platforms. Fields read by other threads without the map's lock are
** atomics or are read with relaxed __atomic loads: they are statistics or
** published sizes, never synchronisation of their own. */
struct mb_map_common {
    char     *path;
    unsigned  flags;
    int       writable;        /* the view's pages may be written */
    int       follow;          /* length 0: the view follows the file */
    uint64_t  offset;          /* user's file offset */
    uint64_t  aoff;            /* offset rounded down to the granularity */
    uint64_t  delta;           /* offset - aoff */
    uint64_t  fixed_len;       /* the window length when !follow */
    uint64_t  reserved;        /* bytes of reservation for growth in place
                               ** (relaxed atomic stores: mb_map_get_info) */
    uint64_t  all_reserved;    /* reserved + retired regions (for stats) */
    _Atomic(uint64_t) size;    /* view bytes, published for readers */
    _Atomic(uint64_t) file_size;
    _Atomic(uint64_t) gen;     /* odd while the view changes (mb__map_generation) */
    _Atomic(mb_advice) advice; /* written by mb_map_advise from any thread */
    mb_huge   huge;            /* relaxed __atomic loads and stores */
    uint64_t  remaps, moves;   /* relaxed __atomic adds and loads */
    unsigned  refcount;        /* relaxed: kept by the registry */
    mb__io_atomic io;          /* mb_map_count_io */
    unsigned  vl_shared;       /* view lock: shared holds of this process */
    int       vl_excl;         /* view lock: held exclusive */
    int       vl_pending;      /* view lock: a writer of this process waits
                               ** (mb_viewlock.c's mutex guards all three) */
};
static inline struct mb_map_common *mb__common(const mb_map *m) {
    return (struct mb_map_common *)(void *)m;
}
/* Open, the part every backend does alike (mb_map_common.c). mb__map_args
** checks the arguments (MB_EINVAL; NULL *opt becomes the defaults) and
** returns the effective flags (as mb__check_options); mb__map_init
** copies the path (MB_ENOMEM); mb__map_plan fills the option fields of c
** and sizes the view for a file of file_size bytes (as mb__plan_view). */
int  mb__map_args(const char *path, mb_map **out, const mb_map_options **opt,
                  unsigned *flags);
int  mb__map_init(struct mb_map_common *c, const char *path);
int  mb__map_plan(struct mb_map_common *c, const mb_map_options *opt, unsigned flags,
                  uint64_t file_size, uint64_t granularity, mb_view_plan *plan);
/* Shared by the backends (mb_map_common.c): [off, off+len) of the view
** (len 0 = to the end) as page-aligned offsets [*lo, *hi) from the start of
** the mapping, inside its first maplen bytes; MB_ERANGE or MB_EOVERFLOW
** for a range outside the view. */
int  mb__view_range(const mb_map *m, uint64_t off, uint64_t len, uint64_t maplen,
                    uint64_t *lo, uint64_t *hi);
/* Read one byte of each page of [addr, addr+len) under the fault guard:
** MB_OK or MB_EFAULT. */
int  mb__touch_pages(char *addr, size_t len);
/* Remember advice given to the whole view (after the OS took it). */
void mb__map_note_advice(mb_map *m, mb_advice a, uint64_t off, uint64_t len);

void mb__io_load(const mb__io_atomic *a, mb_io_counts *out);
void mb__mem_load(const mb__io_atomic *a, mb_mem_counts *out);

/* ---- memory (mb_memory.c, readers in mb_memory_posix.c / _win.c) ---- */
/* What the OS says now, raw. Unknown numbers are 0; unknown flags -1. */
typedef struct mb__mem_raw {
    uint64_t mem_available, mem_total;
    uint64_t cg_limit, cg_usage;   /* cg_limit 0 = none */
    int      cg_version;
    int      psi_known;            /* PSI "some" read: from which source */
    mb_pressure_source psi_source;
    double   psi_avg10;            /* percent */
    uint64_t psi_total_us;         /* cumulative stall, microseconds */
    int      v1_event;             /* cgroup v1 notification since the last
                                   ** read: 1, 0, or -1 unknown */
    int      os_low;               /* Windows low-memory notification: 1/0/-1 */
    unsigned unreadable;           /* sources that exist but failed to read */
} mb__mem_raw;
void mb__memory_read_os(mb__mem_raw *r);
/* Monotonic clock in milliseconds. */
uint64_t mb__now_ms(void);
/* Counters kept by mb_memory.c / mb_scan.c / mb_registry.c for mb_stats. */
void mb__stat_dropped(uint64_t bytes);
void mb__stat_throttled(void);
void mb__memory_counters(uint64_t *events, uint64_t *unreadable);
/* Non-zero if the map maps through a caller's descriptor (mb_map_open_fd):
** that one (fd >= 0), or any (fd < 0). */
int  mb__map_borrows(const mb_map *m, int fd);
/* Map through the caller's descriptor newfd instead of oldfd (same file,
** checked): MB_OK, or MB_EINVAL if the map does not borrow oldfd or newfd
** is not a descriptor of its file. */
int  mb__map_swap_fd(mb_map *m, int oldfd, int newfd);
/* Non-zero if the map's file has been deleted (no links left). */
int  mb__map_unlinked(const mb_map *m);
/* The default idle budget of this platform. */
void mb__idle_default(uint64_t *bytes, uint64_t *count);
/* Process page-fault counters; 0/0 if the OS cannot tell. */
void mb__os_faults(uint64_t *minor, uint64_t *major);


/* [lo, hi) rounded out to whole pages; an empty range stays empty. The
** fault guards (both backends) claim such ranges: what runs under them may
** touch bytes around the range it was given. */
static inline void mb__page_round(const char **lo, const char **hi) {
    if (*lo == *hi) return;
    uintptr_t page = (uintptr_t)mb_page_size();
    uintptr_t l = (uintptr_t)*lo & ~(page - 1);
    uintptr_t h = (uintptr_t)*hi;
    h = h > UINTPTR_MAX - (page - 1) ? UINTPTR_MAX & ~(page - 1) : (h + page - 1) & ~(page - 1);
    *lo = (const char *)l;
    *hi = (const char *)h;
}

#endif /* MB_INTERNAL_H */
