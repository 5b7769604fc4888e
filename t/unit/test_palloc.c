/*
 * test_palloc.c: sl_palloc.c — small and large allocations, alignment,
 * block chaining, cleanup order, reset, early free of large allocations.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_tap.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>

/* An impossible malloc() must return NULL here, not abort the test. */
const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

/* sl_log.o refers to these; the real ones live in sl_cycle.c and sl_conf_file.c. */
__attribute__((weak)) sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    (void) cycle;
    (void) name;
    return NULL;
}

__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...)
{
    (void) level;
    (void) cf;
    (void) err;
    (void) fmt;
}

static char order[16];
static size_t norder;

static void
record_cleanup(void *data)
{
    if (norder < sizeof(order) - 1) {
        order[norder++] = *(char *) data;
    }
}

static sl_uint_t
count_blocks(sl_pool_t *pool)
{
    sl_uint_t n;
    sl_pool_block_t *b;

    for (n = 0, b = &pool->block; b; b = b->next) {
        n++;
    }

    return n;
}

static void
test_small(void)
{
    sl_pool_t *pool;
    u_char *p[2000], *q, *r;
    size_t i, sizes[2000];
    int aligned, intact, inside;
    sl_pool_block_t *b;

    pool = sl_create_pool(1024, NULL);
    ok(pool != NULL, "create pool");
    ok(pool->max > 0 && pool->max < 1024, "max is below the block size");

    aligned = 1;
    for (i = 0; i < sl_nelts(p); i++) {
        sizes[i] = 1 + (i * 7) % 97;
        p[i] = sl_palloc(pool, sizes[i]);
        if (p[i] == NULL) {
            break;
        }
        if ((uintptr_t) p[i] % SL_ALIGNMENT) {
            aligned = 0;
        }
        memset(p[i], (int) (i & 0xff), sizes[i]);
    }
    is_int(i, sl_nelts(p), "2000 small allocations");
    ok(aligned, "every palloc is aligned to SL_ALIGNMENT");

    intact = 1;
    for (i = 0; i < sl_nelts(p); i++) {
        size_t j;
        for (j = 0; j < sizes[i]; j++) {
            if (p[i][j] != (u_char) (i & 0xff)) {
                intact = 0;
            }
        }
    }
    ok(intact, "allocations do not overlap");
    ok(count_blocks(pool) > 50, "blocks were chained (%lu)", (unsigned long) count_blocks(pool));
    ok(pool->current != &pool->block, "full blocks are skipped through the failed counter");

    inside = 1;
    for (b = &pool->block; b; b = b->next) {
        if (b->last > b->end) {
            inside = 0;
        }
    }
    ok(inside, "no block is filled past its end");

    q = sl_pnalloc(pool, 1);
    r = sl_pnalloc(pool, 1);
    ok(r == q + 1, "pnalloc does not align");

    q = sl_pcalloc(pool, 300);
    for (i = 0; i < 300 && q[i] == 0; i++) {
    }
    is_int(i, 300, "pcalloc zeroes");

    q = sl_palloc(pool, 0);
    ok(q != NULL, "zero-byte palloc returns a pointer");

#if defined(__SANITIZE_ADDRESS__)
    q = sl_pnalloc(pool, 5);
    ok(!__asan_address_is_poisoned(q + 4) && __asan_address_is_poisoned(q + 5),
       "ASan sees the end of a pool allocation");
#endif

    sl_destroy_pool(pool);
    sl_destroy_pool(NULL);
    ok(1, "destroy NULL is harmless");

    pool = sl_create_pool(1, NULL);
    ok(pool != NULL && (size_t) (pool->block.end - (u_char *) pool) >= SL_MIN_POOL_SIZE,
       "tiny size is raised to SL_MIN_POOL_SIZE");
    q = sl_palloc(pool, pool->max);
    ok(q != NULL && sl_pfree(pool, q) == SL_DECLINED, "max bytes come from a block");
    sl_destroy_pool(pool);
}

