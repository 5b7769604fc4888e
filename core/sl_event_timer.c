/*
 * sl_event_timer.c: the worker's timers, one rbtree keyed by the expiry in
 * sl_current_msec. Timers are intrusive (the node lives in the event), so
 * arming one never allocates.
 */
#include "sl_config.h"
#include "sl_array.h"
#include "sl_rbtree.h"
#include "sl_time.h"
#include "sl_event.h"

sl_rbtree_t sl_event_timer_rbtree;
static sl_rbtree_node_t sl_event_timer_sentinel;


static inline sl_event_t *
sl_event_from_timer(sl_rbtree_node_t *node)
{
    return (sl_event_t *) ((u_char *) node - offsetof(sl_event_t, timer));
}


sl_int_t
sl_event_timer_init(sl_log_t *log)
{
    sl_unused(log);

    sl_rbtree_init(&sl_event_timer_rbtree, &sl_event_timer_sentinel, sl_rbtree_insert_timer_value);

    return SL_OK;
}


sl_msec_t
sl_event_find_timer(void)
{
    sl_msec_int_t timer;
    sl_rbtree_node_t *node, *root, *sentinel;

    root = sl_event_timer_rbtree.root;
    sentinel = sl_event_timer_rbtree.sentinel;

    if (root == sentinel) {
        return SL_TIMER_INFINITE;
    }

    node = sl_rbtree_min(root, sentinel);

    timer = (sl_msec_int_t) (node->key - sl_current_msec);

    return (timer > 0) ? (sl_msec_t) timer : 0;
}


void
sl_event_expire_timers(void)
{
    sl_event_t *ev;
    sl_rbtree_node_t *node, *root, *sentinel;

    sentinel = sl_event_timer_rbtree.sentinel;

    for (;;) {
        root = sl_event_timer_rbtree.root;

        if (root == sentinel) {
            return;
        }

        node = sl_rbtree_min(root, sentinel);

        if ((sl_msec_int_t) (node->key - sl_current_msec) > 0) {
            return;
        }

        ev = sl_event_from_timer(node);

        sl_rbtree_delete(&sl_event_timer_rbtree, &ev->timer);

        ev->timer_set = 0;
        ev->timedout = 1;

        ev->handler(ev);
    }
}


sl_int_t
sl_event_no_timers_left(void)
{
    sl_event_t *ev;
    sl_rbtree_node_t *node, *root, *sentinel;

    sentinel = sl_event_timer_rbtree.sentinel;
    root = sl_event_timer_rbtree.root;

    if (root == sentinel) {
        return SL_OK;
    }

    for (node = sl_rbtree_min(root, sentinel); node;
         node = sl_rbtree_next(&sl_event_timer_rbtree, node)) {
        ev = sl_event_from_timer(node);

        if (!ev->cancelable) {
            return SL_AGAIN;
        }
    }

    return SL_OK;
}


void
sl_event_add_timer(sl_event_t *ev, sl_msec_t timer)
{
    sl_msec_t key;
    sl_msec_int_t diff;

    key = sl_current_msec + timer;

    if (ev->timer_set) {
        /*
         * A read handler re-arms its timeout after every read; moving the
         * node for a few milliseconds is not worth the rbtree work.
         */
        diff = (sl_msec_int_t) (key - ev->timer.key);

        if (sl_abs(diff) < SL_TIMER_LAZY_DELAY) {
            return;
        }

        sl_event_del_timer(ev);
    }

    ev->timer.key = key;

    sl_rbtree_insert(&sl_event_timer_rbtree, &ev->timer);

    ev->timer_set = 1;
}


void
sl_event_del_timer(sl_event_t *ev)
{
    if (!ev->timer_set) {
        return;
    }

    sl_rbtree_delete(&sl_event_timer_rbtree, &ev->timer);

    ev->timer.left = NULL;
    ev->timer.right = NULL;
    ev->timer.parent = NULL;
    ev->timer_set = 0;
}
