/*
 * sl_http_core_module.h: the configuration the HTTP engine itself owns:
 * servers, listen addresses, locations, timeouts and buffer sizes, and the
 * compiled phase engine.
 */
#ifndef SL_HTTP_CORE_MODULE_H
#define SL_HTTP_CORE_MODULE_H

#include "sl_core.h"

typedef struct sl_http_phase_handler_s sl_http_phase_handler_t;
typedef sl_int_t (*sl_http_phase_handler_pt)(sl_http_request_t *r, sl_http_phase_handler_t *ph);

struct sl_http_phase_handler_s {
    sl_http_phase_handler_pt checker; /* the phase's driver */
    sl_http_handler_pt handler;       /* the module's handler */
    sl_uint_t next;                   /* first handler of the next phase */
};

typedef struct {
    sl_array_t handlers; /* sl_http_handler_pt */
} sl_http_phase_t;

typedef struct {
    sl_array_t servers; /* sl_http_core_srv_conf_t * */
    sl_http_phase_handler_t *phase_engine;
    sl_uint_t server_rewrite_index;
    sl_uint_t location_rewrite_index;
    sl_uint_t find_config_index;
    sl_http_phase_t phases[SL_HTTP_PHASES_N];

    sl_hash_t variables_hash;
    sl_array_t variables;        /* sl_http_variable_t, indexed */
    sl_array_t prefix_variables; /* sl_http_variable_t */
    sl_uint_t ncaptures;
    sl_uint_t server_names_hash_max_size;
    sl_uint_t server_names_hash_bucket_size;
    sl_uint_t variables_hash_max_size;
    sl_uint_t variables_hash_bucket_size;
    sl_hash_keys_arrays_t *variables_keys;
    sl_array_t *ports; /* sl_http_conf_port_t, while parsing */
} sl_http_core_main_conf_t;

typedef struct {
    sl_str_t name;    /* as written, lowercase */
    sl_http_regex_t *regex;
    void *server;     /* sl_http_core_srv_conf_t */
} sl_http_server_name_t;

typedef struct {
    sl_array_t server_names; /* sl_http_server_name_t */
    sl_http_conf_ctx_t *ctx;  /* the server{} block's configurations */
    u_char *file_name;
    sl_uint_t line;
    sl_str_t server_name;     /* the first name, for $server_name */
    size_t connection_pool_size;
    size_t request_pool_size;
    size_t client_header_buffer_size;
    sl_bufs_t large_client_header_buffers;
    sl_msec_t client_header_timeout;
    sl_flag_t ignore_invalid_headers;
    sl_flag_t merge_slashes;
    sl_flag_t underscores_in_headers;
    unsigned listen : 1;
    unsigned captures : 1;
    void **named_locations; /* sl_http_core_loc_conf_t *, NULL-terminated */
} sl_http_core_srv_conf_t;

/* listen parameters */
typedef struct {
    sl_sockaddr_t sockaddr;
    socklen_t socklen;
    sl_str_t addr_text;
    unsigned set : 1;
    unsigned default_server : 1;
    unsigned bind : 1;
    unsigned reuseport : 1;
    unsigned ipv6only : 1;
    unsigned deferred_accept : 1;
    int backlog;
    int rcvbuf;
    int sndbuf;
} sl_http_listen_opt_t;

/* The servers reachable on one listen address, for choosing by Host. */
typedef struct {
    sl_hash_combined_t names;
    sl_uint_t nregex;
    sl_http_server_name_t *regex;
} sl_http_virtual_names_t;

typedef struct {
    sl_http_core_srv_conf_t *default_server;
    sl_http_virtual_names_t *virtual_names;
} sl_http_addr_conf_t;

/* One address served by a listening socket (several when it is a wildcard). */
typedef struct {
    sl_sockaddr_t sockaddr;
    socklen_t socklen;
    unsigned wildcard : 1;
    sl_http_addr_conf_t conf;
} sl_http_in_addr_t;

/* What an HTTP listening socket carries in ls->servers. */
typedef struct {
    sl_http_in_addr_t *addrs; /* specific addresses first, the wildcard last */
    sl_uint_t naddrs;
} sl_http_port_t;

typedef struct sl_http_location_tree_node_s sl_http_location_tree_node_t;
typedef struct sl_http_core_loc_conf_s sl_http_core_loc_conf_t;

struct sl_http_core_loc_conf_s {
    sl_str_t name; /* the location's URI or regex text */
    sl_http_regex_t *regex;

    unsigned noname : 1; /* "if" blocks */
    unsigned named : 1;  /* @name */
    unsigned exact_match : 1;
    unsigned noregex : 1; /* ^~ */
    unsigned auto_redirect : 1;
    unsigned internal : 1;
    unsigned alias_regex : 1;

