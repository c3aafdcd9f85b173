/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The cluster figures the collector derives from the agents' metrics checks (a CheckResult with
 * MetricsDetails, proto/vigil.proto: one per scraped worker, FUSE or coordinator endpoint): the
 * key series summed over a node's endpoints and over the fresh nodes, the hit rate exactly as the
 * operators' formula has it (sum of cached read rates / (sum of cached + sum of UFS read rates),
 * never a mean of per-node ratios), and their history: one point per minute per node and for the
 * cluster (in the store), and the last hour compared with the same hour a day and a week ago.
 *
 * Threads: everything here is a pure function of its arguments, except MetricsHistory, whose
 * record function is for the writer thread and whose getters are for any thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"
#include "vigil.pb-c.h"

/* The name the cluster's own history points are kept under (no node has it: Kubernetes node
 * names are DNS names). The same as the node of the events of cluster-level checks. */
#define METRICS_CLUSTER_NODE "(cluster)"

/* The key series of the history, all per second except the concurrency (a gauge). */
typedef enum MetricSeries {
        METRIC_REQUESTS, /* worker requests */
        METRIC_FUSE_OPS, /* FUSE operations, all of them */
        METRIC_FUSE_CONCURRENCY, /* FUSE operations in flight */
        METRIC_CACHED_BYTES, /* bytes read from the cache */
        METRIC_UFS_READ_BYTES, /* bytes read from the UFS */
        METRIC_UFS_WRITE_BYTES, /* bytes written to the UFS */
        METRIC_UFS_ERRORS, /* UFS errors not marked expected */
        _METRIC_SERIES_MAX,
} MetricSeries;

/* One value per series: the rates of a node or the cluster, or sums of points. */
typedef struct MetricValues {
        double v[_METRIC_SERIES_MAX];
} MetricValues;

/* "requests_per_s", ..., the name of the series in JSON and of its column in the store. */
const char *metric_series_name(MetricSeries s);

/*
 * Adds the rates of one endpoint. A rate that is negative or not finite (never sent so) counts as
 * 0. Each UFS error rate counts under METRIC_UFS_ERRORS unless marked expected.
 */
void metric_values_add(MetricValues *v, const Vigil__MetricsDetails *d);

/* cached / (cached + UFS read) of v; false when nothing was read. */
bool metric_values_hit_ratio(const MetricValues *v, double *ret);

/* ---- the breakdown of current rates (what a single value per series cannot show) ---- */

typedef struct MetricKeyRate {
        const char *key; /* borrowed from a report */
        double per_s;
} MetricKeyRate;

typedef struct MetricUfsError {
        const char *ufs, *error_code; /* borrowed from a report */
        bool expected;
        double per_s;
} MetricUfsError;

/*
 * The current rates of a set of reports (one node, or the fresh nodes of the cluster): their
 * sums, the FUSE operations by operation and the UFS errors by UFS, code and expected flag (each
 * summed over the endpoints and nodes), and the metric names some endpoint's page lacked. Strings
 * are borrowed from the reports, which must outlive the summary.
 */
typedef struct MetricsSummary {
        unsigned nodes; /* reports with at least one metrics check */
        unsigned endpoints; /* metrics checks */
        MetricValues total;
        MetricKeyRate *fuse_ops; /* sorted by operation once finished */
        size_t n_fuse_ops, n_fuse_ops_alloc;
        MetricUfsError *ufs_errors; /* highest rate first once finished */
        size_t n_ufs_errors, n_ufs_errors_alloc;
        const char **missing; /* distinct, sorted once finished */
        size_t n_missing, n_missing_alloc;
} MetricsSummary;

/* Adds the metrics checks of report (none: nothing changes). -ENOMEM. */
int metrics_summary_add_report(MetricsSummary *m, const Vigil__NodeReport *report);
/* Sorts the lists as documented above; call once after the last add. */
void metrics_summary_finish(MetricsSummary *m);
/* Frees the lists; the summary is empty again. */
void metrics_summary_done(MetricsSummary *m);

/* ---- history: windows and their comparison ---- */

/* The windows compared: the last hour, the same hour a day ago and a week ago. */
typedef enum MetricWindowKind {
        METRIC_WINDOW_HOUR,
        METRIC_WINDOW_DAY_AGO,
        METRIC_WINDOW_WEEK_AGO,
        _METRIC_WINDOW_MAX,
} MetricWindowKind;

