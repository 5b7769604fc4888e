/*
 * sl_shmtx.c: robust process-shared pthread mutexes. A worker that dies
 * (crash, SIGKILL, OOM) while holding a zone lock must not wedge the
 * others, so EOWNERDEAD is handled here once for every user.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_log.h"
#include "sl_conf_file.h"
#include "sl_cycle.h"
#include "sl_shmtx.h"

static void sl_shmtx_owner_died(sl_shmtx_t *mtx, const char *op);
static void sl_shmtx_log(sl_log_t *log, sl_err_t err, const char *fmt, ...);

sl_int_t
sl_shmtx_create(sl_shmtx_t *mtx, sl_shmtx_sh_t *addr, sl_log_t *log)
{
    int err;
    pthread_mutexattr_t attr;

    err = pthread_mutexattr_init(&attr);
    if (err != 0) {
        sl_shmtx_log(log, err, "pthread_mutexattr_init() failed");
        return SL_ERROR;
    }

    err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (err != 0) {
        sl_shmtx_log(log, err, "pthread_mutexattr_setpshared() failed");
        goto failed;
    }

    err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (err != 0) {
        sl_shmtx_log(log, err, "pthread_mutexattr_setrobust() failed");
        goto failed;
    }

    err = pthread_mutex_init(&addr->mutex, &attr);
    if (err != 0) {
        sl_shmtx_log(log, err, "pthread_mutex_init() failed");
        goto failed;
    }

    (void) pthread_mutexattr_destroy(&attr);

    mtx->mutex = &addr->mutex;

    return SL_OK;

failed:

    (void) pthread_mutexattr_destroy(&attr);

    return SL_ERROR;
}

void
sl_shmtx_lock(sl_shmtx_t *mtx)
{
    int err;

    err = pthread_mutex_lock(mtx->mutex);

    if (err == 0) {
        return;
    }

    if (err == EOWNERDEAD) {
        sl_shmtx_owner_died(mtx, "lock");
        return;
    }

    sl_shmtx_log(NULL, err, "pthread_mutex_lock(%p) failed", mtx->mutex);
}

sl_uint_t
sl_shmtx_trylock(sl_shmtx_t *mtx)
{
    int err;

    err = pthread_mutex_trylock(mtx->mutex);

    if (err == 0) {
        return 1;
    }

    if (err == EBUSY) {
        return 0;
    }

    if (err == EOWNERDEAD) {
        sl_shmtx_owner_died(mtx, "trylock");
        return 1;
    }

    sl_shmtx_log(NULL, err, "pthread_mutex_trylock(%p) failed", mtx->mutex);

    return 0;
}

void
sl_shmtx_unlock(sl_shmtx_t *mtx)
{
    int err;

    err = pthread_mutex_unlock(mtx->mutex);

    if (err != 0) {
        sl_shmtx_log(NULL, err, "pthread_mutex_unlock(%p) failed", mtx->mutex);
    }
}

void
sl_shmtx_destroy(sl_shmtx_t *mtx)
{
    int err;

    err = pthread_mutex_destroy(mtx->mutex);

    if (err != 0) {
        sl_shmtx_log(NULL, err, "pthread_mutex_destroy(%p) failed", mtx->mutex);
    }
}

/* We hold the lock a dead process left; mark it usable again and say so. */
static void
sl_shmtx_owner_died(sl_shmtx_t *mtx, const char *op)
{
    int err;

    err = pthread_mutex_consistent(mtx->mutex);

    sl_shmtx_log(NULL, 0,
                 "shared mutex %p: a process died holding the lock, recovered on %s; "
                 "the data it protects may be half-updated",
                 mtx->mutex, op);

    if (err != 0) {
        sl_shmtx_log(NULL, err, "pthread_mutex_consistent(%p) failed", mtx->mutex);
    }
}

/* Logs at alert on log, else on the cycle's log, else on stderr. */
static void
sl_shmtx_log(sl_log_t *log, sl_err_t err, const char *fmt, ...)
{
    u_char buf[256], *last;
    va_list args;

    va_start(args, fmt);
    last = sl_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (log == NULL && sl_cycle) {
        log = sl_cycle->log;
    }

    if (log) {
        sl_log_error(SL_LOG_ALERT, log, err, "%*s", (size_t) (last - buf), buf);
    } else {
        sl_log_stderr(err, "%*s", (size_t) (last - buf), buf);
    }
}