    sl_http_core_loc_conf_t **regex_locations; /* NULL-terminated */
    void **loc_conf;        /* this location's configurations */
    sl_http_handler_pt handler; /* content handler set by a directive (return, proxy_pass) */

    size_t alias;   /* length of the location name an alias replaces; 0 for root */
    sl_str_t root;  /* root or alias path */
    sl_str_t post_action;
    sl_array_t *root_lengths;
    sl_array_t *root_values;

    sl_array_t *types;     /* sl_hash_key_t, while parsing */
    sl_hash_t types_hash;
    sl_str_t default_type;

    off_t client_max_body_size;
    off_t directio;
    size_t client_body_buffer_size;
    size_t send_lowat;
    size_t postpone_output;
    size_t sendfile_max_chunk;
    size_t read_ahead;
    size_t subrequest_output_buffer_size;

    sl_msec_t client_body_timeout;
    sl_msec_t send_timeout;
    sl_msec_t keepalive_timeout;
    sl_msec_t lingering_time;
    sl_msec_t lingering_timeout;
    sl_msec_t resolver_timeout;
    time_t keepalive_header;

    sl_uint_t keepalive_requests;
    sl_uint_t keepalive_disable;
    sl_uint_t satisfy;
    sl_uint_t lingering_close;
    sl_uint_t if_modified_since;
    sl_uint_t max_ranges;
    sl_uint_t client_body_in_file_only;

    sl_flag_t client_body_in_single_buffer;
    sl_flag_t internal_flag;
    sl_flag_t sendfile;
    sl_flag_t aio;
    sl_flag_t tcp_nopush;
    sl_flag_t tcp_nodelay;
    sl_flag_t reset_timedout_connection;
    sl_flag_t absolute_redirect;
    sl_flag_t server_name_in_redirect;
    sl_flag_t port_in_redirect;
    sl_flag_t msie_padding;
    sl_flag_t log_not_found;
    sl_flag_t log_subrequest;
    sl_flag_t recursive_error_pages;
    sl_flag_t server_tokens;
    sl_flag_t chunked_transfer_encoding;
    sl_flag_t etag;

    sl_array_t *error_pages; /* sl_http_err_page_t */
    sl_str_t client_body_temp_path;

    sl_log_t *error_log;

    sl_queue_t *locations; /* nested locations, while parsing */
    sl_http_location_tree_node_t *static_locations;
};

typedef struct {
    sl_int_t status;
    sl_int_t overwrite; /* "=code", -1 for "=" alone, 0 none */
    sl_http_complex_value_t value;
    sl_str_t args;
} sl_http_err_page_t;

/* lingering_close */
#define SL_HTTP_LINGERING_OFF 0
#define SL_HTTP_LINGERING_ON 1
#define SL_HTTP_LINGERING_ALWAYS 2

/* if_modified_since */
#define SL_HTTP_IMS_OFF 0
#define SL_HTTP_IMS_EXACT 1
#define SL_HTTP_IMS_BEFORE 2

/* Registers a location (or an "if" block) of the enclosing block; SL_OK or SL_ERROR. */
sl_int_t sl_http_add_location(sl_conf_t *cf, sl_queue_t **locations, sl_http_core_loc_conf_t *clcf);
/* Registers a listen address of a server; SL_OK or SL_ERROR (logged). */
sl_int_t sl_http_add_listen(sl_conf_t *cf, sl_http_core_srv_conf_t *cscf, sl_http_listen_opt_t *lsopt);
/* Chooses the server for a Host name among the connection's; SL_OK, SL_DECLINED (none) or SL_ERROR. */
sl_int_t sl_http_find_virtual_server(sl_connection_t *c, sl_http_virtual_names_t *vn,
                                     sl_str_t *host, sl_http_request_t *r,
                                     sl_http_core_srv_conf_t **cscfp);

/*
 * Finds the location for r->uri and sets r->loc_conf; SL_OK, SL_ERROR, or
 * SL_DONE when r->uri is a proxied location's name without its trailing
 * slash (r->loc_conf is that location's; the caller answers 301).
 */
sl_int_t sl_http_core_find_location(sl_http_request_t *r);
/* Applies a location's settings to the request (timeouts, content handler). */
void sl_http_update_location_config(sl_http_request_t *r);

/* The phase checkers (used to build the phase engine). */
sl_int_t sl_http_core_generic_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph);
sl_int_t sl_http_core_rewrite_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph);
sl_int_t sl_http_core_find_config_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph);
sl_int_t sl_http_core_post_rewrite_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph);
sl_int_t sl_http_core_access_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph);
sl_int_t sl_http_core_post_access_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph);
sl_int_t sl_http_core_content_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph);

#endif /* SL_HTTP_CORE_MODULE_H */
