/*
 * sl_process.c: signals, the master process, its workers and its helpers.
 *
 * Signal handlers only set flags (and remember who sent what, for the log);
 * the master sleeps in sigsuspend() with every signal it handles blocked in
 * between, so no signal is lost between a check and the sleep. Workers run
 * with the signals unblocked: epoll_wait() returns EINTR and the loop looks
 * at the flags.
 */
#include "sl_config.h"

#include <poll.h>

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

/* After TERM, workers still alive this long are killed. */
#define SL_TERMINATE_KILL_DELAY 5000
/* After a reload, how long the master waits for the new workers to report that they accept. */
#define SL_RELOAD_READY_TIMEOUT 3000
/* The environment variable that hands listening sockets to a new binary: "fd;fd;...". */
#define SL_INHERIT_VAR "SLUICE"

typedef struct {
    int signo;
    const char *signame;
    const char *action; /* what the master does, for the log */
    sl_uint_t ignore;
} sl_signal_t;

sl_uint_t sl_process;
sl_uint_t sl_worker;
pid_t sl_pid;
pid_t sl_parent;
sl_process_t sl_processes[SL_MAX_PROCESSES];
sl_int_t sl_last_process;

volatile sig_atomic_t sl_reap;
volatile sig_atomic_t sl_sigio;
volatile sig_atomic_t sl_sigalrm;
volatile sig_atomic_t sl_terminate;
volatile sig_atomic_t sl_quit;
volatile sig_atomic_t sl_debug_quit;
volatile sig_atomic_t sl_reconfigure;
volatile sig_atomic_t sl_reopen;
volatile sig_atomic_t sl_change_binary;
volatile sig_atomic_t sl_noaccept;
sl_uint_t sl_exiting;
sl_uint_t sl_daemonized;
sl_uint_t sl_inherited;

static sl_signal_t sl_signals[] = {
    { SL_RECONFIGURE_SIGNAL, "SIGHUP", "reconfiguring", 0 },
    { SL_REOPEN_SIGNAL, "SIGUSR1", "reopening", 0 },
    { SL_NOACCEPT_SIGNAL, "SIGWINCH", "", 0 },
    { SL_TERMINATE_SIGNAL, "SIGTERM", "exiting", 0 },
    { SIGINT, "SIGINT", "exiting", 0 },
    { SL_SHUTDOWN_SIGNAL, "SIGQUIT", "shutting down", 0 },
    { SL_CHANGEBIN_SIGNAL, "SIGUSR2", "", 0 },
    { SIGALRM, "SIGALRM", "", 0 },
    { SIGIO, "SIGIO", "", 0 },
    { SIGCHLD, "SIGCHLD", "", 0 },
    { SIGSYS, "SIGSYS", "", 1 },
    { SIGPIPE, "SIGPIPE", "", 1 },
    { 0, NULL, NULL, 0 },
};

/* Set by the handler, read and cleared by sl_log_signals(): who sent each signal. */
static volatile sig_atomic_t sl_signal_pending[NSIG];
static volatile sig_atomic_t sl_signal_sender[NSIG];

/*
 * The write end of the pipe on which the workers of a reload report that
 * they accept (one byte each); -1 outside that moment, so a worker
 * respawned later writes nothing.
 */
int sl_ready_fd = -1;

/* The master started by USR2 while it runs (the old master keeps pid.oldbin). */
static volatile pid_t sl_new_binary;
/* WINCH stopped this master's workers: it serves nothing until HUP or the new binary dies. */
static sl_uint_t sl_noaccepting;

/* Helper registrations of every live cycle, each unlinked when its cycle's pool goes. */
sl_process_helper_t *sl_process_helpers;

static void sl_signal_handler(int signo, siginfo_t *info, void *context);
static void sl_start_worker_processes(sl_cycle_t *cycle, sl_int_t n, sl_int_t type);
static void sl_start_helper_processes(sl_cycle_t *cycle, sl_int_t type);
static void sl_new_binary_exited(sl_cycle_t *cycle);


