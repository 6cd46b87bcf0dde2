/*
** test_parallel.c -- the CPU count (affinity and cgroup quota, with
** injected cgroup files) and mb_parallel_run (every call made once, on
** distinct threads, results joined).
*/
#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mb_test.h"
#if !defined(_WIN32)
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

typedef struct {
  volatile unsigned calls[MB_MAX_THREADS];
  unsigned long long sums[MB_MAX_THREADS];
} Ctx;

static void task(void *p, unsigned w){
  Ctx *c = (Ctx*)p;
  unsigned long long s = 0, i;
  c->calls[w]++;
  for(i=0; i<1000000; i++) s += i ^ w;
  c->sums[w] = s;
}

#if !defined(_WIN32)
static void put(const char *dir, const char *name, const char *text){
  char path[512];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}
#endif

int main(void){
  unsigned n, a = 0, q = 99, w, ran;
  Ctx c;
  t_section("cpu count");
  n = mb_cpu_count();
  mb_cpu_limits(&a, &q);
  CHECK(n >= 1 && n <= MB_MAX_THREADS);
  CHECK(a >= 1);
  CHECK(n <= a);
  t_note("cpus %u (affinity %u, quota %u)", n, a, q);
#if defined(__linux__)
  {
    /* independent: the affinity mask as the kernel reports it */
    cpu_set_t set;
    unsigned k = 0;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    k = (unsigned)CPU_COUNT(&set);
    CHECK_EQ(a, k);
  }
  {
    const char *tmp = getenv("MB_TEST_TMPDIR");
    char dir[400];
    snprintf(dir, sizeof dir, "%s/cg-parallel", tmp ? tmp : "/tmp");
    mkdir(dir, 0700);
    setenv("MEMBASE_CGROUP", dir, 1);
    put(dir, "cpu.max", "150000 100000\n");      /* 1.5 CPUs: 2 threads */
    mb_cpu_limits(0, &q);
    CHECK_EQ(q, 2);
    CHECK_EQ(mb_cpu_count(), a < 2 ? a : 2);
    put(dir, "cpu.max", "100000 100000\n");
    CHECK_EQ(mb_cpu_count(), 1);
    put(dir, "cpu.max", "max 100000\n");         /* no quota */
    mb_cpu_limits(0, &q);
    CHECK_EQ(q, 0);
    CHECK_EQ(mb_cpu_count(), n);
    put(dir, "cpu.max", "garbage\n");            /* unreadable: ignored */
    CHECK_EQ(mb_cpu_count(), n);
    {
      char p[500];
      snprintf(p, sizeof p, "%s/cpu.max", dir);
      remove(p);
    }
    put(dir, "cpu.cfs_quota_us", "50000\n");     /* cgroup v1: half a CPU */
    put(dir, "cpu.cfs_period_us", "100000\n");
    CHECK_EQ(mb_cpu_count(), 1);
    put(dir, "cpu.cfs_quota_us", "-1\n");
    CHECK_EQ(mb_cpu_count(), n);
    unsetenv("MEMBASE_CGROUP");
  }
#endif

  t_section("parallel run");
  for(w=1; w<=MB_MAX_THREADS+3; w = w<8 ? w+1 : w*2){
    unsigned k, want = w > MB_MAX_THREADS ? MB_MAX_THREADS : w, bad = 0;
    memset(&c, 0, sizeof c);
    ran = mb_parallel_run(w, task, &c);
    CHECK(ran >= 1 && ran <= want);
    for(k=0; k<MB_MAX_THREADS; k++){
      unsigned long long s = 0, i;
      if( c.calls[k] != (k < want ? 1u : 0u) ) bad++;
      if( k < want ){
        for(i=0; i<1000000; i++) s += i ^ k;
        if( c.sums[k] != s ) bad++;
      }
    }
    CHECK_EQ(bad, 0);
  }
  memset(&c, 0, sizeof c);
  CHECK_EQ(mb_parallel_run(0, task, &c), 0);
  CHECK_EQ(c.calls[0], 0);
  CHECK_EQ(mb_parallel_run(3, 0, &c), 0);
  return t_done();
}
