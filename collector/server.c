/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <microhttpd.h>
#include <strings.h>
#include <sys/resource.h>

#include "api.h"
#include "exposition.h"
#include "json-util.h"
#include "server.h"

/* A body larger than the limit is read and dropped up to this size, so that a client that sends
 * it whole (without Expect: 100-continue) still reads the 413; beyond, the connection is closed. */
#define DISCARD_MAX (64u * 1024 * 1024)

/* Large answers are streamed in blocks of this size (copied from the cached JSON of the nodes). */
#define STREAM_BLOCK_SIZE (256u * 1024)

struct Server {
        struct MHD_Daemon *daemon;
        Cluster *cluster;
        Store *store;
        Ingest *ingest;
        EtcdMonitor *etcd;
        MetricsHistory *metrics;
        char *token;
        size_t token_len;
        uint64_t max_report_size;
        char *tls_cert, *tls_key;
        bool stopping; /* atomic: refuse new connections */
};

/* Per request state, made on the first call of the access handler, freed when MHD completes. */
typedef struct Request {
        Server *server;
        struct MHD_Connection *conn;
        uint8_t *body;
        size_t size, alloc;
        bool too_big;
        bool submitted;
        char *node; /* of the submitted report, for the answer */
        uint64_t seq;
        IngestRequest ingest;
} Request;

static Request *request_free(Request *req) {
        if (!req)
                return NULL;
        report_free(req->ingest.item.report, req->ingest.item.arena);
        free(req->body);
        free(req->node);
        return mfree(req);
}

static void json_put_cb(void *userdata) {
        json_object_put(userdata);
}

/* Queues o (taken) as the answer. */
static enum MHD_Result respond_json(
        struct MHD_Connection *conn, unsigned status, json_object *o, const char *allow) {
        struct MHD_Response *resp;
        const char *text;
        size_t len = 0;

        if (!o)
                return MHD_NO;
        text = json_object_to_json_string_length(o, CLUSTER_JSON_FLAGS, &len);
        if (!text) {
                json_object_put(o);
                return MHD_NO;
        }
        /* The answer is sent from json-c's buffer; the object goes when MHD is done with it. */
        resp = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)text, json_put_cb, o);
        if (!resp) {
                json_object_put(o);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        if (allow)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        enum MHD_Result ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, unsigned status, const char *message) {
        return respond_json(conn, status, api_error(message), NULL);
}

static enum MHD_Result respond_errno(struct MHD_Connection *conn, int r, const char *what) {
        char msg[256];
        if (r == -ENOMEM)
                return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-r));
        return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
}

static enum MHD_Result respond_405(struct MHD_Connection *conn, const char *allow) {
        return respond_json(conn, MHD_HTTP_METHOD_NOT_ALLOWED, api_error("method not allowed"), allow);
}

/* Compares in time that depends only on the length of the expected token. */
static bool token_equal(const char *given, size_t given_len, const char *expected, size_t expected_len) {
        unsigned char d = given_len != expected_len;
        for (size_t i = 0; i < expected_len; i++)
                d |= (unsigned char)given[i < given_len ? i : 0] ^ (unsigned char)expected[i];
        return d == 0;
}

static bool authorized(Server *s, struct MHD_Connection *conn) {
        const char *h;
        if (!s->token)
                return true;
        h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!h || strncasecmp(h, "Bearer ", 7) != 0)
                return false;
        h += 7;
        while (*h == ' ')
                h++;
        return token_equal(h, strlen(h), s->token, s->token_len);
}

static bool content_type_is_protobuf(struct MHD_Connection *conn) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        static const char want[] = "application/x-protobuf";
        if (!ct)
                return false;
        while (*ct == ' ')
                ct++;
        if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
                return false;
        ct += sizeof(want) - 1;
        while (*ct == ' ')
                ct++;
        return *ct == 0 || *ct == ';';
}

static void report_done(IngestRequest *ir) {
        Request *req = ir->userdata;
        MHD_resume_connection(req->conn);
}

