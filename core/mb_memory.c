/*
** mb_memory.c -- memory manners, portable part: the cached reading of what
** the process may use and whether it is under pressure, and the
** drop-behind policy (populate bounded by memory is mb_populate.c). The OS
** is read by mb__memory_read_os (mb_memory_posix.c / mb_memory_win.c).
*/
#include <stdatomic.h>
#include <string.h>

#include "mb_internal.h"
#include "mb_mutex.h"

/* ---------------------------------------------------------------- sample */
static mb_mutex s_lock = MB_MUTEX_INIT;
static mb_memory s_last;          /* guarded by s_lock */
static uint64_t s_last_ms;        /* 0 = no reading yet */
static uint64_t s_psi_total, s_psi_ms; /* the PSI counter at the last reading */
static int s_psi_have;
static _Atomic uint64_t s_events, s_unreadable;

/* PSI "some" stall time above this share of the wall time since the last
** reading is pressure (5%), or avg10 at or above 10% for a first reading. */
#define PSI_SHARE_PERMILLE 50u
#define PSI_AVG10_FIRST 10.0
/* Without an OS measure: available below 1/32 of the limit (or RAM). */
#define LOW_AVAILABLE_SHIFT 5

static void interpret(const mb__mem_raw *r, uint64_t now, mb_memory *m) {
    memset(m, 0, sizeof *m);
    m->mem_available = r->mem_available;
    m->mem_total = r->mem_total;
    m->cgroup_version = r->cg_version;
    m->cgroup_limit = r->cg_limit;
    m->cgroup_usage = r->cg_usage;
    uint64_t avail = r->mem_available ? r->mem_available : UINT64_MAX;
    if (r->cg_limit) {
        uint64_t room = r->cg_usage < r->cg_limit ? r->cg_limit - r->cg_usage : 0;
        if (room < avail) avail = room;
    }
    m->available = avail;

    if (r->os_low >= 0) {
        m->source = MB_PRESSURE_OS;
        m->pressure = r->os_low == 1;
    }
    if (r->v1_event >= 0) {
        m->source = MB_PRESSURE_CGROUP_V1;
        m->pressure |= r->v1_event == 1;
    }
    if (r->psi_known) {
        int p;
        if (s_psi_have && r->psi_total_us >= s_psi_total) {
            uint64_t stall_us = r->psi_total_us - s_psi_total;
            uint64_t wall_us = (now > s_psi_ms ? now - s_psi_ms : 1u) * 1000u;
            p = stall_us > 0 && stall_us * 1000u >= wall_us * PSI_SHARE_PERMILLE;
        } else {
            p = r->psi_avg10 >= PSI_AVG10_FIRST;
        }
        s_psi_total = r->psi_total_us;
        s_psi_ms = now;
        s_psi_have = 1;
        if (m->source == MB_PRESSURE_NONE) m->source = r->psi_source;
        m->pressure |= p;
    } else {
        s_psi_have = 0;
    }
    if (m->source == MB_PRESSURE_NONE) {
        uint64_t whole = r->cg_limit ? r->cg_limit : r->mem_total;
        if (whole && avail != UINT64_MAX) {
            m->source = MB_PRESSURE_AVAILABLE;
            m->pressure = avail < (whole >> LOW_AVAILABLE_SHIFT);
        }
    }
}

static int take_reading(mb_memory *out, int force) {
    uint64_t now = mb__now_ms();
    mb_mutex_enter(&s_lock);
    if (!force && s_last_ms && now - s_last_ms < MB_MEMORY_INTERVAL_MS) {
        *out = s_last;
        mb_mutex_leave(&s_lock);
        return MB_OK;
    }
    mb__mem_raw raw;
    mb__memory_read_os(&raw);
    if (raw.unreadable)
        atomic_fetch_add_explicit(&s_unreadable, raw.unreadable, memory_order_relaxed);
    int was = s_last_ms ? s_last.pressure : 0;
    mb_memory m;
    interpret(&raw, now ? now : 1, &m);
    s_last = m;
    s_last_ms = now ? now : 1;
    mb_mutex_leave(&s_lock);
    /* The registry watches this count (it trims its idle maps when it
    ** moves): memory calls nobody above it. */
    if (m.pressure && !was) atomic_fetch_add_explicit(&s_events, 1, memory_order_relaxed);
    *out = m;
    return MB_OK;
}

