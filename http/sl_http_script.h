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

/*
 * The script engine. A program is an array of codes, each starting with a
 * function pointer; a NULL pointer ends it. Codes that compute a length
 * return size_t (sl_http_script_len_code_pt); the others advance e->ip
 * themselves. Values are pushed on e->sp (rewrite's "set" and "if").
 */
typedef struct {
    u_char *ip;  /* the next code */
    u_char *pos; /* where the next bytes of the value being built go */
    u_char *end; /* the end of the buffer being built */
    sl_http_variable_value_t *sp;
    sl_str_t buf;  /* the value being built */
    sl_str_t line; /* the subject of the last regex */
    u_char *args;  /* the '?' in buf, for a rewrite with arguments */
    unsigned flushed : 1; /* variables were flushed before the length pass */
    unsigned skip : 1;
    unsigned quote : 1;   /* escape captures (a redirect) */
    unsigned is_args : 1; /* past the '?': escape captures as arguments */
    unsigned log : 1;     /* rewrite_log */
    sl_int_t status;      /* SL_DECLINED, or the status that stopped the program */
    sl_http_request_t *request;
} sl_http_script_engine_t;

typedef void (*sl_http_script_code_pt)(sl_http_script_engine_t *e);
typedef size_t (*sl_http_script_len_code_pt)(sl_http_script_engine_t *e);

/* Stores a length code where a code pointer goes (the engine casts it back). */
#define sl_http_script_len_code(fn) ((sl_http_script_code_pt) (void *) (fn))

typedef struct {
    sl_conf_t *cf;
    sl_str_t *source;
    sl_array_t **flushes; /* sl_uint_t indexes; NULL when not wanted */
    sl_array_t **lengths; /* created when *lengths is NULL */
    sl_array_t **values;
    sl_uint_t variables;     /* out: "$name" references compiled */
    sl_uint_t ncaptures;     /* out: highest $N used */
    sl_uint_t captures_mask; /* out: bit N for each $N used */
    sl_uint_t size;          /* out: bytes of constant text */
    unsigned compile_args : 1;     /* a '?' starts the arguments (rewrite) */
    unsigned complete_lengths : 1; /* end the length program with NULL */
    unsigned complete_values : 1;  /* end the value program with NULL */
    unsigned zero : 1;             /* NUL-terminate (not counted in the length) */
    unsigned conf_prefix : 1;
    unsigned root_prefix : 1;
    unsigned dup_capture : 1; /* out: a $N used twice */
    unsigned args : 1;        /* out: the source has a '?' */
} sl_http_script_compile_t;

/* Code layouts (each a multiple of sizeof(uintptr_t) bytes). */
typedef struct {
    sl_http_script_code_pt code;
    uintptr_t len; /* followed by len bytes of text, padded */
} sl_http_script_copy_code_t;

typedef struct {
    sl_http_script_code_pt code;
    uintptr_t index;
} sl_http_script_var_code_t;

typedef struct {
    sl_http_script_code_pt code;
    sl_http_set_variable_pt handler;
    uintptr_t data;
} sl_http_script_var_handler_code_t;

typedef struct {
    sl_http_script_code_pt code;
    uintptr_t n; /* 2 * capture number */
} sl_http_script_copy_capture_code_t;

typedef struct {
    sl_http_script_code_pt code;
    sl_http_regex_t *regex;
    sl_array_t *lengths; /* the replacement's length program */
    uintptr_t size;
    uintptr_t status;
    uintptr_t next; /* bytes from this code to the code after the rewrite */
    unsigned test : 1; /* an "if" condition: push true/false */
    unsigned negative_test : 1;
    unsigned uri : 1; /* match r->uri (rewrite), else pop the subject */
    unsigned args : 1;
    unsigned add_args : 1; /* append the original arguments */
    unsigned redirect : 1;
    unsigned break_cycle : 1;
    sl_str_t name;
} sl_http_script_regex_code_t;

typedef struct {
    sl_http_script_code_pt code;
    unsigned uri : 1;
    unsigned args : 1;
    unsigned add_args : 1;
    unsigned redirect : 1;
} sl_http_script_regex_end_code_t;

typedef struct {
    sl_http_script_code_pt code;
    uintptr_t value;
    uintptr_t text_len;
    uintptr_t text_data;
} sl_http_script_value_code_t;

