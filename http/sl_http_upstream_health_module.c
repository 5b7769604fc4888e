/*
 * sl_http_upstream_health_module.c: active health checks of upstream
 * servers, configured as nginx Plus does:
 *
 *     match ok {                          # http level
 *         status 200-399;                 # codes and ranges; "status ! 500 503"
 *         header Content-Type ~ text/;    # NAME = V, NAME != V, NAME ~ RE, NAME !~ RE,
 *         header X-Ready;                 # NAME (present), ! NAME (absent)
 *         body ~ "ready";                 # body ~ RE, body !~ RE
 *     }
 *     upstream backend {
 *         zone backend 64k;               # required: the checker and workers share peers
 *         server 127.0.0.1:8081;
 *         health_check interval=5s timeout=1s fails=1 passes=1 uri=/ port=8081 match=ok;
 *     }
 *
 * Every parameter is optional; the defaults are interval=5s, timeout=1s,
 * fails=1, passes=1, uri=/ and the server's own port. Without match= a
 * check passes on a 2xx or 3xx status. In a match every condition must
 * hold; a header condition is met by any field of that name ("!=" and "!~"
 * by none; names compare without case, "=" values exactly), a missing
 * status condition accepts any status. A body condition looks at the first
 * SL_HTTP_HC_BODY_MAX (64 KB) bytes of the body (chunked bodies decoded);
 * a response header over SL_HTTP_HC_HEADER_MAX (8 KB) fails the check.
 * timeout= bounds the whole check: connect, request and response.
 *
 * Each check is "GET URI HTTP/1.0" with "Host: <the server line's name>"
 * and "Connection: close", on a fresh connection; a peer that fails
 * `fails` checks in a row is marked down (hc_down) in the group's shared
 * zone, where every worker's balancer skips it from its next pick; after
 * `passes` good checks in a row it is taken back. Both transitions are
 * logged at warn, each failed check at info. Peers start up; the next
 * check of a peer starts `interval` after the previous one ended.
 *
 * Where the checks run: in a helper process of the master (see
 * sl_process.h), not in a worker. The check traffic and its timers stay
 * off the request path, the checks go on while workers restart, and they
 * begin as soon as the configuration is loaded rather than on first
 * traffic. The helper has its own epoll loop; it connects without blocking
 * and parses responses with the engine's status and header parsers.
 */

#include "sl_http_upstream_round_robin.h"

#define SL_HTTP_HC_DEFAULT_INTERVAL 5000
#define SL_HTTP_HC_DEFAULT_TIMEOUT 1000
/* Room for the status line and header fields of a response. */
#define SL_HTTP_HC_HEADER_MAX 8192
/* How much of a body "body ~ RE" examines. */
#define SL_HTTP_HC_BODY_MAX 65536

/* Header condition operators. */
#define SL_HTTP_HC_PRESENT 0
#define SL_HTTP_HC_ABSENT 1
#define SL_HTTP_HC_EQUAL 2
#define SL_HTTP_HC_NOT_EQUAL 3
#define SL_HTTP_HC_REGEX 4
#define SL_HTTP_HC_NOT_REGEX 5

/* A check's progress. */
#define SL_HTTP_HC_IDLE 0
#define SL_HTTP_HC_CONNECT 1 /* connecting, then sending the request */
#define SL_HTTP_HC_STATUS 2
#define SL_HTTP_HC_HEADER 3
#define SL_HTTP_HC_BODY 4

typedef struct {
    sl_uint_t low;
    sl_uint_t high;
} sl_http_hc_range_t;

/* One "status" line: the status is in one of the ranges (or, negated, in none). */
typedef struct {
    sl_array_t ranges; /* sl_http_hc_range_t */
    sl_uint_t negated;
} sl_http_hc_status_t;

typedef struct {
    sl_str_t name;
    sl_str_t value;
    sl_regex_t *regex;
    sl_uint_t op; /* SL_HTTP_HC_PRESENT ... */
} sl_http_hc_header_t;

typedef struct {
    sl_str_t name;
    sl_array_t statuses; /* sl_http_hc_status_t */
    sl_array_t headers;  /* sl_http_hc_header_t */
    sl_regex_t *body;
    sl_uint_t body_negated;
} sl_http_hc_match_t;

/* The "health_check" of one upstream group. */
typedef struct {
    sl_http_upstream_srv_conf_t *upstream;
    sl_msec_t interval;
    sl_msec_t timeout;
    sl_uint_t fails;
    sl_uint_t passes;
    sl_str_t uri;
    sl_uint_t port; /* 0: the server's */
    sl_str_t match_name;
    sl_http_hc_match_t *match;
    sl_str_t file_name;
    sl_uint_t line;
} sl_http_hc_group_t;

typedef struct {
    sl_array_t matches; /* sl_http_hc_match_t * */
    sl_array_t groups;  /* sl_http_hc_group_t */
} sl_http_hc_main_conf_t;

