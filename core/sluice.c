/*
 * sluice.c: main(). Reads the command line (nginx's options), builds the
 * first cycle from the configuration, and then either reports (-t, -T, -v,
 * -V), signals a running master (-s), or becomes the master (or the single
 * process with "master_process off").
 */
#include "sl_core.h"
#include "sl_proctitle.h"

#include <openssl/opensslv.h>
#include <zlib.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#if (SL_HAVE_LUA)
#include <lua.h>
#endif

#if (SL_HAVE_GEOIP)
#include <maxminddb.h>
#endif

/* What the command line asked for. */
typedef struct {
    sl_uint_t show_help;
    sl_uint_t show_version;
    sl_uint_t show_configure;
    char *prefix;
    char *conf_file;
    char *error_log;
    char *conf_params;
    char *signal;
} sl_options_t;


/* Writes "sluice: MESSAGE\n" (or the bare text with prefix 0) to stderr. */
static void
sl_write_stderr(sl_uint_t prefix, const char *fmt, ...)
{
    u_char buf[SL_MAX_ERROR_STR], *p, *last;
    va_list args;

    last = buf + sizeof(buf) - 1;
    p = buf;

    if (prefix) {
        p = sl_cpymem(p, "sluice: ", sizeof("sluice: ") - 1);
    }

    va_start(args, fmt);
    p = sl_vslprintf(p, last, fmt, args);
    va_end(args);

    *p++ = '\n';

    while (write(STDERR_FILENO, buf, (size_t) (p - buf)) == -1 && errno == EINTR) {
        continue;
    }
}


static void
sl_write_fd(sl_fd_t fd, const u_char *data, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, data, len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            return;
        }

        data += n;
        len -= (size_t) n;
    }
}


static void
sl_show_version_info(sl_options_t *opt)
{
    sl_uint_t i;
    u_char buf[4096], *p, *last;

    sl_write_stderr(0, "sluice version: " SLUICE_VER);

    if (opt->show_help) {
        sl_write_stderr(
            0, "Usage: sluice [-?hvVtTq] [-s signal] [-p prefix]\n"
               "              [-e filename] [-c filename] [-g directives]\n"
               "\n"
               "Options:\n"
               "  -?,-h         : this help\n"
               "  -v            : show version and exit\n"
               "  -V            : show version and configure options then exit\n"
               "  -t            : test configuration and exit\n"
               "  -T            : test configuration, dump it and exit\n"
               "  -q            : suppress non-error messages during configuration testing\n"
               "  -s signal     : send signal to a master process: stop, quit, reopen, reload\n"
               "  -p prefix     : set prefix path (default: " SL_PREFIX ")\n"
               "  -e filename   : set error log file (default: " SL_ERROR_LOG_PATH ")\n"
               "  -c filename   : set configuration file (default: " SL_CONF_PATH ")\n"
               "  -g directives : set global directives out of configuration file");
    }

    if (!opt->show_configure) {
        return;
    }

#ifdef SL_CC_VERSION
    sl_write_stderr(0, "built by %s", SL_CC_VERSION);
#elif defined __VERSION__
    sl_write_stderr(0, "built by gcc %s", __VERSION__);
#endif

    sl_write_stderr(0, "built with %s", OPENSSL_VERSION_TEXT);
    sl_write_stderr(0, "built with PCRE2 %d.%d", PCRE2_MAJOR, PCRE2_MINOR);
    sl_write_stderr(0, "built with zlib %s", ZLIB_VERSION);

#if (SL_HAVE_LUA)
    sl_write_stderr(0, "built with %s", LUA_RELEASE);
#endif

#if (SL_HAVE_GEOIP)
    sl_write_stderr(0, "built with libmaxminddb %s", MMDB_lib_version());
#endif

#ifdef SL_CONFIGURE
    sl_write_stderr(0, "configure arguments:%s%s", SL_CONFIGURE[0] ? " " : "", SL_CONFIGURE);
#endif

    last = buf + sizeof(buf);
    p = sl_slprintf(buf, last, "modules:");

    for (i = 0; i < sl_modules_n && sl_module_names[i] != NULL; i++) {
        p = sl_slprintf(p, last, " %s", sl_module_names[i]);
    }

    sl_write_stderr(0, "%*s", (size_t) (p - buf), buf);
}


