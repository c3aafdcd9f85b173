/* SPDX-License-Identifier: MIT */
/*
 * vigilctl: the operator's view of a vigil cluster, read from the collector's HTTP API
 * (docs/api.md). Human tables by default, --json for scripts, and the exit code is the status of
 * what was asked (0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN), so it doubles as a Nagios-style check.
 */
#include <ctype.h>
#include <inttypes.h>

#include "ctl.h"
#include "http-client.h"
#include "json-util.h"
#include "log.h"

typedef struct Ctl {
        CtlSettings *settings;
        CtlClient *client;
        bool color;
} Ctl;

static void help(const CtlSettings *s, FILE *f) {
        fprintf(f,
                "Usage: vigilctl [OPTIONS] COMMAND [ARGS]\n"
                "\n"
                "Shows the health of a vigil cluster as its collector sees it.\n"
                "\n"
                "Commands:\n"
                "  status                         cluster verdict, agents ready, check families, failing "
                "nodes\n"
                "  nodes                          one line per node\n"
                "  node NAME                      one node with all its checks\n"
                "  events [--since WHEN] [--node NAME] [--limit N]\n"
                "                                 status changes, oldest first\n"
                "  logs [--node NAME] [--source SOURCE] [--level LEVEL] [-A N] [--since WHEN] [--limit N]\n"
                "                                 what the agents found in the logs, per node and source,\n"
                "                                 the way grep -A shows it\n"
                "  metrics [--node NAME]          request rate, FUSE load, UFS traffic and errors, hit "
                "rate,\n"
                "                                 each against the same hour a day and a week ago\n"
                "  etcd [--runbook]               etcd members, leader, workers, outage; --runbook: how to\n"
                "                                 rebuild a lost etcd\n"
                "  ufs-test --path URI [--test NAME ...]\n"
                "                                 the UFS operation suite (ufsTest), straight against the "
                "UFS\n"
                "  ufs-io-test --path URI [--io-size SIZE] [--threads N]\n"
                "                                 UFS write and read throughput (ufsIOTest), JSON summary\n"
                "                                 (see vigilctl ufs-test --help for their options)\n"
                "\n"
                "Options (before or after the command):\n");
        config_print_help(ctl_options, ctl_options_count, s, f);
        fprintf(f,
                "\n"
                "Exit status (Nagios convention): 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN.\n"
                "  status and node exit with the status shown, nodes with the worst node status,\n"
                "  events, logs and metrics with 0. 3 also when the collector cannot be reached, refuses "
                "the\n"
                "  token or answers something that is not valid JSON, and for usage errors.\n"
                "\n"
                "See docs/vigilctl.md for examples.\n");
}

/* Logs why a request to the collector failed, in operator words; returns r. */
static int log_request_error(const Ctl *c, const char *path, int r) {
        const char *url = c->client->url, *e = c->client->last_error;

        switch (-r) {
        case ECONNREFUSED:
                return log_error_errno(r, "cannot reach collector at %s: connection refused", url);
        case ETIMEDOUT:
                return log_error_errno(r, "cannot reach collector at %s: no answer within %s", url,
                        FORMAT_DURATION(c->client->timeout));
        case EHOSTUNREACH:
                return log_error_errno(
                        r, "cannot reach collector at %s: host not found or unreachable", url);
        case ECONNRESET:
                return log_error_errno(
                        r, "cannot reach collector at %s: connection closed without an answer", url);
        case EACCES:
                return log_error_errno(r, "cannot reach collector at %s: TLS certificate not trusted", url);
        case EINVAL:
                return log_error_errno(r, "bad collector URL: %s", url);
        case EPROTO:
                return log_error_errno(r, "collector at %s sent a malformed HTTP answer", url);
        case EFBIG:
                return log_error_errno(r, "answer of collector at %s to %s is too large", url, path);
        case EKEYREJECTED:
                if (c->client->token)
                        return log_error_errno(r, "collector refused the token (401)");
                return log_error_errno(r, "collector requires a token (401): use --token-file FILE");
        case EPERM:
                return log_error_errno(
                        r, "collector refused the request (403)%s%s", e ? ": " : "", strempty(e));
        case ENOENT:
                return log_error_errno(
                        r, "collector at %s has no %s (404)%s%s", url, path, e ? ": " : "", strempty(e));
        case EREMOTEIO:
                return log_error_errno(r, "collector at %s answered HTTP %ld to %s%s%s", url,
                        c->client->last_status, path, e ? ": " : "", strempty(e));
        case EBADMSG:
                return log_error_errno(
                        r, "collector at %s answered %s with something that is not valid JSON", url, path);
        case ENOMEM:
                return log_oom();
        default:
                return log_error_errno(r, "cannot reach collector at %s: %m", url);
        }
}

