/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <strings.h>

#include "etcd.h"
#include "etcd.pb-c.h"
#include "grpc-client.h"
#include "json-util.h"

#define RANGE_MAX_RESPONSE (32u * 1024 * 1024)
/* Members tried for the key ranges before giving up: each try costs up to two call timeouts. */
#define RANGE_MAX_TRIES 2
/* Worker ids listed in a message before "and N more". */
#define MESSAGE_MAX_IDS 3

static const char *const member_state_names[_ETCD_MEMBER_STATE_MAX] = {
        [ETCD_MEMBER_READY] = "ready",
        [ETCD_MEMBER_NO_LEADER] = "no-leader",
        [ETCD_MEMBER_DOWN] = "down",
};

const char *etcd_member_state_to_string(EtcdMemberState s) {
        return s >= 0 && s < _ETCD_MEMBER_STATE_MAX ? member_state_names[s] : "?";
}

static int make_error(char **ret_error, const char *format, ...) _printf_(2, 3);
static int make_error(char **ret_error, const char *format, ...) {
        va_list ap;
        int r;
        va_start(ap, format);
        r = vasprintf(ret_error, format, ap);
        va_end(ap);
        return r < 0 ? -ENOMEM : -EINVAL;
}

/* --- configuration ------------------------------------------------------------------------ */

int etcd_config_init(EtcdConfig *c) {
        *c = (EtcdConfig){
                .cluster = strdup(ETCD_DEFAULT_CLUSTER),
                .call_timeout = ETCD_DEFAULT_CALL_TIMEOUT,
                .outage_tolerance = ETCD_DEFAULT_OUTAGE_TOLERANCE,
        };
        return c->cluster ? 0 : -ENOMEM;
}

void etcd_config_done(EtcdConfig *c) {
        if (!c)
                return;
        c->endpoints = strv_free(c->endpoints);
        c->ca_file = mfree(c->ca_file);
        c->cert_file = mfree(c->cert_file);
        c->key_file = mfree(c->key_file);
        c->cluster = mfree(c->cluster);
        c->live_prefix = mfree(c->live_prefix);
        c->registered_prefix = mfree(c->registered_prefix);
}

/* A client URL: scheme, a host[:port], nothing after but '/'s (which are removed in place). */
static int normalize_endpoint(char *url, char **ret_error) {
        const char *rest = startswith(url, "http://") ?: startswith(url, "https://");
        if (!rest)
                return make_error(ret_error, "etcd: '%s' is not an http:// or https:// URL", url);
        size_t l = strlen(url);
        while (l > (size_t)(rest - url) && url[l - 1] == '/')
                url[--l] = 0;
        if (*rest == 0 || *rest == ':')
                return make_error(ret_error, "etcd: '%s' has no host", url);
        if (strchr(rest, '/'))
                return make_error(ret_error, "etcd: '%s' has a path; give the client URL only", url);
        return 0;
}

int etcd_config_check(EtcdConfig *c, char **ret_error) {
        int r;

        STRV_FOREACH (e, c->endpoints) {
                if ((r = normalize_endpoint(*e, ret_error)) < 0)
                        return r;
                for (char **f = c->endpoints; f < e; f++)
                        if (streq(*f, *e))
                                return make_error(ret_error, "etcd: '%s' is given twice", *e);
        }
        if (!c->cert_file != !c->key_file)
                return make_error(ret_error, "etcd_cert and etcd_key go together");
        if (isempty(c->cluster))
                return make_error(ret_error, "etcd_cluster must not be empty");
        if (c->call_timeout == 0)
                return make_error(ret_error, "etcd_call_timeout must be more than 0");
        if (c->outage_tolerance == 0)
                return make_error(ret_error, "etcd_outage_tolerance must be more than 0");
        if (!c->live_prefix && asprintf(&c->live_prefix, "/ServiceDiscovery/%s/", c->cluster) < 0) {
                c->live_prefix = NULL;
                return -ENOMEM;
        }
        if (!c->registered_prefix &&
                asprintf(&c->registered_prefix, "/DHT/%s/AUTHORIZED/", c->cluster) < 0) {
                c->registered_prefix = NULL;
                return -ENOMEM;
        }
        if (isempty(c->live_prefix) || isempty(c->registered_prefix))
                return make_error(
                        ret_error, "etcd_live_prefix and etcd_registered_prefix must not be empty");
        return 0;
}

/* --- arithmetic --------------------------------------------------------------------------- */

int etcd_prefix_range_end(const void *prefix, size_t size, uint8_t **ret, size_t *ret_size) {
        const uint8_t *p = prefix;
        size_t l = size;

        while (l > 0 && p[l - 1] == 0xff)
                l--;
        if (l == 0) {
                uint8_t *z = calloc(1, 1);
                if (!z)
                        return -ENOMEM;
                *ret = z;
                *ret_size = 1;
                return 0;
        }
        uint8_t *e = malloc(l);
        if (!e)
                return -ENOMEM;
        memcpy(e, p, l);
        e[l - 1]++;
        *ret = e;
        *ret_size = l;
        return 0;
}

/* --- snapshot ----------------------------------------------------------------------------- */

static void member_done(EtcdMember *m) {
        free(m->endpoint);
        free(m->name);
        free(m->error_text);
        free(m->version);
        strv_free(m->errors);
}

static void workers_free(EtcdWorker *w, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(w[i].id);
                free(w[i].host);
                json_object_put(w[i].live_value);
                json_object_put(w[i].registered_value);
        }
        free(w);
}

EtcdSnapshot *etcd_snapshot_free(EtcdSnapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_members; i++)
                member_done(&s->members[i]);
        free(s->members);
        workers_free(s->workers, s->n_workers);
        free(s->cluster);
        free(s->live_prefix);
        free(s->registered_prefix);
        free(s->leader_name);
        free(s->workers_from);
        free(s->workers_error_text);
        return mfree(s);
}

void etcd_snapshot_summarize(EtcdSnapshot *s) {
        uint64_t leader = 0;

        s->ready = 0;
        s->expected = (unsigned)s->n_members;
        s->leader_disagreement = false;
        s->leader = NULL;
        for (size_t i = 0; i < s->n_members; i++) {
                const EtcdMember *m = &s->members[i];
                if (m->state != ETCD_MEMBER_READY)
                        continue;
                s->ready++;
                if (leader == 0)
                        leader = m->leader_id;
                else if (m->leader_id != leader)
                        s->leader_disagreement = true;
        }
        s->quorum = etcd_quorum_held(s->ready, s->expected);
        s->leader_id = s->leader_disagreement ? 0 : leader;
        for (size_t i = 0; s->leader_id != 0 && i < s->n_members; i++)
                if (s->members[i].state != ETCD_MEMBER_DOWN && s->members[i].member_id == s->leader_id)
                        s->leader = &s->members[i];
}

/* --- workers ------------------------------------------------------------------------------ */

