/*
 * sl_http_core_phases.c: the phase checkers that drive a request through
 * the HTTP phases (find-config with the location lookup, rewrite, access,
 * content), internal and named redirects.
 */
#include "sl_core.h"
#include "sl_http.h"

void
sl_http_handler(sl_http_request_t *r)
{
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
    r->phase_handler = r->internal ? cmcf->server_rewrite_index : 0;
    r->valid_location = 1;
    r->write_event_handler = sl_http_core_run_phases;
    sl_http_core_run_phases(r);
}

void
sl_http_core_run_phases(sl_http_request_t *r)
{
    sl_int_t rc;
    sl_http_phase_handler_t *ph;
    sl_http_core_main_conf_t *cmcf;

    cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
    ph = cmcf->phase_engine;

    while (ph[r->phase_handler].checker) {
        rc = ph[r->phase_handler].checker(r, &ph[r->phase_handler]);
        if (rc == SL_OK) {
            return;
        }
    }
}

sl_int_t
sl_http_core_generic_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph)
{
    sl_int_t rc;

    rc = ph->handler(r);
    if (rc == SL_OK) {
        r->phase_handler = ph->next;
        return SL_AGAIN;
    }
    if (rc == SL_DECLINED) {
        r->phase_handler++;
        return SL_AGAIN;
    }
    if (rc == SL_AGAIN || rc == SL_DONE) {
        return SL_OK;
    }
    sl_http_finalize_request(r, rc);
    return SL_OK;
}

sl_int_t
sl_http_core_rewrite_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph)
{
    sl_int_t rc;

    rc = ph->handler(r);
    if (rc == SL_DECLINED) {
        r->phase_handler++;
        return SL_AGAIN;
    }
    if (rc == SL_DONE) {
        return SL_OK;
    }
    sl_http_finalize_request(r, rc);
    return SL_OK;
}

sl_int_t
sl_http_core_find_config_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph)
{
    sl_int_t rc;
    sl_http_core_loc_conf_t *clcf;

    sl_unused(ph);

    r->content_handler = NULL;
    r->uri_changed = 0;

    rc = sl_http_core_find_location(r);
    if (rc == SL_ERROR) {
        sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return SL_OK;
    }

    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (!r->internal && clcf->internal) {
        sl_http_finalize_request(r, SL_HTTP_NOT_FOUND);
        return SL_OK;
    }

    sl_http_update_location_config(r);

    if (r->headers_in.content_length_n != -1 && !r->discard_body
        && clcf->client_max_body_size
        && clcf->client_max_body_size < r->headers_in.content_length_n) {
        sl_log_error(SL_LOG_INFO, r->connection->log, 0,
                     "client intended to send too large body: %O bytes",
                     r->headers_in.content_length_n);
        r->expect_tested = 1;
        (void) sl_http_discard_request_body(r);
        sl_http_finalize_request(r, SL_HTTP_REQUEST_ENTITY_TOO_LARGE);
        return SL_OK;
    }

    if (rc == SL_DONE) {
        /*
         * "location /api/ { proxy_pass ...; }" and a request for "/api": 301
         * to the location's name, escaped, with the arguments kept.
         */
        sl_http_finalize_request(r, sl_http_redirect_to_path(r, &clcf->name, 0));
        return SL_OK;
    }

    if (sl_http_alias_climbs(r)) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "URI \"%V\" climbs out of the root or alias of location \"%V\" with a "
                     "\"..\" segment", &r->uri, &clcf->name);
        sl_http_finalize_request(r, SL_HTTP_NOT_FOUND);
        return SL_OK;
    }

    r->phase_handler++;
    return SL_AGAIN;
}

sl_int_t
sl_http_core_post_rewrite_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph)
{
    if (!r->uri_changed) {
        r->phase_handler++;
        return SL_AGAIN;
    }

    /* r->uri_changes counts down from SL_HTTP_MAX_URI_CHANGES + 1 */
    r->uri_changes--;
    if (r->uri_changes == 0) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "rewrite or internal redirection cycle while processing \"%V\"", &r->uri);
        sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return SL_OK;
    }

    r->phase_handler = ph->next;
    return SL_AGAIN;
}

sl_int_t
sl_http_core_access_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph)
{
    sl_int_t rc;

    rc = ph->handler(r);
    if (rc == SL_DECLINED || rc == SL_OK) {
        r->phase_handler++;
        return SL_AGAIN;
    }
    if (rc == SL_AGAIN || rc == SL_DONE) {
        return SL_OK;
    }
    if (rc == SL_HTTP_FORBIDDEN || rc == SL_HTTP_UNAUTHORIZED) {
        r->access_code = rc;
        r->phase_handler++;
        return SL_AGAIN;
    }
    sl_http_finalize_request(r, rc);
    return SL_OK;
}

