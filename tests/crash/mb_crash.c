/*
** mb_crash.c -- kill -9 crash-safety harness (a hardening test).
**
** A child process runs a write workload and reports its progress; the
** parent kills it with SIGKILL after a random delay (50 us to 200 ms,
** log-uniform), then reopens the files and checks that what the child was
** told is true on disk. The state carries over from one kill to the next:
** every child starts on the files the previous kill left (after the
** parent's check, whose first open ran the recovery).
**
** The child's reports go into memory shared with the parent (no system
** call, so reporting opens no window of its own for the kill, and nothing
** is lost when the child dies); a pipe only says "ready", and EOF if the
** child died by itself. The reports:
**   S          ready (files open, about to start its first transaction)
**   B id x     transaction id begins (x: the txn whose rows it deletes, or 0)
**   P id       COMMIT or ROLLBACK is about to run
**   C id       COMMIT returned SQLITE_OK
**   R id       ROLLBACK returned (the transaction was planned to roll back)
**   K / k      a WAL checkpoint begins / ends
**   E          an SQL error, with its message (the child never expects one)
** What each transaction writes is a function of the workload seed and its
** id, so the parent recomputes it. A kill that lands between B and C/R
** leaves that one transaction "in flight"; the summary counts where the
** kills landed (body, commit/rollback, checkpoint, between transactions).
**
** Workloads (--workload NAME):
**   vfs_rollback_shared   vfs=membase, journal_mode DELETE (some runs
**   vfs_rollback_process  TRUNCATE or PERSIST), vfs=membase-process
**   vfs_wal_shared        vfs=membase, WAL (synchronous FULL or NORMAL),
**   vfs_wal_process       vfs=membase-process; checkpoints in between
**     Each transaction inserts 1-8 rows tagged with its id (sometimes one of
**     8-128 KB: many overflow pages), a row in txns(id, nrows), sometimes
**     deletes every row of an older live transaction, and bumps a counter
**     row; one in seven rolls back. mmap_size > 0 (xFetch) in half the runs,
**     a 20-page cache (spills before COMMIT) in some, auto_vacuum=FULL (the
**     file shrinks at COMMIT). After each kill the database is opened with
**     stock "unix" and with the workload's VFS, in alternating order (the
**     first one recovers), and each checks: integrity_check is ok; every
**     committed id is present with exactly its rows and payload bytes; no
**     rolled-back id is present; the in-flight one is wholly present or
**     wholly absent (with its delete), absent if it was to roll back; no
**     other id; counter = committed transactions (+1 if the in-flight one
**     is present) and = the live count; both opens see the same state.
**   records_update   a raw record file of 512 records, layout
**     'id i64, v i64, w i64, tag u32, chk u32', through the membase virtual
**     table: transactions UPDATE 1-16 records (some also set a SAVEPOINT,
**     update more records and ROLLBACK TO it); one in six rolls back.
**   records_append   a raw record file: transactions INSERT 1-20 records
**     (some 200-2200), some UPDATE an older record in the middle (which
**     writes the appended records and the -mbjournal before COMMIT).
**   npy_append       the same on a .npy file (the shape is the commit).
**     After each kill (the documented guarantee, vtab/mb_records.c): the
**     table opens without error through a main database on stock "unix" and
**     on "membase" (alternating order), the -mbjournal is gone after that
**     open and the raw file is cut back to whole committed transactions;
**     the record count is the committed one, or that plus the whole
**     in-flight append (never part of it); every committed update is there;
**     every field of a record the in-flight transaction touched holds its
**     old or its new value (values are 64-bit hashes: a torn field matches
**     neither); fields nobody touched are unchanged; the file's raw bytes
**     agree with what the table returns.
**
** Before the kills, each journal state a dead appender can leave (empty,
** short, complete with and without growth) is made by hand and must be
** handled by the next open of the table.
**
** Options: --seed N (default: from the clock; printed), --iterations N
** (kills per workload, default 50), --seconds S (time bound for the whole
** run, default 90: stops early and still reports), --workload NAME, --dir D
** (default $MB_TEST_TMPDIR or /tmp), -v (a line per kill), --selftest
** (children that break a promise on purpose: report COMMIT before it ran,
** commit a planned rollback, lose the journal, tear a field; every one
** must be caught). A seed fixes the plans, the configurations and the
** delays; where exactly a kill lands still depends on timing.
**
** Quick setting (ctest crash.mb_crash): --iterations 60 --seconds 90,
** 420 kills: about 20 s in a release build, 55 s under ASan (+13 s for
** crash.mb_crash_selftest).
** Long setting (20 minutes; >= 1000 kills, several thousand as a rule):
**   build-crash/tests/crash/mb_crash --iterations 1000 --seconds 1200
** (--iterations 150 gives 1050 kills without the time bound.)
**
** With MB_REPORT_DIR set, appends to $MB_REPORT_DIR/crash.tsv:
** kills.<workload>, checked_txns, failures (metric<TAB>value).
** Exit status: 0 all checks passed, 1 a check failed, 2 a setup error.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include "membase.h"

/* ------------------------------------------------------------ settings */

#define LIVE_MAX     40        /* live transactions above which each txn deletes one */
#define MAX_ROWS     8         /* rows per VFS transaction */
#define BIG_MAX      (128*1024)
#define REC_N_UPDATE 512       /* records of the update workload */
#define REC_STRIDE   32
#define REC_LAYOUT   "id i64, v i64, w i64, tag u32, chk u32"
#define MAX_UPD      32

typedef struct Opts {
  uint64_t seed;
  int nIter;
  double secs;
  const char *zWorkload;
  char zDir[1024];
  int bVerbose;
  int eBreak;              /* --selftest: the child misbehaves this way */
  int bSelftest;
} Opts;
static Opts g;

/* Self-test (--selftest): the child breaks a promise on purpose, and the
** checks must catch it. Each check can fail; this shows it does. */
enum {
  BRK_NONE = 0,
  BRK_EARLY_COMMIT,    /* report C before COMMIT has run */
  BRK_FALSE_ROLLBACK,  /* COMMIT a planned rollback, report R */
  BRK_NO_JOURNAL,      /* VFS: journal_mode=OFF; records: delete the -mbjournal */
  BRK_TORN,            /* records: after COMMIT, overwrite half a field */
  BRK_N
};
static const char *const azBreak[] = {
  "none", "early-commit", "false-rollback", "no-journal", "torn"
};

static int nFail = 0;
static long long nCheckedTxns = 0;

/* ------------------------------------------------------------ utilities */

static double now(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec*1e-9;
}

/* splitmix64: the seed of everything. */
static uint64_t mix64(uint64_t x){
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x>>30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x>>27)) * 0x94d049bb133111ebULL;
  return x ^ (x>>31);
}
static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c){
  return mix64(a ^ mix64(b ^ mix64(c)));
}
typedef struct Rng { uint64_t s; } Rng;
static uint64_t rngNext(Rng *r){
  r->s += 0x9e3779b97f4a7c15ULL;
  return mix64(r->s);
}
static unsigned rngBelow(Rng *r, unsigned n){
  return n ? (unsigned)(rngNext(r) % n) : 0;
}

static int fileExists(const char *z){
  struct stat st;
  return stat(z, &st)==0;
}
static long long fileSize(const char *z){
  struct stat st;
  return stat(z, &st)==0 ? (long long)st.st_size : -1;
}

/* ------------------------------------------------------------ workloads */

enum { W_VFS, W_REC_UPDATE, W_REC_APPEND, W_NPY_APPEND };

/* How one child runs: drawn per iteration from the workload seed. */
typedef struct IterCfg {
  const char *zJournal;    /* rollback workloads: DELETE, TRUNCATE, PERSIST */
  const char *zSync;       /* FULL, or NORMAL (WAL) */
  long long mmapSize;      /* child's mmap_size */
  int cacheSize;           /* 0: default; else PRAGMA cache_size */
  const char *zMainVfs;    /* record workloads: the main db's VFS */
  unsigned delayUs;        /* kill this long after S */
  int bStockFirst;         /* verification: stock unix opens first */
  long long verifyMmap;    /* mmap_size of the membase verifier */
} IterCfg;

/* The parent's model of a VFS database. */
enum { T_NONE=0, T_LIVE, T_DELETED, T_ROLLEDBACK, T_LOST };
typedef struct VfsModel {
  unsigned char *aState;   /* by id: T_* */
  long long nAlloc;
  long long nCommitted;    /* counter.n */
  long long nLive;
} VfsModel;

/* One record of the record workloads, decoded. */
typedef struct Rec {
  int64_t id, v, w;
  uint32_t tag, chk;
} Rec;

typedef struct RecModel {
  Rec *a;
  long long n, nAlloc;
} RecModel;

typedef struct Work {
  const char *zName;
  int eKind;
  const char *zVfs;        /* VFS workloads */
  int bWal;
  uint64_t seed;
  char zPath[1200];        /* database or record file */
  char zJrnl[1300];        /* the record file's -mbjournal */
  char zMain[1200];        /* record workloads: main db of child / verifier */
  long long nextId;
  VfsModel vm;
  RecModel rm;
  IterCfg cfg;
  int iIter;
  int bFailed;
  /* statistics */
  int nKill, nKillBody, nKillCommit, nKillBetween, nKillCkpt;
  int nInPresent, nInAbsent, nInPartial, nJournalSeen, nPastShape;
  long long nCommitted, nRolledBack;
  double tSpent;
} Work;

