/*
 * sl_string.c: counted strings, number parsers, the sl_*printf family,
 * escaping and HTTP dates. Nothing here allocates except sl_pstrdup().
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"

#define SL_INT64_LEN (sizeof("-9223372036854775808") - 1)
/* A width larger than this is clamped, so "%999999999d" cannot run away. */
#define SL_MAX_PRINTF_WIDTH 64
/* 9999-12-31T23:59:59Z: the last second that prints with a four-digit year. */
#define SL_MAX_HTTP_TIME ((time_t) 253402300799LL)

static const u_char sl_hex_lower[] = "0123456789abcdef";
static const u_char sl_hex_upper[] = "0123456789ABCDEF";

static const char *sl_week_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *sl_month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };


void
sl_strlow(u_char *dst, const u_char *src, size_t n)
{
    while (n) {
        *dst = sl_tolower(*src);
        dst++;
        src++;
        n--;
    }
}


sl_int_t
sl_strncasecmp(const u_char *s1, const u_char *s2, size_t n)
{
    sl_uint_t c1, c2;

    while (n) {
        c1 = sl_tolower(*s1);
        c2 = sl_tolower(*s2);
        s1++;
        s2++;

        if (c1 != c2) {
            return (sl_int_t) c1 - (sl_int_t) c2;
        }

        /* both NUL: a NUL-terminated operand shorter than n ends here */
        if (c1 == 0) {
            return 0;
        }

        n--;
    }

    return 0;
}


int
sl_str_eq(const sl_str_t *a, const sl_str_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


static int
sl_mem_caseeq(const u_char *a, const u_char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (sl_tolower(a[i]) != sl_tolower(b[i])) {
            return 0;
        }
    }

    return 1;
}


int
sl_str_caseeq(const sl_str_t *a, const sl_str_t *b)
{
    return a->len == b->len && sl_mem_caseeq(a->data, b->data, a->len);
}


u_char *
sl_strlcasestrn(u_char *s, u_char *last, const u_char *needle, size_t n)
{
    size_t i, len;

    if (n == 0) {
        return s;
    }

    if (s == NULL || last <= s) {
        return NULL;
    }

    len = (size_t) (last - s);
    if (len < n) {
        return NULL;
    }

    for (i = 0; i <= len - n; i++) {
        if (sl_mem_caseeq(s + i, needle, n)) {
            return s + i;
        }
    }

    return NULL;
}


u_char *
sl_strnstr(u_char *s, size_t len, const char *needle, size_t n)
{
    size_t i;

    if (n == 0) {
        return s;
    }

    if (len < n) {
        return NULL;
    }

    for (i = 0; i <= len - n; i++) {
        if (s[i] == (u_char) needle[0] && memcmp(s + i, needle, n) == 0) {
            return s + i;
        }
    }

    return NULL;
}


u_char *
sl_cpystrn(u_char *dst, const u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;

        if (*dst == '\0') {
            return dst;
        }

        dst++;
        src++;
    }

    *dst = '\0';

    return dst;
}


u_char *
sl_pstrdup(sl_pool_t *pool, const sl_str_t *src)
{
    u_char *dst;

    if (src->len == SIZE_MAX) {
        return NULL;
    }

    dst = sl_pnalloc(pool, src->len + 1);
    if (dst == NULL) {
        return NULL;
    }

    if (src->len) {
        memcpy(dst, src->data, src->len);
    }

    dst[src->len] = '\0';

    return dst;
}


/* Numbers */

