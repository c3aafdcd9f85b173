/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>

#include "agent-config.h"
#include "csi/csi-probe.h"
#include "fuse/fuse-probe.h"
#include "log.h"
#include "metrics/metrics-probe.h"
#include "mountinfo.h"
#include "ufs/ufs-probe.h"

#define DEFAULT_INTERVAL (5 * USEC_PER_SEC)
#define DEFAULT_TIMEOUT (2 * USEC_PER_SEC)
#define DEFAULT_QUEUE_MAX 120
#define DEFAULT_SHIP_TIMEOUT (5 * USEC_PER_SEC)
#define DEFAULT_POD_LOGS "*/*-worker-*/*, */*-fuse-*/*, */*-coordinator-*/*, */*csi-nodeplugin*/*"

static const ConfigOption agent_options[] = {
        {"config", 'c', CONFIG_STRING, offsetof(AgentConfig, config_file), "FILE", "INI configuration file",
                CONFIG_ARGV_ONLY},
        {"collector", 0, CONFIG_STRING, offsetof(AgentConfig, collector), "URL",
                "collector base URL, e.g. http://127.0.0.1:7070"},
        {"collector_ca", 0, CONFIG_STRING, offsetof(AgentConfig, collector_ca), "FILE",
                "CA certificates (PEM) to trust for an https:// collector (default: the system's)"},
        {"node", 0, CONFIG_STRING, offsetof(AgentConfig, node), "NAME", "node name"},
        {"cluster", 0, CONFIG_STRING, offsetof(AgentConfig, cluster), "NAME", "cluster name"},
        {"fuse", 0, CONFIG_STRV, offsetof(AgentConfig, fuse), "PATH",
                "FUSE mount to probe (settings per mount in [fuse PATH] sections)"},
        {"csi", 0, CONFIG_STRV, offsetof(AgentConfig, csi), "PATH",
                "CSI node-plugin socket to probe (settings per socket in [csi PATH] sections)"},
        {"csi_discover", 0, CONFIG_STRING, offsetof(AgentConfig, csi_discover), "GLOB",
                "CSI sockets to find and probe, looked for each cycle; empty: none"},
        {"metrics", 0, CONFIG_STRV, offsetof(AgentConfig, metrics), "ROLE=URL",
                "a Prometheus endpoint to scrape, e.g. worker=http://127.0.0.1:30000/metrics; ROLE is "
                "worker, fuse or coordinator, optionally with -NAME (settings per endpoint in [metrics "
                "ROLE] "
                "sections)"},
        {"ufs", 0, CONFIG_STRV, offsetof(AgentConfig, ufs), "URI",
                "a UFS root to look at each cycle, e.g. s3://bucket/prefix or file:///mnt/nfs/ufs (settings "
                "per UFS, such as endpoint and credentials, in [ufs URI] sections)"},
        {"interval", 0, CONFIG_DURATION, offsetof(AgentConfig, interval), "DURATION", "time between cycles"},
        {"timeout", 0, CONFIG_DURATION, offsetof(AgentConfig, timeout), "DURATION",
                "deadline of each probe; a probe past it is 'hung' (default: 2s, at most half the "
                "interval)"},
        {"token_file", 0, CONFIG_STRING, offsetof(AgentConfig, token_file), "FILE",
                "file holding the collector's bearer token"},
        {"once", 0, CONFIG_BOOL, offsetof(AgentConfig, once), NULL,
                "run one cycle, print the results, exit with the node status (0 OK, 1 WARN, 2 CRIT, 3 "
                "UNKNOWN)",
                CONFIG_ARGV_ONLY},
        {"json", 0, CONFIG_BOOL, offsetof(AgentConfig, json), NULL, "with --once: print JSON",
                CONFIG_ARGV_ONLY},
        {"log_level", 0, CONFIG_STRING, offsetof(AgentConfig, log_level), "LEVEL",
                "debug, info, notice, warning or error"},
        {"queue_max", 0, CONFIG_UINT, offsetof(AgentConfig, queue_max), "N",
                "reports kept while the collector is unreachable (oldest dropped first)"},
        {"ship_timeout", 0, CONFIG_DURATION, offsetof(AgentConfig, ship_timeout), "DURATION",
                "deadline of one report upload"},
        {"pods_log_dir", 0, CONFIG_STRING, offsetof(AgentConfig, pods_log_dir), "DIR",
                "Kubernetes container logs (<namespace>_<pod>_<uid>/<container>/<N>.log); empty: none"},
        {"pod_log", 0, CONFIG_STRV, offsetof(AgentConfig, pod_log), "GLOB",
                "containers whose logs to read, as NAMESPACE/POD/CONTAINER patterns "
                "(default: " DEFAULT_POD_LOGS ")"},
        {"log_file", 0, CONFIG_STRV, offsetof(AgentConfig, log_file), "PATH",
                "a log file to read, with its rolled predecessors (PATH.1, ...)"},
        {"journal_unit", 0, CONFIG_STRV, offsetof(AgentConfig, journal_unit), "UNIT",
                "a systemd unit whose journal to read, e.g. alluxio-worker.service"},
        {"journal_dir", 0, CONFIG_STRING, offsetof(AgentConfig, journal_dir), "DIR",
                "read journal files from DIR instead of the system journal"},
        {"state_dir", 0, CONFIG_STRING, offsetof(AgentConfig, state_dir), "DIR",
                "where the agent keeps its state (log positions, unacknowledged findings)"},
        {"log_levels", 0, CONFIG_STRING, offsetof(AgentConfig, log_levels), "LIST",
                "levels of the log lines that are events (TRACE, DEBUG, INFO, WARN, ERROR, FATAL)"},
        {"log_context", 0, CONFIG_UINT, offsetof(AgentConfig, log_context), "N",
                "lines that follow an event and belong to it (stack frames, 'Caused by:') kept with it, "
                "like "
                "grep -A N"},
        {"log_max_line", 0, CONFIG_SIZE, offsetof(AgentConfig, log_max_line), "BYTES",
                "longer log lines are cut here (and marked), never buffered whole"},
        {"log_from_head", 0, CONFIG_BOOL, offsetof(AgentConfig, log_from_head), NULL,
                "read logs that have no saved position from their start (default: from their end; a "
                "container or file that appears later is always read whole)"},
        {"log_batches_max", 0, CONFIG_UINT, offsetof(AgentConfig, log_batches_max), "N",
                "log findings kept while the collector is unreachable, one per cycle (oldest dropped "
                "first)"},
};

