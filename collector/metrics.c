/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <pthread.h>
#include <strings.h>

#include "cluster.h"
#include "metrics.h"
#include "store.h"

#define MINUTE_MS 60000LL
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

static const char *const series_names[_METRIC_SERIES_MAX] = {
        [METRIC_REQUESTS] = "requests_per_s",
        [METRIC_FUSE_OPS] = "fuse_ops_per_s",
        [METRIC_FUSE_CONCURRENCY] = "fuse_concurrency",
        [METRIC_CACHED_BYTES] = "cached_read_bytes_per_s",
        [METRIC_UFS_READ_BYTES] = "ufs_read_bytes_per_s",
        [METRIC_UFS_WRITE_BYTES] = "ufs_write_bytes_per_s",
        [METRIC_UFS_ERRORS] = "ufs_errors_per_s",
};

static const char *const volume_names[_METRIC_VOLUME_MAX] = {
        [METRIC_VOLUME_REQUESTS] = "requests",
        [METRIC_VOLUME_FUSE_OPS] = "fuse_ops",
        [METRIC_VOLUME_FUSE_CONCURRENCY] = "fuse_concurrency",
        [METRIC_VOLUME_BYTES] = "bytes",
        [METRIC_VOLUME_UFS_ERRORS] = "ufs_errors",
};

static const MetricVolume series_volume[_METRIC_SERIES_MAX] = {
        [METRIC_REQUESTS] = METRIC_VOLUME_REQUESTS,
        [METRIC_FUSE_OPS] = METRIC_VOLUME_FUSE_OPS,
        [METRIC_FUSE_CONCURRENCY] = METRIC_VOLUME_FUSE_CONCURRENCY,
        [METRIC_CACHED_BYTES] = METRIC_VOLUME_BYTES,
        [METRIC_UFS_READ_BYTES] = METRIC_VOLUME_BYTES,
        [METRIC_UFS_WRITE_BYTES] = METRIC_VOLUME_BYTES,
        [METRIC_UFS_ERRORS] = METRIC_VOLUME_UFS_ERRORS,
};

const char *metric_series_name(MetricSeries s) {
        return s >= 0 && s < _METRIC_SERIES_MAX ? series_names[s] : NULL;
}

const char *metric_volume_name(MetricVolume v) {
        return v >= 0 && v < _METRIC_VOLUME_MAX ? volume_names[v] : NULL;
}

MetricVolume metric_series_volume(MetricSeries s) {
        return series_volume[s];
}

/* A rate as sent, or 0 for what no agent sends (negative, NaN, infinite). */
static double rate(double v) {
        return isfinite(v) && v > 0 ? v : 0;
}

void metric_values_add(MetricValues *v, const Vigil__MetricsDetails *d) {
        v->v[METRIC_REQUESTS] += rate(d->requests_per_s);
        v->v[METRIC_CACHED_BYTES] += rate(d->cached_read_bytes_per_s);
        v->v[METRIC_UFS_READ_BYTES] += rate(d->ufs_read_bytes_per_s);
        v->v[METRIC_UFS_WRITE_BYTES] += rate(d->ufs_write_bytes_per_s);
        v->v[METRIC_FUSE_CONCURRENCY] += rate(d->fuse_concurrency);
        for (size_t i = 0; i < d->n_fuse_ops_per_s; i++)
                v->v[METRIC_FUSE_OPS] += rate(d->fuse_ops_per_s[i]->per_s);
        for (size_t i = 0; i < d->n_ufs_errors; i++)
                if (!d->ufs_errors[i]->expected)
                        v->v[METRIC_UFS_ERRORS] += rate(d->ufs_errors[i]->per_s);
}

/* The operators' formula: a ratio of sums, whatever the sums are over. */
static bool hit_ratio(double cached, double ufs_read, double *ret) {
        if (!(cached + ufs_read > 0))
                return false;
        *ret = cached / (cached + ufs_read);
        return true;
}

bool metric_values_hit_ratio(const MetricValues *v, double *ret) {
        return hit_ratio(v->v[METRIC_CACHED_BYTES], v->v[METRIC_UFS_READ_BYTES], ret);
}

