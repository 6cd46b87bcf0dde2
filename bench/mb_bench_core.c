/*
** mb_bench_core.c -- the core benchmark: the mapping core against standard
** I/O, doing identical work on a file that is in the page cache, and then
** (the cold section) on a file that is not.
**
** Usage
**   mb_bench_core [--size MiB] [--file PATH] [--reps N] [--reads N] [--quick]
**                 [--keep-cache] [--verbose]
**                 [--cold-size MiB] [--cold-file PATH] [--cold-reps N] [--no-cold]
**
**   --size MiB   size of the generated test file (default 1024 = 1 GiB)
**   --file PATH  the test file; generated there if absent (default
**                $TMPDIR/mb_bench_core_<size>MiB.dat, kept for reuse)
**   --reps N     repetitions of every figure; each figure is the median
**                (default 5)
**   --reads N    random 8-byte reads per repetition (default 10000000)
**   --quick      CI mode: 256 MiB, 3 reps, 2000000 random reads (any
**                option given explicitly wins)
**   --keep-cache do not drop the file's cached pages before priming (by
**                default they are dropped and read back, so the cache is
**                always laid out as read from disk; see main())
**   --verbose    also print the time of every repetition
**   --cold-size MiB  size of the cold section's file (default 512, --quick
**                128): smaller than the warm file because every repetition
**                of every cold variant reads it from the device again
**   --cold-file PATH the cold section's file; generated there if absent
**                (default $TMPDIR/mb_bench_core_<cold-size>MiB.dat)
**   --cold-reps N    repetitions of every cold figure (default: --reps;
**                --quick: 2)
**   --no-cold    skip the cold section
**   Or run everything with: bash bench/run.sh [options]
**
** The work. Every sequential variant sums EVERY 8-byte word of the file
** into a wrapping uint64 with the same function, sum_words(), and must
** produce the same checksum as the priming pass; every random variant reads
** the same 8-byte words at the same xorshift64 sequence of 8-aligned
** offsets and must produce the same sum. A wrong checksum fails the run
** (BAD in the table, exit 2): a variant that skipped work has no figure.
**
** Sequential variants
**   read() 4 KiB      open, read() into a 4 KiB buffer, sum it, close. The
**                     baseline for "x read4K".
**   read() 64 KiB     the same with 64 KiB.
**   fresh map, <how>  mb_map_open + mb_map_populate(how) + first-touch sum +
**                     mb_map_close, every repetition, all inside the time:
**                     none, willneed, populate_read, map_populate, touch,
**                     and the MB_MAP_POPULATE open flag (whatever
**                     MB_POP_DEFAULT resolves to).
**   fresh map, scan   mb_map_open + mb_scan_init, then the sum in steps of
**                     window/8 with mb_scan_advance before each step.
**   warm map          one map opened and touched before the reps: sum again.
**   RAM buffer        an aligned malloc + memcpy of the file, given huge
**                     pages where the OS has them: the physical limit.
** Random variants (ns per read, ratio vs pread)
**   pread()           one pread of 8 bytes per offset.
**   warm map          a load from the warm map per offset.
**   fresh map         mb_map_open (no populate) + the loads + close, each rep:
**                     cold page tables, every page faulted in on first use.
**   warm map, chained each offset depends on the word read before (the
**                     dependency is through a zero mask, so the offsets stay
**                     the same): pure latency, no overlapping of misses.
**   RAM buffer        the same loads from the RAM copy.
** Faults are getrusage(RUSAGE_SELF) deltas: "setup" is open + populate,
** "run" is the summing (first touch for fresh maps).
**
** Cold section (Linux; runs after the warm reps, with the warm map closed)
**   Before EVERY repetition of every cold variant the file is evicted from
**   the page cache (fdatasync + POSIX_FADV_DONTNEED on the whole file; no map
**   of it is open then, since DONTNEED leaves mapped pages alone) and
**   mincore must show < 1% of it resident (the measured residency is
**   printed; a rep that stayed warmer is flagged WARM). Then, timed: open +
**   populate + sum every word + close, as above. Variants: read() 64 KiB
**   (the cold baseline), read() 4 KiB, fresh map with none, willneed,
**   populate_read, map_populate, and the scanner's prefetch-ahead with
**   willneed and with populate_read. Each fresh-map row also shows how much
**   of the view was PMD-mapped after the sum (smaps, read outside the
**   timing): read-ahead that builds 4 KiB page-cache folios cannot be.
**   Populate guarantee: for each populate method, once per cold rep, on an
**   evicted file: populate alone, then the resident fraction (mincore, at
**   once and after it stops growing), then the faults taken by touching one
**   byte per page -- whether the method really brings the whole file in, so
**   that no fault is left for later.
**   (On a VM the "device" may itself be cached by the host: the cold figures
**   are then those of this machine's storage stack, not of a disk.)
**
** Targets (reported, never asserted: the exit status ignores them)
**   warm map sequential >= 0.85 x RAM buffer
**   warm map sequential >= 9.4 x read() 4 KiB
**   warm map random     >= 3.8 x pread()
*/
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "mb_map.h"

/* ------------------------------------------------------------------ */
/* Keeping the compiler honest                                        */
/* ------------------------------------------------------------------ */
#if defined(__GNUC__) || defined(__clang__)
#define NOINLINE __attribute__((noinline))
/* The compiler may not move memory accesses across this point nor assume
** memory unchanged: timing brackets stay around the work. */
#define BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define NOINLINE
#define BARRIER() ((void)0)
#endif

/* Every result ends here, so no sum is dead code. */
static volatile uint64_t g_sink;
/* Always 0, but the compiler cannot know: see rand_sum_mem_chained. */
static volatile uint64_t g_zero;

#define MIB (1024ull * 1024ull)

/* An 8-byte load from any address, without aliasing or alignment UB; it
** compiles to one mov. */
static inline uint64_t load8(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* The one summing loop of every sequential variant: all 8-byte words of
** [p, p+len), len a multiple of 8. Eight accumulators so that the loop is
** bound by memory, not by the latency of one add chain (it runs well above
** DRAM speed from L1/L2); unsigned wrapping makes the order of the adds
** irrelevant to the result. */
NOINLINE static uint64_t sum_words(const void *p, size_t len) {
    const unsigned char *b = p;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        a0 += load8(b + i);      a1 += load8(b + i + 8);
        a2 += load8(b + i + 16); a3 += load8(b + i + 24);
        a4 += load8(b + i + 32); a5 += load8(b + i + 40);
        a6 += load8(b + i + 48); a7 += load8(b + i + 56);
    }
    for (; i + 8 <= len; i += 8) a0 += load8(b + i);
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

/* xorshift64 (Marsaglia 13/7/17): the random offsets and the file's words. */
static inline uint64_t xorshift64(uint64_t x) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

#define FILE_SEED 0x9E3779B97F4A7C15ull
#define RAND_SEED 0x2545F4914F6CDD1Dull

/* Random 8-byte loads; the offsets do not depend on the data, so the CPU
** may overlap several misses (as any reader of independent keys would). */
NOINLINE static uint64_t rand_sum_mem(const unsigned char *base, uint64_t nwords,
                                      uint64_t n, uint64_t seed) {
    uint64_t x = seed, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        x = xorshift64(x);
        uint64_t v = load8(base + (x % nwords) * 8);
        acc += v;
    }
    return acc;
}

/* The same loads, each made to wait for the previous one: x ^= v & zero
** leaves the sequence unchanged but is a true data dependency. */
NOINLINE static uint64_t rand_sum_mem_chained(const unsigned char *base, uint64_t nwords,
                                              uint64_t n, uint64_t seed, uint64_t zero) {
    uint64_t x = seed, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        x = xorshift64(x);
        uint64_t v = load8(base + (x % nwords) * 8);
        acc += v;
        x ^= v & zero;
    }
    return acc;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3), noreturn))
#endif
static void die(int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mb_bench_core: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (err) fprintf(stderr, ": %s", strerror(err));
    fprintf(stderr, "\n");
    exit(1);
}

static void die_mb(const char *what, int rc) {
    fprintf(stderr, "mb_bench_core: %s: %s (os error %d: %s)\n", what, mb_strerror(rc),
            mb_last_oserror(), strerror(mb_last_oserror()));
    exit(1);
}

NOINLINE static uint64_t rand_sum_pread(int fd, uint64_t nwords, uint64_t n, uint64_t seed) {
    uint64_t x = seed, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        x = xorshift64(x);
        uint64_t v;
        if (pread(fd, &v, 8, (off_t)((x % nwords) * 8)) != 8) die(errno, "pread");
        acc += v;
    }
    return acc;
}

/* ------------------------------------------------------------------ */
/* Clocks and counters                                                */
/* ------------------------------------------------------------------ */
static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct faults { uint64_t minor, major, nivcsw; } faults;

