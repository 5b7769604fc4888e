/*
 * sl_http_parse.c: byte-at-a-time state machines for the HTTP/1.1 request
 * line, status line, header lines and chunked bodies, plus the small value
 * parsers the request code needs. One switch per byte, table lookups for
 * character classes, no calls and no allocation on the per-byte path.
 *
 * Every parser's start state is 0, so one struct serves a request line and
 * then its header lines. The other states of each parser live in their own
 * numeric range so that sl_http_parse_relocate() can tell from p->state
 * which item is partial.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_hash.h"
#include "sl_http_parse.h"

#define SL_HTTP_C_URI 0x01    /* a target byte needing no attention inside a segment */
#define SL_HTTP_C_ARGS 0x02   /* a query byte: visible, not '#' */
#define SL_HTTP_C_HOST 0x04   /* reg-name: unreserved, sub-delims, '%' */
#define SL_HTTP_C_SCHEME 0x08 /* ALPHA / DIGIT / "+" / "-" / "." */
#define SL_HTTP_C_VCHAR 0x10  /* field-vchar: VCHAR or obs-text */
#define SL_HTTP_C_QDTEXT 0x20 /* qdtext of a quoted-string */
#define SL_HTTP_C_HEX 0x40

/* a tchar (RFC 9110 5.6.2) maps to its lowercase form, anything else to 0 */
static const u_char sl_http_token_lc[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 00 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 08 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 10 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 18 */
    0x00, 0x21, 0x00, 0x23, 0x24, 0x25, 0x26, 0x27, /* 20 */
    0x00, 0x00, 0x2a, 0x2b, 0x00, 0x2d, 0x2e, 0x00, /* 28 */
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, /* 30 */
    0x38, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 38 */
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, /* 40 */
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, /* 48 */
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, /* 50 */
    0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x5e, 0x5f, /* 58 */
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, /* 60 */
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, /* 68 */
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, /* 70 */
    0x78, 0x79, 0x7a, 0x00, 0x7c, 0x00, 0x7e, 0x00, /* 78 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 80 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 88 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 90 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 98 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* a0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* a8 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* b0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* b8 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* c0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* c8 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* d0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* d8 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* e0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* e8 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* f0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* f8 */
};
/* SL_HTTP_C_* bits of every byte */
static const u_char sl_http_char_class[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 00 */
    0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 08 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 10 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 18 */
    0x20, 0x37, 0x13, 0x30, 0x37, 0x36, 0x37, 0x37, /* 20 */
    0x37, 0x37, 0x37, 0x3e, 0x37, 0x3f, 0x3f, 0x32, /* 28 */
    0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, /* 30 */
    0x7f, 0x7f, 0x33, 0x37, 0x33, 0x37, 0x33, 0x32, /* 38 */
    0x33, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f, /* 40 */
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, /* 48 */
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, /* 50 */
    0x3f, 0x3f, 0x3f, 0x33, 0x12, 0x33, 0x33, 0x37, /* 58 */
    0x33, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x3f, /* 60 */
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, /* 68 */
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, /* 70 */
    0x3f, 0x3f, 0x3f, 0x33, 0x33, 0x33, 0x37, 0x00, /* 78 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* 80 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* 88 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* 90 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* 98 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* a0 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* a8 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* b0 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* b8 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* c0 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* c8 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* d0 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* d8 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* e0 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* e8 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* f0 */
    0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, /* f8 */
};

enum {
    sw_start = 0,

    /* request line: 1 .. 99 */
    sw_start_cr = 1,
    sw_method,
    sw_target_start,
    sw_asterisk,
    sw_schema,
    sw_schema_slash,
    sw_schema_slash_slash,
    sw_host_start,
    sw_host,
    sw_host_ip_literal,
    sw_host_end,
    sw_port,
    sw_after_slash_in_uri,
    sw_check_uri,
    sw_args,
    sw_version_h,
    sw_version_t1,
    sw_version_t2,
    sw_version_p,
    sw_version_slash,
    sw_version_major,
    sw_version_dot,
    sw_version_minor,
    sw_version_end,
    sw_almost_done,

    /* header line: 100 .. 199 */
    sw_name = 100,
    sw_space_before_value,
    sw_value,
    sw_space_after_value,
    sw_value_almost_done,
    sw_header_almost_done,

    /* status line: 200 .. 299 */
    sw_status_t1 = 200,
    sw_status_t2,
    sw_status_p,
    sw_status_slash,
    sw_status_major,
    sw_status_dot,
    sw_status_minor,
    sw_status_space,
    sw_status_code1,
    sw_status_code2,
    sw_status_code3,
    sw_status_after_code,
    sw_status_reason,
    sw_status_almost_done
};

#define SL_HTTP_HEADER_STATES 100
#define SL_HTTP_STATUS_STATES 200
#define SL_HTTP_END_STATES 300

