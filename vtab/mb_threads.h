/*
** mb_threads.h -- how many threads a vectorised scan uses by default.
*/
#ifndef MB_THREADS_H
#define MB_THREADS_H

/* The CPUs the process may use (core mb_cpu_count: affinity, cgroup
** quota), read again at most once a second: reading it costs about
** 0.1 ms of file reads, too much for every short scan. Thread-safe. */
unsigned mb_threads_default(void);

#endif
