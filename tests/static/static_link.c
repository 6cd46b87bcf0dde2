/*
** static_link.c -- MemBase linked in statically (libmembase.a, target
** membase_static) against the system libsqlite3: membase_register() makes
** every connection opened afterwards have MemBase, membase_register_db()
** adds it to a connection opened before, and both are idempotent.
**
** Exits 0 if every check passes; otherwise prints what failed and exits 1.
*/
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>
#include "membase.h"

static int nFail = 0;

static void check(int ok, const char *zWhat, const char *zGot){
  if( !ok ){
    fprintf(stderr, "static_link: FAILED: %s (got \"%s\")\n", zWhat,
            zGot ? zGot : "(null)");
    nFail++;
  }
}

/* The text of the first column of the first row of zSql, or the error
** message, in a buffer of the caller. Returns the SQLite result code. */
static int query(sqlite3 *db, const char *zSql, char *zOut, size_t nOut){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      const unsigned char *z = sqlite3_column_text(pStmt, 0);
      snprintf(zOut, nOut, "%s", z ? (const char*)z : "NULL");
      rc = SQLITE_OK;
    }
  }
  if( rc!=SQLITE_OK ) snprintf(zOut, nOut, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(pStmt);
  return rc;
}

int main(void){
  sqlite3 *dbBefore = 0;
  sqlite3 *db = 0;
  char zBuf[256];
  int rc;

  check(strcmp(membase_version(), MEMBASE_VERSION)==0,
        "membase_version() equals MEMBASE_VERSION", membase_version());

  /* A connection opened before registering has no MemBase... */
  rc = sqlite3_open(":memory:", &dbBefore);
  check(rc==SQLITE_OK, "open the first connection", sqlite3_errstr(rc));
  rc = query(dbBefore, "SELECT membase_version()", zBuf, sizeof(zBuf));
  check(rc!=SQLITE_OK, "no membase_version() before registering", zBuf);

  /* ...until membase_register_db() adds it, twice without harm. */
  rc = membase_register_db(dbBefore);
  check(rc==SQLITE_OK, "membase_register_db()", sqlite3_errstr(rc));
  rc = membase_register_db(dbBefore);
  check(rc==SQLITE_OK, "membase_register_db() again", sqlite3_errstr(rc));
  rc = query(dbBefore, "SELECT membase_version()", zBuf, sizeof(zBuf));
  check(rc==SQLITE_OK && strcmp(zBuf, MEMBASE_VERSION)==0,
        "membase_version() after membase_register_db()", zBuf);
  check(membase_register_db(0)==SQLITE_MISUSE,
        "membase_register_db(NULL) is SQLITE_MISUSE", "");

  /* membase_register(): every later connection has MemBase. */
  rc = membase_register();
  check(rc==SQLITE_OK, "membase_register()", sqlite3_errstr(rc));
  rc = membase_register();
  check(rc==SQLITE_OK, "membase_register() again", sqlite3_errstr(rc));
  rc = sqlite3_open(":memory:", &db);
  check(rc==SQLITE_OK, "open a connection after membase_register()",
        sqlite3_errstr(rc));
  rc = query(db, "SELECT membase_version()", zBuf, sizeof(zBuf));
  check(rc==SQLITE_OK && strcmp(zBuf, MEMBASE_VERSION)==0,
        "membase_version() through SQL", zBuf);
  rc = query(db, "SELECT count(*) FROM membase_stats", zBuf, sizeof(zBuf));
  check(rc==SQLITE_OK && strcmp(zBuf, "0")==0,
        "membase_stats is empty", zBuf);
  rc = query(db, "SELECT json_valid(membase_counters())", zBuf, sizeof(zBuf));
  check(rc==SQLITE_OK && strcmp(zBuf, "1")==0,
        "membase_counters() is JSON", zBuf);
  rc = query(db, "SELECT membase_map('/nonexistent/membase')", zBuf,
             sizeof(zBuf));
  check(rc!=SQLITE_OK && strcmp(zBuf,
        "membase_map: cannot map \"/nonexistent/membase\": no such file")==0,
        "membase_map() error message", zBuf);

  /* Registering on a connection that has it from membase_register(). */
  rc = membase_register_db(db);
  check(rc==SQLITE_OK, "membase_register_db() after membase_register()",
        sqlite3_errstr(rc));

  sqlite3_close(db);
  sqlite3_close(dbBefore);
  sqlite3_reset_auto_extension();
  if( nFail ){
    fprintf(stderr, "static_link: %d check(s) failed\n", nFail);
    return 1;
  }
  printf("static_link: MemBase %s linked statically, all checks passed\n",
         membase_version());
  return 0;
}
