/*
 * sl_http.h: the public API of the HTTP engine. A module in modules/ (or an
 * optional one in http/) includes this file and sl_core.h and nothing else.
 *
 * Configuration: the http {} block gives every HTTP module three kinds of
 * configuration (main, srv, loc), created by the hooks in sl_http_module_t
 * and merged outward-in after parsing. Handlers: a module registers phase
 * handlers and filters in its postconfiguration hook.
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include "sl_core.h"

typedef struct sl_http_request_s sl_http_request_t;
typedef struct sl_http_upstream_s sl_http_upstream_t;
typedef struct sl_http_log_ctx_s sl_http_log_ctx_t;

typedef struct {
    void **main_conf;
    void **srv_conf;
    void **loc_conf;
} sl_http_conf_ctx_t;

typedef enum {
    SL_HTTP_POST_READ_PHASE = 0,
    SL_HTTP_SERVER_REWRITE_PHASE,
    SL_HTTP_FIND_CONFIG_PHASE,
    SL_HTTP_REWRITE_PHASE,
    SL_HTTP_POST_REWRITE_PHASE,
    SL_HTTP_PREACCESS_PHASE,
    SL_HTTP_ACCESS_PHASE,
    SL_HTTP_POST_ACCESS_PHASE,
    SL_HTTP_PRECONTENT_PHASE,
    SL_HTTP_CONTENT_PHASE,
    SL_HTTP_LOG_PHASE
} sl_http_phases;

#define SL_HTTP_PHASES_N (SL_HTTP_LOG_PHASE + 1)

/*
 * A phase handler returns SL_DECLINED (next handler), SL_OK (phase done,
 * go to the next phase), SL_AGAIN or SL_DONE (the handler took over: it
 * will finalize the request itself), SL_ERROR (500), or an HTTP status
 * (>= 200) to answer now. A content handler's return value goes straight
 * to sl_http_finalize_request().
 */
typedef sl_int_t (*sl_http_handler_pt)(sl_http_request_t *r);
typedef void (*sl_http_event_handler_pt)(sl_http_request_t *r);

/* Cleanups that run when the request ends (before its pool is destroyed). */
typedef void (*sl_http_cleanup_pt)(void *data);
typedef struct sl_http_cleanup_s sl_http_cleanup_t;
struct sl_http_cleanup_s {
    sl_http_cleanup_pt handler;
    void *data;
    sl_http_cleanup_t *next;
};
typedef void (*sl_http_client_body_handler_pt)(sl_http_request_t *r);

#include "sl_http_parse.h"
#include "sl_http_variables.h"
#include "sl_http_script.h"
#include "sl_http_request.h"
#include "sl_http_core_module.h"


/* Configuration ---------------------------------------------------------- */


typedef struct {
    sl_int_t (*preconfiguration)(sl_conf_t *cf);
    sl_int_t (*postconfiguration)(sl_conf_t *cf);
    void *(*create_main_conf)(sl_conf_t *cf);
    char *(*init_main_conf)(sl_conf_t *cf, void *conf);
    void *(*create_srv_conf)(sl_conf_t *cf);
    char *(*merge_srv_conf)(sl_conf_t *cf, void *prev, void *conf);
    void *(*create_loc_conf)(sl_conf_t *cf);
    char *(*merge_loc_conf)(sl_conf_t *cf, void *prev, void *conf);
} sl_http_module_t;

#define SL_HTTP_MAIN_CONF_OFFSET offsetof(sl_http_conf_ctx_t, main_conf)
#define SL_HTTP_SRV_CONF_OFFSET offsetof(sl_http_conf_ctx_t, srv_conf)
#define SL_HTTP_LOC_CONF_OFFSET offsetof(sl_http_conf_ctx_t, loc_conf)

#define sl_http_get_module_ctx(r, module) (r)->ctx[(module).ctx_index]
#define sl_http_set_ctx(r, c, module) (r)->ctx[(module).ctx_index] = (c)
#define sl_http_get_module_main_conf(r, module) (r)->main_conf[(module).ctx_index]
#define sl_http_get_module_srv_conf(r, module) (r)->srv_conf[(module).ctx_index]
#define sl_http_get_module_loc_conf(r, module) (r)->loc_conf[(module).ctx_index]
#define sl_http_conf_get_module_main_conf(cf, module) \
    ((sl_http_conf_ctx_t *) (cf)->ctx)->main_conf[(module).ctx_index]
#define sl_http_conf_get_module_srv_conf(cf, module) \
    ((sl_http_conf_ctx_t *) (cf)->ctx)->srv_conf[(module).ctx_index]
