/*
** mb_window.c -- a guarded window over a mapped file (see mb_window.h).
**
** Why copy at all: the view is shared with the OS page cache, and a raw
** load from a page past the file's new end kills the process (SIGBUS).
** The guarded copy turns that into MB_EFAULT. A window of 256 KiB stays in
** the CPU's L2 cache, so the scan that follows reads the copy at cache
** speed; the copy is the price of never crashing (bench/mb_bench_sql_lines
** measures it against a raw scan of the mapping).
*/
#include <stdlib.h>
#include <string.h>
#include "mb_find.h"
#include "mb_window.h"

#define MB_WINDOW_ALIGN 4096u

int mb_window_init(mb_window *w, mb_map *m, uint64_t end, size_t cap) {
    memset(w, 0, sizeof *w);
    w->map = m;
    w->end = end;
    w->cap = cap ? cap : MB_WINDOW_DEFAULT;
    /* Page-aligned by hand: aligned_alloc is not everywhere (mingw). */
    w->mem = malloc(w->cap + MB_WINDOW_ALIGN);
    if (!w->mem) return MB_ENOMEM;
    w->buf = (unsigned char *)w->mem + (MB_WINDOW_ALIGN - (uintptr_t)w->mem % MB_WINDOW_ALIGN);
    mb_scan_init(&w->scan, m, 0, MB_POP_DEFAULT);
    return MB_OK;
}

void mb_window_free(mb_window *w) {
    if (w->mem) (void)mb_scan_finish(&w->scan, w->off + w->len);
    free(w->mem);
    w->mem = NULL;
    w->buf = NULL;
    w->len = 0;
}

int mb_window_check(const mb_window *w, uint64_t upto) {
    uint64_t size = 0;
    int rc = mb_map_stamp(w->map, &size, NULL);
    if (rc != MB_OK) return rc;
    return size < upto ? MB_EFAULT : MB_OK;
}

/* A guarded read of the mapping, with truncation reported one way. */
static int guarded_read(mb_window *w, uint64_t off, void *dst, size_t n) {
    int rc = mb_map_read(w->map, off, dst, n);
    if (rc == MB_ERANGE) rc = MB_EFAULT;
    /* Checked after the copy: a truncation that came first is seen here. */
    if (rc == MB_OK) rc = mb_window_check(w, off + n);
    return rc;
}

int mb_window_load(mb_window *w, uint64_t off) {
    if (off >= w->end) return MB_ERANGE;
    off -= off % MB_WINDOW_ALIGN;
    uint64_t n = w->end - off;
    if (n > w->cap) n = w->cap;
    (void)mb_scan_advance(&w->scan, off);   /* a hint: its failure is not ours */
    w->len = 0;
    int rc = guarded_read(w, off, w->buf, (size_t)n);
    if (rc != MB_OK) return rc;
    w->off = off;
    w->len = (size_t)n;
    w->loads++;
    return MB_OK;
}

const unsigned char *mb_window_at(const mb_window *w, uint64_t off, size_t n) {
    if (off >= w->off && off - w->off <= w->len && n <= w->len - (off - w->off))
        return w->buf + (off - w->off);
    return NULL;
}

int mb_window_copy(mb_window *w, uint64_t off, void *dst, size_t n) {
    const unsigned char *p = mb_window_at(w, off, n);
    if (p) {
        memcpy(dst, p, n);
        return MB_OK;
    }
    return guarded_read(w, off, dst, n);
}

int mb_window_find_byte(mb_window *w, uint64_t from, unsigned char c, uint64_t *pos) {
    while (from < w->end) {
        if (!(from >= w->off && from < w->off + w->len)) {
            int rc = mb_window_load(w, from);
            if (rc != MB_OK) return rc;
        }
        size_t at = (size_t)(from - w->off);
        const unsigned char *hit = memchr(w->buf + at, c, w->len - at);
        if (hit) {
            *pos = w->off + (uint64_t)(hit - w->buf);
            return MB_OK;
        }
        from = w->off + w->len;
    }
    *pos = w->end;
    return MB_OK;
}

int mb_window_skip_bytes(mb_window *w, uint64_t from, unsigned char c, uint64_t count,
                         uint64_t *pos, uint64_t *skipped) {
    uint64_t done = 0;
    while (done < count && from < w->end) {
        if (!(from >= w->off && from < w->off + w->len)) {
            int rc = mb_window_load(w, from);
            if (rc != MB_OK) return rc;
        }
        size_t at = (size_t)(from - w->off);
        const unsigned char *p = w->buf + at, *e = w->buf + w->len;
        /* Whole windows that hold fewer than the bytes still to skip are
        ** counted, not walked. */
        uint64_t here = mb_count_byte(p, (size_t)(e - p), c);
        if (here < count - done) {
            done += here;
            from = w->off + w->len;
            continue;
        }
        while (done < count) {
            const unsigned char *hit = memchr(p, c, (size_t)(e - p));
            if (!hit) return MB_EIO;   /* cannot be: the window holds enough */
            p = hit + 1;
            done++;
        }
        from = w->off + (uint64_t)(p - w->buf);
    }
    *skipped = done;
    *pos = done < count ? w->end : from;
    return MB_OK;
}
