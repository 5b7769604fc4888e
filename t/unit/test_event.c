/*
 * test_event.c: the worker event loop in one process: the events block
 * through the real parser, listeners on loopback, accept, echo through
 * sl_unix_recv/send, chains with writev and sendfile under back-pressure,
 * timers, stale epoll reports, slot exhaustion, EMFILE, draining.
 *
 * Uses sl_event sl_event_timer sl_connection sl_os sl_conf_file sl_log
 * sl_time sl_string sl_palloc sl_array sl_buf sl_rbtree. What sl_cycle.c and
 * sl_process.c own is replaced by the doubles below, so linking against
 * libsluice.a never pulls those two in.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_buf.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_conf_file.h"
#include "sl_module.h"
#include "sl_cycle.h"
#include "sl_event.h"
#include "sl_connection.h"
#include "sl_process.h"

#include "sl_tap.h"

/* Doubles ------------------------------------------------------------------- */

volatile sl_cycle_t *sl_cycle;
sl_uint_t sl_test_config;
sl_uint_t sl_worker;
sl_module_t sl_core_module = {
    SL_MODULE_V1, "sl_core_module", SL_CORE_MODULE, NULL, NULL, NULL, NULL, NULL, NULL
};


sl_uint_t
sl_count_modules(sl_cycle_t *cycle, sl_uint_t type)
{
    sl_uint_t i, n;

    n = 0;

    for (i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->type == type) {
            cycle->modules[i]->ctx_index = n++;
        }
    }

    return n;
}


sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    sl_unused(cycle);
    sl_unused(name);
    return NULL;
}

/* Fixture --------------------------------------------------------------------- */

static sl_log_t test_log;
static sl_open_file_t test_log_file;
static char log_path[] = "/tmp/sl_test_event_log_XXXXXX";
static sl_cycle_t cycle;
static sl_core_conf_t ccf;
static sl_module_t *modules[] = { &sl_core_module, &sl_events_module, &sl_event_core_module,
                                  &sl_conf_module };


static sl_msec_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sl_msec_t) ts.tv_sec * 1000 + (sl_msec_t) ts.tv_nsec / 1000000;
}


static int
log_contains(const char *text)
{
    static char buf[1 << 16];
    ssize_t n;

    n = pread(test_log_file.fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) {
        return 0;
    }

    buf[n] = '\0';

    return strstr(buf, text) != NULL;
}


static void
log_clear(void)
{
    if (ftruncate(test_log_file.fd, 0) == -1 || lseek(test_log_file.fd, 0, SEEK_SET) == -1) {
        perror("ftruncate");
    }
}


static void
noop_handler(sl_event_t *ev)
{
    sl_unused(ev);
}


/* Runs the loop until cond() holds or max ms pass; a watchdog timer bounds each wait. */
static int
run_until(int (*cond)(void), sl_msec_t max)
{
    static sl_event_t watchdog;
    sl_msec_t start;
    int done;

    watchdog.handler = noop_handler;
    watchdog.log = &test_log;
    start = now_ms();

    while (!(done = cond()) && now_ms() - start < max) {
        sl_event_add_timer(&watchdog, 10);
        sl_process_events_and_timers(&cycle);
    }

    sl_event_del_timer(&watchdog);

    return done;
}


static void
setup(void)
{
    sl_uint_t i;

    sl_time_init();

    test_log_file.fd = mkstemp(log_path);
    if (test_log_file.fd == -1) {
        perror("mkstemp");
        exit(1);
    }

    unlink(log_path);
    sl_log_init();
    test_log.log_level = SL_LOG_INFO;
    test_log.file = &test_log_file;

    cycle.pool = sl_create_pool(16384, &test_log);
    cycle.log = &test_log;
    cycle.new_log = test_log;
    cycle.modules = modules;
    cycle.modules_n = sl_nelts(modules);

    for (i = 0; i < cycle.modules_n; i++) {
        modules[i]->index = i;
    }

    /* small, so that pushes move the array */
    if (cycle.pool == NULL
        || sl_array_init(&cycle.listening, cycle.pool, 1, sizeof(sl_listening_t)) != SL_OK) {
        exit(1);
    }

    cycle.conf_ctx = sl_pcalloc(cycle.pool, cycle.modules_n * sizeof(void *));
    ccf.rlimit_nofile = SL_CONF_UNSET;
    cycle.conf_ctx[sl_core_module.index] = (void ***) &ccf;

    sl_cycle = &cycle;
}


static void
conf_init(sl_conf_t *cf)
{
    sl_memzero(cf, sizeof(sl_conf_t));
    cf->cycle = &cycle;
    cf->pool = cycle.pool;
    cf->temp_pool = cycle.pool;
    cf->log = &test_log;
    cf->ctx = cycle.conf_ctx;
    cf->module_type = SL_CORE_MODULE;
    cf->cmd_type = SL_MAIN_CONF;
}


/* Parses text as a whole configuration file into a fresh events context. */
static char *
parse_text(const char *text)
{
    int fd;
    char path[] = "/tmp/sl_test_event_conf_XXXXXX";
    char *rv;
    sl_str_t name;
    sl_conf_t cf;

    fd = mkstemp(path);
    if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
        return SL_CONF_ERROR;
    }

    close(fd);

    cycle.conf_ctx[sl_events_module.index] = NULL;

    conf_init(&cf);
    name.data = (u_char *) path;
    name.len = strlen(path);

    rv = sl_conf_parse(&cf, &name);

    unlink(path);

    return rv;
}


