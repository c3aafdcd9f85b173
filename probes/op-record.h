/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a probe child did, operation by operation, written into memory it shares with the agent
 * (MAP_SHARED, so it survives fork). When a child misses its deadline the agent reads these records
 * to tell which operation it is stuck in and for how long.
 */

#include <stdbool.h>
#include <stdint.h>

#include "time-util.h"

typedef enum OpState {
        OP_NOT_STARTED = 0,
        OP_IN_PROGRESS = 1,
        OP_FINISHED = 2,
} OpState;

typedef struct OpRecord {
        uint64_t start_usec; /* CLOCK_MONOTONIC */
        uint64_t latency_usec;
        int32_t error; /* positive errno, 0 on success */
        int32_t state; /* OpState */
} OpRecord;

/* In the child: marks the start of an operation. */
void op_record_begin(OpRecord *rec);
/* In the child: records the end with error (positive errno, 0: success); returns error == 0. */
bool op_record_end(OpRecord *rec, int error);
/* The last record of recs[0..n) started and not finished, or -1. */
int op_records_in_progress(const OpRecord *recs, int n);
/* Latency of a finished record; for one in progress, the time spent so far. */
usec_t op_record_latency(const OpRecord *rec, usec_t now);

/* A zeroed MAP_SHARED anonymous mapping of size bytes, or NULL with errno set. */
void *probe_shared_new(size_t size);
/* Unmaps it; returns NULL. */
void *probe_shared_free(void *p, size_t size);
