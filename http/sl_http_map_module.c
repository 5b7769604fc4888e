/*
 * sl_http_map_module.c: the "map" directive, with nginx's semantics.
 *
 *     map $http_upgrade $connection_upgrade {
 *         default upgrade;
 *         ''      close;
 *     }
 *
 * A map declares a variable whose value depends on a source value (any
 * complex value). Source strings are matched ignoring case in a hash table;
 * when none matches, the "~" (case-sensitive) and "~*" (caseless) regular
 * expressions are tried in the order they were written, and their captures
 * may be used in the resulting value; when none matches either, "default"
 * gives the value (or the variable is not found). With "hostnames" the
 * source strings may be wildcard names ("*.example.com", ".example.com",
 * "www.example.*") matched as server_name does.
 *
 * The variable is computed only when something uses it, once per request,
 * unless the map is "volatile". The tables are built when the map block
 * ends, with the map_hash_* sizes set before it (as nginx does).
 */

#include "sl_core.h"
#include "sl_http.h"

#define SL_HTTP_MAP_BUCKET_SIZE 64 /* a cache line, nginx's default */

typedef struct {
    sl_uint_t hash_max_size;
    sl_uint_t hash_bucket_size;
} sl_http_map_main_conf_t;

typedef struct {
    sl_http_regex_t *regex;
    sl_http_complex_value_t *value;
} sl_http_map_regex_t;

/* One map, the data of its variable. */
typedef struct {
    sl_http_complex_value_t source;
    sl_hash_combined_t hash;    /* string keys: sl_http_complex_value_t * */
    sl_http_map_regex_t *regex; /* in configuration order */
    sl_uint_t nregex;
    sl_http_complex_value_t *default_value; /* NULL: the variable is not found */
    unsigned hostnames : 1;
} sl_http_map_t;

/* What the lines of one map block are collected into while it is parsed. */
typedef struct {
    sl_hash_keys_arrays_t keys;
    sl_array_t *values_hash; /* keys.hsize buckets of sl_http_complex_value_t * */
    sl_array_t regexes;      /* sl_http_map_regex_t */
    sl_http_complex_value_t *default_value;
    unsigned hostnames : 1;
    unsigned no_cacheable : 1;
} sl_http_map_conf_ctx_t;

