/*
 * sl_palloc.h: memory pools. A pool hands out memory that is freed all at
 * once when the pool is destroyed; cleanups registered on it run first, in
 * reverse order of registration. Large allocations (over the pool's block
 * payload) are kept on a list and may be freed early with sl_pfree().
 */
#ifndef SL_PALLOC_H
#define SL_PALLOC_H

#include "sl_config.h"

typedef struct sl_log_s sl_log_t;
typedef struct sl_pool_s sl_pool_t;
typedef void (*sl_pool_cleanup_pt)(void *data);

typedef struct sl_pool_cleanup_s sl_pool_cleanup_t;
struct sl_pool_cleanup_s {
    sl_pool_cleanup_pt handler;
    void *data;
    sl_pool_cleanup_t *next;
};

typedef struct sl_pool_large_s sl_pool_large_t;
struct sl_pool_large_s {
    sl_pool_large_t *next;
    void *alloc;
};

typedef struct sl_pool_block_s sl_pool_block_t;
struct sl_pool_block_s {
    u_char *last;
    u_char *end;
    sl_pool_block_t *next;
    sl_uint_t failed;
};

struct sl_pool_s {
    sl_pool_block_t block; /* the first block; memory follows the pool */
    size_t max;             /* largest allocation served from blocks */
    sl_pool_block_t *current;
    sl_pool_large_t *large;
    sl_pool_cleanup_t *cleanup;
    sl_log_t *log;
};

#define SL_DEFAULT_POOL_SIZE (16 * 1024)
#define SL_POOL_ALIGNMENT 16
#define SL_MIN_POOL_SIZE 256

/* Plain heap helpers that log on failure; return NULL when out of memory. */
void *sl_alloc(size_t size, sl_log_t *log);
void *sl_calloc(size_t size, sl_log_t *log);
#define sl_free free

/* Creates a pool whose first block is size bytes (>= SL_MIN_POOL_SIZE). */
sl_pool_t *sl_create_pool(size_t size, sl_log_t *log);
/* Runs the cleanups, frees every block and large allocation. NULL is fine. */
void sl_destroy_pool(sl_pool_t *pool);
/* Frees large allocations and rewinds the blocks; cleanups are not run. */
void sl_reset_pool(sl_pool_t *pool);

/* Aligned allocation; NULL when out of memory. */
void *sl_palloc(sl_pool_t *pool, size_t size);
/* Unaligned allocation, for byte strings. */
void *sl_pnalloc(sl_pool_t *pool, size_t size);
/* Zeroed aligned allocation. */
void *sl_pcalloc(sl_pool_t *pool, size_t size);
/* Frees p now if it was a large allocation; SL_OK, or SL_DECLINED otherwise. */
sl_int_t sl_pfree(sl_pool_t *pool, void *p);

/* Adds a cleanup with size bytes of data (data NULL when size is 0). */
sl_pool_cleanup_t *sl_pool_cleanup_add(sl_pool_t *pool, size_t size);

/* Registers close(fd) on the pool's destruction. */
sl_int_t sl_pool_cleanup_fd(sl_pool_t *pool, sl_fd_t fd);

#endif /* SL_PALLOC_H */
