/*
 * sl_core.h: the public API of core/. Modules include this (and sl_http.h)
 * and nothing else from core/.
 */
#ifndef SL_CORE_H
#define SL_CORE_H

#include "sl_config.h"
#include "sl_string.h"
#include "sl_palloc.h"
#include "sl_array.h"
#include "sl_buf.h"
#include "sl_log.h"
#include "sl_time.h"
#include "sl_hash.h"
#include "sl_rbtree.h"
#include "sl_radix.h"
#include "sl_shmem.h"
#include "sl_shmtx.h"
#include "sl_slab.h"
#include "sl_conf_file.h"
#include "sl_module.h"
#include "sl_cycle.h"
#include "sl_regex.h"
#include "sl_event.h"
#include "sl_connection.h"
#include "sl_process.h"

#define SLUICE_VERSION "0.1.0"
#define SLUICE_VER "sluice/" SLUICE_VERSION

#endif /* SL_CORE_H */
