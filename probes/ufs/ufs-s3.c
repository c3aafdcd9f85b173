/* SPDX-License-Identifier: MIT */
/*
 * s3:// through libcurl: one easy handle per Ufs, so that consecutive requests reuse the connection,
 * signed by libcurl's SigV4 (CURLOPT_AWS_SIGV4) over URLs that s3_url() spells canonically. Every
 * request carries "x-amz-content-sha256: UNSIGNED-PAYLOAD" (libcurl 7.88 adds none, and S3 needs it;
 * libcurl signs it and uses it as the payload hash), so bodies stream without being hashed first.
 *
 * Directories are key prefixes (ufs.h). Listing, moving and deleting a directory walk its keys page
 * by page (1000 a page on S3), so memory stays bounded by a page, not by the directory.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdarg.h>

#include "http-client.h"
#include "s3.h"
#include "ufs.h"

#define S3_MAX_PUT_SIZE (5ULL * 1024 * 1024 * 1024) /* one PUT, one part, one CopyObject */
#define S3_MAX_PARTS 10000u
#define S3_MAX_ANSWER (16u * 1024 * 1024) /* an XML answer: a 1000-key page is ~300 KiB */
#define S3_MAX_ERROR_ANSWER (64u * 1024)
#define S3_DEFAULT_TIMEOUT (30 * USEC_PER_SEC)
#define S3_DEFAULT_CONNECT_TIMEOUT (5 * USEC_PER_SEC)

#define S3_TRANSFER_BUFFER (512L * 1024)

typedef struct S3 {
        S3Target *target;
        S3Credentials credentials;
        char *provider; /* "aws:amz:<region>:s3" */
        char *root; /* the key prefix of the Ufs root: "" or "a/b" */
        char *ca_file;
        bool insecure;
        usec_t timeout;
        usec_t connect_timeout;
        uint64_t part_size;
        CURL *easy; /* reused: keeps the connection alive between requests */
        char curl_error[CURL_ERROR_SIZE];
} S3;

/* One request and its answer. The caller sets the request part; s3_perform() fills the rest. */
typedef struct S3Call {
        const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
        const char *key; /* full key, not encoded; "" for the bucket */
        const char *subject; /* the key or prefix messages name, when not key (a listing's prefix) */
        const S3Param *params;
        size_t n_params;
        const char *headers[4]; /* more "Name: value" lines, NULL-terminated */
        const void *body; /* PUT or POST body in memory (when no fill) */
        size_t body_size;
        UfsReadFn fill; /* PUT body pulled from here: exactly fill_size bytes */
        void *fill_userdata;
        uint64_t fill_size;
        UfsWriteFn sink; /* a 2xx answer's data goes here; NULL: into answer */
        void *sink_userdata;
        bool range; /* ask for range_offset, range_length bytes (UFS_SIZE_UNKNOWN: to the end) */
        uint64_t range_offset;
        uint64_t range_length;

        long status;
        char status_reason[64];
        char *answer; /* NUL-terminated: a 2xx answer without sink, or the start of an error answer */
        size_t answer_size;
        char *etag;
        uint64_t content_length; /* HEAD */
        usec_t mtime; /* HEAD, 0 when unknown */

        int error; /* from fill or sink, or ours about them */
        const char *fill_problem; /* what was wrong with what fill gave */
        bool too_big;
        uint64_t sent;
        size_t body_sent;
        uint64_t skip; /* of a 200 answer to a range request (the server ignored the range) */
        uint64_t left;
        bool empty_range; /* a 206 whose Content-Range says the object is empty */
} S3Call;

static void s3_call_done(S3Call *c) {
        c->answer = mfree(c->answer);
        c->etag = mfree(c->etag);
        c->answer_size = 0;
}

