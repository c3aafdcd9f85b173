/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The collector's persistent store: SQLite in WAL mode with synchronous=FULL, so a committed
 * transaction survives kill -9 and power loss. The store only persists; the collector's current
 * state lives in memory (cluster.h) and is loaded from here once at start-up, so no request ever
 * scans a table.
 *
 * Threads: the write side (everything but the store_query_*() functions) is used by one thread at a
 * time, the collector's writer thread (and start-up before it runs). The queries may be called from
 * any thread: they share a read-only connection, which under WAL never waits for the writer and
 * never sees an uncommitted transaction.
 *
 * Errors are negative errno values; SQLite result codes are translated in exactly one place.
 */

#include <stdbool.h>
#include <stdint.h>

#include "macros.h"
#include "metrics.h"
#include "vigil.pb-c.h"

/* Version of the schema this code writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 5

typedef struct Store Store;

/* One row of `nodes`. All pointers are borrowed (for the duration of the call or callback). */
typedef struct StoreNode {
        const char *name;
        const char *cluster;
        const char *boot_id;
        uint64_t seq;
        int64_t last_seen_ms; /* collector's wall clock when the report was applied */
        uint32_t interval_ms;
        const char *status; /* "OK", "WARN", ... (worst check; informative, recomputed at load) */
        bool stale;
        const void *report; /* the NodeReport as received (protobuf) */
        size_t report_size;
} StoreNode;

/* One row of `events`. Pointers are borrowed; id is set by queries, ignored by store_add_event(). */
typedef struct StoreEvent {
        int64_t id;
        int64_t time_ms;
        const char *node;
        const char *check_name;
        const char *target;
        const char *from_status; /* "NONE" for a check's first appearance */
        const char *to_status;
        const char *message;
} StoreEvent;

/*
 * Opens (creating if needed) the database at path and migrates its schema to
 * STORE_SCHEMA_VERSION. The directory must exist. -EPROTONOSUPPORT when the file was written by a
 * newer collector. On success the caller owns *ret and frees it with store_free().
 */
int store_open(const char *path, Store **ret);
/*
 * Small named values that must survive a restart (e.g. "etcd_outage_since_ms"), in table `meta`.
 * store_set_meta() is on the write side; store_get_meta() is for start-up. *ret is a new string,
 * -ENOENT when the key is absent.
 */
int store_set_meta(Store *s, const char *key, const char *value);
int store_get_meta(Store *s, const char *key, char **ret);

/* Closes both connections (an open transaction is rolled back); accepts NULL, returns NULL. */
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);

/* Transactions of the write side. store_rollback() never fails (a failed rollback is moot). */
int store_begin(Store *s);
int store_commit(Store *s);
void store_rollback(Store *s);

/* Inserts or replaces the node's row. */
int store_put_node(Store *s, const StoreNode *n);
/* Sets only the stale flag of an existing node. */
int store_set_stale(Store *s, const char *name, bool stale);
/* Appends an event; returns 0. */
int store_add_event(Store *s, const StoreEvent *e);

/* Called once per row; a negative return stops the iteration and is returned by the caller. */
typedef int (*store_node_fn)(const StoreNode *n, void *userdata);
typedef int (*store_event_fn)(const StoreEvent *e, void *userdata);

/* Calls fn for every row of `nodes` (start-up only: this is the one full scan). */
int store_load_nodes(Store *s, store_node_fn fn, void *userdata);

/*
 * Calls fn for at most limit events, oldest first: with since_ms >= 0 the first ones at or after
 * since_ms, with since_ms < 0 the latest ones. node (may be NULL) restricts to one node. Uses the
 * (time) or (node, time) index. Thread-safe.
 */
int store_query_events(
        Store *s, int64_t since_ms, const char *node, unsigned limit, store_event_fn fn, void *userdata);

/*
 * Deletes events older than before_ms and, beyond that, the oldest ones in excess of max_rows
 * (0: no row limit), at most batch rows per call so that a large backlog never holds the writer
 * for long. Must be called inside a transaction. Returns the number of rows deleted.
 */
int store_prune_events(Store *s, int64_t before_ms, uint64_t max_rows, unsigned batch);

/* ---- log findings (the agents' LogBatches, proto/vigil.proto) ---- */

/*
 * Applies batch b of node's log state state_id unless it was applied before: batch ids count 1, 2,
 * 3, ... per state, and only an id above the last one applied for (node, state_id) is applied (for
 * a state not seen before, none was). Applying adds the batch's line and byte totals, per-minute
 * counts and signature counts to what is stored (first_ms the earliest, last_ms the latest seen),
 * keeps the latest sample of each signature, the source's latest restart count and, when the batch
 * has some, the previous container's evidence. now_ms: the collector's wall clock. Must be called
 * inside a transaction. Returns 1 when applied, 0 when the batch was not new.
 */
