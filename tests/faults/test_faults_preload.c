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
**  2. The record table (membase module), the transaction contract of
**     docs/TRANSACTIONS.md, on a raw file of 24-byte records and a .npy
**     file of 16-byte records:
**     - transactions of several UPDATEs, several INSERTs (appends; on the
**       .npy file a new shape), and both; fsync, fdatasync, msync, pwrite,
**       write, ftruncate and mmap failing with EIO and with ENOSPC at every
**       call the transaction makes (counted first), watched on the file
**       and its -mbjournal together, then on the journal alone: the
**       statement or COMMIT returns an SQLite error code (never a core
**       MB_E* value), the message names the file and has no "MB_" name;
**       the rollback leaves the file byte for byte as it was and no
**       journal; a fresh connection (recovery) finds the whole file
**       exactly as before the transaction (failed COMMIT) or as after it
**       (a fault-free run of the same transaction on the same file);
**     - recovery of a hot journal (a crafted armed v2 journal over the
**       whole new state; the same over a torn file: changed pages written,
**       growth lost; one left by a COMMIT whose apply and rollback fail)
**       with each of those calls failing at every point of the recovery:
**       the open recovers the old state, or fails with an SQLite error
**       naming the file and keeps the journal, and a clean open after it
**       restores the old state; a v1 journal is still rolled back.
**     --records runs this part only.
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
static int gOnlyRecords;     /* --records: the record table's part only */

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

/* The contract under test is docs/TRANSACTIONS.md: UPDATEs and INSERTs go
** into a write set, COMMIT journals (v2, armed), applies, syncs and
** deletes the journal; a failure before the commit point leaves (after
** the in-process rollback, or else after recovery) the file exactly as it
** was; recovery of a hot journal either restores the file or fails with
** an SQLite error and leaves the journal. Each case compares the whole
** file, byte for byte, with the state before the transaction and the state
** a fault-free run of the same transaction leaves. */

#define REC_SIZE 24
#define REC_N 2000
#define NPY_SIZE 16

static char gNpy[PATH_MAX+128];
static char gJrnPattern[PATH_MAX+160];    /* FILE-mbjournal of the file in use */

static void put64(unsigned char *p, uint64_t v){
  for(int k=0; k<8; k++) p[k] = (unsigned char)(v>>(8*k));
}
static uint64_t get64(const unsigned char *p){
  uint64_t v = 0;
  for(int k=0; k<8; k++) v |= (uint64_t)p[k]<<(8*k);
  return v;
}
static void putRec(unsigned char *p, int64_t id, double v, const char *zTag){
  uint64_t u;
  memcpy(&u, &v, 8);
  put64(p, (uint64_t)id);
  put64(p+8, u);
  memset(p+16, 0, 8);
  memcpy(p+16, zTag, strlen(zTag));
}

/* A whole file in memory. */
typedef struct Img { unsigned char *a; size_t n; int bExists; } Img;

static void imgFree(Img *p){ free(p->a); memset(p, 0, sizeof(*p)); }

static Img imgRead(const char *zPath){
  Img m = {0, 0, 0};
  FILE *f = fopen(zPath, "rb");
  if( f==0 ) return m;
  m.bExists = 1;
  for(;;){
    unsigned char *a = realloc(m.a, m.n + 65536);
    size_t k;
    if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    m.a = a;
    k = fread(m.a+m.n, 1, 65536, f);
    m.n += k;
    if( k<65536 ) break;
  }
  fclose(f);
  return m;
}

/* Write the file in place (same inode: a journal names it by inode). */
static void imgWrite(const char *zPath, const unsigned char *a, size_t n){
  FILE *f = fopen(zPath, "wb");
  if( f==0 || (n && fwrite(a, 1, n, f)!=n) || fclose(f)!=0 ){
    perror(zPath);
    exit(2);
  }
}

static int imgEq(const Img *p, const Img *q){
  return p->bExists==q->bExists && p->n==q->n && (p->n==0 || memcmp(p->a, q->a, p->n)==0);
}

static int fileExists(const char *z){
  struct stat st;
  return stat(z, &st)==0;
}

