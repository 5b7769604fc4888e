/*
 * sl_hash.c: static hash tables and the server-name (wildcard) lookup.
 *
 * A table is an array of buckets; a bucket is a run of sl_hash_elt_t packed
 * one after another (each aligned to a pointer) and ended by a NULL value
 * pointer, so a lookup reads one contiguous block. Wildcards are kept as
 * plain exact tables of the fixed part ("example.com" for "*.example.com",
 * "www.example" for "www.example.*"); a lookup tries the name's suffixes
 * after each dot, longest first, then its prefixes before each dot, longest
 * first. Host names are short, so the few extra hash computations cost less
 * than nginx's nested per-label tables and keep this file simple.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_hash.h"

#define SL_HASH_SMALL_HSIZE 107
#define SL_HASH_LARGE_HSIZE 10007
#define SL_HASH_MAX_KEY_LEN 65535

/* Like sl_log_error(), but a pool without a log still reports, on stderr. */
#define sl_hash_log(level, log, ...) \
    do { \
        if ((log) == NULL || (log)->log_level >= (level)) { \
            sl_log_error_core(level, log, __VA_ARGS__); \
        } \
    } while (0)

#define sl_hash_next_elt(elt) \
    ((sl_hash_elt_t *) sl_align_ptr(&(elt)->name[0] + (elt)->len, sizeof(void *)))

sl_uint_t
sl_hash_key(const u_char *data, size_t len)
{
    sl_uint_t key;
    size_t i;

    key = 0;

    for (i = 0; i < len; i++) {
        key = sl_hash(key, data[i]);
    }

    return key;
}

sl_uint_t
sl_hash_key_lc(const u_char *data, size_t len)
{
    sl_uint_t key;
    size_t i;

    key = 0;

    for (i = 0; i < len; i++) {
        key = sl_hash(key, sl_tolower(data[i]));
    }

    return key;
}

sl_uint_t
sl_hash_strlow(u_char *dst, const u_char *src, size_t len)
{
    sl_uint_t key;
    size_t i;

    key = 0;

    for (i = 0; i < len; i++) {
        dst[i] = sl_tolower(src[i]);
        key = sl_hash(key, dst[i]);
    }

    return key;
}

void *
sl_hash_find(sl_hash_t *hash, sl_uint_t key, const u_char *name, size_t len)
{
    sl_hash_elt_t *elt;

    if (hash->size == 0) {
        return NULL;
    }

    elt = hash->buckets[key % hash->size];

    if (elt == NULL) {
        return NULL;
    }

    while (elt->value) {
        if (len == (size_t) elt->len && sl_memcmp(name, elt->name, len) == 0) {
            return elt->value;
        }

        elt = sl_hash_next_elt(elt);
    }

    return NULL;
}

void *
sl_hash_find_combined(sl_hash_combined_t *hash, sl_uint_t key, const u_char *name, size_t len)
{
    void *value;
    size_t i;

    value = sl_hash_find(&hash->hash, key, name, len);

    if (value) {
        return value;
    }

    /* a dot with at least one byte on each side; leftmost gives the longest suffix */

    if (hash->wc_head.size && len > 2) {
        for (i = 1; i < len - 1; i++) {
            if (name[i] != '.') {
                continue;
            }

            value = sl_hash_find(&hash->wc_head, sl_hash_key(name + i + 1, len - i - 1),
                                 name + i + 1, len - i - 1);
            if (value) {
                return value;
            }
        }
    }

    /* rightmost dot gives the longest prefix */

    if (hash->wc_tail.size && len > 2) {
        for (i = len - 2; i >= 1; i--) {
            if (name[i] != '.') {
                continue;
            }

            value = sl_hash_find(&hash->wc_tail, sl_hash_key(name, i), name, i);
            if (value) {
                return value;
            }
        }
    }

    return NULL;
}

