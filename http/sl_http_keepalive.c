/*
 * sl_http_keepalive.c: the HTTP connection between requests. After a
 * response the connection serves a pipelined request, waits idle holding
 * no pool and no buffer (keep-alive), drains when the worker stops, or
 * closes lingering, reading and dropping what the client still sends.
 */
#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_connection.h"

static void sl_http_keepalive_handler(sl_event_t *rev);
static void sl_http_drain_linger_handler(sl_event_t *rev);
static void sl_http_lingering_close_handler(sl_event_t *rev);

void
sl_http_set_keepalive(sl_http_request_t *r)
{
    size_t rest, size;
    sl_buf_t *b, *nb;
    sl_event_t *rev;
    sl_connection_t *c;
    sl_http_conn_state_t *cs;
    sl_http_addr_conf_t *addr_conf;
    sl_http_core_loc_conf_t *clcf;
    sl_http_core_srv_conf_t *cscf;

    c = r->connection;
    rev = c->read;
    cs = sl_http_conn_state(c);
    addr_conf = cs->addr_conf;
    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    cscf = addr_conf->default_server;

    b = r->header_in;
    rest = b->last - b->pos;

    sl_http_free_request(r, 0);
    c->data = addr_conf;

    if (rest) {
        /* a pipelined request: keep its bytes in a buffer of the normal size if they fit */
        size = sl_max(rest, cscf->client_header_buffer_size);
        if (b == c->buffer && b->pos != b->start) {
            sl_memmove(b->start, b->pos, rest);
            b->pos = b->start;
            b->last = b->start + rest;
            sl_http_free_large_buffers(cs, NULL);
        } else if (b != c->buffer) {
            if (rest <= cscf->client_header_buffer_size) {
                sl_memcpy(c->buffer->start, b->pos, rest);
                c->buffer->pos = c->buffer->start;
                c->buffer->last = c->buffer->start + rest;
                sl_http_free_large_buffers(cs, NULL);
            } else {
                /* the large buffer becomes the connection's buffer */
                nb = b;
                sl_memmove(nb->start, nb->pos, rest);
                nb->pos = nb->start;
                nb->last = nb->start + rest;
                sl_http_free_large_buffers(cs, nb);
                sl_free(c->buffer);
                c->buffer = nb;
            }
        }
        sl_unused(size);

        cs->log.action = "reading client pipelined request line";
        r = sl_http_create_request(c);
        if (r == NULL) {
            sl_http_close_connection(c);
            return;
        }
        rev->handler = sl_http_process_request_line;
        sl_event_add_timer(rev, cscf->client_header_timeout);
        /*
         * Posted, not called: a client that pipelines thousands of requests
         * must not make each response recurse into the next request.
         */
        sl_post_event(rev, &sl_posted_events);
        return;
    }

    /* idle: release everything but the slot */
    sl_http_free_large_buffers(cs, NULL);
    sl_http_connection_idle(c, addr_conf);

    rev->handler = sl_http_keepalive_handler;
    c->write->handler = sl_http_empty_handler;
    c->idle = 1;
    sl_reusable_connection(c, 1);
    sl_event_add_timer(rev, clcf->keepalive_timeout);

    if (sl_exiting) {
        (void) sl_http_drain_idle(c);
    }

    if (rev->ready) {
        /* more bytes wait in the socket: read them from the loop, not recursively */
        sl_post_event(rev, &sl_posted_events);
    }
}

static void
sl_http_keepalive_handler(sl_event_t *rev)
{
    sl_connection_t *c;

    c = rev->data;

    if (c->close && !rev->timedout && sl_http_drain_idle(c)) {
        sl_http_drain_idle_handler(rev);
        return;
    }

    if (rev->timedout || c->close) {
        sl_http_close_connection(c);
        return;
    }

    /*
     * The same path as a new connection's first bytes; the keep-alive timer
     * stays until bytes arrive and the header timer replaces it.
     */
    rev->handler = sl_http_wait_request_handler;
    sl_http_wait_request_handler(rev);

    if (!c->destroyed && c->buffer == NULL && c->idle) {
        /* nothing arrived after all: wait as an idle keep-alive connection again */
        rev->handler = sl_http_keepalive_handler;
    }
}

/* Draining idle connections of a stopping worker ------------------------------ */

/*
 * A graceful stop (QUIT, or a reload that replaces this worker) must not
 * lose a request that a client is sending on an idle connection. HTTP/1.1
 * gives the server no way to close an idle connection atomically: whatever
 * instant it closes, a request may be on the wire, and closing with unread
 * bytes sends a reset. nginx closes every idle connection at once when the
 * stop begins, so a client that reuses its connection at that moment loses
 * its request. Here instead:
 *
 * - An idle connection (keep-alive, or accepted with no byte yet) is not
 *   closed at the stop: it is given a grace (SL_HTTP_DRAIN_GRACE, never
 *   more than its own timer had left). A request that arrives meanwhile is
 *   served normally and answered with "Connection: close" (r->keepalive is
 *   off while sl_exiting), then the connection closes after the response,
 *   the one moment a client knows not to send on it. A busy client (one
 *   that sends its next request as soon as it has the response) is always
 *   in this case.
 * - A response whose header promised keep-alive before the stop leads to
 *   the same grace (sl_http_finalize_connection), not to a close.
 * - When the grace ends, the socket is read once more: a request that came
 *   in since is still served. Only then is the connection closed, with a
 *   half-close first (FIN) and the read side drained until the client
 *   closes or SL_HTTP_DRAIN_LINGER passes: a request that crossed the FIN
 *   on the wire is read and dropped instead of answered with a reset, so
 *   the client sees a clean end of stream before any response, which is
 *   the signal HTTP clients retry on (RFC 9112, 9.3.1). That crossing is
 *   the only loss left, and only for a client that stayed silent through
 *   the whole grace and spoke within one round trip of its end.
 * - worker_shutdown_timeout and a shortage of connection slots (c->close
 *   with c->error, or c->close once draining) still close at once.
 */
