/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * vigilctl's building blocks, kept apart from main.c so they can be tested without a collector:
 * the settings and their argv parsing (ctl-options.c), the blocking JSON client (ctl-client.c),
 * output helpers (ctl-output.c) and one renderer per command (ctl-status.c, ctl-nodes.c,
 * ctl-events.c, ctl-logs.c, ctl-metrics.c, ctl-etcd.c). Renderers take a parsed collector answer and a FILE
 * *, print the human view and return the status the command exits with; they never log and never touch the
 * network.
 */

#include <json-c/json.h>
#include <stdio.h>

#include "config.h"
#include "macros.h"
#include "status.h"
#include "time-util.h"

#define CTL_DEFAULT_COLLECTOR "http://127.0.0.1:7070"
#define CTL_DEFAULT_TIMEOUT (5 * USEC_PER_SEC)
/* `status` lists at most this many failing nodes unless --limit says otherwise. */
#define CTL_STATUS_DEFAULT_NODES 20
/* `logs` shows this many context lines after each sample unless -A says otherwise. */
#define CTL_LOGS_DEFAULT_CONTEXT 1

/* Usage errors, an unreachable collector and bad answers all exit UNKNOWN (Nagios convention). */
#define CTL_EXIT_ERROR ((int)VIGIL_UNKNOWN)

/* ------------------------------------------------------------------ settings (ctl-options.c) */

typedef struct CtlSettings {
        char *collector; /* base URL, owned */
        char *token_file; /* owned, NULL: no token */
        char *ca_file; /* owned, NULL: the system's CAs */
        bool json;
        usec_t timeout;
        char *since; /* events and logs, owned */
        char *node; /* events, logs and metrics, owned */
        char *source; /* logs only, owned */
        char *level; /* logs only, owned: TRACE, DEBUG, INFO, WARN, ERROR or FATAL */
        unsigned after_context; /* logs: context lines shown after each sample */
        bool after_context_set;
        unsigned limit; /* events: max events; logs: max signatures per source; status: max failing
                         * nodes listed; 0: default */
        bool limit_set;
        bool runbook; /* etcd only: print the rebuild runbook */
} CtlSettings;

extern const ConfigOption ctl_options[];
extern const size_t ctl_options_count;

/* Fills s with the defaults: the collector from $VIGIL_COLLECTOR, else CTL_DEFAULT_COLLECTOR. */
int ctl_settings_init(CtlSettings *s);
/* Frees the owned fields of s. */
void ctl_settings_done(CtlSettings *s);

/*
 * Parses `vigilctl [OPTIONS] COMMAND [ARGS]`, where options may also follow the command or its
 * arguments; everything after "--" is positional. Returns 1 for --help, 2 for --version, 0
 * otherwise with the positional arguments (command first) in *ret_args (NULL when none). On a
 * usage error returns -EINVAL with an allocated one-line message in *ret_error.
 */
int ctl_parse_argv(CtlSettings *s, int argc, char **argv, char ***ret_args, char **ret_error);

/* ------------------------------------------------------------------ client (ctl-client.c) */

typedef struct CtlClient {
        char *url; /* collector base URL without trailing '/', owned */
        char *token; /* bearer token, owned, NULL: none */
        char *ca_file; /* PEM CAs to trust for https, owned, NULL: the system's */
        usec_t timeout;
        /* About the last request, for messages: HTTP status (0 when no answer arrived) and the
         * collector's {"error": ...} text of a failed answer (owned, NULL when none). */
        long last_status;
        char *last_error;
} CtlClient;

/* Takes copies of url (a trailing '/' is dropped) and token. */
int ctl_client_new(const char *url, const char *token, const char *ca_file, usec_t timeout, CtlClient **ret);
CtlClient *ctl_client_free(CtlClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CtlClient *, ctl_client_free);

/*
 * GETs path (starting with '/', query already escaped) and parses the answer as JSON; *ret is
 * owned by the caller. Errors: the transport errors of http_request() (-ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH, -ECONNRESET, ...), -EKEYREJECTED for 401, -EPERM for 403, -ENOENT
 * for 404, -EREMOTEIO for any other status that is not 2xx, -EBADMSG when a 2xx answer is not a
 * JSON object.
 */
int ctl_client_get_json(CtlClient *c, const char *path, json_object **ret);

/* Parses text (size bytes) as exactly one JSON object; -EBADMSG otherwise. */
int ctl_parse_json_object(const char *text, size_t size, json_object **ret);

/* *ret = prefix followed by segment URL-escaped ("/v1/nodes/" + "a b" = "/v1/nodes/a%20b"). */
int ctl_url_path(const char *prefix, const char *segment, char **ret);

/* Appends "&key=value" (or "?key=value" when *url has no '?' yet) with value URL-escaped. */
int ctl_url_append_query(char **url, const char *key, const char *value);

/* ------------------------------------------------------------------ output (ctl-output.c) */

/* Colors only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
bool ctl_want_color(FILE *f);

/* The exit code for a status string of the collector: 0 OK, 1 WARN, 2 CRIT, 3 otherwise. */
int ctl_exit_code_from_string(const char *status);