sl_int_t
sl_atoi(const u_char *line, size_t n)
{
    sl_int_t value, cutoff, cutlim;

    if (n == 0) {
        return SL_ERROR;
    }

    cutoff = SL_MAX_INT_T_VALUE / 10;
    cutlim = SL_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return SL_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return SL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


off_t
sl_atoof(const u_char *line, size_t n)
{
    off_t value, cutoff, cutlim;

    if (n == 0) {
        return SL_ERROR;
    }

    cutoff = SL_MAX_OFF_T_VALUE / 10;
    cutlim = SL_MAX_OFF_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return SL_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return SL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


static sl_int_t
sl_hex_value(u_char ch)
{
    u_char c;

    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    c = (u_char) (ch | 0x20);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


sl_int_t
sl_hextoi(const u_char *line, size_t n)
{
    sl_int_t value, digit, cutoff;

    if (n == 0) {
        return SL_ERROR;
    }

    cutoff = SL_MAX_INT_T_VALUE / 16;

    for (value = 0; n--; line++) {
        digit = sl_hex_value(*line);
        if (digit < 0) {
            return SL_ERROR;
        }

        if (value > cutoff) {
            return SL_ERROR;
        }

        value = value * 16;
        if (value > SL_MAX_INT_T_VALUE - digit) {
            return SL_ERROR;
        }

        value += digit;
    }

    return value;
}


sl_int_t
sl_atofp(const u_char *line, size_t n, size_t point)
{
    sl_int_t value, cutoff, cutlim;
    sl_uint_t dot, digits;

    if (n == 0) {
        return SL_ERROR;
    }

    cutoff = SL_MAX_INT_T_VALUE / 10;
    cutlim = SL_MAX_INT_T_VALUE % 10;
    dot = 0;
    digits = 0;

    for (value = 0; n--; line++) {
        if (*line == '.') {
            if (dot) {
                return SL_ERROR;
            }

            dot = 1;
            continue;
        }

        if (*line < '0' || *line > '9') {
            return SL_ERROR;
        }

        if (dot) {
            /* more fractional digits than the caller keeps */
            if (point == 0) {
                return SL_ERROR;
            }

            point--;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return SL_ERROR;
        }

        value = value * 10 + (*line - '0');
        digits++;
    }

    if (digits == 0) {
        return SL_ERROR;
    }

    while (point--) {
        if (value > cutoff) {
            return SL_ERROR;
        }

        value = value * 10;
    }

    return value;
}


ssize_t
sl_parse_size(const sl_str_t *line)
{
    size_t len;
    ssize_t size, scale, max;

    len = line->len;
    if (len == 0 || line->data == NULL) {
        return SL_ERROR;
    }

    switch (line->data[len - 1]) {
    case 'K':
    case 'k':
        len--;
        scale = 1024;
        break;

    case 'M':
    case 'm':
        len--;
        scale = 1024 * 1024;
        break;

    case 'G':
    case 'g':
        len--;
        scale = 1024 * 1024 * 1024;
        break;

    default:
        scale = 1;
    }

    max = SSIZE_MAX / scale;

    size = sl_atoi(line->data, len);
    if (size == SL_ERROR || size > max) {
        return SL_ERROR;
    }

    return size * scale;
}


off_t
sl_parse_offset(const sl_str_t *line)
{
    size_t len;
    off_t offset, scale, max;

    len = line->len;
    if (len == 0 || line->data == NULL) {
        return SL_ERROR;
    }

    switch (line->data[len - 1]) {
    case 'K':
    case 'k':
        len--;
        scale = 1024;
        break;

    case 'M':
    case 'm':
        len--;
        scale = 1024 * 1024;
        break;

    case 'G':
    case 'g':
        len--;
        scale = 1024 * 1024 * 1024;
        break;

    default:
        scale = 1;
    }

    max = SL_MAX_OFF_T_VALUE / scale;

    offset = sl_atoof(line->data, len);
    if (offset == SL_ERROR || offset > max) {
        return SL_ERROR;
    }

    return offset * scale;
}


sl_int_t
sl_parse_time(const sl_str_t *line, int is_sec)
{
    const u_char *p, *last;
    sl_int_t value, total, scale, cutoff, cutlim;
    sl_uint_t rank, prev_rank, terms;

    if (line->len == 0 || line->data == NULL) {
        return SL_ERROR;
    }

    p = line->data;
    last = p + line->len;
    total = 0;
    terms = 0;
    /* units must come in decreasing order, each at most once: "1h 30m", not "30m 1h" */
    prev_rank = 9;
    cutoff = SL_MAX_INT_T_VALUE / 10;
    cutlim = SL_MAX_INT_T_VALUE % 10;

    for (;;) {
        while (p < last && *p == ' ') {
            p++;
        }

        if (p == last) {
            break;
        }

        if (*p < '0' || *p > '9') {
            return SL_ERROR;
        }

        value = 0;
        while (p < last && *p >= '0' && *p <= '9') {
            if (value >= cutoff && (value > cutoff || *p - '0' > cutlim)) {
                return SL_ERROR;
            }

            value = value * 10 + (*p - '0');
            p++;
        }

        if (p == last || *p == ' ') {
            /* a bare number: only as the last term */
            while (p < last && *p == ' ') {
                p++;
            }

            if (p != last) {
                return SL_ERROR;
            }

            /* a number without a unit is seconds, as in nginx ("keepalive_timeout 65;") */
            rank = 2;
            scale = is_sec ? 1 : 1000;

        } else {
            switch (*p++) {
            case 'y':
                rank = 8;
                scale = 60 * 60 * 24 * 365;
                break;
            case 'M':
                rank = 7;
                scale = 60 * 60 * 24 * 30;
                break;
            case 'w':
                rank = 6;
                scale = 60 * 60 * 24 * 7;
                break;
            case 'd':
                rank = 5;
                scale = 60 * 60 * 24;
                break;
            case 'h':
                rank = 4;
                scale = 60 * 60;
                break;
            case 'm':
                if (p < last && *p == 's') {
                    if (is_sec) {
                        return SL_ERROR;
                    }

                    p++;
                    rank = 1;
                    scale = 1;
                    break;
                }

                rank = 3;
                scale = 60;
                break;
            case 's':
                rank = 2;
                scale = 1;
                break;
            default:
                return SL_ERROR;
            }

            if (!is_sec && rank > 1) {
                scale *= 1000;
            }
        }

        if (rank >= prev_rank) {
            return SL_ERROR;
        }

        prev_rank = rank;

        if (value > SL_MAX_INT_T_VALUE / scale) {
            return SL_ERROR;
        }

        value *= scale;

        if (total > SL_MAX_INT_T_VALUE - value) {
            return SL_ERROR;
        }

        total += value;
        terms++;
    }

    if (terms == 0) {
        return SL_ERROR;
    }

    return total;
}


/* Formatting */

static u_char *
sl_sprintf_num(u_char *buf, u_char *last, uint64_t ui64, int negative, u_char zero,
               sl_uint_t hexadecimal, sl_uint_t width)
{
    u_char tmp[SL_INT64_LEN + 1], *p;
    const u_char *hex;
    size_t len, pad;

    p = tmp + sizeof(tmp);

    if (hexadecimal == 0) {
        do {
            *--p = (u_char) ('0' + ui64 % 10);
            ui64 /= 10;
        } while (ui64);

    } else {
        hex = (hexadecimal == 1) ? sl_hex_lower : sl_hex_upper;

        do {
            *--p = hex[ui64 & 0xf];
            ui64 >>= 4;
        } while (ui64);
    }

    len = (size_t) (tmp + sizeof(tmp) - p);
    pad = (width > len + (negative ? 1 : 0)) ? width - len - (negative ? 1 : 0) : 0;

    if (zero == ' ') {
        while (pad && buf < last) {
            *buf++ = ' ';
            pad--;
        }
    }

    if (negative && buf < last) {
        *buf++ = '-';
    }

    while (pad && buf < last) {
        *buf++ = '0';
        pad--;
    }

    while (len && buf < last) {
        *buf++ = *p++;
        len--;
    }

    return buf;
}


static u_char *
sl_sprintf_bytes(u_char *buf, u_char *last, const u_char *src, size_t len)
{
    size_t room;

    if (buf >= last || len == 0) {
        return buf;
    }

    room = (size_t) ((uintptr_t) last - (uintptr_t) buf);
    if (len > room) {
        len = room;
    }

    memcpy(buf, src, len);

    return buf + len;
}


u_char *
sl_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    u_char zero, *p;
    const sl_str_t *v;
    size_t slen;
    int64_t i64;
    uint64_t ui64;
    sl_msec_t ms;
    sl_uint_t width, sign, hex, star, negative;

    while (*fmt && buf < last) {
        if (*fmt != '%') {
            *buf++ = (u_char) *fmt++;
            continue;
        }

        fmt++;

        zero = (u_char) ((*fmt == '0') ? '0' : ' ');
        width = 0;
        sign = 1;
        hex = 0;
        star = 0;
        slen = 0;
        i64 = 0;
        ui64 = 0;

        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (sl_uint_t) (*fmt++ - '0');
            if (width > SL_MAX_PRINTF_WIDTH) {
                width = SL_MAX_PRINTF_WIDTH;
            }
        }

        for (;;) {
            switch (*fmt) {
            case 'u':
                sign = 0;
                fmt++;
                continue;
            case 'x':
                hex = 1;
                sign = 0;
                fmt++;
                continue;
            case 'X':
                hex = 2;
                sign = 0;
                fmt++;
                continue;
            case '*':
                slen = va_arg(args, size_t);
                star = 1;
                fmt++;
                continue;
            default:
                break;
            }

            break;
        }

        switch (*fmt) {
        case '\0':
            return buf;

        case 'V':
            v = va_arg(args, const sl_str_t *);
            if (v != NULL) {
                buf = sl_sprintf_bytes(buf, last, v->data, v->len);
            }
            fmt++;
            continue;

        case 's':
            p = va_arg(args, u_char *);
            if (p == NULL) {
                p = (u_char *) "(null)";
                star = 0;
            }

            if (star) {
                buf = sl_sprintf_bytes(buf, last, p, slen);

            } else {
                while (*p && buf < last) {
                    *buf++ = *p++;
                }
            }
            fmt++;
            continue;

        case 'c':
            *buf++ = (u_char) va_arg(args, int);
            fmt++;
            continue;

        case '%':
            *buf++ = '%';
            fmt++;
            continue;

        case 'd':
            if (sign) {
                i64 = (int64_t) va_arg(args, int);
            } else {
                ui64 = (uint64_t) va_arg(args, unsigned int);
            }
            break;

        case 'l':
            if (sign) {
                i64 = (int64_t) va_arg(args, long);
            } else {
                ui64 = (uint64_t) va_arg(args, unsigned long);
            }
            break;

        case 'i':
            if (sign) {
                i64 = (int64_t) va_arg(args, sl_int_t);
            } else {
                ui64 = (uint64_t) va_arg(args, sl_uint_t);
            }
            break;

        case 'z':
            if (sign) {
                i64 = (int64_t) va_arg(args, ssize_t);
            } else {
                ui64 = (uint64_t) va_arg(args, size_t);
            }
            break;

        case 'O':
            i64 = (int64_t) va_arg(args, off_t);
            if (!sign) {
                ui64 = (uint64_t) i64;
            }
            break;

        case 'T':
            i64 = (int64_t) va_arg(args, time_t);
            if (!sign) {
                ui64 = (uint64_t) i64;
            }
            break;

        case 'L':
            if (sign) {
                i64 = va_arg(args, int64_t);
            } else {
                ui64 = va_arg(args, uint64_t);
            }
            break;

        case 'M':
            ms = va_arg(args, sl_msec_t);
            /* the "unset" value (sl_msec_t) -1 reads better as -1 */
            if ((sl_msec_int_t) ms == -1 && hex == 0) {
                sign = 1;
                i64 = -1;
            } else {
                sign = 0;
                ui64 = (uint64_t) ms;
            }
            break;

        case 'p':
            ui64 = (uint64_t) (uintptr_t) va_arg(args, void *);
            sign = 0;
            hex = (hex == 2) ? 2 : 1;
            zero = '0';
            width = 2 * sizeof(void *);
            break;

        default:
            *buf++ = (u_char) *fmt++;
            continue;
        }

        negative = 0;

        if (sign) {
            if (i64 < 0) {
                negative = 1;
                ui64 = (uint64_t) 0 - (uint64_t) i64;
            } else {
                ui64 = (uint64_t) i64;
            }
        }

        buf = sl_sprintf_num(buf, last, ui64, (int) negative, zero, hex, width);
        fmt++;
    }

    return buf;
}


u_char *
sl_sprintf(u_char *buf, const char *fmt, ...)
{
    u_char *p;
    va_list args;

    va_start(args, fmt);
    /* unbounded by contract: the caller sized buf */
    p = sl_vslprintf(buf, (u_char *) UINTPTR_MAX, fmt, args);
    va_end(args);

    return p;
}


u_char *
sl_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    u_char *p;
    va_list args;

    va_start(args, fmt);
    p = sl_vslprintf(buf, buf + max, fmt, args);
    va_end(args);

    return p;
}


