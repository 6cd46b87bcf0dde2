/*
** mb_memory_posix.c -- what the OS says about memory: the page size, how
** much the process may still use, and whether it is under pressure. Linux
** reads /proc and the memory cgroup (v1 or v2); other POSIX systems report
** nothing known.
**
** Sources, each read by one small function:
**   /proc/meminfo             MemAvailable, MemTotal
**   cgroup v2 (dir from "0::/path" in /proc/self/cgroup)
**                             memory.max (the smallest up the tree),
**                             memory.current, memory.pressure (PSI)
**   cgroup v1 (dir from "N:memory:/path")
**                             memory.stat hierarchical_memory_limit,
**                             memory.usage_in_bytes, memory.pressure_level
**                             (an eventfd notification, registered once)
**   /proc/pressure/memory     system PSI, where the cgroup has none
** MEMBASE_MEMINFO, MEMBASE_CGROUP and MEMBASE_PSI replace the paths (tests
** inject readings through them; see mb_map.h).
*/
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include "mb_internal.h"
#include "mb_mutex.h"

static size_t s_page;

size_t mb_page_size(void) {
    size_t p = __atomic_load_n(&s_page, __ATOMIC_RELAXED);
    if (!p) {
        long v = sysconf(_SC_PAGESIZE);
        p = v > 0 ? (size_t)v : 4096; /* sysconf cannot fail for this name */
        __atomic_store_n(&s_page, p, __ATOMIC_RELAXED);
    }
    return p;
}

uint64_t mb__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void mb__idle_default(uint64_t *bytes, uint64_t *count) {
    *bytes = MB_IDLE_DEFAULT_BYTES;
    *count = MB_IDLE_DEFAULT_COUNT;
}

#if defined(__linux__)

/* Read a small file whole into buf (NUL-terminated). 0, or an errno. */
static int read_small(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno ? errno : EIO;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return e ? e : EIO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return 0;
}

/* The unsigned decimal after `key` at the start of a line of text. */
static int find_u64(const char *text, const char *key, uint64_t *out) {
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, key, klen) != 0) continue;
        const char *q = p + klen;
        while (*q == ' ' || *q == '\t' || *q == ':') q++;
        if (*q < '0' || *q > '9') return 0;
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(q, &end, 10);
        if (errno || end == q) return 0;
        *out = (uint64_t)v;
        return 1;
    }
    return 0;
}

static void read_meminfo(mb__mem_raw *r) {
    const char *path = getenv("MEMBASE_MEMINFO");
    char buf[8192];
    if (read_small(path && *path ? path : "/proc/meminfo", buf, sizeof buf) != 0) return;
    uint64_t kb;
    if (find_u64(buf, "MemAvailable:", &kb)) r->mem_available = kb * 1024u;
    if (find_u64(buf, "MemTotal:", &kb)) r->mem_total = kb * 1024u;
}

/* The process's cgroup directories, found once. */
static mb_mutex s_lock = MB_MUTEX_INIT;
static int s_found;
static char s_v2[512], s_v1[512];
static int s_v1_efd = -1, s_v1_tried;

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void find_cgroups(void) {
    char buf[4096];
    if (read_small("/proc/self/cgroup", buf, sizeof buf) != 0) return;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *ctrl = c1 + 1, *rel = c2 + 1;
        if (strcmp(line, "0") == 0 && *ctrl == '\0') {
            /* v2: the unified hierarchy, where it carries the memory
            ** controller (a hybrid system mounts it at /sys/fs/cgroup/unified
            ** without memory). */
            const char *roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
            for (size_t i = 0; i < 2 && !s_v2[0]; i++) {
                char dir[512], file[600];
                snprintf(dir, sizeof dir, "%s%s", roots[i], strcmp(rel, "/") ? rel : "");
                snprintf(file, sizeof file, "%s/memory.current", dir);
                if (access(file, R_OK) == 0) snprintf(s_v2, sizeof s_v2, "%s", dir);
            }
        } else {
            /* v1: "N:memory:/path" or "N:cpu,memory:/path" */
            char ctrls[256];
            snprintf(ctrls, sizeof ctrls, ",%s,", ctrl);
            if (!strstr(ctrls, ",memory,")) continue;
            char dir[512];
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory%s", strcmp(rel, "/") ? rel : "");
            /* In a cgroup namespace the path may not exist as written: the
            ** mount's root is then our own cgroup. */
            if (!is_dir(dir)) snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory");
            if (is_dir(dir)) snprintf(s_v1, sizeof s_v1, "%s", dir);
        }
    }
}

/* v2: memory.max of dir and each parent up to the mount: the smallest. */
static uint64_t v2_limit(const char *dir) {
    char path[600], buf[64];
    char d[512];
    snprintf(d, sizeof d, "%s", dir);
    uint64_t limit = 0;
    for (;;) {
        snprintf(path, sizeof path, "%s/memory.max", d);
        if (read_small(path, buf, sizeof buf) != 0) break;
        if (buf[0] >= '0' && buf[0] <= '9') {
            uint64_t v = strtoull(buf, NULL, 10);
            if (v && (limit == 0 || v < limit)) limit = v;
        }
        char *slash = strrchr(d, '/');
        if (!slash || slash == d) break;
        *slash = '\0';
    }
    return limit;
}

