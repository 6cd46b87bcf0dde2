/*
** test_flush.c -- durable and asynchronous flush, whole and ranges. On
** Linux the durable flush is checked for effect: the mapping's dirty
** pages (Shared_Dirty in /proc/self/smaps) are written back and clean.
*/
#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <string.h>
#include "mb_test.h"

#if defined(__linux__)
/* Dirty kB of the VMAs overlapping [p, p+n) according to smaps. */
static long long dirty_kb(const void *p, uint64_t n) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    uintptr_t lo = (uintptr_t)p, hi = lo + (uintptr_t)n;
    char line[512];
    int inside = 0;
    long long kb = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        long long v;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2) { inside = a < hi && b > lo; continue; }
        if (inside && (sscanf(line, "Shared_Dirty: %lld kB", &v) == 1 ||
                       sscanf(line, "Private_Dirty: %lld kB", &v) == 1))
            kb += v;
    }
    fclose(f);
    return kb;
}
#endif

static void read_back(const char *path, unsigned char *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    CHECK(f && fread(buf, 1, n, f) == n);
    if (f) fclose(f);
}

static void test_flush(void) {
    t_section("flush: durable and asynchronous, whole and range");
    const char *path = t_path("flush");
    uint64_t page = mb_page_size();
    uint64_t size = 256 * page;
    t_write_pattern(path, size);
    mb_map *m = NULL;
    mb_map_options o = {MB_MAP_WRITE, 0, 0, 0};
    CHECK_RC(mb_map_open(path, &o, &m), MB_OK);
    if (!m) return;
    unsigned char *p = mb_map_data(m);
    memset(p, 0xEE, (size_t)size);
#if defined(__linux__)
    long long before = dirty_kb(p, size);
    CHECK(before >= (long long)(size / 1024) / 2);
#endif
    CHECK_RC(mb_map_flush(m, 0, 0, MB_FLUSH_SYNC), MB_OK);
#if defined(__linux__)
    long long after = dirty_kb(p, size);
    t_note("dirty in the mapping: %lld kB before MB_FLUSH_SYNC, %lld kB after", before, after);
    CHECK_EQ(after, 0);
#endif
    unsigned char *back = malloc((size_t)size);
    read_back(path, back, (size_t)size);
    int all = 1;
    for (uint64_t i = 0; i < size; i++) all &= back[i] == 0xEE;
    CHECK(all);

    /* a range flush cleans that range */
    memset(p + 10 * page + 5, 0x11, 3 * page);
    CHECK_RC(mb_map_flush(m, 10 * page + 5, 3 * page, MB_FLUSH_SYNC), MB_OK);
#if defined(__linux__)
    CHECK_EQ(dirty_kb(p, size), 0);
#endif
    /* asynchronous: returns at once; the data is in the file's page cache */
    memset(p + 100 * page, 0x22, page);
    CHECK_RC(mb_map_flush(m, 100 * page, page, MB_FLUSH_ASYNC), MB_OK);
    CHECK_RC(mb_map_flush(m, 0, 0, MB_FLUSH_ASYNC), MB_OK);
    read_back(path, back, (size_t)size);
    CHECK(back[100 * page] == 0x22 && back[10 * page + 5] == 0x11 && back[10 * page + 4] == 0xEE);

    CHECK_RC(mb_map_flush(m, size, 1, MB_FLUSH_SYNC), MB_ERANGE);
    CHECK_RC(mb_map_flush(m, 0, 0, 7), MB_EINVAL);
    CHECK_RC(mb_map_flush(NULL, 0, 0, MB_FLUSH_SYNC), MB_EINVAL);
    mb_map_close(m);

    /* a read-only map has nothing to flush */
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    CHECK_RC(mb_map_flush(m, 0, 0, MB_FLUSH_SYNC), MB_OK);
    CHECK_RC(mb_map_flush(m, 0, 0, MB_FLUSH_ASYNC), MB_OK);
    mb_map_close(m);
    free(back);
    remove(path);
}

int main(void) {
    test_flush();
    return t_done();
}
