/*
** test_advise.c -- advice, populate (checked by fault counts), the
** scanner's prefetch-ahead and huge-page outcome reporting.
*/
#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <string.h>
#include "mb_test.h"
#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

static uint64_t sum_pages(const unsigned char *p, uint64_t n, uint64_t step) {
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i += step) s += ((const volatile unsigned char *)p)[i];
    return s;
}

static void test_advice(void) {
    t_section("every advice value, whole view and ranges");
    const char *path = t_path("advise");
    uint64_t page = mb_page_size();
    t_write_pattern(path, 64 * page + 17);
    mb_map *m = NULL;
    mb_map_options o = {0, 100, 0, 0}; /* unaligned view */
    CHECK_RC(mb_map_open(path, &o, &m), MB_OK);
    if (!m) return;
    const mb_advice all[] = {MB_ADV_NORMAL, MB_ADV_RANDOM, MB_ADV_SEQUENTIAL,
                             MB_ADV_WILLNEED, MB_ADV_DONTNEED};
    uint64_t size = mb_map_size(m);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK_RC(mb_map_advise(m, all[i], 0, 0), MB_OK);
        CHECK_RC(mb_map_advise(m, all[i], 3, page), MB_OK);
        CHECK_RC(mb_map_advise(m, all[i], size - 1, 1), MB_OK);
        CHECK_RC(mb_map_advise(m, all[i], size, 1), MB_ERANGE);
        CHECK_RC(mb_map_advise(m, all[i], 0, size + 1), MB_ERANGE);
        CHECK_RC(mb_map_advise(m, all[i], 10, UINT64_MAX), MB_EOVERFLOW);
        /* data is intact whatever the advice (DONTNEED drops nothing) */
        CHECK(t_is_pattern(mb_map_data(m), 100, size));
    }
    mb_map_info info;
    CHECK_RC(mb_map_advise(m, MB_ADV_RANDOM, 0, 0), MB_OK);
    mb_map_get_info(m, &info);
    CHECK(info.advice == MB_ADV_RANDOM);
    CHECK_RC(mb_map_advise(m, MB_ADV_SEQUENTIAL, 0, page), MB_OK); /* a range: not recorded */
    mb_map_get_info(m, &info);
    CHECK(info.advice == MB_ADV_RANDOM);
    CHECK_RC(mb_map_advise(m, MB_ADV_WILLNEED, 0, 0), MB_OK); /* not a standing advice */
    mb_map_get_info(m, &info);
    CHECK(info.advice == MB_ADV_RANDOM);
    CHECK_RC(mb_map_advise(m, (mb_advice)42, 0, 0), MB_EINVAL);
    CHECK(strcmp(mb_advice_name(MB_ADV_SEQUENTIAL), "sequential") == 0);
    mb_map_close(m);
    remove(path);
}

#if defined(__linux__)   /* the only checks qemu-user changes are Linux's */
static const char *const k_qemu_populate =
    "populate checks skipped under qemu-user: it takes MAP_POPULATE and "
    "MADV_POPULATE_READ as hints and ignores them; the calls are still made";
#endif

static void test_populate(void) {
    t_section("populate with every method; populated pages do not fault");
    const char *path = t_path("populate");
    uint64_t page = mb_page_size();
    uint64_t pages = 2048;
    t_write_pattern(path, pages * page);
    const mb_populate all[] = {MB_POP_DEFAULT, MB_POP_NONE, MB_POP_WILLNEED,
                               MB_POP_POPULATE_READ, MB_POP_MAP_POPULATE, MB_POP_TOUCH,
                               MB_POP_PREFETCH_VM};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        mb_map *m = NULL;
        CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
        if (!m) continue;
        mb_populate used = (mb_populate)-1;
        CHECK_RC(mb_map_populate(m, 0, 0, all[i], &used), MB_OK);
        CHECK(used != MB_POP_DEFAULT && (int)used >= 0);
        CHECK(t_is_pattern(mb_map_data(m), 0, pages * page));
        mb_stats a, b;
        mb_map_close(m);
        CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
        if (!m) continue;
        CHECK_RC(mb_map_populate(m, 0, 0, all[i], &used), MB_OK);
        mb_stats_get(&a);
        (void)sum_pages(mb_map_data(m), pages * page, page);
        mb_stats_get(&b);
        uint64_t faults = b.minor_faults - a.minor_faults;
        t_note("%-14s used %-14s faults on first touch of %llu pages: %llu",
               mb_populate_name(all[i]), mb_populate_name(used),
               (unsigned long long)pages, (unsigned long long)faults);
#if defined(__linux__)
        /* synchronous methods fill the page tables: touching cannot fault
        ** (qemu-user ignores MAP_POPULATE and MADV_POPULATE_READ) */
        if (used == MB_POP_TOUCH ||
            (!t_under_qemu() && (used == MB_POP_POPULATE_READ || used == MB_POP_MAP_POPULATE)))
            CHECK(faults < pages / 16);
        if (used == MB_POP_NONE) CHECK(faults > pages / 64); /* fault-around maps 16 at a time */
#endif
        /* ranges and range errors */
        CHECK_RC(mb_map_populate(m, page + 1, 3 * page, all[i], NULL), MB_OK);
        CHECK_RC(mb_map_populate(m, pages * page, 1, all[i], NULL), MB_ERANGE);
        mb_map_close(m);
    }
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    CHECK_RC(mb_map_populate(m, 0, 0, (mb_populate)99, NULL), MB_EINVAL);
    mb_map_close(m);
    /* the open flag populates too */
    mb_map_options o = {MB_MAP_POPULATE, 0, 0, 0};
    CHECK_RC(mb_map_open(path, &o, &m), MB_OK);
    if (m) {
        mb_stats a, b;
        mb_stats_get(&a);
        (void)sum_pages(mb_map_data(m), pages * page, page);
        mb_stats_get(&b);
#if defined(__linux__)
        if (t_under_qemu()) t_note("%s", k_qemu_populate);
        else CHECK(b.minor_faults - a.minor_faults < pages / 16);
#endif
        mb_map_close(m);
    }
    remove(path);
}

