/*
** mb_map_posix.c -- the POSIX backend of mb_map.h (Linux and macOS).
**
** Layout of a map in the address space:
**
**   base                base+delta (= mb_map_data)
**   |<------ maplen: file pages, MAP_SHARED ------>|<-- PROT_NONE -->|
**   |<------------------------- reserved ---------------------------->|
**
**   base maps file offset `aoff`, the user's offset rounded down to a page;
**   `delta` hides that rounding. The PROT_NONE tail is an anonymous
**   MAP_NORESERVE reservation: it costs no memory, it only keeps the range
**   free so growth maps new file pages in place (MAP_FIXED) and the data
**   pointer never moves. Shrinking puts PROT_NONE back over the tail.
**
** What differs between Linux and macOS is named once, in the "platform
** facts" block below; the logic has no other #ifdefs.
**
** Concurrency: readers use mb_map_data()/mb_map_size() without locks while
** one thread refreshes. Growth maps pages before publishing the new size;
** shrink publishes the smaller size before unmapping. A reader racing a
** shrink can still touch an unmapped page; mb_map_read() turns that fault
** into MB_EFAULT.
*/
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mb_internal.h"

/* ------------------------------------------------------------------ */
/* Platform facts                                                     */
/* ------------------------------------------------------------------ */
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#if defined(__linux__)
#  define MB_HAVE_MAP_POPULATE 1
#  ifndef MADV_POPULATE_READ
#    define MADV_POPULATE_READ 22 /* Linux 5.14; older headers lack it */
#  endif
#  define MB_HAVE_POPULATE_READ 1
#  define MB_HAVE_SYNC_FILE_RANGE 1
#  define MB_HAVE_SMAPS 1
#else
#  define MB_HAVE_MAP_POPULATE 0
#  define MB_HAVE_POPULATE_READ 0
#  define MB_HAVE_SYNC_FILE_RANGE 0
#  define MB_HAVE_SMAPS 0
#  ifndef MAP_POPULATE
#    define MAP_POPULATE 0
#  endif
#endif
#if defined(__linux__)
/* Linux 5.4; the kernel refuses them with EINVAL where it lacks them, and
** old headers (glibc 2.17's, the portable build's) lack the names. */
#  ifndef MADV_COLD
#    define MADV_COLD 20
#  endif
#  ifndef MADV_PAGEOUT
#    define MADV_PAGEOUT 21
#  endif
#endif
/* How mb_map_release can give pages back. macOS has no posix_fadvise, and
** its MADV_DONTNEED only lowers the pages' priority: those methods are
** refused there (MB_ENOTSUP), never done half. */
#if defined(POSIX_FADV_DONTNEED)
#  define MB_HAVE_FADVISE 1
#else
#  define MB_HAVE_FADVISE 0
#endif
#if defined(MADV_PAGEOUT)
#  define MB_HAVE_MADV_PAGEOUT 1
#else
#  define MB_HAVE_MADV_PAGEOUT 0
#endif
#if defined(MADV_COLD)
#  define MB_HAVE_MADV_COLD 1
#else
#  define MB_HAVE_MADV_COLD 0
#endif
/* The writer lock (mb_map_lock). Linux: flock, whose locks are apart from
** fcntl's. On macOS and the BSDs flock and fcntl locks are one lock table:
** a whole-file flock would collide with the view lock's fcntl bytes and
** with SQLite's own byte locks, so there it is an fcntl lock on one byte
** past any real data (the byte Windows locks). */
#if defined(__linux__)
#  define MB_WRITER_LOCK_FLOCK 1
#else
#  define MB_WRITER_LOCK_FLOCK 0
#endif
#define MB_WRITER_LOCK_BYTE 0x4000000000000000ULL
#if defined(MADV_HUGEPAGE)
#  define MB_HAVE_MADV_HUGEPAGE 1
#else
#  define MB_HAVE_MADV_HUGEPAGE 0
#endif

/* Durable flush of a descriptor: on macOS fsync() does not flush the
** drive's cache; F_FULLFSYNC does. */
static int os_fsync(int fd) {
#if defined(__APPLE__) && defined(F_FULLFSYNC)
    if (fcntl(fd, F_FULLFSYNC) == 0) return 0;
#endif
    return fsync(fd);
}

/* The file's data and what reading it back needs (its size), not its
** times: fdatasync where there is one (a write through a mapping moves
** the mtime, and fsync would commit that too). */
static int os_fdatasync(int fd) {
#if defined(__APPLE__) && defined(F_FULLFSYNC)
    if (fcntl(fd, F_FULLFSYNC) == 0) return 0;
#endif
#if defined(__linux__)
    return fdatasync(fd);
#else
    return fsync(fd);
#endif
}

/* Start write-back of a file range without waiting. On Linux msync(MS_ASYNC)
** is a no-op (dirty shared pages are already tracked), so ask for write-out
** explicitly. */
static int os_start_writeback(int fd, void *addr, size_t len, uint64_t foff) {
#if MB_HAVE_SYNC_FILE_RANGE
    (void)addr;
    return sync_file_range(fd, (off64_t)foff, (off64_t)len, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)foff;
    return msync(addr, len, MS_ASYNC);
#endif
}

/* ------------------------------------------------------------------ */
/* The map object                                                     */
/* ------------------------------------------------------------------ */
typedef struct mb_region { void *addr; size_t len; } mb_region;

struct mb_map {
    struct mb_map_common c;    /* first: mb_map_common.c reads it (mb_internal.h) */
    int       fd;
    int       fd_writable;     /* descriptor opened O_RDWR */
    int       fd_owned;        /* 0: the caller's (MB_MAP_FD), never closed */
    int       prot;            /* PROT_READ [| PROT_WRITE] */
    char     *base;            /* start of the reservation */
    _Atomic(uint64_t) maplen;  /* bytes of base mapped to the file (pages); atomic:
                               ** mb_map_advise (view_range) reads it unlocked */
    int       huge_advised;    /* MADV_HUGEPAGE was accepted */
    mb_region *retired;        /* old views kept readable after a move */
    int       soft_slot;       /* mb_map_enable_soft_faults; -1 = off */
    uint64_t  soft_seen;       /* patches already undone by a refresh */
    size_t    nretired;
};

