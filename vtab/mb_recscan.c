/*
** mb_recscan.c -- how a membase table is read: the plan (xBestIndex) and
** the cursor (xOpen, xFilter, xNext, xColumn ...). mb_records.c has the
** planner's contract in its manual.
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

/* ------------------------------------------------------------ planning */

/* GROUP BY: the rows need only come grouped (sqlite3_vtab_distinct() 1),
** which mb_recgroup.c does (groups in key order) when every term is a
** column of the table (the rowid is left to the scan order) and the table
** is within the pass's memory cap. Writes the columns, "4,1d" (d: DESC),
** to zOut; returns how many (0: SQLite sorts). */
static int mbGroupPlan(MbRecTab *p, sqlite3_index_info *pInfo,
                       char *zOut /* MB_GROUP_MAX_COLS*13+1 bytes */){
  int eDistinct = sqlite3_vtab_distinct(pInfo);
  int i, j, n = 0, aCol[MB_GROUP_MAX_COLS], aDesc[MB_GROUP_MAX_COLS];
  char *z = zOut;
  /* Only GROUP BY (1). SQLite 3.40 ignores a virtual table's order for
  ** DISTINCT (2, 3): it still checks each row against a temporary index
  ** (OP_Found), so grouping would be a pass for nothing; and dropping the
  ** repeated rows, which 2 and 3 allow, is unsafe while SQLite applies
  ** terms we are not shown (rowid % 2 = 0) to the rows we return. */
  if( eDistinct!=1 ) return 0;
  if( mbRowsSeen(p)>MB_GROUP_MAX_ROWS ) return 0;
  {
    /* and only when its 8 bytes a record are at most a quarter of what
    ** the process may still use: SQLite's sorter spills to temporary
    ** files, the pass cannot */
    mb_memory m;
    if( mb_memory_sample(&m)==MB_OK && m.available!=UINT64_MAX
     && mbRowsSeen(p)*8 > m.available/4 ){
      return 0;
    }
  }
  for(i=0; i<pInfo->nOrderBy; i++){
    int iCol = pInfo->aOrderBy[i].iColumn;
    if( iCol<0 || iCol>=p->nCol ) return 0;
    for(j=0; j<n && aCol[j]!=iCol; j++){}
    if( j<n ) continue;             /* GROUP BY a, a: the second is moot */
    if( n>=MB_GROUP_MAX_COLS ) return 0;
    aDesc[n] = pInfo->aOrderBy[i].desc;
    aCol[n++] = iCol;
  }
  for(i=0; i<n; i++){
    /* at most 13 bytes a column ("," 10 digits "d"), NUL included */
    sqlite3_snprintf(14, z, "%s%d%s", i ? "," : "", aCol[i], aDesc[i] ? "d" : "");
    z += strlen(z);
  }
  return n;
}

int mbRecBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  MbRecTab *p = (MbRecTab*)pVtab;
  char zCodes[64];
  int nCode = 0, nArg = 0, i;
  int bRowEq = 0, bRowRange = 0, bKeyEq = 0, bKeyRange = 0;
  int idxNum = 0, bRowIn = 0, bKeyIn = 0, bRowInEq = 0;
  double nRows = (double)(p->nRows ? p->nRows : 1);
  double rEst;
  char zGroup[MB_GROUP_MAX_COLS*13+1];
  int nGroup = 0;

  for(i=0; i<pInfo->nConstraint && nCode<60; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    char c = 0;
    int bKey;
    if( !pC->usable ) continue;
    if( pC->iColumn<0 ) bKey = 0;
    else if( pC->iColumn==p->iSorted ) bKey = 1;
    else continue;
    switch( pC->op ){
      case SQLITE_INDEX_CONSTRAINT_EQ:
        if( sqlite3_vtab_in(pInfo, i, -1) ){
          /* one IN list per column, all at once; SQLite applies others */
          if( bKey ? bKeyIn : bRowIn ) continue;
          if( bKey ) bKeyIn = 1; else bRowIn = 1;
          sqlite3_vtab_in(pInfo, i, 1);
          c = bKey ? 'e' : 'r';
        }else{
          c = bKey ? 'E' : 'R';
        }
        if( bKey ) bKeyEq = 1;
        else if( c=='R' ) bRowEq = 1;   /* one record at most */
        else bRowInEq = 1;              /* IN: one record per value */
        break;
      case SQLITE_INDEX_CONSTRAINT_GT: c = bKey ? 'H' : 'G'; break;
      case SQLITE_INDEX_CONSTRAINT_GE: c = bKey ? 'h' : 'g'; break;
      case SQLITE_INDEX_CONSTRAINT_LT: c = bKey ? 'M' : 'L'; break;
      case SQLITE_INDEX_CONSTRAINT_LE: c = bKey ? 'm' : 'l'; break;
      default: continue;
    }
    if( c!='E' && c!='e' && c!='R' && c!='r' ){
      if( bKey ) bKeyRange = 1; else bRowRange = 1;
    }
    zCodes[nCode++] = c;
    pInfo->aConstraintUsage[i].argvIndex = ++nArg;
    pInfo->aConstraintUsage[i].omit = 1;
  }
  /* ORDER BY is consumed when the scan order gives it: rowid, or the
  ** sorted column (whose ties are in rowid order) optionally followed by
  ** rowid, all in one direction. Terms after rowid are moot (rowid is
  ** unique). Anything else is left to SQLite's sorter. */
  if( pInfo->nOrderBy>0 ){
    int bOk = 1, bDesc = pInfo->aOrderBy[0].desc, bUsesKey = 0;
    for(i=0; i<pInfo->nOrderBy; i++){
      int iCol = pInfo->aOrderBy[i].iColumn;
      if( pInfo->aOrderBy[i].desc!=bDesc ){ bOk = 0; break; }
      if( iCol<0 ) break;
      if( i==0 && p->iSorted>=0 && iCol==p->iSorted ){ bUsesKey = 1; continue; }
      bOk = 0;
      break;
    }
    /* the sorted column alone: ties come out in rowid order, which is a
    ** valid order for a single-term ORDER BY. For a GROUP BY asked in
    ** descending order the backward scan would give each group's rows
    ** last first (so a float sum or group_concat would differ from the
    ** record order a forward GROUP BY promises): the grouping pass gives
    ** the groups descending and each group's rows in record order; only
    ** when it cannot run (its memory cap) is the backward scan used, as
    ** a native index scanned backward would */
    if( bOk && bDesc && bUsesKey && sqlite3_vtab_distinct(pInfo)==1 ){
      nGroup = mbGroupPlan(p, pInfo, zGroup);
      if( nGroup ){
        pInfo->orderByConsumed = 1;
        idxNum |= 4;
        bOk = 0;
      }
    }
    if( nGroup ){
      /* the grouping pass above */
    }else if( bOk ){
      pInfo->orderByConsumed = 1;
      if( bDesc ) idxNum |= 1;
      if( bUsesKey ) idxNum |= 2;
    }else{
      nGroup = mbGroupPlan(p, pInfo, zGroup);
      if( nGroup ){
        pInfo->orderByConsumed = 1;
        idxNum |= 4;
      }
    }
  }
  /* LIMIT and OFFSET are never consumed. They could be only when nothing
  ** is left for SQLite to do after the scan, and SQLite 3.40 cannot tell
  ** us that: it offers LIMIT even when the WHERE clause has terms it never
  ** shows us (a > b between two columns of this table, x = x, likely()),
  ** which it then applies to the rows we return: a scan cut at LIMIT gave
  ** too few rows. SQLite stops calling xNext after LIMIT rows anyway, and
  ** the cursor reads lazily (its first block is small), so nothing is
  ** lost but the cut of the last block. */
  zCodes[nCode] = 0;

  if( bKeyEq || bKeyRange ) idxNum |= 2;

  if( bRowEq ){
    /* SCAN_UNIQUE only for rowid = : SQLite then reads one row at most
    ** (an UPDATE becomes one-pass without a loop), so an IN list must
    ** never claim it (it did: UPDATE ... WHERE rowid IN (0,3,6) changed
    ** record 0 alone) */
    rEst = 1.0;
    pInfo->estimatedCost = 1.0;
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }else if( bRowInEq ){
    rEst = 4.0;
    pInfo->estimatedCost = rEst;
  }else if( bKeyEq ){
    rEst = 4.0;
    pInfo->estimatedCost = mbLog2(nRows+1.0) + rEst;
  }else if( bRowRange || bKeyRange ){
    rEst = nRows/4.0 + 1.0;
    pInfo->estimatedCost = (bKeyRange ? mbLog2(nRows+1.0) : 0.0) + rEst;
  }else{
    rEst = nRows;
    pInfo->estimatedCost = nRows + 1.0;
  }
  pInfo->estimatedRows = (sqlite3_int64)rEst;
  pInfo->idxNum = idxNum;
  if( nCode || nGroup ){
    pInfo->idxStr = sqlite3_mprintf("%s%s%s", zCodes, nGroup ? "#" : "",
                                    nGroup ? zGroup : "");
    if( pInfo->idxStr==0 ) return SQLITE_NOMEM;
    pInfo->needToFreeIdxStr = 1;
  }
  return SQLITE_OK;
}


