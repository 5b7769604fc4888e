/*
 * sl_http_upstream.c: the upstream module. It owns the upstream {} block
 * and its "server" lines (weight=, max_fails=, fail_timeout=, backup,
 * down, max_conns=; names resolved at load to every address), the
 * implicit groups of "proxy_pass http://host:port", the hide/pass header
 * tables the protocol modules share, and the $upstream_* variables. The
 * life of one exchange with an upstream is sl_http_upstream_request.c;
 * moving bodies is sl_http_upstream_body.c.
 */
#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"
#include "sl_http_upstream_round_robin.h"

static char *sl_http_upstream_block(sl_conf_t *cf, sl_command_t *cmd, void *dummy);
static char *sl_http_upstream_server(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_upstream_add_variables(sl_conf_t *cf);
static void *sl_http_upstream_create_main_conf(sl_conf_t *cf);
static char *sl_http_upstream_init_main_conf(sl_conf_t *cf, void *conf);


static sl_command_t sl_http_upstream_commands[] = {
    { sl_string("upstream"), SL_HTTP_MAIN_CONF | SL_CONF_BLOCK | SL_CONF_TAKE1,
      sl_http_upstream_block, 0, 0, NULL },
    { sl_string("server"), SL_HTTP_UPS_CONF | SL_CONF_1MORE, sl_http_upstream_server,
      SL_HTTP_SRV_CONF_OFFSET, 0, NULL },
    sl_null_command,
};

static sl_http_module_t sl_http_upstream_module_ctx = {
    sl_http_upstream_add_variables,    /* preconfiguration */
    NULL,                              /* postconfiguration */
    sl_http_upstream_create_main_conf, /* create main configuration */
    sl_http_upstream_init_main_conf,   /* init main configuration */
    NULL,                              /* create server configuration */
    NULL,                              /* merge server configuration */
    NULL,                              /* create location configuration */
    NULL                               /* merge location configuration */
};

sl_module_t sl_http_upstream_module = { SL_MODULE_V1,
                                        "sl_http_upstream_module",
                                        SL_HTTP_MODULE,
                                        &sl_http_upstream_module_ctx,
                                        sl_http_upstream_commands,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL };

sl_conf_bitmask_t sl_http_upstream_next_upstream_masks[] = {
    { sl_string("error"), SL_HTTP_UPSTREAM_FT_ERROR },
    { sl_string("timeout"), SL_HTTP_UPSTREAM_FT_TIMEOUT },
    { sl_string("invalid_header"), SL_HTTP_UPSTREAM_FT_INVALID_HEADER },
    { sl_string("non_idempotent"), SL_HTTP_UPSTREAM_FT_NON_IDEMPOTENT },
    { sl_string("http_500"), SL_HTTP_UPSTREAM_FT_HTTP_500 },
    { sl_string("http_502"), SL_HTTP_UPSTREAM_FT_HTTP_502 },
    { sl_string("http_503"), SL_HTTP_UPSTREAM_FT_HTTP_503 },
    { sl_string("http_504"), SL_HTTP_UPSTREAM_FT_HTTP_504 },
    { sl_string("http_403"), SL_HTTP_UPSTREAM_FT_HTTP_403 },
    { sl_string("http_404"), SL_HTTP_UPSTREAM_FT_HTTP_404 },
    { sl_string("http_429"), SL_HTTP_UPSTREAM_FT_HTTP_429 },
    { sl_string("off"), SL_HTTP_UPSTREAM_FT_OFF },
    { sl_null_string, 0 },
};


/* Configuration: groups ---------------------------------------------------------------- */

static void *
sl_http_upstream_create_main_conf(sl_conf_t *cf)
{
    sl_http_upstream_main_conf_t *umcf;

    umcf = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_main_conf_t));
    if (umcf == NULL) {
        return NULL;
    }

    if (sl_array_init(&umcf->upstreams, cf->pool, 4, sizeof(sl_http_upstream_srv_conf_t *))
        != SL_OK) {
        return NULL;
    }

    return umcf;
}


