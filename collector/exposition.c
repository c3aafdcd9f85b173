/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>

#include "exposition.h"

static const char *const status_labels[_VIGIL_STATUS_MAX] = {
        [VIGIL_OK] = "ok", [VIGIL_WARN] = "warn", [VIGIL_CRIT] = "crit", [VIGIL_UNKNOWN] = "unknown"};

/* "# HELP" and "# TYPE" of a gauge; help is plain text (no backslash, no newline). */
static void family(FILE *f, const char *name, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The shortest text that reads back as v (Prometheus parses it with Go's ParseFloat). */
static void print_value(FILE *f, double v) {
        char buf[32];

        if (isnan(v)) {
                fputs("NaN", f);
                return;
        }
        if (isinf(v)) {
                fputs(v > 0 ? "+Inf" : "-Inf", f);
                return;
        }
        for (int precision = 15; precision <= 17; precision++) {
                snprintf(buf, sizeof(buf), "%.*g", precision, v);
                if (strtod(buf, NULL) == v)
                        break;
        }
        fputs(buf, f);
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
        size_t len;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0)
                len = 2, cp = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, cp = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and what lies beyond Unicode are not UTF-8. */
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return len;
}

/* A label value in quotes: \, " and newline escaped, bytes that are not UTF-8 replaced by U+FFFD. */
static void print_label_value(FILE *f, const char *v) {
        const unsigned char *p = (const unsigned char *)v;
        size_t n = strlen(v);

        fputc('"', f);
        while (n > 0) {
                size_t len = utf8_sequence(p, n);
                if (len == 0) {
                        fputs("\xef\xbf\xbd", f);
                        len = 1;
                } else if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '"')
                        fputs("\\\"", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else
                        fwrite(p, 1, len, f);
                p += len;
                n -= len;
        }
        fputc('"', f);
}

/* name{label="value",...} v, with n_labels label pairs (names, values). */
static void sample(FILE *f, const char *name, size_t n_labels, const char *const *labels, double v) {
        fputs(name, f);
        for (size_t i = 0; i < n_labels; i++) {
                fprintf(f, "%s%s=", i == 0 ? "{" : ",", labels[2 * i]);
                print_label_value(f, labels[2 * i + 1]);
        }
        fputs(n_labels > 0 ? "} " : " ", f);
        print_value(f, v);
        fputc('\n', f);
}

static void gauge(FILE *f, const char *name, const char *help, double v) {
        family(f, name, help);
        sample(f, name, 0, NULL, v);
}

/* The checks of a family: a name that is not NUL-terminated, and counts. */
static void checks_family(FILE *f, const char *name, size_t len, const unsigned count[_VIGIL_STATUS_MAX]) {
        char *family_name = strndupa(name, len);
        for (int k = 0; k < _VIGIL_STATUS_MAX; k++)
                sample(f, "vigil_checks", 2,
                        (const char *const[]){"family", family_name, "status", status_labels[k]}, count[k]);
}

/* name[0..len) against "etcd", in the order of the summary's families (bytes, then length). */
static int compare_with_etcd(const char *name, size_t len) {
        return memcmp(name, "etcd", MIN(len, (size_t)4)) ?: (len > 4) - (len < 4);
}

/*
 * vigil_checks: the summary's check families, and the etcd checks under family "etcd" (added to
 * the nodes' etcd.* checks, if any agent sends such, so that no series appears twice).
 */
static void print_checks(FILE *f, const ClusterSummary *s, const EtcdSummary *etcd) {
        bool etcd_pending = etcd && etcd->checked;

        family(f, "vigil_checks",
                "Checks per family and status: the fresh nodes' checks, the collector's etcd checks, and "
                "per node one agent check, CRIT when the node is stale.");
        for (size_t i = 0; i < s->n_check_families; i++) {
                const FamilyCount *fc = &s->check_families[i];
                unsigned count[_VIGIL_STATUS_MAX];
                int d = etcd_pending ? compare_with_etcd(fc->name, fc->len) : -1;

                if (d > 0) {
                        checks_family(f, "etcd", 4, etcd->checks);
                        etcd_pending = false;
                }
                memcpy(count, fc->count, sizeof(count));
                if (d == 0) {
                        for (int k = 0; k < _VIGIL_STATUS_MAX; k++)
                                count[k] += etcd->checks[k];
                        etcd_pending = false;
                }
                checks_family(f, fc->name, fc->len, count);
        }
        if (etcd_pending)
                checks_family(f, "etcd", 4, etcd->checks);
}

static void print_etcd(FILE *f, const EtcdSummary *etcd, int64_t now_ms) {
        gauge(f, "vigil_etcd_members_ready", "etcd members that answer.", etcd->ready);
        gauge(f, "vigil_etcd_members_expected", "etcd members configured or listed.", etcd->expected);
        gauge(f, "vigil_etcd_quorum", "1 when a quorum of etcd members answers, else 0.", etcd->quorum);
        gauge(f, "vigil_etcd_outage_seconds", "How long etcd has been unavailable (0 when it is available).",
                etcd->outage_since_ms > 0 ? (double)MAX(now_ms - etcd->outage_since_ms, (int64_t)0) / 1000
                                          : 0);
}

static int compare_codes(const void *a, const void *b) {
        return strcmp(((const MetricUfsError *)a)->error_code, ((const MetricUfsError *)b)->error_code);
}

/* vigil_cluster_ufs_errors_per_second{error_code}: the unexpected errors, summed per code. */
static int print_ufs_errors(FILE *f, const MetricsSummary *m) {
        _cleanup_(freep) MetricUfsError *by_code = calloc(m->n_ufs_errors ?: 1, sizeof(MetricUfsError));
        size_t n = 0;

        if (!by_code)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_ufs_errors; i++) {
                const MetricUfsError *e = &m->ufs_errors[i];
                size_t j;
                if (e->expected)
                        continue;
                for (j = 0; j < n; j++)
                        if (streq(by_code[j].error_code, e->error_code))
                                break;
                if (j == n)
                        by_code[n++] = (MetricUfsError){.error_code = e->error_code};
                by_code[j].per_s += e->per_s;
        }
        qsort(by_code, n, sizeof(MetricUfsError), compare_codes);
        family(f, "vigil_cluster_ufs_errors_per_second",
                "UFS errors per second not marked expected, summed over the fresh nodes and their UFSes.");
        for (size_t i = 0; i < n; i++)
                sample(f, "vigil_cluster_ufs_errors_per_second", 1,
                        (const char *const[]){"error_code", by_code[i].error_code}, by_code[i].per_s);
        return 0;
}

