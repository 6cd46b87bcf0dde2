/*
** test_map.c -- opening maps: whole files, ranges at unaligned offsets,
** write maps, and every bad input with its error code.
*/
#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "mb_test.h"
#if !defined(_WIN32)
#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

static void test_page_size(void) {
    t_section("page size is asked of the OS");
    size_t p = mb_page_size();
    CHECK(p >= 4096 && (p & (p - 1)) == 0);
#if !defined(_WIN32)
    CHECK_EQ(p, (uint64_t)sysconf(_SC_PAGESIZE));
    CHECK_EQ(mb_map_granularity(), p);
#else
    CHECK_EQ(mb_map_granularity(), 65536);
#endif
}

static void test_whole_file(void) {
    t_section("read-only map of a whole file");
    const char *path = t_path("whole");
    uint64_t size = 3 * 1024 * 1024 + 123; /* not a page multiple */
    t_write_pattern(path, size);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    CHECK_EQ(mb_map_size(m), size);
    CHECK_EQ(mb_map_file_size(m), size);
    CHECK_EQ(mb_map_offset(m), 0);
    CHECK(!mb_map_writable(m));
    CHECK(strcmp(mb_map_path(m), path) == 0);
    CHECK(t_is_pattern(mb_map_data(m), 0, size));
    mb_map_info info;
    mb_map_get_info(m, &info);
    CHECK_EQ(info.mapped, size);
    CHECK(info.reserved >= size);
    CHECK_EQ(info.refcount, 1);
    CHECK(info.advice == MB_ADV_NORMAL);
    CHECK(info.huge == MB_HUGE_NOT_REQUESTED);
    /* a write through a read-only map is refused, not attempted */
    char c = 1;
    CHECK_RC(mb_map_write(m, 0, &c, 1), MB_EREADONLY);
    mb_map_close(m);
    remove(path);
}

static void test_unaligned(void) {
    t_section("ranges at unaligned offsets");
    const char *path = t_path("unaligned");
    uint64_t size = 512 * 1024;
    t_write_pattern(path, size);
    uint64_t page = mb_page_size();
    const uint64_t offs[] = {1, 7, page - 1, page, page + 1, 3 * page + 13, 65535, 65537, 200001};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint64_t off = offs[i];
        /* a fixed window */
        mb_map_options o = {0, off, 1000, 0};
        mb_map *m = NULL;
        CHECK_RC(mb_map_open(path, &o, &m), MB_OK);
        if (!m) continue;
        CHECK_EQ(mb_map_size(m), 1000);
        CHECK_EQ(mb_map_offset(m), off);
        CHECK(t_is_pattern(mb_map_data(m), off, 1000));
        unsigned char buf[64];
        CHECK_RC(mb_map_read(m, 900, buf, 64), MB_OK);
        CHECK(t_is_pattern(buf, off + 900, 64));
        CHECK_RC(mb_map_read(m, 990, buf, 64), MB_ERANGE);
        mb_map_close(m);
        /* a following view from the same offset to the end */
        mb_map_options f = {0, off, 0, 0};
        CHECK_RC(mb_map_open(path, &f, &m), MB_OK);
        if (!m) continue;
        CHECK_EQ(mb_map_size(m), size - off);
        CHECK(t_is_pattern(mb_map_data(m), off, size - off));
        mb_map_close(m);
    }
    remove(path);
}

static void test_write_map(void) {
    t_section("read-write map, create, write-through");
    const char *path = t_path("write");
    remove(path);
    mb_map_options o = {MB_MAP_WRITE, 0, 0, 0};
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, &o, &m), MB_ENOENT);
    o.flags = MB_MAP_WRITE | MB_MAP_CREATE;
    CHECK_RC(mb_map_open(path, &o, &m), MB_OK);
    if (!m) return;
    CHECK_EQ(mb_map_size(m), 0);
    CHECK(mb_map_data(m) == NULL);
    CHECK(mb_map_writable(m));
    CHECK_RC(mb_map_resize_file(m, 10000), MB_OK);
    CHECK_EQ(mb_map_size(m), 10000);
    unsigned char buf[10000];
    for (int i = 0; i < 10000; i++) buf[i] = t_pattern((uint64_t)i);
    CHECK_RC(mb_map_write(m, 0, buf, 10000), MB_OK);
    CHECK_RC(mb_map_write(m, 9999, buf, 2), MB_ERANGE);
    CHECK_RC(mb_map_flush(m, 0, 0, MB_FLUSH_SYNC), MB_OK);
    mb_map_close(m);
    CHECK_EQ(t_file_size(path), 10000);
    /* read back through stdio, not through a map */
    FILE *f = fopen(path, "rb");
    unsigned char back[10000];
    CHECK(f && fread(back, 1, sizeof back, f) == sizeof back);
    if (f) fclose(f);
    CHECK(t_is_pattern(back, 0, 10000));
    remove(path);
}