sl_int_t
sl_init_signals(sl_log_t *log)
{
    sl_signal_t *sig;
    struct sigaction sa;

    for (sig = sl_signals; sig->signo != 0; sig++) {
        sl_memzero(&sa, sizeof(struct sigaction));

        if (sig->ignore) {
            sa.sa_handler = SIG_IGN;

        } else {
            /* no SA_RESTART: a blocking call returns EINTR and the loop sees the flag */
            sa.sa_sigaction = sl_signal_handler;
            sa.sa_flags = SA_SIGINFO;
        }

        sigemptyset(&sa.sa_mask);

        if (sigaction(sig->signo, &sa, NULL) == -1) {
            sl_log_error(SL_LOG_EMERG, log, errno, "sigaction(%s) failed", sig->signame);
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static void
sl_signal_handler(int signo, siginfo_t *info, void *context)
{
    int err;

    sl_unused(context);

    err = errno;

    switch (sl_process) {
    case SL_PROCESS_MASTER:
    case SL_PROCESS_SINGLE:
        switch (signo) {
        case SL_SHUTDOWN_SIGNAL:
            sl_quit = 1;
            break;
        case SL_TERMINATE_SIGNAL:
        case SIGINT:
            sl_terminate = 1;
            break;
        case SL_NOACCEPT_SIGNAL:
            /*
             * A terminal sends WINCH to a foreground master when resized:
             * it means "stop the workers" only for a daemon, or during a
             * binary upgrade, when the operator is handing over to the
             * new master.
             */
            if (sl_daemonized || sl_new_binary > 0) {
                sl_noaccept = 1;
            }
            break;
        case SL_RECONFIGURE_SIGNAL:
            sl_reconfigure = 1;
            break;
        case SL_REOPEN_SIGNAL:
            sl_reopen = 1;
            break;
        case SL_CHANGEBIN_SIGNAL:
            sl_change_binary = 1;
            break;
        case SIGALRM:
            sl_sigalrm = 1;
            break;
        case SIGIO:
            sl_sigio = 1;
            break;
        case SIGCHLD:
            sl_reap = 1;
            break;
        }
        break;

    default:
        /* workers and helpers: HUP, USR2, WINCH and IO mean nothing to them */
        switch (signo) {
        case SL_SHUTDOWN_SIGNAL:
            sl_quit = 1;
            break;
        case SL_TERMINATE_SIGNAL:
        case SIGINT:
            sl_terminate = 1;
            break;
        case SL_REOPEN_SIGNAL:
            sl_reopen = 1;
            break;
        }
        break;
    }

    if (signo > 0 && signo < NSIG) {
        sl_signal_sender[signo] = (info != NULL) ? (sig_atomic_t) info->si_pid : 0;
        sl_signal_pending[signo] = 1;
    }

    errno = err;
}


/* Logs the signals received since the last call, as nginx logs them in its handler. */
void
sl_log_signals(sl_cycle_t *cycle)
{
    sl_signal_t *sig;
    const char *action;

    for (sig = sl_signals; sig->signo != 0; sig++) {
        if (!sl_signal_pending[sig->signo]) {
            continue;
        }

        sl_signal_pending[sig->signo] = 0;

        if (sig->signo == SIGALRM || sig->signo == SIGIO) {
            continue;
        }

        action = "";

        if (sl_process == SL_PROCESS_MASTER || sl_process == SL_PROCESS_SINGLE
            || sig->signo == SL_SHUTDOWN_SIGNAL || sig->signo == SL_TERMINATE_SIGNAL
            || sig->signo == SIGINT || sig->signo == SL_REOPEN_SIGNAL) {
            action = sig->action;

        } else {
            action = "ignoring";
        }

        sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "signal %d (%s) received from %d%s%s",
                     sig->signo, sig->signame, (int) sl_signal_sender[sig->signo],
                     action[0] ? ", " : "", action);
    }
}


sl_int_t
sl_daemon(sl_log_t *log)
{
    int fd;

    switch (fork()) {
    case -1:
        sl_log_error(SL_LOG_EMERG, log, errno, "fork() failed");
        return SL_ERROR;

    case 0:
        break;

    default:
        exit(0);
    }

    sl_parent = sl_pid;
    sl_pid = getpid();
    sl_log_pid = sl_pid;

    if (setsid() == -1) {
        sl_log_error(SL_LOG_EMERG, log, errno, "setsid() failed");
        return SL_ERROR;
    }

    umask(0);

    fd = open("/dev/null", O_RDWR);
    if (fd == -1) {
        sl_log_error(SL_LOG_EMERG, log, errno, "open(\"/dev/null\") failed");
        return SL_ERROR;
    }

    if (dup2(fd, STDIN_FILENO) == -1) {
        sl_log_error(SL_LOG_EMERG, log, errno, "dup2(STDIN) failed");
        (void) close(fd);
        return SL_ERROR;
    }

    if (dup2(fd, STDOUT_FILENO) == -1) {
        sl_log_error(SL_LOG_EMERG, log, errno, "dup2(STDOUT) failed");
        (void) close(fd);
        return SL_ERROR;
    }

    /* stderr is pointed at the error log by sl_redirect_stderr() */

    if (fd > STDERR_FILENO && close(fd) == -1) {
        sl_log_error(SL_LOG_EMERG, log, errno, "close() failed");
        return SL_ERROR;
    }

    return SL_OK;
}


/* Spawning ------------------------------------------------------------------- */

/* Forks proc into slot `respawn` (when >= 0) or a free slot; returns the pid or SL_INVALID_PID. */
static pid_t
sl_spawn_process(sl_cycle_t *cycle, sl_spawn_proc_pt proc, void *data, const char *name,
                 sl_int_t respawn)
{
    pid_t pid;
    sl_int_t s;

    if (respawn >= 0) {
        s = respawn;

    } else {
        for (s = 0; s < sl_last_process; s++) {
            if (sl_processes[s].pid == -1) {
                break;
            }
        }

        if (s == SL_MAX_PROCESSES) {
            sl_log_error(SL_LOG_ALERT, cycle->log, 0, "no more than %d processes can be spawned",
                         SL_MAX_PROCESSES);
            return SL_INVALID_PID;
        }
    }

    pid = fork();

    switch (pid) {
    case -1:
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "fork() failed while spawning \"%s\"", name);
        return SL_INVALID_PID;

    case 0:
        sl_parent = sl_pid;
        sl_pid = getpid();
        sl_log_pid = sl_pid;
        proc(cycle, data);
        exit(0);

    default:
        break;
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "start %s %d", name, (int) pid);

    sl_processes[s].pid = pid;
    sl_processes[s].exited = 0;
    sl_processes[s].status = 0;

    if (respawn >= 0) {
        return pid;
    }

    sl_processes[s].proc = proc;
    sl_processes[s].data = data;
    sl_processes[s].name = name;
    sl_processes[s].exiting = 0;
    sl_processes[s].respawn = 0;
    sl_processes[s].just_spawn = 0;
    sl_processes[s].detached = 0;

    switch (respawn) {
    case SL_PROCESS_JUST_SPAWN:
        sl_processes[s].just_spawn = 1;
        break;
    case SL_PROCESS_RESPAWN:
        sl_processes[s].respawn = 1;
        break;
    case SL_PROCESS_JUST_RESPAWN:
        sl_processes[s].respawn = 1;
        sl_processes[s].just_spawn = 1;
        break;
    case SL_PROCESS_DETACHED:
        sl_processes[s].detached = 1;
        break;
    default:
        break;
    }

    if (s == sl_last_process) {
        sl_last_process++;
    }

    return pid;
}


/* Unlinks a registration when its cycle's pool is destroyed. */
static void
sl_process_helper_cleanup(void *data)
{
    sl_process_helper_t *helper, **hp;

    helper = data;

    for (hp = &sl_process_helpers; *hp != NULL; hp = &(*hp)->next) {
        if (*hp == helper) {
            *hp = helper->next;
            return;
        }
    }
}


sl_int_t
sl_process_add_helper(sl_cycle_t *cycle, const char *name, sl_process_helper_init_pt init,
                      void *data)
{
    sl_pool_cleanup_t *cln;
    sl_process_helper_t *helper, **hp;

    helper = sl_pcalloc(cycle->pool, sizeof(sl_process_helper_t));
    cln = sl_pool_cleanup_add(cycle->pool, 0);

    if (helper == NULL || cln == NULL) {
        return SL_ERROR;
    }

    helper->name = name;
    helper->init = init;
    helper->data = data;
    helper->cycle = cycle;

    /* in registration order, so helpers start in the order modules asked */
    for (hp = &sl_process_helpers; *hp != NULL; hp = &(*hp)->next) {
        /* void */
    }

    *hp = helper;

    cln->handler = sl_process_helper_cleanup;
    cln->data = helper;

    return SL_OK;
}


/* Forks one process for each helper registered by cycle. */
static void
sl_start_helper_processes(sl_cycle_t *cycle, sl_int_t type)
{
    sl_process_helper_t *helper;

    for (helper = sl_process_helpers; helper != NULL; helper = helper->next) {
        if (helper->cycle != cycle) {
            continue;
        }

        (void) sl_spawn_process(cycle, sl_helper_process_cycle, helper, helper->name, type);
    }
}


static void
sl_start_worker_processes(sl_cycle_t *cycle, sl_int_t n, sl_int_t type)
{
    sl_int_t i;

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "start worker processes");

    for (i = 0; i < n; i++) {
        (void) sl_spawn_process(cycle, sl_worker_process_cycle, (void *) (uintptr_t) i,
                                "worker process", type);
    }
}


