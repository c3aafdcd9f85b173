/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Group commit. HTTP handlers submit decoded reports; ONE writer thread takes everything queued,
 * applies it to the cluster in one SQLite transaction, commits, and then completes every request
 * of the batch (so a report is acknowledged only once it is durable, and one fsync covers many
 * reports). The same thread runs the stale sweep (every second), writes the metrics history (once a
 * minute) and runs the retention of events, log findings and metrics history, so the cluster state
 * and the store have a single mutator.
 */

#include "cluster.h"

typedef struct Ingest Ingest;

typedef struct IngestRequest IngestRequest;
/* Called on the writer thread once req is finished; req->r and req->item.result are set. */
typedef void (*ingest_done_fn)(IngestRequest *req);

/* Owned by the submitter; must stay valid until done() was called. */
struct IngestRequest {
        ClusterReport item;
        int r; /* 0: committed (item.result says applied or duplicate), or -errno */
        ingest_done_fn done;
        void *userdata;
        IngestRequest *next; /* queue link, ingest's business */
};

typedef struct IngestOptions {
        usec_t sweep_interval; /* 0: 1 s */
        usec_t events_retention; /* 0: keep events for ever */
        uint64_t events_max_rows; /* 0: no limit */
        usec_t logs_retention; /* 0: keep log findings for ever */
        usec_t metrics_retention; /* 0: keep metrics history points for ever */
        /* Records the metrics history in the first sweep of every wall-clock minute (borrowed, must
         * outlive the Ingest); NULL: no history. */
        MetricsHistory *metrics;
        /* Reports a failure of the background work (sweep, retention); may be NULL. */
        void (*on_error)(const char *what, int r);
} IngestOptions;

/* Starts the writer thread. c and store are borrowed and must outlive the Ingest. */
int ingest_new(Cluster *c, Store *store, const IngestOptions *o, Ingest **ret);

/*
 * Queues req. Returns 0, after which done() will be called exactly once; or -ESHUTDOWN after
 * ingest_close() (done() is then not called).
 */
int ingest_submit(Ingest *i, IngestRequest *req);

/*
 * Runs run(store, userdata) on the writer thread, in a transaction of its own, soon; then
 * free_fn(userdata) (may be NULL). For the few writes that do not come from reports (the etcd
 * monitor's events and outage clock): the store's write side stays single-threaded. Fire and
 * forget: a failure is reported through IngestOptions.on_error. -ESHUTDOWN after ingest_close()
 * (free_fn is then called at once), -ENOMEM.
 */
int ingest_submit_job(Ingest *i, int (*run)(Store *store, void *userdata), void *userdata,
        void (*free_fn)(void *userdata));

/* Refuses further submissions; what is queued is still applied. */
void ingest_close(Ingest *i);

/* Waits until nothing is queued or being applied. */
void ingest_wait_idle(Ingest *i);

/* Closes, applies what is queued, stops the writer thread. Accepts NULL, returns NULL. */
Ingest *ingest_free(Ingest *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(Ingest *, ingest_free);