size_t mb_map_granularity(void) { return mb_page_size(); }

size_t mb_huge_page_size(void) {
#if defined(__linux__)
    static size_t cached;
    size_t h = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (h) return h;
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1) v = 0;
        fclose(f);
    }
    h = (size_t)v;
    __atomic_store_n(&cached, h, __ATOMIC_RELAXED);
    return h;
#else
    return 0;
#endif
}

const char *mb_backend_name(void) { return "posix"; }

/* errno of a failed open()/stat() to an MB code. */
static int code_of_errno(int e) {
    switch (e) {
    case ENOENT: case ENOTDIR: return MB_ENOENT;
    case EISDIR:               return MB_EISDIR;
    case EACCES: case EPERM:   return MB_EACCES;
    case EROFS:                return MB_EREADONLY;
    case ENOMEM:               return MB_ENOMEM;
    case EOVERFLOW: case EFBIG:return MB_EOVERFLOW;
    case ENAMETOOLONG: case ELOOP: case EINVAL: return MB_EINVAL;
    default:                   return MB_EIO;
    }
}

static int stat_code(const struct stat *st) {
    if (S_ISDIR(st->st_mode)) return MB_EISDIR;
    if (!S_ISREG(st->st_mode)) return MB_ENOTFILE;
    return MB_OK;
}

/* Open the file with the access the flags ask for. A write request on a
** file that can only be read is MB_EREADONLY, so the caller learns why. */
static int open_file(const char *path, unsigned flags, int *fd_out, int *writable) {
    /* O_NONBLOCK: opening a FIFO read-only would otherwise block forever
    ** before fstat could reject it. It has no effect on regular files. */
    int base = O_CLOEXEC | O_NONBLOCK;
    int want_write = (flags & MB_MAP_WRITE) != 0;
    int try_write = want_write || (flags & MB__MAP_WRITABLE_FD);
    int fd = -1;
    if (try_write) {
        int oflags = base | O_RDWR;
        if ((flags & MB_MAP_CREATE) && want_write) oflags |= O_CREAT;
        fd = open(path, oflags, 0644);
        if (fd >= 0) {
            *fd_out = fd;
            *writable = 1;
            return MB_OK;
        }
        int e = errno;
        if (e != EACCES && e != EPERM && e != EROFS && e != ETXTBSY) {
            /* EISDIR: a directory cannot be opened for writing. */
            return mb__fail(code_of_errno(e), e);
        }
        if (want_write) {
            /* Would a read-only open work? Then the file is read-only. */
            int rfd = open(path, base | O_RDONLY);
            if (rfd < 0) return mb__fail(code_of_errno(errno), errno);
            close(rfd);
            return mb__fail(MB_EREADONLY, e);
        }
    }
    fd = open(path, base | O_RDONLY);
    if (fd < 0) return mb__fail(code_of_errno(errno), errno);
    *fd_out = fd;
    *writable = 0;
    return MB_OK;
}

