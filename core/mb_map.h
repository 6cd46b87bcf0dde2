/*
** mb_map.h -- the MemBase mapping core. This header is the contract.
**
** The core maps files into memory and knows nothing of SQLite. Every
** platform implements this one header in one backend file:
**   core/mb_map_posix.c   Linux and macOS
**   core/mb_map_win.c     Windows
** Portable logic (error strings, the process-wide registry, the
** scanner's prefetch-ahead) lives in files with no platform #ifdefs.
**
** Conventions
**  - Every function that can fail returns an int: MB_OK (0) on success or
**    one of the negative MB_E* codes below. On failure the OS error that
**    caused it (errno, or GetLastError() on Windows) is kept per thread
**    and returned by mb_last_oserror(); out-parameters are left untouched
**    and nothing is leaked (no mapping, no descriptor, no memory).
**  - Sizes and offsets are uint64_t. Anything that would not fit the
**    platform's size_t or off_t is MB_EOVERFLOW, never a silent wrap.
**  - Offsets passed to per-map functions (advise, populate, flush, read,
**    write) are relative to the start of the view, i.e. to the byte that
**    mb_map_data() points at, not to the start of the file.
**  - The page size is asked of the OS (mb_page_size()); nothing assumes
**    4096. Apple silicon uses 16 KiB pages.
*/
#ifndef MB_MAP_H
#define MB_MAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Error codes: a small closed set, each with a string (mb_strerror). */
/* ------------------------------------------------------------------ */
/* <windows.h> (winuser.h) also defines MB_OK, as 0: drop its definition so
** the two headers can be included in either order. */
#if defined(_WIN32) && defined(MB_OK)
#undef MB_OK
#endif
#define MB_OK          0
#define MB_ENOENT     (-1)  /* the file does not exist */
#define MB_EISDIR     (-2)  /* the path names a directory, not a file */
#define MB_EACCES     (-3)  /* permission denied */
#define MB_EEMPTY     (-4)  /* zero-length file (or empty view) */
#define MB_ERANGE     (-5)  /* offset or range beyond the end of the file/view */
#define MB_EOVERFLOW  (-6)  /* offset + length overflows, or exceeds size_t/off_t */
#define MB_EREADONLY  (-7)  /* write access asked of a read-only file or map */
#define MB_EFAULT     (-8)  /* the mapped file is shorter than the view (truncated
                            ** underneath) or an I/O error hit a mapped page */
#define MB_ENOMEM     (-9)  /* out of memory or address space */
#define MB_EINVAL     (-10) /* an invalid argument (NULL, unknown flag/advice) */
#define MB_EIO        (-11) /* any other OS failure; see mb_last_oserror() */
#define MB_ENOTSUP    (-12) /* the platform cannot do this */
#define MB_ENOTFILE   (-13) /* not a regular file (device, fifo, socket) */
#define MB_EBUSY      (-14) /* locked by another process (mb_map_lock) */
#define MB_EPOLICY    (-15) /* refused by the process's file policy (mb_policy_*) */

/* A short English description of an MB_* code. Never NULL ("unknown
** error" for a code not listed). */
const char *mb_strerror(int rc);

/* The OS error (errno / GetLastError) behind the last failure on this
** thread, or 0 if the failure had no OS cause. */
int mb_last_oserror(void);

/* ------------------------------------------------------------------ */
/* Platform facts                                                     */
/* ------------------------------------------------------------------ */
/* The VM page size, asked of the OS once and cached. */
size_t mb_page_size(void);
/* The unit a file offset of a mapping must be a multiple of: the page size
** on POSIX, the allocation granularity (64 KiB) on Windows. mb_map_open()
** accepts any offset and hides this alignment from the caller. */
size_t mb_map_granularity(void);
/* The huge (PMD) page size the OS would use, or 0 if it has none. */
size_t mb_huge_page_size(void);
/* Short name of the backend: "posix" or "windows". */
const char *mb_backend_name(void);

/* ------------------------------------------------------------------ */
/* Mapping a file                                                     */
/* ------------------------------------------------------------------ */
typedef struct mb_map mb_map;

/* Flags for mb_map_options.flags */
#define MB_MAP_WRITE        0x01u /* read-write, shared with the file */
#define MB_MAP_POPULATE     0x02u /* prefault the whole view at open, with
                                  ** the default populate method */
#define MB_MAP_HUGEPAGES    0x04u /* ask for huge pages; a request, never a
                                  ** reason to fail (see mb_map_info.huge) */
#define MB_MAP_ALLOW_EMPTY  0x08u /* a zero-length view is not an error (for
                                  ** writers that grow the file: appends, a
                                  ** new database); default is MB_EEMPTY */
#define MB_MAP_CREATE       0x10u /* with MB_MAP_WRITE: create the file if it
                                  ** does not exist (implies ALLOW_EMPTY) */
#define MB_MAP_NORESERVE    0x20u /* reserve no address space for growth
                                  ** (growth then remaps; see refresh) */

typedef struct mb_map_options {
    unsigned flags;     /* MB_MAP_* */
    uint64_t offset;    /* file offset of the first byte of the view; any
                        ** value, need not be aligned */
    uint64_t length;    /* bytes in the view; 0 = from offset to the end of
                        ** the file, and the view follows the file as it
                        ** grows or shrinks (mb_map_refresh). A non-zero
                        ** length is a fixed window that must lie inside the
                        ** file: MB_ERANGE otherwise. */
    uint64_t reserve;   /* address space to reserve for growth, in bytes,
                        ** counted from the view start; 0 = the default
                        ** (mb_default_reserve()). Ignored for fixed windows. */
} mb_map_options;

/* The default reservation for growing views: max(2 x view, 64 GiB) on
** 64-bit platforms, 2 x view on 32-bit. Reserved address space costs no
** memory; it only keeps the address range free so the view never moves.
** The environment variable MEMBASE_RESERVE_FLOOR (e.g. "64MiB") replaces
** the 64 GiB floor; it is meant for emulators (qemu-user pays per reserved
** page), see core/mb_view.c. */
uint64_t mb_default_reserve(uint64_t view_size);

/*
** Map `path` according to `opt` (NULL = read-only, whole file). On MB_OK
** *out holds the new map: close it with mb_map_close().
**
** Errors: MB_EINVAL (NULL path or out, unknown flag, MB_MAP_CREATE without
** MB_MAP_WRITE, path too long or malformed), MB_ENOENT, MB_EISDIR,
** MB_ENOTFILE, MB_EACCES, MB_EREADONLY (write asked, file only readable),
** MB_EEMPTY (zero-length view without MB_MAP_ALLOW_EMPTY), MB_ERANGE
** (offset past the end, or a fixed window past the end), MB_EOVERFLOW
** (offset+length overflows or passes INT64_MAX, reservation beyond
** size_t), MB_ENOMEM (memory or address space), MB_EIO (any other OS
** failure). MB_MAP_POPULATE never fails the open.
** On error *out is unchanged and nothing is left open.
*/
int mb_map_open(const char *path, const mb_map_options *opt, mb_map **out);

/*
** The same, through the caller's open descriptor `fd` of the file `path`
** names (POSIX). The map never closes fd: the caller keeps it open while
** the map lives, or calls mb_map_own_fd() before closing it. For files that
** carry POSIX record locks (SQLite databases): closing any descriptor of a
** file drops every such lock the process holds on it, so a map must never
** close a descriptor of its own there.
**
** Errors: MB_EINVAL (NULL path or out, fd < 0 or not open, unknown flag,
** MB_MAP_CREATE), MB_EREADONLY (write asked of a read-only fd), MB_EISDIR,
** MB_ENOTFILE, MB_EEMPTY, MB_ERANGE, MB_EOVERFLOW (as mb_map_open),
** MB_ENOMEM, MB_EIO (fstat or mmap failed). Windows: always MB_ENOTSUP.
*/
int mb_map_open_fd(const char *path, int fd, const mb_map_options *opt, mb_map **out);

/* Unmap, release the reservation and close the file. NULL is a no-op.
** Does not flush: call mb_map_flush() first if durability is wanted.
** Cannot fail. */
void mb_map_close(mb_map *m);

