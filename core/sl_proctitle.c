/*
 * sl_proctitle.c: process titles for ps.
 *
 * Linux shows /proc/PID/cmdline, which is the memory the kernel laid out
 * for argv and, right after it, the environment strings. Once both are
 * copied elsewhere, that whole area may be overwritten with a title; the
 * rest of it is zeroed so no stale argument shows after the title.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_proctitle.h"

extern char **environ;

char **sl_argv;

/* the area that can hold the title; NULL when there is none */
static char *sl_title_start;
static char *sl_title_end;
/* the moved environment strings, one block (kept reachable) */
static char *sl_environ_block;


sl_int_t
sl_init_setproctitle(int argc, char *const *argv, sl_log_t *log)
{
    int i;
    char *p, *end;
    size_t size;

    /* argv: a vector and its strings in one block */
    size = (argc + 1) * sizeof(char *);

    for (i = 0; i < argc; i++) {
        size += strlen(argv[i]) + 1;
    }

    sl_argv = sl_alloc(size, log);
    if (sl_argv == NULL) {
        return SL_ERROR;
    }

    p = (char *) &sl_argv[argc + 1];

    for (i = 0; i < argc; i++) {
        sl_argv[i] = p;
        p = (char *) sl_cpymem(p, argv[i], strlen(argv[i]) + 1);
    }

    sl_argv[argc] = NULL;

    if (argc == 0 || argv[0] == NULL) {
        return SL_OK;
    }

    /* how far the contiguous argv + environ strings reach */
    end = argv[0] + strlen(argv[0]) + 1;

    for (i = 1; i < argc; i++) {
        if (argv[i] != end) {
            break;
        }
        end = argv[i] + strlen(argv[i]) + 1;
    }

    size = 0;

    for (i = 0; environ[i] != NULL; i++) {
        size += strlen(environ[i]) + 1;
    }

    if (size) {
        sl_environ_block = sl_alloc(size, log);
        if (sl_environ_block == NULL) {
            return SL_ERROR;
        }

        p = sl_environ_block;

        for (i = 0; environ[i] != NULL; i++) {
            size = strlen(environ[i]) + 1;

            if (environ[i] == end) {
                end += size;
            }

            sl_memcpy(p, environ[i], size);
            environ[i] = p;
            p += size;
        }
    }

    sl_title_start = argv[0];
    sl_title_end = end - 1; /* the last byte stays NUL */

    return SL_OK;
}


void
sl_setproctitle(const char *title)
{
    u_char *p;

    if (sl_title_start == NULL) {
        return;
    }

    p = sl_cpystrn((u_char *) sl_title_start, (u_char *) "sluice: ",
                   sl_title_end - sl_title_start + 1);
    p = sl_cpystrn(p, (u_char *) title, (u_char *) sl_title_end - p + 1);

    if ((char *) p < sl_title_end) {
        sl_memzero(p, (u_char *) sl_title_end - p);
    }
}


void
sl_master_title(char *buf, size_t size)
{
    u_char *p, *last;
    sl_uint_t i;

    if (size == 0) {
        return;
    }

    p = sl_cpystrn((u_char *) buf, (u_char *) "master process", size);
    last = (u_char *) buf + size - 1;

    for (i = 0; sl_argv != NULL && sl_argv[i] != NULL && p < last; i++) {
        *p++ = ' ';
        p = sl_cpystrn(p, (u_char *) sl_argv[i], last - p + 1);
    }

    *p = '\0';
}
