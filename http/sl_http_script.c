/*
 * sl_http_script.c: complex values and the script engine.
 *
 * A value such as "/img/$1?u=${arg_u}x" compiles into two programs: one
 * whose codes return the length of each part, one whose codes copy the
 * parts into a buffer of that length. The rewrite module compiles its
 * directives into one program of the same codes plus stack codes (push a
 * value, compare, set a variable), run once per request by the engine.
 */

#include "sl_core.h"
#include "sl_http.h"

typedef struct {
    sl_http_script_code_pt code;
    uintptr_t len;
    u_char *data;
} sl_http_script_full_name_code_t;

static uintptr_t sl_http_script_exit_code = (uintptr_t) NULL;
static sl_http_variable_value_t sl_http_script_true_value = { 1, 1, 0, 0, 0, (u_char *) "1" };
static sl_http_variable_value_t sl_http_script_null_value = { 0, 1, 0, 0, 0, (u_char *) "" };

static size_t sl_http_script_full_name_len_code(sl_http_script_engine_t *e);
static void sl_http_script_full_name_code(sl_http_script_engine_t *e);
static void sl_http_script_zero_code(sl_http_script_engine_t *e);

/* Code arrays ------------------------------------------------------------ */

void *
sl_http_script_add_code(sl_array_t *codes, size_t size)
{
    u_char *p;
    size_t nalloc;

    size = sl_align(size, sizeof(uintptr_t));

    if (codes->nelts + size > codes->nalloc) {
        nalloc = 2 * codes->nalloc;
        if (nalloc < codes->nelts + size) {
            nalloc = codes->nelts + size;
        }
        nalloc = sl_align(nalloc, sizeof(uintptr_t));
        /* sl_palloc is aligned, so every code stays pointer-aligned */
        p = sl_palloc(codes->pool, nalloc);
        if (p == NULL) {
            return NULL;
        }
        if (codes->nelts) {
            sl_memcpy(p, codes->elts, codes->nelts);
        }
        codes->elts = p;
        codes->nalloc = nalloc;
    }

    p = (u_char *) codes->elts + codes->nelts;
    codes->nelts += size;
    return p;
}

void *
sl_http_script_start_code(sl_pool_t *pool, sl_array_t **codes, size_t size)
{
    if (*codes == NULL) {
        *codes = sl_array_create(pool, 64, 1);
        if (*codes == NULL) {
            return NULL;
        }
    }
    return sl_http_script_add_code(*codes, size);
}

sl_uint_t
sl_http_script_variables_count(sl_str_t *value)
{
    sl_uint_t i, n;

    for (n = 0, i = 0; i < value->len; i++) {
        if (value->data[i] == '$') {
            n++;
        }
    }
    return n;
}

/* Compiler --------------------------------------------------------------- */

static sl_int_t
sl_http_script_add_copy_code(sl_http_script_compile_t *sc, sl_str_t *text)
{
    u_char *p;
    sl_http_script_copy_code_t *code;

    code = sl_http_script_add_code(*sc->lengths, sizeof(sl_http_script_copy_code_t));
    if (code == NULL) {
        return SL_ERROR;
    }
    code->code = sl_http_script_len_code(sl_http_script_copy_len_code);
    code->len = text->len;

    code = sl_http_script_add_code(*sc->values, sizeof(sl_http_script_copy_code_t) + text->len);
    if (code == NULL) {
        return SL_ERROR;
    }
    code->code = sl_http_script_copy_code;
    code->len = text->len;
    p = (u_char *) code + sizeof(sl_http_script_copy_code_t);
    if (text->len) {
        sl_memcpy(p, text->data, text->len);
    }
    sc->size += text->len;
    return SL_OK;
}

static sl_int_t
sl_http_script_add_var_code(sl_http_script_compile_t *sc, sl_str_t *name)
{
    sl_int_t index;
    sl_uint_t *p;
    sl_http_script_var_code_t *code;

    index = sl_http_get_variable_index(sc->cf, name);
    if (index == SL_ERROR) {
        return SL_ERROR;
    }

    if (sc->flushes) {
        p = sl_array_push(*sc->flushes);
        if (p == NULL) {
            return SL_ERROR;
        }
        *p = (sl_uint_t) index;
    }

    code = sl_http_script_add_code(*sc->lengths, sizeof(sl_http_script_var_code_t));
    if (code == NULL) {
        return SL_ERROR;
    }
    code->code = sl_http_script_len_code(sl_http_script_copy_var_len_code);
    code->index = (uintptr_t) index;

    code = sl_http_script_add_code(*sc->values, sizeof(sl_http_script_var_code_t));
    if (code == NULL) {
        return SL_ERROR;
    }
    code->code = sl_http_script_copy_var_code;
    code->index = (uintptr_t) index;

    sc->variables++;
    return SL_OK;
}

