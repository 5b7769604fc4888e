/*
 * sl_http_variables.c: the variable registry and the core $variables.
 *
 * Modules declare variables by name (sl_http_add_variable) while the
 * configuration is read; configuration code asks for indexes by name
 * (sl_http_get_variable_index). After parsing, sl_http_variables_init_vars()
 * binds each index to a declared variable or to a prefix family ($arg_,
 * $http_, $sent_http_, $cookie_) and refuses unknown names. A request then
 * evaluates an index on demand and caches the value in r->variables[].
 */

#include "sl_core.h"
#include "sl_http.h"

static sl_http_core_main_conf_t *
sl_http_variables_main_conf(sl_conf_t *cf)
{
    return sl_http_conf_get_module_main_conf(cf, sl_http_core_module);
}

static void
sl_http_variable_set_str(sl_http_variable_value_t *v, u_char *data, size_t len)
{
    v->len = len;
    v->data = data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
}

static void
sl_http_variable_set_not_found(sl_http_variable_value_t *v)
{
    v->len = 0;
    v->data = NULL;
    v->valid = 0;
    v->no_cacheable = 0;
    v->not_found = 1;
}

/* Request fields --------------------------------------------------------- */

static sl_int_t
sl_http_variable_request(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_str_t *s;

    s = (sl_str_t *) ((u_char *) r + data);
    if (s->data) {
        sl_http_variable_set_str(v, s->data, s->len);
    } else {
        sl_http_variable_set_not_found(v);
    }
    return SL_OK;
}

static void
sl_http_variable_request_set(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_str_t *s;

    s = (sl_str_t *) ((u_char *) r + data);
    s->len = v->len;
    s->data = v->data;
}

static sl_int_t
sl_http_variable_is_args(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(data);
    if (r->args.len == 0) {
        sl_http_variable_set_str(v, (u_char *) "", 0);
    } else {
        sl_http_variable_set_str(v, (u_char *) "?", 1);
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_header_in(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_table_elt_t *h;

    h = *(sl_table_elt_t **) ((u_char *) r + data);
    if (h) {
        sl_http_variable_set_str(v, h->value.data, h->value.len);
    } else {
        sl_http_variable_set_not_found(v);
    }
    return SL_OK;
}

/* True when a header name matches a variable name suffix: '-' and '_' are equal, case ignored. */
static int
sl_http_variable_header_name_eq(const sl_str_t *key, const u_char *name, size_t len)
{
    size_t n;
    u_char ch;

    if (key->len != len) {
        return 0;
    }
    for (n = 0; n < len; n++) {
        ch = key->data[n];
        if (ch >= 'A' && ch <= 'Z') {
            ch |= 0x20;
        } else if (ch == '-') {
            ch = '_';
        }
        if (ch != sl_tolower(name[n])) {
            return 0;
        }
    }
    return 1;
}

/*
 * Joins every header of the list whose name matches name (several headers of
 * one name are joined with sep) into v; not found when none does.
 */
static sl_int_t
sl_http_variable_headers_join(sl_http_request_t *r, sl_http_variable_value_t *v, sl_list_t *list,
                              const u_char *name, size_t name_len, const char *sep,
                              sl_uint_t skip_removed)
{
    size_t len, sep_len;
    u_char *p;
    sl_uint_t i, n;
    sl_list_part_t *part;
    sl_table_elt_t *h, *first;

    sep_len = strlen(sep);
    len = 0;
    n = 0;
    first = NULL;

    for (part = &list->part; part; part = part->next) {
        h = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (skip_removed && h[i].hash == 0) {
                continue;
            }
            if (!sl_http_variable_header_name_eq(&h[i].key, name, name_len)) {
                continue;
            }
            if (n++ == 0) {
                first = &h[i];
            } else {
                len += sep_len;
            }
            len += h[i].value.len;
        }
    }

    if (n == 0) {
        sl_http_variable_set_not_found(v);
        return SL_OK;
    }
    if (n == 1) {
        sl_http_variable_set_str(v, first->value.data, first->value.len);
        return SL_OK;
    }

    p = sl_pnalloc(r->pool, len);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_http_variable_set_str(v, p, len);

    n = 0;
    for (part = &list->part; part; part = part->next) {
        h = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (skip_removed && h[i].hash == 0) {
                continue;
            }
            if (!sl_http_variable_header_name_eq(&h[i].key, name, name_len)) {
                continue;
            }
            if (n++) {
                p = sl_cpymem(p, sep, sep_len);
            }
            p = sl_cpymem(p, h[i].value.data, h[i].value.len);
        }
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_unknown_header_in(sl_http_request_t *r, sl_http_variable_value_t *v,
                                   uintptr_t data)
{
    sl_str_t *var;
    const u_char *name;
    size_t len;

    var = (sl_str_t *) data;
    name = var->data + sizeof("http_") - 1;
    len = var->len - (sizeof("http_") - 1);

    if (r->headers_in.headers.part.elts == NULL) {
        sl_http_variable_set_not_found(v);
        return SL_OK;
    }
    return sl_http_variable_headers_join(r, v, &r->headers_in.headers, name, len,
                                         (len == 6 && sl_strncasecmp(name, (u_char *) "cookie", 6)
                                                          == 0)
                                             ? "; "
                                             : ", ",
                                         0);
}

static sl_int_t
sl_http_variable_unknown_header_out(sl_http_request_t *r, sl_http_variable_value_t *v,
                                    uintptr_t data)
{
    size_t len;
    sl_str_t *var;
    sl_uint_t i;
    const u_char *name;
    sl_table_elt_t *special[9];

    var = (sl_str_t *) data;
    name = var->data + sizeof("sent_http_") - 1;
    len = var->len - (sizeof("sent_http_") - 1);

    if (r->headers_out.headers.part.elts) {
        if (sl_http_variable_headers_join(r, v, &r->headers_out.headers, name, len, ", ", 1)
            != SL_OK) {
            return SL_ERROR;
        }
        if (!v->not_found) {
            return SL_OK;
        }
    }

    /* the header filter may keep these outside the list until it runs */
    special[0] = r->headers_out.server;
    special[1] = r->headers_out.date;
    special[2] = r->headers_out.content_length;
    special[3] = r->headers_out.content_encoding;
    special[4] = r->headers_out.location;
    special[5] = r->headers_out.last_modified;
    special[6] = r->headers_out.content_range;
    special[7] = r->headers_out.accept_ranges;
    special[8] = r->headers_out.etag;
    for (i = 0; i < sl_nelts(special); i++) {
        if (special[i] && special[i]->hash
            && sl_http_variable_header_name_eq(&special[i]->key, name, len)) {
            sl_http_variable_set_str(v, special[i]->value.data, special[i]->value.len);
            return SL_OK;
        }
    }

    sl_http_variable_set_not_found(v);
    return SL_OK;
}

/* Finds "name=value" in a "; "-separated cookie header; name compared ignoring case. */
static sl_int_t
sl_http_variable_cookie_find(sl_str_t *header, const u_char *name, size_t len, sl_str_t *value)
{
    u_char *p, *end, *start;

    p = header->data;
    end = header->data + header->len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';' || *p == ',')) {
            p++;
        }
        start = p;
        while (p < end && *p != ';' && *p != ',') {
            p++;
        }
        /* [start, p) is one "name=value" pair */
        if ((size_t) (p - start) > len && start[len] == '='
            && sl_strncasecmp(start, name, len) == 0) {
            value->data = start + len + 1;
            value->len = p - value->data;
            while (value->len && (value->data[value->len - 1] == ' '
                                  || value->data[value->len - 1] == '\t')) {
                value->len--;
            }
            return SL_OK;
        }
    }
    return SL_DECLINED;
}