/* The .npy file: descr [('id','<i8'),('v','<f8')], REC_N records. */
static size_t npyImage(unsigned char *aOut, size_t nOut){
  char zDict[256], zHdr[512];
  int nDict, nPad;
  size_t n = 0;
  nDict = snprintf(zDict, sizeof(zDict), "{'descr': [('id', '<i8'), ('v', "
                   "'<f8')], 'fortran_order': False, 'shape': (%d,), }", REC_N);
  /* room to spare in the header for a longer shape */
  nPad = 64 - (10 + nDict + 1) % 64;
  if( nPad==64 ) nPad = 0;
  memset(zHdr, ' ', sizeof(zHdr));
  memcpy(zHdr, zDict, (size_t)nDict);
  zHdr[nDict+nPad] = '\n';
  memcpy(aOut, "\x93NUMPY\x01\x00", 8);
  aOut[8] = (unsigned char)((nDict+nPad+1) & 0xff);
  aOut[9] = (unsigned char)((nDict+nPad+1) >> 8);
  memcpy(aOut+10, zHdr, (size_t)(nDict+nPad+1));
  n = 10 + (size_t)(nDict+nPad+1);
  for(int i=0; i<REC_N; i++){
    double v = i*0.25;
    uint64_t u;
    memcpy(&u, &v, 8);
    put64(aOut+n, (uint64_t)i);
    put64(aOut+n+8, u);
    n += NPY_SIZE;
  }
  if( n>nOut ){ fprintf(stderr, "npy image too large\n"); exit(2); }
  return n;
}

/* One transaction of the sweeps. */
enum { TX_UPDATE, TX_APPEND, TX_BOTH };
typedef struct RecTx {
  const char *zName;
  int bNpy;
  int eKind;
  const char *zSql;   /* the statements between BEGIN and COMMIT */
} RecTx;

#define SQL_UPD "UPDATE r SET v=v+1.5 WHERE rowid%7=0; UPDATE r SET v=-v WHERE rowid BETWEEN 500 AND 520;"
#define SQL_UPD_RAW "UPDATE r SET v=v+1.5, tag='upd' WHERE rowid%7=0; UPDATE r SET v=-v WHERE rowid BETWEEN 500 AND 520;"
#define SQL_APP_RAW "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<99)" \
  " INSERT INTO r(id, v, tag) SELECT 2000+i, i*0.5, 'app' FROM c;" \
  " INSERT INTO r(id, v, tag) VALUES(2100, 1.0, 'one'); INSERT INTO r(id, v, tag) VALUES(2101, 2.0, 'two');"
#define SQL_APP_NPY "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<99)" \
  " INSERT INTO r(id, v) SELECT 2000+i, i*0.5 FROM c;" \
  " INSERT INTO r(id, v) VALUES(2100, 1.0); INSERT INTO r(id, v) VALUES(2101, 2.0);"
#define SQL_LATE "UPDATE r SET v=99 WHERE rowid IN (3, 2050, 2101);"

static const RecTx aRecTx[] = {
  { "raw/UPDATEs",           0, TX_UPDATE, SQL_UPD_RAW },
  { "raw/INSERTs",           0, TX_APPEND, SQL_APP_RAW },
  { "raw/UPDATEs+INSERTs",   0, TX_BOTH,   SQL_UPD_RAW SQL_APP_RAW SQL_LATE },
  { "npy/UPDATEs",           1, TX_UPDATE, SQL_UPD },
  { "npy/INSERTs (shape)",   1, TX_APPEND, SQL_APP_NPY },
  { "npy/UPDATEs+INSERTs",   1, TX_BOTH,   SQL_UPD SQL_APP_NPY SQL_LATE },
};
#define N_RECTX ((int)(sizeof(aRecTx)/sizeof(aRecTx[0])))

static Img aBefore[N_RECTX], aAfter[N_RECTX];

static const char *txFile(const RecTx *t){ return t->bNpy ? gNpy : gRec; }

static int txCreate(sqlite3 *db, const RecTx *t){
  char *zSql = t->bNpy
    ? sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q')", gNpy)
    : sqlite3_mprintf("CREATE VIRTUAL TABLE r USING membase(file='%q',"
                      " layout='id i64, v f64, tag char(8)')", gRec);
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  return rc;
}

/* The file before the transaction, and no journal. */
static void txReset(const RecTx *t, int iTx){
  char zJ[PATH_MAX+256];
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", txFile(t));
  unlink(zJ);
  imgWrite(txFile(t), aBefore[iTx].a, aBefore[iTx].n);
}

/* Is rc a code SQLite defines for an error (never a core MB_E* code, a
** negative value or 245, the low byte of one)? */
static int sqliteErrorCode(int ext){
  int prim = ext & 0xff;
  if( ext<=0 || prim<1 || prim>28 ) return 0;
  if( (ext>>8) > 40 ) return 0;
  return strcmp(sqlite3_errstr(ext), "unknown error")!=0;
}