sl_int_t
sl_hash_init(sl_hash_init_t *hinit, sl_hash_key_t *names, sl_uint_t nelts)
{
    u_char *elts;
    size_t len, bucket_size, *test;
    sl_uint_t i, n, key, size, start;
    sl_log_t *log;
    sl_pool_t *temp_pool;
    sl_hash_elt_t *elt, **buckets;

    log = hinit->pool->log;
    temp_pool = hinit->temp_pool ? hinit->temp_pool : hinit->pool;

    if (hinit->max_size == 0) {
        sl_hash_log(SL_LOG_EMERG, log, 0, "could not build %s, you should increase %s_max_size: %i",
                    hinit->name, hinit->name, hinit->max_size);
        return SL_ERROR;
    }

    for (n = 0; n <= nelts; n++) {
        /* the last round checks the bucket size alone, even with no keys */
        if (n < nelts && names[n].key.data == NULL) {
            continue;
        }

        if (hinit->bucket_size > 65536 - sizeof(void *) || hinit->bucket_size < 3 * sizeof(void *)
            || (n < nelts
                && (names[n].key.len > SL_HASH_MAX_KEY_LEN || names[n].value == NULL
                    || hinit->bucket_size < SL_HASH_ELT_SIZE(&names[n]) + sizeof(void *)))) {
            sl_hash_log(SL_LOG_EMERG, log, 0,
                        "could not build %s, you should increase %s_bucket_size: %i", hinit->name,
                        hinit->name, hinit->bucket_size);
            return SL_ERROR;
        }
    }

    test = sl_palloc(temp_pool, hinit->max_size * sizeof(size_t));
    if (test == NULL) {
        return SL_ERROR;
    }

    bucket_size = hinit->bucket_size - sizeof(void *);

    start = nelts / (bucket_size / (2 * sizeof(void *)));
    start = start ? start : 1;

    if (hinit->max_size > 10000 && nelts && hinit->max_size / nelts < 100) {
        start = hinit->max_size - 1000;
    }

    if (start > hinit->max_size) {
        start = hinit->max_size;
    }

    for (size = start; size <= hinit->max_size; size++) {
        sl_memzero(test, size * sizeof(size_t));

        for (n = 0; n < nelts; n++) {
            if (names[n].key.data == NULL) {
                continue;
            }

            key = names[n].key_hash % size;
            len = test[key] + SL_HASH_ELT_SIZE(&names[n]);

            if (len > bucket_size) {
                break;
            }

            test[key] = len;
        }

        if (n == nelts) {
            break;
        }
    }

    if (size > hinit->max_size) {
        size = hinit->max_size;
        sl_hash_log(SL_LOG_WARN, log, 0,
                    "could not build optimal %s, you should increase either %s_max_size: %i "
                    "or %s_bucket_size: %i; ignoring %s_bucket_size",
                    hinit->name, hinit->name, hinit->max_size, hinit->name, hinit->bucket_size,
                    hinit->name);
    }

    /* exact byte count of every bucket, plus its NULL terminator */

    sl_memzero(test, size * sizeof(size_t));

    for (n = 0; n < nelts; n++) {
        if (names[n].key.data == NULL) {
            continue;
        }

        test[names[n].key_hash % size] += SL_HASH_ELT_SIZE(&names[n]);
    }

    len = 0;

    for (i = 0; i < size; i++) {
        if (test[i] == 0) {
            continue;
        }

        test[i] += sizeof(void *);
        len += test[i];
    }

    buckets = sl_pcalloc(hinit->pool, size * sizeof(sl_hash_elt_t *));
    if (buckets == NULL) {
        return SL_ERROR;
    }

    elts = NULL;

    if (len) {
        elts = sl_palloc(hinit->pool, len);
        if (elts == NULL) {
            return SL_ERROR;
        }
    }

    for (i = 0; i < size; i++) {
        if (test[i] == 0) {
            continue;
        }

        buckets[i] = (sl_hash_elt_t *) elts;
        elts += test[i];
        test[i] = 0;
    }

    /* test[] now counts the bytes already written into each bucket */

    for (n = 0; n < nelts; n++) {
        if (names[n].key.data == NULL) {
            continue;
        }

        key = names[n].key_hash % size;
        elt = (sl_hash_elt_t *) ((u_char *) buckets[key] + test[key]);

        elt->value = names[n].value;
        elt->len = (u_short) names[n].key.len;
        sl_memcpy(elt->name, names[n].key.data, names[n].key.len);

        test[key] += SL_HASH_ELT_SIZE(&names[n]);
    }

    for (i = 0; i < size; i++) {
        if (buckets[i] == NULL) {
            continue;
        }

        elt = (sl_hash_elt_t *) ((u_char *) buckets[i] + test[i]);
        elt->value = NULL;
    }

    hinit->hash->buckets = buckets;
    hinit->hash->size = size;

    return SL_OK;
}