static sl_int_t
sl_http_variable_cookie(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    size_t len;
    sl_str_t *var, value;
    sl_uint_t i;
    const u_char *name;
    sl_list_part_t *part;
    sl_table_elt_t *h;

    var = (sl_str_t *) data;
    name = var->data + sizeof("cookie_") - 1;
    len = var->len - (sizeof("cookie_") - 1);

    if (len && r->headers_in.headers.part.elts) {
        for (part = &r->headers_in.headers.part; part; part = part->next) {
            h = part->elts;
            for (i = 0; i < part->nelts; i++) {
                if (h[i].key.len != 6
                    || sl_strncasecmp(h[i].key.data, (u_char *) "cookie", 6) != 0) {
                    continue;
                }
                if (sl_http_variable_cookie_find(&h[i].value, name, len, &value) == SL_OK) {
                    sl_http_variable_set_str(v, value.data, value.len);
                    return SL_OK;
                }
            }
        }
    }

    sl_http_variable_set_not_found(v);
    return SL_OK;
}

sl_int_t
sl_http_arg(sl_http_request_t *r, const u_char *name, size_t len, sl_str_t *value)
{
    u_char *p, *end, *start;

    if (len == 0) {
        return SL_DECLINED;
    }

    p = r->args.data;
    end = r->args.data + r->args.len;

    while (p < end) {
        start = p;
        while (p < end && *p != '&') {
            p++;
        }
        if ((size_t) (p - start) > len && start[len] == '='
            && sl_strncasecmp(start, name, len) == 0) {
            value->data = start + len + 1;
            value->len = p - value->data;
            return SL_OK;
        }
        p++;
    }
    return SL_DECLINED;
}

static sl_int_t
sl_http_variable_argument(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_str_t *var, value;

    var = (sl_str_t *) data;

    if (sl_http_arg(r, var->data + sizeof("arg_") - 1, var->len - (sizeof("arg_") - 1), &value)
        != SL_OK) {
        sl_http_variable_set_not_found(v);
        return SL_OK;
    }
    sl_http_variable_set_str(v, value.data, value.len);
    return SL_OK;
}

/* Connection addresses --------------------------------------------------- */

static sl_int_t
sl_http_variable_remote_addr(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;
    size_t len;

    sl_unused(data);
    p = sl_pnalloc(r->pool, INET6_ADDRSTRLEN + 8);
    if (p == NULL) {
        return SL_ERROR;
    }
    len = sl_sock_ntop(&r->connection->sockaddr.sa, r->connection->socklen, p,
                       INET6_ADDRSTRLEN + 8, 0);
    sl_http_variable_set_str(v, p, len);
    return SL_OK;
}

static sl_int_t
sl_http_variable_binary_remote_addr(sl_http_request_t *r, sl_http_variable_value_t *v,
                                    uintptr_t data)
{
    sl_sockaddr_t *sa;

    sl_unused(data);
    sa = &r->connection->sockaddr;

    switch (sa->sa.sa_family) {
    case AF_INET6:
        sl_http_variable_set_str(v, sa->sin6.sin6_addr.s6_addr, 16);
        break;
    case AF_INET:
        sl_http_variable_set_str(v, (u_char *) &sa->sin.sin_addr, 4);
        break;
    default:
        sl_http_variable_set_str(v, (u_char *) "", 0);
        break;
    }
    return SL_OK;
}

static sl_uint_t
sl_http_sockaddr_port(const struct sockaddr *sa)
{
    switch (sa->sa_family) {
    case AF_INET6:
        return ntohs(((const struct sockaddr_in6 *) sa)->sin6_port);
    case AF_INET:
        return ntohs(((const struct sockaddr_in *) sa)->sin_port);
    default:
        return 0;
    }
}

static sl_int_t
sl_http_variable_remote_port(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;
    sl_uint_t port;

    sl_unused(data);
    port = sl_http_sockaddr_port(&r->connection->sockaddr.sa);
    if (port == 0) {
        sl_http_variable_set_str(v, (u_char *) "", 0);
        return SL_OK;
    }
    p = sl_pnalloc(r->pool, sizeof("65535") - 1);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_http_variable_set_str(v, p, sl_sprintf(p, "%ui", port) - p);
    return SL_OK;
}

