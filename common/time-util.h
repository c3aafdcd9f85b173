/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <time.h>

#include "macros.h"

typedef uint64_t usec_t;
#define USEC_INFINITY ((usec_t)UINT64_MAX)
#define USEC_PER_SEC ((usec_t)1000000ULL)
#define USEC_PER_MSEC ((usec_t)1000ULL)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)

/* The current time of clock in microseconds. */
usec_t now_usec(clockid_t clock);

/*
 * Parses a duration: a number with an optional unit, or several ("1h30m"): us, ms, s, m/min, h, d.
 * A bare number means default_unit microseconds (USEC_PER_SEC: seconds). Sets *ret_usec only on
 * success; returns 0 or -EINVAL / -ERANGE.
 */
int parse_duration(const char *s, usec_t default_unit, usec_t *ret_usec);

/*
 * Formats a duration for humans into buf (at least 32 bytes): "812 ms", "2.0 s", "42 s", "1h12m",
 * "3d4h". Returns buf.
 */
const char *format_duration(char *buf, size_t size, usec_t usec);
#define FORMAT_DURATION_MAX 32
#define FORMAT_DURATION(usec) format_duration((char[FORMAT_DURATION_MAX]){}, FORMAT_DURATION_MAX, (usec))
