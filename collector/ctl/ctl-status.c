/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>

#include "ctl.h"
#include "json-util.h"

int ctl_cluster_status(json_object *cluster) {
        const char *s = json_get_string(cluster, "status", NULL);
        return s ? ctl_exit_code_from_string(s) : -EBADMSG;
}

static bool is_ok(json_object *o) {
        return ctl_exit_code_from_string(json_get_string(o, "status", NULL)) == VIGIL_OK;
}

static void print_verdict(json_object *cluster, bool color, FILE *f) {
        const char *name = json_get_string(cluster, "cluster", ""),
                   *msg = json_get_string(cluster, "message", "");

        fprintf(f, "cluster%s%s: ", isempty(name) ? "" : " ", name);
        ctl_print_status(f, json_get_string(cluster, "status", NULL), 0, color);
        if (!isempty(msg))
                fprintf(f, " — %s", msg);
        fputc('\n', f);
}

/* "agents: 2 ready / 2 expected = 100 %", the form operators know from kubectl. The percentage is
 * rounded down, so 100 % means every agent and 199 of 200 never shows as 100 %. */
static void print_agents(json_object *cluster, FILE *f) {
        json_object *agents = NULL;
        int64_t ready, expected;
        double pct;

        json_object_object_get_ex(cluster, "agents", &agents);
        ready = json_get_int(agents, "ready", 0);
        expected = json_get_int(agents, "expected", 0);
        pct = json_get_double(
                agents, "percent", expected > 0 ? 100.0 * (double)ready / (double)expected : 0);
        fprintf(f, "agents: %" PRId64 " ready / %" PRId64 " expected = %.0f %%\n", ready, expected,
                floor(pct + 1e-9));
}

/* "N ready / M expected = P %" of obj (keys ready, expected, percent), rounded down like agents. */
static void print_ready(json_object *obj, FILE *f) {
        int64_t ready = json_get_int(obj, "ready", 0), expected = json_get_int(obj, "expected", 0);
        double pct =
                json_get_double(obj, "percent", expected > 0 ? 100.0 * (double)ready / (double)expected : 0);
        fprintf(f, "%" PRId64 " ready / %" PRId64 " expected = %.0f %%", ready, expected, floor(pct + 1e-9));
}

/* "csi plugins: 3 ready / 3 expected = 100 %" over the csi.probe checks of the fresh nodes. */
static void print_csi(json_object *cluster, FILE *f) {
        json_object *csi = NULL;
        if (!json_object_object_get_ex(cluster, "csi", &csi) ||
                !json_object_is_type(csi, json_type_object) || json_get_int(csi, "expected", 0) == 0)
                return;
        fprintf(f, "csi plugins: ");
        print_ready(csi, f);
        fputc('\n', f);
}

/* "etcd: OK — members 3 ready / 3 expected = 100 %, leader m1; workers 2 live / 2 registered" */
static void print_etcd(json_object *cluster, bool color, FILE *f) {
        json_object *etcd = NULL, *members = NULL, *workers = NULL;
        if (!json_object_object_get_ex(cluster, "etcd", &etcd) ||
                !json_object_is_type(etcd, json_type_object))
                return;
        json_object_object_get_ex(etcd, "members", &members);
        json_object_object_get_ex(etcd, "workers", &workers);
        fprintf(f, "etcd: ");
        ctl_print_status(f, json_get_string(etcd, "status", "UNKNOWN"), 0, color);
        fprintf(f, " — members ");
        print_ready(members, f);
        const char *leader = json_get_string(etcd, "leader", "");
        fprintf(f, ", %s%s", isempty(leader) ? "no leader" : "leader ", strempty(leader));
        fprintf(f, "; workers %" PRId64 " live / %" PRId64 " registered", json_get_int(workers, "live", 0),
                json_get_int(workers, "registered", 0));
        if (json_get_int(workers, "failed", 0) > 0)
                fprintf(f, ", %" PRId64 " failed", json_get_int(workers, "failed", 0));
        fputc('\n', f);
        const char *st = json_get_string(etcd, "status", "UNKNOWN");
        if (!streq(st, "OK") && !isempty(json_get_string(etcd, "message", NULL)))
                fprintf(f, "      %s\n", json_get_string(etcd, "message", ""));
}

/* The keys of the per-status counts of the collector's answers. */
static const char *const status_keys[] = {"ok", "warn", "crit", "unknown"};

