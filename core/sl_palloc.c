/*
 * sl_palloc.c: memory pools. Blocks come from posix_memalign() and large
 * allocations from malloc(), so ASan sees every pool allocation's heap
 * chunk; under ASan the unused tail of each block is also poisoned, so an
 * overrun past the last allocation of a block is reported.
 */
#include "sl_config.h"
#include "sl_palloc.h"
#include "sl_log.h"

#if defined(__SANITIZE_ADDRESS__)
#define SL_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_POOL_ASAN 1
#endif
#endif

#ifdef SL_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define sl_pool_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define sl_pool_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define sl_pool_poison(p, n) ((void) (p), (void) (n))
#define sl_pool_unpoison(p, n) ((void) (p), (void) (n))
#endif

/* A block whose allocation failed this many times is skipped from then on. */
#define SL_POOL_MAX_FAILED 4
/* How many large entries are searched for a free slot before a new one is made. */
#define SL_POOL_LARGE_REUSE 3

typedef struct {
    sl_fd_t fd;
    sl_log_t *log;
} sl_pool_cleanup_fd_t;

static void *sl_palloc_small(sl_pool_t *pool, size_t size, int align);
static void *sl_palloc_block(sl_pool_t *pool, size_t size);
static void *sl_palloc_large(sl_pool_t *pool, size_t size);


void *
sl_alloc(size_t size, sl_log_t *log)
{
    void *p;

    p = malloc(size);
    if (p == NULL && log != NULL) {
        sl_log_error(SL_LOG_EMERG, log, sl_errno, "malloc(%uz) failed", size);
    }

    return p;
}


void *
sl_calloc(size_t size, sl_log_t *log)
{
    void *p;

    p = sl_alloc(size, log);
    if (p) {
        sl_memzero(p, size);
    }

    return p;
}


static void *
sl_memalign(size_t alignment, size_t size, sl_log_t *log)
{
    void *p;
    int err;

    err = posix_memalign(&p, alignment, size);
    if (err) {
        if (log != NULL) {
            sl_log_error(SL_LOG_EMERG, log, err, "posix_memalign(%uz, %uz) failed", alignment,
                         size);
        }

        return NULL;
    }

    return p;
}


/* The size of every block of the pool: the first block's size. */
static size_t
sl_pool_block_size(sl_pool_t *pool)
{
    return (size_t) (pool->block.end - (u_char *) pool);
}


sl_pool_t *
sl_create_pool(size_t size, sl_log_t *log)
{
    sl_pool_t *p;

    if (size < SL_MIN_POOL_SIZE) {
        size = SL_MIN_POOL_SIZE;
    }

    size = sl_align(size, SL_POOL_ALIGNMENT);
    if (size == 0) {
        return NULL;
    }

    p = sl_memalign(SL_POOL_ALIGNMENT, size, log);
    if (p == NULL) {
        return NULL;
    }

    p->block.last = (u_char *) p + sizeof(sl_pool_t);
    p->block.end = (u_char *) p + size;
    p->block.next = NULL;
    p->block.failed = 0;

    p->max = size - sizeof(sl_pool_t);
    p->current = &p->block;
    p->large = NULL;
    p->cleanup = NULL;
    p->log = log;

    sl_pool_poison(p->block.last, (size_t) (p->block.end - p->block.last));

    return p;
}


void
sl_destroy_pool(sl_pool_t *pool)
{
    sl_pool_block_t *b, *next;
    sl_pool_large_t *l;
    sl_pool_cleanup_t *c;
    size_t size;

    if (pool == NULL) {
        return;
    }

    /* newest first: a later cleanup may use what an earlier one releases */
    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            sl_free(l->alloc);
        }
    }

    size = sl_pool_block_size(pool);

    for (b = pool->block.next; b; b = next) {
        next = b->next;
        sl_pool_unpoison(b, size);
        sl_free(b);
    }

    sl_pool_unpoison(pool, size);
    sl_free(pool);
}


void
sl_reset_pool(sl_pool_t *pool)
{
    sl_pool_block_t *b;
    sl_pool_large_t *l;

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            sl_free(l->alloc);
        }
    }

    pool->block.last = (u_char *) pool + sizeof(sl_pool_t);
    pool->block.failed = 0;
    sl_pool_poison(pool->block.last, (size_t) (pool->block.end - pool->block.last));

    for (b = pool->block.next; b; b = b->next) {
        b->last = (u_char *) b + sizeof(sl_pool_block_t);
        b->failed = 0;
        sl_pool_poison(b->last, (size_t) (b->end - b->last));
    }

    pool->current = &pool->block;
    pool->large = NULL;
    /* the cleanup records lived in the rewound blocks; they are forgotten, not run */
    pool->cleanup = NULL;
}


