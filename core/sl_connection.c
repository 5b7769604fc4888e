/*
 * sl_connection.c: listening sockets, the connection table, accept, and
 * plain-socket I/O (addresses and URL parsing are sl_inet.c). Nothing on the accept or I/O path allocates: a
 * connection is a preallocated slot, its events are preallocated beside it.
 */
#include "sl_config.h"

#include <sys/sendfile.h>

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

#define SL_LISTEN_BACKLOG 511
#define SL_LISTEN_POOL_SIZE 256
#define SL_BIND_TRIES 5
#define SL_BIND_RETRY_USEC 500000
#define SL_ACCEPT_PAUSE 500 /* ms without accepting after EMFILE/ENFILE */
#define SL_DRAIN_MAX 32
#define SL_WRITEV_IOVS 64
#define SL_SENDFILE_MAX_CHUNK 0x7ffff000 /* the most Linux moves in one call */
#define SL_MAX_SEND_LIMIT (SL_MAX_OFF_T_VALUE / 2)

static void sl_event_resume_accept(sl_event_t *ev);
static void sl_disable_listeners(sl_cycle_t *cycle);

static uint32_t sl_connection_counter;
static sl_event_t sl_accept_resume_event;
static sl_msec_t sl_connections_short_logged;
static sl_uint_t sl_connections_short_once;


/* Listening sockets ------------------------------------------------------- */

sl_listening_t *
sl_create_listening(sl_conf_t *cf, struct sockaddr *sa, socklen_t socklen)
{
    size_t len;
    u_char *text;
    sl_listening_t *ls;

    if (socklen == 0 || socklen > sizeof(sl_sockaddr_t)) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unsupported listen address");
        return NULL;
    }

    text = sl_pnalloc(cf->pool, SL_SOCKADDR_TEXT_LEN);
    if (text == NULL) {
        return NULL;
    }

    len = sl_sock_ntop(sa, socklen, text, SL_SOCKADDR_TEXT_LEN, 1);
    if (len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unsupported listen address family %d",
                          (int) sa->sa_family);
        return NULL;
    }

    ls = sl_array_push(&cf->cycle->listening);
    if (ls == NULL) {
        return NULL;
    }

    sl_memzero(ls, sizeof(sl_listening_t));

    sl_memcpy(&ls->sockaddr, sa, socklen);
    ls->socklen = socklen;
    ls->addr_text.len = len;
    ls->addr_text.data = text;

    ls->fd = -1;
    ls->backlog = SL_LISTEN_BACKLOG;
    ls->rcvbuf = -1;
    ls->sndbuf = -1;
    ls->ipv6only = 1;
    ls->pool_size = SL_LISTEN_POOL_SIZE;

    /*
     * The cycle's log is filled in by "error_log" possibly after this
     * "listen"; point at it (the cycle never moves) rather than into the
     * listening array, whose elements move when it grows.
     */
    ls->log = cf->cycle->new_log;
    ls->logp = &cf->cycle->new_log;

    return ls;
}


sl_int_t
sl_clone_listening(sl_cycle_t *cycle, sl_listening_t *ls, sl_uint_t workers)
{
    sl_uint_t n;
    sl_listening_t ols, *nls;

    if (!ls->reuseport || workers < 2) {
        return SL_OK;
    }

    ls->worker = 0;
    ols = *ls; /* the push below may move the array and ls with it */

    for (n = 1; n < workers; n++) {
        nls = sl_array_push(&cycle->listening);
        if (nls == NULL) {
            return SL_ERROR;
        }

        *nls = ols;
        nls->worker = n;
    }

    return SL_OK;
}


