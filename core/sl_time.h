/*
 * sl_time.h: cached time. The event loop calls sl_time_update() once per
 * iteration; everything else reads the cached values, so a request costs no
 * clock syscalls for its timestamps.
 */
#ifndef SL_TIME_H
#define SL_TIME_H

#include "sl_config.h"
#include "sl_string.h"

typedef struct {
    time_t sec;
    sl_uint_t msec;
    sl_int_t gmtoff; /* minutes east of UTC */
} sl_time_t;

extern volatile sl_msec_t sl_current_msec; /* monotonic, for timers */
extern volatile sl_time_t *sl_cached_time;
extern volatile sl_str_t sl_cached_err_log_time;   /* "2026/11/29 09:00:00" */
extern volatile sl_str_t sl_cached_http_time;      /* "Sun, 29 Nov 2026 09:00:00 GMT" */
extern volatile sl_str_t sl_cached_http_log_time;  /* "29/Nov/2026:09:00:00 +0000" */
extern volatile sl_str_t sl_cached_http_log_iso8601; /* "2026-11-29T09:00:00+00:00" */

#define sl_time() sl_cached_time->sec
#define sl_timeofday() ((sl_time_t *) sl_cached_time)

void sl_time_init(void);
/* Reads the clocks and refreshes every cached string (only when the second changed). */
void sl_time_update(void);
void sl_gmtime(time_t t, struct tm *tp);

#endif /* SL_TIME_H */
