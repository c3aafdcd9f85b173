/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The collector's in-memory state: every known node with its latest applied report, kept sorted
 * by name, loaded once from the store at start-up and from then on changed only by the writer
 * thread (cluster_apply(), cluster_sweep()), which persists every change in one transaction before
 * it publishes it. Readers (the HTTP handlers) take short snapshots under a rwlock and never touch
 * SQLite, so no request scans a table.
 *
 * A node's report is held in an immutable, reference-counted NodeView: the writer replaces a
 * node's view, readers keep the view they got for as long as they need it. The JSON of a view's
 * checks is rendered (with check_result_to_json()) on first use and cached in the view.
 *
 * Threads: cluster_apply() and cluster_sweep() from one thread only (the writer); everything else
 * from any thread.
 */

#include <errno.h> /* before status.h, which uses EINVAL */
#include <pthread.h>
#include <stdint.h>

#include <json-c/json.h>

#include "metrics.h"
#include "status.h"
#include "store.h"
#include "time-util.h"
#include "vigil.pb-c.h"

/* Worst status of one check family ("fuse" for fuse.mount, fuse.read) in one report. */
typedef struct FamilyStatus {
        const char *name; /* points into a check name of the view's report: not NUL-terminated */
        size_t len;
        VigilStatus status;
} FamilyStatus;

/*
 * A NodeReport decoded into an arena: protobuf-c allocates each string, array and submessage of a
 * report separately (about 140 pieces for ten FUSE-heavy checks), which made malloc and free the
 * largest cost of ingest; here they are carved from a few large blocks and freed at once.
 */
typedef struct ReportArena ReportArena;

/*
 * Decodes size bytes at data into a report living in a new arena. On success *ret_report points
 * into *ret_arena, which the caller owns (report_arena_free() frees both). -EBADMSG when the bytes
 * are not a NodeReport, -ENOMEM.
 */