/* The checks every failed statement or COMMIT gets: an SQLite code of the
** I/O kind, a message that names the file and no core code name. */
static void checkError(const char *zCase, unsigned calls, int rc, int ext, const char *zErr,
                       const char *zFile){
  int prim = rc & 0xff;
  CHECK(sqliteErrorCode(ext) && (ext & 0xff)==prim, "%s: not an SQLite error code: rc=%d "
        "extended=%d (%s)", zCase, rc, ext, zErr ? zErr : "");
  CHECK(prim==SQLITE_IOERR || prim==SQLITE_FULL || prim==SQLITE_BUSY || prim==SQLITE_NOMEM
        || prim==SQLITE_CANTOPEN || ((calls & MBF_MMAP) && prim==SQLITE_ERROR),
        "%s: not an I/O error code: %d (%s)", zCase, ext, zErr ? zErr : "");
  CHECK(zErr && strstr(zErr, zFile), "%s: the message does not name the file: %s", zCase,
        zErr ? zErr : "(none)");
  CHECK(zErr==0 || strstr(zErr, "MB_")==0, "%s: the message has a core code name: %s",
        zCase, zErr);
}

/* Independent images of a raw transaction, to check the fault-free run. */
static void rawExpected(int eKind, Img *pOut){
  size_t n = (size_t)REC_N*REC_SIZE + (eKind==TX_UPDATE ? 0 : 102*REC_SIZE);
  unsigned char *a = calloc(1, n);
  if( a==0 ) exit(2);
  for(int i=0; i<REC_N; i++) putRec(a+i*REC_SIZE, i, i*0.25, "rec");
  if( eKind!=TX_APPEND ){
    for(int i=0; i<REC_N; i+=7) putRec(a+i*REC_SIZE, i, i*0.25+1.5, "upd");
    for(int i=500; i<=520; i++){
      double v;
      uint64_t u = get64(a+i*REC_SIZE+8);
      memcpy(&v, &u, 8);
      v = -v;
      memcpy(&u, &v, 8);
      put64(a+i*REC_SIZE+8, u);
    }
  }
  if( eKind!=TX_UPDATE ){
    for(int i=0; i<100; i++) putRec(a+(REC_N+i)*REC_SIZE, REC_N+i, i*0.5, "app");
    putRec(a+(REC_N+100)*REC_SIZE, 2100, 1.0, "one");
    putRec(a+(REC_N+101)*REC_SIZE, 2101, 2.0, "two");
  }
  if( eKind==TX_BOTH ){
    static const int aiRow[] = { 3, 2050, 2101 };
    for(int k=0; k<3; k++){
      double v = 99;
      uint64_t u;
      memcpy(&u, &v, 8);
      put64(a+aiRow[k]*REC_SIZE+8, u);
    }
  }
  pOut->a = a;
  pOut->n = n;
  pOut->bExists = 1;
}

/* The state before each transaction, and after it (a fault-free run). */
static void txImages(void){
  static unsigned char aNpy[REC_N*NPY_SIZE + 1024];
  size_t nNpy = npyImage(aNpy, sizeof(aNpy));
  for(int i=0; i<N_RECTX; i++){
    const RecTx *t = &aRecTx[i];
    sqlite3 *db = memOpen();
    int rc;
    Img m = {0, 0, 1};
    if( t->bNpy ){
      m.a = malloc(nNpy); m.n = nNpy; memcpy(m.a, aNpy, nNpy);
    }else{
      m.n = (size_t)REC_N*REC_SIZE;
      m.a = malloc(m.n);
      for(int k=0; k<REC_N; k++) putRec(m.a+k*REC_SIZE, k, k*0.25, "rec");
    }
    aBefore[i] = m;
    txReset(t, i);
    rc = txCreate(db, t);
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, t->zSql, 0, 0, 0);
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    if( rc!=SQLITE_OK ){
      fprintf(stderr, "%s: the fault-free transaction fails: %s\n", t->zName,
              sqlite3_errmsg(db));
      exit(2);
    }
    sqlite3_close(db);
    aAfter[i] = imgRead(txFile(t));
    if( !t->bNpy ){
      Img want;
      rawExpected(t->eKind, &want);
      CHECK(imgEq(&want, &aAfter[i]), "%s: the fault-free run leaves the wrong bytes",
            t->zName);
      imgFree(&want);
    }else{
      /* the records after the header are the ones the SQL wrote */
      size_t nHdr = nNpy - (size_t)REC_N*NPY_SIZE;
      const char *zShape = t->eKind==TX_UPDATE ? "(2000,)" : "(2102,)";
      CHECK(aAfter[i].n == nNpy + (t->eKind==TX_UPDATE ? 0 : 102*NPY_SIZE)
            && memmem(aAfter[i].a, nHdr, zShape, strlen(zShape))!=0,
            "%s: the fault-free run leaves a wrong length or shape", t->zName);
    }
    CHECK(!imgEq(&aBefore[i], &aAfter[i]), "%s: the transaction changes nothing", t->zName);
  }
}

