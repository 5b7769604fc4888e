/*
 * sl_shmem.c: anonymous shared mappings. They are created by the master
 * before fork, so every worker inherits the same bytes at the same address
 * and pointers stored inside a zone stay valid in all processes.
 */
#include "sl_config.h"
#include "sl_string.h"
#include "sl_log.h"
#include "sl_shmem.h"

sl_int_t
sl_shm_alloc(sl_shm_t *shm)
{
    void *addr;

    if (shm->size == 0) {
        sl_log_error(SL_LOG_ALERT, shm->log, 0, "zero size shared memory zone \"%V\"", &shm->name);
        return SL_ERROR;
    }

    addr = mmap(NULL, shm->size, PROT_READ | PROT_WRITE, MAP_ANON | MAP_SHARED, -1, 0);

    if (addr == MAP_FAILED) {
        sl_log_error(SL_LOG_ALERT, shm->log, sl_errno,
                     "mmap(MAP_ANON|MAP_SHARED, %uz) failed for zone \"%V\"", shm->size,
                     &shm->name);
        shm->addr = NULL;
        return SL_ERROR;
    }

    shm->addr = addr;

    return SL_OK;
}

void
sl_shm_free(sl_shm_t *shm)
{
    if (shm->addr == NULL) {
        return;
    }

    if (munmap(shm->addr, shm->size) == -1) {
        sl_log_error(SL_LOG_ALERT, shm->log, sl_errno, "munmap(%p, %uz) failed for zone \"%V\"",
                     shm->addr, shm->size, &shm->name);
    }

    shm->addr = NULL;
}