/* The checker's state for one peer (in the helper process only). */
typedef struct {
    sl_http_hc_group_t *group;
    sl_http_upstream_rr_peers_t *peers; /* the list holding the peer: its lock */
    sl_http_upstream_rr_peer_t *peer;

    sl_sockaddr_any_t sockaddr; /* the peer's address, with port= applied */
    socklen_t socklen;

    sl_event_t event; /* the next check, or the deadline of the one running */
    sl_connection_t *connection;
    sl_log_t *log;

    sl_str_t request;
    size_t sent;

    sl_buf_t buffer;
    sl_http_parse_t parse;
    sl_http_chunked_t chunked;
    sl_uint_t state;
    sl_uint_t status;
    off_t content_length; /* -1 when unknown */
    sl_uint_t is_chunked;
    u_char *body_start;
    u_char *body_last;      /* end of the (decoded) body bytes kept */
    sl_uint_t *header_hits; /* per header condition: fields of that name that matched */
    sl_uint_t *header_seen; /* per header condition: fields of that name */
} sl_http_hc_peer_t;

static void *sl_http_hc_create_main_conf(sl_conf_t *cf);
static sl_int_t sl_http_hc_postconfiguration(sl_conf_t *cf);
static char *sl_http_hc_health_check(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_hc_match_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_hc_match_line(sl_conf_t *cf, sl_command_t *dummy, void *conf);
static sl_int_t sl_http_hc_init_process(sl_cycle_t *cycle, void *data);
static void sl_http_hc_timer_handler(sl_event_t *ev);
static void sl_http_hc_io_handler(sl_event_t *ev);
static void sl_http_hc_finish(sl_http_hc_peer_t *hp, sl_uint_t ok, const char *reason);
static void sl_http_hc_fail(sl_http_hc_peer_t *hp, const char *fmt, ...);

static sl_command_t sl_http_upstream_health_commands[] = {
    { sl_string("health_check"), SL_HTTP_UPS_CONF | SL_CONF_ANY, sl_http_hc_health_check,
      SL_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { sl_string("match"), SL_HTTP_MAIN_CONF | SL_CONF_BLOCK | SL_CONF_TAKE1, sl_http_hc_match_block,
      SL_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_upstream_health_module_ctx = {
    NULL,                         /* preconfiguration */
    sl_http_hc_postconfiguration, /* postconfiguration */
    sl_http_hc_create_main_conf,  /* create main configuration */
    NULL,                         /* init main configuration */
    NULL,
    NULL,
    NULL,
    NULL
};

sl_module_t sl_http_upstream_health_module = { SL_MODULE_V1,
                                               "sl_http_upstream_health_module",
                                               SL_HTTP_MODULE,
                                               &sl_http_upstream_health_module_ctx,
                                               sl_http_upstream_health_commands,
                                               NULL,
                                               NULL,
                                               NULL,
                                               NULL };


/* Configuration ------------------------------------------------------------ */

static void *
sl_http_hc_create_main_conf(sl_conf_t *cf)
{
    sl_http_hc_main_conf_t *hmcf;

    hmcf = sl_pcalloc(cf->pool, sizeof(sl_http_hc_main_conf_t));
    if (hmcf == NULL) {
        return NULL;
    }

    if (sl_array_init(&hmcf->matches, cf->pool, 2, sizeof(sl_http_hc_match_t *)) != SL_OK
        || sl_array_init(&hmcf->groups, cf->pool, 2, sizeof(sl_http_hc_group_t)) != SL_OK) {
        return NULL;
    }

    return hmcf;
}


/* The value of "name=value" when arg starts with name=, else NULL. */
static sl_str_t *
sl_http_hc_param(sl_str_t *arg, const char *name, sl_str_t *value)
{
    size_t len;

    len = strlen(name);

    if (arg->len < len || sl_strncmp(arg->data, name, len) != 0) {
        return NULL;
    }

    value->data = arg->data + len;
    value->len = arg->len - len;

    return value;
}


static char *
sl_http_hc_health_check(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_int_t n;
    sl_str_t *value, v;
    sl_uint_t i;
    sl_http_hc_group_t *group, *g;
    sl_http_hc_main_conf_t *hmcf = conf;
    sl_http_upstream_srv_conf_t *uscf;

    sl_unused(cmd);

    uscf = sl_http_conf_get_module_srv_conf(cf, sl_http_upstream_module);

    g = hmcf->groups.elts;

    for (i = 0; i < hmcf->groups.nelts; i++) {
        if (g[i].upstream == uscf) {
            return "is duplicate";
        }
    }

    group = sl_array_push(&hmcf->groups);
    if (group == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(group, sizeof(sl_http_hc_group_t));

    group->upstream = uscf;
    group->interval = SL_HTTP_HC_DEFAULT_INTERVAL;
    group->timeout = SL_HTTP_HC_DEFAULT_TIMEOUT;
    group->fails = 1;
    group->passes = 1;
    sl_str_set(&group->uri, "/");
    group->file_name = cf->conf_file->name;
    group->line = cf->conf_file->line;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (sl_http_hc_param(&value[i], "interval=", &v) != NULL) {
            n = sl_parse_time(&v, 0);

            if (n == SL_ERROR || n == 0) {
                goto invalid;
            }

            group->interval = (sl_msec_t) n;
            continue;
        }

        if (sl_http_hc_param(&value[i], "timeout=", &v) != NULL) {
            n = sl_parse_time(&v, 0);

            if (n == SL_ERROR || n == 0) {
                goto invalid;
            }

            group->timeout = (sl_msec_t) n;
            continue;
        }

        if (sl_http_hc_param(&value[i], "fails=", &v) != NULL) {
            n = sl_atoi(v.data, v.len);

            if (n == SL_ERROR || n == 0) {
                goto invalid;
            }

            group->fails = (sl_uint_t) n;
            continue;
        }

        if (sl_http_hc_param(&value[i], "passes=", &v) != NULL) {
            n = sl_atoi(v.data, v.len);

            if (n == SL_ERROR || n == 0) {
                goto invalid;
            }

            group->passes = (sl_uint_t) n;
            continue;
        }

        if (sl_http_hc_param(&value[i], "uri=", &v) != NULL) {
            if (v.len == 0 || v.data[0] != '/') {
                goto invalid;
            }

            for (n = 0; n < (sl_int_t) v.len; n++) {
                /* the URI goes on the request line as it is */
                if (v.data[n] <= ' ' || v.data[n] == 0x7f) {
                    goto invalid;
                }
            }

            group->uri = v;
            continue;
        }

        if (sl_http_hc_param(&value[i], "port=", &v) != NULL) {
            n = sl_atoi(v.data, v.len);

            if (n == SL_ERROR || n < 1 || n > 65535) {
                goto invalid;
            }

            group->port = (sl_uint_t) n;
            continue;
        }

        if (sl_http_hc_param(&value[i], "match=", &v) != NULL) {
            if (v.len == 0) {
                goto invalid;
            }

            group->match_name = v;
            continue;
        }

        goto invalid;
    }

    return SL_CONF_OK;

invalid:

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);

    return SL_CONF_ERROR;
}


static char *
sl_http_hc_match_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    char *rv;
    sl_str_t *value;
    sl_uint_t i;
    sl_conf_t save;
    sl_http_hc_match_t *match, **mp;
    sl_http_hc_main_conf_t *hmcf = conf;

    sl_unused(cmd);

    value = cf->args->elts;
    mp = hmcf->matches.elts;

    for (i = 0; i < hmcf->matches.nelts; i++) {
        if (sl_str_eq(&mp[i]->name, &value[1])) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "duplicate match \"%V\"", &value[1]);
            return SL_CONF_ERROR;
        }
    }

    match = sl_pcalloc(cf->pool, sizeof(sl_http_hc_match_t));
    mp = sl_array_push(&hmcf->matches);

    if (match == NULL || mp == NULL
        || sl_array_init(&match->statuses, cf->pool, 1, sizeof(sl_http_hc_status_t)) != SL_OK
        || sl_array_init(&match->headers, cf->pool, 2, sizeof(sl_http_hc_header_t)) != SL_OK) {
        return SL_CONF_ERROR;
    }

    match->name = value[1];
    *mp = match;

    save = *cf;
    cf->handler = sl_http_hc_match_line;
    cf->handler_conf = match;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static sl_regex_t *
sl_http_hc_regex(sl_conf_t *cf, sl_str_t *pattern)
{
    sl_regex_compile_t rc;

    sl_memzero(&rc, sizeof(sl_regex_compile_t));
    rc.pattern = *pattern;
    rc.pool = cf->pool;

    if (sl_regex_compile(&rc) != SL_OK) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%V", &rc.err);
        return NULL;
    }

    return rc.regex;
}


