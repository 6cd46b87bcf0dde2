/*
** mb_aggregate.c -- vectorized aggregates over one column of a membase
** table: the table-valued function membase_aggregate().
**
**   SELECT * FROM membase_aggregate('ticks', 'price');
**   SELECT sum, avg FROM membase_aggregate('ticks', 'price', 100, 199);
**   SELECT count, max FROM membase_aggregate('ticks', 'qty', ?1, ?2, 'ts');
**
** Arguments (hidden columns, in this order):
**   tab   the name of a membase table of this connection (required)
**   col   a numeric column of it (integer, float or bool; required)
**   lo    lower bound, inclusive (NULL or absent: from the first record)
**   hi    upper bound, inclusive (NULL or absent: to the last record)
**   key   what lo and hi bound: 'rowid' (the default) or the table's
**         sorted column, whose range is found by binary search
** One row, always:
**   count  INTEGER  records in the range
**   sum    the sum: INTEGER for integer columns (an error if it overflows
**          64 bits, like SQLite's sum()), REAL for float and u64 columns;
**          NULL over no records
**   min, max  of the column (INTEGER or REAL); NULL over no records
**   avg    REAL, sum/count; NULL over no records
**
** The work is a tight loop over the mapped records, reading blocks of the
** file with the core's fault-guarded copy (a file truncated underneath is
** an SQL error, never SIGBUS) and keeping four independent accumulators so
** the loop is not one long dependency chain. Sums of floats are added in a
** different order than SQLite's sum(), so the last bits may differ.
**
** It opens no file itself (it reads tables already created), but it reads
** files through them, so it is DIRECTONLY like the table: a view or
** trigger in a schema cannot use it.
*/
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_layout.h"
#include "mb_records.h"
#include "mb_aggregate.h"

/* Bytes copied per block: fits L2 with room to spare. */
#define MB_AGG_BLOCK (128*1024)

enum { AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG,
       AGG_TAB, AGG_COL, AGG_LO, AGG_HI, AGG_KEY };

typedef struct MbAggResult {
  sqlite3_int64 nCount;
  int bReal;                  /* results are REAL */
  double rSum, rMin, rMax;
  sqlite3_int64 iSum, iMin, iMax;
} MbAggResult;

typedef struct MbAggTab {
  sqlite3_vtab base;          /* base class: must be first */
  sqlite3 *db;
} MbAggTab;

typedef struct MbAggCursor {
  sqlite3_vtab_cursor base;   /* base class: must be first */
  int bEof;
  MbAggResult r;
} MbAggCursor;

static int mbAggConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
  MbAggTab *pVtab;
  int rc;
  (void)pAux; (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(count INTEGER, sum, min, max,"
      " avg REAL, tab HIDDEN, col HIDDEN, lo HIDDEN, hi HIDDEN, key HIDDEN)");
  if( rc ) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  pVtab = sqlite3_malloc64(sizeof(*pVtab));
  if( pVtab==0 ) return SQLITE_NOMEM;
  memset(pVtab, 0, sizeof(*pVtab));
  pVtab->db = db;
  *ppVtab = &pVtab->base;
  return SQLITE_OK;
}

static int mbAggDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int mbAggOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  MbAggCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static int mbAggClose(sqlite3_vtab_cursor *cur){
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* The arguments present are bits of idxNum, passed in column order. */
static int mbAggBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  int i, k, mask = 0, aIdx[5] = {-1, -1, -1, -1, -1}, nArg = 0;
  (void)pVtab;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    if( pC->iColumn<AGG_TAB || pC->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( !pC->usable ) return SQLITE_CONSTRAINT;
    aIdx[pC->iColumn - AGG_TAB] = i;
  }
  for(k=0; k<5; k++){
    if( aIdx[k]<0 ) continue;
    mask |= 1<<k;
    pInfo->aConstraintUsage[aIdx[k]].argvIndex = ++nArg;
    pInfo->aConstraintUsage[aIdx[k]].omit = 1;
  }
  pInfo->idxNum = mask;
  pInfo->estimatedCost = 1.0;
  pInfo->estimatedRows = 1;
  return SQLITE_OK;
}

/* One loop per field type: the compiler keeps it tight. Four
** accumulators break the chain of dependent additions. */
#define MB_AGG_LOOP(T, LOAD, ACC, CONV)                                     \
  for(k=0; k<n; k++){                                                      \
    T v; LOAD;                                                             \
    ACC[k&3] += CONV(v);                                                   \
    if( v<vMin ) vMin = v;                                                 \
    if( v>vMax ) vMax = v;                                                 \
  }

static uint16_t aggSwap16(uint16_t v){ return (uint16_t)((v>>8)|(v<<8)); }
static uint32_t aggSwap32(uint32_t v){
  return (v>>24) | ((v>>8)&0xff00u) | ((v<<8)&0xff0000u) | (v<<24);
}
static uint64_t aggSwap64(uint64_t v){
  return ((uint64_t)aggSwap32((uint32_t)v)<<32) | aggSwap32((uint32_t)(v>>32));
}