sl_int_t
sl_hash_keys_array_init(sl_hash_keys_arrays_t *ha, sl_uint_t type)
{
    sl_uint_t asize;

    if (type == SL_HASH_SMALL) {
        asize = 4;
        ha->hsize = SL_HASH_SMALL_HSIZE;
    } else {
        asize = 16384;
        ha->hsize = SL_HASH_LARGE_HSIZE;
    }

    if (sl_array_init(&ha->keys, ha->temp_pool, asize, sizeof(sl_hash_key_t)) != SL_OK
        || sl_array_init(&ha->dns_wc_head, ha->temp_pool, asize, sizeof(sl_hash_key_t)) != SL_OK
        || sl_array_init(&ha->dns_wc_tail, ha->temp_pool, asize, sizeof(sl_hash_key_t)) != SL_OK) {
        return SL_ERROR;
    }

    ha->keys_hash = sl_pcalloc(ha->temp_pool, sizeof(sl_array_t) * ha->hsize);
    ha->dns_wc_head_hash = sl_pcalloc(ha->temp_pool, sizeof(sl_array_t) * ha->hsize);
    ha->dns_wc_tail_hash = sl_pcalloc(ha->temp_pool, sizeof(sl_array_t) * ha->hsize);

    if (ha->keys_hash == NULL || ha->dns_wc_head_hash == NULL || ha->dns_wc_tail_hash == NULL) {
        return SL_ERROR;
    }

    return SL_OK;
}

/* True when (name, len) is already in the duplicate index bucket. */
static int
sl_hash_index_has(sl_array_t *bucket, const u_char *name, size_t len)
{
    sl_str_t *s;
    sl_uint_t i;

    if (bucket->elts == NULL) {
        return 0;
    }

    s = bucket->elts;

    for (i = 0; i < bucket->nelts; i++) {
        if (s[i].len == len && sl_memcmp(s[i].data, name, len) == 0) {
            return 1;
        }
    }

    return 0;
}

/* Records the key in its duplicate index bucket and in the key array. */
static sl_int_t
sl_hash_keys_push(sl_hash_keys_arrays_t *ha, sl_array_t *keys, sl_array_t *index, u_char *name,
                  size_t len, sl_uint_t key, void *value)
{
    sl_str_t *s;
    sl_array_t *bucket;
    sl_hash_key_t *hk;

    bucket = &index[key % ha->hsize];

    if (bucket->elts == NULL) {
        if (sl_array_init(bucket, ha->temp_pool, 4, sizeof(sl_str_t)) != SL_OK) {
            return SL_ERROR;
        }
    }

    s = sl_array_push(bucket);
    if (s == NULL) {
        return SL_ERROR;
    }

    s->len = len;
    s->data = name;

    hk = sl_array_push(keys);
    if (hk == NULL) {
        return SL_ERROR;
    }

    hk->key.len = len;
    hk->key.data = name;
    hk->key_hash = key;
    hk->value = value;

    return SL_OK;
}

/* The fixed part of a wildcard must be a non-empty name without '*' or edge dots. */
static int
sl_hash_wildcard_part_valid(const u_char *p, size_t len)
{
    if (len == 0 || p[0] == '.' || p[len - 1] == '.') {
        return 0;
    }

    return memchr(p, '*', len) == NULL;
}

