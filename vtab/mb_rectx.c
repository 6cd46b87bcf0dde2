/*
** mb_rectx.c -- how a membase table is written (docs/TRANSACTIONS.md):
** the write set that holds a transaction's updates and appends until
** COMMIT, the undo log of savepoints, xUpdate, and the transaction
** methods. mb_rectab.c reads through the write set (mbReadView);
** mb_reccommit.c has the locks and takes a write set to the file.
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

/* ------------------------------------------------------------ write set */

static int mbWsGrowHash(MbRecTab *p){
  uint64_t n = p->nWsHash ? p->nWsHash*2 : 1024, m = n-1, k;
  uint64_t *a = sqlite3_malloc64(n*2*sizeof(uint64_t));
  if( a==0 ) return SQLITE_NOMEM;
  memset(a, 0, n*2*sizeof(uint64_t));
  for(k=0; k<p->nWs; k++){
    uint64_t i = mbWsHashOf(p->aWsRow[k]) & m;
    while( a[2*i] ) i = (i+1)&m;
    a[2*i] = p->aWsRow[k]+1;
    a[2*i+1] = k;
  }
  sqlite3_free(p->aWsHash);
  p->aWsHash = a;
  p->nWsHash = n;
  return SQLITE_OK;
}

/* The image of record iRow in the write set; added as a copy of pInit if
** it is not there. 0 when out of memory. */
static unsigned char *mbWsPut(MbRecTab *p, uint64_t iRow,
                              const unsigned char *pInit){
  unsigned char *pImg = mbWsFind(p, iRow);
  uint64_t i, m;
  if( pImg ) return pImg;
  if( (p->nWs+1)*2>p->nWsHash && mbWsGrowHash(p) ) return 0;
  if( p->nWs==p->nWsAlloc ){
    uint64_t n = p->nWsAlloc ? p->nWsAlloc*2 : 256;
    unsigned char *aImg = sqlite3_realloc64(p->aWsImg, n*p->nRecord);
    uint64_t *aRow;
    if( aImg==0 ) return 0;
    p->aWsImg = aImg;
    aRow = sqlite3_realloc64(p->aWsRow, n*sizeof(uint64_t));
    if( aRow==0 ) return 0;
    p->aWsRow = aRow;
    p->nWsAlloc = n;
  }
  m = p->nWsHash-1;
  for(i=mbWsHashOf(iRow)&m; p->aWsHash[2*i]; i=(i+1)&m){}
  p->aWsHash[2*i] = iRow+1;
  p->aWsHash[2*i+1] = p->nWs;
  p->aWsRow[p->nWs] = iRow;
  pImg = p->aWsImg + p->nWs*p->nRecord;
  memcpy(pImg, pInit, (size_t)p->nRecord);
  p->nWs++;
  return pImg;
}

/* Forget the transaction: write set, appends, undo log, savepoints. */
static void mbTxReset(MbRecTab *p){
  if( p->nWsHash>(1u<<16) ){
    sqlite3_free(p->aWsHash);   /* a big one: not worth clearing */
    p->aWsHash = 0;
    p->nWsHash = 0;
  }else if( p->nWs ){
    memset(p->aWsHash, 0, p->nWsHash*2*sizeof(uint64_t));
  }
  p->nWs = 0;
  p->nPend = 0;
  p->nUndo = 0;
  p->nSave = 0;
}

void mbTxFree(MbRecTab *p){
  sqlite3_free(p->aWsHash);
  sqlite3_free(p->aWsImg);
  sqlite3_free(p->aWsRow);
  sqlite3_free(p->aPend);
  sqlite3_free(p->aUndo);
  sqlite3_free(p->aSave);
}

/* Does the transaction hold writes? */
int mbTxBusy(const MbRecTab *p){
  return p->bWriting && (p->nWs || p->nPend || p->nUndo);
}

