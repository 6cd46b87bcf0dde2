/*
** mb_line_index.c -- the sampled line index (see mb_line_index.h).
**
** Building reads the file through a guarded window (mb_window.c), 4 KiB at
** a time: a 4 KiB block whose delimiters do not reach the next sample is
** only counted (SIMD), and only the block that holds the next sample's
** delimiter is walked with memchr. Values in the cache are never changed:
** an extension copies the samples into a new index and puts that.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mb_find.h"
#include "mb_line_index.h"
#include "mb_window.h"

#define BLOCK 4096u

void mb_line_index_tag(unsigned char delim, char tag[MB_CACHE_MAX_TAG + 1]) {
    snprintf(tag, MB_CACHE_MAX_TAG + 1, "membase_lines/index/%02x", (unsigned)delim);
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void ix_free(void *p) {
    mb_line_index *ix = p;
    if (!ix) return;
    free(ix->sample);
    free(ix);
}

static mb_line_index *ix_new(unsigned char delim) {
    mb_line_index *ix = calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->delim = delim;
    ix->sample = malloc(64 * sizeof *ix->sample);
    if (!ix->sample) {
        free(ix);
        return NULL;
    }
    ix->sample[0] = 0;     /* line 1 starts at byte 0 */
    ix->nsample = 1;
    return ix;
}

static mb_line_index *ix_copy(const mb_line_index *old) {
    mb_line_index *ix = malloc(sizeof *ix);
    if (!ix) return NULL;
    *ix = *old;
    uint64_t cap = old->nsample < 64 ? 64 : old->nsample;
    ix->sample = malloc((size_t)cap * sizeof *ix->sample);
    if (!ix->sample) {
        free(ix);
        return NULL;
    }
    memcpy(ix->sample, old->sample, (size_t)old->nsample * sizeof *ix->sample);
    return ix;
}

/* Append a sample; the array grows by doubling (its capacity is the next
** power of two at or above nsample, and at least 64). */
static int push_sample(mb_line_index *ix, uint64_t off) {
    uint64_t n = ix->nsample;
    if (n >= 64 && (n & (n - 1)) == 0) {
        uint64_t *p = realloc(ix->sample, (size_t)(n * 2) * sizeof *p);
        if (!p) return MB_ENOMEM;
        ix->sample = p;
    }
    ix->sample[ix->nsample++] = off;
    return MB_OK;
}

/* Read [ix->scanned, size) and bring the index up to it. */
static int ix_scan(mb_line_index *ix, mb_map *m, uint64_t size) {
    const unsigned char d = ix->delim;
    int rc = MB_OK;
    if (size > ix->scanned) {
        mb_window w;
        rc = mb_window_init(&w, m, size, 0);
        if (rc != MB_OK) return rc;
        uint64_t pos = ix->scanned;
        ix->bytes_read += size - pos;
        while (pos < size && rc == MB_OK) {
            rc = mb_window_load(&w, pos);
            if (rc != MB_OK) break;
            const unsigned char *buf = w.buf, *end = w.buf + w.len;
            /* The window may start before pos (it is aligned down). */
            for (const unsigned char *b = buf + (pos - w.off); b < end && rc == MB_OK;) {
                const unsigned char *be = (size_t)(end - b) > BLOCK ? b + BLOCK : end;
                uint64_t next = ix->nsample * MB_LINE_INDEX_EVERY; /* delimiter # of the next sample */
                uint64_t c = mb_count_byte(b, (size_t)(be - b), d);
                if (ix->lines + c < next) {
                    if (c) {
                        ix->lines += c;
                        ix->scanned = w.off + (uint64_t)(mb_last_byte(b, (size_t)(be - b), d) - buf) + 1;
                    }
                } else {
                    for (const unsigned char *p = b; p < be;) {
                        const unsigned char *hit = memchr(p, d, (size_t)(be - p));
                        if (!hit) break;
                        p = hit + 1;
                        ix->lines++;
                        ix->scanned = w.off + (uint64_t)(p - buf);
                        if (ix->lines == ix->nsample * MB_LINE_INDEX_EVERY) {
                            rc = push_sample(ix, ix->scanned);
                            if (rc != MB_OK) break;
                        }
                    }
                }
                b = be;
            }
            pos = w.off + w.len;
        }
        mb_window_free(&w);
        if (rc != MB_OK) return rc;
    }
    ix->covered = size;
    /* The tail that tells an append from a rewrite next time. */
    ix->tail_len = ix->scanned < MB_LINE_INDEX_TAIL ? ix->scanned : MB_LINE_INDEX_TAIL;
    ix->tail_hash = 0;
    if (ix->tail_len) {
        unsigned char tail[MB_LINE_INDEX_TAIL];
        rc = mb_map_read(m, ix->scanned - ix->tail_len, tail, (size_t)ix->tail_len);
        if (rc == MB_ERANGE) rc = MB_EFAULT;
        if (rc != MB_OK) return rc;
        ix->tail_hash = fnv1a(tail, (size_t)ix->tail_len);
    }
    return MB_OK;
}

