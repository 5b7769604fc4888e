/*
 * sl_http_request.c: an HTTP/1.x connection from accept to close. Reads
 * and parses the request line and headers in place, checks them strictly,
 * chooses the virtual server, runs the phases, and after the response
 * either keeps the connection alive (pipelined requests are served in
 * order), closes it lingering, or closes it at once.
 *
 * Memory: an idle keep-alive connection holds no pool and no buffer. Header
 * buffers are heap blocks owned by the connection state and freed as soon
 * as the request ends (a pipelined remainder is moved to a fresh buffer).
 */
#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"
#include "sl_http_connection.h"

static void sl_http_process_request_headers(sl_event_t *rev);
static ssize_t sl_http_read_request_header(sl_http_request_t *r);
static sl_int_t sl_http_alloc_large_header_buffer(sl_http_request_t *r, sl_uint_t request_line);
static sl_int_t sl_http_process_request_uri(sl_http_request_t *r);
static void sl_http_process_request(sl_http_request_t *r);
static void sl_http_request_handler(sl_event_t *ev);
static void sl_http_terminate_request(sl_http_request_t *r, sl_int_t rc);
static void sl_http_writer(sl_http_request_t *r);
static u_char *sl_http_log_error(sl_log_t *log, u_char *buf, size_t len);
static void sl_http_block_reading(sl_http_request_t *r);

/* The write handler of a connection without a request: writability means nothing. */
void
sl_http_empty_handler(sl_event_t *ev)
{
    sl_unused(ev);
}



/* Accept ------------------------------------------------------------------ */

static sl_http_addr_conf_t *
sl_http_find_addr_conf(sl_connection_t *c)
{
    sl_uint_t i;
    sl_sockaddr_t local;
    socklen_t len;
    sl_http_port_t *port;

    port = c->listening->servers;
    if (port->naddrs == 1) {
        return &port->addrs[0].conf;
    }

    /* a wildcard socket serving several addresses: which one was dialled */
    len = sizeof(local);
    if (getsockname(c->fd, &local.sa, &len) == -1) {
        sl_connection_error(c, sl_socket_errno, "getsockname() failed");
        return NULL;
    }
    for (i = 0; i < port->naddrs - 1; i++) {
        if (sl_cmp_sockaddr(&local.sa, len, &port->addrs[i].sockaddr.sa,
                            port->addrs[i].socklen, 0) == SL_OK) {
            return &port->addrs[i].conf;
        }
    }
    return &port->addrs[port->naddrs - 1].conf;
}

void
sl_http_init_connection(sl_connection_t *c)
{
    sl_event_t *rev;
    sl_http_addr_conf_t *addr_conf;
    sl_http_core_srv_conf_t *cscf;

    sl_http_headers_in_init();

    addr_conf = sl_http_find_addr_conf(c);
    if (addr_conf == NULL) {
        sl_close_connection(c);
        return;
    }

    c->data = addr_conf;
    c->log_error = SL_ERROR_INFO;

    rev = c->read;
    rev->handler = sl_http_wait_request_handler;
    c->write->handler = sl_http_empty_handler;

    cscf = addr_conf->default_server;
    sl_event_add_timer(rev, cscf->client_header_timeout);
    sl_reusable_connection(c, 1);

    /* no request yet: a graceful stop treats it as an idle keep-alive connection */
    c->idle = 1;

    if (rev->ready) {
        sl_http_wait_request_handler(rev);
    }
}

/* Creates the busy-connection state (pool, log); NULL on allocation failure. */
static sl_http_conn_state_t *
sl_http_connection_busy(sl_connection_t *c, sl_http_addr_conf_t *addr_conf)
{
    sl_http_conn_state_t *cs;

    c->pool = sl_create_pool(addr_conf->default_server->connection_pool_size, c->log);
    if (c->pool == NULL) {
        return NULL;
    }
    cs = sl_pcalloc(c->pool, sizeof(sl_http_conn_state_t));
    if (cs == NULL) {
        sl_destroy_pool(c->pool);
        c->pool = NULL;
        return NULL;
    }
    cs->addr_conf = addr_conf;
    cs->hc.addr_conf = addr_conf;
    cs->hc.conf_ctx = addr_conf->default_server->ctx;

    cs->log = *c->listening->logp;
    cs->log.connection = c->number;
    cs->log.handler = sl_http_log_error;
    cs->log.data = cs;
    cs->log.action = "reading client request line";
    c->log = &cs->log;
    c->read->log = c->log;
    c->write->log = c->log;
    return cs;
}

/* Returns the connection to the idle state: no pool, no buffer. */
void
sl_http_connection_idle(sl_connection_t *c, sl_http_addr_conf_t *addr_conf)
{
    if (c->buffer) {
        sl_free(c->buffer);
        c->buffer = NULL;
    }
    if (c->pool) {
        sl_destroy_pool(c->pool);
        c->pool = NULL;
    }
    c->log = c->listening->logp;
    c->read->log = c->log;
    c->write->log = c->log;
    c->data = addr_conf;
}