/* Pointer to the first byte of the view (file offset opt.offset). Stable
** for the life of the map unless growth exceeds the reservation (see
** mb_map_refresh). NULL while the view is empty (and for a NULL map). */
void *mb_map_data(const mb_map *m);
/* Bytes of the view that may be touched, from mb_map_data(); 0 for NULL. */
uint64_t mb_map_size(const mb_map *m);
/* The file's size as last seen by open/refresh; 0 for NULL. */
uint64_t mb_map_file_size(const mb_map *m);
/* The file offset of the view start; 0 for NULL. */
uint64_t mb_map_offset(const mb_map *m);
/* Non-zero if the view is writable; 0 for NULL. */
int mb_map_writable(const mb_map *m);
/* A map opened with mb_map_open_fd stops using the caller's descriptor: it
** opens the file again (checked to be the same file) and keeps that one.
** Call it before closing a descriptor a live map still uses. MB_OK at once
** for a map that owns its descriptor, and always on Windows.
** Errors: MB_EINVAL (NULL map); reopening the path failed: MB_ENOENT,
** MB_EISDIR, MB_EACCES, MB_ENOMEM, MB_EIO (also: the path names another
** file now). On error the map keeps the caller's descriptor. */
int mb_map_own_fd(mb_map *m);
/* The path the map was opened with (owned by the map); NULL for NULL. */
const char *mb_map_path(const mb_map *m);

/*
** Re-read the file's size and make a following view (length 0) match it.
**  - Growth within the reservation maps the new pages in place: the
**    address returned by mb_map_data() does not change.
**  - Growth beyond the reservation (or with MB_MAP_NORESERVE) remaps at a
**    new, larger reservation. The old view is kept mapped until
**    mb_map_close(), so pointers taken before stay readable; they just no
**    longer see growth. mb_map_info.moves counts this.
**  - Shrinking unmaps the tail (the address range stays reserved), so a
**    stale access past the new end faults; mb_map_read() turns that into
**    MB_EFAULT.
** A fixed window is not resized; if the file no longer covers it, refresh
** returns MB_EFAULT. *new_size (may be NULL) receives the view size, also
** when the refresh fails after the file's size was read.
** Safe to call concurrently with readers of the view; callers serialise
** refresh against other refresh/resize calls on the same map (the
** registry does that for shared maps).
**
** Errors: MB_EINVAL (NULL map), MB_EFAULT (a fixed window the file no
** longer covers), MB_ENOMEM (no address space for the grown view),
** MB_EOVERFLOW (the new size does not fit size_t), MB_EIO (fstat /
** GetFileSizeEx or a map call failed).
*/
int mb_map_refresh(mb_map *m, uint64_t *new_size);

/* Set the file's size (write maps only) and refresh the view: grows the
** file with zeros or truncates it.
** Errors: MB_EINVAL (NULL map), MB_EREADONLY (read-only map or file),
** MB_EOVERFLOW (size above INT64_MAX, or too large for the file system),
** MB_ERANGE (the size would cut a fixed window), MB_EIO (ftruncate /
** SetFileInformationByHandle failed, e.g. disk full; on Windows also while
** another map or process has a view of the file), and the refresh's
** MB_ENOMEM, MB_EFAULT. */
int mb_map_resize_file(mb_map *m, uint64_t new_file_size);

/* Let another handle of the file change its size (as SQLite's platform VFS
** truncates its own handle of a database this map views): cut(ctx, size)
** does it, called once, with this map out of its way, and the view then
** follows the file's actual size (a refresh), whatever cut did.
**  - Where the system refuses to shrink a file while a view of it is
**    mapped (Windows: ERROR_USER_MAPPED_FILE, which SQLite's win32 VFS
**    ignores, so the file silently kept its size), a shrink below the file's
**    current size unmaps every view of this map first, views left behind
**    by moves included, and maps the view again afterwards at the same
**    address when the range is still free.
**  - Elsewhere the tail past the new size is unmapped first, so no user of
**    the map faults on the bytes cut away in between.
** mb_map_read()/mb_map_write() wait for the cut to end. Pointers taken
** from mb_map_data() must not be used during the call and, on Windows,
** not after it either if the view moved (mb_map_data() again). cut must
** not use this map. Growth (size at or above the file's) unmaps nothing.
** Returns the refresh's result: MB_OK, or MB_EINVAL (NULL map or cut, and
** then cut is not called), MB_ENOMEM, MB_EOVERFLOW, MB_EIO as
** mb_map_refresh(). cut's own result is its business: it is not read. */
typedef void (*mb_cut_fn)(void *ctx, uint64_t new_file_size);
int mb_map_cut(mb_map *m, uint64_t new_file_size, mb_cut_fn cut, void *ctx);

/* The file's size and last-modification time as the OS reports them now
** (fstat / GetFileInformationByHandle), without changing the view. For
** caches of data derived from the file: a size and mtime unchanged since
** the data was built mean the data still describes the file. mtime is in
** nanoseconds since 1970-01-01 UTC, to the resolution the file system has.
** Either out-parameter may be NULL.
** Errors: MB_EINVAL (NULL map), MB_EIO (fstat / GetFileInformationByHandle
** failed). */
int mb_map_stamp(const mb_map *m, uint64_t *size, int64_t *mtime_ns);

/* The file's change stamp: identity, size, modification time and
** status-change time (ctime on POSIX, ChangeTime on Windows), plus the
** clock's time when it was read, all in nanoseconds since 1970-01-01 UTC.
** A size and mtime can be put back by anyone (touch -r, rsync -t, a
** same-size rewrite); the ctime cannot: every write, truncation and utime
** moves it. Two equal stamps therefore mean the file was not changed in
** between, with one caveat that the caller must handle: file times move
** by clock ticks, so a change in the same tick as the stamp was read
** leaves it equal. A stamp read less than MB_STAMP_RACY_NS after its
** ctime is "racy" (git's word) and proves nothing on its own. */
typedef struct mb_stamp {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    int64_t read_ns;        /* when the stamp was read */
} mb_stamp;
#define MB_STAMP_RACY_NS 2000000000ll
/* Read the stamp of m's file into *out.
** Errors: MB_EINVAL (NULL map or out), MB_EIO (fstat /
** GetFileInformationByHandle(Ex) failed). */
int mb_map_change_stamp(const mb_map *m, mb_stamp *out);
/* Set the file's modification time to now (which moves its ctime too): a
** change that readers comparing stamps must notice, made before bytes
** change through the mapping (which some file systems, tmpfs among them,
** do not stamp). futimens / SetFileTime.
** Errors: MB_EINVAL (NULL map), MB_EIO (the call failed). */
int mb_map_touch(mb_map *m);
/* 1 if a and b are the same stamp of the same file, and a was not racy
** when it was read: nothing changed the file between the two readings.
** 0 otherwise, and when a or b is NULL. */
int mb_stamp_unchanged(const mb_stamp *a, const mb_stamp *b);

/* Advisory whole-file lock on the map's file, for writers in several
** processes that must take turns (record files). */
#define MB_LOCK_UNLOCK    0
#define MB_LOCK_SHARED    1
#define MB_LOCK_EXCLUSIVE 2
#define MB_LOCK_NOWAIT    0x10 /* or'ed in: MB_EBUSY instead of waiting */
/* Take, change or drop the lock: flock() on Linux; elsewhere one byte
** (0x4000000000000000, past any real data): LockFileEx on Windows, an
** fcntl lock on macOS and other POSIX systems, where flock and fcntl locks
** share one table and a whole-file flock would collide with the view lock
** and SQLite's byte locks. An open-file-description lock (F_OFD_SETLK)
** where the system has one; macOS has none, so there the lock is the
** process's: other maps of the file in the process are not excluded, and
** closing any descriptor of the file in the process drops it.
** It excludes other processes (and, except on macOS, other maps of the
** file opened with mb_map_open). It does NOT exclude other threads of this process using
** the same map -- registry users share one descriptor -- so a process
** serialises its own writers first and takes this lock once. Taking a lock
** the map already holds is a conversion on POSIX, not on Windows
** (LockFileEx adds a lock, waits or reports MB_EBUSY): do not rely on
** either. Closing the map drops it. Unlocking when not locked is MB_OK.
** Errors: MB_EINVAL (NULL map, unknown `how`), MB_EBUSY (MB_LOCK_NOWAIT
** and another holder), MB_EIO (flock / fcntl / LockFileEx / UnlockFileEx
** failed; on macOS also an exclusive lock through a read-only descriptor).
*/
int mb_map_lock(mb_map *m, int how);

