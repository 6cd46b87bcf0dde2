/*
** test_registry.c -- one mapping per file per process: sharing by file
** identity, refcounts, upgrade to writable in place, concurrent users.
*/
#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "mb_test.h"
#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

static size_t live_entries(void) {
    mb_map_info *arr = NULL;
    size_t n = 0;
    if (mb_registry_snapshot(&arr, &n) != MB_OK) return (size_t)-1;
    mb_registry_free_snapshot(arr, n);
    return n;
}

static void test_sharing(void) {
    t_section("one map per file, shared and refcounted");
    const char *path = t_path("shared");
    t_write_pattern(path, 100000);
    size_t base_n = live_entries();
    mb_map *a = NULL, *b = NULL, *c = NULL;
    CHECK_RC(mb_registry_acquire(path, 0, &a), MB_OK);
    CHECK_RC(mb_registry_acquire(path, 0, &b), MB_OK);
    CHECK(a && a == b);
    mb_map_info info;
    mb_map_get_info(a, &info);
    CHECK_EQ(info.refcount, 2);
    CHECK_EQ(live_entries(), base_n + 1);
#if !defined(_WIN32)
    /* another spelling of the same file, and a hard link to it */
    char alt[600];
    const char *slash = strrchr(path, '/');
    snprintf(alt, sizeof alt, "%.*s/./%s", (int)(slash - path), path, slash + 1);
    CHECK_RC(mb_registry_acquire(alt, 0, &c), MB_OK);
    CHECK(c == a);
    mb_registry_release(c);
    const char *lnk = t_path("shared-link");
    remove(lnk);
    CHECK(link(path, lnk) == 0);
    CHECK_RC(mb_registry_acquire(lnk, 0, &c), MB_OK);
    CHECK(c == a);
    mb_registry_release(c);
    remove(lnk);
#endif
    (void)c;
    mb_map_info *arr = NULL;
    size_t n = 0;
    CHECK_RC(mb_registry_snapshot(&arr, &n), MB_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(arr[i].path, path) == 0) {
            found = 1;
            CHECK_EQ(arr[i].refcount, 2);
            CHECK_EQ(arr[i].file_size, 100000);
            CHECK_EQ(arr[i].mapped, 100000);
        }
    CHECK(found);
    mb_registry_free_snapshot(arr, n);
    mb_registry_release(a);
    CHECK_EQ(live_entries(), base_n + 1);
    CHECK(t_is_pattern(mb_map_data(b), 0, 100000));
    mb_registry_release(b);
    CHECK_EQ(live_entries(), base_n);
    remove(path);
}

static void test_upgrade_and_errors(void) {
    t_section("upgrade to writable in place; errors through the registry");
    const char *path = t_path("upgrade");
    t_write_pattern(path, 8192);
    mb_map *r = NULL, *w = NULL;
    CHECK_RC(mb_registry_acquire(path, 0, &r), MB_OK);
    if (!r) return;
    const void *addr = mb_map_data(r);
    CHECK(!mb_map_writable(r));
    CHECK_RC(mb_registry_acquire(path, MB_MAP_WRITE, &w), MB_OK);
    CHECK(w == r);
    CHECK(mb_map_writable(r));
    CHECK(mb_map_data(r) == addr);
    unsigned char v = 0xAB;
    CHECK_RC(mb_map_write(w, 4000, &v, 1), MB_OK);
    CHECK_RC(mb_map_flush(w, 0, 0, MB_FLUSH_SYNC), MB_OK);
    mb_registry_release(w);
    mb_registry_release(r);
    FILE *f = fopen(path, "rb");
    unsigned char back[8192];
    CHECK(f && fread(back, 1, sizeof back, f) == sizeof back);
    if (f) fclose(f);
    CHECK(back[4000] == 0xAB);
    remove(path);

    mb_map *m = (mb_map *)0x1;
    CHECK_RC(mb_registry_acquire(path, 0, &m), MB_ENOENT);
    CHECK_RC(mb_registry_acquire(path, MB_MAP_WRITE | MB_MAP_CREATE, &m), MB_OK);
    if (m != (mb_map *)0x1) {
        CHECK_EQ(mb_map_size(m), 0);
        CHECK_RC(mb_registry_resize_file(m, 4096), MB_OK);
        CHECK_EQ(mb_map_size(m), 4096);
        CHECK_RC(mb_registry_refresh(m, NULL), MB_OK);
        CHECK_EQ(mb_map_size(m), 4096);
        mb_map *other = NULL;
        CHECK_RC(mb_map_open(path, NULL, &other), MB_OK); /* not a registry map */
        CHECK_RC(mb_registry_resize_file(other, 10), MB_EINVAL);
        CHECK_RC(mb_registry_refresh(other, NULL), MB_EINVAL);
        mb_map_close(other);
        mb_registry_release(m);
    }
    remove(path);
    const char *dir = t_path("regdir");
#if defined(_WIN32)
    (void)mkdir(dir);
#else
    (void)mkdir(dir, 0755);
#endif
    m = (mb_map *)0x1;
    CHECK_RC(mb_registry_acquire(dir, 0, &m), MB_EISDIR);
    CHECK_RC(mb_registry_acquire(NULL, 0, &m), MB_EINVAL);
    CHECK_RC(mb_registry_acquire(dir, 0x4000, &m), MB_EINVAL);
    CHECK(m == (mb_map *)0x1);
    rmdir(dir);
}

