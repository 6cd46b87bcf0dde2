/*
** mb_torture.c -- concurrency torture of MemBase (a hardening test): N processes x
** M threads for a bounded time.
**
**   mb_torture [--procs N] [--threads M] [--seconds S]
**              [--scenario vfs|records|shrink|all] [--seed X] [--dir D]
**              [--inject torn|lost|shrink]
** (--scenario also takes a comma-separated list: vfs,records; and
** "locks", not part of "all", see 4.)
**
** Quick setting (ctest torture.mb_torture, CI):
**   mb_torture --procs 2 --threads 2 --seconds 6 --scenario all --seed 1
** Long setting (by hand, about 20 minutes):
**   mb_torture --procs 4 --threads 4 --seconds 300 --scenario all
** --seconds is the length of each phase: vfs runs two (rollback, WAL).
** The scratch directory is --dir, else $MB_TEST_TMPDIR, else /tmp. With
** $MB_REPORT_DIR set, metrics are appended to $MB_REPORT_DIR/torture.tsv.
** Exit status 0 when every check passed.
**
** 1. vfs: for journal_mode DELETE, then WAL, N processes with M writer
**    threads and one snapshot reader each, every thread on its own
**    connection to one database: connection g uses stock "unix" when g is
**    even and "membase" (shared locking) when odd, and every third one has
**    mmap_size > 0. A writer loops BEGIN IMMEDIATE; read the counter;
**    insert (proc, thread, seq); counter+1; COMMIT, retrying on
**    SQLITE_BUSY, and counts what it got committed. A reader checks in one
**    read transaction that counter == count(*), and now and then
**    quick_check. At the end, through stock and through membase: counter
**    == the commits all workers reported == count(*), each thread's rows
**    are exactly seq 0..n-1, integrity_check is ok.
** 2. records: one raw record file, layout 'seq i64, val i64, own i64, cnt
**    i64' (32 bytes: every field 8-byte aligned, so the documented atomic
**    stores apply). Every stored value is "doubled": (x<<32)|x with x <
**    2^31, so a torn mix of two values has unequal halves. Each writer
**    thread (N x M of them, in N processes) owns K records and in one
**    transaction increments the shared counter (record 0, cnt =
**    cnt + 1 read under the file lock), bumps seq (and val) of 1-3 of its
**    records, and sometimes appends a record. N x M readers, in the same
**    processes, read by rowid, by rowid range, by full scan and through
**    membase_aggregate, and check every value is doubled, every record's
**    seq and the counter never go backwards for that reader, and the
**    record count never shrinks. At the end the file is read with pread:
**    the counter equals the committed transactions, each record holds its
**    writer's last committed seq, each writer's appends are there exactly
**    once, the length is exact and no journal is left.
** 3. shrink: N reader processes x M threads hold a record table (scans,
**    membase_aggregate, rowid lookups), a membase_lines table (scans) and
**    a database on the membase VFS (mmap_size > 0 on every other thread)
**    while this process truncates one of the three files (to 0, to a
**    page-aligned size, to an unaligned size) and then writes the original
**    bytes back, round after round. Checked: no reader dies of a signal;
**    a query that ran while its file was intact returns exactly the right
**    answer (so the same connection recovers after each restore); a query
**    that overlapped a truncation returns an SQL error or data that are
**    right for what was in the file (records and lines truncated at page
**    boundaries: any other result is a failure; unaligned truncations can
**    leave the zeros of a partial page visible to a reader that checked
**    the size first -- counted, reported, not a failure); the record and
**    lines tables did report errors (> 0) once enough rounds ran; after
**    the last round every thread's queries are right again. Every fourth
**    thread reads the database through stock unix, as the yardstick: a
**    connection (stock or membase) that began a transaction while the file
**    was empty keeps an empty schema ("no such table") and is reopened,
**    counted; stock connections also keep pages read short during a
**    truncation in their cache ("malformed" while the file is intact),
**    counted, not failures: membase connections must be right.
** 4. locks (--scenario locks; not in "all" while it fails): in WAL mode a
**    process with a stock connection open closes its only membase
**    connection; another process then opens and closes the database. The
**    stock connection's POSIX locks must have survived, so the second
**    process must not checkpoint and delete the WAL. It fails today: the
**    core's own descriptor of the database file is closed when the last
**    membase connection of the process goes, and closing any descriptor of
**    a file drops every fcntl lock the process holds on it. The vfs
**    scenario meets the same bug at the end of a phase, as a lost commit.
**    Run first with the second connection on stock unix, as the control.
**
** Processes are made with fork() before this process initialises SQLite.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include "membase.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define MB_SANITIZED 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#  define MB_SANITIZED 1
# endif
#endif
#ifndef MB_SANITIZED
# define MB_SANITIZED 0
#endif

#define MAX_PROCS 64
#define MAX_THREADS 64
#define MAX_WORKERS (MAX_PROCS*MAX_THREADS)
#define REC_K 32               /* records owned by each records writer */
#define REC_STRIDE 32
#define APPEND_OWN 1000000u    /* own of appended records: APPEND_OWN + w */

/* ------------------------------------------------------------ shared */

/* One page set shared by the parent and every child (MAP_SHARED before
** fork): results come back here, and the shrink phase's generations. */
typedef struct Shared {
  _Atomic int64_t nFail;
  _Atomic int stop;
  /* vfs */
  int64_t aCommit[MAX_WORKERS];       /* committed transactions per writer */
  _Atomic int64_t nVfsBusy, nVfsSnap, nVfsQuick;
  /* records */
  int64_t aRecTx[MAX_WORKERS];        /* committed transactions per writer */
  int64_t aRecApp[MAX_WORKERS];       /* committed appends per writer */
  uint32_t aRecSeq[MAX_WORKERS][REC_K];  /* last committed seq per record */
  _Atomic int64_t nRecReads, nRecBusy;
  /* shrink: per file kind (0 records, 1 lines, 2 db) */
  _Atomic uint64_t aGen[3];           /* odd while the file is disturbed */
  _Atomic uint64_t aUnaligned[3];     /* odd gen of the last unaligned round */
  _Atomic int64_t aRounds[3];
  _Atomic int64_t aErr[3];            /* SQL errors seen during disturbance */
  _Atomic int64_t aZero[3];           /* partial-page zeros seen (unaligned) */
  _Atomic int64_t aWrong[3];          /* db: wrong answer without an error */
  _Atomic int64_t aOkDisturbed[3];    /* right answers while disturbed */
  _Atomic int64_t aStable[3];         /* strict checks passed */
  _Atomic int64_t nRecovered;         /* final per-thread recovery checks */
  _Atomic int64_t aReopen[2];         /* db connections reopened: membase, unix */
  _Atomic int64_t nStockStale;        /* stock unix: wrong or error while intact */
  char azErrSample[3][4][160];        /* a few distinct error messages */
  pthread_mutex_t errMutex;
} Shared;

static Shared *S;
static int gProcs = 2, gThreads = 2, gSeconds = 6;
static uint64_t gSeed = 1;
static char gDir[1024];
static int gProc = -1;          /* index of this child, -1 in the parent */
/* --inject: a fault put in on purpose to show the checks catch it; the run
** then succeeds only if failures were reported. "torn": a torn value
** written into the record file; "lost": a committed increment undone
** behind the workers' backs (vfs and records); "shrink": one file
** restored with a changed byte. */
static const char *gInject = "";

static void failf(const char *zFile, int iLine, const char *zFmt, ...){
  va_list ap;
  char z[1024];
  va_start(ap, zFmt);
  vsnprintf(z, sizeof z, zFmt, ap);
  va_end(ap);
  /* the first 20 failures of each process are printed, all are counted */
  static _Atomic int nPrinted;
  atomic_fetch_add(&S->nFail, 1);
  int n = atomic_fetch_add(&nPrinted, 1);
  if( n<20 ) fprintf(stderr, "FAIL %s:%d [proc %d]: %s\n", zFile, iLine, gProc, z);
  else if( n==20 ) fprintf(stderr, "FAIL [proc %d]: more failures, not printed\n", gProc);
}
#define CHECK(cond, ...) do{ if(!(cond)) failf(__FILE__, __LINE__, __VA_ARGS__); }while(0)
#define FAIL(...) failf(__FILE__, __LINE__, __VA_ARGS__)

static double nowSec(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec*1e-9;
}

static void sleepMs(double ms){
  struct timespec ts;
  ts.tv_sec = (time_t)(ms/1000.0);
  ts.tv_nsec = (long)((ms - (double)ts.tv_sec*1000.0)*1e6);
  nanosleep(&ts, 0);
}

static uint64_t rnd(uint64_t *s){      /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z>>30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z>>27)) * 0x94d049bb133111ebULL;
  return z ^ (z>>31);
}

static uint32_t hash31(uint32_t a, uint32_t b){
  uint64_t s = ((uint64_t)a<<32) ^ b ^ 0x5bd1e995u;
  return (uint32_t)(rnd(&s) & 0x7fffffffu);
}

/* A doubled value: x in both halves. A torn mix of two doubled values has
** unequal halves (unless the two agree on every byte that came from the
** other, when nothing visible was torn). */
static int64_t dbl(uint32_t x){ return (int64_t)(((uint64_t)x<<32) | x); }
static int isDbl(int64_t v){
  uint64_t u = (uint64_t)v;
  return (u>>32)==(u & 0xffffffffu) && (u>>32)<0x80000000u;
}
static uint32_t lo32(int64_t v){ return (uint32_t)((uint64_t)v & 0xffffffffu); }