static int log_unexpected_answer(const Ctl *c, const char *path, const char *what) {
        return log_error_errno(
                -EBADMSG, "collector at %s answered %s without %s", c->client->url, path, what);
}

static int get(Ctl *c, const char *path, json_object **ret) {
        int r = ctl_client_get_json(c->client, path, ret);
        return r < 0 ? log_request_error(c, path, r) : 0;
}

static int print_json(json_object *o) {
        int r = ctl_print_json(o, stdout);
        return r < 0 ? log_oom() : 0;
}

static int verb_status(Ctl *c, char **args) {
        const char *path = c->settings->json ? "/v1/cluster" : "/v1/cluster?failing=1";
        unsigned max_nodes = c->settings->limit_set ? c->settings->limit : CTL_STATUS_DEFAULT_NODES;
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = get(c, path, &o);
        if (r < 0)
                return r;
        if (c->settings->json) {
                r = print_json(o);
                if (r < 0)
                        return r;
                r = ctl_cluster_status(o);
        } else
                r = ctl_status_render(o, max_nodes, c->color, stdout);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_unexpected_answer(c, path, "a \"status\"");
        return r;
}

/* The exit code of a document's own "status" (a node, etcd). */
static int document_status(json_object *o) {
        const char *st = json_get_string(o, "status", NULL);
        return st ? ctl_exit_code_from_string(st) : -EBADMSG;
}

/*
 * Prints o as JSON with --json and returns status(o), else returns render(o)'s exit code; an
 * answer either cannot use is reported as not being `expected`.
 */
static int show(Ctl *c, json_object *o, const char *path, int (*status)(json_object *),
        int (*render)(json_object *, bool, FILE *), const char *expected) {
        int r;

        if (c->settings->json) {
                r = print_json(o);
                if (r < 0)
                        return r;
                r = status(o);
        } else
                r = render(o, c->color, stdout);
        if (r < 0)
                return log_unexpected_answer(c, path, expected);
        return r;
}

static int verb_nodes(Ctl *c, char **args) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = get(c, "/v1/nodes", &o);
        if (r < 0)
                return r;
        return show(c, o, "/v1/nodes", ctl_nodes_status, ctl_nodes_render, "a \"nodes\" list");
}

static int verb_node(Ctl *c, char **args) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        if (isempty(args[1]))
                return log_error_errno(-EINVAL, "node: empty node name");
        r = ctl_url_path("/v1/nodes/", args[1], &path);
        if (r < 0)
                return log_oom();
        r = ctl_client_get_json(c->client, path, &o);
        if (r == -ENOENT)
                return log_error_errno(r, "no such node: %s", args[1]);
        if (r < 0)
                return log_request_error(c, path, r);
        return show(c, o, path, document_status, ctl_node_render, "a \"status\"");
}

/* --since: a duration back from now ("1h", "90m", "1h30m"), sent as UNIX seconds so that the
 * collector need not know our duration syntax, or UNIX seconds as they are. */
