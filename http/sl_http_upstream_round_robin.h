/*
 * sl_http_upstream_round_robin.h: the peers of an upstream group and the
 * default balancer, smooth weighted round robin (nginx semantics).
 *
 * Every balancer (least_conn, ip_hash, hash, random) builds on the peers
 * made here: a list of primary peers and, when some server is "backup", a
 * second list in peers->next. The lists live in the cycle's pool, or in a
 * shared memory zone when the group has "zone NAME SIZE"; then all workers
 * and the health-check helper process see the same counters.
 *
 * Locking: everything mutable in a peers list and in its peers (current and
 * effective weight, conns, fails, accessed, checked, hc_*) is guarded by the
 * list's lock, taken with sl_http_upstream_rr_peers_lock(). The lock is a
 * no-op for a list outside a zone (one worker owns it). The primary and the
 * backup list each have their own lock; never hold both. The health checker
 * takes the same lock to write hc_down / hc_fails / hc_passes / hc_checked.
 *
 * Passive health: a peer with max_fails failures (SL_PEER_FAILED) within
 * fail_timeout is skipped for fail_timeout seconds, then given one try; a
 * success resets its failures. A peer marked down in the configuration, or
 * with hc_down set by the active checker, is skipped and counts as down: the
 * backup list is used only when no primary peer can be chosen. When no peer
 * at all can be chosen, get returns SL_BUSY (the upstream core answers 502).
 */
#ifndef SL_HTTP_UPSTREAM_ROUND_ROBIN_H
#define SL_HTTP_UPSTREAM_ROUND_ROBIN_H

#include "sl_core.h"
#include "sl_http.h"
#include "sl_http_upstream.h"

typedef struct sl_http_upstream_rr_peer_s sl_http_upstream_rr_peer_t;
typedef struct sl_http_upstream_rr_peers_s sl_http_upstream_rr_peers_t;

struct sl_http_upstream_rr_peer_s {
    struct sockaddr *sockaddr;
    socklen_t socklen;
    sl_str_t name;   /* the address: "127.0.0.1:8080", "unix:/path"; what $upstream_addr shows */
    sl_str_t server; /* the "server" line's name: "backend.local:8080" (hash consistent) */

    sl_int_t current_weight; /* smooth round robin state */
    sl_int_t effective_weight;
    sl_int_t weight;

    sl_uint_t conns;     /* connections in use, all workers when in a zone */
    sl_uint_t max_conns; /* 0: no limit */

    sl_uint_t fails;     /* passive failures since the last success */
    time_t accessed;     /* the last failure */
    time_t checked;      /* the last time the peer was chosen or failed */
    sl_uint_t max_fails; /* 0: never marked failed */
    time_t fail_timeout;

    sl_uint_t requests; /* times chosen, for status pages */
    sl_uint_t down;     /* "down" in the configuration */

    /* Active health, written by the checker under the list's lock. */
    sl_uint_t hc_down;   /* not 0: the checker found the peer unhealthy; skip it */
    sl_uint_t hc_fails;  /* consecutive failed checks */
    sl_uint_t hc_passes; /* consecutive passed checks */
    time_t hc_checked;   /* when the last check finished */
    sl_uint_t hc_status; /* the last check's HTTP status, 0 for a connection failure */

    sl_http_upstream_rr_peer_t *next;
};

struct sl_http_upstream_rr_peers_s {
    sl_uint_t number;       /* peers in this list */
    sl_uint_t total_weight; /* of the peers not down in the configuration */
    sl_uint_t tries;        /* peers not down in the configuration */

    unsigned single : 1;   /* one peer, no backup: no balancing, no failure counting */
    unsigned weighted : 1; /* some weight differs from 1 */

    sl_str_t *name; /* the group's name */

    sl_shm_zone_t *shm_zone; /* the zone holding this list, or NULL */
    sl_shmtx_t mutex;        /* a handle to lock, or {NULL} outside a zone */
    sl_shmtx_sh_t lock;      /* the lock itself (used only inside a zone) */

    sl_http_upstream_rr_peers_t *next; /* the backup list of a primary list, or NULL */
    sl_http_upstream_rr_peer_t *peer;  /* the first peer */
};

/* Per-request state of round robin; other balancers embed it first. */
typedef struct {
    sl_http_upstream_rr_peers_t *peers; /* the list being tried: primary, then backup */
    sl_http_upstream_rr_peer_t *current; /* the peer chosen last */
    uintptr_t *tried;                   /* one bit per peer of the list being tried */
    uintptr_t data;                     /* the bits themselves, up to 64 peers */
} sl_http_upstream_rr_peer_data_t;

#define sl_http_upstream_rr_peers_lock(peers) \
    do { \
        if ((peers)->mutex.mutex != NULL) { \
            sl_shmtx_lock(&(peers)->mutex); \
        } \
    } while (0)

#define sl_http_upstream_rr_peers_unlock(peers) \
    do { \
        if ((peers)->mutex.mutex != NULL) { \
            sl_shmtx_unlock(&(peers)->mutex); \
        } \
    } while (0)