/* "CRIT" in the status color when color is true, padded to width (0: no padding). */
void ctl_print_status(FILE *f, const char *status, int width, bool color);

/* Prints o pretty (two-space indent) followed by a newline. */
int ctl_print_json(json_object *o, FILE *f);

/* "2025-11-25 14:00:00" in local time, into buf (at least 32 bytes). */
const char *ctl_format_time_ms(char *buf, size_t size, int64_t time_ms);

/* "1.2 s ago" for an age in seconds; "never" for a negative age. */
const char *ctl_format_age(char *buf, size_t size, double age_s);

/* More severe first: CRIT, UNKNOWN, WARN, OK (the order of vigil_status_worst()). */
int ctl_status_compare(const char *a, const char *b);

/* The array under key in o (borrowed), or NULL when o has no array there. */
json_object *ctl_get_array(json_object *o, const char *key);

/* "" for 1, else "s": "1 error", "2 errors". */
const char *ctl_plural(int64_t n);

/* v with about three significant digits and no trailing zeros: "1250", "87.5", "3", "0.125". */
const char *ctl_format_number(char *buf, size_t size, double v);

/* A rate of bytes per second in SI units: "512 B/s", "120 MB/s", "1.2 GB/s". */
const char *ctl_format_bytes_per_s(char *buf, size_t size, double v);

/* The object under key in o (borrowed), or NULL when o has no object there. */
json_object *ctl_get_object(json_object *o, const char *key);

/* Whether o has a number under key, and then its value in *ret. */
bool ctl_get_number(json_object *o, const char *key, double *ret);

/* ------------------------------------------------------------------ renderers */

/*
 * The `status` screen from a GET /v1/cluster answer (normally ?failing=1): verdict line, agents
 * line, family counts, failing nodes (at most max_nodes of them, worst first; 0: all) with their
 * failing checks. Returns the cluster status (0..3), -EBADMSG when cluster has no status, or
 * -ENOMEM.
 */
int ctl_status_render(json_object *cluster, unsigned max_nodes, bool color, FILE *f);

/* The exit status of a GET /v1/cluster answer: its status, or -EBADMSG when missing. */
int ctl_cluster_status(json_object *cluster);

/* The `nodes` table from GET /v1/nodes. Returns the worst node status (UNKNOWN for no node). */
int ctl_nodes_render(json_object *nodes, bool color, FILE *f);
/* The worst node status of a GET /v1/nodes answer (UNKNOWN for no node); -EBADMSG if malformed. */
int ctl_nodes_status(json_object *nodes);

/* The `node NAME` view from GET /v1/nodes/NAME. Returns the node status. */
int ctl_node_render(json_object *node, bool color, FILE *f);

/* The `events` table from GET /v1/events. Returns 0, or -EBADMSG when there is no events list. */
int ctl_events_render(json_object *events, bool color, FILE *f);

/*
 * The `logs` view from GET /v1/logs, in the manner of grep -A: per node and source a header line
 * (counts, restarts), then per signature its sample behind a count and time annotation and up to
 * after_context of its context lines, "--" between signatures when context is shown; the previous
 * container's evidence under a header of its own. Returns 0, or -EBADMSG without a logs list.
 */
int ctl_logs_render(json_object *logs, unsigned after_context, bool color, FILE *f);

/*
 * The `metrics` table from GET /v1/metrics: per key series its current value, the last hour, the
 * same hour a day and a week ago and the day-over-day and week-over-week changes (significant ones
 * marked), with the FUSE operations and UFS errors broken down under their rows. Returns 0, or
 * -EBADMSG when the answer has no "current" object.
 */
int ctl_metrics_render(json_object *metrics, bool color, FILE *f);

/*
 * Renders GET /v1/etcd (members table, leader, workers, outage, checks) to f; returns the exit
 * code of its "status", or -EBADMSG when the document lacks one.
 */
int ctl_etcd_render(json_object *etcd, bool color, FILE *f);

/* ------------------------------------------------------------------ UFS tests (ctl-ufs.c) */

/* Whether verb is one of the UFS commands (ufs-test, ufs-io-test), which take options of their own
 * and never talk to the collector. */
bool ctl_ufs_is_command(const char *verb);

/* Runs `vigilctl VERB ...` for a UFS command, argv being the whole command line; returns the exit
 * code (0 passed, 2 failed) or a negative errno after logging why the test could not run. */
int ctl_ufs_main(const char *verb, int argc, char **argv);

/* ufs-io-test's summary in the structure of ufsIOTest's IOTaskSummary (readSpeedStat, writeSpeedStat,
 * errors, baseParameters, points, parameters); data_size as the user gave it ("512m"). NULL on OOM. */
struct UfsIoSummary;
json_object *ctl_ufs_io_summary_json(const struct UfsIoSummary *s, const char *data_size, int64_t start_ms);

/* The part of doc from the line starting with heading to the end, or NULL when absent. */
const char *ctl_doc_section(const char *doc, const char *heading);