static void pathOf(char *z, size_t n, const char *zName){
  snprintf(z, n, "%s/%s", gDir, zName);
}

/* ------------------------------------------------------------ processes */

typedef void (*ChildFn)(int iProc, void *pArg);

/* Fork n children running fn(i, pArg) and wait for them all. A child that
** dies of a signal or exits non-zero is a failure. */
static void runProcs(int n, ChildFn fn, void *pArg, const char *zWhat){
  pid_t aPid[MAX_PROCS];
  fflush(stdout); fflush(stderr);
  for(int i=0; i<n; i++){
    aPid[i] = fork();
    if( aPid[i]<0 ){ perror("fork"); exit(2); }
    if( aPid[i]==0 ){
      gProc = i;
      fn(i, pArg);
      fflush(stdout); fflush(stderr);
      _exit(0);
    }
  }
  for(int i=0; i<n; i++){
    int st = 0;
    while( waitpid(aPid[i], &st, 0)<0 && errno==EINTR ){}
    CHECK(!WIFSIGNALED(st), "%s: process %d died of signal %d (%s)", zWhat, i,
          WTERMSIG(st), strsignal(WTERMSIG(st)));
    CHECK(!WIFEXITED(st) || WEXITSTATUS(st)==0, "%s: process %d exited with %d",
          zWhat, i, WEXITSTATUS(st));
  }
}

typedef struct ThreadArg {
  int iProc, iThread, iGlobal;
  void *pCtx;
} ThreadArg;

static void runThreads(int n, void *(*fn)(void*), int iProc, int iBase, void *pCtx){
  pthread_t aTid[2*MAX_THREADS+2];
  ThreadArg aArg[2*MAX_THREADS+2];
  for(int i=0; i<n; i++){
    aArg[i].iProc = iProc;
    aArg[i].iThread = i;
    aArg[i].iGlobal = iBase + i;
    aArg[i].pCtx = pCtx;
    if( pthread_create(&aTid[i], 0, fn, &aArg[i]) ){
      FAIL("pthread_create failed");
      exit(2);
    }
  }
  for(int i=0; i<n; i++) pthread_join(aTid[i], 0);
}

/* ------------------------------------------------------------ SQL helpers */

