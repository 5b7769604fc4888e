/*
 * test_http_log.c: the access log module. The module's source is included
 * so its static parts (escapers, handler, worker hooks) can be driven
 * directly; configurations are real files loaded by sl_init_cycle() (in
 * test mode, so no socket is opened) with the HTTP engine and this module
 * in the module list. Requests are hand-made and point at the loaded
 * servers' configurations; lines are read back from the files.
 */

#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_log_module.c"
#include "sl_tap.h"

/*
 * The engine pieces this test never reaches (filters, special responses)
 * live in files other engineers write; weak definitions let the test link
 * before those exist and step aside once they are in the library.
 */
__attribute__((weak)) sl_int_t
sl_http_output_filter(sl_http_request_t *r, sl_chain_t *in)
{
    sl_unused(r);
    sl_unused(in);
    return SL_ERROR;
}

__attribute__((weak)) sl_int_t
sl_http_special_response_handler(sl_http_request_t *r, sl_int_t status)
{
    sl_unused(r);
    return status;
}

sl_module_t *sl_modules[] = { &sl_core_module,     &sl_conf_module,
                              &sl_events_module,   &sl_event_core_module,
                              &sl_http_module,     &sl_http_core_module,
                              &sl_http_log_module, NULL };
const char *sl_module_names[] = { "sl_core_module",     "sl_conf_module",
                                  "sl_events_module",   "sl_event_core_module",
                                  "sl_http_module",     "sl_http_core_module",
                                  "sl_http_log_module", NULL };
sl_uint_t sl_modules_n = 7;

#define T_HEAD "events { worker_connections 16; }\n"

static char tdir[] = "/tmp/sl_test_http_log.XXXXXX";
static sl_cycle_t init_cycle;
static char captured[8192];

/* Helpers ------------------------------------------------------------------ */

static void
t_write(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tdir, name);
    f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

/* Reads a file under the prefix ("" when missing); returns its length. */
static size_t
t_read(const char *name, char *buf, size_t size)
{
    char path[512];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", tdir, name);
    buf[0] = '\0';
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static void
t_unlink(const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", tdir, name);
    (void) unlink(path);
}

static int saved_stderr = -1;

static void
capture_start(void)
{
    char path[512];
    int fd;

    fflush(stderr);
    snprintf(path, sizeof(path), "%s/stderr", tdir);
    saved_stderr = dup(2);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

static const char *
capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    t_read("stderr", captured, sizeof(captured));
    return captured;
}

/* Loads conf (the http block's body) as -t would; NULL on a refused configuration. */
static sl_cycle_t *
t_cycle(const char *http_body)
{
    static char prefix[256], conf[512], conf_prefix[512];
    char text[8192];
    sl_cycle_t *cycle;

    snprintf(text, sizeof(text), T_HEAD "http {\n%s\n}\n", http_body);
    t_write("conf/sluice.conf", text);

    sl_memzero(&init_cycle, sizeof(sl_cycle_t));
    init_cycle.log = sl_log_init();
    init_cycle.pool = sl_create_pool(1024, init_cycle.log);

    snprintf(prefix, sizeof(prefix), "%s/", tdir);
    snprintf(conf, sizeof(conf), "%s/conf/sluice.conf", tdir);
    snprintf(conf_prefix, sizeof(conf_prefix), "%s/conf/", tdir);

    init_cycle.prefix.len = strlen(prefix);
    init_cycle.prefix.data = (u_char *) prefix;
    init_cycle.conf_file.len = strlen(conf);
    init_cycle.conf_file.data = (u_char *) conf;
    init_cycle.conf_prefix.len = strlen(conf_prefix);
    init_cycle.conf_prefix.data = (u_char *) conf_prefix;
    sl_str_set(&init_cycle.error_log, "logs/error.log");

    cycle = sl_init_cycle(&init_cycle);
    sl_destroy_pool(init_cycle.pool);

    return cycle;
}

/* A configuration that must be refused with a message containing want. */
static void
t_refused(const char *http_body, const char *want, const char *what)
{
    sl_cycle_t *cycle;
    const char *msg;

    capture_start();
    cycle = t_cycle(http_body);
    msg = capture_end();

    ok(cycle == NULL, "refused: %s", what);
    ok(strstr(msg, want) != NULL, "message for %s", what);
    if (strstr(msg, want) == NULL) {
        printf("#   got \"%s\", want \"%s\"\n", msg, want);
    }
    if (cycle != NULL) {
        sl_free_cycle(cycle);
    }
}

static sl_http_core_srv_conf_t *
t_server(sl_cycle_t *cycle, sl_uint_t n)
{
    sl_http_core_main_conf_t *cmcf;
    sl_http_core_srv_conf_t **cscfp;

    cmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_core_module);
    cscfp = cmcf->servers.elts;
    return n < cmcf->servers.nelts ? cscfp[n] : NULL;
}

