/*
** fuzz_records.c -- libFuzzer target for the record table "membase"
** (vtab/mb_records.c, with vtab/mb_layout.c, vtab/mb_npy.c,
** vtab/mb_aggregate.c and the core underneath) over random files and
** random layouts.
**
** Input: OPTIONS '\0' FILE-BYTES
**   OPTIONS     the rest of the argument list, spliced in after file=:
**               CREATE VIRTUAL TABLE t USING membase(file='<scratch>', OPTIONS)
**               e.g. "layout='ts i64, px f64, _ pad(4)', sorted=ts"
**   FILE-BYTES  the file's contents. If they start with the .npy magic
**               the file is named *.npy (layout from its header).
** Without a '\0' the whole input is OPTIONS and the file is empty.
**
** The file is this process's scratch file, rewritten in place for every
** input (same path, same inode). Each input gets a fresh in-memory
** connection; then a fixed set of read-only queries runs: SELECT *,
** count(*), rowid =, IN, ranges, LIMIT/OFFSET, sum/min/max/avg of the
** first columns, membase_aggregate over the whole file and a rowid or key
** range, and for a sorted=COL table ORDER BY COL (both ways), =, IN and
** ranges on COL. Bound values come from the input's last bytes. SQL errors
** are expected; crashes and sanitizer reports are findings.
**
** Safety of the splice: file= comes first and the module refuses an
** option given twice, so no input can point the table at another file;
** only the first statement of the text is prepared.
*/
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "membase.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MX_ROW 5000   /* rows read per query at most */
#define MX_COL 3      /* columns aggregated */

/* The COL of a "sorted = COL" option in zOpts, copied to zOut; 0 if none. */
static int sortedColumn(const char *zOpts, char *zOut, size_t nOut){
  const char *z = zOpts;
  while( (z = strstr(z, "sorted"))!=0 ){
    size_t n = 0;
    z += 6;
    while( *z==' ' || *z=='\t' ) z++;
    if( *z!='=' ) continue;
    z++;
    while( *z==' ' || *z=='\t' || *z=='\'' || *z=='"' ) z++;
    while( (isalnum((unsigned char)z[n]) || z[n]=='_') && n+1<nOut ) n++;
    if( n==0 ) continue;
    memcpy(zOut, z, n);
    zOut[n] = 0;
    return 1;
  }
  return 0;
}