#define SL_HTTP_DRAIN_GRACE 1000
#define SL_HTTP_DRAIN_LINGER 1000

/*
 * Puts an idle connection of a stopping worker into the drain; returns 1 if
 * it is draining now (handled by sl_http_drain_idle_handler), 0 if it must
 * be closed at once (the worker is not stopping, or the deadline passed).
 */
sl_uint_t
sl_http_drain_idle(sl_connection_t *c)
{
    sl_event_t *rev;
    sl_msec_int_t left;

    rev = c->read;

    if (!sl_exiting || c->error || rev->handler == sl_http_drain_idle_handler) {
        return 0;
    }

    c->close = 0;
    left = SL_HTTP_DRAIN_GRACE;

    if (rev->timer_set) {
        /* a keep-alive or header timeout that ends sooner still ends the wait */
        left = sl_min(left, (sl_msec_int_t) (rev->timer.key - sl_current_msec));
        sl_event_del_timer(rev);
    }

    sl_event_add_timer(rev, left > 0 ? (sl_msec_t) left : 0);
    rev->handler = sl_http_drain_idle_handler;
    c->write->handler = sl_http_empty_handler;

    return 1;
}

void
sl_http_drain_idle_handler(sl_event_t *rev)
{
    sl_connection_t *c;

    c = rev->data;

    if (c->close) {
        /* out of slots or past worker_shutdown_timeout */
        sl_http_close_connection(c);
        return;
    }

    if (rev->timedout) {
        /* the grace is over, but a request that arrived meanwhile is served */
        rev->timedout = 0;
        rev->ready = 1;
    }

    /* the read path of a new connection: with bytes, the request starts */
    rev->handler = sl_http_wait_request_handler;
    sl_http_wait_request_handler(rev);

    if (c->destroyed || !c->idle || c->buffer != NULL) {
        return;
    }

    if (rev->timer_set) {
        /* a spurious wake-up within the grace */
        rev->handler = sl_http_drain_idle_handler;
        return;
    }

    /* nothing came within the grace: half-close, then drain until the client closes */
    if (shutdown(c->fd, SHUT_WR) == -1) {
        sl_connection_error(c, sl_socket_errno, "shutdown() failed");
        sl_http_close_connection(c);
        return;
    }

    rev->handler = sl_http_drain_linger_handler;
    sl_event_add_timer(rev, SL_HTTP_DRAIN_LINGER);
    sl_http_drain_linger_handler(rev);
}

static void
sl_http_drain_linger_handler(sl_event_t *rev)
{
    ssize_t n;
    sl_connection_t *c;
    u_char buffer[SL_HTTP_DISCARD_BUFFER_SIZE];

    c = rev->data;

    if (rev->timedout || c->close) {
        sl_http_close_connection(c);
        return;
    }

    do {
        n = c->recv(c, buffer, SL_HTTP_DISCARD_BUFFER_SIZE);

        if (n == SL_ERROR || n == 0) {
            sl_http_close_connection(c);
            return;
        }
    } while (n > 0 && rev->ready);
}

/* Lingering close ---------------------------------------------------------- */

typedef struct {
    sl_msec_t deadline;
    sl_msec_t timeout;
} sl_http_lingering_t;

void
sl_http_set_lingering_close(sl_connection_t *c)
{
    sl_event_t *rev;
    sl_http_lingering_t *lg;
    sl_http_conn_state_t *cs;
    sl_http_core_loc_conf_t *clcf;
    sl_http_conf_ctx_t *ctx;

    rev = c->read;
    cs = sl_http_conn_state(c);
    ctx = cs->hc.conf_ctx;
    clcf = ctx->loc_conf[sl_http_core_module.ctx_index];

    lg = sl_palloc(c->pool, sizeof(sl_http_lingering_t));
    if (lg == NULL) {
        sl_http_close_connection(c);
        return;
    }
    lg->deadline = sl_current_msec + clcf->lingering_time;
    lg->timeout = clcf->lingering_timeout;
    cs->request = NULL;
    c->data = lg;

    rev->handler = sl_http_lingering_close_handler;
    c->write->handler = sl_http_lingering_close_handler;
    c->log->action = "lingering close";

    if (shutdown(c->fd, SHUT_WR) == -1) {
        sl_connection_error(c, sl_socket_errno, "shutdown() failed");
        sl_http_close_connection(c);
        return;
    }

    sl_event_add_timer(rev, lg->timeout);
    sl_http_lingering_close_handler(rev);
}

static void
sl_http_lingering_close_handler(sl_event_t *rev)
{
    ssize_t n;
    sl_msec_t timer;
    sl_connection_t *c;
    sl_http_lingering_t *lg;
    u_char buffer[SL_HTTP_DISCARD_BUFFER_SIZE];

    c = rev->data;
    if (rev->write) {
        return;
    }
    lg = c->data;

    if (rev->timedout) {
        sl_http_close_connection(c);
        return;
    }

    timer = lg->deadline - sl_current_msec;
    if ((sl_msec_int_t) timer <= 0) {
        sl_http_close_connection(c);
        return;
    }

    do {
        n = c->recv(c, buffer, SL_HTTP_DISCARD_BUFFER_SIZE);
        if (n == SL_ERROR || n == 0) {
            sl_http_close_connection(c);
            return;
        }
    } while (rev->ready);

    sl_event_add_timer(rev, sl_min(timer, lg->timeout));
}
