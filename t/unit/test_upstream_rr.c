/*
 * test_upstream_rr.c: the balancers' choices, checked exactly on hand-built
 * groups: smooth weighted round robin, backup, down, max_fails with
 * recovery after fail_timeout (on a fake clock), max_conns, least_conn,
 * ip_hash, hash and consistent hash, random and random two; and the zone's
 * copy of a group into shared memory. The balancer sources are included, so
 * their static functions can be driven directly; the upstream core and
 * complex values are faked (a hash key is taken as it is).
 */

#include "sl_core.h"
#include "sl_http.h"
#include "sl_tap.h"

#include "../../http/sl_http_upstream_round_robin.c"
#include "../../http/sl_http_upstream_least_conn_module.c"
#include "../../http/sl_http_upstream_ip_hash_module.c"
#include "../../http/sl_http_upstream_hash_module.c"
#include "../../http/sl_http_upstream_random_module.c"
#include "../../http/sl_http_upstream_zone_module.c"

/* Fakes of the upstream core and the script engine ---------------------- */

sl_module_t sl_http_upstream_module = {
    SL_MODULE_V1, "sl_http_upstream_module", SL_HTTP_MODULE, NULL, NULL,
    NULL, NULL, NULL, NULL
};

sl_int_t
sl_http_compile_complex_value(sl_http_compile_complex_value_t *ccv)
{
    ccv->complex_value->value = *ccv->value;
    return SL_OK;
}

sl_int_t
sl_http_complex_value(sl_http_request_t *r, sl_http_complex_value_t *val, sl_str_t *value)
{
    sl_unused(r);
    *value = val->value;
    return SL_OK;
}

sl_module_t *sl_modules[] = { NULL };
const char *sl_module_names[] = { NULL };
sl_uint_t sl_modules_n = 0;

/* The environment ------------------------------------------------------- */

static sl_pool_t *pool;
static sl_log_t *log;
static sl_conf_t cf;
static sl_cycle_t cycle;
static sl_time_t fake_time;
static void *srv_conf[8];
static sl_http_upstream_srv_conf_t us;
static sl_http_request_t req;
static sl_connection_t client;
static sl_http_upstream_hash_srv_conf_t hash_conf;
static sl_http_upstream_random_srv_conf_t random_conf;

typedef struct {
    const char *name;
    sl_uint_t weight;
    sl_uint_t max_fails;
    time_t fail_timeout;
    sl_uint_t max_conns;
    unsigned down : 1;
    unsigned backup : 1;
} server_spec_t;

/* Group of servers named by spec; server i listens on 10.0.0.(i+1):80. */
static void
group(const server_spec_t *spec, sl_uint_t n, sl_http_upstream_init_pt init)
{
    sl_uint_t i;
    sl_http_upstream_server_t *s;

    sl_memzero(&us, sizeof(us));
    us.srv_conf = srv_conf;
    sl_str_set(&us.host, "backend");
    us.file_name = (u_char *) "test.conf";
    us.servers = sl_array_create(pool, n, sizeof(sl_http_upstream_server_t));

    for (i = 0; i < n; i++) {
        s = sl_array_push(us.servers);
        sl_memzero(s, sizeof(*s));
        s->name.data = (u_char *) spec[i].name;
        s->name.len = strlen(spec[i].name);
        s->addrs = sl_pcalloc(pool, sizeof(sl_sockaddr_t));
        s->addr_lens = sl_pcalloc(pool, sizeof(socklen_t));
        s->addrs[0].sin.sin_family = AF_INET;
        s->addrs[0].sin.sin_port = htons(80);
        s->addrs[0].sin.sin_addr.s_addr = htonl(0x0a000001 + (uint32_t) i);
        s->addr_lens[0] = sizeof(struct sockaddr_in);
        s->naddrs = 1;
        s->weight = spec[i].weight ? spec[i].weight : 1;
        s->max_fails = spec[i].max_fails;
        s->fail_timeout = spec[i].fail_timeout;
        s->max_conns = spec[i].max_conns;
        s->down = spec[i].down;
        s->backup = spec[i].backup;
    }

    if (init(&cf, &us) != SL_OK) {
        ok(0, "group initialised");
    }
}

