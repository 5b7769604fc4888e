/*
 * sl_http.c: the http {} block. Creates every HTTP module's configurations,
 * parses the block, merges server and location settings outward-in, sorts
 * locations into their lookup lists, builds the phase engine and turns the
 * listen directives into listening sockets with their virtual servers.
 */
#include "sl_core.h"
#include "sl_http.h"

static char *sl_http_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_init_phases(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf);
static sl_int_t sl_http_init_phase_handlers(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf);
static char *sl_http_merge_servers(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf,
                                   sl_http_module_t *module, sl_uint_t ctx_index);
static char *sl_http_merge_locations(sl_conf_t *cf, sl_queue_t *locations, void **loc_conf,
                                     sl_http_module_t *module, sl_uint_t ctx_index);
static sl_int_t sl_http_init_locations(sl_conf_t *cf, sl_http_core_srv_conf_t *cscf,
                                       sl_http_core_loc_conf_t *pclcf);
static sl_int_t sl_http_optimize_servers(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf);

sl_uint_t sl_http_max_module;

sl_http_output_header_filter_pt sl_http_top_header_filter;
sl_http_output_body_filter_pt sl_http_top_body_filter;

static sl_command_t sl_http_commands[] = {
    { sl_string("http"), SL_MAIN_CONF | SL_CONF_BLOCK | SL_CONF_NOARGS, sl_http_block, 0, 0,
      NULL },
    sl_null_command
};

static sl_core_module_t sl_http_module_ctx = { sl_string("http"), NULL, NULL };

sl_module_t sl_http_module = {
    SL_MODULE_V1, "sl_http_module", SL_CORE_MODULE, &sl_http_module_ctx, sl_http_commands,
    NULL, NULL, NULL, NULL
};

/* One location in a queue while parsing. */
typedef struct {
    sl_queue_t queue;
    sl_http_core_loc_conf_t *exact; /* "=" locations */
    sl_http_core_loc_conf_t *inclusive; /* prefix locations */
    sl_str_t *name;
    u_char *file_name;
    sl_uint_t line;
} sl_http_location_queue_t;

/* Listen addresses grouped by port while parsing. */
typedef struct {
    sl_http_listen_opt_t opt;
    sl_array_t servers; /* sl_http_core_srv_conf_t * */
    sl_http_core_srv_conf_t *default_server;
} sl_http_conf_addr_t;

typedef struct {
    int family;
    in_port_t port;
    sl_array_t addrs; /* sl_http_conf_addr_t */
} sl_http_conf_port_t;

static sl_uint_t
sl_http_module_count(sl_cycle_t *cycle)
{
    return sl_count_modules(cycle, SL_HTTP_MODULE);
}

