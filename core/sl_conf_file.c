/*
 * sl_conf_file.c: the nginx-syntax configuration parser, "include", the -g
 * parameters, error reporting with FILE:LINE, and the generic setters.
 *
 * Each file is read whole into the cycle's pool (the bytes double as the -T
 * dump), then cut into tokens: words separated by blanks, ";" ending a
 * directive, "{" and "}" around blocks, "#" comments from a token start to
 * the end of the line, '...' and "..." quoting, backslash escapes. Tokens
 * are unescaped into cf->pool, NUL-terminated, so setters may keep them.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_buf.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_module.h"
#include "sl_cycle.h"

/* Room for a message before " in FILE:LINE" is added. */
#define SL_CONF_MAX_ERRSTR 1024

/* Initial read size for files whose size fstat() does not tell (pipes). */
#define SL_CONF_READ_CHUNK 4096

typedef enum {
    SL_CONF_PARSE_FILE = 0,
    SL_CONF_PARSE_BLOCK,
    SL_CONF_PARSE_PARAM
} sl_conf_parse_type_e;

static sl_int_t sl_conf_read_file(sl_conf_t *cf, sl_conf_file_t *file);
static void sl_conf_record_dump(sl_conf_t *cf, sl_conf_file_t *file);
static sl_int_t sl_conf_read_token(sl_conf_t *cf);
static sl_int_t sl_conf_push_word(sl_conf_t *cf, u_char *start, u_char *end, sl_uint_t start_line);
static sl_int_t sl_conf_handler(sl_conf_t *cf, sl_int_t last);
static char *sl_conf_check_bounds(sl_conf_t *cf, sl_command_t *cmd, sl_int_t value);

/*
 * How many files are being parsed right now (the main file and the
 * includes above the current one). Parsing is single-threaded and every
 * increment is paired with a decrement, so this never outlives a parse.
 */
static sl_uint_t sl_conf_file_depth;

/* Argument-count bits by number of arguments (index: args - 1, name excluded). */
static const sl_uint_t sl_conf_argument_number[] = {
    SL_CONF_NOARGS, SL_CONF_TAKE1, SL_CONF_TAKE2, SL_CONF_TAKE3,
    SL_CONF_TAKE4,  SL_CONF_TAKE5, SL_CONF_TAKE6, SL_CONF_TAKE7,
};

static sl_command_t sl_conf_commands[] = {
    { sl_string("include"), SL_ANY_CONF | SL_CONF_TAKE1, sl_conf_include, 0, 0, NULL },
    sl_null_command,
};

sl_module_t sl_conf_module = {
    SL_MODULE_V1, "sl_conf_module", SL_CONF_MODULE, NULL, sl_conf_commands, NULL, NULL, NULL, NULL,
};

char *
sl_conf_param(sl_conf_t *cf)
{
    char *rv;
    sl_str_t *param;
    sl_buf_t b;
    sl_conf_file_t conf_file, *prev;

    param = &cf->cycle->conf_param;

    if (param->len == 0) {
        return SL_CONF_OK;
    }

    sl_memzero(&conf_file, sizeof(sl_conf_file_t));
    sl_memzero(&b, sizeof(sl_buf_t));

    b.start = param->data;
    b.pos = param->data;
    b.last = param->data + param->len;
    b.end = b.last;
    b.temporary = 1;

    /* An invalid fd is what marks the text as "command line" (see sl_conf_log_error). */
    conf_file.fd = SL_INVALID_FILE;
    conf_file.buffer = &b;
    conf_file.line = 1;

    prev = cf->conf_file;
    cf->conf_file = &conf_file;

    rv = sl_conf_parse(cf, NULL);

    cf->conf_file = prev;

    return rv;
}

