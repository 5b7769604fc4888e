/*
 * sl_http_rewrite_module.c: rewrite, return, set, if, break, rewrite_log
 * and uninitialized_variable_warn, with nginx's semantics.
 *
 * Each server{} and location{} compiles its directives, in order, into one
 * program of script codes; an "if" block's directives go into the same
 * program behind a jump, and the block gets its own location configuration
 * so that what it contains (return, proxy_pass, add_header) applies when
 * the condition holds. The server program runs in the server rewrite phase,
 * the location program in the rewrite phase.
 */

#include "sl_core.h"
#include "sl_http.h"

typedef struct {
    sl_array_t *codes; /* the program; NULL when the block has none */
    sl_uint_t stack_size;
    sl_flag_t log;
    sl_flag_t uninitialized_variable_warn;
} sl_http_rewrite_loc_conf_t;

typedef struct {
    sl_http_script_code_pt code;
    uintptr_t status;
    sl_http_complex_value_t text;
} sl_http_rewrite_return_code_t;

typedef struct {
    sl_http_script_code_pt code;
    void **loc_conf; /* the if block's configuration; NULL at server level */
    uintptr_t next;  /* bytes to skip when the condition is false */
} sl_http_rewrite_if_code_t;

/* The engine with what the return code leaves for the handler. */
typedef struct {
    sl_http_script_engine_t e; /* first: codes get a pointer to it */
    sl_http_rewrite_return_code_t *ret;
} sl_http_rewrite_engine_t;

