/*
** static_link.c -- MemBase linked in statically (libmembase.a, target
** membase_static) against the system libsqlite3: membase_register() makes
** every connection opened afterwards have MemBase, membase_register_db()
** adds it to a connection opened before, and both are idempotent. The
** process-wide memory settings of the C API, membase_set_dropbehind() and
** membase_set_idle_budget(), are checked through what SQL then sees: the
** default policy, the budget, and an idle mapping kept and then evicted.
** Last (it only narrows), the file policy of the C API:
** membase_allow_directories() and membase_disable_file_access(), seen
** through SQL.
**
** Exits 0 if every check passes; otherwise prints what failed and exits 1.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#if defined(_WIN32)
#include <direct.h>
#include <process.h>
#define makeDir(z) _mkdir(z)          /* no mode bits on Windows */
#else
#include <unistd.h>
#define makeDir(z) mkdir(z, 0755)
#endif
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

/* The integer answer of zSql (-1 on error, with the message in zBuf). */
static long long queryInt(sqlite3 *db, const char *zSql, char *zBuf, size_t nBuf){
  if( query(db, zSql, zBuf, nBuf)!=SQLITE_OK ) return -1;
  return atoll(zBuf);
}

/* The file policy from C: allowed directories (the temporary directory of
** the test), what SQL then reports and refuses, a widening refused with a
** message, then no file access at all. */
static void testPolicy(sqlite3 *db){
  char zBuf[512], zIn[256], zOut[256], zSql[700];
  char *zErr = 0;
  const char *zTmp = getenv("MB_TEST_TMPDIR");
  const char *azDir[1];
  int rc;
  snprintf(zIn, sizeof zIn, "%s/policy-in", zTmp ? zTmp : "/tmp");
  snprintf(zOut, sizeof zOut, "%s/policy-out.txt", zTmp ? zTmp : "/tmp");
  (void)makeDir(zIn);
  { FILE *f = fopen(zOut, "w"); if( f ){ fputs("x\n", f); fclose(f); } }
  azDir[0] = zIn;
  rc = membase_allow_directories(azDir, 1, &zErr);
  check(rc==SQLITE_OK && zErr==0, "membase_allow_directories(dir)", zErr);
  rc = query(db, "SELECT membase_allowed_directories()", zBuf, sizeof zBuf);
  {
    /* The policy keeps a directory as the system's full path names it:
    ** on Windows with a drive and backslashes (Z:\... under Wine). */
    char zWant[300];
#if defined(_WIN32)
    if( _fullpath(zWant, zIn, sizeof zWant)==0 ) snprintf(zWant, sizeof zWant, "%s", zIn);
#else
    snprintf(zWant, sizeof zWant, "%s", zIn);
#endif
    check(rc==SQLITE_OK && strcmp(zBuf, zWant)==0, "the policy SQL reports", zBuf);
  }
  snprintf(zSql, sizeof zSql, "SELECT count(*) FROM membase_lines('%s')", zOut);
  rc = query(db, zSql, zBuf, sizeof zBuf);
  check(rc!=SQLITE_OK && strstr(zBuf, "outside the allowed directories")
        && strstr(zBuf, "(set by membase_allow_directories())"),
        "a file outside is refused", zBuf);
  azDir[0] = "/";
  rc = membase_allow_directories(azDir, 1, &zErr);
  check(rc==SQLITE_AUTH && zErr && strstr(zErr, "the policy can only narrow"),
        "a wider policy is refused with a message", zErr);
  sqlite3_free(zErr);
  zErr = 0;
  check(membase_allow_directories(0, 0, &zErr)==SQLITE_MISUSE,
        "no directory is SQLITE_MISUSE", "");
  membase_disable_file_access();
  rc = query(db, "SELECT membase_external_access()", zBuf, sizeof zBuf);
  check(rc==SQLITE_OK && strcmp(zBuf, "0")==0, "file access off", zBuf);
  azDir[0] = zIn;
  rc = membase_allow_directories(azDir, 1, &zErr);
  check(rc==SQLITE_AUTH && zErr && strstr(zErr, "membase_disable_file_access()"),
        "access stays off", zErr);
  sqlite3_free(zErr);
}

