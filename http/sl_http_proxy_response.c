/*
 * sl_http_proxy_response.c: the proxy module's response side. The header
 * is parsed as strictly as requests are (an invalid status line, two
 * differing Content-Lengths, Content-Length with Transfer-Encoding, a NUL
 * in a field: invalid header, so 502), chunked bodies are decoded in place,
 * and Location/Refresh are rewritten by proxy_redirect.
 */
#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"
#include "sl_http_proxy_module.h"

/* Whether a Connection value lists token (lowercase). */
static sl_uint_t
sl_http_proxy_has_token(sl_str_t *value, const char *token, size_t len)
{
    u_char *p, *last, *start;

    p = value->data;
    last = p + value->len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        if ((size_t) (p - start) == len && sl_strncasecmp(start, (u_char *) token, len) == 0) {
            return 1;
        }
    }

    return 0;
}


sl_int_t
sl_http_proxy_process_header(sl_http_request_t *r)
{
    off_t n;
    sl_int_t rc, te;
    sl_uint_t keep_alive;
    sl_table_elt_t *h, **ch;
    sl_http_upstream_t *u;
    sl_http_proxy_ctx_t *ctx;
    sl_http_upstream_headers_in_t *hi;

    u = r->upstream;
    ctx = sl_http_get_module_ctx(r, sl_http_proxy_module);
    hi = &u->headers_in;

    for (;;) {
        if (!ctx->status_done) {
            rc = sl_http_parse_status_line(&ctx->parse, &u->buffer);

            if (rc == SL_AGAIN) {
                return SL_AGAIN;
            }

            if (rc != SL_OK) {
                sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                             "upstream sent no valid HTTP/1.0 header");
                return SL_HTTP_UPSTREAM_INVALID_HEADER;
            }

            hi->status_n = ctx->parse.status;
            hi->status_line.data = ctx->parse.status_start;
            hi->status_line.len = ctx->parse.status_end - ctx->parse.status_start;
            ctx->status_done = 1;
        }

        for (;;) {
            rc = sl_http_parse_header_line(&ctx->parse, &u->buffer, 1);

            if (rc == SL_OK) {
                h = sl_list_push(&hi->headers);
                if (h == NULL) {
                    return SL_ERROR;
                }

                h->hash = ctx->parse.header_hash;
                h->key.data = ctx->parse.header_name_start;
                h->key.len = ctx->parse.header_name_end - ctx->parse.header_name_start;
                h->value.data = ctx->parse.header_start;
                h->value.len = ctx->parse.header_end - ctx->parse.header_start;
                h->next = NULL;

                if (h->key.len == ctx->parse.lowcase_index) {
                    h->lowcase_key = sl_pnalloc(r->pool, h->key.len);
                    if (h->lowcase_key == NULL) {
                        return SL_ERROR;
                    }
                    sl_memcpy(h->lowcase_key, ctx->parse.lowcase_header, h->key.len);

                } else {
                    h->lowcase_key = sl_pnalloc(r->pool, h->key.len);
                    if (h->lowcase_key == NULL) {
                        return SL_ERROR;
                    }
                    sl_strlow(h->lowcase_key, h->key.data, h->key.len);
                }

                if (memchr(h->value.data, '\0', h->value.len) != NULL) {
                    sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                                 "upstream sent invalid header: \"%V\"", &h->key);
                    return SL_HTTP_UPSTREAM_INVALID_HEADER;
                }

                switch (h->key.len) {
                case 14:
                    if (sl_memcmp(h->lowcase_key, "content-length", 14) != 0) {
                        break;
                    }

                    n = sl_http_parse_content_length(h->value.data, h->value.len);

                    if (n == -1 || (hi->content_length && hi->content_length_n != n)) {
                        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                                     "upstream sent invalid \"Content-Length\" header: "
                                     "\"%V: %V\"",
                                     &h->key, &h->value);
                        return SL_HTTP_UPSTREAM_INVALID_HEADER;
                    }

                    hi->content_length = h;
                    hi->content_length_n = n;
                    break;

                case 17:
                    if (sl_memcmp(h->lowcase_key, "transfer-encoding", 17) != 0) {
                        break;
                    }

                    te = sl_http_parse_transfer_encoding(h->value.data, h->value.len);

                    if (te != SL_HTTP_TE_CHUNKED || hi->transfer_encoding) {
                        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                                     "upstream sent unknown \"Transfer-Encoding\": \"%V\"",
                                     &h->value);
                        return SL_HTTP_UPSTREAM_INVALID_HEADER;
                    }

                    hi->transfer_encoding = h;
                    hi->chunked = 1;
                    break;

                case 10:
                    if (sl_memcmp(h->lowcase_key, "connection", 10) != 0) {
                        break;
                    }

                    for (ch = &hi->connection; *ch; ch = &(*ch)->next) { /* void */
                    }
                    *ch = h;
                    break;

                case 8:
                    if (sl_memcmp(h->lowcase_key, "location", 8) == 0) {
                        hi->location = h;
                    }
                    break;

                case 7:
                    if (sl_memcmp(h->lowcase_key, "upgrade", 7) == 0) {
                        hi->upgrade = h;
                    }
                    break;

                default:
                    break;
                }

                continue;
            }

            if (rc == SL_AGAIN) {
                return SL_AGAIN;
            }

            if (rc != SL_HTTP_PARSE_HEADER_DONE) {
                sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                             "upstream sent invalid header line");
                return SL_HTTP_UPSTREAM_INVALID_HEADER;
            }

            break;
        }

        /* the header block is complete */

        if (hi->status_n >= 100 && hi->status_n < 200
            && hi->status_n != SL_HTTP_SWITCHING_PROTOCOLS) {
            /* an interim response: skip it and read the next one */
            if (++ctx->interim > SL_HTTP_PROXY_MAX_INTERIM) {
                sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                             "upstream sent too many interim responses");
                return SL_HTTP_UPSTREAM_INVALID_HEADER;
            }

            if (sl_list_init(&hi->headers, r->pool, 8, sizeof(sl_table_elt_t)) != SL_OK) {
                return SL_ERROR;
            }

            hi->content_length = NULL;
            hi->content_length_n = -1;
            hi->transfer_encoding = NULL;
            hi->chunked = 0;
            hi->connection = NULL;
            hi->location = NULL;
            hi->upgrade = NULL;
            ctx->status_done = 0;
            continue;
        }

        break;
    }

    if (hi->chunked && hi->content_length) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "upstream sent \"Content-Length\" and \"Transfer-Encoding\" headers "
                     "at the same time");
        return SL_HTTP_UPSTREAM_INVALID_HEADER;
    }

    keep_alive = ctx->parse.http_version >= SL_HTTP_VERSION_11;

    for (h = hi->connection; h; h = h->next) {
        if (sl_http_proxy_has_token(&h->value, "close", 5)) {
            keep_alive = 0;
            break;
        }

        if (sl_http_proxy_has_token(&h->value, "keep-alive", 10)) {
            keep_alive = 1;
        }
    }

    hi->connection_close = !keep_alive;

    if (hi->status_n == SL_HTTP_SWITCHING_PROTOCOLS) {
        if (r->headers_in.upgrade == NULL || hi->upgrade == NULL) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                         "upstream switched protocols without an upgrade request");
            return SL_HTTP_UPSTREAM_INVALID_HEADER;
        }

        u->upgrade = 1;
        hi->connection_close = 1;
    }

    return SL_OK;
}


