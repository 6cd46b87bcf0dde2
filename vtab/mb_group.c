/*
** mb_group.c -- grouped, multi-column, parallel aggregates over a membase
** table: the table-valued function membase_group(), a sibling of
** membase_aggregate() (vtab/mb_aggregate.c).
**
**   SELECT * FROM membase_group('ticks', 'price,qty');
**   SELECT * FROM membase_group('ticks', 'price, qty', 'sym');
**   SELECT grp AS hour, n, avg FROM membase_group('ticks', 'price', 'ts/3600');
**   SELECT * FROM membase_group('ticks', 'qty', 'side', ?1, ?2, 'ts', 4);
**
** Arguments (in this order; all after COLS may be NULL or left out):
**   TAB     the name of a membase table of this connection (required)
**   COLS    its numeric columns (integer, float or bool) to aggregate,
**           comma-separated, spaces allowed around the names: 'price,qty'
**           (required; an empty, unknown, non-numeric or repeated entry
**           is an error naming it)
**   BY      what groups the records:
**             NULL   one group: the whole range (one row per column, also
**                    over no records, as SQL without GROUP BY)
**             'COL'  one group per distinct value of column COL as the
**                    table reads it: integer, bool, u64, float or char(N).
**                    SQL's GROUP BY equality: 0.0 and -0.0 are one group,
**                    a NaN reads as NULL so the NaN records are the NULL
**                    group, a u64 above 9223372036854775807 reads as REAL
**                    (distinct u64 values that read as the same REAL are
**                    one group), char(N) text compares bytewise (BINARY)
**                    as it reads: without its trailing NUL bytes, with
**                    any NUL bytes before the last non-NUL one
**             'COL/N' one group per COL/N with SQL's integer division
**                    (truncated toward zero), COL an integer or bool
**                    column, N a positive integer: 'ts/3600' (a u64 value
**                    above 9223372036854775807 reads as REAL: REAL / N)
**   LO, HI  bounds, inclusive, of the rowid or of the sorted key (NULL:
**           unbounded), as membase_aggregate
**   KEY     what LO and HI bound: 'rowid' (the default) or the table's
**           sorted column, as membase_aggregate
**   THREADS NULL or 0: the CPUs this process may use (affinity and cgroup
**           quota; one per 65536 records at most); N: N threads (at most 64); the range
**           is never split finer than one record per thread
**   MAXMEM  bytes the group tables of all threads may use together
**           (default 1073741824, 1 GiB). A query whose groups need more
**           fails: "membase_group: TAB: the groups need more than
**           MAXMEM=... bytes (N distinct keys so far); raise MAXMEM or
**           group by fewer keys". Nothing unbounded is allocated. Each
**           thread has its own table of the keys of its part: a group
**           costs 32 bytes + 96 per value column (+ the key beyond 16
**           bytes for char(N)) and 16 bytes of hash slots, tables double
**           as they grow, and the merged table is part 0's grown; so the
**           same keys in every part cost about THREADS times as much.
**
** Columns, one row per (group, value column):
**   grp    the group's key as the table reads it (for 0.0 and -0.0, the
**          first record's; for COL/N, INTEGER; NULL for the NULL group;
**          NULL when BY is NULL)
**   col    the value column's name, as the table spells it
**   n      the records of the group, as count(*)
**   count, sum, min, max, avg: SQL's count(col), sum(col), min(col),
**          max(col), avg(col) over the group's records, with the rules
**          membase_aggregate's manual states (NaN is NULL; types; a u64
**          above 9223372036854775807 is REAL; of equal values, 0.0 and
**          -0.0, the first in record order; an INTEGER sum whose running
**          sum leaves 64 bits is the error "membase_group: integer
**          overflow" when that row's sum is read, with the same SQLite
**          version rules for u64 columns; avg never fails)
** and, hidden (name them to see them): threads (the parts the range was
** split into, one thread each) and memory (the peak bytes of the group
** tables, a table being doubled counting both its sizes). They come after
** the argument columns, so the arguments keep their places.
**
** Rows come group by group in the order of each group's first record in
** the range, the value columns in COLS order: the same order whatever the
** number of threads. So
**   SELECT * FROM membase_group('ticks', 'price,qty', 'sym')
** answers the same rows, in the same order, as
**   SELECT sym, 'price', count(*), count(price), sum(price), min(price),
**          max(price), avg(price) FROM ticks GROUP BY sym   (and 'qty')
** ordered by each sym's first rowid.
**
** Pivot: one row per group with a column per value column:
**   SELECT grp AS sym,
**          max(CASE col WHEN 'price' THEN avg END) AS avg_price,
**          max(CASE col WHEN 'qty' THEN sum END) AS total_qty
**     FROM membase_group('ticks', 'price,qty', 'sym') GROUP BY grp;
**
** Exactness. n, count, min, max, INTEGER sums, the overflow error, the
** groups and their order are exactly SQL's, and bit-identical for every
** thread count: each thread keeps, per group and integer column, the exact
** sum of its part (128 bits) and the highest and lowest running partial
** sum, so the merge (in record order) knows whether a running sum of the
** whole group ever left 64 bits, as sum() checks it. The avg of an integer
** column is the exact sum, rounded once, over count, as SQLite 3.43 and
** later compute it; SQLite 3.40 adds the values as REALs one by one, which
** differs once a running sum passes 2^53 (within the bound below), and so
** does SQL's avg after an overflow. Float sums (and
** their avg, and the REAL sum of u64 columns) are added in record order
** within a thread and the threads' partial sums in thread order: with one
** thread that is SQLite 3.40's own order; otherwise, for n values
** x1..xn of a group, |membase - SQL| <= 2*n*2^-53*sum(|xi|) (over count
** for avg), the bound membase_aggregate documents. An intermediate sum
** that overflows to +-inf in one order and not the other can differ by an
** infinity.
**
** The work is one pass over the mapped records: the range is cut into
** THREADS contiguous parts, each thread aggregates its part into its own
** hash table (open addressing on the key's bytes), reading the mapping
** in place, block by block, under the core's fault guard (a block stops
** early when its table must grow, which happens outside the guard): a
** file truncated underneath is an SQL error naming the file, never
** SIGBUS; the file's size is also checked once the scan is over. The tables are then merged in part
** order. A connection's own uncommitted writes are read too (one thread
** at a time reads them through the table). sqlite3_interrupt() stops the
** scan between blocks on SQLite 3.41 and later ("interrupted").
**
** DIRECTONLY, as membase_aggregate: a view or trigger cannot use it.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_mutex.h"
#include "mb_layout.h"
#include "mb_records.h"
#include "mb_codec.h"
#include "mb_interrupt.h"
#include "mb_threads.h"
#include "mb_group.h"

/* Bytes copied per block: fits L2 with room to spare. */
#define MB_GRP_BLOCK (128*1024)
#define MB_GRP_MAXMEM_DEFAULT ((sqlite3_int64)1 << 30)
/* Group indexes live in 32 bits of a slot. */
#define MB_GRP_MAXGROUPS 0xfffffffeu

__extension__ typedef __int128 mb_i128;

enum { G_GRP, G_COL, G_N, G_COUNT, G_SUM, G_MIN, G_MAX, G_AVG,
       G_TAB, G_COLS, G_BY, G_LO, G_HI, G_KEY, G_NTHREADS, G_MAXMEM,
       G_THREADS, G_MEMORY };
#define G_NARG 8

/* How a record's group key is read. */
enum { BY_NONE, BY_INT, BY_U64, BY_FLOAT, BY_CHAR, BY_DIV };
/* The SQL type of a numeric key. */
enum { KEY_NULL, KEY_INT, KEY_REAL };
/* How a value column is summed. */
enum { V_INT, V_U64, V_FLOAT };

typedef union MbGrpNum { double r; int64_t i; uint64_t u; } MbGrpNum;