/* First call of POST /v1/reports: headers only. */
static enum MHD_Result start_report(Server *s, struct MHD_Connection *conn, void **con_cls) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t length = 0;
        Request *req;

        if (!content_type_is_protobuf(conn))
                return respond_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                        "content type must be application/x-protobuf (a vigil.NodeReport)");
        if (cl) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(cl, &end, 10);
                length = errno == 0 && end != cl && *end == 0 ? v : 0;
        }
        if (length > DISCARD_MAX && length > s->max_report_size)
                return respond_error(
                        conn, MHD_HTTP_CONTENT_TOO_LARGE, "report larger than --max-report-size");

        req = calloc(1, sizeof(Request));
        if (!req)
                return MHD_NO;
        req->server = s;
        req->conn = conn;
        if (length > s->max_report_size)
                req->too_big = true;
        else if (length > 0) {
                req->body = malloc(length);
                if (!req->body) {
                        free(req);
                        return MHD_NO;
                }
                req->alloc = length;
        }
        *con_cls = req;
        return MHD_YES;
}

static int append_body(Request *req, const char *data, size_t n) {
        if (req->too_big)
                return 0;
        if (req->size + n > req->server->max_report_size) {
                req->too_big = true;
                req->body = mfree(req->body);
                req->size = req->alloc = 0;
                return 0;
        }
        if (req->size + n > req->alloc) {
                size_t a = MIN(MAX(req->alloc * 2, req->size + n), (size_t)req->server->max_report_size);
                uint8_t *p = realloc(req->body, a);
                if (!p)
                        return -ENOMEM;
                req->body = p;
                req->alloc = a;
        }
        memcpy(req->body + req->size, data, n);
        req->size += n;
        return 0;
}

/* The whole body is in: decode and hand it to the writer. */
static enum MHD_Result submit_report(Request *req) {
        Vigil__NodeReport *report;
        ReportArena *arena;
        int r;

        if (req->too_big)
                return respond_error(
                        req->conn, MHD_HTTP_CONTENT_TOO_LARGE, "report larger than --max-report-size");
        r = report_decode(req->body, req->size, &report, &arena);
        if (r == -ENOMEM)
                return MHD_NO;
        if (r < 0)
                return respond_error(req->conn, MHD_HTTP_BAD_REQUEST,
                        "body is not a valid vigil.NodeReport (protobuf decoding failed)");
        if (isempty(report->node)) {
                report_arena_free(arena);
                return respond_error(req->conn, MHD_HTTP_BAD_REQUEST, "report has no node name");
        }
        req->node = strdup(report->node);
        if (!req->node) {
                report_arena_free(arena);
                return MHD_NO;
        }
        req->seq = report->seq;
        req->ingest = (IngestRequest){
                .item = {.report = report, .arena = arena, .raw = req->body, .raw_size = req->size},
                .done = report_done,
                .userdata = req,
        };
        req->submitted = true;
        /* Suspend first: the writer may resume the connection before ingest_submit() returns. */
        MHD_suspend_connection(req->conn);
        r = ingest_submit(req->server->ingest, &req->ingest);
        if (r < 0) {
                req->ingest.r = r;
                MHD_resume_connection(req->conn);
        }
        return MHD_YES;
}

/* Called again after the writer resumed the connection. */
static enum MHD_Result answer_report(Request *req) {
        _cleanup_json_ json_object *o = NULL;
        int r = req->ingest.r;

        if (r == -ESHUTDOWN)
                return respond_error(req->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "collector is shutting down");
        if (r < 0)
                return respond_errno(req->conn, r, "failed to store the report");
        o = json_object_new_object();
        if (!o)
                return MHD_NO;
        json_object_object_add(o, "result",
                json_object_new_string(
                        req->ingest.item.result == CLUSTER_APPLIED ? "applied" : "duplicate"));
        json_object_object_add(o, "node", json_object_new_string(req->node));
        json_object_object_add(o, "seq", json_object_new_uint64(req->seq));
        return respond_json(req->conn, MHD_HTTP_OK, TAKE_PTR(o), NULL);
}

static bool arg_true(const char *v) {
        return v && (streq(v, "1") || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0);
}