static S3 *s3_free(S3 *s3) {
        if (!s3)
                return NULL;
        if (s3->easy)
                curl_easy_cleanup(s3->easy);
        s3_target_free(s3->target);
        s3_credentials_done(&s3->credentials);
        free(s3->provider);
        free(s3->root);
        free(s3->ca_file);
        return mfree(s3);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(S3 *, s3_free);

static void curl_slist_free_allp(struct curl_slist **l) {
        curl_slist_free_all(*l);
}

/* "s3://bucket/key" for messages, in a buffer of the caller's. */
#define S3_WHERE_MAX 1200
static const char *s3_where(const S3 *s3, const char *key, char *buf) {
        snprintf(buf, S3_WHERE_MAX, "s3://%s/%s", s3->target->bucket, key);
        return buf;
}
#define S3_WHERE(s3, key) s3_where((s3), (key), (char[S3_WHERE_MAX]){})

/* ---------------------------------------------------------------------------------- transfer */

static bool status_ok(long status) {
        return status >= 200 && status < 300;
}

/* Ctrl-C: libcurl asks about once a second, and whenever data moved; non-zero aborts the transfer. */
static int progress_cb(
        void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        return ufs_cancelled(userdata) ? 1 : 0;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        S3Call *c = userdata;
        size_t n = size * nmemb, l = n;
        const char *v;

        while (l > 0 && (data[l - 1] == '\r' || data[l - 1] == '\n'))
                l--;
        if (l > 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* a status line; a "100 Continue" one is followed by the real one */
                const char *sp = memchr(data, ' ', l);
                if (!sp)
                        return n;
                char *end;
                c->status = strtol(sp + 1, &end, 10);
                while (end < data + l && *end == ' ')
                        end++;
                snprintf(c->status_reason, sizeof(c->status_reason), "%.*s", (int)(data + l - end), end);
                c->etag = mfree(c->etag);
                /* a server that ignores Range answers 200 with everything: cut the range out ourselves */
                c->skip = c->range && c->status == 200 ? c->range_offset : 0;
                c->left = c->range && c->status == 200 ? c->range_length : UINT64_MAX;
                return n;
        }
        /* "Content-Range: bytes 0-0/0" (s3rver's answer for a range of an empty object, with a body
         * length of 1 that never comes): there is nothing to read, so do not wait for it */
        if (l > 16 && strncasecmp(data, "content-range:", 14) == 0 && c->status == 206 &&
                data[l - 2] == '/' && data[l - 1] == '0')
                c->empty_range = true;
        if (l == 0 && c->empty_range)
                return 0; /* end of the headers: stop here */
        if (l > 5 && strncasecmp(data, "etag:", 5) == 0) {
                v = data + 5;
                while (v < data + l && (*v == ' ' || *v == '\t'))
                        v++;
                free(c->etag);
                c->etag = strndup(v, data + l - v);
                if (!c->etag)
                        return 0;
        }
        return n;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        S3Call *c = userdata;
        size_t n = size * nmemb;

        if (status_ok(c->status) && c->sink) {
                size_t skip = (size_t)MIN((uint64_t)n, c->skip);
                size_t give = (size_t)MIN((uint64_t)(n - skip), c->left);
                c->skip -= skip;
                if (c->left != UINT64_MAX)
                        c->left -= give;
                if (give > 0) {
                        int r = c->sink(c->sink_userdata, data + skip, give);
                        if (r < 0) {
                                c->error = r;
                                return 0;
                        }
                }
                return n;
        }

        size_t max = status_ok(c->status) ? S3_MAX_ANSWER : S3_MAX_ERROR_ANSWER;
        if (c->answer_size + n > max) {
                if (status_ok(c->status)) {
                        c->too_big = true;
                        return 0;
                }
                /* the start of an error document says what it is; the rest is not needed */
                n = max - c->answer_size;
                if (n == 0)
                        return size * nmemb;
        }
        char *a = realloc(c->answer, c->answer_size + n + 1);
        if (!a)
                return 0;
        memcpy(a + c->answer_size, data, n);
        c->answer_size += n;
        a[c->answer_size] = 0;
        c->answer = a;
        return size * nmemb;
}

/* Asks fill for one more byte once the announced size has been given: a source with more data than
 * announced must fail the create before the last bytes go out and the object is stored. */
static int fill_check_end(S3Call *c) {
        char extra;
        ssize_t k = c->fill(c->fill_userdata, &extra, 1);
        if (k < 0)
                return c->error = (int)k;
        if (k > 0) {
                c->fill_problem = "gave more bytes than announced";
                return c->error = -EIO;
        }
        return 0;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata) {
        S3Call *c = userdata;
        size_t n = size * nitems;

        if (!c->fill) {
                n = MIN(n, c->body_size - c->body_sent);
                if (n == 0)
                        return 0;
                memcpy(buf, (const char *)c->body + c->body_sent, n);
                c->body_sent += n;
                return n;
        }
        if (c->sent >= c->fill_size)
                return 0;
        n = (size_t)MIN((uint64_t)n, c->fill_size - c->sent);
        ssize_t k = c->fill(c->fill_userdata, buf, n);
        if (k < 0) {
                c->error = (int)k;
                return CURL_READFUNC_ABORT;
        }
        if (k == 0 || (size_t)k > n) {
                c->fill_problem =
                        k == 0 ? "gave fewer bytes than announced" : "gave more bytes than asked for";
                c->error = -EIO;
                return CURL_READFUNC_ABORT;
        }
        c->sent += (uint64_t)k;
        if (c->sent == c->fill_size && fill_check_end(c) < 0)
                return CURL_READFUNC_ABORT;
        return (size_t)k;
}

static int add_header(struct curl_slist **l, const char *fmt, ...) _printf_(2, 3);
static int add_header(struct curl_slist **l, const char *fmt, ...) {
        _cleanup_(freep) char *h = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&h, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        struct curl_slist *n = curl_slist_append(*l, h);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

/* The request timeout as curl's low-speed time: whole seconds, at least one. */
static unsigned long s3_stall_seconds(const S3 *s3) {
        return MAX((s3->timeout + USEC_PER_SEC - 1) / USEC_PER_SEC, 1);
}

/*
 * Performs c. Returns 0 when an HTTP answer arrived, whatever its status (c->status), or a negative
 * errno when none did: the transport's (words recorded on u), or fill's or sink's (words recorded only
 * when the fault was the size of what fill gave; the caller's own errors keep the caller's words).
 */
static int s3_perform(Ufs *u, S3Call *c) {
        S3 *s3 = u->data;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(freep) char *url = NULL;
        CURL *e = s3->easy;
        int r;

        c->status = 0;
        c->status_reason[0] = 0;
        c->error = 0;
        c->sent = 0;
        c->body_sent = 0;
        c->left = UINT64_MAX;
        s3_call_done(c);

        r = s3_url(s3->target, c->key, c->params, c->n_params, &url);
        if (r < 0)
                return r;
        if (c->fill && c->fill_size == 0 && fill_check_end(c) < 0)
                goto callback_error;

        /*
         * libcurl 7.88 signs every header given here, even a blank one that only removes a header of
         * its own ("Expect:" would be signed yet not sent, and S3 would refuse the signature): so no
         * such blanks. Its own "Expect: 100-continue" (bodies above 1 MiB) is not signed and lets S3
         * refuse a request before its body is sent.
         */
        if (add_header(&headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD") < 0 ||
                (s3->credentials.session_token &&
                        add_header(&headers, "x-amz-security-token: %s", s3->credentials.session_token) < 0))
                return -ENOMEM;
        if (c->range) {
                if (c->range_length == UFS_SIZE_UNKNOWN || c->range_length > UINT64_MAX - c->range_offset)
                        r = add_header(&headers, "Range: bytes=%" PRIu64 "-", c->range_offset);
                else
                        r = add_header(&headers, "Range: bytes=%" PRIu64 "-%" PRIu64, c->range_offset,
                                c->range_offset + c->range_length - 1);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(c->headers) && c->headers[i]; i++)
                if (add_header(&headers, "%s", c->headers[i]) < 0)
                        return -ENOMEM;

        /* options of the previous request must not leak into this one; the connection is kept */
        curl_easy_reset(e);
        s3->curl_error[0] = 0;
        if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK)
                return ufs_fail(u, -EINVAL, NULL, "invalid request URL %s", url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        /* Larger buffers than libcurl's 16 KiB: fewer callbacks and syscalls per MiB moved (the curl
         * tool uses 100 KiB for the same reason); bench/ufs-io measures it. */
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, S3_TRANSFER_BUFFER);
        curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, S3_TRANSFER_BUFFER);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s3->curl_error);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(s3->connect_timeout / USEC_PER_MSEC));
        /* no progress for timeout fails the request; a long transfer that progresses is not cut off */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        if (u->cancel) {
                curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress_cb);
                curl_easy_setopt(e, CURLOPT_XFERINFODATA, u);
        }
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)s3_stall_seconds(s3));
        curl_easy_setopt(e, CURLOPT_AWS_SIGV4, s3->provider);
        curl_easy_setopt(e, CURLOPT_USERNAME, s3->credentials.access_key);
        curl_easy_setopt(e, CURLOPT_PASSWORD, s3->credentials.secret_key);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
        if (s3->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, s3->ca_file);
        if (s3->insecure) {
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        }

        if (streq(c->method, "HEAD")) {
                curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
                curl_easy_setopt(e, CURLOPT_FILETIME, 1L);
        } else if (streq(c->method, "PUT")) {
                curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
                curl_easy_setopt(e, CURLOPT_READDATA, c);
                curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                        (curl_off_t)(c->fill ? c->fill_size : (uint64_t)c->body_size));
        } else if (streq(c->method, "POST")) {
                curl_easy_setopt(e, CURLOPT_POST, 1L);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ?: "");
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_size);
        } else if (!streq(c->method, "GET"))
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);

        CURLcode code = curl_easy_perform(e);
        if (c->error < 0)
                goto callback_error;
        if (c->empty_range) {
                c->status = 416; /* what S3 answers for a range of an empty object: no data */
                return 0;
        }
        if (code == CURLE_ABORTED_BY_CALLBACK && ufs_cancelled(u))
                return ufs_fail(u, -ECANCELED, NULL, "%s %s: cancelled", c->method, S3_WHERE(s3, c->key));
        if (code == CURLE_WRITE_ERROR && c->too_big)
                return ufs_fail(u, -EPROTO, NULL, "%s %s: answer larger than %u MiB", c->method,
                        S3_WHERE(s3, c->key), S3_MAX_ANSWER >> 20);
        if (code == CURLE_OPERATION_TIMEDOUT && startswith(s3->curl_error, "Operation too slow"))
                /* the low-speed limit: said as the operator thinks of it, not as curl counts it */
                return ufs_fail(u, -ETIMEDOUT, NULL, "%s %s: no answer: nothing moved for %s", c->method,
                        S3_WHERE(s3, c->key), FORMAT_DURATION(s3_stall_seconds(s3) * USEC_PER_SEC));
        if (code != CURLE_OK) {
                r = curl_code_to_errno(code);
                return ufs_fail(u, r, NULL, "%s %s: %s", c->method, S3_WHERE(s3, c->key),
                        *s3->curl_error ? s3->curl_error : curl_easy_strerror(code));
        }
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
        if (streq(c->method, "HEAD")) {
                curl_off_t length = -1, mtime = -1;
                curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
                curl_easy_getinfo(e, CURLINFO_FILETIME_T, &mtime);
                c->content_length = length > 0 ? (uint64_t)length : 0;
                c->mtime = mtime > 0 ? (usec_t)mtime * USEC_PER_SEC : 0;
        }
        return 0;

