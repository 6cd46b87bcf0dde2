/*
** mb_vfs_shared.c -- MbShared: what every connection of the process that has
** one database file open through the membase VFS shares.
**
** One MbShared per (full pathname, locking mode), refcounted by the MbFiles
** open on it. It holds:
**   - the core's process-wide mapping of the file (mb_registry_acquire), a
**     read-only view that follows the file's size; NULL when mapping failed,
**     and reads then take the platform VFS's read path;
**   - the number of xFetch pointers handed out and not yet returned, by
**     all connections: the view is not shrunk while one is out (a shrink
**     seen then is carried out when the last one comes back), as the unix
**     VFS does with its nFetchOut;
**   - in process locking mode, its MbProc (mb_vfs_lock.c): the OS lock,
**     the in-memory locks and WAL index, and what the process knows of the
**     file while it holds the OS lock exclusively. This file only finds
**     the MbProc of a journal or WAL file's database by name.
**
** Lock order: the list mutex (gMu) before an MbShared's mutex; code holding
** an MbShared's mutex never takes gMu.
*/
#include <assert.h>
#include <string.h>
#if !defined(_WIN32)
#include <sys/stat.h>
#endif
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

static mb_mutex gMu = MB_MUTEX_INIT;
static MbShared *gList = 0;

/* The descriptor of a file the unix VFS opened, or -1. os_unix.c's
** unixFile begins { pMethod; pVfs; pInode; int h; } (so since 3.7); the
** value is checked to be a descriptor of zPath before it is used, so a
** different layout only means no lending. */
static int mbUnixFd(sqlite3_file *p, const char *zPath){
#if defined(_WIN32)
  (void)p; (void)zPath;
  return -1;
#else
  struct MbUnixHead { const void *pMethod, *pVfs, *pInode; int h; };
  const struct MbUnixHead *u = (const struct MbUnixHead*)(const void*)p;
  struct stat a, b;
  int fd = u->h;
  if( fd<0 || fstat(fd, &a)!=0 || stat(zPath, &b)!=0 ) return -1;
  if( a.st_dev!=b.st_dev || a.st_ino!=b.st_ino || !S_ISREG(a.st_mode) ) return -1;
  return fd;
#endif
}

static void mbSharedFree(MbShared *s){
  if( s==0 ) return;
  /* Before the last file's platform close: the mapping stops using its
  ** descriptor (or goes). */
  if( s->pMap ) mb_registry_release_fd(s->pMap, s->lendFd);
  mb_mutex_destroy(&s->mu);
  sqlite3_free(s);
}

/* The core's mapping of zPath for f (through descriptor lendFd if >= 0),
** or NULL with *pzErr saying why: the file is then read through the
** platform VFS. */
static mb_map *mbMapFile(MbFile *f, const char *zPath, int lendFd, const char **pzErr){
  mb_map_options o;
  mb_map *pMap = 0;
  int mrc;
  memset(&o, 0, sizeof(o));
  o.flags = f->opts.hugepages ? MB_MAP_HUGEPAGES : 0;
  o.reserve = (uint64_t)f->opts.reserve;
  mrc = lendFd>=0 ? mb_registry_acquire_fd(zPath, lendFd, &o, &pMap)
                  : mb_registry_acquire_opt(zPath, &o, &pMap);
  *pzErr = 0;
  if( mrc!=MB_OK ){
    *pzErr = mb_strerror(mrc);
    sqlite3_log(SQLITE_WARNING, "membase: cannot map \"%s\" (%s): "
                "reading it through the platform VFS", zPath, *pzErr);
    return 0;
  }
  return pMap;
}

/* A new MbShared for f's first open of zPath, with mapping pMap (or NULL,
** zMapErr saying why) lent descriptor lendFd; NULL when out of memory. One
** allocation: the MbShared, its MbProc in process mode, the names. */
static MbShared *mbSharedNew(MbFile *f, const char *zPath, mb_map *pMap,
                             const char *zMapErr, int lendFd){
  size_t n = strlen(zPath);
  int bProc = f->opts.locking==MB_VFS_LOCK_PROCESS;
  size_t szProc = bProc ? MB_ROUND8(mb_vfs_proc_size()) : 0;
  MbShared *s = sqlite3_malloc64(MB_ROUND8(sizeof(*s)) + szProc + 3*(n+16));
  if( s==0 ) return 0;
  memset(s, 0, sizeof(*s));
  s->zPath = (char*)s + MB_ROUND8(sizeof(*s)) + szProc;
  s->zJournal = s->zPath + n + 16;
  s->zWal = s->zJournal + n + 16;
  memcpy(s->zPath, zPath, n+1);
  memcpy(s->zJournal, zPath, n);
  memcpy(s->zJournal+n, "-journal", 9);
  memcpy(s->zWal, zPath, n);
  memcpy(s->zWal+n, "-wal", 5);
  s->eLocking = f->opts.locking;
  s->nRef = 1;
  mb_mutex_init(&s->mu);
  if( bProc ){
    s->pProc = (MbProc*)((char*)s + MB_ROUND8(sizeof(*s)));
    mb_vfs_proc_init(s->pProc, s->zPath, &s->mu);
  }
  s->pMap = pMap;
  s->zMapErr = zMapErr;
  s->pLendFile = pMap && lendFd>=0 ? f : 0;
  s->lendFd = s->pLendFile ? lendFd : -1;
  f->pNextFile = 0;
  s->pFiles = f;
  if( pMap ){
    /* SQLite reads xFetch'ed pages itself, unguarded: a file truncated
    ** by someone ignoring the locks must give zeros (SQLite then says
    ** the database is malformed), not SIGBUS. */
    (void)mb_map_enable_soft_faults(pMap);
    atomic_store_explicit(&s->softSeen, mb_map_soft_faults(pMap), memory_order_relaxed);
  }
  return s;
}

