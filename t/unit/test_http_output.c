/*
 * test_http_output.c: the response path (header filter, chunked filter,
 * write filter, add_header, special responses and the response helpers)
 * over a fake connection whose send_chain records the bytes and can stall
 * or fail. The files under test are included; the request engine around
 * them (core module, complex values, redirects, body discarding) is faked
 * below so that each test states exactly what the engine did.
 */
#include "sl_core.h"
#include "sl_http.h"

#include "sl_http_write_filter.c"
#include "sl_http_header_filter.c"
#include "sl_http_chunked_filter.c"
#include "sl_http_headers_module.c"
#include "sl_http_response.c"
#include "sl_http_special_response.c"

#include "sl_tap.h"

/* The engine's symbols, faked ---------------------------------------------- */

sl_module_t sl_http_core_module = {
    SL_MODULE_V1, "sl_http_core_module", SL_HTTP_MODULE, NULL, NULL, NULL, NULL, NULL, NULL
};
sl_uint_t sl_http_max_module = 8;
sl_http_output_header_filter_pt sl_http_top_header_filter;
sl_http_output_body_filter_pt sl_http_top_body_filter;

/* sl_cycle.c refers to the generated module list; this test has none. */
sl_module_t *sl_modules[] = { NULL };
const char *sl_module_names[] = { NULL };
sl_uint_t sl_modules_n = 0;

static sl_int_t fake_discard_rc;
static int fake_discard_calls;
static sl_str_t fake_redirect_uri, fake_redirect_args, fake_named;
static int fake_redirects;

sl_int_t
sl_http_discard_request_body(sl_http_request_t *r)
{
    sl_unused(r);
    fake_discard_calls++;
    return fake_discard_rc;
}

sl_int_t
sl_http_internal_redirect(sl_http_request_t *r, sl_str_t *uri, sl_str_t *args)
{
    sl_unused(r);
    fake_redirects++;
    fake_redirect_uri = *uri;
    fake_redirect_args = args ? *args : (sl_str_t) sl_null_string;
    return SL_DONE;
}

sl_int_t
sl_http_named_location(sl_http_request_t *r, sl_str_t *name)
{
    sl_unused(r);
    fake_named = *name;
    return SL_DONE;
}

/* Only constant values in this test: the value is its text. */
sl_int_t
sl_http_complex_value(sl_http_request_t *r, sl_http_complex_value_t *val, sl_str_t *value)
{
    sl_unused(r);
    *value = val->value;
    return SL_OK;
}

sl_int_t
sl_http_compile_complex_value(sl_http_compile_complex_value_t *ccv)
{
    sl_memzero(ccv->complex_value, sizeof(sl_http_complex_value_t));
    ccv->complex_value->value = *ccv->value;
    return SL_OK;
}

u_char *
sl_http_script_run(sl_http_request_t *r, sl_str_t *value, void *code_lengths, size_t reserved,
                   void *code_values)
{
    sl_unused(r);
    sl_unused(value);
    sl_unused(code_lengths);
    sl_unused(reserved);
    sl_unused(code_values);
    return NULL;
}

/* The fake socket --------------------------------------------------------- */

static u_char wire[1 << 20];
static size_t wire_len;
static off_t wire_budget = -1; /* bytes the socket takes before it is full; -1 unlimited */
static int wire_fail;
static int wire_calls;

static sl_chain_t *
fake_send_chain(sl_connection_t *c, sl_chain_t *in, off_t limit)
{
    size_t n;
    sl_buf_t *b;

    sl_unused(limit);
    wire_calls++;

    if (wire_fail) {
        return SL_CHAIN_ERROR;
    }

    for (; in; in = in->next) {
        b = in->buf;
        if (sl_buf_special(b) || !sl_buf_in_memory(b) || b->pos == b->last) {
            continue;
        }
        n = b->last - b->pos;
        if (wire_budget >= 0 && (off_t) n > wire_budget) {
            n = (size_t) wire_budget;
        }
        sl_memcpy(wire + wire_len, b->pos, n);
        wire_len += n;
        c->sent += n;
        b->pos += n;
        if (wire_budget >= 0) {
            wire_budget -= n;
        }
        if (b->pos != b->last) {
            c->write->ready = 0;
            return in;
        }
    }
    return NULL;
}

/* A request with its configuration ---------------------------------------- */

