/*
** mb_vfs_wal.c -- WAL files read through a mapping.
**
** SQLite reads a page from the WAL file (pread) whenever the page it needs
** has a frame there that is not in its cache. The membase VFS serves those
** reads from the core's process-wide mapping of the WAL file, as it does for
** the database file; everything else (writes, sync, truncation, size) goes
** to the platform file, truncation with the mapping out of its way
** (mb_vfs_cut.c). The mapping follows the file: a read past the view
** (frames appended since) brings it up to date first, and a read the view
** cannot serve (the file was truncated, or cannot be mapped) goes to the
** platform file, which gives SQLite the answer it expects.
**
** The WAL file is only read, never locked (SQLite's WAL locks live on the
** database's -shm file or, in process mode, in memory), so the descriptor
** the core keeps on it cannot disturb any POSIX lock.
*/
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

typedef struct MbWal {
  sqlite3_file *pReal;        /* the platform file, just after this */
  mb_map *pMap;               /* the WAL file's mapping, or NULL */
} MbWal;

/* What SQLite's sqlite3_file holds for a WAL file (as MbHandle for a
** database: the VFS's szOsFile is the platform VFS's). */
typedef struct MbWalHandle {
  sqlite3_file base;
  MbWal *pWal;
} MbWalHandle;

#define WAL(p) (((MbWalHandle*)(p))->pWal)
#define WREAL(p) (WAL(p)->pReal)

static int mbWalClose(sqlite3_file *pFile){
  MbWal *w = WAL(pFile);
  int rc = w->pReal->pMethods->xClose(w->pReal);
  if( w->pMap ) mb_registry_release(w->pMap);
  sqlite3_free(w);
  WAL(pFile) = 0;
  return rc;
}

static int mbWalRead(sqlite3_file *pFile, void *zBuf, int iAmt, sqlite3_int64 iOfst){
  MbWal *w = WAL(pFile);
  if( w->pMap && iOfst>=0 ){
    uint64_t end = (uint64_t)iOfst + (uint64_t)iAmt;
    if( end>mb_map_size(w->pMap) ) (void)mb_registry_refresh(w->pMap, 0);
    if( end<=mb_map_size(w->pMap)
     && mb_map_read(w->pMap, (uint64_t)iOfst, zBuf, (size_t)iAmt)==MB_OK ){
      mb_map_count_io(w->pMap, MB_IO_MAP_READ, (uint64_t)iAmt);
      return SQLITE_OK;
    }
    mb_map_count_io(w->pMap, MB_IO_OS_READ, (uint64_t)iAmt);
  }
  return w->pReal->pMethods->xRead(w->pReal, zBuf, iAmt, iOfst);
}

static int mbWalWrite(sqlite3_file *pFile, const void *z, int iAmt, sqlite3_int64 iOfst){
  return WREAL(pFile)->pMethods->xWrite(WREAL(pFile), z, iAmt, iOfst);
}
static int mbWalTruncate(sqlite3_file *pFile, sqlite3_int64 size){
  MbWal *w = WAL(pFile);
  /* wal_checkpoint(TRUNCATE): the mapping makes way (mb_vfs_cut.c) */
  return mb_vfs_cut_wal(w->pMap, w->pReal, size);
}
static int mbWalSync(sqlite3_file *pFile, int flags){
  return WREAL(pFile)->pMethods->xSync(WREAL(pFile), flags);
}
static int mbWalFileSize(sqlite3_file *pFile, sqlite3_int64 *pSize){
  return WREAL(pFile)->pMethods->xFileSize(WREAL(pFile), pSize);
}
static int mbWalLock(sqlite3_file *pFile, int eLock){
  return WREAL(pFile)->pMethods->xLock(WREAL(pFile), eLock);
}
static int mbWalUnlock(sqlite3_file *pFile, int eLock){
  return WREAL(pFile)->pMethods->xUnlock(WREAL(pFile), eLock);
}
static int mbWalCheckReservedLock(sqlite3_file *pFile, int *pResOut){
  return WREAL(pFile)->pMethods->xCheckReservedLock(WREAL(pFile), pResOut);
}
static int mbWalFileControl(sqlite3_file *pFile, int op, void *pArg){
  return WREAL(pFile)->pMethods->xFileControl(WREAL(pFile), op, pArg);
}
static int mbWalSectorSize(sqlite3_file *pFile){
  return WREAL(pFile)->pMethods->xSectorSize(WREAL(pFile));
}
static int mbWalDeviceCharacteristics(sqlite3_file *pFile){
  return WREAL(pFile)->pMethods->xDeviceCharacteristics(WREAL(pFile));
}

/* Version 1: SQLite uses no shared memory or xFetch on a WAL file. */
static const sqlite3_io_methods mbWalMethods = {
  1,
  mbWalClose,
  mbWalRead,
  mbWalWrite,
  mbWalTruncate,
  mbWalSync,
  mbWalFileSize,
  mbWalLock,
  mbWalUnlock,
  mbWalCheckReservedLock,
  mbWalFileControl,
  mbWalSectorSize,
  mbWalDeviceCharacteristics,
  0, 0, 0, 0, 0, 0
};

int mb_vfs_wal_open(sqlite3_vfs *pLower, const char *zName, sqlite3_file *pFile,
                    int flags, int *pOutFlags){
  MbWal *w;
  int rc;
  pFile->pMethods = 0;
  w = sqlite3_malloc64(MB_ROUND8(sizeof(MbWal)) + (size_t)pLower->szOsFile);
  if( w==0 ) return SQLITE_NOMEM;
  memset(w, 0, MB_ROUND8(sizeof(MbWal)) + (size_t)pLower->szOsFile);
  w->pReal = MB_TAIL_FILE(w);
  rc = pLower->xOpen(pLower, zName, w->pReal, flags, pOutFlags);
  if( rc!=SQLITE_OK ){
    if( w->pReal->pMethods ) w->pReal->pMethods->xClose(w->pReal);
    sqlite3_free(w);
    return rc;
  }
  /* Not mapped (an error, or no room): the platform's reads serve it. */
  if( mb_registry_acquire(zName, 0, &w->pMap)!=MB_OK ) w->pMap = 0;
  WAL(pFile) = w;
  pFile->pMethods = &mbWalMethods;
  return SQLITE_OK;
}