sl_int_t
sl_open_listening_sockets(sl_cycle_t *cycle)
{
    int on, tries, failed;
    sl_fd_t s;
    sl_err_t err;
    sl_uint_t i;
    sl_log_t *log;
    sl_listening_t *ls;

    log = cycle->log;
    failed = 0;

    for (tries = SL_BIND_TRIES; tries; tries--) {
        failed = 0;

        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].ignore || ls[i].fd != -1) {
                continue;
            }

            s = socket(ls[i].sockaddr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (s == -1) {
                sl_log_error(SL_LOG_EMERG, log, errno, "socket() %V failed", &ls[i].addr_text);
                return SL_ERROR;
            }

            on = 1;

            if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(int)) == -1) {
                sl_log_error(SL_LOG_EMERG, log, errno, "setsockopt(SO_REUSEADDR) %V failed",
                             &ls[i].addr_text);
                goto failed_socket;
            }

            if (ls[i].reuseport
                && setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(int)) == -1) {
                sl_log_error(SL_LOG_EMERG, log, errno, "setsockopt(SO_REUSEPORT) %V failed",
                             &ls[i].addr_text);
                goto failed_socket;
            }

            if (ls[i].sockaddr.sa.sa_family == AF_INET6) {
                on = ls[i].ipv6only ? 1 : 0;

                if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(int)) == -1) {
                    sl_log_error(SL_LOG_EMERG, log, errno, "setsockopt(IPV6_V6ONLY) %V failed",
                                 &ls[i].addr_text);
                    goto failed_socket;
                }
            }

            if (bind(s, &ls[i].sockaddr.sa, ls[i].socklen) == -1) {
                err = errno;

                /* "sluice -t" beside a running server: the address is its, fine. */
                if (err != EADDRINUSE || !sl_test_config) {
                    sl_log_error(SL_LOG_EMERG, log, err, "bind() to %V failed", &ls[i].addr_text);
                }

                if (close(s) == -1) {
                    sl_log_error(SL_LOG_EMERG, log, errno, "close() %V failed", &ls[i].addr_text);
                }

                if (err != EADDRINUSE) {
                    return SL_ERROR;
                }

                if (!sl_test_config) {
                    failed = 1;
                }

                continue;
            }

            if (listen(s, ls[i].backlog) == -1) {
                err = errno;

                /* another reuseport socket may still hold the address: retry as for bind() */
                if (err != EADDRINUSE || !sl_test_config) {
                    sl_log_error(SL_LOG_EMERG, log, err, "listen() to %V, backlog %d failed",
                                 &ls[i].addr_text, ls[i].backlog);
                }

                if (close(s) == -1) {
                    sl_log_error(SL_LOG_EMERG, log, errno, "close() %V failed", &ls[i].addr_text);
                }

                if (err != EADDRINUSE) {
                    return SL_ERROR;
                }

                if (!sl_test_config) {
                    failed = 1;
                }

                continue;
            }

            ls[i].listen = 1;
            ls[i].bound = 1;
            ls[i].open = 1;
            ls[i].fd = s;
        }

        if (!failed) {
            break;
        }

        if (tries > 1) {
            sl_log_error(SL_LOG_NOTICE, log, 0, "try again to bind() after 500ms");
            usleep(SL_BIND_RETRY_USEC);
        }
    }

    if (failed) {
        sl_log_error(SL_LOG_EMERG, log, 0, "still could not bind()");
        return SL_ERROR;
    }

    return SL_OK;

failed_socket:

    if (close(s) == -1) {
        sl_log_error(SL_LOG_EMERG, log, errno, "close() %V failed", &ls[i].addr_text);
    }

    return SL_ERROR;
}


void
sl_configure_listening_sockets(sl_cycle_t *cycle)
{
    int value;
    sl_uint_t i;
    sl_listening_t *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == -1) {
            continue;
        }

        if (ls[i].rcvbuf != -1) {
            value = ls[i].rcvbuf;

            if (setsockopt(ls[i].fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(int)) == -1) {
                sl_log_error(SL_LOG_ALERT, cycle->log, errno,
                             "setsockopt(SO_RCVBUF, %d) %V failed, ignored", value,
                             &ls[i].addr_text);
            }
        }

        if (ls[i].sndbuf != -1) {
            value = ls[i].sndbuf;

            if (setsockopt(ls[i].fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof(int)) == -1) {
                sl_log_error(SL_LOG_ALERT, cycle->log, errno,
                             "setsockopt(SO_SNDBUF, %d) %V failed, ignored", value,
                             &ls[i].addr_text);
            }
        }

        /* an inherited socket may carry another backlog: listen() again resets it */
        if (ls[i].listen && listen(ls[i].fd, ls[i].backlog) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno,
                         "listen() to %V, backlog %d failed, ignored", &ls[i].addr_text,
                         ls[i].backlog);
        }

        if (ls[i].sockaddr.sa.sa_family != AF_INET && ls[i].sockaddr.sa.sa_family != AF_INET6) {
            continue;
        }

        value = ls[i].deferred_accept ? 1 : 0;

        if ((value || ls[i].inherited)
            && setsockopt(ls[i].fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &value, sizeof(int)) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno,
                         "setsockopt(TCP_DEFER_ACCEPT, %d) for %V failed, ignored", value,
                         &ls[i].addr_text);
        }
    }
}