/* Reserve `len` bytes of address space, aligned so that base+aoff%align is
** a multiple of `align` when align > page (huge pages need the virtual
** address and the file offset congruent modulo the huge page size). */
static char *reserve_space(uint64_t len, uint64_t aoff, uint64_t align) {
    size_t page = mb_page_size();
    if (align <= page) {
        void *p = mmap(NULL, (size_t)len, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        return p == MAP_FAILED ? NULL : (char *)p;
    }
    if (len > SIZE_MAX - align) return NULL;
    size_t total = (size_t)(len + align);
    void *p = mmap(NULL, total, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return NULL;
    uintptr_t raw = (uintptr_t)p;
    uintptr_t want = (uintptr_t)(aoff % align);
    uintptr_t start = raw - raw % align + want;
    if (start < raw) start += align;
    /* give back the slack before and after the aligned range */
    if (start > raw) munmap(p, start - raw);
    uintptr_t end = start + (uintptr_t)len, rend = raw + total;
    if (rend > end) munmap((void *)end, rend - end);
    return (char *)start;
}

/* Map file pages [from, to) of the map at `base` (offsets relative to it). */
static int map_pages_at(mb_map *m, char *base, uint64_t from, uint64_t to, int extra_flags) {
    if (to <= from) return MB_OK;
    void *want = base + from;
    void *p = mmap(want, (size_t)(to - from), m->prot,
                   MAP_SHARED | MAP_FIXED | extra_flags, m->fd,
                   (off_t)(m->c.aoff + from));
    if (p == MAP_FAILED) return mb__fail(errno == ENOMEM ? MB_ENOMEM : MB_EIO, errno);
    return MB_OK;
}

static int map_pages(mb_map *m, uint64_t from, uint64_t to, int extra_flags) {
    return map_pages_at(m, m->base, from, to, extra_flags);
}

/* Put PROT_NONE reservation back over [from, to) of the map. */
static int unmap_pages(mb_map *m, uint64_t from, uint64_t to) {
    if (to <= from) return MB_OK;
    void *p = mmap(m->base + from, (size_t)(to - from), PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) return mb__fail(MB_EIO, errno);
    return MB_OK;
}

static int os_advice(mb_advice a) {
    switch (a) {
    case MB_ADV_NORMAL:     return MADV_NORMAL;
    case MB_ADV_RANDOM:     return MADV_RANDOM;
    case MB_ADV_SEQUENTIAL: return MADV_SEQUENTIAL;
    case MB_ADV_WILLNEED:   return MADV_WILLNEED;
    case MB_ADV_DONTNEED:   return MADV_DONTNEED;
    }
    return -1;
}

/* Newly mapped pages form a new VMA that has lost the advice given to the
** old one: give the remembered advice again. Hints: failures are ignored. */
static void reapply_advice(mb_map *m, uint64_t from, uint64_t to) {
    if (to <= from) return;
    if (m->c.advice != MB_ADV_NORMAL)
        (void)madvise(m->base + from, (size_t)(to - from), os_advice(m->c.advice));
#if MB_HAVE_MADV_HUGEPAGE
    if (m->huge_advised)
        (void)madvise(m->base + from, (size_t)(to - from), MADV_HUGEPAGE);
#endif
}

static int open_map(const char *path, int borrow, const mb_map_options *opt, mb_map **out);

static void request_huge(mb_map *m) {
#if MB_HAVE_MADV_HUGEPAGE
    if (m->maplen == 0 || madvise(m->base, (size_t)m->maplen, MADV_HUGEPAGE) == 0) {
        m->huge_advised = 1;
        m->c.huge = MB_HUGE_ADVISED;
    } else {
        m->c.huge = MB_HUGE_UNSUPPORTED; /* e.g. EINVAL: THP off or no file THP */
    }
#else
    m->c.huge = MB_HUGE_UNSUPPORTED;
#endif
}

int mb__map_open_path(const char *path, const mb_map_options *opt, mb_map **out) {
    return open_map(path, -1, opt, out);
}

int mb__map_open_fd(const char *path, int fd, const mb_map_options *opt, mb_map **out) {
    if (fd < 0 || (opt && (opt->flags & MB_MAP_CREATE))) return mb__fail(MB_EINVAL, 0);
    return open_map(path, fd, opt, out);
}

/* borrow >= 0: map through that descriptor (mb_map_open_fd). */
static int open_map(const char *path, int borrow, const mb_map_options *opt, mb_map **out) {
    unsigned flags;
    int rc = mb__map_args(path, out, &opt, &flags);
    if (rc != MB_OK) return rc;

    size_t page = mb_page_size();
    mb_map *m = calloc(1, sizeof *m);
    if (!m) return mb__fail(MB_ENOMEM, 0);
    m->fd = -1;
    m->base = NULL;
    m->soft_slot = -1;
    if ((rc = mb__map_init(&m->c, path)) != MB_OK) goto fail;

    if (borrow >= 0) {
        int fl = fcntl(borrow, F_GETFL);
        if (fl < 0) { rc = mb__fail(MB_EINVAL, errno); goto fail; }
        m->fd = borrow;
        m->fd_writable = (fl & O_ACCMODE) == O_RDWR;
        if ((flags & MB_MAP_WRITE) && !m->fd_writable) { rc = mb__fail(MB_EREADONLY, 0); goto fail; }
    } else {
        rc = open_file(path, flags, &m->fd, &m->fd_writable);
        if (rc != MB_OK) goto fail;
        m->fd_owned = 1;
    }
    struct stat st;
    if (fstat(m->fd, &st) != 0) { rc = mb__fail(MB_EIO, errno); goto fail; }
    if ((rc = stat_code(&st)) != MB_OK) { mb__set_oserror(0); goto fail; }

    uint64_t fsize = (uint64_t)st.st_size;
    m->prot = PROT_READ | ((flags & MB_MAP_WRITE) ? PROT_WRITE : 0);
    mb_view_plan plan;
    if ((rc = mb__map_plan(&m->c, opt, flags, fsize, page, &plan)) != MB_OK) goto fail;
    uint64_t size = plan.size;
    uint64_t maplen = mb__round_up(m->c.delta + size, page);
    uint64_t reslen = mb__round_up(m->c.delta + plan.reserve, page);
    if (reslen == 0) reslen = page; /* an empty view still owns an address */
    /* Align to the huge page size whenever the reservation can hold one,
    ** requested or not: the kernel maps large page-cache folios with PMD
    ** entries only where address and file offset agree modulo 2 MiB. It
    ** costs one huge page of address space. */
    uint64_t align = mb_huge_page_size();
    if (reslen < align && !(flags & MB_MAP_HUGEPAGES)) align = 0;
    m->base = reserve_space(reslen, m->c.aoff, align);
    if (!m->base && reslen > maplen) {
        /* The reservation failed (address-space limit): fall back to an
        ** exact fit; growth will remap. */
        reslen = maplen ? maplen : page;
        m->base = reserve_space(reslen, m->c.aoff, align);
    }
    if (!m->base) { rc = mb__fail(MB_ENOMEM, errno); goto fail; }
    m->c.reserved = m->c.all_reserved = reslen;
    rc = map_pages(m, 0, maplen, 0);
    if (rc != MB_OK) goto fail;
    m->maplen = maplen;
    atomic_store(&m->c.size, size);
    atomic_store(&m->c.file_size, fsize);

    if (flags & MB_MAP_HUGEPAGES) request_huge(m);
    mb__stat_map_opened(size, m->c.reserved);
    *out = m;
    return MB_OK;

fail:
    {
        int os = mb_last_oserror();
        if (m->base) munmap(m->base, (size_t)m->c.reserved);
        if (m->fd >= 0 && m->fd_owned) close(m->fd);
        free(m->c.path);
        free(m);
        return mb__fail(rc, os);
    }
}

void mb_map_close(mb_map *m) {
    if (!m) return;
    mb__stat_map_closed(atomic_load(&m->c.size), m->c.all_reserved);
    mb__soft_unregister(m->soft_slot);
    if (m->base) munmap(m->base, (size_t)m->c.reserved);
    for (size_t i = 0; i < m->nretired; i++) munmap(m->retired[i].addr, m->retired[i].len);
    free(m->retired);
    if (m->fd >= 0 && m->fd_owned) close(m->fd);
    free(m->c.path);
    free(m);
}

int mb__map_borrows(const mb_map *m, int fd) {
    return !m->fd_owned && (fd < 0 || m->fd == fd);
}

int mb__map_swap_fd(mb_map *m, int oldfd, int newfd) {
    if (m->fd_owned || m->fd != oldfd || newfd < 0) return mb__fail(MB_EINVAL, 0);
    struct stat a, b;
    if (fstat(newfd, &a) != 0 || fstat(m->fd, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return mb__fail(MB_EINVAL, 0);
    int fl = fcntl(newfd, F_GETFL);
    if (fl < 0 || (m->fd_writable && (fl & O_ACCMODE) != O_RDWR)) return mb__fail(MB_EINVAL, 0);
    __atomic_store_n(&m->fd, newfd, __ATOMIC_RELEASE);
    return MB_OK;
}

int mb_map_own_fd(mb_map *m) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (m->fd_owned) return MB_OK;
    int fd = -1, writable = 0;
    int rc = open_file(m->c.path, m->fd_writable ? MB__MAP_WRITABLE_FD : 0, &fd, &writable);
    if (rc != MB_OK) return rc;
    struct stat a, b;
    if (fstat(fd, &a) != 0 || fstat(m->fd, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
        close(fd);   /* the path names another file now: keep the caller's */
        return mb__fail(MB_EIO, 0);
    }
    __atomic_store_n(&m->fd, fd, __ATOMIC_RELEASE);
    m->fd_writable = writable;
    m->fd_owned = 1;
    return MB_OK;
}

void *mb_map_data(const mb_map *m) {
    if (!m || atomic_load_explicit(&((mb_map *)m)->c.size, memory_order_acquire) == 0) return NULL;
    return __atomic_load_n(&m->base, __ATOMIC_ACQUIRE) + m->c.delta;
}

/* Growth past the reservation: map the file again at a new, larger
** reservation and keep the old one readable until close. */
static int move_view(mb_map *m, uint64_t new_size) {
    size_t page = mb_page_size();
    uint64_t want = mb_default_reserve(new_size);
    if (m->c.flags & MB_MAP_NORESERVE) want = new_size;
    if (want > (uint64_t)SIZE_MAX - m->c.delta - page) return mb__fail(MB_EOVERFLOW, 0);
    uint64_t reslen = mb__round_up(m->c.delta + want, page);
    uint64_t maplen = mb__round_up(m->c.delta + new_size, page);
    char *nb = reserve_space(reslen, m->c.aoff, mb_huge_page_size());
    if (!nb && reslen > maplen) {
        reslen = maplen;
        nb = reserve_space(reslen, m->c.aoff, mb_huge_page_size());
    }
    if (!nb) return mb__fail(MB_ENOMEM, errno);
    mb_region *r = realloc(m->retired, (m->nretired + 1) * sizeof *r);
    if (!r) { munmap(nb, (size_t)reslen); return mb__fail(MB_ENOMEM, 0); }
    m->retired = r;

    /* Map the new view completely before publishing its address: readers
    ** load m->base without a lock. */
    int rc = map_pages_at(m, nb, 0, maplen, 0);
    if (rc != MB_OK) {
        munmap(nb, (size_t)reslen);
        return rc;
    }
    m->retired[m->nretired].addr = m->base;
    m->retired[m->nretired].len = (size_t)m->c.reserved;
    m->nretired++;
    __atomic_store_n(&m->base, nb, __ATOMIC_RELEASE);
    mb__soft_move(m->soft_slot, nb, nb + reslen);
    m->maplen = maplen;
    __atomic_store_n(&m->c.reserved, reslen, __ATOMIC_RELAXED);
    reapply_advice(m, 0, maplen);
    m->c.all_reserved += reslen; /* the old region stays reserved too */
    __atomic_add_fetch(&m->c.moves, 1, __ATOMIC_RELAXED);
    return MB_OK;
}

static int change_view(mb_map *m, uint64_t old_size, uint64_t new_size);

/* Make the view match a file of `fsize` bytes. */
static int apply_file_size(mb_map *m, uint64_t fsize) {
    uint64_t old_size = atomic_load(&m->c.size);
    atomic_store_explicit(&m->c.file_size, fsize, memory_order_relaxed);
    if (!m->c.follow) {
        if (m->c.offset + m->c.fixed_len > fsize) return mb__fail(MB_EFAULT, 0);
        return MB_OK;
    }
    uint64_t new_size = fsize > m->c.offset ? fsize - m->c.offset : 0;
    if (new_size == old_size) return MB_OK;
    atomic_fetch_add(&m->c.gen, 1); /* odd: changing */
    int rc = change_view(m, old_size, new_size);
    atomic_fetch_add(&m->c.gen, 1); /* even: stable */
    return rc;
}

static int change_view(mb_map *m, uint64_t old_size, uint64_t new_size) {
    size_t page = mb_page_size();
    uint64_t old_all_reserved = m->c.all_reserved;
    if (new_size > (uint64_t)SIZE_MAX - m->c.delta - page) return mb__fail(MB_EOVERFLOW, 0);
    uint64_t new_maplen = mb__round_up(m->c.delta + new_size, page);
    int rc = MB_OK;
    if (new_maplen > m->maplen) {
        if (new_maplen <= m->c.reserved) {
            rc = map_pages(m, m->maplen, new_maplen, 0);
            if (rc != MB_OK) return rc;
            reapply_advice(m, m->maplen, new_maplen);
            m->maplen = new_maplen;
        } else {
            rc = move_view(m, new_size);
            if (rc != MB_OK) return rc;
        }
        atomic_store_explicit(&m->c.size, new_size, memory_order_release);
    } else {
        /* Shrink: publish first, so new readers stop at the new end. */
        atomic_store_explicit(&m->c.size, new_size, memory_order_release);
        if (new_maplen < m->maplen) {
            rc = unmap_pages(m, new_maplen, m->maplen);
            if (rc != MB_OK) return rc;
            m->maplen = new_maplen;
        }
    }
    __atomic_add_fetch(&m->c.remaps, 1, __ATOMIC_RELAXED);
    mb__stat_resized(old_size, new_size, old_all_reserved, m->c.all_reserved);
    return MB_OK;
}

int mb_map_enable_soft_faults(mb_map *m) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (m->soft_slot >= 0) return MB_OK;
    char *base = __atomic_load_n(&m->base, __ATOMIC_ACQUIRE);
    m->soft_slot = mb__soft_register(base, base + m->c.reserved, (m->prot & PROT_WRITE) != 0);
    return m->soft_slot >= 0 ? MB_OK : mb__fail(MB_ENOMEM, 0);
}

uint64_t mb_map_soft_faults(const mb_map *m) {
    return m ? mb__soft_count(m->soft_slot) : 0;
}

/* Undo soft-fault patches: map the whole view from the file again (its
** size is about to be applied, which also drops pages past the end). */
static void soft_restore(mb_map *m) {
    uint64_t n = mb__soft_count(m->soft_slot);
    if (n == m->soft_seen) return;
    atomic_fetch_add(&m->c.gen, 1);
    (void)map_pages(m, 0, m->maplen, 0);
    reapply_advice(m, 0, m->maplen);
    atomic_fetch_add(&m->c.gen, 1);
    m->soft_seen = n;
}

int mb_map_refresh(mb_map *m, uint64_t *new_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    struct stat st;
    if (fstat(m->fd, &st) != 0) return mb__fail(MB_EIO, errno);
    if (m->soft_slot >= 0) {
        /* Shrink first (the zero pages past the end go with the tail), then
        ** put the file back under what remains. */
        if ((uint64_t)st.st_size < atomic_load(&m->c.file_size)) {
            int rc = apply_file_size(m, (uint64_t)st.st_size);
            if (rc != MB_OK) return rc;
        }
        soft_restore(m);
    }
    int rc = apply_file_size(m, (uint64_t)st.st_size);
    if (new_size) *new_size = atomic_load(&m->c.size);
    return rc;
}

int mb_map_resize_file(mb_map *m, uint64_t new_file_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (!(m->prot & PROT_WRITE) || !m->fd_writable) return mb__fail(MB_EREADONLY, 0);
    if (new_file_size > (uint64_t)INT64_MAX) return mb__fail(MB_EOVERFLOW, 0);
    if (!m->c.follow && m->c.offset + m->c.fixed_len > new_file_size) return mb__fail(MB_ERANGE, 0);
    uint64_t cur = atomic_load(&m->c.file_size);
    if (new_file_size < cur) {
        /* Unmap the tail before the file loses it, so no user of this map
        ** can fault on it in between. */
        int rc = apply_file_size(m, new_file_size);
        if (rc != MB_OK) return rc;
    }
    if (ftruncate(m->fd, (off_t)new_file_size) != 0) {
        int e = errno;
        (void)mb_map_refresh(m, NULL); /* back to what the file really is */
        return mb__fail(e == EFBIG ? MB_EOVERFLOW : e == ENOSPC ? MB_EIO : MB_EIO, e);
    }
    return mb_map_refresh(m, NULL);
}

int mb_map_cut(mb_map *m, uint64_t new_file_size, mb_cut_fn cut, void *ctx) {
    if (!m || !cut) return mb__fail(MB_EINVAL, 0);
    /* A POSIX system shrinks a mapped file; only the tail goes first, so
    ** no user of this map faults on it in between (as in resize). */
    if (new_file_size < atomic_load(&m->c.file_size)) (void)apply_file_size(m, new_file_size);
    cut(ctx, new_file_size);
    return mb_map_refresh(m, NULL);
}

/* [off, off+len) of the view as page-aligned addresses inside the mapped
** pages (NULL, 0 for an empty range). */
static int view_range(const mb_map *m, uint64_t off, uint64_t len, char **addr, size_t *alen) {
    uint64_t lo, hi;
    int rc = mb__view_range(m, off, len, m->maplen, &lo, &hi);
    if (rc != MB_OK) return rc;
    *addr = hi == lo ? NULL : __atomic_load_n(&m->base, __ATOMIC_ACQUIRE) + lo;
    *alen = (size_t)(hi - lo);
    return MB_OK;
}

int mb_map_advise(mb_map *m, mb_advice a, uint64_t off, uint64_t len) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    int adv = os_advice(a);
    if (adv < 0) return mb__fail(MB_EINVAL, 0);
    char *addr = NULL;
    size_t alen = 0;
    int rc = view_range(m, off, len, &addr, &alen);
    if (rc != MB_OK) return rc;
    if (alen && madvise(addr, alen, adv) != 0) return mb__fail(MB_EIO, errno);
    mb__map_note_advice(m, a, off, len);
    return MB_OK;
}

int mb_map_populate(mb_map *m, uint64_t off, uint64_t len, mb_populate how,
                    mb_populate *used) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    char *addr = NULL;
    size_t alen = 0;
    int rc = view_range(m, off, len, &addr, &alen);
    if (rc != MB_OK) return rc;
    /* The default keeps populate's promise: no fault on first touch.
    ** WILLNEED reads ahead only read_ahead_kb and leaves most of a range to
    ** be faulted in later, so it is never a fallback for a populate. */
    if (how == MB_POP_DEFAULT) how = MB_POP_POPULATE_READ;
    if (how == MB_POP_PREFETCH_VM) how = MB_POP_WILLNEED; /* Windows only */
    if (alen == 0) {
        if (used) *used = how;
        return MB_OK;
    }
    switch (how) {
    case MB_POP_NONE:
        break;
    case MB_POP_POPULATE_READ:
#if MB_HAVE_POPULATE_READ
        if (madvise(addr, alen, MADV_POPULATE_READ) == 0) break;
        if (errno == EFAULT || errno == EIO) return mb__fail(MB_EFAULT, errno);
        if (errno == ENOMEM) return mb__fail(MB_ENOMEM, errno);
        /* EINVAL: a kernel older than 5.14 */
#endif
        how = MB_HAVE_MAP_POPULATE ? MB_POP_MAP_POPULATE : MB_POP_TOUCH;
        return mb_map_populate(m, off, len, how, used);
    case MB_POP_WILLNEED:
        if (madvise(addr, alen, MADV_WILLNEED) != 0) return mb__fail(MB_EIO, errno);
        break;
    case MB_POP_MAP_POPULATE: {
#if !MB_HAVE_MAP_POPULATE
        return mb_map_populate(m, off, len, MB_POP_TOUCH, used);
#endif
        /* Map the same pages again over themselves with MAP_POPULATE: same
        ** address, same file data, page tables filled by the kernel. */
        uint64_t from = (uint64_t)(addr - m->base);
        rc = map_pages(m, from, from + alen, MAP_POPULATE);
        if (rc != MB_OK) return rc;
        reapply_advice(m, from, from + alen);
        break;
    }
    case MB_POP_TOUCH:
        rc = mb__touch_pages(addr, alen);
        if (rc != MB_OK) return rc;
        break;
    default:
        return mb__fail(MB_EINVAL, 0);
    }
    if (used) *used = how;
    return MB_OK;
}

/* Whether this system has release method `how` (after MB_REL_DEFAULT is
** resolved): asked before anything is done, so an unsupported method is
** refused, not done half. */
static int release_supported(mb_release how) {
    switch (how) {
    case MB_REL_FADVISE:
    case MB_REL_UNMAP_FADVISE: return MB_HAVE_FADVISE;
    case MB_REL_PAGEOUT:       return MB_HAVE_MADV_PAGEOUT;
    case MB_REL_COLD:          return MB_HAVE_MADV_COLD;
    default:                   return 0;
    }
}

int mb_map_release(mb_map *m, uint64_t off, uint64_t len, mb_release how) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if ((unsigned)how > MB_REL_COLD) return mb__fail(MB_EINVAL, 0);
    char *addr = NULL;
    size_t alen = 0;
    int rc = view_range(m, off, len, &addr, &alen);
    if (rc != MB_OK || alen == 0) return rc;
    /* The default: unmapping the range then fadvise releases it as well as
    ** PAGEOUT does, and works on kernels without PAGEOUT. */
    if (how == MB_REL_DEFAULT) how = MB_REL_UNMAP_FADVISE;
    if (!release_supported(how)) return mb__fail(MB_ENOTSUP, 0);
    /* Never lose data: dirty pages of a writable map go to the file first.
    ** (MADV_DONTNEED on a shared file mapping only drops this process's
    ** page-table entries; the data is the page cache's. But fadvise and
    ** PAGEOUT skip dirty pages, so without this they would stay.) */
    if ((m->prot & PROT_WRITE) && msync(addr, alen, MS_SYNC) != 0)
        return mb__fail(errno == ENOMEM ? MB_EFAULT : MB_EIO, errno);
    switch (how) {
#if MB_HAVE_FADVISE
    case MB_REL_UNMAP_FADVISE:
        if (madvise(addr, alen, MADV_DONTNEED) != 0) return mb__fail(MB_EIO, errno);
        /* fall through */
    case MB_REL_FADVISE: {
        uint64_t foff = m->c.aoff + (uint64_t)(addr - m->base);
        rc = posix_fadvise(m->fd, (off_t)foff, (off_t)alen, POSIX_FADV_DONTNEED);
        if (rc != 0) return mb__fail(MB_EIO, rc);
        break;
    }
#endif
#if MB_HAVE_MADV_PAGEOUT
    case MB_REL_PAGEOUT:
        if (madvise(addr, alen, MADV_PAGEOUT) != 0)
            return mb__fail(errno == EINVAL ? MB_ENOTSUP : MB_EIO, errno);
        break;
#endif
#if MB_HAVE_MADV_COLD
    case MB_REL_COLD:
        if (madvise(addr, alen, MADV_COLD) != 0)
            return mb__fail(errno == EINVAL ? MB_ENOTSUP : MB_EIO, errno);
        break;
#endif
    default:
        return mb__fail(MB_ENOTSUP, 0);   /* not reached: release_supported */
    }
    atomic_fetch_add_explicit(&m->c.io.dropped, (uint64_t)alen, memory_order_relaxed);
    mb__stat_dropped((uint64_t)alen);
    return MB_OK;
}

