/*
 * sl_http_core_module.c: the HTTP engine's own directives (server,
 * location, listen, server_name, root, alias, types, timeouts, buffer
 * sizes, error_page, ...): parsing, merging, and the location tree they
 * build. The phase checkers that drive a request through the phases, with
 * the location lookup, are sl_http_core_phases.c.
 */
#include "sl_core.h"
#include "sl_http.h"

static sl_int_t sl_http_core_preconfiguration(sl_conf_t *cf);
static void *sl_http_core_create_main_conf(sl_conf_t *cf);
static char *sl_http_core_init_main_conf(sl_conf_t *cf, void *conf);
static void *sl_http_core_create_srv_conf(sl_conf_t *cf);
static char *sl_http_core_merge_srv_conf(sl_conf_t *cf, void *parent, void *child);
static void *sl_http_core_create_loc_conf(sl_conf_t *cf);
static char *sl_http_core_merge_loc_conf(sl_conf_t *cf, void *parent, void *child);

static char *sl_http_core_server(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_location(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_listen(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_server_name(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_root(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_types(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_type(sl_conf_t *cf, sl_command_t *dummy, void *conf);
static char *sl_http_core_keepalive(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_internal(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_error_page(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_error_log(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_core_large_buffers(sl_conf_t *cf, sl_command_t *cmd, void *conf);

static sl_conf_enum_t sl_http_core_lingering_close[] = {
    { sl_string("off"), SL_HTTP_LINGERING_OFF },
    { sl_string("on"), SL_HTTP_LINGERING_ON },
    { sl_string("always"), SL_HTTP_LINGERING_ALWAYS },
    { sl_null_string, 0 }
};

static sl_conf_enum_t sl_http_core_if_modified_since[] = {
    { sl_string("off"), SL_HTTP_IMS_OFF },
    { sl_string("exact"), SL_HTTP_IMS_EXACT },
    { sl_string("before"), SL_HTTP_IMS_BEFORE },
    { sl_null_string, 0 }
};

static sl_conf_bounds_t sl_http_core_pool_size_bounds = { SL_MIN_POOL_SIZE, 1024 * 1024 };
static sl_conf_bounds_t sl_http_core_header_buffer_bounds = { 64, 1024 * 1024 };

#define SL_HTTP_SRV (SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF)
#define SL_HTTP_LOC (SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF)
#define SL_HTTP_LOC_IF (SL_HTTP_LOC | SL_HTTP_LIF_CONF)

static sl_command_t sl_http_core_commands[] = {
    { sl_string("variables_hash_max_size"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE1,
      sl_conf_set_num_slot, SL_HTTP_MAIN_CONF_OFFSET,
      offsetof(sl_http_core_main_conf_t, variables_hash_max_size), NULL },
    { sl_string("variables_hash_bucket_size"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE1,
      sl_conf_set_num_slot, SL_HTTP_MAIN_CONF_OFFSET,
      offsetof(sl_http_core_main_conf_t, variables_hash_bucket_size), NULL },
    { sl_string("server_names_hash_max_size"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE1,
      sl_conf_set_num_slot, SL_HTTP_MAIN_CONF_OFFSET,
      offsetof(sl_http_core_main_conf_t, server_names_hash_max_size), NULL },
    { sl_string("server_names_hash_bucket_size"), SL_HTTP_MAIN_CONF | SL_CONF_TAKE1,
      sl_conf_set_num_slot, SL_HTTP_MAIN_CONF_OFFSET,
      offsetof(sl_http_core_main_conf_t, server_names_hash_bucket_size), NULL },

    { sl_string("server"), SL_HTTP_MAIN_CONF | SL_CONF_BLOCK | SL_CONF_NOARGS,
      sl_http_core_server, 0, 0, NULL },
    { sl_string("connection_pool_size"), SL_HTTP_SRV | SL_CONF_TAKE1, sl_conf_set_size_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_core_srv_conf_t, connection_pool_size),
      &sl_http_core_pool_size_bounds },
    { sl_string("request_pool_size"), SL_HTTP_SRV | SL_CONF_TAKE1, sl_conf_set_size_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_core_srv_conf_t, request_pool_size),
      &sl_http_core_pool_size_bounds },
    { sl_string("client_header_timeout"), SL_HTTP_SRV | SL_CONF_TAKE1, sl_conf_set_msec_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_core_srv_conf_t, client_header_timeout), NULL },
    { sl_string("client_header_buffer_size"), SL_HTTP_SRV | SL_CONF_TAKE1,
      sl_conf_set_size_slot, SL_HTTP_SRV_CONF_OFFSET,
      offsetof(sl_http_core_srv_conf_t, client_header_buffer_size),
      &sl_http_core_header_buffer_bounds },
    { sl_string("large_client_header_buffers"), SL_HTTP_SRV | SL_CONF_TAKE2,
      sl_http_core_large_buffers, SL_HTTP_SRV_CONF_OFFSET,
      offsetof(sl_http_core_srv_conf_t, large_client_header_buffers), NULL },
    { sl_string("ignore_invalid_headers"), SL_HTTP_SRV | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_core_srv_conf_t, ignore_invalid_headers), NULL },
    { sl_string("merge_slashes"), SL_HTTP_SRV | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_core_srv_conf_t, merge_slashes), NULL },
    { sl_string("underscores_in_headers"), SL_HTTP_SRV | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_SRV_CONF_OFFSET, offsetof(sl_http_core_srv_conf_t, underscores_in_headers), NULL },

    { sl_string("location"), SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_BLOCK | SL_CONF_TAKE12,
      sl_http_core_location, SL_HTTP_SRV_CONF_OFFSET, 0, NULL },
    { sl_string("listen"), SL_HTTP_SRV_CONF | SL_CONF_1MORE, sl_http_core_listen,
      SL_HTTP_SRV_CONF_OFFSET, 0, NULL },
    { sl_string("server_name"), SL_HTTP_SRV_CONF | SL_CONF_1MORE, sl_http_core_server_name,
      SL_HTTP_SRV_CONF_OFFSET, 0, NULL },

    { sl_string("types"), SL_HTTP_LOC | SL_CONF_BLOCK | SL_CONF_NOARGS, sl_http_core_types,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("default_type"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_str_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, default_type), NULL },
    { sl_string("root"), SL_HTTP_LOC_IF | SL_CONF_TAKE1, sl_http_core_root,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("alias"), SL_HTTP_LOC_CONF | SL_CONF_TAKE1, sl_http_core_root,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("internal"), SL_HTTP_LOC_CONF | SL_CONF_NOARGS, sl_http_core_internal,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("client_max_body_size"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_off_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, client_max_body_size), NULL },
    { sl_string("client_body_buffer_size"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_size_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, client_body_buffer_size),
      NULL },
    { sl_string("client_body_timeout"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, client_body_timeout), NULL },
    { sl_string("client_body_temp_path"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_str_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, client_body_temp_path), NULL },
    { sl_string("sendfile"), SL_HTTP_LOC_IF | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, sendfile), NULL },
    { sl_string("tcp_nodelay"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, tcp_nodelay), NULL },
    { sl_string("send_timeout"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, send_timeout), NULL },
    { sl_string("keepalive_timeout"), SL_HTTP_LOC | SL_CONF_TAKE12, sl_http_core_keepalive,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("keepalive_requests"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_num_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, keepalive_requests), NULL },
    { sl_string("lingering_close"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_enum_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, lingering_close),
      &sl_http_core_lingering_close },
    { sl_string("lingering_time"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, lingering_time), NULL },
    { sl_string("lingering_timeout"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_msec_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, lingering_timeout), NULL },
    { sl_string("absolute_redirect"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, absolute_redirect), NULL },
    { sl_string("server_name_in_redirect"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, server_name_in_redirect),
      NULL },
    { sl_string("port_in_redirect"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, port_in_redirect), NULL },
    { sl_string("log_not_found"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, log_not_found), NULL },
    { sl_string("recursive_error_pages"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, recursive_error_pages), NULL },
    { sl_string("server_tokens"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, server_tokens), NULL },
    { sl_string("chunked_transfer_encoding"), SL_HTTP_LOC | SL_CONF_FLAG,
      sl_conf_set_flag_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_core_loc_conf_t, chunked_transfer_encoding), NULL },
    { sl_string("etag"), SL_HTTP_LOC | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, etag), NULL },
    { sl_string("if_modified_since"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_enum_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, if_modified_since),
      &sl_http_core_if_modified_since },
    { sl_string("max_ranges"), SL_HTTP_LOC | SL_CONF_TAKE1, sl_conf_set_num_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_core_loc_conf_t, max_ranges), NULL },
    { sl_string("error_page"), SL_HTTP_LOC_IF | SL_CONF_2MORE, sl_http_core_error_page,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("error_log"), SL_HTTP_LOC | SL_CONF_1MORE, sl_http_core_error_log,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_core_module_ctx = {
    sl_http_core_preconfiguration, NULL,
    sl_http_core_create_main_conf, sl_http_core_init_main_conf,
    sl_http_core_create_srv_conf, sl_http_core_merge_srv_conf,
    sl_http_core_create_loc_conf, sl_http_core_merge_loc_conf
};

sl_module_t sl_http_core_module = {
    SL_MODULE_V1, "sl_http_core_module", SL_HTTP_MODULE, &sl_http_core_module_ctx,
    sl_http_core_commands, NULL, NULL, NULL, NULL
};

/* Configuration ------------------------------------------------------------ */

static sl_int_t
sl_http_core_preconfiguration(sl_conf_t *cf)
{
    return sl_http_variables_add_core_vars(cf);
}

static void *
sl_http_core_create_main_conf(sl_conf_t *cf)
{
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_pcalloc(cf->pool, sizeof(sl_http_core_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }
    if (sl_array_init(&cmcf->servers, cf->pool, 4, sizeof(sl_http_core_srv_conf_t *))
        != SL_OK) {
        return NULL;
    }
    cmcf->server_names_hash_max_size = SL_CONF_UNSET_UINT;
    cmcf->server_names_hash_bucket_size = SL_CONF_UNSET_UINT;
    cmcf->variables_hash_max_size = SL_CONF_UNSET_UINT;
    cmcf->variables_hash_bucket_size = SL_CONF_UNSET_UINT;
    return cmcf;
}

static char *
sl_http_core_init_main_conf(sl_conf_t *cf, void *conf)
{
    sl_http_core_main_conf_t *cmcf = conf;

    sl_unused(cf);
    sl_conf_init_uint_value(cmcf->server_names_hash_max_size, 512);
    sl_conf_init_uint_value(cmcf->server_names_hash_bucket_size, 64);
    sl_conf_init_uint_value(cmcf->variables_hash_max_size, 1024);
    sl_conf_init_uint_value(cmcf->variables_hash_bucket_size, 64);
    cmcf->server_names_hash_bucket_size = sl_align(cmcf->server_names_hash_bucket_size, 64);
    cmcf->variables_hash_bucket_size = sl_align(cmcf->variables_hash_bucket_size, 64);
    if (cmcf->ncaptures) {
        cmcf->ncaptures = (cmcf->ncaptures + 1) * 3;
    }
    return SL_CONF_OK;
}

static void *
sl_http_core_create_srv_conf(sl_conf_t *cf)
{
    sl_http_core_srv_conf_t *cscf;

    cscf = sl_pcalloc(cf->pool, sizeof(sl_http_core_srv_conf_t));
    if (cscf == NULL) {
        return NULL;
    }
    if (sl_array_init(&cscf->server_names, cf->temp_pool, 4, sizeof(sl_http_server_name_t))
        != SL_OK) {
        return NULL;
    }
    cscf->connection_pool_size = SL_CONF_UNSET_SIZE;
    cscf->request_pool_size = SL_CONF_UNSET_SIZE;
    cscf->client_header_timeout = SL_CONF_UNSET_MSEC;
    cscf->client_header_buffer_size = SL_CONF_UNSET_SIZE;
    cscf->ignore_invalid_headers = SL_CONF_UNSET;
    cscf->merge_slashes = SL_CONF_UNSET;
    cscf->underscores_in_headers = SL_CONF_UNSET;
    cscf->file_name = cf->conf_file ? cf->conf_file->name.data : NULL;
    cscf->line = cf->conf_file ? cf->conf_file->line : 0;
    return cscf;
}

static char *
sl_http_core_merge_srv_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_core_srv_conf_t *prev = parent;
    sl_http_core_srv_conf_t *conf = child;
    sl_http_server_name_t *sn;

    sl_conf_merge_size_value(conf->connection_pool_size, prev->connection_pool_size, 256);
    sl_conf_merge_size_value(conf->request_pool_size, prev->request_pool_size, 4096);
    sl_conf_merge_msec_value(conf->client_header_timeout, prev->client_header_timeout, 60000);
    sl_conf_merge_size_value(conf->client_header_buffer_size, prev->client_header_buffer_size,
                             1024);
    if (conf->large_client_header_buffers.num == 0) {
        if (prev->large_client_header_buffers.num) {
            conf->large_client_header_buffers = prev->large_client_header_buffers;
        } else {
            conf->large_client_header_buffers.num = 4;
            conf->large_client_header_buffers.size = 8192;
        }
    }
    if (conf->large_client_header_buffers.size < conf->connection_pool_size) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "the \"large_client_header_buffers\" size must be equal to or greater "
                          "than \"connection_pool_size\"");
        return SL_CONF_ERROR;
    }
    sl_conf_merge_value(conf->ignore_invalid_headers, prev->ignore_invalid_headers, 1);
    sl_conf_merge_value(conf->merge_slashes, prev->merge_slashes, 1);
    sl_conf_merge_value(conf->underscores_in_headers, prev->underscores_in_headers, 0);

    if (conf->server_names.nelts == 0) {
        /* the server answers requests with an empty or unmatched Host by default */
        sn = sl_array_push(&conf->server_names);
        if (sn == NULL) {
            return SL_CONF_ERROR;
        }
        sn->regex = NULL;
        sn->server = conf;
        sl_str_set(&sn->name, "");
    }

    sn = conf->server_names.elts;
    conf->server_name = sn[0].name;

    return SL_CONF_OK;
}

static void *
sl_http_core_create_loc_conf(sl_conf_t *cf)
{
    sl_http_core_loc_conf_t *clcf;

    clcf = sl_pcalloc(cf->pool, sizeof(sl_http_core_loc_conf_t));
    if (clcf == NULL) {
        return NULL;
    }

    clcf->client_max_body_size = SL_CONF_UNSET;
    clcf->client_body_buffer_size = SL_CONF_UNSET_SIZE;
    clcf->client_body_timeout = SL_CONF_UNSET_MSEC;
    clcf->send_timeout = SL_CONF_UNSET_MSEC;
    clcf->keepalive_timeout = SL_CONF_UNSET_MSEC;
    clcf->keepalive_header = SL_CONF_UNSET;
    clcf->keepalive_requests = SL_CONF_UNSET_UINT;
    clcf->lingering_close = SL_CONF_UNSET_UINT;
    clcf->lingering_time = SL_CONF_UNSET_MSEC;
    clcf->lingering_timeout = SL_CONF_UNSET_MSEC;
    clcf->if_modified_since = SL_CONF_UNSET_UINT;
    clcf->max_ranges = SL_CONF_UNSET_UINT;
    clcf->internal_flag = SL_CONF_UNSET;
    clcf->sendfile = SL_CONF_UNSET;
    clcf->tcp_nodelay = SL_CONF_UNSET;
    clcf->absolute_redirect = SL_CONF_UNSET;
    clcf->server_name_in_redirect = SL_CONF_UNSET;
    clcf->port_in_redirect = SL_CONF_UNSET;
    clcf->log_not_found = SL_CONF_UNSET;
    clcf->recursive_error_pages = SL_CONF_UNSET;
    clcf->server_tokens = SL_CONF_UNSET;
    clcf->chunked_transfer_encoding = SL_CONF_UNSET;
    clcf->etag = SL_CONF_UNSET;
    clcf->error_pages = SL_CONF_UNSET_PTR;
    clcf->error_log = NULL;
    clcf->types = NULL;
    return clcf;
}

/* The types table a location uses when none was configured anywhere. */
static sl_str_t sl_http_core_text_html_type = sl_string("text/html");
static sl_str_t sl_http_core_image_gif_type = sl_string("image/gif");
static sl_str_t sl_http_core_image_jpeg_type = sl_string("image/jpeg");

static sl_hash_key_t sl_http_core_default_types[] = {
    { sl_string("html"), 0, &sl_http_core_text_html_type },
    { sl_string("gif"), 0, &sl_http_core_image_gif_type },
    { sl_string("jpg"), 0, &sl_http_core_image_jpeg_type },
    { sl_null_string, 0, NULL }
};

static char *
sl_http_core_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_uint_t i;
    sl_hash_key_t *type;
    sl_hash_init_t types_hash;
    sl_http_core_loc_conf_t *prev = parent;
    sl_http_core_loc_conf_t *conf = child;

    if (conf->root.data == NULL) {
        conf->alias = prev->alias;
        conf->root = prev->root;
        if (prev->root.data == NULL) {
            sl_str_set(&conf->root, "html");
            if (sl_conf_full_name(cf->cycle, &conf->root, 0) != SL_OK) {
                return SL_CONF_ERROR;
            }
        }
    }

    if (conf->types == NULL && conf->types_hash.size == 0) {
        if (prev->types == NULL && prev->types_hash.size == 0) {
            /* no types anywhere: build the small built-in table once at http level */
            prev->types = sl_array_create(cf->pool, 3, sizeof(sl_hash_key_t));
            if (prev->types == NULL) {
                return SL_CONF_ERROR;
            }
            for (i = 0; sl_http_core_default_types[i].key.len; i++) {
                type = sl_array_push(prev->types);
                if (type == NULL) {
                    return SL_CONF_ERROR;
                }
                *type = sl_http_core_default_types[i];
                type->key_hash = sl_hash_key(type->key.data, type->key.len);
            }
        }
        if (prev->types_hash.size == 0) {
            types_hash.hash = &prev->types_hash;
            types_hash.pool = cf->pool;
            types_hash.temp_pool = NULL;
            types_hash.max_size = 1024;
            types_hash.bucket_size = 64;
            types_hash.name = "types_hash";
            if (sl_hash_init(&types_hash, prev->types->elts, prev->types->nelts) != SL_OK) {
                return SL_CONF_ERROR;
            }
        }
        conf->types_hash = prev->types_hash;
    } else if (conf->types && conf->types_hash.size == 0) {
        types_hash.hash = &conf->types_hash;
        types_hash.pool = cf->pool;
        types_hash.temp_pool = NULL;
        types_hash.max_size = 1024;
        types_hash.bucket_size = 64;
        types_hash.name = "types_hash";
        if (sl_hash_init(&types_hash, conf->types->elts, conf->types->nelts) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    sl_conf_merge_str_value(conf->default_type, prev->default_type, "text/plain");
    sl_conf_merge_off_value(conf->client_max_body_size, prev->client_max_body_size, 1024 * 1024);
    sl_conf_merge_size_value(conf->client_body_buffer_size, prev->client_body_buffer_size,
                             16 * 1024);
    sl_conf_merge_msec_value(conf->client_body_timeout, prev->client_body_timeout, 60000);
    sl_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    sl_conf_merge_msec_value(conf->keepalive_timeout, prev->keepalive_timeout, 75000);
    sl_conf_merge_sec_value(conf->keepalive_header, prev->keepalive_header, 0);
    sl_conf_merge_uint_value(conf->keepalive_requests, prev->keepalive_requests, 1000);
    sl_conf_merge_uint_value(conf->lingering_close, prev->lingering_close, SL_HTTP_LINGERING_ON);
    sl_conf_merge_msec_value(conf->lingering_time, prev->lingering_time, 30000);
    sl_conf_merge_msec_value(conf->lingering_timeout, prev->lingering_timeout, 5000);
    sl_conf_merge_uint_value(conf->if_modified_since, prev->if_modified_since,
                             SL_HTTP_IMS_EXACT);
    sl_conf_merge_uint_value(conf->max_ranges, prev->max_ranges, SL_MAX_INT_T_VALUE);
    sl_conf_merge_value(conf->sendfile, prev->sendfile, 0);
    sl_conf_merge_value(conf->tcp_nodelay, prev->tcp_nodelay, 1);
    sl_conf_merge_value(conf->absolute_redirect, prev->absolute_redirect, 1);
    sl_conf_merge_value(conf->server_name_in_redirect, prev->server_name_in_redirect, 0);
    sl_conf_merge_value(conf->port_in_redirect, prev->port_in_redirect, 1);
    sl_conf_merge_value(conf->log_not_found, prev->log_not_found, 1);
    sl_conf_merge_value(conf->recursive_error_pages, prev->recursive_error_pages, 0);
    sl_conf_merge_value(conf->server_tokens, prev->server_tokens, 1);
    sl_conf_merge_value(conf->chunked_transfer_encoding, prev->chunked_transfer_encoding, 1);
    sl_conf_merge_value(conf->etag, prev->etag, 1);
    sl_conf_merge_ptr_value(conf->error_pages, prev->error_pages, NULL);
    sl_conf_merge_str_value(conf->client_body_temp_path, prev->client_body_temp_path,
                            SL_HTTP_CLIENT_TEMP_PATH);
    if (conf->error_log == NULL) {
        conf->error_log = prev->error_log;
    }

    return SL_CONF_OK;
}

/* server {} */
static char *
sl_http_core_server(sl_conf_t *cf, sl_command_t *cmd, void *dummy)
{
    char *rv;
    void *mconf;
    sl_uint_t m;
    sl_conf_t pcf;
    sl_http_module_t *module;
    sl_http_conf_ctx_t *ctx, *http_ctx;
    sl_http_core_srv_conf_t *cscf, **cscfp;
    sl_http_core_main_conf_t *cmcf;
    sl_http_listen_opt_t lsopt;

    sl_unused(cmd);
    sl_unused(dummy);

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }
    http_ctx = cf->ctx;
    ctx->main_conf = http_ctx->main_conf;
    ctx->srv_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    ctx->loc_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    if (ctx->srv_conf == NULL || ctx->loc_conf == NULL) {
        return SL_CONF_ERROR;
    }

    for (m = 0; cf->cycle->modules[m]; m++) {
        if (cf->cycle->modules[m]->type != SL_HTTP_MODULE) {
            continue;
        }
        module = cf->cycle->modules[m]->ctx;
        if (module->create_srv_conf) {
            mconf = module->create_srv_conf(cf);
            if (mconf == NULL) {
                return SL_CONF_ERROR;
            }
            ctx->srv_conf[cf->cycle->modules[m]->ctx_index] = mconf;
        }
        if (module->create_loc_conf) {
            mconf = module->create_loc_conf(cf);
            if (mconf == NULL) {
                return SL_CONF_ERROR;
            }
            ctx->loc_conf[cf->cycle->modules[m]->ctx_index] = mconf;
        }
    }

    cscf = ctx->srv_conf[sl_http_core_module.ctx_index];
    cscf->ctx = ctx;

    cmcf = ctx->main_conf[sl_http_core_module.ctx_index];
    cscfp = sl_array_push(&cmcf->servers);
    if (cscfp == NULL) {
        return SL_CONF_ERROR;
    }
    *cscfp = cscf;

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = SL_HTTP_SRV_CONF;
    rv = sl_conf_parse(cf, NULL);
    *cf = pcf;

    if (rv == SL_CONF_OK && !cscf->listen) {
        /* nginx's default: port 80 as root, 8000 otherwise */
        sl_memzero(&lsopt, sizeof(lsopt));
        lsopt.sockaddr.sin.sin_family = AF_INET;
        lsopt.sockaddr.sin.sin_port = htons(getuid() == 0 ? 80 : 8000);
        lsopt.sockaddr.sin.sin_addr.s_addr = INADDR_ANY;
        lsopt.socklen = sizeof(struct sockaddr_in);
        lsopt.backlog = 511;
        lsopt.rcvbuf = -1;
        lsopt.sndbuf = -1;
        lsopt.ipv6only = 1;
        if (getuid() == 0) {
            sl_str_set(&lsopt.addr_text, "*:80");
        } else {
            sl_str_set(&lsopt.addr_text, "*:8000");
        }
        if (sl_http_add_listen(cf, cscf, &lsopt) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    return rv;
}

/* location [=|~|~*|^~] uri { } and location @name { } */
static char *
sl_http_core_location(sl_conf_t *cf, sl_command_t *cmd, void *dummy)
{
    char *rv;
    u_char *mod;
    size_t len;
    sl_str_t *value, *name;
    sl_uint_t i;
    sl_conf_t save;
    sl_http_module_t *module;
    sl_http_conf_ctx_t *ctx, *pctx;
    sl_http_core_loc_conf_t *clcf, *pclcf;
    sl_regex_compile_t rc;

    sl_unused(cmd);
    sl_unused(dummy);

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }
    pctx = cf->ctx;
    ctx->main_conf = pctx->main_conf;
    ctx->srv_conf = pctx->srv_conf;
    ctx->loc_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    if (ctx->loc_conf == NULL) {
        return SL_CONF_ERROR;
    }

    for (i = 0; cf->cycle->modules[i]; i++) {
        if (cf->cycle->modules[i]->type != SL_HTTP_MODULE) {
            continue;
        }
        module = cf->cycle->modules[i]->ctx;
        if (module->create_loc_conf) {
            ctx->loc_conf[cf->cycle->modules[i]->ctx_index] = module->create_loc_conf(cf);
            if (ctx->loc_conf[cf->cycle->modules[i]->ctx_index] == NULL) {
                return SL_CONF_ERROR;
            }
        }
    }

    clcf = ctx->loc_conf[sl_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        len = value[1].len;
        mod = value[1].data;
        name = &value[2];

        if (len == 1 && mod[0] == '=') {
            clcf->name = *name;
            clcf->exact_match = 1;
        } else if (len == 2 && mod[0] == '^' && mod[1] == '~') {
            clcf->name = *name;
            clcf->noregex = 1;
        } else if ((len == 1 && mod[0] == '~') || (len == 2 && mod[0] == '~' && mod[1] == '*')) {
            sl_memzero(&rc, sizeof(rc));
            rc.pattern = *name;
            rc.pool = cf->pool;
            rc.options = len == 2 ? SL_REGEX_CASELESS : 0;
            clcf->regex = sl_http_regex_compile(cf, &rc);
            if (clcf->regex == NULL) {
                return SL_CONF_ERROR;
            }
            clcf->name = *name;
        } else {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid location modifier \"%V\"", &value[1]);
            return SL_CONF_ERROR;
        }

    } else {
        name = &value[1];

        if (name->len && name->data[0] == '=') {
            clcf->name.len = name->len - 1;
            clcf->name.data = name->data + 1;
            clcf->exact_match = 1;
        } else if (name->len > 1 && name->data[0] == '^' && name->data[1] == '~') {
            clcf->name.len = name->len - 2;
            clcf->name.data = name->data + 2;
            clcf->noregex = 1;
        } else if (name->len && name->data[0] == '~') {
            name->len--;
            name->data++;
            sl_memzero(&rc, sizeof(rc));
            if (name->len && name->data[0] == '*') {
                name->len--;
                name->data++;
                rc.options = SL_REGEX_CASELESS;
            }
            rc.pattern = *name;
            rc.pool = cf->pool;
            clcf->regex = sl_http_regex_compile(cf, &rc);
            if (clcf->regex == NULL) {
                return SL_CONF_ERROR;
            }
            clcf->name = *name;
        } else {
            clcf->name = *name;
            if (name->len && name->data[0] == '@') {
                clcf->named = 1;
            }
        }
    }

    if (!clcf->named && !clcf->regex && clcf->name.len == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "empty location name");
        return SL_CONF_ERROR;
    }

    pclcf = pctx->loc_conf[sl_http_core_module.ctx_index];

    if (cf->cmd_type == SL_HTTP_LOC_CONF) {
        /* nested location */
        if (pclcf->exact_match) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "location \"%V\" cannot be inside the exact location \"%V\"",
                              &clcf->name, &pclcf->name);
            return SL_CONF_ERROR;
        }
        if (pclcf->named) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "location \"%V\" cannot be inside the named location \"%V\"",
                              &clcf->name, &pclcf->name);
            return SL_CONF_ERROR;
        }
        if (clcf->named) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "named location \"%V\" can be on the server "
                              "level only", &clcf->name);
            return SL_CONF_ERROR;
        }
        if (!pclcf->regex && !clcf->regex
            && (clcf->name.len < pclcf->name.len
                || memcmp(clcf->name.data, pclcf->name.data, pclcf->name.len) != 0)) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "location \"%V\" is outside location \"%V\"",
                              &clcf->name, &pclcf->name);
            return SL_CONF_ERROR;
        }
    }

    if (sl_http_add_location(cf, &pclcf->locations, clcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = SL_HTTP_LOC_CONF;
    rv = sl_conf_parse(cf, NULL);
    *cf = save;

    return rv;
}

/* listen address[:port] [default_server] [reuseport] [backlog=N] ... */
static char *
sl_http_core_listen(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_srv_conf_t *cscf = conf;
    sl_str_t *value, size;
    sl_url_t u;
    sl_uint_t i;
    sl_int_t n;
    ssize_t sz;
    sl_http_listen_opt_t lsopt;

    sl_unused(cmd);

    cscf->listen = 1;
    value = cf->args->elts;

    /*
     * A unix listener needs its file removed on exit, passed on a binary
     * upgrade and kept apart from the port grouping; none of it is done yet.
     */
    if (value[1].len >= 5 && sl_strncasecmp(value[1].data, (u_char *) "unix:", 5) == 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "unix domain sockets in \"listen\" (\"%V\") are not supported by "
                          "this build of sluice yet",
                          &value[1]);
        return SL_CONF_ERROR;
    }

    sl_memzero(&u, sizeof(sl_url_t));
    u.url = value[1];
    u.listen = 1;
    u.default_port = 80;

    if (sl_parse_url(cf->pool, &u) != SL_OK) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s in \"%V\" of the \"listen\" directive",
                          u.err ? u.err : "invalid address", &u.url);
        return SL_CONF_ERROR;
    }

    sl_memzero(&lsopt, sizeof(lsopt));
    lsopt.backlog = 511;
    lsopt.rcvbuf = -1;
    lsopt.sndbuf = -1;
    lsopt.ipv6only = 1;

    for (i = 2; i < cf->args->nelts; i++) {
        if (sl_str_eq_lit(&value[i], "default_server") || sl_str_eq_lit(&value[i], "default")) {
            lsopt.default_server = 1;
            continue;
        }
        if (sl_str_eq_lit(&value[i], "bind")) {
            lsopt.set = 1;
            lsopt.bind = 1;
            continue;
        }
        if (sl_str_eq_lit(&value[i], "reuseport")) {
            lsopt.set = 1;
            lsopt.bind = 1;
            lsopt.reuseport = 1;
            continue;
        }
        if (sl_strncmp(value[i].data, "backlog=", 8) == 0) {
            n = sl_atoi(value[i].data + 8, value[i].len - 8);
            if (n == SL_ERROR || n == 0 || n > INT_MAX) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid backlog \"%V\"", &value[i]);
                return SL_CONF_ERROR;
            }
            lsopt.set = 1;
            lsopt.bind = 1;
            lsopt.backlog = (int) n;
            continue;
        }
        if (sl_strncmp(value[i].data, "rcvbuf=", 7) == 0
            || sl_strncmp(value[i].data, "sndbuf=", 7) == 0) {
            size.len = value[i].len - 7;
            size.data = value[i].data + 7;
            sz = sl_parse_size(&size);
            if (sz == SL_ERROR || sz == 0 || sz > INT_MAX) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid %*s \"%V\"", (size_t) 6,
                                  value[i].data, &value[i]);
                return SL_CONF_ERROR;
            }
            lsopt.set = 1;
            lsopt.bind = 1;
            if (value[i].data[0] == 'r') {
                lsopt.rcvbuf = (int) sz;
            } else {
                lsopt.sndbuf = (int) sz;
            }
            continue;
        }
        if (sl_str_eq_lit(&value[i], "ipv6only=on") || sl_str_eq_lit(&value[i], "ipv6only=off")) {
            lsopt.set = 1;
            lsopt.bind = 1;
            lsopt.ipv6only = value[i].data[10] == 'n';
            continue;
        }
        if (sl_str_eq_lit(&value[i], "deferred")) {
            lsopt.set = 1;
            lsopt.bind = 1;
            lsopt.deferred_accept = 1;
            continue;
        }
        if (sl_str_eq_lit(&value[i], "ssl") || sl_str_eq_lit(&value[i], "http2")
            || sl_str_eq_lit(&value[i], "proxy_protocol") || sl_str_eq_lit(&value[i], "quic")) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "the \"%V\" parameter of \"listen\" is not supported by this "
                              "build of sluice yet",
                              &value[i]);
            return SL_CONF_ERROR;
        }
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);
        return SL_CONF_ERROR;
    }

    for (i = 0; i < u.naddrs; i++) {
        u_char text[SL_SOCKADDR_TEXT_LEN];
        size_t len;

        /* inet only here: "unix:" was refused above */
        if (u.addr_lens[i] > sizeof(lsopt.sockaddr)) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unsupported listen address \"%V\"",
                              &value[1]);
            return SL_CONF_ERROR;
        }
        sl_memcpy(&lsopt.sockaddr, &u.addrs[i], u.addr_lens[i]);
        lsopt.socklen = u.addr_lens[i];
        len = sl_sock_ntop(&lsopt.sockaddr.sa, lsopt.socklen, text, sizeof(text), 1);
        lsopt.addr_text.data = sl_pnalloc(cf->pool, len);
        if (lsopt.addr_text.data == NULL) {
            return SL_CONF_ERROR;
        }
        sl_memcpy(lsopt.addr_text.data, text, len);
        lsopt.addr_text.len = len;

        if (sl_http_add_listen(cf, cscf, &lsopt) != SL_OK) {
            return SL_CONF_ERROR;
        }
    }

    return SL_CONF_OK;
}