static int print_metrics(FILE *f, const NodeRef *refs, size_t n, const MetricsSummary *m) {
        bool any = m->endpoints > 0;
        double ratio;

        family(f, "vigil_cluster_hit_ratio",
                "Sum of cached read rates / (sum of cached + sum of UFS read rates) over the fresh nodes; "
                "absent when nothing was read.");
        if (metric_values_hit_ratio(&m->total, &ratio))
                sample(f, "vigil_cluster_hit_ratio", 0, NULL, ratio);
        family(f, "vigil_node_hit_ratio",
                "Cached read rate / (cached + UFS read rate) of a fresh node; absent when it read nothing.");
        for (size_t i = 0; i < n; i++)
                if (!refs[i].stale && metric_values_hit_ratio(&refs[i].view->metrics, &ratio))
                        sample(f, "vigil_node_hit_ratio", 1,
                                (const char *const[]){"node", refs[i].view->report->node}, ratio);
        family(f, "vigil_cluster_requests_per_second",
                "Workers' request rate summed over the fresh nodes; absent when no node sends metrics.");
        if (any)
                sample(f, "vigil_cluster_requests_per_second", 0, NULL, m->total.v[METRIC_REQUESTS]);
        family(f, "vigil_cluster_ufs_read_bytes_per_second",
                "Bytes read from the UFS per second, summed over the fresh nodes.");
        if (any)
                sample(f, "vigil_cluster_ufs_read_bytes_per_second", 0, NULL,
                        m->total.v[METRIC_UFS_READ_BYTES]);
        family(f, "vigil_cluster_ufs_write_bytes_per_second",
                "Bytes written to the UFS per second, summed over the fresh nodes.");
        if (any)
                sample(f, "vigil_cluster_ufs_write_bytes_per_second", 0, NULL,
                        m->total.v[METRIC_UFS_WRITE_BYTES]);
        return print_ufs_errors(f, m);
}