/*
 * The local address of the connection: the listener's address unless it
 * is a wildcard, else getsockname() (the value is cached with the variable).
 */
static sl_int_t
sl_http_connection_local_sockaddr(sl_http_request_t *r, sl_sockaddr_t *sa, socklen_t *len)
{
    sl_listening_t *ls;
    static const u_char zero16[16];

    ls = r->connection->listening;
    if (ls) {
        if ((ls->sockaddr.sa.sa_family == AF_INET && ls->sockaddr.sin.sin_addr.s_addr != 0)
            || (ls->sockaddr.sa.sa_family == AF_INET6
                && memcmp(ls->sockaddr.sin6.sin6_addr.s6_addr, zero16, 16) != 0)) {
            *sa = ls->sockaddr;
            *len = ls->socklen;
            return SL_OK;
        }
    }

    *len = sizeof(sl_sockaddr_t);
    if (getsockname(r->connection->fd, &sa->sa, len) == -1) {
        sl_log_error(SL_LOG_CRIT, r->connection->log, sl_socket_errno, "getsockname() failed");
        return SL_ERROR;
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_server_addr(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;
    socklen_t len;
    sl_sockaddr_t sa;

    sl_unused(data);
    if (sl_http_connection_local_sockaddr(r, &sa, &len) != SL_OK) {
        return SL_ERROR;
    }
    p = sl_pnalloc(r->pool, INET6_ADDRSTRLEN + 8);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_http_variable_set_str(v, p, sl_sock_ntop(&sa.sa, len, p, INET6_ADDRSTRLEN + 8, 0));
    return SL_OK;
}

static sl_int_t
sl_http_variable_server_port(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;
    socklen_t len;
    sl_uint_t port;
    sl_sockaddr_t sa;

    sl_unused(data);
    if (sl_http_connection_local_sockaddr(r, &sa, &len) != SL_OK) {
        return SL_ERROR;
    }
    port = sl_http_sockaddr_port(&sa.sa);
    if (port == 0) {
        sl_http_variable_set_str(v, (u_char *) "", 0);
        return SL_OK;
    }
    p = sl_pnalloc(r->pool, sizeof("65535") - 1);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_http_variable_set_str(v, p, sl_sprintf(p, "%ui", port) - p);
    return SL_OK;
}

static sl_int_t
sl_http_variable_host(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_http_core_srv_conf_t *cscf;

    if (r->headers_in.server.len) {
        sl_http_variable_set_str(v, r->headers_in.server.data, r->headers_in.server.len);
        return SL_OK;
    }
    cscf = r->srv_conf ? sl_http_get_module_srv_conf(r, sl_http_core_module) : NULL;
    if (cscf && cscf->server_name.len) {
        sl_http_variable_set_str(v, cscf->server_name.data, cscf->server_name.len);
        return SL_OK;
    }
    return sl_http_variable_server_addr(r, v, data);
}

static sl_int_t
sl_http_variable_hostname(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_str_t *hostname;

    sl_unused(r);
    hostname = (sl_str_t *) data;
    if (hostname == NULL) {
        sl_http_variable_set_str(v, (u_char *) "", 0);
    } else {
        sl_http_variable_set_str(v, hostname->data, hostname->len);
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_server_name(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_http_core_srv_conf_t *cscf;

    sl_unused(data);
    cscf = r->srv_conf ? sl_http_get_module_srv_conf(r, sl_http_core_module) : NULL;
    if (cscf == NULL) {
        sl_http_variable_set_str(v, (u_char *) "", 0);
    } else {
        sl_http_variable_set_str(v, cscf->server_name.data, cscf->server_name.len);
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_scheme(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(r);
    sl_unused(data);
    sl_http_variable_set_str(v, (u_char *) "http", 4);
    return SL_OK;
}

static sl_int_t
sl_http_variable_https(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(r);
    sl_unused(data);
    sl_http_variable_set_str(v, (u_char *) "", 0);
    return SL_OK;
}

/* Response and timing ---------------------------------------------------- */

static sl_int_t
sl_http_variable_format_number(sl_http_request_t *r, sl_http_variable_value_t *v, off_t n)
{
    u_char *p;

    p = sl_pnalloc(r->pool, SL_OFF_T_LEN);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_http_variable_set_str(v, p, sl_sprintf(p, "%O", n) - p);
    return SL_OK;
}

static sl_int_t
sl_http_variable_status(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;
    sl_uint_t status;

    sl_unused(data);
    if (r->err_status) {
        status = r->err_status;
    } else {
        status = r->headers_out.status;
    }
    if (status > 999) {
        status = 999;
    }
    p = sl_pnalloc(r->pool, 3);
    if (p == NULL) {
        return SL_ERROR;
    }
    p[0] = (u_char) ('0' + status / 100);
    p[1] = (u_char) ('0' + status / 10 % 10);
    p[2] = (u_char) ('0' + status % 10);
    sl_http_variable_set_str(v, p, 3);
    return SL_OK;
}

static sl_int_t
sl_http_variable_bytes_sent(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(data);
    return sl_http_variable_format_number(r, v, r->connection->sent);
}

static sl_int_t
sl_http_variable_body_bytes_sent(sl_http_request_t *r, sl_http_variable_value_t *v,
                                 uintptr_t data)
{
    off_t sent;

    sl_unused(data);
    sent = r->connection->sent - (off_t) r->header_size;
    if (sent < 0) {
        sent = 0;
    }
    return sl_http_variable_format_number(r, v, sent);
}

static sl_int_t
sl_http_variable_format_msec(sl_http_request_t *r, sl_http_variable_value_t *v, time_t sec,
                             sl_uint_t msec)
{
    u_char *p;

    p = sl_pnalloc(r->pool, SL_INT_T_LEN + sizeof(".000") - 1);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_http_variable_set_str(v, p, sl_sprintf(p, "%T.%03ui", sec, msec) - p);
    return SL_OK;
}

static sl_int_t
sl_http_variable_request_time(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_time_t *tp;
    sl_msec_int_t ms;

    sl_unused(data);
    tp = sl_timeofday();
    ms = (sl_msec_int_t) ((tp->sec - r->start_sec) * 1000
                          + ((sl_msec_int_t) tp->msec - (sl_msec_int_t) r->start_msec));
    if (ms < 0) {
        ms = 0;
    }
    return sl_http_variable_format_msec(r, v, (time_t) (ms / 1000), (sl_uint_t) (ms % 1000));
}

static sl_int_t
sl_http_variable_request_length(sl_http_request_t *r, sl_http_variable_value_t *v,
                                uintptr_t data)
{
    sl_unused(data);
    return sl_http_variable_format_number(r, v, r->request_length);
}

static sl_int_t
sl_http_variable_msec(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_time_t *tp;

    sl_unused(data);
    tp = sl_timeofday();
    return sl_http_variable_format_msec(r, v, tp->sec, tp->msec);
}

static sl_int_t
sl_http_variable_time_cached(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;
    sl_str_t s;

    /* the cached strings change under us: copy them */
    if (data) {
        s.len = sl_cached_http_log_time.len;
        s.data = sl_cached_http_log_time.data;
    } else {
        s.len = sl_cached_http_log_iso8601.len;
        s.data = sl_cached_http_log_iso8601.data;
    }
    if (s.data == NULL) {
        sl_http_variable_set_not_found(v);
        return SL_OK;
    }
    p = sl_pnalloc(r->pool, s.len ? s.len : 1);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_memcpy(p, s.data, s.len);
    sl_http_variable_set_str(v, p, s.len);
    return SL_OK;
}

static sl_int_t
sl_http_variable_connection(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(data);
    return sl_http_variable_format_number(r, v, (off_t) r->connection->number);
}

static sl_int_t
sl_http_variable_connection_requests(sl_http_request_t *r, sl_http_variable_value_t *v,
                                     uintptr_t data)
{
    sl_unused(data);
    return sl_http_variable_format_number(r, v, (off_t) r->connection->requests);
}

static sl_int_t
sl_http_variable_content_length(sl_http_request_t *r, sl_http_variable_value_t *v,
                                uintptr_t data)
{
    sl_unused(data);
    if (r->headers_in.content_length) {
        sl_http_variable_set_str(v, r->headers_in.content_length->value.data,
                                 r->headers_in.content_length->value.len);
        return SL_OK;
    }
    if (r->headers_in.content_length_n > 0) {
        return sl_http_variable_format_number(r, v, r->headers_in.content_length_n);
    }
    sl_http_variable_set_not_found(v);
    return SL_OK;
}

static sl_int_t
sl_http_variable_document_root(sl_http_request_t *r, sl_http_variable_value_t *v,
                               uintptr_t data)
{
    sl_str_t path;
    sl_http_core_loc_conf_t *clcf;

    sl_unused(data);
    clcf = r->loc_conf ? sl_http_get_module_loc_conf(r, sl_http_core_module) : NULL;
    if (clcf == NULL) {
        sl_http_variable_set_not_found(v);
        return SL_OK;
    }
    if (clcf->root_lengths == NULL) {
        sl_http_variable_set_str(v, clcf->root.data, clcf->root.len);
        return SL_OK;
    }
    if (sl_http_script_run(r, &path, clcf->root_lengths->elts, 0, clcf->root_values->elts)
        == NULL) {
        return SL_ERROR;
    }
    sl_http_variable_set_str(v, path.data, path.len);
    return SL_OK;
}

static sl_int_t
sl_http_variable_realpath_root(sl_http_request_t *r, sl_http_variable_value_t *v,
                               uintptr_t data)
{
    size_t len;
    u_char *p;
    sl_str_t root;
    char *real;

    if (sl_http_variable_document_root(r, v, data) != SL_OK) {
        return SL_ERROR;
    }
    if (v->not_found) {
        return SL_OK;
    }
    root.len = v->len;
    root.data = v->data;
    p = sl_pstrdup(r->pool, &root);
    if (p == NULL) {
        return SL_ERROR;
    }
    real = realpath((char *) p, NULL);
    if (real == NULL) {
        sl_log_error(SL_LOG_CRIT, r->connection->log, sl_errno, "realpath() \"%s\" failed", p);
        return SL_ERROR;
    }
    len = strlen(real);
    p = sl_pnalloc(r->pool, len ? len : 1);
    if (p == NULL) {
        free(real);
        return SL_ERROR;
    }
    sl_memcpy(p, real, len);
    free(real);
    sl_http_variable_set_str(v, p, len);
    return SL_OK;
}

static sl_int_t
sl_http_variable_version(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(r);
    sl_unused(data);
    sl_http_variable_set_str(v, (u_char *) SLUICE_VERSION, sizeof(SLUICE_VERSION) - 1);
    return SL_OK;
}

static sl_int_t
sl_http_variable_sent_content_type(sl_http_request_t *r, sl_http_variable_value_t *v,
                                   uintptr_t data)
{
    sl_unused(data);
    if (r->headers_out.content_type.len) {
        sl_http_variable_set_str(v, r->headers_out.content_type.data,
                                 r->headers_out.content_type.len);
    } else {
        sl_http_variable_set_not_found(v);
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_sent_content_length(sl_http_request_t *r, sl_http_variable_value_t *v,
                                     uintptr_t data)
{
    sl_unused(data);
    if (r->headers_out.content_length && r->headers_out.content_length->hash) {
        sl_http_variable_set_str(v, r->headers_out.content_length->value.data,
                                 r->headers_out.content_length->value.len);
        return SL_OK;
    }
    if (r->headers_out.content_length_n >= 0) {
        return sl_http_variable_format_number(r, v, r->headers_out.content_length_n);
    }
    sl_http_variable_set_not_found(v);
    return SL_OK;
}

static sl_int_t
sl_http_variable_sent_last_modified(sl_http_request_t *r, sl_http_variable_value_t *v,
                                    uintptr_t data)
{
    u_char *p;

    sl_unused(data);
    if (r->headers_out.last_modified && r->headers_out.last_modified->hash) {
        sl_http_variable_set_str(v, r->headers_out.last_modified->value.data,
                                 r->headers_out.last_modified->value.len);
        return SL_OK;
    }
    if (r->headers_out.last_modified_time >= 0) {
        p = sl_pnalloc(r->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1);
        if (p == NULL) {
            return SL_ERROR;
        }
        sl_http_variable_set_str(v, p, sl_http_time(p, r->headers_out.last_modified_time) - p);
        return SL_OK;
    }
    sl_http_variable_set_not_found(v);
    return SL_OK;
}

static sl_int_t
sl_http_variable_sent_connection(sl_http_request_t *r, sl_http_variable_value_t *v,
                                 uintptr_t data)
{
    sl_unused(data);
    if (r->headers_out.status == SL_HTTP_SWITCHING_PROTOCOLS) {
        sl_http_variable_set_str(v, (u_char *) "upgrade", 7);
    } else if (r->keepalive) {
        sl_http_variable_set_str(v, (u_char *) "keep-alive", 10);
    } else {
        sl_http_variable_set_str(v, (u_char *) "close", 5);
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_sent_transfer_encoding(sl_http_request_t *r, sl_http_variable_value_t *v,
                                        uintptr_t data)
{
    sl_unused(data);
    if (r->chunked) {
        sl_http_variable_set_str(v, (u_char *) "chunked", 7);
    } else {
        sl_http_variable_set_not_found(v);
    }
    return SL_OK;
}

static sl_int_t
sl_http_variable_not_found(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_unused(r);
    sl_unused(data);
    sl_http_variable_set_not_found(v);
    return SL_OK;
}

/* The core variables ---------------------------------------------------- */

#define sl_http_var_offset(field) offsetof(sl_http_request_t, field)
#define sl_http_var_header(field) \
    (offsetof(sl_http_request_t, headers_in) + offsetof(sl_http_headers_in_t, field))

/* Each entry's data is given to its handler; "hostname" gets the cycle at registration. */
static sl_http_variable_t sl_http_core_variables[] = {
    { sl_string("uri"), NULL, sl_http_variable_request, sl_http_var_offset(uri),
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("document_uri"), NULL, sl_http_variable_request, sl_http_var_offset(uri),
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("request_uri"), NULL, sl_http_variable_request,
      sl_http_var_offset(unparsed_uri), 0, 0 },
    { sl_string("args"), sl_http_variable_request_set, sl_http_variable_request,
      sl_http_var_offset(args), SL_HTTP_VAR_CHANGEABLE | SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("query_string"), NULL, sl_http_variable_request, sl_http_var_offset(args),
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("is_args"), NULL, sl_http_variable_is_args, 0, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("request"), NULL, sl_http_variable_request, sl_http_var_offset(request_line),
      0, 0 },
    { sl_string("request_method"), NULL, sl_http_variable_request,
      sl_http_var_offset(method_name), 0, 0 },
    { sl_string("server_protocol"), NULL, sl_http_variable_request,
      sl_http_var_offset(http_protocol), 0, 0 },
    { sl_string("host"), NULL, sl_http_variable_host, 0, 0, 0 },
    { sl_string("hostname"), NULL, sl_http_variable_hostname, 0, 0, 0 },
    { sl_string("remote_addr"), NULL, sl_http_variable_remote_addr, 0, 0, 0 },
    { sl_string("binary_remote_addr"), NULL, sl_http_variable_binary_remote_addr, 0, 0, 0 },
    { sl_string("remote_port"), NULL, sl_http_variable_remote_port, 0, 0, 0 },
    { sl_string("server_addr"), NULL, sl_http_variable_server_addr, 0, 0, 0 },
    { sl_string("server_port"), NULL, sl_http_variable_server_port, 0, 0, 0 },
    { sl_string("server_name"), NULL, sl_http_variable_server_name, 0, 0, 0 },
    { sl_string("scheme"), NULL, sl_http_variable_scheme, 0, 0, 0 },
    { sl_string("https"), NULL, sl_http_variable_https, 0, 0, 0 },
    { sl_string("status"), NULL, sl_http_variable_status, 0, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("bytes_sent"), NULL, sl_http_variable_bytes_sent, 0, SL_HTTP_VAR_NOCACHEABLE,
      0 },
    { sl_string("body_bytes_sent"), NULL, sl_http_variable_body_bytes_sent, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("request_time"), NULL, sl_http_variable_request_time, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("request_length"), NULL, sl_http_variable_request_length, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("msec"), NULL, sl_http_variable_msec, 0, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("time_iso8601"), NULL, sl_http_variable_time_cached, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("time_local"), NULL, sl_http_variable_time_cached, 1, SL_HTTP_VAR_NOCACHEABLE,
      0 },
    { sl_string("connection"), NULL, sl_http_variable_connection, 0, 0, 0 },
    { sl_string("connection_requests"), NULL, sl_http_variable_connection_requests, 0, 0, 0 },
    { sl_string("content_length"), NULL, sl_http_variable_content_length, 0, 0, 0 },
    { sl_string("content_type"), NULL, sl_http_variable_header_in,
      sl_http_var_header(content_type), 0, 0 },
    { sl_string("document_root"), NULL, sl_http_variable_document_root, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("realpath_root"), NULL, sl_http_variable_realpath_root, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("sluice_version"), NULL, sl_http_variable_version, 0, 0, 0 },
    { sl_string("sent_http_content_type"), NULL, sl_http_variable_sent_content_type, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("sent_http_content_length"), NULL, sl_http_variable_sent_content_length, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("sent_http_last_modified"), NULL, sl_http_variable_sent_last_modified, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("sent_http_connection"), NULL, sl_http_variable_sent_connection, 0,
      SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("sent_http_transfer_encoding"), NULL, sl_http_variable_sent_transfer_encoding,
      0, SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("http_"), NULL, sl_http_variable_unknown_header_in, 0, SL_HTTP_VAR_PREFIX, 0 },
    { sl_string("sent_http_"), NULL, sl_http_variable_unknown_header_out, 0,
      SL_HTTP_VAR_PREFIX | SL_HTTP_VAR_NOCACHEABLE, 0 },
    { sl_string("cookie_"), NULL, sl_http_variable_cookie, 0, SL_HTTP_VAR_PREFIX, 0 },
    { sl_string("arg_"), NULL, sl_http_variable_argument, 0,
      SL_HTTP_VAR_PREFIX | SL_HTTP_VAR_NOCACHEABLE | SL_HTTP_VAR_NOHASH, 0 },
    sl_http_null_variable
};

#define SL_HTTP_DEFAULT_VARIABLES_HASH_MAX_SIZE 1024
#define SL_HTTP_DEFAULT_VARIABLES_HASH_BUCKET_SIZE 64

/* Registry --------------------------------------------------------------- */

static sl_http_variable_t *
sl_http_add_prefix_variable(sl_conf_t *cf, sl_str_t *name, sl_uint_t flags)
{
    sl_uint_t i;
    sl_http_variable_t *v;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_variables_main_conf(cf);

    v = cmcf->prefix_variables.elts;
    for (i = 0; i < cmcf->prefix_variables.nelts; i++) {
        if (name->len != v[i].name.len || sl_strncasecmp(name->data, v[i].name.data, name->len)
                                              != 0) {
            continue;
        }
        v = &v[i];
        if (!(v->flags & SL_HTTP_VAR_CHANGEABLE)) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "the duplicate \"%V\" variable", name);
            return NULL;
        }
        if (!(flags & SL_HTTP_VAR_WEAK)) {
            v->flags &= ~SL_HTTP_VAR_WEAK;
        }
        return v;
    }

    v = sl_array_push(&cmcf->prefix_variables);
    if (v == NULL) {
        return NULL;
    }
    v->name.len = name->len;
    v->name.data = sl_pnalloc(cf->pool, name->len);
    if (v->name.data == NULL) {
        return NULL;
    }
    sl_strlow(v->name.data, name->data, name->len);
    v->set_handler = NULL;
    v->get_handler = NULL;
    v->data = 0;
    v->flags = flags;
    v->index = 0;
    return v;
}

sl_http_variable_t *
sl_http_add_variable(sl_conf_t *cf, sl_str_t *name, sl_uint_t flags)
{
    sl_int_t rc;
    sl_uint_t i;
    sl_hash_key_t *key;
    sl_http_variable_t *v;
    sl_http_core_main_conf_t *cmcf;

    if (name->len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid variable name \"$\"");
        return NULL;
    }

    if (flags & SL_HTTP_VAR_PREFIX) {
        return sl_http_add_prefix_variable(cf, name, flags);
    }

    cmcf = sl_http_variables_main_conf(cf);
    if (cmcf->variables_keys == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "variable \"%V\" declared too late", name);
        return NULL;
    }

    key = cmcf->variables_keys->keys.elts;
    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (name->len != key[i].key.len
            || sl_strncasecmp(name->data, key[i].key.data, name->len) != 0) {
            continue;
        }
        v = key[i].value;
        if (!(v->flags & SL_HTTP_VAR_CHANGEABLE)) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "the duplicate \"%V\" variable", name);
            return NULL;
        }
        if (!(flags & SL_HTTP_VAR_WEAK)) {
            v->flags &= ~SL_HTTP_VAR_WEAK;
        }
        return v;
    }

    v = sl_palloc(cf->pool, sizeof(sl_http_variable_t));
    if (v == NULL) {
        return NULL;
    }
    v->name.len = name->len;
    v->name.data = sl_pnalloc(cf->pool, name->len);
    if (v->name.data == NULL) {
        return NULL;
    }
    sl_strlow(v->name.data, name->data, name->len);
    v->set_handler = NULL;
    v->get_handler = NULL;
    v->data = 0;
    v->flags = flags;
    v->index = 0;

    rc = sl_hash_add_key(cmcf->variables_keys, &v->name, v, 0);
    if (rc == SL_ERROR) {
        return NULL;
    }
    if (rc == SL_BUSY || rc == SL_DECLINED) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "conflicting variable name \"%V\"", name);
        return NULL;
    }
    return v;
}


sl_int_t
sl_http_add_variables(sl_conf_t *cf, sl_http_variable_t *vars)
{
    sl_http_variable_t *var, *v;

    for (v = vars; v->name.len; v++) {
        var = sl_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return SL_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return SL_OK;
}

sl_int_t
sl_http_get_variable_index(sl_conf_t *cf, sl_str_t *name)
{
    sl_uint_t i;
    sl_http_variable_t *v;
    sl_http_core_main_conf_t *cmcf;

    if (name->len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid variable name \"$\"");
        return SL_ERROR;
    }

    cmcf = sl_http_variables_main_conf(cf);

    v = cmcf->variables.elts;
    if (v == NULL) {
        if (sl_array_init(&cmcf->variables, cf->pool, 8, sizeof(sl_http_variable_t)) != SL_OK) {
            return SL_ERROR;
        }
    } else {
        for (i = 0; i < cmcf->variables.nelts; i++) {
            if (name->len == v[i].name.len
                && sl_strncasecmp(name->data, v[i].name.data, name->len) == 0) {
                return (sl_int_t) i;
            }
        }
    }

    v = sl_array_push(&cmcf->variables);
    if (v == NULL) {
        return SL_ERROR;
    }
    v->name.len = name->len;
    v->name.data = sl_pnalloc(cf->pool, name->len);
    if (v->name.data == NULL) {
        return SL_ERROR;
    }
    sl_strlow(v->name.data, name->data, name->len);
    v->set_handler = NULL;
    v->get_handler = NULL;
    v->data = 0;
    v->flags = 0;
    v->index = cmcf->variables.nelts - 1;
    return (sl_int_t) v->index;
}

sl_int_t
sl_http_variables_add_core_vars(sl_conf_t *cf)
{
    sl_http_variable_t *cv, *v;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_variables_main_conf(cf);

    cmcf->variables_keys = sl_pcalloc(cf->temp_pool, sizeof(sl_hash_keys_arrays_t));
    if (cmcf->variables_keys == NULL) {
        return SL_ERROR;
    }
    cmcf->variables_keys->pool = cf->pool;
    cmcf->variables_keys->temp_pool = cf->pool;
    if (sl_hash_keys_array_init(cmcf->variables_keys, SL_HASH_SMALL) != SL_OK) {
        return SL_ERROR;
    }
    if (sl_array_init(&cmcf->prefix_variables, cf->pool, 8, sizeof(sl_http_variable_t))
        != SL_OK) {
        return SL_ERROR;
    }

    for (cv = sl_http_core_variables; cv->name.len; cv++) {
        v = sl_http_add_variable(cf, &cv->name, cv->flags);
        if (v == NULL) {
            return SL_ERROR;
        }
        v->get_handler = cv->get_handler;
        v->set_handler = cv->set_handler;
        v->data = cv->data;
        if (cv->get_handler == sl_http_variable_hostname) {
            v->data = (uintptr_t) &cf->cycle->hostname;
        }
    }
    return SL_OK;
}

sl_int_t
sl_http_variables_init_vars(sl_conf_t *cf)
{
    size_t len;
    sl_uint_t i, n;
    sl_hash_key_t *key;
    sl_hash_init_t hash;
    sl_http_variable_t *v, *av, *pv;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_variables_main_conf(cf);
    if (cmcf->variables_keys == NULL) {
        sl_log_error(SL_LOG_EMERG, cf->log, 0, "variables were not initialised");
        return SL_ERROR;
    }

    v = cmcf->variables.elts;
    pv = cmcf->prefix_variables.elts;
    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {

        for (n = 0; n < cmcf->variables_keys->keys.nelts; n++) {
            av = key[n].value;
            if (v[i].name.len != key[n].key.len
                || sl_memcmp(v[i].name.data, key[n].key.data, v[i].name.len) != 0) {
                continue;
            }
            v[i].get_handler = av->get_handler;
            v[i].set_handler = av->set_handler;
            v[i].data = av->data;
            av->flags |= SL_HTTP_VAR_INDEXED;
            v[i].flags = av->flags;
            av->index = i;
            if (av->get_handler == NULL || (av->flags & SL_HTTP_VAR_WEAK)) {
                break;
            }
            goto next;
        }

        /* the longest matching prefix wins */
        len = 0;
        av = NULL;
        for (n = 0; n < cmcf->prefix_variables.nelts; n++) {
            if (v[i].name.len >= pv[n].name.len && pv[n].name.len > len
                && sl_memcmp(v[i].name.data, pv[n].name.data, pv[n].name.len) == 0) {
                av = &pv[n];
                len = pv[n].name.len;
            }
        }
        if (av) {
            v[i].get_handler = av->get_handler;
            v[i].data = (uintptr_t) &v[i].name;
            v[i].flags = av->flags;
            goto next;
        }

        if (v[i].get_handler == NULL) {
            sl_log_error(SL_LOG_EMERG, cf->log, 0, "unknown \"%V\" variable", &v[i].name);
            return SL_ERROR;
        }

    next:
        continue;
    }

    for (n = 0; n < cmcf->variables_keys->keys.nelts; n++) {
        av = key[n].value;
        if (av->flags & SL_HTTP_VAR_NOHASH) {
            key[n].key.data = NULL;
        }
    }

    hash.hash = &cmcf->variables_hash;
    hash.pool = cf->pool;
    hash.temp_pool = NULL;
    hash.max_size = cmcf->variables_hash_max_size;
    hash.bucket_size = cmcf->variables_hash_bucket_size;
    if (hash.max_size == 0 || hash.max_size == SL_CONF_UNSET_UINT) {
        hash.max_size = SL_HTTP_DEFAULT_VARIABLES_HASH_MAX_SIZE;
    }
    if (hash.bucket_size == 0 || hash.bucket_size == SL_CONF_UNSET_UINT) {
        hash.bucket_size = SL_HTTP_DEFAULT_VARIABLES_HASH_BUCKET_SIZE;
    }
    hash.name = "variables_hash";

    if (sl_hash_init(&hash, cmcf->variables_keys->keys.elts, cmcf->variables_keys->keys.nelts)
        != SL_OK) {
        return SL_ERROR;
    }

    cmcf->variables_keys = NULL;
    return SL_OK;
}

/* Evaluation ------------------------------------------------------------- */

sl_http_variable_value_t *
sl_http_get_indexed_variable(sl_http_request_t *r, sl_uint_t index)
{
    sl_http_variable_t *v;
    sl_http_variable_value_t *value;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);

    if (cmcf->variables.nelts <= index || r->variables == NULL) {
        sl_log_error(SL_LOG_ALERT, r->connection->log, 0, "unknown variable index: %ui", index);
        return NULL;
    }

    value = &r->variables[index];
    if (value->not_found || value->valid) {
        return value;
    }

    v = cmcf->variables.elts;
    if (v[index].get_handler == NULL) {
        sl_http_variable_set_not_found(value);
        return value;
    }

    if (v[index].get_handler(r, value, v[index].data) == SL_OK) {
        if (v[index].flags & SL_HTTP_VAR_NOCACHEABLE) {
            value->no_cacheable = 1;
        }
        return value;
    }

    value->valid = 0;
    value->not_found = 1;
    return NULL;
}

