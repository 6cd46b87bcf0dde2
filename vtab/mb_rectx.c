/*
** mb_rectx.c -- how a membase table is written: pending appends, the
** writer token and file lock, the journal and recovery, the undo log,
** xUpdate, and the transaction methods.
*/
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_layout.h"
#include "mb_npy.h"
#include "mb_records.h"
#include "mb_rectab.h"
#include "mb_mutex.h"

/* Guards the writer list (below); held only for list operations. */
static mb_mutex mbWriterMu = MB_MUTEX_INIT;

/* ------------------------------------------------------------ pending */


/* Write the pending appended records into the file: grow it, copy. */
int mbFlushPending(MbRecTab *p){
  uint64_t nOld, nNew;
  int rc, mrc;
  if( p->nPend==0 ) return SQLITE_OK;
  if( !p->bJournal ){
    rc = mbWriteJournal(p);
    if( rc ) return rc;
  }
  nOld = p->nHeader + p->nRows*p->nStride;
  nNew = nOld + p->nPend*p->nStride;
  /* a .npy file may carry records of a dead writer past the shape */
  mrc = mbMapResize(p->pMap, nNew);
  if( mrc!=MB_OK ){
    /* The file may have grown before the view failed to follow (mmap
    ** refused): nRows does not count those records, so a rollback would
    ** not cut them. Put the length back now. */
    (void)mbMapResize(p->pMap, nOld);
    return mb_vtab_error(&p->base, mb_sqlite_rc(mrc, SQLITE_IOERR_WRITE),
                    "membase: %s: cannot grow the file to %llu bytes: %s",
                    p->zFile, (unsigned long long)nNew, mb_strerror(mrc));
  }
  mrc = mb_map_write(p->pMap, nOld, p->aPend, (size_t)(nNew-nOld));
  if( mrc!=MB_OK ){
    (void)mbMapResize(p->pMap, nOld);   /* as above */
    return mb_vtab_error(&p->base, SQLITE_IOERR_WRITE, "membase: %s: cannot write the "
                    "appended records: %s", p->zFile, mb_strerror(mrc));
  }
  if( !p->bDirty || nOld<p->iDirtyLo ) p->iDirtyLo = nOld;
  if( !p->bDirty || nNew>p->iDirtyHi ) p->iDirtyHi = nNew;
  p->bDirty = 1;
  p->nRows += p->nPend;
  p->nPend = 0;
  p->nMapSize = mb_map_size(p->pMap);
  return SQLITE_OK;
}


/* ------------------------------------------------------------ writes */

/* Writers of one file in this process take turns on a token; across
** processes on the file's advisory lock. */
typedef struct MbWriter {
  struct MbWriter *pNext;
  mb_map *pMap;
  MbRecTab *pOwner;
} MbWriter;
static MbWriter *mbWriters;   /* guarded by mbWriterMu */

/* Take the token: 1 taken, 0 held by another table. */
int mbTokenTry(MbRecTab *p){
  MbWriter *w;
  int bGot = 0;
  mb_mutex_enter(&mbWriterMu);
  for(w=mbWriters; w && w->pMap!=p->pMap; w=w->pNext){}
  if( w==0 ){
    w = sqlite3_malloc64(sizeof(*w));
    if( w ){
      w->pMap = p->pMap;
      w->pOwner = 0;
      w->pNext = mbWriters;
      mbWriters = w;
    }
  }
  if( w && (w->pOwner==0 || w->pOwner==p) ){
    w->pOwner = p;
    bGot = 1;
  }
  mb_mutex_leave(&mbWriterMu);
  return bGot;
}

void mbTokenRelease(MbRecTab *p){
  MbWriter **pp;
  mb_mutex_enter(&mbWriterMu);
  for(pp=&mbWriters; *pp; pp=&(*pp)->pNext){
    if( (*pp)->pMap==p->pMap && (*pp)->pOwner==p ){
      MbWriter *w = *pp;
      *pp = w->pNext;
      sqlite3_free(w);
      break;
    }
  }
  mb_mutex_leave(&mbWriterMu);
}

static char *mbJournalName(MbRecTab *p){
  return sqlite3_mprintf("%s-mbjournal", p->zFile);
}

#define MB_JOURNAL_MAGIC "MBJRNL01"

