/*
 * sl_http_upstream_request.c: one exchange with an upstream. Choose a peer
 * through the group's balancer, connect, send the request, read and parse
 * the response header, retry on the next peer (proxy_next_upstream), copy
 * the header to the client and hand the body to sl_http_upstream_body.c.
 * A pooled connection serves a request with one write and one read on it:
 * no epoll_ctl, no getsockopt.
 */
#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"

static void sl_http_upstream_init_request(sl_http_request_t *r);
static sl_int_t sl_http_upstream_set_target(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_connect(sl_http_request_t *r, sl_http_upstream_t *u);
static sl_int_t sl_http_upstream_test_connect(sl_connection_t *c);
static void sl_http_upstream_send_request(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_send_request_handler(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_process_header(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_dummy_handler(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_discard_rest(sl_http_request_t *r, sl_http_upstream_t *u);
static sl_int_t sl_http_upstream_test_next(sl_http_request_t *r, sl_http_upstream_t *u);
static sl_int_t sl_http_upstream_intercept_errors(sl_http_request_t *r, sl_http_upstream_t *u);
static sl_int_t sl_http_upstream_process_headers(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_send_response(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_next(sl_http_request_t *r, sl_http_upstream_t *u, sl_uint_t ft);
static void sl_http_upstream_handler(sl_event_t *ev);
static void sl_http_upstream_check_broken_connection(sl_http_request_t *r);
static void sl_http_upstream_cleanup(void *data);
static void sl_http_upstream_end_attempt(sl_http_upstream_t *u);


/* Creating and starting -------------------------------------------------------- */

sl_int_t
sl_http_upstream_create(sl_http_request_t *r)
{
    sl_http_upstream_t *u;

    u = r->upstream;

    if (u != NULL && u->cleanup != NULL) {
        /* an error_page or a redirect proxies again: let the first exchange go */
        sl_http_upstream_cleanup(r);
    }

    u = sl_pcalloc(r->pool, sizeof(sl_http_upstream_t));
    if (u == NULL) {
        return SL_ERROR;
    }

    u->peer.log = r->connection->log;
    u->peer.log_error = SL_ERROR_ERR;
    u->headers_in.content_length_n = -1;
    u->length = -1;
    u->pipe.temp_fd = SL_INVALID_FILE;

    r->upstream = u;

    return SL_OK;
}


sl_uint_t
sl_http_upstream_has_body(sl_http_request_t *r)
{
    if (r->request_body != NULL || r->discard_body) {
        return 0;
    }

    return r->headers_in.chunked || r->headers_in.content_length_n > 0;
}


void
sl_http_upstream_init(sl_http_request_t *r)
{
    sl_connection_t *c;

    c = r->connection;

    if (c->read->timer_set) {
        sl_event_del_timer(c->read);
    }

    sl_http_upstream_init_request(r);
}


static void
sl_http_upstream_init_request(sl_http_request_t *r)
{
    sl_http_cleanup_t *cln;
    sl_http_upstream_t *u;
    sl_http_upstream_srv_conf_t *us;

    u = r->upstream;
    u->buffering = u->conf->buffering ? 1 : 0;

    if (u->create_request(r) != SL_OK) {
        sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    u->state = sl_array_create(r->pool, 1, sizeof(sl_http_upstream_state_t));
    if (u->state == NULL) {
        sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln = sl_http_cleanup_add(r, 0);
    if (cln == NULL) {
        sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = sl_http_upstream_cleanup;
    cln->data = r;
    u->cleanup = &cln->handler;

    if (u->upstream == NULL) {
        u->upstream = u->conf->upstream;
    }

    if (u->upstream == NULL) {
        if (sl_http_upstream_set_target(r, u) != SL_OK) {
            sl_http_upstream_finalize(r, u, SL_HTTP_BAD_GATEWAY);
            return;
        }
    }

    us = u->upstream;

    if (us != NULL && us->peer.init(r, us) != SL_OK) {
        sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    u->peer.start_time = sl_current_msec;

    if (u->conf->next_upstream_tries && u->peer.tries > u->conf->next_upstream_tries) {
        u->peer.tries = u->conf->next_upstream_tries;
    }

    if (u->body_out == NULL) {
        /* a streamed body keeps its own read handler until it has ended */
        r->read_event_handler = sl_http_upstream_check_broken_connection;
    }

    r->write_event_handler = sl_http_upstream_check_broken_connection;

    sl_http_upstream_connect(r, u);
}


/* A literal address computed per request: one peer, one try. */
typedef struct {
    sl_sockaddr_any_t sockaddr;
    socklen_t socklen;
    sl_str_t name;
} sl_http_upstream_literal_t;

static sl_int_t
sl_http_upstream_get_literal_peer(sl_peer_connection_t *pc, void *data)
{
    sl_http_upstream_literal_t *lp = data;

    pc->sockaddr = &lp->sockaddr.sa;
    pc->socklen = lp->socklen;
    pc->name = &lp->name;

    return SL_OK;
}

static void
sl_http_upstream_free_literal_peer(sl_peer_connection_t *pc, void *data, sl_uint_t state)
{
    sl_unused(data);
    sl_unused(state);

    if (pc->tries) {
        pc->tries--;
    }
}


/*
 * proxy_pass with variables: the computed host is an upstream group's name
 * (or an implicit group's host and port), or a literal address. Names are
 * never looked up in DNS at request time.
 */
static sl_int_t
sl_http_upstream_set_target(sl_http_request_t *r, sl_http_upstream_t *u)
{
    u_char text[INET6_ADDRSTRLEN + 1];
    size_t len;
    sl_str_t *host;
    sl_uint_t i, literal;
    sl_http_upstream_literal_t *lp;
    sl_http_upstream_resolved_t *rs;
    sl_http_upstream_srv_conf_t **uscfp;
    sl_http_upstream_main_conf_t *umcf;

    rs = u->resolved;

    if (rs == NULL || rs->host.len == 0) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "no upstream host to connect to");
        return SL_ERROR;
    }

    host = &rs->host;
    umcf = sl_http_get_module_main_conf(r, sl_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (!sl_str_caseeq(&uscfp[i]->host, host)) {
            continue;
        }

        if ((uscfp[i]->flags & SL_HTTP_UPSTREAM_CREATE)
                ? rs->no_port
                : (uscfp[i]->no_port ? SL_HTTP_UPSTREAM_DEFAULT_PORT : uscfp[i]->port)
                      == rs->port) {
            u->upstream = uscfp[i];
            return SL_OK;
        }
    }

    lp = sl_pcalloc(r->pool, sizeof(sl_http_upstream_literal_t));
    if (lp == NULL) {
        return SL_ERROR;
    }

    literal = 0;

    if (host->len > 2 && host->data[0] == '[' && host->data[host->len - 1] == ']') {
        len = host->len - 2;

        if (len < sizeof(text)) {
            sl_memcpy(text, host->data + 1, len);
            text[len] = '\0';

            if (inet_pton(AF_INET6, (char *) text, &lp->sockaddr.sin6.sin6_addr) == 1) {
                lp->sockaddr.sin6.sin6_family = AF_INET6;
                lp->sockaddr.sin6.sin6_port = htons(rs->port);
                lp->socklen = sizeof(struct sockaddr_in6);
                literal = 1;
            }
        }

    } else if (host->len < sizeof(text)) {
        sl_memcpy(text, host->data, host->len);
        text[host->len] = '\0';

        if (inet_pton(AF_INET, (char *) text, &lp->sockaddr.sin.sin_addr) == 1) {
            lp->sockaddr.sin.sin_family = AF_INET;
            lp->sockaddr.sin.sin_port = htons(rs->port);
            lp->socklen = sizeof(struct sockaddr_in);
            literal = 1;
        }
    }

    if (!literal) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "no resolver defined to resolve %V (not an upstream group)", host);
        return SL_ERROR;
    }

    lp->name.data = sl_pnalloc(r->pool, SL_SOCKADDR_STRLEN);
    if (lp->name.data == NULL) {
        return SL_ERROR;
    }

    lp->name.len =
        sl_sock_ntop(&lp->sockaddr.sa, lp->socklen, lp->name.data, SL_SOCKADDR_STRLEN, 1);

    u->peer.get = sl_http_upstream_get_literal_peer;
    u->peer.free = sl_http_upstream_free_literal_peer;
    u->peer.data = lp;
    u->peer.tries = 1;

    return SL_OK;
}


/* Connecting ---------------------------------------------------------------------- */

static void
sl_http_upstream_connect(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_int_t rc;
    sl_connection_t *c;
    sl_event_get_peer_pt get;
    sl_http_upstream_state_t *state;

    r->connection->log->action = "connecting to upstream";

    state = sl_array_push(u->state);
    if (state == NULL) {
        sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    sl_memzero(state, sizeof(sl_http_upstream_state_t));
    state->response_time = SL_HTTP_UPSTREAM_NO_TIME;
    state->connect_time = SL_HTTP_UPSTREAM_NO_TIME;
    state->header_time = SL_HTTP_UPSTREAM_NO_TIME;
    u->cur_state = state;
    u->start_time = sl_current_msec;

    u->connected = 0;

    if (u->reconnect) {
        /*
         * The same peer again on a fresh connection: the balancer chose it
         * once and hears about it once, when this attempt ends.
         */
        get = u->peer.get;
        u->peer.get = sl_event_get_peer;
        rc = sl_event_connect_peer(&u->peer);
        u->peer.get = get;
        u->reconnect = 0;

    } else {
        u->peer.sockaddr = NULL;
        u->peer.name = NULL;
        u->peer_freed = 0;

        rc = sl_event_connect_peer(&u->peer);
    }

    state->peer = u->peer.name;

    if (rc == SL_ERROR) {
        sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == SL_BUSY) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "no live upstreams in \"%V\"",
                     u->upstream ? &u->upstream->host : &u->resolved->host);
        sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_NOLIVE);
        return;
    }

    if (rc == SL_DECLINED) {
        sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    /* SL_OK, SL_AGAIN or SL_DONE (a kept-alive connection) */

    c = u->peer.connection;
    c->data = r;
    c->read->handler = sl_http_upstream_handler;
    c->write->handler = sl_http_upstream_handler;
    c->log = r->connection->log;
    c->read->log = c->log;
    c->write->log = c->log;

    if (rc == SL_DONE) {
        /* a pooled connection was connected and checked when it was new */
        u->peer.cached = 1;
        u->connected = 1;
        state->connect_time = 0;
    }

    u->write_event_handler = sl_http_upstream_send_request_handler;
    u->read_event_handler = sl_http_upstream_process_header;

    if (rc == SL_AGAIN) {
        sl_event_add_timer(c->write, u->conf->connect_timeout);
        return;
    }

    sl_http_upstream_send_request(r, u);
}


/* The one getsockopt of a new connection: did the connect succeed? */
static sl_int_t
sl_http_upstream_test_connect(sl_connection_t *c)
{
    int err;
    socklen_t len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
        err = errno;
    }

    if (err) {
        c->log->action = "connecting to upstream";
        (void) sl_connection_error(c, err, "connect() failed");
        return SL_ERROR;
    }

    return SL_OK;
}


/* Sends request_out, then body pieces as the client provides them. */
static sl_int_t
sl_http_upstream_write_request(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_int_t rc;
    sl_chain_t *out;
    sl_connection_t *c;

    c = u->peer.connection;

    for (;;) {
        if (u->request_out != NULL) {
            out = c->send_chain(c, u->request_out, 0);

            if (out == SL_CHAIN_ERROR) {
                return SL_ERROR;
            }

            u->request_out = out;

            if (out != NULL) {
                return SL_AGAIN;
            }
        }

        if (u->body_out == NULL || u->body_out->last_queued) {
            return SL_OK;
        }

        rc = sl_http_upstream_read_request_body(r, u);

        if (rc == SL_AGAIN) {
            return SL_BUSY;
        }

        if (rc != SL_OK) {
            return rc;
        }
    }
}


static void
sl_http_upstream_send_request(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_int_t rc;
    sl_connection_t *c;

    c = u->peer.connection;

    if (!u->connected) {
        if (sl_http_upstream_test_connect(c) != SL_OK) {
            sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_ERROR);
            return;
        }

        u->connected = 1;
        u->cur_state->connect_time = sl_current_msec - u->start_time;
        (void) sl_tcp_nodelay(c);
    }

    if (!u->request_sent) {
        u->request_sent = 1;
        u->request_out = u->request_bufs;
        c->requests++;
    }

    c->log->action = "sending request to upstream";

    rc = sl_http_upstream_write_request(r, u);

    if (rc == SL_ERROR) {
        /*
         * An upstream that answers before it has read the whole request
         * may close at once, and the next write fails (EPIPE, a reset).
         * Its answer, already received, still counts: read it. With none
         * there, the read fails too and the attempt fails as before.
         */
        u->write_event_handler = sl_http_upstream_dummy_handler;

        if (c->write->timer_set) {
            sl_event_del_timer(c->write);
        }

        sl_http_upstream_process_header(r, u);
        return;
    }

    if (rc >= SL_HTTP_SPECIAL_RESPONSE) {
        /* the client's body went wrong: the upstream has half a request */
        u->keepalive = 0;
        sl_http_upstream_finalize(r, u, rc);
        return;
    }

    if (rc == SL_AGAIN) {
        sl_event_add_timer(c->write, u->conf->send_timeout);
        return;
    }

    if (c->write->timer_set) {
        sl_event_del_timer(c->write);
    }

    if (rc == SL_BUSY) {
        /* waiting for the client's next body bytes; its read event resumes */
        return;
    }

    u->request_body_sent = 1;
    u->write_event_handler = sl_http_upstream_dummy_handler;
    c->log->action = "reading response header from upstream";

    sl_event_add_timer(c->read, u->conf->read_timeout);

    if (c->read->ready) {
        sl_http_upstream_process_header(r, u);
    }
}


static void
sl_http_upstream_send_request_handler(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_connection_t *c;

    c = u->peer.connection;

    if (c->write->timedout) {
        c->write->timedout = 0;
        sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_TIMEOUT);
        return;
    }

    if (u->header_sent || u->response_received) {
        u->write_event_handler = sl_http_upstream_dummy_handler;
        return;
    }

    sl_http_upstream_send_request(r, u);
}


/* The client sent more body bytes: pass them on (request_buffering off). */
void
sl_http_upstream_client_body_ready(sl_http_request_t *r)
{
    sl_http_upstream_t *u;
    sl_connection_t *c;

    u = r->upstream;
    c = r->connection;

    if (c->read->timedout) {
        c->read->timedout = 0;
        c->timedout = 1;
        sl_log_error(SL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        u->keepalive = 0;
        sl_http_upstream_finalize(r, u, SL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (u->peer.connection == NULL || !u->request_sent || u->response_received) {
        /* not connected yet (the data waits in the socket), or no longer wanted */
        if (u->response_received) {
            sl_http_upstream_check_broken_connection(r);
        }
        return;
    }

    if (u->request_out != NULL) {
        /* the upstream has not taken the last piece yet: its write event resumes */
        return;
    }

    sl_http_upstream_send_request(r, u);
}


static void
sl_http_upstream_dummy_handler(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_unused(r);
    sl_unused(u);
}


/*
 * An early answer to a streamed body (request_buffering off): the client
 * may still be sending the rest, and a client that writes its whole body
 * before it reads would see a reset, or never get to read a response too
 * large for the socket buffers. So the rest is read and dropped, as a
 * discarded body is: while the response goes out with no limit of its own
 * (send_timeout and the upstream's timeouts bound the exchange), and after
 * it within lingering_timeout between reads and lingering_time in all. The
 * response says "Connection: close" and the connection closes once the
 * body has ended, as nginx closes it after an early answer.
 */
static void
sl_http_upstream_discard_rest(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_connection_t *c;
    sl_http_request_body_t *rb;
    sl_http_upstream_body_out_t *bo;

    c = r->connection;
    rb = r->request_body;
    bo = u->body_out;

    r->keepalive = 0;

    /* the discarder carries on from where the relay stopped, framing state and all */
    rb->rest = bo->rest;
    rb->chunked = bo->chunked;
    bo->done = 1;

    r->discard_body = 1;
    r->main->count++;
    r->read_event_handler = sl_http_discarded_request_body_handler;

    if (c->read->timer_set) {
        sl_event_del_timer(c->read);
    }

    /* edge-triggered: bytes already waiting in the socket bring no new event */
    sl_post_event(c->read, &sl_posted_events);
}


/* Reading the response header ------------------------------------------------------ */

static void
sl_http_upstream_process_header(sl_http_request_t *r, sl_http_upstream_t *u)
{
    ssize_t n;
    sl_int_t rc;
    sl_connection_t *c;

    c = u->peer.connection;

    if (c->read->timedout) {
        c->read->timedout = 0;
        sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_TIMEOUT);
        return;
    }

    if (!u->request_sent) {
        /* an error reported before the connect completed */
        if (!u->connected && sl_http_upstream_test_connect(c) != SL_OK) {
            sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_ERROR);
        }
        return;
    }

    if (u->buffer.start == NULL) {
        u->buffer.start = sl_pnalloc(r->pool, u->conf->buffer_size);
        if (u->buffer.start == NULL) {
            sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        u->buffer.pos = u->buffer.start;
        u->buffer.last = u->buffer.start;
        u->buffer.end = u->buffer.start + u->conf->buffer_size;
        u->buffer.temporary = 1;
        u->buffer.fd = SL_INVALID_FILE;

        if (sl_list_init(&u->headers_in.headers, r->pool, 8, sizeof(sl_table_elt_t)) != SL_OK) {
            sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    for (;;) {
        n = c->recv(c, u->buffer.last, u->buffer.end - u->buffer.last);

        if (n == SL_AGAIN) {
            sl_event_add_timer(c->read, u->conf->read_timeout);
            return;
        }

        if (n == 0) {
            sl_log_error(SL_LOG_ERR, c->log, 0, "upstream prematurely closed connection");
        }

        if (n == SL_ERROR || n == 0) {
            sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_ERROR);
            return;
        }

        u->buffer.last += n;
        u->cur_state->bytes_received += n;

        rc = u->process_header(r);

        if (rc != SL_AGAIN) {
            break;
        }

        if (u->buffer.last == u->buffer.end) {
            sl_log_error(SL_LOG_ERR, c->log, 0, "upstream sent too big header");
            sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_INVALID_HEADER);
            return;
        }

        if (!c->read->ready) {
            /* edge-triggered: the socket is drained, the next event brings more */
            sl_event_add_timer(c->read, u->conf->read_timeout);
            return;
        }
    }

    if (rc == SL_HTTP_UPSTREAM_INVALID_HEADER) {
        sl_http_upstream_next(r, u, SL_HTTP_UPSTREAM_FT_INVALID_HEADER);
        return;
    }

    if (rc == SL_ERROR) {
        sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* rc == SL_OK: the header is in */

    u->cur_state->header_time = sl_current_msec - u->start_time;
    u->cur_state->status = u->headers_in.status_n;
    u->response_received = 1;

    /* a retry starts the request over, streamed body included */
    if (sl_http_upstream_test_next(r, u) == SL_OK) {
        return;
    }

    if (!u->request_body_sent) {
        /*
         * An early answer: the upstream gets no more of the request, and
         * its connection is not kept alive (the keepalive module checks
         * request_body_sent).
         */
        u->write_event_handler = sl_http_upstream_dummy_handler;

        if (c->write->timer_set) {
            sl_event_del_timer(c->write);
        }
    }

    if (u->body_out != NULL && !u->body_out->done && !u->upgrade) {
        sl_http_upstream_discard_rest(r, u);

    } else if (r->read_event_handler != sl_http_upstream_check_broken_connection) {
        r->read_event_handler = sl_http_upstream_check_broken_connection;

        if (r->connection->read->timer_set) {
            sl_event_del_timer(r->connection->read);
        }
    }

    if (sl_http_upstream_intercept_errors(r, u) == SL_OK) {
        return;
    }

    if (sl_http_upstream_process_headers(r, u) != SL_OK) {
        sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    sl_http_upstream_send_response(r, u);
}


/* The proxy_next_upstream condition a status answers to, or 0. */
static sl_uint_t
sl_http_upstream_status_ft(sl_uint_t status)
{
    switch (status) {
    case 500:
        return SL_HTTP_UPSTREAM_FT_HTTP_500;
    case 502:
        return SL_HTTP_UPSTREAM_FT_HTTP_502;
    case 503:
        return SL_HTTP_UPSTREAM_FT_HTTP_503;
    case 504:
        return SL_HTTP_UPSTREAM_FT_HTTP_504;
    case 403:
        return SL_HTTP_UPSTREAM_FT_HTTP_403;
    case 404:
        return SL_HTTP_UPSTREAM_FT_HTTP_404;
    case 429:
        return SL_HTTP_UPSTREAM_FT_HTTP_429;
    default:
        return 0;
    }
}


/*
 * Whether a failed attempt may be retried on another peer, before the
 * balancer is told (tries counts this attempt). The condition ft must be
 * listed, unless any is set (a pooled connection the upstream had closed).
 */
static sl_uint_t
sl_http_upstream_may_retry(sl_http_request_t *r, sl_http_upstream_t *u, sl_uint_t ft, sl_uint_t any)
{
    sl_msec_t timeout;

    if (u->header_sent || r->connection->error) {
        return 0;
    }

    if (u->body_out != NULL && u->body_out->started) {
        /* streamed body bytes are gone: they cannot be sent again */
        return 0;
    }

    if (u->request_sent && (r->method & (SL_HTTP_POST | SL_HTTP_PATCH))
        && !(u->conf->next_upstream & SL_HTTP_UPSTREAM_FT_NON_IDEMPOTENT)) {
        return 0;
    }

    if (!any && !(u->conf->next_upstream & ft)) {
        return 0;
    }

    timeout = u->conf->next_upstream_timeout;

    if (timeout && sl_current_msec - u->peer.start_time >= timeout) {
        return 0;
    }

    return 1;
}


static sl_int_t
sl_http_upstream_test_next(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_uint_t ft;

    ft = sl_http_upstream_status_ft(u->headers_in.status_n);

    if (ft == 0 || u->peer.tries <= 1 || !sl_http_upstream_may_retry(r, u, ft, 0)) {
        return SL_DECLINED;
    }

    sl_http_upstream_next(r, u, ft);

    return SL_OK;
}


/* proxy_intercept_errors: a status with an error_page is answered by the page. */
static sl_int_t
sl_http_upstream_intercept_errors(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_uint_t i, status;
    sl_http_err_page_t *err_page;
    sl_http_core_loc_conf_t *clcf;

    status = u->headers_in.status_n;

    if (!u->conf->intercept_errors || status < SL_HTTP_SPECIAL_RESPONSE
        || status == SL_HTTP_NOT_MODIFIED) {
        return SL_DECLINED;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (clcf->error_pages == NULL) {
        return SL_DECLINED;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if ((sl_uint_t) err_page[i].status == status) {
            u->keepalive = 0;
            sl_http_upstream_finalize(r, u, status);
            return SL_OK;
        }
    }

    return SL_DECLINED;
}


/* Hop-by-hop fields (RFC 9110 7.6.1) never cross the proxy. */
static sl_uint_t
sl_http_upstream_hop_by_hop(const u_char *name, size_t len)
{
    switch (len) {
    case 2:
        return sl_memcmp(name, "te", 2) == 0;
    case 7:
        return sl_memcmp(name, "trailer", 7) == 0 || sl_memcmp(name, "upgrade", 7) == 0;
    case 10:
        return sl_memcmp(name, "connection", 10) == 0 || sl_memcmp(name, "keep-alive", 10) == 0;
    case 17:
        return sl_memcmp(name, "transfer-encoding", 17) == 0;
    case 18:
        return sl_memcmp(name, "proxy-authenticate", 18) == 0;
    case 19:
        return sl_memcmp(name, "proxy-authorization", 19) == 0;
    default:
        return 0;
    }
}


/* True when the Connection field h lists the (lowercase) name. */
static sl_uint_t
sl_http_upstream_connection_lists(sl_table_elt_t *h, const u_char *name, size_t len)
{
    u_char *p, *last, *start;

    for (; h != NULL; h = h->next) {
        p = h->value.data;
        last = p + h->value.len;

        while (p < last) {
            while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
                p++;
            }

            start = p;

            while (p < last && *p != ',' && *p != ' ' && *p != '\t') {
                p++;
            }

            if ((size_t) (p - start) == len && sl_strncasecmp(start, name, len) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


/* Copies the upstream's header fields to r->headers_out, without the hidden ones. */
static sl_int_t
sl_http_upstream_process_headers(sl_http_request_t *r, sl_http_upstream_t *u)
{
    u_char *url;
    size_t prefix;
    sl_uint_t i;
    sl_list_part_t *part;
    sl_table_elt_t *h, *ho;
    sl_http_upstream_conf_t *conf;

    conf = u->conf;

    r->headers_out.status = u->headers_in.status_n;
    r->headers_out.status_line = u->headers_in.status_line;

    if (!u->headers_in.chunked && u->headers_in.content_length_n >= 0) {
        r->headers_out.content_length_n = u->headers_in.content_length_n;
    }

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;

            if (part->nelts == 0) {
                continue;
            }
        }

        if (conf->hide_headers_hash.size
            && sl_hash_find(&conf->hide_headers_hash, h[i].hash, h[i].lowcase_key, h[i].key.len)) {
            continue;
        }

        if (u->upgrade && h[i].key.len == 7 && sl_memcmp(h[i].lowcase_key, "upgrade", 7) == 0) {
            /* a 101 names the protocol switched to: the one hop-by-hop field that crosses */

        } else if (sl_http_upstream_hop_by_hop(h[i].lowcase_key, h[i].key.len)) {
            continue;

        } else if (u->headers_in.connection
                   && sl_http_upstream_connection_lists(u->headers_in.connection, h[i].lowcase_key,
                                                        h[i].key.len)) {
            continue;
        }

        if (h[i].key.len == 14 && sl_memcmp(h[i].lowcase_key, "content-length", 14) == 0) {
            continue;
        }

        if (h[i].key.len == 12 && sl_memcmp(h[i].lowcase_key, "content-type", 12) == 0) {
            r->headers_out.content_type = h[i].value;
            continue;
        }

        ho = sl_list_push(&r->headers_out.headers);
        if (ho == NULL) {
            return SL_ERROR;
        }

        *ho = h[i];
        ho->next = NULL;

        switch (h[i].key.len) {
        case 4:
            if (sl_memcmp(h[i].lowcase_key, "date", 4) == 0) {
                r->headers_out.date = ho;
            } else if (sl_memcmp(h[i].lowcase_key, "etag", 4) == 0) {
                r->headers_out.etag = ho;
            }
            break;

        case 6:
            if (sl_memcmp(h[i].lowcase_key, "server", 6) == 0) {
                r->headers_out.server = ho;
            }
            break;

        case 7:
            if (sl_memcmp(h[i].lowcase_key, "refresh", 7) == 0 && u->rewrite_redirect) {
                url = sl_strlcasestrn(ho->value.data, ho->value.data + ho->value.len,
                                      (u_char *) "url=", 4);
                if (url != NULL) {
                    prefix = url + 4 - ho->value.data;
                    if (u->rewrite_redirect(r, ho, prefix) == SL_ERROR) {
                        return SL_ERROR;
                    }
                }
            }
            break;

        case 8:
            if (sl_memcmp(h[i].lowcase_key, "location", 8) == 0) {
                if (u->rewrite_redirect && u->rewrite_redirect(r, ho, 0) == SL_ERROR) {
                    return SL_ERROR;
                }
                r->headers_out.location = ho;
            }
            break;

        case 13:
            if (sl_memcmp(h[i].lowcase_key, "last-modified", 13) == 0) {
                r->headers_out.last_modified = ho;
                r->headers_out.last_modified_time =
                    sl_parse_http_time(ho->value.data, ho->value.len);
            } else if (sl_memcmp(h[i].lowcase_key, "accept-ranges", 13) == 0) {
                r->headers_out.accept_ranges = ho;
            } else if (sl_memcmp(h[i].lowcase_key, "content-range", 13) == 0) {
                r->headers_out.content_range = ho;
            }
            break;

        case 16:
            if (sl_memcmp(h[i].lowcase_key, "content-encoding", 16) == 0) {
                r->headers_out.content_encoding = ho;
            }
            break;

        default:
            break;
        }
    }

    return SL_OK;
}


static void
sl_http_upstream_send_response(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_int_t rc;

    rc = sl_http_send_header(r);

    if (rc == SL_ERROR || rc > SL_OK) {
        u->keepalive = 0;
        sl_http_upstream_finalize(r, u, rc);
        return;
    }

    u->header_sent = 1;

    if (u->upgrade) {
        sl_http_upstream_start_tunnel(r, u);
        return;
    }

    if (u->input_filter_init(u->input_filter_ctx) != SL_OK) {
        sl_http_upstream_finalize(r, u, SL_ERROR);
        return;
    }

    if (r->header_only) {
        /* HEAD, 204, 304: the header was the whole response */
        u->keepalive =
            u->length == 0 && !u->headers_in.connection_close && u->buffer.pos == u->buffer.last;
        u->pipe.last_sent = 1;
        sl_http_upstream_finalize(r, u, SL_OK);
        return;
    }

    sl_http_upstream_send_response_body(r, u);
}


/* Retrying ------------------------------------------------------------------------- */

static void
sl_http_upstream_next(sl_http_request_t *r, sl_http_upstream_t *u, sl_uint_t ft)
{
    sl_uint_t state, status, retry, stale;

    if (ft == SL_HTTP_UPSTREAM_FT_TIMEOUT) {
        sl_log_error(SL_LOG_ERR, r->connection->log, ETIMEDOUT, "upstream timed out");
    }

    /*
     * A kept-alive connection the upstream closed before answering is no
     * failure of the peer: try a fresh connection without using up a try.
     */
    stale = u->peer.cached && ft == SL_HTTP_UPSTREAM_FT_ERROR && u->cur_state->bytes_received == 0
            && !u->response_received;

    switch (ft) {
    case SL_HTTP_UPSTREAM_FT_TIMEOUT:
        status = SL_HTTP_GATEWAY_TIME_OUT;
        break;
    case SL_HTTP_UPSTREAM_FT_HTTP_500:
        status = SL_HTTP_INTERNAL_SERVER_ERROR;
        break;
    case SL_HTTP_UPSTREAM_FT_HTTP_503:
        status = SL_HTTP_SERVICE_UNAVAILABLE;
        break;
    case SL_HTTP_UPSTREAM_FT_HTTP_504:
        status = SL_HTTP_GATEWAY_TIME_OUT;
        break;
    case SL_HTTP_UPSTREAM_FT_HTTP_403:
        status = SL_HTTP_FORBIDDEN;
        break;
    case SL_HTTP_UPSTREAM_FT_HTTP_404:
        status = SL_HTTP_NOT_FOUND;
        break;
    case SL_HTTP_UPSTREAM_FT_HTTP_429:
        status = SL_HTTP_TOO_MANY_REQUESTS;
        break;
    default:
        status = SL_HTTP_BAD_GATEWAY;
    }

    retry = sl_http_upstream_may_retry(r, u, ft, stale);

    if (stale && retry) {
        /* the peer is not told: the next attempt is the same choice, reconnected */
        u->reconnect = 1;

        if (u->peer.connection->read->timer_set) {
            sl_event_del_timer(u->peer.connection->read);
        }

        if (u->peer.connection->write->timer_set) {
            sl_event_del_timer(u->peer.connection->write);
        }

        sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                     "kept-alive upstream connection was closed, retrying on a new one");

    } else if (u->peer.sockaddr != NULL && !u->peer_freed && ft != SL_HTTP_UPSTREAM_FT_NOLIVE) {
        if (ft == SL_HTTP_UPSTREAM_FT_HTTP_403 || ft == SL_HTTP_UPSTREAM_FT_HTTP_404) {
            state = SL_PEER_NEXT;
        } else {
            state = SL_PEER_FAILED;
        }

        u->keepalive = 0;

        if (u->peer.connection != NULL) {
            if (u->peer.connection->read->timer_set) {
                sl_event_del_timer(u->peer.connection->read);
            }

            if (u->peer.connection->write->timer_set) {
                sl_event_del_timer(u->peer.connection->write);
            }
        }

        u->peer.free(&u->peer, u->peer.data, state);
        u->peer_freed = 1;
    }

    if (u->peer.connection != NULL) {
        sl_close_connection(u->peer.connection);
        u->peer.connection = NULL;
    }

    sl_http_upstream_end_attempt(u);

    if (u->cur_state->status == 0 || ft == SL_HTTP_UPSTREAM_FT_INVALID_HEADER
        || ft == SL_HTTP_UPSTREAM_FT_TIMEOUT || ft == SL_HTTP_UPSTREAM_FT_ERROR) {
        u->cur_state->status = status;
    }

    if (r->connection->error) {
        sl_http_upstream_finalize(r, u, SL_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }

    if (!retry || (u->peer.tries == 0 && !u->reconnect) || ft == SL_HTTP_UPSTREAM_FT_NOLIVE) {
        sl_http_upstream_finalize(r, u, status);
        return;
    }

    /* start over: a clean response state, the request built afresh */
    u->request_sent = 0;
    u->request_body_sent = 0;
    u->response_received = 0;
    u->peer.cached = 0;
    u->request_out = NULL;
    u->upgrade = 0;
    u->keepalive = 0;
    u->length = -1;

    if (u->buffer.start != NULL) {
        u->buffer.pos = u->buffer.start;
        u->buffer.last = u->buffer.start;

        if (sl_list_init(&u->headers_in.headers, r->pool, 8, sizeof(sl_table_elt_t)) != SL_OK) {
            sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    u->headers_in.status_n = 0;
    sl_str_null(&u->headers_in.status_line);
    u->headers_in.content_length = NULL;
    u->headers_in.transfer_encoding = NULL;
    u->headers_in.connection = NULL;
    u->headers_in.location = NULL;
    u->headers_in.upgrade = NULL;
    u->headers_in.content_length_n = -1;
    u->headers_in.connection_close = 0;
    u->headers_in.chunked = 0;

    if (u->reinit_request(r) != SL_OK || u->create_request(r) != SL_OK) {
        sl_http_upstream_finalize(r, u, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    sl_http_upstream_connect(r, u);
}


/* Events ------------------------------------------------------------------------------ */

static void
sl_http_upstream_handler(sl_event_t *ev)
{
    sl_connection_t *c, *cc;
    sl_http_request_t *r;
    sl_http_upstream_t *u;

    c = ev->data;
    r = c->data;
    u = r->upstream;
    cc = r->connection;

    if (ev->write) {
        u->write_event_handler(r, u);

    } else {
        u->read_event_handler(r, u);
    }

    sl_http_run_posted_requests(cc);
}


/*
 * The client's read event while the upstream works: a pipelined request
 * waits in the socket; only an end of stream (EPOLLRDHUP) is looked at.
 */
static void
sl_http_upstream_check_broken_connection(sl_http_request_t *r)
{
    int n;
    u_char byte;
    sl_err_t err;
    sl_connection_t *c;
    sl_http_upstream_t *u;

    c = r->connection;
    u = r->upstream;

    if (!c->read->pending_eof && !c->read->error) {
        return;
    }

    err = 0;

    if (!c->read->error) {
        n = (int) recv(c->fd, &byte, 1, MSG_PEEK);

        if (n > 0) {
            /* data comes first: the end of stream is for later */
            return;
        }

        if (n == -1) {
            err = errno;

            if (err == EAGAIN || err == EINTR) {
                return;
            }
        }
    }

    c->read->eof = 1;

    if (u->conf->ignore_client_abort && !u->upgrade) {
        r->keepalive = 0;
        return;
    }

    c->error = 1;
    sl_log_error(SL_LOG_INFO, c->log, err, "client prematurely closed connection");

    u->keepalive = 0;
    sl_http_upstream_finalize(r, u, SL_HTTP_CLIENT_CLOSED_REQUEST);
}


/* Finishing ---------------------------------------------------------------------------- */

static void
sl_http_upstream_end_attempt(sl_http_upstream_t *u)
{
    if (u->cur_state != NULL && u->cur_state->response_time == SL_HTTP_UPSTREAM_NO_TIME) {
        u->cur_state->response_time = sl_current_msec - u->start_time;
    }
}


void
sl_http_upstream_release_peer(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_connection_t *c;

    sl_unused(r);

    sl_http_upstream_end_attempt(u);

    c = u->peer.connection;

    if (c != NULL) {
        if (c->read->timer_set) {
            sl_event_del_timer(c->read);
        }

        if (c->write->timer_set) {
            sl_event_del_timer(c->write);
        }

        if (c->read->posted) {
            sl_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            sl_delete_posted_event(c->write);
        }
    }

    if (u->peer.sockaddr != NULL && !u->peer_freed && u->peer.free != NULL) {
        u->peer_freed = 1;
        u->peer.free(&u->peer, u->peer.data, u->keepalive ? SL_PEER_KEEPALIVE : 0);
    }

    if (u->peer.connection != NULL) {
        sl_close_connection(u->peer.connection);
        u->peer.connection = NULL;
    }
}


void
sl_http_upstream_finalize(sl_http_request_t *r, sl_http_upstream_t *u, sl_int_t rc)
{
    sl_chain_t out;
    sl_buf_t *b;

    if (u->finalized) {
        return;
    }

    u->finalized = 1;

    if (u->cleanup != NULL) {
        *u->cleanup = NULL;
        u->cleanup = NULL;
    }

    if (u->body_out != NULL && !u->body_out->done) {
        /* body bytes the client still sends would be read as the next request */
        r->keepalive = 0;
        r->lingering_close = 1;
        u->keepalive = 0;
    }

    sl_http_upstream_release_peer(r, u);

    if (u->finalize_request) {
        u->finalize_request(r, rc);
    }

    r->connection->log->action = "sending to client";

    if (u->header_sent && (rc == SL_ERROR || rc >= SL_HTTP_SPECIAL_RESPONSE)) {
        /* the response has started: it cannot be replaced, only cut */
        r->keepalive = 0;
        sl_http_finalize_request(r, SL_ERROR);
        return;
    }

    if (!u->header_sent || rc != SL_OK) {
        sl_http_finalize_request(r, rc);
        return;
    }

    if (!u->pipe.last_sent) {
        u->pipe.last_sent = 1;

        b = sl_calloc_buf(r->pool);
        if (b == NULL) {
            sl_http_finalize_request(r, SL_ERROR);
            return;
        }

        b->last_buf = 1;
        b->fd = SL_INVALID_FILE;
        out.buf = b;
        out.next = NULL;

        rc = sl_http_output_filter(r, &out);

        if (rc == SL_ERROR) {
            sl_http_finalize_request(r, SL_ERROR);
            return;
        }
    }

    sl_http_finalize_request(r, SL_OK);
}


/* The request ended without us (terminated, client gone): let the upstream go. */
static void
sl_http_upstream_cleanup(void *data)
{
    sl_http_request_t *r = data;
    sl_http_upstream_t *u;

    u = r->upstream;

    if (u == NULL || u->finalized) {
        return;
    }

    u->finalized = 1;

    if (u->cleanup != NULL) {
        *u->cleanup = NULL;
        u->cleanup = NULL;
    }

    if (!u->pipe.upstream_done) {
        u->keepalive = 0;
    }

    sl_http_upstream_release_peer(r, u);
}