/* Was the file only appended to since ix was built? Its bytes up to
** `scanned` must still be there, ending as they did. */
static int appended_only(const mb_line_index *ix, mb_map *m, uint64_t size) {
    if (size < ix->scanned || size < ix->covered) return 0;
    if (ix->tail_len == 0) return 1;
    unsigned char tail[MB_LINE_INDEX_TAIL];
    if (mb_map_read(m, ix->scanned - ix->tail_len, tail, (size_t)ix->tail_len) != MB_OK) return 0;
    return fnv1a(tail, (size_t)ix->tail_len) == ix->tail_hash;
}

int mb_line_index_get(mb_map *m, unsigned char delim, uint64_t size, mb_cache_item **out) {
    char tag[MB_CACHE_MAX_TAG + 1];
    mb_line_index_tag(delim, tag);
    uint64_t fsize = 0;
    int64_t mtime = 0;
    int rc = mb_map_stamp(m, &fsize, &mtime);
    if (rc != MB_OK) return rc;
    if (size > mb_map_size(m)) size = mb_map_size(m);

    mb_cache_item *it = NULL;
    mb_line_index *ix = NULL;
    if (mb_cache_get(m, tag, &it) == MB_OK) {
        const mb_line_index *old = mb_cache_value(it);
        /* Unchanged since it was built: usable, also by a caller whose view
        ** of the file is older (smaller) than the index; lines past that
        ** caller's end are simply not found by its scan. */
        if (mb_cache_mtime(it) == mtime && mb_cache_size(it) == fsize && old->covered >= size) {
            *out = it;
            return MB_OK;
        }
        if (appended_only(old, m, size)) {
            ix = ix_copy(old);
            if (ix) ix->extends++;
        } else {
            ix = ix_new(delim);
            if (ix) {
                ix->builds = old->builds + 1;
                ix->extends = old->extends;
                ix->bytes_read = old->bytes_read;
            }
        }
        mb_cache_release(it);
    } else {
        ix = ix_new(delim);
        if (ix) ix->builds = 1;
    }
    if (!ix) return MB_ENOMEM;
    rc = ix_scan(ix, m, size);
    if (rc != MB_OK) {
        ix_free(ix);
        return rc;
    }
    return mb_cache_put(m, tag, fsize, mtime, ix, sizeof *ix + ix->nsample * sizeof *ix->sample,
                        ix_free, out);
}

void mb_line_index_seek(const mb_line_index *ix, uint64_t line, uint64_t *off, uint64_t *at) {
    uint64_t j = (line - 1) / MB_LINE_INDEX_EVERY;
    if (j >= ix->nsample) j = ix->nsample - 1;
    *off = ix->sample[j];
    *at = j * MB_LINE_INDEX_EVERY + 1;
}
