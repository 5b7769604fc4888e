/*
 * test_radix.c: IPv4 and IPv6 longest-prefix match, the /0, /32 and /128
 * edges, overlapping prefixes, duplicates and deletes.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_radix.h"
#include "sl_tap.h"

/* sl_log.o refers to these; the real ones live in sl_cycle.c and sl_conf_file.c. */
__attribute__((weak)) sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    (void) cycle;
    (void) name;
    return NULL;
}

__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...)
{
    (void) level;
    (void) cf;
    (void) err;
    (void) fmt;
}

static uint32_t
ip4(const char *text)
{
    struct in_addr a;

    if (inet_pton(AF_INET, text, &a) != 1) {
        printf("# bad address %s\n", text);
        return 0;
    }

    return ntohl(a.s_addr);
}

static uint32_t
mask4(unsigned bits)
{
    return bits == 0 ? 0 : (uint32_t) 0xffffffff << (32 - bits);
}

static const u_char *
ip6(const char *text, u_char *buf)
{
    if (inet_pton(AF_INET6, text, buf) != 1) {
        printf("# bad address %s\n", text);
        memset(buf, 0, 16);
    }

    return buf;
}

static const u_char *
mask6(unsigned bits, u_char *buf)
{
    unsigned i;

    for (i = 0; i < 16; i++) {
        if (bits >= 8) {
            buf[i] = 0xff;
            bits -= 8;
        } else {
            buf[i] = (u_char) (0xff00 >> bits);
            bits = 0;
        }
    }

    return buf;
}

