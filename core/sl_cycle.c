/*
 * sl_cycle.c: building a cycle from the configuration (sl_init_cycle), the
 * core module and its main-context directives, shared memory zones, the
 * files the logs write to, and the pid file.
 *
 * A new cycle is built beside the old one and takes nothing from it until
 * everything succeeded: listeners are matched by address and their fds
 * carried over, zones with the same name, size and owner keep their
 * mapping. On any failure the new cycle's own fds and mappings are released
 * and the old cycle is left exactly as it was.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_shmem.h"
#include "sl_slab.h"
#include "sl_conf_file.h"
#include "sl_module.h"
#include "sl_cycle.h"
#include "sl_event.h"
#include "sl_connection.h"
#include "sl_process.h"

#define SL_CYCLE_POOL_SIZE (16 * 1024)
#define SL_CYCLE_HOSTNAME_LEN 256
/* The default user the workers run as when the master is root (as nginx on Debian). */
#define SL_DEFAULT_USER "nobody"
#define SL_DEFAULT_GROUP "nogroup"

volatile sl_cycle_t *sl_cycle;
sl_uint_t sl_test_config;
sl_uint_t sl_dump_config;
sl_uint_t sl_quiet_mode;

static void *sl_core_module_create_conf(sl_cycle_t *cycle);
static char *sl_core_module_init_conf(sl_cycle_t *cycle, void *conf);
static char *sl_core_set_worker_processes(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_core_set_user(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_core_error_log(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_conf_bounds_t sl_core_rlimit_bounds = { 1, INT_MAX };

static sl_command_t sl_core_commands[] = {
    { sl_string("daemon"), SL_MAIN_CONF | SL_DIRECT_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot, 0,
      offsetof(sl_core_conf_t, daemon), NULL },
    { sl_string("master_process"), SL_MAIN_CONF | SL_DIRECT_CONF | SL_CONF_FLAG,
      sl_conf_set_flag_slot, 0, offsetof(sl_core_conf_t, master), NULL },
    { sl_string("worker_processes"), SL_MAIN_CONF | SL_DIRECT_CONF | SL_CONF_TAKE1,
      sl_core_set_worker_processes, 0, 0, NULL },
    { sl_string("pid"), SL_MAIN_CONF | SL_DIRECT_CONF | SL_CONF_TAKE1, sl_conf_set_str_slot, 0,
      offsetof(sl_core_conf_t, pid), NULL },
    { sl_string("user"), SL_MAIN_CONF | SL_DIRECT_CONF | SL_CONF_TAKE12, sl_core_set_user, 0, 0,
      NULL },
    { sl_string("worker_rlimit_nofile"), SL_MAIN_CONF | SL_DIRECT_CONF | SL_CONF_TAKE1,
      sl_conf_set_num_slot, 0, offsetof(sl_core_conf_t, rlimit_nofile), &sl_core_rlimit_bounds },
    { sl_string("worker_shutdown_timeout"), SL_MAIN_CONF | SL_DIRECT_CONF | SL_CONF_TAKE1,
      sl_conf_set_msec_slot, 0, offsetof(sl_core_conf_t, shutdown_timeout), NULL },
    { sl_string("error_log"), SL_MAIN_CONF | SL_CONF_1MORE, sl_core_error_log, 0, 0, NULL },
    sl_null_command
};

static sl_core_module_t sl_core_module_ctx = {
    sl_string("core"),
    sl_core_module_create_conf,
    sl_core_module_init_conf,
};

sl_module_t sl_core_module = {
    SL_MODULE_V1, "sl_core_module", SL_CORE_MODULE, &sl_core_module_ctx, sl_core_commands,
    NULL, /* init_module */
    NULL, /* init_process */
    NULL, /* exit_process */
    NULL, /* exit_master */
};


/* Writes "sluice: MESSAGE" to stderr, as nginx reports the result of -t. */
static void
sl_cycle_stderr(const char *fmt, ...)
{
    u_char buf[SL_MAX_ERROR_STR], *p, *last;
    va_list args;

    last = buf + sizeof(buf) - 1;

    p = sl_cpymem(buf, "sluice: ", sizeof("sluice: ") - 1);

    va_start(args, fmt);
    p = sl_vslprintf(p, last, fmt, args);
    va_end(args);

    *p++ = '\n';

    while (write(STDERR_FILENO, buf, (size_t) (p - buf)) == -1 && errno == EINTR) {
        continue;
    }
}


/*
 * Logs through log, or, while log is only the start-up stderr log (first
 * start, -t, -s), as the short "sluice: [level] message" an operator reads
 * on the terminal, as nginx does.
 */
static void
sl_cycle_log_error(sl_uint_t level, sl_log_t *log, sl_err_t err, const char *fmt, ...)
{
    u_char buf[SL_MAX_ERROR_STR], *p;
    va_list args;

    if (log->log_level < level) {
        return;
    }

    va_start(args, fmt);
    p = sl_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (log->next == NULL && (log->file == NULL || log->file->fd == STDERR_FILENO)) {
        sl_log_stderr_level(level, err, "%*s", (size_t) (p - buf), buf);
        return;
    }

    sl_log_error_core(level, log, err, "%*s", (size_t) (p - buf), buf);
}


/* The init cycle built by main() has no configuration yet. */
static sl_uint_t
sl_is_init_cycle(sl_cycle_t *cycle)
{
    return cycle->conf_ctx == NULL;
}


sl_uint_t
sl_count_modules(sl_cycle_t *cycle, sl_uint_t type)
{
    sl_uint_t i, n, modules_n;
    sl_module_t **modules;

    modules = (cycle && cycle->modules) ? cycle->modules : sl_modules;
    modules_n = (cycle && cycle->modules) ? cycle->modules_n : sl_modules_n;

    n = 0;

    for (i = 0; i < modules_n && modules[i] != NULL; i++) {
        if (modules[i]->type == type) {
            modules[i]->ctx_index = n++;
        }
    }

    return n;
}


/* Copies a string into the pool, NUL-terminated; an empty source stays empty. */
static sl_int_t
sl_cycle_copy_str(sl_pool_t *pool, sl_str_t *dst, const sl_str_t *src)
{
    dst->len = src->len;
    dst->data = sl_pstrdup(pool, src);

    return (dst->data == NULL) ? SL_ERROR : SL_OK;
}


static sl_int_t
sl_cycle_hostname(sl_cycle_t *cycle)
{
    char name[SL_CYCLE_HOSTNAME_LEN];
    size_t len;

    if (gethostname(name, sizeof(name)) == -1) {
        sl_log_error(SL_LOG_EMERG, cycle->log, errno, "gethostname() failed");
        return SL_ERROR;
    }

    /* gethostname() does not terminate a truncated name */
    name[sizeof(name) - 1] = '\0';
    len = strlen(name);

    cycle->hostname.data = sl_pnalloc(cycle->pool, len + 1);
    if (cycle->hostname.data == NULL) {
        return SL_ERROR;
    }

    sl_strlow(cycle->hostname.data, (u_char *) name, len);
    cycle->hostname.data[len] = '\0';
    cycle->hostname.len = len;

    return SL_OK;
}


/* Gives the cycle an error log when the configuration named none: cycle->error_log at "error". */
static sl_int_t
sl_cycle_open_default_log(sl_cycle_t *cycle)
{
    sl_open_file_t *file;

    if (cycle->new_log.file != NULL) {
        return SL_OK;
    }

    file = sl_conf_open_file(cycle, &cycle->error_log);
    if (file == NULL) {
        return SL_ERROR;
    }

    cycle->new_log.log_level = SL_LOG_ERR;
    cycle->new_log.file = file;

    return SL_OK;
}


static sl_int_t
sl_cycle_open_files(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_list_part_t *part;
    sl_open_file_t *file;

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].name.len == 0) {
            continue;
        }

        file[i].fd =
            open((char *) file[i].name.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

        if (file[i].fd == SL_INVALID_FILE) {
            sl_cycle_log_error(SL_LOG_EMERG, cycle->log, errno, "open() \"%s\" failed",
                               file[i].name.data);
            return SL_ERROR;
        }
    }

    return SL_OK;
}


static void
sl_cycle_close_files(sl_cycle_t *cycle, sl_log_t *log)
{
    sl_uint_t i;
    sl_list_part_t *part;
    sl_open_file_t *file;

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].name.len == 0 || file[i].fd == SL_INVALID_FILE) {
            continue;
        }

        if (close(file[i].fd) == -1) {
            sl_log_error(SL_LOG_ALERT, log, errno, "close() \"%s\" failed", file[i].name.data);
        }

        file[i].fd = SL_INVALID_FILE;
    }
}


