/*
 * sl_http_request.h: the request, its headers and the per-connection state.
 * Request bytes are parsed in place: every sl_str_t below points into the
 * connection's header buffer unless a module replaced it.
 */
#ifndef SL_HTTP_REQUEST_H
#define SL_HTTP_REQUEST_H

#include "sl_core.h"

/* A header field: key and value point into the request buffer. */
typedef struct sl_table_elt_s sl_table_elt_t;
struct sl_table_elt_s {
    sl_uint_t hash; /* 0 marks a header removed from the output */
    sl_str_t key;
    sl_str_t value;
    u_char *lowcase_key;
    sl_table_elt_t *next; /* the next header of the same name */
};

typedef struct {
    sl_list_t headers; /* sl_table_elt_t, in arrival order */

    sl_table_elt_t *host;
    sl_table_elt_t *connection;
    sl_table_elt_t *if_modified_since;
    sl_table_elt_t *if_unmodified_since;
    sl_table_elt_t *if_match;
    sl_table_elt_t *if_none_match;
    sl_table_elt_t *user_agent;
    sl_table_elt_t *referer;
    sl_table_elt_t *content_length;
    sl_table_elt_t *content_type;
    sl_table_elt_t *range;
    sl_table_elt_t *if_range;
    sl_table_elt_t *transfer_encoding;
    sl_table_elt_t *te;
    sl_table_elt_t *expect;
    sl_table_elt_t *upgrade;
    sl_table_elt_t *cookie;
    sl_table_elt_t *x_forwarded_for;
    sl_table_elt_t *keep_alive;

    sl_str_t server; /* the host name, lowercased, without port */
    off_t content_length_n; /* -1 when absent */
    time_t keep_alive_n;

    unsigned connection_type : 2; /* SL_HTTP_CONNECTION_CLOSE / KEEP_ALIVE / 0 */
    unsigned chunked : 1;
    unsigned expect_continue : 1;
} sl_http_headers_in_t;

#define SL_HTTP_CONNECTION_CLOSE 1
#define SL_HTTP_CONNECTION_KEEP_ALIVE 2

typedef struct {
    sl_list_t headers; /* sl_table_elt_t to send, after the ones the header filter builds */
    sl_uint_t status;
    sl_str_t status_line; /* optional custom "200 OK" */

    sl_table_elt_t *server;
    sl_table_elt_t *date;
    sl_table_elt_t *content_length;
    sl_table_elt_t *content_encoding;
    sl_table_elt_t *location;
    sl_table_elt_t *last_modified;
    sl_table_elt_t *content_range;
    sl_table_elt_t *accept_ranges;
    sl_table_elt_t *etag;

    sl_str_t content_type;
    sl_str_t charset;
    off_t content_length_n; /* -1 when unknown */
    time_t last_modified_time; /* -1 when unknown */
    time_t date_time;
} sl_http_headers_out_t;

typedef struct {
    sl_chain_t *bufs;   /* the body: memory buffers, or one file buffer when spooled */
    sl_buf_t *buf;
    off_t rest;         /* bytes still to read; -1 while a chunked body's end is unknown */
    off_t received;
    sl_fd_t temp_fd;
    sl_str_t temp_path;
    sl_http_chunked_t chunked;
    sl_http_client_body_handler_pt post_handler;
    sl_msec_t discard_deadline; /* a body discarded after the response: lingering_time */
} sl_http_request_body_t;

/* Per-connection HTTP state, in the connection's pool while a request is active. */
typedef struct {
    void *addr_conf;           /* sl_http_addr_conf_t: servers on this listen address */
    void *conf_ctx;            /* the default server's sl_http_conf_ctx_t */
    sl_buf_t **busy;           /* large header buffers in use */
    sl_uint_t nbusy;
    sl_buf_t **free;
    sl_uint_t nfree;
} sl_http_connection_t;

struct sl_http_request_s {
    uint32_t signature; /* "HTTP" */
    sl_connection_t *connection;

    void **ctx;
    void **main_conf;
    void **srv_conf;
    void **loc_conf;

    sl_http_event_handler_pt read_event_handler;
    sl_http_event_handler_pt write_event_handler;

    sl_http_upstream_t *upstream;
    sl_pool_t *pool;
    sl_buf_t *header_in;

    sl_http_headers_in_t headers_in;
    sl_http_headers_out_t headers_out;
    sl_http_request_body_t *request_body;

    time_t start_sec;
    sl_msec_t start_msec;