char *
sl_conf_parse(sl_conf_t *cf, sl_str_t *filename)
{
    char *rv;
    sl_int_t rc;
    sl_conf_file_t *prev, conf_file;
    sl_conf_parse_type_e type;

    prev = NULL;

    if (cf->args == NULL) {
        cf->args = sl_array_create(cf->pool, 10, sizeof(sl_str_t));
        if (cf->args == NULL) {
            return SL_CONF_ERROR;
        }
    }

    if (filename) {
        if (sl_conf_file_depth >= SL_CONF_MAX_INCLUDE_DEPTH) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "too deep nesting of included files (more than %ui) "
                              "while opening \"%V\"",
                              (sl_uint_t) SL_CONF_MAX_INCLUDE_DEPTH, filename);
            return SL_CONF_ERROR;
        }

        sl_memzero(&conf_file, sizeof(sl_conf_file_t));

        conf_file.name.len = filename->len;
        conf_file.name.data = sl_pstrdup(cf->cycle->pool, filename);
        if (conf_file.name.data == NULL) {
            return SL_CONF_ERROR;
        }

        conf_file.fd = open((char *) conf_file.name.data, O_RDONLY | O_CLOEXEC);
        if (conf_file.fd == SL_INVALID_FILE) {
            sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno, "open() \"%V\" failed", &conf_file.name);
            return SL_CONF_ERROR;
        }

        if (sl_conf_read_file(cf, &conf_file) != SL_OK) {
            (void) close(conf_file.fd);
            return SL_CONF_ERROR;
        }

        conf_file.line = 1;

        prev = cf->conf_file;
        cf->conf_file = &conf_file;
        sl_conf_file_depth++;

        sl_conf_record_dump(cf, &conf_file);

        type = SL_CONF_PARSE_FILE;

    } else if (cf->conf_file == NULL) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "a block parsed outside of any file");
        return SL_CONF_ERROR;

    } else if (cf->conf_file->fd != SL_INVALID_FILE) {
        type = SL_CONF_PARSE_BLOCK;

    } else {
        type = SL_CONF_PARSE_PARAM;
    }

    for (;;) {
        rc = sl_conf_read_token(cf);

        if (rc == SL_ERROR) {
            goto failed;
        }

        if (rc == SL_CONF_BLOCK_DONE) {
            if (type != SL_CONF_PARSE_BLOCK) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"}\"");
                goto failed;
            }
            goto done;
        }

        if (rc == SL_CONF_FILE_DONE) {
            if (type == SL_CONF_PARSE_BLOCK) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected end of file, expecting \"}\"");
                goto failed;
            }
            goto done;
        }

        if (rc == SL_CONF_BLOCK_START && type == SL_CONF_PARSE_PARAM) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "block directives are not supported in -g option");
            goto failed;
        }

        /* rc is SL_OK or SL_CONF_BLOCK_START, with at least one word in cf->args. */

        if (cf->handler) {
            /* A block such as types {} takes its lines as data, not as directives. */
            if (rc == SL_CONF_BLOCK_START) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"{\"");
                goto failed;
            }

            rv = cf->handler(cf, NULL, cf->handler_conf);
            if (rv == SL_CONF_OK) {
                continue;
            }
            if (rv != SL_CONF_ERROR) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "%s", rv);
            }
            goto failed;
        }

        if (sl_conf_handler(cf, rc) != SL_OK) {
            goto failed;
        }
    }

failed:

    rc = SL_ERROR;

done:

    if (filename) {
        if (close(cf->conf_file->fd) == -1) {
            sl_conf_log_error(SL_LOG_ALERT, cf, sl_errno, "close() \"%V\" failed",
                              &cf->conf_file->name);
            rc = SL_ERROR;
        }

        sl_conf_file_depth--;
        cf->conf_file = prev;
    }

    return (rc == SL_ERROR) ? SL_CONF_ERROR : SL_CONF_OK;
}

/*
 * Reads the whole of file->fd into the cycle's pool and points file->buffer
 * and file->dump at the bytes. Errors are reported at the includer's line.
 */