/* The view lock: a second lock on the map's file, apart from mb_map_lock,
** for readers that must not see a change while it is applied (record
** tables: docs/TRANSACTIONS.md). Readers hold it shared; whoever applies a
** change holds it exclusive. It counts the threads of this process: every
** MB_VIEW_SHARED is one hold, given back by one MB_VIEW_UNSHARE. `own` is
** the number of holds the caller (one connection) has already.
**   MB_VIEW_SHARED     take a hold. Refused while a writer is pending
**                      (below), unless own > 0: a statement that holds the
**                      lock may take more holds.
**   MB_VIEW_UNSHARE    give one back.
**   MB_VIEW_EXCLUSIVE  the writer: the first call makes it pending, so no
**                      new reader starts (readers cannot starve it); it is
**                      granted once no other process holds the lock and
**                      this process holds exactly `own` shared holds (the
**                      caller's, which it converts). Until then MB_EBUSY,
**                      and the caller calls again (or gives up with
**                      MB_VIEW_RELEASE).
**   MB_VIEW_RELEASE    the writer is done (or gives up): exclusive and
**                      pending are dropped; its `own` holds stay shared.
**   MB_VIEW_TRY        exclusive if it is free now, without making the
**                      writer pending: readers go on meanwhile (a writer
**                      tries this for a while before it claims the lock).
** Never waits: MB_EBUSY when the lock is taken (the caller sleeps and
** retries). POSIX: open-file-description locks (F_OFD_SETLK; plain
** F_SETLK where the system has none, whose locks a close() of any
** descriptor of the file in the process drops) on two bytes past any real
** data: MB_VIEW_PENDING_BYTE, which a reader holds only while it takes
** MB_VIEW_LOCK_BYTE; Windows: LockFileEx on the same bytes. A shared hold
** needs a readable descriptor, exclusive a writable map.
** Errors: MB_EINVAL (NULL map, unknown `how`, an unshare without a hold,
** a release by no writer), MB_EBUSY (held by another process, or by other
** threads of this one, or a writer is pending), MB_EREADONLY (exclusive
** on a read-only map), MB_EIO (fcntl / LockFileEx failed). */
#define MB_VIEW_SHARED    1
#define MB_VIEW_EXCLUSIVE 2
#define MB_VIEW_UNSHARE   3
#define MB_VIEW_RELEASE   4
#define MB_VIEW_TRY       5
#define MB_VIEW_PENDING_BYTE 0x4000000000000002ULL
#define MB_VIEW_LOCK_BYTE    0x4000000000000001ULL
int mb_map_view_lock(mb_map *m, int how, unsigned own);

/* The identity of the file m has open: (device, inode) on POSIX, (volume
** serial number, file index) on Windows.
** Errors: MB_EINVAL (NULL argument), MB_EIO (fstat /
** GetFileInformationByHandle failed). */
int mb_map_file_identity(const mb_map *m, uint64_t *dev, uint64_t *ino);
/* The identity of the file `path` names now (stat), to compare with a
** map's: a file renamed over or removed has another, or none.
** Errors: as mb_map_open's (MB_ENOENT, MB_EISDIR, MB_EACCES, ...). */
int mb_file_identity(const char *path, uint64_t *dev, uint64_t *ino);

/* ------------------------------------------------------------------ */
/* Advice, populate and prefetch                                      */
/* ------------------------------------------------------------------ */
typedef enum mb_advice {
    MB_ADV_NORMAL = 0,
    MB_ADV_RANDOM,
    MB_ADV_SEQUENTIAL,
    MB_ADV_WILLNEED,
    MB_ADV_DONTNEED   /* drop this process's page-table entries for the
                      ** range; file data is never discarded */
} mb_advice;
/* Never NULL ("unknown" for a value not listed). */
const char *mb_advice_name(mb_advice a);

/* Advise [off, off+len) of the view; len 0 = to the end of the view. The
** range is widened to whole pages. NORMAL/RANDOM/SEQUENTIAL on the whole
** view are remembered and shown as mb_map_info.advice. Advice is a hint:
** Windows acts on WILLNEED only (PrefetchVirtualMemory, a refusal
** ignored) and returns MB_OK for the others, doing nothing.
** Errors: MB_EINVAL (NULL map, unknown advice), MB_ERANGE (range leaves
** the view), MB_EOVERFLOW (off+len overflows), MB_EIO (POSIX: madvise
** failed). */
int mb_map_advise(mb_map *m, mb_advice a, uint64_t off, uint64_t len);

typedef enum mb_populate {
    MB_POP_DEFAULT = 0,   /* for mb_map_populate: POPULATE_READ on Linux,
                          ** PrefetchVirtualMemory + TOUCH on Windows;
                          ** for a scanner: NONE */
    MB_POP_NONE,          /* do nothing (first touch faults pages in) */
    MB_POP_WILLNEED,      /* MADV_WILLNEED: asynchronous read-ahead only */
    MB_POP_POPULATE_READ, /* MADV_POPULATE_READ (Linux 5.14+): synchronous,
                          ** page tables filled, no faults on first touch */
    MB_POP_MAP_POPULATE,  /* map again with MAP_POPULATE (Linux) */
    MB_POP_TOUCH,         /* read one byte per page (portable fallback) */
    MB_POP_PREFETCH_VM    /* PrefetchVirtualMemory (Windows 8+) */
} mb_populate;
/* Never NULL ("unknown" for a value not listed). */
const char *mb_populate_name(mb_populate p);

/* Bring [off, off+len) of the view into memory (len 0 = to the end). The
** synchronous methods (POPULATE_READ, MAP_POPULATE, TOUCH) return with the
** range resident and mapped: touching it afterwards takes no fault. If one
** is not available it falls back to the next synchronous one
** (POPULATE_READ -> MAP_POPULATE -> TOUCH), never to the asynchronous
** WILLNEED, and reports what was used in *used (may be NULL; set only on
** MB_OK).
** Errors: MB_EINVAL (NULL map, unknown method), MB_ERANGE (range leaves
** the view), MB_EOVERFLOW (off+len overflows), MB_EFAULT (a page could not
** be read: file truncated underneath, I/O error), MB_ENOMEM (POSIX:
** POPULATE_READ or MAP_POPULATE out of memory), MB_EIO (madvise or mmap
** failed; the fault guard could not be installed). */
int mb_map_populate(mb_map *m, uint64_t off, uint64_t len,
                    mb_populate how, mb_populate *used);

/* How much of [off, off+len) of the view (len 0 = to the end) is in memory
** now: resident pages of the range times the page size, at most len, so a
** fully resident range answers exactly len. POSIX: mincore(), the file's
** page-cache residency, no I/O.
** Errors: MB_EINVAL (NULL map or resident), MB_ERANGE (range leaves the
** view), MB_EOVERFLOW (off+len overflows), MB_EFAULT (part of the range is
** not mapped), MB_EIO (mincore failed); Windows, once the range checks:
** always MB_ENOTSUP (it cannot tell cheaply). */
int mb_map_residency(mb_map *m, uint64_t off, uint64_t len, uint64_t *resident);

