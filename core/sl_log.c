/*
 * sl_log.c: the error log. Each message is formatted once into a bounded
 * buffer and written with one write() per log, so lines from several
 * processes sharing a file never interleave.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"

pid_t sl_log_pid;
sl_uint_t sl_log_worker;

static sl_str_t sl_log_levels[] = {
    sl_string("stderr"), sl_string("emerg"), sl_string("alert"),
    sl_string("crit"),   sl_string("error"), sl_string("warn"),
    sl_string("notice"), sl_string("info"),  sl_string("debug"),
};

static sl_open_file_t sl_log_stderr_file = { STDERR_FILENO, { 0, (u_char *) "" } };
static sl_log_t sl_log_bootstrap;

sl_uint_t sl_log_use_stderr = 1;


/* Appends " (errno: strerror)" within [buf, last), as nginx does. */
static u_char *
sl_log_errno(u_char *buf, u_char *last, sl_err_t err)
{
    char tmp[128];
    const char *msg;

    msg = strerror_r(err, tmp, sizeof(tmp));
    if (msg == NULL) {
        msg = "Unknown error";
    }

    return sl_slprintf(buf, last, " (%d: %s)", err, msg);
}


static void
sl_log_write_fd(sl_fd_t fd, const u_char *buf, size_t len)
{
    /* one write per line; a short write to a full disk is not retried */
    while (write(fd, buf, len) == -1 && errno == EINTR) {
        continue;
    }
}


static const sl_str_t *
sl_log_level_name(sl_uint_t level)
{
    if (level >= sl_nelts(sl_log_levels)) {
        level = SL_LOG_DEBUG;
    }

    return &sl_log_levels[level];
}


/*
 * Writes control bytes in [start, end) as \xNN, so that what a request
 * carries (a decoded "%0d%0a" in a URI) cannot start a forged line in the
 * log. The text may grow up to last; what does not fit is cut. Returns the
 * new end.
 */
static u_char *
sl_log_escape_controls(u_char *start, u_char *end, u_char *last)
{
    u_char tmp[SL_MAX_ERROR_STR], *s, *d;
    static const u_char hex[] = "0123456789abcdef";

    for (s = start; s < end; s++) {
        if (*s < 0x20 || *s == 0x7f) {
            break;
        }
    }

    if (s == end) {
        return end;
    }

    d = tmp;

    for (s = start; s < end && d < tmp + sizeof(tmp) - 4; s++) {
        if (*s < 0x20 || *s == 0x7f) {
            *d++ = '\\';
            *d++ = 'x';
            *d++ = hex[*s >> 4];
            *d++ = hex[*s & 0xf];

        } else {
            *d++ = *s;
        }
    }

    if ((size_t) (d - tmp) > (size_t) (last - start)) {
        d = tmp + (last - start);
    }

    return sl_cpymem(start, tmp, (size_t) (d - tmp));
}


void
sl_log_error_core(sl_uint_t level, sl_log_t *log, sl_err_t err, const char *fmt, ...)
{
    u_char errstr[SL_MAX_ERROR_STR], *p, *last, *end, *msg;
    va_list args;
    sl_log_t *l;
    sl_fd_t fd;
    int saved_errno, wrote_stderr;
    pid_t pid;

    saved_errno = errno;

    if (sl_cached_err_log_time.data == NULL) {
        sl_time_update();
    }

    /* one byte stays free for the newline */
    last = errstr + SL_MAX_ERROR_STR - 1;

    pid = sl_log_pid ? sl_log_pid : getpid();

    if (log == &sl_log_bootstrap) {
        /* before a configuration opened its logs: the short form a terminal expects */
        p = sl_slprintf(errstr, last, "sluice: [%V] ", sl_log_level_name(level));
    } else {
        p = sl_slprintf(errstr, last, "%V [%V] %i#%ui: ", &sl_cached_err_log_time,
                        sl_log_level_name(level), (sl_int_t) pid, sl_log_worker);
    }

    if (log != NULL && log->connection) {
        p = sl_slprintf(p, last, "*%ui ", log->connection);
    }

    msg = p;
    va_start(args, fmt);
    p = sl_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = sl_log_errno(p, last, err);
    }

    if (log != NULL && log->handler != NULL && p < last) {
        end = log->handler(log, p, (size_t) (last - p));

        /* a handler that misbehaves must not move the line past the buffer */
        if (end != NULL && end >= p && end <= last) {
            p = end;
        }
    }

    p = sl_log_escape_controls(msg, p, last);

    *p++ = '\n';

    wrote_stderr = 0;

    for (l = log; l; l = l->next) {
        if (l->log_level < level) {
            continue;
        }

        fd = l->file ? l->file->fd : STDERR_FILENO;
        if (fd == SL_INVALID_FILE) {
            continue;
        }

        if (fd == STDERR_FILENO) {
            if (wrote_stderr) {
                continue;
            }

            wrote_stderr = 1;
        }

        sl_log_write_fd(fd, errstr, (size_t) (p - errstr));
    }

    if (log == NULL) {
        sl_log_write_fd(STDERR_FILENO, errstr, (size_t) (p - errstr));
        wrote_stderr = 1;
    }

    /*
     * Until the server has started, a warning or worse also reaches the
     * terminal that started it, in the short form ("sluice: [emerg] bind()
     * to ... failed"), even when the error log is a file by then.
     */
    if (sl_log_use_stderr && level <= SL_LOG_WARN && !wrote_stderr && log != &sl_log_bootstrap) {
        u_char short_line[SL_MAX_ERROR_STR + 32], *q;

        q = sl_slprintf(short_line, short_line + sizeof(short_line) - 1, "sluice: [%V] ",
                        sl_log_level_name(level));
        q = sl_cpymem(q, msg, (size_t) (p - msg));
        sl_log_write_fd(STDERR_FILENO, short_line, (size_t) (q - short_line));
    }

    errno = saved_errno;
}