static sl_event_conf_t *
event_conf(void)
{
    return sl_event_get_conf(cycle.conf_ctx, sl_event_core_module);
}


static void
test_conf(void)
{
    sl_event_conf_t *ecf;
    sl_core_module_t *core;

    ok(parse_text("events {\n    worker_connections 16;\n    multi_accept on;\n"
                  "    use epoll;\n    accept_mutex off;\n}\n")
           == SL_CONF_OK,
       "events block parses");
    ecf = event_conf();
    is_int(ecf->connections, 16, "worker_connections 16");
    is_int(ecf->multi_accept, 1, "multi_accept on");
    is_int(ecf->epoll_events, 512, "epoll_events default");

    core = sl_events_module.ctx;
    ok(core->init_conf(&cycle, cycle.conf_ctx[sl_events_module.index]) == SL_CONF_OK,
       "events present: core init_conf passes");

    log_clear();
    ok(core->init_conf(&cycle, NULL) == SL_CONF_ERROR, "no events block is an error");
    ok(log_contains("no \"events\" section in configuration"), "missing events logged");

    ok(parse_text("events { }\n") == SL_CONF_OK, "empty events block");
    ecf = event_conf();
    is_int(ecf->connections, 512, "worker_connections defaults to 512");
    is_int(ecf->multi_accept, 0, "multi_accept defaults to off");
    is_int(ecf->accept_mutex, 0, "accept_mutex defaults to off");

    log_clear();
    ok(parse_text("events { use kqueue; }\n") == SL_CONF_ERROR, "use kqueue refused");
    ok(log_contains("invalid event type \"kqueue\""), "use kqueue logged");

    ok(parse_text("events { worker_connections 1; }\n") == SL_CONF_ERROR,
       "worker_connections 1 refused");
    ok(parse_text("events { worker_connections 99999999999999999999999; }\n") == SL_CONF_ERROR,
       "worker_connections overflow refused");
    ok(parse_text("events { worker_connections 8; worker_connections 9; }\n") == SL_CONF_ERROR,
       "duplicate worker_connections refused");
    log_clear();
    ok(parse_text("events { }\nevents { }\n") == SL_CONF_ERROR, "second events block refused");
    ok(log_contains("is duplicate"), "second events block logged as duplicate");
    ok(parse_text("events { multi_accept maybe; }\n") == SL_CONF_ERROR,
       "multi_accept maybe refused");

    /* the master warns when the fd limit is below worker_connections */
    ok(parse_text("events { worker_connections 4096; }\n") == SL_CONF_OK, "4096 connections");
    ccf.rlimit_nofile = 100;
    log_clear();
    is_int(sl_event_core_module.init_module(&cycle), SL_OK, "init_module passes");
    ok(log_contains("4096 worker_connections exceed open file resource limit: 100"),
       "fd limit warning");
    ccf.rlimit_nofile = SL_CONF_UNSET;

    /* the configuration the loop tests run with */
    ok(parse_text("events { worker_connections 16; }\n") == SL_CONF_OK, "16 connections");
}


