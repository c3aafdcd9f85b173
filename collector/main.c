/* SPDX-License-Identifier: MIT */
/*
 * vigil-collector: receives NodeReports over HTTP, keeps the cluster's state in memory and in
 * SQLite, answers the read API (docs/api.md, docs/collector.md).
 */
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "etcd-monitor.h"
#include "http-client.h"
#include "ingest.h"
#include "log.h"
#include "server.h"

typedef struct Settings {
        char *config;
        char *listen;
        char *db;
        char *token_file;
        usec_t stale_after;
        uint64_t max_report_size;
        usec_t events_retention;
        unsigned events_max_rows;
        usec_t logs_retention;
        usec_t metrics_retention;
        MetricsSettings metrics;
        unsigned threads;
        bool render_ahead;
        char *tls_cert;
        char *tls_key;
        int log_level;
        EtcdConfig etcd;
        usec_t etcd_interval;
} Settings;

static int parse_log_level(void *obj, const char *value, char **ret_reason) {
        int l = log_level_from_string(value);
        if (l < 0) {
                *ret_reason = strdup("expected debug, info, notice, warning, error or crit");
                return -EINVAL;
        }
        ((Settings *)obj)->log_level = l;
        return 0;
}

static int parse_metrics_change(void *obj, const char *value, char **ret_reason) {
        if (metrics_change_parse(value, &((Settings *)obj)->metrics.change) < 0) {
                *ret_reason = strdup("expected a relative change above 0, such as 0.25 or 25%");
                return -EINVAL;
        }
        return 0;
}

static int parse_metrics_min_volume(void *obj, const char *value, char **ret_reason) {
        const char *reason = NULL;
        if (metrics_min_volume_parse(value, ((Settings *)obj)->metrics.min_volume, &reason) < 0) {
                *ret_reason = strdup(reason);
                return -EINVAL;
        }
        return 0;
}

#define O(f) offsetof(Settings, f)
static const ConfigOption options[] = {
        {"config", 'c', CONFIG_STRING, O(config), "FILE", "INI file with a [collector] section",
                CONFIG_ARGV_ONLY},
        {"listen", 'l', CONFIG_STRING, O(listen), "ADDR:PORT", "address to serve HTTP on", 0},
        {"db", 0, CONFIG_STRING, O(db), "PATH",
                "SQLite database (created if missing; its directory must exist)", 0},
        {"token_file", 0, CONFIG_STRING, O(token_file), "FILE",
                "require 'Authorization: Bearer <token>' with the token in FILE (not for /healthz)", 0},
        {"stale_after", 0, CONFIG_DURATION, O(stale_after), "DURATION",
                "a node without a report for this long is CRIT; 0: 3 x the interval each agent announces",
                0},
        {"max_report_size", 0, CONFIG_SIZE, O(max_report_size), "SIZE",
                "larger reports are refused with 413", 0},
        {"events_retention", 0, CONFIG_DURATION, O(events_retention), "DURATION",
                "delete events older than this (0: never)", 0},
        {"events_max_rows", 0, CONFIG_UINT, O(events_max_rows), "N", "keep at most N events (0: no limit)",
                0},
        {"logs_retention", 0, CONFIG_DURATION, O(logs_retention), "DURATION",
                "delete log findings (signatures, minute counts) last seen longer ago than this (0: never)",
                0},
        {"metrics_retention", 0, CONFIG_DURATION, O(metrics_retention), "DURATION",
                "delete metrics history points older than this (0: never; the week-over-week comparison "
                "needs 7d1h)",
                0},
        {"metrics_change", 0, CONFIG_CUSTOM, O(metrics.change), "RATIO",
                "a change against the same hour a day or a week ago is significant from this relative "
                "change on (0.25 or 25%; default 0.25)",
                0, parse_metrics_change},
        {"metrics_min_volume", 0, CONFIG_CUSTOM, O(metrics.min_volume), "KEY=N,...",
                "a significant change also needs this volume (per second, per kind of series; "
                "default " METRICS_DEFAULT_MIN_VOLUME "; keys not given keep theirs)",
                0, parse_metrics_min_volume},
        {"threads", 0, CONFIG_UINT, O(threads), "N", "HTTP threads (0: one per CPU)", 0},
        {"render_ahead", 0, CONFIG_BOOL, O(render_ahead), "BOOL",
                "render each new report's JSON in the background with spare CPU, paused while ingest is "
                "saturated (fast reads)",
                0},
        {"tls_cert", 0, CONFIG_STRING, O(tls_cert), "FILE",
                "serve HTTPS with this PEM certificate (with --tls-key)", 0},
        {"tls_key", 0, CONFIG_STRING, O(tls_key), "FILE", "PEM private key for --tls-cert", 0},
        {"log_level", 0, CONFIG_CUSTOM, O(log_level), "LEVEL", "debug, info, notice, warning, error", 0,
                parse_log_level},
        ETCD_CONFIG_OPTIONS(Settings, etcd),
        {"etcd_interval", 0, CONFIG_DURATION, O(etcd_interval), "DURATION", "time between etcd checks", 0},
};