int store_apply_log_batch(
        Store *s, const char *node, const char *state_id, const Vigil__LogBatch *b, int64_t now_ms);

/*
 * Deletes the minute counts and signatures last seen before before_ms, and the totals of sources
 * last updated before it that have no signature left, at most batch rows of each per call. Must be
 * called inside a transaction. Returns the number of rows deleted. (The last applied batch id of
 * each log state is kept: it is what makes a resent batch harmless.)
 */
int store_prune_logs(Store *s, int64_t before_ms, unsigned batch);

typedef struct StoreLogQuery {
        const char *node; /* NULL: every node */
        const char *source; /* NULL: every source; else a source name, or a GLOB pattern ("file:*") */
        int min_level; /* a Vigil__LogLevel: signatures of this level and above (0: all) */
        int64_t since_ms; /* signatures with last_ms >= since_ms, counts of the minutes ending after it */
        unsigned limit; /* per source: at most this many signatures and previous ones (0: no limit) */
} StoreLogQuery;

/* One source of a node. Pointers are borrowed for the duration of the callback. */
typedef struct StoreLogSource {
        const char *node;
        const char *source;
        uint64_t lines, bytes, lines_cut, bytes_lost; /* totals */
        uint32_t restart_count;
        int64_t updated_ms; /* when a batch last had this source (collector's clock) */
        uint64_t warn, error, fatal; /* events in the minutes of the query's window */
        /* The latest previous-container evidence, filtered like the signatures, most recent first. */
        uint32_t previous_restart_count;
        Vigil__LogSignature **previous;
        size_t n_previous;
} StoreLogSource;

typedef int (*store_log_source_fn)(const StoreLogSource *src, void *userdata);
/* sig's hash is not set. Pointers are borrowed for the duration of the callback. */
typedef int (*store_log_signature_fn)(
        const char *node, const char *source, const Vigil__LogSignature *sig, void *userdata);

/*
 * Calls source_fn for every source matching q's node and source, sorted by node then source, and
 * then signature_fn for every signature matching q, sorted by node, source and most recent first,
 * both from one snapshot of the database. A negative return of a callback stops and is returned.
 * Thread-safe.
 */
int store_query_logs(Store *s, const StoreLogQuery *q, store_log_source_fn source_fn,
        store_log_signature_fn signature_fn, void *userdata);

/* ---- metrics history (metrics.h): one point per minute per node, and for the cluster ---- */

/*
 * Writes the point of node (or METRICS_CLUSTER_NODE) for the minute starting at minute_ms: the
 * values of every series, per second. A point already there for that minute is replaced. Must be
 * called inside a transaction.
 */
int store_put_metric_point(Store *s, const char *node, int64_t minute_ms, const MetricValues *v);

/*
 * Writes the labelled points of breakdown series of node (or METRICS_CLUSTER_NODE) for the minute
 * starting at minute_ms: one per key, its rate (keys given twice are summed). The labelled points
 * already there for that node, series and minute are replaced. Must be called inside a transaction.
 */
int store_put_metric_label_points(Store *s, const char *node, int64_t minute_ms, MetricLabelSeries series,
        const MetricKeyRate *keys, size_t n);

/*
 * Deletes the points and the labelled points of minutes before before_ms, at most batch of them
 * in all per call (the points first). Must be called inside a transaction. Returns the number of
 * rows deleted.
 */
int store_prune_metric_points(Store *s, int64_t before_ms, unsigned batch);

/*
 * Fills the number of points and the sums of their values of node (or METRICS_CLUSTER_NODE) in
 * each of the n windows (their from_ms and to_ms set by the caller), from one snapshot of the
 * database. Thread-safe.
 */
int store_query_metric_windows(Store *s, const char *node, MetricWindow *windows, size_t n);

/*
 * As store_query_metric_windows() with the _METRIC_WINDOW_MAX windows, and the windows of every
 * key of each breakdown (breakdowns[l] of series l, empty, its series set by the caller): the sums
 * of the key's labelled points in each window, added with metric_breakdown_add_sum(); not
 * finished. All from one snapshot of the database. Thread-safe.
 */
int store_query_metric_history(Store *s, const char *node, MetricWindow windows[_METRIC_WINDOW_MAX],
        MetricBreakdown breakdowns[_METRIC_LABEL_SERIES_MAX]);
