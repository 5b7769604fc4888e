/*
 * test_conf.c: the configuration parser (core/sl_conf_file.c). A fake cycle
 * holds a test core module (settings, blocks, a types-like block with a
 * handler), sl_conf_module (include) and a fake HTTP module; files are
 * written into a temporary directory and parsed, and every error message is
 * compared byte for byte with what lands in the log file.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_conf_file.h"
#include "sl_module.h"
#include "sl_cycle.h"

#include "sl_tap.h"

/*
 * sl_log.c refers to this cycle function (for error_log); the cycle is not
 * part of this test, so a local stand-in that this test never calls.
 */
sl_open_file_t *
sl_conf_open_file(sl_cycle_t *c, sl_str_t *name)
{
    sl_unused(c);
    sl_unused(name);
    return NULL;
}

typedef struct {
    sl_flag_t flag;
    sl_int_t num;
    size_t size;
    off_t off;
    sl_msec_t msec;
    time_t sec;
    sl_str_t str;
    sl_array_t *strs;
    sl_array_t *kvs;
    sl_uint_t mode;
    sl_uint_t bits;
} test_conf_t;

typedef struct {
    sl_str_t deep;
} test_inner_conf_t;

/* The context a "block" hands to its content, shaped like the HTTP main/srv pair. */
typedef struct {
    void **main_conf;
    void **srv_conf;
} test_block_ctx_t;

static test_conf_t tconf;
static test_inner_conf_t inner_conf;
static sl_uint_t blocks_seen;

/* Everything the "args" directive and the types handler saw, one line per directive. */
static char rec[1 << 16];
static size_t rec_len;

static char tmpdir[256];
static char logpath[PATH_MAX];
static int log_fd;
static char logbuf[1 << 17];
static sl_open_file_t log_file;
static sl_log_t test_log;
static sl_cycle_t cycle;
static sl_conf_t cf;
static void *conf_ctx[3];

/*
 * is_mem() from sl_tap.h cannot be used as is: its local sl_tap_c_ is
 * shadowed inside ok(), so the result is read uninitialised. This checks the
 * same thing as a function.
 */
static void
same_mem(const void *got, size_t glen, const char *want, const char *what)
{
    int same = glen == strlen(want) && memcmp(got, want, glen) == 0;

    ok(same, "%s", what);
    if (!same) {
        printf("#   got \"%.*s\", want \"%s\"\n", (int) glen, (const char *) got, want);
    }
}

static void
rec_add(const void *p, size_t n)
{
    if (rec_len + n < sizeof(rec)) {
        memcpy(rec + rec_len, p, n);
        rec_len += n;
        rec[rec_len] = '\0';
    }
}

static void
rec_args(sl_conf_t *c, const char *prefix)
{
    sl_uint_t i;
    sl_str_t *v = c->args->elts;

    rec_add(prefix, strlen(prefix));

    for (i = 0; i < c->args->nelts; i++) {
        if (i) {
            rec_add("|", 1);
        }
        rec_add(v[i].data, v[i].len);
        /* Every word must be NUL-terminated for setters that open files. */
        if (v[i].data[v[i].len] != '\0') {
            rec_add("<no NUL>", 8);
        }
    }

    rec_add("\n", 1);
}

static char *
test_args(sl_conf_t *c, sl_command_t *cmd, void *conf)
{
    sl_unused(cmd);
    sl_unused(conf);
    rec_args(c, "");
    return SL_CONF_OK;
}

static char *
test_block(sl_conf_t *c, sl_command_t *cmd, void *conf)
{
    char *rv;
    sl_conf_t save;
    test_block_ctx_t ctx;
    void *srv[1];

    sl_unused(cmd);
    sl_unused(conf);

    blocks_seen++;
    rec_args(c, "{ ");

    srv[0] = &inner_conf;
    ctx.main_conf = NULL;
    ctx.srv_conf = srv;

    save = *c;
    c->ctx = &ctx;
    c->cmd_type = SL_EVENT_CONF;

    rv = sl_conf_parse(c, NULL);

    *c = save;
    rec_add("}\n", 2);

    return rv;
}

static char *
test_types_handler(sl_conf_t *c, sl_command_t *dummy, void *conf)
{
    sl_str_t *v = c->args->elts;

    sl_unused(dummy);

    if (conf != &tconf) {
        return "got the wrong handler_conf";
    }

    if (sl_str_eq_lit(&v[0], "bad")) {
        return "is bad type";
    }

    rec_args(c, "T:");
    return SL_CONF_OK;
}

static char *
test_types(sl_conf_t *c, sl_command_t *cmd, void *conf)
{
    char *rv;
    sl_conf_t save;

    sl_unused(cmd);
    sl_unused(conf);

    save = *c;
    c->handler = test_types_handler;
    c->handler_conf = &tconf;

    rv = sl_conf_parse(c, NULL);

    *c = save;
    return rv;
}

static char *
test_fail(sl_conf_t *c, sl_command_t *cmd, void *conf)
{
    sl_unused(c);
    sl_unused(cmd);
    sl_unused(conf);
    return "is broken";
}

static char *
test_fail_silent(sl_conf_t *c, sl_command_t *cmd, void *conf)
{
    sl_unused(c);
    sl_unused(cmd);
    sl_unused(conf);
    return SL_CONF_ERROR;
}

static sl_conf_bounds_t num_bounds = { 1, 100 };
static sl_conf_bounds_t size_bounds = { 1, 1024 };
static sl_conf_bounds_t msec_bounds = { 0, 60000 };

static sl_conf_enum_t modes[] = {
    { sl_string("first"), 1 },
    { sl_string("second"), 2 },
    { sl_null_string, 0 },
};

static sl_conf_bitmask_t bitnames[] = {
    { sl_string("read"), 0x01 },
    { sl_string("write"), 0x02 },
    { sl_string("exec"), 0x04 },
    { sl_null_string, 0 },
};

#define MAIN (SL_MAIN_CONF | SL_DIRECT_CONF)