#if !defined(_WIN32)
static int child_write_readonly(const char *path) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 99;
    mb_map *r = NULL, *w = NULL;
    if (mb_registry_acquire(path, 0, &r) != MB_OK) return 10;
    int rc = mb_registry_acquire(path, MB_MAP_WRITE, &w);
    int still_ro = !mb_map_writable(r);
    mb_registry_release(r);
    return rc == MB_EREADONLY && still_ro ? 0 : 11;
}

static void test_readonly_file(void) {
    t_section("write access to a read-only file through the registry");
    const char *path = t_path("regro");
    t_write_pattern(path, 4096);
    chmod(path, 0444);
    pid_t pid = fork();
    if (pid == 0) _exit(child_write_readonly(path));
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    remove(path);
}
#endif

typedef struct reg_job {
    const char *path;
    int errors;
    mb_map *seen;
} reg_job;

static void *reg_worker(void *arg) {
    reg_job *j = arg;
    for (int i = 0; i < 3000; i++) {
        mb_map *m = NULL;
        if (mb_registry_acquire(j->path, 0, &m) != MB_OK) { j->errors++; continue; }
        unsigned char buf[16];
        uint64_t off = (uint64_t)(i * 997) % (65536 - 16);
        if (mb_map_read(m, off, buf, 16) != MB_OK || !t_is_pattern(buf, off, 16)) j->errors++;
        mb_registry_release(m);
    }
    return NULL;
}

static void test_concurrent(void) {
    t_section("threads acquiring and releasing one entry concurrently");
    const char *path = t_path("concurrent");
    t_write_pattern(path, 65536);
    size_t base_n = live_entries();
    mb_stats a, b;
    mb_stats_get(&a);
    /* a long-lived user keeps the entry alive for part of the test */
    mb_map *keep = NULL;
    CHECK_RC(mb_registry_acquire(path, 0, &keep), MB_OK);
    enum { N = 8 };
    reg_job jobs[N];
    t_thread *th[N];
    for (int i = 0; i < N; i++) {
        jobs[i].path = path;
        jobs[i].errors = 0;
        th[i] = t_thread_start(reg_worker, &jobs[i]);
    }
    for (int i = 0; i < N; i++) {
        t_thread_join(th[i]);
        CHECK_EQ(jobs[i].errors, 0);
    }
    mb_map_info info;
    mb_map_get_info(keep, &info);
    CHECK_EQ(info.refcount, 1);
    mb_registry_release(keep);
    /* and again with no long-lived user: entries come and go */
    for (int i = 0; i < N; i++) th[i] = t_thread_start(reg_worker, &jobs[i]);
    for (int i = 0; i < N; i++) t_thread_join(th[i]);
    for (int i = 0; i < N; i++) CHECK_EQ(jobs[i].errors, 0);
    CHECK_EQ(live_entries(), base_n);
    mb_stats_get(&b);
    CHECK_EQ(b.live_maps, a.live_maps);
    CHECK_EQ(b.bytes_mapped, a.bytes_mapped);
    remove(path);
}

int main(void) {
    test_sharing();
    test_upgrade_and_errors();
#if !defined(_WIN32)
    test_readonly_file();
#endif
    test_concurrent();
    return t_done();
}