void
sl_close_listening_sockets(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_listening_t *ls;
    sl_connection_t *c;

    if (sl_accept_resume_event.timer_set) {
        sl_event_del_timer(&sl_accept_resume_event);
    }

    sl_accept_disabled = 1;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        c = ls[i].connection;

        if (c != NULL) {
            /* also removes it from epoll, which its close() would not (the master holds it) */
            sl_close_connection(c);
            ls[i].connection = NULL;

        } else if (ls[i].fd != -1 && close(ls[i].fd) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, errno, "close() socket %V failed",
                         &ls[i].addr_text);
        }

        ls[i].fd = -1;
    }
}


/*
 * How workers share a listener. By default one socket is shared and every
 * worker waits on it with EPOLLEXCLUSIVE, so the kernel wakes one idle
 * waiter per connection; "listen ... reuseport" gives each worker a socket
 * of its own and the kernel spreads connections by a hash of the address.
 * Measured on 2 cores with wrk over loopback (2 workers, a "return 200"
 * location): new connections per second 30.2k / 31.4k shared against
 * 30.1k / 30.0k reuseport, keep-alive requests equal (182k/s both). The
 * shared socket is the default because it is as fast or faster and never
 * hands connections to a worker that is busy; reuseport stays available
 * for operators whose nginx configurations ask for it.
 */
sl_int_t
sl_enable_accept_events(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_listening_t *ls;
    sl_connection_t *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd == -1 || ls[i].ignore) {
            continue;
        }

        if (ls[i].reuseport && ls[i].worker != sl_worker) {
            continue;
        }

        c = ls[i].connection;

        if (c == NULL) {
            c = sl_get_connection(ls[i].fd, ls[i].logp);
            if (c == NULL) {
                return SL_ERROR;
            }

            c->listening = &ls[i];
            ls[i].connection = c;

            c->read->accept = 1;
            c->read->handler = sl_event_accept;
        }

        if (!c->read->active && sl_epoll_add_listener(c, !ls[i].reuseport) != SL_OK) {
            return SL_ERROR;
        }
    }

    sl_accept_disabled = 0;

    return SL_OK;
}


static void
sl_disable_listeners(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_listening_t *ls;
    sl_connection_t *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        c = ls[i].connection;

        if (c != NULL && c->read->active) {
            (void) sl_epoll_del_connection(c, 0);
        }
    }
}


sl_int_t
sl_disable_accept_events(sl_cycle_t *cycle)
{
    /* an explicit stop wins over a pending resume after EMFILE */
    if (sl_accept_resume_event.timer_set) {
        sl_event_del_timer(&sl_accept_resume_event);
    }

    sl_disable_listeners(cycle);
    sl_accept_disabled = 1;

    return SL_OK;
}


static void
sl_event_pause_accept(sl_cycle_t *cycle)
{
    sl_event_t *ev;

    sl_disable_listeners(cycle);
    sl_accept_disabled = 1;

    ev = &sl_accept_resume_event;
    ev->data = cycle;
    ev->handler = sl_event_resume_accept;
    ev->log = cycle->log;
    ev->cancelable = 1;

    sl_event_add_timer(ev, SL_ACCEPT_PAUSE);
}


static void
sl_event_resume_accept(sl_event_t *ev)
{
    ev->timedout = 0;

    (void) sl_enable_accept_events(ev->data);
}