int mb_map_residency(mb_map *m, uint64_t off, uint64_t len, uint64_t *resident) {
    if (!m || !resident) return mb__fail(MB_EINVAL, 0);
    char *addr = NULL;
    size_t alen = 0;
    int rc = view_range(m, off, len, &addr, &alen);
    if (rc != MB_OK) return rc;
    size_t page = mb_page_size();
    unsigned char vec[4096];
    uint64_t count = 0;
    /* mincore answers for the file's pages in the page cache, mapped into
    ** this process or not: a page-table walk, no I/O. Chunked so the
    ** vector stays on the stack. */
    for (size_t done = 0; done < alen;) {
        size_t chunk = alen - done;
        if (chunk > sizeof vec * page) chunk = sizeof vec * page;
        if (mincore(addr + done, chunk, (void *)vec) != 0)
            return mb__fail(errno == ENOMEM ? MB_EFAULT : MB_EIO, errno);
        size_t pages = (chunk + page - 1) / page;
        for (size_t i = 0; i < pages; i++) count += vec[i] & 1;
        done += chunk;
    }
    if (len == 0) len = mb_map_size(m) - off;
    uint64_t bytes = count * page;
    *resident = bytes < len ? bytes : len;
    return MB_OK;
}

int mb_map_huge_status(mb_map *m, mb_huge *status, uint64_t *huge_bytes) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    uint64_t bytes = 0;
#if MB_HAVE_SMAPS
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f) {
        uintptr_t lo = (uintptr_t)m->base, hi = lo + (uintptr_t)m->maplen;
        char line[512];
        int inside = 0;
        while (fgets(line, sizeof line, f)) {
            unsigned long a, b;
            unsigned long long kb;
            char key[64];
            /* a VMA header is "start-end perms ..."; no key line has that shape */
            if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
                inside = a < hi && b > lo;
                continue;
            }
            if (inside && sscanf(line, "%63[^:]: %llu kB", key, &kb) == 2 &&
                (strcmp(key, "AnonHugePages") == 0 || strcmp(key, "FilePmdMapped") == 0 ||
                 strcmp(key, "ShmemPmdMapped") == 0))
                bytes += kb * 1024;
        }
        fclose(f);
    }
