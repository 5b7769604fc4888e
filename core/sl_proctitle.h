/*
 * sl_proctitle.h: the command line each process was started with, and the
 * title ps shows for it ("sluice: master process ...", "sluice: worker
 * process", "sluice: worker process is shutting down", "sluice: health
 * check process").
 */
#ifndef SL_PROCTITLE_H
#define SL_PROCTITLE_H

#include "sl_config.h"
#include "sl_log.h"

/*
 * A heap copy of main()'s argv, NULL-terminated: the binary upgrade starts
 * the new binary with it, since the original strings are overwritten by
 * the title. Set by sl_init_setproctitle(); NULL before.
 */
extern char **sl_argv;

/*
 * Copies argv (for sl_argv) and moves the environment strings to the heap,
 * so that the memory the kernel gave argv and environ (contiguous) can
 * hold a title of any length up to their total size. Call once, at the
 * start of main(), before anything keeps a pointer into argv or environ.
 * SL_OK or SL_ERROR (no memory, logged).
 */
sl_int_t sl_init_setproctitle(int argc, char *const *argv, sl_log_t *log);

/*
 * Shows "sluice: " followed by title as this process's command line
 * (truncated to the space there is). Does nothing before
 * sl_init_setproctitle().
 */
void sl_setproctitle(const char *title);

/*
 * Writes "master process " followed by the saved command line into buf
 * (size bytes, NUL-terminated, truncated when it does not fit).
 */
void sl_master_title(char *buf, size_t size);

#endif /* SL_PROCTITLE_H */