static sl_int_t
sl_conf_read_file(sl_conf_t *cf, sl_conf_file_t *file)
{
    u_char *data, *bigger;
    size_t size, len;
    ssize_t n;
    struct stat st;
    sl_buf_t *buf, *dump;

    if (fstat(file->fd, &st) == -1) {
        sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno, "fstat() \"%V\" failed", &file->name);
        return SL_ERROR;
    }

    /* One spare byte, so that a regular file ends with a read of 0 and never a resize. */
    if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t) st.st_size < (uint64_t) SIZE_MAX / 2) {
        size = (size_t) st.st_size + 1;
    } else {
        size = SL_CONF_READ_CHUNK;
    }

    data = sl_pnalloc(cf->cycle->pool, size);
    if (data == NULL) {
        return SL_ERROR;
    }

    len = 0;

    for (;;) {
        if (len == size) {
            if (size > SIZE_MAX / 2) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "file \"%V\" is too large", &file->name);
                return SL_ERROR;
            }

            bigger = sl_pnalloc(cf->cycle->pool, size * 2);
            if (bigger == NULL) {
                return SL_ERROR;
            }

            sl_memcpy(bigger, data, len);
            (void) sl_pfree(cf->cycle->pool, data);
            data = bigger;
            size *= 2;
        }

        n = read(file->fd, data + len, size - len);

        if (n == -1) {
            if (sl_errno == EINTR) {
                continue;
            }
            sl_conf_log_error(SL_LOG_EMERG, cf, sl_errno, "read() \"%V\" failed", &file->name);
            return SL_ERROR;
        }

        if (n == 0) {
            break;
        }

        len += (size_t) n;
    }

    buf = sl_calloc_buf(cf->cycle->pool);
    dump = sl_calloc_buf(cf->cycle->pool);
    if (buf == NULL || dump == NULL) {
        return SL_ERROR;
    }

    buf->start = data;
    buf->pos = data;
    buf->last = data + len;
    buf->end = data + len;
    buf->temporary = 1;

    *dump = *buf;

    file->buffer = buf;
    file->dump = dump;

    return SL_OK;
}

/* Remembers the file for -T, once per name, when the cycle keeps a dump. */
static void
sl_conf_record_dump(sl_conf_t *cf, sl_conf_file_t *file)
{
    sl_uint_t i;
    sl_conf_dump_t *cd;
    sl_array_t *dumps;

    dumps = &cf->cycle->config_dump;

    if (dumps->elts == NULL) {
        return;
    }

    cd = dumps->elts;

    for (i = 0; i < dumps->nelts; i++) {
        if (sl_str_eq(&cd[i].name, &file->name)) {
            return;
        }
    }

    cd = sl_array_push(dumps);
    if (cd == NULL) {
        /* Only -T output would miss this file; parsing goes on. */
        sl_conf_log_error(SL_LOG_ALERT, cf, 0, "cannot keep \"%V\" for -T", &file->name);
        return;
    }

    cd->name = file->name;
    cd->buffer = file->dump;
}

/*
 * Reads one directive into cf->args. Returns SL_OK at ";",
 * SL_CONF_BLOCK_START at "{", SL_CONF_BLOCK_DONE at "}", SL_CONF_FILE_DONE at
 * the end of the text, SL_ERROR (logged) on bad syntax. The rules are
 * nginx's, so that nginx configurations cut into the same tokens.
 */