callback_error:
        if (c->fill_problem)
                return ufs_fail(u, c->error, NULL, "%s %s: the data source %s (%" PRIu64 ")", c->method,
                        S3_WHERE(s3, c->key), c->fill_problem, c->fill_size);
        return c->error;
}

/*
 * Records the failure an error answer (c->status not 2xx) says and returns its errno: the S3 error
 * code and message when the answer has them ("NoSuchBucket: The specified bucket does not exist
 * (bucket bkt)"), the HTTP status otherwise ("HTTP 404 Not Found (s3://bkt/key)").
 */
static int s3_fail_answer(Ufs *u, const S3Call *c) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *code = NULL, *message = NULL;
        char where[S3_WHERE_MAX + 16];
        int r;

        r = s3_error_parse(c->answer, c->answer_size, &code, &message);
        if (r == -ENOMEM)
                return ufs_fail(u, r, NULL, "out of memory");
        if (r >= 0 && streq(code, "NoSuchBucket"))
                snprintf(where, sizeof(where), "bucket %s", s3->target->bucket);
        else
                s3_where(s3, c->subject ?: c->key, where);
        if (r >= 0)
                return ufs_fail(u, s3_error_to_errno(code, c->status), code, "%s: %s (%s)", code,
                        isempty(message) ? "(no message)" : message, where);

        char http[32];
        snprintf(http, sizeof(http), "HTTP %ld", c->status);
        return ufs_fail(u, s3_error_to_errno(NULL, c->status), http, "%s%s%s (%s %s)", http,
                *c->status_reason ? " " : "", c->status_reason, c->method, where);
}

/* Performs c and turns an error answer into an error: 0 for a 2xx answer, else -errno with words. */
static int s3_request(Ufs *u, S3Call *c) {
        int r = s3_perform(u, c);
        if (r < 0)
                return r;
        return status_ok(c->status) ? 0 : s3_fail_answer(u, c);
}

/* ---------------------------------------------------------------------------------- requests */

/*
 * HEAD key: 1 and the size and time when it exists, 0 when it does not (without words: the bucket
 * may be what is missing, which a HEAD answer cannot say). Other failures are recorded; as a HEAD
 * answer has no body to say why, their words come from a GET of the first byte.
 */
static int s3_head(Ufs *u, const char *key, uint64_t *ret_size, usec_t *ret_mtime) {
        S3Call h = {.method = "HEAD", .key = key};
        int r;

        r = s3_perform(u, &h);
        if (r < 0)
                return r;
        if (status_ok(h.status)) {
                *ret_size = h.content_length;
                *ret_mtime = h.mtime;
                s3_call_done(&h);
                return 1;
        }
        if (h.status == 404) {
                s3_call_done(&h);
                return 0;
        }
        S3Call g = {.method = "GET", .key = key, .range = true, .range_length = 1};
        r = s3_perform(u, &g);
        if (r >= 0)
                r = s3_fail_answer(u, status_ok(g.status) || g.status == 416 ? &h : &g);
        s3_call_done(&g);
        s3_call_done(&h);
        return r;
}

/* GET on the bucket with params (a listing), about prefix; c is the caller's to release. */
static int s3_get_bucket(Ufs *u, const char *prefix, const S3Param *params, size_t n, S3Call *c) {
        *c = (S3Call){
                .method = "GET",
                .key = "",
                .subject = prefix,
                .params = params,
                .n_params = n,
        };
        return s3_request(u, c);
}

