/*
** mb_guard_posix.c -- fault-guarded copies for POSIX.
**
** A read of a mapped page whose file was truncated underneath raises
** SIGBUS (and SIGSEGV once the view's tail has been unmapped by a shrink).
** SQLite's own mmap code dies there. Here a copy arms a per-thread guard
** naming the address ranges it touches; the handler checks that the
** faulting address lies inside one of them and, if so, siglongjmps back
** into the copy, which returns MB_EFAULT. Every other fault -- the
** program's own bugs, a sanitizer's, a JVM's -- goes to the handler that
** was installed before ours, exactly as if we were not there.
**
** The ranges claimed are the callers' ranges rounded out to whole pages:
** what runs under the guard may touch bytes around the range it was given.
** glibc's vectorised memchr/memcpy load the aligned block that holds the
** first (or last) byte, up to 63 bytes outside [lo, hi); a page that holds
** any byte of the range is mapped or truncated as a whole, so a fault
** anywhere in it is the range's fault. Claiming only the exact range let a
** truncation kill a count(*) scan (the fault came 31 bytes below lo).
**
** Cost on the hot path: one sigsetjmp without saving the signal mask (no
** system call) and a few thread-local stores. The mask is restored by
** hand on the rare fault path instead.
*/
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "mb_internal.h"

typedef struct mb_guard {
    sigjmp_buf  jmp;
    const char *lo1, *hi1;  /* source range */
    const char *lo2, *hi2;  /* destination range */
} mb_guard;

static struct sigaction s_old_bus, s_old_segv;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_install_failed;
/* mb_guard_status: set once install() has run (after s_install_failed). */
static _Atomic int s_installed;

/* The armed guard of this thread, or NULL. Written only by this thread;
** read by the signal handler running on this thread.
** macOS: a pthread key. Its _Thread_local variables are reached through
** dyld's tlv_get_addr, which allocates a thread's block on its first
** access -- in the handler, on a thread that never armed a guard, that is
** malloc inside a signal handler. A key's value is one load from the
** thread's own TSD slot. Elsewhere: a thread-local (mb_internal.h). */
#if defined(__APPLE__)
static pthread_key_t s_guard_key;   /* made by install(), before the handler */
static mb_guard *guard_get(void) { return pthread_getspecific(s_guard_key); }
static void guard_set(mb_guard *g) { (void)pthread_setspecific(s_guard_key, g); }
static int guard_key_create(void) { return pthread_key_create(&s_guard_key, NULL); }
#else
static MB_TLS mb_guard *volatile tl_guard;
static mb_guard *guard_get(void) { return tl_guard; }
static void guard_set(mb_guard *g) { tl_guard = g; }
static int guard_key_create(void) { return 0; }
#endif

static void chain(int sig, siginfo_t *info, void *uctx) {
    const struct sigaction *old = sig == SIGBUS ? &s_old_bus : &s_old_segv;
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, info, uctx);
        return;
    }
    if (old->sa_handler == SIG_IGN) return;
    if (old->sa_handler == SIG_DFL) {
        /* Restore the default action. A hardware fault re-executes the
        ** instruction and dies with the default action; a signal sent by
        ** kill() would not recur, so raise it again. */
        signal(sig, SIG_DFL);
        if (info->si_code <= 0) raise(sig);
        return;
    }
    old->sa_handler(sig);
}

static void install(void);

/* Soft-fault ranges (mb_map_enable_soft_faults). The handler reads them
** without a lock: hi is published before lo, and a slot is live while lo
** is non-zero. */
#define MB_SOFT_SLOTS 256
static struct {
    _Atomic(uintptr_t) lo, hi;
    _Atomic(uint64_t)  patches;
    int writable;
} s_soft[MB_SOFT_SLOTS];
static pthread_mutex_t s_soft_mutex = PTHREAD_MUTEX_INITIALIZER;