void probe_target_done(ProbeTarget *t) {
        if (t->settings) {
                probe_settings_done(t->ops, t->settings);
                t->settings = mfree(t->settings);
        }
        t->target = mfree(t->target);
}

void agent_config_done(AgentConfig *c) {
        config_free_fields(agent_options, ELEMENTSOF(agent_options), c);
        for (size_t i = 0; i < c->n_targets; i++)
                probe_target_done(&c->targets[i]);
        c->targets = mfree(c->targets);
        c->n_targets = 0;
}

/* A probe's target in its one spelling (ProbeOps.target_normalize; an absolute path by default). */
static int target_normalize_reason(const ProbeOps *ops, const char *target, char **ret, char **ret_reason) {
        if (ops->target_normalize)
                return ops->target_normalize(target, ret, ret_reason);
        int r = path_normalize(target, ret);
        if (r == -EINVAL && ret_reason)
                return asprintf(ret_reason, "'%s' is not an absolute path without '..'", target) < 0
                        ? -ENOMEM
                        : -EINVAL;
        return r;
}

static int target_normalize(const ProbeOps *ops, const char *target, char **ret) {
        return target_normalize_reason(ops, target, ret, NULL);
}

/* The reason a target of ops is refused (after target_normalize() returned -EINVAL). */
static int target_invalid(const ProbeOps *ops, const char *target, char **ret_reason) {
        _cleanup_(freep) char *norm = NULL;
        int r = target_normalize_reason(ops, target, &norm, ret_reason);
        return r < 0 ? r : -EINVAL;
}

/* Sets the setting key of t's probe to value, as its section would. */
static int target_set(ProbeTarget *t, const char *key, const char *value, char **ret_reason) {
        for (size_t i = 0; i < t->ops->n_options; i++)
                if (streq(t->ops->options[i].key, key)) {
                        _cleanup_(freep) char *err = NULL;
                        int r = config_set(&t->ops->options[i], t->settings, value, &err);
                        if (r < 0 && err)
                                *ret_reason = TAKE_PTR(err);
                        return r;
                }
        return asprintf(ret_reason, "unknown key") < 0 ? -ENOMEM : -EINVAL;
}

