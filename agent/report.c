/* SPDX-License-Identifier: MIT */
#include "report.h"
#include "json-util.h"

static void fill(Vigil__NodeReport *r, const AgentIdentity *id, uint64_t seq, int64_t time_unix_ms,
        CheckResult **checks, size_t n) {
        vigil__node_report__init(r);
        /* protobuf-c only reads these while packing: casting away const is safe. */
        r->node = (char *)id->node;
        r->cluster = (char *)id->cluster;
        r->agent_version = (char *)VIGIL_VERSION;
        r->boot_id = (char *)strempty(id->boot_id);
        r->kernel_boot_id = (char *)strempty(id->kernel_boot_id);
        r->seq = seq;
        r->time_unix_ms = time_unix_ms;
        r->interval_ms = id->interval_ms;
        r->checks = checks;
        r->n_checks = n;
}

int report_encode(const AgentIdentity *id, uint64_t seq, int64_t time_unix_ms, CheckResult **checks,
        size_t n, const ReportLogs *logs, uint8_t **ret_buf, size_t *ret_size) {
        Vigil__NodeReport r;

        fill(&r, id, seq, time_unix_ms, checks, n);
        if (logs && logs->n_batches > 0) {
                r.log_state_id = (char *)logs->state_id;
                r.log_batches = logs->batches;
                r.n_log_batches = logs->n_batches;
        }
        size_t size = vigil__node_report__get_packed_size(&r);
        uint8_t *buf = malloc(size ?: 1);
        if (!buf)
                return -ENOMEM;
        vigil__node_report__pack(&r, buf);
        *ret_buf = buf;
        *ret_size = size;
        return 0;
}

VigilStatus report_status(CheckResult **checks, size_t n) {
        CheckList l = {.items = checks, .n = n};
        return check_list_worst(&l);
}

json_object *report_to_json(const AgentIdentity *id, uint64_t seq, CheckResult **checks, size_t n) {
        Vigil__NodeReport r;
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        fill(&r, id, seq, 0, checks, n);
        json_object *a = report_checks_to_json(&r);
        if (!a) {
                json_object_put(o);
                return NULL;
        }
        json_object_object_add(o, "node", json_object_new_string(id->node));
        json_object_object_add(o, "cluster", json_object_new_string(id->cluster));
        json_object_object_add(
                o, "status", json_object_new_string(vigil_status_to_string(report_status(checks, n))));
        json_object_object_add(o, "agent_version", json_object_new_string(VIGIL_VERSION));
        json_object_object_add(o, "checks", a);
        return o;
}

int report_summary(CheckResult **checks, size_t n, char **ret) {
        unsigned count[_VIGIL_STATUS_MAX] = {};
        const CheckResult *worst = NULL;
        char *s;

        for (size_t i = 0; i < n; i++) {
                VigilStatus st = check_status(checks[i]);
                count[st]++;
                if (st != VIGIL_OK && (!worst || vigil_status_worst(check_status(worst), st) == st))
                        worst = checks[i];
        }
        int r = asprintf(&s, "%zu check%s: %u OK, %u WARN, %u CRIT, %u UNKNOWN%s%s%s%s%s", n,
                n == 1 ? "" : "s", count[VIGIL_OK], count[VIGIL_WARN], count[VIGIL_CRIT],
                count[VIGIL_UNKNOWN], worst ? " — " : "", worst ? worst->name : "", worst ? " " : "",
                worst ? worst->target : "", worst ? ": " : "");
        if (r < 0)
                return -ENOMEM;
        if (worst) {
                char *t;
                r = asprintf(&t, "%s%s", s, worst->message);
                free(s);
                if (r < 0)
                        return -ENOMEM;
                s = t;
        }
        *ret = s;
        return 0;
}