static void
test_addresses(void)
{
    u_char text[64];
    size_t n;
    sl_url_t u;
    struct sockaddr_in sin, sin2;
    struct sockaddr_in6 sin6;

    sl_memzero(&sin, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(8080);
    sin.sin_addr.s_addr = htonl(0x7f000001);

    n = sl_sock_ntop((struct sockaddr *) &sin, sizeof(sin), text, sizeof(text), 1);
    is_mem(text, n, "127.0.0.1:8080", "ntop v4 with port");
    n = sl_sock_ntop((struct sockaddr *) &sin, sizeof(sin), text, sizeof(text), 0);
    is_mem(text, n, "127.0.0.1", "ntop v4 without port");
    n = sl_sock_ntop((struct sockaddr *) &sin, sizeof(sin), text, 5, 1);
    ok(n <= 5, "ntop never writes past len");
    n = sl_sock_ntop((struct sockaddr *) &sin, 4, text, sizeof(text), 1);
    is_int(n, 0, "ntop refuses a short v4 socklen");

    sl_memzero(&sin6, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(443);
    sin6.sin6_addr = in6addr_loopback;
    n = sl_sock_ntop((struct sockaddr *) &sin6, sizeof(sin6), text, sizeof(text), 1);
    is_mem(text, n, "[::1]:443", "ntop v6 with port");

    sin2 = sin;
    is_int(sl_cmp_sockaddr((struct sockaddr *) &sin, sizeof(sin), (struct sockaddr *) &sin2,
                           sizeof(sin2), 1),
           SL_OK, "same v4 addresses compare equal");
    sin2.sin_port = htons(8081);
    is_int(sl_cmp_sockaddr((struct sockaddr *) &sin, sizeof(sin), (struct sockaddr *) &sin2,
                           sizeof(sin2), 1),
           SL_DECLINED, "different ports differ");
    is_int(sl_cmp_sockaddr((struct sockaddr *) &sin, sizeof(sin), (struct sockaddr *) &sin2,
                           sizeof(sin2), 0),
           SL_OK, "ports ignored without cmp_port");
    is_int(sl_cmp_sockaddr((struct sockaddr *) &sin, sizeof(sin), (struct sockaddr *) &sin6,
                           sizeof(sin6), 0),
           SL_DECLINED, "v4 and v6 differ");

#define URL(text, lst, dport) \
    sl_memzero(&u, sizeof(u)); \
    u.url.data = (u_char *) (text); \
    u.url.len = strlen(text); \
    u.listen = (lst); \
    u.default_port = (dport)

    URL("8080", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_OK, "listen 8080");
    is_int(u.port, 8080, "bare number is a port");
    is_int(u.sockaddr.sin.sin_addr.s_addr, htonl(INADDR_ANY), "bare port: any address");
    is_int(ntohs(u.sockaddr.sin.sin_port), 8080, "port in sockaddr");

    URL("*:81", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_OK && u.port == 81
           && u.sockaddr.sin.sin_addr.s_addr == htonl(INADDR_ANY),
       "*:81");

    URL("127.0.0.1:8080", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_OK, "127.0.0.1:8080");
    is_int(u.naddrs, 1, "one address");
    n = sl_sock_ntop(&u.sockaddr.sa, u.socklen, text, sizeof(text), 1);
    is_mem(text, n, "127.0.0.1:8080", "parsed v4 round-trips");
    is_mem(u.host.data, u.host.len, "127.0.0.1", "host");

    URL("[::1]:8080", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_OK, "[::1]:8080");
    n = sl_sock_ntop(&u.sockaddr.sa, u.socklen, text, sizeof(text), 1);
    is_mem(text, n, "[::1]:8080", "parsed v6 round-trips");

    URL("localhost:8080", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_OK && u.naddrs >= 1, "localhost resolves");
    is_int(u.sockaddr.sa.sa_family, AF_INET, "IPv4 first");
    is_int(ntohs(u.sockaddr.sin.sin_port), 8080, "resolved address carries the port");

    URL("10.0.0.1", 0, 80);
    ok(sl_parse_url(cycle.pool, &u) == SL_OK && u.port == 80, "default port");
    URL("10.0.0.1", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR && u.err != NULL, "no port refused");
    URL("8080", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "bare number outside listen needs a port");

    URL("", 1, 80);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "empty refused");
    URL("1.2.3.4:0", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "port 0 refused");
    URL("1.2.3.4:65536", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "port 65536 refused");
    URL("1.2.3.4:99999999999999999999999", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "huge port refused");
    URL("1.2.3.4:", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "empty port refused");
    URL("1.2.3.4:80x", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "junk port refused");
    URL(":80", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "empty host refused");
    URL("::1:80", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "unbracketed v6 refused");
    URL("[::1", 1, 80);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "unterminated bracket refused");
    URL("[zz]:80", 1, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "bad v6 refused");
    URL("[::1]x", 1, 80);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "junk after bracket refused");
    URL("unix:/tmp/s", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_OK && u.naddrs == 1
           && u.addrs[0].sa.sa_family == AF_UNIX && strcmp(u.addrs[0].un.sun_path, "/tmp/s") == 0
           && u.port == 0,
       "unix socket parsed");
    URL("unix:", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR && u.err != NULL,
       "unix socket without a path refused");
    URL("no-such-host.invalid:80", 0, 0);
    ok(sl_parse_url(cycle.pool, &u) == SL_ERROR && u.err != NULL, "unknown host refused");
    {
        static char big[3000];

        memset(big, 'a', sizeof(big) - 1);
        URL(big, 0, 80);
        ok(sl_parse_url(cycle.pool, &u) == SL_ERROR, "huge host name refused");
    }
#undef URL
}


static sl_uint_t port;
static sl_listening_t *test_ls;
static void on_accept(sl_connection_t *c);


