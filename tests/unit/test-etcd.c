/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "etcd.h"
#include "json-util.h"

#define HOUR_MS (3600 * 1000LL)
#define MINUTE_MS (60 * 1000LL)

/* --- outage clock ------------------------------------------------------------------------- */

static void outage_begins_continues_and_ends_with_its_length(void **state) {
        EtcdOutage o = {};
        int64_t lasted = -1;

        assert_int_equal(etcd_outage_update(&o, true, 1000, &lasted), ETCD_OUTAGE_NONE);
        assert_int_equal(o.since_ms, 0);
        assert_int_equal(lasted, -1);

        assert_int_equal(etcd_outage_update(&o, false, 5000, &lasted), ETCD_OUTAGE_BEGAN);
        assert_int_equal(o.since_ms, 5000);
        assert_int_equal(etcd_outage_update(&o, false, 9000, &lasted), ETCD_OUTAGE_ONGOING);
        assert_int_equal(o.since_ms, 5000); /* the start never moves while it lasts */
        assert_int_equal(lasted, -1);

        assert_int_equal(etcd_outage_update(&o, true, 5000 + 72 * MINUTE_MS, &lasted), ETCD_OUTAGE_ENDED);
        assert_int_equal(lasted, 72 * MINUTE_MS);
        assert_int_equal(o.since_ms, 0);
        assert_int_equal(etcd_outage_update(&o, true, 6000 + 72 * MINUTE_MS, &lasted), ETCD_OUTAGE_NONE);
}

static void outage_restored_from_the_store_continues(void **state) {
        /* A collector restart loads since_ms: the next unavailable cycle is not a new outage. */
        EtcdOutage o = {.since_ms = 1000};
        assert_int_equal(etcd_outage_update(&o, false, 50000, NULL), ETCD_OUTAGE_ONGOING);
        assert_int_equal(o.since_ms, 1000);
}

static void outage_length_is_never_negative_when_the_clock_goes_back(void **state) {
        EtcdOutage o = {.since_ms = 10000};
        int64_t lasted = -1;
        assert_int_equal(etcd_outage_update(&o, true, 4000, &lasted), ETCD_OUTAGE_ENDED);
        assert_int_equal(lasted, 0);
        assert_int_equal(etcd_outage_update(&o, true, 0, &lasted), -EINVAL);
}

static void outage_message_says_time_left_in_the_window(void **state) {
        EtcdOutage o = {.since_ms = 1000};
        _cleanup_(freep) char *m = NULL, *late = NULL, *ended = NULL, *none = NULL;

        assert_int_equal(etcd_outage_message(&o, 24 * USEC_PER_HOUR, 1000 + 72 * MINUTE_MS, &m), 0);
        assert_string_equal(m, "etcd unavailable for 1h12m; IO continues for up to 24h: 22h48m left");

        assert_int_equal(
                etcd_outage_message(&o, 24 * USEC_PER_HOUR, 1000 + 25 * HOUR_MS + 3 * MINUTE_MS, &late), 0);
        assert_string_equal(late,
                "etcd unavailable for 25h03m; IO continues for up to 24h: exceeded by 1h03m, expect IO "
                "errors");

        _cleanup_(freep) char *fresh = NULL;
        assert_int_equal(etcd_outage_message(&o, 24 * USEC_PER_HOUR, 1000, &fresh), 0);
        assert_string_equal(fresh, "etcd unavailable for 0 s; IO continues for up to 24h: 24h00m left");

        EtcdOutage none_o = {};
        assert_int_equal(etcd_outage_message(&none_o, 24 * USEC_PER_HOUR, 5000, &none), -ENOENT);
        assert_null(none);

        assert_int_equal(etcd_outage_ended_message(72 * MINUTE_MS, &ended), 0);
        assert_string_equal(ended, "etcd available again after an outage of 1h12m");
}

/* --- arithmetic --------------------------------------------------------------------------- */

static void quorum_needs_a_strict_majority(void **state) {
        assert_true(etcd_quorum_held(3, 3));
        assert_true(etcd_quorum_held(2, 3));
        assert_false(etcd_quorum_held(1, 3));
        assert_false(etcd_quorum_held(2, 4));
        assert_true(etcd_quorum_held(3, 5));
        assert_true(etcd_quorum_held(1, 1));
        assert_false(etcd_quorum_held(0, 0));
}