sl_http_variable_value_t *
sl_http_get_flushed_variable(sl_http_request_t *r, sl_uint_t index)
{
    sl_http_variable_value_t *v;

    if (r->variables == NULL) {
        return sl_http_get_indexed_variable(r, index);
    }

    v = &r->variables[index];
    if (v->valid || v->not_found) {
        if (!v->no_cacheable) {
            return v;
        }
        v->valid = 0;
        v->not_found = 0;
    }
    return sl_http_get_indexed_variable(r, index);
}

sl_http_variable_value_t *
sl_http_get_variable(sl_http_request_t *r, sl_str_t *name, sl_uint_t key)
{
    size_t len;
    sl_uint_t i;
    sl_http_variable_t *v;
    sl_http_variable_value_t *vv;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);

    v = sl_hash_find(&cmcf->variables_hash, key, name->data, name->len);
    if (v) {
        if (v->flags & SL_HTTP_VAR_INDEXED) {
            return sl_http_get_flushed_variable(r, v->index);
        }
        vv = sl_pcalloc(r->pool, sizeof(sl_http_variable_value_t));
        if (vv == NULL) {
            return NULL;
        }
        if (v->get_handler == NULL) {
            vv->not_found = 1;
            return vv;
        }
        if (v->get_handler(r, vv, v->data) == SL_OK) {
            return vv;
        }
        return NULL;
    }

    vv = sl_pcalloc(r->pool, sizeof(sl_http_variable_value_t));
    if (vv == NULL) {
        return NULL;
    }

    len = 0;
    v = NULL;
    for (i = 0; i < cmcf->prefix_variables.nelts; i++) {
        sl_http_variable_t *pv = &((sl_http_variable_t *) cmcf->prefix_variables.elts)[i];
        if (name->len >= pv->name.len && pv->name.len > len
            && sl_memcmp(name->data, pv->name.data, pv->name.len) == 0) {
            v = pv;
            len = pv->name.len;
        }
    }
    if (v) {
        if (v->get_handler(r, vv, (uintptr_t) name) == SL_OK) {
            return vv;
        }
        return NULL;
    }

    vv->not_found = 1;
    return vv;
}

