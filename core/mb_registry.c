/*
** mb_registry.c -- one mapping per file per process, shared and
** refcounted. Portable: the platform supplies file identity
** (mb_internal.h); the lock is this file's own mb_mutex.
**
** Files are identified by (device, inode), not by path, so two spellings of
** one file ("a.db", "./a.db", a hard link) share one map. The key is taken
** from the descriptor the map holds, not from an earlier stat of the path,
** so a rename between lookup and open cannot pair a map with the wrong key.
**
** All entry operations hold the one registry lock. Opens and refreshes are
** rare next to reads, which never touch the registry: a user keeps its
** mb_map pointer and reads through it without locking.
*/
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>
#include "mb_internal.h"
#include "mb_mutex.h"

typedef struct mb_entry {
    struct mb_entry *next;
    mb_file_id       id;
    mb_map          *map;
    unsigned         refs;
    uint64_t         idle_seq;  /* 0 = in use; else when it went idle */
} mb_entry;

/* The one registry lock: every entry operation holds it. */
static mb_mutex s_lock = MB_MUTEX_INIT;
static mb_entry *s_entries; /* guarded by s_lock */

/* Idle maps: kept mapped with refs == 0, bounded by a budget (mb_map.h). */
static int      s_budget_set;            /* 0 = the platform default */
static uint64_t s_idle_max_bytes, s_idle_max_count;
static uint64_t s_idle_seq;
static uint64_t s_idle_count, s_idle_bytes;
static _Atomic uint64_t s_idle_evicted;

static void budget_locked(uint64_t *bytes, uint64_t *count) {
    assert(mb_mutex_held(&s_lock));
    if (!s_budget_set) {
        mb__idle_default(&s_idle_max_bytes, &s_idle_max_count);
        s_budget_set = 1;
    }
    *bytes = s_idle_max_bytes;
    *count = s_idle_max_count;
}

/* Unlink and close one idle entry. Called with s_lock held. */
static void evict(mb_entry **pp) {
    assert(mb_mutex_held(&s_lock));
    mb_entry *e = *pp;
    *pp = e->next;
    s_idle_count--;
    s_idle_bytes -= e->idle_seq ? mb_map_size(e->map) : 0;
    atomic_fetch_add_explicit(&s_idle_evicted, 1, memory_order_relaxed);
    mb_map_close(e->map);
    free(e);
}

/* Close idle entries, least recently used first, until the budget holds;
** all of them with everything = 1; and any whose file was deleted.
** Returns how many were closed. Called with s_lock held. */
static unsigned enforce_budget(int everything) {
    assert(mb_mutex_held(&s_lock));
    uint64_t max_bytes, max_count;
    budget_locked(&max_bytes, &max_count);
    unsigned n = 0;
    for (mb_entry **pp = &s_entries; *pp;) {
        if ((*pp)->refs == 0 && (everything || mb__map_unlinked((*pp)->map))) {
            evict(pp);
            n++;
        } else {
            pp = &(*pp)->next;
        }
    }
    while (s_idle_count > max_count || s_idle_bytes > max_bytes) {
        mb_entry **oldest = NULL;
        for (mb_entry **pp = &s_entries; *pp; pp = &(*pp)->next)
            if ((*pp)->refs == 0 && (!oldest || (*pp)->idle_seq < (*oldest)->idle_seq))
                oldest = pp;
        if (!oldest) break;
        evict(oldest);
        n++;
    }
    return n;
}

static mb_entry *find_by_id(const mb_file_id *id) {
    assert(mb_mutex_held(&s_lock));
    for (mb_entry *e = s_entries; e; e = e->next)
        if (e->id.dev == id->dev && e->id.ino == id->ino) return e;
    return NULL;
}

static mb_entry *find_by_map(const mb_map *m) {
    assert(mb_mutex_held(&s_lock));
    for (mb_entry *e = s_entries; e; e = e->next)
        if (e->map == m) return e;
    return NULL;
}

/* The registry reacts to memory pressure itself: mb_memory.c counts each
** change from no pressure to pressure (mb__memory_counters), whoever took
** the reading, and every registry call that takes the lock closes the idle
** maps if that count moved since it last looked. The count is read under
** the lock, so a reading taken with the lock held (a populate inside an
** acquire) is acted on by the next call. */
static uint64_t s_pressure_seen; /* guarded by the registry lock */