static sl_int_t sl_http_rewrite_init(sl_conf_t *cf);
static void *sl_http_rewrite_create_loc_conf(sl_conf_t *cf);
static char *sl_http_rewrite_merge_loc_conf(sl_conf_t *cf, void *parent, void *child);
static char *sl_http_rewrite(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_rewrite_return(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_rewrite_break(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_rewrite_if(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_rewrite_set(sl_conf_t *cf, sl_command_t *cmd, void *conf);

#define SL_HTTP_REWRITE_CONTEXTS \
    (SL_HTTP_SRV_CONF | SL_HTTP_SIF_CONF | SL_HTTP_LOC_CONF | SL_HTTP_LIF_CONF)

static sl_command_t sl_http_rewrite_commands[] = {
    { sl_string("rewrite"), SL_HTTP_REWRITE_CONTEXTS | SL_CONF_TAKE23, sl_http_rewrite,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("return"), SL_HTTP_REWRITE_CONTEXTS | SL_CONF_TAKE12, sl_http_rewrite_return,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("break"), SL_HTTP_REWRITE_CONTEXTS | SL_CONF_NOARGS, sl_http_rewrite_break,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("if"), SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF | SL_CONF_BLOCK | SL_CONF_1MORE,
      sl_http_rewrite_if, SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("set"), SL_HTTP_REWRITE_CONTEXTS | SL_CONF_TAKE2, sl_http_rewrite_set,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("rewrite_log"), SL_HTTP_MAIN_CONF | SL_HTTP_REWRITE_CONTEXTS | SL_CONF_FLAG,
      sl_conf_set_flag_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_rewrite_loc_conf_t, log), NULL },
    { sl_string("uninitialized_variable_warn"),
      SL_HTTP_MAIN_CONF | SL_HTTP_REWRITE_CONTEXTS | SL_CONF_FLAG, sl_conf_set_flag_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_rewrite_loc_conf_t, uninitialized_variable_warn),
      NULL },
    sl_null_command
};

static sl_http_module_t sl_http_rewrite_module_ctx = {
    NULL,                            /* preconfiguration */
    sl_http_rewrite_init,            /* postconfiguration */
    NULL,                            /* create main configuration */
    NULL,                            /* init main configuration */
    NULL,                            /* create server configuration */
    NULL,                            /* merge server configuration */
    sl_http_rewrite_create_loc_conf, /* create location configuration */
    sl_http_rewrite_merge_loc_conf   /* merge location configuration */
};

sl_module_t sl_http_rewrite_module = {
    SL_MODULE_V1,
    "sl_http_rewrite_module",
    SL_HTTP_MODULE,
    &sl_http_rewrite_module_ctx,
    sl_http_rewrite_commands,
    NULL,
    NULL,
    NULL,
    NULL
};

/* Run time --------------------------------------------------------------- */

static sl_uint_t
sl_http_rewrite_is_redirect(sl_uint_t status)
{
    return status == SL_HTTP_MOVED_PERMANENTLY || status == SL_HTTP_MOVED_TEMPORARILY
           || status == SL_HTTP_SEE_OTHER || status == SL_HTTP_TEMPORARY_REDIRECT
           || status == SL_HTTP_PERMANENT_REDIRECT;
}

/* Carries out "return": a redirect, a response with a body, or a bare status. */
static sl_int_t
sl_http_rewrite_do_return(sl_http_request_t *r, sl_http_rewrite_return_code_t *code)
{
    sl_int_t rc;
    sl_str_t location;
    sl_table_elt_t *h;

    if (code->status == SL_HTTP_CLOSE) {
        return SL_HTTP_CLOSE;
    }

    if (sl_http_rewrite_is_redirect(code->status)) {
        if (sl_http_complex_value(r, &code->text, &location) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (r->headers_out.location) {
            r->headers_out.location->hash = 0;
            r->headers_out.location = NULL;
        }
        if (location.len) {
            h = sl_list_push(&r->headers_out.headers);
            if (h == NULL) {
                return SL_HTTP_INTERNAL_SERVER_ERROR;
            }
            h->hash = 1;
            sl_str_set(&h->key, "Location");
            h->lowcase_key = (u_char *) "location";
            h->value = location;
            h->next = NULL;
            r->headers_out.location = h;
        }
        return (sl_int_t) code->status;
    }

    if (code->status < SL_HTTP_BAD_REQUEST || code->text.value.len || code->text.lengths) {
        rc = sl_http_send_response(r, code->status, NULL, &code->text);
        sl_http_finalize_request(r, rc);
        return SL_DONE;
    }

    return (sl_int_t) code->status;
}

static sl_int_t
sl_http_rewrite_handler(sl_http_request_t *r)
{
    sl_int_t status;
    sl_http_rewrite_engine_t *re;
    sl_http_core_srv_conf_t *cscf;
    sl_http_core_main_conf_t *cmcf;
    sl_http_rewrite_loc_conf_t *rlcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);

    /* no location matched: the server's program already ran */
    if (r->phase_handler == cmcf->location_rewrite_index && r->loc_conf == cscf->ctx->loc_conf) {
        return SL_DECLINED;
    }

    rlcf = sl_http_get_module_loc_conf(r, sl_http_rewrite_module);
    if (rlcf->codes == NULL) {
        return SL_DECLINED;
    }

    re = sl_pcalloc(r->pool, sizeof(sl_http_rewrite_engine_t));
    if (re == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }
    re->e.sp = sl_pcalloc(r->pool, rlcf->stack_size * sizeof(sl_http_variable_value_t));
    if (re->e.sp == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }
    re->e.ip = rlcf->codes->elts;
    re->e.request = r;
    re->e.quote = 1;
    re->e.log = rlcf->log ? 1 : 0;
    re->e.status = SL_DECLINED;

    sl_http_script_run_codes(&re->e);

    if (re->ret) {
        return sl_http_rewrite_do_return(r, re->ret);
    }

    status = re->e.status;
    if (status < SL_HTTP_BAD_REQUEST) {
        return status;
    }
    if (r->err_status == 0) {
        return status;
    }
    return (sl_int_t) r->err_status;
}

/* The get handler of a "set" variable read before any "set" assigned it. */
static sl_int_t
sl_http_rewrite_var(sl_http_request_t *r, sl_http_variable_value_t *v, uintptr_t data)
{
    sl_http_variable_t *var;
    sl_http_core_main_conf_t *cmcf;
    sl_http_rewrite_loc_conf_t *rlcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
    rlcf = sl_http_get_module_loc_conf(r, sl_http_rewrite_module);

    if (rlcf->uninitialized_variable_warn && data < cmcf->variables.nelts) {
        var = cmcf->variables.elts;
        sl_log_error(SL_LOG_WARN, r->connection->log, 0, "using uninitialized \"%V\" variable",
                     &var[data].name);
    }

    v->len = 0;
    v->data = (u_char *) "";
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return SL_OK;
}

static void
sl_http_rewrite_return_code(sl_http_script_engine_t *e)
{
    sl_http_rewrite_engine_t *re;

    re = (sl_http_rewrite_engine_t *) e;
    re->ret = (sl_http_rewrite_return_code_t *) e->ip;
    sl_http_script_stop(e, (sl_int_t) re->ret->status);
}

static void
sl_http_rewrite_if_code(sl_http_script_engine_t *e)
{
    sl_http_rewrite_if_code_t *code;

    code = (sl_http_rewrite_if_code_t *) e->ip;

    e->sp--;
    if (e->sp->len && (e->sp->len != 1 || e->sp->data[0] != '0')) {
        if (code->loc_conf) {
            e->request->loc_conf = code->loc_conf;
            sl_http_update_location_config(e->request);
        }
        e->ip += sizeof(sl_http_rewrite_if_code_t);
        return;
    }
    e->ip += code->next;
}

/* Configuration ---------------------------------------------------------- */

static void *
sl_http_rewrite_create_loc_conf(sl_conf_t *cf)
{
    sl_http_rewrite_loc_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_rewrite_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }
    conf->stack_size = SL_CONF_UNSET_UINT;
    conf->log = SL_CONF_UNSET;
    conf->uninitialized_variable_warn = SL_CONF_UNSET;
    return conf;
}

static char *
sl_http_rewrite_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_rewrite_loc_conf_t *prev = parent;
    sl_http_rewrite_loc_conf_t *conf = child;
    uintptr_t *code;

    sl_unused(cf);
    sl_conf_merge_value(conf->log, prev->log, 0);
    sl_conf_merge_value(conf->uninitialized_variable_warn, prev->uninitialized_variable_warn, 1);
    sl_conf_merge_uint_value(conf->stack_size, prev->stack_size, 10);

    /* programs are not inherited; an if block's code lives in its parent's */
    if (conf->codes == NULL || conf->codes == prev->codes) {
        return SL_CONF_OK;
    }

    code = sl_http_script_add_code(conf->codes, sizeof(uintptr_t));
    if (code == NULL) {
        return SL_CONF_ERROR;
    }
    *code = (uintptr_t) NULL;
    return SL_CONF_OK;
}