static void percent_is_rounded_down(void **state) {
        assert_int_equal(etcd_percent(2, 3), 66);
        assert_int_equal(etcd_percent(3, 3), 100);
        assert_int_equal(etcd_percent(199, 200), 99);
        assert_int_equal(etcd_percent(1, 3), 33);
        assert_int_equal(etcd_percent(0, 0), 0);
}

static void assert_range_end(const char *prefix, size_t len, const char *want, size_t want_len) {
        _cleanup_(freep) uint8_t *end = NULL;
        size_t n = 0;
        assert_int_equal(etcd_prefix_range_end(prefix, len, &end, &n), 0);
        assert_int_equal(n, want_len);
        assert_memory_equal(end, want, want_len);
}

static void prefix_range_end_increments_the_last_byte(void **state) {
        assert_range_end("/ServiceDiscovery/default-alluxio/", 34, "/ServiceDiscovery/default-alluxio0", 34);
        assert_range_end("a", 1, "b", 1);
        assert_range_end("a\xff", 2, "b", 1); /* trailing 0xff bytes are dropped */
        assert_range_end("a\xfe\xff\xff", 4, "a\xff", 2);
        assert_range_end("\xff\xff", 2, "\0", 1); /* every key from the prefix on */
        assert_range_end("", 0, "\0", 1);
}

/* --- snapshots built by hand ------------------------------------------------------------- */

static EtcdSnapshot *snapshot_new(size_t n_members) {
        EtcdSnapshot *s = calloc(1, sizeof(EtcdSnapshot));
        assert_non_null(s);
        s->cluster = strdup("default-alluxio");
        s->live_prefix = strdup("/ServiceDiscovery/default-alluxio/");
        s->registered_prefix = strdup("/DHT/default-alluxio/AUTHORIZED/");
        s->call_timeout = 2 * USEC_PER_SEC;
        s->outage_tolerance = 24 * USEC_PER_HOUR;
        s->members = calloc(n_members, sizeof(EtcdMember));
        s->n_members = n_members;
        for (size_t i = 0; i < n_members; i++) {
                EtcdMember *m = &s->members[i];
                assert_true(asprintf(&m->endpoint, "http://127.0.0.1:%zu", 23790 + i) > 0);
                m->state = ETCD_MEMBER_READY;
                m->member_id = 0x100 + i;
                m->leader_id = 0x100;
                m->raft_term = 7;
                m->version = strdup("3.4.23");
        }
        return s;
}

static void member_down(EtcdSnapshot *s, size_t i, int error, const char *text) {
        s->members[i].state = ETCD_MEMBER_DOWN;
        s->members[i].error = error;
        s->members[i].error_text = strdup(text);
}

static const CheckResult *find_check(const CheckList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i]->name, name))
                        return l->items[i];
        fail_msg("no check %s", name);
        return NULL;
}

static void healthy_cluster_is_ok_everywhere(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(3);
        _cleanup_(check_list_clear) CheckList l = {};
        EtcdKv live[] = {{"/ServiceDiscovery/default-alluxio/w1", 36, "{}", 2, 7}};
        EtcdKv reg[] = {{"/DHT/default-alluxio/AUTHORIZED/w1", 34, "{}", 2, 0}};

        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_set_workers(s, live, 1, reg, 1), 0);
        s->workers_listed = true;
        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        assert_int_equal(l.n, 3);
        const CheckResult *m = find_check(&l, "etcd.members");
        assert_string_equal(m->message, "members: 3 ready / 3 expected = 100 %");
        assert_int_equal(check_status(m), VIGIL_OK);
        assert_string_equal(
                m->target, "http://127.0.0.1:23790,http://127.0.0.1:23791,http://127.0.0.1:23792");
        const CheckResult *ld = find_check(&l, "etcd.leader");
        assert_int_equal(check_status(ld), VIGIL_OK);
        assert_string_equal(ld->message, "leader 100 at http://127.0.0.1:23790, raft term 7");
        const CheckResult *w = find_check(&l, "etcd.workers");
        assert_int_equal(check_status(w), VIGIL_OK);
        assert_string_equal(w->message, "workers: 1 ready / 1 expected = 100 %");
        assert_string_equal(w->target, "/ServiceDiscovery/default-alluxio/");
}

