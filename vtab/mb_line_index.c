/*
** mb_line_index.c -- the sampled line index (see mb_line_index.h).
**
** Building reads the file through a guarded window (mb_window.c), 4 KiB at
** a time: a 4 KiB block whose delimiters do not reach the next sample is
** only counted (SIMD), and only the block that holds the next sample's
** delimiter is walked with memchr. Every byte read is also fed to the
** index's hash (the proof that it describes the file; mb_line_index.h).
** Values in the cache are never changed: an extension or a re-stamp copies
** the index into a new one and puts that.
**
** The change stamp is the core's (mb_map_change_stamp, of the mapped file
** itself): no platform code here.
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

/* ------------------------------------------------------------ hash */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t rd64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);   /* the byte order of the machine: the hash is
                        ** compared only within this process */
    return v;
}
static uint64_t round64(uint64_t acc, uint64_t in) { return rotl64(acc + in * P2, 31) * P1; }

static void hash_init(mb_line_hash *h) {
    h->v[0] = P1 + P2;
    h->v[1] = P2;
    h->v[2] = 0;
    h->v[3] = 0 - P1;
    h->nbuf = 0;
    h->total = 0;
}

static void hash_block(mb_line_hash *h, const unsigned char *p) {
    h->v[0] = round64(h->v[0], rd64(p));
    h->v[1] = round64(h->v[1], rd64(p + 8));
    h->v[2] = round64(h->v[2], rd64(p + 16));
    h->v[3] = round64(h->v[3], rd64(p + 24));
}

/* Feed p[0..n); the four lanes are independent, so this runs at several
** bytes per cycle (about memory speed on a warm window). */
static void hash_feed(mb_line_hash *h, const unsigned char *p, size_t n) {
    h->total += n;
    if (h->nbuf) {
        size_t k = 32 - h->nbuf;
        if (k > n) k = n;
        memcpy(h->buf + h->nbuf, p, k);
        h->nbuf += (uint32_t)k;
        p += k;
        n -= k;
        if (h->nbuf < 32) return;
        hash_block(h, h->buf);
        h->nbuf = 0;
    }
    for (; n >= 32; p += 32, n -= 32) hash_block(h, p);
    if (n) {
        memcpy(h->buf, p, n);
        h->nbuf = (uint32_t)n;
    }
}

static uint64_t hash_digest(const mb_line_hash *h) {
    uint64_t d = rotl64(h->v[0], 1) + rotl64(h->v[1], 7) + rotl64(h->v[2], 12) + rotl64(h->v[3], 18);
    for (int i = 0; i < 4; i++) d = (d ^ round64(0, h->v[i])) * P1 + P3;
    d ^= h->total;
    for (uint32_t i = 0; i < h->nbuf; i++) d = rotl64(d ^ (h->buf[i] * P3), 11) * P1;
    d ^= d >> 33;
    d *= P2;
    d ^= d >> 29;
    return d;
}

/* Hash the file's bytes [0, n) into *h (from its initial state). */
static int hash_file(mb_map *m, uint64_t n, mb_line_hash *h) {
    hash_init(h);
    if (n == 0) return MB_OK;
    mb_window w;
    int rc = mb_window_init(&w, m, n, 0);
    if (rc != MB_OK) return rc;
    for (uint64_t pos = 0; pos < n && rc == MB_OK; pos = w.off + w.len) {
        rc = mb_window_load(&w, pos);
        if (rc == MB_OK) hash_feed(h, w.buf, w.len);
    }
    mb_window_free(&w);
    return rc;
}

/* ------------------------------------------------------------ index */

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
    hash_init(&ix->hash);
    return ix;
}

