/*
** test_cache.c -- the cache of derived data: keys by file identity and tag,
** stamps, references that keep a replaced value alive, destructors run
** exactly once, LRU eviction within the entry and byte bounds, and
** concurrent readers and writers. Portable: only mb_map.h and mb_test.h.
*/
#include <stdlib.h>
#include <string.h>
#include "mb_test.h"

/* A value that counts its own destruction. */
typedef struct tval { int id; int *destroyed; } tval;
static void tval_destroy(void *p) {
    tval *v = p;
    if (v->destroyed) (*v->destroyed)++;
    free(v);
}
static tval *tval_new(int id, int *destroyed) {
    tval *v = malloc(sizeof *v);
    v->id = id;
    v->destroyed = destroyed;
    return v;
}

static mb_cache_stats stats(void) {
    mb_cache_stats st;
    mb_cache_stats_get(&st);
    return st;
}

static void test_basic(void) {
    t_section("miss, put, hit, stamps, keys by file identity and tag");
    mb_cache_clear();
    const char *pa = t_path("cache-a");
    const char *pb = t_path("cache-b");
    t_write_pattern(pa, 5000);
    t_write_pattern(pb, 7000);
    mb_map *a = NULL, *a2 = NULL, *b = NULL;
    CHECK_RC(mb_map_open(pa, NULL, &a), MB_OK);
    CHECK_RC(mb_map_open(pa, NULL, &a2), MB_OK);   /* a second map, same file */
    CHECK_RC(mb_map_open(pb, NULL, &b), MB_OK);

    mb_cache_item *it = NULL;
    CHECK_RC(mb_cache_get(a, "t1", &it), MB_ENOENT);
    CHECK(it == NULL);
    uint64_t size = 0;
    int64_t mtime = 0;
    CHECK_RC(mb_map_stamp(a, &size, &mtime), MB_OK);
    int da = 0;
    CHECK_RC(mb_cache_put(a, "t1", size, mtime, tval_new(1, &da), 100, tval_destroy, NULL), MB_OK);
    CHECK_RC(mb_cache_get(a2, "t1", &it), MB_OK);   /* the same file through another map */
    CHECK(it && ((tval *)mb_cache_value(it))->id == 1);
    CHECK_EQ(mb_cache_size(it), 5000);
    CHECK(mb_cache_mtime(it) == mtime);
    mb_cache_release(it);
    it = NULL;
    CHECK_RC(mb_cache_get(b, "t1", &it), MB_ENOENT); /* another file */
    CHECK_RC(mb_cache_get(a, "t2", &it), MB_ENOENT); /* another tag */
    mb_cache_stats st = stats();
    CHECK_EQ(st.entries, 1);
    CHECK_EQ(st.bytes, 100);
    CHECK_EQ(st.hits, 1);
    CHECK_EQ(st.puts, 1);
    CHECK_EQ(da, 0);

    /* bad arguments; the value is destroyed when the put fails */
    int dbad = 0;
    CHECK_RC(mb_cache_put(a, NULL, 0, 0, tval_new(9, &dbad), 1, tval_destroy, NULL), MB_EINVAL);
    CHECK_EQ(dbad, 1);
    char longtag[MB_CACHE_MAX_TAG + 2];
    memset(longtag, 'x', sizeof longtag - 1);
    longtag[sizeof longtag - 1] = 0;
    CHECK_RC(mb_cache_put(a, longtag, 0, 0, tval_new(9, &dbad), 1, tval_destroy, NULL), MB_EINVAL);
    CHECK_EQ(dbad, 2);
    CHECK_RC(mb_cache_get(a, "", &it), MB_EINVAL);
    CHECK_RC(mb_cache_get(NULL, "t1", &it), MB_EINVAL);
    mb_cache_release(NULL);

    /* remove; removing what is not there is fine */
    CHECK_RC(mb_cache_remove(a, "t1"), MB_OK);
    CHECK_EQ(da, 1);
    CHECK_RC(mb_cache_remove(a, "t1"), MB_OK);
    CHECK_EQ(stats().entries, 0);
    mb_map_close(a);
    mb_map_close(a2);
    mb_map_close(b);
}

