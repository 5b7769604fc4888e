/*
 * sl_slab.c: the slab allocator of shared memory zones.
 *
 * Every page has a descriptor; the low two bits of its prev field give the
 * page's type:
 *   FREE   in a free run. The run's first page (slab = run length) is on the
 *          free list; its last page's prev points back at the first, so a
 *          page freed just after the run can find the run's head; pages in
 *          between hold zeros.
 *   PAGE   first page of a multi-page allocation (slab = its page count).
 *   BUSY   any later page of such an allocation.
 *   CHUNKS a page cut into chunks of 1 << slab bytes, with a bitmap of the
 *          chunks in use; on its size class list while it has a free chunk.
 * Bitmaps live outside the pages (one fixed-size bitmap per page, enough
 * for 8-byte chunks), so a page yields all of its chunks to callers.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_shmtx.h"
#include "sl_slab.h"

#define SL_SLAB_FREE 0
#define SL_SLAB_PAGE 1
#define SL_SLAB_BUSY 2
#define SL_SLAB_CHUNKS 3
#define SL_SLAB_TYPE_MASK ((uintptr_t) 3)

#define SL_SLAB_WORD_BITS (8 * sizeof(uintptr_t))
#define SL_SLAB_MAP_WORDS ((SL_SLAB_PAGE_SIZE >> SL_SLAB_MIN_SHIFT) / SL_SLAB_WORD_BITS)
#define SL_SLAB_BUSY_WORD (~(uintptr_t) 0)
#define SL_SLAB_NAME_MAX 255

#define sl_slab_type(page) ((page)->prev & SL_SLAB_TYPE_MASK)
#define sl_slab_prev(page) ((sl_slab_page_t *) ((page)->prev & ~SL_SLAB_TYPE_MASK))
#define sl_slab_page_addr(pool, page) \
    ((pool)->start + ((uintptr_t) ((page) - (pool)->pages) << SL_SLAB_PAGE_SHIFT))
#define sl_slab_page_map(pool, page) \
    ((pool)->bitmaps + (uintptr_t) ((page) - (pool)->pages) * SL_SLAB_MAP_WORDS)

static void sl_slab_link(sl_slab_page_t *head, sl_slab_page_t *page);
static void sl_slab_unlink(sl_slab_page_t *page);
static sl_slab_page_t *sl_slab_alloc_pages(sl_slab_pool_t *pool, sl_uint_t pages);
static void sl_slab_free_pages(sl_slab_pool_t *pool, sl_slab_page_t *page, sl_uint_t pages);
static sl_uint_t sl_slab_map_words(size_t shift);
static uintptr_t sl_slab_map_empty_word(size_t shift);
static void sl_slab_error(sl_slab_pool_t *pool, sl_uint_t level, const char *text);

sl_int_t
sl_slab_init(sl_slab_pool_t *pool)
{
    u_char *p, *name;
    size_t len, per_page, meta;
    uintptr_t start, end;
    sl_uint_t i, n;

    len = sl_min(pool->name.len, SL_SLAB_NAME_MAX);
    name = pool->name.data;

    pool->min_shift = SL_SLAB_MIN_SHIFT;
    pool->min_size = (size_t) 1 << SL_SLAB_MIN_SHIFT;
    pool->log_nomem = 1;
    pool->data = NULL;
    pool->addr = pool;

    /* until it is copied, errors name the zone from the caller's memory */
    pool->name.len = name ? len : 0;

    end = (uintptr_t) pool->end;

    meta = sizeof(sl_slab_pool_t) + SL_SLAB_SLOTS * sizeof(sl_slab_page_t)
           + SL_SLAB_SLOTS * sizeof(sl_slab_stat_t) + len + sizeof(uintptr_t);

    if (end < (uintptr_t) pool || end - (uintptr_t) pool < meta) {
        sl_slab_error(pool, SL_LOG_EMERG, "shared memory zone too small for a slab pool");
        return SL_ERROR;
    }

    p = (u_char *) pool + sizeof(sl_slab_pool_t);

    pool->slots = (sl_slab_page_t *) p;
    p += SL_SLAB_SLOTS * sizeof(sl_slab_page_t);

    pool->stats = (sl_slab_stat_t *) p;
    p += SL_SLAB_SLOTS * sizeof(sl_slab_stat_t);

    if (pool->name.len) {
        sl_memcpy(p, name, len);
        pool->name.data = p;
        p += len;

    } else {
        pool->name.data = (u_char *) "";
    }

    p = sl_align_ptr(p, sizeof(uintptr_t));

    for (i = 0; i < SL_SLAB_SLOTS; i++) {
        pool->slots[i].slab = 0;
        pool->slots[i].next = &pool->slots[i];
        pool->slots[i].prev = (uintptr_t) &pool->slots[i];
    }

    sl_memzero(pool->stats, SL_SLAB_SLOTS * sizeof(sl_slab_stat_t));

    /* as many pages as fit with their descriptors, bitmaps and the page alignment */

    per_page = SL_SLAB_PAGE_SIZE + sizeof(sl_slab_page_t) + SL_SLAB_MAP_WORDS * sizeof(uintptr_t);
    n = (end - (uintptr_t) p) / per_page;

    for (;;) {
        if (n == 0) {
            sl_slab_error(pool, SL_LOG_EMERG, "shared memory zone too small for a slab pool");
            return SL_ERROR;
        }

        start =
            (uintptr_t) p + n * (sizeof(sl_slab_page_t) + SL_SLAB_MAP_WORDS * sizeof(uintptr_t));
        start = sl_align(start, (uintptr_t) SL_SLAB_PAGE_SIZE);

        if (start <= end && (end - start) / SL_SLAB_PAGE_SIZE >= n) {
            break;
        }

        n--;
    }

    pool->pages = (sl_slab_page_t *) p;
    pool->last = pool->pages + n;
    pool->bitmaps = (uintptr_t *) (p + n * sizeof(sl_slab_page_t));
    pool->npages = n;
    pool->pfree = 0;
    pool->start = (u_char *) start;

    sl_memzero(p, start - (uintptr_t) p);

    pool->free.slab = 0;
    pool->free.next = &pool->free;
    pool->free.prev = (uintptr_t) &pool->free;

    sl_slab_free_pages(pool, pool->pages, n);

    if (sl_shmtx_create(&pool->mutex, &pool->lock, NULL) != SL_OK) {
        return SL_ERROR;
    }

    return SL_OK;
}

