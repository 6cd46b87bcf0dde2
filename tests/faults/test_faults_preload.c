/*
** test_faults_preload.c -- I/O faults injected under SQLite and MemBase by
** an LD_PRELOAD library (mb_faultpreload.c), at every fault point of one
** operation in turn.
**
** The program re-executes itself with LD_PRELOAD naming the library (after
** libasan when built with AddressSanitizer), then finds the library's
** control functions with dlsym(RTLD_DEFAULT, ...). Each scenario first runs
** its operation once with the calls only counted, then once per fault
** point with that call failing; after each: the error code, then the files
** reopened without faults and checked.
**
**  1. The membase VFS (membase and membase-process; DELETE, TRUNCATE and
**     WAL journals; synchronous=FULL):
**     - fsync/fdatasync EIO during COMMIT: SQLITE_IOERR_FSYNC, then
**       integrity_check ok and the transaction all there or not at all
**       (not at all when COMMIT failed), read through membase and stock
**       unix;
**     - ftruncate EIO and ENOSPC: the TRUNCATE journal's reset at COMMIT,
**       an auto_vacuum=FULL shrink, VACUUM: SQLITE_IOERR_TRUNCATE, same
**       checks;
**     - pwrite/write ENOSPC and EIO (database, journal, WAL): SQLITE_FULL
**       or SQLITE_IOERR_*, same checks;
**     - mmap ENOMEM: every mapping of the database refused: the VFS reads
**       through the platform ("mapped":false) and answers right; one
**       mapping refused while a transaction grows the file: the
**       transaction commits or fails cleanly.
**  2. The record table (membase module), a raw file of 24-byte records:
**     - fsync/fdatasync EIO and msync EIO at COMMIT of an UPDATE and of
**       an append; ftruncate ENOSPC and mmap ENOMEM while an append grows
**       the file: the COMMIT fails with a message naming the file, the
**       rollback leaves the file byte for byte as it was (length
**       included), no journal is left, and a new table on the file reads
**       the old records; a COMMIT that succeeds leaves the new bytes;
**     - mmap ENOMEM while the table opens: an error naming the file, or
**       correct rows.
**  3. membase_lines with mmap ENOMEM (each mapping in turn, and all of
**     them): the right count and total length, or an error; never a crash.
**
** MB_REPORT_DIR set: "injected.<call>.<errno>\tN" and "failures\tN" lines
** are appended to $MB_REPORT_DIR/faults.tsv. Under valgrind (or with
** MB_FAULTS_QUICK=1) long sweeps visit fewer points: the first few, then
** points further and further apart, always including the last.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "membase.h"
#include "../mb_sqltest.h"
#if defined(MB_HAVE_VALGRIND_H)
#include <valgrind/valgrind.h>
#endif

#include "mb_fault.h"

static int nFail = 0, nCheck = 0;
#define CHECK(cond, ...) do{ nCheck++; if(!(cond)){ nFail++; \
  fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
  fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } }while(0)

/* ------------------------------------------------------ the preload */

static void (*fArm)(unsigned, const char*, long, int);
static void (*fDisarm)(void);
static long (*fSeen)(void);
static long (*fFired)(void);
static const char *(*fLast)(void);

/* Run this program again with the library preloaded. Under ASan the
** sanitizer's runtime must stay first in the list of libraries. */
static void reexec(char **argv){
  const char *zOld = getenv("LD_PRELOAD");
  char zExe[4096], *zNew;
  const char *zAsan = "";
  void *pAsan = dlsym(RTLD_DEFAULT, "__asan_init");
  Dl_info info;
  ssize_t n;
  if( getenv("MB_FAULTPRELOAD_REEXEC") ){
    fprintf(stderr, "test_faults_preload: %s is preloaded but its control "
            "functions are not visible\n", MB_FAULTPRELOAD_PATH);
    exit(2);
  }
  if( pAsan && dladdr(pAsan, &info) && info.dli_fname ) zAsan = info.dli_fname;
  zNew = sqlite3_mprintf("%s%s%s%s%s", zAsan, zAsan[0] ? ":" : "", MB_FAULTPRELOAD_PATH,
                         zOld && zOld[0] ? ":" : "", zOld ? zOld : "");
  setenv("LD_PRELOAD", zNew, 1);
  setenv("MB_FAULTPRELOAD_REEXEC", "1", 1);
  /* /proc/self/exe itself would be valgrind's own binary under valgrind;
  ** its link target is the program (valgrind answers the readlink). */
  n = readlink("/proc/self/exe", zExe, sizeof(zExe)-1);
  if( n>0 ){ zExe[n] = 0; }else{ snprintf(zExe, sizeof(zExe), "%s", argv[0]); }
  fflush(stdout);
  fflush(stderr);
  execv(zExe, argv);
  perror("test_faults_preload: execv");
  exit(2);
}