#if defined(__linux__)
#include <dirent.h>
static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}
#else
static int open_fds(void) { return 0; }
#endif

static void test_bad_input(void) {
    t_section("bad input: each gets its own error code");
    mb_stats before;
    mb_stats_get(&before);
    int fds_before = open_fds();
    mb_map *m = (mb_map *)0x1; /* must stay untouched on error */
    const char *missing = t_path("does-not-exist");
    remove(missing);
    CHECK_RC(mb_map_open(missing, NULL, &m), MB_ENOENT);
    CHECK(m == (mb_map *)0x1);
    CHECK(mb_last_oserror() != 0);
    CHECK_RC(mb_map_open(NULL, NULL, &m), MB_EINVAL);

    const char *dir = t_path("a-directory");
#if defined(_WIN32)
    (void)mkdir(dir);
#else
    (void)mkdir(dir, 0755);
#endif
    CHECK_RC(mb_map_open(dir, NULL, &m), MB_EISDIR);
    mb_map_options w = {MB_MAP_WRITE, 0, 0, 0};
    CHECK_RC(mb_map_open(dir, &w, &m), MB_EISDIR);
    rmdir(dir);

    const char *empty = t_path("empty");
    t_write_pattern(empty, 0);
    CHECK_RC(mb_map_open(empty, NULL, &m), MB_EEMPTY);
    mb_map_options ae = {MB_MAP_ALLOW_EMPTY, 0, 0, 0};
    mb_map *e = NULL;
    CHECK_RC(mb_map_open(empty, &ae, &e), MB_OK);
    CHECK_EQ(mb_map_size(e), 0);
    CHECK(mb_map_data(e) == NULL);
    mb_map_close(e);
    remove(empty);

    const char *path = t_path("small");
    t_write_pattern(path, 5000);
    mb_map_options beyond = {0, 5001, 0, 0};
    CHECK_RC(mb_map_open(path, &beyond, &m), MB_ERANGE);
    mb_map_options at_end = {0, 5000, 0, 0};
    CHECK_RC(mb_map_open(path, &at_end, &m), MB_EEMPTY);
    mb_map_options window = {0, 4000, 1001, 0};
    CHECK_RC(mb_map_open(path, &window, &m), MB_ERANGE);
    mb_map_options overflow = {0, UINT64_MAX - 10, 100, 0};
    CHECK_RC(mb_map_open(path, &overflow, &m), MB_EOVERFLOW);
    mb_map_options huge_off = {0, UINT64_MAX, 0, 0};
    CHECK_RC(mb_map_open(path, &huge_off, &m), MB_EOVERFLOW);
    mb_map_options badflag = {0x8000u, 0, 0, 0};
    CHECK_RC(mb_map_open(path, &badflag, &m), MB_EINVAL);
    mb_map_options create_ro = {MB_MAP_CREATE, 0, 0, 0};
    CHECK_RC(mb_map_open(path, &create_ro, &m), MB_EINVAL);
    CHECK(m == (mb_map *)0x1);

    /* range errors on a good map */
    mb_map *g = NULL;
    CHECK_RC(mb_map_open(path, NULL, &g), MB_OK);
    unsigned char b[8];
    CHECK_RC(mb_map_read(g, 5000, b, 1), MB_ERANGE);
    CHECK_RC(mb_map_read(g, UINT64_MAX, b, 8), MB_ERANGE);
    CHECK_RC(mb_map_read(g, 4992, b, 8), MB_OK);
    CHECK_RC(mb_map_read(g, 0, NULL, 8), MB_EINVAL);
    CHECK_RC(mb_map_resize_file(g, 10), MB_EREADONLY);
    mb_map_close(g);
    remove(path);

    /* no failed open left a mapping, a reservation or a descriptor behind */
    mb_stats after;
    mb_stats_get(&after);
    CHECK_EQ(after.live_maps, before.live_maps);
    CHECK_EQ(after.bytes_reserved, before.bytes_reserved);
    CHECK_EQ(open_fds(), fds_before);

    /* the messages callers show for bad input */
    CHECK(strcmp(mb_strerror(MB_ENOENT), "no such file") == 0);
    CHECK(strcmp(mb_strerror(MB_EISDIR), "is a directory, not a file") == 0);
    CHECK(strcmp(mb_strerror(MB_EACCES), "permission denied") == 0);
    CHECK(strcmp(mb_strerror(MB_EEMPTY), "file is empty (zero length)") == 0);
    CHECK(strcmp(mb_strerror(MB_ERANGE), "offset or range beyond the end of the file") == 0);
    CHECK(strcmp(mb_strerror(MB_EOVERFLOW), "offset plus length overflows") == 0);
    CHECK(strcmp(mb_strerror(MB_EREADONLY), "write access to a read-only file or mapping") == 0);
    CHECK(strcmp(mb_strerror(MB_EFAULT), "mapped file was truncated or unreadable underneath") == 0);
    CHECK(strcmp(mb_strerror(MB_ENOTFILE), "not a regular file") == 0);

    /* every code has its own description */
    const int codes[] = {MB_OK, MB_ENOENT, MB_EISDIR, MB_EACCES, MB_EEMPTY, MB_ERANGE,
                         MB_EOVERFLOW, MB_EREADONLY, MB_EFAULT, MB_ENOMEM, MB_EINVAL,
                         MB_EIO, MB_ENOTSUP, MB_ENOTFILE, MB_EBUSY};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            CHECK(strcmp(mb_strerror(codes[i]), mb_strerror(codes[j])) != 0);
    CHECK(strcmp(mb_strerror(12345), "unknown error") == 0);
}