static sqlite3 *openDb(const char *zPath, const char *zVfs, int mmap){
  sqlite3 *db = 0;
  char zUri[1200];
  snprintf(zUri, sizeof zUri, "file:%s?vfs=%s", zPath, zVfs);
  if( sqlite3_open_v2(zUri, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                      |SQLITE_OPEN_URI, 0)!=SQLITE_OK ){
    FAIL("cannot open %s: %s", zUri, db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_close(db);
    return 0;
  }
  sqlite3_busy_timeout(db, 5000);
  if( mmap ) sqlite3_exec(db, "PRAGMA mmap_size=67108864", 0, 0, 0);
  return db;
}

static int execSql(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  int rc = sqlite3_exec(db, zSql, 0, 0, &zErr);
  if( rc ) FAIL("%s: %s", zSql, zErr ? zErr : sqlite3_errstr(rc));
  sqlite3_free(zErr);
  return rc;
}

/* Prepare; loading the schema may meet SQLITE_BUSY after the busy timeout
** (rollback mode does not queue readers behind a stream of writers: that
** is starvation, not an error), so that is tried again for a minute. */
static sqlite3_stmt *prep(sqlite3 *db, const char *zSql){
  sqlite3_stmt *st = 0;
  int rc;
  double tEnd = nowSec() + 60.0;
  while( (rc = sqlite3_prepare_v2(db, zSql, -1, &st, 0))==SQLITE_BUSY && nowSec()<tEnd ){}
  if( rc!=SQLITE_OK ){
    FAIL("prepare %s: %s", zSql, sqlite3_errmsg(db));
    return 0;
  }
  return st;
}

/* One row of up to 4 integers; SQLITE_ROW, SQLITE_DONE (no row) or the
** error code. */
static int query4(sqlite3 *db, const char *zSql, int64_t *a){
  sqlite3_stmt *st = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &st, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(st);
    if( rc==SQLITE_ROW ){
      for(int i=0; i<sqlite3_column_count(st) && i<4; i++) a[i] = sqlite3_column_int64(st, i);
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* ================================================================ vfs */

typedef struct VfsCtx { const char *zMode; double tEnd; } VfsCtx;

static void vfsCase(int g, const char **pzVfs, int *pMmap){
  *pzVfs = (g%2)==0 ? "unix" : "membase";
  *pMmap = (g%3)==1;
}

static int stepBusy(sqlite3_stmt *st){
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc==SQLITE_ROW ? SQLITE_OK : rc==SQLITE_DONE ? SQLITE_OK : rc;
}

static void *vfsWriter(void *p){
  ThreadArg *a = p;
  VfsCtx *c = a->pCtx;
  const char *zVfs; int bMmap;
  char zPath[1100];
  int64_t nCommit = 0;
  vfsCase(a->iGlobal, &zVfs, &bMmap);
  pathOf(zPath, sizeof zPath, "vfs.db");
  sqlite3 *db = openDb(zPath, zVfs, bMmap);
  if( !db ) return 0;
  if( a->iGlobal%4==3 ) sqlite3_exec(db, "PRAGMA synchronous=NORMAL", 0, 0, 0);
  sqlite3_stmt *pBegin = prep(db, "BEGIN IMMEDIATE");
  sqlite3_stmt *pRead = prep(db, "SELECT n FROM counter WHERE id=1");
  sqlite3_stmt *pIns = prep(db, "INSERT INTO rows(p, t, seq) VALUES(?1, ?2, ?3)");
  sqlite3_stmt *pUpd = prep(db, "UPDATE counter SET n=?1 WHERE id=1");
  sqlite3_stmt *pCommit = prep(db, "COMMIT");
  sqlite3_stmt *pRollback = prep(db, "ROLLBACK");
  if( !pBegin || !pRead || !pIns || !pUpd || !pCommit || !pRollback ) goto done;
  while( nowSec()<c->tEnd ){
    int rc = stepBusy(pBegin);
    if( rc==SQLITE_BUSY ){ atomic_fetch_add(&S->nVfsBusy, 1); continue; }
    if( rc ){ FAIL("vfs %s %s: BEGIN IMMEDIATE: %s", c->zMode, zVfs, sqlite3_errmsg(db)); break; }
    int64_t n = -1;
    rc = sqlite3_step(pRead);
    if( rc==SQLITE_ROW ){ n = sqlite3_column_int64(pRead, 0); rc = SQLITE_OK; }
    sqlite3_reset(pRead);
    if( rc==SQLITE_OK ){
      sqlite3_bind_int(pIns, 1, a->iProc);
      sqlite3_bind_int(pIns, 2, a->iThread);
      sqlite3_bind_int64(pIns, 3, nCommit);
      rc = stepBusy(pIns);
    }
    if( rc==SQLITE_OK ){
      sqlite3_bind_int64(pUpd, 1, n+1);
      rc = stepBusy(pUpd);
    }
    if( rc==SQLITE_OK ){
      /* COMMIT may need to wait for readers to leave (rollback mode): the
      ** transaction stays open on BUSY and COMMIT is tried again. */
      int nTry = 0;
      while( (rc = stepBusy(pCommit))==SQLITE_BUSY && nTry++<100 ){
        atomic_fetch_add(&S->nVfsBusy, 1);
      }
      if( rc==SQLITE_OK ){ nCommit++; continue; }
    }
    if( rc==SQLITE_BUSY ){
      atomic_fetch_add(&S->nVfsBusy, 1);
    }else{
      FAIL("vfs %s %s: transaction: %s (%d)", c->zMode, zVfs, sqlite3_errmsg(db), rc);
    }
    stepBusy(pRollback);
    if( rc!=SQLITE_BUSY ) break;
  }
done:
  S->aCommit[a->iGlobal] = nCommit;
  sqlite3_finalize(pBegin); sqlite3_finalize(pRead); sqlite3_finalize(pIns);
  sqlite3_finalize(pUpd); sqlite3_finalize(pCommit); sqlite3_finalize(pRollback);
  CHECK(sqlite3_close(db)==SQLITE_OK, "vfs: close");
  return 0;
}

/* Snapshot reader: counter == count(*) inside one read transaction. */
static void *vfsReader(void *p){
  ThreadArg *a = p;
  VfsCtx *c = a->pCtx;
  const char *zVfs = (a->iProc%2)==0 ? "membase" : "unix";
  char zPath[1100];
  pathOf(zPath, sizeof zPath, "vfs.db");
  sqlite3 *db = openDb(zPath, zVfs, a->iProc%3!=2);
  if( !db ) return 0;
  sqlite3_stmt *pN = prep(db, "SELECT n FROM counter WHERE id=1");
  sqlite3_stmt *pC = prep(db, "SELECT count(*) FROM rows");
  double tQuick = nowSec() + 1.0;
  int64_t nLast = 0;
  while( pN && pC && nowSec()<c->tEnd ){
    int rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    int64_t n = -1, k = -2;
    if( rc==SQLITE_OK ){
      rc = sqlite3_step(pN);
      if( rc==SQLITE_ROW ){ n = sqlite3_column_int64(pN, 0); rc = sqlite3_step(pC); }
      if( rc==SQLITE_ROW ){ k = sqlite3_column_int64(pC, 0); rc = SQLITE_OK; }
      sqlite3_reset(pN); sqlite3_reset(pC);
      if( rc==SQLITE_OK ){
        CHECK(n==k, "vfs %s %s: snapshot: counter %" PRId64 " but %" PRId64 " rows",
              c->zMode, zVfs, n, k);
        CHECK(n>=nLast, "vfs %s %s: counter went back from %" PRId64 " to %" PRId64,
              c->zMode, zVfs, nLast, n);
        nLast = n;
        atomic_fetch_add(&S->nVfsSnap, 1);
        if( nowSec()>tQuick ){
          sqlite3_stmt *pQ = 0;
          tQuick = nowSec() + 1.0;
          if( sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &pQ, 0)==SQLITE_OK
           && sqlite3_step(pQ)==SQLITE_ROW ){
            const char *z = (const char*)sqlite3_column_text(pQ, 0);
            CHECK(z && strcmp(z, "ok")==0, "vfs %s %s: quick_check: %s", c->zMode, zVfs, z ? z : "NULL");
            atomic_fetch_add(&S->nVfsQuick, 1);
          }
          sqlite3_finalize(pQ);
        }
      }
    }
    sqlite3_exec(db, "COMMIT", 0, 0, 0);
    if( rc==SQLITE_BUSY ){ atomic_fetch_add(&S->nVfsBusy, 1); continue; }
    if( rc ){ FAIL("vfs %s %s: reader: %s", c->zMode, zVfs, sqlite3_errmsg(db)); break; }
  }
  sqlite3_finalize(pN); sqlite3_finalize(pC);
  CHECK(sqlite3_close(db)==SQLITE_OK, "vfs: close");
  return 0;
}

static void vfsWorkerProc(int iProc, void *pArg){
  VfsCtx *c = pArg;
  pthread_t tid;
  ThreadArg ra = { iProc, 0, 0, c };
  if( membase_register()!=SQLITE_OK ){ FAIL("membase_register"); _exit(1); }
  pthread_create(&tid, 0, vfsReader, &ra);
  runThreads(gThreads, vfsWriter, iProc, iProc*gThreads, c);
  pthread_join(tid, 0);
}

static void vfsSetupProc(int iProc, void *pArg){
  const char *zMode = pArg;
  char zPath[1100], z[1200], zSql[200];
  static const char *const azSuffix[] = { "", "-journal", "-wal", "-shm" };
  (void)iProc;
  pathOf(zPath, sizeof zPath, "vfs.db");
  for(int i=0; i<4; i++){ snprintf(z, sizeof z, "%s%s", zPath, azSuffix[i]); unlink(z); }
  if( membase_register()!=SQLITE_OK ){ FAIL("membase_register"); _exit(1); }
  sqlite3 *db = openDb(zPath, "unix", 0);
  if( !db ) _exit(1);
  snprintf(zSql, sizeof zSql, "PRAGMA journal_mode=%s", zMode);
  execSql(db, zSql);
  execSql(db, "CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
              "INSERT INTO counter VALUES(1, 0);"
              "CREATE TABLE rows(p INTEGER, t INTEGER, seq INTEGER, "
              "  pad TEXT DEFAULT 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', "
              "  PRIMARY KEY(p, t, seq))");
  sqlite3_close(db);
}

static void vfsVerifyProc(int iProc, void *pArg){
  const char *zMode = pArg;
  char zPath[1100];
  int64_t nTotal = 0;
  (void)iProc;
  for(int g=0; g<gProcs*gThreads; g++) nTotal += S->aCommit[g];
  pathOf(zPath, sizeof zPath, "vfs.db");
  if( membase_register()!=SQLITE_OK ){ FAIL("membase_register"); _exit(1); }
  static const char *const azVfs[] = { "unix", "membase" };
  for(int v=0; v<2; v++){
    sqlite3 *db = openDb(zPath, azVfs[v], v);
    int64_t x[4] = {-1, -1, -1, -1};
    if( !db ) continue;
    sqlite3_stmt *pIc = prep(db, "PRAGMA integrity_check");
    if( pIc && sqlite3_step(pIc)==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(pIc, 0);
      CHECK(z && strcmp(z, "ok")==0, "vfs %s via %s: integrity_check: %s", zMode, azVfs[v], z ? z : "NULL");
    }else{
      FAIL("vfs %s via %s: integrity_check: %s", zMode, azVfs[v], sqlite3_errmsg(db));
    }
    sqlite3_finalize(pIc);
    CHECK(query4(db, "SELECT (SELECT n FROM counter WHERE id=1), (SELECT count(*) FROM rows)", x)==SQLITE_ROW,
          "vfs %s via %s: final read: %s", zMode, azVfs[v], sqlite3_errmsg(db));
    CHECK(x[0]==nTotal && x[1]==nTotal, "vfs %s via %s: counter %" PRId64 ", rows %" PRId64
          ", committed %" PRId64 " (lost update)", zMode, azVfs[v], x[0], x[1], nTotal);
    sqlite3_stmt *pT = prep(db, "SELECT count(*), coalesce(min(seq),0), coalesce(max(seq),-1) "
                                "FROM rows WHERE p=?1 AND t=?2");
    for(int g=0; pT && g<gProcs*gThreads; g++){
      sqlite3_bind_int(pT, 1, g/gThreads);
      sqlite3_bind_int(pT, 2, g%gThreads);
      if( sqlite3_step(pT)==SQLITE_ROW ){
        int64_t n = sqlite3_column_int64(pT, 0), mn = sqlite3_column_int64(pT, 1);
        int64_t mx = sqlite3_column_int64(pT, 2);
        CHECK(n==S->aCommit[g] && mn==0 && mx==n-1, "vfs %s via %s: writer %d/%d: %" PRId64
              " rows (seq %" PRId64 "..%" PRId64 "), reported %" PRId64 " commits", zMode, azVfs[v],
              g/gThreads, g%gThreads, n, mn, mx, S->aCommit[g]);
      }else{
        FAIL("vfs %s: per-writer count: %s", zMode, sqlite3_errmsg(db));
      }
      sqlite3_reset(pT);
    }
    sqlite3_finalize(pT);
    char *zJm = 0;
    sqlite3_stmt *pJ = prep(db, "PRAGMA journal_mode");
    if( pJ && sqlite3_step(pJ)==SQLITE_ROW ) zJm = sqlite3_mprintf("%s", sqlite3_column_text(pJ, 0));
    sqlite3_finalize(pJ);
    CHECK(zJm && sqlite3_stricmp(zJm, zMode)==0, "vfs: journal_mode is %s, expected %s", zJm ? zJm : "?", zMode);
    sqlite3_free(zJm);
    CHECK(sqlite3_close(db)==SQLITE_OK, "vfs verify: close");
  }
}

static void vfsInjectLostProc(int iProc, void *pArg){
  char zPath[1100];
  (void)iProc; (void)pArg;
  pathOf(zPath, sizeof zPath, "vfs.db");
  sqlite3 *db = openDb(zPath, "unix", 0);
  if( db ) execSql(db, "UPDATE counter SET n=n-1");
  sqlite3_close(db);
}

static int64_t scenarioVfs(double *pSec){
  static const char *const azMode[] = { "delete", "wal" };
  int64_t nAll = 0;
  double t0 = nowSec();
  for(int m=0; m<2; m++){
    VfsCtx c;
    int64_t nTx = 0;
    memset(S->aCommit, 0, sizeof S->aCommit);
    S->nVfsSnap = 0; S->nVfsQuick = 0; S->nVfsBusy = 0;
    runProcs(1, vfsSetupProc, (void*)azMode[m], "vfs setup");
    c.zMode = azMode[m];
    c.tEnd = nowSec() + gSeconds;
    runProcs(gProcs, vfsWorkerProc, &c, "vfs workers");
    for(int g=0; g<gProcs*gThreads; g++) nTx += S->aCommit[g];
    if( strcmp(gInject, "lost")==0 ) runProcs(1, vfsInjectLostProc, 0, "vfs inject");
    runProcs(1, vfsVerifyProc, (void*)azMode[m], "vfs verify");
    CHECK(nTx>0, "vfs %s: no transaction committed", azMode[m]);
    printf("vfs %-6s %d procs x %d writers + 1 reader: %" PRId64 " commits, %" PRId64
           " snapshots checked, %" PRId64 " quick_checks, %" PRId64 " busy retries\n",
           azMode[m], gProcs, gThreads, nTx, (int64_t)S->nVfsSnap, (int64_t)S->nVfsQuick,
           (int64_t)S->nVfsBusy);
    nAll += nTx;
  }
  *pSec = nowSec() - t0;
  return nAll;
}

/* ============================================================== locks */

/* Stock and membase connections in one process, WAL mode: closing the last
** membase connection must not take the process's POSIX locks on the
** database with it (closing any descriptor of a file drops all of them).
** Process A holds a stock connection and closes a membase one; process B
** then opens and closes a connection: if A's locks are gone, B believes it
** is the last user, checkpoints and deletes the WAL, and A's next commit
** goes into the deleted WAL: a committed transaction lost. */
static void locksWait(int v){
  double tEnd = nowSec() + 30.0;
  while( atomic_load(&S->stop)<v && nowSec()<tEnd ) sleepMs(1);
  CHECK(atomic_load(&S->stop)>=v, "locks: the other process did not get to step %d", v);
}

static void locksB(void){
  char zPath[1100];
  locksWait(1);
  pathOf(zPath, sizeof zPath, "locks.db");
  sqlite3 *db = openDb(zPath, "unix", 0);
  int64_t v[4];
  if( db ) CHECK(query4(db, "SELECT count(*) FROM t", v)==SQLITE_ROW, "locks: B reads");
  sqlite3_close(db);
  atomic_store(&S->stop, 2);
}

/* A and B are both forked from the parent, which has not initialised
** SQLite: a process forked from one with open connections may not use
** SQLite. */
static void locksAB(int iProc, void *pArg){
  char zPath[1100], zWal[1200];
  const char *zVfs2 = pArg;
  if( iProc==1 ){ locksB(); return; }
  pathOf(zPath, sizeof zPath, "locks.db");
  snprintf(zWal, sizeof zWal, "%s-wal", zPath);
  if( membase_register()!=SQLITE_OK ){ FAIL("membase_register"); _exit(1); }
  sqlite3 *c1 = openDb(zPath, "unix", 0);
  if( !c1 ) _exit(1);
  execSql(c1, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1)");
  sqlite3 *c2 = openDb(zPath, zVfs2, 1);
  int64_t v[4];
  if( c2 ) CHECK(query4(c2, "SELECT count(*) FROM t", v)==SQLITE_ROW, "locks: c2 reads");
  sqlite3_close(c2);
  atomic_store(&S->stop, 1);
  locksWait(2);
  CHECK(access(zWal, F_OK)==0, "locks: another process deleted the WAL while a stock "
        "connection of this process had it open: closing the last %s connection "
        "dropped this process's POSIX locks on the database", zVfs2);
  execSql(c1, "INSERT INTO t VALUES(2)");   /* committed */
  sqlite3_close(c1);
}

static void locksVerify(int iProc, void *pArg){
  char zPath[1100];
  int64_t v[4] = {0, 0, 0, 0};
  (void)iProc; (void)pArg;
  pathOf(zPath, sizeof zPath, "locks.db");
  sqlite3 *db = openDb(zPath, "unix", 0);
  if( db ) CHECK(query4(db, "SELECT count(*) FROM t", v)==SQLITE_ROW && v[0]==2,
                 "locks: %" PRId64 " of 2 committed rows in the database (lost commit)", v[0]);
  sqlite3_close(db);
}

/* First with the second connection on stock unix (the control: it must
** pass, or the check proves nothing), then on membase. */
static void scenarioLocks(void){
  char zPath[1100], z[1200];
  static const char *const azSuffix[] = { "", "-journal", "-wal", "-shm" };
  static const char *const azVfs[] = { "unix", "membase" };
  pathOf(zPath, sizeof zPath, "locks.db");
  for(int k=0; k<2; k++){
    for(int i=0; i<4; i++){ snprintf(z, sizeof z, "%s%s", zPath, azSuffix[i]); unlink(z); }
    int64_t n0 = atomic_load(&S->nFail);
    atomic_store(&S->stop, 0);
    runProcs(2, locksAB, (void*)azVfs[k], "locks");
    runProcs(1, locksVerify, 0, "locks verify");
    printf("locks: a stock connection kept its locks across the close of a %s connection "
           "of its process: %s\n", azVfs[k], atomic_load(&S->nFail)==n0 ? "yes" : "NO");
  }
  atomic_store(&S->stop, 0);
}

/* ============================================================ records */

typedef struct RecCtx { double tEnd; int nWriters; uint64_t nRec0; } RecCtx;

static const char *recLayout = "seq i64, val i64, own i64, cnt i64";

static sqlite3 *recOpen(const char *zTab){
  char zPath[1100];
  sqlite3 *db = 0;
  pathOf(zPath, sizeof zPath, "rec.bin");
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ){ FAIL("open :memory:"); return 0; }
  char *zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE %s USING membase(file='%q', layout='%q')",
                               zTab, zPath, recLayout);
  int rc = execSql(db, zSql);
  sqlite3_free(zSql);
  if( rc ){ sqlite3_close(db); return 0; }
  return db;
}

