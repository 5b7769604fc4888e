/*
 * test_string.c: sl_string.c — printf conversions and bounds, number and
 * size/time parsers, escaping, HTTP dates, counted string helpers.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_tap.h"

/* sl_log.o refers to these; the real ones live in sl_cycle.c and sl_conf_file.c. */
__attribute__((weak)) sl_open_file_t *
sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name)
{
    (void) cycle;
    (void) name;
    return NULL;
}

__attribute__((weak)) void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...)
{
    (void) level;
    (void) cf;
    (void) err;
    (void) fmt;
}

/* sl_tap.h's is_mem() declares the same variable name as ok() and reads it uninitialised. */
static int
check_mem(const u_char *got, size_t glen, const char *want)
{
    int same = glen == strlen(want) && memcmp(got, want, glen) == 0;

    if (!same) {
        printf("#   got \"%.*s\" (%zu bytes), want \"%s\"\n", (int) glen, got, glen, want);
    }

    return same;
}

#define is_bytes(got, glen, want, ...) \
    ok(check_mem((const u_char *) (got), (size_t) (glen), want), __VA_ARGS__)

#define FMT(want, ...) \
    do { \
        u_char b_[256]; \
        u_char *e_ = sl_snprintf(b_, sizeof(b_), __VA_ARGS__); \
        is_bytes(b_, e_ - b_, want, "sl_snprintf(%s) = \"%s\"", #__VA_ARGS__, want); \
    } while (0)

static sl_str_t
S(const char *s)
{
    sl_str_t str;

    str.len = strlen(s);
    str.data = (u_char *) s;
    return str;
}

static void
test_printf(void)
{
    sl_str_t v = sl_string("counted");
    sl_str_t empty = sl_null_string;
    u_char buf[64], *p;
    size_t i;
    int64_t i64min = INT64_MIN;

    FMT("42", "%d", 42);
    FMT("-42", "%d", -42);
    FMT("-2147483648", "%d", INT_MIN);
    FMT("4294967295", "%ud", UINT_MAX);
    FMT("-9223372036854775808", "%l", LONG_MIN);
    FMT("18446744073709551615", "%ul", ULONG_MAX);
    FMT("-7", "%i", (sl_int_t) -7);
    FMT("9223372036854775807", "%i", (sl_int_t) INTPTR_MAX);
    FMT("18446744073709551615", "%ui", (sl_uint_t) UINTPTR_MAX);
    FMT("-1", "%z", (ssize_t) -1);
    FMT("18446744073709551615", "%uz", (size_t) SIZE_MAX);
    FMT("-123456789012", "%O", (off_t) -123456789012LL);
    FMT("1700000000", "%T", (time_t) 1700000000);
    FMT("-9223372036854775808", "%L", i64min);
    FMT("18446744073709551615", "%uL", (uint64_t) UINT64_MAX);
    FMT("1500", "%M", (sl_msec_t) 1500);
    FMT("-1", "%M", (sl_msec_t) -1);
    FMT("0", "%d", 0);
    FMT("x", "%c", 'x');
    FMT("a b", "%s %s", "a", (u_char *) "b");
    FMT("(null)", "%s", (char *) NULL);
    FMT("cou", "%*s", (size_t) 3, "counted");
    FMT("[]", "[%*s]", (size_t) 0, "abc");
    FMT("counted!", "%V!", &v);
    FMT("<>", "<%V>", &empty);
    FMT("100%", "%d%%", 100);
    FMT("a", "a%");
    FMT("q", "%q");

    /* width and padding */
    FMT("07", "%02d", 7);
    FMT("123", "%02d", 123);
    FMT("   7", "%4d", 7);
    FMT("  -7", "%4d", -7);
    FMT("-007", "%04d", -7);
    FMT("0000000000000000000000000000000000000000000000000000000000000001", "%0999999d", 1);

    /* hex */
    FMT("ff", "%xd", 255);
    FMT("FF", "%Xd", 255);
    FMT("000000FF", "%08Xd", 255);
    FMT("ffffffff", "%xd", -1);
    FMT("deadbeefcafe", "%uxL", (uint64_t) 0xdeadbeefcafeULL);
    FMT("0", "%xi", (sl_int_t) 0);
    FMT("00000000000000ab", "%p", (void *) 0xab);

    /* several in a row */
    FMT("1-2-3 x=ab", "%d-%ui-%L x=%*s", 1, (sl_uint_t) 2, (int64_t) 3, (size_t) 2, "abc");

    /* truncation at last: nothing past it is touched */
    memset(buf, '#', sizeof(buf));
    p = sl_slprintf(buf, buf + 5, "%s", "abcdefghij");
    is_int(p - buf, 5, "string truncated at last");
    ok(buf[5] == '#', "byte at last untouched (string)");

    memset(buf, '#', sizeof(buf));
    p = sl_slprintf(buf, buf + 4, "%L", (int64_t) -123456789);
    is_bytes(buf, p - buf, "-123", "number truncated at last");
    ok(buf[4] == '#', "byte at last untouched (number)");

    memset(buf, '#', sizeof(buf));
    p = sl_slprintf(buf, buf + 3, "%08d", 5);
    is_bytes(buf, p - buf, "000", "padding truncated at last");
    ok(buf[3] == '#', "byte at last untouched (padding)");

    memset(buf, '#', sizeof(buf));
    p = sl_slprintf(buf, buf + 6, "ab%Vcd", &v);
    is_bytes(buf, p - buf, "abcoun", "%%V truncated at last");
    ok(buf[6] == '#', "byte at last untouched (%%V)");

    memset(buf, '#', sizeof(buf));
    p = sl_snprintf(buf, 0, "%d", 12345);
    ok(p == buf && buf[0] == '#', "max 0 writes nothing");

    for (i = 0; i <= 12; i++) {
        memset(buf, '#', sizeof(buf));
        p = sl_snprintf(buf, i, "%s=%d%c%%", "k", 12345, 'z');
        if ((size_t) (p - buf) != (i < 9 ? i : 9) || buf[p - buf] != '#') {
            break;
        }
    }
    is_int(i, 13, "every max from 0 to 12 stops exactly at the bound");

    p = sl_sprintf(buf, "%s:%d", "port", 8080);
    is_bytes(buf, p - buf, "port:8080", "sl_sprintf");
}

static void
test_numbers(void)
{
    is_int(sl_atoi((u_char *) "0", 1), 0, "atoi 0");
    is_int(sl_atoi((u_char *) "12345", 5), 12345, "atoi 12345");
    is_int(sl_atoi((u_char *) "123", 2), 12, "atoi uses n, not NUL");
    is_int(sl_atoi((u_char *) "", 0), SL_ERROR, "atoi empty");
    is_int(sl_atoi((u_char *) "12a", 3), SL_ERROR, "atoi non-digit");
    is_int(sl_atoi((u_char *) "-1", 2), SL_ERROR, "atoi sign");
    is_int(sl_atoi((u_char *) " 1", 2), SL_ERROR, "atoi space");
    is_int(sl_atoi((u_char *) "9223372036854775807", 19), INTPTR_MAX, "atoi INTPTR_MAX");
    is_int(sl_atoi((u_char *) "9223372036854775808", 19), SL_ERROR, "atoi INTPTR_MAX+1");
    is_int(sl_atoi((u_char *) "9223372036854775810", 19), SL_ERROR, "atoi INTPTR_MAX+3");
    is_int(sl_atoi((u_char *) "99999999999999999999999", 23), SL_ERROR, "atoi huge");
    is_int(sl_atoi((u_char *) "00000000000000000000042", 23), 42, "atoi leading zeros");

    is_int(sl_atoof((u_char *) "9223372036854775807", 19), INT64_MAX, "atoof max");
    is_int(sl_atoof((u_char *) "9223372036854775808", 19), SL_ERROR, "atoof max+1");
    is_int(sl_atoof((u_char *) "x", 1), SL_ERROR, "atoof garbage");
    is_int(sl_atoof((u_char *) "", 0), SL_ERROR, "atoof empty");

    is_int(sl_hextoi((u_char *) "ff", 2), 255, "hextoi ff");
    is_int(sl_hextoi((u_char *) "DeadBeef", 8), 0xdeadbeef, "hextoi mixed case");
    is_int(sl_hextoi((u_char *) "7fffffffffffffff", 16), INTPTR_MAX, "hextoi max");
    is_int(sl_hextoi((u_char *) "8000000000000000", 16), SL_ERROR, "hextoi max+1");
    is_int(sl_hextoi((u_char *) "fg", 2), SL_ERROR, "hextoi bad digit");
    is_int(sl_hextoi((u_char *) "", 0), SL_ERROR, "hextoi empty");

    is_int(sl_atofp((u_char *) "1.5", 3, 3), 1500, "atofp 1.5,3");
    is_int(sl_atofp((u_char *) "10", 2, 2), 1000, "atofp 10,2");
    is_int(sl_atofp((u_char *) "0.25", 4, 2), 25, "atofp 0.25,2");
    is_int(sl_atofp((u_char *) "1.", 2, 1), 10, "atofp trailing dot");
    is_int(sl_atofp((u_char *) ".5", 2, 1), 5, "atofp leading dot");
    is_int(sl_atofp((u_char *) "1.234", 5, 2), SL_ERROR, "atofp too many decimals");
    is_int(sl_atofp((u_char *) "1.2.3", 5, 3), SL_ERROR, "atofp two dots");
    is_int(sl_atofp((u_char *) ".", 1, 3), SL_ERROR, "atofp dot only");
    is_int(sl_atofp((u_char *) "", 0, 3), SL_ERROR, "atofp empty");
    is_int(sl_atofp((u_char *) "922337203685477580", 18, 2), SL_ERROR, "atofp scale overflow");
    is_int(sl_atofp((u_char *) "1a", 2, 1), SL_ERROR, "atofp garbage");
}

static void
test_sizes(void)
{
    sl_str_t s;

    s = S("10");
    is_int(sl_parse_size(&s), 10, "size 10");
    s = S("10k");
    is_int(sl_parse_size(&s), 10240, "size 10k");
    s = S("1K");
    is_int(sl_parse_size(&s), 1024, "size 1K");
    s = S("2m");
    is_int(sl_parse_size(&s), 2 * 1024 * 1024, "size 2m");
    s = S("3G");
    is_int(sl_parse_size(&s), 3LL * 1024 * 1024 * 1024, "size 3G");
    s = S("0");
    is_int(sl_parse_size(&s), 0, "size 0");
    s = S("");
    is_int(sl_parse_size(&s), SL_ERROR, "size empty");
    s = S("k");
    is_int(sl_parse_size(&s), SL_ERROR, "size unit only");
    s = S("10x");
    is_int(sl_parse_size(&s), SL_ERROR, "size bad unit");
    s = S("10kk");
    is_int(sl_parse_size(&s), SL_ERROR, "size two units");
    s = S("-1");
    is_int(sl_parse_size(&s), SL_ERROR, "size negative");
    s = S("9007199254740992k");
    is_int(sl_parse_size(&s), SL_ERROR, "size k overflow");
    s = S("9007199254740991k");
    is_int(sl_parse_size(&s), 9007199254740991LL * 1024, "size k at the limit");
    s = S("9223372036854775808");
    is_int(sl_parse_size(&s), SL_ERROR, "size overflow");

    s = S("5g");
    is_int(sl_parse_offset(&s), 5LL * 1024 * 1024 * 1024, "offset 5g");
    s = S("8589934592g");
    is_int(sl_parse_offset(&s), SL_ERROR, "offset overflow");
    s = S("1.5m");
    is_int(sl_parse_offset(&s), SL_ERROR, "offset fraction");
}

static void
test_time_parse(void)
{
    sl_str_t s;

    s = S("1h 30m");
    is_int(sl_parse_time(&s, 1), 5400, "1h 30m in seconds");
    is_int(sl_parse_time(&s, 0), 5400000, "1h 30m in ms");
    s = S("1m30s");
    is_int(sl_parse_time(&s, 1), 90, "1m30s without space");
    s = S("500ms");
    is_int(sl_parse_time(&s, 0), 500, "500ms");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "ms refused in seconds");
    s = S("2d");
    is_int(sl_parse_time(&s, 1), 172800, "2d");
    is_int(sl_parse_time(&s, 0), 172800000, "2d in ms");
    s = S("1w");
    is_int(sl_parse_time(&s, 1), 604800, "1w");
    s = S("1M");
    is_int(sl_parse_time(&s, 1), 2592000, "1M");
    s = S("1y");
    is_int(sl_parse_time(&s, 1), 31536000, "1y");
    s = S("30");
    is_int(sl_parse_time(&s, 1), 30, "bare number is seconds");
    is_int(sl_parse_time(&s, 0), 30000, "bare number is seconds also when the result is ms");
    s = S("1m 30");
    is_int(sl_parse_time(&s, 0), 90000, "bare seconds after minutes");
    s = S("1s 500");
    is_int(sl_parse_time(&s, 0), SL_ERROR, "bare number after seconds is seconds twice");
    s = S(" 5s ");
    is_int(sl_parse_time(&s, 1), 5, "surrounding spaces");
    s = S("1y 1M 1w 1d 1h 1m 1s 1ms");
    is_int(sl_parse_time(&s, 0), (31536000LL + 2592000 + 604800 + 86400 + 3600 + 60 + 1) * 1000 + 1,
           "every unit");
    s = S("0s");
    is_int(sl_parse_time(&s, 1), 0, "zero");

    s = S("");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "empty");
    s = S("   ");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "spaces only");
    s = S("h");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "unit without number");
    s = S("1x");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "unknown unit");
    s = S("30m 1h");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "units out of order");
    s = S("1h 1h");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "unit twice");
    s = S("1 2");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "two bare numbers");
    s = S("5 1h");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "bare number not last");
    s = S("1hh");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "doubled unit letter");
    s = S("-1s");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "negative");
    s = S("1.5h");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "fraction");
    s = S("99999999999999999999s");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "number overflow");
    s = S("300000000000y");
    is_int(sl_parse_time(&s, 1), SL_ERROR, "scale overflow");
    s = S("106751991168d");
    is_int(sl_parse_time(&s, 0), SL_ERROR, "ms scale overflow");
    s = S("106751991167d");
    is_int(sl_parse_time(&s, 0), 106751991167LL * 86400000, "ms scale at the limit");
    s = S("292471208y 11M");
    is_int(sl_parse_time(&s, 0), SL_ERROR, "sum overflow");
}

