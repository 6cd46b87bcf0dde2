/*
** mb_parallel_win.c -- threads for parallel scans (Windows): the CPUs in
** the process's affinity mask, and a fork/join of n calls. Windows has no
** cgroups; a job object's CPU rate limit is not read (it caps time, and
** jobs with one are rare on desktops and servers alike).
*/
#include <windows.h>
#include "mb_map.h"

void mb_cpu_limits(unsigned *affinity, unsigned *quota){
  DWORD_PTR proc = 0, sys = 0;
  unsigned a = 0;
  if( GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys) ){
    while( proc ){ a += (unsigned)(proc & 1); proc >>= 1; }
  }
  if( a==0 ){
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    a = si.dwNumberOfProcessors ? (unsigned)si.dwNumberOfProcessors : 1;
  }
  if( affinity ) *affinity = a;
  if( quota ) *quota = 0;
}

unsigned mb_cpu_count(void){
  unsigned a;
  mb_cpu_limits(&a, 0);
  if( a<1 ) a = 1;
  if( a>MB_MAX_THREADS ) a = MB_MAX_THREADS;
  return a;
}

typedef struct mb_task {
  mb_task_fn fn;
  void *ctx;
  unsigned w;
} mb_task;

static DWORD WINAPI task_main(LPVOID arg){
  mb_task *t = (mb_task*)arg;
  t->fn(t->ctx, t->w);
  return 0;
}

unsigned mb_parallel_run(unsigned n, mb_task_fn fn, void *ctx){
  HANDLE th[MB_MAX_THREADS];
  mb_task task[MB_MAX_THREADS];
  unsigned w, nRan = 1;
  if( n==0 || fn==0 ) return 0;
  if( n>MB_MAX_THREADS ) n = MB_MAX_THREADS;
  for(w=1; w<n; w++){
    task[w].fn = fn; task[w].ctx = ctx; task[w].w = w;
    th[w] = CreateThread(0, 0, task_main, &task[w], 0, 0);
    if( th[w] ) nRan++;
  }
  fn(ctx, 0);
  for(w=1; w<n; w++){
    if( th[w] ){
      WaitForSingleObject(th[w], INFINITE);
      CloseHandle(th[w]);
    }
  }
  for(w=1; w<n; w++){
    if( !th[w] ) fn(ctx, w);
  }
  return nRan;
}
