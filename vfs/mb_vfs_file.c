/*
** mb_vfs_file.c -- the io methods of a main database file opened through
** the membase VFS.
**
** Reads. xRead copies from the file's process-wide mapping (core registry),
** whatever PRAGMA mmap_size says, with the core's fault guard: a page
** truncated away by a program that ignored SQLite's locks gives
** SQLITE_IOERR_READ, never SIGBUS, and the view follows the file again. A read past
** the view first brings the view up to date (the file grew); what is still
** past it goes to the platform VFS, as does every read when the file could
** not be mapped.
**
** xFetch hands out pointers into the mapping when the connection's
** mmap_size is above 0, for pages that lie below both mmap_size and the
** file's end. mmap_size is honoured as given, with no 2 GB cap:
** PRAGMA mmap_size=8000000000 serves an 8 GB database zero-copy (write
** the digits: the PRAGMA parser reads no exponent, 8e9 would be 8 bytes).
** SQLite's own pager does not clamp the value; the unix VFS clamps it to
** SQLITE_MAX_MMAP_SIZE, 2 GB on Debian, and reads the rest with pread.
**
** Writes, truncation and sync go to the platform file (truncation with the
** mapping out of its way: mb_vfs_cut.c). On Linux and Windows
** the page cache is the mapping's, so the view sees every write at once.
** The view follows the file: it grows in place (address space reserved)
** when a read or xFileSize finds the file longer, and shrinks when it is
** shorter, but not while xFetch pointers are out (then when the last one
** comes back, or at the next check).
**
** Locks, the WAL index, sector size and device characteristics are the
** platform VFS's in membase_locking=shared, and mb_vfs_lock.c's in
** membase_locking=process.
**
** Every read and fetch is counted, and every page served from the mapping
** is shown to mb_vfs_pattern.c (membase_stats, membase_advice=auto,
** drop-behind). The membase_ PRAGMAs are answered by mb_vfs_pragma.c.
*/
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

#define REAL(f) ((f)->pReal)
#define IS_PROCESS(f) ((f)->pShared && (f)->pShared->eLocking==MB_VFS_LOCK_PROCESS)

/* ------------------------------------------------------------- io methods */

static int mbClose(sqlite3_file *pFile){
  MbFile *f = MB_FILE(pFile);
  int rc = SQLITE_OK;
  if( f->pShared && IS_PROCESS(f) ){
    mb_vfs_proc_unlock(f, SQLITE_LOCK_NONE);
    if( f->bShm ) mb_vfs_proc_shm_unmap(f, 0);
  }
  if( f->pShared && f->nFetchOut>0 ){
    /* SQLite returns every page before closing; be safe anyway. */
    atomic_fetch_sub_explicit(&f->pShared->nFetchOut, 1, memory_order_seq_cst);
    f->nFetchOut = 0;
  }
  mb_vfs_pattern_flush_counts(f);
  /* First: the mapping may be mapping through this file's descriptor. */
  mb_vfs_shared_release(f->pShared, f);
  if( REAL(f)->pMethods ) rc = REAL(f)->pMethods->xClose(REAL(f));
  sqlite3_free(f->zOpenErr);
  sqlite3_free(f);
  MB_FILE(pFile) = 0;
  return rc;
}

static void mbNoteSize(MbFile *f);

static int mbLowerRead(MbFile *f, void *zBuf, int iAmt, sqlite3_int64 iOfst){
  mb_vfs_pattern_count(f, MB_IO_OS_READ, iAmt);
  return REAL(f)->pMethods->xRead(REAL(f), zBuf, iAmt, iOfst);
}