static sl_int_t
sl_http_rewrite_init(sl_conf_t *cf)
{
    sl_http_handler_pt *h;

    h = sl_http_add_phase_handler(cf, SL_HTTP_SERVER_REWRITE_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }
    *h = sl_http_rewrite_handler;

    h = sl_http_add_phase_handler(cf, SL_HTTP_REWRITE_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }
    *h = sl_http_rewrite_handler;
    return SL_OK;
}

static sl_uint_t
sl_http_rewrite_is_url(sl_str_t *s)
{
    return (s->len >= sizeof("http://") - 1 && sl_strncmp(s->data, "http://", 7) == 0)
           || (s->len >= sizeof("https://") - 1 && sl_strncmp(s->data, "https://", 8) == 0)
           || (s->len >= sizeof("$scheme") - 1 && sl_strncmp(s->data, "$scheme", 7) == 0);
}

/* Offset of p in the code array, for finding a code again after the array moved. */
#define sl_http_rewrite_offset(lcf, p) ((size_t) ((u_char *) (p) - (u_char *) (lcf)->codes->elts))
#define sl_http_rewrite_at(lcf, off) ((void *) ((u_char *) (lcf)->codes->elts + (off)))

static char *
sl_http_rewrite(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_rewrite_loc_conf_t *lcf = conf;

    size_t off;
    sl_str_t *value, replacement;
    sl_uint_t last;
    sl_array_t *lengths;
    uintptr_t *code;
    sl_regex_compile_t rc;
    sl_http_regex_t *regex;
    sl_http_script_compile_t sc;
    sl_http_script_regex_code_t *rcode;
    sl_http_script_regex_end_code_t *rend;
    sl_uint_t status, redirect, break_cycle, add_args;

    sl_unused(cmd);
    value = cf->args->elts;

    sl_memzero(&rc, sizeof(sl_regex_compile_t));
    rc.pattern = value[1];
    regex = sl_http_regex_compile(cf, &rc);
    if (regex == NULL) {
        return SL_CONF_ERROR;
    }

    replacement = value[2];
    status = 0;
    redirect = 0;
    break_cycle = 0;
    last = 0;

    if (replacement.len && replacement.data[replacement.len - 1] == '?') {
        /* the last "?" drops the original arguments */
        replacement.len--;
        add_args = 0;
    } else {
        add_args = 1;
    }

    if (sl_http_rewrite_is_url(&replacement)) {
        status = SL_HTTP_MOVED_TEMPORARILY;
        redirect = 1;
        last = 1;
    }

    if (cf->args->nelts == 4) {
        if (sl_str_eq_lit(&value[3], "last")) {
            last = 1;
        } else if (sl_str_eq_lit(&value[3], "break")) {
            break_cycle = 1;
            last = 1;
        } else if (sl_str_eq_lit(&value[3], "redirect")) {
            status = SL_HTTP_MOVED_TEMPORARILY;
            redirect = 1;
            last = 1;
        } else if (sl_str_eq_lit(&value[3], "permanent")) {
            status = SL_HTTP_MOVED_PERMANENTLY;
            redirect = 1;
            last = 1;
        } else {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[3]);
            return SL_CONF_ERROR;
        }
    }

    rcode = sl_http_script_start_code(cf->pool, &lcf->codes, sizeof(sl_http_script_regex_code_t));
    if (rcode == NULL) {
        return SL_CONF_ERROR;
    }
    sl_memzero(rcode, sizeof(sl_http_script_regex_code_t));
    off = sl_http_rewrite_offset(lcf, rcode);

    lengths = NULL;
    sl_memzero(&sc, sizeof(sl_http_script_compile_t));
    sc.cf = cf;
    sc.source = &replacement;
    sc.lengths = &lengths;
    sc.values = &lcf->codes;
    sc.complete_lengths = 1;
    sc.compile_args = !redirect;

    if (sl_http_script_compile(&sc) != SL_OK) {
        return SL_CONF_ERROR;
    }

    rend = sl_http_script_add_code(lcf->codes, sizeof(sl_http_script_regex_end_code_t));
    if (rend == NULL) {
        return SL_CONF_ERROR;
    }
    sl_memzero(rend, sizeof(sl_http_script_regex_end_code_t));
    rend->code = sl_http_script_regex_end_code;
    rend->uri = 1;
    rend->args = sc.args;
    rend->add_args = add_args;
    rend->redirect = redirect;

    if (last) {
        code = sl_http_script_add_code(lcf->codes, sizeof(uintptr_t));
        if (code == NULL) {
            return SL_CONF_ERROR;
        }
        *code = (uintptr_t) NULL;
    }

    rcode = sl_http_rewrite_at(lcf, off);
    rcode->code = sl_http_script_regex_start_code;
    rcode->regex = regex;
    rcode->lengths = lengths;
    rcode->size = sc.size;
    rcode->status = status;
    rcode->uri = 1;
    rcode->args = sc.args;
    rcode->add_args = add_args;
    rcode->redirect = redirect;
    rcode->break_cycle = break_cycle;
    rcode->name = value[1];
    rcode->next = lcf->codes->nelts - off;

    return SL_CONF_OK;
}

