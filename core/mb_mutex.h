/*
** mb_mutex.h -- a plain non-recursive mutex, header-only, for the parts of
** MemBase that must not use SQLite's mutexes: those are allocated by the
** mutex implementation in force when they are made, and the upstream test
** harness swaps implementations between sqlite3_shutdown() and
** sqlite3_initialize(), which a long-lived mutex must survive.
**
**   mb_mutex m = MB_MUTEX_INIT;      // static, or mb_mutex_init(&m)
**   mb_mutex_enter(&m); ... mb_mutex_leave(&m);
**
** POSIX: pthread_mutex_t. Windows: SRWLOCK in exclusive mode (no
** destruction needed). Never fails.
*/
#ifndef MB_MUTEX_H
#define MB_MUTEX_H

#if defined(_WIN32)
#  include "mb_win.h"
typedef struct mb_mutex { SRWLOCK l; } mb_mutex;
#  define MB_MUTEX_INIT { SRWLOCK_INIT }
static inline void mb_mutex_init(mb_mutex *m) { InitializeSRWLock(&m->l); }
static inline void mb_mutex_destroy(mb_mutex *m) { (void)m; }
static inline void mb_mutex_enter(mb_mutex *m) { AcquireSRWLockExclusive(&m->l); }
static inline void mb_mutex_leave(mb_mutex *m) { ReleaseSRWLockExclusive(&m->l); }
#else
#  include <pthread.h>
typedef struct mb_mutex { pthread_mutex_t l; } mb_mutex;
#  define MB_MUTEX_INIT { PTHREAD_MUTEX_INITIALIZER }
static inline void mb_mutex_init(mb_mutex *m) { pthread_mutex_init(&m->l, 0); }
static inline void mb_mutex_destroy(mb_mutex *m) { pthread_mutex_destroy(&m->l); }
static inline void mb_mutex_enter(mb_mutex *m) { pthread_mutex_lock(&m->l); }
static inline void mb_mutex_leave(mb_mutex *m) { pthread_mutex_unlock(&m->l); }
#endif

#endif /* MB_MUTEX_H */