sl_http_upstream_srv_conf_t *
sl_http_upstream_add(sl_conf_t *cf, sl_url_t *u, sl_uint_t flags)
{
    sl_uint_t i, no_port;
    sl_http_upstream_srv_conf_t *uscf, **uscfp;
    sl_http_upstream_main_conf_t *umcf;

    umcf = sl_http_conf_get_module_main_conf(cf, sl_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    /* an implicit group has port 0 when the URL had none */
    no_port = (u->port == 0);

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (!sl_str_caseeq(&uscfp[i]->host, &u->host)) {
            continue;
        }

        if ((flags & SL_HTTP_UPSTREAM_CREATE) && (uscfp[i]->flags & SL_HTTP_UPSTREAM_CREATE)) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "duplicate upstream \"%V\"", &u->host);
            return NULL;
        }

        if (flags & SL_HTTP_UPSTREAM_CREATE) {
            if (!uscfp[i]->no_port) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "upstream \"%V\" may not have port %d in %s:%ui", &u->host,
                                  (int) uscfp[i]->port, uscfp[i]->file_name, uscfp[i]->line);
                return NULL;
            }

            /* the block defines the group "proxy_pass http://NAME" met earlier */
            uscfp[i]->flags = flags;
            uscfp[i]->file_name = cf->conf_file->name.data;
            uscfp[i]->line = cf->conf_file->line;
            return uscfp[i];
        }

        if (uscfp[i]->flags & SL_HTTP_UPSTREAM_CREATE) {
            if (!no_port) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "upstream \"%V\" may not have port %d",
                                  &u->host, (int) u->port);
                return NULL;
            }

            return uscfp[i];
        }

        if (uscfp[i]->port == u->port && uscfp[i]->no_port == no_port) {
            return uscfp[i];
        }
    }

    uscf = sl_pcalloc(cf->pool, sizeof(sl_http_upstream_srv_conf_t));
    if (uscf == NULL) {
        return NULL;
    }

    uscf->flags = flags;
    uscf->host = u->host;
    uscf->file_name = cf->conf_file->name.data;
    uscf->line = cf->conf_file->line;
    uscf->port = (in_port_t) u->port;
    uscf->no_port = no_port;

    uscfp = sl_array_push(&umcf->upstreams);
    if (uscfp == NULL) {
        return NULL;
    }

    *uscfp = uscf;

    return uscf;
}


static char *
sl_http_upstream_block(sl_conf_t *cf, sl_command_t *cmd, void *dummy)
{
    char *rv;
    void *mconf;
    sl_str_t *value;
    sl_url_t u;
    sl_uint_t m, mi;
    sl_conf_t pcf;
    sl_http_module_t *module;
    sl_http_conf_ctx_t *ctx, *http_ctx;
    sl_http_upstream_srv_conf_t *uscf;

    sl_unused(cmd);
    sl_unused(dummy);

    value = cf->args->elts;

    sl_memzero(&u, sizeof(sl_url_t));
    u.host = value[1];
    u.port = 0;

    uscf = sl_http_upstream_add(cf, &u,
                                SL_HTTP_UPSTREAM_CREATE | SL_HTTP_UPSTREAM_WEIGHT
                                    | SL_HTTP_UPSTREAM_MAX_CONNS | SL_HTTP_UPSTREAM_MAX_FAILS
                                    | SL_HTTP_UPSTREAM_FAIL_TIMEOUT | SL_HTTP_UPSTREAM_DOWN
                                    | SL_HTTP_UPSTREAM_BACKUP);
    if (uscf == NULL) {
        return SL_CONF_ERROR;
    }

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }

    http_ctx = cf->ctx;
    ctx->main_conf = http_ctx->main_conf;

    ctx->srv_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    ctx->loc_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    if (ctx->srv_conf == NULL || ctx->loc_conf == NULL) {
        return SL_CONF_ERROR;
    }

    ctx->srv_conf[sl_http_upstream_module.ctx_index] = uscf;
    uscf->srv_conf = ctx->srv_conf;

    for (m = 0; cf->cycle->modules[m]; m++) {
        if (cf->cycle->modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }

        module = cf->cycle->modules[m]->ctx;
        mi = cf->cycle->modules[m]->ctx_index;

        if (module->create_srv_conf) {
            mconf = module->create_srv_conf(cf);
            if (mconf == NULL) {
                return SL_CONF_ERROR;
            }

            ctx->srv_conf[mi] = mconf;
        }

        if (module->create_loc_conf) {
            mconf = module->create_loc_conf(cf);
            if (mconf == NULL) {
                return SL_CONF_ERROR;
            }

            ctx->loc_conf[mi] = mconf;
        }
    }

    uscf->servers = sl_array_create(cf->pool, 4, sizeof(sl_http_upstream_server_t));
    if (uscf->servers == NULL) {
        return SL_CONF_ERROR;
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = SL_HTTP_UPS_CONF;

    rv = sl_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != SL_CONF_OK) {
        return rv;
    }

    if (uscf->servers->nelts == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "no servers are inside upstream");
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