/* Where faults are watched: the record file and its journal (the pattern
** is the file's path, which the journal's path contains), or the journal
** alone. */
enum { TGT_BOTH, TGT_JOURNAL };
typedef struct TxCase { int iTx; int eTarget; } TxCase;

static int nFailedButNew;   /* failed COMMITs that left the new state */
static int nStmtFail, nCommitFail, nSwallowedMmap, nSwallowedTidy;

static const char *targetPattern(const RecTx *t, int eTarget){
  if( eTarget==TGT_BOTH ) return txFile(t);
  snprintf(gJrnPattern, sizeof(gJrnPattern), "%s-mbjournal", txFile(t));
  return gJrnPattern;
}

static int txCase(const void *pCtx, const char *zCase, unsigned calls, int err, long nth){
  const TxCase *c = pCtx;
  const RecTx *t = &aRecTx[c->iTx];
  const char *zFile = txFile(t);
  sqlite3 *db = memOpen();
  int rc, ext = SQLITE_OK, fired, bCommit = 0, bJrnLeft;
  char *zErr = 0;
  char zJ[PATH_MAX+256];
  Img now;

  snprintf(zJ, sizeof(zJ), "%s-mbjournal", zFile);
  txReset(t, c->iTx);
  rc = txCreate(db, t);
  CHECK(rc==SQLITE_OK, "%s: setup: %s", zCase, sqlite3_errmsg(db));
  fArm(calls, targetPattern(t, c->eTarget), nth, err);
  rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, t->zSql, 0, 0, 0);
  if( rc==SQLITE_OK ){
    bCommit = 1;
    rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  }
  fDisarm();
  fired = (int)fFired();
  if( rc ){
    ext = sqlite3_extended_errcode(db);
    zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    if( bCommit ) nCommitFail++; else nStmtFail++;
  }
  if( !fired ){
    CHECK(rc==SQLITE_OK, "%s: no fault, yet: %s", zCase, zErr);
  }else if( rc!=SQLITE_OK ){
    checkError(zCase, calls, rc, ext, zErr, zFile);
  }else if( calls & MBF_FTRUNCATE ){
    /* After the commit point (the journal disarmed and synced) the
    ** journal is emptied without a sync, as tidying: a failure there
    ** leaves an unarmed journal (inert) and a committed transaction. */
    Img f = imgRead(zFile), jr = imgRead(zJ);
    CHECK(imgEq(&f, &aAfter[c->iTx]) && (!jr.bExists || jr.n<64 || get64(jr.a+56)==0),
          "%s: the fault was swallowed (COMMIT returned SQLITE_OK) before the "
          "commit point", zCase);
    imgFree(&f);
    imgFree(&jr);
    nSwallowedTidy++;
  }else{
    /* Only a refused mapping on a path that can do without it may leave
    ** COMMIT successful; a lost fsync or write never may. */
    CHECK(calls & MBF_MMAP, "%s: the fault was swallowed (COMMIT returned SQLITE_OK)", zCase);
    nSwallowedMmap++;
  }
  if( !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  sqlite3_close(db);

  /* As the failed transaction's rollback left it: one fault only, so the
  ** rollback itself had none; the contract: the original bytes back and
  ** the journal gone. */
  bJrnLeft = fileExists(zJ);
  now = imgRead(zFile);
  if( rc!=SQLITE_OK ){
    CHECK(!bJrnLeft, "%s: a journal is left although the rollback met no fault (%s)",
          zCase, zErr);
    CHECK(imgEq(&now, &aBefore[c->iTx]), "%s: the failed transaction's rollback did not put "
          "the file back (%s, %zu bytes; before %zu, after %zu)", zCase,
          imgEq(&now, &aAfter[c->iTx]) ? "the new state" : "neither state", now.n,
          aBefore[c->iTx].n, aAfter[c->iTx].n);
  }
  imgFree(&now);

  /* A fresh connection, no faults: recovery, then the whole file. */
  db = memOpen();
  {
    int r2 = txCreate(db, t);
    sqlite3_int64 n = -1;
    size_t nRec = t->bNpy ? NPY_SIZE : REC_SIZE;
    if( r2==SQLITE_OK ) n = mbtInt(db, "SELECT count(*) FROM r", &r2);
    now = imgRead(zFile);
    CHECK(r2==SQLITE_OK, "%s: reopened: %s", zCase, sqlite3_errmsg(db));
    if( imgEq(&now, &aAfter[c->iTx]) ){
      CHECK(n==(sqlite3_int64)(REC_N + (t->eKind==TX_UPDATE ? 0 : 102)),
            "%s: new state, %lld records", zCase, n);
      if( rc!=SQLITE_OK ) nFailedButNew++;
      CHECK(rc==SQLITE_OK, "%s: COMMIT failed (%s) but the file holds the transaction",
            zCase, zErr);
    }else{
      CHECK(imgEq(&now, &aBefore[c->iTx]), "%s: after recovery the file is neither the state "
            "before nor the state after the transaction (%zu bytes; before %zu, after %zu)",
            zCase, now.n, aBefore[c->iTx].n, aAfter[c->iTx].n);
      CHECK(rc!=SQLITE_OK, "%s: COMMIT succeeded but the file is the old one", zCase);
      CHECK(n==REC_N, "%s: old state, %lld records", zCase, n);
    }
    (void)nRec;
    imgFree(&now);
    CHECK(!fileExists(zJ), "%s: the journal is still there after recovery", zCase);
  }
  sqlite3_close(db);
  sqlite3_free(zErr);
  return fired;
}