/* One value column's running state in one group of one part. */
typedef struct MbGrpAcc {
  mb_i128 iTot;        /* integer columns: the exact sum (u64: of the
                       ** values before the first above INT64_MAX) */
  mb_i128 iHi, iLo;    /* the highest and lowest running iTot, from 0 at
                       ** the part's start (0 itself included) */
  int64_t nCount;      /* values that are not NULL (NaN) */
  double rSum;         /* float and u64 columns: the REAL sum */
  MbGrpNum mn, mx;
  int32_t bBig;        /* u64: a value above INT64_MAX (SQL: REAL) */
  int32_t bOvfl;       /* set by the merge: a running INTEGER sum of the
                       ** group, in record order, left 64 bits */
} MbGrpAcc;

/* A group in a table's arena: nKeyPad bytes of key, then this, then one
** MbGrpAcc per value column. */
typedef struct MbGrpHead {
  uint64_t nRec;       /* records: count(*) */
  MbGrpNum disp;       /* a REAL key as its first record reads it */
} MbGrpHead;

/* A numeric key: the value's bits and its SQL type. */
typedef struct MbGrpKey { uint64_t v; uint64_t eTag; } MbGrpKey;

/* One hash table: a part's, and after the merge the answer. */
typedef struct MbGrpTable {
  unsigned char *aGrp;    /* nGrp groups of szGrp bytes, insertion order */
  uint64_t nGrp, nAlloc;  /* groups used and allocated in aGrp */
  uint64_t *aSlot;        /* the hash's high 32 bits | (index+1); 0 empty */
  uint64_t nSlot;         /* a power of two, at least 2*nGrp */
  int bNoGrow;            /* inside a guarded call: a new group that needs
                          ** room stops the block (GRP_NEEDROOM) instead
                          ** of allocating */
} MbGrpTable;

/* grpFind's code for "the table must grow first" (bNoGrow). */
#define GRP_NEEDROOM (-1)

typedef struct MbGrpJob MbGrpJob;

/* One thread's part of the range and its table. */
typedef struct MbGrpWorker {
  MbGrpJob *pJob;
  MbGrpTable t;
  uint64_t iFirst, iEnd;
  int rc;
  char *zErr;
} MbGrpWorker;

/* What every thread shares. */
struct MbGrpJob {
  const mb_records_span *s;
  sqlite3 *db;
  const char *zTab;
  int nCol;
  MbCol *aCol;            /* value columns, iOff from iLoOff */
  int *aV;                /* V_* of each */
  MbCol by;               /* the BY column, iOff from iLoOff */
  int eBy;                /* BY_* */
  int64_t nDiv;           /* BY_DIV: N */
  uint32_t nKey, nKeyPad; /* key bytes, and their room in a group */
  uint64_t szGrp;         /* bytes of a group in an arena */
  uint32_t iLoOff, nRead; /* the bytes of a record read: [iLoOff, +nRead) */
  uint64_t nMaxMem;
  uint64_t nMem, nPeak;   /* group-table bytes in use, and the peak
                          ** (atomics: every thread allocates) */
  int bStop;              /* atomic: a thread failed, the others stop */
  mb_mutex mu;            /* bOwn reads go through the table one by one */
  unsigned nPart;
  MbGrpWorker aW[MB_MAX_THREADS];
};

/* ------------------------------------------------------------ memory */

/* Account n more bytes against MAXMEM: 0 when they do not fit. */
static int grpReserve(MbGrpJob *j, uint64_t n){
  uint64_t now = __atomic_add_fetch(&j->nMem, n, __ATOMIC_RELAXED);
  uint64_t pk;
  if( now>j->nMaxMem || now<n ){
    __atomic_sub_fetch(&j->nMem, n, __ATOMIC_RELAXED);
    return 0;
  }
  pk = __atomic_load_n(&j->nPeak, __ATOMIC_RELAXED);
  while( now>pk && !__atomic_compare_exchange_n(&j->nPeak, &pk, now, 1,
                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED) ){}
  return 1;
}

static void grpUnreserve(MbGrpJob *j, uint64_t n){
  __atomic_sub_fetch(&j->nMem, n, __ATOMIC_RELAXED);
}

static void grpTableFree(MbGrpJob *j, MbGrpTable *t){
  if( t->aGrp ) grpUnreserve(j, t->nAlloc*j->szGrp);
  if( t->aSlot ) grpUnreserve(j, t->nSlot*sizeof(uint64_t));
  free(t->aGrp);
  free(t->aSlot);
  memset(t, 0, sizeof(*t));
}

/* The error for a table that cannot grow: SQLITE_FULL or SQLITE_NOMEM. */
static int grpMemError(MbGrpJob *j, const MbGrpTable *t, int bNomem,
                       char **pzErr){
  if( bNomem ) return SQLITE_NOMEM;
  if( t->nGrp>=MB_GRP_MAXGROUPS ){
    *pzErr = sqlite3_mprintf("membase_group: %s: more than %u groups",
                             j->zTab, MB_GRP_MAXGROUPS);
  }else{
    *pzErr = sqlite3_mprintf("membase_group: %s: the groups need more than "
        "MAXMEM=%llu bytes (%llu distinct keys so far); raise MAXMEM or "
        "group by fewer keys", j->zTab, (unsigned long long)j->nMaxMem,
        (unsigned long long)t->nGrp);
  }
  return SQLITE_FULL;
}

/* ------------------------------------------------------------ keys */

