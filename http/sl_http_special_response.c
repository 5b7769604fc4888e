/*
 * sl_http_special_response.c: the answer for a status a handler returns
 * instead of writing a response itself: an error_page (internal redirect,
 * named location or external redirect) when one matches, else the built-in
 * HTML page, with nginx's texts so that clients and monitoring that know
 * nginx's pages see the same bytes.
 */
#include "sl_core.h"
#include "sl_http.h"

static const char sl_http_error_full_tail[] =
    "<hr><center>" SLUICE_VER "</center>" CRLF "</body>" CRLF "</html>" CRLF;

static const char sl_http_error_tail[] =
    "<hr><center>sluice</center>" CRLF "</body>" CRLF "</html>" CRLF;

#define SL_HTTP_ERROR_PAGE(code, text) \
    "<html>" CRLF "<head><title>" code " " text "</title></head>" CRLF "<body>" CRLF \
    "<center><h1>" code " " text "</h1></center>" CRLF

static sl_str_t sl_http_error_pages_3xx[] = {
    sl_string(SL_HTTP_ERROR_PAGE("301", "Moved Permanently")),
    sl_string(SL_HTTP_ERROR_PAGE("302", "Found")),
    sl_string(SL_HTTP_ERROR_PAGE("303", "See Other")),
    sl_null_string, /* 304 */
    sl_null_string, /* 305 */
    sl_null_string, /* 306 */
    sl_string(SL_HTTP_ERROR_PAGE("307", "Temporary Redirect")),
    sl_string(SL_HTTP_ERROR_PAGE("308", "Permanent Redirect")),
};

static sl_str_t sl_http_error_pages_4xx[] = {
    sl_string(SL_HTTP_ERROR_PAGE("400", "Bad Request")),
    sl_string(SL_HTTP_ERROR_PAGE("401", "Authorization Required")),
    sl_string(SL_HTTP_ERROR_PAGE("402", "Payment Required")),
    sl_string(SL_HTTP_ERROR_PAGE("403", "Forbidden")),
    sl_string(SL_HTTP_ERROR_PAGE("404", "Not Found")),
    sl_string(SL_HTTP_ERROR_PAGE("405", "Not Allowed")),
    sl_string(SL_HTTP_ERROR_PAGE("406", "Not Acceptable")),
    sl_null_string, /* 407 */
    sl_string(SL_HTTP_ERROR_PAGE("408", "Request Time-out")),
    sl_string(SL_HTTP_ERROR_PAGE("409", "Conflict")),
    sl_string(SL_HTTP_ERROR_PAGE("410", "Gone")),
    sl_string(SL_HTTP_ERROR_PAGE("411", "Length Required")),
    sl_string(SL_HTTP_ERROR_PAGE("412", "Precondition Failed")),
    sl_string(SL_HTTP_ERROR_PAGE("413", "Request Entity Too Large")),
    sl_string(SL_HTTP_ERROR_PAGE("414", "Request-URI Too Large")),
    sl_string(SL_HTTP_ERROR_PAGE("415", "Unsupported Media Type")),
    sl_string(SL_HTTP_ERROR_PAGE("416", "Requested Range Not Satisfiable")),
    sl_null_string, /* 417 */
    sl_null_string, /* 418 */
    sl_null_string, /* 419 */
    sl_null_string, /* 420 */
    sl_string(SL_HTTP_ERROR_PAGE("421", "Misdirected Request")),
    sl_null_string, /* 422 */
    sl_null_string, /* 423 */
    sl_null_string, /* 424 */
    sl_null_string, /* 425 */
    sl_null_string, /* 426 */
    sl_null_string, /* 427 */
    sl_null_string, /* 428 */
    sl_string(SL_HTTP_ERROR_PAGE("429", "Too Many Requests")),
};

static sl_str_t sl_http_error_pages_5xx[] = {
    sl_string(SL_HTTP_ERROR_PAGE("500", "Internal Server Error")),
    sl_string(SL_HTTP_ERROR_PAGE("501", "Not Implemented")),
    sl_string(SL_HTTP_ERROR_PAGE("502", "Bad Gateway")),
    sl_string(SL_HTTP_ERROR_PAGE("503", "Service Temporarily Unavailable")),
    sl_string(SL_HTTP_ERROR_PAGE("504", "Gateway Time-out")),
    sl_string(SL_HTTP_ERROR_PAGE("505", "HTTP Version Not Supported")),
    sl_null_string, /* 506 */
    sl_string(SL_HTTP_ERROR_PAGE("507", "Insufficient Storage")),
};