/*
 * Sends signo to every worker and helper. New ones of a reload (just_spawn)
 * are spared once; those already told to stop are not told again.
 */
static void
sl_signal_worker_processes(sl_cycle_t *cycle, int signo)
{
    sl_int_t i;

    for (i = 0; i < sl_last_process; i++) {
        if (sl_processes[i].detached || sl_processes[i].pid == -1 || sl_processes[i].exited) {
            continue;
        }

        if (sl_processes[i].just_spawn) {
            sl_processes[i].just_spawn = 0;
            continue;
        }

        if (sl_processes[i].exiting && signo == SL_SHUTDOWN_SIGNAL) {
            continue;
        }

        if (kill(sl_processes[i].pid, signo) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno, "kill(%d, %d) failed",
                         (int) sl_processes[i].pid, signo);

            if (errno == ESRCH) {
                sl_processes[i].exited = 1;
                sl_processes[i].exiting = 0;
                sl_reap = 1;
            }

            continue;
        }

        if (signo != SL_REOPEN_SIGNAL) {
            sl_processes[i].exiting = 1;
        }
    }
}


/* Collects every exited child (logging how it ended) without blocking. */
static void
sl_process_get_status(sl_cycle_t *cycle)
{
    int status;
    pid_t pid;
    sl_int_t i;
    const char *name;

    for (;;) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            return;
        }

        if (pid == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != ECHILD) {
                sl_log_error(SL_LOG_ALERT, cycle->log, errno, "waitpid() failed");
            }

            return;
        }

        name = "unknown process";

        for (i = 0; i < sl_last_process; i++) {
            if (sl_processes[i].pid == pid) {
                sl_processes[i].status = status;
                sl_processes[i].exited = 1;
                name = sl_processes[i].name;
                break;
            }
        }

        if (WIFSIGNALED(status)) {
            sl_log_error(SL_LOG_ALERT, cycle->log, 0, "%s %d exited on signal %d%s", name,
                         (int) pid, WTERMSIG(status), WCOREDUMP(status) ? " (core dumped)" : "");

        } else if (WEXITSTATUS(status) == 0) {
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "%s %d exited with code 0", name, (int) pid);

        } else {
            sl_log_error(SL_LOG_ALERT, cycle->log, 0, "%s %d exited with code %d", name, (int) pid,
                         WEXITSTATUS(status));
        }

        if (i < sl_last_process && WIFEXITED(status) && WEXITSTATUS(status) == SL_PROCESS_FATAL_EXIT
            && sl_processes[i].respawn) {
            sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                         "%s %d exited with fatal code %d and cannot be respawned", name, (int) pid,
                         SL_PROCESS_FATAL_EXIT);
            sl_processes[i].respawn = 0;
        }
    }
}