static sl_connection_t t_conn;
static sl_log_t t_conn_log;

static void
t_header(sl_http_request_t *r, const char *key, const char *value)
{
    sl_table_elt_t *h;

    h = sl_list_push(&r->headers_in.headers);
    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = strlen(value);
    h->lowcase_key = h->key.data;
    h->next = NULL;
}

/* A finished request on server cscf: "METHOD URI HTTP/1.1" answered with status. */
static sl_http_request_t *
t_request(sl_cycle_t *cycle, sl_http_core_srv_conf_t *cscf, const char *method, const char *uri,
          const char *args, sl_uint_t status)
{
    static char line[1024];
    sl_pool_t *pool;
    sl_http_request_t *r;
    sl_http_core_main_conf_t *cmcf;

    pool = sl_create_pool(4096, cycle->log);
    r = sl_pcalloc(pool, sizeof(sl_http_request_t));
    r->pool = pool;
    r->signature = SL_HTTP_REQUEST_SIGNATURE;
    r->main = r;
    r->count = 1;

    t_conn_log = *cycle->log;
    t_conn.log = &t_conn_log;
    t_conn.sockaddr.sin.sin_family = AF_INET;
    t_conn.sockaddr.sin.sin_port = htons(40000);
    t_conn.sockaddr.sin.sin_addr.s_addr = htonl(0xc0000207); /* 192.0.2.7 */
    t_conn.socklen = sizeof(struct sockaddr_in);
    t_conn.sent = 1234;
    r->connection = &t_conn;
    r->header_size = 200;

    r->main_conf = cscf->ctx->main_conf;
    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;

    cmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_core_module);
    r->variables = sl_pcalloc(pool, (cmcf->variables.nelts + 1) * sizeof(sl_http_variable_value_t));

    snprintf(line, sizeof(line), "%s %s%s%s HTTP/1.1", method, uri, args ? "?" : "",
             args ? args : "");
    r->request_line.data = (u_char *) line;
    r->request_line.len = strlen(line);
    r->method_name.data = (u_char *) method;
    r->method_name.len = strlen(method);
    r->uri.data = (u_char *) uri;
    r->uri.len = strlen(uri);
    r->args.data = (u_char *) args;
    r->args.len = args ? strlen(args) : 0;
    r->unparsed_uri = r->uri;
    r->http_version = 1001;
    r->headers_out.status = status;
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    sl_list_init(&r->headers_in.headers, pool, 4, sizeof(sl_table_elt_t));
    sl_list_init(&r->headers_out.headers, pool, 4, sizeof(sl_table_elt_t));

    return r;
}

static void
t_done(sl_http_request_t *r)
{
    sl_destroy_pool(r->pool);
}

/* Logs one request of server n with the given User-Agent (NULL: none). */
static void
t_log(sl_cycle_t *cycle, sl_uint_t n, const char *uri, const char *args, const char *ua)
{
    sl_http_request_t *r;

    r = t_request(cycle, t_server(cycle, n), "GET", uri, args, 200);
    if (ua) {
        t_header(r, "User-Agent", ua);
    }
    (void) sl_http_log_handler(r);
    t_done(r);
}

