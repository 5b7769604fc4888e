/*
 * sl_http_proxy_module.c: proxy_pass and its directives, with nginx's
 * semantics. The module owns the HTTP/1.x wire format towards the
 * upstream: it builds the request (method, URI rules, proxy_set_header,
 * the client's fields without the hop-by-hop ones); reading the response
 * (parsing, body decoding, proxy_redirect) is sl_http_proxy_response.c.
 * Everything else is the upstream core's (sl_http_upstream.c).
 */
#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"
#include "sl_http_upstream_round_robin.h"
#include "sl_http_proxy_module.h"

static sl_int_t sl_http_proxy_handler(sl_http_request_t *r);
static sl_int_t sl_http_proxy_create_request(sl_http_request_t *r);
static sl_int_t sl_http_proxy_reinit_request(sl_http_request_t *r);

static sl_int_t sl_http_proxy_add_variables(sl_conf_t *cf);
static void *sl_http_proxy_create_loc_conf(sl_conf_t *cf);
static char *sl_http_proxy_merge_loc_conf(sl_conf_t *cf, void *parent, void *child);
static char *sl_http_proxy_pass(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_proxy_redirect(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_proxy_buffers(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_proxy_temp_path(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_conf_enum_t sl_http_proxy_http_version[] = {
    { sl_string("1.0"), SL_HTTP_VERSION_10 },
    { sl_string("1.1"), SL_HTTP_VERSION_11 },
    { sl_null_string, 0 },
};

static sl_command_t sl_http_proxy_commands[] = {
    { sl_string("proxy_pass"), SL_HTTP_LOC_CONF | SL_HTTP_LIF_CONF | SL_CONF_TAKE1,
      sl_http_proxy_pass, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("proxy_redirect"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE12,
      sl_http_proxy_redirect, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("proxy_set_header"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE2,
      sl_conf_set_keyval_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, headers_source), NULL },
    { sl_string("proxy_hide_header"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_str_array_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.hide_headers), NULL },
    { sl_string("proxy_pass_header"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_str_array_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.pass_headers), NULL },
    { sl_string("proxy_pass_request_headers"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_proxy_loc_conf_t, upstream.pass_request_headers),
      NULL },
    { sl_string("proxy_pass_request_body"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_proxy_loc_conf_t, upstream.pass_request_body),
      NULL },
    { sl_string("proxy_http_version"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_enum_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, http_version), &sl_http_proxy_http_version },
    { sl_string("proxy_connect_timeout"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_msec_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.connect_timeout), NULL },
    { sl_string("proxy_send_timeout"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_msec_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.send_timeout), NULL },
    { sl_string("proxy_read_timeout"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_msec_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.read_timeout), NULL },
    { sl_string("proxy_buffering"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_proxy_loc_conf_t, upstream.buffering), NULL },
    { sl_string("proxy_request_buffering"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_proxy_loc_conf_t, upstream.request_buffering),
      NULL },
    { sl_string("proxy_buffer_size"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_size_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.buffer_size), NULL },
    { sl_string("proxy_buffers"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE2,
      sl_http_proxy_buffers, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("proxy_busy_buffers_size"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_size_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, busy_buffers_size_conf), NULL },
    { sl_string("proxy_max_temp_file_size"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_size_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.max_temp_file_size), NULL },
    { sl_string("proxy_temp_path"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_http_proxy_temp_path, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("proxy_intercept_errors"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_proxy_loc_conf_t, upstream.intercept_errors),
      NULL },
    { sl_string("proxy_next_upstream"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_1MORE,
      sl_conf_set_bitmask_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.next_upstream),
      &sl_http_upstream_next_upstream_masks },
    { sl_string("proxy_next_upstream_tries"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1, sl_conf_set_num_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_proxy_loc_conf_t, upstream.next_upstream_tries),
      NULL },
    { sl_string("proxy_next_upstream_timeout"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_TAKE1,
      sl_conf_set_msec_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_proxy_loc_conf_t, upstream.next_upstream_timeout), NULL },
    { sl_string("proxy_ignore_client_abort"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_proxy_loc_conf_t, upstream.ignore_client_abort),
      NULL },
    sl_null_command,
};

static sl_http_module_t sl_http_proxy_module_ctx = {
    sl_http_proxy_add_variables,   /* preconfiguration */
    NULL,                          /* postconfiguration */
    NULL,                          /* create main configuration */
    NULL,                          /* init main configuration */
    NULL,                          /* create server configuration */
    NULL,                          /* merge server configuration */
    sl_http_proxy_create_loc_conf, /* create location configuration */
    sl_http_proxy_merge_loc_conf   /* merge location configuration */
};

sl_module_t sl_http_proxy_module = { SL_MODULE_V1,
                                     "sl_http_proxy_module",
                                     SL_HTTP_MODULE,
                                     &sl_http_proxy_module_ctx,
                                     sl_http_proxy_commands,
                                     NULL,
                                     NULL,
                                     NULL,
                                     NULL };

/* Response fields the client never sees unless proxy_pass_header names them. */
static sl_str_t sl_http_proxy_hide_headers[] = {
    sl_string("date"),
    sl_string("server"),
    sl_string("x-pad"),
    sl_string("x-accel-expires"),
    sl_string("x-accel-redirect"),
    sl_string("x-accel-limit-rate"),
    sl_string("x-accel-buffering"),
    sl_string("x-accel-charset"),
    sl_null_string,
};

/*
 * Request fields the client never sends on: the framing is ours, and the
 * hop-by-hop fields belong to the client's connection.
 */
static sl_str_t sl_http_proxy_internal_headers[] = {
    sl_string("content-length"),
    sl_string("transfer-encoding"),
    sl_string("expect"),
    sl_string("connection"),
    sl_string("keep-alive"),
    sl_string("te"),
    sl_string("trailer"),
    sl_string("upgrade"),
    sl_string("proxy-authorization"),
    sl_string("proxy-authenticate"),
    sl_null_string,
};


/* The URL ---------------------------------------------------------------------------- */

/*
 * "http://unix:/path[:/uri]": the socket's path ends at the first ':' after
 * "unix:". The host is "unix:/path", the port 0; the Host field sent is
 * "localhost" and $proxy_port is empty, as nginx does.
 */
static const char *
sl_http_proxy_parse_unix_url(sl_str_t *url, sl_http_proxy_vars_t *vars, sl_str_t *host,
                             sl_uint_t *port)
{
    u_char *p, *path, *last, *colon;

    p = url->data + 7;
    path = p + 5;
    last = url->data + url->len;

    colon = memchr(path, ':', last - path);

    host->data = p;
    host->len = (colon ? colon : last) - p;

    if (host->len == 5) {
        return "no path in the unix domain socket";
    }

    if (colon != NULL && colon + 1 < last) {
        if (colon[1] != '/') {
            return "invalid URI part after the unix domain socket";
        }

        vars->uri.data = colon + 1;
        vars->uri.len = last - colon - 1;

    } else {
        sl_str_null(&vars->uri);
    }

    vars->key_start.data = url->data;
    vars->key_start.len = (colon ? colon : last) - url->data;
    sl_str_set(&vars->host_header, "localhost");
    sl_str_null(&vars->port);

    *port = 0;

    return NULL;
}


/*
 * Splits "http://host[:port][/uri]" (or "http://unix:/path[:/uri]") into
 * vars (pointing into url) and the host and port. Returns NULL or an error
 * text.
 */
static const char *
sl_http_proxy_parse_url(sl_str_t *url, sl_http_proxy_vars_t *vars, sl_str_t *host, sl_uint_t *port)
{
    u_char *p, *last, *hp, *colon, *slash;
    sl_int_t n;

    if (url->len < 7 || sl_strncasecmp(url->data, (u_char *) "http://", 7) != 0) {
        if (url->len >= 8 && sl_strncasecmp(url->data, (u_char *) "https://", 8) == 0) {
            return "https protocol requires SSL support";
        }

        return "invalid URL prefix";
    }

    p = url->data + 7;
    last = url->data + url->len;

    if (last - p >= 5 && sl_strncasecmp(p, (u_char *) "unix:", 5) == 0) {
        return sl_http_proxy_parse_unix_url(url, vars, host, port);
    }

    slash = memchr(p, '/', last - p);
    hp = slash ? slash : last;

    vars->key_start.data = url->data;
    vars->key_start.len = hp - url->data;

    if (slash) {
        vars->uri.data = slash;
        vars->uri.len = last - slash;

    } else {
        sl_str_null(&vars->uri);
    }

    colon = NULL;

    if (p < hp && *p == '[') {
        u_char *rb = memchr(p, ']', hp - p);

        if (rb == NULL) {
            return "invalid IPv6 address";
        }

        if (rb + 1 < hp) {
            if (rb[1] != ':') {
                return "invalid host";
            }
            colon = rb + 1;
        }

    } else {
        colon = memchr(p, ':', hp - p);
    }

    host->data = p;
    host->len = (colon ? colon : hp) - p;

    if (host->len == 0) {
        return "no host";
    }

    *port = 0;

    if (colon) {
        n = sl_atoi(colon + 1, hp - colon - 1);

        if (n < 1 || n > 65535) {
            return "invalid port";
        }

        *port = (sl_uint_t) n;
    }

    if (*port == 0 || *port == 80) {
        vars->host_header = *host;
        sl_str_set(&vars->port, "80");

    } else {
        vars->host_header.data = p;
        vars->host_header.len = hp - p;
        vars->port.data = colon + 1;
        vars->port.len = hp - colon - 1;
    }

    return NULL;
}


static char *
sl_http_proxy_pass(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_proxy_loc_conf_t *plcf = conf;

    sl_str_t *value, host;
    sl_url_t u;
    sl_uint_t port;
    const char *err;
    sl_http_core_loc_conf_t *clcf;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    if (plcf->upstream.upstream != NULL || plcf->url_cv != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    clcf = sl_http_conf_get_module_loc_conf(cf, sl_http_core_module);

    clcf->handler = sl_http_proxy_handler;

    if (clcf->name.len && clcf->name.data[clcf->name.len - 1] == '/') {
        clcf->auto_redirect = 1;
    }

    plcf->url = value[1];
    plcf->location = clcf->name;

    if (sl_http_script_variables_count(&value[1])) {
        plcf->url_cv = sl_pcalloc(cf->pool, sizeof(sl_http_complex_value_t));
        if (plcf->url_cv == NULL) {
            return SL_CONF_ERROR;
        }

        sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[1];
        ccv.complex_value = plcf->url_cv;

        if (sl_http_compile_complex_value(&ccv) != SL_OK) {
            return SL_CONF_ERROR;
        }

        return SL_CONF_OK;
    }

    err = sl_http_proxy_parse_url(&value[1], &plcf->vars, &host, &port);

    if (err != NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s in \"%V\"", err, &value[1]);
        return SL_CONF_ERROR;
    }

    if (plcf->vars.uri.len && (clcf->named || clcf->regex || clcf->noname)) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"proxy_pass\" cannot have URI part in location given by regular "
                          "expression, or inside named location, or inside \"if\" statement, "
                          "or inside \"limit_except\" block");
        return SL_CONF_ERROR;
    }

    sl_memzero(&u, sizeof(sl_url_t));

    if (sl_http_upstream_is_unix(&host)) {
        /* the path is checked now; the group's address is made from it after parsing */
        u.url = host;

        if (sl_parse_url(cf->pool, &u) != SL_OK) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s in \"%V\"", u.err, &value[1]);
            return SL_CONF_ERROR;
        }
    }

    u.url = value[1];
    u.host = host;
    u.port = port;

    plcf->upstream.upstream = sl_http_upstream_add(cf, &u, 0);
    if (plcf->upstream.upstream == NULL) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


/* Handling a request -------------------------------------------------------------------- */

static sl_int_t
sl_http_proxy_unix_peer_init(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    return sl_http_upstream_create_round_robin_peer(r, us->peer.data);
}


/*
 * A computed "http://unix:/path...": a group of one peer for this request
 * alone, like nginx's resolved unix address (no DNS is involved).
 */
static sl_int_t
sl_http_proxy_unix_target(sl_http_request_t *r, sl_str_t *url, sl_str_t *host)
{
    sl_url_t *addr;
    sl_http_upstream_srv_conf_t *us;

    addr = sl_pcalloc(r->pool, sizeof(sl_url_t));
    us = sl_pcalloc(r->pool, sizeof(sl_http_upstream_srv_conf_t));
    if (addr == NULL || us == NULL) {
        return SL_ERROR;
    }

    addr->url = *host;

    if (sl_parse_url(r->pool, addr) != SL_OK) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "%s in upstream \"%V\"", addr->err, url);
        return SL_ERROR;
    }

    us->host = addr->host;
    us->no_port = 1;
    us->peer.init = sl_http_proxy_unix_peer_init;
    us->peer.data = addr;

    r->upstream->upstream = us;

    return SL_OK;
}


static sl_int_t
sl_http_proxy_eval_url(sl_http_request_t *r, sl_http_proxy_loc_conf_t *plcf,
                       sl_http_proxy_ctx_t *ctx)
{
    sl_str_t url, host;
    sl_uint_t port;
    const char *err;
    sl_http_upstream_t *u;

    u = r->upstream;

    if (sl_http_complex_value(r, plcf->url_cv, &url) != SL_OK) {
        return SL_ERROR;
    }

    err = sl_http_proxy_parse_url(&url, &ctx->vars, &host, &port);

    if (err != NULL) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "%s in upstream \"%V\"", err, &url);
        return SL_ERROR;
    }

    if (sl_http_upstream_is_unix(&host)) {
        return sl_http_proxy_unix_target(r, &url, &host);
    }

    u->resolved = sl_pcalloc(r->pool, sizeof(sl_http_upstream_resolved_t));
    if (u->resolved == NULL) {
        return SL_ERROR;
    }

    u->resolved->host = host;
    u->resolved->port = (in_port_t) (port ? port : 80);
    u->resolved->no_port = (port == 0);

    return SL_OK;
}