/* Respawns the workers that died while nobody asked them to; returns whether any child lives. */
static sl_uint_t
sl_reap_children(sl_cycle_t *cycle)
{
    sl_int_t i;
    sl_uint_t live;

    sl_process_get_status(cycle);

    live = 0;

    for (i = 0; i < sl_last_process; i++) {
        if (sl_processes[i].pid == -1) {
            continue;
        }

        if (!sl_processes[i].exited) {
            if (!sl_processes[i].detached) {
                live = 1;
            }

            continue;
        }

        if (sl_processes[i].respawn && !sl_processes[i].exiting && !sl_terminate && !sl_quit) {
            if (sl_spawn_process(cycle, sl_processes[i].proc, sl_processes[i].data,
                                 sl_processes[i].name, i)
                == SL_INVALID_PID) {
                sl_log_error(SL_LOG_ALERT, cycle->log, 0, "could not respawn %s",
                             sl_processes[i].name);
                sl_processes[i].pid = -1;
                continue;
            }

            live = 1;
            continue;
        }

        if (sl_processes[i].pid == sl_new_binary) {
            sl_new_binary_exited(cycle);
        }

        sl_processes[i].pid = -1;
    }

    while (sl_last_process > 0 && sl_processes[sl_last_process - 1].pid == -1) {
        sl_last_process--;
    }

    return live;
}


