/*
 * sl_tap.h: the smallest TAP producer, so that C unit tests are counted by
 * the same prove run as the integration tests. Include it once per test.
 */
#ifndef SL_TAP_H
#define SL_TAP_H

#include <stdio.h>
#include <string.h>

static int sl_tap_n;
static int sl_tap_failed;

#define ok(cond, ...) \
    do { \
        int sl_tap_c_ = (cond) ? 1 : 0; \
        printf("%sok %d - ", sl_tap_c_ ? "" : "not ", ++sl_tap_n); \
        printf(__VA_ARGS__); \
        printf("\n"); \
        if (!sl_tap_c_) { \
            sl_tap_failed++; \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)

#define is_int(got, want, ...) \
    do { \
        long long sl_tap_g_ = (long long) (got), sl_tap_w_ = (long long) (want); \
        ok(sl_tap_g_ == sl_tap_w_, __VA_ARGS__); \
        if (sl_tap_g_ != sl_tap_w_) printf("#   got %lld, want %lld\n", sl_tap_g_, sl_tap_w_); \
    } while (0)

#define is_mem(got, glen, want, ...) \
    do { \
        size_t sl_tap_gl_ = (size_t) (glen); \
        const char *sl_tap_w_ = (want); \
        int sl_tap_m_ = sl_tap_gl_ == strlen(sl_tap_w_) \
                        && memcmp((got), sl_tap_w_, sl_tap_gl_) == 0; \
        ok(sl_tap_m_, __VA_ARGS__); \
        if (!sl_tap_m_) printf("#   got \"%.*s\", want \"%s\"\n", (int) sl_tap_gl_, \
                               (const char *) (got), sl_tap_w_); \
    } while (0)

/* Prints the plan (at the end, which TAP allows) and returns the exit status. */
static inline int sl_tap_done(void)
{
    printf("1..%d\n", sl_tap_n);
    return sl_tap_failed ? 1 : 0;
}

#endif /* SL_TAP_H */
