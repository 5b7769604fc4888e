/*
 * fuzz_response.c: libFuzzer target for what an upstream sends back: the
 * status line, header lines and the body (chunked or Content-Length)
 * through sl_http_parse_status_line(), sl_http_parse_header_line() and
 * sl_http_parse_chunked() (see sl_fuzz_http.h for the checks). The first
 * input byte chooses the piece sizes and whether header names are
 * lowercased; the rest is the byte stream.
 */
#include "sl_config.h"
#include "sl_http_parse.h"
#include "sl_fuzz_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }

    sl_fuzz_http_message(SL_FUZZ_RESPONSE, data + 1, size - 1, data[0]);

    return 0;
}
