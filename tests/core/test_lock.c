/*
** test_lock.c -- the file stamp (size + mtime) and the advisory file lock
** that record-file writers in several processes take turns with.
*/
#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif
#include <stdlib.h>
#include <string.h>
#include "mb_test.h"
#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

static void test_stamp(void) {
    t_section("stamp: the file's size and mtime now");
    const char *path = t_path("stamp");
    t_write_pattern(path, 5000);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    uint64_t size = 0;
    int64_t t1 = 0, t2 = 0;
    CHECK_RC(mb_map_stamp(m, &size, &t1), MB_OK);
    CHECK_EQ(size, 5000);
    CHECK(t1 > (int64_t)1600000000 * 1000000000); /* after 2020: a real time */
    /* the stamp follows the file, not the view */
    uint64_t waited = 0;
    do {
        t_append_pattern(path, 10);
        CHECK_RC(mb_map_stamp(m, &size, &t2), MB_OK);
    } while (t2 == t1 && ++waited < 100000);
    CHECK(t2 > t1);
    CHECK(size > 5000);
    CHECK_EQ(mb_map_size(m), 5000);
    CHECK_RC(mb_map_stamp(m, NULL, NULL), MB_OK);
    CHECK_RC(mb_map_stamp(NULL, &size, &t2), MB_EINVAL);
    mb_map_close(m);
    remove(path);
}

static void test_lock_two_maps(void) {
    t_section("lock: two maps of one file exclude each other");
    const char *path = t_path("lock");
    t_write_pattern(path, 4096);
    mb_map *a = NULL, *b = NULL;
    CHECK_RC(mb_map_open(path, NULL, &a), MB_OK);
    CHECK_RC(mb_map_open(path, NULL, &b), MB_OK);
    if (!a || !b) return;
    CHECK_RC(mb_map_lock(a, MB_LOCK_EXCLUSIVE), MB_OK);
    CHECK_RC(mb_map_lock(b, MB_LOCK_SHARED | MB_LOCK_NOWAIT), MB_EBUSY);
    CHECK_RC(mb_map_lock(b, MB_LOCK_EXCLUSIVE | MB_LOCK_NOWAIT), MB_EBUSY);
    CHECK_RC(mb_map_lock(a, MB_LOCK_UNLOCK), MB_OK);
    CHECK_RC(mb_map_lock(b, MB_LOCK_SHARED | MB_LOCK_NOWAIT), MB_OK);
    CHECK_RC(mb_map_lock(a, MB_LOCK_SHARED | MB_LOCK_NOWAIT), MB_OK); /* readers share */
    CHECK_RC(mb_map_lock(a, MB_LOCK_UNLOCK), MB_OK);
    CHECK_RC(mb_map_lock(b, MB_LOCK_UNLOCK), MB_OK);
    CHECK_RC(mb_map_lock(a, MB_LOCK_EXCLUSIVE | MB_LOCK_NOWAIT), MB_OK);
    mb_map_close(a); /* closing drops the lock */
    CHECK_RC(mb_map_lock(b, MB_LOCK_EXCLUSIVE | MB_LOCK_NOWAIT), MB_OK);
    CHECK_RC(mb_map_lock(b, MB_LOCK_UNLOCK), MB_OK);
    CHECK_RC(mb_map_lock(b, 7), MB_EINVAL);
    CHECK_RC(mb_map_lock(NULL, MB_LOCK_SHARED), MB_EINVAL);
    CHECK(strcmp(mb_strerror(MB_EBUSY), "locked by another process") == 0);
    mb_map_close(b);
    remove(path);
}

#if !defined(_WIN32)
static void test_lock_processes(void) {
    t_section("lock: another process waits or gets MB_EBUSY");
    const char *path = t_path("lockproc");
    t_write_pattern(path, 4096);
    mb_map *a = NULL;
    CHECK_RC(mb_map_open(path, NULL, &a), MB_OK);
    if (!a) return;
    CHECK_RC(mb_map_lock(a, MB_LOCK_EXCLUSIVE), MB_OK);
    pid_t pid = fork();
    if (pid == 0) {
        mb_map *b = NULL;
        if (mb_map_open(path, NULL, &b) != MB_OK) _exit(10);
        if (mb_map_lock(b, MB_LOCK_SHARED | MB_LOCK_NOWAIT) != MB_EBUSY) _exit(11);
        /* now wait for it: the parent lets go after a moment */
        if (mb_map_lock(b, MB_LOCK_EXCLUSIVE) != MB_OK) _exit(12);
        _exit(0);
    }
    usleep(200 * 1000);
    CHECK_RC(mb_map_lock(a, MB_LOCK_UNLOCK), MB_OK);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    mb_map_close(a);
    remove(path);
}
#endif

int main(void) {
    test_stamp();
    test_lock_two_maps();
#if !defined(_WIN32)
    test_lock_processes();
#endif
    return t_done();
}