/* The writer of global index w owns records 1 + w*K .. (w+1)*K. */
static void *recWriter(void *p){
  ThreadArg *a = p;
  RecCtx *c = a->pCtx;
  int w = a->iGlobal;
  uint64_t rs = gSeed*7919 + (uint64_t)w*104729 + 1;
  uint32_t aSeq[REC_K], aNew[REC_K];
  int64_t nTx = 0, nApp = 0;
  sqlite3 *db = recOpen("r");
  if( !db ) return 0;
  for(int k=0; k<REC_K; k++) aSeq[k] = 0;
  sqlite3_stmt *pCnt = prep(db, "UPDATE r SET cnt = ((cnt & 4294967295) + 1) * 4294967297 WHERE rowid=0");
  sqlite3_stmt *pUpd = prep(db, "UPDATE r SET seq=?1, val=?2 WHERE rowid=?3");
  sqlite3_stmt *pApp = prep(db, "INSERT INTO r(seq, val, own, cnt) VALUES(0, ?1, ?2, ?3)");
  while( pCnt && pUpd && pApp && nowSec()<c->tEnd ){
    int rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    int bApp = (rnd(&rs)%8)==0;
    memcpy(aNew, aSeq, sizeof aNew);
    if( rc==SQLITE_OK ) rc = stepBusy(pCnt);   /* takes the file lock */
    if( rc==SQLITE_BUSY ){
      atomic_fetch_add(&S->nRecBusy, 1);
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
      continue;
    }
    int nUpd = 1 + (int)(rnd(&rs)%3);
    for(int i=0; i<nUpd && rc==SQLITE_OK; i++){
      int k = (int)(rnd(&rs)%REC_K);
      uint64_t r = 1 + (uint64_t)w*REC_K + (uint64_t)k;
      aNew[k]++;
      sqlite3_bind_int64(pUpd, 1, dbl(aNew[k]));
      sqlite3_bind_int64(pUpd, 2, dbl(hash31((uint32_t)r, aNew[k])));
      sqlite3_bind_int64(pUpd, 3, (sqlite3_int64)r);
      rc = stepBusy(pUpd);
    }
    if( rc==SQLITE_OK && bApp ){
      sqlite3_bind_int64(pApp, 1, dbl(hash31(APPEND_OWN + (uint32_t)w, (uint32_t)nApp)));
      sqlite3_bind_int64(pApp, 2, dbl(APPEND_OWN + (uint32_t)w));
      sqlite3_bind_int64(pApp, 3, dbl((uint32_t)nApp));
      rc = stepBusy(pApp);
    }
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    if( rc!=SQLITE_OK ){
      /* after the first statement nothing may be busy: the lock is held */
      FAIL("records writer %d: %s (%d)", w, sqlite3_errmsg(db), rc);
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
      break;
    }
    memcpy(aSeq, aNew, sizeof aSeq);
    nTx++;
    if( bApp ) nApp++;
  }
  S->aRecTx[w] = nTx;
  S->aRecApp[w] = nApp;
  memcpy(S->aRecSeq[w], aSeq, sizeof aSeq);
  sqlite3_finalize(pCnt); sqlite3_finalize(pUpd); sqlite3_finalize(pApp);
  CHECK(sqlite3_close(db)==SQLITE_OK, "records: close");
  return 0;
}

typedef struct RecReader {
  int id;
  uint64_t nRec0;
  int nWriters;
  uint32_t *aLast;     /* last seq seen per initial record; [0] = counter */
  int64_t nReads;
  int64_t nMaxCount;
} RecReader;

/* Check one record read as (rowid, seq, val, own, cnt). */
static void recCheckRow(RecReader *R, int64_t iRow, const int64_t *v){
  R->nReads += 4;
  for(int i=0; i<4; i++){
    if( !isDbl(v[i]) ){
      FAIL("records reader %d: record %" PRId64 " field %d holds %016" PRIx64
           " (torn or garbage)", R->id, iRow, i, (uint64_t)v[i]);
      return;
    }
  }
  if( iRow<0 ) { FAIL("records: negative rowid"); return; }
  if( (uint64_t)iRow<R->nRec0 ){
    uint32_t s = (uint64_t)iRow==0 ? lo32(v[3]) : lo32(v[0]);
    uint32_t own = iRow==0 ? 0x7fffffffu : (uint32_t)((iRow-1)/REC_K);
    CHECK(lo32(v[2])==own, "records reader %d: record %" PRId64 " own %u, expected %u",
          R->id, iRow, lo32(v[2]), own);
    if( s<R->aLast[iRow] ){
      FAIL("records reader %d: record %" PRId64 " %s went back from %u to %u", R->id, iRow,
           iRow==0 ? "counter" : "seq", R->aLast[iRow], s);
    }
    R->aLast[iRow] = s;
  }else{
    /* an appended record: all zeros while its commit writes it, else its
    ** writer's mark */
    uint32_t own = lo32(v[2]);
    CHECK(own==0 || (own>=APPEND_OWN && own<APPEND_OWN+(uint32_t)R->nWriters),
          "records reader %d: appended record %" PRId64 " own %u", R->id, iRow, own);
  }
}

