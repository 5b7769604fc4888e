/*
 * test_log.c: sl_log.c — the line format, level filtering, chains,
 * truncation, the context handler, the stderr forms and the error_log
 * value parser (against local fakes of the cycle's file opener).
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_tap.h"

#include <regex.h>

static sl_uint_t opened;
static sl_uint_t open_fails;
static u_char conf_msg[512];
static size_t conf_msg_len;
static sl_uint_t conf_msg_level;

/* Fakes of sl_cycle.c and sl_conf_file.c: this test links only core-a's objects. */
sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    sl_open_file_t *file;

    if (open_fails) {
        return NULL;
    }

    file = sl_pcalloc(cycle->pool, sizeof(sl_open_file_t));
    file->fd = 100 + (sl_fd_t) opened;
    file->name = *name;
    opened++;

    return file;
}

void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...)
{
    va_list args;

    (void) cf;
    (void) err;

    va_start(args, fmt);
    conf_msg_len =
        (size_t) (sl_vslprintf(conf_msg, conf_msg + sizeof(conf_msg), fmt, args) - conf_msg);
    va_end(args);
    conf_msg_level = level;
}

static int
check_mem(const u_char *got, size_t glen, const char *want)
{
    int same = glen == strlen(want) && memcmp(got, want, glen) == 0;

    if (!same) {
        printf("#   got \"%.*s\" (%zu bytes), want \"%s\"\n", (int) glen, got, glen, want);
    }

    return same;
}

#define is_bytes(got, glen, want, ...) \
    ok(check_mem((const u_char *) (got), (size_t) (glen), want), __VA_ARGS__)

