/*
** test_memory.c -- memory manners of the core: drop-behind releases what a
** scan passed and never loses a write, point reads never release, the
** readings of memory and pressure (with injected files), bounded prefetch
** and populate, and the idle-mapping budget of the registry.
*/
#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mb_test.h"
#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MIB (1024u * 1024u)

static void put_env(const char *k, const char *v) {
#if defined(_WIN32)
    char buf[1024];
    snprintf(buf, sizeof buf, "%s=%s", k, v ? v : "");
    _putenv(buf);
#else
    if (v) setenv(k, v, 1);
    else unsetenv(k);
#endif
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static uint64_t resident(mb_map *m) {
    uint64_t r = 0;
    if (mb_map_residency(m, 0, 0, &r) != MB_OK) return UINT64_MAX;
    return r;
}

/* Scan the whole view through mb_scan as a scanner does, summing bytes. */
static uint64_t scan_all(mb_map *m, mb_dropbehind policy, uint64_t *dropped) {
    mb_scan s;
    mb_scan_init(&s, m, 0, MB_POP_DEFAULT);
    mb_scan_set_dropbehind(&s, policy);
    uint64_t size = mb_map_size(m), sum = 0;
    static unsigned char buf[1 << 16];
    for (uint64_t off = 0; off < size; off += sizeof buf) {
        size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
        CHECK_RC(mb_scan_advance(&s, off), MB_OK);
        if (mb_map_read(m, off, buf, n) != MB_OK) return 0;
        for (size_t i = 0; i < n; i += 4096) sum += buf[i];
    }
    CHECK_RC(mb_scan_finish(&s, size), MB_OK);
    if (dropped) *dropped = s.dropped;
    return sum;
}

static void test_policy_parse(void) {
    t_section("dropbehind policy: names, parsing, default");
    mb_dropbehind p = MB_DROP_OFF;
    CHECK_RC(mb_dropbehind_parse("auto", &p), MB_OK);
    CHECK(p == MB_DROP_AUTO);
    CHECK_RC(mb_dropbehind_parse("ON", &p), MB_OK);
    CHECK(p == MB_DROP_ON);
    CHECK_RC(mb_dropbehind_parse("0", &p), MB_OK);
    CHECK(p == MB_DROP_OFF);
    p = MB_DROP_ON;
    CHECK_RC(mb_dropbehind_parse("sometimes", &p), MB_EINVAL);
    CHECK(p == MB_DROP_ON);
    CHECK_RC(mb_dropbehind_parse("", &p), MB_EINVAL);
    CHECK_RC(mb_dropbehind_parse(NULL, &p), MB_EINVAL);
    CHECK(strcmp(mb_dropbehind_name(MB_DROP_AUTO), "auto") == 0);
    CHECK(mb_dropbehind_default() == MB_DROP_AUTO);
    mb_set_dropbehind_default(MB_DROP_OFF);
    CHECK(mb_dropbehind_default() == MB_DROP_OFF);
    mb_set_dropbehind_default((mb_dropbehind)7);   /* ignored */
    CHECK(mb_dropbehind_default() == MB_DROP_OFF);
    mb_set_dropbehind_default(MB_DROP_AUTO);
    CHECK(mb_dropbehind_wanted(MB_DROP_ON, 1) == 1);
    CHECK(mb_dropbehind_wanted(MB_DROP_OFF, UINT64_MAX / 2) == 0);
}

#if !defined(_WIN32)
/* Written and on disk: dirty page-cache pages of a file this process maps
** read-only are not ours to write back, and the OS keeps them until it has. */
static void write_synced(const char *path, uint64_t size) {
    t_write_pattern(path, size);
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && fsync(fd) == 0);
    if (fd >= 0) close(fd);
}

