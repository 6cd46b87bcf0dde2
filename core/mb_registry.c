/*
** mb_registry.c -- one mapping per file per process, shared and
** refcounted. Portable: the platform supplies file identity and the lock
** (mb_internal.h).
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
#include <stdlib.h>
#include <string.h>
#include "mb_internal.h"

typedef struct mb_entry {
    struct mb_entry *next;
    mb_file_id       id;
    mb_map          *map;
    unsigned         refs;
} mb_entry;

static mb_entry *s_entries; /* guarded by mb__registry_lock */

static mb_entry *find_by_id(const mb_file_id *id) {
    for (mb_entry *e = s_entries; e; e = e->next)
        if (e->id.dev == id->dev && e->id.ino == id->ino) return e;
    return NULL;
}

static mb_entry *find_by_map(const mb_map *m) {
    for (mb_entry *e = s_entries; e; e = e->next)
        if (e->map == m) return e;
    return NULL;
}

/* Take one more reference on an existing entry, upgrading it to writable
** or populating it as asked. Called with the lock held. */
static int share_entry(mb_entry *e, unsigned flags, mb_map **out) {
    if ((flags & MB_MAP_WRITE) && !mb_map_writable(e->map)) {
        int rc = mb__map_make_writable(e->map);
        if (rc != MB_OK) return rc;
    }
    if (flags & MB_MAP_POPULATE) {
        /* Best effort: a populate failure is not a failure to share. */
        (void)mb_map_populate(e->map, 0, 0, MB_POP_DEFAULT, NULL);
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
    if (!path || !out || !o || o->offset || o->length) return mb__fail(MB_EINVAL, 0);
    unsigned flags = o->flags;
    const unsigned allowed = MB_MAP_WRITE | MB_MAP_CREATE | MB_MAP_HUGEPAGES |
                             MB_MAP_POPULATE | MB_MAP_NORESERVE;
    if (flags & ~allowed) return mb__fail(MB_EINVAL, 0);

    mb__registry_lock();
    mb_file_id id;
    int rc = mb__path_file_id(path, &id);
    if (rc == MB_OK) {
        mb_entry *e = find_by_id(&id);
        if (e) {
            rc = share_entry(e, flags, out);
            mb__registry_unlock();
            return rc;
        }
    } else if (!(rc == MB_ENOENT && (flags & MB_MAP_CREATE))) {
        mb__registry_unlock();
        return rc;
    }

    mb_entry *e = calloc(1, sizeof *e);
    if (!e) {
        mb__registry_unlock();
        return mb__fail(MB_ENOMEM, 0);
    }
    mb_map_options opt = {0};
    opt.flags = flags | MB_MAP_ALLOW_EMPTY;
    opt.reserve = o->reserve;
    if (!(flags & MB_MAP_WRITE)) opt.flags |= MB__MAP_WRITABLE_FD;
    mb_map *m = NULL;
    rc = mb_map_open(path, &opt, &m);
    if (rc == MB_OK) rc = mb__map_file_id(m, &id);
    if (rc != MB_OK) goto fail;

    /* The path may have been replaced between the lookup and the open, or
    ** the file created just now by another thread: key by what we opened. */
    mb_entry *existing = find_by_id(&id);
    if (existing) {
        mb_map_close(m);
        free(e);
        rc = share_entry(existing, flags, out);
        mb__registry_unlock();
        return rc;
    }
    e->id = id;
    e->map = m;
    e->refs = 1;
    e->next = s_entries;
    s_entries = e;
    mb__map_set_refcount(m, 1);
    *out = m;
    mb__registry_unlock();
    return MB_OK;

fail:
    {
        int os = mb_last_oserror();
        mb_map_close(m);
        free(e);
        mb__registry_unlock();
        return mb__fail(rc, os);
    }
}

int mb_registry_lookup(const char *path, mb_map **out) {
    if (!path || !out) return mb__fail(MB_EINVAL, 0);
    mb_file_id id;
    mb__registry_lock();
    int rc = mb__path_file_id(path, &id);
    if (rc == MB_OK) {
        mb_entry *e = find_by_id(&id);
        *out = e ? e->map : NULL;
    }
    mb__registry_unlock();
    return rc;
}

void mb_registry_release(mb_map *m) {
    if (!m) return;
    mb__registry_lock();
    mb_entry **pp = &s_entries;
    while (*pp && (*pp)->map != m) pp = &(*pp)->next;
    mb_entry *e = *pp;
    if (e && --e->refs == 0) {
        *pp = e->next;
        mb_map_close(e->map);
        free(e);
    } else if (e) {
        mb__map_set_refcount(m, e->refs);
    }
    mb__registry_unlock();
}

int mb_registry_refresh(mb_map *m, uint64_t *new_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    mb__registry_lock();
    int rc = find_by_map(m) ? mb_map_refresh(m, new_size) : mb__fail(MB_EINVAL, 0);
    mb__registry_unlock();
    return rc;
}

int mb_registry_resize_file(mb_map *m, uint64_t new_file_size) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    mb__registry_lock();
    int rc = find_by_map(m) ? mb_map_resize_file(m, new_file_size) : mb__fail(MB_EINVAL, 0);
    mb__registry_unlock();
    return rc;
}

int mb_registry_snapshot(mb_map_info **out, size_t *n) {
    if (!out || !n) return mb__fail(MB_EINVAL, 0);
    mb__registry_lock();
    size_t count = 0;
    for (mb_entry *e = s_entries; e; e = e->next) count++;
    mb_map_info *arr = calloc(count ? count : 1, sizeof *arr);
    if (!arr) {
        mb__registry_unlock();
        return mb__fail(MB_ENOMEM, 0);
    }
    size_t i = 0;
    for (mb_entry *e = s_entries; e; e = e->next, i++) {
        mb_map_get_info(e->map, &arr[i]);
        arr[i].refcount = e->refs;
        size_t len = strlen(arr[i].path) + 1;
        char *copy = malloc(len);
        if (!copy) {
            mb__registry_unlock();
            mb_registry_free_snapshot(arr, i);
            return mb__fail(MB_ENOMEM, 0);
        }
        memcpy(copy, arr[i].path, len);
        arr[i].path = copy;
    }
    mb__registry_unlock();
    *out = arr;
    *n = count;
    return MB_OK;
}

void mb_registry_free_snapshot(mb_map_info *arr, size_t n) {
    if (!arr) return;
    for (size_t i = 0; i < n; i++) free((char *)arr[i].path);
    free(arr);
}
