/*
 * sl_conf_file.h: the nginx-syntax configuration parser and the module
 * directive API. A module lists its directives in a table of sl_command_t;
 * the parser finds each directive by name, checks the context and the
 * number of arguments, and calls the directive's setter with a pointer to
 * the module's configuration for the current block.
 */
#ifndef SL_CONF_FILE_H
#define SL_CONF_FILE_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_array.h"
#include "sl_buf.h"
#include "sl_log.h"

typedef struct sl_cycle_s sl_cycle_t;
typedef struct sl_conf_s sl_conf_t;
typedef struct sl_command_s sl_command_t;
typedef struct sl_module_s sl_module_t;

/* Argument counts (low bits of sl_command_t.type). */
#define SL_CONF_NOARGS 0x00000001
#define SL_CONF_TAKE1 0x00000002
#define SL_CONF_TAKE2 0x00000004
#define SL_CONF_TAKE3 0x00000008
#define SL_CONF_TAKE4 0x00000010
#define SL_CONF_TAKE5 0x00000020
#define SL_CONF_TAKE6 0x00000040
#define SL_CONF_TAKE7 0x00000080
#define SL_CONF_MAX_ARGS 8
#define SL_CONF_TAKE12 (SL_CONF_TAKE1 | SL_CONF_TAKE2)
#define SL_CONF_TAKE13 (SL_CONF_TAKE1 | SL_CONF_TAKE3)
#define SL_CONF_TAKE23 (SL_CONF_TAKE2 | SL_CONF_TAKE3)
#define SL_CONF_TAKE123 (SL_CONF_TAKE1 | SL_CONF_TAKE2 | SL_CONF_TAKE3)
#define SL_CONF_TAKE1234 (SL_CONF_TAKE1 | SL_CONF_TAKE2 | SL_CONF_TAKE3 | SL_CONF_TAKE4)
#define SL_CONF_ARGS_NUMBER 0x000000ff
#define SL_CONF_BLOCK 0x00000100 /* the directive opens a { } block */
#define SL_CONF_FLAG 0x00000200  /* exactly one argument, "on" or "off" */
#define SL_CONF_ANY 0x00000400   /* any number of arguments */
#define SL_CONF_1MORE 0x00000800
#define SL_CONF_2MORE 0x00001000

/* Contexts (high bits). SL_DIRECT_CONF: the setter gets the module's main conf. */
#define SL_DIRECT_CONF 0x00010000
#define SL_MAIN_CONF 0x01000000
#define SL_ANY_CONF 0xFF000000
#define SL_EVENT_CONF 0x02000000
#define SL_HTTP_MAIN_CONF 0x04000000
#define SL_HTTP_SRV_CONF 0x08000000
#define SL_HTTP_LOC_CONF 0x10000000
#define SL_HTTP_UPS_CONF 0x20000000
#define SL_HTTP_SIF_CONF 0x40000000 /* "if" in server */
#define SL_HTTP_LIF_CONF 0x80000000 /* "if" in location */

#define SL_CONF_UNSET -1
#define SL_CONF_UNSET_UINT (sl_uint_t) - 1
#define SL_CONF_UNSET_PTR (void *) -1
#define SL_CONF_UNSET_SIZE (size_t) - 1
#define SL_CONF_UNSET_MSEC (sl_msec_t) - 1

/* What setters return: NULL for success, or a message (see sl_conf_parse). */
#define SL_CONF_OK NULL
#define SL_CONF_ERROR (char *) -1

#define SL_CONF_BLOCK_START 1
#define SL_CONF_BLOCK_DONE 2
#define SL_CONF_FILE_DONE 3

typedef char *(*sl_conf_set_pt)(sl_conf_t *cf, sl_command_t *cmd, void *conf);