/* A buffer of size bytes in one heap block (header and data). */
static sl_buf_t *
sl_http_alloc_header_buf(size_t size, sl_log_t *log)
{
    sl_buf_t *b;

    b = sl_alloc(sizeof(sl_buf_t) + size, log);
    if (b == NULL) {
        return NULL;
    }
    sl_memzero(b, sizeof(sl_buf_t));
    b->start = (u_char *) (b + 1);
    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + size;
    b->temporary = 1;
    return b;
}

sl_http_conn_state_t *
sl_http_conn_state(sl_connection_t *c)
{
    return (sl_http_conn_state_t *) c->log->data;
}

/*
 * Waits for the first bytes of a request (on a new or a keep-alive
 * connection); allocates nothing until bytes are there.
 */
void
sl_http_wait_request_handler(sl_event_t *rev)
{
    ssize_t n;
    size_t size;
    sl_buf_t *b;
    sl_connection_t *c;
    sl_http_addr_conf_t *addr_conf;
    sl_http_request_t *r;
    sl_http_core_srv_conf_t *cscf;

    c = rev->data;

    if (rev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, 0, "client timed out");
        sl_http_close_connection(c);
        return;
    }
    if (c->close) {
        if (sl_http_drain_idle(c)) {
            sl_http_drain_idle_handler(rev);
            return;
        }
        sl_http_close_connection(c);
        return;
    }

    addr_conf = c->data;
    cscf = addr_conf->default_server;
    size = cscf->client_header_buffer_size;

    /* a spurious wake-up frees the buffer again below (cheaper than a peek) */
    if (c->buffer == NULL) {
        c->buffer = sl_http_alloc_header_buf(size, c->log);
        if (c->buffer == NULL) {
            sl_http_close_connection(c);
            return;
        }
    }

    b = c->buffer;
    n = c->recv(c, b->last, b->end - b->last);

    if (n == SL_AGAIN) {
        if (b->pos == b->last) {
            /* nothing after all: drop the buffer again */
            sl_free(c->buffer);
            c->buffer = NULL;
        }
        return;
    }
    if (n == SL_ERROR) {
        sl_http_close_connection(c);
        return;
    }
    if (n == 0) {
        sl_log_error(SL_LOG_INFO, c->log, 0, "client closed connection");
        sl_http_close_connection(c);
        return;
    }
    b->last += n;

    sl_reusable_connection(c, 0);
    c->idle = 0;
    if (c->requests || sl_exiting) {
        /*
         * A keep-alive connection: the header timeout starts with the first
         * byte. So it does when a stopping worker's drain grace was armed.
         */
        sl_event_add_timer(rev, cscf->client_header_timeout);
    }

    if (sl_http_connection_busy(c, addr_conf) == NULL) {
        sl_http_close_connection(c);
        return;
    }

    r = sl_http_create_request(c);
    if (r == NULL) {
        sl_http_close_connection(c);
        return;
    }

    rev->handler = sl_http_process_request_line;
    sl_http_process_request_line(rev);
}

sl_http_request_t *
sl_http_create_request(sl_connection_t *c)
{
    sl_pool_t *pool;
    sl_http_request_t *r;
    sl_http_conn_state_t *cs;
    sl_http_core_srv_conf_t *cscf;
    sl_http_core_main_conf_t *cmcf;
    sl_http_conf_ctx_t *ctx;
    sl_time_t *tp;

    cs = sl_http_conn_state(c);
    cscf = cs->addr_conf->default_server;
    ctx = cscf->ctx;

    pool = sl_create_pool(cscf->request_pool_size, c->log);
    if (pool == NULL) {
        return NULL;
    }
    r = sl_pcalloc(pool, sizeof(sl_http_request_t));
    if (r == NULL) {
        sl_destroy_pool(pool);
        return NULL;
    }

    r->pool = pool;
    r->signature = SL_HTTP_REQUEST_SIGNATURE;
    r->connection = c;
    r->http_connection = &cs->hc;
    r->main_conf = ctx->main_conf;
    r->srv_conf = ctx->srv_conf;
    r->loc_conf = ctx->loc_conf;
    r->header_in = c->buffer;
    r->read_event_handler = sl_http_block_reading;
    r->write_event_handler = sl_http_block_reading;
    c->write->handler = sl_http_request_handler;

    r->ctx = sl_pcalloc(pool, sizeof(void *) * sl_http_max_module);
    if (r->ctx == NULL) {
        goto failed;
    }

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
    r->variables = sl_pcalloc(pool, cmcf->variables.nelts * sizeof(sl_http_variable_value_t)
                                        + sizeof(sl_http_variable_value_t));
    if (r->variables == NULL) {
        goto failed;
    }

    if (sl_list_init(&r->headers_in.headers, pool, 16, sizeof(sl_table_elt_t)) != SL_OK
        || sl_list_init(&r->headers_out.headers, pool, 8, sizeof(sl_table_elt_t)) != SL_OK) {
        goto failed;
    }

    r->headers_in.content_length_n = -1;
    r->headers_in.keep_alive_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    r->main = r;
    r->count = 1;
    r->uri_changes = SL_HTTP_MAX_URI_CHANGES + 1;
    r->http_state = SL_HTTP_READING_REQUEST_STATE;

    tp = sl_timeofday();
    r->start_sec = tp->sec;
    r->start_msec = tp->msec;

    c->data = r;
    c->requests++;
    c->sent = 0; /* $bytes_sent and $body_bytes_sent count this request only */
    cs->request = r;

    return r;

failed:
    sl_destroy_pool(pool);
    return NULL;
}