/* Run zFormat (a printf format taking up to two %w column names). */
static void runq(sqlite3 *db, const sqlite3_int64 *aBind, const char *zFormat,
                 const char *zA, const char *zB){
  char *zSql = sqlite3_mprintf(zFormat, zA, zB);
  if( zSql==0 ) return;
  (void)mbf_run(db, zSql, aBind, 4, MX_ROW);
  sqlite3_free(zSql);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  const uint8_t *pNul = memchr(data, 0, size);
  size_t nOpts = pNul ? (size_t)(pNul-data) : size;
  const uint8_t *aFile = pNul ? pNul+1 : data+size;
  size_t nFile = pNul ? size-nOpts-1 : 0;
  int bNpy = nFile>=6 && memcmp(aFile, "\x93NUMPY", 6)==0;
  const char *zPath;
  char *zOpts, *zSql;
  char zSorted[64];
  char azCol[MX_COL][64];
  int nCol = 0, bSorted;
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 aBind[4];

  mbf_register();
  zPath = mbf_path(bNpy ? "rec.npy" : "rec.bin");
  mbf_write(zPath, aFile, nFile);

  zOpts = malloc(nOpts+1);
  if( zOpts==0 ) return 0;
  memcpy(zOpts, data, nOpts);
  zOpts[nOpts] = 0;
  bSorted = sortedColumn(zOpts, zSorted, sizeof(zSorted));

  /* Bound values: small record indexes and keys from the last bytes. */
  for(int i=0; i<4; i++){
    uint8_t b = size>(size_t)i ? data[size-1-(size_t)i] : 0;
    aBind[i] = (b & 0x80) ? (sqlite3_int64)(int8_t)b * 1000003 : (sqlite3_int64)(b & 0x3f);
  }
  if( aBind[1]<aBind[0] ){ sqlite3_int64 t = aBind[0]; aBind[0] = aBind[1]; aBind[1] = t; }

  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) goto done;
  zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE t USING membase(file='%q'%s%s)",
                         zPath, nOpts ? ", " : "", zOpts);
  if( zSql==0 ) goto done;
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)!=SQLITE_OK || pStmt==0 ){
    sqlite3_free(zSql);
    goto done;
  }
  sqlite3_free(zSql);
  (void)sqlite3_step(pStmt);
  sqlite3_finalize(pStmt);
  pStmt = 0;

  /* Column names, from SELECT *'s statement. */
  if( sqlite3_prepare_v2(db, "SELECT * FROM t", -1, &pStmt, 0)!=SQLITE_OK ) goto done;
  for(int i=0; i<sqlite3_column_count(pStmt) && nCol<MX_COL; i++){
    const char *z = sqlite3_column_name(pStmt, i);
    if( z && strlen(z)<sizeof(azCol[0]) ) strcpy(azCol[nCol++], z);
  }
  sqlite3_finalize(pStmt);
  pStmt = 0;

  (void)mbf_run(db, "SELECT * FROM t", 0, 0, MX_ROW);
  (void)mbf_run(db, "SELECT count(*) FROM t", 0, 0, MX_ROW);
  (void)mbf_run(db, "SELECT rowid, * FROM t WHERE rowid=?1", aBind, 4, MX_ROW);
  (void)mbf_run(db, "SELECT rowid, * FROM t WHERE rowid IN (?1, ?2, ?3, -1)", aBind, 4, MX_ROW);
  (void)mbf_run(db, "SELECT rowid FROM t WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid DESC",
                aBind, 4, MX_ROW);
  (void)mbf_run(db, "SELECT * FROM t WHERE rowid>?3 LIMIT 3 OFFSET ?4", aBind, 4, MX_ROW);
  (void)mbf_run(db, "SELECT rowid FROM t WHERE rowid>=9223372036854775807 OR rowid<-5",
                aBind, 4, MX_ROW);
  for(int i=0; i<nCol; i++){
    const char *c = azCol[i];
    char *zAgg = sqlite3_mprintf("SELECT sum(\"%w\"), min(\"%w\"), max(\"%w\"), "
                                 "avg(\"%w\"), total(\"%w\") FROM t", c, c, c, c, c);
    if( zAgg ){
      (void)mbf_run(db, zAgg, 0, 0, MX_ROW);
      sqlite3_free(zAgg);
    }
    runq(db, aBind, "SELECT * FROM membase_aggregate('t', '%q')", c, 0);
    runq(db, aBind, "SELECT * FROM membase_aggregate('t', '%q', ?1, ?2)", c, 0);
    runq(db, aBind, "SELECT * FROM membase_aggregate('t', '%q', ?3, NULL)", c, 0);
  }
  if( bSorted ){
    const char *s = zSorted;
    runq(db, aBind, "SELECT rowid, \"%w\" FROM t ORDER BY \"%w\"", s, s);
    runq(db, aBind, "SELECT rowid, \"%w\" FROM t ORDER BY \"%w\" DESC LIMIT 5", s, s);
    runq(db, aBind, "SELECT rowid FROM t WHERE \"%w\"=(SELECT \"%w\" FROM t WHERE rowid=?1)", s, s);
    runq(db, aBind, "SELECT rowid FROM t WHERE \"%w\"=?1", s, 0);
    runq(db, aBind, "SELECT count(*) FROM t WHERE \"%w\" BETWEEN ?1 AND ?2", s, 0);
    runq(db, aBind, "SELECT rowid FROM t WHERE \"%w\" IN (?1, ?2, ?3)", s, 0);
    runq(db, aBind, "SELECT rowid FROM t WHERE \"%w\">?3 AND \"%w\"<=2.5", s, s);
    runq(db, aBind, "SELECT rowid FROM t WHERE \"%w\">=-1e300 ORDER BY \"%w\" DESC", s, s);
    if( nCol>0 ){
      runq(db, aBind, "SELECT * FROM membase_aggregate('t', '%q', ?1, ?2, '%q')", azCol[0], s);
    }
  }
  (void)mbf_run(db, "SELECT * FROM membase_stats", 0, 0, MX_ROW);

done:
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  free(zOpts);
  return 0;
}
