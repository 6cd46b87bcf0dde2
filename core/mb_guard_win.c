/*
** mb_guard_win.c -- fault-guarded copies for Windows.
**
** A read of a mapped page can fail: the file's device reports an I/O error
** (EXCEPTION_IN_PAGE_ERROR: a network share went away, a disk sector went
** bad), or the address is reserved but no longer mapped, after a shrink
** (EXCEPTION_ACCESS_VIOLATION). A copy arms a per-thread guard naming the
** address ranges it touches; a vectored exception handler checks that the
** faulting address lies inside one of them and, if so, longjmps back into
** the copy, which returns MB_EFAULT. Every other exception goes on to the
** next handler (EXCEPTION_CONTINUE_SEARCH), exactly as if we were not
** there.
**
** Why not __try/__except: mingw-w64 gcc does not accept them. Why a
** vectored handler: it sees the exception before any frame-based handler
** and needs no cooperation from the code that faults (memcpy).
**
** The armed guard is found through a TlsAlloc slot, not a _Thread_local:
** with mingw's emulated TLS the first _Thread_local access of a thread may
** allocate, and the handler runs for every access violation in the
** process, on threads that never copied anything, possibly with the heap
** lock held.
**
** The ranges claimed are the callers' ranges rounded out to whole pages,
** as on POSIX (mb_guard_posix.c): vectorised memchr/memcpy load aligned
** blocks that begin before the range or end after it, and a page is
** mapped or lost as a whole.
**
** Cost on the hot path: one setjmp and two TlsSetValue calls (a store into
** the thread's TEB each).
*/
#include "mb_win.h"
#include <setjmp.h>
#include <stdatomic.h>
#include <string.h>

#include "mb_internal.h"

typedef struct mb_guard {
    jmp_buf         jmp;
    const char     *lo1, *hi1;  /* source range */
    const char     *lo2, *hi2;  /* destination range */
    struct mb_guard *prev;      /* a guard may nest (populate -> touch) */
    DWORD           oserror;    /* set by the handler */
} mb_guard;

static DWORD s_slot = TLS_OUT_OF_INDEXES;
static INIT_ONCE s_once = INIT_ONCE_STATIC_INIT;
/* mb_guard_status: an mb_guard_state, set by install(); a failed install
** is tried again by the next guarded call. */
static _Atomic int s_state;

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep) {
    const EXCEPTION_RECORD *er = ep->ExceptionRecord;
    DWORD code = er->ExceptionCode;
    if (code != EXCEPTION_ACCESS_VIOLATION && code != EXCEPTION_IN_PAGE_ERROR)
        return EXCEPTION_CONTINUE_SEARCH;
    if (er->NumberParameters < 2) return EXCEPTION_CONTINUE_SEARCH;
    /* TlsGetValue clears the thread's last error; the faulting code may
    ** still want it if the exception is not ours. */
    DWORD saved = GetLastError();
    mb_guard *g = TlsGetValue(s_slot);
    SetLastError(saved);
    if (!g) return EXCEPTION_CONTINUE_SEARCH;
    const char *a = (const char *)er->ExceptionInformation[1];
    if ((a >= g->lo1 && a < g->hi1) || (a >= g->lo2 && a < g->hi2)) {
        TlsSetValue(s_slot, g->prev);
        /* ERROR_SWAPERROR is Win32's name for STATUS_IN_PAGE_ERROR. */
        g->oserror = code == EXCEPTION_IN_PAGE_ERROR ? ERROR_SWAPERROR : ERROR_NOACCESS;
        /* mingw's longjmp unwinds (RtlUnwindEx) from here through the
        ** exception dispatcher's frames back to mb_guarded_copy, as an
        ** __except block would. */
        longjmp(g->jmp, 1);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static BOOL CALLBACK install(PINIT_ONCE once, void *param, void **ctx) {
    (void)once; (void)param; (void)ctx;
    DWORD slot = TlsAlloc();
    if (slot == TLS_OUT_OF_INDEXES) {
        atomic_store(&s_state, MB_GUARD_FAILED);
        return FALSE;
    }
    s_slot = slot;
    /* First in the chain: a crash reporter registered earlier must not see
    ** a fault that the copy is about to turn into MB_EFAULT. */
    if (!AddVectoredExceptionHandler(1, on_exception)) {
        TlsFree(slot);
        s_slot = TLS_OUT_OF_INDEXES;
        atomic_store(&s_state, MB_GUARD_FAILED);
        return FALSE; /* INIT_ONCE lets the next call try again */
    }
    atomic_store(&s_state, MB_GUARD_INSTALLED);
    return TRUE;
}

mb_guard_state mb_guard_status(unsigned *soft_maps) {
    if (soft_maps) *soft_maps = 0;   /* no soft faults on Windows */
    return (mb_guard_state)atomic_load(&s_state);
}


/* Run fn(ctx) with the guard armed for [lo1, hi1) and [lo2, hi2)
** (mb_internal.h), each rounded out to whole pages (see the top). */
int mb__guarded_run(const char *lo1, const char *hi1, const char *lo2, const char *hi2,
                    void (*fn)(void *), void *ctx) {
    if (!InitOnceExecuteOnce(&s_once, install, NULL, NULL))
        return mb__fail(MB_EIO, (int)GetLastError());
    mb_guard g;
    volatile mb_guard *vg = &g; /* read back after longjmp: not from a register */
    mb__page_round(&lo1, &hi1);
    mb__page_round(&lo2, &hi2);
    g.lo1 = lo1; g.hi1 = hi1;
    g.lo2 = lo2; g.hi2 = hi2;
    g.prev = TlsGetValue(s_slot);
    g.oserror = 0;
    if (setjmp(g.jmp) != 0) {
        mb__stat_guard_fault();
        return mb__fail(MB_EFAULT, (int)vg->oserror);
    }
    /* The fences keep the compiler from moving the guarded loads and
    ** stores outside the armed window. */
    atomic_signal_fence(memory_order_seq_cst);
    TlsSetValue(s_slot, &g);
    atomic_signal_fence(memory_order_seq_cst);
    fn(ctx);
    atomic_signal_fence(memory_order_seq_cst);
    TlsSetValue(s_slot, vg->prev);
    atomic_signal_fence(memory_order_seq_cst);
    return MB_OK;
}
