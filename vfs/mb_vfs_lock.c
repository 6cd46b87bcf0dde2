/*
** mb_vfs_lock.c -- membase_locking=process.
**
** The first time one of its connections needs a lock on the database, the
** process takes the OS lock through a file of its own opened with the
** platform VFS (the anchor): SHARED then EXCLUSIVE, the same bytes the
** platform VFS locks, so a process on stock SQLite (or on membase in either
** mode) sees a database held exclusively and gets SQLITE_BUSY. If the file
** cannot be opened for writing the anchor takes SHARED only: the database
** is then read-only for every process, and this one keeps no knowledge of
** it (below). The OS lock is held until the last connection of the process
** closes the file.
**
** From then on the connections and threads of the process lock each other
** in memory, with the rules of the platform VFS (SHARED, RESERVED, PENDING,
** EXCLUSIVE; a PENDING lock keeps new readers out). No system call.
**
** While the OS lock is exclusive, nothing outside the process can change
** the database, so the process answers from its own knowledge:
**   - xFileSize: the size it last wrote or truncated to;
**   - xAccess on the journal and the WAL file: whether it created or
**     deleted them (learnt once from the file system);
**   - xCheckReservedLock: whether one of its connections holds RESERVED.
** A crash leaves the journal or the WAL as stock SQLite leaves them; the
** next opener, stock or membase, recovers them the usual way.
**
** The WAL index lives in process memory (xShm*), shared by the process's
** connections, like SQLite's heap-memory WAL index under
** locking_mode=EXCLUSIVE but for any number of connections. No -shm file is
** made; since no other process can open the database meanwhile, none is
** needed.
**
** All of this is one MbProc per database file, which only this file looks
** inside. Its MbShared (mb_vfs_shared.c) holds a pointer to it, and the
** other files ask through the mb_vfs_proc_* functions of mb_vfs_int.h;
** this file calls none of theirs.
*/
#include <assert.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

/* The process-mode state of one database file: one per MbShared in
** process mode, in the MbShared's allocation (mb_vfs_proc_size), guarded by
** the MbShared's mutex. Only this file looks inside. */
struct MbProc {
  mb_mutex *mu;               /* the MbShared's mutex: guards all below */
  const char *zPath;          /* the database (the MbShared's string) */
  /* the OS lock */
  sqlite3_file *pAnchor;      /* platform file holding the OS lock, or 0 */
  int eOsLock;                /* SQLITE_LOCK_NONE/SHARED/EXCLUSIVE held */
  int bAnchorRO;              /* the file is read-only to the process:
                              ** the anchor holds SHARED at most */
  /* What the process knows while the OS lock is exclusive. bKnow and
  ** knownSize are written under mu and also read without it
  ** (mb_vfs_proc_known_size): bKnow is stored with release after
  ** knownSize and loaded with acquire before it; knownSize itself is
  ** relaxed. */
  _Atomic(int) bKnow;         /* the knowledge below is the truth */
  _Atomic(sqlite3_int64) knownSize; /* the file's size */
  int eJournal, eWal;         /* -1 unknown, 0 absent, 1 present */
  /* the database locks of the process's connections, in memory */
  int nShared;                /* files holding SHARED or more */
  MbFile *pReserved, *pPending, *pExclusive;
  /* the WAL index, in process memory */
  int nShmRef;                /* files that mapped it */
  int szRegion, nRegion;
  char **apRegion;
  int aShmShared[MB_SHM_NLOCK];
  MbFile *apShmExcl[MB_SHM_NLOCK];
};

#define PROC(f) ((f)->pShared->pProc)

size_t mb_vfs_proc_size(void){
  return sizeof(MbProc);
}

void mb_vfs_proc_init(MbProc *p, const char *zPath, mb_mutex *mu){
  memset(p, 0, sizeof(*p));
  p->mu = mu;
  p->zPath = zPath;
  p->eJournal = p->eWal = -1;
  atomic_init(&p->bKnow, 0);
  atomic_init(&p->knownSize, 0);
}

/* The WAL index's memory. */
static void mbShmFree(MbProc *p){
  for(int i=0; i<p->nRegion; i++) sqlite3_free(p->apRegion[i]);
  sqlite3_free(p->apRegion);
  p->apRegion = 0;
  p->nRegion = 0;
}

/* The OS lock, the anchor and the WAL index go with the last connection
** (the MbShared is off the list; no one else can reach it). */
void mb_vfs_proc_release(MbProc *p){
  if( p->pAnchor ){
    if( p->eOsLock>SQLITE_LOCK_NONE ){
      p->pAnchor->pMethods->xUnlock(p->pAnchor, SQLITE_LOCK_NONE);
    }
    p->pAnchor->pMethods->xClose(p->pAnchor);
    sqlite3_free(p->pAnchor);
    p->pAnchor = 0;
  }
  mbShmFree(p);
}

