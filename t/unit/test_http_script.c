/*
 * test_http_script.c: variables, complex values and the rewrite module,
 * driven without the HTTP engine: a hand-made configuration context and
 * request, and small fakes for the engine calls the rewrite module makes
 * (send_response, finalize, add_location, add_phase_handler). Directives
 * are parsed from real files by the real configuration parser.
 */

#include "sl_core.h"
#include "sl_http.h"
#include "sl_tap.h"

/* Fakes of what the HTTP engine (http/sl_http*.c) provides -------------- */

static sl_http_module_t fake_core_ctx;
sl_module_t sl_http_core_module = {
    SL_MODULE_V1, "sl_http_core_module", SL_HTTP_MODULE, &fake_core_ctx, NULL,
    NULL, NULL, NULL, NULL
};
extern sl_module_t sl_http_rewrite_module;
sl_uint_t sl_http_max_module = 2;
sl_module_t *sl_modules[] = { NULL };
const char *sl_module_names[] = { NULL };
sl_uint_t sl_modules_n = 0;

static sl_uint_t fake_add_location_calls;
static sl_uint_t fake_update_calls;
static sl_uint_t fake_sent_status;
static sl_str_t fake_sent_text;
static sl_int_t fake_finalized_rc = 12345;
static sl_http_handler_pt fake_handlers[2];
static sl_uint_t fake_nhandlers;

sl_int_t
sl_http_add_location(sl_conf_t *cf, sl_queue_t **locations, sl_http_core_loc_conf_t *clcf)
{
    sl_unused(cf);
    sl_unused(locations);
    ok(clcf->noname == 1, "an if block is added as a noname location");
    fake_add_location_calls++;
    return SL_OK;
}

sl_http_handler_pt *
sl_http_add_phase_handler(sl_conf_t *cf, sl_http_phases phase)
{
    sl_unused(cf);
    sl_unused(phase);
    if (fake_nhandlers == 2) {
        return NULL;
    }
    return &fake_handlers[fake_nhandlers++];
}

void
sl_http_update_location_config(sl_http_request_t *r)
{
    sl_unused(r);
    fake_update_calls++;
}

sl_int_t
sl_http_send_response(sl_http_request_t *r, sl_uint_t status, sl_str_t *content_type,
                      sl_http_complex_value_t *cv)
{
    sl_unused(content_type);
    fake_sent_status = status;
    if (sl_http_complex_value(r, cv, &fake_sent_text) != SL_OK) {
        return SL_ERROR;
    }
    return SL_OK;
}

void
sl_http_finalize_request(sl_http_request_t *r, sl_int_t rc)
{
    sl_unused(r);
    fake_finalized_rc = rc;
}

static void *
fake_core_create_loc_conf(sl_conf_t *cf)
{
    return sl_pcalloc(cf->pool, sizeof(sl_http_core_loc_conf_t));
}

/* The environment ------------------------------------------------------- */

static sl_pool_t *pool;
static sl_cycle_t cycle;
static sl_conf_t cf;
static sl_conf_file_t conf_file;
static sl_http_conf_ctx_t http_ctx;
static sl_http_core_main_conf_t *cmcf;
static sl_http_core_srv_conf_t cscf;
static sl_http_conf_ctx_t srv_ctx;
static sl_module_t *modules[3];
static char tmpdir[] = "/tmp/sl_test_script_XXXXXX";

/* stderr capture: configuration errors are printed there */
static int saved_stderr = -1;
static char capture_path[256];