/* Reading the header ------------------------------------------------------ */

static ssize_t
sl_http_read_request_header(sl_http_request_t *r)
{
    ssize_t n;
    sl_event_t *rev;
    sl_connection_t *c;
    sl_http_core_srv_conf_t *cscf;

    c = r->connection;
    rev = c->read;

    n = r->header_in->last - r->header_in->pos;
    if (n > 0) {
        return n;
    }

    if (rev->ready) {
        n = c->recv(c, r->header_in->last, r->header_in->end - r->header_in->last);
    } else {
        n = SL_AGAIN;
    }

    if (n == SL_AGAIN) {
        if (!rev->timer_set) {
            cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);
            sl_event_add_timer(rev, cscf->client_header_timeout);
        }
        return SL_AGAIN;
    }

    if (n == 0) {
        sl_log_error(SL_LOG_INFO, c->log, 0, "client prematurely closed connection");
    }

    if (n == 0 || n == SL_ERROR) {
        c->error = 1;
        c->log->action = "reading client request headers";
        sl_http_finalize_request(r, SL_HTTP_BAD_REQUEST);
        return SL_ERROR;
    }

    r->header_in->last += n;
    return n;
}

void
sl_http_reject(sl_http_request_t *r, sl_int_t status, const char *why)
{
    sl_log_error(SL_LOG_INFO, r->connection->log, 0, "%s", why);
    r->keepalive = 0;
    r->lingering_close = 1;
    sl_http_finalize_request(r, status);
}