static void test_dropbehind_scan(void) {
    t_section("drop-behind: a scan releases what it passed; off keeps it cached");
    const char *path = t_path("drop");
    const uint64_t size = 160u * MIB;
    write_synced(path, size);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    CHECK_RC(mb_map_populate(m, 0, 0, MB_POP_DEFAULT, NULL), MB_OK);
    CHECK_EQ(resident(m), size);

    uint64_t dropped = 0;
    uint64_t sum_off = scan_all(m, MB_DROP_OFF, &dropped);
    CHECK_EQ(dropped, 0);
    CHECK_EQ(resident(m), size);               /* off: all still cached */

    uint64_t sum_on = scan_all(m, MB_DROP_ON, &dropped);
    CHECK_EQ(sum_on, sum_off);                 /* same bytes read */
    CHECK(dropped >= size - MB_DROP_CHUNK);
    uint64_t left = resident(m);
    t_note("after a drop-behind scan: %llu of %llu bytes resident, %llu dropped",
           (unsigned long long)left, (unsigned long long)size, (unsigned long long)dropped);
    CHECK(left <= size / 10);                  /* the bound: <= 10% */
    mb_map_info info;
    mb_map_get_info(m, &info);
    CHECK(info.mem.dropped >= dropped);
    mb_stats st;
    mb_stats_get(&st);
    CHECK(st.dropped_behind >= dropped);
    /* The data is all still there, read back. */
    unsigned char buf[4096];
    CHECK_RC(mb_map_read(m, size - sizeof buf, buf, sizeof buf), MB_OK);
    CHECK(t_is_pattern(buf, size - sizeof buf, sizeof buf));
    mb_map_close(m);
}

static void test_point_reads_never_drop(void) {
    t_section("drop-behind: point reads never release, even with policy on");
    const char *path = t_path("points");
    const uint64_t size = 96u * MIB;
    write_synced(path, size);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    CHECK_RC(mb_map_populate(m, 0, 0, MB_POP_DEFAULT, NULL), MB_OK);
    mb_set_dropbehind_default(MB_DROP_ON);
    unsigned char b[8];
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        CHECK_RC(mb_map_read(m, (x >> 11) % (size - 8), b, 8), MB_OK);
    }
    mb_set_dropbehind_default(MB_DROP_AUTO);
    mb_map_info info;
    mb_map_get_info(m, &info);
    CHECK_EQ(info.mem.dropped, 0);
    CHECK_EQ(resident(m), size);
    mb_map_close(m);
}

/* Dirty pages are written back before they are released: update records
** in place through a writable map, scan with drop-behind, and read the
** file back in a fresh process (its own descriptor and page cache view). */
static void test_no_lost_update(void) {
    t_section("drop-behind: updates in place survive a drop-behind scan (fresh process)");
    const char *path = t_path("dirty");
    const uint64_t size = 128u * MIB;
    t_write_pattern(path, size);
    mb_map_options o = {0};
    o.flags = MB_MAP_WRITE;
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, &o, &m), MB_OK);
    if (!m) return;
    /* one 8-byte update every 64 KiB */
    for (uint64_t off = 0; off + 8 <= size; off += 65536) {
        uint64_t v = off ^ UINT64_C(0x5a5a5a5a5a5a5a5a);
        CHECK_RC(mb_map_write(m, off, &v, 8), MB_OK);
    }
    uint64_t dropped = 0;
    (void)scan_all(m, MB_DROP_ON, &dropped);
    CHECK(dropped >= size - MB_DROP_CHUNK);
    mb_map_close(m);   /* no flush: drop-behind must have written them */

    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen(path, "rb");
        if (!f) _exit(2);
        int bad = 0;
        for (uint64_t off = 0; off + 8 <= size; off += 65536) {
            uint64_t v = 0, want = off ^ UINT64_C(0x5a5a5a5a5a5a5a5a);
            if (fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(&v, 8, 1, f) != 1 || v != want) bad++;
        }
        fclose(f);
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
#endif

