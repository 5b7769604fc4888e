/*
 * sl_http_request_body.c: reading a request body (Content-Length or
 * chunked) for a handler that needs it, or discarding it so the connection
 * can be kept alive. A body is held in memory up to client_body_buffer_size
 * and spooled to an unlinked temporary file past it, so its size never
 * grows worker memory. Reading suspends on EAGAIN and resumes on the read
 * event, with client_body_timeout between reads.
 *
 * Reference counting: reading or discarding takes a reference on the
 * request (r->main->count), so a content handler that starts a read returns
 * SL_DONE and the request ends when the body handler finalises it.
 */
#include "sl_core.h"
#include "sl_http.h"

static void sl_http_read_client_request_body_handler(sl_http_request_t *r);
static sl_int_t sl_http_do_read_client_request_body(sl_http_request_t *r);
static sl_int_t sl_http_read_discarded_request_body(sl_http_request_t *r);


void
sl_http_body_keep_rest(sl_http_request_t *r, u_char *pos, u_char *last)
{
    sl_buf_t *b;
    size_t n;

    n = last - pos;
    b = r->header_in;
    if (n == 0) {
        return;
    }
    if (b->pos == b->last && (size_t) (b->end - b->last) >= n) {
        sl_memcpy(b->last, pos, n);
        b->last += n;
        return;
    }
    r->keepalive = 0;
}

/*
 * How much may be read without reading past the body: the rest of a
 * Content-Length body, or the least a chunked body still needs (the
 * parser's hint; "0" LF LF before anything was parsed).
 */
static size_t
sl_http_body_read_size(sl_http_request_t *r, sl_http_request_body_t *rb, size_t size)
{
    off_t need;

    need = r->headers_in.chunked ? (rb->chunked.length ? rb->chunked.length : 3) : rb->rest;
    return need < (off_t) size ? (size_t) need : size;
}

static sl_int_t
sl_http_send_continue(sl_http_request_t *r)
{
    static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t n;

    r->expect_tested = 1;
    if (!r->headers_in.expect_continue) {
        return SL_OK;
    }

    /* the 100 goes out before anything else, so one small write suffices */
    n = r->connection->send(r->connection, (u_char *) continue_line,
                            sizeof(continue_line) - 1);
    if (n == (ssize_t) sizeof(continue_line) - 1) {
        return SL_OK;
    }
    return SL_ERROR;
}

/* Creates and unlinks a temporary file for the body; SL_OK or SL_ERROR. */
static sl_int_t
sl_http_body_temp_file(sl_http_request_t *r, sl_http_request_body_t *rb)
{
    u_char *p;
    size_t len;
    sl_str_t dir;
    static uint32_t seq;
    sl_http_core_loc_conf_t *clcf;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    dir = clcf->client_body_temp_path;
    if (dir.len == 0 || dir.data[0] != '/') {
        if (sl_conf_full_name((sl_cycle_t *) sl_cycle, &dir, 0) != SL_OK) {
            return SL_ERROR;
        }
    }

    len = dir.len + sizeof("/0000000000.0000000000");
    rb->temp_path.data = sl_pnalloc(r->pool, len);
    if (rb->temp_path.data == NULL) {
        return SL_ERROR;
    }

    for (int attempt = 0; attempt < 16; attempt++) {
        p = sl_slprintf(rb->temp_path.data, rb->temp_path.data + len - 1, "%V/%010ud.%010ud",
                        &dir, (unsigned) getpid(), (unsigned) ++seq);
        *p = '\0';
        rb->temp_path.len = p - rb->temp_path.data;

        rb->temp_fd = open((char *) rb->temp_path.data, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
                           0600);
        if (rb->temp_fd != -1) {
            /* nobody else needs its name: it disappears with the fd */
            (void) unlink((char *) rb->temp_path.data);
            return SL_OK;
        }
        if (errno == ENOENT && attempt == 0) {
            if (mkdir((char *) dir.data, 0700) == -1 && errno != EEXIST) {
                break;
            }
            continue;
        }
        if (errno != EEXIST) {
            break;
        }
    }

    sl_log_error(SL_LOG_CRIT, r->connection->log, errno,
                 "open() \"%V\" failed for a client request body", &rb->temp_path);
    rb->temp_fd = SL_INVALID_FILE;
    return SL_ERROR;
}