/* Read one field as int64 (integer types other than u64). */
static int64_t aggInt(const unsigned char *p, int eType, int bBig){
  switch( eType ){
    case MB_TYPE_I8: return (int8_t)p[0];
    case MB_TYPE_U8: case MB_TYPE_BOOL: return eType==MB_TYPE_BOOL ? p[0]!=0 : p[0];
    case MB_TYPE_I16: { uint16_t v; memcpy(&v, p, 2); if( bBig ) v = aggSwap16(v); return (int16_t)v; }
    case MB_TYPE_U16: { uint16_t v; memcpy(&v, p, 2); if( bBig ) v = aggSwap16(v); return v; }
    case MB_TYPE_I32: { uint32_t v; memcpy(&v, p, 4); if( bBig ) v = aggSwap32(v); return (int32_t)v; }
    case MB_TYPE_U32: { uint32_t v; memcpy(&v, p, 4); if( bBig ) v = aggSwap32(v); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); if( bBig ) v = aggSwap64(v); return (int64_t)v; }
  }
}

static double aggReal(const unsigned char *p, int eType, int bBig){
  if( eType==MB_TYPE_F32 ){
    uint32_t u; float f;
    memcpy(&u, p, 4);
    if( bBig ) u = aggSwap32(u);
    memcpy(&f, &u, 4);
    return (double)f;
  }else{
    uint64_t u; double d;
    memcpy(&u, p, 8);
    if( bBig ) u = aggSwap64(u);
    if( eType==MB_TYPE_U64 ) return (double)u;
    memcpy(&d, &u, 8);
    return d;
  }
}

static int mbAggCompute(const mb_records_span *s, MbAggResult *r,
                        char **pzErr){
  unsigned char *aBuf;
  uint64_t nBlock = MB_AGG_BLOCK / s->nStride, i = s->iFirst;
  int bReal = s->eType==MB_TYPE_F32 || s->eType==MB_TYPE_F64
           || s->eType==MB_TYPE_U64;
  int bFast = s->eType==MB_TYPE_F64 && !s->bBig;
  double rAcc[4] = {0, 0, 0, 0};
  sqlite3_int64 iSum = 0, iMin = INT64_MAX, iMax = INT64_MIN;
  double rMin = 0, rMax = 0;
  int bFirst = 1;
  mb_scan scan;
  memset(r, 0, sizeof(*r));
  r->bReal = bReal;
  if( s->iFirst>=s->iEnd ) return SQLITE_OK;
  if( nBlock==0 ) nBlock = 1;
  aBuf = sqlite3_malloc64((nBlock-1)*s->nStride + s->nByte);
  if( aBuf==0 ) return SQLITE_NOMEM;
  mb_scan_init(&scan, s->pMap, 0, MB_POP_DEFAULT);
  if( s->eDrop>=0 ) mb_scan_set_dropbehind(&scan, (mb_dropbehind)s->eDrop);
  while( i<s->iEnd ){
    uint64_t n = s->iEnd - i, k;
    uint64_t off = s->nHeader + i*s->nStride;
    const unsigned char *p;
    int rc;
    if( n>nBlock ) n = nBlock;
    (void)mb_scan_advance(&scan, off);
    /* copy from the field of the first record to the end of the field of
    ** the last: the guarded copy turns a truncated file into an error */
    rc = mb_map_read(s->pMap, off + s->iOff, aBuf,
                     (size_t)((n-1)*s->nStride + s->nByte));
    if( rc!=MB_OK ){
      sqlite3_free(aBuf);
      *pzErr = sqlite3_mprintf("membase_aggregate: %s: the file was "
                               "truncated while it was read (%s)", s->zFile,
                               mb_strerror(rc));
      return SQLITE_IOERR_SHORT_READ;
    }
    p = aBuf;
    if( bFast ){
      double vMin, vMax;
      memcpy(&vMin, p, 8);
      vMax = vMin;
      if( !bFirst ){ vMin = rMin; vMax = rMax; }
      MB_AGG_LOOP(double, memcpy(&v, p + k*s->nStride, 8), rAcc, (double))
      rMin = vMin; rMax = vMax;
    }else if( bReal ){
      double vMin = bFirst ? aggReal(p, s->eType, s->bBig) : rMin;
      double vMax = bFirst ? vMin : rMax;
      MB_AGG_LOOP(double, v = aggReal(p + k*s->nStride, s->eType, s->bBig),
                  rAcc, (double))
      rMin = vMin; rMax = vMax;
    }else{
      sqlite3_int64 vMin = iMin, vMax = iMax, bs = 0;
      for(k=0; k<n; k++){
        sqlite3_int64 v = aggInt(p + k*s->nStride, s->eType, s->bBig);
        if( s->eType==MB_TYPE_I64 ){
          if( __builtin_add_overflow(iSum, v, &iSum) ) goto overflow;
        }else{
          bs += v;   /* < 2^32 * 2^17 records per block: cannot overflow */
        }
        if( v<vMin ) vMin = v;
        if( v>vMax ) vMax = v;
      }
      if( __builtin_add_overflow(iSum, bs, &iSum) ) goto overflow;
      iMin = vMin; iMax = vMax;
    }
    bFirst = 0;
    i += n;
  }
  (void)mb_scan_finish(&scan, s->nHeader + i*s->nStride);
  sqlite3_free(aBuf);
  r->nCount = (sqlite3_int64)(s->iEnd - s->iFirst);
  r->rSum = (rAcc[0] + rAcc[1]) + (rAcc[2] + rAcc[3]);
  r->rMin = rMin; r->rMax = rMax;
  r->iSum = iSum; r->iMin = iMin; r->iMax = iMax;
  return SQLITE_OK;
overflow:
  sqlite3_free(aBuf);
  *pzErr = sqlite3_mprintf("membase_aggregate: integer overflow");
  return SQLITE_ERROR;
}