static sl_http_upstream_rr_peer_t *
find_peer(const char *name)
{
    sl_http_upstream_rr_peer_t *peer;
    sl_http_upstream_rr_peers_t *peers;

    for (peers = us.peer.data; peers != NULL; peers = peers->next) {
        for (peer = peers->peer; peer != NULL; peer = peer->next) {
            if (peer->server.len == strlen(name)
                && memcmp(peer->server.data, name, peer->server.len) == 0) {
                return peer;
            }
        }
    }

    return NULL;
}

/* Starts a request from client address ip (IPv4 text); returns its peer connection. */
static sl_peer_connection_t *
request_from(const char *ip)
{
    sl_memzero(&req, sizeof(req));
    req.pool = pool;
    req.connection = &client;
    req.upstream = sl_pcalloc(pool, sizeof(sl_http_upstream_t));
    req.upstream->peer.log = log;

    sl_memzero(&client.sockaddr, sizeof(client.sockaddr));
    client.sockaddr.sin.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &client.sockaddr.sin.sin_addr);

    if (us.peer.init(&req, &us) != SL_OK) {
        ok(0, "request initialised");
    }

    return &req.upstream->peer;
}

static sl_peer_connection_t *
request(void)
{
    return request_from("192.0.2.1");
}

/* The server name of the peer get chose, or "BUSY". */
static const char *
get(sl_peer_connection_t *pc)
{
    static char name[64];
    sl_int_t rc;
    sl_http_upstream_rr_peer_data_t *rrp;

    rc = pc->get(pc, pc->data);

    if (rc == SL_BUSY) {
        return "BUSY";
    }

    rrp = pc->data;
    snprintf(name, sizeof(name), "%.*s", (int) rrp->current->server.len,
             rrp->current->server.data);
    return name;
}

/* Checks a chosen name once (get must not run again to print a failure). */
static void
is_name(const char *got, const char *want, const char *what)
{
    char copy[64];

    snprintf(copy, sizeof(copy), "%s", got);
    is_mem(copy, strlen(copy), want, "%s", what);
}

/* One whole request: choose, then report state; returns the server name. */
static const char *
one(sl_uint_t state)
{
    const char *name;
    sl_peer_connection_t *pc;

    pc = request();
    name = get(pc);

    if (strcmp(name, "BUSY") != 0) {
        pc->free(pc, pc->data, state);
    }

    return name;
}

/* Names of n consecutive successful requests, space separated. */
static const char *
sequence(sl_uint_t n)
{
    static char buf[1024];
    size_t len;
    sl_uint_t i;

    buf[0] = '\0';
    len = 0;

    for (i = 0; i < n; i++) {
        len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", one(0));
    }

    return buf;
}

static sl_uint_t
count_of(const char *seq, const char *name)
{
    sl_uint_t n;
    const char *p;
    size_t len;

    n = 0;
    len = strlen(name);

    for (p = seq; *p; p++) {
        if ((p == seq || p[-1] == ' ') && strncmp(p, name, len) == 0
            && (p[len] == ' ' || p[len] == '\0')) {
            n++;
        }
    }

    return n;
}

/* Tests -------------------------------------------------------------------- */

static void
test_smooth_weighted(void)
{
    static const server_spec_t spec[] = { { "a", 5, 0, 10, 0, 0, 0 }, { "b", 1, 0, 10, 0, 0, 0 },
                                          { "c", 1, 0, 10, 0, 0, 0 } };
    const char *seq;

    group(spec, 3, sl_http_upstream_init_round_robin);

    is_mem(sequence(7), strlen("a a b a c a a"), "a a b a c a a",
           "weights 5:1:1 give the smooth sequence");
    seq = sequence(7);
    is_mem(seq, strlen(seq), "a a b a c a a", "and the same again over the next 7");

    ok(((sl_http_upstream_rr_peers_t *) us.peer.data)->weighted, "the group is weighted");
    is_int(request()->tries, 3, "a request may try every peer");
    is_mem(find_peer("b")->name.data, find_peer("b")->name.len, "10.0.0.2:80",
           "a peer is named by its address");
}