/* nginx answers oversized headers (its 494) as a 400 with this page; so does 431 here. */
static sl_str_t sl_http_error_page_header_too_large = sl_string(
    "<html>" CRLF "<head><title>400 Request Header Or Cookie Too Large</title></head>" CRLF
    "<body>" CRLF "<center><h1>400 Bad Request</h1></center>" CRLF
    "<center>Request Header Or Cookie Too Large</center>" CRLF);

static sl_str_t sl_http_get_method = sl_string("GET");

/* The built-in page of a status, or NULL for an empty body. */
static sl_str_t *
sl_http_error_page_text(sl_uint_t status)
{
    sl_str_t *page;

    page = NULL;

    if (status == SL_HTTP_REQUEST_HEADER_TOO_LARGE) {
        return &sl_http_error_page_header_too_large;
    }

    if (status >= 301 && status < 301 + sl_nelts(sl_http_error_pages_3xx)) {
        page = &sl_http_error_pages_3xx[status - 301];
    } else if (status >= 400 && status < 400 + sl_nelts(sl_http_error_pages_4xx)) {
        page = &sl_http_error_pages_4xx[status - 400];
    } else if (status >= 500 && status < 500 + sl_nelts(sl_http_error_pages_5xx)) {
        page = &sl_http_error_pages_5xx[status - 500];
    }

    if (page == NULL || page->len == 0) {
        return NULL;
    }
    return page;
}

/* Whether the request announced a body that may still be (partly) on the wire. */
static sl_uint_t
sl_http_has_request_body(sl_http_request_t *r)
{
    return r->headers_in.content_length_n > 0 || r->headers_in.chunked;
}

/*
 * Before an answer that does not read the body: drop it so the connection
 * stays usable, or close it (lingering, so the response is not lost to a
 * reset) when that is not possible.
 */
static void
sl_http_special_discard_body(sl_http_request_t *r)
{
    r->expect_tested = 1;

    if (!sl_http_has_request_body(r)) {
        return;
    }

    if (sl_http_discard_request_body(r) != SL_OK) {
        r->keepalive = 0;
    }

    if (!r->keepalive) {
        r->lingering_close = 1;
    }
}

/* Writes the built-in response for page (NULL: empty body) with headers_out as set. */
static sl_int_t
sl_http_send_special_response(sl_http_request_t *r, sl_http_core_loc_conf_t *clcf, sl_str_t *page)
{
    size_t tail_len;
    const char *tail;
    sl_int_t rc;
    sl_buf_t *b, *t;
    sl_chain_t out[2];

    if (clcf->server_tokens) {
        tail = sl_http_error_full_tail;
        tail_len = sizeof(sl_http_error_full_tail) - 1;
    } else {
        tail = sl_http_error_tail;
        tail_len = sizeof(sl_http_error_tail) - 1;
    }

    if (page) {
        r->headers_out.content_length_n = page->len + tail_len;
        sl_str_set(&r->headers_out.content_type, "text/html");
    } else {
        r->headers_out.content_length_n = 0;
    }

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    sl_http_clear_accept_ranges(r);
    sl_http_clear_last_modified(r);
    sl_http_clear_etag(r);

    rc = sl_http_send_header(r);

    if (rc == SL_ERROR || r->header_only) {
        return rc;
    }

    b = sl_calloc_buf(r->pool);
    if (b == NULL) {
        return SL_ERROR;
    }
    b->fd = SL_INVALID_FILE;

    if (page == NULL) {
        /* no body: only the end of the response goes down the filters */
        b->last_buf = 1;
        out[0].buf = b;
        out[0].next = NULL;
        return sl_http_output_filter(r, &out[0]);
    }

    b->memory = 1;
    b->pos = page->data;
    b->last = page->data + page->len;

    t = sl_calloc_buf(r->pool);
    if (t == NULL) {
        return SL_ERROR;
    }
    t->fd = SL_INVALID_FILE;
    t->memory = 1;
    t->pos = (u_char *) tail;
    t->last = (u_char *) tail + tail_len;
    t->last_buf = 1;
    t->last_in_chain = 1;

    out[0].buf = b;
    out[0].next = &out[1];
    out[1].buf = t;
    out[1].next = NULL;

    return sl_http_output_filter(r, &out[0]);
}