static int since_to_unix_seconds(const char *since, char **ret) {
        usec_t d;
        char *s;

        if (strspn(since, "0123456789") == strlen(since))
                s = strdup(since);
        else {
                if (parse_duration(since, USEC_PER_SEC, &d) < 0)
                        return -EINVAL;
                usec_t now = now_usec(CLOCK_REALTIME);
                if (asprintf(&s, "%" PRIu64, (d < now ? now - d : 0) / USEC_PER_SEC) < 0)
                        s = NULL;
        }
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* *ret = base followed by the query of --since, --node and --limit (events and logs share them). */
static int listing_path(const CtlSettings *s, const char *base, char **ret) {
        _cleanup_(freep) char *path = strdup(base);
        int r;

        if (!path)
                return log_oom();
        if (s->since) {
                _cleanup_(freep) char *since = NULL;
                r = since_to_unix_seconds(s->since, &since);
                if (r == -EINVAL)
                        return log_error_errno(r,
                                "bad value for 'since' (--since): '%s' is not a duration (e.g. 1h, 30m) or "
                                "UNIX seconds",
                                s->since);
                if (r < 0 || ctl_url_append_query(&path, "since", since) < 0)
                        return log_oom();
        }
        if (s->node && ctl_url_append_query(&path, "node", s->node) < 0)
                return log_oom();
        if (s->limit_set) {
                char n[32];
                snprintf(n, sizeof(n), "%u", s->limit);
                if (ctl_url_append_query(&path, "limit", n) < 0)
                        return log_oom();
        }
        *ret = TAKE_PTR(path);
        return 0;
}

/* GETs path and prints the answer: as JSON with --json, else as render() shows it. Exits 0. */
static int show_listing(Ctl *c, const char *path, const char *expected,
        int (*render)(json_object *o, const CtlSettings *s, bool color, FILE *f)) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = get(c, path, &o);
        if (r < 0)
                return r;
        if (c->settings->json)
                return print_json(o);
        r = render(o, c->settings, c->color, stdout);
        if (r < 0)
                return log_unexpected_answer(c, path, expected);
        return 0;
}

static int render_events(json_object *o, const CtlSettings *s, bool color, FILE *f) {
        return ctl_events_render(o, color, f);
}

static int verb_events(Ctl *c, char **args) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = listing_path(c->settings, "/v1/events", &path);
        if (r < 0)
                return r;
        return show_listing(c, path, "an \"events\" list", render_events);
}

static int render_logs(json_object *o, const CtlSettings *s, bool color, FILE *f) {
        return ctl_logs_render(o, s->after_context, color, f);
}

static int verb_logs(Ctl *c, char **args) {
        _cleanup_(freep) char *path = NULL;
        const CtlSettings *s = c->settings;
        int r;

        r = listing_path(s, "/v1/logs", &path);
        if (r < 0)
                return r;
        if ((s->source && ctl_url_append_query(&path, "source", s->source) < 0) ||
                (s->level && ctl_url_append_query(&path, "level", s->level) < 0))
                return log_oom();
        return show_listing(c, path, "a \"logs\" list", render_logs);
}

static int verb_metrics(Ctl *c, char **args) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(freep) char *path = strdup("/v1/metrics");
        int r;

        if (!path || (c->settings->node && ctl_url_append_query(&path, "node", c->settings->node) < 0))
                return log_oom();
        r = ctl_client_get_json(c->client, path, &o);
        if (r == -ENOENT && c->settings->node)
                return log_error_errno(r, "no such node: %s", c->settings->node);
        if (r < 0)
                return log_request_error(c, path, r);
        if (c->settings->json)
                return print_json(o);
        r = ctl_metrics_render(o, c->color, stdout);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_unexpected_answer(c, path, "a \"current\" object");
        return 0;
}

#include "etcd-doc.h"

static int verb_etcd(Ctl *c, char **args) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        if (c->settings->runbook) {
                const char *section = ctl_doc_section(etcd_doc, "## Runbook: rebuild a lost etcd");
                if (!section)
                        return log_error_errno(
                                -ENOENT, "the runbook is missing from this build's docs/etcd.md");
                fputs(section, stdout);
                return 0;
        }
        r = get(c, "/v1/etcd", &o);
        if (r == -ENOENT)
                return log_error_errno(r, "the collector does not check etcd (start it with --etcd URL)");
        if (r < 0)
                return r;
        return show(c, o, "/v1/etcd", document_status, ctl_etcd_render, "a \"status\"");
}

/* Which of the command-specific options a command takes. */
enum {
        VERB_SINCE = 1 << 0, /* --since */
        VERB_NODE = 1 << 1, /* --node */
        VERB_LOG_FILTERS = 1 << 2, /* --source, --level, -A */
};

