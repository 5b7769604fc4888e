/*
 * sl_event.c: the "events { }" block, the event core module (worker_connections,
 * multi_accept, use) and the epoll loop. A worker builds its connection table
 * once in init_process; from then on the loop allocates nothing.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_conf_file.h"
#include "sl_module.h"
#include "sl_cycle.h"
#include "sl_event.h"
#include "sl_connection.h"
#include "sl_process.h"

#define SL_DEFAULT_CONNECTIONS 512
#define SL_DEFAULT_EPOLL_EVENTS 512

static char *sl_events_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_events_init_conf(sl_cycle_t *cycle, void *conf);
static char *sl_event_use(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static void *sl_event_core_create_conf(sl_cycle_t *cycle);
static char *sl_event_core_init_conf(sl_cycle_t *cycle, void *conf);
static sl_int_t sl_event_module_init(sl_cycle_t *cycle);
static sl_int_t sl_event_process_init(sl_cycle_t *cycle);
static void sl_event_process_exit(sl_cycle_t *cycle);

sl_queue_t sl_posted_events;
sl_uint_t sl_event_flags; /* no flags with epoll: kept for modules that test them */
sl_uint_t sl_accept_disabled;

static int sl_epoll_fd = -1;
static struct epoll_event *sl_epoll_list;
static sl_uint_t sl_epoll_nevents;


/* The events block ------------------------------------------------------- */

static sl_command_t sl_events_commands[] = {
    { sl_string("events"), SL_MAIN_CONF | SL_CONF_BLOCK | SL_CONF_NOARGS, sl_events_block, 0, 0,
      NULL },
    sl_null_command,
};

static sl_core_module_t sl_events_module_ctx = {
    sl_string("events"),
    NULL,
    sl_events_init_conf,
};

sl_module_t sl_events_module = {
    SL_MODULE_V1,
    "sl_events_module",
    SL_CORE_MODULE,
    &sl_events_module_ctx,
    sl_events_commands,
    NULL,
    NULL,
    NULL,
    NULL,
};


/* The event core module ---------------------------------------------------- */

static sl_conf_bounds_t sl_event_connections_bounds = { 2, 16777216 };

static sl_command_t sl_event_core_commands[] = {
    { sl_string("worker_connections"), SL_EVENT_CONF | SL_CONF_TAKE1, sl_conf_set_num_slot, 0,
      offsetof(sl_event_conf_t, connections), &sl_event_connections_bounds },
    { sl_string("multi_accept"), SL_EVENT_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot, 0,
      offsetof(sl_event_conf_t, multi_accept), NULL },
    { sl_string("accept_mutex"), SL_EVENT_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot, 0,
      offsetof(sl_event_conf_t, accept_mutex), NULL },
    { sl_string("use"), SL_EVENT_CONF | SL_CONF_TAKE1, sl_event_use, 0, 0, NULL },
    sl_null_command,
};

static sl_str_t sl_event_core_name = sl_string("event_core");

static sl_event_module_t sl_event_core_module_ctx = {
    &sl_event_core_name,
    sl_event_core_create_conf,
    sl_event_core_init_conf,
};

sl_module_t sl_event_core_module = {
    SL_MODULE_V1,
    "sl_event_core_module",
    SL_EVENT_MODULE,
    &sl_event_core_module_ctx,
    sl_event_core_commands,
    sl_event_module_init,
    sl_event_process_init,
    sl_event_process_exit,
    NULL,
};


static char *
sl_events_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char *rv;
    void ***ctx;
    sl_uint_t i, n;
    sl_conf_t pcf;
    sl_module_t *m;
    sl_event_module_t *em;

    sl_unused(cmd);

    if (*(void **) conf) {
        return "is duplicate";
    }

    n = sl_count_modules(cf->cycle, SL_EVENT_MODULE);

    ctx = sl_pcalloc(cf->pool, sizeof(void *));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    *ctx = sl_pcalloc(cf->pool, (n ? n : 1) * sizeof(void *));
    if (*ctx == NULL) {
        return SL_CONF_ERROR;
    }

    *(void **) conf = ctx;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        m = cf->cycle->modules[i];

        if (m == NULL || m->type != SL_EVENT_MODULE) {
            continue;
        }

        em = m->ctx;

        if (em->create_conf) {
            (*ctx)[m->ctx_index] = em->create_conf(cf->cycle);
            if ((*ctx)[m->ctx_index] == NULL) {
                return SL_CONF_ERROR;
            }
        }
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->module_type = SL_EVENT_MODULE;
    cf->cmd_type = SL_EVENT_CONF;

    rv = sl_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != SL_CONF_OK) {
        return rv;
    }

    for (i = 0; i < cf->cycle->modules_n; i++) {
        m = cf->cycle->modules[i];

        if (m == NULL || m->type != SL_EVENT_MODULE) {
            continue;
        }

        em = m->ctx;

        if (em->init_conf) {
            rv = em->init_conf(cf->cycle, (*ctx)[m->ctx_index]);
            if (rv != SL_CONF_OK) {
                return rv;
            }
        }
    }

    return SL_CONF_OK;
}