sl_int_t
sl_http_proxy_input_filter_init(void *data)
{
    sl_http_request_t *r = data;

    sl_uint_t status;
    sl_http_upstream_t *u;
    sl_http_proxy_ctx_t *ctx;

    u = r->upstream;
    ctx = sl_http_get_module_ctx(r, sl_http_proxy_module);
    status = u->headers_in.status_n;

    if (r->method == SL_HTTP_HEAD || status == SL_HTTP_NO_CONTENT || status == SL_HTTP_NOT_MODIFIED
        || status < SL_HTTP_OK) {
        u->length = 0;
        return SL_OK;
    }

    if (u->headers_in.chunked) {
        sl_memzero(&ctx->chunked, sizeof(sl_http_chunked_t));
        u->input_filter = sl_http_proxy_chunked_filter;
        u->length = -1;
        return SL_OK;
    }

    u->input_filter = sl_http_proxy_length_filter;
    u->length = u->headers_in.content_length_n;

    return SL_OK;
}


/* Content-Length (or the close) delimits the body: take what belongs to it. */
sl_int_t
sl_http_proxy_length_filter(void *data, sl_buf_t *in, sl_buf_t *out)
{
    sl_http_request_t *r = data;

    size_t n;
    sl_http_upstream_t *u;

    u = r->upstream;
    n = in->last - in->pos;

    if (u->length >= 0 && (off_t) n > u->length) {
        n = (size_t) u->length;
    }

    if (in->pos != out->last) {
        sl_memmove(out->last, in->pos, n);
    }

    out->last += n;
    in->pos += n;

    if (u->length > 0) {
        u->length -= n;
    }

    return SL_OK;
}


