/*
 * sl_http_dav_module.c: the PUT, DELETE and MKCOL methods of WebDAV, with
 * the directives and answers of nginx's dav module (dav_methods,
 * create_full_put_path, dav_access, min_delete_depth). COPY and MOVE are
 * refused at configuration time rather than half-implemented.
 *
 * PUT reads the whole body first (in memory, or spooled by the engine to an
 * unlinked temporary file), then writes it to a new file in the destination's
 * directory and renames that over the destination, so a reader never sees a
 * partial file and a failed upload leaves nothing behind. The copy from the
 * spooled body goes through one fixed-size buffer, so memory stays bounded
 * whatever the body's size.
 *
 * Paths come from sl_http_map_uri_to_path(): the engine has already
 * normalised the URI, so no "." or ".." component reaches the file system.
 */
#include "sl_core.h"
#include "sl_http.h"

#include <ftw.h>

/* dav_methods bits; "off" is a bit of its own so that "set to off" differs from "unset" */
#define SL_HTTP_DAV_OFF 0x01
#define SL_HTTP_DAV_PUT 0x02
#define SL_HTTP_DAV_DELETE 0x04
#define SL_HTTP_DAV_MKCOL 0x08

/* what sl_http_dav_depth() returns besides 0 and 1 */
#define SL_HTTP_DAV_INFINITY_DEPTH -1
#define SL_HTTP_DAV_INVALID_DEPTH -2

/* the buffer that copies a spooled body into the destination */
#define SL_HTTP_DAV_COPY_SIZE 65536

/* the temporary file's name in the destination's directory (fixed length: never too long) */
#define SL_HTTP_DAV_TEMP_NAME ".sl_dav_0000000000.0000000000"

/* open(2) attempts for a free temporary name before giving up */
#define SL_HTTP_DAV_TEMP_TRIES 16

/* directories opened at once while deleting a tree */
#define SL_HTTP_DAV_TREE_FDS 32

typedef struct {
    sl_uint_t methods;              /* SL_HTTP_DAV_* */
    sl_uint_t access;               /* mode of created files */
    sl_int_t min_delete_depth;
    sl_flag_t create_full_put_path;
} sl_http_dav_loc_conf_t;

static sl_int_t sl_http_dav_handler(sl_http_request_t *r);
static void sl_http_dav_put_handler(sl_http_request_t *r);
static sl_int_t sl_http_dav_init(sl_conf_t *cf);
static void *sl_http_dav_create_loc_conf(sl_conf_t *cf);
static char *sl_http_dav_merge_loc_conf(sl_conf_t *cf, void *parent, void *child);
static char *sl_http_dav_set_methods(sl_conf_t *cf, sl_command_t *cmd, void *conf);
static char *sl_http_dav_set_access(sl_conf_t *cf, sl_command_t *cmd, void *conf);

#define SL_HTTP_DAV_CONTEXTS (SL_HTTP_MAIN_CONF | SL_HTTP_SRV_CONF | SL_HTTP_LOC_CONF)

static sl_conf_bounds_t sl_http_dav_depth_bounds = { 0, 4096 };

static sl_command_t sl_http_dav_commands[] = {
    { sl_string("dav_methods"), SL_HTTP_DAV_CONTEXTS | SL_CONF_1MORE, sl_http_dav_set_methods,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("create_full_put_path"), SL_HTTP_DAV_CONTEXTS | SL_CONF_FLAG,
      sl_conf_set_flag_slot, SL_HTTP_LOC_CONF_OFFSET,
      offsetof(sl_http_dav_loc_conf_t, create_full_put_path), NULL },
    { sl_string("dav_access"), SL_HTTP_DAV_CONTEXTS | SL_CONF_TAKE123, sl_http_dav_set_access,
      SL_HTTP_LOC_CONF_OFFSET, 0, NULL },
    { sl_string("min_delete_depth"), SL_HTTP_DAV_CONTEXTS | SL_CONF_TAKE1, sl_conf_set_num_slot,
      SL_HTTP_LOC_CONF_OFFSET, offsetof(sl_http_dav_loc_conf_t, min_delete_depth),
      &sl_http_dav_depth_bounds },
    sl_null_command
};