static sl_int_t
sl_http_script_add_capture_code(sl_http_script_compile_t *sc, sl_uint_t n)
{
    sl_http_script_copy_capture_code_t *code;

    code = sl_http_script_add_code(*sc->lengths, sizeof(sl_http_script_copy_capture_code_t));
    if (code == NULL) {
        return SL_ERROR;
    }
    code->code = sl_http_script_len_code(sl_http_script_copy_capture_len_code);
    code->n = 2 * n;

    code = sl_http_script_add_code(*sc->values, sizeof(sl_http_script_copy_capture_code_t));
    if (code == NULL) {
        return SL_ERROR;
    }
    code->code = sl_http_script_copy_capture_code;
    code->n = 2 * n;

    if (sc->captures_mask & ((sl_uint_t) 1 << n)) {
        sc->dup_capture = 1;
    }
    sc->captures_mask |= (sl_uint_t) 1 << n;
    if (sc->ncaptures < n) {
        sc->ncaptures = n;
    }
    return SL_OK;
}

static sl_int_t
sl_http_script_add_args_code(sl_http_script_compile_t *sc)
{
    sl_http_script_code_pt *code;

    code = sl_http_script_add_code(*sc->lengths, sizeof(uintptr_t));
    if (code == NULL) {
        return SL_ERROR;
    }
    *code = sl_http_script_len_code(sl_http_script_mark_args_code);

    code = sl_http_script_add_code(*sc->values, sizeof(uintptr_t));
    if (code == NULL) {
        return SL_ERROR;
    }
    *code = sl_http_script_start_args_code;
    return SL_OK;
}

static sl_int_t
sl_http_script_done(sl_http_script_compile_t *sc)
{
    sl_str_t *prefix;
    sl_http_script_code_pt *code;
    sl_http_script_copy_code_t *copy;
    sl_http_script_full_name_code_t *full;

    if (sc->conf_prefix || sc->root_prefix) {
        prefix = sc->conf_prefix ? &sc->cf->cycle->conf_prefix : &sc->cf->cycle->prefix;

        full = sl_http_script_add_code(*sc->lengths, sizeof(sl_http_script_full_name_code_t));
        if (full == NULL) {
            return SL_ERROR;
        }
        full->code = sl_http_script_len_code(sl_http_script_full_name_len_code);
        full->len = prefix->len;
        full->data = prefix->data;

        full = sl_http_script_add_code(*sc->values, sizeof(sl_http_script_full_name_code_t));
        if (full == NULL) {
            return SL_ERROR;
        }
        full->code = sl_http_script_full_name_code;
        full->len = prefix->len;
        full->data = prefix->data;
    }

    if (sc->zero) {
        copy = sl_http_script_add_code(*sc->lengths, sizeof(sl_http_script_copy_code_t));
        if (copy == NULL) {
            return SL_ERROR;
        }
        copy->code = sl_http_script_len_code(sl_http_script_copy_len_code);
        copy->len = 1;

        code = sl_http_script_add_code(*sc->values, sizeof(uintptr_t));
        if (code == NULL) {
            return SL_ERROR;
        }
        *code = sl_http_script_zero_code;
    }

    if (sc->complete_lengths) {
        code = sl_http_script_add_code(*sc->lengths, sizeof(uintptr_t));
        if (code == NULL) {
            return SL_ERROR;
        }
        *code = NULL;
    }

    if (sc->complete_values) {
        code = sl_http_script_add_code(*sc->values, sizeof(uintptr_t));
        if (code == NULL) {
            return SL_ERROR;
        }
        *code = NULL;
    }
    return SL_OK;
}