static sl_uint_t
sl_live_children(void)
{
    sl_int_t i;

    for (i = 0; i < sl_last_process; i++) {
        if (sl_processes[i].pid != -1 && !sl_processes[i].exited && !sl_processes[i].detached) {
            return 1;
        }
    }

    return 0;
}


void
sl_master_process_exit(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_core_conf_t *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (sl_new_binary > 0) {
        /* the pid file is the new master's now; this one's is pid.oldbin */
        if (unlink((char *) ccf->oldpid.data) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno, "unlink() \"%s\" failed",
                         ccf->oldpid.data);
        }

    } else {
        sl_delete_pidfile(cycle);
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "exit");

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->exit_master != NULL) {
            cycle->modules[i]->exit_master(cycle);
        }
    }

    sl_close_listening_sockets(cycle);

    exit(0);
}


/* Arms a one-shot SIGALRM in ms milliseconds (0 disarms). */
static void
sl_set_alarm(sl_cycle_t *cycle, sl_msec_t ms)
{
    struct itimerval itv;

    sl_memzero(&itv, sizeof(itv));
    itv.it_value.tv_sec = (time_t) (ms / 1000);
    itv.it_value.tv_usec = (suseconds_t) ((ms % 1000) * 1000);

    if (setitimer(ITIMER_REAL, &itv, NULL) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "setitimer() failed");
    }
}


/* Binary upgrade ----------------------------------------------------------------- */

/*
 * The environment of the new binary: this one's without an older
 * SL_INHERIT_VAR, plus SL_INHERIT_VAR="fd;fd;..." listing every listening
 * socket. NULL (logged) on failure; one heap block.
 */
static char **
sl_new_binary_env(sl_cycle_t *cycle)
{
    char **env, *var, *p;
    size_t len;
    sl_uint_t i, n, envc;
    sl_listening_t *ls;

    ls = cycle->listening.elts;
    len = sizeof(SL_INHERIT_VAR "=");

    for (i = 0; i < cycle->listening.nelts; i++) {
        len += SL_INT_T_LEN + 1;
    }

    for (envc = 0; environ[envc] != NULL; envc++) {
        /* void */
    }

    env = sl_alloc((envc + 2) * sizeof(char *) + len, cycle->log);
    if (env == NULL) {
        return NULL;
    }

    var = (char *) (env + envc + 2);
    p = (char *) sl_cpymem(var, SL_INHERIT_VAR "=", sizeof(SL_INHERIT_VAR "=") - 1);

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != -1) {
            p = (char *) sl_sprintf((u_char *) p, "%d;", ls[i].fd);
        }
    }

    *p = '\0';

    n = 0;

    for (i = 0; i < envc; i++) {
        if (strncmp(environ[i], SL_INHERIT_VAR "=", sizeof(SL_INHERIT_VAR "=") - 1) != 0) {
            env[n++] = environ[i];
        }
    }

    env[n++] = var;
    env[n] = NULL;

    return env;
}


