/*
** mb_rectab.c -- the record file behind a membase table: its size and
** record count, guarded reads, the sorted key and its verification, the
** bounds of a key range, and the tables open in this process.
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

/* Guards the open-table list (below); held only for list operations. */
static mb_mutex mbOpenMu = MB_MUTEX_INIT;

/* ------------------------------------------------------------ helpers */






/* Resizes and refreshes of the shared map go through the registry, which
** serialises them with those of every other user of the file in this
** process (membase_map, membase_lines, other tables). */
int mbMapRefresh(mb_map *pMap){
  return mb_registry_refresh(pMap, 0);
}

int mbMapResize(mb_map *pMap, uint64_t nSize){
  return mb_registry_resize_file(pMap, nSize);
}

/* Copy n bytes at view offset off; an error message names the file. */
int mbRead(MbRecTab *p, uint64_t off, void *dst, size_t n){
  int mrc = mb_map_read(p->pMap, off, dst, n);
  if( mrc==MB_OK ) return SQLITE_OK;
  if( mrc==MB_ERANGE || mrc==MB_EFAULT ){
    /* the file shrank: pick up its new size for the next statement */
    (void)mbMapRefresh(p->pMap);
    p->nMapSize = (uint64_t)-1;
    return mb_vtab_error(&p->base, SQLITE_IOERR_SHORT_READ, "membase: %s: the file was "
                    "truncated while it was read (record at byte %llu is "
                    "gone)", p->zFile, (unsigned long long)off);
  }
  return mb_vtab_error(&p->base, mb_sqlite_rc(mrc, SQLITE_IOERR_READ),
                  "membase: %s: cannot read: %s", p->zFile, mb_strerror(mrc));
}

/* ------------------------------------------------------------ file size */

/*
** Read and parse the .npy header of p's file, whose view holds nSize bytes:
** *pNpy and *pLay on SQLITE_OK (the caller frees both). Otherwise the error
** is set on p, naming the file, and its code returned: an I/O error, or
** the code of mb_npy_header_size() / mb_npy_parse() for a header they
** refuse. Used at connect and whenever the file's size moved.
*/
int mbLoadNpyHeader(MbRecTab *p, uint64_t nSize, mb_npy *pNpy,
                    mb_layout *pLay){
  unsigned char aPre[MB_NPY_PREFIX];
  uint64_t nHdr = 0;
  unsigned char *aHdr;
  char *zErr = 0;
  int rc;
  memset(aPre, 0, sizeof(aPre));
  memset(pNpy, 0, sizeof(*pNpy));
  memset(pLay, 0, sizeof(*pLay));
  if( nSize>0 ){
    rc = mbRead(p, 0, aPre, nSize<MB_NPY_PREFIX ? (size_t)nSize : MB_NPY_PREFIX);
    if( rc ) return rc;
  }
  rc = mb_npy_header_size(aPre, nSize, p->zFile, &nHdr, &zErr);
  if( rc ) goto npy_error;
  aHdr = sqlite3_malloc64(nHdr+1);
  if( aHdr==0 ) return SQLITE_NOMEM;
  rc = mbRead(p, 0, aHdr, (size_t)nHdr);
  if( rc ){ sqlite3_free(aHdr); return rc; }
  aHdr[nHdr] = 0;
  rc = mb_npy_parse(aHdr, (size_t)nHdr, p->zFile, pNpy, pLay, &zErr);
  sqlite3_free(aHdr);
  if( rc==SQLITE_OK ) return SQLITE_OK;
npy_error:
  if( zErr ) mb_vtab_error(&p->base, rc, "%s", zErr);
  sqlite3_free(zErr);
  return rc;
}

/* Bring nRows up to date with the file (after a refresh of the view). */
/* The file's length moved while this connection's write transaction was
** open: another program writes it without MemBase's lock. The records
** the transaction appended would land elsewhere than their rowids say. */
int mbChangedError(MbRecTab *p, uint64_t nNow){
  return mb_vtab_error(&p->base, SQLITE_IOERR_WRITE, "membase: %s: the file "
      "changed size from %llu to %llu bytes while this transaction was open "
      "(another program wrote it without MemBase's lock): ROLLBACK", p->zFile,
      (unsigned long long)p->nTxFile, (unsigned long long)nNow);
}