static enum MHD_Result answer_api(struct MHD_Connection *conn, int r, json_object *o, const char *reason) {
        if (r == -ENOENT)
                return respond_error(conn, MHD_HTTP_NOT_FOUND, "no such node");
        if (r == -EINVAL)
                return respond_error(conn, MHD_HTTP_BAD_REQUEST, reason ?: "bad request");
        if (r < 0)
                return respond_errno(conn, r, "failed to answer");
        return respond_json(conn, MHD_HTTP_OK, o, NULL);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
        size_t n = api_stream_read(cls, pos, buf, max);
        return n > 0 ? (ssize_t)n : (ssize_t)MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free_cb(void *cls) {
        api_stream_free(cls);
}

/* Sends resp (200, of content_type) and drops our reference to it. */
static enum MHD_Result queue_ok(
        struct MHD_Connection *conn, struct MHD_Response *resp, const char *content_type) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* The whole cluster: streamed from the nodes' cached JSON (api_cluster_stream()). */
static enum MHD_Result respond_cluster_stream(
        Server *s, struct MHD_Connection *conn, usec_t now_mono, int64_t now_ms) {
        ApiStream *st = NULL;
        struct MHD_Response *resp;
        int r;

        EtcdSummary etcd;
        if (s->etcd)
                etcd_monitor_summary(s->etcd, &etcd);
        r = api_cluster_stream(s->cluster, s->etcd ? &etcd : NULL, s->metrics, now_mono, now_ms, &st);
        if (r < 0)
                return respond_errno(conn, r, "failed to answer");
        resp = MHD_create_response_from_callback(
                api_stream_size(st), STREAM_BLOCK_SIZE, stream_reader, st, stream_free_cb);
        if (!resp) {
                api_stream_free(st);
                return MHD_NO;
        }
        return queue_ok(conn, resp, "application/json");
}

/* The etcd monitor's latest snapshot, as rendered by it. */
static enum MHD_Result respond_etcd(Server *s, struct MHD_Connection *conn) {
        char *text = NULL;
        int r;

        if (!s->etcd)
                return respond_error(
                        conn, MHD_HTTP_NOT_FOUND, "this collector does not check etcd (--etcd URL)");
        r = etcd_monitor_json(s->etcd, &text);
        if (r == -EAGAIN)
                return respond_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "etcd not checked yet");
        if (r < 0)
                return respond_errno(conn, r, "failed to answer");
        struct MHD_Response *resp =
                MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free);
        if (!resp) {
                free(text);
                return MHD_NO;
        }
        return queue_ok(conn, resp, "application/json");
}

/* The Prometheus exposition of the current state (exposition.h). */
static enum MHD_Result respond_exposition(Server *s, struct MHD_Connection *conn, int64_t now_ms) {
        struct MHD_Response *resp;
        EtcdSummary etcd;
        char *text = NULL;
        size_t size = 0;
        int r;

        if (s->etcd)
                etcd_monitor_summary(s->etcd, &etcd);
        r = exposition_cluster(s->cluster, s->etcd ? &etcd : NULL, now_ms, &text, &size);
        if (r < 0)
                return respond_errno(conn, r, "failed to answer");
        resp = MHD_create_response_from_buffer_with_free_callback(size, text, free);
        if (!resp) {
                free(text);
                return MHD_NO;
        }
        return queue_ok(conn, resp, EXPOSITION_CONTENT_TYPE);
}

static enum MHD_Result handle_get(Server *s, struct MHD_Connection *conn, const char *url) {
        usec_t now_mono = now_usec(CLOCK_MONOTONIC);
        int64_t now_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
        json_object *o = NULL;
        const char *name, *reason = NULL;
        int r;

        if (streq(url, "/v1/cluster")) {
                const char *failing = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "failing");
                if (!arg_true(failing))
                        return respond_cluster_stream(s, conn, now_mono, now_ms);
                EtcdSummary etcd;
                if (s->etcd)
                        etcd_monitor_summary(s->etcd, &etcd);
                r = api_cluster(s->cluster, s->etcd ? &etcd : NULL, s->metrics, true, now_mono, now_ms, &o);
        } else if (streq(url, "/v1/nodes"))
                r = api_nodes(s->cluster, now_mono, &o);
        else if ((name = startswith(url, "/v1/nodes/")) && *name && !strchr(name, '/'))
                r = api_node(s->cluster, name, now_mono, &o);
        else if (streq(url, "/v1/etcd"))
                return respond_etcd(s, conn);
        else if (streq(url, "/v1/events"))
                r = api_events(s->store, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since"),
                        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "node"),
                        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit"), now_ms, &o,
                        &reason);
        else if (streq(url, "/v1/logs")) {
                ApiLogsQuery q = {
                        .node = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "node"),
                        .source = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "source"),
                        .level = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "level"),
                        .since = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since"),
                        .limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit"),
                };
                r = api_logs(s->store, &q, now_ms, &o, &reason);
        } else if (streq(url, "/v1/metrics"))
                r = api_metrics(s->cluster, s->store, s->metrics,
                        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "node"), now_ms, now_mono,
                        &o);
        else if (streq(url, "/metrics"))
                return respond_exposition(s, conn, now_ms);
        else
                return respond_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
        return answer_api(conn, r, o, reason);
}