sl_int_t
sl_http_script_compile(sl_http_script_compile_t *sc)
{
    u_char ch;
    sl_str_t name;
    sl_uint_t i, bracket;
    sl_pool_t *pool;

    pool = sc->cf->pool;

    if (sc->flushes && *sc->flushes == NULL) {
        *sc->flushes = sl_array_create(pool, 4, sizeof(sl_uint_t));
        if (*sc->flushes == NULL) {
            return SL_ERROR;
        }
    }
    if (*sc->lengths == NULL) {
        *sc->lengths = sl_array_create(pool, 64, 1);
        if (*sc->lengths == NULL) {
            return SL_ERROR;
        }
    }
    if (*sc->values == NULL) {
        *sc->values = sl_array_create(pool, 64, 1);
        if (*sc->values == NULL) {
            return SL_ERROR;
        }
    }
    sc->variables = 0;

    for (i = 0; i < sc->source->len; /* void */) {

        name.len = 0;

        if (sc->source->data[i] == '$') {

            if (++i == sc->source->len) {
                goto invalid_variable;
            }

            ch = sc->source->data[i];
            if (ch >= '1' && ch <= '9') {
                if (sl_http_script_add_capture_code(sc, ch - '0') != SL_OK) {
                    return SL_ERROR;
                }
                i++;
                continue;
            }

            if (ch == '{') {
                bracket = 1;
                if (++i == sc->source->len) {
                    goto invalid_variable;
                }
            } else {
                bracket = 0;
            }
            name.data = &sc->source->data[i];

            for (/* void */; i < sc->source->len; i++, name.len++) {
                ch = sc->source->data[i];
                if (ch == '}' && bracket) {
                    i++;
                    bracket = 0;
                    break;
                }
                if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
                    || (ch >= '0' && ch <= '9') || ch == '_') {
                    continue;
                }
                break;
            }

            if (bracket) {
                sl_conf_log_error(SL_LOG_EMERG, sc->cf, 0,
                                  "the closing bracket in \"%V\" variable is missing", &name);
                return SL_ERROR;
            }
            if (name.len == 0) {
                goto invalid_variable;
            }
            if (sl_http_script_add_var_code(sc, &name) != SL_OK) {
                return SL_ERROR;
            }
            continue;
        }

        if (sc->source->data[i] == '?' && sc->compile_args) {
            sc->args = 1;
            sc->compile_args = 0;
            if (sl_http_script_add_args_code(sc) != SL_OK) {
                return SL_ERROR;
            }
            i++;
            continue;
        }

        name.data = &sc->source->data[i];
        while (i < sc->source->len) {
            ch = sc->source->data[i];
            if (ch == '$') {
                break;
            }
            if (ch == '?') {
                sc->args = 1;
                if (sc->compile_args) {
                    break;
                }
            }
            i++;
            name.len++;
        }

        if (sl_http_script_add_copy_code(sc, &name) != SL_OK) {
            return SL_ERROR;
        }
    }

    return sl_http_script_done(sc);

invalid_variable:
    sl_conf_log_error(SL_LOG_EMERG, sc->cf, 0, "invalid variable name in \"%V\"", sc->source);
    return SL_ERROR;
}

/* Complex values --------------------------------------------------------- */

sl_int_t
sl_http_compile_complex_value(sl_http_compile_complex_value_t *ccv)
{
    sl_str_t v;
    sl_uint_t nv, *term;
    sl_array_t *flushes, *lengths, *values;
    sl_http_script_compile_t sc;
    sl_http_complex_value_t *cv;

    v = *ccv->value;
    cv = ccv->complex_value;

    nv = sl_http_script_variables_count(&v);

    if ((v.len == 0 || v.data[0] != '$') && (ccv->conf_prefix || ccv->root_prefix)) {
        if (sl_conf_full_name(ccv->cf->cycle, &v, ccv->conf_prefix) != SL_OK) {
            return SL_ERROR;
        }
        ccv->conf_prefix = 0;
        ccv->root_prefix = 0;
    }

    cv->value = v;
    cv->flushes = NULL;
    cv->lengths = NULL;
    cv->values = NULL;

    if (nv == 0 && !ccv->conf_prefix && !ccv->root_prefix) {
        if (ccv->zero) {
            cv->value.data = sl_pstrdup(ccv->cf->pool, &v);
            if (cv->value.data == NULL) {
                return SL_ERROR;
            }
        }
        return SL_OK;
    }

    flushes = NULL;
    lengths = NULL;
    values = NULL;

    sl_memzero(&sc, sizeof(sl_http_script_compile_t));
    sc.cf = ccv->cf;
    sc.source = &cv->value;
    sc.flushes = &flushes;
    sc.lengths = &lengths;
    sc.values = &values;
    sc.complete_lengths = 1;
    sc.complete_values = 1;
    sc.zero = ccv->zero;
    sc.conf_prefix = ccv->conf_prefix;
    sc.root_prefix = ccv->root_prefix;

    if (sl_http_script_compile(&sc) != SL_OK) {
        return SL_ERROR;
    }

    if (flushes->nelts) {
        term = sl_array_push(flushes);
        if (term == NULL) {
            return SL_ERROR;
        }
        *term = (sl_uint_t) -1;
        cv->flushes = flushes->elts;
    }
    cv->lengths = lengths->elts;
    cv->values = values->elts;
    return SL_OK;
}