void *
sl_slab_alloc(sl_slab_pool_t *pool, size_t size)
{
    void *p;

    sl_shmtx_lock(&pool->mutex);

    p = sl_slab_alloc_locked(pool, size);

    sl_shmtx_unlock(&pool->mutex);

    return p;
}

void *
sl_slab_calloc(sl_slab_pool_t *pool, size_t size)
{
    void *p;

    sl_shmtx_lock(&pool->mutex);

    p = sl_slab_calloc_locked(pool, size);

    sl_shmtx_unlock(&pool->mutex);

    return p;
}

void *
sl_slab_calloc_locked(sl_slab_pool_t *pool, size_t size)
{
    void *p;

    p = sl_slab_alloc_locked(pool, size);

    if (p && size) {
        sl_memzero(p, size);
    }

    return p;
}

void *
sl_slab_alloc_locked(sl_slab_pool_t *pool, size_t size)
{
    size_t shift;
    uintptr_t *map;
    sl_uint_t slot, w, words, i, pages;
    sl_slab_page_t *head, *page;

    if (size > SL_SLAB_PAGE_SIZE / 2) {
        if (size > pool->npages * (size_t) SL_SLAB_PAGE_SIZE) {
            goto failed;
        }

        pages = (size + SL_SLAB_PAGE_SIZE - 1) >> SL_SLAB_PAGE_SHIFT;

        page = sl_slab_alloc_pages(pool, pages);
        if (page == NULL) {
            goto failed;
        }

        return sl_slab_page_addr(pool, page);
    }

    shift = SL_SLAB_MIN_SHIFT;

    while (((size_t) 1 << shift) < size) {
        shift++;
    }

    slot = shift - SL_SLAB_MIN_SHIFT;
    head = &pool->slots[slot];
    words = sl_slab_map_words(shift);

    pool->stats[slot].reqs++;

    page = head->next;

    if (page == head) {
        page = sl_slab_alloc_pages(pool, 1);

        if (page == NULL) {
            pool->stats[slot].fails++;
            goto failed;
        }

        page->slab = shift;
        page->prev = SL_SLAB_CHUNKS;

        map = sl_slab_page_map(pool, page);
        map[0] = sl_slab_map_empty_word(shift);

        for (w = 1; w < words; w++) {
            map[w] = 0;
        }

        sl_slab_link(head, page);

        pool->stats[slot].total += (sl_uint_t) SL_SLAB_PAGE_SIZE >> shift;
    }

    map = sl_slab_page_map(pool, page);

    /* a page on the list has a free chunk, so some word is not full */

    for (w = 0; w < words && map[w] == SL_SLAB_BUSY_WORD; w++) {
        /* void */
    }

    if (w == words) {
        sl_slab_unlink(page);
        sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_alloc(): full page on a free list");
        goto failed;
    }

    i = (sl_uint_t) __builtin_ctzl(~map[w]);
    map[w] |= (uintptr_t) 1 << i;
    i += w * SL_SLAB_WORD_BITS;

    for (w = 0; w < words && map[w] == SL_SLAB_BUSY_WORD; w++) {
        /* void */
    }

    if (w == words) {
        sl_slab_unlink(page);
    }

    pool->stats[slot].used++;

    return sl_slab_page_addr(pool, page) + (i << shift);

failed:

    if (pool->log_nomem) {
        sl_slab_error(pool, SL_LOG_CRIT, "sl_slab_alloc() failed: no memory");
    }

    return NULL;
}

