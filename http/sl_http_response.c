/*
 * sl_http_response.c: what a handler calls to answer: send the header, push
 * the body through the filters, send a whole small response, and the
 * helpers that shape headers_out (added and cleared headers, ETag, the
 * content type from the extension) or map the URI to a file name.
 */
#include "sl_core.h"
#include "sl_http.h"

sl_int_t
sl_http_send_header(sl_http_request_t *r)
{
    if (r->header_sent) {
        sl_log_error(SL_LOG_ALERT, r->connection->log, 0, "header already sent");
        return SL_ERROR;
    }

    /* an error page served by another location keeps the original error's status */
    if (r->err_status) {
        r->headers_out.status = r->err_status;
        r->headers_out.status_line.len = 0;
    }

    return sl_http_top_header_filter(r);
}

sl_int_t
sl_http_output_filter(sl_http_request_t *r, sl_chain_t *in)
{
    sl_int_t rc;
    sl_connection_t *c;

    c = r->connection;

    if (c->error) {
        return SL_ERROR;
    }

    rc = sl_http_top_body_filter(r, in);

    if (rc == SL_ERROR) {
        /* any filter may fail; the connection cannot carry this response any further */
        c->error = 1;
    }

    return rc;
}

static sl_uint_t
sl_http_is_redirect(sl_uint_t status)
{
    return status == SL_HTTP_MOVED_PERMANENTLY || status == SL_HTTP_MOVED_TEMPORARILY
           || status == SL_HTTP_SEE_OTHER || status == SL_HTTP_TEMPORARY_REDIRECT
           || status == SL_HTTP_PERMANENT_REDIRECT;
}

/* Replaces the shortcut *slot with h, removing the element it pointed to. */
static void
sl_http_replace_header(sl_table_elt_t **slot, sl_table_elt_t *h)
{
    if (*slot && *slot != h) {
        (*slot)->hash = 0;
    }
    *slot = h;
}

sl_int_t
sl_http_send_response(sl_http_request_t *r, sl_uint_t status, sl_str_t *content_type,
                      sl_http_complex_value_t *cv)
{
    sl_int_t rc;
    sl_str_t val;
    sl_buf_t *b;
    sl_chain_t out;
    sl_table_elt_t *location;

    rc = sl_http_discard_request_body(r);
    if (rc != SL_OK) {
        return rc;
    }

    r->headers_out.status = status;

    if (sl_http_complex_value(r, cv, &val) != SL_OK) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (sl_http_is_redirect(status)) {
        /* the special response writes the page; the header filter makes the URI absolute */
        location = sl_list_push(&r->headers_out.headers);
        if (location == NULL) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
        location->hash = 1;
        location->next = NULL;
        location->lowcase_key = NULL;
        sl_str_set(&location->key, "Location");
        location->value = val;
        sl_http_replace_header(&r->headers_out.location, location);
        return status;
    }

    r->headers_out.content_length_n = val.len;
    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    if (content_type) {
        r->headers_out.content_type = *content_type;
    } else if (sl_http_set_content_type(r) != SL_OK) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    sl_http_clear_last_modified(r);

    rc = sl_http_send_header(r);

    if (rc == SL_ERROR || rc > SL_OK || r->header_only) {
        return rc;
    }

    b = sl_calloc_buf(r->pool);
    if (b == NULL) {
        return SL_ERROR;
    }

    b->pos = val.data;
    b->last = val.data + val.len;
    b->fd = SL_INVALID_FILE;
    b->memory = val.len ? 1 : 0;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return sl_http_output_filter(r, &out);
}