static const struct { unsigned calls; const char *zName; } aCall[] = {
  { MBF_FSYNC, "fsync" }, { MBF_FDATASYNC, "fdatasync" }, { MBF_MSYNC, "msync" },
  { MBF_PWRITE, "pwrite" }, { MBF_WRITE, "write" }, { MBF_FTRUNCATE, "ftruncate" },
  { MBF_MMAP, "mmap" },
};
#define N_CALL ((int)(sizeof(aCall)/sizeof(aCall[0])))
static const int aErr[] = { EIO, ENOSPC };

/* Points per sweep, summed per (transaction, target) and per call. */
static long aPoints[N_RECTX][2][N_CALL];

/* Run one sweep and note how many points it had. */
static long sweepK(const char *zWhat, CaseFn x, const void *pCtx, unsigned calls, int err){
  long K;
  char zCase[300];
  snprintf(zCase, sizeof(zCase), "%s/%s/count", zWhat, errName(err));
  x(pCtx, zCase, calls, err, 0);
  K = fSeen();
  for(long n=1; n<=K; n=nextPoint(n, K)){
    int fired;
    snprintf(zCase, sizeof(zCase), "%s/%s/point %ld of %ld", zWhat, errName(err), n, K);
    fired = x(pCtx, zCase, calls, err, n);
    CHECK(fired==1, "%s: the fault did not fire", zCase);
    if( fired ) tally(err);
  }
  return K;
}

static void testRecordCommits(void){
  printf("-- the record table: faults in the transaction and its COMMIT\n");
  for(int i=0; i<N_RECTX; i++){
    for(int g=0; g<2; g++){
      TxCase c = { i, g };
      char zWhat[200];
      long nSum = 0;
      printf("  %-28s %-13s", aRecTx[i].zName, g==TGT_BOTH ? "file+journal" : "journal");
      for(int k=0; k<N_CALL; k++){
        long K = 0;
        snprintf(zWhat, sizeof(zWhat), "records/%s/%s/%s", aRecTx[i].zName,
                 g==TGT_BOTH ? "file+journal" : "journal", aCall[k].zName);
        for(int e=0; e<2; e++) K = sweepK(zWhat, txCase, &c, aCall[k].calls, aErr[e]);
        aPoints[i][g][k] = K;
        nSum += K;
        printf(" %s=%ld", aCall[k].zName, K);
      }
      printf("\n");
      fflush(stdout);
      /* the journal is written and synced in every COMMIT (the contract's
      ** step 1): no point at all there means no journal */
      if( g==TGT_JOURNAL ){
        CHECK(aPoints[i][g][0]+aPoints[i][g][1] > 0, "records/%s: the journal is never "
              "synced", aRecTx[i].zName);
        CHECK(aPoints[i][g][3]+aPoints[i][g][4] > 0, "records/%s: the journal is never "
              "written", aRecTx[i].zName);
      }
      (void)nSum;
    }
  }
  printf("  statements failed: %d, COMMITs failed: %d, mapping refusals survived: %d, "
         "journal truncations after the commit point survived: %d, "
         "failed COMMITs that kept the new state: %d\n", nStmtFail, nCommitFail,
         nSwallowedMmap, nSwallowedTidy, nFailedButNew);
}