#define sl_http_conf_get_module_loc_conf(cf, module) \
    ((sl_http_conf_ctx_t *) (cf)->ctx)->loc_conf[(module).ctx_index]
/* The main conf of an HTTP module from the cycle (NULL when there is no http block). */
#define sl_http_cycle_get_module_main_conf(cycle, module) \
    ((cycle)->conf_ctx[sl_http_module.index] \
         ? ((sl_http_conf_ctx_t *) (cycle)->conf_ctx[sl_http_module.index])->main_conf[(module).ctx_index] \
         : NULL)

extern sl_module_t sl_http_module;
extern sl_module_t sl_http_core_module;
extern sl_uint_t sl_http_max_module;

/* Phases ----------------------------------------------------------------- */


/* Appends a handler to a phase; call from postconfiguration. NULL on error. */
sl_http_handler_pt *sl_http_add_phase_handler(sl_conf_t *cf, sl_http_phases phase);

/* Filters ---------------------------------------------------------------- */

typedef sl_int_t (*sl_http_output_header_filter_pt)(sl_http_request_t *r);
typedef sl_int_t (*sl_http_output_body_filter_pt)(sl_http_request_t *r, sl_chain_t *chain);

/*
 * The filter chains. A filter module keeps the previous top as its "next"
 * and installs itself as top in postconfiguration, so modules later in the
 * module list run earlier.
 */
extern sl_http_output_header_filter_pt sl_http_top_header_filter;
extern sl_http_output_body_filter_pt sl_http_top_body_filter;

/*
 * The last body filter, also called directly by the header filter: queues in
 * on r->out and writes at a flush, the last buffer, or enough bytes (in NULL
 * resumes a pending write). SL_OK (all written or held), SL_AGAIN (the rest
 * waits for a write event), SL_ERROR (c->error set).
 */
sl_int_t sl_http_write_filter(sl_http_request_t *r, sl_chain_t *in);

/* Request API ------------------------------------------------------------ */

/* Runs the header filters; the status and headers_out must be set. */
sl_int_t sl_http_send_header(sl_http_request_t *r);
/* Runs the body filters over in; SL_OK, SL_AGAIN (buffered, resumes on write) or SL_ERROR. */
sl_int_t sl_http_output_filter(sl_http_request_t *r, sl_chain_t *in);
/* Sends a whole in-memory response: status, content type and body text. */
sl_int_t sl_http_send_response(sl_http_request_t *r, sl_uint_t status, sl_str_t *content_type,
                               sl_http_complex_value_t *cv);
/*
 * Ends the handler's part in a request. rc: SL_OK/SL_DONE (response done or
 * in progress), SL_AGAIN (waiting for the client to take the rest),
 * SL_DECLINED (continue the phases), SL_ERROR (500 unless headers were
 * sent, then close), or an HTTP status (send the special response for it,
 * honouring error_page).
 */
void sl_http_finalize_request(sl_http_request_t *r, sl_int_t rc);
/* Sends the built-in or error_page response for status; returns what finalize expects. */
sl_int_t sl_http_special_response_handler(sl_http_request_t *r, sl_int_t status);
/* Restarts processing with a new URI from the server rewrite phase (internal). */
sl_int_t sl_http_internal_redirect(sl_http_request_t *r, sl_str_t *uri, sl_str_t *args);
/* Continues processing in the named location @name. */
sl_int_t sl_http_named_location(sl_http_request_t *r, sl_str_t *name);
/* Drops the request and the connection (after logging). */
void sl_http_close_request(sl_http_request_t *r, sl_int_t rc);
void sl_http_run_posted_requests(sl_connection_t *c);
/* Suspended handlers resume through r->write_event_handler. */
void sl_http_core_run_phases(sl_http_request_t *r);
void sl_http_handler(sl_http_request_t *r);

/*
 * Reads the whole request body (Content-Length or chunked) into
 * r->request_body->bufs, in memory up to client_body_buffer_size and
 * spooled to a temporary file past it, then calls post_handler. Returns
 * SL_OK / SL_AGAIN (post_handler will run later) or an HTTP status / SL_ERROR.
 */
sl_int_t sl_http_read_client_request_body(sl_http_request_t *r,
                                          sl_http_client_body_handler_pt post_handler);
/* Reads and drops the body so the connection can be kept alive. */
sl_int_t sl_http_discard_request_body(sl_http_request_t *r);

sl_http_cleanup_t *sl_http_cleanup_add(sl_http_request_t *r, size_t size);