static sl_command_t test_commands[] = {
    { sl_string("flag"), MAIN | SL_CONF_FLAG, sl_conf_set_flag_slot, 0, offsetof(test_conf_t, flag),
      NULL },
    { sl_string("num"), MAIN | SL_CONF_TAKE1, sl_conf_set_num_slot, 0, offsetof(test_conf_t, num),
      &num_bounds },
    { sl_string("size"), MAIN | SL_CONF_TAKE1, sl_conf_set_size_slot, 0,
      offsetof(test_conf_t, size), &size_bounds },
    { sl_string("off"), MAIN | SL_CONF_TAKE1, sl_conf_set_off_slot, 0, offsetof(test_conf_t, off),
      NULL },
    { sl_string("msec"), MAIN | SL_CONF_TAKE1, sl_conf_set_msec_slot, 0,
      offsetof(test_conf_t, msec), &msec_bounds },
    { sl_string("sec"), MAIN | SL_CONF_TAKE1, sl_conf_set_sec_slot, 0, offsetof(test_conf_t, sec),
      NULL },
    { sl_string("str"), MAIN | SL_CONF_TAKE1, sl_conf_set_str_slot, 0, offsetof(test_conf_t, str),
      NULL },
    { sl_string("strs"), MAIN | SL_CONF_TAKE1, sl_conf_set_str_array_slot, 0,
      offsetof(test_conf_t, strs), NULL },
    { sl_string("kv"), MAIN | SL_CONF_TAKE2, sl_conf_set_keyval_slot, 0, offsetof(test_conf_t, kvs),
      NULL },
    { sl_string("mode"), MAIN | SL_CONF_TAKE1, sl_conf_set_enum_slot, 0,
      offsetof(test_conf_t, mode), modes },
    { sl_string("bits"), MAIN | SL_CONF_1MORE, sl_conf_set_bitmask_slot, 0,
      offsetof(test_conf_t, bits), bitnames },
    { sl_string("args"), SL_MAIN_CONF | SL_EVENT_CONF | SL_CONF_ANY, test_args, 0, 0, NULL },
    { sl_string("two"), SL_MAIN_CONF | SL_CONF_TAKE2, test_args, 0, 0, NULL },
    { sl_string("one3"), SL_MAIN_CONF | SL_CONF_TAKE13, test_args, 0, 0, NULL },
    { sl_string("seven"), SL_MAIN_CONF | SL_CONF_TAKE7, test_args, 0, 0, NULL },
    { sl_string("more2"), SL_MAIN_CONF | SL_CONF_2MORE, test_args, 0, 0, NULL },
    { sl_string("block"),
      SL_MAIN_CONF | SL_EVENT_CONF | SL_CONF_BLOCK | SL_CONF_NOARGS | SL_CONF_TAKE1, test_block, 0,
      0, NULL },
    { sl_string("types"), SL_MAIN_CONF | SL_CONF_BLOCK | SL_CONF_NOARGS, test_types, 0, 0, NULL },
    { sl_string("deep"), SL_EVENT_CONF | SL_CONF_TAKE1, sl_conf_set_str_slot,
      offsetof(test_block_ctx_t, srv_conf), offsetof(test_inner_conf_t, deep), NULL },
    { sl_string("fail"), SL_MAIN_CONF | SL_CONF_NOARGS, test_fail, 0, 0, NULL },
    { sl_string("failsilent"), SL_MAIN_CONF | SL_CONF_NOARGS, test_fail_silent, 0, 0, NULL },
    sl_null_command,
};

static sl_command_t test_http_commands[] = {
    { sl_string("web"), SL_MAIN_CONF | SL_CONF_TAKE1, test_args, 0, 0, NULL },
    sl_null_command,
};

static sl_module_t test_core_module = {
    0, 0, "test_core", SL_CORE_MODULE, NULL, test_commands, NULL, NULL, NULL, NULL,
};

static sl_module_t test_http_module = {
    0, 2, "test_http", SL_HTTP_MODULE, NULL, test_http_commands, NULL, NULL, NULL, NULL,
};

static sl_module_t *modules[] = { &test_core_module, &sl_conf_module, &test_http_module, NULL };

static void
conf_reset(void)
{
    tconf.flag = SL_CONF_UNSET;
    tconf.num = SL_CONF_UNSET;
    tconf.size = SL_CONF_UNSET_SIZE;
    tconf.off = SL_CONF_UNSET;
    tconf.msec = SL_CONF_UNSET_MSEC;
    tconf.sec = SL_CONF_UNSET;
    tconf.str.len = 0;
    tconf.str.data = NULL;
    tconf.strs = SL_CONF_UNSET_PTR;
    tconf.kvs = NULL;
    tconf.mode = SL_CONF_UNSET_UINT;
    tconf.bits = 0;
    inner_conf.deep.len = 0;
    inner_conf.deep.data = NULL;
    blocks_seen = 0;
    rec_len = 0;
    rec[0] = '\0';
}

/* A fresh pool, cycle and sl_conf_t for one parse; conf values and the log are cleared. */
static void
setup(void)
{
    sl_pool_t *pool;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, &test_log);
    if (pool == NULL) {
        fprintf(stderr, "no pool\n");
        exit(2);
    }

    sl_memzero(&cycle, sizeof(cycle));
    cycle.pool = pool;
    cycle.log = &test_log;
    cycle.modules = modules;
    cycle.modules_n = 3;
    conf_ctx[0] = &tconf;
    conf_ctx[1] = NULL;
    conf_ctx[2] = NULL;
    cycle.conf_ctx = (void ****) conf_ctx;
    cycle.conf_prefix.len = strlen(tmpdir) + 1;
    cycle.conf_prefix.data = sl_pnalloc(pool, cycle.conf_prefix.len + 1);
    sprintf((char *) cycle.conf_prefix.data, "%s/", tmpdir);
    cycle.prefix = cycle.conf_prefix;
    (void) sl_array_init(&cycle.config_dump, pool, 1, sizeof(sl_conf_dump_t));

    sl_memzero(&cf, sizeof(cf));
    cf.name = "test";
    cf.args = sl_array_create(pool, 10, sizeof(sl_str_t));
    cf.cycle = &cycle;
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = &test_log;
    cf.ctx = conf_ctx;
    cf.module_type = SL_CORE_MODULE;
    cf.cmd_type = SL_MAIN_CONF;

    conf_reset();

    if (ftruncate(log_fd, 0) != 0) {
        exit(2);
    }
}