/* Called for the core module after the whole file: conf is NULL without an events block. */
static char *
sl_events_init_conf(sl_cycle_t *cycle, void *conf)
{
    if (conf == NULL) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0, "no \"events\" section in configuration");
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static char *
sl_event_use(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value;

    sl_unused(cmd);
    sl_unused(conf);

    value = cf->args->elts;

    if (!sl_str_eq_lit(&value[1], "epoll")) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid event type \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static void *
sl_event_core_create_conf(sl_cycle_t *cycle)
{
    sl_event_conf_t *ecf;

    ecf = sl_palloc(cycle->pool, sizeof(sl_event_conf_t));
    if (ecf == NULL) {
        return NULL;
    }

    ecf->connections = SL_CONF_UNSET_UINT;
    ecf->accept_mutex = SL_CONF_UNSET;
    ecf->multi_accept = SL_CONF_UNSET;
    ecf->epoll_events = SL_CONF_UNSET_UINT;

    return ecf;
}


static char *
sl_event_core_init_conf(sl_cycle_t *cycle, void *conf)
{
    sl_event_conf_t *ecf = conf;

    sl_unused(cycle);

    sl_conf_init_uint_value(ecf->connections, SL_DEFAULT_CONNECTIONS);
    sl_conf_init_value(ecf->accept_mutex, 0);
    sl_conf_init_value(ecf->multi_accept, 0);
    sl_conf_init_uint_value(ecf->epoll_events, SL_DEFAULT_EPOLL_EVENTS);

    return SL_CONF_OK;
}


/* In the master: warn when worker_connections cannot all be open at once. */
static sl_int_t
sl_event_module_init(sl_cycle_t *cycle)
{
    sl_int_t limit;
    struct rlimit rlmt;
    sl_core_conf_t *ccf;
    sl_event_conf_t *ecf;

    if (cycle->conf_ctx == NULL || sl_get_conf(cycle->conf_ctx, sl_events_module) == NULL) {
        return SL_OK;
    }

    ecf = sl_event_get_conf(cycle->conf_ctx, sl_event_core_module);
    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf != NULL && ccf->rlimit_nofile != SL_CONF_UNSET) {
        limit = ccf->rlimit_nofile;

    } else if (getrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "getrlimit(RLIMIT_NOFILE) failed");
        return SL_OK;

    } else if (rlmt.rlim_cur == RLIM_INFINITY || rlmt.rlim_cur > (rlim_t) SL_MAX_INT_T_VALUE) {
        return SL_OK;

    } else {
        limit = (sl_int_t) rlmt.rlim_cur;
    }

    if (limit > 0 && ecf->connections > (sl_uint_t) limit) {
        sl_log_error(SL_LOG_WARN, cycle->log, 0,
                     "%ui worker_connections exceed open file resource limit: %i", ecf->connections,
                     limit);
    }

    return SL_OK;
}