static sl_int_t
sl_conf_read_token(sl_conf_t *cf)
{
    u_char ch, *start;
    sl_buf_t *b;
    sl_uint_t start_line, found, need_space, last_space, sharp_comment, variable, quoted, s_quoted,
        d_quoted;

    found = 0;
    need_space = 0;
    last_space = 1;
    sharp_comment = 0;
    variable = 0;
    quoted = 0;
    s_quoted = 0;
    d_quoted = 0;

    cf->args->nelts = 0;
    b = cf->conf_file->buffer;
    start = b->pos;
    start_line = cf->conf_file->line;

    for (;;) {
        if (b->pos >= b->last) {
            if (cf->args->nelts == 0 && last_space) {
                return SL_CONF_FILE_DONE;
            }

            if (cf->conf_file->fd == SL_INVALID_FILE) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "unexpected end of parameter, expecting \";\"");

            } else if (s_quoted || d_quoted) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "unexpected end of file, unbalanced quotes "
                                  "in the parameter started on line %ui",
                                  start_line);

            } else {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "unexpected end of file, expecting \";\" or \"}\"");
            }

            return SL_ERROR;
        }

        ch = *b->pos++;

        if (ch == LF) {
            cf->conf_file->line++;

            if (sharp_comment) {
                sharp_comment = 0;
            }
        }

        if (sharp_comment) {
            continue;
        }

        if (quoted) {
            quoted = 0;
            continue;
        }

        if (need_space) {
            if (ch == ' ' || ch == '\t' || ch == CR || ch == LF) {
                last_space = 1;
                need_space = 0;
                continue;
            }

            if (ch == ';') {
                return SL_OK;
            }

            if (ch == '{') {
                return SL_CONF_BLOCK_START;
            }

            if (ch == ')') {
                /* "if ($a = "b")": the ")" becomes a word of its own below. */
                last_space = 1;
                need_space = 0;

            } else {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"%c\"", (int) ch);
                return SL_ERROR;
            }
        }

        if (last_space) {
            start = b->pos - 1;
            start_line = cf->conf_file->line;

            if (ch == ' ' || ch == '\t' || ch == CR || ch == LF) {
                continue;
            }

            switch (ch) {
            case ';':
            case '{':
                if (cf->args->nelts == 0) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"%c\"", (int) ch);
                    return SL_ERROR;
                }

                if (ch == '{') {
                    return SL_CONF_BLOCK_START;
                }

                return SL_OK;

            case '}':
                if (cf->args->nelts != 0) {
                    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unexpected \"}\"");
                    return SL_ERROR;
                }

                return SL_CONF_BLOCK_DONE;

            case '#':
                sharp_comment = 1;
                continue;

            case '\\':
                quoted = 1;
                last_space = 0;
                continue;

            case '"':
                start++;
                d_quoted = 1;
                last_space = 0;
                continue;

            case '\'':
                start++;
                s_quoted = 1;
                last_space = 0;
                continue;

            case '$':
                variable = 1;
                last_space = 0;
                continue;

            default:
                last_space = 0;
            }

        } else {
            /* "${name}" keeps its braces: the HTTP script engine expands it later. */
            if (ch == '{' && variable) {
                continue;
            }

            variable = 0;

            if (ch == '\\') {
                quoted = 1;
                continue;
            }

            if (ch == '$') {
                variable = 1;
                continue;
            }

            if (d_quoted) {
                if (ch == '"') {
                    d_quoted = 0;
                    need_space = 1;
                    found = 1;
                }

            } else if (s_quoted) {
                if (ch == '\'') {
                    s_quoted = 0;
                    need_space = 1;
                    found = 1;
                }

            } else if (ch == ' ' || ch == '\t' || ch == CR || ch == LF || ch == ';' || ch == '{') {
                last_space = 1;
                found = 1;
            }

            if (found) {
                if (sl_conf_push_word(cf, start, b->pos - 1, start_line) != SL_OK) {
                    return SL_ERROR;
                }

                if (ch == ';') {
                    return SL_OK;
                }

                if (ch == '{') {
                    return SL_CONF_BLOCK_START;
                }

                found = 0;
            }
        }
    }
}

