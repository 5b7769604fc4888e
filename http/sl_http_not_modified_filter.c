/*
 * sl_http_not_modified_filter.c: conditional requests, as nginx answers
 * them. On a 200 response it checks If-Unmodified-Since and If-Match (a
 * failure answers 412), then If-Modified-Since and If-None-Match (both,
 * when both are sent, must say "not modified" to turn the response into a
 * 304 without a body).
 *
 * The 412 is returned to the handler that sent the header, like a range
 * filter's 416: handlers stop on a status from sl_http_send_header() and
 * finalize with it, so the error page (and error_page) goes out in place of
 * the body, and the connection stays alive.
 */
#include "sl_core.h"
#include "sl_http.h"

static sl_int_t sl_http_not_modified_header_filter(sl_http_request_t *r);
static sl_int_t sl_http_not_modified_filter_init(sl_conf_t *cf);

static sl_http_module_t sl_http_not_modified_filter_module_ctx = {
    NULL, sl_http_not_modified_filter_init,
    NULL, NULL,
    NULL, NULL,
    NULL, NULL
};

sl_module_t sl_http_not_modified_filter_module = {
    SL_MODULE_V1, "sl_http_not_modified_filter_module", SL_HTTP_MODULE,
    &sl_http_not_modified_filter_module_ctx, NULL, NULL, NULL, NULL, NULL
};

static sl_http_output_header_filter_pt sl_http_next_header_filter;

/* If-Unmodified-Since: true when the response was not modified since the date. */
static int
sl_http_test_if_unmodified(sl_http_request_t *r)
{
    time_t iums;

    if (r->headers_out.last_modified_time == (time_t) -1) {
        return 0;
    }

    iums = sl_parse_http_time(r->headers_in.if_unmodified_since->value.data,
                              r->headers_in.if_unmodified_since->value.len);

    return iums != (time_t) -1 && iums >= r->headers_out.last_modified_time;
}

/* If-Modified-Since: true when the full response must be sent. */
static int
sl_http_test_if_modified(sl_http_request_t *r)
{
    time_t ims;
    sl_http_core_loc_conf_t *clcf;

    if (r->headers_out.last_modified_time == (time_t) -1) {
        return 1;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    if (clcf->if_modified_since == SL_HTTP_IMS_OFF) {
        return 1;
    }

    ims = sl_parse_http_time(r->headers_in.if_modified_since->value.data,
                             r->headers_in.if_modified_since->value.len);

    if (ims == r->headers_out.last_modified_time) {
        return 0;
    }

    if (ims == (time_t) -1 || clcf->if_modified_since == SL_HTTP_IMS_EXACT
        || ims < r->headers_out.last_modified_time) {
        return 1;
    }

    return 0;
}

/*
 * True when the response's ETag is in the header's list (or the list is
 * "*"). weak: If-None-Match's weak comparison, which ignores "W/" on both
 * sides; If-Match compares strongly.
 */
static int
sl_http_test_if_match(sl_http_request_t *r, sl_table_elt_t *header, int weak)
{
    u_char *start, *end, ch;
    sl_str_t etag, *list;

    list = &header->value;

    if (list->len == 1 && list->data[0] == '*') {
        return 1;
    }

    if (r->headers_out.etag == NULL) {
        return 0;
    }

    etag = r->headers_out.etag->value;

    if (weak && etag.len > 2 && etag.data[0] == 'W' && etag.data[1] == '/') {
        etag.len -= 2;
        etag.data += 2;
    }

    start = list->data;
    end = list->data + list->len;

    while (start < end) {
        if (weak && end - start > 2 && start[0] == 'W' && start[1] == '/') {
            start += 2;
        }

        if (etag.len > (size_t) (end - start)) {
            return 0;
        }

        if (sl_memcmp(start, etag.data, etag.len) == 0) {
            start += etag.len;

            while (start < end && (*start == ' ' || *start == '\t')) {
                start++;
            }

            if (start == end || *start == ',') {
                return 1;
            }
        }

        while (start < end && *start != ',') {
            start++;
        }

        while (start < end) {
            ch = *start;
            if (ch != ' ' && ch != '\t' && ch != ',') {
                break;
            }
            start++;
        }
    }

    return 0;
}

static sl_int_t
sl_http_not_modified_header_filter(sl_http_request_t *r)
{
    if (r->headers_out.status != SL_HTTP_OK || r != r->main || r->disable_not_modified) {
        return sl_http_next_header_filter(r);
    }

    if (r->headers_in.if_unmodified_since && !sl_http_test_if_unmodified(r)) {
        return SL_HTTP_PRECONDITION_FAILED;
    }

    if (r->headers_in.if_match && !sl_http_test_if_match(r, r->headers_in.if_match, 0)) {
        return SL_HTTP_PRECONDITION_FAILED;
    }

    if (r->headers_in.if_modified_since == NULL && r->headers_in.if_none_match == NULL) {
        return sl_http_next_header_filter(r);
    }

    if (r->headers_in.if_modified_since && sl_http_test_if_modified(r)) {
        return sl_http_next_header_filter(r);
    }

    if (r->headers_in.if_none_match && !sl_http_test_if_match(r, r->headers_in.if_none_match, 1)) {
        return sl_http_next_header_filter(r);
    }

    /* not modified: the validators stay, the body and what describes it go */
    r->headers_out.status = SL_HTTP_NOT_MODIFIED;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_type.len = 0;
    sl_http_clear_content_length(r);
    sl_http_clear_accept_ranges(r);

    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    r->header_only = 1;

    return sl_http_next_header_filter(r);
}

static sl_int_t
sl_http_not_modified_filter_init(sl_conf_t *cf)
{
    sl_unused(cf);

    sl_http_next_header_filter = sl_http_top_header_filter;
    sl_http_top_header_filter = sl_http_not_modified_header_filter;
    return SL_OK;
}
