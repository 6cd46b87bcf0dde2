/*
** mb_aggregate.c -- vectorized aggregates over one column of a membase
** table: the table-valued function membase_aggregate().
**
**   SELECT * FROM membase_aggregate('ticks', 'price');
**   SELECT sum, avg FROM membase_aggregate('ticks', 'price', 100, 199);
**   SELECT count, max FROM membase_aggregate('ticks', 'qty', ?1, ?2, 'ts');
**   SELECT sum FROM membase_aggregate('ticks', 'price', NULL, NULL, NULL, 1);
**
** Arguments (hidden columns, in this order):
**   tab   the name of a membase table of this connection (required)
**   col   a numeric column of it (integer, float or bool; required)
**   lo    lower bound, inclusive (NULL or absent: from the first record)
**   hi    upper bound, inclusive (NULL or absent: to the last record)
**   key   what lo and hi bound: 'rowid' (the default) or the table's
**         sorted column, whose range is found by binary search
**   threads  how many threads scan the range: NULL or 0 (the default) for
**         the CPUs the process may use (its affinity mask, lowered to its
**         cgroup's CPU quota); 1 for none; at most 64 and one per 65536
**         records. A connection with uncommitted writes to the table
**         scans them with one thread.
**
** The arguments read back as their hidden columns (tab, col, lo, hi,
** key, nthreads), as a table-valued function's do; the hidden column
** `threads`, after them, says how many threads ran.
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
**   avg    REAL, sum/count over the values counted (an integer column's
**          exact sum rounded once, as SQLite 3.43 and later; 3.40 adds
**          REALs one by one: the bound below); NULL over no values
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
** Threads never change an answer: the range is cut into chunks of 65536
** records at fixed places, each chunk is added up on its own, and the
** chunks' answers are combined in record order, so 1 thread and 64 give
** the same bits. An INTEGER sum's overflow is found as SQL finds it (a
** running sum in record order that leaves 64 bits), across chunks too.
**
** The work is a tight loop per column type over the mapped records, read
** in place under the core's fault guard (a file truncated underneath is an
** SQL error, never SIGBUS); a chunk that faults is read again by guarded
** copies, which tell a truncation from a view that was growing.
**
** Interrupting. sqlite3_interrupt() stops the scan between chunks with
** SQLITE_INTERRUPT ("interrupted") where the running SQLite has
** sqlite3_is_interrupted() (3.41 and later, found at run time). On SQLite
** 3.40 a call cannot be interrupted once its scan has started: it runs to
** the end of its range (about 10 ms per GiB of records on one core when
** the file is cached), and the interrupt takes effect at the next row.
**
** It opens no file itself (it reads tables already created), but it reads
** files through them, so it is DIRECTONLY like the table: a view or
** trigger in a schema cannot use it.
*/
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_layout.h"
#include "mb_records.h"
#include "mb_codec.h"
#include "mb_aggregate.h"
#include "mb_interrupt.h"
#include "mb_threads.h"

/* 128-bit integers for exact integer totals. Aligned to 8 only: the
** structs holding them come from sqlite3_malloc, which aligns to 8. */
__extension__ typedef __int128 mb_i128 __attribute__((aligned(8)));

/* Records per chunk. The range is cut into chunks at fixed places (every
** MB_AGG_CHUNK records from its first), each chunk is added up on its own,
** and the chunks' answers are combined in record order: the float sums are
** then added in the same order whatever the number of threads, so threads
** never change a bit of the answer. */
#define MB_AGG_CHUNK ((uint64_t)1<<16)
/* Bytes copied per block when the records are copied out (the connection's
** own writes, or a chunk read again after a fault): fits L2. */
#define MB_AGG_BLOCK (128*1024)

enum { AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG,
       AGG_TAB, AGG_COL, AGG_LO, AGG_HI, AGG_KEY, AGG_NTHREADS, AGG_THREADS };
#define AGG_NARG 6