/* One page of ListObjectsV2 below prefix: delimiter "/" or NULL, token NULL for the first page,
 * max_keys 0 for the server's default (1000). */
static int s3_list_page(
        Ufs *u, const char *prefix, bool delimiter, const char *token, unsigned max_keys, S3ListPage *ret) {
        S3 *s3 = u->data;
        char max[16];
        S3Param params[6] = {
                {"list-type", "2"},
                {"prefix", prefix},
                {"encoding-type", "url"},
        };
        size_t n = 3;
        int r;

        if (delimiter)
                params[n++] = (S3Param){"delimiter", "/"};
        if (token)
                params[n++] = (S3Param){"continuation-token", token};
        if (max_keys > 0) {
                snprintf(max, sizeof(max), "%u", max_keys);
                params[n++] = (S3Param){"max-keys", max};
        }
        _cleanup_(s3_call_done) S3Call c = {};
        r = s3_get_bucket(u, prefix, params, n, &c);
        if (r < 0)
                return r;
        r = s3_list_page_parse(c.answer, c.answer_size, ret);
        if (r < 0)
                return ufs_fail(u, r, NULL, "malformed ListObjectsV2 answer for %s", S3_WHERE(s3, prefix));
        return 0;
}

/* PUT an object of body. */
static int s3_put(Ufs *u, const char *key, const void *body, size_t n) {
        _cleanup_(s3_call_done) S3Call c = {
                .method = "PUT",
                .key = key,
                .body = body,
                .body_size = n,
                .headers = {"Content-Type: application/octet-stream"},
        };
        return s3_request(u, &c);
}

/* DELETE key; S3 answers 204 whether it existed or not. Never the bucket itself. */
static int s3_delete_key(Ufs *u, const char *key) {
        _cleanup_(s3_call_done) S3Call c = {.method = "DELETE", .key = key};
        if (isempty(key))
                return ufs_fail(u, -EINVAL, NULL, "refusing to DELETE the bucket itself");
        return s3_request(u, &c);
}

/* A CopyObject answers 200 and then may still fail: the body says which. */
static int s3_check_late_error(Ufs *u, const S3Call *c, const char *what) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *code = NULL, *message = NULL;
        int r = s3_error_parse(c->answer, c->answer_size, &code, &message);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                return ufs_fail(u, s3_error_to_errno(code, 500), code, "%s: %s (%s %s)", code, message, what,
                        S3_WHERE(s3, c->key));
        return 0;
}

/* Server-side copy of key from to key to. */
static int s3_copy(Ufs *u, const char *from, const char *to) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *source = s3_copy_source(s3->target->bucket, from), *header = NULL,
                              *etag = NULL;
        int r;

        if (!source || asprintf(&header, "x-amz-copy-source: %s", source) < 0)
                return -ENOMEM;
        _cleanup_(s3_call_done) S3Call c = {.method = "PUT", .key = to, .headers = {header}};
        r = s3_request(u, &c);
        if (r < 0)
                return r;
        r = s3_check_late_error(u, &c, "copy to");
        if (r < 0)
                return r;
        r = s3_copy_result_parse(c.answer, c.answer_size, &etag);
        if (r < 0)
                return ufs_fail(u, r, NULL, "malformed CopyObject answer for %s", S3_WHERE(s3, to));
        return 0;
}

/* ---------------------------------------------------------------------------------- keys */

/* The key of path below the root. */
static int s3_key(Ufs *u, const char *path, char **ret) {
        S3 *s3 = u->data;
        char *k = ufs_path_join(s3->root, path);
        if (!k)
                return -ENOMEM;
        *ret = k;
        return 0;
}

/* The prefix of the keys below directory key: "key/", or "" for the bucket's top. */
static char *dir_prefix(const char *key) {
        char *p = NULL;
        if (!*key)
                return strdup("");
        return asprintf(&p, "%s/", key) < 0 ? NULL : p;
}

/*
 * What key is: a file (a key), a directory (its marker or any key below it; the Ufs root is a directory
 * whenever the bucket exists), or -ENOENT with words.
 */
static int s3_lookup(Ufs *u, const char *path, const char *key, UfsStat *ret) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *prefix = dir_prefix(key);
        _cleanup_(s3_list_page_done) S3ListPage page = {};
        uint64_t size = 0;
        usec_t mtime = 0;
        int r;

        if (!prefix)
                return -ENOMEM;
        if (*path) {
                r = s3_head(u, key, &size, &mtime);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = (UfsStat){.size = size, .mtime = mtime};
                        return 0;
                }
        }
        /* one key below it decides; the marker, when there is one, sorts first and gives the time */
        r = s3_list_page(u, prefix, false, NULL, 1, &page);
        if (r < 0)
                return r;
        if (page.n_objects == 0 && !page.prefixes && *path)
                return ufs_fail(u, -ENOENT, "NoSuchKey", "NoSuchKey: no such file or directory (%s)",
                        S3_WHERE(s3, key));
        *ret = (UfsStat){
                .is_dir = true,
                .mtime =
                        page.n_objects > 0 && streq(page.objects[0].key, prefix) ? page.objects[0].mtime : 0,
        };
        return 0;
}