static int
matches(const char *text, const char *pattern)
{
    regex_t re;
    int rc;

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

static int
temp_fd(void)
{
    char name[] = "/tmp/sl_test_log_XXXXXX";
    int fd;

    fd = mkstemp(name);
    if (fd >= 0) {
        unlink(name);
    }

    return fd;
}

/* Reads what was written to fd since the last call and empties the file. */
static size_t
take(int fd, char *buf, size_t size)
{
    ssize_t n;

    n = pread(fd, buf, size - 1, 0);
    if (n < 0) {
        n = 0;
    }

    buf[n] = '\0';
    if (ftruncate(fd, 0) != 0) {
        buf[0] = '\0';
        return 0;
    }
    lseek(fd, 0, SEEK_SET);

    return (size_t) n;
}

static u_char *
client_handler(sl_log_t *log, u_char *buf, size_t len)
{
    return sl_slprintf(buf, buf + len, ", client: %s", (char *) log->data);
}

static u_char *
rogue_handler(sl_log_t *log, u_char *buf, size_t len)
{
    (void) log;
    return buf + len + 100;
}

static void
test_format(void)
{
    char out[8192];
    sl_open_file_t f1, f2;
    sl_log_t log, log2;
    size_t n;
    char *big;

    f1.fd = temp_fd();
    f2.fd = temp_fd();
    ok(f1.fd >= 0 && f2.fd >= 0, "temp files");

    sl_memzero(&log, sizeof(log));
    sl_memzero(&log2, sizeof(log2));
    log.file = &f1;
    log.log_level = SL_LOG_WARN;

    sl_log_pid = 4321;
    sl_log_worker = 3;

    sl_log_error(SL_LOG_ERR, &log, 0, "hello %d", 42);
    take(f1.fd, out, sizeof(out));
    ok(matches(out, "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} "
                    "\\[error\\] 4321#3: hello 42\n$"),
       "line format");
    ok(strncmp(out, (char *) sl_cached_err_log_time.data, 19) == 0, "line starts with log time");

    sl_log_error(SL_LOG_INFO, &log, 0, "quiet");
    n = take(f1.fd, out, sizeof(out));
    is_int(n, 0, "a level above the log's is not written");

    sl_log_error(SL_LOG_WARN, &log, 0, "edge");
    take(f1.fd, out, sizeof(out));
    ok(matches(out, " \\[warn\\] 4321#3: edge\n$"), "the log's own level is written");

    log.connection = 17;
    errno = EINTR;
    sl_log_error(SL_LOG_CRIT, &log, ENOENT, "open() \"%s\" failed", "/x");
    ok(errno == EINTR, "errno is preserved");
    take(f1.fd, out, sizeof(out));
    ok(matches(out, " \\[crit\\] 4321#3: \\*17 open\\(\\) \"/x\" failed "
                    "\\(2: No such file or directory\\)\n$"),
       "connection and strerror");

    log.connection = 0;
    log.handler = client_handler;
    log.data = "10.0.0.1";
    sl_log_error(SL_LOG_EMERG, &log, 0, "boom");
    take(f1.fd, out, sizeof(out));
    ok(matches(out, "\\[emerg\\] 4321#3: boom, client: 10.0.0.1\n$"), "handler appends context");

    big = malloc(5000);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    sl_log_error(SL_LOG_ERR, &log, EPERM, "%s", big);
    n = take(f1.fd, out, sizeof(out));
    is_int(n, SL_MAX_ERROR_STR, "a long message is cut at SL_MAX_ERROR_STR");
    ok(n > 0 && out[n - 1] == '\n' && out[n - 2] == 'x', "the cut line still ends in a newline");

    sl_log_error(SL_LOG_ERR, &log, 0, "open() \"%s\" failed", "/a\r\n2026/01/01 [emerg] x\x7f");
    take(f1.fd, out, sizeof(out));
    ok(matches(out, "open\\(\\) \"/a\\\\x0d\\\\x0a2026/01/01 \\[emerg\\] x\\\\x7f\" failed, "
                    "client: 10.0.0.1\n$"),
       "control bytes in a message are written as \\xNN: no forged line");

    memset(big, '\n', 4999);
    sl_log_error(SL_LOG_ERR, &log, 0, "%s", big);
    n = take(f1.fd, out, sizeof(out));
    ok(n == SL_MAX_ERROR_STR && out[n - 1] == '\n' && memchr(out, '\n', n - 1) == NULL,
       "a message of control bytes is cut at SL_MAX_ERROR_STR, one line");

    log.handler = rogue_handler;
    sl_log_error(SL_LOG_ERR, &log, 0, "short");
    n = take(f1.fd, out, sizeof(out));
    ok(n > 0 && out[n - 1] == '\n' && matches(out, "short\n$"),
       "a handler returning past the buffer is ignored");
    log.handler = NULL;

    /* chains: the head is the most verbose, each log filters for itself */
    log2.file = &f2;
    log2.log_level = SL_LOG_ERR;
    log.log_level = SL_LOG_INFO;
    log.next = &log2;

    sl_log_error(SL_LOG_INFO, &log, 0, "info only");
    take(f1.fd, out, sizeof(out));
    ok(matches(out, "info only\n$"), "chain: first log takes info");
    n = take(f2.fd, out, sizeof(out));
    is_int(n, 0, "chain: second log skips info");

    sl_log_error(SL_LOG_ALERT, &log, 0, "both");
    take(f1.fd, out, sizeof(out));
    ok(matches(out, "\\[alert\\] .*both\n$"), "chain: first log takes alert");
    take(f2.fd, out, sizeof(out));
    ok(matches(out, "\\[alert\\] .*both\n$"), "chain: second log takes alert");

    free(big);
    close(f1.fd);
    close(f2.fd);
}

static void
test_stderr(void)
{
    char out[4096];
    int fd, saved;
    sl_log_t *boot, a, b;
    sl_open_file_t *stderr_file;

    fd = temp_fd();
    saved = dup(STDERR_FILENO);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);

    sl_log_stderr(0, "unknown option \"%s\"", "-x");
    take(fd, out, sizeof(out));
    ok(strcmp(out, "sluice: [emerg] unknown option \"-x\"\n") == 0, "sl_log_stderr");

    sl_log_stderr(EACCES, "open() failed");
    take(fd, out, sizeof(out));
    ok(strcmp(out, "sluice: [emerg] open() failed (13: Permission denied)\n") == 0,
       "sl_log_stderr with errno");

    sl_log_stderr_level(SL_LOG_WARN, 0, "careful %d", 1);
    take(fd, out, sizeof(out));
    ok(strcmp(out, "sluice: [warn] careful 1\n") == 0, "sl_log_stderr_level");

    sl_log_stderr_level(99, 0, "odd level");
    take(fd, out, sizeof(out));
    ok(strcmp(out, "sluice: [debug] odd level\n") == 0, "out-of-range level is clamped");

    boot = sl_log_init();
    ok(boot->log_level == SL_LOG_NOTICE && boot->file && boot->file->fd == STDERR_FILENO,
       "bootstrap log is stderr at notice");
    stderr_file = boot->file;

    sl_log_error(SL_LOG_NOTICE, boot, 0, "started");
    take(fd, out, sizeof(out));
    ok(strcmp(out, "sluice: [notice] started\n") == 0, "bootstrap log writes the short stderr form");

    sl_log_error(SL_LOG_INFO, boot, 0, "hidden");
    take(fd, out, sizeof(out));
    ok(out[0] == '\0', "bootstrap log drops info");

    sl_memzero(&a, sizeof(a));
    sl_memzero(&b, sizeof(b));
    a.log_level = SL_LOG_DEBUG;
    a.file = NULL;
    b.log_level = SL_LOG_DEBUG;
    b.file = stderr_file;
    a.next = &b;
    sl_log_error(SL_LOG_ERR, &a, 0, "once");
    take(fd, out, sizeof(out));
    ok(matches(out, "^[^\n]*once\n$"), "a NULL file means stderr, written once per chain");

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
}