static void
test_escape(void)
{
    u_char buf[256], out[256], *d, *src, *end;
    const char *raw;
    uintptr_t n;
    size_t len;
    sl_uint_t type;
    sl_int_t rc;
    const u_char all[] = " #%?&+;\"'<>/:=@!$()*,[]~-._aZ09\x01\x7f\xff";

    raw = "/a b?c=d#e%f";
    is_int(sl_escape_uri(NULL, (u_char *) raw, strlen(raw), SL_ESCAPE_URI), 4, "uri count");
    end = (u_char *) sl_escape_uri(buf, (u_char *) raw, strlen(raw), SL_ESCAPE_URI);
    is_bytes(buf, end - buf, "/a%20b%3Fc=d%23e%25f", "escape uri");

    raw = "a=1&b=2+3;c d";
    end = (u_char *) sl_escape_uri(buf, (u_char *) raw, strlen(raw), SL_ESCAPE_ARGS);
    is_bytes(buf, end - buf, "a=1%26b=2%2B3%3Bc%20d", "escape args");

    raw = "a/b c~d-e.f_g!";
    end = (u_char *) sl_escape_uri(buf, (u_char *) raw, strlen(raw), SL_ESCAPE_URI_COMPONENT);
    is_bytes(buf, end - buf, "a%2Fb%20c~d-e.f_g%21", "escape uri component");

    raw = "<a href=\"x\">'#%";
    end = (u_char *) sl_escape_uri(buf, (u_char *) raw, strlen(raw), SL_ESCAPE_HTML);
    is_bytes(buf, end - buf, "<a%20href=%22x%22>%27%23%25", "escape html type");

    raw = "/x y\"'#%";
    end = (u_char *) sl_escape_uri(buf, (u_char *) raw, strlen(raw), SL_ESCAPE_REFRESH);
    is_bytes(buf, end - buf, "/x%20y%22%27#%", "escape refresh");

    end = (u_char *) sl_escape_uri(buf, (u_char *) "\x00\x1f\x7f\x80\xff", 5, SL_ESCAPE_URI);
    is_bytes(buf, end - buf, "%00%1F%7F%80%FF", "controls and high bytes escaped");

    /* count agrees with output; every type that escapes "%" round-trips through unescape */
    for (type = SL_ESCAPE_URI; type <= SL_ESCAPE_REFRESH; type++) {
        len = sizeof(all) - 1;
        n = sl_escape_uri(NULL, all, len, type);
        end = (u_char *) sl_escape_uri(buf, all, len, type);
        ok((size_t) (end - buf) == len + 2 * n, "type %d: length is len + 2 * count", (int) type);

        if (type == SL_ESCAPE_REFRESH) {
            ok(memchr(buf, '%', (size_t) (end - buf)) != NULL && n == 6,
               "refresh leaves %% raw and escapes space, quotes, controls, high bytes");
            continue;
        }

        d = out;
        src = buf;
        rc = sl_unescape_uri(&d, &src, (size_t) (end - buf));
        ok(rc == SL_OK && (size_t) (d - out) == len && memcmp(out, all, len) == 0 && src == end,
           "type %d: unescape restores the original", (int) type);
    }

    raw = "a%20b%2f%2F%41";
    d = out;
    src = (u_char *) raw;
    rc = sl_unescape_uri(&d, &src, strlen(raw));
    is_int(rc, SL_OK, "unescape ok");
    is_bytes(out, d - out, "a b//A", "unescape decodes both cases");
    ok(src == (u_char *) raw + strlen(raw), "unescape advances src");

    raw = "ok%zz";
    d = out;
    src = (u_char *) raw;
    is_int(sl_unescape_uri(&d, &src, strlen(raw)), SL_ERROR, "unescape %%zz is an error");
    is_bytes(out, d - out, "ok", "bytes before the bad escape are decoded");

    raw = "ab%4";
    d = out;
    src = (u_char *) raw;
    is_int(sl_unescape_uri(&d, &src, strlen(raw)), SL_ERROR, "truncated %%4 is an error");

    raw = "%";
    d = out;
    src = (u_char *) raw;
    is_int(sl_unescape_uri(&d, &src, 1), SL_ERROR, "lone %% is an error");

    raw = "%4g";
    d = out;
    src = (u_char *) raw;
    is_int(sl_unescape_uri(&d, &src, 3), SL_ERROR, "%%4g is an error");

    /* size bounds the input: "%41" cut to 2 bytes is truncated */
    raw = "%41";
    d = out;
    src = (u_char *) raw;
    is_int(sl_unescape_uri(&d, &src, 2), SL_ERROR, "escape cut by size is an error");

    d = out;
    src = (u_char *) "a+b";
    rc = sl_unescape_uri(&d, &src, 3);
    is_bytes(out, d - out, "a+b", "plus is left alone");

    raw = "<a & \"b\">";
    is_int(sl_escape_html(NULL, (u_char *) raw, strlen(raw)), 3 + 4 + 5 + 5 + 3, "html count");
    end = (u_char *) (uintptr_t) sl_escape_html(buf, (u_char *) raw, strlen(raw));
    is_bytes(buf, end - buf, "&lt;a &amp; &quot;b&quot;&gt;", "escape html");

    raw = "a\"b\\c\n\x01\x1f\x7f\xc3\xa9";
    len = strlen(raw);
    n = sl_escape_json(NULL, (u_char *) raw, len);
    is_int(n, 1 + 1 + 5 + 5 + 5, "json extra length");
    end = (u_char *) sl_escape_json(buf, (u_char *) raw, len);
    is_bytes(buf, end - buf, "a\\\"b\\\\c\\u000a\\u0001\\u001f\x7f\xc3\xa9", "escape json");
    is_int((size_t) (end - buf), len + n, "json length agrees with count");

    sl_hex_dump(buf, (u_char *) "\x00\xab\xff", 3);
    is_bytes(buf, 6, "00abff", "hex dump");
}

