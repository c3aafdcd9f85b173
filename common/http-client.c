/* SPDX-License-Identifier: MIT */
#include <ctype.h>

#include "http-client.h"

#define DEFAULT_TIMEOUT (10 * USEC_PER_SEC)
#define DEFAULT_CONNECT_TIMEOUT (5 * USEC_PER_SEC)
#define DEFAULT_MAX_RESPONSE (16u * 1024 * 1024)

void http_global_init(void) {
        static bool done = false;
        if (!done) {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                done = true;
        }
}

void http_response_done(HttpResponse *r) {
        if (!r)
                return;
        r->body = mfree(r->body);
        r->content_type = mfree(r->content_type);
        r->headers = strv_free(r->headers);
        r->size = 0;
        r->status = 0;
}

/* Appends to the response, refusing (and so failing the transfer) past the size limit rather
 * than buffering an answer of any size. */
static size_t body_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        HttpTransfer *t = userdata;
        HttpResponse *resp = &t->response;
        size_t n = size * nmemb;

        if (resp->size + n > t->max_response) {
                t->too_big = true;
                return 0;
        }
        char *b = realloc(resp->body, resp->size + n + 1);
        if (!b)
                return 0;
        memcpy(b + resp->size, data, n);
        resp->size += n;
        b[resp->size] = 0;
        resp->body = b;
        return n;
}

/* Keeps every header and trailer line (curl passes HTTP/2 trailers here too), name lower-cased. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        HttpTransfer *t = userdata;
        size_t n = size * nmemb, l = n;

        while (l > 0 && (data[l - 1] == '\r' || data[l - 1] == '\n'))
                l--;
        const char *colon = memchr(data, ':', l);
        if (!colon || colon == data || strv_length(t->response.headers) >= 256)
                return n;
        _cleanup_(freep) char *line = strndup(data, l);
        if (!line)
                return 0;
        for (char *p = line; *p != ':'; p++)
                *p = (char)tolower((unsigned char)*p);
        return strv_extend(&t->response.headers, line) < 0 ? 0 : n;
}

const char *http_response_header(const HttpResponse *r, const char *name) {
        const char *found = NULL;
        size_t l = strlen(name);
        STRV_FOREACH (h, r->headers)
                if (strncmp(*h, name, l) == 0 && (*h)[l] == ':') {
                        found = *h + l + 1;
                        while (*found == ' ' || *found == '\t')
                                found++;
                }
        return found;
}

HttpTransfer *http_transfer_free(HttpTransfer *t) {
        if (!t)
                return NULL;
        if (t->easy)
                curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        free(t->body);
        http_response_done(&t->response);
        return mfree(t);
}

static int add_header(HttpTransfer *t, const char *name, const char *value) {
        _cleanup_(freep) char *h = NULL;
        if (asprintf(&h, "%s: %s", name, value) < 0)
                return -ENOMEM;
        struct curl_slist *l = curl_slist_append(t->headers, h);
        if (!l)
                return -ENOMEM;
        t->headers = l;
        return 0;
}

int http_transfer_new(const HttpRequest *req, HttpTransfer **ret) {
        _cleanup_(http_transfer_freep) HttpTransfer *t = calloc(1, sizeof(HttpTransfer));
        usec_t timeout = req->timeout ?: DEFAULT_TIMEOUT;
        usec_t connect_timeout = req->connect_timeout ?: MIN(timeout, DEFAULT_CONNECT_TIMEOUT);
        int r;

        if (!t)
                return -ENOMEM;
        if (isempty(req->url))
                return -EINVAL;
        t->max_response = req->max_response ?: DEFAULT_MAX_RESPONSE;
        t->easy = curl_easy_init();
        if (!t->easy)
                return -ENOMEM;

        if (curl_easy_setopt(t->easy, CURLOPT_URL, req->url) != CURLE_OK)
                return -EINVAL;
        curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)(timeout / USEC_PER_MSEC));
        curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout / USEC_PER_MSEC));
        curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, body_cb);
        curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
        curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
        /* No "Expect: 100-continue" round trip for small bodies. */
        if ((r = add_header(t, "Expect", "")) < 0)
                return r;
        if (req->content_type && (r = add_header(t, "Content-Type", req->content_type)) < 0)
                return r;
        if (req->accept && (r = add_header(t, "Accept", req->accept)) < 0)
                return r;
        if (req->bearer_token) {
                _cleanup_(freep) char *v = NULL;
                if (asprintf(&v, "Bearer %s", req->bearer_token) < 0)
                        return -ENOMEM;
                if ((r = add_header(t, "Authorization", v)) < 0)
                        return r;
        }
        for (const char *const *h = req->headers; h && *h; h++) {
                struct curl_slist *l = curl_slist_append(t->headers, *h);
                if (!l)
                        return -ENOMEM;
                t->headers = l;
        }
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
        if (req->unix_socket &&
                curl_easy_setopt(t->easy, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket) != CURLE_OK)
                return -EINVAL;
        if (req->http2)
                curl_easy_setopt(t->easy, CURLOPT_HTTP_VERSION,
                        startswith(req->url, "https:") ? (long)CURL_HTTP_VERSION_2TLS
                                                       : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        if (req->ca_file)
                curl_easy_setopt(t->easy, CURLOPT_CAINFO, req->ca_file);
        if (req->cert_file)
                curl_easy_setopt(t->easy, CURLOPT_SSLCERT, req->cert_file);
        if (req->key_file)
                curl_easy_setopt(t->easy, CURLOPT_SSLKEY, req->key_file);

        if (req->method && streq(req->method, "POST")) {
                if (req->body_size > 0) {
                        t->body = malloc(req->body_size);
                        if (!t->body)
                                return -ENOMEM;
                        memcpy(t->body, req->body, req->body_size);
                }
                curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
                curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body ?: "");
                curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size);
        } else if (req->method && !streq(req->method, "GET"))
                curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, req->method);

        *ret = TAKE_PTR(t);
        return 0;
}

int http_transfer_finish(HttpTransfer *t, CURLcode code) {
        char *ct = NULL;

        if (code == CURLE_WRITE_ERROR && t->too_big)
                return -EFBIG;
        if (code != CURLE_OK)
                return curl_code_to_errno(code);
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
        if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
                free(t->response.content_type);
                t->response.content_type = strdup(ct);
                if (!t->response.content_type)
                        return -ENOMEM;
        }
        return 0;
}

int http_request(const HttpRequest *req, HttpResponse *ret) {
        _cleanup_(http_transfer_freep) HttpTransfer *t = NULL;
        int r;

        http_global_init();
        r = http_transfer_new(req, &t);
        if (r < 0)
                return r;
        r = http_transfer_finish(t, curl_easy_perform(t->easy));
        if (r < 0)
                return r;
        *ret = t->response;
        t->response = (HttpResponse){};
        return 0;
}

int curl_code_to_errno(CURLcode c) {
        switch (c) {
        case CURLE_OK:
                return 0;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
                return -ECONNRESET;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EINVAL;
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_BAD_CONTENT_ENCODING:
                return -EPROTO;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CONNECT_ERROR:
                return -EACCES;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        default:
                return -EIO;
        }
}

int read_token_file(const char *path, char **ret_token) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char buf[4096];

        if (!f)
                return -errno;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        if (ferror(f))
                return -EIO;
        buf[n] = 0;
        char *s = buf;
        while (isspace((unsigned char)*s))
                s++;
        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char)s[l - 1]))
                s[--l] = 0;
        if (l == 0)
                return -EINVAL;
        char *t = strdup(s);
        if (!t)
                return -ENOMEM;
        *ret_token = t;
        return 0;
}