static char *
sl_http_core_server_name(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_srv_conf_t *cscf = conf;
    u_char ch;
    sl_str_t *value;
    sl_uint_t i;
    sl_http_server_name_t *sn;
    sl_regex_compile_t rc;

    sl_unused(cmd);
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        ch = value[i].len ? value[i].data[0] : '\0';

        if ((ch == '*' && (value[i].len < 3 || value[i].data[1] != '.'))
            || (ch == '.' && value[i].len < 2)) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "server name \"%V\" is invalid", &value[i]);
            return SL_CONF_ERROR;
        }
        if (sl_strchr(value[i].data, '/') && ch != '~') {
            sl_conf_log_error(SL_LOG_WARN, cf, 0, "server name \"%V\" has suspicious symbols",
                              &value[i]);
        }

        sn = sl_array_push(&cscf->server_names);
        if (sn == NULL) {
            return SL_CONF_ERROR;
        }
        sn->regex = NULL;
        sn->server = cscf;

        if (sl_str_eq_lit(&value[i], "$hostname")) {
            sn->name = cf->cycle->hostname;
        } else {
            sn->name = value[i];
        }

        if (ch != '~') {
            sl_strlow(sn->name.data, sn->name.data, sn->name.len);
            continue;
        }

        if (value[i].len == 1) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "empty regex in server name \"%V\"",
                              &value[i]);
            return SL_CONF_ERROR;
        }

        sl_memzero(&rc, sizeof(rc));
        rc.pattern.len = value[i].len - 1;
        rc.pattern.data = value[i].data + 1;
        rc.pool = cf->pool;
        rc.options = SL_REGEX_CASELESS;
        sn->regex = sl_http_regex_compile(cf, &rc);
        if (sn->regex == NULL) {
            return SL_CONF_ERROR;
        }
        sn->name = value[i];
        cscf->captures = rc.captures > 0;
    }

    return SL_CONF_OK;
}