static sl_int_t
sl_http_proxy_handler(sl_http_request_t *r)
{
    sl_int_t rc;
    sl_uint_t chunked;
    sl_http_upstream_t *u;
    sl_http_proxy_ctx_t *ctx;
    sl_http_proxy_loc_conf_t *plcf;

    if (sl_http_upstream_create(r) != SL_OK) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = sl_pcalloc(r->pool, sizeof(sl_http_proxy_ctx_t));
    if (ctx == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    sl_http_set_ctx(r, ctx, sl_http_proxy_module);

    plcf = sl_http_get_module_loc_conf(r, sl_http_proxy_module);
    u = r->upstream;

    if (plcf->url_cv != NULL) {
        if (sl_http_proxy_eval_url(r, plcf, ctx) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        ctx->vars = plcf->vars;
    }

    u->conf = &plcf->upstream;
    sl_str_set(&u->schema, "http://");

    u->create_request = sl_http_proxy_create_request;
    u->reinit_request = sl_http_proxy_reinit_request;
    u->process_header = sl_http_proxy_process_header;
    u->input_filter_init = sl_http_proxy_input_filter_init;
    u->input_filter = sl_http_proxy_length_filter;
    u->input_filter_ctx = r;
    u->rewrite_redirect = plcf->redirects ? sl_http_proxy_rewrite_redirect : NULL;

    if (!plcf->upstream.pass_request_body) {
        rc = sl_http_discard_request_body(r);
        if (rc != SL_OK) {
            return rc;
        }

    } else if (sl_http_upstream_has_body(r)) {
        chunked = r->headers_in.chunked;

        /* an HTTP/1.0 upstream cannot take chunks: read the body first */
        if (plcf->upstream.request_buffering
            || (chunked && plcf->http_version < SL_HTTP_VERSION_11)) {
            rc = sl_http_read_client_request_body(r, sl_http_upstream_init);

            if (rc >= SL_HTTP_SPECIAL_RESPONSE || rc == SL_ERROR) {
                return rc;
            }

            return SL_DONE;
        }

        if (sl_http_upstream_init_request_body(r, u, chunked) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    r->main->count++;

    sl_http_upstream_init(r);

    return SL_DONE;
}


/* The request line's target under nginx's rules; dst NULL measures. */
static size_t
sl_http_proxy_uri(sl_http_request_t *r, sl_http_proxy_loc_conf_t *plcf, sl_http_proxy_ctx_t *ctx,
                  u_char *dst)
{
    u_char *p;
    size_t loc_len, escape;

    if (plcf->url_cv != NULL && ctx->vars.uri.len) {
        /* a computed URL with a URI part is used as it is */
        if (dst) {
            sl_memcpy(dst, ctx->vars.uri.data, ctx->vars.uri.len);
        }
        return ctx->vars.uri.len;
    }

    if (ctx->vars.uri.len == 0 && r->valid_unparsed_uri) {
        if (dst) {
            sl_memcpy(dst, r->unparsed_uri.data, r->unparsed_uri.len);
        }
        return r->unparsed_uri.len;
    }

    loc_len = (r->valid_location && ctx->vars.uri.len) ? plcf->location.len : 0;

    if (loc_len > r->uri.len) {
        loc_len = r->uri.len;
    }

    escape = 2 * sl_escape_uri(NULL, r->uri.data + loc_len, r->uri.len - loc_len, SL_ESCAPE_URI);

    if (dst == NULL) {
        return (r->valid_location ? ctx->vars.uri.len : 0) + r->uri.len - loc_len + escape
               + (r->args.len ? 1 + r->args.len : 0);
    }

    p = dst;

    if (r->valid_location) {
        p = sl_cpymem(p, ctx->vars.uri.data, ctx->vars.uri.len);
    }

    if (escape) {
        p = (u_char *) sl_escape_uri(p, r->uri.data + loc_len, r->uri.len - loc_len, SL_ESCAPE_URI);

    } else {
        p = sl_cpymem(p, r->uri.data + loc_len, r->uri.len - loc_len);
    }

    if (r->args.len) {
        *p++ = '?';
        p = sl_cpymem(p, r->args.data, r->args.len);
    }

    return p - dst;
}


/* Whether the client's field h is one it sends for its own connection only. */
static sl_uint_t
sl_http_proxy_skip_header(sl_http_request_t *r, sl_http_proxy_loc_conf_t *plcf, sl_table_elt_t *h)
{
    u_char *p, *last, *start;
    sl_table_elt_t *ch;

    if (sl_hash_find(&plcf->headers_hash, h->hash, h->lowcase_key, h->key.len)) {
        return 1;
    }

    for (ch = r->headers_in.connection; ch; ch = ch->next) {
        p = ch->value.data;
        last = p + ch->value.len;

        while (p < last) {
            while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
                p++;
            }

            start = p;

            while (p < last && *p != ',' && *p != ' ' && *p != '\t') {
                p++;
            }

            if ((size_t) (p - start) == h->key.len
                && sl_strncasecmp(start, h->lowcase_key, h->key.len) == 0) {
                return 1;
            }
        }
    }

    return 0;
}


static sl_int_t
sl_http_proxy_create_request(sl_http_request_t *r)
{
    u_char *p;
    size_t len, uri_len;
    off_t body_len;
    sl_buf_t *b, *bb;
    sl_str_t *values;
    sl_uint_t i, n;
    sl_chain_t *cl, **ll, *in;
    sl_list_part_t *part;
    sl_table_elt_t *h;
    sl_http_upstream_t *u;
    sl_http_proxy_ctx_t *ctx;
    sl_http_proxy_header_t *ph;
    sl_http_proxy_loc_conf_t *plcf;

    u = r->upstream;
    plcf = sl_http_get_module_loc_conf(r, sl_http_proxy_module);
    ctx = sl_http_get_module_ctx(r, sl_http_proxy_module);

    uri_len = sl_http_proxy_uri(r, plcf, ctx, NULL);

    len = r->method_name.len + 1 + uri_len + sizeof(" HTTP/1.x" CRLF) - 1;

    /* the configured fields, evaluated once */
    n = plcf->headers->nelts;
    ph = plcf->headers->elts;

    values = sl_palloc(r->pool, (n ? n : 1) * sizeof(sl_str_t));
    if (values == NULL) {
        return SL_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (sl_http_complex_value(r, &ph[i].value, &values[i]) != SL_OK) {
            return SL_ERROR;
        }

        if (values[i].len) {
            len += ph[i].key.len + sizeof(": ") - 1 + values[i].len + sizeof(CRLF) - 1;
        }
    }

    /* the body's framing is ours */
    body_len = -1;

    if (u->conf->pass_request_body) {
        if (u->body_out != NULL) {
            body_len = u->body_out->chunked_out ? -2 : r->headers_in.content_length_n;

        } else if (r->request_body != NULL && r->request_body->bufs != NULL) {
            body_len = sl_chain_size(r->request_body->bufs);

        } else if (r->headers_in.content_length_n >= 0) {
            body_len = 0;
        }
    }

    if (body_len == -2) {
        len += sizeof("Transfer-Encoding: chunked" CRLF) - 1;

    } else if (body_len >= 0) {
        len += sizeof("Content-Length: " CRLF) - 1 + SL_OFF_T_LEN;
    }

    if (u->conf->pass_request_headers) {
        part = &r->headers_in.headers.part;
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

            if (sl_http_proxy_skip_header(r, plcf, &h[i])) {
                continue;
            }

            len += h[i].key.len + sizeof(": ") - 1 + h[i].value.len + sizeof(CRLF) - 1;
        }
    }

    len += sizeof(CRLF) - 1;

    b = sl_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return SL_ERROR;
    }

    p = sl_cpymem(b->last, r->method_name.data, r->method_name.len);
    *p++ = ' ';

    /* the target sent, for the "upstream:" part of error log lines */
    u->uri.data = p;
    u->uri.len = sl_http_proxy_uri(r, plcf, ctx, p);
    p += u->uri.len;

    if (plcf->http_version == SL_HTTP_VERSION_11) {
        p = sl_cpymem(p, " HTTP/1.1" CRLF, sizeof(" HTTP/1.1" CRLF) - 1);

    } else {
        p = sl_cpymem(p, " HTTP/1.0" CRLF, sizeof(" HTTP/1.0" CRLF) - 1);
    }

    for (i = 0; i < n; i++) {
        if (values[i].len == 0) {
            continue;
        }

        p = sl_cpymem(p, ph[i].key.data, ph[i].key.len);
        *p++ = ':';
        *p++ = ' ';
        p = sl_cpymem(p, values[i].data, values[i].len);
        *p++ = CR;
        *p++ = LF;
    }

    if (body_len == -2) {
        p = sl_cpymem(p, "Transfer-Encoding: chunked" CRLF,
                      sizeof("Transfer-Encoding: chunked" CRLF) - 1);

    } else if (body_len >= 0) {
        p = sl_sprintf(p, "Content-Length: %O" CRLF, body_len);
    }

    if (u->conf->pass_request_headers) {
        part = &r->headers_in.headers.part;
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

            if (sl_http_proxy_skip_header(r, plcf, &h[i])) {
                continue;
            }

            p = sl_cpymem(p, h[i].key.data, h[i].key.len);
            *p++ = ':';
            *p++ = ' ';
            p = sl_cpymem(p, h[i].value.data, h[i].value.len);
            *p++ = CR;
            *p++ = LF;
        }
    }

    *p++ = CR;
    *p++ = LF;
    b->last = p;
    b->flush = 1;

    cl = sl_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return SL_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    u->request_bufs = cl;
    ll = &cl->next;

    /* a read body goes after it; copies of its buffers, so a retry sends it again */
    if (u->conf->pass_request_body && u->body_out == NULL && r->request_body != NULL) {
        for (in = r->request_body->bufs; in; in = in->next) {
            bb = sl_calloc_buf(r->pool);
            cl = sl_alloc_chain_link(r->pool);
            if (bb == NULL || cl == NULL) {
                return SL_ERROR;
            }

            *bb = *in->buf;
            bb->last_buf = 0;
            cl->buf = bb;
            cl->next = NULL;
            *ll = cl;
            ll = &cl->next;
        }
    }

    return SL_OK;
}


