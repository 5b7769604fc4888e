/*
 * sl_shmem.h: shared memory segments, mapped by the master before fork so
 * that every worker sees the same bytes at the same address.
 */
#ifndef SL_SHMEM_H
#define SL_SHMEM_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_log.h"

typedef struct {
    u_char *addr;
    size_t size;
    sl_str_t name;
    sl_log_t *log;
    sl_uint_t exists; /* carried over from the previous cycle */
} sl_shm_t;

/* Maps shm->size bytes shared and anonymous; SL_OK or SL_ERROR (logged). */
sl_int_t sl_shm_alloc(sl_shm_t *shm);
void sl_shm_free(sl_shm_t *shm);

#endif /* SL_SHMEM_H */