static Work aWork[] = {
  { .zName="vfs_rollback_shared",  .eKind=W_VFS, .zVfs="membase",         .bWal=0 },
  { .zName="vfs_rollback_process", .eKind=W_VFS, .zVfs="membase-process", .bWal=0 },
  { .zName="vfs_wal_shared",       .eKind=W_VFS, .zVfs="membase",         .bWal=1 },
  { .zName="vfs_wal_process",      .eKind=W_VFS, .zVfs="membase-process", .bWal=1 },
  { .zName="records_update",       .eKind=W_REC_UPDATE },
  { .zName="records_append",       .eKind=W_REC_APPEND },
  { .zName="npy_append",           .eKind=W_NPY_APPEND },
};
#define N_WORK ((int)(sizeof(aWork)/sizeof(aWork[0])))

static Work *gW;   /* the workload being checked, for messages */

#define CHECK(cond, ...) do{ if(!(cond)){ checkFailed(__LINE__, __VA_ARGS__); } }while(0)
static void checkFailed(int line, const char *zFmt, ...)
  __attribute__((format(printf, 2, 3)));
static void checkFailed(int line, const char *zFmt, ...){
  va_list ap;
  FILE *out = g.bSelftest ? stdout : stderr;
  int bFirst = gW==0 || gW->bFailed==0;
  nFail++;
  if( gW ) gW->bFailed = 1;
  if( g.bSelftest ){
    if( !bFirst ) return;
    fprintf(out, "    caught (mb_crash.c:%d, kill %d): ", line, gW ? gW->iIter : -1);
  }else{
    fprintf(out, "FAIL mb_crash.c:%d: [%s kill %d, --seed %llu --workload %s] ",
            line, gW ? gW->zName : "-", gW ? gW->iIter : -1,
            (unsigned long long)g.seed, gW ? gW->zName : "-");
  }
  va_start(ap, zFmt);
  vfprintf(out, zFmt, ap);
  va_end(ap);
  fputc('\n', out);
}

/* ------------------------------------------------------------ plans */

/* A VFS transaction: its rows and whether it rolls back. */
typedef struct VfsPlan {
  int nRows;
  int aLen[MAX_ROWS];
  int bRollback;
} VfsPlan;

static void vfsPlan(const Work *w, long long id, VfsPlan *p){
  Rng r = { hash3(w->seed, (uint64_t)id, 1) };
  int k;
  p->nRows = 1 + (int)rngBelow(&r, MAX_ROWS);
  for(k=0; k<p->nRows; k++){
    p->aLen[k] = 16 + (int)rngBelow(&r, 300);
  }
  if( rngBelow(&r, 4)==0 ){
    p->aLen[0] = 8000 + (int)rngBelow(&r, BIG_MAX-8000);
  }
  p->bRollback = rngBelow(&r, 7)==0;
}

static void vfsPayload(const Work *w, long long id, int k, unsigned char *a, int n){
  Rng r = { hash3(w->seed, (uint64_t)id, 100+(uint64_t)k) };
  int i = 0;
  while( i<n ){
    uint64_t x = rngNext(&r);
    int j;
    for(j=0; j<8 && i<n; j++, i++){ a[i] = (unsigned char)(x>>(8*j)); }
  }
}

/* A record transaction. Updates: aRow[0..nFirst) get the values of
** (id,row,0) and stay; aRow[nFirst..nUpd) get (id,row,1) after a SAVEPOINT
** that is rolled back to. Appends: nApp1 records, then (bMid) an update of
** record iMidRow with (id,row,2), then nApp2 records. */
typedef struct RecPlan {
  int nUpd, nFirst;
  long long aRow[MAX_UPD];
  int nApp1, nApp2;
  int bMid;
  long long iMidRow;
  int bRollback;
} RecPlan;

static void recPlan(const Work *w, long long id, long long nRec, RecPlan *p){
  Rng r = { hash3(w->seed, (uint64_t)id, 2) };
  memset(p, 0, sizeof(*p));
  if( w->eKind==W_REC_UPDATE ){
    int i, j;
    p->nUpd = 1 + (int)rngBelow(&r, 16);
    p->nFirst = p->nUpd;
    if( rngBelow(&r, 4)==0 ){
      p->nUpd += 1 + (int)rngBelow(&r, 8);
      if( p->nUpd>MAX_UPD ) p->nUpd = MAX_UPD;
    }
    for(i=0; i<p->nUpd; i++){
      long long row;
      do{
        row = (long long)rngBelow(&r, (unsigned)nRec);
        for(j=0; j<i && p->aRow[j]!=row; j++){}
      }while( j<i );
      p->aRow[i] = row;
    }
  }else{
    p->nApp1 = 1 + (int)rngBelow(&r, 20);
    if( rngBelow(&r, 16)==0 ) p->nApp1 = 200 + (int)rngBelow(&r, 2000);
    /* (losing the journal shows when a kill follows the mid-transaction
    ** update, which writes the appended records: always one then) */
    if( nRec>0 && (rngBelow(&r, 3)==0 || g.eBreak==BRK_NO_JOURNAL) ){
      p->bMid = 1;
      p->iMidRow = (long long)(rngNext(&r) % (uint64_t)nRec);
      p->nApp2 = 1 + (int)rngBelow(&r, 10);
    }
  }
  p->bRollback = rngBelow(&r, 6)==0;
}

/* The value a transaction writes: 64-bit hashes, so that a field torn
** between an old and a new value matches neither. */
static void recValue(const Work *w, long long txn, long long slot, int alt,
                     long long idx, Rec *r){
  uint64_t h = hash3(w->seed ^ 0x5eedULL, (uint64_t)txn*4+(uint64_t)alt, (uint64_t)slot);
  r->id = idx;
  r->v = (int64_t)mix64(h+1);
  r->w = (int64_t)mix64(h+2);
  r->tag = (uint32_t)mix64(h+3);
  r->chk = (uint32_t)(mix64((uint64_t)r->v ^ (uint64_t)r->w ^ r->tag) >> 32);
}

static int recEqual(const Rec *a, const Rec *b){
  return a->id==b->id && a->v==b->v && a->w==b->w && a->tag==b->tag
      && a->chk==b->chk;
}

/* ------------------------------------------------------------ child side */

/* The reports go into memory shared with the parent (MAP_SHARED, made
** before the first fork): no system call per report, so reporting takes no
** time of its own in which a kill could land, and nothing is lost when the
** child dies. An event counts once n covers it (release store after the
** event is written). The pipe only says "ready" (and EOF: the child died). */
typedef struct Ev { char c; long long a, b; } Ev;
typedef struct ShLog {
  uint32_t n;             /* events written */
  uint32_t nMax;
  char zErr[512];         /* the child's SQL error */
  Ev a[];
} ShLog;
#define SHLOG_BYTES (8u<<20)
static ShLog *gLog;
static int gPipe = -1;

static void childEv(char c, long long a, long long b){
  uint32_t n = gLog->n;
  if( n>=gLog->nMax ){
    /* full (never within the delays used): wait for the kill */
    for(;;) pause();
  }
  gLog->a[n].c = c;
  gLog->a[n].a = a;
  gLog->a[n].b = b;
  __atomic_store_n(&gLog->n, n+1, __ATOMIC_RELEASE);
}

static void childReady(void){
  childEv('S', 0, 0);
  while( write(gPipe, "S", 1)<0 && errno==EINTR ){}
}

static void childDie(sqlite3 *db, const char *zWhat){
  snprintf(gLog->zErr, sizeof(gLog->zErr), "%s: %s", zWhat,
           db ? sqlite3_errmsg(db) : "?");
  childEv('E', 0, 0);
  _exit(3);
}

static void childExec(sqlite3 *db, const char *zSql){
  if( sqlite3_exec(db, zSql, 0, 0, 0)!=SQLITE_OK ) childDie(db, zSql);
}

static sqlite3_stmt *childPrepare(sqlite3 *db, const char *zSql){
  sqlite3_stmt *st = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &st, 0)!=SQLITE_OK ) childDie(db, zSql);
  return st;
}