/* Become the writer (mb_reccommit.c) and start a transaction. */
static int mbWriteLockTx(MbRecTab *p){
  int rc;
  if( p->bWriting ) return SQLITE_OK;
  rc = mbWriteLock(p);
  if( rc==SQLITE_OK ) mbTxReset(p);
  return rc;
}

/* Stop being the writer: the transaction is over. */
static void mbWriteUnlockTx(MbRecTab *p){
  mbWriteUnlock(p);
  mbTxReset(p);
}

/* ------------------------------------------------------------ undo log */

/* Log record iRow as the transaction saw it (n bytes at pOld) before it
** changes, for ROLLBACK TO. */
static int mbUndoLog(MbRecTab *p, uint64_t iRow, const void *pOld, uint32_t n){
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
  memcpy(p->aUndo+p->nUndo, &iRow, 8);
  memcpy(p->aUndo+p->nUndo+8, &n, 4);
  memcpy(p->aUndo+p->nUndo+12, pOld, n);
  p->nUndo = need;
  return SQLITE_OK;
}

/* Undo back to nUndo bytes of log and nSeen records (file + appended).
** Only memory changes: the file is untouched until COMMIT. */
static int mbRollbackTo(MbRecTab *p, size_t nUndo, uint64_t nSeen){
  size_t *aAt = 0, nAt = 0, at;
  /* entries are variable-length: walk forward to collect their starts */
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
    uint64_t iRow;
    uint32_t n;
    at = aAt[--nAt];
    memcpy(&iRow, p->aUndo+at, 8);
    memcpy(&n, p->aUndo+at+8, 4);
    if( iRow<p->nRows ){
      unsigned char *pImg = mbWsFind(p, iRow);
      if( pImg ) memcpy(pImg, p->aUndo+at+12, n);
    }else if( iRow-p->nRows<p->nPend ){
      memcpy(p->aPend + (iRow-p->nRows)*p->nStride, p->aUndo+at+12, n);
    }
  }
  sqlite3_free(aAt);
  p->nUndo = nUndo;
  if( nSeen>=p->nRows && nSeen-p->nRows<p->nPend ) p->nPend = nSeen - p->nRows;
  return SQLITE_OK;
}

/* ------------------------------------------------------------ xUpdate */

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

/* INSERT: append one record to the write set. */
static int mbRecInsert(MbRecTab *p, sqlite3_value **argv,
                       sqlite_int64 *pRowid){
  uint64_t iNew = mbRowsSeen(p);
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
    rc = mbReadView(p, p->nHeader + (iNew-1)*p->nStride, p->aRec2,
                    (size_t)p->nRecord);
    if( rc ) return rc;
    if( mbKeyLess(p, p->aRec, p->aRec2) ) return mbSortedViolation(p, iNew);
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
  return SQLITE_OK;
}

/* A changed sorted key of record iRow (new image aRec) must keep the order
** with its neighbours as this transaction sees them. */
static int mbCheckNeighbours(MbRecTab *p, uint64_t iRow){
  const MbCol *c = mbKeyCol(p);
  unsigned char aNb[8], aOld[8];
  uint64_t off = p->nHeader + iRow*p->nStride;
  int rc = SQLITE_OK;
  memcpy(aOld, p->aRec2 + c->iOff, c->nByte);
  if( iRow>0 ){
    rc = mbReadView(p, off - p->nStride + c->iOff, aNb, c->nByte);
    if( rc ) return rc;
    memcpy(p->aRec2 + c->iOff, aNb, c->nByte);
    if( mbKeyLess(p, p->aRec, p->aRec2) ) rc = mbSortedViolation(p, iRow);
  }
  if( rc==SQLITE_OK && iRow+1<mbRowsSeen(p) ){
    rc = mbReadView(p, off + p->nStride + c->iOff, aNb, c->nByte);
    if( rc==SQLITE_OK ){
      memcpy(p->aRec2 + c->iOff, aNb, c->nByte);
      if( mbKeyLess(p, p->aRec2, p->aRec) ) rc = mbSortedViolation(p, iRow);
    }
  }
  memcpy(p->aRec2 + c->iOff, aOld, c->nByte);
  return rc;
}

