/*
 * sl_http_headers_module.c: "add_header name value [always]". The headers
 * of a level replace (never extend) those of the levels around it, and
 * without "always" they go only on successful and redirect responses:
 * nginx's rules, which operators' configurations rely on.
 */
#include "sl_core.h"
#include "sl_http.h"

#define SL_HTTP_HEADER_ADD 0           /* one more header line */
#define SL_HTTP_HEADER_LAST_MODIFIED 1 /* replaces Last-Modified (and its time) */
#define SL_HTTP_HEADER_ETAG 2          /* replaces ETag */

typedef struct {
    sl_str_t key;
    sl_http_complex_value_t value;
    sl_uint_t kind;
    sl_uint_t always;
} sl_http_header_val_t;

typedef struct {
    sl_array_t *headers; /* sl_http_header_val_t; NULL: none at this level */
} sl_http_headers_conf_t;

static void *sl_http_headers_create_conf(sl_conf_t *cf);
static char *sl_http_headers_merge_conf(sl_conf_t *cf, void *parent, void *child);
static sl_int_t sl_http_headers_filter_init(sl_conf_t *cf);
static char *sl_http_headers_add(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_command_t sl_http_headers_commands[] = {
    { sl_string("add_header"),
      SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_HTTP_LIF_CONF | SL_CONF_TAKE23,
      sl_http_headers_add, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_headers_module_ctx = {
    NULL,                        /* preconfiguration */
    sl_http_headers_filter_init, /* postconfiguration */
    NULL,                        /* create main configuration */
    NULL,                        /* init main configuration */
    NULL,                        /* create server configuration */
    NULL,                        /* merge server configuration */
    sl_http_headers_create_conf, /* create location configuration */
    sl_http_headers_merge_conf   /* merge location configuration */
};

sl_module_t sl_http_headers_module = { SL_MODULE_V1,
                                       "sl_http_headers_module",
                                       SL_HTTP_MODULE,
                                       &sl_http_headers_module_ctx,
                                       sl_http_headers_commands,
                                       NULL,
                                       NULL,
                                       NULL,
                                       NULL };

static sl_http_output_header_filter_pt sl_http_headers_next_header_filter;

/* Sets (or with an empty value removes) the header a shortcut of headers_out points to. */
static sl_int_t
sl_http_headers_set(sl_http_request_t *r, sl_table_elt_t **old, sl_str_t *key, sl_str_t *value)
{
    sl_table_elt_t *h;

    if (value->len == 0) {
        if (*old) {
            (*old)->hash = 0;
            *old = NULL;
        }
        return SL_OK;
    }

    if (*old) {
        h = *old;
    } else {
        h = sl_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return SL_ERROR;
        }
        *old = h;
    }

    h->hash = 1;
    h->next = NULL;
    h->lowcase_key = NULL;
    h->key = *key;
    h->value = *value;

    return SL_OK;
}

static sl_int_t
sl_http_headers_filter(sl_http_request_t *r)
{
    sl_str_t value;
    sl_uint_t i, safe_status;
    sl_table_elt_t *h;
    sl_http_header_val_t *hv;
    sl_http_headers_conf_t *conf;

    conf = sl_http_get_module_loc_conf(r, sl_http_headers_module);

    if (conf->headers == NULL) {
        return sl_http_headers_next_header_filter(r);
    }

    switch (r->headers_out.status) {
    case SL_HTTP_OK:
    case SL_HTTP_CREATED:
    case SL_HTTP_NO_CONTENT:
    case SL_HTTP_PARTIAL_CONTENT:
    case SL_HTTP_MOVED_PERMANENTLY:
    case SL_HTTP_MOVED_TEMPORARILY:
    case SL_HTTP_SEE_OTHER:
    case SL_HTTP_NOT_MODIFIED:
    case SL_HTTP_TEMPORARY_REDIRECT:
    case SL_HTTP_PERMANENT_REDIRECT:
        safe_status = 1;
        break;
    default:
        safe_status = 0;
        break;
    }

    hv = conf->headers->elts;

    for (i = 0; i < conf->headers->nelts; i++) {
        if (!safe_status && !hv[i].always) {
            continue;
        }

        if (sl_http_complex_value(r, &hv[i].value, &value) != SL_OK) {
            return SL_ERROR;
        }

        switch (hv[i].kind) {
        case SL_HTTP_HEADER_LAST_MODIFIED:
            if (sl_http_headers_set(r, &r->headers_out.last_modified, &hv[i].key, &value)
                != SL_OK) {
                return SL_ERROR;
            }
            r->headers_out.last_modified_time =
                value.len ? sl_parse_http_time(value.data, value.len) : -1;
            break;

        case SL_HTTP_HEADER_ETAG:
            if (sl_http_headers_set(r, &r->headers_out.etag, &hv[i].key, &value) != SL_OK) {
                return SL_ERROR;
            }
            break;

        default:
            /* an empty value adds nothing, so a variable can switch a header off */
            if (value.len == 0) {
                break;
            }
            h = sl_list_push(&r->headers_out.headers);
            if (h == NULL) {
                return SL_ERROR;
            }
            h->hash = 1;
            h->next = NULL;
            h->lowcase_key = NULL;
            h->key = hv[i].key;
            h->value = value;
            break;
        }
    }

    return sl_http_headers_next_header_filter(r);
}

static void *
sl_http_headers_create_conf(sl_conf_t *cf)
{
    return sl_pcalloc(cf->pool, sizeof(sl_http_headers_conf_t));
}

static char *
sl_http_headers_merge_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_headers_conf_t *prev = parent;
    sl_http_headers_conf_t *conf = child;

    sl_unused(cf);

    /* a level with its own add_header lines inherits none of the outer ones */
    if (conf->headers == NULL) {
        conf->headers = prev->headers;
    }

    return SL_CONF_OK;
}

static char *
sl_http_headers_add(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_headers_conf_t *hcf = conf;
    sl_str_t *value;
    sl_http_header_val_t *hv;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    value = cf->args->elts;

    if (value[1].len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid header name \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }

    if (hcf->headers == NULL) {
        hcf->headers = sl_array_create(cf->pool, 1, sizeof(sl_http_header_val_t));
        if (hcf->headers == NULL) {
            return SL_CONF_ERROR;
        }
    }

    hv = sl_array_push(hcf->headers);
    if (hv == NULL) {
        return SL_CONF_ERROR;
    }

    hv->key = value[1];
    hv->always = 0;

    if (sl_str_caseeq_lit(&value[1], "Last-Modified")) {
        hv->kind = SL_HTTP_HEADER_LAST_MODIFIED;
    } else if (sl_str_caseeq_lit(&value[1], "ETag")) {
        hv->kind = SL_HTTP_HEADER_ETAG;
    } else {
        hv->kind = SL_HTTP_HEADER_ADD;
    }

    if (value[2].len == 0) {
        sl_memzero(&hv->value, sizeof(sl_http_complex_value_t));
    } else {
        sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = &hv->value;
        if (sl_http_compile_complex_value(&ccv) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    if (cf->args->nelts == 3) {
        return SL_CONF_OK;
    }

    if (!sl_str_eq_lit(&value[3], "always")) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[3]);
        return SL_CONF_ERROR;
    }

    hv->always = 1;

    return SL_CONF_OK;
}

static sl_int_t
sl_http_headers_filter_init(sl_conf_t *cf)
{
    sl_unused(cf);

    sl_http_headers_next_header_filter = sl_http_top_header_filter;
    sl_http_top_header_filter = sl_http_headers_filter;

    return SL_OK;
}
