/*
 * sl_http_upstream.h: talking to upstream servers on behalf of a request.
 *
 * A protocol module (proxy; later fastcgi, grpc) owns the wire format: it
 * builds the request (create_request), parses the response header
 * (process_header) and, if the body needs decoding (chunked), filters it
 * (input_filter). The upstream core owns everything else: choosing a peer
 * through the group's balancer, connecting with timeouts, sending the
 * request with back-pressure, reading the header into one buffer, retrying
 * on the next peer (proxy_next_upstream), streaming the body to the client
 * buffered or not, and finishing: the connection goes back to the balancer
 * (and a keep-alive pool) with what happened.
 *
 * Upstream groups: "upstream name { server ...; }" blocks, and implicit
 * groups for "proxy_pass http://host:port". A balancer module replaces the
 * group's peer init hooks (round robin is the default; see
 * sl_http_upstream_round_robin.h).
 */
#ifndef SL_HTTP_UPSTREAM_H
#define SL_HTTP_UPSTREAM_H

#include "sl_core.h"
#include "sl_event_connect.h"
#include "sl_http.h"

/* proxy_next_upstream conditions (bitmask). */
#define SL_HTTP_UPSTREAM_FT_ERROR 0x00000002
#define SL_HTTP_UPSTREAM_FT_TIMEOUT 0x00000004
#define SL_HTTP_UPSTREAM_FT_INVALID_HEADER 0x00000008
#define SL_HTTP_UPSTREAM_FT_HTTP_500 0x00000010
#define SL_HTTP_UPSTREAM_FT_HTTP_502 0x00000020
#define SL_HTTP_UPSTREAM_FT_HTTP_503 0x00000040
#define SL_HTTP_UPSTREAM_FT_HTTP_504 0x00000080
#define SL_HTTP_UPSTREAM_FT_HTTP_403 0x00000100
#define SL_HTTP_UPSTREAM_FT_HTTP_404 0x00000200
#define SL_HTTP_UPSTREAM_FT_HTTP_429 0x00000400
#define SL_HTTP_UPSTREAM_FT_NOLIVE 0x40000000
#define SL_HTTP_UPSTREAM_FT_NON_IDEMPOTENT 0x10000000
#define SL_HTTP_UPSTREAM_FT_OFF 0x80000000
#define SL_HTTP_UPSTREAM_FT_STATUS \
    (SL_HTTP_UPSTREAM_FT_HTTP_500 | SL_HTTP_UPSTREAM_FT_HTTP_502 | SL_HTTP_UPSTREAM_FT_HTTP_503 \
     | SL_HTTP_UPSTREAM_FT_HTTP_504 | SL_HTTP_UPSTREAM_FT_HTTP_403 | SL_HTTP_UPSTREAM_FT_HTTP_404 \
     | SL_HTTP_UPSTREAM_FT_HTTP_429)

/* Returned by process_header for a malformed response. */
#define SL_HTTP_UPSTREAM_INVALID_HEADER 40

/* Group flags: which server parameters the group's balancer accepts. */
#define SL_HTTP_UPSTREAM_CREATE 0x0001
#define SL_HTTP_UPSTREAM_WEIGHT 0x0002
#define SL_HTTP_UPSTREAM_MAX_FAILS 0x0004
#define SL_HTTP_UPSTREAM_FAIL_TIMEOUT 0x0008
#define SL_HTTP_UPSTREAM_DOWN 0x0010
#define SL_HTTP_UPSTREAM_BACKUP 0x0020
#define SL_HTTP_UPSTREAM_MAX_CONNS 0x0100

/* One "server" line of an upstream block, with every address it resolved to. */
typedef struct {
    sl_str_t name;
    sl_sockaddr_t *addrs;
    socklen_t *addr_lens;
    sl_uint_t naddrs;
    sl_uint_t weight;
    sl_uint_t max_conns;
    sl_uint_t max_fails;
    time_t fail_timeout;
    sl_msec_t slow_start;
    unsigned down : 1;
    unsigned backup : 1;
} sl_http_upstream_server_t;

