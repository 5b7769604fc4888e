/*
 * test_hash.c: key hashes, the static exact table (MIME-type style), its
 * sizing errors, and server-name lookup with wildcards: exact first, then
 * the longest "*.x", then the longest "x.*"; ".example.com" semantics;
 * duplicates and invalid wildcards refused.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_hash.h"
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

static sl_open_file_t log_file;
static sl_log_t log;
static char log_path[] = "/tmp/sl_test_hash_XXXXXX";

/* True when the log file written so far contains text. */
static int
log_has(const char *text)
{
    char buf[8192];
    ssize_t n;

    n = pread(log_file.fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) {
        return 0;
    }

    buf[n] = '\0';

    return strstr(buf, text) != NULL;
}

static void *
find(sl_hash_t *hash, const char *name)
{
    size_t len;

    len = strlen(name);

    return sl_hash_find(hash, sl_hash_key((const u_char *) name, len), (const u_char *) name, len);
}

/* Lowercases like a request handler does, then looks the host up. */
static const char *
find_host(sl_hash_combined_t *hash, const char *host)
{
    u_char buf[512];
    size_t len;
    sl_uint_t key;

    len = strlen(host);
    if (len > sizeof(buf)) {
        return NULL;
    }

    key = sl_hash_strlow(buf, (const u_char *) host, len);

    return sl_hash_find_combined(hash, key, buf, len);
}

static sl_int_t
add(sl_hash_keys_arrays_t *ha, const char *key, const char *value)
{
    sl_str_t s;

    s.len = strlen(key);
    s.data = (u_char *) key;

    return sl_hash_add_key(ha, &s, (void *) value, SL_HASH_WILDCARD_KEY);
}

static void
test_keys(void)
{
    const u_char *mixed = (const u_char *) "Content-TYPE";
    const u_char *lower = (const u_char *) "content-type";
    u_char buf[16];
    sl_uint_t k;

    is_int(sl_hash_key(lower, 0), 0, "hash of nothing is 0");
    is_int(sl_hash_key((const u_char *) "a", 1), 'a', "hash of one byte is the byte");
    is_int(sl_hash_key((const u_char *) "ab", 2), 'a' * 31 + 'b', "hash is key * 31 + c");
    ok(sl_hash_key_lc(mixed, 12) == sl_hash_key(lower, 12), "lc hash equals the lowercase hash");
    ok(sl_hash_key(mixed, 12) != sl_hash_key(lower, 12), "plain hash is case-sensitive");

    k = sl_hash_strlow(buf, mixed, 12);
    ok(memcmp(buf, "content-type", 12) == 0, "sl_hash_strlow lowercases");
    ok(k == sl_hash_key(lower, 12), "and returns the hash of the lowercased bytes");
    ok(sl_hash_key_lc((const u_char *) "\xC0\xFF", 2)
           == sl_hash_key((const u_char *) "\xC0\xFF", 2),
       "bytes above ASCII are not folded");
}