/* A fresh zone starts with an empty slab allocator that names the zone in its messages. */
static sl_int_t
sl_cycle_init_zone_pool(sl_shm_zone_t *zone)
{
    sl_slab_pool_t *sp;

    if (zone->shm.size < sizeof(sl_slab_pool_t)) {
        sl_log_error(SL_LOG_EMERG, zone->shm.log, 0,
                     "shared memory zone \"%V\" is too small (%uz bytes)", &zone->shm.name,
                     zone->shm.size);
        return SL_ERROR;
    }

    sp = (sl_slab_pool_t *) zone->shm.addr;

    sp->end = zone->shm.addr + zone->shm.size;
    sp->name = zone->shm.name;

    return sl_slab_init(sp);
}


/* The zone of the same name in the old cycle, or NULL. */
static sl_shm_zone_t *
sl_cycle_find_zone(sl_cycle_t *cycle, sl_str_t *name)
{
    sl_uint_t i;
    sl_list_part_t *part;
    sl_shm_zone_t *zone;

    if (cycle->shared_memory.part.elts == NULL) {
        return NULL;
    }

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (sl_str_eq(&zone[i].shm.name, name)) {
            return &zone[i];
        }
    }
}


static sl_int_t
sl_cycle_create_zones(sl_cycle_t *cycle, sl_cycle_t *old_cycle)
{
    sl_uint_t i;
    sl_list_part_t *part;
    sl_shm_zone_t *zone, *old;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].shm.size == 0) {
            sl_log_error(SL_LOG_EMERG, cycle->log, 0, "zero size shared memory zone \"%V\"",
                         &zone[i].shm.name);
            return SL_ERROR;
        }

        zone[i].shm.log = cycle->log;

        old = zone[i].noreuse ? NULL : sl_cycle_find_zone(old_cycle, &zone[i].shm.name);

        if (old != NULL && old->shm.addr != NULL && old->tag == zone[i].tag
            && old->shm.size == zone[i].shm.size && !old->noreuse) {
            zone[i].shm.addr = old->shm.addr;
            zone[i].shm.exists = 1;

            if (zone[i].init != NULL && zone[i].init(&zone[i], old->data) != SL_OK) {
                return SL_ERROR;
            }

            continue;
        }

        if (old != NULL && old->shm.size != zone[i].shm.size) {
            sl_log_error(SL_LOG_NOTICE, cycle->log, 0,
                         "shared memory zone \"%V\" size changed, new zone created",
                         &zone[i].shm.name);
        }

        if (sl_shm_alloc(&zone[i].shm) != SL_OK) {
            return SL_ERROR;
        }

        if (sl_cycle_init_zone_pool(&zone[i]) != SL_OK) {
            return SL_ERROR;
        }

        if (zone[i].init != NULL && zone[i].init(&zone[i], NULL) != SL_OK) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}