/* The settings of the opening connection that act on the mapping. */
static void mbApplyOpenSettings(MbShared *s, MbFile *f){
  if( s->pMap==0 ) return;
  mb_mutex_enter(&s->mu);
  if( f->opts.advice!=MB_VFS_ADVICE_AUTO ){
    (void)mb_map_advise(s->pMap, mb_vfs_advice_of(f->opts.advice), 0, 0);
  }
  if( f->opts.populate && !s->bPopulated && mb_map_size(s->pMap)>0 ){
    if( mb_map_populate_bounded(s->pMap, 0, 0, MB_POP_DEFAULT, 0, 0)==MB_OK ){
      s->bPopulated = 1;
    }
  }
  mb_mutex_leave(&s->mu);
}

/* Find or make the MbShared for f (its options say the locking mode) and
** the file zPath. Files are told apart by identity, not by name: the core
** registry gives every name of a file (hard links too) the same mapping, and
** the MbShared goes with it, so one process never locks itself out of a
** file it opened under two names. Without a mapping (it could not be
** made), by name. SQLITE_NOMEM is the only error: a file that cannot be
** mapped is served by the fallback path. */
int mb_vfs_shared_acquire(MbFile *f, const char *zPath, MbShared **pp){
  MbShared *s;
  const char *zMapErr;
  /* The opening file lends its descriptor (unix only: Windows locks belong
  ** to handles, and a map's own handle drops no one's lock). */
  int lendFd = strncmp(f->pMb->pLower->zName, "unix", 4)==0 ? mbUnixFd(f->pReal, zPath) : -1;
  mb_map *pMap = mbMapFile(f, zPath, lendFd, &zMapErr);
  *pp = 0;
  mb_mutex_enter(&gMu);
  for(s=gList; s; s=s->pNext){
    if( s->eLocking!=f->opts.locking ) continue;
    if( pMap ? s->pMap==pMap : (s->pMap==0 && strcmp(s->zPath, zPath)==0) ) break;
  }
  if( s ){
    s->nRef++;
    f->pNextFile = s->pFiles;
    s->pFiles = f;
    mb_mutex_leave(&gMu);
    if( pMap ) mb_registry_release_fd(pMap, lendFd);   /* s holds its own reference */
  }else{
    s = mbSharedNew(f, zPath, pMap, zMapErr, lendFd);
    if( s==0 ){
      mb_mutex_leave(&gMu);
      if( pMap ) mb_registry_release_fd(pMap, lendFd);
      return SQLITE_NOMEM;
    }
    s->pNext = gList;
    gList = s;
    mb_mutex_leave(&gMu);
  }
  mbApplyOpenSettings(s, f);
  *pp = s;
  return SQLITE_OK;
}

/* Called by xClose before the platform file is closed. */
void mb_vfs_shared_release(MbShared *s, MbFile *f){
  int last;
  MbFile **pf;
  if( s==0 ) return;
  mb_mutex_enter(&gMu);
  for(pf=&s->pFiles; *pf && *pf!=f; pf=&(*pf)->pNextFile){}
  if( *pf ) *pf = f->pNextFile;
  if( s->pLendFile==f && s->nRef>1 ){
    /* f's descriptor is about to close: lend another file's. */
    MbFile *g = s->pFiles;
    int fd = g ? mbUnixFd(g->pReal, s->zPath) : -1;
    (void)mb_registry_relend_fd(s->pMap, s->lendFd, fd);
    s->pLendFile = fd>=0 ? g : 0;
    s->lendFd = fd;
  }
  last = (--s->nRef==0);
  if( last ){
    MbShared **pp;
    for(pp=&gList; *pp!=s; pp=&(*pp)->pNext){}
    *pp = s->pNext;
  }
  mb_mutex_leave(&gMu);
  if( last ){
    if( s->pProc ) mb_vfs_proc_release(s->pProc);
    mbSharedFree(s);
  }
}