typedef struct sl_http_upstream_srv_conf_s sl_http_upstream_srv_conf_t;

/* Builds the group's peers once, after parsing; SL_OK or SL_ERROR. */
typedef sl_int_t (*sl_http_upstream_init_pt)(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);
/* Prepares r->upstream->peer for one request (get, free, data, tries). */
typedef sl_int_t (*sl_http_upstream_init_peer_pt)(sl_http_request_t *r,
                                                  sl_http_upstream_srv_conf_t *us);

typedef struct {
    sl_http_upstream_init_pt init_upstream;
    sl_http_upstream_init_peer_pt init;
    void *data; /* the balancer's peers (sl_http_upstream_rr_peers_t for round robin) */
} sl_http_upstream_peer_t;

struct sl_http_upstream_srv_conf_s {
    sl_http_upstream_peer_t peer;
    void **srv_conf; /* the block's configurations (balancer modules keep theirs here) */

    sl_array_t *servers; /* sl_http_upstream_server_t */

    sl_uint_t flags;
    sl_str_t host; /* the group name, or "host" of an implicit group */
    u_char *file_name;
    sl_uint_t line;
    in_port_t port;
    sl_uint_t no_port; /* an implicit group without a port */

    sl_shm_zone_t *shm_zone; /* "zone NAME SIZE": peer state shared by all workers */
};

typedef struct {
    sl_array_t upstreams; /* sl_http_upstream_srv_conf_t * */
} sl_http_upstream_main_conf_t;

/* Per-location upstream settings, embedded in the protocol module's loc conf. */
typedef struct {
    sl_http_upstream_srv_conf_t *upstream; /* NULL with variables in the target */

    sl_msec_t connect_timeout;
    sl_msec_t send_timeout;
    sl_msec_t read_timeout;
    sl_msec_t next_upstream_timeout;

    size_t send_lowat;
    size_t buffer_size;        /* the response header buffer (proxy_buffer_size) */
    size_t busy_buffers_size;
    size_t max_temp_file_size;
    size_t temp_file_write_size;

    sl_bufs_t bufs; /* proxy_buffers */

    sl_uint_t next_upstream; /* SL_HTTP_UPSTREAM_FT_* */
    sl_uint_t next_upstream_tries;

    sl_flag_t buffering;
    sl_flag_t request_buffering;
    sl_flag_t pass_request_headers;
    sl_flag_t pass_request_body;
    sl_flag_t ignore_client_abort;
    sl_flag_t intercept_errors;

    sl_array_t *hide_headers;  /* sl_str_t, lowercase */
    sl_array_t *pass_headers;  /* sl_str_t, lowercase */
    sl_hash_t hide_headers_hash;

    sl_str_t module; /* "proxy", for log messages */
} sl_http_upstream_conf_t;

/* The parsed response header, before it is copied to r->headers_out. */
typedef struct {
    sl_list_t headers; /* sl_table_elt_t: every field the upstream sent */
    sl_uint_t status_n;
    sl_str_t status_line;
    sl_table_elt_t *content_length;
    sl_table_elt_t *transfer_encoding;
    sl_table_elt_t *connection;
    sl_table_elt_t *location;
    sl_table_elt_t *upgrade;
    off_t content_length_n; /* -1 when unknown */
    unsigned connection_close : 1;
    unsigned chunked : 1;
} sl_http_upstream_headers_in_t;

/* Timing and outcome of one attempt, for $upstream_* variables and logs. */
typedef struct {
    sl_uint_t status;
    sl_msec_t response_time;
    sl_msec_t connect_time;
    sl_msec_t header_time;
    off_t bytes_received;
    off_t bytes_sent;
    sl_str_t *peer;
} sl_http_upstream_state_t;

struct sl_http_upstream_s {
    sl_http_event_handler_pt read_event_handler;
    sl_http_event_handler_pt write_event_handler;

    sl_peer_connection_t peer;
    sl_http_upstream_conf_t *conf;
    sl_http_upstream_srv_conf_t *upstream;

