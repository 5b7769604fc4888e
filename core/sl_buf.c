/*
 * sl_buf.c: buffers and chains in a pool.
 */
#include "sl_config.h"
#include "sl_buf.h"


sl_buf_t *
sl_create_temp_buf(sl_pool_t *pool, size_t size)
{
    sl_buf_t *b;

    b = sl_calloc_buf(pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = sl_palloc(pool, size);
    if (b->start == NULL) {
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + size;
    b->fd = SL_INVALID_FILE;
    b->temporary = 1;

    return b;
}


sl_chain_t *
sl_alloc_chain_link(sl_pool_t *pool)
{
    sl_chain_t *cl;

    cl = sl_palloc(pool, sizeof(sl_chain_t));
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = NULL;
    cl->next = NULL;

    return cl;
}


sl_int_t
sl_chain_add_copy(sl_pool_t *pool, sl_chain_t **chain, sl_chain_t *in)
{
    sl_chain_t *cl, **ll;

    ll = chain;

    for (cl = *chain; cl; cl = cl->next) {
        ll = &cl->next;
    }

    while (in) {
        cl = sl_alloc_chain_link(pool);
        if (cl == NULL) {
            *ll = NULL;
            return SL_ERROR;
        }

        cl->buf = in->buf;
        *ll = cl;
        ll = &cl->next;
        in = in->next;
    }

    *ll = NULL;

    return SL_OK;
}


off_t
sl_chain_size(sl_chain_t *in)
{
    off_t size;

    for (size = 0; in; in = in->next) {
        if (in->buf == NULL || sl_buf_special(in->buf)) {
            continue;
        }

        size += sl_buf_size(in->buf);
    }

    return size;
}