/* Regular expressions ---------------------------------------------------- */

sl_http_regex_t *
sl_http_regex_compile(sl_conf_t *cf, sl_regex_compile_t *rc)
{
    u_char *name_data;
    sl_str_t name;
    sl_uint_t i, n;
    sl_http_regex_t *re;
    sl_http_variable_t *v;
    sl_http_regex_variable_t *rv;
    sl_http_core_main_conf_t *cmcf;

    rc->pool = cf->pool;

    if (sl_regex_compile(rc) != SL_OK) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%V", &rc->err);
        return NULL;
    }

    re = sl_pcalloc(cf->pool, sizeof(sl_http_regex_t));
    if (re == NULL) {
        return NULL;
    }
    re->regex = rc->regex;
    re->ncaptures = rc->captures;
    re->name = rc->pattern;

    cmcf = sl_http_variables_main_conf(cf);
    cmcf->ncaptures = sl_max(cmcf->ncaptures, re->ncaptures);

    n = rc->named_captures;
    if (n == 0) {
        return re;
    }

    rv = sl_palloc(cf->pool, n * sizeof(sl_http_regex_variable_t));
    if (rv == NULL) {
        return NULL;
    }
    re->variables = rv;
    re->nvariables = n;

    for (i = 0; i < n; i++) {
        name_data = sl_regex_name(rc->names, rc->name_size, i);
        name.data = name_data;
        name.len = strnlen((char *) name_data, rc->name_size - 2);
        rv[i].capture = 2 * sl_regex_name_group(rc->names, rc->name_size, i);

        v = sl_http_add_variable(cf, &name, SL_HTTP_VAR_CHANGEABLE);
        if (v == NULL) {
            return NULL;
        }
        rv[i].index = sl_http_get_variable_index(cf, &name);
        if (rv[i].index == SL_ERROR) {
            return NULL;
        }
        v->get_handler = sl_http_variable_not_found;
    }
    return re;
}

