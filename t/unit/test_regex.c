/*
 * test_regex.c: PCRE2 compile and match: captures, unset groups, caseless,
 * the named-capture table, compile errors, no match, small capture arrays,
 * and a JIT-friendly pattern over a 1 MB subject.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_regex.h"
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

static sl_regex_t *
compile(sl_pool_t *pool, const char *pattern, sl_uint_t options, sl_regex_compile_t *rc)
{
    sl_memzero(rc, sizeof(sl_regex_compile_t));
    rc->pattern.len = strlen(pattern);
    rc->pattern.data = (u_char *) pattern;
    rc->pool = pool;
    rc->options = options;

    if (sl_regex_compile(rc) != SL_OK) {
        printf("# %.*s\n", (int) rc->err.len, rc->err.data);
        return NULL;
    }

    return rc->regex;
}

static sl_int_t
exec(sl_regex_t *re, const char *subject, int *captures, sl_uint_t size)
{
    sl_str_t s;

    s.len = strlen(subject);
    s.data = (u_char *) subject;

    return sl_regex_exec(re, &s, captures, size);
}

static void
test_captures(sl_pool_t *pool)
{
    int cap[30];
    sl_regex_t *re;
    sl_regex_compile_t rc;

    re = compile(pool, "^/api/(v[0-9]+)/users/([0-9]+)(?:/(edit))?$", 0, &rc);
    ok(re != NULL, "route pattern compiles");
    if (re == NULL) {
        return;
    }

    is_int(rc.captures, 3, "three capturing groups");
    is_int(re->captures, 3, "also on the regex");
    is_int(rc.named_captures, 0, "no named groups");

    is_int(exec(re, "/api/v2/users/42/edit", cap, 30), 4, "match sets 4 pairs");
    ok(cap[0] == 0 && cap[1] == 21, "whole match 0..21");
    ok(cap[2] == 5 && cap[3] == 7, "$1 = v2 at 5..7");
    ok(cap[4] == 14 && cap[5] == 16, "$2 = 42 at 14..16");
    ok(cap[6] == 17 && cap[7] == 21, "$3 = edit");

    memset(cap, 0x55, sizeof(cap));
    is_int(exec(re, "/api/v10/users/7", cap, 30), 3, "an unset trailing group is not counted");
    ok(cap[2] == 5 && cap[3] == 8 && cap[4] == 15 && cap[5] == 16, "$1 and $2 set");

    /* an unset group in the middle reads -1, -1 */
    re = compile(pool, "(a)|(b)", 0, &rc);
    is_int(exec(re, "b", cap, 30), 3, "(a)|(b) on \"b\" sets 3 pairs");
    ok(cap[2] == -1 && cap[3] == -1, "the unset group reads -1, -1");
    ok(cap[4] == 0 && cap[5] == 1, "the set group reads 0..1");

    /* fewer slots than pairs: only the first are written, the count stays true */
    re = compile(pool, "(x)(y)(z)", 0, &rc);
    cap[2] = 12345;
    is_int(exec(re, "__xyz", cap, 2), 4, "with room for one pair the count is still 4");
    ok(cap[0] == 2 && cap[1] == 5 && cap[2] == 12345, "only the first pair is written");
    is_int(exec(re, "xyz", NULL, 0), 4, "captures may be NULL with size 0");
    is_int(exec(re, "xy", NULL, 0), SL_REGEX_NO_MATCHED, "no match");
    is_int(exec(re, "", cap, 30), SL_REGEX_NO_MATCHED, "empty subject: no match");

    /* a pattern with more groups than the match data had so far grows it */
    re = compile(pool, "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)", 0, &rc);
    is_int(rc.captures, 20, "20 groups");
    is_int(exec(re, "abcdefghijklmnopqrst", cap, 30), 21, "21 pairs reported");
    ok(cap[28] == 13 && cap[29] == 14, "pair 14 (n) written, the rest cut at size");
}

