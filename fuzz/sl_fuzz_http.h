/*
 * sl_fuzz_http.h: what the HTTP message fuzz targets share. A message is
 * parsed twice: once with the whole input in one buffer and once fed in
 * pieces whose sizes come from the input's first byte, moving the partial
 * item to a fresh heap buffer (and freeing the old one) at every SL_AGAIN,
 * as sl_http_alloc_large_header_buffer() does. Each run writes a transcript
 * of what the parsers returned; the two transcripts must be equal, and every
 * item returned must satisfy the contract in sl_http_parse.h. A broken
 * invariant aborts, which libFuzzer reports as a crash with the input.
 */
#ifndef SL_FUZZ_HTTP_H
#define SL_FUZZ_HTTP_H

#include "sl_config.h"
#include "sl_buf.h"
#include "sl_http_parse.h"

#define SL_FUZZ_REQUEST 0  /* request line, headers, body; pipelined */
#define SL_FUZZ_RESPONSE 1 /* status line, headers, body */

/* The transcript of one run, truncated (identically in both runs) when long. */
typedef struct {
    char text[16384];
    size_t len;
} sl_fuzz_transcript_t;

/* One run's input and the buffer that currently holds its unparsed bytes. */
typedef struct {
    const u_char *data;
    size_t size;
    size_t fed;    /* input bytes handed to the parser so far */
    size_t step;   /* piece size; 0: the whole input at once */
    sl_uint_t rnd; /* varies the piece sizes when step is not 0 */
    u_char *buf;   /* malloc()ed, exactly as large as its bytes */
    u_char *buf_end;
    sl_buf_t b;
} sl_fuzz_feed_t;

/*
 * Runs kind over data[0..size) twice (whole, then in pieces chosen by
 * mode) and aborts when the transcripts differ or an invariant breaks.
 */
void sl_fuzz_http_message(int kind, const u_char *data, size_t size, u_char mode);

/* Names the input sl_fuzz_fail() prints; sl_fuzz_http_message() sets it itself. */
void sl_fuzz_set_input(const u_char *data, size_t size);

/* Content-Length computed the plain way: 1*DIGIT without overflow, else -1. */
off_t sl_fuzz_content_length(const u_char *v, size_t len);

/* Prints the message and the input's printable form to stderr, then abort()s. */
void sl_fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif /* SL_FUZZ_HTTP_H */