void
sl_slab_free(sl_slab_pool_t *pool, void *p)
{
    sl_shmtx_lock(&pool->mutex);

    sl_slab_free_locked(pool, p);

    sl_shmtx_unlock(&pool->mutex);
}

void
sl_slab_free_locked(sl_slab_pool_t *pool, void *p)
{
    size_t shift;
    uintptr_t addr, offset, *map, bit;
    sl_uint_t slot, w, words, i, was_full;
    sl_slab_page_t *page;

    addr = (uintptr_t) p;

    if (addr < (uintptr_t) pool->start
        || addr - (uintptr_t) pool->start >= pool->npages * (uintptr_t) SL_SLAB_PAGE_SIZE) {
        sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): outside of pool");
        return;
    }

    offset = addr - (uintptr_t) pool->start;
    page = &pool->pages[offset >> SL_SLAB_PAGE_SHIFT];
    offset &= SL_SLAB_PAGE_SIZE - 1;

    switch (sl_slab_type(page)) {
    case SL_SLAB_CHUNKS:
        shift = page->slab;

        if (offset & (((uintptr_t) 1 << shift) - 1)) {
            sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): pointer to wrong chunk");
            return;
        }

        map = sl_slab_page_map(pool, page);
        i = offset >> shift;
        w = i / SL_SLAB_WORD_BITS;
        bit = (uintptr_t) 1 << (i % SL_SLAB_WORD_BITS);

        if (!(map[w] & bit)) {
            sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): chunk is already free");
            return;
        }

        slot = shift - SL_SLAB_MIN_SHIFT;
        words = sl_slab_map_words(shift);
        was_full = (page->next == NULL);

        map[w] &= ~bit;
        pool->stats[slot].used--;

        for (w = 1; w < words && map[w] == 0; w++) {
            /* void */
        }

        if (w == words && map[0] == sl_slab_map_empty_word(shift)) {
            if (!was_full) {
                sl_slab_unlink(page);
            }

            pool->stats[slot].total -= (sl_uint_t) SL_SLAB_PAGE_SIZE >> shift;
            sl_slab_free_pages(pool, page, 1);
            return;
        }

        if (was_full) {
            sl_slab_link(&pool->slots[slot], page);
        }

        return;

    case SL_SLAB_PAGE:
        if (offset) {
            sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): pointer to wrong page");
            return;
        }

        sl_slab_free_pages(pool, page, page->slab);
        return;

    case SL_SLAB_BUSY:
        sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): pointer to wrong page");
        return;

    default: /* SL_SLAB_FREE */
        sl_slab_error(pool, SL_LOG_ALERT, "sl_slab_free(): page is already free");
        return;
    }
}