sl_int_t
sl_http_core_post_access_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph)
{
    sl_int_t access_code;

    sl_unused(ph);

    access_code = r->access_code;
    if (access_code) {
        r->access_code = 0;
        if (access_code == SL_HTTP_FORBIDDEN) {
            sl_log_error(SL_LOG_ERR, r->connection->log, 0, "access forbidden by rule");
        }
        sl_http_finalize_request(r, access_code);
        return SL_OK;
    }

    r->phase_handler++;
    return SL_AGAIN;
}

static void
sl_http_request_empty_handler(sl_http_request_t *r)
{
    sl_unused(r);
}

sl_int_t
sl_http_core_content_phase(sl_http_request_t *r, sl_http_phase_handler_t *ph)
{
    sl_int_t rc;

    if (r->content_handler) {
        r->write_event_handler = sl_http_request_empty_handler;
        sl_http_finalize_request(r, r->content_handler(r));
        return SL_OK;
    }

    rc = ph->handler(r);
    if (rc != SL_DECLINED) {
        sl_http_finalize_request(r, rc);
        return SL_OK;
    }

    ph++;
    if (ph->checker) {
        r->phase_handler++;
        return SL_AGAIN;
    }

    /* no module took the request */
    if (r->uri.len && r->uri.data[r->uri.len - 1] == '/') {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0, "directory index of \"%V\" is forbidden",
                     &r->uri);
        sl_http_finalize_request(r, SL_HTTP_FORBIDDEN);
        return SL_OK;
    }

    sl_log_error(SL_LOG_ERR, r->connection->log, 0, "no handler found for \"%V\"", &r->uri);
    sl_http_finalize_request(r, SL_HTTP_NOT_FOUND);
    return SL_OK;
}

void
sl_http_update_location_config(sl_http_request_t *r)
{
    sl_connection_t *c;
    sl_http_core_loc_conf_t *clcf;

    c = r->connection;
    clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);

    if (clcf->error_log && c->log != clcf->error_log) {
        c->log->file = clcf->error_log->file;
        c->log->log_level = clcf->error_log->log_level;
        c->log->next = clcf->error_log->next;
    }

    if (r->keepalive) {
        if (clcf->keepalive_timeout == 0) {
            r->keepalive = 0;
        } else if (c->requests >= clcf->keepalive_requests) {
            r->keepalive = 0;
        }
    }

    if (clcf->handler) {
        r->content_handler = clcf->handler;
    }
}

/* Location lookup ---------------------------------------------------------- */

/*
 * Static (exact and prefix) locations of one level, longest first.
 * Returns SL_OK for an exact match, SL_AGAIN for a prefix match (nested
 * locations may refine it), SL_DONE when the URI is a proxied location's
 * name without its trailing slash (nginx's auto_redirect: r->loc_conf is
 * that location's, the caller answers 301), SL_DECLINED for none. A
 * location named exactly as the URI, "=" or prefix, wins over the redirect;
 * the redirect wins over shorter prefixes.
 */
static sl_int_t
sl_http_core_find_static_location(sl_http_request_t *r, sl_http_core_loc_conf_t **statics)
{
    sl_uint_t auto_redirect;
    sl_http_core_loc_conf_t *clcf, *redirect;

    if (statics == NULL) {
        return SL_DECLINED;
    }

    auto_redirect = 0;
    redirect = NULL;

    /* exact locations first: an exact match ends the search */
    for (sl_http_core_loc_conf_t **p = statics; *p; p++) {
        clcf = *p;
        if (clcf->exact_match && sl_str_eq(&clcf->name, &r->uri)) {
            r->loc_conf = clcf->loc_conf;
            return SL_OK;
        }
    }

    for (sl_http_core_loc_conf_t **p = statics; *p; p++) {
        clcf = *p;

        if (clcf->name.len == r->uri.len + 1) {
            if (clcf->name.data[r->uri.len] == '/'
                && memcmp(clcf->name.data, r->uri.data, r->uri.len) == 0) {
                /*
                 * "= /a/" and "/a/" both: either one proxied redirects, with
                 * the exact one's configuration (nginx's tree node does so)
                 */
                auto_redirect |= clcf->auto_redirect;

                if (redirect == NULL || clcf->exact_match) {
                    redirect = clcf;
                }
            }

            continue;
        }

        if (clcf->exact_match || clcf->name.len > r->uri.len) {
            continue;
        }

        if (memcmp(clcf->name.data, r->uri.data, clcf->name.len) == 0) {
            if (auto_redirect && clcf->name.len < r->uri.len) {
                break;
            }

            r->loc_conf = clcf->loc_conf;
            return SL_AGAIN;
        }
    }

    if (auto_redirect) {
        r->loc_conf = redirect->loc_conf;
        return SL_DONE;
    }

    return SL_DECLINED;
}