typedef struct Verb {
        const char *name;
        unsigned n_args; /* after the command name */
        unsigned options;
        int (*run)(Ctl *c, char **args);
} Verb;

static const Verb verbs[] = {
        {"status", 0, 0, verb_status},
        {"nodes", 0, 0, verb_nodes},
        {"node", 1, 0, verb_node},
        {"events", 0, VERB_SINCE | VERB_NODE, verb_events},
        {"logs", 0, VERB_SINCE | VERB_NODE | VERB_LOG_FILTERS, verb_logs},
        {"metrics", 0, VERB_NODE, verb_metrics},
        {"etcd", 0, 0, verb_etcd},
};

static int run(int argc, char **argv) {
        _cleanup_(ctl_settings_done) CtlSettings settings = {};
        _cleanup_(ctl_client_freep) CtlClient *client = NULL;
        _cleanup_(strv_freep) char **args = NULL;
        _cleanup_(freep) char *error = NULL, *token = NULL;
        const Verb *verb = NULL;
        int r;

        r = ctl_settings_init(&settings);
        if (r < 0)
                return log_oom();
        r = ctl_parse_argv(&settings, argc, argv, &args, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "bad arguments (see --help)");
        if (r == 1 || (args && streq(args[0], "help"))) {
                help(&settings, stdout);
                return 0;
        }
        if (r == 2) {
                printf("vigilctl %s\n", VIGIL_VERSION);
                return 0;
        }
        if (!args)
                return log_error_errno(-EINVAL,
                        "missing command: status, nodes, node NAME, events, logs, metrics or etcd (see "
                        "--help)");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(args[0], verbs[i].name))
                        verb = &verbs[i];
        if (!verb)
                return log_error_errno(-EINVAL, "unknown command '%s' (see --help)", args[0]);
        if (strv_length(args) != verb->n_args + 1)
                return log_error_errno(-EINVAL, "%s: %s (see --help)", verb->name,
                        strv_length(args) < verb->n_args + 1 ? "missing argument" : "too many arguments");
        if (settings.runbook && !streq(verb->name, "etcd"))
                return log_error_errno(-EINVAL, "%s: --runbook applies to etcd only", verb->name);
        if (!(verb->options & VERB_SINCE) && settings.since)
                return log_error_errno(-EINVAL, "%s: --since applies to events and logs only", verb->name);
        if (!(verb->options & VERB_NODE) && settings.node)
                return log_error_errno(
                        -EINVAL, "%s: --node applies to events, logs and metrics only", verb->name);
        if (!(verb->options & VERB_LOG_FILTERS) &&
                (settings.source || settings.level || settings.after_context_set))
                return log_error_errno(
                        -EINVAL, "%s: --source, --level and -A apply to logs only", verb->name);

        if (settings.token_file) {
                r = read_token_file(settings.token_file, &token);
                if (r == -EINVAL)
                        return log_error_errno(r, "token file %s is empty", settings.token_file);
                if (r < 0)
                        return log_error_errno(r, "cannot read token file %s: %m", settings.token_file);
        }
        r = ctl_client_new(settings.collector, token, settings.ca_file, settings.timeout, &client);
        if (r < 0)
                return log_oom();

        Ctl c = {
                .settings = &settings,
                .client = client,
                .color = !settings.json && ctl_want_color(stdout),
        };
        return verb->run(&c, args);
}

int main(int argc, char **argv) {
        int r;

        log_set_program("vigilctl");
        http_global_init();
        /* The UFS commands take options of their own: they parse the whole command line. */
        const char *ufs_verb = NULL;
        for (int i = 1; i < argc && !ufs_verb && !streq(argv[i], "--"); i++)
                if (ctl_ufs_is_command(argv[i]))
                        ufs_verb = argv[i];
        r = ufs_verb ? ctl_ufs_main(ufs_verb, argc, argv) : run(argc, argv);
        if (fflush(stdout) != 0 && r >= 0)
                r = log_error_errno(-errno, "cannot write output: %m");
        /* A status that could not be determined is UNKNOWN, whatever the reason. */
        return r < 0 ? CTL_EXIT_ERROR : r;
}
