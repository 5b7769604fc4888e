/*
 * sl_http_write_filter.c: the last body filter. It queues what the filters
 * above it pass down in r->out and writes it to the socket when it is worth
 * a system call: at a flush point, at the end of the response, or once
 * SL_HTTP_POSTPONE_OUTPUT bytes are waiting. What the socket does not take
 * stays in r->out, and the request's writer resumes it on the next write
 * event. The links of r->out are recycled through a per-request free list,
 * so a long response streams without growing the request pool.
 */
#include "sl_core.h"
#include "sl_http.h"

/* Bytes held back before a write that is neither a flush nor the end (nginx's postpone_output). */
#define SL_HTTP_POSTPONE_OUTPUT 1460

typedef struct {
    sl_chain_t *free; /* links of r->out already sent, ready for reuse */
} sl_http_write_filter_ctx_t;

static sl_int_t sl_http_write_filter_init(sl_conf_t *cf);

static sl_http_module_t sl_http_write_filter_module_ctx = {
    NULL,                      /* preconfiguration */
    sl_http_write_filter_init, /* postconfiguration */
    NULL,                      /* create main configuration */
    NULL,                      /* init main configuration */
    NULL,                      /* create server configuration */
    NULL,                      /* merge server configuration */
    NULL,                      /* create location configuration */
    NULL                       /* merge location configuration */
};

sl_module_t sl_http_write_filter_module = { SL_MODULE_V1,
                                            "sl_http_write_filter_module",
                                            SL_HTTP_MODULE,
                                            &sl_http_write_filter_module_ctx,
                                            NULL,
                                            NULL,
                                            NULL,
                                            NULL,
                                            NULL };

static sl_chain_t *
sl_http_write_filter_link(sl_http_request_t *r, sl_http_write_filter_ctx_t *ctx)
{
    sl_chain_t *cl;

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        cl->next = NULL;
        return cl;
    }
    return sl_alloc_chain_link(r->pool);
}

sl_int_t
sl_http_write_filter(sl_http_request_t *r, sl_chain_t *in)
{
    off_t size;
    sl_uint_t last, flush;
    sl_chain_t *cl, *ln, **ll, *chain;
    sl_connection_t *c;
    sl_http_write_filter_ctx_t *ctx;

    c = r->connection;

    if (c->error) {
        return SL_ERROR;
    }

    ctx = sl_http_get_module_ctx(r, sl_http_write_filter_module);
    if (ctx == NULL) {
        ctx = sl_pcalloc(r->pool, sizeof(sl_http_write_filter_ctx_t));
        if (ctx == NULL) {
            return SL_ERROR;
        }
        sl_http_set_ctx(r, ctx, sl_http_write_filter_module);
    }

    size = 0;
    flush = 0;
    last = 0;
    ll = &r->out;

    for (cl = r->out; cl; cl = cl->next) {
        ll = &cl->next;
        if (!sl_buf_special(cl->buf)) {
            size += sl_buf_size(cl->buf);
        }
        flush |= cl->buf->flush | cl->buf->recycled;
        last |= cl->buf->last_buf;
    }

    for (ln = in; ln; ln = ln->next) {
        if (ln->buf == NULL) {
            continue;
        }
        cl = sl_http_write_filter_link(r, ctx);
        if (cl == NULL) {
            *ll = NULL;
            return SL_ERROR;
        }
        cl->buf = ln->buf;
        *ll = cl;
        ll = &cl->next;

        if (!sl_buf_special(cl->buf)) {
            size += sl_buf_size(cl->buf);
        }
        flush |= cl->buf->flush | cl->buf->recycled;
        last |= cl->buf->last_buf;
    }

    *ll = NULL;

    /* small pieces wait for more, unless this is a flush, the end, or the writer's resume */
    if (!last && !flush && in && size < SL_HTTP_POSTPONE_OUTPUT) {
        return SL_OK;
    }

    if (size == 0) {
        /* only flags (or nothing) are queued: nothing reaches the socket */
        for (cl = r->out; cl; cl = ln) {
            ln = cl->next;
            cl->next = ctx->free;
            ctx->free = cl;
        }
        r->out = NULL;
        return SL_OK;
    }

    chain = c->send_chain(c, r->out, 0);

    if (chain == SL_CHAIN_ERROR) {
        c->error = 1;
        return SL_ERROR;
    }

    for (cl = r->out; cl && cl != chain; cl = ln) {
        ln = cl->next;
        cl->next = ctx->free;
        ctx->free = cl;
    }

    r->out = chain;

    if (chain) {
        if (c->write->ready) {
            /* stopped by a send limit, not by the socket: no event would come, so post one */
            sl_post_event(c->write, &sl_posted_events);
        }
        return SL_AGAIN;
    }

    return SL_OK;
}

static sl_int_t
sl_http_write_filter_init(sl_conf_t *cf)
{
    sl_unused(cf);
    sl_http_top_body_filter = sl_http_write_filter;
    return SL_OK;
}