static int
t_count(const char *text, const char *needle)
{
    int n;

    for (n = 0; (text = strstr(text, needle)) != NULL; text++) {
        n++;
    }
    return n;
}

static sl_http_log_file_t *
t_file(sl_cycle_t *cycle, const char *suffix)
{
    sl_uint_t i;
    size_t len;
    sl_http_log_file_t **files;
    sl_http_log_main_conf_t *lmcf;

    lmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_log_module);
    files = lmcf->files.elts;
    len = strlen(suffix);

    for (i = 0; i < lmcf->files.nelts; i++) {
        if (files[i]->file->name.len >= len
            && memcmp(files[i]->file->name.data + files[i]->file->name.len - len, suffix, len)
                   == 0) {
            return files[i];
        }
    }
    return NULL;
}

/* Escapers ----------------------------------------------------------------- */

static void
test_escape(void)
{
    u_char in[256], out[1024], want[1024], *p, *w;
    sl_uint_t i, n, bad, c;

    for (i = 0; i < 256; i++) {
        in[i] = (u_char) i;
    }

    /* escape=default: every byte checked against the rule */
    n = sl_http_log_escape(NULL, in, 256);
    is_int(n, 32 + 2 + 129, "default: 32 controls, '\"', '\\\\', 0x7f-0xff need escaping");

    p = (u_char *) sl_http_log_escape(out, in, 256);
    is_int(p - out, 256 + 3 * n, "default: the escaped length is what was measured");

    w = want;
    for (i = 0; i < 256; i++) {
        if (i < 0x20 || i >= 0x7f || i == '"' || i == '\\') {
            w += sprintf((char *) w, "\\x%02X", (unsigned) i);
        } else {
            *w++ = (u_char) i;
        }
    }
    ok((size_t) (w - want) == (size_t) (p - out) && memcmp(out, want, (size_t) (p - out)) == 0,
       "default: \\xHH, upper-case, for exactly the bytes nginx escapes");

    n = sl_http_log_escape(NULL, (u_char *) "", 0);
    is_int(n, 0, "default: empty input");
    n = sl_http_log_escape(NULL, (u_char *) "GET / HTTP/1.1 ~{}|'", 20);
    is_int(n, 0, "default: printable text passes");

    /* escape=json */
    n = sl_http_log_escape_json(NULL, in, 256);
    p = (u_char *) sl_http_log_escape_json(out, in, 256);
    is_int(p - out, 256 + n, "json: the escaped length is what was measured");

    w = want;
    for (i = 0; i < 256; i++) {
        c = i;
        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (u_char) c;
        } else if (c == '\n') {
            w = (u_char *) stpcpy((char *) w, "\\n");
        } else if (c == '\r') {
            w = (u_char *) stpcpy((char *) w, "\\r");
        } else if (c == '\t') {
            w = (u_char *) stpcpy((char *) w, "\\t");
        } else if (c == '\b') {
            w = (u_char *) stpcpy((char *) w, "\\b");
        } else if (c == '\f') {
            w = (u_char *) stpcpy((char *) w, "\\f");
        } else if (c < 0x20) {
            w += sprintf((char *) w, "\\u%04X", (unsigned) c);
        } else {
            *w++ = (u_char) c;
        }
    }
    ok((size_t) (w - want) == (size_t) (p - out) && memcmp(out, want, (size_t) (p - out)) == 0,
       "json: nginx's escapes (short forms, \\u00HH upper-case, bytes >= 0x7f raw)");

    p = (u_char *) sl_http_log_escape_json(out, (u_char *) "\x1f", 1);
    is_mem(out, p - out, "\\u001F", "json: 0x1f");

    /* a value made only of bytes to escape: the worst case, 4x */
    sl_memset(in, '"', sizeof(in));
    n = sl_http_log_escape(NULL, in, sizeof(in));
    is_int(n, sizeof(in), "default: every quote counted");
    p = (u_char *) sl_http_log_escape(out, in, sizeof(in));
    bad = 0;
    for (i = 0; i < sizeof(in); i++) {
        if (memcmp(out + 4 * i, "\\x22", 4) != 0) {
            bad++;
        }
    }
    ok(p - out == 4 * (ssize_t) sizeof(in) && bad == 0, "default: 256 quotes become 1024 bytes");
}