static void
test_listening(void)
{
    int flags;
    sl_conf_t cf;
    sl_uint_t i, base;
    sl_listening_t *ls;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    socklen_t len;

    conf_init(&cf);

    sl_memzero(&sin6, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(8443);
    sin6.sin6_addr = in6addr_loopback;
    ls = sl_create_listening(&cf, (struct sockaddr *) &sin6, sizeof(sin6));
    ok(ls != NULL, "v6 listener created");
    is_mem(ls->addr_text.data, ls->addr_text.len, "[::1]:8443", "v6 addr_text");
    is_int(ls->backlog, 511, "backlog 511");
    is_int(ls->fd, -1, "not open yet");
    is_int(ls->rcvbuf, -1, "rcvbuf unset");
    is_int(ls->ipv6only, 1, "ipv6only by default");
    ok(ls->logp == &cycle.new_log, "logs through the cycle's log");

    /* reuseport: one copy per worker, even when the array moves */
    ls->reuseport = 1;
    base = cycle.listening.nelts;
    is_int(sl_clone_listening(&cycle, ls, 3), SL_OK, "clone for 3 workers");
    is_int(cycle.listening.nelts, base + 2, "two copies added");
    ls = cycle.listening.elts;
    for (i = 0; i < 3; i++) {
        ok(ls[base - 1 + i].worker == i && ls[base - 1 + i].reuseport
               && sl_str_eq_lit(&ls[base - 1 + i].addr_text, "[::1]:8443"),
           "copy %d belongs to worker %d", (int) i, (int) i);
    }
    cycle.listening.nelts = 0;

    /* an address that is not local: bind fails at once */
    sl_memzero(&sin, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(80);
    inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
    ls = sl_create_listening(&cf, (struct sockaddr *) &sin, sizeof(sin));
    log_clear();
    is_int(sl_open_listening_sockets(&cycle), SL_ERROR, "non-local bind fails");
    ok(log_contains("bind() to 192.0.2.1:80 failed"), "bind failure logged with address");
    is_int(ls->fd, -1, "failed listener stays closed");
    cycle.listening.nelts = 0;

    /* the real listener, on an ephemeral port */
    sin.sin_port = 0;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ls = sl_create_listening(&cf, (struct sockaddr *) &sin, sizeof(sin));
    is_int(sl_open_listening_sockets(&cycle), SL_OK, "loopback listener opens");
    ok(ls->fd != -1 && ls->listen && ls->open, "listener open");
    flags = fcntl(ls->fd, F_GETFL);
    ok(flags != -1 && (flags & O_NONBLOCK), "listener is non-blocking");
    flags = fcntl(ls->fd, F_GETFD);
    ok(flags != -1 && (flags & FD_CLOEXEC), "listener is close-on-exec");

    len = sizeof(sin);
    getsockname(ls->fd, (struct sockaddr *) &sin, &len);
    port = ntohs(sin.sin_port);
    ok(port != 0, "bound to port %d", (int) port);
    ls->handler = on_accept;
    sl_configure_listening_sockets(&cycle);
    test_ls = ls;

    /* a second listener on the same port: EADDRINUSE */
    ls = sl_create_listening(&cf, (struct sockaddr *) &sin, sizeof(sin));
    sl_test_config = 1;
    is_int(sl_open_listening_sockets(&cycle), SL_OK, "-t ignores an address in use");
    is_int(ls->fd, -1, "-t leaves it closed");
    sl_test_config = 0;

    log_clear();
    is_int(sl_open_listening_sockets(&cycle), SL_ERROR, "address in use fails after retries");
    ok(log_contains("bind() to 127.0.0.1:") && log_contains("Address already in use"),
       "EADDRINUSE logged with the address");
    ok(log_contains("still could not bind()"), "gave up after retries");
    cycle.listening.nelts = 1;
    test_ls = cycle.listening.elts;
}

/* Accepted connections ------------------------------------------------------------- */

enum { MODE_ECHO, MODE_HOLD, MODE_CHAIN };

static int mode;
static int accepted_n;
static sl_connection_t *accepted[64];
static int eof_n;
static int short_read_cleared;
static sl_chain_t *out_chain;
static int chain_error;


static void
echo_read(sl_event_t *rev)
{
    u_char buf[4096];
    ssize_t n;
    sl_connection_t *c;

    c = rev->data;

    for (;;) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == SL_AGAIN) {
            return;
        }

        if (n <= 0) {
            eof_n++;
            sl_close_connection(c);
            return;
        }

        if ((size_t) n < sizeof(buf) && !rev->ready) {
            short_read_cleared++;
        }

        if (c->send(c, buf, (size_t) n) != n) {
            sl_close_connection(c);
            return;
        }

        if (!rev->ready) {
            return;
        }
    }
}


static void
hold_read(sl_event_t *rev)
{
    u_char buf[256];
    ssize_t n;
    sl_connection_t *c;

    c = rev->data;

    if (c->close) {
        sl_close_connection(c);
        return;
    }

    for (;;) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == SL_AGAIN) {
            return;
        }

        if (n <= 0) {
            eof_n++;
            sl_close_connection(c);
            return;
        }
    }
}


static void
chain_write(sl_event_t *wev)
{
    sl_connection_t *c;

    c = wev->data;

    if (out_chain == NULL || chain_error) {
        return;
    }

    out_chain = c->send_chain(c, out_chain, 0);

    if (out_chain == SL_CHAIN_ERROR) {
        chain_error = 1;
        out_chain = NULL;
    }
}


static void
on_accept(sl_connection_t *c)
{
    if (accepted_n < (int) sl_nelts(accepted)) {
        accepted[accepted_n] = c;
    }

    accepted_n++;

    c->write->handler = noop_handler;

    switch (mode) {
    case MODE_ECHO:
        c->read->handler = echo_read;
        break;

    case MODE_CHAIN:
        c->read->handler = hold_read;
        c->write->handler = chain_write;
        break;

    default:
        c->read->handler = hold_read;
    }
}


static int
client_connect(void)
{
    int fd;
    struct sockaddr_in sin;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    sl_memzero(&sin, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
        perror("connect");
        close(fd);
        return -1;
    }

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    return fd;
}


static int want_accepted;
static int
cond_accepted(void)
{
    return accepted_n >= want_accepted;
}

static int echo_fd;
static char echo_buf[64];
static size_t echo_len;

static int
cond_echoed(void)
{
    ssize_t n;

    n = recv(echo_fd, echo_buf + echo_len, sizeof(echo_buf) - echo_len, MSG_DONTWAIT);
    if (n > 0) {
        echo_len += (size_t) n;
    }

    return echo_len >= 11;
}

static int want_eof;
static int
cond_eof(void)
{
    return eof_n >= want_eof;
}