void *
sl_palloc(sl_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return sl_palloc_small(pool, size, 1);
    }

    return sl_palloc_large(pool, size);
}


void *
sl_pnalloc(sl_pool_t *pool, size_t size)
{
    if (size <= pool->max) {
        return sl_palloc_small(pool, size, 0);
    }

    return sl_palloc_large(pool, size);
}


void *
sl_pcalloc(sl_pool_t *pool, size_t size)
{
    void *p;

    p = sl_palloc(pool, size);
    if (p) {
        sl_memzero(p, size);
    }

    return p;
}


static void *
sl_palloc_small(sl_pool_t *pool, size_t size, int align)
{
    u_char *m;
    sl_pool_block_t *b;

    for (b = pool->current; b; b = b->next) {
        m = b->last;

        if (align) {
            m = sl_align_ptr(m, SL_ALIGNMENT);
        }

        if (m <= b->end && (size_t) (b->end - m) >= size) {
            b->last = m + size;
            sl_pool_unpoison(m, size);
            return m;
        }
    }

    return sl_palloc_block(pool, size);
}


static void *
sl_palloc_block(sl_pool_t *pool, size_t size)
{
    u_char *m;
    size_t psize;
    sl_pool_block_t *b, *new;

    psize = sl_pool_block_size(pool);

    new = sl_memalign(SL_POOL_ALIGNMENT, psize, pool->log);
    if (new == NULL) {
        return NULL;
    }

    new->end = (u_char *) new + psize;
    new->next = NULL;
    new->failed = 0;

    m = (u_char *) new + sizeof(sl_pool_block_t);
    m = sl_align_ptr(m, SL_ALIGNMENT);
    new->last = m + size;

    sl_pool_poison(new->last, (size_t) (new->end - new->last));

    /* every block that could not serve this request counts one more failure */
    for (b = pool->current; b->next; b = b->next) {
        if (b->failed++ > SL_POOL_MAX_FAILED) {
            pool->current = b->next;
        }
    }

    b->next = new;

    return m;
}


static void *
sl_palloc_large(sl_pool_t *pool, size_t size)
{
    void *p;
    sl_uint_t n;
    sl_pool_large_t *large;

    p = sl_alloc(size, pool->log);
    if (p == NULL) {
        return NULL;
    }

    n = 0;

    for (large = pool->large; large; large = large->next) {
        if (large->alloc == NULL) {
            large->alloc = p;
            return p;
        }

        if (++n > SL_POOL_LARGE_REUSE) {
            break;
        }
    }

    large = sl_palloc_small(pool, sizeof(sl_pool_large_t), 1);
    if (large == NULL) {
        sl_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}


sl_int_t
sl_pfree(sl_pool_t *pool, void *p)
{
    sl_pool_large_t *l;

    if (p == NULL) {
        return SL_DECLINED;
    }

    for (l = pool->large; l; l = l->next) {
        if (p == l->alloc) {
            sl_free(l->alloc);
            l->alloc = NULL;
            return SL_OK;
        }
    }

    return SL_DECLINED;
}


sl_pool_cleanup_t *
sl_pool_cleanup_add(sl_pool_t *pool, size_t size)
{
    sl_pool_cleanup_t *c;

    c = sl_palloc(pool, sizeof(sl_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = sl_palloc(pool, size);
        if (c->data == NULL) {
            return NULL;
        }

    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = pool->cleanup;
    pool->cleanup = c;

    return c;
}


static void
sl_pool_cleanup_close_fd(void *data)
{
    sl_pool_cleanup_fd_t *c = data;

    if (c->fd == SL_INVALID_FILE) {
        return;
    }

    if (close(c->fd) == -1 && c->log != NULL) {
        sl_log_error(SL_LOG_ALERT, c->log, sl_errno, "close() fd %d failed", c->fd);
    }
}


sl_int_t
sl_pool_cleanup_fd(sl_pool_t *pool, sl_fd_t fd)
{
    sl_pool_cleanup_t *cln;
    sl_pool_cleanup_fd_t *c;

    cln = sl_pool_cleanup_add(pool, sizeof(sl_pool_cleanup_fd_t));
    if (cln == NULL) {
        return SL_ERROR;
    }

    c = cln->data;
    c->fd = fd;
    c->log = pool->log;
    cln->handler = sl_pool_cleanup_close_fd;

    return SL_OK;
}