u_char *
sl_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char *p;
    va_list args;

    va_start(args, fmt);
    p = sl_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


/* Escaping */

static int
sl_uri_needs_escape(u_char c, sl_uint_t type)
{
    /* every type escapes controls, DEL and bytes with the high bit */
    if (c <= 0x20 || c >= 0x7f) {
        return 1;
    }

    switch (type) {
    case SL_ESCAPE_URI:
        return c == '#' || c == '%' || c == '?';

    case SL_ESCAPE_ARGS:
        return c == '#' || c == '%' || c == '&' || c == '+' || c == ';' || c == '?';

    case SL_ESCAPE_HTML:
        return c == '"' || c == '#' || c == '%' || c == '\'';

    case SL_ESCAPE_REFRESH:
        return c == '"' || c == '\'';

    default:
        /* SL_ESCAPE_URI_COMPONENT, and the strictest choice for an unknown type */
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            return 0;
        }

        return !(c == '-' || c == '.' || c == '_' || c == '~');
    }
}


uintptr_t
sl_escape_uri(u_char *dst, const u_char *src, size_t size, sl_uint_t type)
{
    uintptr_t n;

    if (dst == NULL) {
        n = 0;

        while (size) {
            if (sl_uri_needs_escape(*src, type)) {
                n++;
            }

            src++;
            size--;
        }

        return n;
    }

    while (size) {
        if (sl_uri_needs_escape(*src, type)) {
            *dst++ = '%';
            *dst++ = sl_hex_upper[*src >> 4];
            *dst++ = sl_hex_upper[*src & 0xf];

        } else {
            *dst++ = *src;
        }

        src++;
        size--;
    }

    return (uintptr_t) dst;
}


