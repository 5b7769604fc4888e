/*
 * fuzz_uri.c: libFuzzer target for the value parsers a request goes
 * through after its line and headers: sl_http_normalize_uri(),
 * sl_unescape_uri(), sl_http_parse_content_length() and
 * sl_http_parse_transfer_encoding(). The first input byte chooses the
 * normalisation flags; the rest is the value given to every function.
 *
 * Checks beyond "no memory error": normalising into a separate buffer and
 * in place agree; a normalised path starts with '/', holds no NUL and no
 * ".." segment, and normalising it again (when it has no '%' left) changes
 * nothing; with merge_slashes it has no "//"; decoding never writes more
 * than it reads; Content-Length agrees with a plain reimplementation; only
 * a value whose one coding is "chunked" is classified as chunked.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_http_parse.h"
#include "sl_fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static u_char *
sl_fuzz_dup(const u_char *data, size_t size)
{
    u_char *p;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        abort();
    }

    sl_memcpy(p, data, size);

    return p;
}

static void
sl_fuzz_normalize(const u_char *data, size_t size, sl_uint_t flags)
{
    u_char *src, *dst, *again;
    size_t dst_len, in_place_len, again_len, i;
    sl_int_t rc, in_place_rc, again_rc;

    src = sl_fuzz_dup(data, size);
    dst = malloc(size ? size : 1);
    if (dst == NULL) {
        abort();
    }

    dst_len = 0;
    rc = sl_http_normalize_uri(src, size, dst, &dst_len, flags);

    if (rc != SL_OK && rc != SL_HTTP_PARSE_INVALID_REQUEST) {
        sl_fuzz_fail("sl_http_normalize_uri() returned %ld", (long) rc);
    }

    /* the same in place, as the contract allows */
    in_place_len = 0;
    in_place_rc = sl_http_normalize_uri(src, size, src, &in_place_len, flags);

    if (in_place_rc != rc) {
        sl_fuzz_fail("normalising in place returned %ld, into a copy %ld", (long) in_place_rc,
                     (long) rc);
    }

    if (rc != SL_OK) {
        free(src);
        free(dst);
        return;
    }

    if (dst_len > (size ? size : 1) || dst_len == 0) {
        sl_fuzz_fail("normalised path of %zu bytes from %zu", dst_len, size);
    }

    if (in_place_len != dst_len || memcmp(src, dst, dst_len) != 0) {
        sl_fuzz_fail("normalising in place gave another path");
    }

    if (dst[0] != '/') {
        sl_fuzz_fail("normalised path does not start with '/'");
    }

    for (i = 0; i < dst_len; i++) {
        if (dst[i] == '\0') {
            sl_fuzz_fail("normalised path holds NUL");
        }

        if (dst[i] == '/' && i + 2 < dst_len && dst[i + 1] == '.' && dst[i + 2] == '.'
            && (i + 3 == dst_len || dst[i + 3] == '/')) {
            sl_fuzz_fail("normalised path keeps a \"..\" segment");
        }

        if (dst[i] == '/' && i + 1 < dst_len && dst[i + 1] == '.'
            && (i + 2 == dst_len || dst[i + 2] == '/')) {
            sl_fuzz_fail("normalised path keeps a \".\" segment");
        }

        if ((flags & SL_HTTP_MERGE_SLASHES) && dst[i] == '/' && i + 1 < dst_len
            && dst[i + 1] == '/') {
            sl_fuzz_fail("normalised path keeps \"//\" with merge_slashes");
        }
    }

    if (memchr(dst, '%', dst_len) == NULL) {
        again = malloc(dst_len);
        if (again == NULL) {
            abort();
        }

        again_len = 0;
        again_rc = sl_http_normalize_uri(dst, dst_len, again, &again_len, flags);

        if (again_rc != SL_OK || again_len != dst_len || memcmp(again, dst, dst_len) != 0) {
            sl_fuzz_fail("normalising a normalised path changed it (rc %ld)", (long) again_rc);
        }

        free(again);
    }

    free(src);
    free(dst);
}

static void
sl_fuzz_unescape(const u_char *data, size_t size)
{
    u_char *src, *dst, *s, *d;
    sl_int_t rc;

    src = sl_fuzz_dup(data, size);
    dst = malloc(size ? size : 1);
    if (dst == NULL) {
        abort();
    }

    s = src;
    d = dst;
    rc = sl_unescape_uri(&d, &s, size);

    if (s < src || s > src + size || d < dst || d - dst > s - src) {
        sl_fuzz_fail("sl_unescape_uri() read %ld and wrote %ld of %zu bytes", (long) (s - src),
                     (long) (d - dst), size);
    }

    if (rc == SL_OK && s != src + size) {
        sl_fuzz_fail("sl_unescape_uri() SL_OK before the end of its input");
    }

    /* in place, as the request code and the rewrite module use it */
    s = src;
    d = src;
    (void) sl_unescape_uri(&d, &s, size);

    free(src);
    free(dst);
}

static void
sl_fuzz_transfer_encoding(const u_char *data, size_t size)
{
    u_char *v;
    const u_char *s, *e;
    sl_int_t te;

    v = sl_fuzz_dup(data, size);
    te = sl_http_parse_transfer_encoding(v, size);
    free(v);

    if (te != SL_HTTP_TE_CHUNKED && te != SL_HTTP_TE_OTHER && te != SL_HTTP_TE_INVALID) {
        sl_fuzz_fail("sl_http_parse_transfer_encoding() returned %ld", (long) te);
    }

    /* chunked is the one coding left once OWS and empty list elements go */
    s = data;
    e = data + size;

    while (s < e && (*s == ' ' || *s == '\t' || *s == ',')) {
        s++;
    }

    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == ',')) {
        e--;
    }

    if (te == SL_HTTP_TE_CHUNKED
        && (e - s != 7 || sl_strncasecmp((u_char *) s, (u_char *) "chunked", 7) != 0)) {
        sl_fuzz_fail("a value other than one \"chunked\" classified as chunked");
    }

    s = data;
    e = data + size;

    while (s < e && (*s == ' ' || *s == '\t')) {
        s++;
    }

    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }

    if (te != SL_HTTP_TE_CHUNKED && e - s == 7
        && sl_strncasecmp((u_char *) s, (u_char *) "chunked", 7) == 0) {
        sl_fuzz_fail("\"chunked\" not classified as chunked");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char *v;
    off_t cl;
    sl_uint_t flags;

    if (size == 0) {
        return 0;
    }

    flags = (data[0] & 1) ? SL_HTTP_MERGE_SLASHES : 0;
    data++;
    size--;
    sl_fuzz_set_input(data, size);

    sl_fuzz_normalize(data, size, flags);
    sl_fuzz_unescape(data, size);

    v = sl_fuzz_dup(data, size);
    cl = sl_http_parse_content_length(v, size);
    free(v);

    if (cl != sl_fuzz_content_length(data, size)) {
        sl_fuzz_fail("sl_http_parse_content_length() returned %lld", (long long) cl);
    }

    sl_fuzz_transfer_encoding(data, size);

    return 0;
}
