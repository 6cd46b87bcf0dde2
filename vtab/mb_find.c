/*
** mb_find.c -- finding literals in text fast (see mb_find.h).
**
** The substring search is the "generic SIMD" method (W. Mula): compare the
** needle's first and last bytes against 16 positions at once and verify
** only where both agree. On text it rarely verifies, and it needs no
** tables, so case folding costs one OR per vector. Without SSE2 the same
** test runs one position at a time.
*/
#include <string.h>
#include "mb_find.h"

/* MB_FIND_SCALAR forces the one-position-at-a-time path on any target:
** tests/vtab/test_find_scalar.c compiles this file a second time with it,
** so x86-64 checks the path arm64 (and any non-SSE2 target) runs. */
#if (defined(__SSE2__) || defined(_M_X64)) && !defined(MB_FIND_SCALAR)
#include <emmintrin.h>
#define MB_FIND_SSE2 1
#endif

const char *mb_find_path(void) {
#if defined(MB_FIND_SSE2)
    return "sse2";
#else
    return "scalar";
#endif
}

/* ------------------------------------------------------------ patterns */

static int is_alpha(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Keep the longer of the best run so far and [run, run+len). */
static void keep_longest(const unsigned char *run, size_t len, unsigned char *out, size_t *best) {
    if (len > *best) {
        size_t n = len < MB_FIND_MAX ? len : MB_FIND_MAX;
        memcpy(out, run, n);
        *best = n;
    }
}

size_t mb_like_literal(const char *pattern, unsigned char *out) {
    const unsigned char *p = (const unsigned char *)pattern;
    size_t best = 0;
    const unsigned char *run = p;
    for (;; p++) {
        unsigned char c = *p;
        if (c == 0 || c == '%' || c == '_' || c >= 0x80) {
            keep_longest(run, (size_t)(p - run), out, &best);
            if (c == 0) break;
            run = p + 1;
        }
    }
    return best;
}

size_t mb_glob_literal(const char *pattern, unsigned char *out) {
    const unsigned char *p = (const unsigned char *)pattern;
    size_t best = 0;
    const unsigned char *run = p;
    for (;; p++) {
        unsigned char c = *p;
        if (c == 0 || c == '*' || c == '?' || c == '[' || c >= 0x80) {
            keep_longest(run, (size_t)(p - run), out, &best);
            if (c == 0) break;
            if (c == '[') {
                /* A set: [abc], [^abc], []abc], [a-z]. Skip to its end. */
                p++;
                if (*p == '^') p++;
                if (*p == ']') p++;
                while (*p && *p != ']') p++;
                if (*p == 0) return 0;   /* unterminated: matches nothing */
            }
            run = p + 1;
        }
    }
    return best;
}

/* ------------------------------------------------------------ search */

void mb_finder_init(mb_finder *f, const unsigned char *needle, size_t n, int nocase) {
    if (n > MB_FIND_MAX) n = MB_FIND_MAX;
    f->n = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = needle[i];
        if (nocase && is_alpha(c)) {
            f->fold[i] = 0x20;
            f->want[i] = (unsigned char)(c | 0x20);
        } else {
            f->fold[i] = 0;
            f->want[i] = c;
        }
    }
}

/* Does hay[0..n) match the needle? (b|0x20)==want is exact for letters:
** only 'X' and 'x' OR to 'x'. */
static int verify(const mb_finder *f, const unsigned char *h) {
    for (size_t i = 0; i < f->n; i++)
        if ((unsigned char)(h[i] | f->fold[i]) != f->want[i]) return 0;
    return 1;
}

#if defined(MB_FIND_SSE2)
/* Index of the lowest set bit; m != 0 (the SSE2 loop's match mask). Only
** the SSE2 loop needs it: elsewhere (arm64) it would be an unused static. */
static int ctz32(unsigned m) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctz(m);
#else
    int i = 0;
    while (!(m & 1u)) { m >>= 1; i++; }
    return i;
#endif
}
#endif

const unsigned char *mb_finder_find(const mb_finder *f, const unsigned char *hay, size_t len) {
    size_t n = f->n;
    if (n == 0 || len < n) return n == 0 ? hay : NULL;
    size_t last = n - 1;
    size_t i = 0;
#if defined(MB_FIND_SSE2)
    const __m128i first_w = _mm_set1_epi8((char)f->want[0]);
    const __m128i first_f = _mm_set1_epi8((char)f->fold[0]);
    const __m128i last_w = _mm_set1_epi8((char)f->want[last]);
    const __m128i last_f = _mm_set1_epi8((char)f->fold[last]);
    /* Positions i..i+15 need bytes up to i+15+last. */
    for (; i + 16 + last <= len; i += 16) {
        __m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(hay + i)), first_f);
        __m128i b = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(hay + i + last)), last_f);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(a, first_w), _mm_cmpeq_epi8(b, last_w)));
        while (m) {
            int bit = ctz32(m);
            if (verify(f, hay + i + (size_t)bit)) return hay + i + (size_t)bit;
            m &= m - 1;
        }
    }
#endif
    for (; i + n <= len; i++) {
        if ((unsigned char)(hay[i] | f->fold[0]) == f->want[0] &&
            (unsigned char)(hay[i + last] | f->fold[last]) == f->want[last] && verify(f, hay + i))
            return hay + i;
    }
    return NULL;
}

/* ------------------------------------------------------------ counting */

uint64_t mb_count_byte(const unsigned char *p, size_t n, unsigned char c) {
    uint64_t total = 0;
    size_t i = 0;
#if defined(MB_FIND_SSE2)
    const __m128i want = _mm_set1_epi8((char)c);
    const __m128i zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        /* Per-lane byte counters: at most 255 rounds before they are summed. */
        __m128i acc = zero;
        size_t rounds = (n - i) / 16;
        if (rounds > 255) rounds = 255;
        for (size_t r = 0; r < rounds; r++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, want));
        }
        __m128i s = _mm_sad_epu8(acc, zero);
        total += (uint64_t)_mm_cvtsi128_si32(s) + (uint64_t)_mm_cvtsi128_si32(_mm_srli_si128(s, 8));
    }
#endif
    for (; i < n; i++) total += p[i] == c;
    return total;
}

const unsigned char *mb_last_byte(const unsigned char *p, size_t n, unsigned char c) {
    while (n > 0) {
        n--;
        if (p[n] == c) return p + n;
    }
    return NULL;
}
