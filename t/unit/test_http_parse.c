/*
 * test_http_parse.c: the HTTP/1.1 parsers. Every message is parsed at once
 * and again fed in small pieces, moving the partial item to a new heap
 * buffer at every SL_AGAIN (and freeing the old one, so ASan sees any stale
 * pointer); both runs must give the same transcript.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_hash.h"
#include "sl_http_parse.h"
#include "sl_tap.h"

#include <stdarg.h>

/*
 * sl_tap.h's is_mem() passes its own sl_tap_c_ to ok(), which declares
 * another sl_tap_c_ initialised from itself; this equivalent avoids that.
 */
#define mem_is(got, glen, want, ...) \
    do { \
        size_t mem_is_gl_ = (size_t) (glen); \
        const char *mem_is_w_ = (want); \
        int mem_is_c_ = \
            mem_is_gl_ == strlen(mem_is_w_) && memcmp((got), mem_is_w_, mem_is_gl_) == 0; \
        ok(mem_is_c_, __VA_ARGS__); \
        if (!mem_is_c_) { \
            printf("#   got \"%.*s\", want \"%s\"\n", (int) mem_is_gl_, (const char *) (got), \
                   mem_is_w_); \
        } \
    } while (0)

/* Transcripts ------------------------------------------------------------ */

typedef struct {
    char text[65536];
    size_t len;
    int broken; /* an invariant failed while producing it */
} tr_t;

static void
tr_add(tr_t *t, const char *fmt, ...)
{
    va_list args;
    int n;

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

/* Appends name=[bytes] (escaped), or name=- for NULL; checks the range. */
static void
tr_span(tr_t *t, const char *name, const u_char *s, const u_char *e, const u_char *lo,
        const u_char *hi)
{
    const u_char *q;

    if (s == NULL || e == NULL) {
        tr_add(t, " %s=-", name);
        return;
    }

    if (s < lo || e > hi || s > e) {
        t->broken = 1;
        tr_add(t, " %s=OUT", name);
        return;
    }

    tr_add(t, " %s=[", name);
    for (q = s; q < e; q++) {
        if (*q >= 0x20 && *q < 0x7f) {
            tr_add(t, "%c", *q);
        } else {
            tr_add(t, "\\x%02x", *q);
        }
    }
    tr_add(t, "]");
}

/* Appends body bytes escaped, without separators, so piece boundaries do not show. */
static void
tr_data(tr_t *t, const u_char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f) {
            tr_add(t, "%c", s[i]);
        } else {
            tr_add(t, "\\x%02x", s[i]);
        }
    }
}

static void
tr_request_line(tr_t *t, sl_int_t rc, sl_http_parse_t *p, const u_char *lo, const u_char *hi)
{
    tr_add(t, "RL rc=%d", (int) rc);

    if (rc != SL_OK && rc != SL_HTTP_PARSE_INVALID_VERSION && rc != SL_HTTP_PARSE_INVALID_METHOD
        && !(rc == SL_HTTP_PARSE_INVALID_REQUEST && p->request_end != NULL)) {
        tr_add(t, "\n");
        return;
    }

    tr_add(t, " m=%lu v=%lu c=%u q=%u plus=%u e=%u", (unsigned long) p->method,
           (unsigned long) p->http_version, p->complex_uri, p->quoted_uri, p->plus_in_uri,
           p->empty_path_in_uri);
    tr_span(t, "line", p->request_start, p->request_end, lo, hi);
    tr_span(t, "method", p->request_start, p->method_end, lo, hi);
    tr_span(t, "uri", p->uri_start, p->uri_end, lo, hi);
    tr_span(t, "args", p->args_start, p->args_start ? p->uri_end : NULL, lo, hi);
    tr_span(t, "schema", p->schema_start, p->schema_end, lo, hi);
    tr_span(t, "host", p->host_start, p->host_end, lo, hi);
    tr_span(t, "port", p->port_start, p->port_end, lo, hi);
    tr_span(t, "proto", p->http_protocol_start, p->request_end, lo, hi);
    tr_add(t, "\n");
}

static void
tr_status_line(tr_t *t, sl_int_t rc, sl_http_parse_t *p, const u_char *lo, const u_char *hi)
{
    tr_add(t, "SL rc=%d", (int) rc);
    if (rc == SL_OK) {
        tr_add(t, " status=%lu v=%lu", (unsigned long) p->status, (unsigned long) p->http_version);
        tr_span(t, "line", p->request_start, p->request_end, lo, hi);
        tr_span(t, "status", p->status_start, p->status_end, lo, hi);
    }
    tr_add(t, "\n");
}

static void
tr_header(tr_t *t, sl_int_t rc, sl_http_parse_t *p, const u_char *lo, const u_char *hi)
{
    tr_add(t, "H rc=%d", (int) rc);
    if (rc == SL_OK) {
        tr_span(t, "name", p->header_name_start, p->header_name_end, lo, hi);
        tr_span(t, "value", p->header_start, p->header_end, lo, hi);
        tr_add(t, " hash=%lu lc=%lu:%.*s", (unsigned long) p->header_hash,
               (unsigned long) p->lowcase_index, (int) p->lowcase_index,
               (const char *) p->lowcase_header);
    }
    tr_add(t, "\n");
}

/* Feeding ---------------------------------------------------------------- */

#define MSG_REQUEST 0
#define MSG_RESPONSE 1
#define MSG_CHUNKED 2

/*
 * Parses in[0..len) as a request or response head, or a chunked body,
 * feeding step bytes at a time. At every SL_AGAIN the bytes still needed
 * move to a fresh allocation and the old one is freed.
 */
static void
run_message(int kind, const u_char *in, size_t len, size_t step, tr_t *t)
{
    sl_http_parse_t p;
    sl_http_chunked_t ctx;
    sl_buf_t b;
    sl_int_t rc;
    u_char *buf, *nb, *keep;
    size_t fed, n, add, take;
    int phase;

    memset(&p, 0, sizeof(p));
    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));
    t->len = 0;
    t->broken = 0;
    t->text[0] = '\0';

    fed = sl_min(step, len);
    buf = malloc(fed ? fed : 1);
    if (buf == NULL) {
        t->broken = 1;
        return;
    }
    memcpy(buf, in, fed);
    b.pos = buf;
    b.last = buf + fed;
    phase = 0;

    for (;;) {
        if (kind == MSG_CHUNKED) {
            rc = sl_http_parse_chunked(&ctx, &b);
        } else if (phase == 0) {
            rc = (kind == MSG_REQUEST) ? sl_http_parse_request_line(&p, &b)
                                       : sl_http_parse_status_line(&p, &b);
        } else {
            rc = sl_http_parse_header_line(&p, &b, 1);
        }

        if (b.pos < buf || b.pos > b.last) {
            t->broken = 1;
            tr_add(t, "POS OUT\n");
            break;
        }

        if (rc == SL_AGAIN) {
            if (b.pos != b.last) {
                t->broken = 1;
            }
            if (fed == len) {
                tr_add(t, "AGAIN\n");
                break;
            }

            keep = (kind == MSG_CHUNKED) ? NULL : sl_http_parse_pending(&p);
            if (keep == NULL) {
                keep = b.pos;
            }
            if (keep < buf || keep > b.pos) {
                t->broken = 1;
                break;
            }

            n = b.last - keep;
            add = sl_min(step, len - fed);
            nb = malloc(n + add);
            if (nb == NULL) {
                t->broken = 1;
                break;
            }
            memcpy(nb, keep, n);
            memcpy(nb + n, in + fed, add);
            fed += add;

            if (kind != MSG_CHUNKED) {
                sl_http_parse_relocate(&p, keep, nb);
            }
            b.pos = nb + (b.pos - keep);
            b.last = nb + n + add;

            free(buf);
            buf = nb;
            continue;
        }

        if (kind == MSG_CHUNKED) {
            if (rc == SL_OK) {
                if (ctx.size <= 0 || b.pos == b.last) {
                    t->broken = 1;
                    break;
                }
                take = (size_t) sl_min(ctx.size, (off_t) (b.last - b.pos));
                tr_data(t, b.pos, take);
                b.pos += take;
                ctx.size -= take;
                continue;
            }
            tr_add(t, "\nC rc=%d at=%zu\n", (int) rc, fed - (size_t) (b.last - b.pos));
            break;
        }

        if (phase == 0) {
            if (kind == MSG_REQUEST) {
                tr_request_line(t, rc, &p, buf, b.last);
            } else {
                tr_status_line(t, rc, &p, buf, b.last);
            }
            if (rc != SL_OK) {
                tr_add(t, "at=%zu\n", fed - (size_t) (b.last - b.pos));
                break;
            }
            phase = 1;
            continue;
        }

        tr_header(t, rc, &p, buf, b.last);
        if (rc != SL_OK) {
            tr_add(t, "at=%zu\n", fed - (size_t) (b.last - b.pos));
            break;
        }
    }

    free(buf);
}