/* "status [!] CODE|LOW-HIGH ..." */
static char *
sl_http_hc_match_status(sl_conf_t *cf, sl_http_hc_match_t *match)
{
    u_char *dash;
    sl_int_t low, high;
    sl_str_t *value;
    sl_uint_t i;
    sl_http_hc_range_t *range;
    sl_http_hc_status_t *status;

    value = cf->args->elts;

    status = sl_array_push(&match->statuses);
    if (status == NULL
        || sl_array_init(&status->ranges, cf->pool, 2, sizeof(sl_http_hc_range_t)) != SL_OK) {
        return SL_CONF_ERROR;
    }

    status->negated = 0;
    i = 1;

    if (value[1].len == 1 && value[1].data[0] == '!') {
        status->negated = 1;
        i = 2;
    }

    if (i == cf->args->nelts) {
        return "invalid number of arguments in \"status\"";
    }

    for (/* void */; i < cf->args->nelts; i++) {
        dash = (u_char *) memchr(value[i].data, '-', value[i].len);

        if (dash == NULL) {
            low = sl_atoi(value[i].data, value[i].len);
            high = low;

        } else {
            low = sl_atoi(value[i].data, (size_t) (dash - value[i].data));
            high = sl_atoi(dash + 1, (size_t) (value[i].data + value[i].len - dash - 1));
        }

        if (low < 100 || high > 599 || low > high) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid status \"%V\"", &value[i]);
            return SL_CONF_ERROR;
        }

        range = sl_array_push(&status->ranges);
        if (range == NULL) {
            return SL_CONF_ERROR;
        }

        range->low = (sl_uint_t) low;
        range->high = (sl_uint_t) high;
    }

    return SL_CONF_OK;
}