/* Unmaps the zones of cycle; with keep, those a newer cycle took over stay mapped. */
static void
sl_cycle_free_zones(sl_cycle_t *cycle, sl_cycle_t *keep)
{
    sl_uint_t i;
    sl_list_part_t *part;
    sl_shm_zone_t *zone, *kept;

    if (cycle->shared_memory.part.elts == NULL) {
        return;
    }

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].shm.addr == NULL) {
            continue;
        }

        if (keep == NULL) {
            /* the failed new cycle: carried-over mappings belong to the old one */
            if (zone[i].shm.exists) {
                continue;
            }

        } else {
            kept = sl_cycle_find_zone(keep, &zone[i].shm.name);

            if (kept != NULL && kept->shm.addr == zone[i].shm.addr) {
                continue;
            }
        }

        sl_shm_free(&zone[i].shm);
    }
}


/*
 * Clones reuseport listeners per worker, carries over the old cycle's
 * sockets for the same addresses, and opens the rest.
 */
static sl_int_t
sl_cycle_listen(sl_cycle_t *cycle, sl_cycle_t *old_cycle, sl_core_conf_t *ccf)
{
    sl_uint_t i, n, nelts;
    sl_listening_t *ls, *nls;

    nelts = cycle->listening.nelts;

    for (i = 0; i < nelts; i++) {
        ls = (sl_listening_t *) cycle->listening.elts + i;

        if (ls->reuseport && ls->worker == 0 && ccf->worker_processes > 1) {
            if (sl_clone_listening(cycle, ls, (sl_uint_t) ccf->worker_processes) != SL_OK) {
                return SL_ERROR;
            }
        }
    }

    nls = cycle->listening.elts;

    for (n = 0; n < cycle->listening.nelts; n++) {
        ls = old_cycle->listening.elts;

        for (i = 0; i < old_cycle->listening.nelts; i++) {
            if (ls[i].ignore || ls[i].remain || ls[i].fd == -1) {
                continue;
            }

            if (ls[i].worker != nls[n].worker) {
                continue;
            }

            if (sl_cmp_sockaddr(&nls[n].sockaddr.sa, nls[n].socklen, &ls[i].sockaddr.sa,
                                ls[i].socklen, 1)
                != SL_OK) {
                continue;
            }

            nls[n].fd = ls[i].fd;
            nls[n].inherited = ls[i].inherited;
            nls[n].previous = &ls[i];
            nls[n].open = 0;
            ls[i].remain = 1;

            if (ls[i].backlog != nls[n].backlog) {
                nls[n].listen = 1;
            }

            if (nls[n].reuseport && !ls[i].reuseport) {
                nls[n].add_reuseport = 1;
            }

            break;
        }

        if (nls[n].previous == NULL) {
            nls[n].fd = -1;
            nls[n].open = 1;
        }
    }

    if (sl_open_listening_sockets(cycle) != SL_OK) {
        return SL_ERROR;
    }

    sl_configure_listening_sockets(cycle);

    return SL_OK;
}


