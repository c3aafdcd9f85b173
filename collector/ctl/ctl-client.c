/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <curl/curl.h>

#include "ctl.h"
#include "http-client.h"
#include "json-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(json_tokener *, json_tokener_free);
DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(char *, curl_free);

int ctl_client_new(
        const char *url, const char *token, const char *ca_file, usec_t timeout, CtlClient **ret) {
        _cleanup_(ctl_client_freep) CtlClient *c = calloc(1, sizeof(CtlClient));
        size_t l;

        if (!c)
                return -ENOMEM;
        c->url = strdup(url);
        if (!c->url)
                return -ENOMEM;
        l = strlen(c->url);
        while (l > 0 && c->url[l - 1] == '/')
                c->url[--l] = 0;
        if (token) {
                c->token = strdup(token);
                if (!c->token)
                        return -ENOMEM;
        }
        if (ca_file && !(c->ca_file = strdup(ca_file)))
                return -ENOMEM;
        c->timeout = timeout;
        *ret = TAKE_PTR(c);
        return 0;
}

CtlClient *ctl_client_free(CtlClient *c) {
        if (!c)
                return NULL;
        free(c->url);
        free(c->token);
        free(c->ca_file);
        free(c->last_error);
        return mfree(c);
}

int ctl_parse_json_object(const char *text, size_t size, json_object **ret) {
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        _cleanup_json_ json_object *o = NULL;
        size_t used;

        if (!text || size == 0 || size > INT32_MAX)
                return -EBADMSG;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int)size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
                !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        /* One document and nothing after it but white space. */
        for (used = json_tokener_get_parse_end(tok); used < size; used++)
                if (!isspace((unsigned char)text[used]))
                        return -EBADMSG;
        *ret = TAKE_PTR(o);
        return 0;
}

int ctl_url_path(const char *prefix, const char *segment, char **ret) {
        _cleanup_(curl_freep) char *escaped = curl_easy_escape(NULL, segment, 0);
        char *p;

        if (!escaped || asprintf(&p, "%s%s", prefix, escaped) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int ctl_url_append_query(char **url, const char *key, const char *value) {
        _cleanup_(curl_freep) char *escaped = curl_easy_escape(NULL, value, 0);
        char *n;

        if (!escaped)
                return -ENOMEM;
        if (asprintf(&n, "%s%c%s=%s", *url, strchr(*url, '?') ? '&' : '?', key, escaped) < 0)
                return -ENOMEM;
        free(*url);
        *url = n;
        return 0;
}

/* The HTTP status of a failed answer as an errno, the one place that does so for vigilctl. */
static int http_status_to_errno(long status) {
        switch (status) {
        case 401:
                return -EKEYREJECTED;
        case 403:
                return -EPERM;
        case 404:
                return -ENOENT;
        default:
                return -EREMOTEIO;
        }
}

int ctl_client_get_json(CtlClient *c, const char *path, json_object **ret) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_(freep) char *url = NULL;
        _cleanup_json_ json_object *o = NULL;
        int r;

        c->last_status = 0;
        c->last_error = mfree(c->last_error);
        if (asprintf(&url, "%s%s", c->url, path) < 0)
                return -ENOMEM;

        HttpRequest req = {
                .method = "GET",
                .url = url,
                .accept = "application/json",
                .bearer_token = c->token,
                .ca_file = c->ca_file,
                .timeout = c->timeout,
        };
        r = http_request(&req, &resp);
        if (r < 0)
                return r;
        c->last_status = resp.status;

        r = ctl_parse_json_object(resp.body, resp.size, &o);
        if (resp.status < 200 || resp.status > 299) {
                const char *e = r >= 0 ? json_get_string(o, "error", NULL) : NULL;
                if (e) {
                        c->last_error = strdup(e);
                        if (!c->last_error)
                                return -ENOMEM;
                }
                return http_status_to_errno(resp.status);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}
