/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * HTTP client on libcurl. One request description (HttpRequest) and one transfer object serve the
 * blocking call used by vigilctl and tests and the asynchronous calls of the agent (curl-event.h),
 * so headers, limits, the bearer token and error translation are set up in exactly one place.
 */

#include <curl/curl.h>
#include <stddef.h>

#include "time-util.h"

typedef struct HttpRequest {
        const char *method; /* "GET" (default) or "POST" */
        const char *url;
        const char *content_type; /* of the body */
        const char *accept;
        const void *body; /* copied by http_transfer_new() */
        size_t body_size;
        const char *bearer_token; /* NULL: no Authorization header */
        usec_t timeout; /* whole transfer; 0: 10 s */
        usec_t connect_timeout; /* 0: min(timeout, 5 s) */
        size_t max_response; /* 0: 16 MiB */
        const char *unix_socket; /* connect to this unix socket instead of the URL's host */
        bool http2; /* HTTP/2: prior knowledge on http://, ALPN on https:// */
        const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
        const char *ca_file; /* TLS: trust these CAs instead of the system's */
        const char *cert_file; /* TLS client certificate and key */
        const char *key_file;
} HttpRequest;

typedef struct HttpResponse {
        long status; /* HTTP status */
        char *body; /* NUL-terminated (not counted in size), owned; NULL when empty */
        size_t size;
        char *content_type; /* owned, may be NULL */
        char **headers; /* every header and trailer line, "name: value" with the name lower-cased */
} HttpResponse;

/* One transfer: owns the easy handle, its headers, a copy of the body and the response. */
typedef struct HttpTransfer {
        CURL *easy;
        struct curl_slist *headers;
        void *body;
        size_t max_response;
        bool too_big;
        HttpResponse response;
        void *userdata; /* for the caller (curl-event.h uses it for its completion callback) */
} HttpTransfer;

/* Releases the members of r (not r itself). */
void http_response_done(HttpResponse *r);

/* The value of the last header or trailer called name (lower case), or NULL. */
const char *http_response_header(const HttpResponse *r, const char *name);

/* Makes a transfer for req, ready to perform. */
int http_transfer_new(const HttpRequest *req, HttpTransfer **ret);
HttpTransfer *http_transfer_free(HttpTransfer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpTransfer *, http_transfer_free);

/*
 * After the transfer ended with code: fills t->response.status and content_type. Returns 0 when an
 * HTTP answer arrived (any status), or a negative errno when none did (see curl_code_to_errno;
 * -EFBIG when the answer was larger than max_response).
 */
int http_transfer_finish(HttpTransfer *t, CURLcode code);

/* Performs req, waits for the answer; on success (an HTTP answer of any status) fills *ret. */
int http_request(const HttpRequest *req, HttpResponse *ret);

/*
 * Translates a libcurl result into a negative errno; the only place that does so:
 * -ECONNREFUSED (nothing listening), -ETIMEDOUT, -EHOSTUNREACH (name or route), -ECONNRESET,
 * -EPROTO (malformed answer), -EINVAL (bad URL), -EACCES (TLS trust), -EIO otherwise.
 */
int curl_code_to_errno(CURLcode c);

/* Reads a bearer token from a file (surrounding whitespace trimmed); -EINVAL when empty. */
int read_token_file(const char *path, char **ret_token);

/* Initialises libcurl once per process (call early in main(), before threads). */
void http_global_init(void);
