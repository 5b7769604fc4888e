/*
 * sl_http_script.h: values with variables in them ("complex values") and
 * the small script engine behind rewrite, set, if and return. A value is
 * compiled once at configuration time into code that computes its length
 * and then copies its parts, so a request costs no parsing.
 */
#ifndef SL_HTTP_SCRIPT_H
#define SL_HTTP_SCRIPT_H

#include "sl_core.h"

typedef struct {
    sl_str_t value;     /* the source text; the value itself when it has no variables */
    sl_uint_t *flushes; /* indexes of no-cacheable variables to re-evaluate */
    void *lengths;      /* compiled code: NULL when the value is constant */
    void *values;
} sl_http_complex_value_t;

typedef struct {
    sl_conf_t *cf;
    sl_str_t *value;
    sl_http_complex_value_t *complex_value;
    unsigned zero : 1;        /* NUL-terminate the result */
    unsigned conf_prefix : 1; /* relative to the configuration prefix */
    unsigned root_prefix : 1; /* relative to the server prefix */
} sl_http_compile_complex_value_t;

/* Compiles a value; SL_OK or SL_ERROR (logged with file:line and the bad token). */
sl_int_t sl_http_compile_complex_value(sl_http_compile_complex_value_t *ccv);
/* Evaluates a compiled value into pool memory of r; SL_OK or SL_ERROR. */
sl_int_t sl_http_complex_value(sl_http_request_t *r, sl_http_complex_value_t *val,
                               sl_str_t *value);
/* A setter for directives whose one argument is a complex value (field: sl_http_complex_value_t *). */
char *sl_http_set_complex_value_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);
/* Counts "$name" references; 0 means the text is constant. */
sl_uint_t sl_http_script_variables_count(sl_str_t *value);

#endif /* SL_HTTP_SCRIPT_H */