sl_table_elt_t *
sl_http_add_response_header(sl_http_request_t *r, const char *name, sl_str_t *value)
{
    sl_table_elt_t *h;
    sl_http_headers_out_t *ho;

    h = sl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.len = sl_strlen(name);
    h->key.data = (u_char *) name;
    h->value = *value;
    h->lowcase_key = NULL;
    h->next = NULL;

    /* the headers the header filter would otherwise write itself */
    ho = &r->headers_out;

    if (sl_str_caseeq_lit(&h->key, "Location")) {
        sl_http_replace_header(&ho->location, h);
    } else if (sl_str_caseeq_lit(&h->key, "Server")) {
        sl_http_replace_header(&ho->server, h);
    } else if (sl_str_caseeq_lit(&h->key, "Date")) {
        sl_http_replace_header(&ho->date, h);
    } else if (sl_str_caseeq_lit(&h->key, "Content-Length")) {
        sl_http_replace_header(&ho->content_length, h);
        ho->content_length_n = sl_http_parse_content_length(value->data, value->len);
    } else if (sl_str_caseeq_lit(&h->key, "Last-Modified")) {
        sl_http_replace_header(&ho->last_modified, h);
        ho->last_modified_time = sl_parse_http_time(value->data, value->len);
    } else if (sl_str_caseeq_lit(&h->key, "ETag")) {
        sl_http_replace_header(&ho->etag, h);
    } else if (sl_str_caseeq_lit(&h->key, "Accept-Ranges")) {
        sl_http_replace_header(&ho->accept_ranges, h);
    } else if (sl_str_caseeq_lit(&h->key, "Content-Encoding")) {
        sl_http_replace_header(&ho->content_encoding, h);
    } else if (sl_str_caseeq_lit(&h->key, "Content-Range")) {
        sl_http_replace_header(&ho->content_range, h);
    }

    return h;
}

void
sl_http_clear_content_length(sl_http_request_t *r)
{
    r->headers_out.content_length_n = -1;
    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }
}

void
sl_http_clear_last_modified(sl_http_request_t *r)
{
    r->headers_out.last_modified_time = -1;
    if (r->headers_out.last_modified) {
        r->headers_out.last_modified->hash = 0;
        r->headers_out.last_modified = NULL;
    }
}

void
sl_http_clear_etag(sl_http_request_t *r)
{
    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
        r->headers_out.etag = NULL;
    }
}

void
sl_http_clear_accept_ranges(sl_http_request_t *r)
{
    r->allow_ranges = 0;
    if (r->headers_out.accept_ranges) {
        r->headers_out.accept_ranges->hash = 0;
        r->headers_out.accept_ranges = NULL;
    }
}

sl_int_t
sl_http_set_etag(sl_http_request_t *r, time_t mtime, off_t size)
{
    sl_table_elt_t *etag;
    sl_http_core_loc_conf_t *clcf;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (!clcf->etag) {
        return SL_OK;
    }

    sl_http_clear_etag(r);

    etag = sl_list_push(&r->headers_out.headers);
    if (etag == NULL) {
        return SL_ERROR;
    }

    etag->value.data = sl_pnalloc(r->pool, SL_OFF_T_LEN + SL_INT_T_LEN + 3);
    if (etag->value.data == NULL) {
        etag->hash = 0;
        return SL_ERROR;
    }

    etag->hash = 1;
    etag->next = NULL;
    etag->lowcase_key = NULL;
    sl_str_set(&etag->key, "ETag");
    etag->value.len = sl_sprintf(etag->value.data, "\"%xT-%xO\"", mtime, size) - etag->value.data;

    r->headers_out.etag = etag;

    return SL_OK;
}