void
sl_event_accept(sl_event_t *ev)
{
    sl_fd_t s;
    sl_err_t err;
    socklen_t socklen;
    sl_cycle_t *cycle;
    sl_sockaddr_t sa;
    sl_listening_t *ls;
    sl_connection_t *c, *lc;
    sl_event_conf_t *ecf;

    lc = ev->data;
    ls = lc->listening;
    cycle = (sl_cycle_t *) sl_cycle;
    ecf = sl_event_get_conf(cycle->conf_ctx, sl_event_core_module);

    do {
        socklen = sizeof(sl_sockaddr_t);

        s = accept4(lc->fd, &sa.sa, &socklen, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (s == -1) {
            err = errno;

            if (err == EAGAIN) {
                return;
            }

            if (err == ECONNABORTED || err == EINTR) {
                continue;
            }

            if (err == EMFILE || err == ENFILE) {
                sl_log_error(SL_LOG_CRIT, ev->log, err,
                             "accept4() on %V failed, not accepting for %d ms", &ls->addr_text,
                             SL_ACCEPT_PAUSE);
                sl_event_pause_accept(cycle);
                return;
            }

            sl_log_error(SL_LOG_ALERT, ev->log, err, "accept4() on %V failed", &ls->addr_text);
            return;
        }

        c = sl_get_connection(s, ls->logp);

        if (c == NULL) {
            /* out of slots (logged): refuse this one, keep serving the others */
            if (close(s) == -1) {
                sl_log_error(SL_LOG_ALERT, ev->log, errno, "close() socket %d failed", s);
            }

            return;
        }

        if (socklen > sizeof(sl_sockaddr_t)) {
            socklen = sizeof(sl_sockaddr_t);
        }

        sl_memcpy(&c->sockaddr, &sa, socklen);
        c->socklen = socklen;

        c->recv = sl_unix_recv;
        c->send = sl_unix_send;
        c->send_chain = sl_writev_chain;
        c->listening = ls;
        c->number = ++sl_connection_counter;
        c->start_msec = sl_current_msec;

        if (sl_epoll_add_connection(c) != SL_OK) {
            sl_close_connection(c);
            return;
        }

        ls->handler(c);

    } while (ecf->multi_accept && ev->active);
}


/* The connection table ------------------------------------------------------ */

sl_connection_t *
sl_get_connection(sl_fd_t fd, sl_log_t *log)
{
    sl_uint_t instance;
    sl_cycle_t *cycle;
    sl_event_t *rev, *wev;
    sl_connection_t *c;

    cycle = (sl_cycle_t *) sl_cycle;

    c = cycle->free_connections;

    if (c == NULL) {
        sl_drain_connections(cycle);
        c = cycle->free_connections;
    }

    if (c == NULL) {
        if (!sl_connections_short_once || sl_current_msec - sl_connections_short_logged >= 1000) {
            sl_connections_short_once = 1;
            sl_connections_short_logged = sl_current_msec;

            sl_log_error(SL_LOG_ALERT, log, 0, "%ui worker_connections are not enough",
                         cycle->connection_n);
        }

        return NULL;
    }

    cycle->free_connections = c->data;
    cycle->free_connection_n--;

    rev = c->read;
    wev = c->write;

    sl_memzero(c, sizeof(sl_connection_t));

    c->read = rev;
    c->write = wev;
    c->fd = fd;
    c->log = log;
    /* plain sockets by default; whoever sets another recv sets this too (or NULL) */
    c->recv_chain = sl_readv_chain;

    /* a report still queued for the previous user of the slot carries the old bit */
    instance = rev->instance;

    sl_memzero(rev, sizeof(sl_event_t));
    sl_memzero(wev, sizeof(sl_event_t));

    rev->instance = !instance;
    wev->instance = !instance;

    rev->data = c;
    wev->data = c;
    rev->log = log;
    wev->log = log;
    wev->write = 1;

    return c;
}


void
sl_free_connection(sl_connection_t *c)
{
    sl_cycle_t *cycle;

    cycle = (sl_cycle_t *) sl_cycle;

    c->data = cycle->free_connections;
    cycle->free_connections = c;
    cycle->free_connection_n++;
}


void
sl_close_connection(sl_connection_t *c)
{
    sl_fd_t fd;

    if (c->fd == -1) {
        sl_log_error(SL_LOG_ALERT, c->log, 0, "connection already closed");
        return;
    }

    if (c->read->timer_set) {
        sl_event_del_timer(c->read);
    }

    if (c->write->timer_set) {
        sl_event_del_timer(c->write);
    }

    /* a listener's fd lives on in other processes, so epoll must be told */
    (void) sl_epoll_del_connection(c, !c->read->accept);

    if (c->read->posted) {
        sl_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        sl_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    sl_reusable_connection(c, 0);

    fd = c->fd;
    c->fd = -1;

    sl_free_connection(c);

    if (close(fd) == -1) {
        sl_log_error(SL_LOG_ALERT, c->log, errno, "close() socket %d failed", fd);
    }
}


void
sl_reusable_connection(sl_connection_t *c, sl_uint_t reusable)
{
    sl_cycle_t *cycle;

    cycle = (sl_cycle_t *) sl_cycle;

    if (c->reusable) {
        sl_queue_remove(&c->queue);
        cycle->reusable_connections_n--;
    }

    c->reusable = reusable ? 1 : 0;

    if (reusable) {
        /* the head is the newest; draining takes from the tail */
        sl_queue_insert_head(&cycle->reusable_connections, &c->queue);
        cycle->reusable_connections_n++;
    }
}


/* When the last "reusing connections" warning was logged (once a second at most). */
static sl_msec_t sl_drain_logged;

void
sl_drain_connections(sl_cycle_t *cycle)
{
    sl_uint_t i, n;
    sl_queue_t *q;
    sl_connection_t *c;

    if (cycle->reusable_connections_n == 0) {
        return;
    }

    n = sl_max(sl_min(SL_DRAIN_MAX, cycle->reusable_connections_n / 8), 1);

    if (sl_current_msec - sl_drain_logged >= 1000 || sl_drain_logged == 0) {
        sl_drain_logged = sl_current_msec ? sl_current_msec : 1;
        sl_log_error(SL_LOG_WARN, cycle->log, 0,
                     "%ui worker_connections are not enough, reusing connections",
                     cycle->connection_n);
    }

    for (i = 0; i < n; i++) {
        if (sl_queue_empty(&cycle->reusable_connections)) {
            break;
        }

        q = sl_queue_last(&cycle->reusable_connections);
        c = sl_queue_data(q, sl_connection_t, queue);

        sl_log_debug(c->log, "reusing connection");

        c->close = 1;
        c->read->handler(c->read);
    }
}


void
sl_close_idle_connections(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_connection_t *c;

    c = cycle->connections;

    for (i = 0; i < cycle->connection_n; i++) {
        /* the handler may close c[i]; it then has fd -1 and stays skipped */
        if (c[i].fd != -1 && c[i].idle) {
            c[i].close = 1;
            c[i].read->handler(c[i].read);
        }
    }
}


sl_int_t
sl_connection_error(sl_connection_t *c, sl_err_t err, const char *text)
{
    sl_uint_t level;

    if (err == ECONNRESET && c->log_error == SL_ERROR_IGNORE_ECONNRESET) {
        return SL_ERROR;
    }

    if (err == 0 || err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == ETIMEDOUT
        || err == ECONNREFUSED || err == ENETDOWN || err == ENETUNREACH || err == EHOSTDOWN
        || err == EHOSTUNREACH) {
        switch (c->log_error) {
        case SL_ERROR_IGNORE_ECONNRESET:
        case SL_ERROR_INFO:
            level = SL_LOG_INFO;
            break;

        default:
            level = SL_LOG_ERR;
        }

    } else {
        level = SL_LOG_ALERT;
    }

    sl_log_error(level, c->log, err, "%s", text);

    return SL_ERROR;
}


sl_int_t
sl_tcp_nodelay(sl_connection_t *c)
{
    int on;
    sa_family_t family;

    if (c->tcp_nodelay != 0) {
        return SL_OK;
    }

    family = c->sockaddr.sa.sa_family;

    if (family != AF_INET && family != AF_INET6) {
        c->tcp_nodelay = 2;
        return SL_OK;
    }

    on = 1;

    if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int)) == -1) {
        return sl_connection_error(c, errno, "setsockopt(TCP_NODELAY) failed");
    }

    c->tcp_nodelay = 1;

    return SL_OK;
}


