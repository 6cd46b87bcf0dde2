/*
** mb_bench_util.h -- what the SQL and VFS benchmarks share: a clock, the
** median of the reps, the machine line and the load average of their
** tables, and SQL helpers that stop the run on an error. Header-only
** (static functions); define MB_BENCH_NAME, the program name for messages,
** before including it.
*/
#ifndef MB_BENCH_UTIL_H
#define MB_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sqlite3.h>

#ifndef MB_BENCH_NAME
# error "define MB_BENCH_NAME before including mb_bench_util.h"
#endif

/* Seconds on the monotonic clock. */
static inline double mb_bench_now_s(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec/1e9;
}

static inline int mb_bench_cmp_double(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}
/* Sorts a[]; for an even n the mean of the middle two (as --quick's 2 reps). */
static inline double mb_bench_median(double *a, int n){
  qsort(a, (size_t)n, sizeof(double), mb_bench_cmp_double);
  return n%2 ? a[n/2] : (a[n/2-1]+a[n/2])/2;
}

static inline void mb_bench_die(sqlite3 *db, const char *what){
  fprintf(stderr, MB_BENCH_NAME ": %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
  exit(2);
}

static inline void mb_bench_exec(sqlite3 *db, const char *sql){
  char *err = 0;
  if( sqlite3_exec(db, sql, 0, 0, &err)!=SQLITE_OK ){
    fprintf(stderr, MB_BENCH_NAME ": %s\n  in: %s\n", err, sql);
    exit(2);
  }
}

/* The first column of the first row of sql, as an integer. */
static inline sqlite3_int64 mb_bench_query_int(sqlite3 *db, const char *sql){
  sqlite3_stmt *st;
  sqlite3_int64 v = 0;
  if( sqlite3_prepare_v2(db, sql, -1, &st, 0)!=SQLITE_OK ) mb_bench_die(db, sql);
  if( sqlite3_step(st)==SQLITE_ROW ) v = sqlite3_column_int64(st, 0);
  else mb_bench_die(db, sql);
  sqlite3_finalize(st);
  return v;
}

/* The load average, to tell a quiet machine from a busy one. */
static inline void mb_bench_loadavg(char *out, size_t n){
  FILE *f = fopen("/proc/loadavg", "r");
  snprintf(out, n, "?");
  if( f ){
    double a, b, c;
    if( fscanf(f, "%lf %lf %lf", &a, &b, &c)==3 ) snprintf(out, n, "%.2f %.2f %.2f", a, b, c);
    fclose(f);
  }
}

/* "nproc N, CPU <model>, kernel <release>, page <bytes> B". */
static inline void mb_bench_machine(char *out, size_t n){
  char model[256] = "?";
  FILE *f = fopen("/proc/cpuinfo", "r");
  struct utsname u;
  if( f ){
    char line[512];
    while( fgets(line, sizeof line, f) ){
      if( strncmp(line, "model name", 10)==0 ){
        char *p = strchr(line, ':');
        if( p ){ snprintf(model, sizeof model, "%s", p+2); }
        model[strcspn(model, "\n")] = 0;
        break;
      }
    }
    fclose(f);
  }
  uname(&u);
  snprintf(out, n, "nproc %ld, CPU %s, kernel %s, page %ld B",
           sysconf(_SC_NPROCESSORS_ONLN), model, u.release, sysconf(_SC_PAGESIZE));
}

#endif /* MB_BENCH_UTIL_H */
