/*
** mb_scan.c -- sequential prefetch-ahead for scanners. Portable.
**
** A scanner moving forward through a view calls mb_scan_advance(pos). The
** core keeps `window` bytes ahead of pos requested, and issues the next
** request only when pos has crossed half of what was issued, so a scan of
** N bytes costs about 2N/window calls into the OS, not one per page.
*/
#include "mb_internal.h"

void mb_scan_init(mb_scan *s, mb_map *m, uint64_t window, mb_populate how) {
    s->map = m;
    s->window = window ? window : MB_SCAN_DEFAULT_WINDOW;
    s->issued = 0;
    /* The default is no requests: the kernel's fault read-ahead won the
    ** measurement (see mb_map.h). */
    s->how = (how == MB_POP_DEFAULT) ? MB_POP_NONE : how;
    s->requests = 0;
    s->skipped = 0;
}

int mb_scan_advance(mb_scan *s, uint64_t pos) {
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
