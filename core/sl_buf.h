/*
 * sl_buf.h: buffers are windows [pos, last) over memory [start, end) or over
 * a file range [file_pos, file_last); chains link them. Request and response
 * bodies move as chains so that no body is ever copied into one growing block.
 */
#ifndef SL_BUF_H
#define SL_BUF_H

#include "sl_config.h"
#include "sl_palloc.h"

typedef struct sl_buf_s sl_buf_t;
typedef struct sl_chain_s sl_chain_t;

struct sl_buf_s {
    u_char *pos;
    u_char *last;
    off_t file_pos;
    off_t file_last;
    u_char *start; /* start of the memory block */
    u_char *end;   /* end of the memory block */
    void *tag;     /* the owner, so a module can recognise its own buffers */
    sl_fd_t fd;    /* the file when in_file */
    sl_buf_t *shadow;

    unsigned temporary : 1; /* memory that may be changed */
    unsigned memory : 1;    /* read-only memory (static text) */
    unsigned in_file : 1;
    unsigned flush : 1;
    unsigned sync : 1;
    unsigned last_buf : 1;      /* last buffer of the whole response/body */
    unsigned last_in_chain : 1; /* last buffer of this chain (subrequests) */
    unsigned recycled : 1;
};

struct sl_chain_s {
    sl_buf_t *buf;
    sl_chain_t *next;
};

typedef struct {
    sl_int_t num;
    size_t size;
} sl_bufs_t;

#define sl_buf_in_memory(b) ((b)->temporary || (b)->memory)
#define sl_buf_in_memory_only(b) (sl_buf_in_memory(b) && !(b)->in_file)
#define sl_buf_special(b) \
    (((b)->flush || (b)->last_buf || (b)->sync) && !sl_buf_in_memory(b) && !(b)->in_file)
#define sl_buf_size(b) \
    (sl_buf_in_memory(b) ? (off_t) ((b)->last - (b)->pos) : ((b)->file_last - (b)->file_pos))

#define sl_calloc_buf(pool) sl_pcalloc(pool, sizeof(sl_buf_t))

/* A temporary buffer with size bytes of pool memory; NULL when out of memory. */
sl_buf_t *sl_create_temp_buf(sl_pool_t *pool, size_t size);
/* A chain link from the pool (links are reused through sl_free_chain). */
sl_chain_t *sl_alloc_chain_link(sl_pool_t *pool);
/* Appends copies of the links of in to *chain; SL_OK or SL_ERROR. */
sl_int_t sl_chain_add_copy(sl_pool_t *pool, sl_chain_t **chain, sl_chain_t *in);
/* Total bytes in a chain. */
off_t sl_chain_size(sl_chain_t *in);

#endif /* SL_BUF_H */