/* The method bit of a complete method token (called once per request). */
static sl_uint_t
sl_http_method_id(const u_char *m, size_t len)
{
    switch (len) {
    case 3:
        if (memcmp(m, "GET", 3) == 0) {
            return SL_HTTP_GET;
        }
        if (memcmp(m, "PUT", 3) == 0) {
            return SL_HTTP_PUT;
        }
        break;
    case 4:
        if (memcmp(m, "POST", 4) == 0) {
            return SL_HTTP_POST;
        }
        if (memcmp(m, "HEAD", 4) == 0) {
            return SL_HTTP_HEAD;
        }
        break;
    case 5:
        if (memcmp(m, "PATCH", 5) == 0) {
            return SL_HTTP_PATCH;
        }
        if (memcmp(m, "TRACE", 5) == 0) {
            return SL_HTTP_TRACE;
        }
        break;
    case 6:
        if (memcmp(m, "DELETE", 6) == 0) {
            return SL_HTTP_DELETE;
        }
        break;
    case 7:
        if (memcmp(m, "OPTIONS", 7) == 0) {
            return SL_HTTP_OPTIONS;
        }
        if (memcmp(m, "CONNECT", 7) == 0) {
            return SL_HTTP_CONNECT;
        }
        break;
    }

    return SL_HTTP_UNKNOWN;
}

/* Clears what a previous request on the same struct left behind. */
static void
sl_http_parse_reset_request(sl_http_parse_t *r)
{
    r->request_end = NULL;
    r->method_end = NULL;
    r->uri_start = NULL;
    r->uri_end = NULL;
    r->args_start = NULL;
    r->schema_start = NULL;
    r->schema_end = NULL;
    r->host_start = NULL;
    r->host_end = NULL;
    r->port_start = NULL;
    r->port_end = NULL;
    r->http_protocol_start = NULL;
    r->method = SL_HTTP_UNKNOWN;
    r->http_major = 0;
    r->http_minor = 0;
    r->http_version = 0;
    r->complex_uri = 0;
    r->quoted_uri = 0;
    r->plus_in_uri = 0;
    r->empty_path_in_uri = 0;
}

