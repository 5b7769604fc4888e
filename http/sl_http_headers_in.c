/*
 * sl_http_headers_in.c: the request header fields the engine knows. Each
 * known field sets its shortcut in r->headers_in as it is parsed (a
 * duplicate of a field that must be unique, an invalid Host or
 * Content-Length is rejected there); once the block is complete it is
 * checked as a whole (Host in HTTP/1.1, Transfer-Encoding rules, Expect).
 */
#include "sl_core.h"
#include "sl_http.h"

/* Known request headers: each sets its shortcut in headers_in. */
typedef sl_int_t (*sl_http_header_handler_pt)(sl_http_request_t *r, sl_table_elt_t *h,
                                              sl_uint_t offset);

typedef struct {
    sl_str_t name; /* lowercase */
    sl_uint_t offset;
    sl_http_header_handler_pt handler;
} sl_http_header_t;

static sl_int_t sl_http_process_header_line(sl_http_request_t *r, sl_table_elt_t *h,
                                            sl_uint_t offset);
static sl_int_t sl_http_process_unique_header_line(sl_http_request_t *r, sl_table_elt_t *h,
                                                   sl_uint_t offset);
static sl_int_t sl_http_process_host(sl_http_request_t *r, sl_table_elt_t *h, sl_uint_t offset);
static sl_int_t sl_http_process_connection(sl_http_request_t *r, sl_table_elt_t *h,
                                           sl_uint_t offset);
static sl_int_t sl_http_process_content_length(sl_http_request_t *r, sl_table_elt_t *h,
                                               sl_uint_t offset);

#define SL_HTTP_HEADER(name, field, handler) \
    { sl_string(name), offsetof(sl_http_headers_in_t, field), handler }

static sl_http_header_t sl_http_headers_in[] = {
    SL_HTTP_HEADER("host", host, sl_http_process_host),
    SL_HTTP_HEADER("connection", connection, sl_http_process_connection),
    SL_HTTP_HEADER("if-modified-since", if_modified_since, sl_http_process_unique_header_line),
    SL_HTTP_HEADER("if-unmodified-since", if_unmodified_since,
                   sl_http_process_unique_header_line),
    SL_HTTP_HEADER("if-match", if_match, sl_http_process_unique_header_line),
    SL_HTTP_HEADER("if-none-match", if_none_match, sl_http_process_unique_header_line),
    SL_HTTP_HEADER("user-agent", user_agent, sl_http_process_header_line),
    SL_HTTP_HEADER("referer", referer, sl_http_process_header_line),
    SL_HTTP_HEADER("content-length", content_length, sl_http_process_content_length),
    SL_HTTP_HEADER("content-type", content_type, sl_http_process_header_line),
    SL_HTTP_HEADER("range", range, sl_http_process_header_line),
    SL_HTTP_HEADER("if-range", if_range, sl_http_process_unique_header_line),
    SL_HTTP_HEADER("transfer-encoding", transfer_encoding, sl_http_process_header_line),
    SL_HTTP_HEADER("te", te, sl_http_process_header_line),
    SL_HTTP_HEADER("expect", expect, sl_http_process_unique_header_line),
    SL_HTTP_HEADER("upgrade", upgrade, sl_http_process_header_line),
    SL_HTTP_HEADER("cookie", cookie, sl_http_process_header_line),
    SL_HTTP_HEADER("x-forwarded-for", x_forwarded_for, sl_http_process_header_line),
    SL_HTTP_HEADER("keep-alive", keep_alive, sl_http_process_header_line),
    { sl_null_string, 0, NULL }
};

/* The known-header table hashed by the parser's name hash, built on first use. */
#define SL_HTTP_HEADERS_HASH_SIZE 64
static sl_http_header_t *sl_http_headers_hash[SL_HTTP_HEADERS_HASH_SIZE][2];

void
sl_http_headers_in_init(void)
{
    sl_uint_t i, key, slot;

    if (sl_http_headers_hash[0][1] != NULL || sl_http_headers_hash[1][0] != NULL) {
        return;
    }
    for (i = 0; sl_http_headers_in[i].name.len; i++) {
        key = sl_hash_key(sl_http_headers_in[i].name.data, sl_http_headers_in[i].name.len);
        slot = key % SL_HTTP_HEADERS_HASH_SIZE;
        if (sl_http_headers_hash[slot][0] == NULL) {
            sl_http_headers_hash[slot][0] = &sl_http_headers_in[i];
        } else {
            sl_http_headers_hash[slot][1] = &sl_http_headers_in[i];
        }
    }
}