static inline uint64_t grpMix(uint64_t h){
  h ^= h >> 33; h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

static inline uint64_t grpHash(const MbGrpJob *j, const unsigned char *pKey){
  if( j->eBy!=BY_CHAR ){
    MbGrpKey k;
    memcpy(&k, pKey, sizeof(k));
    return grpMix(k.v ^ (k.eTag * 0x9e3779b97f4a7c15ULL));
  }else if( j->nKey<=8 ){
    uint64_t w = 0;
    memcpy(&w, pKey, j->nKey);
    return grpMix(w ^ ((uint64_t)j->nKey << 56));
  }else{
    uint64_t h = j->nKey, w;
    uint32_t i = 0;
    for(; i+8<=j->nKey; i+=8){
      memcpy(&w, pKey+i, 8);
      h = grpMix(h ^ w) + i;
    }
    if( i<j->nKey ){
      w = 0;
      memcpy(&w, pKey+i, j->nKey-i);
      h = grpMix(h ^ w);
    }
    return grpMix(h);
  }
}

static inline int grpKeyEq(const MbGrpJob *j, const unsigned char *a,
                    const unsigned char *b){
  if( j->eBy==BY_CHAR ){
    if( j->nKey==8 ){   /* char(8), the usual symbol: no call */
      uint64_t x, y;
      memcpy(&x, a, 8); memcpy(&y, b, 8);
      return x==y;
    }
    return memcmp(a, b, j->nKey)==0;
  }
  return memcmp(a, b, sizeof(MbGrpKey))==0;
}

#define GRP_AT(j, t, i) ((t)->aGrp + (uint64_t)(i)*(j)->szGrp)
/* groups are szGrp bytes apart, a multiple of 16, from a malloc'ed base:
** the head and the accumulators are aligned (void* says so to the compiler) */
#define GRP_HEAD(j, g)  ((MbGrpHead*)(void*)((g) + (j)->nKeyPad))
#define GRP_ACC(j, g)   ((MbGrpAcc*)(void*)((g) + (j)->nKeyPad + sizeof(MbGrpHead)))

/* Double the slots (or make the first ones): 0 when MAXMEM or malloc
** refuses (*pbNomem tells which). */
static int grpGrowSlots(MbGrpJob *j, MbGrpTable *t, int *pbNomem){
  uint64_t nNew = t->nSlot ? t->nSlot*2 : 256, i, mask = nNew-1;
  uint64_t *aNew;
  if( !grpReserve(j, nNew*sizeof(uint64_t)) ) return 0;
  aNew = calloc((size_t)nNew, sizeof(uint64_t));
  if( aNew==0 ){
    grpUnreserve(j, nNew*sizeof(uint64_t));
    *pbNomem = 1;
    return 0;
  }
  for(i=0; i<t->nGrp; i++){
    uint64_t h = grpHash(j, GRP_AT(j, t, i)), x = h & mask;
    while( aNew[x] ) x = (x+1) & mask;
    aNew[x] = (h & ~0xffffffffULL) | (i+1);
  }
  if( t->aSlot ) grpUnreserve(j, t->nSlot*sizeof(uint64_t));
  free(t->aSlot);
  t->aSlot = aNew;
  t->nSlot = nNew;
  return 1;
}

/* Double the arena: both sizes are accounted while realloc copies. */
static int grpGrowArena(MbGrpJob *j, MbGrpTable *t, int *pbNomem){
  uint64_t nNew = t->nAlloc ? t->nAlloc*2 : 16;
  unsigned char *aNew;
  if( !grpReserve(j, nNew*j->szGrp) ) return 0;
  aNew = realloc(t->aGrp, (size_t)(nNew*j->szGrp));
  if( aNew==0 ){
    grpUnreserve(j, nNew*j->szGrp);
    *pbNomem = 1;
    return 0;
  }
  if( t->aGrp ) grpUnreserve(j, t->nAlloc*j->szGrp);
  t->aGrp = aNew;
  t->nAlloc = nNew;
  return 1;
}

/* A new group's state: no records, min above and max below everything. */
static void grpInit(const MbGrpJob *j, unsigned char *g,
                    const unsigned char *pKey, double rDisp){
  MbGrpHead *h = GRP_HEAD(j, g);
  MbGrpAcc *a = GRP_ACC(j, g);
  int c;
  memset(g, 0, (size_t)j->szGrp);
  memcpy(g, pKey, j->eBy==BY_CHAR ? j->nKey : sizeof(MbGrpKey));
  h->disp.r = rDisp;
  for(c=0; c<j->nCol; c++){
    switch( j->aV[c] ){
      case V_FLOAT: a[c].mn.r = HUGE_VAL;  a[c].mx.r = -HUGE_VAL; break;
      case V_U64:   a[c].mn.u = UINT64_MAX; a[c].mx.u = 0; break;
      default:      a[c].mn.i = INT64_MAX; a[c].mx.i = INT64_MIN; break;
    }
  }
}

static unsigned char *grpInsert(MbGrpJob *j, MbGrpTable *t,
                                const unsigned char *pKey, uint64_t h,
                                double rDisp, int *pRc, char **pzErr);

/* The group of key pKey (hash h) in t, made if new: NULL when the table
** cannot grow (the error in *pzErr, the code in *pRc). */
static inline unsigned char *grpFind(MbGrpJob *j, MbGrpTable *t,
                              const unsigned char *pKey, uint64_t h,
                              double rDisp, int *pRc, char **pzErr){
  uint64_t mask = t->nSlot-1, x = h & mask, v;
  while( (v = t->aSlot[x])!=0 ){
    if( (v>>32)==(h>>32) ){
      unsigned char *g = GRP_AT(j, t, (v & 0xffffffffu) - 1);
      if( grpKeyEq(j, g, pKey) ) return g;
    }
    x = (x+1) & mask;
  }
  return grpInsert(j, t, pKey, h, rDisp, pRc, pzErr);
}

/* A new group: make room first, then insert. */
static unsigned char *grpInsert(MbGrpJob *j, MbGrpTable *t,
                                const unsigned char *pKey, uint64_t h,
                                double rDisp, int *pRc, char **pzErr){
  uint64_t mask, x, tag = h & ~0xffffffffULL;
  unsigned char *g;
  int bNomem = 0;
  if( t->bNoGrow && (t->nGrp>=MB_GRP_MAXGROUPS || (t->nGrp+1)*2 > t->nSlot
                     || t->nGrp==t->nAlloc) ){
    *pRc = GRP_NEEDROOM;
    return 0;
  }
  if( t->nGrp>=MB_GRP_MAXGROUPS
   || ((t->nGrp+1)*2 > t->nSlot && !grpGrowSlots(j, t, &bNomem))
   || (t->nGrp==t->nAlloc && !grpGrowArena(j, t, &bNomem)) ){
    *pRc = grpMemError(j, t, bNomem, pzErr);
    return 0;
  }
  mask = t->nSlot-1;
  x = h & mask;
  while( t->aSlot[x] ) x = (x+1) & mask;
  t->aSlot[x] = tag | (t->nGrp+1);
  g = GRP_AT(j, t, t->nGrp);
  t->nGrp++;
  grpInit(j, g, pKey, rDisp);
  return g;
}

/* The group key of the BY field at p (read as the table reads it) into k;
** *pDisp the REAL it reads as, for REAL keys. */
static inline void grpKeyOf(const MbGrpJob *j, const unsigned char *p,
                            MbGrpKey *k, double *pDisp){
  switch( j->eBy ){
    case BY_NONE:
      k->v = 0; k->eTag = KEY_NULL;
      return;
    case BY_INT:
      k->v = (uint64_t)mbCodecInt(&j->by, p); k->eTag = KEY_INT;
      return;
    case BY_U64: {
      uint64_t u = mbCodecU64(&j->by, p);
      if( u>(uint64_t)INT64_MAX ){
        double d = (double)u;
        memcpy(&k->v, &d, 8); k->eTag = KEY_REAL; *pDisp = d;
      }else{
        k->v = u; k->eTag = KEY_INT;
      }
      return;
    }
    case BY_FLOAT: {
      double d = mbCodecReal(&j->by, p), z;
      if( d!=d ){ k->v = 0; k->eTag = KEY_NULL; return; }
      *pDisp = d;
      z = d==0.0 ? 0.0 : d;     /* -0.0 and 0.0: one group */
      memcpy(&k->v, &z, 8); k->eTag = KEY_REAL;
      return;
    }
    default: {  /* BY_DIV */
      if( j->by.eType==MB_TYPE_U64 ){
        uint64_t u = mbCodecU64(&j->by, p);
        if( u>(uint64_t)INT64_MAX ){
          /* the table reads it as REAL: SQL divides REALs. A whole
          ** quotient below 2^63 is, to SQL's GROUP BY, equal to the
          ** INTEGER of that value: keyed as that INTEGER, shown as the
          ** group's first record reads */
          double d = (double)u / (double)j->nDiv;
          *pDisp = d;
          if( d<9223372036854775808.0 && d==(double)(int64_t)d ){
            k->v = (uint64_t)(int64_t)d; k->eTag = KEY_INT;
          }else{
            memcpy(&k->v, &d, 8); k->eTag = KEY_REAL;
          }
          return;
        }
        k->v = (uint64_t)((int64_t)u / j->nDiv);
      }else{
        k->v = (uint64_t)(mbCodecInt(&j->by, p) / j->nDiv);
      }
      k->eTag = KEY_INT;
      return;
    }
  }
}

/* ------------------------------------------------------------ scan */

/* Add the record at p to group g. */
static inline void grpAdd(const MbGrpJob *j, unsigned char *g,
                          const unsigned char *p){
  MbGrpAcc *a = GRP_ACC(j, g);
  int c;
  GRP_HEAD(j, g)->nRec++;
  for(c=0; c<j->nCol; c++, a++){
    const MbCol *pc = &j->aCol[c];
    const unsigned char *f = p + pc->iOff;
    switch( j->aV[c] ){
      case V_FLOAT: {
        double v = mbCodecReal(pc, f);
        if( v!=v ) break;          /* NaN is NULL */
        a->nCount++;
        a->rSum += v;
        if( v<a->mn.r ) a->mn.r = v;   /* strict: the first of equals */
        if( v>a->mx.r ) a->mx.r = v;
        break;
      }
      case V_U64: {
        uint64_t u = mbCodecU64(pc, f);
        a->nCount++;
        a->rSum += (double)u;
        if( u>(uint64_t)INT64_MAX ){
          a->bBig = 1;
        }else if( !a->bBig ){
          a->iTot += (mb_i128)u;
          if( a->iTot>a->iHi ) a->iHi = a->iTot;
        }
        if( u<a->mn.u ) a->mn.u = u;
        if( u>a->mx.u ) a->mx.u = u;
        break;
      }
      default: {
        int64_t v = mbCodecInt(pc, f);
        a->nCount++;
        a->iTot += v;
        if( a->iTot>a->iHi ) a->iHi = a->iTot;
        if( a->iTot<a->iLo ) a->iLo = a->iTot;
        if( v<a->mn.i ) a->mn.i = v;
        if( v>a->mx.i ) a->mx.i = v;
        break;
      }
    }
  }
}

/* Aggregate records [*pk, n) of the block at aBuf (record k at
** k*nStride). Returns 0 when all are done; else 1 with *pk the record not
** done and *pRc set (GRP_NEEDROOM: the table must grow first). */
/* Records ahead whose hash slot is prefetched (a power of two), and the
** groups a table must have before it is worth it (below, it fits cache). */
#define GRP_AHEAD 16
#define GRP_AHEAD_MIN 16384

static int grpBlock(MbGrpJob *j, MbGrpTable *t, const unsigned char *aBuf,
                    uint64_t *pk, uint64_t n, int *pRc, char **pzErr){
  uint64_t k, nStride = j->s->nStride;
  /* the previous record's key and group: runs of one key (sorted or
  ** clustered keys, BY NULL) skip the hash table. A REAL key's group is
  ** keyed by the normalised value, so -0.0 after 0.0 also hits. */
  MbGrpKey last = {0, 0xff};
  const unsigned char *pLast = 0;
  unsigned char *gLast = 0;
  uint64_t aAhead[2*GRP_AHEAD]; /* hashes of the records ahead, by k */
  memset(aAhead, 0, sizeof(aAhead));
  for(k=*pk; k<n; k++){
    const unsigned char *p = aBuf + k*nStride;
    unsigned char *g;
    if( j->eBy==BY_CHAR ){
      const unsigned char *pKey = p + j->by.iOff;
      if( pLast && grpKeyEq(j, pKey, pLast) ){
        g = gLast;
      }else{
        g = grpFind(j, t, pKey, grpHash(j, pKey), 0.0, pRc, pzErr);
        if( g==0 ){ *pk = k; return 1; }
        pLast = pKey;
        gLast = g;
      }
    }else{
      MbGrpKey key;
      double rDisp = (double)NAN;   /* an INTEGER key shows as INTEGER unless
                            ** grpKeyOf gives the REAL it reads as */
      if( t->nGrp>GRP_AHEAD_MIN && k+GRP_AHEAD<n ){
        /* many groups: the table lives in DRAM, not cache, and each record
        ** would wait for two misses in turn (its slot, then its group).
        ** So the slot of the record GRP_AHEAD on is fetched now, and the
        ** group named by the first probe of the record GRP_AHEAD/2 on
        ** (its slot fetched GRP_AHEAD/2 records ago) */
        MbGrpKey ka;
        double rA = 0.0;
        uint64_t hA, hB, v, mask = t->nSlot-1;
        grpKeyOf(j, p + GRP_AHEAD*nStride + j->by.iOff, &ka, &rA);
        hA = grpHash(j, (const unsigned char*)&ka);
        aAhead[(k+GRP_AHEAD) & (2*GRP_AHEAD-1)] = hA;
        __builtin_prefetch(&t->aSlot[hA & mask]);
        hB = aAhead[(k+GRP_AHEAD/2) & (2*GRP_AHEAD-1)];
        v = t->aSlot[hB & mask];
        if( v && (v>>32)==(hB>>32) && (v & 0xffffffffu)<=t->nGrp ){
          const unsigned char *gB = GRP_AT(j, t, (v & 0xffffffffu) - 1);
          __builtin_prefetch(gB);
          __builtin_prefetch(gB + 64);
        }
      }
      grpKeyOf(j, p + j->by.iOff, &key, &rDisp);
      if( key.v==last.v && key.eTag==last.eTag ){
        g = gLast;
      }else{
        g = grpFind(j, t, (const unsigned char*)&key,
                    grpHash(j, (const unsigned char*)&key), rDisp, pRc, pzErr);
        if( g==0 ){ *pk = k; return 1; }
        last = key;
        gLast = g;
      }
    }
    grpAdd(j, g, p);
  }
  *pk = n;
  return 0;
}

/* A block read in place under the fault guard (mb_guarded_call): only
** reads the mapping and writes the part's table, which does not allocate
** (bNoGrow), as a guarded call must. */
typedef struct MbGrpGuarded {
  MbGrpJob *j;
  MbGrpTable *t;
  const unsigned char *p;   /* the first record's bytes read */
  uint64_t k, n;            /* records [k, n) to do; k out: the first not done */
  int rc;                   /* GRP_NEEDROOM when it stopped for room */
} MbGrpGuarded;

static void grpBlockGuarded(void *ctx){
  MbGrpGuarded *b = (MbGrpGuarded*)ctx;
  (void)grpBlock(b->j, b->t, b->p, &b->k, b->n, &b->rc, 0);
}

/* Room for one more group in t (outside the guard). */
static int grpMakeRoom(MbGrpJob *j, MbGrpTable *t, char **pzErr){
  int bNomem = 0;
  if( t->nGrp>=MB_GRP_MAXGROUPS
   || ((t->nGrp+1)*2 > t->nSlot && !grpGrowSlots(j, t, &bNomem))
   || (t->nGrp==t->nAlloc && !grpGrowArena(j, t, &bNomem)) ){
    return grpMemError(j, t, bNomem, pzErr);
  }
  return SQLITE_OK;
}

static void grpWorker(void *ctx, unsigned w){
  MbGrpJob *j = (MbGrpJob*)ctx;
  MbGrpWorker *pW = &j->aW[w];
  const mb_records_span *s = j->s;
  /* the table lives on this thread's stack while it scans: the parts'
  ** entries of aW share cache lines */
  MbGrpTable t = pW->t;
  uint64_t nBlock = MB_GRP_BLOCK / s->nStride, i = pW->iFirst, k;
  unsigned char *aBuf = 0;
  mb_scan scan;
  if( nBlock==0 ) nBlock = 1;
  if( pW->iFirst>=pW->iEnd ) return;
  /* a buffer only to copy the connection's own writes into */
  if( s->bOwn ) aBuf = malloc((size_t)((nBlock-1)*s->nStride + j->nRead));
  if( s->bOwn && aBuf==0 ){
    pW->rc = SQLITE_NOMEM;
    __atomic_store_n(&j->bStop, 1, __ATOMIC_RELAXED);
    return;
  }
  mb_scan_init(&scan, s->pMap, 0, MB_POP_DEFAULT);
  if( s->eDrop>=0 ) mb_scan_set_dropbehind(&scan, (mb_dropbehind)s->eDrop);
  while( i<pW->iEnd ){
    uint64_t n = pW->iEnd - i;
    uint64_t off = s->nHeader + i*s->nStride;
    size_t nByte;
    if( __atomic_load_n(&j->bStop, __ATOMIC_RELAXED) ) break;
    if( mb_interrupted(j->db) ){
      pW->rc = SQLITE_INTERRUPT;
      pW->zErr = sqlite3_mprintf("interrupted");
      break;
    }
    if( n>nBlock ) n = nBlock;
    nByte = (size_t)((n-1)*s->nStride + j->nRead);
    (void)mb_scan_advance(&scan, off);
    if( s->bOwn ){
      /* this connection's own uncommitted writes count: read them
      ** through the table, which is not made for several threads */
      mb_mutex_enter(&j->mu);
      pW->rc = mb_records_span_read(s, off + j->iLoOff, aBuf, nByte,
                                    &pW->zErr);
      mb_mutex_leave(&j->mu);
      if( pW->rc ) break;
      k = 0;
      if( grpBlock(j, &t, aBuf, &k, n, &pW->rc, &pW->zErr) ) break;
    }else{
      /* in place: no copy. Another user of the shared map may have
      ** shrunk the view; a cut while the block is read faults, and the
      ** guard makes that an error */
      MbGrpGuarded b;
      int mrc = MB_OK;
      b.j = j; b.t = &t; b.k = 0; b.n = n;
      if( off + j->iLoOff + nByte > mb_map_size(s->pMap) ) mrc = MB_ERANGE;
      while( mrc==MB_OK && b.k<n ){
        b.p = (const unsigned char*)mb_map_data(s->pMap) + off + j->iLoOff;
        b.rc = 0;
        t.bNoGrow = 1;
        mrc = mb_guarded_call(b.p, nByte, grpBlockGuarded, &b);
        t.bNoGrow = 0;
        if( mrc==MB_OK && b.k<n ){
          pW->rc = grpMakeRoom(j, &t, &pW->zErr);
          if( pW->rc ) break;
        }
      }
      if( pW->rc ) break;
      if( mrc!=MB_OK ){
        pW->rc = SQLITE_IOERR_SHORT_READ;
        pW->zErr = sqlite3_mprintf("membase_group: %s: the file was "
                                   "truncated while it was read (%s)",
                                   s->zFile, mb_strerror(mrc));
        break;
      }
    }
    i += n;
  }
  if( pW->rc ) __atomic_store_n(&j->bStop, 1, __ATOMIC_RELAXED);
  (void)mb_scan_finish(&scan, s->nHeader + i*s->nStride);
  free(aBuf);
  pW->t = t;
}

/* ------------------------------------------------------------ merge */

/* Would the running sum S, followed by a part whose running sums (from 0)
** reach iHi and iLo, leave 64 bits at some record? */
static int grpOverflows(mb_i128 S, mb_i128 iHi, mb_i128 iLo){
  return S+iHi > (mb_i128)INT64_MAX || S+iLo < (mb_i128)INT64_MIN;
}

/* Fold accumulator b (a later part) into a (the parts before it). */
static void grpFold(int eV, MbGrpAcc *a, const MbGrpAcc *b){
  a->nCount += b->nCount;
  a->rSum += b->rSum;
  switch( eV ){
    case V_FLOAT:
      if( b->mn.r<a->mn.r ) a->mn.r = b->mn.r;   /* strict: first wins */
      if( b->mx.r>a->mx.r ) a->mx.r = b->mx.r;
      break;
    case V_U64:
      if( b->mn.u<a->mn.u ) a->mn.u = b->mn.u;
      if( b->mx.u>a->mx.u ) a->mx.u = b->mx.u;
      /* sum() checks the INTEGERs before the first REAL only */
      if( !a->bBig ){
        if( !a->bOvfl && grpOverflows(a->iTot, b->iHi, b->iLo) ) a->bOvfl = 1;
        a->iTot += b->iTot;
      }
      if( b->bBig ) a->bBig = 1;
      break;
    default:
      if( b->mn.i<a->mn.i ) a->mn.i = b->mn.i;
      if( b->mx.i>a->mx.i ) a->mx.i = b->mx.i;
      if( !a->bOvfl && grpOverflows(a->iTot, b->iHi, b->iLo) ) a->bOvfl = 1;
      a->iTot += b->iTot;
      break;
  }
}

/* Merge the parts' tables, in part order, into part 0's: a group new to
** it is appended, so groups stay in the order of their first record. */
static int grpMerge(MbGrpJob *j, char **pzErr){
  MbGrpTable *t0 = &j->aW[0].t;
  unsigned w;
  uint64_t i;
  int c, rc = SQLITE_OK;
  /* part 0 starts at the range's start: its running sums are the sums */
  for(i=0; i<t0->nGrp; i++){
    MbGrpAcc *a = GRP_ACC(j, GRP_AT(j, t0, i));
    for(c=0; c<j->nCol; c++){
      if( j->aV[c]!=V_FLOAT && grpOverflows(0, a[c].iHi, a[c].iLo) ){
        a[c].bOvfl = 1;
      }
    }
  }
  for(w=1; w<j->nPart; w++){
    MbGrpTable *t = &j->aW[w].t;
    for(i=0; i<t->nGrp; i++){
      unsigned char *gb = GRP_AT(j, t, i), *ga;
      MbGrpAcc *a, *b = GRP_ACC(j, gb);
      ga = grpFind(j, t0, gb, grpHash(j, gb), GRP_HEAD(j, gb)->disp.r,
                   &rc, pzErr);
      if( ga==0 ) return rc;
      GRP_HEAD(j, ga)->nRec += GRP_HEAD(j, gb)->nRec;
      a = GRP_ACC(j, ga);
      for(c=0; c<j->nCol; c++) grpFold(j->aV[c], &a[c], &b[c]);
    }
    grpTableFree(j, t);
  }
  return SQLITE_OK;
}

/* Run the job over records [iFirst, iEnd) of j->s in nPart parts. */
static int grpRun(MbGrpJob *j, char **pzErr){
  const mb_records_span *s = j->s;
  uint64_t nRec = s->iEnd>s->iFirst ? s->iEnd - s->iFirst : 0;
  uint64_t q, r;
  unsigned w;
  int rc = SQLITE_OK, bNomem = 0;
  if( (uint64_t)j->nPart>nRec ) j->nPart = nRec ? (unsigned)nRec : 1;
  q = nRec / j->nPart;
  r = nRec % j->nPart;
  for(w=0; w<j->nPart; w++){
    MbGrpWorker *pW = &j->aW[w];
    pW->pJob = j;
    pW->iFirst = s->iFirst + q*w + (w<r ? w : r);
    pW->iEnd = pW->iFirst + q + (w<r ? 1 : 0);
    if( !grpGrowSlots(j, &pW->t, &bNomem)
     || !grpGrowArena(j, &pW->t, &bNomem) ){
      return grpMemError(j, &pW->t, bNomem, pzErr);
    }
  }
  if( j->eBy==BY_NONE ){
    /* one group, there even over no records (SQL without GROUP BY) */
    MbGrpKey k = {0, KEY_NULL};
    unsigned char *g = grpFind(j, &j->aW[0].t, (unsigned char*)&k,
                               grpHash(j, (unsigned char*)&k), 0.0, &rc,
                               pzErr);
    if( g==0 ) return rc;
  }
  if( nRec>0 ){
    if( j->nPart==1 ) grpWorker(j, 0);
    else (void)mb_parallel_run(j->nPart, grpWorker, j);
  }
  /* the first part's error in record order is the one reported (an
  ** interrupt or a later part's failure may have stopped the others) */
  for(w=0; w<j->nPart; w++){
    if( j->aW[w].rc ){
      rc = j->aW[w].rc;
      *pzErr = j->aW[w].zErr;
      j->aW[w].zErr = 0;
      break;
    }
  }
  for(w=0; w<j->nPart; w++){
    sqlite3_free(j->aW[w].zErr);
    j->aW[w].zErr = 0;
  }
  if( rc ) return rc;
  /* A truncation during the scan that cut into the page holding the new
  ** end of file leaves records there reading as zeros, not faulting: the
  ** file must still hold every byte that was read. */
  if( nRec>0 && s->iFirst<s->nFileRows ){
    uint64_t nNow = 0, iLast = s->iEnd<s->nFileRows ? s->iEnd : s->nFileRows;
    uint64_t nRead = s->nHeader + (iLast-1)*s->nStride + j->iLoOff + j->nRead;
    if( mb_map_stamp(s->pMap, &nNow, 0)==MB_OK && nNow<nRead ){
      *pzErr = sqlite3_mprintf("membase_group: %s: the file was "
                               "truncated while it was read (it has %llu "
                               "bytes, the range ends at byte %llu)", s->zFile,
                               (unsigned long long)nNow,
                               (unsigned long long)nRead);
      return SQLITE_IOERR_SHORT_READ;
    }
  }
  return grpMerge(j, pzErr);
}

/* ------------------------------------------------------------ vtab */

typedef struct MbGrpVtab {
  sqlite3_vtab base;          /* base class: must be first */
  sqlite3 *db;
} MbGrpVtab;

typedef struct MbGrpCursor {
  sqlite3_vtab_cursor base;   /* base class: must be first */
  MbGrpJob *pJob;             /* the answer: aW[0].t */
  char **azCol;               /* value column names */
  uint64_t iRow, nRow;
  int bOvflErr;               /* an overflow is an error (SQLite version) */
  mb_records_span span;       /* the last one filtered: its statement's hold
                              ** on the file lasts until the cursor closes */
  int bSpan;
  sqlite3_value *aArg[G_NARG]; /* the arguments, read back by their hidden
                              ** columns (as json_each's): WHERE terms on
                              ** them that SQLite checks itself then hold */
} MbGrpCursor;

static int mbGrpConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
  MbGrpVtab *pVtab;
  int rc;
  (void)pAux; (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(grp, col TEXT, n INTEGER,"
      " count INTEGER, sum, min, max, avg REAL, tab HIDDEN, cols HIDDEN,"
      " groupby HIDDEN, lo HIDDEN, hi HIDDEN, key HIDDEN, nthreads HIDDEN,"
      " maxmem HIDDEN, threads INTEGER HIDDEN, memory INTEGER HIDDEN)");
  if( rc ) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  pVtab = sqlite3_malloc64(sizeof(*pVtab));
  if( pVtab==0 ) return SQLITE_NOMEM;
  memset(pVtab, 0, sizeof(*pVtab));
  pVtab->db = db;
  *ppVtab = &pVtab->base;
  return SQLITE_OK;
}

static int mbGrpDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int mbGrpOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  MbGrpCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static void grpJobFree(MbGrpJob *j){
  unsigned w;
  if( j==0 ) return;
  for(w=0; w<MB_MAX_THREADS; w++){
    grpTableFree(j, &j->aW[w].t);
    sqlite3_free(j->aW[w].zErr);
  }
  mb_mutex_destroy(&j->mu);
  sqlite3_free(j->aCol);
  sqlite3_free(j->aV);
  sqlite3_free(j);
}

/* Forget the answer (not the span: that is the statement's). */
static void grpCursorReset(MbGrpCursor *pCur){
  int c;
  if( pCur->azCol && pCur->pJob ){
    for(c=0; c<pCur->pJob->nCol; c++) sqlite3_free(pCur->azCol[c]);
  }
  sqlite3_free(pCur->azCol);
  pCur->azCol = 0;
  grpJobFree(pCur->pJob);
  pCur->pJob = 0;
  pCur->iRow = pCur->nRow = 0;
  for(c=0; c<G_NARG; c++){
    sqlite3_value_free(pCur->aArg[c]);
    pCur->aArg[c] = 0;
  }
}

static int mbGrpClose(sqlite3_vtab_cursor *cur){
  MbGrpCursor *pCur = (MbGrpCursor*)cur;
  grpCursorReset(pCur);
  if( pCur->bSpan ) mb_records_aggregate_done(&pCur->span);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* The arguments present are bits of idxNum, passed in column order. */
static int mbGrpBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  int i, k, mask = 0, aIdx[G_NARG], nArg = 0;
  (void)pVtab;
  for(k=0; k<G_NARG; k++) aIdx[k] = -1;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    if( pC->iColumn<G_TAB || pC->iColumn>=G_TAB+G_NARG
     || pC->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( !pC->usable ) return SQLITE_CONSTRAINT;
    aIdx[pC->iColumn - G_TAB] = i;
  }
  for(k=0; k<G_NARG; k++){
    if( aIdx[k]<0 ) continue;
    mask |= 1<<k;
    pInfo->aConstraintUsage[aIdx[k]].argvIndex = ++nArg;
    pInfo->aConstraintUsage[aIdx[k]].omit = 1;
  }
  pInfo->idxNum = mask;
  pInfo->estimatedCost = 1000.0;
  pInfo->estimatedRows = 1000;
  return SQLITE_OK;
}

static int grpIsSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r' || c=='\f' || c=='\v';
}