static void test_readings(void) {
    t_section("memory readings: injected meminfo, cgroup v2 and v1, PSI");
    char meminfo[600], cg[600], psi[600], file[700];
    snprintf(meminfo, sizeof meminfo, "%s", t_path("meminfo"));
    snprintf(cg, sizeof cg, "%s", t_path("cgv2"));
    snprintf(psi, sizeof psi, "%s", t_path("psi"));
#if defined(_WIN32)
    mb_memory w;
    CHECK_RC(mb_memory_read(&w), MB_OK);
    CHECK(w.mem_total > 0 && w.available > 0);
    CHECK(w.source == MB_PRESSURE_OS || w.source == MB_PRESSURE_AVAILABLE);
    (void)file;
#else
    write_text(meminfo, "MemTotal:       8000000 kB\nMemFree:  1 kB\nMemAvailable:   4000000 kB\n");
    put_env("MEMBASE_MEMINFO", meminfo);
    put_env("MEMBASE_CGROUP", "/nonexistent-membase-cgroup");
    put_env("MEMBASE_PSI", "/nonexistent-membase-psi");
    mb_stats st0, st1;
    mb_stats_get(&st0);
    mb_memory m;
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK_EQ(m.mem_available, UINT64_C(4000000) * 1024);
    CHECK_EQ(m.mem_total, UINT64_C(8000000) * 1024);
    CHECK_EQ(m.available, UINT64_C(4000000) * 1024);
    CHECK_EQ(m.cgroup_version, 0);
    /* An unreadable pressure file: quietly the available-memory fallback,
    ** and counted. */
    CHECK(m.source == MB_PRESSURE_AVAILABLE);
    CHECK(!m.pressure);
    mb_stats_get(&st1);
    CHECK(st1.pressure_unreadable > st0.pressure_unreadable);

    /* A garbled pressure file: the same. */
    write_text(psi, "this is not PSI\n");
    put_env("MEMBASE_PSI", psi);
    mb_stats_get(&st0);
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK(m.source == MB_PRESSURE_AVAILABLE);
    mb_stats_get(&st1);
    CHECK(st1.pressure_unreadable > st0.pressure_unreadable);

    /* cgroup v2: limit - usage is smaller than MemAvailable. */
    (void)mkdir(cg, 0755);
    snprintf(file, sizeof file, "%s/memory.max", cg);
    write_text(file, "1073741824\n");
    snprintf(file, sizeof file, "%s/memory.current", cg);
    write_text(file, "805306368\n");
    put_env("MEMBASE_CGROUP", cg);
    write_text(psi, "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000\n"
                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK_EQ(m.cgroup_version, 2);
    CHECK_EQ(m.cgroup_limit, UINT64_C(1073741824));
    CHECK_EQ(m.available, UINT64_C(268435456));
    CHECK(m.source == MB_PRESSURE_PSI);
    CHECK(!m.pressure);
    /* auto: a 200 MiB file is more than half of 256 MiB: drop. 100 MiB: keep. */
    CHECK(mb_dropbehind_wanted(MB_DROP_AUTO, 200u * MIB) == 1);
    CHECK(mb_dropbehind_wanted(MB_DROP_AUTO, 100u * MIB) == 0);

    /* "max": no limit; MemAvailable rules. */
    snprintf(file, sizeof file, "%s/memory.max", cg);
    write_text(file, "max\n");
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK_EQ(m.cgroup_limit, 0);
    CHECK_EQ(m.available, UINT64_C(4000000) * 1024);

    /* cgroup v1 files. */
    char cg1[600];
    snprintf(cg1, sizeof cg1, "%s", t_path("cgv1"));
    (void)mkdir(cg1, 0755);
    snprintf(file, sizeof file, "%s/memory.usage_in_bytes", cg1);
    write_text(file, "104857600\n");
    snprintf(file, sizeof file, "%s/memory.stat", cg1);
    write_text(file, "cache 1\nrss 2\nhierarchical_memory_limit 536870912\n");
    put_env("MEMBASE_CGROUP", cg1);
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK_EQ(m.cgroup_version, 1);
    CHECK_EQ(m.cgroup_limit, UINT64_C(536870912));
    CHECK_EQ(m.available, UINT64_C(536870912) - UINT64_C(104857600));

    /* Pressure from PSI: a first reading with avg10 >= 10, then the stall
    ** counter's growth between readings. Each onset is one event. */
    mb_stats_get(&st0);
    write_text(psi, "some avg10=42.00 avg60=10.00 avg300=1.00 total=5000000\n");
    put_env("MEMBASE_PSI", "/nonexistent-membase-psi");
    CHECK_RC(mb_memory_read(&m), MB_OK);      /* resets the PSI history */
    put_env("MEMBASE_PSI", psi);
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK(m.pressure);
    CHECK(m.source == MB_PRESSURE_PSI);
    mb_stats_get(&st1);
    CHECK_EQ(st1.pressure_events, st0.pressure_events + 1);
    CHECK(mb_dropbehind_wanted(MB_DROP_AUTO, 1) == 1);   /* pressure: even small */
    /* no growth of the stall counter since: no pressure, even with avg10 high */
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK(!m.pressure);

    /* Bounded populate: 512 MiB - 100 MiB available, a quarter = 103 MiB. */
    const char *big = t_path("bounded");
    t_write_pattern(big, 160u * MIB);
    mb_map *bm = NULL;
    CHECK_RC(mb_map_open(big, NULL, &bm), MB_OK);
    if (bm) {
        uint64_t done = 0;
        mb_populate used;
        CHECK_RC(mb_map_populate_bounded(bm, 0, 0, MB_POP_DEFAULT, &used, &done), MB_OK);
        CHECK_EQ(done, (UINT64_C(536870912) - UINT64_C(104857600)) / MB_PREFETCH_FRACTION);
        mb_map_info info;
        mb_map_get_info(bm, &info);
        CHECK_EQ(info.mem.populate_bound, done);
        /* a small range is not cut */
        CHECK_RC(mb_map_populate_bounded(bm, 0, MIB, MB_POP_DEFAULT, &used, &done), MB_OK);
        CHECK_EQ(done, MIB);
        /* prefetch windows are bounded too */
        mb_scan s;
        mb_scan_init(&s, bm, 1024u * MIB, MB_POP_WILLNEED);
        CHECK_RC(mb_scan_advance(&s, 0), MB_OK);
        CHECK(s.window <= (UINT64_C(536870912) - UINT64_C(104857600)) / (2 * MB_PREFETCH_FRACTION));
        mb_map_close(bm);
    }
    put_env("MEMBASE_MEMINFO", NULL);
    put_env("MEMBASE_CGROUP", NULL);
    /* Forget the injected PSI counter before the real one is read: the
    ** machine's stall total since boot, taken as growth since the injected
    ** 5 s, is pressure on any machine that has stalled more than that --
    ** and every later release in this process then trims the idle maps. */
    put_env("MEMBASE_PSI", "/nonexistent-membase-psi");
    CHECK_RC(mb_memory_read(&m), MB_OK);
    put_env("MEMBASE_PSI", NULL);
    CHECK_RC(mb_memory_read(&m), MB_OK);
    CHECK(m.mem_available > 0);
#endif
}

static size_t entries(int *idle) {
    mb_map_info *arr = NULL;
    size_t n = 0;
    if (mb_registry_snapshot(&arr, &n) != MB_OK) return (size_t)-1;
    int k = 0;
    for (size_t i = 0; i < n; i++) k += arr[i].idle;
    mb_registry_free_snapshot(arr, n);
    if (idle) *idle = k;
    return n;
}

static void test_idle_budget(void) {
    t_section("idle mappings: budget in count and bytes, LRU, pressure, never live ones");
    uint64_t b = 1, c = 1;
    mb_registry_idle_budget(&b, &c);
    CHECK_EQ(b, MB_IDLE_DEFAULT_BYTES);
    CHECK_EQ(c, MB_IDLE_DEFAULT_COUNT);
    CHECK_RC(mb_registry_set_idle_budget(UINT64_MAX, 1), MB_EOVERFLOW);
    CHECK_RC(mb_registry_set_idle_budget(1, (uint64_t)INT64_MAX + 1), MB_EOVERFLOW);
    mb_registry_idle_budget(&b, &c);
    CHECK_EQ(c, MB_IDLE_DEFAULT_COUNT);        /* a refused budget changes nothing */

    char p[4][600];
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "idle%d", i);
        snprintf(p[i], sizeof p[i], "%s", t_path(name));
        t_write_pattern(p[i], (uint64_t)(i + 1) * 65536);
    }
    int idle = 0;
    size_t base = entries(&idle);
    CHECK_RC(mb_registry_set_idle_budget(1u * MIB, 2), MB_OK);
    mb_stats st0, st1;
    mb_stats_get(&st0);
    mb_map *m[4] = {0};
    for (int i = 0; i < 4; i++) CHECK_RC(mb_registry_acquire(p[i], 0, &m[i]), MB_OK);
    for (int i = 0; i < 4; i++) mb_registry_release(m[i]);
    /* two kept (the most recently released: 2 and 3), two evicted */
    CHECK_EQ(entries(&idle), base + 2);
    CHECK_EQ(idle, 2);
    mb_stats_get(&st1);
    CHECK_EQ(st1.idle_evicted, st0.idle_evicted + 2);
    CHECK_EQ(st1.idle_maps, 2);
    CHECK_EQ(st1.idle_bytes, 3u * 65536 + 4u * 65536);
    /* acquiring an idle one reuses it: the same map, refreshed */
    mb_map *again = NULL;
    t_append_pattern(p[3], 4096);
    CHECK_RC(mb_registry_acquire(p[3], 0, &again), MB_OK);
    CHECK(again == m[3]);
    CHECK_EQ(mb_map_size(again), 4u * 65536 + 4096);
    mb_stats_get(&st1);
    CHECK_EQ(st1.idle_maps, 1);
    /* a byte budget smaller than one view: that one cannot idle */
    CHECK_RC(mb_registry_set_idle_budget(100000, 8), MB_OK);
    mb_registry_release(again);
    CHECK_EQ(entries(&idle), base);            /* 2 evicted by the budget, 3 too big */
    /* live maps are never evicted, whatever the budget */
    mb_map *live = NULL;
    CHECK_RC(mb_registry_acquire(p[0], 0, &live), MB_OK);
    CHECK_RC(mb_registry_set_idle_budget(0, 0), MB_OK);
    CHECK_EQ(mb_registry_trim_idle(), 0);
    CHECK_EQ(entries(&idle), base + 1);
    unsigned char byte;
    CHECK_RC(mb_map_read(live, 0, &byte, 1), MB_OK);
    mb_registry_release(live);
    CHECK_EQ(entries(&idle), base);
