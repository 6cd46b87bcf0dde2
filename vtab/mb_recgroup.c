/*
** mb_recgroup.c -- GROUP BY and DISTINCT on a membase table without
** SQLite's sorter: one hashed pass over the records a query visits puts
** them in group order, and the cursor returns them group by group.
**
**   SELECT sym, sum(qty) FROM ticks GROUP BY sym;        -- INDEX 4:#4
**   SELECT DISTINCT side, sym FROM ticks WHERE ts > ?1;  -- INDEX 6:H#3,4
**
** When. xBestIndex (mb_recscan.c) asks sqlite3_vtab_distinct(). 1 (GROUP
** BY) and 2 (DISTINCT without ORDER BY) only ask that rows with equal
** values in the ORDER BY columns be adjacent, in any group order; then,
** when every term is a column of the table (not the rowid: it is unique,
** and the scan order serves it) and the table holds at most
** MB_GROUP_MAX_ROWS records, the plan consumes the ORDER BY and xFilter
** groups. 3 (DISTINCT and ORDER BY) and 0 need sorted rows: SQLite sorts,
** as before. A single term on the sorted column is served by the scan
** order, as before (no pass). The plan shows as INDEX n:codes#cols, n
** having 4 set, cols the column numbers (from 0) grouped on. SQLite
** passes only plain column references whose collation is the column's
** (BINARY): GROUP BY sym COLLATE NOCASE, or an expression, is never
** offered, and SQLite sorts.
**
** How. After the constraints have made the cursor's record ranges (rowid
** and sorted-key ranges, IN lists: the same ranges a plain scan visits),
** pass 1 reads them in blocks as the connection sees them (mbReadView:
** its uncommitted updates and appends included), computes each record's
** key and finds its group in an open-addressing hash table (groups are
** numbered by first appearance); it keeps each record's group number and
** counts each group. A counting pass then lays the record numbers out
** group after group, each group in record order (so a float sum adds in
** the order a native table adds it). The cursor copies them out block by
** block (a gather of 64 KiB, with prefetch, under the fault guard), so
** xNext and xColumn stay a pointer move and a field decode. Rows are never
** dropped, also for DISTINCT (optional for SQLite, and unsafe when
** SQLite filters rows on terms it does not show us afterwards).
**
** Equality is SQL's, on the values xColumn returns: integers by value;
** bool as 0/1 (a byte of 2 is 1); a u64 above 2^63 as the REAL it reads
** as, so two that round to one REAL are one group; floats by value, 0.0
** and -0.0 one group, NaN (read as NULL) one group with all NaNs; char(N)
** by its bytes (trailing NULs are not part of the value; embedded NULs
** are); blob(N) by its bytes.
**
** Memory: 8 bytes a visited record during the pass (its group number and
** its place), 4 after, plus the hash table and one key per group. At most
** MB_GROUP_MAX_ROWS records (64 Mi: 512 MiB): a larger table is planned
** the normal way (SQLite sorts), and a table that grew past the cap after
** its statement was prepared is an error naming the cap.
*/
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_rectab.h"
#include "mb_interrupt.h"

#if defined(__GNUC__) || defined(__clang__)
# define MB_PREFETCH(p) __builtin_prefetch((const void*)(p))
#else
# define MB_PREFETCH(p) ((void)(p))
#endif

/* Records ahead of the copy that the gather asks the CPU to fetch. */
#define MB_GATHER_AHEAD 16

/* The columns of a grouping and the key they make. */
typedef struct MbGroupKey {
  int nCol;
  const MbCol *apCol[MB_GROUP_MAX_COLS];
  uint32_t aOff[MB_GROUP_MAX_COLS];   /* offset of each part in the key */
  uint32_t nKey;                      /* key bytes */
} MbGroupKey;

/* One slot of the hash table: the key itself when it is 8 bytes, else
** its hash; gid+1, 0 for a free slot. */
typedef struct MbSlot { uint64_t v; uint32_t gid1; uint32_t pad; } MbSlot;