/* Bring the view up to date with the file, whose size is fileSize if the
** caller has just read it, else < 0 (asked here). Growth is always safe:
** the view grows in place, or moves and keeps the old one mapped. A shrink
** waits while xFetch pointers are out (see nFetchOut in mb_vfs_int.h: the
** four atomics of that handshake are sequentially consistent). */
static void mbRefreshLocked(MbShared *s, sqlite3_int64 fileSize){
  uint64_t now = (uint64_t)fileSize, soft;
  assert( mb_mutex_held(&s->mu) );
  if( s->pMap==0 ) return;
  if( fileSize<0 && mb_map_stamp(s->pMap, &now, 0)!=MB_OK ) return;
  soft = mb_map_soft_faults(s->pMap);
  if( now < mb_map_size(s->pMap) ){
    /* A shrink unmaps pages: not while a fetched pointer may be in use. */
    atomic_store_explicit(&s->bShrinking, 1, memory_order_seq_cst);
    if( atomic_load_explicit(&s->nFetchOut, memory_order_seq_cst)>0 ){
      atomic_store_explicit(&s->bShrinkPending, 1, memory_order_seq_cst);
      atomic_store_explicit(&s->bShrinking, 0, memory_order_seq_cst);
      return;
    }
    (void)mb_registry_refresh(s->pMap, 0);
    atomic_store_explicit(&s->softSeen, soft, memory_order_relaxed);
    atomic_store_explicit(&s->bShrinkPending, 0, memory_order_seq_cst);
    atomic_store_explicit(&s->bShrinking, 0, memory_order_seq_cst);
    return;
  }
  atomic_store_explicit(&s->bShrinkPending, 0, memory_order_seq_cst);
  /* A soft fault (a zero page put over a truncated page) also needs the
  ** view mapped from the file again, at any size. */
  if( now!=mb_map_size(s->pMap)
   || soft!=atomic_load_explicit(&s->softSeen, memory_order_relaxed) ){
    (void)mb_registry_refresh(s->pMap, 0);
    atomic_store_explicit(&s->softSeen, soft, memory_order_relaxed);
  }
}

void mb_vfs_shared_remap(MbShared *s){
  mb_vfs_shared_remap_to(s, -1);
}

/* The same when the caller has just read the file's size. */
void mb_vfs_shared_remap_to(MbShared *s, sqlite3_int64 fileSize){
  mb_mutex_enter(&s->mu);
  mbRefreshLocked(s, fileSize);
  mb_mutex_leave(&s->mu);
}

/* The MbProc of the database whose journal or WAL file is zPath, and
** which of the two (MB_PROC_JOURNAL, MB_PROC_WAL), or NULL. */
static MbProc *mbFindAux(const char *zPath, int *pWhich){
  MbShared *s;
  assert( mb_mutex_held(&gMu) );
  for(s=gList; s; s=s->pNext){
    if( s->pProc==0 ) continue;
    if( strcmp(zPath, s->zJournal)==0 ){ *pWhich = MB_PROC_JOURNAL; return s->pProc; }
    if( strcmp(zPath, s->zWal)==0 ){ *pWhich = MB_PROC_WAL; return s->pProc; }
  }
  return 0;
}

/* Answer xAccess(zPath, EXISTS) from what the process knows, if it knows:
** returns 1 and sets *pResOut, or 0 (ask the platform VFS). */
int mb_vfs_known_access(const char *zPath, int *pResOut){
  int which = 0, known = 0;
  MbProc *p;
  if( zPath==0 ) return 0;
  mb_mutex_enter(&gMu);
  p = mbFindAux(zPath, &which);
  if( p ) known = mb_vfs_proc_known_access(p, which, pResOut);
  mb_mutex_leave(&gMu);
  return known;
}

/* Record that zPath exists (1) or not (0), as the process just saw or made
** it so, for a database whose OS lock the process holds exclusively. */
void mb_vfs_note_access(const char *zPath, int exists){
  int which = 0;
  MbProc *p;
  if( zPath==0 ) return;
  mb_mutex_enter(&gMu);
  p = mbFindAux(zPath, &which);
  if( p ) mb_vfs_proc_note_access(p, which, exists);
  mb_mutex_leave(&gMu);
}

/* Called when a connection starts a transaction: if SQLite met a truncated
** page of the view since (a soft fault: it read zeros), the file changed
** behind the process's back. Stop trusting what the process knew, bring
** the view up to date. One atomic load when nothing happened. */
int mb_vfs_shared_check_faults(MbFile *f){
  MbShared *s = f->pShared;
  int rc = SQLITE_OK;
  if( s==0 || s->pMap==0 ) return SQLITE_OK;
  if( mb_map_soft_faults(s->pMap)
      ==atomic_load_explicit(&s->softSeen, memory_order_relaxed) ) return SQLITE_OK;
  mb_mutex_enter(&s->mu);
  sqlite3_log(SQLITE_IOERR, "membase: \"%s\" was truncated under its mapping "
              "by another process", s->zPath);
  if( s->pProc ) rc = mb_vfs_proc_forget(s->pProc, f->pReal);
  mbRefreshLocked(s, -1);
  mb_mutex_leave(&s->mu);
  return rc;
}
