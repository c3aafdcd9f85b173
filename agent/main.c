/* SPDX-License-Identifier: MIT */
/*
 * vigil-agent: probes this node every interval and ships a NodeReport to the collector.
 *
 * One sd-event loop drives everything: a cycle timer starts the probe instances (scheduler.h),
 * whose children each have a deadline; when every instance has a result the report is built,
 * queued for the shipper (shipper.h) and the systemd status updated. SIGTERM/SIGINT stop the loop,
 * SIGHUP reloads the configuration file between cycles.
 */
#include <glob.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "agent-config.h"
#include "csi/csi-probe.h"
#include "http-client.h"
#include "json-util.h"
#include "log-tailer.h"
#include "log.h"
#include "report.h"
#include "scheduler.h"
#include "shipper.h"

typedef struct Agent {
        int argc;
        char **argv;
        AgentConfig config;
        sd_event *event;
        sd_event_source *cycle_timer;
        Scheduler *scheduler;
        Shipper *shipper;
        LogTailer *logs;
        char boot_id[SD_ID128_STRING_MAX];
        char kernel_boot_id[SD_ID128_STRING_MAX];
        uint64_t seq;
        usec_t next_cycle;
        bool ready_sent;
        bool reload_pending;
        int exit_status; /* --once: the node status */
} Agent;

static void agent_done(Agent *a) {
        a->cycle_timer = sd_event_source_disable_unref(a->cycle_timer);
        a->scheduler = scheduler_free(a->scheduler);
        a->shipper = shipper_free(a->shipper);
        a->logs = log_tailer_free(a->logs);
        a->event = sd_event_unref(a->event);
        agent_config_done(&a->config);
}

static AgentIdentity agent_identity(const Agent *a) {
        return (AgentIdentity){
                .node = a->config.node,
                .cluster = a->config.cluster,
                .boot_id = a->boot_id,
                .kernel_boot_id = a->kernel_boot_id,
                .interval_ms = (uint32_t)(a->config.interval / USEC_PER_MSEC),
        };
}

/* Reports carry at most this many log batches; a backlog drains over the following cycles. */
#define REPORT_BATCHES_MAX 50

static void on_ack(uint64_t tag, void *userdata) {
        Agent *a = userdata;
        if (tag > 0 && a->logs)
                log_tailer_ack(a->logs, tag);
}