static uint64_t pressure_events(void) {
    uint64_t events, unreadable;
    mb__memory_counters(&events, &unreadable);
    return events;
}

/* Called with s_lock held. */
static void trim_if_pending(void) {
    assert(mb_mutex_held(&s_lock));
    uint64_t now = pressure_events();
    if (now != s_pressure_seen) {
        s_pressure_seen = now;
        (void)enforce_budget(1);
    }
}

/* Take one more reference on an existing entry, upgrading it to writable
** or populating it as asked. Called with s_lock held. */
static int share_entry(mb_entry *e, unsigned flags, mb_map **out) {
    assert(mb_mutex_held(&s_lock));
    if ((flags & MB_MAP_WRITE) && !mb_map_writable(e->map)) {
        int rc = mb__map_make_writable(e->map);
        if (rc != MB_OK) return rc;
    }
    if (e->refs == 0) {
        /* Back from idle: the file may have changed meanwhile. */
        s_idle_count--;
        s_idle_bytes -= mb_map_size(e->map);
        e->idle_seq = 0;
        (void)mb_map_refresh(e->map, NULL);
    }
    if (flags & MB_MAP_POPULATE) {
        /* Best effort: a populate failure is not a failure to share. */
        (void)mb_map_populate_bounded(e->map, 0, 0, MB_POP_DEFAULT, NULL, NULL);
    }
    e->refs++;
    mb__map_set_refcount(e->map, e->refs);
    *out = e->map;
    return MB_OK;
}

int mb_registry_acquire(const char *path, unsigned flags, mb_map **out) {
    mb_map_options opt = {0};
    opt.flags = flags;
    return mb_registry_acquire_opt(path, &opt, out);
}

int mb_registry_acquire_opt(const char *path, const mb_map_options *o, mb_map **out) {
    return mb_registry_acquire_fd(path, -1, o, out);
}

int mb_registry_acquire_fd(const char *path, int fd, const mb_map_options *o, mb_map **out) {
    if (!path || !out || !o || o->offset || o->length) return mb__fail(MB_EINVAL, 0);
    if (fd >= 0 && (o->flags & MB_MAP_CREATE)) return mb__fail(MB_EINVAL, 0);
    unsigned flags = o->flags;
    const unsigned allowed = MB_MAP_WRITE | MB_MAP_CREATE | MB_MAP_HUGEPAGES |
                             MB_MAP_POPULATE | MB_MAP_NORESERVE;
    if (flags & ~allowed) return mb__fail(MB_EINVAL, 0);

    mb_memory mem;
    (void)mb_memory_sample(&mem);   /* a checkpoint, outside the lock */
    mb_mutex_enter(&s_lock);
    trim_if_pending();
    if (s_idle_count) enforce_budget(0);
    mb_file_id id;
    int rc = mb__path_file_id(path, &id);
    if (rc == MB_OK) {
        mb_entry *e = find_by_id(&id);
        if (e) {
            rc = share_entry(e, flags, out);
            mb_mutex_leave(&s_lock);
            return rc;
        }
    } else if (!(rc == MB_ENOENT && (flags & MB_MAP_CREATE))) {
        mb_mutex_leave(&s_lock);
        return rc;
    }

    mb_entry *e = calloc(1, sizeof *e);
    if (!e) {
        mb_mutex_leave(&s_lock);
        return mb__fail(MB_ENOMEM, 0);
    }
    mb_map_options opt = {0};
    opt.flags = flags | MB_MAP_ALLOW_EMPTY;
    opt.reserve = o->reserve;
    if (!(flags & MB_MAP_WRITE)) opt.flags |= MB__MAP_WRITABLE_FD;
    mb_map *m = NULL;
    rc = fd >= 0 ? mb_map_open_fd(path, fd, &opt, &m) : mb_map_open(path, &opt, &m);
    if (rc == MB_OK) rc = mb__map_file_id(m, &id);
    if (rc != MB_OK) goto fail;

    /* The path may have been replaced between the lookup and the open, or
    ** the file created just now by another thread: key by what we opened. */
    mb_entry *existing = find_by_id(&id);
    if (existing) {
        mb_map_close(m);
        free(e);
        rc = share_entry(existing, flags, out);
        mb_mutex_leave(&s_lock);
        return rc;
    }
    e->id = id;
    e->map = m;
    e->refs = 1;
    e->next = s_entries;
    s_entries = e;
    mb__map_set_refcount(m, 1);
    *out = m;
    mb_mutex_leave(&s_lock);
    return MB_OK;

fail:
    {
        int os = mb_last_oserror();
        mb_map_close(m);
        free(e);
        mb_mutex_leave(&s_lock);
        return mb__fail(rc, os);
    }
}