static sl_int_t
sl_http_core_find_location_level(sl_http_request_t *r)
{
    sl_int_t rc, n;
    sl_uint_t noregex;
    sl_http_core_loc_conf_t *pclcf, *clcf, **regex;

    pclcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
    noregex = 0;

    rc = sl_http_core_find_static_location(
        r, (sl_http_core_loc_conf_t **) pclcf->static_locations);

    if (rc == SL_AGAIN) {
        clcf = sl_http_get_module_loc_conf(r, sl_http_core_module);
        noregex = clcf->noregex;
        /* nested locations of the matched prefix */
        rc = sl_http_core_find_location_level(r);
    }

    /* an auto_redirect (SL_DONE) is answered before any regex is tried, as nginx */
    if (rc == SL_OK || rc == SL_DONE || rc == SL_ERROR) {
        return rc;
    }

    if (noregex == 0 && pclcf->regex_locations) {
        for (regex = pclcf->regex_locations; *regex; regex++) {
            n = sl_http_regex_exec(r, (*regex)->regex, &r->uri);
            if (n == SL_OK) {
                r->loc_conf = (*regex)->loc_conf;
                rc = sl_http_core_find_location_level(r);
                return rc == SL_ERROR ? SL_ERROR : SL_OK;
            }
            if (n == SL_DECLINED) {
                continue;
            }
            return SL_ERROR;
        }
    }

    return rc;
}

sl_int_t
sl_http_core_find_location(sl_http_request_t *r)
{
    sl_int_t rc;

    sl_http_core_srv_conf_t *cscf;

    /*
     * The search starts from the server's own level, also when a
     * server-level "if" matched: its settings apply to the rewrite phase.
     */
    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);
    r->loc_conf = cscf->ctx->loc_conf;
    rc = sl_http_core_find_location_level(r);

    if (rc == SL_ERROR || rc == SL_DONE) {
        return rc;
    }

    return SL_OK;
}

sl_int_t
sl_http_named_location(sl_http_request_t *r, sl_str_t *name)
{
    void **named;
    sl_http_core_srv_conf_t *cscf;
    sl_http_core_main_conf_t *cmcf;
    sl_http_core_loc_conf_t *clcf;

    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);

    if (cscf->named_locations) {
        for (named = cscf->named_locations; *named; named++) {
            clcf = *named;
            if (!sl_str_eq(&clcf->name, name)) {
                continue;
            }
            r->uri_changes--;
            if (r->uri_changes == 0) {
                sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                             "rewrite or internal redirection cycle while redirect to named "
                             "location \"%V\"",
                             name);
                r->main->count++;
                sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
                return SL_DONE;
            }
            r->main->count++;
            r->internal = 1;
            r->content_handler = NULL;
            r->uri_changed = 0;
            r->loc_conf = clcf->loc_conf;
            sl_memzero(r->ctx, sizeof(void *) * sl_http_max_module);
            sl_http_update_location_config(r);
            cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
            r->phase_handler = cmcf->location_rewrite_index;
            r->write_event_handler = sl_http_core_run_phases;
            sl_http_core_run_phases(r);
            return SL_DONE;
        }
    }

    sl_log_error(SL_LOG_ERR, r->connection->log, 0, "could not find named location \"%V\"", name);
    r->main->count++;
    sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
    return SL_DONE;
}

sl_int_t
sl_http_internal_redirect(sl_http_request_t *r, sl_str_t *uri, sl_str_t *args)
{
    sl_http_core_srv_conf_t *cscf;

    r->uri_changes--;
    if (r->uri_changes == 0) {
        sl_log_error(SL_LOG_ERR, r->connection->log, 0,
                     "rewrite or internal redirection cycle while internally redirecting to "
                     "\"%V\"",
                     uri);
        r->main->count++;
        sl_http_finalize_request(r, SL_HTTP_INTERNAL_SERVER_ERROR);
        return SL_DONE;
    }

    r->uri = *uri;
    if (args) {
        r->args = *args;
    } else {
        sl_str_null(&r->args);
    }
    r->exten.len = 0;
    r->exten.data = NULL;
    for (size_t i = r->uri.len; i > 0; i--) {
        if (r->uri.data[i - 1] == '/') {
            break;
        }
        if (r->uri.data[i - 1] == '.') {
            r->exten.data = &r->uri.data[i];
            r->exten.len = r->uri.len - i;
            break;
        }
    }

    cscf = sl_http_get_module_srv_conf(r, sl_http_core_module);
    r->loc_conf = cscf->ctx->loc_conf;
    sl_memzero(r->ctx, sizeof(void *) * sl_http_max_module);

    /* the cached variable values belong to the old URI */
    if (r->variables) {
        sl_http_core_main_conf_t *cmcf = sl_http_get_module_main_conf(r, sl_http_core_module);
        sl_memzero(r->variables, cmcf->variables.nelts * sizeof(sl_http_variable_value_t));
    }

    r->internal = 1;
    r->valid_unparsed_uri = 0;
    r->add_uri_to_alias = 0;
    r->main->count++;

    sl_http_handler(r);
    return SL_DONE;
}