static char *
sl_http_rewrite_return(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_rewrite_loc_conf_t *lcf = conf;

    size_t off;
    sl_int_t status;
    sl_str_t *value, *v;
    sl_http_rewrite_return_code_t *ret;
    sl_http_compile_complex_value_t ccv;

    sl_unused(cmd);
    value = cf->args->elts;

    ret = sl_http_script_start_code(cf->pool, &lcf->codes, sizeof(sl_http_rewrite_return_code_t));
    if (ret == NULL) {
        return SL_CONF_ERROR;
    }
    sl_memzero(ret, sizeof(sl_http_rewrite_return_code_t));
    off = sl_http_rewrite_offset(lcf, ret);
    ret->code = sl_http_rewrite_return_code;

    status = sl_atoi(value[1].data, value[1].len);

    if (status == SL_ERROR) {
        if (cf->args->nelts == 2 && sl_http_rewrite_is_url(&value[1])) {
            ret->status = SL_HTTP_MOVED_TEMPORARILY;
            v = &value[1];
        } else {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid return code \"%V\"", &value[1]);
            return SL_CONF_ERROR;
        }
    } else {
        if (status > 999) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid return code \"%V\"", &value[1]);
            return SL_CONF_ERROR;
        }
        ret->status = (uintptr_t) status;
        if (cf->args->nelts == 2) {
            return SL_CONF_OK;
        }
        v = &value[2];
    }

    /* the text compiles into the pool, never into the code array: ret stays put */
    sl_memzero(&ccv, sizeof(sl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = v;
    ccv.complex_value = &((sl_http_rewrite_return_code_t *) sl_http_rewrite_at(lcf, off))->text;

    if (sl_http_compile_complex_value(&ccv) != SL_OK) {
        return SL_CONF_ERROR;
    }
    return SL_CONF_OK;
}

static char *
sl_http_rewrite_break(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_rewrite_loc_conf_t *lcf = conf;
    sl_http_script_code_pt *code;

    sl_unused(cmd);
    code = sl_http_script_start_code(cf->pool, &lcf->codes, sizeof(uintptr_t));
    if (code == NULL) {
        return SL_CONF_ERROR;
    }
    *code = sl_http_script_break_code;
    return SL_CONF_OK;
}

/* Compiles a value that "set" assigns or a condition compares: pushes it on the stack. */
static char *
sl_http_rewrite_value(sl_conf_t *cf, sl_http_rewrite_loc_conf_t *lcf, sl_str_t *value)
{
    size_t off;
    sl_int_t n;
    uintptr_t *end;
    sl_array_t *lengths;
    sl_http_script_compile_t sc;
    sl_http_script_value_code_t *val;
    sl_http_script_complex_value_code_t *complex;

    if (sl_http_script_variables_count(value) == 0) {
        val = sl_http_script_start_code(cf->pool, &lcf->codes, sizeof(sl_http_script_value_code_t));
        if (val == NULL) {
            return SL_CONF_ERROR;
        }
        n = sl_atoi(value->data, value->len);
        val->code = sl_http_script_value_code;
        val->value = (uintptr_t) (n == SL_ERROR ? 0 : n);
        val->text_len = (uintptr_t) value->len;
        val->text_data = (uintptr_t) value->data;
        return SL_CONF_OK;
    }

    complex = sl_http_script_start_code(cf->pool, &lcf->codes,
                                        sizeof(sl_http_script_complex_value_code_t));
    if (complex == NULL) {
        return SL_CONF_ERROR;
    }
    off = sl_http_rewrite_offset(lcf, complex);
    complex->code = sl_http_script_complex_value_code;
    complex->lengths = NULL;

    lengths = NULL;
    sl_memzero(&sc, sizeof(sl_http_script_compile_t));
    sc.cf = cf;
    sc.source = value;
    sc.lengths = &lengths;
    sc.values = &lcf->codes;
    sc.complete_lengths = 1;

    if (sl_http_script_compile(&sc) != SL_OK) {
        return SL_CONF_ERROR;
    }

    end = sl_http_script_add_code(lcf->codes, sizeof(uintptr_t));
    if (end == NULL) {
        return SL_CONF_ERROR;
    }
    *end = (uintptr_t) sl_http_script_complex_value_end_code;

    complex = sl_http_rewrite_at(lcf, off);
    complex->lengths = lengths;
    return SL_CONF_OK;
}

/* Pushes the value of "$name" (token includes the '$'). */
static char *
sl_http_rewrite_variable(sl_conf_t *cf, sl_http_rewrite_loc_conf_t *lcf, sl_str_t *value)
{
    sl_int_t index;
    sl_str_t name;
    sl_http_script_var_code_t *var;

    name.len = value->len - 1;
    name.data = value->data + 1;

    index = sl_http_get_variable_index(cf, &name);
    if (index == SL_ERROR) {
        return SL_CONF_ERROR;
    }

    var = sl_http_script_start_code(cf->pool, &lcf->codes, sizeof(sl_http_script_var_code_t));
    if (var == NULL) {
        return SL_CONF_ERROR;
    }
    var->code = sl_http_script_var_code;
    var->index = (uintptr_t) index;
    return SL_CONF_OK;
}

static char *
sl_http_rewrite_set(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_rewrite_loc_conf_t *lcf = conf;

    sl_int_t index;
    sl_str_t *value, name;
    sl_http_variable_t *v;
    sl_http_script_var_code_t *vcode;
    sl_http_script_var_handler_code_t *vhcode;

    sl_unused(cmd);
    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '$') {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid variable name \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }
    name.len = value[1].len - 1;
    name.data = value[1].data + 1;

    v = sl_http_add_variable(cf, &name, SL_HTTP_VAR_CHANGEABLE | SL_HTTP_VAR_WEAK);
    if (v == NULL) {
        return SL_CONF_ERROR;
    }

    index = sl_http_get_variable_index(cf, &name);
    if (index == SL_ERROR) {
        return SL_CONF_ERROR;
    }

    if (v->get_handler == NULL) {
        v->get_handler = sl_http_rewrite_var;
        v->data = (uintptr_t) index;
    }

    if (sl_http_rewrite_value(cf, lcf, &value[2]) != SL_CONF_OK) {
        return SL_CONF_ERROR;
    }

    if (v->set_handler) {
        vhcode = sl_http_script_start_code(cf->pool, &lcf->codes,
                                           sizeof(sl_http_script_var_handler_code_t));
        if (vhcode == NULL) {
            return SL_CONF_ERROR;
        }
        vhcode->code = sl_http_script_var_set_handler_code;
        vhcode->handler = v->set_handler;
        vhcode->data = v->data;
        return SL_CONF_OK;
    }

    vcode = sl_http_script_start_code(cf->pool, &lcf->codes, sizeof(sl_http_script_var_code_t));
    if (vcode == NULL) {
        return SL_CONF_ERROR;
    }
    vcode->code = sl_http_script_set_var_code;
    vcode->index = (uintptr_t) index;
    return SL_CONF_OK;
}

