/*
** mb_vfs.c -- the membase VFS: database pages served from the file's
** process-wide mapping, in any SQLite application.
**
** Switching to it
**   sqlite3 shell:  .load membase
**                   .open file:app.db?vfs=membase
**   Python:         con.load_extension("membase")
**                   sqlite3.connect("file:app.db?vfs=membase", uri=True)
**   process default: SELECT membase_vfs_default('membase');  (SQL, or
**                   MEMBASE_DEFAULT_VFS=1 in the environment when the module
**                   is loaded), or membase_vfs_register(1) from C.
**
** Two VFSes are registered, both shims over the platform VFS ("unix" or
** "win32"), which keeps doing everything except reading the database file:
**   "membase"          membase_locking=shared by default: the locking
**                      protocol on disk is exactly the platform VFS's, so
**                      stock SQLite processes and membase processes share a
**                      database, in rollback and WAL mode;
**   "membase-process"  membase_locking=process by default (mb_vfs_lock.c):
**                      the process takes the OS lock once, and locks its own
**                      connections in memory, without system calls.
** URI parameter membase_locking=shared|process overrides the default of
** either name. The other URI parameters and the PRAGMAs are described in
** mb_vfs_options.c and mb_vfs_pragma.c.
**
** What is wrapped: main database files (mb_vfs_file.c), and WAL files,
** whose reads are served from a mapping too (mb_vfs_wal.c; the environment
** variable MEMBASE_WAL_MAP=0 at registration leaves them unwrapped).
** Journals, temporary and transient files are opened by the platform VFS
** straight into SQLite's sqlite3_file, so SQLite calls the platform methods
** directly. The path methods, the dynamic loader, randomness, time and the
** system-call hooks (xSetSystemCall...) are the platform VFS's.
**
** In process mode xAccess on a database's journal or WAL file is answered
** from what the process knows, xOpen and xDelete of them keep that up to
** date (mb_vfs_shared.c finds the database, mb_vfs_lock.c knows).
**
** Bad URI values. xOpen cannot give SQLite a message, so it opens the file
** and keeps the error: every lock then fails with SQLITE_ERROR, and
** sqlite3_open() itself fails with the message through MemBase's automatic
** extension (ext/membase.c asks with MB_VFS_FCNTL_OPEN_ERROR).
*/
#include <stdlib.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs.h"
#include "mb_vfs_int.h"

#if defined(_WIN32)
# define MB_PLATFORM_VFS "win32"
#else
# define MB_PLATFORM_VFS "unix"
#endif

#define LOWER(pVfs) (((MbVfs*)(pVfs)->pAppData)->pLower)

/* WAL files read through a mapping (mb_vfs_wal.c). The environment
** variable MEMBASE_WAL_MAP, read at registration, turns it off with 0 (for
** measuring one against the other); 1 or unset leaves it on. */
static int gMbWalMapped = 1;

/* MEMBASE_WAL_MAP as 0 or 1; -1 for any other value. */
static int mbWalMapEnv(void){
  const char *z = getenv("MEMBASE_WAL_MAP");
  if( z==0 || strcmp(z, "1")==0 ) return 1;
  if( strcmp(z, "0")==0 ) return 0;
  return -1;
}

