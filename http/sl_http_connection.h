/*
 * sl_http_connection.h: what the HTTP engine's two connection files share,
 * sl_http_request.c (accepting, reading and finalising requests) and
 * sl_http_keepalive.c (the connection between requests: keep-alive,
 * draining when the worker stops, lingering close). Not for modules.
 */
#ifndef SL_HTTP_CONNECTION_H
#define SL_HTTP_CONNECTION_H

#include "sl_core.h"
#include "sl_http.h"

/*
 * Connection state that lives only while the connection is busy: the
 * connection's pool, log and header buffers. Between keep-alive requests
 * the connection keeps just the address configuration in c->data.
 */
typedef struct {
    sl_http_connection_t hc;
    sl_log_t log;
    sl_http_addr_conf_t *addr_conf;
    sl_http_request_t *request; /* the current request, for log lines */
    sl_http_request_t *posted;  /* a request to run once the stack unwinds */
    sl_buf_t *large[64];        /* large header buffers of the current request */
    sl_uint_t nlarge;
} sl_http_conn_state_t;

/* The busy connection's state (c->log->data while it has a pool). */
sl_http_conn_state_t *sl_http_conn_state(sl_connection_t *c);
/* Returns the connection to the idle state: no pool, no buffer, c->data = addr_conf. */
void sl_http_connection_idle(sl_connection_t *c, sl_http_addr_conf_t *addr_conf);
/* Frees the large header buffers of the current request, all but keep (may be NULL). */
void sl_http_free_large_buffers(sl_http_conn_state_t *cs, sl_buf_t *keep);
/* A new request on c (its pool, buffers and log context); NULL on allocation failure. */
sl_http_request_t *sl_http_create_request(sl_connection_t *c);
/*
 * Runs the request's cleanups and log phase (rc > 0: its status) and frees
 * it; the connection stays.
 */
void sl_http_free_request(sl_http_request_t *r, sl_int_t rc);
/* Closes the connection and releases everything it holds. */
void sl_http_close_connection(sl_connection_t *c);
/* After the response: keep-alive, lingering close or close. */
void sl_http_finalize_connection(sl_http_request_t *r);

/* Read handlers: the first bytes of a request, then its request line. */
void sl_http_wait_request_handler(sl_event_t *rev);
void sl_http_process_request_line(sl_event_t *rev);
/* The write handler of a connection without a request: writability means nothing. */
void sl_http_empty_handler(sl_event_t *ev);

/* sl_http_keepalive.c */

/* The request is done and the connection stays: the next pipelined request, or idle. */
void sl_http_set_keepalive(sl_http_request_t *r);
/* Reads and drops what the client still sends for a while, then closes (lingering close). */
void sl_http_set_lingering_close(sl_connection_t *c);
/*
 * Puts an idle connection of a stopping worker into the drain; returns 1 if
 * it is draining now (handled by sl_http_drain_idle_handler), 0 if it must
 * be closed at once.
 */
sl_uint_t sl_http_drain_idle(sl_connection_t *c);
/* The read handler of a draining idle connection. */
void sl_http_drain_idle_handler(sl_event_t *rev);

#endif /* SL_HTTP_CONNECTION_H */
