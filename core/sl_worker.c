/*
 * sl_worker.c: the processes that serve: workers, helpers, and the single
 * process of "master_process off". Each runs the event loop and looks at
 * the signal flags (set by the handlers in sl_process.c) after every
 * iteration.
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
#include "sl_proctitle.h"

/* The worker's graceful-stop deadline (worker_shutdown_timeout). */
static sl_event_t sl_shutdown_event;
/* Set when that deadline passed: the worker exits whatever is left. */
static sl_uint_t sl_shutdown_expired;


/* Worker ---------------------------------------------------------------------- */

/* What every child of the master does first: limits, user, an empty signal mask. */
static void
sl_child_process_init(sl_cycle_t *cycle)
{
    sigset_t set;
    sl_core_conf_t *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf->rlimit_nofile != SL_CONF_UNSET) {
        (void) sl_os_set_rlimit_nofile(ccf->rlimit_nofile, cycle->log);
    }

    if (geteuid() == 0 && ccf->user != (uid_t) SL_CONF_UNSET_UINT) {
        if (setgid(ccf->group) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, errno, "setgid(%d) failed", (int) ccf->group);
            exit(SL_PROCESS_FATAL_EXIT);
        }

        if (initgroups((char *) ccf->username, ccf->group) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, errno, "initgroups(%s, %d) failed",
                         ccf->username, (int) ccf->group);
            exit(SL_PROCESS_FATAL_EXIT);
        }

        if (setuid(ccf->user) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, errno, "setuid(%d) failed", (int) ccf->user);
            exit(SL_PROCESS_FATAL_EXIT);
        }
    }

    sigemptyset(&set);

    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "sigprocmask() failed");
    }

    srandom(((unsigned) sl_pid << 16) ^ (unsigned) time(NULL));
}


static void
sl_worker_process_init(sl_cycle_t *cycle, sl_uint_t worker)
{
    sl_uint_t i;
    sl_listening_t *ls;

    sl_child_process_init(cycle);

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->init_process != NULL) {
            if (cycle->modules[i]->init_process(cycle) != SL_OK) {
                exit(SL_PROCESS_FATAL_EXIT);
            }
        }
    }

    /* the copies of reuseport sockets that other workers accept on */
    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (!ls[i].reuseport || ls[i].worker == worker || ls[i].fd == -1) {
            continue;
        }

        if (close(ls[i].fd) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno, "close() socket %V failed",
                         &ls[i].addr_text);
        }

        ls[i].fd = -1;
    }
}


static void
sl_worker_process_exit(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_connection_t *c;

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->exit_process != NULL) {
            cycle->modules[i]->exit_process(cycle);
        }
    }

    if (sl_exiting && cycle->connections != NULL) {
        c = cycle->connections;

        for (i = 0; i < cycle->connection_n; i++) {
            if (c[i].fd != -1 && c[i].read != NULL && !c[i].read->accept) {
                sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                             "*%ud open socket #%d left in connection %ui", c[i].number, c[i].fd,
                             i);
            }
        }
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exit");

    exit(0);
}


/* worker_shutdown_timeout expired: every connection still open is closed now. */
static void
sl_shutdown_timer_handler(sl_event_t *ev)
{
    sl_uint_t i, n;
    sl_cycle_t *cycle;
    sl_connection_t *c;

    cycle = ev->data;
    c = cycle->connections;

    n = 0;

    for (i = 0; i < cycle->connection_n; i++) {
        if (c[i].fd != -1 && c[i].read != NULL && !c[i].read->accept && c[i].listening != NULL) {
            n++;
        }
    }

    /* the operator learns why clients saw their requests cut */
    sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                 "worker_shutdown_timeout passed, closing %ui connection%s", n, n == 1 ? "" : "s");

    for (i = 0; i < cycle->connection_n; i++) {
        if (c[i].fd == -1 || c[i].read == NULL || c[i].read->accept || c[i].read->handler == NULL) {
            continue;
        }

        sl_log_error(SL_LOG_INFO, c[i].log ? c[i].log : cycle->log, 0, "*%ud shutdown timeout",
                     c[i].number);

        c[i].close = 1;
        c[i].error = 1;

        c[i].read->handler(c[i].read);
    }

    /*
     * A connection whose protocol has no safe point to stop at (a tunnel,
     * a request still reading its header) would keep the worker past the
     * deadline on its own timers: the loop exits after the posted events
     * of this iteration, whatever is left.
     */
    sl_shutdown_expired = 1;
}


static void
sl_set_shutdown_timer(sl_cycle_t *cycle)
{
    sl_core_conf_t *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf->shutdown_timeout == 0 || ccf->shutdown_timeout == SL_CONF_UNSET_MSEC) {
        return;
    }

    sl_shutdown_event.handler = sl_shutdown_timer_handler;
    sl_shutdown_event.data = cycle;
    sl_shutdown_event.log = cycle->log;
    /* the deadline itself must not keep the worker alive */
    sl_shutdown_event.cancelable = 1;

    sl_event_add_timer(&sl_shutdown_event, ccf->shutdown_timeout);
}