static void *sl_http_map_create_main_conf(sl_conf_t *cf);
static char *sl_http_map_block(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_map(sl_conf_t *cf, sl_command_t *dummy, void *conf);

static sl_command_t sl_http_map_commands[] = {
    { sl_string("map"), SL_HTTP_MAIN_CONF | SL_CONF_BLOCK | SL_CONF_TAKE2, sl_http_map_block,
      SL_HTTP_MAIN_CONF_OFFSET, 0, NULL },
    { sl_string("map_hash_max_size"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE1, sl_conf_set_num_slot,
      SL_HTTP_MAIN_CONF_OFFSET, offsetof(sl_http_map_main_conf_t, hash_max_size), NULL },
    { sl_string("map_hash_bucket_size"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE1, sl_conf_set_num_slot,
      SL_HTTP_MAIN_CONF_OFFSET, offsetof(sl_http_map_main_conf_t, hash_bucket_size), NULL },
    sl_null_command
};

static sl_http_module_t sl_http_map_module_ctx = {
    NULL,                         /* preconfiguration */
    NULL,                         /* postconfiguration */
    sl_http_map_create_main_conf, /* create main configuration */
    NULL,                         /* init main configuration */
    NULL,                         /* create server configuration */
    NULL,                         /* merge server configuration */
    NULL,                         /* create location configuration */
    NULL                          /* merge location configuration */
};

sl_module_t sl_http_map_module = {
    SL_MODULE_V1,
    "sl_http_map_module",
    SL_HTTP_MODULE,
    &sl_http_map_module_ctx,
    sl_http_map_commands,
    NULL,
    NULL,
    NULL,
    NULL
};

/* Run time --------------------------------------------------------------- */

/*
 * The value for the source text match: an exact (caseless) or wildcard key,
 * else the first regular expression that matches (setting the captures).
 * NULL when nothing matches (or on allocation failure): the default applies.
 */
static sl_http_complex_value_t *
sl_http_map_find(sl_http_request_t *r, sl_http_map_t *map, sl_str_t *match)
{
    u_char *low;
    sl_uint_t i, key;
    sl_http_complex_value_t *value;

    low = sl_pnalloc(r->pool, match->len ? match->len : 1);
    if (low == NULL) {
        return NULL;
    }

    key = sl_hash_strlow(low, match->data, match->len);

    value = sl_hash_find_combined(&map->hash, key, low, match->len);
    if (value) {
        return value;
    }

    /* like nginx, an empty source matches only the '' key, never a regex */
    if (match->len == 0) {
        return NULL;
    }

    /* a regex that fails to run (logged) counts as no match, as in nginx */
    for (i = 0; i < map->nregex; i++) {
        if (sl_http_regex_exec(r, map->regex[i].regex, match) == SL_OK) {
            return map->regex[i].value;
        }
    }

    return NULL;
}

static sl_int_t
sl_http_map_variable(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_str_t source, result;
    sl_http_map_t *map;
    sl_http_complex_value_t *cv;

    map = (sl_http_map_t *) data;

    /*
     * A value that refers back to this variable (directly or through another
     * map) finds it "not found" instead of recursing without end.
     */
    v->valid = 0;
    v->not_found = 1;
    v->no_cacheable = 0;

    if (sl_http_complex_value(r, &map->source, &source) != SL_OK) {
        return SL_ERROR;
    }

    if (map->hostnames && source.len > 0 && source.data[source.len - 1] == '.') {
        source.len--;
    }

    cv = sl_http_map_find(r, map, &source);

    if (cv == NULL) {
        cv = map->default_value;
        if (cv == NULL) {
            v->not_found = 1;
            return SL_OK;
        }
    }

    if (sl_http_complex_value(r, cv, &result) != SL_OK) {
        return SL_ERROR;
    }

    sl_log_debug(r->connection->log, "http map: \"%V\" \"%V\"", &source, &result);

    v->len = result.len;
    v->data = result.data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->escape = 0;

    return SL_OK;
}

/* Configuration ---------------------------------------------------------- */

static void *
sl_http_map_create_main_conf(sl_conf_t *cf)
{
    sl_http_map_main_conf_t *mcf;

    mcf = sl_palloc(cf->pool, sizeof(sl_http_map_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->hash_max_size = SL_CONF_UNSET_UINT;
    mcf->hash_bucket_size = SL_CONF_UNSET_UINT;

    return mcf;
}

/* map SOURCE $VARIABLE { ... } */
static char *
sl_http_map_block(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_map_main_conf_t *mcf = conf;
    char *rv;
    sl_str_t *value, name;
    sl_conf_t save;
    sl_pool_t *pool;
    sl_hash_init_t hinit;
    sl_http_map_t *map;
    sl_http_variable_t *var;
    sl_http_map_conf_ctx_t ctx;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    /* the sizes in effect are those set before the first map, as in nginx */
    if (mcf->hash_max_size == SL_CONF_UNSET_UINT) {
        mcf->hash_max_size = 2048;
    }

    if (mcf->hash_bucket_size == SL_CONF_UNSET_UINT) {
        mcf->hash_bucket_size = SL_HTTP_MAP_BUCKET_SIZE;
    } else {
        mcf->hash_bucket_size = sl_align(mcf->hash_bucket_size, SL_HTTP_MAP_BUCKET_SIZE);
    }

    value = cf->args->elts;

    map = sl_pcalloc(cf->pool, sizeof(sl_http_map_t));
    if (map == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = &map->source;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return SL_CONF_ERROR;
    }

    name = value[2];

    if (name.len < 2 || name.data[0] != '$') {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid variable name \"%V\"", &name);
        return SL_CONF_ERROR;
    }

    name.len--;
    name.data++;

    var = sl_http_add_variable(cf, &name, SL_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return SL_CONF_ERROR;
    }

    var->get_handler = sl_http_map_variable;
    var->data = (uintptr_t) map;

    pool = sl_create_pool(16384, cf->log);
    if (pool == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(&ctx, sizeof(sl_http_map_conf_ctx_t));
    ctx.keys.pool = pool;
    ctx.keys.temp_pool = pool;

    if (sl_hash_keys_array_init(&ctx.keys, SL_HASH_LARGE) != SL_OK) {
        sl_destroy_pool(pool);
        return SL_CONF_ERROR;
    }

    ctx.values_hash = sl_pcalloc(pool, sizeof(sl_array_t) * ctx.keys.hsize);
    if (ctx.values_hash == NULL
        || sl_array_init(&ctx.regexes, cf->pool, 2, sizeof(sl_http_map_regex_t)) != SL_OK) {
        sl_destroy_pool(pool);
        return SL_CONF_ERROR;
    }

    save = *cf;
    cf->handler = sl_http_map;
    cf->handler_conf = &ctx;

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != SL_CONF_OK) {
        sl_destroy_pool(pool);
        return rv;
    }

    if (ctx.no_cacheable) {
        var->flags |= SL_HTTP_VAR_NOCACHEABLE;
    }

    map->default_value = ctx.default_value;
    map->hostnames = ctx.hostnames;
    map->regex = ctx.regexes.elts;
    map->nregex = ctx.regexes.nelts;

    hinit.hash = NULL;
    hinit.pool = cf->pool;
    hinit.temp_pool = pool;
    hinit.max_size = mcf->hash_max_size;
    hinit.bucket_size = mcf->hash_bucket_size;
    hinit.name = "map_hash";

    if (sl_hash_combined_init(&hinit, &ctx.keys, &map->hash) != SL_OK) {
        sl_destroy_pool(pool);
        return SL_CONF_ERROR;
    }

    sl_destroy_pool(pool);

    return SL_CONF_OK;
}

/*
 * The compiled value for text, shared by every line of the map that gives
 * the same text (large maps repeat a handful of values). NULL on error.
 */
static sl_http_complex_value_t *
sl_http_map_value(sl_conf_t *cf, sl_http_map_conf_ctx_t *ctx, sl_str_t *text)
{
    sl_uint_t i, key;
    sl_array_t *bucket;
    sl_http_complex_value_t *cv, **cvp;
    sl_http_compile_complex_value_t ccv;

    key = sl_hash_key(text->data, text->len) % ctx->keys.hsize;
    bucket = &ctx->values_hash[key];

    if (bucket->elts == NULL) {
        if (sl_array_init(bucket, ctx->keys.temp_pool, 4, sizeof(sl_http_complex_value_t *))
            != SL_OK) {
            return NULL;
        }
    }

    cvp = bucket->elts;
    for (i = 0; i < bucket->nelts; i++) {
        if (sl_str_eq(&cvp[i]->value, text)) {
            return cvp[i];
        }
    }

    cv = sl_palloc(cf->pool, sizeof(sl_http_complex_value_t));
    if (cv == NULL) {
        return NULL;
    }

    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = text;
    ccv.complex_value = cv;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return NULL;
    }

    cvp = sl_array_push(bucket);
    if (cvp == NULL) {
        return NULL;
    }
    *cvp = cv;

    return cv;
}

/* One line of a map block: "SOURCE VALUE;", "default VALUE;", "hostnames;",
 * "volatile;" or "include FILE;". */
static char *
sl_http_map(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    sl_http_map_conf_ctx_t *ctx = conf;
    sl_int_t rc;
    sl_str_t *value, key;
    sl_http_map_regex_t *regex;
    sl_regex_compile_t rc_regex;
    sl_http_complex_value_t *cv;

    value = cf->args->elts;

    if (cf->args->nelts == 1 && sl_str_eq_lit(&value[0], "hostnames")) {
        ctx->hostnames = 1;
        return SL_CONF_OK;
    }

    if (cf->args->nelts == 1 && sl_str_eq_lit(&value[0], "volatile")) {
        ctx->no_cacheable = 1;
        return SL_CONF_OK;
    }

    if (cf->args->nelts != 2) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid number of the map parameters");
        return SL_CONF_ERROR;
    }

    if (sl_str_eq_lit(&value[0], "include")) {
        return sl_conf_include(cf, dummy, conf);
    }

    cv = sl_http_map_value(cf, ctx, &value[1]);
    if (cv == NULL) {
        return SL_CONF_ERROR;
    }

    if (sl_str_eq_lit(&value[0], "default")) {
        if (ctx->default_value) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "duplicate default map parameter");
            return SL_CONF_ERROR;
        }
        ctx->default_value = cv;
        return SL_CONF_OK;
    }

    key = value[0];

    if (key.len > 0 && key.data[0] == '~') {
        sl_memzero(&rc_regex, sizeof(sl_regex_compile_t));

        rc_regex.pattern.data = key.data + 1;
        rc_regex.pattern.len = key.len - 1;

        if (rc_regex.pattern.len > 0 && rc_regex.pattern.data[0] == '*') {
            rc_regex.pattern.data++;
            rc_regex.pattern.len--;
            rc_regex.options = SL_REGEX_CASELESS;
        }

        regex = sl_array_push(&ctx->regexes);
        if (regex == NULL) {
            return SL_CONF_ERROR;
        }

        regex->regex = sl_http_regex_compile(cf, &rc_regex);
        if (regex->regex == NULL) {
            return SL_CONF_ERROR;
        }
        regex->value = cv;

        return SL_CONF_OK;
    }

    /* "\~x", "\default", "\hostnames": a literal key that would be a keyword */
    if (key.len > 0 && key.data[0] == '\\') {
        key.data++;
        key.len--;
    }

    rc = sl_hash_add_key(&ctx->keys, &key, cv, ctx->hostnames ? SL_HASH_WILDCARD_KEY : 0);

    if (rc == SL_OK) {
        return SL_CONF_OK;
    }

    if (rc == SL_DECLINED) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid hostname or wildcard \"%V\"", &value[0]);
    } else if (rc == SL_BUSY) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "conflicting parameter \"%V\"", &value[0]);
    }

    return SL_CONF_ERROR;
}
