/*
 * sl_http_log_module.c: the access log ("log_format", "access_log"), as in
 * nginx.
 *
 * A format is compiled once, at configuration time, into a flat list of
 * operations: a run of literal text, or a variable index. Logging a line
 * evaluates each variable once, sums the lengths, and copies text and
 * (escaped) values into the line: no parsing happens per request.
 *
 * Files. Every access_log path is opened through sl_conf_open_file(), so the
 * cycle opens it O_APPEND after parsing and reopens it on USR1. All access_log
 * directives naming the same file share one record (sl_http_log_file_t) and
 * so one buffer; this module reads file->fd at every write and never keeps a
 * copy of it.
 *
 * Buffers (buffer=size [flush=time]). The record holds only the size and the
 * flush time in configuration memory; the buffer itself and its flush timer
 * are allocated by each worker in init_process, so that no process shares or
 * inherits buffered lines. Lines go into the buffer and reach the file:
 *   - when the next line does not fit (the buffer is written first; a line
 *     larger than the whole buffer is then written on its own);
 *   - "flush" ms after the first line entered an empty buffer, when flush=
 *     is given (without flush= there is no timer: nginx does the same);
 *   - at worker exit (exit_process), which runs on a graceful stop, a fast
 *     stop and the end of an old worker after a reload.
 * The timer is cancelable, so it never delays a graceful stop: the exit hook
 * writes what is left. On USR1 the cycle reopens the file under the worker
 * without telling modules (sl_open_file_t has no flush hook); lines still
 * buffered then are written, at the next flush, to the newly opened file.
 * They are not lost, but they land at the head of the new file where nginx,
 * which flushes before reopening, would have put them at the end of the old
 * one.
 */

#include "sl_core.h"
#include "sl_http.h"

#define SL_HTTP_LOG_ESCAPE_DEFAULT 0
#define SL_HTTP_LOG_ESCAPE_JSON 1
#define SL_HTTP_LOG_ESCAPE_NONE 2

/* Lines and variable lists up to these sizes are built on the stack. */
#define SL_HTTP_LOG_STACK_LINE 4096
#define SL_HTTP_LOG_STACK_VARS 32

/* A write error is logged at most once a minute per file. */
#define SL_HTTP_LOG_ERROR_INTERVAL 60

/* One compiled piece of a format: literal text (text != NULL) or a variable. */
typedef struct {
    u_char *text;
    size_t len;
    sl_uint_t index;
} sl_http_log_op_t;

typedef struct {
    sl_str_t name;
    sl_http_log_op_t *ops;
    sl_uint_t nops;
    sl_uint_t nvars;
    size_t fixed; /* bytes of literal text */
    sl_uint_t escape;
} sl_http_log_fmt_t;

/* A file written by access_log, shared by every directive that names it. */
typedef struct {
    sl_open_file_t *file;
    size_t size;     /* buffer=, 0 when unbuffered */
    sl_msec_t flush; /* flush=, 0 for no timer */

    /* Per worker, set up in init_process. */
    u_char *start;
    u_char *pos;
    u_char *last;
    sl_event_t *event;
    time_t disk_full_time;
    time_t error_log_time;
} sl_http_log_file_t;

typedef struct {
    sl_http_log_file_t *file;
    sl_http_log_fmt_t *format;
    sl_http_complex_value_t *filter; /* if=, NULL when absent */
} sl_http_log_t;

typedef struct {
    sl_array_t formats; /* sl_http_log_fmt_t *; [0] is "combined" */
    sl_array_t files;   /* sl_http_log_file_t * */
    sl_uint_t combined_used;
} sl_http_log_main_conf_t;

typedef struct {
    sl_array_t *logs; /* sl_http_log_t; NULL when none is set here */
    sl_uint_t off;
} sl_http_log_loc_conf_t;

/* A variable's value for one line: evaluated once, measured, then copied. */
typedef struct {
    u_char *data;
    size_t len; /* the raw value */
    size_t out; /* bytes it takes in the line */
    unsigned found : 1;
} sl_http_log_val_t;

static sl_int_t sl_http_log_handler(sl_http_request_t *r);
static void sl_http_log_line(sl_http_request_t *r, sl_http_log_t *log);
static size_t sl_http_log_measure(sl_http_request_t *r, sl_http_log_fmt_t *fmt,
                                  sl_http_log_val_t *vals);