/* vigil_ufs_nodes{ufs} and vigil_ufs_failing_nodes{ufs}: per UFS root (at most CLUSTER_UFS_ROOTS) the
 * verdict of `vigilctl status`: failing from all its nodes is a cluster problem, from some theirs. */
static void print_ufs(FILE *f, const UfsSummary *u) {
        family(f, "vigil_ufs_nodes", "Fresh nodes that look at the UFS root (check ufs.reachability).");
        for (size_t i = 0; i < u->n; i++)
                sample(f, "vigil_ufs_nodes", 1, (const char *const[]){"ufs", u->roots[i].target},
                        u->roots[i].nodes);
        family(f, "vigil_ufs_failing_nodes",
                "Of those, the nodes that cannot reach it: all of them is a cluster problem, some a problem "
                "of those nodes.");
        for (size_t i = 0; i < u->n; i++)
                sample(f, "vigil_ufs_failing_nodes", 1, (const char *const[]){"ufs", u->roots[i].target},
                        u->roots[i].failing);
}

int exposition_render(const NodeRef *refs, size_t n, const ClusterSummary *s, const EtcdSummary *etcd,
        int64_t now_ms, char **ret, size_t *ret_size) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        int r;

        if (!f)
                return -ENOMEM;
        family(f, "vigil_collector_info", "The collector's version; always 1.");
        sample(f, "vigil_collector_info", 1, (const char *const[]){"version", VIGIL_VERSION}, 1);
        family(f, "vigil_nodes", "Nodes per status; a stale node is CRIT.");
        for (int k = 0; k < _VIGIL_STATUS_MAX; k++)
                sample(f, "vigil_nodes", 1, (const char *const[]){"status", status_labels[k]},
                        s->by_status[k]);
        family(f, "vigil_node_status",
                "A node's status: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN; a stale node is CRIT.");
        for (size_t i = 0; i < n; i++)
                sample(f, "vigil_node_status", 1, (const char *const[]){"node", refs[i].view->report->node},
                        node_ref_status(&refs[i]));
        gauge(f, "vigil_agents_ready", "Agents whose last report is within the stale window.", s->ready);
        gauge(f, "vigil_agents_expected", "Agents the collector knows (every node that ever reported).",
                s->expected);
        print_checks(f, s, etcd);
        if (etcd && etcd->checked)
                print_etcd(f, etcd, now_ms);
        gauge(f, "vigil_log_errors_last_hour",
                "Log errors of the last hour, summed over the fresh nodes' log sources.",
                s->logs.errors_last_hour);
        gauge(f, "vigil_log_warnings_last_hour",
                "Log warnings of the last hour, summed over the fresh nodes' log sources.",
                s->logs.warnings_last_hour);
        r = print_metrics(f, refs, n, &s->metrics);
        print_ufs(f, &s->ufs);
        if (fclose(f) != 0 || r < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int exposition_cluster(Cluster *c, const EtcdSummary *etcd, int64_t now_ms, char **ret, size_t *ret_size) {
        ClusterSummary s = {};
        NodeRef *refs = NULL;
        size_t n = 0;
        int r;

        r = cluster_snapshot_summary(c, &refs, &n, &s);
        if (r < 0)
                return r;
        r = exposition_render(refs, n, &s, etcd, now_ms, ret, ret_size);
        cluster_summary_done(&s);
        node_refs_free(refs, n);
        return r;
}