/* Compiles the condition of "if" into code that leaves its truth on the stack. */
static char *
sl_http_rewrite_if_condition(sl_conf_t *cf, sl_http_rewrite_loc_conf_t *lcf)
{
    u_char *p;
    size_t len;
    sl_str_t *value;
    sl_uint_t cur, last;
    sl_regex_compile_t rc;
    sl_http_script_code_pt *code;
    sl_http_script_file_code_t *fop;
    sl_http_script_regex_code_t *regex;
    sl_http_regex_t *re;

    value = cf->args->elts;
    last = cf->args->nelts - 1;

    if (value[1].len < 1 || value[1].data[0] != '(') {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid condition \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }
    if (value[1].len == 1) {
        cur = 2;
    } else {
        cur = 1;
        value[1].len--;
        value[1].data++;
    }

    if (value[last].len < 1 || value[last].data[value[last].len - 1] != ')') {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid condition \"%V\"", &value[last]);
        return SL_CONF_ERROR;
    }
    if (value[last].len == 1) {
        last--;
    } else {
        value[last].len--;
    }

    if (cur > last) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid condition \"%V\"", &value[1]);
        return SL_CONF_ERROR;
    }

    len = value[cur].len;
    p = value[cur].data;

    if (len > 1 && p[0] == '$') {

        if (cur != last && cur + 2 != last) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid condition \"%V\"", &value[cur]);
            return SL_CONF_ERROR;
        }

        if (sl_http_rewrite_variable(cf, lcf, &value[cur]) != SL_CONF_OK) {
            return SL_CONF_ERROR;
        }
        if (cur == last) {
            return SL_CONF_OK;
        }

        cur++;
        len = value[cur].len;
        p = value[cur].data;

        if ((len == 1 && p[0] == '=') || (len == 2 && p[0] == '!' && p[1] == '=')) {
            if (sl_http_rewrite_value(cf, lcf, &value[last]) != SL_CONF_OK) {
                return SL_CONF_ERROR;
            }
            code = sl_http_script_add_code(lcf->codes, sizeof(uintptr_t));
            if (code == NULL) {
                return SL_CONF_ERROR;
            }
            *code = len == 1 ? sl_http_script_equal_code : sl_http_script_not_equal_code;
            return SL_CONF_OK;
        }

        if ((len == 1 && p[0] == '~') || (len == 2 && p[0] == '~' && p[1] == '*')
            || (len == 2 && p[0] == '!' && p[1] == '~')
            || (len == 3 && p[0] == '!' && p[1] == '~' && p[2] == '*')) {

            sl_memzero(&rc, sizeof(sl_regex_compile_t));
            rc.pattern = value[last];
            rc.options = (p[len - 1] == '*') ? SL_REGEX_CASELESS : 0;

            re = sl_http_regex_compile(cf, &rc);
            if (re == NULL) {
                return SL_CONF_ERROR;
            }

            regex = sl_http_script_add_code(lcf->codes, sizeof(sl_http_script_regex_code_t));
            if (regex == NULL) {
                return SL_CONF_ERROR;
            }
            sl_memzero(regex, sizeof(sl_http_script_regex_code_t));
            regex->code = sl_http_script_regex_start_code;
            regex->regex = re;
            regex->next = sizeof(sl_http_script_regex_code_t);
            regex->test = 1;
            regex->negative_test = p[0] == '!';
            regex->name = value[last];
            return SL_CONF_OK;
        }

        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"%V\" in condition", &value[cur]);
        return SL_CONF_ERROR;
    }

    if ((len == 2 && p[0] == '-') || (len == 3 && p[0] == '!' && p[1] == '-')) {

        if (cur + 1 != last) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid condition \"%V\"", &value[cur]);
            return SL_CONF_ERROR;
        }

        switch (p[len - 1]) {
        case 'f':
        case 'd':
        case 'e':
        case 'x':
            break;
        default:
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid condition \"%V\"", &value[cur]);
            return SL_CONF_ERROR;
        }

        if (sl_http_rewrite_value(cf, lcf, &value[last]) != SL_CONF_OK) {
            return SL_CONF_ERROR;
        }

        fop = sl_http_script_add_code(lcf->codes, sizeof(sl_http_script_file_code_t));
        if (fop == NULL) {
            return SL_CONF_ERROR;
        }
        fop->code = sl_http_script_file_code;

        switch (p[len - 1]) {
        case 'f':
            fop->op = sl_http_script_file_plain;
            break;
        case 'd':
            fop->op = sl_http_script_file_dir;
            break;
        case 'e':
            fop->op = sl_http_script_file_exists;
            break;
        default:
            fop->op = sl_http_script_file_exec;
            break;
        }
        if (p[0] == '!') {
            fop->op++; /* each negation follows its test */
        }
        return SL_CONF_OK;
    }

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid condition \"%V\"", &value[cur]);
    return SL_CONF_ERROR;
}