static sl_http_header_t *
sl_http_find_header(sl_uint_t hash, u_char *lowcase, size_t len)
{
    sl_uint_t slot, i;
    sl_http_header_t *hh;

    slot = hash % SL_HTTP_HEADERS_HASH_SIZE;
    for (i = 0; i < 2; i++) {
        hh = sl_http_headers_hash[slot][i];
        if (hh && hh->name.len == len && memcmp(hh->name.data, lowcase, len) == 0) {
            return hh;
        }
    }
    return NULL;
}


/* Runs the known field's handler, if h is one; SL_OK, or SL_ERROR (rejected). */
sl_int_t
sl_http_handle_header_line(sl_http_request_t *r, sl_table_elt_t *h)
{
    sl_http_header_t *hh;

    hh = sl_http_find_header(h->hash, h->lowcase_key, h->key.len);
    if (hh == NULL) {
        return SL_OK;
    }

    return hh->handler(r, h, hh->offset);
}

static sl_int_t
sl_http_process_header_line(sl_http_request_t *r, sl_table_elt_t *h, sl_uint_t offset)
{
    sl_table_elt_t **ph;

    ph = (sl_table_elt_t **) ((char *) &r->headers_in + offset);
    while (*ph) {
        ph = &(*ph)->next;
    }
    *ph = h;
    return SL_OK;
}

static sl_int_t
sl_http_process_unique_header_line(sl_http_request_t *r, sl_table_elt_t *h, sl_uint_t offset)
{
    sl_table_elt_t **ph;

    ph = (sl_table_elt_t **) ((char *) &r->headers_in + offset);
    if (*ph == NULL) {
        *ph = h;
        return SL_OK;
    }

    sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                 "client sent duplicate header line: \"%V: %V\", previous value: \"%V: %V\"",
                 &h->key, &h->value, &(*ph)->key, &(*ph)->value);
    sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent duplicate header");
    return SL_ERROR;
}

/*
 * Validates a host name and lowercases it into pool memory, without a
 * trailing dot or a port. Returns SL_OK, or SL_DECLINED for an invalid host.
 */
sl_int_t
sl_http_validate_host(sl_str_t *host, sl_pool_t *pool)
{
    u_char *h, ch;
    size_t i, dot_pos, host_len;
    enum { sw_usual = 0, sw_literal, sw_rest } state;

    dot_pos = host->len;
    host_len = host->len;
    h = host->data;
    state = sw_usual;

    for (i = 0; i < host->len; i++) {
        ch = h[i];
        switch (ch) {
        case '.':
            if (dot_pos == i - 1) {
                return SL_DECLINED;
            }
            dot_pos = i;
            break;
        case ':':
            if (state == sw_usual) {
                host_len = i;
                state = sw_rest;
            }
            break;
        case '[':
            if (i == 0) {
                state = sw_literal;
            }
            break;
        case ']':
            if (state == sw_literal) {
                host_len = i + 1;
                state = sw_rest;
            }
            break;
        case '\0':
        case '/':
        case '\\':
            return SL_DECLINED;
        default:
            if (ch < 0x21 || ch == 0x7f) {
                return SL_DECLINED;
            }
            if (state == sw_rest && (ch < '0' || ch > '9')) {
                return SL_DECLINED;
            }
            break;
        }
    }

    if (dot_pos == host_len - 1) {
        host_len--;
    }
    if (host_len == 0) {
        return SL_DECLINED;
    }

    h = sl_pnalloc(pool, host_len);
    if (h == NULL) {
        return SL_ERROR;
    }
    sl_strlow(h, host->data, host_len);
    host->data = h;
    host->len = host_len;
    return SL_OK;
}