static void
capture_start(void)
{
    int fd;

    fflush(stderr);
    saved_stderr = dup(2);
    fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

static char captured[4096];

static const char *
capture_end(void)
{
    int fd;
    ssize_t n;

    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    fd = open(capture_path, O_RDONLY);
    n = read(fd, captured, sizeof(captured) - 1);
    close(fd);
    captured[n > 0 ? n : 0] = '\0';
    captured[strcspn(captured, "\n")] = '\0';
    return captured;
}

static void
env_init(void)
{
    pool = sl_create_pool(16384, sl_log_init());
    cycle.pool = pool;
    cycle.log = sl_log_init();
    sl_str_set(&cycle.prefix, "/srv/sluice/");
    sl_str_set(&cycle.conf_prefix, "/etc/sluice/");
    sl_str_set(&cycle.hostname, "testhost");

    fake_core_ctx.create_loc_conf = fake_core_create_loc_conf;
    sl_http_core_module.ctx_index = 0;
    sl_http_core_module.index = 0;
    sl_http_rewrite_module.ctx_index = 1;
    sl_http_rewrite_module.index = 1;
    modules[0] = &sl_http_core_module;
    modules[1] = &sl_http_rewrite_module;
    modules[2] = NULL;
    cycle.modules = modules;
    cycle.modules_n = 2;

    http_ctx.main_conf = sl_pcalloc(pool, 2 * sizeof(void *));
    http_ctx.srv_conf = sl_pcalloc(pool, 2 * sizeof(void *));
    http_ctx.loc_conf = sl_pcalloc(pool, 2 * sizeof(void *));
    cmcf = sl_pcalloc(pool, sizeof(sl_http_core_main_conf_t));
    http_ctx.main_conf[0] = cmcf;
    http_ctx.srv_conf[0] = &cscf;
    cscf.ctx = &srv_ctx;
    sl_str_set(&cscf.server_name, "example.org");
    srv_ctx.loc_conf = sl_pcalloc(pool, 2 * sizeof(void *));

    cf.cycle = &cycle;
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = cycle.log;
    cf.ctx = &http_ctx;
    cf.module_type = SL_HTTP_MODULE;
    cf.cmd_type = SL_HTTP_LOC_CONF;
    /* errors name this file and line until a real file is parsed */
    sl_str_set(&conf_file.name, "t.conf");
    conf_file.fd = 0;
    conf_file.line = 3;
    cf.conf_file = &conf_file;
    http_ctx.loc_conf[0] = sl_pcalloc(pool, sizeof(sl_http_core_loc_conf_t));

    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(capture_path, sizeof(capture_path), "%s/stderr", tmpdir);
}

static sl_connection_t fake_connection;
static sl_log_t request_log;

static sl_http_request_t *
request_new(const char *uri, const char *args)
{
    sl_http_request_t *r;

    r = sl_pcalloc(pool, sizeof(sl_http_request_t));
    r->pool = pool;
    r->connection = &fake_connection;
    fake_connection.log = &request_log;
    request_log = *cycle.log;
    r->main_conf = http_ctx.main_conf;
    r->srv_conf = http_ctx.srv_conf;
    r->loc_conf = http_ctx.loc_conf;
    r->variables = sl_pcalloc(pool, (cmcf->variables.nelts + 1)
                                        * sizeof(sl_http_variable_value_t));
    r->uri.data = (u_char *) uri;
    r->uri.len = strlen(uri);
    r->args.data = (u_char *) args;
    r->args.len = args ? strlen(args) : 0;
    r->unparsed_uri = r->uri;
    sl_list_init(&r->headers_in.headers, pool, 4, sizeof(sl_table_elt_t));
    sl_list_init(&r->headers_out.headers, pool, 4, sizeof(sl_table_elt_t));
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;
    return r;
}

static void
add_header(sl_list_t *list, const char *key, const char *value)
{
    sl_table_elt_t *h = sl_list_push(list);

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = strlen(value);
    h->lowcase_key = NULL;
    h->next = NULL;
}

/* Compiles text as a complex value; SL_OK or SL_ERROR. */
static sl_int_t
compile(const char *text, sl_http_complex_value_t *cv, unsigned zero)
{
    sl_str_t *v;
    sl_http_compile_complex_value_t ccv;

    v = sl_palloc(pool, sizeof(sl_str_t));
    v->len = strlen(text);
    v->data = (u_char *) text;
    sl_memzero(&ccv, sizeof(ccv));
    ccv.cf = &cf;
    ccv.value = v;
    ccv.complex_value = cv;
    ccv.zero = zero;
    return sl_http_compile_complex_value(&ccv);
}

/* Compiles a value that must fail and returns what was logged. */
static const char *
compile_error(const char *text)
{
    sl_int_t rc;
    sl_http_complex_value_t cv;

    capture_start();
    rc = compile(text, &cv, 0);
    capture_end();
    ok(rc == SL_ERROR, "\"%s\" is refused", text);
    return captured;
}

static sl_str_t
eval(sl_http_request_t *r, sl_http_complex_value_t *cv)
{
    sl_str_t s = { 0, NULL };

    if (sl_http_complex_value(r, cv, &s) != SL_OK) {
        s.len = (size_t) -1;
    }
    return s;
}

/* Writes text into a file in tmpdir and parses it in cf's current context. */
static char *
parse_text(const char *name, const char *text)
{
    char path[300];
    FILE *f;
    sl_str_t file;
    char *rv;
    sl_conf_file_t *saved;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    file.data = (u_char *) path;
    file.len = strlen(path);
    saved = cf.conf_file;
    rv = sl_conf_parse(&cf, &file);
    cf.conf_file = saved;
    return rv;
}

/* Complex values --------------------------------------------------------- */

static sl_http_complex_value_t cv_const, cv_uri, cv_brace, cv_arg, cv_xff, cv_cookie_hdr,
    cv_cookie, cv_caps, cv_named, cv_zero, cv_status, cv_misc, cv_sent, cv_big, cv_host,
    cv_prefixed, cv_prefixed2;
static sl_http_regex_t *re_caps;
static sl_int_t big_index;

static sl_int_t
big_variable(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    u_char *p;

    p = sl_pnalloc(r->pool, data);
    if (p == NULL) {
        return SL_ERROR;
    }
    sl_memset(p, 'z', data);
    v->len = data;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return SL_OK;
}

static void
test_compile(void)
{
    sl_str_t name;
    sl_http_variable_t *v;
    sl_regex_compile_t rc;
    const char *err;

    /* a module variable: 1 MB of 'z' */
    sl_str_set(&name, "big_thing");
    v = sl_http_add_variable(&cf, &name, 0);
    ok(v != NULL, "a module declares a variable");
    v->get_handler = big_variable;
    v->data = 1024 * 1024;

    is_int(compile("hello world", &cv_const, 0), SL_OK, "a constant compiles");
    ok(cv_const.lengths == NULL, "a constant has no program");
    is_int(compile("a$uri-b", &cv_uri, 0), SL_OK, "$uri compiles");
    is_int(compile("${uri}x$is_args$args|$request_uri", &cv_brace, 0), SL_OK,
           "${uri} compiles");
    is_int(compile("[$arg_foo][$arg_Missing][$arg_b]", &cv_arg, 0), SL_OK, "$arg_ compiles");
    is_int(compile("$http_x_forwarded_for", &cv_xff, 0), SL_OK, "$http_ compiles");
    is_int(compile("$http_cookie", &cv_cookie_hdr, 0), SL_OK, "$http_cookie compiles");
    is_int(compile("[$cookie_sid][$cookie_none]", &cv_cookie, 0), SL_OK, "$cookie_ compiles");
    is_int(compile("/img/$1/$2.$3$9", &cv_caps, 0), SL_OK, "captures compile");
    is_int(compile("id=$id", &cv_named, 0), SL_OK, "a named capture compiles before its regex");
    is_int(compile("$uri", &cv_zero, 1), SL_OK, "a zero-terminated value compiles");
    is_int(compile("$status", &cv_status, 0), SL_OK, "$status compiles");
    is_int(compile("$binary_remote_addr|$remote_port|$hostname|$server_name|$sluice_version",
                   &cv_misc, 0),
           SL_OK, "connection variables compile");
    is_int(compile("$sent_http_x_foo", &cv_sent, 0), SL_OK, "$sent_http_ compiles");
    is_int(compile("<$big_thing>", &cv_big, 0), SL_OK, "a module variable compiles");
    is_int(compile("$host", &cv_host, 0), SL_OK, "$host compiles");

    sl_str_set(&name, "big_thing");
    big_index = sl_http_get_variable_index(&cf, &name);
    ok(big_index >= 0, "the variable has an index");
    sl_str_set(&name, "BIG_thing");
    is_int(sl_http_get_variable_index(&cf, &name), big_index, "indexes ignore case");

    /* relative paths get the configuration prefix unless they start with a variable */
    {
        sl_http_compile_complex_value_t ccv;
        sl_str_t *vv = sl_palloc(pool, sizeof(sl_str_t));

        sl_str_set(vv, "html/$uri");
        sl_memzero(&ccv, sizeof(ccv));
        ccv.cf = &cf;
        ccv.value = vv;
        ccv.complex_value = &cv_prefixed;
        ccv.root_prefix = 1;
        is_int(sl_http_compile_complex_value(&ccv), SL_OK, "a prefixed value compiles");

        vv = sl_palloc(pool, sizeof(sl_str_t));
        sl_str_set(vv, "$arg_p");
        ccv.value = vv;
        ccv.complex_value = &cv_prefixed2;
        ccv.root_prefix = 1;
        ccv.zero = 1;
        is_int(sl_http_compile_complex_value(&ccv), SL_OK, "a variable path compiles");
    }

    sl_memzero(&rc, sizeof(rc));
    sl_str_set(&rc.pattern, "^/p/(\\w+)/(\\d+)(x)?$");
    re_caps = sl_http_regex_compile(&cf, &rc);
    ok(re_caps != NULL && re_caps->ncaptures == 3, "a regex with three groups compiles");

    err = compile_error("$");
    ok(strstr(err, "invalid variable name in \"$\" in t.conf:3") != NULL,
       "a lone $ names the token and the place: %s", err);
    err = compile_error("abc${foo");
    ok(strstr(err, "the closing bracket in \"foo\" variable is missing") != NULL,
       "an unclosed ${ is refused: %s", err);
    err = compile_error("x${}");
    ok(strstr(err, "invalid variable name in \"x${}\"") != NULL, "${} is refused: %s", err);
    err = compile_error("a$-b");
    ok(strstr(err, "invalid variable name in \"a$-b\"") != NULL, "$- is refused: %s", err);
    err = compile_error("x${");
    ok(strstr(err, "invalid variable name") != NULL, "a trailing ${ is refused: %s", err);

    sl_str_set(&name, "uri");
    capture_start();
    v = sl_http_add_variable(&cf, &name, 0);
    capture_end();
    ok(v == NULL, "redeclaring a core variable fails");
    ok(strstr(captured, "the duplicate \"uri\" variable") != NULL, "with nginx's message: %s",
       captured);

    sl_str_set(&name, "args");
    ok(sl_http_add_variable(&cf, &name, SL_HTTP_VAR_CHANGEABLE) != NULL,
       "a changeable variable may be redeclared");

    is_int(sl_http_script_variables_count(&cv_brace.value), 4, "variables are counted");
}

static sl_http_regex_t *re_named;

static void
test_named_capture_compile(void)
{
    sl_regex_compile_t rc;

    sl_memzero(&rc, sizeof(rc));
    sl_str_set(&rc.pattern, "^/u/(?<id>\\d+)$");
    re_named = sl_http_regex_compile(&cf, &rc);
    ok(re_named != NULL && re_named->nvariables == 1, "a named capture declares a variable");
}

static void
test_named_capture_exec(void)
{
    sl_http_regex_t *re = re_named;
    sl_http_request_t *r;
    sl_str_t s, subject;

    r = request_new("/u/31337", NULL);
    subject = r->uri;
    is_int(sl_http_regex_exec(r, re, &subject), SL_OK, "the regex matches");
    s = eval(r, &cv_named);
    is_mem(s.data, s.len, "id=31337", "the named capture is a variable");
    sl_str_set(&subject, "/u/x");
    is_int(sl_http_regex_exec(r, re, &subject), SL_DECLINED, "no match is declined");
}

static void
test_evaluate(void)
{
    sl_http_request_t *r;
    sl_str_t s, subject, name;
    sl_http_variable_value_t *vv;
    struct sockaddr_in *sin;

    r = request_new("/x", NULL);
    s = eval(r, &cv_const);
    is_mem(s.data, s.len, "hello world", "a constant evaluates to itself");
    s = eval(r, &cv_uri);
    is_mem(s.data, s.len, "a/x-b", "$uri is substituted");
    s = eval(r, &cv_brace);
    is_mem(s.data, s.len, "/xx|/x", "no args: $is_args and $args are empty");

    r = request_new("/a b", "q=1");
    s = eval(r, &cv_brace);
    is_mem(s.data, s.len, "/a bx?q=1|/a b", "${uri}x with args");
    r->uri.len = 2;
    s = eval(r, &cv_uri);
    is_mem(s.data, s.len, "a/a-b", "$uri is not cached");

    r = request_new("/", "xfoo=0&FOO=bar&foo=baz&b&b=2");
    s = eval(r, &cv_arg);
    is_mem(s.data, s.len, "[bar][][2]", "$arg_: case-insensitive, first match, needs '='");
    r = request_new("/", "foo");
    s = eval(r, &cv_arg);
    is_mem(s.data, s.len, "[][][]", "a bare name is not an argument");

    r = request_new("/", NULL);
    add_header(&r->headers_in.headers, "X-Forwarded-For", "1.1.1.1");
    add_header(&r->headers_in.headers, "Host", "h");
    add_header(&r->headers_in.headers, "x-forwarded-FOR", "2.2.2.2");
    add_header(&r->headers_in.headers, "Cookie", "a=b");
    add_header(&r->headers_in.headers, "cookie", "SID=42; c=d");
    s = eval(r, &cv_xff);
    is_mem(s.data, s.len, "1.1.1.1, 2.2.2.2", "headers of one name are joined with \", \"");
    s = eval(r, &cv_cookie_hdr);
    is_mem(s.data, s.len, "a=b; SID=42; c=d", "cookie headers are joined with \"; \"");
    s = eval(r, &cv_cookie);
    is_mem(s.data, s.len, "[42][]", "$cookie_ finds a cookie in any Cookie header");
    r = request_new("/", NULL);
    s = eval(r, &cv_xff);
    is_int(s.len, 0, "a missing header is empty");

    /* captures */
    r = request_new("/p/abc/42", NULL);
    subject = r->uri;
    is_int(sl_http_regex_exec(r, re_caps, &subject), SL_OK, "the capture regex matches");
    s = eval(r, &cv_caps);
    is_mem(s.data, s.len, "/img/abc/42.", "$1 $2 are substituted, unset and absent groups empty");
    sl_str_set(&subject, "/q");
    is_int(sl_http_regex_exec(r, re_caps, &subject), SL_DECLINED, "a miss is declined");

    /* zero */
    r = request_new("/zz", NULL);
    s = eval(r, &cv_zero);
    ok(s.len == 3 && memcmp(s.data, "/zz", 4) == 0, "zero: NUL-terminated, not counted");

    /* status */
    s = eval(r, &cv_status);
    is_mem(s.data, s.len, "000", "$status before a response");
    r->headers_out.status = 404;
    s = eval(r, &cv_status);
    is_mem(s.data, s.len, "404", "$status is not cached");
    r->err_status = 502;
    s = eval(r, &cv_status);
    is_mem(s.data, s.len, "502", "$status prefers err_status");

    /* connection */
    sin = &fake_connection.sockaddr.sin;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(5555);
    sin->sin_addr.s_addr = htonl(0x7f000001);
    fake_connection.socklen = sizeof(struct sockaddr_in);
    r = request_new("/", NULL);
    s = eval(r, &cv_misc);
    {
        static const char want[] = "\x7f\x00\x00\x01|5555|testhost|example.org|" SLUICE_VERSION;

        ok(s.len == sizeof(want) - 1 && memcmp(s.data, want, s.len) == 0,
           "binary_remote_addr, remote_port, hostname, server_name, version");
    }

    /* host */
    s = eval(r, &cv_host);
    is_mem(s.data, s.len, "example.org", "$host falls back to server_name");
    r = request_new("/", NULL);
    sl_str_set(&r->headers_in.server, "www.example.com");
    s = eval(r, &cv_host);
    is_mem(s.data, s.len, "www.example.com", "$host is the parsed Host");

    /* response headers */
    r = request_new("/", NULL);
    add_header(&r->headers_out.headers, "X-Foo", "old");
    ((sl_table_elt_t *) r->headers_out.headers.part.elts)[0].hash = 0;
    add_header(&r->headers_out.headers, "X-Foo", "new");
    s = eval(r, &cv_sent);
    is_mem(s.data, s.len, "new", "$sent_http_ skips removed headers");

    /* a big value */
    s = eval(r, &cv_big);
    ok(s.len == 1024 * 1024 + 2 && s.data[0] == '<' && s.data[1] == 'z'
           && s.data[s.len - 1] == '>',
       "a 1 MB variable is copied whole");

    r = request_new("/i.html", "p=rel/x");
    s = eval(r, &cv_prefixed);
    is_mem(s.data, s.len, "/srv/sluice/html//i.html", "a relative path gets the prefix");
    s = eval(r, &cv_prefixed2);
    ok(s.len == 17 && memcmp(s.data, "/srv/sluice/rel/x", 18) == 0,
       "a relative value gets the prefix at run time");
    r = request_new("/i.html", "p=/abs");
    s = eval(r, &cv_prefixed2);
    ok(s.len == 4 && memcmp(s.data, "/abs", 5) == 0, "an absolute value is kept");

    /* run-time lookups by name */
    r = request_new("/by/name", "k=v");
    sl_str_set(&name, "uri");
    vv = sl_http_get_variable(r, &name, sl_hash_key(name.data, name.len));
    ok(vv && !vv->not_found && vv->len == 8 && memcmp(vv->data, "/by/name", 8) == 0,
       "get_variable finds a hashed variable");
    sl_str_set(&name, "arg_k");
    vv = sl_http_get_variable(r, &name, sl_hash_key(name.data, name.len));
    ok(vv && !vv->not_found && vv->len == 1 && vv->data[0] == 'v',
       "get_variable finds a prefix variable");
    sl_str_set(&name, "no_such_thing");
    vv = sl_http_get_variable(r, &name, sl_hash_key(name.data, name.len));
    ok(vv && vv->not_found, "get_variable: an unknown name is not found");
}

/* Rewrite module --------------------------------------------------------- */

static void *rewrite_loc_conf;
static sl_int_t a_index;

static void
test_rewrite_parse(void)
{
    sl_http_module_t *m;
    char *rv;
    void *main_rewrite_conf;
    sl_str_t name;

    m = sl_http_rewrite_module.ctx;
    main_rewrite_conf = m->create_loc_conf(&cf);
    rewrite_loc_conf = m->create_loc_conf(&cf);
    http_ctx.loc_conf[1] = rewrite_loc_conf;

    rv = parse_text("rewrite.conf",
                    "set $a \"v1\";\n"
                    "set $b \"<$a>\";\n"
                    "rewrite ^/old/(.*)$ /new/$1 last;\n"
                    "rewrite ^/keep/(.*)$ /k/$1?x=1 break;\n"
                    "rewrite ^/drop/(.*)$ /d/$1? break;\n"
                    "rewrite ^/r/(.*)$ http://example.com/$1 permanent;\n"
                    "rewrite ^/s/ $scheme://h/s;\n"
                    "if ($arg_t = yes) { return 403; }\n"
                    "if ($uri ~* ^/CAP/(\\d+)) { return 200 \"got $1\"; }\n"
                    "if ($uri !~ ^/other) { return 404; }\n"
                    "if ($arg_n) { break; }\n"
                    "if (-d /) { set $a \"dir\"; }\n"
                    "if (!-f /nonexistent/x) { return 301 /elsewhere; }\n");
    ok(rv == SL_CONF_OK, "a location's rewrite directives parse");
    is_int(fake_add_location_calls, 6, "each if block adds a location");

    ok(m->merge_loc_conf(&cf, main_rewrite_conf, rewrite_loc_conf) == SL_CONF_OK,
       "the location merges");
    ok(m->postconfiguration(&cf) == SL_OK && fake_nhandlers == 2,
       "handlers go to the server rewrite and rewrite phases");

    sl_str_set(&name, "a");
    a_index = sl_http_get_variable_index(&cf, &name);
}

static sl_int_t
run(sl_http_request_t *r)
{
    r->loc_conf = http_ctx.loc_conf;
    r->phase_handler = 0;
    cmcf->location_rewrite_index = 100;
    return fake_handlers[1](r);
}

static sl_str_t
location_of(sl_http_request_t *r)
{
    sl_str_t none = { 0, NULL };

    if (r->headers_out.location == NULL) {
        return none;
    }
    return r->headers_out.location->value;
}

static void
test_rewrite_run(void)
{
    sl_int_t rc;
    sl_str_t s;
    sl_http_request_t *r;
    sl_http_variable_value_t *vv;

    r = request_new("/old/abc", "q=1");
    rc = run(r);
    is_int(rc, SL_DECLINED, "rewrite ... last continues the phases");
    is_mem(r->uri.data, r->uri.len, "/new/abc", "last: the URI is rewritten");
    is_mem(r->args.data, r->args.len, "q=1", "last: the arguments are kept");
    ok(r->uri_changed == 1, "last: the location will be searched again");
    vv = sl_http_get_indexed_variable(r, a_index);
    ok(vv && vv->len == 2 && memcmp(vv->data, "v1", 2) == 0, "set $a ran before");

    r = request_new("/keep/z.tar.gz", "q=1");
    rc = run(r);
    is_int(rc, SL_DECLINED, "break continues in this location");
    is_mem(r->uri.data, r->uri.len, "/k/z.tar.gz", "break: the URI is rewritten");
    is_mem(r->args.data, r->args.len, "x=1&q=1", "new arguments come first, old appended");
    ok(r->uri_changed == 0, "break: no new location search");
    is_mem(r->exten.data, r->exten.len, "gz", "the extension follows the new URI");

    r = request_new("/drop/z", "q=1");
    run(r);
    is_mem(r->uri.data, r->uri.len, "/d/z", "a trailing ? rewrites the URI");
    is_int(r->args.len, 0, "a trailing ? drops the arguments");

    r = request_new("/r/p", "q=1");
    rc = run(r);
    is_int(rc, 301, "permanent redirects with 301");
    s = location_of(r);
    is_mem(s.data, s.len, "http://example.com/p?q=1", "the Location carries the arguments");

    r = request_new("/s/", NULL);
    rc = run(r);
    is_int(rc, 302, "a $scheme replacement redirects with 302");
    s = location_of(r);
    is_mem(s.data, s.len, "http://h/s", "with the scheme substituted");

    r = request_new("/other", "t=yes");
    fake_update_calls = 0;
    rc = run(r);
    is_int(rc, 403, "a true if runs its return");
    ok(fake_update_calls == 1 && r->loc_conf != http_ctx.loc_conf,
       "a true if switches to the block's configuration");

    r = request_new("/cap/77", NULL);
    fake_finalized_rc = 12345;
    rc = run(r);
    is_int(rc, SL_DONE, "return with a body finalizes the request itself");
    is_int(fake_sent_status, 200, "the body is sent with the status");
    is_mem(fake_sent_text.data, fake_sent_text.len, "got 77", "~* matches and sets $1");
    is_int(fake_finalized_rc, SL_OK, "finalize gets send_response's result");

    r = request_new("/nothing", NULL);
    rc = run(r);
    is_int(rc, 404, "!~ is true when the regex does not match");

    r = request_new("/other", "n=1");
    rc = run(r);
    is_int(rc, SL_DECLINED, "break stops the program");

    r = request_new("/other", "n=0");
    rc = run(r);
    is_int(rc, 301, "\"0\" is false; -d / is true; !-f on a missing file is true");
    s = location_of(r);
    is_mem(s.data, s.len, "/elsewhere", "return 301 URL sets the Location");
    vv = sl_http_get_indexed_variable(r, a_index);
    ok(vv && vv->len == 3 && memcmp(vv->data, "dir", 3) == 0, "set inside if assigns");
}

static void
expect_parse_error(const char *text, const char *message)
{
    char *rv;
    sl_http_module_t *m = sl_http_rewrite_module.ctx;

    http_ctx.loc_conf[1] = m->create_loc_conf(&cf);
    capture_start();
    rv = parse_text("bad.conf", text);
    capture_end();
    ok(rv == SL_CONF_ERROR, "refused: %.*s", (int) strcspn(text, "\n"), text);
    ok(strstr(captured, message) != NULL, "message \"%s\": %.*s", message,
       (int) strcspn(captured, "\n"), captured);
}

static void
test_rewrite_errors(void)
{
    expect_parse_error("rewrite ^/(.*)$ /x foo;\n", "invalid parameter \"foo\" in ");
    expect_parse_error("return abc;\n", "invalid return code \"abc\"");
    expect_parse_error("return 1000;\n", "invalid return code \"1000\"");
    expect_parse_error("return 200 \"a\" b;\n", "invalid number of arguments in \"return\"");
    expect_parse_error("set a 1;\n", "invalid variable name \"a\"");
    expect_parse_error("set $ 1;\n", "invalid variable name \"$\"");
    expect_parse_error("set $uri 1;\n", "the duplicate \"uri\" variable");
    expect_parse_error("if (-q /x) { }\n", "invalid condition \"-q\"");
    expect_parse_error("if ($a ?? b) { }\n", "unexpected \"??\" in condition");
    expect_parse_error("if $a { }\n", "invalid condition \"$a\"");
    expect_parse_error("if ($a { }\n", "invalid condition \"$a\"");
    expect_parse_error("rewrite ^(/ /x;\n", "pcre2_compile() failed");
    expect_parse_error("return 302 http://x/$;\n", "invalid variable name in \"http://x/$\"");
    expect_parse_error("rewrite ^ /x\n;\nbreak;\nif ($a) {\n if ($b) { }\n}\n",
                       "\"if\" directive is not allowed here in ");
    http_ctx.loc_conf[1] = rewrite_loc_conf;
}

static void
test_unknown_variable(void)
{
    sl_str_t name;
    sl_http_core_main_conf_t *fresh;

    /* a fresh http block, so the first one keeps its resolved variables */
    fresh = sl_pcalloc(pool, sizeof(sl_http_core_main_conf_t));
    http_ctx.main_conf[0] = fresh;
    ok(sl_http_variables_add_core_vars(&cf) == SL_OK, "core variables are declared");
    sl_str_set(&name, "nosuch");
    ok(sl_http_get_variable_index(&cf, &name) >= 0, "an index is handed out before checking");
    sl_str_set(&name, "http_anything");
    ok(sl_http_get_variable_index(&cf, &name) >= 0, "a prefix variable gets an index");
    capture_start();
    ok(sl_http_variables_init_vars(&cf) == SL_ERROR, "an unknown variable fails the check");
    capture_end();
    ok(strstr(captured, "unknown \"nosuch\" variable") != NULL, "naming it: %s", captured);
    http_ctx.main_conf[0] = cmcf;
}

int
main(void)
{
    sl_time_init();
    env_init();

    ok(sl_http_variables_add_core_vars(&cf) == SL_OK, "core variables are declared");

    test_compile();
    test_named_capture_compile();
    test_rewrite_parse();
    test_rewrite_errors();

    /* what the http block does after parsing */
    ok(sl_http_variables_init_vars(&cf) == SL_OK, "every variable is known");
    if (cmcf->ncaptures) {
        cmcf->ncaptures = (cmcf->ncaptures + 1) * 3;
    }

    test_named_capture_exec();
    test_evaluate();
    test_rewrite_run();
    test_unknown_variable();

    return sl_tap_done();
}
