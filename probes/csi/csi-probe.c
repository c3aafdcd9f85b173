/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <sys/stat.h>

#include "csi-probe.h"
#include "csi.pb-c.h"
#include "grpc-client.h"
#include "json-util.h"
#include "mountinfo.h"

#define DEFAULT_CALL_TIMEOUT (3 * USEC_PER_SEC)
#define DEFAULT_WARN_LATENCY USEC_PER_SEC

typedef struct CsiProbe {
        char *path;
        CsiShared *shared;
} CsiProbe;

static const char *const call_names[_CSI_CALL_MAX] = {
        [CSI_CALL_INFO] = "GetPluginInfo",
        [CSI_CALL_PROBE] = "Probe",
        [CSI_CALL_CAPS] = "NodeGetCapabilities",
};

static const char *const capability_names[] = {
        "UNKNOWN",
        "STAGE_UNSTAGE_VOLUME",
        "GET_VOLUME_STATS",
        "EXPAND_VOLUME",
        "VOLUME_CONDITION",
        "SINGLE_NODE_MULTI_WRITER",
        "VOLUME_MOUNT_GROUP",
};

static const ConfigOption csi_options[] = {
        {"call_timeout", 0, CONFIG_DURATION, offsetof(CsiSettings, call_timeout), "DURATION",
                "deadline of the gRPC calls of one cycle together"},
        {"warn_latency", 0, CONFIG_DURATION, offsetof(CsiSettings, warn_latency), "DURATION",
                "a call slower than this is WARN"},
};

static void csi_settings_init(void *p) {
        *(CsiSettings *)p =
                (CsiSettings){.call_timeout = DEFAULT_CALL_TIMEOUT, .warn_latency = DEFAULT_WARN_LATENCY};
}

static int csi_settings_check(const char *target, const void *p, char **ret_reason) {
        const CsiSettings *s = p;
        if (s->call_timeout == 0)
                return asprintf(ret_reason, "'call_timeout' must be more than 0") < 0 ? -ENOMEM : -EINVAL;
        return 0;
}

/* The child needs the call deadline plus time to start and to write its records. */
static usec_t csi_default_timeout(const void *p) {
        return ((const CsiSettings *)p)->call_timeout + 500 * USEC_PER_MSEC;
}

static void *csi_probe_free(void *p) {
        CsiProbe *c = p;
        if (!c)
                return NULL;
        probe_shared_free(c->shared, sizeof(CsiShared));
        free(c->path);
        return mfree(c);
}

static int csi_probe_init(const char *target, void **ret_state) {
        CsiProbe *c = calloc(1, sizeof(CsiProbe));
        int r;
        if (!c)
                return -ENOMEM;
        r = path_normalize(target, &c->path);
        if (r >= 0 && !(c->shared = probe_shared_new(sizeof(CsiShared))))
                r = -errno;
        if (r < 0) {
                csi_probe_free(c);
                return r;
        }
        *ret_state = c;
        return 0;
}

static int csi_probe_start(void *state, const void *settings) {
        CsiProbe *c = state;
        memset(c->shared, 0, sizeof(CsiShared));
        return 0;
}

/* --- child -------------------------------------------------------------------------------- */

/* Makes one call with what is left of the budget; returns the response (caller frees) or NULL. */
static ProtobufCMessage *call(CsiProbe *c, int which, const char *method, const ProtobufCMessage *req,
        const ProtobufCMessageDescriptor *resp_type, usec_t deadline) {
        CsiCall *rec = &c->shared->calls[which];
        GrpcTarget target = {.address = c->path};
        GrpcResult res = {};
        usec_t now = now_usec(CLOCK_MONOTONIC);

        op_record_begin(&rec->op);
        if (now >= deadline) {
                op_record_end(&rec->op, ETIMEDOUT);
                return NULL;
        }
        GrpcCall call = {
                .method = method, .request = req, .response_type = resp_type, .timeout = deadline - now};
        int r = grpc_call(&target, &call, &res);
        if (r < 0) {
                op_record_end(&rec->op, -r);
                return NULL;
        }
        rec->grpc_status = res.status;
        if (res.message)
                snprintf(rec->message, sizeof(rec->message), "%s", res.message);
        op_record_end(&rec->op, 0);
        ProtobufCMessage *m = TAKE_PTR(res.response);
        grpc_result_done(&res);
        return m;
}