/* Parses argv as nginx does: flags may be grouped ("-tq"), values follow or are attached. */
static sl_int_t
sl_get_options(int argc, char *const *argv, sl_options_t *opt)
{
    int i;
    u_char *p;

    for (i = 1; i < argc; i++) {
        p = (u_char *) argv[i];

        if (*p++ != '-' || *p == '\0') {
            sl_write_stderr(1, "invalid option: \"%s\"", argv[i]);
            return SL_ERROR;
        }

        while (*p) {
            switch (*p++) {
            case '?':
            case 'h':
                opt->show_version = 1;
                opt->show_help = 1;
                break;

            case 'v':
                opt->show_version = 1;
                break;

            case 'V':
                opt->show_version = 1;
                opt->show_configure = 1;
                break;

            case 't':
                sl_test_config = 1;
                break;

            case 'T':
                sl_test_config = 1;
                sl_dump_config = 1;
                break;

            case 'q':
                sl_quiet_mode = 1;
                break;

            case 'p':
                if (*p) {
                    opt->prefix = (char *) p;
                    goto next;
                }

                if (argv[++i]) {
                    opt->prefix = argv[i];
                    goto next;
                }

                sl_write_stderr(1, "option \"-p\" requires directory name");
                return SL_ERROR;

            case 'e':
                if (*p) {
                    opt->error_log = (char *) p;

                } else if (argv[++i]) {
                    opt->error_log = argv[i];

                } else {
                    sl_write_stderr(1, "option \"-e\" requires file name");
                    return SL_ERROR;
                }

                goto next;

            case 'c':
                if (*p) {
                    opt->conf_file = (char *) p;
                    goto next;
                }

                if (argv[++i]) {
                    opt->conf_file = argv[i];
                    goto next;
                }

                sl_write_stderr(1, "option \"-c\" requires file name");
                return SL_ERROR;

            case 'g':
                if (*p) {
                    opt->conf_params = (char *) p;
                    goto next;
                }

                if (argv[++i]) {
                    opt->conf_params = argv[i];
                    goto next;
                }

                sl_write_stderr(1, "option \"-g\" requires parameter");
                return SL_ERROR;

            case 's':
                if (*p) {
                    opt->signal = (char *) p;

                } else if (argv[++i]) {
                    opt->signal = argv[i];

                } else {
                    sl_write_stderr(1, "option \"-s\" requires parameter");
                    return SL_ERROR;
                }

                if (strcmp(opt->signal, "stop") == 0 || strcmp(opt->signal, "quit") == 0
                    || strcmp(opt->signal, "reopen") == 0 || strcmp(opt->signal, "reload") == 0) {
                    sl_process = SL_PROCESS_SIGNALLER;
                    goto next;
                }

                sl_write_stderr(1, "invalid option: \"-s %s\"", opt->signal);
                return SL_ERROR;

            default:
                sl_write_stderr(1, "invalid option: \"-%c\"", (int) *(p - 1));
                return SL_ERROR;
            }
        }

    next:

        continue;
    }

    return SL_OK;
}


/* Fills the init cycle's prefix, configuration file and -g directives from the options. */
static sl_int_t
sl_process_options(sl_cycle_t *cycle, sl_options_t *opt)
{
    u_char *p;
    size_t len;

    if (opt->prefix != NULL) {
        len = strlen(opt->prefix);
        p = (u_char *) opt->prefix;

        if (len && p[len - 1] != '/') {
            p = sl_pnalloc(cycle->pool, len + 2);
            if (p == NULL) {
                return SL_ERROR;
            }

            sl_memcpy(p, opt->prefix, len);
            p[len++] = '/';
            p[len] = '\0';
        }

        cycle->prefix.len = len;
        cycle->prefix.data = p;

    } else {
        sl_str_set(&cycle->prefix, SL_PREFIX);
    }

    cycle->conf_prefix = cycle->prefix;

    if (opt->conf_file != NULL) {
        cycle->conf_file.len = strlen(opt->conf_file);
        cycle->conf_file.data = (u_char *) opt->conf_file;

    } else {
        sl_str_set(&cycle->conf_file, SL_CONF_PATH);
    }

    if (sl_conf_full_name(cycle, &cycle->conf_file, 0) != SL_OK) {
        return SL_ERROR;
    }

    /* included files are relative to the main file's directory */
    for (p = cycle->conf_file.data + cycle->conf_file.len - 1; p > cycle->conf_file.data; p--) {
        if (*p == '/') {
            cycle->conf_prefix.len = (size_t) (p - cycle->conf_file.data) + 1;
            cycle->conf_prefix.data = cycle->conf_file.data;
            break;
        }
    }

    if (opt->error_log != NULL) {
        if (strcmp(opt->error_log, "stderr") == 0) {
            /* an empty name is stderr for sl_conf_open_file() */
            cycle->error_log.len = 0;
            cycle->error_log.data = (u_char *) "";

        } else {
            cycle->error_log.len = strlen(opt->error_log);
            cycle->error_log.data = (u_char *) opt->error_log;
        }

    } else {
        sl_str_set(&cycle->error_log, SL_ERROR_LOG_PATH);
    }

    if (opt->conf_params != NULL) {
        cycle->conf_param.len = strlen(opt->conf_params);
        cycle->conf_param.data = (u_char *) opt->conf_params;
    }

    return SL_OK;
}


