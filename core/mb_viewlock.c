/*
** mb_viewlock.c -- the view lock (mb_map.h): the holds of this process's
** threads, counted per map, on top of the OS locks the backend takes
** (mb__os_view_lock): a lock byte readers hold shared, and a pending byte
** a writer holds while it waits, which keeps new readers out.
*/
#include <assert.h>
#include "mb_internal.h"
#include "mb_mutex.h"

/* Guards vl_shared, vl_excl and vl_pending of every map; held for a count
** and a few non-blocking OS calls. */
static mb_mutex s_mu = MB_MUTEX_INIT;

static int take_shared(mb_map *m, struct mb_map_common *c, unsigned own) {
    assert(mb_mutex_held(&s_mu));
    if (c->vl_excl || (c->vl_pending && own == 0)) return mb__fail(MB_EBUSY, 0);
    if (c->vl_shared == 0) {
        int rc = mb__os_view_lock(m, MB__VIEW_OS_SHARED, 0);
        if (rc != MB_OK) return rc;
    }
    c->vl_shared++;
    return MB_OK;
}

static int unshare(mb_map *m, struct mb_map_common *c) {
    assert(mb_mutex_held(&s_mu));
    if (c->vl_shared == 0 || c->vl_excl) return mb__fail(MB_EINVAL, 0);
    if (--c->vl_shared == 0) return mb__os_view_lock(m, MB__VIEW_OS_UNLOCK, 0);
    return MB_OK;
}

static int take_exclusive(mb_map *m, struct mb_map_common *c, unsigned own) {
    assert(mb_mutex_held(&s_mu));
    if (c->vl_excl) return mb__fail(MB_EBUSY, 0);
    if (!c->writable) return mb__fail(MB_EREADONLY, 0);
    if (!c->vl_pending) {
        int rc = mb__os_view_lock(m, MB__VIEW_OS_PENDING, 0);
        if (rc != MB_OK) return rc;
        c->vl_pending = 1;
    }
    if (c->vl_shared != own) return mb__fail(MB_EBUSY, 0);
    int rc = mb__os_view_lock(m, MB__VIEW_OS_EXCL, own > 0);
    if (rc != MB_OK) return rc;
    c->vl_excl = 1;
    return MB_OK;
}

static int try_exclusive(mb_map *m, struct mb_map_common *c, unsigned own) {
    assert(mb_mutex_held(&s_mu));
    if (c->vl_excl || c->vl_pending) return take_exclusive(m, c, own);
    if (!c->writable) return mb__fail(MB_EREADONLY, 0);
    if (c->vl_shared != own) return mb__fail(MB_EBUSY, 0);
    int rc = mb__os_view_lock(m, MB__VIEW_OS_EXCL, own > 0);
    if (rc != MB_OK) return rc;
    c->vl_excl = 1;
    return MB_OK;
}

static int release(mb_map *m, struct mb_map_common *c, unsigned own) {
    assert(mb_mutex_held(&s_mu));
    if (!c->vl_excl && !c->vl_pending) return mb__fail(MB_EINVAL, 0);
    int rc = c->vl_excl ? mb__os_view_lock(m, MB__VIEW_OS_DONE, own > 0)
                        : mb__os_view_lock(m, MB__VIEW_OS_CANCEL, 0);
    if (c->vl_excl) c->vl_shared = own;
    c->vl_excl = 0;
    c->vl_pending = 0;
    return rc;
}

int mb_map_view_lock(mb_map *m, int how, unsigned own) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    struct mb_map_common *c = mb__common(m);
    int rc;
    mb_mutex_enter(&s_mu);
    switch (how) {
    case MB_VIEW_SHARED:    rc = take_shared(m, c, own); break;
    case MB_VIEW_UNSHARE:   rc = unshare(m, c); break;
    case MB_VIEW_EXCLUSIVE: rc = take_exclusive(m, c, own); break;
    case MB_VIEW_RELEASE:   rc = release(m, c, own); break;
    case MB_VIEW_TRY:       rc = try_exclusive(m, c, own); break;
    default:                rc = mb__fail(MB_EINVAL, 0); break;
    }
    mb_mutex_leave(&s_mu);
    return rc;
}
