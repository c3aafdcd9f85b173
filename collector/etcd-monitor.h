/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Runs the etcd checks (etcd.h) in a thread of their own every interval, keeps the latest
 * snapshot for GET /v1/etcd and the cluster summary, advances the outage clock and reports, through
 * hooks, what must be persisted: the outage start, and events for status changes of the
 * cluster-level checks and for the end of an outage. The monitor never touches the store itself.
 */

#include "etcd.h"
#include "status.h"

typedef struct EtcdMonitorHooks {
        /* Persist the outage start (0: no outage). */
        int (*save_outage)(void *userdata, int64_t since_ms);
        /* Record an event of cluster-level check `check` on target: from -> to, with message. */
        int (*event)(void *userdata, int64_t time_ms, const char *check, const char *target,
                VigilStatus from, VigilStatus to, const char *message);
        /* Names of the nodes that have agent reports, for the cross-check: a new strv or NULL. */
        char **(*agent_nodes)(void *userdata);
        void *userdata;
} EtcdMonitorHooks;

typedef struct EtcdMonitor EtcdMonitor;

/*
 * Starts the monitor on c (owned by the caller, must outlive it), first cycle at once.
 * outage_since_ms is the persisted outage start (0: none), so that an outage survives a restart.
 */
int etcd_monitor_start(const EtcdConfig *c, usec_t interval, int64_t outage_since_ms,
        const EtcdMonitorHooks *hooks, EtcdMonitor **ret);
/* Stops the thread (waits for a cycle in progress) and frees m. */
EtcdMonitor *etcd_monitor_stop(EtcdMonitor *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(EtcdMonitor *, etcd_monitor_stop);

/*
 * The latest snapshot as GET /v1/etcd shows it, rendered: a new string (the caller frees it), or
 * -EAGAIN before the first cycle has finished.
 */
int etcd_monitor_json(EtcdMonitor *m, char **ret);

typedef struct EtcdSummary {
        bool checked; /* a cycle has finished */
        VigilStatus status; /* worst of the etcd checks */
        unsigned ready, expected, percent;
        bool quorum;
        char leader[64]; /* name or hex id; empty when none */
        unsigned live, registered, failed;
        char message[256]; /* the worst check's message */
        unsigned checks[_VIGIL_STATUS_MAX]; /* the etcd checks per status */
        int64_t outage_since_ms; /* wall clock when etcd became unavailable; 0: available */
} EtcdSummary;

/* The summary of the latest cycle, for /v1/cluster and `vigilctl status`. */
void etcd_monitor_summary(EtcdMonitor *m, EtcdSummary *ret);