/* ------------------------------------------ 2b. recovery of a hot journal */

/* mbj_cksum of TRANSACTIONS.md */
static uint64_t mbjCksum(const unsigned char *b, size_t n){
  uint32_t s0 = 0, s1 = 0;
  for(size_t i=0; i<n; i+=8){
    unsigned char w[8] = {0};
    uint32_t a, c;
    memcpy(w, b+i, n-i<8 ? n-i : 8);
    a = (uint32_t)w[0] | (uint32_t)w[1]<<8 | (uint32_t)w[2]<<16 | (uint32_t)w[3]<<24;
    c = (uint32_t)w[4] | (uint32_t)w[5]<<8 | (uint32_t)w[6]<<16 | (uint32_t)w[7]<<24;
    s0 += a + s1;
    s1 += c + s0;
  }
  return (uint64_t)s1<<32 | s0;
}

/* An armed v2 journal that takes pAfter (the file on disk, zFile) back to
** pBefore: one entry per record-sized range that differs. */
static Img craftJournal(const char *zFile, const Img *pBefore, const Img *pAfter, size_t nRec,
                        size_t nHdr){
  Img j = {0, 0, 1};
  struct stat st;
  size_t nCap = 64 + pBefore->n*2 + 4096, nMin = pBefore->n<pAfter->n ? pBefore->n : pAfter->n;
  if( stat(zFile, &st)!=0 ){ perror(zFile); exit(2); }
  j.a = calloc(1, nCap);
  if( j.a==0 ) exit(2);
  j.n = 64;
  /* the header (nHdr bytes) as one entry, then the records */
  for(size_t off=0; off<nMin; ){
    size_t len = off<nHdr ? nHdr : nRec;
    if( off+len>nMin ) len = nMin-off;
    if( memcmp(pBefore->a+off, pAfter->a+off, len)!=0 ){
      put64(j.a+j.n, off);
      j.a[j.n+8] = (unsigned char)len; j.a[j.n+9] = (unsigned char)(len>>8);
      j.a[j.n+10] = (unsigned char)(len>>16); j.a[j.n+11] = (unsigned char)(len>>24);
      memset(j.a+j.n+12, 0, 4);
      memcpy(j.a+j.n+16, pBefore->a+off, len);
      j.n += 16 + len;
    }
    off += len;
  }
  memcpy(j.a, "MBJRNL02", 8);
  put64(j.a+8, (uint64_t)st.st_dev);
  put64(j.a+16, (uint64_t)st.st_ino);
  put64(j.a+24, pBefore->n);
  put64(j.a+32, pAfter->n);
  put64(j.a+40, j.n-64);
  put64(j.a+48, mbjCksum(j.a+64, j.n-64));
  put64(j.a+56, mbjCksum(j.a, 56) | 1);
  return j;
}

/* A hot journal and the file it belongs to, to be recovered. */
typedef struct HotCase {
  const RecTx *t;
  int iTx;
  Img file, jrn;     /* as the crash left them */
} HotCase;

static int nRecoverOk, nRecoverErr;

static void hotInstall(const HotCase *h){
  char zJ[PATH_MAX+256];
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", txFile(h->t));
  imgWrite(txFile(h->t), h->file.a, h->file.n);   /* same inode */
  imgWrite(zJ, h->jrn.a, h->jrn.n);
}

