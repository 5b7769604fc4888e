/*
 * test_array.c: sl_array.c (arrays keep their contents as they double,
 * lists never move an element) and the chain helpers of sl_buf.c.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_buf.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_tap.h"

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

typedef struct {
    sl_uint_t id;
    char name[32];
} item_t;

static void
test_array(sl_pool_t *pool)
{
    sl_array_t *a, b;
    item_t *it, *items;
    sl_uint_t i, *n;
    int good;

    a = sl_array_create(pool, 2, sizeof(item_t));
    ok(a != NULL && a->nalloc == 2 && a->nelts == 0 && a->size == sizeof(item_t), "array create");

    for (i = 0; i < 1000; i++) {
        it = sl_array_push(a);
        if (it == NULL) {
            break;
        }
        it->id = i;
        snprintf(it->name, sizeof(it->name), "item-%lu", (unsigned long) i);
        if (i == 2) {
            is_int(a->nalloc, 4, "array doubled at the first overflow");
        }
    }
    is_int(a->nelts, 1000, "1000 pushes");
    is_int(a->nalloc, 1024, "capacity doubled to 1024");

    good = 1;
    items = a->elts;
    for (i = 0; i < a->nelts; i++) {
        char want[32];
        snprintf(want, sizeof(want), "item-%lu", (unsigned long) i);
        if (items[i].id != i || strcmp(items[i].name, want) != 0) {
            good = 0;
        }
    }
    ok(good, "growth keeps every element");

    it = sl_array_push_n(a, 5000);
    ok(it != NULL && a->nelts == 6000 && a->nalloc >= 6000, "push_n grows past the need");
    ok(it == (item_t *) a->elts + 1000, "push_n returns the first new element");
    memset(it, 0, 5000 * sizeof(item_t));
    items = a->elts;
    ok(items[999].id == 999 && strcmp(items[999].name, "item-999") == 0,
       "push_n keeps old elements");

    it = sl_array_push_n(a, 0);
    ok(it != NULL && a->nelts == 6000, "push_n 0 adds nothing");

    it = sl_array_push_n(a, (sl_uint_t) SL_MAX_INT_T_VALUE);
    ok(it == NULL && a->nelts == 6000, "absurd push_n fails and changes nothing");

    is_int(sl_array_init(&b, pool, 0, sizeof(sl_uint_t)), SL_OK, "array of capacity 0");
    for (i = 0; i < 10; i++) {
        n = sl_array_push(&b);
        *n = i * i;
    }
    n = b.elts;
    ok(b.nelts == 10 && n[9] == 81 && n[0] == 0, "capacity 0 array grows");

    ok(sl_array_create(pool, (sl_uint_t) -1 / 2, 16) == NULL, "overflowing size is refused");
}

static void
test_list(sl_pool_t *pool)
{
    sl_list_t *l;
    sl_list_part_t *part;
    sl_uint_t i, *v, *ptrs[500], total, parts;
    int stable;

    l = sl_list_create(pool, 4, sizeof(sl_uint_t));
    ok(l != NULL && l->last == &l->part && l->nalloc == 4, "list create");

    for (i = 0; i < 500; i++) {
        v = sl_list_push(l);
        if (v == NULL) {
            break;
        }
        *v = i;
        ptrs[i] = v;
    }
    is_int(i, 500, "500 list pushes");

    stable = 1;
    for (i = 0; i < 500; i++) {
        if (*ptrs[i] != i) {
            stable = 0;
        }
    }
    ok(stable, "list elements never move");

    total = 0;
    parts = 0;
    stable = 1;
    for (part = &l->part; part; part = part->next) {
        v = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (v[i] != total || &v[i] != ptrs[total]) {
                stable = 0;
            }
            total++;
        }
        parts++;
    }
    is_int(total, 500, "iteration sees every element");
    is_int(parts, 125, "parts of nalloc elements");
    ok(stable, "iteration order is push order");
}

static void
test_chain(sl_pool_t *pool)
{
    sl_buf_t *b1, *b2, *b3;
    sl_chain_t *in, *in2, *out, *cl;
    sl_uint_t n;

    b1 = sl_create_temp_buf(pool, 100);
    ok(b1 != NULL && b1->temporary && b1->pos == b1->start && b1->last == b1->start
           && b1->end == b1->start + 100,
       "temp buf");
    b1->last = sl_cpymem(b1->last, "hello", 5);

    b2 = sl_create_temp_buf(pool, 10);
    b2->last += 7;

    b3 = sl_calloc_buf(pool);
    b3->in_file = 1;
    b3->file_pos = 100;
    b3->file_last = 1124;

    in = sl_alloc_chain_link(pool);
    in2 = sl_alloc_chain_link(pool);
    in->buf = b1;
    in->next = in2;
    in2->buf = b2;
    in2->next = NULL;

    out = NULL;
    is_int(sl_chain_add_copy(pool, &out, in), SL_OK, "chain add copy");
    ok(out != NULL && out != in && out->buf == b1 && out->next->buf == b2
           && out->next->next == NULL,
       "copied links point at the same buffers");

    in->buf = b3;
    in->next = NULL;
    is_int(sl_chain_add_copy(pool, &out, in), SL_OK, "append to a chain");
    for (n = 0, cl = out; cl; cl = cl->next) {
        n++;
    }
    is_int(n, 3, "three links");
    is_int(sl_chain_size(out), 5 + 7 + 1024, "chain size counts memory and file bytes");
    is_int(sl_chain_size(NULL), 0, "empty chain");

    b3 = sl_calloc_buf(pool);
    b3->last_buf = 1;
    in->buf = b3;
    sl_chain_add_copy(pool, &out, in);
    is_int(sl_chain_size(out), 5 + 7 + 1024, "a special buffer adds nothing");
}

int
main(void)
{
    sl_pool_t *pool;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, NULL);

    test_array(pool);
    test_list(pool);
    test_chain(pool);

    sl_destroy_pool(pool);

    return sl_tap_done();
}