/* After a failure: closes what this cycle opened itself and gives the old sockets back. */
static void
sl_cycle_unlisten(sl_cycle_t *cycle)
{
    sl_uint_t i;
    sl_listening_t *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].previous != NULL) {
            ls[i].previous->remain = 0;
            continue;
        }

        if (ls[i].fd == -1) {
            continue;
        }

        if (close(ls[i].fd) == -1) {
            sl_log_error(SL_LOG_ALERT, cycle->log, errno, "close() socket %V failed",
                         &ls[i].addr_text);
        }

        ls[i].fd = -1;
    }
}


/* After a success: closes the old cycle's sockets that the new one did not take. */
static void
sl_cycle_close_old_listening(sl_cycle_t *old_cycle, sl_log_t *log)
{
    sl_uint_t i;
    sl_listening_t *ls;

    ls = old_cycle->listening.elts;

    for (i = 0; i < old_cycle->listening.nelts; i++) {
        if (ls[i].remain || ls[i].fd == -1) {
            continue;
        }

        if (close(ls[i].fd) == -1) {
            sl_log_error(SL_LOG_EMERG, log, errno, "close() socket %V failed", &ls[i].addr_text);
        }

        ls[i].fd = -1;
    }
}


/* A reload that names another pid file writes the new one and removes the old. */
static sl_int_t
sl_cycle_move_pidfile(sl_cycle_t *cycle, sl_cycle_t *old_cycle)
{
    sl_core_conf_t *ccf, *old_ccf;

    if (sl_is_init_cycle(old_cycle) || sl_test_config) {
        return SL_OK;
    }

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);
    old_ccf = (sl_core_conf_t *) sl_get_conf(old_cycle->conf_ctx, sl_core_module);

    if (sl_str_eq(&ccf->pid, &old_ccf->pid)) {
        return SL_OK;
    }

    if (sl_create_pidfile(&ccf->pid, cycle->log) != SL_OK) {
        return SL_ERROR;
    }

    sl_delete_pidfile(old_cycle);

    return SL_OK;
}