/*
** Sequential prefetch-ahead for scanners. A scanner keeps one mb_scan,
** calls mb_scan_advance() as its position moves forward, and the core
** keeps `window` bytes ahead of it populated, issuing a new request each
** time the position crosses half of the previous window, so the I/O for
** the next half-window overlaps the scan of the current one. A window
** whose last page is already resident is not requested again: on a cached
** file a scan costs one mincore() of one page per half-window.
**
** The default method is MB_POP_NONE: the kernel's own fault read-ahead
** scans fastest (WILLNEED leaves 4 KiB folios that 2 MiB entries cannot
** map; POPULATE_READ does not overlap I/O and scan). Pass a method to
** prefetch anyway, e.g. where the device's read-ahead is small.
*/
typedef struct mb_scan {
    mb_map     *map;
    uint64_t    window;    /* bytes kept ahead of the scanner */
    uint64_t    issued;    /* view offset up to which prefetch was issued */
    mb_populate how;       /* method used for each window */
    uint64_t    requests;  /* prefetch requests issued (for stats/tests) */
    uint64_t    skipped;   /* windows found already resident, not requested */
    /* Memory manners (mb_scan_set_dropbehind, below). */
    int         policy;    /* mb_dropbehind asked for */
    int         dropping;  /* 1: passed ranges are being released */
    uint64_t    released;  /* view offset below which pages were released */
    uint64_t    dropped;   /* bytes this scan released */
    uint64_t    checked;   /* view offset of the last memory checkpoint */
    uint64_t    asked;     /* the window asked for at init */
    uint64_t    at;        /* the last position advanced to */
} mb_scan;

/* window 0 = default (MB_SCAN_DEFAULT_WINDOW); how = MB_POP_DEFAULT means
** MB_POP_NONE (above). Drop-behind starts at the process default.
** Fills the caller's *s; m must outlive the scan. Cannot fail. */
#define MB_SCAN_DEFAULT_WINDOW (8u * 1024u * 1024u)
void mb_scan_init(mb_scan *s, mb_map *m, uint64_t window, mb_populate how);
/* The scanner is at view offset `pos`. Cheap when nothing needs issuing.
** Also the scan's memory checkpoint: once per MB_DROP_CHUNK it samples
** memory (mb_memory_sample), sizes the prefetch window from what the
** process may use, and releases the pages left behind when drop-behind is
** on (a failed release is not reported).
** Errors: always MB_OK with MB_POP_NONE (the default); otherwise those of
** mb_map_populate for the window requested: MB_EINVAL (unknown method),
** MB_EFAULT, MB_ENOMEM, MB_EIO. */
int mb_scan_advance(mb_scan *s, uint64_t pos);

/*
** Drop-behind. A scanner that reads a file once, front to back, can ask
** the core to give the pages it has passed back to the OS, so the scan does
** not push everything else out of memory (the hot pages of a database in
** the same process or container) nor leave the file cached.
**  - MB_DROP_ON: release each MB_DROP_CHUNK once the scan is a chunk past
**    it (mb_map_release, MB_REL_DEFAULT).
**  - MB_DROP_OFF: never.
**  - MB_DROP_AUTO: on when the file is larger than 1/MB_DROP_AUTO_FRACTION
**    of the memory the process may use (mb_memory.available), decided when
**    the policy is set, and switched on later if the OS reports memory
**    pressure during the scan. Small files stay cached.
** Only scans release: point lookups never call mb_scan_advance. Dirty
** pages of a writable map are written back (msync MS_SYNC) before they are
** released, never discarded. mb_scan_init starts with the process default
** (mb_set_dropbehind_default, itself MB_DROP_AUTO until set).
*/
typedef enum mb_dropbehind {
    MB_DROP_AUTO = 0,
    MB_DROP_ON,
    MB_DROP_OFF
} mb_dropbehind;
#define MB_DROP_CHUNK (32u * 1024u * 1024u)
#define MB_DROP_AUTO_FRACTION 2u
/* Set the scan's policy; decided again at its next checkpoint. */
void mb_scan_set_dropbehind(mb_scan *s, mb_dropbehind policy);
/* The scan ended at view offset `pos` (its last byte read + 1; 0 = the
** last position advanced to): with drop-behind on, release everything
** before it. Not needed for correctness; it leaves no cached tail
** behind.
** Errors: MB_OK when drop-behind is off; otherwise mb_map_release's:
** MB_ENOTSUP (always on Windows; a kernel without the call), MB_EFAULT,
** MB_EIO. */
int mb_scan_finish(mb_scan *s, uint64_t pos);
/* Never NULL ("?" for a value not listed). */
const char *mb_dropbehind_name(mb_dropbehind p);
/* "auto", "on", "off" (also 1/0, true/false, yes/no), any case.
** Errors: MB_EINVAL (NULL text or out, any other word), *out unchanged. */
int mb_dropbehind_parse(const char *text, mb_dropbehind *out);
/* The policy new scans start with; a value not listed is ignored. */
void mb_set_dropbehind_default(mb_dropbehind p);
mb_dropbehind mb_dropbehind_default(void);
/* What `policy` decides for a file of file_size bytes now (1 = release,
** 0 = keep). */
int mb_dropbehind_wanted(mb_dropbehind policy, uint64_t file_size);

/*
** Give pages of [off, off+len) of the view back to the OS. File data is
** never lost: a writable map's range is written back first (msync
** MS_SYNC), and no method discards file contents (no MADV_REMOVE, no hole
** punching). Methods:
**   MB_REL_DEFAULT          MB_REL_UNMAP_FADVISE (see mb_scan.c)
**   MB_REL_FADVISE          posix_fadvise(DONTNEED) alone: skips pages
**                           still mapped, so it releases little
**   MB_REL_UNMAP_FADVISE    madvise(MADV_DONTNEED) drops this process's
**                           page-table entries, then fadvise(DONTNEED)
**                           drops the now unmapped clean pages
**   MB_REL_PAGEOUT          madvise(MADV_PAGEOUT) (Linux 5.4+)
**   MB_REL_COLD             madvise(MADV_COLD): only marks them first to go
** Errors: MB_EINVAL (NULL map, unknown method), MB_ERANGE (range leaves
** the view), MB_EOVERFLOW (POSIX: off+len overflows), MB_ENOTSUP (always
** on Windows and macOS -- no posix_fadvise, and macOS's MADV_DONTNEED
** keeps the pages -- checked before anything is written back or dropped;
** a method an old kernel lacks), MB_EFAULT (the write-back
** hit an unmapped page), MB_EIO (msync, madvise or fadvise failed).
*/
typedef enum mb_release {
    MB_REL_DEFAULT = 0,
    MB_REL_FADVISE,
    MB_REL_UNMAP_FADVISE,
    MB_REL_PAGEOUT,
    MB_REL_COLD
} mb_release;
/* Never NULL ("?" for a value not listed). */
const char *mb_release_name(mb_release r);
int mb_map_release(mb_map *m, uint64_t off, uint64_t len, mb_release how);

/*
** Populate, bounded by memory: as mb_map_populate, but never more than
** 1/MB_PREFETCH_FRACTION of the memory the process may use. A longer range
** becomes a prefetch of its first part: *done (may be NULL) receives the
** bytes populated, and the map records the bound (mb_map_info.mem).
** Errors: MB_EINVAL (NULL map), MB_ERANGE (range leaves the view, also an
** overflowing off+len), and those of mb_map_populate: MB_EINVAL (unknown
** method), MB_EFAULT, MB_ENOMEM, MB_EIO. *done is set only on MB_OK.
*/
#define MB_PREFETCH_FRACTION 4u
int mb_map_populate_bounded(mb_map *m, uint64_t off, uint64_t len, mb_populate how,
                            mb_populate *used, uint64_t *done);

/* ------------------------------------------------------------------ */
/* Memory the process may use, and pressure                           */
/* ------------------------------------------------------------------ */
/*
** Linux: MemAvailable from /proc/meminfo; the process's memory cgroup
** (v2: memory.max, memory.current, memory.pressure; v1:
** memory.stat's hierarchical_memory_limit, memory.usage_in_bytes, and a
** memory.pressure_level "medium" notification); system PSI from
** /proc/pressure/memory. Windows: GlobalMemoryStatusEx and the low-memory
** resource notification. Elsewhere nothing is known (available = max).
** Pressure: PSI "some" stall above 5% of the time since the last sample
** (or avg10 >= 10% on the first), a v1 notification, or -- where the OS
** reports no pressure -- available below 1/32 of the limit (or of RAM).
** A source that cannot be read is skipped quietly and counted
** (mb_stats.pressure_unreadable).
** For tests and operators, MEMBASE_MEMINFO, MEMBASE_PSI and
** MEMBASE_CGROUP (a directory with v2 or v1 files) in the environment
** replace the paths read.
*/
typedef enum mb_pressure_source {
    MB_PRESSURE_NONE = 0,      /* the OS reports no pressure measure */
    MB_PRESSURE_PSI,           /* /proc/pressure/memory */
    MB_PRESSURE_CGROUP_PSI,    /* cgroup v2 memory.pressure */
    MB_PRESSURE_CGROUP_V1,     /* cgroup v1 memory.pressure_level */
    MB_PRESSURE_AVAILABLE,     /* fallback: available memory */
    MB_PRESSURE_OS             /* Windows low-memory notification */
} mb_pressure_source;
/* Never NULL ("?" for a value not listed). */
const char *mb_pressure_source_name(mb_pressure_source s);