static void
teardown(void)
{
    sl_destroy_pool(cycle.pool);
    cycle.pool = NULL;
}

/* Reads the log file into logbuf. */
static const char *
log_text(void)
{
    ssize_t n = pread(log_fd, logbuf, sizeof(logbuf) - 1, 0);

    logbuf[n > 0 ? n : 0] = '\0';
    return logbuf;
}

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    const char *p = hay;

    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* True when the log holds exactly one line, at level, that ends with ": MSG". */
static int
log_is(const char *level, const char *msg)
{
    char want[8192];
    const char *text = log_text();

    snprintf(want, sizeof(want), "[%s] ", level);
    if (count(text, "\n") != 1 || strstr(text, want) == NULL) {
        return 0;
    }

    snprintf(want, sizeof(want), " %s\n", msg);
    return strlen(text) >= strlen(want) && strcmp(text + strlen(text) - strlen(want), want) == 0;
}

static void
write_file(const char *rel, const char *data, size_t len)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd == -1 || write(fd, data, len) != (ssize_t) len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    close(fd);
}

static void
write_text(const char *rel, const char *text)
{
    write_file(rel, text, strlen(text));
}

static char *
parse_rel(const char *rel)
{
    static char path[PATH_MAX];
    sl_str_t name;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    name.len = strlen(path);
    name.data = (u_char *) path;
    return sl_conf_parse(&cf, &name);
}

/* Parses text written to main.conf in a fresh setup; the caller tears down. */
static char *
parse_text(const char *text)
{
    setup();
    write_text("main.conf", text);
    return parse_rel("main.conf");
}

/* Expects text to fail with exactly "[emerg] MSG in main.conf:LINE". */
static void
expect_error(const char *text, const char *msg, int line, const char *what)
{
    char want[8192];
    char *rv;

    rv = parse_text(text);
    snprintf(want, sizeof(want), "%s in %s/main.conf:%d", msg, tmpdir, line);
    ok(rv == SL_CONF_ERROR, "%s: parse fails", what);
    ok(log_is("emerg", want), "%s: message", what);
    if (!log_is("emerg", want)) {
        printf("#   log: %s#   want: %s\n", log_text(), want);
    }
    teardown();
}

static void
test_tokens(void)
{
    char *rv;

    rv = parse_text("# a comment line with ; { } \" '\n"
                    "args plain 'single quoted' \"double quoted\";   # trailing ;{\n"
                    "args \"semi;colon\" '{brace}' \"#hash\" a#b;\n"
                    "args \"esc \\\" \\' \\\\ \\t \\r \\n \\d\" 'x\\'y';\n"
                    "args ${var} $var \"${a}b\" pre${x}post;\n"
                    "args a}b;\n"
                    "args \"\" '';\n"
                    "args multi\n   line\n\targs;\n"
                    "args \"q\"\n;\n"
                    "args if ($a = \"b\");\n"
                    "args a\\ b a\\;b;\r\n"
                    "args\tcrlf;\r\n"
                    "args a\"x\"'y';\n"
                    "args;\n"
                    "\n\n");
    ok(rv == SL_CONF_OK, "token file parses");
    same_mem(rec, rec_len,
             "args|plain|single quoted|double quoted\n"
             "args|semi;colon|{brace}|#hash|a#b\n"
             "args|esc \" ' \\ \t \r \n \\d|x'y\n"
             "args|${var}|$var|${a}b|pre${x}post\n"
             "args|a}b\n"
             "args||\n"
             "args|multi|line|args\n"
             "args|q\n"
             "args|if|($a|=|b|)\n"
             "args|a\\ b|a\\;b\n"
             "args|crlf\n"
             "args|a\"x\"'y'\n"
             "args\n",
             "tokens, quotes, escapes and variables");
    is_int(strlen(log_text()), 0, "nothing logged");
    teardown();

    rv = parse_text("");
    ok(rv == SL_CONF_OK && rec_len == 0, "empty file is fine");
    teardown();

    rv = parse_text("# only a comment, no newline at the end");
    ok(rv == SL_CONF_OK && rec_len == 0, "file of one comment is fine");
    teardown();

    rv = parse_text("args last;");
    ok(rv == SL_CONF_OK, "directive at end of file without newline");
    teardown();

    {
        /* NUL bytes are ordinary bytes inside a word. */
        static const char nul[] = "args a\0b;\n";
        setup();
        write_file("main.conf", nul, sizeof(nul) - 1);
        rv = parse_rel("main.conf");
        ok(rv == SL_CONF_OK && rec_len == 9 && memcmp(rec, "args|a\0b\n", 9) == 0,
           "NUL inside a word is kept");
        teardown();
    }
}