/* ---- breakdown ---- */

/* Makes room for one more element in array (n used, alloc allocated); 0 or -ENOMEM. */
#define GROW(array, n, alloc)                                                                               \
        ({                                                                                                  \
                int _r = 0;                                                                                 \
                if ((n) == (alloc)) {                                                                       \
                        size_t _a = MAX((alloc)*2, (size_t)8);                                              \
                        typeof(array) _p = reallocarray((array), _a, sizeof(*(array)));                     \
                        if (_p) {                                                                           \
                                (array) = _p;                                                               \
                                (alloc) = _a;                                                               \
                        } else                                                                              \
                                _r = -ENOMEM;                                                               \
                }                                                                                           \
                _r;                                                                                         \
        })

/* Adds per_s to key in the list (n used, alloc allocated), as a new element when not there. */
static int key_rate_add(MetricKeyRate **list, size_t *n, size_t *alloc, const char *key, double per_s) {
        int r;

        for (size_t i = 0; i < *n; i++)
                if (streq((*list)[i].key, key)) {
                        (*list)[i].per_s += per_s;
                        return 0;
                }
        r = GROW(*list, *n, *alloc);
        if (r < 0)
                return r;
        (*list)[(*n)++] = (MetricKeyRate){.key = key, .per_s = per_s};
        return 0;
}

static int add_fuse_op(MetricsSummary *m, const Vigil__KeyRate *k) {
        return key_rate_add(
                &m->fuse_ops, &m->n_fuse_ops, &m->n_fuse_ops_alloc, strempty(k->key), rate(k->per_s));
}

static int add_ufs_error(MetricsSummary *m, const Vigil__UfsErrorRate *e) {
        const char *ufs = strempty(e->ufs), *code = strempty(e->error_code);
        int r;

        for (size_t i = 0; i < m->n_ufs_errors; i++) {
                MetricUfsError *x = &m->ufs_errors[i];
                if (x->expected == e->expected && streq(x->ufs, ufs) && streq(x->error_code, code)) {
                        x->per_s += rate(e->per_s);
                        return 0;
                }
        }
        r = GROW(m->ufs_errors, m->n_ufs_errors, m->n_ufs_errors_alloc);
        if (r < 0)
                return r;
        m->ufs_errors[m->n_ufs_errors++] = (MetricUfsError){
                .ufs = ufs, .error_code = code, .expected = e->expected, .per_s = rate(e->per_s)};
        return 0;
}

static int add_missing(MetricsSummary *m, const char *name) {
        int r;

        for (size_t i = 0; i < m->n_missing; i++)
                if (streq(m->missing[i], name))
                        return 0;
        r = GROW(m->missing, m->n_missing, m->n_missing_alloc);
        if (r < 0)
                return r;
        m->missing[m->n_missing++] = name;
        return 0;
}

int metrics_summary_add_report(MetricsSummary *m, const Vigil__NodeReport *report) {
        bool any = false;
        int r = 0;

        for (size_t i = 0; i < report->n_checks; i++) {
                const Vigil__MetricsDetails *d = report->checks[i]->metrics;
                if (!d)
                        continue;
                any = true;
                m->endpoints++;
                metric_values_add(&m->total, d);
                for (size_t j = 0; r >= 0 && j < d->n_fuse_ops_per_s; j++)
                        r = add_fuse_op(m, d->fuse_ops_per_s[j]);
                for (size_t j = 0; r >= 0 && j < d->n_ufs_errors; j++)
                        r = add_ufs_error(m, d->ufs_errors[j]);
                for (size_t j = 0; r >= 0 && j < d->n_missing; j++)
                        r = add_missing(m, strempty(d->missing[j]));
                if (r < 0)
                        return r;
        }
        m->nodes += any;
        return 0;
}

static int compare_key_rates(const void *a, const void *b) {
        return strcmp(((const MetricKeyRate *)a)->key, ((const MetricKeyRate *)b)->key);
}