/* Record the file's length before it grows (raw files only). */
int mbWriteJournal(MbRecTab *p){
  sqlite3_vfs *pVfs;
  sqlite3_file *pF;
  char *zName;
  unsigned char a[24];
  uint64_t n = p->nHeader + p->nRows*p->nStride;
  int rc, k, flags = 0;
  if( p->bNpy ){ p->bJournal = 1; return SQLITE_OK; }
  pVfs = sqlite3_vfs_find(0);
  zName = mbJournalName(p);
  pF = sqlite3_malloc64((sqlite3_uint64)pVfs->szOsFile);
  if( zName==0 || pF==0 ){
    sqlite3_free(zName); sqlite3_free(pF);
    return SQLITE_NOMEM;
  }
  memset(pF, 0, (size_t)pVfs->szOsFile);
  memcpy(a, MB_JOURNAL_MAGIC, 8);
  for(k=0; k<8; k++){
    a[8+k] = (unsigned char)(n>>(8*k));
    a[16+k] = (unsigned char)((n ^ 0x5a5a5a5a5a5a5a5aULL)>>(8*k));
  }
  rc = pVfs->xOpen(pVfs, zName, pF, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                   |SQLITE_OPEN_SUPER_JOURNAL, &flags);
  if( rc==SQLITE_OK ){
    rc = pF->pMethods->xWrite(pF, a, 24, 0);
    if( rc==SQLITE_OK ) rc = pF->pMethods->xSync(pF, SQLITE_SYNC_NORMAL);
  }
  if( pF->pMethods ) pF->pMethods->xClose(pF);
  sqlite3_free(pF);
  /* A journal that could not be written is not left behind: nothing has
  ** grown yet, and the rollback (bJournal is 0) would not delete it. */
  if( rc ) (void)pVfs->xDelete(pVfs, zName, 0);
  sqlite3_free(zName);
  if( rc ){
    return mb_vtab_error(&p->base, rc, "membase: %s: cannot write the journal %s-"
                    "mbjournal", p->zFile, p->zFile);
  }
  p->bJournal = 1;
  return SQLITE_OK;
}

void mbDeleteJournal(MbRecTab *p){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zName = mbJournalName(p);
  if( zName ){
    (void)pVfs->xDelete(pVfs, zName, 0);
    sqlite3_free(zName);
  }
  p->bJournal = 0;
}

/* With the token and the file lock held: a journal left by a writer that
** died means the file grew by records that were never committed. */
int mbRecover(MbRecTab *p){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zName;
  int bExists = 0, rc = SQLITE_OK;
  if( p->bNpy || p->bReadonly ) return SQLITE_OK;
  zName = mbJournalName(p);
  if( zName==0 ) return SQLITE_NOMEM;
  /* READWRITE, not EXISTS: the platform VFS answers EXISTS with 0 for an
  ** empty file, and a writer killed between creating the journal and
  ** writing it leaves exactly that (tests/crash/mb_crash.c). */
  if( pVfs->xAccess(pVfs, zName, SQLITE_ACCESS_READWRITE, &bExists)==SQLITE_OK
   && bExists ){
    sqlite3_file *pF = sqlite3_malloc64((sqlite3_uint64)pVfs->szOsFile);
    unsigned char a[24];
    int flags = 0;
    if( pF==0 ){ sqlite3_free(zName); return SQLITE_NOMEM; }
    memset(pF, 0, (size_t)pVfs->szOsFile);
    memset(a, 0, sizeof(a));
    rc = pVfs->xOpen(pVfs, zName, pF, SQLITE_OPEN_READWRITE
                     |SQLITE_OPEN_SUPER_JOURNAL, &flags);
    if( rc==SQLITE_OK ) rc = pF->pMethods->xRead(pF, a, 24, 0);
    if( pF->pMethods ) pF->pMethods->xClose(pF);
    sqlite3_free(pF);
    if( rc==SQLITE_OK && memcmp(a, MB_JOURNAL_MAGIC, 8)==0 ){
      uint64_t n = 0, n2 = 0, nNow;
      int k;
      for(k=0; k<8; k++){
        n |= (uint64_t)a[8+k]<<(8*k);
        n2 |= (uint64_t)a[16+k]<<(8*k);
      }
      (void)mbMapRefresh(p->pMap);
      nNow = mb_map_size(p->pMap);
      if( (n ^ 0x5a5a5a5a5a5a5a5aULL)==n2 && n<nNow ){
        int r2 = mbMapResize(p->pMap, n);
        if( r2==MB_OK ) r2 = mb_map_flush(p->pMap, 0, 0, MB_FLUSH_SYNC);
        if( r2!=MB_OK ){
          rc = mb_vtab_error(&p->base, SQLITE_IOERR, "membase: %s: cannot roll back "
                        "an interrupted append: %s", p->zFile,
                        mb_strerror(r2));
        }
      }
    }else if( rc==SQLITE_IOERR_SHORT_READ ){
      rc = SQLITE_OK;   /* torn journal: it was written before any growth */
    }
    if( rc==SQLITE_OK ) (void)pVfs->xDelete(pVfs, zName, 0);
    p->nMapSize = (uint64_t)-1;
  }
  sqlite3_free(zName);
  return rc;
}