/*
 * A binary upgrade: the old master lists its listening sockets in
 * SLUICE="fd;fd;...". Each one becomes a listener of the init cycle, which
 * sl_init_cycle() matches by address like the old cycle's listeners on a
 * reload; those the configuration no longer has are closed there. Stops at
 * the first entry that is not a listening TCP socket, as nginx does.
 */
static sl_int_t
sl_add_inherited_sockets(sl_cycle_t *cycle)
{
    int fd, type, value;
    u_char *p, *start, *text;
    size_t len, toklen;
    socklen_t olen;
    sl_int_t n;
    sl_uint_t i;
    sl_sockaddr_t sa;
    socklen_t socklen;
    sl_listening_t *ls, *prev;

    p = (u_char *) getenv("SLUICE");

    if (p == NULL) {
        return SL_OK;
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "using inherited sockets from \"%s\"", p);

    if (sl_array_init(&cycle->listening, cycle->pool, 10, sizeof(sl_listening_t)) != SL_OK) {
        return SL_ERROR;
    }

    for (start = p; *p; p++) {
        if (*p != ':' && *p != ';') {
            continue;
        }

        toklen = (size_t) (p - start);
        n = sl_atoi(start, toklen);

        fd = (int) n;
        socklen = sizeof(sl_sockaddr_t);
        olen = sizeof(int);

        if (n == SL_ERROR || n > INT_MAX || fcntl(fd, F_GETFD) == -1
            || getsockname(fd, &sa.sa, &socklen) == -1
            || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 || type != SOCK_STREAM
            || (sa.sa.sa_family != AF_INET && sa.sa.sa_family != AF_INET6)
            || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &olen) == -1 || value == 0) {
            sl_log_error(SL_LOG_EMERG, cycle->log, 0,
                         "invalid socket number \"%*s\" in SLUICE environment variable, "
                         "ignoring the rest of the variable",
                         toklen, start);
            break;
        }

        start = p + 1;

        text = sl_pnalloc(cycle->pool, SL_SOCKADDR_STRLEN);
        ls = sl_array_push(&cycle->listening);

        if (text == NULL || ls == NULL) {
            return SL_ERROR;
        }

        sl_memzero(ls, sizeof(sl_listening_t));

        len = sl_sock_ntop(&sa.sa, socklen, text, SL_SOCKADDR_STRLEN, 1);

        sl_memcpy(&ls->sockaddr, &sa, socklen);
        ls->socklen = socklen;
        ls->addr_text.len = len;
        ls->addr_text.data = text;
        ls->fd = fd;
        ls->inherited = 1;
        /* the new configuration's backlog is applied with listen() again */
        ls->backlog = -1;
        ls->logp = cycle->log;

        olen = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &value, &olen) == 0 && value) {
            ls->reuseport = 1;

            /* reuseport copies come in worker order: the old master cloned them so */
            prev = cycle->listening.elts;

            for (i = 0; i + 1 < cycle->listening.nelts; i++) {
                if (prev[i].reuseport
                    && sl_cmp_sockaddr(&prev[i].sockaddr.sa, prev[i].socklen, &sa.sa, socklen, 1)
                           == SL_OK) {
                    ls->worker++;
                }
            }
        }
    }

    sl_inherited = 1;

    return SL_OK;
}