static void test_replace_while_held(void) {
    t_section("a reader keeps a replaced value alive; destructors run once");
    mb_cache_clear();
    const char *pa = t_path("cache-r");
    t_write_pattern(pa, 4096);
    mb_map *a = NULL;
    CHECK_RC(mb_map_open(pa, NULL, &a), MB_OK);
    int d1 = 0, d2 = 0;
    mb_cache_item *r1 = NULL, *r2 = NULL, *r1b = NULL;
    CHECK_RC(mb_cache_put(a, "idx", 1, 1, tval_new(1, &d1), 10, tval_destroy, &r1), MB_OK);
    CHECK(r1 != NULL);
    r1b = mb_cache_retain(r1);
    CHECK(r1b == r1);
    CHECK_RC(mb_cache_put(a, "idx", 2, 2, tval_new(2, &d2), 10, tval_destroy, NULL), MB_OK);
    CHECK_EQ(d1, 0);                         /* replaced, but held twice */
    CHECK(((tval *)mb_cache_value(r1))->id == 1);
    CHECK_EQ(stats().held, 1);
    CHECK_EQ(stats().replaced, 1);
    CHECK_RC(mb_cache_get(a, "idx", &r2), MB_OK);
    CHECK(((tval *)mb_cache_value(r2))->id == 2);
    CHECK_EQ(mb_cache_size(r2), 2);
    mb_cache_release(r1);
    CHECK_EQ(d1, 0);
    mb_cache_release(r1b);
    CHECK_EQ(d1, 1);                         /* the last hold destroyed it */
    CHECK_EQ(stats().held, 0);
    /* clear while held: the value lives until released */
    mb_cache_clear();
    CHECK_EQ(d2, 0);
    CHECK_EQ(stats().entries, 0);
    mb_cache_release(r2);
    CHECK_EQ(d2, 1);
    /* a NULL destructor is allowed */
    static int plain = 7;
    CHECK_RC(mb_cache_put(a, "plain", 0, 0, &plain, 0, NULL, NULL), MB_OK);
    mb_cache_clear();
    mb_map_close(a);
}

static void test_eviction(void) {
    t_section("LRU eviction within the entry and byte bounds; held values stay");
    mb_cache_clear();
    const char *pa = t_path("cache-e");
    t_write_pattern(pa, 4096);
    mb_map *a = NULL;
    CHECK_RC(mb_map_open(pa, NULL, &a), MB_OK);
    size_t old_entries = 0;
    uint64_t old_bytes = 0;
    mb_cache_limits(3, 1000, &old_entries, &old_bytes);
    CHECK_EQ(old_entries, MB_CACHE_DEFAULT_ENTRIES);
    CHECK_EQ(old_bytes, MB_CACHE_DEFAULT_BYTES);
    uint64_t ev0 = stats().evictions;
    int d[8] = {0};
    char tag[16];
    for (int i = 0; i < 3; i++) {
        snprintf(tag, sizeof tag, "k%d", i);
        CHECK_RC(mb_cache_put(a, tag, 0, 0, tval_new(i, &d[i]), 10, tval_destroy, NULL), MB_OK);
    }
    /* touch k0, so k1 is now the least recently used */
    mb_cache_item *it = NULL;
    CHECK_RC(mb_cache_get(a, "k0", &it), MB_OK);
    mb_cache_release(it);
    CHECK_RC(mb_cache_put(a, "k3", 0, 0, tval_new(3, &d[3]), 10, tval_destroy, NULL), MB_OK);
    CHECK_EQ(d[1], 1);
    CHECK_EQ(d[0] + d[2] + d[3], 0);
    CHECK_EQ(stats().entries, 3);
    CHECK_EQ(stats().evictions - ev0, 1);
    CHECK_RC(mb_cache_get(a, "k1", &it), MB_ENOENT);

    /* a held value is not evicted: the least recently used unheld one goes */
    mb_cache_item *h2 = NULL;
    CHECK_RC(mb_cache_get(a, "k2", &h2), MB_OK);
    CHECK_RC(mb_cache_get(a, "k0", &it), MB_OK);  /* order now: k0 k2 k3 */
    mb_cache_release(it);
    CHECK_RC(mb_cache_put(a, "k4", 0, 0, tval_new(4, &d[4]), 10, tval_destroy, NULL), MB_OK);
    CHECK_EQ(d[3], 1);                             /* k3 was the LRU unheld */
    CHECK_EQ(d[2], 0);
    mb_cache_release(h2);

    /* the byte bound: one big value pushes out older ones */
    CHECK_RC(mb_cache_put(a, "big", 0, 0, tval_new(5, &d[5]), 990, tval_destroy, NULL), MB_OK);
    CHECK(stats().bytes <= 1000);
    CHECK_EQ(d[5], 0);
    mb_cache_item *bi = NULL;
    CHECK_RC(mb_cache_get(a, "big", &bi), MB_OK);
    mb_cache_release(bi);
    /* a value bigger than the bound, put without a reference, is not kept */
    CHECK_RC(mb_cache_put(a, "huge", 0, 0, tval_new(6, &d[6]), 5000, tval_destroy, NULL), MB_OK);
    CHECK_EQ(d[6], 1);
    /* ... but with a reference it lives until released, then goes */
    mb_cache_item *hh = NULL;
    CHECK_RC(mb_cache_put(a, "huge", 0, 0, tval_new(7, &d[7]), 5000, tval_destroy, &hh), MB_OK);
    CHECK(hh != NULL && ((tval *)mb_cache_value(hh))->id == 7);
    CHECK_EQ(d[7], 0);
    mb_cache_release(hh);
    CHECK_EQ(d[7], 1);
    CHECK(stats().bytes <= 1000);

    mb_cache_limits(old_entries, old_bytes, NULL, NULL);
    mb_cache_clear();
    int total = 0;
    for (int i = 0; i < 8; i++) total += d[i];
    CHECK_EQ(total, 8);                            /* each exactly once */
    mb_map_close(a);
}