sl_int_t
sl_http_parse_request_line(sl_http_parse_t *r, sl_buf_t *b)
{
    u_char ch, *p;
    sl_uint_t state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {
        case sw_start:
            /* RFC 9112 2.2: empty lines before the request line are skipped */
            r->request_start = p;
            if (ch == CR) {
                state = sw_start_cr;
                break;
            }
            if (ch == LF) {
                break;
            }
            if (sl_http_token_lc[ch] == 0) {
                goto invalid;
            }
            sl_http_parse_reset_request(r);
            state = sw_method;
            break;

        case sw_start_cr:
            if (ch != LF) {
                goto invalid;
            }
            state = sw_start;
            break;

        case sw_method:
            if (sl_http_token_lc[ch]) {
                break;
            }
            if (ch != ' ') {
                goto invalid;
            }
            r->method_end = p;
            r->method = sl_http_method_id(r->request_start, (size_t) (p - r->request_start));
            state = sw_target_start;
            break;

        case sw_target_start:
            r->uri_start = p;

            if (r->method == SL_HTTP_CONNECT) {
                /* authority-form, and nothing else (RFC 9112 3.2.3) */
                r->host_start = p;
                if (ch == '[') {
                    state = sw_host_ip_literal;
                    break;
                }
                if (sl_http_char_class[ch] & SL_HTTP_C_HOST) {
                    state = sw_host;
                    break;
                }
                goto invalid;
            }

            if (ch == '/') {
                state = sw_after_slash_in_uri;
                break;
            }
            if (ch == '*') {
                state = sw_asterisk;
                break;
            }
            if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
                r->uri_start = NULL;
                r->schema_start = p;
                state = sw_schema;
                break;
            }
            goto invalid;

        case sw_asterisk:
            if (ch != ' ') {
                goto invalid;
            }
            r->uri_end = p;
            state = sw_version_h;
            break;

        case sw_schema:
            if (sl_http_char_class[ch] & SL_HTTP_C_SCHEME) {
                break;
            }
            if (ch != ':') {
                goto invalid;
            }
            r->schema_end = p;
            state = sw_schema_slash;
            break;

        case sw_schema_slash:
            if (ch != '/') {
                goto invalid;
            }
            state = sw_schema_slash_slash;
            break;

        case sw_schema_slash_slash:
            if (ch != '/') {
                goto invalid;
            }
            state = sw_host_start;
            break;

        case sw_host_start:
            /* an empty host is invalid for http (RFC 9110 4.2.1); so is userinfo */
            r->host_start = p;
            if (ch == '[') {
                state = sw_host_ip_literal;
                break;
            }
            if (sl_http_char_class[ch] & SL_HTTP_C_HOST) {
                state = sw_host;
                break;
            }
            goto invalid;

        case sw_host_ip_literal:
            if (ch == ']') {
                if (p == r->host_start + 1) {
                    goto invalid;
                }
                r->host_end = p + 1;
                state = sw_host_end;
                break;
            }
            if ((sl_http_char_class[ch] & SL_HTTP_C_HOST) || ch == ':') {
                break;
            }
            goto invalid;

        case sw_host:
            if (sl_http_char_class[ch] & SL_HTTP_C_HOST) {
                break;
            }
            r->host_end = p;
            goto host_end;

        case sw_host_end:
        host_end:
            if (ch == ':') {
                r->port_start = p + 1;
                state = sw_port;
                break;
            }
            goto authority_done;

        case sw_port:
            if (ch >= '0' && ch <= '9') {
                break;
            }
            r->port_end = p;

        authority_done:
            if (r->method == SL_HTTP_CONNECT) {
                if (ch != ' ' || r->port_end == NULL || r->port_end == r->port_start) {
                    goto invalid;
                }
                r->uri_end = p;
                state = sw_version_h;
                break;
            }

            switch (ch) {
            case '/':
                r->uri_start = p;
                state = sw_after_slash_in_uri;
                break;
            case '?':
                r->uri_start = p;
                r->empty_path_in_uri = 1;
                r->args_start = p + 1;
                state = sw_args;
                break;
            case ' ':
                r->uri_start = p;
                r->uri_end = p;
                r->empty_path_in_uri = 1;
                state = sw_version_h;
                break;
            default:
                goto invalid;
            }
            break;

        case sw_after_slash_in_uri:
            switch (ch) {
            case '/':
            case '.':
            case '\\':
                r->complex_uri = 1;
                state = (ch == '/') ? sw_after_slash_in_uri : sw_check_uri;
                break;
            case '%':
                r->quoted_uri = 1;
                r->complex_uri = 1;
                state = sw_check_uri;
                break;
            case '+':
                r->plus_in_uri = 1;
                state = sw_check_uri;
                break;
            case '?':
                r->args_start = p + 1;
                state = sw_args;
                break;
            case ' ':
                r->uri_end = p;
                state = sw_version_h;
                break;
            default:
                if ((sl_http_char_class[ch] & SL_HTTP_C_URI) == 0) {
                    goto invalid;
                }
                state = sw_check_uri;
                break;
            }
            break;

        case sw_check_uri:
            if (sl_http_char_class[ch] & SL_HTTP_C_URI) {
                /* the common run of plain bytes, without a trip through the switch */
                while (p + 1 < b->last && (sl_http_char_class[p[1]] & SL_HTTP_C_URI)) {
                    p++;
                }
                break;
            }
            switch (ch) {
            case '/':
                state = sw_after_slash_in_uri;
                break;
            case '%':
                r->quoted_uri = 1;
                r->complex_uri = 1;
                break;
            case '\\':
                r->complex_uri = 1;
                break;
            case '+':
                r->plus_in_uri = 1;
                break;
            case '?':
                r->args_start = p + 1;
                state = sw_args;
                break;
            case ' ':
                r->uri_end = p;
                state = sw_version_h;
                break;
            default:
                /* CTL, DEL, '#', and CR or LF of an HTTP/0.9 line */
                goto invalid;
            }
            break;

        case sw_args:
            if (sl_http_char_class[ch] & SL_HTTP_C_ARGS) {
                while (p + 1 < b->last && (sl_http_char_class[p[1]] & SL_HTTP_C_ARGS)) {
                    p++;
                }
                break;
            }
            if (ch != ' ') {
                goto invalid;
            }
            r->uri_end = p;
            state = sw_version_h;
            break;

        case sw_version_h:
            /* exactly one SP before the version, and no HTTP/0.9 */
            if (ch != 'H') {
                goto invalid;
            }
            r->http_protocol_start = p;
            state = sw_version_t1;
            break;

        case sw_version_t1:
            if (ch != 'T') {
                goto invalid;
            }
            state = sw_version_t2;
            break;

        case sw_version_t2:
            if (ch != 'T') {
                goto invalid;
            }
            state = sw_version_p;
            break;

        case sw_version_p:
            if (ch != 'P') {
                goto invalid;
            }
            state = sw_version_slash;
            break;

        case sw_version_slash:
            if (ch != '/') {
                goto invalid;
            }
            state = sw_version_major;
            break;

        case sw_version_major:
            if (ch < '1' || ch > '9') {
                goto invalid;
            }
            r->http_major = ch - '0';
            state = sw_version_dot;
            break;

        case sw_version_dot:
            if (ch != '.') {
                goto invalid;
            }
            state = sw_version_minor;
            break;

        case sw_version_minor:
            if (ch < '0' || ch > '9') {
                goto invalid;
            }
            r->http_minor = ch - '0';
            state = sw_version_end;
            break;

        case sw_version_end:
            r->request_end = p;
            if (ch == CR) {
                state = sw_almost_done;
                break;
            }
            if (ch == LF) {
                goto done;
            }
            goto invalid;

        case sw_almost_done:
            /* a bare CR is not a line end (RFC 9112 2.2) */
            if (ch == LF) {
                goto done;
            }
            goto invalid;

        default:
            goto invalid;
        }
    }

    b->pos = p;
    r->state = state;

    return SL_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;
    r->http_version = r->http_major * 1000 + r->http_minor;

    if (r->http_major > 1) {
        return SL_HTTP_PARSE_INVALID_VERSION;
    }

    if (r->method == SL_HTTP_CONNECT) {
        return SL_HTTP_PARSE_INVALID_METHOD;
    }

    if (*r->uri_start == '*' && r->method != SL_HTTP_OPTIONS) {
        /* the asterisk-form is for a server-wide OPTIONS only */
        return SL_HTTP_PARSE_INVALID_REQUEST;
    }

    return SL_OK;

