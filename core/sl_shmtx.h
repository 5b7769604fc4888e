/*
 * sl_shmtx.h: process-shared robust mutexes living in shared memory.
 *
 * When a process dies holding the lock, the next locker gets it anyway (the
 * kernel hands over a robust mutex with EOWNERDEAD); this is logged at alert
 * and the mutex is made consistent again. The data it protects may then be
 * half-updated: every user must order its writes so that a reader (or the
 * next writer) can resume from any point, e.g. link a node only once it is
 * complete and keep counters that a half-done update leaves merely stale.
 *
 * Log lines go to the current cycle's log (sl_cycle->log), which is valid in
 * every process, or to stderr before a cycle exists.
 */
#ifndef SL_SHMTX_H
#define SL_SHMTX_H

#include "sl_config.h"
#include "sl_log.h"

#include <pthread.h>

/* The lock itself; place it in shared memory. */
typedef struct {
    pthread_mutex_t mutex;
} sl_shmtx_sh_t;

/* A handle to a lock in shared memory; may itself live anywhere. */
typedef struct {
    pthread_mutex_t *mutex;
} sl_shmtx_t;

/*
 * Initialises the lock at addr (shared memory, mapped before fork) as a
 * process-shared robust mutex and points mtx at it. SL_OK or SL_ERROR,
 * logged on log (NULL: the cycle's log or stderr). Must not be called on a
 * lock some process may hold.
 */
sl_int_t sl_shmtx_create(sl_shmtx_t *mtx, sl_shmtx_sh_t *addr, sl_log_t *log);
/* Takes the lock, waiting as long as needed; recovers it from a dead owner (see above). */
void sl_shmtx_lock(sl_shmtx_t *mtx);
/* Takes the lock if free (or left by a dead owner); returns 1 when taken, 0 otherwise. */
sl_uint_t sl_shmtx_trylock(sl_shmtx_t *mtx);
/* Releases a lock this process holds. */
void sl_shmtx_unlock(sl_shmtx_t *mtx);
/* Destroys the lock; nobody may hold or wait for it. */
void sl_shmtx_destroy(sl_shmtx_t *mtx);

#endif /* SL_SHMTX_H */
