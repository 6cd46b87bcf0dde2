/*
** test_vfs_truncate.c -- files the membase VFS has mapped shrink when
** SQLite shrinks them.
**
** 1. VACUUM after most rows were deleted leaves a database file of
**    page_count * page_size bytes, far below its size before.
** 2. PRAGMA wal_checkpoint(TRUNCATE) leaves a -wal file of 0 bytes, after
**    a second connection read pages from the WAL (so the WAL is mapped).
** 3. The same VACUUM in WAL mode: the checkpoint that follows cuts the
**    database file.
** Each in both locking modes ("membase", "membase-process"), with
** mmap_size 0 and 64 MB, and the data reads back right afterwards.
**
** Why this test: Windows refuses to cut a file while a view of it is
** mapped (ERROR_USER_MAPPED_FILE), and SQLite's win32 VFS ignores exactly
** that error in xTruncate. With the VFS's own mapping open, VACUUM and
** wal_checkpoint(TRUNCATE) "succeeded" and the files never shrank. The
** VFS now has the core drop its views before the cut (mb_registry_cut).
** Runs natively and under Wine (tests/scripts/windows.sh).
**
** Linked with libmembase.a and the platform's SQLite (tests/CMakeLists.txt).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "membase.h"
#include "../mb_sqltest.h"

static int nFail = 0, nPass = 0;

static void check(int ok, const char *zCase, const char *zWhat, long long got, long long want){
  if( ok ){ nPass++; return; }
  nFail++;
  printf("FAIL %s: %s (got %lld, want %lld)\n", zCase, zWhat, got, want);
  fflush(stdout);
}

/* The file's size, -1 if it does not exist. */
static long long fileSize(const char *zPath){
#if defined(_WIN32)
  struct _stat64 st;
  return _stat64(zPath, &st)==0 ? (long long)st.st_size : -1;
#else
  struct stat st;
  return stat(zPath, &st)==0 ? (long long)st.st_size : -1;
#endif
}

static void exec(sqlite3 *db, const char *zCase, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    nFail++;
    printf("FAIL %s: %s: %s\n", zCase, zSql, zErr ? zErr : "?");
    fflush(stdout);
  }
  sqlite3_free(zErr);
}

/* 3000 rows of 1000 bytes (~3.3 MB), then all but every 50th deleted. */
static void fillThenDelete(sqlite3 *db, const char *zCase){
  exec(db, zCase, "CREATE TABLE t(id INTEGER PRIMARY KEY, x BLOB);"
       "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 3000)"
       " INSERT INTO t SELECT i, randomblob(1000) FROM g;");
  exec(db, zCase, "DELETE FROM t WHERE id % 50 != 0");
}

static void checkRows(sqlite3 *db, const char *zCase){
  int rc;
  long long n = mbtInt(db, "SELECT count(*) FROM t", &rc);
  check(rc==SQLITE_OK && n==60, zCase, "rows left", n, 60);
  n = mbtInt(db, "SELECT sum(id) FROM t WHERE length(x)=1000", &rc);
  check(rc==SQLITE_OK && n==50*60*61/2, zCase, "sum of the ids left", n, 50*60*61/2);
  char *z = mbtText(db, "PRAGMA integrity_check");
  check(z && strcmp(z, "ok")==0, zCase, "integrity_check is ok", 0, 0);
  sqlite3_free(z);
}

static sqlite3 *openDb(const char *zPath, const char *zVfs, int mmap){
  sqlite3 *db = mbtOpenVfs(zPath, zVfs);
  char zSql[64];
  snprintf(zSql, sizeof zSql, "PRAGMA mmap_size=%d", mmap ? 64<<20 : 0);
  exec(db, zPath, zSql);
  return db;
}

static void testVacuum(const char *zDir, const char *zVfs, int mmap){
  char *zPath = sqlite3_mprintf("%s/vacuum-%s-%d.db", zDir, zVfs, mmap);
  char *zCase = sqlite3_mprintf("VACUUM (%s, mmap %s)", zVfs, mmap ? "on" : "off");
  mbtRemoveDb(zPath);
  sqlite3 *db = openDb(zPath, zVfs, mmap);
  fillThenDelete(db, zCase);
  long long before = fileSize(zPath);
  exec(db, zCase, "VACUUM");
  long long after = fileSize(zPath);
  long long want = mbtInt(db, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", 0);
  check(after==want, zCase, "file size is page_count * page_size", after, want);
  check(after>0 && after < before/10, zCase, "the file shrank to under a tenth", after, before/10);
  checkRows(db, zCase);
  sqlite3_close(db);
  /* and again from a fresh connection: what the file holds */
  db = openDb(zPath, zVfs, mmap);
  checkRows(db, zCase);
  sqlite3_close(db);
  mbtRemoveDb(zPath);
  sqlite3_free(zCase);
  sqlite3_free(zPath);
}

static void testWal(const char *zDir, const char *zVfs, int mmap){
  char *zPath = sqlite3_mprintf("%s/wal-%s-%d.db", zDir, zVfs, mmap);
  char *zWal = sqlite3_mprintf("%s-wal", zPath);
  char *zCase = sqlite3_mprintf("wal_checkpoint(TRUNCATE) (%s, mmap %s)", zVfs, mmap ? "on" : "off");
  mbtRemoveDb(zPath);
  sqlite3 *db = openDb(zPath, zVfs, mmap);
  exec(db, zCase, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0");
  fillThenDelete(db, zCase);
  /* A second connection reads the rows: from the WAL, through its mapping. */
  sqlite3 *db2 = openDb(zPath, zVfs, mmap);
  checkRows(db2, zCase);
  long long walBefore = fileSize(zWal);
  check(walBefore > 1000000, zCase, "the WAL holds the transactions", walBefore, 1000000);
  long long dbBefore = fileSize(zPath);
  exec(db, zCase, "VACUUM");
  exec(db, zCase, "PRAGMA wal_checkpoint(TRUNCATE)");
  long long walAfter = fileSize(zWal);
  check(walAfter==0, zCase, "the -wal file is 0 bytes", walAfter, 0);
  long long dbAfter = fileSize(zPath);
  long long want = mbtInt(db, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", 0);
  check(dbAfter==want, zCase, "the database is page_count * page_size", dbAfter, want);
  check(dbBefore > 0 && dbAfter < 1000000, zCase, "the database shrank below 1 MB", dbAfter, 1000000);
  checkRows(db2, zCase);
  exec(db2, zCase, "INSERT INTO t VALUES (1000000, randomblob(10)); DELETE FROM t WHERE id=1000000");
  checkRows(db, zCase);
  sqlite3_close(db2);
  sqlite3_close(db);
  mbtRemoveDb(zPath);
  sqlite3_free(zCase);
  sqlite3_free(zWal);
  sqlite3_free(zPath);
}

int main(void){
  const char *zDir = getenv("MB_TEST_TMPDIR");
  if( zDir==0 || zDir[0]==0 ) zDir = ".";
  if( membase_vfs_register(0)!=SQLITE_OK ){
    fprintf(stderr, "membase_vfs_register failed\n");
    return 2;
  }
  static const char *const azVfs[] = { "membase", "membase-process" };
  for(int v = 0; v < 2; v++){
    for(int mmap = 0; mmap < 2; mmap++){
      testVacuum(zDir, azVfs[v], mmap);
      testWal(zDir, azVfs[v], mmap);
    }
  }
  printf("test_vfs_truncate: %d passed, %d failed\n", nPass, nFail);
  return nFail ? 1 : 0;
}