static void
test_http_time(void)
{
    u_char buf[64], *end;
    time_t t, samples[] = { 0,
                            1,
                            784111777,
                            951782400,
                            1700000000,
                            2147483647,
                            2147483648LL,
                            4102444800LL,
                            253402300799LL };
    size_t i;
    int good;
    const char *s;

    end = sl_http_time(buf, 784111777);
    is_bytes(buf, end - buf, "Sun, 06 Nov 1994 08:49:37 GMT", "http time");
    end = sl_http_time(buf, 0);
    is_bytes(buf, end - buf, "Thu, 01 Jan 1970 00:00:00 GMT", "http time epoch");
    end = sl_http_time(buf, 951782400);
    is_bytes(buf, end - buf, "Tue, 29 Feb 2000 00:00:00 GMT", "http time leap day");
    end = sl_http_time(buf, -5);
    is_bytes(buf, end - buf, "Thu, 01 Jan 1970 00:00:00 GMT", "negative time clamps to epoch");
    end = sl_http_time(buf, (time_t) INT64_MAX);
    is_int(end - buf, 29, "huge time still 29 bytes");

    good = 1;
    for (i = 0; i < sl_nelts(samples); i++) {
        end = sl_http_time(buf, samples[i]);
        if (end - buf != 29 || sl_parse_http_time(buf, 29) != samples[i]) {
            good = 0;
            printf("# round trip failed for %lld\n", (long long) samples[i]);
        }
    }
    for (t = 0; t < 4102444800LL; t += 86399 * 17 + 12345) {
        end = sl_http_time(buf, t);
        if (sl_parse_http_time(buf, (size_t) (end - buf)) != t) {
            good = 0;
            printf("# round trip failed for %lld\n", (long long) t);
            break;
        }
    }
    ok(good, "http time round trips");

    s = "Sun, 06 Nov 1994 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), 784111777, "IMF-fixdate");
    s = "Sunday, 06-Nov-94 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), 784111777, "RFC 850");
    s = "Sun Nov  6 08:49:37 1994";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), 784111777, "asctime");
    s = "Wed Nov 16 08:49:37 1994";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), 784111777 + 10 * 86400,
           "asctime two-digit day");
    s = "Thursday, 01-Jan-15 00:00:00 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), 1420070400, "RFC 850 year 15 is 2015");
    s = "Tue, 29 Feb 2000 00:00:00 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), 951782400, "leap day");

    s = "";
    is_int(sl_parse_http_time((u_char *) s, 0), -1, "empty");
    s = "Sun, 06 Nov 1994 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, 20), -1, "truncated");
    is_int(sl_parse_http_time(NULL, 5), -1, "NULL");
    s = "Sun, 06 Nov 1994 08:49:37 UTC";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "not GMT");
    s = "Sun, 06 Nov 1994 08:49:37 GMTx";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "trailing garbage");
    s = "Sun, 31 Feb 1994 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "31 February");
    s = "Sun, 29 Feb 2100 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "29 February 2100");
    s = "Sun, 00 Nov 1994 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "day 0");
    s = "Sun, 06 Nov 1994 24:00:00 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "hour 24");
    s = "Sun, 06 Nov 1994 08:60:00 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "minute 60");
    s = "Sun, 06 Foo 1994 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "bad month");
    s = "Sun, 06 Nov 1969 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "before 1970");
    s = "Sun, 6 Nov 1994 08:49:37 GMT";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "one-digit day in IMF");
    s = "Sun Nov  6 08:49:37";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "asctime without year");
    s = "1994-11-06T08:49:37Z";
    is_int(sl_parse_http_time((u_char *) s, strlen(s)), -1, "ISO 8601 refused");
}