static sl_http_module_t sl_http_dav_module_ctx = {
    NULL,                        /* preconfiguration */
    sl_http_dav_init,            /* postconfiguration */
    NULL,                        /* create main configuration */
    NULL,                        /* init main configuration */
    NULL,                        /* create server configuration */
    NULL,                        /* merge server configuration */
    sl_http_dav_create_loc_conf, /* create location configuration */
    sl_http_dav_merge_loc_conf   /* merge location configuration */
};

sl_module_t sl_http_dav_module = {
    SL_MODULE_V1, "sl_http_dav_module", SL_HTTP_MODULE, &sl_http_dav_module_ctx,
    sl_http_dav_commands, NULL, NULL, NULL, NULL
};

/*
 * The log the tree walk reports to: nftw(3) callbacks take no context, and
 * the walk runs start to end inside one call, so this is set only around it.
 */
static sl_log_t *sl_http_dav_tree_log;


/* Helpers ---------------------------------------------------------------- */


/* Directories get x wherever files get r (nginx's ngx_dir_access). */
static mode_t
sl_http_dav_dir_access(sl_uint_t access)
{
    return (mode_t) (access | (access & 0444) >> 2);
}

/* The request header called name (lowercase), or NULL. */
static sl_table_elt_t *
sl_http_dav_header(sl_http_request_t *r, const char *name)
{
    size_t len;
    sl_uint_t i;
    sl_table_elt_t *h;
    sl_list_part_t *part;

    len = strlen(name);
    part = &r->headers_in.headers.part;
    if (part->elts == NULL) {
        return NULL;
    }
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            h = part->elts;
            i = 0;
            if (part->nelts == 0) {
                continue;
            }
        }
        if (h[i].key.len == len && h[i].lowcase_key
            && sl_memcmp(h[i].lowcase_key, name, len) == 0) {
            return &h[i];
        }
    }
}

/* Which DAV method the request is (SL_HTTP_DAV_*), or 0. */
static sl_uint_t
sl_http_dav_method(sl_http_request_t *r)
{
    switch (r->method) {
    case SL_HTTP_PUT:
        return SL_HTTP_DAV_PUT;
    case SL_HTTP_DELETE:
        return SL_HTTP_DAV_DELETE;
    case SL_HTTP_UNKNOWN:
        /* method names are case-sensitive */
        if (r->method_name.len == sizeof("MKCOL") - 1
            && sl_memcmp(r->method_name.data, "MKCOL", sizeof("MKCOL") - 1) == 0) {
            return SL_HTTP_DAV_MKCOL;
        }
        return 0;
    default:
        return 0;
    }
}

static sl_uint_t
sl_http_dav_has_body(sl_http_request_t *r)
{
    return r->headers_in.content_length_n > 0 || r->headers_in.chunked;
}

/* The Depth header: 0, 1, SL_HTTP_DAV_INFINITY_DEPTH, dflt when absent, or INVALID. */
static sl_int_t
sl_http_dav_depth(sl_http_request_t *r, sl_int_t dflt)
{
    sl_table_elt_t *depth;

    depth = sl_http_dav_header(r, "depth");
    if (depth == NULL) {
        return dflt;
    }
    if (depth->value.len == 1) {
        if (depth->value.data[0] == '0') {
            return 0;
        }
        if (depth->value.data[0] == '1') {
            return 1;
        }
    } else if (sl_str_caseeq_lit(&depth->value, "infinity")) {
        return SL_HTTP_DAV_INFINITY_DEPTH;
    }

    sl_log_error(SL_LOG_ERR, r->connection->log, 0, "client sent invalid \"Depth\" header: \"%V\"",
                 &depth->value);
    return SL_HTTP_DAV_INVALID_DEPTH;
}

