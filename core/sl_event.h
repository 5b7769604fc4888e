/*
 * sl_event.h: the worker's event loop. One epoll instance per worker;
 * client connections are registered once, edge-triggered for both
 * directions, when they are accepted, so serving a request costs no
 * epoll_ctl. Timers live in an rbtree keyed by expiry (sl_current_msec);
 * posted events run after the I/O events of the same iteration.
 */
#ifndef SL_EVENT_H
#define SL_EVENT_H

#include "sl_config.h"
#include "sl_array.h"
#include "sl_rbtree.h"
#include "sl_log.h"
#include "sl_module.h"

typedef struct sl_event_s sl_event_t;
typedef struct sl_connection_s sl_connection_t;
typedef void (*sl_event_handler_pt)(sl_event_t *ev);

struct sl_event_s {
    void *data; /* the connection, or the owner of a pure timer */
    sl_event_handler_pt handler;
    sl_log_t *log;
    sl_rbtree_node_t timer;
    sl_queue_t queue; /* posted events */

    unsigned write : 1;
    unsigned accept : 1;
    unsigned instance : 1; /* tells a stale epoll report from a reused slot's */
    unsigned active : 1;   /* registered with epoll */
    unsigned ready : 1;    /* I/O may proceed without blocking */
    unsigned eof : 1;
    unsigned pending_eof : 1; /* EPOLLRDHUP seen */
    unsigned error : 1;
    unsigned timedout : 1;
    unsigned timer_set : 1;
    unsigned delayed : 1;
    unsigned posted : 1;
    unsigned closed : 1;
    unsigned cancelable : 1; /* a timer that must not delay a graceful stop */
    unsigned available_set : 1;
};

#define SL_TIMER_INFINITE (sl_msec_t) - 1
#define SL_TIMER_LAZY_DELAY 300 /* a timer re-armed within this many ms is left alone */

/* Flags for sl_process_events(). */
#define SL_UPDATE_TIME 1
#define SL_POST_EVENTS 2

typedef struct {
    sl_uint_t connections;       /* worker_connections */
    sl_flag_t accept_mutex;      /* unused with SO_REUSEPORT / EPOLLEXCLUSIVE */
    sl_flag_t multi_accept;
    sl_uint_t epoll_events;      /* events fetched per epoll_wait */
} sl_event_conf_t;

/* The ctx of an SL_EVENT_MODULE: its configuration inside "events { }". */
typedef struct {
    sl_str_t *name;
    void *(*create_conf)(sl_cycle_t *cycle);
    char *(*init_conf)(sl_cycle_t *cycle, void *conf);
} sl_event_module_t;

/* The configuration of an event module, from a cycle's conf_ctx. */
#define sl_event_get_conf(conf_ctx, module) \
    (*(sl_get_conf(conf_ctx, sl_events_module)))[(module).ctx_index]

extern sl_module_t sl_events_module;
extern sl_module_t sl_event_core_module;
extern sl_queue_t sl_posted_events;
extern sl_uint_t sl_event_flags;
extern sl_rbtree_t sl_event_timer_rbtree;
extern sl_uint_t sl_accept_disabled;

/* Timers ---------------------------------------------------------------- */
sl_int_t sl_event_timer_init(sl_log_t *log);
/* Milliseconds until the nearest timer, or SL_TIMER_INFINITE. */
sl_msec_t sl_event_find_timer(void);
/* Runs every expired timer's handler with ev->timedout set. */
void sl_event_expire_timers(void);
/* True when only cancelable timers remain (a graceful stop may exit). */
sl_int_t sl_event_no_timers_left(void);

/* Arms (or re-arms) ev's timer to fire in timer ms. */
void sl_event_add_timer(sl_event_t *ev, sl_msec_t timer);
void sl_event_del_timer(sl_event_t *ev);

/* Posted events ---------------------------------------------------------- */
#define sl_post_event(ev, q) \
    if (!(ev)->posted) { (ev)->posted = 1; sl_queue_insert_tail(q, &(ev)->queue); }
#define sl_delete_posted_event(ev) \
    (ev)->posted = 0; sl_queue_remove(&(ev)->queue)
void sl_event_process_posted(sl_queue_t *posted);

/* epoll ------------------------------------------------------------------ */
/* Creates the worker's epoll instance for cycle->connection_n connections. */
sl_int_t sl_epoll_init(sl_cycle_t *cycle);
void sl_epoll_done(void);
/* Registers a connection for read and write, edge-triggered, once. */
sl_int_t sl_epoll_add_connection(sl_connection_t *c);
/* Removes a connection; with close_fd the fd is about to be closed and epoll forgets it itself. */
sl_int_t sl_epoll_del_connection(sl_connection_t *c, sl_uint_t closing);
/* Level-triggered read interest for a listener (EPOLLEXCLUSIVE when shared). */
sl_int_t sl_epoll_add_listener(sl_connection_t *c, sl_uint_t exclusive);
/* Waits up to timer ms and runs (or posts) the handlers of ready events. */
sl_int_t sl_epoll_process_events(sl_cycle_t *cycle, sl_msec_t timer, sl_uint_t flags);

/* One loop iteration: wait, run I/O handlers, expire timers, run posted events. */
void sl_process_events_and_timers(sl_cycle_t *cycle);

/*
 * Readiness helpers for the edge-triggered model: they return SL_OK; they
 * exist so handlers state their intent and so a level-triggered backend
 * could be added without touching callers.
 */
#define sl_handle_read_event(rev) SL_OK
#define sl_handle_write_event(wev) SL_OK

#endif /* SL_EVENT_H */