static u_char *sl_http_log_render(sl_http_log_fmt_t *fmt, sl_http_log_val_t *vals, u_char *p);
static uintptr_t sl_http_log_escape(u_char *dst, const u_char *src, size_t size);
static uintptr_t sl_http_log_escape_json(u_char *dst, const u_char *src, size_t size);
static void sl_http_log_write(sl_http_log_file_t *lf, sl_log_t *log, u_char *buf, size_t len);
static void sl_http_log_flush(sl_http_log_file_t *lf, sl_log_t *log);
static void sl_http_log_flush_handler(sl_event_t *ev);

static void *sl_http_log_create_main_conf(sl_conf_t *cf);
static void *sl_http_log_create_loc_conf(sl_conf_t *cf);
static char *sl_http_log_merge_loc_conf(sl_conf_t *cf, void *parent, void *child);
static char *sl_http_log_set_format(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_log_set_log(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_log_compile_format(sl_conf_t *cf, sl_http_log_fmt_t *fmt, sl_str_t *args,
                                           sl_uint_t nargs);
static sl_http_log_file_t *sl_http_log_get_file(sl_conf_t *cf, sl_http_log_main_conf_t *lmcf,
                                                sl_str_t *name);
static sl_int_t sl_http_log_declare_remote_user(sl_conf_t *cf);
static sl_int_t sl_http_log_variable_not_found(sl_http_request_t *r, sl_http_variable_value_t *v,
                                               uintptr_t data);
static sl_int_t sl_http_log_postconfiguration(sl_conf_t *cf);
static sl_int_t sl_http_log_init_process(sl_cycle_t *cycle);
static void sl_http_log_exit_process(sl_cycle_t *cycle);

static sl_command_t sl_http_log_commands[] = {
    { sl_string("log_format"), SL_HTTP_MAIN_CONF | SL_CONF_2MORE, sl_http_log_set_format,
      SL_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { sl_string("access_log"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_HTTP_LIF_CONF | SL_CONF_1MORE,
      sl_http_log_set_log, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_log_module_ctx = {
    NULL,                          /* preconfiguration */
    sl_http_log_postconfiguration, /* postconfiguration */
    sl_http_log_create_main_conf,  /* create main configuration */
    NULL,                          /* init main configuration */
    NULL,                          /* create server configuration */
    NULL,                          /* merge server configuration */
    sl_http_log_create_loc_conf,   /* create location configuration */
    sl_http_log_merge_loc_conf     /* merge location configuration */
};

sl_module_t sl_http_log_module = { SL_MODULE_V1,
                                   "sl_http_log_module",
                                   SL_HTTP_MODULE,
                                   &sl_http_log_module_ctx,
                                   sl_http_log_commands,
                                   NULL,
                                   sl_http_log_init_process,
                                   sl_http_log_exit_process,
                                   NULL };

static sl_str_t sl_http_log_default_path = sl_string("logs/access.log");

static sl_str_t sl_http_log_combined =
    sl_string("$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
              "\"$http_referer\" \"$http_user_agent\"");

/* Logging ---------------------------------------------------------------- */

static sl_int_t
sl_http_log_handler(sl_http_request_t *r)
{
    sl_str_t val;
    sl_uint_t l;
    sl_http_log_t *log;
    sl_http_log_loc_conf_t *lcf;

    lcf = sl_http_get_module_loc_conf(r, sl_http_log_module);

    if (lcf == NULL || lcf->off || lcf->logs == NULL) {
        return SL_OK;
    }

    log = lcf->logs->elts;

    for (l = 0; l < lcf->logs->nelts; l++) {
        if (log[l].filter) {
            if (sl_http_complex_value(r, log[l].filter, &val) != SL_OK) {
                /* the reason is logged; the other logs still get their line */
                continue;
            }

            if (val.len == 0 || (val.len == 1 && val.data[0] == '0')) {
                continue;
            }
        }

        /* writing to a full disk may block for long: give it a second */
        if (sl_time() == log[l].file->disk_full_time) {
            continue;
        }

        sl_http_log_line(r, &log[l]);
    }

    return SL_OK;
}


/* Builds one line of log's format for r and buffers or writes it. */
static void
sl_http_log_line(sl_http_request_t *r, sl_http_log_t *log)
{
    u_char *line, *p;
    size_t len;
    sl_http_log_fmt_t *fmt;
    sl_http_log_val_t *vals;
    sl_http_log_file_t *lf;
    sl_http_log_val_t stack_vals[SL_HTTP_LOG_STACK_VARS];
    u_char stack_line[SL_HTTP_LOG_STACK_LINE];

    fmt = log->format;
    lf = log->file;

    if (fmt->nvars <= SL_HTTP_LOG_STACK_VARS) {
        vals = stack_vals;

    } else {
        vals = sl_palloc(r->pool, fmt->nvars * sizeof(sl_http_log_val_t));
        if (vals == NULL) {
            return;
        }
    }

    len = sl_http_log_measure(r, fmt, vals) + 1; /* the line feed */

    if (lf->start) {
        if (len > (size_t) (lf->last - lf->pos)) {
            sl_http_log_flush(lf, r->connection->log);
        }

        if (len <= (size_t) (lf->last - lf->pos)) {
            if (lf->event && lf->pos == lf->start) {
                sl_event_add_timer(lf->event, lf->flush);
            }

            p = sl_http_log_render(fmt, vals, lf->pos);
            *p++ = LF;
            lf->pos = p;
            return;
        }

        /* longer than the whole buffer: the buffer is empty now, write the line alone */
    }

    if (len <= sizeof(stack_line)) {
        line = stack_line;

    } else {
        line = sl_pnalloc(r->pool, len);
        if (line == NULL) {
            return;
        }
    }

    p = sl_http_log_render(fmt, vals, line);
    *p++ = LF;

    sl_http_log_write(lf, r->connection->log, line, (size_t) (p - line));
}


/* Evaluates every variable of fmt into vals; returns the line's length without the LF. */
static size_t
sl_http_log_measure(sl_http_request_t *r, sl_http_log_fmt_t *fmt, sl_http_log_val_t *vals)
{
    size_t len;
    sl_uint_t i, k;
    sl_http_log_op_t *op;
    sl_http_variable_value_t *v;

    len = fmt->fixed;
    op = fmt->ops;

    for (i = 0, k = 0; i < fmt->nops; i++) {
        if (op[i].text) {
            continue;
        }

        /* no-cacheable variables ($status, $time_local, ...) are evaluated afresh */
        v = sl_http_get_flushed_variable(r, op[i].index);

        if (v == NULL || v->not_found || !v->valid) {
            vals[k].data = NULL;
            vals[k].len = 0;
            vals[k].found = 0;
            vals[k].out = (fmt->escape == SL_HTTP_LOG_ESCAPE_DEFAULT) ? 1 : 0; /* "-" */

        } else {
            vals[k].data = v->data;
            vals[k].len = v->len;
            vals[k].found = 1;

            switch (fmt->escape) {
            case SL_HTTP_LOG_ESCAPE_JSON:
                vals[k].out = v->len + sl_http_log_escape_json(NULL, v->data, v->len);
                break;

            case SL_HTTP_LOG_ESCAPE_NONE:
                vals[k].out = v->len;
                break;

            default:
                vals[k].out = v->len + 3 * sl_http_log_escape(NULL, v->data, v->len);
                break;
            }
        }

        len += vals[k].out;
        k++;
    }

    return len;
}


/* Copies the line into p, which has room for what sl_http_log_measure() returned. */
static u_char *
sl_http_log_render(sl_http_log_fmt_t *fmt, sl_http_log_val_t *vals, u_char *p)
{
    sl_uint_t i, k;
    sl_http_log_op_t *op;
    sl_http_log_val_t *val;

    op = fmt->ops;

    for (i = 0, k = 0; i < fmt->nops; i++) {
        if (op[i].text) {
            p = sl_cpymem(p, op[i].text, op[i].len);
            continue;
        }

        val = &vals[k++];

        if (!val->found) {
            if (fmt->escape == SL_HTTP_LOG_ESCAPE_DEFAULT) {
                *p++ = '-';
            }
            continue;
        }

        if (val->out == val->len) {
            if (val->len) {
                p = sl_cpymem(p, val->data, val->len);
            }
            continue;
        }

        if (fmt->escape == SL_HTTP_LOG_ESCAPE_JSON) {
            p = (u_char *) sl_http_log_escape_json(p, val->data, val->len);

        } else {
            p = (u_char *) sl_http_log_escape(p, val->data, val->len);
        }
    }

    return p;
}


/*
 * escape=default: control bytes, '"', '\' and bytes from 0x7f up become
 * \xHH (upper-case hex). With dst NULL returns how many bytes need it,
 * else writes and returns the end.
 */
static uintptr_t
sl_http_log_escape(u_char *dst, const u_char *src, size_t size)
{
    u_char c;
    sl_uint_t n;
    static const u_char hex[] = "0123456789ABCDEF";

    if (dst == NULL) {
        for (n = 0; size; size--) {
            c = *src++;
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
                n++;
            }
        }
        return (uintptr_t) n;
    }

    for (/* void */; size; size--) {
        c = *src++;

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            *dst++ = '\\';
            *dst++ = 'x';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0xf];

        } else {
            *dst++ = c;
        }
    }

    return (uintptr_t) dst;
}


/*
 * escape=json, byte for byte as nginx writes it: '"' and '\' are
 * backslashed, \n \r \t \b \f use their short forms, other control bytes
 * become \u00HH (upper-case hex); everything else, UTF-8 included, is
 * copied. With dst NULL returns the extra bytes needed, else the end.
 */
static uintptr_t
sl_http_log_escape_json(u_char *dst, const u_char *src, size_t size)
{
    u_char c;
    sl_uint_t n;
    static const u_char hex[] = "0123456789ABCDEF";

    if (dst == NULL) {
        for (n = 0; size; size--) {
            c = *src++;

            if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b'
                || c == '\f') {
                n++;

            } else if (c < 0x20) {
                n += sizeof("\\u001F") - 2;
            }
        }
        return (uintptr_t) n;
    }

    for (/* void */; size; size--) {
        c = *src++;

        if (c >= 0x20 && c != '"' && c != '\\') {
            *dst++ = c;
            continue;
        }

        *dst++ = '\\';

        switch (c) {
        case '"':
        case '\\':
            *dst++ = c;
            break;
        case '\n':
            *dst++ = 'n';
            break;
        case '\r':
            *dst++ = 'r';
            break;
        case '\t':
            *dst++ = 't';
            break;
        case '\b':
            *dst++ = 'b';
            break;
        case '\f':
            *dst++ = 'f';
            break;
        default:
            *dst++ = 'u';
            *dst++ = '0';
            *dst++ = '0';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0xf];
            break;
        }
    }

    return (uintptr_t) dst;
}


/* Appends buf to the file through its current fd; errors are logged once a minute. */
static void
sl_http_log_write(sl_http_log_file_t *lf, sl_log_t *log, u_char *buf, size_t len)
{
    size_t done;
    ssize_t n;
    time_t now;
    sl_err_t err;

    done = 0;
    n = 0;
    err = 0;

    while (done < len) {
        n = write(lf->file->fd, buf + done, len - done);

        if (n > 0) {
            done += (size_t) n;
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        err = (n == -1) ? errno : 0;
        break;
    }

    if (done == len) {
        return;
    }

    now = sl_time();

    if (err == ENOSPC) {
        lf->disk_full_time = now;
    }

    if (now - lf->error_log_time < SL_HTTP_LOG_ERROR_INTERVAL && lf->error_log_time != 0) {
        return;
    }

    lf->error_log_time = now;

    if (done == 0 && err) {
        sl_log_error(SL_LOG_ALERT, log, err, "write() to \"%s\" failed", lf->file->name.data);

    } else {
        sl_log_error(SL_LOG_ALERT, log, err, "write() to \"%s\" was incomplete: %uz of %uz",
                     lf->file->name.data, done, len);
    }
}


/* Writes what the file's buffer holds, empties it and stops its timer. */
static void
sl_http_log_flush(sl_http_log_file_t *lf, sl_log_t *log)
{
    if (lf->start == NULL) {
        return;
    }

    if (lf->pos > lf->start) {
        sl_http_log_write(lf, log, lf->start, (size_t) (lf->pos - lf->start));
        lf->pos = lf->start;
    }

    if (lf->event && lf->event->timer_set) {
        sl_event_del_timer(lf->event);
    }
}


static void
sl_http_log_flush_handler(sl_event_t *ev)
{
    sl_http_log_flush(ev->data, ev->log);
}

/* Worker hooks ------------------------------------------------------------- */

/* Gives this worker its own buffer (and flush timer) for every buffered file. */
static sl_int_t
sl_http_log_init_process(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_http_log_file_t **files, *lf;
    sl_http_log_main_conf_t *lmcf;

    lmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_log_module);
    if (lmcf == NULL) {
        return SL_OK;
    }

    files = lmcf->files.elts;

    for (i = 0; i < lmcf->files.nelts; i++) {
        lf = files[i];

        if (lf->size == 0 || lf->start != NULL) {
            continue;
        }

        lf->start = sl_pnalloc(cycle->pool, lf->size);
        if (lf->start == NULL) {
            return SL_ERROR;
        }

        lf->pos = lf->start;
        lf->last = lf->start + lf->size;

        if (lf->flush) {
            lf->event = sl_pcalloc(cycle->pool, sizeof(sl_event_t));
            if (lf->event == NULL) {
                return SL_ERROR;
            }

            lf->event->data = lf;
            lf->event->handler = sl_http_log_flush_handler;
            lf->event->log = cycle->log;
            /* a pending flush must not hold a graceful stop: exit_process writes it */
            lf->event->cancelable = 1;
        }
    }

    return SL_OK;
}


/* Writes every buffered line before the worker goes away. */
static void
sl_http_log_exit_process(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_http_log_file_t **files;
    sl_http_log_main_conf_t *lmcf;

    lmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_log_module);
    if (lmcf == NULL) {
        return;
    }

    files = lmcf->files.elts;

    for (i = 0; i < lmcf->files.nelts; i++) {
        sl_http_log_flush(files[i], cycle->log);
    }
}