static void
sl_http_script_flush_complex_value(sl_http_request_t *r, sl_http_complex_value_t *val)
{
    sl_uint_t *index;

    if (val->flushes == NULL || r->variables == NULL) {
        return;
    }
    for (index = val->flushes; *index != (sl_uint_t) -1; index++) {
        if (r->variables[*index].no_cacheable) {
            r->variables[*index].valid = 0;
            r->variables[*index].not_found = 0;
        }
    }
}

sl_int_t
sl_http_complex_value(sl_http_request_t *r, sl_http_complex_value_t *val, sl_str_t *value)
{
    size_t len;
    u_char *data;
    sl_http_script_engine_t e;
    sl_http_script_len_code_pt lcode;

    if (val->lengths == NULL) {
        *value = val->value;
        return SL_OK;
    }

    sl_http_script_flush_complex_value(r, val);

    sl_memzero(&e, sizeof(sl_http_script_engine_t));
    e.ip = val->lengths;
    e.request = r;
    e.flushed = 1;
    e.status = SL_DECLINED;

    len = 0;
    while (*(uintptr_t *) e.ip) {
        lcode = *(sl_http_script_len_code_pt *) e.ip;
        len += lcode(&e);
    }

    data = sl_pnalloc(r->pool, len ? len : 1);
    if (data == NULL) {
        return SL_ERROR;
    }

    e.ip = val->values;
    e.pos = data;
    e.end = data + len;
    e.buf.data = data;
    e.buf.len = len;

    sl_http_script_run_codes(&e);
    if (e.status != SL_DECLINED) {
        return SL_ERROR;
    }

    value->data = data;
    value->len = e.pos - data;
    return SL_OK;
}

char *
sl_http_set_complex_value_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value;
    sl_http_complex_value_t **cv;
    sl_http_compile_complex_value_t ccv;

    cv = (sl_http_complex_value_t **) ((u_char *) conf + cmd->offset);
    if (*cv != NULL && *cv != SL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *cv = sl_pcalloc(cf->pool, sizeof(sl_http_complex_value_t));
    if (*cv == NULL) {
        return SL_CONF_ERROR;
    }

    value = cf->args->elts;

    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = *cv;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return SL_CONF_ERROR;
    }
    return SL_CONF_OK;
}

u_char *
sl_http_script_run(sl_http_request_t *r, sl_str_t *value, void *code_lengths, size_t reserved,
                   void *code_values)
{
    size_t len;
    sl_uint_t i;
    sl_http_variable_t *v;
    sl_http_script_engine_t e;
    sl_http_core_main_conf_t *cmcf;
    sl_http_script_len_code_pt lcode;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);

    if (r->variables) {
        v = cmcf->variables.elts;
        for (i = 0; i < cmcf->variables.nelts; i++) {
            if (r->variables[i].no_cacheable || (v[i].flags & SL_HTTP_VAR_NOCACHEABLE)) {
                r->variables[i].valid = 0;
                r->variables[i].not_found = 0;
            }
        }
    }

    sl_memzero(&e, sizeof(sl_http_script_engine_t));
    e.ip = code_lengths;
    e.request = r;
    e.flushed = 1;
    e.status = SL_DECLINED;

    len = 0;
    while (*(uintptr_t *) e.ip) {
        lcode = *(sl_http_script_len_code_pt *) e.ip;
        len += lcode(&e);
    }

    value->len = len;
    value->data = sl_pnalloc(r->pool, (len + reserved) ? (len + reserved) : 1);
    if (value->data == NULL) {
        return NULL;
    }

    e.ip = code_values;
    e.pos = value->data;
    e.end = value->data + len;
    e.buf = *value;

    sl_http_script_run_codes(&e);
    if (e.status != SL_DECLINED) {
        return NULL;
    }
    value->len = e.pos - value->data;
    return e.pos;
}

/* Engine ----------------------------------------------------------------- */

void
sl_http_script_run_codes(sl_http_script_engine_t *e)
{
    sl_http_script_code_pt code;

    while (*(uintptr_t *) e->ip) {
        code = *(sl_http_script_code_pt *) e->ip;
        code(e);
    }
}

void
sl_http_script_stop(sl_http_script_engine_t *e, sl_int_t status)
{
    e->ip = (u_char *) &sl_http_script_exit_code;
    e->status = status;
}

/* A value may grow between the length and the copy pass (a no-cacheable variable). */
static sl_int_t
sl_http_script_check_length(sl_http_script_engine_t *e, size_t len)
{
    if (e->pos == NULL || (size_t) (e->end - e->pos) < len) {
        sl_log_error(SL_LOG_ALERT, e->request->connection->log, 0,
                     "a script value outgrew its computed length");
        sl_http_script_stop(e, SL_HTTP_INTERNAL_SERVER_ERROR);
        return SL_ERROR;
    }
    return SL_OK;
}

