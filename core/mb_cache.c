/*
** mb_cache.c -- the process-wide cache of values derived from files (see
** "The cache of derived data" in mb_map.h for the contract). Portable: the
** platform supplies file identity (mb__map_file_id); the lock is this
** file's own mb_mutex (it shares nothing with the registry). Every
** operation under the lock is a short list walk; file identity is read
** (fstat) before taking it, and destructors run after dropping it.
**
** An entry is alive while it is in the cache (in_cache) or held by a
** reader (refs > 0). The list is kept in recency order, most recently used
** first, so eviction walks from the tail. Entries that left the cache but
** are still held are unlinked from the list and counted in s_held; the
** last mb_cache_release() destroys them.
*/
#include <stdlib.h>
#include <string.h>
#include <assert.h>
#include "mb_internal.h"
#include "mb_mutex.h"

struct mb_cache_item {
    struct mb_cache_item *prev, *next; /* recency list, while in_cache */
    mb_file_id id;
    char       tag[MB_CACHE_MAX_TAG + 1];
    uint64_t   size;
    int64_t    mtime_ns;
    void      *value;
    uint64_t   cost;
    mb_cache_destroy_fn destroy;
    unsigned   refs;      /* readers' references */
    int        in_cache;  /* the cache's own hold */
};

/* All guarded by s_lock. */
static mb_mutex s_lock = MB_MUTEX_INIT;
static mb_cache_item *s_head, *s_tail;
static size_t   s_max_entries = MB_CACHE_DEFAULT_ENTRIES;
static uint64_t s_max_bytes = MB_CACHE_DEFAULT_BYTES;
static mb_cache_stats s_st;

static int tag_ok(const char *tag) {
    return tag && tag[0] && strlen(tag) <= MB_CACHE_MAX_TAG;
}

static void unlink_item(mb_cache_item *it) {
    assert(mb_mutex_held(&s_lock));
    if (it->prev) it->prev->next = it->next; else s_head = it->next;
    if (it->next) it->next->prev = it->prev; else s_tail = it->prev;
    it->prev = it->next = NULL;
}

static void push_front(mb_cache_item *it) {
    assert(mb_mutex_held(&s_lock));
    it->prev = NULL;
    it->next = s_head;
    if (s_head) s_head->prev = it; else s_tail = it;
    s_head = it;
}

static mb_cache_item *find(const mb_file_id *id, const char *tag) {
    assert(mb_mutex_held(&s_lock));
    for (mb_cache_item *it = s_head; it; it = it->next)
        if (it->id.dev == id->dev && it->id.ino == id->ino && strcmp(it->tag, tag) == 0)
            return it;
    return NULL;
}

/* Take `it` out of the cache (called with s_lock held). Returns it if nobody holds it any
** more, so the caller destroys it after unlocking; NULL otherwise. */
static mb_cache_item *drop_from_cache(mb_cache_item *it) {
    assert(mb_mutex_held(&s_lock));
    unlink_item(it);
    it->in_cache = 0;
    s_st.entries--;
    s_st.bytes -= it->cost;
    if (it->refs == 0) return it;
    s_st.held++;
    return NULL;
}

static void destroy_item(mb_cache_item *it) {
    if (!it) return;
    if (it->destroy) it->destroy(it->value);
    free(it);
}

/* A small list of items to destroy once the lock is dropped. */
typedef struct doomed { mb_cache_item *first; } doomed;
static void doom(doomed *d, mb_cache_item *it) {
    if (!it) return;
    it->next = d->first;
    d->first = it;
}
static void destroy_doomed(doomed *d) {
    mb_cache_item *it = d->first;
    while (it) {
        mb_cache_item *next = it->next;
        destroy_item(it);
        it = next;
    }
    d->first = NULL;
}

/* Evict least recently used, unheld entries until within the bounds
** (called with s_lock held). Held entries are skipped: they cannot be freed anyway, and taking
** them out would only make the next reader rebuild what is still alive. */
static void evict(doomed *d) {
    assert(mb_mutex_held(&s_lock));
    mb_cache_item *it = s_tail;
    while (it && (s_st.entries > s_max_entries || s_st.bytes > s_max_bytes)) {
        mb_cache_item *prev = it->prev;
        if (it->refs == 0) {
            doom(d, drop_from_cache(it));
            s_st.evictions++;
        }
        it = prev;
    }
}

int mb_cache_get(const mb_map *m, const char *tag, mb_cache_item **out) {
    if (!m || !out || !tag_ok(tag)) return mb__fail(MB_EINVAL, 0);
    mb_file_id id;
    int rc = mb__map_file_id(m, &id);
    if (rc != MB_OK) return rc;
    mb_mutex_enter(&s_lock);
    mb_cache_item *it = find(&id, tag);
    if (it) {
        it->refs++;
        unlink_item(it);
        push_front(it);
        s_st.hits++;
        *out = it;
    } else {
        s_st.misses++;
    }
    mb_mutex_leave(&s_lock);
    return it ? MB_OK : MB_ENOENT;
}