typedef struct mb_memory {
    uint64_t available;      /* what the process may still use: the smaller
                             ** of mem_available and cgroup_limit -
                             ** cgroup_usage; UINT64_MAX if neither known */
    uint64_t mem_available;  /* MemAvailable; 0 = unknown */
    uint64_t mem_total;      /* MemTotal; 0 = unknown */
    uint64_t cgroup_limit;   /* 0 = no limit found */
    uint64_t cgroup_usage;
    int      cgroup_version; /* 0 = none, 1, 2 */
    int      pressure;       /* 1: under pressure now */
    mb_pressure_source source;
} mb_memory;
/* A reading at most MB_MEMORY_INTERVAL_MS old (cached process-wide, so a
** scan checkpoint costs a clock read). A new reading that finds pressure
** where the last found none counts a pressure event and releases the
** registry's idle mappings. A source that cannot be read is no error.
** Errors: MB_EINVAL (NULL out). */
#define MB_MEMORY_INTERVAL_MS 100u
int mb_memory_sample(mb_memory *out);
/* A fresh reading now, and forget the cached one.
** Errors: MB_EINVAL (NULL out). */
int mb_memory_read(mb_memory *out);

/* ------------------------------------------------------------------ */
/* Huge pages                                                         */
/* ------------------------------------------------------------------ */
typedef enum mb_huge {
    MB_HUGE_NOT_REQUESTED = 0,
    MB_HUGE_UNSUPPORTED,  /* the OS refused the request for this mapping
                          ** (e.g. madvise EINVAL, THP disabled) */
    MB_HUGE_ADVISED,      /* the request was accepted, but no huge page
                          ** backs the view (yet) */
    MB_HUGE_ACTIVE        /* at least one huge page maps the view */
} mb_huge;
/* Never NULL ("unknown" for a value not listed). */
const char *mb_huge_name(mb_huge h);

/* Re-measure what actually backs the view (Linux: /proc/self/smaps,
** AnonHugePages + FilePmdMapped + ShmemPmdMapped of the view's range).
** *status and *huge_bytes (either may be NULL) receive the outcome and the
** bytes mapped by huge pages; an unreadable smaps counts as none.
** Errors: MB_EINVAL (NULL map). */
int mb_map_huge_status(mb_map *m, mb_huge *status, uint64_t *huge_bytes);

/* ------------------------------------------------------------------ */
/* Flush                                                              */
/* ------------------------------------------------------------------ */
#define MB_FLUSH_SYNC   0 /* durable: msync(MS_SYNC) + fsync (F_FULLFSYNC on
                          ** macOS); FlushViewOfFile + FlushFileBuffers */
#define MB_FLUSH_ASYNC  1 /* start write-back and return: sync_file_range
                          ** (Linux) / msync(MS_ASYNC) / FlushViewOfFile */

/* Flush [off, off+len) of the view (len 0 = to the end). A read-only map
** flushes nothing and returns MB_OK once the arguments are checked.
** Errors: MB_EINVAL (NULL map, unknown mode), MB_ERANGE (range leaves the
** view), MB_EOVERFLOW (off+len overflows), MB_EFAULT (POSIX: msync hit an
** unmapped page), MB_EIO (msync, fsync, sync_file_range, FlushViewOfFile
** or FlushFileBuffers failed). */
int mb_map_flush(mb_map *m, uint64_t off, uint64_t len, int mode);
/* Write n bytes at view offset off through the file descriptor (pwrite /
** WriteFile), not through the mapping, which sees them at once (one page
** cache). For a few small writes that must be synced soon: on Linux ext4 a
** page first written through a mapping makes the next fdatasync commit
** the file system's journal (2.9 ms against 0.4 ms for the same ten
** records written with pwrite, measured here). The range must lie in the
** view. Errors: MB_EINVAL (NULL), MB_ERANGE / MB_EOVERFLOW (outside the
** view), MB_EREADONLY (a read-only map), MB_EIO (the write failed, a
** short write included; mb_last_oserror() has ENOSPC for a full disk). */
int mb_map_pwrite(mb_map *m, uint64_t off, const void *buf, size_t n);
/* Make n ranges [aOff[i], aOff[i]+aLen[i]) of the view durable, with one
** sync of the file's data and size (not its times): msync(MS_SYNC) of each
** range and one fsync (F_FULLFSYNC on macOS); on Linux one fdatasync
** alone, which writes every page a shared mapping dirtied (msync(MS_SYNC)
** is a sync of its own per call there);
** FlushViewOfFile of each range and one FlushFileBuffers on Windows.
** Errors: as mb_map_flush (MB_EINVAL also for n > 0 with a NULL array). */
int mb_map_flush_ranges(mb_map *m, const uint64_t *aOff, const uint64_t *aLen,
                        size_t n);

/* ------------------------------------------------------------------ */
/* Fault-guarded copies                                               */
/* ------------------------------------------------------------------ */
/*
** Soft faults, for users that hand raw pointers into the view to code that
** cannot be guarded (SQLite's pager reading pages it got from xFetch). Once
** enabled on a map, a fault on its reservation that no guarded copy claims
** -- the file was truncated by someone ignoring the locks, a stale pointer
** past a shrink -- does not kill the process: the page is replaced by a
** page of zeros (writable if the map is) and the access goes on, reading
** zeros. mb_map_soft_faults() counts such pages; a user that sees the count
** change should stop trusting what it read and refresh. The next
** mb_map_refresh() maps the whole view from the file again, so no zero page
** outlives it inside the view. Enabling is idempotent and lasts until
** close. POSIX (SIGBUS/SIGSEGV) only. At most 256 maps at a time.
** Errors: MB_EINVAL (NULL map), MB_ENOMEM (256 maps enabled already, or
** the signal handlers could not be installed: the map works, unprotected),
** MB_ENOTSUP (always on Windows).
*/
int mb_map_enable_soft_faults(mb_map *m);
/* Pages replaced by zeros so far; 0 for NULL or when not enabled. */
uint64_t mb_map_soft_faults(const mb_map *m);

/* The process's fault handler, shared by guarded copies and soft faults
** (for diagnostics: membase_debug()). It is installed on first use. */
typedef enum mb_guard_state {
    MB_GUARD_NOT_INSTALLED = 0,  /* nothing was guarded yet */
    MB_GUARD_INSTALLED,          /* SIGBUS/SIGSEGV handler; vectored
                                 ** exception handler on Windows */
    MB_GUARD_FAILED              /* installing failed: guarded copies
                                 ** report MB_EIO, soft faults are off */
} mb_guard_state;
/* The handler's state now; *soft_maps (may be NULL) receives the number
** of maps with soft faults enabled now (always 0 on Windows, which has
** none). Cannot fail. */
mb_guard_state mb_guard_status(unsigned *soft_maps);
/* Never NULL: "not installed", "installed", "failed" ("unknown" else). */
const char *mb_guard_state_name(mb_guard_state s);