static int settings_default(Settings *s) {
        *s = (Settings){
                .listen = strdup("127.0.0.1:7070"),
                .db = strdup("/var/lib/vigil/collector.db"),
                .max_report_size = 1024 * 1024,
                .events_retention = 30 * USEC_PER_DAY,
                .events_max_rows = 1000000,
                .logs_retention = 8 * USEC_PER_DAY,
                .metrics_retention = 8 * USEC_PER_DAY,
                .render_ahead = true,
                .log_level = LOG_INFO,
                .etcd_interval = 5 * USEC_PER_SEC,
        };
        metrics_settings_default(&s->metrics);
        if (etcd_config_init(&s->etcd) < 0)
                return -ENOMEM;
        return s->listen && s->db ? 0 : -ENOMEM;
}

static void settings_done(Settings *s) {
        config_free_fields(options, ELEMENTSOF(options), s);
        etcd_config_done(&s->etcd);
}

static void help(const Settings *s) {
        printf("Usage: vigil-collector [OPTIONS]\n\n"
               "Receives vigil NodeReports over HTTP (POST /v1/reports), keeps the cluster state in SQLite\n"
               "and answers the read API (/v1/cluster, /v1/nodes, /v1/events, /v1/logs, /v1/metrics,\n"
               "/v1/etcd, /healthz) and Prometheus (/metrics). It keeps one-minute points of the agents'\n"
               "metrics (request rate, FUSE load, UFS traffic and errors, hit rate) for comparisons with\n"
               "the same hour a day and a week ago. With --etcd it also checks the etcd cluster (members,\n"
               "leader, worker registrations, outage window).\n\n");
        config_print_help(options, ELEMENTSOF(options), s, stdout);
}

/* "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (all addresses) into a listening socket. */
static int parse_listen(const char *listen_spec, struct addrinfo **ret) {
        _cleanup_(freep) char *copy = strdup(listen_spec);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
        char *host, *port;

        if (!copy)
                return -ENOMEM;
        port = strrchr(copy, ':');
        if (!port || port[1] == 0)
                return -EINVAL;
        *port++ = 0;
        host = copy;
        if (host[0] == '[') {
                size_t l = strlen(host);
                if (l < 2 || host[l - 1] != ']')
                        return -EINVAL;
                host[l - 1] = 0;
                host++;
        }
        if (getaddrinfo(*host ? host : NULL, port, &hints, ret) != 0)
                return -EINVAL;
        return 0;
}

