/*
** mb_bench_vfs_threads.c -- several threads, each with its own connection
** on one database file, mixing point reads and small write transactions:
** the membase VFSes against stock "unix", rollback and WAL.
**
** Usage
**   mb_bench_vfs_threads [--threads N] [--write-pct P] [--seconds S]
**                        [--reps N] [--rows N] [--sync MODE] [--dir PATH]
**                        [--quick]
**
**   --threads N    threads, one connection each (default 4)
**   --write-pct P  percent of operations that are write transactions
**                  (default 10; the rest are reads)
**   --seconds S    duration of one figure (default 3; --quick 1)
**   --reps N       repetitions, alternating between the configurations;
**                  every figure is the median (default 3; --quick 2)
**   --rows N       rows in the table (default 100000)
**   --sync MODE    PRAGMA synchronous of every connection (default NORMAL)
**   --only NAMES   run only these configurations (comma-separated names
**                  from the table, e.g. "unix WAL,membase-process"); the
**                  ratios then need "unix" and "unix WAL" among them
**   --dir PATH     where the database lives (default build-vbench/ of the
**                  tree, else $TMPDIR or /tmp); mb_bench_vfs_threads.db,
**                  written again for every figure
**   Or run everything with: bash bench/run.sh
**
** Operations (statements prepared once per connection):
**   read   SELECT v FROM t WHERE id=?             autocommit, random id
**   write  BEGIN IMMEDIATE; 4 x UPDATE t SET v=v+1 WHERE id=?; COMMIT
** Every connection has busy_timeout 5000 ms; an SQLITE_BUSY that comes back
** anyway is counted and the operation retried. Afterwards sum(v) must equal
** 4 x the writes committed: a check that the locking lost no update.
** Table t(id INTEGER PRIMARY KEY, v INTEGER, pad BLOB of 100 B), 4 KiB pages,
** written with stock SQLite before every figure; the journal mode is set
** through the configuration's own VFS.
**
** Ratios: ops/s over stock unix (rollback) and over stock unix WAL.
*/
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sqlite3.h>
#include "membase.h"
#define MB_BENCH_NAME "mb_bench_vfs_threads"
#include "mb_bench_util.h"

#define MMAP_MAX 2147418112LL   /* 0x7fff0000: Debian's SQLITE_MAX_MMAP_SIZE */
#define UPDATES_PER_WRITE 4

typedef struct Config {
  const char *name;
  const char *vfs;
  const char *journal;       /* "delete" or "wal" */
  sqlite3_int64 mmap;
  double *ops, *reads, *writes, *busy;  /* per rep: per second, busy: count */
} Config;

/* What the threads share for one figure. */
typedef struct Run {
  const Config *cfg;
  const char *path;
  const char *sync;
  int writePct;
  sqlite3_int64 rows;
  atomic_int ready;          /* threads prepared */
  atomic_int go;             /* 1: start, 2: stop */
} Run;

typedef struct Worker {
  Run *run;
  pthread_t tid;
  uint64_t rng;
  long long reads, writes, busy;
} Worker;

static uint64_t next_rand(Worker *w){
  w->rng ^= w->rng << 13; w->rng ^= w->rng >> 7; w->rng ^= w->rng << 17;
  return w->rng;
}

