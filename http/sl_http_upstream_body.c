/*
 * sl_http_upstream_body.c: moving bodies through the proxy with
 * back-pressure in both directions, so that a body of any size passes in
 * bounded memory and a slow peer only ever stalls its own exchange.
 *
 *   unbuffered (proxy_buffering off): one buffer; a read from the upstream
 *     is passed to the client at once, and the upstream is read again only
 *     when the client has taken everything.
 *   buffered (proxy_buffering on): reads fill proxy_buffers while the
 *     client drains them; when all are in flight, reads spill into an
 *     unlinked temporary file (up to proxy_max_temp_file_size at a time),
 *     sent with sendfile; past that the upstream is not read until the
 *     client catches up.
 *   tunnel (101 Switching Protocols): two buffers, one per direction.
 *   request bodies (proxy_request_buffering off): the client's body is
 *     read as the upstream takes it, and reframed as chunks when needed.
 *
 * Chunked upstream bodies are decoded in place: the data of each read is
 * moved down over the chunk framing, so every read yields one buffer.
 */
#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"

/* A header buffer with less room than this after the header gets a body buffer of its own. */
#define SL_HTTP_UPSTREAM_MIN_BODY_ROOM 1024
/* At most this many of proxy_buffers are filled by one readv. */
#define SL_HTTP_UPSTREAM_READ_BUFS 16