/* root PATH / alias PATH */
static char *
sl_http_core_root(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;
    sl_str_t *value;
    sl_uint_t alias;

    alias = cmd->name.len == sizeof("alias") - 1;
    value = cf->args->elts;

    if (clcf->root.data) {
        if ((clcf->alias != 0) == alias) {
            return "is duplicate";
        }
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "\"%V\" directive is duplicate, \"%s\" directive "
                          "was specified earlier",
                          &cmd->name, clcf->alias ? "alias" : "root");
        return SL_CONF_ERROR;
    }

    if (clcf->named && alias) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "the \"alias\" directive cannot be used inside "
                          "the named location");
        return SL_CONF_ERROR;
    }
    if (clcf->regex && alias) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "the \"alias\" directive inside a regex location "
                          "is not supported yet; use \"root\" or a prefix location");
        return SL_CONF_ERROR;
    }
    if (sl_strchr(value[1].data, '$')) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "variables in \"%V\" (\"%V\") are not supported "
                          "yet", &cmd->name, &value[1]);
        return SL_CONF_ERROR;
    }

    clcf->root = value[1];
    clcf->alias = alias ? clcf->name.len : 0;

    if (!alias && clcf->root.len > 0 && clcf->root.data[clcf->root.len - 1] == '/') {
        clcf->root.len--;
    }

    if (sl_conf_full_name(cf->cycle, &clcf->root, 0) != SL_OK) {
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}

