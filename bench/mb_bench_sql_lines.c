/*
** mb_bench_sql_lines.c -- membase_lines on a log file against GNU wc -l and
** grep -c, and against the same lines imported into a native SQLite table.
**
** Usage
**   mb_bench_sql_lines [--size MiB] [--file PATH] [--reps N] [--lookups N]
**                      [--quick] [--no-native]
**
**   --size MiB   size of the generated log (default 1024 = 1 GiB, about 10 M
**                lines of ~105 bytes, 2% of them ERROR lines)
**   --file PATH  the log; generated there if absent or of another size
**                (default $TMPDIR/mb_bench_lines_<size>MiB.log, kept for reuse)
**   --reps N     repetitions of every figure; each figure is the median
**                (default 5)
**   --lookups N  rowid lookups per repetition (default 1000)
**   --quick      CI mode: 64 MiB, 3 reps (any option given explicitly wins)
**   --no-native  skip the native table (its import takes a while)
**   Or run everything with: bash bench/run.sh [options]
**
** The work, on the same file, in the page cache (read once before the reps):
**   count(*)                 membase_lines vs `wc -l FILE`
**   count(*) LIKE '%ERROR%'  vs `grep -c ERROR FILE` (the log holds "error"
**                            in no other case, so the counts agree)
**   ... GLOB '*ERROR*'       the case-sensitive form of the same
**   ... +line LIKE           the LIKE without the pushdown (SQLite tests
**                            every line)
**   rowid BETWEEN m AND m+10 and rowid = m, m the middle line, after the
**                            index exists; and the rowid query that builds
**                            it (the index dropped from the cache first)
**   C scans (no SQL)         count the newlines of the mapping with memchr
**                            straight from the mapping (unguarded: what a
**                            zero-copy scan would cost) and through 256 KiB
**                            guarded copies (what membase_lines does): the
**                            price of never dying on a truncated file
**   native table             CREATE TABLE log(line TEXT) filled by
**                            INSERT ... SELECT from membase_lines, in a file
**                            database next to the log; the same queries.
** wc and grep run as child processes (posix_spawn), timed from spawn to
** exit, their output parsed and checked against the SQL counts.
**
** Targets (reported, never asserted)
**   count(*) within 2x of wc -l; the LIKE within 2x of grep -c; a rowid
**   lookup under 1 ms once the index exists.
*/
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include "mb_map.h"
#include "membase.h"

extern char **environ;

#define MIB (1024ull * 1024ull)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    double *c = malloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

static void die(const char *what) {
    fprintf(stderr, "mb_bench_sql_lines: %s\n", what);
    exit(2);
}