static int mbAggFilter(sqlite3_vtab_cursor *cur, int idxNum,
                       const char *idxStr, int argc, sqlite3_value **argv){
  MbAggCursor *pCur = (MbAggCursor*)cur;
  sqlite3_value *a[5] = {0, 0, 0, 0, 0};
  mb_records_span span;
  char *zErr = 0;
  int k, j = 0, rc;
  (void)idxStr; (void)argc;
  for(k=0; k<5; k++){
    if( idxNum & (1<<k) ) a[k] = argv[j++];
  }
  if( a[0]==0 || a[1]==0 || sqlite3_value_type(a[0])!=SQLITE_TEXT
   || sqlite3_value_type(a[1])!=SQLITE_TEXT ){
    zErr = sqlite3_mprintf("membase_aggregate: the table and column names "
                           "are required: membase_aggregate(TABLE, COLUMN"
                           " [, LO, HI [, KEY]])");
    rc = SQLITE_ERROR;
  }else{
    const char *zKey = a[4] && sqlite3_value_type(a[4])!=SQLITE_NULL
                     ? (const char*)sqlite3_value_text(a[4]) : 0;
    rc = mb_records_aggregate_prepare(((MbAggTab*)cur->pVtab)->db,
        (const char*)sqlite3_value_text(a[0]),
        (const char*)sqlite3_value_text(a[1]), zKey, a[2], a[3], &span,
        &zErr);
    if( rc==SQLITE_OK ) rc = mbAggCompute(&span, &pCur->r, &zErr);
  }
  if( rc ){
    sqlite3_free(cur->pVtab->zErrMsg);
    cur->pVtab->zErrMsg = zErr;
    return rc;
  }
  pCur->bEof = 0;
  return SQLITE_OK;
}

static int mbAggNext(sqlite3_vtab_cursor *cur){
  ((MbAggCursor*)cur)->bEof = 1;
  return SQLITE_OK;
}

static int mbAggEof(sqlite3_vtab_cursor *cur){
  return ((MbAggCursor*)cur)->bEof;
}

static int mbAggColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  const MbAggResult *r = &((MbAggCursor*)cur)->r;
  if( i==AGG_COUNT ){
    sqlite3_result_int64(ctx, r->nCount);
    return SQLITE_OK;
  }
  if( r->nCount==0 || i>AGG_AVG ) return SQLITE_OK;   /* NULL */
  switch( i ){
    case AGG_SUM:
      if( r->bReal ) sqlite3_result_double(ctx, r->rSum);
      else sqlite3_result_int64(ctx, r->iSum);
      break;
    case AGG_MIN:
      if( r->bReal ) sqlite3_result_double(ctx, r->rMin);
      else sqlite3_result_int64(ctx, r->iMin);
      break;
    case AGG_MAX:
      if( r->bReal ) sqlite3_result_double(ctx, r->rMax);
      else sqlite3_result_int64(ctx, r->iMax);
      break;
    case AGG_AVG:
      sqlite3_result_double(ctx, (r->bReal ? r->rSum : (double)r->iSum)
                                 / (double)r->nCount);
      break;
  }
  return SQLITE_OK;
}

static int mbAggRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  (void)cur;
  *pRowid = 1;
  return SQLITE_OK;
}

static const sqlite3_module mbAggModule = {
  .iVersion    = 0,
  .xCreate     = 0,               /* eponymous-only */
  .xConnect    = mbAggConnect,
  .xBestIndex  = mbAggBestIndex,
  .xDisconnect = mbAggDisconnect,
  .xDestroy    = mbAggDisconnect,
  .xOpen       = mbAggOpen,
  .xClose      = mbAggClose,
  .xFilter     = mbAggFilter,
  .xNext       = mbAggNext,
  .xEof        = mbAggEof,
  .xColumn     = mbAggColumn,
  .xRowid      = mbAggRowid,
};

int mb_aggregate_register(sqlite3 *db){
  return sqlite3_create_module(db, "membase_aggregate", &mbAggModule, 0);
}