/* The key of path and its status (s3_lookup()); *ret_key is owned by the caller. */
static int s3_key_lookup(Ufs *u, const char *path, char **ret_key, UfsStat *ret) {
        _cleanup_(freep) char *key = NULL;
        int r = s3_key(u, path, &key);
        if (r < 0)
                return r;
        r = s3_lookup(u, path, key, ret);
        if (r < 0)
                return r;
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int s3_stat(Ufs *u, const char *path, UfsStat *ret) {
        _cleanup_(freep) char *key = NULL;
        UfsStat st;
        int r;

        r = s3_key_lookup(u, path, &key, &st);
        if (r < 0)
                return r;
        *ret = st;
        return 0;
}

/* ---------------------------------------------------------------------------------- multipart */

static int s3_mp_create(Ufs *u, const char *key, char **ret_upload_id) {
        S3 *s3 = u->data;
        const S3Param params[] = {{"uploads", NULL}};
        _cleanup_(s3_call_done) S3Call c = {
                .method = "POST",
                .key = key,
                .params = params,
                .n_params = ELEMENTSOF(params),
                /* what the object's Content-Type will be, not libcurl's form default */
                .headers = {"Content-Type: application/octet-stream"},
        };
        int r;

        r = s3_request(u, &c);
        if (r < 0)
                return r;
        r = s3_upload_id_parse(c.answer, c.answer_size, ret_upload_id);
        if (r < 0)
                return ufs_fail(
                        u, r, NULL, "malformed CreateMultipartUpload answer for %s", S3_WHERE(s3, key));
        return 0;
}

static int s3_mp_upload_part(Ufs *u, const char *key, const char *upload_id, unsigned part, const void *data,
        size_t n, char **ret_etag) {
        S3 *s3 = u->data;
        char number[16];
        int r;

        snprintf(number, sizeof(number), "%u", part);
        const S3Param params[] = {{"partNumber", number}, {"uploadId", upload_id}};
        _cleanup_(s3_call_done) S3Call c = {
                .method = "PUT",
                .key = key,
                .params = params,
                .n_params = ELEMENTSOF(params),
                .body = data,
                .body_size = n,
        };
        r = s3_request(u, &c);
        if (r < 0)
                return r;
        if (isempty(c.etag))
                return ufs_fail(u, -EPROTO, NULL, "UploadPart answer without ETag (part %u of %s)", part,
                        S3_WHERE(s3, key));
        *ret_etag = TAKE_PTR(c.etag);
        return 0;
}

static int s3_mp_complete(
        Ufs *u, const char *key, const char *upload_id, char *const *etags, size_t n_parts) {
        _cleanup_(freep) char *body = NULL;
        size_t size;
        int r;

        r = s3_complete_body(etags, n_parts, &body, &size);
        if (r < 0)
                return ufs_fail(u, r, NULL, "cannot complete a multipart upload of %zu parts", n_parts);
        const S3Param params[] = {{"uploadId", upload_id}};
        _cleanup_(s3_call_done) S3Call c = {
                .method = "POST",
                .key = key,
                .params = params,
                .n_params = ELEMENTSOF(params),
                .body = body,
                .body_size = size,
                .headers = {"Content-Type: application/xml"},
        };
        r = s3_request(u, &c);
        if (r < 0)
                return r;
        /* CompleteMultipartUpload answers 200 at once and may fail while assembling the parts */
        return s3_check_late_error(u, &c, "complete");
}

static int s3_mp_abort(Ufs *u, const char *key, const char *upload_id) {
        const S3Param params[] = {{"uploadId", upload_id}};
        _cleanup_(s3_call_done) S3Call c = {
                .method = "DELETE",
                .key = key,
                .params = params,
                .n_params = ELEMENTSOF(params),
        };
        return s3_request(u, &c);
}

static int s3_multipart_create(Ufs *u, const char *path, char **ret_upload_id) {
        _cleanup_(freep) char *key = NULL;
        int r = s3_key(u, path, &key);
        return r < 0 ? r : s3_mp_create(u, key, ret_upload_id);
}

static int s3_multipart_upload_part(Ufs *u, const char *path, const char *upload_id, unsigned part,
        const void *data, size_t n, char **ret_etag) {
        _cleanup_(freep) char *key = NULL;
        int r = s3_key(u, path, &key);
        return r < 0 ? r : s3_mp_upload_part(u, key, upload_id, part, data, n, ret_etag);
}

static int s3_multipart_complete(
        Ufs *u, const char *path, const char *upload_id, char *const *etags, size_t n_parts) {
        _cleanup_(freep) char *key = NULL;
        int r = s3_key(u, path, &key);
        return r < 0 ? r : s3_mp_complete(u, key, upload_id, etags, n_parts);
}

static int s3_multipart_abort(Ufs *u, const char *path, const char *upload_id) {
        _cleanup_(freep) char *key = NULL;
        int r = s3_key(u, path, &key);
        return r < 0 ? r : s3_mp_abort(u, key, upload_id);
}

static int s3_multipart_count(Ufs *u, const char *path, size_t *ret_n) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *key = NULL, *prefix = NULL, *key_marker = NULL, *id_marker = NULL;
        size_t total = 0;
        int r;

        r = s3_key(u, path, &key);
        if (r < 0)
                return r;
        prefix = *path ? strdup(key) : dir_prefix(key);
        if (!prefix)
                return -ENOMEM;
        for (;;) {
                S3Param params[4] = {{"uploads", NULL}, {"prefix", prefix}};
                size_t n = 2;
                if (key_marker)
                        params[n++] = (S3Param){"key-marker", key_marker};
                if (id_marker)
                        params[n++] = (S3Param){"upload-id-marker", id_marker};
                _cleanup_(s3_call_done) S3Call c = {};
                _cleanup_(s3_uploads_page_done) S3UploadsPage page = {};
                r = s3_get_bucket(u, prefix, params, n, &c);
                if (r < 0)
                        return r;
                r = s3_uploads_page_parse(c.answer, c.answer_size, &page);
                if (r < 0)
                        return ufs_fail(u, r, NULL, "malformed ListMultipartUploads answer for %s",
                                S3_WHERE(s3, prefix));
                total += page.n_uploads;
                if (!page.truncated)
                        break;
                free(key_marker);
                free(id_marker);
                key_marker = TAKE_PTR(page.next_key_marker);
                id_marker = TAKE_PTR(page.next_upload_id_marker);
        }
        *ret_n = total;
        return 0;
}

/* ---------------------------------------------------------------------------------- create */

/* Pulls from fill until buf has n bytes or fill has no more: the number of bytes, or fill's -errno. */
static ssize_t fill_full(UfsReadFn fill, void *userdata, uint8_t *buf, size_t n, bool *ret_end) {
        size_t got = 0;
        *ret_end = false;
        while (got < n) {
                ssize_t k = fill(userdata, buf + got, n - got);
                if (k < 0)
                        return k;
                if (k == 0) {
                        *ret_end = true;
                        break;
                }
                got += (size_t)MIN((size_t)k, n - got);
        }
        return (ssize_t)got;
}

/* The part size for an upload of size bytes: the configured one, larger when 10000 parts of it would
 * not hold size, rounded up to a MiB. */