/* z[0..n) without the spaces around it: *pn its new length. */
static const char *grpTrim(const char *z, int *pn){
  int n = *pn;
  while( n>0 && grpIsSpace(z[0]) ){ z++; n--; }
  while( n>0 && grpIsSpace(z[n-1]) ) n--;
  *pn = n;
  return z;
}

/* Resolve COLS into j->aCol / j->aV (iOff still the record's). */
static int grpParseCols(MbGrpJob *j, const mb_records_span *s,
                        const char *zCols, char **pzErr){
  const char *z = zCols;
  int nMax = 1, i;
  int *aIdx;
  for(i=0; zCols[i]; i++) nMax += zCols[i]==',';
  j->aCol = sqlite3_malloc64(sizeof(MbCol)*(uint64_t)nMax);
  j->aV = sqlite3_malloc64(sizeof(int)*(uint64_t)nMax);
  aIdx = sqlite3_malloc64(sizeof(int)*(uint64_t)nMax);
  if( j->aCol==0 || j->aV==0 || aIdx==0 ){
    sqlite3_free(aIdx);
    return SQLITE_NOMEM;
  }
  for(;;){
    const char *zEnd = strchr(z, ',');
    int n = zEnd ? (int)(zEnd - z) : (int)strlen(z), iCol, k;
    const char *zName = grpTrim(z, &n);
    char *zTok;
    MbCol col;
    if( n==0 ){
      *pzErr = sqlite3_mprintf("membase_group: COLS \"%s\" has an empty "
                               "column name", zCols);
      goto fail;
    }
    zTok = sqlite3_mprintf("%.*s", n, zName);
    if( zTok==0 ){ sqlite3_free(aIdx); return SQLITE_NOMEM; }
    iCol = mb_records_span_field(s, zTok, &col);
    if( iCol<0 ){
      *pzErr = sqlite3_mprintf("membase_group: table \"%s\" has no column "
                               "\"%s\"", j->zTab, zTok);
    }else if( col.eType>MB_TYPE_BOOL ){
      *pzErr = sqlite3_mprintf("membase_group: column \"%s\" (%s) is not "
                               "numeric", zTok, mb_type_name(col.eType));
    }else{
      for(k=0; k<j->nCol && aIdx[k]!=iCol; k++){}
      if( k<j->nCol ){
        *pzErr = sqlite3_mprintf("membase_group: column \"%s\" is listed "
                                 "twice in COLS \"%s\"", zTok, zCols);
      }
    }
    sqlite3_free(zTok);
    if( *pzErr ) goto fail;
    aIdx[j->nCol] = iCol;
    j->aV[j->nCol] = col.eType==MB_TYPE_F32 || col.eType==MB_TYPE_F64
                   ? V_FLOAT : col.eType==MB_TYPE_U64 ? V_U64 : V_INT;
    j->aCol[j->nCol++] = col;
    if( zEnd==0 ) break;
    z = zEnd + 1;
  }
  sqlite3_free(aIdx);
  return SQLITE_OK;
fail:
  sqlite3_free(aIdx);
  return SQLITE_ERROR;
}

