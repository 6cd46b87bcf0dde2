/*
** mb_lines_cursor.c -- the cursor of membase_lines: open and close, xFilter
** (the file and its mapping, the rowid bounds, the LIKE/GLOB prefilter, the
** seek by line number with the line index) and xColumn. The stepping is in
** mb_lines_scan.c; mb_lines.c has the user manual.
*/
#include <stdint.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3
#include "mb_map.h"
#include "mb_find.h"
#include "mb_line_index.h"
#include "mb_lines_int.h"
#include "mb_window.h"
#include "../ext/mb_sqlite.h"
#include "../ext/mb_sqlsafe.h"

/* The compression format whose magic bytes start z[0..n), or 0. */
static const char *mbCompressed(const unsigned char *z, size_t n){
  if( n>=2 && z[0]==0x1f && z[1]==0x8b ) return "gzip";
  if( n>=4 && z[0]==0x28 && z[1]==0xb5 && z[2]==0x2f && z[3]==0xfd ) return "zstd";
  if( n>=6 && z[0]==0xfd && memcmp(z+1, "7zXZ", 4)==0 && z[5]==0 ) return "xz";
  if( n>=4 && z[0]==0x04 && z[1]==0x22 && z[2]==0x4d && z[3]==0x18 ) return "lz4";
  /* "BZh" + block size digit + the magic of a block or of the end. */
  if( n>=10 && memcmp(z, "BZh", 3)==0 && z[3]>='1' && z[3]<='9'
   && (memcmp(z+4, "\x31\x41\x59\x26\x53\x59", 6)==0
    || memcmp(z+4, "\x17\x72\x45\x38\x50\x90", 6)==0) ) return "bzip2";
  return 0;
}

/* ------------------------------------------------------------ cursor */

int mbLinesOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  MbLinesCursor *pCur;
  (void)pVtab;
  pCur = (MbLinesCursor*)sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

/* Drop what one scan holds: the file and its mapping. */
static void mbLinesReset(MbLinesCursor *pCur){
  if( pCur->bWin ){
    mb_window_free(&pCur->win);
    pCur->bWin = 0;
  }
  if( pCur->pMap ){
    mb_registry_release(pCur->pMap);
    pCur->pMap = 0;
  }
  sqlite3_free(pCur->zFile);
  pCur->zFile = 0;
  sqlite3_free(pCur->zDelimArg);
  pCur->zDelimArg = 0;
  pCur->bEof = 1;
  pCur->bFind = 0;
}