/* "header NAME", "header ! NAME", "header NAME (=|!=|~|!~) VALUE" */
static char *
sl_http_hc_match_header(sl_conf_t *cf, sl_http_hc_match_t *match)
{
    sl_str_t *value, *name;
    sl_http_hc_header_t *header;

    value = cf->args->elts;

    header = sl_array_push(&match->headers);
    if (header == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(header, sizeof(sl_http_hc_header_t));

    switch (cf->args->nelts) {
    case 2:
        header->op = SL_HTTP_HC_PRESENT;
        name = &value[1];
        break;

    case 3:
        if (!sl_str_eq_lit(&value[1], "!")) {
            return "invalid number of arguments in \"header\"";
        }

        header->op = SL_HTTP_HC_ABSENT;
        name = &value[2];
        break;

    case 4:
        name = &value[1];
        header->value = value[3];

        if (sl_str_eq_lit(&value[2], "=")) {
            header->op = SL_HTTP_HC_EQUAL;

        } else if (sl_str_eq_lit(&value[2], "!=")) {
            header->op = SL_HTTP_HC_NOT_EQUAL;

        } else if (sl_str_eq_lit(&value[2], "~")) {
            header->op = SL_HTTP_HC_REGEX;

        } else if (sl_str_eq_lit(&value[2], "!~")) {
            header->op = SL_HTTP_HC_NOT_REGEX;

        } else {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid operator \"%V\"", &value[2]);
            return SL_CONF_ERROR;
        }

        if (header->op == SL_HTTP_HC_REGEX || header->op == SL_HTTP_HC_NOT_REGEX) {
            header->regex = sl_http_hc_regex(cf, &value[3]);
            if (header->regex == NULL) {
                return SL_CONF_ERROR;
            }
        }

        break;

    default:
        return "invalid number of arguments in \"header\"";
    }

    if (name->len == 0) {
        return "invalid header name in \"header\"";
    }

    header->name = *name;

    return SL_CONF_OK;
}


/* One line of a match block. */
static char *
sl_http_hc_match_line(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    sl_str_t *value;
    sl_http_hc_match_t *match = conf;

    sl_unused(dummy);

    value = cf->args->elts;

    if (sl_str_eq_lit(&value[0], "status")) {
        if (cf->args->nelts < 2) {
            return "invalid number of arguments in \"status\"";
        }

        return sl_http_hc_match_status(cf, match);
    }

    if (sl_str_eq_lit(&value[0], "header")) {
        return sl_http_hc_match_header(cf, match);
    }

    if (sl_str_eq_lit(&value[0], "body")) {
        if (cf->args->nelts != 3) {
            return "invalid number of arguments in \"body\"";
        }

        if (match->body != NULL) {
            return "duplicate \"body\"";
        }

        if (sl_str_eq_lit(&value[1], "~")) {
            match->body_negated = 0;

        } else if (sl_str_eq_lit(&value[1], "!~")) {
            match->body_negated = 1;

        } else {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid operator \"%V\"", &value[1]);
            return SL_CONF_ERROR;
        }

        match->body = sl_http_hc_regex(cf, &value[2]);

        return (match->body != NULL) ? SL_CONF_OK : SL_CONF_ERROR;
    }

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unknown directive \"%V\" in match", &value[0]);

    return SL_CONF_ERROR;
}


/* Logs an error at the health_check directive's own file and line. */
static void
sl_http_hc_conf_error(sl_conf_t *cf, sl_http_hc_group_t *group, const char *fmt, sl_str_t *a,
                      sl_str_t *b)
{
    sl_conf_file_t file, *saved;

    saved = cf->conf_file;

    sl_memzero(&file, sizeof(sl_conf_file_t));
    file.fd = 0; /* any valid-looking fd: the location prints as FILE:LINE */
    file.name = group->file_name;
    file.line = group->line;

    cf->conf_file = &file;
    sl_conf_log_error(SL_LOG_EMERG, cf, 0, fmt, a, b);
    cf->conf_file = saved;
}


/*
 * After the whole http block: each health_check needs its group's zone (the
 * checker's findings must reach every worker) and names an existing match;
 * then one helper process is registered for all groups.
 */
static sl_int_t
sl_http_hc_postconfiguration(sl_conf_t *cf)
{
    sl_uint_t i, j;
    sl_http_hc_group_t *group;
    sl_http_hc_match_t **mp;
    sl_http_hc_main_conf_t *hmcf;

    hmcf = sl_http_conf_get_module_main_conf(cf, sl_http_upstream_health_module);

    if (hmcf->groups.nelts == 0) {
        return SL_OK;
    }

    group = hmcf->groups.elts;
    mp = hmcf->matches.elts;

    for (i = 0; i < hmcf->groups.nelts; i++) {
        if (group[i].upstream->shm_zone == NULL) {
            sl_http_hc_conf_error(cf, &group[i],
                                  "health_check requires a \"zone\" in upstream \"%V\"",
                                  &group[i].upstream->host, NULL);
            return SL_ERROR;
        }

        if (group[i].match_name.len == 0) {
            continue;
        }

        for (j = 0; j < hmcf->matches.nelts; j++) {
            if (sl_str_eq(&mp[j]->name, &group[i].match_name)) {
                group[i].match = mp[j];
                break;
            }
        }

        if (group[i].match == NULL) {
            sl_http_hc_conf_error(cf, &group[i], "match \"%V\" not found for upstream \"%V\"",
                                  &group[i].match_name, &group[i].upstream->host);
            return SL_ERROR;
        }
    }

    return sl_process_add_helper(cf->cycle, "health check process", sl_http_hc_init_process, hmcf);
}