/* Copy n bytes at view offset `off` into dst (NULL only with n 0). A fault
** does not kill the process; dst may be partly written on MB_EFAULT.
** Safe against a concurrent mb_map_refresh or mb_map_resize_file of the
** same map: a copy that raced a change of the view (growth, a move, a
** shrink; on Windows the tail is unmapped while it grows) waits for the
** change to finish and is done again, so it never reports a fault or
** bytes that were only the refresh's. Raw pointers from mb_map_data()
** have no such protection.
** Errors: MB_EINVAL (NULL map, NULL dst), MB_ERANGE (range leaves the view
** as last refreshed; never MB_EOVERFLOW), MB_EFAULT (file truncated
** underneath: SIGBUS/SIGSEGV on POSIX, EXCEPTION_IN_PAGE_ERROR or access
** violation on Windows), MB_EIO (the fault guard could not be installed).
*/
int mb_map_read(const mb_map *m, uint64_t off, void *dst, size_t n);
/* The same, into the view (write maps only). Both directions move 1, 2, 4
** or 8 bytes at a naturally aligned address of the view with one atomic
** load or store, so a process reading a field another process is writing
** never sees it torn.
** Errors: MB_EINVAL (NULL map, NULL src), MB_EREADONLY (read-only map),
** MB_ERANGE, MB_EFAULT, MB_EIO (as mb_map_read). */
int mb_map_write(mb_map *m, uint64_t off, const void *src, size_t n);
/* memcpy(dst, src, n) where either side may be mapped file memory: returns
** MB_EFAULT instead of dying if a page of [src,src+n) or [dst,dst+n) cannot
** be read or written. The guard claims the whole pages those ranges touch
** (vectorised memcpy and memchr load aligned blocks that start before the
** range: up to 63 bytes outside it). Faults anywhere else are passed to the
** previously installed handler, as if the guard were not there.
** Thread-safe: each thread has its own guard. n 0 is MB_OK at once.
** Errors: MB_EINVAL (NULL dst or src), MB_EFAULT (a page could not be read
** or written), MB_EIO (the fault handler could not be installed). */
int mb_guarded_copy(void *dst, const void *src, size_t n);

/* Run fn(ctx) with the fault guard armed for [lo, lo+len), rounded out to
** whole pages: a fault inside them (a truncated file) ends fn at once.
** For scanners that search mapped memory in place (memchr over a window)
** instead of copying it out first.
** fn is abandoned mid-way by a fault (longjmp), so it must only read the
** range and write to ctx: no locks, no allocation, no calls into code that
** keeps state (SQLite). Faults outside the range reach the previous
** handler as usual.
** Errors: MB_EINVAL (NULL fn, NULL lo with len > 0), MB_EFAULT (a fault
** inside the range), MB_EIO (the fault handler could not be installed). */
int mb_guarded_call(const void *lo, size_t len, void (*fn)(void *ctx), void *ctx);

/* ------------------------------------------------------------------ */
/* Introspection and statistics                                       */
/* ------------------------------------------------------------------ */
typedef enum mb_io_kind {
    MB_IO_MAP_READ = 0,
    MB_IO_OS_READ,
    MB_IO_FETCH,
    MB_IO_NKINDS
} mb_io_kind;
typedef struct mb_io_counts {
    uint64_t count[MB_IO_NKINDS];  /* operations, by mb_io_kind */
    uint64_t bytes[MB_IO_NKINDS];  /* bytes, by mb_io_kind */
} mb_io_counts;

typedef struct mb_mem_counts {
    uint64_t dropped;        /* bytes released behind scans */
    uint64_t window;         /* prefetch window last in force (0 = none) */
    uint64_t populate_bound; /* last populate cut to this many bytes (0 =
                             ** never cut) */
} mb_mem_counts;

typedef struct mb_map_info {
    const char *path;        /* owned by the map */
    uint64_t    file_size;   /* as last seen */
    uint64_t    offset;      /* file offset of the view */
    uint64_t    mapped;      /* bytes in the view */
    uint64_t    reserved;    /* address space reserved for it */
    int         writable;
    mb_advice   advice;      /* last whole-view advice */
    mb_huge     huge;        /* last measured huge-page outcome */
    uint64_t    remaps;      /* grows and shrinks since open */
    uint64_t    moves;       /* growths that had to move the view */
    unsigned    refcount;    /* users in the registry (1 for a private map) */
    mb_io_counts io;         /* what users reported (mb_map_count_io) */
    mb_mem_counts mem;       /* drop-behind and prefetch */
    int      idle;           /* registry: kept mapped with no user */
    uint64_t resident;       /* bytes of the view in memory, measured only
                             ** when asked (mb_registry_snapshot_opt);
                             ** UINT64_MAX = not measured / unknown */
} mb_map_info;
/* Fill *info for m (info->idle 0, info->resident UINT64_MAX). Nothing
** happens if m or info is NULL. Cannot fail. */
void mb_map_get_info(const mb_map *m, mb_map_info *info);

/* Count I/O a user of the map did on its behalf, for statistics: a read
** served from the view (MB_IO_MAP_READ), one it had to send to the OS
** instead (MB_IO_OS_READ), a zero-copy reference handed out
** (MB_IO_FETCH). Lock-free; `bytes` may be 0. NULL m is a no-op. */
void mb_map_count_io(mb_map *m, mb_io_kind kind, uint64_t bytes);
/* The same for n operations at once (a user that counts in batches). An
** unknown kind is ignored. */
void mb_map_count_io_n(mb_map *m, mb_io_kind kind, uint64_t n, uint64_t bytes);

typedef struct mb_stats {
    uint64_t live_maps;      /* mappings open now */
    uint64_t bytes_mapped;   /* sum of their views */
    uint64_t bytes_reserved; /* sum of their reservations */
    uint64_t maps_opened;    /* since process start */
    uint64_t remaps;         /* grows + shrinks, all maps */
    uint64_t guard_faults;   /* faults turned into MB_EFAULT */
    uint64_t minor_faults;   /* process page faults (getrusage / */
    uint64_t major_faults;   /* GetProcessMemoryInfo); 0 if unknown */
    uint64_t dropped_behind;      /* bytes released behind scans */
    uint64_t pressure_events;     /* samples that found pressure begin */
    uint64_t pressure_unreadable; /* pressure/memory files that could not be read */
    uint64_t idle_maps;           /* registry maps kept with no user, now */
    uint64_t idle_bytes;          /* their views */
    uint64_t idle_evicted;        /* idle maps closed: budget or pressure */
    uint64_t prefetch_throttled;  /* scan windows cut by memory or pressure */
} mb_stats;
/* Fill *st with the counters now. NULL st is a no-op. Cannot fail. */
void mb_stats_get(mb_stats *st);