size_t
sl_http_script_copy_len_code(sl_http_script_engine_t *e)
{
    sl_http_script_copy_code_t *code;

    code = (sl_http_script_copy_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_copy_code_t);
    return code->len;
}

void
sl_http_script_copy_code(sl_http_script_engine_t *e)
{
    u_char *text;
    sl_http_script_copy_code_t *code;

    code = (sl_http_script_copy_code_t *) e->ip;
    text = e->ip + sizeof(sl_http_script_copy_code_t);

    if (!e->skip && code->len) {
        if (sl_http_script_check_length(e, code->len) != SL_OK) {
            return;
        }
        e->pos = sl_cpymem(e->pos, text, code->len);
    }

    e->ip += sl_align(sizeof(sl_http_script_copy_code_t) + code->len, sizeof(uintptr_t));
}

static sl_http_variable_value_t *
sl_http_script_get_var(sl_http_script_engine_t *e, sl_uint_t index)
{
    if (e->flushed) {
        return sl_http_get_indexed_variable(e->request, index);
    }
    return sl_http_get_flushed_variable(e->request, index);
}

size_t
sl_http_script_copy_var_len_code(sl_http_script_engine_t *e)
{
    sl_http_variable_value_t *value;
    sl_http_script_var_code_t *code;

    code = (sl_http_script_var_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_var_code_t);

    value = sl_http_script_get_var(e, code->index);
    if (value && !value->not_found) {
        return value->len;
    }
    return 0;
}

void
sl_http_script_copy_var_code(sl_http_script_engine_t *e)
{
    sl_http_variable_value_t *value;
    sl_http_script_var_code_t *code;

    code = (sl_http_script_var_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_var_code_t);

    if (e->skip) {
        return;
    }
    value = sl_http_script_get_var(e, code->index);
    if (value && !value->not_found && value->len) {
        if (sl_http_script_check_length(e, value->len) != SL_OK) {
            return;
        }
        e->pos = sl_cpymem(e->pos, value->data, value->len);
    }
}

/*
 * True when captures must be escaped: the request URI was percent-encoded
 * (or had '+'), so a decoded capture may hold bytes that are special in
 * the arguments or a Location.
 */
static sl_uint_t
sl_http_script_quoted_uri(sl_http_request_t *r)
{
    size_t i;

    if (r->plus_in_uri) {
        return 1;
    }
    for (i = 0; i < r->unparsed_uri.len; i++) {
        if (r->unparsed_uri.data[i] == '?') {
            break;
        }
        if (r->unparsed_uri.data[i] == '%') {
            return 1;
        }
    }
    return 0;
}

size_t
sl_http_script_copy_capture_len_code(sl_http_script_engine_t *e)
{
    int *cap;
    size_t len;
    sl_uint_t n;
    sl_http_request_t *r;
    sl_http_script_copy_capture_code_t *code;

    r = e->request;
    code = (sl_http_script_copy_capture_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_copy_capture_code_t);

    n = code->n;
    if (n + 1 >= r->ncaptures || r->captures == NULL) {
        return 0;
    }
    cap = r->captures;
    if (cap[n] < 0 || cap[n + 1] < cap[n]) {
        return 0;
    }
    len = cap[n + 1] - cap[n];
    if ((e->is_args || e->quote) && sl_http_script_quoted_uri(r)) {
        return len + 2 * sl_escape_uri(NULL, r->captures_data + cap[n], len, SL_ESCAPE_ARGS);
    }
    return len;
}

void
sl_http_script_copy_capture_code(sl_http_script_engine_t *e)
{
    int *cap;
    u_char *p;
    size_t len, escape;
    sl_uint_t n;
    sl_http_request_t *r;
    sl_http_script_copy_capture_code_t *code;

    r = e->request;
    code = (sl_http_script_copy_capture_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_copy_capture_code_t);

    n = code->n;
    if (e->skip || n + 1 >= r->ncaptures || r->captures == NULL) {
        return;
    }
    cap = r->captures;
    if (cap[n] < 0 || cap[n + 1] < cap[n]) {
        return;
    }
    len = cap[n + 1] - cap[n];
    p = r->captures_data + cap[n];

    if ((e->is_args || e->quote) && sl_http_script_quoted_uri(r)) {
        escape = 2 * sl_escape_uri(NULL, p, len, SL_ESCAPE_ARGS);
        if (sl_http_script_check_length(e, len + escape) != SL_OK) {
            return;
        }
        e->pos = (u_char *) sl_escape_uri(e->pos, p, len, SL_ESCAPE_ARGS);
        return;
    }

    if (len == 0) {
        return;
    }
    if (sl_http_script_check_length(e, len) != SL_OK) {
        return;
    }
    e->pos = sl_cpymem(e->pos, p, len);
}

