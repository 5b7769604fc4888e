/*
 * test_process.c: signal flags per process type, then a real master (in a
 * child of the test) with two workers: it respawns a killed worker, reopens
 * on USR1, survives a failed reload, reloads, stops on QUIT (removing the pid
 * file) and on TERM; the single process stops on TERM.
 */
/* This test links the generated module list: it parses real configurations. */
#include "sl_core.h"
#include "sl_tap.h"

static char sl_test_dir[] = "/tmp/sl_test_process.XXXXXX";

static void
sl_test_write(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", sl_test_dir, name);
    f = fopen(path, "w");

    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static int
sl_test_file_has(const char *name, const char *text)
{
    char path[512], buf[16384];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", sl_test_dir, name);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }

    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);

    return strstr(buf, text) != NULL;
}

/* Polls up to ms for text to appear in the file. */
static int
sl_test_wait_file_has(const char *name, const char *text, int ms)
{
    for (;;) {
        if (sl_test_file_has(name, text)) {
            return 1;
        }

        if (ms <= 0) {
            return 0;
        }

        usleep(20000);
        ms -= 20;
    }
}

/* Lists the live children of parent into pids; returns how many. */
static int
sl_test_children(pid_t parent, pid_t *pids, int max)
{
    int n, ppid, pid;
    char path[64], state;
    FILE *f;
    DIR *dir;
    struct dirent *de;

    n = 0;
    dir = opendir("/proc");
    if (dir == NULL) {
        return 0;
    }

    while ((de = readdir(dir)) != NULL && n < max) {
        pid = atoi(de->d_name);
        if (pid <= 0) {
            continue;
        }

        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }

        if (fscanf(f, "%*d (%*[^)]) %c %d", &state, &ppid) == 2 && ppid == parent && state != 'Z') {
            pids[n++] = pid;
        }

        fclose(f);
    }

    closedir(dir);

    return n;
}

/* Waits up to ms for parent to have want children. */
static int
sl_test_wait_children(pid_t parent, int want, pid_t *pids, int ms)
{
    int n;

    for (;;) {
        n = sl_test_children(parent, pids, 16);
        if (n == want || ms <= 0) {
            return n;
        }

        usleep(20000);
        ms -= 20;
    }
}

/* Waits up to ms for pid to exit; returns its wait status or -1. */
static int
sl_test_wait_exit(pid_t pid, int ms)
{
    int status;

    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return status;
        }

        if (ms <= 0) {
            return -1;
        }

        usleep(20000);
        ms -= 20;
    }
}

static sl_cycle_t *
sl_test_cycle(const char *conf)
{
    static char prefix[256], file[512], conf_prefix[512];
    sl_cycle_t init, *cycle;

    sl_test_write("conf/sluice.conf", conf);

    sl_memzero(&init, sizeof(sl_cycle_t));
    init.log = sl_log_init();
    init.pool = sl_create_pool(1024, init.log);

    snprintf(prefix, sizeof(prefix), "%s/", sl_test_dir);
    snprintf(file, sizeof(file), "%s/conf/sluice.conf", sl_test_dir);
    snprintf(conf_prefix, sizeof(conf_prefix), "%s/conf/", sl_test_dir);

    init.prefix.len = strlen(prefix);
    init.prefix.data = (u_char *) prefix;
    init.conf_file.len = strlen(file);
    init.conf_file.data = (u_char *) file;
    init.conf_prefix.len = strlen(conf_prefix);
    init.conf_prefix.data = (u_char *) conf_prefix;
    sl_str_set(&init.error_log, "logs/error.log");

    cycle = sl_init_cycle(&init);
    sl_free_cycle(&init);

    return cycle;
}

