/*
** mb_populate.c -- the memory policy applied to populating a map: a
** populate is bounded by the memory the process may use, and the public
** opens, which populate as MB_MAP_POPULATE asks once the backend has
** opened the map. Portable.
*/
#include <stdatomic.h>

#include "mb_internal.h"

/* ---------------------------------------------------------------- populate */
int mb_map_populate_bounded(mb_map *m, uint64_t off, uint64_t len, mb_populate how,
                            mb_populate *used, uint64_t *done) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    uint64_t size = mb_map_size(m);
    if (off > size) return mb__fail(MB_ERANGE, 0);
    uint64_t want = len ? len : size - off;
    if (want > size - off) return mb__fail(MB_ERANGE, 0);
    /* Under pressure, a quarter of the usual bound. */
    mb_memory mem;
    uint64_t bound = UINT64_MAX;
    if (mb_memory_sample(&mem) == MB_OK && mem.available != UINT64_MAX)
        bound = mem.available / MB_PREFETCH_FRACTION / (mem.pressure ? 4u : 1u);
    uint64_t n = want;
    if (n > bound) {
        n = bound;
        atomic_store_explicit(&mb__map_io(m)->populate_bound, bound ? bound : 1,
                              memory_order_relaxed);
        mb__stat_throttled();
    }
    int rc = MB_OK;
    if (n) rc = mb_map_populate(m, off, n, how, used);
    else if (used) *used = MB_POP_NONE;
    if (rc == MB_OK && done) *done = n;
    return rc;
}

/* ---------------------------------------------------------------- open */
/* MB_MAP_POPULATE is a hint: a failure here (e.g. a concurrent truncate)
** shows up as MB_EFAULT on the first guarded read, not as a failed open. */
static int populate_if_asked(int rc, const mb_map_options *opt, mb_map *m) {
    if (rc == MB_OK && opt && (opt->flags & MB_MAP_POPULATE))
        (void)mb_map_populate_bounded(m, 0, 0, MB_POP_DEFAULT, NULL, NULL);
    return rc;
}

int mb_map_open(const char *path, const mb_map_options *opt, mb_map **out) {
    int rc = mb__map_open_path(path, opt, out);
    return populate_if_asked(rc, opt, rc == MB_OK ? *out : NULL);
}

int mb_map_open_fd(const char *path, int fd, const mb_map_options *opt, mb_map **out) {
    int rc = mb__map_open_fd(path, fd, opt, out);
    return populate_if_asked(rc, opt, rc == MB_OK ? *out : NULL);
}