static void
test_caseless(sl_pool_t *pool)
{
    int cap[6];
    sl_regex_t *re;
    sl_regex_compile_t rc;

    re = compile(pool, "\\.(jpg|png)$", 0, &rc);
    is_int(exec(re, "/a/B.PNG", cap, 6), SL_REGEX_NO_MATCHED, "case-sensitive by default");

    re = compile(pool, "\\.(jpg|png)$", SL_REGEX_CASELESS, &rc);
    is_int(exec(re, "/a/B.PNG", cap, 6), 2, "SL_REGEX_CASELESS matches uppercase");
    ok(cap[2] == 5 && cap[3] == 8, "capture of PNG");

    /* a NUL byte inside the subject is just a byte: strings are counted */
    {
        sl_str_t s;

        s.data = (u_char *) "x\0.jpg";
        s.len = 6;
        is_int(sl_regex_exec(re, &s, cap, 6), 2, "NUL inside the subject does not end it");
    }
}

static void
test_named(sl_pool_t *pool)
{
    int cap[30];
    sl_uint_t i, group[3];
    const char *name[3];
    sl_regex_t *re;
    sl_regex_compile_t rc;

    re = compile(pool, "^(?<year>\\d{4})-(?<month>\\d\\d)-(\\d\\d)(?<tail>.*)$", 0, &rc);
    ok(re != NULL, "named pattern compiles");
    if (re == NULL) {
        return;
    }

    is_int(rc.captures, 4, "four groups");
    is_int(rc.named_captures, 3, "three named");
    ok(rc.name_size >= 2 + sizeof("month"), "entry size holds the longest name (%zu)",
       rc.name_size);
    ok(rc.names == re->names && rc.name_size == re->name_size
           && rc.named_captures == re->named_captures,
       "rc and regex agree");

    for (i = 0; i < 3; i++) {
        name[i] = (const char *) sl_regex_name(rc.names, rc.name_size, i);
        group[i] = sl_regex_name_group(rc.names, rc.name_size, i);
    }

    /* PCRE2 sorts the table by name */
    ok(strcmp(name[0], "month") == 0 && group[0] == 2, "entry 0: month is group 2");
    ok(strcmp(name[1], "tail") == 0 && group[1] == 4, "entry 1: tail is group 4");
    ok(strcmp(name[2], "year") == 0 && group[2] == 1, "entry 2: year is group 1");
    is_int(rc.names[0], 0, "group numbers are big-endian (high byte 0)");

    is_int(exec(re, "2026-11-29T09:00", cap, 30), 5, "date matches");
    ok(cap[2 * group[2]] == 0 && cap[2 * group[2] + 1] == 4, "year by its group number");
    ok(cap[2 * group[1]] == 10 && cap[2 * group[1] + 1] == 16, "tail by its group number");
}

static void
test_errors(sl_pool_t *pool)
{
    sl_regex_compile_t rc;

    ok(compile(pool, "(a", 0, &rc) == NULL, "\"(a\" does not compile");
    ok(rc.err.data == rc.err_buf, "the error text is in err_buf");
    ok(rc.err.len > 0 && rc.err.len < sizeof(rc.err_buf), "and fits it");
    ok(rc.err.len > sizeof("pcre2_compile() failed: ")
           && memcmp(rc.err.data,
                     "pcre2_compile() failed: missing closing parenthesis in \"(a\" at \"\"",
                     rc.err.len)
                  == 0,
       "error text: %.*s", (int) rc.err.len, rc.err.data);

    ok(compile(pool, "a[b-", 0, &rc) == NULL, "\"a[b-\" does not compile");
    ok(rc.err.len > 0 && sl_strnstr(rc.err.data, rc.err.len, "in \"a[b-\" at \"", 14) != NULL,
       "error names the pattern and where: %.*s", (int) rc.err.len, rc.err.data);

    ok(compile(pool, "ab)cd", 0, &rc) == NULL, "\"ab)cd\" does not compile");
    ok(sl_strnstr(rc.err.data, rc.err.len, "at \")cd\"", 8) != NULL,
       "the offset points at the bad byte: %.*s", (int) rc.err.len, rc.err.data);

    ok(compile(pool, "x{2,1}", 0, &rc) == NULL, "x{2,1} does not compile");
    ok(compile(pool, "(?<n>a)(?<n>b)", 0, &rc) == NULL, "duplicate group names refused");

    /* a very long pattern: the message is cut to the buffer, never past it */
    {
        char *big;

        big = malloc(5001);
        memset(big, 'a', 5000);
        big[0] = '(';
        big[5000] = '\0';
        ok(compile(pool, big, 0, &rc) == NULL, "a 5000-byte broken pattern fails");
        ok(rc.err.len <= sizeof(rc.err_buf), "its message fits err_buf (%zu bytes)", rc.err.len);
        free(big);
    }

    ok(compile(pool, "", 0, &rc) != NULL, "the empty pattern compiles");
    is_int(exec(rc.regex, "anything", NULL, 0), 1, "and matches anything");
}