/* Maps an errno of a file operation to the answer, and logs it as nginx does. */
static sl_int_t
sl_http_dav_error(sl_log_t *log, sl_err_t err, sl_int_t not_found, const char *failed,
                  u_char *path)
{
    sl_int_t rc;
    sl_uint_t level;

    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        level = SL_LOG_ERR;
        rc = not_found;
        break;
    case EACCES:
    case EPERM:
    case EROFS:
        level = SL_LOG_ERR;
        rc = SL_HTTP_FORBIDDEN;
        break;
    case EEXIST:
        level = SL_LOG_ERR;
        rc = SL_HTTP_NOT_ALLOWED;
        break;
    case ENOSPC:
    case EDQUOT:
        level = SL_LOG_CRIT;
        rc = SL_HTTP_INSUFFICIENT_STORAGE;
        break;
    default:
        level = SL_LOG_CRIT;
        rc = SL_HTTP_INTERNAL_SERVER_ERROR;
        break;
    }

    sl_log_error(level, log, err, "%s \"%s\" failed", failed, path);
    return rc;
}

/*
 * Maps the URI to a NUL-terminated file name. SL_OK, or the status to
 * answer: a decoded "%00" cannot name a file.
 */
static sl_int_t
sl_http_dav_map(sl_http_request_t *r, sl_str_t *path, size_t *root)
{
    u_char *last;

    last = sl_http_map_uri_to_path(r, path, root, 0);
    if (last == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }
    path->len = last - path->data;

    if (memchr(path->data, '\0', path->len) != NULL) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "client sent a URI with a zero byte for %V", &r->method_name);
        return SL_HTTP_BAD_REQUEST;
    }
    return SL_OK;
}

/* Sets Location to the (escaped) URI, for a 201. */
static sl_int_t
sl_http_dav_location(sl_http_request_t *r)
{
    uintptr_t escape;
    sl_str_t value;

    escape = 2 * sl_escape_uri(NULL, r->uri.data, r->uri.len, SL_ESCAPE_URI);
    if (escape) {
        value.len = r->uri.len + escape;
        value.data = sl_pnalloc(r->pool, value.len);
        if (value.data == NULL) {
            return SL_ERROR;
        }
        sl_escape_uri(value.data, r->uri.data, r->uri.len, SL_ESCAPE_URI);
    } else {
        value = r->uri;
    }

    return sl_http_add_response_header(r, "Location", &value) ? SL_OK : SL_ERROR;
}

/* Sends the header-only answer of a successful method; returns what finalize expects. */
static sl_int_t
sl_http_dav_respond(sl_http_request_t *r, sl_uint_t status)
{
    if (status == SL_HTTP_CREATED) {
        if (sl_http_dav_location(r) != SL_OK) {
            return SL_HTTP_INTERNAL_SERVER_ERROR;
        }
        r->headers_out.content_length_n = 0;
    }

    r->headers_out.status = status;
    r->header_only = 1;
    return sl_http_send_header(r);
}


/* PUT -------------------------------------------------------------------- */


/*
 * Creates the directories between the root (path[0, root)) and the last
 * '/' before path[dir_len]; those that exist are fine. 0 or the errno.
 */
static sl_err_t
sl_http_dav_create_path(u_char *path, size_t root, size_t dir_len, mode_t mode)
{
    u_char *p;
    sl_err_t err;

    for (p = path + root + 1; p < path + dir_len; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir((char *) path, mode) == -1 && errno != EEXIST) {
            err = errno;
            *p = '/';
            return err;
        }
        *p = '/';
    }
    return 0;
}

/*
 * Creates the temporary file in the destination's directory (temp->data
 * holds the directory, dir_len bytes with the trailing '/'). Returns the
 * fd, or -1 with *status set.
 */