static int mbRead(sqlite3_file *pFile, void *zBuf, int iAmt, sqlite3_int64 iOfst){
  MbFile *f = MB_FILE(pFile);
  MbShared *s = f->pShared;
  mb_map *m = s ? s->pMap : 0;
  uint64_t end = (uint64_t)iOfst + (uint64_t)iAmt;
  if( m==0 || iOfst<0 ) return mbLowerRead(f, zBuf, iAmt, iOfst);
  if( end>mb_map_size(m) ){
    /* Past the view: the file may have grown (our writes, or another
    ** process's). Process mode knows its size; shared mode asks. */
    sqlite3_int64 known;
    int bPast = IS_PROCESS(f) && mb_vfs_proc_known_size(s->pProc, &known)
             && end>(uint64_t)known;
    if( !bPast ) mb_vfs_shared_remap(s);
    if( end>mb_map_size(m) ) return mbLowerRead(f, zBuf, iAmt, iOfst);
  }
  if( mb_map_read(m, (uint64_t)iOfst, zBuf, (size_t)iAmt)!=MB_OK ){
    /* The page was in the view and is not in the file any more: someone
    ** truncated the file without taking SQLite's locks (a legitimate
    ** shrink is seen by xFileSize first). An I/O error for this read; the
    ** view and, in process mode, the known size follow the file again. */
    sqlite3_log(SQLITE_IOERR_READ, "membase: \"%s\" was truncated under its "
                "mapping (read of %d bytes at %lld)", s->zPath, iAmt, iOfst);
    mbNoteSize(f);
    mb_vfs_shared_remap(s);
    memset(zBuf, 0, (size_t)iAmt);
    return SQLITE_IOERR_READ;
  }
  mb_vfs_pattern_count(f, MB_IO_MAP_READ, iAmt);
  mb_vfs_pattern_observe(f, iOfst, iAmt);
  return SQLITE_OK;
}

static int mbWrite(sqlite3_file *pFile, const void *z, int iAmt, sqlite3_int64 iOfst){
  MbFile *f = MB_FILE(pFile);
  int rc = REAL(f)->pMethods->xWrite(REAL(f), z, iAmt, iOfst);
  if( rc==SQLITE_OK && IS_PROCESS(f) ){
    mb_vfs_proc_note_write(f->pShared->pProc, iOfst+iAmt);
  }
  return rc;
}

/* Process mode: the platform VFS changed the file's size in a way only it
** knows (a truncation rounded up to the chunk size, a size hint that
** extended the file): learn the size from the file. */
static void mbNoteSize(MbFile *f){
  if( IS_PROCESS(f) ) mb_vfs_proc_learn_size(f->pShared->pProc, REAL(f));
}

static int mbTruncate(sqlite3_file *pFile, sqlite3_int64 size){
  MbFile *f = MB_FILE(pFile);
  /* mb_vfs_cut.c: the mapping must make way (Windows), then follows */
  int rc = mb_vfs_cut_db(f->pShared, REAL(f), size);
  if( f->pShared ) mbNoteSize(f);
  return rc;
}

static int mbSync(sqlite3_file *pFile, int flags){
  MbFile *f = MB_FILE(pFile);
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int mbFileSize(sqlite3_file *pFile, sqlite3_int64 *pSize){
  MbFile *f = MB_FILE(pFile);
  MbShared *s = f->pShared;
  int rc;
  if( IS_PROCESS(f) && mb_vfs_proc_known_size(s->pProc, pSize) ){
    return SQLITE_OK;
  }
  rc = REAL(f)->pMethods->xFileSize(REAL(f), pSize);
  if( rc==SQLITE_OK && s && s->pMap
   && (uint64_t)*pSize!=mb_map_size(s->pMap) ){
    mb_vfs_shared_remap_to(s, *pSize);
  }
  return rc;
}

static int mbLock(sqlite3_file *pFile, int eLock){
  MbFile *f = MB_FILE(pFile);
  if( f->zOpenErr ){
    sqlite3_log(SQLITE_ERROR, "%s", f->zOpenErr);
    return SQLITE_ERROR;
  }
  if( f->eLock==SQLITE_LOCK_NONE || !IS_PROCESS(f) ){
    int rc = mb_vfs_shared_check_faults(f);
    if( rc!=SQLITE_OK ) return rc;
  }
  if( IS_PROCESS(f) ) return mb_vfs_proc_lock(f, eLock);
  return REAL(f)->pMethods->xLock(REAL(f), eLock);
}

static int mbUnlock(sqlite3_file *pFile, int eLock){
  MbFile *f = MB_FILE(pFile);
  mb_vfs_pattern_flush_counts(f);
  if( IS_PROCESS(f) ) return mb_vfs_proc_unlock(f, eLock);
  return REAL(f)->pMethods->xUnlock(REAL(f), eLock);
}

static int mbCheckReservedLock(sqlite3_file *pFile, int *pResOut){
  MbFile *f = MB_FILE(pFile);
  if( IS_PROCESS(f) ) return mb_vfs_proc_check_reserved(f, pResOut);
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), pResOut);
}

