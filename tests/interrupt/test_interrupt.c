/*
** test_interrupt.c -- sqlite3_interrupt() during a membase_aggregate scan.
**
**   test_interrupt MODULE DIR EXPECT
**
** Loads MODULE into the SQLite this program is linked with, maps a 2 GiB
** file of f64 records (sparse: zeros), and times
**   1. a full scan: membase_aggregate and membase_group, 1 and 2 threads
**   2. the same scan while another thread calls sqlite3_interrupt() every
**      millisecond, from 10 ms after the step began (the scan is running:
**      an interrupt before it would stop the statement before the scan)
**      until the statement returns.
** EXPECT 1 (SQLite 3.41+, sqlite3_is_interrupted found at run time): scan 2
** must end with SQLITE_INTERRUPT, "interrupted", in less than a quarter of
** scan 1's time (it stops between chunks; without the check it would run
** to the end). EXPECT 0 (SQLite 3.40): reported, not checked: the scan
** runs to the end and the interrupt takes effect after it (the manual
** says so). Exit 0 when what was expected held.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include "sqlite3.h"

static volatile int g_done;
static volatile double g_start;
static sqlite3 *g_db;

static double now_ms(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec*1e3 + ts.tv_nsec/1e6;
}

static double now_ms(void);
static void *interrupter(void *arg){
  (void)arg;
  while( !g_done && (g_start==0 || now_ms() < g_start + 10) ) usleep(200);
  while( !g_done ){
    sqlite3_interrupt(g_db);
    usleep(1000);
  }
  return 0;
}

static int run(const char *sql, double *ms, char *msg, size_t n){
  sqlite3_stmt *st = 0;
  double t0;
  int rc = sqlite3_prepare_v2(g_db, sql, -1, &st, 0);
  t0 = now_ms();
  g_start = t0;
  if( rc==SQLITE_OK ){
    while( (rc = sqlite3_step(st))==SQLITE_ROW ){}
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  snprintf(msg, n, "%s", rc ? sqlite3_errmsg(g_db) : "");
  sqlite3_finalize(st);
  *ms = now_ms() - t0;
  return rc;
}

int main(int argc, char **argv){
  char path[1024], sql[2048], msg[256];
  char *err = 0;
  double full, cut;
  int fd, rc, expect;
  pthread_t th;
  if( argc!=4 ){
    fprintf(stderr, "usage: test_interrupt MODULE DIR EXPECT\n");
    return 2;
  }
  expect = atoi(argv[3]);
  snprintf(path, sizeof path, "%s/interrupt.bin", argv[2]);
  fd = open(path, O_RDWR|O_CREAT|O_TRUNC, 0600);
  if( fd<0 || ftruncate(fd, (off_t)2048<<20)!=0 ){
    perror(path);
    return 2;
  }
  close(fd);
  if( sqlite3_open(":memory:", &g_db)!=SQLITE_OK ) return 2;
  sqlite3_enable_load_extension(g_db, 1);
  if( sqlite3_load_extension(g_db, argv[1], 0, &err)!=SQLITE_OK ){
    fprintf(stderr, "load %s: %s\n", argv[1], err ? err : "?");
    return 2;
  }
  snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE big USING membase("
           "file='%s', layout='v f64', readonly=1)", path);
  if( sqlite3_exec(g_db, sql, 0, 0, &err)!=SQLITE_OK ){
    fprintf(stderr, "%s: %s\n", sql, err);
    return 2;
  }
  {
    static const char *azQ[] = {
      "SELECT count FROM membase_aggregate('big', 'v', NULL, NULL, NULL, 1)",
      "SELECT count FROM membase_aggregate('big', 'v', NULL, NULL, NULL, 2)",
      "SELECT count FROM membase_group('big', 'v', NULL, NULL, NULL, NULL, 1)",
      "SELECT count FROM membase_group('big', 'v', 'v', NULL, NULL, NULL, 2)",
    };
    int q, bad = 0;
    for(q=0; q<4; q++){
      snprintf(sql, sizeof sql, "%s", azQ[q]);
      g_done = 1;
      rc = run(sql, &full, msg, sizeof msg);      /* faults the file in */
      rc = run(sql, &full, msg, sizeof msg);
      if( rc!=SQLITE_OK ){
        fprintf(stderr, "%s: %s\n", sql, msg);
        return 1;
      }
      g_done = 0;
      g_start = 0;
      pthread_create(&th, 0, interrupter, 0);
      rc = run(sql, &cut, msg, sizeof msg);
      g_done = 1;
      pthread_join(th, 0);
      printf("SQLite %s: %s: full scan %.1f ms; with sqlite3_interrupt every "
             "ms: rc %d \"%s\" after %.1f ms\n", sqlite3_libversion(), sql,
             full, rc, msg, cut);
      if( !expect ) continue;
      if( rc!=SQLITE_INTERRUPT || strcmp(msg, "interrupted")!=0 ){
        printf("FAIL: expected SQLITE_INTERRUPT \"interrupted\"\n");
        bad = 1;
      }else if( !(cut < full/4) ){
        printf("FAIL: the interrupted scan took %.1f ms of the full %.1f ms: "
               "it was not stopped between chunks\n", cut, full);
        bad = 1;
      }
    }
    remove(path);
    sqlite3_close(g_db);
    if( !expect ){
      printf("SQLite %s has no sqlite3_is_interrupted: not checked (the "
             "manual says the scan runs to its end)\n", sqlite3_libversion());
      return 0;
    }
    if( bad ) return 1;
    printf("ok: every scan stopped between chunks\n");
    return 0;
  }
}