/* Formats, files and levels ------------------------------------------------ */

static const char *t_main_conf =
    "log_format plain '$request_method $uri' ' $status';\n"
    "log_format js escape=json '{\"ua\":\"$http_user_agent\",\"ref\":\"$http_referer\","
    "\"u\":\"$remote_user\"}';\n"
    "log_format raw escape=none '[$http_user_agent]';\n"
    "log_format dflt escape=default '<$http_user_agent|$http_referer>';\n"
    "log_format br '${request_method}x$uri' 'lit' 'eral';\n"
    "log_format st '$status';\n"
    "log_format Many '$status$status$status$status$status$status$status$status$status$status"
    "$status$status$status$status$status$status$status$status$status$status"
    "$status$status$status$status$status$status$status$status$status$status"
    "$status$status$status$status$status$status$status$status$status$status';\n"
    /* 0: no access_log anywhere: the default */
    "server { server_name a; }\n"
    /* 1: several logs on one level */
    "server { server_name b; access_log logs/b.log plain; access_log logs/b2.log js; }\n"
    /* 2 */
    "server { server_name c; access_log off; }\n"
    /* 3: two directives share one buffered file */
    "server { server_name d; access_log logs/d.log raw buffer=64 flush=1s;\n"
    "         access_log logs/d.log st; }\n"
    /* 4 */
    "server { server_name e; access_log logs/e.log st if=$arg_log; }\n"
    /* 5: locations inherit, override, turn off */
    "server { server_name f; access_log logs/f.log br;\n"
    "         location /inner { }\n"
    "         location /own { access_log logs/own.log plain; }\n"
    "         location /quiet { access_log off; } }\n"
    /* 6 */
    "server { server_name g; access_log logs/g.log dflt; access_log logs/g2.log Many;\n"
    "         access_log logs/g3.log combined; }\n"
    /* 7: a buffered log without flush= */
    "server { server_name h; access_log logs/h.log st buffer=1k; }\n";

