/*
 * sl_http_limit_conn_module.c: how many requests with the same key may be in
 * progress at once, across every worker, with nginx's semantics.
 *
 *     limit_conn_zone $binary_remote_addr zone=addr:10m;
 *     limit_conn addr 10;
 *
 * Each key (any complex value; an empty one is not limited) has a counter
 * in the zone while requests with it are in progress. A request counts in
 * the pre-access phase, once however many internal redirects it goes
 * through, and stops counting when it ends, whichever way it ends (a
 * request cleanup releases it, also on errors and client aborts). Past the
 * limit it is answered with limit_conn_status (503 by default). Several
 * limit_conn in one block all apply. A counter is freed when it drops to 0,
 * so the zone holds only the keys in use; when it is full, the request is
 * rejected as nginx does (a counter cannot be evicted while its requests
 * run). A reload that keeps the zone's name, size and key keeps the
 * counters.
 *
 * $limit_conn_status: PASSED, REJECTED or REJECTED_DRY_RUN (empty before the
 * limits ran or when no key applied).
 */

#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_limit_zone.h"

#define SL_HTTP_LIMIT_CONN_PASSED 1
#define SL_HTTP_LIMIT_CONN_REJECTED 2
#define SL_HTTP_LIMIT_CONN_REJECTED_DRY_RUN 3

#define SL_HTTP_LIMIT_CONN_MAX_KEY 255

/*
 * A zone (the shm zone's data) is an sl_http_limit_zone_t with nothing added:
 * a key's counter is a bare sl_http_limit_zone_node_t, its count the requests
 * with that key in progress.
 */

/* One limit_conn directive. */
typedef struct {
    sl_shm_zone_t *shm_zone;
    sl_uint_t conn;
} sl_http_limit_conn_limit_t;

typedef struct {
    sl_array_t limits; /* sl_http_limit_conn_limit_t */
    sl_uint_t log_level;
    sl_int_t status_code;
    sl_flag_t dry_run;
} sl_http_limit_conn_conf_t;

/* What a request holds in one zone until it ends. */
typedef struct {
    sl_shm_zone_t *shm_zone;
    sl_http_limit_zone_node_t *node;
} sl_http_limit_conn_cleanup_t;