/* What one chunk of records adds up to. */
typedef struct MbAggPart {
  int64_t nCount;             /* values that are not NaN */
  double rAcc[4];             /* float sums, 4 lanes (record k: lane k&3);
                              ** u64: every value as REAL */
  mb_i128 iSum;               /* integers: the exact total; u64: the total
                              ** of the values before the chunk's first one
                              ** above INT64_MAX */
  int bBig;                   /* u64: a value above INT64_MAX */
  double rMin, rMax;
  int64_t iMin, iMax;
  uint64_t uMin, uMax;
} MbAggPart;

/* The answer, combined from the chunks. */
typedef struct MbAggResult {
  int eType, bBig;
  MbCol col;                  /* the field read: its kind for mb_codec */
  sqlite3_int64 nCount;
  double rSum;                /* float columns; u64: every value as REAL */
  mb_i128 iSum;               /* integer columns: the exact total; u64: up
                              ** to the first value above INT64_MAX */
  double rMin, rMax;
  sqlite3_int64 iMin, iMax;
  uint64_t uMin, uMax;
  int bOvfl;                  /* a running INTEGER sum left 64 bits */
  int bBigSeen;               /* u64: a value above INT64_MAX (SQL: REAL) */
  int bOvflError;             /* the sum is the overflow error */
  unsigned nThread;           /* threads the scan used */
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
  sqlite3_value *aArg[AGG_NARG]; /* the arguments, read back by their hidden
                              ** columns (as json_each's) */
} MbAggCursor;