static faults faults_now(void) {
    struct rusage ru;
    faults f = {0, 0, 0};
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        f.minor = (uint64_t)ru.ru_minflt;
        f.major = (uint64_t)ru.ru_majflt;
        f.nivcsw = (uint64_t)ru.ru_nivcsw;
    }
    return f;
}

/* ------------------------------------------------------------------ */
/* Variants and samples                                               */
/* ------------------------------------------------------------------ */
typedef enum kind {
    K_READ,        /* read() with bufsize */
    K_FRESH,       /* fresh map + mb_map_populate(pop) (or open flags) */
    K_SCAN,        /* fresh map + scanner prefetch-ahead */
    K_WARM,        /* the warm map */
    K_RAM,         /* the RAM buffer */
    K_R_PREAD,     /* random: pread */
    K_R_WARM,      /* random: warm map */
    K_R_FRESH,     /* random: fresh map, no populate */
    K_R_CHAINED,   /* random: warm map, dependent loads */
    K_R_RAM        /* random: RAM buffer */
} kind;

typedef struct sample {
    double   total_ns;     /* everything the variant does */
    double   setup_ns;     /* open (+ populate) */
    double   close_ns;     /* close / unmap */
    uint64_t minflt_setup, minflt_run, majflt;
    uint64_t preempted;    /* involuntary context switches */
    uint64_t sum;
    double   resident;     /* cold section: fraction of the file in the page
                           ** cache just before the rep (mincore); else 0 */
    uint64_t huge_bytes;   /* cold section, fresh maps: bytes PMD-mapped after
                           ** the sum (smaps; read outside the timing) */
} sample;

typedef struct variant {
    const char *name;
    kind        k;
    size_t      bufsize;    /* K_READ */
    mb_populate pop;        /* K_FRESH, K_SCAN */
    unsigned    open_flags; /* K_FRESH */
    mb_populate used;       /* what mb_map_populate reported */
    uint64_t    requests;   /* K_SCAN: prefetch requests per run */
    uint64_t    skipped;    /* K_SCAN: windows found resident, not requested */
    sample     *s;          /* one per rep */
} variant;

typedef struct ctx {
    const char    *path;
    uint64_t       nbytes;     /* bytes summed: the file size rounded down to 8 */
    uint64_t       nwords;
    uint64_t       nreads;     /* random reads per rep */
    uint64_t       ref_seq;    /* reference sum of all words */
    uint64_t       ref_rand;   /* reference sum of the random words */
    mb_map        *warm;
    unsigned char *ram;
    unsigned char *buf;        /* read() buffer, the largest size */
    uint64_t       scan_window, scan_step;
    int            measure_huge; /* fresh maps: read smaps after the sum */
} ctx;

static int open_ro(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(errno, "open %s", path);
    return fd;
}

/* Sum the first c->nbytes of the file through read() with a `bufsize`
** buffer. Each buffer is filled completely before it is summed, so a short
** read can never split a word. */
static uint64_t read_sum(const ctx *c, int fd, unsigned char *buf, size_t bufsize) {
    uint64_t left = c->nbytes, acc = 0;
    while (left > 0) {
        size_t want = left < bufsize ? (size_t)left : bufsize, got = 0;
        while (got < want) {
            ssize_t r = read(fd, buf + got, want - got);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) die(errno, "read %s", c->path);
            if (r == 0) die(0, "read %s: file shrank during the run", c->path);
            got += (size_t)r;
        }
        acc += sum_words(buf, got);
        left -= got;
    }
    return acc;
}

static uint64_t huge_bytes_in(const void *lo_p, uint64_t len);

static void run_variant(const ctx *c, variant *v, sample *s) {
    memset(s, 0, sizeof *s);
    uint64_t sum = 0;
    double excluded = 0; /* ns of measurement inside the bracket, not timed */
    faults f0 = faults_now(), f1, f2;
    double t0, t1, t2, t3;
    BARRIER();
    t0 = now_ns();
    switch (v->k) {
    case K_READ: {
        int fd = open_ro(c->path);
        t1 = now_ns(); f1 = faults_now();
        sum = read_sum(c, fd, c->buf, v->bufsize);
        BARRIER();
        t2 = now_ns(); f2 = faults_now();
        close(fd);
        break;
    }
    case K_FRESH:
    case K_SCAN: {
        mb_map *m = NULL;
        mb_map_options opt = {0, 0, 0, 0};
        opt.flags = v->k == K_FRESH ? v->open_flags : 0;
        int rc = mb_map_open(c->path, &opt, &m);
        if (rc != MB_OK) die_mb("mb_map_open", rc);
        if (v->k == K_FRESH && !(v->open_flags & MB_MAP_POPULATE)) {
            rc = mb_map_populate(m, 0, 0, v->pop, &v->used);
            if (rc != MB_OK) die_mb("mb_map_populate", rc);
        }
        BARRIER();
        t1 = now_ns(); f1 = faults_now();
        const unsigned char *data = mb_map_data(m);
        if (v->k == K_FRESH) {
            sum = sum_words(data, (size_t)c->nbytes);
        } else {
            mb_scan sc;
            mb_scan_init(&sc, m, c->scan_window, v->pop);
            for (uint64_t pos = 0; pos < c->nbytes; pos += c->scan_step) {
                rc = mb_scan_advance(&sc, pos);
                if (rc != MB_OK) die_mb("mb_scan_advance", rc);
                uint64_t n = c->nbytes - pos < c->scan_step ? c->nbytes - pos : c->scan_step;
                sum += sum_words(data + pos, (size_t)n);
            }
            v->used = sc.how;
            v->requests = sc.requests;
            v->skipped = sc.skipped;
        }
        BARRIER();
        t2 = now_ns(); f2 = faults_now();
        if (c->measure_huge) {
            /* How the sum found the file mapped: small page-cache folios
            ** (PTEs) or large ones (PMDs). Read before close, not timed. */
            s->huge_bytes = huge_bytes_in(data, c->nbytes);
            excluded = now_ns() - t2;
        }
        mb_map_close(m);
        break;
    }
    case K_WARM:
    case K_RAM: {
        const unsigned char *data = v->k == K_WARM ? mb_map_data(c->warm) : c->ram;
        t1 = t0; f1 = f0;
        sum = sum_words(data, (size_t)c->nbytes);
        BARRIER();
        t2 = now_ns(); f2 = faults_now();
        break;
    }
    case K_R_PREAD: {
        int fd = open_ro(c->path);
        t1 = now_ns(); f1 = faults_now();
        sum = rand_sum_pread(fd, c->nwords, c->nreads, RAND_SEED);
        BARRIER();
        t2 = now_ns(); f2 = faults_now();
        close(fd);
        break;
    }
    case K_R_FRESH: {
        mb_map *m = NULL;
        int rc = mb_map_open(c->path, NULL, &m);
        if (rc != MB_OK) die_mb("mb_map_open", rc);
        BARRIER();
        t1 = now_ns(); f1 = faults_now();
        sum = rand_sum_mem(mb_map_data(m), c->nwords, c->nreads, RAND_SEED);
        BARRIER();
        t2 = now_ns(); f2 = faults_now();
        mb_map_close(m);
        break;
    }
    case K_R_WARM:
    case K_R_RAM:
    case K_R_CHAINED: {
        const unsigned char *data = v->k == K_R_RAM ? c->ram : mb_map_data(c->warm);
        t1 = t0; f1 = f0;
        if (v->k == K_R_CHAINED)
            sum = rand_sum_mem_chained(data, c->nwords, c->nreads, RAND_SEED, g_zero);
        else
            sum = rand_sum_mem(data, c->nwords, c->nreads, RAND_SEED);
        BARRIER();
        t2 = now_ns(); f2 = faults_now();
        break;
    }
    default:
        abort();
    }
    BARRIER();
    t3 = now_ns();
    faults f3 = faults_now();
    g_sink += sum;
    s->sum = sum;
    s->total_ns = t3 - t0 - excluded;
    s->setup_ns = t1 - t0;
    s->close_ns = t3 - t2 - excluded;
    s->minflt_setup = f1.minor - f0.minor;
    s->minflt_run = f2.minor - f1.minor;
    s->majflt = f3.major - f0.major;
    s->preempted = f3.nivcsw - f0.nivcsw;
}