static int open_listener(const struct addrinfo *ai) {
        _cleanup_(closep) int fd = -EBADF;
        int one = 1;

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
                return -errno;
        if (listen(fd, 4096) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int read_file(const char *path, size_t max, char **ret) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *buf = NULL;
        size_t n;

        if (!f)
                return -errno;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, max + 1, f);
        if (ferror(f))
                return -EIO;
        if (n > max)
                return -EFBIG;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static void on_background_error(const char *what, int r) {
        log_warning_errno(r, "Failed to %s: %m", what);
}

/* --- the etcd monitor's writes, made by the writer thread (the store's single writer) --------- */

#define OUTAGE_KEY "etcd_outage_since_ms"
/* Events of cluster-level checks carry this instead of a node name. */
#define CLUSTER_EVENT_NODE "(cluster)"

typedef struct Collector {
        Cluster *cluster;
        Ingest *ingest;
} Collector;

static int job_save_outage(Store *store, void *userdata) {
        return store_set_meta(store, OUTAGE_KEY, userdata);
}

static int hook_save_outage(void *userdata, int64_t since_ms) {
        Collector *c = userdata;
        char *v = NULL;
        if (asprintf(&v, "%" PRId64, since_ms) < 0)
                return -ENOMEM;
        return ingest_submit_job(c->ingest, job_save_outage, v, free);
}

typedef struct EventJob {
        StoreEvent e;
        char *check, *target, *message;
} EventJob;

static void event_job_free(void *p) {
        EventJob *j = p;
        free(j->check);
        free(j->target);
        free(j->message);
        free(j);
}

static int job_add_event(Store *store, void *userdata) {
        return store_add_event(store, &((EventJob *)userdata)->e);
}

static int hook_event(void *userdata, int64_t time_ms, const char *check, const char *target,
        VigilStatus from, VigilStatus to, const char *message) {
        Collector *c = userdata;
        EventJob *j = calloc(1, sizeof(EventJob));
        if (!j)
                return -ENOMEM;
        j->check = strdup(check);
        j->target = strdup(strempty(target));
        j->message = strdup(strempty(message));
        if (!j->check || !j->target || !j->message) {
                event_job_free(j);
                return -ENOMEM;
        }
        j->e = (StoreEvent){
                .time_ms = time_ms,
                .node = CLUSTER_EVENT_NODE,
                .check_name = j->check,
                .target = j->target,
                .from_status = vigil_status_to_string(from) ?: "NONE",
                .to_status = vigil_status_to_string(to),
                .message = j->message,
        };
        return ingest_submit_job(c->ingest, job_add_event, j, event_job_free);
}

static char **hook_agent_nodes(void *userdata) {
        Collector *c = userdata;
        NodeRef *refs = NULL;
        size_t n = 0;
        char **names = NULL;

        if (cluster_snapshot(c->cluster, &refs, &n) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!refs[i].stale && strv_extend(&names, refs[i].view->report->node) < 0) {
                        names = strv_free(names);
                        break;
                }
        node_refs_free(refs, n);
        return names;
}

static void raise_fd_limit(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = MIN(rl.rlim_max, (rlim_t)65536);
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int run(int argc, char **argv) {
        _cleanup_(settings_done) Settings settings = {};
        _cleanup_(freep) char *error = NULL, *token = NULL, *cert = NULL, *key = NULL;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(cluster_freep) Cluster *cluster = NULL;
        _cleanup_(metrics_history_freep) MetricsHistory *metrics = NULL;
        _cleanup_(ingest_freep) Ingest *ingest = NULL;
        /* Cleaned up in reverse order: the server (which reads the monitor) first, then the monitor
         * (which writes through ingest), then ingest. */
        _cleanup_(etcd_monitor_stopp) EtcdMonitor *etcd = NULL;
        _cleanup_(server_freep) Server *server = NULL;
        _cleanup_(closep) int fd = -EBADF;
        struct addrinfo *ai = NULL;
        Collector collector = {};
        const char *config_path;
        sigset_t mask;
        int r, sig;

        log_set_program("vigil-collector");
        if (settings_default(&settings) < 0)
                return log_oom();

        config_find_file_arg(argc, argv, &config_path);
        if (config_path) {
                r = config_parse_file(
                        options, ELEMENTSOF(options), "collector", &settings, NULL, config_path, &error);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        log_error("%s", error);
                        return 2;
                }
        }
        r = config_parse_argv(options, ELEMENTSOF(options), &settings, argc, argv, NULL, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_error("%s", error);
                return 2;
        }
        if (r == 1) {
                help(&settings);
                return 0;
        }
        if (r == 2) {
                printf("vigil-collector %s\n", VIGIL_VERSION);
                return 0;
        }
        log_set_max_level(settings.log_level);

        /* Validate everything before touching the database. */
        if (isempty(settings.listen) || parse_listen(settings.listen, &ai) < 0) {
                log_error("bad value for 'listen' (--listen): '%s' is not ADDR:PORT (e.g. 127.0.0.1:7070, "
                          "[::1]:7070, :7070)",
                        strempty(settings.listen));
                return 2;
        }
        r = etcd_config_check(&settings.etcd, &error);
        if (r < 0) {
                log_error("%s", error ?: "bad etcd settings");
                freeaddrinfo(ai);
                return r == -ENOMEM ? 1 : 2;
        }
        if (settings.etcd_interval < 100 * USEC_PER_MSEC) {
                log_error("bad value for 'etcd_interval' (--etcd-interval): must be at least 100ms");
                freeaddrinfo(ai);
                return 2;
        }
        if (isempty(settings.db)) {
                log_error("bad value for 'db' (--db): a path is required");
                freeaddrinfo(ai);
                return 2;
        }
        if (settings.max_report_size < 64 || settings.max_report_size > 256u * 1024 * 1024) {
                log_error(
                        "bad value for 'max_report_size' (--max-report-size): must be between 64 and 256M");
                freeaddrinfo(ai);
                return 2;
        }
        if (settings.token_file) {
                r = read_token_file(settings.token_file, &token);
                if (r < 0) {
                        log_error(
                                "bad value for 'token_file' (--token-file): cannot read a token from %s: %s",
                                settings.token_file, r == -EINVAL ? "file is empty" : strerror(-r));
                        freeaddrinfo(ai);
                        return 2;
                }
        }
        if (!!settings.tls_cert != !!settings.tls_key) {
                log_error("bad value for '%s' (--%s): --tls-cert and --tls-key go together",
                        settings.tls_cert ? "tls_key" : "tls_cert",
                        settings.tls_cert ? "tls-key" : "tls-cert");
                freeaddrinfo(ai);
                return 2;
        }
        if (settings.tls_cert) {
                if (!server_tls_supported()) {
                        log_error("bad value for 'tls_cert' (--tls-cert): this libmicrohttpd was built "
                                  "without TLS");
                        freeaddrinfo(ai);
                        return 2;
                }
                r = read_file(settings.tls_cert, 1024 * 1024, &cert);
                if (r >= 0)
                        r = read_file(settings.tls_key, 1024 * 1024, &key);
                if (r < 0) {
                        log_error("bad value for '%s' (--%s): cannot read %s: %s",
                                cert ? "tls_key" : "tls_cert", cert ? "tls-key" : "tls-cert",
                                cert ? settings.tls_key : settings.tls_cert, strerror(-r));
                        freeaddrinfo(ai);
                        return 2;
                }
        }

        /* Signals are taken by sigwait() below; threads started from here inherit the mask. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();

        fd = open_listener(ai);
        freeaddrinfo(ai);
        if (fd < 0)
                return log_error_errno(fd, "Failed to listen on %s: %m", settings.listen), 1;

        r = store_open(settings.db, &store);
        if (r == -EPROTONOSUPPORT)
                return log_error_errno(r, "Failed to open database %s: written by a newer vigil-collector",
                               settings.db),
                       1;
        if (r < 0)
                return log_error_errno(r, "Failed to open database %s: %m", settings.db), 1;
        r = cluster_new(store, settings.stale_after, &cluster);
        if (r < 0)
                return log_error_errno(r, "Failed to load the state from %s: %m", settings.db), 1;

        r = settings.render_ahead ? cluster_start_renderer(cluster) : 0;
        if (r < 0)
                return log_error_errno(r, "Failed to start the renderer thread: %m"), 1;

        r = metrics_history_new(&settings.metrics, &metrics);
        if (r < 0)
                return log_oom(), 1;
        IngestOptions io = {
                .events_retention = settings.events_retention,
                .events_max_rows = settings.events_max_rows,
                .logs_retention = settings.logs_retention,
                .metrics_retention = settings.metrics_retention,
                .metrics = metrics,
                .on_error = on_background_error,
        };
        r = ingest_new(cluster, store, &io, &ingest);
        if (r < 0)
                return log_error_errno(r, "Failed to start the writer thread: %m"), 1;

        if (etcd_config_enabled(&settings.etcd)) {
                _cleanup_(freep) char *since = NULL;
                int64_t since_ms = 0;
                r = store_get_meta(store, OUTAGE_KEY, &since);
                if (r >= 0)
                        since_ms = strtoll(since, NULL, 10);
                else if (r != -ENOENT)
                        return log_error_errno(r, "Failed to read the etcd outage state: %m"), 1;
                collector = (Collector){.cluster = cluster, .ingest = ingest};
                EtcdMonitorHooks hooks = {
                        .save_outage = hook_save_outage,
                        .event = hook_event,
                        .agent_nodes = hook_agent_nodes,
                        .userdata = &collector,
                };
                r = etcd_monitor_start(&settings.etcd, settings.etcd_interval, since_ms, &hooks, &etcd);
                if (r < 0)
                        return log_error_errno(r, "Failed to start the etcd checks: %m"), 1;
                if (since_ms > 0)
                        log_notice(
                                "etcd outage in progress since %" PRId64 " (from the database)", since_ms);
        }

        ServerOptions so = {
                .listen_fd = fd,
                .threads = settings.threads,
                .max_report_size = settings.max_report_size,
                .token = token,
                .tls_cert_pem = cert,
                .tls_key_pem = key,
                .etcd = etcd,
                .metrics = metrics,
        };
        r = server_new(&so, cluster, store, ingest, &server);
        if (r < 0)
                return log_error_errno(r, "Failed to start the HTTP server on %s: %m", settings.listen), 1;
        TAKE_FD(fd); /* the server owns it now */

        log_info("Listening on %s%s, database %s, %zu nodes known.",
                settings.tls_cert ? "https://" : "http://", settings.listen, settings.db,
                cluster_size(cluster));
        sd_notifyf(false, "READY=1\nSTATUS=Listening on %s, %zu nodes known", settings.listen,
                cluster_size(cluster));

        do
                r = sigwait(&mask, &sig);
        while (r != 0);

        log_info("Received %s, shutting down.", strsignal(sig));
        sd_notify(false, "STOPPING=1\nSTATUS=Shutting down");
        /* Stop accepting, let every report already handed over commit and be answered, then stop. */
        server_quiesce(server);
        ingest_close(ingest);
        ingest_wait_idle(ingest);
        server = server_free(server);
        /* After the server (it reads the monitor); writes of a cycle still running are refused. */
        etcd = etcd_monitor_stop(etcd);
        ingest = ingest_free(ingest);
        cluster = cluster_free(cluster);
        store = store_free(store);
        return 0;
}

int main(int argc, char **argv) {
        return run(argc, argv);
}
