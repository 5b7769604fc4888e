/*
 * fuzz_config.c: libFuzzer target for the configuration parser and the
 * directive handlers of the real modules. Each input is a configuration
 * file, parsed the way sl_init_cycle() parses one: a fresh cycle pool,
 * create_conf of the core modules, sl_conf_parse() of the file (which runs
 * every block's handlers, the HTTP block's merge and post-configuration
 * included), then init_conf. Nothing after that runs: no file is opened for
 * writing, no listener, no shared memory, no init_module.
 *
 * The modules are configure's (objs/sl_modules.c), in its order, less any
 * not named in sl_fuzz_conf_modules[]: that list holds the modules whose
 * directives have no effect outside the process while they are parsed. A
 * module joins it once its directives are known not to run code, write
 * files or connect anywhere at configuration time.
 *
 * The process is kept from touching the system with three link-time
 * wrappers (-Wl,--wrap=open,--wrap=glob,--wrap=getaddrinfo): while an
 * input is parsed, open() succeeds only for the input itself (so
 * "include" of any other file fails, and an input that includes itself
 * reaches the nesting limit), glob() matches nothing, and getaddrinfo()
 * resolves numeric addresses only (a "listen" of a name never asks DNS).
 */
#include "sl_core.h"

/* What sl_init_cycle() gives a cycle's pool. */
#define SL_FUZZ_POOL_SIZE (16 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The modules this target lets configure, by name. Configure's own list
 * (objs/sl_modules.c, linked as it is) gives the order and says which are
 * built; LLVMFuzzerInitialize() removes from it every module not named
 * here, so a module configure gained but nobody has looked at yet is left
 * out (and said so on stderr) rather than run under the fuzzer.
 *
 * Every module of auto/sources is here. None of them acts outside the
 * process while its directives are parsed: "zone", "limit_req_zone" and
 * "limit_conn_zone" only record shared memory zones, which sl_init_cycle()
 * creates after the parse (not reached here); "health_check" registers its
 * checker process with a cleanup of the cycle's pool, so destroying the pool
 * unregisters it; "proxy_pass" and "server" resolve through getaddrinfo(),
 * numeric addresses only (see below).
 */
static const char *sl_fuzz_conf_modules[] = {
    "sl_core_module",
    "sl_conf_module",
    "sl_events_module",
    "sl_event_core_module",
    "sl_http_module",
    "sl_http_core_module",
    "sl_http_log_module",
    "sl_http_static_module",
    "sl_http_dav_module",
    "sl_http_index_module",
    "sl_http_try_files_module",
    "sl_http_rewrite_module",
    "sl_http_map_module",
    "sl_http_upstream_module",
    "sl_http_upstream_hash_module",
    "sl_http_upstream_ip_hash_module",
    "sl_http_upstream_least_conn_module",
    "sl_http_upstream_random_module",
    "sl_http_upstream_keepalive_module",
    "sl_http_upstream_zone_module",
    "sl_http_upstream_health_module",
    "sl_http_proxy_module",
    "sl_http_limit_conn_module",
    "sl_http_limit_req_module",
    "sl_http_write_filter_module",
    "sl_http_header_filter_module",
    "sl_http_chunked_filter_module",
    "sl_http_range_filter_module",
    "sl_http_headers_module",
    "sl_http_not_modified_filter_module",
    NULL,
};

/* The memfd holding the current input, its /proc path, and whether I/O is confined. */
static int sl_fuzz_conf_fd = -1;
static char sl_fuzz_conf_path[64];
static int sl_fuzz_confined;

static sl_open_file_t sl_fuzz_log_file;
static sl_log_t sl_fuzz_log;
static sl_cycle_t sl_fuzz_init_cycle;

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __real_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *pglob);
int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *pglob);
int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);