int mb_cache_put(const mb_map *m, const char *tag, uint64_t size, int64_t mtime_ns,
                 void *value, uint64_t cost, mb_cache_destroy_fn destroy,
                 mb_cache_item **out) {
    int rc = MB_OK;
    mb_cache_item *it = NULL;
    mb_file_id id;
    if (!m || !tag_ok(tag) || !value) {
        rc = mb__fail(MB_EINVAL, 0);
        goto fail;
    }
    rc = mb__map_file_id(m, &id);
    if (rc != MB_OK) goto fail;
    it = calloc(1, sizeof *it);
    if (!it) {
        rc = mb__fail(MB_ENOMEM, 0);
        goto fail;
    }
    it->id = id;
    memcpy(it->tag, tag, strlen(tag) + 1);
    it->size = size;
    it->mtime_ns = mtime_ns;
    it->value = value;
    it->cost = cost;
    it->destroy = destroy;
    it->in_cache = 1;
    it->refs = out ? 1 : 0;

    doomed d = {NULL};
    mb_mutex_enter(&s_lock);
    mb_cache_item *old = find(&id, tag);
    if (old) {
        doom(&d, drop_from_cache(old));
        s_st.replaced++;
    }
    push_front(it);
    s_st.entries++;
    s_st.bytes += cost;
    s_st.puts++;
    if (out) *out = it;
    /* Without a reference the new value may be evicted at once (its cost
    ** alone exceeds the byte bound): it is then destroyed below. */
    evict(&d);
    mb_mutex_leave(&s_lock);
    destroy_doomed(&d);
    return MB_OK;

fail:
    if (destroy && value) destroy(value);
    return rc;
}

void *mb_cache_value(const mb_cache_item *it) { return it ? it->value : NULL; }
uint64_t mb_cache_size(const mb_cache_item *it) { return it ? it->size : 0; }
int64_t mb_cache_mtime(const mb_cache_item *it) { return it ? it->mtime_ns : 0; }

mb_cache_item *mb_cache_retain(mb_cache_item *it) {
    if (!it) return NULL;
    mb_mutex_enter(&s_lock);
    it->refs++;
    mb_mutex_leave(&s_lock);
    return it;
}

void mb_cache_release(mb_cache_item *it) {
    if (!it) return;
    mb_cache_item *dead = NULL;
    mb_mutex_enter(&s_lock);
    if (it->refs > 0 && --it->refs == 0) {
        if (!it->in_cache) {
            s_st.held--;
            dead = it;
        } else {
            /* Releasing may bring the cache back within its bounds only
            ** now: entries held while over the bound were skipped. */
            doomed d = {NULL};
            evict(&d);
            mb_mutex_leave(&s_lock);
            destroy_doomed(&d);
            return;
        }
    }
    mb_mutex_leave(&s_lock);
    destroy_item(dead);
}

int mb_cache_remove(const mb_map *m, const char *tag) {
    if (!m || !tag_ok(tag)) return mb__fail(MB_EINVAL, 0);
    mb_file_id id;
    int rc = mb__map_file_id(m, &id);
    if (rc != MB_OK) return rc;
    mb_cache_item *dead = NULL;
    mb_mutex_enter(&s_lock);
    mb_cache_item *it = find(&id, tag);
    if (it) dead = drop_from_cache(it);
    mb_mutex_leave(&s_lock);
    destroy_item(dead);
    return MB_OK;
}

void mb_cache_clear(void) {
    doomed d = {NULL};
    mb_mutex_enter(&s_lock);
    while (s_head) doom(&d, drop_from_cache(s_head));
    mb_mutex_leave(&s_lock);
    destroy_doomed(&d);
}

void mb_cache_limits(size_t max_entries, uint64_t max_bytes,
                     size_t *old_entries, uint64_t *old_bytes) {
    doomed d = {NULL};
    mb_mutex_enter(&s_lock);
    if (old_entries) *old_entries = s_max_entries;
    if (old_bytes) *old_bytes = s_max_bytes;
    if (max_entries) s_max_entries = max_entries;
    if (max_bytes) s_max_bytes = max_bytes;
    evict(&d);
    mb_mutex_leave(&s_lock);
    destroy_doomed(&d);
}

void mb_cache_stats_get(mb_cache_stats *st) {
    if (!st) return;
    mb_mutex_enter(&s_lock);
    *st = s_st;
    mb_mutex_leave(&s_lock);
}

/* Derived data is kept while the file's change stamp is the one it was
** built under; a stamp read within a clock tick or two of its own ctime
** could miss a write in that tick, so it never proves anything. */
int mb_stamp_unchanged(const mb_stamp *a, const mb_stamp *b) {
    if (!a || !b) return 0;
    if (a->read_ns - a->ctime_ns < MB_STAMP_RACY_NS) return 0;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}
