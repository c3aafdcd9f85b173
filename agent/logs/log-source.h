/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A log source: one stream of lines (a container's logs across restarts and rotations, a file
 * and its rolled predecessors, a journald unit) with its scanner and aggregate. Kinds implement
 * LogSourceOps and embed LogSource as their first member.
 *
 * Names: "pod:NAMESPACE/POD/CONTAINER", "file:/abs/path", "journal:UNIT".
 */

#include "log-agg.h"
#include "log-scan.h"
#include "log-state.h"

typedef struct LogSource LogSource;

typedef struct LogSourceOps {
        const char *kind;
        /*
         * Reads what is new, at most about *budget bytes (decrements it). Returns 1 when more is
         * waiting (call again later in the same loop iteration's spirit: yield first), 0 when caught
         * up, -errno when the source cannot be read now (kept in s->error and shown by the check).
         */
        int (*read)(LogSource *s, size_t *budget);
        /* Where the source is now, as a new message for log_state_seal(). */
        int (*position)(LogSource *s, Vigil__LogPosition **ret);
        /* Frees what the kind added (not the LogSource part). */
        void (*done)(LogSource *s);
} LogSourceOps;

/* The settings every source shares. */
typedef struct LogSourceSettings {
        LogScanOptions scan;
        LogAggOptions agg;
        bool from_head; /* a source without saved position starts at its beginning (else its end) */
} LogSourceSettings;

struct LogSource {
        const LogSourceOps *ops;
        char *name;
        char *key; /* in the state: the name, or for a pod the container directory (a pod made
                    * again under the same name is a new stream) */
        LogScanner *scanner;
        LogAgg *agg;
        LogScanStats reported; /* scanner stats at the last batch */
        uint64_t bytes_lost; /* since the last batch */
        uint32_t files_lost; /* since the last batch */
        uint32_t restart_count;
        int error; /* -errno of the last read, 0 when fine */
        char *error_what; /* what failed, e.g. "open /var/log/x.log" */
        int64_t now_ms; /* wall clock of the current read, for events without a time */
        bool event_was_open; /* at the last position */
};

/* Initialises the shared part (name copied; scanner wired to the aggregate). */
int log_source_init(LogSource *s, const LogSourceOps *ops, const char *name, const LogSourceSettings *set);
/* Frees everything of s, the kind's part through ops->done, and s itself. Accepts NULL. */
LogSource *log_source_free(LogSource *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(LogSource *, log_source_free);

/* Records a read failure (err < 0) or success (0) with what failed (printf-like). */
void log_source_set_error(LogSource *s, int err, const char *format, ...) _printf_(3, 4);

/* Restores the scanner carry and restart count from a saved position. */
int log_source_restore(LogSource *s, const Vigil__LogPosition *p);
/* A new position with the scanner carry and restart count filled in (the kind adds the rest).
 * An event that was already open at the previous call is emitted first: its context had a whole
 * cycle to arrive, and a quiet log must not hold its last error back for ever. */
int log_source_new_position(LogSource *s, Vigil__LogPosition **ret);

/* The batch of what was found since the last call (NULL when nothing). */
int log_source_take_batch(LogSource *s, Vigil__LogSourceBatch **ret);

/* Kinds. settings are copied. */
int log_file_source_new(const char *path, const LogSourceSettings *set, LogState *st, LogSource **ret);
int log_pod_source_new(const char *container_dir, const char *name, const LogSourceSettings *set,
        LogState *st, LogSource **ret);
/* unit: "alluxio-worker.service"; journal_dir: a directory of journal files, NULL for the
 * system journal. */
int log_journal_source_new(const char *unit, const char *journal_dir, const LogSourceSettings *set,
        LogState *st, LogSource **ret);