/* The one-minute points of a node or the cluster in [from_ms, to_ms). */
typedef struct MetricWindow {
        int64_t from_ms, to_ms;
        unsigned points;
        MetricValues sum; /* of the points' values: the mean is sum / points */
} MetricWindow;

/* "hour", "day_ago", "week_ago". */
const char *metric_window_name(MetricWindowKind k);

/*
 * The windows at now_ms, empty: [now − 1 h, now), and the same shifted back by 24 h and by 7 days.
 * A point is the state at the start of its minute, so an hour holds 60 of them.
 */
void metric_windows_init(int64_t now_ms, MetricWindow ret[_METRIC_WINDOW_MAX]);

/* The mean of series s over w's points; false when w has none. */
bool metric_window_mean(const MetricWindow *w, MetricSeries s, double *ret);
/* The hit ratio of w from its summed bytes (never a mean of ratios); false when nothing was read. */
bool metric_window_hit_ratio(const MetricWindow *w, double *ret);

/* What a change must have to be significant: per kind of series, the least volume. */
typedef enum MetricVolume {
        METRIC_VOLUME_REQUESTS, /* requests per second */
        METRIC_VOLUME_FUSE_OPS, /* FUSE operations per second */
        METRIC_VOLUME_FUSE_CONCURRENCY, /* operations in flight */
        METRIC_VOLUME_BYTES, /* bytes per second: cached, UFS read and write, and reads for the hit rate */
        METRIC_VOLUME_UFS_ERRORS, /* UFS errors per second */
        _METRIC_VOLUME_MAX,
} MetricVolume;

typedef struct MetricsSettings {
        double change; /* least relative change that is significant (0.25: 25 %) */
        double min_volume[_METRIC_VOLUME_MAX];
} MetricsSettings;

#define METRICS_DEFAULT_CHANGE 0.25
/* The defaults of --metrics-min-volume, as that option writes them. */
#define METRICS_DEFAULT_MIN_VOLUME "requests=1,fuse_ops=1,fuse_concurrency=1,bytes=1M,ufs_errors=0.1"

/* "requests", "fuse_ops", "fuse_concurrency", "bytes", "ufs_errors": the keys of --metrics-min-volume. */
const char *metric_volume_name(MetricVolume v);
/* The kind of volume of series s. */
MetricVolume metric_series_volume(MetricSeries s);

/*
 * Parses "KEY=NUMBER[,KEY=NUMBER]..." (keys as metric_volume_name(); a number may end in K, M or
 * G, powers of 1024) into ret, leaving the keys not given as they are. -EINVAL with a static
 * reason in *ret_reason.
 */
int metrics_min_volume_parse(const char *s, double ret[_METRIC_VOLUME_MAX], const char **ret_reason);
/* Parses a relative change: "0.25" or "25%", more than 0. -EINVAL. */
int metrics_change_parse(const char *s, double *ret);

/* The defaults above. */
void metrics_settings_default(MetricsSettings *ret);

typedef struct MetricChange {
        bool comparable; /* both windows have data (for the hit rate: reads) */
        /* Relative, (now − then) / then, for a rate; percentage points for the hit rate. NAN when
         * a rate grew from 0 (no relative change exists). */
        double change;
        bool significant;
} MetricChange;

/*
 * Compares series s of window now with then. Significant: the larger of the two means reaches
 * the series' least volume, and the relative change is at least settings->change (a rate that
 * grew from 0 always is).
 */
MetricChange metrics_compare(
        const MetricsSettings *settings, const MetricWindow *now, const MetricWindow *then, MetricSeries s);
/*
 * Compares the hit ratios, in percentage points. Significant: the bytes read per second (cached
 * and UFS) reach the bytes volume in one of the windows, and the share of reads served by the
 * UFS (1 − hit ratio) changed by at least settings->change relatively: a fall from 95 % to 90 %
 * doubles the UFS traffic, and that is what it flags.
 */
MetricChange metrics_compare_hit_ratio(
        const MetricsSettings *settings, const MetricWindow *now, const MetricWindow *then);

/* ---- history of the breakdowns: FUSE operations by operation, UFS errors by code ---- */