/* Resolve BY into j->eBy, j->by, j->nDiv. */
static int grpParseBy(MbGrpJob *j, const mb_records_span *s,
                      const char *zBy, char **pzErr){
  const char *zSlash = strchr(zBy, '/');
  int n = zSlash ? (int)(zSlash - zBy) : (int)strlen(zBy);
  const char *zName = grpTrim(zBy, &n);
  char *zTok;
  int iCol, eType;
  if( zSlash ){
    int nNum = (int)strlen(zSlash+1), k = 0, bNeg = 0;
    const char *zNum = grpTrim(zSlash+1, &nNum);
    uint64_t v = 0;
    if( nNum>0 && (zNum[0]=='-' || zNum[0]=='+') ){ bNeg = zNum[0]=='-'; k++; }
    if( k==nNum || n==0 ) goto bad_by;
    for(; k<nNum; k++){
      if( zNum[k]<'0' || zNum[k]>'9' ) goto bad_by;
      v = v*10 + (uint64_t)(zNum[k]-'0');
      if( v>(uint64_t)INT64_MAX ) goto bad_by;
    }
    if( bNeg || v==0 ){
      *pzErr = sqlite3_mprintf("membase_group: BY \"%s\": N must be a "
                               "positive integer", zBy);
      return SQLITE_ERROR;
    }
    j->nDiv = (int64_t)v;
  }else if( n==0 ){
    goto bad_by;
  }
  zTok = sqlite3_mprintf("%.*s", n, zName);
  if( zTok==0 ) return SQLITE_NOMEM;
  iCol = mb_records_span_field(s, zTok, &j->by);
  eType = iCol<0 ? -1 : j->by.eType;
  if( iCol<0 ){
    *pzErr = sqlite3_mprintf("membase_group: table \"%s\" has no column "
                             "\"%s\"", j->zTab, zTok);
  }else if( zSlash && eType>MB_TYPE_U64 && eType!=MB_TYPE_BOOL ){
    *pzErr = sqlite3_mprintf("membase_group: BY \"%s\": column \"%s\" (%s) "
                             "is not an integer column", zBy, zTok,
                             mb_type_name(eType));
  }else if( eType>MB_TYPE_BOOL && eType!=MB_TYPE_CHAR ){
    *pzErr = sqlite3_mprintf("membase_group: BY column \"%s\" (%s) cannot "
                             "group: use an integer, bool, float or char "
                             "column", zTok, mb_type_name(eType));
  }
  sqlite3_free(zTok);
  if( *pzErr ) return SQLITE_ERROR;
  if( zSlash ) j->eBy = BY_DIV;
  else if( eType==MB_TYPE_U64 ) j->eBy = BY_U64;
  else if( eType==MB_TYPE_F32 || eType==MB_TYPE_F64 ) j->eBy = BY_FLOAT;
  else if( eType==MB_TYPE_CHAR ) j->eBy = BY_CHAR;
  else j->eBy = BY_INT;
  return SQLITE_OK;
bad_by:
  *pzErr = sqlite3_mprintf("membase_group: bad BY \"%s\": expected COLUMN "
                           "or COLUMN/N (N a positive integer)", zBy);
  return SQLITE_ERROR;
}