static tr_t tr_whole, tr_piece;

/* True when feeding 1, 2, 3 and 7 bytes at a time gives the whole-buffer transcript. */
static int
same_in_pieces(int kind, const u_char *in, size_t len)
{
    static const size_t steps[] = { 1, 2, 3, 7 };
    size_t i;

    run_message(kind, in, len, len ? len : 1, &tr_whole);
    if (tr_whole.broken) {
        printf("# broken whole run: %s\n", tr_whole.text);
        return 0;
    }

    for (i = 0; i < sl_nelts(steps); i++) {
        run_message(kind, in, len, steps[i], &tr_piece);
        if (tr_piece.broken || tr_piece.len != tr_whole.len
            || memcmp(tr_piece.text, tr_whole.text, tr_whole.len) != 0) {
            printf("# step %zu differs:\n# whole: %s# piece: %s\n", steps[i], tr_whole.text,
                   tr_piece.text);
            return 0;
        }
    }

    return 1;
}

/* One-shot helpers over an exact-size heap copy (ASan sees any overread). --- */

static u_char *copy_buf;

static u_char *
copy_of(const char *s, size_t len)
{
    free(copy_buf);
    copy_buf = malloc(len ? len : 1);
    memcpy(copy_buf, s, len);
    return copy_buf;
}

static sl_buf_t one_b;

static sl_int_t
rl_n(const char *s, size_t len, sl_http_parse_t *p)
{
    memset(p, 0, sizeof(*p));
    memset(&one_b, 0, sizeof(one_b));
    one_b.pos = copy_of(s, len);
    one_b.last = one_b.pos + len;
    return sl_http_parse_request_line(p, &one_b);
}

#define rl(s, p) rl_n(s, sizeof(s) - 1, p)

static sl_int_t
hl_n(const char *s, size_t len, sl_http_parse_t *p, sl_uint_t lowcase)
{
    memset(p, 0, sizeof(*p));
    memset(&one_b, 0, sizeof(one_b));
    one_b.pos = copy_of(s, len);
    one_b.last = one_b.pos + len;
    return sl_http_parse_header_line(p, &one_b, lowcase);
}

#define hl(s, p) hl_n(s, sizeof(s) - 1, p, 1)

static sl_int_t
st_n(const char *s, size_t len, sl_http_parse_t *p)
{
    memset(p, 0, sizeof(*p));
    memset(&one_b, 0, sizeof(one_b));
    one_b.pos = copy_of(s, len);
    one_b.last = one_b.pos + len;
    return sl_http_parse_status_line(p, &one_b);
}

#define st(s, p) st_n(s, sizeof(s) - 1, p)

#define span_is(s, e, want, ...) \
    mem_is((s) ? (const char *) (s) : "", ((s) && (e)) ? (size_t) ((e) - (s)) : 0, want, \
           __VA_ARGS__)

/* Chunked body at once: returns the final code and the data in out. */
static sl_int_t
chunked_n(const char *s, size_t len, char *out, size_t *out_len, size_t *consumed)
{
    sl_http_chunked_t ctx;
    sl_buf_t b;
    sl_int_t rc;
    size_t take;

    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));
    b.pos = copy_of(s, len);
    b.last = b.pos + len;
    *out_len = 0;

    for (;;) {
        rc = sl_http_parse_chunked(&ctx, &b);
        if (rc != SL_OK) {
            break;
        }
        take = (size_t) sl_min(ctx.size, (off_t) (b.last - b.pos));
        memcpy(out + *out_len, b.pos, take);
        *out_len += take;
        b.pos += take;
        ctx.size -= take;
    }

    if (consumed) {
        *consumed = b.pos - copy_buf;
    }

    return rc;
}

static char chunk_out[131072];
static size_t chunk_out_len;

#define chunked(s, consumed) chunked_n(s, sizeof(s) - 1, chunk_out, &chunk_out_len, consumed)

/* Request line ----------------------------------------------------------- */