/* ------------------------------------------------------------ cursor */

int mbRecOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  MbRecTab *p = (MbRecTab*)pVtab;
  MbRecCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->nStride = p->nStride;
  pCur->nBufRows = MB_BLOCK_BYTES / p->nStride;
  if( pCur->nBufRows==0 ) pCur->nBufRows = 1;
  /* the last record of a block needs only its layout's bytes */
  pCur->aBuf = sqlite3_malloc64((pCur->nBufRows-1)*p->nStride + p->nRecord);
  if( pCur->aBuf==0 ){ sqlite3_free(pCur); return SQLITE_NOMEM; }
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

int mbRecClose(sqlite3_vtab_cursor *cur){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  if( pCur->bViewLock ) mbViewEnd((MbRecTab*)cur->pVtab);
  if( pCur->bScan ) (void)mb_scan_finish(&pCur->scan, 0);
  if( pCur->aRange!=&pCur->one ) sqlite3_free(pCur->aRange);
  mbGroupFree(pCur);
  sqlite3_free(pCur->aBuf);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Load the block holding record iRow (moving in the cursor's direction,
** within the current range) and point pRec at it. */
static int mbLoadBlock(MbRecCursor *pCur){
  MbRecTab *p = (MbRecTab*)pCur->base.pVtab;
  const MbRange *r = &pCur->aRange[pCur->iRange];
  uint64_t lo, hi;
  int rc;
  if( !pCur->bDesc ){
    lo = pCur->iRow;
    hi = r->iEnd - lo > pCur->nLoadRows ? lo + pCur->nLoadRows : r->iEnd;
  }else{
    hi = pCur->iRow + 1;
    lo = hi - r->iFirst > pCur->nLoadRows ? hi - pCur->nLoadRows : r->iFirst;
  }
  if( pCur->nLoadRows<pCur->nBufRows ){
    pCur->nLoadRows *= 2;
    if( pCur->nLoadRows>pCur->nBufRows ) pCur->nLoadRows = pCur->nBufRows;
  }
  if( pCur->bScan ){
    (void)mb_scan_advance(&pCur->scan, p->nHeader + lo*p->nStride);
  }
  rc = mbReadView(p, p->nHeader + lo*p->nStride, pCur->aBuf,
                  (size_t)((hi-lo-1)*p->nStride + p->nRecord));
  if( rc ) return rc;
  {
    /* the end of what was read from the file (appends are in memory) */
    uint64_t e = p->nHeader + (hi-1)*p->nStride + p->nRecord;
    if( hi>p->nRows ) e = p->nHeader + p->nRows*p->nStride;
    if( e>pCur->iReadHi ) pCur->iReadHi = e;
  }
  pCur->iBufLo = lo;
  pCur->iBufHi = hi;
  pCur->pRec = pCur->aBuf + (pCur->iRow - lo)*p->nStride;
  return SQLITE_OK;
}

/* At the end of a scan: the file must still hold every byte the scan
** read. A truncation by another process while the statement ran leaves
** the page holding the new end of file mapped, and the records cut off
** inside it read as zeros, not as a fault: they must not pass for data.
** One fstat per statement (whole pages cut off fault, and the guarded
** copy makes those an error at once). */
static int mbCheckStillThere(MbRecCursor *pCur){
  MbRecTab *p = (MbRecTab*)pCur->base.pVtab;
  uint64_t nNow = 0;
  if( pCur->iReadHi==0 ) return SQLITE_OK;
  if( mb_map_stamp(p->pMap, &nNow, 0)==MB_OK && nNow<pCur->iReadHi ){
    (void)mbMapRefresh(p->pMap);
    p->nMapSize = (uint64_t)-1;
    return mb_vtab_error(&p->base, SQLITE_IOERR_SHORT_READ, "membase: %s: the file was "
                    "truncated while it was read (it has %llu bytes, the "
                    "query read up to byte %llu)", p->zFile,
                    (unsigned long long)nNow,
                    (unsigned long long)pCur->iReadHi);
  }
  return SQLITE_OK;
}

/* Enter range iRange at its first record in the cursor's direction. */
static int mbEnterRange(MbRecCursor *pCur){
  while( pCur->iRange>=0 && pCur->iRange<pCur->nRange ){
    const MbRange *r = &pCur->aRange[pCur->iRange];
    if( r->iFirst<r->iEnd ){
      pCur->iRow = pCur->bDesc ? r->iEnd-1 : r->iFirst;
      return mbLoadBlock(pCur);
    }
    pCur->iRange += pCur->bDesc ? -1 : 1;
  }
  pCur->bEof = 1;
  return mbCheckStillThere(pCur);
}

static int mbNextSlow(MbRecCursor *pCur){
  const MbRange *r = &pCur->aRange[pCur->iRange];
  if( !pCur->bDesc ){
    if( pCur->iRow<r->iEnd ) return mbLoadBlock(pCur);
    pCur->iRange++;
  }else{
    if( pCur->iRow>r->iFirst ){
      pCur->iRow--;
      return mbLoadBlock(pCur);
    }
    pCur->iRange--;
  }
  return mbEnterRange(pCur);
}

/* Grouped: the next gathered block, or the end. */
static int mbGroupNext(MbRecCursor *pCur){
  int rc = mbGroupLoad(pCur);
  if( rc==SQLITE_OK && pCur->bEof ) rc = mbCheckStillThere(pCur);
  return rc;
}

/* The hot path: a few instructions unless a block or range ends. */
int mbRecNext(sqlite3_vtab_cursor *cur){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  if( pCur->aIdx ){
    /* grouped: the next record of the gathered block */
    if( ++pCur->iPos<pCur->iGathHi ){
      pCur->pRec += pCur->nStride;
      pCur->iRow = pCur->aIdx[pCur->iPos];
      return SQLITE_OK;
    }
    return mbGroupNext(pCur);
  }
  if( !pCur->bDesc ){
    if( ++pCur->iRow<pCur->iBufHi ){
      pCur->pRec += pCur->nStride;
      return SQLITE_OK;
    }
  }else if( pCur->iRow>pCur->iBufLo ){
    pCur->iRow--;
    pCur->pRec -= pCur->nStride;
    return SQLITE_OK;
  }
  return mbNextSlow(pCur);
}

int mbRecEof(sqlite3_vtab_cursor *cur){
  return ((MbRecCursor*)cur)->bEof;
}

int mbRecColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  const MbCol *c = &((MbRecTab*)cur->pVtab)->aCol[i];
  /* A column an UPDATE does not assign: no value, so xUpdate sees it as
  ** unchanged and keeps the field's bytes exactly (a u64 above 2^63, a
  ** NaN, a bool byte of 2 survive a round trip through SQL otherwise). */
  if( sqlite3_vtab_nochange(ctx) ) return SQLITE_OK;
  mbCodecResult(ctx, c, pCur->pRec + c->iOff);
  return SQLITE_OK;
}

int mbRecRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = (sqlite_int64)((MbRecCursor*)cur)->iRow;
  return SQLITE_OK;
}

static int mbRangeCmp(const void *a, const void *b){
  const MbRange *x = a, *y = b;
  return x->iFirst<y->iFirst ? -1 : x->iFirst>y->iFirst;
}

/* Add the records matching interval v of the sorted key (or of the rowid,
** bRowid) to the cursor's ranges, within [lo, hi). */
static int mbAddRange(MbRecTab *p, MbRecCursor *pCur, int *pnAlloc,
                      uint64_t iFirst, uint64_t iEnd){
  if( iFirst>=iEnd ) return SQLITE_OK;
  if( pCur->nRange>=*pnAlloc ){
    int nNew = *pnAlloc ? *pnAlloc*2 : 8;
    MbRange *a = sqlite3_realloc64(pCur->aRange==&pCur->one ? 0 : pCur->aRange,
                                   sizeof(MbRange)*(uint64_t)nNew);
    (void)p;
    if( a==0 ) return SQLITE_NOMEM;
    if( pCur->aRange==&pCur->one && pCur->nRange ) a[0] = pCur->one;
    pCur->aRange = a;
    *pnAlloc = nNew;
  }
  pCur->aRange[pCur->nRange].iFirst = iFirst;
  pCur->aRange[pCur->nRange].iEnd = iEnd;
  pCur->nRange++;
  return SQLITE_OK;
}