int mb_memory_sample(mb_memory *out) {
    if (!out) return mb__fail(MB_EINVAL, 0);
    return take_reading(out, 0);
}

int mb_memory_read(mb_memory *out) {
    if (!out) return mb__fail(MB_EINVAL, 0);
    return take_reading(out, 1);
}

void mb__memory_counters(uint64_t *events, uint64_t *unreadable) {
    *events = atomic_load_explicit(&s_events, memory_order_relaxed);
    *unreadable = atomic_load_explicit(&s_unreadable, memory_order_relaxed);
}

const char *mb_pressure_source_name(mb_pressure_source s) {
    switch (s) {
    case MB_PRESSURE_NONE:       return "none";
    case MB_PRESSURE_PSI:        return "psi";
    case MB_PRESSURE_CGROUP_PSI: return "cgroup-psi";
    case MB_PRESSURE_CGROUP_V1:  return "cgroup-v1";
    case MB_PRESSURE_AVAILABLE:  return "available";
    case MB_PRESSURE_OS:         return "os";
    }
    return "?";
}

/* ---------------------------------------------------------------- policy */
static _Atomic int s_default = MB_DROP_AUTO;

const char *mb_dropbehind_name(mb_dropbehind p) {
    switch (p) {
    case MB_DROP_AUTO: return "auto";
    case MB_DROP_ON:   return "on";
    case MB_DROP_OFF:  return "off";
    }
    return "?";
}

static int same_word(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (x != *b) return 0;
    }
    return *a == '\0' && *b == '\0';
}

int mb_dropbehind_parse(const char *text, mb_dropbehind *out) {
    if (!text || !out) return mb__fail(MB_EINVAL, 0);
    static const struct { const char *word; mb_dropbehind p; } words[] = {
        {"auto", MB_DROP_AUTO}, {"on", MB_DROP_ON}, {"off", MB_DROP_OFF},
        {"1", MB_DROP_ON}, {"0", MB_DROP_OFF}, {"true", MB_DROP_ON},
        {"false", MB_DROP_OFF}, {"yes", MB_DROP_ON}, {"no", MB_DROP_OFF}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (same_word(text, words[i].word)) {
            *out = words[i].p;
            return MB_OK;
        }
    }
    return mb__fail(MB_EINVAL, 0);
}

void mb_set_dropbehind_default(mb_dropbehind p) {
    if ((unsigned)p <= MB_DROP_OFF) atomic_store_explicit(&s_default, (int)p, memory_order_relaxed);
}

mb_dropbehind mb_dropbehind_default(void) {
    return (mb_dropbehind)atomic_load_explicit(&s_default, memory_order_relaxed);
}

int mb_dropbehind_wanted(mb_dropbehind policy, uint64_t file_size) {
    if (policy == MB_DROP_ON) return 1;
    if (policy != MB_DROP_AUTO) return 0;
    mb_memory m;
    if (mb_memory_sample(&m) != MB_OK) return 0;
    if (m.pressure) return 1;
    return m.available != UINT64_MAX && file_size > m.available / MB_DROP_AUTO_FRACTION;
}

const char *mb_release_name(mb_release r) {
    switch (r) {
    case MB_REL_DEFAULT:       return "default";
    case MB_REL_FADVISE:       return "fadvise";
    case MB_REL_UNMAP_FADVISE: return "unmap+fadvise";
    case MB_REL_PAGEOUT:       return "pageout";
    case MB_REL_COLD:          return "cold";
    }
    return "?";
}