#endif
    if (m->c.flags & MB_MAP_HUGEPAGES) {
        mb_huge h = bytes > 0 ? MB_HUGE_ACTIVE : m->huge_advised ? MB_HUGE_ADVISED : MB_HUGE_UNSUPPORTED;
        __atomic_store_n(&m->c.huge, h, __ATOMIC_RELAXED);
    }
    if (status) *status = __atomic_load_n(&m->c.huge, __ATOMIC_RELAXED);
    if (huge_bytes) *huge_bytes = bytes;
    return MB_OK;
}

int mb_map_flush(mb_map *m, uint64_t off, uint64_t len, int mode) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (mode != MB_FLUSH_SYNC && mode != MB_FLUSH_ASYNC) return mb__fail(MB_EINVAL, 0);
    char *addr = NULL;
    size_t alen = 0;
    int rc = view_range(m, off, len, &addr, &alen);
    if (rc != MB_OK) return rc;
    if (!(m->prot & PROT_WRITE)) return MB_OK;
    if (alen == 0 && mode == MB_FLUSH_ASYNC) return MB_OK;
    if (mode == MB_FLUSH_SYNC) {
        if (alen && msync(addr, alen, MS_SYNC) != 0)
            return mb__fail(errno == ENOMEM ? MB_EFAULT : MB_EIO, errno);
        /* msync writes the pages; fsync also commits the file's metadata
        ** (its size after growth) and the drive's cache. */
        if (os_fsync(m->fd) != 0) return mb__fail(MB_EIO, errno);
        return MB_OK;
    }
    uint64_t foff = m->c.aoff + (uint64_t)(addr - m->base);
    if (os_start_writeback(m->fd, addr, alen, foff) != 0) return mb__fail(MB_EIO, errno);
    return MB_OK;
}