static void one_member_down_warns_and_names_it(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(3);
        _cleanup_(check_list_clear) CheckList l = {};

        member_down(s, 1, ECONNREFUSED, "connection refused");
        etcd_snapshot_summarize(s);
        assert_int_equal(s->ready, 2);
        assert_true(s->quorum);
        assert_true(etcd_snapshot_available(s));
        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        const CheckResult *m = find_check(&l, "etcd.members");
        assert_int_equal(check_status(m), VIGIL_WARN);
        assert_string_equal(m->message,
                "members: 2 ready / 3 expected = 66 %: http://127.0.0.1:23791 connection refused");
}

static void quorum_lost_is_crit_with_the_outage_clock(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(3);
        _cleanup_(check_list_clear) CheckList l = {};
        EtcdOutage o = {.since_ms = 1000};

        member_down(s, 1, ECONNREFUSED, "connection refused");
        member_down(s, 2, ECONNREFUSED, "connection refused");
        s->members[0].state = ETCD_MEMBER_NO_LEADER;
        s->members[0].leader_id = 0;
        etcd_snapshot_summarize(s);
        assert_false(etcd_snapshot_available(s));
        assert_int_equal(etcd_snapshot_checks(s, &o, 1000 + 72 * MINUTE_MS, &l), 0);
        const CheckResult *m = find_check(&l, "etcd.members");
        assert_int_equal(check_status(m), VIGIL_CRIT);
        assert_string_equal(m->error_code, "QUORUM_LOST");
        assert_string_equal(m->message,
                "members: 0 ready / 3 expected = 0 %: quorum lost: http://127.0.0.1:23790 no leader, "
                "http://127.0.0.1:23791 connection refused, http://127.0.0.1:23792 connection refused; "
                "etcd unavailable for 1h12m; IO continues for up to 24h: 22h48m left");
        const CheckResult *ld = find_check(&l, "etcd.leader");
        assert_int_equal(check_status(ld), VIGIL_CRIT);
        assert_string_equal(ld->message, "no leader: 1 answering member knows none (raft term 7)");
        const CheckResult *w = find_check(&l, "etcd.workers");
        assert_int_equal(check_status(w), VIGIL_UNKNOWN);
        assert_string_equal(w->message, "cannot list workers: no etcd member answers");
}

static void no_member_answering_is_crit_with_the_common_errno(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(2);
        _cleanup_(check_list_clear) CheckList l = {};

        member_down(s, 0, ETIMEDOUT, "no answer within 2.0 s");
        member_down(s, 1, ETIMEDOUT, "no answer within 2.0 s");
        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        const CheckResult *m = find_check(&l, "etcd.members");
        assert_int_equal(check_status(m), VIGIL_CRIT);
        assert_string_equal(m->error_code, "NO_MEMBER");
        assert_int_equal(m->errno_value, ETIMEDOUT);
        assert_int_equal(check_status(find_check(&l, "etcd.leader")), VIGIL_UNKNOWN);
}

static void leader_disagreement_warns(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(3);
        _cleanup_(check_list_clear) CheckList l = {};

        s->members[2].leader_id = 0x102;
        etcd_snapshot_summarize(s);
        assert_true(s->leader_disagreement);
        assert_int_equal(s->leader_id, 0);
        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        const CheckResult *ld = find_check(&l, "etcd.leader");
        assert_int_equal(check_status(ld), VIGIL_WARN);
        assert_string_equal(ld->message,
                "members disagree on the leader (election in progress?): http://127.0.0.1:23790 says 100, "
                "http://127.0.0.1:23791 says 100, http://127.0.0.1:23792 says 102");
}

static void alarm_of_a_ready_member_warns(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(3);
        _cleanup_(check_list_clear) CheckList l = {};

        assert_int_equal(strv_extend(&s->members[0].errors, "memberID:256 alarm:NOSPACE"), 0);
        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        const CheckResult *m = find_check(&l, "etcd.members");
        assert_int_equal(check_status(m), VIGIL_WARN);
        assert_string_equal(m->message,
                "members: 3 ready / 3 expected = 100 %: http://127.0.0.1:23790 reports: memberID:256 "
                "alarm:NOSPACE");
}

/* --- workers ------------------------------------------------------------------------------ */

#define LIVE(id, value)                                                                                     \
        {                                                                                                   \
                "/ServiceDiscovery/default-alluxio/" id,                                                    \
                        sizeof("/ServiceDiscovery/default-alluxio/" id) - 1, value, sizeof(value) - 1, 42   \
        }
#define REG(id, value)                                                                                      \
        {                                                                                                   \
                "/DHT/default-alluxio/AUTHORIZED/" id, sizeof("/DHT/default-alluxio/AUTHORIZED/" id) - 1,   \
                        value, sizeof(value) - 1, 0                                                         \
        }