static void
test_echo(void)
{
    sl_uint_t before;
    sl_connection_t *lc;

    is_int(sl_event_core_module.init_process(&cycle), SL_OK, "init_process");
    is_int(cycle.connection_n, 16, "16 slots");
    is_int(cycle.free_connection_n, 15, "the listener took one slot");
    lc = test_ls->connection;
    ok(lc != NULL && lc->read->accept && lc->read->active && lc->listening == test_ls,
       "listener registered for accept");

    mode = MODE_ECHO;
    event_conf()->multi_accept = 0;

    echo_fd = client_connect();
    ok(echo_fd != -1, "client connected");
    ok(send(echo_fd, "hello world", 11, 0) == 11, "client sent");

    want_accepted = 1;
    ok(run_until(cond_accepted, 2000), "connection accepted");
    ok(run_until(cond_echoed, 2000), "echo came back");
    is_mem(echo_buf, echo_len, "hello world", "echoed bytes");
    ok(short_read_cleared > 0, "a short read clears ready (edge-triggered)");
    ok(accepted[0]->number > 0 && accepted[0]->recv == sl_unix_recv
           && accepted[0]->send_chain == sl_writev_chain && accepted[0]->listening == test_ls,
       "accepted connection filled in");
    ok(accepted[0]->sockaddr.sa.sa_family == AF_INET && accepted[0]->sent == 11,
       "peer address and sent counter");
    is_int(cycle.free_connection_n, 14, "one slot in use");

    before = cycle.free_connection_n;
    close(echo_fd);
    want_eof = 1;
    ok(run_until(cond_eof, 2000), "server saw EOF");
    is_int(cycle.free_connection_n, before + 1, "slot returned on close");
}


static u_char *chain_data;
static size_t chain_total;
static size_t chain_got;
static int chain_fd;
static u_char *chain_recv;

static int
cond_chain_done(void)
{
    ssize_t n;

    for (;;) {
        n = recv(chain_fd, chain_recv + chain_got, chain_total + 1 - chain_got, MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }

        chain_got += (size_t) n;
    }

    return chain_got >= chain_total && out_chain == NULL;
}


static void
test_chain(void)
{
    int ffd, sz;
    char fpath[] = "/tmp/sl_test_event_file_XXXXXX";
    size_t i, file_len, mem_len;
    sl_buf_t *b[5];
    sl_chain_t cl[5];
    sl_connection_t *c;
    sl_chain_t *rest;

    file_len = 1 << 20;
    mem_len = 3 << 20;
    chain_total = 5 + file_len + mem_len + 5;
    chain_data = malloc(chain_total);
    chain_recv = malloc(chain_total + 1);

    memcpy(chain_data, "head-", 5);
    for (i = 5; i < chain_total - 5; i++) {
        chain_data[i] = (u_char) ('a' + (i * 7) % 26);
    }
    memcpy(chain_data + chain_total - 5, "-tail", 5);

    ffd = mkstemp(fpath);
    unlink(fpath);
    ok(ffd != -1 && write(ffd, chain_data + 5, file_len) == (ssize_t) file_len, "file written");

    for (i = 0; i < 5; i++) {
        b[i] = sl_calloc_buf(cycle.pool);
        cl[i].buf = b[i];
        cl[i].next = (i < 4) ? &cl[i + 1] : NULL;
    }

    b[0]->pos = chain_data;
    b[0]->last = chain_data + 5;
    b[0]->memory = 1;
    b[1]->in_file = 1;
    b[1]->fd = ffd;
    b[1]->file_pos = 0;
    b[1]->file_last = (off_t) file_len;
    b[2]->pos = chain_data + 5 + file_len;
    b[2]->last = b[2]->pos + mem_len;
    b[2]->temporary = 1;
    b[3]->pos = chain_data + chain_total - 5;
    b[3]->last = chain_data + chain_total;
    b[3]->memory = 1;
    b[4]->last_buf = 1; /* special: nothing to send */

    mode = MODE_CHAIN;
    chain_fd = client_connect();
    sz = 16384;
    setsockopt(chain_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    want_accepted = accepted_n + 1;
    ok(run_until(cond_accepted, 2000), "chain connection accepted");
    c = accepted[accepted_n - 1];
    sz = 16384;
    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));

    /* a limit stops inside the first buffer */
    c->write->ready = 1;
    rest = sl_writev_chain(c, &cl[0], 3);
    ok(rest == &cl[0] && b[0]->pos == chain_data + 3, "limit 3 sends 3 bytes");
    ok(c->write->ready, "a limit is not back-pressure");

    /* the peer does not read: the socket fills up */
    rest = sl_writev_chain(c, &cl[0], 0);
    ok(rest != NULL && rest != SL_CHAIN_ERROR, "a full socket returns the unsent rest");
    ok(!c->write->ready, "a full socket clears ready");
    ok(b[0]->pos == b[0]->last, "first buffer sent");
    ok(sl_writev_chain(c, rest, 0) == rest, "not ready: nothing attempted");

    out_chain = rest;
    chain_got = 0;
    ok(run_until(cond_chain_done, 10000), "the whole chain arrived under back-pressure");
    ok(!chain_error, "no chain error");
    is_int(chain_got, chain_total, "byte count");
    ok(chain_got == chain_total && memcmp(chain_recv, chain_data, chain_total) == 0,
       "bytes in order: memory, file, memory");
    is_int(c->sent, (off_t) chain_total, "c->sent counts every byte");

    /* a file shorter than its buffer says */
    b[1]->file_pos = (off_t) file_len;
    b[1]->file_last = (off_t) file_len + 100;
    c->write->ready = 1;
    log_clear();
    ok(sl_writev_chain(c, &cl[1], 0) == SL_CHAIN_ERROR, "truncated file is an error");
    ok(log_contains("truncated"), "truncation logged");

    /* a peer that went away */
    close(chain_fd);
    b[3]->pos = chain_data;
    b[3]->last = chain_data + 100;
    c->write->ready = 1;
    c->log_error = SL_ERROR_INFO;
    for (i = 0; i < 50; i++) {
        rest = sl_writev_chain(c, &cl[3], 0);
        if (rest == SL_CHAIN_ERROR) {
            break;
        }
        b[3]->pos = chain_data;
        usleep(1000);
    }
    ok(rest == SL_CHAIN_ERROR && c->write->error, "writing to a closed peer is an error");

    sl_close_connection(c);
    close(ffd);
    free(chain_data);
    free(chain_recv);
}


