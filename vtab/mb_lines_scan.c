/*
** mb_lines_scan.c -- the scan of membase_lines: the three paths of xNext
** (every line; no line's bytes needed; lines holding a LIKE/GLOB literal)
** and the errors met while reading. mb_lines.c has the user manual.
*/
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_find.h"
#include "mb_lines_int.h"
#include "mb_window.h"
#include "../ext/mb_sqlite.h"

/* ------------------------------------------------------------ errors */

/*
** A core failure mrc met while reading the file: the SQLite code, with the
** vtab's message naming the file. SQLITE_ERROR, not an SQLITE_IOERR_*:
** SQLite answers an I/O error of a statement by rolling back the
** connection's whole transaction (sqlite3VdbeHalt), and the file read here
** is the user's file, not the database. MB_ENOMEM is SQLITE_NOMEM as it is
** (not through mb_sqlite_rc: the window's and the line index's own
** allocations leave no OS error of their own behind).
*/
int mbLinesReadError(MbLinesCursor *pCur, int mrc){
  sqlite3_vtab *pVtab = pCur->base.pVtab;
  char *zMsg;
  pCur->bEof = 1;
  if( mrc==MB_ENOMEM ) return SQLITE_NOMEM;
  if( mrc==MB_EFAULT ){
    return mb_vtab_error(pVtab, SQLITE_ERROR, "membase_lines: \"%s\" was "
                         "truncated during the scan", pCur->zFile);
  }
  zMsg = mb_sqlite_errmsg("membase_lines", "read", pCur->zFile, mrc);
  if( zMsg==0 ) return SQLITE_NOMEM;
  return mb_vtab_error(pVtab, SQLITE_ERROR, "%z", zMsg);
}

/* ------------------------------------------------------------ next */

/* The scan reached its end: check once that the file still holds what was
** read (a truncation that left the copies readable, zeros past the new
** end of a page, is caught here). */
static int mbLinesFinish(MbLinesCursor *pCur){
  pCur->bEof = 1;
  if( !pCur->bChecked && pCur->bWin ){
    int mrc;
    pCur->bChecked = 1;
    mrc = mb_window_check(&pCur->win, pCur->iEnd);
    if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
  }
  return SQLITE_OK;
}

/* Make the line that starts at iNext, ending at the delimiter at iDelimAt
** (or at the end), the current row. */
static void mbLinesSetRow(MbLinesCursor *pCur, uint64_t iDelimAt){
  pCur->iStart = pCur->iNext;
  pCur->iStop = iDelimAt;
  pCur->iNext = iDelimAt<pCur->iEnd ? iDelimAt+1 : pCur->iEnd;
  pCur->iSearch = pCur->iNext;
  pCur->iRowid++;
}