static void
test_v4(sl_pool_t *pool, sl_int_t preallocate)
{
    uint32_t a;
    sl_uint_t i, good;
    sl_radix_tree_t *t;

    t = sl_radix_tree_create(pool, preallocate);
    ok(t != NULL, "[prealloc %ld] tree created", (long) preallocate);
    if (t == NULL) {
        return;
    }

    is_int(sl_radix32tree_find(t, ip4("1.2.3.4")) == SL_RADIX_NO_VALUE, 1,
           "[prealloc %ld] empty tree finds nothing", (long) preallocate);

    is_int(sl_radix32tree_insert(t, ip4("10.0.0.0"), mask4(8), 8), SL_OK, "insert 10/8");
    is_int(sl_radix32tree_insert(t, ip4("10.1.0.0"), mask4(16), 16), SL_OK, "insert 10.1/16");
    is_int(sl_radix32tree_insert(t, ip4("10.1.2.0"), mask4(24), 24), SL_OK, "insert 10.1.2/24");
    is_int(sl_radix32tree_insert(t, ip4("10.1.2.3"), mask4(32), 32), SL_OK, "insert 10.1.2.3/32");
    is_int(sl_radix32tree_insert(t, ip4("10.1.2.99"), mask4(24), 99), SL_BUSY,
           "same /24 with other host bits is a duplicate");
    is_int(sl_radix32tree_insert(t, ip4("10.0.0.0"), mask4(8), 7), SL_BUSY, "duplicate 10/8");
    is_int(sl_radix32tree_insert(t, ip4("1.1.1.1"), mask4(32), SL_RADIX_NO_VALUE), SL_ERROR,
           "the no-value marker cannot be stored");

    is_int(sl_radix32tree_find(t, ip4("10.1.2.3")), 32, "/32 wins for its address");
    is_int(sl_radix32tree_find(t, ip4("10.1.2.4")), 24, "/24 for a neighbour");
    is_int(sl_radix32tree_find(t, ip4("10.1.3.1")), 16, "/16 outside the /24");
    is_int(sl_radix32tree_find(t, ip4("10.200.0.1")), 8, "/8 outside the /16");
    is_int(sl_radix32tree_find(t, ip4("11.0.0.1")) == SL_RADIX_NO_VALUE, 1,
           "outside every prefix: no value");
    is_int(sl_radix32tree_find(t, ip4("10.255.255.255")), 8, "last address of the /8");
    is_int(sl_radix32tree_find(t, ip4("9.255.255.255")) == SL_RADIX_NO_VALUE, 1,
           "address just below the /8");

    is_int(sl_radix32tree_insert(t, 0, 0, 100), SL_OK, "insert 0.0.0.0/0");
    is_int(sl_radix32tree_find(t, ip4("11.0.0.1")), 100, "/0 catches everything else");
    is_int(sl_radix32tree_find(t, 0xffffffff), 100, "255.255.255.255 hits /0");
    is_int(sl_radix32tree_find(t, ip4("10.1.2.3")), 32, "/32 still wins over /0");
    is_int(sl_radix32tree_insert(t, ip4("255.255.255.255"), mask4(32), 255), SL_OK,
           "insert 255.255.255.255/32");
    is_int(sl_radix32tree_find(t, 0xffffffff), 255, "the all-ones host");
    is_int(sl_radix32tree_insert(t, 0, mask4(32), 1), SL_OK, "insert 0.0.0.0/32");
    is_int(sl_radix32tree_find(t, 0), 1, "the all-zeros host");
    is_int(sl_radix32tree_find(t, 1), 100, "0.0.0.1 falls back to /0");

    /* deletes: the /24 goes, its /32 child stays */
    is_int(sl_radix32tree_delete(t, ip4("10.1.2.0"), mask4(24)), SL_OK, "delete 10.1.2/24");
    is_int(sl_radix32tree_delete(t, ip4("10.1.2.0"), mask4(24)), SL_ERROR,
           "deleting it again fails");
    is_int(sl_radix32tree_find(t, ip4("10.1.2.4")), 16, "after delete the /16 answers");
    is_int(sl_radix32tree_find(t, ip4("10.1.2.3")), 32, "the /32 below survived");
    is_int(sl_radix32tree_delete(t, ip4("10.1.2.3"), mask4(32)), SL_OK, "delete the /32 leaf");
    is_int(sl_radix32tree_find(t, ip4("10.1.2.3")), 16, "the leaf's address falls back to /16");
    is_int(sl_radix32tree_delete(t, ip4("10.9.0.0"), mask4(16)), SL_ERROR,
           "deleting a prefix never inserted fails");
    is_int(sl_radix32tree_delete(t, ip4("10.0.0.0"), mask4(9)), SL_ERROR,
           "deleting a path node without a value fails");
    is_int(sl_radix32tree_delete(t, 0, 0), SL_OK, "delete /0");
    is_int(sl_radix32tree_find(t, ip4("11.0.0.1")) == SL_RADIX_NO_VALUE, 1,
           "without /0 nothing catches 11.0.0.1");
    is_int(sl_radix32tree_delete(t, 0, 0), SL_ERROR, "delete /0 twice fails");
    is_int(sl_radix32tree_insert(t, ip4("10.1.2.0"), mask4(24), 240), SL_OK,
           "re-insert the deleted /24 (reusing freed nodes)");
    is_int(sl_radix32tree_find(t, ip4("10.1.2.200")), 240, "the new value answers");

    /* many /32s and /24s, then all deleted */
    good = 1;
    for (i = 0; i < 4096; i++) {
        a = ip4("172.16.0.0") + (uint32_t) i * 7;
        if (sl_radix32tree_insert(t, a, mask4(32), i + 1) != SL_OK) {
            good = 0;
        }
    }
    for (i = 0; i < 4096; i++) {
        a = ip4("172.16.0.0") + (uint32_t) i * 7;
        if (sl_radix32tree_find(t, a) != i + 1
            || sl_radix32tree_find(t, a + 1) != SL_RADIX_NO_VALUE) {
            good = 0;
        }
    }
    ok(good, "4096 host routes: each found, their neighbours not");

    good = 1;
    for (i = 0; i < 4096; i++) {
        a = ip4("172.16.0.0") + (uint32_t) i * 7;
        if (sl_radix32tree_delete(t, a, mask4(32)) != SL_OK
            || sl_radix32tree_find(t, a) != SL_RADIX_NO_VALUE) {
            good = 0;
        }
    }
    ok(good, "4096 host routes deleted one by one");
    is_int(sl_radix32tree_find(t, ip4("10.1.3.1")), 16, "unrelated prefixes survived");
}