static void
test_retry_skips_tried(void)
{
    static const server_spec_t spec[] = { { "a", 1, 1, 10, 0, 0, 0 }, { "b", 1, 1, 10, 0, 0, 0 } };
    sl_peer_connection_t *pc;
    char first[8];

    group(spec, 2, sl_http_upstream_init_round_robin);

    pc = request();
    snprintf(first, sizeof(first), "%s", get(pc));
    pc->free(pc, pc->data, SL_PEER_FAILED);
    is_int(pc->tries, 1, "a failed attempt uses up one try");

    ok(strcmp(get(pc), first) != 0, "the retry goes to the other peer (%s first)", first);
    pc->free(pc, pc->data, SL_PEER_FAILED);
    is_name(get(pc), "BUSY", "with both tried and failed, no peer is left");
}

static void
test_backup(void)
{
    static const server_spec_t spec[] = { { "a", 1, 0, 10, 0, 0, 0 }, { "b", 1, 0, 10, 0, 0, 0 },
                                          { "c", 1, 0, 10, 0, 0, 1 } };
    const char *seq;
    sl_peer_connection_t *pc;

    group(spec, 3, sl_http_upstream_init_round_robin);

    seq = sequence(20);
    is_int(count_of(seq, "c"), 0, "the backup is not used while a primary is up");
    is_int(count_of(seq, "a"), 10, "the primaries share the load");

    find_peer("a")->hc_down = 1;
    seq = sequence(6);
    is_mem(seq, strlen(seq), "b b b b b b", "a peer the health checker marked down is skipped");

    find_peer("b")->down = 1;
    seq = sequence(4);
    is_mem(seq, strlen(seq), "c c c c", "with every primary down the backup serves");

    find_peer("c")->hc_down = 1;
    pc = request();
    is_name(get(pc), "BUSY", "with everything down get answers busy (502)");
    is_mem(pc->name->data, pc->name->len, "backend", "and names the group");

    find_peer("a")->hc_down = 0;
    find_peer("c")->hc_down = 0;
    seq = sequence(4);
    is_mem(seq, strlen(seq), "a a a a", "the primary is back once healthy again");
}

static void
test_tries(void)
{
    static const server_spec_t spec[] = { { "a", 1, 0, 10, 0, 0, 0 }, { "b", 1, 0, 10, 0, 1, 0 },
                                          { "c", 1, 0, 10, 0, 0, 1 }, { "d", 1, 0, 10, 0, 0, 1 } };
    const char *seq;

    group(spec, 4, sl_http_upstream_init_round_robin);
    is_int(request()->tries, 3, "tries count the servers not down in both lists");

    seq = sequence(3);
    is_mem(seq, strlen(seq), "a a a", "a server down in the configuration is never chosen");
}

static void
test_max_fails(void)
{
    static const server_spec_t spec[] = { { "a", 1, 2, 10, 0, 0, 0 }, { "b", 1, 2, 10, 0, 0, 0 } };
    const char *seq;
    sl_uint_t i, failed;
    sl_peer_connection_t *pc;

    group(spec, 2, sl_http_upstream_init_round_robin);
    fake_time.sec = 1000;

    /* fail "a" twice (max_fails), let "b" succeed */
    failed = 0;

    for (i = 0; i < 4; i++) {
        pc = request();

        if (strcmp(get(pc), "a") == 0) {
            pc->free(pc, pc->data, SL_PEER_FAILED);
            failed++;

        } else {
            pc->free(pc, pc->data, 0);
        }
    }

    is_int(failed, 2, "a was chosen twice and failed twice");
    is_int(find_peer("a")->fails, 2, "its failures are counted");

    seq = sequence(6);
    is_int(count_of(seq, "a"), 0, "after max_fails it is skipped (%s)", seq);

    fake_time.sec += 10;
    seq = sequence(4);
    is_int(count_of(seq, "a"), 0, "still skipped at fail_timeout exactly");

    /* the failed peer's round robin credit may put it second: fail it wherever it comes */
    fake_time.sec += 1;
    failed = 0;

    for (i = 0; i < 4; i++) {
        pc = request();

        if (strcmp(get(pc), "a") == 0) {
            pc->free(pc, pc->data, SL_PEER_FAILED);
            failed++;

        } else {
            pc->free(pc, pc->data, 0);
        }
    }

    is_int(failed, 1, "after fail_timeout it gets exactly one try");

    seq = sequence(6);
    is_int(count_of(seq, "a"), 0, "one try only: failing again sidelines it again");

    fake_time.sec += 11;
    seq = sequence(2);
    is_int(count_of(seq, "a"), 1, "after another fail_timeout a new try (%s)", seq);
    is_int(find_peer("a")->fails, 0, "a success resets the failures");

    seq = sequence(20);
    ok(count_of(seq, "a") >= 8, "and it takes its share again (%s)", seq);
}