/* The value as JSON when the whole of it is one JSON document; NULL otherwise (binary, empty). */
static json_object *parse_value(const void *v, size_t n) {
        if (n == 0 || n > INT_MAX || memchr(v, 0, n))
                return NULL;
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return NULL;
        json_object *o = json_tokener_parse_ex(tok, v, (int)n);
        if (o && json_tokener_get_error(tok) == json_tokener_success) {
                /* Nothing but white space may follow the document. */
                for (size_t i = json_tokener_get_parse_end(tok); i < n; i++)
                        if (!strchr(" \t\r\n", ((const char *)v)[i])) {
                                o = json_object_put_ptr(o);
                                break;
                        }
        } else
                o = json_object_put_ptr(o);
        json_tokener_free(tok);
        return o;
}

/* "10.0.0.1:29999" -> "10.0.0.1", "[::1]:80" -> "::1"; an IPv6 address without brackets is kept. */
static char *strip_port(const char *s) {
        if (s[0] == '[') {
                const char *end = strchr(s, ']');
                return end ? strndup(s + 1, end - s - 1) : strdup(s);
        }
        const char *colon = strchr(s, ':');
        if (colon && !strchr(colon + 1, ':'))
                return strndup(s, colon - s);
        return strdup(s);
}

char *etcd_worker_host_from_value(json_object *value) {
        static const char *const keys[] = {"host", "hostname", "address"};
        json_object *level[64], *next[64];
        size_t n = 0;

        if (!value || !json_object_is_type(value, json_type_object))
                return NULL;
        level[n++] = value;
        for (int depth = 0; depth < 3 && n > 0; depth++) {
                size_t m = 0;
                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        for (size_t i = 0; i < n; i++) {
                                json_object_object_foreach(level[i], key, v) {
                                        if (strcasecmp(key, keys[k]) == 0 &&
                                                json_object_is_type(v, json_type_string) &&
                                                !isempty(json_object_get_string(v)))
                                                return strip_port(json_object_get_string(v));
                                }
                        }
                for (size_t i = 0; i < n; i++) {
                        json_object_object_foreach(level[i], key, v) {
                                (void)key;
                                if (json_object_is_type(v, json_type_object) && m < ELEMENTSOF(next))
                                        next[m++] = v;
                        }
                }
                memcpy(level, next, m * sizeof(next[0]));
                n = m;
        }
        return NULL;
}

typedef struct WorkerKey {
        const char *id;
        size_t id_size;
        const EtcdKv *kv;
        bool live;
} WorkerKey;

static int worker_key_compare(const void *a, const void *b) {
        const WorkerKey *x = a, *y = b;
        int c = memcmp(x->id, y->id, MIN(x->id_size, y->id_size));
        if (c != 0)
                return c;
        if (x->id_size != y->id_size)
                return x->id_size < y->id_size ? -1 : 1;
        return (int)y->live - (int)x->live; /* live first */
}

static size_t collect_keys(WorkerKey *out, const char *prefix, const EtcdKv *kvs, size_t n, bool live) {
        size_t pl = strlen(prefix), m = 0;
        for (size_t i = 0; i < n; i++) {
                if (kvs[i].key_size <= pl || memcmp(kvs[i].key, prefix, pl) != 0)
                        continue;
                out[m++] = (WorkerKey){.id = (const char *)kvs[i].key + pl,
                        .id_size = kvs[i].key_size - pl,
                        .kv = &kvs[i],
                        .live = live};
        }
        return m;
}

int etcd_snapshot_set_workers(
        EtcdSnapshot *s, const EtcdKv *live, size_t n_live, const EtcdKv *registered, size_t n_registered) {
        _cleanup_(freep) WorkerKey *keys = calloc(n_live + n_registered + 1, sizeof(WorkerKey));
        EtcdWorker *w = NULL;
        size_t n_keys, n = 0;

        if (!keys)
                return -ENOMEM;
        n_keys = collect_keys(keys, s->live_prefix, live, n_live, true);
        n_keys += collect_keys(keys + n_keys, s->registered_prefix, registered, n_registered, false);
        qsort(keys, n_keys, sizeof(WorkerKey), worker_key_compare);
        w = calloc(n_keys + 1, sizeof(EtcdWorker));
        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < n_keys; i++) {
                const WorkerKey *k = &keys[i];
                EtcdWorker *cur;
                if (n > 0 && strlen(w[n - 1].id) == k->id_size &&
                        memcmp(w[n - 1].id, k->id, k->id_size) == 0)
                        cur = &w[n - 1];
                else {
                        cur = &w[n++];
                        if (!(cur->id = strndup(k->id, k->id_size)))
                                goto oom;
                }
                json_object *value = parse_value(k->kv->value, k->kv->value_size);
                if (k->live) {
                        cur->live = true;
                        cur->live_value = value;
                        cur->live_size = k->kv->value_size;
                        cur->lease = k->kv->lease;
                } else {
                        cur->registered = true;
                        cur->registered_value = value;
                        cur->registered_size = k->kv->value_size;
                }
                if (!cur->host)
                        cur->host = etcd_worker_host_from_value(value);
        }
        workers_free(s->workers, s->n_workers);
        s->workers = w;
        s->n_workers = n;
        s->n_live = s->n_registered = s->n_failed = 0;
        for (size_t i = 0; i < n; i++) {
                s->n_live += w[i].live;
                s->n_registered += w[i].registered;
                s->n_failed += w[i].registered && !w[i].live;
        }
        return 0;
oom:
        workers_free(w, n);
        return -ENOMEM;
}

/* --- gRPC calls --------------------------------------------------------------------------- */

/* The one place that words a failed call for operators. */
static char *call_error_text(
        const char *endpoint, int error, int grpc_status, const char *grpc_message, usec_t timeout) {
        bool tls = startswith(endpoint, "https://");
        const char *hint = NULL;
        char *t = NULL;
        int r;

        if (grpc_status > 0) {
                r = asprintf(&t, "%s%s%s", grpc_status_to_string(grpc_status), grpc_message ? ": " : "",
                        strempty(grpc_message));
                return r < 0 ? NULL : t;
        }
        switch (error) {
        case ECONNREFUSED:
                r = asprintf(&t, "connection refused");
                break;
        case ETIMEDOUT:
                r = asprintf(&t, "no answer within %s", FORMAT_DURATION(timeout));
                break;
        case EACCES:
                r = asprintf(&t,
                        "TLS failed (EACCES): certificate not trusted, client certificate refused, "
                        "or not a TLS endpoint");
                break;
        case EHOSTUNREACH:
                r = asprintf(&t, "host unknown or unreachable (EHOSTUNREACH)");
                break;
        case EPROTO:
                r = asprintf(&t, "not a gRPC answer (EPROTO)");
                break;
        case EBADMSG:
                r = asprintf(&t, "malformed answer (EBADMSG)");
                break;
        case EFBIG:
                r = asprintf(&t, "answer too large (EFBIG)");
                break;
        case ECONNRESET:
                r = asprintf(&t, "connection reset (ECONNRESET)");
                break;
        default:
                r = asprintf(&t, "%s (%s)", strerror(error), strempty(errno_to_name(error)));
        }
        if (r < 0)
                return NULL;
        /* A TLS member drops a plain HTTP/2 preface, and a handshake without the client certificate it
         * requires; which transport error curl then reports varies. */
        if (error == ECONNRESET || error == EIO || error == EPROTO)
                hint = tls ? "does the member require a client certificate (etcd_cert, etcd_key)?"
                           : "a TLS endpoint given as http://?";
        if (hint) {
                char *h;
                r = asprintf(&h, "%s: %s", t, hint);
                free(t);
                return r < 0 ? NULL : h;
        }
        return t;
}

