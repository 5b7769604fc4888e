/*
 * sl_http_range_filter.c: byte ranges on 200 responses whose length is
 * known and whose handler allowed them (r->allow_ranges), as nginx serves
 * them, with one difference: a request for several ranges is answered with
 * the whole 200 response, where nginx sends multipart/byteranges (a client
 * must accept a 200 for any Range request, and several ranges are rare).
 *
 * The header filter turns a satisfiable single range into a 206 with
 * Content-Range and the range's length, and an unsatisfiable one into a 416
 * (returned to the handler, which finalizes with it) whose Content-Range
 * is "bytes", a space, an asterisk, "/" and the size; responses it leaves at
 * 200 get "Accept-Ranges: bytes". The body filter cuts the body to the range, in
 * file buffers (file_pos/file_last) and memory buffers (pos/last) alike.
 */
#include "sl_core.h"
#include "sl_http.h"

typedef struct {
    off_t start; /* first byte of the range */
    off_t end;   /* one past its last byte */
} sl_http_range_t;

typedef struct {
    off_t offset; /* body bytes seen so far */
    sl_http_range_t range;
} sl_http_range_filter_ctx_t;

static sl_int_t sl_http_range_header_filter(sl_http_request_t *r);
static sl_int_t sl_http_range_body_filter(sl_http_request_t *r, sl_chain_t *in);
static sl_int_t sl_http_range_filter_init(sl_conf_t *cf);

static sl_http_module_t sl_http_range_filter_module_ctx = {
    NULL, sl_http_range_filter_init,
    NULL, NULL,
    NULL, NULL,
    NULL, NULL
};

sl_module_t sl_http_range_filter_module = {
    SL_MODULE_V1, "sl_http_range_filter_module", SL_HTTP_MODULE,
    &sl_http_range_filter_module_ctx, NULL, NULL, NULL, NULL, NULL
};

static sl_http_output_header_filter_pt sl_http_next_header_filter;
static sl_http_output_body_filter_pt sl_http_next_body_filter;

/*
 * Parses the value after "bytes=" against a body of content_length bytes.
 * SL_OK with *range set: exactly one satisfiable range. SL_DECLINED: serve
 * the whole response (several ranges, or a range starting at 0 of an empty
 * body). SL_HTTP_RANGE_NOT_SATISFIABLE: malformed, or nothing satisfiable.
 */
static sl_int_t
sl_http_range_parse(u_char *p, u_char *last, off_t content_length, sl_http_range_t *range)
{
    off_t start, end, cutoff, cutlim;
    sl_uint_t found, suffix;

    cutoff = SL_MAX_OFF_T_VALUE / 10;
    cutlim = SL_MAX_OFF_T_VALUE % 10;
    found = 0;

    for (;;) {
        start = 0;
        end = 0;
        suffix = 0;

        while (p < last && *p == ' ') {
            p++;
        }

        if (p < last && *p != '-') {
            if (*p < '0' || *p > '9') {
                return SL_HTTP_RANGE_NOT_SATISFIABLE;
            }

            while (p < last && *p >= '0' && *p <= '9') {
                if (start >= cutoff && (start > cutoff || *p - '0' > cutlim)) {
                    return SL_HTTP_RANGE_NOT_SATISFIABLE;
                }
                start = start * 10 + (*p++ - '0');
            }

            while (p < last && *p == ' ') {
                p++;
            }

            if (p == last || *p++ != '-') {
                return SL_HTTP_RANGE_NOT_SATISFIABLE;
            }

            while (p < last && *p == ' ') {
                p++;
            }

            if (p == last || *p == ',') {
                end = content_length;
                goto found;
            }

        } else {
            if (p == last) {
                return SL_HTTP_RANGE_NOT_SATISFIABLE;
            }
            suffix = 1;
            p++;
        }

        if (p == last || *p < '0' || *p > '9') {
            return SL_HTTP_RANGE_NOT_SATISFIABLE;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            if (end >= cutoff && (end > cutoff || *p - '0' > cutlim)) {
                return SL_HTTP_RANGE_NOT_SATISFIABLE;
            }
            end = end * 10 + (*p++ - '0');
        }

        while (p < last && *p == ' ') {
            p++;
        }

        if (p < last && *p != ',') {
            return SL_HTTP_RANGE_NOT_SATISFIABLE;
        }

        if (suffix) {
            start = (end < content_length) ? content_length - end : 0;
            end = content_length - 1;
        }

        if (end >= content_length) {
            end = content_length;
        } else {
            end++;
        }

    found:
        if (start < end) {
            if (found) {
                /* a second satisfiable range: the whole response instead */
                return SL_DECLINED;
            }
            found = 1;
            range->start = start;
            range->end = end;

        } else if (start == 0) {
            return SL_DECLINED;
        }

        if (p == last) {
            break;
        }
        p++; /* the ',' */
    }

    return found ? SL_OK : SL_HTTP_RANGE_NOT_SATISFIABLE;
}

