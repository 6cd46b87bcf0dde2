/*
** fuzz_lines.c -- libFuzzer target for membase_lines (vtab/mb_lines.c,
** with the line index vtab/mb_line_index.c, the literal search
** vtab/mb_find.c, the guarded windows vtab/mb_window.c and the core's
** cache) over random bytes.
**
** Input: FLAGS A [ "\xff\xfe" "B" B ]
**   FLAGS  bits 0-2: the delimiter, one of \n , \0 \r | \t ; x
**          bit 3:    a named table (CREATE VIRTUAL TABLE) instead of the
**                    function form membase_lines(file, delimiter)
**          bits 4-7: where the LIKE/GLOB literal is taken from the file
**   A      the file's bytes for the first round of queries
**   B      if present, the file is rewritten in place with B (same path,
**          same inode, same connection and table) and the queries run
**          again: a file changed on disk between queries.
** The process-wide cache of line indexes (core mb_cache) is cleared at the
** start of each input, so an input replays alone as it ran in the fuzzer.
**
** Queries: count(*), LIKE '%lit%', GLOB '*lit*', the sum and maximum of
** the line lengths, rowid = (first, middle, last, past the end), rowid IN,
** BETWEEN and >. Besides "no crash, no sanitizer report", every answer is
** checked against a plain model of the file (abort() on a difference):
** lines split on the delimiter, a last line without one counts, a trailing
** \r is dropped for \n, LIKE folds ASCII case, and both stop at a NUL byte
** as SQLite's pattern matcher does. A query that fails (e.g. a compressed
** file's magic) is not checked. After a rewrite that is not an append and
** does not shrink the file, rowid answers are not checked: the line index
** cached for the file is reused or extended when the file's size and
** mtime (or, for growth, its last bytes before the indexed end) say it
** was only appended to, which a rewrite can imitate; the scans must still
** be exact.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "membase.h"
#include "mb_map.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do{ if(!(x)){ \
  fprintf(stderr, "fuzz_lines: check failed at line %d: %s\n", __LINE__, #x); \
  abort(); } }while(0)

static const unsigned char aDelim[8] = { '\n', ',', 0, '\r', '|', '\t', ';', 'x' };

/* ---------------------------------------------------------------- model */

typedef struct Line { size_t off, len; } Line;
typedef struct Model {
  const unsigned char *a;
  size_t n;
  unsigned char d;
  Line *aLine;
  size_t nLine;
} Model;

static int modelBuild(Model *m, const unsigned char *a, size_t n, unsigned char d){
  size_t start = 0;
  memset(m, 0, sizeof(*m));
  m->a = a; m->n = n; m->d = d;
  m->aLine = malloc(sizeof(Line)*(n+1));
  if( m->aLine==0 ) return 0;
  for(size_t i=0; i<=n; i++){
    if( i==n ? start<n : a[i]==d ){
      size_t len = i-start;
      if( d=='\n' && len>0 && a[i-1]=='\r' ) len--;
      m->aLine[m->nLine].off = start;
      m->aLine[m->nLine].len = len;
      m->nLine++;
      start = i+1;
    }
  }
  return 1;
}

static int lowerAscii(int c){ return (c>='A' && c<='Z') ? c+32 : c; }

