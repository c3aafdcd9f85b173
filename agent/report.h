/* SPDX-License-Identifier: MIT */
#pragma once

/* Building a NodeReport from a cycle's results: the wire form for the shipper, JSON and a table
 * for `vigil-agent --once`. */

#include <json-c/json.h>

#include "check.h"

typedef struct AgentIdentity {
        const char *node;
        const char *cluster;
        const char *boot_id; /* random per agent run */
        const char *kernel_boot_id;
        uint32_t interval_ms;
} AgentIdentity;

/* The log findings a report carries (borrowed). */
typedef struct ReportLogs {
        const char *state_id;
        Vigil__LogBatch **batches;
        size_t n_batches;
} ReportLogs;

/* Encodes a report of the borrowed checks and log batches (logs may be NULL); *ret_buf is malloc'd. */
int report_encode(const AgentIdentity *id, uint64_t seq, int64_t time_unix_ms, CheckResult **checks,
        size_t n, const ReportLogs *logs, uint8_t **ret_buf, size_t *ret_size);

/* {"node","cluster","status","seq","checks":[...]} — the shape of /v1/nodes/NAME, minus ages. */
json_object *report_to_json(const AgentIdentity *id, uint64_t seq, CheckResult **checks, size_t n);

/* The worst status of the checks (UNKNOWN when there are none). */
VigilStatus report_status(CheckResult **checks, size_t n);

/* One line for sd_notify STATUS=: "3 checks: 2 OK, 1 CRIT — fuse.mount /mnt/x: hung ...". */
int report_summary(CheckResult **checks, size_t n, char **ret);
