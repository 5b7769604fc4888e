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

/* The port of "proxy_pass http://name" and of a "server" line without one. */
#define SL_HTTP_UPSTREAM_DEFAULT_PORT 80

/*
 * Whether a group's host (or a URL's) names a unix-domain socket,
 * "unix:/path": such a group has no port and its one address is the path.
 */
#define sl_http_upstream_is_unix(host) \
    ((host)->len >= 5 && sl_strncasecmp((host)->data, (u_char *) "unix:", 5) == 0)

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
    sl_sockaddr_any_t *addrs;
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
    size_t buffer_size; /* the response header buffer (proxy_buffer_size) */
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

    sl_array_t *hide_headers; /* sl_str_t, lowercase */
    sl_array_t *pass_headers; /* sl_str_t, lowercase */
    sl_hash_t hide_headers_hash;

    sl_str_t temp_path; /* where buffered responses spill (proxy_temp_path) */

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
    sl_msec_t connect_time; /* SL_HTTP_UPSTREAM_NO_TIME until connected */
    sl_msec_t header_time;  /* SL_HTTP_UPSTREAM_NO_TIME until the header is in */
    off_t bytes_received;
    off_t bytes_sent;
    sl_str_t *peer;
} sl_http_upstream_state_t;

#define SL_HTTP_UPSTREAM_NO_TIME ((sl_msec_t) -1)

/*
 * A target computed per request (proxy_pass with variables): host is an
 * upstream group's name or a literal address; nothing is resolved by DNS.
 */
typedef struct {
    sl_str_t host;
    in_port_t port;
    sl_uint_t no_port;
} sl_http_upstream_resolved_t;

typedef void (*sl_http_upstream_handler_pt)(sl_http_request_t *r, sl_http_upstream_t *u);

/* The state of a response body being moved to the client (sl_http_upstream_body.c). */
typedef struct {
    sl_buf_t *body; /* unbuffered: the one buffer reads go to */
    sl_buf_t *bufs; /* buffered: proxy_buffers, memory allocated on first use */
    sl_uint_t nbufs;
    sl_uint_t *busy;    /* per buffer: passed to the client and not yet sent */
    sl_buf_t *bounce;   /* buffered: reads that go to the temporary file */
    sl_buf_t *file_buf; /* the temporary file's part passed to the client */
    sl_fd_t temp_fd;
    off_t file_sent; /* bytes of the temporary file passed to the client */
    off_t file_written;
    void *tunnel; /* 101: the two buffers of the tunnel */
    unsigned upstream_done : 1;
    unsigned upstream_eof : 1;
    unsigned last_sent : 1;
} sl_http_upstream_pipe_t;

/* A request body streamed to the upstream as it arrives (request_buffering off). */
typedef struct {
    sl_buf_t *buf;
    off_t rest;                /* bytes left of a Content-Length body; -1 chunked */
    sl_http_chunked_t chunked; /* the client's framing */
    sl_chain_t links[4];       /* size line, data, CRLF or the last chunk */
    sl_buf_t frames[3];
    u_char size_line[20];
    unsigned chunked_out : 1; /* framed as chunks to the upstream */
    unsigned started : 1;     /* bytes were taken from the client: no retry */
    unsigned done : 1;        /* the client's body has ended */
    unsigned last_queued : 1;
} sl_http_upstream_body_out_t;

struct sl_http_upstream_s {
    sl_http_upstream_handler_pt read_event_handler;
    sl_http_upstream_handler_pt write_event_handler;

    sl_peer_connection_t peer;
    sl_http_upstream_conf_t *conf;
    sl_http_upstream_srv_conf_t *upstream;
    sl_http_upstream_resolved_t *resolved; /* set instead of upstream for a computed target */

    sl_http_upstream_headers_in_t headers_in;
    sl_array_t *state; /* sl_http_upstream_state_t: one per attempt */
    sl_http_upstream_state_t *cur_state;

    sl_chain_t *request_bufs; /* what create_request built */
    sl_chain_t *request_out;  /* the part not yet sent (after a partial write) */

    sl_buf_t buffer; /* the response header, then body bytes read with it */
    off_t length;    /* body bytes still expected; -1 until the end is seen */

    sl_http_upstream_pipe_t pipe;
    sl_http_upstream_body_out_t *body_out; /* NULL unless the body is streamed */