/* ------------------------------------------------------------------ */
/* Medians                                                            */
/* ------------------------------------------------------------------ */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n doubles (n <= 256); the array is sorted in place. */
static double median_of(double *a, int n) {
    if (n <= 0) return 0;
    qsort(a, (size_t)n, sizeof a[0], cmp_double);
    return n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

typedef enum field { F_TOTAL, F_SETUP, F_CLOSE, F_MIN_SETUP, F_MIN_RUN, F_MAJ, F_HUGE } field;

static double field_of(const sample *s, field f) {
    switch (f) {
    case F_TOTAL:     return s->total_ns;
    case F_SETUP:     return s->setup_ns;
    case F_CLOSE:     return s->close_ns;
    case F_MIN_SETUP: return (double)s->minflt_setup;
    case F_MIN_RUN:   return (double)s->minflt_run;
    case F_MAJ:       return (double)s->majflt;
    case F_HUGE:      return (double)s->huge_bytes;
    }
    return 0;
}

static double median(const variant *v, int reps, field f) {
    double tmp[256];
    int n = reps < 256 ? reps : 256;
    for (int i = 0; i < n; i++) tmp[i] = field_of(&v->s[i], f);
    qsort(tmp, (size_t)n, sizeof tmp[0], cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static double fastest(const variant *v, int reps) {
    double lo = v->s[0].total_ns;
    for (int i = 1; i < reps; i++)
        if (v->s[i].total_ns < lo) lo = v->s[i].total_ns;
    return lo;
}

static double slowest(const variant *v, int reps) {
    double hi = v->s[0].total_ns;
    for (int i = 1; i < reps; i++)
        if (v->s[i].total_ns > hi) hi = v->s[i].total_ns;
    return hi;
}

/* (max - min) / median of the total time, in percent. */
static double spread(const variant *v, int reps) {
    double lo = v->s[0].total_ns, hi = lo;
    for (int i = 1; i < reps; i++) {
        if (v->s[i].total_ns < lo) lo = v->s[i].total_ns;
        if (v->s[i].total_ns > hi) hi = v->s[i].total_ns;
    }
    return 100.0 * (hi - lo) / median(v, reps, F_TOTAL);
}

/* ------------------------------------------------------------------ */
/* The test file                                                      */
/* ------------------------------------------------------------------ */
/* The generator's sum over the first nwords words, without the file. */
static uint64_t generator_sum(uint64_t nwords) {
    uint64_t x = FILE_SEED, acc = 0;
    for (uint64_t i = 0; i < nwords; i++) {
        x = xorshift64(x);
        acc += x;
    }
    return acc;
}

/* Write `bytes` of deterministic pseudo-random 8-byte words to path (via a
** temporary name, so an interrupted run leaves no half file), then fsync so
** no write-back runs while we measure. */
static void generate_file(const char *path, uint64_t bytes) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp) die(0, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die(errno, "create %s", tmp);
    const size_t chunk = 1 << 20;
    uint64_t *w = malloc(chunk);
    if (!w) die(0, "out of memory");
    uint64_t x = FILE_SEED, left = bytes;
    while (left > 0) {
        size_t n = left < chunk ? (size_t)left : chunk;
        for (size_t i = 0; i < n / 8; i++) {
            x = xorshift64(x);
            w[i] = x;
        }
        size_t done = 0;
        while (done < n) {
            ssize_t r = write(fd, (unsigned char *)w + done, n - done);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) die(errno, "write %s", tmp);
            done += (size_t)r;
        }
        left -= n;
    }
    if (fsync(fd) != 0) die(errno, "fsync %s", tmp);
    if (close(fd) != 0) die(errno, "close %s", tmp);
    if (rename(tmp, path) != 0) die(errno, "rename to %s", path);
    free(w);
    free(tmp);
}

/* Reuse `file` if it is there (and, for the default name, of the right
** size), else generate it. Returns how it came to be; *size_out its size. */
static const char *prepare_file(const char *file, uint64_t size_mib, int default_file,
                                uint64_t *size_out) {
    const char *origin = "reused";
    struct stat st;
    int have = stat(file, &st) == 0;
    if (have && !S_ISREG(st.st_mode)) die(0, "%s is not a regular file", file);
    if (have && default_file && (uint64_t)st.st_size != size_mib * MIB) have = 0;
    if (!have) {
        fprintf(stderr, "generating %s (%" PRIu64 " MiB)...\n", file, size_mib);
        generate_file(file, size_mib * MIB);
        origin = "generated now (xorshift64 words, fsync'd)";
        if (stat(file, &st) != 0) die(errno, "stat %s", file);
    }
    *size_out = (uint64_t)st.st_size;
    return origin;
}


/* Fraction of the file's pages in the page cache (mincore), or -1. */
static double resident_fraction(const char *path, uint64_t bytes) {
    int fd = open_ro(path);
    void *p = mmap(NULL, (size_t)bytes, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return -1;
    size_t page = mb_page_size(), npages = (size_t)((bytes + page - 1) / page);
    unsigned char *vec = malloc(npages);
    double frac = -1;
    if (vec && mincore(p, (size_t)bytes, (void *)vec) == 0) {
        size_t in = 0;
        for (size_t i = 0; i < npages; i++) in += vec[i] & 1;
        frac = (double)in / (double)npages;
    }
    free(vec);
    munmap(p, (size_t)bytes);
    return frac;
}

/* Write back and drop the file's cached pages (Linux; elsewhere a no-op).
** Returns the fraction still resident afterwards: pages that another
** process maps, or that are dirty, stay. */
static double drop_cache(const char *path, uint64_t bytes) {
#if defined(__linux__)
    int fd = open_ro(path);
    (void)fdatasync(fd); /* dirty pages cannot be dropped */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
#endif
    return resident_fraction(path, bytes);
}

/* ------------------------------------------------------------------ */
/* The machine                                                        */
/* ------------------------------------------------------------------ */
static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
}

static void cpu_model(char *out, size_t n) {
    snprintf(out, n, "unknown");
#if defined(__linux__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t') colon++;
                snprintf(out, n, "%s", colon);
                trim(out);
            }
            break;
        }
    }
    fclose(f);
#elif defined(__APPLE__)
    size_t len = n;
    if (sysctlbyname("machdep.cpu.brand_string", out, &len, NULL, 0) != 0)
        snprintf(out, n, "unknown");
#endif
}

/* First line of a small file (e.g. a sysfs setting), or "n/a". */
static void first_line(const char *path, char *out, size_t n) {
    snprintf(out, n, "n/a");
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)n, f)) trim(out);
    else snprintf(out, n, "n/a");
    fclose(f);
}

/* Running DAMON monitors, if any. Its access sampling clears the accessed
** bits of the page-table entries that map sampled folios, which makes the
** next pass over a warm mapping of PTE-mapped large folios visibly slower;
** so the table says whether it is there. */
static void damon_summary(char *out, size_t n) {
    snprintf(out, n, "none running");
#if defined(__linux__)
    size_t used = 0;
    for (int i = 0; i < 16; i++) {
        char path[160], state[32], ops[32], us[32], action[32];
        snprintf(path, sizeof path, "/sys/kernel/mm/damon/admin/kdamonds/%d/state", i);
        first_line(path, state, sizeof state);
        if (strcmp(state, "on") != 0) continue;
        snprintf(path, sizeof path, "/sys/kernel/mm/damon/admin/kdamonds/%d/contexts/0/operations", i);
        first_line(path, ops, sizeof ops);
        snprintf(path, sizeof path,
                 "/sys/kernel/mm/damon/admin/kdamonds/%d/contexts/0/monitoring_attrs/intervals/sample_us", i);
        first_line(path, us, sizeof us);
        snprintf(path, sizeof path, "/sys/kernel/mm/damon/admin/kdamonds/%d/contexts/0/schemes/0/action", i);
        first_line(path, action, sizeof action);
        int w = snprintf(out + used, n - used, "%skdamond %d on (%s, sample every %s us, scheme %s)",
                         used ? "; " : "", i, ops, us, action);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
#endif
}

static const char *fs_name(const char *path) {
#if defined(__linux__)
    struct statfs sf;
    if (statfs(path, &sf) != 0) return "unknown";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53ul:     return "ext4";
    case 0x58465342ul: return "xfs";
    case 0x9123683Eul: return "btrfs";
    case 0x01021994ul: return "tmpfs";
    case 0x794C7630ul: return "overlayfs";
    case 0x2FC12FC1ul: return "zfs";
    case 0x6969ul:     return "nfs";
    case 0xF2F52010ul: return "f2fs";
    default:           return "other";
    }
#else
    (void)path;
    return "n/a";
#endif
}

/* Bytes of [lo, hi) that smaps shows backed by huge pages (anonymous or
** file PMD mappings); 0 where there is no smaps. */
static uint64_t huge_bytes_in(const void *lo_p, uint64_t len) {
    uint64_t bytes = 0;
#if defined(__linux__)
    uintptr_t lo = (uintptr_t)lo_p, hi = lo + (uintptr_t)len;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[512];
    int inside = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        unsigned long long kb;
        char key[64];
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = a < hi && b > lo;
            continue;
        }
        if (inside && sscanf(line, "%63[^:]: %llu kB", key, &kb) == 2 &&
            (strcmp(key, "AnonHugePages") == 0 || strcmp(key, "FilePmdMapped") == 0))
            bytes += kb * 1024;
    }
    fclose(f);