int mb_vfs_check_env(char **pzErr){
  *pzErr = 0;
  if( mbWalMapEnv()<0 ){
    *pzErr = sqlite3_mprintf("membase: MEMBASE_WAL_MAP=\"%s\": expected 0 or 1",
                             getenv("MEMBASE_WAL_MAP"));
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

static int mbOpen(sqlite3_vfs *pVfs, const char *zName, sqlite3_file *pFile,
                  int flags, int *pOutFlags){
  MbVfs *pMb = (MbVfs*)pVfs->pAppData;
  sqlite3_vfs *pLower = pMb->pLower;
  MbFile *f;
  int rc;

  if( zName==0 || (flags & SQLITE_OPEN_MAIN_DB)==0 ){
    /* Not a main database: a WAL file read through a mapping, or the
    ** platform file, unwrapped. */
    if( zName && (flags & SQLITE_OPEN_WAL) && gMbWalMapped ){
      rc = mb_vfs_wal_open(pLower, zName, pFile, flags, pOutFlags);
    }else{
      rc = pLower->xOpen(pLower, zName, pFile, flags, pOutFlags);
    }
    if( rc==SQLITE_OK && zName && (flags & SQLITE_OPEN_CREATE)
     && (flags & (SQLITE_OPEN_MAIN_JOURNAL|SQLITE_OPEN_WAL)) ){
      mb_vfs_note_access(zName, 1);
    }
    return rc;
  }

  pFile->pMethods = 0;
  f = sqlite3_malloc64(MB_ROUND8(sizeof(MbFile)) + (size_t)pLower->szOsFile);
  if( f==0 ) return SQLITE_NOMEM;
  memset(f, 0, MB_ROUND8(sizeof(MbFile)) + (size_t)pLower->szOsFile);
  MB_FILE(pFile) = f;
  f->pReal = MB_TAIL_FILE(f);
  f->pMb = pMb;
  mb_vfs_pattern_init(&f->pattern);
  f->opts.advice = MB_VFS_ADVICE_AUTO;
  f->opts.locking = pMb->eLocking;
  f->opts.dropbehind = -1;
  if( flags & SQLITE_OPEN_URI ){
    char *zErr = 0;
    if( mb_vfs_options_from_uri(zName, &f->opts, &zErr)!=SQLITE_OK ){
      /* Kept for the first lock and for sqlite3_open (see above). */
      f->zOpenErr = zErr ? zErr : sqlite3_mprintf("membase: bad URI parameter");
      sqlite3_log(SQLITE_ERROR, "%s", f->zOpenErr);
    }
  }

  /* zName is passed down unchanged: sqlite3_uri_parameter() and
  ** sqlite3_database_file_object() walk back from that very pointer. */
  rc = pLower->xOpen(pLower, zName, f->pReal, flags, pOutFlags);
  if( rc==SQLITE_OK ){
    rc = mb_vfs_shared_acquire(f, zName, &f->pShared);
    if( rc!=SQLITE_OK ) f->pReal->pMethods->xClose(f->pReal);
  }else if( f->pReal->pMethods ){
    f->pReal->pMethods->xClose(f->pReal);
  }
  if( rc!=SQLITE_OK ){
    sqlite3_free(f->zOpenErr);
    sqlite3_free(f);
    MB_FILE(pFile) = 0;
    return rc;
  }
  pFile->pMethods = &mb_vfs_file_methods;
  return SQLITE_OK;
}

static int mbDelete(sqlite3_vfs *pVfs, const char *zPath, int dirSync){
  int rc = LOWER(pVfs)->xDelete(LOWER(pVfs), zPath, dirSync);
  if( rc==SQLITE_OK || rc==SQLITE_IOERR_DELETE_NOENT ){
    mb_vfs_note_access(zPath, 0);
  }
  return rc;
}

static int mbAccess(sqlite3_vfs *pVfs, const char *zPath, int flags, int *pResOut){
  int rc;
  if( flags==SQLITE_ACCESS_EXISTS && mb_vfs_known_access(zPath, pResOut) ){
    return SQLITE_OK;
  }
  rc = LOWER(pVfs)->xAccess(LOWER(pVfs), zPath, flags, pResOut);
  if( rc==SQLITE_OK && flags==SQLITE_ACCESS_EXISTS ){
    mb_vfs_note_access(zPath, *pResOut!=0);
  }
  return rc;
}

static int mbFullPathname(sqlite3_vfs *pVfs, const char *zPath, int nOut, char *zOut){
  return LOWER(pVfs)->xFullPathname(LOWER(pVfs), zPath, nOut, zOut);
}
static void *mbDlOpen(sqlite3_vfs *pVfs, const char *zPath){
  return LOWER(pVfs)->xDlOpen(LOWER(pVfs), zPath);
}
static void mbDlError(sqlite3_vfs *pVfs, int nByte, char *zErrMsg){
  LOWER(pVfs)->xDlError(LOWER(pVfs), nByte, zErrMsg);
}
static void (*mbDlSym(sqlite3_vfs *pVfs, void *p, const char *zSym))(void){
  return LOWER(pVfs)->xDlSym(LOWER(pVfs), p, zSym);
}
static void mbDlClose(sqlite3_vfs *pVfs, void *p){
  LOWER(pVfs)->xDlClose(LOWER(pVfs), p);
}
static int mbRandomness(sqlite3_vfs *pVfs, int nByte, char *zOut){
  return LOWER(pVfs)->xRandomness(LOWER(pVfs), nByte, zOut);
}
static int mbSleep(sqlite3_vfs *pVfs, int microseconds){
  return LOWER(pVfs)->xSleep(LOWER(pVfs), microseconds);
}
static int mbCurrentTime(sqlite3_vfs *pVfs, double *pOut){
  return LOWER(pVfs)->xCurrentTime(LOWER(pVfs), pOut);
}
static int mbGetLastError(sqlite3_vfs *pVfs, int n, char *z){
  return LOWER(pVfs)->xGetLastError ? LOWER(pVfs)->xGetLastError(LOWER(pVfs), n, z) : 0;
}
static int mbCurrentTimeInt64(sqlite3_vfs *pVfs, sqlite3_int64 *pOut){
  sqlite3_vfs *p = LOWER(pVfs);
  if( p->iVersion>=2 && p->xCurrentTimeInt64 ) return p->xCurrentTimeInt64(p, pOut);
  {
    double r = 0.0;
    int rc = p->xCurrentTime(p, &r);
    *pOut = (sqlite3_int64)(r*86400000.0);
    return rc;
  }
}
static int mbSetSystemCall(sqlite3_vfs *pVfs, const char *zName, sqlite3_syscall_ptr pNew){
  sqlite3_vfs *p = LOWER(pVfs);
  if( p->iVersion<3 || p->xSetSystemCall==0 ) return SQLITE_NOTFOUND;
  return p->xSetSystemCall(p, zName, pNew);
}
static sqlite3_syscall_ptr mbGetSystemCall(sqlite3_vfs *pVfs, const char *zName){
  sqlite3_vfs *p = LOWER(pVfs);
  if( p->iVersion<3 || p->xGetSystemCall==0 ) return 0;
  return p->xGetSystemCall(p, zName);
}
static const char *mbNextSystemCall(sqlite3_vfs *pVfs, const char *zName){
  sqlite3_vfs *p = LOWER(pVfs);
  if( p->iVersion<3 || p->xNextSystemCall==0 ) return 0;
  return p->xNextSystemCall(p, zName);
}

/* ------------------------------------------------------------ registration */

static MbVfs gMb[2];
static sqlite3_vfs gVfs[2];
static const char *const azVfsName[2] = { "membase", "membase-process" };
static mb_mutex gRegMu = MB_MUTEX_INIT;

static void mbFillVfs(int i, sqlite3_vfs *pLower){
  sqlite3_vfs *v = &gVfs[i];
  gMb[i].pLower = pLower;
  gMb[i].eLocking = i==0 ? MB_VFS_LOCK_SHARED : MB_VFS_LOCK_PROCESS;
  memset(v, 0, sizeof(*v));
  v->iVersion = 3;
  /* As the platform VFS's (see MbHandle in mb_vfs_int.h). */
  v->szOsFile = pLower->szOsFile>(int)sizeof(MbHandle) ? pLower->szOsFile
                                                       : (int)sizeof(MbHandle);
  v->mxPathname = pLower->mxPathname;
  v->zName = azVfsName[i];
  v->pAppData = &gMb[i];
  v->xOpen = mbOpen;
  v->xDelete = mbDelete;
  v->xAccess = mbAccess;
  v->xFullPathname = mbFullPathname;
  v->xDlOpen = mbDlOpen;
  v->xDlError = mbDlError;
  v->xDlSym = mbDlSym;
  v->xDlClose = mbDlClose;
  v->xRandomness = mbRandomness;
  v->xSleep = mbSleep;
  v->xCurrentTime = mbCurrentTime;
  v->xGetLastError = mbGetLastError;
  v->xCurrentTimeInt64 = mbCurrentTimeInt64;
  v->xSetSystemCall = mbSetSystemCall;
  v->xGetSystemCall = mbGetSystemCall;
  v->xNextSystemCall = mbNextSystemCall;
}

int mb_vfs_register(int makeDefault){
  int rc = SQLITE_OK;
  if( makeDefault<0 || makeDefault>2 ) return SQLITE_MISUSE;
#ifdef SQLITE_CORE
  /* Linked in: the application may not have initialised SQLite yet. (A
  ** loaded module runs in an initialised library, and sqlite3_initialize
  ** is not among the routines SQLite hands to modules.) */
  rc = sqlite3_initialize();
  if( rc!=SQLITE_OK ) return rc;
#endif
  if( mbWalMapEnv()<0 ) return SQLITE_ERROR;   /* mb_vfs_check_env() says why */
  mb_mutex_enter(&gRegMu);
  gMbWalMapped = mbWalMapEnv();
  for(int i=0; i<2 && rc==SQLITE_OK; i++){
    /* Registered already (by us, or by another copy of MemBase in the
    ** process): never wrap membase around itself. */
    if( sqlite3_vfs_find(azVfsName[i]) ) continue;
    if( gMb[i].pLower==0 ){
      sqlite3_vfs *pLower = sqlite3_vfs_find(MB_PLATFORM_VFS);
      if( pLower==0 ){
        rc = SQLITE_ERROR;
        break;
      }
      mbFillVfs(i, pLower);
    }
    rc = sqlite3_vfs_register(&gVfs[i], 0);
  }
  if( rc==SQLITE_OK && makeDefault ){
    sqlite3_vfs *p = sqlite3_vfs_find(azVfsName[makeDefault-1]);
    rc = p ? sqlite3_vfs_register(p, 1) : SQLITE_ERROR;
  }
  mb_mutex_leave(&gRegMu);
  return rc;
}

int mb_vfs_open_error(sqlite3 *db, const char *zDb, const char **pzErr){
  const char *z = 0;
  *pzErr = 0;
  if( sqlite3_file_control(db, zDb, MB_VFS_FCNTL_OPEN_ERROR, (void*)&z)==SQLITE_OK ){
    *pzErr = z;
  }
  return *pzErr ? SQLITE_ERROR : SQLITE_OK;
}