static int
sl_http_dav_temp_open(sl_http_request_t *r, sl_http_dav_loc_conf_t *dlcf, sl_str_t *path,
                      size_t root, size_t dir_len, sl_str_t *temp, sl_int_t *status)
{
    int fd;
    u_char *p;
    sl_err_t err;
    sl_uint_t tries;
    static uint32_t seq;

    for (tries = 0; tries < SL_HTTP_DAV_TEMP_TRIES; tries++) {
        p = sl_slprintf(temp->data + dir_len, temp->data + temp->len, ".sl_dav_%010ud.%010ud",
                        (unsigned) getpid(), (unsigned) ++seq);
        *p = '\0';

        fd = open((char *) temp->data, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                  0600);
        if (fd != -1) {
            return fd;
        }
        err = errno;

        if (err == EEXIST) {
            continue;
        }

        if (err == ENOENT && tries == 0 && dlcf->create_full_put_path) {
            err = sl_http_dav_create_path(path->data, root, dir_len,
                                          sl_http_dav_dir_access(dlcf->access));
            if (err == 0) {
                continue;
            }
            *status = sl_http_dav_error(r->connection->log, err, SL_HTTP_CONFLICT, "mkdir()",
                                        path->data);
            return -1;
        }

        *status = sl_http_dav_error(r->connection->log, err, SL_HTTP_CONFLICT, "open()",
                                    temp->data);
        return -1;
    }

    sl_log_error(SL_LOG_CRIT, r->connection->log, EEXIST, "open() \"%s\" failed", temp->data);
    *status = SL_HTTP_INTERNAL_SERVER_ERROR;
    return -1;
}

static sl_int_t
sl_http_dav_write(sl_http_request_t *r, int fd, u_char *pos, size_t size, u_char *name)
{
    ssize_t n;

    while (size) {
        n = write(fd, pos, size);
        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }
            return sl_http_dav_error(r->connection->log, errno, SL_HTTP_INTERNAL_SERVER_ERROR,
                                     "write()", name);
        }
        pos += n;
        size -= n;
    }
    return SL_OK;
}

/* Writes the request body to fd: the memory buffer, or the spooled file in bounded pieces. */
static sl_int_t
sl_http_dav_write_body(sl_http_request_t *r, int fd, u_char *name)
{
    off_t pos;
    size_t size;
    ssize_t n;
    sl_int_t rc;
    u_char *buf;
    sl_buf_t *b;
    sl_http_request_body_t *rb;

    rb = r->request_body;
    if (rb == NULL || rb->bufs == NULL) {
        return SL_OK;
    }
    b = rb->bufs->buf;

    if (!b->in_file) {
        return sl_http_dav_write(r, fd, b->pos, b->last - b->pos, name);
    }

    buf = sl_palloc(r->pool, SL_HTTP_DAV_COPY_SIZE);
    if (buf == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = SL_OK;
    for (pos = b->file_pos; pos < b->file_last; pos += n) {
        size = (size_t) sl_min((off_t) SL_HTTP_DAV_COPY_SIZE, b->file_last - pos);
        n = pread(b->fd, buf, size, pos);
        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }
        if (n <= 0) {
            sl_log_error(SL_LOG_CRIT, r->connection->log, n == 0 ? 0 : errno,
                         "pread() of the client body temporary file failed%s",
                         n == 0 ? ": file truncated" : "");
            rc = SL_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }
        rc = sl_http_dav_write(r, fd, buf, (size_t) n, name);
        if (rc != SL_OK) {
            break;
        }
    }

    (void) sl_pfree(r->pool, buf);
    return rc;
}

/* Sets the file's times from the Date header, as nginx does. */
static void
sl_http_dav_set_time(sl_http_request_t *r, int fd, u_char *name)
{
    time_t t;
    sl_table_elt_t *date;
    struct timespec times[2];

    date = sl_http_dav_header(r, "date");
    if (date == NULL) {
        return;
    }
    t = sl_parse_http_time(date->value.data, date->value.len);
    if (t == -1) {
        return;
    }

    times[0].tv_sec = t;
    times[0].tv_nsec = 0;
    times[1] = times[0];
    if (futimens(fd, times) == -1) {
        sl_log_error(SL_LOG_CRIT, r->connection->log, errno, "futimens() \"%s\" failed", name);
    }
}