static void
test_settings(void)
{
    char *rv;
    sl_str_t *s;
    sl_keyval_t *kv;

    rv = parse_text("flag ON;\n"
                    "num 42;\n"
                    "size 1k;\n"
                    "off 2m;\n"
                    "msec 1500ms;\n"
                    "sec '1h 30s';\n"
                    "str \"hello world\";\n"
                    "strs a;\nstrs b;\n"
                    "kv k1 v1;\nkv k2 \"v 2\";\n"
                    "mode Second;\n"
                    "bits read exec;\n"
                    "bits write;\n"
                    "block {\n"
                    "    deep inner-value;\n"
                    "    args in block;\n"
                    "    block nested { args deeper; }\n"
                    "}\n"
                    "types {\n"
                    "    text/html html htm;\n"
                    "    flag off;\n"
                    "}\n"
                    "args after;\n");
    ok(rv == SL_CONF_OK, "settings parse");
    is_int(strlen(log_text()), 0, "nothing logged");
    is_int(tconf.flag, 1, "flag ON (any case)");
    is_int(tconf.num, 42, "num");
    is_int(tconf.size, 1024, "size 1k");
    is_int(tconf.off, 2 * 1024 * 1024, "off 2m");
    is_int(tconf.msec, 1500, "msec 1500ms");
    is_int(tconf.sec, 3630, "sec '1h 30s'");
    same_mem(tconf.str.data, tconf.str.len, "hello world", "str");
    ok(tconf.strs != SL_CONF_UNSET_PTR && tconf.strs->nelts == 2, "two strs");
    if (tconf.strs != SL_CONF_UNSET_PTR && tconf.strs->nelts == 2) {
        s = tconf.strs->elts;
        ok(sl_str_eq_lit(&s[0], "a") && sl_str_eq_lit(&s[1], "b"), "strs in order");
    }
    ok(tconf.kvs != NULL && tconf.kvs->nelts == 2, "two kv");
    if (tconf.kvs != NULL && tconf.kvs->nelts == 2) {
        kv = tconf.kvs->elts;
        ok(sl_str_eq_lit(&kv[1].key, "k2") && sl_str_eq_lit(&kv[1].value, "v 2"), "kv value");
    }
    is_int(tconf.mode, 2, "enum is case-insensitive");
    is_int(tconf.bits, 0x07, "bitmask over two directives");
    is_int(blocks_seen, 2, "two blocks");
    same_mem(inner_conf.deep.data, inner_conf.deep.len, "inner-value",
             "conf pointer through cf->ctx + cmd->conf and ctx_index");
    same_mem(rec, rec_len,
             "{ block\n"
             "args|in|block\n"
             "{ block|nested\n"
             "args|deeper\n"
             "}\n"
             "}\n"
             "T:text/html|html|htm\n"
             "T:flag|off\n"
             "args|after\n",
             "block content, handler block, and the rest");
    is_int(cf.cmd_type, SL_MAIN_CONF, "context restored after the blocks");
    ok(cf.handler == NULL, "handler restored");
    teardown();

    /* Upper bounds are inclusive. */
    rv = parse_text("num 100; size 1024; msec 1m;\n");
    ok(rv == SL_CONF_OK && tconf.num == 100 && tconf.size == 1024 && tconf.msec == 60000,
       "values at the upper bounds pass");
    teardown();

    /* Bitmask: a repeated value is a warning, not an error. */
    rv = parse_text("bits read READ;\n");
    {
        char want[PATH_MAX + 128];
        snprintf(want, sizeof(want),
                 "duplicate value \"READ\" in \"bits\" directive in %s/main.conf:1", tmpdir);
        ok(rv == SL_CONF_OK && tconf.bits == 1 && log_is("warn", want), "bitmask duplicate warns");
    }
    teardown();

    /* A parameter of exactly SL_CONF_MAX_PARAM bytes is accepted. */
    {
        size_t n = SL_CONF_MAX_PARAM;
        char *big = malloc(n + 16);
        memcpy(big, "str ", 4);
        memset(big + 4, 'x', n);
        memcpy(big + 4 + n, ";\n", 3);
        rv = parse_text(big);
        ok(rv == SL_CONF_OK && tconf.str.len == n, "parameter of SL_CONF_MAX_PARAM bytes");
        teardown();

        big[4 + n] = 'x';
        memcpy(big + 5 + n, ";\n", 3);
        setup();
        write_text("main.conf", big);
        rv = parse_rel("main.conf");
        {
            char want[PATH_MAX + 128];
            snprintf(want, sizeof(want),
                     "too long parameter \"xxxxxxxxxxxxxxxx...\" started on line 1 in "
                     "%s/main.conf:1",
                     tmpdir);
            ok(rv == SL_CONF_ERROR && log_is("emerg", want), "parameter one byte too long");
        }
        teardown();
        free(big);
    }
}

