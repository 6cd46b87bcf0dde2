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

#include "mb_internal.h"

typedef struct mb_guard {
    sigjmp_buf  jmp;
    const char *lo1, *hi1;  /* source range */
    const char *lo2, *hi2;  /* destination range */
} mb_guard;

/* The armed guard of this thread, or NULL. Written only by this thread;
** read by the signal handler running on this thread. */
static _Thread_local mb_guard *volatile tl_guard;

static struct sigaction s_old_bus, s_old_segv;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_install_failed;

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

static void on_fault(int sig, siginfo_t *info, void *uctx) {
    mb_guard *g = tl_guard;
    if (g && info->si_code > 0) {
        const char *a = (const char *)info->si_addr;
        if ((a >= g->lo1 && a < g->hi1) || (a >= g->lo2 && a < g->hi2)) {
            tl_guard = NULL;
            siglongjmp(g->jmp, 1);
        }
    }
    chain(sig, info, uctx);
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &s_old_bus) != 0 || sigaction(SIGSEGV, &sa, &s_old_segv) != 0)
        s_install_failed = 1;
}

/* The fault path: the handler left SIGBUS/SIGSEGV blocked (we did not save
** the mask in sigsetjmp), so unblock them before going on. */
static int fault_return(mb_guard *prev) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGBUS);
    sigaddset(&set, SIGSEGV);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    tl_guard = prev;
    mb__stat_guard_fault();
    return mb__fail(MB_EFAULT, EFAULT);
}

/* Run fn(ctx) with the guard armed for [lo1, hi1) and [lo2, hi2)
** (mb_internal.h). */
int mb__guarded_run(const char *lo1, const char *hi1, const char *lo2, const char *hi2,
                    void (*fn)(void *), void *ctx) {
    pthread_once(&s_once, install);
    if (s_install_failed) return mb__fail(MB_EIO, 0);
    mb_guard g;
    mb_guard *volatile prev = tl_guard; /* a guard may nest (populate->touch) */
    g.lo1 = lo1; g.hi1 = hi1;
    g.lo2 = lo2; g.hi2 = hi2;
    if (sigsetjmp(g.jmp, 0) != 0) return fault_return(prev);
    /* The fences keep the compiler from moving the guarded loads and
    ** stores outside the armed window. */
    atomic_signal_fence(memory_order_seq_cst);
    tl_guard = &g;
    atomic_signal_fence(memory_order_seq_cst);
    fn(ctx);
    atomic_signal_fence(memory_order_seq_cst);
    tl_guard = prev;
    atomic_signal_fence(memory_order_seq_cst);
    return MB_OK;
}
