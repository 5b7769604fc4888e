/*
 * sl_os.c: what the process learns from the kernel at start-up: the number
 * of CPUs and the open file limit that caps worker_connections.
 */
#include "sl_config.h"
#include "sl_log.h"
#include "sl_process.h"

sl_uint_t sl_ncpu;
sl_int_t sl_max_sockets;


sl_int_t
sl_os_init(sl_log_t *log)
{
    long n;
    struct rlimit rlmt;

    n = sysconf(_SC_NPROCESSORS_ONLN);
    sl_ncpu = (n > 0) ? (sl_uint_t) n : 1;

    if (getrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
        sl_log_error(SL_LOG_ALERT, log, errno, "getrlimit(RLIMIT_NOFILE) failed");
        return SL_ERROR;
    }

    if (rlmt.rlim_cur == RLIM_INFINITY || rlmt.rlim_cur > (rlim_t) SL_MAX_INT_T_VALUE) {
        sl_max_sockets = SL_MAX_INT_T_VALUE;

    } else {
        sl_max_sockets = (sl_int_t) rlmt.rlim_cur;
    }

    return SL_OK;
}


sl_int_t
sl_os_set_rlimit_nofile(sl_int_t n, sl_log_t *log)
{
    struct rlimit rlmt;

    if (n <= 0) {
        sl_log_error(SL_LOG_ALERT, log, 0, "invalid open file limit %i", n);
        return SL_ERROR;
    }

    rlmt.rlim_cur = (rlim_t) n;
    rlmt.rlim_max = (rlim_t) n;

    if (setrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
        sl_log_error(SL_LOG_ALERT, log, errno, "setrlimit(RLIMIT_NOFILE, %i) failed", n);
        return SL_ERROR;
    }

    sl_max_sockets = n;

    return SL_OK;
}