static void
test_errors(void)
{
    char big[200];

    expect_error("args ok;\nbogus 1;\n", "unknown directive \"bogus\"", 2, "unknown");
    expect_error("inner x;\n", "unknown directive \"inner\"", 1, "unknown inner");
    expect_error("deep x;\n", "\"deep\" directive is not allowed here", 1, "wrong context");
    expect_error("web x;\n", "\"web\" directive is not allowed here", 1, "wrong module type");
    expect_error("block { flag on; }\n", "\"flag\" directive is not allowed here", 1,
                 "main directive in block");
    expect_error("two a;\n", "invalid number of arguments in \"two\" directive", 1, "TAKE2 of 1");
    expect_error("two a b c;\n", "invalid number of arguments in \"two\" directive", 1,
                 "TAKE2 of 3");
    expect_error("one3 a b;\n", "invalid number of arguments in \"one3\" directive", 1,
                 "TAKE13 of 2");
    expect_error("seven 1 2 3 4 5 6 7 8;\n", "invalid number of arguments in \"seven\" directive",
                 1, "TAKE7 of 8");
    expect_error("one3 1 2 3 4 5 6 7 8 9 10;\n",
                 "invalid number of arguments in \"one3\" directive", 1, "more than the maximum");
    expect_error("flag on off;\n", "invalid number of arguments in \"flag\" directive", 1,
                 "FLAG of 2");
    expect_error("flag;\n", "invalid number of arguments in \"flag\" directive", 1, "FLAG of 0");
    expect_error("more2 a;\n", "invalid number of arguments in \"more2\" directive", 1,
                 "2MORE of 1");
    expect_error("bits;\n", "invalid number of arguments in \"bits\" directive", 1, "1MORE of 0");
    expect_error("fail x;\n", "invalid number of arguments in \"fail\" directive", 1,
                 "NOARGS of 1");
    expect_error("block a b {\n}\n", "invalid number of arguments in \"block\" directive", 1,
                 "block with too many args");
    expect_error("\nflag on {}\n", "directive \"flag\" is not terminated by \";\"", 2,
                 "not terminated");
    expect_error("block;\n", "directive \"block\" has no opening \"{\"", 1, "no opening");
    expect_error("args a b", "unexpected end of file, expecting \";\" or \"}\"", 1, "eof in dir");
    expect_error("args a\n\n", "unexpected end of file, expecting \";\" or \"}\"", 3,
                 "eof after name");
    expect_error("args a \"b\"", "unexpected end of file, expecting \";\" or \"}\"", 1,
                 "eof after quoted");
    expect_error("args a\\", "unexpected end of file, expecting \";\" or \"}\"", 1,
                 "eof after backslash");
    expect_error("args a # comment\n", "unexpected end of file, expecting \";\" or \"}\"", 2,
                 "eof after comment");
    expect_error("block {\n args x;\n", "unexpected end of file, expecting \"}\"", 3,
                 "eof in block");
    expect_error("block {\n block { args x; }\n", "unexpected end of file, expecting \"}\"", 3,
                 "eof in outer block");
    expect_error("args a;\n}\n", "unexpected \"}\"", 2, "stray }");
    expect_error("args a }\n", "unexpected \"}\"", 1, "} inside directive");
    expect_error("{ }\n", "unexpected \"{\"", 1, "{ without name");
    expect_error("args a;\n;\n", "unexpected \";\"", 2, "; without name");
    expect_error("args \"a\"b;\n", "unexpected \"b\"", 1, "word glued to quoted word");
    expect_error("args 'a'\"b\";\n", "unexpected \"\"\"", 1, "quote glued to quoted word");
    expect_error("args \"abc;\n\nmore",
                 "unexpected end of file, unbalanced quotes in the parameter started on line 1", 3,
                 "unbalanced double quote");
    expect_error("args x\n 'abc;\n",
                 "unexpected end of file, unbalanced quotes in the parameter started on line 2", 3,
                 "unbalanced single quote");
    expect_error("fail;\n", "\"fail\" directive is broken", 1, "setter message");
    expect_error("types {\n text/html html;\n bad x;\n}\n", "is bad type", 3, "handler message");
    expect_error("types {\n a {\n}\n}\n", "unexpected \"{\"", 2, "block inside handler block");
    expect_error("flag yes;\n",
                 "invalid value \"yes\" in \"flag\" directive, it must be \"on\" or \"off\"", 1,
                 "flag");
    expect_error("flag on;\nflag off;\n", "\"flag\" directive is duplicate", 2, "flag twice");
    expect_error("num x;\n", "invalid number \"x\" in \"num\" directive", 1, "num");
    expect_error("num -5;\n", "invalid number \"-5\" in \"num\" directive", 1, "negative num");
    expect_error("num \"\";\n", "invalid number \"\" in \"num\" directive", 1, "empty num");
    expect_error("num 99999999999999999999999;\n",
                 "invalid number \"99999999999999999999999\" in \"num\" directive", 1,
                 "num overflow");
    expect_error("num 0;\n",
                 "invalid value \"0\" in \"num\" directive, it must be between 1 and 100", 1,
                 "num below bounds");
    expect_error("num 101;\n",
                 "invalid value \"101\" in \"num\" directive, it must be between 1 and 100", 1,
                 "num above bounds");
    expect_error("num 5;\nnum 6;\n", "\"num\" directive is duplicate", 2, "num twice");
    expect_error("size 10x;\n", "invalid size \"10x\" in \"size\" directive", 1, "size");
    expect_error("size 2k;\n",
                 "invalid value \"2k\" in \"size\" directive, it must be between 1 and 1024", 1,
                 "size bounds");
    expect_error("size 1;\nsize 1;\n", "\"size\" directive is duplicate", 2, "size twice");
    expect_error("off 1q;\n", "invalid size \"1q\" in \"off\" directive", 1, "off");
    expect_error("msec 5q;\n", "invalid time \"5q\" in \"msec\" directive", 1, "msec");
    expect_error("msec 2m;\n",
                 "invalid value \"2m\" in \"msec\" directive, it must be between 0 and 60000", 1,
                 "msec bounds");
    expect_error("msec 1;\nmsec 1;\n", "\"msec\" directive is duplicate", 2, "msec twice");
    expect_error("sec abc;\n", "invalid time \"abc\" in \"sec\" directive", 1, "sec");
    expect_error("str a;\nstr b;\n", "\"str\" directive is duplicate", 2, "str twice");
    expect_error("mode bad;\n", "invalid value \"bad\" in \"mode\" directive", 1, "enum");
    expect_error("mode first;\nmode first;\n", "\"mode\" directive is duplicate", 2, "enum twice");
    expect_error("bits read nope;\n", "invalid value \"nope\" in \"bits\" directive", 1, "bitmask");

    /* The name is printed as counted bytes, long names are cut, never overflow. */
    memset(big, 'z', sizeof(big));
    memcpy(big + sizeof(big) - 3, ";\n", 3);
    {
        char want[256];
        snprintf(want, sizeof(want), "unknown directive \"%.*s\"", (int) sizeof(big) - 3, big);
        expect_error(big, want, 1, "long unknown name");
    }

    /* A setter that logged itself: SL_CONF_ERROR and nothing more in the log. */
    setup();
    write_text("main.conf", "args one;\nfailsilent;\nargs two;\n");
    ok(parse_rel("main.conf") == SL_CONF_ERROR, "silent failure fails");
    is_int(strlen(log_text()), 0, "silent failure logs nothing");
    same_mem(rec, rec_len, "args|one\n", "parsing stops at the failing directive");
    teardown();

    /* Errors stop the parse: nothing after the bad line runs. */
    setup();
    write_text("main.conf", "args one;\nbogus;\nargs two;\n");
    ok(parse_rel("main.conf") == SL_CONF_ERROR, "error fails the parse");
    same_mem(rec, rec_len, "args|one\n", "nothing after the error runs");
    teardown();

    /* A missing main file is reported without location. */
    setup();
    {
        char want[PATH_MAX + 128];
        ok(parse_rel("missing.conf") == SL_CONF_ERROR, "missing main file fails");
        snprintf(want, sizeof(want),
                 "open() \"%s/missing.conf\" failed (2: No such file or directory)", tmpdir);
        ok(log_is("emerg", want), "missing main file message has no location");
    }
    teardown();

    /* A block parse with no file open is refused, not crashed. */
    setup();
    ok(sl_conf_parse(&cf, NULL) == SL_CONF_ERROR, "block parse without a file fails");
    ok(log_is("emerg", "a block parsed outside of any file"), "and says so");
    teardown();
}