typedef struct CallOutcome {
        ProtobufCMessage *response; /* owned; NULL on failure */
        int error; /* positive errno on failure */
        char *error_text; /* owned; on failure */
        usec_t latency;
} CallOutcome;

static void call_outcome_done(CallOutcome *o) {
        if (o->response)
                protobuf_c_message_free_unpacked(o->response, NULL);
        o->response = NULL;
        o->error_text = mfree(o->error_text);
}

/* Makes one call; a failure is described in *ret, only -ENOMEM is returned. */
static int call(const EtcdConfig *c, const char *endpoint, const char *method, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *type, size_t max_response, CallOutcome *ret) {
        GrpcTarget target = {.address = endpoint,
                .ca_file = c->ca_file,
                .cert_file = c->cert_file,
                .key_file = c->key_file};
        GrpcCall gc = {.method = method,
                .request = req,
                .response_type = type,
                .timeout = c->call_timeout,
                .max_response = max_response};
        GrpcResult res = {};
        usec_t start = now_usec(CLOCK_MONOTONIC);
        int r;

        *ret = (CallOutcome){};
        r = grpc_call(&target, &gc, &res);
        ret->latency = now_usec(CLOCK_MONOTONIC) - start;
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && res.status == GRPC_OK) {
                ret->response = TAKE_PTR(res.response);
                grpc_result_done(&res);
                return 0;
        }
        ret->error = r < 0 ? -r : -grpc_status_to_errno(res.status);
        ret->error_text = call_error_text(
                endpoint, ret->error, r < 0 ? 0 : (int)res.status, res.message, c->call_timeout);
        grpc_result_done(&res);
        return ret->error_text ? 0 : -ENOMEM;
}

static int member_status(const EtcdConfig *c, EtcdMember *m) {
        Etcdserverpb__StatusRequest req = ETCDSERVERPB__STATUS_REQUEST__INIT;
        CallOutcome o;
        int r;

        r = call(c, m->endpoint, "/etcdserverpb.Maintenance/Status", &req.base,
                &etcdserverpb__status_response__descriptor, 0, &o);
        if (r < 0)
                return r;
        m->latency = o.latency;
        if (!o.response) {
                m->state = ETCD_MEMBER_DOWN;
                m->error = o.error;
                m->error_text = TAKE_PTR(o.error_text);
                return 0;
        }
        const Etcdserverpb__StatusResponse *st = (const Etcdserverpb__StatusResponse *)o.response;
        if (st->header) {
                m->cluster_id = st->header->cluster_id;
                m->member_id = st->header->member_id;
        }
        m->leader_id = st->leader;
        m->raft_term = st->raftterm;
        m->raft_index = st->raftindex;
        m->raft_applied_index = st->raftappliedindex;
        m->db_size = st->dbsize;
        m->db_size_in_use = st->dbsizeinuse;
        m->is_learner = st->islearner;
        m->state = st->leader != 0 ? ETCD_MEMBER_READY : ETCD_MEMBER_NO_LEADER;
        r = 0;
        if (!(m->version = strdup(strempty(st->version))))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < st->n_errors; i++)
                r = strv_extend(&m->errors, st->errors[i]);
        call_outcome_done(&o);
        return r;
}

typedef struct StatusJob {
        const EtcdConfig *config;
        EtcdMember *member;
        pthread_t thread;
        bool started;
        int r;
} StatusJob;

static void *status_thread(void *p) {
        StatusJob *j = p;
        j->r = member_status(j->config, j->member);
        return NULL;
}

static bool url_equal(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        while (la > 0 && a[la - 1] == '/')
                la--;
        while (lb > 0 && b[lb - 1] == '/')
                lb--;
        return la == lb && strncasecmp(a, b, la) == 0;
}

/* Names the members (and the leader) from MemberList, asked of the first member that answered. */
static int name_members(const EtcdConfig *c, EtcdSnapshot *s) {
        Etcdserverpb__MemberListRequest req = ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
        const EtcdMember *from = NULL;
        CallOutcome o;
        int r = 0;

        for (size_t i = 0; i < s->n_members && !from; i++)
                if (s->members[i].state != ETCD_MEMBER_DOWN)
                        from = &s->members[i];
        if (!from)
                return 0;
        r = call(c, from->endpoint, "/etcdserverpb.Cluster/MemberList", &req.base,
                &etcdserverpb__member_list_response__descriptor, 0, &o);
        if (r < 0 || !o.response) {
                call_outcome_done(&o);
                return r; /* names are a nicety: a failure here is not one of etcd's */
        }
        const Etcdserverpb__MemberListResponse *ml = (const Etcdserverpb__MemberListResponse *)o.response;
        for (size_t k = 0; r >= 0 && k < ml->n_members; k++) {
                const Etcdserverpb__Member *pm = ml->members[k];
                if (isempty(pm->name))
                        continue;
                for (size_t i = 0; r >= 0 && i < s->n_members; i++) {
                        EtcdMember *m = &s->members[i];
                        bool match = m->state != ETCD_MEMBER_DOWN && m->member_id == pm->id;
                        for (size_t u = 0; !match && u < pm->n_clienturls; u++)
                                match = url_equal(pm->clienturls[u], m->endpoint);
                        if (match && !m->name && !(m->name = strdup(pm->name)))
                                r = -ENOMEM;
                }
                if (r >= 0 && s->leader_id != 0 && pm->id == s->leader_id && !s->leader_name &&
                        !(s->leader_name = strdup(pm->name)))
                        r = -ENOMEM;
        }
        call_outcome_done(&o);
        return r;
}

static int range(
        const EtcdConfig *c, const char *endpoint, const char *prefix, bool serializable, CallOutcome *ret) {
        Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
        _cleanup_(freep) uint8_t *end = NULL;
        size_t end_size;
        int r;

        r = etcd_prefix_range_end(prefix, strlen(prefix), &end, &end_size);
        if (r < 0)
                return r;
        req.key = (ProtobufCBinaryData){.len = strlen(prefix), .data = (uint8_t *)prefix};
        req.range_end = (ProtobufCBinaryData){.len = end_size, .data = end};
        req.serializable = serializable;
        return call(c, endpoint, "/etcdserverpb.KV/Range", &req.base,
                &etcdserverpb__range_response__descriptor, RANGE_MAX_RESPONSE, ret);
}

