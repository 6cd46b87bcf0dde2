/*
** mb_threads.c -- the default thread count of vectorised scans, cached.
** A container's quota or a process's affinity can change while it runs
** (docker update, taskset -p), so the figure is read again after a second.
*/
#include <stdatomic.h>
#include <time.h>
#include "mb_map.h"
#include "mb_threads.h"

static _Atomic unsigned s_count;       /* 0: not read yet */
static _Atomic long long s_until;      /* time(0) after which to read again */

unsigned mb_threads_default(void){
  long long now = (long long)time(0);
  unsigned n = atomic_load(&s_count);
  if( n==0 || now>=atomic_load(&s_until) ){
    n = mb_cpu_count();
    atomic_store(&s_count, n);
    atomic_store(&s_until, now + 1);
  }
  return n;
}