/* Become the writer of the file: token, then the advisory lock, then
** recovery of a dead writer's append. */
static int mbWriteLock(MbRecTab *p){
  int nWait = 0, rc;
  if( p->bWriting ) return SQLITE_OK;
  while( !mbTokenTry(p) ){
    if( nWait>=MB_BUSY_MS ){
      return mb_vtab_error(&p->base, SQLITE_BUSY, "membase: %s is being written by "
                      "another connection", p->zFile);
    }
    sqlite3_sleep(1);
    nWait++;
  }
  for(;;){
    int mrc = mb_map_lock(p->pMap, MB_LOCK_EXCLUSIVE|MB_LOCK_NOWAIT);
    if( mrc==MB_OK ) break;
    if( mrc!=MB_EBUSY || nWait>=MB_BUSY_MS ){
      mbTokenRelease(p);
      return mb_vtab_error(&p->base, SQLITE_BUSY, "membase: %s is locked by another "
                      "process%s", p->zFile,
                      mrc==MB_EBUSY ? "" : " (cannot lock)");
    }
    sqlite3_sleep(2);
    nWait += 2;
  }
  p->bWriting = 1;
  rc = mbRecover(p);
  if( rc==SQLITE_OK ) rc = mbRefresh(p);
  if( rc ){
    (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
    mbTokenRelease(p);
    p->bWriting = 0;
    return rc;
  }
  p->nTxRows = p->nRows;
  p->nUndo = 0;
  p->nSave = 0;
  p->bDirty = 0;
  p->bJournal = 0;
  /* a .npy file may hold records of a dead writer past its shape */
  if( p->bNpy && mb_map_size(p->pMap) > p->nHeader + p->nRows*p->nStride ){
    if( mbMapResize(p->pMap, p->nHeader + p->nRows*p->nStride)!=MB_OK ){
      rc = SQLITE_IOERR;
    }
    p->nMapSize = mb_map_size(p->pMap);
  }
  return rc;
}

void mbWriteUnlock(MbRecTab *p){
  if( !p->bWriting ) return;
  (void)mb_map_lock(p->pMap, MB_LOCK_UNLOCK);
  mbTokenRelease(p);
  p->bWriting = 0;
  p->nUndo = 0;
  p->nSave = 0;
  p->nPend = 0;
  p->bDirty = 0;
}

/* Log the bytes at [off, off+n) before they change. */
static int mbUndoLog(MbRecTab *p, uint64_t off, const void *pOld, uint32_t n){
  size_t need = p->nUndo + 12 + n;
  if( need>p->nUndoAlloc ){
    size_t nNew = p->nUndoAlloc ? p->nUndoAlloc*2 : 65536;
    unsigned char *a;
    while( nNew<need ) nNew *= 2;
    a = sqlite3_realloc64(p->aUndo, nNew);
    if( a==0 ) return SQLITE_NOMEM;
    p->aUndo = a;
    p->nUndoAlloc = nNew;
  }
  memcpy(p->aUndo+p->nUndo, &off, 8);
  memcpy(p->aUndo+p->nUndo+8, &n, 4);
  memcpy(p->aUndo+p->nUndo+12, pOld, n);
  p->nUndo = need;
  return SQLITE_OK;
}

/* Undo back to nUndo bytes of log and nRows records. */
static int mbRollbackTo(MbRecTab *p, size_t nUndo, uint64_t nRows){
  int rc = SQLITE_OK;
  /* entries are variable-length: walk forward to collect their starts */
  size_t *aAt = 0, nAt = 0, at;
  for(at=nUndo; at<p->nUndo; ){
    uint32_t n;
    memcpy(&n, p->aUndo+at+8, 4);
    if( (nAt & (nAt-1))==0 ){
      size_t *a = sqlite3_realloc64(aAt, sizeof(size_t)*(nAt ? nAt*2 : 1));
      if( a==0 ){ sqlite3_free(aAt); return SQLITE_NOMEM; }
      aAt = a;
    }
    aAt[nAt++] = at;
    at += 12 + n;
  }
  while( nAt>0 ){
    uint64_t off; uint32_t n;
    at = aAt[--nAt];
    memcpy(&off, p->aUndo+at, 8);
    memcpy(&n, p->aUndo+at+8, 4);
    if( off+n<=mb_map_size(p->pMap) ){
      if( mb_map_write(p->pMap, off, p->aUndo+at+12, n)!=MB_OK ){
        rc = SQLITE_IOERR_WRITE;
      }
    }
  }
  sqlite3_free(aAt);
  p->nUndo = nUndo;
  if( nRows>=p->nRows ){
    p->nPend = nRows - p->nRows;
  }else{
    int r2;
    p->nPend = 0;
    r2 = mbMapResize(p->pMap, p->nHeader + nRows*p->nStride);
    if( r2!=MB_OK ) rc = SQLITE_IOERR_TRUNCATE;
    p->nRows = nRows;
    p->nMapSize = mb_map_size(p->pMap);
  }
  if( rc ){
    mb_vtab_error(&p->base, rc, "membase: %s: cannot roll back", p->zFile);
  }
  return rc;
}


/* The sorted key of a record image. */
static int mbKeyLess(MbRecTab *p, const unsigned char *a,
                     const unsigned char *b){
  const MbCol *c = mbKeyCol(p);
  if( p->bSortedFloat ){
    double x = mbCodecReal(c, a + c->iOff), y = mbCodecReal(c, b + c->iOff);
    return !(x>=y);
  }
  return mbCodecInt(c, a + c->iOff) < mbCodecInt(c, b + c->iOff);
}

static int mbSortedViolation(MbRecTab *p, uint64_t iRow){
  return mb_vtab_error(&p->base, SQLITE_CONSTRAINT_CHECK, "membase: the value for column "
                  "\"%s\" of record %llu breaks its declared ascending order",
                  mbKeyCol(p)->zName, (unsigned long long)iRow);
}

/* Store one changed field into the mapping. mb_map_write moves a naturally
** aligned field of 1, 2, 4 or 8 bytes with one atomic store, inside the
** fault guard, so readers never see a torn value and a truncated file is
** an error, not SIGBUS. */
static int mbStoreField(MbRecTab *p, uint64_t off, const MbCol *c,
                        const unsigned char *pNew){
  int mrc = mb_map_write(p->pMap, off, pNew, c->nByte);
  if( mrc!=MB_OK ){
    return mb_vtab_error(&p->base, SQLITE_IOERR_WRITE, "membase: %s: cannot write column "
                    "\"%s\": %s", p->zFile, c->zName, mb_strerror(mrc));
  }
  return SQLITE_OK;
}

/* INSERT: append one record (to the pending buffer; written to the file
** when it fills, when a query looks, or at COMMIT). */
static int mbRecInsert(MbRecTab *p, sqlite3_value **argv,
                       sqlite_int64 *pRowid){
  uint64_t iNew = p->nRows + p->nPend;
  int i, rc;
  if( sqlite3_value_type(argv[1])!=SQLITE_NULL
   && (sqlite3_value_type(argv[1])!=SQLITE_INTEGER
       || sqlite3_value_int64(argv[1])!=(sqlite3_int64)iNew) ){
    return mb_vtab_error(&p->base, SQLITE_CONSTRAINT, "membase: INSERT into "
                    "\"%s\" with rowid %s: records are appended, the next "
                    "rowid is %llu", p->zName, sqlite3_value_text(argv[1]),
                    (unsigned long long)iNew);
  }
  if( iNew >= ((uint64_t)INT64_MAX - p->nHeader) / p->nStride ){
    return mb_vtab_error(&p->base, SQLITE_FULL, "membase: %s: the file cannot "
                         "hold more records", p->zFile);
  }
  memset(p->aRec, 0, (size_t)p->nStride);
  for(i=0; i<p->nCol; i++){
    rc = mbCodecEncode(&p->base, &p->aCol[i], argv[2+i],
                       p->aRec + p->aCol[i].iOff);
    if( rc ) return rc;
  }
  if( p->iSorted>=0 && iNew>0 ){
    /* the new key must not be smaller than the last one */
    const unsigned char *pLast;
    if( p->nPend ){
      pLast = p->aPend + (p->nPend-1)*p->nStride;
    }else{
      rc = mbRead(p, p->nHeader + (iNew-1)*p->nStride, p->aRec2,
                  (size_t)p->nRecord);
      if( rc ) return rc;
      pLast = p->aRec2;
    }
    if( mbKeyLess(p, p->aRec, pLast) ) return mbSortedViolation(p, iNew);
  }
  if( p->nPend>=p->nPendAlloc ){
    uint64_t nNew = p->nPendAlloc ? p->nPendAlloc*2 : 64;
    unsigned char *a = sqlite3_realloc64(p->aPend, nNew*p->nStride);
    if( a==0 ) return SQLITE_NOMEM;
    p->aPend = a;
    p->nPendAlloc = nNew;
  }
  memcpy(p->aPend + p->nPend*p->nStride, p->aRec, (size_t)p->nStride);
  p->nPend++;
  *pRowid = (sqlite_int64)iNew;
  if( p->nPend*p->nStride>=MB_PENDING_BYTES ) return mbFlushPending(p);
  return SQLITE_OK;
}

/* A changed sorted key of record iRow (new image aRec, at view offset off)
** must keep the order with its neighbours as they are now. aRec2 is used
** as scratch and holds the stored record again on return. */
static int mbCheckNeighbours(MbRecTab *p, uint64_t iRow, uint64_t off){
  const MbCol *c = mbKeyCol(p);
  unsigned char aNb[8];
  int rc;
  if( iRow>0 ){
    rc = mbRead(p, off - p->nStride + c->iOff, aNb, c->nByte);
    if( rc ) return rc;
    memcpy(p->aRec2 + c->iOff, aNb, c->nByte);
    if( mbKeyLess(p, p->aRec, p->aRec2) ) return mbSortedViolation(p, iRow);
  }
  if( iRow+1<p->nRows ){
    rc = mbRead(p, off + p->nStride + c->iOff, aNb, c->nByte);
    if( rc ) return rc;
    memcpy(p->aRec2 + c->iOff, aNb, c->nByte);
    if( mbKeyLess(p, p->aRec2, p->aRec) ) return mbSortedViolation(p, iRow);
  }
  return mbRead(p, off, p->aRec2, (size_t)p->nRecord);
}

/* UPDATE of one record, in place: every assigned value is checked before
** any is written; a column the statement does not assign, or assigns the
** value it reads as, keeps its bytes. */
static int mbRecUpdateInPlace(MbRecTab *p, sqlite3_value **argv){
  sqlite3_int64 iOld = sqlite3_value_int64(argv[0]);
  uint64_t off;
  int i, rc;
  if( sqlite3_value_type(argv[1])!=SQLITE_INTEGER
   || sqlite3_value_int64(argv[1])!=iOld ){
    return mb_vtab_error(&p->base, SQLITE_CONSTRAINT, "membase: cannot change "
                    "the rowid of a record in \"%s\" (it is the record index)",
                    p->zName);
  }
  if( p->nPend ){
    rc = mbFlushPending(p);
    if( rc ) return rc;
  }
  if( iOld<0 || (uint64_t)iOld>=p->nRows ){
    return mb_vtab_error(&p->base, SQLITE_CONSTRAINT, "membase: no record %lld "
                         "in \"%s\"", iOld, p->zName);
  }
  off = p->nHeader + (uint64_t)iOld*p->nStride;
  rc = mbRead(p, off, p->aRec2, (size_t)p->nRecord);
  if( rc ) return rc;
  memcpy(p->aRec, p->aRec2, (size_t)p->nRecord);
  for(i=0; i<p->nCol; i++){
    if( sqlite3_value_nochange(argv[2+i]) ) continue;
    if( mbCodecSame(&p->aCol[i], argv[2+i], p->aRec2 + p->aCol[i].iOff) ){
      continue;
    }
    rc = mbCodecEncode(&p->base, &p->aCol[i], argv[2+i],
                       p->aRec + p->aCol[i].iOff);
    if( rc ) return rc;
  }
  if( p->iSorted>=0 ){
    const MbCol *c = mbKeyCol(p);
    if( memcmp(p->aRec+c->iOff, p->aRec2+c->iOff, c->nByte)!=0 ){
      rc = mbCheckNeighbours(p, (uint64_t)iOld, off);
      if( rc ) return rc;
    }
  }
  if( memcmp(p->aRec, p->aRec2, (size_t)p->nRecord)==0 ) return SQLITE_OK;
  rc = mbUndoLog(p, off, p->aRec2, (uint32_t)p->nRecord);
  if( rc ) return rc;
  for(i=0; i<p->nCol; i++){
    const MbCol *c = &p->aCol[i];
    if( memcmp(p->aRec+c->iOff, p->aRec2+c->iOff, c->nByte)==0 ) continue;
    rc = mbStoreField(p, off + c->iOff, c, p->aRec + c->iOff);
    if( rc ) return rc;
  }
  if( !p->bDirty || off<p->iDirtyLo ) p->iDirtyLo = off;
  if( !p->bDirty || off+p->nRecord>p->iDirtyHi ) p->iDirtyHi = off+p->nRecord;
  p->bDirty = 1;
  return SQLITE_OK;
}

int mbRecUpdate(
  sqlite3_vtab *pVtab,
  int argc,
  sqlite3_value **argv,
  sqlite_int64 *pRowid
){
  MbRecTab *p = (MbRecTab*)pVtab;
  int rc;
  if( p->bReadonly ){
    return mb_vtab_error(&p->base, SQLITE_READONLY, "membase: table \"%s\" is "
                    "read-only%s", p->zName, p->bReadonlyOpt ? " (readonly=1)"
                                              : " (the file is not writable)");
  }
  if( argc==1 ){
    return mb_vtab_error(&p->base, SQLITE_CONSTRAINT, "membase: cannot DELETE "
                    "from \"%s\": a file of fixed-size records has no holes",
                    p->zName);
  }
  rc = mbWriteLock(p);
  if( rc ) return rc;
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ){
    return mbRecInsert(p, argv, pRowid);
  }
  return mbRecUpdateInPlace(p, argv);
}

