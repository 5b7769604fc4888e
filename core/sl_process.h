/*
 * sl_process.h: the master, its workers and its helpers. The master never
 * serves: it forks worker_processes workers and one process per registered
 * helper, respawns one that dies, and turns signals into actions (reload,
 * stop, reopen). Workers and helpers run the event loop.
 */
#ifndef SL_PROCESS_H
#define SL_PROCESS_H

#include "sl_config.h"
#include "sl_cycle.h"

#define SL_MAX_PROCESSES 1024

#define SL_PROCESS_SINGLE 0
#define SL_PROCESS_MASTER 1
#define SL_PROCESS_SIGNALLER 2 /* sluice -s: parses only to find the pid file */
#define SL_PROCESS_WORKER 3
#define SL_PROCESS_HELPER 4

typedef void (*sl_spawn_proc_pt)(sl_cycle_t *cycle, void *data);

/*
 * Helper processes: background work that belongs to no client connection
 * (active health checks), kept out of the workers so that its traffic and
 * timers never delay a request and it goes on while workers come and go.
 *
 * A module registers a helper for the cycle being configured (from a
 * configuration hook: cf->cycle). The master forks one process per
 * registration after the workers, respawns it when it dies, sends it the
 * workers' signals (QUIT and TERM stop it at once, USR1 reopens its logs)
 * and, on reload, starts the new cycle's helpers and stops the old ones. A
 * registration lives as long as its cycle: a configuration that fails to
 * load, or an old cycle that is freed, takes its registrations with it.
 *
 * In the helper the workers' privileges apply (user, worker_rlimit_nofile),
 * the listening sockets are closed (a helper never accepts a client), and
 * the event modules' init_process hooks run (connection table of
 * worker_connections slots, timers, epoll); no other module's do. Then
 * init runs: it arms the helper's timers and connections, returning SL_OK,
 * or SL_ERROR (logged) to end the process for good (it is not respawned).
 * The standard event loop runs from then on.
 *
 * With "master_process off" there is one process: init runs in it, after
 * the modules' init_process hooks, and the helper's events share its loop.
 */
typedef sl_int_t (*sl_process_helper_init_pt)(sl_cycle_t *cycle, void *data);

typedef struct sl_process_helper_s sl_process_helper_t;

struct sl_process_helper_s {
    const char *name; /* "health check process": for the master's log lines */
    sl_process_helper_init_pt init;
    void *data;
    sl_cycle_t *cycle; /* the registering cycle */
    sl_process_helper_t *next;
};

/*
 * Registers a helper process for cycle (allocated in its pool; name must
 * outlive it, a literal is best). Returns SL_OK or SL_ERROR (no memory).
 */
sl_int_t sl_process_add_helper(sl_cycle_t *cycle, const char *name, sl_process_helper_init_pt init,
                               void *data);

typedef struct {
    pid_t pid;
    int status;
    sl_spawn_proc_pt proc;
    void *data;
    const char *name;
    sl_uint_t slot_data; /* worker number */
    unsigned respawn : 1;
    unsigned exiting : 1;
    unsigned exited : 1;
    unsigned detached : 1;
    unsigned just_spawn : 1;
} sl_process_t;

#define SL_PROCESS_NORESPAWN -1
#define SL_PROCESS_JUST_SPAWN -2
#define SL_PROCESS_RESPAWN -3
#define SL_PROCESS_JUST_RESPAWN -4
#define SL_PROCESS_DETACHED -5

/* Signals and what they mean (as nginx). */
#define SL_RECONFIGURE_SIGNAL SIGHUP
#define SL_REOPEN_SIGNAL SIGUSR1
#define SL_NOACCEPT_SIGNAL SIGWINCH
#define SL_TERMINATE_SIGNAL SIGTERM
#define SL_SHUTDOWN_SIGNAL SIGQUIT
#define SL_CHANGEBIN_SIGNAL SIGUSR2

sl_int_t sl_init_signals(sl_log_t *log);
void sl_master_process_cycle(sl_cycle_t *cycle);
void sl_single_process_cycle(sl_cycle_t *cycle);
sl_int_t sl_daemon(sl_log_t *log);
/* Asks the kernel for more fds; records worker_rlimit_nofile. */
sl_int_t sl_os_init(sl_log_t *log);

/*
 * Shared by sl_process.c (the master) and sl_worker.c (the processes it
 * spawns); not for modules.
 */

/* Exit status of a child that cannot initialise: the master does not respawn it. */
#define SL_PROCESS_FATAL_EXIT 2

/* The spawned processes' main loops; data is the worker number or the helper. */
void sl_worker_process_cycle(sl_cycle_t *cycle, void *data);
void sl_helper_process_cycle(sl_cycle_t *cycle, void *data);
/* Logs the signals received since the last call (who sent them). */
void sl_log_signals(sl_cycle_t *cycle);
/* Removes the pid file, runs the modules' exit_master hooks, closes the listeners, exits. */
void sl_master_process_exit(sl_cycle_t *cycle);
/* The write end of a reload's readiness pipe, or -1 (see sl_reload). */
extern int sl_ready_fd;
/* Every live cycle's helper registrations. */
extern sl_process_helper_t *sl_process_helpers;

extern sl_uint_t sl_process;
extern sl_uint_t sl_worker;
extern pid_t sl_pid;
extern pid_t sl_parent;
extern sl_uint_t sl_ncpu;
extern sl_process_t sl_processes[SL_MAX_PROCESSES];
extern sl_int_t sl_last_process;

extern volatile sig_atomic_t sl_reap;
extern volatile sig_atomic_t sl_sigio;
extern volatile sig_atomic_t sl_sigalrm;
extern volatile sig_atomic_t sl_terminate;
extern volatile sig_atomic_t sl_quit;
extern volatile sig_atomic_t sl_debug_quit;
extern volatile sig_atomic_t sl_reconfigure;
extern volatile sig_atomic_t sl_reopen;
extern volatile sig_atomic_t sl_change_binary;
extern volatile sig_atomic_t sl_noaccept;
extern sl_uint_t sl_exiting;
extern sl_uint_t sl_daemonized;
extern sl_uint_t sl_inherited;

/* sl_os.c */
/* The soft RLIMIT_NOFILE recorded by sl_os_init() (SL_MAX_INT_T_VALUE when unlimited). */
extern sl_int_t sl_max_sockets;
/* Sets RLIMIT_NOFILE (soft and hard) to n for worker_rlimit_nofile; SL_OK or SL_ERROR (logged). */
sl_int_t sl_os_set_rlimit_nofile(sl_int_t n, sl_log_t *log);

#endif /* SL_PROCESS_H */