int mb_map_flush_ranges(mb_map *m, const uint64_t *aOff, const uint64_t *aLen,
                        size_t n) {
    if (!m || (n > 0 && (!aOff || !aLen))) return mb__fail(MB_EINVAL, 0);
    if (!(m->prot & PROT_WRITE)) return MB_OK;
    for (size_t i = 0; i < n; i++) {
        char *addr = NULL;
        size_t alen = 0;
        int rc = view_range(m, aOff[i], aLen[i] ? aLen[i] : 1, &addr, &alen);
        if (rc != MB_OK) return rc;
#if !defined(__linux__)
        if (alen && msync(addr, alen, MS_SYNC) != 0)
            return mb__fail(errno == ENOMEM ? MB_EFAULT : MB_EIO, errno);
#endif
    }
    /* Linux marks a page of a shared mapping dirty in the page cache when
    ** it is first written (and write-protects it again once written back),
    ** so fdatasync writes what the mapping changed; msync(MS_SYNC) would
    ** be a sync of its own per range (it is vfs_fsync_range). */
    if (os_fdatasync(m->fd) != 0) return mb__fail(MB_EIO, errno);
    return MB_OK;
}

int mb_map_pwrite(mb_map *m, uint64_t off, const void *buf, size_t n) {
    if (!m || (!buf && n)) return mb__fail(MB_EINVAL, 0);
    if (!(m->prot & PROT_WRITE) || !m->fd_writable) return mb__fail(MB_EREADONLY, 0);
    if (n == 0) return MB_OK;
    uint64_t size = mb_map_size(m);
    if (off > size || n > size - off) return mb__fail(MB_ERANGE, 0);
    const char *p = buf;
    uint64_t foff = m->c.offset + off;
    while (n > 0) {
        ssize_t k = pwrite(m->fd, p, n, (off_t)foff);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return mb__fail(MB_EIO, k < 0 ? errno : ENOSPC);
        p += k; foff += (uint64_t)k; n -= (size_t)k;
    }
    return MB_OK;
}

