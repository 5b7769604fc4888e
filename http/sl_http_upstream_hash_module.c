/*
 * sl_http_upstream_hash_module.c: "hash KEY [consistent]" in an upstream
 * block. KEY is a complex value ("$request_uri", "$arg_user$cookie_x").
 *
 * Plain: the peer is found by weight from a running sum of 15-bit slices of
 * crc32(KEY) (the Cache::Memcached scheme nginx uses); a peer that cannot
 * be chosen makes the key rehash with its attempt number as a prefix.
 *
 * Consistent (ketama): each server name gets 160 points per unit of weight
 * on a ring of crc32 values; a key goes to the first point at or after its
 * own crc32. Removing one of N servers moves only the keys that were on it,
 * about 1/N of them. Points belong to server names, so every address of a
 * name shares its points (by smooth round robin among them).
 *
 * After 20 unusable picks round robin decides. Backup servers are refused.
 * crc32 comes from zlib.
 */

#include "sl_http_upstream_round_robin.h"

#include <zlib.h>

typedef struct {
    uint32_t hash;
    sl_str_t *server;
} sl_http_upstream_chash_point_t;

typedef struct {
    sl_uint_t number;
    sl_http_upstream_chash_point_t point[1];
} sl_http_upstream_chash_points_t;

typedef struct {
    sl_http_complex_value_t *key;
    sl_http_upstream_chash_points_t *points; /* consistent only */
} sl_http_upstream_hash_srv_conf_t;

typedef struct {
    sl_http_upstream_rr_peer_data_t rrp; /* first: round robin's state */
    sl_http_upstream_hash_srv_conf_t *conf;
    sl_str_t key;
    sl_uint_t tries;
    sl_uint_t rehash;
    uint32_t hash;
} sl_http_upstream_hash_peer_data_t;