/* -T: every file the configuration read, in the order it was read. */
static void
sl_dump_configuration(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_buf_t *b;
    sl_conf_dump_t *cd;
    static const u_char head[] = "# configuration file ";

    cd = cycle->config_dump.elts;

    for (i = 0; i < cycle->config_dump.nelts; i++) {
        sl_write_fd(STDOUT_FILENO, head, sizeof(head) - 1);
        sl_write_fd(STDOUT_FILENO, cd[i].name.data, cd[i].name.len);
        sl_write_fd(STDOUT_FILENO, (u_char *) ":" SL_LINEFEED, sizeof(":" SL_LINEFEED) - 1);

        b = cd[i].buffer;

        if (b != NULL && b->pos != NULL && b->last > b->pos) {
            sl_write_fd(STDOUT_FILENO, b->pos, (size_t) (b->last - b->pos));
        }

        sl_write_fd(STDOUT_FILENO, (u_char *) SL_LINEFEED, sizeof(SL_LINEFEED) - 1);
    }
}


int
main(int argc, char *const *argv)
{
    int rc;
    sl_log_t *log;
    sl_cycle_t *cycle, init_cycle;
    sl_options_t opt;
    sl_core_conf_t *ccf;

    sl_memzero(&opt, sizeof(sl_options_t));

    if (sl_get_options(argc, argv, &opt) != SL_OK) {
        return 1;
    }

    if (opt.show_version) {
        sl_show_version_info(&opt);

        if (!sl_test_config) {
            return 0;
        }
    }

    sl_time_init();

    sl_pid = getpid();
    sl_parent = getppid();
    sl_log_pid = sl_pid;

    /* stderr until the configuration's error_log is open */
    log = sl_log_init();

    if (sl_init_setproctitle(argc, argv, log) != SL_OK) {
        return 1;
    }

    sl_memzero(&init_cycle, sizeof(sl_cycle_t));
    init_cycle.log = log;
    sl_cycle = &init_cycle;

    init_cycle.pool = sl_create_pool(1024, log);
    if (init_cycle.pool == NULL) {
        return 1;
    }

    if (sl_process_options(&init_cycle, &opt) != SL_OK) {
        sl_free_cycle(&init_cycle);
        return 1;
    }

    if (sl_os_init(log) != SL_OK) {
        sl_free_cycle(&init_cycle);
        return 1;
    }

    if (sl_process != SL_PROCESS_SIGNALLER && !sl_test_config
        && sl_add_inherited_sockets(&init_cycle) != SL_OK) {
        sl_free_cycle(&init_cycle);
        return 1;
    }

    cycle = sl_init_cycle(&init_cycle);

    if (cycle == NULL) {
        if (sl_test_config) {
            sl_write_stderr(1, "configuration file %s test failed", init_cycle.conf_file.data);
        }

        sl_free_cycle(&init_cycle);
        return 1;
    }

    sl_free_cycle(&init_cycle);
    sl_cycle = cycle;

    if (sl_test_config) {
        if (!sl_quiet_mode) {
            sl_write_stderr(1, "configuration file %s test is successful", cycle->conf_file.data);
        }

        if (sl_dump_config) {
            sl_dump_configuration(cycle);
        }

        sl_free_cycle(cycle);
        return 0;
    }

    if (opt.signal != NULL) {
        rc = (int) sl_signal_process(cycle, opt.signal);
        sl_free_cycle(cycle);
        return rc;
    }

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf->master && sl_process == SL_PROCESS_SINGLE) {
        sl_process = SL_PROCESS_MASTER;
    }

    if (sl_init_signals(cycle->log) != SL_OK) {
        return 1;
    }

    if (!sl_inherited && ccf->daemon) {
        if (sl_daemon(cycle->log) != SL_OK) {
            return 1;
        }

        sl_daemonized = 1;
    }

    if (sl_inherited && ccf->daemon) {
        /* started by a daemon's binary upgrade: a daemon too, in the old one's session */
        sl_daemonized = 1;
    }

    /* written now: the listeners are bound and the pid is the daemon's */
    if (sl_create_pidfile(&ccf->pid, cycle->log) != SL_OK) {
        return 1;
    }

    /* started: from here on, messages go to the error log only */
    sl_log_use_stderr = 0;

    if (sl_redirect_stderr(cycle) != SL_OK) {
        return 1;
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "using the \"epoll\" event method");
    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, SLUICE_VER);

    if (sl_process == SL_PROCESS_SINGLE) {
        sl_single_process_cycle(cycle);

    } else {
        sl_master_process_cycle(cycle);
    }

    return 0;
}
