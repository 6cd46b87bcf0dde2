/*
** test_vfs_faults.c -- I/O faults under the membase VFS.
**
** 1. ENOSPC and EIO injected into the platform VFS's writes (pwrite,
**    pwrite64, write) and ftruncate, at every write point of a transaction
**    in turn, in rollback (DELETE, TRUNCATE) and WAL mode, in both locking
**    modes. The faults are injected with the platform VFS's own system-call
**    hooks, reached through membase's xSetSystemCall. Checked each time:
**    SQLite returns the code it documents (SQLITE_FULL for ENOSPC,
**    SQLITE_IOERR_* for EIO); once the fault is gone the database passes
**    integrity_check and holds either all of the transaction or none of it
**    (none when the COMMIT failed), read back through membase and through
**    stock unix. Under valgrind (RUNNING_ON_VALGRIND, or MB_UNDER_VALGRIND=1
**    without <valgrind/valgrind.h>) each sweep runs every 5th of its points,
**    the phase turning from sweep to sweep, and says so (~50 s, not ~350 s).
** 2. The mapping cannot be made (address space limited with RLIMIT_AS in a
**    child process): the VFS falls back to the platform read path, PRAGMA
**    membase_stats says so, and the data reads back right.
**
** Linked with libmembase.a and the system libsqlite3 (tests/CMakeLists.txt).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include "membase.h"
#include "../mb_sqltest.h"
/* valgrind's client-request header where this machine has it (Debian's
** valgrind package); else MB_UNDER_VALGRIND=1 (tests/scripts/sanitizers.sh). */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define MB_HAVE_VALGRIND_H 1
#endif
#endif

static int underValgrind(void){
#if defined(MB_HAVE_VALGRIND_H)
  return RUNNING_ON_VALGRIND ? 1 : 0;
#else
  const char *z = getenv("MB_UNDER_VALGRIND");
  return z && z[0]=='1';
#endif
}

static int nFail = 0, nCheck = 0;
#define CHECK(cond, ...) do{ nCheck++; if(!(cond)){ nFail++; \
  fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
  fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } }while(0)

/* ------------------------------------------------------------ injection */

static int gCountdown = -1;   /* writes left before the fault; -1 = off */
static int gErrno = 0;
static int gFired = 0;
static sqlite3_syscall_ptr gRealPwrite, gRealPwrite64, gRealWrite, gRealFtruncate;

static int mbFault(void){
  if( gCountdown<0 ) return 0;
  if( gCountdown==0 ){ gFired++; errno = gErrno; return 1; }
  gCountdown--;
  return 0;
}
static ssize_t fakePwrite(int fd, const void *b, size_t n, off_t o){
  if( mbFault() ) return -1;
  return ((ssize_t(*)(int,const void*,size_t,off_t))gRealPwrite)(fd, b, n, o);
}
static ssize_t fakePwrite64(int fd, const void *b, size_t n, off_t o){
  if( mbFault() ) return -1;
  return ((ssize_t(*)(int,const void*,size_t,off_t))gRealPwrite64)(fd, b, n, o);
}
static ssize_t fakeWrite(int fd, const void *b, size_t n){
  if( mbFault() ) return -1;
  return ((ssize_t(*)(int,const void*,size_t))gRealWrite)(fd, b, n);
}
static int fakeFtruncate(int fd, off_t n){
  if( mbFault() ) return -1;
  return ((int(*)(int,off_t))gRealFtruncate)(fd, n);
}

static void hooksInstall(sqlite3_vfs *v){
  gRealPwrite = v->xGetSystemCall(v, "pwrite");
  gRealPwrite64 = v->xGetSystemCall(v, "pwrite64");
  gRealWrite = v->xGetSystemCall(v, "write");
  gRealFtruncate = v->xGetSystemCall(v, "ftruncate");
  if( gRealPwrite ) v->xSetSystemCall(v, "pwrite", (sqlite3_syscall_ptr)fakePwrite);
  if( gRealPwrite64 ) v->xSetSystemCall(v, "pwrite64", (sqlite3_syscall_ptr)fakePwrite64);
  if( gRealWrite ) v->xSetSystemCall(v, "write", (sqlite3_syscall_ptr)fakeWrite);
  if( gRealFtruncate ) v->xSetSystemCall(v, "ftruncate", (sqlite3_syscall_ptr)fakeFtruncate);
}