/* The checker (helper process) ----------------------------------------------- */

static sl_int_t
sl_http_hc_add_peer(sl_cycle_t *cycle, sl_http_hc_group_t *group,
                    sl_http_upstream_rr_peers_t *peers, sl_http_upstream_rr_peer_t *peer)
{
    u_char *p;
    size_t size;
    sl_uint_t n;
    sl_http_hc_peer_t *hp;

    hp = sl_pcalloc(cycle->pool, sizeof(sl_http_hc_peer_t));
    if (hp == NULL) {
        return SL_ERROR;
    }

    hp->group = group;
    hp->peers = peers;
    hp->peer = peer;
    hp->log = cycle->log;

    if (peer->socklen > sizeof(sl_sockaddr_any_t)) {
        sl_log_error(SL_LOG_ALERT, cycle->log, 0, "invalid address length of peer %V", &peer->name);
        return SL_ERROR;
    }

    sl_memcpy(&hp->sockaddr, peer->sockaddr, peer->socklen);
    hp->socklen = peer->socklen;

    if (group->port) {
        if (hp->sockaddr.sa.sa_family == AF_INET6) {
            hp->sockaddr.sin6.sin6_port = htons((in_port_t) group->port);

        } else if (hp->sockaddr.sa.sa_family == AF_INET) {
            hp->sockaddr.sin.sin_port = htons((in_port_t) group->port);
        }
    }

    size = sizeof("GET  HTTP/1.0" CRLF "Host: " CRLF "Connection: close" CRLF CRLF) - 1
           + group->uri.len + peer->server.len;

    hp->request.data = sl_pnalloc(cycle->pool, size);
    if (hp->request.data == NULL) {
        return SL_ERROR;
    }

    p = sl_sprintf(hp->request.data,
                   "GET %V HTTP/1.0" CRLF "Host: %V" CRLF "Connection: close" CRLF CRLF,
                   &group->uri, &peer->server);
    hp->request.len = (size_t) (p - hp->request.data);

    size = SL_HTTP_HC_HEADER_MAX;

    if (group->match != NULL && group->match->body != NULL) {
        size += SL_HTTP_HC_BODY_MAX;
    }

    hp->buffer.start = sl_pnalloc(cycle->pool, size);
    if (hp->buffer.start == NULL) {
        return SL_ERROR;
    }

    hp->buffer.end = hp->buffer.start + size;

    if (group->match != NULL && group->match->headers.nelts) {
        n = group->match->headers.nelts;
        hp->header_hits = sl_pcalloc(cycle->pool, n * sizeof(sl_uint_t));
        hp->header_seen = sl_pcalloc(cycle->pool, n * sizeof(sl_uint_t));

        if (hp->header_hits == NULL || hp->header_seen == NULL) {
            return SL_ERROR;
        }
    }

    hp->event.handler = sl_http_hc_timer_handler;
    hp->event.data = hp;
    hp->event.log = cycle->log;
    /* the checks never hold up a stop */
    hp->event.cancelable = 1;

    /* the first check starts at once: before any client traffic */
    sl_event_add_timer(&hp->event, 0);

    return SL_OK;
}


/* Runs in the helper process once its event loop is ready: a check timer for every peer. */
static sl_int_t
sl_http_hc_init_process(sl_cycle_t *cycle, void *data)
{
    sl_uint_t i, n;
    sl_http_hc_group_t *group;
    sl_http_hc_main_conf_t *hmcf = data;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;

    group = hmcf->groups.elts;
    n = 0;

    for (i = 0; i < hmcf->groups.nelts; i++) {
        /* the zone's copy: the workers see what this process writes */
        for (peers = group[i].upstream->peer.data; peers != NULL; peers = peers->next) {
            for (peer = peers->peer; peer != NULL; peer = peer->next) {
                if (sl_http_hc_add_peer(cycle, &group[i], peers, peer) != SL_OK) {
                    return SL_ERROR;
                }

                n++;
            }
        }
    }

    sl_log_error(SL_LOG_INFO, cycle->log, 0, "health checks of %ui peers in %ui upstreams", n,
                 hmcf->groups.nelts);

    return SL_OK;
}


