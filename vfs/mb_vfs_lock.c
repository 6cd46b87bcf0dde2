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
*/
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_vfs_int.h"

/* Take the OS lock (s->mu held): SHARED then EXCLUSIVE, or SHARED only on
** a file the process cannot write. SQLITE_BUSY while another process holds
** a lock that conflicts. */
static int mbAnchorLock(MbFile *f){
  MbShared *s = f->pShared;
  sqlite3_file *a = s->pAnchor;
  int rc;
  if( a==0 ){
    sqlite3_vfs *pLower = f->pMb->pLower;
    int outFlags = 0;
    a = sqlite3_malloc(pLower->szOsFile);
    if( a==0 ) return SQLITE_NOMEM;
    memset(a, 0, (size_t)pLower->szOsFile);
    rc = pLower->xOpen(pLower, s->zPath, a,
                       SQLITE_OPEN_MAIN_DB|SQLITE_OPEN_READWRITE, &outFlags);
    if( rc!=SQLITE_OK ){
      if( a->pMethods ) a->pMethods->xClose(a);
      memset(a, 0, (size_t)pLower->szOsFile);
      outFlags = SQLITE_OPEN_READONLY;
      rc = pLower->xOpen(pLower, s->zPath, a,
                         SQLITE_OPEN_MAIN_DB|SQLITE_OPEN_READONLY, 0);
    }
    if( rc!=SQLITE_OK ){
      if( a->pMethods ) a->pMethods->xClose(a);
      sqlite3_free(a);
      return rc;
    }
    s->pAnchor = a;
    s->bAnchorRO = (outFlags & SQLITE_OPEN_READONLY)!=0;
    s->eOsLock = SQLITE_LOCK_NONE;
  }
  if( s->eOsLock==SQLITE_LOCK_NONE ){
    rc = a->pMethods->xLock(a, SQLITE_LOCK_SHARED);
    if( rc!=SQLITE_OK ) return rc;
    s->eOsLock = SQLITE_LOCK_SHARED;
  }
  if( s->bAnchorRO || s->eOsLock==SQLITE_LOCK_EXCLUSIVE ) return SQLITE_OK;
  rc = a->pMethods->xLock(a, SQLITE_LOCK_EXCLUSIVE);
  if( rc!=SQLITE_OK ){
    /* Let go entirely, so that the other process can finish; SQLite's busy
    ** handler retries. */
    a->pMethods->xUnlock(a, SQLITE_LOCK_NONE);
    s->eOsLock = SQLITE_LOCK_NONE;
    return rc;
  }
  s->eOsLock = SQLITE_LOCK_EXCLUSIVE;
  {
    sqlite3_int64 sz = 0;
    rc = a->pMethods->xFileSize(a, &sz);
    if( rc!=SQLITE_OK ) return rc;
    s->knownSize = sz;
  }
  mb_vfs_shared_forget(s);
  s->bKnow = 1;
  return SQLITE_OK;
}

int mb_vfs_proc_lock(MbFile *f, int eLock){
  MbShared *s = f->pShared;
  int rc = SQLITE_OK;
  if( f->eLock>=eLock ) return SQLITE_OK;
  mb_mutex_enter(&s->mu);
  if( s->eOsLock!=SQLITE_LOCK_EXCLUSIVE
   && !(s->bAnchorRO && s->eOsLock==SQLITE_LOCK_SHARED) ){
    rc = mbAnchorLock(f);
    if( rc!=SQLITE_OK ) goto done;
  }
  if( eLock>SQLITE_LOCK_SHARED && s->bAnchorRO ){
    rc = SQLITE_READONLY;
    goto done;
  }
  if( eLock==SQLITE_LOCK_SHARED ){
    /* A writer waiting for readers to drain (PENDING), or one that has the
    ** EXCLUSIVE lock, keeps new readers out. */
    if( (s->pPending && s->pPending!=f) || (s->pExclusive && s->pExclusive!=f) ){
      rc = SQLITE_BUSY;
      goto done;
    }
    s->nShared++;
    f->eLock = SQLITE_LOCK_SHARED;
  }else if( eLock==SQLITE_LOCK_RESERVED ){
    if( s->pReserved && s->pReserved!=f ){
      rc = SQLITE_BUSY;
      goto done;
    }
    s->pReserved = f;
    f->eLock = SQLITE_LOCK_RESERVED;
  }else{ /* EXCLUSIVE, through PENDING */
    if( s->pPending && s->pPending!=f ){
      rc = SQLITE_BUSY;
      goto done;
    }
    s->pPending = f;
    f->eLock = SQLITE_LOCK_PENDING;
    if( s->nShared>1 ){
      rc = SQLITE_BUSY;    /* other readers: stay PENDING, retry later */
      goto done;
    }
    s->pExclusive = f;
    f->eLock = SQLITE_LOCK_EXCLUSIVE;
  }
done:
  mb_mutex_leave(&s->mu);
  return rc;
}

int mb_vfs_proc_unlock(MbFile *f, int eLock){
  MbShared *s = f->pShared;
  if( f->eLock<=eLock ) return SQLITE_OK;
  mb_mutex_enter(&s->mu);
  if( s->pExclusive==f ) s->pExclusive = 0;
  if( s->pPending==f ) s->pPending = 0;
  if( s->pReserved==f ) s->pReserved = 0;
  if( eLock==SQLITE_LOCK_NONE && f->eLock>=SQLITE_LOCK_SHARED ) s->nShared--;
  f->eLock = eLock;
  mb_mutex_leave(&s->mu);
  return SQLITE_OK;
}