/* Appends [start, end) to cf->args, unescaped and NUL-terminated in cf->pool. */
static sl_int_t
sl_conf_push_word(sl_conf_t *cf, u_char *start, u_char *end, sl_uint_t start_line)
{
    u_char *src, *dst;
    sl_str_t *word;

    if ((size_t) (end - start) > SL_CONF_MAX_PARAM) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "too long parameter \"%*s...\" started on line %ui",
                          (size_t) 16, start, start_line);
        return SL_ERROR;
    }

    word = sl_array_push(cf->args);
    if (word == NULL) {
        return SL_ERROR;
    }

    word->data = sl_pnalloc(cf->pool, (size_t) (end - start) + 1);
    if (word->data == NULL) {
        return SL_ERROR;
    }

    dst = word->data;
    src = start;

    while (src < end) {
        if (*src == '\\' && src + 1 < end) {
            switch (src[1]) {
            case '"':
            case '\'':
            case '\\':
                src++;
                break;

            case 't':
                *dst++ = '\t';
                src += 2;
                continue;

            case 'r':
                *dst++ = '\r';
                src += 2;
                continue;

            case 'n':
                *dst++ = '\n';
                src += 2;
                continue;

            default:
                /* Any other escape stays as written: regexes need "\d", "\." ... */
                break;
            }
        }

        *dst++ = *src++;
    }

    *dst = '\0';
    word->len = (size_t) (dst - word->data);

    return SL_OK;
}

/* Finds the directive in cf->args[0] among the modules and calls its setter. */
static sl_int_t
sl_conf_handler(sl_conf_t *cf, sl_int_t last)
{
    char *rv;
    void *conf, **confp;
    sl_uint_t i, found, nargs;
    sl_str_t *name;
    sl_module_t *module;
    sl_command_t *cmd;

    name = cf->args->elts;
    nargs = cf->args->nelts - 1;
    found = 0;

    for (i = 0; i < cf->cycle->modules_n; i++) {
        module = cf->cycle->modules[i];

        if (module == NULL) {
            break;
        }

        if (module->commands == NULL) {
            continue;
        }

        for (cmd = module->commands; cmd->name.len; cmd++) {
            if (!sl_str_eq(name, &cmd->name)) {
                continue;
            }

            found = 1;

            /* The same name may exist in modules of other types or contexts. */
            if (module->type != SL_CONF_MODULE && module->type != cf->module_type) {
                continue;
            }

            if (!(cmd->type & cf->cmd_type)) {
                continue;
            }

            if (!(cmd->type & SL_CONF_BLOCK) && last != SL_OK) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "directive \"%V\" is not terminated by \";\"", name);
                return SL_ERROR;
            }

            if ((cmd->type & SL_CONF_BLOCK) && last != SL_CONF_BLOCK_START) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "directive \"%V\" has no opening \"{\"",
                                  name);
                return SL_ERROR;
            }

            if (!(cmd->type & SL_CONF_ANY)) {
                if (cmd->type & SL_CONF_FLAG) {
                    if (nargs != 1) {
                        goto invalid;
                    }

                } else if (cmd->type & SL_CONF_1MORE) {
                    if (nargs < 1) {
                        goto invalid;
                    }

                } else if (cmd->type & SL_CONF_2MORE) {
                    if (nargs < 2) {
                        goto invalid;
                    }

                } else if (nargs >= SL_CONF_MAX_ARGS) {
                    goto invalid;

                } else if (!(cmd->type & sl_conf_argument_number[nargs])) {
                    goto invalid;
                }
            }

            conf = NULL;

            if (cf->ctx == NULL) {
                /* No context to point into (a bare parse); the setter gets NULL. */

            } else if (cmd->type & SL_DIRECT_CONF) {
                conf = ((void **) cf->ctx)[module->index];

            } else if (cmd->type & SL_MAIN_CONF) {
                conf = &(((void **) cf->ctx)[module->index]);

            } else {
                confp = *(void **) ((char *) cf->ctx + cmd->conf);

                if (confp) {
                    conf = confp[module->ctx_index];
                }
            }

            rv = cmd->set(cf, cmd, conf);

            if (rv == SL_CONF_OK) {
                return SL_OK;
            }

            if (rv != SL_CONF_ERROR) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0, "\"%V\" directive %s", name, rv);
            }

            return SL_ERROR;
        }
    }

    if (found) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "\"%V\" directive is not allowed here", name);
        return SL_ERROR;
    }

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "unknown directive \"%V\"", name);
    return SL_ERROR;

