/*
 * sl_cycle.h: a cycle is one loaded configuration and everything built from
 * it: module configurations, listeners, shared memory zones, open log files
 * and, in a worker, the connection table. Reload builds a new cycle beside
 * the old one; nothing else is global across it.
 */
#ifndef SL_CYCLE_H
#define SL_CYCLE_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_log.h"
#include "sl_shmem.h"
#include "sl_conf_file.h"

typedef struct sl_connection_s sl_connection_t;
typedef struct sl_event_s sl_event_t;
typedef struct sl_listening_s sl_listening_t;

typedef struct sl_shm_zone_s sl_shm_zone_t;
/* Initialises a zone; data is the same zone's data in the old cycle (or NULL). */
typedef sl_int_t (*sl_shm_zone_init_pt)(sl_shm_zone_t *zone, void *data);

struct sl_shm_zone_s {
    void *data;
    sl_shm_t shm;
    sl_shm_zone_init_pt init;
    void *tag; /* the module that owns the zone; two modules may not share a name */
    sl_uint_t noreuse;
};

struct sl_cycle_s {
    void ****conf_ctx; /* per module (by index): the core configuration */
    sl_pool_t *pool;
    sl_log_t *log;
    sl_log_t new_log;

    sl_module_t **modules;
    sl_uint_t modules_n;

    sl_connection_t *connections;
    sl_connection_t *free_connections;
    sl_uint_t connection_n;
    sl_uint_t free_connection_n;
    sl_event_t *read_events;
    sl_event_t *write_events;
    sl_queue_t reusable_connections; /* idle keep-alive, closed first when short */
    sl_uint_t reusable_connections_n;

    sl_array_t listening;    /* sl_listening_t */
    sl_list_t open_files;    /* sl_open_file_t */
    sl_list_t shared_memory; /* sl_shm_zone_t */
    sl_array_t config_dump;  /* sl_conf_dump_t, for -T */

    sl_cycle_t *old_cycle;

    sl_str_t conf_file;
    sl_str_t conf_param;
    sl_str_t conf_prefix;
    sl_str_t prefix;
    sl_str_t error_log;
    sl_str_t hostname;
};

typedef struct {
    sl_flag_t daemon;
    sl_flag_t master;
    sl_msec_t shutdown_timeout;
    sl_int_t worker_processes;
    sl_int_t rlimit_nofile;
    uid_t user;
    gid_t group;
    u_char *username;
    sl_str_t pid;
    sl_str_t oldpid;
} sl_core_conf_t;

/*
 * Builds a new cycle from old_cycle's file names and parameters: parses the
 * configuration, opens log files and listeners (reusing the old ones that
 * match), creates or carries over shared memory. Returns NULL on any error,
 * having logged why; the old cycle is untouched then.
 */
sl_cycle_t *sl_init_cycle(sl_cycle_t *old_cycle);
/* Frees what only the old cycle holds (its pool, closed listeners, zones). */
void sl_free_cycle(sl_cycle_t *cycle);
/* Registers a shared memory zone for this configuration; NULL on a conflict (logged). */
sl_shm_zone_t *sl_shared_memory_add(sl_conf_t *cf, sl_str_t *name, size_t size, void *tag);
/* Returns the open file for name (opened on init, reopened on USR1). */
sl_open_file_t *sl_conf_open_file(sl_cycle_t *cycle, sl_str_t *name);
/* Reopens every log file, for USR1. */
void sl_reopen_files(sl_cycle_t *cycle);
/* Points stderr at the error log file unless some log writes to stderr; SL_OK or SL_ERROR. */
sl_int_t sl_redirect_stderr(sl_cycle_t *cycle);
sl_int_t sl_create_pidfile(sl_str_t *name, sl_log_t *log);
void sl_delete_pidfile(sl_cycle_t *cycle);
/* -s signal: reads the pid file and sends the signal; returns 0 or 1 (exit status). */
sl_int_t sl_signal_process(sl_cycle_t *cycle, char *sig);

extern volatile sl_cycle_t *sl_cycle;
extern sl_module_t sl_core_module;
extern sl_uint_t sl_test_config;
extern sl_uint_t sl_dump_config;
extern sl_uint_t sl_quiet_mode;

#endif /* SL_CYCLE_H */