/* Threads replace and read one key; every reader must see a whole value
** (its id matches its check word) until it releases it. */
typedef struct shared { mb_map *map; volatile int bad; } shared;
typedef struct cval { int id; int check; shared *sh; } cval;
static void cval_destroy(void *p) {
    cval *v = p;
    v->check = -1;   /* a reader still using it would see this */
    free(v);
}

typedef struct worker { shared *sh; int seed; int puts; int gets; } worker;
static void *worker_main(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 2000; i++) {
        if ((i + w->seed) % 3 == 0) {
            cval *v = malloc(sizeof *v);
            v->id = w->seed * 100000 + i;
            v->check = v->id ^ 0x5a5a5a;
            v->sh = w->sh;
            if (mb_cache_put(w->sh->map, "shared", (uint64_t)i, i, v, 8, cval_destroy, NULL) == MB_OK)
                w->puts++;
        } else {
            mb_cache_item *it = NULL;
            if (mb_cache_get(w->sh->map, "shared", &it) == MB_OK) {
                cval *v = mb_cache_value(it);
                if ((v->id ^ 0x5a5a5a) != v->check) w->sh->bad = 1;
                mb_cache_item *again = mb_cache_retain(it);
                mb_cache_release(it);
                if ((v->id ^ 0x5a5a5a) != v->check) w->sh->bad = 1;
                mb_cache_release(again);
                w->gets++;
            }
        }
    }
    return NULL;
}

static void test_threads(void) {
    t_section("concurrent puts, gets and releases of one key");
    mb_cache_clear();
    const char *pa = t_path("cache-t");
    t_write_pattern(pa, 4096);
    shared sh = {NULL, 0};
    CHECK_RC(mb_map_open(pa, NULL, &sh.map), MB_OK);
    worker w[4];
    t_thread *th[4];
    for (int i = 0; i < 4; i++) {
        w[i].sh = &sh;
        w[i].seed = i + 1;
        w[i].puts = w[i].gets = 0;
        th[i] = t_thread_start(worker_main, &w[i]);
    }
    int puts = 0;
    for (int i = 0; i < 4; i++) {
        t_thread_join(th[i]);
        puts += w[i].puts;
    }
    CHECK_EQ(sh.bad, 0);
    mb_cache_stats st = stats();
    CHECK_EQ(st.entries, 1);
    CHECK_EQ(st.held, 0);
    CHECK(puts > 0);
    mb_cache_clear();
    CHECK_EQ(stats().entries, 0);
    mb_map_close(sh.map);
}

int main(void) {
    test_basic();
    test_replace_while_held();
    test_eviction();
    test_threads();
    return t_done();
}