static uint64_t part_size_for(const S3 *s3, uint64_t size) {
        uint64_t p = s3->part_size;
        if (size != UFS_SIZE_UNKNOWN && (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS > p)
                p = ((size + S3_MAX_PARTS - 1) / S3_MAX_PARTS + (1 << 20) - 1) & ~((uint64_t)(1 << 20) - 1);
        return p;
}

/*
 * A multipart upload from fill (size unknown or above one PUT's limit), one part in memory at a time.
 * An unknown size that turns out to fit in one part is one PUT instead. Aborted on failure.
 */
static int s3_create_multipart(Ufs *u, const char *key, uint64_t size, UfsReadFn fill, void *userdata) {
        S3 *s3 = u->data;
        uint64_t part_size = part_size_for(s3, size), total = 0;
        _cleanup_(freep) uint8_t *buf = NULL;
        _cleanup_(strv_freep) char **etags = NULL;
        _cleanup_(freep) char *upload_id = NULL;
        unsigned part = 0;
        bool end = false;
        ssize_t n;
        int r;

        if (part_size > S3_MAX_PUT_SIZE)
                return ufs_fail(u, -EFBIG, NULL, "%s: %" PRIu64 " bytes is more than S3 takes in one object",
                        S3_WHERE(s3, key), size);
        buf = malloc(part_size);
        if (!buf)
                return ufs_fail(
                        u, -ENOMEM, NULL, "cannot allocate a part buffer of %" PRIu64 " bytes", part_size);

        n = fill_full(fill, userdata, buf, part_size, &end);
        if (n < 0)
                return (int)n;
        if (end && size == UFS_SIZE_UNKNOWN)
                return s3_put(u, key, buf, (size_t)n);

        r = s3_mp_create(u, key, &upload_id);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(freep) char *etag = NULL;
                if (++part > S3_MAX_PARTS) {
                        r = ufs_fail(u, -EFBIG, NULL, "%s: more than %u parts of %" PRIu64 " bytes",
                                S3_WHERE(s3, key), S3_MAX_PARTS, part_size);
                        goto abort;
                }
                r = s3_mp_upload_part(u, key, upload_id, part, buf, (size_t)n, &etag);
                if (r < 0)
                        goto abort;
                if (strv_extend(&etags, etag) < 0) {
                        r = -ENOMEM;
                        goto abort;
                }
                total += (uint64_t)n;
                if (end)
                        break;
                /* a known size: take no more than it, so a longer source is noticed below */
                uint64_t want = size == UFS_SIZE_UNKNOWN ? part_size : MIN(part_size, size - total);
                if (want == 0)
                        break;
                n = fill_full(fill, userdata, buf, (size_t)want, &end);
                if (n < 0) {
                        r = (int)n;
                        goto abort;
                }
                /* the source ended right at a part's end: no empty last part */
                if (n == 0)
                        break;
        }
        if (size != UFS_SIZE_UNKNOWN) {
                uint8_t extra;
                bool e2;
                if (total < size || fill_full(fill, userdata, &extra, 1, &e2) != 0) {
                        r = ufs_fail(u, -EIO, NULL,
                                "PUT %s: the data source gave %s bytes than announced (%" PRIu64 ")",
                                S3_WHERE(s3, key), total < size ? "fewer" : "more", size);
                        goto abort;
                }
        }
        r = s3_mp_complete(u, key, upload_id, etags, strv_length(etags));
        if (r < 0)
                goto abort;
        return 0;

abort : {
        /* the upload's failure is what the caller needs to hear about, not the abort's */
        char error[sizeof(u->error)], code[sizeof(u->error_code)];
        memcpy(error, u->error, sizeof(error));
        memcpy(code, u->error_code, sizeof(code));
        (void)s3_mp_abort(u, key, upload_id);
        memcpy(u->error, error, sizeof(error));
        memcpy(u->error_code, code, sizeof(code));
        return r;
}
}

static int s3_create(
        Ufs *u, const char *path, uint64_t size, bool make_parents, UfsReadFn fill, void *userdata) {
        _cleanup_(freep) char *key = NULL;
        int r;

        r = s3_key(u, path, &key);
        if (r < 0)
                return r;
        if (size == UFS_SIZE_UNKNOWN || size > S3_MAX_PUT_SIZE)
                return s3_create_multipart(u, key, size, fill, userdata);

        _cleanup_(s3_call_done) S3Call c = {
                .method = "PUT",
                .key = key,
                .fill = fill,
                .fill_userdata = userdata,
                .fill_size = size,
                .headers = {"Content-Type: application/octet-stream"},
        };
        return s3_request(u, &c);
}

/* ---------------------------------------------------------------------------------- read */

static int s3_read(
        Ufs *u, const char *path, uint64_t offset, uint64_t length, UfsWriteFn sink, void *userdata) {
        _cleanup_(freep) char *key = NULL;
        int r;

        r = s3_key(u, path, &key);
        if (r < 0)
                return r;
        _cleanup_(s3_call_done) S3Call c = {
                .method = "GET",
                .key = key,
                .sink = sink,
                .sink_userdata = userdata,
                .range = offset > 0 || length != UFS_SIZE_UNKNOWN,
                .range_offset = offset,
                .range_length = length,
        };
        r = s3_perform(u, &c);
        if (r < 0)
                return r;
        /* a range starting at or after the end (an empty object's too): no data */
        if (c.status == 416)
                return 0;
        return status_ok(c.status) ? 0 : s3_fail_answer(u, &c);
}

/* ---------------------------------------------------------------------------------- delete */

static int s3_delete_file(Ufs *u, const char *path) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *key = NULL;
        UfsStat st;
        int r;

        r = s3_key_lookup(u, path, &key, &st);
        if (r < 0)
                return r;
        if (st.is_dir)
                return ufs_fail(u, -EISDIR, NULL, "%s is a directory", S3_WHERE(s3, key));
        return s3_delete_key(u, key);
}

/* The key of directory path and the prefix of what is below it ("a/b" and "a/b/"; "" and "" for the
 * root); both owned by the caller. */
static int s3_dir_keys(Ufs *u, const char *path, char **ret_key, char **ret_prefix) {
        _cleanup_(freep) char *key = NULL;
        int r = s3_key(u, path, &key);
        if (r < 0)
                return r;
        char *prefix = dir_prefix(key);
        if (!prefix)
                return -ENOMEM;
        *ret_key = TAKE_PTR(key);
        *ret_prefix = prefix;
        return 0;
}