sl_int_t
sl_http_regex_exec(sl_http_request_t *r, sl_http_regex_t *re, sl_str_t *s)
{
    sl_int_t rc, index;
    sl_uint_t i, n, len;
    sl_http_variable_value_t *vv;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);

    if (re->ncaptures || re->nvariables) {
        /*
         * One array per request, sized for the regex with the most groups:
         * after the core module's init_main_conf, cmcf->ncaptures holds
         * (groups + 1) * 3 ints. A smaller value (a regex compiled later)
         * gets an array of its own.
         */
        len = (re->ncaptures + 1) * 3;
        if (cmcf->ncaptures >= len) {
            len = cmcf->ncaptures;
            if (r->captures == NULL) {
                r->captures = sl_palloc(r->pool, len * sizeof(int));
            }
        } else {
            r->captures = sl_palloc(r->pool, len * sizeof(int));
        }
        if (r->captures == NULL) {
            return SL_ERROR;
        }
    } else {
        len = 0;
    }

    rc = sl_regex_exec(re->regex, s, len ? r->captures : NULL, len);
    if (rc == SL_REGEX_NO_MATCHED) {
        return SL_DECLINED;
    }
    if (rc < 0) {
        sl_log_error(SL_LOG_ALERT, r->connection->log, 0,
                     "regex \"%V\" failed to match \"%V\": %i", &re->name, s, rc);
        return SL_ERROR;
    }

    if (len == 0) {
        /* like nginx, a regex without groups leaves the last $1..$9 alone */
        return SL_OK;
    }

    n = sl_min((sl_uint_t) rc, len / 3);
    r->ncaptures = n * 2;
    r->captures_data = s->data;

    for (i = 0; i < re->nvariables; i++) {
        n = re->variables[i].capture;
        index = re->variables[i].index;
        if (r->variables == NULL) {
            break;
        }
        vv = &r->variables[index];
        if (n + 1 < r->ncaptures && r->captures[n] >= 0) {
            vv->len = r->captures[n + 1] - r->captures[n];
            vv->data = &s->data[r->captures[n]];
        } else {
            vv->len = 0;
            vv->data = s->data;
        }
        vv->valid = 1;
        vv->no_cacheable = 0;
        vv->not_found = 0;
    }
    return SL_OK;
}
