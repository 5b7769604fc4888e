/*
 * sl_http_variables.h: $variables. Configuration code asks for a variable's
 * index once; a request evaluates it on demand and caches the value in
 * r->variables[index] unless the variable is marked no-cacheable.
 */
#ifndef SL_HTTP_VARIABLES_H
#define SL_HTTP_VARIABLES_H

#include "sl_core.h"

typedef struct {
    unsigned len : 28;
    unsigned valid : 1;
    unsigned no_cacheable : 1;
    unsigned not_found : 1;
    unsigned escape : 1;
    u_char *data;
} sl_http_variable_value_t;

typedef struct sl_http_variable_s sl_http_variable_t;

/* Fills v (valid or not_found); SL_OK or SL_ERROR. */
typedef sl_int_t (*sl_http_get_variable_pt)(sl_http_request_t *r, sl_http_variable_value_t *v,
                                            uintptr_t data);
typedef void (*sl_http_set_variable_pt)(sl_http_request_t *r, sl_http_variable_value_t *v,
                                        uintptr_t data);

#define SL_HTTP_VAR_CHANGEABLE 1 /* "set" may assign it */
#define SL_HTTP_VAR_NOCACHEABLE 2
#define SL_HTTP_VAR_INDEXED 4
#define SL_HTTP_VAR_NOHASH 8
#define SL_HTTP_VAR_WEAK 16
#define SL_HTTP_VAR_PREFIX 32 /* "arg_", "http_", "cookie_", ... */

struct sl_http_variable_s {
    sl_str_t name; /* lowercase */
    sl_http_set_variable_pt set_handler;
    sl_http_get_variable_pt get_handler;
    uintptr_t data;
    sl_uint_t flags;
    sl_uint_t index;
};

#define sl_http_null_variable { sl_null_string, NULL, NULL, 0, 0, 0 }

/* Declares a variable (in preconfiguration); NULL when it conflicts. */
sl_http_variable_t *sl_http_add_variable(sl_conf_t *cf, sl_str_t *name, sl_uint_t flags);
/*
 * Declares every variable of a module's table (ended by sl_http_null_variable)
 * with its handler and data; SL_OK, or SL_ERROR when one conflicts.
 */
sl_int_t sl_http_add_variables(sl_conf_t *cf, sl_http_variable_t *vars);
/* Index of a variable by name; resolved (or refused) after parsing. SL_ERROR on error. */
sl_int_t sl_http_get_variable_index(sl_conf_t *cf, sl_str_t *name);
/* The value of an indexed variable (cached); NULL on error. */
sl_http_variable_value_t *sl_http_get_indexed_variable(sl_http_request_t *r, sl_uint_t index);
/* The same, re-evaluating a no-cacheable variable. */
sl_http_variable_value_t *sl_http_get_flushed_variable(sl_http_request_t *r, sl_uint_t index);
/* Looks a variable up by lowercase name at run time (slower). */
sl_http_variable_value_t *sl_http_get_variable(sl_http_request_t *r, sl_str_t *name,
                                               sl_uint_t key);

/* Regexes with $1..$9 and named captures that become variables. */
typedef struct {
    sl_uint_t capture;
    sl_int_t index;
} sl_http_regex_variable_t;

typedef struct {
    sl_regex_t *regex;
    sl_uint_t ncaptures;
    sl_http_regex_variable_t *variables;
    sl_uint_t nvariables;
    sl_str_t name;
} sl_http_regex_t;

/* Compiles rc->pattern and declares its named captures as variables; NULL on error (logged). */
sl_http_regex_t *sl_http_regex_compile(sl_conf_t *cf, sl_regex_compile_t *rc);
/* Matches s; on a match sets r->captures for $1.. and the named variables.
 * SL_OK on a match, SL_DECLINED on none, SL_ERROR on error. */
sl_int_t sl_http_regex_exec(sl_http_request_t *r, sl_http_regex_t *re, sl_str_t *s);

/* Declares the core variables; call from the core module's preconfiguration. SL_OK or SL_ERROR. */
sl_int_t sl_http_variables_add_core_vars(sl_conf_t *cf);
/* Binds every index to a variable (after all postconfigurations); SL_ERROR on an unknown name. */
sl_int_t sl_http_variables_init_vars(sl_conf_t *cf);

/* The raw value of the query argument name (case-insensitive) in r->args; SL_OK or SL_DECLINED. */
sl_int_t sl_http_arg(sl_http_request_t *r, const u_char *name, size_t len, sl_str_t *value);

#endif /* SL_HTTP_VARIABLES_H */