int mb__map_unlinked(const mb_map *m) {
    struct stat st;
    return fstat(m->fd, &st) == 0 && st.st_nlink == 0;
}

int mb_map_stamp(const mb_map *m, uint64_t *size, int64_t *mtime_ns) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    struct stat st;
    if (fstat(m->fd, &st) != 0) return mb__fail(MB_EIO, errno);
    if (size) *size = (uint64_t)st.st_size;
#if defined(__APPLE__)
    if (mtime_ns) *mtime_ns = (int64_t)st.st_mtimespec.tv_sec * 1000000000 + st.st_mtimespec.tv_nsec;
#else
    if (mtime_ns) *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
#endif
    return MB_OK;
}

int mb_map_change_stamp(const mb_map *m, mb_stamp *out) {
    if (!m || !out) return mb__fail(MB_EINVAL, 0);
    struct stat st;
    struct timespec now;
    if (fstat(m->fd, &st) != 0) return mb__fail(MB_EIO, errno);
    clock_gettime(CLOCK_REALTIME, &now);
    out->dev = (uint64_t)st.st_dev;
    out->ino = (uint64_t)st.st_ino;
    out->size = (uint64_t)st.st_size;
#if defined(__APPLE__)
    out->mtime_ns = (int64_t)st.st_mtimespec.tv_sec * 1000000000 + st.st_mtimespec.tv_nsec;
    out->ctime_ns = (int64_t)st.st_ctimespec.tv_sec * 1000000000 + st.st_ctimespec.tv_nsec;
#else
    out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    out->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
#endif
    out->read_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    return MB_OK;
}

