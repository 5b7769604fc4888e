/*
 * test_time.c: sl_time.c — the cached clock and its strings, in a fixed
 * time zone so that the local forms and the offset can be checked.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_tap.h"

#include <regex.h>

/* sl_log.o refers to these; the real ones live in sl_cycle.c and sl_conf_file.c. */
__attribute__((weak)) sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    (void) cycle;
    (void) name;
    return NULL;
}

__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...)
{
    (void) level;
    (void) cf;
    (void) err;
    (void) fmt;
}

static int
matches(volatile sl_str_t *s, const char *pattern)
{
    regex_t re;
    char text[64];
    int rc;

    if (s->data == NULL || s->len >= sizeof(text)) {
        return 0;
    }

    memcpy(text, s->data, s->len);
    text[s->len] = '\0';

    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        return 0;
    }

    rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);

    if (rc != 0) {
        printf("#   \"%s\" does not match /%s/\n", text, pattern);
    }

    return rc == 0;
}

static void
sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

int
main(void)
{
    time_t now, sec;
    struct tm tm;
    u_char *http, *errlog, old[64];
    sl_msec_t m1, m2;
    char want[64];
    int i;

    ok(sl_time() == 0, "sl_time() before init reads 0, not a crash");

    /* UTC+5:30 without needing tzdata */
    setenv("TZ", "IST-5:30", 1);
    tzset();

    sl_time_init();
    now = time(NULL);

    ok(sl_time() >= now - 1 && sl_time() <= now + 1, "cached seconds match time()");
    ok(sl_timeofday()->msec < 1000, "msec below 1000");
    is_int(sl_timeofday()->gmtoff, 330, "gmtoff in minutes east");

    is_int(sl_cached_http_time.len, 29, "http time length");
    is_int(sl_parse_http_time(sl_cached_http_time.data, sl_cached_http_time.len), sl_time(),
           "http time is GMT and parses back");
    ok(matches(&sl_cached_http_time, "^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} "
                                     "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT$"),
       "http time form");

    is_int(sl_cached_err_log_time.len, 19, "err log time length");
    sec = sl_time();
    localtime_r(&sec, &tm);
    snprintf(want, sizeof(want), "%04d/%02d/%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    ok(memcmp(sl_cached_err_log_time.data, want, 19) == 0, "err log time is local time");

    is_int(sl_cached_http_log_time.len, 26, "http log time length");
    ok(matches(&sl_cached_http_log_time,
               "^[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \\+0530$"),
       "http log time with offset");

    is_int(sl_cached_http_log_iso8601.len, 25, "iso8601 length");
    ok(matches(&sl_cached_http_log_iso8601,
               "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+05:30$"),
       "iso8601 with offset");

    /* within one second the strings are not rebuilt */
    for (i = 0; i < 100; i++) {
        sec = sl_time();
        http = sl_cached_http_time.data;
        sl_time_update();
        if (sl_time() == sec && sl_cached_http_time.data != http) {
            break;
        }
    }
    is_int(i, 100, "strings are kept while the second is the same");

    /* when the second changes a new slot is published and the old one is left intact */
    sec = sl_time();
    errlog = sl_cached_err_log_time.data;
    memcpy(old, errlog, 19);
    for (i = 0; i < 300 && sl_time() == sec; i++) {
        sleep_ms(10);
        sl_time_update();
    }
    ok(sl_time() > sec, "the second advanced");
    ok(sl_cached_err_log_time.data != errlog, "a new slot is published");
    ok(memcmp(errlog, old, 19) == 0, "the previous slot still reads its own time");

    m1 = sl_current_msec;
    ok(m1 > 0, "monotonic msec is set");
    sleep_ms(50);
    sl_time_update();
    m2 = sl_current_msec;
    ok(m2 >= m1 + 20, "monotonic msec advances (%llu -> %llu)", (unsigned long long) m1,
       (unsigned long long) m2);

    /*
     * Millisecond resolution: a coarse clock moves in kernel ticks (4 ms or
     * more), and a busy worker would see hundreds of requests in one
     * "millisecond". 1.2 ms apart, every sample must differ.
     */
    {
        int i, advanced;
        struct timespec a, b;

        advanced = 0;
        for (i = 0; i < 20; i++) {
            sl_time_update();
            m1 = sl_current_msec;
            clock_gettime(CLOCK_MONOTONIC, &a);
            do {
                clock_gettime(CLOCK_MONOTONIC, &b);
            } while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 1200000L);
            sl_time_update();
            advanced += sl_current_msec > m1;
        }
        is_int(advanced, 20, "monotonic msec has millisecond resolution");
    }

    setenv("TZ", "XYZ+3", 1);
    tzset();
    sleep_ms(1010);
    sl_time_update();
    is_int(sl_timeofday()->gmtoff, -180, "negative offset");
    ok(matches(&sl_cached_http_log_time, " -0300$"), "negative offset in http log time");
    ok(matches(&sl_cached_http_log_iso8601, "-03:00$"), "negative offset in iso8601");

    sl_gmtime(784111777, &tm);
    ok(tm.tm_year == 94 && tm.tm_mon == 10 && tm.tm_mday == 6 && tm.tm_hour == 8 && tm.tm_min == 49
           && tm.tm_sec == 37 && tm.tm_wday == 0,
       "sl_gmtime");

    return sl_tap_done();
}