/* A parameter's number after "name=": SL_ERROR when it is not one. */
static sl_int_t
sl_http_upstream_param_number(sl_str_t *value, size_t skip)
{
    return sl_atoi(value->data + skip, value->len - skip);
}


static char *
sl_http_upstream_server(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_upstream_srv_conf_t *uscf = conf;

    time_t fail_timeout;
    sl_str_t *value, s;
    sl_url_t u;
    sl_int_t weight, max_fails, max_conns, n;
    sl_uint_t i;
    sl_http_upstream_server_t *us;

    sl_unused(cmd);

    us = sl_array_push(uscf->servers);
    if (us == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(us, sizeof(sl_http_upstream_server_t));

    value = cf->args->elts;

    weight = 1;
    max_fails = 1;
    max_conns = 0;
    fail_timeout = 10;

    for (i = 2; i < cf->args->nelts; i++) {
        if (value[i].len > 7 && sl_strncmp(value[i].data, "weight=", 7) == 0) {
            if (!(uscf->flags & SL_HTTP_UPSTREAM_WEIGHT)) {
                goto not_supported;
            }

            weight = sl_http_upstream_param_number(&value[i], 7);
            if (weight == SL_ERROR || weight == 0) {
                goto invalid;
            }

            continue;
        }

        if (value[i].len > 10 && sl_strncmp(value[i].data, "max_conns=", 10) == 0) {
            if (!(uscf->flags & SL_HTTP_UPSTREAM_MAX_CONNS)) {
                goto not_supported;
            }

            max_conns = sl_http_upstream_param_number(&value[i], 10);
            if (max_conns == SL_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (value[i].len > 10 && sl_strncmp(value[i].data, "max_fails=", 10) == 0) {
            if (!(uscf->flags & SL_HTTP_UPSTREAM_MAX_FAILS)) {
                goto not_supported;
            }

            max_fails = sl_http_upstream_param_number(&value[i], 10);
            if (max_fails == SL_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (value[i].len > 13 && sl_strncmp(value[i].data, "fail_timeout=", 13) == 0) {
            if (!(uscf->flags & SL_HTTP_UPSTREAM_FAIL_TIMEOUT)) {
                goto not_supported;
            }

            s.len = value[i].len - 13;
            s.data = &value[i].data[13];

            n = sl_parse_time(&s, 1);
            if (n == SL_ERROR) {
                goto invalid;
            }

            fail_timeout = (time_t) n;

            continue;
        }

        if (value[i].len == 6 && sl_strncmp(value[i].data, "backup", 6) == 0) {
            if (!(uscf->flags & SL_HTTP_UPSTREAM_BACKUP)) {
                goto not_supported;
            }

            us->backup = 1;

            continue;
        }

        if (value[i].len == 4 && sl_strncmp(value[i].data, "down", 4) == 0) {
            if (!(uscf->flags & SL_HTTP_UPSTREAM_DOWN)) {
                goto not_supported;
            }

            us->down = 1;

            continue;
        }

        goto invalid;
    }

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = value[1];
    u.default_port = SL_HTTP_UPSTREAM_DEFAULT_PORT;

    /* every address the name has now, once: nothing is resolved at request time */
    if (sl_parse_url(cf->pool, &u) != SL_OK) {
        if (u.err) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s in upstream \"%V\"", u.err, &u.url);
        }

        return SL_CONF_ERROR;
    }

    us->name = u.url;
    us->addrs = u.addrs;
    us->addr_lens = u.addr_lens;
    us->naddrs = u.naddrs;
    us->weight = (sl_uint_t) weight;
    us->max_fails = (sl_uint_t) max_fails;
    us->max_conns = (sl_uint_t) max_conns;
    us->fail_timeout = fail_timeout;

    return SL_CONF_OK;

invalid:

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);

    return SL_CONF_ERROR;

not_supported:

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "balancing method does not support parameter \"%V\"",
                      &value[i]);

    return SL_CONF_ERROR;
}


/*
 * After the http block: an implicit group ("proxy_pass http://host:port"
 * with no upstream block of that name) gets its one server, resolved now
 * to every address; then every group's balancer builds its peers.
 */
static char *
sl_http_upstream_init_main_conf(sl_conf_t *cf, void *conf)
{
    sl_http_upstream_main_conf_t *umcf = conf;

    u_char *p;
    sl_url_t u;
    sl_uint_t i;
    sl_http_upstream_init_pt init;
    sl_http_upstream_server_t *us;
    sl_http_upstream_srv_conf_t **uscfp;

    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (!(uscfp[i]->flags & SL_HTTP_UPSTREAM_CREATE) && uscfp[i]->servers == NULL) {
            sl_memzero(&u, sizeof(sl_url_t));

            if (sl_http_upstream_is_unix(&uscfp[i]->host)) {
                /* "proxy_pass http://unix:/path": the socket is the whole address */
                u.url = uscfp[i]->host;

            } else {
                u.url.len = uscfp[i]->host.len + sizeof(":65535") - 1;
                u.url.data = sl_pnalloc(cf->pool, u.url.len);
                if (u.url.data == NULL) {
                    return SL_CONF_ERROR;
                }

                p = sl_sprintf(u.url.data, "%V:%ui", &uscfp[i]->host,
                               uscfp[i]->no_port ? (sl_uint_t) SL_HTTP_UPSTREAM_DEFAULT_PORT
                                                 : (sl_uint_t) uscfp[i]->port);
                u.url.len = p - u.url.data;
            }

            if (sl_parse_url(cf->pool, &u) != SL_OK) {
                sl_log_error(SL_LOG_EMERG, cf->log, 0, "%s in upstream \"%V\" in %s:%ui",
                             u.err ? u.err : "invalid address", &u.url, uscfp[i]->file_name,
                             uscfp[i]->line);
                return SL_CONF_ERROR;
            }

            uscfp[i]->servers = sl_array_create(cf->pool, 1, sizeof(sl_http_upstream_server_t));
            if (uscfp[i]->servers == NULL) {
                return SL_CONF_ERROR;
            }

            us = sl_array_push(uscfp[i]->servers);
            if (us == NULL) {
                return SL_CONF_ERROR;
            }

            sl_memzero(us, sizeof(sl_http_upstream_server_t));
            us->name = u.url;
            us->addrs = u.addrs;
            us->addr_lens = u.addr_lens;
            us->naddrs = u.naddrs;
            us->weight = 1;
            us->max_fails = 1;
            us->fail_timeout = 10;
        }

        init = uscfp[i]->peer.init_upstream ? uscfp[i]->peer.init_upstream
                                            : sl_http_upstream_init_round_robin;

        if (init(cf, uscfp[i]) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    return SL_CONF_OK;
}


sl_int_t
sl_http_upstream_hide_headers_hash(sl_conf_t *cf, sl_http_upstream_conf_t *conf,
                                   sl_http_upstream_conf_t *prev, sl_str_t *default_hide)
{
    sl_str_t *h, *ph;
    sl_uint_t i, j, skip;
    sl_array_t keys;
    sl_hash_key_t *hk;
    sl_hash_init_t hash;

    if (conf->hide_headers == SL_CONF_UNSET_PTR && conf->pass_headers == SL_CONF_UNSET_PTR) {
        conf->hide_headers = prev->hide_headers;
        conf->pass_headers = prev->pass_headers;
        conf->hide_headers_hash = prev->hide_headers_hash;

        if (conf->hide_headers_hash.size) {
            return SL_OK;
        }

    } else {
        if (conf->hide_headers == SL_CONF_UNSET_PTR) {
            conf->hide_headers = prev->hide_headers;
        }

        if (conf->pass_headers == SL_CONF_UNSET_PTR) {
            conf->pass_headers = prev->pass_headers;
        }
    }

    if (conf->hide_headers == SL_CONF_UNSET_PTR) {
        conf->hide_headers = NULL;
    }

    if (conf->pass_headers == SL_CONF_UNSET_PTR) {
        conf->pass_headers = NULL;
    }

    if (sl_array_init(&keys, cf->temp_pool, 16, sizeof(sl_hash_key_t)) != SL_OK) {
        return SL_ERROR;
    }

    for (h = default_hide; h->len; h++) {
        skip = 0;

        if (conf->pass_headers) {
            ph = conf->pass_headers->elts;

            for (j = 0; j < conf->pass_headers->nelts; j++) {
                if (sl_str_caseeq(h, &ph[j])) {
                    skip = 1;
                    break;
                }
            }
        }

        if (skip) {
            continue;
        }

        hk = sl_array_push(&keys);
        if (hk == NULL) {
            return SL_ERROR;
        }

        hk->key = *h;
        hk->key_hash = sl_hash_key_lc(h->data, h->len);
        hk->value = (void *) 1;
    }

    if (conf->hide_headers) {
        h = conf->hide_headers->elts;

        for (i = 0; i < conf->hide_headers->nelts; i++) {
            hk = keys.elts;

            for (j = 0; j < keys.nelts; j++) {
                if (sl_str_caseeq(&h[i], &hk[j].key)) {
                    goto exist;
                }
            }

            hk = sl_array_push(&keys);
            if (hk == NULL) {
                return SL_ERROR;
            }

            hk->key.len = h[i].len;
            hk->key.data = sl_pnalloc(cf->pool, h[i].len);
            if (hk->key.data == NULL) {
                return SL_ERROR;
            }

            sl_strlow(hk->key.data, h[i].data, h[i].len);
            hk->key_hash = sl_hash_key(hk->key.data, hk->key.len);
            hk->value = (void *) 1;

        exist:
            continue;
        }
    }

    hash.hash = &conf->hide_headers_hash;
    hash.pool = cf->pool;
    hash.temp_pool = NULL;
    hash.max_size = 512;
    hash.bucket_size = 64;
    hash.name = "proxy_headers_hash";

    return sl_hash_init(&hash, keys.elts, keys.nelts);
}


/* Variables ----------------------------------------------------------------------------- */

#define SL_HTTP_UPSTREAM_VAR_ADDR 0
#define SL_HTTP_UPSTREAM_VAR_STATUS 1
#define SL_HTTP_UPSTREAM_VAR_RESPONSE_TIME 2
#define SL_HTTP_UPSTREAM_VAR_CONNECT_TIME 3
#define SL_HTTP_UPSTREAM_VAR_HEADER_TIME 4
#define SL_HTTP_UPSTREAM_VAR_BYTES_RECEIVED 5

/* One attempt's value of variable "which" into p; returns the end. */
static u_char *
sl_http_upstream_state_value(u_char *p, sl_http_upstream_state_t *st, uintptr_t which)
{
    sl_msec_t ms;

    switch (which) {
    case SL_HTTP_UPSTREAM_VAR_ADDR:
        if (st->peer == NULL) {
            return sl_cpymem(p, "-", 1);
        }
        return sl_cpymem(p, st->peer->data, st->peer->len);

    case SL_HTTP_UPSTREAM_VAR_STATUS:
        if (st->status == 0) {
            return sl_cpymem(p, "-", 1);
        }
        return sl_sprintf(p, "%ui", st->status);

    case SL_HTTP_UPSTREAM_VAR_BYTES_RECEIVED:
        return sl_sprintf(p, "%O", st->bytes_received);

    default:
        ms = which == SL_HTTP_UPSTREAM_VAR_RESPONSE_TIME  ? st->response_time
             : which == SL_HTTP_UPSTREAM_VAR_CONNECT_TIME ? st->connect_time
                                                          : st->header_time;
        if (ms == SL_HTTP_UPSTREAM_NO_TIME) {
            return sl_cpymem(p, "-", 1);
        }
        return sl_sprintf(p, "%uL.%03uL", (uint64_t) (ms / 1000), (uint64_t) (ms % 1000));
    }
}


static sl_int_t
sl_http_upstream_variable_state(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;
    size_t len;
    sl_uint_t i;
    sl_http_upstream_state_t *st;

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    if (r->upstream == NULL || r->upstream->state == NULL || r->upstream->state->nelts == 0) {
        v->not_found = 1;
        return SL_OK;
    }

    st = r->upstream->state->elts;
    len = 0;

    for (i = 0; i < r->upstream->state->nelts; i++) {
        len += (st[i].peer ? st[i].peer->len : 0) + SL_OFF_T_LEN + 8;
    }

    p = sl_pnalloc(r->pool, len);
    if (p == NULL) {
        return SL_ERROR;
    }

    v->data = p;

    for (i = 0; i < r->upstream->state->nelts; i++) {
        if (i) {
            *p++ = ',';
            *p++ = ' ';
        }

        p = sl_http_upstream_state_value(p, &st[i], data);
    }

    v->len = p - v->data;

    return SL_OK;
}


/* $upstream_http_NAME: a response header field as the upstream sent it. */
static sl_int_t
sl_http_upstream_variable_header(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char c, *p;
    size_t len, n, k;
    sl_str_t *var;
    sl_uint_t i, found;
    sl_list_part_t *part;
    sl_table_elt_t *h;
    const u_char *name;

    var = (sl_str_t *) data;
    name = var->data + sizeof("upstream_http_") - 1;
    len = var->len - (sizeof("upstream_http_") - 1);

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 1;

    if (r->upstream == NULL || r->upstream->headers_in.headers.part.elts == NULL) {
        return SL_OK;
    }

    for (int pass = 0; pass < 2; pass++) {
        n = 0;
        found = 0;
        p = v->data;
        part = &r->upstream->headers_in.headers.part;
        h = part->elts;

        for (i = 0; /* void */; i++) {
            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }
                part = part->next;
                h = part->elts;
                i = 0;
                if (part->nelts == 0) {
                    continue;
                }
            }

            if (h[i].key.len != len) {
                continue;
            }

            for (k = 0; k < len; k++) {
                c = sl_tolower(h[i].key.data[k]);
                if (c == '-') {
                    c = '_';
                }
                if (c != name[k]) {
                    break;
                }
            }

            if (k != len) {
                continue;
            }

            if (pass == 0) {
                n += h[i].value.len + (found ? 2 : 0);
            } else {
                if (found) {
                    *p++ = ',';
                    *p++ = ' ';
                }
                p = sl_cpymem(p, h[i].value.data, h[i].value.len);
            }

            found = 1;
        }

        if (!found) {
            return SL_OK;
        }

        if (pass == 0) {
            v->data = sl_pnalloc(r->pool, n ? n : 1);
            if (v->data == NULL) {
                return SL_ERROR;
            }
        } else {
            v->len = p - v->data;
        }
    }

    v->not_found = 0;

    return SL_OK;
}