static void
sl_log_stderr_v(sl_uint_t level, sl_err_t err, const char *fmt, va_list args)
{
    u_char errstr[SL_MAX_ERROR_STR], *p, *last;
    int saved_errno;

    saved_errno = errno;

    last = errstr + SL_MAX_ERROR_STR - 1;

    p = sl_slprintf(errstr, last, "sluice: [%V] ", sl_log_level_name(level));
    p = sl_vslprintf(p, last, fmt, args);

    if (err) {
        p = sl_log_errno(p, last, err);
    }

    *p++ = '\n';

    sl_log_write_fd(STDERR_FILENO, errstr, (size_t) (p - errstr));

    errno = saved_errno;
}


void
sl_log_stderr(sl_err_t err, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    sl_log_stderr_v(SL_LOG_EMERG, err, fmt, args);
    va_end(args);
}


void
sl_log_stderr_level(sl_uint_t level, sl_err_t err, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    sl_log_stderr_v(level, err, fmt, args);
    va_end(args);
}


sl_int_t
sl_log_level_from_name(const sl_str_t *name)
{
    sl_uint_t n;

    for (n = SL_LOG_EMERG; n <= SL_LOG_DEBUG; n++) {
        if (sl_str_eq(name, &sl_log_levels[n])) {
            return (sl_int_t) n;
        }
    }

    return -1;
}


sl_log_t *
sl_log_init(void)
{
    if (sl_log_pid == 0) {
        sl_log_pid = getpid();
    }

    sl_log_bootstrap.log_level = SL_LOG_NOTICE;
    sl_log_bootstrap.file = &sl_log_stderr_file;

    return &sl_log_bootstrap;
}


/* Links log into the chain at head, keeping the most verbose level first. */
static void
sl_log_insert(sl_log_t *head, sl_log_t *log)
{
    sl_log_t *l;
    sl_uint_t level;
    sl_open_file_t *file;

    /* the head's address is held elsewhere (cycle->log), so swap contents, not links */
    if (log->log_level > head->log_level) {
        level = head->log_level;
        file = head->file;
        head->log_level = log->log_level;
        head->file = log->file;
        log->log_level = level;
        log->file = file;
    }

    for (l = head; l->next; l = l->next) {
        if (log->log_level > l->next->log_level) {
            break;
        }
    }

    log->next = l->next;
    l->next = log;
}


char *
sl_log_set_log(sl_conf_t *cf, sl_log_t **head)
{
    sl_str_t *value;
    sl_int_t level;
    sl_log_t *log;
    sl_open_file_t *file;

    value = cf->args->elts;

    if (cf->args->nelts < 2 || cf->args->nelts > 3) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid number of arguments in \"%V\" directive",
                          &value[0]);
        return SL_CONF_ERROR;
    }

    level = SL_LOG_ERR;

    if (cf->args->nelts == 3) {
        level = sl_log_level_from_name(&value[2]);
        if (level < 0) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid log level \"%V\"", &value[2]);
            return SL_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "empty log file name in \"%V\" directive",
                          &value[0]);
        return SL_CONF_ERROR;
    }

    if (sl_str_eq_lit(&value[1], "stderr")) {
        file = &sl_log_stderr_file;

    } else {
        file = sl_conf_open_file(cf->cycle, &value[1]);
        if (file == NULL) {
            return SL_CONF_ERROR;
        }
    }

    if (*head != NULL && (*head)->file == NULL) {
        log = *head;

    } else {
        log = sl_pcalloc(cf->pool, sizeof(sl_log_t));
        if (log == NULL) {
            return SL_CONF_ERROR;
        }
    }

    log->log_level = (sl_uint_t) level;
    log->file = file;

    if (*head == NULL) {
        *head = log;

    } else if (log != *head) {
        sl_log_insert(*head, log);
    }

    return SL_CONF_OK;
}
