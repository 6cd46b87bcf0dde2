/*
** mb_parallel_posix.c -- threads for parallel scans (Linux, macOS): how
** many CPUs the process may use, and a fork/join of n calls.
**
** The CPU count is what the process may really use, not what the machine
** has: a container limited to 2 CPUs on a 64-CPU host that started 64
** threads would only make them queue. Linux gives two limits, both read:
** the affinity mask (taskset, cpusets) and the cgroup's CPU quota (docker
** --cpus, Kubernetes limits), which caps time, not CPUs: its quota/period
** rounded up is the number of threads that can run at once.
*/
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mb_map.h"

#ifdef __linux__
/* The cgroup v2 path of this process ("0::/user.slice/..."), or v1's for
** the cpu controller: the folder under the mount point. */
static int cgroup_path(int v2, char *out, size_t n){
  FILE *f = fopen("/proc/self/cgroup", "r");
  char line[512];
  int found = 0;
  if( f==0 ) return 0;
  while( !found && fgets(line, sizeof(line), f) ){
    char *a = strchr(line, ':'), *b = a ? strchr(a+1, ':') : 0;
    size_t len;
    if( b==0 ) continue;
    *b = 0;
    if( v2 ? strcmp(line, "0")!=0 || a[1]!=0
           : strstr(a+1, "cpu")==0 ) continue;
    if( !v2 ){
      /* "cpu,cpuacct" or "cpu": a controller named exactly cpu */
      char *t, *save = 0;
      int cpu = 0;
      for(t = strtok_r(a+1, ",", &save); t; t = strtok_r(0, ",", &save)){
        if( strcmp(t, "cpu")==0 ) cpu = 1;
      }
      if( !cpu ) continue;
    }
    len = strcspn(b+1, "\n");
    if( len>=n ) break;
    memcpy(out, b+1, len);
    out[len] = 0;
    found = 1;
  }
  fclose(f);
  return found;
}

/* Two numbers from a file: "max 100000" reads as quota -1. */
static int read_pair(const char *path, long long *a, long long *b){
  FILE *f = fopen(path, "r");
  char w[64];
  int ok = 0;
  if( f==0 ) return 0;
  if( fscanf(f, "%63s %lld", w, b)==2 ){
    if( strcmp(w, "max")==0 ){ *a = -1; ok = 1; }
    else{ char *e; *a = strtoll(w, &e, 10); ok = *e==0; }
  }
  fclose(f);
  return ok;
}

static long long read_one(const char *path){
  FILE *f = fopen(path, "r");
  long long v = -1;
  if( f==0 ) return -1;
  if( fscanf(f, "%lld", &v)!=1 ) v = -1;
  fclose(f);
  return v;
}

/* The tightest quota on the way from this process's cgroup up to the
** root, in CPUs rounded up; 0 for none. */
/* A quota in one cgroup folder (v2 cpu.max, else v1's pair); 0 for none. */
static unsigned folder_quota(const char *dir){
  char path[700];
  long long q = -1, p = 0;
  snprintf(path, sizeof(path), "%s/cpu.max", dir);
  if( !read_pair(path, &q, &p) ){
    snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
    q = read_one(path);
    snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
    p = read_one(path);
  }
  if( q>0 && p>0 ){
    long long c = (q + p - 1) / p;
    return c>MB_MAX_THREADS ? MB_MAX_THREADS : (unsigned)c;
  }
  return 0;
}

static unsigned cgroup_quota(void){
  char rel[400], path[600];
  unsigned best = 0;
  int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK)==0;
  /* MEMBASE_CGROUP names the one folder to read instead (as for memory:
  ** tests inject files there) */
  const char *cg = getenv("MEMBASE_CGROUP");
  if( cg && *cg ) return folder_quota(cg);
  if( !cgroup_path(v2, rel, sizeof(rel)) ) return 0;
  for(;;){
    unsigned u;
    snprintf(path, sizeof(path), v2 ? "/sys/fs/cgroup%s" : "/sys/fs/cgroup/cpu%s", rel);
    u = folder_quota(path);
    if( u && (best==0 || u<best) ) best = u;
    if( strcmp(rel, "/")==0 || rel[0]==0 ) break;
    {
      char *slash = strrchr(rel, '/');
      if( slash==0 ) break;
      if( slash==rel ) rel[1] = 0; else *slash = 0;
    }
  }
  return best;
}
#endif

void mb_cpu_limits(unsigned *affinity, unsigned *quota){
  unsigned a = 0, q = 0;
#ifdef __linux__
  cpu_set_t set;
  if( sched_getaffinity(0, sizeof(set), &set)==0 ) a = (unsigned)CPU_COUNT(&set);
  q = cgroup_quota();
#endif
  if( a==0 ){
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    a = n>0 ? (unsigned)n : 1;
  }
  if( affinity ) *affinity = a;
  if( quota ) *quota = q;
}

unsigned mb_cpu_count(void){
  unsigned a, q;
  mb_cpu_limits(&a, &q);
  if( q && q<a ) a = q;
  if( a<1 ) a = 1;
  if( a>MB_MAX_THREADS ) a = MB_MAX_THREADS;
  return a;
}

typedef struct mb_task {
  mb_task_fn fn;
  void *ctx;
  unsigned w;
} mb_task;

static void *task_main(void *arg){
  mb_task *t = (mb_task*)arg;
  t->fn(t->ctx, t->w);
  return 0;
}

unsigned mb_parallel_run(unsigned n, mb_task_fn fn, void *ctx){
  pthread_t th[MB_MAX_THREADS];
  mb_task task[MB_MAX_THREADS];
  int started[MB_MAX_THREADS];
  unsigned w, nRan = 1;
  if( n==0 || fn==0 ) return 0;
  if( n>MB_MAX_THREADS ) n = MB_MAX_THREADS;
  for(w=1; w<n; w++){
    task[w].fn = fn; task[w].ctx = ctx; task[w].w = w;
    started[w] = pthread_create(&th[w], 0, task_main, &task[w])==0;
    if( started[w] ) nRan++;
  }
  fn(ctx, 0);
  for(w=1; w<n; w++){
    if( started[w] ) pthread_join(th[w], 0);
  }
  for(w=1; w<n; w++){
    if( !started[w] ) fn(ctx, w);
  }
  return nRan;
}