/* ------------------------------------------- what the process knows */

int mb_vfs_proc_known_size(MbProc *p, sqlite3_int64 *pSize){
  if( !atomic_load_explicit(&p->bKnow, memory_order_acquire) ) return 0;
  *pSize = atomic_load_explicit(&p->knownSize, memory_order_relaxed);
  return 1;
}

void mb_vfs_proc_note_write(MbProc *p, sqlite3_int64 end){
  mb_mutex_enter(p->mu);
  if( atomic_load_explicit(&p->bKnow, memory_order_relaxed)
   && end>atomic_load_explicit(&p->knownSize, memory_order_relaxed) ){
    atomic_store_explicit(&p->knownSize, end, memory_order_relaxed);
  }
  mb_mutex_leave(p->mu);
}

/* Learn the size from pFile, if the process knows the file; on error the
** size is unknown: ask the file from now on. Returns the error. */
static int mbLearnSizeLocked(MbProc *p, sqlite3_file *pFile){
  sqlite3_int64 sz = 0;
  int rc;
  assert( mb_mutex_held(p->mu) );
  if( !atomic_load_explicit(&p->bKnow, memory_order_relaxed) ) return SQLITE_OK;
  rc = pFile->pMethods->xFileSize(pFile, &sz);
  if( rc==SQLITE_OK ){
    atomic_store_explicit(&p->knownSize, sz, memory_order_relaxed);
  }else{
    atomic_store_explicit(&p->bKnow, 0, memory_order_relaxed);
  }
  return rc;
}

void mb_vfs_proc_learn_size(MbProc *p, sqlite3_file *pFile){
  mb_mutex_enter(p->mu);
  (void)mbLearnSizeLocked(p, pFile);
  mb_mutex_leave(p->mu);
}

/* Forget what the process knew of the auxiliary files. */
static void mbForgetAuxLocked(MbProc *p){
  assert( mb_mutex_held(p->mu) );
  p->eJournal = p->eWal = -1;
}

int mb_vfs_proc_forget(MbProc *p, sqlite3_file *pFile){
  int rc = SQLITE_OK;
  assert( mb_mutex_held(p->mu) );
  if( atomic_load_explicit(&p->bKnow, memory_order_relaxed) ){
    rc = mbLearnSizeLocked(p, pFile);
    mbForgetAuxLocked(p);
  }
  return rc;
}

int mb_vfs_proc_known_access(MbProc *p, int which, int *pResOut){
  int known = 0;
  mb_mutex_enter(p->mu);
  if( atomic_load_explicit(&p->bKnow, memory_order_relaxed) ){
    int e = which==MB_PROC_JOURNAL ? p->eJournal : p->eWal;
    if( e>=0 ){ *pResOut = e; known = 1; }
  }
  mb_mutex_leave(p->mu);
  return known;
}

void mb_vfs_proc_note_access(MbProc *p, int which, int exists){
  mb_mutex_enter(p->mu);
  if( atomic_load_explicit(&p->bKnow, memory_order_relaxed) ){
    if( which==MB_PROC_JOURNAL ) p->eJournal = exists; else p->eWal = exists;
  }
  mb_mutex_leave(p->mu);
}

/* ------------------------------------------------------------ the locks */