static void *sl_http_upstream_hash_create_conf(sl_conf_t *cf);
static char *sl_http_upstream_hash(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static sl_int_t sl_http_upstream_init_hash(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_init_chash(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_init_hash_peer(sl_http_request_t *r,
                                                sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_init_chash_peer(sl_http_request_t *r,
                                                 sl_http_upstream_srv_conf_t *us);
static sl_int_t sl_http_upstream_get_hash_peer(sl_peer_connection_t *pc, void *data);
static sl_int_t sl_http_upstream_get_chash_peer(sl_peer_connection_t *pc, void *data);

static sl_command_t sl_http_upstream_hash_commands[] = {
    { sl_string("hash"), SL_HTTP_UPS_CONF | SL_CONF_TAKE12, sl_http_upstream_hash,
      SL_HTTP_SRV_CONF_OFFSET, 0, NULL },
    sl_null_command
};

static sl_http_module_t sl_http_upstream_hash_module_ctx = {
    NULL, NULL, NULL, NULL,
    sl_http_upstream_hash_create_conf, /* create_srv_conf */
    NULL, NULL, NULL
};

sl_module_t sl_http_upstream_hash_module = {
    SL_MODULE_V1,
    "sl_http_upstream_hash_module",
    SL_HTTP_MODULE,
    &sl_http_upstream_hash_module_ctx,
    sl_http_upstream_hash_commands,
    NULL, NULL, NULL, NULL
};


static void *
sl_http_upstream_hash_create_conf(sl_conf_t *cf)
{
    return sl_pcalloc(cf->pool, sizeof(sl_http_upstream_hash_srv_conf_t));
}


static char *
sl_http_upstream_hash(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value;
    sl_http_upstream_init_pt init;
    sl_http_upstream_hash_srv_conf_t *hcf = conf;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);

    value = cf->args->elts;

    hcf->key = sl_pcalloc(cf->pool, sizeof(sl_http_complex_value_t));
    if (hcf->key == NULL) {
        return SL_CONF_ERROR;
    }

    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = hcf->key;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return SL_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        init = sl_http_upstream_init_hash;

    } else if (sl_str_eq_lit(&value[2], "consistent")) {
        init = sl_http_upstream_init_chash;

    } else {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[2]);
        return SL_CONF_ERROR;
    }

    return sl_http_upstream_set_balancer(cf, init, 0);
}


static sl_int_t
sl_http_upstream_init_hash(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us)
{
    if (sl_http_upstream_init_round_robin(cf, us) != SL_OK) {
        return SL_ERROR;
    }

    us->peer.init = sl_http_upstream_init_hash_peer;

    return SL_OK;
}


/* Sets up the per-request state shared by both kinds of hash; NULL on error. */
static sl_http_upstream_hash_peer_data_t *
sl_http_upstream_hash_peer_data(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    sl_http_upstream_hash_peer_data_t *hp;

    hp = sl_pcalloc(r->pool, sizeof(sl_http_upstream_hash_peer_data_t));
    if (hp == NULL) {
        return NULL;
    }

    r->upstream->peer.data = &hp->rrp;

    if (sl_http_upstream_init_round_robin_peer(r, us) != SL_OK) {
        return NULL;
    }

    hp->conf = sl_http_conf_upstream_srv_conf(us, sl_http_upstream_hash_module);

    if (sl_http_complex_value(r, hp->conf->key, &hp->key) != SL_OK) {
        return NULL;
    }

    return hp;
}


static sl_int_t
sl_http_upstream_init_hash_peer(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    sl_http_upstream_hash_peer_data_t *hp;

    hp = sl_http_upstream_hash_peer_data(r, us);
    if (hp == NULL) {
        return SL_ERROR;
    }

    r->upstream->peer.get = sl_http_upstream_get_hash_peer;

    return SL_OK;
}


/* The next 15-bit slice for the key: crc32 of the attempt number (after the first) and the key. */
static uint32_t
sl_http_upstream_hash_slice(sl_str_t *key, sl_uint_t rehash)
{
    u_char buf[SL_INT_T_LEN];
    uLong crc;
    size_t size;

    crc = crc32(0L, Z_NULL, 0);

    if (rehash > 0) {
        size = (size_t) (sl_sprintf(buf, "%ui", rehash) - buf);
        crc = crc32(crc, buf, (uInt) size);
    }

    crc = crc32(crc, key->data, (uInt) key->len);

    return (uint32_t) ((crc >> 16) & 0x7fff);
}


static sl_int_t
sl_http_upstream_get_hash_peer(sl_peer_connection_t *pc, void *data)
{
    time_t now;
    sl_int_t w;
    sl_uint_t p;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;
    sl_http_upstream_hash_peer_data_t *hp = data;

    peers = hp->rrp.peers;

    pc->cached = 0;
    pc->connection = NULL;

    sl_http_upstream_rr_peers_lock(peers);

    if (hp->tries > 20 || peers->single || hp->key.len == 0 || peers->total_weight == 0) {
        sl_http_upstream_rr_peers_unlock(peers);
        return sl_http_upstream_get_round_robin_peer(pc, &hp->rrp);
    }

    now = sl_time();

    for (;;) {
        hp->hash += sl_http_upstream_hash_slice(&hp->key, hp->rehash);
        hp->rehash++;

        w = (sl_int_t) (hp->hash % peers->total_weight);
        peer = peers->peer;
        p = 0;

        while (w >= peer->weight) {
            w -= peer->weight;
            peer = peer->next;
            p++;
        }

        if (!sl_http_upstream_rr_tried(&hp->rrp, p) && sl_http_upstream_rr_peer_usable(peer, now)) {
            break;
        }

        if (++hp->tries > 20) {
            sl_http_upstream_rr_peers_unlock(peers);
            return sl_http_upstream_get_round_robin_peer(pc, &hp->rrp);
        }
    }

    sl_http_upstream_rr_set_tried(&hp->rrp, p);
    sl_http_upstream_rr_use_peer(pc, &hp->rrp, peer);

    sl_http_upstream_rr_peers_unlock(peers);

    return SL_OK;
}


static int
sl_http_upstream_chash_cmp_points(const void *one, const void *two)
{
    const sl_http_upstream_chash_point_t *first = one;
    const sl_http_upstream_chash_point_t *second = two;

    if (first->hash < second->hash) {
        return -1;
    }

    return first->hash > second->hash;
}


/*
 * The ring for a list of peers: for each, crc32 over "host" NUL "port" of
 * its server name seeds a chain of weight * 160 points, each the crc32 of
 * the seed followed by the previous point (little-endian). Sorted, equal
 * points kept once. NULL on allocation failure.
 */
static sl_http_upstream_chash_points_t *
sl_http_upstream_chash_build(sl_pool_t *pool, sl_http_upstream_rr_peers_t *peers)
{
    u_char *host, *port, c, prev[4];
    size_t host_len, port_len, size, k;
    uLong base, hash;
    uint32_t value;
    sl_uint_t i, j, npoints, n;
    sl_str_t *server;
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_chash_points_t *points;

    n = 0;

    for (peer = peers->peer; peer != NULL; peer = peer->next) {
        n += (sl_uint_t) peer->weight * 160;
    }

    size = sizeof(sl_http_upstream_chash_points_t)
           + sizeof(sl_http_upstream_chash_point_t) * (n ? n - 1 : 0);

    points = sl_palloc(pool, size);
    if (points == NULL) {
        return NULL;
    }

    points->number = 0;

    for (peer = peers->peer; peer != NULL; peer = peer->next) {
        server = &peer->server;

        host = server->data;
        host_len = server->len;
        port = NULL;
        port_len = 0;

        if (server->len >= 5 && sl_strncasecmp(server->data, (u_char *) "unix:", 5) == 0) {
            host = server->data + 5;
            host_len = server->len - 5;

        } else {
            for (k = 0; k < server->len; k++) {
                c = server->data[server->len - k - 1];

                if (c == ':') {
                    host_len = server->len - k - 1;
                    port = server->data + server->len - k;
                    port_len = k;
                    break;
                }

                if (c < '0' || c > '9') {
                    break;
                }
            }
        }

        base = crc32(0L, Z_NULL, 0);
        base = crc32(base, host, (uInt) host_len);
        base = crc32(base, (const Bytef *) "", 1);

        if (port_len) {
            base = crc32(base, port, (uInt) port_len);
        }

        value = 0;
        npoints = (sl_uint_t) peer->weight * 160;

        for (j = 0; j < npoints; j++) {
            prev[0] = (u_char) (value & 0xff);
            prev[1] = (u_char) ((value >> 8) & 0xff);
            prev[2] = (u_char) ((value >> 16) & 0xff);
            prev[3] = (u_char) ((value >> 24) & 0xff);

            hash = crc32(base, prev, 4);
            value = (uint32_t) hash;

            points->point[points->number].hash = value;
            points->point[points->number].server = server;
            points->number++;
        }
    }

    if (points->number == 0) {
        return points;
    }

    qsort(points->point, points->number, sizeof(sl_http_upstream_chash_point_t),
          sl_http_upstream_chash_cmp_points);

    for (i = 0, j = 1; j < points->number; j++) {
        if (points->point[i].hash != points->point[j].hash) {
            points->point[++i] = points->point[j];
        }
    }

    points->number = i + 1;

    return points;
}


/* The index of the first point at or after hash (points->number past the last one). */
static sl_uint_t
sl_http_upstream_chash_find(sl_http_upstream_chash_points_t *points, uint32_t hash)
{
    sl_uint_t i, j, k;

    i = 0;
    j = points->number;

    while (i < j) {
        k = (i + j) / 2;

        if (hash > points->point[k].hash) {
            i = k + 1;

        } else {
            j = k;
        }
    }

    return i;
}


static sl_int_t
sl_http_upstream_init_chash(sl_conf_t *cf, sl_http_upstream_srv_conf_t *us)
{
    sl_http_upstream_hash_srv_conf_t *hcf;

    if (sl_http_upstream_init_round_robin(cf, us) != SL_OK) {
        return SL_ERROR;
    }

    us->peer.init = sl_http_upstream_init_chash_peer;

    hcf = sl_http_conf_upstream_srv_conf(us, sl_http_upstream_hash_module);

    /* built from the configuration's peers; server names are compared by content */
    hcf->points = sl_http_upstream_chash_build(cf->pool, us->peer.data);
    if (hcf->points == NULL) {
        return SL_ERROR;
    }

    return SL_OK;
}


static sl_int_t
sl_http_upstream_init_chash_peer(sl_http_request_t *r, sl_http_upstream_srv_conf_t *us)
{
    uint32_t hash;
    sl_http_upstream_hash_peer_data_t *hp;

    hp = sl_http_upstream_hash_peer_data(r, us);
    if (hp == NULL) {
        return SL_ERROR;
    }

    r->upstream->peer.get = sl_http_upstream_get_chash_peer;

    hash = (uint32_t) crc32(crc32(0L, Z_NULL, 0), hp->key.data, (uInt) hp->key.len);
    hp->hash = (uint32_t) sl_http_upstream_chash_find(hp->conf->points, hash);

    return SL_OK;
}


static sl_int_t
sl_http_upstream_get_chash_peer(sl_peer_connection_t *pc, void *data)
{
    sl_str_t *server;
    sl_http_upstream_rr_peer_t *best;
    sl_http_upstream_rr_peers_t *peers;
    sl_http_upstream_chash_points_t *points;
    sl_http_upstream_hash_peer_data_t *hp = data;

    peers = hp->rrp.peers;
    points = hp->conf->points;

    pc->cached = 0;
    pc->connection = NULL;

    sl_http_upstream_rr_peers_lock(peers);

    if (hp->tries > 20 || peers->single || hp->key.len == 0 || points->number == 0) {
        sl_http_upstream_rr_peers_unlock(peers);
        return sl_http_upstream_get_round_robin_peer(pc, &hp->rrp);
    }

    for (;;) {
        server = points->point[hp->hash % points->number].server;

        best = sl_http_upstream_rr_choose_peer(&hp->rrp, server);

        if (best != NULL) {
            break;
        }

        hp->hash++;

        if (++hp->tries > 20) {
            sl_http_upstream_rr_peers_unlock(peers);
            return sl_http_upstream_get_round_robin_peer(pc, &hp->rrp);
        }
    }

    sl_http_upstream_rr_use_peer(pc, &hp->rrp, best);

    sl_http_upstream_rr_peers_unlock(peers);

    return SL_OK;
}