static int hotCase(const void *pCtx, const char *zCase, unsigned calls, int err, long nth){
  const HotCase *h = pCtx;
  const char *zFile = txFile(h->t);
  sqlite3 *db = memOpen();
  int rc, ext, fired;
  sqlite3_int64 n = -1;
  char *zErr = 0;
  char zJ[PATH_MAX+256];
  Img now, jnow;

  snprintf(zJ, sizeof(zJ), "%s-mbjournal", zFile);
  hotInstall(h);
  fArm(calls, zFile, nth, err);
  rc = txCreate(db, h->t);
  if( rc==SQLITE_OK ) n = mbtInt(db, "SELECT count(*) FROM r", &rc);
  fDisarm();
  fired = (int)fFired();
  ext = sqlite3_extended_errcode(db);
  if( rc ) zErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  sqlite3_close(db);
  now = imgRead(zFile);
  jnow = imgRead(zJ);
  if( rc==SQLITE_OK ){
    nRecoverOk++;
    CHECK(!fired || (calls & MBF_MMAP), "%s: recovery swallowed the fault", zCase);
    CHECK(n==REC_N, "%s: recovered, but %lld records", zCase, n);
    CHECK(imgEq(&now, &aBefore[h->iTx]), "%s: recovered, but the file is not the old state "
          "(%zu bytes)", zCase, now.n);
    CHECK(!jnow.bExists, "%s: recovered, but the journal is still there", zCase);
  }else{
    nRecoverErr++;
    CHECK(fired, "%s: no fault, yet: %s", zCase, zErr);
    checkError(zCase, calls, rc, ext, zErr, zFile);
    /* a failure of the recovery itself (not of mapping the file first)
    ** says which journal could not be rolled back */
    CHECK((calls & MBF_MMAP) || (zErr && strstr(zErr, zJ)), "%s: the message does not name "
          "the journal: %s", zCase, zErr ? zErr : "");
    CHECK(jnow.bExists, "%s: the failed recovery did not leave the journal (%s)", zCase, zErr);
  }
  imgFree(&now);
  imgFree(&jnow);

  /* a later clean open restores the old state */
  db = memOpen();
  rc = txCreate(db, h->t);
  if( rc==SQLITE_OK ) n = mbtInt(db, "SELECT count(*) FROM r", &rc);
  CHECK(rc==SQLITE_OK && n==REC_N, "%s: clean open after it: %lld records (%s)", zCase, n,
        sqlite3_errmsg(db));
  sqlite3_close(db);
  now = imgRead(zFile);
  CHECK(imgEq(&now, &aBefore[h->iTx]), "%s: the clean open did not restore the old state "
        "(%zu bytes; before %zu, after %zu)", zCase, now.n, aBefore[h->iTx].n,
        aAfter[h->iTx].n);
  CHECK(!fileExists(zJ), "%s: the clean open left the journal", zCase);
  imgFree(&now);
  sqlite3_free(zErr);
  return fired;
}

static long aHotPoints[6][N_CALL];

static void hotSweeps(HotCase *h, int iRow, const char *zKind){
  char zWhat[200];
  printf("  %-28s %-13s", h->t->zName, zKind);
  for(int k=0; k<N_CALL; k++){
    long K = 0;
    snprintf(zWhat, sizeof(zWhat), "recovery/%s/%s/%s", h->t->zName, zKind, aCall[k].zName);
    for(int e=0; e<2; e++) K = sweepK(zWhat, hotCase, h, aCall[k].calls, aErr[e]);
    aHotPoints[iRow][k] = K;
    printf(" %s=%ld", aCall[k].zName, K);
  }
  printf("\n");
  fflush(stdout);
  CHECK(aHotPoints[iRow][0]+aHotPoints[iRow][1]+aHotPoints[iRow][2] > 0,
        "%s/%s: recovery never syncs the file", h->t->zName, zKind);
}

