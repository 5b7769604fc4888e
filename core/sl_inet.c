/*
 * sl_inet.c: socket addresses as text (sl_sock_ntop), compared
 * (sl_cmp_sockaddr), and parsed from the addresses of "listen", "server"
 * and "proxy_pass" (sl_parse_url: IPv4, [IPv6], host names resolved when
 * the configuration is read, unix:/path).
 */
#include "sl_config.h"

#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_buf.h"
#include "sl_log.h"
#include "sl_event.h"
#include "sl_connection.h"

size_t
sl_sock_ntop(const struct sockaddr *sa, socklen_t socklen, u_char *text, size_t len, sl_uint_t port)
{
    u_char *p;
    size_t n;
    char addr[INET6_ADDRSTRLEN];
    const struct sockaddr_in *sin;
    const struct sockaddr_in6 *sin6;
    const struct sockaddr_un *saun;

    if (len == 0 || socklen < sizeof(sa_family_t)) {
        return 0;
    }

    switch (sa->sa_family) {
    case AF_INET:
        if (socklen < sizeof(struct sockaddr_in)) {
            return 0;
        }

        sin = (const struct sockaddr_in *) sa;

        if (inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        if (port) {
            p = sl_slprintf(text, text + len, "%s:%d", addr, (int) ntohs(sin->sin_port));

        } else {
            p = sl_slprintf(text, text + len, "%s", addr);
        }

        return (size_t) (p - text);

    case AF_INET6:
        if (socklen < sizeof(struct sockaddr_in6)) {
            return 0;
        }

        sin6 = (const struct sockaddr_in6 *) sa;

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        if (port) {
            p = sl_slprintf(text, text + len, "[%s]:%d", addr, (int) ntohs(sin6->sin6_port));

        } else {
            p = sl_slprintf(text, text + len, "%s", addr);
        }

        return (size_t) (p - text);

    case AF_UNIX:
        saun = (const struct sockaddr_un *) sa;

        n = 0;
        if (socklen > offsetof(struct sockaddr_un, sun_path)) {
            n = sl_min((size_t) socklen - offsetof(struct sockaddr_un, sun_path),
                       sizeof(saun->sun_path));
            n = strnlen(saun->sun_path, n);
        }

        p = sl_slprintf(text, text + len, "unix:%*s", n, saun->sun_path);

        return (size_t) (p - text);

    default:
        return 0;
    }
}


sl_int_t
sl_cmp_sockaddr(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b, socklen_t blen,
                sl_uint_t cmp_port)
{
    const struct sockaddr_in *sin1, *sin2;
    const struct sockaddr_in6 *sin61, *sin62;

    if (a->sa_family != b->sa_family) {
        return SL_DECLINED;
    }

    switch (a->sa_family) {
    case AF_INET:
        if (alen < sizeof(struct sockaddr_in) || blen < sizeof(struct sockaddr_in)) {
            return SL_DECLINED;
        }

        sin1 = (const struct sockaddr_in *) a;
        sin2 = (const struct sockaddr_in *) b;

        if (cmp_port && sin1->sin_port != sin2->sin_port) {
            return SL_DECLINED;
        }

        if (sin1->sin_addr.s_addr != sin2->sin_addr.s_addr) {
            return SL_DECLINED;
        }

        return SL_OK;

    case AF_INET6:
        if (alen < sizeof(struct sockaddr_in6) || blen < sizeof(struct sockaddr_in6)) {
            return SL_DECLINED;
        }

        sin61 = (const struct sockaddr_in6 *) a;
        sin62 = (const struct sockaddr_in6 *) b;

        if (cmp_port && sin61->sin6_port != sin62->sin6_port) {
            return SL_DECLINED;
        }

        if (memcmp(&sin61->sin6_addr, &sin62->sin6_addr, 16) != 0) {
            return SL_DECLINED;
        }

        return SL_OK;

    case AF_UNIX:
        if (alen != blen || memcmp(a, b, alen) != 0) {
            return SL_DECLINED;
        }

        return SL_OK;

    default:
        return SL_DECLINED;
    }
}


/* Appends sa to u->addrs unless it is already there. */
static void
sl_url_add_addr(sl_url_t *u, const struct sockaddr *sa, socklen_t socklen, sl_uint_t port)
{
    sl_uint_t i;
    sl_sockaddr_any_t *addr;

    if (socklen > sizeof(sl_sockaddr_t)) {
        return;
    }

    addr = &u->addrs[u->naddrs];
    sl_memzero(addr, sizeof(sl_sockaddr_any_t));
    sl_memcpy(addr, sa, socklen);

    if (sa->sa_family == AF_INET6) {
        addr->sin6.sin6_port = htons((uint16_t) port);

    } else {
        addr->sin.sin_port = htons((uint16_t) port);
    }

    for (i = 0; i < u->naddrs; i++) {
        if (sl_cmp_sockaddr(&u->addrs[i].sa, u->addr_lens[i], &addr->sa, socklen, 1) == SL_OK) {
            return;
        }
    }

    u->addr_lens[u->naddrs] = socklen;
    u->naddrs++;
}


/* Resolves u->host (NUL-terminated in host) into u->addrs, IPv4 first; SL_OK or SL_ERROR. */
static sl_int_t
sl_url_resolve(sl_pool_t *pool, sl_url_t *u, const char *host)
{
    int rc;
    sl_uint_t n, pass;
    struct addrinfo hints, *res, *rp;

    sl_memzero(&hints, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        u->err = "host not found";
        return SL_ERROR;
    }

    n = 0;

    for (rp = res; rp != NULL; rp = rp->ai_next) {
        if (rp->ai_family == AF_INET || rp->ai_family == AF_INET6) {
            n++;
        }
    }

    if (n == 0) {
        freeaddrinfo(res);
        u->err = "host not found";
        return SL_ERROR;
    }

    u->addrs = sl_pcalloc(pool, n * sizeof(sl_sockaddr_any_t));
    u->addr_lens = sl_pcalloc(pool, n * sizeof(socklen_t));

    if (u->addrs == NULL || u->addr_lens == NULL) {
        freeaddrinfo(res);
        u->err = "out of memory";
        return SL_ERROR;
    }

    for (pass = 0; pass < 2; pass++) {
        for (rp = res; rp != NULL; rp = rp->ai_next) {
            if (rp->ai_family == (pass == 0 ? AF_INET : AF_INET6)) {
                sl_url_add_addr(u, rp->ai_addr, rp->ai_addrlen, u->port);
            }
        }
    }

    freeaddrinfo(res);

    if (u->naddrs == 0) {
        u->err = "host not found";
        return SL_ERROR;
    }

    return SL_OK;
}


/* "unix:/path": one AF_UNIX address; u->host is the whole text, as peers are named. */
static sl_int_t
sl_parse_unix_url(sl_pool_t *pool, sl_url_t *u)
{
    u_char *path;
    size_t len;
    struct sockaddr_un *saun;

    path = u->url.data + 5;
    len = u->url.len - 5;

    if (len == 0) {
        u->err = "no path in the unix domain socket";
        return SL_ERROR;
    }

    if (len >= sizeof(saun->sun_path)) {
        u->err = "too long path in the unix domain socket";
        return SL_ERROR;
    }

    if (memchr(path, '\0', len) != NULL) {
        u->err = "invalid path in the unix domain socket";
        return SL_ERROR;
    }

    u->addrs = sl_pcalloc(pool, sizeof(sl_sockaddr_any_t));
    u->addr_lens = sl_pcalloc(pool, sizeof(socklen_t));
    if (u->addrs == NULL || u->addr_lens == NULL) {
        u->err = "out of memory";
        return SL_ERROR;
    }

    /* the whole structure, zero-padded: addresses compare with memcmp() */
    saun = &u->addrs[0].un;
    saun->sun_family = AF_UNIX;
    sl_memcpy(saun->sun_path, path, len);

    u->addr_lens[0] = sizeof(struct sockaddr_un);
    u->naddrs = 1;
    u->host = u->url;
    u->port = 0;

    sl_memcpy(&u->sockaddr, &u->addrs[0], sizeof(struct sockaddr_un));
    u->socklen = sizeof(struct sockaddr_un);

    return SL_OK;
}


sl_int_t
sl_parse_url(sl_pool_t *pool, sl_url_t *u)
{
    u_char *p, *last, *host, *port, *q;
    size_t hostlen, portlen, i;
    sl_int_t n;
    sl_uint_t bracketed, any;
    char name[NI_MAXHOST];
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;

    u->err = NULL;
    u->naddrs = 0;
    u->addrs = NULL;
    u->addr_lens = NULL;
    u->socklen = 0;
    u->port = 0;
    sl_str_null(&u->host);

    p = u->url.data;
    last = p + u->url.len;

    if (u->url.len == 0) {
        u->err = "no host";
        return SL_ERROR;
    }

    if (u->url.len >= 5 && sl_strncasecmp(p, (u_char *) "unix:", 5) == 0) {
        return sl_parse_unix_url(pool, u);
    }

    host = p;
    hostlen = 0;
    port = NULL;
    portlen = 0;
    bracketed = 0;

    if (*p == '[') {
        host = p + 1;
        q = memchr(host, ']', (size_t) (last - host));

        if (q == NULL) {
            u->err = "invalid IPv6 address";
            return SL_ERROR;
        }

        hostlen = (size_t) (q - host);
        bracketed = 1;
        q++;

        if (q < last) {
            if (*q != ':') {
                u->err = "invalid host";
                return SL_ERROR;
            }

            port = q + 1;
            portlen = (size_t) (last - port);
        }

    } else {
        q = memchr(p, ':', u->url.len);

        if (q != NULL) {
            if (memchr(q + 1, ':', (size_t) (last - q - 1)) != NULL) {
                u->err = "an IPv6 address must be enclosed in \"[]\"";
                return SL_ERROR;
            }

            hostlen = (size_t) (q - p);
            port = q + 1;
            portlen = (size_t) (last - port);

        } else {
            for (i = 0; i < u->url.len && p[i] >= '0' && p[i] <= '9'; i++) {
                /* void */
            }

            if (u->listen && i == u->url.len) {
                /* a bare number is a port on every address */
                port = p;
                portlen = u->url.len;
                host = (u_char *) "*";
                hostlen = 1;

            } else {
                hostlen = u->url.len;
            }
        }
    }

    if (port != NULL) {
        n = sl_atoi(port, portlen);

        if (n < 1 || n > 65535) {
            u->err = "invalid port";
            return SL_ERROR;
        }

        u->port = (sl_uint_t) n;

    } else if (u->default_port != 0 && u->default_port <= 65535) {
        u->port = u->default_port;

    } else {
        u->err = "no port";
        return SL_ERROR;
    }

    if (hostlen == 0) {
        u->err = "no host";
        return SL_ERROR;
    }

    if (hostlen >= sizeof(name)) {
        u->err = "host name is too long";
        return SL_ERROR;
    }

    u->host.data = host;
    u->host.len = hostlen;

    sl_memcpy(name, host, hostlen);
    name[hostlen] = '\0';

    if (memchr(name, '\0', hostlen) != NULL) {
        u->err = "invalid host";
        return SL_ERROR;
    }

    any = (!bracketed && hostlen == 1 && name[0] == '*');

    sl_memzero(&sin, sizeof(struct sockaddr_in));
    sl_memzero(&sin6, sizeof(struct sockaddr_in6));
    sin.sin_family = AF_INET;
    sin6.sin6_family = AF_INET6;

    if (any || (!bracketed && inet_pton(AF_INET, name, &sin.sin_addr) == 1)) {
        if (any) {
            sin.sin_addr.s_addr = htonl(INADDR_ANY);
        }

        u->addrs = sl_pcalloc(pool, sizeof(sl_sockaddr_any_t));
        u->addr_lens = sl_pcalloc(pool, sizeof(socklen_t));
        if (u->addrs == NULL || u->addr_lens == NULL) {
            u->err = "out of memory";
            return SL_ERROR;
        }

        sl_url_add_addr(u, (struct sockaddr *) &sin, sizeof(struct sockaddr_in), u->port);

    } else if (bracketed) {
        if (inet_pton(AF_INET6, name, &sin6.sin6_addr) != 1) {
            u->err = "invalid IPv6 address";
            return SL_ERROR;
        }

        u->addrs = sl_pcalloc(pool, sizeof(sl_sockaddr_any_t));
        u->addr_lens = sl_pcalloc(pool, sizeof(socklen_t));
        if (u->addrs == NULL || u->addr_lens == NULL) {
            u->err = "out of memory";
            return SL_ERROR;
        }

        sl_url_add_addr(u, (struct sockaddr *) &sin6, sizeof(struct sockaddr_in6), u->port);

    } else if (sl_url_resolve(pool, u, name) != SL_OK) {
        return SL_ERROR;
    }

    sl_memcpy(&u->sockaddr, &u->addrs[0], u->addr_lens[0]);
    u->socklen = u->addr_lens[0];

    return SL_OK;
}