static int csi_probe_run(void *state, const void *settings) {
        CsiProbe *c = state;
        const CsiSettings *s = settings;
        CsiShared *sh = c->shared;
        struct stat st;

        if (lstat(c->path, &st) < 0) {
                sh->socket_error = errno;
                return 0;
        }
        if (!S_ISSOCK(st.st_mode)) {
                sh->socket_error = ENOTSOCK;
                return 0;
        }
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + s->call_timeout;

        Csi__V1__GetPluginInfoRequest info_req = CSI__V1__GET_PLUGIN_INFO_REQUEST__INIT;
        Csi__V1__GetPluginInfoResponse *info =
                (Csi__V1__GetPluginInfoResponse *)call(c, CSI_CALL_INFO, "/csi.v1.Identity/GetPluginInfo",
                        &info_req.base, &csi__v1__get_plugin_info_response__descriptor, deadline);
        if (info) {
                snprintf(sh->name, sizeof(sh->name), "%s", info->name);
                snprintf(sh->vendor_version, sizeof(sh->vendor_version), "%s", info->vendor_version);
                csi__v1__get_plugin_info_response__free_unpacked(info, NULL);
        }
        /* Without a transport there is no point in the other calls: the first error says it. */
        if (sh->calls[CSI_CALL_INFO].op.error != 0)
                return 0;

        Csi__V1__ProbeRequest probe_req = CSI__V1__PROBE_REQUEST__INIT;
        Csi__V1__ProbeResponse *probe = (Csi__V1__ProbeResponse *)call(c, CSI_CALL_PROBE,
                "/csi.v1.Identity/Probe", &probe_req.base, &csi__v1__probe_response__descriptor, deadline);
        if (probe) {
                sh->ready = probe->ready ? probe->ready->value : -1;
                csi__v1__probe_response__free_unpacked(probe, NULL);
        }
        if (sh->calls[CSI_CALL_PROBE].op.error != 0)
                return 0;

        Csi__V1__NodeGetCapabilitiesRequest caps_req = CSI__V1__NODE_GET_CAPABILITIES_REQUEST__INIT;
        Csi__V1__NodeGetCapabilitiesResponse *caps = (Csi__V1__NodeGetCapabilitiesResponse *)call(c,
                CSI_CALL_CAPS, "/csi.v1.Node/NodeGetCapabilities", &caps_req.base,
                &csi__v1__node_get_capabilities_response__descriptor, deadline);
        if (caps) {
                for (size_t i = 0; i < caps->n_capabilities; i++) {
                        const Csi__V1__NodeServiceCapability *cap = caps->capabilities[i];
                        if (cap->type_case == CSI__V1__NODE_SERVICE_CAPABILITY__TYPE_RPC && cap->rpc &&
                                cap->rpc->type >= 0 && cap->rpc->type < 32)
                                sh->capabilities |= 1u << cap->rpc->type;
                }
                csi__v1__node_get_capabilities_response__free_unpacked(caps, NULL);
        }
        return 0;
}

/* --- classification ----------------------------------------------------------------------- */

static int transport_failure(CheckResult *r, int call, int error, const CsiSettings *s) {
        switch (error) {
        case ECONNREFUSED:
                return check_set(
                        r, VIGIL_CRIT, error, NULL, "nothing listening on the socket (ECONNREFUSED)");
        case ETIMEDOUT:
                return check_set(r, VIGIL_CRIT, error, NULL, "%s: no answer within %s (DEADLINE_EXCEEDED)",
                        call_names[call], FORMAT_DURATION(s->call_timeout));
        case EPROTO:
                return check_set(r, VIGIL_CRIT, error, NULL, "%s: the answer is not gRPC", call_names[call]);
        case EBADMSG:
                return check_set(r, VIGIL_CRIT, error, NULL, "%s: malformed answer", call_names[call]);
        default:
                return check_set(r, VIGIL_CRIT, error, NULL, "%s failed: %s (%s)", call_names[call],
                        strerror(error), strempty(errno_to_name(error)));
        }
}

static int add_call_details(CheckResult *r, const CsiShared *sh, usec_t now) {
        int k;
        for (int i = 0; i < _CSI_CALL_MAX; i++) {
                char key[64];
                if (sh->calls[i].op.state == OP_NOT_STARTED)
                        continue;
                snprintf(key, sizeof(key), "%s_ms", call_names[i]);
                if ((k = check_add_double(r, key, op_record_latency(&sh->calls[i].op, now) / 1000.0, "ms")) <
                        0)
                        return k;
                if (sh->calls[i].op.state == OP_FINISHED && sh->calls[i].op.error == 0) {
                        snprintf(key, sizeof(key), "%s_status", call_names[i]);
                        if ((k = check_add_string(r, key, grpc_status_to_string(sh->calls[i].grpc_status))) <
                                0)
                                return k;
                }
        }
        if (!isempty(sh->name) && (k = check_add_string(r, "plugin", sh->name)) < 0)
                return k;
        if (!isempty(sh->vendor_version) &&
                (k = check_add_string(r, "vendor_version", sh->vendor_version)) < 0)
                return k;
        return 0;
}

static void capabilities_text(uint32_t caps, char *buf, size_t size) {
        size_t l = 0;
        buf[0] = 0;
        for (size_t i = 1; i < ELEMENTSOF(capability_names); i++)
                if (caps & (1u << i))
                        l += snprintf(buf + l, l < size ? size - l : 0, "%s%s", l ? ", " : "",
                                capability_names[i]);
}