static void sl_http_upstream_process_body(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_body_upstream_handler(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_body_downstream_handler(sl_http_request_t *r);
static void sl_http_upstream_tunnel(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_tunnel_upstream_handler(sl_http_request_t *r, sl_http_upstream_t *u);
static void sl_http_upstream_tunnel_downstream_handler(sl_http_request_t *r);


/* Decodes raw bytes into out; bytes past the end of the body are dropped. */
static sl_int_t
sl_http_upstream_filter(sl_http_request_t *r, sl_http_upstream_t *u, sl_buf_t *in, sl_buf_t *out)
{
    if (u->length == 0) {
        if (in->pos < in->last) {
            sl_log_error(SL_LOG_WARN, r->connection->log, 0,
                         "upstream sent more data than specified in \"Content-Length\" header");
            u->keepalive = 0;
            in->pos = in->last;
        }

        return SL_OK;
    }

    if (u->input_filter(u->input_filter_ctx, in, out) != SL_OK) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "upstream sent invalid chunked response");
        return SL_ERROR;
    }

    if (u->length == 0 && in->pos < in->last) {
        sl_log_error(SL_LOG_WARN, r->connection->log, 0,
                     "upstream sent data after the end of the response");
        u->keepalive = 0;
        in->pos = in->last;
    }

    return SL_OK;
}


/* The body has ended on the upstream side: the connection can go back now. */
static void
sl_http_upstream_body_done(sl_http_request_t *r, sl_http_upstream_t *u, sl_uint_t eof)
{
    u->pipe.upstream_done = 1;
    u->pipe.upstream_eof = eof ? 1 : 0;

    if (eof || u->headers_in.connection_close) {
        u->keepalive = 0;
    }

    sl_http_upstream_release_peer(r, u);
}


/* Passes one buffer (or nothing: resume) to the client's filters. */
static sl_int_t
sl_http_upstream_output(sl_http_request_t *r, sl_buf_t *b)
{
    sl_chain_t cl;

    if (b == NULL) {
        return sl_http_output_filter(r, NULL);
    }

    cl.buf = b;
    cl.next = NULL;

    return sl_http_output_filter(r, &cl);
}


void
sl_http_upstream_send_response_body(sl_http_request_t *r, sl_http_upstream_t *u)
{
    size_t room;
    sl_buf_t *pre;
    sl_http_upstream_pipe_t *p;

    p = &u->pipe;
    r->connection->log->action = "reading upstream";

    /*
     * The body starts as the rest of the header buffer, decoded in place:
     * a response that came whole with its header leaves in one write with it.
     */
    room = u->buffer.end - u->buffer.pos;

    pre = sl_calloc_buf(r->pool);
    if (pre == NULL) {
        sl_http_upstream_finalize(r, u, SL_ERROR);
        return;
    }

    pre->temporary = 1;
    pre->fd = SL_INVALID_FILE;
    pre->start = u->buffer.pos;
    pre->end = u->buffer.end;
    pre->pos = pre->start;
    pre->last = pre->start;

    if (!u->buffering) {
        if (room >= SL_HTTP_UPSTREAM_MIN_BODY_ROOM) {
            /* later reads reuse the same memory once the client has taken this */
            p->body = pre;

        } else {
            /* a long header left little room: reads get a buffer of their own */
            p->body = sl_create_temp_buf(r->pool, u->conf->buffer_size);
            if (p->body == NULL) {
                sl_http_upstream_finalize(r, u, SL_ERROR);
                return;
            }
        }
    }

    /* keep-alive unless the framing says otherwise; the filters clear it */
    u->keepalive = !u->headers_in.connection_close;

    /* the bytes that came with the header */
    if (sl_http_upstream_filter(r, u, &u->buffer, pre) != SL_OK) {
        u->keepalive = 0;
        sl_http_upstream_finalize(r, u, SL_HTTP_BAD_GATEWAY);
        return;
    }

    u->read_event_handler = sl_http_upstream_body_upstream_handler;
    u->write_event_handler = sl_http_upstream_body_upstream_handler;
    r->write_event_handler = sl_http_upstream_body_downstream_handler;

    if (u->length == 0) {
        sl_http_upstream_body_done(r, u, 0);
        pre->last_buf = 1;
        p->last_sent = 1;
    }

    if (pre->last > pre->pos || pre->last_buf) {
        pre->flush = 1;

        if (sl_http_upstream_output(r, pre) == SL_ERROR) {
            sl_http_upstream_finalize(r, u, SL_ERROR);
            return;
        }
    }

    if (p->upstream_done) {
        sl_http_upstream_finalize(r, u, SL_OK);
        return;
    }

    sl_http_upstream_process_body(r, u);
}


static void
sl_http_upstream_body_upstream_handler(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_connection_t *uc;

    uc = u->peer.connection;

    if (uc != NULL && uc->read->timedout) {
        uc->read->timedout = 0;
        sl_log_error(SL_LOG_ERR, r->connection->log, ETIMEDOUT, "upstream timed out");
        u->keepalive = 0;
        sl_http_upstream_finalize(r, u, SL_HTTP_GATEWAY_TIME_OUT);
        return;
    }

    sl_http_upstream_process_body(r, u);
}


static void
sl_http_upstream_body_downstream_handler(sl_http_request_t *r)
{
    sl_connection_t *c;
    sl_http_upstream_t *u;

    c = r->connection;
    u = r->upstream;

    if (c->write->timedout) {
        c->write->timedout = 0;
        c->timedout = 1;
        sl_log_error(SL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        u->keepalive = 0;
        sl_http_upstream_finalize(r, u, SL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    sl_http_upstream_process_body(r, u);
}


/*
 * Links to the buffers of proxy_buffers the next read may fill, at most max
 * of them, in l[]: one readv fills them in order. Returns how many (0 when
 * all are in flight, or when proxy_busy_buffers_size are and the temporary
 * file may take the next read instead), or -1 when memory runs out.
 */
static sl_int_t
sl_http_upstream_free_bufs(sl_http_request_t *r, sl_http_upstream_t *u, sl_chain_t *l,
                           sl_uint_t max)
{
    size_t busy;
    sl_uint_t i, n;
    sl_buf_t *b;
    sl_http_upstream_pipe_t *p;

    p = &u->pipe;

    if (p->bufs == NULL) {
        p->nbufs = (sl_uint_t) u->conf->bufs.num;
        p->bufs = sl_pcalloc(r->pool, p->nbufs * sizeof(sl_buf_t));
        p->busy = sl_pcalloc(r->pool, p->nbufs * sizeof(sl_uint_t));
        if (p->bufs == NULL || p->busy == NULL) {
            return -1;
        }
    }

    /* proxy_busy_buffers_size: at most this much memory waits for the client */
    busy = 0;

    for (i = 0; i < p->nbufs; i++) {
        if (p->busy[i] && p->bufs[i].pos < p->bufs[i].last) {
            busy += u->conf->bufs.size;
        }
    }

    /* past that, reads go to the temporary file; every free buffer may take this one */
    if (busy + u->conf->bufs.size > u->conf->busy_buffers_size && u->conf->max_temp_file_size > 0) {
        return 0;
    }

    n = 0;

    for (i = 0; i < p->nbufs && n < max; i++) {
        b = &p->bufs[i];

        if (p->busy[i] && b->pos < b->last) {
            continue;
        }

        if (b->start == NULL) {
            b->start = sl_pnalloc(r->pool, u->conf->bufs.size);
            if (b->start == NULL) {
                return -1;
            }

            b->end = b->start + u->conf->bufs.size;
            b->temporary = 1;
            b->fd = SL_INVALID_FILE;
        }

        /* a buffer the read leaves empty stays free: pos == last */
        p->busy[i] = 1;
        b->pos = b->start;
        b->last = b->start;
        b->flush = 0;
        b->last_buf = 0;

        l[n].buf = b;
        l[n].next = NULL;

        if (n > 0) {
            l[n - 1].next = &l[n];
        }

        n++;
    }

    return (sl_int_t) n;
}


/* Passes the temporary file's unsent part when the last one has gone. */
static sl_int_t
sl_http_upstream_pass_file(sl_http_request_t *r, sl_http_upstream_t *u, sl_uint_t last)
{
    sl_buf_t *fb;
    sl_http_upstream_pipe_t *p;

    p = &u->pipe;
    fb = p->file_buf;

    if (fb != NULL && fb->file_pos < fb->file_last) {
        if (!last) {
            return SL_OK;
        }

        /* the end of the body may not wait: a second buffer for the rest */
        fb = NULL;
    }

    if (fb == NULL) {
        fb = sl_calloc_buf(r->pool);
        if (fb == NULL) {
            return SL_ERROR;
        }

        if (p->file_buf == NULL) {
            p->file_buf = fb;
        }
    }

    if (p->file_written == p->file_sent && !last) {
        return SL_OK;
    }

    fb->in_file = 1;
    fb->fd = p->temp_fd;
    fb->file_pos = p->file_sent;
    fb->file_last = p->file_written;
    fb->flush = 1;
    fb->last_buf = last ? 1 : 0;

    if (fb->file_pos == fb->file_last) {
        /* nothing left in the file: only the end of the body */
        fb->in_file = 0;
        fb->fd = SL_INVALID_FILE;
    }

    p->file_sent = p->file_written;

    return sl_http_upstream_output(r, fb) == SL_ERROR ? SL_ERROR : SL_OK;
}


/* Appends decoded bytes to the temporary file. */
static sl_int_t
sl_http_upstream_write_file(sl_http_request_t *r, sl_http_upstream_t *u, sl_buf_t *b)
{
    ssize_t n;
    sl_http_upstream_pipe_t *p;

    p = &u->pipe;

    while (b->pos < b->last) {
        n = pwrite(p->temp_fd, b->pos, b->last - b->pos, p->file_written);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            sl_log_error(SL_LOG_CRIT, r->connection->log, errno,
                         "pwrite() to a proxy temporary file failed");
            return SL_ERROR;
        }

        b->pos += n;
        p->file_written += n;
    }

    return SL_OK;
}


/*
 * The body pump, run on events of either side: flush what the client can
 * take, then read the upstream while there is somewhere to put the bytes.
 */
static void
sl_http_upstream_process_body(sl_http_request_t *r, sl_http_upstream_t *u)
{
    ssize_t n;
    sl_int_t rc;
    sl_buf_t *b, raw;
    sl_uint_t i, nl, to_file;
    sl_chain_t l[SL_HTTP_UPSTREAM_READ_BUFS], *out, **ll, *cl;
    sl_connection_t *c, *uc;
    sl_http_upstream_pipe_t *p;
    sl_http_core_loc_conf_t *clcf;

    c = r->connection;
    p = &u->pipe;
    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    for (;;) {
        if (r->out != NULL && c->write->ready) {
            if (sl_http_upstream_output(r, NULL) == SL_ERROR) {
                u->keepalive = 0;
                sl_http_upstream_finalize(r, u, SL_ERROR);
                return;
            }
        }

        if (r->out != NULL) {
            if (!c->write->ready) {
                sl_event_add_timer(c->write, clcf->send_timeout);
            }

        } else if (c->write->timer_set) {
            sl_event_del_timer(c->write);
        }

        if (u->buffering && p->file_buf != NULL && p->file_buf->file_pos == p->file_buf->file_last
            && p->file_sent == p->file_written) {
            /* everything in the file has gone: write it from the start again */
            p->file_sent = 0;
            p->file_written = 0;
        }

        if (u->buffering && p->file_written > p->file_sent && !p->upstream_done) {
            if (sl_http_upstream_pass_file(r, u, 0) != SL_OK) {
                u->keepalive = 0;
                sl_http_upstream_finalize(r, u, SL_ERROR);
                return;
            }
        }

        uc = u->peer.connection;

        if (uc == NULL) {
            return;
        }

        /* where the next read goes: one buffer, or every free one of proxy_buffers */
        nl = 0;
        to_file = 0;

        if (!u->buffering) {
            if (r->out != NULL) {
                /* the client has not taken the last read: the upstream waits */
                if (uc->read->timer_set) {
                    sl_event_del_timer(uc->read);
                }
                return;
            }

            b = p->body;
            b->pos = b->start;
            b->last = b->start;
            b->flush = 1;

            l[0].buf = b;
            l[0].next = NULL;
            nl = 1;

        } else {
            if (p->file_written == p->file_sent) {
                rc = sl_http_upstream_free_bufs(r, u, l, SL_HTTP_UPSTREAM_READ_BUFS);

                if (rc == -1) {
                    sl_http_upstream_finalize(r, u, SL_ERROR);
                    return;
                }

                nl = (sl_uint_t) rc;
            }

            if (nl == 0 && u->conf->max_temp_file_size > 0
                && (size_t) p->file_written + u->conf->bufs.size <= u->conf->max_temp_file_size) {
                if (p->temp_fd == SL_INVALID_FILE
                    && sl_http_upstream_open_temp_file(r, u) != SL_OK) {
                    u->keepalive = 0;
                    sl_http_upstream_finalize(r, u, SL_ERROR);
                    return;
                }

                if (p->bounce == NULL) {
                    p->bounce = sl_create_temp_buf(r->pool, u->conf->bufs.size);
                    if (p->bounce == NULL) {
                        sl_http_upstream_finalize(r, u, SL_ERROR);
                        return;
                    }
                }

                b = p->bounce;
                b->pos = b->start;
                b->last = b->start;
                to_file = 1;

                l[0].buf = b;
                l[0].next = NULL;
                nl = 1;
            }

            if (nl == 0) {
                /* every buffer is in flight and the file is full: wait for the client */
                if (uc->read->timer_set) {
                    sl_event_del_timer(uc->read);
                }
                return;
            }
        }

        if (!uc->read->ready) {
            /* buffers taken from proxy_buffers stay free: pos == last */
            sl_event_add_timer(uc->read, u->conf->read_timeout);
            return;
        }

        b = l[0].buf;

        if (nl > 1 && uc->recv_chain != NULL) {
            n = uc->recv_chain(uc, l, 0);

        } else {
            n = uc->recv(uc, b->last, b->end - b->last);
        }

        if (n == SL_AGAIN) {
            sl_event_add_timer(uc->read, u->conf->read_timeout);
            return;
        }

        if (n == SL_ERROR) {
            u->keepalive = 0;
            sl_http_upstream_finalize(r, u, SL_HTTP_BAD_GATEWAY);
            return;
        }

        /* the links that carry something to the client */
        out = NULL;
        ll = &out;

        if (n == 0) {
            if (u->length == -1 && !u->headers_in.chunked) {
                /* the close delimits the body */
                sl_http_upstream_body_done(r, u, 1);
                b->last_buf = 1;
                l[0].next = NULL;
                out = &l[0];

            } else {
                sl_log_error(SL_LOG_ERR, c->log, 0, "upstream prematurely closed connection");
                u->keepalive = 0;
                sl_http_upstream_finalize(r, u, SL_HTTP_BAD_GATEWAY);
                return;
            }

        } else {
            u->cur_state->bytes_received += n;

            /* the bytes fill the links in order; each is decoded in place */
            for (i = 0; i < nl && n > 0; i++) {
                b = l[i].buf;

                if (p->upstream_done) {
                    sl_log_error(SL_LOG_WARN, c->log, 0,
                                 u->headers_in.chunked
                                     ? "upstream sent data after the end of the response"
                                     : "upstream sent more data than specified in "
                                       "\"Content-Length\" header");
                    u->keepalive = 0;
                    break;
                }

                raw.pos = b->last;
                raw.last = b->last + sl_min((size_t) n, (size_t) (b->end - b->last));
                n -= raw.last - raw.pos;

                if (sl_http_upstream_filter(r, u, &raw, b) != SL_OK) {
                    u->keepalive = 0;
                    sl_http_upstream_finalize(r, u, SL_HTTP_BAD_GATEWAY);
                    return;
                }

                if (u->length == 0) {
                    sl_http_upstream_body_done(r, u, 0);
                }

                if (b->last > b->pos) {
                    *ll = &l[i];
                    ll = &l[i].next;
                }
            }

            *ll = NULL;

            if (out == NULL && p->upstream_done) {
                /* only framing came: the end of the body still goes */
                l[0].next = NULL;
                out = &l[0];
            }
        }

        if (to_file) {
            if (sl_http_upstream_write_file(r, u, l[0].buf) != SL_OK) {
                u->keepalive = 0;
                sl_http_upstream_finalize(r, u, SL_ERROR);
                return;
            }

            rc = sl_http_upstream_pass_file(r, u, p->upstream_done);

        } else if (out != NULL) {
            /* memory reads happen only while the file has nothing unsent: order holds */
            cl = out;

            while (cl->next != NULL) {
                cl = cl->next;
            }

            cl->buf->flush = 1;
            cl->buf->last_buf = p->upstream_done;
            rc = sl_http_output_filter(r, out);

        } else {
            rc = SL_OK;
        }

        if (rc == SL_ERROR) {
            u->keepalive = 0;
            sl_http_upstream_finalize(r, u, SL_ERROR);
            return;
        }

        if (p->upstream_done) {
            p->last_sent = 1;
            sl_http_upstream_finalize(r, u, SL_OK);
            return;
        }
    }
}


sl_int_t
sl_http_upstream_open_temp_file(sl_http_request_t *r, sl_http_upstream_t *u)
{
    u_char *p;
    size_t len;
    sl_str_t dir, path;
    sl_uint_t attempt;
    static uint32_t seq;
    sl_http_core_loc_conf_t *clcf;

    dir = u->conf->temp_path;

    if (dir.len == 0) {
        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
        dir = clcf->client_body_temp_path;
    }

    if (dir.len == 0 || dir.data[0] != '/') {
        if (sl_conf_full_name((sl_cycle_t *) sl_cycle, &dir, 0) != SL_OK) {
            return SL_ERROR;
        }
    }

    len = dir.len + sizeof("/0000000000.0000000000");

    path.data = sl_pnalloc(r->pool, len);
    if (path.data == NULL) {
        return SL_ERROR;
    }

    for (attempt = 0; attempt < 16; attempt++) {
        p = sl_slprintf(path.data, path.data + len - 1, "%V/%010ud.%010ud", &dir,
                        (unsigned) getpid(), (unsigned) ++seq);
        *p = '\0';
        path.len = p - path.data;

        u->pipe.temp_fd = open((char *) path.data, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);

        if (u->pipe.temp_fd != SL_INVALID_FILE) {
            /* nobody needs its name: it disappears with the fd */
            (void) unlink((char *) path.data);

            if (sl_pool_cleanup_fd(r->pool, u->pipe.temp_fd) != SL_OK) {
                (void) close(u->pipe.temp_fd);
                u->pipe.temp_fd = SL_INVALID_FILE;
                return SL_ERROR;
            }

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
                 "open() \"%V\" failed for a proxy temporary file", &path);

    return SL_ERROR;
}


/* Tunnel ------------------------------------------------------------------------------ */

typedef struct {
    sl_buf_t *up;   /* client to upstream */
    sl_buf_t *down; /* upstream to client */
    unsigned client_eof : 1;
    unsigned upstream_eof : 1;
} sl_http_upstream_tunnel_t;


void
sl_http_upstream_start_tunnel(sl_http_request_t *r, sl_http_upstream_t *u)
{
    size_t n;
    sl_http_upstream_tunnel_t *t;

    r->keepalive = 0;
    u->keepalive = 0;
    u->pipe.last_sent = 1;
    r->connection->log->action = "proxying upgraded connection";

    t = sl_pcalloc(r->pool, sizeof(sl_http_upstream_tunnel_t));
    if (t == NULL) {
        sl_http_upstream_finalize(r, u, SL_ERROR);
        return;
    }

    t->up = sl_create_temp_buf(r->pool, u->conf->buffer_size);
    t->down = sl_create_temp_buf(r->pool, u->conf->buffer_size);
    if (t->up == NULL || t->down == NULL) {
        sl_http_upstream_finalize(r, u, SL_ERROR);
        return;
    }

    /* what each side sent right after its header */
    n = sl_min((size_t) (u->buffer.last - u->buffer.pos), u->conf->buffer_size);
    t->down->last = sl_cpymem(t->down->last, u->buffer.pos, n);
    u->buffer.pos += n;

    n = sl_min((size_t) (r->header_in->last - r->header_in->pos), u->conf->buffer_size);
    t->up->last = sl_cpymem(t->up->last, r->header_in->pos, n);
    r->header_in->pos += n;

    u->pipe.tunnel = t;

    u->read_event_handler = sl_http_upstream_tunnel_upstream_handler;
    u->write_event_handler = sl_http_upstream_tunnel_upstream_handler;
    r->read_event_handler = sl_http_upstream_tunnel_downstream_handler;
    r->write_event_handler = sl_http_upstream_tunnel_downstream_handler;

    if (r->connection->read->timer_set) {
        sl_event_del_timer(r->connection->read);
    }

    sl_http_upstream_tunnel(r, u);
}


static void
sl_http_upstream_tunnel_upstream_handler(sl_http_request_t *r, sl_http_upstream_t *u)
{
    sl_http_upstream_tunnel(r, u);
}


static void
sl_http_upstream_tunnel_downstream_handler(sl_http_request_t *r)
{
    sl_http_upstream_tunnel(r, r->upstream);
}


/*
 * Moves bytes from src to dst through b until one side blocks. Returns
 * SL_OK (something moved), SL_AGAIN (nothing could move) or SL_ERROR.
 */
static sl_int_t
sl_http_upstream_tunnel_pump(sl_connection_t *src, sl_connection_t *dst, sl_buf_t *b, unsigned *eof)
{
    ssize_t n;
    sl_int_t moved;

    moved = SL_AGAIN;

    for (;;) {
        if (b->pos < b->last) {
            if (!dst->write->ready) {
                return moved;
            }

            n = dst->send(dst, b->pos, b->last - b->pos);

            if (n == SL_ERROR) {
                return SL_ERROR;
            }

            if (n > 0) {
                b->pos += n;
                moved = SL_OK;
            }

            if (b->pos < b->last) {
                return moved;
            }
        }

        b->pos = b->start;
        b->last = b->start;

        if (*eof || !src->read->ready) {
            return moved;
        }

        n = src->recv(src, b->last, b->end - b->last);

        if (n == SL_AGAIN) {
            return moved;
        }

        if (n == SL_ERROR) {
            return SL_ERROR;
        }

        if (n == 0) {
            *eof = 1;
            return SL_OK;
        }

        b->last += n;
        moved = SL_OK;
    }
}


static void
sl_http_upstream_tunnel(sl_http_request_t *r, sl_http_upstream_t *u)
{
    unsigned eof;
    sl_int_t up, down;
    sl_connection_t *c, *uc;
    sl_http_upstream_tunnel_t *t;

    c = r->connection;
    uc = u->peer.connection;
    t = u->pipe.tunnel;

    if (uc == NULL) {
        return;
    }

    if (uc->read->timedout || c->write->timedout || c->read->timedout) {
        uc->read->timedout = 0;
        sl_log_error(SL_LOG_INFO, c->log, ETIMEDOUT, "upgraded connection timed out");
        sl_http_upstream_finalize(r, u, SL_HTTP_CLOSE);
        return;
    }

    if (r->out != NULL) {
        /* the 101 header itself has not gone out yet */
        if (sl_http_upstream_output(r, NULL) == SL_ERROR) {
            sl_http_upstream_finalize(r, u, SL_ERROR);
            return;
        }

        if (r->out != NULL) {
            sl_event_add_timer(uc->read, u->conf->read_timeout);
            return;
        }
    }

    for (;;) {
        eof = t->client_eof;
        up = sl_http_upstream_tunnel_pump(c, uc, t->up, &eof);
        t->client_eof = eof;

        eof = t->upstream_eof;
        down = sl_http_upstream_tunnel_pump(uc, c, t->down, &eof);
        t->upstream_eof = eof;

        if (up == SL_ERROR || down == SL_ERROR) {
            sl_http_upstream_finalize(r, u, SL_HTTP_CLOSE);
            return;
        }

        if ((t->client_eof && t->up->pos == t->up->last)
            || (t->upstream_eof && t->down->pos == t->down->last)) {
            /* one side has closed and has nothing left in flight: close both */
            sl_http_upstream_finalize(r, u, SL_HTTP_CLOSE);
            return;
        }

        if (up == SL_AGAIN && down == SL_AGAIN) {
            break;
        }

        /* idle means no byte moved for proxy_read_timeout */
        sl_event_add_timer(uc->read, u->conf->read_timeout);
    }

    if (!uc->read->timer_set) {
        sl_event_add_timer(uc->read, u->conf->read_timeout);
    }
}


/* Streaming the request body ---------------------------------------------------------- */

sl_int_t
sl_http_upstream_init_request_body(sl_http_request_t *r, sl_http_upstream_t *u,
                                   sl_uint_t chunked_out)
{
    static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

    size_t size;
    ssize_t n;
    sl_http_request_body_t *rb;
    sl_http_core_loc_conf_t *clcf;
    sl_http_upstream_body_out_t *bo;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    bo = sl_pcalloc(r->pool, sizeof(sl_http_upstream_body_out_t));
    rb = sl_pcalloc(r->pool, sizeof(sl_http_request_body_t));
    if (bo == NULL || rb == NULL) {
        return SL_ERROR;
    }

    /* the engine sees a body being handled and never discards it under us */
    rb->temp_fd = SL_INVALID_FILE;
    rb->rest = r->headers_in.chunked ? -1 : r->headers_in.content_length_n;
    r->request_body = rb;

    size = sl_max(clcf->client_body_buffer_size, (size_t) SL_HTTP_UPSTREAM_MIN_BODY_ROOM);

    bo->buf = sl_create_temp_buf(r->pool, size);
    if (bo->buf == NULL) {
        return SL_ERROR;
    }

    bo->rest = r->headers_in.chunked ? -1 : r->headers_in.content_length_n;
    bo->chunked_out = chunked_out ? 1 : 0;
    u->body_out = bo;

    if (r->headers_in.expect_continue && !r->expect_tested
        && r->http_version >= SL_HTTP_VERSION_11) {
        r->expect_tested = 1;
        n = r->connection->send(r->connection, (u_char *) continue_line, sizeof(continue_line) - 1);
        if (n != (ssize_t) sizeof(continue_line) - 1) {
            return SL_ERROR;
        }
    }

    r->read_event_handler = sl_http_upstream_client_body_ready;

    return SL_OK;
}


/*
 * Takes body bytes from in into bo->buf (moving them down in place when
 * in lies inside it). SL_OK (more may come), SL_DONE (the body ended) or
 * an HTTP status.
 */
static sl_int_t
sl_http_upstream_body_take(sl_http_request_t *r, sl_http_upstream_body_out_t *bo, sl_buf_t *in)
{
    size_t n;
    sl_int_t rc;
    sl_buf_t *b;
    sl_http_core_loc_conf_t *clcf;

    b = bo->buf;

    if (!r->headers_in.chunked) {
        n = sl_min((size_t) (in->last - in->pos), (size_t) (b->end - b->last));
        n = (size_t) sl_min((off_t) n, bo->rest);

        if (in->pos != b->last) {
            sl_memmove(b->last, in->pos, n);
        }

        b->last += n;
        in->pos += n;
        bo->rest -= n;
        r->request_body->received += n;

        return bo->rest == 0 ? SL_DONE : SL_OK;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    while (b->last < b->end) {
        rc = sl_http_parse_chunked(&bo->chunked, in);

        if (rc == SL_OK) {
            if (clcf->client_max_body_size
                && clcf->client_max_body_size - r->request_body->received < bo->chunked.size) {
                sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                             "client intended to send too large chunked body: %O+%O bytes",
                             r->request_body->received, bo->chunked.size);
                r->lingering_close = 1;
                return SL_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }

            n = sl_min((size_t) (in->last - in->pos), (size_t) (b->end - b->last));
            n = (size_t) sl_min((off_t) n, bo->chunked.size);

            if (in->pos != b->last) {
                sl_memmove(b->last, in->pos, n);
            }

            b->last += n;
            in->pos += n;
            bo->chunked.size -= n;
            r->request_body->received += n;
            continue;
        }

        if (rc == SL_DONE) {
            return SL_DONE;
        }

        if (rc == SL_AGAIN) {
            return SL_OK;
        }

        sl_log_error(SL_LOG_INFO, r->connection->log, 0, "client sent invalid chunked body");
        r->keepalive = 0;
        r->lingering_close = 1;
        return SL_HTTP_BAD_REQUEST;
    }

    return SL_OK;
}


sl_int_t
sl_http_upstream_read_request_body(sl_http_request_t *r, sl_http_upstream_t *u)
{
    size_t size;
    ssize_t n;
    sl_int_t rc;
    sl_buf_t *b, in, *hb;
    sl_chain_t **ll;
    sl_connection_t *c;
    sl_http_core_loc_conf_t *clcf;
    sl_http_upstream_body_out_t *bo;

    c = r->connection;
    bo = u->body_out;
    b = bo->buf;
    hb = r->header_in;
    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    b->pos = b->start;
    b->last = b->start;
    rc = SL_OK;

    while (!bo->done && b->last < b->end) {
        if (hb->pos < hb->last) {
            /* bytes that came with the header; what follows the body stays there */
            u_char *from = hb->pos;

            rc = sl_http_upstream_body_take(r, bo, hb);
            r->request_length += hb->pos - from;

        } else {
            if (!c->read->ready) {
                break;
            }

            size = b->end - b->last;

            if (!r->headers_in.chunked) {
                size = (size_t) sl_min((off_t) size, bo->rest);

            } else if (bo->chunked.length > 0 && (off_t) size > bo->chunked.length) {
                /* never read past the body: a pipelined request follows it */
                size = (size_t) bo->chunked.length;

            } else if (bo->chunked.length == 0 && size > 3) {
                size = 3;
            }

            n = c->recv(c, b->last, size);

            if (n == SL_AGAIN) {
                break;
            }

            if (n == 0 || n == SL_ERROR) {
                if (n == 0) {
                    sl_log_error(SL_LOG_INFO, c->log, 0, "client prematurely closed connection");
                }

                c->error = 1;
                return SL_HTTP_BAD_REQUEST;
            }

            r->request_length += n;

            in.pos = b->last;
            in.last = b->last + n;

            rc = sl_http_upstream_body_take(r, bo, &in);

            if (rc == SL_DONE) {
                sl_http_body_keep_rest(r, in.pos, in.last);
            }
        }

        if (rc == SL_DONE) {
            bo->done = 1;
            break;
        }

        if (rc != SL_OK) {
            return rc;
        }
    }

    if (b->last == b->pos && !bo->done) {
        sl_event_add_timer(c->read, clcf->client_body_timeout);
        return SL_AGAIN;
    }

    if (b->last > b->pos) {
        bo->started = 1;
    }

    if (bo->done) {
        bo->last_queued = 1;

        if (c->read->timer_set) {
            sl_event_del_timer(c->read);
        }

    } else {
        sl_event_add_timer(c->read, clcf->client_body_timeout);
    }

    ll = &u->request_out;
    *ll = NULL;

    if (b->last > b->pos) {
        if (bo->chunked_out) {
            bo->frames[0].pos = bo->size_line;
            bo->frames[0].last = sl_sprintf(bo->size_line, "%xO" CRLF, (off_t) (b->last - b->pos));
            bo->frames[0].memory = 1;
            bo->links[0].buf = &bo->frames[0];
            *ll = &bo->links[0];
            ll = &bo->links[0].next;
        }

        bo->links[1].buf = b;
        *ll = &bo->links[1];
        ll = &bo->links[1].next;
    }

    if (bo->chunked_out && (b->last > b->pos || bo->done)) {
        if (b->last > b->pos && bo->done) {
            sl_str_t tail = sl_string(CRLF "0" CRLF CRLF);
            bo->frames[1].pos = tail.data;
            bo->frames[1].last = tail.data + tail.len;

        } else if (b->last > b->pos) {
            bo->frames[1].pos = (u_char *) CRLF;
            bo->frames[1].last = bo->frames[1].pos + 2;

        } else {
            sl_str_t end = sl_string("0" CRLF CRLF);
            bo->frames[1].pos = end.data;
            bo->frames[1].last = end.data + end.len;
        }

        bo->frames[1].memory = 1;
        bo->links[2].buf = &bo->frames[1];
        *ll = &bo->links[2];
        ll = &bo->links[2].next;
    }

    *ll = NULL;

    return SL_OK;
}
