/*
** mb_view.c -- what a view will be, decided before any OS call maps it.
** Portable: both backends validate options and size their views here, so
** the error codes for bad input are the same on every platform.
*/
#include <stdlib.h>

#include "mb_internal.h"

int mb__check_options(const mb_map_options *opt, unsigned *flags_out) {
    const unsigned known = MB_MAP_WRITE | MB_MAP_POPULATE | MB_MAP_HUGEPAGES |
                           MB_MAP_ALLOW_EMPTY | MB_MAP_CREATE | MB_MAP_NORESERVE |
                           MB__MAP_WRITABLE_FD;
    unsigned flags = opt->flags;
    if (flags & ~known) return mb__fail(MB_EINVAL, 0);
    if ((flags & MB_MAP_CREATE) && !(flags & MB_MAP_WRITE)) return mb__fail(MB_EINVAL, 0);
    if (flags & MB_MAP_CREATE) flags |= MB_MAP_ALLOW_EMPTY;
    if (opt->length && opt->offset > UINT64_MAX - opt->length) return mb__fail(MB_EOVERFLOW, 0);
    if (opt->offset + opt->length > (uint64_t)INT64_MAX) return mb__fail(MB_EOVERFLOW, 0);
    *flags_out = flags;
    return MB_OK;
}

int mb__plan_view(const mb_map_options *opt, unsigned flags, uint64_t file_size,
                  uint64_t granularity, mb_view_plan *plan) {
    plan->aoff = opt->offset - opt->offset % granularity;
    plan->delta = opt->offset - plan->aoff;
    if (opt->offset > file_size) return mb__fail(MB_ERANGE, 0);
    if (opt->length) {
        if (opt->offset + opt->length > file_size) return mb__fail(MB_ERANGE, 0);
        plan->size = opt->length;
    } else {
        plan->size = file_size - opt->offset;
    }
    if (plan->size == 0 && !(flags & MB_MAP_ALLOW_EMPTY)) return mb__fail(MB_EEMPTY, 0);
    /* A following view reserves room to grow into; a window does not. */
    plan->reserve = plan->size;
    if (opt->length == 0 && !(flags & MB_MAP_NORESERVE)) {
        plan->reserve = opt->reserve ? opt->reserve : mb_default_reserve(plan->size);
        if (plan->reserve < plan->size) plan->reserve = plan->size;
    }
    /* Everything after this adds delta and up to one granule to the
    ** reservation and must still fit a size_t. */
    if (plan->reserve > (uint64_t)SIZE_MAX - plan->delta - 2 * granularity)
        return mb__fail(MB_EOVERFLOW, 0);
    return MB_OK;
}

/* MEMBASE_RESERVE_FLOOR: the 64 GiB floor of the default reservation,
** overridden ("64MiB", "1GiB", "65536"; suffixes K/M/G with or without
** "iB", powers of 1024). For emulators, not for production: qemu-user keeps
** page flags for every page of the guest's address space, so each 64 GiB
** reservation costs it 16 M page entries to set and clear (test programs
** that open thousands of views spend minutes there); tests/scripts/arm64.sh
** sets 64MiB. A smaller floor only means a view that grows past it moves
** (mb_map_refresh's contract allows that). Unset, empty or unreadable: 64 GiB. */
static uint64_t reserve_floor(void) {
    const uint64_t dflt = 64ull << 30;
    const char *z = getenv("MEMBASE_RESERVE_FLOOR");
    if (!z || !*z) return dflt;
    uint64_t v = 0;
    const char *p = z;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10) return dflt;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (p == z) return dflt;
    unsigned shift = 0;
    switch (*p) {
    case 'K': case 'k': shift = 10; p++; break;
    case 'M': case 'm': shift = 20; p++; break;
    case 'G': case 'g': shift = 30; p++; break;
    default: break;
    }
    if (shift && p[0] == 'i' && p[1] == 'B') p += 2;
    else if (shift && (p[0] == 'B' || p[0] == 'b')) p++;
    if (*p != 0 || v > (UINT64_MAX >> shift)) return dflt;
    return v << shift;
}

uint64_t mb_default_reserve(uint64_t view_size) {
    uint64_t twice = view_size > UINT64_MAX / 2 ? UINT64_MAX : view_size * 2;
    if (sizeof(void *) >= 8) {
        const uint64_t floor = reserve_floor();
        return twice > floor ? twice : floor;
    }
    return twice;
}