#define SL_HTTP_UPSTREAM_RR_TRIED_BITS (8 * sizeof(uintptr_t))

/*
 * True when a peer may be chosen at time now: not down in the configuration
 * nor by the health checker, not failed (max_fails within fail_timeout),
 * below max_conns. Call with the list locked.
 */
#define sl_http_upstream_rr_peer_usable(peer, now) \
    (!(peer)->down && !(peer)->hc_down \
     && !((peer)->max_fails && (peer)->fails >= (peer)->max_fails \
          && (now) - (peer)->checked <= (peer)->fail_timeout) \
     && !((peer)->max_conns && (peer)->conns >= (peer)->max_conns))

/*
 * Builds us->peer.data (an sl_http_upstream_rr_peers_t) from us->servers, or
 * for an implicit group (us->servers NULL) from resolving us->host:us->port.
 * Sets us->peer.init to sl_http_upstream_init_round_robin_peer unless a
 * balancer set its own. Returns SL_OK, or SL_ERROR having logged why
 * ("no servers are inside upstream", "host not found in upstream").
 */
sl_int_t sl_http_upstream_init_round_robin(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);

/*
 * Prepares r->upstream->peer for round robin: get, free, data (an
 * sl_http_upstream_rr_peer_data_t in r->pool) and tries (peers not down, in
 * both lists). SL_OK or SL_ERROR.
 */
sl_int_t sl_http_upstream_init_round_robin_peer(sl_http_request_t *r,
                                                sl_http_upstream_srv_conf_t *us);

/*
 * For a target resolved per request (proxy_pass with variables): builds a
 * one-request group of u->naddrs peers (addresses with their port set, named
 * by address; the group is named u->host) in r->pool and sets up
 * r->upstream->peer as sl_http_upstream_init_round_robin_peer() does.
 * SL_OK or SL_ERROR.
 */
sl_int_t sl_http_upstream_create_round_robin_peer(sl_http_request_t *r, sl_url_t *u);

/*
 * Chooses the next peer (smooth weighted round robin over the usable peers
 * not yet tried by this request; the backup list when none is left) and
 * sets pc->sockaddr, socklen, name and counts a connection. Returns SL_OK,
 * or SL_BUSY with pc->name set to the group's name when no peer is left.
 */
sl_int_t sl_http_upstream_get_round_robin_peer(sl_peer_connection_t *pc, void *data);

/*
 * Reports on the peer chosen last: SL_PEER_FAILED counts a failure (and
 * lowers its effective weight), anything else after a failure period
 * resets its failures; the connection count drops and pc->tries by one.
 */
void sl_http_upstream_free_round_robin_peer(sl_peer_connection_t *pc, void *data,
                                            sl_uint_t state);

/*
 * Smooth weighted round robin over the usable, untried peers of rrp->peers
 * (only those whose server name is server, unless it is NULL): marks the
 * chosen peer tried. Returns the peer or NULL; sl_http_upstream_rr_use_peer()
 * takes it. Call with the list locked.
 */
sl_http_upstream_rr_peer_t *sl_http_upstream_rr_choose_peer(sl_http_upstream_rr_peer_data_t *rrp,
                                                            const sl_str_t *server);

/* Whether peer number n of the list being tried was tried by this request, and marking it. */
#define sl_http_upstream_rr_tried(rrp, n) \
    ((rrp)->tried[(n) / SL_HTTP_UPSTREAM_RR_TRIED_BITS] \
     & ((uintptr_t) 1 << ((n) % SL_HTTP_UPSTREAM_RR_TRIED_BITS)))
#define sl_http_upstream_rr_set_tried(rrp, n) \
    (rrp)->tried[(n) / SL_HTTP_UPSTREAM_RR_TRIED_BITS] |= \
        ((uintptr_t) 1 << ((n) % SL_HTTP_UPSTREAM_RR_TRIED_BITS))

/*
 * Sets pc's address from peer, counts the connection and the request, and
 * starts a new failure check period when the last one is over. Call with
 * the list locked.
 */
void sl_http_upstream_rr_use_peer(sl_peer_connection_t *pc, sl_http_upstream_rr_peer_data_t *rrp,
                                  sl_http_upstream_rr_peer_t *peer);

/*
 * Switches rrp to the backup list with a clean tried set; SL_OK, or
 * SL_DECLINED when there is no backup list. For balancers that support
 * backup (least_conn); the caller must not hold the primary list's lock.
 */
sl_int_t sl_http_upstream_rr_use_backup(sl_http_upstream_rr_peer_data_t *rrp);

/*
 * Makes init the balancing method of the upstream {} block being parsed
 * (a warning when it replaces one), with the server parameters such a
 * method supports: weight, max_conns, max_fails, fail_timeout, down, and
 * backup only when backup is set (a server already declared "backup" is
 * refused then). SL_CONF_OK or SL_CONF_ERROR (logged with file:line).
 */
char *sl_http_upstream_set_balancer(sl_conf_t *cf, sl_http_upstream_init_pt init,
                                    sl_uint_t backup);

#endif /* SL_HTTP_UPSTREAM_ROUND_ROBIN_H */