static void
test_max_fails_zero_and_single(void)
{
    static const server_spec_t one_spec[] = { { "a", 1, 1, 10, 0, 0, 0 } };
    static const server_spec_t spec[] = { { "a", 1, 0, 10, 0, 0, 0 }, { "b", 1, 0, 10, 0, 0, 0 } };
    sl_uint_t i;
    const char *seq;

    group(one_spec, 1, sl_http_upstream_init_round_robin);
    fake_time.sec = 5000;

    for (i = 0; i < 3; i++) {
        one(SL_PEER_FAILED);
    }

    is_mem(one(0), 1, "a", "a lone server is tried whatever its failures");

    group(spec, 2, sl_http_upstream_init_round_robin);

    for (i = 0; i < 10; i++) {
        one(SL_PEER_FAILED);
    }

    seq = sequence(4);
    is_int(count_of(seq, "a"), 2, "max_fails=0 never sidelines a peer");
}

static void
test_max_conns(void)
{
    static const server_spec_t spec[] = { { "a", 1, 0, 10, 1, 0, 0 }, { "b", 1, 0, 10, 0, 0, 0 } };
    sl_peer_connection_t *pc;
    const char *name;
    sl_uint_t i, a;

    group(spec, 2, sl_http_upstream_init_round_robin);

    /* hold every connection open: "a" can have one at most */
    a = 0;

    for (i = 0; i < 6; i++) {
        pc = request();
        name = get(pc);
        a += strcmp(name, "a") == 0;
    }

    is_int(a, 1, "max_conns=1 caps the peer at one connection");
    is_int(find_peer("b")->conns, 5, "the rest go to the other peer");
}

static void
test_least_conn(void)
{
    static const server_spec_t spec[] = { { "a", 1, 0, 10, 0, 0, 0 }, { "b", 1, 0, 10, 0, 0, 0 },
                                          { "c", 1, 0, 10, 0, 0, 0 }, { "d", 1, 0, 10, 0, 0, 1 } };
    static const server_spec_t wspec[] = { { "a", 3, 0, 10, 0, 0, 0 },
                                           { "b", 1, 0, 10, 0, 0, 0 } };
    sl_uint_t i;
    const char *seq;
    sl_peer_connection_t *pc;

    group(spec, 4, sl_http_upstream_init_least_conn);

    find_peer("a")->conns = 3;
    find_peer("b")->conns = 1;
    find_peer("c")->conns = 2;

    is_mem(one(0), 1, "b", "the least loaded peer is chosen");

    pc = request();
    is_name(get(pc), "b", "held open, b now has 2 connections");
    is_name(get(pc), "c", "a retry takes the next least loaded, untried");
    pc->free(pc, pc->data, 0);

    find_peer("a")->conns = 0;
    find_peer("b")->conns = 0;
    find_peer("c")->conns = 0;

    for (i = 0; i < 9; i++) {
        pc = request();
        get(pc);
    }

    ok(find_peer("a")->conns == 3 && find_peer("b")->conns == 3 && find_peer("c")->conns == 3,
       "nine held connections spread 3/3/3");

    find_peer("a")->down = 1;
    find_peer("b")->down = 1;
    find_peer("c")->hc_down = 1;
    seq = sequence(3);
    is_mem(seq, strlen(seq), "d d d", "least_conn uses the backup when the primaries are down");

    group(wspec, 2, sl_http_upstream_init_least_conn);
    find_peer("a")->conns = 2;
    find_peer("b")->conns = 1;
    is_mem(one(0), 1, "a", "load is relative to weight (2/3 < 1/1)");
}