typedef struct MbGroupPass {
  MbGroupKey k;
  MbSlot *aSlot;
  uint64_t nSlot;             /* a power of two */
  unsigned char *aKey;        /* keys of the groups, nKey bytes each */
  uint32_t *aCount;           /* records of each group */
  uint64_t nGroup, nGroupAlloc;
} MbGroupPass;

static inline uint64_t mbMix(uint64_t h){
  h ^= h>>33; h *= 0xff51afd7ed558ccdULL;
  h ^= h>>33; h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h>>33;
  return h;
}

static uint64_t mbKeyHash(const unsigned char *z, uint32_t n){
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
  while( n>=8 ){
    memcpy(&w, z, 8);
    h = mbMix(h ^ w);
    z += 8; n -= 8;
  }
  if( n ){
    w = 0;
    memcpy(&w, z, n);
    h = mbMix(h ^ w ^ 0x5bd1e995ULL);
  }
  return h;
}

/* The key part of column c of the record at pRec, as SQL compares it. */
static inline void mbKeyPart(const MbCol *c, const unsigned char *pRec,
                             unsigned char *pOut){
  const unsigned char *f = pRec + c->iOff;
  uint64_t u;
  switch( c->eKind ){
    case K_CHAR: case K_BLOB:
      memcpy(pOut, f, c->nByte);
      return;
    case K_F32: case K_F64: case K_F32|K_SWAP: case K_F64|K_SWAP: {
      double d = mbCodecReal(c, f);
      if( d!=d ) u = 0x7ff8000000000000ULL;      /* NULL: one group */
      else if( d==0.0 ) u = 0;                  /* -0.0 is 0.0 */
      else memcpy(&u, &d, 8);
      break;
    }
    case K_U64: case K_U64|K_SWAP:
      u = mbCodecU64(c, f);
      if( u>(uint64_t)INT64_MAX ){
        /* reads as a REAL: its value, apart from every integer */
        double d = (double)u;
        memcpy(&u, &d, 8);
        u |= (uint64_t)1<<63;
      }
      break;
    default: {
      int64_t v = mbCodecInt(c, f);
      memcpy(&u, &v, 8);
      break;
    }
  }
  memcpy(pOut, &u, 8);
}

static inline void mbKeyOf(const MbGroupKey *k, const unsigned char *pRec,
                           unsigned char *pOut){
  int i;
  for(i=0; i<k->nCol; i++) mbKeyPart(k->apCol[i], pRec, pOut + k->aOff[i]);
}

static void mbPassFree(MbGroupPass *g){
  sqlite3_free(g->aSlot);
  sqlite3_free(g->aKey);
  sqlite3_free(g->aCount);
  memset(g, 0, sizeof(*g));
}

/* Double the hash table. */
static int mbSlotsGrow(MbGroupPass *g){
  uint64_t nNew = g->nSlot ? g->nSlot*2 : 1024, m = nNew-1, i;
  MbSlot *a = sqlite3_malloc64(sizeof(MbSlot)*nNew);
  if( a==0 ) return SQLITE_NOMEM;
  memset(a, 0, sizeof(MbSlot)*nNew);
  for(i=0; i<g->nSlot; i++){
    const MbSlot *s = &g->aSlot[i];
    uint64_t j;
    if( s->gid1==0 ) continue;
    j = (g->k.nKey==8 ? mbMix(s->v) : s->v) & m;
    while( a[j].gid1 ) j = (j+1)&m;
    a[j] = *s;
  }
  sqlite3_free(g->aSlot);
  g->aSlot = a;
  g->nSlot = nNew;
  return SQLITE_OK;
}