int mbUpdateRows(MbRecTab *p){
  uint64_t nSize = mb_map_size(p->pMap);
  if( nSize==p->nMapSize ) return SQLITE_OK;
  if( p->bWriting && nSize!=p->nTxFile ) return mbChangedError(p, nSize);
  if( p->bNpy ){
    /* re-read the shape: another process may have appended */
    mb_npy npy;
    mb_layout lay;
    int rc;
    if( nSize<MB_NPY_PREFIX ){
      return mb_vtab_error(&p->base, SQLITE_CORRUPT_VTAB, "membase: %s: truncated .npy header "
                      "(the file has %llu bytes)", p->zFile,
                      (unsigned long long)nSize);
    }
    rc = mbLoadNpyHeader(p, nSize, &npy, &lay);
    if( rc ){
      /* a header that no longer parses is a corrupt file, not a bad schema */
      return rc==SQLITE_NOMEM || (rc&0xff)==SQLITE_IOERR ? rc
                                                        : SQLITE_CORRUPT_VTAB;
    }
    mb_layout_free(&lay);
    if( npy.nHeader!=p->nHeader ){
      mb_npy_free(&npy);
      return mb_vtab_error(&p->base, SQLITE_CORRUPT_VTAB, "membase: %s: the .npy header "
                      "changed size underneath", p->zFile);
    }
    if( npy.nRows > (nSize - npy.nHeader) / p->nStride ){
      uint64_t nHave = (nSize - npy.nHeader) / p->nStride;
      mb_vtab_error(&p->base, SQLITE_CORRUPT_VTAB, "membase: %s: the .npy header says %llu "
               "rows but the file holds only %llu", p->zFile,
               (unsigned long long)npy.nRows, (unsigned long long)nHave);
      mb_npy_free(&npy);
      return SQLITE_CORRUPT_VTAB;
    }
    p->nRows = npy.nRows;
    mb_npy_free(&p->npy);
    p->npy = npy;
  }else{
    uint64_t nData, nRem;
    if( nSize<p->nHeader ){
      return mb_vtab_error(&p->base, SQLITE_CORRUPT_VTAB, "membase: %s: file length %llu is "
                      "shorter than the header (%llu bytes)", p->zFile,
                      (unsigned long long)nSize,
                      (unsigned long long)p->nHeader);
    }
    nData = nSize - p->nHeader;
    nRem = nData % p->nStride;
    if( nRem && !p->bTailIgnore ){
      return mb_vtab_error(&p->base, SQLITE_CORRUPT_VTAB, "membase: %s: file length %llu is "
                      "not header %llu + a multiple of the record stride %llu "
                      "(%llu bytes left over; tail=ignore ignores them)",
                      p->zFile, (unsigned long long)nSize,
                      (unsigned long long)p->nHeader,
                      (unsigned long long)p->nStride,
                      (unsigned long long)nRem);
    }
    p->nRows = nData / p->nStride;
  }
  p->nMapSize = nSize;
  return SQLITE_OK;
}

/* Refresh the view from the file and recount. */
int mbRefresh(MbRecTab *p){
  int mrc = mbMapRefresh(p->pMap);
  if( mrc!=MB_OK ){
    return mb_vtab_error(&p->base, SQLITE_IOERR, "membase: %s: cannot refresh the "
                    "mapping: %s", p->zFile, mb_strerror(mrc));
  }
  return mbUpdateRows(p);
}

void mbAdvise(MbRecTab *p, int eAdvice){
  if( p->eAdvice==eAdvice ) return;
  p->eAdvice = eAdvice;
  (void)mb_map_advise(p->pMap, (mb_advice)eAdvice, 0, 0);
}

/* ------------------------------------------------------------ sorted key */


int mbReadKey(MbRecTab *p, uint64_t iRow, int64_t *pI, double *pR){
  unsigned char a[8];
  const MbCol *c = mbKeyCol(p);
  int rc = mbReadView(p, p->nHeader + iRow*p->nStride + c->iOff, a, c->nByte);
  if( rc ) return rc;
  if( p->bSortedFloat ) *pR = mbCodecReal(c, a);
  else *pI = mbCodecInt(c, a);
  return SQLITE_OK;
}

int mbOrderError(MbRecTab *p, uint64_t iRow){
  p->bVerified = 0;
  return mb_vtab_error(&p->base, SQLITE_CORRUPT_VTAB, "membase: %s: column \"%s\" is declared "
                  "sorted but record %llu is smaller than record %llu (or "
                  "NaN)", p->zFile, mbKeyCol(p)->zName,
                  (unsigned long long)iRow, (unsigned long long)(iRow-1));
}

