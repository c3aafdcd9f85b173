/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include "op-record.h"
#include "ufs-probe.h"
#include "ufs.h"

#define DEFAULT_REQUEST_TIMEOUT (3 * USEC_PER_SEC)
#define DEFAULT_LATENCY_WARN (2 * USEC_PER_SEC)
/* The child's deadline beyond the request timeout: process start, DNS, TLS set-up. */
#define DEADLINE_MARGIN (1 * USEC_PER_SEC)
/* S3's 404 for a prefix that holds nothing yet is an answer; a missing file:// root (an NFS export not
 * mounted) is not. */
#define DEFAULT_EXPECTED_ERRORS "s3:404"

/* What the child found, in memory it shares with the agent. */
typedef struct UfsShared {
        OpRecord op;
        bool is_dir;
        char code[64];
        char message[448];
} UfsShared;

typedef struct UfsProbe {
        char *target;
        UfsShared *shared;
} UfsProbe;

#define O(field) offsetof(UfsProbeSettings, field)
static const ConfigOption ufs_probe_options[] = {
        {"endpoint", 0, CONFIG_STRING, O(endpoint), "URL",
                "s3: the S3 endpoint; default AWS for the region"},
        {"region", 0, CONFIG_STRING, O(region), "REGION", "s3: region to sign for (default as the AWS CLI)"},
        {"addressing", 0, CONFIG_STRING, O(addressing), "STYLE",
                "s3: path, virtual or auto (path with an endpoint, virtual for AWS)"},
        {"access_key", 0, CONFIG_STRING, O(access_key), "KEY",
                "s3: access key id (default: $AWS_ACCESS_KEY_ID, the credentials file)"},
        {"secret_key", 0, CONFIG_STRING, O(secret_key), "SECRET", "s3: secret access key"},
        {"profile", 0, CONFIG_STRING, O(profile), "NAME", "s3: profile of the credentials file"},
        {"credentials_file", 0, CONFIG_STRING, O(credentials_file), "FILE",
                "s3: credentials file (default: ~/.aws/credentials)"},
        {"ca_file", 0, CONFIG_STRING, O(ca_file), "FILE", "s3: CA certificates (PEM) to trust"},
        {"request_timeout", 0, CONFIG_DURATION, O(request_timeout), "DURATION",
                "give up on the UFS after DURATION without progress"},
        {"latency_warn", 0, CONFIG_DURATION, O(latency_warn), "DURATION", "WARN when the look takes longer"},
        {"expected_errors", 0, CONFIG_STRING, O(expected_errors), "LIST",
                "error codes that are answers, not failures, as SCHEME:CODE,CODE entries (default: "
                "" DEFAULT_EXPECTED_ERRORS ", S3's 404 for an empty prefix)"},
};
#undef O

static void ufs_settings_init(void *p) {
        *(UfsProbeSettings *)p = (UfsProbeSettings){
                .request_timeout = DEFAULT_REQUEST_TIMEOUT,
                .latency_warn = DEFAULT_LATENCY_WARN,
        };
}

static void ufs_settings_done(void *p) {
        config_free_fields(ufs_probe_options, ELEMENTSOF(ufs_probe_options), p);
}

static int ufs_settings_check(const char *target, const void *p, char **ret_reason) {
        const UfsProbeSettings *s = p;
        if (ufs_addressing_from_string(s->addressing) < 0)
                return ufs_reason(ret_reason, -EINVAL, "'addressing' must be auto, path or virtual");
        if (s->request_timeout == 0)
                return ufs_reason(ret_reason, -EINVAL, "'request_timeout' must be more than 0");
        if (s->endpoint && !startswith(s->endpoint, "http://") && !startswith(s->endpoint, "https://"))
                return ufs_reason(
                        ret_reason, -EINVAL, "'endpoint' %s is not an http:// or https:// URL", s->endpoint);
        if (!!s->access_key != !!s->secret_key)
                return ufs_reason(ret_reason, -EINVAL, "'access_key' and 'secret_key' go together");
        if (ufs_error_expected(s->expected_errors, "", "") < 0)
                return ufs_reason(ret_reason, -EINVAL,
                        "'expected_errors' is not a list of SCHEME:CODE,CODE entries (e.g. 's3:404 *:404')");
        return 0;
}