/* Room for one more group: its count and key, and the table under half
** full. */
static int mbGroupRoom(MbGroupPass *g){
  if( g->nGroup>=g->nGroupAlloc ){
    uint64_t n = g->nGroupAlloc ? g->nGroupAlloc*2 : 256;
    uint32_t *aC = sqlite3_realloc64(g->aCount, sizeof(uint32_t)*n);
    unsigned char *aK;
    if( aC==0 ) return SQLITE_NOMEM;
    g->aCount = aC;
    aK = sqlite3_realloc64(g->aKey, (uint64_t)g->k.nKey*n);
    if( aK==0 ) return SQLITE_NOMEM;
    g->aKey = aK;
    g->nGroupAlloc = n;
  }
  if( (g->nGroup+1)*2>g->nSlot ) return mbSlotsGrow(g);
  return SQLITE_OK;
}

/* The group of key z (nKey bytes), added if new: *pGid. */
static inline int mbGroupFind(MbGroupPass *g, const unsigned char *z,
                              uint32_t *pGid){
  uint64_t m = g->nSlot-1, h, v, j;
  MbSlot *s;
  int rc;
  if( g->k.nKey==8 ){
    memcpy(&v, z, 8);
    h = mbMix(v);
  }else{
    v = h = mbKeyHash(z, g->k.nKey);
  }
  for(j=h&m; (s = &g->aSlot[j])->gid1; j=(j+1)&m){
    if( s->v==v && (g->k.nKey==8
        || memcmp(g->aKey + (uint64_t)(s->gid1-1)*g->k.nKey, z, g->k.nKey)==0) ){
      *pGid = s->gid1-1;
      return SQLITE_OK;
    }
  }
  rc = mbGroupRoom(g);
  if( rc ) return rc;
  if( g->nSlot-1!=m ){   /* the table grew: find the free slot again */
    m = g->nSlot-1;
    for(j=h&m; g->aSlot[j].gid1; j=(j+1)&m){}
    s = &g->aSlot[j];
  }
  s->v = v;
  s->gid1 = (uint32_t)(g->nGroup+1);
  memcpy(g->aKey + g->nGroup*g->k.nKey, z, g->k.nKey);
  g->aCount[g->nGroup] = 0;
  *pGid = (uint32_t)g->nGroup++;
  return SQLITE_OK;
}

/* Parse the column list of the plan ("4,1") into k. */
static int mbKeyParse(MbRecTab *p, const char *z, MbGroupKey *k){
  memset(k, 0, sizeof(*k));
  while( z && *z ){
    int iCol = 0;
    const MbCol *c;
    while( *z>='0' && *z<='9' ){ iCol = iCol*10 + (*z - '0'); z++; }
    if( iCol>=p->nCol || k->nCol>=MB_GROUP_MAX_COLS ) break;
    c = &p->aCol[iCol];
    k->apCol[k->nCol] = c;
    k->aOff[k->nCol] = k->nKey;
    k->nKey += (c->eKind==K_CHAR || c->eKind==K_BLOB) ? c->nByte : 8;
    k->nCol++;
    if( *z!=',' ) break;
    z++;
  }
  if( k->nCol==0 ){
    return mb_vtab_error(&p->base, SQLITE_INTERNAL, "membase: %s: bad "
                         "grouping plan", p->zFile);
  }
  return SQLITE_OK;
}