static void
test_formats(void)
{
    sl_cycle_t *cycle;
    sl_http_request_t *r;
    sl_http_log_fmt_t **fmt;
    sl_http_log_main_conf_t *lmcf;
    char buf[16384], want[2048], many[256];
    size_t n;
    int i;

    cycle = t_cycle(t_main_conf);
    ok(cycle != NULL, "the configuration loads");
    if (cycle == NULL) {
        return;
    }

    lmcf = sl_http_cycle_get_module_main_conf(cycle, sl_http_log_module);
    fmt = lmcf->formats.elts;
    ok(lmcf->combined_used, "combined is in use (default and explicit)");
    is_int(fmt[0]->nvars, 8, "combined has 8 variables");
    is_int(fmt[5]->nops, 4, "${name}, text, $name and two literal strings: 4 operations");
    is_int(fmt[5]->fixed, 8, "the adjacent literals 'lit' 'eral' merge with the text after $uri");

    /* 0: default file, combined */
    r = t_request(cycle, t_server(cycle, 0), "GET", "/x", NULL, 200);
    t_header(r, "User-Agent", "curl/8.0");
    (void) sl_http_log_handler(r);
    t_done(r);
    n = t_read("logs/access.log", buf, sizeof(buf));
    snprintf(want, sizeof(want),
             "192.0.2.7 - - [%.*s] \"GET /x HTTP/1.1\" 200 1034 \"-\" \"curl/8.0\"\n",
             (int) sl_cached_http_log_time.len, sl_cached_http_log_time.data);
    is_mem(buf, n, want, "default: logs/access.log under the prefix in the combined format");

    /* 1: both logs of the level */
    r = t_request(cycle, t_server(cycle, 1), "POST", "/form", NULL, 201);
    t_header(r, "User-Agent", "a\"b\\c\n\t\x01\x7f\xc3\xa9");
    t_header(r, "Referer", "");
    (void) sl_http_log_handler(r);
    t_done(r);
    n = t_read("logs/b.log", buf, sizeof(buf));
    is_mem(buf, n, "POST /form 201\n", "several strings are concatenated");
    n = t_read("logs/b2.log", buf, sizeof(buf));
    is_mem(buf, n, "{\"ua\":\"a\\\"b\\\\c\\n\\t\\u0001\x7f\xc3\xa9\",\"ref\":\"\",\"u\":\"\"}\n",
           "json: escaped value, empty value, not found is empty ($remote_user)");

    /* 2: off */
    t_log(cycle, 2, "/", NULL, "x");
    n = t_read("logs/access.log", buf, sizeof(buf));
    ok(n > 0 && strchr(buf, '\n') == buf + n - 1, "access_log off: no line anywhere");

    /* 4: if= */
    t_log(cycle, 4, "/", NULL, "x");
    t_log(cycle, 4, "/", "log=0", "x");
    t_log(cycle, 4, "/", "log=", "x");
    t_log(cycle, 4, "/", "log=1", "x");
    t_log(cycle, 4, "/", "log=00", "x");
    n = t_read("logs/e.log", buf, sizeof(buf));
    is_mem(buf, n, "200\n200\n", "if=: skipped when empty or \"0\", logged for \"1\" and \"00\"");

    /* 5: inheritance through locations */
    t_log(cycle, 5, "/top", NULL, NULL);
    n = t_read("logs/f.log", buf, sizeof(buf));
    is_mem(buf, n, "GETx/topliteral\n", "${name} and literals across strings");

    r = t_request(cycle, t_server(cycle, 5), "GET", "/inner/a", NULL, 200);
    ok(sl_http_core_find_location(r) == SL_OK, "location /inner found");
    (void) sl_http_log_handler(r);
    t_done(r);
    r = t_request(cycle, t_server(cycle, 5), "GET", "/own/b", NULL, 404);
    ok(sl_http_core_find_location(r) == SL_OK, "location /own found");
    (void) sl_http_log_handler(r);
    t_done(r);
    r = t_request(cycle, t_server(cycle, 5), "GET", "/quiet/c", NULL, 200);
    ok(sl_http_core_find_location(r) == SL_OK, "location /quiet found");
    (void) sl_http_log_handler(r);
    t_done(r);
    n = t_read("logs/f.log", buf, sizeof(buf));
    is_mem(buf, n, "GETx/topliteral\nGETx/inner/aliteral\n",
           "a location without access_log inherits the server's");
    n = t_read("logs/own.log", buf, sizeof(buf));
    is_mem(buf, n, "GET /own/b 404\n", "a location's own access_log replaces the server's");

    /* 6: default escaping, many variables, explicit combined */
    r = t_request(cycle, t_server(cycle, 6), "GET", "/", NULL, 500);
    t_header(r, "User-Agent", "q\"\\\x1b\xff");
    (void) sl_http_log_handler(r);
    t_done(r);
    n = t_read("logs/g.log", buf, sizeof(buf));
    is_mem(buf, n, "<q\\x22\\x5C\\x1B\\xFF|->\n",
           "default: \\xHH escapes; a variable not found is \"-\"");
    n = t_read("logs/g2.log", buf, sizeof(buf));
    for (i = 0; i < 40; i++) {
        memcpy(many + 3 * i, "500", 3);
    }
    many[120] = '\n';
    many[121] = '\0';
    is_mem(buf, n, many, "40 variables (more than the stack holds)");
    n = t_read("logs/g3.log", buf, sizeof(buf));
    ok(n > 0 && strstr(buf, "\" 500 1034 \"-\" \"q\\x22\\x5C\\x1B\\xFF\"\n") != NULL,
       "combined escapes the User-Agent");

    /* a line longer than the stack buffer */
    {
        static char big_ua[10001];

        sl_memset(big_ua, 'u', 10000);
        big_ua[10000] = '\0';
        t_log(cycle, 6, "/", NULL, big_ua);
        n = t_read("logs/g.log", buf, sizeof(buf));
        ok(n == 22 + 10005 && buf[22] == '<' && buf[22 + 10001] == '|'
               && memcmp(buf + n - 3, "->\n", 3) == 0,
           "a 10 kB line is written whole");
    }

    sl_free_cycle(cycle);
}