static void
test_ip_hash(void)
{
    static const server_spec_t spec[] = { { "a", 1, 1, 10, 0, 0, 0 }, { "b", 1, 1, 10, 0, 0, 0 },
                                          { "c", 1, 1, 10, 0, 0, 0 } };
    sl_uint_t i, same, seen[3];
    char ip[32], first[8], again[8];
    sl_peer_connection_t *pc;

    group(spec, 3, sl_http_upstream_init_ip_hash);
    fake_time.sec = 20000;

    /* 89, then (h * 113 + byte) % 6271 over 127, 0, 0 is 4040; 4040 % 3 = 2 */
    pc = request_from("127.0.0.1");
    is_name(get(pc), "c", "127.0.0.1 maps as in nginx");
    pc->free(pc, pc->data, 0);

    same = 0;

    for (i = 0; i < 20; i++) {
        pc = request_from("127.0.0.99");
        same += strcmp(get(pc), "c") == 0;
        pc->free(pc, pc->data, 0);
    }

    is_int(same, 20, "a client (and its /24) keeps its peer");

    sl_memzero(seen, sizeof(seen));

    for (i = 0; i < 60; i++) {
        snprintf(ip, sizeof(ip), "10.%u.%u.7", (unsigned) (i / 7), (unsigned) (i * 13 % 256));
        pc = request_from(ip);
        seen[get(pc)[0] - 'a']++;
        pc->free(pc, pc->data, 0);
    }

    ok(seen[0] > 5 && seen[1] > 5 && seen[2] > 5, "networks spread over the peers (%u %u %u)",
       (unsigned) seen[0], (unsigned) seen[1], (unsigned) seen[2]);

    pc = request_from("198.51.100.20");
    snprintf(first, sizeof(first), "%s", get(pc));
    pc->free(pc, pc->data, SL_PEER_FAILED);

    pc = request_from("198.51.100.20");
    snprintf(again, sizeof(again), "%s", get(pc));
    pc->free(pc, pc->data, 0);
    ok(strcmp(first, again) != 0, "a failed peer (%s) sends its clients elsewhere (%s)", first,
       again);

    fake_time.sec += 11;
    pc = request_from("198.51.100.20");
    is_name(get(pc), first, "and gets them back after fail_timeout");
    pc->free(pc, pc->data, 0);
}

static void
test_hash(void)
{
    static const server_spec_t spec[] = { { "a", 1, 1, 10, 0, 0, 0 }, { "b", 1, 1, 10, 0, 0, 0 },
                                          { "c", 1, 1, 10, 0, 0, 0 } };
    sl_uint_t i, same, seen[3];
    char key[32], first[8];
    sl_peer_connection_t *pc;

    srv_conf[sl_http_upstream_hash_module.ctx_index] = &hash_conf;
    hash_conf.key = sl_pcalloc(pool, sizeof(sl_http_complex_value_t));

    group(spec, 3, sl_http_upstream_init_hash);
    fake_time.sec = 30000;

    sl_str_set(&hash_conf.key->value, "/some/uri");
    pc = request();
    snprintf(first, sizeof(first), "%s", get(pc));
    pc->free(pc, pc->data, 0);

    same = 0;

    for (i = 0; i < 10; i++) {
        pc = request();
        same += strcmp(get(pc), first) == 0;
        pc->free(pc, pc->data, 0);
    }

    is_int(same, 10, "the same key goes to the same peer");

    sl_memzero(seen, sizeof(seen));

    for (i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "/uri/%u", (unsigned) i);
        hash_conf.key->value.data = (u_char *) key;
        hash_conf.key->value.len = strlen(key);
        pc = request();
        seen[get(pc)[0] - 'a']++;
        pc->free(pc, pc->data, 0);
    }

    ok(seen[0] > 60 && seen[1] > 60 && seen[2] > 60, "keys spread over the peers (%u %u %u)",
       (unsigned) seen[0], (unsigned) seen[1], (unsigned) seen[2]);

    sl_str_set(&hash_conf.key->value, "/some/uri");
    find_peer(first)->down = 1;
    pc = request();
    ok(strcmp(get(pc), first) != 0, "a down peer's keys rehash elsewhere");
    pc->free(pc, pc->data, 0);
    find_peer(first)->down = 0;

    sl_str_set(&hash_conf.key->value, "");
    pc = request();
    ok(strcmp(get(pc), "BUSY") != 0, "an empty key falls back to round robin");
}