/* Pass 1: the group of every visited record (aGid, in visiting order) and
** the count of each group. */
static int mbGroupPass1(MbRecTab *p, MbRecCursor *pCur, MbGroupPass *g,
                        uint32_t *aGid){
  unsigned char aKeyBuf[MB_GROUP_MAX_COLS*8 + 256];
  unsigned char *zKey = aKeyBuf;
  uint64_t n = 0;
  int iR, rc = SQLITE_OK;
  if( g->k.nKey>sizeof(aKeyBuf) ){
    zKey = sqlite3_malloc64(g->k.nKey);
    if( zKey==0 ) return SQLITE_NOMEM;
  }
  for(iR=0; rc==SQLITE_OK && iR<pCur->nRange; iR++){
    uint64_t lo = pCur->aRange[iR].iFirst, hi = pCur->aRange[iR].iEnd;
    while( lo<hi ){
      uint64_t nb = hi-lo>pCur->nBufRows ? pCur->nBufRows : hi-lo, i, e;
      const unsigned char *pRec = pCur->aBuf;
      rc = mbReadView(p, p->nHeader + lo*p->nStride, pCur->aBuf,
                      (size_t)((nb-1)*p->nStride + p->nRecord));
      if( rc ) break;
      e = p->nHeader + (lo+nb-1)*p->nStride + p->nRecord;
      if( lo+nb>p->nRows ) e = p->nHeader + p->nRows*p->nStride;
      if( e>pCur->iReadHi ) pCur->iReadHi = e;
      for(i=0; i<nb; i++, pRec+=p->nStride){
        uint32_t gid;
        mbKeyOf(&g->k, pRec, zKey);
        rc = mbGroupFind(g, zKey, &gid);
        if( rc ) break;
        aGid[n++] = gid;
        g->aCount[gid]++;
      }
      if( rc ) break;
      lo += nb;
      if( mb_interrupted(p->db) ){ rc = SQLITE_INTERRUPT; break; }
    }
  }
  if( zKey!=aKeyBuf ) sqlite3_free(zKey);
  return rc;
}

void mbGroupFree(MbRecCursor *pCur){
  sqlite3_free(pCur->aIdx);
  pCur->aIdx = 0;
  pCur->nIdx = pCur->iPos = pCur->iGathHi = 0;
}

int mbGroupBuild(MbRecTab *p, MbRecCursor *pCur, const char *zCols){
  MbGroupPass g;
  uint64_t nTotal = 0, k, n;
  uint32_t *aGid = 0;
  int iR, rc;

  memset(&g, 0, sizeof(g));
  mbGroupFree(pCur);
  rc = mbKeyParse(p, zCols, &g.k);
  if( rc ) return rc;
  for(iR=0; iR<pCur->nRange; iR++){
    nTotal += pCur->aRange[iR].iEnd - pCur->aRange[iR].iFirst;
  }
  if( nTotal==0 ){
    pCur->bEof = 1;
    return SQLITE_OK;
  }
  if( mbRowsSeen(p)>MB_GROUP_MAX_ROWS ){
    /* the plan checked the size: the file grew since */
    return mb_vtab_error(&p->base, SQLITE_TOOBIG, "membase: %s: %llu "
                    "records are more than the %llu a GROUP BY or DISTINCT "
                    "pass holds in memory (the file grew after the statement "
                    "was prepared: prepare it again, and SQLite sorts instead)",
                    p->zFile, (unsigned long long)mbRowsSeen(p),
                    (unsigned long long)MB_GROUP_MAX_ROWS);
  }
  aGid = sqlite3_malloc64(sizeof(uint32_t)*nTotal);
  pCur->aIdx = sqlite3_malloc64(sizeof(uint32_t)*nTotal);
  if( aGid==0 || pCur->aIdx==0 ){ rc = SQLITE_NOMEM; goto done; }
  rc = mbSlotsGrow(&g);
  if( rc ) goto done;
  rc = mbGroupPass1(p, pCur, &g, aGid);
  if( rc ) goto done;
  /* each group's first place, then the records in group order: the
  ** counting pass keeps record order inside a group */
  for(k=0, n=0; k<g.nGroup; k++){
    uint32_t c = g.aCount[k];
    g.aCount[k] = (uint32_t)n;
    n += c;
  }
  for(iR=0, n=0; iR<pCur->nRange; iR++){
    uint64_t r;
    for(r=pCur->aRange[iR].iFirst; r<pCur->aRange[iR].iEnd; r++){
      pCur->aIdx[g.aCount[aGid[n++]]++] = (uint32_t)r;
    }
  }
  pCur->nIdx = nTotal;
  pCur->iPos = 0;
  pCur->iGathHi = 0;
  rc = mbGroupLoad(pCur);

done:
  sqlite3_free(aGid);
  mbPassFree(&g);
  if( rc ) mbGroupFree(pCur);
  return rc;
}