int mb_vfs_proc_check_reserved(MbFile *f, int *pResOut){
  MbShared *s = f->pShared;
  int rc = SQLITE_OK;
  mb_mutex_enter(&s->mu);
  if( !s->bAnchorRO ){
    *pResOut = (s->pReserved || s->pPending || s->pExclusive);
  }else{
    /* read-only anchor: writers elsewhere are visible only to the OS */
    rc = s->pAnchor->pMethods->xCheckReservedLock(s->pAnchor, pResOut);
  }
  mb_mutex_leave(&s->mu);
  return rc;
}

/* The OS lock and the anchor go with the last connection (the MbShared is
** off the list; no one else can reach it). */
void mb_vfs_proc_release(MbShared *s){
  if( s->pAnchor ){
    if( s->eOsLock>SQLITE_LOCK_NONE ){
      s->pAnchor->pMethods->xUnlock(s->pAnchor, SQLITE_LOCK_NONE);
    }
    s->pAnchor->pMethods->xClose(s->pAnchor);
    sqlite3_free(s->pAnchor);
    s->pAnchor = 0;
  }
}

/* ------------------------------------------------ the WAL index in memory */

int mb_vfs_proc_shm_map(MbFile *f, int iRegion, int szRegion, int bExtend,
                        void volatile **pp){
  MbShared *s = f->pShared;
  int rc = SQLITE_OK;
  *pp = 0;
  mb_mutex_enter(&s->mu);
  if( !f->bShm ){
    f->bShm = 1;
    s->nShmRef++;
  }
  if( s->nRegion>0 && s->szRegion!=szRegion ){
    rc = SQLITE_IOERR_SHMSIZE;
    goto done;
  }
  s->szRegion = szRegion;
  if( iRegion>=s->nRegion ){
    char **ap;
    if( !bExtend ) goto done;
    ap = sqlite3_realloc64(s->apRegion, sizeof(char*)*(size_t)(iRegion+1));
    if( ap==0 ){ rc = SQLITE_IOERR_NOMEM; goto done; }
    s->apRegion = ap;
    while( s->nRegion<=iRegion ){
      char *p = sqlite3_malloc(szRegion);
      if( p==0 ){ rc = SQLITE_IOERR_NOMEM; goto done; }
      memset(p, 0, (size_t)szRegion);
      s->apRegion[s->nRegion++] = p;
    }
  }
  *pp = s->apRegion[iRegion];
done:
  mb_mutex_leave(&s->mu);
  return rc;
}

int mb_vfs_proc_shm_lock(MbFile *f, int ofst, int n, int flags){
  MbShared *s = f->pShared;
  int rc = SQLITE_OK, i;
  if( ofst<0 || n<1 || ofst+n>MB_SHM_NLOCK ) return SQLITE_IOERR_SHMLOCK;
  mb_mutex_enter(&s->mu);
  if( flags & SQLITE_SHM_UNLOCK ){
    for(i=ofst; i<ofst+n; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      if( f->shmShared & bit ){ s->aShmShared[i]--; f->shmShared &= (uint8_t)~bit; }
      if( f->shmExcl & bit ){ s->apShmExcl[i] = 0; f->shmExcl &= (uint8_t)~bit; }
    }
  }else if( flags & SQLITE_SHM_SHARED ){
    for(i=ofst; i<ofst+n; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      if( (f->shmShared|f->shmExcl) & bit ) continue;
      if( s->apShmExcl[i] ){ rc = SQLITE_BUSY; break; }
    }
    if( rc==SQLITE_OK ){
      for(i=ofst; i<ofst+n; i++){
        uint8_t bit = (uint8_t)(1u<<i);
        if( (f->shmShared|f->shmExcl) & bit ) continue;
        s->aShmShared[i]++;
        f->shmShared |= bit;
      }
    }
  }else{ /* EXCLUSIVE */
    for(i=ofst; i<ofst+n; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      int others = s->aShmShared[i] - ((f->shmShared & bit) ? 1 : 0);
      if( (s->apShmExcl[i] && s->apShmExcl[i]!=f) || others>0 ){
        rc = SQLITE_BUSY;
        break;
      }
    }
    if( rc==SQLITE_OK ){
      for(i=ofst; i<ofst+n; i++){
        uint8_t bit = (uint8_t)(1u<<i);
        s->apShmExcl[i] = f;
        f->shmExcl |= bit;
      }
    }
  }
  mb_mutex_leave(&s->mu);
  return rc;
}

void mb_vfs_proc_shm_barrier(MbFile *f){
  /* The mutex is a full barrier, as the unix VFS's xShmBarrier. */
  mb_mutex_enter(&f->pShared->mu);
  mb_mutex_leave(&f->pShared->mu);
}

int mb_vfs_proc_shm_unmap(MbFile *f, int deleteFlag){
  MbShared *s = f->pShared;
  (void)deleteFlag;    /* there is no -shm file to delete */
  mb_mutex_enter(&s->mu);
  if( f->bShm ){
    for(int i=0; i<MB_SHM_NLOCK; i++){
      uint8_t bit = (uint8_t)(1u<<i);
      if( f->shmShared & bit ) s->aShmShared[i]--;
      if( f->shmExcl & bit ) s->apShmExcl[i] = 0;
    }
    f->shmShared = f->shmExcl = 0;
    f->bShm = 0;
    if( --s->nShmRef==0 ){
      /* The last connection: the next one rebuilds the index from the WAL
      ** file, as after a restart. */
      for(int i=0; i<s->nRegion; i++) sqlite3_free(s->apRegion[i]);
      sqlite3_free(s->apRegion);
      s->apRegion = 0;
      s->nRegion = 0;
    }
  }
  mb_mutex_leave(&s->mu);
  return SQLITE_OK;
}