static sl_pool_t *pool;      /* the current request's */
static sl_pool_t *conf_pool; /* configuration that outlives requests */
static sl_connection_t conn;
static sl_event_t conn_read, conn_write;
static sl_listening_t listening;
static sl_http_core_loc_conf_t clcf;
static sl_http_core_srv_conf_t cscf;
static sl_http_headers_conf_t hcf;
static void *loc_conf[8];
static void *srv_conf[8];

static sl_http_request_t *
new_request(sl_uint_t version)
{
    sl_http_request_t *r;

    if (pool) {
        sl_destroy_pool(pool);
    }
    pool = sl_create_pool(4096, sl_log_init());

    sl_memzero(&conn, sizeof(conn));
    sl_memzero(&conn_write, sizeof(conn_write));
    sl_memzero(&conn_read, sizeof(conn_read));
    conn.read = &conn_read;
    conn.write = &conn_write;
    conn_write.write = 1;
    conn_write.ready = 1;
    conn.fd = -1;
    conn.log = sl_log_init();
    conn.send_chain = fake_send_chain;
    conn.listening = &listening;

    wire_len = 0;
    wire_budget = -1;
    wire_fail = 0;
    wire_calls = 0;
    fake_discard_rc = SL_OK;
    fake_discard_calls = 0;
    fake_redirects = 0;
    sl_str_null(&fake_named);

    r = sl_pcalloc(pool, sizeof(sl_http_request_t));
    r->pool = pool;
    r->connection = &conn;
    r->main = r;
    r->count = 1;
    r->ctx = sl_pcalloc(pool, sizeof(void *) * sl_http_max_module);
    r->loc_conf = loc_conf;
    r->srv_conf = srv_conf;
    r->method = SL_HTTP_GET;
    r->http_version = version;
    r->keepalive = 1;
    r->uri_changes = SL_HTTP_MAX_URI_CHANGES + 1;
    r->valid_location = 1;
    sl_list_init(&r->headers_out.headers, pool, 2, sizeof(sl_table_elt_t));
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    sl_memzero(&clcf, sizeof(clcf));
    clcf.server_tokens = 0;
    clcf.absolute_redirect = 1;
    clcf.port_in_redirect = 1;
    clcf.chunked_transfer_encoding = 1;
    clcf.etag = 1;
    sl_str_set(&clcf.default_type, "application/octet-stream");
    sl_memzero(&hcf, sizeof(hcf));
    sl_memzero(&cscf, sizeof(cscf));
    sl_str_set(&cscf.server_name, "srv.example");

    return r;
}

static sl_buf_t *
mem_buf(const char *text, int last)
{
    sl_buf_t *b;

    b = sl_calloc_buf(pool);
    b->pos = (u_char *) text;
    b->last = b->pos + strlen(text);
    b->memory = 1;
    b->last_buf = last;
    return b;
}

static sl_int_t
send_text(sl_http_request_t *r, const char *text, int last)
{
    sl_chain_t out;

    out.buf = mem_buf(text, last);
    out.next = NULL;
    return sl_http_output_filter(r, &out);
}

/* The expected header with the current Date in place of "%D". */
static const char *
expect(const char *fmt)
{
    static char text[4096];
    const char *d;
    size_t n;

    d = strstr(fmt, "%D");
    if (d == NULL) {
        return fmt;
    }
    n = d - fmt;
    memcpy(text, fmt, n);
    memcpy(text + n, sl_cached_http_time.data, sl_cached_http_time.len);
    strcpy(text + n + sl_cached_http_time.len, d + 2);
    return text;
}

static void
install_filters(void)
{
    /* the module list order this test asserts: write, header, chunked, headers */
    sl_http_top_header_filter = NULL;
    sl_http_top_body_filter = NULL;
    sl_http_write_filter_module_ctx.postconfiguration(NULL);
    sl_http_header_filter_module_ctx.postconfiguration(NULL);
    sl_http_chunked_filter_module_ctx.postconfiguration(NULL);
    sl_http_headers_module_ctx.postconfiguration(NULL);
}

/* Tests ------------------------------------------------------------------- */

