/*
 * sl_regex.c: compile and match with PCRE2. The match data and the JIT
 * stack are per process (workers are single-threaded) and only ever grow,
 * so a request never allocates for a match once the largest pattern ran.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_regex.h"

#define SL_REGEX_JIT_STACK_MIN (32 * 1024)
#define SL_REGEX_JIT_STACK_MAX (1024 * 1024)

static void sl_regex_cleanup(void *data);
static sl_int_t sl_regex_match_init(uint32_t pairs);

static pcre2_match_data *sl_regex_match_data;
static uint32_t sl_regex_match_data_size;
static pcre2_match_context *sl_regex_match_context;
static pcre2_jit_stack *sl_regex_jit_stack;

sl_int_t
sl_regex_compile(sl_regex_compile_t *rc)
{
    int errcode;
    u_char errstr[128], *last;
    uint32_t options, n;
    PCRE2_SIZE erroff;
    pcre2_code *code;
    sl_regex_t *re;
    sl_pool_cleanup_t *cln;

    options = 0;

    if (rc->options & SL_REGEX_CASELESS) {
        options |= PCRE2_CASELESS;
    }

    code = pcre2_compile(rc->pattern.len ? rc->pattern.data : (u_char *) "", rc->pattern.len,
                         options, &errcode, &erroff, NULL);

    if (code == NULL) {
        if (pcre2_get_error_message(errcode, errstr, sizeof(errstr)) < 0) {
            sl_cpystrn(errstr, (u_char *) "unknown error", sizeof(errstr));
        }

        if (erroff > rc->pattern.len) {
            erroff = rc->pattern.len;
        }

        last = sl_snprintf(rc->err_buf, sizeof(rc->err_buf),
                           "pcre2_compile() failed: %s in \"%V\" at \"%*s\"", errstr, &rc->pattern,
                           (size_t) (rc->pattern.len - erroff), rc->pattern.data + erroff);

        rc->err.data = rc->err_buf;
        rc->err.len = last - rc->err_buf;

        return SL_ERROR;
    }

    cln = sl_pool_cleanup_add(rc->pool, 0);
    if (cln == NULL) {
        pcre2_code_free(code);
        goto nomem;
    }

    cln->handler = sl_regex_cleanup;
    cln->data = code;

    /* without JIT the interpreter still works: a failure here costs only speed */
    (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);

    re = sl_pcalloc(rc->pool, sizeof(sl_regex_t));
    if (re == NULL) {
        goto nomem;
    }

    re->code = code;

    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n) != 0) {
        goto info_failed;
    }

    re->captures = n;

    if (pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &n) != 0) {
        goto info_failed;
    }

    re->named_captures = n;

    if (n) {
        if (pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &n) != 0
            || pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &re->names) != 0) {
            goto info_failed;
        }

        re->name_size = n;
    }

    rc->regex = re;
    rc->captures = re->captures;
    rc->named_captures = re->named_captures;
    rc->name_size = re->name_size;
    rc->names = re->names;

    return SL_OK;

info_failed:

    last = sl_snprintf(rc->err_buf, sizeof(rc->err_buf), "pcre2_pattern_info() failed for \"%V\"",
                       &rc->pattern);
    rc->err.data = rc->err_buf;
    rc->err.len = last - rc->err_buf;

    return SL_ERROR;

nomem:

    last = sl_snprintf(rc->err_buf, sizeof(rc->err_buf), "out of memory compiling regex \"%V\"",
                       &rc->pattern);
    rc->err.data = rc->err_buf;
    rc->err.len = last - rc->err_buf;

    return SL_ERROR;
}

sl_int_t
sl_regex_exec(sl_regex_t *re, const sl_str_t *s, int *captures, sl_uint_t size)
{
    int rc;
    u_char *subject;
    uint32_t pairs;
    sl_uint_t i, n;
    PCRE2_SIZE *ov;

    if (s->len > INT_MAX) {
        return SL_ERROR;
    }

    /* room for every group, so PCRE2 never truncates the offsets it reports */
    pairs = (uint32_t) re->captures + 1;

    if (sl_regex_match_init(pairs) != SL_OK) {
        return SL_ERROR;
    }

    subject = s->len ? s->data : (u_char *) "";

    rc = pcre2_match(re->code, subject, s->len, 0, 0, sl_regex_match_data, sl_regex_match_context);

    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        /*
         * deep backtracking over a long subject outgrew the JIT stack; the
         * interpreter keeps its frames on the heap (bounded by PCRE2's heap
         * and match limits) and often gets through
         */
        rc = pcre2_match(re->code, subject, s->len, 0, PCRE2_NO_JIT, sl_regex_match_data,
                         sl_regex_match_context);
    }

    if (rc == PCRE2_ERROR_NOMATCH) {
        return SL_REGEX_NO_MATCHED;
    }

    if (rc <= 0) {
        return SL_ERROR;
    }

    n = sl_min((sl_uint_t) rc, size / 2);
    ov = pcre2_get_ovector_pointer(sl_regex_match_data);

    for (i = 0; i < n; i++) {
        if (ov[2 * i] == PCRE2_UNSET) {
            captures[2 * i] = -1;
            captures[2 * i + 1] = -1;

        } else {
            captures[2 * i] = (int) ov[2 * i];
            captures[2 * i + 1] = (int) ov[2 * i + 1];
        }
    }

    return rc;
}

/* Makes sure the process's match data holds pairs offset pairs. */
static sl_int_t
sl_regex_match_init(uint32_t pairs)
{
    if (sl_regex_match_context == NULL) {
        sl_regex_match_context = pcre2_match_context_create(NULL);
        if (sl_regex_match_context == NULL) {
            return SL_ERROR;
        }

        sl_regex_jit_stack =
            pcre2_jit_stack_create(SL_REGEX_JIT_STACK_MIN, SL_REGEX_JIT_STACK_MAX, NULL);

        /* NULL keeps PCRE2's default 32 KB stack on the machine stack */
        pcre2_jit_stack_assign(sl_regex_match_context, NULL, sl_regex_jit_stack);
    }

    if (sl_regex_match_data && sl_regex_match_data_size >= pairs) {
        return SL_OK;
    }

    if (sl_regex_match_data) {
        pcre2_match_data_free(sl_regex_match_data);
        sl_regex_match_data = NULL;
    }

    if (pairs < 16) {
        pairs = 16;
    }

    sl_regex_match_data = pcre2_match_data_create(pairs, NULL);
    if (sl_regex_match_data == NULL) {
        sl_regex_match_data_size = 0;
        return SL_ERROR;
    }

    sl_regex_match_data_size = pairs;

    return SL_OK;
}

static void
sl_regex_cleanup(void *data)
{
    pcre2_code_free(data);
}
