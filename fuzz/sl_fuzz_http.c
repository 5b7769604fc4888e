/*
 * sl_fuzz_http.c: the message driver shared by fuzz_request and
 * fuzz_response (see sl_fuzz_http.h). The checks here are the parsers'
 * promises that the rest of the server relies on without checking again:
 * items lie inside the buffer, names are tokens, values carry no CR, LF or
 * NUL, a path that skips normalisation has nothing to normalise, and the
 * same bytes give the same items however they arrive.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_hash.h"
#include "sl_http_parse.h"
#include "sl_fuzz_http.h"

#define SL_FUZZ_MAX_MESSAGES 16 /* pipelined requests parsed from one input */

/* The input of the current run, printed when a check fails. */
static const u_char *sl_fuzz_input;
static size_t sl_fuzz_input_len;

void
sl_fuzz_set_input(const u_char *data, size_t size)
{
    sl_fuzz_input = data;
    sl_fuzz_input_len = size;
}

void
sl_fuzz_fail(const char *fmt, ...)
{
    size_t i;
    va_list args;

    fprintf(stderr, "\nsluice fuzz: invariant broken: ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\ninput (%zu bytes): \"", sl_fuzz_input_len);

    for (i = 0; i < sl_fuzz_input_len && i < 4096; i++) {
        if (sl_fuzz_input[i] >= 0x20 && sl_fuzz_input[i] < 0x7f && sl_fuzz_input[i] != '"') {
            fputc(sl_fuzz_input[i], stderr);
        } else {
            fprintf(stderr, "\\x%02x", sl_fuzz_input[i]);
        }
    }

    fprintf(stderr, "\"\n");
    abort();
}

/* Transcripts -------------------------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
sl_fuzz_tr(sl_fuzz_transcript_t *t, const char *fmt, ...)
{
    int n;
    va_list args;

    if (t->len >= sizeof(t->text) - 1) {
        return;
    }

    va_start(args, fmt);
    n = vsnprintf(t->text + t->len, sizeof(t->text) - t->len, fmt, args);
    va_end(args);

    if (n > 0) {
        t->len = sl_min(t->len + (size_t) n, sizeof(t->text) - 1);
    }
}

static void
sl_fuzz_tr_bytes(sl_fuzz_transcript_t *t, const u_char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f) {
            sl_fuzz_tr(t, "%c", s[i]);
        } else {
            sl_fuzz_tr(t, "\\x%02x", s[i]);
        }
    }
}

/* Appends " name=[bytes]", or " name=-" for an absent span, after checking its bounds. */
static void
sl_fuzz_tr_span(sl_fuzz_transcript_t *t, sl_fuzz_feed_t *f, const char *name, const u_char *s,
                const u_char *e)
{
    if (s == NULL || e == NULL) {
        sl_fuzz_tr(t, " %s=-", name);
        return;
    }

    if (s < f->buf || e > f->b.pos || s > e) {
        sl_fuzz_fail("%s span [%p, %p) outside the parsed bytes [%p, %p)", name, (void *) s,
                     (void *) e, (void *) f->buf, (void *) f->b.pos);
    }

    sl_fuzz_tr(t, " %s=[", name);
    sl_fuzz_tr_bytes(t, s, (size_t) (e - s));
    sl_fuzz_tr(t, "]");
}

/* Feeding ------------------------------------------------------------------ */

static void
sl_fuzz_feed_init(sl_fuzz_feed_t *f, const u_char *data, size_t size, size_t step)
{
    sl_memzero(f, sizeof(sl_fuzz_feed_t));
    f->data = data;
    f->size = size;
    f->step = step;
    f->rnd = step;

    f->buf = malloc(1);
    if (f->buf == NULL) {
        abort();
    }

    f->buf_end = f->buf;
    f->b.start = f->buf;
    f->b.pos = f->buf;
    f->b.last = f->buf;
    f->b.end = f->buf;
}

/*
 * Appends the next piece of input after the bytes the parser still needs
 * (from sl_http_parse_pending(), else from b.pos), in a new allocation
 * exactly that large; frees the old one. Returns 0 when the input is used up.
 */