#else
    (void)lo_p; (void)len;
#endif
    return bytes;
}

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */
static void usage(FILE *f) {
    fprintf(f, "usage: mb_bench_core [--size MiB] [--file PATH] [--reps N] [--reads N] [--quick]\n"
               "                     [--keep-cache] [--verbose]\n"
               "                     [--cold-size MiB] [--cold-file PATH] [--cold-reps N] [--no-cold]\n"
               "  --size MiB   generated file size (default 1024)\n"
               "  --file PATH  test file, generated if absent (default $TMPDIR/mb_bench_core_<size>MiB.dat)\n"
               "  --reps N     repetitions, figures are medians (default 5)\n"
               "  --reads N    random 8-byte reads per repetition (default 10000000)\n"
               "  --quick      256 MiB, 3 reps, 2000000 reads (explicit options win)\n"
               "  --keep-cache do not drop the file's cached pages before the priming read\n"
               "  --verbose    also print every repetition's time\n"
               "  --cold-size MiB  cold section's file size (default 512, --quick 128)\n"
               "  --cold-file PATH cold section's file, generated if absent\n"
               "                   (default $TMPDIR/mb_bench_core_<cold-size>MiB.dat)\n"
               "  --cold-reps N    cold repetitions (default: --reps; --quick 2)\n"
               "  --no-cold    skip the cold section (evict + re-read before every rep)\n");
}

static uint64_t parse_u64(const char *opt, const char *s) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s ? s : "", &end, 10);
    if (!s || !*s || *end || errno || v == 0) {
        fprintf(stderr, "mb_bench_core: %s wants a positive integer, not \"%s\"\n", opt, s ? s : "");
        usage(stderr);
        exit(1);
    }
    return (uint64_t)v;
}

static const char *yesno_pass(int ok) { return ok ? "PASS" : "MISS"; }

/* ------------------------------------------------------------------ */
/* The cold section                                                   */
/* ------------------------------------------------------------------ */
#define COLD_MAX_RESIDENT 0.01 /* a rep starts with < 1% of the file cached */

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Evict the file from the page cache and return the fraction still resident
** (mincore). No map of the file may be open: DONTNEED leaves mapped pages
** alone. Retries a few times while >= 1% stays (write-back or a reader in
** flight); the caller flags a rep that stayed warmer. *tries receives the
** number of attempts. */
static double evict(const char *path, uint64_t bytes, int *tries) {
    double res = drop_cache(path, bytes);
    int t = 1;
    while (t < 5 && !(res >= 0 && res < COLD_MAX_RESIDENT)) {
        sleep_ms(20L * t);
        res = drop_cache(path, bytes);
        t++;
    }
    *tries = t;
    return res;
}

/* One byte read from every page of [p, p+len): the "later use" that a
** populate is meant to have made fault-free. */
NOINLINE static uint64_t touch_each_page(const unsigned char *p, uint64_t len, size_t page) {
    uint64_t acc = 0;
    for (uint64_t off = 0; off < len; off += page) acc += p[off];
    return acc;
}

typedef struct gsample {
    double   resident_before;      /* after eviction */
    double   populate_ns, touch_ns;
    double   resident_after;       /* right after the populate call */
    double   resident_settled;     /* once it stopped growing */
    uint64_t minflt_pop, majflt_pop, minflt_touch, majflt_touch;
    uint64_t preempted;            /* involuntary context switches, whole rep */
} gsample;

typedef struct guarantee {
    mb_populate how, used;
    gsample    *r;                 /* one per rep */
} guarantee;

enum { CV_READ64K = 0, CV_READ4K, CV_NONE, CV_WILLNEED, CV_POPREAD, CV_MAPPOP, CV_SCAN_WN,
       CV_SCAN_PR, CV_N };
enum { CG_N = 6 };

typedef struct cold {
    ctx         c;             /* the cold file; shares the read() buffer */
    uint64_t    fsize;
    const char *origin, *content;
    int         reps, bad, evict_retries;
    double      res_max, res_sum;  /* residency measured before the reps */
    int         res_n, warm_reps;  /* reps measured; reps that stayed >= 1% */
    double      t_run, load_before, load_after;
    uint64_t    preempted;
    char        ra_kb[64];     /* read_ahead_kb of the file's device */
    variant     v[CV_N];
    guarantee   g[CG_N];
} cold;

/* read_ahead_kb of the block device holding `path` (whole disk or the
** disk of a partition), or "n/a". */
static void read_ahead_of(const char *path, char *out, size_t n) {
    snprintf(out, n, "n/a");
#if defined(__linux__)
    struct stat st;
    if (stat(path, &st) != 0) return;
    char p[160];
    snprintf(p, sizeof p, "/sys/dev/block/%u:%u/queue/read_ahead_kb", major(st.st_dev),
             minor(st.st_dev));
    first_line(p, out, n);
    if (strcmp(out, "n/a") != 0) return;
    snprintf(p, sizeof p, "/sys/dev/block/%u:%u/../queue/read_ahead_kb", major(st.st_dev),
             minor(st.st_dev));
    first_line(p, out, n);
#else
    (void)path;
#endif
}

/* The cold file: reuse or generate, then one read() pass for the reference
** checksum (the file is evicted again before every rep). */
static void cold_setup(cold *k, const ctx *warm, const char *file, int default_file,
                       uint64_t size_mib, int reps) {
    static const variant tmpl[CV_N] = {
        {"cold read() 64 KiB buffer [baseline]", K_READ, 65536, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"cold read() 4 KiB buffer", K_READ, 4096, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"cold fresh map, none", K_FRESH, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"cold fresh map, willneed", K_FRESH, 0, MB_POP_WILLNEED, 0, MB_POP_NONE, 0, 0, NULL},
        {"cold fresh map, populate_read", K_FRESH, 0, MB_POP_POPULATE_READ, 0, MB_POP_NONE, 0, 0, NULL},
        {"cold fresh map, map_populate", K_FRESH, 0, MB_POP_MAP_POPULATE, 0, MB_POP_NONE, 0, 0, NULL},
        {"cold fresh map, scan-ahead willneed", K_SCAN, 0, MB_POP_WILLNEED, 0, MB_POP_NONE, 0, 0, NULL},
        {"cold fresh map, scan-ahead populate_read", K_SCAN, 0, MB_POP_POPULATE_READ, 0, MB_POP_NONE, 0, 0,
         NULL},
    };
    static const mb_populate gm[CG_N] = {MB_POP_NONE, MB_POP_WILLNEED, MB_POP_POPULATE_READ,
                                         MB_POP_MAP_POPULATE, MB_POP_TOUCH, MB_POP_DEFAULT};
    memset(k, 0, sizeof *k);
    k->c = *warm;
    k->c.warm = NULL;
    k->c.ram = NULL;
    k->c.measure_huge = 1;
    k->reps = reps;
    k->origin = prepare_file(file, size_mib, default_file, &k->fsize);
    if (k->fsize < 8) die(0, "%s is shorter than one 8-byte word", file);
    k->c.path = file;
    k->c.nbytes = k->fsize & ~7ull;
    k->c.nwords = k->c.nbytes / 8;
    {
        int fd = open_ro(file);
        k->c.ref_seq = read_sum(&k->c, fd, k->c.buf, 1 << 20);
        close(fd);
    }
    k->content = "foreign file: reference = a full read() pass";
    if (k->fsize % 8 == 0) {
        if (generator_sum(k->c.nwords) == k->c.ref_seq) k->content = "matches the generator";
        else if (default_file) die(0, "%s does not hold the generator's words; delete it", file);
    }
    read_ahead_of(file, k->ra_kb, sizeof k->ra_kb);
    for (int i = 0; i < CV_N; i++) {
        k->v[i] = tmpl[i];
        k->v[i].s = calloc((size_t)reps, sizeof(sample));
        if (!k->v[i].s) die(0, "out of memory");
    }
    for (int i = 0; i < CG_N; i++) {
        k->g[i].how = gm[i];
        k->g[i].r = calloc((size_t)reps, sizeof(gsample));
        if (!k->g[i].r) die(0, "out of memory");
    }
}

