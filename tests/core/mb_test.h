/*
** mb_test.h -- a minimal C unit-test kit for the core tests. No SQLite.
** Every CHECK counts; t_done() prints "N passed, N failed" and returns the
** exit status, so a test with a failed check fails under ctest.
*/
#ifndef MB_TEST_H
#define MB_TEST_H
#include <stdint.h>
#include <stdio.h>
#include "mb_map.h"

void t_check(int ok, const char *what, const char *file, int line);
void t_check_rc(int got, int want, const char *what, const char *file, int line);
void t_check_u64(uint64_t got, uint64_t want, const char *what, const char *file, int line);
#define CHECK(c)          t_check(!!(c), #c, __FILE__, __LINE__)
#define CHECK_RC(e, want) t_check_rc((e), (want), #e, __FILE__, __LINE__)
#define CHECK_EQ(a, b)    t_check_u64((uint64_t)(a), (uint64_t)(b), #a " == " #b, __FILE__, __LINE__)

void t_section(const char *name);
void t_note(const char *fmt, ...);
int  t_done(void);

/* Non-zero when the test runs under valgrind: RUNNING_ON_VALGRIND where
** <valgrind/valgrind.h> exists, else MB_UNDER_VALGRIND=1 in the environment
** (tests/scripts/sanitizers.sh sets it). Tests skip what memcheck cannot run and
** say so with t_note(). Always 0 on Windows unless the variable is set. */
int  t_under_valgrind(void);
/* Non-zero when the test runs under qemu-user: MB_UNDER_QEMU=1 in the
** environment (tests/CMakeLists.txt sets it in a cross build run through
** qemu). qemu-user takes madvise(WILLNEED, POPULATE_READ) and MAP_POPULATE
** as hints it ignores, so checks that populating fills the page tables are
** skipped there, with a t_note(). */
int  t_under_qemu(void);

/* A fresh path in the test's scratch dir (MB_TEST_TMPDIR or the system
** temp dir), unique to this process. Static storage, 8 slots in rotation. */
const char *t_path(const char *name);
/* The byte stored at file offset i by t_write_pattern. */
unsigned char t_pattern(uint64_t i);
/* Create/overwrite `path` with `size` pattern bytes. */
void t_write_pattern(const char *path, uint64_t size);
/* Append `n` pattern bytes (continuing the pattern at the current end). */
void t_append_pattern(const char *path, uint64_t n);
/* Non-zero if data[0..n) holds the pattern for file offsets from `foff`. */
int  t_is_pattern(const void *data, uint64_t foff, uint64_t n);
uint64_t t_file_size(const char *path);
/* Set the file's size through a handle of its own (another program's
** view of the file): 0, or the system's error (errno, GetLastError). */
int t_truncate(const char *path, uint64_t size);

/* Threads, so the same tests build on Windows. */
typedef struct t_thread t_thread;
t_thread *t_thread_start(void *(*fn)(void *), void *arg);
void      t_thread_join(t_thread *t);
#endif