static int fired[8];
static int fired_n;

static void
timer_handler(sl_event_t *ev)
{
    if (fired_n < 8) {
        fired[fired_n++] = (int) (intptr_t) ev->data;
    }

    ok(ev->timedout && !ev->timer_set, "timer %d: timedout set, timer_set clear",
       (int) (intptr_t) ev->data);
}

static int
cond_three_fired(void)
{
    return fired_n >= 3;
}


static void
test_timers(void)
{
    sl_msec_t key, t;
    sl_event_t ev[3], lazy;

    sl_memzero(ev, sizeof(ev));
    sl_memzero(&lazy, sizeof(lazy));

    is_int(sl_event_find_timer(), SL_TIMER_INFINITE, "no timers: infinite");
    is_int(sl_event_no_timers_left(), SL_OK, "no timers left");

    sl_time_update();
    ev[0].data = (void *) 1;
    ev[1].data = (void *) 2;
    ev[2].data = (void *) 3;
    ev[0].handler = ev[1].handler = ev[2].handler = timer_handler;
    sl_event_add_timer(&ev[0], 10);
    sl_event_add_timer(&ev[1], 20);
    sl_event_add_timer(&ev[2], 5);

    t = sl_event_find_timer();
    ok(t <= 5, "nearest timer is the 5 ms one (%d)", (int) t);
    is_int(sl_event_no_timers_left(), SL_AGAIN, "non-cancelable timers keep a stop waiting");

    ok(run_until(cond_three_fired, 2000), "three timers fired");
    is_int(fired[0], 3, "5 ms first");
    is_int(fired[1], 1, "10 ms second");
    is_int(fired[2], 2, "20 ms third");
    ok(sl_rbtree_empty(&sl_event_timer_rbtree), "tree empty after expiry");

    /* lazy re-arm */
    lazy.handler = noop_handler;
    sl_time_update();
    sl_event_add_timer(&lazy, 1000);
    key = lazy.timer.key;
    sl_event_add_timer(&lazy, 1200);
    is_int(lazy.timer.key, key, "re-arm within 300 ms is skipped");
    sl_event_add_timer(&lazy, 2000);
    is_int(lazy.timer.key, key + 1000, "re-arm by 1000 ms moves the timer");
    sl_event_add_timer(&lazy, 1500);
    is_int(lazy.timer.key, key + 500, "re-arm earlier by 500 ms moves it back");

    lazy.cancelable = 1;
    is_int(sl_event_no_timers_left(), SL_OK, "only cancelable timers: a stop may exit");
    ev[0].handler = noop_handler;
    sl_event_add_timer(&ev[0], 100);
    is_int(sl_event_no_timers_left(), SL_AGAIN, "one non-cancelable timer: wait");
    sl_event_del_timer(&ev[0]);
    sl_event_del_timer(&lazy);
    sl_event_del_timer(&lazy);
    ok(!lazy.timer_set && sl_rbtree_empty(&sl_event_timer_rbtree), "timers deleted");
}


/* Two connections ready in one batch: whichever runs first closes the other and reuses its slot. */
static sl_connection_t *pair_c[2];
static int pair_fd[2][2];
static int pair_first = -1;
static int stale_calls;
static int fresh_fd[2];

static void
stale_read(sl_event_t *rev)
{
    sl_unused(rev);
    stale_calls++;
}

static void
pair_read(sl_event_t *rev)
{
    int me, other;
    sl_connection_t *c, *nc;

    c = rev->data;
    me = (c == pair_c[0]) ? 0 : 1;
    other = !me;

    if (pair_first != -1) {
        stale_calls += 100; /* the other one should have been closed */
        return;
    }

    pair_first = me;

    sl_close_connection(pair_c[other]);

    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fresh_fd);
    nc = sl_get_connection(fresh_fd[0], &test_log);
    ok(nc == pair_c[other], "the freed slot is reused at once");
    nc->read->handler = stale_read;
    nc->write->handler = noop_handler;
    sl_epoll_add_connection(nc);
    pair_c[other] = nc;
}


static void
test_stale(void)
{
    int i;
    sl_uint_t inst;
    sl_connection_t *c;

    for (i = 0; i < 2; i++) {
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair_fd[i]);
        pair_c[i] = sl_get_connection(pair_fd[i][0], &test_log);
        pair_c[i]->read->handler = pair_read;
        pair_c[i]->write->handler = noop_handler;
        sl_epoll_add_connection(pair_c[i]);
        ok(write(pair_fd[i][1], "x", 1) == 1, "peer %d wrote", i);
    }

    is_int(sl_epoll_process_events(&cycle, 1000, SL_UPDATE_TIME), SL_OK, "one batch");
    ok(pair_first != -1, "a pair handler ran");
    is_int(stale_calls, 0, "the stale report for the reused slot was skipped");

    for (i = 0; i < 2; i++) {
        sl_close_connection(pair_c[i]);
        close(pair_fd[i][1]);
    }
    close(fresh_fd[1]);

    /* the instance bit flips on every reuse of a slot */
    c = sl_get_connection(-2, &test_log);
    inst = c->read->instance;
    c->fd = -1;
    sl_free_connection(c);
    ok(sl_get_connection(-2, &test_log) == c && c->read->instance != inst
           && c->write->instance == c->read->instance && c->write->write && !c->read->write
           && c->read->data == c,
       "slot reuse flips instance and resets the events");
    c->fd = -1;
    sl_free_connection(c);
}