/* ------------------------------------------------------------- helpers */

static const char *gDir;
static char gPath[4096];

static sqlite3 *dbOpen(const char *zVfs){
  return mbtOpenVfs(gPath, zVfs);
}

/* The state of the table as (count, sum) folded into one number. */
static sqlite3_int64 dbState(sqlite3 *db, int *pRc){
  return mbtInt(db, "SELECT count(*)*1000000007 + total(v) FROM t", pRc);
}

/* Check the database on disk through zVfs: integrity and one of the two
** allowed states. */
static void verify(const char *zVfs, const char *zCase, sqlite3_int64 before,
                   sqlite3_int64 after, int committed){
  sqlite3 *db = dbOpen(zVfs);
  int rc;
  char *zIc;
  sqlite3_int64 now;
  sqlite3_busy_timeout(db, 2000);
  zIc = mbtText(db, "PRAGMA integrity_check");
  CHECK(zIc && strcmp(zIc, "ok")==0, "%s via %s: integrity_check: %s", zCase, zVfs,
        zIc ? zIc : sqlite3_errmsg(db));
  sqlite3_free(zIc);
  now = dbState(db, &rc);
  CHECK(rc==SQLITE_OK, "%s via %s: read: %s", zCase, zVfs, sqlite3_errmsg(db));
  if( committed ){
    CHECK(now==after, "%s via %s: COMMIT succeeded but the transaction is missing", zCase, zVfs);
  }else{
    CHECK(now==before || now==after,
          "%s via %s: state is neither before nor after the transaction", zCase, zVfs);
    CHECK(now==before, "%s via %s: COMMIT failed but the transaction is there", zCase, zVfs);
  }
  sqlite3_close(db);
}

/* One scenario: a table of 2000 rows, then a transaction that updates half
** of them, deletes some, inserts more (pages written, journal written,
** file grown and, with auto_vacuum, truncated). Fault after `k` writes. */
static int runCase(const char *zVfs, const char *zJournal, int err, int k){
  char zCase[200];
  sqlite3 *db;
  sqlite3_int64 before, after;
  int rc, rcCommit;
  char *zSql;
  snprintf(zCase, sizeof(zCase), "%s/%s/%s/after %d writes", zVfs, zJournal,
           err==ENOSPC ? "ENOSPC" : "EIO", k);

  mbtRemoveDb(gPath);
  db = dbOpen(zVfs);
  zSql = sqlite3_mprintf("PRAGMA page_size=1024; PRAGMA auto_vacuum=FULL;"
       "PRAGMA journal_mode=%s; PRAGMA mmap_size=268435456;"
       "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad BLOB);"
       "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000)"
       " INSERT INTO t SELECT i, i, randomblob(200) FROM c;", zJournal);
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  CHECK(rc==SQLITE_OK, "%s: setup: %s", zCase, sqlite3_errmsg(db));
  before = dbState(db, 0);

  gCountdown = k;
  gErrno = err;
  gFired = 0;
  rc = sqlite3_exec(db,
       "BEGIN;"
       "UPDATE t SET v=v+1 WHERE id%2=0;"
       "DELETE FROM t WHERE id>1600;"
       "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<300)"
       " INSERT INTO t(v,pad) SELECT 7, randomblob(300) FROM c;", 0, 0, 0);
  rcCommit = rc==SQLITE_OK ? sqlite3_exec(db, "COMMIT", 0, 0, 0) : rc;
  {
    int ext = sqlite3_extended_errcode(db);
    int fired = gFired;
    gCountdown = -1;
    if( !fired ){
      CHECK(rcCommit==SQLITE_OK, "%s: no fault fired, yet: %s", zCase, sqlite3_errmsg(db));
    }else if( rcCommit==SQLITE_OK && strcmp(zJournal, "WAL")==0 ){
      /* The fault hit the checkpoint that COMMIT runs once the WAL is
      ** long enough: the transaction is durable in the WAL, and SQLite
      ** reports the commit as done (verify() checks it is all there). */
    }else{
      if( err==ENOSPC ){
        CHECK(rcCommit==SQLITE_FULL, "%s: expected SQLITE_FULL, got %d (%s)", zCase,
              ext, sqlite3_errmsg(db));
      }else{
        CHECK((rcCommit & 0xff)==SQLITE_IOERR, "%s: expected SQLITE_IOERR_*, got %d (%s)",
              zCase, ext, sqlite3_errmsg(db));
      }
    }
    if( rcCommit!=SQLITE_OK ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    sqlite3_close(db);
    /* the expected state after a successful commit */
    {
      sqlite3 *m;
      sqlite3_open_v2(":memory:", &m, SQLITE_OPEN_READWRITE, 0);
      sqlite3_exec(m, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad BLOB);"
                      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000)"
                      " INSERT INTO t SELECT i, i, NULL FROM c;"
                      "UPDATE t SET v=v+1 WHERE id%2=0; DELETE FROM t WHERE id>1600;"
                      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<300)"
                      " INSERT INTO t(v,pad) SELECT 7, NULL FROM c;", 0, 0, 0);
      after = dbState(m, 0);
      sqlite3_close(m);
    }
    verify(zVfs, zCase, before, after, rcCommit==SQLITE_OK);
    verify("unix", zCase, before, after, rcCommit==SQLITE_OK);
    return fired;
  }
}