static void preloadBind(char **argv){
  void *p = dlsym(RTLD_DEFAULT, "mb_fault_arm");
  if( p==0 ) reexec(argv);
  *(void**)&fArm = p;
  *(void**)&fDisarm = dlsym(RTLD_DEFAULT, "mb_fault_disarm");
  *(void**)&fSeen = dlsym(RTLD_DEFAULT, "mb_fault_seen");
  *(void**)&fFired = dlsym(RTLD_DEFAULT, "mb_fault_fired");
  *(void**)&fLast = dlsym(RTLD_DEFAULT, "mb_fault_last");
  if( !fDisarm || !fSeen || !fFired || !fLast ){
    fprintf(stderr, "test_faults_preload: incomplete control interface\n");
    exit(2);
  }
}

/* ---------------------------------------------------- what was injected */

typedef struct Tally { char zKey[64]; int n; } Tally;
static Tally aTally[64];
static int nTally;

static const char *errName(int e){
  switch( e ){
    case EIO: return "EIO";
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
  }
  return "E?";
}

/* A fault was injected and its case checked: count it. */
static void tally(int err){
  char z[64];
  int i;
  snprintf(z, sizeof(z), "injected.%s.%s", fLast(), errName(err));
  for(i=0; i<nTally && strcmp(aTally[i].zKey, z)!=0; i++){}
  if( i==nTally ){
    if( nTally==(int)(sizeof(aTally)/sizeof(aTally[0])) ) return;
    snprintf(aTally[nTally++].zKey, sizeof(aTally[0].zKey), "%s", z);
  }
  aTally[i].n++;
}

static void report(void){
  const char *zDir = getenv("MB_REPORT_DIR");
  FILE *f;
  char zPath[4096];
  int i;
  for(i=0; i<nTally; i++) printf("  %-36s %d\n", aTally[i].zKey, aTally[i].n);
  if( zDir==0 || zDir[0]==0 ) return;
  snprintf(zPath, sizeof(zPath), "%s/faults.tsv", zDir);
  f = fopen(zPath, "a");
  if( f==0 ){ perror(zPath); nFail++; return; }
  for(i=0; i<nTally; i++) fprintf(f, "%s\t%d\n", aTally[i].zKey, aTally[i].n);
  fprintf(f, "failures\t%d\n", nFail);
  fclose(f);
}

/* ----------------------------------------------------------- helpers */

static char gDir[PATH_MAX];      /* MB_TEST_TMPDIR */
static char gPattern[PATH_MAX+64];  /* prefix of every file of this process */
static char gDb[PATH_MAX+128], gRec[PATH_MAX+128], gLines[PATH_MAX+128];
static int gQuick;           /* fewer points per sweep (valgrind) */

static sqlite3 *dbOpen(const char *zVfs){
  sqlite3 *db = mbtOpenVfs(gDb, zVfs);
  sqlite3_busy_timeout(db, 2000);
  return db;
}

static sqlite3 *memOpen(void){
  sqlite3 *db = 0;
  if( sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, 0) ){
    fprintf(stderr, "cannot open :memory:\n");
    exit(2);
  }
  return db;
}

/* The points of a sweep over K calls: all of them when there are few;
** otherwise the first ones, then further and further apart, and the last. */
static long nextPoint(long n, long K){
  long nAll = gQuick ? 4 : 24;
  long step;
  if( n<nAll || K<=(gQuick ? 6 : 40) ) return n+1;
  step = n/(gQuick ? 2 : 5);
  if( n<K && n+step>K ) return K;
  return n+step;
}

/* One operation, run at fault point nth (0: count only). Returns whether
** a fault was injected. */
typedef int (*CaseFn)(const void *pCtx, const char *zCase, unsigned calls, int err, long nth);

static void sweep(const char *zWhat, CaseFn x, const void *pCtx, unsigned calls, int err){
  char zCase[300];
  long K, n, nPoints = 0;
  snprintf(zCase, sizeof(zCase), "%s/%s/count", zWhat, errName(err));
  x(pCtx, zCase, calls, err, 0);
  K = fSeen();
  /* A mapping is made only when the view must follow the file; process
  ** mode may serve a fresh transaction from SQLite's cache without one. */
  if( K==0 && calls==MBF_MMAP ){
    printf("  %-58s   0 points (no mapping made)\n", zWhat);
    return;
  }
  CHECK(K>0, "%s: no fault point: the operation made none of these calls", zWhat);
  for(n=1; n<=K; n=nextPoint(n, K)){
    int fired;
    snprintf(zCase, sizeof(zCase), "%s/%s/point %ld of %ld", zWhat, errName(err), n, K);
    fired = x(pCtx, zCase, calls, err, n);
    CHECK(fired==1, "%s: the fault did not fire", zCase);
    if( fired ) tally(err);
    nPoints++;
  }
  printf("  %-58s %3ld points, %3ld faulted\n", zWhat, K, nPoints);
  fflush(stdout);
}