/* A fault no guard claims, inside a soft range: put a zero page over it
** and return, so the faulting access runs again and reads zeros. mmap is
** a plain system call; it is safe here in practice (not on POSIX's list). */
static int soft_patch(const char *a) {
    uintptr_t u = (uintptr_t)a;
    for (int i = 0; i < MB_SOFT_SLOTS; i++) {
        uintptr_t lo = atomic_load_explicit(&s_soft[i].lo, memory_order_acquire);
        if (!lo || u < lo) continue;
        if (u >= atomic_load_explicit(&s_soft[i].hi, memory_order_acquire)) continue;
        uintptr_t page = (uintptr_t)mb_page_size();
        void *pg = (void *)(u & ~(page - 1));
        int prot = PROT_READ | (s_soft[i].writable ? PROT_WRITE : 0);
        if (mmap(pg, (size_t)page, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            return 0;
        atomic_fetch_add_explicit(&s_soft[i].patches, 1, memory_order_release);
        return 1;
    }
    return 0;
}

static void on_fault(int sig, siginfo_t *info, void *uctx) {
    mb_guard *g = guard_get();
    if (g && info->si_code > 0) {
        const char *a = (const char *)info->si_addr;
        if ((a >= g->lo1 && a < g->hi1) || (a >= g->lo2 && a < g->hi2)) {
            guard_set(NULL);
            siglongjmp(g->jmp, 1);
        }
    }
    if (info->si_code > 0 && soft_patch((const char *)info->si_addr)) return;
    chain(sig, info, uctx);
}

int mb__soft_register(char *lo, char *hi, int writable) {
    pthread_once(&s_once, install);
    if (s_install_failed) return -1;
    pthread_mutex_lock(&s_soft_mutex);
    int slot = -1;
    for (int i = 0; i < MB_SOFT_SLOTS && slot < 0; i++) {
        if (atomic_load(&s_soft[i].lo) == 0 && atomic_load(&s_soft[i].hi) == 0) slot = i;
    }
    if (slot >= 0) {
        s_soft[slot].writable = writable;
        atomic_store(&s_soft[slot].patches, 0);
        atomic_store_explicit(&s_soft[slot].hi, (uintptr_t)hi, memory_order_release);
        atomic_store_explicit(&s_soft[slot].lo, (uintptr_t)lo, memory_order_release);
    }
    pthread_mutex_unlock(&s_soft_mutex);
    return slot;
}

void mb__soft_move(int slot, char *lo, char *hi) {
    if (slot < 0) return;
    pthread_mutex_lock(&s_soft_mutex);
    atomic_store_explicit(&s_soft[slot].lo, 0, memory_order_release);
    atomic_store_explicit(&s_soft[slot].hi, (uintptr_t)hi, memory_order_release);
    atomic_store_explicit(&s_soft[slot].lo, (uintptr_t)lo, memory_order_release);
    pthread_mutex_unlock(&s_soft_mutex);
}

void mb__soft_unregister(int slot) {
    if (slot < 0) return;
    pthread_mutex_lock(&s_soft_mutex);
    atomic_store_explicit(&s_soft[slot].lo, 0, memory_order_release);
    atomic_store_explicit(&s_soft[slot].hi, 0, memory_order_release);
    pthread_mutex_unlock(&s_soft_mutex);
}

uint64_t mb__soft_count(int slot) {
    return slot < 0 ? 0 : atomic_load_explicit(&s_soft[slot].patches, memory_order_acquire);
}

static void install(void) {
    if (guard_key_create() != 0) {
        s_install_failed = 1;
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &s_old_bus) != 0 || sigaction(SIGSEGV, &sa, &s_old_segv) != 0)
        s_install_failed = 1;
    atomic_store_explicit(&s_installed, 1, memory_order_release);
}

mb_guard_state mb_guard_status(unsigned *soft_maps) {
    if (soft_maps) {
        unsigned n = 0;
        for (int i = 0; i < MB_SOFT_SLOTS; i++)
            if (atomic_load_explicit(&s_soft[i].lo, memory_order_acquire)) n++;
        *soft_maps = n;
    }
    if (!atomic_load_explicit(&s_installed, memory_order_acquire)) return MB_GUARD_NOT_INSTALLED;
    return s_install_failed ? MB_GUARD_FAILED : MB_GUARD_INSTALLED;
}

/* The fault path: the handler left SIGBUS/SIGSEGV blocked (we did not save
** the mask in sigsetjmp), so unblock them before going on. */
static int fault_return(mb_guard *prev) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGBUS);
    sigaddset(&set, SIGSEGV);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    guard_set(prev);
    mb__stat_guard_fault();
    return mb__fail(MB_EFAULT, EFAULT);
}


/* Run fn(ctx) with the guard armed for [lo1, hi1) and [lo2, hi2)
** (mb_internal.h), each rounded out to whole pages (see the top). */
int mb__guarded_run(const char *lo1, const char *hi1, const char *lo2, const char *hi2,
                    void (*fn)(void *), void *ctx) {
    pthread_once(&s_once, install);
    if (s_install_failed) return mb__fail(MB_EIO, 0);
    mb_guard g;
    mb_guard *volatile prev = guard_get(); /* a guard may nest (populate->touch) */
    mb__page_round(&lo1, &hi1);
    mb__page_round(&lo2, &hi2);
    g.lo1 = lo1; g.hi1 = hi1;
    g.lo2 = lo2; g.hi2 = hi2;
    if (sigsetjmp(g.jmp, 0) != 0) return fault_return(prev);
    /* The fences keep the compiler from moving the guarded loads and
    ** stores outside the armed window. */
    atomic_signal_fence(memory_order_seq_cst);
    guard_set(&g);
    atomic_signal_fence(memory_order_seq_cst);
    fn(ctx);
    atomic_signal_fence(memory_order_seq_cst);
    guard_set(prev);
    atomic_signal_fence(memory_order_seq_cst);
    return MB_OK;
}
