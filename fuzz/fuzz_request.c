/*
 * fuzz_request.c: libFuzzer target for what a client sends: request lines,
 * header lines and chunked or Content-Length bodies, pipelined, through
 * http/sl_http_parse.h (see sl_fuzz_http.h for the checks). The first input
 * byte chooses the piece sizes and whether header names are lowercased; the
 * rest is the byte stream.
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

    sl_fuzz_http_message(SL_FUZZ_REQUEST, data + 1, size - 1, data[0]);

    return 0;
}