/* ----------------------------------------------------- 1. the VFS */

enum { OP_TXN, OP_SHRINK, OP_VACUUM, OP_GROW };
static int nDurableAfterError;   /* failed COMMITs whose transaction is durable */
typedef struct VfsCase {
  const char *zVfs;
  const char *zJournal;
  int eOp;
} VfsCase;

static sqlite3_int64 dbState(sqlite3 *db, int *pRc){
  return mbtInt(db, "SELECT count(*)*1000000007 + total(v) FROM t", pRc);
}

#define SETUP_ROWS "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<400)" \
                   " INSERT INTO t SELECT i, i, randomblob(100) FROM c;"
#define TXN_SQL "UPDATE t SET v=v+1 WHERE id%2=0; DELETE FROM t WHERE id>350;" \
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<60)" \
                " INSERT INTO t(v,pad) SELECT 7, randomblob(150) FROM c;"
#define SHRINK_SQL "DELETE FROM t WHERE id>100;"
#define GROW_SQL "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<600)" \
                 " INSERT INTO t(v,pad) SELECT 3, randomblob(300) FROM c;"

/* The state the operation leaves when it succeeds. */
static sqlite3_int64 vfsExpected(int eOp){
  sqlite3 *m = memOpen();
  sqlite3_int64 v;
  sqlite3_exec(m, "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad BLOB);" SETUP_ROWS, 0, 0, 0);
  if( eOp==OP_TXN ) sqlite3_exec(m, TXN_SQL, 0, 0, 0);
  if( eOp==OP_SHRINK || eOp==OP_VACUUM ) sqlite3_exec(m, SHRINK_SQL, 0, 0, 0);
  if( eOp==OP_GROW ) sqlite3_exec(m, GROW_SQL, 0, 0, 0);
  v = dbState(m, 0);
  sqlite3_close(m);
  return v;
}

/* The database on disk, through zVfs: integrity and one allowed state. */
static void vfsVerify(const char *zVfs, const char *zCase, sqlite3_int64 before,
                      sqlite3_int64 after, int committed){
  sqlite3 *db = dbOpen(zVfs);
  int rc;
  char *zIc;
  sqlite3_int64 now;
  zIc = mbtText(db, "PRAGMA integrity_check");
  CHECK(zIc && strcmp(zIc, "ok")==0, "%s via %s: integrity_check: %s", zCase, zVfs,
        zIc ? zIc : sqlite3_errmsg(db));
  sqlite3_free(zIc);
  now = dbState(db, &rc);
  CHECK(rc==SQLITE_OK, "%s via %s: read: %s", zCase, zVfs, sqlite3_errmsg(db));
  if( committed ){
    CHECK(now==after, "%s via %s: COMMIT succeeded but the transaction is not all there",
          zCase, zVfs);
  }else{
    /* All or nothing. "All" after a failed COMMIT is SQLite's own doing:
    ** a fault after the commit point (the TRUNCATE journal's sync after
    ** its reset, the auto_vacuum truncate after the journal is gone) is
    ** reported although the transaction is durable; stock unix does the
    ** same. Counted and printed. */
    CHECK(now==before || now==after, "%s via %s: COMMIT failed and the database is a mix",
          zCase, zVfs);
    if( now==after && strcmp(zVfs, "unix")!=0 ) nDurableAfterError++;
  }
  sqlite3_close(db);
}