static void childStep(sqlite3 *db, sqlite3_stmt *st){
  int rc = sqlite3_step(st);
  if( rc!=SQLITE_DONE && rc!=SQLITE_ROW ) childDie(db, sqlite3_sql(st));
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

static void childVfs(Work *w, int iter){
  const IterCfg *c = &w->cfg;
  sqlite3 *db = 0;
  char *z;
  long long *aLive = 0, nLive = 0, id;
  sqlite3_stmt *stRow, *stTxn, *stDelRows, *stDelTxn, *stCount, *st;
  unsigned char *aBuf = malloc(BIG_MAX);
  Rng r = { hash3(w->seed, (uint64_t)iter, 7) };

  z = sqlite3_mprintf("file:%s?vfs=%s", w->zPath, w->zVfs);
  if( aBuf==0 || z==0 ) childDie(0, "out of memory");
  if( sqlite3_open_v2(z, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_URI, 0) ){
    childDie(db, "open");
  }
  sqlite3_free(z);
  sqlite3_busy_timeout(db, 5000);
  if( g.eBreak==BRK_NO_JOURNAL ){
    childExec(db, "PRAGMA journal_mode=OFF");
  }else if( !w->bWal ){
    z = sqlite3_mprintf("PRAGMA journal_mode=%s", c->zJournal);
    childExec(db, z);
    sqlite3_free(z);
  }
  z = sqlite3_mprintf("PRAGMA synchronous=%s; PRAGMA mmap_size=%lld",
                      c->zSync, c->mmapSize);
  childExec(db, z);
  sqlite3_free(z);
  if( c->cacheSize ){
    z = sqlite3_mprintf("PRAGMA cache_size=%d", c->cacheSize);
    childExec(db, z);
    sqlite3_free(z);
  }
  st = childPrepare(db, "SELECT id FROM txns ORDER BY id");
  aLive = malloc(sizeof(long long)*4096);
  if( aLive==0 ) childDie(0, "out of memory");
  while( sqlite3_step(st)==SQLITE_ROW ){
    if( nLive<4096 ) aLive[nLive++] = sqlite3_column_int64(st, 0);
  }
  if( sqlite3_finalize(st)!=SQLITE_OK ) childDie(db, "read txns");
  stRow = childPrepare(db, "INSERT INTO t(txn, k, len, payload) VALUES(?1,?2,?3,?4)");
  stTxn = childPrepare(db, "INSERT INTO txns(id, nrows) VALUES(?1,?2)");
  stDelRows = childPrepare(db, "DELETE FROM t WHERE txn=?1");
  stDelTxn = childPrepare(db, "DELETE FROM txns WHERE id=?1");
  stCount = childPrepare(db, "UPDATE counter SET n=n+1, live=live+?1, last=?2 WHERE one=1");

  childReady();
  for(id=w->nextId; ; id++){
    VfsPlan p;
    long long victim = 0;
    int k, iVictim = -1;
    vfsPlan(w, id, &p);
    if( nLive>0 && (nLive>=LIVE_MAX || rngBelow(&r, 4)==0) ){
      iVictim = (int)rngBelow(&r, (unsigned)nLive);
      victim = aLive[iVictim];
    }
    childEv('B', id, victim);
    childExec(db, rngBelow(&r, 2) ? "BEGIN" : "BEGIN IMMEDIATE");
    for(k=0; k<p.nRows; k++){
      vfsPayload(w, id, k, aBuf, p.aLen[k]);
      sqlite3_bind_int64(stRow, 1, id);
      sqlite3_bind_int(stRow, 2, k);
      sqlite3_bind_int(stRow, 3, p.aLen[k]);
      sqlite3_bind_blob(stRow, 4, aBuf, p.aLen[k], SQLITE_STATIC);
      childStep(db, stRow);
    }
    sqlite3_bind_int64(stTxn, 1, id);
    sqlite3_bind_int(stTxn, 2, p.nRows);
    childStep(db, stTxn);
    if( victim ){
      sqlite3_bind_int64(stDelRows, 1, victim);
      childStep(db, stDelRows);
      sqlite3_bind_int64(stDelTxn, 1, victim);
      childStep(db, stDelTxn);
    }
    sqlite3_bind_int(stCount, 1, victim ? 0 : 1);
    sqlite3_bind_int64(stCount, 2, id);
    childStep(db, stCount);
    childEv('P', id, 0);
    if( p.bRollback && g.eBreak!=BRK_FALSE_ROLLBACK ){
      childExec(db, "ROLLBACK");
      childEv('R', id, 0);
    }else{
      if( g.eBreak==BRK_EARLY_COMMIT ) childEv('C', id, 0);
      childExec(db, "COMMIT");
      if( g.eBreak!=BRK_EARLY_COMMIT ) childEv(p.bRollback ? 'R' : 'C', id, 0);
      if( victim ) aLive[iVictim] = aLive[--nLive];
      if( nLive<4096 ) aLive[nLive++] = id;
    }
    if( w->bWal && rngBelow(&r, 6)==0 ){
      static const char *const az[] = {
        "PRAGMA wal_checkpoint(PASSIVE)", "PRAGMA wal_checkpoint(FULL)",
        "PRAGMA wal_checkpoint(RESTART)", "PRAGMA wal_checkpoint(TRUNCATE)"
      };
      childEv('K', 0, 0);
      childExec(db, az[rngBelow(&r, 4)]);
      childEv('k', 0, 0);
    }
  }
}

static char *recCreateSql(const Work *w, const char *zSchema, int bCreate){
  if( w->eKind==W_NPY_APPEND ){
    return sqlite3_mprintf("CREATE VIRTUAL TABLE %s.r USING membase(file='%q'%s%s%s)",
                           zSchema, w->zPath, bCreate ? ", layout='" : "",
                           bCreate ? REC_LAYOUT : "", bCreate ? "', create=1" : "");
  }
  return sqlite3_mprintf("CREATE VIRTUAL TABLE %s.r USING membase(file='%q', "
                         "layout='%s'%s)", zSchema, w->zPath, REC_LAYOUT,
                         bCreate ? ", create=1" : "");
}

static void bindRec(sqlite3_stmt *st, const Rec *v){
  sqlite3_bind_int64(st, 1, v->v);
  sqlite3_bind_int64(st, 2, v->w);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)v->tag);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)v->chk);
}

static long long recHeaderSize(const Work *w);

/* BRK_TORN: half of field v of a record this transaction wrote gets
** other bytes, as a torn 8-byte store would leave it. */
static void childTear(const Work *w, const RecPlan *p, long long n){
  long long iRow = p->nFirst ? p->aRow[0] : p->bMid ? p->iMidRow : n;
  long long off = recHeaderSize(w) + iRow*REC_STRIDE + 8 + 4;
  unsigned char a[4] = { 0xde, 0xad, 0xbe, 0xef };
  int fd = open(w->zPath, O_WRONLY);
  if( fd<0 || pwrite(fd, a, 4, off)!=4 ) childDie(0, "tear");
  close(fd);
}

static void childRec(Work *w, int iter){
  const IterCfg *c = &w->cfg;
  sqlite3 *db = 0;
  char *z;
  long long n, id;
  sqlite3_stmt *stUpd, *stIns, *st;
  (void)iter;

  z = sqlite3_mprintf("file:%s?vfs=%s", w->zMain, c->zMainVfs);
  if( z==0 ) childDie(0, "out of memory");
  if( sqlite3_open_v2(z, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                      |SQLITE_OPEN_URI, 0) ){
    childDie(db, "open");
  }
  sqlite3_free(z);
  z = recCreateSql(w, "temp", 0);
  childExec(db, z);
  sqlite3_free(z);
  st = childPrepare(db, "SELECT count(*) FROM r");
  if( sqlite3_step(st)!=SQLITE_ROW ) childDie(db, "count");
  n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  stUpd = childPrepare(db, "UPDATE r SET v=?1, w=?2, tag=?3, chk=?4 WHERE rowid=?5");
  stIns = childPrepare(db, "INSERT INTO r(v, w, tag, chk, id) VALUES(?1,?2,?3,?4,?5)");

  childReady();
  for(id=w->nextId; ; id++){
    RecPlan p;
    Rec v;
    int i;
    recPlan(w, id, n, &p);
    childEv('B', id, 0);
    childExec(db, "BEGIN");
    for(i=0; i<p.nFirst; i++){
      recValue(w, id, p.aRow[i], 0, p.aRow[i], &v);
      bindRec(stUpd, &v);
      sqlite3_bind_int64(stUpd, 5, p.aRow[i]);
      childStep(db, stUpd);
    }
    if( p.nUpd>p.nFirst ){
      childExec(db, "SAVEPOINT s");
      for(i=p.nFirst; i<p.nUpd; i++){
        recValue(w, id, p.aRow[i], 1, p.aRow[i], &v);
        bindRec(stUpd, &v);
        sqlite3_bind_int64(stUpd, 5, p.aRow[i]);
        childStep(db, stUpd);
      }
      childExec(db, "ROLLBACK TO s; RELEASE s");
    }
    for(i=0; i<p.nApp1+p.nApp2; i++){
      if( i==p.nApp1 && p.bMid ){
        recValue(w, id, p.iMidRow, 2, p.iMidRow, &v);
        bindRec(stUpd, &v);
        sqlite3_bind_int64(stUpd, 5, p.iMidRow);
        childStep(db, stUpd);
        if( g.eBreak==BRK_NO_JOURNAL ) unlink(w->zJrnl);
      }
      recValue(w, id, i, 0, n+i, &v);
      bindRec(stIns, &v);
      sqlite3_bind_int64(stIns, 5, v.id);
      childStep(db, stIns);
      if( g.eBreak==BRK_NO_JOURNAL ) unlink(w->zJrnl);
    }
    if( g.eBreak==BRK_NO_JOURNAL ) unlink(w->zJrnl);
    childEv('P', id, 0);
    if( p.bRollback && g.eBreak!=BRK_FALSE_ROLLBACK ){
      childExec(db, "ROLLBACK");
      childEv('R', id, 0);
    }else{
      if( g.eBreak==BRK_EARLY_COMMIT ) childEv('C', id, 0);
      /* a torn update is in flight until COMMIT ends; appended records
      ** are in the file only after it */
      if( g.eBreak==BRK_TORN && (p.nFirst || p.bMid) ) childTear(w, &p, n);
      childExec(db, "COMMIT");
      if( g.eBreak==BRK_TORN && !p.nFirst && !p.bMid ) childTear(w, &p, n);
      if( g.eBreak!=BRK_EARLY_COMMIT ) childEv(p.bRollback ? 'R' : 'C', id, 0);
      n += p.nApp1 + p.nApp2;
    }
  }
}

/* ------------------------------------------------------------ parent side */

typedef struct Events {
  Ev *a;
  int n;
  char zErr[512];
} Events;

static int evHas(const Events *e, char c){
  int i;
  for(i=0; i<e->n; i++) if( e->a[i].c==c ) return 1;
  return 0;
}

/* Wait for the pipe to be readable (or EOF), at most dt seconds: 1 if it
** is. */
static int pipeWait(int fd, double dt){
  struct pollfd pf = { fd, POLLIN, 0 };
  struct timespec ts;
  int rc;
  if( dt<0 ) dt = 0;
  ts.tv_sec = (time_t)dt;
  ts.tv_nsec = (long)((dt - (double)ts.tv_sec)*1e9);
  do{ rc = ppoll(&pf, 1, &ts, 0); }while( rc<0 && errno==EINTR );
  return rc>0;
}