/* Opens the connection of a new check; the I/O handler takes it from there. */
static void
sl_http_hc_start(sl_http_hc_peer_t *hp)
{
    int rc;
    sl_fd_t s;
    sl_err_t err;
    sl_connection_t *c;

    hp->state = SL_HTTP_HC_CONNECT;
    hp->sent = 0;
    hp->status = 0;
    hp->content_length = -1;
    hp->is_chunked = 0;
    hp->body_start = NULL;
    hp->body_last = NULL;
    hp->buffer.pos = hp->buffer.start;
    hp->buffer.last = hp->buffer.start;
    sl_memzero(&hp->parse, sizeof(sl_http_parse_t));
    sl_memzero(&hp->chunked, sizeof(sl_http_chunked_t));

    if (hp->header_hits != NULL) {
        sl_memzero(hp->header_hits, hp->group->match->headers.nelts * sizeof(sl_uint_t));
        sl_memzero(hp->header_seen, hp->group->match->headers.nelts * sizeof(sl_uint_t));
    }

    s = socket(hp->sockaddr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (s == -1) {
        /* a local failure says nothing about the peer: try again later */
        sl_log_error(SL_LOG_ALERT, hp->log, errno, "socket() failed");
        hp->state = SL_HTTP_HC_IDLE;
        sl_event_add_timer(&hp->event, hp->group->interval);
        return;
    }

    c = sl_get_connection(s, hp->log);

    if (c == NULL) {
        if (close(s) == -1) {
            sl_log_error(SL_LOG_ALERT, hp->log, errno, "close() socket %d failed", s);
        }

        hp->state = SL_HTTP_HC_IDLE;
        sl_event_add_timer(&hp->event, hp->group->interval);
        return;
    }

    c->data = hp;
    c->read->handler = sl_http_hc_io_handler;
    c->write->handler = sl_http_hc_io_handler;
    c->start_msec = sl_current_msec;
    hp->connection = c;

    do {
        rc = connect(s, &hp->sockaddr.sa, hp->socklen);
    } while (rc == -1 && errno == EINTR);

    err = (rc == -1) ? errno : 0;

    if (err != 0 && err != EINPROGRESS) {
        sl_http_hc_fail(hp, "connect() failed (%d: %s)", err, strerror(err));
        return;
    }

    if (sl_epoll_add_connection(c) != SL_OK) {
        sl_close_connection(c);
        hp->connection = NULL;
        hp->state = SL_HTTP_HC_IDLE;
        sl_event_add_timer(&hp->event, hp->group->interval);
        return;
    }

    sl_event_add_timer(&hp->event, hp->group->timeout);

    if (err == 0) {
        c->write->ready = 1;
        sl_http_hc_io_handler(c->write);
    }
}


static void
sl_http_hc_timer_handler(sl_event_t *ev)
{
    sl_http_hc_peer_t *hp;

    hp = ev->data;

    if (hp->state == SL_HTTP_HC_IDLE) {
        sl_http_hc_start(hp);
        return;
    }

    sl_http_hc_fail(hp, "timed out");
}


/* Whether s matches a condition's value (text or regex); a regex error is no match. */
static sl_uint_t
sl_http_hc_value_matches(sl_http_hc_header_t *h, sl_str_t *s)
{
    if (h->regex != NULL) {
        return sl_regex_exec(h->regex, s, NULL, 0) > 0;
    }

    return sl_str_eq(&h->value, s);
}


/* One response header field: framing, and the match's header conditions. */
static void
sl_http_hc_header(sl_http_hc_peer_t *hp)
{
    sl_str_t name, value;
    sl_uint_t i;
    sl_http_hc_header_t *h;

    name.data = hp->parse.header_name_start;
    name.len = (size_t) (hp->parse.header_name_end - hp->parse.header_name_start);
    value.data = hp->parse.header_start;
    value.len = (size_t) (hp->parse.header_end - hp->parse.header_start);

    if (sl_str_caseeq_lit(&name, "content-length")) {
        hp->content_length = sl_http_parse_content_length(value.data, value.len);

    } else if (sl_str_caseeq_lit(&name, "transfer-encoding")) {
        hp->is_chunked =
            (sl_http_parse_transfer_encoding(value.data, value.len) == SL_HTTP_TE_CHUNKED);
    }

    if (hp->header_hits == NULL) {
        return;
    }

    h = hp->group->match->headers.elts;

    for (i = 0; i < hp->group->match->headers.nelts; i++) {
        if (!sl_str_caseeq(&h[i].name, &name)) {
            continue;
        }

        hp->header_seen[i]++;

        if (h[i].op != SL_HTTP_HC_PRESENT && h[i].op != SL_HTTP_HC_ABSENT
            && sl_http_hc_value_matches(&h[i], &value)) {
            hp->header_hits[i]++;
        }
    }
}


/* Judges a complete (or truncated) response; finishes the check. */
static void
sl_http_hc_judge(sl_http_hc_peer_t *hp)
{
    sl_int_t rc;
    sl_str_t body;
    sl_uint_t i, j, in, ok;
    sl_http_hc_match_t *match;
    sl_http_hc_range_t *range;
    sl_http_hc_status_t *status;
    sl_http_hc_header_t *h;

    match = hp->group->match;

    if (match == NULL) {
        if (hp->status >= 200 && hp->status < 400) {
            sl_http_hc_finish(hp, 1, NULL);
            return;
        }

        sl_http_hc_fail(hp, "status %ui", hp->status);
        return;
    }

    status = match->statuses.elts;

    for (i = 0; i < match->statuses.nelts; i++) {
        range = status[i].ranges.elts;
        in = 0;

        for (j = 0; j < status[i].ranges.nelts; j++) {
            if (hp->status >= range[j].low && hp->status <= range[j].high) {
                in = 1;
                break;
            }
        }

        if (in == status[i].negated) {
            sl_http_hc_fail(hp, "status %ui does not match \"%V\"", hp->status, &match->name);
            return;
        }
    }

    h = match->headers.elts;

    for (i = 0; i < match->headers.nelts; i++) {
        switch (h[i].op) {
        case SL_HTTP_HC_PRESENT:
            ok = (hp->header_seen[i] != 0);
            break;
        case SL_HTTP_HC_ABSENT:
            ok = (hp->header_seen[i] == 0);
            break;
        case SL_HTTP_HC_EQUAL:
        case SL_HTTP_HC_REGEX:
            ok = (hp->header_hits[i] != 0);
            break;
        default:
            ok = (hp->header_hits[i] == 0);
            break;
        }

        if (!ok) {
            sl_http_hc_fail(hp, "header \"%V\" does not match \"%V\"", &h[i].name, &match->name);
            return;
        }
    }

    if (match->body != NULL) {
        body.data = hp->body_start;
        body.len = (hp->body_start != NULL) ? (size_t) (hp->body_last - hp->body_start) : 0;

        if (body.data == NULL) {
            body.data = hp->buffer.start;
        }

        body.len = sl_min(body.len, SL_HTTP_HC_BODY_MAX);

        rc = sl_regex_exec(match->body, &body, NULL, 0);

        if (rc == SL_ERROR || (rc > 0) == match->body_negated) {
            sl_http_hc_fail(hp, "body does not match \"%V\"", &match->name);
            return;
        }
    }

    sl_http_hc_finish(hp, 1, NULL);
}


/*
 * Takes the body bytes that arrived into [body_start, body_last): plain
 * bytes stay where they are, chunked ones are decoded down over the chunk
 * framing. Returns SL_DONE when the whole body (or all a match examines) is
 * in, SL_AGAIN for more, SL_ERROR for a broken chunked body.
 */
static sl_int_t
sl_http_hc_body(sl_http_hc_peer_t *hp)
{
    size_t n;
    sl_int_t rc;
    sl_buf_t *b;

    b = &hp->buffer;

    if (!hp->is_chunked) {
        hp->body_last = b->last;
        b->pos = b->last;

        if (hp->content_length >= 0 && hp->body_last - hp->body_start >= hp->content_length) {
            hp->body_last = hp->body_start + hp->content_length;
            return SL_DONE;
        }

        return (hp->body_last - hp->body_start >= SL_HTTP_HC_BODY_MAX) ? SL_DONE : SL_AGAIN;
    }

    for (;;) {
        rc = sl_http_parse_chunked(&hp->chunked, b);

        if (rc == SL_OK) {
            n = sl_min((size_t) hp->chunked.size, (size_t) (b->last - b->pos));
            sl_memmove(hp->body_last, b->pos, n);
            hp->body_last += n;
            b->pos += n;
            hp->chunked.size -= (off_t) n;
            continue;
        }

        if (rc == SL_AGAIN) {
            /* the framing read so far is no longer needed: reuse its room */
            b->pos = hp->body_last;
            b->last = hp->body_last;

            return (hp->body_last - hp->body_start >= SL_HTTP_HC_BODY_MAX) ? SL_DONE : SL_AGAIN;
        }

        return (rc == SL_DONE) ? SL_DONE : SL_ERROR;
    }
}


/* Parses what arrived: the status line, the header fields, then the body if a match needs it. */
static void
sl_http_hc_parse(sl_http_hc_peer_t *hp)
{
    sl_int_t rc;
    sl_buf_t *b;

    b = &hp->buffer;

    if (hp->state == SL_HTTP_HC_STATUS) {
        rc = sl_http_parse_status_line(&hp->parse, b);

        if (rc == SL_AGAIN) {
            return;
        }

        if (rc != SL_OK) {
            sl_http_hc_fail(hp, "invalid status line");
            return;
        }

        hp->status = hp->parse.status;
        hp->state = SL_HTTP_HC_HEADER;
    }

    if (hp->state == SL_HTTP_HC_HEADER) {
        for (;;) {
            rc = sl_http_parse_header_line(&hp->parse, b, 0);

            if (rc == SL_OK) {
                sl_http_hc_header(hp);
                continue;
            }

            if (rc == SL_AGAIN) {
                return;
            }

            if (rc != SL_HTTP_PARSE_HEADER_DONE) {
                sl_http_hc_fail(hp, "invalid header");
                return;
            }

            break;
        }

        if (hp->group->match == NULL || hp->group->match->body == NULL || hp->content_length == 0) {
            sl_http_hc_judge(hp);
            return;
        }

        hp->state = SL_HTTP_HC_BODY;
        hp->body_start = b->pos;
        hp->body_last = b->pos;
    }

    rc = sl_http_hc_body(hp);

    if (rc == SL_DONE) {
        sl_http_hc_judge(hp);

    } else if (rc == SL_ERROR) {
        sl_http_hc_fail(hp, "invalid chunked body");
    }
}


/* Sends the request once connected. SL_OK when all is sent, SL_AGAIN, or SL_ERROR (finished). */
static sl_int_t
sl_http_hc_send(sl_http_hc_peer_t *hp)
{
    int err;
    ssize_t n;
    socklen_t len;
    sl_connection_t *c;

    c = hp->connection;

    if (hp->sent == 0) {
        err = 0;
        len = sizeof(int);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
            err = errno;
        }

        if (err != 0) {
            sl_http_hc_fail(hp, "connect() failed (%d: %s)", err, strerror(err));
            return SL_ERROR;
        }
    }

    while (hp->sent < hp->request.len) {
        n = send(c->fd, hp->request.data + hp->sent, hp->request.len - hp->sent, MSG_NOSIGNAL);

        if (n > 0) {
            hp->sent += (size_t) n;
            continue;
        }

        err = errno;

        if (n == -1 && err == EINTR) {
            continue;
        }

        if (n == -1 && err == EAGAIN) {
            c->write->ready = 0;
            return SL_AGAIN;
        }

        sl_http_hc_fail(hp, "send() failed (%d: %s)", err, strerror(err));
        return SL_ERROR;
    }

    return SL_OK;
}