static sl_int_t sl_http_limit_conn_add_variables(sl_conf_t *cf);
static sl_int_t sl_http_limit_conn_init(sl_conf_t *cf);
static void *sl_http_limit_conn_create_conf(sl_conf_t *cf);
static char *sl_http_limit_conn_merge_conf(sl_conf_t *cf, void *parent, void *child);
static char *sl_http_limit_conn_zone(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_limit_conn(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_conf_enum_t sl_http_limit_conn_log_levels[] = {
    { sl_string("info"), SL_LOG_INFO },
    { sl_string("notice"), SL_LOG_NOTICE },
    { sl_string("warn"), SL_LOG_WARN },
    { sl_string("error"), SL_LOG_ERR },
    { sl_null_string, 0 }
};

static sl_conf_bounds_t sl_http_limit_conn_status_bounds = { 400, 599 };

static sl_command_t sl_http_limit_conn_commands[] = {
    { sl_string("limit_conn_zone"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE2, sl_http_limit_conn_zone,
      0, 0, NULL },
    { sl_string("limit_conn"), SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF
                                   | SL_CONF_TAKE2,
      sl_http_limit_conn, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("limit_conn_log_level"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_enum_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_limit_conn_conf_t, log_level), &sl_http_limit_conn_log_levels },
    { sl_string("limit_conn_status"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_num_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_limit_conn_conf_t, status_code), &sl_http_limit_conn_status_bounds },
    { sl_string("limit_conn_dry_run"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG,
      sl_conf_set_flag_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_limit_conn_conf_t, dry_run), NULL },
    sl_null_command
};

static sl_http_module_t sl_http_limit_conn_module_ctx = {
    sl_http_limit_conn_add_variables, /* preconfiguration */
    sl_http_limit_conn_init,          /* postconfiguration */
    NULL,                             /* create main configuration */
    NULL,                             /* init main configuration */
    NULL,                             /* create server configuration */
    NULL,                             /* merge server configuration */
    sl_http_limit_conn_create_conf,   /* create location configuration */
    sl_http_limit_conn_merge_conf     /* merge location configuration */
};

sl_module_t sl_http_limit_conn_module = {
    SL_MODULE_V1,
    "sl_http_limit_conn_module",
    SL_HTTP_MODULE,
    &sl_http_limit_conn_module_ctx,
    sl_http_limit_conn_commands,
    NULL,
    NULL,
    NULL,
    NULL
};

static sl_str_t sl_http_limit_conn_status_names[] = {
    sl_string("PASSED"),
    sl_string("REJECTED"),
    sl_string("REJECTED_DRY_RUN")
};

/* Request state ---------------------------------------------------------- */

/* The handler that marks the status's pool cleanup; the status owns nothing to release. */
static void
sl_http_limit_conn_state_cleanup(void *data)
{
    sl_unused(data);
}

/*
 * The request's status (SL_HTTP_LIMIT_CONN_*, 0 before the limits ran),
 * kept in a request pool cleanup so that internal redirects, which clear
 * r->ctx, do not lose it; with create, made when missing. NULL when missing
 * or out of memory.
 */
static sl_uint_t *
sl_http_limit_conn_get_state(sl_http_request_t *r, sl_uint_t create)
{
    sl_uint_t *st;
    sl_pool_cleanup_t *cln;

    st = sl_http_get_module_ctx(r, sl_http_limit_conn_module);
    if (st != NULL) {
        return st;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == sl_http_limit_conn_state_cleanup) {
            st = cln->data;
            sl_http_set_ctx(r, st, sl_http_limit_conn_module);
            return st;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = sl_pool_cleanup_add(r->pool, sizeof(sl_uint_t));
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = sl_http_limit_conn_state_cleanup;
    st = cln->data;
    *st = 0;

    sl_http_set_ctx(r, st, sl_http_limit_conn_module);

    return st;
}

/* Counters --------------------------------------------------------------- */

/* A request cleanup: the request no longer counts in the zone. */
static void
sl_http_limit_conn_release(void *data)
{
    sl_http_limit_conn_cleanup_t *lccln = data;
    sl_slab_pool_t *shpool;
    sl_http_limit_zone_t *zone;
    sl_http_limit_zone_node_t *lc;

    zone = lccln->shm_zone->data;
    shpool = zone->shpool;
    lc = lccln->node;

    sl_shmtx_lock(&shpool->mutex);

    lc->count--;

    if (lc->count == 0) {
        sl_rbtree_delete(&zone->sh->rbtree, &lc->node);
        sl_slab_free_locked(shpool, lc);
    }

    sl_shmtx_unlock(&shpool->mutex);
}

/* Releases what this request took in the zones so far (a later limit rejected it). */
static void
sl_http_limit_conn_release_all(sl_http_request_t *r)
{
    sl_http_cleanup_t *cln;

    for (cln = r->cleanup; cln; cln = cln->next) {
        if (cln->handler == sl_http_limit_conn_release) {
            sl_http_limit_conn_release(cln->data);
            cln->handler = NULL;
        }
    }
}

/* Run time --------------------------------------------------------------- */

static sl_int_t
sl_http_limit_conn_handler(sl_http_request_t *r)
{
    size_t n;
    uint32_t hash;
    sl_str_t key;
    sl_uint_t i, *st;
    sl_slab_pool_t *shpool;
    sl_http_cleanup_t *cln;
    sl_http_limit_zone_t *zone;
    sl_http_limit_zone_node_t *lc;
    sl_http_limit_conn_conf_t *lccf;
    sl_http_limit_conn_limit_t *limits;
    sl_http_limit_conn_cleanup_t *lccln;

    lccf = sl_http_get_module_loc_conf(r, sl_http_limit_conn_module);

    if (lccf->limits.nelts == 0) {
        return SL_DECLINED;
    }

    st = sl_http_limit_conn_get_state(r, 1);
    if (st == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (*st) {
        return SL_DECLINED;
    }

    limits = lccf->limits.elts;

    for (i = 0; i < lccf->limits.nelts; i++) {
        zone = limits[i].shm_zone->data;

        if (sl_http_complex_value(r, &zone->key, &key) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (key.len == 0) {
            continue;
        }

        if (key.len > SL_HTTP_LIMIT_CONN_MAX_KEY) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                         "the value of the \"%V\" key is more than 255 bytes: \"%V\"",
                         &zone->key.value, &key);
            continue;
        }

        *st = SL_HTTP_LIMIT_CONN_PASSED;

        /* made before the count, so that counting never fails half-way */
        cln = sl_http_cleanup_add(r, sizeof(sl_http_limit_conn_cleanup_t));
        if (cln == NULL) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

        hash = sl_http_limit_zone_hash(&key);
        shpool = zone->shpool;

        sl_shmtx_lock(&shpool->mutex);

        lc = sl_http_limit_zone_find(zone, hash, &key);

        if (lc == NULL) {
            n = offsetof(sl_http_limit_zone_node_t, data) + key.len;

            lc = sl_slab_alloc_locked(shpool, n);

            if (lc == NULL) {
                sl_shmtx_unlock(&shpool->mutex);
                sl_http_limit_conn_release_all(r);
                goto rejected;
            }

            lc->count = 1;
            sl_http_limit_zone_insert(zone, lc, hash, &key);

        } else {
            if ((sl_uint_t) lc->count >= limits[i].conn) {
                sl_shmtx_unlock(&shpool->mutex);

                sl_log_error(lccf->log_level, r->connection->log, 0,
                             "limiting connections%s by zone \"%V\"",
                             lccf->dry_run ? ", dry run," : "", &limits[i].shm_zone->shm.name);

                sl_http_limit_conn_release_all(r);
                goto rejected;
            }

            lc->count++;
        }

        sl_shmtx_unlock(&shpool->mutex);

        lccln = cln->data;
        lccln->shm_zone = limits[i].shm_zone;
        lccln->node = lc;
        cln->handler = sl_http_limit_conn_release;
    }

    return SL_DECLINED;

rejected:

    if (lccf->dry_run) {
        *st = SL_HTTP_LIMIT_CONN_REJECTED_DRY_RUN;
        return SL_DECLINED;
    }

    *st = SL_HTTP_LIMIT_CONN_REJECTED;

    return lccf->status_code;
}

static sl_int_t
sl_http_limit_conn_status_variable(sl_http_request_t *r, sl_http_variable_value_t *v,
                                   uintptr_t data)
{
    sl_uint_t *st;

    sl_unused(data);

    st = sl_http_limit_conn_get_state(r, 0);

    if (st == NULL || *st == 0) {
        v->not_found = 1;
        return SL_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->escape = 0;
    v->len = sl_http_limit_conn_status_names[*st - 1].len;
    v->data = sl_http_limit_conn_status_names[*st - 1].data;

    return SL_OK;
}

/* Configuration ---------------------------------------------------------- */

static sl_int_t
sl_http_limit_conn_init_zone(sl_shm_zone_t *shm_zone, void *data)
{
    if (sl_http_limit_zone_init(shm_zone, data, "limit_conn_zone", sizeof(sl_http_limit_zone_sh_t))
        == SL_ERROR) {
        return SL_ERROR;
    }

    return SL_OK;
}

static void *
sl_http_limit_conn_create_conf(sl_conf_t *cf)
{
    sl_http_limit_conn_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_limit_conn_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* conf->limits.elts stays NULL: no limit_conn here */

    conf->log_level = SL_CONF_UNSET_UINT;
    conf->status_code = SL_CONF_UNSET;
    conf->dry_run = SL_CONF_UNSET;

    return conf;
}

static char *
sl_http_limit_conn_merge_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_limit_conn_conf_t *prev = parent;
    sl_http_limit_conn_conf_t *conf = child;

    sl_unused(cf);

    if (conf->limits.elts == NULL) {
        conf->limits = prev->limits;
    }

    sl_conf_merge_uint_value(conf->log_level, prev->log_level, SL_LOG_ERR);
    sl_conf_merge_value(conf->status_code, prev->status_code, SL_HTTP_SERVICE_UNAVAILABLE);
    sl_conf_merge_value(conf->dry_run, prev->dry_run, 0);

    return SL_CONF_OK;
}

/* limit_conn_zone KEY zone=NAME:SIZE */
static char *
sl_http_limit_conn_zone(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_limit_zone_t *zone;

    sl_unused(conf);

    zone = sl_pcalloc(cf->pool, sizeof(sl_http_limit_zone_t));
    if (zone == NULL) {
        return SL_CONF_ERROR;
    }

    return sl_http_limit_zone_conf(cf, cmd, zone, &sl_http_limit_conn_module,
                                   sl_http_limit_conn_init_zone, NULL, NULL);
}

/* limit_conn NAME NUMBER */
static char *
sl_http_limit_conn(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_limit_conn_conf_t *lccf = conf;
    sl_int_t n;
    sl_str_t *value;
    sl_uint_t i;
    sl_shm_zone_t *shm_zone;
    sl_http_limit_conn_limit_t *limit, *limits;

    sl_unused(cmd);

    value = cf->args->elts;

    shm_zone = sl_shared_memory_add(cf, &value[1], 0, &sl_http_limit_conn_module);
    if (shm_zone == NULL) {
        return SL_CONF_ERROR;
    }

    limits = lccf->limits.elts;

    if (limits == NULL) {
        if (sl_array_init(&lccf->limits, cf->pool, 1, sizeof(sl_http_limit_conn_limit_t))
            != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    for (i = 0; i < lccf->limits.nelts; i++) {
        if (shm_zone == limits[i].shm_zone) {
            return "is duplicate";
        }
    }

    n = sl_atoi(value[2].data, value[2].len);

    if (n <= 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid number of connections \"%V\"",
                          &value[2]);
        return SL_CONF_ERROR;
    }

    if (n > 65535) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "connection limit must be less 65536");
        return SL_CONF_ERROR;
    }

    limit = sl_array_push(&lccf->limits);
    if (limit == NULL) {
        return SL_CONF_ERROR;
    }

    limit->conn = (sl_uint_t) n;
    limit->shm_zone = shm_zone;

    return SL_CONF_OK;
}

static sl_http_variable_t sl_http_limit_conn_vars[] = {
    { sl_string("limit_conn_status"), NULL, sl_http_limit_conn_status_variable, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    sl_http_null_variable
};

static sl_int_t
sl_http_limit_conn_add_variables(sl_conf_t *cf)
{
    return sl_http_add_variables(cf, sl_http_limit_conn_vars);
}

static sl_int_t
sl_http_limit_conn_init(sl_conf_t *cf)
{
    sl_http_handler_pt *h;

    h = sl_http_add_phase_handler(cf, SL_HTTP_PREACCESS_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }

    *h = sl_http_limit_conn_handler;

    return SL_OK;
}