static void
test_include(void)
{
    char *rv, want[PATH_MAX * 2];
    sl_conf_dump_t *d;
    sl_uint_t i, found;

    mkdir((sprintf(want, "%s/conf.d", tmpdir), want), 0755);
    mkdir((sprintf(want, "%s/inc", tmpdir), want), 0755);
    mkdir((sprintf(want, "%s/empty.d", tmpdir), want), 0755);
    mkdir((sprintf(want, "%s/conf.d/sub.dir", tmpdir), want), 0755);

    write_text("conf.d/b.conf", "args b;\n");
    write_text("conf.d/a.conf", "args a;\ninclude inc/nested.conf;\nargs a2;\n");
    write_text("conf.d/skip.txt", "bogus;\n");
    write_text("inc/nested.conf", "# nested\nargs nested;\n");
    write_text("inc/inner.conf", "args inner;\ndeep from-include;\n");
    write_text("inc/err.conf", "args e1;\n\nbogus here;\n");
    write_text("inc/brace.conf", "args x;\n}\n");
    write_text("inc/open.conf", "block {\n");
    write_text("self.conf", "args self;\ninclude self.conf;\n");

    rv = parse_text("args m1;\n"
                    "include conf.d/*.conf;\n"
                    "args m2;\n"
                    "block { include inc/inner.conf; }\n"
                    "include empty.d/*.conf;\n"
                    "include \"conf.d/[b]*.conf\";\n"
                    "args m3;\n");
    ok(rv == SL_CONF_OK, "includes parse");
    same_mem(rec, rec_len,
             "args|m1\nargs|a\nargs|nested\nargs|a2\nargs|b\nargs|m2\n{ block\nargs|inner\n}\n"
             "args|b\nargs|m3\n",
             "included files run in sorted order at their place");
    same_mem(inner_conf.deep.data, inner_conf.deep.len, "from-include",
             "an include inside a block keeps the block context");
    is_int(strlen(log_text()), 0, "nothing logged");

    /* -T: one dump per file name, holding the file's bytes. */
    is_int(cycle.config_dump.nelts, 5, "five distinct files dumped");
    d = cycle.config_dump.elts;
    found = 0;
    for (i = 0; i < cycle.config_dump.nelts; i++) {
        snprintf(want, sizeof(want), "%s/conf.d/a.conf", tmpdir);
        if (d[i].name.len == strlen(want) && memcmp(d[i].name.data, want, d[i].name.len) == 0) {
            found = 1;
            same_mem(d[i].buffer->pos, d[i].buffer->last - d[i].buffer->pos,
                     "args a;\ninclude inc/nested.conf;\nargs a2;\n", "dump holds the bytes");
        }
    }
    ok(found, "dump names the included file");
    teardown();

    /* The main file's line count survives includes. */
    snprintf(want, sizeof(want), "unknown directive \"bogus\" in %s/main.conf:4", tmpdir);
    rv = parse_text("include conf.d/*.conf;\n\n\nbogus;\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "line after an include is right");
    teardown();

    snprintf(want, sizeof(want), "unknown directive \"bogus\" in %s/inc/err.conf:3", tmpdir);
    rv = parse_text("args m;\nblock {\ninclude inc/err.conf;\n}\nargs never;\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "error inside an include names that file");
    same_mem(rec, rec_len, "args|m\n{ block\nargs|e1\n}\n", "and stops the whole parse");
    teardown();

    snprintf(want, sizeof(want),
             "open() \"%s/nothere.conf\" failed (2: No such file or directory) in %s/main.conf:2",
             tmpdir, tmpdir);
    rv = parse_text("args a;\ninclude nothere.conf;\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "missing include file");
    teardown();

    snprintf(want, sizeof(want),
             "read() \"%s/conf.d\" failed (21: Is a directory) in %s/main.conf:1", tmpdir, tmpdir);
    rv = parse_text("include conf.d;\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "include of a directory");
    teardown();

    snprintf(want, sizeof(want),
             "open() \"/nonexistent-sluice/x.conf\" failed "
             "(2: No such file or directory) in %s/main.conf:1",
             tmpdir);
    rv = parse_text("include /nonexistent-sluice/x.conf;\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "absolute include path kept");
    teardown();

    rv = parse_text("include /nonexistent-sluice/*.conf;\n");
    ok(rv == SL_CONF_OK, "glob under a missing directory matches nothing");
    teardown();

    snprintf(want, sizeof(want), "unexpected \"}\" in %s/inc/brace.conf:2", tmpdir);
    rv = parse_text("block {\ninclude inc/brace.conf;\n}\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "an included file cannot close the block");
    teardown();

    snprintf(want, sizeof(want), "unexpected end of file, expecting \"}\" in %s/inc/open.conf:2",
             tmpdir);
    rv = parse_text("include inc/open.conf;\n}\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "an included file cannot open a block");
    teardown();

    snprintf(want, sizeof(want),
             "too deep nesting of included files (more than %d) while opening \"%s/self.conf\" "
             "in %s/self.conf:2",
             SL_CONF_MAX_INCLUDE_DEPTH, tmpdir, tmpdir);
    setup();
    rv = parse_rel("self.conf");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "a file including itself stops");
    is_int(count(rec, "args|self\n"), SL_CONF_MAX_INCLUDE_DEPTH, "after the maximum depth");
    teardown();

    /* After a failed nested parse the depth is back to 0: a deep chain works again. */
    setup();
    rv = parse_rel("conf.d/a.conf");
    ok(rv == SL_CONF_OK, "include depth recovers after an error");
    teardown();

    snprintf(want, sizeof(want),
             "invalid number of arguments in \"include\" directive in "
             "%s/main.conf:1",
             tmpdir);
    rv = parse_text("include a b;\n");
    ok(rv == SL_CONF_ERROR && log_is("emerg", want), "include takes one argument");
    teardown();
}

static void
test_param(void)
{
    char *rv;

    setup();
    cycle.conf_param.len = 0;
    ok(sl_conf_param(&cf) == SL_CONF_OK, "no -g is fine");
    teardown();

    setup();
    sl_str_set(&cycle.conf_param, "flag on; num 7;  args \"x y\";");
    rv = sl_conf_param(&cf);
    ok(rv == SL_CONF_OK && tconf.flag == 1 && tconf.num == 7, "-g sets values");
    same_mem(rec, rec_len, "args|x y\n", "-g tokens");
    ok(cf.conf_file == NULL, "conf_file restored");
    teardown();

    setup();
    sl_str_set(&cycle.conf_param, "flag on; bogus;");
    ok(sl_conf_param(&cf) == SL_CONF_ERROR
           && log_is("emerg", "unknown directive \"bogus\" in command line"),
       "-g unknown directive");
    teardown();

    setup();
    sl_str_set(&cycle.conf_param, "num 5");
    ok(sl_conf_param(&cf) == SL_CONF_ERROR
           && log_is("emerg", "unexpected end of parameter, expecting \";\" in command line"),
       "-g without ;");
    teardown();

    setup();
    sl_str_set(&cycle.conf_param, "args \"open");
    ok(sl_conf_param(&cf) == SL_CONF_ERROR
           && log_is("emerg", "unexpected end of parameter, expecting \";\" in command line"),
       "-g with an open quote");
    teardown();

    setup();
    sl_str_set(&cycle.conf_param, "block { args x; }");
    ok(sl_conf_param(&cf) == SL_CONF_ERROR
           && log_is("emerg", "block directives are not supported in -g option in command line"),
       "-g block");
    teardown();

    setup();
    sl_str_set(&cycle.conf_param, "args a; }");
    ok(sl_conf_param(&cf) == SL_CONF_ERROR && log_is("emerg", "unexpected \"}\" in command line"),
       "-g stray }");
    teardown();

    setup();
    sl_str_set(&cycle.conf_param, "flag maybe;");
    ok(sl_conf_param(&cf) == SL_CONF_ERROR
           && log_is("emerg", "invalid value \"maybe\" in \"flag\" directive, it must be \"on\" or "
                              "\"off\" in command line"),
       "-g setter error");
    teardown();
}

static void
test_full_name(void)
{
    sl_str_t name;

    setup();

    sl_str_set(&cycle.conf_prefix, "/etc/sluice/");
    sl_str_set(&cycle.prefix, "/usr/local/sluice");

    sl_str_set(&name, "mime.types");
    ok(sl_conf_full_name(&cycle, &name, 1) == SL_OK, "full name ok");
    same_mem(name.data, name.len, "/etc/sluice/mime.types", "relative to conf prefix");
    ok(name.data[name.len] == '\0', "NUL-terminated");

    sl_str_set(&name, "logs/error.log");
    ok(sl_conf_full_name(&cycle, &name, 0) == SL_OK, "full name ok");
    same_mem(name.data, name.len, "/usr/local/sluice/logs/error.log",
             "relative to prefix, slash added");

    sl_str_set(&name, "/abs/path");
    ok(sl_conf_full_name(&cycle, &name, 1) == SL_OK, "full name ok");
    same_mem(name.data, name.len, "/abs/path", "absolute stays");
    ok(name.data[name.len] == '\0', "absolute is NUL-terminated too");

    sl_str_set(&cycle.prefix, "");
    sl_str_set(&name, "rel");
    ok(sl_conf_full_name(&cycle, &name, 0) == SL_OK, "full name ok");
    same_mem(name.data, name.len, "rel", "empty prefix leaves it relative");

    name.len = 0;
    name.data = (u_char *) "";
    ok(sl_conf_full_name(&cycle, &name, 1) == SL_OK, "full name ok");
    same_mem(name.data, name.len, "/etc/sluice/", "empty name is the prefix");

    teardown();
}

static void
test_log_error(void)
{
    int saved, fd;
    char path[PATH_MAX], out[4096];
    ssize_t n;

    setup();
    sl_conf_log_error(SL_LOG_EMERG, &cf, 0, "plain %d %V", 5, &cycle.conf_prefix);
    {
        char want[PATH_MAX + 64];
        snprintf(want, sizeof(want), "plain 5 %s/", tmpdir);
        ok(log_is("emerg", want), "outside a file: no location");
    }
    teardown();

    setup();
    sl_conf_log_error(SL_LOG_ERR, &cf, ENOENT, "x");
    ok(log_is("error", "x (2: No such file or directory)"), "errno text");
    teardown();

    setup();
    test_log.log_level = SL_LOG_EMERG;
    sl_conf_log_error(SL_LOG_WARN, &cf, 0, "quiet");
    ok(strlen(log_text()) == 0, "level below the log's is dropped");
    test_log.log_level = SL_LOG_WARN;
    teardown();

    /* With no log at all the message still reaches stderr. */
    snprintf(path, sizeof(path), "%s/stderr.txt", tmpdir);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);

    setup();
    cf.log = NULL;
    cycle.log = NULL;
    write_text("main.conf", "bogus;\n");
    ok(parse_rel("main.conf") == SL_CONF_ERROR, "parse fails without a log");
    teardown();

    /* The bootstrap log (stderr alone) prints the short startup form. */
    setup();
    cf.log = sl_log_init();
    write_text("main.conf", "\nbogus;\n");
    ok(parse_rel("main.conf") == SL_CONF_ERROR, "parse fails with the bootstrap log");
    teardown();

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = pread(fd, out, sizeof(out) - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    {
        char want[PATH_MAX + 64];
        snprintf(want, sizeof(want), "unknown directive \"bogus\" in %s/main.conf:1", tmpdir);
        ok(strstr(out, want) != NULL && strstr(out, "[emerg]") != NULL,
           "stderr gets the message when no log is set");
        snprintf(want, sizeof(want),
                 "sluice: [emerg] unknown directive \"bogus\" in %s/main.conf:2\n", tmpdir);
        ok(strstr(out, want) != NULL, "bootstrap log: \"sluice: [emerg] ... in FILE:LINE\"");
        if (strstr(out, want) == NULL) {
            printf("#   stderr: %s", out);
        }
    }
}

/* A pipe has no size to read up front: the buffer grows, lines still count. */
static void
test_pipe(void)
{
    int fds[2], i;
    char path[64], want[128];
    sl_str_t name;
    char *rv;

    if (pipe(fds) != 0) {
        ok(0, "pipe");
        return;
    }

    for (i = 0; i < 1250; i++) {
        if (write(fds[1], "args x;\n", 8) != 8) {
            break;
        }
    }
    if (write(fds[1], "bogus;\n", 7) != 7) {
        i = -1;
    }
    close(fds[1]);

    setup();
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
    name.len = strlen(path);
    name.data = (u_char *) path;
    rv = sl_conf_parse(&cf, &name);
    snprintf(want, sizeof(want), "unknown directive \"bogus\" in %s:1251", path);
    ok(i == 1250 && rv == SL_CONF_ERROR && log_is("emerg", want),
       "10000 bytes from a pipe, error on the right line");
    is_int(count(rec, "args|x\n"), 1250, "every directive before it ran");
    teardown();

    close(fds[0]);
}

/* Random and token-shaped garbage must never crash or leak, only fail cleanly. */
static void
test_stress(void)
{
    static const char *vocab[] = {
        "args", "block", "types", "flag",    "num",    "size", "msec",   "str", "kv", "mode",
        "bits", "deep",  "fail",  "include", "on",     "off",  "1k",     "5",   "x",  "{",
        "}",    ";",     "\"",    "'",       "\\",     "#",    "$",      "${",  "(",  ")",
        " ",    "\n",    "\t",    "\r",      "a.conf", "*",    "conf.d", ".",
    };
    static const char valid[] =
        "flag on;\nnum 42;\nsize 1k;\nmsec '1s';\nstr \"a b\";\nkv k 'v';\nmode first;\n"
        "bits read write;\nblock {\n deep x;\n args \"${v}\" $w a\\\"b;\n"
        " block n { args y; }\n}\ntypes {\n text/html html;\n}\n# comment\nargs end;\n";
    char buf[4096];
    size_t len, k;
    int i, fails = 0, oks = 0;
    unsigned seed = 12345;
    char *rv;

    for (i = 0; i < 3000; i++) {
        len = 0;
        k = (size_t) (rand_r(&seed) % 200);

        if (i % 3 == 1) {
            while (k-- && len < sizeof(buf) - 16) {
                buf[len++] = (char) (rand_r(&seed) & 0xff);
            }

        } else if (i % 3 == 2) {
            /* A valid file with a few bytes changed, dropped or added. */
            len = strlen(valid);
            memcpy(buf, valid, len);
            for (k = 1 + (size_t) (rand_r(&seed) % 4); k > 0 && len > 0; k--) {
                size_t at = (size_t) rand_r(&seed) % len;
                char c = "{};\"'\\#$ \n}x"[rand_r(&seed) % 12];

                switch (rand_r(&seed) % 3) {
                case 0:
                    buf[at] = c;
                    break;
                case 1:
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                    break;
                default:
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
            }

        } else {
            while (k-- && len < sizeof(buf) - 32) {
                const char *w = vocab[rand_r(&seed) % sl_nelts(vocab)];
                memcpy(buf + len, w, strlen(w));
                len += strlen(w);
                if (rand_r(&seed) % 2) {
                    buf[len++] = ' ';
                }
            }
        }

        setup();
        if (i % 5 == 4) {
            cycle.conf_param.len = len;
            cycle.conf_param.data = (u_char *) buf;
            rv = sl_conf_param(&cf);
        } else {
            write_file("stress.conf", buf, len);
            rv = parse_rel("stress.conf");
        }
        teardown();

        if (rv == SL_CONF_OK) {
            oks++;
        } else if (rv == SL_CONF_ERROR) {
            fails++;
        }
    }

    is_int(oks + fails, 3000, "3000 random inputs each parsed or refused (%d ok, %d refused)", oks,
           fails);
    ok(oks > 0, "some mutated files still parse");
    ok(fails > 0, "garbage is refused");
}

static void
cleanup_dir(void)
{
    char cmd[PATH_MAX + 32];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", tmpdir);
    }
}

int
main(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/sl_test_conf.XXXXXX", base ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }

    snprintf(logpath, sizeof(logpath), "%s/log.txt", tmpdir);
    log_fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (log_fd == -1) {
        perror("open log");
        return 2;
    }

    sl_time_init();

    log_file.fd = log_fd;
    log_file.name.len = strlen(logpath);
    log_file.name.data = (u_char *) logpath;
    test_log.log_level = SL_LOG_WARN;
    test_log.file = &log_file;

    test_tokens();
    test_settings();
    test_errors();
    test_include();
    test_param();
    test_full_name();
    test_log_error();
    test_pipe();
    test_stress();

    close(log_fd);
    cleanup_dir();

    return sl_tap_done();
}