/* Buffers, timers, exit and reopening ------------------------------------- */

static void
test_buffers(void)
{
    sl_cycle_t *cycle;
    sl_http_log_file_t *lf;
    char buf[4096], ua[101];
    size_t n;
    int fd, stderr_copy;

    t_unlink("logs/d.log");
    t_unlink("logs/h.log");
    t_unlink("logs/b.log");

    cycle = t_cycle(t_main_conf);
    ok(cycle != NULL, "the configuration loads again");
    if (cycle == NULL) {
        return;
    }

    lf = t_file(cycle, "/logs/d.log");
    ok(lf != NULL && lf->size == 64 && lf->flush == 1000, "buffer=64 flush=1s recorded");
    ok(lf != NULL && lf->start == NULL, "no buffer memory before init_process");
    if (lf == NULL) {
        return;
    }

    /* without init_process (the master, -t) lines are written directly */
    t_log(cycle, 3, "/", NULL, "m");
    n = t_read("logs/d.log", buf, sizeof(buf));
    is_mem(buf, n, "[m]\n200\n", "without a worker buffer, both lines go straight to the file");
    t_unlink("logs/d.log");
    close(lf->file->fd);
    lf->file->fd = open((char *) lf->file->name.data, O_WRONLY | O_APPEND | O_CREAT, 0644);

    ok(sl_http_log_init_process(cycle) == SL_OK, "init_process");
    ok(lf->start != NULL && lf->last - lf->start == 64 && lf->pos == lf->start,
       "the worker has its 64-byte buffer");
    ok(lf->event != NULL && lf->event->cancelable, "and a cancelable flush timer");
    ok(sl_http_log_init_process(cycle) == SL_OK && lf->last - lf->start == 64,
       "init_process twice keeps the buffer");

    t_log(cycle, 3, "/", NULL, "x");
    n = t_read("logs/d.log", buf, sizeof(buf));
    is_int(n, 0, "two lines buffered, nothing written");
    is_int(lf->pos - lf->start, 8, "both directives filled the shared buffer");
    ok(lf->event->timer_set, "the first line armed the flush timer");

    /* a line bigger than the whole buffer: the buffer goes first, then the line alone */
    sl_memset(ua, 'y', 100);
    ua[100] = '\0';
    t_log(cycle, 3, "/", NULL, ua);
    n = t_read("logs/d.log", buf, sizeof(buf));
    ok(n == 8 + 103 && memcmp(buf, "[x]\n200\n[yyy", 12) == 0 && buf[n - 1] == '\n',
       "buffer flushed before the oversized line, which is written directly");
    is_mem(lf->start, lf->pos - lf->start, "200\n", "the short line after it is buffered");

    /* the timer */
    ok(lf->event->timer_set, "timer armed again for the new first line");
    lf->event->handler(lf->event);
    n = t_read("logs/d.log", buf, sizeof(buf));
    ok(n == 8 + 103 + 4 && memcmp(buf + n - 4, "200\n", 4) == 0, "the flush timer writes it");
    ok(!lf->event->timer_set && lf->pos == lf->start, "and empties the buffer");

    /* lines that fill the buffer exactly, then one more */
    t_log(cycle, 3, "/", NULL, "abcdefghijklmnopqrstuvwxyz01"); /* 31 + 4 = 35 */
    t_log(cycle, 3, "/", NULL, "ABCDEFGHIJKLMNOPQRSTU");        /* 24 + 4 = 28: 63 */
    is_int(lf->pos - lf->start, 63, "63 of 64 bytes buffered");
    t_log(cycle, 3, "/", NULL, "z");
    n = t_read("logs/d.log", buf, sizeof(buf));
    is_int(n, 8 + 103 + 4 + 63, "a full buffer is written when the next line does not fit");
    is_mem(lf->start, lf->pos - lf->start, "[z]\n200\n", "the lines that did not fit follow");

    /* USR1: the file moves away and is reopened; buffered lines land in the new file */
    t_log(cycle, 7, "/", NULL, NULL);
    {
        char from[512], to[512];

        snprintf(from, sizeof(from), "%s/logs/d.log", tdir);
        snprintf(to, sizeof(to), "%s/logs/d.log.1", tdir);
        ok(rename(from, to) == 0, "rotate d.log");
        snprintf(from, sizeof(from), "%s/logs/b.log", tdir);
        snprintf(to, sizeof(to), "%s/logs/b.log.1", tdir);
        ok(rename(from, to) == 0, "rotate b.log");
    }
    fd = lf->file->fd;
    stderr_copy = dup(2);
    sl_reopen_files(cycle);
    dup2(stderr_copy, 2);
    close(stderr_copy);
    ok(lf->file->fd != fd, "the cycle reopened d.log under a new fd");

    t_log(cycle, 1, "/after", NULL, NULL);
    n = t_read("logs/b.log", buf, sizeof(buf));
    is_mem(buf, n, "GET /after 200\n", "an unbuffered log writes to the reopened file");

    t_log(cycle, 3, "/", NULL, "new");
    n = t_read("logs/d.log", buf, sizeof(buf));
    is_int(n, 0, "buffered lines are not written at the reopen");

    /* worker exit: every buffer is written */
    sl_http_log_exit_process(cycle);
    n = t_read("logs/d.log", buf, sizeof(buf));
    is_mem(buf, n, "[z]\n200\n[new]\n200\n",
           "exit_process writes the buffer, lines from before the reopen included");
    n = t_read("logs/d.log.1", buf, sizeof(buf));
    is_int(n, 8 + 103 + 4 + 63, "the rotated file lost nothing and gained nothing");
    n = t_read("logs/h.log", buf, sizeof(buf));
    is_mem(buf, n, "200\n", "a buffer without flush= is written at exit");
    ok(t_file(cycle, "/logs/h.log")->event == NULL, "no timer without flush=");
    ok(!lf->event->timer_set, "exit leaves no timer armed");

    /* write errors are reported once a minute, and lines are dropped, not kept */
    close(lf->file->fd);
    lf->file->fd = -1;
    t_log(cycle, 1, "/x", NULL, NULL); /* b.log still works */
    lf->error_log_time = 0;
    sl_http_log_write(lf, cycle->log, (u_char *) "x\n", 2);
    sl_http_log_write(lf, cycle->log, (u_char *) "y\n", 2);
    n = t_read("logs/error.log", buf, sizeof(buf));
    ok(strstr(buf, "write() to \"") != NULL && strstr(buf, "d.log\" failed") != NULL,
       "a failed write is logged");
    is_int(t_count(buf, "d.log\" failed"), 1,
           "a second failure within a minute is not logged again");

    sl_free_cycle(cycle);
}