static int mbAggConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
  MbAggTab *pVtab;
  int rc;
  (void)pAux; (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(count INTEGER, sum, min, max,"
      " avg REAL, tab HIDDEN, col HIDDEN, lo HIDDEN, hi HIDDEN, key HIDDEN,"
      " nthreads HIDDEN, threads HIDDEN)");
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

static void aggArgsFree(MbAggCursor *pCur){
  int k;
  for(k=0; k<AGG_NARG; k++){
    sqlite3_value_free(pCur->aArg[k]);
    pCur->aArg[k] = 0;
  }
}

static int mbAggClose(sqlite3_vtab_cursor *cur){
  MbAggCursor *pCur = (MbAggCursor*)cur;
  aggArgsFree(pCur);
  if( pCur->bSpan ) mb_records_aggregate_done(&pCur->span);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* The arguments present are bits of idxNum, passed in column order. */
static int mbAggBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  int i, k, mask = 0, aIdx[AGG_NARG], nArg = 0;
  (void)pVtab;
  for(k=0; k<AGG_NARG; k++) aIdx[k] = -1;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    if( pC->iColumn<AGG_TAB || pC->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( !pC->usable ) return SQLITE_CONSTRAINT;
    aIdx[pC->iColumn - AGG_TAB] = i;
  }
  for(k=0; k<AGG_NARG; k++){
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

/* ------------------------------------------------------------ the loops
** Each adds n records at p (stride st) to a chunk's part; k0 is the index
** of the first of them in the chunk, a multiple of 4 (blocks are), so a
** record's lane is the same however the chunk was read. They run inside
** the fault guard over mapped memory: they only read p and write *a.
** MB_AGG_INLINE makes each call site a loop of its own for one kind (no
** decode switch per value). */
#if defined(__GNUC__) || defined(__clang__)
# define MB_AGG_INLINE static inline __attribute__((always_inline))
#else
# define MB_AGG_INLINE static inline
#endif

MB_AGG_INLINE double aggLoadReal(int kind, const MbCol *c,
                                 const unsigned char *p){
  if( kind==K_F64 ){ double d; memcpy(&d, p, 8); return d; }
  if( kind==K_F32 ){ float f; memcpy(&f, p, 4); return (double)f; }
  return mbCodecReal(c, p);
}

MB_AGG_INLINE int64_t aggLoadInt(int kind, const MbCol *c,
                                 const unsigned char *p){
  switch( kind ){
    case K_I8:  return (int8_t)p[0];
    case K_U8:  return p[0];
    case K_BOOL: return p[0]!=0;
    case K_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case K_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case K_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case K_U32: { uint32_t v; memcpy(&v, p, 4); return v; }
    case K_I64: { int64_t v; memcpy(&v, p, 8); return v; }
  }
  return mbCodecInt(c, p);
}

/* Floats: NaN is NULL to SQL: not counted, not summed (adding +0.0 in its
** place changes no sum: a lane starts at +0.0 and can never be -0.0), never
** a min or max (a comparison with NaN is false). Strict comparisons keep
** the first of equal values in a lane; for 0.0 and -0.0 across lanes see
** aggZeroFix. */
MB_AGG_INLINE void aggFloatLoop(MbAggPart *a, const MbCol *c, int kind,
                                const unsigned char *p, uint64_t n,
                                uint64_t st){
  double s0 = a->rAcc[0], s1 = a->rAcc[1], s2 = a->rAcc[2], s3 = a->rAcc[3];
  double m0 = a->rMin, m1 = a->rMin, x0 = a->rMax, x1 = a->rMax;
  int64_t nNum = 0;
  uint64_t k = 0;
#define MB_AGG_F(S, M, X, i) {                                              \
    double v = aggLoadReal(kind, c, p + (k+i)*st);                          \
    int ok = v==v;                                                          \
    nNum += ok;                                                             \
    S += ok ? v : 0.0;                                                      \
    M = v<M ? v : M;                                                        \
    X = v>X ? v : X;                                                        \
  }
  for(; k+4<=n; k+=4){
    MB_AGG_F(s0, m0, x0, 0) MB_AGG_F(s1, m1, x1, 1)
    MB_AGG_F(s2, m0, x0, 2) MB_AGG_F(s3, m1, x1, 3)
  }
  if( k<n ) MB_AGG_F(s0, m0, x0, 0)
  if( k+1<n ) MB_AGG_F(s1, m1, x1, 1)
  if( k+2<n ) MB_AGG_F(s2, m0, x0, 2)
#undef MB_AGG_F
  a->rAcc[0] = s0; a->rAcc[1] = s1; a->rAcc[2] = s2; a->rAcc[3] = s3;
  /* two min and max lanes: records 0,2 mod 4 and 1,3 mod 4. Of equal
  ** values the lanes may disagree only on the sign of zero (aggZeroFix) */
  a->rMin = m1<m0 ? m1 : m0;
  a->rMax = x1>x0 ? x1 : x0;
  a->nCount += nNum;
}

/* Integer kinds other than u64, and bool: the exact total (at most 2^16
** values of 32 bits or less per chunk cannot leave 64 bits; i64 is added
** in 128 bits). */
MB_AGG_INLINE void aggIntLoop(MbAggPart *a, const MbCol *c, int kind,
                              const unsigned char *p, uint64_t n,
                              uint64_t st){
  int64_t vMin = a->iMin, vMax = a->iMax;
  uint64_t k;
  if( kind==K_I64 || (kind & K_SWAP) ){
    mb_i128 t = 0;
    for(k=0; k<n; k++){
      int64_t v = aggLoadInt(kind, c, p + k*st);
      t += v;
      vMin = v<vMin ? v : vMin;
      vMax = v>vMax ? v : vMax;
    }
    a->iSum += t;
  }else{
    int64_t t = 0;
    for(k=0; k<n; k++){
      int64_t v = aggLoadInt(kind, c, p + k*st);
      t += v;
      vMin = v<vMin ? v : vMin;
      vMax = v>vMax ? v : vMax;
    }
    a->iSum += t;
  }
  a->iMin = vMin; a->iMax = vMax;
  a->nCount += (int64_t)n;
}

/* u64: the table reads a value up to INT64_MAX as INTEGER and above as
** REAL. sum() adds INTEGERs exactly until the first REAL, then in floating
** point: the chunk keeps the total before its first such value, and every
** value as REAL (for that sum and for avg). */
static void aggU64Loop(MbAggPart *a, const MbCol *c, const unsigned char *p,
                       uint64_t n, uint64_t st){
  uint64_t vMin = a->uMin, vMax = a->uMax, k;
  for(k=0; k<n; k++){
    uint64_t u = mbCodecU64(c, p + k*st);
    a->rAcc[k&3] += (double)u;
    if( u>(uint64_t)INT64_MAX ) a->bBig = 1;
    else if( !a->bBig ) a->iSum += u;
    vMin = u<vMin ? u : vMin;
    vMax = u>vMax ? u : vMax;
  }
  a->uMin = vMin; a->uMax = vMax;
  a->nCount += (int64_t)n;
}

/* Add n records at p to a, for the column's kind. */
static void aggAdd(MbAggPart *a, const MbCol *c, const unsigned char *p,
                   uint64_t n, uint64_t st){
  switch( c->eKind ){
    case K_F64: aggFloatLoop(a, c, K_F64, p, n, st); break;
    case K_F32: aggFloatLoop(a, c, K_F32, p, n, st); break;
    case K_F64|K_SWAP: case K_F32|K_SWAP:
      aggFloatLoop(a, c, -1, p, n, st); break;
    case K_U64: case K_U64|K_SWAP: aggU64Loop(a, c, p, n, st); break;
    case K_I8:  aggIntLoop(a, c, K_I8, p, n, st); break;
    case K_U8:  aggIntLoop(a, c, K_U8, p, n, st); break;
    case K_BOOL: aggIntLoop(a, c, K_BOOL, p, n, st); break;
    case K_I16: aggIntLoop(a, c, K_I16, p, n, st); break;
    case K_U16: aggIntLoop(a, c, K_U16, p, n, st); break;
    case K_I32: aggIntLoop(a, c, K_I32, p, n, st); break;
    case K_U32: aggIntLoop(a, c, K_U32, p, n, st); break;
    case K_I64: aggIntLoop(a, c, K_I64, p, n, st); break;
    default:    aggIntLoop(a, c, K_SWAP, p, n, st); break;
  }
}

/* ------------------------------------------------------------ the scan */

/* One aggregation: the span, the chunks' answers, the workers' state. */
typedef struct MbAggJob {
  const mb_records_span *s;
  sqlite3 *db;
  MbCol col;
  int bFloat;
  uint64_t nChunk;
  MbAggPart *aPart;           /* one per chunk */
  unsigned nWorker;
  _Atomic int rc;             /* the first error: SQLite code */
  int rcOwn;                  /* the table's own read failed: its code */
  char *zOwnErr;              /* and its message (sqlite3_malloc'ed) */
  int iErrMrc;                /* its core code (for the message) */
  uint64_t iErrChunk;
} MbAggJob;

static void aggPartInit(MbAggPart *a){
  memset(a, 0, sizeof(*a));
  a->rMin = HUGE_VAL; a->rMax = -HUGE_VAL;
  a->iMin = INT64_MAX; a->iMax = INT64_MIN;
  a->uMin = UINT64_MAX; a->uMax = 0;
}

/* A visitor of the records of one chunk, block by block: k0 is the index
** in the chunk of the block's first record. */
typedef void (*aggVisit)(void *ctx, const unsigned char *p, uint64_t n,
                         uint64_t k0);

/* The first of the chunk's records equal to zero has the sign the min or
** max of the chunk must have (SQL returns the first of equal values; the
** lanes only know their own first). */
typedef struct AggZero {
  const MbAggJob *job;
  int bFound;
  double r;                   /* the first zero */
} AggZero;

static void aggZeroVisit(void *ctx, const unsigned char *p, uint64_t n,
                         uint64_t k0){
  AggZero *z = (AggZero*)ctx;
  uint64_t k, st = z->job->s->nStride;
  (void)k0;
  for(k=0; k<n && !z->bFound; k++){
    double v = mbCodecReal(&z->job->col, p + k*st);
    if( v==0.0 ){ z->bFound = 1; z->r = v; }
  }
}

typedef struct AggBlock {
  MbAggPart *a;
  const MbCol *c;
  const unsigned char *p;
  uint64_t n, st;
  aggVisit xVisit;
  void *pVisitCtx;
} AggBlock;

static void aggBlockInPlace(void *ctx){
  AggBlock *b = (AggBlock*)ctx;
  if( b->xVisit ) b->xVisit(b->pVisitCtx, b->p, b->n, 0);
  else aggAdd(b->a, b->c, b->p, b->n, b->st);
}

/* Read chunk iChunk: add it to *a (xVisit NULL) or show it to xVisit. In
** place under the fault guard when the chunk lies in the view as last
** refreshed; else, or when that faults (a truncated file, or on Windows a
** growth of the view by another connection at that instant), by guarded
** copies into aBuf, which tell the two apart. aBuf holds MB_AGG_BLOCK
** bytes or one record field, whichever is larger (aggBlockBuf). A core
** code; MB_EIO with job->zOwnErr set when the table's own read of the
** connection's writes failed (one thread reads those). */
static int aggReadChunk(MbAggJob *job, uint64_t iChunk, MbAggPart *a,
                        aggVisit xVisit, void *pVisitCtx,
                        unsigned char *aBuf, uint64_t nBlock){
  const mb_records_span *s = job->s;
  uint64_t i0 = s->iFirst + iChunk*MB_AGG_CHUNK;
  uint64_t n = s->iEnd - i0, k;
  uint64_t off, len;
  if( n>MB_AGG_CHUNK ) n = MB_AGG_CHUNK;
  off = s->nHeader + i0*s->nStride + s->iOff;
  len = (n-1)*s->nStride + s->nByte;
  if( !s->bOwn && off+len<=mb_map_size(s->pMap) ){
    AggBlock b;
    MbAggPart save;
    int mrc;
    if( a ) save = *a;
    b.a = a; b.c = &job->col; b.n = n; b.st = s->nStride;
    b.p = (const unsigned char*)mb_map_data(s->pMap) + off;
    b.xVisit = xVisit; b.pVisitCtx = pVisitCtx;
    mrc = mb_guarded_call(b.p, (size_t)len, aggBlockInPlace, &b);
    if( mrc==MB_OK ) return MB_OK;
    if( a ) *a = save;        /* abandoned mid-way: read it again */
  }
  for(k=0; k<n; k+=nBlock){
    uint64_t m = n-k < nBlock ? n-k : nBlock;
    size_t nCopy = (size_t)((m-1)*s->nStride + s->nByte);
    uint64_t o = off + k*s->nStride;
    int mrc;
    if( s->bOwn ){
      char *zErr = 0;
      int rc = mb_records_span_read(s, o, aBuf, nCopy, &zErr);
      mrc = MB_OK;
      if( rc!=SQLITE_OK ){
        /* the table's message and code are the answer's */
        if( job->zOwnErr==0 && job->rcOwn==SQLITE_OK ){
          job->zOwnErr = zErr;
          job->rcOwn = rc;
        }else{
          sqlite3_free(zErr);
        }
        mrc = MB_EIO;
      }
    }else{
      mrc = mb_map_read(s->pMap, o, aBuf, nCopy);
    }
    if( mrc!=MB_OK ) return mrc;
    if( xVisit ) xVisit(pVisitCtx, aBuf, m, k);
    else aggAdd(a, &job->col, aBuf, m, s->nStride);
  }
  return MB_OK;
}

/* A buffer for aggReadChunk's copies: *pnBlock records (a multiple of 4,
** so a record keeps its lane) of MB_AGG_BLOCK bytes or more. NULL: no
** memory. */
static unsigned char *aggBlockBuf(const mb_records_span *s, uint64_t *pnBlock){
  uint64_t nBlock = (MB_AGG_BLOCK / s->nStride) & ~(uint64_t)3;
  if( nBlock<4 ) nBlock = 4;
  *pnBlock = nBlock;
  return sqlite3_malloc64((nBlock-1)*s->nStride + s->nByte);
}

static void aggFail(MbAggJob *job, int rc, int mrc, uint64_t iChunk){
  int expected = SQLITE_OK;
  if( atomic_compare_exchange_strong(&job->rc, &expected, rc) ){
    job->iErrMrc = mrc;
    job->iErrChunk = iChunk;
  }
}

/* Worker w: chunks [w*nChunk/nWorker, (w+1)*nChunk/nWorker), in order, as
** one sequential scan (prefetch and drop-behind as the table's scans). */
static void aggWorker(void *ctx, unsigned w){
  MbAggJob *job = (MbAggJob*)ctx;
  const mb_records_span *s = job->s;
  uint64_t c0 = job->nChunk*w/job->nWorker;
  uint64_t c1 = job->nChunk*(w+1)/job->nWorker, c;
  uint64_t nBlock;
  unsigned char *aBuf;
  mb_scan scan;
  if( c0>=c1 ) return;
  aBuf = aggBlockBuf(s, &nBlock);
  if( aBuf==0 ){
    aggFail(job, SQLITE_NOMEM, MB_ENOMEM, c0);
    return;
  }
  mb_scan_init(&scan, s->pMap, 0, MB_POP_DEFAULT);
  if( s->eDrop>=0 ) mb_scan_set_dropbehind(&scan, (mb_dropbehind)s->eDrop);
  for(c=c0; c<c1; c++){
    MbAggPart *a = &job->aPart[c];
    int mrc;
    if( atomic_load(&job->rc)!=SQLITE_OK ) break;
    if( mb_interrupted(job->db) ){
      aggFail(job, SQLITE_INTERRUPT, MB_OK, c);
      break;
    }
    (void)mb_scan_advance(&scan, s->nHeader
                          + (s->iFirst + c*MB_AGG_CHUNK)*s->nStride);
    aggPartInit(a);
    mrc = aggReadChunk(job, c, a, 0, 0, aBuf, nBlock);
    if( mrc==MB_OK && job->bFloat && (a->rMin==0.0 || a->rMax==0.0) ){
      AggZero z;
      z.job = job; z.bFound = 0; z.r = 0.0;
      mrc = aggReadChunk(job, c, a, aggZeroVisit, &z, aBuf, nBlock);
      if( z.bFound && a->rMin==0.0 ) a->rMin = z.r;
      if( z.bFound && a->rMax==0.0 ) a->rMax = z.r;
    }
    if( mrc!=MB_OK ){
      aggFail(job, s->bOwn ? SQLITE_IOERR : SQLITE_IOERR_SHORT_READ, mrc, c);
      break;
    }
  }
  (void)mb_scan_finish(&scan, 0);
  sqlite3_free(aBuf);
}

/* The running sum S of the chunks before this one, then the chunk's
** values one by one: does a partial sum leave 64 bits? Only asked when
** the chunk's bound says it might. A core code. */
typedef struct AggPrefix {
  const MbAggJob *job;
  mb_i128 run;
  int bOvfl;
} AggPrefix;

static void aggPrefixVisit(void *ctx, const unsigned char *p, uint64_t n,
                           uint64_t k0){
  AggPrefix *x = (AggPrefix*)ctx;
  uint64_t k, st = x->job->s->nStride;
  (void)k0;
  for(k=0; k<n && !x->bOvfl; k++){
    x->run += mbCodecInt(&x->job->col, p + k*st);
    if( x->run>INT64_MAX || x->run<INT64_MIN ) x->bOvfl = 1;
  }
}

static int aggCombine(MbAggJob *job, MbAggResult *r){
  const mb_records_span *s = job->s;
  uint64_t c;
  int bU64 = s->eType==MB_TYPE_U64;
  for(c=0; c<job->nChunk; c++){
    const MbAggPart *a = &job->aPart[c];
    r->nCount += a->nCount;
    if( job->bFloat ){
      r->rSum += (a->rAcc[0] + a->rAcc[1]) + (a->rAcc[2] + a->rAcc[3]);
      if( a->rMin<r->rMin ) r->rMin = a->rMin;
      if( a->rMax>r->rMax ) r->rMax = a->rMax;
    }else if( bU64 ){
      r->rSum += (a->rAcc[0] + a->rAcc[1]) + (a->rAcc[2] + a->rAcc[3]);
      if( !r->bBigSeen ){
        /* the values are not negative: the running sum is highest at the
        ** chunk's first big value (or its end) */
        r->iSum += a->iSum;
        if( r->iSum>INT64_MAX ) r->bOvfl = 1;
        if( a->bBig ) r->bBigSeen = 1;
      }
      if( a->uMin<r->uMin ) r->uMin = a->uMin;
      if( a->uMax>r->uMax ) r->uMax = a->uMax;
    }else{
      if( !r->bOvfl ){
        /* |a partial sum in the chunk| <= its records * max |value| */
        mb_i128 m = a->iMax>=0 ? a->iMax : -(mb_i128)a->iMax;
        mb_i128 m2 = a->iMin>=0 ? a->iMin : -(mb_i128)a->iMin;
        mb_i128 bound = (m>m2 ? m : m2) * (mb_i128)a->nCount;
        if( r->iSum+bound>INT64_MAX || r->iSum-bound<INT64_MIN ){
          AggPrefix x;
          unsigned char *aBuf;
          uint64_t nBlock;
          int mrc;
          aBuf = aggBlockBuf(s, &nBlock);
          if( aBuf==0 ) return SQLITE_NOMEM;
          x.job = job; x.run = r->iSum; x.bOvfl = 0;
          mrc = aggReadChunk(job, c, 0, aggPrefixVisit, &x, aBuf, nBlock);
          sqlite3_free(aBuf);
          if( mrc!=MB_OK ){
            aggFail(job, SQLITE_IOERR_SHORT_READ, mrc, c);
            return SQLITE_IOERR_SHORT_READ;
          }
          if( x.bOvfl ) r->bOvfl = 1;
        }
      }
      r->iSum += a->iSum;
      if( a->iMin<r->iMin ) r->iMin = a->iMin;
      if( a->iMax>r->iMax ) r->iMax = a->iMax;
    }
  }
  return SQLITE_OK;
}

static int mbAggCompute(sqlite3 *db, const mb_records_span *s,
                        unsigned nThread, MbAggResult *r, char **pzErr){
  MbAggJob job;
  int rc;
  memset(r, 0, sizeof(*r));
  r->eType = s->eType;
  r->bBig = s->bBig;
  r->rMin = HUGE_VAL; r->rMax = -HUGE_VAL;
  r->iMin = INT64_MAX; r->iMax = INT64_MIN;
  r->uMin = UINT64_MAX; r->uMax = 0;
  r->nThread = 1;
  if( s->iFirst>=s->iEnd ) return SQLITE_OK;
  memset(&job, 0, sizeof(job));
  job.s = s;
  job.db = db;
  job.col.eType = s->eType;
  job.col.eKind = mbCodecKind(s->eType, s->bBig);
  job.col.nByte = s->nByte;
  job.col.iOff = 0;
  r->col = job.col;
  job.bFloat = s->eType==MB_TYPE_F32 || s->eType==MB_TYPE_F64;
  job.nChunk = (s->iEnd - s->iFirst + MB_AGG_CHUNK - 1) / MB_AGG_CHUNK;
  job.aPart = sqlite3_malloc64(job.nChunk*sizeof(MbAggPart));
  if( job.aPart==0 ) return SQLITE_NOMEM;
  atomic_init(&job.rc, SQLITE_OK);
  /* the connection's own writes are read through its table: one thread */
  if( s->bOwn ) nThread = 1;
  if( nThread==0 ) nThread = job.nChunk>1 ? mb_threads_default() : 1;
  if( nThread>job.nChunk ) nThread = (unsigned)job.nChunk;
  if( nThread>MB_MAX_THREADS ) nThread = MB_MAX_THREADS;
  job.nWorker = nThread;
  r->nThread = nThread>1 ? mb_parallel_run(nThread, aggWorker, &job) : 1;
  if( nThread<=1 ) aggWorker(&job, 0);
  rc = atomic_load(&job.rc);
  if( rc==SQLITE_OK ) rc = aggCombine(&job, r);
  sqlite3_free(job.aPart);
  if( job.zOwnErr || job.rcOwn ){
    /* reading the connection's own writes failed: the table said why */
    *pzErr = job.zOwnErr;
    return job.rcOwn;
  }
  if( rc==SQLITE_INTERRUPT ){
    *pzErr = sqlite3_mprintf("interrupted");
    return rc;
  }
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc!=SQLITE_OK ){
    *pzErr = sqlite3_mprintf("membase_aggregate: %s: the file was "
                             "truncated while it was read (%s)", s->zFile,
                             mb_strerror(job.iErrMrc));
    return rc;
  }
  /* A truncation during the scan that cut into the page holding the new
  ** end of file leaves records there reading as zeros, not faulting: the
  ** file must still hold every byte that was summed. */
  if( s->iFirst<s->nFileRows ){
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
  sqlite3_value *a[AGG_NARG] = {0, 0, 0, 0, 0, 0};
  mb_records_span span;
  sqlite3 *db = ((MbAggTab*)cur->pVtab)->db;
  char *zErr = 0;
  int k, j = 0, rc;
  unsigned nThread = 0;
  (void)idxStr; (void)argc;
  aggArgsFree(pCur);
  for(k=0; k<AGG_NARG; k++){
    if( idxNum & (1<<k) ){
      a[k] = argv[j++];
      pCur->aArg[k] = sqlite3_value_dup(a[k]);
      if( pCur->aArg[k]==0 ) return SQLITE_NOMEM;
    }
  }
  if( a[5] && sqlite3_value_type(a[5])!=SQLITE_NULL ){
    sqlite3_int64 v = sqlite3_value_int64(a[5]);
    if( sqlite3_value_type(a[5])!=SQLITE_INTEGER || v<0 ){
      int t = sqlite3_value_type(a[5]);
      zErr = sqlite3_mprintf("membase_aggregate: THREADS must be 0 or NULL "
          "(the CPUs the process may use) or a positive number of threads, "
          "not %s%s%s", t==SQLITE_TEXT ? "the text '" : t==SQLITE_FLOAT
          ? "the real " : t==SQLITE_BLOB ? "a blob" : "",
          t==SQLITE_BLOB ? "" : (const char*)sqlite3_value_text(a[5]),
          t==SQLITE_TEXT ? "'" : "");
      sqlite3_free(cur->pVtab->zErrMsg);
      cur->pVtab->zErrMsg = zErr;
      return SQLITE_ERROR;
    }
    nThread = v>MB_MAX_THREADS ? MB_MAX_THREADS : (unsigned)v;
  }
  if( a[0]==0 || a[1]==0 || sqlite3_value_type(a[0])!=SQLITE_TEXT
   || sqlite3_value_type(a[1])!=SQLITE_TEXT ){
    zErr = sqlite3_mprintf("membase_aggregate: the table and column names "
                           "are required: membase_aggregate(TABLE, COLUMN"
                           " [, LO, HI [, KEY [, THREADS]]])");
    rc = SQLITE_ERROR;
  }else{
    const char *zKey = a[4] && sqlite3_value_type(a[4])!=SQLITE_NULL
                     ? (const char*)sqlite3_value_text(a[4]) : 0;
    rc = mb_records_aggregate_prepare(db,
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
      rc = mbAggCompute(db, &span, nThread, &pCur->r, &zErr);
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
  if( i==AGG_COUNT ){
    sqlite3_result_int64(ctx, r->nCount);
    return SQLITE_OK;
  }
  if( i==AGG_THREADS ){
    sqlite3_result_int64(ctx, r->nThread);
    return SQLITE_OK;
  }
  if( i>=AGG_TAB && i<AGG_TAB+AGG_NARG ){
    const sqlite3_value *v = ((MbAggCursor*)cur)->aArg[i-AGG_TAB];
    if( v ) sqlite3_result_value(ctx, (sqlite3_value*)v);
    return SQLITE_OK;
  }
  if( r->nCount==0 || i>AGG_AVG ) return SQLITE_OK;   /* NULL */
  /* a NaN passed to sqlite3_result_double is NULL, as in sum() */
  switch( i ){
    case AGG_SUM:
      if( r->bOvflError ){
        sqlite3_result_error(ctx, "membase_aggregate: integer overflow", -1);
      }else if( bFloat || r->bBigSeen ){
        sqlite3_result_double(ctx, r->rSum);
      }else{
        sqlite3_result_int64(ctx, (sqlite3_int64)r->iSum);
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
      /* the exact integer total, rounded once; REAL sums as summed */
      sqlite3_result_double(ctx,
          (bFloat || bU64 ? r->rSum : (double)r->iSum) / (double)r->nCount);
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