sl_int_t
sl_http_set_content_type(sl_http_request_t *r)
{
    u_char c, *exten;
    size_t i;
    sl_str_t *type;
    sl_uint_t hash;
    sl_http_core_loc_conf_t *clcf;

    if (r->headers_out.content_type.len) {
        return SL_OK;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (r->exten.len && clcf->types_hash.size) {
        hash = 0;

        for (i = 0; i < r->exten.len; i++) {
            c = r->exten.data[i];

            if (c >= 'A' && c <= 'Z') {
                /* the types are lowercase: look the extension up lowercased, once */
                exten = sl_pnalloc(r->pool, r->exten.len);
                if (exten == NULL) {
                    return SL_ERROR;
                }
                hash = sl_hash_strlow(exten, r->exten.data, r->exten.len);
                r->exten.data = exten;
                break;
            }

            hash = sl_hash(hash, c);
        }

        type = sl_hash_find(&clcf->types_hash, hash, r->exten.data, r->exten.len);

        if (type) {
            r->headers_out.content_type = *type;
            return SL_OK;
        }
    }

    r->headers_out.content_type = clcf->default_type;

    return SL_OK;
}

/* Makes a relative root (computed from variables) absolute under the prefix. */
static sl_int_t
sl_http_root_full_name(sl_http_request_t *r, sl_str_t *path, size_t reserved)
{
    u_char *p;
    sl_str_t prefix;

    if (path->len && path->data[0] == '/') {
        return SL_OK;
    }

    prefix = sl_cycle->prefix;

    p = sl_pnalloc(r->pool, prefix.len + path->len + reserved);
    if (p == NULL) {
        return SL_ERROR;
    }

    sl_memcpy(p, prefix.data, prefix.len);
    sl_memcpy(p + prefix.len, path->data, path->len);

    path->data = p;
    path->len += prefix.len;

    return SL_OK;
}

sl_int_t
sl_http_redirect_to_path(sl_http_request_t *r, sl_str_t *path, sl_uint_t slash)
{
    size_t len;
    uintptr_t escape;
    u_char *location, *p;
    sl_str_t value;
    sl_table_elt_t *h;

    escape = sl_escape_uri(NULL, path->data, path->len, SL_ESCAPE_URI);

    len = path->len + 2 * escape + (slash ? 1 : 0);
    if (r->args.len) {
        len += 1 + r->args.len;
    }

    location = sl_pnalloc(r->pool, len);
    if (location == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (escape) {
        p = (u_char *) sl_escape_uri(location, path->data, path->len, SL_ESCAPE_URI);

    } else {
        p = sl_cpymem(location, path->data, path->len);
    }

    if (slash) {
        *p++ = '/';
    }

    if (r->args.len) {
        *p++ = '?';
        p = sl_cpymem(p, r->args.data, r->args.len);
    }

    if (r->headers_out.location) {
        r->headers_out.location->hash = 0;
        r->headers_out.location = NULL;
    }

    value.len = p - location;
    value.data = location;

    h = sl_http_add_response_header(r, "Location", &value);
    if (h == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.location = h;

    return SL_HTTP_MOVED_PERMANENTLY;
}


sl_uint_t
sl_http_alias_climbs(sl_http_request_t *r)
{
    u_char *p, *last;
    sl_http_core_loc_conf_t *clcf;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (clcf->alias == 0 || clcf->alias >= r->uri.len) {
        return 0;
    }

    /* a literal alias not ending in '/' glues "/data" and "../x" into a name, "/data../x" */
    if (clcf->root_lengths == NULL
        && (clcf->root.len == 0 || clcf->root.data[clcf->root.len - 1] != '/')) {
        return 0;
    }

    p = r->uri.data + clcf->alias;
    last = r->uri.data + r->uri.len;

    return last - p >= 2 && p[0] == '.' && p[1] == '.' && (last - p == 2 || p[2] == '/');
}

u_char *
sl_http_map_uri_to_path(sl_http_request_t *r, sl_str_t *path, size_t *root_length, size_t reserved)
{
    u_char *last;
    size_t alias, rest;
    sl_http_core_loc_conf_t *clcf;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    alias = clcf->alias;

    if (alias && !r->valid_location) {
        sl_log_error(SL_LOG_ALERT, r->connection->log, 0,
                     "\"alias\" cannot be used in location \"%V\" where URI was rewritten",
                     &clcf->name);
        return NULL;
    }

    /* refused in the find-config phase; a rewritten URI never reaches here with an alias */
    if (sl_http_alias_climbs(r)) {
        sl_log_error(SL_LOG_ALERT, r->connection->log, 0,
                     "URI \"%V\" climbs out of the alias of location \"%V\"", &r->uri,
                     &clcf->name);
        return NULL;
    }

    /* a URI shorter than the location it matched (an exact "=" match) has nothing to add */
    if (alias > r->uri.len) {
        alias = r->uri.len;
    }
    rest = r->uri.len - alias;

    if (clcf->root_lengths == NULL) {
        *root_length = clcf->root.len;

        path->len = clcf->root.len + reserved + rest + 1;
        path->data = sl_pnalloc(r->pool, path->len);
        if (path->data == NULL) {
            return NULL;
        }

        last = sl_cpymem(path->data, clcf->root.data, clcf->root.len);

    } else {
        reserved += rest + 1;

        if (sl_http_script_run(r, path, clcf->root_lengths->elts, reserved, clcf->root_values->elts)
            == NULL) {
            return NULL;
        }

        if (sl_http_root_full_name(r, path, reserved) != SL_OK) {
            return NULL;
        }

        *root_length = path->len;
        last = path->data + path->len;
        path->len += reserved;
    }

    last = sl_cpymem(last, r->uri.data + alias, rest);
    *last = '\0';

    return last;
}