/* membase_set_dropbehind(): the process default that SQL reports, and a
** bad or NULL policy refused without changing it. */
static void testDropbehind(sqlite3 *db){
  char zBuf[256];
  int rc = membase_set_dropbehind("on");
  check(rc==SQLITE_OK, "membase_set_dropbehind(\"on\")", sqlite3_errstr(rc));
  query(db, "SELECT membase_dropbehind_default()", zBuf, sizeof(zBuf));
  check(strcmp(zBuf, "on")==0, "default drop-behind is on after the C call", zBuf);
  query(db, "SELECT json_extract(membase_memory(), '$.dropbehind_default')",
        zBuf, sizeof(zBuf));
  check(strcmp(zBuf, "on")==0, "membase_memory() reports drop-behind on", zBuf);

  rc = membase_set_dropbehind("sometimes");
  check(rc==SQLITE_ERROR, "membase_set_dropbehind(\"sometimes\") is SQLITE_ERROR",
        sqlite3_errstr(rc));
  rc = membase_set_dropbehind(0);
  check(rc==SQLITE_ERROR, "membase_set_dropbehind(NULL) is SQLITE_ERROR",
        sqlite3_errstr(rc));
  query(db, "SELECT membase_dropbehind_default()", zBuf, sizeof(zBuf));
  check(strcmp(zBuf, "on")==0, "a refused policy leaves the default as it was", zBuf);

  rc = membase_set_dropbehind("off");
  query(db, "SELECT membase_dropbehind_default()", zBuf, sizeof(zBuf));
  check(rc==SQLITE_OK && strcmp(zBuf, "off")==0, "membase_set_dropbehind(\"off\")", zBuf);
  rc = membase_set_dropbehind("auto");
  query(db, "SELECT membase_dropbehind_default()", zBuf, sizeof(zBuf));
  check(rc==SQLITE_OK && strcmp(zBuf, "auto")==0, "membase_set_dropbehind(\"auto\")", zBuf);
}