static EtcdKv *kvs_of(const Etcdserverpb__RangeResponse *rr) {
        EtcdKv *kv = calloc(rr->n_kvs + 1, sizeof(EtcdKv));
        for (size_t i = 0; kv && i < rr->n_kvs; i++)
                kv[i] = (EtcdKv){.key = rr->kvs[i]->key.data,
                        .key_size = rr->kvs[i]->key.len,
                        .value = rr->kvs[i]->value.data,
                        .value_size = rr->kvs[i]->value.len,
                        .lease = rr->kvs[i]->lease};
        return kv;
}

/* Reads both prefixes from one member: linearizable with a quorum, else serializable (may be stale). */
static int read_workers(const EtcdConfig *c, EtcdSnapshot *s) {
        const EtcdMember *order[s->n_members + 1];
        size_t n = 0;
        int r;

        if (s->leader && s->leader->state == ETCD_MEMBER_READY)
                order[n++] = s->leader;
        for (size_t i = 0; i < s->n_members; i++) {
                const EtcdMember *m = &s->members[i];
                if (m != s->leader && m->state == ETCD_MEMBER_READY)
                        order[n++] = m;
        }
        for (size_t i = 0; !s->quorum && i < s->n_members; i++)
                if (s->members[i].state == ETCD_MEMBER_NO_LEADER)
                        order[n++] = &s->members[i];

        for (size_t t = 0; t < n && t < RANGE_MAX_TRIES; t++) {
                _cleanup_(call_outcome_done) CallOutcome live = {}, reg = {};
                _cleanup_(freep) EtcdKv *live_kv = NULL, *reg_kv = NULL;

                if ((r = range(c, order[t]->endpoint, s->live_prefix, !s->quorum, &live)) < 0)
                        return r;
                if (live.response &&
                        (r = range(c, order[t]->endpoint, s->registered_prefix, !s->quorum, &reg)) < 0)
                        return r;
                const CallOutcome *failed = !live.response ? &live : !reg.response ? &reg : NULL;
                s->workers_latency = live.latency + reg.latency;
                free(s->workers_from);
                if (!(s->workers_from = strdup(order[t]->endpoint)))
                        return -ENOMEM;
                if (failed) {
                        s->workers_error = failed->error;
                        free(s->workers_error_text);
                        if (asprintf(&s->workers_error_text, "KV/Range on %s: %s", order[t]->endpoint,
                                    failed->error_text) < 0) {
                                s->workers_error_text = NULL;
                                return -ENOMEM;
                        }
                        continue;
                }
                const Etcdserverpb__RangeResponse *lr = (const Etcdserverpb__RangeResponse *)live.response,
                                                  *rr = (const Etcdserverpb__RangeResponse *)reg.response;
                live_kv = kvs_of(lr);
                reg_kv = kvs_of(rr);
                if (!live_kv || !reg_kv)
                        return -ENOMEM;
                if ((r = etcd_snapshot_set_workers(s, live_kv, lr->n_kvs, reg_kv, rr->n_kvs)) < 0)
                        return r;
                s->workers_listed = true;
                s->workers_serializable = !s->quorum;
                s->workers_error = 0;
                s->workers_error_text = mfree(s->workers_error_text);
                return 0;
        }
        return 0;
}

int etcd_check_run(const EtcdConfig *c, EtcdSnapshot **ret) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = NULL;
        size_t n = strv_length(c->endpoints);
        usec_t start = now_usec(CLOCK_MONOTONIC);
        int r = 0;

        if (n == 0 || !c->live_prefix || !c->registered_prefix)
                return -EINVAL;
        s = calloc(1, sizeof(EtcdSnapshot));
        if (!s)
                return -ENOMEM;
        s->time_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
        s->cluster = strdup(strempty(c->cluster));
        s->live_prefix = strdup(c->live_prefix);
        s->registered_prefix = strdup(c->registered_prefix);
        s->call_timeout = c->call_timeout;
        s->outage_tolerance = c->outage_tolerance;
        s->members = calloc(n, sizeof(EtcdMember));
        if (!s->cluster || !s->live_prefix || !s->registered_prefix || !s->members)
                return -ENOMEM;
        s->n_members = n;
        for (size_t i = 0; i < n; i++)
                if (!(s->members[i].endpoint = strdup(c->endpoints[i])))
                        return -ENOMEM;

        /* In parallel, so that a cycle costs one call timeout however many members are down. */
        StatusJob jobs[n];
        for (size_t i = 0; i < n; i++) {
                jobs[i] = (StatusJob){.config = c, .member = &s->members[i]};
                jobs[i].started = pthread_create(&jobs[i].thread, NULL, status_thread, &jobs[i]) == 0;
                if (!jobs[i].started)
                        status_thread(&jobs[i]);
        }
        for (size_t i = 0; i < n; i++) {
                if (jobs[i].started)
                        pthread_join(jobs[i].thread, NULL);
                if (jobs[i].r < 0)
                        r = jobs[i].r;
        }
        if (r < 0)
                return r;

        etcd_snapshot_summarize(s);
        if ((r = name_members(c, s)) < 0)
                return r;
        if ((r = read_workers(c, s)) < 0)
                return r;
        s->duration = now_usec(CLOCK_MONOTONIC) - start;
        *ret = TAKE_PTR(s);
        return 0;
}

/* --- outage clock ------------------------------------------------------------------------- */

int etcd_outage_update(EtcdOutage *o, bool available, int64_t now_ms, int64_t *ret_ended_after_ms) {
        if (now_ms <= 0)
                return -EINVAL;
        if (!available) {
                if (o->since_ms > 0)
                        return ETCD_OUTAGE_ONGOING;
                o->since_ms = now_ms;
                return ETCD_OUTAGE_BEGAN;
        }
        if (o->since_ms <= 0) {
                o->since_ms = 0;
                return ETCD_OUTAGE_NONE;
        }
        if (ret_ended_after_ms)
                *ret_ended_after_ms = MAX(now_ms - o->since_ms, (int64_t)0);
        o->since_ms = 0;
        return ETCD_OUTAGE_ENDED;
}

/* "24h" for a whole number of hours (format_duration() would say "1d0h"), else format_duration(). */
static const char *format_window(char buf[static FORMAT_DURATION_MAX], usec_t u) {
        if (u > 0 && u % USEC_PER_HOUR == 0) {
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 "h", u / USEC_PER_HOUR);
                return buf;
        }
        return format_duration(buf, FORMAT_DURATION_MAX, u);
}

/*
 * Outage lengths in the unit of the tolerance window: hours and minutes from an hour on ("25h03m",
 * where format_duration() would say "1d1h"), format_duration() below, whole seconds under 2 minutes.
 */