int
__wrap_open(const char *path, int flags, ...)
{
    mode_t mode;
    va_list args;

    mode = 0;

    if (flags & (O_CREAT | O_TMPFILE)) {
        va_start(args, flags);
        mode = (mode_t) va_arg(args, int);
        va_end(args);
    }

    if (sl_fuzz_confined
        && (strcmp(path, sl_fuzz_conf_path) != 0 || (flags & O_ACCMODE) != O_RDONLY)) {
        errno = EACCES;
        return -1;
    }

    return __real_open(path, flags, mode);
}

int
__wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *pglob)
{
    if (sl_fuzz_confined) {
        return GLOB_NOMATCH;
    }

    return __real_glob(pattern, flags, errfunc, pglob);
}

int
__wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                   struct addrinfo **res)
{
    struct addrinfo numeric;

    if (!sl_fuzz_confined) {
        return __real_getaddrinfo(node, service, hints, res);
    }

    if (hints != NULL) {
        numeric = *hints;

    } else {
        sl_memzero(&numeric, sizeof(struct addrinfo));
        numeric.ai_family = AF_UNSPEC;
    }

    numeric.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;

    return __real_getaddrinfo(node, service, &numeric, res);
}

/* Removes from configure's module list, in place, the modules not in sl_fuzz_conf_modules[]. */
static void
sl_fuzz_select_modules(void)
{
    sl_uint_t i, j, n;

    n = 0;

    for (i = 0; i < sl_modules_n && sl_modules[i] != NULL; i++) {
        for (j = 0; sl_fuzz_conf_modules[j] != NULL; j++) {
            if (strcmp(sl_module_names[i], sl_fuzz_conf_modules[j]) == 0) {
                break;
            }
        }

        if (sl_fuzz_conf_modules[j] == NULL) {
            fprintf(stderr, "fuzz_config: leaving out %s (not in sl_fuzz_conf_modules[])\n",
                    sl_module_names[i]);
            continue;
        }

        sl_modules[n] = sl_modules[i];
        sl_module_names[n] = sl_module_names[i];
        n++;
    }

    sl_modules[n] = NULL;
    sl_module_names[n] = NULL;
    sl_modules_n = n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_unused(argc);
    sl_unused(argv);

    sl_fuzz_select_modules();
    sl_time_init();

    /* messages are formatted in full and thrown away, not echoed to stderr */
    sl_log_use_stderr = 0;
    sl_fuzz_log_file.fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    sl_str_set(&sl_fuzz_log_file.name, "/dev/null");
    sl_fuzz_log.file = &sl_fuzz_log_file;
    sl_fuzz_log.log_level = SL_LOG_DEBUG;

    sl_fuzz_conf_fd = memfd_create("sluice-fuzz.conf", MFD_CLOEXEC);

    if (sl_fuzz_log_file.fd == -1 || sl_fuzz_conf_fd == -1 || sl_os_init(&sl_fuzz_log) != SL_OK) {
        fprintf(stderr, "fuzz_config: setup failed: %s\n", strerror(errno));
        exit(1);
    }

    snprintf(sl_fuzz_conf_path, sizeof(sl_fuzz_conf_path), "/proc/self/fd/%d", sl_fuzz_conf_fd);

    /* what main() hands sl_init_cycle(): file names and the bootstrap log */
    sl_fuzz_init_cycle.log = &sl_fuzz_log;
    sl_str_set(&sl_fuzz_init_cycle.prefix, "/nonexistent/sluice-fuzz/");
    sl_str_set(&sl_fuzz_init_cycle.conf_prefix, "/nonexistent/sluice-fuzz/conf/");
    sl_str_set(&sl_fuzz_init_cycle.error_log, "logs/error.log");
    sl_fuzz_init_cycle.conf_file.data = (u_char *) sl_fuzz_conf_path;
    sl_fuzz_init_cycle.conf_file.len = strlen(sl_fuzz_conf_path);
    sl_cycle = &sl_fuzz_init_cycle;

    return 0;
}