/*
 * "logs: 12 errors, 3 warnings in the last hour from 4 sources; burst: node-a pod:ns/pod/c (CRIT)",
 * from the logs.errors checks of the fresh nodes; nothing when no agent watches a log.
 */
static void print_logs(json_object *cluster, FILE *f) {
        json_object *logs = NULL, *sources = NULL, *failing;
        int64_t total = 0, errors, warnings, listed, unknown;

        if (!json_object_object_get_ex(cluster, "logs", &logs) ||
                !json_object_is_type(logs, json_type_object))
                return;
        json_object_object_get_ex(logs, "sources", &sources);
        for (size_t i = 0; i < ELEMENTSOF(status_keys); i++)
                total += json_get_int(sources, status_keys[i], 0);
        if (total == 0)
                return;
        errors = json_get_int(logs, "errors_last_hour", 0);
        warnings = json_get_int(logs, "warnings_last_hour", 0);
        fprintf(f,
                "logs: %" PRId64 " error%s, %" PRId64 " warning%s in the last hour from %" PRId64
                " source%s",
                errors, ctl_plural(errors), warnings, ctl_plural(warnings), total, ctl_plural(total));
        failing = ctl_get_array(logs, "failing");
        listed = failing ? (int64_t)json_object_array_length(failing) : 0;
        for (int64_t i = 0; i < listed; i++) {
                json_object *src = json_object_array_get_idx(failing, (size_t)i);
                fprintf(f, "%s%s %s (%s)", i == 0 ? "; burst: " : ", ", json_get_string(src, "node", "?"),
                        json_get_string(src, "source", "?"), json_get_string(src, "status", "?"));
        }
        int64_t more = json_get_int(sources, "warn", 0) + json_get_int(sources, "crit", 0) - listed;
        if (listed > 0 && more > 0)
                fprintf(f, " and %" PRId64 " more", more);
        unknown = json_get_int(sources, "unknown", 0);
        if (unknown > 0)
                fprintf(f, "; %" PRId64 " unreadable", unknown);
        fputc('\n', f);
}

/*
 * One line per UFS root the agents look at, saying whose problem a failure is:
 * "ufs: s3://b/p reachable from 3 of 3 nodes",
 * "ufs: s3://b/p failing from all 3 nodes: a cluster problem (NoSuchBucket: ...)",
 * "ufs: s3://b/p failing from 1 of 3 nodes: a problem of node-b (AccessDenied: ...)".
 */
static void print_ufs(json_object *cluster, FILE *f) {
        json_object *roots = ctl_get_array(cluster, "ufs");
        size_t n = roots ? json_object_array_length(roots) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *u = json_object_array_get_idx(roots, i),
                            *nodes = ctl_get_array(u, "failing_nodes");
                int64_t total = json_get_int(u, "nodes", 0), failing = json_get_int(u, "failing", 0),
                        slow = json_get_int(u, "slow", 0);
                const char *target = json_get_string(u, "target", "?"),
                           *scope = json_get_string(u, "scope", "");

                if (failing == 0) {
                        fprintf(f, "ufs: %s reachable from %" PRId64 " of %" PRId64 " node%s", target, total,
                                total, ctl_plural(total));
                        if (slow > 0)
                                fprintf(f, " (%" PRId64 " slow)", slow);
                        fputc('\n', f);
                        continue;
                }
                if (streq(scope, "cluster") && total == 1)
                        fprintf(f, "ufs: %s failing from the only node: a cluster problem", target);
                else if (streq(scope, "cluster"))
                        fprintf(f, "ufs: %s failing from all %" PRId64 " nodes: a cluster problem", target,
                                total);
                else {
                        fprintf(f, "ufs: %s failing from %" PRId64 " of %" PRId64 " nodes: a problem of ",
                                target, failing, total);
                        size_t listed = nodes ? json_object_array_length(nodes) : 0;
                        for (size_t k = 0; k < listed; k++)
                                fprintf(f, "%s%s", k ? ", " : "",
                                        json_object_get_string(json_object_array_get_idx(nodes, k)));
                        if ((int64_t)listed < failing)
                                fprintf(f, " and %" PRId64 " more", failing - (int64_t)listed);
                }
                const char *msg = json_get_string(u, "message", ""), *after = startswith(msg, target);
                /* the check's message names the UFS, which the line already did */
                if (after && startswith(after, ": "))
                        msg = after + 2;
                if (*msg)
                        fprintf(f, " (%s)", msg);
                fputc('\n', f);
        }
}

