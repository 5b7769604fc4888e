/*
 * sl_http_header_filter.c: the last header filter. It turns r->headers_out
 * into the bytes of the response header, byte for byte as nginx writes them
 * (status line, Server, Date, Content-Type, Content-Length, Last-Modified,
 * Location, Transfer-Encoding, Connection, Keep-Alive, then the headers of
 * the list), and hands them to the write filter as one buffer. A response
 * with a body keeps the header queued so that its first write carries both.
 */
#include "sl_core.h"
#include "sl_http.h"

static sl_int_t sl_http_header_filter_init(sl_conf_t *cf);

static sl_http_module_t sl_http_header_filter_module_ctx = {
    NULL,                       /* preconfiguration */
    sl_http_header_filter_init, /* postconfiguration */
    NULL,                       /* create main configuration */
    NULL,                       /* init main configuration */
    NULL,                       /* create server configuration */
    NULL,                       /* merge server configuration */
    NULL,                       /* create location configuration */
    NULL                        /* merge location configuration */
};

sl_module_t sl_http_header_filter_module = { SL_MODULE_V1,
                                             "sl_http_header_filter_module",
                                             SL_HTTP_MODULE,
                                             &sl_http_header_filter_module_ctx,
                                             NULL,
                                             NULL,
                                             NULL,
                                             NULL,
                                             NULL };

static const char sl_http_server_string[] = "Server: sluice" CRLF;
static const char sl_http_server_full_string[] = "Server: " SLUICE_VER CRLF;

/*
 * nginx's status lines, with its wording ("302 Moved Temporarily", "408
 * Request Time-out"). An empty entry prints the bare code, as nginx does.
 */
static sl_str_t sl_http_status_lines_1xx[] = {
    sl_null_string, /* 100 */
    sl_string("101 Switching Protocols"),
};

static sl_str_t sl_http_status_lines_2xx[] = {
    sl_string("200 OK"),
    sl_string("201 Created"),
    sl_string("202 Accepted"),
    sl_null_string, /* 203 */
    sl_string("204 No Content"),
    sl_null_string, /* 205 */
    sl_string("206 Partial Content"),
};

static sl_str_t sl_http_status_lines_3xx[] = {
    sl_null_string, /* 300 */
    sl_string("301 Moved Permanently"),
    sl_string("302 Moved Temporarily"),
    sl_string("303 See Other"),
    sl_string("304 Not Modified"),
    sl_null_string, /* 305 */
    sl_null_string, /* 306 */
    sl_string("307 Temporary Redirect"),
    sl_string("308 Permanent Redirect"),
};

static sl_str_t sl_http_status_lines_4xx[] = {
    sl_string("400 Bad Request"),
    sl_string("401 Unauthorized"),
    sl_string("402 Payment Required"),
    sl_string("403 Forbidden"),
    sl_string("404 Not Found"),
    sl_string("405 Not Allowed"),
    sl_string("406 Not Acceptable"),
    sl_null_string, /* 407 */
    sl_string("408 Request Time-out"),
    sl_string("409 Conflict"),
    sl_string("410 Gone"),
    sl_string("411 Length Required"),
    sl_string("412 Precondition Failed"),
    sl_string("413 Request Entity Too Large"),
    sl_string("414 Request-URI Too Large"),
    sl_string("415 Unsupported Media Type"),
    sl_string("416 Requested Range Not Satisfiable"),
    sl_null_string, /* 417 */
    sl_null_string, /* 418 */
    sl_null_string, /* 419 */
    sl_null_string, /* 420 */
    sl_string("421 Misdirected Request"),
    sl_null_string, /* 422 */
    sl_null_string, /* 423 */
    sl_null_string, /* 424 */
    sl_null_string, /* 425 */
    sl_null_string, /* 426 */
    sl_null_string, /* 427 */
    sl_null_string, /* 428 */
    sl_string("429 Too Many Requests"),
};

static sl_str_t sl_http_status_lines_5xx[] = {
    sl_string("500 Internal Server Error"),
    sl_string("501 Not Implemented"),
    sl_string("502 Bad Gateway"),
    sl_string("503 Service Temporarily Unavailable"),
    sl_string("504 Gateway Time-out"),
    sl_string("505 HTTP Version Not Supported"),
    sl_null_string, /* 506 */
    sl_string("507 Insufficient Storage"),
};

