/*
 * sl_http_chunked_filter.c: "Transfer-Encoding: chunked" for responses of
 * unknown length to HTTP/1.1 clients. The header filter decides; the body
 * filter frames each chain it is given as one chunk ("<hex size>" CRLF
 * data CRLF) and the last buffer as the last chunk ("0" CRLF CRLF). An
 * HTTP/1.0 client cannot take chunks, so its connection closes after the
 * body instead. The small framing buffers are recycled once they are sent.
 */
#include "sl_core.h"
#include "sl_http.h"

typedef struct {
    sl_chain_t *free;       /* framing buffers ready for reuse (with their links) */
    sl_chain_t *busy;       /* framing buffers passed down and not yet sent, in order */
    sl_chain_t *free_links; /* bare links that carried the caller's buffers */
} sl_http_chunked_ctx_t;

/* Room for a chunk-size line: 16 hex digits of a 64-bit size and CRLF. */
#define SL_HTTP_CHUNK_HEADER_LEN (sizeof("0000000000000000" CRLF) - 1)

static sl_int_t sl_http_chunked_filter_init(sl_conf_t *cf);

static sl_http_module_t sl_http_chunked_filter_module_ctx = {
    NULL,                        /* preconfiguration */
    sl_http_chunked_filter_init, /* postconfiguration */
    NULL,                        /* create main configuration */
    NULL,                        /* init main configuration */
    NULL,                        /* create server configuration */
    NULL,                        /* merge server configuration */
    NULL,                        /* create location configuration */
    NULL                         /* merge location configuration */
};

sl_module_t sl_http_chunked_filter_module = { SL_MODULE_V1,
                                              "sl_http_chunked_filter_module",
                                              SL_HTTP_MODULE,
                                              &sl_http_chunked_filter_module_ctx,
                                              NULL,
                                              NULL,
                                              NULL,
                                              NULL,
                                              NULL };

static sl_http_output_header_filter_pt sl_http_chunked_next_header_filter;
static sl_http_output_body_filter_pt sl_http_chunked_next_body_filter;

static sl_int_t
sl_http_chunked_header_filter(sl_http_request_t *r)
{
    sl_uint_t status;
    sl_http_chunked_ctx_t *ctx;
    sl_http_core_loc_conf_t *clcf;

    status = r->headers_out.status;

    if (status == SL_HTTP_NOT_MODIFIED || status == SL_HTTP_NO_CONTENT || status < SL_HTTP_OK
        || r->method == SL_HTTP_HEAD || r->header_only) {
        return sl_http_chunked_next_header_filter(r);
    }

    if (r->headers_out.content_length_n == -1 && r->headers_out.content_length == NULL) {
        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

        if (r->http_version >= SL_HTTP_VERSION_11 && clcf->chunked_transfer_encoding) {
            ctx = sl_pcalloc(r->pool, sizeof(sl_http_chunked_ctx_t));
            if (ctx == NULL) {
                return SL_ERROR;
            }
            sl_http_set_ctx(r, ctx, sl_http_chunked_filter_module);
            r->chunked = 1;
        } else {
            /* the end of the connection is the end of the body */
            r->keepalive = 0;
        }
    }

    return sl_http_chunked_next_header_filter(r);
}

/* A framing buffer (and its link) from the free list, or a new one. */
static sl_chain_t *
sl_http_chunked_get_buf(sl_http_request_t *r, sl_http_chunked_ctx_t *ctx)
{
    sl_buf_t *b;
    sl_chain_t *cl;

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        cl->next = NULL;
        return cl;
    }

    cl = sl_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NULL;
    }
    b = sl_calloc_buf(r->pool);
    if (b == NULL) {
        return NULL;
    }
    b->fd = SL_INVALID_FILE;
    b->tag = &sl_http_chunked_filter_module;
    cl->buf = b;
    return cl;
}

static sl_chain_t *
sl_http_chunked_get_link(sl_http_request_t *r, sl_http_chunked_ctx_t *ctx)
{
    sl_chain_t *cl;

    if (ctx->free_links) {
        cl = ctx->free_links;
        ctx->free_links = cl->next;
        cl->next = NULL;
        return cl;
    }
    return sl_alloc_chain_link(r->pool);
}

/*
 * After the next filter ran: the links of out go back to the free lists,
 * the framing buffers into busy until the writer has sent them (in order,
 * as the write filter sends).
 */