invalid:

    b->pos = p;
    r->state = sw_start;

    return SL_HTTP_PARSE_INVALID_REQUEST;
}

sl_int_t
sl_http_parse_header_line(sl_http_parse_t *r, sl_buf_t *b, sl_uint_t lowcase)
{
    u_char c, ch, *p;
    sl_uint_t hash, i, state;

    state = r->state;
    hash = r->header_hash;
    i = r->lowcase_index;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {
        case sw_start:
            r->header_name_start = p;
            r->header_name_end = NULL;
            r->header_start = NULL;
            r->header_end = NULL;

            c = sl_http_token_lc[ch];
            if (c) {
                hash = c;
                if (lowcase) {
                    r->lowcase_header[0] = c;
                }
                i = 1;
                state = sw_name;
                break;
            }

            if (ch == CR) {
                r->header_end = p;
                state = sw_header_almost_done;
                break;
            }
            if (ch == LF) {
                r->header_end = p;
                goto header_done;
            }

            /* an empty name, or SP / HTAB: obs-fold, or whitespace after the start line */
            goto invalid;

        case sw_name:
            c = sl_http_token_lc[ch];
            if (c) {
                for (;;) {
                    hash = sl_hash(hash, c);
                    if (lowcase && i < SL_HTTP_LC_HEADER_LEN) {
                        r->lowcase_header[i] = c;
                    }
                    i++;
                    if (p + 1 == b->last || (c = sl_http_token_lc[p[1]]) == 0) {
                        break;
                    }
                    p++;
                }
                break;
            }
            if (ch == ':') {
                r->header_name_end = p;
                state = sw_space_before_value;
                break;
            }
            /* whitespace before the colon (RFC 9112 5.1), CTL, a line without colon */
            goto invalid;

        case sw_space_before_value:
            if (sl_http_char_class[ch] & SL_HTTP_C_VCHAR) {
                r->header_start = p;
                state = sw_value;
                break;
            }
            switch (ch) {
            case ' ':
            case '\t':
                break;
            case CR:
                r->header_start = p;
                r->header_end = p;
                state = sw_value_almost_done;
                break;
            case LF:
                r->header_start = p;
                r->header_end = p;
                goto done;
            default:
                goto invalid;
            }
            break;

        case sw_value:
            if (sl_http_char_class[ch] & SL_HTTP_C_VCHAR) {
                while (p + 1 < b->last && (sl_http_char_class[p[1]] & SL_HTTP_C_VCHAR)) {
                    p++;
                }
                break;
            }
            switch (ch) {
            case ' ':
            case '\t':
                r->header_end = p;
                state = sw_space_after_value;
                break;
            case CR:
                r->header_end = p;
                state = sw_value_almost_done;
                break;
            case LF:
                r->header_end = p;
                goto done;
            default:
                goto invalid;
            }
            break;

        case sw_space_after_value:
            if (sl_http_char_class[ch] & SL_HTTP_C_VCHAR) {
                state = sw_value;
                break;
            }
            switch (ch) {
            case ' ':
            case '\t':
                break;
            case CR:
                state = sw_value_almost_done;
                break;
            case LF:
                goto done;
            default:
                goto invalid;
            }
            break;

        case sw_value_almost_done:
            if (ch == LF) {
                goto done;
            }
            goto invalid;

        case sw_header_almost_done:
            if (ch == LF) {
                goto header_done;
            }
            goto invalid;

        default:
            goto invalid;
        }
    }

    b->pos = p;
    r->state = state;
    r->header_hash = hash;
    r->lowcase_index = i;

    return SL_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;
    r->header_hash = hash;
    r->lowcase_index = (lowcase && i <= SL_HTTP_LC_HEADER_LEN) ? i : 0;

    return SL_OK;

header_done:

    b->pos = p + 1;
    r->state = sw_start;
    r->lowcase_index = 0;

    return SL_HTTP_PARSE_HEADER_DONE;

invalid:

    b->pos = p;
    r->state = sw_start;
    r->lowcase_index = 0;

    return SL_HTTP_PARSE_INVALID_HEADER;
}