static int classify_exited(CheckResult *r, const CsiSettings *s, const CsiShared *sh) {
        if (sh->socket_error == ENOENT)
                return check_set(r, VIGIL_CRIT, ENOENT, "SOCKET_MISSING",
                        "socket missing: %s does not exist", r->target);
        if (sh->socket_error == ENOTSOCK)
                return check_set(r, VIGIL_CRIT, ENOTSOCK, NULL, "not a socket: %s", r->target);
        if (sh->socket_error)
                return check_set(r, VIGIL_CRIT, sh->socket_error, NULL, "cannot look at the socket: %s",
                        strerror(sh->socket_error));

        int slow = -1;
        for (int i = 0; i < _CSI_CALL_MAX; i++) {
                const CsiCall *c = &sh->calls[i];
                if (c->op.state != OP_FINISHED)
                        continue;
                if (c->op.error != 0)
                        return transport_failure(r, i, c->op.error, s);
                if (c->grpc_status == GRPC_UNIMPLEMENTED && i == CSI_CALL_CAPS)
                        continue; /* optional: a plugin without a Node service */
                if (c->grpc_status != GRPC_OK)
                        return check_set(r, VIGIL_CRIT, -grpc_status_to_errno(c->grpc_status),
                                grpc_status_to_string(c->grpc_status), "%s failed: %s%s%s", call_names[i],
                                grpc_status_to_string(c->grpc_status), c->message[0] ? ": " : "",
                                c->message);
                if (c->op.latency_usec > s->warn_latency &&
                        (slow < 0 || c->op.latency_usec > sh->calls[slow].op.latency_usec))
                        slow = i;
        }
        if (sh->ready == 0)
                return check_set(r, VIGIL_CRIT, 0, "NOT_READY", "plugin reports not ready (%s %s)", sh->name,
                        sh->vendor_version);
        if (slow >= 0)
                return check_set(r, VIGIL_WARN, 0, "SLOW", "slow: %s took %s (threshold %s)",
                        call_names[slow], FORMAT_DURATION(sh->calls[slow].op.latency_usec),
                        FORMAT_DURATION(s->warn_latency));

        char caps[256];
        capabilities_text(sh->capabilities, caps, sizeof(caps));
        bool no_node = sh->calls[CSI_CALL_CAPS].grpc_status == GRPC_UNIMPLEMENTED;
        return check_set(r, VIGIL_OK, 0, NULL, "%s %s ready%s; node capabilities: %s", sh->name,
                sh->vendor_version,
                sh->ready < 0 ? " (Probe has no ready field: ready, as the spec says)" : "",
                no_node ? "none (Node service not implemented)" : (caps[0] ? caps : "none"));
}

int csi_probe_classify(const char *target, const CsiSettings *s, const CsiShared *sh, const ProbeOutcome *o,
        CheckList *results) {
        _cleanup_(check_freep) CheckResult *r = check_new("csi.probe", target);
        usec_t now = now_usec(CLOCK_MONOTONIC);
        int k;

        if (!r)
                return -ENOMEM;
        for (int i = 0; i < _CSI_CALL_MAX; i++)
                r->latency_us += op_record_latency(&sh->calls[i].op, now);
        switch (o->kind) {
        case PROBE_EXITED:
                if (o->child_code != CLD_EXITED)
                        k = check_set(r, VIGIL_UNKNOWN, 0, "PROBE_DIED", "probe process died: %s",
                                strsignal(o->child_status));
                else
                        k = classify_exited(r, s, sh);
                break;
        case PROBE_TIMED_OUT:
        case PROBE_STUCK: {
                int in = -1;
                for (int i = _CSI_CALL_MAX - 1; i >= 0 && in < 0; i--)
                        if (sh->calls[i].op.state == OP_IN_PROGRESS)
                                in = i;
                k = check_set(r, VIGIL_CRIT, 0, "HUNG", "hung for %s in %s%s", FORMAT_DURATION(o->elapsed),
                        in >= 0 ? call_names[in] : "start-up",
                        o->kind == PROBE_STUCK ? ": probe process survived SIGKILL" : "");
                r->latency_us = o->elapsed;
                break;
        }
        case PROBE_FORK_FAILED:
                k = check_set(r, VIGIL_UNKNOWN, -o->error, NULL, "cannot start the probe process: %s",
                        strerror(-o->error));
                break;
        default:
                k = -EINVAL;
        }
        if (k < 0 || (k = add_call_details(r, sh, now)) < 0)
                return k;
        if ((k = check_list_add(results, r)) < 0)
                return k;
        TAKE_PTR(r);
        return 0;
}

static int csi_probe_collect(void *state, const void *settings, const ProbeOutcome *o, CheckList *results) {
        CsiProbe *c = state;
        return csi_probe_classify(c->path, settings, c->shared, o, results);
}

const ProbeOps csi_probe_ops = {
        .name = "csi",
        .options = csi_options,
        .n_options = ELEMENTSOF(csi_options),
        .settings_size = sizeof(CsiSettings),
        .settings_init = csi_settings_init,
        .settings_check = csi_settings_check,
        .default_timeout = csi_default_timeout,
        .default_timeout_key = "call_timeout",
        .init = csi_probe_init,
        .start = csi_probe_start,
        .run = csi_probe_run,
        .collect = csi_probe_collect,
        .free = csi_probe_free,
};