static void read_v2(const char *dir, mb__mem_raw *r) {
    char path[600], buf[64];
    snprintf(path, sizeof path, "%s/memory.current", dir);
    if (read_small(path, buf, sizeof buf) != 0) return;
    r->cg_version = 2;
    r->cg_usage = strtoull(buf, NULL, 10);
    r->cg_limit = v2_limit(dir);
}

static void read_v1(const char *dir, mb__mem_raw *r) {
    char path[600], buf[8192];
    uint64_t usage = 0, limit = 0;
    snprintf(path, sizeof path, "%s/memory.usage_in_bytes", dir);
    if (read_small(path, buf, sizeof buf) != 0) return;
    usage = strtoull(buf, NULL, 10);
    snprintf(path, sizeof path, "%s/memory.stat", dir);
    if (read_small(path, buf, sizeof buf) != 0 ||
        !find_u64(buf, "hierarchical_memory_limit", &limit)) {
        snprintf(path, sizeof path, "%s/memory.limit_in_bytes", dir);
        if (read_small(path, buf, sizeof buf) == 0) limit = strtoull(buf, NULL, 10);
    }
    r->cg_version = 1;
    r->cg_usage = usage;
    /* "No limit" is a huge number (PAGE_COUNTER_MAX pages). */
    r->cg_limit = limit >= (UINT64_C(1) << 60) ? 0 : limit;
}

/* v1 pressure: register an eventfd for "medium" on memory.pressure_level
** (cgroup.event_control), once; each sample then reads it without
** blocking. Only for a real cgroup directory, never an injected one. */
static int v1_event(const char *dir) {
    if (!s_v1_tried) {
        s_v1_tried = 1;
        char path[600], line[64];
        snprintf(path, sizeof path, "%s/memory.pressure_level", dir);
        int lfd = open(path, O_RDONLY | O_CLOEXEC);
        int efd = lfd >= 0 ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
        snprintf(path, sizeof path, "%s/cgroup.event_control", dir);
        int cfd = efd >= 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
        int ok = 0;
        if (cfd >= 0) {
            int n = snprintf(line, sizeof line, "%d %d medium", efd, lfd);
            ok = write(cfd, line, (size_t)n) == n;
            close(cfd);
        }
        if (lfd >= 0) close(lfd); /* the kernel holds its own reference */
        if (ok) s_v1_efd = efd;
        else if (efd >= 0) close(efd);
    }
    if (s_v1_efd < 0) return -1;
    uint64_t n = 0;
    ssize_t got = read(s_v1_efd, &n, sizeof n);
    return got == (ssize_t)sizeof n && n > 0;
}

/* "some avg10=1.23 avg60=... avg300=... total=12345" */
static int read_psi(const char *path, mb__mem_raw *r, mb_pressure_source src, int count_missing) {
    char buf[512];
    int e = read_small(path, buf, sizeof buf);
    if (e != 0) {
        if (e != ENOENT || count_missing) r->unreadable++;
        return 0;
    }
    const char *p = strstr(buf, "some ");
    const char *a = p ? strstr(p, "avg10=") : NULL;
    const char *t = p ? strstr(p, "total=") : NULL;
    if (!a || !t) {
        r->unreadable++;
        return 0;
    }
    char *end = NULL;
    double avg = strtod(a + 6, &end);
    if (end == a + 6 || avg < 0 || avg > 100) {
        r->unreadable++;
        return 0;
    }
    r->psi_known = 1;
    r->psi_source = src;
    r->psi_avg10 = avg;
    r->psi_total_us = strtoull(t + 6, NULL, 10);
    return 1;
}

void mb__memory_read_os(mb__mem_raw *r) {
    memset(r, 0, sizeof *r);
    r->v1_event = -1;
    r->os_low = -1;
    read_meminfo(r);

    const char *cg = getenv("MEMBASE_CGROUP");
    const char *psi = getenv("MEMBASE_PSI");
    mb_mutex_enter(&s_lock);
    if (cg && *cg) {
        char probe[600];
        snprintf(probe, sizeof probe, "%s/memory.current", cg);
        if (access(probe, F_OK) == 0) read_v2(cg, r);
        else read_v1(cg, r);
    } else {
        if (!s_found) {
            s_found = 1;
            find_cgroups();
        }
        if (s_v2[0]) read_v2(s_v2, r);
        else if (s_v1[0]) {
            read_v1(s_v1, r);
            r->v1_event = v1_event(s_v1);
        }
    }
    char v2psi[600] = "";
    if (!(cg && *cg) && s_v2[0]) snprintf(v2psi, sizeof v2psi, "%s/memory.pressure", s_v2);
    mb_mutex_leave(&s_lock);

    if (psi && *psi) read_psi(psi, r, MB_PRESSURE_PSI, 1);
    else if (!(v2psi[0] && read_psi(v2psi, r, MB_PRESSURE_CGROUP_PSI, 0)))
        read_psi("/proc/pressure/memory", r, MB_PRESSURE_PSI, 0);
}

#else /* not Linux: nothing is known */

void mb__memory_read_os(mb__mem_raw *r) {
    memset(r, 0, sizeof *r);
    r->v1_event = -1;
    r->os_low = -1;
}

#endif