static int mbFileControl(sqlite3_file *pFile, int op, void *pArg){
  MbFile *f = MB_FILE(pFile);
  switch( op ){
    case MB_VFS_FCNTL_OPEN_ERROR:
      *(const char**)pArg = f->zOpenErr;
      return SQLITE_OK;
    case SQLITE_FCNTL_MMAP_SIZE: {
      sqlite3_int64 newLimit = *(sqlite3_int64*)pArg;
      *(sqlite3_int64*)pArg = f->mmapLimit;
      /* As the unix VFS: the limit does not change while this connection
      ** holds pages it fetched (a statement is running). */
      if( newLimit>=0 && f->nFetchOut==0 ) f->mmapLimit = newLimit;
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_PRAGMA: {
      char **azArg = (char**)pArg;
      if( sqlite3_strnicmp(azArg[1], "membase_", 8)==0 ) return mb_vfs_pragma(f, azArg);
      break;
    }
    case SQLITE_FCNTL_LOCKSTATE:
      if( IS_PROCESS(f) ){
        *(int*)pArg = f->eLock;
        return SQLITE_OK;
      }
      break;
    case SQLITE_FCNTL_SIZE_HINT: {
      /* As the unix VFS with mmap on: the file is extended to the hint at
      ** once (a checkpoint's target size), so the pages can be mapped. */
      sqlite3_int64 hint = *(sqlite3_int64*)pArg, sz = 0;
      int rc = REAL(f)->pMethods->xFileControl(REAL(f), op, pArg);
      if( rc!=SQLITE_OK && rc!=SQLITE_NOTFOUND ) return rc;
      if( f->mmapLimit>0
       && REAL(f)->pMethods->xFileSize(REAL(f), &sz)==SQLITE_OK && sz<hint ){
        rc = REAL(f)->pMethods->xTruncate(REAL(f), hint);
        if( rc!=SQLITE_OK ) return rc;
      }
      mbNoteSize(f);
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_VFSNAME: {
      int rc = REAL(f)->pMethods->xFileControl(REAL(f), op, pArg);
      const char *zMine = IS_PROCESS(f) ? "membase-process" : "membase";
      if( rc==SQLITE_OK ){
        *(char**)pArg = sqlite3_mprintf("%s/%z", zMine, *(char**)pArg);
      }else{
        *(char**)pArg = sqlite3_mprintf("%s", zMine);
      }
      return SQLITE_OK;
    }
    default:
      break;
  }
  return REAL(f)->pMethods->xFileControl(REAL(f), op, pArg);
}

static int mbSectorSize(sqlite3_file *pFile){
  MbFile *f = MB_FILE(pFile);
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int mbDeviceCharacteristics(sqlite3_file *pFile){
  MbFile *f = MB_FILE(pFile);
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int mbShmMap(sqlite3_file *pFile, int iPg, int pgsz, int bExtend,
                    void volatile **pp){
  MbFile *f = MB_FILE(pFile);
  if( IS_PROCESS(f) ) return mb_vfs_proc_shm_map(f, iPg, pgsz, bExtend, pp);
  return REAL(f)->pMethods->xShmMap(REAL(f), iPg, pgsz, bExtend, pp);
}

static int mbShmLock(sqlite3_file *pFile, int offset, int n, int flags){
  MbFile *f = MB_FILE(pFile);
  if( IS_PROCESS(f) ) return mb_vfs_proc_shm_lock(f, offset, n, flags);
  return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void mbShmBarrier(sqlite3_file *pFile){
  MbFile *f = MB_FILE(pFile);
  if( IS_PROCESS(f) ){
    mb_vfs_proc_shm_barrier(f);
    return;
  }
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int mbShmUnmap(sqlite3_file *pFile, int deleteFlag){
  MbFile *f = MB_FILE(pFile);
  if( IS_PROCESS(f) ) return mb_vfs_proc_shm_unmap(f, deleteFlag);
  return REAL(f)->pMethods->xShmUnmap(REAL(f), deleteFlag);
}

/* This connection holds no fetched page any more. */
static void mbFetchDone(MbFile *f){
  MbShared *s = f->pShared;
  if( atomic_fetch_sub_explicit(&s->nFetchOut, 1, memory_order_seq_cst)==1
   && atomic_load_explicit(&s->bShrinkPending, memory_order_seq_cst) ){
    mb_vfs_shared_remap(s);   /* the shrink that waited for us */
  }
}

static int mbFetch(sqlite3_file *pFile, sqlite3_int64 iOfst, int iAmt, void **pp){
  MbFile *f = MB_FILE(pFile);
  MbShared *s = f->pShared;
  mb_map *m = s ? s->pMap : 0;
  uint64_t end = (uint64_t)iOfst + (uint64_t)iAmt;
  sqlite3_int64 known;
  *pp = 0;
  if( m==0 || f->mmapLimit<=0 || iOfst<0 || end>(uint64_t)f->mmapLimit ){
    return SQLITE_OK;
  }
  /* Count first, then look: a shrink that started meanwhile sees the count
  ** and waits, or we see it and read through xRead instead (no lock). The
  ** shared count is of connections holding pointers, so only a connection's
  ** first outstanding page pays for the atomic operations. */
  if( f->nFetchOut==0 ) atomic_fetch_add_explicit(&s->nFetchOut, 1, memory_order_seq_cst);
  if( atomic_load_explicit(&s->bShrinking, memory_order_seq_cst)
   || atomic_load_explicit(&s->bShrinkPending, memory_order_relaxed)
   || end>mb_map_size(m)
   || (IS_PROCESS(f) && mb_vfs_proc_known_size(s->pProc, &known)
       && end>(uint64_t)known) ){
    if( f->nFetchOut==0 ) mbFetchDone(f);
    return SQLITE_OK;
  }
  *pp = (char*)mb_map_data(m) + iOfst;
  f->nFetchOut++;
  mb_vfs_pattern_count(f, MB_IO_FETCH, iAmt);
  mb_vfs_pattern_observe(f, iOfst, iAmt);
  return SQLITE_OK;
}

static int mbUnfetch(sqlite3_file *pFile, sqlite3_int64 iOfst, void *p){
  MbFile *f = MB_FILE(pFile);
  MbShared *s = f->pShared;
  (void)iOfst;
  if( s==0 ) return SQLITE_OK;
  if( p ){
    if( --f->nFetchOut==0 ) mbFetchDone(f);
  }else{
    /* "Drop the mapping": the file changed (another connection or process
    ** wrote). Bring the view up to date (a shrink waits for the pointers
    ** still out). In process mode the size is known: no system call unless
    ** it differs from the view. */
    sqlite3_int64 known;
    int bSame = IS_PROCESS(f) && s->pMap && mb_vfs_proc_known_size(s->pProc, &known)
             && (uint64_t)known==mb_map_size(s->pMap);
    if( !bSame ) mb_vfs_shared_remap(s);
  }
  return SQLITE_OK;
}

const sqlite3_io_methods mb_vfs_file_methods = {
  3,
  mbClose,
  mbRead,
  mbWrite,
  mbTruncate,
  mbSync,
  mbFileSize,
  mbLock,
  mbUnlock,
  mbCheckReservedLock,
  mbFileControl,
  mbSectorSize,
  mbDeviceCharacteristics,
  mbShmMap,
  mbShmLock,
  mbShmBarrier,
  mbShmUnmap,
  mbFetch,
  mbUnfetch
};