/* Does line L contain lit before its first NUL? */
static int modelHas(const Model *m, const Line *L, const char *lit, int bFold){
  size_t nLit = strlen(lit), end = 0;
  const unsigned char *z = m->a + L->off;
  while( end<L->len && z[end] ) end++;
  for(size_t i=0; i+nLit<=end; i++){
    size_t k = 0;
    for(; k<nLit; k++){
      int x = z[i+k], y = (unsigned char)lit[k];
      if( bFold ){ x = lowerAscii(x); y = lowerAscii(y); }
      if( x!=y ) break;
    }
    if( k==nLit ) return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------- SQL */

/* One integer from a one-row query; 0 if it failed (*pOk = 0). */
static sqlite3_int64 queryInt(sqlite3 *db, const char *zSql, int *pOk){
  sqlite3_stmt *p = 0;
  sqlite3_int64 v = 0;
  *pOk = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ) return 0;
  if( sqlite3_step(p)==SQLITE_ROW ){
    v = sqlite3_column_int64(p, 0);
    *pOk = sqlite3_step(p)==SQLITE_DONE;
  }
  sqlite3_finalize(p);
  return v;
}

/* rowid = iLine: the row, compared with the model. */
static void checkRowid(sqlite3 *db, const char *zFrom, const Model *m,
                       sqlite3_int64 iLine, int bCheck){
  sqlite3_stmt *p = 0;
  char *zSql = sqlite3_mprintf("SELECT rowid, CAST(line AS BLOB), offset, length "
                               "FROM %s WHERE rowid=%lld", zFrom, iLine);
  int rc;
  if( zSql==0 ) return;
  rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ) return;
  rc = sqlite3_step(p);
  if( bCheck && (rc==SQLITE_ROW || rc==SQLITE_DONE) ){
    int bExists = iLine>=1 && (size_t)iLine<=m->nLine;
    if( bExists!=(rc==SQLITE_ROW) ){
      fprintf(stderr, "fuzz_lines: rowid=%lld: %s, the model has %zu lines\n",
              iLine, rc==SQLITE_ROW ? "a row" : "no row", m->nLine);
      abort();
    }
    if( rc==SQLITE_ROW ){
      const Line *L = &m->aLine[iLine-1];
      const void *z = sqlite3_column_blob(p, 1);
      size_t n = (size_t)sqlite3_column_bytes(p, 1);
      CHECK( sqlite3_column_int64(p, 0)==iLine );
      CHECK( (size_t)sqlite3_column_int64(p, 2)==L->off );
      CHECK( (size_t)sqlite3_column_int64(p, 3)==L->len );
      CHECK( n==L->len && (n==0 || memcmp(z, m->a+L->off, n)==0) );
    }
  }
  sqlite3_finalize(p);
}

static void runRound(sqlite3 *db, const char *zFrom, const Model *m,
                     const char *zLit, int bCheckRowid){
  char *zSql;
  sqlite3_int64 v;
  int ok;
  size_t nExpect, sumLen = 0, maxLen = 0;

  zSql = sqlite3_mprintf("SELECT count(*) FROM %s", zFrom);
  v = queryInt(db, zSql, &ok);
  sqlite3_free(zSql);
  if( ok && (size_t)v!=m->nLine ){
    fprintf(stderr, "fuzz_lines: count(*) %lld, the model %zu\n", v, m->nLine);
    abort();
  }

  for(int bGlob=0; bGlob<2; bGlob++){
    nExpect = 0;
    for(size_t i=0; i<m->nLine; i++) nExpect += modelHas(m, &m->aLine[i], zLit, !bGlob);
    zSql = bGlob
      ? sqlite3_mprintf("SELECT count(*) FROM %s WHERE line GLOB '*%q*'", zFrom, zLit)
      : sqlite3_mprintf("SELECT count(*) FROM %s WHERE line LIKE '%%%q%%'", zFrom, zLit);
    v = queryInt(db, zSql, &ok);
    sqlite3_free(zSql);
    if( ok && (size_t)v!=nExpect ){
      fprintf(stderr, "fuzz_lines: %s \"%s\": %lld lines, the model %zu\n",
              bGlob ? "GLOB" : "LIKE", zLit, v, nExpect);
      abort();
    }
  }

  for(size_t i=0; i<m->nLine; i++){
    sumLen += m->aLine[i].len;
    if( m->aLine[i].len>maxLen ) maxLen = m->aLine[i].len;
  }
  zSql = sqlite3_mprintf("SELECT coalesce(sum(length),0)*1000000 + coalesce(max(length),0) "
                         "FROM %s", zFrom);
  v = queryInt(db, zSql, &ok);
  sqlite3_free(zSql);
  if( ok ) CHECK( (size_t)v==sumLen*1000000+maxLen );

  checkRowid(db, zFrom, m, 1, bCheckRowid);
  checkRowid(db, zFrom, m, (sqlite3_int64)(m->nLine/2)+1, bCheckRowid);
  checkRowid(db, zFrom, m, (sqlite3_int64)m->nLine, bCheckRowid);
  checkRowid(db, zFrom, m, (sqlite3_int64)m->nLine+1, bCheckRowid);
  checkRowid(db, zFrom, m, 257, bCheckRowid);

  {
    sqlite3_int64 lo = (sqlite3_int64)m->nLine/3, hi = lo+300;
    size_t nIn = 0;
    zSql = sqlite3_mprintf("SELECT count(*) FROM %s WHERE rowid BETWEEN %lld AND %lld",
                           zFrom, lo, hi);
    v = queryInt(db, zSql, &ok);
    sqlite3_free(zSql);
    for(sqlite3_int64 k=lo; k<=hi; k++) nIn += (k>=1 && (size_t)k<=m->nLine);
    if( ok && bCheckRowid ) CHECK( (size_t)v==nIn );

    zSql = sqlite3_mprintf("SELECT count(*) FROM %s WHERE rowid IN (0, 1, %lld, %lld, -3)",
                           zFrom, hi, (sqlite3_int64)m->nLine);
    v = queryInt(db, zSql, &ok);
    sqlite3_free(zSql);
    if( ok && bCheckRowid ){
      size_t e = (m->nLine>=1) + ((size_t)hi<=m->nLine && hi>1 && hi!=(sqlite3_int64)m->nLine)
               + (m->nLine>1);
      CHECK( (size_t)v==e );
    }

    zSql = sqlite3_mprintf("SELECT sum(length) FROM %s WHERE rowid>%lld",
                           zFrom, (sqlite3_int64)m->nLine-3);
    (void)mbf_run(db, zSql, 0, 0, 1000);
    sqlite3_free(zSql);
  }
}

