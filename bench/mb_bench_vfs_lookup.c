/*
** mb_bench_vfs_lookup.c -- random point lookups on a database larger than
** SQLite's mmap cap, through the membase VFS and through stock "unix".
**
** Usage
**   mb_bench_vfs_lookup [--size-mb N] [--lookups N] [--reps N] [--dir PATH]
**                       [--quick]
**
**   --size-mb N  database size in MiB (default 2560: beyond the 2 GiB that
**                stock SQLite can map, so its tail is read with pread)
**   --lookups N  lookups per figure (default 500000; --quick 100000)
**   --reps N     repetitions, alternating between the configurations; every
**                figure is the median (default 5; --quick 2)
**   --dir PATH   where the database lives (default build-vbench/ of the
**                tree, else $TMPDIR or /tmp). It is kept and reused:
**                mb_bench_vfs_lookup_<N>MiB.db
**   Or run everything with: bash bench/run.sh
**
** Database: t(id INTEGER PRIMARY KEY, x INTEGER, pad BLOB), 4 KiB pages,
** rows of about 1 KiB (4 per leaf page), written in id order, so the rows
** with the highest ids sit at the end of the file. x = (id*2654435761) mod
** 1000003, and every configuration must return the same sum of x.
**
** Figure: SELECT x FROM t WHERE id=? for uniformly random ids (the same
** sequence for every configuration), prepared once,
**   autocommit   each lookup its own read transaction (what an app does:
**                lock, change-counter read, B-tree descent, unlock)
**   one txn      all lookups inside one BEGIN ... COMMIT (the page fetches
**                alone)
** The OS cache is warm (the file is read once first), SQLite's page cache
** is the default 2000 KiB, so nearly every lookup fetches its pages from the
** VFS. Each connection first scans the table once (SELECT sum(x)), which
** also faults its mapping in; that first scan is shown. The connections stay
** open for all reps, except membase-process: it holds the database
** exclusively while open (no other connection of the process could read
** it), so it is opened, scanned (untimed after rep 1) and closed at its turn.
**
** Configurations:
**   unix                 stock, mmap_size=0: every page read with pread
**   unix mmap=max        stock, mmap_size=2147418112 (0x7fff0000, Debian's
**                        cap): the first 2 GiB mapped, the tail by pread
**   membase mmap=max     the membase VFS, mmap_size=2147418112
**   membase mmap=0       the membase VFS, mmap_size=0 (no xFetch: xRead
**                        served from the mapping)
**   membase-process      the membase-process VFS, mmap_size=2147418112
** Ratios: lookups/s over the stock figure (higher is better for membase).
*/
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
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
#define MB_BENCH_NAME "mb_bench_vfs_lookup"
#include "mb_bench_util.h"

#define MMAP_MAX 2147418112LL   /* 0x7fff0000: Debian's SQLITE_MAX_MMAP_SIZE */
#define PAD_BYTES 1000

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t xorshift(void){
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

/* Rows for a database of about `bytes`: 4 rows of ~1 KiB per 4 KiB page,
** plus ~0.5% of interior pages. */
static sqlite3_int64 rows_for(uint64_t bytes){
  return (sqlite3_int64)(bytes / 4096 * 4 * 199 / 200);
}

/* Writes the database to PATH.tmp with stock SQLite, then renames it, so an
** interrupted run never leaves a half-written file to be reused. */
static void generate(const char *path, sqlite3_int64 rows){
  char tmp[4200], sql[512];
  sqlite3 *db;
  double t0 = mb_bench_now_s();
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  unlink(tmp);
  fprintf(stderr, "mb_bench_vfs_lookup: writing %lld rows to %s ...\n",
          (long long)rows, path);
  if( sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, "unix") )
    mb_bench_die(db, tmp);
  mb_bench_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=OFF;"
               "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
               "CREATE TABLE t(id INTEGER PRIMARY KEY, x INTEGER, pad BLOB);"
               "CREATE TABLE meta(rows INTEGER, pad INTEGER);");
  snprintf(sql, sizeof sql,
    "BEGIN;"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<%lld)"
    " INSERT INTO t SELECT i, (i*2654435761)%%1000003, zeroblob(%d) FROM c;"
    "INSERT INTO meta VALUES(%lld, %d);"
    "COMMIT;", (long long)rows, PAD_BYTES, (long long)rows, PAD_BYTES);
  mb_bench_exec(db, sql);
  if( sqlite3_close(db)!=SQLITE_OK ) mb_bench_die(db, "close");
  if( rename(tmp, path)!=0 ){ perror(path); exit(2); }
  fprintf(stderr, "mb_bench_vfs_lookup: written in %.1f s\n", mb_bench_now_s()-t0);
}

