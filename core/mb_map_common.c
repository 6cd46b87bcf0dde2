/*
** mb_map_common.c -- the part of mb_map.h that is the same on every
** platform: it only reads or counts the fields of struct mb_map_common,
** which each backend's struct mb_map begins with (mb_internal.h). Portable:
** no platform #ifdefs; a fix made here holds for both backends.
*/
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mb_internal.h"

/* ---- open: the platform-neutral half ---- */
int mb__map_args(const char *path, mb_map **out, const mb_map_options **opt,
                 unsigned *flags) {
    static const mb_map_options defaults = {0, 0, 0, 0};
    if (!path || !out) return mb__fail(MB_EINVAL, 0);
    if (!*opt) *opt = &defaults;
    return mb__check_options(*opt, flags);
}

int mb__map_init(struct mb_map_common *c, const char *path) {
    size_t plen = strlen(path) + 1;
    c->path = malloc(plen);
    if (!c->path) return mb__fail(MB_ENOMEM, 0);
    memcpy(c->path, path, plen);
    return MB_OK;
}

int mb__map_plan(struct mb_map_common *c, const mb_map_options *opt, unsigned flags,
                 uint64_t file_size, uint64_t granularity, mb_view_plan *plan) {
    c->flags = flags;
    c->writable = (flags & MB_MAP_WRITE) != 0;
    c->follow = opt->length == 0;
    c->offset = opt->offset;
    c->fixed_len = opt->length;
    c->advice = MB_ADV_NORMAL;
    c->huge = MB_HUGE_NOT_REQUESTED;
    c->refcount = 1;
    int rc = mb__plan_view(opt, flags, file_size, granularity, plan);
    if (rc != MB_OK) return rc;
    c->aoff = plan->aoff;
    c->delta = plan->delta;
    return MB_OK;
}

/* ---- the view and its file, as published for readers ---- */
uint64_t mb_map_size(const mb_map *m) {
    return m ? atomic_load_explicit(&mb__common(m)->size, memory_order_acquire) : 0;
}

uint64_t mb_map_file_size(const mb_map *m) {
    return m ? atomic_load_explicit(&mb__common(m)->file_size, memory_order_relaxed) : 0;
}

uint64_t mb_map_offset(const mb_map *m) { return m ? mb__common(m)->offset : 0; }
int mb_map_writable(const mb_map *m) { return m && mb__common(m)->writable; }
const char *mb_map_path(const mb_map *m) { return m ? mb__common(m)->path : NULL; }

void mb_map_get_info(const mb_map *m, mb_map_info *info) {
    if (!m || !info) return;
    const struct mb_map_common *c = mb__common(m);
    info->path = c->path;
    info->file_size = mb_map_file_size(m);
    info->offset = c->offset;
    info->mapped = mb_map_size(m);
    /* Counters that refreshes change under the registry lock: read without
    ** it, as relaxed atomics. */
    info->reserved = __atomic_load_n(&c->reserved, __ATOMIC_RELAXED);
    info->writable = mb_map_writable(m);
    info->advice = c->advice;
    info->huge = __atomic_load_n(&c->huge, __ATOMIC_RELAXED);
    info->remaps = __atomic_load_n(&c->remaps, __ATOMIC_RELAXED);
    info->moves = __atomic_load_n(&c->moves, __ATOMIC_RELAXED);
    info->refcount = __atomic_load_n(&c->refcount, __ATOMIC_RELAXED);
    mb__io_load(&c->io, &info->io);
    mb__mem_load(&c->io, &info->mem);
    info->idle = 0;
    info->resident = UINT64_MAX;
}

/* ---- per-map counters ---- */
mb__io_atomic *mb__map_io(mb_map *m) { return &mb__common(m)->io; }
void mb__map_set_refcount(mb_map *m, unsigned n) { __atomic_store_n(&mb__common(m)->refcount, n, __ATOMIC_RELAXED); }
uint64_t mb__map_generation(const mb_map *m) { return atomic_load(&mb__common(m)->gen); }

void mb__mem_load(const mb__io_atomic *a, mb_mem_counts *out) {
    out->dropped = atomic_load_explicit(&a->dropped, memory_order_relaxed);
    out->window = atomic_load_explicit(&a->window, memory_order_relaxed);
    out->populate_bound = atomic_load_explicit(&a->populate_bound, memory_order_relaxed);
}

void mb_map_count_io_n(mb_map *m, mb_io_kind kind, uint64_t n, uint64_t bytes) {
    if (!m || (unsigned)kind >= MB_IO_NKINDS) return;
    mb__io_atomic *io = mb__map_io(m);
    atomic_fetch_add_explicit(&io->count[kind], n, memory_order_relaxed);
    if (bytes) atomic_fetch_add_explicit(&io->bytes[kind], bytes, memory_order_relaxed);
}

void mb_map_count_io(mb_map *m, mb_io_kind kind, uint64_t bytes) {
    mb_map_count_io_n(m, kind, 1, bytes);
}

void mb__io_load(const mb__io_atomic *a, mb_io_counts *out) {
    for (int k = 0; k < MB_IO_NKINDS; k++) {
        out->count[k] = atomic_load_explicit(&a->count[k], memory_order_relaxed);
        out->bytes[k] = atomic_load_explicit(&a->bytes[k], memory_order_relaxed);
    }
}

/* ---- helpers the backends share ---- */
/* Resolve [off, off+len) of the view (len 0 = to the end) to page-aligned
** offsets [*lo, *hi) from the start of the mapping, inside its first
** `maplen` mapped bytes. An empty range is [0, 0). */
int mb__view_range(const mb_map *m, uint64_t off, uint64_t len, uint64_t maplen,
                   uint64_t *lo, uint64_t *hi) {
    uint64_t size = mb_map_size(m);
    if (off > size) return mb__fail(MB_ERANGE, 0);
    if (len == 0) len = size - off;
    if (len > size - off) return mb__fail(off > UINT64_MAX - len ? MB_EOVERFLOW : MB_ERANGE, 0);
    if (len == 0) { *lo = *hi = 0; return MB_OK; }
    size_t page = mb_page_size();
    uint64_t start = mb__common(m)->delta + off;
    uint64_t e = mb__round_up(start + len, page), cap = mb__round_up(maplen, page);
    *lo = start - start % page;
    *hi = e < cap ? e : cap;
    return MB_OK;
}

/* Touch one byte of each page of [addr, addr+len) under the fault guard:
** MB_OK, or MB_EFAULT at the first page that faults. */
static void touch_one(void *ctx) {
    const volatile unsigned char *p = ctx;
    (void)*p;
}

int mb__touch_pages(char *addr, size_t len) {
    size_t page = mb_page_size();
    for (size_t i = 0; i < len; i += page) {
        char *p = addr + i;
        int rc = mb__guarded_run(p, p + 1, NULL, NULL, touch_one, p);
        if (rc != MB_OK) return rc;
    }
    return MB_OK;
}

/* The bookkeeping half of mb_map_advise, after the OS took the advice: an
** access pattern given for the whole view is remembered (mb_map_info, and
** given again to pages mapped later). */
void mb__map_note_advice(mb_map *m, mb_advice a, uint64_t off, uint64_t len) {
    uint64_t size = mb_map_size(m);
    int whole = off == 0 && (len == 0 || len >= size);
    if (whole && (a == MB_ADV_NORMAL || a == MB_ADV_RANDOM || a == MB_ADV_SEQUENTIAL))
        mb__common(m)->advice = a;
}