static void
test_levels(void)
{
    sl_str_t s;

    s.data = (u_char *) "warn";
    s.len = 4;
    is_int(sl_log_level_from_name(&s), SL_LOG_WARN, "warn");
    s.data = (u_char *) "error";
    s.len = 5;
    is_int(sl_log_level_from_name(&s), SL_LOG_ERR, "error");
    s.data = (u_char *) "debug";
    s.len = 5;
    is_int(sl_log_level_from_name(&s), SL_LOG_DEBUG, "debug");
    s.data = (u_char *) "emerg";
    s.len = 5;
    is_int(sl_log_level_from_name(&s), SL_LOG_EMERG, "emerg");
    s.data = (u_char *) "Warn";
    s.len = 4;
    is_int(sl_log_level_from_name(&s), -1, "names are case-sensitive");
    s.data = (u_char *) "warning";
    s.len = 7;
    is_int(sl_log_level_from_name(&s), -1, "warning is not a level");
    s.data = (u_char *) "warn";
    s.len = 3;
    is_int(sl_log_level_from_name(&s), -1, "a prefix is not a level");
    s.len = 0;
    is_int(sl_log_level_from_name(&s), -1, "empty");
}

static void
set_args(sl_conf_t *cf, const char *a1, const char *a2)
{
    sl_str_t *v;

    cf->args->nelts = 0;

    v = sl_array_push(cf->args);
    v->data = (u_char *) "error_log";
    v->len = 9;

    v = sl_array_push(cf->args);
    v->data = (u_char *) a1;
    v->len = strlen(a1);

    if (a2) {
        v = sl_array_push(cf->args);
        v->data = (u_char *) a2;
        v->len = strlen(a2);
    }
}

