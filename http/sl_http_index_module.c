/*
 * sl_http_index_module.c: the "index" directive. For a URI ending in '/'
 * it tries each index file in order under root/alias and redirects
 * internally to URI + the first one that exists; an index starting with '/'
 * is a URI and is redirected to without a test (nginx: only the last one
 * should be). When none exists it declines and the core answers 403
 * "directory index of ... is forbidden"; when the directory itself is
 * missing the answer is 404, logged as nginx does:
 * "PATH/index.html" is not found (2: No such file or directory).
 */
#include "sl_core.h"
#include "sl_http.h"

#define SL_HTTP_DEFAULT_INDEX "index.html"

typedef struct {
    sl_str_t name;               /* the text as written (the value when constant) */
    sl_http_complex_value_t *cv; /* NULL when constant */
} sl_http_index_t;

typedef struct {
    sl_array_t *indices; /* sl_http_index_t; NULL until set */
    size_t max_index_len;
} sl_http_index_loc_conf_t;

static sl_int_t sl_http_index_handler(sl_http_request_t *r);
static void *sl_http_index_create_loc_conf(sl_conf_t *cf);
static char *sl_http_index_merge_loc_conf(sl_conf_t *cf, void *parent, void *child);
static sl_int_t sl_http_index_init(sl_conf_t *cf);
static char *sl_http_index_set_index(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_command_t sl_http_index_commands[] = {
    { sl_string("index"), SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_1MORE,
      sl_http_index_set_index, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_index_module_ctx = {
    NULL, sl_http_index_init,
    NULL, NULL,
    NULL, NULL,
    sl_http_index_create_loc_conf, sl_http_index_merge_loc_conf
};

sl_module_t sl_http_index_module = {
    SL_MODULE_V1, "sl_http_index_module", SL_HTTP_MODULE, &sl_http_index_module_ctx,
    sl_http_index_commands, NULL, NULL, NULL, NULL
};

/* The answer for a failed look-up: 403 for EACCES, else 404 (logged when log_not_found). */
static sl_int_t
sl_http_index_error(sl_http_request_t *r, sl_http_core_loc_conf_t *clcf, u_char *file,
                    sl_err_t err)
{
    if (err == EACCES) {
        sl_log_error(SL_LOG_ERR, r->connection->log, err, "\"%s\" is forbidden", file);
        return SL_HTTP_FORBIDDEN;
    }

    if (clcf->log_not_found) {
        sl_log_error(SL_LOG_ERR, r->connection->log, err, "\"%s\" is not found", file);
    }
    return SL_HTTP_NOT_FOUND;
}

/*
 * Checks that the directory holding the index files exists, once an index
 * file was missing: path is the full file name, name where the index part
 * starts. SL_OK, or the status to answer.
 */
static sl_int_t
sl_http_index_test_dir(sl_http_request_t *r, sl_http_core_loc_conf_t *clcf, u_char *path,
                       u_char *name)
{
    u_char c;
    sl_err_t err;
    struct stat st;

    /* stat "DIR/" (the trailing slash makes a file fail with ENOTDIR) */
    c = *name;
    *name = '\0';

    if (stat((const char *) path, &st) == -1) {
        err = sl_errno;
        *name = c;

        if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) {
            return sl_http_index_error(r, clcf, path, err);
        }

        if (err == EACCES) {
            /* the index file's own test passed the search permission */
            return SL_OK;
        }

        sl_log_error(SL_LOG_CRIT, r->connection->log, err, "stat() \"%s\" failed", path);
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    *name = c;

    if (S_ISDIR(st.st_mode)) {
        return SL_OK;
    }

    sl_log_error(SL_LOG_ALERT, r->connection->log, 0, "\"%s\" is not a directory", path);
    return SL_HTTP_INTERNAL_SERVER_ERROR;
}

static sl_int_t
sl_http_index_handler(sl_http_request_t *r)
{
    u_char *name, *p;
    size_t root, reserve, allocated;
    sl_int_t rc;
    sl_err_t err;
    sl_str_t path, uri, value;
    sl_uint_t i, dir_tested;
    struct stat st;
    sl_http_index_t *index;
    sl_http_core_loc_conf_t *clcf;
    sl_http_index_loc_conf_t *ilcf;

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return SL_DECLINED;
    }

    if (!(r->method & (SL_HTTP_GET | SL_HTTP_HEAD | SL_HTTP_POST))) {
        return SL_DECLINED;
    }

    ilcf = sl_http_get_module_loc_conf(r, sl_http_index_module);
    if (ilcf->indices == NULL) {
        return SL_DECLINED;
    }
    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    allocated = 0;
    root = 0;
    dir_tested = 0;
    name = NULL;
    path.data = NULL;
    path.len = 0;

    index = ilcf->indices->elts;

    for (i = 0; i < ilcf->indices->nelts; i++) {

        if (index[i].cv == NULL) {
            value = index[i].name;
        } else if (sl_http_complex_value(r, index[i].cv, &value) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (value.len == 0) {
            continue;
        }

        if (value.data[0] == '/') {
            return sl_http_internal_redirect(r, &value, &r->args);
        }

        if (memchr(value.data, '\0', value.len) != NULL) {
            continue;
        }

        reserve = sl_max(value.len, ilcf->max_index_len);

        if (reserve > allocated) {
            name = sl_http_map_uri_to_path(r, &path, &root, reserve);
            if (name == NULL) {
                return SL_HTTP_INTERNAL_SERVER_ERROR;
            }
            allocated = reserve;
        }

        p = sl_cpymem(name, value.data, value.len);
        *p = '\0';

        if (stat((const char *) path.data, &st) == -1) {
            err = sl_errno;

            if (err == ENOTDIR || err == ENAMETOOLONG || err == EACCES) {
                return sl_http_index_error(r, clcf, path.data, err);
            }

            if (!dir_tested) {
                rc = sl_http_index_test_dir(r, clcf, path.data, name);
                if (rc != SL_OK) {
                    return rc;
                }
                dir_tested = 1;
            }

            if (err == ENOENT) {
                continue;
            }

            sl_log_error(SL_LOG_CRIT, r->connection->log, err, "stat() \"%s\" failed",
                         path.data);
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }

        uri.len = r->uri.len + value.len;
        uri.data = sl_pnalloc(r->pool, uri.len);
        if (uri.data == NULL) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
        p = sl_cpymem(uri.data, r->uri.data, r->uri.len);
        sl_memcpy(p, value.data, value.len);

        return sl_http_internal_redirect(r, &uri, &r->args);
    }

    return SL_DECLINED;
}

static void *
sl_http_index_create_loc_conf(sl_conf_t *cf)
{
    sl_http_index_loc_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_index_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }
    conf->indices = NULL;
    conf->max_index_len = 0;
    return conf;
}

static char *
sl_http_index_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_index_loc_conf_t *prev = parent;
    sl_http_index_loc_conf_t *conf = child;
    sl_http_index_t *index;

    if (conf->indices == NULL) {
        conf->indices = prev->indices;
        conf->max_index_len = prev->max_index_len;
    }

    if (conf->indices == NULL) {
        conf->indices = sl_array_create(cf->pool, 1, sizeof(sl_http_index_t));
        if (conf->indices == NULL) {
            return SL_CONF_ERROR;
        }
        index = sl_array_push(conf->indices);
        if (index == NULL) {
            return SL_CONF_ERROR;
        }
        sl_str_set(&index->name, SL_HTTP_DEFAULT_INDEX);
        index->cv = NULL;
        conf->max_index_len = sizeof(SL_HTTP_DEFAULT_INDEX) - 1;
    }

    return SL_CONF_OK;
}

/* index FILE ...; repeated directives at one level add to the list. */
static char *
sl_http_index_set_index(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_index_loc_conf_t *ilcf = conf;
    sl_str_t *value;
    sl_uint_t i;
    sl_http_index_t *index;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    if (ilcf->indices == NULL) {
        ilcf->indices = sl_array_create(cf->pool, 2, sizeof(sl_http_index_t));
        if (ilcf->indices == NULL) {
            return SL_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "index \"%V\" in \"index\" directive is invalid",
                              &value[1]);
            return SL_CONF_ERROR;
        }

        if (value[i].data[0] == '/' && i != cf->args->nelts - 1) {
            sl_conf_log_error(SL_LOG_WARN, cf, 0,
                              "only the last index in \"index\" directive should be absolute");
        }

        index = sl_array_push(ilcf->indices);
        if (index == NULL) {
            return SL_CONF_ERROR;
        }
        index->name = value[i];
        index->cv = NULL;

        if (sl_http_script_variables_count(&value[i]) == 0) {
            if (ilcf->max_index_len < value[i].len) {
                ilcf->max_index_len = value[i].len;
            }
            continue;
        }

        index->cv = sl_pcalloc(cf->pool, sizeof(sl_http_complex_value_t));
        if (index->cv == NULL) {
            return SL_CONF_ERROR;
        }

        sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = index->cv;

        if (sl_http_compile_complex_value(&ccv) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    return SL_CONF_OK;
}

static sl_int_t
sl_http_index_init(sl_conf_t *cf)
{
    sl_http_handler_pt *h;

    h = sl_http_add_phase_handler(cf, SL_HTTP_CONTENT_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }
    *h = sl_http_index_handler;
    return SL_OK;
}