static char *
sl_http_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char *rv;
    sl_uint_t mi, m, s;
    sl_conf_t pcf;
    sl_http_module_t *module;
    sl_http_conf_ctx_t *ctx;
    sl_http_core_loc_conf_t *clcf;
    sl_http_core_srv_conf_t **cscfp;
    sl_http_core_main_conf_t *cmcf;

    sl_unused(cmd);

    if (*(sl_http_conf_ctx_t **) conf) {
        return "is duplicate";
    }

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }
    *(sl_http_conf_ctx_t **) conf = ctx;

    sl_http_max_module = sl_http_module_count(cf->cycle);

    ctx->main_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    ctx->srv_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    ctx->loc_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    if (ctx->main_conf == NULL || ctx->srv_conf == NULL || ctx->loc_conf == NULL) {
        return SL_CONF_ERROR;
    }

    for (m = 0; cf->cycle->modules[m]; m++) {
        if (cf->cycle->modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }
        module = cf->cycle->modules[m]->ctx;
        mi = cf->cycle->modules[m]->ctx_index;

        if (module->create_main_conf) {
            ctx->main_conf[mi] = module->create_main_conf(cf);
            if (ctx->main_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }
        if (module->create_srv_conf) {
            ctx->srv_conf[mi] = module->create_srv_conf(cf);
            if (ctx->srv_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }
        if (module->create_loc_conf) {
            ctx->loc_conf[mi] = module->create_loc_conf(cf);
            if (ctx->loc_conf[mi] == NULL) {
                return SL_CONF_ERROR;
            }
        }
    }

    pcf = *cf;
    cf->ctx = ctx;

    for (m = 0; cf->cycle->modules[m]; m++) {
        if (cf->cycle->modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }
        module = cf->cycle->modules[m]->ctx;
        if (module->preconfiguration && module->preconfiguration(cf) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    cf->module_type = SL_HTTP_MODULE;
    cf->cmd_type = SL_HTTP_MAIN_CONF;
    rv = sl_conf_parse(cf, NULL);
    if (rv != SL_CONF_OK) {
        goto failed;
    }

    cmcf = ctx->main_conf[sl_http_core_module.ctx_index];
    cscfp = cmcf->servers.elts;

    for (m = 0; cf->cycle->modules[m]; m++) {
        if (cf->cycle->modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }
        module = cf->cycle->modules[m]->ctx;
        mi = cf->cycle->modules[m]->ctx_index;

        if (module->init_main_conf) {
            rv = module->init_main_conf(cf, ctx->main_conf[mi]);
            if (rv != SL_CONF_OK) {
                goto failed;
            }
        }

        rv = sl_http_merge_servers(cf, cmcf, module, mi);
        if (rv != SL_CONF_OK) {
            goto failed;
        }
    }

    for (s = 0; s < cmcf->servers.nelts; s++) {
        clcf = cscfp[s]->ctx->loc_conf[sl_http_core_module.ctx_index];
        if (sl_http_init_locations(cf, cscfp[s], clcf) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    if (sl_http_init_phases(cf, cmcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    for (m = 0; cf->cycle->modules[m]; m++) {
        if (cf->cycle->modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }
        module = cf->cycle->modules[m]->ctx;
        if (module->postconfiguration && module->postconfiguration(cf) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    if (sl_http_variables_init_vars(cf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    *cf = pcf;

    if (sl_http_init_phase_handlers(cf, cmcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    if (sl_http_optimize_servers(cf, cmcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;

failed:
    *cf = pcf;
    return rv;
}

static sl_int_t
sl_http_init_phases(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf)
{
    sl_uint_t i;

    for (i = 0; i < SL_HTTP_PHASES_N; i++) {
        if (sl_array_init(&cmcf->phases[i].handlers, cf->pool, 2, sizeof(sl_http_handler_pt))
            != SL_OK) {
            return SL_ERROR;
        }
    }
    return SL_OK;
}

sl_http_handler_pt *
sl_http_add_phase_handler(sl_conf_t *cf, sl_http_phases phase)
{
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_conf_get_module_main_conf(cf, sl_http_core_module);
    return sl_array_push(&cmcf->phases[phase].handlers);
}

/*
 * Flattens the phase handlers into one array the request walks with an
 * index: each entry knows its phase's checker and where the next phase
 * starts, so a handler that finishes its phase jumps there directly.
 */
static sl_int_t
sl_http_init_phase_handlers(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf)
{
    sl_int_t j;
    sl_uint_t i, n;
    sl_http_handler_pt *h;
    sl_http_phase_handler_t *ph;
    sl_http_phase_handler_pt checker;

    n = 1 /* find config */ + 1 /* post rewrite */ + 1 /* post access */;
    for (i = 0; i < SL_HTTP_LOG_PHASE; i++) {
        n += cmcf->phases[i].handlers.nelts;
    }

    ph = sl_pcalloc(cf->pool, n * sizeof(sl_http_phase_handler_t) + sizeof(void *));
    if (ph == NULL) {
        return SL_ERROR;
    }
    cmcf->phase_engine = ph;
    n = 0;

    for (i = 0; i < SL_HTTP_LOG_PHASE; i++) {
        h = cmcf->phases[i].handlers.elts;

        switch (i) {
        case SL_HTTP_SERVER_REWRITE_PHASE:
            cmcf->server_rewrite_index = n;
            checker = sl_http_core_rewrite_phase;
            break;
        case SL_HTTP_FIND_CONFIG_PHASE:
            cmcf->find_config_index = n;
            ph->checker = sl_http_core_find_config_phase;
            n++;
            ph++;
            continue;
        case SL_HTTP_REWRITE_PHASE:
            cmcf->location_rewrite_index = n;
            checker = sl_http_core_rewrite_phase;
            break;
        case SL_HTTP_POST_REWRITE_PHASE:
            ph->checker = sl_http_core_post_rewrite_phase;
            ph->next = cmcf->find_config_index;
            n++;
            ph++;
            continue;
        case SL_HTTP_ACCESS_PHASE:
            checker = sl_http_core_access_phase;
            break;
        case SL_HTTP_POST_ACCESS_PHASE:
            ph->checker = sl_http_core_post_access_phase;
            n++;
            ph++;
            continue;
        case SL_HTTP_CONTENT_PHASE:
            checker = sl_http_core_content_phase;
            break;
        default:
            checker = sl_http_core_generic_phase;
        }

        n += cmcf->phases[i].handlers.nelts;

        /* handlers run in reverse registration order, as in nginx */
        for (j = (sl_int_t) cmcf->phases[i].handlers.nelts - 1; j >= 0; j--) {
            ph->checker = checker;
            ph->handler = h[j];
            ph->next = n;
            ph++;
        }
    }

    return SL_OK;
}

static char *
sl_http_merge_servers(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf, sl_http_module_t *module,
                      sl_uint_t ctx_index)
{
    char *rv;
    sl_uint_t s;
    sl_http_conf_ctx_t *ctx, saved;
    sl_http_core_loc_conf_t *clcf;
    sl_http_core_srv_conf_t **cscfp;

    cscfp = cmcf->servers.elts;
    ctx = (sl_http_conf_ctx_t *) cf->ctx;
    saved = *ctx;
    rv = SL_CONF_OK;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        ctx->srv_conf = cscfp[s]->ctx->srv_conf;

        if (module->merge_srv_conf) {
            rv = module->merge_srv_conf(cf, saved.srv_conf[ctx_index],
                                        cscfp[s]->ctx->srv_conf[ctx_index]);
            if (rv != SL_CONF_OK) {
                goto failed;
            }
        }

        if (module->merge_loc_conf) {
            /* server-level location settings inherit from http */
            rv = module->merge_loc_conf(cf, saved.loc_conf[ctx_index],
                                        cscfp[s]->ctx->loc_conf[ctx_index]);
            if (rv != SL_CONF_OK) {
                goto failed;
            }

            clcf = cscfp[s]->ctx->loc_conf[sl_http_core_module.ctx_index];
            rv = sl_http_merge_locations(cf, clcf->locations, cscfp[s]->ctx->loc_conf, module,
                                         ctx_index);
            if (rv != SL_CONF_OK) {
                goto failed;
            }
        }
    }

failed:
    *ctx = saved;
    return rv;
}

static char *
sl_http_merge_locations(sl_conf_t *cf, sl_queue_t *locations, void **loc_conf,
                        sl_http_module_t *module, sl_uint_t ctx_index)
{
    char *rv;
    sl_queue_t *q;
    sl_http_conf_ctx_t *ctx, saved;
    sl_http_core_loc_conf_t *clcf;
    sl_http_location_queue_t *lq;

    if (locations == NULL) {
        return SL_CONF_OK;
    }

    ctx = (sl_http_conf_ctx_t *) cf->ctx;
    saved = *ctx;

    for (q = sl_queue_head(locations); q != sl_queue_sentinel(locations); q = sl_queue_next(q)) {
        lq = (sl_http_location_queue_t *) q;
        clcf = lq->exact ? lq->exact : lq->inclusive;
        ctx->loc_conf = clcf->loc_conf;

        rv = module->merge_loc_conf(cf, loc_conf[ctx_index], clcf->loc_conf[ctx_index]);
        if (rv != SL_CONF_OK) {
            return rv;
        }

        rv = sl_http_merge_locations(cf, clcf->locations, clcf->loc_conf, module, ctx_index);
        if (rv != SL_CONF_OK) {
            return rv;
        }
    }

    *ctx = saved;
    return SL_CONF_OK;
}

sl_int_t
sl_http_add_location(sl_conf_t *cf, sl_queue_t **locations, sl_http_core_loc_conf_t *clcf)
{
    sl_http_location_queue_t *lq;

    if (*locations == NULL) {
        *locations = sl_palloc(cf->temp_pool, sizeof(sl_http_location_queue_t));
        if (*locations == NULL) {
            return SL_ERROR;
        }
        sl_queue_init(*locations);
    }

    lq = sl_pcalloc(cf->temp_pool, sizeof(sl_http_location_queue_t));
    if (lq == NULL) {
        return SL_ERROR;
    }

    if (clcf->exact_match || clcf->regex || clcf->named || clcf->noname) {
        lq->exact = clcf;
    } else {
        lq->inclusive = clcf;
    }
    lq->name = &clcf->name;
    lq->file_name = cf->conf_file->name.data;
    lq->line = cf->conf_file->line;

    sl_queue_insert_tail(*locations, &lq->queue);
    return SL_OK;
}

/*
 * Location order for lookup: exact and prefix locations by name (so the
 * longest prefix is found by a scan from the longest), then regexes in
 * configuration order, then named ones; "if" blocks are dropped here.
 */
static sl_int_t
sl_http_location_rank(sl_http_core_loc_conf_t *clcf)
{
    if (clcf->noname) {
        return 3;
    }
    if (clcf->named) {
        return 2;
    }
    if (clcf->regex) {
        return 1;
    }
    return 0;
}

static sl_int_t
sl_http_init_locations(sl_conf_t *cf, sl_http_core_srv_conf_t *cscf,
                       sl_http_core_loc_conf_t *pclcf)
{
    sl_queue_t *q, *locations;
    sl_uint_t nstatic, nregex, nnamed, i, j;
    sl_http_location_queue_t *lq;
    sl_http_core_loc_conf_t *clcf, **statics, **regexes, **named, *tmp;

    locations = pclcf->locations;
    if (locations == NULL) {
        return SL_OK;
    }

    nstatic = nregex = nnamed = 0;
    for (q = sl_queue_head(locations); q != sl_queue_sentinel(locations); q = sl_queue_next(q)) {
        lq = (sl_http_location_queue_t *) q;
        clcf = lq->exact ? lq->exact : lq->inclusive;

        if (sl_http_init_locations(cf, NULL, clcf) != SL_OK) {
            return SL_ERROR;
        }

        switch (sl_http_location_rank(clcf)) {
        case 0:
            nstatic++;
            break;
        case 1:
            nregex++;
            break;
        case 2:
            nnamed++;
            break;
        default:
            break;
        }
    }

    statics = sl_pcalloc(cf->pool, (nstatic + 1) * sizeof(void *));
    regexes = nregex ? sl_pcalloc(cf->pool, (nregex + 1) * sizeof(void *)) : NULL;
    named = nnamed ? sl_pcalloc(cf->pool, (nnamed + 1) * sizeof(void *)) : NULL;
    if (statics == NULL || (nregex && regexes == NULL) || (nnamed && named == NULL)) {
        return SL_ERROR;
    }

    nstatic = nregex = nnamed = 0;
    for (q = sl_queue_head(locations); q != sl_queue_sentinel(locations); q = sl_queue_next(q)) {
        lq = (sl_http_location_queue_t *) q;
        clcf = lq->exact ? lq->exact : lq->inclusive;

        switch (sl_http_location_rank(clcf)) {
        case 0:
            /* the same prefix twice with the same kind is a configuration error */
            for (j = 0; j < nstatic; j++) {
                if (statics[j]->exact_match == clcf->exact_match
                    && sl_str_eq(&statics[j]->name, &clcf->name)) {
                    sl_log_stderr_level(SL_LOG_EMERG, 0, "duplicate location \"%V\" in %s:%ui",
                                        &clcf->name, lq->file_name, lq->line);
                    return SL_ERROR;
                }
            }
            statics[nstatic++] = clcf;
            break;
        case 1:
            regexes[nregex++] = clcf;
            break;
        case 2:
            if (cscf == NULL) {
                sl_log_stderr_level(SL_LOG_EMERG, 0,
                                    "named location \"%V\" can be on the server level only in "
                                    "%s:%ui",
                                    &clcf->name, lq->file_name, lq->line);
                return SL_ERROR;
            }
            named[nnamed++] = clcf;
            break;
        default:
            break;
        }
    }

    /* longest name first: the first prefix that matches is the longest */
    for (i = 1; i < nstatic; i++) {
        tmp = statics[i];
        for (j = i; j > 0 && statics[j - 1]->name.len < tmp->name.len; j--) {
            statics[j] = statics[j - 1];
        }
        statics[j] = tmp;
    }

    pclcf->static_locations = (sl_http_location_tree_node_t *) statics;
    pclcf->regex_locations = regexes;
    if (cscf) {
        cscf->named_locations = (void **) named;
    }

    return SL_OK;
}

/* Listen addresses -------------------------------------------------------- */

sl_int_t
sl_http_add_listen(sl_conf_t *cf, sl_http_core_srv_conf_t *cscf, sl_http_listen_opt_t *lsopt)
{
    in_port_t port;
    sl_uint_t i, j;
    sl_http_conf_port_t *p;
    sl_http_conf_addr_t *a;
    sl_http_core_srv_conf_t **s;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_conf_get_module_main_conf(cf, sl_http_core_module);

    if (cmcf->ports == NULL) {
        cmcf->ports = sl_array_create(cf->temp_pool, 2, sizeof(sl_http_conf_port_t));
        if (cmcf->ports == NULL) {
            return SL_ERROR;
        }
    }

    port = lsopt->sockaddr.sa.sa_family == AF_INET6 ? lsopt->sockaddr.sin6.sin6_port
                                                    : lsopt->sockaddr.sin.sin_port;

    p = cmcf->ports->elts;
    for (i = 0; i < cmcf->ports->nelts; i++) {
        if (p[i].port != port || p[i].family != lsopt->sockaddr.sa.sa_family) {
            continue;
        }
        a = p[i].addrs.elts;
        for (j = 0; j < p[i].addrs.nelts; j++) {
            if (sl_cmp_sockaddr(&lsopt->sockaddr.sa, lsopt->socklen, &a[j].opt.sockaddr.sa,
                                a[j].opt.socklen, 0)
                != SL_OK) {
                continue;
            }
            /* the same address in another server: add the server to it */
            s = a[j].servers.elts;
            for (sl_uint_t k = 0; k < a[j].servers.nelts; k++) {
                if (s[k] == cscf) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "a duplicate listen %V",
                                      &lsopt->addr_text);
                    return SL_ERROR;
                }
            }
            if (lsopt->set) {
                if (a[j].opt.set) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                      "duplicate listen options for %V", &lsopt->addr_text);
                    return SL_ERROR;
                }
                a[j].opt = *lsopt;
            }
            if (lsopt->default_server) {
                if (a[j].default_server) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                      "a duplicate default server for %V", &lsopt->addr_text);
                    return SL_ERROR;
                }
                a[j].default_server = cscf;
            }
            s = sl_array_push(&a[j].servers);
            if (s == NULL) {
                return SL_ERROR;
            }
            *s = cscf;
            return SL_OK;
        }
        goto add_address;
    }

    p = sl_array_push(cmcf->ports);
    if (p == NULL) {
        return SL_ERROR;
    }
    p->family = lsopt->sockaddr.sa.sa_family;
    p->port = port;
    if (sl_array_init(&p->addrs, cf->temp_pool, 2, sizeof(sl_http_conf_addr_t)) != SL_OK) {
        return SL_ERROR;
    }

add_address:
    a = sl_array_push(&p->addrs);
    if (a == NULL) {
        return SL_ERROR;
    }
    a->opt = *lsopt;
    a->default_server = lsopt->default_server ? cscf : NULL;
    if (sl_array_init(&a->servers, cf->temp_pool, 2, sizeof(void *)) != SL_OK) {
        return SL_ERROR;
    }
    s = sl_array_push(&a->servers);
    if (s == NULL) {
        return SL_ERROR;
    }
    *s = cscf;
    return SL_OK;
}

static sl_uint_t
sl_http_is_wildcard(sl_sockaddr_t *sa)
{
    static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

    if (sa->sa.sa_family == AF_INET6) {
        return memcmp(&sa->sin6.sin6_addr, &any6, sizeof(any6)) == 0;
    }
    return sa->sin.sin_addr.s_addr == htonl(INADDR_ANY);
}

/* Builds the name lookup of one address from its servers' server_name lists. */
static sl_int_t
sl_http_init_virtual_names(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf,
                           sl_http_conf_addr_t *addr, sl_http_addr_conf_t *ac)
{
    sl_int_t rc;
    sl_uint_t s, n, nregex;
    sl_hash_init_t hinit;
    sl_hash_keys_arrays_t ha;
    sl_http_server_name_t *name, *regex;
    sl_http_core_srv_conf_t **cscfp;
    sl_http_virtual_names_t *vn;

    cscfp = addr->servers.elts;

    sl_memzero(&ha, sizeof(ha));
    ha.pool = cf->pool;
    ha.temp_pool = cf->temp_pool;
    if (sl_hash_keys_array_init(&ha, SL_HASH_SMALL) != SL_OK) {
        return SL_ERROR;
    }

    nregex = 0;
    for (s = 0; s < addr->servers.nelts; s++) {
        name = cscfp[s]->server_names.elts;
        for (n = 0; n < cscfp[s]->server_names.nelts; n++) {
            if (name[n].regex) {
                nregex++;
                continue;
            }
            if (name[n].name.len == 0) {
                continue;
            }
            rc = sl_hash_add_key(&ha, &name[n].name, name[n].server, SL_HASH_WILDCARD_KEY);
            if (rc == SL_ERROR) {
                return SL_ERROR;
            }
            if (rc == SL_DECLINED) {
                sl_log_stderr_level(SL_LOG_EMERG, 0, "invalid server name or wildcard \"%V\" on %V",
                                    &name[n].name, &addr->opt.addr_text);
                return SL_ERROR;
            }
            if (rc == SL_BUSY) {
                sl_log_error(SL_LOG_WARN, cf->log, 0, "conflicting server name \"%V\" on %V, ignored",
                             &name[n].name, &addr->opt.addr_text);
            }
        }
    }

    vn = sl_pcalloc(cf->pool, sizeof(sl_http_virtual_names_t));
    if (vn == NULL) {
        return SL_ERROR;
    }

    hinit.hash = NULL;
    hinit.pool = cf->pool;
    hinit.temp_pool = cf->temp_pool;
    hinit.max_size = cmcf->server_names_hash_max_size;
    hinit.bucket_size = cmcf->server_names_hash_bucket_size;
    hinit.name = "server_names_hash";
    if (sl_hash_combined_init(&hinit, &ha, &vn->names) != SL_OK) {
        return SL_ERROR;
    }

    if (nregex) {
        regex = sl_palloc(cf->pool, nregex * sizeof(sl_http_server_name_t));
        if (regex == NULL) {
            return SL_ERROR;
        }
        vn->regex = regex;
        vn->nregex = nregex;
        for (s = 0; s < addr->servers.nelts; s++) {
            name = cscfp[s]->server_names.elts;
            for (n = 0; n < cscfp[s]->server_names.nelts; n++) {
                if (name[n].regex) {
                    *regex++ = name[n];
                }
            }
        }
    }

    ac->virtual_names = vn;
    return SL_OK;
}

/*
 * Turns ports and addresses into listening sockets. On a port where a
 * wildcard address is listened on, specific addresses of that port share
 * the wildcard socket (the kernel will not bind both) and are told apart
 * per connection with getsockname(); "bind" forces a socket of its own.
 */
static sl_int_t
sl_http_optimize_servers(sl_conf_t *cf, sl_http_core_main_conf_t *cmcf)
{
    sl_uint_t p, a, i, n, wildcard, bound;
    sl_listening_t *ls;
    sl_http_port_t *hport;
    sl_http_conf_port_t *port;
    sl_http_conf_addr_t *addr;

    if (cmcf->ports == NULL) {
        return SL_OK;
    }

    port = cmcf->ports->elts;
    for (p = 0; p < cmcf->ports->nelts; p++) {
        addr = port[p].addrs.elts;

        wildcard = 0;
        for (a = 0; a < port[p].addrs.nelts; a++) {
            if (sl_http_is_wildcard(&addr[a].opt.sockaddr)) {
                wildcard = 1;
            }
            if (addr[a].default_server == NULL) {
                addr[a].default_server = ((sl_http_core_srv_conf_t **) addr[a].servers.elts)[0];
            }
        }

        for (a = 0; a < port[p].addrs.nelts; a++) {
            bound = !wildcard || addr[a].opt.bind || sl_http_is_wildcard(&addr[a].opt.sockaddr);
            if (!bound) {
                continue;
            }

            ls = sl_create_listening(cf, &addr[a].opt.sockaddr.sa, addr[a].opt.socklen);
            if (ls == NULL) {
                return SL_ERROR;
            }
            ls->handler = sl_http_init_connection;
            ls->backlog = addr[a].opt.backlog;
            ls->rcvbuf = addr[a].opt.rcvbuf;
            ls->sndbuf = addr[a].opt.sndbuf;
            ls->reuseport = addr[a].opt.reuseport;
            ls->ipv6only = addr[a].opt.ipv6only;
            ls->deferred_accept = addr[a].opt.deferred_accept;
            ls->pool_size = addr[a].default_server->connection_pool_size;

            hport = sl_pcalloc(cf->pool, sizeof(sl_http_port_t));
            if (hport == NULL) {
                return SL_ERROR;
            }
            ls->servers = hport;

            /* a wildcard socket serves every address of its port not bound apart */
            n = 0;
            for (i = 0; i < port[p].addrs.nelts; i++) {
                if (i == a || !(addr[i].opt.bind || sl_http_is_wildcard(&addr[i].opt.sockaddr))) {
                    if (i == a || sl_http_is_wildcard(&addr[a].opt.sockaddr)) {
                        n++;
                    }
                }
            }
            hport->addrs = sl_pcalloc(cf->pool, n * sizeof(sl_http_in_addr_t));
            if (hport->addrs == NULL) {
                return SL_ERROR;
            }
            hport->naddrs = 0;

            for (i = 0; i < port[p].addrs.nelts; i++) {
                if (i != a
                    && (!sl_http_is_wildcard(&addr[a].opt.sockaddr) || addr[i].opt.bind
                        || sl_http_is_wildcard(&addr[i].opt.sockaddr))) {
                    continue;
                }
                sl_http_in_addr_t *ia = &hport->addrs[hport->naddrs++];
                ia->sockaddr = addr[i].opt.sockaddr;
                ia->socklen = addr[i].opt.socklen;
                ia->wildcard = sl_http_is_wildcard(&addr[i].opt.sockaddr);
                ia->conf.default_server = addr[i].default_server;
                if (sl_http_init_virtual_names(cf, cmcf, &addr[i], &ia->conf) != SL_OK) {
                    return SL_ERROR;
                }
            }

            /* the specific addresses are searched first, the wildcard last */
            for (i = 0; i + 1 < hport->naddrs; i++) {
                if (hport->addrs[i].wildcard) {
                    sl_http_in_addr_t tmp = hport->addrs[i];
                    hport->addrs[i] = hport->addrs[hport->naddrs - 1];
                    hport->addrs[hport->naddrs - 1] = tmp;
                    break;
                }
            }
        }
    }

    return SL_OK;
}