/* Serves one error_page entry: a local URI, a named location or a redirect. */
static sl_int_t
sl_http_send_error_page(sl_http_request_t *r, sl_http_err_page_t *err_page)
{
    u_char *q;
    sl_int_t overwrite;
    sl_str_t uri, args;
    sl_table_elt_t *location;
    sl_http_core_loc_conf_t *clcf;

    overwrite = err_page->overwrite;

    if (overwrite && overwrite != SL_HTTP_OK) {
        r->expect_tested = 1;
    }

    if (overwrite > 0) {
        r->err_status = overwrite;
    } else if (overwrite == -1) {
        /* "=" alone: the status is whatever the error page's own response has */
        r->err_status = 0;
    } else if (r->err_status == SL_HTTP_REQUEST_HEADER_TOO_LARGE) {
        /* as nginx's 494: the page is served, but as a 400 */
        r->err_status = SL_HTTP_BAD_REQUEST;
    }

    if (sl_http_complex_value(r, &err_page->value, &uri) != SL_OK) {
        return SL_ERROR;
    }

    if (uri.len && uri.data[0] == '/') {
        if (err_page->value.lengths) {
            q = memchr(uri.data, '?', uri.len);
            if (q) {
                args.len = uri.len - (q + 1 - uri.data);
                args.data = q + 1;
                uri.len = q - uri.data;
            } else {
                sl_str_null(&args);
            }
        } else {
            args = err_page->args;
        }

        if (r->method != SL_HTTP_HEAD) {
            r->method = SL_HTTP_GET;
            r->method_name = sl_http_get_method;
        }

        return sl_http_internal_redirect(r, &uri, &args);
    }

    if (uri.len && uri.data[0] == '@') {
        return sl_http_named_location(r, &uri);
    }

    sl_http_special_discard_body(r);

    location = sl_list_push(&r->headers_out.headers);
    if (location == NULL) {
        return SL_ERROR;
    }

    if (overwrite != SL_HTTP_MOVED_PERMANENTLY && overwrite != SL_HTTP_MOVED_TEMPORARILY
        && overwrite != SL_HTTP_SEE_OTHER && overwrite != SL_HTTP_TEMPORARY_REDIRECT
        && overwrite != SL_HTTP_PERMANENT_REDIRECT) {
        r->err_status = SL_HTTP_MOVED_TEMPORARILY;
    }

    location->hash = 1;
    location->next = NULL;
    location->lowcase_key = NULL;
    sl_str_set(&location->key, "Location");
    location->value = uri;

    if (r->headers_out.location) {
        r->headers_out.location->hash = 0;
    }
    r->headers_out.location = location;

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    return sl_http_send_special_response(r, clcf, sl_http_error_page_text(r->err_status));
}

sl_int_t
sl_http_special_response_handler(sl_http_request_t *r, sl_int_t status)
{
    sl_uint_t i;
    sl_http_err_page_t *err_page;
    sl_http_core_loc_conf_t *clcf;

    if (r->header_sent) {
        /* a handler failed after its response started: it cannot be replaced */
        sl_log_error(SL_LOG_ALERT, r->connection->log, 0,
                     "header already sent, cannot send the special response %i", status);
        return SL_ERROR;
    }

    r->err_status = status;

    if (r->keepalive) {
        switch (status) {
        case SL_HTTP_BAD_REQUEST:
        case SL_HTTP_REQUEST_TIME_OUT:
        case SL_HTTP_REQUEST_ENTITY_TOO_LARGE:
        case SL_HTTP_REQUEST_URI_TOO_LARGE:
        case SL_HTTP_REQUEST_HEADER_TOO_LARGE:
        case SL_HTTP_INTERNAL_SERVER_ERROR:
        case SL_HTTP_NOT_IMPLEMENTED:
        case SL_HTTP_VERSION_NOT_SUPPORTED:
            r->keepalive = 0;
            break;
        default:
            break;
        }
    }

    sl_str_null(&r->headers_out.content_type);

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (!r->error_page && clcf->error_pages && r->uri_changes != 0) {
        if (!clcf->recursive_error_pages) {
            r->error_page = 1;
        }

        err_page = clcf->error_pages->elts;
        for (i = 0; i < clcf->error_pages->nelts; i++) {
            if (err_page[i].status == status) {
                return sl_http_send_error_page(r, &err_page[i]);
            }
        }
    }

    sl_http_special_discard_body(r);

    if (status == SL_HTTP_REQUEST_HEADER_TOO_LARGE) {
        r->err_status = SL_HTTP_BAD_REQUEST;
    }

    if (status == SL_HTTP_CREATED || status == SL_HTTP_NO_CONTENT) {
        return sl_http_send_special_response(r, clcf, NULL);
    }

    return sl_http_send_special_response(r, clcf, sl_http_error_page_text(status));
}