static int make_tailer(Agent *a, LogTailer **ret) {
        const AgentConfig *c = &a->config;
        LogTailerConfig lc = {
                .pods_log_dir = c->pods_log_dir,
                .pod_globs = c->pod_log,
                .log_files = c->log_file,
                .journal_units = c->journal_unit,
                .journal_dir = c->journal_dir,
                .state_dir = c->state_dir,
                .settings =
                        {
                                .scan = {.levels = c->log_level_mask,
                                        .context = c->log_context,
                                        .max_line = (size_t)c->log_max_line},
                                .from_head = c->log_from_head,
                        },
                .max_batches = c->log_batches_max,
        };
        int r = log_tailer_new(a->event, &lc, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to start reading logs (state in %s): %m", c->state_dir);
        if (*ret)
                log_info("reading %zu log source%s, state in %s", log_tailer_n_sources(*ret),
                        log_tailer_n_sources(*ret) == 1 ? "" : "s", c->state_dir);
        return 0;
}

static int make_shipper(Agent *a, Shipper **ret) {
        _cleanup_(freep) char *token = NULL;
        int r;

        *ret = NULL;
        if (!a->config.collector)
                return 0;
        if (a->config.token_file) {
                r = read_token_file(a->config.token_file, &token);
                if (r < 0)
                        return log_error_errno(r, "Failed to read token file %s: %m", a->config.token_file);
        }
        r = shipper_new(a->event, a->config.collector, token, a->config.collector_ca, a->config.queue_max,
                a->config.ship_timeout, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the shipper: %m");
        shipper_set_ack_callback(*ret, on_ack, a);
        return 0;
}

static void print_once(Agent *a, CheckResult **checks, size_t n) {
        AgentIdentity id = agent_identity(a);
        _cleanup_json_ json_object *o = report_to_json(&id, a->seq, checks, n);

        if (!o) {
                log_oom();
                return;
        }
        if (a->config.json)
                printf("%s\n",
                        json_object_to_json_string_ext(
                                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        else {
                printf("node %s (cluster %s): %s\n\n", id.node, id.cluster,
                        json_get_string(o, "status", "?"));
                checks_print_table(json_object_object_get(o, "checks"), true, stdout);
        }
        fflush(stdout);
}

static void apply_reload(Agent *a);

/* Queues the report of this cycle, with the log batches not yet acknowledged. */
static void ship(Agent *a, CheckResult **checks, size_t n) {
        AgentIdentity id = agent_identity(a);
        Vigil__LogBatch **batches = NULL;
        size_t n_batches = 0;
        uint8_t *buf;
        size_t size;
        int r;

        if (a->logs) {
                int was = log_tailer_seal_error(a->logs);
                r = log_tailer_seal(a->logs, REPORT_BATCHES_MAX, &batches, &n_batches);
                if (r < 0)
                        log_warning_errno(r, "Failed to read saved log findings: %m");
                int now = log_tailer_seal_error(a->logs);
                if (now < 0 && now != was)
                        log_warning_errno(now,
                                "Failed to save log positions in %s, holding findings in memory: %m",
                                a->config.state_dir);
                else if (now == 0 && was < 0)
                        log_info("saving log positions again");
        }
        /* As many of the oldest batches as fit the budget; the rest go with the next reports. */
        size_t n_send = 0, bytes = 0;
        while (n_send < n_batches) {
                bytes += vigil__log_batch__get_packed_size(batches[n_send]);
                if (n_send > 0 && bytes > REPORT_LOG_BUDGET)
                        break;
                n_send++;
        }
        ReportLogs logs = {
                .state_id = a->logs ? log_tailer_state_id(a->logs) : NULL,
                .batches = batches,
                .n_batches = n_send,
        };
        r = report_encode(&id, a->seq, (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC), checks, n, &logs,
                &buf, &size);
        if (r >= 0)
                r = shipper_enqueue(a->shipper, buf, size, n_send > 0 ? batches[n_send - 1]->id : 0);
        if (r < 0)
                log_warning_errno(r, "Failed to queue report %" PRIu64 ": %m", a->seq);
        log_batches_free(batches, n_batches);
}

static void on_cycle_done(Scheduler *s, void *userdata) {
        Agent *a = userdata;
        _cleanup_(check_list_clear) CheckList log_checks = {};
        _cleanup_(freep) CheckResult **all = NULL;
        CheckResult **checks;
        size_t n;
        int r;

        r = scheduler_results(s, &checks, &n);
        if (r >= 0)
                r = log_tailer_checks(a->logs, &log_checks);
        if (r >= 0 && log_checks.n > 0) {
                /* The probes' results and the log checks, as one list (borrowed pointers). */
                all = malloc(sizeof(CheckResult *) * (n + log_checks.n));
                if (!all)
                        r = -ENOMEM;
                else {
                        memcpy(all, checks, sizeof(CheckResult *) * n);
                        memcpy(all + n, log_checks.items, sizeof(CheckResult *) * log_checks.n);
                        checks = all;
                        n += log_checks.n;
                }
        }
        if (r < 0) {
                log_oom();
                return;
        }
        a->seq++;
        VigilStatus status = report_status(checks, n);
        if (a->config.once) {
                print_once(a, checks, n);
                a->exit_status = status;
                sd_event_exit(a->event, 0);
                return;
        }
        if (a->shipper)
                ship(a, checks, n);
        _cleanup_(freep) char *summary = NULL;
        if (report_summary(checks, n, &summary) >= 0) {
                ShipperStats st = {};
                if (a->shipper)
                        shipper_get_stats(a->shipper, &st);
                (void)sd_notifyf(false,
                        "%sSTATUS=%s; reports sent %" PRIu64 ", queued %zu, dropped %" PRIu64,
                        a->ready_sent ? "" : "READY=1\n", summary, st.sent, st.queued,
                        st.dropped + st.rejected);
                a->ready_sent = true;
                log_debug("cycle %" PRIu64 ": %s", a->seq, summary);
        }
        if (a->reload_pending)
                apply_reload(a);
}

/*
 * Looks for CSI sockets matching csi_discover and adds each new one as a target. A socket once
 * found stays probed (and turns CRIT "socket missing" if it goes away) until a reload.
 */
static void discover(Agent *a) {
        glob_t g = {};

        if (isempty(a->config.csi_discover))
                return;
        int r = glob(a->config.csi_discover, GLOB_NOSORT, NULL, &g);
        if (r != 0) {
                if (r != GLOB_NOMATCH)
                        log_debug("CSI discovery of %s failed (%d)", a->config.csi_discover, r);
                globfree(&g);
                return;
        }
        for (size_t i = 0; i < g.gl_pathc; i++) {
                ProbeTarget t;
                r = probe_target_new_default(
                        &csi_probe_ops, g.gl_pathv[i], a->config.interval, a->config.timeout, &t);
                if (r >= 0) {
                        r = scheduler_add_target(a->scheduler, &t);
                        probe_target_done(&t);
                }
                if (r > 0)
                        log_info("found CSI socket %s", g.gl_pathv[i]);
                else if (r < 0)
                        log_warning_errno(r, "Cannot probe CSI socket %s: %m", g.gl_pathv[i]);
        }
        globfree(&g);
}

static int on_cycle_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Agent *a = userdata;
        usec_t now = now_usec(CLOCK_MONOTONIC);

        /* Fixed cadence: next = previous + interval, skipping cycles only if we fell behind. */
        a->next_cycle += a->config.interval;
        if (a->next_cycle <= now)
                a->next_cycle = now + a->config.interval;
        (void)sd_event_source_set_time(src, a->next_cycle);
        (void)sd_event_source_set_enabled(src, SD_EVENT_ON);

        if (!scheduler_busy(a->scheduler))
                discover(a);
        if (scheduler_start_cycle(a->scheduler) == -EBUSY)
                log_warning("previous cycle still running at the next interval; skipping this one");
        return 0;
}

static void apply_reload(Agent *a) {
        AgentConfig c = {};
        _cleanup_(freep) char *error = NULL;
        Shipper *shipper = NULL;
        int r;

        a->reload_pending = false;
        r = agent_config_load(a->argc, a->argv, &c, &error);
        if (r != 0) {
                log_error("Reload failed, keeping the running configuration: %s", error ?: strerror(-r));
                agent_config_done(&c);
                return;
        }
        c.once = a->config.once;
        AgentConfig old = a->config;
        a->config = c;
        if (make_shipper(a, &shipper) < 0) {
                a->config = old;
                agent_config_done(&c);
                return;
        }
        r = scheduler_set_targets(a->scheduler, a->config.targets, a->config.n_targets, a->config.timeout);
        if (r < 0) {
                log_error_errno(r, "Reload failed, keeping the running configuration: %m");
                shipper_free(shipper);
                a->config = old;
                agent_config_done(&c);
                return;
        }
        /* Log sources may have changed: save where the old tailer is, start a new one from there. */
        if (a->logs) {
                Vigil__LogBatch **b = NULL;
                size_t nb = 0;
                if (log_tailer_seal(a->logs, 0, &b, &nb) >= 0)
                        log_batches_free(b, nb);
                a->logs = log_tailer_free(a->logs);
        }
        if (!a->config.once && make_tailer(a, &a->logs) < 0)
                log_warning("log tailing stays off until the next reload");
        /* Reports still queued for the old collector go to the new one only if it is the same. */
        if (shipper && a->shipper && streq_ptr(old.collector, a->config.collector))
                shipper = shipper_free(shipper);
        else {
                shipper_free(a->shipper);
                a->shipper = shipper;
        }
        agent_config_done(&old);
        if (a->config.log_level)
                log_set_max_level(log_level_from_string(a->config.log_level));
        log_info("configuration reloaded: %zu target%s, interval %s", a->config.n_targets,
                a->config.n_targets == 1 ? "" : "s", FORMAT_DURATION(a->config.interval));
}

static int on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Agent *a = userdata;
        (void)sd_notify(false, "RELOADING=1");
        a->reload_pending = true;
        if (!scheduler_busy(a->scheduler))
                apply_reload(a);
        (void)sd_notify(false, "READY=1");
        return 0;
}

static int run(Agent *a) {
        sd_id128_t id;
        int r;

        r = sd_event_default(&a->event);
        if (r < 0)
                return log_error_errno(r, "Failed to create the event loop: %m");
        /* Handles WATCHDOG_USEC by itself: pings at half the interval while the loop runs. */
        (void)sd_event_set_watchdog(a->event, true);

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = sd_event_add_signal(a->event, NULL, SIGTERM, NULL, NULL)) < 0 ||
                (r = sd_event_add_signal(a->event, NULL, SIGINT, NULL, NULL)) < 0 ||
                (r = sd_event_add_signal(a->event, NULL, SIGHUP, on_sighup, a)) < 0)
                return log_error_errno(r, "Failed to watch signals: %m");

        if (sd_id128_randomize(&id) >= 0)
                sd_id128_to_string(id, a->boot_id);
        if (sd_id128_get_boot(&id) >= 0)
                sd_id128_to_string(id, a->kernel_boot_id);
        srandom((unsigned)now_usec(CLOCK_MONOTONIC) ^ (unsigned)getpid());

        r = scheduler_new(a->event, on_cycle_done, a, &a->scheduler);
        if (r < 0)
                return log_oom();
        r = scheduler_set_targets(a->scheduler, a->config.targets, a->config.n_targets, a->config.timeout);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the probes: %m");
        if (!a->config.once) {
                r = make_shipper(a, &a->shipper);
                if (r < 0)
                        return r;
                if (!a->shipper)
                        log_warning("no --collector given: probing without shipping reports");
                r = make_tailer(a, &a->logs);
                if (r < 0)
                        return r;
        }

        a->next_cycle = now_usec(CLOCK_MONOTONIC);
        r = sd_event_add_time(
                a->event, &a->cycle_timer, CLOCK_MONOTONIC, a->next_cycle, USEC_PER_MSEC, on_cycle_timer, a);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the cycle timer: %m");
        (void)sd_event_source_set_enabled(a->cycle_timer, SD_EVENT_ON);

        if (!a->config.once)
                log_info("probing %zu target%s every %s (timeout %s), node %s, cluster %s, collector %s",
                        a->config.n_targets, a->config.n_targets == 1 ? "" : "s",
                        FORMAT_DURATION(a->config.interval), FORMAT_DURATION(a->config.timeout),
                        a->config.node, a->config.cluster, a->config.collector ?: "(none)");
        r = sd_event_loop(a->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        (void)sd_notify(false, "STOPPING=1");
        return 0;
}

int main(int argc, char **argv) {
        Agent a = {.argc = argc, .argv = argv, .exit_status = 0};
        _cleanup_(freep) char *error = NULL;
        int r;

        log_set_program("vigil-agent");
        http_global_init();
        r = agent_config_load(argc, argv, &a.config, &error);
        if (r == -ENOMEM)
                return log_oom(), 2;
        if (r < 0) {
                log_error("%s", error ?: "invalid configuration");
                return 2;
        }
        if (r > 0)
                return 0;
        if (a.config.log_level)
                log_set_max_level(log_level_from_string(a.config.log_level));

        r = run(&a);
        agent_done(&a);
        if (r < 0)
                return a.config.once ? VIGIL_UNKNOWN : 1;
        return a.exit_status;
}
