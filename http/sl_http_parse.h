/*
 * sl_http_parse.h: the strict HTTP/1.1 parsers (RFC 9112, RFC 9110). They
 * are pure functions over a buffer and a state struct: nothing allocates,
 * nothing logs, every result points into the caller's buffer.
 *
 * Resuming. Each parser reads [b->pos, b->last). On SL_AGAIN it has examined
 * and consumed every byte (b->pos == b->last) and kept its progress in the
 * struct; call it again with the same struct once more bytes follow. The
 * item being parsed (a request line, a status line or one header line) must
 * stay in memory from sl_http_parse_pending() on, because the struct points
 * into it. To move those bytes to a bigger buffer, copy them from
 * sl_http_parse_pending() to the end of the data and call
 * sl_http_parse_relocate() with the old and new address of that first byte.
 *
 * Which pointers are live during a partial parse (and which relocate moves):
 *   request line: request_start, request_end, method_end, uri_start,
 *                 uri_end, args_start, schema_start, schema_end, host_start,
 *                 host_end, port_start, port_end, http_protocol_start;
 *   status line:  request_start, request_end, status_start, status_end;
 *   header line:  header_name_start, header_name_end, header_start, header_end.
 * Pointers of an item already returned (SL_OK) are the caller's to copy
 * before it moves that item's bytes; relocate does not touch them.
 *
 * A zero-filled struct is ready for the first item. After SL_OK,
 * SL_HTTP_PARSE_HEADER_DONE, SL_DONE or any error the state is back at the
 * start, so the same struct serves the next item or the next request.
 */
#ifndef SL_HTTP_PARSE_H
#define SL_HTTP_PARSE_H

#include "sl_config.h"
#include "sl_buf.h"

/* Results beyond the SL_* codes; all positive, so never confused with them. */
#define SL_HTTP_PARSE_HEADER_DONE 1      /* the empty line ending the header block */
#define SL_HTTP_PARSE_INVALID_METHOD 10  /* answer 405: a well-formed CONNECT line */
#define SL_HTTP_PARSE_INVALID_REQUEST 11 /* answer 400 */
#define SL_HTTP_PARSE_INVALID_VERSION 12 /* answer 505: well-formed HTTP/2.0 .. HTTP/9.9 */
#define SL_HTTP_PARSE_INVALID_HEADER 13  /* answer 400 */
#define SL_HTTP_PARSE_INVALID_STATUS 14  /* an upstream sent a malformed status line */

/* Methods, one bit each so that method sets (limit_except) are masks. */
#define SL_HTTP_UNKNOWN 0x0001 /* any other token: legal, the caller decides */
#define SL_HTTP_GET 0x0002
#define SL_HTTP_HEAD 0x0004
#define SL_HTTP_POST 0x0008
#define SL_HTTP_PUT 0x0010
#define SL_HTTP_DELETE 0x0020
#define SL_HTTP_OPTIONS 0x0040
#define SL_HTTP_PATCH 0x0080
#define SL_HTTP_TRACE 0x0100
#define SL_HTTP_CONNECT 0x0200

/* http_version = major * 1000 + minor */
#define SL_HTTP_VERSION_10 1000
#define SL_HTTP_VERSION_11 1001

#define SL_HTTP_LC_HEADER_LEN 32

/* sl_http_normalize_uri() flags */
#define SL_HTTP_MERGE_SLASHES 0x01

/* sl_http_parse_transfer_encoding() results */
#define SL_HTTP_TE_CHUNKED 1
#define SL_HTTP_TE_OTHER 2
#define SL_HTTP_TE_INVALID 3

/* Largest chunk size accepted (2^60 - 1); a larger one is an error. */
#define SL_HTTP_MAX_CHUNK_SIZE (((off_t) 1 << 60) - 1)
/* Bytes allowed in one chunk-size line (size and extensions, not CRLF). */
#define SL_HTTP_MAX_CHUNK_LINE 4096
/* Bytes allowed in the whole trailer section. */
#define SL_HTTP_MAX_TRAILERS 32768

typedef struct {
    sl_uint_t state;

    /*
     * Every u_char * of the struct is here, in one block (see the list of
     * live pointers above). NULL means "not present in this item".
     */
    u_char *request_start; /* the line's first byte (request or status line) */
    u_char *request_end;   /* the line's end, before CRLF or LF */
    u_char *method_end;    /* one past the method */
    u_char *uri_start;     /* origin-form: the target; absolute-form: path and query
                              ('/', or '?' / the SP when the path is empty);
                              asterisk-form: "*"; authority-form: host:port */
    u_char *uri_end;       /* one past the target */
    u_char *args_start;    /* after '?', NULL without a query */
    u_char *schema_start;  /* absolute-form only */
    u_char *schema_end;
    u_char *host_start; /* absolute-form and authority-form; brackets kept */
    u_char *host_end;
    u_char *port_start; /* the digits after ':' (maybe none), NULL without ':' */
    u_char *port_end;
    u_char *http_protocol_start; /* "HTTP/x.y", ends at request_end */
    u_char *status_start;        /* status line: the 3 digits */
    u_char *status_end;          /* status line: end of the reason phrase */
    u_char *header_name_start;   /* header line: first byte of the line */
    u_char *header_name_end;     /* the ':' */
    u_char *header_start;        /* the value without surrounding OWS */
    u_char *header_end;

    sl_uint_t method;       /* SL_HTTP_GET ... SL_HTTP_UNKNOWN */
    sl_uint_t http_major;   /* single digits as received */
    sl_uint_t http_minor;   /* HTTP/1.2 .. 1.9 are kept: treat any 1.x >= 1.1 as 1.1 */
    sl_uint_t http_version; /* major * 1000 + minor */
    sl_uint_t status;       /* status line: 100 .. 999 */

    /*
     * Header line: sl_hash() (hash * 31 + c) over the lowercased name. With
     * lowcase set, lowcase_header holds the lowercased name and
     * lowcase_index its length; a name longer than SL_HTTP_LC_HEADER_LEN has
     * no copy and lowcase_index 0 (compare header_name_start..end without
     * case instead). Without lowcase, lowcase_index is 0.
     */
    sl_uint_t header_hash;
    sl_uint_t lowcase_index;
    u_char lowcase_header[SL_HTTP_LC_HEADER_LEN];

    /* Request target flags. */
    unsigned complex_uri : 1;       /* the path has '%', "/.", "//" or '\': normalise it */
    unsigned quoted_uri : 1;        /* the path has '%' */
    unsigned plus_in_uri : 1;       /* the path has '+' */
    unsigned empty_path_in_uri : 1; /* absolute-form without a path: use "/" */
} sl_http_parse_t;