/* Socket I/O ---------------------------------------------------------------- */

ssize_t
sl_unix_recv(sl_connection_t *c, u_char *buf, size_t size)
{
    ssize_t n;
    sl_err_t err;
    sl_event_t *rev;

    rev = c->read;

    for (;;) {
        n = recv(c->fd, buf, size, 0);

        if (n == 0) {
            rev->ready = 0;
            rev->eof = 1;
            return 0;
        }

        if (n > 0) {
            /* edge-triggered: a short read drained the socket, unless EOF is next */
            if ((size_t) n < size && !rev->pending_eof) {
                rev->ready = 0;
            }

            return n;
        }

        err = errno;

        if (err == EINTR) {
            continue;
        }

        rev->ready = 0;

        if (err == EAGAIN) {
            return SL_AGAIN;
        }

        rev->error = 1;

        return sl_connection_error(c, err, "recv() failed");
    }
}


ssize_t
sl_readv_chain(sl_connection_t *c, sl_chain_t *in, off_t limit)
{
    int niov;
    size_t size, room;
    ssize_t n;
    sl_err_t err;
    sl_event_t *rev;
    struct iovec iov[SL_WRITEV_IOVS];

    rev = c->read;

    if (limit <= 0 || limit > SL_MAX_SEND_LIMIT) {
        limit = SL_MAX_SEND_LIMIT;
    }

    niov = 0;
    size = 0;

    for (; in != NULL && niov < SL_WRITEV_IOVS && size < (size_t) limit; in = in->next) {
        room = in->buf->end - in->buf->last;

        if (room == 0) {
            continue;
        }

        room = sl_min(room, (size_t) limit - size);

        iov[niov].iov_base = in->buf->last;
        iov[niov].iov_len = room;
        niov++;
        size += room;
    }

    if (niov == 0) {
        return 0;
    }

    for (;;) {
        n = readv(c->fd, iov, niov);

        if (n == 0) {
            rev->ready = 0;
            rev->eof = 1;
            return 0;
        }

        if (n > 0) {
            /* edge-triggered: a short read drained the socket, unless EOF is next */
            if ((size_t) n < size && !rev->pending_eof) {
                rev->ready = 0;
            }

            return n;
        }

        err = errno;

        if (err == EINTR) {
            continue;
        }

        rev->ready = 0;

        if (err == EAGAIN) {
            return SL_AGAIN;
        }

        rev->error = 1;

        return sl_connection_error(c, err, "readv() failed");
    }
}