static int s3_delete_dir(Ufs *u, const char *path, bool recursive) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *key = NULL, *prefix = NULL, *token = NULL;
        UfsStat st;
        int r;

        r = s3_dir_keys(u, path, &key, &prefix);
        if (r < 0)
                return r;
        r = s3_lookup(u, path, key, &st);
        if (r < 0)
                return r;
        if (!st.is_dir)
                return ufs_fail(u, -ENOTDIR, NULL, "%s is a file", S3_WHERE(s3, key));

        if (!recursive) {
                _cleanup_(s3_list_page_done) S3ListPage page = {};
                r = s3_list_page(u, prefix, false, NULL, 2, &page);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < page.n_objects; i++)
                        if (!streq(page.objects[i].key, prefix))
                                return ufs_fail(u, -ENOTEMPTY, NULL, "%s is not empty (%s)",
                                        S3_WHERE(s3, prefix), page.objects[i].key);
                return *prefix ? s3_delete_key(u, prefix) : 0;
        }

        /* page by page: the continuation token stays valid while the listed keys go */
        do {
                _cleanup_(s3_list_page_done) S3ListPage page = {};
                r = s3_list_page(u, prefix, false, token, 0, &page);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < page.n_objects; i++) {
                        if (streq(page.objects[i].key, prefix))
                                continue; /* the marker goes last, so a failure leaves the directory */
                        r = s3_delete_key(u, page.objects[i].key);
                        if (r < 0)
                                return r;
                }
                free(token);
                token = TAKE_PTR(page.next_token);
        } while (token);
        return *prefix ? s3_delete_key(u, prefix) : 0;
}

/* ---------------------------------------------------------------------------------- mkdirs */

static int s3_put_marker(Ufs *u, const char *key) {
        _cleanup_(freep) char *marker = dir_prefix(key);
        if (!marker)
                return -ENOMEM;
        return s3_put(u, marker, NULL, 0);
}

static int s3_mkdirs(Ufs *u, const char *path, bool parents) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *key = NULL, *rel = NULL;
        UfsStat st;
        int r;

        r = s3_key(u, path, &key);
        if (r < 0)
                return r;
        r = s3_lookup(u, path, key, &st);
        if (r >= 0) {
                if (st.is_dir && parents)
                        return 0;
                return ufs_fail(u, -EEXIST, NULL, "%s exists already%s", S3_WHERE(s3, key),
                        st.is_dir ? "" : " as a file");
        }
        if (r != -ENOENT)
                return r;
        ufs_clear_error(u);
        if (!parents)
                return s3_put_marker(u, key);

        /*
         * mkdir -p: a marker for each missing ancestor too, so that they outlive the deletion of what is
         * below them, as real directories would. Below the first missing one, nothing can exist.
         */
        rel = strdup(path);
        if (!rel)
                return -ENOMEM;
        size_t l = strlen(rel);
        while (l > 0 && rel[l - 1] == '/')
                rel[--l] = 0;
        bool missing = false;
        for (char *slash = strchr(rel, '/');; slash = strchr(slash + 1, '/')) {
                _cleanup_(freep) char *k = NULL;
                if (slash)
                        *slash = 0;
                r = s3_key(u, rel, &k);
                if (r < 0)
                        return r;
                if (!missing && slash) {
                        r = s3_lookup(u, rel, k, &st);
                        if (r >= 0 && !st.is_dir)
                                return ufs_fail(u, -ENOTDIR, NULL, "%s is a file", S3_WHERE(s3, k));
                        if (r < 0 && r != -ENOENT)
                                return r;
                        missing = r == -ENOENT;
                        ufs_clear_error(u);
                        if (!missing) {
                                *slash = '/';
                                continue;
                        }
                }
                r = s3_put_marker(u, k);
                if (r < 0)
                        return r;
                if (!slash)
                        return 0;
                *slash = '/';
        }
}

/* ---------------------------------------------------------------------------------- list */

/* Whether a name taken from a key can be a relative path (no empty component: "a//b", "a/"). */
static bool name_ok(const char *s, size_t n) {
        if (n == 0 || s[0] == '/' || s[n - 1] == '/')
                return false;
        for (size_t i = 1; i < n; i++)
                if (s[i] == '/' && s[i - 1] == '/')
                        return false;
        return true;
}

static int add_name(UfsList *l, const char *name, size_t n, bool is_dir, uint64_t size, usec_t mtime) {
        _cleanup_(freep) char *s = NULL;
        if (!name_ok(name, n))
                return 0; /* not reachable by a path; left out rather than shown as something else */
        s = strndup(name, n);
        if (!s)
                return -ENOMEM;
        return ufs_list_add(l, s, is_dir, size, mtime);
}

/*
 * Adds a listed key (rel: below the listed directory). A "sub/" marker is directory "sub"; recursive,
 * every ancestor of a key is a directory too (added once per run of keys sharing it: prev is the
 * previous key, and ufs_list_sort() drops what repeats anyway).
 */
static int add_key(UfsList *l, const char *rel, const char *prev, bool recursive, const S3Object *o) {
        size_t n = strlen(rel);
        bool marker = n > 0 && rel[n - 1] == '/';
        int r;

        if (!recursive) {
                /* the delimiter leaves only direct keys; if a server ignores it, the first component */
                const char *slash = strchr(rel, '/');
                if (slash)
                        return add_name(l, rel, slash - rel, true, 0, slash == rel + n - 1 ? o->mtime : 0);
                return add_name(l, rel, n, false, o->size, o->mtime);
        }
        for (const char *slash = strchr(rel, '/'); slash && slash < rel + n - 1;
                slash = strchr(slash + 1, '/')) {
                size_t a = slash - rel + 1;
                if (prev && strncmp(prev, rel, a) == 0)
                        continue;
                r = add_name(l, rel, a - 1, true, 0, 0);
                if (r < 0)
                        return r;
        }
        return marker ? add_name(l, rel, n - 1, true, 0, o->mtime)
                      : add_name(l, rel, n, false, o->size, o->mtime);
}