sl_int_t
sl_http_parse_status_line(sl_http_parse_t *r, sl_buf_t *b)
{
    u_char ch, *p;
    sl_uint_t state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {
        case sw_start:
            r->request_start = p;
            r->request_end = NULL;
            r->status_start = NULL;
            r->status_end = NULL;
            r->status = 0;
            r->http_major = 0;
            r->http_minor = 0;
            r->http_version = 0;
            if (ch != 'H') {
                goto invalid;
            }
            state = sw_status_t1;
            break;

        case sw_status_t1:
        case sw_status_t2:
            if (ch != 'T') {
                goto invalid;
            }
            state++;
            break;

        case sw_status_p:
            if (ch != 'P') {
                goto invalid;
            }
            state = sw_status_slash;
            break;

        case sw_status_slash:
            if (ch != '/') {
                goto invalid;
            }
            state = sw_status_major;
            break;

        case sw_status_major:
            if (ch != '1') {
                goto invalid;
            }
            r->http_major = 1;
            state = sw_status_dot;
            break;

        case sw_status_dot:
            if (ch != '.') {
                goto invalid;
            }
            state = sw_status_minor;
            break;

        case sw_status_minor:
            if (ch < '0' || ch > '9') {
                goto invalid;
            }
            r->http_minor = ch - '0';
            state = sw_status_space;
            break;

        case sw_status_space:
            if (ch != ' ') {
                goto invalid;
            }
            state = sw_status_code1;
            break;

        case sw_status_code1:
            if (ch < '1' || ch > '9') {
                goto invalid;
            }
            r->status_start = p;
            r->status = ch - '0';
            state = sw_status_code2;
            break;

        case sw_status_code2:
        case sw_status_code3:
            if (ch < '0' || ch > '9') {
                goto invalid;
            }
            r->status = r->status * 10 + (ch - '0');
            state++;
            break;

        case sw_status_after_code:
            switch (ch) {
            case ' ':
                state = sw_status_reason;
                break;
            case CR:
                r->status_end = p;
                state = sw_status_almost_done;
                break;
            case LF:
                r->status_end = p;
                goto done;
            default:
                goto invalid;
            }
            break;

        case sw_status_reason:
            if ((sl_http_char_class[ch] & SL_HTTP_C_VCHAR) || ch == ' ' || ch == '\t') {
                break;
            }
            r->status_end = p;
            if (ch == CR) {
                state = sw_status_almost_done;
                break;
            }
            if (ch == LF) {
                goto done;
            }
            goto invalid;

        case sw_status_almost_done:
            if (ch == LF) {
                goto done;
            }
            goto invalid;

        default:
            goto invalid;
        }
    }

    b->pos = p;
    r->state = state;

    return SL_AGAIN;

done:

    b->pos = p + 1;
    r->request_end = r->status_end;
    r->http_version = r->http_major * 1000 + r->http_minor;
    r->state = sw_start;

    return SL_OK;

invalid:

    b->pos = p;
    r->state = sw_start;

    return SL_HTTP_PARSE_INVALID_STATUS;
}

enum {
    sw_chunk_start = 0,
    sw_chunk_size,
    sw_chunk_size_ws,
    sw_chunk_ext_name_start,
    sw_chunk_ext_name,
    sw_chunk_ext_after_name,
    sw_chunk_ext_value_start,
    sw_chunk_ext_token,
    sw_chunk_ext_quoted,
    sw_chunk_ext_quoted_pair,
    sw_chunk_ext_after_value,
    sw_chunk_size_almost_done,
    sw_chunk_data,
    sw_after_data,
    sw_after_data_almost_done,
    sw_trailer_start,
    sw_trailer_name,
    sw_trailer_value,
    sw_trailer_almost_done,
    sw_last_almost_done
};

