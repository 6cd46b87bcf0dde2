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
**   X c n      a precise kill is about to land: call c (fsync, ftruncate,
**              pwrite, msync, fdatasync) on file kind (record file,
**              -mbjournal, their directory), the nth watched call
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
**     (some 200-2200), some UPDATE an older record in the middle.
**   npy_append       the same on a .npy file.
**     After each kill (the contract of docs/TRANSACTIONS.md): with no
**     -mbjournal, or one that is not armed, the file already holds a whole
**     state (nothing reaches the file before COMMIT arms the journal); the
**     table opens without error through a main database on stock "unix" and
**     on "membase" (alternating order), the -mbjournal is gone after that
**     open, the file is cut back to whole committed records (a .npy file
**     too: no records past the shape); the records are exactly the
**     committed ones, or those plus the whole in-flight transaction (its
**     updates and its appends: values are 64-bit hashes, so a torn field
**     matches neither); the file's raw bytes agree with what the table
**     returns.
**   records_transfer a raw file of 'id i64, bal i64, seq i64, pad i64'
**   npy_transfer     the same as a .npy file (v1.0 header written by the
**     harness, dtype [('id','<i8'),('bal','<i8'),('seq','<i8'),('pad','<i8')]),
**     4096 records at the start, each in a directory of its own. Each
**     transaction moves amounts between 4-64 random pairs of records (bal
**     -= a on one, += a on the other), one in eight also adds -a, +a, ...
**     to 1000-4000 consecutive records (one UPDATE: kills land inside
**     COMMIT's apply and flush), one in four appends 1-20 records (rarely
**     200-2000) with bal 0, half of those funding the first from an older
**     record; some do moves inside a SAVEPOINT (and an INSERT) that is
**     rolled back to; one in ten rolls back. Record 0 and every record
**     touched get seq = the txn id and a pad hashed from (txn, record), so
**     SUM(bal) over the file never changes. After each kill: before any
**     open, with no -mbjournal or one not armed, the file is exactly the
**     committed state or (no journal) that plus the whole in-flight txn;
**     then (sometimes after recoverers, below) the table opens, the
**     -mbjournal is gone, the file is header + whole records, the table
**     returns the file's records and count(*) and sum(bal) agree with them;
**     SUM(bal) is the invariant; the count is the committed one or that
**     plus the in-flight appends; record 0's seq is at least the last
**     acknowledged txn; the file's full contents equal exactly the state
**     before or after the in-flight txn (before only, if it was to roll
**     back); a second connection through the other VFS reads the same.
**     Kills: half are timed, as above; half are precise (with
**     mb_faultpreload loaded, below): the child arms the preload to raise
**     SIGKILL at its Nth (random) fsync/fdatasync/msync/pwrite/ftruncate,
**     or the Nth of one of those kinds, on the file, its -mbjournal and
**     their directory (or the -mbjournal only), landing inside the journal
**     write, the arm, the apply, the flush and the journal delete (a timed
**     kill after 0.4 s if the Nth call never comes). After a kill that left
**     a journal, half the time 1-3 recoverer children open the table (which
**     runs the recovery) armed to die at their Nth watched call, before the
**     clean open checks. The summary counts the precise kills by call and
**     file, and the kills during COMMIT by the state they left (no journal
**     and the old or the new state, an unarmed journal, an armed one with
**     the file untouched, half-applied or applied, a v1 journal).
**
** Before the kills, each journal state a dead writer can leave is made by
** hand and must be handled by the next open of the table: version 1
** (empty, short, complete with and without growth: cut back to the
** recorded length), version 2 not armed (any content; 40 bytes): deleted
** with the file as it was; version 2 armed over a half-applied commit: the
** original bytes and length come back.
**
** Precise kills: mb_crash re-executes itself with tests/faults'
** mb_faultpreload.so in LD_PRELOAD (its path from the build, or
** --preload PATH; --no-preload: timed kills only), as test_faults_preload
** does, and finds mb_fault_arm with dlsym.
**
** Options: --seed N (default: from the clock; printed), --iterations N
** (kills per workload, default 50), --seconds S (time bound for the whole
** run, default 90: stops early and still reports), --workload NAME, --dir D
** (default $MB_TEST_TMPDIR or /tmp), -v (a line per kill), --keep-going
** (a workload goes on after a failed check, from the state it found, and
** the summary counts the kills with a violation; at most 12 messages per
** workload), --preload PATH, --no-preload, --selftest (children that
** break a promise on purpose: report COMMIT before it ran, commit a
** planned rollback, write half a transaction into the file with no
** journal (pwrite, then die before COMMIT; the VFS: journal_mode=OFF),
** tear a field; every one must be caught; with the preload, a child
** armed through MB_FAULT_ARM must die at its 2nd fsync). A seed fixes the
** plans, the configurations, the delays and the precise kills' call
** numbers; where exactly a timed kill lands still depends on timing.
**
** Quick setting (ctest crash.mb_crash): --iterations 60 --seconds 90,
** 540 kills: about 35 s in a release build (the two transfers ~15 s of
** it; +6 s for crash.mb_crash_selftest).
** Long setting (tests/scripts/hardening.sh --long; 1000 kills of every
** workload, 9000 in all, ~15 minutes in a release build; the time bound
** is only a safety net, and a run it cuts short says so):
**   build-hard/tests/crash/mb_crash --iterations 1000 --seconds 2400
**
** With MB_REPORT_DIR set, appends to $MB_REPORT_DIR/crash.tsv:
** kills.<workload>, checked_txns, failures (metric<TAB>value).
** Exit status: 0 all checks passed, 1 a check failed, 2 a setup error.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
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
#include "../faults/mb_fault.h"

/* ------------------------------------------------------------ settings */

#define LIVE_MAX     40        /* live transactions above which each txn deletes one */
#define MAX_ROWS     8         /* rows per VFS transaction */
#define BIG_MAX      (128*1024)
#define REC_N_UPDATE 512       /* records of the update workload */
#define REC_STRIDE   32
#define REC_LAYOUT   "id i64, v i64, w i64, tag u32, chk u32"
#define MAX_UPD      32
#define TR_N0        4096      /* records of a transfer file at the start */
#define TR_STRIDE    32
#define TR_LAYOUT    "id i64, bal i64, seq i64, pad i64"
#define TR_NPY_HDR   192       /* the .npy header the harness writes (v1.0) */
#define TR_MAX_N     65536     /* no appends past this: checks stay quick */
#define TR_MAX_PAIRS 64
#define TR_MAX_SAVE  8

typedef struct Opts {
  uint64_t seed;
  int nIter;
  double secs;
  const char *zWorkload;
  char zDir[1024];
  int bVerbose;
  int eBreak;              /* --selftest: the child misbehaves this way */
  int bSelftest;
  int bKeepGoing;          /* --keep-going: count violations, do not stop */
  int bPreload;            /* mb_faultpreload is loaded: precise kills */
  const char *zPreload;    /* its path (--preload, or the build's) */
} Opts;
static Opts g;