static void recReadRows(RecReader *R, sqlite3_stmt *st, const char *zWhat){
  int rc;
  int64_t n = 0;
  while( (rc = sqlite3_step(st))==SQLITE_ROW ){
    int64_t v[4];
    for(int i=0; i<4; i++) v[i] = sqlite3_column_int64(st, i+1);
    recCheckRow(R, sqlite3_column_int64(st, 0), v);
    n++;
  }
  CHECK(rc==SQLITE_DONE, "records reader %d: %s: %s", R->id, zWhat,
        sqlite3_errmsg(sqlite3_db_handle(st)));
  sqlite3_reset(st);
}

static void *recReaderThread(void *p){
  ThreadArg *a = p;
  RecCtx *c = a->pCtx;
  RecReader R;
  uint64_t rs = gSeed*31 + (uint64_t)a->iGlobal*7 + 99;
  memset(&R, 0, sizeof R);
  R.id = a->iGlobal;
  R.nRec0 = c->nRec0;
  R.nWriters = c->nWriters;
  R.aLast = calloc((size_t)c->nRec0, sizeof(uint32_t));
  sqlite3 *db = recOpen("r");
  if( !db || !R.aLast ){ free(R.aLast); sqlite3_close(db); return 0; }
  sqlite3_stmt *pOne = prep(db, "SELECT rowid, seq, val, own, cnt FROM r WHERE rowid=?1");
  sqlite3_stmt *pRange = prep(db, "SELECT rowid, seq, val, own, cnt FROM r WHERE rowid BETWEEN ?1 AND ?2");
  sqlite3_stmt *pAll = prep(db, "SELECT rowid, seq, val, own, cnt FROM r");
  sqlite3_stmt *pAgg = prep(db, "SELECT count, min, max FROM membase_aggregate('r', 'seq')");
  sqlite3_stmt *pAggV = prep(db, "SELECT count, min, max FROM membase_aggregate('r', 'own', 1, ?1)");
  while( pOne && pRange && pAll && pAgg && pAggV && nowSec()<c->tEnd ){
    int op = (int)(rnd(&rs)%16);
    if( op<8 ){
      int64_t r = (int64_t)(rnd(&rs)%c->nRec0);
      sqlite3_bind_int64(pOne, 1, r);
      recReadRows(&R, pOne, "rowid lookup");
    }else if( op<12 ){
      int64_t lo = (int64_t)(rnd(&rs)%c->nRec0), hi = lo + (int64_t)(rnd(&rs)%64);
      sqlite3_bind_int64(pRange, 1, lo);
      sqlite3_bind_int64(pRange, 2, hi);
      recReadRows(&R, pRange, "rowid range");
    }else if( op<14 ){
      recReadRows(&R, pAll, "full scan");
    }else{
      sqlite3_stmt *st = op==14 ? pAgg : pAggV;
      if( op==15 ) sqlite3_bind_int64(pAggV, 1, (sqlite3_int64)c->nRec0-1);
      int rc = sqlite3_step(st);
      if( rc==SQLITE_ROW ){
        int64_t n = sqlite3_column_int64(st, 0);
        int64_t mn = sqlite3_column_int64(st, 1), mx = sqlite3_column_int64(st, 2);
        R.nReads += 2;
        CHECK(isDbl(mn) && isDbl(mx), "records reader %d: membase_aggregate min %016" PRIx64
              " max %016" PRIx64 " (torn)", R.id, (uint64_t)mn, (uint64_t)mx);
        if( op==14 ){
          CHECK(n>=R.nMaxCount && (uint64_t)n>=c->nRec0, "records reader %d: record count "
                "went from %" PRId64 " to %" PRId64, R.id, R.nMaxCount, n);
          if( n>R.nMaxCount ) R.nMaxCount = n;
        }else{
          CHECK((uint64_t)n==c->nRec0-1 && mn==dbl(0) && mx==dbl((uint32_t)c->nWriters-1),
                "records reader %d: aggregate of own over 1..%" PRIu64 ": count %" PRId64
                " min %" PRIx64 " max %" PRIx64, R.id, c->nRec0-1, n, (uint64_t)mn, (uint64_t)mx);
        }
      }else{
        FAIL("records reader %d: membase_aggregate: %s", R.id, sqlite3_errmsg(db));
      }
      sqlite3_reset(st);
    }
  }
  atomic_fetch_add(&S->nRecReads, R.nReads);
  sqlite3_finalize(pOne); sqlite3_finalize(pRange); sqlite3_finalize(pAll);
  sqlite3_finalize(pAgg); sqlite3_finalize(pAggV);
  CHECK(sqlite3_close(db)==SQLITE_OK, "records: close");
  free(R.aLast);
  return 0;
}

static void *recAnyThread(void *p){
  ThreadArg *a = p;
  if( a->iThread%2==0 ){
    a->iGlobal = a->iProc*gThreads + a->iThread/2;
    return recWriter(p);
  }
  a->iGlobal = a->iProc*gThreads + a->iThread/2;
  return recReaderThread(p);
}

/* --inject torn: after a second, own of record 1 gets unequal halves, as
** a torn store would leave it. */
static void *recInjectTorn(void *p){
  char zPath[1100];
  unsigned char b[8] = { 0, 0, 0, 0, 1, 0, 0, 0 };
  (void)p;
  sleepMs(1000);
  pathOf(zPath, sizeof zPath, "rec.bin");
  int fd = open(zPath, O_RDWR);
  CHECK(fd>=0 && pwrite(fd, b, 8, REC_STRIDE + 16)==8, "inject torn");
  if( fd>=0 ) close(fd);
  return 0;
}

static void recWorkerProc(int iProc, void *pArg){
  pthread_t tid;
  if( membase_register()!=SQLITE_OK ){ FAIL("membase_register"); _exit(1); }
  if( iProc==0 && strcmp(gInject, "torn")==0 ) pthread_create(&tid, 0, recInjectTorn, 0);
  /* 2M threads: even ones write, odd ones read */
  runThreads(2*gThreads, recAnyThread, iProc, 0, pArg);
  if( iProc==0 && strcmp(gInject, "torn")==0 ) pthread_join(tid, 0);
}

static void putRec(unsigned char *b, int64_t seq, int64_t val, int64_t own, int64_t cnt){
  int64_t v[4] = { seq, val, own, cnt };
  for(int i=0; i<4; i++){
    uint64_t u = (uint64_t)v[i];
    for(int k=0; k<8; k++) b[8*i+k] = (unsigned char)(u>>(8*k));
  }
}

static void getRec(const unsigned char *b, int64_t *v){
  for(int i=0; i<4; i++){
    uint64_t u = 0;
    for(int k=0; k<8; k++) u |= (uint64_t)b[8*i+k]<<(8*k);
    v[i] = (int64_t)u;
  }
}