static sl_http_variable_t sl_http_upstream_vars[] = {
    { sl_string("upstream_addr"), NULL, sl_http_upstream_variable_state, SL_HTTP_UPSTREAM_VAR_ADDR,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("upstream_status"), NULL, sl_http_upstream_variable_state,
      SL_HTTP_UPSTREAM_VAR_STATUS, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("upstream_response_time"), NULL, sl_http_upstream_variable_state,
      SL_HTTP_UPSTREAM_VAR_RESPONSE_TIME, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("upstream_connect_time"), NULL, sl_http_upstream_variable_state,
      SL_HTTP_UPSTREAM_VAR_CONNECT_TIME, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("upstream_header_time"), NULL, sl_http_upstream_variable_state,
      SL_HTTP_UPSTREAM_VAR_HEADER_TIME, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("upstream_bytes_received"), NULL, sl_http_upstream_variable_state,
      SL_HTTP_UPSTREAM_VAR_BYTES_RECEIVED, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("upstream_http_"), NULL, sl_http_upstream_variable_header, 0,
      SL_HTTP_VAR_PREFIX | SL_HTTP_VAR_NOCACHEABLE, 0 },
    sl_http_null_variable,
};


static sl_int_t
sl_http_upstream_add_variables(sl_conf_t *cf)
{
    return sl_http_add_variables(cf, sl_http_upstream_vars);
}