ssize_t
sl_unix_send(sl_connection_t *c, u_char *buf, size_t size)
{
    ssize_t n;
    sl_err_t err;
    sl_event_t *wev;

    wev = c->write;

    for (;;) {
        n = send(c->fd, buf, size, MSG_NOSIGNAL);

        if (n > 0) {
            if ((size_t) n < size) {
                wev->ready = 0;
            }

            c->sent += n;

            return n;
        }

        if (n == 0) {
            if (size != 0) {
                sl_log_error(SL_LOG_ALERT, c->log, 0, "send() returned zero");
                wev->ready = 0;
            }

            return 0;
        }

        err = errno;

        if (err == EINTR) {
            continue;
        }

        wev->ready = 0;

        if (err == EAGAIN) {
            return SL_AGAIN;
        }

        wev->error = 1;

        return sl_connection_error(c, err, "send() failed");
    }
}


/* Skips the links that carry nothing to send (flush, last_buf, empty). */
static sl_chain_t *
sl_chain_skip_empty(sl_chain_t *in)
{
    while (in != NULL && (sl_buf_special(in->buf) || sl_buf_size(in->buf) == 0)) {
        in = in->next;
    }

    return in;
}


/* Moves the windows of the chain past sent bytes; returns the first link not fully sent. */
static sl_chain_t *
sl_chain_update_sent(sl_chain_t *in, off_t sent)
{
    off_t size;

    for (; in != NULL; in = in->next) {
        if (sl_buf_special(in->buf)) {
            continue;
        }

        if (sent == 0) {
            break;
        }

        size = sl_buf_size(in->buf);

        if (sent >= size) {
            sent -= size;

            if (sl_buf_in_memory(in->buf)) {
                in->buf->pos = in->buf->last;
            }

            if (in->buf->in_file) {
                in->buf->file_pos = in->buf->file_last;
            }

            continue;
        }

        if (sl_buf_in_memory(in->buf)) {
            in->buf->pos += (size_t) sent;
        }

        if (in->buf->in_file) {
            in->buf->file_pos += sent;
        }

        break;
    }

    return in;
}