size_t
sl_escape_html(u_char *dst, const u_char *src, size_t size)
{
    size_t len;
    const char *entity;

    if (dst == NULL) {
        len = 0;

        while (size) {
            switch (*src) {
            case '<':
            case '>':
                len += sizeof("&lt;") - 2;
                break;
            case '&':
                len += sizeof("&amp;") - 2;
                break;
            case '"':
                len += sizeof("&quot;") - 2;
                break;
            default:
                break;
            }

            src++;
            size--;
        }

        return len;
    }

    while (size) {
        switch (*src) {
        case '<':
            entity = "&lt;";
            break;
        case '>':
            entity = "&gt;";
            break;
        case '&':
            entity = "&amp;";
            break;
        case '"':
            entity = "&quot;";
            break;
        default:
            entity = NULL;
            break;
        }

        if (entity) {
            while (*entity) {
                *dst++ = (u_char) *entity++;
            }

        } else {
            *dst++ = *src;
        }

        src++;
        size--;
    }

    return (size_t) (uintptr_t) dst;
}


uintptr_t
sl_escape_json(u_char *dst, const u_char *src, size_t size)
{
    uintptr_t len;

    if (dst == NULL) {
        len = 0;

        while (size) {
            if (*src == '"' || *src == '\\') {
                len++;

            } else if (*src < 0x20) {
                len += sizeof("\\u001f") - 2;
            }

            src++;
            size--;
        }

        return len;
    }

    while (size) {
        if (*src == '"' || *src == '\\') {
            *dst++ = '\\';
            *dst++ = *src;

        } else if (*src < 0x20) {
            *dst++ = '\\';
            *dst++ = 'u';
            *dst++ = '0';
            *dst++ = '0';
            *dst++ = sl_hex_lower[*src >> 4];
            *dst++ = sl_hex_lower[*src & 0xf];

        } else {
            *dst++ = *src;
        }

        src++;
        size--;
    }

    return (uintptr_t) dst;
}


