/*
** mb_viewlock.c -- the view lock (mb_map.h): the holds of this process's
** threads, counted per map, on top of one OS lock per map that the
** backend takes (mb__os_view_lock).
*/
#include <assert.h>
#include "mb_internal.h"
#include "mb_mutex.h"

/* Guards vl_shared and vl_excl of every map; held for a count and one
** non-blocking OS call. */
static mb_mutex s_mu = MB_MUTEX_INIT;

/* The OS state the counts ask for: 0 none, 1 shared, 2 exclusive. */
static int os_state(const struct mb_map_common *c) {
    assert(mb_mutex_held(&s_mu));
    return c->vl_excl ? 2 : c->vl_shared ? 1 : 0;
}

static int take_shared(mb_map *m, struct mb_map_common *c) {
    if (c->vl_excl) return mb__fail(MB_EBUSY, 0);
    if (c->vl_shared == 0) {
        int rc = mb__os_view_lock(m, 0, 1);
        if (rc != MB_OK) return rc;
    }
    c->vl_shared++;
    return MB_OK;
}

static int take_exclusive(mb_map *m, struct mb_map_common *c, unsigned own) {
    if (c->vl_excl || c->vl_shared != own) return mb__fail(MB_EBUSY, 0);
    if (!c->writable) return mb__fail(MB_EREADONLY, 0);
    int rc = mb__os_view_lock(m, os_state(c), 2);
    if (rc != MB_OK) return rc;
    c->vl_excl = 1;
    return MB_OK;
}

static int unlock(mb_map *m, struct mb_map_common *c, unsigned own) {
    if (c->vl_excl) {
        int rc = mb__os_view_lock(m, 2, own ? 1 : 0);
        c->vl_excl = 0;
        c->vl_shared = own;
        return rc;
    }
    if (c->vl_shared == 0) return mb__fail(MB_EINVAL, 0);
    if (--c->vl_shared == 0) return mb__os_view_lock(m, 1, 0);
    return MB_OK;
}

int mb_map_view_lock(mb_map *m, int how, unsigned own) {
    if (!m) return mb__fail(MB_EINVAL, 0);
    struct mb_map_common *c = mb__common(m);
    int rc;
    mb_mutex_enter(&s_mu);
    switch (how) {
    case MB_LOCK_SHARED:    rc = take_shared(m, c); break;
    case MB_LOCK_EXCLUSIVE: rc = take_exclusive(m, c, own); break;
    case MB_LOCK_UNLOCK:    rc = unlock(m, c, own); break;
    default:                rc = mb__fail(MB_EINVAL, 0); break;
    }
    mb_mutex_leave(&s_mu);
    return rc;
}