typedef struct {
    sl_uint_t state;
    off_t size;   /* chunk data bytes left in the current chunk */
    off_t length; /* at least this many bytes still to come (a hint for reads) */
    size_t count; /* bytes of the current chunk line or trailer section so far */
} sl_http_chunked_t;

/*
 * Parses the request line from b->pos, skipping empty lines before it.
 * SL_OK: complete, b->pos after its LF. SL_AGAIN: need more bytes.
 * SL_HTTP_PARSE_INVALID_REQUEST (400): malformed, b->pos at the bad byte.
 * SL_HTTP_PARSE_INVALID_VERSION (505): a complete line with HTTP/2.x-9.x.
 * SL_HTTP_PARSE_INVALID_METHOD (405): a complete, well-formed CONNECT line.
 */
sl_int_t sl_http_parse_request_line(sl_http_parse_t *p, sl_buf_t *b);

/*
 * Parses one header field line. SL_OK: a field (name, value, hash, lowcase
 * copy when lowcase is set), b->pos after its LF. SL_HTTP_PARSE_HEADER_DONE:
 * the empty line, b->pos after it. SL_AGAIN, or SL_HTTP_PARSE_INVALID_HEADER
 * with b->pos at the bad byte.
 */
sl_int_t sl_http_parse_header_line(sl_http_parse_t *p, sl_buf_t *b, sl_uint_t lowcase);

/*
 * Parses an upstream's status line "HTTP/1.x SP 3DIGIT SP reason CRLF" (the
 * SP before an empty reason may be missing). SL_OK with p->status, SL_AGAIN
 * or SL_HTTP_PARSE_INVALID_STATUS (including any major version but 1).
 */
sl_int_t sl_http_parse_status_line(sl_http_parse_t *p, sl_buf_t *b);

/*
 * Parses a chunked body (RFC 9112 7.1) in place. SL_OK: ctx->size bytes of
 * chunk data remain in this chunk and at least one of them is at b->pos;
 * the caller takes n = min(ctx->size, b->last - b->pos) bytes, adds n to
 * b->pos, subtracts n from ctx->size and calls again. SL_AGAIN: need more
 * bytes (b->pos == b->last). SL_DONE: last chunk and trailers read, b->pos
 * after the final LF. SL_ERROR: malformed, oversized or over the limits
 * above. Trailer fields are checked as strictly as headers and skipped.
 */
sl_int_t sl_http_parse_chunked(sl_http_chunked_t *ctx, sl_buf_t *b);

/*
 * Decodes %XX in a path and resolves "." and ".." segments into dst, which
 * may equal src and must hold max(len, 1) bytes. A decoded "%2F" is a '/'
 * like any other (as in nginx), so it separates segments; '\' is an
 * ordinary byte. Empty input gives "/". SL_OK with *dst_len set, or
 * SL_HTTP_PARSE_INVALID_REQUEST for a path not starting with '/', a bad or
 * truncated escape, a NUL byte (raw or "%00"), or ".." above the root.
 */
sl_int_t sl_http_normalize_uri(const u_char *src, size_t len, u_char *dst, size_t *dst_len,
                               sl_uint_t flags);

/* A Content-Length value: 1*DIGIT without overflow, or -1 for anything else. */
off_t sl_http_parse_content_length(const u_char *v, size_t len);

/*
 * Classifies a Transfer-Encoding value: SL_HTTP_TE_CHUNKED when it is
 * exactly one coding "chunked" (any case, no parameters, OWS around it),
 * SL_HTTP_TE_OTHER for any other well-formed list, SL_HTTP_TE_INVALID for
 * a syntax error or a list without any coding.
 */
sl_int_t sl_http_parse_transfer_encoding(const u_char *v, size_t len);

/*
 * True while the request-line parser has read nothing but the empty lines
 * allowed before a request line (RFC 9112 2.2): everything it consumed may
 * be dropped, so a buffer full of CRLFs is emptied rather than grown.
 */
sl_uint_t sl_http_parse_before_request(const sl_http_parse_t *p);

/* The first byte of the item being parsed that must be kept, or NULL if none is partial. */
u_char *sl_http_parse_pending(const sl_http_parse_t *p);

/* Shifts the live pointers of the partial item after its bytes moved from old_base to new_base. */
void sl_http_parse_relocate(sl_http_parse_t *p, u_char *old_base, u_char *new_base);

#endif /* SL_HTTP_PARSE_H */