/* In each worker: the connection table, the timers, epoll and this worker's listeners. */
static sl_int_t
sl_event_process_init(sl_cycle_t *cycle)
{
    sl_uint_t i, n;
    sl_event_t *rev, *wev;
    sl_connection_t *c, *next;
    sl_event_conf_t *ecf;

    ecf = sl_event_get_conf(cycle->conf_ctx, sl_event_core_module);
    n = ecf->connections;

    if (n < 2 || n > SIZE_MAX / sizeof(sl_connection_t)) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0, "invalid worker_connections %ui", n);
        return SL_ERROR;
    }

    sl_queue_init(&sl_posted_events);
    sl_queue_init(&cycle->reusable_connections);
    cycle->reusable_connections_n = 0;
    sl_accept_disabled = 0;

    if (sl_event_timer_init(cycle->log) != SL_OK) {
        return SL_ERROR;
    }

    cycle->connection_n = n;

    if (sl_epoll_init(cycle) != SL_OK) {
        return SL_ERROR;
    }

    /* The pool keeps these as large allocations, freed with the cycle. */
    cycle->connections = sl_palloc(cycle->pool, n * sizeof(sl_connection_t));
    cycle->read_events = sl_palloc(cycle->pool, n * sizeof(sl_event_t));
    cycle->write_events = sl_palloc(cycle->pool, n * sizeof(sl_event_t));

    if (cycle->connections == NULL || cycle->read_events == NULL || cycle->write_events == NULL) {
        sl_log_error(SL_LOG_EMERG, cycle->log, 0, "could not allocate %ui worker_connections", n);
        return SL_ERROR;
    }

    sl_memzero(cycle->connections, n * sizeof(sl_connection_t));
    sl_memzero(cycle->read_events, n * sizeof(sl_event_t));
    sl_memzero(cycle->write_events, n * sizeof(sl_event_t));

    rev = cycle->read_events;
    wev = cycle->write_events;
    c = cycle->connections;
    next = NULL;

    /* Built from the end so that the free list hands out slot 0 first. */
    i = n;

    do {
        i--;

        rev[i].closed = 1;
        rev[i].instance = 1;
        wev[i].closed = 1;
        wev[i].instance = 1;

        c[i].data = next;
        c[i].read = &rev[i];
        c[i].write = &wev[i];
        c[i].fd = -1;

        next = &c[i];

    } while (i);

    cycle->free_connections = next;
    cycle->free_connection_n = n;

    if (sl_enable_accept_events(cycle) != SL_OK) {
        return SL_ERROR;
    }

    return SL_OK;
}


static void
sl_event_process_exit(sl_cycle_t *cycle)
{
    sl_unused(cycle);

    sl_epoll_done();
}


/* epoll --------------------------------------------------------------------- */

sl_int_t
sl_epoll_init(sl_cycle_t *cycle)
{
    sl_event_conf_t *ecf;

    ecf = sl_event_get_conf(cycle->conf_ctx, sl_event_core_module);

    if (sl_epoll_fd == -1) {
        sl_epoll_fd = epoll_create1(EPOLL_CLOEXEC);

        if (sl_epoll_fd == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, errno, "epoll_create1() failed");
            return SL_ERROR;
        }
    }

    sl_epoll_nevents = sl_max(ecf->epoll_events, 1);
    if (sl_epoll_nevents > INT_MAX / sizeof(struct epoll_event)) {
        sl_epoll_nevents = INT_MAX / sizeof(struct epoll_event);
    }

    sl_epoll_list = sl_palloc(cycle->pool, sl_epoll_nevents * sizeof(struct epoll_event));
    if (sl_epoll_list == NULL) {
        return SL_ERROR;
    }

    sl_event_flags = 0;

    return SL_OK;
}


void
sl_epoll_done(void)
{
    if (sl_epoll_fd != -1 && close(sl_epoll_fd) == -1) {
        sl_log_stderr(errno, "epoll close() failed");
    }

    sl_epoll_fd = -1;
    sl_epoll_list = NULL;
    sl_epoll_nevents = 0;
}