typedef struct {
    char **argv;
    char **env;
} sl_exec_ctx_t;


/* In the child: the listeners survive the exec, then the new binary replaces this process. */
static void
sl_exec_new_binary_proc(sl_cycle_t *cycle, void *data)
{
    sigset_t set;
    sl_uint_t i;
    sl_exec_ctx_t *ctx;
    sl_listening_t *ls;

    ctx = data;
    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != -1 && fcntl(ls[i].fd, F_SETFD, 0) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno, "fcntl(F_SETFD) on %V failed",
                         &ls[i].addr_text);
            _exit(1);
        }
    }

    /* the master's blocked signals would stay blocked across the exec */
    sigemptyset(&set);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);

    execvpe(ctx->argv[0], ctx->argv, ctx->env);

    sl_log_error(SL_LOG_ALERT, cycle->log, errno,
                 "execve() failed while executing new binary process \"%s\"", ctx->argv[0]);

    /* not exit(): the master's atexit work (sanitizer reports included) is not this process's */
    _exit(1);
}


/*
 * USR2: starts the binary at the path this one was started from, with the
 * same arguments and the listening sockets. The pid file is renamed to
 * pid.oldbin first, so that the new master can write its own; when the new
 * binary fails (exec, configuration, anything) sl_new_binary_exited() puts
 * it back, and this master serves on as if nothing happened.
 */
static void
sl_exec_new_binary(sl_cycle_t *cycle)
{
    pid_t pid;
    sl_exec_ctx_t ctx;
    sl_core_conf_t *ccf;

    if (sl_new_binary > 0) {
        sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                     "the new binary process %d is already running, USR2 ignored",
                     (int) sl_new_binary);
        return;
    }

    if (sl_inherited && getppid() == sl_parent) {
        /* this master is the new binary and its old master still runs */
        sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                     "the old master process %d is still running, USR2 ignored", (int) sl_parent);
        return;
    }

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    /* the new binary gets this one's command line (saved before the title took its place) */
    ctx.argv = sl_argv;
    ctx.env = sl_new_binary_env(cycle);

    if (ctx.argv == NULL || ctx.env == NULL) {
        goto done;
    }

    if (rename((char *) ccf->pid.data, (char *) ccf->oldpid.data) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno,
                     "rename() %s to %s failed before executing new binary process \"%s\"",
                     ccf->pid.data, ccf->oldpid.data, ctx.argv[0]);
        goto done;
    }

    pid = sl_spawn_process(cycle, sl_exec_new_binary_proc, &ctx, "new binary process",
                           SL_PROCESS_DETACHED);

    if (pid == SL_INVALID_PID) {
        if (rename((char *) ccf->oldpid.data, (char *) ccf->pid.data) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno,
                         "rename() %s back to %s failed after an unsuccessful attempt to "
                         "execute new binary process \"%s\"",
                         ccf->oldpid.data, ccf->pid.data, ctx.argv[0]);
        }

        goto done;
    }

    sl_new_binary = pid;

done:

    /* the child has its own copy; the data pointer in the process table is not used again */
    if (ctx.env != NULL) {
        sl_free(ctx.env);
    }
}


/*
 * The new binary is gone (it failed to start, or was stopped): this master
 * takes its pid file back, and starts workers again if WINCH had stopped
 * them.
 */
static void
sl_new_binary_exited(sl_cycle_t *cycle)
{
    sl_core_conf_t *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (rename((char *) ccf->oldpid.data, (char *) ccf->pid.data) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "rename() %s back to %s failed",
                     ccf->oldpid.data, ccf->pid.data);
    }

    sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                 "new binary process %d is gone, master process %d goes on", (int) sl_new_binary,
                 (int) sl_pid);

    sl_new_binary = 0;

    if (sl_noaccepting && !sl_quit && !sl_terminate) {
        sl_noaccepting = 0;
        sl_start_worker_processes(cycle, ccf->worker_processes, SL_PROCESS_RESPAWN);
        sl_start_helper_processes(cycle, SL_PROCESS_RESPAWN);
    }
}