static char *
sl_http_core_types(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;
    char *rv;
    sl_conf_t save;

    sl_unused(cmd);

    if (clcf->types == NULL) {
        clcf->types = sl_array_create(cf->pool, 64, sizeof(sl_hash_key_t));
        if (clcf->types == NULL) {
            return SL_CONF_ERROR;
        }
    }

    save = *cf;
    cf->handler = sl_http_core_type;
    cf->handler_conf = conf;
    rv = sl_conf_parse(cf, NULL);
    *cf = save;
    return rv;
}

/* One "type ext ext ...;" line inside types {}. */
static char *
sl_http_core_type(sl_conf_t *cf, sl_command_t *dummy, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;
    sl_str_t *value, *content_type, *old;
    sl_uint_t i, n, hash;
    sl_hash_key_t *type;

    sl_unused(dummy);
    value = cf->args->elts;

    if (cf->args->nelts < 2) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid number of arguments in type \"%V\"",
                          &value[0]);
        return SL_CONF_ERROR;
    }

    if (sl_str_eq_lit(&value[0], "include") && cf->args->nelts == 2) {
        return sl_conf_include(cf, dummy, conf);
    }

    content_type = sl_palloc(cf->pool, sizeof(sl_str_t));
    if (content_type == NULL) {
        return SL_CONF_ERROR;
    }
    *content_type = value[0];

    for (i = 1; i < cf->args->nelts; i++) {
        hash = sl_hash_strlow(value[i].data, value[i].data, value[i].len);

        type = clcf->types->elts;
        for (n = 0; n < clcf->types->nelts; n++) {
            if (sl_str_eq(&value[i], &type[n].key)) {
                old = type[n].value;
                type[n].value = content_type;
                sl_conf_log_error(SL_LOG_WARN, cf, 0,
                                  "duplicate extension \"%V\", content type: \"%V\", previous "
                                  "content type: \"%V\"",
                                  &value[i], content_type, old);
                goto next;
            }
        }

        type = sl_array_push(clcf->types);
        if (type == NULL) {
            return SL_CONF_ERROR;
        }
        type->key = value[i];
        type->key_hash = hash;
        type->value = content_type;
    next:
        continue;
    }

    return SL_CONF_OK;
}