/* Stores the read body at the URI's path; returns a status or what send_header returned. */
static sl_int_t
sl_http_dav_put(sl_http_request_t *r)
{
    int fd;
    size_t root, dir_len;
    u_char *slash;
    sl_err_t err;
    sl_int_t rc, status;
    sl_str_t path, temp;
    struct stat st;
    sl_http_dav_loc_conf_t *dlcf;

    dlcf = sl_http_get_module_loc_conf(r, sl_http_dav_module);

    if (r->request_body == NULL
        || (r->request_body->bufs == NULL && sl_http_dav_has_body(r))) {
        sl_log_error(SL_LOG_ALERT, r->connection->log, 0, "PUT request body is unavailable");
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = sl_http_dav_map(r, &path, &root);
    if (rc != SL_OK) {
        return rc;
    }

    if (lstat((char *) path.data, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            sl_log_error(SL_LOG_ERR, r->connection->log, EISDIR, "PUT \"%s\" failed", path.data);
            return SL_HTTP_CONFLICT;
        }
        status = SL_HTTP_NO_CONTENT;
    } else if (errno == ENOENT) {
        status = SL_HTTP_CREATED;
    } else {
        return sl_http_dav_error(r->connection->log, errno, SL_HTTP_CONFLICT, "lstat()",
                                 path.data);
    }

    /* the URI starts with '/', so the path holds one before the file name */
    slash = path.data + path.len;
    while (slash > path.data && slash[-1] != '/') {
        slash--;
    }
    dir_len = slash - path.data;

    temp.len = dir_len + sizeof(SL_HTTP_DAV_TEMP_NAME);
    temp.data = sl_pnalloc(r->pool, temp.len);
    if (temp.data == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }
    sl_memcpy(temp.data, path.data, dir_len);

    fd = sl_http_dav_temp_open(r, dlcf, &path, root, dir_len, &temp, &rc);
    if (fd == -1) {
        return rc;
    }

    rc = sl_http_dav_write_body(r, fd, temp.data);

    if (rc == SL_OK && fchmod(fd, (mode_t) dlcf->access) == -1) {
        rc = sl_http_dav_error(r->connection->log, errno, SL_HTTP_INTERNAL_SERVER_ERROR,
                               "fchmod()", temp.data);
    }

    if (rc == SL_OK) {
        sl_http_dav_set_time(r, fd, temp.data);
    }

    /* close(2) is where some file systems report a failed write */
    if (close(fd) == -1 && rc == SL_OK) {
        rc = sl_http_dav_error(r->connection->log, errno, SL_HTTP_INTERNAL_SERVER_ERROR,
                               "close()", temp.data);
    }

    if (rc == SL_OK && rename((char *) temp.data, (char *) path.data) == -1) {
        err = errno;
        if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
            /* a directory took the name since the lstat() above */
            sl_log_error(SL_LOG_ERR, r->connection->log, err, "rename() to \"%s\" failed",
                         path.data);
            rc = SL_HTTP_CONFLICT;
        } else {
            rc = sl_http_dav_error(r->connection->log, err, SL_HTTP_CONFLICT, "rename()",
                                   path.data);
        }
    }

    if (rc != SL_OK) {
        if (unlink((char *) temp.data) == -1) {
            sl_log_error(SL_LOG_CRIT, r->connection->log, errno, "unlink() \"%s\" failed",
                         temp.data);
        }
        return rc;
    }

    return sl_http_dav_respond(r, status);
}

/* The body reader's post handler: the body is complete. */
static void
sl_http_dav_put_handler(sl_http_request_t *r)
{
    sl_http_finalize_request(r, sl_http_dav_put(r));
}


/* DELETE ----------------------------------------------------------------- */


