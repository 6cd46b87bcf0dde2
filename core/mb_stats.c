/*
** mb_stats.c -- process-wide counters of the mapping core. Portable.
** Relaxed atomics: the counters are statistics, not synchronisation.
** A leaf: the other core files push counts in; it calls none of them.
*/
#include <stdatomic.h>
#include "mb_internal.h"

static _Atomic uint64_t s_live, s_mapped, s_reserved, s_opened, s_remaps,
                        s_guard_faults, s_dropped, s_throttled;

void mb__stat_map_opened(uint64_t mapped, uint64_t reserved) {
    atomic_fetch_add_explicit(&s_live, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s_opened, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s_mapped, mapped, memory_order_relaxed);
    atomic_fetch_add_explicit(&s_reserved, reserved, memory_order_relaxed);
}

void mb__stat_map_closed(uint64_t mapped, uint64_t reserved) {
    atomic_fetch_sub_explicit(&s_live, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s_mapped, mapped, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s_reserved, reserved, memory_order_relaxed);
}

void mb__stat_resized(uint64_t old_mapped, uint64_t new_mapped,
                      uint64_t old_reserved, uint64_t new_reserved) {
    /* unsigned wrap-around makes add(new) - old exact in modular arithmetic */
    atomic_fetch_add_explicit(&s_mapped, new_mapped - old_mapped, memory_order_relaxed);
    atomic_fetch_add_explicit(&s_reserved, new_reserved - old_reserved, memory_order_relaxed);
    atomic_fetch_add_explicit(&s_remaps, 1, memory_order_relaxed);
}

void mb__stat_guard_fault(void) {
    atomic_fetch_add_explicit(&s_guard_faults, 1, memory_order_relaxed);
}

void mb__stats_load(mb_stats *st) {
    st->live_maps      = atomic_load_explicit(&s_live, memory_order_relaxed);
    st->bytes_mapped   = atomic_load_explicit(&s_mapped, memory_order_relaxed);
    st->bytes_reserved = atomic_load_explicit(&s_reserved, memory_order_relaxed);
    st->maps_opened    = atomic_load_explicit(&s_opened, memory_order_relaxed);
    st->remaps         = atomic_load_explicit(&s_remaps, memory_order_relaxed);
    st->guard_faults   = atomic_load_explicit(&s_guard_faults, memory_order_relaxed);
    st->dropped_behind = atomic_load_explicit(&s_dropped, memory_order_relaxed);
    st->prefetch_throttled = atomic_load_explicit(&s_throttled, memory_order_relaxed);
}

void mb__stat_dropped(uint64_t bytes) {
    atomic_fetch_add_explicit(&s_dropped, bytes, memory_order_relaxed);
}

void mb__stat_throttled(void) {
    atomic_fetch_add_explicit(&s_throttled, 1, memory_order_relaxed);
}