sl_cycle_t *
sl_init_cycle(sl_cycle_t *old_cycle)
{
    void *conf;
    sl_uint_t i, n;
    sl_log_t *log;
    sl_conf_t cf;
    sl_pool_t *pool;
    sl_cycle_t *cycle;
    sl_module_t *module;
    sl_listening_t *ls;
    sl_core_conf_t *ccf;
    sl_core_module_t *core;

    sl_time_update();

    log = old_cycle->log;

    pool = sl_create_pool(SL_CYCLE_POOL_SIZE, log);
    if (pool == NULL) {
        return NULL;
    }

    sl_memzero(&cf, sizeof(sl_conf_t));

    cycle = sl_pcalloc(pool, sizeof(sl_cycle_t));
    if (cycle == NULL) {
        goto failed;
    }

    cycle->pool = pool;
    cycle->log = log;
    cycle->old_cycle = old_cycle;
    cycle->modules = sl_modules;
    cycle->modules_n = sl_modules_n;
    sl_queue_init(&cycle->reusable_connections);

    for (i = 0; i < sl_modules_n && sl_modules[i] != NULL; i++) {
        sl_modules[i]->index = i;
    }

    if (sl_cycle_copy_str(pool, &cycle->conf_prefix, &old_cycle->conf_prefix) != SL_OK
        || sl_cycle_copy_str(pool, &cycle->prefix, &old_cycle->prefix) != SL_OK
        || sl_cycle_copy_str(pool, &cycle->conf_file, &old_cycle->conf_file) != SL_OK
        || sl_cycle_copy_str(pool, &cycle->conf_param, &old_cycle->conf_param) != SL_OK
        || sl_cycle_copy_str(pool, &cycle->error_log, &old_cycle->error_log) != SL_OK) {
        goto failed;
    }

    n = 20;

    if (old_cycle->open_files.part.elts != NULL) {
        n = sl_max(n, old_cycle->open_files.part.nelts);
    }

    if (sl_list_init(&cycle->open_files, pool, n, sizeof(sl_open_file_t)) != SL_OK
        || sl_list_init(&cycle->shared_memory, pool, 1, sizeof(sl_shm_zone_t)) != SL_OK
        || sl_array_init(&cycle->listening, pool, 10, sizeof(sl_listening_t)) != SL_OK) {
        goto failed;
    }

    /* the parser records files for -T only when this array is initialised */
    if (sl_dump_config
        && sl_array_init(&cycle->config_dump, pool, 1, sizeof(sl_conf_dump_t)) != SL_OK) {
        goto failed;
    }

    if (sl_cycle_hostname(cycle) != SL_OK) {
        goto failed;
    }

    cycle->conf_ctx = sl_pcalloc(pool, (sl_modules_n + 1) * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        goto failed;
    }

    sl_count_modules(cycle, SL_CORE_MODULE);

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        module = cycle->modules[i];

        if (module->type != SL_CORE_MODULE) {
            continue;
        }

        core = module->ctx;

        if (core != NULL && core->create_conf != NULL) {
            conf = core->create_conf(cycle);
            if (conf == NULL) {
                goto failed;
            }

            cycle->conf_ctx[module->index] = conf;
        }
    }

    cf.args = sl_array_create(pool, 10, sizeof(sl_str_t));
    cf.temp_pool = sl_create_pool(SL_CYCLE_POOL_SIZE, log);

    if (cf.args == NULL || cf.temp_pool == NULL) {
        goto failed;
    }

    cf.ctx = cycle->conf_ctx;
    cf.cycle = cycle;
    cf.pool = pool;
    cf.log = log;
    cf.module_type = SL_CORE_MODULE;
    cf.cmd_type = SL_MAIN_CONF;

    if (sl_conf_param(&cf) != SL_CONF_OK) {
        goto failed;
    }

    if (sl_conf_parse(&cf, &cycle->conf_file) != SL_CONF_OK) {
        goto failed;
    }

    if (sl_test_config && !sl_quiet_mode) {
        sl_cycle_stderr("the configuration file %s syntax is ok", cycle->conf_file.data);
    }

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        module = cycle->modules[i];

        if (module->type != SL_CORE_MODULE) {
            continue;
        }

        core = module->ctx;

        if (core != NULL && core->init_conf != NULL) {
            if (core->init_conf(cycle, cycle->conf_ctx[module->index]) == SL_CONF_ERROR) {
                goto failed;
            }
        }
    }

    if (sl_process == SL_PROCESS_SIGNALLER) {
        /* -s only needs the pid file's name */
        sl_destroy_pool(cf.temp_pool);
        return cycle;
    }

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (sl_cycle_open_default_log(cycle) != SL_OK) {
        goto failed;
    }

    if (sl_cycle_open_files(cycle) != SL_OK) {
        goto failed;
    }

    cycle->log = &cycle->new_log;
    pool->log = &cycle->new_log;

    if (sl_cycle_create_zones(cycle, old_cycle) != SL_OK) {
        goto failed;
    }

    if (!sl_test_config) {
        if (sl_cycle_listen(cycle, old_cycle, ccf) != SL_OK) {
            goto failed;
        }

        /* a listener must not log through the old cycle, which is freed after a reload */
        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].logp == NULL || ls[i].logp == log) {
                ls[i].logp = cycle->log;
            }
        }

        if (!sl_is_init_cycle(old_cycle)) {
            (void) sl_redirect_stderr(cycle);
        }
    }

    for (i = 0; i < cycle->modules_n && cycle->modules[i] != NULL; i++) {
        if (cycle->modules[i]->init_module != NULL) {
            if (cycle->modules[i]->init_module(cycle) != SL_OK) {
                goto failed;
            }
        }
    }

    if (sl_cycle_move_pidfile(cycle, old_cycle) != SL_OK) {
        goto failed;
    }

    /* From here the new cycle is complete: release what only the old one used. */

    if (!sl_is_init_cycle(old_cycle)) {
        sl_cycle_free_zones(old_cycle, cycle);
        sl_cycle_close_files(old_cycle, cycle->log);
    }

    /* after a binary upgrade the init cycle holds the inherited sockets */
    sl_cycle_close_old_listening(old_cycle, cycle->log);

    sl_destroy_pool(cf.temp_pool);
    cycle->old_cycle = NULL;

    return cycle;

failed:

    if (cf.temp_pool != NULL) {
        sl_destroy_pool(cf.temp_pool);
    }

    if (cycle != NULL) {
        if (cycle->open_files.part.elts != NULL) {
            sl_cycle_close_files(cycle, log);
        }

        sl_cycle_free_zones(cycle, NULL);

        if (cycle->listening.elts != NULL) {
            sl_cycle_unlisten(cycle);
        }

        cycle->log = log;
    }

    /* the new log lives in this pool: cleanups must not log through it */
    pool->log = log;
    sl_destroy_pool(pool);

    return NULL;
}