static int
sl_http_dav_delete_entry(const char *name, const struct stat *st, int type, struct FTW *ftw)
{
    int rc;
    const char *failed;

    sl_unused(st);
    sl_unused(ftw);

    switch (type) {
    case FTW_DP:
        rc = rmdir(name);
        failed = "rmdir()";
        break;
    case FTW_DNR:
    case FTW_NS:
        /* unreadable: its contents cannot be removed, so neither can it */
        sl_log_error(SL_LOG_ERR, sl_http_dav_tree_log, EACCES, "cannot read \"%s\"", name);
        return EACCES;
    default:
        /* files, and symbolic links themselves (FTW_PHYS never follows them) */
        rc = unlink(name);
        failed = "unlink()";
        break;
    }

    if (rc == -1) {
        rc = errno;
        sl_log_error(SL_LOG_ERR, sl_http_dav_tree_log, rc, "%s \"%s\" failed", failed, name);
        return rc ? rc : EIO;
    }
    return 0;
}

/* Removes the directory at path and everything under it; SL_OK or a status. */
static sl_int_t
sl_http_dav_delete_tree(sl_http_request_t *r, u_char *path)
{
    int rc;

    sl_http_dav_tree_log = r->connection->log;
    rc = nftw((char *) path, sl_http_dav_delete_entry, SL_HTTP_DAV_TREE_FDS,
              FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    sl_http_dav_tree_log = NULL;

    if (rc == 0) {
        return SL_OK;
    }
    if (rc == -1) {
        return sl_http_dav_error(r->connection->log, errno, SL_HTTP_NOT_FOUND, "nftw()", path);
    }

    /* the callback logged the entry that failed */
    switch (rc) {
    case ENOENT:
        return SL_HTTP_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
        return SL_HTTP_FORBIDDEN;
    default:
        /* EBUSY (a mount point: FTW_MOUNT never enters one), ENOTEMPTY, EIO */
        return SL_HTTP_CONFLICT;
    }
}

static sl_int_t
sl_http_dav_delete(sl_http_request_t *r, sl_http_dav_loc_conf_t *dlcf)
{
    size_t root, i;
    sl_int_t rc, depth, d;
    sl_str_t path;
    struct stat st;

    if (sl_http_dav_has_body(r)) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "DELETE with body is unsupported");
        return SL_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    if (dlcf->min_delete_depth) {
        /* at least min_delete_depth '/' each followed by something */
        d = 0;
        for (i = 0; i < r->uri.len; /* void */) {
            if (r->uri.data[i++] == '/' && ++d >= dlcf->min_delete_depth && i < r->uri.len) {
                break;
            }
        }
        if (d < dlcf->min_delete_depth || i >= r->uri.len) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0, "insufficient URI depth:%i to DELETE",
                         d);
            return SL_HTTP_CONFLICT;
        }
    }

    rc = sl_http_dav_map(r, &path, &root);
    if (rc != SL_OK) {
        return rc;
    }

    if (lstat((char *) path.data, &st) == -1) {
        return sl_http_dav_error(r->connection->log, errno, SL_HTTP_NOT_FOUND, "lstat()",
                                 path.data);
    }

    if (S_ISDIR(st.st_mode)) {
        if (r->uri.data[r->uri.len - 1] != '/') {
            sl_log_error(SL_LOG_ERR, r->connection->log, EISDIR, "DELETE \"%s\" failed",
                         path.data);
            return SL_HTTP_CONFLICT;
        }

        depth = sl_http_dav_depth(r, SL_HTTP_DAV_INFINITY_DEPTH);
        if (depth != SL_HTTP_DAV_INFINITY_DEPTH) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0, "\"Depth\" header must be infinity");
            return SL_HTTP_BAD_REQUEST;
        }

        /* the root itself ends in '/' when the URI is "/": keep it a valid name */
        while (path.len > 1 && path.data[path.len - 1] == '/') {
            path.data[--path.len] = '\0';
        }

        rc = sl_http_dav_delete_tree(r, path.data);
        if (rc != SL_OK) {
            return rc;
        }

    } else {
        /* "/file/" never gets here: lstat() failed with ENOTDIR */
        depth = sl_http_dav_depth(r, 0);
        if (depth != 0 && depth != SL_HTTP_DAV_INFINITY_DEPTH) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                         "\"Depth\" header must be 0 or infinity");
            return SL_HTTP_BAD_REQUEST;
        }

        if (unlink((char *) path.data) == -1) {
            return sl_http_dav_error(r->connection->log, errno, SL_HTTP_NOT_FOUND, "unlink()",
                                     path.data);
        }
    }

    return sl_http_dav_respond(r, SL_HTTP_NO_CONTENT);
}