/* Sets Content-Type from the location's types and the URI's extension. */
sl_int_t sl_http_set_content_type(sl_http_request_t *r);
/*
 * Sets Location to path escaped again (it is a decoded URI: a name with CR,
 * LF, a space, '?' or '%' must not split the field or change its meaning),
 * then '/' when slash is set, then "?args"; the header filter makes it
 * absolute. Returns SL_HTTP_MOVED_PERMANENTLY, or 500 when out of memory.
 */
sl_int_t sl_http_redirect_to_path(sl_http_request_t *r, sl_str_t *path, sl_uint_t slash);
/*
 * True when the alias of the location that matched, joined to the rest of
 * the URI, would make a ".." segment: "location /img { alias /data/; }"
 * maps "/img../etc" to "/data/../etc". The URI itself never holds one (it
 * is normalized); such a request is answered 404.
 */
sl_uint_t sl_http_alias_climbs(sl_http_request_t *r);
/* Maps the URI to a file name under root/alias into path (NUL-terminated); returns the end. */
u_char *sl_http_map_uri_to_path(sl_http_request_t *r, sl_str_t *path, size_t *root_length,
                                size_t reserved);
/* Adds a response header; NULL on allocation failure. */
sl_table_elt_t *sl_http_add_response_header(sl_http_request_t *r, const char *name,
                                            sl_str_t *value);
void sl_http_clear_content_length(sl_http_request_t *r);
void sl_http_clear_last_modified(sl_http_request_t *r);
void sl_http_clear_etag(sl_http_request_t *r);
void sl_http_clear_accept_ranges(sl_http_request_t *r);
/* Sets a weak/strong ETag from the file's mtime and size. */
sl_int_t sl_http_set_etag(sl_http_request_t *r, time_t mtime, off_t size);

/* Status codes. */
#define SL_HTTP_CONTINUE 100
#define SL_HTTP_SWITCHING_PROTOCOLS 101
#define SL_HTTP_OK 200
#define SL_HTTP_CREATED 201
#define SL_HTTP_NO_CONTENT 204
#define SL_HTTP_PARTIAL_CONTENT 206
#define SL_HTTP_SPECIAL_RESPONSE 300
#define SL_HTTP_MOVED_PERMANENTLY 301
#define SL_HTTP_MOVED_TEMPORARILY 302
#define SL_HTTP_SEE_OTHER 303
#define SL_HTTP_NOT_MODIFIED 304
#define SL_HTTP_TEMPORARY_REDIRECT 307
#define SL_HTTP_PERMANENT_REDIRECT 308
#define SL_HTTP_BAD_REQUEST 400
#define SL_HTTP_UNAUTHORIZED 401
#define SL_HTTP_FORBIDDEN 403
#define SL_HTTP_NOT_FOUND 404
#define SL_HTTP_NOT_ALLOWED 405
#define SL_HTTP_REQUEST_TIME_OUT 408
#define SL_HTTP_CONFLICT 409
#define SL_HTTP_LENGTH_REQUIRED 411
#define SL_HTTP_PRECONDITION_FAILED 412
#define SL_HTTP_REQUEST_ENTITY_TOO_LARGE 413
#define SL_HTTP_REQUEST_URI_TOO_LARGE 414
#define SL_HTTP_UNSUPPORTED_MEDIA_TYPE 415
#define SL_HTTP_RANGE_NOT_SATISFIABLE 416
#define SL_HTTP_EXPECTATION_FAILED 417
#define SL_HTTP_MISDIRECTED_REQUEST 421
#define SL_HTTP_TOO_MANY_REQUESTS 429
#define SL_HTTP_REQUEST_HEADER_TOO_LARGE 431
/* Sluice-internal: close the connection without a response (like nginx's 444). */
#define SL_HTTP_CLOSE 444
#define SL_HTTP_CLIENT_CLOSED_REQUEST 499
#define SL_HTTP_INTERNAL_SERVER_ERROR 500
#define SL_HTTP_NOT_IMPLEMENTED 501
#define SL_HTTP_BAD_GATEWAY 502
#define SL_HTTP_SERVICE_UNAVAILABLE 503
#define SL_HTTP_GATEWAY_TIME_OUT 504
#define SL_HTTP_VERSION_NOT_SUPPORTED 505
#define SL_HTTP_INSUFFICIENT_STORAGE 507

#define SL_HTTP_DISCARD_BUFFER_SIZE 4096
#define SL_HTTP_MAX_URI_CHANGES 10

#endif /* SL_HTTP_H */