/* ------------------------------------------------------------------ */
/* The log                                                            */
/* ------------------------------------------------------------------ */
static uint64_t xs(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Lines like
**   2026-11-24T10:17:03.123456Z INFO  [worker-07] GET /api/v1/items/48213 status=200 ms=12 region=eu-west
** 2% ERROR, 8% WARN, the rest INFO. No other word contains "error" in
** any case, so grep -c ERROR and LIKE '%ERROR%' count the same lines. */
static void generate(const char *path, uint64_t target) {
    static const char *verbs[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *res[] = {"items", "users", "orders", "carts", "sessions", "search"};
    static const char *regions[] = {"eu-west", "us-east", "ap-south", "sa-east"};
    static const char *msgs[] = {"upstream timeout", "connection reset by peer",
                                 "invalid token", "disk quota exceeded"};
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot create the log");
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    uint64_t s = 0x9E3779B97F4A7C15ull, written = 0, n = 0;
    char line[512];
    while (written < target) {
        uint64_t r = xs(&s);
        unsigned lvl = (unsigned)(r % 100);
        const char *level = lvl < 2 ? "ERROR" : lvl < 10 ? "WARN " : "INFO ";
        uint64_t t = n / 10000;
        int len = snprintf(line, sizeof line,
            "2026-11-24T%02u:%02u:%02u.%06uZ %s [worker-%02u] %s /api/v1/%s/%u status=%u ms=%u region=%s%s%s\n",
            (unsigned)(t / 3600 % 24), (unsigned)(t / 60 % 60), (unsigned)(t % 60),
            (unsigned)(n % 1000000), level, (unsigned)(r >> 8 & 31), verbs[r >> 13 & 3],
            res[(r >> 15) % 6], (unsigned)(r >> 20 & 0xfffff), lvl < 2 ? 500u : 200u,
            (unsigned)(r >> 40 & 1023), regions[r >> 62],
            lvl < 2 ? " msg=" : "", lvl < 2 ? msgs[(r >> 32) & 3] : "");
        fwrite(line, 1, (size_t)len, f);
        written += (uint64_t)len;
        n++;
    }
    if (fclose(f) != 0) die("cannot write the log");
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Read the file once so that every variant finds it in the page cache. */
static void prime(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("cannot open the log");
    static char buf[1 << 20];
    while (read(fd, buf, sizeof buf) > 0) {}
    close(fd);
}

/* ------------------------------------------------------------------ */
/* Child processes                                                    */
/* ------------------------------------------------------------------ */
/* Run argv, return its wall time; *out gets the first number it prints. */
static double run_child(char *const argv[], uint64_t *out) {
    int p[2];
    if (pipe(p) != 0) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    double t0 = now();
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) die("cannot run a child");
    close(p[1]);
    char buf[256];
    size_t n = 0;
    ssize_t k;
    while ((k = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)k;
    int status;
    waitpid(pid, &status, 0);
    double t = now() - t0;
    close(p[0]);
    posix_spawn_file_actions_destroy(&fa);
    buf[n] = 0;
    *out = strtoull(buf, NULL, 10);
    return t;
}

static void tool_version(const char *tool, char *out, size_t n) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s --version 2>/dev/null", tool);
    FILE *f = popen(cmd, "r");
    snprintf(out, n, "%s (version unknown)", tool);
    if (!f) return;
    if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
    pclose(f);
}

/* ------------------------------------------------------------------ */
/* SQL                                                                */
/* ------------------------------------------------------------------ */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *file) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        exit(2);
    }
    if (file) sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
    return st;
}

/* Step to the end; return the time and the first column of the first row. */
static double run_stmt(sqlite3_stmt *st, int64_t *first) {
    double t0 = now();
    int rc, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows++ == 0 && first) *first = sqlite3_column_int64(st, 0);
    }
    double t = now() - t0;
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "step: %s\n", sqlite3_errmsg(sqlite3_db_handle(st)));
        exit(2);
    }
    sqlite3_reset(st);
    return t;
}

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, err);
        exit(2);
    }
}

/* ------------------------------------------------------------------ */
/* C scans: the price of guarded copies                               */
/* ------------------------------------------------------------------ */
static uint64_t count_raw(const unsigned char *p, uint64_t n) {
    uint64_t c = 0;
    const unsigned char *e = p + n;
    while (p < e) {
        const unsigned char *h = memchr(p, '\n', (size_t)(e - p));
        if (!h) break;
        c++;
        p = h + 1;
    }
    return c;
}

static uint64_t count_guarded(mb_map *m, uint64_t n, unsigned char *buf, size_t cap) {
    uint64_t c = 0;
    for (uint64_t off = 0; off < n; off += cap) {
        size_t len = n - off < cap ? (size_t)(n - off) : cap;
        if (mb_map_read(m, off, buf, len) != MB_OK) die("guarded read failed");
        c += count_raw(buf, len);
    }
    return c;
}

/* ------------------------------------------------------------------ */
/* The machine                                                        */
/* ------------------------------------------------------------------ */
static void cpu_model(char *out, size_t n) {
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ' || *c == '\t') c++;
                snprintf(out, n, "%s", c);
                out[strcspn(out, "\n")] = 0;
            }
            break;
        }
    }
    fclose(f);
}

/* ------------------------------------------------------------------ */
enum { W_WC, W_GREP, S_COUNT, S_LIKE, S_GLOB, S_NOPUSH, S_INDEX, S_EQ, S_RANGE, C_RAW, C_GUARD,
       N_COUNT, N_LIKE, N_GLOB, N_EQ, N_RANGE, NFIG };