void
sl_http_process_request_line(sl_event_t *rev)
{
    u_char *p;
    ssize_t n;
    sl_int_t rc;
    sl_connection_t *c;
    sl_http_request_t *r;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        sl_http_close_request(r, SL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = SL_AGAIN;

    for (;;) {
        if (rc == SL_AGAIN) {
            n = sl_http_read_request_header(r);
            if (n == SL_AGAIN || n == SL_ERROR) {
                break;
            }
        }

        p = r->header_in->pos;
        rc = sl_http_parse_request_line(&r->parse, r->header_in);
        r->request_length += r->header_in->pos - p;

        if (rc == SL_OK) {
            r->request_line.data = r->parse.request_start;
            r->request_line.len = r->parse.request_end - r->parse.request_start;
            r->method = r->parse.method;
            r->method_name.data = r->parse.request_start;
            r->method_name.len = r->parse.method_end - r->parse.request_start;
            r->http_protocol.data = r->parse.http_protocol_start;
            r->http_protocol.len = r->parse.request_end - r->parse.http_protocol_start;
            r->http_version = r->parse.http_major * 1000
                              + (r->parse.http_minor > 1 ? 1 : r->parse.http_minor);
            if (r->parse.schema_start) {
                r->schema.data = r->parse.schema_start;
                r->schema.len = r->parse.schema_end - r->parse.schema_start;
            }

            if (sl_http_process_request_uri(r) != SL_OK) {
                break;
            }

            if (r->parse.host_start && r->parse.host_end) {
                /* absolute-form: the target's host chooses the server, not Host (RFC 9112 3.2.2) */
                sl_str_t host;
                host.data = r->parse.host_start;
                host.len = r->parse.host_end - r->parse.host_start;
                rc = sl_http_validate_host(&host, r->pool);
                if (rc == SL_DECLINED) {
                    sl_http_reject(r, SL_HTTP_BAD_REQUEST,
                                   "client sent invalid host in request line");
                    break;
                }
                if (rc != SL_OK || sl_http_set_virtual_server(r, &host) != SL_OK) {
                    if (rc != SL_OK) {
                        sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
                    }
                    break;
                }
                r->headers_in.server = host;
            }

            c->log->action = "reading client request headers";
            rev->handler = sl_http_process_request_headers;
            sl_http_process_request_headers(rev);
            break;
        }

        if (rc == SL_AGAIN) {
            if (r->header_in->pos == r->header_in->end
                && sl_http_parse_before_request(&r->parse)) {
                /*
                 * Nothing but empty lines so far: drop them and read on in
                 * the same buffer, as nginx does. client_header_timeout,
                 * counted from the first byte, bounds how long that lasts.
                 */
                r->header_in->pos = r->header_in->start;
                r->header_in->last = r->header_in->start;
                continue;
            }
            if (r->header_in->pos == r->header_in->end) {
                rc = sl_http_alloc_large_header_buffer(r, 1);
                if (rc == SL_ERROR) {
                    sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
                    break;
                }
                if (rc == SL_DECLINED) {
                    r->request_line.len = r->header_in->end - r->parse.request_start;
                    r->request_line.data = r->parse.request_start;
                    sl_http_reject(r, SL_HTTP_REQUEST_URI_TOO_LARGE, "client sent too long URI");
                    break;
                }
                rc = SL_AGAIN;
            }
            continue;
        }

        /* a malformed line */
        if (r->parse.request_start && r->parse.request_start < r->header_in->pos) {
            /* a complete line (505, CONNECT) without its line end; else up to the bad byte */
            r->request_line.data = r->parse.request_start;
            r->request_line.len = (r->parse.request_end > r->parse.request_start
                                       ? r->parse.request_end
                                       : r->header_in->pos)
                                  - r->parse.request_start;
        }
        if (rc == SL_HTTP_PARSE_INVALID_VERSION) {
            sl_http_reject(r, SL_HTTP_VERSION_NOT_SUPPORTED, "client sent unsupported HTTP version");
        } else if (rc == SL_HTTP_PARSE_INVALID_METHOD) {
            sl_http_reject(r, SL_HTTP_NOT_ALLOWED, "client sent CONNECT method");
        } else {
            sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent invalid request");
        }
        break;
    }

    sl_http_run_posted_requests(c);
}

/* Decodes and normalises the path; splits args and extension. */
static sl_int_t
sl_http_process_request_uri(sl_http_request_t *r)
{
    u_char *path_end;
    size_t len;
    sl_http_core_srv_conf_t *cscf;

    r->unparsed_uri.data = r->parse.uri_start;
    r->unparsed_uri.len = r->parse.uri_end - r->parse.uri_start;
    r->valid_unparsed_uri = 1;

    path_end = r->parse.args_start ? r->parse.args_start - 1 : r->parse.uri_end;

    if (r->parse.args_start) {
        r->args.data = r->parse.args_start;
        r->args.len = r->parse.uri_end - r->parse.args_start;
    }

    if (r->parse.empty_path_in_uri) {
        sl_str_set(&r->uri, "/");
    } else if (r->parse.complex_uri || r->parse.quoted_uri) {
        cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);
        len = path_end - r->parse.uri_start;
        r->uri.data = sl_pnalloc(r->pool, len ? len : 1);
        if (r->uri.data == NULL) {
            sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
            return SL_ERROR;
        }
        if (sl_http_normalize_uri(r->parse.uri_start, len, r->uri.data, &r->uri.len,
                                  cscf->merge_slashes ? SL_HTTP_MERGE_SLASHES : 0)
            != SL_OK) {
            r->uri.len = 0;
            sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent invalid request URI");
            return SL_ERROR;
        }
    } else {
        r->uri.data = r->parse.uri_start;
        r->uri.len = path_end - r->parse.uri_start;
    }

    if (r->uri.len == 0 || r->uri.data[0] != '/') {
        /* asterisk-form: "OPTIONS *" */
        if (r->uri.len == 1 && r->uri.data[0] == '*') {
            return SL_OK;
        }
        sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent invalid request URI");
        return SL_ERROR;
    }

    r->plus_in_uri = r->parse.plus_in_uri;

    for (size_t i = r->uri.len; i > 0; i--) {
        if (r->uri.data[i - 1] == '/') {
            break;
        }
        if (r->uri.data[i - 1] == '.') {
            r->exten.data = &r->uri.data[i];
            r->exten.len = r->uri.len - i;
            break;
        }
    }

    return SL_OK;
}

/*
 * True when the header just parsed should be ignored: with
 * ignore_invalid_headers on, a name with a byte other than a letter, a
 * digit, '-' (or '_' with underscores_in_headers on). The parser already
 * refused names that are not HTTP tokens at all.
 */
static sl_uint_t
sl_http_header_name_is_unusual(sl_http_request_t *r, sl_http_core_srv_conf_t *cscf)
{
    u_char *p, ch;

    if (!cscf->ignore_invalid_headers) {
        return 0;
    }
    for (p = r->parse.header_name_start; p < r->parse.header_name_end; p++) {
        ch = *p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
            || ch == '-' || (ch == '_' && cscf->underscores_in_headers)) {
            continue;
        }
        return 1;
    }
    return 0;
}