/* keepalive_timeout TIMEOUT [HEADER_TIMEOUT] */
static char *
sl_http_core_keepalive(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;
    sl_str_t *value;
    sl_int_t t;

    sl_unused(cmd);

    if (clcf->keepalive_timeout != SL_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    t = sl_parse_time(&value[1], 0);
    if (t == SL_ERROR) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"keepalive_timeout\" "
                          "directive", &value[1]);
        return SL_CONF_ERROR;
    }
    clcf->keepalive_timeout = (sl_msec_t) t;

    if (cf->args->nelts == 3) {
        t = sl_parse_time(&value[2], 1);
        if (t == SL_ERROR) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"keepalive_timeout\" "
                              "directive", &value[2]);
            return SL_CONF_ERROR;
        }
        clcf->keepalive_header = (time_t) t;
    }

    return SL_CONF_OK;
}

static char *
sl_http_core_internal(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;

    sl_unused(cf);
    sl_unused(cmd);

    if (clcf->internal) {
        return "is duplicate";
    }
    clcf->internal = 1;
    return SL_CONF_OK;
}

/* large_client_header_buffers NUMBER SIZE */
static char *
sl_http_core_large_buffers(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_srv_conf_t *cscf = conf;
    sl_str_t *value;
    sl_int_t n;
    ssize_t size;

    sl_unused(cmd);

    if (cscf->large_client_header_buffers.num) {
        return "is duplicate";
    }
    value = cf->args->elts;

    n = sl_atoi(value[1].data, value[1].len);
    if (n == SL_ERROR || n == 0 || n > 1024) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in "
                          "\"large_client_header_buffers\" directive", &value[1]);
        return SL_CONF_ERROR;
    }
    size = sl_parse_size(&value[2]);
    if (size == SL_ERROR || size < 64 || size > 16 * 1024 * 1024) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in "
                          "\"large_client_header_buffers\" directive", &value[2]);
        return SL_CONF_ERROR;
    }

    cscf->large_client_header_buffers.num = n;
    cscf->large_client_header_buffers.size = (size_t) size;
    return SL_CONF_OK;
}