/* UPDATE of one record, into the write set: every assigned value is
** checked before any is stored; a column the statement does not assign,
** or assigns the value it reads as, keeps its bytes. */
static int mbRecUpdateInPlace(MbRecTab *p, sqlite3_value **argv){
  sqlite3_int64 iOld = sqlite3_value_int64(argv[0]);
  uint64_t iRow;
  int i, rc;
  if( sqlite3_value_type(argv[1])!=SQLITE_INTEGER
   || sqlite3_value_int64(argv[1])!=iOld ){
    return mb_vtab_error(&p->base, SQLITE_CONSTRAINT, "membase: cannot change "
                    "the rowid of a record in \"%s\" (it is the record index)",
                    p->zName);
  }
  if( iOld<0 || (uint64_t)iOld>=mbRowsSeen(p) ){
    return mb_vtab_error(&p->base, SQLITE_CONSTRAINT, "membase: no record %lld "
                         "in \"%s\"", iOld, p->zName);
  }
  iRow = (uint64_t)iOld;
  rc = mbReadView(p, p->nHeader + iRow*p->nStride, p->aRec2, (size_t)p->nRecord);
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
      rc = mbCheckNeighbours(p, iRow);
      if( rc ) return rc;
    }
  }
  if( memcmp(p->aRec, p->aRec2, (size_t)p->nRecord)==0 ) return SQLITE_OK;
  rc = mbUndoLog(p, iRow, p->aRec2, (uint32_t)p->nRecord);
  if( rc ) return rc;
  if( iRow<p->nRows ){
    unsigned char *pImg = mbWsPut(p, iRow, p->aRec);
    if( pImg==0 ){
      p->nUndo -= 12 + (size_t)p->nRecord;
      return SQLITE_NOMEM;
    }
    memcpy(pImg, p->aRec, (size_t)p->nRecord);
  }else{
    memcpy(p->aPend + (iRow-p->nRows)*p->nStride, p->aRec, (size_t)p->nRecord);
  }
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
  rc = mbWriteLockTx(p);
  if( rc ) return rc;
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ){
    return mbRecInsert(p, argv, pRowid);
  }
  return mbRecUpdateInPlace(p, argv);
}

/* ------------------------------------------------------------ transaction */

int mbRecBegin(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( p->bReadonly ) return SQLITE_OK;
  return mbWriteLockTx(p);
}

/* COMMIT's first phase: the whole commit (mb_reccommit.c), so that its
** error is COMMIT's. */
int mbRecSync(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  int rc;
  if( !p->bWriting ) return SQLITE_OK;
  rc = mbCommit(p);
  if( rc==SQLITE_OK ) mbTxReset(p);
  return rc;
}

int mbRecCommit(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting ) return SQLITE_OK;
  if( p->nWs || p->nPend ){
    /* xSync did not run (SQLite skips it in some paths): commit now; an
    ** error can only be logged */
    int rc = mbCommit(p);
    if( rc ) sqlite3_log(rc, "%s", p->base.zErrMsg ? p->base.zErrMsg : "");
  }
  mbWriteUnlockTx(p);
  return SQLITE_OK;
}

int mbRecRollback(sqlite3_vtab *pVtab){
  MbRecTab *p = (MbRecTab*)pVtab;
  if( !p->bWriting ) return SQLITE_OK;
  mbWriteUnlockTx(p);
  return SQLITE_OK;
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
      a[k].nRows = mbRowsSeen(p);
    }
    p->aSave = a;
  }
  p->aSave[iSave].nUndo = p->nUndo;
  p->aSave[iSave].nRows = mbRowsSeen(p);
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
    return mbRollbackTo(p, 0, p->nRows);
  }
  p->nSave = iSave+1;
  return mbRollbackTo(p, p->aSave[iSave].nUndo, p->aSave[iSave].nRows);
}