#if !defined(__SANITIZE_ADDRESS__)
/* ------------------------------------------------- mapping unavailable */

static int mapFailureChild(void){
  struct rlimit rl;
  sqlite3 *db;
  char *zStats;
  int rc;
  sqlite3_int64 n;
  nFail = 0;   /* the parent's count came with fork() */
  /* Room for SQLite (24 MiB more address space than the process has now)
  ** but not for a mapping of the 64 MiB file, let alone the core's
  ** reservation. */
  {
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;
    while( fp && fgets(line, sizeof(line), fp) ){
      if( sscanf(line, "VmSize: %llu kB", &kb)==1 ) break;
    }
    if( fp ) fclose(fp);
    if( kb==0 ){ fprintf(stderr, "no VmSize\n"); return 2; }
    rl.rlim_cur = rl.rlim_max = (rlim_t)(kb*1024 + ((unsigned long long)24<<20));
  }
  if( setrlimit(RLIMIT_AS, &rl)!=0 ){ perror("setrlimit"); return 2; }
  db = dbOpen("membase");
  n = mbtInt(db, "SELECT sum(v) FROM t", &rc);
  CHECK(rc==SQLITE_OK && n==2001000, "fallback read: rc=%d sum=%lld (%s)", rc, n,
        sqlite3_errmsg(db));
  zStats = mbtText(db, "PRAGMA membase_stats");
  CHECK(zStats && strstr(zStats, "\"mapped\":false") && strstr(zStats, "\"map_error\":\""),
        "fallback: membase_stats says %s", zStats ? zStats : "(null)");
  CHECK(zStats && strstr(zStats, "\"reads_from_os\":0,")==0,
        "fallback: no read went to the OS: %s", zStats ? zStats : "(null)");
  sqlite3_free(zStats);
  rc = sqlite3_exec(db, "UPDATE t SET v=v+1 WHERE id=1", 0, 0, 0);
  CHECK(rc==SQLITE_OK, "fallback write: %s", sqlite3_errmsg(db));
  n = mbtInt(db, "SELECT v FROM t WHERE id=1", &rc);
  CHECK(rc==SQLITE_OK && n==2, "fallback read-back: %lld", n);
  sqlite3_close(db);
  return nFail ? 1 : 0;
}