/* The first half of sl_init_cycle(): everything up to opening files. */
static void
sl_fuzz_parse(void)
{
    void *conf;
    sl_uint_t i;
    sl_conf_t cf;
    sl_pool_t *pool;
    sl_cycle_t *cycle;
    sl_module_t *module;
    sl_core_module_t *core;

    sl_time_update();

    pool = sl_create_pool(SL_FUZZ_POOL_SIZE, &sl_fuzz_log);
    if (pool == NULL) {
        abort();
    }

    cycle = sl_pcalloc(pool, sizeof(sl_cycle_t));
    if (cycle == NULL) {
        abort();
    }

    cycle->pool = pool;
    cycle->log = &sl_fuzz_log;
    cycle->old_cycle = &sl_fuzz_init_cycle;
    cycle->modules = sl_modules;
    cycle->modules_n = sl_modules_n;
    cycle->prefix = sl_fuzz_init_cycle.prefix;
    cycle->conf_prefix = sl_fuzz_init_cycle.conf_prefix;
    cycle->conf_file = sl_fuzz_init_cycle.conf_file;
    cycle->error_log = sl_fuzz_init_cycle.error_log;
    /* pool memory, as sl_cycle_hostname() gives: server_name $hostname lowercases it in place */
    cycle->hostname.data = sl_pnalloc(pool, sizeof("fuzz"));
    if (cycle->hostname.data == NULL) {
        abort();
    }
    cycle->hostname.len = sizeof("fuzz") - 1;
    sl_memcpy(cycle->hostname.data, "fuzz", sizeof("fuzz"));
    sl_queue_init(&cycle->reusable_connections);

    for (i = 0; i < sl_modules_n; i++) {
        sl_modules[i]->index = i;
    }

    sl_memzero(&cf, sizeof(sl_conf_t));

    cycle->conf_ctx = sl_pcalloc(pool, (sl_modules_n + 1) * sizeof(void *));
    cf.args = sl_array_create(pool, 10, sizeof(sl_str_t));
    cf.temp_pool = sl_create_pool(SL_FUZZ_POOL_SIZE, &sl_fuzz_log);

    if (cycle->conf_ctx == NULL || cf.args == NULL || cf.temp_pool == NULL
        || sl_list_init(&cycle->open_files, pool, 20, sizeof(sl_open_file_t)) != SL_OK
        || sl_list_init(&cycle->shared_memory, pool, 1, sizeof(sl_shm_zone_t)) != SL_OK
        || sl_array_init(&cycle->listening, pool, 10, sizeof(sl_listening_t)) != SL_OK) {
        abort();
    }

    sl_count_modules(cycle, SL_CORE_MODULE);

    for (i = 0; i < sl_modules_n; i++) {
        module = sl_modules[i];
        core = module->ctx;

        if (module->type == SL_CORE_MODULE && core != NULL && core->create_conf != NULL) {
            conf = core->create_conf(cycle);
            if (conf == NULL) {
                abort();
            }

            cycle->conf_ctx[module->index] = conf;
        }
    }

    cf.ctx = cycle->conf_ctx;
    cf.cycle = cycle;
    cf.pool = pool;
    cf.log = &sl_fuzz_log;
    cf.module_type = SL_CORE_MODULE;
    cf.cmd_type = SL_MAIN_CONF;

    if (sl_conf_parse(&cf, &cycle->conf_file) == SL_CONF_OK) {
        for (i = 0; i < sl_modules_n; i++) {
            module = sl_modules[i];
            core = module->ctx;

            if (module->type == SL_CORE_MODULE && core != NULL && core->init_conf != NULL
                && core->init_conf(cycle, cycle->conf_ctx[module->index]) == SL_CONF_ERROR) {
                break;
            }
        }
    }

    sl_destroy_pool(cf.temp_pool);
    sl_destroy_pool(pool);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(sl_fuzz_conf_fd, 0) == -1
        || (size > 0 && pwrite(sl_fuzz_conf_fd, data, size, 0) != (ssize_t) size)) {
        fprintf(stderr, "fuzz_config: writing the input failed: %s\n", strerror(errno));
        abort();
    }

    sl_fuzz_confined = 1;
    sl_fuzz_parse();
    sl_fuzz_confined = 0;

    return 0;
}
