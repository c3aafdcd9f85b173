/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * GET /metrics: the cluster's health for Prometheus, in the text exposition format 0.0.4, exactly
 * the families of the contract in docs/metrics.md ("Prometheus exposition"): every family with
 * HELP and TYPE, all gauges, recomputed per scrape from the in-memory state (no SQLite), labels at
 * most per node. Label values are escaped (\\, \", \n) and made valid UTF-8, so that no node name
 * can spoil a scrape.
 */

#include "cluster.h"
#include "etcd-monitor.h"

#define EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Renders the exposition of the nodes refs[0..n) and their summary s (cluster_summarize() of the
 * same refs); etcd: the etcd monitor's summary, or NULL when the collector does not check etcd.
 * now_ms: the wall clock, for the etcd outage's length. On success *ret is a new NUL-terminated
 * string of *ret_size bytes (the caller frees it). -ENOMEM.
 */
int exposition_render(const NodeRef *refs, size_t n, const ClusterSummary *s, const EtcdSummary *etcd,
        int64_t now_ms, char **ret, size_t *ret_size);

/* The same for the current state of c. */
int exposition_cluster(Cluster *c, const EtcdSummary *etcd, int64_t now_ms, char **ret, size_t *ret_size);