struct sl_command_s {
    sl_str_t name;
    sl_uint_t type;   /* contexts | argument counts */
    sl_conf_set_pt set;
    sl_uint_t conf;   /* offset of the conf array in the context (HTTP: main/srv/loc) */
    sl_uint_t offset; /* offset of the field in the module's conf, for generic setters */
    void *post;       /* setter-specific: sl_conf_enum_t[], sl_conf_bounds_t, ... */
};

#define sl_null_command { sl_null_string, 0, NULL, 0, 0, NULL }

typedef struct {
    sl_fd_t fd;
    sl_str_t name; /* NUL-terminated */
    sl_buf_t *buffer;
    sl_buf_t *dump; /* the file's bytes, kept for -T */
    sl_uint_t line;
} sl_conf_file_t;

typedef struct {
    sl_str_t name;
    sl_buf_t *buffer;
} sl_conf_dump_t;

/*
 * A block handler replaces directive lookup inside blocks such as types {} or
 * map {}: each line's words arrive in cf->args. A string it returns is logged
 * as 'STRING in FILE:LINE' (no directive name); a "{" inside such a block is
 * an error.
 */
typedef char *(*sl_conf_handler_pt)(sl_conf_t *cf, sl_command_t *dummy, void *conf);

struct sl_conf_s {
    char *name;
    sl_array_t *args; /* sl_str_t: args[0] is the directive name */
    sl_cycle_t *cycle;
    sl_pool_t *pool;
    sl_pool_t *temp_pool;
    sl_conf_file_t *conf_file;
    sl_log_t *log;
    void *ctx;              /* the context's conf pointers (core: cycle->conf_ctx) */
    sl_uint_t module_type;  /* only modules of this type see directives here */
    sl_uint_t cmd_type;     /* the current context flag, e.g. SL_HTTP_LOC_CONF */
    sl_conf_handler_pt handler;
    void *handler_conf;
};

/*
 * Parses a file (filename != NULL) or the rest of the current block
 * (filename == NULL), dispatching each directive. Errors are logged at
 * emerg as 'MESSAGE in FILE:LINE'; a setter that returns a string s makes
 * the parser log '"NAME" directive s in FILE:LINE'. A setter that has
 * already logged returns SL_CONF_ERROR. Returns SL_CONF_OK or SL_CONF_ERROR.
 */
char *sl_conf_parse(sl_conf_t *cf, sl_str_t *filename);
/* Parses the -g directives kept in cf->cycle->conf_param. */
char *sl_conf_param(sl_conf_t *cf);
/* The "include" directive: file names with glob patterns, relative to the conf prefix. */
char *sl_conf_include(sl_conf_t *cf, sl_command_t *cmd, void *conf);
/*
 * Makes name absolute: relative to cycle->conf_prefix when conf_prefix, else
 * to cycle->prefix. The result is NUL-terminated in the cycle's pool.
 */
sl_int_t sl_conf_full_name(sl_cycle_t *cycle, sl_str_t *name, sl_uint_t conf_prefix);
/*
 * Logs "MESSAGE[ (ERRNO: STRERROR)] in FILE:LINE" (" in command line" for -g,
 * nothing outside a file) to cf->log, or cycle->log when that is NULL. A log
 * that is stderr alone (startup, -t) or none gets "sluice: [LEVEL] ..." form.
 */
void sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...);

/* Generic setters. Each writes the field at cmd->offset of conf and logs
 * 'invalid value "TOKEN" in "NAME" directive ...' itself on a bad token
 * (num: 'invalid number', size/off: 'invalid size', msec/sec: 'invalid time').
 * A second occurrence of a flag/str/num/size/off/msec/sec/enum directive is
 * '"NAME" directive is duplicate'; str_array and keyval append. For num,
 * size, off, msec (in ms) and sec (in s), a non-NULL cmd->post is an
 * sl_conf_bounds_t. Bitmask values accumulate over directives (an unset
 * field counts as 0) and a repeated value only warns. */