/* Steps st to completion; SQLITE_BUSY/LOCKED are returned, other errors
** are fatal. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what){
  int rc;
  while( (rc = sqlite3_step(st))==SQLITE_ROW ){}
  sqlite3_reset(st);
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  if( (rc & 0xff)==SQLITE_BUSY || (rc & 0xff)==SQLITE_LOCKED ) return SQLITE_BUSY;
  mb_bench_die(db, what);
  return rc;
}

static void *worker_main(void *arg){
  Worker *w = arg;
  Run *run = w->run;
  sqlite3 *db;
  sqlite3_stmt *rd, *begin, *upd, *commit, *rollback;
  char sql[128];

  if( sqlite3_open_v2(run->path, &db, SQLITE_OPEN_READWRITE, run->cfg->vfs)!=SQLITE_OK )
    mb_bench_die(db, run->cfg->name);
  sqlite3_busy_timeout(db, 5000);
  snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", (long long)run->cfg->mmap);
  mb_bench_exec(db, sql);
  snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", run->sync);
  mb_bench_exec(db, sql);
  if( sqlite3_prepare_v2(db, "SELECT v FROM t WHERE id=?", -1, &rd, 0)
   || sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, 0)
   || sqlite3_prepare_v2(db, "UPDATE t SET v=v+1 WHERE id=?", -1, &upd, 0)
   || sqlite3_prepare_v2(db, "COMMIT", -1, &commit, 0)
   || sqlite3_prepare_v2(db, "ROLLBACK", -1, &rollback, 0) ) mb_bench_die(db, "prepare");

  atomic_fetch_add(&run->ready, 1);
  while( atomic_load(&run->go)==0 ) sched_yield();
  while( atomic_load_explicit(&run->go, memory_order_relaxed)==1 ){
    if( (int)(next_rand(w) % 100) < run->writePct ){
      int k, ok = 1;
      if( step_done(db, begin, "BEGIN IMMEDIATE")!=SQLITE_OK ){ w->busy++; continue; }
      for(k=0; k<UPDATES_PER_WRITE && ok; k++){
        sqlite3_bind_int64(upd, 1, 1 + (sqlite3_int64)(next_rand(w) % (uint64_t)run->rows));
        if( step_done(db, upd, "UPDATE")!=SQLITE_OK ) ok = 0;
      }
      /* COMMIT can be busy (rollback mode: readers hold SHARED past the
      ** timeout); retry it, the transaction is still open. */
      while( ok && step_done(db, commit, "COMMIT")!=SQLITE_OK ){
        w->busy++;
        if( atomic_load(&run->go)!=1 ){ ok = 0; }
      }
      if( !ok ){
        w->busy++;
        if( !sqlite3_get_autocommit(db) ) step_done(db, rollback, "ROLLBACK");
        continue;
      }
      w->writes++;
    }else{
      sqlite3_bind_int64(rd, 1, 1 + (sqlite3_int64)(next_rand(w) % (uint64_t)run->rows));
      if( step_done(db, rd, "SELECT")!=SQLITE_OK ){ w->busy++; continue; }
      w->reads++;
    }
  }
  sqlite3_finalize(rd); sqlite3_finalize(begin); sqlite3_finalize(upd);
  sqlite3_finalize(commit); sqlite3_finalize(rollback);
  if( sqlite3_close(db)!=SQLITE_OK ) mb_bench_die(db, "close");
  return 0;
}

static void remove_db(const char *path){
  char p[4200];
  unlink(path);
  snprintf(p, sizeof p, "%s-journal", path); unlink(p);
  snprintf(p, sizeof p, "%s-wal", path); unlink(p);
  snprintf(p, sizeof p, "%s-shm", path); unlink(p);
}

/* A fresh database for one figure, in cfg's journal mode. */
static void make_db(const char *path, const Config *cfg, sqlite3_int64 rows){
  sqlite3 *db;
  char sql[512];
  remove_db(path);
  if( sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, "unix") )
    mb_bench_die(db, path);
  snprintf(sql, sizeof sql,
    "PRAGMA page_size=4096; PRAGMA synchronous=OFF;"
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, pad BLOB);"
    "BEGIN;"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<%lld)"
    " INSERT INTO t SELECT i, 0, zeroblob(100) FROM c;"
    "COMMIT;", (long long)rows);
  mb_bench_exec(db, sql);
  if( sqlite3_close(db)!=SQLITE_OK ) mb_bench_die(db, "close");
  /* The journal mode through the configuration's own VFS. */
  if( sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, cfg->vfs) ) mb_bench_die(db, cfg->name);
  snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", cfg->journal);
  mb_bench_exec(db, sql);
  if( sqlite3_close(db)!=SQLITE_OK ) mb_bench_die(db, "close");
}