sl_int_t
sl_http_parse_chunked(sl_http_chunked_t *ctx, sl_buf_t *b)
{
    u_char ch, c, *pos;
    off_t size;
    size_t count;
    sl_int_t rc;
    sl_uint_t state;

    state = ctx->state;
    size = ctx->size;
    count = ctx->count;

    if (state == sw_chunk_data && size == 0) {
        state = sw_after_data;
    }

    rc = SL_AGAIN;

    for (pos = b->pos; pos < b->last; pos++) {
        ch = *pos;

        /*
         * The chunk line (with its CRLF) and the trailer section are bounded;
         * chunk data is never looped over byte by byte.
         */
        if (state != sw_chunk_data
            && ++count > ((state >= sw_trailer_start) ? SL_HTTP_MAX_TRAILERS
                                                      : SL_HTTP_MAX_CHUNK_LINE + 2)) {
            goto invalid;
        }

        switch (state) {
        case sw_chunk_start:
            /* no leading whitespace, sign or "0x" (RFC 9112 7.1) */
            if ((sl_http_char_class[ch] & SL_HTTP_C_HEX) == 0) {
                goto invalid;
            }
            size = (ch <= '9') ? ch - '0' : (ch | 0x20) - 'a' + 10;
            state = sw_chunk_size;
            break;

        case sw_chunk_size:
            if (sl_http_char_class[ch] & SL_HTTP_C_HEX) {
                if (size > (SL_HTTP_MAX_CHUNK_SIZE >> 4)) {
                    goto invalid;
                }
                size = size * 16 + ((ch <= '9') ? ch - '0' : (ch | 0x20) - 'a' + 10);
                break;
            }
            switch (ch) {
            case ' ':
            case '\t':
                /* BWS is allowed only before a chunk-ext */
                state = sw_chunk_size_ws;
                break;
            case ';':
                state = sw_chunk_ext_name_start;
                break;
            case CR:
                state = sw_chunk_size_almost_done;
                break;
            case LF:
                goto size_line_done;
            default:
                goto invalid;
            }
            break;

        case sw_chunk_size_ws:
            if (ch == ' ' || ch == '\t') {
                break;
            }
            if (ch != ';') {
                goto invalid;
            }
            state = sw_chunk_ext_name_start;
            break;

        case sw_chunk_ext_name_start:
            if (ch == ' ' || ch == '\t') {
                break;
            }
            if (sl_http_token_lc[ch] == 0) {
                goto invalid;
            }
            state = sw_chunk_ext_name;
            break;

        case sw_chunk_ext_name:
            if (sl_http_token_lc[ch]) {
                break;
            }
            goto ext_after_name;

        case sw_chunk_ext_after_name:
        ext_after_name:
            switch (ch) {
            case ' ':
            case '\t':
                state = sw_chunk_ext_after_name;
                break;
            case '=':
                state = sw_chunk_ext_value_start;
                break;
            case ';':
                state = sw_chunk_ext_name_start;
                break;
            case CR:
                state = sw_chunk_size_almost_done;
                break;
            case LF:
                goto size_line_done;
            default:
                goto invalid;
            }
            break;

        case sw_chunk_ext_value_start:
            if (ch == ' ' || ch == '\t') {
                break;
            }
            if (ch == '"') {
                state = sw_chunk_ext_quoted;
                break;
            }
            if (sl_http_token_lc[ch] == 0) {
                goto invalid;
            }
            state = sw_chunk_ext_token;
            break;

        case sw_chunk_ext_quoted:
            if (ch == '"') {
                state = sw_chunk_ext_after_value;
                break;
            }
            if (ch == '\\') {
                state = sw_chunk_ext_quoted_pair;
                break;
            }
            if (sl_http_char_class[ch] & SL_HTTP_C_QDTEXT) {
                break;
            }
            goto invalid;

        case sw_chunk_ext_quoted_pair:
            if ((sl_http_char_class[ch] & SL_HTTP_C_VCHAR) || ch == ' ' || ch == '\t') {
                state = sw_chunk_ext_quoted;
                break;
            }
            goto invalid;

        case sw_chunk_ext_token:
            if (sl_http_token_lc[ch]) {
                break;
            }
            goto ext_after_value;

        case sw_chunk_ext_after_value:
        ext_after_value:
            switch (ch) {
            case ' ':
            case '\t':
                state = sw_chunk_ext_after_value;
                break;
            case ';':
                state = sw_chunk_ext_name_start;
                break;
            case CR:
                state = sw_chunk_size_almost_done;
                break;
            case LF:
                goto size_line_done;
            default:
                goto invalid;
            }
            break;

        case sw_chunk_size_almost_done:
            if (ch != LF) {
                goto invalid;
            }

        size_line_done:
            count = 0;
            state = (size == 0) ? sw_trailer_start : sw_chunk_data;
            break;

        case sw_chunk_data:
            rc = SL_OK;
            goto data;

        case sw_after_data:
            /* the chunk data is followed by exactly CRLF (or LF) */
            if (ch == CR) {
                state = sw_after_data_almost_done;
                break;
            }
            if (ch == LF) {
                state = sw_chunk_start;
                count = 0;
                break;
            }
            goto invalid;

        case sw_after_data_almost_done:
            if (ch != LF) {
                goto invalid;
            }
            state = sw_chunk_start;
            count = 0;
            break;

        case sw_trailer_start:
            c = sl_http_token_lc[ch];
            if (c) {
                state = sw_trailer_name;
                break;
            }
            if (ch == CR) {
                state = sw_last_almost_done;
                break;
            }
            if (ch == LF) {
                goto done;
            }
            /* obs-fold, an empty name, a CTL */
            goto invalid;

        case sw_trailer_name:
            if (sl_http_token_lc[ch]) {
                break;
            }
            if (ch != ':') {
                goto invalid;
            }
            state = sw_trailer_value;
            break;

        case sw_trailer_value:
            if ((sl_http_char_class[ch] & SL_HTTP_C_VCHAR) || ch == ' ' || ch == '\t') {
                break;
            }
            if (ch == CR) {
                state = sw_trailer_almost_done;
                break;
            }
            if (ch == LF) {
                state = sw_trailer_start;
                break;
            }
            goto invalid;

        case sw_trailer_almost_done:
            if (ch != LF) {
                goto invalid;
            }
            state = sw_trailer_start;
            break;

        case sw_last_almost_done:
            if (ch != LF) {
                goto invalid;
            }
            goto done;

        default:
            goto invalid;
        }
    }

data:

    ctx->state = state;
    ctx->size = size;
    ctx->count = count;
    b->pos = pos;

    /* the least that must still arrive, counting bare LFs; size <= 2^60 so no overflow */
    switch (state) {
    case sw_chunk_start:
        ctx->length = 3; /* "0" LF LF */
        break;
    case sw_chunk_size:
    case sw_chunk_size_ws:
    case sw_chunk_ext_name_start:
    case sw_chunk_ext_name:
    case sw_chunk_ext_after_name:
    case sw_chunk_ext_value_start:
    case sw_chunk_ext_token:
    case sw_chunk_ext_quoted:
    case sw_chunk_ext_quoted_pair:
    case sw_chunk_ext_after_value:
    case sw_chunk_size_almost_done:
        ctx->length = 1 /* LF */ + (size ? size + 4 /* LF "0" LF LF */ : 1 /* LF */);
        break;
    case sw_chunk_data:
        ctx->length = size + 4 /* LF "0" LF LF */;
        break;
    case sw_after_data:
    case sw_after_data_almost_done:
        ctx->length = 4; /* LF "0" LF LF */
        break;
    case sw_trailer_start:
    case sw_last_almost_done:
        ctx->length = 1; /* LF */
        break;
    default:
        ctx->length = 2; /* LF LF */
        break;
    }

    return rc;

done:

    b->pos = pos + 1;
    ctx->state = sw_chunk_start;
    ctx->size = 0;
    ctx->count = 0;
    ctx->length = 0;

    return SL_DONE;

invalid:

    b->pos = pos;
    ctx->state = sw_chunk_start;

    return SL_ERROR;
}