static void
test_request_line(void)
{
    sl_http_parse_t p;
    size_t i;

    static const struct {
        const char *line;
        sl_uint_t method;
    } methods[] = {
        { "GET / HTTP/1.1\r\n", SL_HTTP_GET },
        { "HEAD / HTTP/1.1\r\n", SL_HTTP_HEAD },
        { "POST / HTTP/1.1\r\n", SL_HTTP_POST },
        { "PUT / HTTP/1.1\r\n", SL_HTTP_PUT },
        { "DELETE / HTTP/1.1\r\n", SL_HTTP_DELETE },
        { "OPTIONS / HTTP/1.1\r\n", SL_HTTP_OPTIONS },
        { "PATCH / HTTP/1.1\r\n", SL_HTTP_PATCH },
        { "TRACE / HTTP/1.1\r\n", SL_HTTP_TRACE },
        { "PROPFIND / HTTP/1.1\r\n", SL_HTTP_UNKNOWN },
        { "get / HTTP/1.1\r\n", SL_HTTP_UNKNOWN },
        { "M-SEARCH / HTTP/1.1\r\n", SL_HTTP_UNKNOWN },
        { "GETS / HTTP/1.1\r\n", SL_HTTP_UNKNOWN },
        { "GE / HTTP/1.1\r\n", SL_HTTP_UNKNOWN },
        { "!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\n", SL_HTTP_UNKNOWN },
    };

    for (i = 0; i < sl_nelts(methods); i++) {
        is_int(rl_n(methods[i].line, strlen(methods[i].line), &p), SL_OK, "method line %zu", i);
        is_int(p.method, methods[i].method, "method of %.*s",
               (int) (strchr(methods[i].line, ' ') - methods[i].line), methods[i].line);
    }

    is_int(rl("GET /a/b?x=1&y=2 HTTP/1.0\r\n", &p), SL_OK, "origin-form with query");
    span_is(p.request_start, p.method_end, "GET", "method name");
    span_is(p.uri_start, p.uri_end, "/a/b?x=1&y=2", "uri");
    span_is(p.args_start, p.uri_end, "x=1&y=2", "args");
    span_is(p.http_protocol_start, p.request_end, "HTTP/1.0", "protocol");
    span_is(p.request_start, p.request_end, "GET /a/b?x=1&y=2 HTTP/1.0", "request line");
    is_int(p.http_version, SL_HTTP_VERSION_10, "HTTP/1.0");
    ok(p.schema_start == NULL && p.host_start == NULL, "no schema or host");
    ok(!p.complex_uri && !p.quoted_uri && !p.plus_in_uri, "simple uri flags");
    is_int(one_b.pos - copy_buf, sizeof("GET /a/b?x=1&y=2 HTTP/1.0\r\n") - 1, "pos after LF");

    is_int(rl("GET / HTTP/1.1\n", &p), SL_OK, "bare LF ends the line");
    is_int(p.http_version, SL_HTTP_VERSION_11, "HTTP/1.1");
    is_int(rl("GET /? HTTP/1.1\r\n", &p), SL_OK, "empty query");
    span_is(p.args_start, p.uri_end, "", "empty args");
    ok(p.args_start != NULL, "args present");
    is_int(rl("\r\n\r\n\nGET /x HTTP/1.1\r\n", &p), SL_OK, "leading empty lines skipped");
    span_is(p.request_start, p.request_end, "GET /x HTTP/1.1", "line starts at the method");
    is_int(rl("\rGET / HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "bare CR before line");
    is_int(rl("GET / HTTP/1.1\r\nHost: x\r\n", &p), SL_OK, "line before headers");
    is_int(one_b.pos - copy_buf, 16, "stops after the request line");
    is_int(rl("GET /caf\xc3\xa9?q=\xff HTTP/1.1\r\n", &p), SL_OK, "obs-text in target");

    /* absolute-form */
    is_int(rl("GET http://Example.com:8080/p?q=1 HTTP/1.1\r\n", &p), SL_OK, "absolute-form");
    span_is(p.schema_start, p.schema_end, "http", "schema");
    span_is(p.host_start, p.host_end, "Example.com", "host");
    span_is(p.port_start, p.port_end, "8080", "port");
    span_is(p.uri_start, p.uri_end, "/p?q=1", "path and query");
    span_is(p.args_start, p.uri_end, "q=1", "absolute args");
    ok(!p.empty_path_in_uri, "path present");
    is_int(rl("GET HTTPS://h HTTP/1.1\r\n", &p), SL_OK, "absolute-form without path");
    span_is(p.schema_start, p.schema_end, "HTTPS", "schema case kept");
    span_is(p.host_start, p.host_end, "h", "host h");
    ok(p.empty_path_in_uri && p.uri_start == p.uri_end, "empty path");
    ok(p.port_start == NULL, "no port");
    is_int(rl("GET http://h?a=b HTTP/1.1\r\n", &p), SL_OK, "absolute-form, query no path");
    ok(p.empty_path_in_uri, "empty path with query");
    span_is(p.args_start, p.uri_end, "a=b", "args without path");
    is_int(rl("GET http://[::1]:80/ HTTP/1.1\r\n", &p), SL_OK, "IPv6 literal");
    span_is(p.host_start, p.host_end, "[::1]", "bracketed host");
    span_is(p.port_start, p.port_end, "80", "port after literal");
    is_int(rl("GET http://h:/x HTTP/1.1\r\n", &p), SL_OK, "empty port");
    ok(p.port_start != NULL && p.port_start == p.port_end, "empty port span");
    is_int(rl("GET svn+ssh.x-y://h/ HTTP/1.1\r\n", &p), SL_OK, "scheme characters");
    is_int(rl("GET http:///x HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "empty host");
    is_int(rl("GET http://:80/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST,
           "empty host with port");
    is_int(rl("GET http://u@h/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "userinfo");
    is_int(rl("GET http://[]/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "empty literal");
    is_int(rl("GET http://[::1/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST,
           "unclosed literal");
    is_int(rl("GET http://h:8a/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "bad port");
    is_int(rl("GET http:/h/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "one slash");
    is_int(rl("GET 1http://h/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST,
           "scheme starting with a digit");
    is_int(rl("GET h#x://h/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "bad scheme");
    is_int(rl("GET example.com:80 HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST,
           "authority-form without CONNECT");

    /* asterisk-form and CONNECT */
    is_int(rl("OPTIONS * HTTP/1.1\r\n", &p), SL_OK, "asterisk-form");
    span_is(p.uri_start, p.uri_end, "*", "asterisk uri");
    is_int(rl("GET * HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "asterisk with GET");
    is_int(rl("OPTIONS *x HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "asterisk plus");
    is_int(rl("OPTIONS ** HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "two asterisks");
    is_int(rl("CONNECT example.com:443 HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_METHOD,
           "CONNECT parses and answers 405");
    span_is(p.host_start, p.host_end, "example.com", "CONNECT host");
    span_is(p.port_start, p.port_end, "443", "CONNECT port");
    is_int(one_b.pos - copy_buf, sizeof("CONNECT example.com:443 HTTP/1.1\r\n") - 1,
           "CONNECT line consumed");
    is_int(rl("CONNECT [::1]:443 HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_METHOD,
           "CONNECT literal");
    is_int(rl("CONNECT example.com HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST,
           "CONNECT without port");
    is_int(rl("CONNECT example.com: HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST,
           "CONNECT empty port");
    is_int(rl("CONNECT / HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "CONNECT origin");
    is_int(rl("CONNECT h:1/x HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST,
           "CONNECT with a path");

    /* flags */
    is_int(rl("GET /a%20b HTTP/1.1\r\n", &p), SL_OK, "quoted");
    ok(p.quoted_uri && p.complex_uri, "%% sets quoted and complex");
    is_int(rl("GET /a/./b HTTP/1.1\r\n", &p), SL_OK, "dot segment");
    ok(p.complex_uri && !p.quoted_uri, "/. is complex");
    is_int(rl("GET /a//b HTTP/1.1\r\n", &p), SL_OK, "double slash");
    ok(p.complex_uri, "// is complex");
    is_int(rl("GET /a\\b HTTP/1.1\r\n", &p), SL_OK, "backslash");
    ok(p.complex_uri, "backslash is complex");
    is_int(rl("GET /\\ HTTP/1.1\r\n", &p), SL_OK, "backslash after slash");
    ok(p.complex_uri, "backslash after slash is complex");
    is_int(rl("GET /a+b HTTP/1.1\r\n", &p), SL_OK, "plus");
    ok(p.plus_in_uri && !p.complex_uri, "plus flag only");
    is_int(rl("GET /+ HTTP/1.1\r\n", &p), SL_OK, "plus after slash");
    ok(p.plus_in_uri, "plus after slash flag");
    is_int(rl("GET /a.b/c. HTTP/1.1\r\n", &p), SL_OK, "dots inside segments");
    ok(!p.complex_uri, "dots inside segments are simple");
    is_int(rl("GET /.hidden HTTP/1.1\r\n", &p), SL_OK, "dot after slash");
    ok(p.complex_uri, "dot after slash is complex");
    is_int(rl("GET /a?x=%zz/../+ HTTP/1.1\r\n", &p), SL_OK, "query is not examined");
    ok(!p.complex_uri && !p.quoted_uri && !p.plus_in_uri, "no flags from the query");

    /* rejections */
    is_int(rl("GET /a#f HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "fragment");
    is_int(rl("GET /#f HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "fragment after /");
    is_int(rl("GET /?a#f HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "fragment in query");
    is_int(rl("GET /a\x01 HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "CTL in path");
    is_int(rl_n("GET /\0 HTTP/1.1\r\n", 17, &p), SL_HTTP_PARSE_INVALID_REQUEST, "NUL in path");
    is_int(rl("GET /a\x7f HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "DEL in path");
    is_int(rl("GET /?\x7f HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "DEL in query");
    is_int(rl("GET /?a\tb HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "TAB in query");
    is_int(rl("GET  / HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "two SP after method");
    is_int(rl("GET /  HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "two SP after uri");
    is_int(rl("GET / HTTP/1.1 \r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "SP after version");
    is_int(rl("GET\t/ HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "TAB after method");
    is_int(rl("GET /\tHTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "TAB after uri");
    is_int(rl(" GET / HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "leading SP");
    is_int(rl("GE(T / HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "non-token method");
    is_int(rl("GET\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "method only");
    is_int(rl("GET x HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "relative target");
    is_int(rl("GET ?x HTTP/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "query-only target");
    is_int(rl("GET /\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "HTTP/0.9");
    is_int(rl("GET / \r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "no version");
    is_int(rl("GET / http/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "lowercase protocol");
    is_int(rl("GET / HTTP/01.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "HTTP/01.1");
    is_int(rl("GET / HTTP/1.10\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "HTTP/1.10");
    is_int(rl("GET / HTTP/1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "HTTP/1");
    is_int(rl("GET / HTTP/1.\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "HTTP/1.");
    is_int(rl("GET / HTTP/0.9\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "HTTP/0.9 explicit");
    is_int(rl("GET / HTTP/1.1\rX", &p), SL_HTTP_PARSE_INVALID_REQUEST, "bare CR");
    is_int(rl("GET / HTTP/1.1\r\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "CR CR LF");
    is_int(rl("GET / HTTP/1.1x\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "junk after version");
    is_int(rl("GET / HTTPS/1.1\r\n", &p), SL_HTTP_PARSE_INVALID_REQUEST, "HTTPS/1.1");
    is_int(rl("GET / HTTP/1.1", &p), SL_AGAIN, "no line end yet");
    is_int(rl("", &p), SL_AGAIN, "empty input");
    is_int(rl("\r\n", &p), SL_AGAIN, "only an empty line");

    /* versions */
    is_int(rl("GET / HTTP/1.2\r\n", &p), SL_OK, "HTTP/1.2 is 1.1-compatible");
    is_int(p.http_major, 1, "major 1");
    is_int(p.http_minor, 2, "minor kept");
    is_int(p.http_version, 1002, "version 1002");
    is_int(rl("GET / HTTP/2.0\r\n", &p), SL_HTTP_PARSE_INVALID_VERSION, "HTTP/2.0: 505");
    is_int(p.http_major, 2, "major 2");
    is_int(rl("GET / HTTP/9.9\r\n", &p), SL_HTTP_PARSE_INVALID_VERSION, "HTTP/9.9: 505");
    is_int(rl("PRI * HTTP/2.0\r\n", &p), SL_HTTP_PARSE_INVALID_VERSION, "h2 preface: 505");
    span_is(p.request_start, p.method_end, "PRI", "preface method recognisable");

    /* the struct is reused for the next request on a connection */
    is_int(rl("GET http://h/a%41?x HTTP/1.1\r\nGET /b HTTP/1.0\r\n", &p), SL_OK, "first");
    is_int(sl_http_parse_request_line(&p, &one_b), SL_OK, "second on the same struct");
    ok(p.args_start == NULL && p.schema_start == NULL && p.host_start == NULL && !p.quoted_uri
           && !p.complex_uri,
       "nothing left over from the first request");
    span_is(p.uri_start, p.uri_end, "/b", "second uri");
    is_int(p.http_version, SL_HTTP_VERSION_10, "second version");
}

/* Header lines ----------------------------------------------------------- */

static sl_uint_t
hash_lc(const char *name)
{
    sl_uint_t h;

    for (h = 0; *name; name++) {
        h = sl_hash(h, sl_tolower((u_char) *name));
    }
    return h;
}

static void
test_header_line(void)
{
    sl_http_parse_t p;
    char name[80], line[128];

    is_int(hl("Host: example.com\r\n", &p), SL_OK, "header");
    span_is(p.header_name_start, p.header_name_end, "Host", "name");
    span_is(p.header_start, p.header_end, "example.com", "value");
    is_int(p.header_hash, hash_lc("host"), "hash over the lowercased name");
    is_int(p.lowcase_index, 4, "lowcase length");
    mem_is(p.lowcase_header, p.lowcase_index, "host", "lowcase copy");
    is_int(one_b.pos - copy_buf, 19, "pos after LF");

    is_int(hl("X-A:  v  \r\n", &p), SL_OK, "OWS around value");
    span_is(p.header_start, p.header_end, "v", "value trimmed");
    is_int(hl("X:\t v \t\r\n", &p), SL_OK, "tabs around value");
    span_is(p.header_start, p.header_end, "v", "tabs trimmed");
    is_int(hl("X: a \t b \r\n", &p), SL_OK, "inner whitespace");
    span_is(p.header_start, p.header_end, "a \t b", "inner whitespace kept");
    is_int(hl("X:\r\n", &p), SL_OK, "empty value");
    ok(p.header_start != NULL && p.header_start == p.header_end, "empty value span");
    is_int(hl("X:   \r\n", &p), SL_OK, "whitespace-only value");
    ok(p.header_start == p.header_end, "whitespace-only value is empty");
    is_int(hl("X: v\n", &p), SL_OK, "bare LF");
    span_is(p.header_start, p.header_end, "v", "bare LF value");
    is_int(hl("X: \x80\xff\"\\\r\n", &p), SL_OK, "obs-text and specials");
    is_int(hl("!#$%&'*+-.^_`|~09Az: x\r\n", &p), SL_OK, "every tchar in a name");
    is_int(hl("\r\n", &p), SL_HTTP_PARSE_HEADER_DONE, "end of headers");
    is_int(one_b.pos - copy_buf, 2, "pos after the empty line");
    is_int(hl("\n", &p), SL_HTTP_PARSE_HEADER_DONE, "end of headers, bare LF");
    is_int(hl("X-Y: z", &p), SL_AGAIN, "partial header");

    is_int(hl(" folded\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "obs-fold (SP)");
    is_int(hl("\tfolded\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "obs-fold (HTAB)");
    is_int(hl("Host : x\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "SP before colon");
    is_int(hl("Host\t: x\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "TAB before colon");
    is_int(hl(": x\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "empty name");
    is_int(hl("Ho st: x\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "SP in name");
    is_int(hl("Host\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "no colon");
    is_int(hl("Host\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "no colon, LF");
    is_int(hl("(x): y\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "non-token name");
    is_int(hl_n("Ho\0st: x\r\n", 10, &p, 1), SL_HTTP_PARSE_INVALID_HEADER, "NUL in name");
    is_int(hl("Ho\x01st: x\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "CTL in name");
    is_int(hl("H\xc3\xa9: x\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "obs-text in name");
    is_int(hl_n("X: a\0b\r\n", 8, &p, 1), SL_HTTP_PARSE_INVALID_HEADER, "NUL in value");
    is_int(hl_n("X: \0\r\n", 6, &p, 1), SL_HTTP_PARSE_INVALID_HEADER, "NUL first in value");
    is_int(hl_n("X: a \0\r\n", 8, &p, 1), SL_HTTP_PARSE_INVALID_HEADER, "NUL after OWS");
    is_int(hl("X: a\x01\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "CTL in value");
    is_int(hl("X: a\x7f\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "DEL in value");
    is_int(hl("X: a\x1b[0m\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "ESC in value");
    is_int(hl("X: a\rb\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "bare CR in value");
    is_int(hl("X: a\r\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "CR CR LF");
    is_int(hl("X:\r \n", &p), SL_HTTP_PARSE_INVALID_HEADER, "CR SP LF");
    is_int(hl("\rX", &p), SL_HTTP_PARSE_INVALID_HEADER, "bare CR as the empty line");
    is_int(hl("\r\r\n", &p), SL_HTTP_PARSE_INVALID_HEADER, "CR CR LF as the empty line");

    /* names around the lowercase buffer size */
    memset(name, 'N', 32);
    name[32] = '\0';
    snprintf(line, sizeof(line), "%s: v\r\n", name);
    is_int(hl_n(line, strlen(line), &p, 1), SL_OK, "32-byte name");
    is_int(p.lowcase_index, 32, "32-byte name has a copy");
    ok(p.lowcase_header[31] == 'n', "last byte lowercased");
    is_int(p.header_hash, hash_lc(name), "32-byte hash");
    memset(name, 'N', 33);
    name[33] = '\0';
    snprintf(line, sizeof(line), "%s: v\r\n", name);
    is_int(hl_n(line, strlen(line), &p, 1), SL_OK, "33-byte name");
    is_int(p.lowcase_index, 0, "longer name: no copy");
    is_int(p.header_hash, hash_lc(name), "33-byte hash over the whole name");
    is_int(p.header_name_end - p.header_name_start, 33, "whole name span");
    is_int(hl_n("Content-Type: x\r\n", 17, &p, 0), SL_OK, "without lowcase");
    is_int(p.lowcase_index, 0, "without lowcase: index 0");
    is_int(p.header_hash, hash_lc("content-type"), "hash without lowcase");
}

/* Status line ------------------------------------------------------------ */

static void
test_status_line(void)
{
    sl_http_parse_t p;

    is_int(st("HTTP/1.1 200 OK\r\n", &p), SL_OK, "status line");
    is_int(p.status, 200, "status 200");
    is_int(p.http_version, SL_HTTP_VERSION_11, "upstream 1.1");
    span_is(p.status_start, p.status_end, "200 OK", "status text");
    span_is(p.request_start, p.request_end, "HTTP/1.1 200 OK", "whole line");
    is_int(one_b.pos - copy_buf, 17, "pos after LF");
    is_int(st("HTTP/1.0 404 Not Found\n", &p), SL_OK, "bare LF");
    is_int(p.http_version, SL_HTTP_VERSION_10, "upstream 1.0");
    is_int(st("HTTP/1.1 200\r\n", &p), SL_OK, "no reason, no SP");
    span_is(p.status_start, p.status_end, "200", "status without reason");
    is_int(st("HTTP/1.1 204 \r\n", &p), SL_OK, "empty reason");
    is_int(p.status, 204, "status 204");
    is_int(st("HTTP/1.1 999 x\r\n", &p), SL_OK, "999");
    is_int(p.status, 999, "status 999");
    is_int(st("HTTP/1.1 100 Continue\r\n", &p), SL_OK, "100");
    is_int(st("HTTP/1.1 200 O\tK \xe9\r\n", &p), SL_OK, "HTAB and obs-text in reason");
    is_int(st("HTTP/1.1 099 x\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "leading zero");
    is_int(st("HTTP/1.1 20 x\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "two digits");
    is_int(st("HTTP/1.1 2000 x\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "four digits");
    is_int(st("HTTP/2.0 200 OK\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "HTTP/2.0");
    is_int(st("HTTP/1.1  200 OK\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "two SP");
    is_int(st("http/1.1 200 OK\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "lowercase");
    is_int(st("HTTP/1.1 200 OK\x01\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "CTL in reason");
    is_int(st("HTTP/1.1 200 OK\rx", &p), SL_HTTP_PARSE_INVALID_STATUS, "bare CR");
    is_int(st("HTTP/1.1 200x\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "junk after code");
    is_int(st("\r\nHTTP/1.1 200 OK\r\n", &p), SL_HTTP_PARSE_INVALID_STATUS, "no empty lines");
    is_int(st("HTTP/1.1 200 O", &p), SL_AGAIN, "partial");
}

/* Chunked ---------------------------------------------------------------- */

static void
test_chunked(void)
{
    static char big[40000];
    sl_http_chunked_t ctx;
    sl_buf_t b;
    size_t consumed, n;

    is_int(chunked("5\r\nhello\r\n0\r\n\r\n", &consumed), SL_DONE, "simple body");
    mem_is(chunk_out, chunk_out_len, "hello", "data");
    is_int(consumed, 15, "all consumed");
    is_int(chunked("5;ext=1\r\nhello\r\n6; a ;b = \"q\\\"x\" \r\n world\r\n0\r\n"
                   "Trailer: v\r\nX-T:\r\n\r\n",
                   &consumed),
           SL_DONE, "extensions and trailers");
    mem_is(chunk_out, chunk_out_len, "hello world", "data around extensions");
    is_int(chunked("5\nhello\n0\n\n", NULL), SL_DONE, "bare LFs");
    mem_is(chunk_out, chunk_out_len, "hello", "bare LF data");
    is_int(chunked("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", NULL), SL_DONE, "hex");
    is_int(chunk_out_len, 20, "hex sizes");
    is_int(chunked("0005\r\nhello\r\n000\r\n\r\n", NULL), SL_DONE, "leading zeros");
    is_int(chunked("0\r\n\r\nGET / HTTP/1.1\r\n", &consumed), SL_DONE, "pipelined request");
    is_int(consumed, 5, "stops after the body");
    is_int(chunked("0;x=\"\"\r\n\r\n", NULL), SL_DONE, "empty quoted ext");
    is_int(chunked("5 ;a\r\nhello\r\n0\r\n\r\n", NULL), SL_DONE, "BWS before ext");
    is_int(chunked("fffffffffffffff\r\n", NULL), SL_AGAIN, "2^60 - 1 accepted");

    is_int(chunked(" 5\r\nhello\r\n0\r\n\r\n", NULL), SL_ERROR, "leading SP");
    is_int(chunked("-5\r\n", NULL), SL_ERROR, "sign -");
    is_int(chunked("+5\r\n", NULL), SL_ERROR, "sign +");
    is_int(chunked("0x5\r\n", NULL), SL_ERROR, "0x prefix");
    is_int(chunked("\r\n", NULL), SL_ERROR, "empty size");
    is_int(chunked("g\r\n", NULL), SL_ERROR, "not hex");
    is_int(chunked("ffffffffffffffffff\r\n", NULL), SL_ERROR, "overflowing size");
    is_int(chunked("1000000000000000\r\n", NULL), SL_ERROR, "2^60 rejected");
    is_int(chunked("5\r\nhelloX\r\n0\r\n\r\n", NULL), SL_ERROR, "no CRLF after data");
    is_int(chunked("5\r\nhello\rX", NULL), SL_ERROR, "CR without LF after data");
    is_int(chunked("5\r\nhello0\r\n\r\n", NULL), SL_ERROR, "next chunk without CRLF");
    is_int(chunked("5 \r\nhello\r\n", NULL), SL_ERROR, "trailing SP without ext");
    is_int(chunked("5\rX", NULL), SL_ERROR, "bare CR after size");
    is_int(chunked("5;\x01\r\n", NULL), SL_ERROR, "CTL in ext");
    is_int(chunked("5;a\x01\r\n", NULL), SL_ERROR, "CTL after ext name");
    is_int(chunked("5;a=\"\x01\"\r\n", NULL), SL_ERROR, "CTL in quoted ext");
    is_int(chunked("5;a=\"x\\\x01\"\r\n", NULL), SL_ERROR, "CTL in quoted-pair");
    is_int(chunked("5;a=b\x7f\r\n", NULL), SL_ERROR, "DEL in ext");
    is_int(chunked("5;a=b\rx", NULL), SL_ERROR, "bare CR in ext");
    is_int(chunked("5;\r\n", NULL), SL_ERROR, "empty ext name");
    is_int(chunked("5;a=\r\n", NULL), SL_ERROR, "empty ext value");
    is_int(chunked("5;a=b c\r\n", NULL), SL_ERROR, "two tokens");
    is_int(chunked("0\r\n folded\r\n\r\n", NULL), SL_ERROR, "obs-fold in trailers");
    is_int(chunked("0\r\nX : y\r\n\r\n", NULL), SL_ERROR, "SP before colon in trailer");
    is_int(chunked("0\r\n: y\r\n\r\n", NULL), SL_ERROR, "empty trailer name");
    is_int(chunked("0\r\nX\r\n\r\n", NULL), SL_ERROR, "trailer without colon");
    is_int(chunked_n("0\r\nX: a\0\r\n\r\n", 12, chunk_out, &chunk_out_len, NULL), SL_ERROR,
           "NUL in trailer");
    is_int(chunked("0\r\nX: a\rb\r\n\r\n", NULL), SL_ERROR, "bare CR in trailer");
    is_int(chunked("0\r\nX: a\x01\r\n\r\n", NULL), SL_ERROR, "CTL in trailer value");
    is_int(chunked("0\r\nX: a\x7f\r\n\r\n", NULL), SL_ERROR, "DEL in trailer value");
    is_int(chunked("0\r\nX\x01: a\r\n\r\n", NULL), SL_ERROR, "CTL in trailer name");
    is_int(chunked("0\r\nX: \xff\t\r\n\r\n", NULL), SL_DONE, "obs-text and HTAB in trailer");
    is_int(chunked("0\r\n\rX", NULL), SL_ERROR, "bare CR at the end");

    /* limits on metadata */
    memcpy(big, "1;x=", 4);
    memset(big + 4, 'a', 4092);
    memcpy(big + 4096, "\r\nA\r\n0\r\n\r\n", 10);
    is_int(chunked_n(big, 4106, chunk_out, &chunk_out_len, NULL), SL_DONE, "4096-byte chunk line");
    big[4096] = 'a';
    memcpy(big + 4097, "\r\nA\r\n0\r\n\r\n", 10);
    is_int(chunked_n(big, 4107, chunk_out, &chunk_out_len, NULL), SL_ERROR, "4097-byte chunk line");
    memset(big, '0', 5000);
    is_int(chunked_n(big, 5000, chunk_out, &chunk_out_len, NULL), SL_ERROR,
           "endless zeros rejected");
    memcpy(big, "0\r\n", 3);
    for (n = 3; n + 12 < 33000; n += 12) {
        memcpy(big + n, "X: 12345678\n", 12);
    }
    memcpy(big + n, "\r\n", 2);
    is_int(chunked_n(big, n + 2, chunk_out, &chunk_out_len, NULL), SL_ERROR,
           "trailer section over the limit");
    is_int(chunked_n(big, 3 + 12 * 100, chunk_out, &chunk_out_len, NULL), SL_AGAIN,
           "trailers under the limit");

    /* the contract with the caller: size, pos, length */
    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));
    b.pos = copy_of("5\r\n", 3);
    b.last = b.pos + 3;
    is_int(sl_http_parse_chunked(&ctx, &b), SL_AGAIN, "header without data: again");
    is_int(ctx.size, 5, "size known");
    is_int(ctx.length, 9, "length hint: data, LF, 0, LF, LF");
    b.pos = copy_of("hel", 3);
    b.last = b.pos + 3;
    is_int(sl_http_parse_chunked(&ctx, &b), SL_OK, "data available");
    ok(b.pos == copy_buf, "data at pos");
    b.pos += 3;
    ctx.size -= 3;
    is_int(sl_http_parse_chunked(&ctx, &b), SL_AGAIN, "rest of data not here");
    b.pos = copy_of("lo\r\n0\r\n\r\n", 9);
    b.last = b.pos + 9;
    is_int(sl_http_parse_chunked(&ctx, &b), SL_OK, "more data");
    is_int(ctx.size, 2, "two left");
    b.pos += 2;
    ctx.size = 0;
    is_int(sl_http_parse_chunked(&ctx, &b), SL_DONE, "done after the rest");
    ok(b.pos == b.last, "everything consumed");
}

/* URI normalisation ------------------------------------------------------ */

static int
norm_is(const char *in, sl_uint_t flags, sl_int_t want_rc, const char *want)
{
    u_char dst[256], *src;
    size_t len, out;
    sl_int_t rc;

    len = strlen(in);
    src = copy_of(in, len);
    out = 0;
    rc = sl_http_normalize_uri(src, len, dst, &out, flags);
    if (rc != want_rc) {
        printf("# \"%s\": rc %d, want %d\n", in, (int) rc, (int) want_rc);
        return 0;
    }
    if (rc == SL_OK && (out != strlen(want) || memcmp(dst, want, out) != 0)) {
        printf("# \"%s\": got \"%.*s\", want \"%s\"\n", in, (int) out, dst, want);
        return 0;
    }
    if (rc == SL_OK && len > 0 && out > len) {
        return 0;
    }

    /* the same in place */
    src = copy_of(in, len ? len : 1);
    if (len == 0) {
        return 1;
    }
    rc = sl_http_normalize_uri(src, len, src, &out, flags);
    if (rc != want_rc || (rc == SL_OK && (out != strlen(want) || memcmp(src, want, out) != 0))) {
        printf("# \"%s\" in place differs\n", in);
        return 0;
    }

    return 1;
}

static void
test_normalize(void)
{
    const sl_int_t bad = SL_HTTP_PARSE_INVALID_REQUEST;
    const sl_uint_t merge = SL_HTTP_MERGE_SLASHES;

    ok(norm_is("/", merge, SL_OK, "/"), "root");
    ok(norm_is("", merge, SL_OK, "/"), "empty path is the root");
    ok(norm_is("/a/b", merge, SL_OK, "/a/b"), "plain");
    ok(norm_is("/a/./b/../c", merge, SL_OK, "/a/c"), "/a/./b/../c");
    ok(norm_is("/a/%2e%2e/b", merge, SL_OK, "/b"), "%%2e%%2e resolves");
    ok(norm_is("/a/%2E./b", merge, SL_OK, "/b"), "mixed %%2E.");
    ok(norm_is("/a/.%2e", merge, SL_OK, "/"), "trailing .%%2e");
    ok(norm_is("/%2e%2e/x", merge, bad, ""), "%%2e%%2e above the root");
    ok(norm_is("//x", merge, SL_OK, "/x"), "//x merged");
    ok(norm_is("//x", 0, SL_OK, "//x"), "//x kept without merge");
    ok(norm_is("/a///b//", merge, SL_OK, "/a/b/"), "runs of slashes merged");
    ok(norm_is("/a///b//", 0, SL_OK, "/a///b//"), "runs of slashes kept");
    ok(norm_is("/a//../b", 0, SL_OK, "/a/b"), ".. removes an empty segment without merge");
    ok(norm_is("/a//../b", merge, SL_OK, "/b"), ".. after merged slashes");
    ok(norm_is("//..", 0, SL_OK, "/"), "//.. without merge");
    ok(norm_is("/..", merge, bad, ""), "/..");
    ok(norm_is("/../x", merge, bad, ""), "/../x");
    ok(norm_is("/a/../..", merge, bad, ""), "/a/../..");
    ok(norm_is("/a/../../b", merge, bad, ""), "/a/../../b");
    ok(norm_is("/a/..", merge, SL_OK, "/"), "/a/..");
    ok(norm_is("/a/b/..", merge, SL_OK, "/a/"), "/a/b/..");
    ok(norm_is("/a/.", merge, SL_OK, "/a/"), "/a/.");
    ok(norm_is("/.", merge, SL_OK, "/"), "/.");
    ok(norm_is("/./", merge, SL_OK, "/"), "/./");
    ok(norm_is("/...", merge, SL_OK, "/..."), "three dots are a name");
    ok(norm_is("/a..b/..c/.d/e.", merge, SL_OK, "/a..b/..c/.d/e."), "dots inside names");
    ok(norm_is("/%zz", merge, bad, ""), "%%zz");
    ok(norm_is("/%2", merge, bad, ""), "truncated escape");
    ok(norm_is("/%", merge, bad, ""), "lone percent");
    ok(norm_is("/a%g1", merge, bad, ""), "bad first hex digit");
    ok(norm_is("/%00", merge, bad, ""), "%%00");
    ok(norm_is("/a%2Fb", merge, SL_OK, "/a/b"), "%%2F is a slash");
    ok(norm_is("/a%2f..%2fb", merge, SL_OK, "/b"), "%%2f separates dot segments");
    ok(norm_is("/a%2f%2fb", merge, SL_OK, "/a/b"), "decoded slashes merge");
    ok(norm_is("/a%20b%41%7e", merge, SL_OK, "/a bA~"), "decoding");
    ok(norm_is("/%25", merge, SL_OK, "/%"), "%%25 decodes once");
    ok(norm_is("/%252e%252e/", merge, SL_OK, "/%2e%2e/"), "no double decoding");
    ok(norm_is("/a\\..\\b", merge, SL_OK, "/a\\..\\b"), "backslash is ordinary");
    ok(norm_is("a/b", merge, bad, ""), "relative path");
    ok(norm_is("/+", merge, SL_OK, "/+"), "plus is not a space");
}

/* Content-Length and Transfer-Encoding ----------------------------------- */

#define cl(s) sl_http_parse_content_length((u_char *) copy_of(s, sizeof(s) - 1), sizeof(s) - 1)
#define te(s) sl_http_parse_transfer_encoding(copy_of(s, sizeof(s) - 1), sizeof(s) - 1)

static void
test_values(void)
{
    is_int(cl(""), -1, "CL empty");
    is_int(cl("-1"), -1, "CL -1");
    is_int(cl("+1"), -1, "CL +1");
    is_int(cl("1 "), -1, "CL trailing SP");
    is_int(cl(" 1"), -1, "CL leading SP");
    is_int(cl("1, 1"), -1, "CL list");
    is_int(cl("1,1"), -1, "CL list without SP");
    is_int(cl("0x10"), -1, "CL hex");
    is_int(cl("99999999999999999999"), -1, "CL overflow");
    is_int(cl("9223372036854775808"), -1, "CL 2^63");
    is_int(cl("9223372036854775807"), INT64_MAX, "CL 2^63 - 1");
    is_int(cl("12"), 12, "CL 12");
    is_int(cl("0"), 0, "CL 0");
    is_int(cl("007"), 7, "CL leading zeros");

    is_int(te("chunked"), SL_HTTP_TE_CHUNKED, "TE chunked");
    is_int(te("Chunked"), SL_HTTP_TE_CHUNKED, "TE Chunked");
    is_int(te("CHUNKED"), SL_HTTP_TE_CHUNKED, "TE CHUNKED");
    is_int(te(" \tchunked \t"), SL_HTTP_TE_CHUNKED, "TE OWS around");
    is_int(te("gzip, chunked"), SL_HTTP_TE_OTHER, "TE gzip, chunked");
    is_int(te("chunked, chunked"), SL_HTTP_TE_OTHER, "TE chunked twice");
    is_int(te("chunked,gzip"), SL_HTTP_TE_OTHER, "TE chunked first");
    is_int(te("identity"), SL_HTTP_TE_OTHER, "TE identity");
    is_int(te("gzip"), SL_HTTP_TE_OTHER, "TE gzip");
    is_int(te("chunked,"), SL_HTTP_TE_OTHER, "TE trailing empty element");
    is_int(te(", chunked"), SL_HTTP_TE_OTHER, "TE leading empty element");
    is_int(te("chunked , ,"), SL_HTTP_TE_OTHER, "TE empty elements");
    is_int(te("chunked;x=y"), SL_HTTP_TE_OTHER, "TE chunked with a parameter");
    is_int(te("chunked ; x = \"a b\\\"\""), SL_HTTP_TE_OTHER, "TE quoted parameter");
    is_int(te("chunk"), SL_HTTP_TE_OTHER, "TE chunk");
    is_int(te("chunkedx"), SL_HTTP_TE_OTHER, "TE chunkedx");
    is_int(te(""), SL_HTTP_TE_INVALID, "TE empty");
    is_int(te(" "), SL_HTTP_TE_INVALID, "TE blank");
    is_int(te(",,"), SL_HTTP_TE_INVALID, "TE only commas");
    is_int(te("chunked;"), SL_HTTP_TE_INVALID, "TE empty parameter");
    is_int(te("chunked;x"), SL_HTTP_TE_INVALID, "TE parameter without value");
    is_int(te("chunked;x="), SL_HTTP_TE_INVALID, "TE parameter with empty value");
    is_int(te("chunked;x=\"a"), SL_HTTP_TE_INVALID, "TE unterminated quote");
    is_int(te("chunked x"), SL_HTTP_TE_INVALID, "TE two tokens");
    is_int(te("\"chunked\""), SL_HTTP_TE_INVALID, "TE quoted coding");
    is_int(sl_http_parse_transfer_encoding(copy_of("chunked\0", 8), 8), SL_HTTP_TE_INVALID,
           "TE NUL");
    is_int(te("chunked\x0b"), SL_HTTP_TE_INVALID, "TE vertical tab");
}

/* Pending bytes and relocation, as the connection code uses them --------- */

static void
test_relocate(void)
{
    sl_http_parse_t p;
    sl_buf_t b;
    u_char mem[128], *old;
    size_t n;

    memset(&p, 0, sizeof(p));
    memset(&b, 0, sizeof(b));
    ok(sl_http_parse_pending(&p) == NULL, "nothing pending in a fresh struct");

    /* a partial request line at the end of a buffer moves to its start */
    memcpy(mem, "xxxxxxxxGET http://h:1/a?b HT", 29);
    b.pos = mem + 8;
    b.last = mem + 29;
    is_int(sl_http_parse_request_line(&p, &b), SL_AGAIN, "partial request line");
    ok(sl_http_parse_pending(&p) == mem + 8, "pending from the method");
    old = mem + 8;
    n = b.last - old;
    memmove(mem, old, n);
    memset(mem + n, '#', sizeof(mem) - n);
    sl_http_parse_relocate(&p, old, mem);
    memcpy(mem + n, "TP/1.1\r\n", 8);
    b.pos = mem + n;
    b.last = mem + n + 8;
    is_int(sl_http_parse_request_line(&p, &b), SL_OK, "completed after the move");
    span_is(p.request_start, p.request_end, "GET http://h:1/a?b HTTP/1.1", "line after move");
    span_is(p.host_start, p.host_end, "h", "host after move");
    span_is(p.port_start, p.port_end, "1", "port after move");
    span_is(p.uri_start, p.uri_end, "/a?b", "uri after move");
    span_is(p.args_start, p.uri_end, "b", "args after move");
    ok(sl_http_parse_pending(&p) == NULL, "nothing pending after the line");

    /* a partial header: only header pointers move, the request line stays */
    memcpy(mem + 64, "Name:  val", 10);
    b.pos = mem + 64;
    b.last = mem + 74;
    is_int(sl_http_parse_header_line(&p, &b, 1), SL_AGAIN, "partial header");
    ok(sl_http_parse_pending(&p) == mem + 64, "pending from the header name");
    memmove(mem + 100, mem + 64, 10);
    sl_http_parse_relocate(&p, mem + 64, mem + 100);
    memset(mem + 64, '#', 10);
    memcpy(mem + 110, "ue \r\n", 5);
    b.pos = mem + 110;
    b.last = mem + 115;
    is_int(sl_http_parse_header_line(&p, &b, 1), SL_OK, "header completed after the move");
    span_is(p.header_name_start, p.header_name_end, "Name", "name after move");
    span_is(p.header_start, p.header_end, "value", "value after move");
    mem_is(p.lowcase_header, p.lowcase_index, "name", "lowcase survives the move");
    ok(p.request_start == mem, "completed request line not touched");

    /* an empty line cut after its CR */
    b.pos = copy_of("\r", 1);
    b.last = b.pos + 1;
    is_int(sl_http_parse_header_line(&p, &b, 1), SL_AGAIN, "CR of the empty line");
    ok(sl_http_parse_pending(&p) == copy_buf, "the CR is pending");

    /* a partial status line */
    memset(&p, 0, sizeof(p));
    memcpy(mem, "HTTP/1.1 30", 11);
    b.pos = mem;
    b.last = mem + 11;
    is_int(sl_http_parse_status_line(&p, &b), SL_AGAIN, "partial status line");
    ok(sl_http_parse_pending(&p) == mem, "pending status line");
    memmove(mem + 50, mem, 11);
    sl_http_parse_relocate(&p, mem, mem + 50);
    memcpy(mem + 61, "2 Found\r\n", 9);
    b.pos = mem + 61;
    b.last = mem + 70;
    is_int(sl_http_parse_status_line(&p, &b), SL_OK, "status line after the move");
    is_int(p.status, 302, "status after move");
    span_is(p.status_start, p.status_end, "302 Found", "status text after move");
}

/* Byte-at-a-time equivalence --------------------------------------------- */

static const char *const requests[] = {
    "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "\r\n\nPOST /form?a=1&b=%20 HTTP/1.0\nContent-Length: 3\nX:  spaced  \n\n",
    "GET http://Example.com:8080/p/./q?x HTTP/1.1\r\nHost: e\r\nAccept: */*\r\n\r\n",
    "GET http://[2001:db8::1]/ HTTP/1.1\r\n\r\n",
    "GET http://h?q HTTP/1.1\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nMax-Forwards: 0\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
    "GET * HTTP/1.1\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
    "GET / HTTP/1.9\r\nA-Very-Long-Header-Name-Beyond-Thirty-Two-Bytes: v\r\n\r\n",
    "GET /%2e%2e//a\\b+c HTTP/1.1\r\nX:\r\nY: \t\r\n\r\n",
    "GET /a#b HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\n folded\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
    "GET / HTTP/1.1\rX",
    "GET / HTTP/01.1\r\n",
    "GET / HTTP/1.1\r\nX: \x80\xff\r\n\r\n",
    "GET /\r\n\r\n",
    "GET / HTTP/1.1\r\nX: partial",
};

static const char *const responses[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
    "HTTP/1.0 404\nServer: x\n\n",
    "HTTP/1.1 204 \r\n\r\n",
    "HTTP/1.1 20 x\r\n",
    "HTTP/2.0 200 OK\r\n",
    "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
};

static const char *const bodies[] = {
    "5\r\nhello\r\n0\r\n\r\n",
    "5;ext=1\r\nhello\r\n6; a ;b = \"q\\\"x\" \r\n world\r\n0\r\nT: v\r\n\r\n",
    "5\nhello\n0\n\n",
    "A\r\n0123456789\r\n0\r\n\r\nGET",
    "ffffffffffffffffff\r\n",
    "5\r\nhelloX",
    "5;\x01\r\n",
    "0\r\n folded\r\n\r\n",
    "3\r\nabc",
};

static void
test_pieces(void)
{
    size_t i;

    for (i = 0; i < sl_nelts(requests); i++) {
        ok(same_in_pieces(MSG_REQUEST, (const u_char *) requests[i], strlen(requests[i])),
           "request %zu: same result in pieces", i);
    }
    for (i = 0; i < sl_nelts(responses); i++) {
        ok(same_in_pieces(MSG_RESPONSE, (const u_char *) responses[i], strlen(responses[i])),
           "response %zu: same result in pieces", i);
    }
    for (i = 0; i < sl_nelts(bodies); i++) {
        ok(same_in_pieces(MSG_CHUNKED, (const u_char *) bodies[i], strlen(bodies[i])),
           "body %zu: same result in pieces", i);
    }

    /* and the transcripts say what they should */
    run_message(MSG_REQUEST, (const u_char *) requests[0], strlen(requests[0]), 1, &tr_piece);
    ok(strstr(tr_piece.text, "uri=[/]") != NULL && strstr(tr_piece.text, "value=[example.com]")
           && strstr(tr_piece.text, "lc=4:host") != NULL
           && strstr(tr_piece.text, "H rc=1\nat=37") != NULL,
       "byte-fed transcript content");
    run_message(MSG_CHUNKED, (const u_char *) bodies[1], strlen(bodies[1]), 1, &tr_piece);
    ok(strstr(tr_piece.text, "C rc=-4") != NULL, "byte-fed body ends with SL_DONE");
}

/* Random input ----------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t) (rng_state >> 16);
}

static size_t
random_input(u_char *out, size_t cap)
{
    static const char *const frags[] = {
        "GET ",  "POST ", "OPTIONS ", "CONNECT ", "/",        "//",      "/.",      "/..",
        "%2e",   "%2F",   "%0",       "?",        "#",        "*",       " ",       "\t",
        "\r\n",  "\n",    "\r",       ":",        "HTTP/1.1", "HTTP/1.", "HTTP/",   "http://",
        "[::1]", ":80",   "Host: x",  "X:",       ";",        "=",       "\"",      "\\",
        "0",     "5",     "f",        "a",        "\r\n\r\n", "200 OK",  "chunked", ",",
        "\x00",  "\x7f",  "\xff",
    };
    size_t len, want, n;
    const char *f;

    want = rng() % cap;
    len = 0;

    while (len < want) {
        if (rng() % 4 == 0) {
            out[len++] = (u_char) rng();
            continue;
        }
        f = frags[rng() % sl_nelts(frags)];
        n = (*f == '\0') ? 1 : strlen(f);
        if (len + n > cap) {
            break;
        }
        memcpy(out + len, f, n);
        len += n;
    }

    return len;
}

static void
test_random(void)
{
    u_char in[300], dst[300], *copy;
    size_t len, out, k;
    sl_int_t rc;
    int i, differ, bad_norm, bad_te;

    differ = 0;
    bad_norm = 0;
    bad_te = 0;

    for (i = 0; i < 5000; i++) {
        len = random_input(in, sizeof(in));

        if (!same_in_pieces(i % 3, in, len)) {
            differ++;
        }

        copy = copy_of((const char *) in, len);
        rc = sl_http_normalize_uri(copy, len, dst, &out, (sl_uint_t) (i & 1));
        if (rc == SL_OK) {
            if (out == 0 || dst[0] != '/' || (len > 0 && out > len)) {
                bad_norm++;
            }
            for (k = 0; k + 2 < out; k++) {
                if (dst[k] == '/' && dst[k + 1] == '.' && dst[k + 2] == '.'
                    && (k + 3 == out || dst[k + 3] == '/')) {
                    bad_norm++;
                }
            }
            if (memchr(dst, '\0', out) != NULL) {
                bad_norm++;
            }
        } else if (rc != SL_HTTP_PARSE_INVALID_REQUEST) {
            bad_norm++;
        }

        rc = sl_http_parse_transfer_encoding(copy_of((const char *) in, len), len);
        if (rc != SL_HTTP_TE_CHUNKED && rc != SL_HTTP_TE_OTHER && rc != SL_HTTP_TE_INVALID) {
            bad_te++;
        }
        (void) sl_http_parse_content_length(copy_of((const char *) in, len), len);
    }

    is_int(differ, 0, "5000 random inputs: same results whole and in pieces");
    is_int(bad_norm, 0, "5000 random paths: normalised output is sane");
    is_int(bad_te, 0, "5000 random TE values classified");
}

int
main(void)
{
    test_request_line();
    test_header_line();
    test_status_line();
    test_chunked();
    test_normalize();
    test_values();
    test_relocate();
    test_pieces();
    test_random();

    free(copy_buf);

    return sl_tap_done();
}