/* Configuration ------------------------------------------------------------ */

static void *
sl_http_log_create_main_conf(sl_conf_t *cf)
{
    sl_http_log_fmt_t *fmt, **fmtp;
    sl_http_log_main_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_log_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    if (sl_array_init(&conf->formats, cf->pool, 4, sizeof(sl_http_log_fmt_t *)) != SL_OK
        || sl_array_init(&conf->files, cf->pool, 4, sizeof(sl_http_log_file_t *)) != SL_OK) {
        return NULL;
    }

    /* "combined" is always there; it is compiled in postconfiguration if used */
    fmt = sl_pcalloc(cf->pool, sizeof(sl_http_log_fmt_t));
    fmtp = sl_array_push(&conf->formats);
    if (fmt == NULL || fmtp == NULL) {
        return NULL;
    }

    sl_str_set(&fmt->name, "combined");
    fmt->escape = SL_HTTP_LOG_ESCAPE_DEFAULT;
    *fmtp = fmt;

    return conf;
}


static void *
sl_http_log_create_loc_conf(sl_conf_t *cf)
{
    return sl_pcalloc(cf->pool, sizeof(sl_http_log_loc_conf_t));
}


/*
 * A level with no access_log inherits its parent's logs (or "off"). When
 * neither has any, the level gets the default logs/access.log in the
 * combined format, as nginx does.
 */