static const char *format_span(char buf[static FORMAT_DURATION_MAX], usec_t u) {
        if (u >= USEC_PER_HOUR)
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 "h%02" PRIu64 "m", u / USEC_PER_HOUR,
                        (u % USEC_PER_HOUR) / USEC_PER_MINUTE);
        else if (u < 2 * USEC_PER_MINUTE)
                snprintf(buf, FORMAT_DURATION_MAX, "%" PRIu64 " s", u / USEC_PER_SEC);
        else
                format_duration(buf, FORMAT_DURATION_MAX, u);
        return buf;
}
#define FORMAT_SPAN(u) format_span((char[FORMAT_DURATION_MAX]){}, (u))

static usec_t outage_elapsed(const EtcdOutage *o, int64_t now_ms) {
        return now_ms > o->since_ms ? (usec_t)(now_ms - o->since_ms) * USEC_PER_MSEC : 0;
}

int etcd_outage_message(const EtcdOutage *o, usec_t tolerance, int64_t now_ms, char **ret) {
        char window[FORMAT_DURATION_MAX];
        char *m;
        int r;

        if (!o || o->since_ms <= 0)
                return -ENOENT;
        usec_t elapsed = outage_elapsed(o, now_ms);
        format_window(window, tolerance);
        if (elapsed < tolerance)
                r = asprintf(&m, "etcd unavailable for %s; IO continues for up to %s: %s left",
                        FORMAT_SPAN(elapsed), window, FORMAT_SPAN(tolerance - elapsed));
        else
                r = asprintf(&m,
                        "etcd unavailable for %s; IO continues for up to %s: exceeded by %s, expect IO "
                        "errors",
                        FORMAT_SPAN(elapsed), window, FORMAT_SPAN(elapsed - tolerance));
        if (r < 0)
                return -ENOMEM;
        *ret = m;
        return 0;
}

int etcd_outage_ended_message(int64_t lasted_ms, char **ret) {
        char *m;
        if (asprintf(&m, "etcd available again after an outage of %s",
                    FORMAT_SPAN((usec_t)MAX(lasted_ms, (int64_t)0) * USEC_PER_MSEC)) < 0)
                return -ENOMEM;
        *ret = m;
        return 0;
}

/* --- checks ------------------------------------------------------------------------------- */

/* A growing message on open_memstream(). */
typedef struct Text {
        char *buf;
        size_t size;
        FILE *f;
} Text;

static int text_open(Text *t) {
        *t = (Text){};
        t->f = open_memstream(&t->buf, &t->size);
        return t->f ? 0 : -ENOMEM;
}

/* Closes the stream; returns the text (owned by t) or NULL on OOM. */
static const char *text_finish(Text *t) {
        if (t->f) {
                bool bad = ferror(t->f);
                fclose(t->f);
                t->f = NULL;
                if (bad)
                        t->buf = mfree(t->buf);
        }
        return t->buf;
}

static void text_done(Text *t) {
        if (t->f)
                fclose(t->f);
        free(t->buf);
}

static char *endpoints_joined(const EtcdSnapshot *s) {
        Text t;
        if (text_open(&t) < 0)
                return NULL;
        for (size_t i = 0; i < s->n_members; i++)
                fprintf(t.f, "%s%s", i ? "," : "", s->members[i].endpoint);
        if (!text_finish(&t)) {
                text_done(&t);
                return NULL;
        }
        return t.buf;
}

static void print_id(FILE *f, uint64_t id) {
        fprintf(f, "%" PRIx64, id);
}