static sl_int_t
sl_http_proxy_reinit_request(sl_http_request_t *r)
{
    sl_http_proxy_ctx_t *ctx;
    sl_http_upstream_t *u;

    ctx = sl_http_get_module_ctx(r, sl_http_proxy_module);
    u = r->upstream;

    sl_memzero(&ctx->parse, sizeof(sl_http_parse_t));
    sl_memzero(&ctx->chunked, sizeof(sl_http_chunked_t));
    ctx->status_done = 0;
    ctx->interim = 0;
    u->input_filter = sl_http_proxy_length_filter;

    return SL_OK;
}


/* Variables ------------------------------------------------------------------------------- */

static sl_int_t
sl_http_proxy_variable(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_str_t *s;
    sl_http_proxy_ctx_t *ctx;

    ctx = sl_http_get_module_ctx(r, sl_http_proxy_module);

    v->valid = 1;
    v->no_cacheable = 0;

    if (ctx == NULL) {
        v->not_found = 1;
        return SL_OK;
    }

    s = (sl_str_t *) ((u_char *) &ctx->vars + data);

    v->not_found = 0;
    v->len = s->len;
    v->data = s->data;

    return SL_OK;
}


static sl_int_t
sl_http_proxy_add_x_forwarded_for_variable(sl_http_request_t *r, sl_http_variable_value_t *v,
                                           uintptr_t data)
{
    u_char *p, addr[SL_SOCKADDR_STRLEN];
    size_t len, alen;
    sl_table_elt_t *h;

    sl_unused(data);

    alen = sl_sock_ntop(&r->connection->sockaddr.sa, r->connection->socklen, addr, sizeof(addr), 0);

    len = 0;

    for (h = r->headers_in.x_forwarded_for; h; h = h->next) {
        len += h->value.len + 2;
    }

    p = sl_pnalloc(r->pool, len + alen);
    if (p == NULL) {
        return SL_ERROR;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = p;

    for (h = r->headers_in.x_forwarded_for; h; h = h->next) {
        p = sl_cpymem(p, h->value.data, h->value.len);
        *p++ = ',';
        *p++ = ' ';
    }

    p = sl_cpymem(p, addr, alen);
    v->len = p - v->data;

    return SL_OK;
}


static sl_http_variable_t sl_http_proxy_vars[] = {
    { sl_string("proxy_host"), NULL, sl_http_proxy_variable,
      offsetof(sl_http_proxy_vars_t, host_header), SL_HTTP_VAR_NOCACHEABLE | SL_HTTP_VAR_NOHASH,
      0 },
    { sl_string("proxy_port"), NULL, sl_http_proxy_variable, offsetof(sl_http_proxy_vars_t, port),
      SL_HTTP_VAR_NOCACHEABLE | SL_HTTP_VAR_NOHASH, 0 },
    { sl_string("proxy_add_x_forwarded_for"), NULL, sl_http_proxy_add_x_forwarded_for_variable, 0,
      SL_HTTP_VAR_NOHASH, 0 },
    sl_http_null_variable,
};


static sl_int_t
sl_http_proxy_add_variables(sl_conf_t *cf)
{
    return sl_http_add_variables(cf, sl_http_proxy_vars);
}


/* Configuration ---------------------------------------------------------------------------- */

static void *
sl_http_proxy_create_loc_conf(sl_conf_t *cf)
{
    sl_http_proxy_loc_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_proxy_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->upstream.connect_timeout = SL_CONF_UNSET_MSEC;
    conf->upstream.send_timeout = SL_CONF_UNSET_MSEC;
    conf->upstream.read_timeout = SL_CONF_UNSET_MSEC;
    conf->upstream.next_upstream_timeout = SL_CONF_UNSET_MSEC;
    conf->upstream.buffer_size = SL_CONF_UNSET_SIZE;
    conf->busy_buffers_size_conf = SL_CONF_UNSET_SIZE;
    conf->upstream.max_temp_file_size = SL_CONF_UNSET_SIZE;
    conf->upstream.next_upstream_tries = SL_CONF_UNSET_UINT;
    conf->upstream.buffering = SL_CONF_UNSET;
    conf->upstream.request_buffering = SL_CONF_UNSET;
    conf->upstream.pass_request_headers = SL_CONF_UNSET;
    conf->upstream.pass_request_body = SL_CONF_UNSET;
    conf->upstream.ignore_client_abort = SL_CONF_UNSET;
    conf->upstream.intercept_errors = SL_CONF_UNSET;
    conf->upstream.hide_headers = SL_CONF_UNSET_PTR;
    conf->upstream.pass_headers = SL_CONF_UNSET_PTR;
    sl_str_set(&conf->upstream.module, "proxy");

    conf->headers_source = NULL;
    conf->redirect = SL_CONF_UNSET;
    conf->http_version = SL_CONF_UNSET_UINT;

    return conf;
}


/* The request fields: Host and Connection by default, then proxy_set_header's. */
static sl_int_t
sl_http_proxy_init_headers(sl_conf_t *cf, sl_http_proxy_loc_conf_t *conf)
{
    static sl_keyval_t defaults[] = {
        { sl_string("Host"), sl_string("$proxy_host") },
        { sl_string("Connection"), sl_string("close") },
    };

    sl_str_t *name;
    sl_uint_t i, j, ns;
    sl_array_t keys;
    sl_keyval_t *src, *kv;
    sl_hash_key_t *hk;
    sl_hash_init_t hash;
    sl_http_proxy_header_t *ph;
    sl_http_compile_complex_value_t ccv;

    conf->headers = sl_array_create(cf->pool, 8, sizeof(sl_http_proxy_header_t));
    if (conf->headers == NULL) {
        return SL_ERROR;
    }

    if (sl_array_init(&keys, cf->temp_pool, 16, sizeof(sl_hash_key_t)) != SL_OK) {
        return SL_ERROR;
    }

    src = conf->headers_source ? conf->headers_source->elts : NULL;
    ns = conf->headers_source ? conf->headers_source->nelts : 0;

    for (i = 0; i < sl_nelts(defaults) + ns; i++) {
        kv = i < sl_nelts(defaults) ? &defaults[i] : &src[i - sl_nelts(defaults)];

        if (i < sl_nelts(defaults)) {
            /* a proxy_set_header of the same name replaces the default */
            for (j = 0; j < ns; j++) {
                if (sl_str_caseeq(&src[j].key, &kv->key)) {
                    break;
                }
            }

            if (j < ns) {
                continue;
            }
        }

        ph = sl_array_push(conf->headers);
        if (ph == NULL) {
            return SL_ERROR;
        }

        ph->key = kv->key;
        ph->lowcase.len = kv->key.len;
        ph->lowcase.data = sl_pnalloc(cf->pool, kv->key.len);
        if (ph->lowcase.data == NULL) {
            return SL_ERROR;
        }

        sl_strlow(ph->lowcase.data, kv->key.data, kv->key.len);

        sl_memzero(&ph->value, sizeof(sl_http_complex_value_t));
        sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &kv->value;
        ccv.complex_value = &ph->value;

        if (sl_http_compile_complex_value(&ccv) != SL_OK) {
            return SL_ERROR;
        }

        hk = sl_array_push(&keys);
        if (hk == NULL) {
            return SL_ERROR;
        }

        hk->key = ph->lowcase;
        hk->key_hash = sl_hash_key(ph->lowcase.data, ph->lowcase.len);
        hk->value = (void *) 1;
    }

    for (name = sl_http_proxy_internal_headers; name->len; name++) {
        hk = keys.elts;

        for (j = 0; j < keys.nelts; j++) {
            if (sl_str_eq(&hk[j].key, name)) {
                break;
            }
        }

        if (j < keys.nelts) {
            continue;
        }

        hk = sl_array_push(&keys);
        if (hk == NULL) {
            return SL_ERROR;
        }

        hk->key = *name;
        hk->key_hash = sl_hash_key(name->data, name->len);
        hk->value = (void *) 1;
    }

    hash.hash = &conf->headers_hash;
    hash.pool = cf->pool;
    hash.temp_pool = NULL;
    hash.max_size = 512;
    hash.bucket_size = 64;
    hash.name = "proxy_headers_hash";

    return sl_hash_init(&hash, keys.elts, keys.nelts);
}


static char *
sl_http_proxy_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_proxy_loc_conf_t *prev = parent;
    sl_http_proxy_loc_conf_t *conf = child;

    size_t size;
    sl_http_proxy_redirect_t *pr;
    sl_http_core_loc_conf_t *clcf;

    sl_conf_merge_msec_value(conf->upstream.connect_timeout, prev->upstream.connect_timeout, 60000);
    sl_conf_merge_msec_value(conf->upstream.send_timeout, prev->upstream.send_timeout, 60000);
    sl_conf_merge_msec_value(conf->upstream.read_timeout, prev->upstream.read_timeout, 60000);
    sl_conf_merge_msec_value(conf->upstream.next_upstream_timeout,
                             prev->upstream.next_upstream_timeout, 0);
    sl_conf_merge_uint_value(conf->upstream.next_upstream_tries, prev->upstream.next_upstream_tries,
                             0);
    sl_conf_merge_value(conf->upstream.buffering, prev->upstream.buffering, 1);
    sl_conf_merge_value(conf->upstream.request_buffering, prev->upstream.request_buffering, 1);
    sl_conf_merge_value(conf->upstream.pass_request_headers, prev->upstream.pass_request_headers,
                        1);
    sl_conf_merge_value(conf->upstream.pass_request_body, prev->upstream.pass_request_body, 1);
    sl_conf_merge_value(conf->upstream.ignore_client_abort, prev->upstream.ignore_client_abort, 0);
    sl_conf_merge_value(conf->upstream.intercept_errors, prev->upstream.intercept_errors, 0);
    sl_conf_merge_uint_value(conf->http_version, prev->http_version, SL_HTTP_VERSION_10);

    sl_conf_merge_size_value(conf->upstream.buffer_size, prev->upstream.buffer_size, 4096);

    if (conf->upstream.bufs.num == 0) {
        conf->upstream.bufs =
            prev->upstream.bufs.num ? prev->upstream.bufs : (sl_bufs_t){ 8, 4096 };
    }

    if (conf->upstream.bufs.num < 2) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "there must be at least 2 \"proxy_buffers\"");
        return SL_CONF_ERROR;
    }

    size = sl_max(conf->upstream.buffer_size, conf->upstream.bufs.size);

    sl_conf_merge_size_value(conf->busy_buffers_size_conf, prev->busy_buffers_size_conf,
                             SL_CONF_UNSET_SIZE);

    conf->upstream.busy_buffers_size = conf->busy_buffers_size_conf == SL_CONF_UNSET_SIZE
                                           ? 2 * size
                                           : conf->busy_buffers_size_conf;

    if (conf->upstream.busy_buffers_size < size) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"proxy_busy_buffers_size\" must be equal to or greater than the "
                          "maximum of the value of \"proxy_buffer_size\" and one of the "
                          "\"proxy_buffers\"");
        return SL_CONF_ERROR;
    }

    if (conf->upstream.busy_buffers_size
        > (size_t) (conf->upstream.bufs.num - 1) * conf->upstream.bufs.size) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"proxy_busy_buffers_size\" must be less than the size of all "
                          "\"proxy_buffers\" minus one buffer");
        return SL_CONF_ERROR;
    }

    sl_conf_merge_size_value(conf->upstream.max_temp_file_size, prev->upstream.max_temp_file_size,
                             1024 * 1024 * 1024);

    if (conf->upstream.max_temp_file_size != 0 && conf->upstream.max_temp_file_size < size) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "\"proxy_max_temp_file_size\" must be equal to zero to disable "
                          "temporary files usage or must be equal to or greater than the "
                          "maximum of the value of \"proxy_buffer_size\" and one of the "
                          "\"proxy_buffers\"");
        return SL_CONF_ERROR;
    }

    if (conf->upstream.temp_path.data == NULL) {
        conf->upstream.temp_path = prev->upstream.temp_path;
    }

    if (conf->upstream.next_upstream == 0) {
        conf->upstream.next_upstream =
            prev->upstream.next_upstream
                ? prev->upstream.next_upstream
                : (SL_HTTP_UPSTREAM_FT_ERROR | SL_HTTP_UPSTREAM_FT_TIMEOUT);
    }

    if (conf->upstream.next_upstream & SL_HTTP_UPSTREAM_FT_OFF) {
        conf->upstream.next_upstream = SL_HTTP_UPSTREAM_FT_OFF;
    }

    if (sl_http_upstream_hide_headers_hash(cf, &conf->upstream, &prev->upstream,
                                           sl_http_proxy_hide_headers)
        != SL_OK) {
        return SL_CONF_ERROR;
    }

    clcf = sl_http_conf_get_module_loc_conf(cf, sl_http_core_module);

    if (clcf->noname && conf->upstream.upstream == NULL && conf->url_cv == NULL) {
        /* an "if" block without its own proxy_pass proxies as its location does */
        conf->upstream.upstream = prev->upstream.upstream;
        conf->url_cv = prev->url_cv;
        conf->vars = prev->vars;
        conf->url = prev->url;
        conf->location = prev->location;
    }

    if (conf->headers_source == NULL) {
        conf->headers_source = prev->headers_source;
        conf->headers = prev->headers;
        conf->headers_hash = prev->headers_hash;
    }

    if (conf->headers == NULL && sl_http_proxy_init_headers(cf, conf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    /* proxy_redirect: explicit rules, off, or the default for a static proxy_pass */
    if (conf->redirect == SL_CONF_UNSET) {
        conf->redirect = prev->redirect == SL_CONF_UNSET ? 1 : prev->redirect;
        if (conf->redirects == NULL) {
            conf->redirects = prev->redirects;
        }
    }

    if (conf->redirect == 1 && conf->redirects == NULL && conf->url.data != NULL
        && conf->url_cv == NULL) {
        conf->redirects = sl_array_create(cf->pool, 1, sizeof(sl_http_proxy_redirect_t));
        if (conf->redirects == NULL) {
            return SL_CONF_ERROR;
        }

        pr = sl_array_push(conf->redirects);
        if (pr == NULL) {
            return SL_CONF_ERROR;
        }

        sl_memzero(pr, sizeof(sl_http_proxy_redirect_t));

        if (conf->vars.uri.len) {
            pr->from.value = conf->url;
            pr->to.value = conf->location;

        } else {
            pr->from.value.len = conf->url.len + 1;
            pr->from.value.data = sl_pnalloc(cf->pool, pr->from.value.len);
            if (pr->from.value.data == NULL) {
                return SL_CONF_ERROR;
            }

            sl_memcpy(pr->from.value.data, conf->url.data, conf->url.len);
            pr->from.value.data[conf->url.len] = '/';
            sl_str_set(&pr->to.value, "/");
        }
    }

    return SL_CONF_OK;
}


static char *
sl_http_proxy_redirect(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_proxy_loc_conf_t *plcf = conf;

    sl_str_t *value;
    sl_http_proxy_redirect_t *pr;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    value = cf->args->elts;

    if (plcf->redirect == 0) {
        return "is duplicate";
    }

    if (cf->args->nelts == 2) {
        if (sl_str_eq_lit(&value[1], "off")) {
            if (plcf->redirects != NULL) {
                return "is duplicate";
            }
            plcf->redirect = 0;
            return SL_CONF_OK;
        }

        if (!sl_str_eq_lit(&value[1], "default")) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[1]);
            return SL_CONF_ERROR;
        }
    }

    plcf->redirect = 1;

    if (plcf->redirects == NULL) {
        plcf->redirects = sl_array_create(cf->pool, 2, sizeof(sl_http_proxy_redirect_t));
        if (plcf->redirects == NULL) {
            return SL_CONF_ERROR;
        }
    }

    pr = sl_array_push(plcf->redirects);
    if (pr == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(pr, sizeof(sl_http_proxy_redirect_t));

    if (cf->args->nelts == 2) {
        /* "default": the proxy_pass URL becomes the location */
        if (plcf->url_cv != NULL) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "\"proxy_redirect default\" cannot be used with \"proxy_pass\" "
                              "directive with variables");
            return SL_CONF_ERROR;
        }

        if (plcf->url.data == NULL) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "\"proxy_redirect default\" should be placed after the "
                              "\"proxy_pass\" directive");
            return SL_CONF_ERROR;
        }

        if (plcf->vars.uri.len) {
            pr->from.value = plcf->url;
            pr->to.value = plcf->location;

        } else {
            pr->from.value.len = plcf->url.len + 1;
            pr->from.value.data = sl_pnalloc(cf->pool, pr->from.value.len);
            if (pr->from.value.data == NULL) {
                return SL_CONF_ERROR;
            }
            sl_memcpy(pr->from.value.data, plcf->url.data, plcf->url.len);
            pr->from.value.data[plcf->url.len] = '/';
            sl_str_set(&pr->to.value, "/");
        }

        return SL_CONF_OK;
    }

    if (value[1].len && (value[1].data[0] == '~')) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "regular expressions in \"proxy_redirect\" are not supported: \"%V\"",
                          &value[1]);
        return SL_CONF_ERROR;
    }

    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &pr->from;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return SL_CONF_ERROR;
    }

    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &pr->to;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}


static char *
sl_http_proxy_buffers(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_proxy_loc_conf_t *plcf = conf;

    sl_str_t *value;
    sl_int_t num;
    ssize_t size;

    sl_unused(cmd);

    if (plcf->upstream.bufs.num != 0) {
        return "is duplicate";
    }

    value = cf->args->elts;

    num = sl_atoi(value[1].data, value[1].len);
    if (num == SL_ERROR || num == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }

    size = sl_parse_size(&value[2]);
    if (size == SL_ERROR || size == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[2]);
        return SL_CONF_ERROR;
    }

    plcf->upstream.bufs.num = num;
    plcf->upstream.bufs.size = (size_t) size;

    return SL_CONF_OK;
}


static char *
sl_http_proxy_temp_path(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_proxy_loc_conf_t *plcf = conf;

    sl_str_t *value;

    sl_unused(cmd);

    if (plcf->upstream.temp_path.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    plcf->upstream.temp_path = value[1];

    if (sl_conf_full_name(cf->cycle, &plcf->upstream.temp_path, 0) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}