int mb_registry_lookup(const char *path, mb_map **out) {
    if (!path || !out) return mb__fail(MB_EINVAL, 0);
    mb_file_id id;
    mb_mutex_enter(&s_lock);
    int rc = mb__path_file_id(path, &id);
    if (rc == MB_OK) {
        mb_entry *e = find_by_id(&id);
        *out = e ? e->map : NULL;
    }
    mb_mutex_leave(&s_lock);
    return rc;
}

void mb_registry_release(mb_map *m) {
    mb_registry_release_fd(m, -1);
}

void mb_registry_release_fd(mb_map *m, int fd) {
    if (!m) return;
    /* A memory checkpoint first, outside the lock: pressure seen here
    ** empties the idle list (trim_if_pending). */
    mb_memory mem;
    (void)mb_memory_sample(&mem);
    mb_mutex_enter(&s_lock);
    trim_if_pending();
    mb_entry **pp = &s_entries;
    while (*pp && (*pp)->map != m) pp = &(*pp)->next;
    mb_entry *e = *pp;
    if (e && e->refs > 0 && --e->refs == 0) {
        uint64_t max_bytes, max_count;
        budget_locked(&max_bytes, &max_count);
        /* A map through a caller's descriptor cannot outlive it: no idling. */
        if (max_count == 0 || mb_map_size(m) > max_bytes || mem.pressure ||
            mb__map_borrows(m, -1) || mb__map_unlinked(m)) {
            *pp = e->next;
            mb_map_close(e->map);
            free(e);
        } else {
            /* Kept idle: without the file lock a user may have left. */
            (void)mb_map_lock(m, MB_LOCK_UNLOCK);
            mb__map_set_refcount(m, 0);
            e->idle_seq = ++s_idle_seq;
            s_idle_count++;
            s_idle_bytes += mb_map_size(m);
            enforce_budget(0);
        }
    } else if (e) {
        /* Others still use it: it must stop using the descriptor the
        ** caller is about to close. Opening one of its own drops no lock;
        ** its close, much later, could (see mb_map_open_fd). */
        if (fd >= 0 && mb__map_borrows(m, fd)) (void)mb_map_own_fd(m);
        mb__map_set_refcount(m, e->refs);
    }
    mb_mutex_leave(&s_lock);
}

int mb_registry_relend_fd(mb_map *m, int oldfd, int newfd) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    mb_mutex_enter(&s_lock);
    int rc = MB_OK;
    if (mb__map_borrows(m, oldfd)) {
        rc = newfd >= 0 ? mb__map_swap_fd(m, oldfd, newfd) : mb__fail(MB_EINVAL, 0);
        if (rc != MB_OK) rc = mb_map_own_fd(m);
    }
    mb_mutex_leave(&s_lock);
    return rc;
}

int mb_registry_set_idle_budget(uint64_t bytes, uint64_t count) {
    if (bytes > (uint64_t)INT64_MAX || count > (uint64_t)INT64_MAX)
        return mb__fail(MB_EOVERFLOW, 0);
    mb_mutex_enter(&s_lock);
    s_budget_set = 1;
    s_idle_max_bytes = bytes;
    s_idle_max_count = count;
    enforce_budget(0);
    mb_mutex_leave(&s_lock);
    return MB_OK;
}

void mb_registry_idle_budget(uint64_t *bytes, uint64_t *count) {
    uint64_t b, c;
    mb_mutex_enter(&s_lock);
    budget_locked(&b, &c);
    mb_mutex_leave(&s_lock);
    if (bytes) *bytes = b;
    if (count) *count = c;
}