/* " (S3 503, S3 500, ...)": the UFS and code of the first three unexpected errors (highest first). */
static void print_error_codes(json_object *errors, FILE *f) {
        size_t n = errors ? json_object_array_length(errors) : 0, shown = 0;

        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(errors, i);
                const char *ufs = json_get_string(e, "ufs", "");
                if (json_object_get_boolean(json_object_object_get(e, "expected")))
                        continue;
                if (shown == 3) {
                        fputs(", ...", f);
                        break;
                }
                fprintf(f, "%s%s%s%s", shown == 0 ? " (" : ", ", ufs, isempty(ufs) ? "" : " ",
                        json_get_string(e, "error_code", "?"));
                shown++;
        }
        if (shown > 0)
                fputc(')', f);
}

/* " (day -2.1 pts, week +0.4 pts*)": the hit rate's changes the collector could compute. */
static void print_hit_rate_changes(json_object *comparisons, FILE *f) {
        static const char *const windows[] = {"day", "week"};
        json_object *hit = ctl_get_object(comparisons, "hit_rate");
        size_t shown = 0;

        for (size_t i = 0; i < ELEMENTSOF(windows); i++) {
                json_object *c = ctl_get_object(hit, windows[i]);
                double pts;
                if (!ctl_get_number(c, "change_pts", &pts))
                        continue;
                fprintf(f, "%s%s %+.1f pts%s", shown == 0 ? " (" : ", ", windows[i], pts,
                        json_object_get_boolean(json_object_object_get(c, "significant")) ? "*" : "");
                shown++;
        }
        if (shown > 0)
                fputc(')', f);
}

/*
 * "metrics: 1250 req/s, hit rate 87.5 % (day -2.1 pts, week +0.4 pts), UFS 120 MB/s read,
 * 3 errors/s (S3 503)", from the metrics checks of the fresh nodes; nothing when no agent sends
 * metrics. A significant change is marked with '*'.
 */
static void print_metrics(json_object *cluster, FILE *f) {
        json_object *metrics = ctl_get_object(cluster, "metrics"), *cur = ctl_get_object(metrics, "current");
        char a[64], b[64];
        double hit, write = 0, errors = 0;

        if (json_get_int(cur, "endpoints", 0) == 0)
                return;
        fprintf(f, "metrics: %s req/s",
                ctl_format_number(a, sizeof(a), json_get_double(cur, "requests_per_s", 0)));
        if (ctl_get_number(cur, "hit_rate", &hit)) {
                fprintf(f, ", hit rate %.1f %%", hit * 100);
                print_hit_rate_changes(ctl_get_object(metrics, "comparisons"), f);
        } else
                fputs(", nothing read", f);
        fprintf(f, ", UFS %s read",
                ctl_format_bytes_per_s(a, sizeof(a), json_get_double(cur, "ufs_read_bytes_per_s", 0)));
        if (ctl_get_number(cur, "ufs_write_bytes_per_s", &write) && write > 0)
                fprintf(f, ", %s write", ctl_format_bytes_per_s(b, sizeof(b), write));
        if (ctl_get_number(cur, "ufs_errors_per_s", &errors) && errors > 0) {
                fprintf(f, ", %s errors/s", ctl_format_number(a, sizeof(a), errors));
                print_error_codes(ctl_get_array(cur, "ufs_errors"), f);
        } else
                fputs(", no UFS errors", f);
        fputc('\n', f);
}

static void print_families(json_object *cluster, FILE *f) {
        static const char *const heads[] = {"OK", "WARN", "CRIT", "UNKNOWN"};
        json_object *families = ctl_get_array(cluster, "families");
        size_t n = families ? json_object_array_length(families) : 0, w = strlen("FAMILY");

        if (n == 0)
                return;
        for (size_t i = 0; i < n; i++)
                w = MAX(w, strlen(json_get_string(json_object_array_get_idx(families, i), "family", "?")));
        fprintf(f, "\n%-*s", (int)w, "FAMILY");
        for (size_t c = 0; c < ELEMENTSOF(heads); c++)
                fprintf(f, "  %*s", (int)MAX(strlen(heads[c]), 4u), heads[c]);
        fputc('\n', f);
        for (size_t i = 0; i < n; i++) {
                json_object *fam = json_object_array_get_idx(families, i);
                fprintf(f, "%-*s", (int)w, json_get_string(fam, "family", "?"));
                for (size_t c = 0; c < ELEMENTSOF(heads); c++)
                        fprintf(f, "  %*" PRId64, (int)MAX(strlen(heads[c]), 4u),
                                json_get_int(fam, status_keys[c], 0));
                fputc('\n', f);
        }
}