static void
test_set_log(void)
{
    sl_pool_t *pool;
    sl_cycle_t cycle;
    sl_conf_t cf;
    sl_log_t *head, embedded, *l;
    sl_str_t *extra;
    sl_uint_t n, sorted;
    char *rc;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, NULL);
    sl_memzero(&cycle, sizeof(cycle));
    sl_memzero(&cf, sizeof(cf));
    cycle.pool = pool;
    cf.cycle = &cycle;
    cf.pool = pool;
    cf.args = sl_array_create(pool, 4, sizeof(sl_str_t));

    head = NULL;
    set_args(&cf, "logs/error.log", NULL);
    rc = sl_log_set_log(&cf, &head);
    ok(rc == SL_CONF_OK && head != NULL, "error_log with a file");
    ok(head && head->log_level == SL_LOG_ERR, "default level is error");
    ok(head && head->file && head->file->fd == 100
           && sl_str_eq_lit(&head->file->name, "logs/error.log"),
       "file opened through sl_conf_open_file");

    sl_memzero(&embedded, sizeof(embedded));
    head = &embedded;
    set_args(&cf, "stderr", "warn");
    n = opened;
    rc = sl_log_set_log(&cf, &head);
    ok(rc == SL_CONF_OK && head == &embedded && embedded.file != NULL
           && embedded.file->fd == STDERR_FILENO && embedded.log_level == SL_LOG_WARN,
       "a head without a file is filled in place");
    is_int(opened, n, "stderr opens no file");

    set_args(&cf, "logs/debug.log", "debug");
    rc = sl_log_set_log(&cf, &head);
    ok(rc == SL_CONF_OK && head == &embedded && embedded.log_level == SL_LOG_DEBUG,
       "a more verbose log becomes the head's contents");

    set_args(&cf, "logs/crit.log", "crit");
    rc = sl_log_set_log(&cf, &head);
    set_args(&cf, "logs/info.log", "info");
    rc = sl_log_set_log(&cf, &head);
    ok(rc == SL_CONF_OK, "four logs");

    n = 0;
    sorted = 1;
    for (l = head; l; l = l->next) {
        if (l->next && l->next->log_level > l->log_level) {
            sorted = 0;
        }
        n++;
    }
    is_int(n, 4, "the chain holds every log");
    ok(sorted, "the chain is ordered from the most verbose level");
    ok(head->file->fd != STDERR_FILENO && head->next->log_level == SL_LOG_INFO
           && head->next->next->log_level == SL_LOG_WARN
           && head->next->next->file->fd == STDERR_FILENO,
       "files travel with their levels");

    set_args(&cf, "logs/x.log", "loud");
    conf_msg_len = 0;
    rc = sl_log_set_log(&cf, &head);
    ok(rc == SL_CONF_ERROR, "bad level is an error");
    is_bytes(conf_msg, conf_msg_len, "invalid log level \"loud\"", "bad level message");
    is_int(conf_msg_level, SL_LOG_EMERG, "bad level logged at emerg");

    set_args(&cf, "logs/x.log", "");
    ok(sl_log_set_log(&cf, &head) == SL_CONF_ERROR, "empty level is an error");

    set_args(&cf, "", NULL);
    ok(sl_log_set_log(&cf, &head) == SL_CONF_ERROR, "empty file name is an error");

    open_fails = 1;
    set_args(&cf, "logs/y.log", NULL);
    ok(sl_log_set_log(&cf, &head) == SL_CONF_ERROR, "a file that cannot open is an error");
    open_fails = 0;

    for (n = 0, l = head; l; l = l->next) {
        n++;
    }
    is_int(n, 4, "failed directives add nothing");

    set_args(&cf, "a", "warn");
    extra = sl_array_push(cf.args);
    extra->data = (u_char *) "more";
    extra->len = 4;
    ok(sl_log_set_log(&cf, &head) == SL_CONF_ERROR, "too many arguments is an error");

    sl_destroy_pool(pool);
}

int
main(void)
{
    sl_time_init();

    test_format();
    test_stderr();
    test_levels();
    test_set_log();

    return sl_tap_done();
}