/* Moves the memory buffer's contents to the temporary file. */
static sl_int_t
sl_http_body_spool(sl_http_request_t *r, sl_http_request_body_t *rb)
{
    ssize_t n;
    sl_buf_t *b;

    b = rb->buf;
    if (rb->temp_fd == SL_INVALID_FILE && sl_http_body_temp_file(r, rb) != SL_OK) {
        return SL_ERROR;
    }

    while (b->pos < b->last) {
        n = write(rb->temp_fd, b->pos, b->last - b->pos);
        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }
            sl_log_error(SL_LOG_CRIT, r->connection->log, errno,
                         "write() to client body temporary file failed");
            return SL_ERROR;
        }
        b->pos += n;
    }

    b->pos = b->start;
    b->last = b->start;
    return SL_OK;
}

/* Appends size body bytes from src; spools the buffer when it fills. */
static sl_int_t
sl_http_body_append(sl_http_request_t *r, sl_http_request_body_t *rb, u_char *src, size_t size)
{
    size_t n;

    while (size) {
        if (rb->buf->last == rb->buf->end && sl_http_body_spool(r, rb) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
        n = sl_min(size, (size_t) (rb->buf->end - rb->buf->last));
        sl_memcpy(rb->buf->last, src, n);
        rb->buf->last += n;
        src += n;
        size -= n;
        rb->received += n;
    }
    return SL_OK;
}

/*
 * Consumes input bytes in [b->pos, b->last) as body: plain up to rb->rest,
 * or through the chunked parser. Returns SL_OK when the body is complete,
 * SL_AGAIN for more, or an HTTP status.
 */
static sl_int_t
sl_http_body_consume(sl_http_request_t *r, sl_http_request_body_t *rb, sl_buf_t *b)
{
    size_t n;
    sl_int_t rc;
    sl_http_core_loc_conf_t *clcf;

    if (!r->headers_in.chunked) {
        n = sl_min((off_t) (b->last - b->pos), rb->rest);
        rc = sl_http_body_append(r, rb, b->pos, n);
        if (rc != SL_OK) {
            return rc;
        }
        b->pos += n;
        rb->rest -= n;
        return rb->rest == 0 ? SL_OK : SL_AGAIN;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    for (;;) {
        rc = sl_http_parse_chunked(&rb->chunked, b);

        if (rc == SL_OK) {
            n = sl_min((off_t) (b->last - b->pos), rb->chunked.size);
            if (clcf->client_max_body_size
                && clcf->client_max_body_size - rb->received < rb->chunked.size) {
                sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                             "client intended to send too large chunked body: %O+%O bytes",
                             rb->received, rb->chunked.size);
                r->lingering_close = 1;
                return SL_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            rc = sl_http_body_append(r, rb, b->pos, n);
            if (rc != SL_OK) {
                return rc;
            }
            b->pos += n;
            rb->chunked.size -= n;
            continue;
        }

        if (rc == SL_DONE) {
            rb->rest = 0;
            return SL_OK;
        }

        if (rc == SL_AGAIN) {
            rb->rest = -1;
            return SL_AGAIN;
        }

        sl_log_error(SL_LOG_INFO, r->connection->log, 0, "client sent invalid chunked body");
        r->keepalive = 0;
        r->lingering_close = 1;
        return SL_HTTP_BAD_REQUEST;
    }
}

/* The finished body as a chain: one memory buffer, or the whole temporary file. */
static sl_int_t
sl_http_body_finish(sl_http_request_t *r, sl_http_request_body_t *rb)
{
    sl_buf_t *b;
    sl_chain_t *cl;

    cl = sl_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rb->temp_fd != SL_INVALID_FILE) {
        if (sl_http_body_spool(r, rb) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
        b = sl_calloc_buf(r->pool);
        if (b == NULL) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
        b->in_file = 1;
        b->fd = rb->temp_fd;
        b->file_pos = 0;
        b->file_last = rb->received;
    } else {
        b = rb->buf;
    }

    b->last_buf = 1;
    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;
    return SL_OK;
}

sl_int_t
sl_http_read_client_request_body(sl_http_request_t *r,
                                 sl_http_client_body_handler_pt post_handler)
{
    size_t size;
    sl_int_t rc;
    sl_http_request_body_t *rb;
    sl_http_core_loc_conf_t *clcf;

    r->main->count++;

    if (r->request_body || r->discard_body) {
        post_handler(r);
        return SL_OK;
    }

    rb = sl_pcalloc(r->pool, sizeof(sl_http_request_body_t));
    if (rb == NULL) {
        rc = SL_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }
    rb->temp_fd = SL_INVALID_FILE;
    rb->post_handler = post_handler;
    r->request_body = rb;

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        post_handler(r);
        return SL_OK;
    }

    if (sl_http_send_continue(r) != SL_OK) {
        rc = SL_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    size = clcf->client_body_buffer_size;
    if (!r->headers_in.chunked) {
        rb->rest = r->headers_in.content_length_n;
        if (rb->rest < (off_t) size) {
            size = (size_t) rb->rest;
        }
    } else {
        rb->rest = -1;
    }

    rb->buf = sl_create_temp_buf(r->pool, size ? size : 1);
    if (rb->buf == NULL) {
        rc = SL_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    /* bytes that arrived with the header */
    if (r->header_in->pos < r->header_in->last) {
        u_char *p = r->header_in->pos;

        rc = sl_http_body_consume(r, rb, r->header_in);
        r->request_length += r->header_in->pos - p;
        if (rc == SL_OK) {
            rc = sl_http_body_finish(r, rb);
            if (rc != SL_OK) {
                goto failed;
            }
            post_handler(r);
            return SL_OK;
        }
        if (rc != SL_AGAIN) {
            goto failed;
        }
    }

    r->reading_body = 1;
    r->read_event_handler = sl_http_read_client_request_body_handler;
    r->write_event_handler = sl_http_read_client_request_body_handler;
    r->connection->log->action = "reading client request body";

    rc = sl_http_do_read_client_request_body(r);
    if (rc == SL_OK || rc == SL_AGAIN) {
        return rc;
    }

failed:
    r->main->count--;
    r->reading_body = 0;
    return rc;
}

static void
sl_http_read_client_request_body_handler(sl_http_request_t *r)
{
    sl_int_t rc;

    if (r->connection->read->timedout) {
        sl_log_error(SL_LOG_INFO, r->connection->log, ETIMEDOUT, "client timed out");
        r->connection->timedout = 1;
        sl_http_finalize_request(r, SL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = sl_http_do_read_client_request_body(r);
    if (rc >= SL_HTTP_SPECIAL_RESPONSE || rc == SL_ERROR) {
        r->reading_body = 0;
        sl_http_finalize_request(r, rc);
    }
}

/* Reads from the socket until the body is complete or the socket is drained. */
static sl_int_t
sl_http_do_read_client_request_body(sl_http_request_t *r)
{
    ssize_t n;
    sl_int_t rc;
    sl_buf_t in;
    sl_connection_t *c;
    sl_http_request_body_t *rb;
    sl_http_core_loc_conf_t *clcf;
    u_char buffer[8192];

    c = r->connection;
    rb = r->request_body;
    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    for (;;) {
        if (!r->headers_in.chunked) {
            /* read straight into the body buffer when it has room */
            if (rb->buf->last == rb->buf->end && sl_http_body_spool(r, rb) != SL_OK) {
                return SL_HTTP_INTERNAL_SERVER_ERROR;
            }
            size_t want = sl_min((off_t) (rb->buf->end - rb->buf->last), rb->rest);
            n = c->recv(c, rb->buf->last, want);
            if (n > 0) {
                rb->buf->last += n;
                rb->received += n;
                rb->rest -= n;
                r->request_length += n;
                if (rb->rest == 0) {
                    break;
                }
                continue;
            }
        } else {
            n = c->recv(c, buffer, sl_http_body_read_size(r, rb, sizeof(buffer)));
            if (n > 0) {
                r->request_length += n;
                in.pos = buffer;
                in.last = buffer + n;
                rc = sl_http_body_consume(r, rb, &in);
                if (rc == SL_OK) {
                    sl_http_body_keep_rest(r, in.pos, in.last);
                    break;
                }
                if (rc != SL_AGAIN) {
                    return rc;
                }
                continue;
            }
        }

        if (n == SL_AGAIN) {
            sl_event_add_timer(c->read, clcf->client_body_timeout);
            return SL_AGAIN;
        }
        if (n == 0) {
            sl_log_error(SL_LOG_INFO, c->log, 0, "client prematurely closed connection");
        }
        c->error = 1;
        return SL_HTTP_BAD_REQUEST;
    }

    if (c->read->timer_set) {
        sl_event_del_timer(c->read);
    }

    rc = sl_http_body_finish(r, rb);
    if (rc != SL_OK) {
        return rc;
    }

    r->reading_body = 0;
    r->read_event_handler = NULL;
    r->write_event_handler = sl_http_core_run_phases;
    c->log->action = "processing client request";
    rb->post_handler(r);
    return SL_OK;
}

/* Discarding ------------------------------------------------------------------- */

sl_int_t
sl_http_discard_request_body(sl_http_request_t *r)
{
    sl_int_t rc;
    sl_http_request_body_t *rb;

    if (r->request_body || r->discard_body) {
        return SL_OK;
    }
    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        return SL_OK;
    }

    /* no 100 Continue: a client that waits for it need not send the body at all */
    r->expect_tested = 1;

    rb = sl_pcalloc(r->pool, sizeof(sl_http_request_body_t));
    if (rb == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }
    rb->temp_fd = SL_INVALID_FILE;
    rb->rest = r->headers_in.chunked ? -1 : r->headers_in.content_length_n;
    r->request_body = rb;

    rc = sl_http_read_discarded_request_body(r);
    if (rc == SL_OK) {
        r->lingering_close = 0;
        return SL_OK;
    }
    if (rc >= SL_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* SL_AGAIN: finish discarding in the background */
    r->read_event_handler = sl_http_discarded_request_body_handler;
    r->discard_body = 1;
    r->main->count++;
    return SL_OK;
}

void
sl_http_discarded_request_body_handler(sl_http_request_t *r)
{
    sl_int_t rc;
    sl_connection_t *c;

    c = r->connection;

    if (!r->discard_body) {
        /* the body has ended while the response goes on: what comes now is the next request's */
        return;
    }

    if (c->read->timedout) {
        c->timedout = 1;
        c->error = 1;
        sl_http_finalize_request(r, SL_ERROR);
        return;
    }

    rc = sl_http_read_discarded_request_body(r);

    if (rc != SL_OK && rc != SL_AGAIN && c->read->eof && !c->read->error) {
        /*
         * The client stopped sending before its body ended and shut down
         * its side: nothing more comes to discard, but it may still read
         * the response. The connection closes after it.
         */
        r->keepalive = 0;
        rc = SL_OK;
    }

    if (rc == SL_OK) {
        r->discard_body = 0;
        r->lingering_close = 0;
        if (c->read->timer_set) {
            sl_event_del_timer(c->read);
        }
        sl_http_finalize_request(r, SL_DONE);
        return;
    }

    if (rc != SL_AGAIN) {
        c->error = 1;
        sl_http_finalize_request(r, SL_ERROR);
        return;
    }

    /* once the response is out: lingering_timeout between reads, lingering_time in all */
    if (r->request_body->discard_deadline) {
        sl_msec_int_t left = (sl_msec_int_t) (r->request_body->discard_deadline - sl_current_msec);
        sl_http_core_loc_conf_t *clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

        if (left <= 0) {
            c->error = 1;
            sl_http_finalize_request(r, SL_ERROR);
            return;
        }
        sl_event_add_timer(c->read, sl_min((sl_msec_t) left, clcf->lingering_timeout));
    }
}

/* Drops body bytes; SL_OK when the body has ended, SL_AGAIN, or an HTTP status. */
static sl_int_t
sl_http_read_discarded_request_body(sl_http_request_t *r)
{
    size_t n;
    ssize_t got;
    sl_int_t rc;
    sl_buf_t *b, in;
    sl_http_request_body_t *rb;
    u_char buffer[SL_HTTP_DISCARD_BUFFER_SIZE];

    rb = r->request_body;
    b = r->header_in;

    for (;;) {
        if (b->pos < b->last) {
            in = *b;
        } else {
            /* a body is never read past its end, so a pipelined request stays in the socket */
            got = r->connection->recv(r->connection, buffer, sl_http_body_read_size(r, rb,
                                                                                    sizeof(buffer)));
            if (got == SL_AGAIN) {
                return SL_AGAIN;
            }
            if (got == 0 || got == SL_ERROR) {
                return SL_HTTP_BAD_REQUEST;
            }
            in.pos = buffer;
            in.last = buffer + got;
        }

        if (!r->headers_in.chunked) {
            n = sl_min((off_t) (in.last - in.pos), rb->rest);
            in.pos += n;
            rb->rest -= n;
            rc = rb->rest == 0 ? SL_OK : SL_AGAIN;
        } else {
            for (;;) {
                rc = sl_http_parse_chunked(&rb->chunked, &in);
                if (rc == SL_OK) {
                    n = sl_min((off_t) (in.last - in.pos), rb->chunked.size);
                    in.pos += n;
                    rb->chunked.size -= n;
                    continue;
                }
                break;
            }
            if (rc == SL_DONE) {
                rc = SL_OK;
            } else if (rc != SL_AGAIN) {
                sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                             "client sent invalid chunked body");
                r->keepalive = 0;
                return SL_HTTP_BAD_REQUEST;
            }
        }

        if (b->pos < b->last) {
            b->pos = in.pos;
        } else if (rc == SL_OK) {
            sl_http_body_keep_rest(r, in.pos, in.last);
        }

        if (rc == SL_OK) {
            return SL_OK;
        }
    }
}