/* The rows of an existing database written by generate(), or 0. */
static sqlite3_int64 existing_rows(const char *path){
  sqlite3 *db;
  sqlite3_stmt *st;
  sqlite3_int64 rows = 0;
  if( access(path, R_OK)!=0 ) return 0;
  if( sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix")!=SQLITE_OK ){
    sqlite3_close(db);
    return 0;
  }
  if( sqlite3_prepare_v2(db, "SELECT rows FROM meta WHERE pad=?", -1, &st, 0)==SQLITE_OK ){
    sqlite3_bind_int(st, 1, PAD_BYTES);
    if( sqlite3_step(st)==SQLITE_ROW ) rows = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

/* Reads the whole file once, so the OS cache is warm. Returns seconds. */
static double warm_file(const char *path){
  static char buf[1<<20];
  double t0 = mb_bench_now_s();
  int fd = open(path, O_RDONLY);
  if( fd<0 ){ perror(path); exit(2); }
  while( read(fd, buf, sizeof buf)>0 ){}
  close(fd);
  return mb_bench_now_s()-t0;
}

typedef struct Config {
  const char *name;
  const char *vfs;
  sqlite3_int64 mmap;
  int transient;             /* opened for its turn only (process locking) */
  sqlite3 *db;
  sqlite3_stmt *look;
  double firstScan;          /* seconds of the first SELECT sum(x) */
  double *autoRate, *txnRate;/* lookups/s per rep */
  sqlite3_int64 sum;         /* sum of x over the lookups */
} Config;

static void config_open(Config *c, const char *path){
  char sql[128];
  double t0;
  if( sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, c->vfs)!=SQLITE_OK )
    mb_bench_die(c->db, c->name);
  snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", (long long)c->mmap);
  mb_bench_exec(c->db, sql);
  if( mb_bench_query_int(c->db, "PRAGMA mmap_size")!=c->mmap ){
    fprintf(stderr, "mb_bench_vfs_lookup: %s: PRAGMA mmap_size is %lld, not %lld\n",
            c->name, (long long)mb_bench_query_int(c->db, "PRAGMA mmap_size"), (long long)c->mmap);
    exit(2);
  }
  t0 = mb_bench_now_s();
  mb_bench_query_int(c->db, "SELECT sum(x) FROM t");
  c->firstScan = mb_bench_now_s()-t0;
  if( sqlite3_prepare_v2(c->db, "SELECT x FROM t WHERE id=?", -1, &c->look, 0) )
    mb_bench_die(c->db, "prepare");
}

/* n lookups of ids[]; returns the sum of x. */
static sqlite3_int64 lookups(Config *c, const sqlite3_int64 *ids, int n){
  sqlite3_int64 sum = 0;
  int i;
  for(i=0; i<n; i++){
    sqlite3_bind_int64(c->look, 1, ids[i]);
    if( sqlite3_step(c->look)!=SQLITE_ROW ) mb_bench_die(c->db, "lookup");
    sum += sqlite3_column_int64(c->look, 0);
    sqlite3_reset(c->look);
  }
  return sum;
}

int main(int argc, char **argv){
  uint64_t sizeMb = 2560;
  int nLook = 500000, reps = 5, i, r;
  const char *dir = 0;
  char path[4096], mach[512], load0[64], load1[64];
  sqlite3_int64 rows, *ids;
  double warm, tRun;
  struct stat stb;
  Config cfg[] = {
    { "unix",             "unix",            0,        0, 0,0,0,0,0,0 },
    { "unix mmap=max",    "unix",            MMAP_MAX, 0, 0,0,0,0,0,0 },
    { "membase mmap=max", "membase",         MMAP_MAX, 0, 0,0,0,0,0,0 },
    { "membase mmap=0",   "membase",         0,        0, 0,0,0,0,0,0 },
    { "membase-process",  "membase-process", MMAP_MAX, 1, 0,0,0,0,0,0 },
  };
  int nCfg = (int)(sizeof cfg / sizeof cfg[0]);

  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "--size-mb")==0 && i+1<argc ) sizeMb = strtoull(argv[++i], 0, 10);
    else if( strcmp(argv[i], "--lookups")==0 && i+1<argc ) nLook = atoi(argv[++i]);
    else if( strcmp(argv[i], "--reps")==0 && i+1<argc ) reps = atoi(argv[++i]);
    else if( strcmp(argv[i], "--dir")==0 && i+1<argc ) dir = argv[++i];
    else if( strcmp(argv[i], "--quick")==0 ){ nLook = 100000; reps = 2; }
    else if( strcmp(argv[i], "--no-cold")==0 || strcmp(argv[i], "--verbose")==0 ){}
    else {
      fprintf(stderr, "usage: %s [--size-mb N] [--lookups N] [--reps N] [--dir PATH] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if( sizeMb<16 || nLook<1 || reps<1 ){ fprintf(stderr, "mb_bench_vfs_lookup: bad option value\n"); return 2; }
#ifdef MB_BENCH_DATA_DIR
  /* build-vbench/ of the tree: a build dir, gitignored; made if missing. */
  if( !dir && (mkdir(MB_BENCH_DATA_DIR, 0777)==0 || errno==EEXIST)
      && access(MB_BENCH_DATA_DIR, W_OK)==0 ) dir = MB_BENCH_DATA_DIR;
#endif
  if( !dir ) dir = getenv("TMPDIR");
  if( !dir || !*dir ) dir = "/tmp";

  if( membase_vfs_register(MEMBASE_VFS_KEEP_DEFAULT)!=SQLITE_OK ){
    fprintf(stderr, "mb_bench_vfs_lookup: membase_vfs_register failed\n");
    return 2;
  }

  snprintf(path, sizeof path, "%s/mb_bench_vfs_lookup_%lluMiB.db", dir,
           (unsigned long long)sizeMb);
  rows = existing_rows(path);
  if( rows==0 ){
    generate(path, rows_for(sizeMb<<20));
    rows = existing_rows(path);
    if( rows==0 ){ fprintf(stderr, "mb_bench_vfs_lookup: %s unreadable after writing\n", path); return 2; }
  }
  if( stat(path, &stb)!=0 ){ perror(path); return 2; }
  warm = warm_file(path);

  ids = malloc(sizeof *ids * (size_t)nLook);
  for(i=0; i<nCfg; i++){
    cfg[i].autoRate = malloc(sizeof(double)*(size_t)reps);
    cfg[i].txnRate = malloc(sizeof(double)*(size_t)reps);
  }
  if( !ids ){ fprintf(stderr, "out of memory\n"); return 2; }
  for(i=0; i<nLook; i++) ids[i] = 1 + (sqlite3_int64)(xorshift() % (uint64_t)rows);

  for(i=0; i<nCfg; i++){
    if( cfg[i].transient ) continue;
    fprintf(stderr, "mb_bench_vfs_lookup: opening %s (first scan)\n", cfg[i].name);
    config_open(&cfg[i], path);
  }
  mb_bench_loadavg(load0, sizeof load0);
  tRun = mb_bench_now_s();
  for(r=0; r<reps; r++){
    for(i=0; i<nCfg; i++){
      Config *c = &cfg[i];
      double t0;
      sqlite3_int64 s;
      fprintf(stderr, "mb_bench_vfs_lookup: rep %d/%d %s\n", r+1, reps, c->name);
      if( c->transient ){
        /* membase-process holds the database exclusively while open: the
        ** other connections of this process could not read it. */
        double first = c->firstScan;
        config_open(c, path);
        if( r>0 ) c->firstScan = first;
      }
      t0 = mb_bench_now_s();
      s = lookups(c, ids, nLook);
      c->autoRate[r] = nLook / (mb_bench_now_s()-t0);
      mb_bench_exec(c->db, "BEGIN");
      t0 = mb_bench_now_s();
      if( lookups(c, ids, nLook)!=s ){ fprintf(stderr, "sum differs within %s\n", c->name); return 1; }
      c->txnRate[r] = nLook / (mb_bench_now_s()-t0);
      mb_bench_exec(c->db, "COMMIT");
      c->sum = s;
      if( c->transient ){
        sqlite3_finalize(c->look);
        if( sqlite3_close(c->db)!=SQLITE_OK ) mb_bench_die(c->db, "close");
        c->look = 0; c->db = 0;
      }
    }
  }
  tRun = mb_bench_now_s()-tRun;
  mb_bench_loadavg(load1, sizeof load1);

  mb_bench_machine(mach, sizeof mach);
  printf("MemBase VFS benchmark: mb_bench_vfs_lookup\n\n");
  printf("configuration\n");
  printf("  database     %s\n", path);
  printf("               %lld bytes (%.2f GiB), %lld rows of t(id INTEGER PRIMARY KEY, x, pad %d B),\n",
         (long long)stb.st_size, (double)stb.st_size/(1<<30), (long long)rows, PAD_BYTES);
  printf("               4 KiB pages; %.1f%% of the file lies beyond mmap=max (read by pread in stock)\n",
         stb.st_size > MMAP_MAX ? 100.0*(double)(stb.st_size-MMAP_MAX)/(double)stb.st_size : 0.0);
  printf("  OS cache     warm: the file read once first (%.2f s, %.1f GiB/s)\n",
         warm, (double)stb.st_size/(1<<30)/warm);
  printf("  query        SELECT x FROM t WHERE id=?, %d uniformly random ids per figure\n", nLook);
  printf("               page cache: SQLite's default (2000 KiB); connections open for all reps\n");
  printf("  reps         %d, alternating; every figure is the median; %.1f s for the reps\n", reps, tRun);
  printf("               load average %s before, %s after\n", load0, load1);
  printf("  SQLite       %s (system)\n", sqlite3_libversion());
  printf("\nmachine\n  %s\n\n", mach);

  {
    double base0 = 0, base1 = 0, tbase0 = 0, tbase1 = 0;
    printf("%-18s %-16s %11s %12s %8s %8s %12s %8s %8s %11s\n", "configuration", "vfs",
           "mmap_size", "autocommit", "x unix", "x u+mmap", "one txn", "x unix", "x u+mmap",
           "first scan");
    printf("%-18s %-16s %11s %12s %8s %8s %12s %8s %8s %11s\n", "", "", "", "lookups/s", "", "",
           "lookups/s", "", "", "");
    /* Both baselines before the first row: the unix row's "x u+mmap" is
    ** against unix mmap=max too (it used to print 1.00x, read before set). */
    base0 = mb_bench_median(cfg[0].autoRate, reps); tbase0 = mb_bench_median(cfg[0].txnRate, reps);
    base1 = nCfg>1 ? mb_bench_median(cfg[1].autoRate, reps) : base0;
    tbase1 = nCfg>1 ? mb_bench_median(cfg[1].txnRate, reps) : tbase0;
    for(i=0; i<nCfg; i++){
      Config *c = &cfg[i];
      double a = mb_bench_median(c->autoRate, reps), t = mb_bench_median(c->txnRate, reps);
      printf("%-18s %-16s %11lld %12.0f %7.2fx %7.2fx %12.0f %7.2fx %7.2fx %9.2f s\n",
             c->name, c->vfs, (long long)c->mmap, a, a/base0, a/base1,
             t, t/tbase0, t/tbase1, c->firstScan);
    }
    printf("  (x unix = lookups/s / stock unix mmap_size=0, x u+mmap = / stock unix mmap=max;\n"
           "   higher is better; first scan = SELECT sum(x) on the fresh connection, the\n"
           "   mapping faulted in)\n");
  }
  for(i=1; i<nCfg; i++){
    if( cfg[i].sum!=cfg[0].sum ){
      printf("\nMISMATCH: %s sum %lld, unix sum %lld\n", cfg[i].name,
             (long long)cfg[i].sum, (long long)cfg[0].sum);
      return 1;
    }
  }
  printf("\nall configurations return the same sum of x (%lld)\n", (long long)cfg[0].sum);
  for(i=0; i<nCfg; i++){
    sqlite3_finalize(cfg[i].look);
    sqlite3_close(cfg[i].db);
    free(cfg[i].autoRate);
    free(cfg[i].txnRate);
  }
  free(ids);
  return 0;
}