char *sl_conf_set_flag_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);   /* sl_flag_t */
char *sl_conf_set_str_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);    /* sl_str_t */
char *sl_conf_set_str_array_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf); /* sl_array_t * of sl_str_t */
char *sl_conf_set_keyval_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf); /* sl_array_t * of sl_keyval_t */
char *sl_conf_set_num_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);    /* sl_int_t */
char *sl_conf_set_size_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);   /* size_t */
char *sl_conf_set_off_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);    /* off_t */
char *sl_conf_set_msec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);   /* sl_msec_t */
char *sl_conf_set_sec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);    /* time_t */
char *sl_conf_set_enum_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);   /* sl_uint_t, post = sl_conf_enum_t[] */
char *sl_conf_set_bitmask_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf);/* sl_uint_t, post = sl_conf_bitmask_t[] */

typedef struct {
    sl_str_t name;
    sl_uint_t value;
} sl_conf_enum_t;

typedef struct {
    sl_str_t name;
    sl_uint_t mask;
} sl_conf_bitmask_t;

/* post for num/size/msec setters: inclusive bounds checked after parsing. */
typedef struct {
    sl_int_t low;
    sl_int_t high;
} sl_conf_bounds_t;

#define sl_conf_init_value(conf, default) if (conf == SL_CONF_UNSET) conf = default
#define sl_conf_init_ptr_value(conf, default) if (conf == SL_CONF_UNSET_PTR) conf = default
#define sl_conf_init_uint_value(conf, default) if (conf == SL_CONF_UNSET_UINT) conf = default
#define sl_conf_init_size_value(conf, default) if (conf == SL_CONF_UNSET_SIZE) conf = default
#define sl_conf_init_msec_value(conf, default) if (conf == SL_CONF_UNSET_MSEC) conf = default

#define sl_conf_merge_value(conf, prev, default) \
    if (conf == SL_CONF_UNSET) conf = (prev == SL_CONF_UNSET) ? default : prev
#define sl_conf_merge_ptr_value(conf, prev, default) \
    if (conf == SL_CONF_UNSET_PTR) conf = (prev == SL_CONF_UNSET_PTR) ? default : prev
#define sl_conf_merge_uint_value(conf, prev, default) \
    if (conf == SL_CONF_UNSET_UINT) conf = (prev == SL_CONF_UNSET_UINT) ? default : prev
#define sl_conf_merge_msec_value(conf, prev, default) \
    if (conf == SL_CONF_UNSET_MSEC) conf = (prev == SL_CONF_UNSET_MSEC) ? default : prev
#define sl_conf_merge_sec_value(conf, prev, default) \
    if (conf == SL_CONF_UNSET) conf = (prev == SL_CONF_UNSET) ? default : prev
#define sl_conf_merge_size_value(conf, prev, default) \
    if (conf == SL_CONF_UNSET_SIZE) conf = (prev == SL_CONF_UNSET_SIZE) ? default : prev
#define sl_conf_merge_off_value(conf, prev, default) \
    if (conf == SL_CONF_UNSET) conf = (prev == SL_CONF_UNSET) ? default : prev
#define sl_conf_merge_str_value(conf, prev, default) \
    if (conf.data == NULL) { \
        if (prev.data) { conf.len = prev.len; conf.data = prev.data; } \
        else { conf.len = sizeof(default) - 1; conf.data = (u_char *) default; } \
    }

/*
 * Parser limits. A parameter (one token, measured before unescaping) longer
 * than SL_CONF_MAX_PARAM bytes is refused as 'too long parameter'; files may
 * include files at most SL_CONF_MAX_INCLUDE_DEPTH levels deep (the main file
 * is level 1), which stops a file that includes itself.
 * Each file is read whole into the cycle's pool and is recorded in
 * cycle->config_dump (once per name) when that array has been initialised,
 * which the cycle should do only for -T.
 */
#define SL_CONF_MAX_PARAM 65536
#define SL_CONF_MAX_INCLUDE_DEPTH 32

/* The module that carries "include" (type SL_CONF_MODULE, allowed in every context). */
extern sl_module_t sl_conf_module;

#endif /* SL_CONF_FILE_H */