static int compare_nodes(const void *a, const void *b) {
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
        int d = ctl_status_compare(json_get_string(x, "status", NULL), json_get_string(y, "status", NULL));
        return d ?: strcmp(json_get_string(x, "name", ""), json_get_string(y, "name", ""));
}

static int print_failing_nodes(json_object *cluster, unsigned max_nodes, bool color, FILE *f) {
        json_object *nodes = ctl_get_array(cluster, "nodes");
        size_t n = nodes ? json_object_array_length(nodes) : 0, nfailing = 0, shown, wname = 0, wtarget = 0;
        _cleanup_(freep) json_object **v = calloc(n ?: 1, sizeof(json_object *));

        if (!v)
                return -ENOMEM;
        /* With ?failing=1 the collector already left out what is OK; filter anyway so that a
         * full document renders the same screen. */
        for (size_t i = 0; i < n; i++) {
                json_object *node = json_object_array_get_idx(nodes, i);
                if (!is_ok(node))
                        v[nfailing++] = node;
        }
        if (nfailing == 0) {
                if (ctl_cluster_status(cluster) == VIGIL_OK)
                        fprintf(f, "\nno failing nodes\n");
                return 0;
        }
        qsort(v, nfailing, sizeof(json_object *), compare_nodes);
        shown = max_nodes > 0 ? MIN(nfailing, (size_t)max_nodes) : nfailing;

        for (size_t i = 0; i < shown; i++) {
                json_object *checks = ctl_get_array(v[i], "checks");
                for (size_t j = 0; checks && j < json_object_array_length(checks); j++) {
                        json_object *c = json_object_array_get_idx(checks, j);
                        if (is_ok(c))
                                continue;
                        wname = MAX(wname, strlen(json_get_string(c, "name", "")));
                        wtarget = MAX(wtarget, strlen(json_get_string(c, "target", "")));
                }
        }

        fprintf(f, "\nfailing nodes:\n");
        for (size_t i = 0; i < shown; i++) {
                json_object *checks = ctl_get_array(v[i], "checks");
                char age[64];

                ctl_format_age(age, sizeof(age), json_get_double(v[i], "last_report_age_s", -1));
                fprintf(f, "%s: ", json_get_string(v[i], "name", "?"));
                ctl_print_status(f, json_get_string(v[i], "status", NULL), 0, color);
                fprintf(f, " (%slast report %s)\n",
                        json_object_get_boolean(json_object_object_get(v[i], "stale")) ? "stale, " : "",
                        age);
                for (size_t j = 0; checks && j < json_object_array_length(checks); j++) {
                        json_object *c = json_object_array_get_idx(checks, j);
                        if (is_ok(c))
                                continue;
                        fprintf(f, "    ");
                        ctl_print_status(f, json_get_string(c, "status", NULL), 7, color);
                        fprintf(f, "  %-*s  %-*s  %s\n", (int)wname, json_get_string(c, "name", ""),
                                (int)wtarget, json_get_string(c, "target", ""),
                                json_get_string(c, "message", ""));
                }
        }
        if (shown < nfailing)
                fprintf(f,
                        "... and %zu more failing node%s (--limit 0 lists all, `vigilctl nodes` has a "
                        "table)\n",
                        nfailing - shown, nfailing - shown == 1 ? "" : "s");
        return 0;
}

int ctl_status_render(json_object *cluster, unsigned max_nodes, bool color, FILE *f) {
        int status = ctl_cluster_status(cluster), r;

        if (status < 0)
                return status;
        print_verdict(cluster, color, f);
        print_agents(cluster, f);
        print_csi(cluster, f);
        print_etcd(cluster, color, f);
        print_logs(cluster, f);
        print_metrics(cluster, f);
        print_ufs(cluster, f);
        print_families(cluster, f);
        r = print_failing_nodes(cluster, max_nodes, color, f);
        return r < 0 ? r : status;
}