static int
sl_fuzz_feed_more(sl_fuzz_feed_t *f, sl_http_parse_t *p)
{
    u_char *from, *nb;
    size_t keep, n;

    if (f->fed == f->size) {
        return 0;
    }

    if (f->step == 0) {
        n = f->size - f->fed;

    } else {
        /* piece sizes around step, so boundaries fall everywhere */
        f->rnd = f->rnd * 1103515245 + 12345;
        n = 1 + (f->rnd >> 16) % (2 * f->step);
        n = sl_min(n, f->size - f->fed);
    }

    from = sl_http_parse_pending(p);

    if (from == NULL) {
        from = f->b.pos;

    } else if (from < f->buf || from > f->b.pos) {
        sl_fuzz_fail("sl_http_parse_pending() %p outside [%p, %p]", (void *) from, (void *) f->buf,
                     (void *) f->b.pos);
    }

    keep = (size_t) (f->b.last - from);

    nb = malloc(keep + n ? keep + n : 1);
    if (nb == NULL) {
        abort();
    }

    sl_memcpy(nb, from, keep);
    sl_memcpy(nb + keep, f->data + f->fed, n);
    f->fed += n;

    if (sl_http_parse_pending(p) != NULL) {
        sl_http_parse_relocate(p, from, nb);
    }

    f->b.pos = nb + (f->b.pos - from);
    f->b.last = nb + keep + n;
    f->b.start = nb;
    f->b.end = f->b.last;

    free(f->buf);
    f->buf = nb;
    f->buf_end = f->b.last;

    return 1;
}

/* Checks -------------------------------------------------------------------- */

/* SL_AGAIN promises that every byte was examined and consumed. */
static void
sl_fuzz_check_again(sl_fuzz_feed_t *f)
{
    if (f->b.pos != f->b.last) {
        sl_fuzz_fail("SL_AGAIN with %ld bytes left unparsed", (long) (f->b.last - f->b.pos));
    }
}

static int
sl_fuzz_is_tchar(u_char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void
sl_fuzz_check_header(sl_http_parse_t *p, sl_fuzz_feed_t *f, sl_uint_t lowcase)
{
    u_char *c, lc;
    size_t len;
    sl_uint_t hash;

    if (p->header_name_start == NULL || p->header_name_end == NULL || p->header_start == NULL
        || p->header_end == NULL) {
        sl_fuzz_fail("header line SL_OK with a NULL pointer");
    }

    if (p->header_name_start < f->buf || p->header_name_start >= p->header_name_end
        || p->header_name_end >= p->header_start || p->header_start > p->header_end
        || p->header_end >= f->b.pos) {
        sl_fuzz_fail("header pointers out of order");
    }

    if (*p->header_name_end != ':') {
        sl_fuzz_fail("header_name_end does not point at ':'");
    }

    hash = 0;
    len = (size_t) (p->header_name_end - p->header_name_start);

    for (c = p->header_name_start; c < p->header_name_end; c++) {
        if (!sl_fuzz_is_tchar(*c)) {
            sl_fuzz_fail("header name byte 0x%02x is not a tchar", *c);
        }

        lc = (u_char) ((*c >= 'A' && *c <= 'Z') ? (*c | 0x20) : *c);
        hash = sl_hash(hash, lc);

        if (lowcase && len <= SL_HTTP_LC_HEADER_LEN
            && p->lowcase_header[c - p->header_name_start] != lc) {
            sl_fuzz_fail("lowcase_header differs from the lowercased name");
        }
    }

    if (hash != p->header_hash) {
        sl_fuzz_fail("header_hash %lu, the lowercased name hashes to %lu",
                     (unsigned long) p->header_hash, (unsigned long) hash);
    }

    if (p->lowcase_index != ((lowcase && len <= SL_HTTP_LC_HEADER_LEN) ? len : 0)) {
        sl_fuzz_fail("lowcase_index %lu for a name of %zu bytes (lowcase %lu)",
                     (unsigned long) p->lowcase_index, len, (unsigned long) lowcase);
    }

    for (c = p->header_start; c < p->header_end; c++) {
        if (*c == '\0' || *c == '\r' || *c == '\n') {
            sl_fuzz_fail("header value holds byte 0x%02x", *c);
        }
    }

    if (p->header_end > p->header_start
        && (p->header_start[0] == ' ' || p->header_start[0] == '\t' || p->header_end[-1] == ' '
            || p->header_end[-1] == '\t')) {
        sl_fuzz_fail("header value keeps surrounding whitespace");
    }
}

off_t
sl_fuzz_content_length(const u_char *v, size_t len)
{
    size_t i;
    off_t n;

    if (len == 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }

        if (n > (SL_MAX_OFF_T_VALUE - (v[i] - '0')) / 10) {
            return -1;
        }

        n = n * 10 + (v[i] - '0');
    }

    return n;
}