static int64_t scenarioRecords(double *pSec){
  char zPath[1100], zJ[1200];
  RecCtx c;
  double t0 = nowSec();
  c.nWriters = gProcs*gThreads;
  c.nRec0 = 1 + (uint64_t)c.nWriters*REC_K;
  pathOf(zPath, sizeof zPath, "rec.bin");
  snprintf(zJ, sizeof zJ, "%s-mbjournal", zPath);
  unlink(zPath); unlink(zJ);
  {
    unsigned char *b = calloc((size_t)c.nRec0, REC_STRIDE);
    if( !b ){ FAIL("no memory"); return 0; }
    putRec(b, dbl(0), dbl(hash31(0, 0)), dbl(0x7fffffffu), dbl(0));
    for(uint64_t r=1; r<c.nRec0; r++){
      putRec(b + r*REC_STRIDE, dbl(0), dbl(hash31((uint32_t)r, 0)),
             dbl((uint32_t)((r-1)/REC_K)), dbl(0));
    }
    FILE *f = fopen(zPath, "wb");
    CHECK(f && fwrite(b, REC_STRIDE, (size_t)c.nRec0, f)==c.nRec0, "write %s", zPath);
    if( f ) fclose(f);
    free(b);
  }
  memset(S->aRecTx, 0, sizeof S->aRecTx);
  memset(S->aRecApp, 0, sizeof S->aRecApp);
  memset(S->aRecSeq, 0, sizeof S->aRecSeq);
  c.tEnd = nowSec() + gSeconds;
  runProcs(gProcs, recWorkerProc, &c, "records workers");

  if( strcmp(gInject, "lost")==0 ){
    /* one committed increment of the counter undone */
    unsigned char b[8];
    int fd = open(zPath, O_RDWR);
    CHECK(fd>=0 && pread(fd, b, 8, 24)==8, "inject lost");
    int64_t v[4] = {0, 0, 0, 0};
    unsigned char r[32];
    memset(r, 0, sizeof r); memcpy(r+24, b, 8);
    getRec(r, v);
    putRec(r, 0, 0, 0, dbl(lo32(v[3])-1));
    CHECK(fd>=0 && pwrite(fd, r+24, 8, 24)==8, "inject lost");
    if( fd>=0 ) close(fd);
  }
  /* the file, read with pread */
  int64_t nTx = 0, nApp = 0;
  for(int w=0; w<c.nWriters; w++){ nTx += S->aRecTx[w]; nApp += S->aRecApp[w]; }
  struct stat st;
  CHECK(access(zJ, F_OK)!=0, "records: %s left behind", zJ);
  CHECK(stat(zPath, &st)==0 && (uint64_t)st.st_size==(c.nRec0+(uint64_t)nApp)*REC_STRIDE,
        "records: file is %lld bytes, expected %llu", (long long)st.st_size,
        (unsigned long long)((c.nRec0+(uint64_t)nApp)*REC_STRIDE));
  size_t nByte = (size_t)st.st_size;
  unsigned char *b = malloc(nByte ? nByte : 1);
  int fd = open(zPath, O_RDONLY);
  CHECK(b && fd>=0 && pread(fd, b, nByte, 0)==(ssize_t)nByte, "records: read back");
  if( fd>=0 ) close(fd);
  if( b ){
    int64_t v[4];
    uint64_t nRec = nByte/REC_STRIDE;
    int64_t *aSeen = calloc((size_t)c.nWriters, sizeof(int64_t));
    getRec(b, v);
    CHECK(v[3]==dbl((uint32_t)nTx), "records: counter is %u, %" PRId64 " transactions committed "
          "(lost update)", lo32(v[3]), nTx);
    for(uint64_t r=1; r<c.nRec0 && r<nRec; r++){
      int w = (int)((r-1)/REC_K), k = (int)((r-1)%REC_K);
      uint32_t s = S->aRecSeq[w][k];
      getRec(b + r*REC_STRIDE, v);
      CHECK(v[0]==dbl(s) && v[1]==dbl(hash31((uint32_t)r, s)) && v[2]==dbl((uint32_t)w)
            && v[3]==dbl(0), "records: record %llu holds seq %u val %" PRIx64 ", expected "
            "seq %u (lost update)", (unsigned long long)r, lo32(v[0]), (uint64_t)v[1], s);
    }
    for(uint64_t r=c.nRec0; r<nRec && aSeen; r++){
      getRec(b + r*REC_STRIDE, v);
      uint32_t own = lo32(v[2]), idx = lo32(v[3]);
      int w = (int)(own - APPEND_OWN);
      if( own<APPEND_OWN || w>=c.nWriters || !isDbl(v[2]) ){
        FAIL("records: appended record %llu: own %" PRIx64, (unsigned long long)r, (uint64_t)v[2]);
        continue;
      }
      /* one writer's appends are in its commit order */
      CHECK(v[3]==dbl((uint32_t)aSeen[w]) && v[0]==0
            && v[1]==dbl(hash31(own, idx)), "records: appended record %llu of writer %d is "
            "#%u, expected #%" PRId64, (unsigned long long)r, w, idx, aSeen[w]);
      aSeen[w]++;
    }
    for(int w=0; w<c.nWriters && aSeen; w++){
      CHECK(aSeen[w]==S->aRecApp[w], "records: writer %d: %" PRId64 " appends in the file, %"
            PRId64 " committed", w, aSeen[w], S->aRecApp[w]);
    }
    free(aSeen);
    free(b);
  }
  CHECK(nTx>0, "records: no transaction committed");
  *pSec = nowSec() - t0;
  printf("records %d procs x (%d writers + %d readers): %" PRId64 " transactions, %" PRId64
         " appends, %" PRId64 " values checked, %" PRId64 " busy\n", gProcs, gThreads, gThreads,
         nTx, nApp, (int64_t)S->nRecReads, (int64_t)S->nRecBusy);
  return (int64_t)S->nRecReads;
}

/* ============================================================= shrink */

enum { F_REC, F_TXT, F_DB };
static const char *const azKind[3] = { "records", "lines", "vfs db" };

typedef struct ShrinkCtx {
  uint64_t nRec;         /* records of 'a i64, b i64' */
  int nLine;             /* lines of the text file */
  int64_t nDbRow, nDbSum;
} ShrinkCtx;

static size_t lineText(int i, char *z){     /* line i, from 1, no '\n' */
  int n = snprintf(z, 80, "%08d:", i);
  int m = (i*13)%40;
  for(int k=0; k<m; k++) z[n+k] = (char)('a' + i%26);
  return (size_t)(n+m);
}

static void noteErr(int kind, const char *zMsg){
  pthread_mutex_lock(&S->errMutex);
  for(int i=0; i<4; i++){
    char *z = S->azErrSample[kind][i];
    if( z[0]==0 ){ snprintf(z, 160, "%s", zMsg); break; }
    if( strncmp(z, zMsg, 40)==0 ) break;
  }
  pthread_mutex_unlock(&S->errMutex);
}

typedef struct ShrinkConn {
  sqlite3 *dbR;          /* :memory: with the record table and lines */
  sqlite3 *dbV;          /* the database through membase */
  char zTxt[1100];
} ShrinkConn;

/* Outcome of one query: -1 error, 0 right, 1 zeros of a partial page
** (unaligned truncation only), 2 wrong. */
static int shrinkRec(ShrinkConn *C, ShrinkCtx *x, int op, uint64_t *rs, char *zErr){
  sqlite3_stmt *st = 0;
  int rc, res = 0;
  const char *zSql = op==0 ? "SELECT count(*), sum(a), sum(b) FROM r"
                   : op==1 ? "SELECT count, sum FROM membase_aggregate('r', 'b')"
                           : "SELECT a, b FROM r WHERE rowid=?1";
  int64_t r = (int64_t)(rnd(rs)%x->nRec);
  zErr[0] = 0;
  if( sqlite3_prepare_v2(C->dbR, zSql, -1, &st, 0)!=SQLITE_OK ){
    snprintf(zErr, 160, "%s", sqlite3_errmsg(C->dbR));
    return -1;
  }
  if( op==2 ) sqlite3_bind_int64(st, 1, r);
  rc = sqlite3_step(st);
  if( rc==SQLITE_ROW ){
    int64_t k = sqlite3_column_int64(st, 0), s1 = sqlite3_column_int64(st, 1);
    if( op==2 ){
      res = (k==r && s1==7*r+1) ? 0 : (k==0 && s1==0) ? 1 : 2;
    }else{
      int64_t s2 = op==0 ? sqlite3_column_int64(st, 2) : s1;
      int64_t eA = k*(k-1)/2, eB = 7*eA + k;
      if( k<0 || (uint64_t)k>x->nRec ) res = 2;
      else if( (op==0 && s1==eA && s2==eB) || (op==1 && s1==eB) ) res = 0;
      else res = 1;    /* a wrong sum: zeros (checked by the caller's context) */
      if( res==0 && (uint64_t)k!=x->nRec ) res = 3;   /* a right prefix */
    }
  }else if( rc==SQLITE_DONE ){
    res = op==2 ? 3 : 2;   /* no such record: the file is shorter */
  }else{
    snprintf(zErr, 160, "%s", sqlite3_errmsg(C->dbR));
    res = -1;
  }
  sqlite3_finalize(st);
  return res;
}

/* Lines: every line right; the last may be cut short (a prefix). A wrong
** line is "zeros" (1) if any line held a NUL byte, else garbage (2). */
static int shrinkLines(ShrinkConn *C, ShrinkCtx *x, char *zErr){
  sqlite3_stmt *st = 0;
  int rc, n = 0, bCut = 0, bBad = 0, bNul = 0;
  char zExp[96];
  zErr[0] = 0;
  if( sqlite3_prepare_v2(C->dbR, "SELECT rowid, line FROM membase_lines(?1)", -1, &st, 0) ){
    snprintf(zErr, 160, "%s", sqlite3_errmsg(C->dbR));
    return -1;
  }
  sqlite3_bind_text(st, 1, C->zTxt, -1, SQLITE_STATIC);
  while( (rc = sqlite3_step(st))==SQLITE_ROW ){
    int64_t i = sqlite3_column_int64(st, 0);
    const unsigned char *p = sqlite3_column_blob(st, 1);
    size_t nb = (size_t)sqlite3_column_bytes(st, 1), ne;
    n++;
    if( p && memchr(p, 0, nb) ) bNul = 1;
    if( i!=n || i>x->nLine || bCut ){ bBad = 1; continue; }
    ne = lineText((int)i, zExp);
    if( nb>ne || (nb>0 && memcmp(p, zExp, nb)!=0) ){ bBad = 1; continue; }
    if( nb<ne ) bCut = 1;      /* only the last line may be cut */
  }
  sqlite3_finalize(st);
  if( rc!=SQLITE_DONE ){
    snprintf(zErr, 160, "%s", sqlite3_errmsg(C->dbR));
    return -1;
  }
  if( bBad ) return bNul ? 1 : 2;
  return (n==x->nLine && !bCut) ? 0 : 3;
}

static int shrinkDb(ShrinkConn *C, ShrinkCtx *x, char *zErr){
  int64_t v[4] = {0, 0, 0, 0};
  int rc = query4(C->dbV, "SELECT count(*), sum(x) FROM t", v);
  zErr[0] = 0;
  if( rc!=SQLITE_ROW ){
    snprintf(zErr, 160, "%s", sqlite3_errmsg(C->dbV));
    return -1;
  }
  return (v[0]==x->nDbRow && v[1]==x->nDbSum) ? 0 : 2;
}

static int shrinkOne(ShrinkConn *C, ShrinkCtx *x, int kind, int op, uint64_t *rs,
                     char *zErr){
  switch( kind ){
    case F_REC: return shrinkRec(C, x, op%3, rs, zErr);
    case F_TXT: return shrinkLines(C, x, zErr);
    default:    return shrinkDb(C, x, zErr);
  }
}

