/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "ctl.h"
#include "json-util.h"

static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;
        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *yes_no(json_object *o, const char *key) {
        json_object *v = get(o, key);
        return v && json_object_get_boolean(v) ? "yes" : "no";
}

static void format_bytes(char *buf, size_t size, int64_t b) {
        if (b < 0)
                snprintf(buf, size, "-");
        else if (b < 1024 * 1024)
                snprintf(buf, size, "%" PRId64 " KiB", b / 1024);
        else
                snprintf(buf, size, "%.1f MiB", b / (1024.0 * 1024.0));
}

static void render_members(json_object *members, FILE *f) {
        json_object *list = get(members, "list");
        size_t n = list ? json_object_array_length(list) : 0, w = 8;

        for (size_t i = 0; i < n; i++)
                w = MAX(w, strlen(json_get_string(json_object_array_get_idx(list, i), "endpoint", "")));
        fprintf(f, "%-*s  %-10s  %-9s  %9s  %-8s  %9s  %9s  %s\n", (int)w, "MEMBER", "NAME", "STATE",
                "LATENCY", "VERSION", "DB SIZE", "RAFT TERM", "LEADER/ERROR");
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(list, i);
                char lat[32], db[32], term[32];
                snprintf(lat, sizeof(lat), "%.1f ms", json_get_double(m, "latency_ms", 0));
                format_bytes(db, sizeof(db), json_get_int(m, "db_size", -1));
                int64_t t = json_get_int(m, "raft_term", -1);
                if (t >= 0)
                        snprintf(term, sizeof(term), "%" PRId64, t);
                else
                        snprintf(term, sizeof(term), "-");
                const char *state = json_get_string(m, "state", "?");
                const char *last = streq(state, "down")
                        ? json_get_string(m, "error", "")
                        : (streq(yes_no(m, "is_leader"), "yes") ? "leader" : "");
                fprintf(f, "%-*s  %-10s  %-9s  %9s  %-8s  %9s  %9s  %s\n", (int)w,
                        json_get_string(m, "endpoint", ""), json_get_string(m, "name", "-"), state, lat,
                        json_get_string(m, "version", "-"), db, term, last);
        }
}

static void render_workers(json_object *workers, FILE *f) {
        json_object *list = get(workers, "list");
        size_t n = list ? json_object_array_length(list) : 0, w = 6;

        fprintf(f, "workers: %" PRId64 " live, %" PRId64 " registered, %" PRId64 " failed (%s)%s\n",
                json_get_int(workers, "live", 0), json_get_int(workers, "registered", 0),
                json_get_int(workers, "failed", 0), json_get_string(workers, "live_prefix", ""),
                streq(yes_no(workers, "stale"), "yes") ? " — read without quorum, may be stale" : "");
        if (!isempty(json_get_string(workers, "error", NULL)))
                fprintf(f, "  cannot list workers: %s\n", json_get_string(workers, "error", ""));
        if (n == 0)
                return;
        for (size_t i = 0; i < n; i++)
                w = MAX(w, strlen(json_get_string(json_object_array_get_idx(list, i), "id", "")));
        fprintf(f, "\n%-*s  %-4s  %-10s  %-6s  %s\n", (int)w, "WORKER", "LIVE", "REGISTERED", "FAILED",
                "HOST");
        for (size_t i = 0; i < n; i++) {
                json_object *k = json_object_array_get_idx(list, i);
                fprintf(f, "%-*s  %-4s  %-10s  %-6s  %s\n", (int)w, json_get_string(k, "id", ""),
                        yes_no(k, "live"), yes_no(k, "registered"), yes_no(k, "failed"),
                        json_get_string(k, "host", "-"));
        }
}

int ctl_etcd_render(json_object *etcd, bool color, FILE *f) {
        const char *status = json_get_string(etcd, "status", NULL);
        json_object *members = get(etcd, "members"), *leader = get(etcd, "leader"),
                    *outage = get(etcd, "outage");

        if (!status)
                return -EBADMSG;
        fprintf(f, "etcd of cluster %s: ", json_get_string(etcd, "cluster", "?"));
        ctl_print_status(f, status, 0, color);
        fprintf(f, "\nmembers: %" PRId64 " ready / %" PRId64 " expected = %" PRId64 " %%, quorum %s\n",
                json_get_int(members, "ready", 0), json_get_int(members, "expected", 0),
                json_get_int(members, "percent", 0),
                streq(yes_no(members, "quorum"), "yes") ? "held" : "LOST");
        if (leader && json_object_is_type(leader, json_type_object))
                fprintf(f, "leader: %s (%s, id %s)\n", json_get_string(leader, "name", "?"),
                        json_get_string(leader, "endpoint", "?"), json_get_string(leader, "id", "?"));
        else
                fprintf(f, "leader: none\n");
        if (outage && json_object_is_type(outage, json_type_object))
                fprintf(f, "outage: %s\n", json_get_string(outage, "message", ""));
        fputc('\n', f);
        render_members(members, f);
        fputc('\n', f);
        render_workers(get(etcd, "workers"), f);
        fputc('\n', f);
        checks_print_table(get(etcd, "checks"), true, f);
        return ctl_exit_code_from_string(status);
}

const char *ctl_doc_section(const char *doc, const char *heading) {
        size_t l = strlen(heading);
        for (const char *p = doc; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, heading, l) == 0)
                        return p;
        return NULL;
}