/* error_page CODE ... [=[RESPONSE]] URI */
static char *
sl_http_core_error_page(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;
    u_char *p;
    sl_int_t overwrite;
    sl_str_t *value, uri, args;
    sl_uint_t i, n;
    sl_http_err_page_t *err;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    if (clcf->error_pages == NULL || clcf->error_pages == SL_CONF_UNSET_PTR) {
        clcf->error_pages = sl_array_create(cf->pool, 4, sizeof(sl_http_err_page_t));
        if (clcf->error_pages == NULL) {
            return SL_CONF_ERROR;
        }
    }

    value = cf->args->elts;
    i = cf->args->nelts - 2;
    overwrite = 0;

    if (value[i].data[0] == '=') {
        if (i == 1) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[i]);
            return SL_CONF_ERROR;
        }
        if (value[i].len > 1) {
            overwrite = sl_atoi(&value[i].data[1], value[i].len - 1);
            if (overwrite == SL_ERROR || overwrite < 100 || overwrite > 599) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[i]);
                return SL_CONF_ERROR;
            }
        } else {
            overwrite = -1;
        }
        n = 2;
    } else {
        n = 1;
    }

    uri = value[cf->args->nelts - 1];
    sl_str_null(&args);

    if (uri.len && uri.data[0] == '/') {
        p = (u_char *) memchr(uri.data, '?', uri.len);
        if (p && sl_http_script_variables_count(&uri) == 0) {
            args.len = uri.len - (p + 1 - uri.data);
            args.data = p + 1;
            uri.len = p - uri.data;
        }
    }

    for (i = 1; i < cf->args->nelts - n; i++) {
        err = sl_array_push(clcf->error_pages);
        if (err == NULL) {
            return SL_CONF_ERROR;
        }
        err->status = sl_atoi(value[i].data, value[i].len);
        if (err->status == SL_ERROR || err->status == 499) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[i]);
            return SL_CONF_ERROR;
        }
        if (err->status < 300 || err->status > 599) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "value \"%V\" must be between 300 and 599",
                              &value[i]);
            return SL_CONF_ERROR;
        }
        err->overwrite = overwrite;
        if (overwrite == 0 && err->status == SL_HTTP_REQUEST_HEADER_TOO_LARGE) {
            /* without "=", a page for 431 answers 400, as nginx's page for its 494 does */
            err->overwrite = SL_HTTP_BAD_REQUEST;
        }

        sl_memzero(&ccv, sizeof(ccv));
        ccv.cf = cf;
        ccv.value = &uri;
        ccv.complex_value = &err->value;
        if (sl_http_compile_complex_value(&ccv) != SL_OK) {
            return SL_CONF_ERROR;
        }
        err->args = args;
    }

    return SL_CONF_OK;
}

static char *
sl_http_core_error_log(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_core_loc_conf_t *clcf = conf;

    sl_unused(cmd);
    return sl_log_set_log(cf, &clcf->error_log);
}