static sl_int_t
sl_http_process_host(sl_http_request_t *r, sl_table_elt_t *h, sl_uint_t offset)
{
    sl_str_t host;

    if (r->headers_in.host) {
        sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                     "client sent duplicate host header: \"%V: %V\", previous value: \"%V: %V\"",
                     &h->key, &h->value, &r->headers_in.host->key, &r->headers_in.host->value);
        sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent several Host headers");
        return SL_ERROR;
    }
    r->headers_in.host = h;
    sl_unused(offset);

    host = h->value;
    switch (sl_http_validate_host(&host, r->pool)) {
    case SL_DECLINED:
        sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent invalid host header");
        return SL_ERROR;
    case SL_ERROR:
        sl_http_close_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return SL_ERROR;
    default:
        break;
    }

    /* an absolute-form target's host wins over the Host header (RFC 9112 3.2.2) */
    if (r->headers_in.server.len) {
        return SL_OK;
    }

    if (sl_http_set_virtual_server(r, &host) != SL_OK) {
        return SL_ERROR;
    }
    r->headers_in.server = host;
    return SL_OK;
}

static sl_int_t
sl_http_process_connection(sl_http_request_t *r, sl_table_elt_t *h, sl_uint_t offset)
{
    if (sl_strlcasestrn(h->value.data, h->value.data + h->value.len, (u_char *) "close",
                        sizeof("close") - 1)) {
        r->headers_in.connection_type = SL_HTTP_CONNECTION_CLOSE;
    } else if (sl_strlcasestrn(h->value.data, h->value.data + h->value.len,
                               (u_char *) "keep-alive", sizeof("keep-alive") - 1)) {
        if (r->headers_in.connection_type != SL_HTTP_CONNECTION_CLOSE) {
            r->headers_in.connection_type = SL_HTTP_CONNECTION_KEEP_ALIVE;
        }
    }
    return sl_http_process_header_line(r, h, offset);
}

static sl_int_t
sl_http_process_content_length(sl_http_request_t *r, sl_table_elt_t *h, sl_uint_t offset)
{
    off_t n;

    sl_unused(offset);

    n = sl_http_parse_content_length(h->value.data, h->value.len);
    if (n == -1) {
        sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                     "client sent invalid \"Content-Length\" header: \"%V\"", &h->value);
        sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent invalid Content-Length");
        return SL_ERROR;
    }
    if (r->headers_in.content_length) {
        /* RFC 9112 6.3: differing or repeated lengths are unrecoverable */
        sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent duplicate Content-Length header");
        return SL_ERROR;
    }
    r->headers_in.content_length = h;
    r->headers_in.content_length_n = n;
    return SL_OK;
}

sl_int_t
sl_http_process_request_header(sl_http_request_t *r)
{
    sl_int_t te;
    sl_table_elt_t *h;

    if (r->headers_in.host == NULL && r->http_version > SL_HTTP_VERSION_10) {
        sl_http_reject(r, SL_HTTP_BAD_REQUEST,
                       "client sent HTTP/1.1 request without \"Host\" header");
        return SL_ERROR;
    }

    h = r->headers_in.transfer_encoding;
    if (h) {
        if (r->http_version < SL_HTTP_VERSION_11) {
            sl_http_reject(r, SL_HTTP_BAD_REQUEST,
                           "client sent \"Transfer-Encoding\" header in HTTP/1.0 request");
            return SL_ERROR;
        }
        if (h->next) {
            sl_http_reject(r, SL_HTTP_BAD_REQUEST,
                           "client sent several \"Transfer-Encoding\" headers");
            return SL_ERROR;
        }
        if (r->headers_in.content_length) {
            sl_http_reject(r, SL_HTTP_BAD_REQUEST,
                           "client sent \"Content-Length\" and \"Transfer-Encoding\" headers");
            return SL_ERROR;
        }
        te = sl_http_parse_transfer_encoding(h->value.data, h->value.len);
        if (te != SL_HTTP_TE_CHUNKED) {
            sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                         "client sent unknown \"Transfer-Encoding\": \"%V\"", &h->value);
            sl_http_reject(r, SL_HTTP_BAD_REQUEST, "client sent unsupported Transfer-Encoding");
            return SL_ERROR;
        }
        r->headers_in.chunked = 1;
    }

    if (r->headers_in.expect && r->http_version > SL_HTTP_VERSION_10
        && r->headers_in.expect->value.len == sizeof("100-continue") - 1
        && sl_strncasecmp(r->headers_in.expect->value.data, (u_char *) "100-continue",
                          sizeof("100-continue") - 1) == 0) {
        r->headers_in.expect_continue = 1;
    }

    if (r->method == SL_HTTP_TRACE) {
        sl_http_reject(r, SL_HTTP_NOT_ALLOWED, "client sent TRACE method");
        return SL_ERROR;
    }

    return SL_OK;
}
