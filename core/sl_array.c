/*
 * sl_array.c: pool arrays that double when full, and lists of parts whose
 * elements never move.
 */
#include "sl_config.h"
#include "sl_array.h"


sl_int_t
sl_array_init(sl_array_t *array, sl_pool_t *pool, sl_uint_t n, size_t size)
{
    array->nelts = 0;
    array->size = size;
    array->nalloc = n;
    array->pool = pool;
    array->elts = NULL;

    if (size != 0 && n > SIZE_MAX / size) {
        return SL_ERROR;
    }

    array->elts = sl_palloc(pool, n * size);
    if (array->elts == NULL) {
        return SL_ERROR;
    }

    return SL_OK;
}


sl_array_t *
sl_array_create(sl_pool_t *p, sl_uint_t n, size_t size)
{
    sl_array_t *a;

    a = sl_palloc(p, sizeof(sl_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (sl_array_init(a, p, n, size) != SL_OK) {
        return NULL;
    }

    return a;
}


/* Moves the elements into room for nalloc elements; SL_OK or SL_ERROR. */
static sl_int_t
sl_array_grow(sl_array_t *a, sl_uint_t nalloc)
{
    void *new;

    if (a->size != 0 && nalloc > SIZE_MAX / a->size) {
        return SL_ERROR;
    }

    new = sl_palloc(a->pool, nalloc * a->size);
    if (new == NULL) {
        return SL_ERROR;
    }

    if (a->nelts) {
        memcpy(new, a->elts, a->nelts * a->size);
    }

    /* the old storage is left to the pool, so a stale element pointer still reads old data */
    a->elts = new;
    a->nalloc = nalloc;

    return SL_OK;
}


void *
sl_array_push(sl_array_t *a)
{
    void *elt;
    sl_uint_t nalloc;

    if (a->nelts == a->nalloc) {
        if (a->nalloc > SL_MAX_INT_T_VALUE / 2) {
            return NULL;
        }

        nalloc = a->nalloc ? 2 * a->nalloc : 1;

        if (sl_array_grow(a, nalloc) != SL_OK) {
            return NULL;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts++;

    return elt;
}


void *
sl_array_push_n(sl_array_t *a, sl_uint_t n)
{
    void *elt;
    sl_uint_t nalloc;

    if (n > a->nalloc - a->nelts) {
        nalloc = (n >= a->nalloc) ? n : a->nalloc;

        if (nalloc > SL_MAX_INT_T_VALUE / 2) {
            return NULL;
        }

        if (sl_array_grow(a, 2 * nalloc) != SL_OK) {
            return NULL;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts += n;

    return elt;
}


sl_int_t
sl_list_init(sl_list_t *list, sl_pool_t *pool, sl_uint_t n, size_t size)
{
    list->part.nelts = 0;
    list->part.next = NULL;
    list->last = &list->part;
    list->size = size;
    list->nalloc = n ? n : 1;
    list->pool = pool;

    if (size != 0 && list->nalloc > SIZE_MAX / size) {
        list->part.elts = NULL;
        return SL_ERROR;
    }

    list->part.elts = sl_palloc(pool, list->nalloc * size);
    if (list->part.elts == NULL) {
        return SL_ERROR;
    }

    return SL_OK;
}


sl_list_t *
sl_list_create(sl_pool_t *pool, sl_uint_t n, size_t size)
{
    sl_list_t *list;

    list = sl_palloc(pool, sizeof(sl_list_t));
    if (list == NULL) {
        return NULL;
    }

    if (sl_list_init(list, pool, n, size) != SL_OK) {
        return NULL;
    }

    return list;
}


void *
sl_list_push(sl_list_t *l)
{
    void *elt;
    sl_list_part_t *last;

    last = l->last;

    if (last->nelts == l->nalloc) {
        last = sl_palloc(l->pool, sizeof(sl_list_part_t));
        if (last == NULL) {
            return NULL;
        }

        last->elts = sl_palloc(l->pool, l->nalloc * l->size);
        if (last->elts == NULL) {
            return NULL;
        }

        last->nelts = 0;
        last->next = NULL;

        l->last->next = last;
        l->last = last;
    }

    elt = (u_char *) last->elts + l->size * last->nelts;
    last->nelts++;

    return elt;
}
