/*
** mb_vfs_int.h -- the objects the files of the membase VFS share.
**
**   mb_vfs.c         the VFS objects ("membase", "membase-process"),
**                    registration, xOpen and the path methods
**   mb_vfs_file.c    the io methods of a main database file: reads from
**                    the mapping, writes through, xFetch, file controls
**   mb_vfs_pattern.c what a file's reads say (MbPattern): the counts of
**                    membase_stats, membase_advice=auto, scans for
**                    drop-behind
**   mb_vfs_pragma.c  the membase_ PRAGMAs, a table of handlers
**   mb_vfs_shared.c  MbShared, one per database file per locking mode:
**                    the core mapping, outstanding fetches
**   mb_vfs_lock.c    membase_locking=process (MbProc): the OS lock taken
**                    once, the database and WAL-index locks kept in
**                    memory, what the process knows of the file
**   mb_vfs_options.c URI parameters and PRAGMA values
**   mb_vfs_wal.c     WAL files, read through a mapping too
**
** Calls between them go one way (no two files call each other):
**   mb_vfs.c        -> file (its methods table), shared, pattern, wal, options
**   mb_vfs_file.c   -> pragma, pattern, shared, lock
**   mb_vfs_pragma.c -> pattern, shared, options
**   mb_vfs_shared.c -> lock, pattern
**   mb_vfs_lock.c, _pattern.c, _wal.c, _options.c call no other vfs file.
** The locks: gMu (the MbShared list) before an MbShared's mu; functions
** that need one held assert it (mb_mutex_held).
**
** Main database files are wrapped (MbFile), and WAL files (reads from a
** mapping, mb_vfs_wal.c). Journals, temporary and transient files are
** opened by the platform VFS straight into the sqlite3_file SQLite gave
** us: SQLite then calls the platform methods directly, at no cost.
*/
#ifndef MB_VFS_INT_H
#define MB_VFS_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include "sqlite3ext.h"
#include "../core/mb_map.h"
#include "../core/mb_mutex.h"
#include "mb_vfs_options.h"

typedef struct MbVfs MbVfs;
typedef struct MbShared MbShared;
typedef struct MbFile MbFile;
typedef struct MbProc MbProc;

/* pAppData of each membase sqlite3_vfs. */
struct MbVfs {
  sqlite3_vfs *pLower;        /* "unix" or "win32" */
  int eLocking;               /* MB_VFS_LOCK_* default of this VFS */
};

/* n rounded up to a multiple of 8: where a platform file starts after our
** own struct in one allocation. */
#define MB_ROUND8(n) (((n)+7) & ~(size_t)7)
/* The platform file of an allocation made as MB_ROUND8(sizeof *p) +
** szOsFile: sqlite3_malloc64 returns memory aligned for any type and the
** offset is a multiple of 8, so the address is aligned for sqlite3_file.
** Through void*: -Wcast-align (clang) cannot see that from a char*. */
#define MB_TAIL_FILE(p) ((sqlite3_file*)(void*)((char*)(p) + MB_ROUND8(sizeof *(p))))

/* Number of WAL-index locks (SQLITE_SHM_NLOCK). */
#define MB_SHM_NLOCK 8

struct MbShared {
  char *zPath;                /* the database's full pathname (key) */
  char *zJournal;             /* zPath + "-journal" (process mode lookups) */
  char *zWal;                 /* zPath + "-wal" */
  int eLocking;               /* MB_VFS_LOCK_* (part of the key) */
  int nRef;                   /* MbFiles open on it */
  MbShared *pNext;            /* list of all (under gMu, mb_vfs_shared.c) */
  mb_mutex mu;                /* guards everything below */