/* Populate alone on the evicted file, then mincore, then one byte per page. */
static void run_guarantee(cold *k, guarantee *g, gsample *gs) {
    int tries;
    gs->resident_before = evict(k->c.path, k->fsize, &tries);
    k->evict_retries += tries - 1;
    mb_map *m = NULL;
    int rc = mb_map_open(k->c.path, NULL, &m);
    if (rc != MB_OK) die_mb("mb_map_open (cold)", rc);
    faults f0 = faults_now();
    double t0 = now_ns();
    rc = mb_map_populate(m, 0, 0, g->how, &g->used);
    if (rc != MB_OK) die_mb("mb_map_populate (cold)", rc);
    BARRIER();
    double t1 = now_ns();
    faults f1 = faults_now();
    gs->resident_after = resident_fraction(k->c.path, k->fsize);
    /* mincore counts only pages whose read has completed, so an asynchronous
    ** method (willneed) shows little at once: wait until the residency stops
    ** growing (two equal polls 20 ms apart, at most 2 s) to see how much it
    ** brings in at all. The touch below comes after that wait. */
    {
        double prev = gs->resident_after;
        gs->resident_settled = prev;
        for (int i = 0; i < 100; i++) {
            sleep_ms(20);
            double cur = resident_fraction(k->c.path, k->fsize);
            gs->resident_settled = cur;
            if (cur == prev) break;
            prev = cur;
        }
    }
    faults f2 = faults_now();
    double t2 = now_ns();
    g_sink += touch_each_page(mb_map_data(m), mb_map_size(m), mb_page_size());
    BARRIER();
    double t3 = now_ns();
    faults f3 = faults_now();
    mb_map_close(m);
    gs->populate_ns = t1 - t0;
    gs->touch_ns = t3 - t2;
    gs->minflt_pop = f1.minor - f0.minor;
    gs->majflt_pop = f1.major - f0.major;
    gs->minflt_touch = f3.minor - f2.minor;
    gs->majflt_touch = f3.major - f2.major;
    gs->preempted = f3.nivcsw - f0.nivcsw;
}

static void cold_run(cold *k) {
    double lb[1] = {-1}, la[1] = {-1};
    (void)getloadavg(lb, 1);
    double t_start = now_ns();
    k->res_max = 0;
    for (int r = 0; r < k->reps; r++) {
        fprintf(stderr, "cold rep %d/%d...\n", r + 1, k->reps);
        for (int i = 0; i < CV_N; i++) {
            variant *v = &k->v[i];
            int tries;
            double res = evict(k->c.path, k->fsize, &tries);
            k->evict_retries += tries - 1;
            run_variant(&k->c, v, &v->s[r]);
            v->s[r].resident = res;
            if (res > k->res_max || res < 0) k->res_max = res < 0 ? 1 : res;
            k->res_sum += res < 0 ? 1 : res;
            k->res_n++;
            if (!(res >= 0 && res < COLD_MAX_RESIDENT)) k->warm_reps++;
            if (v->s[r].sum != k->c.ref_seq) {
                fprintf(stderr, "mb_bench_core: %s: checksum 0x%016" PRIx64 ", expected 0x%016" PRIx64 "\n",
                        v->name, v->s[r].sum, k->c.ref_seq);
                k->bad = 1;
            }
        }
    }
    for (int r = 0; r < k->reps; r++) {
        fprintf(stderr, "cold populate guarantee, rep %d/%d...\n", r + 1, k->reps);
        for (int i = 0; i < CG_N; i++) run_guarantee(k, &k->g[i], &k->g[i].r[r]);
    }
    k->t_run = (now_ns() - t_start) / 1e9;
    (void)getloadavg(la, 1);
    k->load_before = lb[0];
    k->load_after = la[0];
    for (int i = 0; i < CV_N; i++)
        for (int r = 0; r < k->reps; r++) k->preempted += k->v[i].s[r].preempted;
}

static double max_resident(const variant *v, int reps) {
    double hi = 0;
    for (int r = 0; r < reps; r++)
        if (v->s[r].resident > hi || v->s[r].resident < 0) hi = v->s[r].resident < 0 ? 1 : v->s[r].resident;
    return hi;
}

/* "a, x% faster than b (decisive or not)": decisive when the margin between
** the medians exceeds the larger spread of the two. */
static void print_margin(const cold *k, const char *what, int a, int b) {
    const variant *va = &k->v[a], *vb = &k->v[b];
    double ta = median(va, k->reps, F_TOTAL), tb = median(vb, k->reps, F_TOTAL);
    if (tb < ta) {
        const variant *tv = va; va = vb; vb = tv;
        double tt = ta; ta = tb; tb = tt;
    }
    double margin = 100.0 * (tb - ta) / ta;
    double noise = spread(va, k->reps) > spread(vb, k->reps) ? spread(va, k->reps) : spread(vb, k->reps);
    int apart = slowest(va, k->reps) < fastest(vb, k->reps);
    printf("  %s: %s, %.1f%% faster than %s\n    (%s: spreads %.1f%% and %.1f%%; %s)\n", what,
           va->name + 5, margin, vb->name + 5,
           margin > noise ? "DECISIVE, beyond the larger spread of the two" : "WITHIN the spread: not decisive",
           spread(va, k->reps), spread(vb, k->reps),
           apart ? "every rep of the winner beat every rep of the other"
                 : "their ranges of reps overlap");
}

