/*
 * sl_config.h: system headers, basic types and return codes shared by every
 * file. Nothing here allocates or keeps state.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "sl_auto_config.h"

#include <sys/types.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <limits.h>
#include <time.h>
#include <glob.h>
#include <pwd.h>
#include <grp.h>
#include <dirent.h>

typedef intptr_t sl_int_t;
typedef uintptr_t sl_uint_t;
typedef intptr_t sl_flag_t;
typedef int sl_fd_t;
typedef int sl_err_t;
typedef int64_t sl_msec_int_t;
typedef uint64_t sl_msec_t;
typedef unsigned char u_char;

#define SL_OK 0
#define SL_ERROR -1
#define SL_AGAIN -2
#define SL_BUSY -3
#define SL_DONE -4
#define SL_DECLINED -5
#define SL_ABORT -6

#define SL_INVALID_FILE -1
#define SL_INVALID_PID -1

#define SL_INT_T_LEN (sizeof("-9223372036854775808") - 1)
#define SL_MAX_INT_T_VALUE INTPTR_MAX
#define SL_MAX_SIZE_T_VALUE SIZE_MAX
#define SL_MAX_OFF_T_VALUE INT64_MAX
#define SL_OFF_T_LEN (sizeof("-9223372036854775808") - 1)

#define SL_ALIGNMENT sizeof(uintptr_t)
#define sl_align(d, a) (((d) + ((a) - 1)) & ~((a) - 1))
#define sl_align_ptr(p, a) (u_char *) (((uintptr_t) (p) + ((uintptr_t) (a) - 1)) & ~((uintptr_t) (a) - 1))

#define sl_abs(value) (((value) >= 0) ? (value) : -(value))
#define sl_max(a, b) (((a) < (b)) ? (b) : (a))
#define sl_min(a, b) (((a) > (b)) ? (b) : (a))
#define sl_nelts(a) (sizeof(a) / sizeof((a)[0]))

#define sl_errno errno
#define sl_socket_errno errno
#define sl_set_errno(err) (errno = (err))

#define SL_LINEFEED "\n"
#define CR ((u_char) 13)
#define LF ((u_char) 10)
#define CRLF "\r\n"

#define sl_unused(x) ((void) (x))

/* "[ffff:...:ffff]:65535" with room to spare */
#define SL_SOCKADDR_STRLEN (INET6_ADDRSTRLEN + sizeof("[]:65535"))

#endif /* SL_CONFIG_H */