int mbRecBegin(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( p->bReadonly ) return SQLITE_OK;
  return mbWriteLock(p);
}

/* COMMIT, phase one: every appended record into the file, the .npy shape,
** then the touched range flushed and the file fsynced. */
/* Flush the range this transaction wrote to the file and sync it, clamped
** to the file (a ROLLBACK TO may have cut it below the touched range).
** zWhat completes the message "cannot flush...". */
static int mbFlushDirty(MbRecTab *p, const char *zWhat){
  uint64_t nSize = mb_map_size(p->pMap);
  int mrc;
  if( p->iDirtyHi>nSize ) p->iDirtyHi = nSize;
  if( p->iDirtyLo>p->iDirtyHi ) p->iDirtyLo = p->iDirtyHi;
  mrc = mb_map_flush(p->pMap, p->iDirtyLo, p->iDirtyHi-p->iDirtyLo,
                     MB_FLUSH_SYNC);
  if( mrc!=MB_OK ){
    /* COMMIT's I/O error: a core code never reaches SQLite */
    return mb_vtab_error(&p->base, SQLITE_IOERR_FSYNC, "membase: %s: cannot "
                         "flush%s: %s", p->zFile, zWhat, mb_strerror(mrc));
  }
  return SQLITE_OK;
}

int mbRecSync(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  int rc;
  if( !p->bWriting ) return SQLITE_OK;
  rc = mbFlushPending(p);
  if( rc ) return rc;
  if( p->bDirty ){
    /* A truncation by a process that ignores the lock, while we wrote:
    ** stores into the page that holds the new end of file do not fault,
    ** they vanish. Then COMMIT must fail (and SQLite rolls back). */
    uint64_t nNow = 0, nWant = p->nHeader + p->nRows*p->nStride;
    if( p->iDirtyHi<nWant ) nWant = p->iDirtyHi;
    if( mb_map_stamp(p->pMap, &nNow, 0)==MB_OK && nNow<nWant ){
      return mb_vtab_error(&p->base, SQLITE_IOERR_WRITE, "membase: %s: the file was "
                      "truncated to %llu bytes while this transaction wrote "
                      "up to byte %llu", p->zFile, (unsigned long long)nNow,
                      (unsigned long long)nWant);
    }
  }
  if( p->bNpy && p->nRows!=p->nTxRows ){
    unsigned char *a = sqlite3_malloc64(p->nHeader);
    if( a==0 ) return SQLITE_NOMEM;
    /* flush the records before the shape that counts them */
    if( p->bDirty ){
      rc = mbFlushDirty(p, " the appended records");
      if( rc ){ sqlite3_free(a); return rc; }
    }
    rc = mbRead(p, 0, a, (size_t)p->nHeader);
    if( rc==SQLITE_OK ) rc = mbUndoLog(p, 0, a, (uint32_t)p->nHeader);
    if( rc==SQLITE_OK ){
      rc = mb_npy_rewrite(&p->npy, p->nRows, a);
      if( rc==SQLITE_FULL ){
        sqlite3_free(a);
        return mb_vtab_error(&p->base, SQLITE_FULL, "membase: %s: no room in the .npy "
                        "header for the new shape", p->zFile);
      }
    }
    if( rc==SQLITE_OK && mb_map_write(p->pMap, 0, a, (size_t)p->nHeader)!=MB_OK ){
      rc = SQLITE_IOERR_WRITE;
    }
    sqlite3_free(a);
    if( rc ) return mb_vtab_error(&p->base, rc, "membase: %s: cannot update the .npy "
                             "header", p->zFile);
    p->npy.nRows = p->nRows;
    if( !p->bDirty || p->iDirtyLo>0 ) p->iDirtyLo = 0;
    if( !p->bDirty ) p->iDirtyHi = p->nHeader;
    p->bDirty = 1;
  }
  return p->bDirty ? mbFlushDirty(p, "") : SQLITE_OK;
}