sl_chain_t *
sl_writev_chain(sl_connection_t *c, sl_chain_t *in, off_t limit)
{
    int niov, file_follows;
    off_t send, chunk, size, offset;
    u_char *prev;
    ssize_t n;
    sl_err_t err;
    sl_buf_t *b;
    sl_chain_t *cl;
    sl_event_t *wev;
    const char *op;
    struct msghdr msg;
    struct iovec iov[SL_WRITEV_IOVS];

    wev = c->write;

    if (!wev->ready) {
        return in;
    }

    if (limit <= 0 || limit > SL_MAX_SEND_LIMIT) {
        limit = SL_MAX_SEND_LIMIT;
    }

    send = 0;

    for (;;) {
        in = sl_chain_skip_empty(in);

        if (in == NULL || send >= limit) {
            return in;
        }

        b = in->buf;

        if (b->in_file) {
            op = "sendfile() failed";

            chunk = b->file_last - b->file_pos;
            chunk = sl_min(chunk, limit - send);
            chunk = sl_min(chunk, SL_SENDFILE_MAX_CHUNK);
            offset = b->file_pos;

            n = sendfile(c->fd, b->fd, &offset, (size_t) chunk);

            if (n == 0) {
                sl_log_error(SL_LOG_ALERT, c->log, 0,
                             "sendfile() reported that the file was truncated at %O", b->file_pos);
                return SL_CHAIN_ERROR;
            }

        } else {
            op = "writev() failed";
            niov = 0;
            chunk = 0;
            prev = NULL;
            file_follows = 0;

            for (cl = in; cl != NULL && niov < SL_WRITEV_IOVS && send + chunk < limit;
                 cl = cl->next) {
                b = cl->buf;

                if (sl_buf_special(b)) {
                    continue;
                }

                if (b->in_file) {
                    file_follows = 1;
                    break;
                }

                if (!sl_buf_in_memory(b)) {
                    continue;
                }

                size = b->last - b->pos;

                if (size == 0) {
                    continue;
                }

                size = sl_min(size, limit - send - chunk);

                if (prev == b->pos) {
                    iov[niov - 1].iov_len += (size_t) size;

                } else {
                    iov[niov].iov_base = b->pos;
                    iov[niov].iov_len = (size_t) size;
                    niov++;
                }

                prev = b->pos + size;
                chunk += size;
            }

            if (niov == 0) {
                sl_log_error(SL_LOG_ALERT, c->log, 0, "a buffer with no data in the output chain");
                return SL_CHAIN_ERROR;
            }

            if (file_follows && send + chunk < limit) {
                /*
                 * A header before a file: MSG_MORE holds it back until the
                 * sendfile() that follows, so both leave in the same
                 * segments instead of a small one of their own (what
                 * nginx gets from tcp_nopush, without two setsockopt()).
                 */
                op = "sendmsg() failed";
                sl_memzero(&msg, sizeof(msg));
                msg.msg_iov = iov;
                msg.msg_iovlen = (size_t) niov;
                n = sendmsg(c->fd, &msg, MSG_MORE);

            } else {
                n = writev(c->fd, iov, niov);
            }
        }

        if (n == -1) {
            err = errno;

            if (err == EINTR) {
                continue;
            }

            if (err == EAGAIN) {
                wev->ready = 0;
                return in;
            }

            wev->error = 1;
            (void) sl_connection_error(c, err, op);

            return SL_CHAIN_ERROR;
        }

        c->sent += n;
        send += n;

        in = sl_chain_update_sent(in, n);

        if (n < chunk) {
            /* the socket buffer is full: wait for EPOLLOUT */
            wev->ready = 0;
            return sl_chain_skip_empty(in);
        }
    }
}
