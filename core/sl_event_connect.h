/*
 * sl_event_connect.h: outgoing connections to peers (upstream servers).
 * A balancer fills in the peer (sockaddr, name) through pc->get; the
 * connection is non-blocking, registered with epoll like an accepted one,
 * and goes back through pc->free with what happened, so the balancer can
 * count failures and a keep-alive pool can keep it.
 */
#ifndef SL_EVENT_CONNECT_H
#define SL_EVENT_CONNECT_H

#include "sl_config.h"
#include "sl_connection.h"

typedef struct sl_peer_connection_s sl_peer_connection_t;

/*
 * Chooses a peer and sets pc->sockaddr, socklen and name. Returns SL_OK,
 * SL_DONE when it handed over a cached (keep-alive) connection in
 * pc->connection, or SL_BUSY when no peer is available.
 */
typedef sl_int_t (*sl_event_get_peer_pt)(sl_peer_connection_t *pc, void *data);
/* Reports the outcome for the peer chosen last (state: SL_PEER_*). */
typedef void (*sl_event_free_peer_pt)(sl_peer_connection_t *pc, void *data, sl_uint_t state);

#define SL_PEER_KEEPALIVE 1 /* the connection may be kept for reuse */
#define SL_PEER_NEXT 2      /* the peer answered badly: try another, count no failure */
#define SL_PEER_FAILED 4    /* the peer failed: count a failure */

struct sl_peer_connection_s {
    sl_connection_t *connection;

    struct sockaddr *sockaddr;
    socklen_t socklen;
    sl_str_t *name;

    sl_uint_t tries;      /* attempts left, set by the balancer's init */
    sl_msec_t start_time; /* when the first attempt started (for next_upstream_timeout) */

    sl_event_get_peer_pt get;
    sl_event_free_peer_pt free;
    void *data; /* the balancer's per-request state */

    sl_log_t *log;

    int rcvbuf;
    unsigned cached : 1; /* the connection came from a keep-alive pool */
    unsigned log_error : 2;
};

/*
 * Gets a peer and starts a non-blocking connect to it. Returns SL_OK
 * (connected at once), SL_AGAIN (in progress: wait for the write event),
 * SL_DONE (a cached connection is ready in pc->connection), SL_BUSY (no
 * peer available), SL_DECLINED (this peer failed at once: the caller
 * reports SL_PEER_FAILED and tries the next) or SL_ERROR (a local failure).
 * On SL_OK, SL_AGAIN and SL_DONE pc->connection is set and in epoll; the
 * caller checks SO_ERROR once when a new connection completes (not for a
 * cached one) and owns the connection until it gives it back through pc->free.
 */
sl_int_t sl_event_connect_peer(sl_peer_connection_t *pc);

/*
 * A get for connections set up by hand: pc->sockaddr, socklen and name are
 * already filled in, so it chooses nothing and returns SL_OK.
 */
sl_int_t sl_event_get_peer(sl_peer_connection_t *pc, void *data);

#endif /* SL_EVENT_CONNECT_H */