int report_decode(const void *data, size_t size, Vigil__NodeReport **ret_report, ReportArena **ret_arena);
/* Frees the arena and every report decoded into it. Accepts NULL, returns NULL. */
ReportArena *report_arena_free(ReportArena *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(ReportArena *, report_arena_free);

/* Frees a report: its arena when it has one, else as protobuf-c unpacked it (arena NULL). */
void report_free(Vigil__NodeReport *report, ReportArena *arena);

typedef struct NodeView {
        unsigned n_ref;
        Vigil__NodeReport *report; /* owned, never NULL */
        ReportArena *arena; /* owns report's memory; NULL: report was unpacked with malloc */
        int64_t last_seen_ms; /* collector's wall clock when applied (what the store keeps) */
        usec_t last_seen_mono; /* the same instant on CLOCK_MONOTONIC: ages are computed from this */
        VigilStatus status; /* worst of the report's checks (OK when it has none) */
        unsigned checks_failing; /* checks not OK */
        FamilyStatus *families;
        size_t n_families;
        MetricValues metrics; /* the rates of the report's metrics checks, summed */
        unsigned metrics_endpoints; /* its metrics checks (0: the node has no metrics) */
        unsigned metrics_rated; /* of those, the ones with rates (not an endpoint's first scrape) */
        struct RenderedJson *checks_json; /* rendered lazily, then immutable: node_view_checks_json() */
} NodeView;

typedef struct RenderedJson {
        size_t len; /* of the checks array at text */
        const char *name; /* the node's name as a JSON string (quoted, escaped), inside text[] */
        size_t name_len;
        char text[]; /* the checks array, NUL, the name, NUL */
} RenderedJson;

/* How every JSON answer of the collector is serialized (the cached parts included). */
#define CLUSTER_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

NodeView *node_view_ref(NodeView *v);
/* Drops a reference; the last one frees the view and its report. Accepts NULL, returns NULL. */
NodeView *node_view_unref(NodeView *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(NodeView *, node_view_unref);

/*
 * The JSON array of the view's checks (as check_result_to_json() renders each) and the node's name
 * as a JSON string, rendered by json-c on first call (or beforehand by the background renderer)
 * and then shared; it belongs to the view. NULL on OOM.
 */
const RenderedJson *node_view_checks_json(NodeView *v);

/* A reader's reference to a node: its view (one reference held) and its stale flag. */
typedef struct NodeRef {
        NodeView *view;
        bool stale;
} NodeRef;

/* Drops the references of refs[0..n) and frees refs. Returns NULL. */
NodeRef *node_refs_free(NodeRef *refs, size_t n);

/* A node's status as shown: CRIT when stale, else the worst of its checks. */
static inline VigilStatus node_ref_status(const NodeRef *r) {
        return r->stale ? VIGIL_CRIT : r->view->status;
}

typedef struct Cluster Cluster;

/*
 * Makes the state from the store's `nodes` (store is borrowed and must outlive the cluster).
 * stale_after: the stale window for every node, or 0 for 3 × the interval each agent announces.
 * Rows whose report does not decode are skipped.
 */
int cluster_new(Store *store, usec_t stale_after, Cluster **ret);
Cluster *cluster_free(Cluster *c);

/*
 * Starts a background thread at SCHED_IDLE priority that renders the checks JSON of every newly
 * applied report, so that reads find it ready whenever the machine has spare CPU, while a
 * saturated collector spends nothing on it (reads then render what is missing themselves): it
 * pauses while cluster_set_busy() says so. Optional; stopped by cluster_free().
 */
int cluster_start_renderer(Cluster *c);
/* Tells the renderer whether ingest is saturated (the writer has reports waiting). Any thread. */
void cluster_set_busy(Cluster *c, bool busy);
DEFINE_TRIVIAL_CLEANUP_FUNC(Cluster *, cluster_free);

/* The stale window that applies to a node whose latest view is v. */
usec_t cluster_stale_window(const Cluster *c, const NodeView *v);

typedef enum ClusterResult {
        CLUSTER_APPLIED,
        CLUSTER_DUPLICATE,
} ClusterResult;

/* One report handed to cluster_apply(). */
typedef struct ClusterReport {
        Vigil__NodeReport *report; /* taken by cluster_apply() (set to NULL) whatever the outcome */
        ReportArena *arena; /* report's arena (report_decode()), or NULL; taken with report */
        const void *raw; /* the report as received, stored as is; borrowed */
        size_t raw_size;
        ClusterResult result; /* set by cluster_apply() on success */
} ClusterReport;

/*
 * Applies reports in order, in one transaction: a report whose boot_id equals the node's last
 * applied one and whose seq is not newer is a duplicate (nothing written); otherwise the node's
 * row is replaced and an event written for every check whose status changed (and for a stale
 * node coming back). Either way the report's log batches are applied, each only once
 * (store_apply_log_batch()). Only once the transaction is committed is the new state published to
 * readers. Returns 0 when committed, or -errno when nothing was applied (state unchanged).
 * Reports must have a non-empty node name.
 */
int cluster_apply(Cluster *c, ClusterReport *items, size_t n, usec_t now_mono, int64_t now_ms);

/*
 * Marks nodes stale whose last report is older than their stale window, writing an `agent.report`
 * event for each, in one transaction. Returns the number of nodes that turned stale, or -errno.
 */
int cluster_sweep(Cluster *c, usec_t now_mono, int64_t now_ms);

/* References to every node sorted by name (*ret_refs owned by the caller: node_refs_free()). */
int cluster_snapshot(Cluster *c, NodeRef **ret_refs, size_t *ret_n);
/* A reference to one node, or -ENOENT. The caller drops ret->view. */
int cluster_get(Cluster *c, const char *name, NodeRef *ret);
/* Number of nodes known. */
size_t cluster_size(Cluster *c);

/* Per check family, the number of nodes whose worst check of that family has each status. */
typedef struct FamilyCount {
        const char *name; /* borrowed from a view of the snapshot: not NUL-terminated */
        size_t len;
        unsigned count[_VIGIL_STATUS_MAX];
} FamilyCount;

/* `logs`: the logs.errors checks (one per log source) of the fresh nodes. */
#define CLUSTER_LOGS_LISTED 5
typedef struct LogSourceRef {
        const char *node, *source; /* borrowed from a view of the snapshot */
        VigilStatus status;
} LogSourceRef;

typedef struct LogsSummary {
        unsigned by_status[_VIGIL_STATUS_MAX]; /* sources per status (UNKNOWN: could not be read) */
        uint64_t errors_last_hour, warnings_last_hour; /* summed over the sources */
        LogSourceRef failing[CLUSTER_LOGS_LISTED]; /* the first CRIT sources, then WARN ones */
        size_t n_failing;
} LogsSummary;

/*
 * `ufs`: the ufs.reachability checks of the fresh nodes, per UFS root. A root that fails from every
 * node that looks at it is a cluster problem (the UFS, its credentials, the bucket); failing from some
 * nodes only, a problem of those nodes (their network, DNS, credentials).
 */
#define CLUSTER_UFS_ROOTS 16
#define CLUSTER_UFS_NODES_LISTED 5
typedef enum UfsScope {
        UFS_SCOPE_NONE, /* reachable from every node */
        UFS_SCOPE_NODE, /* failing from some nodes */
        UFS_SCOPE_CLUSTER, /* failing from every node */
} UfsScope;

typedef struct UfsRootSummary {
        const char *target; /* the root URI; borrowed from a view of the snapshot, like every string here */
        unsigned nodes; /* fresh nodes that look at it */
        unsigned slow; /* of those, WARN */
        unsigned failing; /* CRIT or UNKNOWN */
        const char *failing_nodes[CLUSTER_UFS_NODES_LISTED]; /* the first ones, by node name */
        const char *error_code, *message; /* of the first failing node */
} UfsRootSummary;

typedef struct UfsSummary {
        UfsRootSummary roots[CLUSTER_UFS_ROOTS]; /* in the order first met */
        size_t n;
        size_t dropped; /* roots beyond CLUSTER_UFS_ROOTS, not summarized */
} UfsSummary;

UfsScope ufs_root_scope(const UfsRootSummary *r);
const char *ufs_scope_to_string(UfsScope s);

typedef struct ClusterSummary {
        const char *cluster; /* a cluster name reported by the nodes ("" when none) */
        VigilStatus status; /* worst node status; UNKNOWN when there are no nodes */
        unsigned by_status[_VIGIL_STATUS_MAX]; /* number of nodes per status */
        unsigned ready, expected, stale;
        double percent; /* ready / expected × 100 (0 when expected is 0) */
        FamilyCount *families; /* owned, sorted by name; "agent" counts staleness */
        size_t n_families;
        unsigned csi_ready, csi_expected; /* csi.probe checks of fresh nodes: OK / all */
        LogsSummary logs;
        /* Checks (not nodes) per family and status: those of the fresh nodes, and per node one
         * "agent" check, CRIT for a stale node. Owned, sorted by name. */
        FamilyCount *check_families;
        size_t n_check_families;
        MetricsSummary metrics; /* the metrics checks of the fresh nodes */
        UfsSummary ufs;
} ClusterSummary;

/* Aggregates a snapshot. ret borrows strings from refs, which must outlive it. */
int cluster_summarize(const NodeRef *refs, size_t n, ClusterSummary *ret);
void cluster_summary_done(ClusterSummary *s);
/* cluster_snapshot() and cluster_summarize() of it; the caller owns both (nothing on failure). */
int cluster_snapshot_summary(Cluster *c, NodeRef **ret_refs, size_t *ret_n, ClusterSummary *ret);