/* First fit from the free list; splits the run and keeps the rest listed. */
static sl_slab_page_t *
sl_slab_alloc_pages(sl_slab_pool_t *pool, sl_uint_t pages)
{
    sl_uint_t i;
    sl_slab_page_t *page, *rest;

    for (page = pool->free.next; page != &pool->free; page = page->next) {
        if (page->slab < pages) {
            continue;
        }

        if (page->slab > pages) {
            rest = page + pages;
            rest->slab = page->slab - pages;

            if (rest->slab > 1) {
                rest[rest->slab - 1].prev = (uintptr_t) rest | SL_SLAB_FREE;
            }

            rest->next = page->next;
            rest->prev = (uintptr_t) sl_slab_prev(page) | SL_SLAB_FREE;
            sl_slab_prev(page)->next = rest;
            rest->next->prev = (uintptr_t) rest | sl_slab_type(rest->next);

        } else {
            sl_slab_unlink(page);
        }

        page->slab = pages;
        page->next = NULL;
        page->prev = SL_SLAB_PAGE;

        for (i = 1; i < pages; i++) {
            page[i].slab = 0;
            page[i].next = NULL;
            page[i].prev = SL_SLAB_BUSY;
        }

        pool->pfree -= pages;

        return page;
    }

    return NULL;
}

/* Marks the run free, merges it with free neighbours and lists the result. */
static void
sl_slab_free_pages(sl_slab_pool_t *pool, sl_slab_page_t *page, sl_uint_t pages)
{
    sl_uint_t i;
    sl_slab_page_t *next, *prev;

    pool->pfree += pages;

    for (i = 0; i < pages; i++) {
        page[i].slab = 0;
        page[i].next = NULL;
        page[i].prev = SL_SLAB_FREE;
    }

    page->slab = pages;

    next = page + pages;

    if (next < pool->last && sl_slab_type(next) == SL_SLAB_FREE && next->slab) {
        sl_slab_unlink(next);
        page->slab += next->slab;
        next->slab = 0;
    }

    if (page > pool->pages) {
        prev = page - 1;

        if (sl_slab_type(prev) == SL_SLAB_FREE) {
            if (prev->slab == 0) {
                /* the last page of a longer run: it points at the run's head */
                next = prev;
                prev = sl_slab_prev(prev);
                next->prev = SL_SLAB_FREE;
            }

            sl_slab_unlink(prev);
            prev->slab += page->slab;
            page->slab = 0;
            page = prev;
        }
    }

    if (page->slab > 1) {
        page[page->slab - 1].prev = (uintptr_t) page | SL_SLAB_FREE;
    }

    sl_slab_link(&pool->free, page);
}

/* Inserts page after head, keeping the type bits of both neighbours. */
static void
sl_slab_link(sl_slab_page_t *head, sl_slab_page_t *page)
{
    page->next = head->next;
    page->prev = (uintptr_t) head | sl_slab_type(page);
    head->next->prev = (uintptr_t) page | sl_slab_type(head->next);
    head->next = page;
}

static void
sl_slab_unlink(sl_slab_page_t *page)
{
    sl_slab_page_t *prev, *next;

    prev = sl_slab_prev(page);
    next = page->next;

    prev->next = next;
    next->prev = (uintptr_t) prev | sl_slab_type(next);

    page->next = NULL;
    page->prev &= SL_SLAB_TYPE_MASK;
}

/* Bitmap words a page of 1 << shift byte chunks uses. */
static sl_uint_t
sl_slab_map_words(size_t shift)
{
    sl_uint_t chunks;

    chunks = (sl_uint_t) SL_SLAB_PAGE_SIZE >> shift;

    return chunks < SL_SLAB_WORD_BITS ? 1 : chunks / SL_SLAB_WORD_BITS;
}

/* First bitmap word of an empty page: the bits past the last chunk are set. */
static uintptr_t
sl_slab_map_empty_word(size_t shift)
{
    sl_uint_t chunks;

    chunks = (sl_uint_t) SL_SLAB_PAGE_SIZE >> shift;

    return chunks < SL_SLAB_WORD_BITS ? SL_SLAB_BUSY_WORD << chunks : 0;
}

static void
sl_slab_error(sl_slab_pool_t *pool, sl_uint_t level, const char *text)
{
    sl_log_t *log;

    log = sl_cycle ? sl_cycle->log : NULL;

    if (log) {
        sl_log_error(level, log, 0, "%s in zone \"%V\"", text, &pool->name);
    } else {
        sl_log_stderr(0, "%s in zone \"%V\"", text, &pool->name);
    }
}
