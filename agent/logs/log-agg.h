/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What one source's events add up to. Between two seals it groups events by signature (count,
 * first and last seen, the latest sample with its context) and counts them per minute and level;
 * log_agg_take_batch() hands that over as a LogSourceBatch and starts afresh. Independently it
 * keeps the last hour of per-minute counts, from which log_agg_check() judges a burst, and the
 * last few events, kept as "previous container" evidence when the container restarts.
 *
 * Bounded: at most max_signatures groups per batch (further kinds are counted in one
 * "(other messages)" group), previous_keep events, 60 minutes of counts.
 */

#include "check.h"
#include "log-scan.h"

typedef struct LogAggOptions {
        unsigned max_signatures; /* 0: 200 */
        unsigned previous_keep; /* 0: 5 */
        /* Burst: the errors (ERROR and FATAL) of the last full minute against the mean of the
         * minutes before it in the hour. WARN at warn_factor × the baseline, CRIT at crit_factor ×;
         * never below min_per_minute errors. 0: 5, 20, 10. */
        double burst_warn_factor;
        double burst_crit_factor;
        unsigned burst_min_per_minute;
} LogAggOptions;

typedef struct LogAgg LogAgg;

int log_agg_new(const LogAggOptions *o, LogAgg **ret);
LogAgg *log_agg_free(LogAgg *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(LogAgg *, log_agg_free);

/* Adds one event; now_ms is the wall clock (used when the line has no time). -ENOMEM. */
int log_agg_add(LogAgg *a, const LogEvent *e, int64_t now_ms);

/* The container restarted (restart count from -> to): the last events become the previous
 * container's evidence, shipped with the next batch. */
void log_agg_note_restart(LogAgg *a, uint32_t from, uint32_t to);

/*
 * Moves what was gathered since the last call into a new batch for source, with the scanner's
 * stats since then (lines, bytes, lines cut) and bytes_lost. *ret is NULL when there is nothing
 * to say (no lines, no events, no loss). The batch is freed with protobuf-c's free_unpacked.
 */
int log_agg_take_batch(LogAgg *a, const char *source, const LogScanStats *delta, uint64_t bytes_lost,
        uint32_t restart_count, Vigil__LogSourceBatch **ret);

/*
 * The logs.errors check of the source: OK with the recent rates, WARN/CRIT on a burst; details
 * errors_last_hour, warnings_last_hour, errors_last_minute, baseline_per_minute, restarts; read_error
 * (an errno, for the message) turns it UNKNOWN.
 */
int log_agg_check(LogAgg *a, const char *source, int64_t now_ms, int read_error, const char *read_what,
        CheckResult **ret);

/*
 * Makes a sealed batch fit in max bytes packed, so that no report the collector would refuse
 * (413) is ever made: samples and context lines are cut to 1 KiB (marked sample_cut), then left
 * out, then patterns cut to 64 bytes. Counts are never touched. Returns the packed size after.
 */
size_t log_batch_fit(Vigil__LogBatch *b, size_t max);