static char *
sl_http_rewrite_if(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_http_rewrite_loc_conf_t *lcf = conf;

    char *rv;
    void *mconf;
    size_t off;
    sl_uint_t i, mi;
    sl_conf_t save;
    sl_module_t *module;
    sl_http_module_t *hmodule;
    sl_http_conf_ctx_t *ctx, *pctx;
    sl_http_core_loc_conf_t *clcf, *pclcf;
    sl_http_rewrite_if_code_t *if_code;
    sl_http_rewrite_loc_conf_t *nlcf;

    sl_unused(cmd);

    ctx = sl_pcalloc(cf->pool, sizeof(sl_http_conf_ctx_t));
    if (ctx == NULL) {
        return SL_CONF_ERROR;
    }
    pctx = cf->ctx;
    ctx->main_conf = pctx->main_conf;
    ctx->srv_conf = pctx->srv_conf;

    ctx->loc_conf = sl_pcalloc(cf->pool, sizeof(void *) * sl_http_max_module);
    if (ctx->loc_conf == NULL) {
        return SL_CONF_ERROR;
    }

    for (i = 0; cf->cycle->modules[i]; i++) {
        module = cf->cycle->modules[i];
        if (module->type != SL_HTTP_MODULE) {
            continue;
        }
        hmodule = module->ctx;
        mi = module->ctx_index;
        if (hmodule->create_loc_conf) {
            mconf = hmodule->create_loc_conf(cf);
            if (mconf == NULL) {
                return SL_CONF_ERROR;
            }
            ctx->loc_conf[mi] = mconf;
        }
    }

    pclcf = pctx->loc_conf[sl_http_core_module.ctx_index];
    clcf = ctx->loc_conf[sl_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->name = pclcf->name;
    clcf->noname = 1;

    if (sl_http_add_location(cf, &pclcf->locations, clcf) != SL_OK) {
        return SL_CONF_ERROR;
    }

    if (sl_http_rewrite_if_condition(cf, lcf) != SL_CONF_OK) {
        return SL_CONF_ERROR;
    }

    if_code = sl_http_script_add_code(lcf->codes, sizeof(sl_http_rewrite_if_code_t));
    if (if_code == NULL) {
        return SL_CONF_ERROR;
    }
    off = sl_http_rewrite_offset(lcf, if_code);
    if_code->code = sl_http_rewrite_if_code;

    /* the inner directives compile into the same program */
    nlcf = ctx->loc_conf[sl_http_rewrite_module.ctx_index];
    nlcf->codes = lcf->codes;

    save = *cf;
    cf->ctx = ctx;

    if (cf->cmd_type == SL_HTTP_SRV_CONF) {
        if_code->loc_conf = NULL;
        cf->cmd_type = SL_HTTP_SIF_CONF;
    } else {
        if_code->loc_conf = ctx->loc_conf;
        cf->cmd_type = SL_HTTP_LIF_CONF;
    }

    rv = sl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != SL_CONF_OK) {
        return rv;
    }

    if_code = sl_http_rewrite_at(lcf, off);
    if_code->next = lcf->codes->nelts - off;

    /* the program belongs to the parent block */
    nlcf->codes = NULL;
    return SL_CONF_OK;
}