/* A connection that began a transaction while the database file was empty
** keeps the empty schema it read ("no such table") after the file is
** restored: stock SQLite does the same (the same connection recovers from
** every other error seen here). A new connection must be right. */
static int shrinkReopen(ShrinkConn *C, ShrinkCtx *x, const char *zDb, const char *zVfs,
                        int bMmap, char *zErr){
  CHECK(sqlite3_close(C->dbV)==SQLITE_OK, "shrink: close db");
  C->dbV = openDb(zDb, zVfs, bMmap);
  if( !C->dbV ) exit(1);
  atomic_fetch_add(&S->aReopen[strcmp(zVfs, "unix")==0], 1);
  return shrinkDb(C, x, zErr);
}

static void *shrinkReader(void *p){
  ThreadArg *a = p;
  ShrinkCtx *x = a->pCtx;
  ShrinkConn C;
  char zRec[1100], zDb[1100], zErr[160];
  uint64_t rs = gSeed*1000003 + (uint64_t)a->iGlobal;
  memset(&C, 0, sizeof C);
  pathOf(zRec, sizeof zRec, "shrink.bin");
  pathOf(C.zTxt, sizeof C.zTxt, "shrink.txt");
  pathOf(zDb, sizeof zDb, "shrink.db");
  if( sqlite3_open(":memory:", &C.dbR) ){ FAIL("open"); return 0; }
  char *zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q', layout='a i64, b i64')", zRec);
  execSql(C.dbR, zSql);
  sqlite3_free(zSql);
  /* every fourth thread reads the database through stock unix: what
  ** SQLite itself does is the yardstick */
  const char *zVfs = a->iGlobal%4==3 ? "unix" : "membase";
  C.dbV = openDb(zDb, zVfs, a->iGlobal%2==0);
  if( !C.dbV ){ sqlite3_close(C.dbR); return 0; }
  for(int it=0; !atomic_load(&S->stop); it++){
    int kind = (it + a->iGlobal)%3;
    uint64_t g1 = atomic_load(&S->aGen[kind]);
    int res = shrinkOne(&C, x, kind, it/3, &rs, zErr);
    uint64_t g2 = atomic_load(&S->aGen[kind]);
    if( kind==F_DB && res==-1 && strstr(zErr, "no such table") && g1==g2 && (g1&1)==0 ){
      res = shrinkReopen(&C, x, zDb, zVfs, a->iGlobal%2==0, zErr);
    }
    if( g1==g2 && (g1&1)==0 && kind==F_DB && res!=0 && strcmp(zVfs, "unix")==0 ){
      /* stock SQLite keeps a page it read short (zero-filled) during the
      ** truncation in its cache, the file's change counter being the same
      ** after the restore: "malformed" until the cache is dropped. The
      ** yardstick, not the product: counted, not a failure. */
      atomic_fetch_add(&S->nStockStale, 1);
      continue;
    }
    if( g1==g2 && (g1&1)==0 ){
      /* the file was whole from start to end: exactly right */
      CHECK(res==0, "shrink %s%s%s: query while the file was intact: %s%s", azKind[kind],
            kind==F_DB ? " via " : "", kind==F_DB ? zVfs : "",
            res==-1 ? "error: " : res==1 ? "zeros" : res==3 ? "short result" : "wrong result",
            zErr);
      atomic_fetch_add(&S->aStable[kind], 1);
      continue;
    }
    /* it overlapped a truncation */
    int bUnaligned = atomic_load(&S->aUnaligned[kind])+1>=g1;
    if( res==-1 ){
      atomic_fetch_add(&S->aErr[kind], 1);
      noteErr(kind, zErr);
    }else if( res==0 || res==3 ){
      atomic_fetch_add(&S->aOkDisturbed[kind], 1);
    }else if( kind==F_DB ){
      /* SQLite itself (stock too) reads a database truncated under it by a
      ** program ignoring its locks without always noticing: counted */
      atomic_fetch_add(&S->aWrong[kind], 1);
    }else if( res==1 && bUnaligned ){
      atomic_fetch_add(&S->aZero[kind], 1);
    }else{
      FAIL("shrink %s: wrong data without an error (%s, page-aligned truncation)",
           azKind[kind], res==1 ? "zeros" : "garbage");
    }
  }
  /* recovery: the files are whole again, every query must be right */
  for(int kind=0; kind<3; kind++){
    for(int op=0; op<(kind==F_REC ? 3 : 1); op++){
      int res = shrinkOne(&C, x, kind, op, &rs, zErr);
      if( kind==F_DB && res!=0 && (strstr(zErr, "no such table") || strcmp(zVfs, "unix")==0) ){
        res = shrinkReopen(&C, x, zDb, zVfs, a->iGlobal%2==0, zErr);
      }
      CHECK(res==0, "shrink %s%s%s (mmap %s): after the last restore the query still "
            "fails (%d): %s", azKind[kind], kind==F_DB ? " via " : "", kind==F_DB ? zVfs : "",
            a->iGlobal%2==0 ? "on" : "off", res, zErr);
      if( res!=0 && kind==F_DB ){
        /* what a new connection of this process sees, and this one's stats */
        ShrinkConn C2 = C;
        char zErr2[160];
        sqlite3 *db2 = openDb(zDb, zVfs, a->iGlobal%2==0);
        sqlite3_stmt *pSt = 0;
        C2.dbV = db2;
        int res2 = db2 ? shrinkDb(&C2, x, zErr2) : -2;
        if( sqlite3_prepare_v2(C.dbV, "PRAGMA membase_stats", -1, &pSt, 0)==SQLITE_OK
         && sqlite3_step(pSt)==SQLITE_ROW ){
          fprintf(stderr, "  stats of the failing connection: %s\n", sqlite3_column_text(pSt, 0));
        }
        sqlite3_finalize(pSt);
        fprintf(stderr, "  a new %s connection in the same process: %s %s\n", zVfs,
                res2==0 ? "right" : "fails:", res2==0 ? "" : zErr2);
        sqlite3_close(db2);
      }
      if( res==0 ) atomic_fetch_add(&S->nRecovered, 1);
    }
  }
  CHECK(sqlite3_close(C.dbR)==SQLITE_OK, "shrink: close");
  CHECK(sqlite3_close(C.dbV)==SQLITE_OK, "shrink: close db");
  return 0;
}

static void shrinkReaderProc(int iProc, void *pArg){
  if( membase_register()!=SQLITE_OK ){ FAIL("membase_register"); _exit(1); }
  runThreads(gThreads, shrinkReader, iProc, iProc*gThreads, pArg);
}

static void shrinkSetupProc(int iProc, void *pArg){
  ShrinkCtx *x = pArg;
  char zDb[1100];
  (void)iProc;
  pathOf(zDb, sizeof zDb, "shrink.db");
  unlink(zDb);
  if( membase_register()!=SQLITE_OK ){ FAIL("membase_register"); _exit(1); }
  sqlite3 *db = openDb(zDb, "unix", 0);
  if( !db ) _exit(1);
  char *zSql = sqlite3_mprintf(
    "PRAGMA journal_mode=DELETE; BEGIN;"
    "CREATE TABLE t(x INTEGER PRIMARY KEY, pad TEXT);"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<%lld)"
    " INSERT INTO t SELECT i, printf('%%060d', i) FROM c;"
    "CREATE INDEX t_pad ON t(pad); COMMIT;", (long long)x->nDbRow);
  execSql(db, zSql);
  sqlite3_free(zSql);
  sqlite3_close(db);
}

typedef struct Blob { unsigned char *a; size_t n; int fd; } Blob;

static int loadFile(const char *zPath, Blob *b){
  struct stat st;
  b->fd = open(zPath, O_RDWR);
  if( b->fd<0 || fstat(b->fd, &st) ) return 1;
  b->n = (size_t)st.st_size;
  b->a = malloc(b->n ? b->n : 1);
  return !b->a || pread(b->fd, b->a, b->n, 0)!=(ssize_t)b->n;
}