/* One fcntl lock call on [at, at+len): MB_EBUSY when another holds it.
** wait: F_SETLKW (F_OFD_SETLKW), retried after a signal. */
static int fcntl_lock(int fd, short type, uint64_t at, int len, int wait) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);   /* l_pid must be 0 for an OFD lock */
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)at;
    fl.l_len = len;
    for (;;) {
#ifdef F_OFD_SETLK
        /* the lock of the open file description: not lost when another
        ** descriptor of the file is closed in this process */
        int r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
        if (r != 0 && errno == EINVAL) r = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl); /* old kernel */
#else
        int r = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
#endif
        if (r == 0) return MB_OK;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EACCES) return mb__fail(MB_EBUSY, errno);
        return mb__fail(MB_EIO, errno);
    }
}

static int view_fcntl(int fd, short type, uint64_t at, int len) {
    return fcntl_lock(fd, type, at, len, 0);
}

int mb_map_lock(mb_map *m, int how) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    int nowait = (how & MB_LOCK_NOWAIT) != 0;
#if MB_WRITER_LOCK_FLOCK
    int op;
    switch (how & ~MB_LOCK_NOWAIT) {
    case MB_LOCK_UNLOCK:    op = LOCK_UN; break;
    case MB_LOCK_SHARED:    op = LOCK_SH; break;
    case MB_LOCK_EXCLUSIVE: op = LOCK_EX; break;
    default: return mb__fail(MB_EINVAL, 0);
    }
    if (nowait && op != LOCK_UN) op |= LOCK_NB;
    /* flock, not fcntl: its lock belongs to the open file description, so
    ** it is not lost when some other descriptor of the file is closed. */
    while (flock(m->fd, op) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return mb__fail(MB_EBUSY, errno);
        return mb__fail(MB_EIO, errno);
    }
    return MB_OK;
#else
    short type;
    switch (how & ~MB_LOCK_NOWAIT) {
    case MB_LOCK_UNLOCK:    type = F_UNLCK; break;
    case MB_LOCK_SHARED:    type = F_RDLCK; break;
    case MB_LOCK_EXCLUSIVE: type = F_WRLCK; break;
    default: return mb__fail(MB_EINVAL, 0);
    }
    /* F_RDLCK needs a readable descriptor, F_WRLCK a writable one (every
    ** writer's map has one: MB_MAP_WRITE or MB__MAP_WRITABLE_FD). */
    return fcntl_lock(m->fd, type, MB_WRITER_LOCK_BYTE, 1, !nowait && type != F_UNLCK);
#endif
}

int mb__os_view_lock(mb_map *m, int op, int bShared) {
    int rc;
    switch (op) {
    case MB__VIEW_OS_SHARED:
        /* both bytes at once (refused while a writer is pending), then the
        ** pending byte back: fcntl splits the range */
        rc = view_fcntl(m->fd, F_RDLCK, MB_VIEW_LOCK_BYTE, 2);
        if (rc != MB_OK) return rc;
        return view_fcntl(m->fd, F_UNLCK, MB_VIEW_PENDING_BYTE, 1);
    case MB__VIEW_OS_UNLOCK:
        return view_fcntl(m->fd, F_UNLCK, MB_VIEW_LOCK_BYTE, 1);
    case MB__VIEW_OS_PENDING:
        return view_fcntl(m->fd, F_WRLCK, MB_VIEW_PENDING_BYTE, 1);
    case MB__VIEW_OS_EXCL:
        return view_fcntl(m->fd, F_WRLCK, MB_VIEW_LOCK_BYTE, 1);   /* converts */
    case MB__VIEW_OS_DONE:
        rc = view_fcntl(m->fd, bShared ? F_RDLCK : F_UNLCK, MB_VIEW_LOCK_BYTE, 1);
        if (rc != MB_OK) return rc;
        return view_fcntl(m->fd, F_UNLCK, MB_VIEW_PENDING_BYTE, 1);
    case MB__VIEW_OS_CANCEL:
        return view_fcntl(m->fd, F_UNLCK, MB_VIEW_PENDING_BYTE, 1);
    default:
        return mb__fail(MB_EINVAL, 0);
    }
}

/* ------------------------------------------------------------------ */
/* Hooks for the portable core files                                  */
/* ------------------------------------------------------------------ */
int mb__path_file_id(const char *path, mb_file_id *id) {
    struct stat st;
    if (stat(path, &st) != 0) return mb__fail(code_of_errno(errno), errno);
    int rc = stat_code(&st);
    if (rc != MB_OK) return mb__fail(rc, 0);
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    return MB_OK;
}

int mb__map_file_id(const mb_map *m, mb_file_id *id) {
    struct stat st;
    if (fstat(m->fd, &st) != 0) return mb__fail(MB_EIO, errno);
    id->dev = (uint64_t)st.st_dev;
    id->ino = (uint64_t)st.st_ino;
    return MB_OK;
}

int mb__map_path(const mb_map *m, char **out, uint64_t *nlink) {
    struct stat st;
    if (fstat(m->fd, &st) != 0) return mb__fail(MB_EIO, errno);
    *nlink = (uint64_t)st.st_nlink;
    return mb__os_fd_path(m->fd, out);
}

int mb__map_make_writable(mb_map *m) {
    if (m->prot & PROT_WRITE) return MB_OK;
    if (!m->fd_writable) return mb__fail(MB_EREADONLY, 0);
    if (m->maplen && mprotect(m->base, (size_t)m->maplen, PROT_READ | PROT_WRITE) != 0)
        return mb__fail(MB_EIO, errno);
    m->prot = PROT_READ | PROT_WRITE;
    m->c.writable = 1;
    m->c.flags |= MB_MAP_WRITE;
    return MB_OK;
}

void mb__yield(void) { sched_yield(); }

void mb__os_faults(uint64_t *minor, uint64_t *major) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        *minor = (uint64_t)ru.ru_minflt;
        *major = (uint64_t)ru.ru_majflt;
    } else {
        *minor = *major = 0;
    }
}

int mb_map_touch(mb_map *m) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    if (futimens(m->fd, NULL) != 0) return mb__fail(MB_EIO, errno);
    return MB_OK;
}
