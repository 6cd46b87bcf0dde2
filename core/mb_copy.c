/*
** mb_copy.c -- fault-guarded copies and calls, and range-checked reads and
** writes of a view. Portable: the guard itself (mb__guarded_run) is the
** backend's.
*/
#include "mb_internal.h"

typedef struct copy_job { void *dst; const void *src; size_t n; } copy_job;
static void run_copy(void *p) {
    copy_job *j = p;
    mb__guarded_memcpy(j->dst, j->src, j->n);
}

int mb_guarded_copy(void *dst, const void *src, size_t n) {
    if (n == 0) return MB_OK;
    if (!dst || !src) return mb__fail(MB_EINVAL, 0);
    copy_job j = {dst, src, n};
    return mb__guarded_run((const char *)src, (const char *)src + n, (const char *)dst,
                           (const char *)dst + n, run_copy, &j);
}

int mb_guarded_call(const void *lo, size_t len, void (*fn)(void *ctx), void *ctx) {
    if (!fn || (!lo && len)) return mb__fail(MB_EINVAL, 0);
    return mb__guarded_run((const char *)lo, (const char *)lo + len, NULL, NULL, fn, ctx);
}

/* A fault in a view that did not change is tried again this many times,
** yielding in between, before it is reported: a truncated file faults
** every time, while a transient in-page error may clear. Costs nothing
** until a copy faults. */
#define MB_COPY_FAULT_TRIES 3
/* A view that changed under this many copies in a row (a writer growing the
** file without pause) gets the last result: no reader starves forever. */
#define MB_COPY_MAX_RACES 10000

/* Wait until no refresh is changing the view and return its generation.
** A refresh can take milliseconds (on Windows it may reserve and map new
** address space), so after a short spin the reader yields its CPU. */
static uint64_t stable_generation(const mb_map *m) {
    uint64_t g;
    for (unsigned i = 0; ((g = mb__map_generation(m)) & 1) != 0; i++)
        if (i >= 64) mb__yield();
    return g;
}

/* Copy between buf and view offset `off`, retrying if the view changed
** while the copy ran: a fault or stale bytes seen during a refresh are the
** refresh's, not the file's. A fault in a stable view is MB_EFAULT. */
static int view_copy(mb_map *m, uint64_t off, void *buf, size_t n, int into_view) {
    unsigned faults = 0, races = 0;
    for (;;) {
        uint64_t g = stable_generation(m);
        int rc;
        uint64_t size = mb_map_size(m);
        if (off > size || n > size - off) {
            rc = mb__fail(MB_ERANGE, 0);
        } else {
            char *p = (char *)mb_map_data(m) + off;
            rc = into_view ? mb_guarded_copy(p, buf, n) : mb_guarded_copy(buf, p, n);
        }
        if (mb__map_generation(m) != g) {
            if (++races < MB_COPY_MAX_RACES) continue;
            return rc;
        }
        if (rc != MB_EFAULT || ++faults >= MB_COPY_FAULT_TRIES) return rc;
        mb__yield();
    }
}

int mb_map_read(const mb_map *m, uint64_t off, void *dst, size_t n) {
    if (!m || (!dst && n)) return mb__fail(MB_EINVAL, 0);
    if (n == 0) {
        uint64_t size = mb_map_size(m);
        return off > size ? mb__fail(MB_ERANGE, 0) : MB_OK;
    }
    return view_copy((mb_map *)m, off, dst, n, 0);
}

int mb_map_write(mb_map *m, uint64_t off, const void *src, size_t n) {
    if (!m || (!src && n)) return mb__fail(MB_EINVAL, 0);
    if (!mb_map_writable(m)) return mb__fail(MB_EREADONLY, 0);
    if (n == 0) {
        uint64_t size = mb_map_size(m);
        return off > size ? mb__fail(MB_ERANGE, 0) : MB_OK;
    }
    return view_copy(m, off, (void *)src, n, 1);
}