invalid:

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid number of arguments in \"%V\" directive", name);
    return SL_ERROR;
}

char *
sl_conf_include(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    int rc;
    char *rv;
    size_t i;
    glob_t gl;
    sl_str_t *value, file, name;

    sl_unused(cmd);
    sl_unused(conf);

    value = cf->args->elts;
    file = value[1];

    if (sl_conf_full_name(cf->cycle, &file, 1) != SL_OK) {
        return SL_CONF_ERROR;
    }

    if (strpbrk((char *) file.data, "*?[") == NULL) {
        return sl_conf_parse(cf, &file);
    }

    sl_memzero(&gl, sizeof(glob_t));

    rc = glob((char *) file.data, 0, NULL, &gl);

    if (rc == GLOB_NOMATCH) {
        /* A pattern that matches nothing is an empty include, as in nginx. */
        globfree(&gl);
        return SL_CONF_OK;
    }

    if (rc != 0) {
        globfree(&gl);
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "glob() \"%V\" failed", &file);
        return SL_CONF_ERROR;
    }

    rv = SL_CONF_OK;

    /* glob() sorts its matches, so a directory of files loads in a fixed order. */
    for (i = 0; i < gl.gl_pathc; i++) {
        name.len = sl_strlen(gl.gl_pathv[i]);
        name.data = (u_char *) gl.gl_pathv[i];

        rv = sl_conf_parse(cf, &name);

        if (rv != SL_CONF_OK) {
            break;
        }
    }

    globfree(&gl);

    return rv;
}

sl_int_t
sl_conf_full_name(sl_cycle_t *cycle, sl_str_t *name, sl_uint_t conf_prefix)
{
    u_char *p, *data;
    size_t len;
    sl_str_t *prefix;
    sl_uint_t slash;

    prefix = conf_prefix ? &cycle->conf_prefix : &cycle->prefix;

    if (name->len > 0 && name->data[0] == '/') {
        len = 0;
        slash = 0;

    } else {
        len = prefix->len;
        slash = (len > 0 && prefix->data[len - 1] != '/');
    }

    data = sl_pnalloc(cycle->pool, len + slash + name->len + 1);
    if (data == NULL) {
        return SL_ERROR;
    }

    p = data;

    if (len) {
        p = sl_cpymem(p, prefix->data, len);
    }

    if (slash) {
        *p++ = '/';
    }

    if (name->len) {
        p = sl_cpymem(p, name->data, name->len);
    }

    *p = '\0';

    name->len = (size_t) (p - data);
    name->data = data;

    return SL_OK;
}

void
sl_conf_log_error(sl_uint_t level, sl_conf_t *cf, sl_err_t err, const char *fmt, ...)
{
    u_char errstr[SL_CONF_MAX_ERRSTR], where[PATH_MAX + 64], *p, *w;
    va_list args;
    sl_log_t *log;

    va_start(args, fmt);
    p = sl_vslprintf(errstr, errstr + sizeof(errstr), fmt, args);
    va_end(args);

    if (err) {
        p = sl_slprintf(p, errstr + sizeof(errstr), " (%d: %s)", err, strerror(err));
    }

    /* The location is formatted apart so that a long message never cuts it off. */
    w = where;

    if (cf->conf_file == NULL) {
        /* Not inside any file: the message stands alone. */

    } else if (cf->conf_file->fd == SL_INVALID_FILE) {
        w = sl_slprintf(where, where + sizeof(where), " in command line");

    } else {
        w = sl_slprintf(where, where + sizeof(where), " in %V:%ui", &cf->conf_file->name,
                        cf->conf_file->line);
    }

    log = cf->log;

    if (log == NULL && cf->cycle) {
        log = cf->cycle->log;
    }

    /*
     * Before any error_log is open (startup, -t) the log is stderr alone:
     * print the short form "sluice: [emerg] ... in FILE:LINE" there.
     */
    if (log == NULL
        || (log->next == NULL && (log->file == NULL || log->file->fd == STDERR_FILENO))) {
        if (log == NULL || log->log_level >= level) {
            sl_log_stderr_level(level, 0, "%*s%*s", (size_t) (p - errstr), errstr,
                                (size_t) (w - where), where);
        }
        return;
    }

    sl_log_error(level, log, 0, "%*s%*s", (size_t) (p - errstr), errstr, (size_t) (w - where),
                 where);
}