int mbLinesClose(sqlite3_vtab_cursor *cur){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  mbLinesReset(pCur);
  sqlite3_free(pCur->aLine);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* An integer bound from a rowid constraint's value: REAL values are
** rounded outwards (SQLite checks the exact bound again), anything that is
** not a number gives no bound (*pOk = 0). */
static sqlite3_int64 mbLinesBound(sqlite3_value *v, int bUp, int *pOk){
  int t = sqlite3_value_numeric_type(v);
  *pOk = 1;
  if( t==SQLITE_INTEGER ) return sqlite3_value_int64(v);
  if( t==SQLITE_FLOAT ){
    double d = sqlite3_value_double(v);
    if( d>=9.2e18 ) return INT64_MAX;
    if( d<=-9.2e18 ) return INT64_MIN;
    {
      sqlite3_int64 x = (sqlite3_int64)d;   /* toward zero */
      if( bUp && (double)x<d ) x++;
      if( !bUp && (double)x>d ) x--;
      return x;
    }
  }
  *pOk = 0;
  return 0;
}

/* Position the scan at line `iLine` with the line index; for a bounded
** search, also end it after line iLast. */
static int mbLinesSeek(MbLinesCursor *pCur, sqlite3_int64 iLine){
  mb_cache_item *pItem = 0;
  const mb_line_index *ix;
  uint64_t total, off, at, pos, skipped;
  int mrc = mb_line_index_get(pCur->pMap, pCur->delim, pCur->iEnd, &pItem);
  if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
  ix = (const mb_line_index*)mb_cache_value(pItem);
  total = ix->lines + (pCur->iEnd>ix->scanned ? 1 : 0);
  if( (uint64_t)iLine>total ){
    /* Past the last line: nothing to scan. The pattern search starts at
    ** iSearch, so it moves to the end too (it was left at byte 0, and a
    ** match there made a "line" from iEnd back to that match: string or
    ** blob too big). */
    mb_cache_release(pItem);
    pCur->iNext = pCur->iSearch = pCur->iEnd;
    return SQLITE_OK;
  }
  mb_line_index_seek(ix, (uint64_t)iLine, &off, &at);
  /* The end of a bounded search, also from the index: the start of the
  ** first line past the last one wanted. */
  if( pCur->bFind && pCur->iLast<INT64_MAX && (uint64_t)pCur->iLast<ix->lines ){
    uint64_t eOff, eAt, ePos, eSkipped;
    mb_line_index_seek(ix, (uint64_t)pCur->iLast+1, &eOff, &eAt);
    mrc = mb_window_skip_bytes(&pCur->win, eOff, pCur->delim,
                              (uint64_t)pCur->iLast+1-eAt, &ePos, &eSkipped);
    if( mrc==MB_OK && eSkipped==(uint64_t)pCur->iLast+1-eAt ) pCur->iEnd = ePos;
  }
  mb_cache_release(pItem);
  if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
  mrc = mb_window_skip_bytes(&pCur->win, off, pCur->delim, (uint64_t)iLine-at,
                            &pos, &skipped);
  if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
  pCur->iNext = pos;
  pCur->iSearch = pos;
  pCur->iRowid = (sqlite3_int64)(at + skipped) - 1;
  return SQLITE_OK;
}

/* Start a new scan: drop the last one's file and mapping, clear the row. */
static void mbLinesRestart(MbLinesCursor *pCur){
  mbLinesReset(pCur);
  pCur->bChecked = 0;
  pCur->iRowid = 0;
  pCur->iLast = INT64_MAX;
  pCur->iNext = pCur->iSearch = 0;
  pCur->iStart = pCur->iStop = 0;
}

/* The file and the delimiter: the table's (CREATE form), or the function
** form's hidden-column arguments argv[*piArg...], consumed. */
static int mbLinesFileArgs(
  MbLinesCursor *pCur,
  int idxNum,
  sqlite3_value **argv,
  int *piArg
){
  MbLinesTable *pTab = (MbLinesTable*)pCur->base.pVtab;
  sqlite3_vtab *pVtab = &pTab->base;
  const char *zFile;
  if( pTab->zFile ){
    zFile = pTab->zFile;
    pCur->delim = pTab->delim;
  }else{
    sqlite3_value *v;
    if( !(idxNum & MB_IDX_FILE) ){
      return mb_vtab_error(pVtab, SQLITE_ERROR, "membase_lines: no file "
          "given: use membase_lines('path') or CREATE VIRTUAL TABLE ... "
          "USING membase_lines(file=path)");
    }
    char *zErr = 0;
    int rc;
    v = argv[(*piArg)++];
    rc = mb_sql_path(v, "membase_lines", "FILE", &zFile, &zErr);
    if( rc ){
      if( rc==SQLITE_NOMEM ) return rc;
      return mb_vtab_error(pVtab, rc, "%z", zErr);
    }
    if( zFile==0 ){
      return mb_vtab_error(pVtab, SQLITE_ERROR, "membase_lines: file is NULL");
    }
    pCur->delim = '\n';
  }
  pCur->zFile = sqlite3_mprintf("%s", zFile);
  if( pCur->zFile==0 ) return SQLITE_NOMEM;
  if( idxNum & MB_IDX_DELIM ){
    sqlite3_value *v = argv[(*piArg)++];
    const unsigned char *z = (const unsigned char*)sqlite3_value_blob(v);
    int n = sqlite3_value_bytes(v);
    if( sqlite3_value_type(v)==SQLITE_NULL
     || mbLinesParseDelim(z, n, &pCur->delim) ){
      return mb_vtab_error(pVtab, SQLITE_ERROR, "membase_lines: delimiter="
          "\"%.*s\": expected a single byte", n, z ? (const char*)z : "");
    }
    pCur->zDelimArg = sqlite3_mprintf("%.*s", n, z ? (const char*)z : "");
    if( pCur->zDelimArg==0 ) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/* Map the file (its shared mapping, brought up to the file's size now),
** keep it pinned on the table, and set up the scan's windows. */
static int mbLinesMapFile(MbLinesCursor *pCur, int idxNum){
  MbLinesTable *pTab = (MbLinesTable*)pCur->base.pVtab;
  uint64_t size = 0;
  char why[1600];
  int mrc = mb_registry_acquire_checked(pCur->zFile, 0, &pCur->pMap, why, sizeof why);
  if( mrc==MB_EPOLICY ){
    pCur->pMap = 0;
    return mb_vtab_error(&pTab->base, SQLITE_AUTH, "membase_lines: %s", why);
  }
  if( mrc==MB_OK ) mrc = mb_registry_refresh(pCur->pMap, &size);
  if( mrc!=MB_OK ){
    int rc = mb_sqlite_rc(mrc, SQLITE_CANTOPEN);
    char *zMsg;
    if( rc==SQLITE_NOMEM ) return rc;
    zMsg = mb_sqlite_errmsg("membase_lines", "open", pCur->zFile, mrc);
    if( zMsg==0 ) return SQLITE_NOMEM;
    return mb_vtab_error(&pTab->base, rc, "%z", zMsg);
  }
  /* Keep the file mapped between queries (see "Mappings"): pin the map
  ** of the last file this table scanned, dropping the one before. */
  if( pTab->pPin!=pCur->pMap ){
    mb_map *pNew = 0;
    if( mb_registry_acquire_checked(pCur->zFile, 0, &pNew, why, sizeof why)==MB_OK ){
      mb_registry_release(pTab->pPin);
      pTab->pPin = pNew;
    }
  }
  pCur->iEnd = size;
  /* Its only failure is the heap (the window's buffer). */
  if( mb_window_init(&pCur->win, pCur->pMap, size, 0)!=MB_OK ){
    return SQLITE_NOMEM;
  }
  pCur->bWin = 1;
  /* Point lookups (rowid = N, rowid IN (...)) never drop behind; scans
  ** and rowid ranges follow the table's policy (or the process default). */
  if( idxNum & MB_IDX_EQ ){
    mb_scan_set_dropbehind(&pCur->win.scan, MB_DROP_OFF);
  }else if( pTab->eDrop>=0 ){
    mb_scan_set_dropbehind(&pCur->win.scan, (mb_dropbehind)pTab->eDrop);
  }
  return SQLITE_OK;
}

/* Refuse a compressed file, known by its magic bytes. */
static int mbLinesRefuseCompressed(MbLinesCursor *pCur){
  unsigned char magic[10];
  size_t nMagic;
  const char *zKind;
  int mrc;
  if( pCur->iEnd==0 ) return SQLITE_OK;
  nMagic = pCur->iEnd<sizeof(magic) ? (size_t)pCur->iEnd : sizeof(magic);
  mrc = mb_map_read(pCur->pMap, 0, magic, nMagic);
  if( mrc!=MB_OK ){
    return mbLinesReadError(pCur, mrc==MB_ERANGE ? MB_EFAULT : mrc);
  }
  zKind = mbCompressed(magic, nMagic);
  if( zKind ){
    return mb_vtab_error(pCur->base.pVtab, SQLITE_ERROR, "membase_lines: "
        "\"%s\" is %s-compressed: decompress it first", pCur->zFile, zKind);
  }
  return SQLITE_OK;
}

/* The rowid bounds argv[*piArg...] (consumed): the first line wanted is
** returned, the last is set in pCur->iLast. */
static sqlite3_int64 mbLinesRowidBounds(
  MbLinesCursor *pCur,
  int idxNum,
  sqlite3_value **argv,
  int *piArg
){
  sqlite3_int64 iFirst = 1;
  int ok;
  if( idxNum & MB_IDX_EQ ){
    sqlite3_value *v = argv[(*piArg)++];
    sqlite3_int64 lo = mbLinesBound(v, 0, &ok), hi;
    if( ok ){
      hi = mbLinesBound(v, 1, &ok);
      iFirst = lo;
      pCur->iLast = hi;
    }
  }
  if( idxNum & MB_IDX_LO ){
    sqlite3_int64 x = mbLinesBound(argv[(*piArg)++], 0, &ok);
    if( ok ){
      if( (idxNum & MB_IDX_LO_GT) && x<INT64_MAX ) x++;
      if( x>iFirst ) iFirst = x;
    }
  }
  if( idxNum & MB_IDX_HI ){
    sqlite3_int64 x = mbLinesBound(argv[(*piArg)++], 1, &ok);
    if( ok ){
      if( (idxNum & MB_IDX_HI_LT) && x>INT64_MIN ) x--;
      if( x<pCur->iLast ) pCur->iLast = x;
    }
  }
  return iFirst<1 ? 1 : iFirst;
}

/* Set up the LIKE/GLOB prefilter from the pattern pPat: the finder of its
** longest literal, if it has one. */
static void mbLinesPrefilter(MbLinesCursor *pCur, int idxNum,
                             sqlite3_value *pPat){
  const char *zPat = (const char*)sqlite3_value_text(pPat);
  unsigned char aLit[MB_FIND_MAX];
  size_t nLit = 0, j;
  int bNoCase = (idxNum & MB_IDX_LIKE)!=0;
  if( zPat ){
    nLit = bNoCase ? mb_like_literal(zPat, aLit) : mb_glob_literal(zPat, aLit);
  }
  if( nLit==0 ) return;
  mb_finder_init(&pCur->finder, aLit, nLit, bNoCase);
  pCur->bFind = 1;
  /* A literal holding the delimiter itself (not a case-folded letter)
  ** is in no line: nothing can match. */
  for(j=0; j<nLit; j++){
    if( aLit[j]==pCur->delim && pCur->finder.fold[j]==0 ) pCur->iLast = 0;
  }
}

/* xFilter: the arguments come in the order of the MB_IDX_* bits. */
int mbLinesFilter(
  sqlite3_vtab_cursor *cur,
  int idxNum,
  const char *idxStr,
  int argc,
  sqlite3_value **argv
){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  sqlite3_int64 iFirst;
  int iArg = 0, rc;
  (void)idxStr;
  (void)argc;

  mbLinesRestart(pCur);
  rc = mbLinesFileArgs(pCur, idxNum, argv, &iArg);
  if( rc==SQLITE_OK ) rc = mbLinesMapFile(pCur, idxNum);
  if( rc==SQLITE_OK ) rc = mbLinesRefuseCompressed(pCur);
  if( rc!=SQLITE_OK ) return rc;
  iFirst = mbLinesRowidBounds(pCur, idxNum, argv, &iArg);
  if( idxNum & (MB_IDX_LIKE|MB_IDX_GLOB) ){
    mbLinesPrefilter(pCur, idxNum, argv[iArg++]);
  }

  pCur->bNoText = (idxNum & MB_IDX_NOTEXT)!=0;
  pCur->nEnds = pCur->iEnds = 0;
  pCur->iChecked = 0;
  pCur->bEof = 0;
  if( pCur->iLast<iFirst ){
    pCur->iNext = pCur->iSearch = pCur->iEnd;
  }else if( iFirst>1 || (pCur->bFind && pCur->iLast<INT64_MAX) ){
    rc = mbLinesSeek(pCur, iFirst);
    if( rc!=SQLITE_OK ) return rc;
  }
  return mbLinesNext(cur);
}

int mbLinesEof(sqlite3_vtab_cursor *cur){
  return ((MbLinesCursor*)cur)->bEof;
}

/* The bytes of the current line, without a trailing \r for \n-delimited
** files: a pointer into the window, or into aLine. */
static int mbLinesText(MbLinesCursor *pCur, const unsigned char **pz, uint64_t *pn){
  uint64_t n = pCur->iStop - pCur->iStart;
  const unsigned char *z;
  int mrc;
  if( n==0 ){
    *pz = (const unsigned char*)"";
    *pn = 0;
    return SQLITE_OK;
  }
  z = mb_window_at(&pCur->win, pCur->iStart, (size_t)n);
  if( z==0 ){
    if( n>(uint64_t)SIZE_MAX-1 ) return SQLITE_NOMEM;
    if( n>pCur->nLineAlloc ){
      unsigned char *p = (unsigned char*)sqlite3_realloc64(pCur->aLine, n);
      if( p==0 ) return SQLITE_NOMEM;
      pCur->aLine = p;
      pCur->nLineAlloc = (size_t)n;
    }
    mrc = mb_window_copy(&pCur->win, pCur->iStart, pCur->aLine, (size_t)n);
    if( mrc!=MB_OK ) return mbLinesReadError(pCur, mrc);
    z = pCur->aLine;
  }
  if( pCur->delim=='\n' && z[n-1]=='\r' ) n--;
  *pz = z;
  *pn = n;
  return SQLITE_OK;
}

/* Make the column's result the error rc of a failed read (its message is
** the vtab's) and return rc. */
static int mbLinesColumnError(MbLinesCursor *pCur, sqlite3_context *ctx, int rc){
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, pCur->base.pVtab->zErrMsg, -1);
  }
  return rc;
}

/* The line column: the line's bytes, copied by SQLite. */
static int mbLinesLineColumn(MbLinesCursor *pCur, sqlite3_context *ctx){
  const unsigned char *z = 0;
  uint64_t n = 0;
  int rc;
  int lim = sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1);
  if( pCur->iStop - pCur->iStart > (uint64_t)lim ){
    sqlite3_result_error_toobig(ctx);
    return SQLITE_OK;
  }
  rc = mbLinesText(pCur, &z, &n);
  if( rc!=SQLITE_OK ) return mbLinesColumnError(pCur, ctx, rc);
  /* TRANSIENT: the window is reused by the next row (see "Safety"). */
  sqlite3_result_text64(ctx, (const char*)z, n, SQLITE_TRANSIENT, SQLITE_UTF8);
  return SQLITE_OK;
}