/* Chunked: the data of each chunk moves down over the framing. */
sl_int_t
sl_http_proxy_chunked_filter(void *data, sl_buf_t *in, sl_buf_t *out)
{
    sl_http_request_t *r = data;

    size_t n;
    sl_int_t rc;
    sl_http_upstream_t *u;
    sl_http_proxy_ctx_t *ctx;

    u = r->upstream;
    ctx = sl_http_get_module_ctx(r, sl_http_proxy_module);

    for (;;) {
        rc = sl_http_parse_chunked(&ctx->chunked, in);

        if (rc == SL_OK) {
            n = (size_t) sl_min((off_t) (in->last - in->pos), ctx->chunked.size);

            if (in->pos != out->last) {
                sl_memmove(out->last, in->pos, n);
            }

            out->last += n;
            in->pos += n;
            ctx->chunked.size -= n;
            continue;
        }

        if (rc == SL_DONE) {
            u->length = 0;
            return SL_OK;
        }

        if (rc == SL_AGAIN) {
            return SL_OK;
        }

        return SL_ERROR;
    }
}


/* proxy_redirect: the first rule whose "from" starts the value replaces that part. */
sl_int_t
sl_http_proxy_rewrite_redirect(sl_http_request_t *r, sl_table_elt_t *h, size_t prefix)
{
    u_char *p;
    size_t len;
    sl_str_t from, to;
    sl_uint_t i;
    sl_http_proxy_redirect_t *pr;
    sl_http_proxy_loc_conf_t *plcf;

    plcf = sl_http_get_module_loc_conf(r, sl_http_proxy_module);

    if (plcf->redirects == NULL) {
        return SL_DECLINED;
    }

    pr = plcf->redirects->elts;

    for (i = 0; i < plcf->redirects->nelts; i++) {
        if (sl_http_complex_value(r, &pr[i].from, &from) != SL_OK) {
            return SL_ERROR;
        }

        if (from.len > h->value.len - prefix
            || sl_memcmp(h->value.data + prefix, from.data, from.len) != 0) {
            continue;
        }

        if (sl_http_complex_value(r, &pr[i].to, &to) != SL_OK) {
            return SL_ERROR;
        }

        len = h->value.len - from.len + to.len;

        p = sl_pnalloc(r->pool, len);
        if (p == NULL) {
            return SL_ERROR;
        }

        sl_memcpy(p, h->value.data, prefix);
        sl_memcpy(p + prefix, to.data, to.len);
        sl_memcpy(p + prefix + to.len, h->value.data + prefix + from.len,
                  h->value.len - prefix - from.len);

        h->value.data = p;
        h->value.len = len;

        return SL_OK;
    }

    return SL_DECLINED;
}