static void cold_print(const cold *k, int verbose) {
    const int reps = k->reps;
    printf("\ncold page cache: the file is evicted before every rep of every variant\n");
    printf("  file         %s\n", k->c.path);
    printf("               %" PRIu64 " bytes (%.0f MiB) on %s, %s, content %s\n", k->fsize,
           (double)k->fsize / (double)MIB, fs_name(k->c.path), k->origin, k->content);
    printf("  eviction     fdatasync + POSIX_FADV_DONTNEED of the whole file with no map of it open;\n"
           "               resident (mincore) before a rep: max %.2f%%, mean %.2f%% over %d reps\n"
           "               (must be < %.0f%%: %d reps were not, flagged WARM); %d eviction retries\n",
           k->res_max * 100, k->res_n ? 100 * k->res_sum / k->res_n : 0.0, k->res_n,
           COLD_MAX_RESIDENT * 100, k->warm_reps, k->evict_retries);
    printf("  reps         %d, interleaved; every figure is the median; spread = (max-min)/median\n", reps);
    printf("  timing       open + populate + sum of every word + close; setup = open (+ populate)\n");
    printf("  device       read_ahead_kb %s; scanner window %" PRIu64 " KiB, advanced every %" PRIu64
           " KiB\n", k->ra_kb, k->c.scan_window / 1024, k->c.scan_step / 1024);
    printf("  run time     %.1f s (reps + guarantee); load average (1 min) %.2f before, %.2f after;\n"
           "               preempted %" PRIu64 " times (involuntary context switches)\n\n",
           k->t_run, k->load_before, k->load_after, k->preempted);

    double base = median(&k->v[CV_READ64K], reps, F_TOTAL);
    printf("%-42s %9s %6s %7s %8s %8s %7s %9s %9s %6s %6s %5s %s\n", "variant", "figure", "unit", "spread",
           "x base", "setup", "close", "minflt", "minflt", "majflt", "cold", "PMD", "check");
    printf("%-42s %9s %6s %7s %8s %8s %7s %9s %9s %6s %6s %5s %s\n", "", "(median)", "", "", "", "ms", "ms",
           "setup", "run", "", "resid", "MiB", "");
    for (int i = 0; i < CV_N; i++) {
        const variant *v = &k->v[i];
        double t = median(v, reps, F_TOTAL);
        int ok = 1;
        for (int r = 0; r < reps; r++)
            if (v->s[r].sum != k->c.ref_seq) ok = 0;
        double res = max_resident(v, reps);
        char pmd[16];
        if (v->k == K_READ) snprintf(pmd, sizeof pmd, "-");
        else snprintf(pmd, sizeof pmd, "%.0f", median(v, reps, F_HUGE) / (double)MIB);
        printf("%-42s %9.2f %6s %6.1f%% %7.2fx %8.1f %7.1f %9.0f %9.0f %6.0f %5.1f%% %5s %s\n", v->name,
               (double)k->c.nbytes / t, "GB/s", spread(v, reps), base / t,
               median(v, reps, F_SETUP) / 1e6, median(v, reps, F_CLOSE) / 1e6,
               median(v, reps, F_MIN_SETUP), median(v, reps, F_MIN_RUN), median(v, reps, F_MAJ),
               res * 100, pmd, !ok ? "BAD" : res >= COLD_MAX_RESIDENT ? "WARM" : "ok");
    }
    if (verbose) {
        printf("  per-rep total ms (involuntary context switches) [resident before]:\n");
        for (int i = 0; i < CV_N; i++) {
            printf("    %-40s", k->v[i].name);
            for (int r = 0; r < reps; r++)
                printf(" %8.1f(%" PRIu64 ")[%.1f%%]", k->v[i].s[r].total_ns / 1e6, k->v[i].s[r].preempted,
                       k->v[i].s[r].resident * 100);
            printf("\n");
        }
    }
    printf("  (x base = vs cold read() 64 KiB, higher is better; cold resid = the largest fraction\n"
           "   of the file found in the page cache just before a rep, after eviction; PMD MiB = how\n"
           "   much of the view 2 MiB entries mapped after the sum (smaps FilePmdMapped, read before\n"
           "   close and outside the timing): 4 KiB page-cache folios cannot be PMD-mapped)\n");
    for (int i = CV_NONE; i < CV_N; i++) {
        const variant *v = &k->v[i];
        if (v->k == K_FRESH && v->used != v->pop)
            printf("  note: %s fell back to %s\n", v->name, mb_populate_name(v->used));
        if (v->k == K_SCAN)
            printf("  note: %s used %s, %" PRIu64 " prefetch requests, %" PRIu64
                   " windows skipped as resident (last rep)\n", v->name, mb_populate_name(v->used),
                   v->requests, v->skipped);
    }

    /* ---- cold fresh-map strategies, fastest first ---- */
    int order[CV_N], no = 0;
    for (int i = CV_NONE; i < CV_N; i++) order[no++] = i;
    for (int a = 1; a < no; a++)
        for (int b = a; b > 0 && median(&k->v[order[b]], reps, F_TOTAL) <
                                 median(&k->v[order[b - 1]], reps, F_TOTAL); b--) {
            int t = order[b]; order[b] = order[b - 1]; order[b - 1] = t;
        }
    printf("\ncold fresh-map strategies (evict; open + populate + sum + close), fastest first\n");
    double best = median(&k->v[order[0]], reps, F_TOTAL);
    for (int j = 0; j < no; j++) {
        const variant *v = &k->v[order[j]];
        double t = median(v, reps, F_TOTAL);
        printf("  %d. %-40s %7.1f ms  %5.2f GB/s  %+6.1f%% vs the fastest  %5.2fx read() 64K"
               "  (reps %.1f-%.1f ms)\n",
               j + 1, v->name + 5, t / 1e6, (double)k->c.nbytes / t, 100.0 * (t - best) / best, base / t,
               fastest(v, reps) / 1e6, slowest(v, reps) / 1e6);
    }
    printf("  (for reference: read() 64 KiB %.1f ms, read() 4 KiB %.1f ms)\n", base / 1e6,
           median(&k->v[CV_READ4K], reps, F_TOTAL) / 1e6);
    print_margin(k, "fastest overall", order[0], order[1]);
    {
        /* populate methods proper (the MB_POP_DEFAULT candidates) */
        int pw = -1, ps = -1;
        for (int j = 0; j < no; j++) {
            if (k->v[order[j]].k != K_FRESH) continue;
            if (pw < 0) pw = order[j];
            else if (ps < 0) ps = order[j];
        }
        print_margin(k, "populate method that won", pw, ps);
    }
    print_margin(k, "scanner prefetch method that won", CV_SCAN_WN, CV_SCAN_PR);

    /* ---- populate guarantee ---- */
    printf("\npopulate guarantee (cold, %d reps per method, interleaved: evict, open, populate alone,\n"
           "then mincore, then read one byte of every page; the faults of that touch are what the\n"
           "populate left for later). Times and populate faults: medians; resident: the LOWEST of the\n"
           "reps; touch faults: the HIGHEST of the reps\n", reps);
    for (int i = 0; i < CG_N; i++) {
        const guarantee *g = &k->g[i];
        char name[64];
        if (g->how == MB_POP_DEFAULT)
            snprintf(name, sizeof name, "default (%s)", mb_populate_name(g->used));
        else if (g->used != g->how)
            snprintf(name, sizeof name, "%s (fell back to %s)", mb_populate_name(g->how),
                     mb_populate_name(g->used));
        else
            snprintf(name, sizeof name, "%s", mb_populate_name(g->how));
        double pop[256], touch[256], minp[256];
        double res_at = 1, res_set = 1, before = 0;
        uint64_t tmin = 0, tmaj = 0, pre = 0;
        for (int r = 0; r < reps; r++) {
            const gsample *gs = &g->r[r];
            pop[r] = gs->populate_ns;
            touch[r] = gs->touch_ns;
            minp[r] = (double)gs->minflt_pop;
            if (gs->resident_after < res_at) res_at = gs->resident_after;
            if (gs->resident_settled < res_set) res_set = gs->resident_settled;
            if (gs->resident_before > before) before = gs->resident_before;
            if (gs->minflt_touch > tmin) tmin = gs->minflt_touch;
            if (gs->majflt_touch > tmaj) tmaj = gs->majflt_touch;
            pre += gs->preempted;
        }
        printf("  %-24s populate %7.1f ms (%6.0f minflt); resident %5.1f%% at once, %5.1f%% settled;"
               " touch: %6" PRIu64 " minflt %4" PRIu64 " majflt %7.1f ms  [%.1f%% before; preempted %" PRIu64 "]\n",
               name, median_of(pop, reps) / 1e6, median_of(minp, reps), res_at * 100, res_set * 100,
               tmin, tmaj, median_of(touch, reps) / 1e6, before * 100, pre);
    }
    printf("  (%" PRIu64 " pages of %zu B; resident = pages read into the page cache (mincore) right\n"
           "   after the call, and once it stopped growing (polled every 20 ms); the touch comes after\n"
           "   that wait. A method leaves nothing for later only with 100%% at once and 0 touch faults)\n",
           (k->c.nbytes + mb_page_size() - 1) / mb_page_size(), mb_page_size());
}


int main(int argc, char **argv) {
    uint64_t size_mib = 0, reps_u = 0, nreads = 0, cold_mib = 0, cold_reps_u = 0;
    const char *file = NULL, *cold_file = NULL;
    int quick = 0, verbose = 0, keep_cache = 0, no_cold = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--size") == 0 && i + 1 < argc) size_mib = parse_u64(a, argv[++i]);
        else if (strcmp(a, "--file") == 0 && i + 1 < argc) file = argv[++i];
        else if (strcmp(a, "--reps") == 0 && i + 1 < argc) reps_u = parse_u64(a, argv[++i]);
        else if (strcmp(a, "--reads") == 0 && i + 1 < argc) nreads = parse_u64(a, argv[++i]);
        else if (strcmp(a, "--quick") == 0) quick = 1;
        else if (strcmp(a, "--verbose") == 0) verbose = 1;
        else if (strcmp(a, "--keep-cache") == 0) keep_cache = 1;
        else if (strcmp(a, "--cold-size") == 0 && i + 1 < argc) cold_mib = parse_u64(a, argv[++i]);
        else if (strcmp(a, "--cold-file") == 0 && i + 1 < argc) cold_file = argv[++i];
        else if (strcmp(a, "--cold-reps") == 0 && i + 1 < argc) cold_reps_u = parse_u64(a, argv[++i]);
        else if (strcmp(a, "--no-cold") == 0) no_cold = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(stdout); return 0; }
        else {
            fprintf(stderr, "mb_bench_core: unknown or incomplete option \"%s\"\n", a);
            usage(stderr);
            return 1;
        }
    }
    if (!size_mib) size_mib = quick ? 256 : 1024;
    if (!reps_u) reps_u = quick ? 3 : 5;
    if (!nreads) nreads = quick ? 2000000 : 10000000;
    if (reps_u > 255) reps_u = 255;
    int reps = (int)reps_u;
    if (!cold_mib) cold_mib = quick ? 128 : 512;
    if (!cold_reps_u) cold_reps_u = quick ? 2 : reps_u;
    if (cold_reps_u > 255) cold_reps_u = 255;
#if !defined(__linux__)
    no_cold = 1; /* eviction is posix_fadvise(DONTNEED) + mincore: Linux */