/* Offsets relative to the bytes read of each record, and the key size. */
static void grpLayout(MbGrpJob *j){
  uint32_t lo = UINT32_MAX, hi = 0;
  int c;
  for(c=0; c<j->nCol; c++){
    if( j->aCol[c].iOff<lo ) lo = j->aCol[c].iOff;
    if( j->aCol[c].iOff+j->aCol[c].nByte>hi ) hi = j->aCol[c].iOff+j->aCol[c].nByte;
  }
  if( j->eBy!=BY_NONE ){
    if( j->by.iOff<lo ) lo = j->by.iOff;
    if( j->by.iOff+j->by.nByte>hi ) hi = j->by.iOff+j->by.nByte;
    j->by.iOff -= lo;
  }
  for(c=0; c<j->nCol; c++) j->aCol[c].iOff -= lo;
  j->iLoOff = lo;
  j->nRead = hi - lo;
  j->nKey = j->eBy==BY_CHAR ? j->by.nByte : (uint32_t)sizeof(MbGrpKey);
  j->nKeyPad = (j->nKey + 15u) & ~15u;
  j->szGrp = j->nKeyPad + sizeof(MbGrpHead) + (uint64_t)j->nCol*sizeof(MbGrpAcc);
}

static int grpArgError(char **pzErr, const char *zWhat, const char *zRule,
                       sqlite3_value *v){
  int t = sqlite3_value_type(v);
  /* the value as SQL would write it, so '2' (TEXT) and 2.0 (REAL) do not
  ** read as the integer 2 */
  *pzErr = t==SQLITE_BLOB
    ? sqlite3_mprintf("membase_group: %s must be %s, not a blob", zWhat, zRule)
    : t==SQLITE_TEXT
    ? sqlite3_mprintf("membase_group: %s must be %s, not the text '%q'",
                      zWhat, zRule, (const char*)sqlite3_value_text(v))
    : t==SQLITE_FLOAT
    ? sqlite3_mprintf("membase_group: %s must be %s, not the real %!.15g",
                      zWhat, zRule, sqlite3_value_double(v))
    : sqlite3_mprintf("membase_group: %s must be %s, not %s", zWhat, zRule,
                      (const char*)sqlite3_value_text(v));
  return SQLITE_ERROR;
}