/* The status line text for a code ("404 Not Found"), or NULL to print the bare code. */
static sl_str_t *
sl_http_status_line(sl_uint_t status)
{
    sl_str_t *line;

    line = NULL;

    if (status >= 100 && status < 100 + sl_nelts(sl_http_status_lines_1xx)) {
        line = &sl_http_status_lines_1xx[status - 100];
    } else if (status >= 200 && status < 200 + sl_nelts(sl_http_status_lines_2xx)) {
        line = &sl_http_status_lines_2xx[status - 200];
    } else if (status >= 300 && status < 300 + sl_nelts(sl_http_status_lines_3xx)) {
        line = &sl_http_status_lines_3xx[status - 300];
    } else if (status >= 400 && status < 400 + sl_nelts(sl_http_status_lines_4xx)) {
        line = &sl_http_status_lines_4xx[status - 400];
    } else if (status >= 500 && status < 500 + sl_nelts(sl_http_status_lines_5xx)) {
        line = &sl_http_status_lines_5xx[status - 500];
    }

    if (line == NULL || line->len == 0) {
        return NULL;
    }
    return line;
}

/* The local port of the connection, from its listener or the socket. */
static sl_uint_t
sl_http_header_local_port(sl_connection_t *c)
{
    sl_sockaddr_t sa;
    socklen_t len;
    const sl_sockaddr_t *ls;

    if (c->listening) {
        ls = &c->listening->sockaddr;
        if (ls->sa.sa_family == AF_INET && ls->sin.sin_port) {
            return ntohs(ls->sin.sin_port);
        }
        if (ls->sa.sa_family == AF_INET6 && ls->sin6.sin6_port) {
            return ntohs(ls->sin6.sin6_port);
        }
    }

    len = sizeof(sa);
    if (getsockname(c->fd, &sa.sa, &len) == -1) {
        return 0;
    }
    if (sa.sa.sa_family == AF_INET) {
        return ntohs(sa.sin.sin_port);
    }
    if (sa.sa.sa_family == AF_INET6) {
        return ntohs(sa.sin6.sin6_port);
    }
    return 0;
}

/*
 * The host of an absolute redirect: server_name when server_name_in_redirect,
 * else the request's Host, else the local address (nginx's order); the
 * server name stands in when even the socket cannot tell.
 */
static sl_int_t
sl_http_header_redirect_host(sl_http_request_t *r, sl_http_core_loc_conf_t *clcf, sl_str_t *host)
{
    size_t n;
    u_char *p;
    socklen_t len;
    sl_sockaddr_t sa;
    sl_http_core_srv_conf_t *cscf;

    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);

    if (clcf->server_name_in_redirect) {
        *host = cscf->server_name;
        return SL_OK;
    }

    if (r->headers_in.server.len) {
        *host = r->headers_in.server;
        return SL_OK;
    }

    len = sizeof(sa);
    if (getsockname(r->connection->fd, &sa.sa, &len) == 0) {
        p = sl_pnalloc(r->pool, INET6_ADDRSTRLEN + 2);
        if (p == NULL) {
            return SL_ERROR;
        }
        n = sl_sock_ntop(&sa.sa, len, p, INET6_ADDRSTRLEN + 2, 0);
        if (n) {
            host->len = n;
            host->data = p;
            return SL_OK;
        }
    }

    *host = cscf->server_name;
    return SL_OK;
}

/*
 * Drops every response field whose value holds a control byte other than
 * HTAB (RFC 9110, 5.5): a CR or LF there would end the field early and let
 * whatever follows be read as a field of its own or as the body. Values
 * built from request data (add_header X-Uri $uri, with a decoded "%0d%0a"
 * in the URI) are how one gets there; the drop is logged. Returns 1 when
 * h was dropped. Called from the pass that sizes the header, so the fields
 * are walked once.
 */
static sl_uint_t
sl_http_header_drop_unsafe(sl_http_request_t *r, sl_table_elt_t *h)
{
    u_char *p, *last;

    p = h->value.data;
    last = p + h->value.len;

    while (p < last && (*p >= 0x20 || *p == '\t') && *p != 0x7f) {
        p++;
    }

    if (p == last) {
        return 0;
    }

    sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                 "response header \"%V\" has a control character in its value, not sent",
                 &h->key);
    h->hash = 0;

    return 1;
}