static void test_scan(void) {
    t_section("sequential prefetch-ahead keeps a window ahead of the scanner");
    const char *path = t_path("scan");
    uint64_t page = mb_page_size();
    uint64_t size = 1024 * page + 5;
    t_write_pattern(path, size);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    mb_scan s;
    uint64_t window = 64 * page;
    mb_scan_init(&s, m, window, MB_POP_DEFAULT);
    CHECK(s.how == MB_POP_NONE); /* the measured default: no requests */
    mb_scan_init(&s, m, window, MB_POP_WILLNEED);
    CHECK_EQ(s.window, window);
    for (uint64_t pos = 0; pos < size; pos += page / 2) {
        CHECK_RC(mb_scan_advance(&s, pos), MB_OK);
        /* always at least half a window ahead, never past the end */
        CHECK(s.issued >= (pos + window / 2 < size ? pos + window / 2 : size));
        CHECK(s.issued <= size);
    }
    CHECK_EQ(s.issued, size);
    /* about two windows per window of data, not one call per page; the
    ** file was just written, so it is cached and every window is skipped */
    uint64_t windows = s.requests + s.skipped;
    CHECK(windows >= size / window && windows <= 2 * size / window + 2);
#if !defined(_WIN32)
    CHECK_EQ(s.requests, 0);
#endif
    CHECK_RC(mb_scan_advance(&s, size), MB_OK);
    CHECK_EQ(s.requests + s.skipped, windows);
#if defined(__linux__)
    /* evicted from the page cache, the same scan issues its requests */
    mb_map_close(m);
    m = NULL;
    FILE *f = fopen(path, "rb");
    if (f) {
        /* dirty pages are never dropped: write them back first */
        CHECK(fsync(fileno(f)) == 0);
        CHECK(posix_fadvise(fileno(f), 0, 0, POSIX_FADV_DONTNEED) == 0);
        fclose(f);
    }
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    uint64_t res = UINT64_MAX;
    CHECK_RC(mb_map_residency(m, 0, 0, &res), MB_OK);
    t_note("resident after eviction: %llu of %llu bytes", (unsigned long long)res,
           (unsigned long long)size);
    CHECK(res < size / 2);
    mb_scan_init(&s, m, window, MB_POP_WILLNEED);
    for (uint64_t pos = 0; pos < size; pos += page) CHECK_RC(mb_scan_advance(&s, pos), MB_OK);
    CHECK(s.requests >= 1);
    CHECK(s.requests + s.skipped >= size / window);
    CHECK_RC(mb_map_populate(m, 0, 0, MB_POP_POPULATE_READ, NULL), MB_OK);
    CHECK_RC(mb_map_residency(m, 0, 0, &res), MB_OK);
    if (t_under_qemu()) t_note("%s", k_qemu_populate);
    else CHECK_EQ(res, size);
    CHECK_RC(mb_map_residency(m, size, 1, &res), MB_ERANGE);
    CHECK_RC(mb_map_residency(m, 0, 0, NULL), MB_EINVAL);
#endif
    mb_scan_init(&s, m, 0, MB_POP_NONE);
    CHECK_EQ(s.window, MB_SCAN_DEFAULT_WINDOW);
    CHECK_RC(mb_scan_advance(&s, 0), MB_OK);
    CHECK_EQ(s.requests, 0);
    mb_map_close(m);
    remove(path);
}

static void test_huge(void) {
    t_section("huge pages: a request whose outcome is reported, never a failure");
    const char *path = t_path("huge");
    uint64_t hp = mb_huge_page_size();
    uint64_t size = 8ull << 20;
    t_write_pattern(path, size);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    mb_huge h = MB_HUGE_ACTIVE;
    CHECK_RC(mb_map_huge_status(m, &h, NULL), MB_OK);
    CHECK(h == MB_HUGE_NOT_REQUESTED);
    mb_map_close(m);

    mb_map_options o = {MB_MAP_HUGEPAGES, 0, 0, 0};
    CHECK_RC(mb_map_open(path, &o, &m), MB_OK);
    if (!m) return;
    mb_map_info info;
    mb_map_get_info(m, &info);
    CHECK(info.huge == MB_HUGE_UNSUPPORTED || info.huge == MB_HUGE_ADVISED);
#if defined(__linux__)
    if (hp) CHECK(((uintptr_t)mb_map_data(m)) % hp == 0); /* aligned for PMD mapping */
#endif
    CHECK_RC(mb_map_populate(m, 0, 0, MB_POP_DEFAULT, NULL), MB_OK);
    uint64_t bytes = 0;
    CHECK_RC(mb_map_huge_status(m, &h, &bytes), MB_OK);
    CHECK(h == MB_HUGE_UNSUPPORTED || h == MB_HUGE_ADVISED || h == MB_HUGE_ACTIVE);
    CHECK((h == MB_HUGE_ACTIVE) == (bytes > 0));
    CHECK(bytes <= size);
    t_note("huge page size %llu; outcome on a file map here: %s, %llu bytes in huge pages",
           (unsigned long long)hp, mb_huge_name(h), (unsigned long long)bytes);
    mb_map_get_info(m, &info);
    CHECK(info.huge == h);
    CHECK(t_is_pattern(mb_map_data(m), 0, size));
    mb_map_close(m);
    remove(path);
}

int main(void) {
    test_advice();
    test_populate();
    test_scan();
    test_huge();
    return t_done();
}