/* Self-test (--selftest): the child breaks a promise on purpose, and the
** checks must catch it. Each check can fail; this shows it does. */
enum {
  BRK_NONE = 0,
  BRK_EARLY_COMMIT,    /* report C before COMMIT has run */
  BRK_FALSE_ROLLBACK,  /* COMMIT a planned rollback, report R */
  BRK_NO_JOURNAL,      /* VFS: journal_mode=OFF; records: half of the
                       ** transaction's bytes reach the file with no journal
                       ** (pwrite before COMMIT), then the child dies */
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

enum { W_VFS, W_REC_UPDATE, W_REC_APPEND, W_NPY_APPEND, W_REC_TRANSFER, W_NPY_TRANSFER };
#define IS_TRANSFER(w) ((w)->eKind==W_REC_TRANSFER || (w)->eKind==W_NPY_TRANSFER)
#define IS_NPY(w)      ((w)->eKind==W_NPY_APPEND || (w)->eKind==W_NPY_TRANSFER)

/* How one child runs: drawn per iteration from the workload seed. */
typedef struct IterCfg {
  const char *zJournal;    /* rollback workloads: DELETE, TRUNCATE, PERSIST */
  const char *zSync;       /* FULL, or NORMAL (WAL) */
  long long mmapSize;      /* child's mmap_size */
  int cacheSize;           /* 0: default; else PRAGMA cache_size */
  const char *zMainVfs;    /* record workloads: the main db's VFS */
  unsigned delayUs;        /* kill this long after S */
  int bPrecise;            /* transfers: killed by mb_faultpreload instead */
  unsigned killMask;       /*   the watched calls (MBF_* of mb_fault.h) */
  int bKillJrnl;           /*   only the -mbjournal, else the file, its
                           **   journal and their directory */
  long killNth;            /*   the watched call that kills */
  int nRecover;            /* recoverer children to run after the kill */
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

/* One record of the transfer workloads: the file's bytes (4 x i64 LE). */
typedef struct TRec { int64_t id, bal, seq, pad; } TRec;
typedef struct TrModel {
  TRec *a;
  long long n, nAlloc;
  int64_t sum;             /* the invariant: SUM(bal) */
} TrModel;

/* Where a transfer kill landed inside COMMIT, from the files it left
** (before any open): see trPhase. */
enum { PH_NOJ_BEFORE, PH_NOJ_AFTER, PH_UNARMED, PH_DISARMED, PH_ARMED_BEFORE,
       PH_MID_APPLY, PH_APPLIED, PH_V1, PH_BAD, PH_N };
static const char *const azPhase[] = {
  "no journal/old", "no journal/new", "journal unarmed/old",
  "journal disarmed/new", "armed/untouched", "armed/mid-apply",
  "armed/applied", "v1 journal", "VIOLATION"
};
/* The calls a precise kill can land on (childOnKill's order). */
static const char *const azCallName[] = {
  "fsync", "ftruncate", "pwrite", "msync", "fdatasync", "write", "other"
};

typedef struct Work {
  const char *zName;
  int eKind;
  const char *zVfs;        /* VFS workloads */
  int bWal;
  uint64_t seed;
  char zPath[1200];        /* database or record file */
  char zJrnl[1300];        /* the record file's -mbjournal */
  char zMain[1200];        /* record workloads: main db of child / verifier */
  char zSub[1200];         /* transfers: the directory of the file */
  long long nextId;
  VfsModel vm;
  RecModel rm;
  TrModel tm;
  IterCfg cfg;
  int iIter;
  int bFailed;
  /* statistics */
  int nKill, nKillBody, nKillCommit, nKillBetween, nKillCkpt;
  int nInPresent, nInAbsent, nInPartial, nJournalSeen, nPastShape;
  long long nCommitted, nRolledBack;
  double tSpent;
  /* transfers */
  int nPrecise, nPreciseMissed, nRecoverRun, nRecoverKilled, nViol, nMsg;
  int aKillAt[8][4];       /* precise kills: call (azCall) x file (azKind) */
  int aPhase[PH_N];        /* kills during COMMIT, by the state left */
} Work;

static Work aWork[] = {
  { .zName="vfs_rollback_shared",  .eKind=W_VFS, .zVfs="membase",         .bWal=0 },
  { .zName="vfs_rollback_process", .eKind=W_VFS, .zVfs="membase-process", .bWal=0 },
  { .zName="vfs_wal_shared",       .eKind=W_VFS, .zVfs="membase",         .bWal=1 },
  { .zName="vfs_wal_process",      .eKind=W_VFS, .zVfs="membase-process", .bWal=1 },
  { .zName="records_update",       .eKind=W_REC_UPDATE },
  { .zName="records_append",       .eKind=W_REC_APPEND },
  { .zName="npy_append",           .eKind=W_NPY_APPEND },
  { .zName="records_transfer",     .eKind=W_REC_TRANSFER },
  { .zName="npy_transfer",         .eKind=W_NPY_TRANSFER },
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
  if( g.bKeepGoing && gW && ++gW->nMsg>12 ){
    if( gW->nMsg==13 ) fprintf(out, "  (%s: further failure messages not shown)\n", gW->zName);
    return;
  }
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
  snprintf(gLog->zErr, sizeof(gLog->zErr), "%s: %s (extended code %d, errno %d)",
           zWhat, db ? sqlite3_errmsg(db) : "?", db ? sqlite3_extended_errcode(db) : -1,
           db ? sqlite3_system_errno(db) : errno);
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

/* BRK_NO_JOURNAL on a record workload: half of the transaction's records
** (its first updates, or its first appended records) are written straight
** into the file with no journal, and the child dies before COMMIT. */
static void childRecHalfApply(const Work *w, long long id, const RecPlan *p, long long n){
  long long nHdr = recHeaderSize(w);
  int fd = open(w->zPath, O_WRONLY), i, k;
  int nUpd = (p->nFirst+1)/2, nApp = (p->nApp1+p->nApp2+1)/2;
  if( fd<0 || nHdr<0 ) childDie(0, "half-apply: open");
  for(i=0; i<nUpd+nApp; i++){
    unsigned char a[REC_STRIDE];
    long long row = i<nUpd ? p->aRow[i] : n + (i-nUpd);
    Rec v;
    if( i<nUpd ) recValue(w, id, row, 0, row, &v);
    else recValue(w, id, i-nUpd, 0, row, &v);
    for(k=0; k<8; k++){
      a[k] = (unsigned char)((uint64_t)v.id>>(8*k));
      a[8+k] = (unsigned char)((uint64_t)v.v>>(8*k));
      a[16+k] = (unsigned char)((uint64_t)v.w>>(8*k));
    }
    for(k=0; k<4; k++){
      a[24+k] = (unsigned char)(v.tag>>(8*k));
      a[28+k] = (unsigned char)(v.chk>>(8*k));
    }
    if( pwrite(fd, a, REC_STRIDE, nHdr + row*REC_STRIDE)!=REC_STRIDE ){
      childDie(0, "half-apply: pwrite");
    }
  }
  raise(SIGKILL);
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
      }
      recValue(w, id, i, 0, n+i, &v);
      bindRec(stIns, &v);
      sqlite3_bind_int64(stIns, 5, v.id);
      childStep(db, stIns);
    }
    if( g.eBreak==BRK_NO_JOURNAL ) childRecHalfApply(w, id, &p, n);
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

/* ------------------------------------------------------------ transfers */

/* A transfer transaction (records_transfer, npy_transfer). Every step keeps
** SUM(bal) over the file: nPair moves of aAmt from aFrom to aTo; a big one
** (nRange > 0) adds -amt, +amt, -amt, ... to nRange consecutive records
** from iLo (nRange even); nApp appended records with bal 0, the first one
** funded from iFundFrom when bFunded; nSave moves inside a SAVEPOINT that
** is rolled back to (and an INSERT there when nSave is odd). Record 0 and
** every record touched gets seq = the txn id and a pad that is a hash of
** (txn, record), so the file's bytes tell which transaction wrote what. */
typedef struct TrPlan {
  int nPair;
  long long aFrom[TR_MAX_PAIRS], aTo[TR_MAX_PAIRS];
  int64_t aAmt[TR_MAX_PAIRS];
  long long iLo, nRange;
  int64_t rangeAmt;
  int nApp, bFunded;
  long long iFundFrom;
  int64_t fundAmt;
  int nSave;
  long long aSave[TR_MAX_SAVE];
  int bRollback;
} TrPlan;

static long long rngRow(Rng *r, long long n){
  return n>0 ? (long long)(rngNext(r) % (uint64_t)n) : 0;
}

static void trPlan(const Work *w, long long id, long long n, TrPlan *p){
  Rng r = { hash3(w->seed, (uint64_t)id, 5) };
  int i;
  memset(p, 0, sizeof(*p));
  p->nPair = 4 + (int)rngBelow(&r, 61);
  for(i=0; i<p->nPair; i++){
    p->aFrom[i] = rngRow(&r, n);
    p->aTo[i] = rngRow(&r, n-1);
    if( p->aTo[i]>=p->aFrom[i] ) p->aTo[i]++;
    p->aAmt[i] = 1 + (int64_t)rngBelow(&r, 1000);
  }
  if( rngBelow(&r, 8)==0 ){
    /* thousands of records: the kill lands inside COMMIT's apply/flush */
    p->nRange = 2*(500 + (long long)rngBelow(&r, 1500));
    if( p->nRange>n ) p->nRange = n & ~1LL;
    p->iLo = rngRow(&r, n - p->nRange + 1);
    p->rangeAmt = 1 + (int64_t)rngBelow(&r, 100);
  }
  if( rngBelow(&r, 4)==0 && n<TR_MAX_N ){
    p->nApp = 1 + (int)rngBelow(&r, 20);
    if( rngBelow(&r, 32)==0 ) p->nApp = 200 + (int)rngBelow(&r, 1800);
    p->bFunded = (int)rngBelow(&r, 2);
    p->iFundFrom = rngRow(&r, n);
    p->fundAmt = 1 + (int64_t)rngBelow(&r, 1000);
  }
  if( rngBelow(&r, 8)==0 ){
    p->nSave = 1 + (int)rngBelow(&r, TR_MAX_SAVE);
    for(i=0; i<p->nSave; i++) p->aSave[i] = rngRow(&r, n);
  }
  p->bRollback = rngBelow(&r, 10)==0;
}

static int64_t trPad(const Work *w, long long txn, long long row){
  return (int64_t)hash3(w->seed ^ 0x7adULL, (uint64_t)txn, (uint64_t)row);
}

static void trInitRec(const Work *w, long long i, TRec *r){
  uint64_t h = hash3(w->seed ^ 0x1417ULL, (uint64_t)i, 0);
  r->id = i;
  r->bal = 1000 + (int64_t)(h % 1000000);
  r->seq = 0;
  r->pad = (int64_t)mix64(h);
}

static void trModelReserve(TrModel *m, long long n){
  if( n>m->nAlloc ){
    long long nNew = n*2 > 1024 ? n*2 : 1024;
    TRec *a = realloc(m->a, sizeof(TRec)*(size_t)nNew);
    if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    m->a = a;
    m->nAlloc = nNew;
  }
}

/* Apply transaction id (plan p, made for m->n records) to the model. */
static void trApply(const Work *w, long long id, const TrPlan *p, TrModel *m){
  long long n = m->n, k;
  int i;
  TRec *a;
  trModelReserve(m, n + p->nApp);
  a = m->a;
  a[0].seq = id;
  a[0].pad = trPad(w, id, 0);
  for(i=0; i<p->nPair; i++){
    long long f = p->aFrom[i], t = p->aTo[i];
    a[f].bal -= p->aAmt[i]; a[f].seq = id; a[f].pad = trPad(w, id, f);
    a[t].bal += p->aAmt[i]; a[t].seq = id; a[t].pad = trPad(w, id, t);
  }
  for(k=0; k<p->nRange; k++){
    TRec *r = &a[p->iLo+k];
    r->bal += (k & 1) ? p->rangeAmt : -p->rangeAmt;
    r->seq = id;
    r->pad = trPad(w, id, -1);
  }
  for(i=0; i<p->nApp; i++){
    TRec *r = &a[n+i];
    r->id = n+i; r->bal = 0; r->seq = id; r->pad = trPad(w, id, n+i);
  }
  if( p->nApp && p->bFunded ){
    long long f = p->iFundFrom;
    a[n].bal += p->fundAmt;
    a[f].bal -= p->fundAmt; a[f].seq = id; a[f].pad = trPad(w, id, f);
  }
  m->n = n + p->nApp;
}

/* The byte offset of record 0 in a transfer file. */
static long long trHeaderSize(const Work *w){
  return w->eKind==W_NPY_TRANSFER ? TR_NPY_HDR : 0;
}

/* A v1.0 .npy header of TR_NPY_HDR bytes for nRows records. */
static void trNpyHeader(unsigned char *a, long long nRows){
  char z[TR_NPY_HDR];
  int n = snprintf(z, sizeof(z), "{'descr': [('id', '<i8'), ('bal', '<i8'), "
                   "('seq', '<i8'), ('pad', '<i8')], 'fortran_order': False, "
                   "'shape': (%lld,), }", nRows);
  unsigned hlen = TR_NPY_HDR - 10;
  memcpy(a, "\x93NUMPY\x01\x00", 8);
  a[8] = (unsigned char)(hlen & 0xff);
  a[9] = (unsigned char)(hlen >> 8);
  memset(a+10, ' ', hlen);
  memcpy(a+10, z, (size_t)n);
  a[TR_NPY_HDR-1] = '\n';
}

static char *trCreateSql(const Work *w){
  if( w->eKind==W_NPY_TRANSFER ){
    return sqlite3_mprintf("CREATE VIRTUAL TABLE temp.r USING membase(file='%q')",
                           w->zPath);
  }
  return sqlite3_mprintf("CREATE VIRTUAL TABLE temp.r USING membase(file='%q', "
                         "layout='%s')", w->zPath, TR_LAYOUT);
}

/* The preload's control functions (dlsym), when it is loaded. */
static void (*fArm)(unsigned, const char*, long, int);
static void (*fOnKill)(void (*)(const char*, const char*, long));
static const Work *gChildW;   /* the child's workload, for childOnKill */

/* Runs in the child just before the preload kills it: which call, which
** file, into the shared log (no system call). */
static void childOnKill(const char *zCall, const char *zPath, long nth){
  static const char *const az[] = { "fsync", "ftruncate", "pwrite", "msync",
                                    "fdatasync", "write" };
  int iCall, iKind;
  size_t nPath = strlen(zPath), nJ = strlen("-mbjournal");
  for(iCall=0; iCall<6 && strcmp(zCall, az[iCall]); iCall++){}
  if( nPath>=nJ && strcmp(zPath+nPath-nJ, "-mbjournal")==0 ) iKind = 1;
  else if( gChildW && strcmp(zPath, gChildW->zPath)==0 ) iKind = 0;
  else if( gChildW && strcmp(zPath, gChildW->zSub)==0 ) iKind = 2;
  else iKind = 3;
  childEv('X', iCall | iKind<<8, nth);
}

/* The pattern of the precise kills: the workload's directory (name with
** a leading slash: the directory, the file and its journal; the main db
** is named main-NAME.db), or the journal only. */
static void trKillPattern(const Work *w, int bJrnl, char *z, size_t n){
  if( bJrnl ) snprintf(z, n, "%s-mbjournal", w->zName);
  else snprintf(z, n, "/%s", w->zName);
}

static void childArm(const Work *w, unsigned mask, int bJrnl, long nth){
  char zPat[200];
  if( fArm==0 || fOnKill==0 ) return;
  trKillPattern(w, bJrnl, zPat, sizeof(zPat));
  gChildW = w;
  fOnKill(childOnKill);
  fArm(mask, zPat, nth, -9);
}

/* BRK_NO_JOURNAL on a transfer: the first half of the moves' records, as
** this transaction sees them, are written straight into the file (no
** journal), and the child dies before COMMIT. */
static void childTrHalfApply(sqlite3 *db, const Work *w, const TrPlan *p){
  sqlite3_stmt *st = childPrepare(db, "SELECT id, bal, seq, pad FROM r WHERE rowid=?1");
  int fd = open(w->zPath, O_WRONLY), i;
  if( fd<0 ) childDie(0, "half-apply: open");
  for(i=0; i<(p->nPair+1)/2; i++){
    unsigned char a[TR_STRIDE];
    int k, c;
    sqlite3_bind_int64(st, 1, p->aFrom[i]);
    if( sqlite3_step(st)!=SQLITE_ROW ) childDie(db, "half-apply: read");
    for(c=0; c<4; c++){
      uint64_t v = (uint64_t)sqlite3_column_int64(st, c);
      for(k=0; k<8; k++) a[c*8+k] = (unsigned char)(v>>(8*k));
    }
    sqlite3_reset(st);
    if( pwrite(fd, a, TR_STRIDE, trHeaderSize(w) + p->aFrom[i]*TR_STRIDE)!=TR_STRIDE ){
      childDie(0, "half-apply: pwrite");
    }
  }
  raise(SIGKILL);
}

static void childTransfer(Work *w, int iter){
  const IterCfg *c = &w->cfg;
  sqlite3 *db = 0;
  char *z;
  long long n, id;
  sqlite3_stmt *stSeq, *stMove, *stRange, *stIns, *st;
  (void)iter;

  z = sqlite3_mprintf("file:%s?vfs=%s", w->zMain, c->zMainVfs);
  if( z==0 ) childDie(0, "out of memory");
  if( sqlite3_open_v2(z, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                      |SQLITE_OPEN_URI, 0) ){
    childDie(db, "open");
  }
  sqlite3_free(z);
  z = trCreateSql(w);
  childExec(db, z);
  sqlite3_free(z);
  st = childPrepare(db, "SELECT count(*) FROM r");
  if( sqlite3_step(st)!=SQLITE_ROW ) childDie(db, "count");
  n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  stSeq = childPrepare(db, "UPDATE r SET seq=?1, pad=?2 WHERE rowid=?3");
  stMove = childPrepare(db, "UPDATE r SET bal=bal+?1, seq=?2, pad=?3 WHERE rowid=?4");
  stRange = childPrepare(db, "UPDATE r SET bal=bal+CASE WHEN (rowid-?1)%2 THEN ?2 "
                         "ELSE -?2 END, seq=?3, pad=?4 WHERE rowid BETWEEN ?1 AND ?5");
  stIns = childPrepare(db, "INSERT INTO r(id, bal, seq, pad) VALUES(?1,?2,?3,?4)");
#define MOVE(row, amt, txn) do{ \
    sqlite3_bind_int64(stMove, 1, (amt)); sqlite3_bind_int64(stMove, 2, (txn)); \
    sqlite3_bind_int64(stMove, 3, trPad(w, (txn), (row))); \
    sqlite3_bind_int64(stMove, 4, (row)); childStep(db, stMove); }while(0)

  if( c->bPrecise ) childArm(w, c->killMask, c->bKillJrnl, c->killNth);
  childReady();
  for(id=w->nextId; ; id++){
    TrPlan p;
    int i;
    trPlan(w, id, n, &p);
    childEv('B', id, 0);
    childExec(db, "BEGIN");
    sqlite3_bind_int64(stSeq, 1, id);
    sqlite3_bind_int64(stSeq, 2, trPad(w, id, 0));
    sqlite3_bind_int64(stSeq, 3, 0);
    childStep(db, stSeq);
    for(i=0; i<p.nPair; i++){
      MOVE(p.aFrom[i], -p.aAmt[i], id);
      MOVE(p.aTo[i], p.aAmt[i], id);
    }
    if( p.nSave ){
      /* none of this may survive: it breaks the invariant */
      childExec(db, "SAVEPOINT s");
      for(i=0; i<p.nSave; i++) MOVE(p.aSave[i], 1000003, id+1000000000LL);
      if( p.nSave & 1 ){
        sqlite3_bind_int64(stIns, 1, n);
        sqlite3_bind_int64(stIns, 2, 77);
        sqlite3_bind_int64(stIns, 3, id+1000000000LL);
        sqlite3_bind_int64(stIns, 4, 0);
        childStep(db, stIns);
      }
      childExec(db, "ROLLBACK TO s; RELEASE s");
    }
    if( p.nRange ){
      sqlite3_bind_int64(stRange, 1, p.iLo);
      sqlite3_bind_int64(stRange, 2, p.rangeAmt);
      sqlite3_bind_int64(stRange, 3, id);
      sqlite3_bind_int64(stRange, 4, trPad(w, id, -1));
      sqlite3_bind_int64(stRange, 5, p.iLo + p.nRange - 1);
      childStep(db, stRange);
    }
    for(i=0; i<p.nApp; i++){
      sqlite3_bind_int64(stIns, 1, n+i);
      sqlite3_bind_int64(stIns, 2, 0);
      sqlite3_bind_int64(stIns, 3, id);
      sqlite3_bind_int64(stIns, 4, trPad(w, id, n+i));
      childStep(db, stIns);
    }
    if( p.nApp && p.bFunded ){
      MOVE(n, p.fundAmt, id);
      MOVE(p.iFundFrom, -p.fundAmt, id);
    }
    if( g.eBreak==BRK_NO_JOURNAL ) childTrHalfApply(db, w, &p);
    childEv('P', id, 0);
    if( p.bRollback && g.eBreak!=BRK_FALSE_ROLLBACK ){
      childExec(db, "ROLLBACK");
      childEv('R', id, 0);
    }else{
      if( g.eBreak==BRK_EARLY_COMMIT ) childEv('C', id, 0);
      childExec(db, "COMMIT");
      if( g.eBreak==BRK_TORN ){
        /* half of record 0's bal (every transaction touches record 0) */
        unsigned char a[4] = { 0xde, 0xad, 0xbe, 0xef };
        int fd = open(w->zPath, O_WRONLY);
        if( fd<0 || pwrite(fd, a, 4, trHeaderSize(w)+8+2)!=4 ) childDie(0, "tear");
        close(fd);
      }
      if( g.eBreak!=BRK_EARLY_COMMIT ) childEv(p.bRollback ? 'R' : 'C', id, 0);
      n += p.nApp;
    }
  }
#undef MOVE
}

/* A recoverer: opens the table (which recovers the file) armed to die at
** the nth watched call; exits 0 when it got through, 3 on an error. */
static void childRecover(Work *w, long nth){
  sqlite3 *db = 0;
  sqlite3_stmt *st = 0;
  char *z;
  childArm(w, MBF_FSYNC|MBF_FDATASYNC|MBF_FTRUNCATE|MBF_PWRITE|MBF_MSYNC, 0, nth);
  z = sqlite3_mprintf("file:%s?vfs=%s", w->zMain, w->cfg.zMainVfs);
  if( sqlite3_open_v2(z, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                      |SQLITE_OPEN_URI, 0) ){
    childDie(db, "recoverer: open");
  }
  sqlite3_free(z);
  z = trCreateSql(w);
  if( sqlite3_exec(db, z, 0, 0, 0)!=SQLITE_OK ) childDie(db, "recoverer: the table does not open");
  sqlite3_free(z);
  if( sqlite3_prepare_v2(db, "SELECT count(*), sum(bal) FROM r", -1, &st, 0)
   || sqlite3_step(st)!=SQLITE_ROW ){
    childDie(db, "recoverer: SELECT count(*), sum(bal)");
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  _exit(0);
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
    if( w->eKind==W_VFS ) childVfs(w, iter);
    else if( IS_TRANSFER(w) ) childTransfer(w, iter);
    else childRec(w, iter);
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
  int n = e->n;
  char c;
  while( n>0 && e->a[n-1].c=='X' ) n--;   /* the precise kill's note */
  c = n ? e->a[n-1].c : 'S';
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
    /* recovery cuts the file to its length before the transaction */
    CHECK(nSize>=nHdr + n*REC_STRIDE, "%s: %lld bytes, short of the shape's "
          "%lld records", w->zPath, nSize, n);
    if( nSize>nHdr + n*REC_STRIDE ) w->nPastShape++;
    CHECK(nSize<=nHdr + n*REC_STRIDE, "%s: %lld bytes after the open, records "
          "past the shape's %lld: the interrupted append was not cut off",
          w->zPath, nSize, n);
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

static int trJournalState(const char *zJrnl);

/* Apply committed transaction id (plan p, made for m->n records). */
static void recApply(const Work *w, long long id, const RecPlan *p, RecModel *m){
  Rec r;
  long long i;
  for(i=0; i<p->nFirst; i++){
    recValue(w, id, p->aRow[i], 0, p->aRow[i], &r);
    m->a[p->aRow[i]] = r;
  }
  if( p->bMid ){
    recValue(w, id, p->iMidRow, 2, p->iMidRow, &r);
    m->a[p->iMidRow] = r;
  }
  if( m->n + p->nApp1 + p->nApp2 > m->nAlloc ){
    long long nNew = (m->n + p->nApp1 + p->nApp2)*2;
    Rec *a = realloc(m->a, sizeof(Rec)*(size_t)nNew);
    if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    m->a = a;
    m->nAlloc = nNew;
  }
  for(i=0; i<p->nApp1+p->nApp2; i++){
    recValue(w, id, i, 0, m->n+i, &m->a[m->n+i]);
  }
  m->n += p->nApp1 + p->nApp2;
}

/* The records in the file, read straight from the disk: *pbExact when the
** length is exactly the header and the records (a .npy: the shape). */
static int recReadFile(const Work *w, Rec **paOut, long long *pn, int *pbExact){
  long long nHdr = recHeaderSize(w), nSize = fileSize(w->zPath), n, i;
  unsigned char *aBuf;
  int fd;
  *paOut = 0; *pn = 0; *pbExact = 0;
  if( nHdr<0 || nSize<nHdr ) return 1;
  aBuf = malloc((size_t)nSize + 1);
  fd = open(w->zPath, O_RDONLY);
  if( aBuf==0 || fd<0 || pread(fd, aBuf, (size_t)nSize, 0)!=(ssize_t)nSize ){
    if( fd>=0 ) close(fd);
    free(aBuf);
    return 1;
  }
  close(fd);
  n = (nSize - nHdr)/REC_STRIDE;
  if( w->eKind==W_NPY_APPEND ){
    const char *z;
    aBuf[nHdr>0 ? nHdr-1 : 0] = 0;
    z = strstr((const char*)aBuf+10, "'shape': (");
    if( z==0 || strtoll(z+10, 0, 10)>n ){ free(aBuf); return 1; }
    n = strtoll(z+10, 0, 10);
  }
  *pbExact = nSize==nHdr + n*REC_STRIDE;
  *paOut = malloc(sizeof(Rec)*(size_t)(n ? n : 1));
  if( *paOut==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
  for(i=0; i<n; i++){
    const unsigned char *p = aBuf + nHdr + i*REC_STRIDE;
    Rec *r = &(*paOut)[i];
    r->id = getI64(p); r->v = getI64(p+8); r->w = getI64(p+16);
    r->tag = getU32(p+24); r->chk = getU32(p+28);
  }
  *pn = n;
  free(aBuf);
  return 0;
}

static int recSame(const Rec *a, long long na, const Rec *b, long long nb){
  long long i;
  if( na!=nb ) return 0;
  for(i=0; i<na; i++) if( !recEqual(&a[i], &b[i]) ) return 0;
  return 1;
}

/* How the records differ from the committed state and the state after
** the in-flight transaction. */
static void recDiagnose(const Rec *a, long long n, const RecModel *m,
                        const RecModel *pAfter, char *z, size_t nz){
  long long i, nOld = 0, nNew = 0, nNone = 0, iNone = -1;
  long long nCmp = n < m->n ? n : m->n;
  for(i=0; i<nCmp; i++){
    int bOld = recEqual(&a[i], &m->a[i]);
    int bNew = pAfter && i<pAfter->n && recEqual(&a[i], &pAfter->a[i]);
    if( bOld && bNew ) continue;
    if( bOld ) nOld++;
    else if( bNew ) nNew++;
    else{ nNone++; if( iNone<0 ) iNone = i; }
  }
  snprintf(z, nz, "%lld records (%lld committed, %lld with the in-flight txn); "
           "of those it updates %lld are new, %lld old; %lld records hold "
           "neither (first: %lld)", n, m->n, pAfter ? pAfter->n : m->n, nNew,
           nOld, nNone, iNone);
}

/* The transaction contract (docs/TRANSACTIONS.md): after a kill the table
** holds the committed state, or that plus the whole in-flight transaction;
** nothing reaches the file before COMMIT has armed the -mbjournal. */
static void recCheck(Work *w, const Events *e){
  RecModel *m = &w->rm;
  RecModel after;
  InFlight f;
  RecPlan p;
  Rec *a1 = 0, *a2 = 0, *a0 = 0;
  long long n1 = 0, n2 = 0, n0 = 0;
  const char *zFirst, *zSecond;
  long long nCommitsNow = 0;
  int jst, j, bExact0 = 0, bBefore, bAfter;
  char zWhy[400];
  memset(&f, 0, sizeof(f));
  memset(&p, 0, sizeof(p));
  memset(&after, 0, sizeof(after));
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
        CHECK(!p.bRollback, "txn %lld committed, planned to roll back", v->a);
        recApply(w, v->a, &p, m);
        w->nCommitted++;
        nCommitsNow++;
      }else{
        CHECK(p.bRollback, "txn %lld rolled back, planned to commit", v->a);
        w->nRolledBack++;
      }
      f.bActive = 0;
    }
  }
  if( w->bFailed && !g.bKeepGoing ) return;
  /* the state after the in-flight transaction (the SAVEPOINT part of an
  ** update rolls back inside it) */
  if( f.bActive && !p.bRollback ){
    after.nAlloc = m->n + p.nApp1 + p.nApp2 + 1;
    after.a = malloc(sizeof(Rec)*(size_t)after.nAlloc);
    if( after.a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    if( m->n ) memcpy(after.a, m->a, sizeof(Rec)*(size_t)m->n);
    after.n = m->n;
    recApply(w, f.id, &p, &after);
  }

  /* the files as the kill left them: with no journal, or one that is not
  ** armed (never armed: the old state; disarmed at the commit point: the
  ** new one), the file holds a whole state (a .npy file too) */
  jst = trJournalState(w->zJrnl);
  if( jst ) w->nJournalSeen++;
  if( jst<=1 ){
    if( recReadFile(w, &a0, &n0, &bExact0) ){
      CHECK(0, "%s: unreadable after the kill", w->zPath);
    }else if( !(bExact0 && (recSame(a0, n0, m->a, m->n)
                            || (after.a && recSame(a0, n0, after.a, after.n)))) ){
      recDiagnose(a0, n0, m, after.a ? &after : 0, zWhy, sizeof(zWhy));
      CHECK(0, "after the kill (txn %lld %s), with %s, the file is neither the "
            "committed state nor that plus the whole in-flight txn%s: %s", f.id,
            f.bActive ? "in flight" : "done", jst ? "an unarmed -mbjournal"
            : "no -mbjournal", bExact0 ? "" : " (its length is not header + "
            "records)", zWhy);
    }
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

  /* all or nothing: the committed records, or those and the whole
  ** in-flight transaction (updates and appends) */
  bBefore = recSame(a1, n1, m->a, m->n);
  bAfter = after.a && recSame(a1, n1, after.a, after.n);
  if( !bBefore && !bAfter ){
    recDiagnose(a1, n1, m, after.a ? &after : 0, zWhy, sizeof(zWhy));
    CHECK(0, "after the open the table is neither the committed state nor that "
          "plus the whole in-flight txn %lld%s: %s", f.id,
          f.bActive && p.bRollback ? " (which was to roll back)" : "", zWhy);
  }
  if( f.bActive ){
    if( bAfter ) w->nInPresent++;
    else if( bBefore ) w->nInAbsent++;
    else w->nInPartial++;
  }
  /* the model becomes what is there */
  if( bAfter || (g.bKeepGoing && !bBefore) ){
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
  free(a0);
  free(a1);
  free(a2);
  free(after.a);
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

/* ------------------------------------------------------------ transfer check */

/* A transfer file as read straight from the disk. */
typedef struct TrFile {
  int bOk;                 /* exists, and its header (.npy) parses */
  char zWhy[200];          /* else why not */
  long long nBytes;        /* its length */
  long long n;             /* records: length / stride, or the shape */
  int bExact;              /* length = header + n * stride */
  TRec *a;                 /* the n records (those the file has) */
  int64_t sum;
} TrFile;

static void trFileFree(TrFile *f){ free(f->a); memset(f, 0, sizeof(*f)); }

static void trReadFile(const Work *w, TrFile *f){
  int fd = open(w->zPath, O_RDONLY);
  long long nHdr = trHeaderSize(w), i, nHave;
  unsigned char *aBuf = 0;
  struct stat st;
  memset(f, 0, sizeof(*f));
  if( fd<0 || fstat(fd, &st) ){
    snprintf(f->zWhy, sizeof(f->zWhy), "cannot open: %s", strerror(errno));
    if( fd>=0 ) close(fd);
    return;
  }
  f->nBytes = (long long)st.st_size;
  aBuf = malloc((size_t)f->nBytes + 1);
  if( aBuf==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
  if( pread(fd, aBuf, (size_t)f->nBytes, 0)!=(ssize_t)f->nBytes ){
    snprintf(f->zWhy, sizeof(f->zWhy), "short read");
    goto done;
  }
  if( w->eKind==W_NPY_TRANSFER ){
    const char *zShape;
    aBuf[f->nBytes<TR_NPY_HDR ? f->nBytes : TR_NPY_HDR-1] = 0;
    if( f->nBytes<TR_NPY_HDR || memcmp(aBuf, "\x93NUMPY\x01\x00", 8)!=0
     || aBuf[8]+aBuf[9]*256!=TR_NPY_HDR-10 ){
      snprintf(f->zWhy, sizeof(f->zWhy), "the .npy header is not the harness's "
               "(v1.0, %d bytes)", TR_NPY_HDR);
      goto done;
    }
    zShape = strstr((const char*)aBuf+10, "'shape': (");
    if( zShape==0 || strstr((const char*)aBuf+10, "'descr': [('id', '<i8'), "
                            "('bal', '<i8'), ('seq', '<i8'), ('pad', '<i8')]")==0 ){
      snprintf(f->zWhy, sizeof(f->zWhy), "the .npy header lost its shape or descr");
      goto done;
    }
    f->n = strtoll(zShape+10, 0, 10);
  }else{
    f->n = f->nBytes / TR_STRIDE;
  }
  f->bExact = f->nBytes == nHdr + f->n*TR_STRIDE;
  nHave = (f->nBytes - nHdr) / TR_STRIDE;
  if( nHave<f->n ){
    snprintf(f->zWhy, sizeof(f->zWhy), "%lld bytes: short of the shape's %lld records",
             f->nBytes, f->n);
    goto done;
  }
  f->a = malloc(sizeof(TRec)*(size_t)(f->n ? f->n : 1));
  if( f->a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
  for(i=0; i<f->n; i++){
    const unsigned char *p = aBuf + nHdr + i*TR_STRIDE;
    f->a[i].id = getI64(p); f->a[i].bal = getI64(p+8);
    f->a[i].seq = getI64(p+16); f->a[i].pad = getI64(p+24);
    f->sum = (int64_t)((uint64_t)f->sum + (uint64_t)f->a[i].bal);
  }
  f->bOk = 1;
done:
  close(fd);
  free(aBuf);
}

/* The file holds exactly these n records (length included). */
static int trEq(const TrFile *f, const TRec *a, long long n){
  return f->bOk && f->bExact && f->n==n
      && (n==0 || memcmp(f->a, a, sizeof(TRec)*(size_t)n)==0);
}

/* The -mbjournal: 0 none, 1 unarmed (short, not v2, or arm word 0), 2
** armed v2, 3 v1 (MBJRNL01: today's appends). */
static int trJournalState(const char *zJrnl){
  unsigned char a[64];
  int fd = open(zJrnl, O_RDONLY);
  ssize_t k;
  if( fd<0 ) return 0;
  k = pread(fd, a, sizeof(a), 0);
  close(fd);
  if( k>=8 && memcmp(a, "MBJRNL01", 8)==0 ) return 3;
  if( k<64 || memcmp(a, "MBJRNL02", 8)!=0 ) return 1;
  return getI64(a+56)==0 ? 1 : 2;
}

/* Why the file is neither state: how many records hold the old values,
** how many the new ones, how many neither; the first of each kind. */
static void trDiagnose(const TrFile *f, const TrModel *m, const TRec *aAfter,
                       long long nAfter, char *z, size_t nz){
  long long i, nOld = 0, nNew = 0, nNone = 0, iNone = -1, iNew = -1;
  long long nCmp = f->n < m->n ? f->n : m->n;
  if( !f->bOk ){ snprintf(z, nz, "%s", f->zWhy); return; }
  for(i=0; i<nCmp; i++){
    int bOld = memcmp(&f->a[i], &m->a[i], sizeof(TRec))==0;
    int bNew = aAfter && i<nAfter && memcmp(&f->a[i], &aAfter[i], sizeof(TRec))==0;
    if( bOld && bNew ) continue;
    if( bOld ) nOld++;
    else if( bNew ){ nNew++; if( iNew<0 ) iNew = i; }
    else{ nNone++; if( iNone<0 ) iNone = i; }
  }
  snprintf(z, nz, "%lld records (%lld committed, %lld after the in-flight txn), "
           "%lld bytes%s; of the "
           "records the in-flight txn changes, %lld hold its new values (first: "
           "%lld), %lld the old ones; %lld records hold neither (first: %lld, "
           "seq %lld, expected seq %lld)", f->n, m->n, aAfter ? nAfter : m->n,
           f->nBytes, f->bExact ? "" : " (not header + records)", nNew, iNew,
           nOld, nNone, iNone, iNone>=0 ? (long long)f->a[iNone].seq : -1,
           iNone>=0 ? (long long)m->a[iNone].seq : -1);
}

/* Where a kill during COMMIT landed, from the journal and the file. */
static int trPhase(int jst, int bBefore, int bAfter){
  switch( jst ){
    case 0: return bBefore ? PH_NOJ_BEFORE : bAfter ? PH_NOJ_AFTER : PH_BAD;
    case 1: return bBefore ? PH_UNARMED : bAfter ? PH_DISARMED : PH_BAD;
    case 2: return bBefore ? PH_ARMED_BEFORE : bAfter ? PH_APPLIED : PH_MID_APPLY;
  }
  return PH_V1;
}

/* Read the table through a main db on zMainVfs: every record (rowid
** order), and count(*), sum(bal) as SQL computes them. */
static int trReadTable(Work *w, const char *zMainVfs, TRec **paOut, long long *pn,
                       long long *pnCount, int64_t *pSum){
  sqlite3 *db = openDb(w->zMain, zMainVfs, 1);
  sqlite3_stmt *st = 0;
  TRec *a = 0;
  long long n = 0, nAlloc = 0;
  int rc;
  char *z;
  *paOut = 0;
  *pn = *pnCount = 0;
  *pSum = 0;
  if( db==0 ) return 1;
  z = trCreateSql(w);
  rc = sqlite3_exec(db, z, 0, 0, 0);
  sqlite3_free(z);
  CHECK(rc==SQLITE_OK, "main vfs=%s: the table does not open: %s", zMainVfs,
        sqlite3_errmsg(db));
  if( rc ){ sqlite3_close(db); return 1; }
  rc = sqlite3_prepare_v2(db, "SELECT count(*), sum(bal) FROM r", -1, &st, 0);
  if( rc==SQLITE_OK && sqlite3_step(st)==SQLITE_ROW ){
    *pnCount = sqlite3_column_int64(st, 0);
    *pSum = sqlite3_column_int64(st, 1);
  }else{
    CHECK(0, "main vfs=%s: count(*), sum(bal): %s", zMainVfs, sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  rc = sqlite3_prepare_v2(db, "SELECT rowid, id, bal, seq, pad FROM r ORDER BY rowid",
                          -1, &st, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(st))==SQLITE_ROW ){
    TRec *r;
    if( n>=nAlloc ){
      nAlloc = nAlloc ? nAlloc*2 : 4096;
      r = realloc(a, sizeof(TRec)*(size_t)nAlloc);
      if( r==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
      a = r;
    }
    if( sqlite3_column_int64(st, 0)!=n ){
      CHECK(0, "main vfs=%s: rowid %lld where %lld was expected", zMainVfs,
            (long long)sqlite3_column_int64(st, 0), n);
      break;
    }
    r = &a[n++];
    r->id = sqlite3_column_int64(st, 1);
    r->bal = sqlite3_column_int64(st, 2);
    r->seq = sqlite3_column_int64(st, 3);
    r->pad = sqlite3_column_int64(st, 4);
    rc = SQLITE_OK;
  }
  CHECK(rc==SQLITE_DONE, "main vfs=%s: reading the table: %s", zMainVfs,
        sqlite3_errmsg(db));
  sqlite3_finalize(st);
  rc = sqlite3_close(db);
  CHECK(rc==SQLITE_OK, "main vfs=%s: close: %d", zMainVfs, rc);
  *paOut = a;
  *pn = n;
  return 0;
}

/* Recoverers: children that open the table (running the recovery) armed
** to die at a watched call; each that is killed leaves the next one (or the
** verifier) a recovery cut short. */
static void trRecoverers(Work *w){
  Rng r = { hash3(w->seed, (uint64_t)w->iIter, 11) };
  int k;
  for(k=0; k<w->cfg.nRecover && fileExists(w->zJrnl); k++){
    long nth = 1 + (long)rngBelow(&r, 8);
    pid_t pid;
    int status = 0;
    gLog->n = 0;
    gLog->zErr[0] = 0;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if( pid<0 ){ perror("fork"); exit(2); }
    if( pid==0 ) childRecover(w, nth);
    while( waitpid(pid, &status, 0)<0 && errno==EINTR ){}
    w->nRecoverRun++;
    if( WIFSIGNALED(status) && WTERMSIG(status)==SIGKILL ){
      w->nRecoverKilled++;
    }else{
      CHECK(WIFEXITED(status) && WEXITSTATUS(status)==0, "a recoverer (killed "
            "at watched call %ld, which it did not reach) failed: %s", nth,
            gLog->zErr[0] ? gLog->zErr : "no message");
      break;
    }
  }
  gLog->n = 0;
}

static void trCheck(Work *w, const Events *e){
  TrModel *m = &w->tm;
  InFlight f;
  TrPlan p;
  TrModel after;
  TrFile f0, f1;
  TRec *a1 = 0, *a2 = 0;
  long long n1 = 0, n2 = 0, nCount1 = 0, nCount2 = 0, nCommitsNow = 0;
  int64_t sum1 = 0, sum2 = 0;
  const TRec *aAfter = 0;
  long long nAfter = 0;
  int j, jst, bBefore0, bAfter0, bBefore1, bAfter1, bMidCommit = 0;
  long long lastSeq0 = m->n ? m->a[0].seq : 0;
  char zWhy[600];
  const char *zFirst, *zSecond;
  memset(&f, 0, sizeof(f));
  memset(&p, 0, sizeof(p));
  memset(&after, 0, sizeof(after));
  memset(&f0, 0, sizeof(f0));
  memset(&f1, 0, sizeof(f1));
  for(j=0; j<e->n; j++){
    const Ev *v = &e->a[j];
    if( v->c=='B' ){
      CHECK(!f.bActive, "txn %lld began inside txn %lld", v->a, f.id);
      f.id = v->a;
      f.bActive = 1;
      trPlan(w, v->a, m->n, &p);
      if( v->a>=w->nextId ) w->nextId = v->a+1;
    }else if( v->c=='C' || v->c=='R' ){
      CHECK(f.bActive && f.id==v->a, "report %c %lld out of order", v->c, v->a);
      if( v->c=='C' ){
        CHECK(!p.bRollback, "txn %lld committed, planned to roll back", v->a);
        trApply(w, v->a, &p, m);
        lastSeq0 = v->a;
        w->nCommitted++;
        nCommitsNow++;
      }else{
        CHECK(p.bRollback, "txn %lld rolled back, planned to commit", v->a);
        w->nRolledBack++;
      }
      f.bActive = 0;
    }else if( v->c=='P' ){
      bMidCommit = 1;
    }else if( v->c=='X' ){
      int iCall = (int)(v->a & 0xff), iKind = (int)(v->a>>8 & 0xff);
      if( iCall>6 ) iCall = 6;
      if( iKind>3 ) iKind = 3;
      w->aKillAt[iCall][iKind]++;
    }
    if( v->c!='P' && v->c!='X' ) bMidCommit = 0;
  }
  if( w->cfg.bPrecise ){
    w->nPrecise++;
    if( !evHas(e, 'X') ) w->nPreciseMissed++;
  }
  if( w->bFailed && !g.bKeepGoing ) return;

  /* the state after the in-flight transaction, if it may be there */
  if( f.bActive && !p.bRollback ){
    after.n = m->n;
    trModelReserve(&after, m->n + p.nApp);
    memcpy(after.a, m->a, sizeof(TRec)*(size_t)m->n);
    trApply(w, f.id, &p, &after);
    aAfter = after.a;
    nAfter = after.n;
  }

  /* the files as the kill left them: with no journal, or one that is not
  ** armed (never armed, or disarmed at the commit point), nothing may have
  ** reached the file but a whole commit */
  jst = trJournalState(w->zJrnl);
  if( jst ) w->nJournalSeen++;
  trReadFile(w, &f0);
  bBefore0 = trEq(&f0, m->a, m->n);
  bAfter0 = aAfter && trEq(&f0, aAfter, nAfter);
  if( bMidCommit ) w->aPhase[trPhase(jst, bBefore0, bAfter0)]++;
  if( jst<=1 && !bBefore0 && !bAfter0 ){
    trDiagnose(&f0, m, aAfter, nAfter, zWhy, sizeof(zWhy));
    CHECK(0, "after the kill (txn %lld %s), with %s, the file is neither the "
          "committed state nor that plus the whole in-flight txn: %s", f.id,
          f.bActive ? "in flight" : "done", jst ? "an unarmed -mbjournal"
          : "no -mbjournal", zWhy);
  }

  /* recoverers cut short, then the verifier opens */
  if( w->cfg.nRecover && jst ) trRecoverers(w);
  if( w->cfg.bStockFirst ){ zFirst = "unix"; zSecond = "membase"; }
  else{ zFirst = "membase"; zSecond = "unix"; }
  if( trReadTable(w, zFirst, &a1, &n1, &nCount1, &sum1) ) goto done;
  CHECK(!fileExists(w->zJrnl), "%s: the -mbjournal (%lld bytes) is still there "
        "after the table was opened", w->zPath, fileSize(w->zJrnl));
  trReadFile(w, &f1);
  CHECK(f1.bOk, "%s after the open: %s", w->zPath, f1.zWhy);
  if( !f1.bOk ) goto done;
  CHECK(f1.bExact, "%s: %lld bytes after the open, %lld records: the file "
        "was not cut back to whole records (a .npy: records past the shape)",
        w->zPath, f1.nBytes, f1.n);
  CHECK(n1==f1.n && nCount1==n1 && (n1==0 || memcmp(a1, f1.a, sizeof(TRec)*(size_t)n1)==0),
        "the table (%lld records, count(*) %lld) does not return the file's "
        "%lld records", n1, nCount1, f1.n);
  CHECK(sum1==f1.sum, "sum(bal) through SQL is %lld, the file's records sum "
        "to %lld", (long long)sum1, (long long)f1.sum);
  /* the invariant */
  CHECK(f1.sum==m->sum, "the invariant is broken: SUM(bal) is %lld, it must "
        "be %lld (off by %lld): a transaction is partly there", (long long)f1.sum,
        (long long)m->sum, (long long)(f1.sum - m->sum));
  /* the count: committed, or that plus the whole in-flight append */
  CHECK(f1.n==m->n || (aAfter && f1.n==nAfter), "%lld records after the kill: "
        "%lld committed, %lld with the in-flight txn %lld: a partial append or "
        "a lost commit", f1.n, m->n, aAfter ? nAfter : m->n, f.id);
  /* every acknowledged commit: each one set record 0's seq */
  CHECK(f1.n==0 || f1.a[0].seq>=lastSeq0, "record 0 has seq %lld, but txn %lld "
        "was acknowledged: an acknowledged commit is lost",
        f1.n ? (long long)f1.a[0].seq : -1, lastSeq0);
  /* all or nothing: exactly the state before or after the in-flight txn */
  bBefore1 = trEq(&f1, m->a, m->n);
  bAfter1 = aAfter && trEq(&f1, aAfter, nAfter);
  if( !bBefore1 && !bAfter1 ){
    trDiagnose(&f1, m, aAfter, nAfter, zWhy, sizeof(zWhy));
    CHECK(0, "after the open the file is neither the committed state nor that "
          "plus the whole in-flight txn %lld%s: %s", f.id,
          f.bActive && p.bRollback ? " (which was to roll back)" : "", zWhy);
  }
  if( f.bActive ){
    if( bAfter1 ) w->nInPresent++;
    else if( bBefore1 ) w->nInAbsent++;
    else w->nInPartial++;
  }
  /* a second connection, through the other VFS, sees the same */
  if( trReadTable(w, zSecond, &a2, &n2, &nCount2, &sum2)==0 ){
    CHECK(n1==n2 && (n1==0 || memcmp(a1, a2, sizeof(TRec)*(size_t)n1)==0),
          "main vfs=%s and vfs=%s see different records (%lld / %lld)",
          zFirst, zSecond, n1, n2);
  }

  /* the model becomes what is there (--keep-going: even a violation) */
  if( bAfter1 || (g.bKeepGoing && !bBefore1) ){
    trModelReserve(m, f1.n);
    memcpy(m->a, f1.a, sizeof(TRec)*(size_t)f1.n);
    m->n = f1.n;
    if( !bAfter1 ) m->sum = f1.sum;
  }
  nCheckedTxns += nCommitsNow;
done:
  free(a1);
  free(a2);
  free(after.a);
  trFileFree(&f0);
  trFileFree(&f1);
}

static int trSetup(Work *w){
  long long i, n = TR_N0, nHdr = trHeaderSize(w);
  size_t nBytes = (size_t)(nHdr + n*TR_STRIDE);
  unsigned char *a = malloc(nBytes);
  int fd, rc = 0;
  TrModel *m = &w->tm;
  unlink(w->zPath);
  unlink(w->zJrnl);
  unlink(w->zMain);
  mkdir(w->zSub, 0777);
  if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
  trModelReserve(m, n);
  m->n = n;
  m->sum = 0;
  if( nHdr ) trNpyHeader(a, n);
  for(i=0; i<n; i++){
    unsigned char *p = a + nHdr + i*TR_STRIDE;
    int k;
    trInitRec(w, i, &m->a[i]);
    m->sum += m->a[i].bal;
    for(k=0; k<8; k++){
      p[k] = (unsigned char)((uint64_t)m->a[i].id>>(8*k));
      p[8+k] = (unsigned char)((uint64_t)m->a[i].bal>>(8*k));
      p[16+k] = (unsigned char)((uint64_t)m->a[i].seq>>(8*k));
      p[24+k] = (unsigned char)((uint64_t)m->a[i].pad>>(8*k));
    }
  }
  fd = open(w->zPath, O_WRONLY|O_CREAT|O_TRUNC, 0644);
  if( fd<0 || pwrite(fd, a, nBytes, 0)!=(ssize_t)nBytes || fsync(fd) ){
    CHECK(0, "setup of %s: %s", w->zPath, strerror(errno));
    rc = 1;
  }
  if( fd>=0 ) close(fd);
  free(a);
  w->nextId = 1;
  return rc;
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
  /* transfers, with the preload: half the kills land at a watched call
  ** (every kind, or one kind to reach its later calls; the file, its
  ** journal and their directory, or the journal only); the delay is then
  ** only a fallback. After a kill that left a journal, half the time
  ** recoverers are killed in the recovery first. */
  c->bPrecise = 0;
  c->nRecover = 0;
  if( IS_TRANSFER(w) && g.bPreload ){
    static const unsigned aMask[] = {
      MBF_FSYNC|MBF_FDATASYNC|MBF_FTRUNCATE|MBF_PWRITE|MBF_MSYNC,
      MBF_FSYNC|MBF_FDATASYNC|MBF_FTRUNCATE|MBF_PWRITE|MBF_MSYNC,
      MBF_FSYNC|MBF_FDATASYNC, MBF_MSYNC, MBF_PWRITE, MBF_FTRUNCATE
    };
    unsigned k = rngBelow(&r, 6);
    c->bPrecise = rngBelow(&r, 2)==0;
    c->killMask = aMask[k];
    /* (nothing msyncs a journal) */
    c->bKillJrnl = k!=3 && rngBelow(&r, 4)==0;
    c->killNth = 1 + (long)rngBelow(&r, k<2 ? 40 : 10);
    if( c->bPrecise ) c->delayUs = 400000;
    c->nRecover = rngBelow(&r, 2) ? 1 + (int)rngBelow(&r, 3) : 0;
  }
}

static void runOne(Work *w, int iter){
  Events e;
  double t0 = now();
  memset(&e, 0, sizeof(e));
  gW = w;
  w->iIter = iter;
  if( g.bKeepGoing ) w->bFailed = 0;
  drawConfig(w, iter);
  if( runChild(w, iter, &e)==0 ){
    classifyKill(w, &e);
    if( w->eKind==W_VFS ) vfsCheck(w, &e);
    else if( IS_TRANSFER(w) ) trCheck(w, &e);
    else recCheck(w, &e);
    if( g.bVerbose ){
      printf("  %s kill %d: %s %u us, %d reports, last '%c'%s\n", w->zName,
             iter, w->cfg.bPrecise ? "precise, fallback" : "after",
             w->cfg.delayUs, e.n, e.n ? e.a[e.n-1].c : '-',
             w->bFailed ? " FAILED" : "");
    }
  }
  if( w->bFailed>0 ) w->nViol++;
  free(e.a);
  w->tSpent += now() - t0;
  gW = 0;
}

static void usage(const char *zArgv0){
  int i;
  fprintf(stderr, "usage: %s [--seed N] [--iterations N] [--seconds S] "
          "[--workload NAME] [--dir D] [-v] [--selftest] [--keep-going] "
          "[--preload PATH | --no-preload]\nworkloads:", zArgv0);
  for(i=0; i<N_WORK; i++) fprintf(stderr, " %s", aWork[i].zName);
  fputc('\n', stderr);
  exit(2);
}

/* Fresh files and model for workload i, in directory zWork. */
static int workStart(int i, const char *zWork){
  Work *w = &aWork[i];
  const char *zExt = IS_NPY(w) ? "npy" : w->eKind==W_VFS ? "db" : "bin";
  int rc;
  free(w->vm.aState);
  free(w->rm.a);
  free(w->tm.a);
  memset(&w->seed, 0, sizeof(Work) - offsetof(Work, seed));
  w->seed = hash3(g.seed, (uint64_t)i, 0);
  if( IS_TRANSFER(w) ){
    /* a directory of its own: the precise kills watch it by name */
    snprintf(w->zSub, sizeof(w->zSub), "%s/%s", zWork, w->zName);
    snprintf(w->zPath, sizeof(w->zPath), "%s/%s/%s.%s", zWork, w->zName, w->zName, zExt);
    snprintf(w->zJrnl, sizeof(w->zJrnl), "%s/%s/%s.%s-mbjournal", zWork, w->zName,
             w->zName, zExt);
    snprintf(w->zMain, sizeof(w->zMain), "%s/main-%s.db", zWork, w->zName);
  }else{
    snprintf(w->zPath, sizeof(w->zPath), "%s/%s.%s", zWork, w->zName, zExt);
    snprintf(w->zJrnl, sizeof(w->zJrnl), "%s/%s.%s-mbjournal", zWork, w->zName, zExt);
    snprintf(w->zMain, sizeof(w->zMain), "%s/%s-main.db", zWork, w->zName);
  }
  gW = w;
  rc = w->eKind==W_VFS ? vfsSetup(w) : IS_TRANSFER(w) ? trSetup(w) : recSetup(w);
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
  if( w->zSub[0] ) rmdir(w->zSub);
}

/* mbj_cksum of docs/TRANSACTIONS.md: n bytes, zero-padded to a multiple
** of 8, as little-endian u32 pairs. */
static uint64_t mbjCksum(const unsigned char *a, size_t n){
  uint32_t s0 = 0, s1 = 0;
  size_t i;
  for(i=0; i<n; i+=8){
    unsigned char b[8] = {0};
    memcpy(b, a+i, n-i<8 ? n-i : 8);
    s0 += getU32(b) + s1;
    s1 += getU32(b+4) + s0;
  }
  return (uint64_t)s1<<32 | s0;
}

static void putU64(unsigned char *p, uint64_t v){
  int k;
  for(k=0; k<8; k++) p[k] = (unsigned char)(v>>(8*k));
}

/* The journal states a kill can leave, made by hand: each must be handled
** by the next open of the table, which must leave the three committed
** records byte for byte. Version 1 (MBJRNL01: the length before an
** append; MemBase before the write set): a writer died between creating
** the -mbjournal and writing it (empty), in the middle of writing it
** (short), or after it (the file may have grown: cut back). Version 2
** (docs/TRANSACTIONS.md): a journal that is not armed (arm word 0, any
** content, or shorter than its header) means the file was never touched:
** the journal is deleted and the file stays as it is; an armed one is
** applied: the original bytes go back and the file is cut to nOrig. */
static void recJournalChecks(const char *zWork){
  enum { J_V1, J_V2_UNARMED, J_V2_UNARMED_SHORT, J_V2_ARMED };
  static const struct { const char *zCase; int eKind; int nJrnl; int nGrow; } aCase[] = {
    { "empty -mbjournal",                       J_V1,   0, 0 },
    { "short -mbjournal",                       J_V1,  11, 0 },
    { "-mbjournal, file not grown",             J_V1,  24, 0 },
    { "-mbjournal, file grown",                 J_V1,  24, 5 },
    { "v2 -mbjournal not armed",                J_V2_UNARMED, 0, 0 },
    { "v2 -mbjournal not armed, 40 bytes",      J_V2_UNARMED_SHORT, 40, 0 },
    { "v2 -mbjournal armed, commit half-applied", J_V2_ARMED, 0, 2 },
  };
  Work *w = &aWork[5];   /* records_append's names, in a directory of its own */
  char zDir[1200];
  int i;
  snprintf(zDir, sizeof(zDir), "%s/journal", zWork);
  mkdir(zDir, 0777);
  for(i=0; i<(int)(sizeof(aCase)/sizeof(aCase[0])); i++){
    unsigned char a[64+16+REC_STRIDE], aRec[REC_STRIDE*5], aOrig[REC_STRIDE*3];
    uint64_t n = 3*REC_STRIDE;
    size_t nJrnl = (size_t)aCase[i].nJrnl;
    Rec *aGot = 0;
    long long nGot = 0;
    int k, fd;
    struct stat st;
    if( workStart(5, zDir) ) exit(2);
    gW = w;
    w->iIter = -1;
    /* three committed records */
    fd = open(w->zPath, O_RDWR);
    memset(aRec, 0, sizeof(aRec));
    for(k=0; k<3; k++){
      aRec[k*REC_STRIDE] = (unsigned char)k;
      aRec[k*REC_STRIDE+8] = (unsigned char)(0x40+k);
    }
    memcpy(aOrig, aRec, sizeof(aOrig));
    CHECK(fd>=0 && pwrite(fd, aRec, (size_t)n, 0)==(ssize_t)n, "%s: write", aCase[i].zCase);
    memset(&st, 0, sizeof(st));
    if( fd>=0 ) fstat(fd, &st);
    memset(a, 0, sizeof(a));
    if( aCase[i].eKind==J_V1 ){
      memcpy(a, "MBJRNL01", 8);
      putU64(a+8, n);
      putU64(a+16, n ^ 0x5a5a5a5a5a5a5a5aULL);
    }else{
      /* header: file identity, nOrig, nNew, nBody, checksum, arm word;
      ** one entry: record 1's original bytes */
      memcpy(a, "MBJRNL02", 8);
      putU64(a+8, (uint64_t)st.st_dev);
      putU64(a+16, (uint64_t)st.st_ino);
      putU64(a+24, n);
      putU64(a+32, n + (uint64_t)aCase[i].nGrow*REC_STRIDE);
      putU64(a+40, 16+REC_STRIDE);
      putU64(a+64, REC_STRIDE);            /* off */
      a[72] = REC_STRIDE;                  /* n; then a u32 0 */
      memcpy(a+80, aOrig+REC_STRIDE, REC_STRIDE);
      if( aCase[i].eKind==J_V2_UNARMED ){
        /* any content: the entry does not match the file, no checksums */
        memset(a+80, 0x55, REC_STRIDE);
        putU64(a+48, 12345);
      }else{
        putU64(a+48, mbjCksum(a+64, 16+REC_STRIDE));
      }
      if( aCase[i].eKind==J_V2_ARMED ) putU64(a+56, mbjCksum(a, 56) | 1);
      if( nJrnl==0 ) nJrnl = 64+16+REC_STRIDE;
    }
    {
      int fj = open(w->zJrnl, O_WRONLY|O_CREAT|O_TRUNC, 0644);
      CHECK(fj>=0 && pwrite(fj, a, nJrnl, 0)==(ssize_t)nJrnl,
            "%s: write the journal", aCase[i].zCase);
      if( fj>=0 ) close(fj);
    }
    if( aCase[i].nGrow ){
      memset(aRec, 0x77, sizeof(aRec));
      CHECK(pwrite(fd, aRec, (size_t)aCase[i].nGrow*REC_STRIDE, (off_t)n)
            ==(ssize_t)aCase[i].nGrow*REC_STRIDE, "%s: grow", aCase[i].zCase);
    }
    if( aCase[i].eKind==J_V2_ARMED ){
      /* the apply got as far as record 1 */
      CHECK(pwrite(fd, aRec, REC_STRIDE, REC_STRIDE)==REC_STRIDE, "%s: apply",
            aCase[i].zCase);
    }
    if( fd>=0 ) close(fd);
    if( recRead(w, i%2 ? "unix" : "membase", &aGot, &nGot)==0 ){
      unsigned char aNow[REC_STRIDE*3];
      int fr = open(w->zPath, O_RDONLY);
      int bSame = fr>=0 && pread(fr, aNow, sizeof(aNow), 0)==(ssize_t)sizeof(aNow)
               && memcmp(aNow, aOrig, sizeof(aNow))==0;
      if( fr>=0 ) close(fr);
      CHECK(nGot==3, "%s: %lld records after the open, 3 were committed",
            aCase[i].zCase, nGot);
      CHECK(!fileExists(w->zJrnl), "%s: the -mbjournal (%lld bytes) is still "
            "there after the table was opened", aCase[i].zCase, fileSize(w->zJrnl));
      CHECK(fileSize(w->zPath)==(long long)n, "%s: the file has %lld bytes, "
            "%llu committed", aCase[i].zCase, fileSize(w->zPath), (unsigned long long)n);
      CHECK(bSame, "%s: the file's bytes are not the committed records",
            aCase[i].zCase);
    }
    free(aGot);
    workRemove(w);
    gW = 0;
  }
  rmdir(zDir);
  w->bFailed = 0;
}

/* Does break mode b apply to workload w: can a kill -9 expose it? The VFS
** has no field to tear. (Before the write set an update reached the file
** as it was made, and a COMMIT of records_update reported early could not
** be seen; now it stays in the write set until COMMIT.) */
static int breakApplies(int b, const Work *w){
  switch( b ){
    case BRK_EARLY_COMMIT:   return 1;
    case BRK_FALSE_ROLLBACK: return 1;
    case BRK_NO_JOURNAL:     return 1;
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

/* Precise kills need mb_faultpreload in this process (the children are
** forks): run this program again with it in LD_PRELOAD (after libasan
** under AddressSanitizer), as tests/faults/test_faults_preload does.
** Without the library the transfers use timed kills only. */
static void preloadBind(char **argv){
  void *p = dlsym(RTLD_DEFAULT, "mb_fault_arm");
  if( p==0 && g.zPreload && g.zPreload[0] && access(g.zPreload, R_OK)==0
   && getenv("MB_CRASH_REEXEC")==0 ){
    const char *zOld = getenv("LD_PRELOAD");
    const char *zAsan = "";
    void *pAsan = dlsym(RTLD_DEFAULT, "__asan_init");
    Dl_info info;
    char zExe[4096], *zNew;
    ssize_t n;
    if( pAsan && dladdr(pAsan, &info) && info.dli_fname ) zAsan = info.dli_fname;
    zNew = sqlite3_mprintf("%s%s%s%s%s", zAsan, zAsan[0] ? ":" : "", g.zPreload,
                           zOld && zOld[0] ? ":" : "", zOld ? zOld : "");
    setenv("LD_PRELOAD", zNew, 1);
    setenv("MB_CRASH_REEXEC", "1", 1);
    n = readlink("/proc/self/exe", zExe, sizeof(zExe)-1);
    if( n>0 ){ zExe[n] = 0; }else{ snprintf(zExe, sizeof(zExe), "%s", argv[0]); }
    fflush(stdout);
    fflush(stderr);
    execv(zExe, argv);
    perror("mb_crash: execv");
    exit(2);
  }
  if( p ){
    *(void**)&fArm = p;
    *(void**)&fOnKill = dlsym(RTLD_DEFAULT, "mb_fault_on_kill");
    g.bPreload = fOnKill!=0;
  }
  if( !g.bPreload && g.zPreload && g.zPreload[0] ){
    printf("mb_crash: %s is not loaded: timed kills only\n", g.zPreload);
  }
}

/* The preload arms itself from MB_FAULT_ARM when it loads (a child of any
** language): a child started with MB_FAULT_ARM=1:NAME:2:-9 must die of
** SIGKILL at its second fsync of NAME, and one with nth 4 must not. */
static int envArmProbe(const char *zWork){
  char zFile[1300], zEnv[1400];
  int nth, nBad = 0;
  snprintf(zFile, sizeof(zFile), "%s/env-probe.bin", zWork);
  for(nth=2; nth<=4; nth+=2){
    pid_t pid;
    int status = 0;
    fflush(stdout);
    pid = fork();
    if( pid<0 ){ perror("fork"); exit(2); }
    if( pid==0 ){
      snprintf(zEnv, sizeof(zEnv), "%x:env-probe.bin:%d:-9", MBF_FSYNC, nth);
      setenv("MB_FAULT_ARM", zEnv, 1);
      char zExe[4096];
      ssize_t n = readlink("/proc/self/exe", zExe, sizeof(zExe)-1);
      if( n<=0 ) _exit(127);
      zExe[n] = 0;
      execl(zExe, zExe, "--fsync-probe", zFile, (char*)0);
      _exit(127);
    }
    while( waitpid(pid, &status, 0)<0 && errno==EINTR ){}
    if( nth==2 && !(WIFSIGNALED(status) && WTERMSIG(status)==SIGKILL) ){
      printf("    MB_FAULT_ARM nth=2: the probe was not killed (status %d)\n", status);
      nBad++;
    }
    if( nth==4 && !(WIFEXITED(status) && WEXITSTATUS(status)==0) ){
      printf("    MB_FAULT_ARM nth=4: the probe did not exit 0 (status %d)\n", status);
      nBad++;
    }
  }
  unlink(zFile);
  return nBad;
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
#ifdef MB_FAULTPRELOAD_PATH
  g.zPreload = MB_FAULTPRELOAD_PATH;
#endif
  if( argc==3 && strcmp(argv[1], "--fsync-probe")==0 ){
    /* envArmProbe's child: three fsyncs of a file */
    int fd = open(argv[2], O_WRONLY|O_CREAT, 0644), k;
    for(k=0; k<3; k++) if( fd<0 || fsync(fd) ) return 1;
    return 0;
  }
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    if( z[0]=='-' && z[1]=='-' ) z++;
    if( strcmp(z, "-v")==0 ){ g.bVerbose = 1; continue; }
    if( strcmp(z, "-selftest")==0 ){ bSelftest = 1; continue; }
    if( strcmp(z, "-keep-going")==0 ){ g.bKeepGoing = 1; continue; }
    if( strcmp(z, "-no-preload")==0 ){ g.zPreload = 0; continue; }
    if( i+1>=argc ) usage(argv[0]);
    if( strcmp(z, "-seed")==0 ){ g.seed = strtoull(argv[++i], 0, 0); bSeed = 1; }
    else if( strcmp(z, "-iterations")==0 ){ g.nIter = atoi(argv[++i]); }
    else if( strcmp(z, "-seconds")==0 ){ g.secs = atof(argv[++i]); }
    else if( strcmp(z, "-workload")==0 ){ g.zWorkload = argv[++i]; }
    else if( strcmp(z, "-dir")==0 ){ snprintf(g.zDir, sizeof(g.zDir), "%s", argv[++i]); }
    else if( strcmp(z, "-preload")==0 ){ g.zPreload = argv[++i]; }
    else usage(argv[0]);
  }
  preloadBind(argv);
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
    printf("mb_crash --selftest: --seed %llu, in %s%s\n",
           (unsigned long long)g.seed, zWork,
           g.bPreload ? " (precise kills: mb_faultpreload)" : "");
    rc = selftest(zWork);
    if( g.bPreload && envArmProbe(zWork) ){
      printf("mb_crash --selftest: MB_FAULT_ARM does not arm the preload\n");
      rc = 1;
    }
    for(i=0; i<N_WORK; i++){ free(aWork[i].vm.aState); free(aWork[i].rm.a); }
    rmdir(zWork);
    munmap(gLog, SHLOG_BYTES);
    return rc;
  }

  printf("mb_crash: --seed %llu --iterations %d --seconds %g%s%s%s, in %s%s\n",
         (unsigned long long)g.seed, g.nIter, g.secs,
         g.zWorkload ? " --workload " : "", g.zWorkload ? g.zWorkload : "",
         g.bKeepGoing ? " --keep-going" : "", zWork,
         g.bPreload ? " (precise kills: mb_faultpreload)" : "");
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
      if( w->bFailed<0 || (w->bFailed && !g.bKeepGoing) ) continue;
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
      if( IS_TRANSFER(w) ){
        int a, b, k;
        printf("\n  precise kills %d (%d did not fire: timed instead)", w->nPrecise,
               w->nPreciseMissed);
        for(a=0; a<7; a++){
          for(b=0; b<4; b++){
            if( w->aKillAt[a][b] ){
              static const char *const azK[] = { "file", "journal", "dir", "other" };
              printf(", %s %s %d", azCallName[a], azK[b], w->aKillAt[a][b]);
            }
          }
        }
        printf("\n  kills in COMMIT by the state left:");
        for(k=0; k<PH_N; k++) printf(" %s %d%s", azPhase[k], w->aPhase[k], k<PH_N-1 ? "," : "");
        printf("\n  recoverers %d, killed in recovery %d | records %lld",
               w->nRecoverRun, w->nRecoverKilled, w->tm.n);
      }
      if( g.bKeepGoing ) printf(" | kills with a violation %d", w->nViol);
      printf(" | %.1f s%s\n", w->tSpent, w->nViol || w->bFailed>0 ? " FAILED" : "");
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
    free(w->tm.a);
  }
  if( nFail==0 ) rmdir(zWork);
  else printf("mb_crash: files kept in %s\n", zWork);
  munmap(gLog, SHLOG_BYTES);
  return nFail ? 1 : 0;
}