#endif

    char defpath[4096];
    int default_file = file == NULL;
    if (default_file) {
        const char *tmpdir = getenv("TMPDIR");
        if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
        snprintf(defpath, sizeof defpath, "%s/mb_bench_core_%" PRIu64 "MiB.dat", tmpdir, size_mib);
        file = defpath;
    }

    /* ---- the file: reuse or generate ---- */
    uint64_t fsize = 0;
    const char *origin = prepare_file(file, size_mib, default_file, &fsize);
    if (fsize < 8) die(0, "%s is shorter than one 8-byte word", file);

    ctx c;
    memset(&c, 0, sizeof c);
    c.path = file;
    c.nbytes = fsize & ~7ull;
    c.nwords = c.nbytes / 8;
    c.nreads = nreads;
    c.scan_window = MB_SCAN_DEFAULT_WINDOW;
    c.scan_step = c.scan_window / 8;

    /* ---- prime the page cache with one full read, which also yields the
    ** reference checksum. Unless --keep-cache, the file's cached pages are
    ** dropped first: how they got into the cache (written by write(), or
    ** read from disk through readahead) decides the size of the page-cache
    ** folios, and with it whether the kernel maps them with 2 MiB PMD entries
    ** or 4 KiB PTEs. That changes the figures a lot (populate cost, TLB
    ** reach, the kernel's PTE aging), so every run starts from the same
    ** state: as read from disk. ---- */
    double res_dropped = -1;
    if (!keep_cache) {
        fprintf(stderr, "dropping the file's cached pages...\n");
        res_dropped = drop_cache(file, fsize);
    }
    fprintf(stderr, "priming the page cache (one full read)...\n");
    size_t bufmax = 1 << 20;
    c.buf = aligned_alloc(4096, bufmax);
    if (!c.buf) die(0, "out of memory");
    {
        int fd = open_ro(file);
        c.ref_seq = read_sum(&c, fd, c.buf, bufmax);
        close(fd);
    }
    double res_before = resident_fraction(file, fsize);
    const char *content = "foreign file: reference = the priming read";
    if (fsize % 8 == 0) {
        uint64_t g = generator_sum(c.nwords);
        if (g == c.ref_seq) content = "matches the generator";
        else if (default_file) die(0, "%s does not hold the generator's words; delete it", file);
    }

    /* ---- the warm map and the RAM copy ---- */
    int rc = mb_map_open(file, NULL, &c.warm);
    if (rc != MB_OK) die_mb("mb_map_open (warm)", rc);
    if (sum_words(mb_map_data(c.warm), (size_t)c.nbytes) != c.ref_seq)
        die(0, "warm map of %s: checksum differs from read()", file);
    /* The physical limit gets every advantage: 2 MiB-aligned and, where the
    ** OS has transparent huge pages, asked for them, so its TLB reach is at
    ** least that of the best-mapped file view. */
    {
        size_t huge = mb_huge_page_size() ? mb_huge_page_size() : mb_page_size();
        size_t ramlen = (size_t)((c.nbytes + huge - 1) / huge * huge);
        c.ram = aligned_alloc(huge, ramlen);
        if (!c.ram) die(errno, "cannot allocate a RAM copy of %s", file);
#if defined(MADV_HUGEPAGE)
        (void)madvise(c.ram, ramlen, MADV_HUGEPAGE);
#endif
    }
    memcpy(c.ram, mb_map_data(c.warm), (size_t)c.nbytes);
    if (sum_words(c.ram, (size_t)c.nbytes) != c.ref_seq) die(0, "RAM copy: checksum differs");
    c.ref_rand = rand_sum_mem(c.ram, c.nwords, c.nreads, RAND_SEED);
    mb_populate def_used = MB_POP_DEFAULT;
    (void)mb_map_populate(c.warm, 0, 0, MB_POP_DEFAULT, &def_used); /* already resident: cheap */
    uint64_t warm_huge = huge_bytes_in(mb_map_data(c.warm), c.nbytes);
    uint64_t ram_huge = huge_bytes_in(c.ram, c.nbytes);

    /* ---- the variants ---- */
    variant vs[] = {
        {"seq  read() 4 KiB buffer [baseline]", K_READ, 4096, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  read() 64 KiB buffer", K_READ, 65536, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, none", K_FRESH, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, willneed", K_FRESH, 0, MB_POP_WILLNEED, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, populate_read", K_FRESH, 0, MB_POP_POPULATE_READ, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, map_populate", K_FRESH, 0, MB_POP_MAP_POPULATE, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, touch", K_FRESH, 0, MB_POP_TOUCH, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, MB_MAP_POPULATE flag", K_FRESH, 0, MB_POP_DEFAULT, MB_MAP_POPULATE, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, scan-ahead willneed", K_SCAN, 0, MB_POP_WILLNEED, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  fresh map, scan-ahead populate_read", K_SCAN, 0, MB_POP_POPULATE_READ, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  warm map", K_WARM, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"seq  RAM buffer (malloc+memcpy copy)", K_RAM, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"rand pread() 8 B [baseline]", K_R_PREAD, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"rand warm map", K_R_WARM, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"rand fresh map (cold page tables)", K_R_FRESH, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"rand warm map, chained loads", K_R_CHAINED, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
        {"rand RAM buffer", K_R_RAM, 0, MB_POP_NONE, 0, MB_POP_NONE, 0, 0, NULL},
    };
    enum { V_READ4K = 0, V_RAM = 11, V_WARM = 10, V_PREAD = 12, V_RWARM = 13, V_RCHAIN = 15,
           V_RRAM = 16, V_FRESH_FIRST = 2, V_FRESH_LAST = 9 };
    const int nv = (int)(sizeof vs / sizeof vs[0]);
    for (int i = 0; i < nv; i++) {
        vs[i].s = calloc((size_t)reps, sizeof(sample));
        if (!vs[i].s) die(0, "out of memory");
    }

    /* Repetitions are interleaved (rep 1 of every variant, then rep 2, ...)
    ** so that drift in the machine (frequency, neighbours) spreads over all
    ** variants instead of biasing whichever ran last. */
    double load_before[1] = {-1}, load_after[1] = {-1};
    (void)getloadavg(load_before, 1);
    double t_start = now_ns();
    int bad = 0;
    for (int r = 0; r < reps; r++) {
        fprintf(stderr, "rep %d/%d...\n", r + 1, reps);
        for (int i = 0; i < nv; i++) {
            run_variant(&c, &vs[i], &vs[i].s[r]);
            uint64_t want = vs[i].k >= K_R_PREAD ? c.ref_rand : c.ref_seq;
            if (vs[i].s[r].sum != want) {
                fprintf(stderr, "mb_bench_core: %s: checksum 0x%016" PRIx64 ", expected 0x%016" PRIx64 "\n",
                        vs[i].name, vs[i].s[r].sum, want);
                bad = 1;
            }
        }
    }
    double t_run = (now_ns() - t_start) / 1e9;
    (void)getloadavg(load_after, 1);
    uint64_t preempted = 0;
    for (int i = 0; i < nv; i++)
        for (int r = 0; r < reps; r++) preempted += vs[i].s[r].preempted;
    double res_after = resident_fraction(file, fsize);

    /* ---- the cold section. The warm map is closed first: DONTNEED cannot
    ** evict pages that are mapped, and the cold file may be this one. The
    ** RAM copy goes too; the warm figures are all taken. ---- */
    mb_map_close(c.warm);
    c.warm = NULL;
    free(c.ram);
    c.ram = NULL;
    static cold k;
    char colddef[4096];
    if (!no_cold) {
        int cold_default = cold_file == NULL;
        if (cold_default) {
            const char *tmpdir = getenv("TMPDIR");
            if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
            snprintf(colddef, sizeof colddef, "%s/mb_bench_core_%" PRIu64 "MiB.dat", tmpdir, cold_mib);
            cold_file = colddef;
        }
        cold_setup(&k, &c, cold_file, cold_default, cold_mib, (int)cold_reps_u);
        cold_run(&k);
    }

    /* ---- the table ---- */
    char model[256], thp[256], thp_defrag[256], damon[512];
    damon_summary(damon, sizeof damon);
    cpu_model(model, sizeof model);
    first_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
    first_line("/sys/kernel/mm/transparent_hugepage/defrag", thp_defrag, sizeof thp_defrag);
    struct utsname un;
    if (uname(&un) != 0) snprintf(un.release, sizeof un.release, "unknown");

    printf("MemBase core benchmark: mb_bench_core\n\n");
    printf("configuration\n");
    printf("  file         %s\n", file);
    printf("               %" PRIu64 " bytes (%.0f MiB) on %s, %s, content %s\n", fsize,
           (double)fsize / (double)MIB, fs_name(file), origin, content);
    if (keep_cache)
        printf("  page cache   kept as found (--keep-cache), then primed by one full read() pass\n");
    else
        printf("  page cache   dropped (fdatasync + POSIX_FADV_DONTNEED: %.1f%% left), then primed by\n"
               "               one full read() pass (1 MiB buffer), i.e. laid out as read from disk\n",
               res_dropped * 100);
    printf("               resident (mincore) %.1f%% before the reps, %.1f%% after\n",
           res_before * 100, res_after * 100);
    printf("  work         every sequential variant sums all %" PRIu64 " 8-byte words with sum_words();\n"
           "               reference checksum 0x%016" PRIx64 "\n", c.nwords, c.ref_seq);
    printf("  random       %" PRIu64 " 8-byte reads per rep at xorshift64 offsets (seed 0x%016" PRIx64
           "),\n               8-aligned, uniform over the file; reference sum 0x%016" PRIx64 "\n",
           c.nreads, (uint64_t)RAND_SEED, c.ref_rand);
    printf("  reps         %d, interleaved; every figure is the median; spread = (max-min)/median\n", reps);
    printf("  timing       fresh-map and read() rows include open, populate, the sum and close;\n"
           "               setup = open (+ populate); faults from getrusage(RUSAGE_SELF)\n");
    printf("  scanner      window %" PRIu64 " KiB, mb_scan_advance every %" PRIu64 " KiB\n",
           c.scan_window / 1024, c.scan_step / 1024);
    printf("  core         backend %s; MB_POP_DEFAULT resolves to %s\n", mb_backend_name(),
           mb_populate_name(def_used));
    printf("  huge pages   warm map %.0f MiB PMD-mapped, RAM buffer %.0f MiB (smaps)\n",
           (double)warm_huge / (double)MIB, (double)ram_huge / (double)MIB);
    printf("  run time     %.1f s for the reps; load average (1 min) %.2f before, %.2f after;\n"
           "               preempted %" PRIu64 " times (involuntary context switches)\n\n",
           t_run, load_before[0], load_after[0], preempted);
    printf("machine\n");
    printf("  nproc %ld, CPU %s, kernel %s, page %zu B, huge page %zu KiB\n",
           sysconf(_SC_NPROCESSORS_ONLN), model, un.release, mb_page_size(), mb_huge_page_size() / 1024);
    printf("  THP enabled %s, defrag %s\n", thp, thp_defrag);
    printf("  DAMON %s\n\n", damon);

    double seq_base = median(&vs[V_READ4K], reps, F_TOTAL);
    double seq_ram = median(&vs[V_RAM], reps, F_TOTAL);
    double rnd_base = median(&vs[V_PREAD], reps, F_TOTAL);
    double rnd_ram = median(&vs[V_RRAM], reps, F_TOTAL);

    printf("%-42s %9s %6s %7s %8s %6s %8s %7s %9s %9s %6s %s\n", "variant", "figure", "unit",
           "spread", "x base", "x RAM", "setup", "close", "minflt", "minflt", "majflt", "check");
    printf("%-42s %9s %6s %7s %8s %6s %8s %7s %9s %9s %6s %s\n", "", "(median)", "", "", "",
           "", "ms", "ms", "setup", "run", "", "");
    for (int i = 0; i < nv; i++) {
        const variant *v = &vs[i];
        double t = median(v, reps, F_TOTAL);
        int random = v->k >= K_R_PREAD;
        double fig = random ? t / (double)c.nreads : (double)c.nbytes / t;
        double xbase = random ? rnd_base / t : seq_base / t;
        double xram = random ? rnd_ram / t : seq_ram / t;
        int ok = 1;
        for (int r = 0; r < reps; r++)
            if (v->s[r].sum != (random ? c.ref_rand : c.ref_seq)) ok = 0;
        if (i == V_PREAD) printf("\n");
        printf("%-42s %9.2f %6s %6.1f%% %7.2fx %5.2fx %8.1f %7.1f %9.0f %9.0f %6.0f %s\n", v->name,
               fig, random ? "ns/rd" : "GB/s", spread(v, reps), xbase, xram,
               median(v, reps, F_SETUP) / 1e6, median(v, reps, F_CLOSE) / 1e6,
               median(v, reps, F_MIN_SETUP), median(v, reps, F_MIN_RUN),
               median(v, reps, F_MAJ), ok ? "ok" : "BAD");
    }
    if (verbose) {
        printf("  per-rep total ms (involuntary context switches):\n");
        for (int i = 0; i < nv; i++) {
            printf("    %-40s", vs[i].name);
            for (int r = 0; r < reps; r++)
                printf(" %8.1f(%" PRIu64 ")", vs[i].s[r].total_ns / 1e6, vs[i].s[r].preempted);
            printf("\n");
        }
    }
    printf("  (GB/s = 10^9 bytes/s; x base = vs read() 4 KiB, or vs pread() for random rows,\n"
           "   higher is better; x RAM = vs the RAM buffer of the same kind)\n");
    for (int i = V_FRESH_FIRST; i <= V_FRESH_LAST; i++)
        if (vs[i].k == K_FRESH && !(vs[i].open_flags & MB_MAP_POPULATE) && vs[i].used != vs[i].pop)
            printf("  note: %s fell back to %s\n", vs[i].name, mb_populate_name(vs[i].used));
    for (int i = V_FRESH_FIRST; i <= V_FRESH_LAST; i++)
        if (vs[i].k == K_SCAN)
            printf("  note: %s used %s, %" PRIu64 " prefetch requests per run, %" PRIu64
                   " windows skipped as resident\n", vs[i].name, mb_populate_name(vs[i].used),
                   vs[i].requests, vs[i].skipped);

    /* ---- fresh-map prefetch strategies, fastest first ---- */
    int order[16], no = 0;
    for (int i = V_FRESH_FIRST; i <= V_FRESH_LAST; i++) order[no++] = i;
    for (int a = 1; a < no; a++)
        for (int b = a; b > 0 && median(&vs[order[b]], reps, F_TOTAL) <
                                 median(&vs[order[b - 1]], reps, F_TOTAL); b--) {
            int t = order[b]; order[b] = order[b - 1]; order[b - 1] = t;
        }
    printf("\nfresh-map prefetch strategies (open + populate + first-touch sum + close), fastest first\n");
    double best = median(&vs[order[0]], reps, F_TOTAL);
    for (int j = 0; j < no; j++) {
        const variant *v = &vs[order[j]];
        double t = median(v, reps, F_TOTAL);
        printf("  %d. %-40s %8.1f ms  %6.2f GB/s  %+6.1f%% vs the fastest   (best rep %.1f ms)\n",
               j + 1, v->name + 5, t / 1e6, (double)c.nbytes / t, 100.0 * (t - best) / best,
               fastest(v, reps) / 1e6);
    }
    /* The winner among the populate methods proper: the candidates for
    ** MB_POP_DEFAULT (the open flag and scanner rows are reported above). */
    int win = -1, second = -1;
    for (int j = 0; j < no; j++) {
        const variant *v = &vs[order[j]];
        if (v->k != K_FRESH || (v->open_flags & MB_MAP_POPULATE)) continue;
        if (win < 0) win = order[j];
        else if (second < 0) second = order[j];
    }
    {
        double tw = median(&vs[win], reps, F_TOTAL), ts = median(&vs[second], reps, F_TOTAL);
        double margin = 100.0 * (ts - tw) / tw;
        double noise = spread(&vs[win], reps) > spread(&vs[second], reps) ? spread(&vs[win], reps)
                                                                          : spread(&vs[second], reps);
        printf("  populate method that won: %s, %.1f%% faster than the runner-up %s (%s);\n"
               "  %.2fx the speed of no populate at all\n",
               mb_populate_name(vs[win].used), margin, mb_populate_name(vs[second].used),
               margin > noise ? "beyond the larger spread of the two" : "WITHIN the spread: not decisive",
               median(&vs[V_FRESH_FIRST], reps, F_TOTAL) / tw);
    }

    /* ---- targets ---- */
    double warm = median(&vs[V_WARM], reps, F_TOTAL);
    double rwarm = median(&vs[V_RWARM], reps, F_TOTAL);
    double r1 = seq_ram / warm, r2 = seq_base / warm, r3 = rnd_base / rwarm;
    printf("\ntargets (reported, not asserted)\n");
    printf("  warm map sequential >= 0.85x RAM buffer     %5.2fx  %s\n", r1, yesno_pass(r1 >= 0.85));
    printf("  warm map sequential >= 9.4x read() 4 KiB    %5.2fx  %s\n", r2, yesno_pass(r2 >= 9.4));
    printf("  warm map random     >= 3.8x pread()         %5.2fx  %s\n", r3, yesno_pass(r3 >= 3.8));
    printf("  (ceiling here: the RAM buffer itself is %.2fx read() 4 KiB, which costs %.0f ns\n"
           "   per 4 KiB call including its sum; chained random loads from the warm map are\n"
           "   %.2fx pread())\n",
           seq_base / seq_ram, seq_base / (double)((c.nbytes + 4095) / 4096),
           rnd_base / median(&vs[V_RCHAIN], reps, F_TOTAL));

#if defined(__linux__)
    const char *why_no_cold = "--no-cold";
#else
    const char *why_no_cold = "eviction needs Linux";
#endif
    if (no_cold)
        printf("\ncold page cache: skipped (%s)\n", why_no_cold);
    else
        cold_print(&k, verbose);

    if (bad || (!no_cold && k.bad)) {
        printf("\nCHECKSUM MISMATCH: some variant did not do the full work; figures are invalid\n");
        return 2;
    }
    printf("\nall checksums agree\n");
    free(c.buf);
    for (int i = 0; i < nv; i++) free(vs[i].s);
    if (!no_cold) {
        for (int i = 0; i < CV_N; i++) free(k.v[i].s);
        for (int i = 0; i < CG_N; i++) free(k.g[i].r);
    }
    return 0;
}