static int mbGrpFilter(sqlite3_vtab_cursor *cur, int idxNum,
                       const char *idxStr, int argc, sqlite3_value **argv){
  MbGrpCursor *pCur = (MbGrpCursor*)cur;
  sqlite3_value *a[G_NARG];
  mb_records_span span;
  MbGrpJob *j = 0;
  char *zErr = 0;
  const char *zBy = 0;
  sqlite3_int64 nThread = 0, nMaxMem = MB_GRP_MAXMEM_DEFAULT;
  int k, n = 0, rc = SQLITE_OK;
  (void)idxStr; (void)argc;
  grpCursorReset(pCur);
  for(k=0; k<G_NARG; k++){
    a[k] = (idxNum & (1<<k)) ? argv[n++] : 0;
    if( a[k] ){
      pCur->aArg[k] = sqlite3_value_dup(a[k]);
      if( pCur->aArg[k]==0 ) return SQLITE_NOMEM;
    }
    if( a[k] && sqlite3_value_type(a[k])==SQLITE_NULL ) a[k] = 0;
  }
  if( a[0]==0 || a[1]==0 || sqlite3_value_type(a[0])!=SQLITE_TEXT
   || sqlite3_value_type(a[1])!=SQLITE_TEXT ){
    zErr = sqlite3_mprintf("membase_group: the table and column names are "
        "required: membase_group(TABLE, COLUMNS [, BY [, LO, HI [, KEY "
        "[, THREADS [, MAXMEM]]]]])");
    rc = SQLITE_ERROR;
    goto done;
  }
  if( a[6] ){
    nThread = sqlite3_value_int64(a[6]);
    if( sqlite3_value_type(a[6])!=SQLITE_INTEGER || nThread<0 ){
      rc = grpArgError(&zErr, "THREADS", "0 (the CPUs this process may "
                       "use) or a positive number of threads", a[6]);
      goto done;
    }
  }
  if( a[7] ){
    nMaxMem = sqlite3_value_int64(a[7]);
    if( sqlite3_value_type(a[7])!=SQLITE_INTEGER || nMaxMem<0 ){
      rc = grpArgError(&zErr, "MAXMEM", "a number of bytes (0 or more)",
                       a[7]);
      goto done;
    }
  }
  if( a[2] ) zBy = (const char*)sqlite3_value_text(a[2]);
  rc = mb_records_group_prepare(((MbGrpVtab*)cur->pVtab)->db,
      (const char*)sqlite3_value_text(a[0]),
      a[5] ? (const char*)sqlite3_value_text(a[5]) : 0, a[3], a[4], &span,
      &zErr);
  if( rc ) goto done;
  /* the statement holds the file (against commits) to its end, as every
  ** statement on a record table does: the previous filter's hold is
  ** given back only now */
  if( pCur->bSpan ) mb_records_aggregate_done(&pCur->span);
  pCur->span = span;
  pCur->bSpan = 1;
  j = sqlite3_malloc64(sizeof(*j));
  if( j==0 ){ rc = SQLITE_NOMEM; goto done; }
  memset(j, 0, sizeof(*j));
  mb_mutex_init(&j->mu);
  pCur->pJob = j;
  j->s = &pCur->span;
  j->db = ((MbGrpVtab*)cur->pVtab)->db;
  j->zTab = (const char*)sqlite3_value_text(a[0]);
  j->nMaxMem = (uint64_t)nMaxMem;
  if( nThread==0 ){
    /* the default: the CPUs the process may use, but a thread only for
    ** each 65536 records (a thread costs more than a short scan) */
    uint64_t nRec = pCur->span.iEnd>pCur->span.iFirst
                  ? pCur->span.iEnd - pCur->span.iFirst : 0;
    uint64_t nMost = (nRec + 65535) / 65536;
    j->nPart = mb_threads_default();
    if( nMost<j->nPart ) j->nPart = (unsigned)nMost;
  }else{
    j->nPart = nThread>MB_MAX_THREADS ? MB_MAX_THREADS : (unsigned)nThread;
  }
  if( j->nPart==0 ) j->nPart = 1;
  rc = grpParseCols(j, &pCur->span, (const char*)sqlite3_value_text(a[1]),
                    &zErr);
  if( rc==SQLITE_OK && zBy ) rc = grpParseBy(j, &pCur->span, zBy, &zErr);
  if( rc ) goto done;
  pCur->azCol = sqlite3_malloc64(sizeof(char*)*(uint64_t)j->nCol);
  if( pCur->azCol==0 ){ rc = SQLITE_NOMEM; goto done; }
  memset(pCur->azCol, 0, sizeof(char*)*(uint64_t)j->nCol);
  for(k=0; k<j->nCol; k++){
    pCur->azCol[k] = sqlite3_mprintf("%s", j->aCol[k].zName);
    if( pCur->azCol[k]==0 ){ rc = SQLITE_NOMEM; goto done; }
  }
  grpLayout(j);
  rc = grpRun(j, &zErr);
  j->zTab = 0;   /* the argument's text lives only during xFilter */
  if( rc ) goto done;
  pCur->nRow = j->aW[0].t.nGrp * (uint64_t)j->nCol;
  pCur->iRow = 0;
  /* sum() reports an overflow of the INTEGER sum; since SQLite 3.43 a
  ** REAL value after the overflow makes the sum REAL instead */
  pCur->bOvflErr = sqlite3_libversion_number()<3043000;

done:
  if( rc ){
    grpCursorReset(pCur);
    sqlite3_free(cur->pVtab->zErrMsg);
    cur->pVtab->zErrMsg = zErr;
    return rc;
  }
  return SQLITE_OK;
}

