/*
** mb_sqltest.h -- small SQLite helpers shared by the C tests that drive
** databases (tests/vfs/test_vfs_faults.c, tests/faults/test_faults_preload.c).
**
**   mbtOpenVfs(zPath, zVfs)  open "file:PATH?vfs=VFS" read-write, created if
**                            needed; exits 2 with the message if it cannot
**   mbtInt(db, zSql, &rc)    the first column of the first row as an
**                            integer (-1 if none); *pRc = the SQLite code
**                            (SQLITE_OK for a row), pRc may be 0
**   mbtText(db, zSql)        the first column of the first row, as a string
**                            from sqlite3_mprintf (free it with
**                            sqlite3_free), or 0 when there is no row
**   mbtRemoveDb(zPath)       unlink the database and its -journal, -wal and
**                            -shm files
**
** Header-only (static inline) so each test stays one source file.
*/
#ifndef MB_SQLTEST_H
#define MB_SQLTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>

static inline sqlite3 *mbtOpenVfs(const char *zPath, const char *zVfs){
  sqlite3 *db = 0;
  char *zUri = sqlite3_mprintf("file:%s?vfs=%s", zPath, zVfs);
  if( zUri==0 ){
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  if( sqlite3_open_v2(zUri, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE|SQLITE_OPEN_URI, 0) ){
    fprintf(stderr, "cannot open %s: %s\n", zUri, sqlite3_errmsg(db));
    exit(2);
  }
  sqlite3_free(zUri);
  return db;
}

static inline sqlite3_int64 mbtInt(sqlite3 *db, const char *zSql, int *pRc){
  sqlite3_stmt *st = 0;
  sqlite3_int64 v = -1;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &st, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(st);
    if( rc==SQLITE_ROW ){ v = sqlite3_column_int64(st, 0); rc = SQLITE_OK; }
  }
  sqlite3_finalize(st);
  if( pRc ) *pRc = rc;
  return v;
}

static inline char *mbtText(sqlite3 *db, const char *zSql){
  sqlite3_stmt *st = 0;
  char *z = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &st, 0)==SQLITE_OK && sqlite3_step(st)==SQLITE_ROW ){
    z = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  return z;
}

static inline void mbtRemoveDb(const char *zPath){
  static const char *const azSuffix[] = { "", "-journal", "-wal", "-shm" };
  for(int i=0; i<4; i++){
    char *z = sqlite3_mprintf("%s%s", zPath, azSuffix[i]);
    if( z ){ unlink(z); sqlite3_free(z); }
  }
}

#endif /* MB_SQLTEST_H */