size_t
sl_http_script_mark_args_code(sl_http_script_engine_t *e)
{
    e->is_args = 1;
    e->ip += sizeof(uintptr_t);
    return 1;
}

void
sl_http_script_start_args_code(sl_http_script_engine_t *e)
{
    e->is_args = 1;
    e->args = e->pos;
    e->ip += sizeof(uintptr_t);
}

static size_t
sl_http_script_full_name_len_code(sl_http_script_engine_t *e)
{
    sl_http_script_full_name_code_t *code;

    code = (sl_http_script_full_name_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_full_name_code_t);
    return code->len;
}

/* Prefixes the value built so far with the prefix unless it is absolute. */
static void
sl_http_script_full_name_code(sl_http_script_engine_t *e)
{
    size_t len;
    sl_http_script_full_name_code_t *code;

    code = (sl_http_script_full_name_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_full_name_code_t);

    len = e->pos - e->buf.data;
    if (len && e->buf.data[0] == '/') {
        return;
    }
    if (sl_http_script_check_length(e, code->len) != SL_OK) {
        return;
    }
    if (len) {
        sl_memmove(e->buf.data + code->len, e->buf.data, len);
    }
    if (code->len) {
        sl_memcpy(e->buf.data, code->data, code->len);
    }
    e->pos += code->len;
}

/* Writes a NUL after the value (its byte was counted by the length pass). */
static void
sl_http_script_zero_code(sl_http_script_engine_t *e)
{
    e->ip += sizeof(uintptr_t);
    if (sl_http_script_check_length(e, 1) != SL_OK) {
        return;
    }
    *e->pos = '\0';
}

/* Rewrites ---------------------------------------------------------------- */

/* Sets r->exten from the last path segment ("/a/b.tar.gz" -> "gz", "/.hidden" -> none). */
static void
sl_http_script_set_exten(sl_http_request_t *r)
{
    size_t i;

    sl_str_null(&r->exten);
    for (i = r->uri.len; i > 2; i--) {
        if (r->uri.data[i - 1] == '.' && r->uri.data[i - 2] != '/') {
            r->exten.len = r->uri.len - i;
            r->exten.data = &r->uri.data[i];
            return;
        }
        if (r->uri.data[i - 1] == '/') {
            return;
        }
    }
}