/* Finds the target of ops (normalised), adding it with default settings when absent. */
static int target_get(AgentConfig *c, const ProbeOps *ops, const char *path, ProbeTarget **ret) {
        _cleanup_(freep) char *norm = NULL;
        int r = target_normalize(ops, path, &norm);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_targets; i++)
                if (c->targets[i].ops == ops && streq(c->targets[i].target, norm)) {
                        *ret = &c->targets[i];
                        return 0;
                }
        ProbeTarget *v = realloc(c->targets, sizeof(ProbeTarget) * (c->n_targets + 1));
        if (!v)
                return -ENOMEM;
        c->targets = v;
        r = probe_target_new(ops, norm, &c->targets[c->n_targets]);
        if (r < 0)
                return r;
        *ret = &c->targets[c->n_targets++];
        return 0;
}

int probe_target_new(const ProbeOps *ops, const char *path, ProbeTarget *ret) {
        _cleanup_(freep) char *norm = NULL;
        int r = target_normalize(ops, path, &norm);
        if (r < 0)
                return r;
        void *settings = calloc(1, ops->settings_size ?: 1);
        if (!settings)
                return -ENOMEM;
        probe_settings_init(ops, settings);
        *ret = (ProbeTarget){.ops = ops, .target = TAKE_PTR(norm), .settings = settings};
        return 0;
}

int probe_target_new_default(
        const ProbeOps *ops, const char *path, usec_t interval, usec_t fallback_timeout, ProbeTarget *ret) {
        int r = probe_target_new(ops, path, ret);
        if (r < 0)
                return r;
        ret->timeout = MIN(probe_default_timeout(ops, ret->settings, fallback_timeout), interval * 9 / 10);
        return 0;
}

/* "[fuse /mnt/x]" or "[fuse \"/mnt/x\"]" */
static int section_handler(
        void *obj, const char *section, const char *key, const char *value, char **ret_reason) {
        AgentConfig *c = obj;
        char family[32];
        const char *rest;
        ProbeTarget *t;
        int r;

        rest = strchr(section, ' ');
        if (!rest || (size_t)(rest - section) >= sizeof(family))
                return asprintf(ret_reason,
                               "unknown section (expected [PROBE TARGET], e.g. [fuse /mnt/alluxio])") < 0
                        ? -ENOMEM
                        : -EINVAL;
        memcpy(family, section, rest - section);
        family[rest - section] = 0;
        while (*rest == ' ')
                rest++;
        _cleanup_(freep) char *target = strdup(rest);
        if (!target)
                return -ENOMEM;
        size_t l = strlen(target);
        if (l >= 2 && target[0] == '"' && target[l - 1] == '"') {
                memmove(target, target + 1, l - 2);
                target[l - 2] = 0;
        }
        const ProbeOps *ops = probe_ops_find(family);
        if (!ops)
                return asprintf(ret_reason, "unknown probe '%s'", family) < 0 ? -ENOMEM : -EINVAL;
        r = target_get(c, ops, target, &t);
        if (r == -EINVAL)
                return target_invalid(ops, target, ret_reason);
        if (r < 0)
                return r;
        if (!key)
                return 0; /* the section header alone declares the target */
        if (streq(key, "timeout")) {
                if (parse_duration(value, USEC_PER_SEC, &t->timeout) < 0 || t->timeout == 0)
                        return asprintf(ret_reason, "'%s' is not a duration", value) < 0 ? -ENOMEM : -EINVAL;
                return 0;
        }
        return target_set(t, key, value, ret_reason);
}