static bool is_get_path(const char *url) {
        const char *name;
        return streq(url, "/v1/cluster") || streq(url, "/v1/nodes") || streq(url, "/v1/events") ||
                streq(url, "/v1/etcd") || streq(url, "/v1/logs") || streq(url, "/v1/metrics") ||
                streq(url, "/metrics") ||
                ((name = startswith(url, "/v1/nodes/")) && *name && !strchr(name, '/'));
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
        const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls) {
        Server *s = cls;
        Request *req = *con_cls;
        bool get = streq(method, MHD_HTTP_METHOD_GET) || streq(method, MHD_HTTP_METHOD_HEAD);

        if (req) {
                if (*upload_data_size > 0) {
                        if (append_body(req, upload_data, *upload_data_size) < 0)
                                return MHD_NO;
                        *upload_data_size = 0;
                        return MHD_YES;
                }
                return req->submitted ? answer_report(req) : submit_report(req);
        }

        if (streq(url, "/healthz")) {
                json_object *o = NULL;
                if (!get)
                        return respond_405(conn, "GET");
                int r = api_healthz(s->cluster, &o);
                return answer_api(conn, r, o, NULL);
        }
        if (!authorized(s, conn))
                return respond_error(conn, MHD_HTTP_UNAUTHORIZED, "missing or wrong bearer token");
        if (streq(url, "/v1/reports")) {
                if (!streq(method, MHD_HTTP_METHOD_POST))
                        return respond_405(conn, "POST");
                return start_report(s, conn, con_cls);
        }
        if (is_get_path(url) && !get)
                return respond_405(conn, "GET");
        if (!get)
                return respond_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
        return handle_get(s, conn, url);
}

/*
 * Refuses connections once shutdown began. (MHD_quiesce_daemon() would do it too, but with a
 * thread pool on epoll it races with the workers removing the listening socket and may abort.)
 */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
        Server *s = cls;
        return __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE) ? MHD_NO : MHD_YES;
}

static void request_completed(
        void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
        *con_cls = request_free(*con_cls);
}

bool server_tls_supported(void) {
        return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

int server_new(const ServerOptions *o, Cluster *c, Store *store, Ingest *ingest, Server **ret) {
        _cleanup_(server_freep) Server *s = calloc(1, sizeof(Server));
        struct MHD_OptionItem opts[16];
        unsigned flags =
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
        unsigned threads = o->threads;
        struct rlimit rl;
        size_t k = 0;

        if (!s)
                return -ENOMEM;
        s->cluster = c;
        s->store = store;
        s->ingest = ingest;
        s->etcd = o->etcd;
        s->metrics = o->metrics;
        s->max_report_size = o->max_report_size;
        if (o->token) {
                s->token = strdup(o->token);
                if (!s->token)
                        return -ENOMEM;
                s->token_len = strlen(s->token);
        }
        if (threads == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                threads = n > 0 ? (unsigned)MIN(n, 64L) : 1;
        }
        /* Each connection is an fd: allow as many as the fd limit leaves room for. */
        unsigned limit = 4096;
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur != RLIM_INFINITY)
                limit = rl.rlim_cur > 128 ? (unsigned)MIN(rl.rlim_cur - 64, (rlim_t)65536) : 64;

        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, o->listen_fd, NULL};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, limit, NULL};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, NULL};
        if (o->tls_cert_pem || o->tls_key_pem) {
                if (!o->tls_cert_pem || !o->tls_key_pem)
                        return -EINVAL;
                if (!server_tls_supported())
                        return -EOPNOTSUPP;
                s->tls_cert = strdup(o->tls_cert_pem);
                s->tls_key = strdup(o->tls_key_pem);
                if (!s->tls_cert || !s->tls_key)
                        return -ENOMEM;
                flags |= MHD_USE_TLS;
                opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
                opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
        }
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

        s->daemon = MHD_start_daemon(
                flags, 0, accept_policy, s, handler, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
        if (!s->daemon)
                return -EIO; /* MHD does not say why; bad TLS material is the usual cause */
        *ret = TAKE_PTR(s);
        return 0;
}

void server_quiesce(Server *s) {
        if (s)
                __atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
}

Server *server_free(Server *s) {
        if (!s)
                return NULL;
        if (s->daemon)
                MHD_stop_daemon(s->daemon);
        free(s->token);
        free(s->tls_cert);
        free(s->tls_key);
        return mfree(s);
}