static void
test_v6(sl_pool_t *pool)
{
    u_char k[16], m[16];
    sl_radix_tree_t *t;

    t = sl_radix_tree_create(pool, 0);
    ok(t != NULL, "v6 tree created");
    if (t == NULL) {
        return;
    }

    is_int(sl_radix128tree_insert(t, ip6("2001:db8::", k), mask6(32, m), 32), SL_OK,
           "insert 2001:db8::/32");
    is_int(sl_radix128tree_insert(t, ip6("2001:db8:1::", k), mask6(48, m), 48), SL_OK,
           "insert 2001:db8:1::/48");
    is_int(sl_radix128tree_insert(t, ip6("2001:db8:1::1", k), mask6(128, m), 128), SL_OK,
           "insert 2001:db8:1::1/128");
    is_int(sl_radix128tree_insert(t, ip6("2001:db8:1::1", k), mask6(128, m), 7), SL_BUSY,
           "duplicate /128");
    is_int(sl_radix128tree_insert(t, ip6("2001:db8:1:ff::", k), mask6(63, m), 63), SL_OK,
           "insert an odd-length /63");

    is_int(sl_radix128tree_find(t, ip6("2001:db8:1::1", k)), 128, "/128 exact host");
    is_int(sl_radix128tree_find(t, ip6("2001:db8:1::2", k)), 48, "/48 for the next host");
    is_int(sl_radix128tree_find(t, ip6("2001:db8:1:fe::5", k)), 63, "/63 covers ...:fe::");
    is_int(sl_radix128tree_find(t, ip6("2001:db8:1:fd::5", k)), 48, "/63 ends before ...:fd::");
    is_int(sl_radix128tree_find(t, ip6("2001:db8:ffff::", k)), 32, "/32 outside the /48");
    is_int(sl_radix128tree_find(t, ip6("2001:db9::", k)) == SL_RADIX_NO_VALUE, 1,
           "outside every prefix");
    is_int(sl_radix128tree_find(t, ip6("::", k)) == SL_RADIX_NO_VALUE, 1, ":: without /0");

    is_int(sl_radix128tree_insert(t, ip6("::", k), mask6(0, m), 1000), SL_OK, "insert ::/0");
    is_int(sl_radix128tree_find(t, ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", k)), 1000,
           "all-ones address hits ::/0");
    is_int(sl_radix128tree_insert(t, ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", k),
                                  mask6(128, m), 9),
           SL_OK, "insert the all-ones /128");
    is_int(sl_radix128tree_find(t, ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", k)), 9,
           "all-ones /128 found at full depth");
    is_int(sl_radix128tree_find(t, ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", k)), 1000,
           "its neighbour falls back to /0");

    is_int(sl_radix128tree_delete(t, ip6("2001:db8:1::", k), mask6(48, m)), SL_OK,
           "delete the /48");
    is_int(sl_radix128tree_find(t, ip6("2001:db8:1::2", k)), 32, "then /32 answers");
    is_int(sl_radix128tree_find(t, ip6("2001:db8:1::1", k)), 128, "the /128 below survived");
    is_int(sl_radix128tree_delete(t, ip6("2001:db8:1::1", k), mask6(128, m)), SL_OK,
           "delete the /128");
    is_int(sl_radix128tree_delete(t, ip6("2001:db8:1::1", k), mask6(128, m)), SL_ERROR,
           "delete the /128 twice fails");
    is_int(sl_radix128tree_find(t, ip6("2001:db8:1::1", k)), 32, "then /32 answers for it");
    is_int(sl_radix128tree_delete(t, ip6("::", k), mask6(0, m)), SL_OK, "delete ::/0");
    is_int(sl_radix128tree_find(t, ip6("::1", k)) == SL_RADIX_NO_VALUE, 1, "::1 now unmatched");
}

int
main(void)
{
    sl_pool_t *pool;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, NULL);
    ok(pool != NULL, "pool created");
    if (pool == NULL) {
        return sl_tap_done();
    }

    test_v4(pool, 0);
    test_v4(pool, -1);
    test_v4(pool, 8);
    test_v6(pool);

    sl_destroy_pool(pool);

    return sl_tap_done();
}