static char *
sl_http_log_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_log_loc_conf_t *prev = parent;
    sl_http_log_loc_conf_t *conf = child;
    sl_http_log_t *log;
    sl_http_log_fmt_t **fmt;
    sl_http_log_main_conf_t *lmcf;

    if (conf->logs || conf->off) {
        return SL_CONF_OK;
    }

    conf->logs = prev->logs;
    conf->off = prev->off;

    if (conf->logs || conf->off) {
        return SL_CONF_OK;
    }

    lmcf = sl_http_conf_get_module_main_conf(cf, sl_http_log_module);

    conf->logs = sl_array_create(cf->pool, 1, sizeof(sl_http_log_t));
    if (conf->logs == NULL) {
        return SL_CONF_ERROR;
    }

    log = sl_array_push(conf->logs);
    if (log == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(log, sizeof(sl_http_log_t));

    log->file = sl_http_log_get_file(cf, lmcf, &sl_http_log_default_path);
    if (log->file == NULL) {
        return SL_CONF_ERROR;
    }

    fmt = lmcf->formats.elts;
    log->format = fmt[0];
    lmcf->combined_used = 1;

    return SL_CONF_OK;
}


/* log_format name [escape=default|json|none] string ...; */
static char *
sl_http_log_set_format(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_log_main_conf_t *lmcf = conf;
    sl_str_t *value;
    sl_uint_t i;
    sl_http_log_fmt_t *fmt, **fmtp;

    sl_unused(cmd);

    value = cf->args->elts;
    fmtp = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (sl_str_eq(&fmtp[i]->name, &value[1])) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "duplicate \"log_format\" name \"%V\"",
                              &value[1]);
            return SL_CONF_ERROR;
        }
    }

    fmt = sl_pcalloc(cf->pool, sizeof(sl_http_log_fmt_t));
    fmtp = sl_array_push(&lmcf->formats);
    if (fmt == NULL || fmtp == NULL) {
        return SL_CONF_ERROR;
    }

    fmt->name = value[1];
    *fmtp = fmt;

    if (sl_http_log_compile_format(cf, fmt, &value[2], cf->args->nelts - 2) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


/* Appends literal text to the ops, merging it into a literal just before it. */
static sl_int_t
sl_http_log_add_text(sl_conf_t *cf, sl_array_t *ops, u_char *text, size_t len)
{
    u_char *p;
    sl_http_log_op_t *op;

    op = ops->nelts ? (sl_http_log_op_t *) ops->elts + ops->nelts - 1 : NULL;

    if (op && op->text) {
        p = sl_pnalloc(cf->pool, op->len + len);
        if (p == NULL) {
            return SL_ERROR;
        }

        sl_memcpy(p, op->text, op->len);
        sl_memcpy(p + op->len, text, len);
        op->text = p;
        op->len += len;
        return SL_OK;
    }

    op = sl_array_push(ops);
    if (op == NULL) {
        return SL_ERROR;
    }

    op->text = sl_pnalloc(cf->pool, len);
    if (op->text == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(op->text, text, len);
    op->len = len;
    op->index = 0;

    return SL_OK;
}


/*
 * Compiles the strings args[0..nargs) (the first may be "escape=...") into
 * fmt: the strings are concatenated; "$name" and "${name}" become variable
 * indexes. SL_OK, or SL_ERROR having logged why.
 */
static sl_int_t
sl_http_log_compile_format(sl_conf_t *cf, sl_http_log_fmt_t *fmt, sl_str_t *args, sl_uint_t nargs)
{
    u_char c, *data, *start;
    size_t i, end;
    sl_int_t index;
    sl_str_t var, mode;
    sl_uint_t a, bracket;
    sl_array_t *ops;
    sl_http_log_op_t *op;

    fmt->escape = SL_HTTP_LOG_ESCAPE_DEFAULT;
    a = 0;

    if (nargs > 0 && args[0].len >= sizeof("escape=") - 1
        && sl_memcmp(args[0].data, "escape=", sizeof("escape=") - 1) == 0) {
        mode.data = args[0].data + sizeof("escape=") - 1;
        mode.len = args[0].len - (sizeof("escape=") - 1);

        if (sl_str_eq_lit(&mode, "json")) {
            fmt->escape = SL_HTTP_LOG_ESCAPE_JSON;

        } else if (sl_str_eq_lit(&mode, "none")) {
            fmt->escape = SL_HTTP_LOG_ESCAPE_NONE;

        } else if (!sl_str_eq_lit(&mode, "default")) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unknown log format escaping \"%V\"", &mode);
            return SL_ERROR;
        }

        a = 1;
    }

    ops = sl_array_create(cf->pool, 8, sizeof(sl_http_log_op_t));
    if (ops == NULL) {
        return SL_ERROR;
    }

    for (/* void */; a < nargs; a++) {
        data = args[a].data;
        end = args[a].len;
        i = 0;

        while (i < end) {
            if (data[i] != '$') {
                start = &data[i];

                while (i < end && data[i] != '$') {
                    i++;
                }

                if (sl_http_log_add_text(cf, ops, start, (size_t) (&data[i] - start)) != SL_OK) {
                    return SL_ERROR;
                }

                continue;
            }

            start = &data[i];

            if (++i == end) {
                goto invalid;
            }

            bracket = 0;

            if (data[i] == '{') {
                bracket = 1;

                if (++i == end) {
                    goto invalid;
                }
            }

            var.data = &data[i];

            for (var.len = 0; i < end; i++, var.len++) {
                c = data[i];

                if (c == '}' && bracket) {
                    i++;
                    bracket = 0;
                    break;
                }

                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '_') {
                    continue;
                }

                break;
            }

            if (bracket) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "the closing bracket in \"%V\" variable is missing", &var);
                return SL_ERROR;
            }

            if (var.len == 0) {
                goto invalid;
            }

            index = sl_http_get_variable_index(cf, &var);
            if (index == SL_ERROR) {
                return SL_ERROR;
            }

            op = sl_array_push(ops);
            if (op == NULL) {
                return SL_ERROR;
            }

            op->text = NULL;
            op->len = 0;
            op->index = (sl_uint_t) index;

            continue;

        invalid:
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%*s\"",
                              (size_t) (&data[end] - start), start);
            return SL_ERROR;
        }
    }

    fmt->ops = ops->elts;
    fmt->nops = ops->nelts;
    fmt->nvars = 0;
    fmt->fixed = 0;

    for (i = 0; i < fmt->nops; i++) {
        if (fmt->ops[i].text) {
            fmt->fixed += fmt->ops[i].len;

        } else {
            fmt->nvars++;
        }
    }

    return SL_OK;
}