int mbRecCommit(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting ) return SQLITE_OK;
  if( p->nPend ) (void)mbRecSync(pVtab);   /* xSync was skipped */
  if( p->bJournal ) mbDeleteJournal(p);
  mbWriteUnlock(p);
  return SQLITE_OK;
}

int mbRecRollback(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  int rc;
  if( !p->bWriting ) return SQLITE_OK;
  rc = mbRollbackTo(p, 0, p->nTxRows);
  if( p->bJournal ) mbDeleteJournal(p);
  mbWriteUnlock(p);
  return rc;
}

int mbRecSavepoint(sqlite3_vtab *pVtab, int iSave){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting || iSave<0 ) return SQLITE_OK;
  if( iSave>=p->nSave ){
    MbSavepoint *a = sqlite3_realloc64(p->aSave, sizeof(MbSavepoint)*(uint64_t)(iSave+1));
    int k;
    if( a==0 ) return SQLITE_NOMEM;
    for(k=p->nSave; k<iSave; k++){
      a[k].nUndo = p->nUndo;
      a[k].nRows = p->nRows + p->nPend;
    }
    p->aSave = a;
  }
  p->aSave[iSave].nUndo = p->nUndo;
  p->aSave[iSave].nRows = p->nRows + p->nPend;
  p->nSave = iSave+1;
  return SQLITE_OK;
}

int mbRecRelease(sqlite3_vtab *pVtab, int iSave){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( iSave<0 ) iSave = 0;
  if( iSave<p->nSave ) p->nSave = iSave;
  return SQLITE_OK;
}

int mbRecRollbackTo(sqlite3_vtab *pVtab, int iSave){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting ) return SQLITE_OK;
  if( iSave<0 || iSave>=p->nSave ){
    /* -1: the savepoint that opened the transaction (SAVEPOINT without
    ** BEGIN); or one set before this table joined it: everything */
    return mbRollbackTo(p, 0, p->nTxRows);
  }
  p->nSave = iSave+1;
  return mbRollbackTo(p, p->aSave[iSave].nUndo, p->aSave[iSave].nRows);
}