static int mbGrpNext(sqlite3_vtab_cursor *cur){
  ((MbGrpCursor*)cur)->iRow++;
  return SQLITE_OK;
}

static int mbGrpEof(sqlite3_vtab_cursor *cur){
  MbGrpCursor *pCur = (MbGrpCursor*)cur;
  return pCur->iRow>=pCur->nRow;
}

/* A u64 value as the table reads it: INTEGER up to INT64_MAX, else REAL. */
static void grpResultU64(sqlite3_context *ctx, uint64_t u){
  if( u>(uint64_t)INT64_MAX ) sqlite3_result_double(ctx, (double)u);
  else sqlite3_result_int64(ctx, (sqlite3_int64)u);
}

static int mbGrpColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  MbGrpCursor *pCur = (MbGrpCursor*)cur;
  MbGrpJob *j = pCur->pJob;
  int c = (int)(pCur->iRow % (uint64_t)j->nCol);
  const unsigned char *g = GRP_AT(j, &j->aW[0].t, pCur->iRow / (uint64_t)j->nCol);
  const MbGrpAcc *a = GRP_ACC(j, g) + c;
  int eV = j->aV[c];
  switch( i ){
    case G_GRP:
      if( j->eBy==BY_CHAR ){
        int n = (int)j->nKey;
        while( n>0 && g[n-1]==0 ) n--;
        sqlite3_result_text(ctx, (const char*)g, n, SQLITE_TRANSIENT);
      }else{
        MbGrpKey k;
        memcpy(&k, g, sizeof(k));
        if( k.eTag==KEY_INT && GRP_HEAD(j, g)->disp.r==GRP_HEAD(j, g)->disp.r ){
          sqlite3_result_double(ctx, GRP_HEAD(j, g)->disp.r);
        }else if( k.eTag==KEY_INT ) sqlite3_result_int64(ctx, (sqlite3_int64)k.v);
        else if( k.eTag==KEY_REAL ) sqlite3_result_double(ctx, GRP_HEAD(j, g)->disp.r);
      }
      return SQLITE_OK;
    case G_COL:
      sqlite3_result_text(ctx, pCur->azCol[c], -1, SQLITE_TRANSIENT);
      return SQLITE_OK;
    case G_N:
      sqlite3_result_int64(ctx, (sqlite3_int64)GRP_HEAD(j, g)->nRec);
      return SQLITE_OK;
    case G_COUNT:
      sqlite3_result_int64(ctx, a->nCount);
      return SQLITE_OK;
    case G_THREADS:
      sqlite3_result_int(ctx, (int)j->nPart);
      return SQLITE_OK;
    case G_MEMORY:
      sqlite3_result_int64(ctx, (sqlite3_int64)j->nPeak);
      return SQLITE_OK;
  }
  if( i>=G_TAB && i<G_TAB+G_NARG ){
    if( pCur->aArg[i-G_TAB] ) sqlite3_result_value(ctx, pCur->aArg[i-G_TAB]);
    return SQLITE_OK;
  }
  if( a->nCount==0 || i>G_AVG ) return SQLITE_OK;   /* NULL */
  /* a NaN passed to sqlite3_result_double is NULL, as in sum() */
  switch( i ){
    case G_SUM:
      if( eV==V_FLOAT ){
        sqlite3_result_double(ctx, a->rSum);
      }else if( a->bOvfl && (eV==V_INT || !a->bBig || pCur->bOvflErr) ){
        sqlite3_result_error(ctx, "membase_group: integer overflow", -1);
      }else if( a->bBig ){
        sqlite3_result_double(ctx, a->rSum);
      }else{
        sqlite3_result_int64(ctx, (sqlite3_int64)a->iTot);
      }
      break;
    case G_MIN:
      if( eV==V_FLOAT ) sqlite3_result_double(ctx, a->mn.r);
      else if( eV==V_U64 ) grpResultU64(ctx, a->mn.u);
      else sqlite3_result_int64(ctx, a->mn.i);
      break;
    case G_MAX:
      if( eV==V_FLOAT ) sqlite3_result_double(ctx, a->mx.r);
      else if( eV==V_U64 ) grpResultU64(ctx, a->mx.u);
      else sqlite3_result_int64(ctx, a->mx.i);
      break;
    case G_AVG:
      sqlite3_result_double(ctx, (eV==V_FLOAT || a->bBig ? a->rSum
                                  : (double)a->iTot) / (double)a->nCount);
      break;
  }
  return SQLITE_OK;
}

static int mbGrpRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = (sqlite_int64)((MbGrpCursor*)cur)->iRow + 1;
  return SQLITE_OK;
}

static const sqlite3_module mbGrpModule = {
  .iVersion    = 0,
  .xCreate     = 0,               /* eponymous-only */
  .xConnect    = mbGrpConnect,
  .xBestIndex  = mbGrpBestIndex,
  .xDisconnect = mbGrpDisconnect,
  .xDestroy    = mbGrpDisconnect,
  .xOpen       = mbGrpOpen,
  .xClose      = mbGrpClose,
  .xFilter     = mbGrpFilter,
  .xNext       = mbGrpNext,
  .xEof        = mbGrpEof,
  .xColumn     = mbGrpColumn,
  .xRowid      = mbGrpRowid,
};

int mb_group_register(sqlite3 *db){
  return sqlite3_create_module(db, "membase_group", &mbGrpModule, 0);
}
