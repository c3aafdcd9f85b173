/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The agent's persistent state: SQLite (WAL, synchronous=FULL) at <state_dir>/agent.db. It holds
 *   - a random state id, made when the database is made (NodeReport.log_state_id);
 *   - per log source, its position (LogPosition: file offsets or journal cursor, carry-over);
 *   - sealed log batches not yet acknowledged by the collector.
 * log_state_seal() writes the positions of every source together with the new batch in one
 * transaction: either both are durable or neither, which is what makes every line count once.
 *
 * Single-threaded (the agent's event loop). Errors are negative errno values; SQLite's codes are
 * translated in one place.
 */

#include <stdint.h>

#include "macros.h"
#include "vigil.pb-c.h"

typedef struct LogState LogState;

/* Opens (creating dir and database if needed). -EROFS/-EACCES/-ENOSPC as the system says. */
int log_state_open(const char *dir, LogState **ret);
LogState *log_state_free(LogState *st);
DEFINE_TRIVIAL_CLEANUP_FUNC(LogState *, log_state_free);

const char *log_state_id(const LogState *st);

/* The saved position of source; -ENOENT when there is none. *ret: free_unpacked by the caller. */
int log_state_get_position(LogState *st, const char *source, Vigil__LogPosition **ret);

/* One position to save. */
typedef struct LogStatePut {
        const char *source;
        const Vigil__LogPosition *position; /* NULL: forget the source */
} LogStatePut;

/*
 * In one transaction: saves the positions, and, when batch is not NULL, gives it the next id
 * (batch->id is set) and stores it. Drops the oldest unacknowledged batches beyond max_batches
 * (0: no limit) and returns how many were dropped (>= 0), or -errno with nothing written.
 */
int log_state_seal(
        LogState *st, const LogStatePut *puts, size_t n, Vigil__LogBatch *batch, unsigned max_batches);

/* Unacknowledged batches, oldest first, at most max; *ret is an array the caller frees with
 * log_batches_free(). */
int log_state_pending(LogState *st, size_t max, Vigil__LogBatch ***ret, size_t *ret_n);
void log_batches_free(Vigil__LogBatch **v, size_t n);

/* The collector applied every batch up to and including id: they are deleted. */
int log_state_ack(LogState *st, uint64_t id);