/* Removes the last segment of dst..*u, which ends with '/'; SL_ERROR at the root. */
static sl_int_t
sl_http_remove_segment(u_char *dst, u_char **u)
{
    u_char *q;

    q = *u;

    if (q - dst == 1) {
        return SL_ERROR;
    }

    q--;
    while (q[-1] != '/') {
        q--;
    }

    *u = q;

    return SL_OK;
}

sl_int_t
sl_http_normalize_uri(const u_char *src, size_t len, u_char *dst, size_t *dst_len, sl_uint_t flags)
{
    u_char c, hi, lo, *u;
    const u_char *s, *end;
    enum { st_slash = 0, st_segment, st_dot, st_dot_dot } state;

    if (len == 0) {
        dst[0] = '/';
        *dst_len = 1;
        return SL_OK;
    }

    if (src[0] != '/') {
        return SL_HTTP_PARSE_INVALID_REQUEST;
    }

    /*
     * Output never overtakes input: every byte written was read first, and
     * dots are written only after what follows them is read. So dst may be src.
     */
    u = dst;
    *u++ = '/';
    state = st_slash;
    end = src + len;

    for (s = src + 1; s < end; s++) {
        c = *s;

        if (c == '%') {
            if (end - s < 3) {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }
            hi = s[1];
            lo = s[2];
            if ((sl_http_char_class[hi] & SL_HTTP_C_HEX) == 0
                || (sl_http_char_class[lo] & SL_HTTP_C_HEX) == 0) {
                return SL_HTTP_PARSE_INVALID_REQUEST;
            }
            hi = (hi <= '9') ? hi - '0' : (hi | 0x20) - 'a' + 10;
            lo = (lo <= '9') ? lo - '0' : (lo | 0x20) - 'a' + 10;
            c = (u_char) ((hi << 4) | lo);
            s += 2;
        }

        if (c == '\0') {
            return SL_HTTP_PARSE_INVALID_REQUEST;
        }

        switch (state) {
        case st_slash:
            if (c == '/') {
                if ((flags & SL_HTTP_MERGE_SLASHES) == 0) {
                    *u++ = '/';
                }
                break;
            }
            if (c == '.') {
                state = st_dot;
                break;
            }
            *u++ = c;
            state = st_segment;
            break;

        case st_segment:
            *u++ = c;
            if (c == '/') {
                state = st_slash;
            }
            break;

        case st_dot:
            if (c == '/') {
                /* "./" is dropped */
                state = st_slash;
                break;
            }
            if (c == '.') {
                state = st_dot_dot;
                break;
            }
            *u++ = '.';
            *u++ = c;
            state = st_segment;
            break;

        case st_dot_dot:
            if (c == '/') {
                if (sl_http_remove_segment(dst, &u) != SL_OK) {
                    return SL_HTTP_PARSE_INVALID_REQUEST;
                }
                state = st_slash;
                break;
            }
            *u++ = '.';
            *u++ = '.';
            *u++ = c;
            state = st_segment;
            break;
        }
    }

    if (state == st_dot_dot && sl_http_remove_segment(dst, &u) != SL_OK) {
        return SL_HTTP_PARSE_INVALID_REQUEST;
    }

    *dst_len = u - dst;

    return SL_OK;
}

off_t
sl_http_parse_content_length(const u_char *v, size_t len)
{
    off_t n;
    size_t i;
    u_char d;

    if (len == 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }
        d = v[i] - '0';
        if (n > (SL_MAX_OFF_T_VALUE - d) / 10) {
            return -1;
        }
        n = n * 10 + d;
    }

    return n;
}

/* Skips a token from *pos; returns its length (0 when there is none). */
static size_t
sl_http_skip_token(const u_char **pos, const u_char *end)
{
    const u_char *p, *start;

    start = *pos;

    for (p = start; p < end && sl_http_token_lc[*p]; p++) {
        /* void */
    }

    *pos = p;

    return (size_t) (p - start);
}