/* The record of the file at name (relative to the prefix), created on first use. */
static sl_http_log_file_t *
sl_http_log_get_file(sl_conf_t *cf, sl_http_log_main_conf_t *lmcf, sl_str_t *name)
{
    sl_uint_t i;
    sl_open_file_t *file;
    sl_http_log_file_t **files, *lf, **lfp;

    file = sl_conf_open_file(cf->cycle, name);
    if (file == NULL) {
        return NULL;
    }

    files = lmcf->files.elts;

    for (i = 0; i < lmcf->files.nelts; i++) {
        if (files[i]->file == file) {
            return files[i];
        }
    }

    lf = sl_pcalloc(cf->pool, sizeof(sl_http_log_file_t));
    lfp = sl_array_push(&lmcf->files);
    if (lf == NULL || lfp == NULL) {
        return NULL;
    }

    lf->file = file;
    *lfp = lf;

    return lf;
}


/* access_log path [format [buffer=size] [flush=time] [if=condition]]; access_log off; */
static char *
sl_http_log_set_log(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_log_loc_conf_t *llcf = conf;
    ssize_t size;
    sl_int_t flush;
    sl_str_t *value, name, s;
    sl_uint_t i;
    sl_http_log_t *log;
    sl_http_log_fmt_t **fmt;
    sl_http_log_file_t *lf;
    sl_http_log_main_conf_t *lmcf;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    value = cf->args->elts;

    if (sl_str_eq_lit(&value[1], "off")) {
        llcf->off = 1;

        if (cf->args->nelts == 2) {
            return SL_CONF_OK;
        }

        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[2]);
        return SL_CONF_ERROR;
    }

    if (value[1].len >= sizeof("syslog:") - 1
        && sl_memcmp(value[1].data, "syslog:", sizeof("syslog:") - 1) == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "logging to syslog is not supported \"%V\"",
                          &value[1]);
        return SL_CONF_ERROR;
    }

    if (sl_http_script_variables_count(&value[1]) != 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "variables in access_log path are not supported \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }

    lmcf = sl_http_conf_get_module_main_conf(cf, sl_http_log_module);

    if (llcf->logs == NULL) {
        llcf->logs = sl_array_create(cf->pool, 2, sizeof(sl_http_log_t));
        if (llcf->logs == NULL) {
            return SL_CONF_ERROR;
        }
    }

    log = sl_array_push(llcf->logs);
    if (log == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(log, sizeof(sl_http_log_t));

    lf = sl_http_log_get_file(cf, lmcf, &value[1]);
    if (lf == NULL) {
        return SL_CONF_ERROR;
    }

    log->file = lf;

    if (cf->args->nelts >= 3) {
        name = value[2];

    } else {
        sl_str_set(&name, "combined");
    }

    fmt = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (sl_str_caseeq(&fmt[i]->name, &name)) {
            log->format = fmt[i];
            if (i == 0) {
                lmcf->combined_used = 1;
            }
            break;
        }
    }

    if (log->format == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unknown log format \"%V\"", &name);
        return SL_CONF_ERROR;
    }

    size = 0;
    flush = 0;

    for (i = 3; i < cf->args->nelts; i++) {
        if (value[i].len >= sizeof("buffer=") - 1
            && sl_memcmp(value[i].data, "buffer=", sizeof("buffer=") - 1) == 0) {
            s.len = value[i].len - (sizeof("buffer=") - 1);
            s.data = value[i].data + sizeof("buffer=") - 1;

            size = sl_parse_size(&s);

            if (size == SL_ERROR || size == 0) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid buffer size \"%V\"", &s);
                return SL_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len >= sizeof("flush=") - 1
            && sl_memcmp(value[i].data, "flush=", sizeof("flush=") - 1) == 0) {
            s.len = value[i].len - (sizeof("flush=") - 1);
            s.data = value[i].data + sizeof("flush=") - 1;

            flush = sl_parse_time(&s, 0);

            if (flush == SL_ERROR || flush == 0) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid flush time \"%V\"", &s);
                return SL_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len >= sizeof("gzip") - 1
            && sl_memcmp(value[i].data, "gzip", sizeof("gzip") - 1) == 0
            && (value[i].len == sizeof("gzip") - 1 || value[i].data[4] == '=')) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "compressed access logs are not supported \"%V\"", &value[i]);
            return SL_CONF_ERROR;
        }

        if (value[i].len >= sizeof("if=") - 1
            && sl_memcmp(value[i].data, "if=", sizeof("if=") - 1) == 0) {
            s.len = value[i].len - (sizeof("if=") - 1);
            s.data = value[i].data + sizeof("if=") - 1;

            sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = sl_palloc(cf->pool, sizeof(sl_http_complex_value_t));
            if (ccv.complex_value == NULL) {
                return SL_CONF_ERROR;
            }

            if (sl_http_compile_complex_value(&ccv) != SL_OK) {
                return SL_CONF_ERROR;
            }

            log->filter = ccv.complex_value;
            continue;
        }

        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);
        return SL_CONF_ERROR;
    }

    if (flush && size == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "no buffer is defined for access_log \"%V\"",
                          &value[1]);
        return SL_CONF_ERROR;
    }

    if (size == 0) {
        return SL_CONF_OK;
    }

    if (lf->size) {
        if (lf->size != (size_t) size || lf->flush != (sl_msec_t) flush) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "access_log \"%V\" already defined with conflicting parameters",
                              &value[1]);
            return SL_CONF_ERROR;
        }

        return SL_CONF_OK;
    }

    lf->size = (size_t) size;
    lf->flush = (sl_msec_t) flush;

    return SL_CONF_OK;
}