static void
test_big_subject(sl_pool_t *pool)
{
    int cap[6];
    uint32_t jit;
    size_t len;
    u_char *subject;
    sl_str_t s;
    sl_regex_t *re;
    sl_regex_compile_t rc;

    len = 1024 * 1024;
    subject = malloc(len);
    ok(subject != NULL, "1 MB subject");
    if (subject == NULL) {
        return;
    }

    memset(subject, 'a', len);
    memcpy(subject + len - 40, "user=bob@example.com;", 21);

    if (pcre2_config(PCRE2_CONFIG_JIT, &jit) != 0) {
        jit = 0;
    }
    printf("# PCRE2 JIT %s\n", jit ? "available" : "not available");

    re = compile(pool, "([a-z0-9._%+-]+)@([a-z0-9.-]+\\.[a-z]{2,})", 0, &rc);
    ok(re != NULL, "e-mail pattern compiles");
    if (re == NULL) {
        free(subject);
        return;
    }

    s.data = subject;
    s.len = len;

    is_int(sl_regex_exec(re, &s, cap, 6), 3, "found near the end of 1 MB");
    ok(cap[2] < (int) len - 30 && cap[3] == (int) (len - 40 + 8), "$1 ends before the @");
    ok(cap[5] - cap[4] == 11 && memcmp(subject + cap[4], "example.com", 11) == 0,
       "$2 is example.com");

    re = compile(pool, "(?i)(union|select|insert|drop)\\s+(all\\s+)?[a-z*]+", 0, &rc);
    memset(subject, 'a', len);
    is_int(sl_regex_exec(re, &s, cap, 6), SL_REGEX_NO_MATCHED,
           "WAF-like alternation over 1 MB: no match");
    memcpy(subject + len - 20, "UNION  ALL SELECT", 17);
    is_int(sl_regex_exec(re, &s, cap, 6), 3, "and it finds the injection at the end");
    ok(cap[0] == (int) len - 20 && cap[3] == (int) len - 15, "$1 is UNION");

    re = compile(pool, "^[ab]*c$", 0, &rc);
    memset(subject, 'a', len);
    is_int(sl_regex_exec(re, &s, cap, 6), SL_REGEX_NO_MATCHED, "^[ab]*c$ over 1 MB of a: no match");
    subject[len - 1] = 'c';
    is_int(sl_regex_exec(re, &s, cap, 6), 1, "with the final c: one pair");
    ok(cap[0] == 0 && cap[1] == (int) len, "covering the whole megabyte");

    /* one backtracking frame per byte outgrows the JIT stack; the interpreter finishes it */
    re = compile(pool, "^(?:a|b)*c$", 0, &rc);
    is_int(sl_regex_exec(re, &s, cap, 6), 1, "^(?:a|b)*c$ over 1 MB still matches");
    ok(cap[0] == 0 && cap[1] == (int) len, "whole subject");
    subject[len - 1] = 'a';
    ok(sl_regex_exec(re, &s, cap, 6) < 0, "without the c: no match or a limit, never a crash");

    /* catastrophic backtracking hits a limit and reports an error, never hangs */
    re = compile(pool, "^(a+)+$", 0, &rc);
    s.len = 64;
    subject[63] = 'b';
    ok(sl_regex_exec(re, &s, cap, 6) < 0, "exponential pattern ends (no match or limit)");

    free(subject);
}

int
main(void)
{
    sl_pool_t *pool;

    pool = sl_create_pool(SL_DEFAULT_POOL_SIZE, NULL);
    ok(pool != NULL, "pool created");
    if (pool == NULL) {
        return sl_tap_done();
    }

    test_captures(pool);
    test_caseless(pool);
    test_named(pool);
    test_errors(pool);
    test_big_subject(pool);

    /* the cleanups free every compiled pattern (ASan reports a leak otherwise) */
    sl_destroy_pool(pool);

    return sl_tap_done();
}