/* ------------------------------------------------------------------ */
/* The registry: one mapping per file per process                     */
/* ------------------------------------------------------------------ */
/*
** mb_registry_acquire() returns the process-wide map of the file `path`
** names, identified by device + inode (volume serial + file ID on
** Windows), opening it on first use. Every caller shares that one map;
** the map's refcount counts them. The map follows the whole file (offset
** 0, length 0) and is created with MB_MAP_ALLOW_EMPTY.
**
** `flags` may hold MB_MAP_WRITE (the shared map is upgraded to writable if
** the file allows it; MB_EREADONLY if not), MB_MAP_CREATE,
** MB_MAP_HUGEPAGES, MB_MAP_POPULATE and MB_MAP_NORESERVE. Thread-safe.
**
** Release with mb_registry_release(), never mb_map_close().
**
** Errors: MB_EINVAL (NULL path or out, any other flag, path too long or
** malformed), MB_ENOENT (no file and no MB_MAP_CREATE), MB_EISDIR,
** MB_ENOTFILE, MB_EACCES, MB_EREADONLY (write asked, file only readable),
** MB_EOVERFLOW, MB_ENOMEM, MB_EIO (as mb_map_open; MB_EIO also when
** making a shared map writable fails). Never MB_EEMPTY or MB_ERANGE.
*/
int  mb_registry_acquire(const char *path, unsigned flags, mb_map **out);
/* The same, with the address space to reserve for growth when this call is
** the one that maps the file (opt->reserve; 0 = the default). opt->flags
** as `flags` above; opt->offset and opt->length must be 0 (the registry
** maps whole files). A file already mapped keeps its reservation.
** Errors: as mb_registry_acquire, and MB_EINVAL (NULL opt, a non-zero
** offset or length). */
int  mb_registry_acquire_opt(const char *path, const mb_map_options *opt, mb_map **out);
/* The same; a map made by this call maps through the caller's descriptor
** fd (mb_map_open_fd), which the caller keeps open until it releases with
** mb_registry_release_fd(m, fd). A map that already exists is shared as it
** is. For SQLite databases, whose POSIX locks a close of any descriptor of
** the file would drop. fd < 0: as mb_registry_acquire_opt.
** Errors: as mb_registry_acquire_opt, and MB_EINVAL (MB_MAP_CREATE with
** fd >= 0, fd not open), MB_ENOTSUP (Windows, fd >= 0, when this call
** would map the file). */
int  mb_registry_acquire_fd(const char *path, int fd, const mb_map_options *opt, mb_map **out);
/* Drop a reference taken with mb_registry_acquire*(): the last one closes
** the map or keeps it idle (below). NULL, or a map the registry does not
** hold, is a no-op. Cannot fail. */
void mb_registry_release(mb_map *m);
/* Release a reference taken with mb_registry_acquire_fd: if the map lives
** on (other users) and still maps through fd, it opens its own descriptor
** first, so the caller may close fd. A map through a caller's descriptor
** is never kept idle. */
void mb_registry_release_fd(mb_map *m, int fd);
/* The caller is about to close oldfd, which the map may be mapping
** through: map through newfd (another open descriptor of the same file,
** which the caller keeps open) instead; with newfd < 0 or unusable, the map
** opens its own. Nothing happens to a map that does not use oldfd (always
** so on Windows: MB_OK).
** Errors: MB_EINVAL (NULL map); when the map must open its own descriptor,
** mb_map_own_fd's: MB_ENOENT, MB_EISDIR, MB_EACCES, MB_ENOMEM, MB_EIO. */
int  mb_registry_relend_fd(mb_map *m, int oldfd, int newfd);
/* The registry's map of the file `path` names, if it has one, without
** opening anything and without taking a reference: *out is NULL when the
** file is not mapped. For identity checks ("is this the file I hold?") by a
** caller that holds its own reference. *out is unchanged on error.
** Errors: MB_EINVAL (NULL path or out, path too long or malformed),
** MB_ENOENT, MB_EISDIR, MB_ENOTFILE, MB_EACCES, MB_ENOMEM, MB_EOVERFLOW,
** MB_EIO (the path's stat failed). Never MB_EREADONLY. */
int  mb_registry_lookup(const char *path, mb_map **out);
/*
** Idle mappings. When its last user releases a map, the registry may keep it
** mapped, so that the next acquire of the file skips the open and map (and
** finds its page tables still filled). Idle maps are bounded by a budget of
** view bytes and of count; past either, the least recently released are
** closed. Live maps are never closed. Idle maps are all closed when memory
** pressure is seen (mb_memory_sample), and an idle map whose file was
** deleted is closed at the next acquire or release. The default budget is
** 0 (no idle maps): an idle map keeps its file open -- the disk space of a
** deleted file is not freed until it is evicted, and Windows will not
** delete the file at all -- so keeping them is the application's choice.
** Setting a smaller budget evicts at once.
*/
#define MB_IDLE_DEFAULT_COUNT 0u
#define MB_IDLE_DEFAULT_BYTES 0u
/* Set the budget. Errors: MB_EOVERFLOW (bytes or count above INT64_MAX). */
int  mb_registry_set_idle_budget(uint64_t bytes, uint64_t count);
/* The budget in force; either pointer may be NULL. */
void mb_registry_idle_budget(uint64_t *bytes, uint64_t *count);
/* Close every idle map now; returns how many. */
unsigned mb_registry_trim_idle(void);

/* mb_map_refresh() for a shared map, serialised against other users.
** Errors: MB_EINVAL (NULL map, or one the registry does not hold), and
** mb_map_refresh's: MB_ENOMEM, MB_EOVERFLOW, MB_EIO. */
int  mb_registry_refresh(mb_map *m, uint64_t *new_size);

/* mb_map_resize_file() for a shared map, serialised against the refreshes
** and resizes of other users, as mb_registry_refresh is.
** Errors: MB_EINVAL (NULL map, or one the registry does not hold), and
** mb_map_resize_file's: MB_EREADONLY (acquired without MB_MAP_WRITE),
** MB_EOVERFLOW, MB_ENOMEM, MB_EIO. */
int  mb_registry_resize_file(mb_map *m, uint64_t new_file_size);

/* mb_map_cut() for a shared map, serialised as mb_registry_resize_file is.
** Errors: MB_EINVAL (NULL map or cut, or a map the registry does not hold:
** then cut is not called), and mb_map_cut's. */
int  mb_registry_cut(mb_map *m, uint64_t new_file_size, mb_cut_fn cut, void *ctx);

/* A snapshot of every live registry entry, for mb_stats-style listings.
** *out is an array of *n infos whose path strings are copies; free the
** whole thing with mb_registry_free_snapshot().
** Errors: MB_EINVAL (NULL out or n), MB_ENOMEM. */
int  mb_registry_snapshot(mb_map_info **out, size_t *n);
/* The same; with MB_SNAP_RESIDENT in flags, also measure each view's
** resident bytes (mb_map_residency: a mincore walk, ~1 ms per GiB); a view
** it cannot measure (Windows) keeps UINT64_MAX.
** Errors: MB_EINVAL (NULL out or n, unknown flag), MB_ENOMEM. */
#define MB_SNAP_RESIDENT 0x1u
int  mb_registry_snapshot_opt(mb_map_info **out, size_t *n, unsigned flags);
/* NULL arr is a no-op. */
void mb_registry_free_snapshot(mb_map_info *arr, size_t n);

/* ------------------------------------------------------------------ */
/* The cache of derived data                                          */
/* ------------------------------------------------------------------ */
/*
** A process-wide, thread-safe cache of values derived from files (a line
** index, a parsed header), so that every connection and table of the
** process shares one copy and a later query does not redo the work. Values
** are keyed by (file identity, tag): the identity is the one the registry
** uses (device + inode; volume serial + file ID on Windows), taken from a
** map of the file, so every spelling of the path and every map of the file
** find the same values. The tag is the caller's name for the kind of value
** ("lines-index/0a"); callers pick tags that cannot clash.
**
** Each value carries the file size and modification time (mb_map_stamp) it
** was built for. The cache does not compare them with the file: the
** caller does, and decides whether the value still describes the file,
** can be extended, or must be rebuilt and put again.
**
** Lifetime. A value is owned by the cache from mb_cache_put() on. Readers
** hold references (mb_cache_item); a value stays alive, unchanged, while a
** reference to it exists, even after another thread replaced it or it was
** evicted. Its destructor runs exactly once, on the thread that drops the
** last hold (the cache's own, or the last reference), never under the
** cache's lock. Values are immutable once put: a caller that wants to
** change one builds a new value and puts it, replacing the old.
**
** Bounds. The cache holds at most max_entries values and max_bytes of
** their declared cost (mb_cache_limits). Past either bound it evicts the
** least recently used values that no reader holds; values held by a reader
** are not evicted, so the bounds can be exceeded while they are held.
** Defaults: MB_CACHE_DEFAULT_ENTRIES and MB_CACHE_DEFAULT_BYTES.
*/
typedef struct mb_cache_item mb_cache_item;
typedef void (*mb_cache_destroy_fn)(void *value);

#define MB_CACHE_DEFAULT_ENTRIES 256u
#define MB_CACHE_DEFAULT_BYTES   (256u * 1024u * 1024u)
#define MB_CACHE_MAX_TAG 64u   /* longest tag, in bytes */

/*
** Find the value cached for (the file `m` maps, tag). On MB_OK *out holds a
** new reference: release it with mb_cache_release(). A hit makes the value
** the most recently used.
** Errors: MB_ENOENT (none: a miss), MB_EINVAL (NULL map or out, NULL,
** empty or too long tag), MB_EIO (the file's identity cannot be read).
*/
int  mb_cache_get(const mb_map *m, const char *tag, mb_cache_item **out);

