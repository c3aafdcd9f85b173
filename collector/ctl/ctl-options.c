/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "ctl.h"

static int parse_limit(void *obj, const char *value, char **ret_reason) {
        CtlSettings *s = obj;
        unsigned v;

        if (parse_uint(value, &v) < 0) {
                *ret_reason = strdup("not a non-negative integer");
                return -EINVAL;
        }
        s->limit = v;
        s->limit_set = true;
        return 0;
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
                .help = "events: newer than WHEN (a duration back from now: 1h, 30m; or UNIX seconds)"},
        {.key = "node",
                .type = CONFIG_STRING,
                .offset = offsetof(CtlSettings, node),
                .metavar = "NAME",
                .help = "events: only events of node NAME"},
        {.key = "limit",
                .type = CONFIG_CUSTOM,
                .offset = offsetof(CtlSettings, limit),
                .metavar = "N",
                .help = "events: at most N events; status: at most N failing nodes (20; 0: all)",
                .parse = parse_limit},
        {.key = "runbook",
                .type = CONFIG_BOOL,
                .offset = offsetof(CtlSettings, runbook),
                .help = "etcd: print the steps to rebuild a lost etcd cluster"},
};
const size_t ctl_options_count = ELEMENTSOF(ctl_options);

int ctl_settings_init(CtlSettings *s) {
        const char *e = getenv("VIGIL_COLLECTOR");

        *s = (CtlSettings){.timeout = CTL_DEFAULT_TIMEOUT};
        s->collector = strdup(isempty(e) ? CTL_DEFAULT_COLLECTOR : e);
        return s->collector ? 0 : -ENOMEM;
}

void ctl_settings_done(CtlSettings *s) {
        config_free_fields(ctl_options, ctl_options_count, s);
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