typedef struct {
    sl_http_script_code_pt code;
    sl_array_t *lengths;
} sl_http_script_complex_value_code_t;

typedef enum {
    sl_http_script_file_plain = 0,
    sl_http_script_file_not_plain,
    sl_http_script_file_dir,
    sl_http_script_file_not_dir,
    sl_http_script_file_exists,
    sl_http_script_file_not_exists,
    sl_http_script_file_exec,
    sl_http_script_file_not_exec
} sl_http_script_file_op_e;

typedef struct {
    sl_http_script_code_pt code;
    uintptr_t op; /* sl_http_script_file_op_e */
} sl_http_script_file_code_t;

/*
 * Compiles sc->source into *sc->lengths and *sc->values (text, $name,
 * ${name}, $1..$9). SL_OK or SL_ERROR (logged with the bad token).
 */
sl_int_t sl_http_script_compile(sl_http_script_compile_t *sc);
/*
 * Appends size bytes (rounded up to a pointer) to a code array made by
 * sl_http_script_start_code(); NULL when out of memory. The array may move:
 * earlier code pointers are invalid afterwards, keep offsets instead.
 */
void *sl_http_script_add_code(sl_array_t *codes, size_t size);
/* The same, creating *codes (elements are bytes) in pool when it is NULL. */
void *sl_http_script_start_code(sl_pool_t *pool, sl_array_t **codes, size_t size);
/*
 * Runs a length and a value program (root_lengths / root_values) after
 * flushing every no-cacheable variable; value gets reserved spare bytes.
 * Returns the end of the value, NULL on error.
 */
u_char *sl_http_script_run(sl_http_request_t *r, sl_str_t *value, void *code_lengths,
                           size_t reserved, void *code_values);
/* Runs a program on e until a NULL code. */
void sl_http_script_run_codes(sl_http_script_engine_t *e);
/* Stops the program: the engine sees a NULL code next; status is kept in e->status. */
void sl_http_script_stop(sl_http_script_engine_t *e, sl_int_t status);

/* Codes the compiler emits; exported for modules that build programs. */
size_t sl_http_script_copy_len_code(sl_http_script_engine_t *e);
void sl_http_script_copy_code(sl_http_script_engine_t *e);
size_t sl_http_script_copy_var_len_code(sl_http_script_engine_t *e);
void sl_http_script_copy_var_code(sl_http_script_engine_t *e);
size_t sl_http_script_copy_capture_len_code(sl_http_script_engine_t *e);
void sl_http_script_copy_capture_code(sl_http_script_engine_t *e);
size_t sl_http_script_mark_args_code(sl_http_script_engine_t *e);
void sl_http_script_start_args_code(sl_http_script_engine_t *e);
/* Matches a regex (r->uri, or the popped value); a rewrite builds the replacement. */
void sl_http_script_regex_start_code(sl_http_script_engine_t *e);
/* Ends a rewrite: sets r->uri and r->args, or the Location of a redirect. */
void sl_http_script_regex_end_code(sl_http_script_engine_t *e);
/* Pushes a constant / a computed value (complex_value ... complex_value_end). */
void sl_http_script_value_code(sl_http_script_engine_t *e);
void sl_http_script_complex_value_code(sl_http_script_engine_t *e);
void sl_http_script_complex_value_end_code(sl_http_script_engine_t *e);
/* Pushes a variable's value (empty when not found). */
void sl_http_script_var_code(sl_http_script_engine_t *e);
/* Pops a value into r->variables[index] / through the variable's set handler. */
void sl_http_script_set_var_code(sl_http_script_engine_t *e);
void sl_http_script_var_set_handler_code(sl_http_script_engine_t *e);
/* Pop two values, push "1" or "": "=", "!=". */
void sl_http_script_equal_code(sl_http_script_engine_t *e);
void sl_http_script_not_equal_code(sl_http_script_engine_t *e);
/* Replaces the top value with "1" or "" after a stat() test (-f -d -e -x and negations). */
void sl_http_script_file_code(sl_http_script_engine_t *e);
/* "break": stops the program. */
void sl_http_script_break_code(sl_http_script_engine_t *e);

#endif /* SL_HTTP_SCRIPT_H */