/* Reload ---------------------------------------------------------------------------- */

/*
 * Waits until the n workers that share the pipe's write end have each
 * written their byte (they accept), died (the pipe reaches end of file once
 * every holder is gone) or SL_RELOAD_READY_TIMEOUT passed. Returns how
 * many reported.
 */
static sl_uint_t
sl_wait_workers_ready(sl_cycle_t *cycle, int fd, sl_uint_t n)
{
    int timeout;
    char buf[64];
    ssize_t got;
    sl_uint_t ready;
    sl_msec_t deadline;
    struct pollfd pfd;

    ready = 0;
    deadline = sl_current_msec + SL_RELOAD_READY_TIMEOUT;

    while (ready < n) {
        sl_time_update();

        if ((sl_msec_int_t) (deadline - sl_current_msec) <= 0) {
            break;
        }

        timeout = (int) (deadline - sl_current_msec);

        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;

        if (poll(&pfd, 1, timeout) == -1) {
            if (errno == EINTR) {
                continue;
            }

            sl_log_error(SL_LOG_ALERT, cycle->log, errno, "poll() failed");
            break;
        }

        if (pfd.revents == 0) {
            continue;
        }

        got = read(fd, buf, sizeof(buf));

        if (got == -1 && errno == EINTR) {
            continue;
        }

        if (got <= 0) {
            break;
        }

        ready += (sl_uint_t) got;
    }

    return ready;
}


/*
 * HUP: builds the new cycle; if that fails (logged with file:line) nothing
 * changes. Otherwise starts the new workers and helpers and, once the new
 * workers accept, tells every older process to stop gracefully. The
 * listeners never close in between: the master holds them, so a client
 * that connects meanwhile waits in the backlog and is never refused.
 * Returns the cycle now current.
 */
static sl_cycle_t *
sl_reload(sl_cycle_t *cycle)
{
    int fds[2];
    sl_int_t i;
    sl_uint_t ready;
    sl_cycle_t *new_cycle;
    sl_core_conf_t *ccf;

    new_cycle = sl_init_cycle(cycle);

    if (new_cycle == NULL) {
        sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                     "the new configuration is not loaded, the worker processes go on with the "
                     "previous one");
        return cycle;
    }

    /*
     * The old cycle's processes are never respawned from here on: a
     * helper's data lives in the old cycle, freed just below.
     */
    for (i = 0; i < sl_last_process; i++) {
        sl_processes[i].respawn = 0;
    }

    sl_free_cycle(cycle);
    cycle = new_cycle;
    sl_cycle = cycle;
    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (pipe2(fds, O_CLOEXEC) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "pipe2() failed");
        fds[0] = -1;
        fds[1] = -1;
    }

    sl_ready_fd = fds[1];

    sl_start_worker_processes(cycle, ccf->worker_processes, SL_PROCESS_JUST_RESPAWN);

    /* from here only the new workers hold the write end: helpers never write */
    if (sl_ready_fd != -1) {
        (void) close(sl_ready_fd);
        sl_ready_fd = -1;
    }

    sl_start_helper_processes(cycle, SL_PROCESS_JUST_RESPAWN);

    if (fds[0] == -1) {
        ready = (sl_uint_t) ccf->worker_processes;

    } else {
        ready = sl_wait_workers_ready(cycle, fds[0], (sl_uint_t) ccf->worker_processes);
        (void) close(fds[0]);
    }

    if (ready == 0) {
        /* better the previous configuration than nothing: keep its workers */
        sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                     "no new worker process started, the old ones go on serving");

        for (i = 0; i < sl_last_process; i++) {
            sl_processes[i].just_spawn = 0;
        }

        return cycle;
    }

    if (ready < (sl_uint_t) ccf->worker_processes) {
        sl_log_error(SL_LOG_WARN, cycle->log, 0, "%ui of %i new worker processes started", ready,
                     ccf->worker_processes);
    }

    sl_signal_worker_processes(cycle, SL_SHUTDOWN_SIGNAL);

    return cycle;
}


