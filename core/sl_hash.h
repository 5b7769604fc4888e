/*
 * sl_hash.h: static hash tables built once at configuration time (MIME
 * types, server names, header tables) and read without locks afterwards.
 *
 * Keys are byte strings compared exactly; tables that must ignore case store
 * lowercased keys and their callers lowercase the name (and hash it with
 * sl_hash_key_lc()) before a lookup. Values must not be NULL: NULL is "not
 * found". Every table lives in the pool given to its init function.
 *
 * Server names are built in three parts (sl_hash_combined_t) from a
 * sl_hash_keys_arrays_t that checks duplicates while keys are added:
 *   "example.com"     exact name;
 *   "*.example.com"   any name ending in ".example.com" with a non-empty
 *                     label before it (not "example.com" itself);
 *   ".example.com"    "example.com" and every name below it (it takes the
 *                     exact slot "example.com" and the head slot
 *                     "*.example.com" at once);
 *   "www.example.*"   any name starting with "www.example." followed by at
 *                     least one byte.
 * A lookup tries the exact name first, then the longest head wildcard, then
 * the longest tail wildcard, which is nginx's server_name order (regular
 * expressions come after, outside this file).
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"

/* One step of the key hash: callers may hash while they parse. */
#define sl_hash(key, c) ((sl_uint_t) (key) *31 + (c))

/* One stored entry; entries of a bucket follow each other, aligned. */
typedef struct {
    void *value; /* NULL marks the end of a bucket */
    u_short len;
    u_char name[];
} sl_hash_elt_t;

typedef struct {
    sl_hash_elt_t **buckets; /* NULL for an empty bucket */
    sl_uint_t size;          /* number of buckets; 0 for a table never built */
} sl_hash_t;

/* One key given to sl_hash_init(); entries with key.data == NULL are skipped. */
typedef struct {
    sl_str_t key;
    sl_uint_t key_hash; /* sl_hash_key(key.data, key.len) */
    void *value;        /* not NULL */
} sl_hash_key_t;

typedef struct {
    sl_hash_t *hash;       /* the table to fill */
    sl_pool_t *pool;       /* the table lives here */
    sl_pool_t *temp_pool;  /* scratch memory while sizing; NULL means pool */
    sl_uint_t max_size;    /* most buckets allowed ("*_hash_max_size") */
    sl_uint_t bucket_size; /* most bytes in a bucket ("*_hash_bucket_size") */
    const char *name;      /* directive prefix for the error message */
} sl_hash_init_t;

/* Bytes one key takes in a bucket; bucket_size must hold it plus a pointer. */
#define SL_HASH_ELT_SIZE(name) \
    (sizeof(void *) + sl_align((name)->key.len + sizeof(u_short), sizeof(void *)))

/* Hash of len bytes as they are. */
sl_uint_t sl_hash_key(const u_char *data, size_t len);
/* Hash of len bytes lowercased (ASCII); equals sl_hash_key() of the lowercased bytes. */
sl_uint_t sl_hash_key_lc(const u_char *data, size_t len);
/* Lowercases len bytes from src into dst and returns their hash. */
sl_uint_t sl_hash_strlow(u_char *dst, const u_char *src, size_t len);

/*
 * Builds hinit->hash from nelts keys, choosing the fewest buckets (at most
 * max_size) such that no bucket exceeds bucket_size bytes; when none fits it
 * warns (on the pool's log) and uses max_size buckets anyway, as nginx does.
 * Keys are copied into hinit->pool. Returns SL_OK, or SL_ERROR having logged
 * at emerg when a key cannot fit bucket_size, max_size is 0, or memory runs
 * out. Duplicate keys are not detected here: the first one added wins.
 */
sl_int_t sl_hash_init(sl_hash_init_t *hinit, sl_hash_key_t *names, sl_uint_t nelts);

/* Returns the value stored for exactly (name, len), or NULL; key = sl_hash_key(name, len). */
void *sl_hash_find(sl_hash_t *hash, sl_uint_t key, const u_char *name, size_t len);

/* Server-name tables: see the top of this file for the matching rules. */
typedef struct {
    sl_hash_t hash;    /* exact names */
    sl_hash_t wc_head; /* "*.example.com" stored as "example.com" */
    sl_hash_t wc_tail; /* "www.example.*" stored as "www.example" */
} sl_hash_combined_t;

/*
 * Returns the value for name under the exact / longest head / longest tail
 * order, or NULL. name must be lowercased and key = sl_hash_key(name, len).
 * Parts that were never built (size 0) are skipped.
 */
void *sl_hash_find_combined(sl_hash_combined_t *hash, sl_uint_t key, const u_char *name,
                            size_t len);

#define SL_HASH_SMALL 1 /* tens of keys: small duplicate-check table */
#define SL_HASH_LARGE 2 /* thousands of keys */

#define SL_HASH_WILDCARD_KEY 1 /* parse "*." / "." / ".*" in the key */

/* Keys collected for a table, with their duplicate-check indexes. */
typedef struct {
    sl_uint_t hsize;
    sl_pool_t *pool;      /* key copies (lowercased) */
    sl_pool_t *temp_pool; /* duplicate-check indexes */

    sl_array_t keys;        /* sl_hash_key_t: exact names */
    sl_array_t *keys_hash;  /* hsize buckets of sl_str_t */
    sl_array_t dns_wc_head; /* sl_hash_key_t: "example.com" for "*.example.com" */
    sl_array_t *dns_wc_head_hash;
    sl_array_t dns_wc_tail; /* sl_hash_key_t: "www.example" for "www.example.*" */
    sl_array_t *dns_wc_tail_hash;
} sl_hash_keys_arrays_t;

/* Prepares ha for keys (type SL_HASH_SMALL or SL_HASH_LARGE); ha->pool and
 * ha->temp_pool must be set. SL_OK or SL_ERROR (allocation). */
sl_int_t sl_hash_keys_array_init(sl_hash_keys_arrays_t *ha, sl_uint_t type);

/*
 * Adds a lowercased copy of key with value (not NULL). flags is 0 (the key is
 * an exact name, '*' included) or SL_HASH_WILDCARD_KEY. Returns SL_OK;
 * SL_BUSY when the same key (or, for ".example.com", either of its two
 * slots) is already there; SL_DECLINED for an invalid key (a '*' that is
 * not "*." at the start or ".*" at the end, an empty or dot-edged remaining
 * name, more than 65535 bytes); SL_ERROR on allocation failure or NULL value.
 */
sl_int_t sl_hash_add_key(sl_hash_keys_arrays_t *ha, const sl_str_t *key, void *value,
                         sl_uint_t flags);

/*
 * Builds the three parts of combined from ha, each with hinit's pool, sizes
 * and name (hinit->hash is ignored). SL_OK or SL_ERROR (logged).
 */
sl_int_t sl_hash_combined_init(sl_hash_init_t *hinit, sl_hash_keys_arrays_t *ha,
                               sl_hash_combined_t *combined);

#endif /* SL_HASH_H */
