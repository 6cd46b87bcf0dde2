/*
** test_find_scalar.c -- vtab/mb_find.c's two search paths agree with a
** plain reference: the SSE2 path (x86-64) and the one-position-at-a-time
** path every other target runs (arm64 among them). mb_find.c is compiled
** twice into this program: once as the build's targets see it, and once
** with MB_FIND_SCALAR (the scalar path forced; its functions renamed with
** the prefix scalar_ by mb_find_scalar.c). On a target without SSE2 both
** copies are the scalar path and the test still checks it against the
** reference.
**
** Random buffers (fixed seed) of every length 0..300, bytes drawn from a
** small alphabet with letters of both cases and bytes >= 0x80, needles of
** 1..MB_FIND_MAX bytes cut from the buffer at random positions or made up,
** exact and case-insensitive; mb_count_byte and mb_last_byte too. The
** reference is a memchr loop with a byte-by-byte compare. A deliberately
** wrong reference (it ignores the last byte of the needle) must be caught,
** so the comparison is known to see a difference.
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "mb_find.h"

/* the scalar copy (mb_find_scalar.c) */
const unsigned char *scalar_mb_finder_find(const mb_finder *f, const unsigned char *hay, size_t len);
uint64_t scalar_mb_count_byte(const unsigned char *p, size_t n, unsigned char c);
const unsigned char *scalar_mb_last_byte(const unsigned char *p, size_t n, unsigned char c);
const char *scalar_mb_find_path(void);

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {   /* xorshift64*: the same sequence everywhere */
    g_rng ^= g_rng >> 12; g_rng ^= g_rng << 25; g_rng ^= g_rng >> 27;
    return (uint32_t)((g_rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static const unsigned char k_alpha[] = {'a', 'b', 'A', 'B', 'x', 'X', '%', 0,
                                        0x80, 0xC3, 0xE1, 0xFF, '\n', ' ', 'z', 'Z'};

static unsigned char fold_ref(unsigned char c, int nocase) {
    return (nocase && c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The reference: the first i where hay[i..i+n) equals the needle. memchr
** finds candidates for the first byte (both cases when folding). */
static const unsigned char *ref_find(const unsigned char *needle, size_t n, int nocase,
                                     const unsigned char *hay, size_t len, int wrong) {
    if (n == 0) return hay;
    if (len < n) return NULL;
    size_t cmp = wrong && n > 1 ? n - 1 : n;   /* the wrong one skips the last byte */
    size_t last_start = len - n;
    for (size_t i = 0; i <= last_start; i++) {
        if (!nocase) {
            const unsigned char *p = memchr(hay + i, needle[0], last_start + 1 - i);
            if (!p) return NULL;
            i = (size_t)(p - hay);
        } else if (fold_ref(hay[i], 1) != fold_ref(needle[0], 1)) {
            continue;
        }
        size_t k = 0;
        while (k < cmp && fold_ref(hay[i + k], nocase) == fold_ref(needle[k], nocase)) k++;
        if (k == cmp) return hay + i;
    }
    return NULL;
}

static int g_fail, g_checks;
static int check(int ok, const char *what, size_t len, size_t n, int nocase) {
    g_checks++;
    if (!ok && g_fail++ < 10)
        fprintf(stderr, "FAIL %s: len %zu needle %zu nocase %d\n", what, len, n, nocase);
    return ok;
}

/* Run every comparison once; `wrong` swaps in the wrong reference and
** returns how many disagreements it saw instead of failing. */
static int run(int wrong) {
    unsigned char hay[300 + 16], needle[MB_FIND_MAX];
    int disagree = 0;
    for (size_t len = 0; len <= 300; len++) {
        for (int round = 0; round < 24; round++) {
            int sparse = round & 1;   /* few candidates, or many */
            for (size_t i = 0; i < len; i++)
                hay[i] = sparse ? (unsigned char)(rnd() & 0xFF) : k_alpha[rnd() % sizeof k_alpha];
            size_t n = 1 + rnd() % (round < 12 ? 4 : MB_FIND_MAX);
            if (len >= n && (round % 3) != 2) {
                size_t at = rnd() % (len - n + 1);
                memcpy(needle, hay + at, n);
                if (round % 5 == 0 && n > 1) needle[n - 1] ^= 0x20;   /* the other case */
            } else {
                for (size_t i = 0; i < n; i++) needle[i] = k_alpha[rnd() % sizeof k_alpha];
            }
            for (int nocase = 0; nocase <= 1; nocase++) {
                mb_finder f;
                mb_finder_init(&f, needle, n, nocase);
                const unsigned char *want = ref_find(needle, n, nocase, hay, len, wrong);
                const unsigned char *got = mb_finder_find(&f, hay, len);
                const unsigned char *sc = scalar_mb_finder_find(&f, hay, len);
                if (wrong) { disagree += got != want; continue; }
                check(got == want, "mb_finder_find vs reference", len, n, nocase);
                check(sc == want, "scalar mb_finder_find vs reference", len, n, nocase);
            }
            if (wrong) continue;
            unsigned char c = hay[len ? rnd() % len : 0];
            uint64_t cnt = 0;
            const unsigned char *last = NULL;
            for (size_t i = 0; i < len; i++) if (hay[i] == c) { cnt++; last = hay + i; }
            check(mb_count_byte(hay, len, c) == cnt, "mb_count_byte", len, 1, 0);
            check(scalar_mb_count_byte(hay, len, c) == cnt, "scalar mb_count_byte", len, 1, 0);
            check(mb_last_byte(hay, len, c) == last, "mb_last_byte", len, 1, 0);
            check(scalar_mb_last_byte(hay, len, c) == last, "scalar mb_last_byte", len, 1, 0);
        }
    }
    return disagree;
}

int main(void) {
    /* the long count: more than 255 rounds of 16 bytes per lane sum */
    static unsigned char big[70000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i % 7 == 0 ? 0xE1 : i);
    uint64_t want = 0;
    for (size_t i = 0; i < sizeof big; i++) want += big[i] == 0xE1;
    check(mb_count_byte(big, sizeof big, 0xE1) == want, "mb_count_byte 70000", sizeof big, 1, 0);
    check(scalar_mb_count_byte(big, sizeof big, 0xE1) == want, "scalar mb_count_byte 70000",
          sizeof big, 1, 0);

    /* the second copy took the scalar path; the first says what it took */
    check(strcmp(scalar_mb_find_path(), "scalar") == 0, "the forced copy is scalar", 0, 0, 0);
#if defined(__SSE2__) || defined(_M_X64)
    check(strcmp(mb_find_path(), "sse2") == 0, "the default copy is sse2 here", 0, 0, 0);
#else
    check(strcmp(mb_find_path(), "scalar") == 0, "the default copy is scalar here", 0, 0, 0);
#endif

    uint64_t seed = g_rng;
    run(0);
    g_rng = seed;
    int caught = run(1);
    check(caught > 0, "self-check: the wrong reference is caught", 0, 0, 0);
#if defined(__SSE2__) || defined(_M_X64)
    const char *path = "SSE2 and scalar";
#else
    const char *path = "scalar (twice)";
#endif
    printf("test_find_scalar: %s paths, %d checks, %d failures; the wrong reference "
           "disagreed %d times\n", path, g_checks, g_fail, caught);
    return g_fail ? 1 : 0;
}