/* The server a key lands on in a ring. */
static sl_str_t *
ring_server(sl_http_upstream_chash_points_t *points, const char *key)
{
    sl_uint_t i;
    uint32_t hash;

    hash = (uint32_t) crc32(crc32(0L, Z_NULL, 0), (const Bytef *) key, (uInt) strlen(key));
    i = sl_http_upstream_chash_find(points, hash);

    return points->point[i % points->number].server;
}

static void
test_consistent_hash(void)
{
    static server_spec_t spec[10];
    static char names[10][32];
    char key[32], owner[32];
    sl_uint_t i, moved, wrong, per[10];
    sl_str_t *server;
    sl_http_upstream_chash_points_t *ten, *nine;
    sl_http_upstream_rr_peers_t *peers;
    sl_peer_connection_t *pc;

    for (i = 0; i < 10; i++) {
        snprintf(names[i], sizeof(names[i]), "10.0.0.%u:80", (unsigned) (i + 1));
        spec[i].name = names[i];
        spec[i].weight = 1;
        spec[i].max_fails = 1;
        spec[i].fail_timeout = 10;
    }

    srv_conf[sl_http_upstream_hash_module.ctx_index] = &hash_conf;

    group(spec, 10, sl_http_upstream_init_chash);
    ten = hash_conf.points;
    is_int(ten->number, 1600, "160 points per server of weight 1");

    /* the ring without the fourth server */
    group(spec, 10, sl_http_upstream_init_round_robin);
    peers = us.peer.data;
    peers->peer[2].next = &peers->peer[4];
    nine = sl_http_upstream_chash_build(pool, us.peer.data);

    moved = 0;
    wrong = 0;
    sl_memzero(per, sizeof(per));

    for (i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "key-%u", (unsigned) i);
        server = ring_server(ten, key);
        snprintf(owner, sizeof(owner), "%.*s", (int) server->len, server->data);
        per[atoi(owner + 7) - 1]++;

        if (!sl_str_eq(server, ring_server(nine, key))) {
            moved++;

            if (strcmp(owner, names[3]) != 0) {
                wrong++;
            }
        }
    }

    ok(moved > 600 && moved < 1400, "removing one of 10 servers moves about 1/10 of keys (%u)",
       (unsigned) moved);
    is_int(wrong, 0, "only keys of the removed server move");
    ok(per[0] > 400 && per[9] > 400, "every server owns keys (%u ... %u)", (unsigned) per[0],
       (unsigned) per[9]);

    /* the full path: a key goes to its ring server, and on when that one is down */
    group(spec, 10, sl_http_upstream_init_chash);
    hash_conf.key = sl_pcalloc(pool, sizeof(sl_http_complex_value_t));
    sl_str_set(&hash_conf.key->value, "key-42");
    server = ring_server(hash_conf.points, "key-42");
    snprintf(owner, sizeof(owner), "%.*s", (int) server->len, server->data);

    pc = request();
    is_name(get(pc), owner, "get picks the key's ring server");
    pc->free(pc, pc->data, 0);

    find_peer(owner)->hc_down = 1;
    pc = request();
    ok(strcmp(get(pc), owner) != 0, "and the next point's server when it is down");
    pc->free(pc, pc->data, 0);
}

static void
test_random(void)
{
    static const server_spec_t spec[] = { { "a", 1, 0, 10, 0, 0, 0 }, { "b", 1, 0, 10, 0, 0, 0 },
                                          { "c", 2, 0, 10, 0, 0, 0 } };
    sl_uint_t i, seen[3];
    sl_peer_connection_t *pc;

    srv_conf[sl_http_upstream_random_module.ctx_index] = &random_conf;
    srandom(12345);

    group(spec, 3, sl_http_upstream_init_random);
    sl_memzero(seen, sizeof(seen));

    for (i = 0; i < 4000; i++) {
        seen[one(0)[0] - 'a']++;
    }

    ok(seen[0] > 850 && seen[0] < 1150 && seen[1] > 850 && seen[1] < 1150 && seen[2] > 1800
           && seen[2] < 2200,
       "random follows weights 1:1:2 (%u %u %u)", (unsigned) seen[0], (unsigned) seen[1],
       (unsigned) seen[2]);

    find_peer("c")->down = 1;
    sl_memzero(seen, sizeof(seen));

    for (i = 0; i < 200; i++) {
        seen[one(0)[0] - 'a']++;
    }

    is_int(seen[2], 0, "random skips a down peer");

    random_conf.two = 1;
    find_peer("c")->down = 0;
    find_peer("a")->conns = 5;
    sl_memzero(seen, sizeof(seen));

    for (i = 0; i < 300; i++) {
        seen[one(0)[0] - 'a']++;
    }

    ok(seen[0] == 0 && seen[1] > 0 && seen[2] > 0,
       "random two never takes the busier of two (%u %u %u)", (unsigned) seen[0],
       (unsigned) seen[1], (unsigned) seen[2]);

    pc = request();
    get(pc);
    ok(pc->get(pc, pc->data) == SL_OK, "a retry draws an untried peer");
}

