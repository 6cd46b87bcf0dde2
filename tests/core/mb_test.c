/* mb_test.c -- implementation of the tiny unit-test kit (mb_test.h). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "mb_test.h"
#if defined(_WIN32)
#include <windows.h>
#include <process.h>
#define t_getpid() ((unsigned long)GetCurrentProcessId())
#else
#include <pthread.h>
#include <unistd.h>
#define t_getpid() ((unsigned long)getpid())
#endif
/* valgrind's client-request header, where this machine has it (Debian's
** valgrind package). Never on Windows: the mingw cross-build must not see it. */
#if !defined(_WIN32) && defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define T_HAVE_VALGRIND_H 1
#endif
#endif

static int s_pass, s_fail;
static const char *s_section = "";

void t_section(const char *name) { s_section = name; printf("-- %s\n", name); fflush(stdout); }

void t_note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("   note: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

void t_check(int ok, const char *what, const char *file, int line) {
    if (ok) { s_pass++; return; }
    s_fail++;
    printf("FAIL [%s] %s:%d: %s\n", s_section, file, line, what);
    fflush(stdout);
}

void t_check_rc(int got, int want, const char *what, const char *file, int line) {
    if (got == want) { s_pass++; return; }
    s_fail++;
    printf("FAIL [%s] %s:%d: %s returned %d (%s), expected %d (%s), os error %d\n", s_section,
           file, line, what, got, mb_strerror(got), want, mb_strerror(want), mb_last_oserror());
    fflush(stdout);
}

void t_check_u64(uint64_t got, uint64_t want, const char *what, const char *file, int line) {
    if (got == want) { s_pass++; return; }
    s_fail++;
    printf("FAIL [%s] %s:%d: %s: got %llu, expected %llu\n", s_section, file, line, what,
           (unsigned long long)got, (unsigned long long)want);
    fflush(stdout);
}

int t_done(void) {
    printf("%d passed, %d failed\n", s_pass, s_fail);
    return s_fail == 0 && s_pass > 0 ? 0 : 1;
}

int t_under_qemu(void) {
    const char *e = getenv("MB_UNDER_QEMU");
    return e && e[0] == '1';
}

int t_under_valgrind(void) {
    static int known = -1;
    if (known < 0) {
#if defined(T_HAVE_VALGRIND_H)
        known = RUNNING_ON_VALGRIND ? 1 : 0;
#else
        const char *e = getenv("MB_UNDER_VALGRIND");
        known = e && e[0] == '1';
#endif
    }
    return known;
}

const char *t_path(const char *name) {
    static char slots[8][512];
    static int next;
    const char *dir = getenv("MB_TEST_TMPDIR");
#if defined(_WIN32)
    if (!dir) dir = getenv("TEMP");
    if (!dir) dir = ".";
#else
    if (!dir) dir = "/tmp";
#endif
    char *p = slots[next++ % 8];
    snprintf(p, sizeof slots[0], "%s/mbt-%lu-%s", dir, t_getpid(), name);
    return p;
}

unsigned char t_pattern(uint64_t i) { return (unsigned char)((i * 131u) ^ (i >> 9) ^ 0x5a); }

static void write_from(FILE *f, uint64_t start, uint64_t n) {
    unsigned char buf[65536];
    uint64_t done = 0;
    while (done < n) {
        size_t k = n - done < sizeof buf ? (size_t)(n - done) : sizeof buf;
        for (size_t j = 0; j < k; j++) buf[j] = t_pattern(start + done + j);
        if (fwrite(buf, 1, k, f) != k) { perror("fwrite"); exit(2); }
        done += k;
    }
}

void t_write_pattern(const char *path, uint64_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    write_from(f, 0, size);
    fclose(f);
}

uint64_t t_file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n < 0 ? 0 : (uint64_t)n;
}

void t_append_pattern(const char *path, uint64_t n) {
    uint64_t start = t_file_size(path);
    FILE *f = fopen(path, "ab");
    if (!f) { perror(path); exit(2); }
    write_from(f, start, n);
    fclose(f);
}

int t_truncate(const char *path, uint64_t size) {
#if defined(_WIN32)
    /* its own handle, sharing everything, as another program's would be */
    HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return (int)GetLastError();
    LARGE_INTEGER li;
    li.QuadPart = (LONGLONG)size;
    int ok = SetFilePointerEx(h, li, NULL, FILE_BEGIN) && SetEndOfFile(h);
    int e = ok ? 0 : (int)GetLastError();
    CloseHandle(h);
    return e;
#else
    return truncate(path, (off_t)size) == 0 ? 0 : errno;
#endif
}

int t_is_pattern(const void *data, uint64_t foff, uint64_t n) {
    const unsigned char *p = data;
    for (uint64_t i = 0; i < n; i++)
        if (p[i] != t_pattern(foff + i)) return 0;
    return 1;
}

#if defined(_WIN32)
struct t_thread { HANDLE h; void *(*fn)(void *); void *arg; };
static unsigned __stdcall trampoline(void *p) {
    struct t_thread *t = p;
    t->fn(t->arg);
    return 0;
}
t_thread *t_thread_start(void *(*fn)(void *), void *arg) {
    struct t_thread *t = calloc(1, sizeof *t);
    t->fn = fn; t->arg = arg;
    t->h = (HANDLE)_beginthreadex(NULL, 0, trampoline, t, 0, NULL);
    return t;
}
void t_thread_join(t_thread *t) {
    WaitForSingleObject(t->h, INFINITE);
    CloseHandle(t->h);
    free(t);
}
#else
struct t_thread { pthread_t id; };
t_thread *t_thread_start(void *(*fn)(void *), void *arg) {
    struct t_thread *t = calloc(1, sizeof *t);
    if (pthread_create(&t->id, NULL, fn, arg) != 0) { perror("pthread_create"); exit(2); }
    return t;
}
void t_thread_join(t_thread *t) {
    pthread_join(t->id, NULL);
    free(t);
}
#endif