int main(int argc, char **argv){
  int nThread = 4, writePct = 10, reps = 3, i, r, k;
  double seconds = 3;
  sqlite3_int64 rows = 100000;
  const char *dir = 0, *sync = "NORMAL", *only = 0;
  char path[4096], mach[512], load0[64], load1[64];
  double tRun;
  Config cfg[] = {
    { "unix",                "unix",            "delete", 0,        0,0,0,0 },
    { "unix mmap=max",       "unix",            "delete", MMAP_MAX, 0,0,0,0 },
    { "unix WAL",            "unix",            "wal",    0,        0,0,0,0 },
    { "unix WAL mmap=max",   "unix",            "wal",    MMAP_MAX, 0,0,0,0 },
    { "membase",             "membase",         "delete", MMAP_MAX, 0,0,0,0 },
    { "membase WAL",         "membase",         "wal",    MMAP_MAX, 0,0,0,0 },
    { "membase-process",     "membase-process", "delete", MMAP_MAX, 0,0,0,0 },
    { "membase-process WAL", "membase-process", "wal",    MMAP_MAX, 0,0,0,0 },
  };
  int nCfg = (int)(sizeof cfg / sizeof cfg[0]);
  Worker *w;

  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "--threads")==0 && i+1<argc ) nThread = atoi(argv[++i]);
    else if( strcmp(argv[i], "--write-pct")==0 && i+1<argc ) writePct = atoi(argv[++i]);
    else if( strcmp(argv[i], "--seconds")==0 && i+1<argc ) seconds = atof(argv[++i]);
    else if( strcmp(argv[i], "--reps")==0 && i+1<argc ) reps = atoi(argv[++i]);
    else if( strcmp(argv[i], "--rows")==0 && i+1<argc ) rows = atoll(argv[++i]);
    else if( strcmp(argv[i], "--sync")==0 && i+1<argc ) sync = argv[++i];
    else if( strcmp(argv[i], "--dir")==0 && i+1<argc ) dir = argv[++i];
    else if( strcmp(argv[i], "--only")==0 && i+1<argc ) only = argv[++i];
    else if( strcmp(argv[i], "--quick")==0 ){ seconds = 1; reps = 2; }
    else if( strcmp(argv[i], "--no-cold")==0 || strcmp(argv[i], "--verbose")==0 ){}
    else {
      fprintf(stderr, "usage: %s [--threads N] [--write-pct P] [--seconds S] [--reps N]"
              " [--rows N] [--sync MODE] [--only NAMES] [--dir PATH] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if( nThread<1 || writePct<0 || writePct>100 || seconds<=0 || reps<1 || rows<1
   || strspn(sync, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123")!=strlen(sync) ){
    fprintf(stderr, "mb_bench_vfs_threads: bad option value\n");
    return 2;
  }
#ifdef MB_BENCH_DATA_DIR
  /* build-vbench/ of the tree: a build dir, gitignored; made if missing. */
  if( !dir && (mkdir(MB_BENCH_DATA_DIR, 0777)==0 || errno==EEXIST)
      && access(MB_BENCH_DATA_DIR, W_OK)==0 ) dir = MB_BENCH_DATA_DIR;
#endif
  if( !dir ) dir = getenv("TMPDIR");
  if( !dir || !*dir ) dir = "/tmp";
  snprintf(path, sizeof path, "%s/mb_bench_vfs_threads.db", dir);

  if( membase_vfs_register(MEMBASE_VFS_KEEP_DEFAULT)!=SQLITE_OK ){
    fprintf(stderr, "mb_bench_vfs_threads: membase_vfs_register failed\n");
    return 2;
  }
  if( !sqlite3_threadsafe() ){ fprintf(stderr, "SQLite is not threadsafe\n"); return 2; }

  if( only ){
    int n = 0;
    for(i=0; i<nCfg; i++){
      const char *p = only;
      size_t len = strlen(cfg[i].name);
      int keep = 0;
      while( p && *p ){
        if( strncmp(p, cfg[i].name, len)==0 && (p[len]==',' || p[len]==0) ) keep = 1;
        p = strchr(p, ',');
        if( p ) p++;
      }
      if( keep ) cfg[n++] = cfg[i];
    }
    if( n==0 ){ fprintf(stderr, "mb_bench_vfs_threads: --only matches no configuration\n"); return 2; }
    nCfg = n;
  }
  w = calloc((size_t)nThread, sizeof *w);
  for(i=0; i<nCfg; i++){
    cfg[i].ops = calloc((size_t)reps, sizeof(double));
    cfg[i].reads = calloc((size_t)reps, sizeof(double));
    cfg[i].writes = calloc((size_t)reps, sizeof(double));
    cfg[i].busy = calloc((size_t)reps, sizeof(double));
  }
  mb_bench_loadavg(load0, sizeof load0);
  tRun = mb_bench_now_s();
  for(r=0; r<reps; r++){
    for(i=0; i<nCfg; i++){
      Run run;
      long long reads = 0, writes = 0, busy = 0;
      double t0, el;
      sqlite3 *db;
      sqlite3_int64 sum;
      fprintf(stderr, "mb_bench_vfs_threads: rep %d/%d %s\n", r+1, reps, cfg[i].name);
      make_db(path, &cfg[i], rows);
      memset(&run, 0, sizeof run);
      run.cfg = &cfg[i]; run.path = path; run.sync = sync;
      run.writePct = writePct; run.rows = rows;
      atomic_init(&run.ready, 0);
      atomic_init(&run.go, 0);
      for(k=0; k<nThread; k++){
        memset(&w[k], 0, sizeof w[k]);
        w[k].run = &run;
        w[k].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(k+1) + (uint64_t)r;
        if( pthread_create(&w[k].tid, 0, worker_main, &w[k])!=0 ){
          fprintf(stderr, "pthread_create failed\n"); return 2;
        }
      }
      while( atomic_load(&run.ready)<nThread ) usleep(1000);
      t0 = mb_bench_now_s();
      atomic_store(&run.go, 1);
      usleep((useconds_t)(seconds*1e6));
      atomic_store(&run.go, 2);
      for(k=0; k<nThread; k++){
        pthread_join(w[k].tid, 0);
        reads += w[k].reads; writes += w[k].writes; busy += w[k].busy;
      }
      el = mb_bench_now_s()-t0;
      cfg[i].ops[r] = (double)(reads+writes)/el;
      cfg[i].reads[r] = (double)reads/el;
      cfg[i].writes[r] = (double)writes/el;
      cfg[i].busy[r] = (double)busy;
      /* Every committed write added UPDATES_PER_WRITE to sum(v). */
      if( sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, "unix") ) mb_bench_die(db, path);
      sum = mb_bench_query_int(db, "SELECT sum(v) FROM t");
      sqlite3_close(db);
      if( sum!=writes*UPDATES_PER_WRITE ){
        printf("LOST UPDATES: %s rep %d: sum(v) = %lld, expected %lld (%lld writes)\n",
               cfg[i].name, r+1, (long long)sum, writes*UPDATES_PER_WRITE, writes);
        return 1;
      }
    }
  }
  tRun = mb_bench_now_s()-tRun;
  mb_bench_loadavg(load1, sizeof load1);
  remove_db(path);

  mb_bench_machine(mach, sizeof mach);
  printf("MemBase VFS benchmark: mb_bench_vfs_threads\n\n");
  printf("configuration\n");
  printf("  database     %s, t(id INTEGER PRIMARY KEY, v, pad 100 B), %lld rows,\n", path, (long long)rows);
  printf("               4 KiB pages, written again before every figure\n");
  printf("  load         %d threads, one connection each, for %.1f s per figure:\n", nThread, seconds);
  printf("               %d%% reads (SELECT v FROM t WHERE id=?, autocommit),\n", 100-writePct);
  printf("               %d%% writes (BEGIN IMMEDIATE; %d x UPDATE of a random row; COMMIT)\n",
         writePct, UPDATES_PER_WRITE);
  printf("               busy_timeout 5000 ms, synchronous=%s, page cache default\n", sync);
  printf("  reps         %d, alternating; every figure is the median; %.1f s in all\n", reps, tRun);
  printf("               load average %s before, %s after\n", load0, load1);
  printf("  SQLite       %s (system)\n", sqlite3_libversion());
  printf("\nmachine\n  %s\n\n", mach);

  {
    double base = 0, wal = 0;
    printf("%-20s %-16s %-7s %11s %10s %10s %9s %7s %8s %8s   %s\n", "configuration", "vfs",
           "journal", "mmap_size", "ops/s", "reads/s", "writes/s", "busy", "x unix", "x WAL",
           "(ops/s of the reps, sorted)");
    for(i=0; i<nCfg; i++){
      Config *c = &cfg[i];
      double o = mb_bench_median(c->ops, reps);
      if( strcmp(c->name, "unix")==0 ) base = o;
      if( strcmp(c->name, "unix WAL")==0 ) wal = o;
    }
    for(i=0; i<nCfg; i++){
      Config *c = &cfg[i];
      double o;
      printf("%-20s %-16s %-7s %11lld", c->name, c->vfs, c->journal, (long long)c->mmap);
      o = mb_bench_median(c->ops, reps);     /* sorts: the reps are shown after */
      printf(" %10.0f %10.0f %9.0f %7.0f %7.2fx %7.2fx  ", o, mb_bench_median(c->reads, reps),
             mb_bench_median(c->writes, reps), mb_bench_median(c->busy, reps),
             base>0 ? o/base : 0.0, wal>0 ? o/wal : 0.0);
      for(r=0; r<reps; r++) printf(" %.0f", c->ops[r]);
      printf("\n");
    }
    printf("  (x unix = ops/s / stock unix rollback, x WAL = ops/s / stock unix WAL, higher is\n"
           "   better; busy = SQLITE_BUSY returned despite the timeout, operation retried)\n");
    printf("\ntargets (reported, not asserted)\n");
    for(i=0; i<nCfg; i++){
      double p = mb_bench_median(cfg[i].ops, reps);
      if( strncmp(cfg[i].name, "membase-process", 15)!=0 || wal==0 ) continue;
      printf("  %-20s >= 2x stock unix WAL     %6.2fx  %s\n", cfg[i].name, p/wal,
             p/wal>=2 ? "PASS" : "FAIL");
    }
  }
  printf("\nno lost updates: sum(v) = %d x writes committed, in every figure\n", UPDATES_PER_WRITE);
  for(i=0; i<nCfg; i++){
    free(cfg[i].ops); free(cfg[i].reads); free(cfg[i].writes); free(cfg[i].busy);
  }
  free(w);
  return 0;
}
