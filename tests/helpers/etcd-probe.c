/* SPDX-License-Identifier: MIT */
/*
 * etcd-probe: runs the collector's etcd checks (collector/etcd.h) once and prints the snapshot as
 * JSON (what GET /v1/etcd will answer), for the integration tests. The etcd options are the
 * collector's own (--etcd URL, repeatable, --etcd-ca, --etcd-cert, --etcd-key, --etcd-cluster, ...).
 *
 * --outage-since-ms MS plays the part of the outage start the collector persists (0: none): the
 * outage clock is advanced once with this cycle's availability, and the JSON gains "outage_change"
 * (none, began, ongoing, ended), "outage_since_ms" (the value to persist) and, when an outage
 * ended, "outage_ended" (the event message). --agent NODE (repeatable) adds the cross-check with
 * these agent node names ("cross_check": the etcd.agents check).
 *
 * Exits with the worst status of the checks (0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN), 4 on bad usage or
 * an internal error.
 */
#include <inttypes.h>
#include <stddef.h>

#include "config.h"
#include "etcd.h"
#include "http-client.h"
#include "json-util.h"

typedef struct Settings {
        EtcdConfig etcd;
        char **agents;
        int64_t outage_since_ms;
} Settings;

static int parse_since(void *obj, const char *value, char **ret_reason) {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end || v < 0) {
                *ret_reason = strdup("expected milliseconds since the epoch, or 0");
                return -EINVAL;
        }
        ((Settings *)obj)->outage_since_ms = v;
        return 0;
}

static const ConfigOption options[] = {
        ETCD_CONFIG_OPTIONS(Settings, etcd),
        {"agent", 0, CONFIG_STRV, offsetof(Settings, agents), "NODE", "a node that has agent reports", 0},
        {"outage_since_ms", 0, CONFIG_CUSTOM, offsetof(Settings, outage_since_ms), "MS",
                "the persisted outage start (0: none)", 0, parse_since},
};

static const char *const change_names[] = {
        [ETCD_OUTAGE_NONE] = "none",
        [ETCD_OUTAGE_BEGAN] = "began",
        [ETCD_OUTAGE_ONGOING] = "ongoing",
        [ETCD_OUTAGE_ENDED] = "ended",
};

static int run(Settings *s) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *snap = NULL;
        _cleanup_json_ json_object *out = NULL;
        _cleanup_(freep) char *ended_msg = NULL;
        EtcdOutage outage = {.since_ms = s->outage_since_ms};
        int64_t ended_after = 0;
        int r;

        r = etcd_check_run(&s->etcd, &snap);
        if (r < 0) {
                fprintf(stderr, "etcd-probe: %s\n", strerror(-r));
                return 4;
        }
        int64_t now_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
        int change = etcd_outage_update(&outage, etcd_snapshot_available(snap), now_ms, &ended_after);
        if (change < 0)
                return 4;
        if (change == ETCD_OUTAGE_ENDED && etcd_outage_ended_message(ended_after, &ended_msg) < 0)
                return 4;
        if (etcd_snapshot_to_json(snap, &outage, now_ms, &out) < 0)
                return 4;
        json_object_object_add(out, "outage_change", json_object_new_string(change_names[change]));
        json_object_object_add(out, "outage_since_ms", json_object_new_int64(outage.since_ms));
        if (ended_msg)
                json_object_object_add(out, "outage_ended", json_object_new_string(ended_msg));

        if (s->agents) {
                _cleanup_(etcd_cross_check_done) EtcdCrossCheck x = {};
                _cleanup_(check_freep) CheckResult *c = NULL;
                if (etcd_cross_check(snap, s->agents, &x) < 0 || etcd_cross_check_result(snap, &x, &c) < 0)
                        return 4;
                json_object_object_add(out, "cross_check", check_result_to_json(c));
        }
        puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));

        VigilStatus worst = vigil_status_from_string(json_get_string(out, "status", "UNKNOWN"));
        return worst < 0 ? VIGIL_UNKNOWN : (int)worst;
}

int main(int argc, char **argv) {
        Settings s = {};
        _cleanup_(freep) char *error = NULL;
        int r;

        http_global_init();
        if (etcd_config_init(&s.etcd) < 0)
                return 4;
        r = config_parse_argv(options, ELEMENTSOF(options), &s, argc, argv, NULL, &error);
        if (r == 1) {
                printf("Usage: etcd-probe --etcd URL [--etcd URL]... [OPTIONS]\n\n");
                config_print_help(options, ELEMENTSOF(options), &s, stdout);
                r = 0;
                goto out;
        }
        if (r >= 0 && !etcd_config_enabled(&s.etcd))
                r = -EINVAL, error = strdup("--etcd URL is required");
        if (r >= 0)
                r = etcd_config_check(&s.etcd, &error);
        if (r < 0) {
                fprintf(stderr, "etcd-probe: %s\n", error ?: strerror(-r));
                r = 4;
                goto out;
        }
        r = run(&s);
out:
        config_free_fields(options, ELEMENTSOF(options), &s);
        etcd_config_done(&s.etcd);
        return r;
}