sl_int_t
sl_unescape_uri(u_char **dst, u_char **src, size_t size)
{
    u_char *d, *s;
    sl_int_t hi, lo, rc;

    d = *dst;
    s = *src;
    rc = SL_OK;

    while (size) {
        if (*s != '%') {
            *d++ = *s++;
            size--;
            continue;
        }

        if (size < 3) {
            rc = SL_ERROR;
            break;
        }

        hi = sl_hex_value(s[1]);
        lo = sl_hex_value(s[2]);

        if (hi < 0 || lo < 0) {
            rc = SL_ERROR;
            break;
        }

        *d++ = (u_char) ((hi << 4) | lo);
        s += 3;
        size -= 3;
    }

    *dst = d;
    *src = s;

    return rc;
}


void
sl_hex_dump(u_char *dst, const u_char *src, size_t len)
{
    while (len--) {
        *dst++ = sl_hex_lower[*src >> 4];
        *dst++ = sl_hex_lower[*src & 0xf];
        src++;
    }
}


/* HTTP dates */

u_char *
sl_http_time(u_char *buf, time_t t)
{
    struct tm tm;

    if (t < 0) {
        t = 0;
    }

    if (t > SL_MAX_HTTP_TIME) {
        t = SL_MAX_HTTP_TIME;
    }

    if (gmtime_r(&t, &tm) == NULL) {
        sl_memzero(&tm, sizeof(struct tm));
        tm.tm_mday = 1;
        tm.tm_year = 70;
        tm.tm_wday = 4;
    }

    return sl_sprintf(buf, "%s, %02d %s %4d %02d:%02d:%02d GMT", sl_week_names[tm.tm_wday],
                      tm.tm_mday, sl_month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                      tm.tm_min, tm.tm_sec);
}