/* MKCOL ------------------------------------------------------------------ */


static sl_int_t
sl_http_dav_mkcol(sl_http_request_t *r, sl_http_dav_loc_conf_t *dlcf)
{
    size_t root;
    sl_int_t rc;
    sl_str_t path;

    if (sl_http_dav_has_body(r)) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "MKCOL with body is unsupported");
        return SL_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    if (r->uri.data[r->uri.len - 1] != '/') {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "MKCOL can create a collection only");
        return SL_HTTP_CONFLICT;
    }

    rc = sl_http_dav_map(r, &path, &root);
    if (rc != SL_OK) {
        return rc;
    }

    /* without the trailing '/' */
    path.data[--path.len] = '\0';

    if (mkdir((char *) path.data, sl_http_dav_dir_access(dlcf->access)) == -1) {
        return sl_http_dav_error(r->connection->log, errno, SL_HTTP_CONFLICT, "mkdir()",
                                 path.data);
    }

    return sl_http_dav_respond(r, SL_HTTP_CREATED);
}


/* The content handler ------------------------------------------------------ */


static sl_int_t
sl_http_dav_handler(sl_http_request_t *r)
{
    sl_int_t rc;
    sl_uint_t method;
    sl_http_dav_loc_conf_t *dlcf;

    dlcf = sl_http_get_module_loc_conf(r, sl_http_dav_module);

    method = sl_http_dav_method(r);
    if (method == 0 || !(dlcf->methods & method) || r->uri.len == 0) {
        return SL_DECLINED;
    }

    /* refuse before reading a body for nothing */
    if (memchr(r->uri.data, '\0', r->uri.len) != NULL) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "client sent a URI with a zero byte for %V", &r->method_name);
        return SL_HTTP_BAD_REQUEST;
    }

    switch (method) {
    case SL_HTTP_DAV_PUT:
        if (r->uri.data[r->uri.len - 1] == '/') {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0, "cannot PUT to a collection");
            return SL_HTTP_CONFLICT;
        }

        if (sl_http_dav_header(r, "content-range") != NULL) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0, "PUT with range is unsupported");
            return SL_HTTP_NOT_IMPLEMENTED;
        }

        rc = sl_http_read_client_request_body(r, sl_http_dav_put_handler);
        if (rc != SL_OK && rc != SL_AGAIN) {
            return rc;
        }
        /* the body reader holds a reference; the post handler finalizes */
        return SL_DONE;

    case SL_HTTP_DAV_DELETE:
        return sl_http_dav_delete(r, dlcf);

    default: /* SL_HTTP_DAV_MKCOL */
        return sl_http_dav_mkcol(r, dlcf);
    }
}


/* Configuration ------------------------------------------------------------ */


