/*
** mb_memory_win.c -- what Windows says about memory: the page size, the
** physical memory still available (GlobalMemoryStatusEx) and the system's
** low-memory resource notification, polled without waiting.
*/
#include "mb_win.h"

#include "mb_internal.h"

/* The page size, read once (GetSystemInfo cannot fail). Here, below the
** map backend, because the guard and mb_map_common.c need it too. */
size_t mb_page_size(void) {
    static size_t cached;
    size_t p = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (!p) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        p = si.dwPageSize ? si.dwPageSize : 4096;
        __atomic_store_n(&cached, p, __ATOMIC_RELAXED);
    }
    return p;
}

uint64_t mb__now_ms(void) { return (uint64_t)GetTickCount64(); }

void mb__idle_default(uint64_t *bytes, uint64_t *count) {
    *bytes = MB_IDLE_DEFAULT_BYTES;
    *count = MB_IDLE_DEFAULT_COUNT;
}

static HANDLE s_low; /* created once; a race creates two, harmlessly */

void mb__memory_read_os(mb__mem_raw *r) {
    memset(r, 0, sizeof *r);
    r->v1_event = -1;
    r->os_low = -1;
    MEMORYSTATUSEX ms;
    ms.dwLength = sizeof ms;
    if (GlobalMemoryStatusEx(&ms)) {
        r->mem_available = ms.ullAvailPhys;
        r->mem_total = ms.ullTotalPhys;
    }
    if (!s_low) s_low = CreateMemoryResourceNotification(LowMemoryResourceNotification);
    BOOL low = FALSE;
    if (s_low && QueryMemoryResourceNotification(s_low, &low)) r->os_low = low ? 1 : 0;
    else r->unreadable++;
}