void
sl_free_cycle(sl_cycle_t *cycle)
{
    if (cycle == NULL || cycle->pool == NULL) {
        return;
    }

    sl_destroy_pool(cycle->pool);
}


sl_shm_zone_t *
sl_shared_memory_add(sl_conf_t *cf, sl_str_t *name, size_t size, void *tag)
{
    sl_uint_t i;
    sl_list_part_t *part;
    sl_shm_zone_t *zone;

    part = &cf->cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (!sl_str_eq(name, &zone[i].shm.name)) {
            continue;
        }

        if (tag != zone[i].tag) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "the shared memory zone \"%V\" is already declared for a "
                              "different use",
                              &zone[i].shm.name);
            return NULL;
        }

        if (zone[i].shm.size == 0) {
            zone[i].shm.size = size;
        }

        if (size && size != zone[i].shm.size) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "the size %uz of shared memory zone \"%V\" conflicts with "
                              "already declared size %uz",
                              size, &zone[i].shm.name, zone[i].shm.size);
            return NULL;
        }

        return &zone[i];
    }

    zone = sl_list_push(&cf->cycle->shared_memory);
    if (zone == NULL) {
        return NULL;
    }

    sl_memzero(zone, sizeof(sl_shm_zone_t));

    if (sl_cycle_copy_str(cf->cycle->pool, &zone->shm.name, name) != SL_OK) {
        return NULL;
    }

    zone->shm.size = size;
    zone->shm.log = cf->cycle->log;
    zone->tag = tag;

    return zone;
}


sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    sl_str_t full;
    sl_uint_t i;
    sl_list_part_t *part;
    sl_open_file_t *file;

    full.len = 0;
    full.data = (u_char *) "";

    if (name->len) {
        full = *name;

        if (sl_conf_full_name(cycle, &full, 0) != SL_OK) {
            return NULL;
        }
    }

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (sl_str_eq(&full, &file[i].name)) {
            return &file[i];
        }
    }

    file = sl_list_push(&cycle->open_files);
    if (file == NULL) {
        return NULL;
    }

    file->fd = full.len ? SL_INVALID_FILE : STDERR_FILENO;
    file->name = full;

    return file;
}


void
sl_reopen_files(sl_cycle_t *cycle)
{
    sl_fd_t fd;
    sl_uint_t i;
    struct stat st;
    sl_list_part_t *part;
    sl_open_file_t *file;
    sl_core_conf_t *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].name.len == 0) {
            continue;
        }

        fd = open((char *) file[i].name.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

        if (fd == SL_INVALID_FILE) {
            sl_log_error(SL_LOG_EMERG, cycle->log, errno, "open() \"%s\" failed",
                         file[i].name.data);
            continue;
        }

        /* a root master creates the file; the workers reopen it as their user */
        if (sl_process == SL_PROCESS_MASTER && geteuid() == 0 && ccf != NULL
            && ccf->user != (uid_t) SL_CONF_UNSET_UINT && fstat(fd, &st) == 0
            && st.st_uid != ccf->user) {
            if (fchown(fd, ccf->user, (gid_t) -1) == -1) {
                sl_log_error(SL_LOG_EMERG, cycle->log, errno, "chown(\"%s\", %d) failed",
                             file[i].name.data, (int) ccf->user);
            }
        }

        if (file[i].fd != SL_INVALID_FILE && close(file[i].fd) == -1) {
            sl_log_error(SL_LOG_EMERG, cycle->log, errno, "close() \"%s\" failed",
                         file[i].name.data);
        }

        file[i].fd = fd;
    }

    (void) sl_redirect_stderr(cycle);
}


sl_int_t
sl_redirect_stderr(sl_cycle_t *cycle)
{
    sl_log_t *log;

    for (log = cycle->log; log != NULL; log = log->next) {
        if (log->file == NULL || log->file->name.len == 0) {
            /* some log writes to stderr: leave it where it points */
            return SL_OK;
        }
    }

    if (cycle->log == NULL || cycle->log->file->fd == SL_INVALID_FILE
        || cycle->log->file->fd == STDERR_FILENO) {
        return SL_OK;
    }

    if (dup2(cycle->log->file->fd, STDERR_FILENO) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "dup2(STDERR) failed");
        return SL_ERROR;
    }

    return SL_OK;
}