static int members_check(
        const EtcdSnapshot *s, const EtcdOutage *o, int64_t now_ms, const char *target, CheckResult **ret) {
        _cleanup_(check_freep) CheckResult *c = check_new("etcd.members", target);
        _cleanup_(freep) char *outage = NULL;
        _cleanup_(text_done) Text t = {};
        unsigned failing = 0, alarms = 0, answered = 0;
        int common_error = -1, r;
        usec_t latency = 0;

        if (!c || text_open(&t) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_members; i++) {
                latency = MAX(latency, s->members[i].latency);
                answered += s->members[i].state != ETCD_MEMBER_DOWN;
        }
        fprintf(t.f, "members: %u ready / %u expected = %u %%", s->ready, s->expected,
                etcd_percent(s->ready, s->expected));
        if (!s->quorum)
                fprintf(t.f, ": %s", answered == 0 ? "no member answers, quorum lost" : "quorum lost");
        for (size_t i = 0; i < s->n_members; i++) {
                const EtcdMember *m = &s->members[i];
                if (m->state == ETCD_MEMBER_READY)
                        continue;
                fprintf(t.f, "%s%s %s", failing++ == 0 ? ": " : ", ", m->endpoint,
                        m->state == ETCD_MEMBER_NO_LEADER ? "no leader" : strempty(m->error_text));
                if (m->state == ETCD_MEMBER_DOWN)
                        common_error = common_error < 0 || common_error == m->error ? m->error : 0;
        }
        /* Alarms of members that are otherwise fine ("no leader" was said above). */
        for (size_t i = 0; i < s->n_members; i++) {
                const EtcdMember *m = &s->members[i];
                if (m->state != ETCD_MEMBER_READY)
                        continue;
                STRV_FOREACH (e, m->errors)
                        fprintf(t.f, "%s%s reports: %s", failing + alarms++ == 0 ? ": " : ", ", m->endpoint,
                                *e);
        }
        if (!s->quorum && o && etcd_outage_message(o, s->outage_tolerance, now_ms, &outage) >= 0)
                fprintf(t.f, "; %s", outage);
        if (!text_finish(&t))
                return -ENOMEM;

        c->latency_us = latency;
        if (!s->quorum)
                r = check_set(c, VIGIL_CRIT, answered == 0 && common_error > 0 ? common_error : 0,
                        answered == 0 ? "NO_MEMBER" : "QUORUM_LOST", "%s", t.buf);
        else if (failing > 0)
                r = check_set(c, VIGIL_WARN, 0, "MEMBER_DOWN", "%s", t.buf);
        else if (alarms > 0)
                r = check_set(c, VIGIL_WARN, 0, "ALARM", "%s", t.buf);
        else
                r = check_set(c, VIGIL_OK, 0, NULL, "%s", t.buf);
        if (r < 0 || (r = check_add_int(c, "ready", s->ready, NULL)) < 0 ||
                (r = check_add_int(c, "expected", s->expected, NULL)) < 0 ||
                (r = check_add_int(c, "percent", etcd_percent(s->ready, s->expected), "%")) < 0 ||
                (r = check_add_int(c, "quorum", s->quorum, NULL)) < 0)
                return r;
        if (o && o->since_ms > 0 && (r = check_add_int(c, "outage_since_ms", o->since_ms, "ms")) < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* "etcd-1 (8e9e05c52164694d)" or "8e9e05c52164694d". */
static void print_member_ref(FILE *f, const char *name, uint64_t id) {
        if (name)
                fprintf(f, "%s (", name);
        print_id(f, id);
        if (name)
                fputc(')', f);
}

static const char *member_name_by_id(const EtcdSnapshot *s, uint64_t id) {
        if (id == s->leader_id && s->leader_name)
                return s->leader_name;
        for (size_t i = 0; i < s->n_members; i++)
                if (s->members[i].state != ETCD_MEMBER_DOWN && s->members[i].member_id == id)
                        return s->members[i].name;
        return NULL;
}

static int leader_check(const EtcdSnapshot *s, const char *target, CheckResult **ret) {
        _cleanup_(check_freep) CheckResult *c = check_new("etcd.leader", target);
        _cleanup_(text_done) Text t = {};
        unsigned answered = 0;
        uint64_t term = 0;
        VigilStatus status;
        const char *code = NULL;
        int r;

        if (!c || text_open(&t) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_members; i++)
                if (s->members[i].state != ETCD_MEMBER_DOWN) {
                        answered++;
                        term = MAX(term, s->members[i].raft_term);
                }
        if (answered == 0) {
                status = VIGIL_UNKNOWN;
                code = "NO_MEMBER";
                fprintf(t.f, "leader unknown: no member answers");
        } else if (s->leader_disagreement) {
                status = VIGIL_WARN;
                code = "LEADER_DISAGREEMENT";
                fprintf(t.f, "members disagree on the leader (election in progress?)");
                unsigned k = 0;
                for (size_t i = 0; i < s->n_members; i++) {
                        const EtcdMember *m = &s->members[i];
                        if (m->state != ETCD_MEMBER_READY)
                                continue;
                        fprintf(t.f, "%s%s says ", k++ ? ", " : ": ", m->endpoint);
                        print_member_ref(t.f, member_name_by_id(s, m->leader_id), m->leader_id);
                }
        } else if (s->leader_id == 0) {
                status = VIGIL_CRIT;
                code = "NO_LEADER";
                fprintf(t.f, "no leader: %u answering member%s know%s none (raft term %" PRIu64 ")",
                        answered, answered == 1 ? "" : "s", answered == 1 ? "s" : "", term);
        } else {
                status = VIGIL_OK;
                fprintf(t.f, "leader ");
                print_member_ref(t.f, s->leader_name, s->leader_id);
                if (s->leader)
                        fprintf(t.f, " at %s", s->leader->endpoint);
                else
                        fprintf(t.f, " (not reachable from the collector)");
                fprintf(t.f, ", raft term %" PRIu64, s->leader ? s->leader->raft_term : term);
        }
        if (!text_finish(&t))
                return -ENOMEM;
        if ((r = check_set(c, status, 0, code, "%s", t.buf)) < 0)
                return r;
        if (s->leader_id != 0) {
                char id[32];
                snprintf(id, sizeof(id), "%" PRIx64, s->leader_id);
                if ((r = check_add_string(c, "leader_id", id)) < 0)
                        return r;
                if (s->leader_name && (r = check_add_string(c, "leader_name", s->leader_name)) < 0)
                        return r;
        }
        if (answered > 0 && (r = check_add_int(c, "raft_term", (int64_t)term, NULL)) < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* "<lead>2 registered workers not live: a, b" ("and 4 more" after MESSAGE_MAX_IDS); filter selects. */
static void print_worker_list(FILE *f, const char *lead, const EtcdSnapshot *s, unsigned count,
        const char *noun, const char *suffix, bool (*filter)(const EtcdWorker *w)) {
        unsigned k = 0;
        fprintf(f, "%s%u %s%s %s", lead, count, noun, count == 1 ? "" : "s", suffix);
        for (size_t i = 0; i < s->n_workers; i++) {
                if (!filter(&s->workers[i]))
                        continue;
                if (k < MESSAGE_MAX_IDS)
                        fprintf(f, "%s%s", k == 0 ? ": " : ", ", s->workers[i].id);
                k++;
        }
        if (k > MESSAGE_MAX_IDS)
                fprintf(f, ", and %u more", k - MESSAGE_MAX_IDS);
}

static bool worker_failed(const EtcdWorker *w) {
        return w->registered && !w->live;
}

static bool worker_unregistered(const EtcdWorker *w) {
        return w->live && !w->registered;
}

static int workers_check(const EtcdSnapshot *s, CheckResult **ret) {
        _cleanup_(check_freep) CheckResult *c = check_new("etcd.workers", s->live_prefix);
        _cleanup_(text_done) Text t = {};
        VigilStatus status;
        const char *code = NULL;
        int r, error = 0;

        if (!c || text_open(&t) < 0)
                return -ENOMEM;
        unsigned expected = s->n_registered > 0 ? s->n_registered : s->n_live;
        unsigned ready = s->n_registered > 0 ? s->n_registered - s->n_failed : s->n_live;
        unsigned unregistered = s->n_registered > 0 ? s->n_live - (s->n_registered - s->n_failed) : 0;

        if (!s->workers_listed) {
                status = VIGIL_UNKNOWN;
                code = "ETCD_UNAVAILABLE";
                error = s->workers_error;
                fprintf(t.f, "cannot list workers: %s", s->workers_error_text ?: "no etcd member answers");
        } else if (s->n_live == 0 && s->n_registered == 0) {
                status = VIGIL_WARN;
                code = "NO_WORKERS";
                fprintf(t.f,
                        "no worker live under %s or registered under %s (is the cluster name '%s' right?)",
                        s->live_prefix, s->registered_prefix, s->cluster);
        } else {
                fprintf(t.f, "workers: %u ready / %u expected = %u %%", ready, expected,
                        etcd_percent(ready, expected));
                if (s->n_failed > 0) {
                        status = ready * 2 < expected ? VIGIL_CRIT : VIGIL_WARN;
                        code = "WORKER_NOT_LIVE";
                        print_worker_list(
                                t.f, ": ", s, s->n_failed, "registered worker", "not live", worker_failed);
                } else
                        status = VIGIL_OK;
                if (unregistered > 0)
                        print_worker_list(t.f, s->n_failed > 0 ? "; " : ": ", s, unregistered, "live worker",
                                "not registered", worker_unregistered);
                if (s->n_registered == 0)
                        fprintf(t.f, " (none registered under %s)", s->registered_prefix);
        }
        if (s->workers_listed && s->workers_serializable)
                fprintf(t.f, " (read from %s without quorum: may be stale)", s->workers_from);
        if (!text_finish(&t))
                return -ENOMEM;
        c->latency_us = s->workers_latency;
        if ((r = check_set(c, status, error, code, "%s", t.buf)) < 0)
                return r;
        if (s->workers_listed &&
                ((r = check_add_int(c, "live", s->n_live, NULL)) < 0 ||
                        (r = check_add_int(c, "registered", s->n_registered, NULL)) < 0 ||
                        (r = check_add_int(c, "failed", s->n_failed, NULL)) < 0 ||
                        (r = check_add_int(c, "ready", ready, NULL)) < 0 ||
                        (r = check_add_int(c, "expected", expected, NULL)) < 0))
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int etcd_snapshot_checks(const EtcdSnapshot *s, const EtcdOutage *o, int64_t now_ms, CheckList *list) {
        _cleanup_(freep) char *target = endpoints_joined(s);
        CheckResult *c[3] = {};
        int r;

        if (!target)
                return -ENOMEM;
        if ((r = members_check(s, o, now_ms, target, &c[0])) < 0 ||
                (r = leader_check(s, target, &c[1])) < 0 || (r = workers_check(s, &c[2])) < 0)
                goto fail;
        size_t n0 = list->n;
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                if ((r = check_list_add(list, c[i])) < 0) {
                        /* Hand back what was added, so the list is as before. */
                        for (; list->n > n0; list->n--)
                                check_free(list->items[list->n - 1]);
                        for (size_t k = i; k < ELEMENTSOF(c); k++)
                                c[k] = check_free(c[k]);
                        return r;
                }
                c[i] = NULL;
        }
        return 0;
fail:
        for (size_t i = 0; i < ELEMENTSOF(c); i++)
                check_free(c[i]);
        return r;
}

/* --- JSON --------------------------------------------------------------------------------- */

static json_object *json_id(uint64_t id) {
        char buf[32];
        if (id == 0)
                return NULL; /* json null */
        snprintf(buf, sizeof(buf), "%" PRIx64, id);
        return json_object_new_string(buf);
}

static json_object *json_str(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

static json_object *member_to_json(const EtcdMember *m) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "endpoint", json_object_new_string(m->endpoint));
        json_object_object_add(o, "name", json_str(m->name));
        json_object_object_add(o, "state", json_object_new_string(etcd_member_state_to_string(m->state)));
        json_object_object_add(o, "latency_ms", json_new_ms(m->latency));
        if (m->state == ETCD_MEMBER_DOWN) {
                json_object_object_add(o, "error", json_str(m->error_text));
                json_object_object_add(o, "errno", json_str(errno_to_name(m->error)));
                return o;
        }
        json_object_object_add(o, "id", json_id(m->member_id));
        json_object_object_add(o, "cluster_id", json_id(m->cluster_id));
        json_object_object_add(o, "leader", json_id(m->leader_id));
        json_object_object_add(
                o, "is_leader", json_object_new_boolean(m->leader_id != 0 && m->leader_id == m->member_id));
        json_object_object_add(o, "version", json_str(m->version));
        json_object_object_add(o, "raft_term", json_object_new_int64((int64_t)m->raft_term));
        json_object_object_add(o, "raft_index", json_object_new_int64((int64_t)m->raft_index));
        json_object_object_add(
                o, "raft_applied_index", json_object_new_int64((int64_t)m->raft_applied_index));
        json_object_object_add(o, "db_size", json_object_new_int64(m->db_size));
        json_object_object_add(o, "db_size_in_use", json_object_new_int64(m->db_size_in_use));
        json_object_object_add(o, "is_learner", json_object_new_boolean(m->is_learner));
        json_object *errors = json_object_new_array();
        STRV_FOREACH (e, m->errors)
                json_object_array_add(errors, json_object_new_string(*e));
        json_object_object_add(o, "errors", errors);
        return o;
}

static json_object *worker_to_json(const EtcdWorker *w) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(w->id));
        json_object_object_add(o, "live", json_object_new_boolean(w->live));
        json_object_object_add(o, "registered", json_object_new_boolean(w->registered));
        json_object_object_add(o, "failed", json_object_new_boolean(worker_failed(w)));
        json_object_object_add(o, "host", json_str(w->host));
        if (w->live) {
                /* The value when it is JSON; otherwise only its size (old releases wrote binary). */
                json_object_object_add(o, "live_value", json_object_get(w->live_value));
                json_object_object_add(o, "live_value_size", json_object_new_int64((int64_t)w->live_size));
                json_object_object_add(o, "lease", json_id((uint64_t)w->lease));
        }
        if (w->registered) {
                json_object_object_add(o, "registered_value", json_object_get(w->registered_value));
                json_object_object_add(
                        o, "registered_value_size", json_object_new_int64((int64_t)w->registered_size));
        }
        return o;
}

static json_object *outage_to_json(const EtcdSnapshot *s, const EtcdOutage *o, int64_t now_ms) {
        _cleanup_(freep) char *msg = NULL;
        if (!o || o->since_ms <= 0)
                return NULL;
        json_object *j = json_object_new_object();
        if (!j || etcd_outage_message(o, s->outage_tolerance, now_ms, &msg) < 0)
                return json_object_put_ptr(j);
        int64_t elapsed = (int64_t)(outage_elapsed(o, now_ms) / USEC_PER_MSEC);
        int64_t tolerance = (int64_t)(s->outage_tolerance / USEC_PER_MSEC);
        json_object_object_add(j, "since_ms", json_object_new_int64(o->since_ms));
        json_object_object_add(j, "duration_ms", json_object_new_int64(elapsed));
        json_object_object_add(j, "tolerance_ms", json_object_new_int64(tolerance));
        json_object_object_add(j, "left_ms", json_object_new_int64(tolerance - elapsed));
        json_object_object_add(j, "message", json_object_new_string(msg));
        return j;
}

int etcd_snapshot_to_json(const EtcdSnapshot *s, const EtcdOutage *o, int64_t now_ms, json_object **ret) {
        _cleanup_json_ json_object *root = json_object_new_object();
        _cleanup_(check_list_clear) CheckList checks = {};
        json_object *members, *list, *leader, *workers, *wl, *cj;
        int r;

        if (!root)
                return -ENOMEM;
        if ((r = etcd_snapshot_checks(s, o, now_ms, &checks)) < 0)
                return r;
        json_object_object_add(root, "cluster", json_object_new_string(s->cluster));
        json_object_object_add(root, "time_ms", json_object_new_int64(s->time_ms));
        json_object_object_add(root, "duration_ms", json_new_ms(s->duration));
        json_object_object_add(
                root, "status", json_object_new_string(vigil_status_to_string(check_list_worst(&checks))));

        if (!(members = json_object_new_object()) || !(list = json_object_new_array()))
                return json_object_put(members), -ENOMEM;
        json_object_object_add(root, "members", members);
        json_object_object_add(members, "ready", json_object_new_int64(s->ready));
        json_object_object_add(members, "expected", json_object_new_int64(s->expected));
        json_object_object_add(
                members, "percent", json_object_new_int64(etcd_percent(s->ready, s->expected)));
        json_object_object_add(members, "quorum", json_object_new_boolean(s->quorum));
        json_object_object_add(members, "list", list);
        for (size_t i = 0; i < s->n_members; i++) {
                json_object *m = member_to_json(&s->members[i]);
                if (!m)
                        return -ENOMEM;
                json_object_array_add(list, m);
        }

        if (s->leader_id != 0) {
                if (!(leader = json_object_new_object()))
                        return -ENOMEM;
                json_object_object_add(leader, "id", json_id(s->leader_id));
                json_object_object_add(leader, "name", json_str(s->leader_name));
                json_object_object_add(leader, "endpoint", json_str(s->leader ? s->leader->endpoint : NULL));
                json_object_object_add(root, "leader", leader);
        } else
                json_object_object_add(root, "leader", NULL);
        json_object_object_add(root, "leader_disagreement", json_object_new_boolean(s->leader_disagreement));

        if (!(workers = json_object_new_object()) || !(wl = json_object_new_array()))
                return json_object_put(workers), -ENOMEM;
        json_object_object_add(root, "workers", workers);
        json_object_object_add(workers, "live_prefix", json_object_new_string(s->live_prefix));
        json_object_object_add(workers, "registered_prefix", json_object_new_string(s->registered_prefix));
        json_object_object_add(workers, "listed", json_object_new_boolean(s->workers_listed));
        json_object_object_add(
                workers, "stale", json_object_new_boolean(s->workers_listed && s->workers_serializable));
        json_object_object_add(workers, "read_from", json_str(s->workers_from));
        json_object_object_add(workers, "error", json_str(s->workers_listed ? NULL : s->workers_error_text));
        json_object_object_add(workers, "live", json_object_new_int64(s->n_live));
        json_object_object_add(workers, "registered", json_object_new_int64(s->n_registered));
        json_object_object_add(workers, "failed", json_object_new_int64(s->n_failed));
        json_object_object_add(workers, "list", wl);
        for (size_t i = 0; i < s->n_workers; i++) {
                json_object *w = worker_to_json(&s->workers[i]);
                if (!w)
                        return -ENOMEM;
                json_object_array_add(wl, w);
        }

        json_object_object_add(root, "outage", outage_to_json(s, o, now_ms));

        if (!(cj = json_object_new_array()))
                return -ENOMEM;
        json_object_object_add(root, "checks", cj);
        for (size_t i = 0; i < checks.n; i++) {
                json_object *c = check_result_to_json(checks.items[i]);
                if (!c)
                        return -ENOMEM;
                json_object_array_add(cj, c);
        }
        *ret = TAKE_PTR(root);
        return 0;
}

/* --- cross-check -------------------------------------------------------------------------- */

static bool is_ip_address(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool etcd_host_matches(const char *host, const char *node) {
        if (isempty(host) || isempty(node))
                return false;
        if (strcasecmp(host, node) == 0)
                return true;
        if (is_ip_address(host) || is_ip_address(node))
                return false;
        size_t lh = strcspn(host, "."), ln = strcspn(node, ".");
        return lh == ln && strncasecmp(host, node, lh) == 0;
}

static bool host_has_agent(const char *host, char *const *agent_nodes) {
        for (size_t i = 0; agent_nodes && agent_nodes[i]; i++)
                if (etcd_host_matches(host, agent_nodes[i]))
                        return true;
        return false;
}

void etcd_cross_check_done(EtcdCrossCheck *x) {
        if (!x)
                return;
        x->live_without_agent = mfree(x->live_without_agent);
        x->failed_with_agent = mfree(x->failed_with_agent);
        x->n_live_without_agent = x->n_failed_with_agent = x->n_host_unknown = 0;
}

int etcd_cross_check(const EtcdSnapshot *s, char *const *agent_nodes, EtcdCrossCheck *ret) {
        EtcdCrossCheck x = {
                .live_without_agent = calloc(s->n_workers + 1, sizeof(EtcdWorker *)),
                .failed_with_agent = calloc(s->n_workers + 1, sizeof(EtcdWorker *)),
        };
        if (!x.live_without_agent || !x.failed_with_agent) {
                etcd_cross_check_done(&x);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_workers; i++) {
                const EtcdWorker *w = &s->workers[i];
                if (!w->host) {
                        x.n_host_unknown += w->live;
                        continue;
                }
                bool agent = host_has_agent(w->host, agent_nodes);
                if (w->live && !agent)
                        x.live_without_agent[x.n_live_without_agent++] = w;
                else if (worker_failed(w) && agent)
                        x.failed_with_agent[x.n_failed_with_agent++] = w;
        }
        *ret = x;
        return 0;
}

static void print_pairs(FILE *f, const EtcdWorker *const *w, size_t n, bool host_first) {
        for (size_t i = 0; i < n && i < MESSAGE_MAX_IDS; i++)
                fprintf(f, "%s%s (%s)", i ? ", " : ": ", host_first ? w[i]->host : w[i]->id,
                        host_first ? w[i]->id : w[i]->host);
        if (n > MESSAGE_MAX_IDS)
                fprintf(f, ", and %zu more", n - MESSAGE_MAX_IDS);
}

int etcd_cross_check_result(const EtcdSnapshot *s, const EtcdCrossCheck *x, CheckResult **ret) {
        _cleanup_(check_freep) CheckResult *c = check_new("etcd.agents", s->live_prefix);
        _cleanup_(text_done) Text t = {};
        VigilStatus status = VIGIL_OK;
        int r;

        if (!c || text_open(&t) < 0)
                return -ENOMEM;
        if (!s->workers_listed) {
                status = VIGIL_UNKNOWN;
                fprintf(t.f, "workers not listed: nothing to cross-check");
        } else if (x->n_live_without_agent == 0 && x->n_failed_with_agent == 0) {
                fprintf(t.f, "every live worker's node has an agent");
                if (x->n_host_unknown > 0)
                        fprintf(t.f, " (%zu live worker%s name no host: not checked)", x->n_host_unknown,
                                x->n_host_unknown == 1 ? "'s value does" : "s' values do");
        } else {
                status = VIGIL_WARN;
                if (x->n_live_without_agent > 0) {
                        fprintf(t.f, "%zu live worker%s on a node without an agent", x->n_live_without_agent,
                                x->n_live_without_agent == 1 ? "" : "s");
                        print_pairs(t.f, x->live_without_agent, x->n_live_without_agent, false);
                }
                if (x->n_failed_with_agent > 0) {
                        fprintf(t.f, "%s%zu node%s with an agent whose worker is not live",
                                x->n_live_without_agent > 0 ? "; " : "", x->n_failed_with_agent,
                                x->n_failed_with_agent == 1 ? "" : "s");
                        print_pairs(t.f, x->failed_with_agent, x->n_failed_with_agent, true);
                }
        }
        if (!text_finish(&t))
                return -ENOMEM;
        if ((r = check_set(c, status, 0, status == VIGIL_WARN ? "AGENT_MISMATCH" : NULL, "%s", t.buf)) < 0 ||
                (r = check_add_int(c, "live_without_agent", (int64_t)x->n_live_without_agent, NULL)) < 0 ||
                (r = check_add_int(c, "failed_with_agent", (int64_t)x->n_failed_with_agent, NULL)) < 0 ||
                (r = check_add_int(c, "host_unknown", (int64_t)x->n_host_unknown, NULL)) < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}