static int64_t scenarioShrink(int64_t *pErrors){
  ShrinkCtx x;
  char azPath[3][1100];
  Blob aB[3];
  int scale = MB_SANITIZED ? 4 : 1;
  uint64_t rs = gSeed*65537 + 3;
  x.nRec = 262144/(uint64_t)scale;
  x.nLine = 60000/scale;
  x.nDbRow = 20000/scale;
  x.nDbSum = x.nDbRow*(x.nDbRow+1)/2;
  pathOf(azPath[F_REC], 1100, "shrink.bin");
  pathOf(azPath[F_TXT], 1100, "shrink.txt");
  pathOf(azPath[F_DB], 1100, "shrink.db");
  {
    FILE *f = fopen(azPath[F_REC], "wb");
    for(uint64_t i=0; f && i<x.nRec; i++){
      unsigned char r[16];
      uint64_t a = i, b = 7*i+1;
      for(int k=0; k<8; k++){ r[k] = (unsigned char)(a>>(8*k)); r[8+k] = (unsigned char)(b>>(8*k)); }
      fwrite(r, 16, 1, f);
    }
    CHECK(f && fclose(f)==0, "write %s", azPath[F_REC]);
    f = fopen(azPath[F_TXT], "wb");
    for(int i=1; f && i<=x.nLine; i++){
      char z[96];
      size_t n = lineText(i, z);
      z[n++] = '\n';
      fwrite(z, 1, n, f);
    }
    CHECK(f && fclose(f)==0, "write %s", azPath[F_TXT]);
  }
  runProcs(1, shrinkSetupProc, &x, "shrink setup");
  for(int k=0; k<3; k++){
    if( loadFile(azPath[k], &aB[k]) ){ FAIL("cannot load %s", azPath[k]); return 0; }
  }
  for(int k=0; k<3; k++){
    atomic_store(&S->aGen[k], 0);
    atomic_store(&S->aUnaligned[k], 0);
  }
  atomic_store(&S->stop, 0);

  /* readers in children; this process truncates and restores */
  pid_t aPid[MAX_PROCS];
  fflush(stdout); fflush(stderr);
  for(int i=0; i<gProcs; i++){
    aPid[i] = fork();
    if( aPid[i]<0 ){ perror("fork"); exit(2); }
    if( aPid[i]==0 ){
      gProc = i;
      shrinkReaderProc(i, &x);
      fflush(stdout); fflush(stderr);
      _exit(0);
    }
  }
  sleepMs(200);     /* let the readers map the files */
  double tEnd = nowSec() + gSeconds;
  int64_t nRound = 0;
  long pg = sysconf(_SC_PAGESIZE);
  while( nowSec()<tEnd ){
    int k = (int)(nRound%3);
    Blob *b = &aB[k];
    int how = (int)(rnd(&rs)%4);
    off_t n;
    switch( how ){
      case 0:  n = 0; break;
      case 1:  n = (off_t)((rnd(&rs)%(b->n/(size_t)pg)))*pg; break;           /* page-aligned */
      case 2:  n = (off_t)(rnd(&rs)%b->n); if( n%pg==0 ) n++; break;          /* unaligned */
      default: n = (off_t)(b->n/2) & ~(off_t)(pg-1); break;
    }
    uint64_t g = atomic_fetch_add(&S->aGen[k], 1) + 1;    /* odd */
    if( how==2 ) atomic_store(&S->aUnaligned[k], g);
    CHECK(ftruncate(b->fd, n)==0, "ftruncate: %s", strerror(errno));
    sleepMs((double)(rnd(&rs)%8000)/1000.0);
    if( nRound==30 && strcmp(gInject, "shrink")==0 ) b->a[b->n/3] ^= 0x20;  /* from now on */
    CHECK(pwrite(b->fd, b->a, b->n, 0)==(ssize_t)b->n, "restore: %s", strerror(errno));
    atomic_fetch_add(&S->aGen[k], 1);                     /* even */
    atomic_fetch_add(&S->aRounds[k], 1);
    nRound++;
    sleepMs(5.0 + (double)(rnd(&rs)%25000)/1000.0);
  }
  atomic_store(&S->stop, 1);
  for(int i=0; i<gProcs; i++){
    int st = 0;
    while( waitpid(aPid[i], &st, 0)<0 && errno==EINTR ){}
    CHECK(!WIFSIGNALED(st), "shrink: reader process %d died of signal %d (%s)", i,
          WTERMSIG(st), strsignal(WTERMSIG(st)));
    CHECK(!WIFEXITED(st) || WEXITSTATUS(st)==0, "shrink: reader %d exited with %d", i,
          WEXITSTATUS(st));
  }
  for(int k=0; k<3; k++){
    close(aB[k].fd);
    free(aB[k].a);
  }
  /* the record and lines tables must have noticed some truncations */
  for(int k=F_REC; k<=F_TXT; k++){
    if( S->aRounds[k]>=30 ){
      CHECK(S->aErr[k]>0, "shrink %s: %" PRId64 " rounds and no SQL error: the truncations "
            "were never seen", azKind[k], (int64_t)S->aRounds[k]);
    }
  }
  CHECK(S->nRecovered==(int64_t)gProcs*gThreads*5, "shrink: %" PRId64 " of %d recovery checks passed",
        (int64_t)S->nRecovered, gProcs*gThreads*5);
  *pErrors = 0;
  for(int k=0; k<3; k++){
    *pErrors += S->aErr[k];
    printf("shrink %-7s %4" PRId64 " rounds: %6" PRId64 " intact queries right, while disturbed: %5"
           PRId64 " errors, %5" PRId64 " right, %4" PRId64 " partial-page zeros, %4" PRId64
           " wrong answers without error\n", azKind[k], (int64_t)S->aRounds[k],
           (int64_t)S->aStable[k], (int64_t)S->aErr[k], (int64_t)S->aOkDisturbed[k],
           (int64_t)S->aZero[k], (int64_t)S->aWrong[k]);
    for(int i=0; i<4 && S->azErrSample[k][i][0]; i++){
      printf("    error seen: %s\n", S->azErrSample[k][i]);
    }
  }
  printf("shrink: vfs db connections reopened after \"no such table\" (empty schema cached "
         "while the file was empty): %" PRId64 " membase, %" PRId64 " stock unix\n",
         (int64_t)S->aReopen[0], (int64_t)S->aReopen[1]);
  printf("shrink: stock unix connections wrong or failing while the file was intact (their "
         "cache kept a short read): %" PRId64 "\n", (int64_t)S->nStockStale);
  return nRound;
}

/* =============================================================== main */

static void report(const char *zName, double v){
  const char *zDir = getenv("MB_REPORT_DIR");
  char zPath[1100];
  if( !zDir || !zDir[0] ) return;
  snprintf(zPath, sizeof zPath, "%s/torture.tsv", zDir);
  FILE *f = fopen(zPath, "a");
  if( !f ) return;
  if( v==(double)(int64_t)v ) fprintf(f, "%s\t%" PRId64 "\n", zName, (int64_t)v);
  else fprintf(f, "%s\t%.1f\n", zName, v);
  fclose(f);
}

static void usage(void){
  fprintf(stderr, "usage: mb_torture [--procs N] [--threads M] [--seconds S] "
                  "[--scenario vfs|records|shrink|all] [--seed X] [--dir D]\n"
                  "       [--inject torn|lost|shrink]\n");
  exit(2);
}

int main(int argc, char **argv){
  const char *zScen = "all", *zDir = 0;
  for(int i=1; i<argc; i++){
    if( i+1>=argc ) usage();
    if( strcmp(argv[i], "--procs")==0 ) gProcs = atoi(argv[++i]);
    else if( strcmp(argv[i], "--threads")==0 ) gThreads = atoi(argv[++i]);
    else if( strcmp(argv[i], "--seconds")==0 ) gSeconds = atoi(argv[++i]);
    else if( strcmp(argv[i], "--scenario")==0 ) zScen = argv[++i];
    else if( strcmp(argv[i], "--seed")==0 ) gSeed = strtoull(argv[++i], 0, 0);
    else if( strcmp(argv[i], "--dir")==0 ) zDir = argv[++i];
    else if( strcmp(argv[i], "--inject")==0 ) gInject = argv[++i];
    else usage();
  }
  if( gProcs<1 || gProcs>MAX_PROCS || gThreads<1 || gThreads>MAX_THREADS || gSeconds<1 ) usage();
  /* one scenario, "all", or a comma-separated list */
  int bAll = !strcmp(zScen, "all");
  int bVfs = bAll || strstr(zScen, "vfs")!=0;
  int bRec = bAll || strstr(zScen, "records")!=0;
  int bShr = bAll || strstr(zScen, "shrink")!=0;
  int bLocks = strstr(zScen, "locks")!=0;     /* not in "all" yet: see below */
  if( !bVfs && !bRec && !bShr && !bLocks ) usage();
  if( !zDir ) zDir = getenv("MB_TEST_TMPDIR");
  if( !zDir || !zDir[0] ) zDir = "/tmp";
  snprintf(gDir, sizeof gDir, "%s/torture.%d", zDir, (int)getpid());
  mkdir(zDir, 0777);
  if( mkdir(gDir, 0777) && errno!=EEXIST ){ perror(gDir); return 2; }

  S = mmap(0, sizeof(Shared), PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
  if( S==MAP_FAILED ){ perror("mmap"); return 2; }
  memset(S, 0, sizeof *S);
  {
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&S->errMutex, &ma);
  }
  printf("mb_torture: %d procs x %d threads, %d s per phase, seed %" PRIu64 ", %s%s\n",
         gProcs, gThreads, gSeconds, gSeed, gDir, MB_SANITIZED ? " (sanitizer build)" : "");
  double t0 = nowSec();
  if( bLocks ) scenarioLocks();
  if( bVfs ){
    double sec = 0;
    int64_t n = scenarioVfs(&sec);
    report("vfs.procs", gProcs); report("vfs.threads", gThreads);
    report("vfs.seconds", sec); report("vfs.txns", (double)n);
  }
  if( bRec ){
    double sec = 0;
    int64_t n = scenarioRecords(&sec);
    report("records.procs", gProcs); report("records.threads", gThreads);
    report("records.seconds", sec); report("records.reads", (double)n);
  }
  if( bShr ){
    int64_t nErr = 0;
    int64_t n = scenarioShrink(&nErr);
    report("shrink.rounds", (double)n); report("shrink.errors", (double)nErr);
  }
  int64_t nFail = atomic_load(&S->nFail);
  if( gInject[0] ){
    printf("mb_torture: injected fault \"%s\" %s (%" PRId64 " failures reported)\n", gInject,
           nFail ? "detected" : "NOT DETECTED", nFail);
    return nFail ? 0 : 1;
  }
  report("failures", (double)nFail);
  printf("mb_torture: %s, %" PRId64 " failures, %.1f s\n", nFail ? "FAILED" : "ok", nFail,
         nowSec() - t0);
  if( nFail==0 ){
    /* keep the files of a failed run for a look */
    char zCmd[1200];
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", gDir);
    if( system(zCmd) ){}
  }
  return nFail ? 1 : 0;
}