unsigned mb_registry_trim_idle(void) {
    mb_mutex_enter(&s_lock);
    s_pressure_seen = pressure_events();
    unsigned n = enforce_budget(1);
    mb_mutex_leave(&s_lock);
    return n;
}

/* The idle-map counters of mb_stats_get. */
static void idle_counts(uint64_t *maps, uint64_t *bytes, uint64_t *evicted) {
    mb_mutex_enter(&s_lock);
    trim_if_pending();
    *maps = s_idle_count;
    *bytes = s_idle_bytes;
    mb_mutex_leave(&s_lock);
    *evicted = atomic_load_explicit(&s_idle_evicted, memory_order_relaxed);
}

void mb_stats_get(mb_stats *st) {
    if (!st) return;
    mb__stats_load(st);
    mb__os_faults(&st->minor_faults, &st->major_faults);
    mb__memory_counters(&st->pressure_events, &st->pressure_unreadable);
    idle_counts(&st->idle_maps, &st->idle_bytes, &st->idle_evicted);
}

int mb_registry_refresh(mb_map *m, uint64_t *new_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    mb_mutex_enter(&s_lock);
    int rc = find_by_map(m) ? mb_map_refresh(m, new_size) : mb__fail(MB_EINVAL, 0);
    mb_mutex_leave(&s_lock);
    return rc;
}

int mb_registry_resize_file(mb_map *m, uint64_t new_file_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    mb_mutex_enter(&s_lock);
    int rc = find_by_map(m) ? mb_map_resize_file(m, new_file_size) : mb__fail(MB_EINVAL, 0);
    mb_mutex_leave(&s_lock);
    return rc;
}

int mb_registry_cut(mb_map *m, uint64_t new_file_size, mb_cut_fn cut, void *ctx) {
    if (!m || !cut) return mb__fail(MB_EINVAL, 0);
    mb_mutex_enter(&s_lock);
    int rc = find_by_map(m) ? mb_map_cut(m, new_file_size, cut, ctx) : mb__fail(MB_EINVAL, 0);
    mb_mutex_leave(&s_lock);
    return rc;
}

int mb_registry_snapshot(mb_map_info **out, size_t *n) {
    return mb_registry_snapshot_opt(out, n, 0);
}

int mb_registry_snapshot_opt(mb_map_info **out, size_t *n, unsigned flags) {
    if (!out || !n || (flags & ~MB_SNAP_RESIDENT)) return mb__fail(MB_EINVAL, 0);
    mb_mutex_enter(&s_lock);
    trim_if_pending();
    size_t count = 0;
    for (mb_entry *e = s_entries; e; e = e->next) count++;
    mb_map_info *arr = calloc(count ? count : 1, sizeof *arr);
    if (!arr) {
        mb_mutex_leave(&s_lock);
        return mb__fail(MB_ENOMEM, 0);
    }
    size_t i = 0;
    for (mb_entry *e = s_entries; e; e = e->next, i++) {
        mb_map_get_info(e->map, &arr[i]);
        arr[i].refcount = e->refs;
        arr[i].idle = e->refs == 0;
        arr[i].resident = UINT64_MAX;
        if ((flags & MB_SNAP_RESIDENT) && mb_map_size(e->map) > 0 &&
            mb_map_residency(e->map, 0, 0, &arr[i].resident) != MB_OK)
            arr[i].resident = UINT64_MAX;
        size_t len = strlen(arr[i].path) + 1;
        char *copy = malloc(len);
        if (!copy) {
            mb_mutex_leave(&s_lock);
            mb_registry_free_snapshot(arr, i);
            return mb__fail(MB_ENOMEM, 0);
        }
        memcpy(copy, arr[i].path, len);
        arr[i].path = copy;
    }
    mb_mutex_leave(&s_lock);
    *out = arr;
    *n = count;
    return MB_OK;
}

void mb_registry_free_snapshot(mb_map_info *arr, size_t n) {
    if (!arr) return;
    for (size_t i = 0; i < n; i++) free((char *)arr[i].path);
    free(arr);
}
