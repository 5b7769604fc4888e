/*
 * sl_array.h: growable arrays in a pool, and singly linked lists of array
 * parts (which never move their elements, so pointers to elements stay valid).
 */
#ifndef SL_ARRAY_H
#define SL_ARRAY_H

#include "sl_config.h"
#include "sl_palloc.h"

typedef struct {
    void *elts;
    sl_uint_t nelts;
    size_t size;
    sl_uint_t nalloc;
    sl_pool_t *pool;
} sl_array_t;

/* Creates an array of n elements of size bytes; NULL on allocation failure. */
sl_array_t *sl_array_create(sl_pool_t *p, sl_uint_t n, size_t size);
/* Initialises an array in place; SL_OK or SL_ERROR. */
sl_int_t sl_array_init(sl_array_t *array, sl_pool_t *pool, sl_uint_t n, size_t size);
/* Appends one (uninitialised) element and returns it; doubles when full. */
void *sl_array_push(sl_array_t *a);
void *sl_array_push_n(sl_array_t *a, sl_uint_t n);

typedef struct sl_list_part_s sl_list_part_t;
struct sl_list_part_s {
    void *elts;
    sl_uint_t nelts;
    sl_list_part_t *next;
};

typedef struct {
    sl_list_part_t *last;
    sl_list_part_t part;
    size_t size;
    sl_uint_t nalloc;
    sl_pool_t *pool;
} sl_list_t;

sl_int_t sl_list_init(sl_list_t *list, sl_pool_t *pool, sl_uint_t n, size_t size);
sl_list_t *sl_list_create(sl_pool_t *pool, sl_uint_t n, size_t size);
/* Appends one element; existing elements never move. */
void *sl_list_push(sl_list_t *list);

/* Intrusive doubly linked queue with a sentinel. */
typedef struct sl_queue_s sl_queue_t;
struct sl_queue_s {
    sl_queue_t *prev;
    sl_queue_t *next;
};

#define sl_queue_init(q) (q)->prev = q; (q)->next = q
#define sl_queue_empty(h) ((h) == (h)->prev)
#define sl_queue_insert_head(h, x) \
    (x)->next = (h)->next; (x)->next->prev = x; (x)->prev = h; (h)->next = x
#define sl_queue_insert_tail(h, x) \
    (x)->prev = (h)->prev; (x)->prev->next = x; (x)->next = h; (h)->prev = x
#define sl_queue_head(h) (h)->next
#define sl_queue_last(h) (h)->prev
#define sl_queue_sentinel(h) (h)
#define sl_queue_next(q) (q)->next
#define sl_queue_prev(q) (q)->prev
#define sl_queue_remove(x) \
    (x)->next->prev = (x)->prev; (x)->prev->next = (x)->next; (x)->prev = NULL; (x)->next = NULL
#define sl_queue_data(q, type, link) (type *) ((u_char *) q - offsetof(type, link))

#endif /* SL_ARRAY_H */
