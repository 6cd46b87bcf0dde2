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
**
** One row, always. The rule is SQLite's: each column is what SQL's
** count(col), sum(col), min(col), max(col) and avg(col) give over the
** same records of the table (WHERE rowid BETWEEN lo AND hi, or WHERE key
** BETWEEN lo AND hi), with the same types:
**   count  INTEGER  the values in the range that are not NULL, as SQL's
**          count(col): the table reads a NaN float as NULL, so NaN
**          records are not counted (count(*) would count them). For
**          integer and bool columns, the records in the range.
**   sum    NULL over no values; INTEGER for integer and bool columns (the
**          error "membase_aggregate: integer overflow" if a partial sum
**          leaves 64 bits, as sum() does; only the sum column fails, count,
**          min, max and avg still answer); REAL for float columns. A u64
**          column reads as INTEGER up to 9223372036854775807 and as REAL
**          above, so its sum is INTEGER unless a value is above that, then
**          REAL, as sum() (SQLite before 3.43 reports the overflow if the
**          integers before the first such value overflow; 3.43 and later
**          only when no value is REAL: both rules are followed, by the
**          running library's version). +inf plus -inf is NaN: NULL.
**   min, max  NULL over no values; NaN skipped; INTEGER for integer and
**          bool columns, REAL for float columns; a u64 min or max is
**          INTEGER up to 9223372036854775807, REAL above. Of equal values
**          (0.0 and -0.0) the first in record order is returned.
**   avg    REAL, sum/count over the values counted; NULL over no values
**          (and when the sum is NaN). It never fails: after an integer
**          overflow it is the REAL sum over count, as SQL's avg().
**
** Exactness. count, min, max, the INTEGER sums and the overflow error
** are exactly SQL's. Float sums (the sum of float columns, the REAL sum of
** u64 columns, every avg) are added in a different order than SQLite's
** sum(), to keep four independent accumulators, so they may differ in the
** last bits: for n values x1..xn, |membase - SQL| <= 2*n*2^-53*sum(|xi|)
** (divided by count for avg). When a partial sum overflows to +-inf in
** one order and not the other, the results may differ by an infinity;
** keep values far below 1e308 to rule that out.
**
** The work is a tight loop over the mapped records, reading blocks of the
** file with the core's fault-guarded copy (a file truncated underneath is
** an SQL error, never SIGBUS).
**
** It opens no file itself (it reads tables already created), but it reads
** files through them, so it is DIRECTONLY like the table: a view or
** trigger in a schema cannot use it.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_layout.h"
#include "mb_records.h"
#include "mb_codec.h"
#include "mb_aggregate.h"

/* Bytes copied per block: fits L2 with room to spare. */
#define MB_AGG_BLOCK (128*1024)

enum { AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG,
       AGG_TAB, AGG_COL, AGG_LO, AGG_HI, AGG_KEY };

/* The running state of one aggregation, and its answer. */
typedef struct MbAggResult {
  int eType, bBig;
  MbCol col;                  /* the field read: its kind for mb_codec */
  sqlite3_int64 nCount;       /* values that are not NaN */
  double rAcc[4];             /* REAL sum: float columns, u64 columns,
                              ** integer columns after an overflow */
  double rMin, rMax;          /* float columns */
  sqlite3_int64 iSum;         /* INTEGER sum (until bOvfl) */
  sqlite3_int64 iMin, iMax;   /* integer and bool columns */
  uint64_t uMin, uMax;        /* u64 columns */
  int bOvfl;                  /* the INTEGER sum left 64 bits */
  int bBigSeen;               /* u64: a value above INT64_MAX (SQL: REAL) */
  int bOvflError;             /* the sum is the overflow error */
} MbAggResult;

typedef struct MbAggTab {
  sqlite3_vtab base;          /* base class: must be first */
  sqlite3 *db;
} MbAggTab;