    sl_http_upstream_headers_in_t headers_in;
    sl_array_t *state; /* sl_http_upstream_state_t: one per attempt */
    sl_http_upstream_state_t *cur_state;

    sl_chain_t *request_bufs; /* what create_request built */
    sl_chain_t *request_out;  /* the part not yet sent (after a partial write) */

    sl_buf_t buffer; /* the response header, then body bytes read with it */
    off_t length;    /* body bytes still expected; -1 until the end is seen */

    sl_chain_t *out_bufs;
    sl_chain_t *busy_bufs;
    sl_chain_t *free_bufs;

    /* Protocol hooks, set by the module before sl_http_upstream_init(). */
    sl_int_t (*create_request)(sl_http_request_t *r);
    sl_int_t (*reinit_request)(sl_http_request_t *r); /* before a retry */
    /*
     * Parses the response header from u->buffer. Returns SL_OK (complete:
     * headers_in and r->headers_out ready), SL_AGAIN (need more bytes),
     * SL_HTTP_UPSTREAM_INVALID_HEADER or SL_ERROR.
     */
    sl_int_t (*process_header)(sl_http_request_t *r);
    /* Prepares body decoding once the header is in (sets u->length). */
    sl_int_t (*input_filter_init)(void *data);
    /*
     * Consumes bytes body bytes at u->buffer.last - bytes (unbuffered path)
     * and appends decoded data to u->out_bufs; sets u->length = 0 at the end.
     */
    sl_int_t (*input_filter)(void *data, ssize_t bytes);
    void *input_filter_ctx;
    void (*abort_request)(sl_http_request_t *r);
    void (*finalize_request)(sl_http_request_t *r, sl_int_t rc);
    /* Rewrites a Location / Refresh value (proxy_redirect); SL_DECLINED leaves it. */
    sl_int_t (*rewrite_redirect)(sl_http_request_t *r, sl_table_elt_t *h, size_t prefix);

    sl_msec_t start_time;
    sl_str_t schema;
    sl_str_t uri;

    sl_http_cleanup_pt *cleanup;

    unsigned store : 1;
    unsigned buffering : 1;
    unsigned keepalive : 1; /* the connection may go back to the pool */
    unsigned upgrade : 1;   /* 101: tunnel both ways (WebSocket) */
    unsigned request_sent : 1;
    unsigned request_body_sent : 1;
    unsigned header_sent : 1;
    unsigned response_received : 1;
};

/* Creates r->upstream (the caller then sets conf, upstream and hooks); SL_OK or SL_ERROR. */
sl_int_t sl_http_upstream_create(sl_http_request_t *r);
/*
 * Starts talking to the upstream: reads the request body first unless
 * request_buffering is off, then connects. The content handler calls it
 * after sl_http_read_client_request_body() or directly, and returns SL_DONE.
 */
void sl_http_upstream_init(sl_http_request_t *r);

/*
 * Finds or adds an upstream group: "name" of an upstream {} block, or
 * host:port of an implicit group (flags SL_HTTP_UPSTREAM_CREATE for a
 * block). NULL on error (logged with file:line).
 */
sl_http_upstream_srv_conf_t *sl_http_upstream_add(sl_conf_t *cf, sl_url_t *u, sl_uint_t flags);

/* Generic setter for proxy_next_upstream-style bitmask directives. */
extern sl_conf_bitmask_t sl_http_upstream_next_upstream_masks[];

/*
 * Merges the hide/pass header lists into conf->hide_headers_hash, starting
 * from default_hide (NULL-terminated lowercase names). SL_OK or SL_ERROR.
 */
sl_int_t sl_http_upstream_hide_headers_hash(sl_conf_t *cf, sl_http_upstream_conf_t *conf,
                                            sl_http_upstream_conf_t *prev, sl_str_t *default_hide);

extern sl_module_t sl_http_upstream_module;

#define sl_http_conf_upstream_srv_conf(uscf, module) (uscf)->srv_conf[(module).ctx_index]

#endif /* SL_HTTP_UPSTREAM_H */