static void
sl_http_chunked_update_chains(sl_http_chunked_ctx_t *ctx, sl_chain_t *out)
{
    sl_chain_t *cl, *next, **busy_tail;

    busy_tail = &ctx->busy;
    while (*busy_tail) {
        busy_tail = &(*busy_tail)->next;
    }

    for (cl = out; cl; cl = next) {
        next = cl->next;
        cl->next = NULL;
        if (cl->buf->tag == &sl_http_chunked_filter_module) {
            *busy_tail = cl;
            busy_tail = &cl->next;
        } else {
            cl->buf = NULL;
            cl->next = ctx->free_links;
            ctx->free_links = cl;
        }
    }

    while (ctx->busy) {
        cl = ctx->busy;
        if (cl->buf->pos != cl->buf->last) {
            break;
        }
        ctx->busy = cl->next;
        cl->buf->last_buf = 0;
        cl->buf->flush = 0;
        cl->next = ctx->free;
        ctx->free = cl;
    }
}

static sl_int_t
sl_http_chunked_body_filter(sl_http_request_t *r, sl_chain_t *in)
{
    off_t size;
    u_char *chunk;
    sl_int_t rc;
    sl_buf_t *b;
    sl_chain_t *out, *cl, *tl, **ll;
    sl_http_chunked_ctx_t *ctx;

    if (in == NULL || !r->chunked || r->header_only) {
        return sl_http_chunked_next_body_filter(r, in);
    }

    ctx = sl_http_get_module_ctx(r, sl_http_chunked_filter_module);
    if (ctx == NULL) {
        /* the context went with an internal redirect after the header: start afresh */
        ctx = sl_pcalloc(r->pool, sizeof(sl_http_chunked_ctx_t));
        if (ctx == NULL) {
            return SL_ERROR;
        }
        sl_http_set_ctx(r, ctx, sl_http_chunked_filter_module);
    }

    out = NULL;
    ll = &out;
    size = 0;
    cl = in;

    for (;;) {
        if (cl->buf) {
            if (!sl_buf_special(cl->buf)) {
                size += sl_buf_size(cl->buf);
            }
            if (cl->buf->flush || cl->buf->sync || sl_buf_in_memory(cl->buf) || cl->buf->in_file) {
                tl = sl_http_chunked_get_link(r, ctx);
                if (tl == NULL) {
                    return SL_ERROR;
                }
                tl->buf = cl->buf;
                *ll = tl;
                ll = &tl->next;
            }
        }
        if (cl->next == NULL) {
            break;
        }
        cl = cl->next;
    }

    if (size) {
        tl = sl_http_chunked_get_buf(r, ctx);
        if (tl == NULL) {
            return SL_ERROR;
        }
        b = tl->buf;
        chunk = b->start;
        if (chunk == NULL) {
            chunk = sl_pnalloc(r->pool, SL_HTTP_CHUNK_HEADER_LEN);
            if (chunk == NULL) {
                return SL_ERROR;
            }
            b->start = chunk;
            b->end = chunk + SL_HTTP_CHUNK_HEADER_LEN;
        }
        b->memory = 0;
        b->temporary = 1;
        b->pos = chunk;
        b->last = sl_sprintf(chunk, "%xO" CRLF, size);

        tl->next = out;
        out = tl;
        if (ll == &out) {
            ll = &tl->next;
        }
    }

    if (cl->buf && cl->buf->last_buf) {
        tl = sl_http_chunked_get_buf(r, ctx);
        if (tl == NULL) {
            return SL_ERROR;
        }
        b = tl->buf;
        b->temporary = 0;
        b->memory = 1;
        b->pos = (u_char *) CRLF "0" CRLF CRLF;
        b->last = b->pos + sizeof(CRLF "0" CRLF CRLF) - 1;
        b->last_buf = 1;
        if (size == 0) {
            /* no data chunk to close */
            b->pos += 2;
        }
        cl->buf->last_buf = 0;
        *ll = tl;

    } else if (size > 0) {
        tl = sl_http_chunked_get_buf(r, ctx);
        if (tl == NULL) {
            return SL_ERROR;
        }
        b = tl->buf;
        b->temporary = 0;
        b->memory = 1;
        b->pos = (u_char *) CRLF;
        b->last = b->pos + 2;
        *ll = tl;

    } else {
        *ll = NULL;
    }

    rc = sl_http_chunked_next_body_filter(r, out);

    sl_http_chunked_update_chains(ctx, out);

    return rc;
}

static sl_int_t
sl_http_chunked_filter_init(sl_conf_t *cf)
{
    sl_unused(cf);

    sl_http_chunked_next_header_filter = sl_http_top_header_filter;
    sl_http_top_header_filter = sl_http_chunked_header_filter;

    sl_http_chunked_next_body_filter = sl_http_top_body_filter;
    sl_http_top_body_filter = sl_http_chunked_body_filter;

    return SL_OK;
}