/* Checks a path the request code would use as $uri without normalising it. */
static void
sl_fuzz_check_plain_path(const u_char *s, const u_char *e)
{
    const u_char *c;

    for (c = s; c < e; c++) {
        if (*c == '%' || *c == '\\' || *c == '\0') {
            sl_fuzz_fail("path byte 0x%02x without complex_uri", *c);
        }

        if (*c == '/' && c + 1 < e && c[1] == '/') {
            sl_fuzz_fail("\"//\" in a path without complex_uri");
        }

        if (*c == '/' && c + 1 < e && c[1] == '.'
            && (c + 2 == e || c[2] == '/' || (c[2] == '.' && (c + 3 == e || c[3] == '/')))) {
            sl_fuzz_fail("dot segment in a path without complex_uri");
        }
    }
}

/* A normalised path has no ".." segment: the static module joins it to root. */
static void
sl_fuzz_check_normalized(const u_char *s, size_t len)
{
    size_t i;

    if (len == 0 || s[0] != '/') {
        sl_fuzz_fail("normalised path does not start with '/'");
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '\0') {
            sl_fuzz_fail("normalised path holds NUL");
        }

        if (s[i] == '/' && i + 2 < len && s[i + 1] == '.' && s[i + 2] == '.'
            && (i + 3 == len || s[i + 3] == '/')) {
            sl_fuzz_fail("normalised path keeps a \"..\" segment");
        }
    }
}

static void
sl_fuzz_check_request_line(sl_http_parse_t *p, sl_fuzz_feed_t *f, sl_fuzz_transcript_t *t)
{
    u_char *c, *path_end, *norm;
    size_t len, norm_len;
    sl_int_t rc;

    if (p->request_start == NULL || p->request_end == NULL || p->method_end == NULL
        || p->uri_start == NULL || p->uri_end == NULL) {
        sl_fuzz_fail("request line SL_OK with a NULL pointer");
    }

    /* absolute-form without a path: an empty target at the SP, empty_path_in_uri */
    if (p->request_start < f->buf || p->request_start >= p->method_end
        || p->method_end >= p->uri_start || p->uri_start > p->uri_end
        || (p->uri_start == p->uri_end && !p->empty_path_in_uri) || p->uri_end > p->request_end
        || p->request_end >= f->b.pos) {
        sl_fuzz_fail("request line pointers out of order");
    }

    if (*p->request_end != '\r' && *p->request_end != '\n') {
        sl_fuzz_fail("request_end does not point at CR or LF");
    }

    for (c = p->request_start; c < p->method_end; c++) {
        if (!sl_fuzz_is_tchar(*c)) {
            sl_fuzz_fail("method byte 0x%02x is not a tchar", *c);
        }
    }

    for (c = p->uri_start; c < p->uri_end; c++) {
        if (*c <= 0x20 || *c == 0x7f) {
            sl_fuzz_fail("request target holds byte 0x%02x", *c);
        }
    }

    if (p->http_version != p->http_major * 1000 + p->http_minor || p->http_major != 1) {
        sl_fuzz_fail("http_version %lu for %lu.%lu", (unsigned long) p->http_version,
                     (unsigned long) p->http_major, (unsigned long) p->http_minor);
    }

    if (p->args_start != NULL
        && (p->args_start <= p->uri_start || p->args_start > p->uri_end
            || p->args_start[-1] != '?')) {
        sl_fuzz_fail("args_start not just after a '?' of the target");
    }

    if (p->empty_path_in_uri || p->uri_start[0] != '/') {
        return;
    }

    path_end = p->args_start ? p->args_start - 1 : p->uri_end;

    if (!p->complex_uri && !p->quoted_uri) {
        sl_fuzz_check_plain_path(p->uri_start, path_end);
        return;
    }

    /* what sl_http_process_request_uri() does with a complex path */
    len = (size_t) (path_end - p->uri_start);
    norm = malloc(len ? len : 1);
    if (norm == NULL) {
        abort();
    }

    rc = sl_http_normalize_uri(p->uri_start, len, norm, &norm_len, SL_HTTP_MERGE_SLASHES);
    sl_fuzz_tr(t, " normalised rc=%d", (int) rc);

    if (rc == SL_OK) {
        if (norm_len > (len ? len : 1)) {
            sl_fuzz_fail("normalised path of %zu bytes from %zu", norm_len, len);
        }

        sl_fuzz_check_normalized(norm, norm_len);
        sl_fuzz_tr(t, "[");
        sl_fuzz_tr_bytes(t, norm, norm_len);
        sl_fuzz_tr(t, "]");
    }

    free(norm);
}