/* Take the OS lock: SHARED then EXCLUSIVE, or SHARED only on a file the
** process cannot write. SQLITE_BUSY while another process holds a lock
** that conflicts. Once it is exclusive the process knows the file. */
static int mbAnchorLock(MbFile *f){
  MbProc *p = PROC(f);
  sqlite3_file *a = p->pAnchor;
  int rc;
  assert( mb_mutex_held(p->mu) );
  if( a==0 ){
    sqlite3_vfs *pLower = f->pMb->pLower;
    int outFlags = 0;
    a = sqlite3_malloc(pLower->szOsFile);
    if( a==0 ) return SQLITE_NOMEM;
    memset(a, 0, (size_t)pLower->szOsFile);
    rc = pLower->xOpen(pLower, p->zPath, a,
                       SQLITE_OPEN_MAIN_DB|SQLITE_OPEN_READWRITE, &outFlags);
    if( rc!=SQLITE_OK ){
      if( a->pMethods ) a->pMethods->xClose(a);
      memset(a, 0, (size_t)pLower->szOsFile);
      outFlags = SQLITE_OPEN_READONLY;
      rc = pLower->xOpen(pLower, p->zPath, a,
                         SQLITE_OPEN_MAIN_DB|SQLITE_OPEN_READONLY, 0);
    }
    if( rc!=SQLITE_OK ){
      if( a->pMethods ) a->pMethods->xClose(a);
      sqlite3_free(a);
      return rc;
    }
    p->pAnchor = a;
    p->bAnchorRO = (outFlags & SQLITE_OPEN_READONLY)!=0;
    p->eOsLock = SQLITE_LOCK_NONE;
  }
  if( p->eOsLock==SQLITE_LOCK_NONE ){
    rc = a->pMethods->xLock(a, SQLITE_LOCK_SHARED);
    if( rc!=SQLITE_OK ) return rc;
    p->eOsLock = SQLITE_LOCK_SHARED;
  }
  if( p->bAnchorRO || p->eOsLock==SQLITE_LOCK_EXCLUSIVE ) return SQLITE_OK;
  rc = a->pMethods->xLock(a, SQLITE_LOCK_EXCLUSIVE);
  if( rc!=SQLITE_OK ){
    /* Let go entirely, so that the other process can finish; SQLite's busy
    ** handler retries. */
    a->pMethods->xUnlock(a, SQLITE_LOCK_NONE);
    p->eOsLock = SQLITE_LOCK_NONE;
    return rc;
  }
  p->eOsLock = SQLITE_LOCK_EXCLUSIVE;
  {
    sqlite3_int64 sz = 0;
    rc = a->pMethods->xFileSize(a, &sz);
    if( rc!=SQLITE_OK ) return rc;
    atomic_store_explicit(&p->knownSize, sz, memory_order_relaxed);
  }
  mbForgetAuxLocked(p);
  atomic_store_explicit(&p->bKnow, 1, memory_order_release);
  return SQLITE_OK;
}

int mb_vfs_proc_lock(MbFile *f, int eLock){
  MbProc *p = PROC(f);
  int rc = SQLITE_OK;
  if( f->eLock>=eLock ) return SQLITE_OK;
  mb_mutex_enter(p->mu);
  if( p->eOsLock!=SQLITE_LOCK_EXCLUSIVE
   && !(p->bAnchorRO && p->eOsLock==SQLITE_LOCK_SHARED) ){
    rc = mbAnchorLock(f);
    if( rc!=SQLITE_OK ) goto done;
  }
  if( eLock>SQLITE_LOCK_SHARED && p->bAnchorRO ){
    rc = SQLITE_READONLY;
    goto done;
  }
  if( eLock==SQLITE_LOCK_SHARED ){
    /* A writer waiting for readers to drain (PENDING), or one that has the
    ** EXCLUSIVE lock, keeps new readers out. */
    if( (p->pPending && p->pPending!=f) || (p->pExclusive && p->pExclusive!=f) ){
      rc = SQLITE_BUSY;
      goto done;
    }
    p->nShared++;
    f->eLock = SQLITE_LOCK_SHARED;
  }else if( eLock==SQLITE_LOCK_RESERVED ){
    if( p->pReserved && p->pReserved!=f ){
      rc = SQLITE_BUSY;
      goto done;
    }
    p->pReserved = f;
    f->eLock = SQLITE_LOCK_RESERVED;
  }else{ /* EXCLUSIVE, through PENDING */
    if( p->pPending && p->pPending!=f ){
      rc = SQLITE_BUSY;
      goto done;
    }
    p->pPending = f;
    f->eLock = SQLITE_LOCK_PENDING;
    if( p->nShared>1 ){
      rc = SQLITE_BUSY;    /* other readers: stay PENDING, retry later */
      goto done;
    }
    p->pExclusive = f;
    f->eLock = SQLITE_LOCK_EXCLUSIVE;
  }
done:
  mb_mutex_leave(p->mu);
  return rc;
}

int mb_vfs_proc_unlock(MbFile *f, int eLock){
  MbProc *p = PROC(f);
  if( f->eLock<=eLock ) return SQLITE_OK;
  mb_mutex_enter(p->mu);
  if( p->pExclusive==f ) p->pExclusive = 0;
  if( p->pPending==f ) p->pPending = 0;
  if( p->pReserved==f ) p->pReserved = 0;
  if( eLock==SQLITE_LOCK_NONE && f->eLock>=SQLITE_LOCK_SHARED ) p->nShared--;
  f->eLock = eLock;
  mb_mutex_leave(p->mu);
  return SQLITE_OK;
}

int mb_vfs_proc_check_reserved(MbFile *f, int *pResOut){
  MbProc *p = PROC(f);
  int rc = SQLITE_OK;
  mb_mutex_enter(p->mu);
  if( !p->bAnchorRO ){
    *pResOut = (p->pReserved || p->pPending || p->pExclusive);
  }else{
    /* read-only anchor: writers elsewhere are visible only to the OS */
    rc = p->pAnchor->pMethods->xCheckReservedLock(p->pAnchor, pResOut);
  }
  mb_mutex_leave(p->mu);
  return rc;
}