sl_int_t
sl_http_parse_transfer_encoding(const u_char *v, size_t len)
{
    const u_char *p, *end, *start;
    size_t n;
    sl_uint_t codings, empty, params, chunked;

    p = v;
    end = v + len;
    codings = 0;
    empty = 0;
    params = 0;
    chunked = 0;

    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == end || *p == ',') {
            /* an empty list element: legal (RFC 9110 5.6.1), but not "chunked" alone */
            empty++;
            if (p == end) {
                break;
            }
            p++;
            continue;
        }

        start = p;
        n = sl_http_skip_token(&p, end);
        if (n == 0) {
            return SL_HTTP_TE_INVALID;
        }

        codings++;
        if (n == 7 && sl_http_token_lc[start[0]] == 'c' && sl_http_token_lc[start[1]] == 'h'
            && sl_http_token_lc[start[2]] == 'u' && sl_http_token_lc[start[3]] == 'n'
            && sl_http_token_lc[start[4]] == 'k' && sl_http_token_lc[start[5]] == 'e'
            && sl_http_token_lc[start[6]] == 'd') {
            chunked++;
        }

        /* *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ) */
        for (;;) {
            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }
            if (p == end || *p != ';') {
                break;
            }
            p++;
            params++;

            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }
            if (sl_http_skip_token(&p, end) == 0) {
                return SL_HTTP_TE_INVALID;
            }
            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }
            if (p == end || *p != '=') {
                return SL_HTTP_TE_INVALID;
            }
            p++;
            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }

            if (p < end && *p == '"') {
                for (p++; p < end && *p != '"'; p++) {
                    if (*p == '\\') {
                        p++;
                        if (p == end
                            || ((sl_http_char_class[*p] & SL_HTTP_C_VCHAR) == 0 && *p != ' '
                                && *p != '\t')) {
                            return SL_HTTP_TE_INVALID;
                        }
                        continue;
                    }
                    if ((sl_http_char_class[*p] & SL_HTTP_C_QDTEXT) == 0) {
                        return SL_HTTP_TE_INVALID;
                    }
                }
                if (p == end) {
                    return SL_HTTP_TE_INVALID;
                }
                p++;

            } else if (sl_http_skip_token(&p, end) == 0) {
                return SL_HTTP_TE_INVALID;
            }
        }

        if (p == end) {
            break;
        }
        if (*p != ',') {
            return SL_HTTP_TE_INVALID;
        }
        p++;
        if (p == end) {
            empty++;
            break;
        }
    }

    if (codings == 0) {
        return SL_HTTP_TE_INVALID;
    }

    if (codings == 1 && chunked == 1 && empty == 0 && params == 0) {
        return SL_HTTP_TE_CHUNKED;
    }

    return SL_HTTP_TE_OTHER;
}

sl_uint_t
sl_http_parse_before_request(const sl_http_parse_t *p)
{
    return p->state == sw_start || p->state == sw_start_cr;
}

u_char *
sl_http_parse_pending(const sl_http_parse_t *p)
{
    if (p->state == sw_start) {
        return NULL;
    }

    if (p->state < SL_HTTP_HEADER_STATES) {
        return p->request_start;
    }

    if (p->state < SL_HTTP_STATUS_STATES) {
        return p->header_name_start;
    }

    if (p->state < SL_HTTP_END_STATES) {
        return p->request_start;
    }

    return NULL;
}

/* Integer arithmetic, so that no pointer is ever formed outside its object. */
#define sl_http_shift(f) \
    do { \
        if (f) { \
            f = (u_char *) ((uintptr_t) new_base + ((uintptr_t) (f) - (uintptr_t) old_base)); \
        } \
    } while (0)

void
sl_http_parse_relocate(sl_http_parse_t *p, u_char *old_base, u_char *new_base)
{
    if (p->state == sw_start || p->state >= SL_HTTP_END_STATES) {
        return;
    }

    if (p->state < SL_HTTP_HEADER_STATES) {
        sl_http_shift(p->request_start);
        sl_http_shift(p->request_end);
        sl_http_shift(p->method_end);
        sl_http_shift(p->uri_start);
        sl_http_shift(p->uri_end);
        sl_http_shift(p->args_start);
        sl_http_shift(p->schema_start);
        sl_http_shift(p->schema_end);
        sl_http_shift(p->host_start);
        sl_http_shift(p->host_end);
        sl_http_shift(p->port_start);
        sl_http_shift(p->port_end);
        sl_http_shift(p->http_protocol_start);
        return;
    }

    if (p->state < SL_HTTP_STATUS_STATES) {
        sl_http_shift(p->header_name_start);
        sl_http_shift(p->header_name_end);
        sl_http_shift(p->header_start);
        sl_http_shift(p->header_end);
        return;
    }

    sl_http_shift(p->request_start);
    sl_http_shift(p->request_end);
    sl_http_shift(p->status_start);
    sl_http_shift(p->status_end);
}