static int compare_ufs_errors(const void *a, const void *b) {
        const MetricUfsError *x = a, *y = b;
        if (x->per_s != y->per_s)
                return x->per_s < y->per_s ? 1 : -1;
        return strcmp(x->ufs, y->ufs) ?: strcmp(x->error_code, y->error_code) ?: x->expected - y->expected;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void metrics_summary_finish(MetricsSummary *m) {
        if (m->n_fuse_ops > 1)
                qsort(m->fuse_ops, m->n_fuse_ops, sizeof(MetricKeyRate), compare_key_rates);
        if (m->n_ufs_errors > 1)
                qsort(m->ufs_errors, m->n_ufs_errors, sizeof(MetricUfsError), compare_ufs_errors);
        if (m->n_missing > 1)
                qsort(m->missing, m->n_missing, sizeof(const char *), compare_strings);
}

void metrics_summary_done(MetricsSummary *m) {
        free(m->fuse_ops);
        free(m->ufs_errors);
        free(m->missing);
        *m = (MetricsSummary){};
}

/* ---- breakdowns with history ---- */

static const char *const label_series_names[_METRIC_LABEL_SERIES_MAX] = {
        [METRIC_LABEL_FUSE_OPS] = "fuse_ops",
        [METRIC_LABEL_UFS_ERRORS] = "ufs_errors",
};

static const MetricSeries label_series_total[_METRIC_LABEL_SERIES_MAX] = {
        [METRIC_LABEL_FUSE_OPS] = METRIC_FUSE_OPS,
        [METRIC_LABEL_UFS_ERRORS] = METRIC_UFS_ERRORS,
};

const char *metric_label_series_name(MetricLabelSeries s) {
        return s >= 0 && s < _METRIC_LABEL_SERIES_MAX ? label_series_names[s] : NULL;
}

MetricSeries metric_label_series_total(MetricLabelSeries s) {
        return label_series_total[s];
}

/* Highest rate first, then by key. */
static int compare_key_rates_desc(const void *a, const void *b) {
        const MetricKeyRate *x = a, *y = b;
        if (x->per_s != y->per_s)
                return x->per_s < y->per_s ? 1 : -1;
        return strcmp(x->key, y->key);
}

int metrics_summary_key_rates(
        const MetricsSummary *m, MetricLabelSeries s, size_t max, MetricKeyRate **ret, size_t *ret_n) {
        _cleanup_(freep) MetricKeyRate *list = NULL;
        size_t n = 0, alloc = 0;
        int r = 0;

        if (s == METRIC_LABEL_FUSE_OPS)
                for (size_t i = 0; r >= 0 && i < m->n_fuse_ops; i++) {
                        if (m->fuse_ops[i].per_s > 0)
                                r = key_rate_add(
                                        &list, &n, &alloc, m->fuse_ops[i].key, m->fuse_ops[i].per_s);
                }
        else
                for (size_t i = 0; r >= 0 && i < m->n_ufs_errors; i++) {
                        const MetricUfsError *e = &m->ufs_errors[i];
                        if (!e->expected && e->per_s > 0)
                                r = key_rate_add(&list, &n, &alloc, e->error_code, e->per_s);
                }
        if (r < 0)
                return r;
        if (max > 0 && n > max) {
                double other = 0;

                qsort(list, n, sizeof(MetricKeyRate), compare_key_rates_desc);
                for (size_t i = max - 1; i < n; i++)
                        other += list[i].per_s;
                list[max - 1] = (MetricKeyRate){.key = METRIC_LABEL_OTHER, .per_s = other};
                n = max;
        }
        if (n > 1)
                qsort(list, n, sizeof(MetricKeyRate), compare_key_rates);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

/* The element of key, added with the (empty) windows of totals when new; NULL: -ENOMEM. */
static MetricKeyWindows *breakdown_key(
        MetricBreakdown *b, const char *key, const MetricWindow totals[_METRIC_WINDOW_MAX]) {
        MetricKeyWindows *x;
        char *k;

        for (size_t i = 0; i < b->n_keys; i++)
                if (streq(b->keys[i].key, key))
                        return &b->keys[i];
        if (GROW(b->keys, b->n_keys, b->n_keys_alloc) < 0)
                return NULL;
        k = strdup(key);
        if (!k)
                return NULL;
        x = &b->keys[b->n_keys++];
        *x = (MetricKeyWindows){.key = k};
        for (size_t w = 0; w < _METRIC_WINDOW_MAX; w++)
                x->w[w] = (MetricWindow){
                        .from_ms = totals[w].from_ms, .to_ms = totals[w].to_ms, .points = totals[w].points};
        return x;
}

int metric_breakdown_add_sum(MetricBreakdown *b, const char *key,
        const MetricWindow totals[_METRIC_WINDOW_MAX], MetricWindowKind k, double sum) {
        MetricKeyWindows *x = breakdown_key(b, key, totals);
        if (!x)
                return -ENOMEM;
        x->w[k].sum.v[label_series_total[b->series]] += sum;
        return 0;
}

int metric_breakdown_set_now(
        MetricBreakdown *b, const char *key, const MetricWindow totals[_METRIC_WINDOW_MAX], double per_s) {
        MetricKeyWindows *x = breakdown_key(b, key, totals);
        if (!x)
                return -ENOMEM;
        x->now = per_s;
        return 0;
}

static int compare_key_windows(const void *a, const void *b) {
        return strcmp(((const MetricKeyWindows *)a)->key, ((const MetricKeyWindows *)b)->key);
}

void metric_breakdown_finish(MetricBreakdown *b) {
        if (b->n_keys > 1)
                qsort(b->keys, b->n_keys, sizeof(MetricKeyWindows), compare_key_windows);
}

void metric_breakdown_done(MetricBreakdown *b) {
        for (size_t i = 0; i < b->n_keys; i++)
                free(b->keys[i].key);
        free(b->keys);
        *b = (MetricBreakdown){.series = b->series};
}

/* ---- windows and comparisons ---- */

static const char *const window_names[_METRIC_WINDOW_MAX] = {
        [METRIC_WINDOW_HOUR] = "hour",
        [METRIC_WINDOW_DAY_AGO] = "day_ago",
        [METRIC_WINDOW_WEEK_AGO] = "week_ago",
};

const char *metric_window_name(MetricWindowKind k) {
        return k >= 0 && k < _METRIC_WINDOW_MAX ? window_names[k] : NULL;
}

void metric_windows_init(int64_t now_ms, MetricWindow ret[_METRIC_WINDOW_MAX]) {
        static const int64_t back[_METRIC_WINDOW_MAX] = {[METRIC_WINDOW_HOUR] = 0,
                [METRIC_WINDOW_DAY_AGO] = DAY_MS,
                [METRIC_WINDOW_WEEK_AGO] = 7 * DAY_MS};
        for (size_t k = 0; k < _METRIC_WINDOW_MAX; k++)
                ret[k] = (MetricWindow){.from_ms = now_ms - back[k] - HOUR_MS, .to_ms = now_ms - back[k]};
}

bool metric_window_mean(const MetricWindow *w, MetricSeries s, double *ret) {
        if (w->points == 0)
                return false;
        *ret = w->sum.v[s] / w->points;
        return true;
}

bool metric_window_hit_ratio(const MetricWindow *w, double *ret) {
        /* Every point stands for a minute: summing the rates sums the bytes (over 60 s each). */
        return w->points > 0 && metric_values_hit_ratio(&w->sum, ret);
}

/* Relative change of then -> now, and whether it is at least limit; NAN for a growth from 0. */
static void relative_change(double now, double then, double limit, MetricChange *c) {
        if (then > 0) {
                c->change = (now - then) / then;
                c->significant = fabs(c->change) >= limit;
        } else {
                c->change = now > 0 ? NAN : 0;
                c->significant = now > 0;
        }
}

MetricChange metrics_compare(
        const MetricsSettings *settings, const MetricWindow *now, const MetricWindow *then, MetricSeries s) {
        MetricChange c = {};
        double a, b;

        if (!metric_window_mean(now, s, &a) || !metric_window_mean(then, s, &b))
                return c;
        c.comparable = true;
        relative_change(a, b, settings->change, &c);
        c.significant = c.significant && MAX(a, b) >= settings->min_volume[series_volume[s]];
        return c;
}

/* Bytes read per second (cached and from the UFS), the volume behind a hit ratio. */
static double read_volume(const MetricWindow *w) {
        return (w->sum.v[METRIC_CACHED_BYTES] + w->sum.v[METRIC_UFS_READ_BYTES]) / w->points;
}

MetricChange metrics_compare_hit_ratio(
        const MetricsSettings *settings, const MetricWindow *now, const MetricWindow *then) {
        MetricChange c = {}, miss = {};
        double a, b;

        if (!metric_window_hit_ratio(now, &a) || !metric_window_hit_ratio(then, &b))
                return c;
        c.comparable = true;
        c.change = (a - b) * 100;
        relative_change(1 - a, 1 - b, settings->change, &miss);
        c.significant = miss.significant &&
                MAX(read_volume(now), read_volume(then)) >= settings->min_volume[METRIC_VOLUME_BYTES];
        return c;
}

/* ---- settings ---- */

/* A non-negative number with an optional K, M or G (powers of 1024), nothing after it. */
static int parse_number(const char *s, size_t len, double *ret) {
        char buf[64], *end;
        double v;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        errno = 0;
        v = strtod(buf, &end);
        if (errno != 0 || end == buf)
                return -EINVAL;
        if (*end) {
                const char *units = "KMG", *u = strchr(units, *end);
                if (!u || end[1])
                        return -EINVAL;
                for (ptrdiff_t k = 0; k <= u - units; k++)
                        v *= 1024;
        }
        if (!isfinite(v) || v < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int metrics_min_volume_parse(const char *s, double ret[_METRIC_VOLUME_MAX], const char **ret_reason) {
        double v[_METRIC_VOLUME_MAX];

        memcpy(v, ret, sizeof(v));
        for (const char *p = s;;) {
                size_t len = strcspn(p, ","), key_len = strcspn(p, "=");
                size_t k;

                if (key_len >= len) {
                        *ret_reason = "expected KEY=NUMBER[,KEY=NUMBER]... with KEY one of requests, "
                                      "fuse_ops, fuse_concurrency, bytes, ufs_errors";
                        return -EINVAL;
                }
                for (k = 0; k < _METRIC_VOLUME_MAX; k++)
                        if (strlen(volume_names[k]) == key_len && strncmp(p, volume_names[k], key_len) == 0)
                                break;
                if (k == _METRIC_VOLUME_MAX) {
                        *ret_reason = "unknown key: expected requests, fuse_ops, fuse_concurrency, bytes or "
                                      "ufs_errors";
                        return -EINVAL;
                }
                if (parse_number(p + key_len + 1, len - key_len - 1, &v[k]) < 0) {
                        *ret_reason = "expected a number of at least 0 after '=' (K, M, G: powers of 1024)";
                        return -EINVAL;
                }
                if (!p[len])
                        break;
                p += len + 1;
        }
        memcpy(ret, v, sizeof(v));
        return 0;
}

int metrics_change_parse(const char *s, double *ret) {
        size_t len = strlen(s);
        bool percent = len > 0 && s[len - 1] == '%';
        double v;

        if (parse_number(s, len - percent, &v) < 0 || strpbrk(s, "KMG") || v <= 0)
                return -EINVAL;
        *ret = percent ? v / 100 : v;
        return 0;
}

void metrics_settings_default(MetricsSettings *ret) {
        const char *reason;
        *ret = (MetricsSettings){.change = METRICS_DEFAULT_CHANGE};
        /* The defaults are the documented option text (test-store checks that it parses). */
        (void)metrics_min_volume_parse(METRICS_DEFAULT_MIN_VOLUME, ret->min_volume, &reason);
}

/* ---- history ---- */

struct MetricsHistory {
        MetricsSettings settings;
        pthread_mutex_t lock; /* guards the two below */
        bool have_cluster;
        MetricWindow cluster[_METRIC_WINDOW_MAX];
};

int metrics_history_new(const MetricsSettings *settings, MetricsHistory **ret) {
        MetricsHistory *h = calloc(1, sizeof(MetricsHistory));
        if (!h)
                return -ENOMEM;
        h->settings = *settings;
        pthread_mutex_init(&h->lock, NULL);
        *ret = h;
        return 0;
}

MetricsHistory *metrics_history_free(MetricsHistory *h) {
        if (!h)
                return NULL;
        pthread_mutex_destroy(&h->lock);
        return mfree(h);
}

const MetricsSettings *metrics_history_settings(const MetricsHistory *h) {
        return &h->settings;
}

/* Writes the breakdowns of m (bounded) as the labelled points of node for minute_ms. */
static int put_label_points(Store *s, const char *node, int64_t minute_ms, const MetricsSummary *m) {
        int r = 0;

        for (MetricLabelSeries l = 0; r >= 0 && l < _METRIC_LABEL_SERIES_MAX; l++) {
                _cleanup_(freep) MetricKeyRate *keys = NULL;
                size_t n = 0;

                r = metrics_summary_key_rates(m, l, METRIC_LABEL_KEYS_MAX, &keys, &n);
                if (r >= 0)
                        r = store_put_metric_label_points(s, node, minute_ms, l, keys, n);
        }
        return r;
}

/* The point of a node and its breakdowns, which are also added to the cluster's in all. */
static int put_node_points(Store *s, const NodeView *v, int64_t minute_ms, MetricsSummary *all) {
        _cleanup_(metrics_summary_done) MetricsSummary one = {};
        int r;

        r = store_put_metric_point(s, v->report->node, minute_ms, &v->metrics);
        if (r >= 0)
                r = metrics_summary_add_report(&one, v->report);
        if (r >= 0)
                r = put_label_points(s, v->report->node, minute_ms, &one);
        if (r >= 0)
                r = metrics_summary_add_report(all, v->report);
        return r;
}

static int write_points(Cluster *c, Store *s, int64_t minute_ms) {
        _cleanup_(metrics_summary_done) MetricsSummary all = {};
        MetricValues cluster = {};
        NodeRef *refs = NULL;
        size_t n = 0, with_metrics = 0;
        int r;

        r = cluster_snapshot(c, &refs, &n);
        if (r < 0)
                return r;
        r = store_begin(s);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const NodeView *v = refs[i].view;
                /* An endpoint scraped once has no rates yet: a point of zeros would read as idle. */
                if (refs[i].stale || v->metrics_rated == 0)
                        continue;
                r = put_node_points(s, v, minute_ms, &all);
                for (size_t k = 0; k < _METRIC_SERIES_MAX; k++)
                        cluster.v[k] += v->metrics.v[k];
                with_metrics++;
        }
        if (r >= 0 && with_metrics > 0)
                r = store_put_metric_point(s, METRICS_CLUSTER_NODE, minute_ms, &cluster);
        if (r >= 0 && with_metrics > 0)
                r = put_label_points(s, METRICS_CLUSTER_NODE, minute_ms, &all);
        if (r >= 0)
                r = store_commit(s);
        if (r < 0)
                store_rollback(s);
        node_refs_free(refs, n);
        return r;
}

int metrics_history_record(MetricsHistory *h, Cluster *c, Store *s, int64_t now_ms) {
        MetricWindow w[_METRIC_WINDOW_MAX];
        int r;

        r = write_points(c, s, now_ms / MINUTE_MS * MINUTE_MS);
        if (r < 0)
                return r;
        metric_windows_init(now_ms, w);
        r = store_query_metric_windows(s, METRICS_CLUSTER_NODE, w, _METRIC_WINDOW_MAX);
        if (r < 0)
                return r;
        pthread_mutex_lock(&h->lock);
        memcpy(h->cluster, w, sizeof(w));
        h->have_cluster = true;
        pthread_mutex_unlock(&h->lock);
        return 0;
}

bool metrics_history_cluster(MetricsHistory *h, MetricWindow ret[_METRIC_WINDOW_MAX]) {
        pthread_mutex_lock(&h->lock);
        bool have = h->have_cluster;
        if (have)
                memcpy(ret, h->cluster, sizeof(h->cluster));
        pthread_mutex_unlock(&h->lock);
        return have;
}