/*
 * The breakdowns kept as labelled one-minute points (metric_label_points in the store, where the
 * series is stored as this number: never renumber). The keys' values count in the total series
 * metric_label_series_total() names, whose least volume and comparison they share.
 */
typedef enum MetricLabelSeries {
        METRIC_LABEL_FUSE_OPS = 0, /* FUSE operations per second, by operation */
        METRIC_LABEL_UFS_ERRORS = 1, /* UFS errors per second not marked expected, by code (all UFSes) */
        _METRIC_LABEL_SERIES_MAX,
} MetricLabelSeries;

/* At most this many keys per node, series and minute; the rest are summed under METRIC_LABEL_OTHER. */
#define METRIC_LABEL_KEYS_MAX 32
#define METRIC_LABEL_OTHER "(other)"

/* "fuse_ops", "ufs_errors": the names of the breakdowns in JSON. */
const char *metric_label_series_name(MetricLabelSeries s);
/* METRIC_FUSE_OPS, METRIC_UFS_ERRORS: the series a breakdown divides. */
MetricSeries metric_label_series_total(MetricLabelSeries s);

/*
 * The rates of breakdown series s in m (finished or not), summed per key, sorted by key; keys at 0
 * left out. With max > 0, at most max keys: the max − 1 highest, and the sum of the others under
 * METRIC_LABEL_OTHER. Keys are borrowed from m's reports; *ret is freed with free(). -ENOMEM.
 */
int metrics_summary_key_rates(
        const MetricsSummary *m, MetricLabelSeries s, size_t max, MetricKeyRate **ret, size_t *ret_n);

/*
 * The windows of every key of a breakdown. Each key's windows have the points of the total's
 * windows (a minute without the key counts as 0) and the sum of its values under the series
 * metric_label_series_total(series): metric_window_mean() and metrics_compare() apply as they are.
 */
typedef struct MetricKeyWindows {
        char *key;
        double now; /* the current rate (0: none) */
        MetricWindow w[_METRIC_WINDOW_MAX];
} MetricKeyWindows;

typedef struct MetricBreakdown {
        MetricLabelSeries series;
        MetricKeyWindows *keys; /* sorted by key once finished */
        size_t n_keys, n_keys_alloc;
} MetricBreakdown;

/* Adds sum to the window k of key (added, with the windows of totals, when new). -ENOMEM. */
int metric_breakdown_add_sum(MetricBreakdown *b, const char *key,
        const MetricWindow totals[_METRIC_WINDOW_MAX], MetricWindowKind k, double sum);
/* Sets the current rate of key (added, with the windows of totals, when new). -ENOMEM. */
int metric_breakdown_set_now(
        MetricBreakdown *b, const char *key, const MetricWindow totals[_METRIC_WINDOW_MAX], double per_s);
/* Sorts the keys; call once after the last add. */
void metric_breakdown_finish(MetricBreakdown *b);
/* Frees the keys; the breakdown is empty again (its series kept). */
void metric_breakdown_done(MetricBreakdown *b);

/* ---- the history's writer and the cluster's latest comparison ---- */

typedef struct MetricsHistory MetricsHistory;
typedef struct Cluster Cluster;
typedef struct Store Store;

int metrics_history_new(const MetricsSettings *settings, MetricsHistory **ret);
MetricsHistory *metrics_history_free(MetricsHistory *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsHistory *, metrics_history_free);

const MetricsSettings *metrics_history_settings(const MetricsHistory *h);

/*
 * Writer thread, once a minute: writes the point of minute now_ms (rounded down) of every fresh
 * node that has metrics checks, and of the cluster (their sums) when there is one such node, with
 * their breakdowns (metrics_summary_key_rates(), at most METRIC_LABEL_KEYS_MAX keys each; the
 * cluster's summed per key over the nodes before the bound), in a transaction of its own; then
 * reads the cluster's windows at now_ms back from the store and keeps them for
 * metrics_history_cluster(). Writing a minute again replaces its points (and labelled points).
 */
int metrics_history_record(MetricsHistory *h, Cluster *c, Store *s, int64_t now_ms);

/* The cluster's windows as of the latest record; false before the first one. Any thread. */
bool metrics_history_cluster(MetricsHistory *h, MetricWindow ret[_METRIC_WINDOW_MAX]);
