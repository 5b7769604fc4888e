/*
 * sl_slab.h: a slab allocator inside one shared memory zone.
 *
 * The pool header sits at the start of the zone; page descriptors, chunk
 * bitmaps and statistics follow it, then the pages (4096 bytes, aligned).
 * Requests up to half a page come from power-of-two chunks (8 bytes up to
 * 2048) carved from pages of their size class; larger requests take whole
 * contiguous pages. Freed pages merge with free neighbours, so freeing
 * everything returns the zone to one free run.
 *
 * sl_slab_alloc(), _calloc() and _free() take the zone lock themselves; the
 * _locked variants are for callers already holding pool->mutex (through
 * sl_shmtx_lock()). Log lines go to the cycle's log (or stderr) and carry
 * the zone's name: "... in zone NAME".
 */
#ifndef SL_SLAB_H
#define SL_SLAB_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_shmtx.h"

#define SL_SLAB_PAGE_SIZE 4096
#define SL_SLAB_PAGE_SHIFT 12
#define SL_SLAB_MIN_SHIFT 3
/* Size classes: shifts SL_SLAB_MIN_SHIFT .. SL_SLAB_PAGE_SHIFT - 1. */
#define SL_SLAB_SLOTS (SL_SLAB_PAGE_SHIFT - SL_SLAB_MIN_SHIFT)

typedef struct sl_slab_page_s sl_slab_page_t;

struct sl_slab_page_s {
    uintptr_t slab;       /* free run head: its pages; page run: its pages; chunks: the shift */
    sl_slab_page_t *next; /* in the free list or a size-class list; NULL when in none */
    uintptr_t prev;       /* previous in that list, the low 2 bits hold the page type */
};

typedef struct {
    sl_uint_t total; /* chunks in the pages of this class */
    sl_uint_t used;  /* chunks handed out */
    sl_uint_t reqs;  /* allocations asked for */
    sl_uint_t fails; /* allocations refused for lack of a page */
} sl_slab_stat_t;

typedef struct {
    sl_shmtx_sh_t lock; /* the zone lock itself */
    sl_shmtx_t mutex;   /* handle for sl_shmtx_lock() */

    size_t min_size;  /* smallest chunk */
    size_t min_shift; /* its shift */

    sl_slab_page_t *pages; /* one descriptor per page */
    sl_slab_page_t *last;  /* past the last descriptor */
    sl_slab_page_t free;   /* list head of free page runs */
    sl_slab_page_t *slots; /* per size class: list head of pages with a free chunk */
    sl_slab_stat_t *stats; /* per size class */
    uintptr_t *bitmaps;    /* per page: the chunks in use */
    sl_uint_t npages;      /* pages in the zone */
    sl_uint_t pfree;       /* free pages */

    u_char *start; /* the first page */
    u_char *end;   /* end of the zone: set by the caller before sl_slab_init() */

    sl_str_t name;       /* zone name for log lines, copied into the zone by init */
    sl_uint_t log_nomem; /* log failed allocations at crit; init sets it to 1 */

    void *data; /* free for the zone's owner: its root structure */
    void *addr; /* the address the pool was built at (the pool itself) */
} sl_slab_pool_t;

/*
 * Builds an empty allocator over [pool, pool->end): the caller maps the zone,
 * points pool at its start, sets pool->end and optionally pool->name (any
 * memory; it is copied), then calls this once, before fork. Creates the lock.
 * SL_OK, or SL_ERROR (logged) when the zone cannot hold one page or the lock
 * cannot be created.
 */
sl_int_t sl_slab_init(sl_slab_pool_t *pool);

/*
 * Returns size bytes (8-byte aligned; size-aligned up to half a page, page
 * aligned above) or NULL when the zone is full, logging each failure at crit
 * when log_nomem is set. size 0 gets the smallest chunk.
 */
void *sl_slab_alloc(sl_slab_pool_t *pool, size_t size);
void *sl_slab_alloc_locked(sl_slab_pool_t *pool, size_t size);
/* As sl_slab_alloc(), zero-filled. */
void *sl_slab_calloc(sl_slab_pool_t *pool, size_t size);
void *sl_slab_calloc_locked(sl_slab_pool_t *pool, size_t size);

/*
 * Returns p (from this pool's alloc) to the pool. A pointer the pool did not
 * hand out (outside the zone, inside a chunk, already free) is logged at
 * alert and ignored; the pool stays consistent.
 */
void sl_slab_free(sl_slab_pool_t *pool, void *p);
void sl_slab_free_locked(sl_slab_pool_t *pool, void *p);

#endif /* SL_SLAB_H */