    /* Protocol hooks, set by the module before sl_http_upstream_init(). */
    sl_int_t (*create_request)(sl_http_request_t *r);
    sl_int_t (*reinit_request)(sl_http_request_t *r); /* before a retry */
    /*
     * Parses the response header from u->buffer. Returns SL_OK (complete:
     * headers_in ready, u->buffer.pos at the first body byte), SL_AGAIN
     * (need more bytes), SL_HTTP_UPSTREAM_INVALID_HEADER or SL_ERROR.
     */
    sl_int_t (*process_header)(sl_http_request_t *r);
    /* Prepares body decoding once the header is in (sets u->length). */
    sl_int_t (*input_filter_init)(void *data);
    /*
     * Decodes the raw body bytes [in->pos, in->last) in place: the data
     * they carry is moved down to out->last (out->last <= in->pos, the
     * same memory) and out->last advanced; in->pos ends past what was
     * consumed. Sets u->length = 0 when the body has ended (bytes after it
     * are dropped and keep-alive is off). SL_OK or SL_ERROR (bad framing).
     */
    sl_int_t (*input_filter)(void *data, sl_buf_t *in, sl_buf_t *out);
    void *input_filter_ctx;
    void (*abort_request)(sl_http_request_t *r);
    void (*finalize_request)(sl_http_request_t *r, sl_int_t rc);
    /* Rewrites a Location / Refresh value (proxy_redirect); SL_DECLINED leaves it. */
    sl_int_t (*rewrite_redirect)(sl_http_request_t *r, sl_table_elt_t *h, size_t prefix);

    sl_msec_t start_time; /* of the current attempt */
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
    unsigned connected : 1; /* the connect completed (SO_ERROR checked) */
    unsigned finalized : 1;
    unsigned peer_freed : 1;
    unsigned reconnect : 1; /* the next attempt reconnects to the same peer */
};

/*
 * Creates r->upstream (the caller then sets conf, upstream or resolved, and
 * the hooks); an upstream left by an earlier pass of the request (error_page)
 * is released first. SL_OK or SL_ERROR.
 */
sl_int_t sl_http_upstream_create(sl_http_request_t *r);
/*
 * Starts talking to the upstream; the request must hold a reference for it.
 * The content handler either passes it to sl_http_read_client_request_body()
 * as the post handler (request_buffering on: the body is read first and sent
 * with Content-Length), or takes the reference itself (r->main->count++) and
 * calls it directly (the body, if any, is streamed as it arrives); then it
 * returns SL_DONE. The request is finalised when the upstream is done.
 */
void sl_http_upstream_init(sl_http_request_t *r);

/* True when the request holds a body the upstream may stream (not yet read). */
sl_uint_t sl_http_upstream_has_body(sl_http_request_t *r);

/*
 * Finds or adds an upstream group: "name" of an upstream {} block, or
 * host:port of an implicit group (flags SL_HTTP_UPSTREAM_CREATE for a
 * block). NULL on error (logged with file:line).
 */
sl_http_upstream_srv_conf_t *sl_http_upstream_add(sl_conf_t *cf, sl_url_t *u, sl_uint_t flags);

/* The values of proxy_next_upstream-style bitmask directives (for sl_conf_set_bitmask_slot). */
extern sl_conf_bitmask_t sl_http_upstream_next_upstream_masks[];

/* Internal to the upstream core: the body path (sl_http_upstream_body.c). */
void sl_http_upstream_send_response_body(sl_http_request_t *r, sl_http_upstream_t *u);
void sl_http_upstream_start_tunnel(sl_http_request_t *r, sl_http_upstream_t *u);
/* Ends the upstream side and the request with rc (SL_OK, SL_ERROR or a status). */
void sl_http_upstream_finalize(sl_http_request_t *r, sl_http_upstream_t *u, sl_int_t rc);
/* Gives the connection back to the balancer (kept alive when u->keepalive) or closes it. */
void sl_http_upstream_release_peer(sl_http_request_t *r, sl_http_upstream_t *u);
/*
 * Request body streaming (request_buffering off): queues the client's next
 * body bytes on u->request_out. SL_OK (queued, or the body is complete and
 * body_out->last_queued is set), SL_AGAIN (the client has sent nothing more
 * yet), or an HTTP status for a bad or cut body.
 */
sl_int_t sl_http_upstream_read_request_body(sl_http_request_t *r, sl_http_upstream_t *u);
/* The client's read event while a body is streamed: passes new bytes on. */
void sl_http_upstream_client_body_ready(sl_http_request_t *r);
/* Prepares u->body_out for streaming the body the request carries; SL_OK or SL_ERROR. */
sl_int_t sl_http_upstream_init_request_body(sl_http_request_t *r, sl_http_upstream_t *u,
                                            sl_uint_t chunked_out);
/* Opens the unlinked temporary file a buffered response spills into; SL_OK or SL_ERROR. */
sl_int_t sl_http_upstream_open_temp_file(sl_http_request_t *r, sl_http_upstream_t *u);

/*
 * Merges the hide/pass header lists into conf->hide_headers_hash, starting
 * from default_hide (NULL-terminated lowercase names). SL_OK or SL_ERROR.
 */
sl_int_t sl_http_upstream_hide_headers_hash(sl_conf_t *cf, sl_http_upstream_conf_t *conf,
                                            sl_http_upstream_conf_t *prev, sl_str_t *default_hide);

extern sl_module_t sl_http_upstream_module;

#define sl_http_conf_upstream_srv_conf(uscf, module) (uscf)->srv_conf[(module).ctx_index]

#endif /* SL_HTTP_UPSTREAM_H */