/* ------------------------------------------------------------ the gather */

typedef struct MbGather {
  const unsigned char *pBase;   /* record 0 in the view */
  const unsigned char *aPend;   /* appended records (not in the file) */
  const uint32_t *aIdx;
  uint64_t n, nStride, nRecord, nFileRows;
  unsigned char *pDst;
} MbGather;

/* Runs under the fault guard: reads the view and writes to the buffer
** only. */
static void mbGatherFn(void *ctx){
  const MbGather *x = ctx;
  uint64_t k;
  unsigned char *d = x->pDst;
  for(k=0; k<x->n; k++, d+=x->nStride){
    uint64_t r = x->aIdx[k];
    if( k+MB_GATHER_AHEAD<x->n && x->aIdx[k+MB_GATHER_AHEAD]<x->nFileRows ){
      MB_PREFETCH(x->pBase + x->aIdx[k+MB_GATHER_AHEAD]*x->nStride);
    }
    if( r<x->nFileRows ){
      memcpy(d, x->pBase + r*x->nStride, (size_t)x->nRecord);
    }else{
      memcpy(d, x->aPend + (r-x->nFileRows)*x->nStride, (size_t)x->nRecord);
    }
  }
}

int mbGroupLoad(MbRecCursor *pCur){
  MbRecTab *p = (MbRecTab*)pCur->base.pVtab;
  MbGather x;
  uint64_t lo = pCur->iGathHi, k;
  int mrc = MB_OK;
  if( lo>=pCur->nIdx ){
    pCur->bEof = 1;
    return SQLITE_OK;
  }
  x.n = pCur->nIdx-lo>pCur->nBufRows ? pCur->nBufRows : pCur->nIdx-lo;
  x.aIdx = pCur->aIdx + lo;
  x.nStride = p->nStride;
  x.nRecord = p->nRecord;
  x.nFileRows = p->nRows;
  x.aPend = p->aPend;
  x.pDst = pCur->aBuf;
  if( p->nRows ){
    const unsigned char *pView = mb_map_data(p->pMap);
    uint64_t nView = mb_map_size(p->pMap);
    if( pView==0 || nView<p->nHeader + p->nRows*p->nStride ){
      mrc = MB_EFAULT;
    }else{
      x.pBase = pView + p->nHeader;
      mrc = mb_guarded_call(x.pBase, (size_t)(p->nRows*p->nStride),
                            mbGatherFn, &x);
    }
  }else{
    x.pBase = 0;
    mbGatherFn(&x);
  }
  if( mrc==MB_EFAULT ){
    (void)mbMapRefresh(p->pMap);
    p->nMapSize = (uint64_t)-1;
    return mb_vtab_error(&p->base, SQLITE_IOERR_SHORT_READ, "membase: %s: the "
                    "file was truncated while it was read", p->zFile);
  }
  if( mrc ){
    return mb_vtab_error(&p->base, SQLITE_IOERR_READ, "membase: %s: cannot "
                    "read: %s", p->zFile, mb_strerror(mrc));
  }
  if( p->nWs ){
    /* the transaction's own updates over the file's bytes */
    for(k=0; k<x.n; k++){
      uint64_t r = x.aIdx[k];
      const unsigned char *pImg = r<p->nRows ? mbWsFind(p, r) : 0;
      if( pImg ) memcpy(pCur->aBuf + k*p->nStride, pImg, (size_t)p->nRecord);
    }
  }
  pCur->iPos = lo;
  pCur->iGathHi = lo + x.n;
  pCur->pRec = pCur->aBuf;
  pCur->iRow = pCur->aIdx[lo];
  return SQLITE_OK;
}