/* Fork the child, wait for it to be ready, let it run delayUs, SIGKILL it,
** collect its reports. Returns 0, or 1 if the child did not run as it
** should. */
static int runChild(Work *w, int iter, Events *e){
  int fd[2], status = 0, bReady = 0;
  pid_t pid;
  char c;
  double tEnd;
  gLog->n = 0;
  gLog->zErr[0] = 0;
  if( pipe(fd) ){ perror("pipe"); exit(2); }
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if( pid<0 ){ perror("fork"); exit(2); }
  if( pid==0 ){
    close(fd[0]);
    gPipe = fd[1];
    if( w->eKind==W_VFS ) childVfs(w, iter); else childRec(w, iter);
    _exit(5);
  }
  close(fd[1]);
  /* until the child is ready (30 s at most) */
  if( pipeWait(fd[0], 30.0) && read(fd[0], &c, 1)==1 ) bReady = 1;
  if( bReady ){
    /* let it run; the pipe wakes us early only if the child dies */
    tEnd = now() + (double)w->cfg.delayUs*1e-6;
    while( now()<tEnd && !pipeWait(fd[0], tEnd-now()) ){}
  }
  kill(pid, SIGKILL);
  while( waitpid(pid, &status, 0)<0 && errno==EINTR ){}
  close(fd[0]);
  e->n = (int)__atomic_load_n(&gLog->n, __ATOMIC_ACQUIRE);
  e->a = malloc(sizeof(Ev)*(size_t)(e->n ? e->n : 1));
  if( e->a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
  memcpy(e->a, gLog->a, sizeof(Ev)*(size_t)e->n);
  memcpy(e->zErr, gLog->zErr, sizeof(e->zErr));
  e->zErr[sizeof(e->zErr)-1] = 0;
  if( !WIFSIGNALED(status) || WTERMSIG(status)!=SIGKILL ){
    CHECK(0, "the child ended by itself (%s %d) before the kill: %s",
          WIFEXITED(status) ? "exit" : "signal",
          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
          e->zErr[0] ? e->zErr : "no message");
    return 1;
  }
  CHECK(e->zErr[0]==0, "the child reported an SQL error: %s", e->zErr);
  CHECK(bReady && evHas(e, 'S'), "the child never got ready");
  return e->zErr[0]!=0 || !bReady || !evHas(e, 'S');
}

/* Walk the reports: where the kill landed, and the transaction in flight.
** pfnCommit is called for each C, in order. */
typedef struct InFlight { long long id, victim; int bActive; } InFlight;

static void classifyKill(Work *w, const Events *e){
  char c = e->n ? e->a[e->n-1].c : 'S';
  w->nKill++;
  switch( c ){
    case 'B': w->nKillBody++; break;
    case 'P': w->nKillCommit++; break;
    case 'K': w->nKillCkpt++; break;
    default:  w->nKillBetween++; break;
  }
}

/* ------------------------------------------------------------ VFS check */

static void vfsModelGrow(VfsModel *m, long long id){
  if( id>=m->nAlloc ){
    long long nNew = m->nAlloc ? m->nAlloc*2 : 1024;
    unsigned char *a;
    while( nNew<=id ) nNew *= 2;
    a = realloc(m->aState, (size_t)nNew);
    if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    memset(a+m->nAlloc, 0, (size_t)(nNew-m->nAlloc));
    m->aState = a;
    m->nAlloc = nNew;
  }
}

/* What one connection saw. */
typedef struct VfsSeen {
  int bOk;                 /* opened and read */
  long long nCounter, nCounterLive;
  long long *aId;          /* txns ids, ascending */
  long long nId;
  long long nRowsSeen;
} VfsSeen;

static void vfsSeenFree(VfsSeen *s){
  free(s->aId);
  memset(s, 0, sizeof(*s));
}

static sqlite3 *openDb(const char *zPath, const char *zVfs, int bCreate){
  sqlite3 *db = 0;
  char *z = sqlite3_mprintf("file:%s?vfs=%s", zPath, zVfs);
  int rc = sqlite3_open_v2(z, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_URI
                           |(bCreate ? SQLITE_OPEN_CREATE : 0), 0);
  sqlite3_free(z);
  if( rc!=SQLITE_OK ){
    CHECK(0, "cannot open %s with vfs=%s: %s", zPath, zVfs, sqlite3_errmsg(db));
    sqlite3_close(db);
    return 0;
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static int bsearchId(const long long *a, long long n, long long id){
  long long lo = 0, hi = n;
  while( lo<hi ){
    long long mid = (lo+hi)/2;
    if( a[mid]==id ) return 1;
    if( a[mid]<id ) lo = mid+1; else hi = mid;
  }
  return 0;
}

/* Open through zVfs, check integrity and the rows' contents, and collect
** what is there. */
static void vfsRead(Work *w, const char *zVfs, long long mmapSize, VfsSeen *s){
  sqlite3 *db = openDb(w->zPath, zVfs, 0);
  sqlite3_stmt *st = 0;
  char *z;
  int rc, nIc = 0, bIcOk = 0;
  long long nAlloc = 0, curTxn = -1, nextK = 0, nExpect = 0;
  unsigned char *aBuf = 0;
  VfsPlan p;
  memset(s, 0, sizeof(*s));
  if( db==0 ) return;
  z = sqlite3_mprintf("PRAGMA mmap_size=%lld", mmapSize);
  rc = sqlite3_exec(db, z, 0, 0, 0);
  sqlite3_free(z);
  CHECK(rc==SQLITE_OK, "vfs=%s: mmap_size: %s", zVfs, sqlite3_errmsg(db));

  /* integrity_check first: it is the first read, so this connection runs
  ** the recovery (hot journal or WAL) if it opens first */
  rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, 0);
  while( rc==SQLITE_OK && sqlite3_step(st)==SQLITE_ROW ){
    const char *zRow = (const char*)sqlite3_column_text(st, 0);
    if( nIc==0 && zRow && strcmp(zRow, "ok")==0 ) bIcOk = 1;
    else{
      /* the first line says enough */
      int nLine = zRow ? (int)strcspn(zRow, "\n") : 4;
      bIcOk = 0;
      if( nIc<5 ) CHECK(0, "vfs=%s: integrity_check: %.*s", zVfs,
                        nLine<300 ? nLine : 300, zRow ? zRow : "NULL");
    }
    nIc++;
  }
  if( st ) rc = sqlite3_finalize(st);
  st = 0;
  CHECK(rc==SQLITE_OK && bIcOk && nIc==1, "vfs=%s: integrity_check not ok (rc %d: %s)",
        zVfs, rc, sqlite3_errmsg(db));

  rc = sqlite3_prepare_v2(db, "SELECT n, live FROM counter WHERE one=1", -1, &st, 0);
  if( rc==SQLITE_OK && sqlite3_step(st)==SQLITE_ROW ){
    s->nCounter = sqlite3_column_int64(st, 0);
    s->nCounterLive = sqlite3_column_int64(st, 1);
  }else{
    CHECK(0, "vfs=%s: no counter row: %s", zVfs, sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  st = 0;

  rc = sqlite3_prepare_v2(db, "SELECT id, nrows FROM txns ORDER BY id", -1, &st, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(st))==SQLITE_ROW ){
    long long id = sqlite3_column_int64(st, 0);
    int nRows = sqlite3_column_int(st, 1);
    if( s->nId>=nAlloc ){
      long long *a;
      nAlloc = nAlloc ? nAlloc*2 : 256;
      a = realloc(s->aId, sizeof(long long)*(size_t)nAlloc);
      if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
      s->aId = a;
    }
    s->aId[s->nId++] = id;
    vfsPlan(w, id, &p);
    CHECK(nRows==p.nRows, "vfs=%s: txn %lld: txns.nrows %d, the plan has %d",
          zVfs, id, nRows, p.nRows);
    rc = SQLITE_OK;
  }
  CHECK(rc==SQLITE_DONE || rc==SQLITE_OK, "vfs=%s: read txns: %s", zVfs, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  st = 0;

  /* every row: its transaction is listed, its k runs 0..nrows-1, its
  ** length and bytes are the plan's */
  aBuf = malloc(BIG_MAX);
  if( aBuf==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
  rc = sqlite3_prepare_v2(db, "SELECT txn, k, len, payload FROM t ORDER BY txn, k",
                          -1, &st, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(st))==SQLITE_ROW ){
    long long txn = sqlite3_column_int64(st, 0);
    int k = sqlite3_column_int(st, 1);
    int len = sqlite3_column_int(st, 2);
    const unsigned char *pData = sqlite3_column_blob(st, 3);
    int nData = sqlite3_column_bytes(st, 3);
    rc = SQLITE_OK;
    s->nRowsSeen++;
    if( txn!=curTxn ){
      CHECK(curTxn<0 || nextK==nExpect, "vfs=%s: txn %lld has %lld of its %lld rows",
            zVfs, curTxn, nextK, nExpect);
      curTxn = txn;
      nextK = 0;
      vfsPlan(w, txn, &p);
      nExpect = p.nRows;
      CHECK(bsearchId(s->aId, s->nId, txn), "vfs=%s: a row of txn %lld, which "
            "is not in txns (orphan)", zVfs, txn);
    }
    CHECK(k==nextK, "vfs=%s: txn %lld: row k=%d where k=%lld was expected",
          zVfs, txn, k, nextK);
    nextK = k+1;
    if( k>=0 && k<p.nRows ){
      CHECK(len==p.aLen[k] && nData==len, "vfs=%s: txn %lld row %d: length %d "
            "(payload %d), the plan has %d", zVfs, txn, k, len, nData, p.aLen[k]);
      if( nData==p.aLen[k] ){
        vfsPayload(w, txn, k, aBuf, nData);
        CHECK(nData==0 || (pData && memcmp(aBuf, pData, (size_t)nData)==0),
              "vfs=%s: txn %lld row %d: payload bytes differ", zVfs, txn, k);
      }
    }
  }
  CHECK(rc==SQLITE_DONE || rc==SQLITE_OK, "vfs=%s: read t: %s", zVfs, sqlite3_errmsg(db));
  CHECK(curTxn<0 || nextK==nExpect, "vfs=%s: txn %lld has %lld of its %lld rows",
        zVfs, curTxn, nextK, nExpect);
  sqlite3_finalize(st);
  free(aBuf);
  {
    /* every listed transaction has rows (a txn with rows was seen above) */
    sqlite3_stmt *st2 = 0;
    long long nDistinct = -1;
    if( sqlite3_prepare_v2(db, "SELECT count(DISTINCT txn) FROM t", -1, &st2, 0)==SQLITE_OK
     && sqlite3_step(st2)==SQLITE_ROW ){
      nDistinct = sqlite3_column_int64(st2, 0);
    }
    sqlite3_finalize(st2);
    CHECK(nDistinct==s->nId, "vfs=%s: %lld transactions have rows, txns lists %lld",
          zVfs, nDistinct, s->nId);
  }
  rc = sqlite3_close(db);
  CHECK(rc==SQLITE_OK, "vfs=%s: close: %d", zVfs, rc);
  s->bOk = 1;
}

/* Compare what was seen with the model and the in-flight transaction.
** Returns 1 if the in-flight one is present, 0 if absent. */
static int vfsJudge(Work *w, const char *zVfs, const VfsSeen *s, const InFlight *f){
  VfsModel *m = &w->vm;
  long long i, id;
  int bPresent = 0;
  VfsPlan p;
  if( !s->bOk ) return 0;
  if( f->bActive ){
    bPresent = bsearchId(s->aId, s->nId, f->id);
    vfsPlan(w, f->id, &p);
    CHECK(!(bPresent && p.bRollback), "vfs=%s: txn %lld was to roll back, yet "
          "it is there after the kill", zVfs, f->id);
    if( f->victim ){
      int bVictim = bsearchId(s->aId, s->nId, f->victim);
      CHECK(bVictim==!bPresent, "vfs=%s: in-flight txn %lld is %s but its delete "
            "of txn %lld is %s: half a transaction", zVfs, f->id,
            bPresent ? "present" : "absent", f->victim, bVictim ? "not done" : "done");
    }
  }
  /* every live committed transaction is there */
  for(id=1; id<m->nAlloc; id++){
    if( m->aState[id]==T_LIVE && !(f->bActive && bPresent && id==f->victim) ){
      CHECK(bsearchId(s->aId, s->nId, id), "vfs=%s: committed txn %lld is missing",
            zVfs, id);
    }
  }
  /* and nothing else */
  for(i=0; i<s->nId; i++){
    id = s->aId[i];
    if( f->bActive && id==f->id ) continue;
    CHECK(id<m->nAlloc && m->aState[id]==T_LIVE, "vfs=%s: txn %lld is there but "
          "it %s", zVfs, id, id>=m->nAlloc || m->aState[id]==T_NONE ? "never committed"
          : m->aState[id]==T_ROLLEDBACK ? "was rolled back"
          : m->aState[id]==T_DELETED ? "was deleted by a committed txn"
          : "was lost in an earlier kill");
  }
  CHECK(s->nCounter==m->nCommitted + bPresent, "vfs=%s: counter %lld, expected "
        "%lld committed%s", zVfs, s->nCounter, m->nCommitted + bPresent,
        bPresent ? " (in-flight one included)" : "");
  CHECK(s->nCounterLive==s->nId, "vfs=%s: counter.live %lld, txns has %lld",
        zVfs, s->nCounterLive, s->nId);
  return bPresent;
}

static void vfsCheck(Work *w, const Events *e){
  VfsModel *m = &w->vm;
  InFlight f;
  VfsSeen s1, s2;
  const char *zFirst, *zSecond;
  int i, bPresent, bPresent2;
  long long nCommitsNow = 0;
  memset(&f, 0, sizeof(f));
  for(i=0; i<e->n; i++){
    const Ev *v = &e->a[i];
    if( v->c=='B' ){
      CHECK(!f.bActive, "txn %lld began inside txn %lld", v->a, f.id);
      f.id = v->a;
      f.victim = v->b;
      f.bActive = 1;
      vfsModelGrow(m, v->a);
      if( v->a>=w->nextId ) w->nextId = v->a+1;
    }else if( v->c=='C' || v->c=='R' ){
      VfsPlan p;
      CHECK(f.bActive && f.id==v->a, "report %c %lld out of order", v->c, v->a);
      vfsPlan(w, v->a, &p);
      if( v->c=='C' ){
        CHECK(!p.bRollback, "txn %lld committed, planned to roll back", v->a);
        m->aState[v->a] = T_LIVE;
        if( f.victim ){
          CHECK(m->aState[f.victim]==T_LIVE, "txn %lld deleted txn %lld, which "
                "is not live", v->a, f.victim);
          m->aState[f.victim] = T_DELETED;
        }else{
          m->nLive++;
        }
        m->nCommitted++;
        w->nCommitted++;
        nCommitsNow++;
      }else{
        CHECK(p.bRollback, "txn %lld rolled back, planned to commit", v->a);
        m->aState[v->a] = T_ROLLEDBACK;
        w->nRolledBack++;
      }
      f.bActive = 0;
    }
  }
  if( w->bFailed ) return;
  if( w->cfg.bStockFirst ){ zFirst = "unix"; zSecond = w->zVfs; }
  else{ zFirst = w->zVfs; zSecond = "unix"; }
  vfsRead(w, zFirst, strcmp(zFirst, "unix") ? w->cfg.verifyMmap : 0, &s1);
  bPresent = vfsJudge(w, zFirst, &s1, &f);
  vfsRead(w, zSecond, strcmp(zSecond, "unix") ? w->cfg.verifyMmap : 0, &s2);
  bPresent2 = vfsJudge(w, zSecond, &s2, &f);
  if( s1.bOk && s2.bOk ){
    CHECK(bPresent==bPresent2 && s1.nId==s2.nId && s1.nCounter==s2.nCounter
          && s1.nRowsSeen==s2.nRowsSeen
          && (s1.nId==0 || memcmp(s1.aId, s2.aId, sizeof(long long)*(size_t)s1.nId)==0),
          "vfs=%s and vfs=%s see different databases (%lld/%lld txns, %lld/%lld rows)",
          zFirst, zSecond, s1.nId, s2.nId, s1.nRowsSeen, s2.nRowsSeen);
  }
  vfsSeenFree(&s1);
  vfsSeenFree(&s2);
  if( f.bActive ){
    if( bPresent ){
      w->nInPresent++;
      m->aState[f.id] = T_LIVE;
      m->nCommitted++;
      if( f.victim ) m->aState[f.victim] = T_DELETED; else m->nLive++;
    }else{
      w->nInAbsent++;
      m->aState[f.id] = T_LOST;
    }
  }
  nCheckedTxns += nCommitsNow;
}

static int vfsSetup(Work *w){
  sqlite3 *db;
  int rc;
  char *z;
  static const char *const azSuffix[] = { "", "-journal", "-wal", "-shm" };
  int i;
  for(i=0; i<4; i++){
    char zF[1300];
    snprintf(zF, sizeof(zF), "%s%s", w->zPath, azSuffix[i]);
    unlink(zF);
  }
  db = openDb(w->zPath, w->zVfs, 1);
  if( db==0 ) return 1;
  z = sqlite3_mprintf(
    "PRAGMA page_size=%d; PRAGMA auto_vacuum=FULL; PRAGMA journal_mode=%s;"
    "CREATE TABLE t(txn INTEGER, k INTEGER, len INTEGER, payload BLOB);"
    "CREATE INDEX t_txn ON t(txn, k);"
    "CREATE TABLE txns(id INTEGER PRIMARY KEY, nrows INTEGER);"
    "CREATE TABLE counter(one INTEGER PRIMARY KEY, n INTEGER, live INTEGER,"
    " last INTEGER);"
    "INSERT INTO counter VALUES(1, 0, 0, 0);",
    strstr(w->zVfs, "process") ? 1024 : 4096, w->bWal ? "WAL" : "DELETE");
  rc = sqlite3_exec(db, z, 0, 0, 0);
  sqlite3_free(z);
  CHECK(rc==SQLITE_OK, "setup of %s: %s", w->zPath, sqlite3_errmsg(db));
  sqlite3_close(db);
  w->nextId = 1;
  return rc!=SQLITE_OK;
}

/* ------------------------------------------------------------ record check */

static int64_t getI64(const unsigned char *p){
  uint64_t v = 0;
  int k;
  for(k=7; k>=0; k--) v = (v<<8) | p[k];
  return (int64_t)v;
}
static uint32_t getU32(const unsigned char *p){
  return (uint32_t)p[0] | (uint32_t)p[1]<<8 | (uint32_t)p[2]<<16 | (uint32_t)p[3]<<24;
}

/* The byte offset of the first record: 0, or the .npy header's size. */
static long long recHeaderSize(const Work *w){
  unsigned char a[12];
  int fd;
  ssize_t k;
  if( w->eKind!=W_NPY_APPEND ) return 0;
  fd = open(w->zPath, O_RDONLY);
  if( fd<0 ) return -1;
  k = pread(fd, a, sizeof(a), 0);
  close(fd);
  if( k!=(ssize_t)sizeof(a) || memcmp(a, "\x93NUMPY", 6)!=0 ) return -1;
  if( a[6]==1 ) return 10 + (long long)(a[8] | a[9]<<8);
  return 12 + (long long)getU32(a+8);
}

/* Open the table through a main db on zMainVfs and read every record. */
static int recRead(Work *w, const char *zMainVfs, Rec **paOut, long long *pnOut){
  sqlite3 *db = openDb(w->zMain, zMainVfs, 1);
  sqlite3_stmt *st = 0;
  Rec *a = 0;
  long long n = 0, nAlloc = 0;
  int rc;
  char *z;
  *paOut = 0;
  *pnOut = 0;
  if( db==0 ) return 1;
  z = recCreateSql(w, "temp", 0);
  rc = sqlite3_exec(db, z, 0, 0, 0);
  sqlite3_free(z);
  CHECK(rc==SQLITE_OK, "main vfs=%s: the table does not open: %s", zMainVfs,
        sqlite3_errmsg(db));
  if( rc ){ sqlite3_close(db); return 1; }
  rc = sqlite3_prepare_v2(db, "SELECT rowid, id, v, w, tag, chk FROM r ORDER BY rowid",
                          -1, &st, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(st))==SQLITE_ROW ){
    Rec *r;
    if( n>=nAlloc ){
      nAlloc = nAlloc ? nAlloc*2 : 1024;
      r = realloc(a, sizeof(Rec)*(size_t)nAlloc);
      if( r==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
      a = r;
    }
    CHECK(sqlite3_column_int64(st, 0)==n, "main vfs=%s: rowid %lld where %lld was "
          "expected", zMainVfs, (long long)sqlite3_column_int64(st, 0), n);
    r = &a[n++];
    r->id = sqlite3_column_int64(st, 1);
    r->v = sqlite3_column_int64(st, 2);
    r->w = sqlite3_column_int64(st, 3);
    r->tag = (uint32_t)sqlite3_column_int64(st, 4);
    r->chk = (uint32_t)sqlite3_column_int64(st, 5);
    rc = SQLITE_OK;
  }
  CHECK(rc==SQLITE_DONE, "main vfs=%s: reading the table: %s", zMainVfs,
        sqlite3_errmsg(db));
  sqlite3_finalize(st);
  rc = sqlite3_close(db);
  CHECK(rc==SQLITE_OK, "main vfs=%s: close: %d", zMainVfs, rc);
  *paOut = a;
  *pnOut = n;
  return 0;
}

/* The file's bytes agree with what the table returned. */
static void recCheckRaw(Work *w, const Rec *a, long long n){
  long long nHdr = recHeaderSize(w), nSize = fileSize(w->zPath), i;
  unsigned char *aBuf;
  int fd;
  CHECK(nHdr>=0, "%s: unreadable .npy header", w->zPath);
  if( nHdr<0 ) return;
  if( w->eKind==W_NPY_APPEND ){
    CHECK(nSize>=nHdr + n*REC_STRIDE, "%s: %lld bytes, short of the shape's "
          "%lld records", w->zPath, nSize, n);
    if( nSize>nHdr + n*REC_STRIDE ) w->nPastShape++;
  }else{
    CHECK(nSize==n*REC_STRIDE, "%s: %lld bytes after the open, the table has "
          "%lld records (%lld bytes): the interrupted append was not cut off",
          w->zPath, nSize, n, n*REC_STRIDE);
  }
  if( n==0 ) return;
  aBuf = malloc((size_t)(n*REC_STRIDE));
  fd = open(w->zPath, O_RDONLY);
  if( aBuf && fd>=0 && pread(fd, aBuf, (size_t)(n*REC_STRIDE), nHdr)==(ssize_t)(n*REC_STRIDE) ){
    for(i=0; i<n; i++){
      const unsigned char *p = aBuf + i*REC_STRIDE;
      Rec r;
      r.id = getI64(p); r.v = getI64(p+8); r.w = getI64(p+16);
      r.tag = getU32(p+24); r.chk = getU32(p+28);
      if( !recEqual(&r, &a[i]) ){
        CHECK(0, "%s: record %lld: the file's bytes differ from the table's", w->zPath, i);
        break;
      }
    }
  }else{
    CHECK(0, "%s: cannot read %lld records", w->zPath, n);
  }
  if( fd>=0 ) close(fd);
  free(aBuf);
}

/* Each field of the record: old (model) or one of the in-flight values. */
static int fieldsAllowed(const Rec *got, const Rec *old, const Rec *aNew, int nNew,
                         int *pbChanged){
  int k;
  const Rec *cand[4];
  int nCand = 0;
  int bV = 0, bW = 0, bT = 0, bC = 0, bI = got->id==old->id;
  cand[nCand++] = old;
  for(k=0; k<nNew && nCand<4; k++) cand[nCand++] = &aNew[k];
  for(k=0; k<nCand; k++){
    bV |= got->v==cand[k]->v;
    bW |= got->w==cand[k]->w;
    bT |= got->tag==cand[k]->tag;
    bC |= got->chk==cand[k]->chk;
  }
  *pbChanged = !recEqual(got, old);
  return bV && bW && bT && bC && bI;
}

static void recCheck(Work *w, const Events *e){
  RecModel *m = &w->rm;
  InFlight f;
  RecPlan p;
  Rec *a1 = 0, *a2 = 0;
  long long n1 = 0, n2 = 0, i;
  const char *zFirst, *zSecond;
  long long nCommitsNow = 0;
  int bJournal, j;
  long long nSize0;
  memset(&f, 0, sizeof(f));
  memset(&p, 0, sizeof(p));
  for(j=0; j<e->n; j++){
    const Ev *v = &e->a[j];
    if( v->c=='B' ){
      CHECK(!f.bActive, "txn %lld began inside txn %lld", v->a, f.id);
      f.id = v->a;
      f.bActive = 1;
      recPlan(w, v->a, m->n, &p);
      if( v->a>=w->nextId ) w->nextId = v->a+1;
    }else if( v->c=='C' || v->c=='R' ){
      CHECK(f.bActive && f.id==v->a, "report %c %lld out of order", v->c, v->a);
      if( v->c=='C' ){
        Rec r;
        CHECK(!p.bRollback, "txn %lld committed, planned to roll back", v->a);
        for(i=0; i<p.nFirst; i++){
          recValue(w, v->a, p.aRow[i], 0, p.aRow[i], &r);
          m->a[p.aRow[i]] = r;
        }
        if( p.bMid ){
          recValue(w, v->a, p.iMidRow, 2, p.iMidRow, &r);
          m->a[p.iMidRow] = r;
        }
        if( m->n + p.nApp1 + p.nApp2 > m->nAlloc ){
          long long nNew = (m->n + p.nApp1 + p.nApp2)*2;
          Rec *a = realloc(m->a, sizeof(Rec)*(size_t)nNew);
          if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
          m->a = a;
          m->nAlloc = nNew;
        }
        for(i=0; i<p.nApp1+p.nApp2; i++){
          recValue(w, v->a, i, 0, m->n+i, &m->a[m->n+i]);
        }
        m->n += p.nApp1 + p.nApp2;
        w->nCommitted++;
        nCommitsNow++;
      }else{
        CHECK(p.bRollback, "txn %lld rolled back, planned to commit", v->a);
        w->nRolledBack++;
      }
      f.bActive = 0;
    }
  }
  if( w->bFailed ) return;

  /* the files as the kill left them */
  bJournal = fileExists(w->zJrnl);
  nSize0 = fileSize(w->zPath);
  if( bJournal ) w->nJournalSeen++;
  CHECK(w->eKind!=W_NPY_APPEND || !bJournal, "a .npy file got a -mbjournal");
  if( w->eKind==W_REC_APPEND && !bJournal ){
    long long nIn = f.bActive && !p.bRollback ? p.nApp1+p.nApp2 : 0;
    CHECK(nSize0==m->n*REC_STRIDE || (nIn && nSize0==(m->n+nIn)*REC_STRIDE),
          "%s: %lld bytes after the kill and no -mbjournal: neither the %lld "
          "committed records nor those plus the in-flight %lld", w->zPath,
          nSize0, m->n, nIn);
  }

  if( w->cfg.bStockFirst ){ zFirst = "unix"; zSecond = "membase"; }
  else{ zFirst = "membase"; zSecond = "unix"; }
  if( recRead(w, zFirst, &a1, &n1) ) goto done;
  CHECK(!fileExists(w->zJrnl), "%s: the -mbjournal is still there after the "
        "table was opened", w->zPath);
  recCheckRaw(w, a1, n1);
  if( recRead(w, zSecond, &a2, &n2) ) goto done;
  CHECK(n1==n2 && (n1==0 || memcmp(a1, a2, sizeof(Rec)*(size_t)n1)==0),
        "main vfs=%s and vfs=%s see different records (%lld / %lld)",
        zFirst, zSecond, n1, n2);

  /* the count: committed, or committed + the whole in-flight append */
  {
    long long nIn = f.bActive && !p.bRollback ? p.nApp1+p.nApp2 : 0;
    int bAppended = nIn>0 && n1==m->n+nIn;
    CHECK(n1==m->n || bAppended, "%lld records after the kill: %lld committed, "
          "%lld in flight: a partial append or a lost commit", n1, m->n, nIn);
    if( f.bActive && nIn ){
      if( bAppended ) w->nInPresent++; else w->nInAbsent++;
    }
    for(i=m->n; i<n1 && bAppended; i++){
      Rec r;
      recValue(w, f.id, i-m->n, 0, i, &r);
      CHECK(recEqual(&a1[i], &r), "in-flight appended record %lld is not what "
            "was written", i);
      if( !recEqual(&a1[i], &r) ) break;
    }
  }

  /* the records that were there: committed values, or for those the
  ** in-flight transaction updated, old or new field by field */
  {
    int bPartial = 0, bAnyNew = 0, bAllNew = 1;
    long long nCmp = n1<m->n ? n1 : m->n;
    for(i=0; i<nCmp; i++){
      Rec aNew[2];
      int nNew = 0, bChanged = 0, ok;
      if( f.bActive ){
        int k;
        for(k=0; k<p.nUpd; k++){
          if( p.aRow[k]==i ){
            recValue(w, f.id, i, k<p.nFirst ? 0 : 1, i, &aNew[nNew++]);
          }
        }
        if( p.bMid && p.iMidRow==i ) recValue(w, f.id, i, 2, i, &aNew[nNew++]);
      }
      ok = fieldsAllowed(&a1[i], &m->a[i], aNew, nNew, &bChanged);
      if( nNew==0 ){
        CHECK(recEqual(&a1[i], &m->a[i]), "record %lld is not its committed "
              "value, and no transaction in flight touched it%s", i,
              ok ? "" : " (a field is torn)");
      }else{
        CHECK(ok, "record %lld: a field holds neither its old nor its new value "
              "(torn or foreign): got v=%016llx w=%016llx tag=%08x chk=%08x, old "
              "v=%016llx", i, (unsigned long long)a1[i].v,
              (unsigned long long)a1[i].w, a1[i].tag, a1[i].chk,
              (unsigned long long)m->a[i].v);
        if( bChanged ) bAnyNew = 1;
        if( !recEqual(&a1[i], &aNew[0]) ) bAllNew = 0;
      }
      if( !ok ) break;
    }
    if( f.bActive && (p.nUpd || p.bMid) ){
      if( bAnyNew && !bAllNew ) bPartial = 1;
      if( bPartial ) w->nInPartial++;
      if( !p.nApp1 ){
        if( bAnyNew && bAllNew && !p.bRollback && p.nUpd==p.nFirst ) w->nInPresent++;
        else if( !bAnyNew ) w->nInAbsent++;
      }
    }
  }
  /* the model becomes what is there */
  if( !w->bFailed ){
    if( n1>m->nAlloc ){
      Rec *a = realloc(m->a, sizeof(Rec)*(size_t)n1*2);
      if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
      m->a = a;
      m->nAlloc = n1*2;
    }
    if( n1 ) memcpy(m->a, a1, sizeof(Rec)*(size_t)n1);
    m->n = n1;
  }
  nCheckedTxns += nCommitsNow;
done:
  free(a1);
  free(a2);
}

static int recSetup(Work *w){
  sqlite3 *db;
  int rc;
  char *z;
  long long i, n = w->eKind==W_REC_UPDATE ? REC_N_UPDATE : 0;
  unlink(w->zPath);
  unlink(w->zJrnl);
  unlink(w->zMain);
  db = openDb(w->zMain, "unix", 1);
  if( db==0 ) return 1;
  z = recCreateSql(w, "temp", 1);
  rc = sqlite3_exec(db, z, 0, 0, 0);
  sqlite3_free(z);
  CHECK(rc==SQLITE_OK, "setup of %s: %s", w->zPath, sqlite3_errmsg(db));
  w->rm.a = calloc((size_t)(n ? n : 1), sizeof(Rec));
  w->rm.nAlloc = n ? n : 1;
  w->rm.n = n;
  if( rc==SQLITE_OK && n ){
    sqlite3_stmt *st = 0;
    rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    if( rc==SQLITE_OK ){
      rc = sqlite3_prepare_v2(db, "INSERT INTO r(v, w, tag, chk, id) "
                              "VALUES(?1,?2,?3,?4,?5)", -1, &st, 0);
    }
    for(i=0; rc==SQLITE_OK && i<n; i++){
      recValue(w, 0, i, 0, i, &w->rm.a[i]);
      bindRec(st, &w->rm.a[i]);
      sqlite3_bind_int64(st, 5, i);
      rc = sqlite3_step(st)==SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    CHECK(rc==SQLITE_OK, "setup of %s: %s", w->zPath, sqlite3_errmsg(db));
  }
  sqlite3_close(db);
  w->nextId = 1;
  return rc!=SQLITE_OK;
}

/* ------------------------------------------------------------ driver */

static void drawConfig(Work *w, int iter){
  Rng r = { hash3(w->seed, (uint64_t)iter, 3) };
  IterCfg *c = &w->cfg;
  unsigned u = rngBelow(&r, 10), base;
  c->zJournal = u<6 ? "DELETE" : u<8 ? "TRUNCATE" : "PERSIST";
  c->zSync = w->bWal && rngBelow(&r, 2) ? "NORMAL" : "FULL";
  c->mmapSize = rngBelow(&r, 2) ? 256LL*1024*1024 : 0;
  c->cacheSize = rngBelow(&r, 3)==0 ? 20 : 0;
  c->zMainVfs = rngBelow(&r, 2) ? "membase" : "unix";
  /* log-uniform-ish delay: 50 us * 2^(0..11), then up to twice that
  ** (below 50 us the child is still between S and its first B; the long
  ** ones let a child commit dozens of transactions before its kill) */
  base = 50u << rngBelow(&r, 12);
  c->delayUs = base + rngBelow(&r, base);
  /* the self-test needs transactions done before the kill, even when a
  ** sanitizer slows the child down */
  if( g.bSelftest ) c->delayUs = 20000 + rngBelow(&r, 80000);
  c->bStockFirst = iter & 1;
  c->verifyMmap = rngBelow(&r, 2) ? 256LL*1024*1024 : 0;
}

static void runOne(Work *w, int iter){
  Events e;
  double t0 = now();
  memset(&e, 0, sizeof(e));
  gW = w;
  w->iIter = iter;
  drawConfig(w, iter);
  if( runChild(w, iter, &e)==0 ){
    classifyKill(w, &e);
    if( w->eKind==W_VFS ) vfsCheck(w, &e); else recCheck(w, &e);
    if( g.bVerbose ){
      printf("  %s kill %d: after %u us, %d reports, last '%c'%s\n", w->zName,
             iter, w->cfg.delayUs, e.n, e.n ? e.a[e.n-1].c : '-',
             w->bFailed ? " FAILED" : "");
    }
  }
  free(e.a);
  w->tSpent += now() - t0;
  gW = 0;
}

static void usage(const char *zArgv0){
  int i;
  fprintf(stderr, "usage: %s [--seed N] [--iterations N] [--seconds S] "
          "[--workload NAME] [--dir D] [-v] [--selftest]\nworkloads:", zArgv0);
  for(i=0; i<N_WORK; i++) fprintf(stderr, " %s", aWork[i].zName);
  fputc('\n', stderr);
  exit(2);
}

/* Fresh files and model for workload i, in directory zWork. */
static int workStart(int i, const char *zWork){
  Work *w = &aWork[i];
  const char *zExt = w->eKind==W_NPY_APPEND ? "npy" : w->eKind==W_VFS ? "db" : "bin";
  int rc;
  free(w->vm.aState);
  free(w->rm.a);
  memset(&w->seed, 0, sizeof(Work) - offsetof(Work, seed));
  w->seed = hash3(g.seed, (uint64_t)i, 0);
  snprintf(w->zPath, sizeof(w->zPath), "%s/%s.%s", zWork, w->zName, zExt);
  snprintf(w->zJrnl, sizeof(w->zJrnl), "%s/%s.%s-mbjournal", zWork, w->zName, zExt);
  snprintf(w->zMain, sizeof(w->zMain), "%s/%s-main.db", zWork, w->zName);
  gW = w;
  rc = w->eKind==W_VFS ? vfsSetup(w) : recSetup(w);
  gW = 0;
  if( rc ) fprintf(stderr, "setup of %s failed\n", w->zName);
  return rc;
}

static void workRemove(Work *w){
  static const char *const azSuffix[] = { "", "-journal", "-wal", "-shm", "-mbjournal" };
  int k;
  for(k=0; k<5; k++){
    char zF[1400];
    snprintf(zF, sizeof(zF), "%s%s", w->zPath, azSuffix[k]);
    unlink(zF);
    snprintf(zF, sizeof(zF), "%s%s", w->zMain, azSuffix[k]);
    unlink(zF);
  }
}

/* The journal states a kill can leave, made by hand: each must be handled
** by the next open of the table. A writer dies between creating the
** -mbjournal and writing it (empty: nothing grew yet), after writing it
** (the file may have grown: cut back to the recorded length), or in the
** middle of writing it (short: nothing grew yet). */
static void recJournalChecks(const char *zWork){
  static const struct { const char *zCase; int nJrnl; int nGrow; } aCase[] = {
    { "empty -mbjournal",            0, 0 },
    { "short -mbjournal",           11, 0 },
    { "-mbjournal, file not grown", 24, 0 },
    { "-mbjournal, file grown",     24, 5 },
  };
  Work *w = &aWork[5];   /* records_append's names, in a directory of its own */
  char zDir[1200];
  int i;
  snprintf(zDir, sizeof(zDir), "%s/journal", zWork);
  mkdir(zDir, 0777);
  for(i=0; i<(int)(sizeof(aCase)/sizeof(aCase[0])); i++){
    unsigned char a[24], aRec[REC_STRIDE*5];
    uint64_t n = 3*REC_STRIDE;
    Rec *aGot = 0;
    long long nGot = 0;
    int k, fd;
    if( workStart(5, zDir) ) exit(2);
    gW = w;
    w->iIter = -1;
    /* three committed records */
    fd = open(w->zPath, O_WRONLY);
    memset(aRec, 0, sizeof(aRec));
    for(k=0; k<3; k++) aRec[k*REC_STRIDE] = (unsigned char)k;
    CHECK(fd>=0 && pwrite(fd, aRec, (size_t)n, 0)==(ssize_t)n, "%s: write", aCase[i].zCase);
    /* the journal, then the growth it covers */
    memcpy(a, "MBJRNL01", 8);
    for(k=0; k<8; k++){
      a[8+k] = (unsigned char)(n>>(8*k));
      a[16+k] = (unsigned char)((n ^ 0x5a5a5a5a5a5a5a5aULL)>>(8*k));
    }
    {
      int fj = open(w->zJrnl, O_WRONLY|O_CREAT|O_TRUNC, 0644);
      CHECK(fj>=0 && pwrite(fj, a, (size_t)aCase[i].nJrnl, 0)==aCase[i].nJrnl,
            "%s: write the journal", aCase[i].zCase);
      if( fj>=0 ) close(fj);
    }
    if( aCase[i].nGrow ){
      memset(aRec, 0x77, sizeof(aRec));
      CHECK(pwrite(fd, aRec, (size_t)aCase[i].nGrow*REC_STRIDE, (off_t)n)
            ==(ssize_t)aCase[i].nGrow*REC_STRIDE, "%s: grow", aCase[i].zCase);
    }
    if( fd>=0 ) close(fd);
    if( recRead(w, i%2 ? "unix" : "membase", &aGot, &nGot)==0 ){
      CHECK(nGot==3, "%s: %lld records after the open, 3 were committed",
            aCase[i].zCase, nGot);
      CHECK(!fileExists(w->zJrnl), "%s: the -mbjournal (%lld bytes) is still "
            "there after the table was opened", aCase[i].zCase, fileSize(w->zJrnl));
      CHECK(fileSize(w->zPath)==(long long)n, "%s: the file has %lld bytes, "
            "%llu committed", aCase[i].zCase, fileSize(w->zPath), (unsigned long long)n);
    }
    free(aGot);
    workRemove(w);
    gW = 0;
  }
  rmdir(zDir);
  w->bFailed = 0;
}

/* Does break mode b apply to workload w: can a kill -9 expose it? An
** update of a record file is in the page cache as soon as it is made, so
** reporting its COMMIT early cannot be seen after a kill; .npy appends
** have no -mbjournal to lose; the VFS has no field to tear. */
static int breakApplies(int b, const Work *w){
  switch( b ){
    case BRK_EARLY_COMMIT:   return w->eKind!=W_REC_UPDATE;
    case BRK_FALSE_ROLLBACK: return 1;
    case BRK_NO_JOURNAL:     return w->eKind==W_VFS || w->eKind==W_REC_APPEND;
    case BRK_TORN:           return w->eKind!=W_VFS;
  }
  return 0;
}

/* --selftest: every break mode on every workload it applies to must be
** caught within 100 kills (a few, as a rule). */
static int selftest(const char *zWork){
  int b, i, nMissed = 0, nCase = 0;
  g.bSelftest = 1;
  for(b=BRK_NONE+1; b<BRK_N; b++){
    for(i=0; i<N_WORK; i++){
      Work *w = &aWork[i];
      int iter;
      if( !breakApplies(b, w) ) continue;
      if( g.zWorkload && strcmp(g.zWorkload, w->zName) ) continue;
      if( workStart(i, zWork) ) return 2;
      g.eBreak = b;
      printf("  %-15s %-21s\n", azBreak[b], w->zName);
      fflush(stdout);
      for(iter=0; iter<100 && !w->bFailed; iter++) runOne(w, iter);
      g.eBreak = BRK_NONE;
      nCase++;
      if( !w->bFailed ){
        nMissed++;
        printf("    NOT CAUGHT in %d kills\n", iter);
      }
      workRemove(w);
    }
  }
  printf("mb_crash --selftest: %d of %d broken children caught (--seed %llu)\n",
         nCase-nMissed, nCase, (unsigned long long)g.seed);
  return nMissed ? 1 : 0;
}

static void report(const char *zMetric, long long v){
  const char *zDir = getenv("MB_REPORT_DIR");
  char zPath[2048];
  FILE *f;
  if( zDir==0 || zDir[0]==0 ) return;
  snprintf(zPath, sizeof(zPath), "%s/crash.tsv", zDir);
  f = fopen(zPath, "a");
  if( f==0 ){ fprintf(stderr, "cannot write %s\n", zPath); return; }
  fprintf(f, "%s\t%lld\n", zMetric, v);
  fclose(f);
}

int main(int argc, char **argv){
  int i, iter, bSeed = 0, bSelftest = 0;
  double t0 = now(), tEnd;
  const char *zTmp;
  char zWork[1100];
  int bTimeUp = 0;

  g.nIter = 50;
  g.secs = 90.0;
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    if( z[0]=='-' && z[1]=='-' ) z++;
    if( strcmp(z, "-v")==0 ){ g.bVerbose = 1; continue; }
    if( strcmp(z, "-selftest")==0 ){ bSelftest = 1; continue; }
    if( i+1>=argc ) usage(argv[0]);
    if( strcmp(z, "-seed")==0 ){ g.seed = strtoull(argv[++i], 0, 0); bSeed = 1; }
    else if( strcmp(z, "-iterations")==0 ){ g.nIter = atoi(argv[++i]); }
    else if( strcmp(z, "-seconds")==0 ){ g.secs = atof(argv[++i]); }
    else if( strcmp(z, "-workload")==0 ){ g.zWorkload = argv[++i]; }
    else if( strcmp(z, "-dir")==0 ){ snprintf(g.zDir, sizeof(g.zDir), "%s", argv[++i]); }
    else usage(argv[0]);
  }
  if( !bSeed ){
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g.seed = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec<<20) ^ (uint64_t)getpid());
    g.seed &= 0xffffffffffffULL;   /* short enough to type */
  }
  if( g.zWorkload ){
    for(i=0; i<N_WORK && strcmp(aWork[i].zName, g.zWorkload); i++){}
    if( i==N_WORK ) usage(argv[0]);
  }
  if( g.zDir[0]==0 ){
    zTmp = getenv("MB_TEST_TMPDIR");
    snprintf(g.zDir, sizeof(g.zDir), "%s", zTmp && zTmp[0] ? zTmp : "/tmp");
  }
  if( snprintf(zWork, sizeof(zWork), "%s/mb_crash.%d", g.zDir,
               (int)getpid())>=(int)sizeof(zWork) ){
    fprintf(stderr, "--dir is too long\n");
    return 2;
  }
  mkdir(g.zDir, 0777);
  if( mkdir(zWork, 0777) && errno!=EEXIST ){
    fprintf(stderr, "cannot create %s: %s\n", zWork, strerror(errno));
    return 2;
  }
  gLog = mmap(0, SHLOG_BYTES, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
  if( gLog==MAP_FAILED ){ perror("mmap"); return 2; }
  gLog->nMax = (uint32_t)((SHLOG_BYTES - sizeof(ShLog)) / sizeof(Ev));
  /* delays of tens of microseconds: no timer slack */
  (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  if( membase_register()!=SQLITE_OK ){
    fprintf(stderr, "membase_register failed\n");
    return 2;
  }

  if( bSelftest ){
    int rc;
    printf("mb_crash --selftest: --seed %llu, in %s\n",
           (unsigned long long)g.seed, zWork);
    rc = selftest(zWork);
    for(i=0; i<N_WORK; i++){ free(aWork[i].vm.aState); free(aWork[i].rm.a); }
    rmdir(zWork);
    munmap(gLog, SHLOG_BYTES);
    return rc;
  }

  printf("mb_crash: --seed %llu --iterations %d --seconds %g%s%s, in %s\n",
         (unsigned long long)g.seed, g.nIter, g.secs,
         g.zWorkload ? " --workload " : "", g.zWorkload ? g.zWorkload : "", zWork);
  recJournalChecks(zWork);
  for(i=0; i<N_WORK; i++){
    if( g.zWorkload && strcmp(g.zWorkload, aWork[i].zName) ){
      aWork[i].bFailed = -1;
      continue;
    }
    if( workStart(i, zWork) ) return 2;
  }

  /* round robin, so that a time bound cuts every workload evenly */
  tEnd = t0 + g.secs;
  for(iter=0; iter<g.nIter && !bTimeUp; iter++){
    for(i=0; i<N_WORK; i++){
      Work *w = &aWork[i];
      if( w->bFailed ) continue;
      if( now()>=tEnd ){ bTimeUp = 1; break; }
      runOne(w, iter);
    }
  }

  {
    int nKills = 0;
    for(i=0; i<N_WORK; i++){
      Work *w = &aWork[i];
      char zMetric[100];
      if( w->bFailed<0 ) continue;
      printf("%-21s %4d kills: mid-txn %d (body %d, commit/rollback %d), "
             "checkpoint %d, between %d | committed %lld, rolled back %lld | "
             "in flight: present %d, absent %d",
             w->zName, w->nKill, w->nKillBody+w->nKillCommit, w->nKillBody,
             w->nKillCommit, w->nKillCkpt, w->nKillBetween, w->nCommitted,
             w->nRolledBack, w->nInPresent, w->nInAbsent);
      if( w->eKind!=W_VFS ){
        printf(", partial %d | -mbjournal seen %d", w->nInPartial, w->nJournalSeen);
        if( w->eKind==W_NPY_APPEND ) printf(", past shape %d", w->nPastShape);
      }
      printf(" | %.1f s%s\n", w->tSpent, w->bFailed ? " FAILED" : "");
      snprintf(zMetric, sizeof(zMetric), "kills.%s", w->zName);
      report(zMetric, w->nKill);
      nKills += w->nKill;
    }
    printf("mb_crash: %d kills, %lld committed transactions checked, %d failures, "
           "%.1f s%s (--seed %llu)\n", nKills, nCheckedTxns, nFail, now()-t0,
           bTimeUp ? " (time bound reached)" : "", (unsigned long long)g.seed);
    report("checked_txns", nCheckedTxns);
    report("failures", nFail);
  }
  for(i=0; i<N_WORK; i++){
    Work *w = &aWork[i];
    if( w->bFailed<0 ) continue;
    /* leave the files of a failure for a look */
    if( nFail==0 ) workRemove(w);
    free(w->vm.aState);
    free(w->rm.a);
  }
  if( nFail==0 ) rmdir(zWork);
  else printf("mb_crash: files kept in %s\n", zWork);
  munmap(gLog, SHLOG_BYTES);
  return nFail ? 1 : 0;
}