/* The constraints xFilter received, decoded from idxStr and argv. */
typedef struct MbFilterArgs {
  MbIval rowIv, keyIv;        /* the rowid and sorted-key intervals */
  int bKeySet;                /* some constraint is on the sorted key */
  sqlite3_value *pRowIn;      /* rowid IN list, or = value */
  sqlite3_value *pKeyIn;      /* sorted key IN list, or = value */
  int bRowInList, bKeyInList; /* pRowIn / pKeyIn is an IN list */
} MbFilterArgs;

/* Decode idxStr (the codes mbRecBestIndex chose, one per argument). */
static void mbFilterDecode(MbRecTab *p, const char *idxStr,
                           sqlite3_value **argv, MbFilterArgs *f){
  int i, bR = p->bSortedFloat;
  memset(f, 0, sizeof(*f));
  mbIvalAll(&f->rowIv);
  mbIvalAll(&f->keyIv);
  for(i=0; idxStr && idxStr[i] && idxStr[i]!='#'; i++){
    sqlite3_value *v = argv[i];
    switch( idxStr[i] ){
      case 'R': case 'r':
        /* the IN list (at most one) or the first = enumerates records;
        ** any other = narrows the interval */
        if( f->pRowIn==0 ){
          f->pRowIn = v; f->bRowInList = idxStr[i]=='r';
        }else if( idxStr[i]=='r' ){
          mbIvalApply(&f->rowIv, SQLITE_INDEX_CONSTRAINT_EQ, f->pRowIn, 0);
          f->pRowIn = v; f->bRowInList = 1;
        }else{
          mbIvalApply(&f->rowIv, SQLITE_INDEX_CONSTRAINT_EQ, v, 0);
        }
        break;
      case 'G': mbIvalApply(&f->rowIv, SQLITE_INDEX_CONSTRAINT_GT, v, 0); break;
      case 'g': mbIvalApply(&f->rowIv, SQLITE_INDEX_CONSTRAINT_GE, v, 0); break;
      case 'L': mbIvalApply(&f->rowIv, SQLITE_INDEX_CONSTRAINT_LT, v, 0); break;
      case 'l': mbIvalApply(&f->rowIv, SQLITE_INDEX_CONSTRAINT_LE, v, 0); break;
      case 'E': case 'e':
        if( f->pKeyIn==0 ){
          f->pKeyIn = v; f->bKeyInList = idxStr[i]=='e';
        }else if( idxStr[i]=='e' ){
          mbIvalApply(&f->keyIv, SQLITE_INDEX_CONSTRAINT_EQ, f->pKeyIn, bR);
          f->pKeyIn = v; f->bKeyInList = 1;
        }else{
          mbIvalApply(&f->keyIv, SQLITE_INDEX_CONSTRAINT_EQ, v, bR);
        }
        f->bKeySet = 1;
        break;
      case 'H': mbIvalApply(&f->keyIv, SQLITE_INDEX_CONSTRAINT_GT, v, bR);
        f->bKeySet = 1; break;
      case 'h': mbIvalApply(&f->keyIv, SQLITE_INDEX_CONSTRAINT_GE, v, bR);
        f->bKeySet = 1; break;
      case 'M': mbIvalApply(&f->keyIv, SQLITE_INDEX_CONSTRAINT_LT, v, bR);
        f->bKeySet = 1; break;
      case 'm': mbIvalApply(&f->keyIv, SQLITE_INDEX_CONSTRAINT_LE, v, bR);
        f->bKeySet = 1; break;
    }
  }
}

/* Every query looks at the file's current size (one fstat; the view is
** remapped only if the size changed): a record past a truncation inside
** the last page would otherwise read as zeros. */
static int mbFilterCheckSize(MbRecTab *p){
  uint64_t nNow = p->nViewSize;
  p->nViewSize = (uint64_t)-1;   /* mbViewBegin's reading: once */
  if( (nNow==(uint64_t)-1 && mb_map_stamp(p->pMap, &nNow, 0)!=MB_OK)
   || nNow!=mb_map_size(p->pMap)
   || p->nMapSize!=nNow ){
    return mbRefresh(p);
  }
  return SQLITE_OK;
}

