/*
 * sl_string.h: counted strings and the byte-level helpers the parsers and
 * setters use. Strings are {len, data}; data is never assumed NUL-terminated.
 */
#ifndef SL_STRING_H
#define SL_STRING_H

#include "sl_config.h"

typedef struct {
    size_t len;
    u_char *data;
} sl_str_t;

typedef struct {
    sl_str_t key;
    sl_str_t value;
} sl_keyval_t;

#define sl_string(str) { sizeof(str) - 1, (u_char *) str }
#define sl_null_string { 0, NULL }
#define sl_str_set(str, text) (str)->len = sizeof(text) - 1; (str)->data = (u_char *) text
#define sl_str_null(str) (str)->len = 0; (str)->data = NULL

#define sl_tolower(c) (u_char) ((c >= 'A' && c <= 'Z') ? (c | 0x20) : c)
#define sl_toupper(c) (u_char) ((c >= 'a' && c <= 'z') ? (c & ~0x20) : c)

#define sl_memzero(buf, n) (void) memset(buf, 0, n)
#define sl_memset(buf, c, n) (void) memset(buf, c, n)
#define sl_memcpy(dst, src, n) (void) memcpy(dst, src, n)
#define sl_cpymem(dst, src, n) (((u_char *) memcpy(dst, src, n)) + (n))
#define sl_memmove(dst, src, n) (void) memmove(dst, src, n)
#define sl_memcmp(s1, s2, n) memcmp(s1, s2, n)
#define sl_strlen(s) strlen((const char *) s)
#define sl_strncmp(s1, s2, n) strncmp((const char *) s1, (const char *) s2, n)
#define sl_strcmp(s1, s2) strcmp((const char *) s1, (const char *) s2)
#define sl_strchr(s1, c) strchr((const char *) s1, (int) c)

/* True when s equals the literal text exactly. */
#define sl_str_eq_lit(s, lit) \
    ((s)->len == sizeof(lit) - 1 && memcmp((s)->data, lit, sizeof(lit) - 1) == 0)
#define sl_str_caseeq_lit(s, lit) \
    ((s)->len == sizeof(lit) - 1 && sl_strncasecmp((s)->data, (u_char *) lit, sizeof(lit) - 1) == 0)

/* Lowercases n bytes from src into dst (which may equal src). */
void sl_strlow(u_char *dst, const u_char *src, size_t n);
/* ASCII case-insensitive compare of at most n bytes; returns <0, 0, >0. */
sl_int_t sl_strncasecmp(const u_char *s1, const u_char *s2, size_t n);
/* Both strings equal (case-sensitive). */
int sl_str_eq(const sl_str_t *a, const sl_str_t *b);
/* Both strings equal ignoring ASCII case. */
int sl_str_caseeq(const sl_str_t *a, const sl_str_t *b);
/* Finds needle in [s, s+len); returns a pointer into s or NULL. */
u_char *sl_strlcasestrn(u_char *s, u_char *last, const u_char *needle, size_t n);
u_char *sl_strnstr(u_char *s, size_t len, const char *needle, size_t n);
/* Copies at most n-1 bytes and NUL-terminates; returns the end (the NUL). */
u_char *sl_cpystrn(u_char *dst, const u_char *src, size_t n);
/* Duplicates src into pool memory, NUL-terminated (len excludes the NUL). */
struct sl_pool_s;
u_char *sl_pstrdup(struct sl_pool_s *pool, const sl_str_t *src);

/*
 * Parsers of unsigned decimal text. Each returns SL_ERROR on an empty
 * string, a non-digit, or overflow, so no caller sees a wrapped value.
 */
sl_int_t sl_atoi(const u_char *line, size_t n);
off_t sl_atoof(const u_char *line, size_t n);
sl_int_t sl_hextoi(const u_char *line, size_t n);
/* "1.5" style fixed-point with point digits after the dot (1.5, 3 -> 1500). */
sl_int_t sl_atofp(const u_char *line, size_t n, size_t point);

/* Size with optional k/K/m/M/g/G suffix; SL_ERROR on bad input or overflow. */
ssize_t sl_parse_size(const sl_str_t *line);
off_t sl_parse_offset(const sl_str_t *line);
/*
 * Time as a sum of terms "1h 30m", units ms s m h d w M y; a number without
 * a unit (only as the last term) is seconds, as in nginx. Returns the value
 * in seconds (is_sec, where "ms" is refused) or ms, SL_ERROR on bad input or
 * overflow.
 */
sl_int_t sl_parse_time(const sl_str_t *line, int is_sec);

/*
 * printf-like formatting into [buf, last); never writes past last, returns
 * the end. Conversions (the compiler cannot check them, so keep to these):
 *   %d int, %ud unsigned int, %l long, %ul unsigned long,
 *   %i sl_int_t, %ui sl_uint_t, %z ssize_t, %uz size_t, %O off_t, %T time_t,
 *   %L int64_t, %uL uint64_t, %M sl_msec_t, %p void *, %c int (one byte),
 *   %s NUL-terminated char/u_char *, %*s size_t then u_char * (counted),
 *   %V sl_str_t *, %% a percent sign.
 * Flags: '0' pads with zeros, a width pads on the left ("%02d", "%4d"),
 * 'x' / 'X' after the width or 'u' print hex ("%xd", "%uxL", "%08Xd").
 */
u_char *sl_sprintf(u_char *buf, const char *fmt, ...);
u_char *sl_snprintf(u_char *buf, size_t max, const char *fmt, ...);
u_char *sl_slprintf(u_char *buf, u_char *last, const char *fmt, ...);
u_char *sl_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args);

/* Percent-decoding and escaping. */
#define SL_ESCAPE_URI 0
#define SL_ESCAPE_ARGS 1
#define SL_ESCAPE_URI_COMPONENT 2
#define SL_ESCAPE_HTML 3
#define SL_ESCAPE_REFRESH 4
/* With dst == NULL returns the number of bytes needing escape; else writes and returns end. */
uintptr_t sl_escape_uri(u_char *dst, const u_char *src, size_t size, sl_uint_t type);
size_t sl_escape_html(u_char *dst, const u_char *src, size_t size);
/* JSON string escaping; dst NULL returns extra length needed. */
uintptr_t sl_escape_json(u_char *dst, const u_char *src, size_t size);
/* Decodes %XX in place into dst; returns SL_ERROR on a bad escape. */
sl_int_t sl_unescape_uri(u_char **dst, u_char **src, size_t size);

void sl_hex_dump(u_char *dst, const u_char *src, size_t len);
/* Encodes a time_t into the IMF-fixdate form (29 bytes); returns end. */
u_char *sl_http_time(u_char *buf, time_t t);
/* Parses an IMF-fixdate (and the two obsolete forms); returns -1 on error. */
time_t sl_parse_http_time(const u_char *value, size_t len);

#endif /* SL_STRING_H */
