/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>

/*
 * The health levels used everywhere, ordered by severity for worst-of aggregation except that
 * UNKNOWN ranks between WARN and CRIT (a check that cannot say is worse than a warning, better
 * than a known failure). The numeric values are the Nagios exit codes vigilctl returns.
 */
typedef enum VigilStatus {
        VIGIL_OK = 0,
        VIGIL_WARN = 1,
        VIGIL_CRIT = 2,
        VIGIL_UNKNOWN = 3,
        _VIGIL_STATUS_MAX,
        _VIGIL_STATUS_INVALID = -EINVAL,
} VigilStatus;

/* "OK", "WARN", "CRIT", "UNKNOWN"; NULL for an invalid value. */
const char *vigil_status_to_string(VigilStatus s);
/* Case-insensitive; returns the status or -EINVAL. */
VigilStatus vigil_status_from_string(const char *s);
/* Rank for sorting by severity: OK 0, WARN 1, UNKNOWN 2, CRIT 3 (invalid values rank as UNKNOWN). */
int vigil_status_severity(VigilStatus s);
/* The more severe of a and b (CRIT > UNKNOWN > WARN > OK). */
VigilStatus vigil_status_worst(VigilStatus a, VigilStatus b);
/* Mapping to and from the wire enum vigil.Status (where 0 means UNKNOWN). */
int vigil_status_to_proto(VigilStatus s);
VigilStatus vigil_status_from_proto(int v);