sl_int_t
sl_hash_add_key(sl_hash_keys_arrays_t *ha, const sl_str_t *key, void *value, sl_uint_t flags)
{
    u_char *name, *p;
    size_t len;
    sl_uint_t k;
    enum { SL_KEY_EXACT, SL_KEY_HEAD, SL_KEY_DOTTED, SL_KEY_TAIL } type;

    if (value == NULL) {
        return SL_ERROR;
    }

    if (key->len > SL_HASH_MAX_KEY_LEN) {
        return SL_DECLINED;
    }

    p = key->data;
    len = key->len;
    type = SL_KEY_EXACT;

    if (flags & SL_HASH_WILDCARD_KEY) {
        if (len >= 2 && p[0] == '*' && p[1] == '.') {
            type = SL_KEY_HEAD;
            p += 2;
            len -= 2;

        } else if (len >= 1 && p[0] == '.') {
            type = SL_KEY_DOTTED;
            p += 1;
            len -= 1;

        } else if (len >= 2 && p[len - 1] == '*' && p[len - 2] == '.') {
            type = SL_KEY_TAIL;
            len -= 2;

        } else if (len && memchr(p, '*', len) != NULL) {
            return SL_DECLINED;
        }

        if (type != SL_KEY_EXACT && !sl_hash_wildcard_part_valid(p, len)) {
            return SL_DECLINED;
        }
    }

    name = sl_pnalloc(ha->pool, len ? len : 1);
    if (name == NULL) {
        return SL_ERROR;
    }

    k = sl_hash_strlow(name, p, len);

    switch (type) {
    case SL_KEY_EXACT:
        if (sl_hash_index_has(&ha->keys_hash[k % ha->hsize], name, len)) {
            return SL_BUSY;
        }

        return sl_hash_keys_push(ha, &ha->keys, ha->keys_hash, name, len, k, value);

    case SL_KEY_HEAD:
        if (sl_hash_index_has(&ha->dns_wc_head_hash[k % ha->hsize], name, len)) {
            return SL_BUSY;
        }

        return sl_hash_keys_push(ha, &ha->dns_wc_head, ha->dns_wc_head_hash, name, len, k, value);

    case SL_KEY_DOTTED:
        if (sl_hash_index_has(&ha->keys_hash[k % ha->hsize], name, len)
            || sl_hash_index_has(&ha->dns_wc_head_hash[k % ha->hsize], name, len)) {
            return SL_BUSY;
        }

        if (sl_hash_keys_push(ha, &ha->keys, ha->keys_hash, name, len, k, value) != SL_OK) {
            return SL_ERROR;
        }

        return sl_hash_keys_push(ha, &ha->dns_wc_head, ha->dns_wc_head_hash, name, len, k, value);

    case SL_KEY_TAIL:
        if (sl_hash_index_has(&ha->dns_wc_tail_hash[k % ha->hsize], name, len)) {
            return SL_BUSY;
        }

        return sl_hash_keys_push(ha, &ha->dns_wc_tail, ha->dns_wc_tail_hash, name, len, k, value);
    }

    return SL_ERROR;
}

sl_int_t
sl_hash_combined_init(sl_hash_init_t *hinit, sl_hash_keys_arrays_t *ha,
                      sl_hash_combined_t *combined)
{
    sl_hash_init_t init;

    sl_memzero(combined, sizeof(sl_hash_combined_t));

    init = *hinit;

    if (ha->keys.nelts) {
        init.hash = &combined->hash;
        if (sl_hash_init(&init, ha->keys.elts, ha->keys.nelts) != SL_OK) {
            return SL_ERROR;
        }
    }

    if (ha->dns_wc_head.nelts) {
        init.hash = &combined->wc_head;
        if (sl_hash_init(&init, ha->dns_wc_head.elts, ha->dns_wc_head.nelts) != SL_OK) {
            return SL_ERROR;
        }
    }

    if (ha->dns_wc_tail.nelts) {
        init.hash = &combined->wc_tail;
        if (sl_hash_init(&init, ha->dns_wc_tail.elts, ha->dns_wc_tail.nelts) != SL_OK) {
            return SL_ERROR;
        }
    }

    return SL_OK;
}
