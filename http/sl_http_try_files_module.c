/*
 * sl_http_try_files_module.c: "try_files file ... uri;" and
 * "try_files file ... =code;" in server and location, as nginx runs them in
 * the precontent phase. Each file argument (variables allowed) is looked up
 * under root/alias; one ending in '/' must be a directory, the others must
 * not be. The first that exists becomes r->uri and the request goes on to
 * the content phase in the same location. When none does, the last argument
 * decides: "=code" answers code, "@name" goes to a named location, anything
 * else is an internal redirect (with the arguments after a '?', none when
 * there is no '?').
 *
 * As in nginx, the directive is not inherited: a server-level try_files
 * applies to requests that match no location. One difference: with alias,
 * nginx also strips the location prefix from the fallback URI; here the
 * fallback is used as written.
 */
#include "sl_core.h"
#include "sl_http.h"

typedef struct {
    sl_http_complex_value_t value;
    unsigned test_dir : 1;
} sl_http_try_file_t;

typedef struct {
    sl_http_try_file_t *files; /* the file arguments, then the fallback; NULL when unset */
    sl_uint_t nfiles;          /* file arguments, without the fallback */
    sl_int_t code;             /* the fallback's "=code", 0 when it is a URI */
} sl_http_try_files_loc_conf_t;