/* ------------------------------------------------ the WAL index in memory */

int mb_vfs_proc_shm_map(MbFile *f, int iRegion, int szRegion, int bExtend,
                        void volatile **pp){
  MbProc *p = PROC(f);
  int rc = SQLITE_OK;
  *pp = 0;
  mb_mutex_enter(p->mu);
  if( !f->bShm ){
    f->bShm = 1;
    p->nShmRef++;
  }
  if( p->nRegion>0 && p->szRegion!=szRegion ){
    rc = SQLITE_IOERR_SHMSIZE;
    goto done;
  }
  p->szRegion = szRegion;
  if( iRegion>=p->nRegion ){
    char **ap;
    if( !bExtend ) goto done;
    ap = sqlite3_realloc64(p->apRegion, sizeof(char*)*(size_t)(iRegion+1));
    if( ap==0 ){ rc = SQLITE_IOERR_NOMEM; goto done; }
    p->apRegion = ap;
    while( p->nRegion<=iRegion ){
      char *pNew = sqlite3_malloc(szRegion);
      if( pNew==0 ){ rc = SQLITE_IOERR_NOMEM; goto done; }
      memset(pNew, 0, (size_t)szRegion);
      p->apRegion[p->nRegion++] = pNew;
    }
  }
  *pp = p->apRegion[iRegion];
done:
  mb_mutex_leave(p->mu);
  return rc;
}

int mb_vfs_proc_shm_lock(MbFile *f, int ofst, int n, int flags){
  MbProc *p = PROC(f);
  int rc = SQLITE_OK, i;
  if( ofst<0 || n<1 || ofst+n>MB_SHM_NLOCK ) return SQLITE_IOERR_SHMLOCK;
  mb_mutex_enter(p->mu);
  if( flags & SQLITE_SHM_UNLOCK ){
    for(i=ofst; i<ofst+n; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      if( f->shmShared & bit ){ p->aShmShared[i]--; f->shmShared &= (uint8_t)~bit; }
      if( f->shmExcl & bit ){ p->apShmExcl[i] = 0; f->shmExcl &= (uint8_t)~bit; }
    }
  }else if( flags & SQLITE_SHM_SHARED ){
    for(i=ofst; i<ofst+n; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      if( (f->shmShared|f->shmExcl) & bit ) continue;
      if( p->apShmExcl[i] ){ rc = SQLITE_BUSY; break; }
    }
    if( rc==SQLITE_OK ){
      for(i=ofst; i<ofst+n; i++){
        uint8_t bit = (uint8_t)(1u<<i);
        if( (f->shmShared|f->shmExcl) & bit ) continue;
        p->aShmShared[i]++;
        f->shmShared |= bit;
      }
    }
  }else{ /* EXCLUSIVE */
    for(i=ofst; i<ofst+n; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      int others = p->aShmShared[i] - ((f->shmShared & bit) ? 1 : 0);
      if( (p->apShmExcl[i] && p->apShmExcl[i]!=f) || others>0 ){
        rc = SQLITE_BUSY;
        break;
      }
    }
    if( rc==SQLITE_OK ){
      for(i=ofst; i<ofst+n; i++){
        uint8_t bit = (uint8_t)(1u<<i);
        p->apShmExcl[i] = f;
        f->shmExcl |= bit;
      }
    }
  }
  mb_mutex_leave(p->mu);
  return rc;
}

void mb_vfs_proc_shm_barrier(MbFile *f){
  /* The mutex is a full barrier, as the unix VFS's xShmBarrier. */
  mb_mutex_enter(PROC(f)->mu);
  mb_mutex_leave(PROC(f)->mu);
}

int mb_vfs_proc_shm_unmap(MbFile *f, int deleteFlag){
  MbProc *p = PROC(f);
  (void)deleteFlag;    /* there is no -shm file to delete */
  mb_mutex_enter(p->mu);
  if( f->bShm ){
    for(int i=0; i<MB_SHM_NLOCK; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      if( f->shmShared & bit ) p->aShmShared[i]--;
      if( f->shmExcl & bit ) p->apShmExcl[i] = 0;
    }
    f->shmShared = f->shmExcl = 0;
    f->bShm = 0;
    if( --p->nShmRef==0 ){
      /* The last connection: the next one rebuilds the index from the WAL
      ** file, as after a restart. */
      mbShmFree(p);
    }
  }
  mb_mutex_leave(p->mu);
  return SQLITE_OK;
}
