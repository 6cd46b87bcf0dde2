/*
** mb_scan.c -- a scanner's companion: sequential prefetch-ahead, sized by
** the memory the process may use, and drop-behind. Portable.
**
** A scanner moving forward through a view calls mb_scan_advance(pos). The
** core keeps `window` bytes ahead of pos requested, and issues the next
** request only when pos has crossed half of what was issued, so a scan of
** N bytes costs about 2N/window calls into the OS, not one per page.
**
** Once per MB_DROP_CHUNK of progress the scan takes a memory checkpoint (a
** cached reading, mb_memory_sample): the prefetch window shrinks to at
** most 1/(2*MB_PREFETCH_FRACTION) of what the process may use (a quarter
** of that under pressure), `auto` drop-behind turns on if pressure has
** appeared, and the chunks more than one chunk behind pos are released.
*/
#include "mb_internal.h"

#define NOT_STARTED UINT64_MAX

void mb_scan_init(mb_scan *s, mb_map *m, uint64_t window, mb_populate how) {
    s->map = m;
    s->window = window ? window : MB_SCAN_DEFAULT_WINDOW;
    s->asked = s->window;
    s->issued = 0;
    /* The default is no requests: the kernel's fault read-ahead won the
    ** measurement (see mb_map.h). */
    s->how = (how == MB_POP_DEFAULT) ? MB_POP_NONE : how;
    s->requests = 0;
    s->skipped = 0;
    s->policy = (int)mb_dropbehind_default();
    s->dropping = -1;            /* decided at the first checkpoint */
    s->released = NOT_STARTED;
    s->dropped = 0;
    s->checked = 0;
    s->at = 0;
}

void mb_scan_set_dropbehind(mb_scan *s, mb_dropbehind policy) {
    s->policy = (int)policy;
    s->dropping = -1;
}

static void checkpoint(mb_scan *s, uint64_t pos) {
    s->checked = pos;
    mb_memory mem;
    if (mb_memory_sample(&mem) != MB_OK) return;
    if (s->dropping < 0)
        s->dropping = mb_dropbehind_wanted((mb_dropbehind)s->policy, mb_map_file_size(s->map));
    else if (s->policy == MB_DROP_AUTO && mem.pressure)
        s->dropping = 1;
    if (s->how == MB_POP_NONE) return;
    uint64_t w = s->asked;
    if (mem.available != UINT64_MAX) {
        uint64_t cap = mem.available / (2u * MB_PREFETCH_FRACTION) / (mem.pressure ? 4u : 1u);
        uint64_t page = mb_page_size();
        if (cap < page) cap = page;
        if (w > cap) w = cap;
    }
    if (w != s->window && w < s->asked) mb__stat_throttled();
    s->window = w;
    atomic_store_explicit(&mb__map_io(s->map)->window, w, memory_order_relaxed);
}

static int release(mb_scan *s, uint64_t to) {
    if (to <= s->released) return MB_OK;
    uint64_t from = s->released;
    uint64_t size = mb_map_size(s->map);
    if (to > size) to = size;
    s->released = to;
    if (from >= to) return MB_OK;
    int rc = mb_map_release(s->map, from, to - from, MB_REL_DEFAULT);
    if (rc == MB_OK) s->dropped += to - from;
    return rc;
}

int mb_scan_advance(mb_scan *s, uint64_t pos) {
    uint64_t prev = s->at;
    if (pos > s->at) s->at = pos;
    if (s->released == NOT_STARTED || pos > prev + MB_DROP_CHUNK) {
        /* Release only what this scan has read: from where it began, or
        ** from where it landed after a seek (a step of more than a chunk:
        ** the bytes jumped over were never read). */
        s->released = pos - pos % MB_DROP_CHUNK;
        checkpoint(s, pos);
    } else if (pos >= s->checked + MB_DROP_CHUNK) {
        checkpoint(s, pos);
    }
    if (s->dropping == 1 && pos >= s->released + 2u * (uint64_t)MB_DROP_CHUNK) {
        /* Keep one chunk behind the scanner: it may still look back. */
        uint64_t to = pos - MB_DROP_CHUNK;
        (void)release(s, to - to % MB_DROP_CHUNK); /* a hint: failure is not the scan's */
    }
    if (s->how == MB_POP_NONE) return MB_OK;
    uint64_t size = mb_map_size(s->map);
    if (s->issued >= size) return MB_OK;               /* all requested */
    if (pos + s->window / 2 < s->issued) return MB_OK; /* still ahead */
    uint64_t start = pos > s->issued ? pos : s->issued;
    if (start >= size) return MB_OK;
    uint64_t len = s->window - (start - pos);
    if (len > size - start) len = size - start;
    s->issued = start + len;
    /* Probe one page, the window's last: read-ahead fills a file in order,
    ** so if the end is in memory the rest is too. A full mincore of each
    ** window cost 14.5 ms per GiB of a cached file. */
    uint64_t resident = 0;
    if (mb_map_residency(s->map, start + len - 1, 1, &resident) == MB_OK && resident == 1) {
        s->skipped++;
        return MB_OK;
    }
    s->requests++;
    return mb_map_populate(s->map, start, len, s->how, NULL);
}

int mb_scan_finish(mb_scan *s, uint64_t pos) {
    if (s->released == NOT_STARTED || s->dropping != 1) return MB_OK;
    return release(s, pos > s->at ? pos : s->at);
}
