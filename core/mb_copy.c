/*
** mb_copy.c -- range-checked, fault-guarded reads and writes of a view.
** Portable: the guard itself (mb_guarded_copy) is the backend's.
*/
#include "mb_internal.h"

int mb_map_read(const mb_map *m, uint64_t off, void *dst, size_t n) {
    if (!m || (!dst && n)) return mb__fail(MB_EINVAL, 0);
    uint64_t size = mb_map_size(m);
    if (off > size || n > size - off) return mb__fail(MB_ERANGE, 0);
    if (n == 0) return MB_OK;
    return mb_guarded_copy(dst, (const char *)mb_map_data(m) + off, n);
}

int mb_map_write(mb_map *m, uint64_t off, const void *src, size_t n) {
    if (!m || (!src && n)) return mb__fail(MB_EINVAL, 0);
    if (!mb_map_writable(m)) return mb__fail(MB_EREADONLY, 0);
    uint64_t size = mb_map_size(m);
    if (off > size || n > size - off) return mb__fail(MB_ERANGE, 0);
    if (n == 0) return MB_OK;
    return mb_guarded_copy((char *)mb_map_data(m) + off, src, n);
}