static void
test_signal_flags(void)
{
    struct sigaction sa;

    sl_process = SL_PROCESS_MASTER;
    is_int(sl_init_signals(sl_log_init()), SL_OK, "signals install");

    ok(sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN, "SIGPIPE is ignored");
    ok(sigaction(SIGHUP, NULL, &sa) == 0 && !(sa.sa_flags & SA_RESTART),
       "handled signals interrupt system calls");

    raise(SIGHUP);
    is_int(sl_reconfigure, 1, "master: HUP asks for a reload");
    raise(SIGUSR1);
    is_int(sl_reopen, 1, "master: USR1 asks for a reopen");
    raise(SIGCHLD);
    is_int(sl_reap, 1, "master: CHLD asks for a reap");
    raise(SIGUSR2);
    is_int(sl_change_binary, 1, "master: USR2 is noted");
    raise(SIGQUIT);
    is_int(sl_quit, 1, "master: QUIT asks for a graceful stop");
    raise(SIGINT);
    is_int(sl_terminate, 1, "master: INT asks for a fast stop");

    sl_reconfigure = sl_reopen = sl_reap = sl_change_binary = sl_quit = sl_terminate = 0;

    sl_process = SL_PROCESS_WORKER;
    raise(SIGHUP);
    is_int(sl_reconfigure, 0, "worker: HUP is ignored");
    raise(SIGUSR2);
    is_int(sl_change_binary, 0, "worker: USR2 is ignored");
    raise(SIGTERM);
    is_int(sl_terminate, 1, "worker: TERM asks for a fast stop");
    raise(SIGQUIT);
    is_int(sl_quit, 1, "worker: QUIT asks for a graceful stop");

    sl_reconfigure = sl_reopen = sl_reap = sl_change_binary = sl_quit = sl_terminate = 0;
    sl_process = SL_PROCESS_SINGLE;

    /* the test itself must not be interrupted by its children's SIGCHLD */
    sl_memzero(&sa, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
}

/* Runs the master for cycle in a child; returns the child's pid. */
static pid_t
sl_test_start_master(sl_cycle_t *cycle)
{
    pid_t pid;
    sl_core_conf_t *ccf;

    /* the children exit through exit(): TAP lines buffered here must not be printed twice */
    fflush(stdout);
    pid = fork();

    if (pid == 0) {
        sl_pid = getpid();
        sl_log_pid = sl_pid;
        sl_process = SL_PROCESS_MASTER;
        sl_cycle = cycle;

        ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

        if (sl_init_signals(cycle->log) != SL_OK
            || sl_create_pidfile(&ccf->pid, cycle->log) != SL_OK) {
            exit(3);
        }

        sl_master_process_cycle(cycle);
        exit(4);
    }

    return pid;
}

static void
test_master(void)
{
    int n, status;
    pid_t master, pids[16], again[16], old;
    char path[512];
    sl_cycle_t *cycle;

    cycle = sl_test_cycle("worker_processes 2; daemon off; pid logs/test.pid;\n"
                          "error_log logs/error.log info;\n"
                          "events { worker_connections 16; }\n");
    ok(cycle != NULL, "configuration for the master");
    if (cycle == NULL) {
        return;
    }

    master = sl_test_start_master(cycle);
    ok(master > 0, "master forked");

    n = sl_test_wait_children(master, 2, pids, 3000);
    is_int(n, 2, "the master starts two workers");
    ok(sl_test_wait_file_has("logs/error.log", "start worker process", 3000),
       "worker starts are logged");

    snprintf(path, sizeof(path), "%s/logs/test.pid", sl_test_dir);
    ok(access(path, F_OK) == 0, "the pid file exists while running");

    /* a worker killed by SIGKILL comes back */
    old = pids[0];
    kill(old, SIGKILL);
    usleep(300000);
    n = sl_test_wait_children(master, 2, again, 3000);
    is_int(n, 2, "a killed worker is replaced");
    ok((again[0] != old && again[1] != old), "by a new process");
    snprintf(path, sizeof(path), "worker process %d exited on signal 9", (int) old);
    ok(sl_test_wait_file_has("logs/error.log", path, 3000), "the crash is logged at alert");

    /* USR1 reaches the workers */
    kill(master, SIGUSR1);
    ok(sl_test_wait_file_has("logs/error.log", "reopening logs", 3000), "USR1 reopens the logs");

    /* USR2 (binary upgrade) is exercised end to end by t/41-lifecycle.t */

    /* a reload with a broken file keeps the workers */
    sl_test_write("conf/sluice.conf", "worker_procesess 2;\n");
    kill(master, SIGHUP);
    ok(sl_test_wait_file_has("logs/error.log", "unknown directive \"worker_procesess\"", 3000),
       "the bad reload is logged");
    n = sl_test_wait_children(master, 2, pids, 100);
    ok(n == 2
           && ((pids[0] == again[0] && pids[1] == again[1])
               || (pids[0] == again[1] && pids[1] == again[0])),
       "the old workers keep serving");

    /* a good reload replaces them */
    sl_test_write("conf/sluice.conf", "worker_processes 1; daemon off; pid logs/test.pid;\n"
                                      "error_log logs/error.log info;\n"
                                      "events { worker_connections 16; }\n");
    kill(master, SIGHUP);
    n = sl_test_wait_children(master, 1, pids, 3000);
    is_int(n, 1, "after the reload one worker runs");
    ok(n == 1 && pids[0] != again[0] && pids[0] != again[1], "and it is a new one");
    ok(sl_test_wait_file_has("logs/error.log", "gracefully shutting down", 3000),
       "the old workers shut down gracefully");

    /* QUIT stops everything and removes the pid file */
    kill(master, SIGQUIT);
    status = sl_test_wait_exit(master, 5000);
    ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "QUIT: the master exits 0");
    is_int(sl_test_children(master, pids, 16), 0, "no worker is left");
    snprintf(path, sizeof(path), "%s/logs/test.pid", sl_test_dir);
    ok(access(path, F_OK) == -1, "the pid file is removed");

    if (status == -1) {
        kill(master, SIGKILL);
        (void) sl_test_wait_exit(master, 2000);
    }

    /* TERM, with one worker that cannot answer: it is killed after a while */
    master = sl_test_start_master(cycle);
    n = sl_test_wait_children(master, 2, pids, 3000);
    is_int(n, 2, "second master starts two workers");
    if (n == 2) {
        kill(pids[0], SIGSTOP);
    }

    kill(master, SIGTERM);
    status = sl_test_wait_exit(master, 9000);
    ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "TERM: the master exits 0");
    ok(sl_test_wait_file_has("logs/error.log", "killing them", 3000), "a stuck worker is killed");

    if (status == -1) {
        kill(master, SIGKILL);
        if (n == 2) {
            kill(pids[0], SIGKILL);
            kill(pids[1], SIGKILL);
        }
        (void) sl_test_wait_exit(master, 2000);
    }

    sl_free_cycle(cycle);
}