static void *
sl_http_dav_create_loc_conf(sl_conf_t *cf)
{
    sl_http_dav_loc_conf_t *conf;

    conf = sl_pcalloc(cf->pool, sizeof(sl_http_dav_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }
    conf->methods = SL_CONF_UNSET_UINT;
    conf->access = SL_CONF_UNSET_UINT;
    conf->min_delete_depth = SL_CONF_UNSET;
    conf->create_full_put_path = SL_CONF_UNSET;
    return conf;
}

static char *
sl_http_dav_merge_loc_conf(sl_conf_t *cf, void *parent, void *child)
{
    sl_http_dav_loc_conf_t *prev = parent;
    sl_http_dav_loc_conf_t *conf = child;

    sl_unused(cf);

    sl_conf_merge_uint_value(conf->methods, prev->methods, SL_HTTP_DAV_OFF);
    sl_conf_merge_uint_value(conf->access, prev->access, 0600);
    sl_conf_merge_value(conf->min_delete_depth, prev->min_delete_depth, 0);
    sl_conf_merge_value(conf->create_full_put_path, prev->create_full_put_path, 0);
    return SL_CONF_OK;
}

/* dav_methods off | [PUT] [DELETE] [MKCOL] */
static char *
sl_http_dav_set_methods(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    sl_uint_t i, methods;
    sl_str_t *value;
    sl_http_dav_loc_conf_t *dlcf = conf;

    sl_unused(cmd);

    if (dlcf->methods != SL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    methods = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        if (sl_str_caseeq_lit(&value[i], "off")) {
            if (cf->args->nelts != 2) {
                sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                                  "\"off\" cannot be combined with methods in \"%V\" directive",
                                  &value[0]);
                return SL_CONF_ERROR;
            }
            methods = SL_HTTP_DAV_OFF;
        } else if (sl_str_caseeq_lit(&value[i], "PUT")) {
            methods |= SL_HTTP_DAV_PUT;
        } else if (sl_str_caseeq_lit(&value[i], "DELETE")) {
            methods |= SL_HTTP_DAV_DELETE;
        } else if (sl_str_caseeq_lit(&value[i], "MKCOL")) {
            methods |= SL_HTTP_DAV_MKCOL;
        } else if (sl_str_caseeq_lit(&value[i], "COPY") || sl_str_caseeq_lit(&value[i], "MOVE")) {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0,
                              "invalid method \"%V\" in \"%V\" directive: "
                              "the COPY/MOVE methods are not supported",
                              &value[i], &value[0]);
            return SL_CONF_ERROR;
        } else {
            sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" directive",
                              &value[i], &value[0]);
            return SL_CONF_ERROR;
        }
    }

    dlcf->methods = methods;
    return SL_CONF_OK;
}

/* dav_access users:rw [group:r] [all:r], as nginx's access slot ("user:" too). */
static char *
sl_http_dav_set_access(sl_conf_t *cf, sl_command_t *cmd, void *conf)
{
    size_t prefix;
    sl_uint_t i, access, user, right, shift;
    sl_str_t *value, rest;
    sl_http_dav_loc_conf_t *dlcf = conf;

    sl_unused(cmd);

    if (dlcf->access != SL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    access = 0;
    user = 0600;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len > 5 && sl_strncmp(value[i].data, "user:", 5) == 0) {
            prefix = 5;
            shift = 6;
            user = 0;
        } else if (value[i].len > 6 && sl_strncmp(value[i].data, "users:", 6) == 0) {
            prefix = 6;
            shift = 6;
            user = 0;
        } else if (value[i].len > 6 && sl_strncmp(value[i].data, "group:", 6) == 0) {
            prefix = 6;
            shift = 3;
        } else if (value[i].len > 4 && sl_strncmp(value[i].data, "all:", 4) == 0) {
            prefix = 4;
            shift = 0;
        } else {
            goto invalid;
        }

        rest.data = value[i].data + prefix;
        rest.len = value[i].len - prefix;

        if (rest.len == 2 && sl_strncmp(rest.data, "rw", 2) == 0) {
            right = 6;
        } else if (rest.len == 1 && rest.data[0] == 'r') {
            right = 4;
        } else {
            goto invalid;
        }

        access |= right << shift;
    }

    dlcf->access = access | user;
    return SL_CONF_OK;

invalid:
    sl_conf_log_error(SL_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\" directive",
                      &value[i], &value[0]);
    return SL_CONF_ERROR;
}

static sl_int_t
sl_http_dav_init(sl_conf_t *cf)
{
    sl_http_handler_pt *h;

    h = sl_http_add_phase_handler(cf, SL_HTTP_CONTENT_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }
    *h = sl_http_dav_handler;
    return SL_OK;
}