sl_int_t
sl_epoll_add_connection(sl_connection_t *c)
{
    struct epoll_event ee;

    ee.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ee.data.ptr = (void *) ((uintptr_t) c | c->read->instance);

    if (epoll_ctl(sl_epoll_fd, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        sl_log_error(SL_LOG_ALERT, c->log, errno, "epoll_ctl(EPOLL_CTL_ADD, %d) failed", c->fd);
        return SL_ERROR;
    }

    c->read->active = 1;
    c->write->active = 1;

    return SL_OK;
}


sl_int_t
sl_epoll_del_connection(sl_connection_t *c, sl_uint_t closing)
{
    struct epoll_event ee;

    /*
     * Closing the last reference to a socket removes it from every epoll set;
     * after sl_epoll_done() (a single process closing its listeners on the
     * way out) there is no set left to remove it from.
     */
    if (!closing && sl_epoll_fd != -1 && (c->read->active || c->write->active)) {
        ee.events = 0;
        ee.data.ptr = NULL;

        if (epoll_ctl(sl_epoll_fd, EPOLL_CTL_DEL, c->fd, &ee) == -1) {
            sl_log_error(SL_LOG_ALERT, c->log, errno, "epoll_ctl(EPOLL_CTL_DEL, %d) failed", c->fd);
            return SL_ERROR;
        }
    }

    c->read->active = 0;
    c->write->active = 0;

    return SL_OK;
}


sl_int_t
sl_epoll_add_listener(sl_connection_t *c, sl_uint_t exclusive)
{
    struct epoll_event ee;

    ee.events = EPOLLIN;
#ifdef EPOLLEXCLUSIVE
    if (exclusive) {
        ee.events |= EPOLLEXCLUSIVE;
    }
#else
    sl_unused(exclusive);
#endif
    ee.data.ptr = (void *) ((uintptr_t) c | c->read->instance);

    if (epoll_ctl(sl_epoll_fd, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        sl_log_error(SL_LOG_ALERT, c->log, errno, "epoll_ctl(EPOLL_CTL_ADD, %d) failed", c->fd);
        return SL_ERROR;
    }

    c->read->active = 1;

    return SL_OK;
}


sl_int_t
sl_epoll_process_events(sl_cycle_t *cycle, sl_msec_t timer, sl_uint_t flags)
{
    int i, events, timeout;
    uint32_t revents;
    sl_err_t err;
    sl_uint_t instance;
    sl_event_t *rev, *wev;
    sl_connection_t *c;

    if (timer == SL_TIMER_INFINITE) {
        timeout = -1;

    } else {
        timeout = (timer > INT_MAX) ? INT_MAX : (int) timer;
    }

    events = epoll_wait(sl_epoll_fd, sl_epoll_list, (int) sl_epoll_nevents, timeout);

    err = (events == -1) ? errno : 0;

    if (flags & SL_UPDATE_TIME) {
        sl_time_update();
    }

    if (err) {
        if (err == EINTR) {
            /* a signal: the caller looks at its flags */
            return SL_OK;
        }

        sl_log_error(SL_LOG_ALERT, cycle->log, err, "epoll_wait() failed");
        return SL_ERROR;
    }

    if (events == 0) {
        if (timer != SL_TIMER_INFINITE) {
            return SL_OK;
        }

        sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                     "epoll_wait() returned no events without timeout");
        return SL_ERROR;
    }

    for (i = 0; i < events; i++) {
        c = sl_epoll_list[i].data.ptr;

        instance = (uintptr_t) c & 1;
        c = (sl_connection_t *) ((uintptr_t) c & (uintptr_t) ~1);

        rev = c->read;

        /* Closed, or closed and reused by an earlier handler of this batch. */
        if (c->fd == -1 || rev->instance != instance) {
            continue;
        }

        revents = sl_epoll_list[i].events;

        if (revents & (EPOLLERR | EPOLLHUP)) {
            /* the handlers see the error from their next recv()/send() */
            revents |= EPOLLIN | EPOLLOUT;
        }

        if ((revents & EPOLLIN) && rev->active) {
            if (revents & EPOLLRDHUP) {
                rev->pending_eof = 1;
            }

            rev->ready = 1;

            if (flags & SL_POST_EVENTS) {
                sl_post_event(rev, &sl_posted_events);

            } else {
                rev->handler(rev);
            }
        }

        wev = c->write;

        if ((revents & EPOLLOUT) && wev->active) {
            if (c->fd == -1 || wev->instance != instance) {
                continue;
            }

            wev->ready = 1;

            if (flags & SL_POST_EVENTS) {
                sl_post_event(wev, &sl_posted_events);

            } else {
                wev->handler(wev);
            }
        }
    }

    return SL_OK;
}


void
sl_process_events_and_timers(sl_cycle_t *cycle)
{
    sl_msec_t timer;

    if (cycle->free_connection_n < cycle->connection_n / 8) {
        sl_drain_connections(cycle);
    }

    timer = sl_event_find_timer();

    (void) sl_epoll_process_events(cycle, timer, SL_UPDATE_TIME);

    sl_event_expire_timers();

    sl_event_process_posted(&sl_posted_events);
}


void
sl_event_process_posted(sl_queue_t *posted)
{
    sl_queue_t *q;
    sl_event_t *ev;

    while (!sl_queue_empty(posted)) {
        q = sl_queue_head(posted);
        ev = sl_queue_data(q, sl_event_t, queue);

        sl_delete_posted_event(ev);

        ev->handler(ev);
    }
}