/* Runs ---------------------------------------------------------------------- */

#define SL_FUZZ_LINE 0
#define SL_FUZZ_HEADERS 1
#define SL_FUZZ_CHUNKED 2
#define SL_FUZZ_LENGTH 3
#define SL_FUZZ_END 4

static void
sl_fuzz_run(int kind, sl_fuzz_feed_t *f, sl_uint_t lowcase, sl_fuzz_transcript_t *t)
{
    int phase;
    off_t length, cl;
    size_t n;
    sl_int_t rc, te;
    sl_uint_t messages, chunked, line;
    sl_http_parse_t p;
    sl_http_chunked_t ctx;

    sl_memzero(&p, sizeof(sl_http_parse_t));
    sl_memzero(&ctx, sizeof(sl_http_chunked_t));
    t->len = 0;
    t->text[0] = '\0';

    phase = SL_FUZZ_LINE;
    messages = 0;
    length = 0;
    chunked = 0;
    rc = SL_AGAIN;

    while (phase != SL_FUZZ_END) {
        if (rc == SL_AGAIN && f->b.pos == f->b.last) {
            if (!sl_fuzz_feed_more(f, &p)) {
                sl_fuzz_tr(t, "EOF phase=%d\n", phase);
                break;
            }
        }

        switch (phase) {
        case SL_FUZZ_LINE:
            line = (kind == SL_FUZZ_REQUEST);
            rc =
                line ? sl_http_parse_request_line(&p, &f->b) : sl_http_parse_status_line(&p, &f->b);

            if (rc == SL_AGAIN) {
                sl_fuzz_check_again(f);
                break;
            }

            sl_fuzz_tr(t, "%s rc=%d", line ? "RL" : "SL", (int) rc);

            if (rc != SL_OK) {
                sl_fuzz_tr(t, "\n");
                phase = SL_FUZZ_END;
                break;
            }

            if (line) {
                sl_fuzz_check_request_line(&p, f, t);
                sl_fuzz_tr(t, " m=%lu v=%lu c=%u q=%u plus=%u e=%u", (unsigned long) p.method,
                           (unsigned long) p.http_version, p.complex_uri, p.quoted_uri,
                           p.plus_in_uri, p.empty_path_in_uri);
                sl_fuzz_tr_span(t, f, "method", p.request_start, p.method_end);
                sl_fuzz_tr_span(t, f, "uri", p.uri_start, p.uri_end);
                sl_fuzz_tr_span(t, f, "args", p.args_start, p.args_start ? p.uri_end : NULL);
                sl_fuzz_tr_span(t, f, "host", p.host_start, p.host_end);
                sl_fuzz_tr_span(t, f, "port", p.port_start, p.port_end);

            } else {
                if (p.status < 100 || p.status > 999 || p.status_start == NULL
                    || p.status_start + 3 > p.status_end || p.http_major != 1
                    || (sl_uint_t) sl_atoi(p.status_start, 3) != p.status) {
                    sl_fuzz_fail("status line SL_OK with status %lu", (unsigned long) p.status);
                }

                sl_fuzz_tr(t, " status=%lu v=%lu", (unsigned long) p.status,
                           (unsigned long) p.http_version);
                sl_fuzz_tr_span(t, f, "status", p.status_start, p.status_end);
            }

            sl_fuzz_tr(t, "\n");
            phase = SL_FUZZ_HEADERS;
            length = 0;
            chunked = 0;
            break;

        case SL_FUZZ_HEADERS:
            rc = sl_http_parse_header_line(&p, &f->b, lowcase);

            if (rc == SL_AGAIN) {
                sl_fuzz_check_again(f);
                break;
            }

            sl_fuzz_tr(t, "H rc=%d", (int) rc);

            if (rc == SL_OK) {
                sl_fuzz_check_header(&p, f, lowcase);
                sl_fuzz_tr_span(t, f, "name", p.header_name_start, p.header_name_end);
                sl_fuzz_tr_span(t, f, "value", p.header_start, p.header_end);

                n = (size_t) (p.header_end - p.header_start);

                if (p.header_name_end - p.header_name_start == 14
                    && sl_strncasecmp(p.header_name_start, (u_char *) "content-length", 14) == 0) {
                    cl = sl_http_parse_content_length(p.header_start, n);

                    if (cl != sl_fuzz_content_length(p.header_start, n)) {
                        sl_fuzz_fail("sl_http_parse_content_length() gave %lld", (long long) cl);
                    }

                    sl_fuzz_tr(t, " cl=%lld", (long long) cl);
                    length = cl;
                }

                if (p.header_name_end - p.header_name_start == 17
                    && sl_strncasecmp(p.header_name_start, (u_char *) "transfer-encoding", 17)
                           == 0) {
                    te = sl_http_parse_transfer_encoding(p.header_start, n);

                    if (te != SL_HTTP_TE_CHUNKED && te != SL_HTTP_TE_OTHER
                        && te != SL_HTTP_TE_INVALID) {
                        sl_fuzz_fail("sl_http_parse_transfer_encoding() gave %ld", (long) te);
                    }

                    sl_fuzz_tr(t, " te=%ld", (long) te);
                    chunked = (te == SL_HTTP_TE_CHUNKED);
                }

                sl_fuzz_tr(t, "\n");
                break;
            }

            sl_fuzz_tr(t, "\n");

            if (rc != SL_HTTP_PARSE_HEADER_DONE) {
                phase = SL_FUZZ_END;
                break;
            }

            if (chunked) {
                sl_memzero(&ctx, sizeof(sl_http_chunked_t));
                phase = SL_FUZZ_CHUNKED;

            } else if (length > 0) {
                phase = SL_FUZZ_LENGTH;

            } else if (++messages < SL_FUZZ_MAX_MESSAGES) {
                phase = SL_FUZZ_LINE;

            } else {
                phase = SL_FUZZ_END;
            }

            rc = SL_AGAIN;
            break;

        case SL_FUZZ_CHUNKED:
            rc = sl_http_parse_chunked(&ctx, &f->b);

            if (rc == SL_AGAIN) {
                sl_fuzz_check_again(f);
                break;
            }

            if (rc == SL_OK) {
                if (ctx.size <= 0 || f->b.pos >= f->b.last) {
                    sl_fuzz_fail("sl_http_parse_chunked() SL_OK with size %lld and %ld bytes",
                                 (long long) ctx.size, (long) (f->b.last - f->b.pos));
                }

                /* data without separators: where the pieces fall must not show */
                n = (size_t) sl_min(ctx.size, f->b.last - f->b.pos);
                sl_fuzz_tr_bytes(t, f->b.pos, n);
                f->b.pos += n;
                ctx.size -= n;
                rc = SL_AGAIN;
                break;
            }

            sl_fuzz_tr(t, "\nC rc=%d\n", (int) rc);

            if (rc == SL_DONE && ++messages < SL_FUZZ_MAX_MESSAGES) {
                phase = SL_FUZZ_LINE;
                rc = SL_AGAIN;

            } else {
                phase = SL_FUZZ_END;
            }

            break;

        case SL_FUZZ_LENGTH:
            n = (size_t) sl_min(length, f->b.last - f->b.pos);
            sl_fuzz_tr_bytes(t, f->b.pos, n);
            f->b.pos += n;
            length -= n;
            rc = SL_AGAIN;

            if (length == 0) {
                sl_fuzz_tr(t, "\nB done\n");
                phase = (++messages < SL_FUZZ_MAX_MESSAGES) ? SL_FUZZ_LINE : SL_FUZZ_END;
            }

            break;
        }
    }

    free(f->buf);
    f->buf = NULL;
}

void
sl_fuzz_http_message(int kind, const u_char *data, size_t size, u_char mode)
{
    static const size_t steps[8] = { 1, 1, 2, 3, 5, 8, 16, 64 };
    static sl_fuzz_transcript_t whole, pieces;
    sl_uint_t lowcase;
    sl_fuzz_feed_t f;

    sl_fuzz_set_input(data, size);

    lowcase = (mode & 0x08) ? 0 : 1;

    sl_fuzz_feed_init(&f, data, size, 0);
    sl_fuzz_run(kind, &f, lowcase, &whole);

    sl_fuzz_feed_init(&f, data, size, steps[mode & 7]);
    f.rnd = mode;
    sl_fuzz_run(kind, &f, lowcase, &pieces);

    if (whole.len != pieces.len || memcmp(whole.text, pieces.text, whole.len) != 0) {
        sl_fuzz_fail("the input parsed whole and in pieces of about %zu bytes differs:\n"
                     "--- whole\n%.*s\n--- pieces\n%.*s",
                     steps[mode & 7], (int) whole.len, whole.text, (int) pieces.len, pieces.text);
    }
}