static void
test_zone_copy(void)
{
    static const server_spec_t spec[] = { { "a", 2, 3, 10, 0, 0, 0 }, { "b", 1, 3, 10, 0, 0, 0 },
                                          { "c", 1, 3, 10, 0, 0, 1 } };
    sl_shm_zone_t zone;
    sl_slab_pool_t *sp;
    sl_array_t *upstreams;
    sl_http_upstream_main_conf_t umcf;
    sl_http_upstream_srv_conf_t **uscfp;
    sl_http_upstream_rr_peers_t *peers, *local;
    const char *seq;
    void *root;

    group(spec, 3, sl_http_upstream_init_round_robin);
    local = us.peer.data;

    sl_memzero(&zone, sizeof(zone));
    sl_str_set(&zone.shm.name, "backend_zone");
    zone.shm.size = 64 * 1024;
    zone.shm.log = log;

    if (sl_shm_alloc(&zone.shm) != SL_OK) {
        ok(0, "shared memory mapped");
        return;
    }

    sp = (sl_slab_pool_t *) zone.shm.addr;
    sp->end = zone.shm.addr + zone.shm.size;
    sl_slab_init(sp);

    upstreams = &umcf.upstreams;
    sl_array_init(upstreams, pool, 1, sizeof(sl_http_upstream_srv_conf_t *));
    uscfp = sl_array_push(upstreams);
    *uscfp = &us;
    us.shm_zone = &zone;
    zone.data = &umcf;

    is_int(sl_http_upstream_zone_init(&zone, NULL), SL_OK, "the zone takes the group");

    peers = us.peer.data;
    ok(peers != local && (u_char *) peers > zone.shm.addr && (u_char *) peers < sp->end,
       "the group's peers now live in the zone");
    ok(peers->mutex.mutex == &peers->lock.mutex && peers->next->mutex.mutex != NULL,
       "each list has its lock");
    ok(peers->next != NULL && peers->next->number == 1, "with the backup list");
    is_mem(peers->peer->name.data, peers->peer->name.len, "10.0.0.1:80", "names are copied");
    ok((u_char *) peers->peer->sockaddr > zone.shm.addr, "addresses are copied too");

    seq = sequence(4);
    is_mem(seq, strlen(seq), "a b a a", "round robin runs on the shared copy");

    /* a reload: the new cycle's zone points at its upstreams, the old root is passed in */
    us.peer.data = local;
    root = zone.data;
    zone.data = &umcf;
    is_int(sl_http_upstream_zone_init(&zone, root), SL_OK, "a carried-over zone reattaches");
    ok(us.peer.data == peers, "to the same peers, state and all");

    sl_shm_free(&zone.shm);
}

int
main(void)
{
    log = sl_log_init();
    log->log_level = SL_LOG_CRIT;

    pool = sl_create_pool(16384, log);
    cycle.pool = pool;
    cycle.log = log;
    sl_cycle = &cycle;

    cf.pool = pool;
    cf.log = log;
    cf.cycle = &cycle;

    fake_time.sec = 1000;
    sl_cached_time = &fake_time;

    sl_http_upstream_hash_module.ctx_index = 1;
    sl_http_upstream_random_module.ctx_index = 2;

    test_smooth_weighted();
    test_retry_skips_tried();
    test_backup();
    test_tries();
    test_max_fails();
    test_max_fails_zero_and_single();
    test_max_conns();
    test_least_conn();
    test_ip_hash();
    test_hash();
    test_consistent_hash();
    test_random();
    test_zone_copy();

    sl_destroy_pool(pool);

    return sl_tap_done();
}