    sl_uint_t method;
    sl_uint_t http_version; /* major * 1000 + minor */

    sl_str_t request_line;
    sl_str_t uri;          /* decoded and normalised path */
    sl_str_t args;
    sl_str_t exten;
    sl_str_t unparsed_uri; /* as received */
    sl_str_t method_name;
    sl_str_t http_protocol;
    sl_str_t schema;

    sl_chain_t *out; /* unsent output */
    sl_http_request_t *main;
    sl_http_request_t *next_posted;

    sl_uint_t phase_handler;
    sl_http_handler_pt content_handler;
    sl_uint_t access_code;

    sl_http_variable_value_t *variables;

    sl_uint_t ncaptures;
    int *captures;
    u_char *captures_data;

    off_t request_length;
    size_t header_size; /* bytes of the response header, set by the header filter */
    sl_uint_t err_status;

    sl_http_connection_t *http_connection;
    sl_http_cleanup_t *cleanup;

    sl_http_parse_t parse;

    unsigned count : 16;
    unsigned uri_changes : 4;
    unsigned internal : 1;
    unsigned error_page : 1;
    unsigned uri_changed : 1;
    unsigned valid_location : 1;
    unsigned valid_unparsed_uri : 1;
    unsigned keepalive : 1;
    unsigned lingering_close : 1;
    unsigned discard_body : 1;
    unsigned reading_body : 1;
    unsigned header_sent : 1;
    unsigned header_only : 1;
    unsigned chunked : 1;
    unsigned expect_tested : 1;
    unsigned allow_ranges : 1;
    unsigned done : 1;
    unsigned logged : 1;
    unsigned buffered : 4;
    unsigned main_filter_need_in_memory : 1;
    unsigned filter_need_in_memory : 1;
    unsigned request_output : 1;
    unsigned terminated : 1;
    unsigned blocked : 8;
    unsigned zero_in_uri : 1;
    unsigned plus_in_uri : 1;
    unsigned add_uri_to_alias : 1;
    unsigned disable_not_modified : 1;
    unsigned http_state : 4;
};

#define SL_HTTP_REQUEST_SIGNATURE 0x50545448

/* r->http_state */
#define SL_HTTP_READING_REQUEST_STATE 1
#define SL_HTTP_PROCESS_REQUEST_STATE 2
#define SL_HTTP_WRITING_REQUEST_STATE 3
#define SL_HTTP_KEEPALIVE_STATE 4
#define SL_HTTP_LINGERING_CLOSE_STATE 5

/*
 * Reads and drops the rest of a body being discarded (a request's read
 * handler). Does nothing once the body has ended. A client that shuts down
 * its side ends the discarding, and the connection then closes after the
 * response.
 */
void sl_http_discarded_request_body_handler(sl_http_request_t *r);

/*
 * Keeps bytes read past the end of a chunked body (the next pipelined
 * request) in the header buffer, after everything parsed so far, where
 * keep-alive processing finds them. Without room the connection closes
 * after this response instead.
 */
void sl_http_body_keep_rest(sl_http_request_t *r, u_char *pos, u_char *last);

/* The HTTP connection handler set on every HTTP listener. */
void sl_http_init_connection(sl_connection_t *c);

/*
 * Between the engine (sl_http_request.c) and the request header fields
 * (sl_http_headers_in.c); not for modules.
 */

/* Hashes the known-field table; once, before the first request. */
void sl_http_headers_in_init(void);
/* Runs the handler of a known field (sets its headers_in shortcut); SL_OK or SL_ERROR (rejected). */
sl_int_t sl_http_handle_header_line(sl_http_request_t *r, sl_table_elt_t *h);
/* Checks the complete header block; SL_OK or SL_ERROR (rejected). */
sl_int_t sl_http_process_request_header(sl_http_request_t *r);
/*
 * Validates a host name and lowercases it into pool memory, without a
 * trailing dot or a port. SL_OK, or SL_DECLINED for an invalid host.
 */
sl_int_t sl_http_validate_host(sl_str_t *host, sl_pool_t *pool);
/* Chooses the server block for host among the connection's address; SL_OK or SL_ERROR (closed). */
sl_int_t sl_http_set_virtual_server(sl_http_request_t *r, sl_str_t *host);
/* Logs why a request is rejected at info (every rejection leaves a line) and answers status. */
void sl_http_reject(sl_http_request_t *r, sl_int_t status, const char *why);

#endif /* SL_HTTP_REQUEST_H */