/* membase_set_idle_budget(): the budget SQL reports; a mapping unpinned by
** its last user stays open (idle) under the budget and is evicted when the
** budget goes back to 0, 0; negative values are SQLITE_RANGE, no change. */
static void testIdleBudget(sqlite3 *db){
  char zBuf[512], zSql[1024], zPath[512];
  const char *zDir = getenv("MB_TEST_TMPDIR");
  snprintf(zPath, sizeof(zPath), "%s/static_link_idle_%ld.bin",
           zDir && zDir[0] ? zDir : "/tmp", (long)getpid());
  FILE *f = fopen(zPath, "wb");
  check(f!=0, "create the file to map", zPath);
  if( f==0 ) return;
  static char aZero[65536];
  fwrite(aZero, 1, sizeof(aZero), f);
  fclose(f);

  int rc = membase_set_idle_budget(1<<20, 2);
  check(rc==SQLITE_OK, "membase_set_idle_budget(1 MiB, 2)", sqlite3_errstr(rc));
  query(db, "SELECT membase_idle_budget()", zBuf, sizeof(zBuf));
  check(strcmp(zBuf, "{\"bytes\":1048576,\"count\":2}")==0,
        "membase_idle_budget() reports the budget set in C", zBuf);

  rc = membase_set_idle_budget(-1, 2);
  check(rc==SQLITE_RANGE, "membase_set_idle_budget(-1, 2) is SQLITE_RANGE",
        sqlite3_errstr(rc));
  rc = membase_set_idle_budget(1024, -1);
  check(rc==SQLITE_RANGE, "membase_set_idle_budget(1024, -1) is SQLITE_RANGE",
        sqlite3_errstr(rc));
  query(db, "SELECT membase_idle_budget()", zBuf, sizeof(zBuf));
  check(strcmp(zBuf, "{\"bytes\":1048576,\"count\":2}")==0,
        "a refused budget leaves the budget as it was", zBuf);

  /* Mapped, then unpinned: kept open, idle, with no user. */
  snprintf(zSql, sizeof(zSql), "SELECT membase_map('%s')", zPath);
  check(queryInt(db, zSql, zBuf, sizeof(zBuf))==65536, "membase_map() of the file", zBuf);
  snprintf(zSql, sizeof(zSql), "SELECT membase_unmap('%s')", zPath);
  check(queryInt(db, zSql, zBuf, sizeof(zBuf))==1, "membase_unmap() of the file", zBuf);
  snprintf(zSql, sizeof(zSql),
           "SELECT idle || ',' || refcount FROM membase_stats WHERE path = '%s'", zPath);
  query(db, zSql, zBuf, sizeof(zBuf));
  check(strcmp(zBuf, "1,0")==0, "the unpinned mapping stays open, idle (idle,refcount)", zBuf);
  long long nIdle = queryInt(db,
      "SELECT json_extract(membase_counters(), '$.idle_maps')", zBuf, sizeof(zBuf));
  check(nIdle==1, "membase_counters() counts one idle mapping", zBuf);
  long long nEvicted0 = queryInt(db,
      "SELECT json_extract(membase_counters(), '$.idle_evicted')", zBuf, sizeof(zBuf));

  /* Budget 0, 0: the idle mapping is closed. */
  rc = membase_set_idle_budget(0, 0);
  check(rc==SQLITE_OK, "membase_set_idle_budget(0, 0)", sqlite3_errstr(rc));
  snprintf(zSql, sizeof(zSql), "SELECT count(*) FROM membase_stats WHERE path = '%s'", zPath);
  check(queryInt(db, zSql, zBuf, sizeof(zBuf))==0,
        "a budget of 0, 0 closes the idle mapping", zBuf);
  long long nEvicted1 = queryInt(db,
      "SELECT json_extract(membase_counters(), '$.idle_evicted')", zBuf, sizeof(zBuf));
  check(nEvicted1==nEvicted0+1, "membase_counters() counts the eviction", zBuf);
  query(db, "SELECT membase_idle_budget()", zBuf, sizeof(zBuf));
  check(strcmp(zBuf, "{\"bytes\":0,\"count\":0}")==0,
        "membase_idle_budget() reports 0, 0 again", zBuf);
  unlink(zPath);
}

/* membase_debug_info() is the text of SELECT membase_debug(), and says
** the library is linked in. */
static void testDebugInfo(sqlite3 *db){
  char zBuf[4096];
  char *z = membase_debug_info();
  check(z!=0, "membase_debug_info() returns text", "NULL");
  if( z==0 ) return;
  check(strncmp(z, "membase_version: " MEMBASE_VERSION "\n",
                sizeof("membase_version: " MEMBASE_VERSION "\n") - 1)==0,
        "membase_debug_info() starts with the version", z);
  check(strstr(z, "\nlinkage: static\n")!=0, "membase_debug_info(): linkage static", z);
  query(db, "SELECT membase_debug()", zBuf, sizeof(zBuf));
  /* The same keys in the same order (values such as memory_source may
  ** change between two readings): compare the text up to the first line
  ** that reads the process's state. */
  check(strncmp(z, zBuf, (size_t)(strstr(z, "\nfault_handler: ") - z))==0,
        "membase_debug() is membase_debug_info()", zBuf);
  sqlite3_free(z);
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

  testDropbehind(db);
  testIdleBudget(db);
  testDebugInfo(db);

  /* Registering on a connection that has it from membase_register(). */
  rc = membase_register_db(db);
  check(rc==SQLITE_OK, "membase_register_db() after membase_register()",
        sqlite3_errstr(rc));
  testPolicy(db);

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