static mb_line_index *ix_copy(const mb_line_index *old) {
    mb_line_index *ix = malloc(sizeof *ix);
    if (!ix) return NULL;
    *ix = *old;
    /* The capacity push_sample assumes: the next power of two at or above
    ** nsample, at least 64. (Exactly nsample, as this was, let the next
    ** samples of an extension run past the array: heap corruption.) */
    uint64_t cap = 64;
    while (cap < old->nsample) cap *= 2;
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

/* Read [ix->scanned, size) and bring the index up to it; the bytes past
** ix->covered (those not hashed yet) go into the hash. */
static int ix_scan(mb_line_index *ix, mb_map *m, uint64_t size) {
    const unsigned char d = ix->delim;
    int rc = MB_OK;
    if (size <= ix->covered) return MB_OK;
    uint64_t hashed = ix->covered;
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
            if (w.off + w.len > hashed) {
                uint64_t from = hashed > w.off ? hashed : w.off;
                hash_feed(&ix->hash, buf + (from - w.off), (size_t)(w.off + w.len - from));
                hashed = w.off + w.len;
            }
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
    return MB_OK;
}

/* Do the file's bytes [0, ix->covered) still hash as they did? *same = 1
** if so. Counts the work in ix (a copy the caller owns). */
static int ix_verify(mb_line_index *ix, mb_map *m, int *same) {
    mb_line_hash h;
    *same = 0;
    ix->verifies++;
    if (ix->covered > mb_map_size(m)) return MB_OK;   /* shorter now */
    ix->bytes_verified += ix->covered;
    int rc = hash_file(m, ix->covered, &h);
    if (rc == MB_EFAULT) return MB_OK;   /* truncated while read: rebuild */
    if (rc != MB_OK) return rc;
    *same = h.total == ix->hash.total && hash_digest(&h) == hash_digest(&ix->hash);
    return MB_OK;
}

int mb_line_index_get(mb_map *m, unsigned char delim, uint64_t size, mb_cache_item **out) {
    char tag[MB_CACHE_MAX_TAG + 1];
    mb_line_index_tag(delim, tag);
    mb_stamp stamp;
    /* The stamp is read before any byte: a write after this moves it. */
    int rc = mb_map_change_stamp(m, &stamp);
    if (rc != MB_OK) return rc;
    if (size > mb_map_size(m)) size = mb_map_size(m);

    mb_cache_item *it = NULL;
    mb_line_index *ix = NULL;
    if (mb_cache_get(m, tag, &it) == MB_OK) {
        const mb_line_index *old = mb_cache_value(it);
        int same = mb_stamp_unchanged(&old->stamp, &stamp);
        /* Unchanged since it was built: usable, also by a caller whose view
        ** of the file is older (smaller) than the index; lines past that
        ** caller's end are simply not found by its scan. */
        if (same && old->covered >= size) {
            *out = it;
            return MB_OK;
        }
        ix = ix_copy(old);
        mb_cache_release(it);
        if (!ix) return MB_ENOMEM;
        if (!same) {
            rc = ix_verify(ix, m, &same);
            if (rc != MB_OK) {
                ix_free(ix);
                return rc;
            }
        }
        if (same) {
            if (size > ix->covered) ix->extends++;
        } else {
            /* Rewritten: a new index, keeping the history counters. */
            mb_line_index *fresh = ix_new(delim);
            if (!fresh) {
                ix_free(ix);
                return MB_ENOMEM;
            }
            fresh->builds = ix->builds + 1;
            fresh->extends = ix->extends;
            fresh->bytes_read = ix->bytes_read;
            fresh->verifies = ix->verifies;
            fresh->bytes_verified = ix->bytes_verified;
            ix_free(ix);
            ix = fresh;
        }
    } else {
        ix = ix_new(delim);
        if (ix) ix->builds = 1;
    }
    if (!ix) return MB_ENOMEM;
    ix->stamp = stamp;
    rc = ix_scan(ix, m, size);
    if (rc != MB_OK) {
        ix_free(ix);
        return rc;
    }
    return mb_cache_put(m, tag, stamp.size, stamp.mtime_ns, ix, sizeof *ix + ix->nsample * sizeof *ix->sample,
                        ix_free, out);
}

void mb_line_index_seek(const mb_line_index *ix, uint64_t line, uint64_t *off, uint64_t *at) {
    uint64_t j = (line - 1) / MB_LINE_INDEX_EVERY;
    if (j >= ix->nsample) j = ix->nsample - 1;
    *off = ix->sample[j];
    *at = j * MB_LINE_INDEX_EVERY + 1;
}