/* Days since 1970-01-01 of a proleptic Gregorian date (year >= 1970, month 1..12). */
static int64_t
sl_days_from_civil(int64_t year, int64_t month, int64_t day)
{
    int64_t era, yoe, doy, doe;

    year -= (month <= 2);
    era = year / 400;
    yoe = year - era * 400;
    doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


static sl_int_t
sl_parse_digits(const u_char **pp, const u_char *end, size_t n)
{
    const u_char *p;
    sl_int_t value;

    p = *pp;

    if ((size_t) (end - p) < n) {
        return -1;
    }

    for (value = 0; n; n--, p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }

        value = value * 10 + (*p - '0');
    }

    *pp = p;

    return value;
}


static sl_int_t
sl_parse_month(const u_char **pp, const u_char *end)
{
    sl_int_t i;

    if (end - *pp < 3) {
        return -1;
    }

    for (i = 0; i < 12; i++) {
        if (sl_mem_caseeq(*pp, (const u_char *) sl_month_names[i], 3)) {
            *pp += 3;
            return i + 1;
        }
    }

    return -1;
}


static int
sl_parse_char(const u_char **pp, const u_char *end, u_char c)
{
    if (*pp < end && **pp == c) {
        (*pp)++;
        return 1;
    }

    return 0;
}


time_t
sl_parse_http_time(const u_char *value, size_t len)
{
    const u_char *p, *end;
    sl_int_t day, month, year, hour, min, sec;
    static const sl_int_t mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int asctime;

    if (value == NULL) {
        return -1;
    }

    p = value;
    end = value + len;

    /* the weekday name is skipped, not cross-checked, as every server does */
    while (p < end && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
        p++;
    }

    if (p - value < 3) {
        return -1;
    }

    asctime = 0;
    year = -1;

    if (sl_parse_char(&p, end, ',')) {
        /* "Sun, 06 Nov 1994 08:49:37 GMT" or "Sunday, 06-Nov-94 08:49:37 GMT" */
        if (!sl_parse_char(&p, end, ' ')) {
            return -1;
        }

        day = sl_parse_digits(&p, end, 2);
        if (day < 0) {
            return -1;
        }

        if (sl_parse_char(&p, end, ' ')) {
            month = sl_parse_month(&p, end);
            if (month < 0 || !sl_parse_char(&p, end, ' ')) {
                return -1;
            }

            year = sl_parse_digits(&p, end, 4);

        } else if (sl_parse_char(&p, end, '-')) {
            month = sl_parse_month(&p, end);
            if (month < 0 || !sl_parse_char(&p, end, '-')) {
                return -1;
            }

            year = sl_parse_digits(&p, end, 2);
            if (year >= 0) {
                year += (year < 70) ? 2000 : 1900;
            }

        } else {
            return -1;
        }

        if (year < 0 || !sl_parse_char(&p, end, ' ')) {
            return -1;
        }

    } else if (sl_parse_char(&p, end, ' ')) {
        /* "Sun Nov  6 08:49:37 1994" */
        asctime = 1;

        month = sl_parse_month(&p, end);
        if (month < 0 || !sl_parse_char(&p, end, ' ')) {
            return -1;
        }

        if (sl_parse_char(&p, end, ' ')) {
            day = sl_parse_digits(&p, end, 1);
        } else {
            day = sl_parse_digits(&p, end, 2);
        }

        if (day < 0 || !sl_parse_char(&p, end, ' ')) {
            return -1;
        }

    } else {
        return -1;
    }

    hour = sl_parse_digits(&p, end, 2);
    if (hour < 0 || !sl_parse_char(&p, end, ':')) {
        return -1;
    }

    min = sl_parse_digits(&p, end, 2);
    if (min < 0 || !sl_parse_char(&p, end, ':')) {
        return -1;
    }

    sec = sl_parse_digits(&p, end, 2);
    if (sec < 0) {
        return -1;
    }

    if (asctime) {
        if (!sl_parse_char(&p, end, ' ')) {
            return -1;
        }

        year = sl_parse_digits(&p, end, 4);
        if (year < 0) {
            return -1;
        }

    } else {
        if (end - p < 4 || memcmp(p, " GMT", 4) != 0) {
            return -1;
        }

        p += 4;
    }

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p != end) {
        return -1;
    }

    if (year < 1970 || hour > 23 || min > 59 || sec > 59 || day < 1 || day > mdays[month - 1]) {
        return -1;
    }

    if (month == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) {
        return -1;
    }

    return (time_t) (sl_days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec);
}