/* A hot journal left by a COMMIT whose apply failed and whose rollback
** failed too: every msync and fsync of the record file fails (its
** journal is synced with fdatasync: SQLite's unix VFS). */
static int hotFromCommit(int iTx, HotCase *h){
  const RecTx *t = &aRecTx[iTx];
  sqlite3 *db = memOpen();
  char zJ[PATH_MAX+256];
  int rc;
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", txFile(t));
  txReset(t, iTx);
  rc = txCreate(db, t);
  {
    /* every write and sync of the file itself (not of its journal): the
    ** apply and then the in-process rollback fail */
    char zPat[PATH_MAX+4352];
    snprintf(zPat, sizeof(zPat), "%s$", txFile(t));
    fArm(MBF_MSYNC|MBF_FSYNC|MBF_FDATASYNC|MBF_PWRITE, zPat, -1, EIO);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, t->zSql, 0, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc ){
    checkError("recovery/hot journal from a failed COMMIT", MBF_MSYNC, rc,
               sqlite3_extended_errcode(db), sqlite3_errmsg(db), txFile(t));
  }
  if( !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  /* the process dies with the table open: close it with faults still on,
  ** so that nothing cleans up */
  sqlite3_close(db);
  fDisarm();
  h->t = t;
  h->iTx = iTx;
  h->file = imgRead(txFile(t));
  h->jrn = imgRead(zJ);
  printf("  hot journal from a COMMIT whose apply and rollback fail (%s): COMMIT %s, "
         "journal %s, file %s\n", t->zName, rc ? "failed" : "succeeded",
         h->jrn.bExists ? "left" : "gone",
         imgEq(&h->file, &aBefore[iTx]) ? "old" : imgEq(&h->file, &aAfter[iTx]) ? "new" : "torn");
  CHECK(rc!=SQLITE_OK, "recovery/%s: COMMIT succeeded although every write and sync "
        "of the file failed", t->zName);
  return h->jrn.bExists && h->jrn.n>=64 && get64(h->jrn.a+56)!=0;
}

/* A v1 journal (an append of the old design, cut short by a crash) is
** still rolled back. */
static void testV1Journal(void){
  const RecTx *t = &aRecTx[1];
  char zJ[PATH_MAX+256];
  unsigned char a[24];
  uint64_t n = aBefore[1].n;
  sqlite3 *db = memOpen();
  sqlite3_int64 k;
  int rc;
  Img now;
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", gRec);
  imgWrite(gRec, aAfter[1].a, aAfter[1].n);
  memcpy(a, "MBJRNL01", 8);
  put64(a+8, n);
  put64(a+16, n ^ 0x5a5a5a5a5a5a5a5aULL);
  imgWrite(zJ, a, sizeof(a));
  rc = txCreate(db, t);
  k = rc==SQLITE_OK ? mbtInt(db, "SELECT count(*) FROM r", &rc) : -1;
  CHECK(rc==SQLITE_OK && k==REC_N, "recovery/v1 journal: %lld records (%s)", k,
        sqlite3_errmsg(db));
  sqlite3_close(db);
  now = imgRead(gRec);
  CHECK(imgEq(&now, &aBefore[1]), "recovery/v1 journal: the append was not rolled back");
  CHECK(!fileExists(zJ), "recovery/v1 journal: the journal is still there");
  imgFree(&now);
}

static void testRecovery(void){
  static const int aiTx[] = { 2, 5 };   /* raw and .npy, UPDATEs+INSERTs */
  printf("-- the record table: faults in the recovery of a hot journal\n");
  for(int i=0; i<2; i++){
    int iTx = aiTx[i];
    const RecTx *t = &aRecTx[iTx];
    HotCase h;
    h.t = t;
    h.iTx = iTx;
    /* crafted: the file holds the whole new state, the journal is armed */
    imgWrite(txFile(t), aAfter[iTx].a, aAfter[iTx].n);
    h.file = imgRead(txFile(t));
    h.jrn = craftJournal(txFile(t), &aBefore[iTx], &aAfter[iTx],
                         t->bNpy ? NPY_SIZE : REC_SIZE,
                         t->bNpy ? aBefore[iTx].n - (size_t)REC_N*NPY_SIZE : 0);
    hotSweeps(&h, i*3, "crafted");
    imgFree(&h.file);
    imgFree(&h.jrn);
    /* crafted, torn as a power loss may leave it: the changed pages on
    ** disk (the .npy header with the new shape) but not the growth */
    imgWrite(txFile(t), aAfter[iTx].a, aBefore[iTx].n);
    h.file = imgRead(txFile(t));
    h.jrn = craftJournal(txFile(t), &aBefore[iTx], &aAfter[iTx],
                         t->bNpy ? NPY_SIZE : REC_SIZE,
                         t->bNpy ? aBefore[iTx].n - (size_t)REC_N*NPY_SIZE : 0);
    hotSweeps(&h, i*3+1, "torn");
    imgFree(&h.file);
    imgFree(&h.jrn);
    if( hotFromCommit(iTx, &h) ){
      hotSweeps(&h, i*3+2, "from COMMIT");
    }else{
      CHECK(imgEq(&h.file, &aBefore[iTx]), "recovery/%s: no hot journal, and the file is "
            "not the old state", t->zName);
      printf("  (no armed journal left: nothing to recover)\n");
    }
    imgFree(&h.file);
    imgFree(&h.jrn);
  }
  testV1Journal();
  printf("  recoveries that succeeded: %d, that failed with the journal kept: %d\n",
         nRecoverOk, nRecoverErr);
}

static void testRecords(void){
  char zJ[PATH_MAX+256];
  snprintf(gNpy, sizeof(gNpy), "%srec.npy", gPattern);
  txImages();
  testRecordCommits();
  testRecovery();
  unlink(gNpy);
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", gNpy);
  unlink(zJ);
  snprintf(zJ, sizeof(zJ), "%s-mbjournal", gRec);
  unlink(gRec);
  unlink(zJ);
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
  for(int i=1; i<argc; i++){
    if( strcmp(argv[i], "--records")==0 ){
      gOnlyRecords = 1;
    }else{
      fprintf(stderr, "usage: %s [--records]\n", argv[0]);
      return 2;
    }
  }
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
  if( !gOnlyRecords ) testVfs();
  testRecords();
  if( !gOnlyRecords ) testLines();
  report();
  printf("test_faults_preload: %d checks, %d failures\n", nCheck, nFail);
  return nFail ? 1 : 0;
}