static sl_int_t sl_http_try_files_handler(sl_http_request_t *r);
static void *sl_http_try_files_create_loc_conf(sl_conf_t *cf);
static sl_int_t sl_http_try_files_init(sl_conf_t *cf);
static char *sl_http_try_files(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_command_t sl_http_try_files_commands[] = {
    { sl_string("try_files"), SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_2MORE,
      sl_http_try_files, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_try_files_module_ctx = {
    NULL, sl_http_try_files_init,
    NULL, NULL,
    NULL, NULL,
    sl_http_try_files_create_loc_conf, NULL
};

sl_module_t sl_http_try_files_module = {
    SL_MODULE_V1, "sl_http_try_files_module", SL_HTTP_MODULE, &sl_http_try_files_module_ctx,
    sl_http_try_files_commands, NULL, NULL, NULL, NULL
};

/* Sets r->exten from the last path segment of r->uri. */
static void
sl_http_try_files_set_exten(sl_http_request_t *r)
{
    size_t i;

    sl_str_null(&r->exten);

    for (i = r->uri.len; i > 0; i--) {
        if (r->uri.data[i - 1] == '/') {
            return;
        }
        if (r->uri.data[i - 1] == '.') {
            r->exten.data = &r->uri.data[i];
            r->exten.len = r->uri.len - i;
            return;
        }
    }
}

/* Goes to the fallback: a named location, or an internal redirect. */
static sl_int_t
sl_http_try_files_fallback(sl_http_request_t *r, sl_str_t *target)
{
    u_char *q;
    sl_str_t uri, args;

    if (target->len == 0) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "empty URI in \"try_files\" directive");
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (target->data[0] == '@') {
        /* both calls take a reference on the request, released here */
        (void) sl_http_named_location(r, target);
        sl_http_finalize_request(r, SL_DONE);
        return SL_DONE;
    }

    uri = *target;
    sl_str_null(&args);

    q = memchr(uri.data, '?', uri.len);
    if (q != NULL) {
        args.data = q + 1;
        args.len = uri.data + uri.len - args.data;
        uri.len = q - uri.data;
    }

    (void) sl_http_internal_redirect(r, &uri, &args);
    sl_http_finalize_request(r, SL_DONE);
    return SL_DONE;
}

static sl_int_t
sl_http_try_files_handler(sl_http_request_t *r)
{
    u_char *name, *p;
    size_t root, alias;
    sl_err_t err;
    sl_str_t path, value, rest;
    sl_uint_t i;
    struct stat st;
    sl_http_try_file_t *tf;
    sl_http_core_loc_conf_t *clcf;
    sl_http_try_files_loc_conf_t *tlcf;

    tlcf = sl_http_get_module_loc_conf(r, sl_http_try_files_module);
    if (tlcf->files == NULL) {
        return SL_DECLINED;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    alias = clcf->alias;
    tf = tlcf->files;

    for (i = 0; i < tlcf->nfiles; i++) {

        if (sl_http_complex_value(r, &tf[i].value, &value) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (value.len && memchr(value.data, '\0', value.len) != NULL) {
            continue;
        }

        /* with alias the location prefix of the name is what alias replaces */
        rest = value;
        if (alias && rest.len >= alias && r->uri.len >= alias
            && sl_memcmp(rest.data, r->uri.data, alias) == 0) {
            rest.data += alias;
            rest.len -= alias;
        }

        name = sl_http_map_uri_to_path(r, &path, &root, rest.len);
        if (name == NULL) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

        name = path.data + root;
        p = sl_cpymem(name, rest.data, rest.len);
        *p = '\0';

        if (stat((const char *) path.data, &st) == -1) {
            err = sl_errno;
            if (err != ENOENT && err != ENOTDIR && err != ENAMETOOLONG) {
                sl_log_error(SL_LOG_CRIT, r->connection->log, err, "stat() \"%s\" failed",
                             path.data);
            }
            continue;
        }

        if ((S_ISDIR(st.st_mode) ? 1u : 0u) != tf[i].test_dir) {
            continue;
        }

        if (!alias) {
            r->uri.data = name;
            r->uri.len = rest.len;

        } else {
            r->uri.len = clcf->name.len + rest.len;
            r->uri.data = sl_pnalloc(r->pool, r->uri.len);
            if (r->uri.data == NULL) {
                return SL_HTTP_INTERNAL_SERVER_ERROR;
            }
            p = sl_cpymem(r->uri.data, clcf->name.data, clcf->name.len);
            sl_memcpy(p, rest.data, rest.len);
        }

        sl_http_try_files_set_exten(r);
        return SL_DECLINED;
    }

    if (tlcf->code) {
        return tlcf->code;
    }

    if (sl_http_complex_value(r, &tf[tlcf->nfiles].value, &value) != SL_OK) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    return sl_http_try_files_fallback(r, &value);
}

static void *
sl_http_try_files_create_loc_conf(sl_conf_t *cf)
{
    sl_http_try_files_loc_conf_t *tlcf;

    tlcf = sl_pcalloc(cf->pool, sizeof(sl_http_try_files_loc_conf_t));
    if (tlcf == NULL) {
        return NULL;
    }
    tlcf->files = NULL;
    tlcf->nfiles = 0;
    tlcf->code = 0;
    return tlcf;
}

/* try_files FILE ... URI | =CODE | @NAME */
static char *
sl_http_try_files(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_try_files_loc_conf_t *tlcf = conf;
    sl_int_t code;
    sl_str_t *value, name;
    sl_uint_t i, n;
    sl_http_try_file_t *tf;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    if (tlcf->files) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = cf->args->nelts - 1;

    tf = sl_pcalloc(cf->pool, n * sizeof(sl_http_try_file_t));
    if (tf == NULL) {
        return SL_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        name = value[i + 1];

        if (i + 1 < n && name.len > 0 && name.data[name.len - 1] == '/') {
            tf[i].test_dir = 1;
            name.len--;
        }

        sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &name;
        ccv.complex_value = &tf[i].value;

        if (sl_http_compile_complex_value(&ccv) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    name = value[n];
    code = 0;

    if (name.len > 0 && name.data[0] == '=') {
        code = (name.len > 1) ? sl_atoi(name.data + 1, name.len - 1) : SL_ERROR;
        if (code == SL_ERROR || code > 999) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid code \"%V\"", &name);
            return SL_CONF_ERROR;
        }
    }

    tlcf->files = tf;
    tlcf->nfiles = n - 1;
    tlcf->code = code;
    return SL_CONF_OK;
}

static sl_int_t
sl_http_try_files_init(sl_conf_t *cf)
{
    sl_http_handler_pt *h;

    h = sl_http_add_phase_handler(cf, SL_HTTP_PRECONTENT_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }
    *h = sl_http_try_files_handler;
    return SL_OK;
}