/* The next line, every line: the hot path of a full scan. */
static int mbLinesNextPlain(MbLinesCursor *pCur){
  mb_window *w = &pCur->win;
  uint64_t pos = pCur->iNext, at;
  int mrc;
  if( pos>=pCur->iEnd || pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
  if( pos>=w->off && pos-w->off<w->len ){
    /* No bounds check beyond this: the window holds [off, off+len). */
    size_t i = (size_t)(pos - w->off);
    const unsigned char *hit = memchr(w->buf+i, pCur->delim, w->len-i);
    if( hit ){
      mbLinesSetRow(pCur, w->off + (uint64_t)(hit - w->buf));
      return SQLITE_OK;
    }
  }
  mrc = mb_window_find_byte(w, pos, pCur->delim, &at);
  if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
  if( at>pCur->iEnd ) at = pCur->iEnd;
  mbLinesSetRow(pCur, at);
  return SQLITE_OK;
}

/* One guarded search of the mapping for line ends (mb_guarded_call): it
** only reads [z, z+n) and writes the job, as a guarded call must. */
typedef struct MbEndsJob {
  const unsigned char *z;     /* search [z, z+n) */
  size_t n;
  unsigned char delim;
  uint64_t *aEnd;             /* out: offsets from z of the delimiters found */
  int nMax, nFound;
  size_t nScanned;            /* out: bytes searched */
} MbEndsJob;

static void mbLinesFindEnds(void *ctx){
  MbEndsJob *j = (MbEndsJob*)ctx;
  const unsigned char *p = j->z, *e = j->z + j->n;
  int k = 0;
  while( k<j->nMax ){
    const unsigned char *hit = memchr(p, j->delim, (size_t)(e - p));
    if( hit==0 ){ p = e; break; }
    j->aEnd[k++] = (uint64_t)(hit - j->z);
    p = hit + 1;
  }
  j->nFound = k;
  j->nScanned = (size_t)(p - j->z);
}

/* Find the next batch of line ends at or after pos, searching the mapping
** in place under the fault guard. None found means the last line runs to
** the end without a delimiter. */
static int mbLinesFillEnds(MbLinesCursor *pCur, uint64_t pos){
  pCur->nEnds = pCur->iEnds = 0;
  while( pos<pCur->iEnd ){
    MbEndsJob job;
    uint64_t span = pCur->iEnd - pos;
    int mrc;
    if( span>MB_LINES_BATCH_SPAN ) span = MB_LINES_BATCH_SPAN;
    /* Another user of the shared map may have shrunk the view. */
    if( pCur->iEnd>mb_map_size(pCur->pMap) ) return mbLinesReadError(pCur, MB_EFAULT);
    (void)mb_scan_advance(&pCur->win.scan, pos);
    job.z = (const unsigned char*)mb_map_data(pCur->pMap) + pos;
    job.n = (size_t)span;
    job.delim = pCur->delim;
    job.aEnd = pCur->aEnds;
    job.nMax = MB_LINES_BATCH;
    mrc = mb_guarded_call(job.z, job.n, mbLinesFindEnds, &job);
    /* A truncation can leave the rest of a page readable as zeros, not a
    ** fault: check the file's size every MiB (and at the end, in Finish). */
    if( mrc==MB_OK && pos + job.nScanned >= pCur->iChecked + MB_LINES_BATCH_SPAN ){
      pCur->iChecked = pos + job.nScanned;
      mrc = mb_window_check(&pCur->win, pCur->iChecked);
    }
    if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
    if( job.nFound>0 ){
      int i;
      for(i=0; i<job.nFound; i++) pCur->aEnds[i] += pos;
      pCur->nEnds = job.nFound;
      return SQLITE_OK;
    }
    pos += span;
  }
  return SQLITE_OK;
}

/* The next line when no column needs its bytes (count(*), offset). */
static int mbLinesNextNoText(MbLinesCursor *pCur){
  if( pCur->iNext>=pCur->iEnd || pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
  if( pCur->iEnds>=pCur->nEnds ){
    int rc = mbLinesFillEnds(pCur, pCur->iNext);
    if( rc!=SQLITE_OK ) return rc;
  }
  if( pCur->iEnds<pCur->nEnds ){
    mbLinesSetRow(pCur, pCur->aEnds[pCur->iEnds++]);
  }else{
    mbLinesSetRow(pCur, pCur->iEnd);
  }
  return SQLITE_OK;
}

/* The next line that contains the literal of the LIKE/GLOB pattern. */
static int mbLinesNextFind(MbLinesCursor *pCur){
  mb_window *w = &pCur->win;
  const size_t n = pCur->finder.n;
  int mrc;
  for(;;){
    uint64_t s = pCur->iSearch, wEnd;
    const unsigned char *base, *hit;
    size_t i;
    uint64_t k;
    /* The search never starts before the current line (see mbLinesSeek). */
    if( s<pCur->iNext ) s = pCur->iSearch = pCur->iNext;
    if( s>=pCur->iEnd || pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
    /* Load a window at s unless the current one holds s and room for a
    ** whole match after it (or the rest of the scan). */
    if( !(s>=w->off && s-w->off<w->len)
     || (w->off+w->len<pCur->iEnd && w->off+w->len-s<n) ){
      mrc = mb_window_load(w, s);
      if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
    }
    wEnd = w->off + w->len;
    if( wEnd>pCur->iEnd ) wEnd = pCur->iEnd;
    i = (size_t)(s - w->off);
    base = w->buf + i;
    hit = mb_finder_find(&pCur->finder, base, (size_t)(wEnd - s));
    if( hit==0 ){
      /* Count the lines passed; search on from where a match could still
      ** begin (n-1 bytes back), within the same last line. */
      k = mb_count_byte(base, (size_t)(wEnd - s), pCur->delim);
      if( k ){
        const unsigned char *d = mb_last_byte(base, (size_t)(wEnd - s), pCur->delim);
        pCur->iRowid += (sqlite3_int64)k;
        pCur->iNext = w->off + (uint64_t)(d - w->buf) + 1;
      }
      if( wEnd>=pCur->iEnd ) return mbLinesFinish(pCur);
      /* [iNext, wEnd) holds no delimiter, so nothing is counted twice;
      ** the window held at least n bytes from s, so this moves on. */
      pCur->iSearch = wEnd - (n - 1);
      if( pCur->iSearch<pCur->iNext ) pCur->iSearch = pCur->iNext;
      continue;
    }
    /* A match: its line starts after the last delimiter before it. */
    k = mb_count_byte(base, (size_t)(hit - base), pCur->delim);
    if( k ){
      const unsigned char *d = mb_last_byte(base, (size_t)(hit - base), pCur->delim);
      pCur->iRowid += (sqlite3_int64)k;
      pCur->iNext = w->off + (uint64_t)(d - w->buf) + 1;
    }
    if( pCur->iRowid>=pCur->iLast ) return mbLinesFinish(pCur);
    {
      uint64_t q = w->off + (uint64_t)(hit - w->buf), at;
      const unsigned char *e = memchr(hit, pCur->delim, (size_t)(w->buf + w->len - hit));
      if( e ){
        at = w->off + (uint64_t)(e - w->buf);
      }else{
        mrc = mb_window_find_byte(w, q, pCur->delim, &at);
        if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
      }
      if( at>pCur->iEnd ) at = pCur->iEnd;
      mbLinesSetRow(pCur, at);
    }
    return SQLITE_OK;
  }
}

int mbLinesNext(sqlite3_vtab_cursor *cur){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  if( pCur->bEof ) return SQLITE_OK;
  if( pCur->bFind ) return mbLinesNextFind(pCur);
  return pCur->bNoText ? mbLinesNextNoText(pCur) : mbLinesNextPlain(pCur);
}