static sl_int_t
sl_http_header_filter(sl_http_request_t *r)
{
    u_char *p;
    size_t len;
    sl_str_t host, *status_line;
    sl_buf_t *b;
    sl_uint_t status, i, port, charset, absolute;
    sl_chain_t out;
    sl_list_part_t *part;
    sl_table_elt_t *header;
    sl_connection_t *c;
    sl_http_core_loc_conf_t *clcf;

    c = r->connection;

    if (r->header_sent) {
        sl_log_error(SL_LOG_ALERT, c->log, 0, "header already sent");
        return SL_ERROR;
    }

    r->header_sent = 1;

    if (r->method == SL_HTTP_HEAD) {
        r->header_only = 1;
    }

    if (r->headers_out.last_modified_time != -1 && r->headers_out.status != SL_HTTP_OK
        && r->headers_out.status != SL_HTTP_PARTIAL_CONTENT
        && r->headers_out.status != SL_HTTP_NOT_MODIFIED) {
        r->headers_out.last_modified_time = -1;
        r->headers_out.last_modified = NULL;
    }

    if (r->keepalive && (sl_terminate || sl_exiting)) {
        r->keepalive = 0;
    }

    /* "HTTP/1.1 " CRLF, and the CRLF that ends the header */
    len = sizeof("HTTP/1.x ") - 1 + sizeof(CRLF) - 1 + sizeof(CRLF) - 1;

    status = r->headers_out.status;

    if (status >= 100 && status < 200) {
        r->header_only = 1;
    } else if (status == SL_HTTP_NO_CONTENT) {
        r->header_only = 1;
        sl_str_null(&r->headers_out.content_type);
        r->headers_out.last_modified_time = -1;
        r->headers_out.last_modified = NULL;
        r->headers_out.content_length = NULL;
        r->headers_out.content_length_n = -1;
    } else if (status == SL_HTTP_NOT_MODIFIED) {
        r->header_only = 1;
    }

    if (r->headers_out.status_line.len) {
        status_line = &r->headers_out.status_line;
        len += status_line->len;
    } else {
        status_line = sl_http_status_line(status);
        len += status_line ? status_line->len : SL_INT_T_LEN + 1;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (r->headers_out.server == NULL) {
        len += clcf->server_tokens ? sizeof(sl_http_server_full_string) - 1
                                   : sizeof(sl_http_server_string) - 1;
    }

    if (r->headers_out.date == NULL) {
        len += sizeof("Date: Mon, 28 Sep 1970 06:00:00 GMT" CRLF) - 1;
    }

    charset = 0;
    if (r->headers_out.content_type.len) {
        len += sizeof("Content-Type: ") - 1 + r->headers_out.content_type.len + 2;
        if (r->headers_out.charset.len
            && memchr(r->headers_out.content_type.data, ';', r->headers_out.content_type.len)
                   == NULL) {
            charset = 1;
            len += sizeof("; charset=") - 1 + r->headers_out.charset.len;
        }
    }

    if (r->headers_out.content_length == NULL && r->headers_out.content_length_n >= 0) {
        len += sizeof("Content-Length: ") - 1 + SL_OFF_T_LEN + 2;
    }

    if (r->headers_out.last_modified == NULL && r->headers_out.last_modified_time != -1) {
        len += sizeof("Last-Modified: Mon, 28 Sep 1970 06:00:00 GMT" CRLF) - 1;
    }

    port = 0;
    absolute = 0;
    sl_str_null(&host);

    /* Location leaves the list below when made absolute: it is checked here */
    if (r->headers_out.location && r->headers_out.location->hash) {
        (void) sl_http_header_drop_unsafe(r, r->headers_out.location);
    }

    if (r->headers_out.location && r->headers_out.location->hash
        && r->headers_out.location->value.len && r->headers_out.location->value.data[0] == '/'
        && clcf->absolute_redirect) {
        r->headers_out.location->hash = 0;
        absolute = 1;

        if (sl_http_header_redirect_host(r, clcf, &host) != SL_OK) {
            return SL_ERROR;
        }

        if (clcf->port_in_redirect) {
            port = sl_http_header_local_port(c);
            if (port == 80) {
                port = 0;
            }
        }

        len += sizeof("Location: http://") - 1 + host.len + r->headers_out.location->value.len + 2;
        if (port) {
            len += sizeof(":65535") - 1;
        }
    }

    /* a body that neither a length nor chunking delimits ends with the connection */
    if (!r->header_only && !r->chunked && r->headers_out.content_length == NULL
        && r->headers_out.content_length_n < 0) {
        r->keepalive = 0;
    }

    if (r->chunked) {
        len += sizeof("Transfer-Encoding: chunked" CRLF) - 1;
    }

    if (status == SL_HTTP_SWITCHING_PROTOCOLS) {
        len += sizeof("Connection: upgrade" CRLF) - 1;
    } else if (r->keepalive) {
        len += sizeof("Connection: keep-alive" CRLF) - 1;
        if (clcf->keepalive_header) {
            len += sizeof("Keep-Alive: timeout=") - 1 + SL_INT_T_LEN + 2;
        }
    } else {
        len += sizeof("Connection: close" CRLF) - 1;
    }

    part = &r->headers_out.headers.part;
    header = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            header = part->elts;
            i = 0;
            if (part->nelts == 0) {
                continue;
            }
        }
        if (header[i].hash == 0 || sl_http_header_drop_unsafe(r, &header[i])) {
            continue;
        }
        len += header[i].key.len + sizeof(": ") - 1 + header[i].value.len + sizeof(CRLF) - 1;
    }

    b = sl_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return SL_ERROR;
    }

    p = sl_cpymem(b->last, "HTTP/1.1 ", sizeof("HTTP/1.x ") - 1);

    if (status_line) {
        p = sl_cpymem(p, status_line->data, status_line->len);
    } else {
        p = sl_sprintf(p, "%03ui ", status);
    }
    *p++ = CR;
    *p++ = LF;

    if (r->headers_out.server == NULL) {
        if (clcf->server_tokens) {
            p = sl_cpymem(p, sl_http_server_full_string, sizeof(sl_http_server_full_string) - 1);
        } else {
            p = sl_cpymem(p, sl_http_server_string, sizeof(sl_http_server_string) - 1);
        }
    }

    if (r->headers_out.date == NULL) {
        p = sl_cpymem(p, "Date: ", sizeof("Date: ") - 1);
        p = sl_cpymem(p, sl_cached_http_time.data, sl_cached_http_time.len);
        *p++ = CR;
        *p++ = LF;
    }

    if (r->headers_out.content_type.len) {
        p = sl_cpymem(p, "Content-Type: ", sizeof("Content-Type: ") - 1);
        p = sl_cpymem(p, r->headers_out.content_type.data, r->headers_out.content_type.len);
        if (charset) {
            p = sl_cpymem(p, "; charset=", sizeof("; charset=") - 1);
            p = sl_cpymem(p, r->headers_out.charset.data, r->headers_out.charset.len);
        }
        *p++ = CR;
        *p++ = LF;
    }

    if (r->headers_out.content_length == NULL && r->headers_out.content_length_n >= 0) {
        p = sl_sprintf(p, "Content-Length: %O" CRLF, r->headers_out.content_length_n);
    }

    if (r->headers_out.last_modified == NULL && r->headers_out.last_modified_time != -1) {
        p = sl_cpymem(p, "Last-Modified: ", sizeof("Last-Modified: ") - 1);
        p = sl_http_time(p, r->headers_out.last_modified_time);
        *p++ = CR;
        *p++ = LF;
    }

    if (absolute) {
        u_char *start;

        p = sl_cpymem(p, "Location: ", sizeof("Location: ") - 1);
        start = p;
        p = sl_cpymem(p, "http://", sizeof("http://") - 1);
        p = sl_cpymem(p, host.data, host.len);
        if (port) {
            p = sl_sprintf(p, ":%ui", port);
        }
        p = sl_cpymem(p, r->headers_out.location->value.data, r->headers_out.location->value.len);

        /* $sent_http_location logs what was sent */
        r->headers_out.location->value.len = p - start;
        r->headers_out.location->value.data = start;
        *p++ = CR;
        *p++ = LF;
    }

    if (r->chunked) {
        p = sl_cpymem(p, "Transfer-Encoding: chunked" CRLF,
                      sizeof("Transfer-Encoding: chunked" CRLF) - 1);
    }

    if (status == SL_HTTP_SWITCHING_PROTOCOLS) {
        p = sl_cpymem(p, "Connection: upgrade" CRLF, sizeof("Connection: upgrade" CRLF) - 1);
    } else if (r->keepalive) {
        p = sl_cpymem(p, "Connection: keep-alive" CRLF, sizeof("Connection: keep-alive" CRLF) - 1);
        if (clcf->keepalive_header) {
            p = sl_sprintf(p, "Keep-Alive: timeout=%T" CRLF, clcf->keepalive_header);
        }
    } else {
        p = sl_cpymem(p, "Connection: close" CRLF, sizeof("Connection: close" CRLF) - 1);
    }

    part = &r->headers_out.headers.part;
    header = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            header = part->elts;
            i = 0;
            if (part->nelts == 0) {
                continue;
            }
        }
        if (header[i].hash == 0) {
            continue;
        }
        p = sl_cpymem(p, header[i].key.data, header[i].key.len);
        *p++ = ':';
        *p++ = ' ';
        p = sl_cpymem(p, header[i].value.data, header[i].value.len);
        *p++ = CR;
        *p++ = LF;
    }

    *p++ = CR;
    *p++ = LF;

    b->last = p;
    r->header_size = b->last - b->pos;

    if (r->header_only) {
        b->last_buf = 1;
    }

    out.buf = b;
    out.next = NULL;

    return sl_http_write_filter(r, &out);
}

static sl_int_t
sl_http_header_filter_init(sl_conf_t *cf)
{
    sl_unused(cf);
    sl_http_top_header_filter = sl_http_header_filter;
    return SL_OK;
}