sl_int_t
sl_create_pidfile(sl_str_t *name, sl_log_t *log)
{
    sl_fd_t fd;
    ssize_t n;
    u_char pid[SL_INT_T_LEN + 2], *last;

    if (sl_process > SL_PROCESS_MASTER) {
        return SL_OK;
    }

    fd = open((char *) name->data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd == SL_INVALID_FILE) {
        sl_log_error(SL_LOG_EMERG, log, errno, "open() \"%s\" failed", name->data);
        return SL_ERROR;
    }

    last = sl_snprintf(pid, sizeof(pid), "%i\n", (sl_int_t) sl_pid);

    n = write(fd, pid, (size_t) (last - pid));

    if (n != last - pid) {
        sl_log_error(SL_LOG_EMERG, log, (n == -1) ? errno : 0, "write() to \"%s\" failed",
                     name->data);
        (void) close(fd);
        return SL_ERROR;
    }

    if (close(fd) == -1) {
        sl_log_error(SL_LOG_ALERT, log, errno, "close() \"%s\" failed", name->data);
    }

    return SL_OK;
}


void
sl_delete_pidfile(sl_cycle_t *cycle)
{
    sl_core_conf_t *ccf;

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    if (ccf == NULL || ccf->pid.data == NULL) {
        return;
    }

    if (unlink((char *) ccf->pid.data) == -1) {
        sl_log_error(SL_LOG_ALERT, cycle->log, errno, "unlink() \"%s\" failed", ccf->pid.data);
    }
}


typedef struct {
    const char *name;
    int signo;
} sl_signal_name_t;

static sl_signal_name_t sl_signal_names[] = {
    { "stop", SL_TERMINATE_SIGNAL },
    { "quit", SL_SHUTDOWN_SIGNAL },
    { "reopen", SL_REOPEN_SIGNAL },
    { "reload", SL_RECONFIGURE_SIGNAL },
    { NULL, 0 },
};


sl_int_t
sl_signal_process(sl_cycle_t *cycle, char *sig)
{
    sl_fd_t fd;
    ssize_t n;
    sl_int_t pid;
    sl_signal_name_t *s;
    sl_core_conf_t *ccf;
    u_char buf[SL_INT_T_LEN + 2];

    for (s = sl_signal_names; s->name != NULL; s++) {
        if (strcmp(s->name, sig) == 0) {
            break;
        }
    }

    if (s->name == NULL) {
        sl_cycle_log_error(SL_LOG_ERR, cycle->log, 0, "invalid signal \"%s\"", sig);
        return 1;
    }

    ccf = (sl_core_conf_t *) sl_get_conf(cycle->conf_ctx, sl_core_module);

    fd = open((char *) ccf->pid.data, O_RDONLY | O_CLOEXEC);

    if (fd == SL_INVALID_FILE) {
        sl_cycle_log_error(SL_LOG_ERR, cycle->log, errno, "open() \"%s\" failed", ccf->pid.data);
        return 1;
    }

    n = read(fd, buf, sizeof(buf));

    if (n == -1) {
        sl_cycle_log_error(SL_LOG_ALERT, cycle->log, errno, "read() \"%s\" failed", ccf->pid.data);
        (void) close(fd);
        return 1;
    }

    if (close(fd) == -1) {
        sl_cycle_log_error(SL_LOG_ALERT, cycle->log, errno, "close() \"%s\" failed", ccf->pid.data);
    }

    while (n > 0 && (buf[n - 1] == CR || buf[n - 1] == LF)) {
        n--;
    }

    /* pid 0 or -1 would signal a whole process group */
    pid = sl_atoi(buf, (size_t) n);

    if (pid == SL_ERROR || pid <= 0 || pid > INT_MAX) {
        sl_cycle_log_error(SL_LOG_ERR, cycle->log, 0, "invalid PID number \"%*s\" in \"%s\"",
                           (size_t) n, buf, ccf->pid.data);
        return 1;
    }

    if (kill((pid_t) pid, s->signo) == -1) {
        sl_cycle_log_error(SL_LOG_ALERT, cycle->log, errno, "kill(%i, %d) failed", pid, s->signo);
        return 1;
    }

    return 0;
}


/* Core module ---------------------------------------------------------------- */