#if !defined(_WIN32)
    /* pressure empties the idle list; a deleted file does not stay */
    CHECK_RC(mb_registry_set_idle_budget(64u * MIB, 8), MB_OK);
    CHECK_RC(mb_registry_acquire(p[0], 0, &live), MB_OK);
    mb_registry_release(live);
    CHECK_RC(mb_registry_acquire(p[1], 0, &live), MB_OK);
    mb_registry_release(live);
    CHECK_EQ(entries(&idle), base + 2);
    unlink(p[1]);
    CHECK_RC(mb_registry_acquire(p[2], 0, &live), MB_OK);   /* a registry call */
    CHECK_EQ(entries(&idle), base + 2);                      /* p[0] idle, p[2] live */
    mb_registry_release(live);
    CHECK_EQ(entries(&idle), base + 2);                      /* p[0], p[2] idle */
    char psi[600];
    snprintf(psi, sizeof psi, "%s", t_path("psi2"));
    write_text(psi, "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    put_env("MEMBASE_PSI", psi);
    mb_memory mm;
    CHECK_RC(mb_memory_read(&mm), MB_OK);
    CHECK(!mm.pressure);
    write_text(psi, "some avg10=90.00 avg60=50.00 avg300=10.00 total=900000000\n");
    mb_stats_get(&st0);
    CHECK_RC(mb_memory_read(&mm), MB_OK);
    CHECK(mm.pressure);
    CHECK_EQ(entries(&idle), base);
    mb_stats_get(&st1);
    CHECK_EQ(st1.idle_evicted, st0.idle_evicted + 2);
    CHECK_EQ(st1.pressure_events, st0.pressure_events + 1);
    put_env("MEMBASE_PSI", NULL);
    CHECK_RC(mb_memory_read(&mm), MB_OK);
#endif
    CHECK_RC(mb_registry_set_idle_budget(MB_IDLE_DEFAULT_BYTES, MB_IDLE_DEFAULT_COUNT), MB_OK);
}

