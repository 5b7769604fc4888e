/*
 * sl_http_static_module.c: serves files under root/alias as nginx's static
 * module does. A URI ending in '/' is the index module's business; a
 * directory without the slash is redirected to it; anything else must be a
 * regular file, which goes out as one file buffer the connection sends with
 * sendfile(2), or, up to SL_HTTP_STATIC_INLINE_MAX bytes, read into memory
 * and sent with the header. (A URI that an alias would glue into a ".." segment never
 * gets here: the find-config phase answers it 404, see sl_http_alias_climbs.)
 *
 * "sendfile off" is accepted and changes nothing here: which way a file
 * goes is decided by its size, and a large file stays in bounded memory
 * either way.
 */
#include "sl_core.h"
#include "sl_http.h"

/*
 * Files up to this size are read and sent with the header in one writev(),
 * larger ones with sendfile(). Measured on loopback, 1 worker: a 3-byte file
 * 7.1 -> 6.4 us per request, 1 KB 7.1 -> 6.8; at 4 KB the two are even and
 * at 8 KB the copy costs more than sendfile()'s page references.
 */
#define SL_HTTP_STATIC_INLINE_MAX 1024

static sl_int_t sl_http_static_handler(sl_http_request_t *r);
static sl_int_t sl_http_static_init(sl_conf_t *cf);

static sl_http_module_t sl_http_static_module_ctx = {
    NULL, sl_http_static_init,
    NULL, NULL,
    NULL, NULL,
    NULL, NULL
};

sl_module_t sl_http_static_module = {
    SL_MODULE_V1, "sl_http_static_module", SL_HTTP_MODULE, &sl_http_static_module_ctx,
    NULL, NULL, NULL, NULL, NULL
};

static sl_int_t
sl_http_static_handler(sl_http_request_t *r)
{
    int fd;
    size_t root;
    ssize_t n;
    u_char *last;
    sl_int_t rc;
    sl_err_t err;
    sl_uint_t level;
    sl_str_t path;
    sl_buf_t *b;
    sl_chain_t out;
    struct stat st;
    sl_http_core_loc_conf_t *clcf;

    if (!(r->method & (SL_HTTP_GET | SL_HTTP_HEAD | SL_HTTP_POST))) {
        return SL_HTTP_NOT_ALLOWED;
    }

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] == '/') {
        return SL_DECLINED;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    last = sl_http_map_uri_to_path(r, &path, &root, 0);
    if (last == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }
    path.len = last - path.data;

    /* a decoded "%00" would cut the name short for open(2) */
    if (memchr(path.data, '\0', path.len) != NULL) {
        return SL_HTTP_NOT_FOUND;
    }

    fd = open((const char *) path.data, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1) {
        err = sl_errno;
        switch (err) {
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
            level = SL_LOG_ERR;
            rc = SL_HTTP_NOT_FOUND;
            break;
        case EACCES:
        case EPERM:
        case EMLINK:
        case ELOOP:
            level = SL_LOG_ERR;
            rc = SL_HTTP_FORBIDDEN;
            break;
        default:
            level = SL_LOG_CRIT;
            rc = SL_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }
        if (rc != SL_HTTP_NOT_FOUND || clcf->log_not_found) {
            sl_log_error(level, r->connection->log, err, "open() \"%s\" failed",
                         path.data);
        }
        return rc;
    }

    if (sl_pool_cleanup_fd(r->pool, fd) != SL_OK) {
        close(fd);
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        sl_log_error(SL_LOG_CRIT, r->connection->log, sl_errno, "fstat() \"%s\" failed",
                     path.data);
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (S_ISDIR(st.st_mode)) {
        return sl_http_redirect_to_path(r, &r->uri, 1);
    }

    if (!S_ISREG(st.st_mode)) {
        sl_log_error(SL_LOG_CRIT, r->connection->log, 0, "\"%s\" is not a regular file",
                     path.data);
        return SL_HTTP_NOT_FOUND;
    }

    if (r->method == SL_HTTP_POST) {
        return SL_HTTP_NOT_ALLOWED;
    }

    rc = sl_http_discard_request_body(r);
    if (rc != SL_OK) {
        return rc;
    }

    r->headers_out.status = SL_HTTP_OK;
    r->headers_out.content_length_n = st.st_size;
    r->headers_out.last_modified_time = st.st_mtime;

    if (clcf->etag && sl_http_set_etag(r, st.st_mtime, st.st_size) != SL_OK) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (sl_http_set_content_type(r) != SL_OK) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->allow_ranges = 1;

    /* allocate before the header goes out: a failure after it can only close */
    b = sl_calloc_buf(r->pool);
    if (b == NULL) {
        return SL_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = sl_http_send_header(r);
    if (rc == SL_ERROR || rc > SL_OK || r->header_only || r->method == SL_HTTP_HEAD) {
        return rc;
    }

    if (st.st_size > 0 && st.st_size <= SL_HTTP_STATIC_INLINE_MAX && r->headers_in.range == NULL) {
        /* a small file leaves with the header in one writev() */
        b->start = sl_pnalloc(r->pool, (size_t) st.st_size);
        if (b->start == NULL) {
            return SL_ERROR;
        }

        n = pread(fd, b->start, (size_t) st.st_size, 0);

        if (n != (ssize_t) st.st_size) {
            sl_log_error(SL_LOG_CRIT, r->connection->log, n == -1 ? sl_errno : 0,
                         "pread() read only %z of %O bytes from \"%s\"", n == -1 ? 0 : n,
                         (off_t) st.st_size, path.data);
            return SL_ERROR;
        }

        b->pos = b->start;
        b->last = b->start + n;
        b->end = b->last;
        b->memory = 1;

    } else {
        b->file_pos = 0;
        b->file_last = st.st_size;
        b->in_file = b->file_last ? 1 : 0;
        b->fd = fd;
    }

    b->last_buf = 1;
    b->last_in_chain = 1;
    b->tag = &sl_http_static_module;

    out.buf = b;
    out.next = NULL;

    return sl_http_output_filter(r, &out);
}

static sl_int_t
sl_http_static_init(sl_conf_t *cf)
{
    sl_http_handler_pt *h;

    h = sl_http_add_phase_handler(cf, SL_HTTP_CONTENT_PHASE);
    if (h == NULL) {
        return SL_ERROR;
    }
    *h = sl_http_static_handler;
    return SL_OK;
}