static void testMapFailure(void){
  sqlite3 *db;
  pid_t pid;
  int status = 0;
  mbtRemoveDb(gPath);
  db = dbOpen("unix");
  sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER);"
                   "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000)"
                   " INSERT INTO t SELECT i, i FROM c;"
                   "CREATE TABLE filler(b); INSERT INTO filler VALUES(zeroblob(64<<20));",
                   0, 0, 0);
  sqlite3_close(db);
  fflush(stdout);   /* the child's _exit under valgrind flushes stdio */
  fflush(stderr);
  pid = fork();
  if( pid==0 ) _exit(mapFailureChild());
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status)==0,
        "mapping-failure child failed (status %d)", status);
}
#endif

int main(void){
  static const char *const azVfs[] = { "membase", "membase-process" };
  static const char *const azJournal[] = { "DELETE", "TRUNCATE", "WAL" };
  static const int aErr[] = { ENOSPC, EIO };
  sqlite3_vfs *pVfs;
  int nCases = 0, nFired = 0, nSkipped = 0;
  /* Under valgrind a case costs ~0.35 s (more beside other tests): run every VG_STRIDE-th point
  ** of each sweep, with the phase turning from one sweep to the next so
  ** that the 12 sweeps together still cover every point of the sequence. */
  enum { VG_STRIDE = 5 };
  const int stride = underValgrind() ? VG_STRIDE : 1;

  gDir = getenv("MB_TEST_TMPDIR");
  if( gDir==0 ) gDir = "/tmp";
  snprintf(gPath, sizeof(gPath), "%s/vfs_faults_%d.db", gDir, (int)getpid());
  if( membase_vfs_register(0)!=SQLITE_OK ){
    fprintf(stderr, "membase_vfs_register failed\n");
    return 2;
  }
  pVfs = sqlite3_vfs_find("membase");
  CHECK(pVfs && pVfs->iVersion>=3 && pVfs->xSetSystemCall, "membase has the syscall hooks");
  hooksInstall(pVfs);
  CHECK(gRealPwrite || gRealPwrite64, "the platform VFS exposes pwrite through membase");

  for(int v=0; v<2; v++){
    for(int j=0; j<3; j++){
      for(int e=0; e<2; e++){
        /* every write point of the first 24, then points further and
        ** further apart, until the transaction gets through unharmed */
        int k, fired = 1, iPoint = 0;
        const int phase = (v*6 + j*2 + e) % stride;
        for(k=0; k<100000 && fired; k += (k<24 ? 1 : k/6), iPoint++){
          if( iPoint%stride!=phase ){ nSkipped++; continue; }
          fired = runCase(azVfs[v], azJournal[j], aErr[e], k);
          nCases++;
          nFired += fired>0;
        }
        CHECK(!fired, "%s/%s: the transaction never got through", azVfs[v], azJournal[j]);
      }
    }
  }
  if( stride>1 ){
    printf("test_vfs_faults: under valgrind: every %dth write point of each sweep "
           "(phase turning per sweep): %d cases run, %d points passed over\n",
           stride, nCases, nSkipped);
  }
  pVfs->xSetSystemCall(pVfs, 0, 0);   /* all hooks back to the real calls */
#if defined(__SANITIZE_ADDRESS__)
  /* ASan's shadow memory is terabytes of address space: RLIMIT_AS cannot
  ** be set between what the process needs and what a mapping needs. */
  printf("test_vfs_faults: mapping-failure case skipped under ASan\n");
#else
  /* qemu-user keeps RLIMIT_AS to itself (the emulator needs the address
  ** space), so the limit that makes the mapping fail never applies. */
  if( getenv("MB_UNDER_QEMU") && getenv("MB_UNDER_QEMU")[0]=='1' ){
    printf("test_vfs_faults: mapping-failure case skipped under qemu-user"
           " (it does not apply RLIMIT_AS)\n");
  }else{
    testMapFailure();
  }
#endif
  mbtRemoveDb(gPath);
  printf("test_vfs_faults: %d cases (%d with a fault), %d checks, %d failures\n",
         nCases, nFired, nCheck, nFail);
  return nFail ? 1 : 0;
}