static void
sl_http_hc_io_handler(sl_event_t *ev)
{
    int err;
    ssize_t n;
    sl_buf_t *b;
    sl_connection_t *c;
    sl_http_hc_peer_t *hp;

    c = ev->data;
    hp = c->data;
    b = &hp->buffer;

    if (hp->state == SL_HTTP_HC_CONNECT) {
        if (!c->write->ready) {
            /* the connection is not established yet; its write event says when */
            return;
        }

        if (sl_http_hc_send(hp) != SL_OK) {
            return;
        }

        hp->state = SL_HTTP_HC_STATUS;
    }

    for (;;) {
        if (b->last == b->end) {
            if (hp->state == SL_HTTP_HC_BODY) {
                /* as much of the body as a match examines */
                sl_http_hc_judge(hp);

            } else {
                sl_http_hc_fail(hp, "response header too big");
            }

            return;
        }

        n = recv(c->fd, b->last, (size_t) (b->end - b->last), 0);

        if (n == -1) {
            err = errno;

            if (err == EINTR) {
                continue;
            }

            if (err == EAGAIN) {
                return;
            }

            sl_http_hc_fail(hp, "recv() failed (%d: %s)", err, strerror(err));
            return;
        }

        if (n == 0) {
            if (hp->state == SL_HTTP_HC_BODY) {
                sl_http_hc_judge(hp);

            } else {
                sl_http_hc_fail(hp, "connection closed before the response header");
            }

            return;
        }

        b->last += n;

        sl_http_hc_parse(hp);

        if (hp->state == SL_HTTP_HC_IDLE) {
            /* judged: the connection is closed */
            return;
        }
    }
}


