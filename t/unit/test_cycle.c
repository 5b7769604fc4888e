/*
 * test_cycle.c: building cycles from real configuration files in a
 * temporary prefix: defaults, directives, -g, reload success and failure
 * (the old cycle must stay usable), open files, pid files, -s, shared
 * memory declarations, and hostile values.
 */
/* This test links the generated module list: it parses real configurations. */
#include "sl_core.h"
#include "sl_tap.h"

#define SL_TEST_EVENTS "events { worker_connections 16; }\n"

static char sl_test_dir[] = "/tmp/sl_test_cycle.XXXXXX";
static sl_cycle_t sl_test_init;

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

static void
sl_test_read(const char *path, char *buf, size_t size)
{
    FILE *f;
    size_t n;

    buf[0] = '\0';
    f = fopen(path, "r");

    if (f != NULL) {
        n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
}

/* Builds the init cycle main() would build for "-p DIR -c conf/sluice.conf [-g params]". */
static void
sl_test_init_cycle(const char *params)
{
    static char prefix[256], conf[512], conf_prefix[512];

    sl_memzero(&sl_test_init, sizeof(sl_cycle_t));
    sl_test_init.log = sl_log_init();
    sl_test_init.pool = sl_create_pool(1024, sl_test_init.log);

    snprintf(prefix, sizeof(prefix), "%s/", sl_test_dir);
    snprintf(conf, sizeof(conf), "%s/conf/sluice.conf", sl_test_dir);
    snprintf(conf_prefix, sizeof(conf_prefix), "%s/conf/", sl_test_dir);

    sl_test_init.prefix.len = strlen(prefix);
    sl_test_init.prefix.data = (u_char *) prefix;
    sl_test_init.conf_file.len = strlen(conf);
    sl_test_init.conf_file.data = (u_char *) conf;
    sl_test_init.conf_prefix.len = strlen(conf_prefix);
    sl_test_init.conf_prefix.data = (u_char *) conf_prefix;
    sl_str_set(&sl_test_init.error_log, "logs/error.log");

    if (params != NULL) {
        sl_test_init.conf_param.len = strlen(params);
        sl_test_init.conf_param.data = (u_char *) params;
    }
}

static sl_cycle_t *
sl_test_cycle(const char *conf, const char *params)
{
    sl_cycle_t *cycle;

    sl_test_write("conf/sluice.conf", conf);
    sl_test_init_cycle(params);

    cycle = sl_init_cycle(&sl_test_init);
    sl_free_cycle(&sl_test_init);

    return cycle;
}

static sl_core_conf_t *
sl_test_ccf(sl_cycle_t *cycle)
{
    return (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);
}

static sl_int_t
sl_test_zone_init(sl_shm_zone_t *zone, void *data)
{
    sl_unused(zone);
    sl_unused(data);
    return SL_OK;
}

static void
test_defaults(void)
{
    char path[512];
    sl_cycle_t *cycle;
    sl_core_conf_t *ccf;

    cycle = sl_test_cycle("events { worker_connections 16; }\n", NULL);
    ok(cycle != NULL, "a minimal configuration loads");
    if (cycle == NULL) {
        return;
    }

    ccf = sl_test_ccf(cycle);
    is_int(ccf->daemon, 1, "daemon defaults to on");
    is_int(ccf->master, 1, "master_process defaults to on");
    is_int(ccf->worker_processes, 1, "worker_processes defaults to 1");
    is_int(ccf->shutdown_timeout, 0, "worker_shutdown_timeout defaults to none");
    is_int(ccf->rlimit_nofile, SL_CONF_UNSET, "worker_rlimit_nofile stays unset");

    snprintf(path, sizeof(path), "%s/logs/sluice.pid", sl_test_dir);
    is_mem(ccf->pid.data, ccf->pid.len, path, "pid defaults to logs/sluice.pid under the prefix");
    ok(ccf->oldpid.len == ccf->pid.len + 7
           && strcmp((char *) ccf->oldpid.data + ccf->pid.len, ".oldbin") == 0,
       "oldpid is pid.oldbin");

    is_int(cycle->new_log.log_level, SL_LOG_ERR, "the default error log is at level error");
    ok(cycle->log == &cycle->new_log, "the cycle logs through its own log");
    snprintf(path, sizeof(path), "%s/logs/error.log", sl_test_dir);
    ok(cycle->new_log.file != NULL && cycle->new_log.file->fd > STDERR_FILENO
           && strcmp((char *) cycle->new_log.file->name.data, path) == 0,
       "the default error log file is open");
    ok(access(path, F_OK) == 0, "the default error log file exists");
    ok(cycle->hostname.len > 0, "the hostname is known");
    ok(cycle->old_cycle == NULL, "a finished cycle keeps no pointer to the old one");
    ok(sl_count_modules(cycle, SL_CORE_MODULE) >= 2, "at least core and events are core modules");
    is_int(sl_core_module.ctx_index, 0, "the core module comes first");

    sl_free_cycle(cycle);
}

static void
test_directives(void)
{
    int saved_stderr;
    char path[512], buf[256];
    sl_cycle_t *cycle, *next;
    sl_core_conf_t *ccf;

    snprintf(buf, sizeof(buf),
             "daemon off; master_process off;\nworker_processes 3;\nworker_rlimit_nofile 1000;\n"
             "worker_shutdown_timeout 1500ms;\npid run.pid;\nerror_log logs/a.log info;\n"
             "events { worker_connections 16; }\n");

    cycle = sl_test_cycle(buf, NULL);
    ok(cycle != NULL, "every core directive parses");
    if (cycle == NULL) {
        return;
    }

    ccf = sl_test_ccf(cycle);
    is_int(ccf->daemon, 0, "daemon off");
    is_int(ccf->master, 0, "master_process off");
    is_int(ccf->worker_processes, 3, "worker_processes 3");
    is_int(ccf->rlimit_nofile, 1000, "worker_rlimit_nofile 1000");
    is_int(ccf->shutdown_timeout, 1500, "worker_shutdown_timeout in ms");
    is_int(cycle->new_log.log_level, SL_LOG_INFO, "error_log level info");

    /* the log file receives lines */
    sl_log_error(SL_LOG_WARN, cycle->log, 0, "test line one");
    snprintf(path, sizeof(path), "%s/logs/a.log", sl_test_dir);
    sl_test_read(path, buf, sizeof(buf));
    ok(strstr(buf, "[warn]") != NULL && strstr(buf, "test line one") != NULL,
       "the error log is written");

    /* pid file */
    snprintf(path, sizeof(path), "%s/run.pid", sl_test_dir);
    is_mem(ccf->pid.data, ccf->pid.len, path, "a relative pid path is under the prefix");
    is_int(sl_create_pidfile(&ccf->pid, cycle->log), SL_OK, "the pid file is written");
    sl_test_read(path, buf, sizeof(buf));
    snprintf(path, sizeof(path), "%d\n", (int) sl_pid);
    ok(strcmp(buf, path) == 0, "the pid file holds \"PID\\n\"");

    /* a failing reload leaves the running cycle alone */
    sl_test_write("conf/sluice.conf", "worker_procesess 2;\nevents { worker_connections 16; }\n");
    next = sl_init_cycle(cycle);
    ok(next == NULL, "a reload with a typo fails");
    is_int(ccf->worker_processes, 3, "the old configuration is untouched");
    ok(cycle->new_log.file->fd != SL_INVALID_FILE, "the old log file stays open");
    sl_log_error(SL_LOG_WARN, cycle->log, 0, "after failed reload");
    snprintf(path, sizeof(path), "%s/logs/a.log", sl_test_dir);
    sl_test_read(path, buf, sizeof(buf));
    ok(strstr(buf, "unknown directive \"worker_procesess\"") != NULL,
       "the reload error went to the old cycle's log");
    ok(strstr(buf, "after failed reload") != NULL, "the old cycle still logs");

    /* a reload that moves the pid file */
    sl_test_write("conf/sluice.conf", "worker_processes 2; pid run2.pid;\n"
                                      "error_log logs/b.log;\nevents { worker_connections 16; }\n");
    next = sl_init_cycle(cycle);
    ok(next != NULL, "a good reload succeeds");
    if (next == NULL) {
        sl_free_cycle(cycle);
        return;
    }

    is_int(sl_test_ccf(next)->worker_processes, 2, "the new cycle has the new value");
    snprintf(path, sizeof(path), "%s/run.pid", sl_test_dir);
    ok(access(path, F_OK) == -1, "the old pid file is removed");
    snprintf(path, sizeof(path), "%s/run2.pid", sl_test_dir);
    ok(access(path, F_OK) == 0, "the new pid file is written");
    is_int(cycle->new_log.file->fd, SL_INVALID_FILE, "the old cycle's log file is closed");

    sl_free_cycle(cycle);

    /* -s with the new cycle's pid file, to ourselves */
    sl_process = SL_PROCESS_MASTER;
    is_int(sl_init_signals(next->log), SL_OK, "signal handlers install");
    sl_reconfigure = 0;
    is_int(sl_signal_process(next, "reload"), 0, "-s reload signals the pid in the pid file");
    is_int(sl_reconfigure, 1, "the master saw SIGHUP");
    sl_reopen = 0;
    is_int(sl_signal_process(next, "reopen"), 0, "-s reopen");
    is_int(sl_reopen, 1, "the master saw SIGUSR1");
    is_int(sl_signal_process(next, "bogus"), 1, "an unknown signal name fails");

    /* hostile pid files */
    sl_test_write("run2.pid", "abc\n");
    is_int(sl_signal_process(next, "reload"), 1, "a non-numeric pid is refused");
    sl_test_write("run2.pid", "0\n");
    is_int(sl_signal_process(next, "reload"), 1, "pid 0 (the process group) is refused");
    sl_test_write("run2.pid", "");
    is_int(sl_signal_process(next, "reload"), 1, "an empty pid file is refused");
    sl_test_write("run2.pid", "99999999999999999999999\n");
    is_int(sl_signal_process(next, "reload"), 1, "an overflowing pid is refused");
    sl_test_write("run2.pid", "-1\n");
    is_int(sl_signal_process(next, "stop"), 1, "pid -1 (every process) is refused");
    snprintf(path, sizeof(path), "%s/run2.pid", sl_test_dir);
    unlink(path);
    is_int(sl_signal_process(next, "reload"), 1, "a missing pid file fails");

    /* reopen: the file is recreated after it was moved away */
    snprintf(path, sizeof(path), "%s/logs/b.log", sl_test_dir);
    unlink(path);
    saved_stderr = dup(STDERR_FILENO);
    sl_reopen_files(next);
    /* reopening points stderr at the error log, as for a daemon; this test keeps its own */
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    ok(access(path, F_OK) == 0, "sl_reopen_files() recreates a moved log");
    sl_log_error(SL_LOG_ERR, next->log, 0, "after reopen");
    sl_test_read(path, buf, sizeof(buf));
    ok(strstr(buf, "after reopen") != NULL, "the reopened log is written");

    sl_process = SL_PROCESS_SINGLE;

    sl_free_cycle(next);
}

static void
test_params_and_errors(void)
{
    char conf[512];
    sl_cycle_t *cycle;

    cycle = sl_test_cycle("events { worker_connections 16; }\n", "worker_processes 4;");
    ok(cycle != NULL && sl_test_ccf(cycle)->worker_processes == 4, "-g sets a directive");
    sl_free_cycle(cycle);

    cycle = sl_test_cycle("worker_processes 2;\nevents { worker_connections 16; }\n",
                          "worker_processes 4;");
    ok(cycle == NULL, "the same directive in -g and the file is a duplicate");

    cycle = sl_test_cycle("worker_processes auto;\nevents { worker_connections 16; }\n", NULL);
    ok(cycle != NULL && sl_test_ccf(cycle)->worker_processes == (sl_int_t) sl_ncpu,
       "worker_processes auto is the number of CPUs");
    sl_free_cycle(cycle);

    cycle = sl_test_cycle("worker_processes abc;\nevents { worker_connections 16; }\n", NULL);
    ok(cycle == NULL, "worker_processes abc is refused");
    cycle = sl_test_cycle("worker_processes 99999999999999999999999;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "an overflowing worker_processes is refused");
    cycle = sl_test_cycle("worker_processes 100000;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "more workers than the process table holds are refused");
    cycle = sl_test_cycle("worker_processes;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "worker_processes without a value is refused");
    cycle = sl_test_cycle("daemon maybe;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "daemon takes only on or off");
    cycle = sl_test_cycle("worker_rlimit_nofile -5;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "a negative worker_rlimit_nofile is refused");
    cycle = sl_test_cycle("worker_shutdown_timeout 10x;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "a bad worker_shutdown_timeout is refused");
    cycle = sl_test_cycle("error_log /nonexistent-dir/x/error.log;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "an error log that cannot be opened fails the cycle");
    cycle = sl_test_cycle("error_log logs/error.log loud;\n" SL_TEST_EVENTS, NULL);
    ok(cycle == NULL, "an unknown log level is refused");

    if (geteuid() == 0) {
        cycle = sl_test_cycle("user no-such-user-here;\n" SL_TEST_EVENTS, NULL);
        ok(cycle == NULL, "an unknown user is refused");
        cycle = sl_test_cycle("user root no-such-group-here;\n" SL_TEST_EVENTS, NULL);
        ok(cycle == NULL, "an unknown group is refused");
        cycle = sl_test_cycle("user nobody nogroup;\n" SL_TEST_EVENTS, NULL);
        ok(cycle != NULL && sl_test_ccf(cycle)->user == 65534, "user nobody is looked up");
        sl_free_cycle(cycle);

    } else {
        cycle = sl_test_cycle("user no-such-user-here;\n" SL_TEST_EVENTS, NULL);
        ok(cycle != NULL, "user is ignored (with a warning) when not root");
        sl_free_cycle(cycle);
    }

    /* -T keeps the text of every file */
    sl_dump_config = 1;
    snprintf(conf, sizeof(conf), "worker_processes 2;\nevents { worker_connections 16; }\n");
    cycle = sl_test_cycle(conf, NULL);
    sl_dump_config = 0;
    ok(cycle != NULL && cycle->config_dump.nelts == 1, "-T records the configuration file");
    if (cycle != NULL && cycle->config_dump.nelts == 1) {
        sl_conf_dump_t *cd = cycle->config_dump.elts;
        is_mem(cd->buffer->pos, (size_t) (cd->buffer->last - cd->buffer->pos), conf,
               "-T keeps the file's bytes");
    }
    sl_free_cycle(cycle);

    /* -s: parse only, open nothing */
    sl_process = SL_PROCESS_SIGNALLER;
    cycle = sl_test_cycle("error_log /nonexistent-dir/x/error.log;\n"
                          "events { worker_connections 16; }\n",
                          NULL);
    ok(cycle != NULL, "-s does not open the configuration's files");
    sl_free_cycle(cycle);
    sl_process = SL_PROCESS_SINGLE;
}

static void
test_open_files_and_zones(void)
{
    int tag1, tag2;
    sl_str_t name, other;
    sl_conf_t cf;
    sl_cycle_t *cycle;
    sl_open_file_t *a, *b, *err;
    sl_shm_zone_t *z1, *z2;

    cycle = sl_test_cycle("events { worker_connections 16; }\n", NULL);
    ok(cycle != NULL, "cycle for files and zones");
    if (cycle == NULL) {
        return;
    }

    sl_str_set(&name, "logs/x.log");
    a = sl_conf_open_file(cycle, &name);
    b = sl_conf_open_file(cycle, &name);
    ok(a != NULL && a == b, "the same file name gives the same open file");
    ok(a != NULL && a->name.data[0] == '/' && a->fd == SL_INVALID_FILE,
       "a new file is named absolutely and opened later");

    sl_str_null(&other);
    err = sl_conf_open_file(cycle, &other);
    ok(err != NULL && err->fd == STDERR_FILENO && err->name.len == 0, "an empty name is stderr");

    sl_memzero(&cf, sizeof(sl_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;

    sl_str_set(&name, "zone_a");
    z1 = sl_shared_memory_add(&cf, &name, 0, &tag1);
    ok(z1 != NULL && z1->shm.size == 0, "a zone may be referenced before its size is known");
    z2 = sl_shared_memory_add(&cf, &name, 65536, &tag1);
    ok(z2 == z1 && z1->shm.size == 65536, "the declaration fills the size in");
    z2 = sl_shared_memory_add(&cf, &name, 65536, &tag1);
    ok(z2 == z1, "the same name, size and owner give the same zone");
    z2 = sl_shared_memory_add(&cf, &name, 0, &tag1);
    ok(z2 == z1, "a reference without size finds the zone");
    z2 = sl_shared_memory_add(&cf, &name, 131072, &tag1);
    ok(z2 == NULL, "a different size is a conflict");
    z2 = sl_shared_memory_add(&cf, &name, 65536, &tag2);
    ok(z2 == NULL, "another owner is a conflict");
    sl_str_set(&name, "zone_b");
    z2 = sl_shared_memory_add(&cf, &name, 65536, &tag2);
    ok(z2 != NULL && z2 != z1, "another name is another zone");

    sl_free_cycle(cycle);
}

/* Zones carried across a reload: built by hand, since no module of this test declares one. */
static void
test_zone_reuse(void)
{
    int tag;
    sl_str_t name;
    sl_conf_t cf;
    sl_cycle_t *cycle, *next;
    sl_shm_zone_t *zone;
    u_char *addr;

    sl_test_write("conf/sluice.conf", "events { worker_connections 16; }\n");
    sl_test_init_cycle(NULL);
    cycle = sl_init_cycle(&sl_test_init);
    sl_free_cycle(&sl_test_init);
    ok(cycle != NULL, "cycle for zone reuse");
    if (cycle == NULL) {
        return;
    }

    /* emulate a first cycle that owns one zone */
    sl_memzero(&cf, sizeof(sl_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.log = cycle->log;
    sl_str_set(&name, "keep");
    zone = sl_shared_memory_add(&cf, &name, 65536, &tag);
    zone->init = sl_test_zone_init;
    ok(sl_shm_alloc(&zone->shm) == SL_OK, "the zone maps");
    addr = zone->shm.addr;
    zone->data = addr;

    /* the reloaded configuration declares nothing: the zone is unmapped after success */
    next = sl_init_cycle(cycle);
    ok(next != NULL, "reload without the zone");
    ok(zone->shm.addr == NULL, "a zone the new cycle does not declare is unmapped");
    sl_free_cycle(cycle);
    sl_free_cycle(next);
}

int
main(void)
{
    char dir[512];

    if (mkdtemp(sl_test_dir) == NULL) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }

    snprintf(dir, sizeof(dir), "%s/conf", sl_test_dir);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/logs", sl_test_dir);
    mkdir(dir, 0755);

    sl_time_init();
    sl_pid = getpid();
    sl_log_pid = sl_pid;
    (void) sl_os_init(sl_log_init());

    test_defaults();
    test_directives();
    test_params_and_errors();
    test_open_files_and_zones();
    test_zone_reuse();

    snprintf(dir, sizeof(dir), "rm -rf '%s'", sl_test_dir);
    if (system(dir) != 0) {
        printf("# could not remove %s\n", sl_test_dir);
    }

    return sl_tap_done();
}
