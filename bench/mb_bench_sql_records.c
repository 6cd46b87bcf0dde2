/*
** mb_bench_sql_records.c -- the membase record table against a native
** SQLite table holding the same rows, and against numpy over np.memmap.
**
** Usage
**   mb_bench_sql_records [--rows N] [--reps N] [--dir PATH] [--quick]
**
**   --rows N    records (default 10000000; --quick 1000000)
**   --reps N    repetitions of the read figures; each is the median (3)
**   --dir PATH  where the files live (default $TMPDIR or /tmp); they are
**               kept and reused: mb_bench_records_<N>.npy (the records,
**               also mapped by numpy) and mb_bench_records_<N>.db (the
**               native table n with an index on ts)
**   Or run everything with: bash bench/run.sh
**
** Records: {ts i64 ascending (10*i), price f64, qty i32, side u8, pad(3),
** sym char(8)}, 32 bytes. The membase table maps the .npy file (its header
** gives the layout) with sorted=ts. The native table is
** n(ts INTEGER, price REAL, qty INTEGER, side INTEGER, sym TEXT) with
** rowid = record index and an index on ts, in a rollback-journal database
** (synchronous=NORMAL), page cache warm (cache_size 1 GiB).
**
** Figures (the same SQL text on both tables, prepared once):
**   full scan      SELECT sum(price) FROM t               (file cached)
**   numpy          np.load(mmap_mode='r')['price'].sum()  (child process)
**   aggregate      SELECT sum FROM membase_aggregate('t', 'price')
**   rowid lookups  1M x SELECT price FROM t WHERE rowid=?  (random rowids)
**   range counts   1000 x SELECT count(*) FROM t WHERE ts BETWEEN ? AND ?
**                  (random ranges of 10000 records)
**   append         INSERT INTO t SELECT ... 1M rows from a recursive CTE,
**                  in one transaction (COMMIT included)
**   updates        1M x UPDATE t SET price=price+1 WHERE rowid=? (random),
**                  in one transaction (COMMIT included)
** Writes are timed once; afterwards both tables are cut back to N rows.
** Ratios are native time / membase time (higher is better for membase),
** and numpy time / membase time for the physical limit.
*/
#define _GNU_SOURCE 1
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
#define MB_BENCH_NAME "mb_bench_sql_records"
#include "mb_bench_util.h"

static double now_ms(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec*1e3 + (double)ts.tv_nsec/1e6;
}

static void die(sqlite3 *db, const char *what){
  fprintf(stderr, "mb_bench_sql_records: %s: %s\n", what,
          db ? sqlite3_errmsg(db) : "");
  exit(2);
}

static void exec_sql(sqlite3 *db, const char *sql){
  char *err = 0;
  if( sqlite3_exec(db, sql, 0, 0, &err)!=SQLITE_OK ){
    fprintf(stderr, "mb_bench_sql_records: %s\n  in: %s\n", err, sql);
    exit(2);
  }
}