  /* The mapping. NULL if it could not be made: reads then go to the
  ** platform VFS (the fallback path). */
  mb_map *pMap;
  const char *zMapErr;        /* why not, for PRAGMA membase_stats */
  /* POSIX: the mapping maps through the descriptor of one of the files open
  ** on it (mb_registry_acquire_fd), never one of the core's own: closing
  ** any descriptor of the database drops every POSIX lock the process holds
  ** on it, stock connections' included, and the platform VFS closes its
  ** descriptors only when that is safe. When the lending file closes, the
  ** mapping moves to another file's descriptor (mb_registry_relend_fd). */
  MbFile *pFiles;             /* the files open on it (under gMu) */
  MbFile *pLendFile;          /* the one lending its descriptor, or 0 */
  int lendFd;                 /* that descriptor, or -1 */
  /* The fetch path takes no lock: a fetcher counts itself in nFetchOut and
  ** then checks bShrinking; a shrinker sets bShrinking and then checks
  ** nFetchOut, so one of them backs off. These three are accessed with
  ** explicit memory_order_seq_cst, which that handshake needs (xFetch's
  ** look at bShrinkPending alone is relaxed: it only sends a read the
  ** slow way). */
  _Atomic(int) nFetchOut;     /* files with xFetch pointers outstanding */
  _Atomic(int) bShrinking;    /* a shrink of the view is being decided */
  _Atomic(int) bShrinkPending;/* the file shrank while fetches were out */
  /* Soft faults of the view already handled: written under mu, compared
  ** without it by mb_vfs_shared_check_faults (relaxed: it is a counter
  ** compared for equality; what follows a difference happens under mu). */
  _Atomic(uint64_t) softSeen;
  int bPopulated;             /* membase_populate done once */

  /* membase_locking=process: the OS lock, the in-memory locks, the WAL
  ** index and what the process knows of the file (mb_vfs_lock.c); in
  ** this allocation. NULL in shared mode. */
  MbProc *pProc;
};

/* What SQLite's sqlite3_file holds for a main database: the methods and a
** pointer to the MbFile. The VFS's szOsFile stays the platform VFS's (the
** pager's memory accounting, SQLITE_DBSTATUS_CACHE_USED, is as stock); the
** MbFile and the platform file inside it are allocated at open. */
typedef struct MbHandle {
  sqlite3_file base;          /* pMethods: mb_vfs_file_methods */
  MbFile *pFile;
} MbHandle;
#define MB_FILE(p) (((MbHandle*)(p))->pFile)

/* What one file's reads say (mb_vfs_pattern.c). Touched only by the
** connection that owns the file: no lock. */
typedef struct MbPattern {
  /* reads of this file by mb_io_kind, for PRAGMA membase_stats */
  uint64_t aCount[MB_IO_NKINDS];
  /* the same, not yet added to the mapping's counters in the core (added
  ** in batches: one atomic add per kind per batch, not per page) */
  uint64_t aPend[MB_IO_NKINDS], aPendBytes[MB_IO_NKINDS];
  int nPend;
  /* membase_advice=auto: the current window of page accesses */
  sqlite3_int64 prevOff;      /* offset of the previous access */
  int nSeen;                  /* accesses in the window so far */
  int nForward;               /* of which short steps forward */
  int asked;                  /* the mb_advice this file last asked for, -1 */
  /* drop-behind: the current forward run of reads, and its scan */
  sqlite3_int64 runStart, runEnd;
  sqlite3_int64 runBytes;     /* covered by the run, gaps included */
  sqlite3_int64 tentStart, tentEnd; /* a tentative run begun by a step back
                              ** (tentEnd 0: none) */
  mb_scan scan;
  int bScanLive;              /* scan is live (the run is a scan) */
  uint64_t droppedPast;       /* bytes released by finished scans */
} MbPattern;

struct MbFile {
  sqlite3_file *pReal;        /* the platform file, just after this */
  MbFile *pNextFile;          /* next in pShared->pFiles */
  MbVfs *pMb;
  MbShared *pShared;
  mb_vfs_options opts;
  char *zOpenErr;             /* a bad URI value: every lock fails */
  int eLock;                  /* process mode: this file's lock */
  sqlite3_int64 mmapLimit;    /* the pager's mmap_size */
  int nFetchOut;              /* this file's outstanding fetches */
  MbPattern pattern;          /* what its reads say (mb_vfs_pattern.c) */
  /* process mode WAL index */
  int bShm;
  uint8_t shmShared, shmExcl; /* lock bits held */
};

/* A private file control: *(const char**)pArg receives the deferred error
** of a bad URI value (or NULL). Used by ext/ to fail sqlite3_open with the
** message. Answers SQLITE_NOTFOUND on files that are not membase's. */
#define MB_VFS_FCNTL_OPEN_ERROR 0x6d620001

extern const sqlite3_io_methods mb_vfs_file_methods;