static int fail(char **ret_error, const char *format, ...) _printf_(2, 3);
static int fail(char **ret_error, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        if (vasprintf(ret_error, format, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return -EINVAL;
}

static bool valid_name(const char *s) {
        if (isempty(s) || strlen(s) > 253)
                return false;
        for (; *s; s++)
                if (!isgraph((unsigned char)*s))
                        return false;
        return true;
}

/* The targets given by a repeatable path flag (--fuse, --csi), whose key is the probe's name. */
static int add_path_targets(AgentConfig *c, const ProbeOps *ops, char **paths, char **ret_error) {
        ProbeTarget *t;
        STRV_FOREACH (p, paths) {
                int r = target_get(c, ops, *p, &t);
                if (r == -EINVAL) {
                        _cleanup_(freep) char *why = NULL;
                        r = target_invalid(ops, *p, &why);
                        if (r == -ENOMEM)
                                return r;
                        return fail(ret_error, "bad value for '%s' (--%s): %s", ops->name, ops->name,
                                why ?: "invalid");
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * The hang-safety rule (DESIGN.md section 4): the agent reads logs and writes its state from its
 * event loop, so none of those paths may lie on a FUSE mount, where a hung daemon would hang the
 * agent. Only mountinfo is read to tell (never the path itself). A path that cannot be judged
 * (relative, or mountinfo unreadable) passes.
 */
static int check_not_on_fuse(const char *key, const char *path, char **ret_error) {
        _cleanup_(freep) char *norm = NULL;
        MountEntry m = {};
        int r;

        if (isempty(path) || path_normalize(path, &norm) < 0)
                return 0;
        r = mountinfo_find(NULL, norm, &m);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        bool fuse = mount_entry_is_fuse(&m);
        if (fuse)
                r = fail(ret_error,
                        "bad value for '%s': %s is on the FUSE mount %s (%s); the agent reads it from its "
                        "event "
                        "loop, which a hung FUSE daemon would hang: keep it on a local file system",
                        key, path, m.mount_point, m.fs_type);
        mount_entry_done(&m);
        return fuse ? r : 0;
}

static int finish(AgentConfig *c, char **ret_error) {
        ProbeTarget *t;
        int r;

        r = add_path_targets(c, &csi_probe_ops, c->csi, ret_error);
        if (r < 0)
                return r;
        r = add_path_targets(c, &fuse_probe_ops, c->fuse, ret_error);
        if (r < 0)
                return r;
        r = add_path_targets(c, &ufs_probe_ops, c->ufs, ret_error);
        if (r < 0)
                return r;
        /* After the sections: --metrics ROLE=URL (and the main section's metrics key) set the url. */
        STRV_FOREACH (p, c->metrics) {
                _cleanup_(freep) char *reason = NULL;
                const char *eq = strchr(*p, '=');
                if (!eq || eq == *p || isempty(eq + 1))
                        return fail(
                                ret_error, "bad value for 'metrics' (--metrics): '%s' is not ROLE=URL", *p);
                _cleanup_(freep) char *role = strndup(*p, eq - *p);
                if (!role)
                        return -ENOMEM;
                r = target_get(c, &metrics_probe_ops, role, &t);
                if (r == -EINVAL)
                        return fail(ret_error,
                                "bad value for 'metrics' (--metrics): '%s' is not an endpoint name: worker, "
                                "fuse "
                                "or coordinator, optionally with -NAME",
                                role);
                if (r < 0)
                        return r;
                r = target_set(t, "url", eq + 1, &reason);
                if (r < 0)
                        return r == -ENOMEM ? r
                                            : fail(ret_error, "bad value for 'metrics' (--metrics): %s",
                                                      reason ?: "invalid");
        }
        /* The default pods log directory counts only where there is one (a Kubernetes node). */
        if (c->n_targets == 0 && isempty(c->csi_discover) &&
                (isempty(c->pods_log_dir) || access(c->pods_log_dir, F_OK) < 0) &&
                strv_length(c->log_file) == 0 && strv_length(c->journal_unit) == 0)
                return fail(ret_error,
                        "nothing to check: give --fuse PATH, --csi PATH, --metrics ROLE=URL, --ufs URI, a "
                        "[fuse PATH] "
                        "section, --csi-discover GLOB, --pods-log-dir DIR, --log-file PATH or "
                        "--journal-unit "
                        "UNIT");
        STRV_FOREACH (p, c->log_file) {
                _cleanup_(freep) char *norm = NULL;
                r = path_normalize(*p, &norm);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || streq(norm, "/"))
                        return fail(ret_error,
                                "bad value for 'log_file' (--log-file): '%s' is not an absolute file path "
                                "without '..'",
                                *p);
                free(*p);
                *p = TAKE_PTR(norm);
        }
        if (strv_length(c->pod_log) == 0) {
                const char *d = DEFAULT_POD_LOGS;
                while (*d) {
                        size_t n = strcspn(d, ",");
                        _cleanup_(freep) char *g = strndup(d, n);
                        if (!g || strv_extend(&c->pod_log, g) < 0)
                                return -ENOMEM;
                        d += n;
                        d += strspn(d, ", ");
                }
        }
        if (log_line_levels_parse(c->log_levels, &c->log_level_mask) < 0)
                return fail(ret_error,
                        "bad value for 'log_levels' (--log-levels): '%s' is not a list of TRACE, DEBUG, "
                        "INFO, "
                        "WARN, ERROR, FATAL",
                        c->log_levels);
        if (c->log_max_line < 256 || c->log_max_line > 64 * 1024 * 1024)
                return fail(ret_error, "bad value for 'log_max_line' (--log-max-line): must be 256 to 64M");
        if (c->log_context > 100)
                return fail(ret_error, "bad value for 'log_context' (--log-context): at most 100");
        if (isempty(c->state_dir) || c->state_dir[0] != '/')
                return fail(ret_error,
                        "bad value for 'state_dir' (--state-dir): '%s' is not an absolute path",
                        strempty(c->state_dir));
        /* Logs and state are read and written from the event loop, which must never touch FUSE. */
        const struct {
                const char *key;
                const char *path;
        } local[] = {
                {"state_dir", c->state_dir},
                {"pods_log_dir", c->pods_log_dir},
                {"journal_dir", c->journal_dir},
        };
        for (size_t i = 0; i < ELEMENTSOF(local); i++)
                if ((r = check_not_on_fuse(local[i].key, local[i].path, ret_error)) < 0)
                        return r;
        STRV_FOREACH (p, c->log_file)
                if ((r = check_not_on_fuse("log_file", *p, ret_error)) < 0)
                        return r;
        if (c->interval < 10 * USEC_PER_MSEC)
                return fail(ret_error, "bad value for 'interval' (--interval): must be at least 10ms");
        /* Unset: 2 s, but always inside the interval, so that --interval alone is enough. */
        if (c->timeout == USEC_INFINITY)
                c->timeout = MIN(DEFAULT_TIMEOUT, c->interval / 2);
        if (c->timeout == 0)
                return fail(ret_error, "bad value for 'timeout' (--timeout): must be more than 0");
        for (size_t i = 0; i < c->n_targets; i++) {
                _cleanup_(freep) char *reason = NULL;
                t = &c->targets[i];
                /* With no deadline set, name the setting the probe's own deadline follows. */
                const char *key = "timeout";
                if (!t->timeout) {
                        t->timeout = probe_default_timeout(t->ops, t->settings, c->timeout);
                        key = t->ops->default_timeout_key ?: key;
                }
                usec_t to = t->timeout;
                if (to >= c->interval)
                        return fail(ret_error,
                                "bad value for '%s' of %s %s: the probe's deadline, %s, is not shorter than "
                                "the interval (%s)",
                                key, t->ops->name, t->target, FORMAT_DURATION(to),
                                FORMAT_DURATION(c->interval));
                r = probe_settings_check(t->ops, t->target, t->settings, &reason);
                if (r < 0)
                        return r == -ENOMEM ? r
                                            : fail(ret_error, "bad settings for [%s %s]: %s", t->ops->name,
                                                      t->target, reason ?: "invalid");
        }
        if (c->collector && !startswith(c->collector, "http://") && !startswith(c->collector, "https://"))
                return fail(ret_error,
                        "bad value for 'collector' (--collector): '%s' is not an http:// or https:// URL",
                        c->collector);
        if (c->collector_ca && access(c->collector_ca, R_OK) < 0)
                return fail(ret_error, "bad value for 'collector_ca' (--collector-ca): cannot read %s: %s",
                        c->collector_ca, strerror(errno));
        if (!valid_name(c->node))
                return fail(ret_error, "bad value for 'node' (--node): '%s' is empty or has spaces",
                        strempty(c->node));
        if (!valid_name(c->cluster))
                return fail(ret_error, "bad value for 'cluster' (--cluster): '%s' is empty or has spaces",
                        strempty(c->cluster));
        if (c->log_level && log_level_from_string(c->log_level) < 0)
                return fail(ret_error, "bad value for 'log_level' (--log-level): '%s' is not a level",
                        c->log_level);
        if (c->queue_max == 0)
                return fail(ret_error, "bad value for 'queue_max' (--queue-max): must be at least 1");
        return 0;
}

static void print_help(const AgentConfig *c) {
        printf("Usage: vigil-agent [OPTIONS]\n\n"
               "Probes this node's FUSE mounts with real syscalls in child processes that can never hang "
               "the\n"
               "agent, and ships a report to the collector every interval.\n\nOptions:\n");
        config_print_help(agent_options, ELEMENTSOF(agent_options), c, stdout);
        printf("\nPer-mount settings go in [fuse PATH] sections of the config file:\n");
        FuseSettings defaults;
        probe_settings_init(&fuse_probe_ops, &defaults);
        config_print_keys(fuse_probe_ops.options, fuse_probe_ops.n_options, &defaults, stdout);
        probe_settings_done(&fuse_probe_ops, &defaults);
        printf("  %-30s %s\n", "timeout = DURATION", "this mount's probe deadline (default: --timeout)");
        printf("\nPer-socket settings go in [csi PATH] sections:\n");
        CsiSettings csi_defaults;
        probe_settings_init(&csi_probe_ops, &csi_defaults);
        config_print_keys(csi_probe_ops.options, csi_probe_ops.n_options, &csi_defaults, stdout);
        printf("\nPer-endpoint settings go in [metrics ROLE] sections (ROLE as in --metrics):\n");
        MetricsSettings metrics_defaults;
        probe_settings_init(&metrics_probe_ops, &metrics_defaults);
        config_print_keys(metrics_probe_ops.options, metrics_probe_ops.n_options, &metrics_defaults, stdout);
        probe_settings_done(&metrics_probe_ops, &metrics_defaults);
        printf("  %-30s %s\n", "timeout = DURATION",
                "this endpoint's probe deadline (default: scrape_timeout + 500ms)");
        printf("\nPer-UFS settings go in [ufs URI] sections (URI as in --ufs):\n");
        UfsProbeSettings ufs_defaults;
        probe_settings_init(&ufs_probe_ops, &ufs_defaults);
        config_print_keys(ufs_probe_ops.options, ufs_probe_ops.n_options, &ufs_defaults, stdout);
        probe_settings_done(&ufs_probe_ops, &ufs_defaults);
        printf("\nLog sources are read while the agent runs (not with --once); see docs/logs.md.\n");
        printf("\nExit codes: 0 OK, 1 WARN, 2 CRIT (or bad configuration), 3 UNKNOWN (with --once).\n"
               "See docs/configuration.md.\n");
}

int agent_config_load(int argc, char **argv, AgentConfig *ret, char **ret_error) {
        AgentConfig c = {
                .interval = DEFAULT_INTERVAL,
                .timeout = USEC_INFINITY, /* not set: see finish() */
                .queue_max = DEFAULT_QUEUE_MAX,
                .ship_timeout = DEFAULT_SHIP_TIMEOUT,
                .log_context = 1,
                .log_max_line = 64 * 1024,
                .log_batches_max = 10000,
        };
        const char *file;
        char host[256];
        int r;

        if (gethostname(host, sizeof(host)) < 0)
                snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = 0;
        c.node = strdup(host);
        c.cluster = strdup("default");
        c.csi_discover = strdup("/var/lib/kubelet/plugins/*/csi.sock");
        c.pods_log_dir = strdup("/var/log/pods");
        c.state_dir = strdup("/var/lib/vigil");
        c.log_levels = strdup("WARN,ERROR,FATAL");
        if (!c.node || !c.cluster || !c.csi_discover || !c.pods_log_dir || !c.state_dir || !c.log_levels) {
                agent_config_done(&c);
                return -ENOMEM;
        }
        config_find_file_arg(argc, argv, &file);
        if (file) {
                r = config_parse_file(agent_options, ELEMENTSOF(agent_options), "agent", &c, section_handler,
                        file, ret_error);
                if (r < 0)
                        goto out;
        }
        r = config_parse_argv(agent_options, ELEMENTSOF(agent_options), &c, argc, argv, NULL, ret_error);
        if (r == 1)
                print_help(&c);
        if (r == 2)
                printf("vigil-agent %s\n", VIGIL_VERSION);
        if (r != 0)
                goto out;
        r = finish(&c, ret_error);
        if (r < 0)
                goto out;
        *ret = c;
        return 0;
out:
        agent_config_done(&c);
        return r;
}