static int cmp_double(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}
static double median(double *a, int n){
  qsort(a, (size_t)n, sizeof(double), cmp_double);
  return a[n/2];
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t xorshift(void){
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

/* The .npy header for n records of the bench layout, padded to 256. */
static size_t npy_header(char *buf, uint64_t n){
  char text[256];
  int len = snprintf(text, sizeof text,
      "{'descr': [('ts', '<i8'), ('price', '<f8'), ('qty', '<i4'), "
      "('side', '|u1'), ('', '|V3'), ('sym', '|S8')], 'fortran_order': "
      "False, 'shape': (%llu,), }", (unsigned long long)n);
  size_t total = 256, hl = total - 10;
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (char)(hl & 0xff); buf[9] = (char)(hl >> 8);
  memset(buf+10, ' ', hl);
  memcpy(buf+10, text, (size_t)len);
  buf[total-1] = '\n';
  return total;
}

typedef struct Rec {
  int64_t ts; double price; int32_t qty; uint8_t side; uint8_t pad[3];
  char sym[8];
} Rec;

static void make_rec(Rec *r, uint64_t i){
  memset(r, 0, sizeof *r);
  r->ts = (int64_t)i*10;
  r->price = (double)(i % 10007) * 0.25;
  r->qty = (int32_t)(i % 1000);
  r->side = (uint8_t)(i & 1);
  snprintf(r->sym, sizeof r->sym, "S%03u", (unsigned)(i % 997));
}

static void gen_npy(const char *path, uint64_t n){
  char hdr[256];
  FILE *f = fopen(path, "wb");
  Rec *buf = malloc(sizeof(Rec)*65536);
  uint64_t i = 0;
  if( !f || !buf ){ perror(path); exit(2); }
  fwrite(hdr, 1, npy_header(hdr, n), f);
  while( i<n ){
    size_t k, m = n-i > 65536 ? 65536 : (size_t)(n-i);
    for(k=0; k<m; k++) make_rec(&buf[k], i+k);
    fwrite(buf, sizeof(Rec), m, f);
    i += m;
  }
  free(buf);
  if( fclose(f)!=0 ){ perror(path); exit(2); }
}

static int file_ok(const char *path, uint64_t size){
  struct stat st;
  return stat(path, &st)==0 && (uint64_t)st.st_size==size;
}

static double step_all(sqlite3 *db, sqlite3_stmt *st, double *out){
  int rc;
  while( (rc = sqlite3_step(st))==SQLITE_ROW ){
    if( out ) *out = sqlite3_column_double(st, 0);
  }
  if( rc!=SQLITE_DONE ) die(db, "step");
  sqlite3_reset(st);
  return 0;
}

/* time one SQL text on db, reps times, median ms; *res gets column 0 */
static double time_sql(sqlite3 *db, const char *sql, int reps, double *res){
  sqlite3_stmt *st;
  double *t = malloc(sizeof(double)*(size_t)reps);
  int i;
  if( sqlite3_prepare_v2(db, sql, -1, &st, 0)!=SQLITE_OK ) die(db, sql);
  for(i=0; i<reps; i++){
    double t0 = now_ms();
    step_all(db, st, res);
    t[i] = now_ms() - t0;
  }
  sqlite3_finalize(st);
  {
    double m = median(t, reps);
    free(t);
    return m;
  }
}

static double time_lookups(sqlite3 *db, const char *tab, uint64_t n,
                           int count, int reps, double *sum){
  char sql[128];
  sqlite3_stmt *st;
  double *t = malloc(sizeof(double)*(size_t)reps);
  int r, i;
  snprintf(sql, sizeof sql, "SELECT price FROM %s WHERE rowid=?", tab);
  if( sqlite3_prepare_v2(db, sql, -1, &st, 0)!=SQLITE_OK ) die(db, sql);
  for(r=0; r<reps; r++){
    double t0 = now_ms(), s = 0;
    rng = 0x2545f4914f6cdd1dULL;
    for(i=0; i<count; i++){
      sqlite3_bind_int64(st, 1, (sqlite3_int64)(xorshift() % n));
      if( sqlite3_step(st)==SQLITE_ROW ) s += sqlite3_column_double(st, 0);
      sqlite3_reset(st);
    }
    t[r] = now_ms() - t0;
    *sum = s;
  }
  sqlite3_finalize(st);
  { double m = median(t, reps); free(t); return m; }
}

static double time_ranges(sqlite3 *db, const char *tab, uint64_t n,
                          int count, int reps, double *sum){
  char sql[128];
  sqlite3_stmt *st;
  double *t = malloc(sizeof(double)*(size_t)reps);
  int r, i;
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM %s WHERE ts BETWEEN ? AND ?", tab);
  if( sqlite3_prepare_v2(db, sql, -1, &st, 0)!=SQLITE_OK ) die(db, sql);
  for(r=0; r<reps; r++){
    double t0 = now_ms(), s = 0;
    rng = 0x9e3779b97f4a7c15ULL;
    for(i=0; i<count; i++){
      int64_t lo = (int64_t)(xorshift() % n) * 10;
      sqlite3_bind_int64(st, 1, lo);
      sqlite3_bind_int64(st, 2, lo + 10000*10 - 1);
      if( sqlite3_step(st)==SQLITE_ROW ) s += sqlite3_column_double(st, 0);
      sqlite3_reset(st);
    }
    t[r] = now_ms() - t0;
    *sum = s;
  }
  sqlite3_finalize(st);
  { double m = median(t, reps); free(t); return m; }
}

static double time_append(sqlite3 *db, const char *tab, uint64_t n,
                          int count){
  char sql[512];
  double t0;
  snprintf(sql, sizeof sql,
    "BEGIN; WITH RECURSIVE c(i) AS (SELECT %llu UNION ALL SELECT i+1 FROM c "
    "WHERE i < %llu) INSERT INTO %s(ts, price, qty, side, sym) "
    "SELECT i*10, (i %% 10007)*0.25, i %% 1000, i & 1, 'S' || (i %% 997) "
    "FROM c; COMMIT;", (unsigned long long)n,
    (unsigned long long)(n + (uint64_t)count - 1), tab);
  t0 = now_ms();
  exec_sql(db, sql);
  return now_ms() - t0;
}

static double time_updates(sqlite3 *db, const char *tab, uint64_t n,
                           int count){
  char sql[128];
  sqlite3_stmt *st;
  double t0;
  int i;
  snprintf(sql, sizeof sql, "UPDATE %s SET price = price + 1 WHERE rowid=?",
           tab);
  if( sqlite3_prepare_v2(db, sql, -1, &st, 0)!=SQLITE_OK ) die(db, sql);
  t0 = now_ms();
  exec_sql(db, "BEGIN");
  rng = 0x1234567887654321ULL;
  for(i=0; i<count; i++){
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(xorshift() % n));
    if( sqlite3_step(st)!=SQLITE_DONE ) die(db, "update");
    sqlite3_reset(st);
  }
  exec_sql(db, "COMMIT");
  sqlite3_finalize(st);
  return now_ms() - t0;
}

static void row(const char *name, double mb, double base,
                const char *baseName){
  printf("%-34s %10.1f ms %10.1f ms %7.2fx  vs %s\n", name, mb, base,
         base/mb, baseName);
}

int main(int argc, char **argv){
  uint64_t n = 10000000;
  int reps = 3, i, nLook = 1000000, nRange = 1000, nApp = 1000000,
      nUpd = 1000000;
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char npy[1024], dbp[1024], sql[2048], mach[512], cmd[2048];
  sqlite3 *db;
  double tScanM, tScanN, tAgg = -1, tNp = -1, s1 = 0, s2 = 0, tL1, tL2, tR1,
         tR2, tA1, tA2, tU1, tU2;
  char npInfo[256] = "numpy not available";
  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "--rows")==0 && i+1<argc ) n = strtoull(argv[++i], 0, 10);
    else if( strcmp(argv[i], "--reps")==0 && i+1<argc ) reps = atoi(argv[++i]);
    else if( strcmp(argv[i], "--dir")==0 && i+1<argc ) dir = argv[++i];
    else if( strcmp(argv[i], "--quick")==0 ){ n = 1000000; nLook = 200000;
      nApp = 100000; nUpd = 100000; }
    else if( strcmp(argv[i], "--no-cold")==0 || strcmp(argv[i], "--verbose")==0 ){}
    else { fprintf(stderr, "usage: %s [--rows N] [--reps N] [--dir PATH] [--quick]\n", argv[0]); return 2; }
  }
  if( reps<1 ) reps = 1;
  snprintf(npy, sizeof npy, "%s/mb_bench_records_%llu.npy", dir, (unsigned long long)n);
  snprintf(dbp, sizeof dbp, "%s/mb_bench_records_%llu.db", dir, (unsigned long long)n);

  if( !file_ok(npy, 256 + n*32) ){
    fprintf(stderr, "generating %s\n", npy);
    gen_npy(npy, n);
  }
  if( membase_register()!=SQLITE_OK ) die(0, "membase_register");
  if( sqlite3_open(dbp, &db)!=SQLITE_OK ) die(db, "open");
  exec_sql(db, "PRAGMA cache_size=-1048576; PRAGMA synchronous=NORMAL;");
  {
    sqlite3_stmt *st;
    sqlite3_int64 have = -1;
    if( sqlite3_prepare_v2(db, "SELECT max(rowid)+1 FROM n", -1, &st, 0)==SQLITE_OK ){
      if( sqlite3_step(st)==SQLITE_ROW ) have = sqlite3_column_int64(st, 0);
      sqlite3_finalize(st);
    }
    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE temp.t USING membase("
             "file='%s', sorted=ts)", npy);
    exec_sql(db, sql);
    if( have!=(sqlite3_int64)n ){
      fprintf(stderr, "building the native table in %s\n", dbp);
      exec_sql(db, "DROP TABLE IF EXISTS n; CREATE TABLE n(ts INTEGER, "
               "price REAL, qty INTEGER, side INTEGER, sym TEXT);");
      exec_sql(db, "BEGIN; INSERT INTO n(rowid, ts, price, qty, side, sym) "
               "SELECT rowid, ts, price, qty, side, sym FROM t; COMMIT;");
      exec_sql(db, "CREATE INDEX n_ts ON n(ts)");
    }
  }
  /* warm both */
  time_sql(db, "SELECT sum(price) FROM t", 1, &s1);
  time_sql(db, "SELECT sum(price), sum(length(sym)) FROM n", 1, &s2);

  tScanM = time_sql(db, "SELECT sum(price) FROM t", reps, &s1);
  tScanN = time_sql(db, "SELECT sum(price) FROM n", reps, &s2);
  if( s1!=s2 ){ fprintf(stderr, "sums differ: %f %f\n", s1, s2); return 2; }
  {
    sqlite3_stmt *st;
    if( sqlite3_prepare_v2(db, "SELECT sum FROM membase_aggregate('t', "
                           "'price')", -1, &st, 0)==SQLITE_OK ){
      sqlite3_finalize(st);
      tAgg = time_sql(db, "SELECT sum FROM membase_aggregate('t', 'price')",
                      reps, &s2);
      if( s1!=s2 ){
        double d = s1>s2 ? s1-s2 : s2-s1;
        if( d > 1e-9*s1 ){ fprintf(stderr, "aggregate differs: %f %f\n", s1, s2); return 2; }
      }
    }
  }
  {
    const char *py = access("/usr/bin/python3", X_OK)==0 ? "/usr/bin/python3"
                                                          : "python3";
    char here[1024];
    FILE *p;
    snprintf(here, sizeof here, "%s", __FILE__);
    if( strrchr(here, '/') ) *strrchr(here, '/') = 0; else strcpy(here, ".");
    snprintf(cmd, sizeof cmd, "%s %s/mb_bench_numpy.py %s %d 2>/dev/null",
             py, here, npy, reps < 5 ? 5 : reps);
    p = popen(cmd, "r");
    if( p ){
      char line[512];
      if( fgets(line, sizeof line, p) ){
        char ver[64]; double sum, med, mn;
        if( sscanf(line, "numpy %63s sum %lf ms %lf min %lf", ver, &sum, &med, &mn)==4 ){
          tNp = med;
          snprintf(npInfo, sizeof npInfo, "numpy %s (np.load mmap_mode='r'), "
                   "sum %.1f", ver, sum);
        }
      }
      pclose(p);
    }
    if( tNp<0 ){
      snprintf(npInfo, sizeof npInfo, "numpy not available: apt-get install "
               "-y python3-numpy");
    }
  }
  tL1 = time_lookups(db, "t", n, nLook, reps, &s1);
  tL2 = time_lookups(db, "n", n, nLook, reps, &s2);
  if( s1!=s2 ){ fprintf(stderr, "lookups differ\n"); return 2; }
  tR1 = time_ranges(db, "t", n, nRange, reps, &s1);
  tR2 = time_ranges(db, "n", n, nRange, reps, &s2);
  if( s1!=s2 ){ fprintf(stderr, "ranges differ: %f %f\n", s1, s2); return 2; }
  tA1 = time_append(db, "t", n, nApp);
  tA2 = time_append(db, "n", n, nApp);
  tU1 = time_updates(db, "t", n, nUpd);
  tU2 = time_updates(db, "n", n, nUpd);
  /* back to n rows: the native rows deleted, the file cut and its shape
  ** restored (the next run reuses both) */
  snprintf(sql, sizeof sql, "DELETE FROM n WHERE rowid >= %llu", (unsigned long long)n);
  exec_sql(db, sql);
  sqlite3_close(db);
  if( truncate(npy, (off_t)(256 + n*32))==0 ){
    char hdr[256];
    FILE *f = fopen(npy, "r+b");
    if( f ){ fwrite(hdr, 1, npy_header(hdr, n), f); fclose(f); }
  }

  mb_bench_machine(mach, sizeof mach);
  printf("MemBase record table benchmark: mb_bench_sql_records\n\n");
  printf("configuration\n");
  printf("  records      %llu x 32 bytes {ts i64 asc, price f64, qty i32, side u8, pad(3), sym char(8)}\n",
         (unsigned long long)n);
  printf("  membase      %s (sorted=ts), file cached\n", npy);
  printf("  native       %s: table n, rowid = index, INDEX n_ts(ts), cache_size 1 GiB, warm\n", dbp);
  printf("  reps         %d (read figures are medians); writes timed once, in one transaction each\n", reps);
  printf("  sqlite       %s; %s\n", sqlite3_libversion(), npInfo);
  printf("machine\n  %s\n\n", mach);
  printf("%-34s %13s %13s %8s\n", "figure", "membase", "baseline", "ratio");
  row("full scan SELECT sum(price)", tScanM, tScanN, "native");
  if( tNp>0 ) row("full scan SELECT sum(price)", tScanM, tNp, "numpy memmap sum");
  if( tAgg>0 ){
    row("membase_aggregate sum(price)", tAgg, tScanN, "native scan");
    if( tNp>0 ) row("membase_aggregate sum(price)", tAgg, tNp, "numpy memmap sum");
  }
  {
    char name[64];
    snprintf(name, sizeof name, "%dk rowid lookups", nLook/1000);
    row(name, tL1, tL2, "native");
    snprintf(name, sizeof name, "%d range counts (10k rows each)", nRange);
    row(name, tR1, tR2, "native, index on ts");
    snprintf(name, sizeof name, "append %dk rows INSERT..SELECT", nApp/1000);
    row(name, tA1, tA2, "native");
    snprintf(name, sizeof name, "%dk in-place updates by rowid", nUpd/1000);
    row(name, tU1, tU2, "native");
  }
  printf("  (ratio = baseline time / membase time: above 1 membase is faster)\n");
  printf("  targets: scan >= 1.70x native; aggregate >= 0.5x numpy; lookups >= 1.5x;\n"
         "  ranges > 1x; append >= 1x (reported, not asserted)\n");
  return 0;
}
