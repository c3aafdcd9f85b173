/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <strings.h>

#include "ctl.h"

/* A non-negative integer into *ret, noting that it was given. */
static int parse_given_uint(const char *value, unsigned *ret, bool *ret_given, char **ret_reason) {
        if (parse_uint(value, ret) < 0) {
                *ret_reason = strdup("not a non-negative integer");
                return -EINVAL;
        }
        *ret_given = true;
        return 0;
}

static int parse_limit(void *obj, const char *value, char **ret_reason) {
        CtlSettings *s = obj;
        return parse_given_uint(value, &s->limit, &s->limit_set, ret_reason);
}

static int parse_after_context(void *obj, const char *value, char **ret_reason) {
        CtlSettings *s = obj;
        return parse_given_uint(value, &s->after_context, &s->after_context_set, ret_reason);
}

/* The levels the collector knows, least severe first (proto/vigil.proto LogLevel). */
static int parse_level(void *obj, const char *value, char **ret_reason) {
        static const char *const levels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
        CtlSettings *s = obj;

        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (strcasecmp(value, levels[i]) == 0) {
                        char *v = strdup(levels[i]);
                        if (!v)
                                return -ENOMEM;
                        free(s->level);
                        s->level = v;
                        return 0;
                }
        if (asprintf(ret_reason, "'%s' is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL", value) < 0)
                *ret_reason = NULL;
        return -EINVAL;
}

const ConfigOption ctl_options[] = {
        {.key = "collector",
                .type = CONFIG_STRING,
                .offset = offsetof(CtlSettings, collector),
                .metavar = "URL",
                .help = "collector base URL (env VIGIL_COLLECTOR)"},
        {.key = "token_file",
                .type = CONFIG_STRING,
                .offset = offsetof(CtlSettings, token_file),
                .metavar = "FILE",
                .help = "send the bearer token read from FILE"},
        {.key = "ca_file",
                .type = CONFIG_STRING,
                .offset = offsetof(CtlSettings, ca_file),
                .metavar = "FILE",
                .help = "trust these CA certificates (PEM) for an https:// collector"},
        {.key = "json",
                .type = CONFIG_BOOL,
                .offset = offsetof(CtlSettings, json),
                .help = "print the collector's JSON (pretty) instead of tables"},
        {.key = "timeout",
                .type = CONFIG_DURATION,
                .offset = offsetof(CtlSettings, timeout),
                .metavar = "DURATION",
                .help = "give up on the collector after DURATION"},
        {.key = "since",
                .type = CONFIG_STRING,
                .offset = offsetof(CtlSettings, since),
                .metavar = "WHEN",
                .help = "events, logs: newer than WHEN (a duration back from now: 1h, 30m; or UNIX "
                        "seconds)"},
        {.key = "node",
                .type = CONFIG_STRING,
                .offset = offsetof(CtlSettings, node),
                .metavar = "NAME",
                .help = "events, logs, metrics: only those of node NAME"},
        {.key = "source",
                .type = CONFIG_STRING,
                .offset = offsetof(CtlSettings, source),
                .metavar = "SOURCE",
                .help = "logs: only this log source (pod:NS/POD/CONTAINER, file:/PATH, journal:UNIT) or "
                        "those matching a GLOB pattern (pod:alluxio/*)"},
        {.key = "level",
                .type = CONFIG_CUSTOM,
                .offset = offsetof(CtlSettings, level),
                .metavar = "LEVEL",
                .help = "logs: only events of LEVEL and above (TRACE, DEBUG, INFO, WARN, ERROR, FATAL)",
                .parse = parse_level},
        {.key = "after_context",
                .short_flag = 'A',
                .type = CONFIG_CUSTOM,
                .offset = offsetof(CtlSettings, after_context),
                .metavar = "N",
                .help = "logs: print N context lines after each sample, like grep -A (1)",
                .parse = parse_after_context},
        {.key = "limit",
                .type = CONFIG_CUSTOM,
                .offset = offsetof(CtlSettings, limit),
                .metavar = "N",
                .help = "events: at most N events; logs: at most N signatures per source (20); status: at "
                        "most N failing nodes (20; 0: all)",
                .parse = parse_limit},
        {.key = "runbook",
                .type = CONFIG_BOOL,
                .offset = offsetof(CtlSettings, runbook),
                .help = "etcd: print the steps to rebuild a lost etcd cluster"},
};
const size_t ctl_options_count = ELEMENTSOF(ctl_options);

int ctl_settings_init(CtlSettings *s) {
        const char *e = getenv("VIGIL_COLLECTOR");

        *s = (CtlSettings){.timeout = CTL_DEFAULT_TIMEOUT, .after_context = CTL_LOGS_DEFAULT_CONTEXT};
        s->collector = strdup(isempty(e) ? CTL_DEFAULT_COLLECTOR : e);
        return s->collector ? 0 : -ENOMEM;
}

void ctl_settings_done(CtlSettings *s) {
        config_free_fields(ctl_options, ctl_options_count, s);
        s->level = mfree(s->level); /* a CONFIG_CUSTOM field: not freed by the table */
}

static int make_usage_error(char **ret_error, const char *message) {
        *ret_error = strdup(message);
        return *ret_error ? -EINVAL : -ENOMEM;
}

int ctl_parse_argv(CtlSettings *s, int argc, char **argv, char ***ret_args, char **ret_error) {
        _cleanup_(strv_freep) char **args = NULL;
        _cleanup_(freep) char **v = calloc(argc + 1, sizeof(char *));
        int end = argc, start = 1, r;

        if (!v)
                return -ENOMEM;
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--")) {
                        end = i;
                        break;
                }

        /* config_parse_argv() stops at the first positional argument (getopt's "+"), so that
         * `vigilctl node --json NAME` and `vigilctl --json node NAME` read the same: take that
         * argument and go on parsing after it, until the options run out. */
        for (;;) {
                _cleanup_(strv_freep) char **rest = NULL;
                int n = end - start + 1;

                v[0] = argv[0];
                memcpy(v + 1, argv + start, (size_t)(n - 1) * sizeof(char *));
                v[n] = NULL;
                r = config_parse_argv(ctl_options, ctl_options_count, s, n, v, &rest, ret_error);
                if (r != 0)
                        return r;
                if (!rest)
                        break;
                if (strv_extend(&args, rest[0]) < 0)
                        return -ENOMEM;
                start = end - (int)strv_length(rest) + 1;
        }
        for (int i = end + 1; i < argc; i++)
                if (strv_extend(&args, argv[i]) < 0)
                        return -ENOMEM;

        if (s->timeout == 0)
                return make_usage_error(
                        ret_error, "bad value for 'timeout' (--timeout): must be more than 0");
        if (isempty(s->collector))
                return make_usage_error(ret_error, "bad value for 'collector' (--collector): empty URL");
        *ret_args = TAKE_PTR(args);
        return 0;
}