/*
** Put `value` in the cache for (the file `m` maps, tag), built for a file of
** `size` bytes modified at `mtime_ns` (as mb_map_stamp reports them),
** replacing any value already there (which its readers keep until they
** release it). `cost` is the value's size in bytes, counted against the
** byte bound. `destroy` (may be NULL) frees the value.
**
** The cache takes ownership of `value` in every case: on failure destroy
** is called before mb_cache_put returns. With out non-NULL, *out receives a
** reference to the new value on MB_OK (release it).
** Errors: MB_EINVAL (NULL map, NULL, empty or too long tag, NULL value),
** MB_ENOMEM, MB_EIO (the file's identity cannot be read).
*/
int  mb_cache_put(const mb_map *m, const char *tag, uint64_t size, int64_t mtime_ns,
                  void *value, uint64_t cost, mb_cache_destroy_fn destroy,
                  mb_cache_item **out);

/* The value a reference holds, and the stamp it was built for; NULL / 0
** for a NULL reference. */
void    *mb_cache_value(const mb_cache_item *it);
uint64_t mb_cache_size(const mb_cache_item *it);
int64_t  mb_cache_mtime(const mb_cache_item *it);

/* Another reference to the same value (for a second holder). Returns it;
** NULL for NULL. */
mb_cache_item *mb_cache_retain(mb_cache_item *it);
/* Drop a reference. NULL is a no-op. The last hold on a value that has
** left the cache destroys the value. */
void mb_cache_release(mb_cache_item *it);

/* Remove the value for (file, tag) from the cache, if any (its readers keep
** it until they release it). MB_OK whether or not there was one.
** Errors: MB_EINVAL (NULL map, NULL, empty or too long tag), MB_EIO (the
** file's identity cannot be read). */
int  mb_cache_remove(const mb_map *m, const char *tag);
/* Remove every value (process shutdown, tests). */
void mb_cache_clear(void);

/* Set the bounds (0 = leave that bound as it is) and evict down to them.
** The previous bounds go to *old_entries / *old_bytes (may be NULL). */
void mb_cache_limits(size_t max_entries, uint64_t max_bytes,
                     size_t *old_entries, uint64_t *old_bytes);

typedef struct mb_cache_stats {
    uint64_t entries;    /* values in the cache now */
    uint64_t bytes;      /* their declared cost */
    uint64_t held;       /* values alive only because a reader holds them
                         ** (replaced, evicted or removed, not yet freed) */
    uint64_t hits;       /* mb_cache_get that found a value */
    uint64_t misses;     /* mb_cache_get that did not */
    uint64_t puts;       /* values put */
    uint64_t replaced;   /* puts that replaced a value of the same key */
    uint64_t evictions;  /* values evicted to keep within the bounds */
} mb_cache_stats;
/* NULL st is a no-op. */
void mb_cache_stats_get(mb_cache_stats *st);


/* ------------------------------------------------------------------ */
/* The file policy: which files may be opened by name                 */
/* ------------------------------------------------------------------ */
/*
** One policy per process, in three states that move only towards the
** narrower: MB_POLICY_OPEN (the default: any file), MB_POLICY_DIRS (files
** inside a list of directories and their subdirectories), MB_POLICY_NONE
** (no file). The core itself does not consult it: mb_map_open and
** mb_registry_acquire open what they are told (the SQLite VFS opens what
** the application opens). Callers that open files named by less trusted
** input use mb_registry_acquire_checked, or mb_policy_check_path before
** and mb_policy_check_map after their own open.
**
** Functions that can refuse write a message into why[nwhy] (may be NULL /
** 0), without a speaker: the caller prefixes its own name. Thread-safe.
*/
#define MB_POLICY_OPEN 0
#define MB_POLICY_DIRS 1
#define MB_POLICY_NONE 2

/* The state now (MB_POLICY_*). Cannot fail. */
int    mb_policy_state(void);
/* The policy as text into buf (truncated, always terminated when n > 0):
** "unrestricted", "no file access", or the directories joined by ':' (';'
** on Windows). Returns the length of the whole text. */
size_t mb_policy_describe(char *buf, size_t n);
/* The policy as messages phrase it: "the allowed directories /a:/b (set
** by SOURCE)", "file access is turned off (by SOURCE)", or "no file
** policy". Returns the length of the text written (truncated to n). */
size_t mb_policy_phrase(char *buf, size_t n);
/* Who set the state now ("" while unrestricted), as mb_policy_phrase. */
size_t mb_policy_source(char *buf, size_t n);
/* Narrow the policy to the n directories dirs[] (n >= 1), each resolved
** now (symlinks, "..", the working directory) and required to be an
** existing directory. `source` says who set it, for messages ("set by
** SOURCE"). Nothing changes unless every directory is accepted.
** Errors: MB_EINVAL (n 0, NULL, a directory that cannot be resolved or
** is not a directory: why names it), MB_EPOLICY (a directory outside the
** directories already allowed, or access is off: the policy only narrows). */
int    mb_policy_allow(const char *const *dirs, size_t n, const char *source,
                       char *why, size_t nwhy);
/* The same from a list "d1:d2" (';' on Windows); empty entries are
** skipped, and a list with no entry turns file access off. */
int    mb_policy_allow_list(const char *list, const char *source, char *why, size_t nwhy);
/* The environment variable `var` (MEMBASE_ALLOWED_DIRS), applied with
** mb_policy_allow_list once per process: later calls return the first
** call's result and message. Unset: MB_OK, nothing changes. A value that
** fails leaves the process with no file access (it fails closed). */
int    mb_policy_from_env(const char *var, char *why, size_t nwhy);
/* Turn file access off until the process ends. `source` as above. */
void   mb_policy_deny_all(const char *source);
/* Before opening `path` (create: it may not exist yet): MB_OK, or
** MB_EPOLICY when access is off or the path, resolved, lies outside the
** allowed directories. A missing path is resolved through its longest
** existing ancestor, so a missing file outside the policy is refused as a
** present one is. */
int    mb_policy_check_path(const char *path, char *why, size_t nwhy);
/* After opening: `path` resolved now must lie inside the policy and name
** the file m has open (same identity), with one link under a directories
** policy. MB_OK or MB_EPOLICY. */
int    mb_policy_check_map(const mb_map *m, const char *path, char *why, size_t nwhy);
/* mb_registry_acquire under the policy: mb_policy_check_path, the
** acquire, mb_policy_check_map (a refused map is released). Errors: those
** of mb_registry_acquire, and MB_EPOLICY (why says why). */
int    mb_registry_acquire_checked(const char *path, unsigned flags, mb_map **out,
                                   char *why, size_t nwhy);

/* ------------------------------------------------------------------ */
/* Parallel scans: threads for work split over a mapping              */
/* ------------------------------------------------------------------ */
/* The CPUs this process may use now: the CPUs in its affinity mask
** (sched_getaffinity; the process affinity mask on Windows; the online
** CPUs on macOS), lowered to the cgroup's CPU quota rounded up (cgroup v2
** cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us) on Linux. At least
** 1, at most MB_MAX_THREADS. Reads files on each call: callers that run
** often cache it. Cannot fail (anything unreadable is ignored). */
#define MB_MAX_THREADS 64
unsigned mb_cpu_count(void);
/* The same figure split: *affinity (CPUs allowed), *quota (the cgroup
** quota in CPUs rounded up, 0 when none or not Linux). Either may be
** NULL. For diagnostics (membase_debug). */
void mb_cpu_limits(unsigned *affinity, unsigned *quota);

/* Run fn(ctx, w) once for each w in [0, n): w 0 on the calling thread,
** the others each on a new thread; return when every call has returned.
** A thread that cannot be started has its call made on the calling
** thread after the others, so every call is made, and this cannot fail.
** fn must not call back into mb_parallel_run. n 0 does nothing; n above
** MB_MAX_THREADS is MB_MAX_THREADS. Work is usually shared by an atomic
** counter in ctx, so a slow thread does not hold the others. Returns the
** number of threads that ran (1 when every call was made on the caller). */
typedef void (*mb_task_fn)(void *ctx, unsigned w);
unsigned mb_parallel_run(unsigned n, mb_task_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* MB_MAP_H */