static void
test_large(void)
{
    sl_pool_t *pool;
    void *big[10];
    u_char *q;
    size_t i;
    int ok_all;

    pool = sl_create_pool(512, NULL);

    ok_all = 1;
    for (i = 0; i < sl_nelts(big); i++) {
        big[i] = sl_palloc(pool, 4096 + i);
        if (big[i] == NULL || (uintptr_t) big[i] % SL_ALIGNMENT) {
            ok_all = 0;
            continue;
        }
        memset(big[i], 0xaa, 4096 + i);
    }
    ok(ok_all, "large allocations succeed and are aligned");

    is_int(sl_pfree(pool, big[3]), SL_OK, "pfree large");
    is_int(sl_pfree(pool, big[3]), SL_DECLINED, "pfree twice is declined");

    q = sl_palloc(pool, 16);
    is_int(sl_pfree(pool, q), SL_DECLINED, "pfree of a small allocation is declined");
    is_int(sl_pfree(pool, NULL), SL_DECLINED, "pfree NULL is declined");

    q = sl_palloc(pool, 100000);
    ok(q != NULL, "a freed large slot is reused");
    memset(q, 1, 100000);

    q = sl_pcalloc(pool, 70000);
    ok(q != NULL && q[0] == 0 && q[69999] == 0, "large pcalloc zeroes");

    q = sl_palloc(pool, SIZE_MAX - 4096);
    ok(q == NULL, "impossible size returns NULL");

    /* the rest are freed by the destroy, which ASan's leak check verifies */
    sl_destroy_pool(pool);
}

static void
test_cleanup(void)
{
    sl_pool_t *pool;
    sl_pool_cleanup_t *c;
    int fd;
    const char *names = "abcde";
    size_t i;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, NULL);

    for (i = 0; i < 5; i++) {
        c = sl_pool_cleanup_add(pool, 1);
        ok(c != NULL && c->data != NULL && c->handler == NULL, "cleanup %c added", names[i]);
        *(char *) c->data = names[i];
        c->handler = record_cleanup;
    }

    c = sl_pool_cleanup_add(pool, 0);
    ok(c != NULL && c->data == NULL, "cleanup without data");

    fd = open("/dev/null", O_RDONLY);
    ok(fd >= 0, "open /dev/null");
    is_int(sl_pool_cleanup_fd(pool, fd), SL_OK, "cleanup_fd registered");

    norder = 0;
    sl_destroy_pool(pool);
    order[norder] = '\0';
    is_int(norder, 5, "every cleanup ran once");
    ok(strcmp(order, "edcba") == 0, "cleanups run in reverse order (%s)", order);
    ok(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "cleanup_fd closed the fd");
}

static void
test_reset(void)
{
    sl_pool_t *pool;
    sl_pool_cleanup_t *c;
    u_char *first, *again, *big;
    size_t i;
    sl_uint_t blocks;

    pool = sl_create_pool(1024, NULL);

    first = sl_palloc(pool, 32);
    for (i = 0; i < 200; i++) {
        sl_palloc(pool, 64);
    }
    big = sl_palloc(pool, 10000);
    ok(big != NULL, "large before reset");
    blocks = count_blocks(pool);

    c = sl_pool_cleanup_add(pool, 1);
    *(char *) c->data = 'r';
    c->handler = record_cleanup;

    norder = 0;
    sl_reset_pool(pool);
    is_int(norder, 0, "reset does not run cleanups");
    ok(pool->large == NULL && pool->cleanup == NULL, "reset forgets large and cleanups");

    again = sl_palloc(pool, 32);
    ok(again == first, "reset rewinds to the first block");
    for (i = 0; i < 200; i++) {
        memset(sl_palloc(pool, 64), 0x55, 64);
    }
    is_int(count_blocks(pool), blocks, "reset reuses the blocks");

    sl_destroy_pool(pool);
    is_int(norder, 0, "a cleanup dropped by reset never runs");
}

int
main(void)
{
    test_small();
    test_large();
    test_cleanup();
    test_reset();

    return sl_tap_done();
}