static void test_release_args(void) {
    t_section("mb_map_release: arguments");
    const char *path = t_path("relargs");
    t_write_pattern(path, 1u * MIB);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    CHECK_RC(mb_map_release(NULL, 0, 0, MB_REL_DEFAULT), MB_EINVAL);
    CHECK_RC(mb_map_release(m, 0, 0, (mb_release)99), MB_EINVAL);
    CHECK_RC(mb_map_release(m, 2u * MIB, 1, MB_REL_DEFAULT), MB_ERANGE);
#if defined(_WIN32) || defined(__APPLE__)
    /* nothing releases pages here: refused, not done half */
    CHECK_RC(mb_map_release(m, 0, 0, MB_REL_DEFAULT), MB_ENOTSUP);
#if defined(__APPLE__)
    CHECK_RC(mb_map_release(m, 0, 4096, MB_REL_FADVISE), MB_ENOTSUP);
#endif
#else
    CHECK_RC(mb_map_release(m, 0, 0, MB_REL_DEFAULT), MB_OK);
    CHECK_RC(mb_map_release(m, 0, 4096, MB_REL_FADVISE), MB_OK);
#endif
    unsigned char buf[64];
    CHECK_RC(mb_map_read(m, 1000, buf, sizeof buf), MB_OK);
    CHECK(t_is_pattern(buf, 1000, sizeof buf));
    mb_map_close(m);
}