/*
 * Ends a check: closes its connection, counts the result into the peer
 * under its list's lock, logs a change of health, and schedules the next
 * check. reason says why a failed check failed.
 */
static void
sl_http_hc_finish(sl_http_hc_peer_t *hp, sl_uint_t ok, const char *reason)
{
    sl_uint_t went_down, came_up;
    sl_http_upstream_rr_peer_t *peer;

    if (hp->connection != NULL) {
        sl_close_connection(hp->connection);
        hp->connection = NULL;
    }

    hp->state = SL_HTTP_HC_IDLE;

    peer = hp->peer;
    went_down = 0;
    came_up = 0;

    sl_http_upstream_rr_peers_lock(hp->peers);

    peer->hc_checked = sl_time();
    peer->hc_status = hp->status;

    if (ok) {
        peer->hc_fails = 0;
        peer->hc_passes++;

        if (peer->hc_down && peer->hc_passes >= hp->group->passes) {
            peer->hc_down = 0;
            came_up = 1;
        }

    } else {
        peer->hc_passes = 0;
        peer->hc_fails++;

        if (!peer->hc_down && peer->hc_fails >= hp->group->fails) {
            peer->hc_down = 1;
            went_down = 1;
        }
    }

    sl_http_upstream_rr_peers_unlock(hp->peers);

    if (!ok) {
        sl_log_error(SL_LOG_INFO, hp->log, 0,
                     "health check of peer %V in upstream \"%V\" failed: %s", &peer->name,
                     &hp->group->upstream->host, reason);
    }

    if (went_down) {
        sl_log_error(SL_LOG_WARN, hp->log, 0,
                     "peer %V in upstream \"%V\" is down (health check: %s)", &peer->name,
                     &hp->group->upstream->host, reason);

    } else if (came_up) {
        sl_log_error(SL_LOG_WARN, hp->log, 0, "peer %V in upstream \"%V\" is up", &peer->name,
                     &hp->group->upstream->host);
    }

    if (hp->event.timer_set) {
        /* the deadline of this check: replaced exactly, not lazily */
        sl_event_del_timer(&hp->event);
    }

    sl_event_add_timer(&hp->event, hp->group->interval);
}


/* Ends a check as failed, the reason formatted as by sl_sprintf(). */
static void
sl_http_hc_fail(sl_http_hc_peer_t *hp, const char *fmt, ...)
{
    u_char reason[256], *p;
    va_list args;

    va_start(args, fmt);
    p = sl_vslprintf(reason, reason + sizeof(reason) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    sl_http_hc_finish(hp, 0, (char *) reason);
}