/* Refused configurations ---------------------------------------------------- */

static void
test_refused(void)
{
    t_refused("log_format combined '$uri';", "duplicate \"log_format\" name \"combined\"",
              "combined redefined");
    t_refused("log_format a '$uri'; log_format a '$uri';", "duplicate \"log_format\" name \"a\"",
              "duplicate format");
    t_refused("log_format a escape=xml '$uri';", "unknown log format escaping \"xml\"",
              "unknown escaping");
    t_refused("log_format a 'x$';", "invalid parameter \"$\"", "a lone $ at the end");
    t_refused("log_format a '$ x';", "invalid parameter \"$ x\"", "a $ without a name");
    t_refused("log_format a '${}';", "invalid parameter \"${}\"", "an empty ${}");
    t_refused("log_format a '${uri';", "the closing bracket in \"uri\" variable is missing",
              "an unclosed ${");
    t_refused("log_format a '$no_such_variable';", "unknown \"no_such_variable\" variable",
              "an unknown variable");
    t_refused("log_format a;", "invalid number of arguments", "log_format without a string");
    t_refused("server { log_format a '$uri'; }", "not allowed here", "log_format in a server");
    t_refused("access_log logs/$host.log;",
              "variables in access_log path are not supported \"logs/$host.log\"",
              "a path with variables");
    t_refused("access_log syslog:server=127.0.0.1;", "syslog is not supported", "syslog");
    t_refused("access_log logs/x.log nosuch;", "unknown log format \"nosuch\"", "unknown format");
    t_refused("access_log logs/x.log combined buffer=0;", "invalid buffer size \"0\"", "buffer=0");
    t_refused("access_log logs/x.log combined buffer=12q;", "invalid buffer size \"12q\"",
              "buffer=12q");
    t_refused("access_log logs/x.log combined buffer=99999999999999999999999;",
              "invalid buffer size", "an overflowing buffer size");
    t_refused("access_log logs/x.log combined flush=5s;",
              "no buffer is defined for access_log \"logs/x.log\"", "flush= without buffer=");
    t_refused("access_log logs/x.log combined buffer=1k flush=0;", "invalid flush time \"0\"",
              "flush=0");
    t_refused("access_log logs/x.log combined buffer=1k flush=soon;", "invalid flush time \"soon\"",
              "flush=soon");
    t_refused("access_log logs/x.log combined gzip=5;", "compressed access logs are not supported",
              "gzip");
    t_refused("access_log logs/x.log combined level=3;", "invalid parameter \"level=3\"",
              "an unknown parameter");
    t_refused("access_log off logs/x.log;", "invalid parameter \"logs/x.log\"",
              "off with a parameter");
    t_refused("access_log logs/x.log combined buffer=1k;\n"
              "server { access_log logs/x.log combined buffer=2k; }",
              "access_log \"logs/x.log\" already defined with conflicting parameters",
              "one file, two buffer sizes");
    t_refused("access_log logs/x.log combined buffer=1k flush=1s;\n"
              "server { access_log logs/x.log combined buffer=1k; }",
              "already defined with conflicting parameters", "one file, two flush times");
    t_refused("access_log;", "invalid number of arguments", "access_log without arguments");
}

