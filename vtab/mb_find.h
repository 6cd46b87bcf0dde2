/*
** mb_find.h -- finding literals in text fast, for the scanners of vtab/:
** the literal core of a LIKE or GLOB pattern, a substring finder (exact or
** ASCII case-insensitive) and a byte counter. No SQLite, no core: plain
** byte arithmetic, vectorised with SSE2 where the compiler targets it.
*/
#ifndef MB_FIND_H
#define MB_FIND_H

#include <stddef.h>
#include <stdint.h>

/* Longest literal kept: a substring of a literal core is still one, so a
** longer core is cut here without losing correctness. */
#define MB_FIND_MAX 64

/* The longest run of ASCII literal bytes that every string matching the
** LIKE pattern (no ESCAPE) / the GLOB pattern must contain, copied into
** out[0..MB_FIND_MAX). Returns its length, 0 if the pattern has none (or
** is one mb_find cannot read safely, e.g. an unterminated [ in GLOB).
** Only ASCII: a non-ASCII character of a pattern can match bytes that
** differ from its own (SQLite decodes some invalid UTF-8 to it), an ASCII
** one only itself (and, for LIKE, its other case). */
size_t mb_like_literal(const char *pattern, unsigned char *out);
size_t mb_glob_literal(const char *pattern, unsigned char *out);

typedef struct mb_finder {
    size_t        n;                    /* needle length, 1..MB_FIND_MAX */
    unsigned char want[MB_FIND_MAX];    /* needle byte, lower-cased if folded */
    unsigned char fold[MB_FIND_MAX];    /* 0x20 where the byte is a letter and
                                        ** the search ignores case, else 0 */
} mb_finder;

/* Prepare a search for needle[0..n) (1 <= n <= MB_FIND_MAX). nocase: ASCII
** letters match either case, as SQLite's LIKE does. */
void mb_finder_init(mb_finder *f, const unsigned char *needle, size_t n, int nocase);
/* The first occurrence of the needle in hay[0..len), or NULL. */
const unsigned char *mb_finder_find(const mb_finder *f, const unsigned char *hay, size_t len);

/* How many bytes of p[0..n) equal c. */
uint64_t mb_count_byte(const unsigned char *p, size_t n, unsigned char c);
/* The last byte equal to c in p[0..n), or NULL (memrchr, portably). */
const unsigned char *mb_last_byte(const unsigned char *p, size_t n, unsigned char c);

/* Which search this build compiled: "sse2" (16 positions at once) or
** "scalar" (one at a time), for diagnostics (membase_debug()). */
const char *mb_find_path(void);

#endif /* MB_FIND_H */