/* Check the whole column is ascending, in blocks. */
int mbVerifySorted(MbRecTab *p){
  uint64_t i = 0, nBlock;
  unsigned char *aBuf;
  const MbCol *c = mbKeyCol(p);
  int64_t iPrev = INT64_MIN;
  double rPrev = -HUGE_VAL;
  int rc = SQLITE_OK;
  mb_stamp now;
  /* Verified under a stamp that is still the file's, and that was not
  ** racy: nothing wrote to the file since (a same-size rewrite with its
  ** mtime put back moves the ctime). Otherwise verify again. */
  if( mb_map_change_stamp(p->pMap, &now)!=MB_OK ){
    memset(&now, 0, sizeof(now));
    p->bVerified = 0;
  }
  if( p->bVerified && mb_stamp_unchanged(&p->verStamp, &now) ){
    return SQLITE_OK;
  }
  nBlock = MB_BLOCK_BYTES / p->nStride;
  if( nBlock==0 ) nBlock = 1;
  aBuf = sqlite3_malloc64((nBlock-1)*p->nStride + p->nRecord);
  if( aBuf==0 ) return SQLITE_NOMEM;
  while( i<p->nRows ){
    uint64_t n = p->nRows - i, k;
    if( n>nBlock ) n = nBlock;
    rc = mbRead(p, p->nHeader + i*p->nStride, aBuf,
                (size_t)((n-1)*p->nStride + p->nRecord));
    if( rc ) break;
    for(k=0; k<n; k++){
      const unsigned char *pR = aBuf + k*p->nStride + c->iOff;
      if( p->bSortedFloat ){
        double r = mbCodecReal(c, pR);
        if( !(r>=rPrev) ){ rc = mbOrderError(p, i+k); break; }
        rPrev = r;
      }else{
        int64_t v = mbCodecInt(c, pR);
        if( v<iPrev ){ rc = mbOrderError(p, i+k); break; }
        iPrev = v;
      }
    }
    if( rc ) break;
    i += n;
  }
  sqlite3_free(aBuf);
  if( rc==SQLITE_OK ){
    p->bVerified = 1;
    p->verStamp = now;
  }
  return rc;
}

/* ------------------------------------------------------------ bounds */


void mbIvalAll(MbIval *v){
  memset(v, 0, sizeof(*v));
  v->iLo = INT64_MIN; v->iHi = INT64_MAX;
  v->rLo = -HUGE_VAL; v->rHi = HUGE_VAL;
}

