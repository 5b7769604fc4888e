/*
 * sl_http_proxy_module.h: what the proxy module's two files share: its
 * configuration and per-request context, and the response side
 * (sl_http_proxy_response.c) the request side hooks into the upstream.
 */
#ifndef SL_HTTP_PROXY_MODULE_H
#define SL_HTTP_PROXY_MODULE_H

#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"

/* More interim (1xx) responses than this before the final one is an invalid header. */
#define SL_HTTP_PROXY_MAX_INTERIM 16

typedef struct {
    sl_str_t key_start;   /* "http://host:port" as written */
    sl_str_t host_header; /* $proxy_host: host, with ":port" unless it is 80 */
    sl_str_t port;        /* $proxy_port */
    sl_str_t uri;         /* the URI part, empty when none */
} sl_http_proxy_vars_t;

typedef struct {
    sl_str_t key;     /* as written */
    sl_str_t lowcase; /* for matching the client's fields */
    sl_http_complex_value_t value;
} sl_http_proxy_header_t;

typedef struct {
    sl_http_complex_value_t from;
    sl_http_complex_value_t to;
} sl_http_proxy_redirect_t;

typedef struct {
    sl_http_upstream_conf_t upstream;

    sl_http_complex_value_t *url_cv; /* proxy_pass with variables */
    sl_http_proxy_vars_t vars;
    sl_str_t url;
    sl_str_t location;

    sl_array_t *headers_source; /* sl_keyval_t, from proxy_set_header */
    sl_array_t *headers;        /* sl_http_proxy_header_t: the defaults and the source */
    sl_hash_t headers_hash;     /* names the request gets from us, never from the client */

    sl_array_t *redirects; /* sl_http_proxy_redirect_t; NULL: proxy_redirect off */
    sl_flag_t redirect;    /* unset, 0 (off) or 1 */

    sl_uint_t http_version;

    /* as written: unset gives each level a default from its own buffer sizes */
    size_t busy_buffers_size_conf;
} sl_http_proxy_loc_conf_t;

typedef struct {
    sl_http_proxy_vars_t vars;
    sl_http_parse_t parse;
    sl_http_chunked_t chunked;
    sl_uint_t interim;
    unsigned status_done : 1;
} sl_http_proxy_ctx_t;

extern sl_module_t sl_http_proxy_module;

/* u->process_header: parses the status line and header in u->buffer (see sl_http_upstream.h). */
sl_int_t sl_http_proxy_process_header(sl_http_request_t *r);
/* u->input_filter_init: chooses the body decoding (length, chunked, or to the close). */
sl_int_t sl_http_proxy_input_filter_init(void *data);
/* u->input_filter for a Content-Length body or one that ends with the connection. */
sl_int_t sl_http_proxy_length_filter(void *data, sl_buf_t *in, sl_buf_t *out);
/* u->input_filter for a chunked body: decodes in place. */
sl_int_t sl_http_proxy_chunked_filter(void *data, sl_buf_t *in, sl_buf_t *out);
/* u->rewrite_redirect: proxy_redirect on a Location or Refresh value. */
sl_int_t sl_http_proxy_rewrite_redirect(sl_http_request_t *r, sl_table_elt_t *h, size_t prefix);

#endif /* SL_HTTP_PROXY_MODULE_H */
