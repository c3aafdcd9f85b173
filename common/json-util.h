/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The JSON form of checks and reports, shared by the collector's API, `vigil-agent --once --json`
 * and vigilctl, so that every program shows a check the same way. Built on json-c.
 *
 * A check: {"name","target","status","message","latency_ms","errno"?,"error_code"?,
 *           "details"?: {key: value}, "fuse"?: {...}}
 */

#include <json-c/json.h>
#include <stdio.h>

#include "macros.h"
#include "vigil.pb-c.h"

static inline json_object *json_object_put_ptr(json_object *o) {
        json_object_put(o);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put_ptr);
#define _cleanup_json_ _cleanup_(json_object_put_ptrp)

/* "ENOTCONN" for ENOTCONN; NULL for 0 or an unknown value. */
const char *errno_to_name(int e);

/* v printed with digits decimals ("%.3f"), not json-c's 17 significant digits (0.054443999999999999). */
json_object *json_new_double_digits(double v, int digits);

/* Milliseconds from microseconds, printed with microsecond precision (not 0.29999999999999999). */
json_object *json_new_ms(uint64_t usec);

/* New JSON object for c (caller owns it), or NULL on OOM. */
json_object *check_result_to_json(const Vigil__CheckResult *c);

/* New JSON array of the checks of r, or NULL on OOM. */
json_object *report_checks_to_json(const Vigil__NodeReport *r);

/* Convenience getters that tolerate missing keys and wrong types. */
const char *json_get_string(json_object *o, const char *key, const char *def);
int64_t json_get_int(json_object *o, const char *key, int64_t def);
double json_get_double(json_object *o, const char *key, double def);

/*
 * Prints a JSON array of checks as an aligned table (STATUS CHECK TARGET LATENCY MESSAGE), worst
 * first when sort is true.
 */
void checks_print_table(json_object *checks, bool sort, FILE *f);