static void
test_plain_response(void)
{
    sl_http_request_t *r;
    sl_int_t rc;

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 200;
    sl_str_set(&r->headers_out.content_type, "text/plain");
    sl_str_set(&r->headers_out.charset, "utf-8");
    r->headers_out.content_length_n = 5;

    rc = sl_http_send_header(r);
    is_int(rc, SL_OK, "header of a response with a body: OK");
    is_int(wire_calls, 0, "the header waits for the body");
    ok(r->header_sent && r->out != NULL, "header sent and queued");

    rc = send_text(r, "hello", 1);
    is_int(rc, SL_OK, "body written");
    is_int(wire_calls, 1, "header and body leave in one write");
    is_mem(wire, wire_len,
           expect("HTTP/1.1 200 OK\r\nServer: sluice\r\nDate: %D\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
                  "Connection: keep-alive\r\n\r\nhello"),
           "status line, fixed headers and body as nginx writes them");
    is_int(r->header_size, wire_len - 5, "header_size counts the header bytes only");
    ok(r->out == NULL, "nothing left queued");

    rc = sl_http_send_header(r);
    is_int(rc, SL_ERROR, "a second header is refused");
}

static void
test_head_and_tokens(void)
{
    sl_http_request_t *r;

    r = new_request(SL_HTTP_VERSION_11);
    clcf.server_tokens = 1;
    clcf.keepalive_header = 75;
    r->method = SL_HTTP_HEAD;
    r->headers_out.status = 200;
    r->headers_out.content_length_n = 1234;
    r->headers_out.last_modified_time = 0;

    is_int(sl_http_send_header(r), SL_OK, "HEAD header");
    ok(r->header_only, "HEAD is header only");
    is_int(wire_calls, 1, "a header-only response is flushed at once");
    is_mem(wire, wire_len,
           expect("HTTP/1.1 200 OK\r\nServer: sluice/" SLUICE_VERSION "\r\nDate: %D\r\n"
                  "Content-Length: 1234\r\n"
                  "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                  "Connection: keep-alive\r\nKeep-Alive: timeout=75\r\n\r\n"),
           "HEAD keeps Content-Length; server_tokens on shows the version");
    is_int(send_text(r, "ignored", 1), SL_OK, "a body after a HEAD header");
}

static void
test_status_lines(void)
{
    sl_http_request_t *r;

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 299;
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(wire_len > 17 && memcmp(wire, "HTTP/1.1 299 \r\n", 15) == 0, "unknown code: bare code");

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 503;
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(memcmp(wire, "HTTP/1.1 503 Service Temporarily Unavailable\r\n", 46) == 0,
       "503 with nginx's wording");

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 200;
    sl_str_set(&r->headers_out.status_line, "299 Custom");
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(memcmp(wire, "HTTP/1.1 299 Custom\r\n", 21) == 0, "status_line is used as given");

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 204;
    sl_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_length_n = 10;
    sl_http_send_header(r);
    ok(r->header_only, "204 is header only");
    is_mem(wire, wire_len,
           expect("HTTP/1.1 204 No Content\r\nServer: sluice\r\nDate: %D\r\n"
                  "Connection: keep-alive\r\n\r\n"),
           "204 drops Content-Type and Content-Length");

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 304;
    sl_http_send_header(r);
    ok(r->header_only && r->keepalive, "304 is header only and keeps the connection");
    ok(strstr((char *) wire, "Transfer-Encoding") == NULL, "304 is never chunked");
}

static void
test_chunked(void)
{
    sl_http_request_t *r;
    sl_int_t rc;
    int i;
    u_char *mark;
    sl_chain_t out[2];

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 200;
    rc = sl_http_send_header(r);
    is_int(rc, SL_OK, "header of a response of unknown length");
    ok(r->chunked, "HTTP/1.1 and unknown length: chunked");

    out[0].buf = mem_buf("hello", 0);
    out[0].buf->flush = 1;
    out[0].next = &out[1];
    out[1].buf = mem_buf(" world", 0);
    out[1].next = NULL;
    is_int(sl_http_output_filter(r, out), SL_OK, "a flushed chain");
    send_text(r, "!", 1);
    is_mem(wire, wire_len,
           expect("HTTP/1.1 200 OK\r\nServer: sluice\r\nDate: %D\r\n"
                  "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
                  "b\r\nhello world\r\n1\r\n!\r\n0\r\n\r\n"),
           "one chunk per chain, the last chunk with the last buffer");
    ok(r->keepalive, "chunked keeps the connection");

    /* an empty last buffer: the last chunk alone */
    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 200;
    sl_http_send_header(r);
    send_text(r, "abc", 0);
    wire_len = 0;
    out[0].buf = sl_calloc_buf(pool);
    out[0].buf->last_buf = 1;
    out[0].next = NULL;
    sl_http_output_filter(r, out);
    ok(wire_len > 10 && memcmp(wire + wire_len - 10, "abc\r\n0\r\n\r\n", 10) == 0,
       "an empty last buffer ends with 0 CRLF CRLF only");

    /* framing buffers are recycled: streaming does not grow the pool */
    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 200;
    sl_http_send_header(r);
    for (i = 0; i < 10; i++) {
        out[0].buf = mem_buf("0123456789", 0);
        out[0].buf->flush = 1;
        out[0].next = NULL;
        sl_http_output_filter(r, out);
    }
    mark = pool->current->last;
    rc = SL_OK;
    for (i = 0; i < 1000; i++) {
        sl_buf_t b;

        sl_memzero(&b, sizeof(b));
        b.pos = (u_char *) "0123456789";
        b.last = b.pos + 10;
        b.memory = 1;
        b.flush = 1;
        out[0].buf = &b;
        out[0].next = NULL;
        rc |= sl_http_output_filter(r, out);
    }
    is_int(rc, SL_OK, "1000 flushed chunks");
    ok(pool->current->last == mark && pool->large == NULL,
       "steady-state streaming allocates nothing");
    is_int(wire_len, r->header_size + 1010 * sizeof("a\r\n0123456789\r\n") - 1010,
           "and every chunk reached the socket, framed");

    /* HTTP/1.0: no chunks, the close ends the body */
    r = new_request(SL_HTTP_VERSION_10);
    r->headers_out.status = 200;
    sl_http_send_header(r);
    send_text(r, "data", 1);
    ok(!r->chunked && !r->keepalive, "HTTP/1.0 of unknown length: no chunks, no keep-alive");
    is_mem(wire, wire_len,
           expect("HTTP/1.1 200 OK\r\nServer: sluice\r\nDate: %D\r\n"
                  "Connection: close\r\n\r\ndata"),
           "HTTP/1.0 body unframed");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.chunked_transfer_encoding = 0;
    r->headers_out.status = 200;
    sl_http_send_header(r);
    ok(!r->chunked && !r->keepalive, "chunked_transfer_encoding off: close instead");
}

static void
test_write_filter(void)
{
    sl_http_request_t *r;
    sl_int_t rc;
    char big[2000];

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 200;
    r->headers_out.content_length_n = 6000;
    sl_http_send_header(r);

    rc = send_text(r, "small", 0);
    is_int(rc, SL_OK, "a small piece is held");
    is_int(wire_calls, 0, "below postpone_output nothing is written");

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    wire_budget = 100;
    rc = send_text(r, big, 0);
    is_int(rc, SL_AGAIN, "a full socket: SL_AGAIN");
    ok(r->out != NULL && conn.write->ready == 0, "the rest stays in r->out");
    is_int(wire_len, 100, "the socket took what it could");

    conn.write->ready = 1;
    wire_budget = -1;
    rc = sl_http_output_filter(r, NULL);
    is_int(rc, SL_OK, "the writer's resume sends the rest");
    ok(r->out == NULL, "r->out drained");
    ok(wire_len == r->header_size + 5 + sizeof(big) - 1, "every byte once, in order");

    wire_fail = 1;
    rc = send_text(r, big, 1);
    is_int(rc, SL_ERROR, "a send error is an error");
    ok(conn.error, "and marks the connection");
    wire_fail = 0;
    is_int(send_text(r, "x", 1), SL_ERROR, "nothing is sent after a client error");

    /* only flags queued: nothing to write, but no error */
    r = new_request(SL_HTTP_VERSION_11);
    is_int(sl_http_write_filter(r, NULL), SL_OK, "an empty resume is harmless");
}

static void
test_location(void)
{
    sl_http_request_t *r;
    sl_str_t v;

    listening.sockaddr.sin.sin_family = AF_INET;
    listening.sockaddr.sin.sin_port = htons(8080);

    r = new_request(SL_HTTP_VERSION_11);
    sl_str_set(&r->headers_in.server, "example.com");
    r->headers_out.status = 301;
    sl_str_set(&v, "/new/path?a=1");
    sl_http_add_response_header(r, "Location", &v);
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(strstr((char *) wire, "\r\nLocation: http://example.com:8080/new/path?a=1\r\n") != NULL,
       "a relative Location becomes absolute with Host and port");
    is_mem(r->headers_out.location->value.data, r->headers_out.location->value.len,
           "http://example.com:8080/new/path?a=1", "the element holds what was sent");
    ok(strstr((char *) wire, "Location: /new") == NULL, "the relative one is not sent too");

    listening.sockaddr.sin.sin_port = htons(80);
    r = new_request(SL_HTTP_VERSION_11);
    clcf.server_name_in_redirect = 1;
    sl_str_set(&r->headers_in.server, "example.com");
    r->headers_out.status = 302;
    sl_str_set(&v, "/x");
    sl_http_add_response_header(r, "Location", &v);
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(strstr((char *) wire, "\r\nLocation: http://srv.example/x\r\n") != NULL,
       "server_name_in_redirect, port 80 omitted");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.absolute_redirect = 0;
    r->headers_out.status = 302;
    sl_str_set(&v, "/x");
    sl_http_add_response_header(r, "Location", &v);
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(strstr((char *) wire, "\r\nLocation: /x\r\n") != NULL, "absolute_redirect off");

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.status = 302;
    sl_str_set(&v, "https://other/");
    sl_http_add_response_header(r, "location", &v);
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(strstr((char *) wire, "\r\nlocation: https://other/\r\n") != NULL,
       "an absolute Location is left alone");
}

static void
test_special_responses(void)
{
    sl_http_request_t *r;
    sl_int_t rc;

    r = new_request(SL_HTTP_VERSION_11);
    rc = sl_http_special_response_handler(r, 404);
    is_int(rc, SL_OK, "404 page written");
    is_mem(wire, wire_len,
           expect("HTTP/1.1 404 Not Found\r\nServer: sluice\r\nDate: %D\r\n"
                  "Content-Type: text/html\r\nContent-Length: 147\r\n"
                  "Connection: keep-alive\r\n\r\n"
                  "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                  "<center><h1>404 Not Found</h1></center>\r\n"
                  "<hr><center>sluice</center>\r\n</body>\r\n</html>\r\n"),
           "the built-in 404, byte for byte");
    ok(r->keepalive, "404 keeps the connection");
    is_int(fake_discard_calls, 0, "no body, nothing to discard");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.server_tokens = 1;
    r->headers_in.content_length_n = 10;
    sl_http_special_response_handler(r, 500);
    ok(memcmp(wire, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0, "500 status line");
    ok(strstr((char *) wire, "<hr><center>sluice/" SLUICE_VERSION "</center>") != NULL,
       "server_tokens on: the version in the footer");
    ok(!r->keepalive && strstr((char *) wire, "Connection: close") != NULL, "500 closes");
    is_int(fake_discard_calls, 1, "the request body is discarded");
    ok(r->lingering_close, "closing with a body pending lingers");

    r = new_request(SL_HTTP_VERSION_11);
    sl_http_special_response_handler(r, SL_HTTP_REQUEST_HEADER_TOO_LARGE);
    ok(memcmp(wire, "HTTP/1.1 400 Bad Request\r\n", 26) == 0, "431 is answered as nginx's 400");
    ok(strstr((char *) wire, "<center>Request Header Or Cookie Too Large</center>") != NULL,
       "with the header-too-large page");
    ok(!r->keepalive, "and closes");

    r = new_request(SL_HTTP_VERSION_11);
    r->method = SL_HTTP_HEAD;
    sl_http_special_response_handler(r, 403);
    ok(strstr((char *) wire, "Content-Length: 147\r\n") != NULL
           && strstr((char *) wire, "<html>") == NULL,
       "HEAD: the page's length, not the page");

    r = new_request(SL_HTTP_VERSION_11);
    sl_http_special_response_handler(r, SL_HTTP_NO_CONTENT);
    ok(memcmp(wire, "HTTP/1.1 204 No Content\r\n", 25) == 0
           && strstr((char *) wire, "Content-Length") == NULL,
       "204: no body and no length");

    r = new_request(SL_HTTP_VERSION_11);
    sl_http_special_response_handler(r, 418);
    ok(memcmp(wire, "HTTP/1.1 418 \r\n", 15) == 0
           && strstr((char *) wire, "Content-Length: 0\r\n") != NULL,
       "a code without a page: empty body");

    r = new_request(SL_HTTP_VERSION_11);
    r->header_sent = 1;
    is_int(sl_http_special_response_handler(r, 500), SL_ERROR,
           "after the header was sent: an error, never a second header");
}

static void
add_error_page(sl_array_t *pages, sl_int_t status, sl_int_t overwrite, const char *uri,
               const char *args)
{
    sl_http_err_page_t *p;

    p = sl_array_push(pages);
    sl_memzero(p, sizeof(*p));
    p->status = status;
    p->overwrite = overwrite;
    p->value.value.data = (u_char *) uri;
    p->value.value.len = strlen(uri);
    if (args) {
        p->args.data = (u_char *) args;
        p->args.len = strlen(args);
    }
}

static void
test_error_pages(void)
{
    sl_http_request_t *r;
    sl_array_t *pages;
    sl_int_t rc;

    r = new_request(SL_HTTP_VERSION_11);
    pages = sl_array_create(conf_pool, 4, sizeof(sl_http_err_page_t));
    add_error_page(pages, 404, 0, "/404.html", "from=err");
    add_error_page(pages, 403, 200, "/ok.html", NULL);
    add_error_page(pages, 500, -1, "@fallback", NULL);
    add_error_page(pages, 502, 0, "http://status.example/down", NULL);
    add_error_page(pages, 503, 301, "http://status.example/moved", NULL);
    add_error_page(pages, 431, 0, "/too-large.html", NULL);
    clcf.error_pages = pages;

    r->method = SL_HTTP_POST;
    rc = sl_http_special_response_handler(r, 404);
    is_int(rc, SL_DONE, "an error page URI: internal redirect");
    is_mem(fake_redirect_uri.data, fake_redirect_uri.len, "/404.html", "to the page");
    is_mem(fake_redirect_args.data, fake_redirect_args.len, "from=err", "with its arguments");
    ok(r->method == SL_HTTP_GET && sl_str_eq_lit(&r->method_name, "GET"), "POST becomes GET");
    is_int(r->err_status, 404, "the page is served with the original status");
    ok(r->error_page, "the request is marked as serving an error page");

    rc = sl_http_special_response_handler(r, 404);
    is_int(fake_redirects, 1, "a second error does not redirect again");
    ok(rc == SL_OK && memcmp(wire, "HTTP/1.1 404 Not Found\r\n", 24) == 0,
       "it gets the built-in page");

    /* the page's response carries the original error's status */
    r = new_request(SL_HTTP_VERSION_11);
    clcf.error_pages = pages;
    r->method = SL_HTTP_HEAD;
    sl_http_special_response_handler(r, 403);
    ok(r->method == SL_HTTP_HEAD, "HEAD stays HEAD");
    is_int(r->err_status, 200, "=200 replaces the status");
    r->headers_out.status = 200;
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    ok(memcmp(wire, "HTTP/1.1 200 OK\r\n", 17) == 0, "and the header filter sends it");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.error_pages = pages;
    rc = sl_http_special_response_handler(r, 500);
    ok(rc == SL_DONE && sl_str_eq_lit(&fake_named, "@fallback"), "@name: named location");
    is_int(r->err_status, 0, "\"=\" alone: the named location's own status");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.error_pages = pages;
    sl_http_special_response_handler(r, 502);
    ok(memcmp(wire, "HTTP/1.1 302 Moved Temporarily\r\n", 32) == 0, "a URL: 302");
    ok(strstr((char *) wire, "\r\nLocation: http://status.example/down\r\n") != NULL,
       "with the URL as Location");
    ok(strstr((char *) wire, "<title>302 Found</title>") != NULL, "and nginx's 302 page");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.error_pages = pages;
    sl_http_special_response_handler(r, 503);
    ok(memcmp(wire, "HTTP/1.1 301 Moved Permanently\r\n", 32) == 0, "=301 URL: 301");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.error_pages = pages;
    sl_http_special_response_handler(r, SL_HTTP_REQUEST_HEADER_TOO_LARGE);
    ok(fake_redirects == 1 && r->err_status == 400 && !r->keepalive,
       "an error page for 431 is served as a 400 on a closing connection");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.error_pages = pages;
    r->uri_changes = 0;
    sl_http_special_response_handler(r, 404);
    ok(fake_redirects == 0 && memcmp(wire, "HTTP/1.1 404", 12) == 0,
       "no error page once the redirect budget is spent");

    r = new_request(SL_HTTP_VERSION_11);
    clcf.error_pages = pages;
    clcf.recursive_error_pages = 1;
    sl_http_special_response_handler(r, 404);
    ok(!r->error_page, "recursive_error_pages leaves the request open to another page");
}

static void
test_add_header(void)
{
    sl_http_request_t *r;
    sl_conf_t cf;
    sl_array_t args;
    sl_str_t *a;
    sl_command_t cmd;
    sl_http_headers_conf_t outer, inner;
    char *rv;

    sl_memzero(&cf, sizeof(cf));
    new_request(SL_HTTP_VERSION_11);
    cf.pool = conf_pool;
    cf.log = sl_log_init();
    sl_array_init(&args, conf_pool, 4, sizeof(sl_str_t));
    cf.args = &args;
    sl_memzero(&cmd, sizeof(cmd));
    sl_memzero(&outer, sizeof(outer));
    sl_memzero(&inner, sizeof(inner));

    a = sl_array_push_n(&args, 3);
    sl_str_set(&a[0], "add_header");
    sl_str_set(&a[1], "X-Outer");
    sl_str_set(&a[2], "1");
    rv = sl_http_headers_add(&cf, &cmd, &outer);
    ok(rv == SL_CONF_OK, "add_header X-Outer 1");

    sl_str_set(&a[1], "X-Always");
    sl_str_set(&a[2], "yes");
    a = sl_array_push(&args);
    sl_str_set(a, "always");
    a = args.elts;
    rv = sl_http_headers_add(&cf, &cmd, &outer);
    ok(rv == SL_CONF_OK, "add_header X-Always yes always");

    sl_str_set(&a[3], "sometimes");
    rv = sl_http_headers_add(&cf, &cmd, &outer);
    ok(rv == SL_CONF_ERROR, "a fourth argument other than always is refused");
    outer.headers->nelts--;

    sl_http_headers_merge_conf(&cf, &outer, &inner);
    ok(inner.headers == outer.headers, "a level without add_header inherits the outer ones");

    sl_memzero(&inner, sizeof(inner));
    args.nelts = 3;
    sl_str_set(&a[1], "ETag");
    sl_str_set(&a[2], "\"v2\"");
    sl_http_headers_add(&cf, &cmd, &inner);
    sl_str_set(&a[1], "X-Empty");
    a[2].len = 0;
    sl_http_headers_add(&cf, &cmd, &inner);
    sl_http_headers_merge_conf(&cf, &outer, &inner);
    ok(inner.headers != outer.headers && inner.headers->nelts == 2,
       "a level with add_header keeps only its own");

    /* a 200 gets the outer headers in order, after the filter's own */
    r = new_request(SL_HTTP_VERSION_11);
    hcf = outer;
    loc_conf[sl_http_headers_module.ctx_index] = &hcf;
    r->headers_out.status = 200;
    r->headers_out.content_length_n = 0;
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(strstr((char *) wire, "Connection: keep-alive\r\nX-Outer: 1\r\nX-Always: yes\r\n\r\n")
           != NULL,
       "200: every add_header");

    r = new_request(SL_HTTP_VERSION_11);
    hcf = outer;
    sl_http_special_response_handler(r, 404);
    ok(strstr((char *) wire, "X-Outer") == NULL && strstr((char *) wire, "X-Always: yes\r\n"),
       "404: only the always ones");

    r = new_request(SL_HTTP_VERSION_11);
    hcf = inner;
    r->headers_out.status = 200;
    r->headers_out.content_length_n = 0;
    sl_http_set_etag(r, 0x5f5e100, 0x1234);
    is_mem(r->headers_out.etag->value.data, r->headers_out.etag->value.len, "\"5f5e100-1234\"",
           "sl_http_set_etag: nginx's format");
    sl_http_send_header(r);
    send_text(r, "", 1);
    ok(strstr((char *) wire, "ETag: \"v2\"\r\n") != NULL
           && strstr((char *) wire, "5f5e100") == NULL,
       "add_header ETag replaces the ETag");
    ok(strstr((char *) wire, "X-Empty") == NULL, "an empty value adds nothing");

    loc_conf[sl_http_headers_module.ctx_index] = &hcf;
    sl_memzero(&hcf, sizeof(hcf));
}

static void
test_helpers(void)
{
    sl_http_request_t *r;
    sl_str_t path, v, *types;
    size_t root_len;
    u_char *end;
    sl_hash_key_t keys[2];
    sl_hash_init_t hinit;
    sl_http_complex_value_t cv;
    sl_int_t rc;

    r = new_request(SL_HTTP_VERSION_11);
    sl_str_set(&clcf.root, "/srv/www");
    sl_str_set(&r->uri, "/a/b.html");
    end = sl_http_map_uri_to_path(r, &path, &root_len, 10);
    is_mem(path.data, end - path.data, "/srv/www/a/b.html", "root + URI");
    ok(*end == '\0' && root_len == 8 && path.len >= 17 + 10 + 1, "NUL, root length, reserve");

    sl_str_set(&clcf.name, "/static/");
    sl_str_set(&clcf.root, "/data/files/");
    clcf.alias = clcf.name.len;
    sl_str_set(&r->uri, "/static/img/x.png");
    end = sl_http_map_uri_to_path(r, &path, &root_len, 0);
    is_mem(path.data, end - path.data, "/data/files/img/x.png", "alias replaces the location");

    r->valid_location = 0;
    ok(sl_http_map_uri_to_path(r, &path, &root_len, 0) == NULL, "alias after a rewrite is refused");
    clcf.alias = 0;

    /* content type by extension, case-insensitively */
    types = sl_palloc(pool, 2 * sizeof(sl_str_t));
    sl_str_set(&types[0], "text/html");
    sl_str_set(&types[1], "image/png");
    sl_str_set(&keys[0].key, "html");
    keys[0].key_hash = sl_hash_key(keys[0].key.data, keys[0].key.len);
    keys[0].value = &types[0];
    sl_str_set(&keys[1].key, "png");
    keys[1].key_hash = sl_hash_key(keys[1].key.data, keys[1].key.len);
    keys[1].value = &types[1];
    sl_memzero(&hinit, sizeof(hinit));
    hinit.hash = &clcf.types_hash;
    hinit.pool = pool;
    hinit.max_size = 64;
    hinit.bucket_size = 64;
    hinit.name = "types_hash";
    is_int(sl_hash_init(&hinit, keys, 2), SL_OK, "types hash");

    sl_str_set(&r->exten, "PNG");
    sl_http_set_content_type(r);
    is_mem(r->headers_out.content_type.data, r->headers_out.content_type.len, "image/png",
           "PNG is image/png");
    r->headers_out.content_type.len = 0;
    sl_str_set(&r->exten, "tar");
    sl_http_set_content_type(r);
    is_mem(r->headers_out.content_type.data, r->headers_out.content_type.len,
           "application/octet-stream", "an unknown extension: default_type");

    /* send_response */
    r = new_request(SL_HTTP_VERSION_11);
    sl_memzero(&cv, sizeof(cv));
    sl_str_set(&cv.value, "https://example.org/");
    rc = sl_http_send_response(r, 301, NULL, &cv);
    is_int(rc, 301, "a redirect is left to the special response");
    is_mem(r->headers_out.location->value.data, r->headers_out.location->value.len,
           "https://example.org/", "with its Location");
    is_int(sl_http_special_response_handler(r, rc), SL_OK, "which writes the page");
    ok(strstr((char *) wire, "Location: https://example.org/\r\n") != NULL
           && strstr((char *) wire, "<title>301 Moved Permanently</title>") != NULL,
       "return 301 URL: Location and nginx's page");

    r = new_request(SL_HTTP_VERSION_11);
    sl_str_set(&cv.value, "pong");
    sl_str_set(&v, "text/plain");
    rc = sl_http_send_response(r, 200, &v, &cv);
    is_int(rc, SL_OK, "return 200 text");
    ok(wire_len > 4 && memcmp(wire + wire_len - 4, "pong", 4) == 0
           && strstr((char *) wire, "Content-Length: 4\r\n"),
       "body and its length");

    r = new_request(SL_HTTP_VERSION_11);
    fake_discard_rc = SL_HTTP_REQUEST_ENTITY_TOO_LARGE;
    is_int(sl_http_send_response(r, 200, &v, &cv), SL_HTTP_REQUEST_ENTITY_TOO_LARGE,
           "a failed discard is the answer");

    r = new_request(SL_HTTP_VERSION_11);
    r->headers_out.content_length_n = 3;
    sl_str_set(&v, "4");
    sl_http_add_response_header(r, "Content-Length", &v);
    is_int(r->headers_out.content_length_n, 4, "adding Content-Length sets the length");
    sl_http_clear_content_length(r);
    ok(r->headers_out.content_length == NULL && r->headers_out.content_length_n == -1,
       "and clearing removes it");
}

int
main(void)
{
    sl_time_init();
    conf_pool = sl_create_pool(4096, sl_log_init());

    loc_conf[0] = &clcf;
    srv_conf[0] = &cscf;
    sl_http_core_module.ctx_index = 0;
    sl_http_headers_module.ctx_index = 1;
    sl_http_write_filter_module.ctx_index = 2;
    sl_http_header_filter_module.ctx_index = 3;
    sl_http_chunked_filter_module.ctx_index = 4;
    loc_conf[1] = &hcf;

    install_filters();

    test_plain_response();
    test_head_and_tokens();
    test_status_lines();
    test_chunked();
    test_write_filter();
    test_location();
    test_special_responses();
    test_error_pages();
    test_add_header();
    test_helpers();

    sl_destroy_pool(pool);
    sl_destroy_pool(conf_pool);

    return sl_tap_done();
}