static void *
sl_core_module_create_conf(sl_cycle_t *cycle)
{
    sl_core_conf_t *ccf;

    ccf = sl_pcalloc(cycle->pool, sizeof(sl_core_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    ccf->daemon = SL_CONF_UNSET;
    ccf->master = SL_CONF_UNSET;
    ccf->shutdown_timeout = SL_CONF_UNSET_MSEC;
    ccf->worker_processes = SL_CONF_UNSET;
    ccf->rlimit_nofile = SL_CONF_UNSET;
    ccf->user = (uid_t) SL_CONF_UNSET_UINT;
    ccf->group = (gid_t) SL_CONF_UNSET_UINT;

    return ccf;
}


static char *
sl_core_module_init_conf(sl_cycle_t *cycle, void *conf)
{
    u_char *p;
    struct group *grp;
    struct passwd *pwd;
    sl_core_conf_t *ccf = conf;

    sl_conf_init_value(ccf->daemon, 1);
    sl_conf_init_value(ccf->master, 1);
    sl_conf_init_msec_value(ccf->shutdown_timeout, 0);
    sl_conf_init_value(ccf->worker_processes, 1);

    if (ccf->pid.len == 0) {
        sl_str_set(&ccf->pid, SL_PID_PATH);
    }

    if (sl_conf_full_name(cycle, &ccf->pid, 0) != SL_OK) {
        return SL_CONF_ERROR;
    }

    ccf->oldpid.len = ccf->pid.len + sizeof(".oldbin") - 1;
    ccf->oldpid.data = sl_pnalloc(cycle->pool, ccf->oldpid.len + 1);
    if (ccf->oldpid.data == NULL) {
        return SL_CONF_ERROR;
    }

    p = sl_cpymem(ccf->oldpid.data, ccf->pid.data, ccf->pid.len);
    p = sl_cpymem(p, ".oldbin", sizeof(".oldbin") - 1);
    *p = '\0';

    if (ccf->user == (uid_t) SL_CONF_UNSET_UINT && geteuid() == 0) {
        errno = 0;
        pwd = getpwnam(SL_DEFAULT_USER);
        if (pwd == NULL) {
            sl_cycle_log_error(SL_LOG_EMERG, cycle->log, errno,
                               "getpwnam(\"" SL_DEFAULT_USER "\") failed");
            return SL_CONF_ERROR;
        }

        ccf->username = (u_char *) SL_DEFAULT_USER;
        ccf->user = pwd->pw_uid;

        errno = 0;
        grp = getgrnam(SL_DEFAULT_GROUP);

        /* not every system has "nogroup": fall back to the user's own group */
        ccf->group = (grp != NULL) ? grp->gr_gid : pwd->pw_gid;
    }

    return SL_CONF_OK;
}


static char *
sl_core_set_worker_processes(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value;
    sl_core_conf_t *ccf = conf;

    sl_unused(cmd);

    if (ccf->worker_processes != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_str_eq_lit(&value[1], "auto")) {
        ccf->worker_processes = (sl_int_t) (sl_ncpu ? sl_ncpu : 1);

        /* old and new workers share the process table during a reload */
        if (ccf->worker_processes > SL_MAX_PROCESSES / 4) {
            ccf->worker_processes = SL_MAX_PROCESSES / 4;
        }

        return SL_CONF_OK;
    }

    ccf->worker_processes = sl_atoi(value[1].data, value[1].len);

    if (ccf->worker_processes == SL_ERROR || ccf->worker_processes == 0) {
        /* no worker would serve anything: refuse rather than start an idle master */
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"worker_processes\" "
                          "directive, it must be a positive number or \"auto\"", &value[1]);
        return SL_CONF_ERROR;
    }

    if (ccf->worker_processes > SL_MAX_PROCESSES / 4) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "worker_processes %V is more than the maximum %d",
                          &value[1], SL_MAX_PROCESSES / 4);
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static char *
sl_core_set_user(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    u_char *user, *group;
    sl_str_t *value;
    struct group *grp;
    struct passwd *pwd;
    sl_core_conf_t *ccf = conf;

    sl_unused(cmd);

    if (ccf->user != (uid_t) SL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (geteuid() != 0) {
        sl_conf_log_error(SL_LOG_WARN, cf, 0,
                          "the \"user\" directive makes sense only if the master process runs "
                          "with super-user privileges, ignored");
        return SL_CONF_OK;
    }

    value = cf->args->elts;

    user = sl_pstrdup(cf->pool, &value[1]);
    group = sl_pstrdup(cf->pool, &value[cf->args->nelts == 2 ? 1 : 2]);

    if (user == NULL || group == NULL) {
        return SL_CONF_ERROR;
    }

    errno = 0;
    pwd = getpwnam((char *) user);
    if (pwd == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, errno, "getpwnam(\"%s\") failed", user);
        return SL_CONF_ERROR;
    }

    errno = 0;
    grp = getgrnam((char *) group);
    if (grp == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, errno, "getgrnam(\"%s\") failed", group);
        return SL_CONF_ERROR;
    }

    ccf->username = user;
    ccf->user = pwd->pw_uid;
    ccf->group = grp->gr_gid;

    return SL_CONF_OK;
}


static char *
sl_core_error_log(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_log_t *head;

    sl_unused(cmd);
    sl_unused(conf);

    /* the cycle's log struct is the chain's head; the first error_log fills it in place */
    head = &cf->cycle->new_log;

    return sl_log_set_log(cf, &head);
}