/* Narrow v by "key OP value" (op: SQLITE_INDEX_CONSTRAINT_EQ/GT/GE/LT/LE)
** under SQLite's comparison rules: NULL matches nothing, every number is
** less than any text or blob. */
void mbIvalApply(MbIval *v, int op, sqlite3_value *pVal, int bReal){
  int t = sqlite3_value_numeric_type(pVal);
  double r;
  if( t==SQLITE_NULL ){ v->bEmpty = 1; return; }
  if( t==SQLITE_TEXT || t==SQLITE_BLOB ){
    /* the value is above every number */
    if( op==SQLITE_INDEX_CONSTRAINT_EQ || op==SQLITE_INDEX_CONSTRAINT_GT
     || op==SQLITE_INDEX_CONSTRAINT_GE ) v->bEmpty = 1;
    return;
  }
  if( bReal ){
    r = sqlite3_value_double(pVal);
    if( isnan(r) ){ v->bEmpty = 1; return; }
    if( t==SQLITE_INTEGER ){
      /* An integer bound that no double equals (beyond 2^53): SQLite
      ** compares the key with it exactly. r is its nearest double, and
      ** no double lies between the two, so the bound becomes r, open or
      ** closed, and = matches nothing. */
      int64_t x = sqlite3_value_int64(pVal);
      int cmp = r>=9.2233720368547758e18 ? 1 : (int64_t)r>x ? 1
              : (int64_t)r<x ? -1 : 0;   /* r against x */
      if( cmp!=0 ){
        if( op==SQLITE_INDEX_CONSTRAINT_EQ ){ v->bEmpty = 1; return; }
        if( cmp>0 ){
          /* x < r: key > x and key >= x are key >= r; key < x and
          ** key <= x are key < r */
          if( op==SQLITE_INDEX_CONSTRAINT_GT ) op = SQLITE_INDEX_CONSTRAINT_GE;
          if( op==SQLITE_INDEX_CONSTRAINT_LE ) op = SQLITE_INDEX_CONSTRAINT_LT;
        }else{
          /* r < x: key >= x is key > r; key <= x is key <= r */
          if( op==SQLITE_INDEX_CONSTRAINT_GE ) op = SQLITE_INDEX_CONSTRAINT_GT;
          if( op==SQLITE_INDEX_CONSTRAINT_LT ) op = SQLITE_INDEX_CONSTRAINT_LE;
        }
      }
    }
    if( op==SQLITE_INDEX_CONSTRAINT_EQ || op==SQLITE_INDEX_CONSTRAINT_GT
     || op==SQLITE_INDEX_CONSTRAINT_GE ){
      int bOpen = op==SQLITE_INDEX_CONSTRAINT_GT;
      if( r>v->rLo || (r==v->rLo && bOpen) ){ v->rLo = r; v->bLoOpen = bOpen; }
    }
    if( op==SQLITE_INDEX_CONSTRAINT_EQ || op==SQLITE_INDEX_CONSTRAINT_LT
     || op==SQLITE_INDEX_CONSTRAINT_LE ){
      int bOpen = op==SQLITE_INDEX_CONSTRAINT_LT;
      if( r<v->rHi || (r==v->rHi && bOpen) ){ v->rHi = r; v->bHiOpen = bOpen; }
    }
    if( v->rLo>v->rHi || (v->rLo==v->rHi && (v->bLoOpen || v->bHiOpen)) ){
      v->bEmpty = 1;
    }
    return;
  }
  /* integer key space */
  {
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    if( t==SQLITE_INTEGER ){
      int64_t x = sqlite3_value_int64(pVal);
      switch( op ){
        case SQLITE_INDEX_CONSTRAINT_EQ: lo = hi = x; break;
        case SQLITE_INDEX_CONSTRAINT_GE: lo = x; break;
        case SQLITE_INDEX_CONSTRAINT_GT:
          if( x==INT64_MAX ){ v->bEmpty = 1; return; }
          lo = x+1; break;
        case SQLITE_INDEX_CONSTRAINT_LE: hi = x; break;
        case SQLITE_INDEX_CONSTRAINT_LT:
          if( x==INT64_MIN ){ v->bEmpty = 1; return; }
          hi = x-1; break;
      }
    }else{
      double fl, ce;
      r = sqlite3_value_double(pVal);
      if( isnan(r) ){ v->bEmpty = 1; return; }
      fl = mbFloor(r); ce = mbCeil(r);
      switch( op ){
        case SQLITE_INDEX_CONSTRAINT_EQ:
          if( fl!=r || r<-9.2233720368547758e18 || r>=9.2233720368547758e18 ){
            v->bEmpty = 1; return;
          }
          lo = hi = (int64_t)r; break;
        /* In integers, never in doubles: fl + 1.0 rounds back to fl
        ** from 2^53 on (k > 2^53 took in 2^53), and at -2^63. fl and ce
        ** are integers, exact in int64 inside [-2^63, 2^63). */
        case SQLITE_INDEX_CONSTRAINT_GE:
          if( ce>=9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          lo = ce<-9.2233720368547758e18 ? INT64_MIN : (int64_t)ce;
          break;
        case SQLITE_INDEX_CONSTRAINT_GT:
          if( fl>=9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          if( fl<-9.2233720368547758e18 ){ lo = INT64_MIN; break; }
          lo = (int64_t)fl;
          if( lo==INT64_MAX ){ v->bEmpty = 1; return; }
          lo++;
          break;
        case SQLITE_INDEX_CONSTRAINT_LE:
          if( fl<-9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          hi = fl>=9.2233720368547758e18 ? INT64_MAX : (int64_t)fl;
          break;
        default:   /* LT */
          if( ce<=-9.2233720368547758e18 ){ v->bEmpty = 1; return; }
          if( ce>=9.2233720368547758e18 ){ hi = INT64_MAX; break; }
          hi = (int64_t)ce - 1;
          break;
      }
    }
    if( lo>v->iLo ) v->iLo = lo;
    if( hi<v->iHi ) v->iHi = hi;
    if( v->iLo>v->iHi ) v->bEmpty = 1;
  }
}

/* First record whose key is >= (bOpen: >) the lower bound of v; or, with
** bUpper, first record whose key is > (bOpen: >=) the upper bound. */
int mbSearch(MbRecTab *p, const MbIval *v, int bUpper,
                    uint64_t *piRow){
  uint64_t lo = 0, hi = mbRowsSeen(p);
  while( lo<hi ){
    uint64_t mid = lo + (hi-lo)/2;
    int64_t ik = 0; double rk = 0.0;
    int bAfter;   /* the record is past the bound */
    int rc = mbReadKey(p, mid, &ik, &rk);
    if( rc ) return rc;
    if( p->bSortedFloat ){
      if( isnan(rk) ) return mbOrderError(p, mid);
      if( bUpper ) bAfter = v->bHiOpen ? rk>=v->rHi : rk>v->rHi;
      else bAfter = v->bLoOpen ? rk>v->rLo : rk>=v->rLo;
    }else{
      if( bUpper ) bAfter = ik>v->iHi;
      else bAfter = ik>=v->iLo;
    }
    if( bAfter ) hi = mid; else lo = mid+1;
  }
  *piRow = lo;
  return SQLITE_OK;
}


/* ------------------------------------------------------------ connect */

/* The tables open in this process, for membase_aggregate() to find by
** connection and name. Guarded by mbOpenMu. */
static MbOpen *mbOpenTabs;

void mbOpenAdd(MbRecTab *p, MbOpen *pNew){
  mb_mutex_enter(&mbOpenMu);
  pNew->pTab = p;
  pNew->pNext = mbOpenTabs;
  mbOpenTabs = pNew;
  mb_mutex_leave(&mbOpenMu);
}

void mbOpenRemove(MbRecTab *p){
  MbOpen **pp;
  mb_mutex_enter(&mbOpenMu);
  for(pp=&mbOpenTabs; *pp; pp=&(*pp)->pNext){
    if( (*pp)->pTab==p ){
      MbOpen *o = *pp;
      *pp = o->pNext;
      sqlite3_free(o);
      break;
    }
  }
  mb_mutex_leave(&mbOpenMu);
}

/* The schema whose table or view zName SQL would use in an unqualified
** name: temp, then main, then the attached databases in the order they
** were attached (SQLite's own order), the first that has one, whatever
** its kind: a native table there hides a membase table of the same name
** further on. NULL when none has; sqlite3_malloc'ed. */
static char *mbSchemaOf(sqlite3 *db, const char *zName){
  sqlite3_stmt *pList = 0;
  char *zFound = 0;
  int pass;
  if( sqlite3_prepare_v2(db, "PRAGMA database_list", -1, &pList, 0) ){
    sqlite3_finalize(pList);
    return 0;
  }
  /* pass 0: temp; pass 1: main; pass 2: the others, in seq order */
  for(pass=0; pass<3 && zFound==0; pass++){
    sqlite3_reset(pList);
    while( zFound==0 && sqlite3_step(pList)==SQLITE_ROW ){
      int seq = sqlite3_column_int(pList, 0);
      const char *zDb = (const char*)sqlite3_column_text(pList, 1);
      sqlite3_stmt *pQ = 0;
      char *zSql;
      if( zDb==0 ) continue;
      if( pass==0 ? seq!=1 : pass==1 ? seq!=0 : seq<2 ) continue;
      zSql = sqlite3_mprintf("SELECT 1 FROM \"%w\".sqlite_schema WHERE type IN "
                             "('table','view') AND name=?1 COLLATE NOCASE", zDb);
      if( zSql && sqlite3_prepare_v2(db, zSql, -1, &pQ, 0)==SQLITE_OK ){
        sqlite3_bind_text(pQ, 1, zName, -1, SQLITE_STATIC);
        if( sqlite3_step(pQ)==SQLITE_ROW ) zFound = sqlite3_mprintf("%s", zDb);
      }
      sqlite3_finalize(pQ);
      sqlite3_free(zSql);
    }
  }
  sqlite3_finalize(pList);
  return zFound;
}

/* The table SQLite means by [zSchema.]zName: with no schema, the one of
** the schema SQL's name resolution picks (mbSchemaOf), if it is ours. */
MbRecTab *mbOpenFind(sqlite3 *db, const char *zSchema,
                            const char *zName){
  MbOpen *o;
  MbRecTab *p = 0;
  char *zOwn = 0;
  if( zSchema==0 ){
    zOwn = mbSchemaOf(db, zName);
    if( zOwn==0 ) return 0;
    zSchema = zOwn;
  }
  mb_mutex_enter(&mbOpenMu);
  for(o=mbOpenTabs; o; o=o->pNext){
    if( o->pTab->db!=db || sqlite3_stricmp(o->pTab->zName, zName)!=0 ) continue;
    if( sqlite3_stricmp(o->pTab->zSchema, zSchema)!=0 ) continue;
    p = o->pTab;
    break;
  }
  mb_mutex_leave(&mbOpenMu);
  sqlite3_free(zOwn);
  return p;
}



int mbKeyRange(MbRecTab *p, const MbIval *v, uint64_t *pLo,
                      uint64_t *pHi){
  int rc;
  if( v->bEmpty ){ *pLo = *pHi = 0; return SQLITE_OK; }
  rc = mbSearch(p, v, 0, pLo);
  if( rc==SQLITE_OK ) rc = mbSearch(p, v, 1, pHi);
  if( rc==SQLITE_OK && *pHi<*pLo ) *pHi = *pLo;
  return rc;
}

/* ------------------------------------------------------------ own writes */

uint64_t mbWsHashOf(uint64_t x){
  x ^= x>>33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x>>33;
  return x;
}

/* The write set's image of record iRow, or 0. */
unsigned char *mbWsFind(const MbRecTab *p, uint64_t iRow){
  uint64_t m, i;
  if( p->nWs==0 ) return 0;
  m = p->nWsHash-1;
  for(i=mbWsHashOf(iRow)&m; p->aWsHash[2*i]; i=(i+1)&m){
    if( p->aWsHash[2*i]==iRow+1 ){
      return p->aWsImg + p->aWsHash[2*i+1]*p->nRecord;
    }
  }
  return 0;
}

/* Copy the part of record iRow's image pImg that falls in [off, off+n)
** of the file into d (which holds those n bytes). */
static void mbOverlayOne(const MbRecTab *p, uint64_t off, unsigned char *d,
                         size_t n, uint64_t iRow, const unsigned char *pImg){
  uint64_t a = p->nHeader + iRow*p->nStride, b = a + p->nRecord;
  uint64_t x = a>off ? a : off, y = b<off+n ? b : off+n;
  if( x<y ) memcpy(d + (x-off), pImg + (x-a), (size_t)(y-x));
}

static void mbWsOverlay(const MbRecTab *p, uint64_t off, unsigned char *d,
                        size_t n){
  uint64_t lo, hi, r;
  if( n==0 || off+n<=p->nHeader ) return;
  lo = off<p->nHeader ? 0 : (off-p->nHeader)/p->nStride;
  hi = (off+n-1-p->nHeader)/p->nStride + 1;
  if( hi-lo > 4*p->nWs ){
    /* a long read and a small write set: walk the write set */
    uint64_t k;
    for(k=0; k<p->nWs; k++){
      r = p->aWsRow[k];
      if( r>=lo && r<hi ) mbOverlayOne(p, off, d, n, r, p->aWsImg + k*p->nRecord);
    }
  }else{
    for(r=lo; r<hi; r++){
      const unsigned char *pImg = mbWsFind(p, r);
      if( pImg ) mbOverlayOne(p, off, d, n, r, pImg);
    }
  }
}

/* Read [off, off+n) as this connection sees it: the file, with its own
** transaction's updates and appends over it. Every read of a table's
** records goes through here. */
int mbReadView(MbRecTab *p, uint64_t off, void *dst, size_t n){
  uint64_t nEnd = p->nHeader + p->nRows*p->nStride;
  unsigned char *d = dst;
  int rc;
  if( p->nPend==0 || off+n<=nEnd ){
    rc = mbRead(p, off, dst, n);
    if( rc==SQLITE_OK && p->nWs ) mbWsOverlay(p, off, d, n);
    return rc;
  }
  if( off<nEnd ){
    size_t k = (size_t)(nEnd-off);
    rc = mbRead(p, off, d, k);
    if( rc ) return rc;
    if( p->nWs ) mbWsOverlay(p, off, d, k);
  }
  {
    uint64_t from = off>nEnd ? off : nEnd, len = off+n-from;
    if( from-nEnd+len > p->nPend*p->nStride ){
      return mb_vtab_error(&p->base, SQLITE_INTERNAL, "membase: %s: read past "
                           "the appended records", p->zFile);
    }
    memcpy(d + (from-off), p->aPend + (from-nEnd), (size_t)len);
  }
  return SQLITE_OK;
}