int main(int argc, char **argv) {
    uint64_t size_mib = 0;
    const char *file = NULL;
    int reps = 0, lookups = 1000, quick = 0, native = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) size_mib = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--file") && i + 1 < argc) file = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--lookups") && i + 1 < argc) lookups = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--no-native")) native = 0;
        else if (!strcmp(argv[i], "--no-cold") || !strcmp(argv[i], "--keep-cache") ||
                 !strcmp(argv[i], "--verbose")) { /* options of other benchmarks */ }
        else {
            fprintf(stderr, "usage: %s [--size MiB] [--file PATH] [--reps N] [--lookups N] "
                            "[--quick] [--no-native]\n", argv[0]);
            return 2;
        }
    }
    if (!size_mib) size_mib = quick ? 64 : 1024;
    if (!reps) reps = quick ? 3 : 5;
    if (lookups < 1) lookups = 1;
    char defpath[4096];
    if (!file) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp) tmp = "/tmp";
        snprintf(defpath, sizeof defpath, "%s/mb_bench_lines_%" PRIu64 "MiB.log", tmp, size_mib);
        file = defpath;
    }
    uint64_t target = size_mib * MIB;
    uint64_t fsize = file_size(file);
    const char *origin = "reused";
    /* The generator stops at the first line end at or past the target. */
    if (fsize < target || fsize > target + 512) {
        fprintf(stderr, "generating %s (%" PRIu64 " MiB)...\n", file, size_mib);
        generate(file, target);
        fsize = file_size(file);
        origin = "generated";
    }
    prime(file);

    if (membase_register() != SQLITE_OK) die("membase_register failed");
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) die("cannot open :memory:");

    sqlite3_stmt *q_count = prep(db, "SELECT count(*) FROM membase_lines(?1)", file);
    sqlite3_stmt *q_like = prep(db, "SELECT count(*) FROM membase_lines(?1) WHERE line LIKE '%ERROR%'", file);
    sqlite3_stmt *q_glob = prep(db, "SELECT count(*) FROM membase_lines(?1) WHERE line GLOB '*ERROR*'", file);
    sqlite3_stmt *q_nopush = prep(db, "SELECT count(*) FROM membase_lines(?1) WHERE +line LIKE '%ERROR%'", file);
    sqlite3_stmt *q_eq = prep(db, "SELECT length(line) FROM membase_lines(?1) WHERE rowid = ?2", file);
    sqlite3_stmt *q_range = prep(db, "SELECT sum(length(line)) FROM membase_lines(?1) WHERE rowid BETWEEN ?2 AND ?2 + 10", file);

    /* The counts every variant must agree with. */
    int64_t nlines = 0, nerr = 0;
    run_stmt(q_count, &nlines);
    run_stmt(q_like, &nerr);
    int64_t mid = nlines / 2;

    /* The index: its first build, timed once. */
    sqlite3_bind_int64(q_eq, 2, mid);
    sqlite3_bind_int64(q_range, 2, mid);
    (void)run_stmt(q_eq, NULL);

    /* The native table. */
    char natpath[4200];
    snprintf(natpath, sizeof natpath, "%s.native.db", file);
    sqlite3 *nd = NULL;
    double t_import = 0;
    sqlite3_stmt *n_count = NULL, *n_like = NULL, *n_glob = NULL, *n_eq = NULL, *n_range = NULL;
    if (native) {
        unlink(natpath);
        if (sqlite3_open(natpath, &nd) != SQLITE_OK) die("cannot create the native database");
        exec(nd, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                 "CREATE TABLE log(line TEXT)");
        sqlite3_stmt *imp = prep(nd, "INSERT INTO log(rowid, line) SELECT rowid, line FROM membase_lines(?1)", file);
        exec(nd, "BEGIN");
        t_import = run_stmt(imp, NULL);
        exec(nd, "COMMIT");
        sqlite3_finalize(imp);
        prime(natpath);
        n_count = prep(nd, "SELECT count(*) FROM log", NULL);
        n_like = prep(nd, "SELECT count(*) FROM log WHERE line LIKE '%ERROR%'", NULL);
        n_glob = prep(nd, "SELECT count(*) FROM log WHERE line GLOB '*ERROR*'", NULL);
        n_eq = prep(nd, "SELECT length(line) FROM log WHERE rowid = ?1", NULL);
        n_range = prep(nd, "SELECT sum(length(line)) FROM log WHERE rowid BETWEEN ?1 AND ?1 + 10", NULL);
        sqlite3_bind_int64(n_eq, 1, mid);
        sqlite3_bind_int64(n_range, 1, mid);
    }

    mb_map *m = NULL;
    if (mb_registry_acquire(file, 0, &m) != MB_OK) die("cannot map the log");
    const size_t cap = 256 * 1024;
    /* Page aligned, as membase_lines' windows are (see vtab/mb_window.h). */
    unsigned char *gbuf = aligned_alloc(4096, cap);

    double *fig[NFIG];
    for (int i = 0; i < NFIG; i++) fig[i] = calloc((size_t)reps, sizeof(double));
    double *lk = malloc((size_t)lookups * sizeof(double));
    int bad = 0;
    static char a_wc[] = "wc", a_l[] = "-l", a_grep[] = "grep", a_c[] = "-c", a_err[] = "ERROR";
    char *wc_argv[] = {a_wc, a_l, (char *)file, NULL};
    char *grep_argv[] = {a_grep, a_c, a_err, (char *)file, NULL};
    uint64_t wc_n = 0, grep_n = 0;
    double t0 = now();
    for (int r = 0; r < reps; r++) {
        int64_t v = 0;
        uint64_t u = 0;
        fig[W_WC][r] = run_child(wc_argv, &wc_n);
        if ((int64_t)wc_n != nlines) bad = 1;
        fig[W_GREP][r] = run_child(grep_argv, &grep_n);
        if ((int64_t)grep_n != nerr) bad = 1;
        fig[S_COUNT][r] = run_stmt(q_count, &v);
        if (v != nlines) bad = 1;
        fig[S_LIKE][r] = run_stmt(q_like, &v);
        if (v != nerr) bad = 1;
        fig[S_GLOB][r] = run_stmt(q_glob, &v);
        if (v != nerr) bad = 1;
        fig[S_NOPUSH][r] = run_stmt(q_nopush, &v);
        if (v != nerr) bad = 1;
        /* The index, built again: dropped from the core's cache first. */
        mb_cache_clear();
        fig[S_INDEX][r] = run_stmt(q_eq, NULL);
        for (int k = 0; k < lookups; k++) lk[k] = run_stmt(q_eq, NULL);
        fig[S_EQ][r] = median(lk, lookups);
        for (int k = 0; k < lookups; k++) lk[k] = run_stmt(q_range, NULL);
        fig[S_RANGE][r] = median(lk, lookups);
        double c0 = now();
        u = count_raw(mb_map_data(m), mb_map_size(m));
        fig[C_RAW][r] = now() - c0;
        if ((int64_t)u != nlines) bad = 1;
        c0 = now();
        u = count_guarded(m, mb_map_size(m), gbuf, cap);
        fig[C_GUARD][r] = now() - c0;
        if ((int64_t)u != nlines) bad = 1;
        if (native) {
            fig[N_COUNT][r] = run_stmt(n_count, &v);
            if (v != nlines) bad = 1;
            fig[N_LIKE][r] = run_stmt(n_like, &v);
            if (v != nerr) bad = 1;
            fig[N_GLOB][r] = run_stmt(n_glob, &v);
            if (v != nerr) bad = 1;
            for (int k = 0; k < lookups; k++) lk[k] = run_stmt(n_eq, NULL);
            fig[N_EQ][r] = median(lk, lookups);
            for (int k = 0; k < lookups; k++) lk[k] = run_stmt(n_range, NULL);
            fig[N_RANGE][r] = median(lk, lookups);
        }
    }
    double t_run = now() - t0;
    double med[NFIG];
    for (int i = 0; i < NFIG; i++) med[i] = median(fig[i], reps);

    /* ---- the table ---- */
    char model[256], wcv[256], grepv[256];
    cpu_model(model, sizeof model);
    tool_version("wc", wcv, sizeof wcv);
    tool_version("grep", grepv, sizeof grepv);
    struct utsname un;
    if (uname(&un) != 0) snprintf(un.release, sizeof un.release, "unknown");
    printf("MemBase SQL benchmark: mb_bench_sql_lines\n\n");
    printf("configuration\n");
    printf("  file         %s\n", file);
    printf("               %" PRIu64 " bytes (%.0f MiB), %s; %" PRId64 " lines (%.1f bytes/line),\n"
           "               %" PRId64 " ERROR lines (%.2f%%); in the page cache (read once first)\n",
           fsize, (double)fsize / (double)MIB, origin, nlines, (double)fsize / (double)nlines,
           nerr, 100.0 * (double)nerr / (double)nlines);
    printf("  reps         %d, interleaved; every figure is the median; lookups: the median of\n"
           "               %d executions per rep, then the median over reps\n", reps, lookups);
    printf("  tools        %s; %s; SQLite %s (system)\n", wcv, grepv, sqlite3_libversion());
    printf("  membase      windows of 256 KiB (guarded copies), line index every 256 lines\n");
    if (native)
        printf("  native       %s: table log(line TEXT), rowid = line number;\n"
               "               import (INSERT ... SELECT from membase_lines) %.1f s, %" PRIu64 " MiB\n",
               natpath, t_import, (uint64_t)(file_size(natpath) / MIB));
    printf("  run time     %.1f s for the reps\n\n", t_run);
    printf("machine\n");
    printf("  nproc %ld, CPU %s, kernel %s, page %zu B\n\n", sysconf(_SC_NPROCESSORS_ONLN), model,
           un.release, mb_page_size());

    printf("%-44s %12s %22s %9s %12s %9s\n", "query", "membase", "baseline", "x base", "native",
           "x native");
    printf("%-44s %12s %22s %9s %12s %9s\n", "", "", "", "(lower=", "table", "");
    printf("%-44s %12s %22s %9s %12s %9s\n", "", "", "", " better)", "", "");