void
sl_http_script_regex_start_code(sl_http_script_engine_t *e)
{
    size_t len;
    sl_int_t rc;
    sl_http_request_t *r;
    sl_http_script_engine_t le;
    sl_http_script_len_code_pt lcode;
    sl_http_script_regex_code_t *code;

    code = (sl_http_script_regex_code_t *) e->ip;
    r = e->request;

    if (code->uri) {
        e->line = r->uri;
    } else {
        e->sp--;
        e->line.len = e->sp->len;
        e->line.data = e->sp->data;
    }

    rc = sl_http_regex_exec(r, code->regex, &e->line);

    if (rc == SL_DECLINED) {
        if (e->log) {
            sl_log_error(SL_LOG_NOTICE, r->connection->log, 0, "\"%V\" does not match \"%V\"",
                         &code->name, &e->line);
        }
        r->ncaptures = 0;
        if (code->test) {
            *e->sp = code->negative_test ? sl_http_script_true_value : sl_http_script_null_value;
            e->sp++;
            e->ip += sizeof(sl_http_script_regex_code_t);
            return;
        }
        e->ip += code->next;
        return;
    }

    if (rc == SL_ERROR) {
        sl_http_script_stop(e, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (e->log) {
        sl_log_error(SL_LOG_NOTICE, r->connection->log, 0, "\"%V\" matches \"%V\"", &code->name,
                     &e->line);
    }

    if (code->test) {
        *e->sp = code->negative_test ? sl_http_script_null_value : sl_http_script_true_value;
        e->sp++;
        e->ip += sizeof(sl_http_script_regex_code_t);
        return;
    }

    if (code->status) {
        e->status = code->status;
        if (!code->redirect) {
            sl_http_script_stop(e, code->status);
            return;
        }
    }

    if (code->uri) {
        r->internal = 1;
        r->valid_unparsed_uri = 0;
        if (code->break_cycle) {
            r->valid_location = 0;
            r->uri_changed = 0;
        } else {
            r->uri_changed = 1;
        }
    }

    len = 0;
    if (code->lengths) {
        sl_memzero(&le, sizeof(sl_http_script_engine_t));
        le.ip = code->lengths->elts;
        le.line = e->line;
        le.request = r;
        le.quote = code->redirect;
        le.status = SL_DECLINED;
        while (*(uintptr_t *) le.ip) {
            lcode = *(sl_http_script_len_code_pt *) le.ip;
            len += lcode(&le);
        }
    }

    if (code->add_args && r->args.len) {
        len += r->args.len + 1;
    }

    e->buf.len = len;
    e->buf.data = sl_pnalloc(r->pool, len ? len : 1);
    if (e->buf.data == NULL) {
        sl_http_script_stop(e, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    e->is_args = 0;
    e->quote = code->redirect;
    e->args = NULL;
    e->pos = e->buf.data;
    e->end = e->buf.data + len;

    e->ip += sizeof(sl_http_script_regex_code_t);
}

void
sl_http_script_regex_end_code(sl_http_script_engine_t *e)
{
    sl_http_request_t *r;
    sl_table_elt_t *h;
    sl_http_script_regex_end_code_t *code;

    code = (sl_http_script_regex_end_code_t *) e->ip;
    r = e->request;

    e->is_args = 0;
    e->quote = 0;

    if (code->redirect) {
        if (code->add_args && r->args.len) {
            if (sl_http_script_check_length(e, r->args.len + 1) != SL_OK) {
                return;
            }
            *e->pos++ = (u_char) (code->args ? '&' : '?');
            e->pos = sl_cpymem(e->pos, r->args.data, r->args.len);
        }
        e->buf.len = e->pos - e->buf.data;

        if (e->log) {
            sl_log_error(SL_LOG_NOTICE, r->connection->log, 0, "rewritten redirect: \"%V\"",
                         &e->buf);
        }

        if (r->headers_out.location) {
            r->headers_out.location->hash = 0;
            r->headers_out.location = NULL;
        }
        h = sl_list_push(&r->headers_out.headers);
        if (h == NULL) {
            sl_http_script_stop(e, SL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        h->hash = 1;
        sl_str_set(&h->key, "Location");
        h->lowcase_key = (u_char *) "location";
        h->value = e->buf;
        h->next = NULL;
        r->headers_out.location = h;

        e->ip += sizeof(sl_http_script_regex_end_code_t);
        return;
    }

    if (e->args) {
        e->buf.len = e->args - e->buf.data;
        if (code->add_args && r->args.len) {
            if (sl_http_script_check_length(e, r->args.len + 1) != SL_OK) {
                return;
            }
            *e->pos++ = '&';
            e->pos = sl_cpymem(e->pos, r->args.data, r->args.len);
        }
        r->args.len = e->pos - e->args;
        r->args.data = e->args;
        e->args = NULL;

    } else {
        e->buf.len = e->pos - e->buf.data;
        if (!code->add_args) {
            r->args.len = 0;
        }
    }

    if (e->log) {
        sl_log_error(SL_LOG_NOTICE, r->connection->log, 0,
                     "rewritten data: \"%V\", args: \"%V\"", &e->buf, &r->args);
    }

    if (code->uri) {
        r->uri = e->buf;
        if (r->uri.len == 0) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0, "the rewritten URI has a zero length");
            sl_http_script_stop(e, SL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
        sl_http_script_set_exten(r);
    }

    e->ip += sizeof(sl_http_script_regex_end_code_t);
}

/* Stack codes ------------------------------------------------------------ */

void
sl_http_script_value_code(sl_http_script_engine_t *e)
{
    sl_http_script_value_code_t *code;

    code = (sl_http_script_value_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_value_code_t);

    e->sp->len = code->text_len;
    e->sp->data = (u_char *) code->text_data;
    e->sp->valid = 1;
    e->sp->no_cacheable = 0;
    e->sp->not_found = 0;
    e->sp++;
}

void
sl_http_script_complex_value_code(sl_http_script_engine_t *e)
{
    size_t len;
    sl_http_script_engine_t le;
    sl_http_script_len_code_pt lcode;
    sl_http_script_complex_value_code_t *code;

    code = (sl_http_script_complex_value_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_complex_value_code_t);

    sl_memzero(&le, sizeof(sl_http_script_engine_t));
    le.ip = code->lengths->elts;
    le.line = e->line;
    le.request = e->request;
    le.is_args = e->is_args;
    le.quote = e->quote;
    le.status = SL_DECLINED;

    len = 0;
    while (*(uintptr_t *) le.ip) {
        lcode = *(sl_http_script_len_code_pt *) le.ip;
        len += lcode(&le);
    }

    e->buf.len = len;
    e->buf.data = sl_pnalloc(e->request->pool, len ? len : 1);
    if (e->buf.data == NULL) {
        sl_http_script_stop(e, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    e->pos = e->buf.data;
    e->end = e->buf.data + len;
}

void
sl_http_script_complex_value_end_code(sl_http_script_engine_t *e)
{
    e->ip += sizeof(uintptr_t);

    e->sp->len = e->pos - e->buf.data;
    e->sp->data = e->buf.data;
    e->sp->valid = 1;
    e->sp->no_cacheable = 0;
    e->sp->not_found = 0;
    e->sp++;
}

void
sl_http_script_var_code(sl_http_script_engine_t *e)
{
    sl_http_variable_value_t *value;
    sl_http_script_var_code_t *code;

    code = (sl_http_script_var_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_var_code_t);

    value = sl_http_get_flushed_variable(e->request, code->index);
    if (value && !value->not_found) {
        *e->sp = *value;
    } else {
        *e->sp = sl_http_script_null_value;
    }
    e->sp++;
}

void
sl_http_script_set_var_code(sl_http_script_engine_t *e)
{
    sl_http_request_t *r;
    sl_http_variable_value_t *v;
    sl_http_script_var_code_t *code;

    code = (sl_http_script_var_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_var_code_t);

    r = e->request;
    e->sp--;

    v = &r->variables[code->index];
    v->len = e->sp->len;
    v->data = e->sp->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
}

void
sl_http_script_var_set_handler_code(sl_http_script_engine_t *e)
{
    sl_http_script_var_handler_code_t *code;

    code = (sl_http_script_var_handler_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_var_handler_code_t);

    e->sp--;
    code->handler(e->request, e->sp, code->data);
}

static void
sl_http_script_compare(sl_http_script_engine_t *e, sl_uint_t negate)
{
    sl_uint_t equal;
    sl_http_variable_value_t *val, *res;

    e->ip += sizeof(uintptr_t);

    e->sp--;
    val = e->sp;
    res = e->sp - 1;

    equal = val->len == res->len && (val->len == 0 || sl_memcmp(val->data, res->data, val->len)
                                                          == 0);
    *res = (equal ^ negate) ? sl_http_script_true_value : sl_http_script_null_value;
}

void
sl_http_script_equal_code(sl_http_script_engine_t *e)
{
    sl_http_script_compare(e, 0);
}

void
sl_http_script_not_equal_code(sl_http_script_engine_t *e)
{
    sl_http_script_compare(e, 1);
}

void
sl_http_script_file_code(sl_http_script_engine_t *e)
{
    int found;
    u_char *path;
    sl_str_t s;
    sl_uint_t truth;
    struct stat st;
    sl_http_variable_value_t *value;
    sl_http_script_file_code_t *code;

    value = e->sp - 1;
    code = (sl_http_script_file_code_t *) e->ip;
    e->ip += sizeof(sl_http_script_file_code_t);

    s.len = value->len;
    s.data = value->data;
    path = sl_pstrdup(e->request->pool, &s);
    if (path == NULL) {
        sl_http_script_stop(e, SL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    found = 0;
    if (s.len && memchr(s.data, '\0', s.len) == NULL) {
        if (stat((char *) path, &st) == 0) {
            found = 1;
        } else if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG) {
            sl_log_error(SL_LOG_CRIT, e->request->connection->log, sl_errno,
                         "stat() \"%s\" failed", path);
        }
    }

    switch (code->op) {
    case sl_http_script_file_plain:
    case sl_http_script_file_not_plain:
        truth = found && S_ISREG(st.st_mode);
        break;
    case sl_http_script_file_dir:
    case sl_http_script_file_not_dir:
        truth = found && S_ISDIR(st.st_mode);
        break;
    case sl_http_script_file_exists:
    case sl_http_script_file_not_exists:
        truth = (sl_uint_t) found;
        break;
    default: /* exec */
        truth = found && (st.st_mode & S_IXUSR);
        break;
    }

    if (code->op & 1) { /* the "not" variants are odd */
        truth = !truth;
    }
    *value = truth ? sl_http_script_true_value : sl_http_script_null_value;
}

void
sl_http_script_break_code(sl_http_script_engine_t *e)
{
    sl_http_request_t *r;

    r = e->request;
    if (r->uri_changed) {
        r->valid_location = 0;
        r->uri_changed = 0;
    }
    sl_http_script_stop(e, e->status);
}