/* If-Range: true when the validator matches (a strong ETag, or the exact date). */
static int
sl_http_range_if_range_matches(sl_http_request_t *r)
{
    time_t t;
    sl_str_t *if_range, *etag;

    if (r->headers_in.if_range == NULL) {
        return 1;
    }

    if_range = &r->headers_in.if_range->value;

    if (if_range->len >= 2 && if_range->data[if_range->len - 1] == '"') {
        if (r->headers_out.etag == NULL) {
            return 0;
        }
        etag = &r->headers_out.etag->value;
        /* If-Range compares strongly: a weak validator never matches */
        if (etag->len > 2 && etag->data[0] == 'W' && etag->data[1] == '/') {
            return 0;
        }
        return etag->len == if_range->len && sl_memcmp(etag->data, if_range->data, etag->len) == 0;
    }

    if (r->headers_out.last_modified_time == (time_t) -1) {
        return 0;
    }

    t = sl_parse_http_time(if_range->data, if_range->len);
    return t != (time_t) -1 && t == r->headers_out.last_modified_time;
}

static sl_int_t
sl_http_range_header_filter(sl_http_request_t *r)
{
    u_char *p;
    sl_int_t rc;
    sl_str_t *value, text;
    sl_table_elt_t *h;
    sl_http_range_t range;
    sl_http_core_loc_conf_t *clcf;
    sl_http_range_filter_ctx_t *ctx;

    if (r->http_version < SL_HTTP_VERSION_10 || r->headers_out.status != SL_HTTP_OK
        || r != r->main || r->headers_out.content_length_n < 0 || !r->allow_ranges) {
        return sl_http_next_header_filter(r);
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    if (clcf->max_ranges == 0) {
        return sl_http_next_header_filter(r);
    }

    if (r->headers_in.range == NULL) {
        goto next_filter;
    }

    value = &r->headers_in.range->value;
    if (value->len < 7 || sl_strncasecmp(value->data, (u_char *) "bytes=", 6) != 0) {
        goto next_filter;
    }

    if (!sl_http_range_if_range_matches(r)) {
        goto next_filter;
    }

    rc = sl_http_range_parse(value->data + 6, value->data + value->len,
                             r->headers_out.content_length_n, &range);

    if (rc == SL_DECLINED) {
        goto next_filter;
    }

    if (rc == SL_HTTP_RANGE_NOT_SATISFIABLE) {
        p = sl_pnalloc(r->pool, sizeof("bytes */") - 1 + SL_OFF_T_LEN);
        if (p == NULL) {
            return SL_ERROR;
        }
        text.data = p;
        text.len = sl_sprintf(p, "bytes */%O", r->headers_out.content_length_n) - p;

        h = sl_http_add_response_header(r, "Content-Range", &text);
        if (h == NULL) {
            return SL_ERROR;
        }
        r->headers_out.content_range = h;
        sl_http_clear_content_length(r);
        return SL_HTTP_RANGE_NOT_SATISFIABLE;
    }

    ctx = sl_pcalloc(r->pool, sizeof(sl_http_range_filter_ctx_t));
    if (ctx == NULL) {
        return SL_ERROR;
    }
    ctx->range = range;

    p = sl_pnalloc(r->pool, sizeof("bytes -/") - 1 + 3 * SL_OFF_T_LEN);
    if (p == NULL) {
        return SL_ERROR;
    }
    text.data = p;
    text.len = sl_sprintf(p, "bytes %O-%O/%O", range.start, range.end - 1,
                          r->headers_out.content_length_n)
               - p;

    h = sl_http_add_response_header(r, "Content-Range", &text);
    if (h == NULL) {
        return SL_ERROR;
    }
    r->headers_out.content_range = h;

    sl_http_set_ctx(r, ctx, sl_http_range_filter_module);

    r->headers_out.status = SL_HTTP_PARTIAL_CONTENT;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_length_n = range.end - range.start;
    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return sl_http_next_header_filter(r);

next_filter:
    text.len = sizeof("bytes") - 1;
    text.data = (u_char *) "bytes";
    h = sl_http_add_response_header(r, "Accept-Ranges", &text);
    if (h == NULL) {
        return SL_ERROR;
    }
    r->headers_out.accept_ranges = h;

    return sl_http_next_header_filter(r);
}

static sl_int_t
sl_http_range_body_filter(sl_http_request_t *r, sl_chain_t *in)
{
    off_t start, last;
    sl_buf_t *buf;
    sl_chain_t *out, *cl, **ll;
    sl_http_range_t *range;
    sl_http_range_filter_ctx_t *ctx;

    ctx = sl_http_get_module_ctx(r, sl_http_range_filter_module);
    if (ctx == NULL || in == NULL) {
        return sl_http_next_body_filter(r, in);
    }

    range = &ctx->range;
    out = NULL;
    ll = &out;

    for (cl = in; cl; cl = cl->next) {
        buf = cl->buf;
        start = ctx->offset;
        last = ctx->offset + sl_buf_size(buf);
        ctx->offset = last;

        if (range->end <= start || range->start >= last) {
            /* outside the range: consume it so its owner can reuse it */
            if (buf->in_file) {
                buf->file_pos = buf->file_last;
            }
            buf->pos = buf->last;
            continue;
        }

        if (range->start > start) {
            if (buf->in_file) {
                buf->file_pos += range->start - start;
            }
            if (sl_buf_in_memory(buf)) {
                buf->pos += (size_t) (range->start - start);
            }
        }

        if (range->end <= last) {
            if (buf->in_file) {
                buf->file_last -= last - range->end;
            }
            if (sl_buf_in_memory(buf)) {
                buf->last -= (size_t) (last - range->end);
            }
            buf->last_buf = 1;
            buf->last_in_chain = 1;
            *ll = cl;
            /* the links after the range are dropped: nothing of them is sent */
            for (cl = cl->next; cl; cl = cl->next) {
                if (cl->buf->in_file) {
                    cl->buf->file_pos = cl->buf->file_last;
                }
                cl->buf->pos = cl->buf->last;
            }
            (*ll)->next = NULL;
            break;
        }

        *ll = cl;
        ll = &cl->next;
    }

    return sl_http_next_body_filter(r, out);
}

static sl_int_t
sl_http_range_filter_init(sl_conf_t *cf)
{
    sl_unused(cf);

    sl_http_next_header_filter = sl_http_top_header_filter;
    sl_http_top_header_filter = sl_http_range_header_filter;

    sl_http_next_body_filter = sl_http_top_body_filter;
    sl_http_top_body_filter = sl_http_range_body_filter;
    return SL_OK;
}
