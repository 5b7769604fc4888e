/*
 * sl_log.h: the error log. Levels follow nginx: stderr emerg alert crit
 * error warn notice info debug. A log writes to one fd; several logs may be
 * chained (error_log given twice). sl_log_error() checks the level first, so
 * a disabled level costs one comparison.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include "sl_config.h"
#include "sl_string.h"

#define SL_LOG_STDERR 0
#define SL_LOG_EMERG 1
#define SL_LOG_ALERT 2
#define SL_LOG_CRIT 3
#define SL_LOG_ERR 4
#define SL_LOG_WARN 5
#define SL_LOG_NOTICE 6
#define SL_LOG_INFO 7
#define SL_LOG_DEBUG 8

#define SL_MAX_ERROR_STR 2048

typedef struct sl_log_s sl_log_t;
typedef u_char *(*sl_log_handler_pt)(sl_log_t *log, u_char *buf, size_t len);

typedef struct sl_open_file_s sl_open_file_t;
struct sl_open_file_s {
    sl_fd_t fd;
    sl_str_t name; /* NUL-terminated; empty for stderr */
};

struct sl_log_s {
    sl_uint_t log_level;
    sl_open_file_t *file;
    sl_uint_t connection; /* connection number printed as "*N" when not 0 */
    /* Appends context (client, request, ...) to a message; may be NULL. */
    sl_log_handler_pt handler;
    void *data;
    const char *action; /* "while reading ...", printed by the handler */
    sl_log_t *next;
};

/* Formats with sl_vslprintf() (see sl_string.h); appends strerror(err) when
 * err is not 0. Writes one line: "2026/11/29 09:00:00 [error] pid#0: *conn message, ctx". */
void sl_log_error_core(sl_uint_t level, sl_log_t *log, sl_err_t err, const char *fmt, ...);

#define sl_log_error(level, log, ...) \
    do { \
        if ((log)->log_level >= (level)) sl_log_error_core(level, log, __VA_ARGS__); \
    } while (0)

#define sl_log_debug(log, ...) sl_log_error(SL_LOG_DEBUG, log, 0, __VA_ARGS__)

/*
 * Messages before any log is configured (and from the command line) go to
 * stderr as "sluice: [emerg] message".
 */
void sl_log_stderr(sl_err_t err, const char *fmt, ...);

/* Returns the level index for a name such as "warn", or -1. */
sl_int_t sl_log_level_from_name(const sl_str_t *name);

/* The bootstrap log: stderr at level "notice" until a configuration sets one. */
sl_log_t *sl_log_init(void);

/*
 * 1 until the server has started (main() clears it before it detaches
 * stderr): warnings and worse are echoed to stderr in the short form.
 */
extern sl_uint_t sl_log_use_stderr;

/* Current pid printed in log lines; set after fork. */
extern pid_t sl_log_pid;
extern sl_uint_t sl_log_worker;

/* sl_log_stderr() with the given level's word: "sluice: [warn] message". */
void sl_log_stderr_level(sl_uint_t level, sl_err_t err, const char *fmt, ...);

/*
 * The value of an "error_log" directive: cf->args[1] is "stderr" or a file
 * (opened through sl_conf_open_file()), cf->args[2] an optional level, "error"
 * by default. Fills *head when it has no file yet, else links a new log into
 * the chain, which stays ordered from the most verbose level down so that the
 * head's level check in sl_log_error() admits everything some log wants.
 * Returns SL_CONF_OK, or SL_CONF_ERROR having logged why.
 */
struct sl_conf_s;
char *sl_log_set_log(struct sl_conf_s *cf, sl_log_t **head);

#endif /* SL_LOG_H */