#if !defined(_WIN32)
/* Run fn in a child process as an unprivileged user: root bypasses file
** permissions, so a permission test run as root must drop them to mean
** anything. Returns fn's result, or 99 if the child could not run. */
static int as_unprivileged(int (*fn)(const char *), const char *path) {
    pid_t pid = fork();
    if (pid < 0) return 99;
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(99);
        _exit(-fn(path)); /* MB_* codes are 0 or small negatives */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status)) return 98;
    int v = WEXITSTATUS(status);
    return v == 99 ? 99 : -v;
}

static int open_ro(const char *path) {
    mb_map *m = NULL;
    int rc = mb_map_open(path, NULL, &m);
    mb_map_close(m);
    return rc;
}

static int open_rw(const char *path) {
    mb_map_options o = {MB_MAP_WRITE, 0, 0, 0};
    mb_map *m = NULL;
    int rc = mb_map_open(path, &o, &m);
    mb_map_close(m);
    return rc;
}

static void test_permissions(void) {
    t_section("permissions (as an unprivileged user)");
    const char *noperm = t_path("noperm");
    t_write_pattern(noperm, 4096);
    chmod(noperm, 0000);
    CHECK_RC(as_unprivileged(open_ro, noperm), MB_EACCES);
    CHECK_RC(as_unprivileged(open_rw, noperm), MB_EACCES);
    remove(noperm);

    const char *ro = t_path("readonly");
    t_write_pattern(ro, 4096);
    chmod(ro, 0444);
    CHECK_RC(as_unprivileged(open_ro, ro), MB_OK);
    CHECK_RC(as_unprivileged(open_rw, ro), MB_EREADONLY);
    remove(ro);
}

static void test_not_a_file(void) {
    t_section("not a regular file");
    mb_map *m = NULL;
    CHECK_RC(mb_map_open("/dev/null", NULL, &m), MB_ENOTFILE);
    const char *fifo = t_path("fifo");
    remove(fifo);
    if (mkfifo(fifo, 0600) == 0) {
        CHECK_RC(mb_map_open(fifo, NULL, &m), MB_ENOTFILE); /* and does not block */
        remove(fifo);
    }
    CHECK(m == NULL);
}
#endif

int main(void) {
    test_page_size();
    test_whole_file();
    test_unaligned();
    test_write_map();
    test_bad_input();
#if !defined(_WIN32)
    test_permissions();
    test_not_a_file();
#endif
    return t_done();
}