/* The literal for LIKE/GLOB: up to 3 bytes of the file at a position
** chosen by the flags, kept only if they are letters or digits. */
static void pickLiteral(const unsigned char *a, size_t n, int sel, char *zLit){
  size_t at = n ? (size_t)sel*n/16 : 0, k = 0;
  while( at<n && k<3 ){
    unsigned char c = a[at++];
    if( !((c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')) ) break;
    zLit[k++] = (char)c;
  }
  if( k==0 ) zLit[k++] = 'e';
  zLit[k] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  const uint8_t *pA, *pB = 0;
  size_t nA, nB = 0;
  unsigned char d;
  int bNamed;
  const char *zPath;
  char zFrom[600], zLit[4];
  sqlite3 *db = 0;
  Model m;

  if( size<1 ) return 0;
  mbf_register();
  d = aDelim[data[0]&7];
  bNamed = (data[0]>>3)&1;
  pA = data+1;
  nA = size-1;
  for(size_t i=0; i+3<=nA; i++){
    if( pA[i]==0xff && pA[i+1]==0xfe && pA[i+2]=='B' ){
      pB = pA+i+3;
      nB = nA-i-3;
      nA = i;
      break;
    }
  }

  mb_cache_clear();
  zPath = mbf_path("lines.txt");
  mbf_write(zPath, pA, nA);
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) goto done;
  if( bNamed ){
    char *zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE t USING membase_lines("
                                 "file='%q', delimiter='\\x%02x')", zPath, d);
    int rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc!=SQLITE_OK ) goto done;
    snprintf(zFrom, sizeof(zFrom), "t");
  }else{
    /* the path has no quote: it is ours */
    snprintf(zFrom, sizeof(zFrom), "membase_lines('%s', '\\x%02x')", zPath, d);
  }

  if( !modelBuild(&m, pA, nA, d) ) goto done;
  pickLiteral(pA, nA, data[0]>>4, zLit);
  runRound(db, zFrom, &m, zLit, 1);
  free(m.aLine);

  if( pB ){
    int bAppend = nB>=nA && memcmp(pA, pB, nA)==0;
    mbf_write(zPath, pB, nB);
    if( !modelBuild(&m, pB, nB, d) ) goto done;
    pickLiteral(pB, nB, data[0]>>4, zLit);
    runRound(db, zFrom, &m, zLit, bAppend || nB<nA);
    free(m.aLine);
    {
      char *zSql = sqlite3_mprintf("SELECT membase_lines_index('%q', '\\x%02x')", zPath, d);
      if( zSql ){ (void)mbf_run(db, zSql, 0, 0, 10); sqlite3_free(zSql); }
    }
  }

done:
  sqlite3_close(db);
  return 0;
}