static void workers_diff_finds_registered_but_not_live(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(3);
        _cleanup_(check_list_clear) CheckList l = {};
        EtcdKv live[] = {
                LIVE("worker-b",
                        "{\"WorkerNetAddress\":{\"Host\":\"node-b\",\"RpcPort\":29999},\"State\":"
                        "\"JOINED\"}"),
                LIVE("worker-a", "\x0a\x06node-a"), /* binary (older releases): key only */
                {"/ServiceDiscovery/default-alluxio/", 34, "x", 1, 0}, /* the prefix itself: skipped */
                {"/ServiceDiscovery/other/worker-z", 32, "x", 1, 0}, /* not under the prefix */
        };
        EtcdKv reg[] = {
                REG("worker-c", "{\"address\":\"node-c:29999\"}"),
                REG("worker-a", "{}"),
                REG("worker-b", "{}"),
        };

        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_set_workers(s, live, ELEMENTSOF(live), reg, ELEMENTSOF(reg)), 0);
        s->workers_listed = true;
        assert_int_equal(s->n_workers, 3);
        assert_int_equal(s->n_live, 2);
        assert_int_equal(s->n_registered, 3);
        assert_int_equal(s->n_failed, 1);

        assert_string_equal(s->workers[0].id, "worker-a");
        assert_true(s->workers[0].live && s->workers[0].registered);
        assert_null(s->workers[0].live_value);
        assert_int_equal(s->workers[0].live_size, 8);
        assert_non_null(s->workers[0].registered_value);
        assert_null(s->workers[0].host);

        assert_string_equal(s->workers[1].id, "worker-b");
        assert_non_null(s->workers[1].live_value);
        assert_string_equal(s->workers[1].host, "node-b");
        assert_int_equal(s->workers[1].lease, 42);

        assert_string_equal(s->workers[2].id, "worker-c");
        assert_false(s->workers[2].live);
        assert_true(s->workers[2].registered);
        assert_string_equal(s->workers[2].host, "node-c");

        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        const CheckResult *w = find_check(&l, "etcd.workers");
        assert_int_equal(check_status(w), VIGIL_WARN);
        assert_string_equal(w->error_code, "WORKER_NOT_LIVE");
        assert_string_equal(
                w->message, "workers: 2 ready / 3 expected = 66 %: 1 registered worker not live: worker-c");
}

static void most_workers_failed_is_crit(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(1);
        _cleanup_(check_list_clear) CheckList l = {};
        EtcdKv live[] = {LIVE("w1", "{}")};
        EtcdKv reg[] = {REG("w1", "{}"), REG("w2", "{}"), REG("w3", "{}"), REG("w4", "{}"), REG("w5", "{}")};

        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_set_workers(s, live, 1, reg, ELEMENTSOF(reg)), 0);
        s->workers_listed = true;
        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        const CheckResult *w = find_check(&l, "etcd.workers");
        assert_int_equal(check_status(w), VIGIL_CRIT);
        assert_string_equal(w->message,
                "workers: 1 ready / 5 expected = 20 %: 4 registered workers not live: w2, w3, w4, and 1 "
                "more");
}

static void no_worker_keys_warns_about_the_cluster_name(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(1);
        _cleanup_(check_list_clear) CheckList l = {};

        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_set_workers(s, NULL, 0, NULL, 0), 0);
        s->workers_listed = true;
        assert_int_equal(etcd_snapshot_checks(s, NULL, 1000, &l), 0);
        const CheckResult *w = find_check(&l, "etcd.workers");
        assert_int_equal(check_status(w), VIGIL_WARN);
        assert_string_equal(w->error_code, "NO_WORKERS");
}

static void host_is_found_in_nested_values(void **state) {
        _cleanup_json_ json_object *a = json_tokener_parse(
                "{\"Identity\":\"x\",\"WorkerNetAddress\":{\"Host\":\"10.0.0.7\",\"RpcPort\":1}}");
        _cleanup_json_ json_object *b =
                json_tokener_parse("{\"hostname\":\"node-1.example.com\",\"address\":\"10.0.0.1:80\"}");
        _cleanup_json_ json_object *c = json_tokener_parse("{\"address\":\"[fd00::1]:29999\"}");
        _cleanup_json_ json_object *d = json_tokener_parse("{\"State\":\"JOINED\"}");
        _cleanup_(freep) char *ha = etcd_worker_host_from_value(a), *hb = etcd_worker_host_from_value(b),
                              *hc = etcd_worker_host_from_value(c), *hd = etcd_worker_host_from_value(d);
        assert_string_equal(ha, "10.0.0.7");
        assert_string_equal(hb, "node-1.example.com"); /* hostname is preferred to address */
        assert_string_equal(hc, "fd00::1");
        assert_null(hd);
        assert_null(etcd_worker_host_from_value(NULL));
}