void
sl_master_process_cycle(sl_cycle_t *cycle)
{
    sigset_t set;
    sl_int_t i;
    sl_uint_t live, quitting, killed;
    sl_msec_t delay, kill_at;
    sl_core_conf_t *ccf;
    char title[512];

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SL_RECONFIGURE_SIGNAL);
    sigaddset(&set, SL_REOPEN_SIGNAL);
    sigaddset(&set, SL_NOACCEPT_SIGNAL);
    sigaddset(&set, SL_TERMINATE_SIGNAL);
    sigaddset(&set, SL_SHUTDOWN_SIGNAL);
    sigaddset(&set, SL_CHANGEBIN_SIGNAL);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "sigprocmask() failed");
    }

    sigemptyset(&set);

    for (i = 0; i < SL_MAX_PROCESSES; i++) {
        sl_processes[i].pid = -1;
    }

    sl_last_process = 0;

    sl_master_title(title, sizeof(title));
    sl_setproctitle(title);

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    sl_start_worker_processes(cycle, ccf->worker_processes, SL_PROCESS_RESPAWN);
    sl_start_helper_processes(cycle, SL_PROCESS_RESPAWN);

    delay = 0;
    kill_at = 0;
    quitting = 0;
    killed = 0;
    live = 1;

    for (;;) {
        if ((sl_terminate || sl_quit) && (!live || !sl_live_children())) {
            sl_master_process_exit(cycle);
        }

        if (delay) {
            sl_set_alarm(cycle, delay);
        }

        sigsuspend(&set);

        sl_time_update();
        sl_log_signals(cycle);

        if (sl_reap) {
            sl_reap = 0;
            live = sl_reap_children(cycle);
        }

        if (!live && (sl_terminate || sl_quit)) {
            continue;
        }

        if (sl_terminate) {
            if (delay == 0) {
                /* first TERM: ask, then check back with growing intervals */
                delay = 50;
                kill_at = sl_current_msec + SL_TERMINATE_KILL_DELAY;
                sl_signal_worker_processes(cycle, SL_TERMINATE_SIGNAL);
                continue;
            }

            if (sl_sigalrm) {
                sl_sigalrm = 0;
                delay = sl_min(delay * 2, 1000);
            }

            if (!killed && sl_current_msec >= kill_at) {
                killed = 1;
                sl_log_error(SL_LOG_ALERT, cycle->log, 0,
                             "worker processes still alive after %d ms, killing them",
                             SL_TERMINATE_KILL_DELAY);
                sl_signal_worker_processes(cycle, SIGKILL);
            }

            continue;
        }

        if (sl_quit) {
            if (!quitting) {
                quitting = 1;
                sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "gracefully shutting down");
                sl_signal_worker_processes(cycle, SL_SHUTDOWN_SIGNAL);
                sl_close_listening_sockets(cycle);
            }

            continue;
        }

        if (sl_reconfigure) {
            sl_reconfigure = 0;

            if (sl_noaccepting) {
                /* after WINCH: the way back is this master's own configuration, unchanged */
                sl_noaccepting = 0;
                sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "starting the worker processes again");
                sl_start_worker_processes(cycle, ccf->worker_processes, SL_PROCESS_RESPAWN);
                sl_start_helper_processes(cycle, SL_PROCESS_RESPAWN);
                live = 1;
                continue;
            }

            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reconfiguring");

            cycle = sl_reload(cycle);
            ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);
            live = 1;
        }

        if (sl_reopen) {
            sl_reopen = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "reopening logs");
            sl_reopen_files(cycle);
            sl_signal_worker_processes(cycle, SL_REOPEN_SIGNAL);
        }

        if (sl_change_binary) {
            sl_change_binary = 0;
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0, "changing binary");
            sl_exec_new_binary(cycle);
        }

        if (sl_noaccept) {
            sl_noaccept = 0;

            if (!sl_noaccepting) {
                sl_noaccepting = 1;
                sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                             "gracefully shutting down the worker processes");
                sl_signal_worker_processes(cycle, SL_SHUTDOWN_SIGNAL);
            }
        }
    }
}