typedef struct MbAggCursor {
  sqlite3_vtab_cursor base;   /* base class: must be first */
  int bEof;
  MbAggResult r;
  mb_records_span span;       /* the last one filtered: its statement's hold
                              ** on the file lasts until the cursor closes */
  int bSpan;
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
  MbAggCursor *pCur = (MbAggCursor*)cur;
  if( pCur->bSpan ) mb_records_aggregate_done(&pCur->span);
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

/* Floats: NaN is NULL to SQL, so it is skipped (not counted, not summed,
** not a min or max). Strict comparisons keep the first of equal values
** (0.0 and -0.0), as min() and max() do. Four accumulators break the
** chain of dependent additions. */
#define MB_AGG_FLOAT_LOOP(LOAD)                                             \
  for(k=0; k<n; k++){                                                      \
    double v = LOAD;                                                       \
    if( v!=v ) continue;                                                   \
    nNum++;                                                                \
    r->rAcc[k&3] += v;                                                     \
    if( v<vMin ) vMin = v;                                                 \
    if( v>vMax ) vMax = v;                                                 \
  }

static void aggBlockFloat(MbAggResult *r, const unsigned char *p,
                          uint64_t n, uint64_t nStride){
  double vMin = r->rMin, vMax = r->rMax;
  uint64_t k, nNum = 0;
  if( r->eType==MB_TYPE_F64 && !r->bBig ){
    double d;
    MB_AGG_FLOAT_LOOP((memcpy(&d, p + k*nStride, 8), d))
  }else{
    MB_AGG_FLOAT_LOOP(mbCodecReal(&r->col, p + k*nStride))
  }
  r->rMin = vMin; r->rMax = vMax;
  r->nCount += (sqlite3_int64)nNum;
}

/* Add v to the INTEGER sum as sum() does: the first partial sum that
** leaves 64 bits sets bOvfl, and from then on the sum is REAL (for avg). */
static void aggAddInt(MbAggResult *r, int64_t v){
  int64_t t;
  if( r->bOvfl ){
    r->rAcc[0] += (double)v;
  }else if( __builtin_add_overflow(r->iSum, v, &t) ){
    r->bOvfl = 1;
    r->rAcc[0] = (double)r->iSum + (double)v;
  }else{
    r->iSum = t;
  }
}

/* Integer types other than u64, and bool. */
static void aggBlockInt(MbAggResult *r, const unsigned char *p,
                        uint64_t n, uint64_t nStride){
  int64_t vMin = r->iMin, vMax = r->iMax;
  uint64_t k;
  /* Fields of 32 bits or less, n <= 2^17 of them: the block moves the sum
  ** by less than 2^49, so no partial sum can leave 64 bits while the sum
  ** is within 2^62. Else every partial sum is checked, in record order. */
  if( r->eType!=MB_TYPE_I64 && !r->bOvfl
   && r->iSum > -((int64_t)1<<62) && r->iSum < ((int64_t)1<<62)
   && n <= ((uint64_t)1<<17) ){
    int64_t bs = 0;
    for(k=0; k<n; k++){
      int64_t v = mbCodecInt(&r->col, p + k*nStride);
      bs += v;
      if( v<vMin ) vMin = v;
      if( v>vMax ) vMax = v;
    }
    r->iSum += bs;
  }else{
    for(k=0; k<n; k++){
      int64_t v = mbCodecInt(&r->col, p + k*nStride);
      aggAddInt(r, v);
      if( v<vMin ) vMin = v;
      if( v>vMax ) vMax = v;
    }
  }
  r->iMin = vMin; r->iMax = vMax;
  r->nCount += (sqlite3_int64)n;
}

/* u64: the table reads a value up to INT64_MAX as INTEGER and above as
** REAL. sum() adds INTEGERs exactly until the first REAL, then in floating
** point; the REAL sum of every value is kept for that and for avg. */
static void aggBlockU64(MbAggResult *r, const unsigned char *p,
                        uint64_t n, uint64_t nStride){
  uint64_t vMin = r->uMin, vMax = r->uMax, k;
  for(k=0; k<n; k++){
    uint64_t u = mbCodecU64(&r->col, p + k*nStride);
    r->rAcc[k&3] += (double)u;
    if( u>(uint64_t)INT64_MAX ){
      r->bBigSeen = 1;
    }else if( !r->bBigSeen && !r->bOvfl
           && __builtin_add_overflow(r->iSum, (int64_t)u, &r->iSum) ){
      r->bOvfl = 1;
    }
    if( u<vMin ) vMin = u;
    if( u>vMax ) vMax = u;
  }
  r->uMin = vMin; r->uMax = vMax;
  r->nCount += (sqlite3_int64)n;
}

static int mbAggCompute(const mb_records_span *s, MbAggResult *r,
                        char **pzErr){
  unsigned char *aBuf;
  uint64_t nBlock = MB_AGG_BLOCK / s->nStride, i = s->iFirst;
  int bFloat = s->eType==MB_TYPE_F32 || s->eType==MB_TYPE_F64;
  mb_scan scan;
  memset(r, 0, sizeof(*r));
  r->eType = s->eType;
  r->bBig = s->bBig;
  r->col.eType = s->eType;
  r->col.eKind = mbCodecKind(s->eType, s->bBig);
  r->col.nByte = s->nByte;
  r->col.iOff = 0;
  r->rMin = HUGE_VAL; r->rMax = -HUGE_VAL;
  r->iMin = INT64_MAX; r->iMax = INT64_MIN;
  r->uMin = UINT64_MAX; r->uMax = 0;
  if( s->iFirst>=s->iEnd ) return SQLITE_OK;
  if( nBlock==0 ) nBlock = 1;
  aBuf = sqlite3_malloc64((nBlock-1)*s->nStride + s->nByte);
  if( aBuf==0 ) return SQLITE_NOMEM;
  mb_scan_init(&scan, s->pMap, 0, MB_POP_DEFAULT);
  if( s->eDrop>=0 ) mb_scan_set_dropbehind(&scan, (mb_dropbehind)s->eDrop);
  while( i<s->iEnd ){
    uint64_t n = s->iEnd - i;
    uint64_t off = s->nHeader + i*s->nStride;
    int mrc;
    if( n>nBlock ) n = nBlock;
    (void)mb_scan_advance(&scan, off);
    /* copy from the field of the first record to the end of the field of
    ** the last: the guarded copy turns a truncated file into an error */
    if( s->bOwn ){
      /* this connection's own uncommitted writes count */
      int rc = mb_records_span_read(s, off + s->iOff, aBuf,
                                    (size_t)((n-1)*s->nStride + s->nByte),
                                    pzErr);
      if( rc ){
        (void)mb_scan_finish(&scan, 0);
        sqlite3_free(aBuf);
        return rc;
      }
      mrc = MB_OK;
    }else{
      mrc = mb_map_read(s->pMap, off + s->iOff, aBuf,
                        (size_t)((n-1)*s->nStride + s->nByte));
    }
    if( mrc!=MB_OK ){
      sqlite3_free(aBuf);
      *pzErr = sqlite3_mprintf("membase_aggregate: %s: the file was "
                               "truncated while it was read (%s)", s->zFile,
                               mb_strerror(mrc));
      return SQLITE_IOERR_SHORT_READ;
    }
    if( bFloat ){
      aggBlockFloat(r, aBuf, n, s->nStride);
    }else if( s->eType==MB_TYPE_U64 ){
      aggBlockU64(r, aBuf, n, s->nStride);
    }else{
      aggBlockInt(r, aBuf, n, s->nStride);
    }
    i += n;
  }
  (void)mb_scan_finish(&scan, s->nHeader + i*s->nStride);
  sqlite3_free(aBuf);
  /* A truncation during the loop that cut into the page holding the new
  ** end of file leaves records there reading as zeros, not faulting: the
  ** file must still hold every byte that was summed. */
  if( s->iEnd>s->iFirst && s->iFirst<s->nFileRows ){
    uint64_t nNow = 0, iLast = s->iEnd<s->nFileRows ? s->iEnd : s->nFileRows;
    uint64_t nRead = s->nHeader + (iLast-1)*s->nStride + s->iOff + s->nByte;
    if( mb_map_stamp(s->pMap, &nNow, 0)==MB_OK && nNow<nRead ){
      *pzErr = sqlite3_mprintf("membase_aggregate: %s: the file was "
                               "truncated while it was read (it has %llu "
                               "bytes, the range ends at byte %llu)", s->zFile,
                               (unsigned long long)nNow,
                               (unsigned long long)nRead);
      return SQLITE_IOERR_SHORT_READ;
    }
  }
  /* sum() reports an overflow of the INTEGER sum; since SQLite 3.43 a
  ** REAL value after the overflow makes the sum REAL instead */
  r->bOvflError = r->bOvfl
      && (!r->bBigSeen || sqlite3_libversion_number()<3043000);
  return SQLITE_OK;
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
    if( rc==SQLITE_OK ){
      /* the statement holds the file (against commits) to its end, as
      ** every statement on a record table does: the previous filter's
      ** hold is given back only now */
      if( pCur->bSpan ) mb_records_aggregate_done(&pCur->span);
      pCur->span = span;
      pCur->bSpan = 1;
      rc = mbAggCompute(&span, &pCur->r, &zErr);
    }
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

/* A u64 value as the table reads it: INTEGER up to INT64_MAX, else REAL. */
static void aggResultU64(sqlite3_context *ctx, uint64_t u){
  if( u>(uint64_t)INT64_MAX ) sqlite3_result_double(ctx, (double)u);
  else sqlite3_result_int64(ctx, (sqlite3_int64)u);
}

static int mbAggColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  const MbAggResult *r = &((MbAggCursor*)cur)->r;
  int bFloat = r->eType==MB_TYPE_F32 || r->eType==MB_TYPE_F64;
  int bU64 = r->eType==MB_TYPE_U64;
  double rSum = (r->rAcc[0] + r->rAcc[1]) + (r->rAcc[2] + r->rAcc[3]);
  if( i==AGG_COUNT ){
    sqlite3_result_int64(ctx, r->nCount);
    return SQLITE_OK;
  }
  if( r->nCount==0 || i>AGG_AVG ) return SQLITE_OK;   /* NULL */
  /* a NaN passed to sqlite3_result_double is NULL, as in sum() */
  switch( i ){
    case AGG_SUM:
      if( r->bOvflError ){
        sqlite3_result_error(ctx, "membase_aggregate: integer overflow", -1);
      }else if( bFloat || r->bBigSeen ){
        sqlite3_result_double(ctx, rSum);
      }else{
        sqlite3_result_int64(ctx, r->iSum);
      }
      break;
    case AGG_MIN:
      if( bFloat ) sqlite3_result_double(ctx, r->rMin);
      else if( bU64 ) aggResultU64(ctx, r->uMin);
      else sqlite3_result_int64(ctx, r->iMin);
      break;
    case AGG_MAX:
      if( bFloat ) sqlite3_result_double(ctx, r->rMax);
      else if( bU64 ) aggResultU64(ctx, r->uMax);
      else sqlite3_result_int64(ctx, r->iMax);
      break;
    case AGG_AVG:
      sqlite3_result_double(ctx,
          (bFloat || r->bOvfl || r->bBigSeen ? rSum : (double)r->iSum)
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
