/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "ctl.h"
#include "json-util.h"

static json_object *nodes_array(json_object *o) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, "nodes", &v) || !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

int ctl_nodes_status(json_object *nodes) {
        json_object *a = nodes_array(nodes);
        size_t n;
        VigilStatus worst = VIGIL_OK;

        if (!a)
                return -EBADMSG;
        n = json_object_array_length(a);
        if (n == 0)
                return VIGIL_UNKNOWN; /* no agent has reported: nothing is known to be fine */
        for (size_t i = 0; i < n; i++)
                worst = vigil_status_worst(worst,
                        ctl_exit_code_from_string(
                                json_get_string(json_object_array_get_idx(a, i), "status", NULL)));
        return worst;
}

static const char *node_age(char *buf, size_t size, json_object *node) {
        ctl_format_age(buf, size, json_get_double(node, "last_report_age_s", -1));
        if (json_object_get_boolean(json_object_object_get(node, "stale")))
                strncat(buf, " (stale)", size - strlen(buf) - 1);
        return buf;
}

int ctl_nodes_render(json_object *nodes, bool color, FILE *f) {
        json_object *a = nodes_array(nodes);
        int status = ctl_nodes_status(nodes);
        size_t n, wname = strlen("NODE"), wage = strlen("LAST-REPORT");
        char age[64];

        if (status < 0)
                return status;
        n = json_object_array_length(a);
        if (n == 0) {
                fprintf(f, "no agent has reported\n");
                return status;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *node = json_object_array_get_idx(a, i);
                wname = MAX(wname, strlen(json_get_string(node, "name", "")));
                wage = MAX(wage, strlen(node_age(age, sizeof(age), node)));
        }
        fprintf(f, "%-*s  %-7s  %-*s  %6s  %7s  %s\n", (int)wname, "NODE", "STATUS", (int)wage,
                "LAST-REPORT", "CHECKS", "FAILING", "AGENT");
        for (size_t i = 0; i < n; i++) {
                json_object *node = json_object_array_get_idx(a, i);
                const char *agent = json_get_string(node, "agent_version", NULL);

                fprintf(f, "%-*s  ", (int)wname, json_get_string(node, "name", ""));
                ctl_print_status(f, json_get_string(node, "status", NULL), 7, color);
                fprintf(f, "  %-*s  %6" PRId64 "  %7" PRId64 "  %s\n", (int)wage,
                        node_age(age, sizeof(age), node), json_get_int(node, "checks_total", 0),
                        json_get_int(node, "checks_failing", 0), isempty(agent) ? "-" : agent);
        }
        return status;
}

int ctl_node_render(json_object *node, bool color, FILE *f) {
        const char *s = json_get_string(node, "status", NULL),
                   *cluster = json_get_string(node, "cluster", "");
        json_object *checks = NULL;
        char age[64], interval[FORMAT_DURATION_MAX];
        int64_t interval_ms = json_get_int(node, "interval_ms", 0);

        if (!s)
                return -EBADMSG;
        json_object_object_get_ex(node, "checks", &checks);
        if (checks && !json_object_is_type(checks, json_type_array))
                return -EBADMSG;

        fprintf(f, "node:        %s%s%s%s\n", json_get_string(node, "name", "?"),
                isempty(cluster) ? "" : " (cluster ", cluster, isempty(cluster) ? "" : ")");
        fprintf(f, "status:      ");
        ctl_print_status(f, s, 0, color);
        fputc('\n', f);
        fprintf(f, "last report: %s, seq %" PRId64, node_age(age, sizeof(age), node),
                json_get_int(node, "seq", 0));
        if (interval_ms > 0)
                fprintf(f, ", every %s",
                        format_duration(interval, sizeof(interval), (usec_t)interval_ms * USEC_PER_MSEC));
        fputc('\n', f);
        fprintf(f, "agent:       %s, boot %s\n", json_get_string(node, "agent_version", "-"),
                json_get_string(node, "boot_id", "-"));
        fputc('\n', f);
        checks_print_table(checks, true, f);
        return ctl_exit_code_from_string(s);
}
