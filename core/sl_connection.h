/*
 * sl_connection.h: listening sockets and connections. A worker preallocates
 * worker_connections connection slots and their events; an idle keep-alive
 * connection holds only its slot (no pool, no buffer).
 */
#ifndef SL_CONNECTION_H
#define SL_CONNECTION_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_buf.h"
#include "sl_log.h"
#include "sl_event.h"

typedef struct sl_listening_s sl_listening_t;
typedef void (*sl_connection_handler_pt)(sl_connection_t *c);

/* The address of a listener or a client connection: IPv4 or IPv6. */
typedef union {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
} sl_sockaddr_t;

/*
 * Any address Sluice parses from a URL or connects to: also a unix-domain
 * socket ("unix:/path", for upstream peers). Kept out of sl_sockaddr_t so
 * that every connection slot does not carry room for a socket path.
 */
typedef union {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr_un un;
} sl_sockaddr_any_t;

/*
 * Room for the text of any sl_sockaddr_any_t, a unix socket's "unix:" and
 * full path included (SL_SOCKADDR_STRLEN covers the inet families only).
 */
#define SL_SOCKADDR_TEXT_LEN (sizeof("unix:") + sizeof(((struct sockaddr_un *) 0)->sun_path))

struct sl_listening_s {
    sl_fd_t fd;
    sl_sockaddr_t sockaddr;
    socklen_t socklen;
    sl_str_t addr_text; /* "127.0.0.1:8080", "[::1]:8080" */
    int backlog;
    int rcvbuf;
    int sndbuf;
    sl_connection_handler_pt handler; /* called for each accepted connection */
    void *servers;                   /* protocol data: the HTTP address's servers */
    sl_log_t log;
    sl_log_t *logp;
    size_t pool_size;
    sl_listening_t *previous; /* the same socket in the old cycle */
    sl_connection_t *connection;
    sl_uint_t worker;         /* with reuseport: which worker owns this copy */

    unsigned open : 1;
    unsigned remain : 1; /* kept open across a reload */
    unsigned ignore : 1;
    unsigned bound : 1;
    unsigned inherited : 1;
    unsigned listen : 1;
    unsigned reuseport : 1;
    unsigned add_reuseport : 1;
    unsigned ipv6only : 1;
    unsigned deferred_accept : 1;
};

struct sl_connection_s {
    void *data; /* protocol state: sl_http_request_t, or the listening's servers when idle */
    sl_event_t *read;
    sl_event_t *write;
    sl_fd_t fd;

    ssize_t (*recv)(sl_connection_t *c, u_char *buf, size_t size);
    ssize_t (*send)(sl_connection_t *c, u_char *buf, size_t size);
    /* Sends a chain up to limit bytes; returns the first unsent link or SL_CHAIN_ERROR. */
    sl_chain_t *(*send_chain)(sl_connection_t *c, sl_chain_t *in, off_t limit);
    /*
     * Reads into the free room (last..end) of the chain's buffers in order, up
     * to limit bytes (0: no limit); returns the bytes read, 0 at EOF, SL_AGAIN
     * or SL_ERROR. Does not move b->last. sl_get_connection sets sl_readv_chain; a
     * connection given another recv sets its own recv_chain or NULL (recv only).
     */
    ssize_t (*recv_chain)(sl_connection_t *c, sl_chain_t *in, off_t limit);

    sl_listening_t *listening;
    off_t sent;
    sl_log_t *log;
    sl_pool_t *pool;
    sl_buf_t *buffer;
    sl_queue_t queue; /* in cycle->reusable_connections while idle */

    sl_sockaddr_t sockaddr;
    socklen_t socklen;
    uint32_t number;   /* connection serial, for logs and $connection */
    uint32_t requests; /* requests served on it */
    sl_msec_t start_msec;

    unsigned log_error : 3;
    unsigned timedout : 1;
    unsigned error : 1;
    unsigned destroyed : 1;
    unsigned idle : 1;
    unsigned reusable : 1;
    unsigned close : 1;
    unsigned tcp_nodelay : 2;
    unsigned need_last_buf : 1;
};

#define SL_CHAIN_ERROR (sl_chain_t *) SL_ERROR