static int posted_calls;

static void
posted_read(sl_event_t *rev)
{
    u_char buf[16];
    sl_connection_t *c;

    c = rev->data;
    posted_calls++;
    while (c->recv(c, buf, sizeof(buf)) > 0) {
        /* drain */
    }
}


static void
test_posted_and_io(void)
{
    int fds[2];
    u_char buf[16];
    sl_connection_t *c;

    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
    c = sl_get_connection(fds[0], &test_log);
    c->read->handler = posted_read;
    c->write->handler = noop_handler;
    c->recv = sl_unix_recv;
    c->send = sl_unix_send;
    sl_epoll_add_connection(c);

    ok(write(fds[1], "abc", 3) == 3, "peer wrote");
    is_int(sl_epoll_process_events(&cycle, 1000, SL_POST_EVENTS), SL_OK, "events posted");
    ok(c->read->posted && posted_calls == 0, "handler deferred by SL_POST_EVENTS");
    sl_event_process_posted(&sl_posted_events);
    ok(!c->read->posted && posted_calls == 1, "posted handler ran");
    ok(sl_queue_empty(&sl_posted_events), "posted queue empty");

    c->read->ready = 1;
    is_int(sl_unix_recv(c, buf, sizeof(buf)), SL_AGAIN, "empty socket: SL_AGAIN");
    ok(!c->read->ready, "EAGAIN clears ready");

    ok(write(fds[1], "abcdef", 6) == 6, "peer wrote 6");
    c->read->ready = 1;
    is_int(sl_unix_recv(c, buf, 4), 4, "full read");
    ok(c->read->ready, "a full read keeps ready");
    is_int(sl_unix_recv(c, buf, sizeof(buf)), 2, "short read");
    ok(!c->read->ready, "a short read clears ready");

    is_int(sl_unix_send(c, (u_char *) "xy", 2), 2, "send");
    is_int(read(fds[1], buf, sizeof(buf)), 2, "peer got it");

    /* posted events of a closed connection never run */
    ok(write(fds[1], "z", 1) == 1, "peer wrote again");
    is_int(sl_epoll_process_events(&cycle, 1000, SL_POST_EVENTS), SL_OK, "posted again");
    ok(c->read->posted, "posted");
    close(fds[1]);
    c->read->ready = 1;
    sl_close_connection(c);
    ok(sl_queue_empty(&sl_posted_events), "close removed the posted event");
    log_clear();
    sl_close_connection(c);
    ok(log_contains("connection already closed"), "double close is logged, not fatal");

    /* EPOLLRDHUP: data then FIN; the short read keeps ready so that EOF is seen */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
    c = sl_get_connection(fds[0], &test_log);
    c->read->handler = noop_handler;
    c->write->handler = noop_handler;
    sl_epoll_add_connection(c);
    ok(write(fds[1], "ab", 2) == 2 && shutdown(fds[1], SHUT_WR) == 0, "peer wrote and shut down");
    is_int(sl_epoll_process_events(&cycle, 1000, 0), SL_OK, "events");
    ok(c->read->ready && c->read->pending_eof, "EPOLLRDHUP sets pending_eof");
    is_int(sl_unix_recv(c, buf, sizeof(buf)), 2, "short read with pending EOF");
    ok(c->read->ready, "ready kept for the EOF");
    is_int(sl_unix_recv(c, buf, sizeof(buf)), 0, "then EOF");
    ok(c->read->eof, "eof");
    sl_close_connection(c);
    close(fds[1]);

    /* EOF */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
    c = sl_get_connection(fds[0], &test_log);
    close(fds[1]);
    c->read->ready = 1;
    is_int(sl_unix_recv(c, buf, sizeof(buf)), 0, "EOF reads 0");
    ok(c->read->eof && !c->read->ready, "eof set, ready cleared");

    /* EPIPE through send: an error at ERR level, logged */
    log_clear();
    is_int(sl_unix_send(c, (u_char *) "x", 1), SL_ERROR, "send to a closed peer fails");
    ok(c->write->error && log_contains("[error]") && log_contains("send() failed"),
       "peer errors log at error level");
    sl_close_connection(c);
}


static int cfd[32];
static int cfd_n;
static int refused_n;
static int want_refused;

static int
cond_refused(void)
{
    int i;
    char b;
    ssize_t n;

    refused_n = 0;

    for (i = 0; i < cfd_n; i++) {
        n = recv(cfd[i], &b, 1, MSG_DONTWAIT | MSG_PEEK);
        if (n == 0 || (n == -1 && errno == ECONNRESET)) {
            refused_n++;
        }
    }

    return accepted_n >= want_accepted && refused_n >= want_refused;
}