#define MS(x) ((x) * 1e3)
#define US(x) ((x) * 1e6)
    char nat[64];
    char xn[32];
#define NATIVE(i, scale, unit)                                                          \
    do {                                                                                \
        if (native) {                                                                   \
            snprintf(nat, sizeof nat, "%.1f %s", scale(med[i]), unit);                  \
        } else {                                                                        \
            snprintf(nat, sizeof nat, "-");                                             \
        }                                                                               \
    } while (0)
    NATIVE(N_COUNT, MS, "ms");
    snprintf(xn, sizeof xn, native ? "%.2fx" : "-", native ? med[S_COUNT] / med[N_COUNT] : 0.0);
    printf("%-44s %9.1f ms %13s %5.1f ms %8.2fx %12s %9s\n", "count(*)", MS(med[S_COUNT]),
           "wc -l", MS(med[W_WC]), med[S_COUNT] / med[W_WC], nat, xn);
    NATIVE(N_LIKE, MS, "ms");
    snprintf(xn, sizeof xn, native ? "%.2fx" : "-", native ? med[S_LIKE] / med[N_LIKE] : 0.0);
    printf("%-44s %9.1f ms %13s %5.1f ms %8.2fx %12s %9s\n", "count(*) WHERE line LIKE '%ERROR%'",
           MS(med[S_LIKE]), "grep -c ERROR", MS(med[W_GREP]), med[S_LIKE] / med[W_GREP], nat, xn);
    NATIVE(N_GLOB, MS, "ms");
    snprintf(xn, sizeof xn, native ? "%.2fx" : "-", native ? med[S_GLOB] / med[N_GLOB] : 0.0);
    printf("%-44s %9.1f ms %13s %5.1f ms %8.2fx %12s %9s\n", "count(*) WHERE line GLOB '*ERROR*'",
           MS(med[S_GLOB]), "grep -c ERROR", MS(med[W_GREP]), med[S_GLOB] / med[W_GREP], nat, xn);
    NATIVE(N_LIKE, MS, "ms");
    snprintf(xn, sizeof xn, native ? "%.2fx" : "-", native ? med[S_NOPUSH] / med[N_LIKE] : 0.0);
    printf("%-44s %9.1f ms %13s %5.1f ms %8.2fx %12s %9s\n", "  the LIKE without pushdown (+line)",
           MS(med[S_NOPUSH]), "grep -c ERROR", MS(med[W_GREP]), med[S_NOPUSH] / med[W_GREP], nat, xn);
    NATIVE(N_EQ, US, "us");
    snprintf(xn, sizeof xn, native ? "%.2fx" : "-", native ? med[S_EQ] / med[N_EQ] : 0.0);
    printf("%-44s %9.1f us %22s %9s %12s %9s\n", "rowid = middle (index built)", US(med[S_EQ]),
           "-", "-", nat, xn);
    NATIVE(N_RANGE, US, "us");
    snprintf(xn, sizeof xn, native ? "%.2fx" : "-", native ? med[S_RANGE] / med[N_RANGE] : 0.0);
    printf("%-44s %9.1f us %22s %9s %12s %9s\n", "rowid BETWEEN middle AND middle+10",
           US(med[S_RANGE]), "-", "-", nat, xn);
    printf("%-44s %9.1f ms %22s %9s %12s %9s\n", "  rowid query that builds the index",
           MS(med[S_INDEX]), "-", "-", "-", "-");
    printf("%-44s %9.1f ms %13s %5.1f ms %8.2fx %12s %9s\n", "C: memchr newline count, raw mapping",
           MS(med[C_RAW]), "wc -l", MS(med[W_WC]), med[C_RAW] / med[W_WC], "-", "-");
    printf("%-44s %9.1f ms %13s %5.1f ms %8.2fx %12s %9s\n", "C: the same over 256 KiB guarded copies",
           MS(med[C_GUARD]), "wc -l", MS(med[W_WC]), med[C_GUARD] / med[W_WC], "-", "-");
    printf("  (x base = membase time / baseline time; x native = membase time / native table time;\n"
           "   the C rows are no SQL: the guarded copies cost %.1f ms per GiB over the raw mapping,\n"
           "   SQLite's per-row work in count(*) costs %.0f ns per line over the guarded scan)\n",
           MS(med[C_GUARD] - med[C_RAW]) * (double)MIB * 1024.0 / (double)fsize,
           (med[S_COUNT] - med[C_GUARD]) * 1e9 / (double)nlines);
    printf("\ntargets (reported, not asserted)\n");
    printf("  count(*) within 2x of wc -l              %6.3fx  %s\n", med[S_COUNT] / med[W_WC],
           med[S_COUNT] / med[W_WC] <= 2.0 ? "PASS" : "MISS");
    printf("  LIKE '%%ERROR%%' within 2x of grep -c      %6.3fx  %s\n", med[S_LIKE] / med[W_GREP],
           med[S_LIKE] / med[W_GREP] <= 2.0 ? "PASS" : "MISS");
    double worst = med[S_EQ] > med[S_RANGE] ? med[S_EQ] : med[S_RANGE];
    printf("  rowid lookup under 1 ms once indexed     %6.1f us  %s\n", US(worst),
           worst < 1e-3 ? "PASS" : "MISS");
    printf("\n%s\n", bad ? "CHECK FAILED: some count disagrees (see above)" :
           "all counts agree (wc -l = count(*), grep -c = LIKE = GLOB, native = membase)");

    sqlite3_finalize(q_count); sqlite3_finalize(q_like); sqlite3_finalize(q_glob);
    sqlite3_finalize(q_nopush); sqlite3_finalize(q_eq); sqlite3_finalize(q_range);
    if (native) {
        sqlite3_finalize(n_count); sqlite3_finalize(n_like); sqlite3_finalize(n_glob);
        sqlite3_finalize(n_eq); sqlite3_finalize(n_range);
        sqlite3_close(nd);
        unlink(natpath);
    }
    mb_registry_release(m);
    sqlite3_close(db);
    for (int i = 0; i < NFIG; i++) free(fig[i]);
    free(lk);
    free(gbuf);
    return bad ? 2 : 0;
}