static void
test_helpers(void)
{
    u_char buf[32], *p;
    u_char hay[] = "Content-Type: Text/HTML";
    sl_str_t a = sl_string("Hello"), b = sl_string("hello"), c = sl_string("hello!");
    sl_pool_t *pool;
    u_char *dup;

    sl_strlow(buf, (u_char *) "MiXeD-123", 9);
    is_bytes(buf, 9, "mixed-123", "strlow");

    ok(sl_strncasecmp((u_char *) "GZIP", (u_char *) "gzip", 4) == 0, "strncasecmp equal");
    ok(sl_strncasecmp((u_char *) "gzia", (u_char *) "gzib", 4) < 0, "strncasecmp less");
    ok(sl_strncasecmp((u_char *) "abc", (u_char *) "abd", 2) == 0, "strncasecmp bounded");

    ok(!sl_str_eq(&a, &b), "str_eq is case-sensitive");
    ok(sl_str_caseeq(&a, &b), "str_caseeq");
    ok(!sl_str_caseeq(&b, &c), "str_caseeq length");
    ok(sl_str_eq(&b, &b), "str_eq self");
    ok(sl_str_eq_lit(&b, "hello") && !sl_str_eq_lit(&c, "hello"), "str_eq_lit");

    p = sl_strlcasestrn(hay, hay + sizeof(hay) - 1, (u_char *) "text/html", 9);
    ok(p == hay + 14, "strlcasestrn finds case-insensitively");
    p = sl_strlcasestrn(hay, hay + sizeof(hay) - 1, (u_char *) "HTMLX", 5);
    ok(p == NULL, "strlcasestrn does not read past last");
    p = sl_strlcasestrn(hay, hay + 3, (u_char *) "content", 7);
    ok(p == NULL, "strlcasestrn short haystack");

    p = sl_strnstr(hay, sizeof(hay) - 1, "Type", 4);
    ok(p == hay + 8, "strnstr");
    p = sl_strnstr(hay, sizeof(hay) - 1, "type", 4);
    ok(p == NULL, "strnstr is case-sensitive");
    p = sl_strnstr(hay, 10, "Type", 4);
    ok(p == NULL, "strnstr bounded by len");

    memset(buf, '#', sizeof(buf));
    p = sl_cpystrn(buf, (u_char *) "abcdef", 4);
    ok(p == buf + 3 && memcmp(buf, "abc\0", 4) == 0 && buf[4] == '#', "cpystrn truncates");
    p = sl_cpystrn(buf, (u_char *) "ab", 10);
    ok(p == buf + 2 && buf[2] == '\0', "cpystrn short source");
    memset(buf, '#', sizeof(buf));
    p = sl_cpystrn(buf, (u_char *) "ab", 0);
    ok(p == buf && buf[0] == '#', "cpystrn n 0 writes nothing");

    pool = sl_create_pool(1024, NULL);
    dup = sl_pstrdup(pool, &a);
    ok(dup != NULL && memcmp(dup, "Hello", 6) == 0 && dup != a.data, "pstrdup copies with NUL");
    sl_destroy_pool(pool);
}

int
main(void)
{
    test_printf();
    test_numbers();
    test_sizes();
    test_time_parse();
    test_escape();
    test_http_time();
    test_helpers();

    return sl_tap_done();
}