/* Handles the flags a worker (or the single process) acts on after each loop iteration. */
static void
sl_worker_check_flags(sl_cycle_t *cycle, void (*exit_proc)(sl_cycle_t *cycle))
{
    sl_log_signals(cycle);

    if (sl_terminate) {
        sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
        exit_proc(cycle);
    }

    if (sl_quit) {
        sl_quit = 0;
        sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "gracefully shutting down");

        if (!sl_exiting) {
            sl_exiting = 1;

            if (sl_process == SL_PROCESS_WORKER) {
                sl_setproctitle("worker process is shutting down");
            }

            sl_set_shutdown_timer(cycle);
            sl_close_listening_sockets(cycle);
            sl_close_idle_connections(cycle);
            sl_event_process_posted(&sl_posted_events);
        }
    }

    if (sl_reopen) {
        sl_reopen = 0;
        sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reopening logs");
        sl_reopen_files(cycle);
    }
}


void
sl_worker_process_cycle(sl_cycle_t *cycle, void *data)
{
    sl_uint_t worker;

    worker = (sl_uint_t) (uintptr_t) data;

    sl_process = SL_PROCESS_WORKER;
    sl_worker = worker;
    sl_log_worker = worker;

    sl_setproctitle("worker process");

    sl_worker_process_init(cycle, worker);

    if (sl_ready_fd != -1) {
        /* a reload's master waits for this byte before it stops the old workers */
        while (write(sl_ready_fd, "", 1) == -1 && errno == EINTR) {
            continue;
        }

        (void) close(sl_ready_fd);
        sl_ready_fd = -1;
    }

    for (;;) {
        if (sl_exiting && (sl_shutdown_expired || sl_event_no_timers_left() == SL_OK)) {
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
            sl_worker_process_exit(cycle);
        }

        sl_process_events_and_timers(cycle);

        sl_worker_check_flags(cycle, sl_worker_process_exit);
    }
}


/* Helper ----------------------------------------------------------------------- */

static void
sl_helper_process_exit(sl_cycle_t *cycle)
{
    sl_uint_t i;

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->type == SL_EVENT_MODULE && cycle->modules[i]->exit_process != NULL) {
            cycle->modules[i]->exit_process(cycle);
        }
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exit");

    exit(0);
}


/*
 * A helper serves no client: it stops at once on QUIT as on TERM, since
 * nothing it has in flight is owed to anyone (an interrupted check is
 * simply not counted).
 */
void
sl_helper_process_cycle(sl_cycle_t *cycle, void *data)
{
    sl_uint_t i;
    sl_process_helper_t *helper;

    helper = data;

    sl_process = SL_PROCESS_HELPER;

    sl_setproctitle(helper->name);

    sl_child_process_init(cycle);

    /* the master keeps the listeners; this process must never accept on them */
    sl_close_listening_sockets(cycle);

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->type == SL_EVENT_MODULE && cycle->modules[i]->init_process != NULL) {
            if (cycle->modules[i]->init_process(cycle) != SL_OK) {
                exit(SL_PROCESS_FATAL_EXIT);
            }
        }
    }

    if (helper->init(cycle, helper->data) != SL_OK) {
        exit(SL_PROCESS_FATAL_EXIT);
    }

    for (;;) {
        sl_process_events_and_timers(cycle);

        sl_log_signals(cycle);

        if (sl_terminate || sl_quit) {
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
            sl_helper_process_exit(cycle);
        }

        if (sl_reopen) {
            sl_reopen = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reopening logs");
            sl_reopen_files(cycle);
        }
    }
}


/* Single process ---------------------------------------------------------------- */

static void
sl_single_process_exit(sl_cycle_t *cycle)
{
    sl_uint_t i;

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->exit_process != NULL) {
            cycle->modules[i]->exit_process(cycle);
        }
    }

    sl_master_process_exit(cycle);
}


void
sl_single_process_cycle(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_process_helper_t *helper;

    sl_worker = 0;
    sl_log_worker = 0;

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->init_process != NULL) {
            if (cycle->modules[i]->init_process(cycle) != SL_OK) {
                exit(SL_PROCESS_FATAL_EXIT);
            }
        }
    }

    /* no master to fork helpers: their work shares this process's loop */
    for (helper = sl_process_helpers; helper != NULL; helper = helper->next) {
        if (helper->cycle == cycle && helper->init(cycle, helper->data) != SL_OK) {
            exit(SL_PROCESS_FATAL_EXIT);
        }
    }

    for (;;) {
        if (sl_exiting && (sl_shutdown_expired || sl_event_no_timers_left() == SL_OK)) {
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exiting");
            sl_single_process_exit(cycle);
        }

        sl_process_events_and_timers(cycle);

        sl_worker_check_flags(cycle, sl_single_process_exit);

        if (sl_reconfigure) {
            sl_reconfigure = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                         "reconfiguring is not supported with \"master_process off\", "
                         "restart instead");
        }

        if (sl_change_binary) {
            sl_change_binary = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                         "binary upgrade needs \"master_process on\", restart instead");
        }
    }
}