static void hosts_match_node_names_by_short_name_not_by_ip(void **state) {
        assert_true(etcd_host_matches("node-a", "node-a"));
        assert_true(etcd_host_matches("Node-A", "node-a"));
        assert_true(etcd_host_matches("node-a", "node-a.example.com"));
        assert_true(etcd_host_matches("node-a.example.com", "node-a"));
        assert_false(etcd_host_matches("node-a", "node-ab"));
        assert_false(etcd_host_matches("10.0.0.1", "10.0.0.2"));
        assert_false(etcd_host_matches("10.0.0.1", "10"));
        assert_true(etcd_host_matches("10.0.0.1", "10.0.0.1"));
        assert_false(etcd_host_matches(NULL, "x"));
}

static void cross_check_reports_both_directions(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(1);
        _cleanup_(etcd_cross_check_done) EtcdCrossCheck x = {};
        _cleanup_(check_freep) CheckResult *c = NULL;
        EtcdKv live[] = {
                LIVE("w1", "{\"host\":\"node-a\"}"), LIVE("w2", "{\"host\":\"node-x\"}"), LIVE("w4", "{}")};
        EtcdKv reg[] = {REG("w1", "{}"), REG("w2", "{}"), REG("w3", "{\"host\":\"node-b\"}")};
        char *agents[] = {"node-a.example.com", "node-b", NULL};

        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_set_workers(s, live, ELEMENTSOF(live), reg, ELEMENTSOF(reg)), 0);
        s->workers_listed = true;
        assert_int_equal(etcd_cross_check(s, agents, &x), 0);
        assert_int_equal(x.n_live_without_agent, 1);
        assert_string_equal(x.live_without_agent[0]->id, "w2");
        assert_int_equal(x.n_failed_with_agent, 1);
        assert_string_equal(x.failed_with_agent[0]->id, "w3");
        assert_int_equal(x.n_host_unknown, 1);
        assert_int_equal(etcd_cross_check_result(s, &x, &c), 0);
        assert_int_equal(check_status(c), VIGIL_WARN);
        assert_string_equal(c->name, "etcd.agents");
        assert_string_equal(c->message,
                "1 live worker on a node without an agent: w2 (node-x); "
                "1 node with an agent whose worker is not live: node-b (w3)");
}

static void snapshot_json_has_members_leader_workers_and_outage(void **state) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = snapshot_new(3);
        _cleanup_json_ json_object *j = NULL;
        EtcdKv live[] = {LIVE("w1", "{\"host\":\"node-a\"}")};
        EtcdOutage o = {.since_ms = 1000};
        json_object *v;

        member_down(s, 1, ECONNREFUSED, "connection refused");
        member_down(s, 2, ECONNREFUSED, "connection refused");
        etcd_snapshot_summarize(s);
        assert_int_equal(etcd_snapshot_set_workers(s, live, 1, NULL, 0), 0);
        s->workers_listed = true;
        s->workers_serializable = true;
        s->workers_from = strdup("http://127.0.0.1:23790");
        assert_int_equal(etcd_snapshot_to_json(s, &o, 1000 + HOUR_MS, &j), 0);
        assert_string_equal(json_get_string(j, "status", ""), "CRIT");
        assert_true(json_object_object_get_ex(j, "members", &v));
        assert_int_equal(json_get_int(v, "ready", -1), 1);
        assert_int_equal(json_get_int(v, "expected", -1), 3);
        assert_true(json_object_object_get_ex(v, "list", &v));
        assert_int_equal(json_object_array_length(v), 3);
        assert_string_equal(json_get_string(json_object_array_get_idx(v, 1), "state", ""), "down");
        assert_string_equal(json_get_string(json_object_array_get_idx(v, 1), "errno", ""), "ECONNREFUSED");
        assert_string_equal(json_get_string(json_object_array_get_idx(v, 0), "id", ""), "100");
        assert_true(json_object_object_get_ex(j, "workers", &v));
        assert_true(json_object_get_boolean(json_object_object_get(v, "stale")));
        json_object *w0 = json_object_array_get_idx(json_object_object_get(v, "list"), 0);
        assert_string_equal(json_get_string(w0, "host", ""), "node-a");
        assert_string_equal(json_get_string(json_object_object_get(w0, "live_value"), "host", ""), "node-a");
        assert_true(json_object_object_get_ex(j, "outage", &v));
        assert_int_equal(json_get_int(v, "duration_ms", -1), HOUR_MS);
        assert_int_equal(json_get_int(v, "left_ms", -1), 23 * HOUR_MS);
        assert_string_equal(json_get_string(v, "message", ""),
                "etcd unavailable for 1h00m; IO continues for up to 24h: 23h00m left");
        assert_true(json_object_object_get_ex(j, "checks", &v));
        assert_int_equal(json_object_array_length(v), 3);
}