static void
test_single(void)
{
    int status;
    pid_t pid;
    sl_cycle_t *cycle;

    cycle = sl_test_cycle("master_process off; daemon off; pid logs/single.pid;\n"
                          "error_log logs/single.log info;\n"
                          "events { worker_connections 16; }\n");
    ok(cycle != NULL, "configuration for the single process");
    if (cycle == NULL) {
        return;
    }

    fflush(stdout);
    pid = fork();

    if (pid == 0) {
        sl_pid = getpid();
        sl_log_pid = sl_pid;
        sl_process = SL_PROCESS_SINGLE;
        sl_cycle = cycle;
        if (sl_init_signals(cycle->log) != SL_OK) {
            exit(3);
        }
        sl_single_process_cycle(cycle);
        exit(4);
    }

    usleep(300000);
    kill(pid, SIGHUP);
    ok(sl_test_wait_file_has("logs/single.log", "not supported with \"master_process off\"", 3000),
       "the single process declines a reload");

    kill(pid, SIGTERM);
    status = sl_test_wait_exit(pid, 5000);
    ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "TERM stops the single process");

    if (status == -1) {
        kill(pid, SIGKILL);
        (void) sl_test_wait_exit(pid, 2000);
    }

    sl_free_cycle(cycle);
}

int
main(void)
{
    char dir[512];

    if (mkdtemp(sl_test_dir) == NULL) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }

    /* workers of a root master become "nobody": let them reopen their logs */
    chmod(sl_test_dir, 0777);
    snprintf(dir, sizeof(dir), "%s/conf", sl_test_dir);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/logs", sl_test_dir);
    mkdir(dir, 0777);

    sl_time_init();
    sl_pid = getpid();
    sl_log_pid = sl_pid;
    (void) sl_os_init(sl_log_init());

    test_signal_flags();
    test_master();
    test_single();

    snprintf(dir, sizeof(dir), "rm -rf '%s'", sl_test_dir);
    if (system(dir) != 0) {
        printf("# could not remove %s\n", sl_test_dir);
    }

    return sl_tap_done();
}
