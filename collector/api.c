/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <json-c/printbuf.h>
#include <math.h>

#include "api.h"
#include "config.h"
#include "json-util.h"

/* A number with one decimal ("1.2", not json-c's shortest round-trip "1.2000000000000002"). */
static double age_s(const NodeView *v, usec_t now_mono) {
        return now_mono > v->last_seen_mono ? (double)(now_mono - v->last_seen_mono) / USEC_PER_SEC : 0.0;
}

/* json_object_object_add() that reports OOM of the value. */
static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int append(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *new_string_len(const char *s, size_t len) {
        return json_object_new_string_len(s, (int)MIN(len, (size_t)INT32_MAX));
}

/* The synthetic check shown first for a stale node. */
static json_object *stale_check_json(const NodeRef *ref, usec_t now_mono) {
        char msg[64];
        snprintf(msg, sizeof(msg), "no report for %u s", (unsigned)age_s(ref->view, now_mono));
        Vigil__CheckResult c = VIGIL__CHECK_RESULT__INIT;
        c.name = (char *)"agent.report";
        c.target = (char *)"";
        c.status = VIGIL__STATUS__STATUS_CRIT;
        c.message = msg;
        return check_result_to_json(&c);
}

/*
 * A fresh node's checks array is its view's cached rendering (made by json-c, see
 * node_view_checks_json()), spliced in as is: the answer holds a stand-in object whose serializer
 * writes that text, and which keeps a reference to the view so the text lives as long as the answer.
 */
static int cached_checks_serializer(json_object *o, struct printbuf *pb, int level, int flags) {
        const RenderedJson *s = node_view_checks_json(json_object_get_userdata(o));
        return s ? printbuf_memappend(pb, s->text, (int)s->len) : -1;
}

static void cached_checks_delete(json_object *o, void *userdata) {
        node_view_unref(userdata);
}

typedef struct StaleChecks {
        NodeView *view;
        json_object *agent_check;
} StaleChecks;

/* A stale node's checks: the synthetic agent.report check, then the view's cached array. */
static int stale_checks_serializer(json_object *o, struct printbuf *pb, int level, int flags) {
        StaleChecks *sc = json_object_get_userdata(o);
        const RenderedJson *s = node_view_checks_json(sc->view);
        size_t len;
        const char *agent = json_object_to_json_string_length(sc->agent_check, flags, &len);

        if (!s || !agent || s->len < 2)
                return -1;
        printbuf_memappend(pb, "[", 1);
        printbuf_memappend(pb, agent, (int)len);
        if (s->len > 2) /* not "[]": continue with its elements */
                printbuf_memappend(pb, ",", 1);
        return printbuf_memappend(pb, s->text + 1, (int)s->len - 1);
}

static void stale_checks_delete(json_object *o, void *userdata) {
        StaleChecks *sc = userdata;
        node_view_unref(sc->view);
        json_object_put(sc->agent_check);
        free(sc);
}

/*
 * The checks array of a node. Unless only failing checks are wanted, it is the view's cached
 * rendering spliced in as is (behind the agent.report check for a stale node), so that an answer
 * over thousands of nodes costs a copy per node rather than thousands of json-c objects.
 */
static int node_checks_json(const NodeRef *ref, bool failing_only, usec_t now_mono, json_object **ret) {
        const Vigil__NodeReport *report = ref->view->report;
        _cleanup_json_ json_object *a = NULL;
        int r;

        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        if (!failing_only) {
                if (!node_view_checks_json(ref->view))
                        return -ENOMEM;
                if (!ref->stale) {
                        json_object_set_serializer(
                                a, cached_checks_serializer, node_view_ref(ref->view), cached_checks_delete);
                        *ret = TAKE_PTR(a);
                        return 0;
                }
                StaleChecks *sc = calloc(1, sizeof(StaleChecks));
                if (!sc)
                        return -ENOMEM;
                sc->agent_check = stale_check_json(ref, now_mono);
                if (!sc->agent_check) {
                        free(sc);
                        return -ENOMEM;
                }
                sc->view = node_view_ref(ref->view);
                json_object_set_serializer(a, stale_checks_serializer, sc, stale_checks_delete);
                *ret = TAKE_PTR(a);
                return 0;
        }
        if (ref->stale) {
                r = append(a, stale_check_json(ref, now_mono));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < report->n_checks; i++) {
                if (vigil_status_from_proto(report->checks[i]->status) == VIGIL_OK)
                        continue;
                r = append(a, check_result_to_json(report->checks[i]));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int add_common_node_fields(json_object *o, const NodeRef *ref, usec_t now_mono) {
        int r;
        r = add(o, "name", json_object_new_string(ref->view->report->node));
        if (r >= 0)
                r = add(o, "status", json_object_new_string(vigil_status_to_string(node_ref_status(ref))));
        if (r >= 0)
                r = add(o, "last_report_age_s", json_new_double_digits(age_s(ref->view, now_mono), 1));
        if (r >= 0)
                r = add(o, "stale", json_object_new_boolean(ref->stale));
        return r;
}

static int cluster_message(const ClusterSummary *s, char *buf, size_t size) {
        if (s->expected == 0)
                return snprintf(buf, size, "no agent has reported");
        if (s->status == VIGIL_OK)
                return s->expected == 1 ? snprintf(buf, size, "the node is OK")
                                        : snprintf(buf, size, "all %u nodes OK", s->expected);
        return snprintf(buf, size, "%u of %u node%s %s", s->by_status[s->status], s->expected,
                s->expected == 1 ? "" : "s", vigil_status_to_string(s->status));
}

static const char *const status_keys[_VIGIL_STATUS_MAX] = {
        [VIGIL_OK] = "ok", [VIGIL_WARN] = "warn", [VIGIL_CRIT] = "crit", [VIGIL_UNKNOWN] = "unknown"};

/* "ok": N, "warn": N, "crit": N, "unknown": N into o. */
static int add_status_counts(json_object *o, const unsigned count[_VIGIL_STATUS_MAX]) {
        int r = 0;
        for (int k = 0; r >= 0 && k < _VIGIL_STATUS_MAX; k++)
                r = add(o, status_keys[k], json_object_new_int64(count[k]));
        return r;
}

/* "logs": the logs.errors checks of the fresh nodes (docs/api.md). */
static int logs_summary_json(const LogsSummary *l, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *sources = json_object_new_object(),
                                   *failing = json_object_new_array();
        int r = o && sources && failing ? 0 : -ENOMEM;

        if (r >= 0)
                r = add_status_counts(sources, l->by_status);
        if (r >= 0)
                r = add(o, "sources", TAKE_PTR(sources));
        if (r >= 0)
                r = add(o, "errors_last_hour", json_object_new_uint64(l->errors_last_hour));
        if (r >= 0)
                r = add(o, "warnings_last_hour", json_object_new_uint64(l->warnings_last_hour));
        for (size_t i = 0; r >= 0 && i < l->n_failing; i++) {
                json_object *f = json_object_new_object();
                r = append(failing, f);
                if (r >= 0)
                        r = add(f, "node", json_object_new_string(l->failing[i].node));
                if (r >= 0)
                        r = add(f, "source", json_object_new_string(l->failing[i].source));
                if (r >= 0)
                        r = add(f, "status",
                                json_object_new_string(vigil_status_to_string(l->failing[i].status)));
        }
        if (r >= 0)
                r = add(o, "failing", TAKE_PTR(failing));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* "ufs": per UFS root, from how many fresh nodes it is reachable, and whose problem it is. */
static int ufs_summary_json(const UfsSummary *u, json_object **ret) {
        _cleanup_json_ json_object *a = json_object_new_array();
        int r = a ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < u->n; i++) {
                const UfsRootSummary *x = &u->roots[i];
                json_object *o = json_object_new_object(), *nodes = json_object_new_array();
                r = append(a, o);
                if (r >= 0 && !nodes)
                        r = -ENOMEM;
                if (r >= 0)
                        r = add(o, "target", json_object_new_string(x->target));
                if (r >= 0)
                        r = add(o, "nodes", json_object_new_int64(x->nodes));
                if (r >= 0)
                        r = add(o, "failing", json_object_new_int64(x->failing));
                if (r >= 0)
                        r = add(o, "slow", json_object_new_int64(x->slow));
                if (r >= 0)
                        r = add(o, "scope", json_object_new_string(ufs_scope_to_string(ufs_root_scope(x))));
                for (unsigned k = 0; r >= 0 && k < MIN(x->failing, (unsigned)CLUSTER_UFS_NODES_LISTED); k++)
                        r = append(nodes, json_object_new_string(x->failing_nodes[k]));
                if (r >= 0)
                        r = add(o, "failing_nodes", TAKE_PTR(nodes));
                else
                        json_object_put(nodes);
                if (r >= 0 && x->failing > 0)
                        r = add(o, "error_code", json_object_new_string(x->error_code));
                if (r >= 0 && x->failing > 0)
                        r = add(o, "message", json_object_new_string(x->message));
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

/* Everything of the /v1/cluster answer but "nodes", in the order docs/api.md shows. */
/* "csi": the csi.probe checks of the fresh nodes, counted like ready pods. */
static int csi_json(const ClusterSummary *s, json_object **ret) {
        json_object *o = json_object_new_object();
        int r = o ? 0 : -ENOMEM;
        if (r >= 0)
                r = add(o, "ready", json_object_new_int64(s->csi_ready));
        if (r >= 0)
                r = add(o, "expected", json_object_new_int64(s->csi_expected));
        if (r >= 0)
                r = add(o, "percent",
                        json_new_double_digits(
                                s->csi_expected ? 100.0 * s->csi_ready / (double)s->csi_expected : 0.0, 1));
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

/* "etcd": the etcd monitor's summary (docs/api.md). */
static int etcd_json(const EtcdSummary *e, json_object **ret) {
        json_object *o = json_object_new_object(), *m = json_object_new_object(),
                    *w = json_object_new_object();
        int r = o && m && w ? 0 : -ENOMEM;
        if (r >= 0)
                r = add(o, "status",
                        json_object_new_string(
                                vigil_status_to_string(e->checked ? e->status : VIGIL_UNKNOWN)));
        if (r >= 0)
                r = add(m, "ready", json_object_new_int64(e->ready));
        if (r >= 0)
                r = add(m, "expected", json_object_new_int64(e->expected));
        if (r >= 0)
                r = add(m, "percent", json_object_new_int64(e->percent));
        if (r >= 0)
                r = add(o, "members", m), m = NULL;
        if (r >= 0)
                r = add(o, "quorum", json_object_new_boolean(e->quorum));
        if (r >= 0)
                r = add(o, "leader", json_object_new_string(e->leader));
        if (r >= 0)
                r = add(w, "live", json_object_new_int64(e->live));
        if (r >= 0)
                r = add(w, "registered", json_object_new_int64(e->registered));
        if (r >= 0)
                r = add(w, "failed", json_object_new_int64(e->failed));
        if (r >= 0)
                r = add(o, "workers", w), w = NULL;
        if (r >= 0)
                r = add(o, "message", json_object_new_string(e->checked ? e->message : "not checked yet"));
        json_object_put(m);
        json_object_put(w);
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        *ret = o;
        return 0;
}

/* ---- metrics (docs/api.md, GET /v1/metrics and the "metrics" of /v1/cluster) ---- */

/* key: v, or null when there is no value (json-c would write a NaN as is: not JSON). */
static int add_double(json_object *o, const char *key, bool has, double v) {
        if (!has || !isfinite(v))
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return add(o, key, json_object_new_double(v));
}

/* "current": the rates of the metrics checks summarized in m (docs/api.md). */
static int metrics_current_json(const MetricsSummary *m, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *ops = json_object_new_array(),
                                   *errors = json_object_new_array(), *missing = json_object_new_array();
        double ratio;
        int r = o && ops && errors && missing ? 0 : -ENOMEM;

        if (r >= 0)
                r = add(o, "nodes", json_object_new_int64(m->nodes));
        if (r >= 0)
                r = add(o, "endpoints", json_object_new_int64(m->endpoints));
        for (MetricSeries k = 0; r >= 0 && k < _METRIC_SERIES_MAX; k++)
                r = add_double(o, metric_series_name(k), true, m->total.v[k]);
        bool has_ratio = metric_values_hit_ratio(&m->total, &ratio);
        if (r >= 0)
                r = add_double(o, "hit_rate", has_ratio, ratio);
        for (size_t i = 0; r >= 0 && i < m->n_fuse_ops; i++) {
                json_object *op = json_object_new_object();
                r = append(ops, op);
                if (r >= 0)
                        r = add(op, "operation", json_object_new_string(m->fuse_ops[i].key));
                if (r >= 0)
                        r = add_double(op, "per_s", true, m->fuse_ops[i].per_s);
        }
        if (r >= 0)
                r = add(o, "fuse_ops", TAKE_PTR(ops));
        for (size_t i = 0; r >= 0 && i < m->n_ufs_errors; i++) {
                json_object *e = json_object_new_object();
                r = append(errors, e);
                if (r >= 0)
                        r = add(e, "ufs", json_object_new_string(m->ufs_errors[i].ufs));
                if (r >= 0)
                        r = add(e, "error_code", json_object_new_string(m->ufs_errors[i].error_code));
                if (r >= 0)
                        r = add_double(e, "per_s", true, m->ufs_errors[i].per_s);
                if (r >= 0)
                        r = add(e, "expected", json_object_new_boolean(m->ufs_errors[i].expected));
        }
        if (r >= 0)
                r = add(o, "ufs_errors", TAKE_PTR(errors));
        for (size_t i = 0; r >= 0 && i < m->n_missing; i++)
                r = append(missing, json_object_new_string(m->missing[i]));
        if (r >= 0)
                r = add(o, "missing", TAKE_PTR(missing));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* {"change" (or change_key): x, "significant": b}, or null when c is not comparable. */
static int add_change(json_object *o, const char *key, const char *change_key, const MetricChange *c) {
        json_object *v;
        int r;

        if (!c->comparable)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        r = add(o, key, v = json_object_new_object());
        if (r >= 0)
                r = add_double(v, change_key, true, c->change);
        if (r >= 0)
                r = add(v, "significant", json_object_new_boolean(c->significant));
        return r;
}

/* One series of "comparisons" into o: the windows' values, then the day and week changes. */
static int add_comparison(json_object *o, const MetricWindow w[_METRIC_WINDOW_MAX],
        const MetricsSettings *settings, MetricSeries series, bool hit_rate) {
        MetricChange day, week;
        int r = 0;

        for (MetricWindowKind k = 0; r >= 0 && k < _METRIC_WINDOW_MAX; k++) {
                double v;
                bool has = hit_rate ? metric_window_hit_ratio(&w[k], &v)
                                    : metric_window_mean(&w[k], series, &v);
                r = add_double(o, metric_window_name(k), has, v);
        }
        if (hit_rate) {
                day = metrics_compare_hit_ratio(settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_DAY_AGO]);
                week = metrics_compare_hit_ratio(
                        settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_WEEK_AGO]);
        } else {
                day = metrics_compare(settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_DAY_AGO], series);
                week = metrics_compare(settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_WEEK_AGO], series);
        }
        if (r >= 0)
                r = add_change(o, "day", hit_rate ? "change_pts" : "change", &day);
        if (r >= 0)
                r = add_change(o, "week", hit_rate ? "change_pts" : "change", &week);
        return r;
}

static int comparison_json(const MetricWindow w[_METRIC_WINDOW_MAX], const MetricsSettings *settings,
        MetricSeries series, bool hit_rate, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = add_comparison(o, w, settings, series, hit_rate);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* "breakdowns": the keys of each breakdown, their current rate and their comparison (docs/api.md). */
static int breakdowns_json(const MetricBreakdown b[_METRIC_LABEL_SERIES_MAX],
        const MetricsSettings *settings, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r = o ? 0 : -ENOMEM;

        for (MetricLabelSeries l = 0; r >= 0 && l < _METRIC_LABEL_SERIES_MAX; l++) {
                json_object *keys = json_object_new_array();
                r = add(o, metric_label_series_name(l), keys);
                for (size_t i = 0; r >= 0 && i < b[l].n_keys; i++) {
                        const MetricKeyWindows *x = &b[l].keys[i];
                        json_object *k = json_object_new_object();
                        r = append(keys, k);
                        if (r >= 0)
                                r = add(k, "key", json_object_new_string(x->key));
                        if (r >= 0)
                                r = add_double(k, "now", true, x->now);
                        if (r >= 0)
                                r = add_comparison(k, x->w, settings, metric_label_series_total(l), false);
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static void metric_breakdowns_done(MetricBreakdown (*b)[_METRIC_LABEL_SERIES_MAX]) {
        for (size_t l = 0; l < _METRIC_LABEL_SERIES_MAX; l++)
                metric_breakdown_done(&(*b)[l]);
}

/* The breakdowns of node from the store, with the current rates of m. */
static int query_breakdowns(Store *s, const char *node, const MetricsSummary *m,
        MetricWindow w[_METRIC_WINDOW_MAX], MetricBreakdown b[_METRIC_LABEL_SERIES_MAX]) {
        int r;

        for (MetricLabelSeries l = 0; l < _METRIC_LABEL_SERIES_MAX; l++)
                b[l].series = l;
        r = store_query_metric_history(s, node, w, b);
        for (MetricLabelSeries l = 0; r >= 0 && l < _METRIC_LABEL_SERIES_MAX; l++) {
                _cleanup_(freep) MetricKeyRate *now = NULL;
                size_t n = 0;

                r = metrics_summary_key_rates(m, l, 0, &now, &n);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        r = metric_breakdown_set_now(&b[l], now[i].key, w, now[i].per_s);
                metric_breakdown_finish(&b[l]);
        }
        return r;
}

/* "windows" and "comparisons" of w into o; both null when w is NULL (no history yet). */
static int add_history(json_object *o, const MetricWindow *w, const MetricsSettings *settings) {
        _cleanup_json_ json_object *windows = NULL, *comparisons = NULL;
        int r;

        if (!w) {
                r = json_object_object_add(o, "windows", NULL);
                if (r >= 0)
                        r = json_object_object_add(o, "comparisons", NULL);
                return r < 0 ? -ENOMEM : 0;
        }
        windows = json_object_new_object();
        comparisons = json_object_new_object();
        r = windows && comparisons ? 0 : -ENOMEM;
        for (MetricWindowKind k = 0; r >= 0 && k < _METRIC_WINDOW_MAX; k++) {
                json_object *x = json_object_new_object();
                r = add(windows, metric_window_name(k), x);
                if (r >= 0)
                        r = add(x, "from_ms", json_object_new_int64(w[k].from_ms));
                if (r >= 0)
                        r = add(x, "to_ms", json_object_new_int64(w[k].to_ms));
                if (r >= 0)
                        r = add(x, "points", json_object_new_int64(w[k].points));
        }
        for (MetricSeries k = 0; r >= 0 && k <= _METRIC_SERIES_MAX; k++) {
                /* One more than the series: the hit rate, last. */
                bool hit_rate = k == _METRIC_SERIES_MAX;
                json_object *c = NULL;
                r = comparison_json(w, settings, hit_rate ? 0 : k, hit_rate, &c);
                if (r >= 0)
                        r = add(comparisons, hit_rate ? "hit_rate" : metric_series_name(k), c);
        }
        if (r >= 0)
                r = add(o, "windows", TAKE_PTR(windows));
        if (r >= 0)
                r = add(o, "comparisons", TAKE_PTR(comparisons));
        return r;
}

/* The "metrics" of /v1/cluster: current rates, and the cluster's history as last recorded. */
static int cluster_metrics_json(const MetricsSummary *m, MetricsHistory *h, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        MetricWindow w[_METRIC_WINDOW_MAX];
        json_object *current = NULL;
        bool have = h && metrics_history_cluster(h, w);
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = metrics_current_json(m, &current);
        if (r >= 0)
                r = add(o, "current", current);
        if (r >= 0)
                r = add_history(o, have ? w : NULL, h ? metrics_history_settings(h) : NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int cluster_head_json(const ClusterSummary *s, const EtcdSummary *etcd, MetricsHistory *metrics,
        int64_t now_ms, json_object **ret) {
        _cleanup_json_ json_object *o = NULL, *agents = NULL, *families = NULL;
        char msg[128];
        int r;

        o = json_object_new_object();
        agents = json_object_new_object();
        families = json_object_new_array_ext((int)s->n_families);
        if (!o || !agents || !families)
                return -ENOMEM;
        cluster_message(s, msg, sizeof(msg));
        VigilStatus status = s->status;
        if (etcd) {
                VigilStatus es = etcd->checked ? etcd->status : VIGIL_UNKNOWN;
                if (es != VIGIL_OK) {
                        size_t l = strlen(msg);
                        snprintf(msg + l, sizeof(msg) - l, "; etcd %s", vigil_status_to_string(es));
                }
                /* No agent yet but a healthy etcd is still "no agent": keep UNKNOWN over OK. */
                status = vigil_status_worst(status, es);
        }
        r = add(o, "cluster", json_object_new_string(s->cluster));
        if (r >= 0)
                r = add(o, "status", json_object_new_string(vigil_status_to_string(status)));
        if (r >= 0)
                r = add(o, "message", json_object_new_string(msg));
        if (r >= 0)
                r = add(o, "generated_at_ms", json_object_new_int64(now_ms));
        if (r >= 0)
                r = add(agents, "ready", json_object_new_int64(s->ready));
        if (r >= 0)
                r = add(agents, "expected", json_object_new_int64(s->expected));
        if (r >= 0)
                r = add(agents, "percent", json_new_double_digits(s->percent, 1));
        if (r >= 0)
                r = add(agents, "stale", json_object_new_int64(s->stale));
        if (r >= 0)
                r = add(o, "agents", TAKE_PTR(agents));
        for (size_t i = 0; r >= 0 && i < s->n_families; i++) {
                json_object *f = json_object_new_object();
                r = append(families, f);
                if (r >= 0)
                        r = add(f, "family", new_string_len(s->families[i].name, s->families[i].len));
                if (r >= 0)
                        r = add_status_counts(f, s->families[i].count);
        }
        if (r >= 0)
                r = add(o, "families", TAKE_PTR(families));
        if (r >= 0) {
                json_object *csi = NULL;
                r = csi_json(s, &csi);
                if (r >= 0)
                        r = add(o, "csi", csi);
        }
        if (r >= 0) {
                json_object *logs = NULL;
                r = logs_summary_json(&s->logs, &logs);
                if (r >= 0)
                        r = add(o, "logs", logs);
        }
        if (r >= 0) {
                json_object *m = NULL;
                r = cluster_metrics_json(&s->metrics, metrics, &m);
                if (r >= 0)
                        r = add(o, "metrics", m);
        }
        if (r >= 0) {
                json_object *u = NULL;
                r = ufs_summary_json(&s->ufs, &u);
                if (r >= 0)
                        r = add(o, "ufs", u);
        }
        if (r >= 0 && etcd) {
                json_object *e = NULL;
                r = etcd_json(etcd, &e);
                if (r >= 0)
                        r = add(o, "etcd", e);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int api_cluster(Cluster *c, const EtcdSummary *etcd, MetricsHistory *metrics, bool failing, usec_t now_mono,
        int64_t now_ms, json_object **ret) {
        _cleanup_json_ json_object *o = NULL, *nodes = NULL;
        ClusterSummary s = {};
        NodeRef *refs = NULL;
        size_t n = 0;
        int r;

        r = cluster_snapshot_summary(c, &refs, &n, &s);
        if (r < 0)
                return r;
        r = cluster_head_json(&s, etcd, metrics, now_ms, &o);
        if (r < 0)
                goto finish;
        r = -ENOMEM;
        nodes = json_object_new_array_ext((int)MIN(n, (size_t)INT32_MAX));
        if (!nodes)
                goto finish;
        r = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                json_object *checks = NULL;
                if (failing && node_ref_status(&refs[i]) == VIGIL_OK)
                        continue;
                json_object *node = json_object_new_object();
                r = append(nodes, node);
                if (r >= 0)
                        r = add_common_node_fields(node, &refs[i], now_mono);
                if (r >= 0)
                        r = node_checks_json(&refs[i], failing, now_mono, &checks);
                if (r >= 0)
                        r = add(node, "checks", checks);
        }
        if (r >= 0)
                r = add(o, "nodes", TAKE_PTR(nodes));
        if (r >= 0)
                *ret = TAKE_PTR(o);
finish:
        cluster_summary_done(&s);
        node_refs_free(refs, n);
        return r;
}

/*
 * The streamed answer is a list of pieces: text made for this answer (the head, each node's own
 * fields, punctuation) in one buffer, and the nodes' cached checks arrays, pointed to where they
 * are (the stream holds a reference to every view).
 */
typedef struct Piece {
        const char *ptr; /* NULL: the piece is at offset off of the stream's text buffer */
        size_t off;
        size_t len;
} Piece;

struct ApiStream {
        NodeRef *refs;
        size_t n_refs;
        char *text;
        size_t text_len, text_alloc;
        Piece *pieces;
        size_t n_pieces, n_pieces_alloc;
        uint64_t size;
        /* Read cursor: piece cur, cur_off bytes into it, at absolute position pos. */
        size_t cur, cur_off;
        uint64_t pos;
};

ApiStream *api_stream_free(ApiStream *st) {
        if (!st)
                return NULL;
        node_refs_free(st->refs, st->n_refs);
        free(st->text);
        free(st->pieces);
        return mfree(st);
}

static int stream_piece(ApiStream *st, const char *ptr, size_t off, size_t len) {
        if (len == 0)
                return 0;
        /* Consecutive bits of the text buffer make one piece. */
        if (!ptr && st->n_pieces > 0) {
                Piece *last = &st->pieces[st->n_pieces - 1];
                if (!last->ptr && last->off + last->len == off) {
                        last->len += len;
                        st->size += len;
                        return 0;
                }
        }
        if (st->n_pieces == st->n_pieces_alloc) {
                size_t a = MAX(st->n_pieces_alloc * 2, (size_t)64);
                Piece *p = realloc(st->pieces, a * sizeof(Piece));
                if (!p)
                        return -ENOMEM;
                st->pieces = p;
                st->n_pieces_alloc = a;
        }
        st->pieces[st->n_pieces++] = (Piece){.ptr = ptr, .off = off, .len = len};
        st->size += len;
        return 0;
}

/* Appends text made for this answer. */
static int stream_text(ApiStream *st, const char *s, size_t len) {
        if (st->text_len + len > st->text_alloc) {
                size_t a = MAX(st->text_alloc * 2, st->text_len + len);
                char *p = realloc(st->text, MAX(a, (size_t)4096));
                if (!p)
                        return -ENOMEM;
                st->text = p;
                st->text_alloc = MAX(a, (size_t)4096);
        }
        memcpy(st->text + st->text_len, s, len);
        st->text_len += len;
        return stream_piece(st, NULL, st->text_len - len, len);
}

static int stream_str(ApiStream *st, const char *s) {
        return stream_text(st, s, strlen(s));
}

/*
 * One node of the answer, exactly as json-c serializes the object that api_cluster() makes for it:
 * the values come from json-c (the cached checks and the escaped name, both rendered with
 * CLUSTER_JSON_FLAGS) or are what json-c prints for them (the age is json_new_double_digits(v, 1)'s text).
 */
static int stream_node(ApiStream *st, const NodeRef *ref, bool first, usec_t now_mono) {
        const RenderedJson *cached = node_view_checks_json(ref->view);
        char age[64];
        int r;

        if (!cached)
                return -ENOMEM;
        snprintf(age, sizeof(age), "%.1f", age_s(ref->view, now_mono));
        r = stream_str(st, first ? "{\"name\":" : ",{\"name\":");
        if (r >= 0)
                r = stream_text(st, cached->name, cached->name_len);
        if (r >= 0)
                r = stream_str(st, ",\"status\":\"");
        if (r >= 0)
                r = stream_str(st, vigil_status_to_string(node_ref_status(ref)));
        if (r >= 0)
                r = stream_str(st, "\",\"last_report_age_s\":");
        if (r >= 0)
                r = stream_str(st, age);
        if (r >= 0)
                r = stream_str(
                        st, ref->stale ? ",\"stale\":true,\"checks\":" : ",\"stale\":false,\"checks\":");
        if (r < 0)
                return r;
        if (!ref->stale)
                r = stream_piece(st, cached->text, 0, cached->len);
        else {
                /* The synthetic agent.report check, then the elements of the cached array. */
                _cleanup_json_ json_object *agent = stale_check_json(ref, now_mono);
                const char *text;
                size_t len;

                if (!agent || cached->len < 2)
                        return -ENOMEM;
                text = json_object_to_json_string_length(agent, CLUSTER_JSON_FLAGS, &len);
                if (!text)
                        return -ENOMEM;
                r = stream_str(st, "[");
                if (r >= 0)
                        r = stream_text(st, text, len);
                if (r >= 0 && cached->len > 2)
                        r = stream_str(st, ",");
                if (r >= 0)
                        r = stream_piece(st, cached->text + 1, 0, cached->len - 1);
        }
        if (r >= 0)
                r = stream_str(st, "}");
        return r;
}

int api_cluster_stream(Cluster *c, const EtcdSummary *etcd, MetricsHistory *metrics, usec_t now_mono,
        int64_t now_ms, ApiStream **ret) {
        _cleanup_(api_stream_freep) ApiStream *st = calloc(1, sizeof(ApiStream));
        _cleanup_json_ json_object *head = NULL;
        ClusterSummary s = {};
        const char *text;
        size_t len;
        int r;

        if (!st)
                return -ENOMEM;
        r = cluster_snapshot_summary(c, &st->refs, &st->n_refs, &s);
        if (r < 0)
                return r;
        r = cluster_head_json(&s, etcd, metrics, now_ms, &head);
        cluster_summary_done(&s);
        if (r < 0)
                return r;
        /* The head as an object without "nodes": its text up to the closing brace, then the array. */
        text = json_object_to_json_string_length(head, CLUSTER_JSON_FLAGS, &len);
        if (!text || len < 2 || text[len - 1] != '}')
                return -ENOMEM;
        r = stream_text(st, text, len - 1);
        if (r >= 0)
                r = stream_str(st, ",\"nodes\":[");
        for (size_t i = 0; r >= 0 && i < st->n_refs; i++)
                r = stream_node(st, &st->refs[i], i == 0, now_mono);
        if (r >= 0)
                r = stream_str(st, "]}");
        if (r < 0)
                return r;
        /* The text buffer no longer moves: resolve the pieces into it. */
        for (size_t i = 0; i < st->n_pieces; i++)
                if (!st->pieces[i].ptr)
                        st->pieces[i].ptr = st->text + st->pieces[i].off;
        *ret = TAKE_PTR(st);
        return 0;
}

uint64_t api_stream_size(const ApiStream *st) {
        return st->size;
}

size_t api_stream_read(ApiStream *st, uint64_t pos, char *buf, size_t max) {
        size_t n = 0;

        if (pos != st->pos) {
                /* Not where the last read ended (never the case with MHD): find the piece again. */
                st->cur = 0;
                st->cur_off = 0;
                st->pos = 0;
                while (st->cur < st->n_pieces && st->pos + (st->pieces[st->cur].len) <= pos)
                        st->pos += st->pieces[st->cur++].len;
                st->cur_off = (size_t)(pos - st->pos);
                st->pos = pos;
        }
        while (n < max && st->cur < st->n_pieces) {
                const Piece *p = &st->pieces[st->cur];
                size_t k = MIN(p->len - st->cur_off, max - n);
                memcpy(buf + n, p->ptr + st->cur_off, k);
                n += k;
                st->cur_off += k;
                if (st->cur_off == p->len) {
                        st->cur++;
                        st->cur_off = 0;
                }
        }
        st->pos += n;
        return n;
}

int api_nodes(Cluster *c, usec_t now_mono, json_object **ret) {
        _cleanup_json_ json_object *o = NULL, *nodes = NULL;
        NodeRef *refs = NULL;
        size_t n = 0;
        int r;

        r = cluster_snapshot(c, &refs, &n);
        if (r < 0)
                return r;
        r = -ENOMEM;
        o = json_object_new_object();
        nodes = json_object_new_array_ext((int)MIN(n, (size_t)INT32_MAX));
        if (o && nodes)
                r = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const NodeView *v = refs[i].view;
                json_object *node = json_object_new_object();
                r = append(nodes, node);
                if (r >= 0)
                        r = add(node, "name", json_object_new_string(v->report->node));
                if (r >= 0)
                        r = add(node, "cluster", json_object_new_string(v->report->cluster));
                if (r >= 0)
                        r = add(node, "status",
                                json_object_new_string(vigil_status_to_string(node_ref_status(&refs[i]))));
                if (r >= 0)
                        r = add(node, "last_report_age_s", json_new_double_digits(age_s(v, now_mono), 1));
                if (r >= 0)
                        r = add(node, "stale", json_object_new_boolean(refs[i].stale));
                if (r >= 0)
                        r = add(node, "agent_version", json_object_new_string(v->report->agent_version));
                if (r >= 0)
                        r = add(node, "boot_id", json_object_new_string(v->report->boot_id));
                if (r >= 0)
                        r = add(node, "seq", json_object_new_uint64(v->report->seq));
                if (r >= 0)
                        r = add(node, "checks_total", json_object_new_int64((int64_t)v->report->n_checks));
                if (r >= 0)
                        r = add(node, "checks_failing", json_object_new_int64(v->checks_failing));
        }
        if (r >= 0)
                r = add(o, "nodes", TAKE_PTR(nodes));
        if (r >= 0)
                *ret = TAKE_PTR(o);
        node_refs_free(refs, n);
        return r;
}

int api_node(Cluster *c, const char *name, usec_t now_mono, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(node_view_unrefp) NodeView *v = NULL;
        json_object *checks = NULL;
        NodeRef ref;
        int r;

        r = cluster_get(c, name, &ref);
        if (r < 0)
                return r;
        v = ref.view;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        r = add_common_node_fields(o, &ref, now_mono);
        if (r >= 0)
                r = add(o, "cluster", json_object_new_string(v->report->cluster));
        if (r >= 0)
                r = add(o, "agent_version", json_object_new_string(v->report->agent_version));
        if (r >= 0)
                r = add(o, "boot_id", json_object_new_string(v->report->boot_id));
        if (r >= 0)
                r = add(o, "kernel_boot_id", json_object_new_string(v->report->kernel_boot_id));
        if (r >= 0)
                r = add(o, "seq", json_object_new_uint64(v->report->seq));
        if (r >= 0)
                r = add(o, "interval_ms", json_object_new_int64(v->report->interval_ms));
        if (r >= 0)
                r = add(o, "time_unix_ms", json_object_new_int64(v->report->time_unix_ms));
        if (r >= 0)
                r = add(o, "last_seen_ms", json_object_new_int64(v->last_seen_ms));
        if (r >= 0)
                r = node_checks_json(&ref, false, now_mono, &checks);
        if (r >= 0)
                r = add(o, "checks", checks);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int event_to_json(const StoreEvent *e, void *userdata) {
        json_object *events = userdata, *o = json_object_new_object();
        int r;

        r = append(events, o);
        if (r >= 0)
                r = add(o, "id", json_object_new_int64(e->id));
        if (r >= 0)
                r = add(o, "time_ms", json_object_new_int64(e->time_ms));
        if (r >= 0)
                r = add(o, "node", json_object_new_string(e->node));
        if (r >= 0)
                r = add(o, "check", json_object_new_string(e->check_name));
        if (r >= 0)
                r = add(o, "target", json_object_new_string(e->target));
        if (r >= 0)
                r = add(o, "from", json_object_new_string(e->from_status));
        if (r >= 0)
                r = add(o, "to", json_object_new_string(e->to_status));
        if (r >= 0)
                r = add(o, "message", json_object_new_string(e->message));
        return r;
}

/* since: UNIX seconds (all digits) or a duration back from now ("1h", "30m"). */
static int parse_since(const char *since, int64_t now_ms, int64_t *ret_ms) {
        const char *p = since;
        usec_t d;

        while (isdigit((unsigned char)*p))
                p++;
        if (p != since && !*p) {
                errno = 0;
                unsigned long long sec = strtoull(since, NULL, 10);
                if (errno != 0 || sec > (unsigned long long)(INT64_MAX / 1000))
                        return -EINVAL;
                *ret_ms = (int64_t)sec * 1000;
                return 0;
        }
        if (parse_duration(since, USEC_PER_SEC, &d) < 0 || d / USEC_PER_MSEC > (usec_t)INT64_MAX)
                return -EINVAL;
        *ret_ms = MAX(now_ms - (int64_t)(d / USEC_PER_MSEC), (int64_t)0);
        return 0;
}

int api_events(Store *s, const char *since, const char *node, const char *limit, int64_t now_ms,
        json_object **ret, const char **ret_reason) {
        _cleanup_json_ json_object *o = NULL, *events = NULL;
        int64_t since_ms = -1;
        unsigned lim = API_EVENTS_DEFAULT_LIMIT;
        int r;

        if (!isempty(since) && parse_since(since, now_ms, &since_ms) < 0) {
                *ret_reason = "bad 'since': expected UNIX seconds or a duration such as 1h";
                return -EINVAL;
        }
        if (!isempty(limit) && (parse_uint(limit, &lim) < 0 || lim == 0 || lim > API_EVENTS_MAX_LIMIT)) {
                *ret_reason = "bad 'limit': expected a number from 1 to 100000";
                return -EINVAL;
        }
        o = json_object_new_object();
        events = json_object_new_array();
        if (!o || !events)
                return -ENOMEM;
        r = store_query_events(s, since_ms, isempty(node) ? NULL : node, lim, event_to_json, events);
        if (r < 0)
                return r;
        r = add(o, "events", TAKE_PTR(events));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* "ERROR" for LOG_LEVEL_ERROR; "UNKNOWN" for a value this collector does not know. */
static const char *log_level_to_string(int level) {
        const ProtobufCEnumValue *v =
                protobuf_c_enum_descriptor_get_value(&vigil__log_level__descriptor, level);
        return v ? v->name + strlen("LOG_LEVEL_") : "UNKNOWN";
}

/* "error" (any case) into LOG_LEVEL_ERROR; -EINVAL for anything else. */
static int log_level_from_string(const char *s, int *ret) {
        char name[32] = "LOG_LEVEL_";
        size_t k = strlen(name);
        const ProtobufCEnumValue *v;

        for (; *s && k < sizeof(name) - 1; s++)
                name[k++] = (char)toupper((unsigned char)*s);
        name[k] = 0;
        v = *s ? NULL : protobuf_c_enum_descriptor_get_value_by_name(&vigil__log_level__descriptor, name);
        if (!v)
                return -EINVAL;
        *ret = v->value;
        return 0;
}

/* A signature as docs/api.md shows it (the hash is left out: it means nothing to a reader). */
static json_object *log_signature_json(const Vigil__LogSignature *sig) {
        _cleanup_json_ json_object *o = json_object_new_object(), *context = json_object_new_array();
        int r = o && context ? 0 : -ENOMEM;

        if (r >= 0)
                r = add(o, "level", json_object_new_string(log_level_to_string(sig->level)));
        if (r >= 0)
                r = add(o, "pattern", json_object_new_string(strempty(sig->pattern)));
        if (r >= 0)
                r = add(o, "count", json_object_new_uint64(sig->count));
        if (r >= 0)
                r = add(o, "first_ms", json_object_new_int64(sig->first_ms));
        if (r >= 0)
                r = add(o, "last_ms", json_object_new_int64(sig->last_ms));
        if (r >= 0)
                r = add(o, "sample", json_object_new_string(strempty(sig->sample)));
        for (size_t i = 0; r >= 0 && i < sig->n_context; i++)
                r = append(context, json_object_new_string(strempty(sig->context[i])));
        if (r >= 0)
                r = add(o, "context", TAKE_PTR(context));
        if (r >= 0)
                r = add(o, "sample_cut", json_object_new_boolean(sig->sample_cut));
        return r < 0 ? NULL : TAKE_PTR(o);
}

/* The signatures as a new JSON array, or NULL on OOM. */
static json_object *log_signatures_json(Vigil__LogSignature *const *sigs, size_t n) {
        _cleanup_json_ json_object *a = json_object_new_array();
        int r = a ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append(a, log_signature_json(sigs[i]));
        return r < 0 ? NULL : TAKE_PTR(a);
}

typedef struct LogsAnswer {
        json_object *groups; /* one per source, in the store's order (node, then source) */
        size_t cursor; /* the group the last signature went to */
} LogsAnswer;

static int log_source_to_json(const StoreLogSource *src, void *userdata) {
        LogsAnswer *a = userdata;
        json_object *g = json_object_new_object(), *counts = NULL, *previous = NULL;
        int r;

        r = append(a->groups, g);
        if (r >= 0)
                r = add(g, "node", json_object_new_string(src->node));
        if (r >= 0)
                r = add(g, "source", json_object_new_string(src->source));
        if (r >= 0)
                r = add(g, "restart_count", json_object_new_int64(src->restart_count));
        if (r >= 0)
                r = add(g, "lines", json_object_new_uint64(src->lines));
        if (r >= 0)
                r = add(g, "bytes", json_object_new_uint64(src->bytes));
        if (r >= 0)
                r = add(g, "lines_cut", json_object_new_uint64(src->lines_cut));
        if (r >= 0)
                r = add(g, "bytes_lost", json_object_new_uint64(src->bytes_lost));
        if (r >= 0)
                r = add(g, "updated_ms", json_object_new_int64(src->updated_ms));
        if (r >= 0)
                r = add(g, "counts", counts = json_object_new_object());
        if (r >= 0)
                r = add(counts, "warn", json_object_new_uint64(src->warn));
        if (r >= 0)
                r = add(counts, "error", json_object_new_uint64(src->error));
        if (r >= 0)
                r = add(counts, "fatal", json_object_new_uint64(src->fatal));
        if (r >= 0)
                r = add(g, "signatures", json_object_new_array());
        if (r >= 0 && src->n_previous == 0 && json_object_object_add(g, "previous", NULL) < 0)
                r = -ENOMEM;
        if (r >= 0 && src->n_previous > 0)
                r = add(g, "previous", previous = json_object_new_object());
        if (r >= 0 && previous)
                r = add(previous, "restart_count", json_object_new_int64(src->previous_restart_count));
        if (r >= 0 && previous)
                r = add(previous, "signatures", log_signatures_json(src->previous, src->n_previous));
        return r;
}

static int log_signature_to_json(
        const char *node, const char *source, const Vigil__LogSignature *sig, void *userdata) {
        LogsAnswer *a = userdata;
        size_t n = json_object_array_length(a->groups);

        /* Both lists come sorted by node, then source: follow the signatures along the groups. */
        for (; a->cursor < n; a->cursor++) {
                json_object *g = json_object_array_get_idx(a->groups, a->cursor), *sigs;
                int d = strcmp(json_get_string(g, "node", ""), node)
                        ?: strcmp(json_get_string(g, "source", ""), source);
                if (d > 0)
                        return 0; /* a signature without its source (never written so): left out */
                if (d == 0 && json_object_object_get_ex(g, "signatures", &sigs))
                        return append(sigs, log_signature_json(sig));
        }
        return 0;
}

/* A group is shown when it has something to show: a signature or previous evidence. */
static bool log_group_has_findings(json_object *g) {
        json_object *sigs = NULL, *previous = NULL;
        json_object_object_get_ex(g, "signatures", &sigs);
        json_object_object_get_ex(g, "previous", &previous);
        return (sigs && json_object_array_length(sigs) > 0) || previous;
}

int api_logs(Store *s, const ApiLogsQuery *q, int64_t now_ms, json_object **ret, const char **ret_reason) {
        _cleanup_json_ json_object *o = NULL, *logs = NULL, *groups = NULL;
        StoreLogQuery sq = {
                .node = isempty(q->node) ? NULL : q->node,
                .source = isempty(q->source) ? NULL : q->source,
                .limit = API_LOGS_DEFAULT_LIMIT,
        };
        LogsAnswer a = {};
        int r;

        if (!isempty(q->since) && parse_since(q->since, now_ms, &sq.since_ms) < 0) {
                *ret_reason = "bad 'since': expected UNIX seconds or a duration such as 1h";
                return -EINVAL;
        }
        if (!isempty(q->level) && log_level_from_string(q->level, &sq.min_level) < 0) {
                *ret_reason = "bad 'level': expected TRACE, DEBUG, INFO, WARN, ERROR or FATAL";
                return -EINVAL;
        }
        if (!isempty(q->limit) &&
                (parse_uint(q->limit, &sq.limit) < 0 || sq.limit == 0 || sq.limit > API_LOGS_MAX_LIMIT)) {
                *ret_reason = "bad 'limit': expected a number from 1 to 10000";
                return -EINVAL;
        }
        o = json_object_new_object();
        logs = json_object_new_array();
        a.groups = groups = json_object_new_array();
        if (!o || !logs || !groups)
                return -ENOMEM;
        r = store_query_logs(s, &sq, log_source_to_json, log_signature_to_json, &a);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < json_object_array_length(groups); i++) {
                json_object *g = json_object_array_get_idx(groups, i);
                if (log_group_has_findings(g))
                        r = append(logs, json_object_get(g));
        }
        if (r >= 0)
                r = add(o, "since_ms", json_object_new_int64(sq.since_ms));
        if (r >= 0)
                r = add(o, "logs", TAKE_PTR(logs));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* "settings": what makes a change significant (docs/api.md). */
static int metrics_settings_json(const MetricsSettings *settings, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object(), *volume = json_object_new_object();
        int r = o && volume ? 0 : -ENOMEM;

        if (r >= 0)
                r = add_double(o, "change", true, settings->change);
        for (MetricVolume k = 0; r >= 0 && k < _METRIC_VOLUME_MAX; k++)
                r = add_double(volume, metric_volume_name(k), true, settings->min_volume[k]);
        if (r >= 0)
                r = add(o, "min_volume", TAKE_PTR(volume));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* The answer of api_metrics() from the nodes it is about (one node: ref set, else refs of all). */
static int metrics_answer(Store *s, MetricsHistory *h, const NodeRef *node, const NodeRef *refs, size_t n,
        int64_t now_ms, usec_t now_mono, json_object **ret) {
        _cleanup_(metrics_summary_done) MetricsSummary m = {};
        _cleanup_(metric_breakdowns_done) MetricBreakdown b[_METRIC_LABEL_SERIES_MAX] = {};
        _cleanup_json_ json_object *o = json_object_new_object();
        MetricWindow w[_METRIC_WINDOW_MAX];
        json_object *settings = NULL, *current = NULL, *breakdowns = NULL;
        int r = o ? 0 : -ENOMEM;

        if (node && r >= 0)
                r = metrics_summary_add_report(&m, node->view->report);
        for (size_t i = 0; !node && r >= 0 && i < n; i++)
                if (!refs[i].stale)
                        r = metrics_summary_add_report(&m, refs[i].view->report);
        metrics_summary_finish(&m);
        metric_windows_init(now_ms, w);
        if (r >= 0)
                r = query_breakdowns(s, node ? node->view->report->node : METRICS_CLUSTER_NODE, &m, w, b);
        if (r >= 0 && node)
                r = add_common_node_fields(o, node, now_mono);
        else if (r >= 0)
                r = json_object_object_add(o, "name", NULL) < 0 ? -ENOMEM : 0;
        if (r >= 0)
                r = add(o, "generated_at_ms", json_object_new_int64(now_ms));
        if (r >= 0)
                r = metrics_settings_json(metrics_history_settings(h), &settings);
        if (r >= 0)
                r = add(o, "settings", settings);
        if (r >= 0)
                r = metrics_current_json(&m, &current);
        if (r >= 0)
                r = add(o, "current", current);
        if (r >= 0)
                r = add_history(o, w, metrics_history_settings(h));
        if (r >= 0)
                r = breakdowns_json(b, metrics_history_settings(h), &breakdowns);
        if (r >= 0)
                r = add(o, "breakdowns", breakdowns);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int api_metrics(Cluster *c, Store *s, MetricsHistory *h, const char *node, int64_t now_ms, usec_t now_mono,
        json_object **ret) {
        NodeRef *refs = NULL, ref;
        size_t n = 0;
        int r;

        if (!isempty(node)) {
                r = cluster_get(c, node, &ref);
                if (r < 0)
                        return r;
                r = metrics_answer(s, h, &ref, NULL, 0, now_ms, now_mono, ret);
                node_view_unref(ref.view);
                return r;
        }
        r = cluster_snapshot(c, &refs, &n);
        if (r < 0)
                return r;
        r = metrics_answer(s, h, NULL, refs, n, now_ms, now_mono, ret);
        node_refs_free(refs, n);
        return r;
}

int api_healthz(Cluster *c, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = add(o, "status", json_object_new_string("ok"));
        if (r >= 0)
                r = add(o, "nodes", json_object_new_int64((int64_t)cluster_size(c)));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

json_object *api_error(const char *message) {
        json_object *o = json_object_new_object();
        if (o && add(o, "error", json_object_new_string(message)) < 0)
                return json_object_put_ptr(o);
        return o;
}