/* Every release method keeps the file's bytes (it only gives pages back),
** on the whole map and on a part; each has its own name. */
static void test_release_methods(void) {
    t_section("mb_map_release: every method, and their names");
    static const mb_release how[] = { MB_REL_DEFAULT, MB_REL_FADVISE,
        MB_REL_UNMAP_FADVISE, MB_REL_PAGEOUT, MB_REL_COLD };
    const char *names[5];
    const char *path = t_path("relmethods");
    t_write_pattern(path, 1u * MIB);
    mb_map *m = NULL;
    CHECK_RC(mb_map_open(path, NULL, &m), MB_OK);
    if (!m) return;
    for (int i = 0; i < 5; i++) {
        unsigned char buf[64];
        int rc = mb_map_release(m, 0, 0, how[i]);
        /* Windows releases nothing; an older kernel may lack PAGEOUT/COLD */
        CHECK(rc == MB_OK || rc == MB_ENOTSUP);
        rc = mb_map_release(m, 8192, 65536, how[i]);
        CHECK(rc == MB_OK || rc == MB_ENOTSUP);
        CHECK_RC(mb_map_read(m, 8192 + 100, buf, sizeof buf), MB_OK);
        CHECK(t_is_pattern(buf, 8192 + 100, sizeof buf));
        names[i] = mb_release_name(how[i]);
        CHECK(names[i] != NULL && strcmp(names[i], "?") != 0);
        for (int j = 0; j < i; j++) CHECK(strcmp(names[i], names[j]) != 0);
    }
    CHECK(strcmp(mb_release_name((mb_release)99), "?") == 0);
    mb_map_close(m);
}

int main(void) {
    test_policy_parse();
    test_release_args();
    test_release_methods();
#if !defined(_WIN32)
    test_dropbehind_scan();
    test_point_reads_never_drop();
    test_no_lost_update();
#else
    /* the helpers' only callers are the POSIX-only cases (-Wunused-function) */
    (void)put_env; (void)write_text; (void)resident; (void)scan_all;
#endif
    test_readings();
    test_idle_budget();
    return t_done();
}