/* --- configuration ------------------------------------------------------------------------ */

static void config_fills_prefixes_and_normalizes_endpoints(void **state) {
        EtcdConfig c;
        _cleanup_(freep) char *error = NULL;

        assert_int_equal(etcd_config_init(&c), 0);
        assert_int_equal(strv_extend(&c.endpoints, "http://127.0.0.1:2379/"), 0);
        assert_int_equal(etcd_config_check(&c, &error), 0);
        assert_string_equal(c.endpoints[0], "http://127.0.0.1:2379");
        assert_string_equal(c.live_prefix, "/ServiceDiscovery/default-alluxio/");
        assert_string_equal(c.registered_prefix, "/DHT/default-alluxio/AUTHORIZED/");
        assert_int_equal(c.call_timeout, 2 * USEC_PER_SEC);
        assert_int_equal(c.outage_tolerance, 24 * USEC_PER_HOUR);
        etcd_config_done(&c);
}

static void config_refuses_bad_urls_and_half_a_client_cert(void **state) {
        static const char *const bad[] = {
                "127.0.0.1:2379", "unix:///run/etcd.sock", "http://", "http://h:1/v3"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                EtcdConfig c;
                _cleanup_(freep) char *error = NULL;
                assert_int_equal(etcd_config_init(&c), 0);
                assert_int_equal(strv_extend(&c.endpoints, bad[i]), 0);
                assert_int_equal(etcd_config_check(&c, &error), -EINVAL);
                assert_non_null(error);
                assert_non_null(strstr(error, "etcd"));
                etcd_config_done(&c);
        }
        EtcdConfig c;
        _cleanup_(freep) char *error = NULL;
        assert_int_equal(etcd_config_init(&c), 0);
        assert_int_equal(strv_extend(&c.endpoints, "https://h:2379"), 0);
        c.cert_file = strdup("/c.pem");
        assert_int_equal(etcd_config_check(&c, &error), -EINVAL);
        assert_string_equal(error, "etcd_cert and etcd_key go together");
        etcd_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(outage_begins_continues_and_ends_with_its_length),
                cmocka_unit_test(outage_restored_from_the_store_continues),
                cmocka_unit_test(outage_length_is_never_negative_when_the_clock_goes_back),
                cmocka_unit_test(outage_message_says_time_left_in_the_window),
                cmocka_unit_test(quorum_needs_a_strict_majority),
                cmocka_unit_test(percent_is_rounded_down),
                cmocka_unit_test(prefix_range_end_increments_the_last_byte),
                cmocka_unit_test(healthy_cluster_is_ok_everywhere),
                cmocka_unit_test(one_member_down_warns_and_names_it),
                cmocka_unit_test(quorum_lost_is_crit_with_the_outage_clock),
                cmocka_unit_test(no_member_answering_is_crit_with_the_common_errno),
                cmocka_unit_test(leader_disagreement_warns),
                cmocka_unit_test(alarm_of_a_ready_member_warns),
                cmocka_unit_test(workers_diff_finds_registered_but_not_live),
                cmocka_unit_test(most_workers_failed_is_crit),
                cmocka_unit_test(no_worker_keys_warns_about_the_cluster_name),
                cmocka_unit_test(host_is_found_in_nested_values),
                cmocka_unit_test(hosts_match_node_names_by_short_name_not_by_ip),
                cmocka_unit_test(cross_check_reports_both_directions),
                cmocka_unit_test(snapshot_json_has_members_leader_workers_and_outage),
                cmocka_unit_test(config_fills_prefixes_and_normalizes_endpoints),
                cmocka_unit_test(config_refuses_bad_urls_and_half_a_client_cert),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
