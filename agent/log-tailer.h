/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The agent's log tailing: finds the sources (container directories under the pods log
 * directory matching the pod globs, --log-file paths, --journal-unit units), reads them from the
 * event loop as they grow (inotify through sd-event; a periodic rescan for new pods; polling for
 * sources whose directory could not be watched, e.g. when inotify watches ran out), in slices so
 * that a large backlog never holds the loop, and once per cycle seals what was found into a batch
 * together with every source's position (log-state.h).
 *
 * The agent owns the tailer; nothing here knows about shipping: the agent puts the pending batches
 * into its report and calls log_tailer_ack() when the collector acknowledged one.
 */

#include <systemd/sd-event.h>

#include "check.h"
#include "log-source.h"

/* A sealed batch is never bigger than this packed (log_batch_fit()); a report carries batches
 * up to REPORT_LOG_BUDGET, well within the collector's default 1 MiB limit. */
#define LOG_BATCH_MAX (256 * 1024)
#define REPORT_LOG_BUDGET (512 * 1024)

typedef struct LogTailerConfig {
        const char *pods_log_dir; /* NULL or "": no container logs */
        char *const *pod_globs; /* "NAMESPACE/POD/CONTAINER" fnmatch patterns */
        char *const *log_files;
        char *const *journal_units;
        const char *journal_dir; /* NULL: the system journal */
        const char *state_dir;
        LogSourceSettings settings;
        unsigned max_batches; /* unacknowledged batches kept (the oldest are dropped beyond) */
        usec_t rescan_interval; /* new pods, and polling of unwatched sources */
} LogTailerConfig;

typedef struct LogTailer LogTailer;

/* Makes the tailer and starts reading. The config is copied. -errno when the state cannot be opened
 * (the caller logs it; reading then does not start). Returns 0 also when there is nothing to tail. */
int log_tailer_new(sd_event *e, const LogTailerConfig *c, LogTailer **ret);
LogTailer *log_tailer_free(LogTailer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(LogTailer *, log_tailer_free);

/* Appends the logs.errors check of every source. */
int log_tailer_checks(LogTailer *t, CheckList *l);

/*
 * Seals what was found since the last seal into a batch (with every position, in one
 * transaction), then returns the unacknowledged batches, oldest first, for the report (at most
 * max). *ret is owned by the caller: log_batches_free(). On a failure to save (disk full) the
 * findings are kept in memory and sealed with a later call (meanwhile a logs.state check says
 * so, and log_tailer_seal_error() returns the error); what was saved before is still returned.
 */
int log_tailer_seal(LogTailer *t, size_t max, Vigil__LogBatch ***ret, size_t *ret_n);
int log_tailer_seal_error(LogTailer *t);

/* The collector applied every batch up to id. */
void log_tailer_ack(LogTailer *t, uint64_t id);

const char *log_tailer_state_id(LogTailer *t);
size_t log_tailer_n_sources(LogTailer *t);
