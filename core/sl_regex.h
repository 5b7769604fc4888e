/*
 * sl_regex.h: PCRE2 (8-bit) regular expressions, JIT-compiled when the
 * library supports it. Patterns are compiled once at configuration time into
 * a pool; matching runs per request and allocates nothing after the first
 * calls (one match-data block and one JIT stack per process, grown as needed).
 */
#ifndef SL_REGEX_H
#define SL_REGEX_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define SL_REGEX_CASELESS 0x1 /* "~*" locations, caseless rules */

#define SL_REGEX_NO_MATCHED (-1000)

typedef struct {
    pcre2_code *code;
    sl_uint_t captures;       /* capturing groups, not counting the whole match */
    sl_uint_t named_captures; /* entries in names */
    size_t name_size;         /* bytes per entry in names */
    u_char *names;            /* PCRE2's name table (see below) */
} sl_regex_t;

typedef struct {
    sl_str_t pattern;  /* in: the pattern (not NUL-terminated) */
    sl_pool_t *pool;   /* in: the regex and its cleanup live here */
    sl_uint_t options; /* in: SL_REGEX_CASELESS or 0 */

    sl_regex_t *regex; /* out: on SL_OK */
    sl_uint_t captures;
    /*
     * out: the name table as PCRE2 gives it: named_captures entries of
     * name_size bytes, each a 2-byte big-endian group number followed by the
     * NUL-terminated name, sorted by name. It belongs to the compiled code
     * and lives as long as the pool.
     */
    sl_uint_t named_captures;
    size_t name_size;
    u_char *names;

    sl_str_t err; /* out: on SL_ERROR, points into err_buf */
    u_char err_buf[256];
} sl_regex_compile_t;

/*
 * Compiles rc->pattern. SL_OK with rc->regex and the capture fields set, or
 * SL_ERROR with rc->err such as: pcre2_compile() failed: missing closing
 * parenthesis in "(a" at "". The compiled code is freed with the pool.
 */
sl_int_t sl_regex_compile(sl_regex_compile_t *rc);

/*
 * Matches re against s. On a match returns n > 0, the number of offset
 * pairs the match produced (1 + the highest group set), and stores the first
 * min(n, size / 2) pairs into captures as start, end (-1, -1 for a group
 * that did not take part); captures may be NULL when size is 0. Returns
 * SL_REGEX_NO_MATCHED without a match, SL_ERROR on a matching error (PCRE2's
 * match or heap limit, out of memory) or a subject over INT_MAX bytes. A
 * match that outgrows the JIT stack is retried once by the interpreter.
 */
sl_int_t sl_regex_exec(sl_regex_t *re, const sl_str_t *s, int *captures, sl_uint_t size);

/* Name of the n-th entry (0-based) of a name table, and its group number. */
#define sl_regex_name(names, name_size, n) ((u_char *) (names) + (n) * (name_size) + 2)
#define sl_regex_name_group(names, name_size, n) \
    (((sl_uint_t) ((u_char *) (names))[(n) * (name_size)] << 8) \
     | ((u_char *) (names))[(n) * (name_size) + 1])

#endif /* SL_REGEX_H */