/* Generic setters. */

char *
sl_conf_set_flag_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value;
    sl_flag_t *fp;

    fp = (sl_flag_t *) ((u_char *) conf + cmd->offset);

    if (*fp != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (sl_str_caseeq_lit(&value[1], "on")) {
        *fp = 1;

    } else if (sl_str_caseeq_lit(&value[1], "off")) {
        *fp = 0;

    } else {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                          "invalid value \"%V\" in \"%V\" directive, "
                          "it must be \"on\" or \"off\"",
                          &value[1], &cmd->name);
        return SL_CONF_ERROR;
    }

    return SL_CONF_OK;
}

char *
sl_conf_set_str_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *field, *value;

    field = (sl_str_t *) ((u_char *) conf + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *field = value[1];

    return SL_CONF_OK;
}

char *
sl_conf_set_str_array_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value, *s;
    sl_array_t **a;

    a = (sl_array_t **) ((u_char *) conf + cmd->offset);

    if (*a == SL_CONF_UNSET_PTR || *a == NULL) {
        *a = sl_array_create(cf->pool, 4, sizeof(sl_str_t));
        if (*a == NULL) {
            return SL_CONF_ERROR;
        }
    }

    s = sl_array_push(*a);
    if (s == NULL) {
        return SL_CONF_ERROR;
    }

    value = cf->args->elts;

    *s = value[1];

    return SL_CONF_OK;
}

char *
sl_conf_set_keyval_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_str_t *value;
    sl_array_t **a;
    sl_keyval_t *kv;

    a = (sl_array_t **) ((u_char *) conf + cmd->offset);

    if (*a == SL_CONF_UNSET_PTR || *a == NULL) {
        *a = sl_array_create(cf->pool, 4, sizeof(sl_keyval_t));
        if (*a == NULL) {
            return SL_CONF_ERROR;
        }
    }

    kv = sl_array_push(*a);
    if (kv == NULL) {
        return SL_CONF_ERROR;
    }

    value = cf->args->elts;

    kv->key = value[1];
    kv->value = value[2];

    return SL_CONF_OK;
}

/* Checks value against cmd->post (sl_conf_bounds_t), when there is one. */
static char *
sl_conf_check_bounds(sl_conf_t *cf, sl_command_t *cmd, sl_int_t value)
{
    sl_str_t *args;
    sl_conf_bounds_t *bounds;

    bounds = cmd->post;

    if (bounds == NULL || (value >= bounds->low && value <= bounds->high)) {
        return SL_CONF_OK;
    }

    args = cf->args->elts;

    sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                      "invalid value \"%V\" in \"%V\" directive, it must be between %i and %i",
                      &args[1], &cmd->name, bounds->low, bounds->high);

    return SL_CONF_ERROR;
}

char *
sl_conf_set_num_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_int_t *np, n;
    sl_str_t *value;

    np = (sl_int_t *) ((u_char *) conf + cmd->offset);

    if (*np != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = sl_atoi(value[1].data, value[1].len);
    if (n == SL_ERROR) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid number \"%V\" in \"%V\" directive",
                          &value[1], &cmd->name);
        return SL_CONF_ERROR;
    }

    if (sl_conf_check_bounds(cf, cmd, n) != SL_CONF_OK) {
        return SL_CONF_ERROR;
    }

    *np = n;

    return SL_CONF_OK;
}