static void
test_exact(sl_pool_t *pool)
{
    static const char *types[][2] = {
        { "html", "text/html" },        { "htm", "text/html" },
        { "css", "text/css" },          { "js", "application/javascript" },
        { "json", "application/json" }, { "png", "image/png" },
        { "jpg", "image/jpeg" },        { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },         { "svg", "image/svg+xml" },
        { "txt", "text/plain" },        { "", "empty-key" },
    };
    char name[32];
    char *values;
    sl_uint_t i, n, good;
    sl_hash_t hash, big, none;
    sl_hash_key_t keys[sl_nelts(types) + 1], *many;
    sl_hash_init_t hinit;

    n = sl_nelts(types);

    for (i = 0; i < n; i++) {
        keys[i].key.len = strlen(types[i][0]);
        keys[i].key.data = (u_char *) types[i][0];
        keys[i].key_hash = sl_hash_key(keys[i].key.data, keys[i].key.len);
        keys[i].value = (void *) types[i][1];
    }

    /* a removed entry (data NULL) is skipped */
    keys[n].key.len = 3;
    keys[n].key.data = NULL;
    keys[n].key_hash = 0;
    keys[n].value = (void *) "skipped";

    hinit.hash = &hash;
    hinit.pool = pool;
    hinit.temp_pool = NULL;
    hinit.max_size = 1024;
    hinit.bucket_size = 64;
    hinit.name = "types_hash";

    is_int(sl_hash_init(&hinit, keys, n + 1), SL_OK, "types hash built");
    ok(hash.size >= 1 && hash.size <= 1024, "within max_size (%lu buckets)",
       (unsigned long) hash.size);

    good = 1;
    for (i = 0; i < n; i++) {
        if (find(&hash, types[i][0]) != types[i][1]) {
            good = 0;
            printf("# lost %s\n", types[i][0]);
        }
    }
    ok(good, "every key finds its value");

    ok(find(&hash, "HTML") == NULL, "lookup is exact: uppercase is not found");
    ok(find(&hash, "htmlx") == NULL, "a longer name is not found");
    ok(find(&hash, "ht") == NULL, "a prefix is not found");
    ok(find(&hash, "xyz") == NULL, "an unknown key is not found");
    ok(sl_hash_find(&hash, sl_hash_key((const u_char *) "html", 4), (const u_char *) "htmX", 4)
           == NULL,
       "same hash, different bytes: not found");

    /* a table with no keys answers NULL */
    hinit.hash = &none;
    is_int(sl_hash_init(&hinit, keys, 0), SL_OK, "empty table built");
    ok(find(&none, "html") == NULL, "empty table finds nothing");

    /* many keys */
    many = sl_palloc(pool, 5000 * sizeof(sl_hash_key_t));
    values = sl_palloc(pool, 5000);
    ok(many != NULL && values != NULL, "allocated 5000 keys");
    if (many == NULL || values == NULL) {
        return;
    }

    for (i = 0; i < 5000; i++) {
        n = (sl_uint_t) snprintf(name, sizeof(name), "key-%lu.example", (unsigned long) i);
        many[i].key.data = sl_pnalloc(pool, n);
        memcpy(many[i].key.data, name, n);
        many[i].key.len = n;
        many[i].key_hash = sl_hash_key(many[i].key.data, n);
        many[i].value = &values[i];
    }

    hinit.hash = &big;
    hinit.max_size = 8192;
    hinit.bucket_size = 128;
    is_int(sl_hash_init(&hinit, many, 5000), SL_OK, "5000-key table built");

    good = 1;
    for (i = 0; i < 5000; i++) {
        if (sl_hash_find(&big, many[i].key_hash, many[i].key.data, many[i].key.len) != &values[i]) {
            good = 0;
        }
    }
    ok(good, "all 5000 keys found");
    ok(find(&big, "key-5000.example") == NULL, "key-5000 was never added");

    /* sizing: too small a bucket is an error, too few buckets a warning */
    hinit.hash = &hash;
    hinit.bucket_size = 16;
    is_int(sl_hash_init(&hinit, many, 10), SL_ERROR, "bucket_size 16 cannot hold a key");
    ok(log_has("could not build types_hash, you should increase types_hash_bucket_size: 16"),
       "the error names the directive to raise");

    hinit.bucket_size = 0;
    is_int(sl_hash_init(&hinit, many, 0), SL_ERROR, "bucket_size 0 refused even without keys");

    hinit.bucket_size = 32;
    hinit.max_size = 2;
    is_int(sl_hash_init(&hinit, many, 100), SL_OK, "100 keys in 2 buckets: built anyway");
    is_int(hash.size, 2, "with max_size buckets");
    ok(log_has("could not build optimal types_hash, you should increase either "
               "types_hash_max_size: 2"),
       "and a warning names max_size and bucket_size");
    ok(sl_hash_find(&hash, many[77].key_hash, many[77].key.data, many[77].key.len) == &values[77],
       "overfull buckets still find their keys");

    hinit.max_size = 0;
    is_int(sl_hash_init(&hinit, many, 1), SL_ERROR, "max_size 0 refused");
}