static void
test_accepted(void)
{
    sl_cycle_t *cycle;
    sl_http_log_file_t *lf;

    /* the same buffer given twice, a format name in another case, $remote_user in a format */
    cycle = t_cycle("log_format Mine '$remote_user|$status';\n"
                    "access_log logs/y.log mine buffer=4k flush=2s;\n"
                    "server { access_log logs/y.log MINE buffer=4k flush=2s;\n"
                    "         access_log logs/y.log combined; }\n");
    ok(cycle != NULL, "one buffered file named by several directives with the same parameters");
    if (cycle == NULL) {
        return;
    }
    lf = t_file(cycle, "/logs/y.log");
    ok(lf != NULL && lf->size == 4096 && lf->flush == 2000, "shared record");

    t_log(cycle, 0, "/", NULL, NULL);
    {
        char buf[1024];
        size_t n;

        n = t_read("logs/y.log", buf, sizeof(buf));
        ok(n > 6 && memcmp(buf, "-|200\n192.0.2.7 - - [", 21) == 0,
           "the server's two directives replace the http level's; $remote_user is \"-\"");
    }
    sl_free_cycle(cycle);
}

int
main(void)
{
    char path[512];

    sl_time_init();
    sl_time_update();
    (void) sl_event_timer_init(sl_log_init());
    sl_test_config = 1;
    sl_quiet_mode = 1;

    if (mkdtemp(tdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/conf", tdir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/logs", tdir);
    mkdir(path, 0755);

    test_escape();
    test_formats();
    test_buffers();
    test_refused();
    test_accepted();

    snprintf(path, sizeof(path), "rm -rf '%s'", tdir);
    if (system(path) != 0) {
        printf("# could not remove %s\n", tdir);
    }

    return sl_tap_done();
}
