/*
** mb_mutex.h -- a plain non-recursive mutex, header-only, for the parts of
** MemBase that must not use SQLite's mutexes: those are allocated by the
** mutex implementation in force when they are made, and the upstream test
** harness swaps implementations between sqlite3_shutdown() and
** sqlite3_initialize(), which a long-lived mutex must survive.
**
**   mb_mutex m = MB_MUTEX_INIT;      // static, or mb_mutex_init(&m)
**   mb_mutex_enter(&m); ... mb_mutex_leave(&m);
**   assert(mb_mutex_held(&m));      // a "called with m held" precondition
**
** POSIX: pthread_mutex_t. Windows: SRWLOCK in exclusive mode (no
** destruction needed). Never fails.
**
** mb_mutex_held(m) is for assert() only, as SQLite's sqlite3_mutex_held():
** in a debug build (NDEBUG not defined) it is true when the calling thread
** holds m; with NDEBUG it is always true and the mutex keeps no owner. The
** struct is the same in both, so objects built either way can share it.
*/
#ifndef MB_MUTEX_H
#define MB_MUTEX_H

#include <stdatomic.h>
#include <stdint.h>

#if defined(_WIN32)
#  include <windows.h>
typedef struct mb_mutex { SRWLOCK l; _Atomic(uintptr_t) owner; } mb_mutex;
#  define MB_MUTEX_INIT { .l = SRWLOCK_INIT }
static inline uintptr_t mb__mutex_self(void) { return (uintptr_t)GetCurrentThreadId(); }
static inline void mb__mutex_lock(mb_mutex *m) { AcquireSRWLockExclusive(&m->l); }
static inline void mb__mutex_unlock(mb_mutex *m) { ReleaseSRWLockExclusive(&m->l); }
static inline void mb_mutex_init(mb_mutex *m) { InitializeSRWLock(&m->l); atomic_init(&m->owner, 0); }
static inline void mb_mutex_destroy(mb_mutex *m) { (void)m; }
#else
#  include <pthread.h>
typedef struct mb_mutex { pthread_mutex_t l; _Atomic(uintptr_t) owner; } mb_mutex;
#  define MB_MUTEX_INIT { .l = PTHREAD_MUTEX_INITIALIZER }
static inline uintptr_t mb__mutex_self(void) { return (uintptr_t)pthread_self(); }
static inline void mb__mutex_lock(mb_mutex *m) { pthread_mutex_lock(&m->l); }
static inline void mb__mutex_unlock(mb_mutex *m) { pthread_mutex_unlock(&m->l); }
static inline void mb_mutex_init(mb_mutex *m) { pthread_mutex_init(&m->l, 0); atomic_init(&m->owner, 0); }
static inline void mb_mutex_destroy(mb_mutex *m) { pthread_mutex_destroy(&m->l); }
#endif

/* The owner is written only by the thread that holds the mutex, and a
** thread only compares it with its own id: relaxed is enough (a thread
** always sees its own last store; any other value is not its id). */
static inline void mb_mutex_enter(mb_mutex *m) {
    mb__mutex_lock(m);
#ifndef NDEBUG
    atomic_store_explicit(&m->owner, mb__mutex_self(), memory_order_relaxed);
#endif
}
static inline void mb_mutex_leave(mb_mutex *m) {
#ifndef NDEBUG
    atomic_store_explicit(&m->owner, 0, memory_order_relaxed);
#endif
    mb__mutex_unlock(m);
}
static inline int mb_mutex_held(mb_mutex *m) {
#ifndef NDEBUG
    return atomic_load_explicit(&m->owner, memory_order_relaxed) == mb__mutex_self();
#else
    (void)m;
    return 1;
#endif
}

#endif /* MB_MUTEX_H */