static void
test_exhaustion(void)
{
    int i, n, base, fd;
    sl_connection_t *c, *c2, *c3, *reusable[8];

    mode = MODE_HOLD;
    event_conf()->multi_accept = 1;

    is_int(cycle.free_connection_n, 15, "all client slots free");

    base = accepted_n;
    cfd_n = 20;
    for (i = 0; i < cfd_n; i++) {
        cfd[i] = client_connect();
    }

    want_accepted = base + 15;
    want_refused = 5;
    log_clear();
    run_until(cond_refused, 3000);
    is_int(accepted_n - base, 15, "15 connections fill the slots");
    is_int(cycle.free_connection_n, 0, "no slot left");
    is_int(refused_n, 5, "the 5 extra ones were closed");
    ok(log_contains("16 worker_connections are not enough"), "shortage logged");

    /* one client leaves: its slot frees, and the next client is served */
    close(cfd[0]);
    want_eof = eof_n + 1;
    ok(run_until(cond_eof, 2000), "server saw the client leave");
    is_int(cycle.free_connection_n, 1, "one slot free again");

    fd = client_connect();
    want_accepted = accepted_n + 1;
    ok(run_until(cond_accepted, 2000), "the worker goes on accepting");
    is_int(cycle.free_connection_n, 0, "full again");

    /* drain: idle keep-alive connections are closed, oldest first */
    n = 0;
    for (i = 0; i < (int) cycle.connection_n && n < 8; i++) {
        c = &cycle.connections[i];
        if (c->fd != -1 && !c->read->accept) {
            sl_reusable_connection(c, 1);
            reusable[n++] = c;
        }
    }
    is_int(cycle.reusable_connections_n, 8, "8 reusable");
    /* under 1/8 free, one loop iteration drains before waiting */
    {
        static sl_event_t tick;

        tick.handler = noop_handler;
        sl_event_add_timer(&tick, 1);
        sl_process_events_and_timers(&cycle);
        sl_event_del_timer(&tick);
    }
    ok(reusable[0]->fd == -1 && reusable[1]->fd != -1, "drain closed the oldest one only");
    is_int(cycle.reusable_connections_n, 7, "7 reusable left");
    is_int(cycle.free_connection_n, 1, "its slot is free");

    /* with no free slot, sl_get_connection drains before failing */
    c2 = sl_get_connection(-2, &test_log);
    ok(c2 != NULL && cycle.free_connection_n == 0, "took the last free slot");
    c3 = sl_get_connection(-3, &test_log);
    ok(c3 != NULL && cycle.reusable_connections_n == 6,
       "an empty free list drains a reusable connection");
    c2->fd = -1;
    sl_free_connection(c2);
    c3->fd = -1;
    sl_free_connection(c3);

    /* graceful stop: idle connections get close = 1 and their read handler */
    for (i = 0; i < (int) cycle.connection_n; i++) {
        c = &cycle.connections[i];
        if (c->fd != -1 && !c->read->accept) {
            c->idle = 1;
        }
    }
    sl_close_idle_connections(&cycle);
    is_int(cycle.reusable_connections_n, 0, "reusable ones closed");
    is_int(cycle.free_connection_n, 15, "every idle connection closed");

    for (i = 0; i < cfd_n; i++) {
        close(cfd[i]);
    }
    close(fd);
}


static void
test_emfile(void)
{
    int fillers[256], nf, fd, probe;
    struct rlimit saved, rl;
    sl_connection_t *lc;

    mode = MODE_HOLD;
    lc = test_ls->connection;

    fd = client_connect();

    getrlimit(RLIMIT_NOFILE, &saved);
    probe = dup(0);
    close(probe);
    rl = saved;
    rl.rlim_cur = (rlim_t) probe + 1;
    setrlimit(RLIMIT_NOFILE, &rl);

    nf = 0;
    while (nf < 256) {
        fillers[nf] = dup(0);
        if (fillers[nf] == -1) {
            break;
        }
        nf++;
    }

    log_clear();
    want_accepted = accepted_n + 1;
    run_until(cond_accepted, 300);
    ok(sl_accept_disabled && !lc->read->active, "EMFILE pauses accepting");
    ok(log_contains("not accepting for 500 ms"), "EMFILE logged at crit");
    ok(accepted_n < want_accepted, "nothing accepted while paused");

    while (nf > 0) {
        close(fillers[--nf]);
    }
    setrlimit(RLIMIT_NOFILE, &saved);

    ok(run_until(cond_accepted, 3000), "accepting resumes after the pause");
    ok(!sl_accept_disabled && lc->read->active, "listener active again");

    sl_close_connection(accepted[accepted_n - 1]);
    close(fd);

    /* an explicit disable cancels nothing that is not there, and enable restores */
    is_int(sl_disable_accept_events(&cycle), SL_OK, "disable");
    ok(!lc->read->active && sl_accept_disabled, "listener off");
    is_int(sl_enable_accept_events(&cycle), SL_OK, "enable");
    ok(lc->read->active && !sl_accept_disabled, "listener on");
}


static void
test_os(void)
{
    is_int(sl_os_init(&test_log), SL_OK, "os init");
    ok(sl_ncpu >= 1, "ncpu %d", (int) sl_ncpu);
    ok(sl_max_sockets > 0, "open file limit recorded");
    is_int(sl_os_set_rlimit_nofile(0, &test_log), SL_ERROR, "rlimit 0 refused");
}


int
main(void)
{
    sl_uint_t free_n;

    alarm(60);
    signal(SIGPIPE, SIG_IGN);

    setup();
    test_os();
    test_conf();
    test_addresses();
    test_listening();
    test_echo();
    test_chain();
    test_timers();
    test_stale();
    test_posted_and_io();
    test_exhaustion();
    test_emfile();

    free_n = cycle.free_connection_n;
    sl_close_listening_sockets(&cycle);
    is_int(cycle.free_connection_n, free_n + 1, "closing the listener frees its slot");
    is_int(test_ls->fd, -1, "listener closed");
    sl_event_core_module.exit_process(&cycle);

    sl_destroy_pool(cycle.pool);
    close(test_log_file.fd);

    return sl_tap_done();
}