#define SL_ERROR_ALERT 0
#define SL_ERROR_ERR 1
#define SL_ERROR_INFO 2
#define SL_ERROR_IGNORE_ECONNRESET 3

/* Adds a listener for an address to cycle->listening; NULL on error. */
sl_listening_t *sl_create_listening(sl_conf_t *cf, struct sockaddr *sa, socklen_t socklen);
/* Binds and listens every listener not inherited from the old cycle; SL_OK or SL_ERROR. */
sl_int_t sl_open_listening_sockets(sl_cycle_t *cycle);
/* Duplicates reuseport listeners once per worker (before opening). */
sl_int_t sl_clone_listening(sl_cycle_t *cycle, sl_listening_t *ls, sl_uint_t workers);
void sl_configure_listening_sockets(sl_cycle_t *cycle);
/* Closes every listener of the cycle in this process. */
void sl_close_listening_sockets(sl_cycle_t *cycle);
/* Adds this worker's listeners to epoll with sl_event_accept as handler. */
sl_int_t sl_enable_accept_events(sl_cycle_t *cycle);
sl_int_t sl_disable_accept_events(sl_cycle_t *cycle);

/* Takes a free slot for fd; NULL (logged) when worker_connections are in use. */
sl_connection_t *sl_get_connection(sl_fd_t fd, sl_log_t *log);
/* Returns a slot to the free list (does not close the fd). */
void sl_free_connection(sl_connection_t *c);
/* Removes timers and posted events, closes the fd, frees the slot. */
void sl_close_connection(sl_connection_t *c);
/* Marks an idle connection as closable when slots run short. */
void sl_reusable_connection(sl_connection_t *c, sl_uint_t reusable);
/* Closes the oldest idle keep-alive connections to free slots. */
void sl_drain_connections(sl_cycle_t *cycle);
/*
 * For a graceful stop: every connection with c->idle set gets c->close = 1
 * and its read handler called, so its protocol closes it at a safe point.
 */
void sl_close_idle_connections(sl_cycle_t *cycle);
/* Logs a socket error at the connection's log_error level; returns SL_ERROR. */
sl_int_t sl_connection_error(sl_connection_t *c, sl_err_t err, const char *text);
sl_int_t sl_tcp_nodelay(sl_connection_t *c);

/* The listener read handler: accepts (accept4, non-blocking) and calls ls->handler. */
void sl_event_accept(sl_event_t *ev);

/* Socket I/O on plain fds: set as c->recv / c->send / c->send_chain. */
ssize_t sl_unix_recv(sl_connection_t *c, u_char *buf, size_t size);
ssize_t sl_unix_send(sl_connection_t *c, u_char *buf, size_t size);
sl_chain_t *sl_writev_chain(sl_connection_t *c, sl_chain_t *in, off_t limit);
/*
 * One readv(2) into the free room of the chain's buffers (see recv_chain);
 * edge-triggered like sl_unix_recv: a read shorter than the room offered
 * clears c->read->ready.
 */
ssize_t sl_readv_chain(sl_connection_t *c, sl_chain_t *in, off_t limit);

/* Formats a socket address ("1.2.3.4", with port "1.2.3.4:80", "[::1]:80"); returns the length. */
size_t sl_sock_ntop(const struct sockaddr *sa, socklen_t socklen, u_char *text, size_t len,
                    sl_uint_t port);
/*
 * Parses "addr:port", "[v6]:port", "port", "*:port", "host:port" (resolved)
 * or "unix:/path" (one AF_UNIX address, host is the whole "unix:/path", port
 * 0); SL_OK, or SL_ERROR with u->err set.
 */
typedef struct {
    sl_str_t url;
    sl_uint_t default_port;
    sl_uint_t listen;      /* a bare number is a port */
    sl_sockaddr_any_t sockaddr;
    socklen_t socklen;
    sl_str_t host;
    sl_uint_t port;
    sl_uint_t naddrs;
    sl_sockaddr_any_t *addrs; /* every resolved address */
    socklen_t *addr_lens;
    const char *err;
} sl_url_t;
sl_int_t sl_parse_url(sl_pool_t *pool, sl_url_t *u);
sl_int_t sl_cmp_sockaddr(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
                         socklen_t blen, sl_uint_t cmp_port);

#endif /* SL_CONNECTION_H */