static sl_int_t
sl_http_log_variable_not_found(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(r);
    sl_unused(data);

    v->len = 0;
    v->data = NULL;
    v->valid = 0;
    v->no_cacheable = 0;
    v->not_found = 1;

    return SL_OK;
}


/*
 * The combined format names $remote_user, which only an authentication
 * module gives a value. Modules declare their variables in
 * preconfiguration, so by postconfiguration the registry is complete: if no
 * module declared $remote_user, this one declares it as never found (it logs
 * as "-"), so that formats naming it load as they do in nginx.
 */
static sl_int_t
sl_http_log_declare_remote_user(sl_conf_t *cf)
{
    sl_uint_t i;
    sl_str_t name = sl_string("remote_user");
    sl_hash_key_t *key;
    sl_http_variable_t *v;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_conf_get_module_main_conf(cf, sl_http_core_module);

    if (cmcf->variables_keys == NULL) {
        return SL_OK;
    }

    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (sl_str_caseeq(&key[i].key, &name)) {
            return SL_OK;
        }
    }

    v = sl_http_add_variable(cf, &name, 0);
    if (v == NULL) {
        return SL_ERROR;
    }

    v->get_handler = sl_http_log_variable_not_found;
    v->data = 0;

    return SL_OK;
}


static sl_int_t
sl_http_log_postconfiguration(sl_conf_t *cf)
{
    sl_http_handler_pt *h;
    sl_http_log_fmt_t **fmt;
    sl_http_log_main_conf_t *lmcf;

    if (sl_http_log_declare_remote_user(cf) != SL_OK) {
        return SL_ERROR;
    }

    lmcf = sl_http_conf_get_module_main_conf(cf, sl_http_log_module);

    if (lmcf->combined_used) {
        fmt = lmcf->formats.elts;

        if (sl_http_log_compile_format(cf, fmt[0], &sl_http_log_combined, 1) != SL_OK) {
            return SL_ERROR;
        }
    }

    h = sl_http_add_phase_handler(cf, SL_HTTP_LOG_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }

    *h = sl_http_log_handler;

    return SL_OK;
}