static int vfsCase(const void *pCtx, const char *zCase, unsigned calls, int err, long nth){
  const VfsCase *c = pCtx;
  sqlite3 *db;
  sqlite3_int64 before, after;
  int rc, ext, fired;
  char *zSql;

  mbtRemoveDb(gDb);
  db = dbOpen(c->zVfs);
  zSql = sqlite3_mprintf("PRAGMA page_size=1024; PRAGMA auto_vacuum=%s;"
       "PRAGMA journal_mode=%s; PRAGMA synchronous=FULL;"
       "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad BLOB);" SETUP_ROWS "%s",
       c->eOp==OP_SHRINK ? "FULL" : "NONE", c->zJournal,
       c->eOp==OP_VACUUM ? SHRINK_SQL : "");
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  CHECK(rc==SQLITE_OK, "%s: setup: %s", zCase, sqlite3_errmsg(db));
  before = dbState(db, 0);
  after = vfsExpected(c->eOp);

  fArm(calls, gPattern, nth, err);
  if( c->eOp==OP_TXN ){
    rc = sqlite3_exec(db, "BEGIN;" TXN_SQL, 0, 0, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  }else if( c->eOp==OP_SHRINK ){
    rc = sqlite3_exec(db, SHRINK_SQL, 0, 0, 0);
  }else if( c->eOp==OP_GROW ){
    /* the file grows: the view follows (in WAL mode at the checkpoint) */
    rc = sqlite3_exec(db, "BEGIN;" GROW_SQL "COMMIT; SELECT sum(v) FROM t;"
                          "PRAGMA wal_checkpoint; SELECT sum(v) FROM t;", 0, 0, 0);
  }else{
    rc = sqlite3_exec(db, "VACUUM", 0, 0, 0);
  }
  fDisarm();
  ext = sqlite3_extended_errcode(db);
  fired = (int)fFired();

  if( !fired ){
    CHECK(rc==SQLITE_OK, "%s: no fault, yet: %s", zCase, sqlite3_errmsg(db));
  }else if( rc==SQLITE_OK ){
    /* Only where SQLite documents it: a fault in the WAL checkpoint that
    ** follows a commit, or in the shared-memory map, which SQLite retries
    ** with heap memory. */
    CHECK(strcmp(c->zJournal, "WAL")==0 || (calls & MBF_MMAP),
          "%s: the fault was swallowed (COMMIT returned SQLITE_OK)", zCase);
  }else if( calls & MBF_SYNCS ){
    CHECK(ext==SQLITE_IOERR_FSYNC, "%s: expected SQLITE_IOERR_FSYNC, got %d (%s)",
          zCase, ext, sqlite3_errmsg(db));
  }else if( calls & MBF_FTRUNCATE ){
    CHECK(ext==SQLITE_IOERR_TRUNCATE, "%s: expected SQLITE_IOERR_TRUNCATE, got %d (%s)",
          zCase, ext, sqlite3_errmsg(db));
  }else if( err==ENOSPC ){
    CHECK(rc==SQLITE_FULL, "%s: expected SQLITE_FULL, got %d (%s)", zCase, ext,
          sqlite3_errmsg(db));
  }else{
    CHECK((rc&0xff)==SQLITE_IOERR || rc==SQLITE_NOMEM, "%s: expected SQLITE_IOERR_*, got %d (%s)",
          zCase, ext, sqlite3_errmsg(db));
  }
  if( !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  sqlite3_close(db);
  if( c->eOp==OP_VACUUM ) before = after;   /* VACUUM does not change the content */
  vfsVerify(c->zVfs, zCase, before, after, rc==SQLITE_OK);
  vfsVerify("unix", zCase, before, after, rc==SQLITE_OK);
  return fired;
}

/* Every mapping of the database refused: reads take the platform path. */
static void vfsNoMap(const char *zVfs){
  sqlite3 *db;
  char *zStats;
  sqlite3_int64 n;
  int rc;
  mbtRemoveDb(gDb);
  db = dbOpen("unix");
  sqlite3_exec(db, "PRAGMA page_size=1024; CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER);"
                   "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<2000)"
                   " INSERT INTO t SELECT i, i FROM c;", 0, 0, 0);
  sqlite3_close(db);

  fArm(MBF_MMAP, gDb, -1, ENOMEM);
  db = dbOpen(zVfs);
  n = mbtInt(db, "SELECT sum(v) FROM t", &rc);
  CHECK(rc==SQLITE_OK && n==2001000, "%s, no mapping: sum=%lld rc=%d (%s)", zVfs, n, rc,
        sqlite3_errmsg(db));
  zStats = mbtText(db, "PRAGMA membase_stats");
  CHECK(zStats && strstr(zStats, "\"mapped\":false"), "%s, no mapping: membase_stats says %s",
        zVfs, zStats ? zStats : "(null)");
  sqlite3_free(zStats);
  rc = sqlite3_exec(db, "PRAGMA mmap_size=1000000; UPDATE t SET v=v+1 WHERE id=1;"
                        "INSERT INTO t(v) SELECT v FROM t WHERE id<=500;", 0, 0, 0);
  CHECK(rc==SQLITE_OK, "%s, no mapping: write: %s", zVfs, sqlite3_errmsg(db));
  n = mbtInt(db, "SELECT sum(v) FROM t", &rc);
  CHECK(rc==SQLITE_OK && n==2001000+1+125251, "%s, no mapping: read-back sum=%lld", zVfs, n);
  sqlite3_close(db);
  fDisarm();
  CHECK(fFired()>0, "%s, no mapping: no mmap of the database was refused", zVfs);
  if( fFired()>0 ) tally(ENOMEM);
  db = dbOpen("unix");
  n = mbtInt(db, "SELECT sum(v) FROM t", &rc);
  CHECK(rc==SQLITE_OK && n==2001000+1+125251, "%s, no mapping: stock reads sum=%lld", zVfs, n);
  sqlite3_close(db);
  printf("  %-58s %3ld refused\n", zVfs, fFired());
}

static void testVfs(void){
  static const char *const azVfs[] = { "membase", "membase-process" };
  printf("-- the membase VFS\n");
  for(int v=0; v<2; v++){
    char zWhat[200];
    static const char *const azJ[] = { "DELETE", "WAL" };
    for(int j=0; j<2; j++){
      VfsCase c = { azVfs[v], azJ[j], OP_TXN };
      snprintf(zWhat, sizeof(zWhat), "%s/%s/COMMIT/fsync", azVfs[v], azJ[j]);
      sweep(zWhat, vfsCase, &c, MBF_SYNCS, EIO);
      snprintf(zWhat, sizeof(zWhat), "%s/%s/COMMIT/write", azVfs[v], azJ[j]);
      sweep(zWhat, vfsCase, &c, MBF_WRITES, ENOSPC);
      if( !gQuick ) sweep(zWhat, vfsCase, &c, MBF_WRITES, EIO);
      snprintf(zWhat, sizeof(zWhat), "%s/%s/growth/mmap", azVfs[v], azJ[j]);
      c.eOp = OP_GROW;
      sweep(zWhat, vfsCase, &c, MBF_MMAP, ENOMEM);
    }
    {
      VfsCase c = { azVfs[v], "TRUNCATE", OP_TXN };
      snprintf(zWhat, sizeof(zWhat), "%s/TRUNCATE/COMMIT/ftruncate", azVfs[v]);
      sweep(zWhat, vfsCase, &c, MBF_FTRUNCATE, EIO);
      sweep(zWhat, vfsCase, &c, MBF_FTRUNCATE, ENOSPC);
      snprintf(zWhat, sizeof(zWhat), "%s/TRUNCATE/COMMIT/fsync", azVfs[v]);
      sweep(zWhat, vfsCase, &c, MBF_SYNCS, EIO);
    }
    {
      VfsCase c = { azVfs[v], "DELETE", OP_SHRINK };
      snprintf(zWhat, sizeof(zWhat), "%s/DELETE/auto_vacuum shrink/ftruncate", azVfs[v]);
      sweep(zWhat, vfsCase, &c, MBF_FTRUNCATE, EIO);
      sweep(zWhat, vfsCase, &c, MBF_FTRUNCATE, ENOSPC);
    }
    {
      VfsCase c = { azVfs[v], "DELETE", OP_VACUUM };
      snprintf(zWhat, sizeof(zWhat), "%s/DELETE/VACUUM/ftruncate", azVfs[v]);
      sweep(zWhat, vfsCase, &c, MBF_FTRUNCATE, EIO);
      snprintf(zWhat, sizeof(zWhat), "%s/DELETE/VACUUM/fsync", azVfs[v]);
      sweep(zWhat, vfsCase, &c, MBF_SYNCS, EIO);
    }
    vfsNoMap(azVfs[v]);
  }
  printf("  failed COMMITs whose transaction is durable (a fault after SQLite's commit "
         "point): %d\n", nDurableAfterError);
  mbtRemoveDb(gDb);
}

/* ---------------------------------------------- 2. the record table */

#define REC_SIZE 24
#define REC_N 2000
#define REC_APPEND 100
enum { REC_UPDATE, REC_INSERT, REC_OPEN };
typedef struct RecCase { int eOp; } RecCase;

static void put64(unsigned char *p, uint64_t v){
  for(int k=0; k<8; k++) p[k] = (unsigned char)(v>>(8*k));
}
static void putRec(unsigned char *p, int64_t id, double v, const char *zTag){
  uint64_t u;
  memcpy(&u, &v, 8);
  put64(p, (uint64_t)id);
  put64(p+8, u);
  memset(p+16, 0, 8);
  memcpy(p+16, zTag, strlen(zTag));
}

/* The old file, and the files a successful UPDATE or append leaves. */
static unsigned char aOld[REC_N*REC_SIZE], aUpd[REC_N*REC_SIZE];
static unsigned char aApp[(REC_N+REC_APPEND)*REC_SIZE];
static void recImages(void){
  for(int i=0; i<REC_N; i++) putRec(aOld+i*REC_SIZE, i, i*0.25, "rec");
  memcpy(aUpd, aOld, sizeof(aOld));
  for(int i=0; i<REC_N; i+=7) putRec(aUpd+i*REC_SIZE, i, i*0.25+1.5, "upd");
  memcpy(aApp, aOld, sizeof(aOld));
  for(int i=0; i<REC_APPEND; i++) putRec(aApp+(REC_N+i)*REC_SIZE, REC_N+i, i*0.5, "app");
}

static void recWriteOld(void){
  char zJ[PATH_MAX+256];
  FILE *f = fopen(gRec, "wb");
  if( f==0 || fwrite(aOld, 1, sizeof(aOld), f)!=sizeof(aOld) ){
    perror(gRec);
    exit(2);
  }
  fclose(f);
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", gRec);
  unlink(zJ);
}

/* 0: the file is aOld, 1: aUpd, 2: aApp, -1: something else. */
static int recFileState(void){
  static unsigned char a[sizeof(aApp)+1];
  size_t n;
  FILE *f = fopen(gRec, "rb");
  if( f==0 ) return -1;
  n = fread(a, 1, sizeof(a), f);
  fclose(f);
  if( n==sizeof(aOld) && memcmp(a, aOld, n)==0 ) return 0;
  if( n==sizeof(aUpd) && memcmp(a, aUpd, n)==0 ) return 1;
  if( n==sizeof(aApp) && memcmp(a, aApp, n)==0 ) return 2;
  return -1;
}

static int recCreate(sqlite3 *db){
  char *zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q',"
                               " layout='id i64, v f64, tag char(8)')", gRec);
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  return rc;
}

static int recCase(const void *pCtx, const char *zCase, unsigned calls, int err, long nth){
  const RecCase *c = pCtx;
  sqlite3 *db = memOpen();
  int rc, ext, fired, state, want;
  char *zErr = 0;
  char zJ[PATH_MAX+256];
  struct stat st;

  recWriteOld();
  if( c->eOp!=REC_OPEN ){
    rc = recCreate(db);
    CHECK(rc==SQLITE_OK, "%s: setup: %s", zCase, sqlite3_errmsg(db));
  }
  fArm(calls, gPattern, nth, err);
  if( c->eOp==REC_UPDATE ){
    rc = sqlite3_exec(db, "BEGIN; UPDATE r SET v=v+1.5, tag='upd' WHERE rowid%7=0", 0, 0, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    want = 1;
  }else if( c->eOp==REC_INSERT ){
    rc = sqlite3_exec(db, "BEGIN; WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c"
                          " WHERE i<99) INSERT INTO r(id, v, tag) SELECT 2000+i, i*0.5, 'app'"
                          " FROM c", 0, 0, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    want = 2;
  }else{
    sqlite3_int64 n;
    rc = recCreate(db);
    if( rc==SQLITE_OK ){
      n = mbtInt(db, "SELECT count(*) + sum(id) + sum(v) FROM r", &rc);
      CHECK(rc!=SQLITE_OK || n==2000+1999000+499750, "%s: wrong rows: %lld", zCase, n);
    }
    want = 0;
  }
  fDisarm();
  ext = sqlite3_extended_errcode(db);
  if( rc ) zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  fired = (int)fFired();
  if( !fired ){
    CHECK(rc==SQLITE_OK, "%s: no fault, yet: %s", zCase, zErr);
  }else if( rc!=SQLITE_OK ){
    CHECK(zErr && strstr(zErr, gRec), "%s: the message does not name the file: %s", zCase, zErr);
    if( calls & (MBF_SYNCS|MBF_MSYNC) ){
      CHECK(ext==SQLITE_IOERR_FSYNC, "%s: expected SQLITE_IOERR_FSYNC, got %d (%s)", zCase,
            ext, zErr);
    }else if( err==ENOSPC ){
      CHECK(rc==SQLITE_FULL || (rc&0xff)==SQLITE_IOERR, "%s: expected SQLITE_FULL or "
            "SQLITE_IOERR_*, got %d (%s)", zCase, ext, zErr);
    }else{
      CHECK((rc&0xff)==SQLITE_IOERR || rc==SQLITE_CANTOPEN || rc==SQLITE_ERROR,
            "%s: unexpected code %d (%s)", zCase, ext, zErr);
    }
  }else{
    /* A fault that did not fail the statement: only a mapping refused on
    ** a path that can do without it. */
    CHECK(calls & MBF_MMAP, "%s: the fault was swallowed", zCase);
  }
  CHECK(sqlite3_get_autocommit(db), "%s: still in a transaction", zCase);
  sqlite3_close(db);

  /* the file as the rollback (or the commit) left it */
  state = recFileState();
  if( rc==SQLITE_OK ){
    CHECK(state==want, "%s: COMMIT succeeded but the file is not the new one (%d)", zCase, state);
  }else{
    CHECK(state==0, "%s: failed, but the file is not the old one (%s)", zCase,
          state<0 ? "torn" : "the new one");
  }
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", gRec);
  CHECK(stat(zJ, &st)!=0, "%s: the append journal was left behind", zCase);

  /* a new table on the file, no faults */
  db = memOpen();
  {
    int r2 = recCreate(db);
    sqlite3_int64 n = -1;
    if( r2==SQLITE_OK ) n = mbtInt(db, "SELECT count(*) FROM r", &r2);
    CHECK(r2==SQLITE_OK && n==(state==2 ? REC_N+REC_APPEND : REC_N),
          "%s: reopened: %lld records (%s)", zCase, n, sqlite3_errmsg(db));
  }
  sqlite3_close(db);
  sqlite3_free(zErr);
  return fired;
}

/* A .npy append whose COMMIT meets a fault: the code is SQLite's (a core
** code leaked out as 245 before), the message names the file, and the
** file holds the old shape or the new one, never a shape counting records
** that are not there. */
static char gNpy[PATH_MAX+128];
static void npyWriteOld(void){
  char zDict[256], zHdr[512];
  int nDict, nPad;
  FILE *f = fopen(gNpy, "wb");
  if( f==0 ){ perror(gNpy); exit(2); }
  nDict = snprintf(zDict, sizeof(zDict), "{'descr': [('id', '<i8'), ('v', "
                   "'<f8')], 'fortran_order': False, 'shape': (%d,), }", REC_N);
  nPad = 64 - (10 + nDict + 1) % 64;
  if( nPad==64 ) nPad = 0;
  memset(zHdr, ' ', sizeof(zHdr));
  memcpy(zHdr, zDict, (size_t)nDict);
  zHdr[nDict+nPad] = '\n';
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc((nDict+nPad+1) & 0xff, f);
  fputc((nDict+nPad+1) >> 8, f);
  fwrite(zHdr, 1, (size_t)(nDict+nPad+1), f);
  for(int i=0; i<REC_N; i++){
    unsigned char a[16];
    double v = i*0.25;
    uint64_t u;
    memcpy(&u, &v, 8);
    put64(a, (uint64_t)i);
    put64(a+8, u);
    fwrite(a, 1, 16, f);
  }
  fclose(f);
}

static int npyCase(const void *pCtx, const char *zCase, unsigned calls, int err, long nth){
  sqlite3 *db = memOpen();
  int rc, ext, fired;
  char *zErr = 0, *zSql;
  sqlite3_int64 n;
  (void)pCtx;
  npyWriteOld();
  zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q')", gNpy);
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  CHECK(rc==SQLITE_OK, "%s: setup: %s", zCase, sqlite3_errmsg(db));
  fArm(calls, gPattern, nth, err);
  rc = sqlite3_exec(db, "BEGIN; WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c"
                        " WHERE i<99) INSERT INTO r(id, v) SELECT 2000+i, i*0.5 FROM c", 0, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  fDisarm();
  ext = sqlite3_extended_errcode(db);
  if( rc ) zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  fired = (int)fFired();
  if( fired && rc!=SQLITE_OK ){
    CHECK(ext==SQLITE_IOERR_FSYNC, "%s: expected SQLITE_IOERR_FSYNC, got %d (%s)",
          zCase, ext, zErr);
    CHECK(zErr && strstr(zErr, gNpy), "%s: the message does not name the file: %s",
          zCase, zErr);
  }else if( !fired ){
    CHECK(rc==SQLITE_OK, "%s: no fault, yet: %s", zCase, zErr);
  }
  if( !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  sqlite3_close(db);
  db = memOpen();
  zSql = sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q')", gNpy);
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  n = rc==SQLITE_OK ? mbtInt(db, "SELECT count(*) FROM r", &rc) : -1;
  CHECK(rc==SQLITE_OK && (n==REC_N || n==REC_N+REC_APPEND),
        "%s: reopened: %lld records (%s)", zCase, n, sqlite3_errmsg(db));
  sqlite3_close(db);
  sqlite3_free(zErr);
  return fired;
}

static void testRecords(void){
  static const RecCase cU = { REC_UPDATE }, cI = { REC_INSERT }, cO = { REC_OPEN };
  printf("-- the record table\n");
  recImages();
  sweep("records/UPDATE COMMIT/fsync", recCase, &cU, MBF_SYNCS, EIO);
  sweep("records/UPDATE COMMIT/msync", recCase, &cU, MBF_MSYNC, EIO);
  sweep("records/append COMMIT/fsync", recCase, &cI, MBF_SYNCS, EIO);
  sweep("records/append COMMIT/msync", recCase, &cI, MBF_MSYNC, EIO);
  sweep("records/append COMMIT/ftruncate", recCase, &cI, MBF_FTRUNCATE, ENOSPC);
  sweep("records/append COMMIT/journal write", recCase, &cI, MBF_WRITES, ENOSPC);
  sweep("records/append COMMIT/mmap", recCase, &cI, MBF_MMAP, ENOMEM);
  sweep("records/open and scan/mmap", recCase, &cO, MBF_MMAP, ENOMEM);
  snprintf(gNpy, sizeof(gNpy), "%srec.npy", gPattern);
  sweep("records/.npy append COMMIT/msync", npyCase, 0, MBF_MSYNC, EIO);
  sweep("records/.npy append COMMIT/fsync", npyCase, 0, MBF_SYNCS, EIO);
  unlink(gNpy);
  {
    char zJ[PATH_MAX+256];
    snprintf(zJ, sizeof(zJ), "%s-mbjournal", gRec);
    unlink(gRec);
    unlink(zJ);
  }
}

/* ------------------------------------------------- 3. membase_lines */

#define LINES_N 3000
static sqlite3_int64 nLinesBytes;

static int linesCase(const void *pCtx, const char *zCase, unsigned calls, int err, long nth){
  sqlite3 *db = memOpen();
  sqlite3_stmt *st = 0;
  int rc, fired;
  sqlite3_int64 n = -1, len = -1;
  (void)pCtx;
  fArm(calls, gPattern, nth, err);
  rc = sqlite3_prepare_v2(db, "SELECT count(*), total(length(line)) FROM membase_lines(?1)"
                              " WHERE line LIKE '%line%'", -1, &st, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(st, 1, gLines, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if( rc==SQLITE_ROW ){
      n = sqlite3_column_int64(st, 0);
      len = sqlite3_column_int64(st, 1);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  fDisarm();
  fired = (int)fFired();
  if( rc==SQLITE_OK ){
    CHECK(n==LINES_N && len==nLinesBytes, "%s: wrong answer: %lld lines, %lld bytes", zCase,
          n, len);
  }else{
    /* SQLITE_NOMEM carries SQLite's own "out of memory"; anything else
    ** must name the file */
    CHECK(fired && (rc==SQLITE_NOMEM || strstr(sqlite3_errmsg(db), gLines)),
          "%s: error %d: %s", zCase, sqlite3_extended_errcode(db), sqlite3_errmsg(db));
  }
  sqlite3_close(db);
  return fired;
}

static void testLines(void){
  FILE *f = fopen(gLines, "wb");
  int nOk = 0, nErr = 0;
  printf("-- membase_lines\n");
  if( f==0 ){ perror(gLines); exit(2); }
  nLinesBytes = 0;
  for(int i=0; i<LINES_N; i++){
    int k = fprintf(f, "line %d of the log %s\n", i, (i%5) ? "ok" : "ERROR");
    nLinesBytes += k-1;
  }
  fclose(f);
  sweep("membase_lines/scan/mmap", linesCase, 0, MBF_MMAP, ENOMEM);
  /* every mapping refused */
  for(int i=0; i<2; i++){
    sqlite3 *db = memOpen();
    int rc;
    sqlite3_int64 n;
    char *zSql = sqlite3_mprintf("SELECT count(*) FROM membase_lines('%q')", gLines);
    fArm(MBF_MMAP, gPattern, -1, ENOMEM);
    n = mbtInt(db, zSql, &rc);
    fDisarm();
    if( rc==SQLITE_OK ){
      nOk++;
      CHECK(n==LINES_N, "membase_lines, no mapping: %lld lines", n);
    }else{
      nErr++;
      CHECK(rc==SQLITE_NOMEM || strstr(sqlite3_errmsg(db), gLines),
            "membase_lines, no mapping: %s", sqlite3_errmsg(db));
    }
    if( fFired()>0 ) tally(ENOMEM);
    sqlite3_free(zSql);
    sqlite3_close(db);
  }
  printf("  %-58s %d answered, %d errors (%s)\n", "membase_lines/no mapping at all", nOk, nErr,
         nErr ? "no read path: the query fails" : "read path");
  unlink(gLines);
}

int main(int argc, char **argv){
  const char *z;
  (void)argc;
  preloadBind(argv);
  z = getenv("MB_TEST_TMPDIR");
  /* canonical: the library matches against the kernel's name of a file */
  if( realpath(z ? z : "/tmp", gDir)==0 ){
    perror(z ? z : "/tmp");
    return 2;
  }
  snprintf(gPattern, sizeof(gPattern), "%s/faults-%d-", gDir, (int)getpid());
  snprintf(gDb, sizeof(gDb), "%sdb.db", gPattern);
  snprintf(gRec, sizeof(gRec), "%srec.bin", gPattern);
  snprintf(gLines, sizeof(gLines), "%slines.log", gPattern);
  z = getenv("MB_FAULTS_QUICK");
  gQuick = z && z[0]=='1';
#if defined(MB_HAVE_VALGRIND_H)
  if( RUNNING_ON_VALGRIND ) gQuick = 1;
#endif
  if( gQuick ) printf("quick sweeps (valgrind or MB_FAULTS_QUICK=1)\n");
  if( membase_register()!=SQLITE_OK ){
    fprintf(stderr, "membase_register failed\n");
    return 2;
  }
  testVfs();
  testRecords();
  testLines();
  report();
  printf("test_faults_preload: %d checks, %d failures\n", nCheck, nFail);
  return nFail ? 1 : 0;
}