char *
sl_conf_set_size_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    size_t *sp;
    ssize_t n;
    sl_str_t *value;

    sp = (size_t *) ((u_char *) conf + cmd->offset);

    if (*sp != SL_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = sl_parse_size(&value[1]);
    if (n < 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid size \"%V\" in \"%V\" directive", &value[1],
                          &cmd->name);
        return SL_CONF_ERROR;
    }

    if (sl_conf_check_bounds(cf, cmd, (sl_int_t) n) != SL_CONF_OK) {
        return SL_CONF_ERROR;
    }

    *sp = (size_t) n;

    return SL_CONF_OK;
}

char *
sl_conf_set_off_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    off_t *op, n;
    sl_str_t *value;

    op = (off_t *) ((u_char *) conf + cmd->offset);

    if (*op != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = sl_parse_offset(&value[1]);
    if (n < 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid size \"%V\" in \"%V\" directive", &value[1],
                          &cmd->name);
        return SL_CONF_ERROR;
    }

    if (sl_conf_check_bounds(cf, cmd, (sl_int_t) n) != SL_CONF_OK) {
        return SL_CONF_ERROR;
    }

    *op = n;

    return SL_CONF_OK;
}

char *
sl_conf_set_msec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_int_t ms;
    sl_msec_t *msp;
    sl_str_t *value;

    msp = (sl_msec_t *) ((u_char *) conf + cmd->offset);

    if (*msp != SL_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ms = sl_parse_time(&value[1], 0);
    if (ms < 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid time \"%V\" in \"%V\" directive", &value[1],
                          &cmd->name);
        return SL_CONF_ERROR;
    }

    if (sl_conf_check_bounds(cf, cmd, ms) != SL_CONF_OK) {
        return SL_CONF_ERROR;
    }

    *msp = (sl_msec_t) ms;

    return SL_CONF_OK;
}

char *
sl_conf_set_sec_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    time_t *sp;
    sl_int_t s;
    sl_str_t *value;

    sp = (time_t *) ((u_char *) conf + cmd->offset);

    if (*sp != SL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    s = sl_parse_time(&value[1], 1);
    if (s < 0) {
        sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid time \"%V\" in \"%V\" directive", &value[1],
                          &cmd->name);
        return SL_CONF_ERROR;
    }

    if (sl_conf_check_bounds(cf, cmd, s) != SL_CONF_OK) {
        return SL_CONF_ERROR;
    }

    *sp = (time_t) s;

    return SL_CONF_OK;
}

char *
sl_conf_set_enum_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_uint_t *np, i;
    sl_str_t *value;
    sl_conf_enum_t *e;

    np = (sl_uint_t *) ((u_char *) conf + cmd->offset);

    if (*np != SL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e && e[i].name.len != 0; i++) {
        if (sl_str_caseeq(&e[i].name, &value[1])) {
            *np = e[i].value;
            return SL_CONF_OK;
        }
    }

    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" directive", &value[1],
                      &cmd->name);

    return SL_CONF_ERROR;
}

char *
sl_conf_set_bitmask_slot(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_uint_t *np, i, m;
    sl_str_t *value;
    sl_conf_bitmask_t *mask;

    np = (sl_uint_t *) ((u_char *) conf + cmd->offset);
    value = cf->args->elts;
    mask = cmd->post;

    if (*np == SL_CONF_UNSET_UINT) {
        *np = 0;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        for (m = 0; mask && mask[m].name.len != 0; m++) {
            if (sl_str_caseeq(&mask[m].name, &value[i])) {
                break;
            }
        }

        if (mask == NULL || mask[m].name.len == 0) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" directive",
                              &value[i], &cmd->name);
            return SL_CONF_ERROR;
        }

        if (*np & mask[m].mask) {
            sl_conf_log_error(SL_LOG_WARN, cf, 0, "duplicate value \"%V\" in \"%V\" directive",
                              &value[i], &cmd->name);
        } else {
            *np |= mask[m].mask;
        }
    }

    return SL_CONF_OK;
}