static void
test_server_names(sl_pool_t *pool)
{
    u_char *longkey;
    sl_str_t s;
    sl_hash_init_t hinit;
    sl_hash_combined_t names, empty;
    sl_hash_keys_arrays_t ha;

    sl_memzero(&ha, sizeof(ha));
    ha.pool = pool;
    ha.temp_pool = pool;

    is_int(sl_hash_keys_array_init(&ha, SL_HASH_SMALL), SL_OK, "keys arrays ready");

    is_int(add(&ha, "www.example.com", "exact-www"), SL_OK, "add www.example.com");
    is_int(add(&ha, "*.example.com", "head-example"), SL_OK, "add *.example.com");
    is_int(add(&ha, "*.b.example.com", "head-b-example"), SL_OK, "add *.b.example.com");
    is_int(add(&ha, "www.example.*", "tail-www-example"), SL_OK, "add www.example.*");
    is_int(add(&ha, "www.*", "tail-www"), SL_OK, "add www.*");
    is_int(add(&ha, ".example.org", "dot-example-org"), SL_OK, "add .example.org");
    is_int(add(&ha, "API.Example.NET", "exact-api"), SL_OK, "add API.Example.NET (mixed case)");
    is_int(add(&ha, "mail.*", "tail-mail"), SL_OK, "add mail.*");
    is_int(add(&ha, "*.com", "head-com"), SL_OK, "add *.com");

    /* duplicates */
    is_int(add(&ha, "www.example.com", "again"), SL_BUSY, "duplicate exact name");
    is_int(add(&ha, "WWW.EXAMPLE.COM", "again"), SL_BUSY, "duplicate differing only in case");
    is_int(add(&ha, "*.example.com", "again"), SL_BUSY, "duplicate head wildcard");
    is_int(add(&ha, ".example.com", "again"), SL_BUSY, ".example.com clashes with *.example.com");
    is_int(add(&ha, "example.org", "again"), SL_BUSY, "example.org clashes with .example.org");
    is_int(add(&ha, "*.example.org", "again"), SL_BUSY, "*.example.org clashes with .example.org");
    is_int(add(&ha, "www.example.*", "again"), SL_BUSY, "duplicate tail wildcard");

    /* invalid wildcards */
    is_int(add(&ha, "*", "x"), SL_DECLINED, "\"*\" refused");
    is_int(add(&ha, "*.", "x"), SL_DECLINED, "\"*.\" refused");
    is_int(add(&ha, ".", "x"), SL_DECLINED, "\".\" refused");
    is_int(add(&ha, ".*", "x"), SL_DECLINED, "\".*\" refused");
    is_int(add(&ha, "*.*", "x"), SL_DECLINED, "\"*.*\" refused");
    is_int(add(&ha, "*.example.*", "x"), SL_DECLINED, "both ends refused");
    is_int(add(&ha, "www.*.com", "x"), SL_DECLINED, "a star in the middle refused");
    is_int(add(&ha, "*example.com", "x"), SL_DECLINED, "a star off a dot border refused");
    is_int(add(&ha, "www.example*", "x"), SL_DECLINED, "a trailing star off a dot refused");
    is_int(add(&ha, "*..example.com", "x"), SL_DECLINED, "an empty label after *. refused");
    is_int(add(&ha, "www..*", "x"), SL_DECLINED, "an empty label before .* refused");
    is_int(add(&ha, "ok.example.net", NULL), SL_ERROR, "a NULL value is an error");

    longkey = sl_pnalloc(pool, 70000);
    memset(longkey, 'a', 70000);
    s.len = 70000;
    s.data = longkey;
    is_int(sl_hash_add_key(&ha, &s, (void *) "x", 0), SL_DECLINED, "a 70000-byte key refused");

    /* without SL_HASH_WILDCARD_KEY a star is just a byte */
    s.len = 5;
    s.data = (u_char *) "*.lit";
    is_int(sl_hash_add_key(&ha, &s, (void *) "literal-star", 0), SL_OK,
           "a literal \"*.lit\" as an exact key");

    hinit.hash = NULL;
    hinit.pool = pool;
    hinit.temp_pool = pool;
    hinit.max_size = 512;
    hinit.bucket_size = 64;
    hinit.name = "server_names_hash";

    is_int(sl_hash_combined_init(&hinit, &ha, &names), SL_OK, "server names built");

#define host_is(host, want, ...) \
    do { \
        const char *got_ = find_host(&names, host); \
        ok(got_ != NULL && strcmp(got_, want) == 0, __VA_ARGS__); \
        if (got_ == NULL || strcmp(got_, want) != 0) \
            printf("#   got %s\n", got_ ? got_ : "NULL"); \
    } while (0)

    host_is("www.example.com", "exact-www", "exact beats both wildcards");
    host_is("WWW.Example.COM", "exact-www", "lookups lowercase first");
    host_is("api.example.com", "head-example", "*.example.com matches a subdomain");
    host_is("a.b.c.example.com", "head-example", "*.example.com matches deeper names");
    host_is("x.b.example.com", "head-b-example", "the longer head wildcard wins");
    host_is("b.example.com", "head-example", "*.b.example.com needs a label before b");
    host_is("example.com", "head-com", "*.example.com does not match example.com itself");
    host_is("www.example.net", "tail-www-example", "www.example.* when no head matches");
    host_is("www.example.co.uk", "tail-www-example", "tail wildcard over several labels");
    host_is("www.other.net", "tail-www", "the shorter tail when the longer does not fit");
    host_is("www.example.org", "dot-example-org", "head wildcard beats tail wildcard");
    host_is("example.org", "dot-example-org", ".example.org matches example.org");
    host_is("deep.sub.example.org", "dot-example-org", ".example.org matches subdomains");
    host_is("api.example.net", "exact-api", "mixed-case key stored lowercased");
    host_is("mail.example.net", "tail-mail", "mail.* matches mail.example.net");
    host_is("*.lit", "literal-star", "literal star key found exactly");

    host_is("www.example", "tail-www", "www.example.* needs a label after it: www.* answers");
    ok(find_host(&names, "mail") == NULL, "mail.* needs a dot and a label");
    ok(find_host(&names, "mail.") == NULL, "mail.* needs a label after the dot");
    ok(find_host(&names, "com") == NULL, "*.com does not match com");
    ok(find_host(&names, ".com") == NULL, "*.com does not match an empty label");
    ok(find_host(&names, "") == NULL, "empty name not found");
    ok(find_host(&names, ".") == NULL, "\".\" not found");
    ok(find_host(&names, "..") == NULL, "\"..\" not found");
    ok(find_host(&names, "example.net") == NULL, "example.net not found");
    ok(find_host(&names, "api.example.ne") == NULL, "near miss not found");

    /* a table built from no keys answers NULL everywhere */
    sl_memzero(&ha, sizeof(ha));
    ha.pool = pool;
    ha.temp_pool = pool;
    is_int(sl_hash_keys_array_init(&ha, SL_HASH_LARGE), SL_OK, "large keys arrays ready");
    is_int(sl_hash_combined_init(&hinit, &ha, &empty), SL_OK, "empty server names built");
    ok(sl_hash_find_combined(&empty, sl_hash_key((const u_char *) "a.b", 3), (const u_char *) "a.b",
                             3)
           == NULL,
       "empty server names find nothing");
}

int
main(void)
{
    sl_pool_t *pool;

    log_file.fd = mkstemp(log_path);
    if (log_file.fd == -1) {
        perror("mkstemp");
        return 1;
    }
    unlink(log_path);

    log.log_level = SL_LOG_WARN;
    log.file = &log_file;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, &log);
    ok(pool != NULL, "pool created");
    if (pool == NULL) {
        return sl_tap_done();
    }

    test_keys();
    test_exact(pool);
    test_server_names(pool);

    sl_destroy_pool(pool);
    close(log_file.fd);

    return sl_tap_done();
}
