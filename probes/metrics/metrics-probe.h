/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The metrics probe: scrapes one Prometheus endpoint of this node (an Alluxio worker, FUSE or
 * coordinator process) and derives what operators read from it on dashboards: the worker's request
 * rate, FUSE operations and concurrency, UFS bytes and errors, the cache hit rate.
 *
 * The target is the endpoint's name: its role, "worker", "fuse" or "coordinator", optionally followed
 * by "-NAME" when a node runs several of one kind ("fuse-pvc-a"). The URL is a setting ("url", or
 * --metrics ROLE=URL), so that the checks keep their identity when an endpoint moves to another port.
 *
 * The scrape is network I/O, so it happens in the probe child (DESIGN.md section 4): libcurl with a
 * timeout and a page size limit, the page parsed as it arrives (prom-parse.h) and reduced to a few
 * sums by key, written into a MetricsShared page. The agent keeps the previous successful scrape in
 * the instance and computes rates as irate() does: (v2 - v1) / (t2 - t1) per series, a series that
 * went down was reset (its rate is v2 / (t2 - t1)), a series absent from the previous page counts from
 * 0 (labelled counters appear at their first increment). A metric absent from the page is reported
 * as missing, never read as 0.
 *
 * Checks (target: the endpoint name):
 *   metrics.scrape      endpoint reachable, HTTP 200, page parsed; carries MetricsDetails
 *   metrics.rps         worker requests per second; WARN when they rose faster than rps_factor
 *                       within rps_window (the capacity warning)
 *   metrics.hit_rate    cached / (cached + UFS read) bytes; WARN below hit_rate_warn
 *   metrics.ufs_errors  unexpected UFS errors per second (expected codes per UFS scheme filtered
 *                       out); WARN / CRIT above ufs_errors_warn / ufs_errors_crit
 * The last three run for a worker by default ("checks" changes that).
 */

#include "op-record.h"
#include "probe.h"
#include "prom-parse.h"

extern const ProbeOps metrics_probe_ops;

typedef enum MetricsRole {
        METRICS_ROLE_WORKER,
        METRICS_ROLE_FUSE,
        METRICS_ROLE_COORDINATOR,
        _METRICS_ROLE_MAX,
        _METRICS_ROLE_INVALID = -EINVAL,
} MetricsRole;

/* The role of an endpoint name ("fuse-pvc-a": METRICS_ROLE_FUSE), or -EINVAL when it is not one. */
MetricsRole metrics_role_from_name(const char *name);
const char *metrics_role_to_string(MetricsRole r);

/* The series a page is reduced to; each is a configurable metric name. */
typedef enum MetricsFamily {
        METRICS_REQUESTS, /* counter, by method_label: worker requests */
        METRICS_CACHED_READ, /* counter: bytes read from the cache */
        METRICS_UFS_BYTES, /* counter, by method_label: bytes read from / written to the UFS */
        METRICS_FUSE_OPS, /* counter, by fuse_op_label: FUSE operations */
        METRICS_FUSE_CONCURRENCY, /* gauge: FUSE operations in flight */
        METRICS_UFS_ERRORS, /* counter, by ufs_label and error_code_label */
        _METRICS_FAMILY_MAX,
} MetricsFamily;

enum {
        METRICS_CHECK_RPS = 1 << 0,
        METRICS_CHECK_HIT_RATE = 1 << 1,
        METRICS_CHECK_UFS_ERRORS = 1 << 2,
};

/*
 * Per endpoint. String fields left NULL take the built-in default (see metrics_family_name()), so that
 * the defaults live in one place and reloads compare cleanly.
 */
typedef struct MetricsSettings {
        char *url;
        usec_t scrape_timeout; /* the HTTP transfer; the child's deadline adds a margin */
        uint64_t max_page; /* bytes of page (after decompression) accepted */
        char *metric[_METRICS_FAMILY_MAX];
        char *method_label; /* of requests and UFS bytes */
        char *ufs_read_method; /* method_label values of UFS reads and writes */
        char *ufs_write_method;
        char *fuse_op_label;
        char *ufs_label; /* of UFS errors: the UFS (a URI or a scheme) */
        char *error_code_label;
        char *expected_errors; /* "s3:404,403 hdfs: *:404" */
        char *checks; /* "rps hit_rate ufs_errors" or "none"; NULL: by role */
        double hit_rate_warn; /* 0..1 */
        uint64_t hit_rate_min_read; /* bytes per second of reads below which no hit rate is judged */
        double ufs_errors_warn; /* unexpected errors per second */
        double ufs_errors_crit;
        double rps_factor;
        usec_t rps_window;
        double rps_floor; /* requests per second: the base of the comparison is at least this */
} MetricsSettings;

/* The metric name of family f under s (its setting or the default). */
const char *metrics_family_name(const MetricsSettings *s, MetricsFamily f);

/* METRICS_CHECK_* bits of a "checks" value (NULL: the role's default); -EINVAL when malformed. */
int metrics_checks_parse(const char *value, MetricsRole role, unsigned *ret);

/* The irate() rule: the increase of a counter from prev to cur, cur itself when it went down. */
double metrics_counter_increase(double prev, double cur);

#define METRICS_KEY_MAX 96
#define METRICS_CODE_MAX 32
#define METRICS_SERIES_MAX 32
#define METRICS_TEXT_MAX 200

/* One key of a family: the sum of its samples with these label values (cut to the sizes above). */
typedef struct MetricsSeries {
        char key[METRICS_KEY_MAX]; /* the key label's value, "" without it; UFS errors: the UFS */
        char code[METRICS_CODE_MAX]; /* UFS errors: the error code */
        double value;
} MetricsSeries;

typedef struct MetricsSums {
        uint64_t samples; /* samples of the metric on the page; 0: the metric is missing */
        uint32_t n;
        uint32_t folded; /* samples of further keys added to a last series "(other)" */
        MetricsSeries series[METRICS_SERIES_MAX];
} MetricsSums;

/* What the child found, in a MAP_SHARED page; the agent keeps a copy of the last good one. */
typedef struct MetricsShared {
        OpRecord op; /* the scrape; op.error: positive errno (EBADMSG, E2BIG: the page did not parse) */
        int64_t http_status; /* 0 until an answer came */
        uint64_t at; /* CLOCK_MONOTONIC when the page began to arrive: the time of its values */
        uint64_t page_bytes;
        uint64_t samples;
        char error[METRICS_TEXT_MAX]; /* the parser's "line N: ..." */
        MetricsSums sums[_METRICS_FAMILY_MAX];
} MetricsShared;

/* Adds one sample to sh when it is one of the families of s (the child's parser callback). */
void metrics_shared_add_sample(MetricsShared *sh, const MetricsSettings *s, const PromSample *sample);

/* For unit tests: the shared page of an instance, to fill in as a child would. */
MetricsShared *metrics_probe_shared(void *state);
