/*
** mb_line_index.h -- the line index of a text file: line number -> byte
** offset, sampled every MB_LINE_INDEX_EVERY lines, shared by the whole
** process through the core's cache (mb_cache_*), keyed by the file and the
** delimiter, stamped with the size and mtime it was built for. No SQLite.
**
** An index covers the file up to `scanned`, the offset just past the last
** delimiter it has seen: lines 1..lines end there, and line lines+1 starts
** there (it may be the unterminated last line, or not exist yet).
**
** Proof that the index still describes the file. The index keeps a hash of
** every byte it was built from, [0, covered), and the file's change stamp
** (identity, size, mtime and ctime -- the status-change time, which no
** user can set: touch -r and rsync -t restore the mtime, not the ctime),
** read before those bytes were. It is used as it is only when the stamp is
** unchanged and was already 2 s old when it was read (a write in the same
** clock tick as the read would not move it: "racy" stamps, as git calls
** them, are not trusted). Otherwise the file's bytes [0, covered) are
** hashed again and compared: equal, the index is kept (extended from
** `scanned` if the file grew, only the new bytes then read for lines);
** different, it is rebuilt from byte 0. So an unchanged file costs one
** stat per use, and a changed one a pass over the indexed bytes (about the
** cost of a count(*) scan) before the cheap extension.
*/
#ifndef MB_LINE_INDEX_H
#define MB_LINE_INDEX_H

#include <stdint.h>
#include "mb_map.h"

/* 256 lines per sample: 8 bytes per 256 lines (about 0.03% of a log of
** 100-byte lines), and a lookup walks at most 255 lines (~25 KiB) from its
** sample: microseconds. */
#define MB_LINE_INDEX_EVERY 256u
/* A streaming 64-bit hash of a byte sequence (4 lanes of xxh64 rounds). */
typedef struct mb_line_hash {
    uint64_t v[4];
    unsigned char buf[32];  /* bytes not yet in a lane */
    uint32_t nbuf;
    uint64_t total;         /* bytes fed */
} mb_line_hash;

typedef struct mb_line_index {
    unsigned char delim;
    uint64_t  lines;       /* complete (delimited) lines in [0, scanned) */
    uint64_t  scanned;     /* offset just past the last delimiter seen */
    uint64_t  covered;     /* bytes of the file read: [0, covered) */
    uint64_t  nsample;     /* sample[j] = start offset of line j*EVERY+1 */
    uint64_t *sample;
    mb_line_hash hash;     /* of the bytes [0, covered) */
    mb_stamp  stamp;       /* the file's (mb_map_change_stamp), read
                           ** before those bytes; racy ones prove nothing */
    /* History of this index, for tests and stats: */
    uint64_t  builds;      /* scans from byte 0 */
    uint64_t  extends;     /* extensions that read only new bytes */
    uint64_t  bytes_read;  /* bytes read to build and extend it, in all */
    uint64_t  verifies;    /* re-hashes of [0, covered) against the file */
    uint64_t  bytes_verified; /* bytes they read */
} mb_line_index;

/* The tag of the index for a delimiter, in the core's cache. */
void mb_line_index_tag(unsigned char delim, char tag[MB_CACHE_MAX_TAG + 1]);

/*
** An index of the file m maps, covering at least [0, size) (size = the
** caller's view of the file, at most mb_map_size(m)): the cached one if it
** is proven to describe the file (see the top) and covers size; else the
** cached one, proven, extended to `size`; else a new one. A new or
** extended index is put in the cache. *out is a cache reference (release it
** with mb_cache_release); mb_cache_value(*out) is the mb_line_index.
** Errors: MB_EFAULT (the file was truncated while it was read), MB_ENOMEM,
** and those of the core.
*/
int mb_line_index_get(mb_map *m, unsigned char delim, uint64_t size, mb_cache_item **out);

/* The start offset of the line nearest before (or at) line `line` that the
** index has a sample of: *off and its line number *at (<= line). line must
** be >= 1 and <= ix->lines + 1. */
void mb_line_index_seek(const mb_line_index *ix, uint64_t line, uint64_t *off, uint64_t *at);

#endif /* MB_LINE_INDEX_H */