static int s3_list(Ufs *u, const char *path, bool recursive, UfsList *ret) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *key = NULL, *prefix = NULL, *token = NULL, *prev = NULL;
        bool seen = false;
        size_t pl;
        int r;

        r = s3_dir_keys(u, path, &key, &prefix);
        if (r < 0)
                return r;
        pl = strlen(prefix);

        do {
                _cleanup_(s3_list_page_done) S3ListPage page = {};
                r = s3_list_page(u, prefix, !recursive, token, 0, &page);
                if (r < 0)
                        return r;
                seen = seen || page.n_objects > 0 || page.prefixes;
                for (size_t i = 0; i < page.n_objects; i++) {
                        const char *k = page.objects[i].key;
                        /* the directory's own marker is not an entry of it */
                        if (strncmp(k, prefix, pl) != 0 || !k[pl])
                                continue;
                        r = add_key(ret, k + pl, prev, recursive, &page.objects[i]);
                        if (r < 0)
                                return r;
                        free(prev);
                        prev = strdup(k + pl);
                        if (!prev)
                                return -ENOMEM;
                }
                STRV_FOREACH (p, page.prefixes) {
                        size_t n = strlen(*p);
                        if (strncmp(*p, prefix, pl) != 0 || n <= pl + 1)
                                continue;
                        r = add_name(ret, *p + pl, n - pl - 1, true, 0, 0);
                        if (r < 0)
                                return r;
                }
                free(token);
                token = TAKE_PTR(page.next_token);
        } while (token);

        if (seen || !*path)
                return 0;
        /* nothing below it: a file, or nothing at all */
        uint64_t size;
        usec_t mtime;
        r = s3_head(u, key, &size, &mtime);
        if (r < 0)
                return r;
        if (r > 0)
                return ufs_fail(u, -ENOTDIR, NULL, "%s is a file", S3_WHERE(s3, key));
        return ufs_fail(u, -ENOENT, "NoSuchKey", "NoSuchKey: no such directory (%s)", S3_WHERE(s3, key));
}

/* ---------------------------------------------------------------------------------- rename */

static int s3_move_key(Ufs *u, const char *from, const char *to) {
        int r = s3_copy(u, from, to);
        return r < 0 ? r : s3_delete_key(u, from);
}

static int s3_rename(Ufs *u, const char *from, const char *to) {
        S3 *s3 = u->data;
        _cleanup_(freep) char *kf = NULL, *kt = NULL, *pf = NULL, *pt = NULL, *token = NULL;
        UfsStat st, st_to;
        int r;

        if ((r = s3_key(u, from, &kf)) < 0 || (r = s3_key(u, to, &kt)) < 0)
                return r;
        pf = dir_prefix(kf);
        pt = dir_prefix(kt);
        if (!pf || !pt)
                return -ENOMEM;
        if (streq(kf, kt) || startswith(kt, pf))
                return ufs_fail(u, -EINVAL, NULL, "cannot move %s into itself (%s)", S3_WHERE(s3, kf), kt);

        r = s3_lookup(u, from, kf, &st);
        if (r < 0)
                return r;
        r = s3_lookup(u, to, kt, &st_to);
        if (r >= 0)
                return ufs_fail(u, -EEXIST, NULL, "%s exists already", S3_WHERE(s3, kt));
        if (r != -ENOENT)
                return r;
        ufs_clear_error(u);

        if (!st.is_dir)
                return s3_move_key(u, kf, kt);

        /* key by key, the marker with them ("from/" sorts first); not atomic, as ufs.h says */
        size_t pl = strlen(pf);
        do {
                _cleanup_(s3_list_page_done) S3ListPage page = {};
                r = s3_list_page(u, pf, false, token, 0, &page);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < page.n_objects; i++) {
                        _cleanup_(freep) char *dst = NULL;
                        const char *k = page.objects[i].key;
                        if (strncmp(k, pf, pl) != 0)
                                continue;
                        if (asprintf(&dst, "%s%s", pt, k + pl) < 0)
                                return -ENOMEM;
                        r = s3_move_key(u, k, dst);
                        if (r < 0)
                                return r;
                }
                free(token);
                token = TAKE_PTR(page.next_token);
        } while (token);
        return 0;
}

/* ---------------------------------------------------------------------------------- open */

static int s3_open(Ufs *u, const UfsUri *uri, const UfsOptions *o, char **ret_reason) {
        _cleanup_(s3_freep) S3 *s3 = calloc(1, sizeof(S3));
        _cleanup_(freep) char *region = NULL;
        int r;

        if (!s3)
                return -ENOMEM;
        r = s3_credentials_resolve(o, &s3->credentials, ret_reason);
        if (r < 0)
                return r;
        r = s3_region_resolve(o, &region, ret_reason);
        if (r < 0)
                return r;
        int path_style = o->addressing == UFS_ADDRESSING_PATH ? 1
                : o->addressing == UFS_ADDRESSING_VIRTUAL     ? 0
                                                              : -1;
        r = s3_target_new(o->endpoint, region, uri->bucket, path_style, &s3->target, ret_reason);
        if (r < 0)
                return r;
        if (o->part_size > S3_MAX_PUT_SIZE) {
                if (ret_reason)
                        *ret_reason = strdup("part size above S3's maximum of 5 GiB");
                return -EINVAL;
        }
        s3->provider = s3_sigv4_provider(region);
        s3->root = strdup(strempty(uri->path));
        if (!s3->provider || !s3->root || (o->ca_file && !(s3->ca_file = strdup(o->ca_file))))
                return -ENOMEM;
        s3->insecure = o->insecure;
        s3->timeout = o->timeout ?: S3_DEFAULT_TIMEOUT;
        s3->connect_timeout = o->connect_timeout ?: S3_DEFAULT_CONNECT_TIMEOUT;
        s3->part_size = o->part_size ?: UFS_DEFAULT_PART_SIZE;
        s3->easy = curl_easy_init();
        if (!s3->easy)
                return -ENOMEM;
        u->data = TAKE_PTR(s3);
        return 0;
}

static void s3_close(Ufs *u) {
        u->data = s3_free(u->data);
}

const UfsOps ufs_s3_ops = {
        .scheme = "s3",
        .has_directories = false,
        .has_multipart = true,
        .open = s3_open,
        .close = s3_close,
        .stat = s3_stat,
        .create = s3_create,
        .read = s3_read,
        .delete_file = s3_delete_file,
        .delete_dir = s3_delete_dir,
        .mkdirs = s3_mkdirs,
        .list = s3_list,
        .rename = s3_rename,
        .multipart_create = s3_multipart_create,
        .multipart_upload_part = s3_multipart_upload_part,
        .multipart_complete = s3_multipart_complete,
        .multipart_abort = s3_multipart_abort,
        .multipart_count = s3_multipart_count,
};