static int ufs_target_normalize(const char *target, char **ret, char **ret_reason) {
        _cleanup_(ufs_uri_freep) UfsUri *u = NULL;
        int r = ufs_uri_parse(target, &u, ret_reason);
        if (r < 0)
                return r;
        char *s = ufs_uri_to_string(u);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static usec_t ufs_default_timeout(const void *p) {
        return ((const UfsProbeSettings *)p)->request_timeout + DEADLINE_MARGIN;
}

static void *ufs_probe_free(void *p) {
        UfsProbe *u = p;
        if (!u)
                return NULL;
        probe_shared_free(u->shared, sizeof(UfsShared));
        free(u->target);
        return mfree(u);
}

static int ufs_probe_init(const char *target, void **ret_state) {
        UfsProbe *u = calloc(1, sizeof(UfsProbe));
        if (!u)
                return -ENOMEM;
        u->target = strdup(target);
        u->shared = probe_shared_new(sizeof(UfsShared));
        if (!u->target || !u->shared) {
                ufs_probe_free(u);
                return -ENOMEM;
        }
        *ret_state = u;
        return 0;
}

static int ufs_probe_start(void *state, const void *settings) {
        memset(((UfsProbe *)state)->shared, 0, sizeof(UfsShared));
        return 0;
}

/* The child: one look at the root. */
static int ufs_probe_run(void *state, const void *settings) {
        UfsProbe *p = state;
        const UfsProbeSettings *s = settings;
        UfsShared *sh = p->shared;
        _cleanup_(ufs_uri_freep) UfsUri *uri = NULL;
        _cleanup_(ufs_closep) Ufs *u = NULL;
        _cleanup_(freep) char *why = NULL;
        UfsStat st;
        int r;

        op_record_begin(&sh->op);
        r = ufs_uri_parse(p->target, &uri, &why);
        if (r >= 0) {
                UfsOptions o = {
                        .endpoint = s->endpoint,
                        .region = s->region,
                        .addressing = ufs_addressing_from_string(s->addressing),
                        .access_key = s->access_key,
                        .secret_key = s->secret_key,
                        .profile = s->profile,
                        .credentials_file = s->credentials_file,
                        .ca_file = s->ca_file,
                        .timeout = s->request_timeout,
                        .connect_timeout = MIN(s->request_timeout, 5 * USEC_PER_SEC),
                };
                r = ufs_open(uri, &o, &u, &why);
        }
        if (r < 0) {
                snprintf(sh->code, sizeof(sh->code), "%s", r == -EINVAL ? "CONFIG" : strerrorname_np(-r) ?: "EIO");
                snprintf(sh->message, sizeof(sh->message), "%s", why ?: strerror(-r));
                op_record_end(&sh->op, -r);
                return 0;
        }
        r = ufs_peek(u, &st);
        if (r >= 0)
                sh->is_dir = st.is_dir;
        else {
                snprintf(sh->code, sizeof(sh->code), "%s", ufs_error_code(u));
                snprintf(sh->message, sizeof(sh->message), "%s", ufs_error(u));
        }
        op_record_end(&sh->op, r < 0 ? -r : 0);
        return 0;
}

/* Whether the child's error is an answer the settings expect (S3's 404 for an empty prefix). */
static bool error_expected(const UfsProbeSettings *s, const char *target, int e, const char *code) {
        const char *spec = s->expected_errors ?: DEFAULT_EXPECTED_ERRORS;
        if (ufs_error_expected(spec, target, code) > 0)
                return true;
        /* the HTTP spelling of "nothing there", as the metrics' error codes have it */
        return e == ENOENT && ufs_error_expected(spec, target, "404") > 0;
}

static int ufs_probe_collect(void *state, const void *settings, const ProbeOutcome *o, CheckList *results) {
        UfsProbe *p = state;
        const UfsProbeSettings *s = settings;
        const UfsShared *sh = p->shared;
        _cleanup_(check_freep) CheckResult *c = check_new("ufs.reachability", p->target);
        const char *scheme_end = strstr(p->target, "://");
        _cleanup_(freep) char *scheme =
                strndup(p->target, scheme_end ? (size_t)(scheme_end - p->target) : 0);
        int e = sh->op.error, r;

        if (!c || !scheme)
                return -ENOMEM;
        if ((r = check_add_string(c, "scheme", scheme)) < 0)
                return r;
        c->latency_us = op_record_latency(&sh->op, now_usec(CLOCK_MONOTONIC));

        switch (o->kind) {
        case PROBE_EXITED:
                if (o->child_code != CLD_EXITED)
                        r = check_set(c, VIGIL_UNKNOWN, 0, "PROBE_DIED", "probe process died: %s",
                                strsignal(o->child_status));
                else if (sh->op.state != OP_FINISHED)
                        r = check_set(
                                c, VIGIL_UNKNOWN, 0, "PROBE_DIED", "probe process exited without looking");
                else if (e == 0 && c->latency_us > s->latency_warn)
                        r = check_set(c, VIGIL_WARN, 0, "SLOW", "%s answered slowly: %s (latency_warn %s)",
                                p->target, FORMAT_DURATION(c->latency_us), FORMAT_DURATION(s->latency_warn));
                else if (e == 0)
                        r = check_set(c, VIGIL_OK, 0, NULL, "%s reachable in %s", p->target,
                                FORMAT_DURATION(c->latency_us));
                else if (error_expected(s, p->target, e, sh->code))
                        r = check_set(c, VIGIL_OK, 0, NULL, "%s reachable in %s (expected %s: %s)",
                                p->target, FORMAT_DURATION(c->latency_us), sh->code, sh->message);
                else
                        r = check_set(c, VIGIL_CRIT, e, *sh->code ? sh->code : NULL, "%s: %s", p->target,
                                *sh->message ? sh->message : strerror(e));
                break;
        case PROBE_TIMED_OUT:
        case PROBE_STUCK:
                c->latency_us = o->elapsed;
                r = check_set(c, VIGIL_CRIT, 0, "HUNG", "%s did not answer: the look hung for %s%s",
                        p->target, FORMAT_DURATION(o->elapsed),
                        o->kind == PROBE_STUCK ? "; probe process survived SIGKILL" : "");
                break;
        case PROBE_FORK_FAILED:
                r = check_set(c, VIGIL_UNKNOWN, -o->error, NULL, "cannot start the probe process: %s",
                        strerror(-o->error));
                break;
        default:
                r = check_set(c, VIGIL_UNKNOWN, 0, NULL, "no look this cycle");
        }
        if (r < 0)
                return r;
        r = check_list_add(results, c);
        if (r >= 0)
                c = NULL;
        return r;
}

const ProbeOps ufs_probe_ops = {
        .name = "ufs",
        .options = ufs_probe_options,
        .n_options = ELEMENTSOF(ufs_probe_options),
        .settings_size = sizeof(UfsProbeSettings),
        .settings_init = ufs_settings_init,
        .settings_done = ufs_settings_done,
        .settings_check = ufs_settings_check,
        .target_normalize = ufs_target_normalize,
        .default_timeout = ufs_default_timeout,
        .default_timeout_key = "request_timeout",
        .init = ufs_probe_init,
        .start = ufs_probe_start,
        .run = ufs_probe_run,
        .collect = ufs_probe_collect,
        .free = ufs_probe_free,
};
