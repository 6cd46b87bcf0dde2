/*
** mb_mutex.h -- a plain non-recursive mutex, header-only, for the parts of
** MemBase that must not use SQLite's mutexes: those are allocated by the
** mutex implementation in force when they are made, and the upstream test
** harness swaps implementations between sqlite3_shutdown() and
** sqlite3_initialize(), which a long-lived mutex must survive.
**
**   mb_mutex m = MB_MUTEX_INIT;      // static, or mb_mutex_init(&m)
**   mb_mutex_enter(&m); ... mb_mutex_leave(&m);
**   assert(mb_mutex_held(&m));       // "called with m held", debug builds
**
** POSIX: pthread_mutex_t. Windows: SRWLOCK in exclusive mode (no
** destruction needed). Never fails.
**
** Debug builds (NDEBUG not defined) record the holding thread, so that
** mb_mutex_held() can back a lock precondition with an assert(); release
** builds do not keep it and do not define mb_mutex_held(). The field is
** there in both, so code built either way agrees on the struct's layout.
*/
#ifndef MB_MUTEX_H
#define MB_MUTEX_H

#include <stdint.h>

#if defined(_WIN32)
#  include <windows.h>
typedef struct mb_mutex { SRWLOCK l; uintptr_t owner; } mb_mutex;
#  define MB_MUTEX_INIT { SRWLOCK_INIT, 0 }
static inline void mb__mutex_lock(mb_mutex *m) { AcquireSRWLockExclusive(&m->l); }
static inline void mb__mutex_unlock(mb_mutex *m) { ReleaseSRWLockExclusive(&m->l); }
static inline uintptr_t mb__mutex_self(void) { return (uintptr_t)GetCurrentThreadId(); }
static inline void mb_mutex_init(mb_mutex *m) { InitializeSRWLock(&m->l); m->owner = 0; }
static inline void mb_mutex_destroy(mb_mutex *m) { (void)m; }
#else
#  include <pthread.h>
typedef struct mb_mutex { pthread_mutex_t l; uintptr_t owner; } mb_mutex;
#  define MB_MUTEX_INIT { PTHREAD_MUTEX_INITIALIZER, 0 }
static inline void mb__mutex_lock(mb_mutex *m) { pthread_mutex_lock(&m->l); }
static inline void mb__mutex_unlock(mb_mutex *m) { pthread_mutex_unlock(&m->l); }
/* pthread_t is an integer (Linux) or a pointer (macOS): never 0 for a thread. */
static inline uintptr_t mb__mutex_self(void) { return (uintptr_t)pthread_self(); }
static inline void mb_mutex_init(mb_mutex *m) { pthread_mutex_init(&m->l, 0); m->owner = 0; }
static inline void mb_mutex_destroy(mb_mutex *m) { pthread_mutex_destroy(&m->l); }
#endif

#ifndef NDEBUG
/* The owner is written only by the holder, under the lock, and read by
** mb_mutex_held() from any thread: relaxed atomics, so a thread that does
** not hold the lock reads some other thread's id (or 0), never its own. */
static inline void mb_mutex_enter(mb_mutex *m) {
    mb__mutex_lock(m);
    __atomic_store_n(&m->owner, mb__mutex_self(), __ATOMIC_RELAXED);
}
static inline void mb_mutex_leave(mb_mutex *m) {
    __atomic_store_n(&m->owner, (uintptr_t)0, __ATOMIC_RELAXED);
    mb__mutex_unlock(m);
}
/* Non-zero if the calling thread holds m. Debug builds only. */
static inline int mb_mutex_held(const mb_mutex *m) {
    return __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == mb__mutex_self();
}
#else
static inline void mb_mutex_enter(mb_mutex *m) { mb__mutex_lock(m); }
static inline void mb_mutex_leave(mb_mutex *m) { mb__mutex_unlock(m); }
#endif

#endif /* MB_MUTEX_H */
