/*
 * sl_time.c: the cached clock. sl_time_update() fills the next slot of a
 * small ring and only then publishes pointers to it, so that a signal
 * handler interrupting an update still reads one consistent slot.
 */
#include "sl_config.h"
#include "sl_time.h"

#define SL_TIME_SLOTS 64

#define SL_ERR_LOG_TIME_LEN (sizeof("1970/09/28 12:00:00") - 1)
#define SL_HTTP_TIME_LEN (sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1)
#define SL_HTTP_LOG_TIME_LEN (sizeof("28/Sep/1970:12:00:00 +0600") - 1)
#define SL_HTTP_LOG_ISO8601_LEN (sizeof("1970-09-28T12:00:00+06:00") - 1)

static sl_uint_t sl_time_slot;
static sl_uint_t sl_time_ready;
static sl_time_t sl_time_cache[SL_TIME_SLOTS];
static u_char sl_err_log_time[SL_TIME_SLOTS][SL_ERR_LOG_TIME_LEN + 1];
static u_char sl_http_time_buf[SL_TIME_SLOTS][SL_HTTP_TIME_LEN + 1];
static u_char sl_http_log_time[SL_TIME_SLOTS][SL_HTTP_LOG_TIME_LEN + 1];
static u_char sl_http_log_iso8601[SL_TIME_SLOTS][SL_HTTP_LOG_ISO8601_LEN + 1];

static const char *sl_week_short[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *sl_month_short[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

volatile sl_msec_t sl_current_msec;
/* never NULL, so sl_time() before sl_time_init() reads 0 rather than crashing */
volatile sl_time_t *sl_cached_time = &sl_time_cache[0];
volatile sl_str_t sl_cached_err_log_time;
volatile sl_str_t sl_cached_http_time;
volatile sl_str_t sl_cached_http_log_time;
volatile sl_str_t sl_cached_http_log_iso8601;


void
sl_time_init(void)
{
    sl_time_ready = 0;

    sl_time_update();
}


void
sl_gmtime(time_t t, struct tm *tp)
{
    if (gmtime_r(&t, tp) == NULL) {
        sl_memzero(tp, sizeof(struct tm));
        tp->tm_mday = 1;
        tp->tm_year = 70;
        tp->tm_wday = 4;
    }
}


static sl_msec_t
sl_monotonic_msec(void)
{
    struct timespec ts;

    /*
     * CLOCK_MONOTONIC, not _COARSE: the coarse clock moves in kernel ticks
     * (4 ms here), and a worker serving 170,000 requests a second would see
     * hundreds of them in one "millisecond" (limit_req's leaky bucket then
     * rejected bursts that never happened). Through the vDSO it costs no
     * system call either.
     */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return sl_current_msec;
    }

    return (sl_msec_t) ts.tv_sec * 1000 + (sl_msec_t) (ts.tv_nsec / 1000000);
}


void
sl_time_update(void)
{
    struct timespec ts;
    struct tm gmt, tm;
    time_t sec;
    sl_uint_t msec, slot;
    sl_int_t off, aoff;
    sl_time_t *tp;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        ts.tv_sec = time(NULL);
        ts.tv_nsec = 0;
    }

    sec = ts.tv_sec;
    msec = (sl_uint_t) (ts.tv_nsec / 1000000);

    sl_current_msec = sl_monotonic_msec();

    tp = (sl_time_t *) sl_cached_time;

    if (tp->sec == sec && sl_time_ready) {
        tp->msec = msec;
        return;
    }

    slot = (sl_time_slot + 1) % SL_TIME_SLOTS;

    tp = &sl_time_cache[slot];
    tp->sec = sec;
    tp->msec = msec;

    sl_gmtime(sec, &gmt);

    /* bounded: a five-digit year is cut rather than overrunning the slot */
    sl_slprintf(sl_http_time_buf[slot], sl_http_time_buf[slot] + SL_HTTP_TIME_LEN,
                "%s, %02d %s %4d %02d:%02d:%02d GMT", sl_week_short[gmt.tm_wday], gmt.tm_mday,
                sl_month_short[gmt.tm_mon], gmt.tm_year + 1900, gmt.tm_hour, gmt.tm_min,
                gmt.tm_sec);

    if (localtime_r(&sec, &tm) == NULL) {
        tm = gmt;
        tm.tm_gmtoff = 0;
    }

    off = (sl_int_t) (tm.tm_gmtoff / 60);
    tp->gmtoff = off;
    aoff = off < 0 ? -off : off;

    sl_slprintf(sl_err_log_time[slot], sl_err_log_time[slot] + SL_ERR_LOG_TIME_LEN,
                "%4d/%02d/%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);

    sl_slprintf(sl_http_log_time[slot], sl_http_log_time[slot] + SL_HTTP_LOG_TIME_LEN,
                "%02d/%s/%4d:%02d:%02d:%02d %c%02i%02i", tm.tm_mday, sl_month_short[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', aoff / 60,
                aoff % 60);

    sl_slprintf(sl_http_log_iso8601[slot], sl_http_log_iso8601[slot] + SL_HTTP_LOG_ISO8601_LEN,
                "%4d-%02d-%02dT%02d:%02d:%02d%c%02i:%02i", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', aoff / 60,
                aoff % 60);

    /* the slot is complete before anything points at it */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    sl_time_slot = slot;
    sl_time_ready = 1;
    sl_cached_time = tp;
    sl_cached_http_time.data = sl_http_time_buf[slot];
    sl_cached_err_log_time.data = sl_err_log_time[slot];
    sl_cached_http_log_time.data = sl_http_log_time[slot];
    sl_cached_http_log_iso8601.data = sl_http_log_iso8601[slot];
    sl_cached_err_log_time.len = SL_ERR_LOG_TIME_LEN;
    sl_cached_http_time.len = SL_HTTP_TIME_LEN;
    sl_cached_http_log_time.len = SL_HTTP_LOG_TIME_LEN;
    sl_cached_http_log_iso8601.len = SL_HTTP_LOG_ISO8601_LEN;
}