/* mb_vfs_shared.c */
int  mb_vfs_shared_acquire(MbFile *f, const char *zPath, MbShared **pp);
void mb_vfs_shared_release(MbShared *s, MbFile *f);
int  mb_vfs_known_access(const char *zPath, int *pResOut);
void mb_vfs_note_access(const char *zPath, int exists);
void mb_vfs_shared_remap(MbShared *s);
void mb_vfs_shared_remap_to(MbShared *s, sqlite3_int64 fileSize);
int  mb_vfs_shared_check_faults(MbFile *f);

/* mb_vfs_cut.c: xTruncate of a mapped database / WAL file through the
** platform file pReal, the core's views out of the way. */
int  mb_vfs_cut_db(MbShared *s, sqlite3_file *pReal, sqlite3_int64 size);
int  mb_vfs_cut_wal(mb_map *pMap, sqlite3_file *pReal, sqlite3_int64 size);

/* mb_vfs_lock.c (process mode). The MbProc of a file is
** f->pShared->pProc; the MbShared makes it (in its own allocation, of
** mb_vfs_proc_size() bytes) and releases it with the last file. */
size_t mb_vfs_proc_size(void);
void mb_vfs_proc_init(MbProc *p, const char *zPath, mb_mutex *mu);
void mb_vfs_proc_release(MbProc *p);
/* What the process knows of the file while its OS lock is exclusive.
** mb_vfs_proc_known_size takes no lock: 1 and *pSize when the size is
** known, else 0. mb_vfs_proc_forget is called with the mutex held and
** returns the error of reading the size, if any. */
int  mb_vfs_proc_known_size(MbProc *p, sqlite3_int64 *pSize);
void mb_vfs_proc_note_write(MbProc *p, sqlite3_int64 end);
void mb_vfs_proc_learn_size(MbProc *p, sqlite3_file *pFile);
int  mb_vfs_proc_forget(MbProc *p, sqlite3_file *pFile);
#define MB_PROC_JOURNAL 1     /* "which" auxiliary file */
#define MB_PROC_WAL     2
int  mb_vfs_proc_known_access(MbProc *p, int which, int *pResOut);
void mb_vfs_proc_note_access(MbProc *p, int which, int exists);
/* The io methods of process mode. */
int  mb_vfs_proc_lock(MbFile *f, int eLock);
int  mb_vfs_proc_unlock(MbFile *f, int eLock);
int  mb_vfs_proc_check_reserved(MbFile *f, int *pResOut);
int  mb_vfs_proc_shm_map(MbFile *f, int iRegion, int szRegion, int bExtend,
                         void volatile **pp);
int  mb_vfs_proc_shm_lock(MbFile *f, int ofst, int n, int flags);
void mb_vfs_proc_shm_barrier(MbFile *f);
int  mb_vfs_proc_shm_unmap(MbFile *f, int deleteFlag);

/* mb_vfs_wal.c: open a WAL file read through a mapping */
int mb_vfs_wal_open(sqlite3_vfs *pLower, const char *zName, sqlite3_file *pFile,
                    int flags, int *pOutFlags);

/* mb_vfs_pragma.c */
/* SQLITE_FCNTL_PRAGMA for a membase_ PRAGMA: azArg as SQLite gives it,
** the answer or the error message in azArg[0]. */
int mb_vfs_pragma(MbFile *f, char **azArg);

/* mb_vfs_pattern.c */
/* Count one read or fetch of iAmt bytes; flush the counts to the core. */
void mb_vfs_pattern_count(MbFile *f, mb_io_kind k, int iAmt);
void mb_vfs_pattern_flush_counts(MbFile *f);
void mb_vfs_pattern_init(MbPattern *p);
/* A page-sized access at off served from the mapping (xRead, xFetch). */
void mb_vfs_pattern_observe(MbFile *f, sqlite3_int64 off, int amt);
/* PRAGMA membase_advice=, membase_dropbehind= (values already parsed). */
void mb_vfs_pattern_set_advice(MbFile *f, int advice);
void mb_vfs_pattern_set_dropbehind(MbFile *f, int dropbehind);
const char *mb_vfs_pattern_drop_name(const MbFile *f);
uint64_t mb_vfs_pattern_dropped(const MbPattern *p);
mb_advice mb_vfs_advice_of(int vfsAdvice);   /* MB_VFS_ADVICE_* -> mb_advice */
mb_advice mb_vfs_map_advice(mb_map *m);      /* in force on the mapping */

#endif /* MB_VFS_INT_H */
