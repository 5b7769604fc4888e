/*
 * sl_event_connect.c: non-blocking connects to peers. The new socket is
 * registered with epoll once, edge-triggered for both directions, exactly
 * like an accepted connection, so a connection kept alive in a pool costs
 * no epoll_ctl when it serves its next request.
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
#include "sl_event_connect.h"

/* Serial numbers for upstream connections, apart from accepted ones (logs only). */
static uint32_t sl_peer_connection_counter;


sl_int_t
sl_event_connect_peer(sl_peer_connection_t *pc)
{
    int rc;
    sl_fd_t s;
    sl_err_t err;
    sl_int_t got;
    sl_uint_t level;
    sl_connection_t *c;

    pc->connection = NULL;
    pc->cached = 0;

    got = pc->get(pc, pc->data);

    if (got != SL_OK) {
        /* SL_DONE: a kept-alive connection is in pc->connection, already in epoll */
        return got;
    }

    if (pc->socklen == 0 || pc->socklen > sizeof(sl_sockaddr_any_t)) {
        sl_log_error(SL_LOG_ALERT, pc->log, 0, "invalid peer address length %d", (int) pc->socklen);
        return SL_ERROR;
    }

    s = socket(pc->sockaddr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (s == -1) {
        sl_log_error(SL_LOG_ALERT, pc->log, errno, "socket() failed");
        return SL_ERROR;
    }

    c = sl_get_connection(s, pc->log);

    if (c == NULL) {
        if (close(s) == -1) {
            sl_log_error(SL_LOG_ALERT, pc->log, errno, "close() socket %d failed", s);
        }

        return SL_ERROR;
    }

    if (pc->rcvbuf > 0 && setsockopt(s, SOL_SOCKET, SO_RCVBUF, &pc->rcvbuf, sizeof(int)) == -1) {
        sl_log_error(SL_LOG_ALERT, pc->log, errno, "setsockopt(SO_RCVBUF) failed");
        goto failed;
    }

    if (pc->sockaddr->sa_family == AF_UNIX) {
        /* a connection keeps no socket path: the peer's name says which it is */
        c->sockaddr.sa.sa_family = AF_UNIX;
        c->socklen = sizeof(sa_family_t);

    } else {
        sl_memcpy(&c->sockaddr, pc->sockaddr, pc->socklen);
        c->socklen = pc->socklen;
    }
    c->recv = sl_unix_recv;
    c->send = sl_unix_send;
    c->send_chain = sl_writev_chain;
    c->log_error = pc->log_error;
    c->number = ++sl_peer_connection_counter;
    c->start_msec = sl_current_msec;

    pc->connection = c;

    do {
        rc = connect(s, pc->sockaddr, pc->socklen);
    } while (rc == -1 && errno == EINTR);

    err = (rc == -1) ? errno : 0;

    if (err != 0 && err != EINPROGRESS) {
        if (err == ECONNREFUSED || err == EAGAIN || err == ECONNRESET || err == ENETDOWN
            || err == ENETUNREACH || err == EHOSTDOWN || err == EHOSTUNREACH) {
            level = SL_LOG_ERR;

        } else {
            level = SL_LOG_CRIT;
        }

        sl_log_error(level, pc->log, err, "connect() to %V failed", pc->name);

        sl_close_connection(c);
        pc->connection = NULL;

        return SL_DECLINED;
    }

    /*
     * Registered after connect(): epoll reports the completion (EPOLLOUT,
     * or EPOLLERR/EPOLLHUP for a refusal) whether it happened before or
     * after the registration.
     */
    if (sl_epoll_add_connection(c) != SL_OK) {
        goto failed;
    }

    if (err == EINPROGRESS) {
        return SL_AGAIN;
    }

    c->write->ready = 1;

    return SL_OK;

failed:

    sl_close_connection(c);
    pc->connection = NULL;

    return SL_ERROR;
}


sl_int_t
sl_event_get_peer(sl_peer_connection_t *pc, void *data)
{
    sl_unused(pc);
    sl_unused(data);

    return SL_OK;
}