/* The first value of an IN list (*pbList stays 1), or v itself when v is
** an = value or SQLite declined all-at-once IN processing (then one value
** per xFilter call, and *pbList becomes 0). */
static int mbInFirst(sqlite3_value *v, int *pbList, sqlite3_value **ppV){
  int rc;
  if( !*pbList ){ *ppV = v; return SQLITE_OK; }
  rc = sqlite3_vtab_in_first(v, ppV);
  if( rc==SQLITE_ERROR ){ *ppV = v; *pbList = 0; rc = SQLITE_OK; }
  return rc;
}

/* The record ranges of the sorted-key constraints within rowids [lo, hi):
** one binary search per key value, or per interval. */
static int mbFilterKeyRanges(MbRecTab *p, MbRecCursor *pCur, MbFilterArgs *f,
                             uint64_t lo, uint64_t hi, int *pnAlloc){
  sqlite3_value *pV = 0;
  uint64_t a, b;
  int rc;
  if( !f->pKeyIn ){
    if( f->bKeySet ){
      rc = mbKeyRange(p, &f->keyIv, &a, &b);
      if( rc ) return rc;
      if( a>lo ) lo = a;
      if( b<hi ) hi = b;
    }
    return mbAddRange(p, pCur, pnAlloc, lo, hi);
  }
  rc = mbInFirst(f->pKeyIn, &f->bKeyInList, &pV);
  while( rc==SQLITE_OK && pV ){
    MbIval one = f->keyIv;
    mbIvalApply(&one, SQLITE_INDEX_CONSTRAINT_EQ, pV, p->bSortedFloat);
    rc = mbKeyRange(p, &one, &a, &b);
    if( rc ) return rc;
    rc = mbAddRange(p, pCur, pnAlloc, a<lo ? lo : a, b>hi ? hi : b);
    if( rc ) return rc;
    if( !f->bKeyInList ) break;
    rc = sqlite3_vtab_in_next(f->pKeyIn, &pV);
  }
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

/* rowid = or IN: keep the listed records that lie in the ranges found. */
static int mbFilterRowids(MbRecTab *p, MbRecCursor *pCur, MbFilterArgs *f){
  MbRange *aOld = pCur->aRange;
  int nOld = pCur->nRange;
  int bOwned = aOld!=&pCur->one;
  MbRange oneOld = pCur->one;
  sqlite3_value *pV = 0;
  int rc, nAlloc = 0;
  if( !bOwned ) aOld = &oneOld;
  pCur->aRange = &pCur->one;
  pCur->nRange = 0;
  rc = mbInFirst(f->pRowIn, &f->bRowInList, &pV);
  while( rc==SQLITE_OK && pV ){
    MbIval one = f->rowIv;
    mbIvalApply(&one, SQLITE_INDEX_CONSTRAINT_EQ, pV, 0);
    if( !one.bEmpty && one.iLo>=0 ){
      uint64_t r = (uint64_t)one.iLo;
      int k;
      if( r>=mbRowsSeen(p) && p->nMapSize!=(uint64_t)-1 ){
        /* past the end as we knew it: the file may have grown */
        rc = mbRefresh(p);
        if( rc ) break;
      }
      for(k=0; k<nOld; k++){
        if( r>=aOld[k].iFirst && r<aOld[k].iEnd && r<mbRowsSeen(p) ){
          rc = mbAddRange(p, pCur, &nAlloc, r, r+1);
          break;
        }
      }
      if( rc ) break;
    }
    if( !f->bRowInList ) break;
    rc = sqlite3_vtab_in_next(f->pRowIn, &pV);
  }
  if( bOwned ) sqlite3_free(aOld);
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

/* Sort the ranges and merge overlaps (IN lists may repeat values). */
static void mbRangesNormalize(MbRecCursor *pCur){
  int k, n = 1;
  if( pCur->nRange<=1 ) return;
  qsort(pCur->aRange, (size_t)pCur->nRange, sizeof(MbRange), mbRangeCmp);
  for(k=1; k<pCur->nRange; k++){
    MbRange *pLast = &pCur->aRange[n-1];
    if( pCur->aRange[k].iFirst<=pLast->iEnd ){
      if( pCur->aRange[k].iEnd>pLast->iEnd ) pLast->iEnd = pCur->aRange[k].iEnd;
    }else{
      pCur->aRange[n++] = pCur->aRange[k];
    }
  }
  pCur->nRange = n;
}

/* Access pattern: scans read ahead (and may drop behind), point lookups
** ask for random access. */
static void mbCursorAdvice(MbRecTab *p, MbRecCursor *pCur, int bPoint){
  uint64_t nTotal = 0;
  int k;
  for(k=0; k<pCur->nRange; k++){
    nTotal += pCur->aRange[k].iEnd - pCur->aRange[k].iFirst;
  }
  if( pCur->bScan ) (void)mb_scan_finish(&pCur->scan, 0);
  pCur->bScan = nTotal > pCur->nBufRows;
  if( pCur->bScan ){
    mbAdvise(p, MB_ADV_SEQUENTIAL);
    mb_scan_init(&pCur->scan, p->pMap, 0, MB_POP_DEFAULT);
    if( p->eDrop>=0 ) mb_scan_set_dropbehind(&pCur->scan, (mb_dropbehind)p->eDrop);
  }else if( bPoint ){
    mbAdvise(p, MB_ADV_RANDOM);
  }
}

int mbRecFilter(
  sqlite3_vtab_cursor *cur,
  int idxNum,
  const char *idxStr,
  int argc,
  sqlite3_value **argv
){
  MbRecCursor *pCur = (MbRecCursor*)cur;
  MbRecTab *p = (MbRecTab*)cur->pVtab;
  MbFilterArgs f;
  int rc, nAlloc = 0;
  uint64_t lo = 0, hi;
  (void)argc;

  if( pCur->aRange && pCur->aRange!=&pCur->one ) sqlite3_free(pCur->aRange);
  pCur->aRange = &pCur->one;
  pCur->nRange = 0;
  pCur->bEof = 0;
  pCur->bDesc = idxNum & 1;
  mbGroupFree(pCur);
  pCur->iBufLo = pCur->iBufHi = 0;
  pCur->nLoadRows = pCur->nBufRows<16 ? pCur->nBufRows : 16;
  pCur->iReadHi = 0;

  /* The statement reads a committed state (and its connection's own
  ** writes) until the cursor closes: no commit applies meanwhile. */
  if( !pCur->bViewed ){
    rc = mbViewBegin(p, &pCur->bViewLock);
    if( rc ) return rc;
    pCur->bViewed = 1;
  }
  mbFilterDecode(p, idxStr, argv, &f);
  rc = mbFilterCheckSize(p);
  if( rc ) return rc;
  hi = mbRowsSeen(p);
  if( f.rowIv.bEmpty || f.rowIv.iHi<0 ){ hi = 0; }
  else{
    if( f.rowIv.iLo>0 ) lo = (uint64_t)f.rowIv.iLo;
    if( (uint64_t)f.rowIv.iHi < hi ) hi = (uint64_t)f.rowIv.iHi + 1;
  }
  if( (idxNum & 2) && p->iSorted>=0 ){
    rc = mbVerifySorted(p);
    if( rc ) return rc;
  }
  rc = mbFilterKeyRanges(p, pCur, &f, lo, hi, &nAlloc);
  if( rc==SQLITE_OK && f.pRowIn ) rc = mbFilterRowids(p, pCur, &f);
  if( rc ) return rc;
  mbRangesNormalize(pCur);
  if( idxNum & 4 ){
    /* grouped: one pass over the ranges, then a gather in group order
    ** (normal advice: the gather comes back to every page) */
    if( pCur->bScan ){ (void)mb_scan_finish(&pCur->scan, 0); pCur->bScan = 0; }
    mbAdvise(p, MB_ADV_NORMAL);
    rc = mbGroupBuild(p, pCur, strchr(idxStr, '#')+1);
    if( rc==SQLITE_OK && pCur->bEof ) rc = mbCheckStillThere(pCur);
    return rc;
  }
  mbCursorAdvice(p, pCur, f.pRowIn || f.pKeyIn);
  pCur->iRange = pCur->bDesc ? pCur->nRange-1 : 0;
  return mbEnterRange(pCur);
}