static void
sl_http_process_request_headers(sl_event_t *rev)
{
    u_char *p;
    ssize_t n;
    sl_int_t rc, rv;
    sl_table_elt_t *h;
    sl_connection_t *c;
    sl_http_request_t *r;
    sl_http_core_srv_conf_t *cscf;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        sl_http_close_request(r, SL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);
    rc = SL_AGAIN;

    for (;;) {
        if (rc == SL_AGAIN) {
            if (r->header_in->pos == r->header_in->end) {
                rv = sl_http_alloc_large_header_buffer(r, 0);
                if (rv == SL_ERROR) {
                    sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
                    break;
                }
                if (rv == SL_DECLINED) {
                    sl_http_reject(r, SL_HTTP_REQUEST_HEADER_TOO_LARGE,
                                   "client sent too long header line");
                    break;
                }
            }
            n = sl_http_read_request_header(r);
            if (n == SL_AGAIN || n == SL_ERROR) {
                break;
            }
        }

        p = r->header_in->pos;
        rc = sl_http_parse_header_line(&r->parse, r->header_in, 1);
        r->request_length += r->header_in->pos - p;

        if (rc == SL_OK) {

            if (sl_http_header_name_is_unusual(r, cscf)) {
                /* nginx's "invalid" names: legal tokens, but not letters, digits and '-' */
                sl_log_error(SL_LOG_INFO, c->log, 0, "client sent invalid header: \"%*s\"",
                             (size_t) (r->parse.header_end - r->parse.header_name_start),
                             r->parse.header_name_start);
                continue;
            }

            h = sl_list_push(&r->headers_in.headers);
            if (h == NULL) {
                sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
                break;
            }

            h->hash = r->parse.header_hash;
            h->key.data = r->parse.header_name_start;
            h->key.len = r->parse.header_name_end - r->parse.header_name_start;
            h->value.data = r->parse.header_start;
            h->value.len = r->parse.header_end - r->parse.header_start;
            h->next = NULL;

            h->lowcase_key = sl_pnalloc(r->pool, h->key.len);
            if (h->lowcase_key == NULL) {
                sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
                break;
            }
            if (h->key.len == r->parse.lowcase_index) {
                sl_memcpy(h->lowcase_key, r->parse.lowcase_header, h->key.len);
            } else {
                sl_strlow(h->lowcase_key, h->key.data, h->key.len);
            }

            if (sl_http_handle_header_line(r, h) != SL_OK) {
                break;
            }
            continue;
        }

        if (rc == SL_HTTP_PARSE_HEADER_DONE) {
            r->http_state = SL_HTTP_PROCESS_REQUEST_STATE;

            if (sl_http_process_request_header(r) != SL_OK) {
                break;
            }
            sl_http_process_request(r);
            break;
        }

        if (rc == SL_AGAIN) {
            continue;
        }

        /* SL_HTTP_PARSE_INVALID_HEADER */
        p = r->header_in->pos;
        sl_log_error(SL_LOG_INFO, c->log, 0, "client sent invalid header line at byte 0x%02xd",
                     (int) (p < r->header_in->last ? *p : 0));
        r->keepalive = 0;
        r->lingering_close = 1;
        sl_http_finalize_request(r, SL_HTTP_BAD_REQUEST);
        break;
    }

    sl_http_run_posted_requests(c);
}

/*
 * Moves the partial request line or header line into a large header
 * buffer. Returns SL_OK, SL_DECLINED when the item would not fit even in a
 * large buffer or all large buffers are used, SL_ERROR on allocation failure.
 */
static sl_int_t
sl_http_alloc_large_header_buffer(sl_http_request_t *r, sl_uint_t request_line)
{
    u_char *old;
    size_t keep;
    sl_buf_t *b;
    sl_http_conn_state_t *cs;
    sl_http_core_srv_conf_t *cscf;

    cs = sl_http_conn_state(r->connection);
    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);

    old = sl_http_parse_pending(&r->parse);
    if (old == NULL) {
        old = r->header_in->pos;
    }
    keep = r->header_in->pos - old;

    if (keep >= cscf->large_client_header_buffers.size
        || cs->nlarge >= (sl_uint_t) cscf->large_client_header_buffers.num
        || cs->nlarge >= sl_nelts(cs->large)) {
        return SL_DECLINED;
    }
    if (request_line && r->header_in->start != r->connection->buffer->start) {
        /* the request line already had a large buffer of its own */
        return SL_DECLINED;
    }

    b = sl_http_alloc_header_buf(cscf->large_client_header_buffers.size, r->connection->log);
    if (b == NULL) {
        return SL_ERROR;
    }
    cs->large[cs->nlarge++] = b;

    sl_memcpy(b->start, old, keep);
    b->pos = b->start + keep;
    b->last = b->pos;
    sl_http_parse_relocate(&r->parse, old, b->start);

    r->header_in = b;
    return SL_OK;
}

/* Virtual servers ------------------------------------------------------------ */

sl_int_t
sl_http_find_virtual_server(sl_connection_t *c, sl_http_virtual_names_t *vn, sl_str_t *host,
                            sl_http_request_t *r, sl_http_core_srv_conf_t **cscfp)
{
    sl_uint_t i, key;
    sl_int_t rc;
    sl_http_core_srv_conf_t *cscf;

    sl_unused(c);

    if (vn == NULL) {
        return SL_DECLINED;
    }

    key = sl_hash_key(host->data, host->len);
    cscf = sl_hash_find_combined(&vn->names, key, host->data, host->len);
    if (cscf) {
        *cscfp = cscf;
        return SL_OK;
    }

    for (i = 0; i < vn->nregex; i++) {
        rc = sl_http_regex_exec(r, vn->regex[i].regex, host);
        if (rc == SL_DECLINED) {
            continue;
        }
        if (rc == SL_OK) {
            *cscfp = vn->regex[i].server;
            return SL_OK;
        }
        return SL_ERROR;
    }

    return SL_DECLINED;
}

