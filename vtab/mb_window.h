/*
** mb_window.h -- a guarded window over a mapped file, for scanners that
** must survive the file being truncated underneath them.
**
** A scanner never dereferences the mapping itself: it reads the file in
** windows (a block of bytes copied out of the mapping with the core's
** fault-guarded copy, mb_map_read) and scans the copy. After every copy it
** checks the file's size (mb_map_stamp): a file that became shorter than
** what was read is reported as truncated even where the copy did not fault
** (the bytes past the new end of the last page read as zeros).
**
** Every function returns an MB_* code. MB_EFAULT means "the file was
** truncated (or became unreadable) during the scan"; MB_ERANGE from the
** core (another user refreshed the shared view to a smaller size) is
** reported as MB_EFAULT too.
*/
#ifndef MB_WINDOW_H
#define MB_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include "mb_map.h"

#define MB_WINDOW_DEFAULT (256u * 1024u)

typedef struct mb_window {
    mb_map        *map;
    uint64_t       end;     /* the scan's end: bytes [0, end) may be read */
    unsigned char *buf;     /* holds file bytes [off, off+len); page aligned */
    void          *mem;     /* the allocation buf lies in */
    size_t         cap;
    uint64_t       off;
    size_t         len;
    mb_scan        scan;    /* the core's prefetch-ahead */
    uint64_t       loads;   /* windows copied (statistics) */
} mb_window;

/* Set up a window of `cap` bytes (0 = MB_WINDOW_DEFAULT) over [0, end) of
** the view of m. MB_ENOMEM. */
int  mb_window_init(mb_window *w, mb_map *m, uint64_t end, size_t cap);
void mb_window_free(mb_window *w);

/* Make the window hold byte `off` and what follows it, up to cap bytes or
** the end: [off', min(off'+cap, end)) where off' is off rounded down to
** 4 KiB, so that source and destination of the copy are equally aligned
** (a copy between differently aligned buffers ran 1.5x slower on AMD EPYC,
** glibc 2.36). Callers index the window by w->off. off < end. */
int  mb_window_load(mb_window *w, uint64_t off);

/* Copy [off, off+n) of the file into dst, from the window where it holds
** the bytes, else straight from the mapping (guarded). off+n <= end. */
int  mb_window_copy(mb_window *w, uint64_t off, void *dst, size_t n);

/* Pointer to [off, off+n) if the window holds all of it, else NULL. */
const unsigned char *mb_window_at(const mb_window *w, uint64_t off, size_t n);

/* The offset of the first byte c at or after `from`, or w->end if there is
** none before the end; loads windows as it goes. */
int  mb_window_find_byte(mb_window *w, uint64_t from, unsigned char c, uint64_t *pos);

/* Skip `count` bytes equal to c from `from`: *pos receives the offset just
** past the count-th one, *skipped how many were found (fewer than count if
** the end came first; *pos is then w->end). */
int  mb_window_skip_bytes(mb_window *w, uint64_t from, unsigned char c, uint64_t count,
                          uint64_t *pos, uint64_t *skipped);

/* MB_OK if the file still has at least `upto` bytes, else MB_EFAULT. */
int  mb_window_check(const mb_window *w, uint64_t upto);

#endif /* MB_WINDOW_H */