/* The length column: the line's bytes less a trailing \r of a \n file,
** which only the line's last byte decides. */
static int mbLinesLengthColumn(MbLinesCursor *pCur, sqlite3_context *ctx){
  uint64_t n = pCur->iStop - pCur->iStart;
  if( pCur->delim=='\n' && n>0 ){
    unsigned char last;
    int mrc = mb_window_copy(&pCur->win, pCur->iStop-1, &last, 1);
    if( mrc!=MB_OK ){
      return mbLinesColumnError(pCur, ctx, mbLinesReadError(pCur, mrc));
    }
    if( last=='\r' ) n--;
  }
  sqlite3_result_int64(ctx, (sqlite3_int64)n);
  return SQLITE_OK;
}

/* The delimiter column: as written in CREATE or in the function's
** argument, \n when none was given. */
static void mbLinesDelimColumn(MbLinesCursor *pCur, sqlite3_context *ctx){
  MbLinesTable *pTab = (MbLinesTable*)pCur->base.pVtab;
  const char *z = pTab->zFile ? pTab->zDelim : pCur->zDelimArg;
  if( z ){
    sqlite3_result_text(ctx, z, -1, SQLITE_TRANSIENT);
  }else{
    sqlite3_result_text(ctx, "\n", 1, SQLITE_STATIC);
  }
}

int mbLinesColumn(
  sqlite3_vtab_cursor *cur,
  sqlite3_context *ctx,
  int i
){
  MbLinesCursor *pCur = (MbLinesCursor*)cur;
  switch( i ){
    case MB_LINES_LINE:
      return mbLinesLineColumn(pCur, ctx);
    case MB_LINES_LENGTH:
      return mbLinesLengthColumn(pCur, ctx);
    case MB_LINES_OFFSET:
      sqlite3_result_int64(ctx, (sqlite3_int64)pCur->iStart);
      break;
    case MB_LINES_FILE:
      sqlite3_result_text(ctx, pCur->zFile, -1, SQLITE_TRANSIENT);
      break;
    case MB_LINES_DELIM:
      mbLinesDelimColumn(pCur, ctx);
      break;
  }
  return SQLITE_OK;
}

int mbLinesRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = ((MbLinesCursor*)cur)->iRowid;
  return SQLITE_OK;
}