sl_int_t
sl_http_set_virtual_server(sl_http_request_t *r, sl_str_t *host)
{
    sl_int_t rc;
    sl_http_conn_state_t *cs;
    sl_http_core_srv_conf_t *cscf;

    cs = sl_http_conn_state(r->connection);

    rc = sl_http_find_virtual_server(r->connection, cs->addr_conf->virtual_names, host, r, &cscf);
    if (rc == SL_ERROR) {
        sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return SL_ERROR;
    }
    if (rc == SL_DECLINED) {
        return SL_OK; /* the default server */
    }

    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;
    return SL_OK;
}

/* Processing ---------------------------------------------------------------- */

static void
sl_http_block_reading(sl_http_request_t *r)
{
    sl_unused(r);
    /* edge-triggered: the event is simply not acted on until someone reads */
}

static void
sl_http_process_request(sl_http_request_t *r)
{
    sl_connection_t *c;
    sl_http_core_loc_conf_t *clcf;

    c = r->connection;

    if (c->read->timer_set) {
        sl_event_del_timer(c->read);
    }

    c->log->action = "processing client request";
    c->read->handler = sl_http_request_handler;
    c->write->handler = sl_http_request_handler;
    r->read_event_handler = sl_http_block_reading;

    /* keep-alive by version and Connection, and never while the worker stops */
    if (r->http_version >= SL_HTTP_VERSION_11) {
        r->keepalive = r->headers_in.connection_type != SL_HTTP_CONNECTION_CLOSE;
    } else {
        r->keepalive = r->headers_in.connection_type == SL_HTTP_CONNECTION_KEEP_ALIVE;
    }
    if (sl_exiting) {
        r->keepalive = 0;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    if (clcf->tcp_nodelay) {
        (void) sl_tcp_nodelay(c);
    }

    sl_http_handler(r);
}

static void
sl_http_request_handler(sl_event_t *ev)
{
    sl_connection_t *c;
    sl_http_request_t *r;

    c = ev->data;
    r = c->data;

    if (c->close) {
        /* worker_shutdown_timeout passed: the request ends here, and is logged */
        sl_http_terminate_request(r, 0);
        sl_http_run_posted_requests(c);
        return;
    }

    if (ev->write) {
        r->write_event_handler(r);
    } else {
        r->read_event_handler(r);
    }

    sl_http_run_posted_requests(c);
}

void
sl_http_run_posted_requests(sl_connection_t *c)
{
    sl_http_request_t *r;
    sl_http_conn_state_t *cs;

    /* the connection state exists only while the connection is busy */
    if (c->destroyed || c->pool == NULL) {
        return;
    }

    cs = sl_http_conn_state(c);
    r = cs->posted;
    if (r == NULL) {
        return;
    }
    cs->posted = NULL;
    r->write_event_handler(r);
}

sl_http_cleanup_t *
sl_http_cleanup_add(sl_http_request_t *r, size_t size)
{
    sl_http_cleanup_t *cln;

    cln = sl_palloc(r->pool, sizeof(sl_http_cleanup_t));
    if (cln == NULL) {
        return NULL;
    }
    if (size) {
        cln->data = sl_palloc(r->pool, size);
        if (cln->data == NULL) {
            return NULL;
        }
    } else {
        cln->data = NULL;
    }
    cln->handler = NULL;
    cln->next = r->cleanup;
    r->cleanup = cln;
    return cln;
}

/* Finalising ---------------------------------------------------------------- */

void
sl_http_finalize_request(sl_http_request_t *r, sl_int_t rc)
{
    sl_connection_t *c;
    sl_http_core_loc_conf_t *clcf;

    c = r->connection;

    if (rc == SL_DONE) {
        sl_http_finalize_connection(r);
        return;
    }

    if (rc == SL_OK && r->done) {
        /* already finalised once (e.g. a handler finished after its output) */
        sl_http_finalize_connection(r);
        return;
    }

    if (rc == SL_DECLINED) {
        r->content_handler = NULL;
        r->write_event_handler = sl_http_core_run_phases;
        sl_http_core_run_phases(r);
        return;
    }

    if (rc == SL_ERROR || rc == SL_HTTP_REQUEST_TIME_OUT || rc == SL_HTTP_CLIENT_CLOSED_REQUEST
        || rc == SL_HTTP_CLOSE || c->error) {
        sl_http_terminate_request(r, rc);
        return;
    }

    if (rc >= SL_HTTP_SPECIAL_RESPONSE || rc == SL_HTTP_CREATED || rc == SL_HTTP_NO_CONTENT) {
        if (c->read->timer_set) {
            sl_event_del_timer(c->read);
        }
        if (c->write->timer_set) {
            sl_event_del_timer(c->write);
        }
        sl_http_finalize_request(r, sl_http_special_response_handler(r, rc));
        return;
    }

    /* rc is SL_OK or SL_AGAIN: the response may still be on its way out */
    if (r->out || r->buffered || rc == SL_AGAIN) {
        if (!r->header_sent && rc == SL_AGAIN && r->out == NULL) {
            /* a handler is waiting for something; it will finalise later */
            return;
        }
        r->write_event_handler = sl_http_writer;
        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
        if (c->write->ready) {
            /* edge-triggered: no event will come for a socket that is already writable */
            sl_post_event(c->write, &sl_posted_events);
        } else if (!c->write->timer_set) {
            sl_event_add_timer(c->write, clcf->send_timeout);
        }
        return;
    }

    if (c->read->timer_set) {
        sl_event_del_timer(c->read);
    }
    if (c->write->timer_set) {
        sl_event_del_timer(c->write);
    }

    r->done = 1;
    r->read_event_handler = sl_http_block_reading;
    r->write_event_handler = sl_http_block_reading;

    sl_http_finalize_connection(r);
}

static void
sl_http_writer(sl_http_request_t *r)
{
    sl_int_t rc;
    sl_event_t *wev;
    sl_connection_t *c;
    sl_http_core_loc_conf_t *clcf;

    c = r->connection;
    wev = c->write;
    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (wev->timedout) {
        sl_log_error(SL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        sl_http_finalize_request(r, SL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = sl_http_output_filter(r, NULL);

    if (r->out || r->buffered) {
        if (!wev->ready) {
            sl_event_add_timer(wev, clcf->send_timeout);
        } else if (wev->timer_set) {
            sl_event_del_timer(wev);
        }
        if (rc == SL_ERROR) {
            sl_http_finalize_request(r, rc);
        }
        return;
    }

    if (wev->timer_set) {
        sl_event_del_timer(wev);
    }
    r->write_event_handler = sl_http_block_reading;
    sl_http_finalize_request(r, rc == SL_AGAIN ? SL_OK : rc);
}

void
sl_http_finalize_connection(sl_http_request_t *r)
{
    sl_http_core_loc_conf_t *clcf;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (r->main->count > 1) {
        /* someone still holds the request: a body reader or the discarder */
        if (r->discard_body) {
            /* the discard handler takes the read side; it must not wait forever */
            r->read_event_handler = sl_http_discarded_request_body_handler;
            if (r->request_body->discard_deadline == 0) {
                r->request_body->discard_deadline = sl_current_msec + clcf->lingering_time;
            }
            sl_event_add_timer(r->connection->read, clcf->lingering_timeout);
        }
        r->main->count--;
        return;
    }

    if (r->connection->error) {
        sl_http_close_request(r, 0);
        return;
    }

    /*
     * While the worker stops, r->keepalive is still set only when the
     * response header went out before the stop and promised keep-alive: the
     * client may already be sending its next request, so the connection is
     * drained (sl_http_drain_idle), never closed under that request.
     */
    if (!sl_terminate && r->keepalive && clcf->keepalive_timeout > 0) {
        sl_http_set_keepalive(r);
        return;
    }

    if (clcf->lingering_close == SL_HTTP_LINGERING_ALWAYS
        || (clcf->lingering_close == SL_HTTP_LINGERING_ON
            && (r->lingering_close || r->header_in->pos < r->header_in->last
                || r->connection->read->ready))) {
        sl_connection_t *c = r->connection;
        sl_http_free_request(r, 0);
        sl_http_set_lingering_close(c);
        return;
    }

    sl_http_close_request(r, 0);
}

/* Closes a terminated request once nothing up the stack uses it any more. */
static void
sl_http_terminate_handler(sl_http_request_t *r)
{
    r->main->count = 1;
    sl_http_close_request(r, 0);
}

/*
 * Ends a request that cannot go on (a client error, a timeout, 444). The
 * caller may be deep inside an internal redirect or an error page whose
 * outer frames still hold the request, so the request is not freed here:
 * it is posted, and sl_http_run_posted_requests() closes it once the event
 * handler has unwound.
 */
static void
sl_http_terminate_request(sl_http_request_t *r, sl_int_t rc)
{
    sl_http_cleanup_t *cln;
    sl_http_conn_state_t *cs;

    for (cln = r->cleanup; cln; cln = cln->next) {
        if (cln->handler) {
            cln->handler(cln->data);
            cln->handler = NULL;
        }
    }

    if (rc > 0 && r->headers_out.status == 0) {
        r->headers_out.status = rc;
    }

    r->connection->error = 1;
    r->keepalive = 0;
    r->read_event_handler = sl_http_block_reading;
    r->write_event_handler = sl_http_terminate_handler;

    cs = sl_http_conn_state(r->connection);
    cs->posted = r->main;
}

void
sl_http_close_request(sl_http_request_t *r, sl_int_t rc)
{
    sl_connection_t *c;

    c = r->connection;
    r = r->main;

    if (r->count > 1) {
        r->count--;
        return;
    }
    r->count = 0;

    sl_http_free_request(r, rc);
    sl_http_close_connection(c);
}

/* Runs the log phase and releases everything the request owns. */
void
sl_http_free_request(sl_http_request_t *r, sl_int_t rc)
{
    sl_uint_t i, n;
    sl_pool_t *pool;
    sl_http_cleanup_t *cln;
    sl_http_handler_pt *log_handler;
    sl_http_core_main_conf_t *cmcf;
    sl_http_conn_state_t *cs;

    for (cln = r->cleanup; cln; cln = cln->next) {
        if (cln->handler) {
            cln->handler(cln->data);
            cln->handler = NULL;
        }
    }

    if (rc > 0 && (r->headers_out.status == 0 || r->connection->sent == 0)) {
        r->headers_out.status = rc;
    }

    /*
     * Every request that got as far as a status is logged, rejected ones
     * included; a connection that only timed out or closed before sending
     * anything is not a request.
     */
    if (!r->logged
        && (r->http_state != SL_HTTP_READING_REQUEST_STATE || r->headers_out.status != 0
            || (r->request_line.len && rc != SL_HTTP_REQUEST_TIME_OUT))) {
        r->logged = 1;
        r->connection->log->action = "logging request";
        cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
        log_handler = cmcf->phases[SL_HTTP_LOG_PHASE].handlers.elts;
        n = cmcf->phases[SL_HTTP_LOG_PHASE].handlers.nelts;
        for (i = 0; i < n; i++) {
            log_handler[i](r);
        }
    }

    if (r->request_body && r->request_body->temp_fd != SL_INVALID_FILE) {
        close(r->request_body->temp_fd);
        r->request_body->temp_fd = SL_INVALID_FILE;
    }

    if (r->connection->pool) {
        cs = sl_http_conn_state(r->connection);
        if (cs->request == r) {
            cs->request = NULL;
        }
        if (cs->posted == r) {
            cs->posted = NULL;
        }
    }

    r->signature = 0;
    pool = r->pool;
    r->pool = NULL;
    sl_destroy_pool(pool);
}

void
sl_http_free_large_buffers(sl_http_conn_state_t *cs, sl_buf_t *keep)
{
    sl_uint_t i;

    for (i = 0; i < cs->nlarge; i++) {
        if (cs->large[i] != keep) {
            sl_free(cs->large[i]);
        }
    }
    cs->nlarge = 0;
}

void
sl_http_close_connection(sl_connection_t *c)
{
    if (c->pool) {
        sl_http_conn_state_t *cs = sl_http_conn_state(c);
        sl_http_free_large_buffers(cs, NULL);
    }
    if (c->buffer) {
        sl_free(c->buffer);
        c->buffer = NULL;
    }
    if (c->pool) {
        sl_pool_t *pool = c->pool;
        c->pool = NULL;
        c->log = c->listening->logp;
        c->read->log = c->log;
        c->write->log = c->log;
        sl_destroy_pool(pool);
    }
    c->destroyed = 1;
    sl_close_connection(c);
}

/* Log context ---------------------------------------------------------------- */

static u_char *
sl_http_log_error(sl_log_t *log, u_char *buf, size_t len)
{
    u_char *p, *last, text[SL_SOCKADDR_STRLEN];
    size_t n;
    sl_connection_t *c;
    sl_http_request_t *r;
    sl_http_conn_state_t *cs;
    sl_http_core_srv_conf_t *cscf;
    sl_http_upstream_t *u;
    const char *sep;

    p = buf;
    last = buf + len;
    cs = log->data;

    if (log->action) {
        p = sl_slprintf(p, last, " while %s", log->action);
    }

    r = cs->request;
    if (r == NULL || r->signature != SL_HTTP_REQUEST_SIGNATURE) {
        return p;
    }
    c = r->connection;

    n = sl_sock_ntop(&c->sockaddr.sa, c->socklen, text, sizeof(text), 0);
    p = sl_slprintf(p, last, ", client: %*s", n, text);

    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);
    p = sl_slprintf(p, last, ", server: %V", &cscf->server_name);

    if (r->request_line.len) {
        p = sl_slprintf(p, last, ", request: \"%V\"", &r->request_line);
    }

    u = r->upstream;
    if (u != NULL && u->peer.name != NULL) {
        /* a unix socket path is separated from the URI by ':' as in proxy_pass */
        sep = (u->peer.sockaddr != NULL && u->peer.sockaddr->sa_family == AF_UNIX) ? ":" : "";
        p = sl_slprintf(p, last, ", upstream: \"%V%V%s%V\"", &u->schema, u->peer.name, sep,
                        &u->uri);
    }

    if (r->headers_in.host) {
        p = sl_slprintf(p, last, ", host: \"%V\"", &r->headers_in.host->value);
    }

    return p;
}
