/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The JSON answers of the collector's read API (docs/api.md), built with json-c from snapshots of
 * the in-memory cluster state; only the events come from the store (through its index). Checks are
 * shown as common/json-util.h renders them. Each function returns 0 and a new object in *ret (the
 * caller owns it), or -errno: -ENOENT (unknown node), -EINVAL (bad argument, with a static reason
 * in *ret_reason), -ENOMEM. The objects are made to be serialized with CLUSTER_JSON_FLAGS: some
 * arrays are cached text spliced in at serialization, so inspect the text, not the object tree.
 */

#include <json-c/json.h>

#include "cluster.h"
#include "etcd-monitor.h"
#include "metrics.h"
#include "store.h"

#define API_EVENTS_DEFAULT_LIMIT 1000u
#define API_EVENTS_MAX_LIMIT 100000u

/*
 * GET /v1/cluster[?failing=1]. etcd: the etcd monitor's summary when the collector checks etcd,
 * else NULL; its status counts in the cluster's. metrics: the history whose latest cluster windows
 * the "metrics" object compares (NULL: none shown).
 */
int api_cluster(Cluster *c, const EtcdSummary *etcd, MetricsHistory *metrics, bool failing, usec_t now_mono,
        int64_t now_ms, json_object **ret);
/*
 * GET /v1/cluster (without failing=1) as a stream: the same text as api_cluster() serialized with
 * CLUSTER_JSON_FLAGS, made of the nodes' cached JSON without building one buffer of the whole
 * answer (35 MB for 10,000 nodes) or any json-c object per node. The stream holds references to
 * the views it shows, so it stays valid whatever the writer does; the caller owns *ret.
 */
typedef struct ApiStream ApiStream;
int api_cluster_stream(Cluster *c, const EtcdSummary *etcd, MetricsHistory *metrics, usec_t now_mono,
        int64_t now_ms, ApiStream **ret);
/* Length in bytes of the whole answer. */
uint64_t api_stream_size(const ApiStream *st);
/* Copies up to max bytes of the answer from offset pos into buf; returns the number copied. */
size_t api_stream_read(ApiStream *st, uint64_t pos, char *buf, size_t max);
ApiStream *api_stream_free(ApiStream *st);
DEFINE_TRIVIAL_CLEANUP_FUNC(ApiStream *, api_stream_free);

/* GET /v1/nodes */
int api_nodes(Cluster *c, usec_t now_mono, json_object **ret);
/* GET /v1/nodes/NAME */
int api_node(Cluster *c, const char *name, usec_t now_mono, json_object **ret);
/* GET /v1/events?since=&node=&limit= (each argument may be NULL) */
int api_events(Store *s, const char *since, const char *node, const char *limit, int64_t now_ms,
        json_object **ret, const char **ret_reason);
/* GET /v1/logs: the query's parameters as given (each may be NULL or empty: not given). */
#define API_LOGS_DEFAULT_LIMIT 20u
#define API_LOGS_MAX_LIMIT 10000u
typedef struct ApiLogsQuery {
        const char *node;
        const char *source; /* a source or a GLOB pattern */
        const char *level; /* the least level shown: TRACE, DEBUG, INFO, WARN, ERROR, FATAL */
        const char *since; /* UNIX seconds or a duration back from now */
        const char *limit; /* signatures per source */
} ApiLogsQuery;
int api_logs(Store *s, const ApiLogsQuery *q, int64_t now_ms, json_object **ret, const char **ret_reason);
/*
 * GET /v1/metrics[?node=N]: the current rates of the fresh nodes (or of node N, stale or not), and
 * the last hour of the history compared with the same hour a day and a week ago, read from the
 * store (h gives the settings). node NULL or empty: the cluster.
 */
int api_metrics(Cluster *c, Store *s, MetricsHistory *h, const char *node, int64_t now_ms, usec_t now_mono,
        json_object **ret);
/* GET /healthz */
int api_healthz(Cluster *c, json_object **ret);
/* {"error": message} or NULL on OOM. */
json_object *api_error(const char *message);
