/* SPDX-License-Identifier: MIT */
/* Cluster aggregation and its answers: readiness, families, worst status, failing filter, metrics. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "collector-fixture.h"

#include <ftw.h>

#include "api.h"
#include "cluster.h"
#include "exposition.h"
#include "json-util.h"

/* Applies a report of node at t_s with checks given as "name=STATUS" strings. */
static void apply(Fixture *f, const char *node, uint64_t seq, int t_s, size_t n, const char *const *checks) {
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__CheckResult c[8], *p[8];
        char names[8][32];
        uint8_t buf[2048];

        r.node = (char *)node;
        r.cluster = (char *)"demo";
        r.boot_id = (char *)"b1";
        r.seq = seq;
        r.interval_ms = 1000;
        for (size_t i = 0; i < n; i++) {
                const char *eq = strchr(checks[i], '=');
                vigil__check_result__init(&c[i]);
                snprintf(names[i], sizeof(names[i]), "%.*s", (int)(eq - checks[i]), checks[i]);
                c[i].name = names[i];
                c[i].target = (char *)"/t";
                c[i].status = vigil_status_to_proto(vigil_status_from_string(eq + 1));
                c[i].message = (char *)(eq + 1);
                p[i] = &c[i];
        }
        r.checks = p;
        r.n_checks = n;
        size_t size = vigil__node_report__get_packed_size(&r);
        vigil__node_report__pack(&r, buf);
        ClusterReport item = {
                .report = vigil__node_report__unpack(NULL, size, buf), .raw = buf, .raw_size = size};
        assert_int_equal(
                cluster_apply(f->cluster, &item, 1, T0_MONO + t_s * USEC_PER_SEC, T0_MS + t_s * 1000LL), 0);
}

static const FamilyCount *family(const ClusterSummary *s, const char *name) {
        for (size_t i = 0; i < s->n_families; i++)
                if (s->families[i].len == strlen(name) &&
                        memcmp(s->families[i].name, name, s->families[i].len) == 0)
                        return &s->families[i];
        return NULL;
}

/* Answers splice cached parts in when serialized: inspect what a client would receive. */
static json_object *reparse(json_object *o) {
        json_object *p = json_tokener_parse(json_object_to_json_string_ext(o, CLUSTER_JSON_FLAGS));
        assert_non_null(p);
        json_object_put(o);
        return p;
}

static void test_empty_cluster_is_unknown(void **state) {
        Fixture *f = *state;
        ClusterSummary s;
        json_object *o = NULL;
        assert_int_equal(cluster_summarize(NULL, 0, &s), 0);
        assert_int_equal(s.status, VIGIL_UNKNOWN);
        assert_int_equal(s.expected, 0);
        cluster_summary_done(&s);
        assert_int_equal(api_cluster(f->cluster, NULL, NULL, false, T0_MONO, T0_MS, &o), 0);
        assert_string_equal(json_get_string(o, "status", ""), "UNKNOWN");
        assert_string_equal(json_get_string(o, "message", ""), "no agent has reported");
        json_object_put(o);
}

static void test_worst_status_and_families(void **state) {
        Fixture *f = *state;
        apply(f, "node-a", 1, 0, 3,
                (const char *const[]){"fuse.mount=OK", "fuse.read=WARN", "csi.probe=OK"});
        apply(f, "node-b", 1, 0, 2, (const char *const[]){"fuse.mount=CRIT", "csi.probe=UNKNOWN"});
        apply(f, "node-c", 1, 0, 2, (const char *const[]){"fuse.mount=OK", "csi.probe=OK"});

        NodeRef *refs;
        size_t n;
        ClusterSummary s;
        assert_int_equal(cluster_snapshot(f->cluster, &refs, &n), 0);
        assert_int_equal(cluster_summarize(refs, n, &s), 0);
        assert_int_equal(s.status, VIGIL_CRIT);
        assert_int_equal(s.by_status[VIGIL_OK], 1);
        assert_int_equal(s.by_status[VIGIL_WARN], 1);
        assert_int_equal(s.by_status[VIGIL_CRIT], 1);
        assert_int_equal(s.expected, 3);
        assert_int_equal(s.ready, 3);
        assert_string_equal(s.cluster, "demo");
        /* Per family, each node counts once, with its worst check of that family. */
        const FamilyCount *fuse = family(&s, "fuse"), *csi = family(&s, "csi"), *agent = family(&s, "agent");
        assert_non_null(fuse);
        assert_int_equal(fuse->count[VIGIL_OK], 1);
        assert_int_equal(fuse->count[VIGIL_WARN], 1);
        assert_int_equal(fuse->count[VIGIL_CRIT], 1);
        assert_non_null(csi);
        assert_int_equal(csi->count[VIGIL_OK], 2);
        assert_int_equal(csi->count[VIGIL_UNKNOWN], 1);
        assert_non_null(agent);
        assert_int_equal(agent->count[VIGIL_OK], 3);
        /* Sorted by name. */
        assert_int_equal(s.n_families, 3);
        assert_int_equal(s.families[0].len, 5); /* agent */
        assert_int_equal(s.families[1].len, 3); /* csi */
        cluster_summary_done(&s);
        node_refs_free(refs, n);
}

static void test_stale_node_counts_as_not_ready(void **state) {
        Fixture *f = *state;
        json_object *o = NULL, *agents, *nodes, *checks;
        apply(f, "node-a", 1, 0, 1, (const char *const[]){"fuse.mount=OK"});
        apply(f, "node-b", 1, 10, 1, (const char *const[]){"fuse.mount=OK"});
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 12 * USEC_PER_SEC, T0_MS + 12000), 1);

        assert_int_equal(
                api_cluster(f->cluster, NULL, NULL, false, T0_MONO + 12 * USEC_PER_SEC, T0_MS + 12000, &o),
                0);
        o = reparse(o);
        assert_string_equal(json_get_string(o, "status", ""), "CRIT");
        assert_string_equal(json_get_string(o, "message", ""), "1 of 2 nodes CRIT");
        assert_true(json_object_object_get_ex(o, "agents", &agents));
        assert_int_equal(json_get_int(agents, "ready", -1), 1);
        assert_int_equal(json_get_int(agents, "expected", -1), 2);
        assert_int_equal(json_get_int(agents, "stale", -1), 1);
        assert_true(json_get_double(agents, "percent", -1) == 50.0);
        assert_true(json_object_object_get_ex(o, "nodes", &nodes));
        json_object *a = json_object_array_get_idx(nodes, 0);
        assert_string_equal(json_get_string(a, "name", ""), "node-a");
        assert_string_equal(json_get_string(a, "status", ""), "CRIT");
        assert_true(json_object_get_boolean(json_object_object_get(a, "stale")));
        assert_true(json_get_double(a, "last_report_age_s", 0) == 12.0);
        /* The synthetic agent.report check comes first, then the last known checks. */
        assert_true(json_object_object_get_ex(a, "checks", &checks));
        assert_int_equal(json_object_array_length(checks), 2);
        assert_string_equal(
                json_get_string(json_object_array_get_idx(checks, 0), "name", ""), "agent.report");
        assert_string_equal(
                json_get_string(json_object_array_get_idx(checks, 0), "message", ""), "no report for 12 s");
        assert_string_equal(json_get_string(json_object_array_get_idx(checks, 1), "name", ""), "fuse.mount");
        json_object_put(o);
}

static void test_failing_filter_keeps_only_failures(void **state) {
        Fixture *f = *state;
        json_object *o = NULL, *nodes, *checks;
        apply(f, "node-a", 1, 0, 2, (const char *const[]){"fuse.mount=OK", "csi.probe=OK"});
        apply(f, "node-b", 1, 0, 2, (const char *const[]){"fuse.mount=CRIT", "csi.probe=OK"});

        assert_int_equal(api_cluster(f->cluster, NULL, NULL, true, T0_MONO, T0_MS, &o), 0);
        o = reparse(o);
        assert_true(json_object_object_get_ex(o, "nodes", &nodes));
        assert_int_equal(json_object_array_length(nodes), 1);
        json_object *b = json_object_array_get_idx(nodes, 0);
        assert_string_equal(json_get_string(b, "name", ""), "node-b");
        assert_true(json_object_object_get_ex(b, "checks", &checks));
        assert_int_equal(json_object_array_length(checks), 1);
        assert_string_equal(json_get_string(json_object_array_get_idx(checks, 0), "status", ""), "CRIT");
        json_object_put(o);
}

static void test_cached_checks_render_like_check_result_to_json(void **state) {
        Fixture *f = *state;
        json_object *o = NULL, *nodes, *checks, *node = NULL, *node_checks;
        apply(f, "node-a", 1, 0, 2, (const char *const[]){"fuse.mount=OK", "csi.probe=WARN"});

        /* /v1/cluster splices the cached rendering; /v1/nodes/NAME shows the same checks. */
        assert_int_equal(api_cluster(f->cluster, NULL, NULL, false, T0_MONO, T0_MS, &o), 0);
        _cleanup_json_ json_object *reparsed =
                json_tokener_parse(json_object_to_json_string_ext(o, CLUSTER_JSON_FLAGS));
        assert_non_null(reparsed);
        assert_true(json_object_object_get_ex(reparsed, "nodes", &nodes));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(nodes, 0), "checks", &checks));
        assert_int_equal(json_object_array_length(checks), 2);
        assert_int_equal(api_node(f->cluster, "node-a", T0_MONO, &node), 0);
        assert_true(json_object_object_get_ex(node, "checks", &node_checks));
        assert_string_equal(json_object_to_json_string_ext(checks, CLUSTER_JSON_FLAGS),
                json_object_to_json_string_ext(node_checks, CLUSTER_JSON_FLAGS));
        json_object_put(o);
        json_object_put(node);
        assert_int_equal(api_node(f->cluster, "node-x", T0_MONO, &node), -ENOENT);
}

/* Reads the whole stream in chunks of step bytes (so that reads end inside pieces). */
static char *read_stream(ApiStream *st, size_t step) {
        uint64_t size = api_stream_size(st), pos = 0;
        char *text = malloc(size + 1);
        assert_non_null(text);
        while (pos < size) {
                size_t n = api_stream_read(st, pos, text + pos, (size_t)MIN((uint64_t)step, size - pos));
                assert_true(n > 0);
                pos += n;
        }
        assert_int_equal(api_stream_read(st, pos, text, 1), 0);
        text[size] = 0;
        return text;
}

static void assert_stream_matches_json(Fixture *f, usec_t now_mono, int64_t now_ms) {
        json_object *o = NULL;
        ApiStream *st = NULL;

        assert_int_equal(api_cluster(f->cluster, NULL, NULL, false, now_mono, now_ms, &o), 0);
        assert_int_equal(api_cluster_stream(f->cluster, NULL, NULL, now_mono, now_ms, &st), 0);
        const char *want = json_object_to_json_string_ext(o, CLUSTER_JSON_FLAGS);
        assert_int_equal(api_stream_size(st), strlen(want));
        for (size_t step = 1; step <= 4096; step *= 8) {
                _cleanup_(freep) char *got = read_stream(st, step);
                assert_string_equal(got, want);
        }
        /* A read from elsewhere than where the last one ended still gives the right bytes. */
        char c;
        assert_int_equal(api_stream_read(st, 1, &c, 1), 1);
        assert_int_equal(c, want[1]);
        api_stream_free(st);
        json_object_put(o);
}

static void test_streamed_cluster_is_the_same_text(void **state) {
        Fixture *f = *state;

        assert_stream_matches_json(f, T0_MONO, T0_MS); /* no nodes */
        apply(f, "node-a", 1, 0, 2, (const char *const[]){"fuse.mount=OK", "csi.probe=WARN"});
        apply(f, "node-\"quoted\"/\\", 1, 0, 1, (const char *const[]){"fuse.mount=CRIT"});
        apply(f, "node-empty", 1, 0, 0, NULL);
        assert_stream_matches_json(f, T0_MONO + 1234567, T0_MS + 1234);
        /* Stale nodes (the last report is at 0 s, the window 3 s) get the synthetic check first. */
        apply(f, "node-z", 1, 4, 1, (const char *const[]){"logs.errors=OK"});
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 5 * USEC_PER_SEC, T0_MS + 5000), 3);
        assert_stream_matches_json(f, T0_MONO + 5 * USEC_PER_SEC, T0_MS + 5000);
}

static void test_report_decoded_into_an_arena_applies_and_replaces(void **state) {
        Fixture *f = *state;
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT, *report;
        Vigil__CheckResult c = VIGIL__CHECK_RESULT__INIT, *cp = &c;
        ReportArena *arena;
        uint8_t buf[512];
        NodeRef ref;

        assert_int_equal(report_decode("\xff\xff\xff", 3, &report, &arena), -EBADMSG);
        r.node = (char *)"node-a";
        r.boot_id = (char *)"b1";
        r.n_checks = 1;
        r.checks = &cp;
        c.name = (char *)"fuse.mount";
        c.status = VIGIL__STATUS__STATUS_OK;
        for (uint64_t seq = 1; seq <= 3; seq++) {
                r.seq = seq;
                c.message = seq == 3 ? (char *)"third" : (char *)"earlier";
                size_t size = vigil__node_report__pack(&r, buf);
                /* The second post of seq 2 is a duplicate: its report is freed with its arena. */
                for (int again = 0; again < (seq == 2 ? 2 : 1); again++) {
                        assert_int_equal(report_decode(buf, size, &report, &arena), 0);
                        assert_string_equal(report->node, "node-a");
                        ClusterReport item = {
                                .report = report, .arena = arena, .raw = buf, .raw_size = size};
                        assert_int_equal(cluster_apply(f->cluster, &item, 1, T0_MONO, T0_MS), 0);
                        assert_null(item.report);
                        assert_null(item.arena);
                        assert_int_equal(item.result, again ? CLUSTER_DUPLICATE : CLUSTER_APPLIED);
                }
        }
        assert_int_equal(cluster_get(f->cluster, "node-a", &ref), 0);
        assert_int_equal(ref.view->report->seq, 3);
        assert_string_equal(ref.view->report->checks[0]->message, "third");
        node_view_unref(ref.view);
}

/* ---- log findings ---- */

typedef struct LogCheck {
        const char *source, *status;
        int64_t errors, warnings;
} LogCheck;

/* Applies report r (packed and unpacked again, as the collector receives it) at t_s. */
static void apply_packed(Fixture *f, const Vigil__NodeReport *r, int t_s) {
        uint8_t buf[4096];
        assert_true(vigil__node_report__get_packed_size(r) <= sizeof(buf));
        size_t size = vigil__node_report__pack(r, buf);
        ClusterReport item = {
                .report = vigil__node_report__unpack(NULL, size, buf), .raw = buf, .raw_size = size};
        assert_int_equal(
                cluster_apply(f->cluster, &item, 1, T0_MONO + t_s * USEC_PER_SEC, T0_MS + t_s * 1000LL), 0);
}

/* Applies a report of node at t_s whose checks are one logs.errors check per source. */
static void apply_log_checks(
        Fixture *f, const char *node, uint64_t seq, int t_s, size_t n, const LogCheck *lc) {
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__CheckResult c[4], *p[4];
        Vigil__Detail d[4][2], *dp[4][2];

        assert_true(n <= 4);
        r.node = (char *)node;
        r.boot_id = (char *)"b1";
        r.seq = seq;
        r.interval_ms = 1000;
        for (size_t i = 0; i < n; i++) {
                vigil__check_result__init(&c[i]);
                c[i].name = (char *)"logs.errors";
                c[i].target = (char *)lc[i].source;
                c[i].status = vigil_status_to_proto(vigil_status_from_string(lc[i].status));
                for (size_t k = 0; k < 2; k++) {
                        vigil__detail__init(&d[i][k]);
                        d[i][k].key = k == 0 ? (char *)"errors_last_hour" : (char *)"warnings_last_hour";
                        d[i][k].value_case = VIGIL__DETAIL__VALUE_INT_VALUE;
                        d[i][k].int_value = k == 0 ? lc[i].errors : lc[i].warnings;
                        dp[i][k] = &d[i][k];
                }
                c[i].details = dp[i];
                c[i].n_details = 2;
                p[i] = &c[i];
        }
        r.checks = p;
        r.n_checks = n;
        apply_packed(f, &r, t_s);
}

static void test_logs_summary_counts_the_sources_of_fresh_nodes(void **state) {
        Fixture *f = *state;
        json_object *o = NULL, *logs, *sources, *failing;

        apply_log_checks(f, "node-a", 1, 10, 2,
                (const LogCheck[]){{"pod:alluxio/alluxio-worker-0/worker", "CRIT", 120, 3},
                        {"file:/var/log/alluxio/master.log", "OK", 0, 2}});
        apply_log_checks(f, "node-b", 1, 10, 2,
                (const LogCheck[]){{"journal:alluxio-fuse.service", "WARN", 12, 0},
                        {"pod:alluxio/alluxio-worker-1/worker", "CRIT", 40, 0}});
        apply_log_checks(f, "node-c", 1, 10, 1, (const LogCheck[]){{"file:/x", "UNKNOWN", 0, 0}});
        /* A stale node's checks are old news: they do not count. */
        apply_log_checks(f, "node-d", 1, 0, 1, (const LogCheck[]){{"file:/y", "CRIT", 1000, 1000}});
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 10 * USEC_PER_SEC, T0_MS + 10000), 1);

        assert_int_equal(
                api_cluster(f->cluster, NULL, NULL, false, T0_MONO + 10 * USEC_PER_SEC, T0_MS + 10000, &o),
                0);
        o = reparse(o);
        assert_true(json_object_object_get_ex(o, "logs", &logs));
        assert_true(json_object_object_get_ex(logs, "sources", &sources));
        assert_int_equal(json_get_int(sources, "ok", -1), 1);
        assert_int_equal(json_get_int(sources, "warn", -1), 1);
        assert_int_equal(json_get_int(sources, "crit", -1), 2);
        assert_int_equal(json_get_int(sources, "unknown", -1), 1);
        assert_int_equal(json_get_int(logs, "errors_last_hour", -1), 172);
        assert_int_equal(json_get_int(logs, "warnings_last_hour", -1), 5);
        /* CRIT sources first, then WARN ones, each kind by node. */
        assert_true(json_object_object_get_ex(logs, "failing", &failing));
        assert_int_equal(json_object_array_length(failing), 3);
        json_object *first = json_object_array_get_idx(failing, 0),
                    *second = json_object_array_get_idx(failing, 1),
                    *third = json_object_array_get_idx(failing, 2);
        assert_string_equal(json_get_string(first, "node", ""), "node-a");
        assert_string_equal(json_get_string(first, "source", ""), "pod:alluxio/alluxio-worker-0/worker");
        assert_string_equal(json_get_string(first, "status", ""), "CRIT");
        assert_string_equal(json_get_string(second, "source", ""), "pod:alluxio/alluxio-worker-1/worker");
        assert_string_equal(json_get_string(third, "source", ""), "journal:alluxio-fuse.service");
        assert_string_equal(json_get_string(third, "status", ""), "WARN");
        json_object_put(o);
        assert_stream_matches_json(f, T0_MONO + 10 * USEC_PER_SEC, T0_MS + 10000);
}

static void test_logs_summary_lists_a_few_sources_crit_first(void **state) {
        Fixture *f = *state;
        char node[16];
        NodeRef *refs;
        size_t n;
        ClusterSummary s;

        /* Seven WARN nodes, then three CRIT ones: the list keeps the CRIT ones, then WARN to fill it. */
        for (int i = 0; i < 10; i++) {
                snprintf(node, sizeof(node), "node-%d", i);
                apply_log_checks(
                        f, node, 1, 0, 1, (const LogCheck[]){{"file:/x", i < 7 ? "WARN" : "CRIT", 1, 0}});
        }
        assert_int_equal(cluster_snapshot(f->cluster, &refs, &n), 0);
        assert_int_equal(cluster_summarize(refs, n, &s), 0);
        assert_int_equal(s.logs.by_status[VIGIL_WARN], 7);
        assert_int_equal(s.logs.by_status[VIGIL_CRIT], 3);
        assert_int_equal(s.logs.n_failing, CLUSTER_LOGS_LISTED);
        assert_string_equal(s.logs.failing[0].node, "node-7");
        assert_string_equal(s.logs.failing[2].node, "node-9");
        assert_int_equal(s.logs.failing[2].status, VIGIL_CRIT);
        assert_string_equal(s.logs.failing[3].node, "node-0");
        assert_string_equal(s.logs.failing[4].node, "node-1");
        cluster_summary_done(&s);
        node_refs_free(refs, n);
}

/* Stores one batch of node: signatures sigs[0..n) of source, and maybe previous-container evidence. */
static void store_batch(Fixture *f, const char *node, uint64_t id, const char *source,
        Vigil__LogSignature **sigs, size_t n, Vigil__LogSignature **previous, size_t n_previous) {
        Vigil__LogBatch b = VIGIL__LOG_BATCH__INIT;
        Vigil__LogSourceBatch src = VIGIL__LOG_SOURCE_BATCH__INIT, *srcp = &src;
        Vigil__LogMinute m = VIGIL__LOG_MINUTE__INIT, *mp = &m;

        m.minute_ms = T0_MS / 60000 * 60000;
        for (size_t i = 0; i < n; i++)
                if (sigs[i]->level == VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR)
                        m.error += sigs[i]->count;
                else if (sigs[i]->level == VIGIL__LOG_LEVEL__LOG_LEVEL_WARN)
                        m.warn += sigs[i]->count;
        src.source = (char *)source;
        src.lines = 1000;
        src.bytes = 100000;
        src.lines_cut = 1;
        src.restart_count = 3;
        src.minutes = &mp;
        src.n_minutes = 1;
        src.signatures = sigs;
        src.n_signatures = n;
        src.previous = previous;
        src.n_previous = n_previous;
        src.previous_restart_count = 2;
        b.id = id;
        b.sources = &srcp;
        b.n_sources = 1;
        assert_int_equal(store_begin(f->store), 0);
        assert_int_equal(store_apply_log_batch(f->store, node, "st1", &b, T0_MS), 1);
        assert_int_equal(store_commit(f->store), 0);
}

static Vigil__LogSignature signature(
        uint64_t hash, Vigil__LogLevel level, const char *sample, uint64_t count, int64_t last_ms) {
        static char *context[] = {(char *)"    at hdfs.Client.list(Client.java:42)"};
        Vigil__LogSignature sig = VIGIL__LOG_SIGNATURE__INIT;
        sig.hash = hash;
        sig.level = level;
        sig.pattern = (char *)sample;
        sig.sample = (char *)sample;
        sig.count = count;
        sig.first_ms = last_ms - 5000;
        sig.last_ms = last_ms;
        sig.context = context;
        sig.n_context = ELEMENTSOF(context);
        return sig;
}

static json_object *logs_answer(Fixture *f, ApiLogsQuery q) {
        json_object *o = NULL, *logs;
        const char *reason = NULL;
        assert_int_equal(api_logs(f->store, &q, T0_MS + 60000, &o, &reason), 0);
        assert_true(json_object_object_get_ex(o, "logs", &logs));
        return o;
}

static json_object *logs_of(json_object *o) {
        return json_object_object_get(o, "logs");
}

static void test_api_logs_groups_by_node_and_source(void **state) {
        Fixture *f = *state;
        const char *pod = "pod:alluxio/alluxio-worker-0/worker";
        Vigil__LogSignature a = signature(
                                    1, VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR, "ERROR Failed to list", 5, T0_MS),
                            b = signature(
                                    2, VIGIL__LOG_LEVEL__LOG_LEVEL_WARN, "WARN Slow RPC", 2, T0_MS + 1000),
                            oom = signature(
                                    3, VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL, "FATAL OOM", 1, T0_MS - 9000),
                            *ab[] = {&a, &b}, *prev[] = {&oom};

        store_batch(f, "node-b", 1, "file:/var/log/b.log", ab, 1, NULL, 0);
        store_batch(f, "node-a", 1, pod, ab, 2, prev, 1);
        /* A source with lines but nothing found is not listed. */
        store_batch(f, "node-a", 2, "file:/var/log/quiet.log", NULL, 0, NULL, 0);

        _cleanup_json_ json_object *o = logs_answer(f, (ApiLogsQuery){});
        json_object *logs = logs_of(o), *g, *sigs, *sig, *counts, *previous, *context;
        assert_int_equal(json_object_array_length(logs), 2);
        assert_int_equal(json_get_int(o, "since_ms", -1), 0);
        g = json_object_array_get_idx(logs, 0);
        assert_string_equal(json_get_string(g, "node", ""), "node-a");
        assert_string_equal(json_get_string(g, "source", ""), pod);
        assert_int_equal(json_get_int(g, "restart_count", -1), 3);
        assert_int_equal(json_get_int(g, "lines", -1), 1000);
        assert_int_equal(json_get_int(g, "bytes", -1), 100000);
        assert_int_equal(json_get_int(g, "lines_cut", -1), 1);
        assert_int_equal(json_get_int(g, "bytes_lost", -1), 0);
        assert_true(json_object_object_get_ex(g, "counts", &counts));
        assert_int_equal(json_get_int(counts, "error", -1), 5);
        assert_int_equal(json_get_int(counts, "warn", -1), 2);
        assert_int_equal(json_get_int(counts, "fatal", -1), 0);
        /* Most recent first. */
        assert_true(json_object_object_get_ex(g, "signatures", &sigs));
        assert_int_equal(json_object_array_length(sigs), 2);
        sig = json_object_array_get_idx(sigs, 0);
        assert_string_equal(json_get_string(sig, "level", ""), "WARN");
        assert_string_equal(json_get_string(sig, "sample", ""), "WARN Slow RPC");
        sig = json_object_array_get_idx(sigs, 1);
        assert_string_equal(json_get_string(sig, "level", ""), "ERROR");
        assert_string_equal(json_get_string(sig, "pattern", ""), "ERROR Failed to list");
        assert_int_equal(json_get_int(sig, "count", -1), 5);
        assert_int_equal(json_get_int(sig, "first_ms", -1), T0_MS - 5000);
        assert_int_equal(json_get_int(sig, "last_ms", -1), T0_MS);
        assert_false(json_object_get_boolean(json_object_object_get(sig, "sample_cut")));
        assert_true(json_object_object_get_ex(sig, "context", &context));
        assert_int_equal(json_object_array_length(context), 1);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(context, 0)),
                "    at hdfs.Client.list(Client.java:42)");
        assert_true(json_object_object_get_ex(g, "previous", &previous));
        assert_int_equal(json_get_int(previous, "restart_count", -1), 2);
        assert_true(json_object_object_get_ex(previous, "signatures", &sigs));
        assert_string_equal(json_get_string(json_object_array_get_idx(sigs, 0), "level", ""), "FATAL");
        g = json_object_array_get_idx(logs, 1);
        assert_string_equal(json_get_string(g, "node", ""), "node-b");
        assert_true(json_object_object_get_ex(g, "previous", &previous));
        assert_null(previous);
}

static void test_api_logs_filters(void **state) {
        Fixture *f = *state;
        Vigil__LogSignature a = signature(
                                    1, VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR, "ERROR Failed to list", 5, T0_MS),
                            b = signature(2, VIGIL__LOG_LEVEL__LOG_LEVEL_WARN, "WARN Slow RPC", 2,
                                    T0_MS - 3600000),
                            *ab[] = {&a, &b};

        store_batch(f, "node-a", 1, "pod:alluxio/alluxio-worker-0/worker", ab, 2, NULL, 0);
        store_batch(f, "node-b", 1, "file:/var/log/b.log", ab, 2, NULL, 0);

        _cleanup_json_ json_object *by_node = logs_answer(f, (ApiLogsQuery){.node = "node-b"});
        assert_int_equal(json_object_array_length(logs_of(by_node)), 1);
        _cleanup_json_ json_object *by_glob = logs_answer(f, (ApiLogsQuery){.source = "pod:*"});
        assert_int_equal(json_object_array_length(logs_of(by_glob)), 1);
        _cleanup_json_ json_object *none = logs_answer(f, (ApiLogsQuery){.node = "node-x"});
        assert_int_equal(json_object_array_length(logs_of(none)), 0);
        /* level: the least one shown, any case. */
        _cleanup_json_ json_object *errors = logs_answer(f, (ApiLogsQuery){.level = "error"});
        json_object *sigs =
                json_object_object_get(json_object_array_get_idx(logs_of(errors), 0), "signatures");
        assert_int_equal(json_object_array_length(sigs), 1);
        assert_string_equal(json_get_string(json_object_array_get_idx(sigs, 0), "level", ""), "ERROR");
        /* since: a duration back from the collector's now (T0 + 1 min here). */
        _cleanup_json_ json_object *recent = logs_answer(f, (ApiLogsQuery){.since = "30m"});
        assert_int_equal(json_get_int(recent, "since_ms", -1), T0_MS + 60000 - 1800000);
        sigs = json_object_object_get(json_object_array_get_idx(logs_of(recent), 0), "signatures");
        assert_int_equal(json_object_array_length(sigs), 1);
        _cleanup_json_ json_object *limited = logs_answer(f, (ApiLogsQuery){.limit = "1"});
        assert_int_equal(json_object_array_length(logs_of(limited)), 2);
        sigs = json_object_object_get(json_object_array_get_idx(logs_of(limited), 1), "signatures");
        assert_int_equal(json_object_array_length(sigs), 1);
}

static void test_api_logs_bad_parameters(void **state) {
        Fixture *f = *state;
        static const ApiLogsQuery bad[] = {
                {.level = "LOUD"},
                {.level = "errorx"},
                {.since = "yesterday"},
                {.limit = "0"},
                {.limit = "10001"},
                {.limit = "-1"},
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_object *o = NULL;
                const char *reason = NULL;
                assert_int_equal(api_logs(f->store, &bad[i], T0_MS, &o, &reason), -EINVAL);
                assert_null(o);
                assert_non_null(reason);
                assert_non_null(strstr(reason,
                        bad[i].level           ? "'level'"
                                : bad[i].since ? "'since'"
                                               : "'limit'"));
        }
}

/* ---- metrics ---- */

/* One metrics check (one scraped endpoint): its rates, one FUSE operation and one UFS error. */
typedef struct EndpointSpec {
        const char *role;
        double requests, cached, ufs_read, ufs_write, concurrency;
        const char *op;
        double op_per_s;
        const char *ufs, *error_code;
        double error_per_s;
        bool expected;
        const char *missing;
        bool first_scrape; /* no rates yet (interval_s 0) */
} EndpointSpec;

/* Applies a report of node at t_s with a fuse.mount check and one metrics.scrape check per spec. */
static void apply_metrics(
        Fixture *f, const char *node, uint64_t seq, int t_s, const EndpointSpec *specs, size_t n) {
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__CheckResult c[5], *p[5];
        Vigil__MetricsDetails d[4];
        Vigil__KeyRate op[4], *opp[4];
        Vigil__UfsErrorRate e[4], *ep[4];
        char *missing[4];
        uint8_t buf[4096];

        assert_true(n <= 4);
        r.node = (char *)node;
        r.cluster = (char *)"demo";
        r.boot_id = (char *)"b1";
        r.seq = seq;
        r.interval_ms = 1000;
        vigil__check_result__init(&c[0]);
        c[0].name = (char *)"fuse.mount";
        c[0].target = (char *)"/mnt/alluxio";
        c[0].status = VIGIL__STATUS__STATUS_OK;
        p[0] = &c[0];
        for (size_t i = 0; i < n; i++) {
                const EndpointSpec *sp = &specs[i];
                vigil__check_result__init(&c[i + 1]);
                vigil__metrics_details__init(&d[i]);
                c[i + 1].name = (char *)"metrics.scrape";
                c[i + 1].target = (char *)sp->role;
                c[i + 1].status = VIGIL__STATUS__STATUS_OK;
                c[i + 1].metrics = &d[i];
                d[i].role = (char *)sp->role;
                d[i].interval_s = sp->first_scrape ? 0 : 5;
                d[i].requests_per_s = sp->requests;
                d[i].cached_read_bytes_per_s = sp->cached;
                d[i].ufs_read_bytes_per_s = sp->ufs_read;
                d[i].ufs_write_bytes_per_s = sp->ufs_write;
                d[i].fuse_concurrency = sp->concurrency;
                if (sp->op) {
                        vigil__key_rate__init(&op[i]);
                        op[i].key = (char *)sp->op;
                        op[i].per_s = sp->op_per_s;
                        opp[i] = &op[i];
                        d[i].fuse_ops_per_s = &opp[i];
                        d[i].n_fuse_ops_per_s = 1;
                }
                if (sp->error_code) {
                        vigil__ufs_error_rate__init(&e[i]);
                        e[i].ufs = (char *)sp->ufs;
                        e[i].error_code = (char *)sp->error_code;
                        e[i].per_s = sp->error_per_s;
                        e[i].expected = sp->expected;
                        ep[i] = &e[i];
                        d[i].ufs_errors = &ep[i];
                        d[i].n_ufs_errors = 1;
                }
                if (sp->missing) {
                        missing[i] = (char *)sp->missing;
                        d[i].missing = &missing[i];
                        d[i].n_missing = 1;
                }
                p[i + 1] = &c[i + 1];
        }
        r.checks = p;
        r.n_checks = n + 1;
        size_t size = vigil__node_report__get_packed_size(&r);
        assert_true(size <= sizeof(buf));
        vigil__node_report__pack(&r, buf);
        ClusterReport item = {
                .report = vigil__node_report__unpack(NULL, size, buf), .raw = buf, .raw_size = size};
        assert_int_equal(
                cluster_apply(f->cluster, &item, 1, T0_MONO + t_s * USEC_PER_SEC, T0_MS + t_s * 1000LL), 0);
}

/* node-a: a busy worker at 87.5 % and its FUSE; node-b: a quieter worker at 25 %. */
static void two_nodes_with_metrics(Fixture *f, int t_s) {
        apply_metrics(f, "node-a", 1, t_s,
                (const EndpointSpec[]){
                        {.role = "worker",
                                .requests = 1000,
                                .cached = 700,
                                .ufs_read = 100,
                                .ufs_write = 5,
                                .ufs = "s3",
                                .error_code = "503",
                                .error_per_s = 2.5},
                        {.role = "fuse",
                                .op = "read",
                                .op_per_s = 250,
                                .concurrency = 12,
                                .ufs = "s3",
                                .error_code = "404",
                                .error_per_s = 1,
                                .expected = true,
                                .missing = "alluxio_fuse_result"},
                },
                2);
        apply_metrics(f, "node-b", 1, t_s,
                (const EndpointSpec[]){
                        {.role = "worker",
                                .requests = 250,
                                .cached = 100,
                                .ufs_read = 300,
                                .ufs = "s3",
                                .error_code = "503",
                                .error_per_s = 0.5,
                                .op = "read",
                                .op_per_s = 50},
                },
                1);
}

static ClusterSummary summarize(Fixture *f, NodeRef **ret_refs, size_t *ret_n) {
        ClusterSummary s;
        assert_int_equal(cluster_snapshot(f->cluster, ret_refs, ret_n), 0);
        assert_int_equal(cluster_summarize(*ret_refs, *ret_n, &s), 0);
        return s;
}

static void test_cluster_hit_rate_is_the_ratio_of_sums(void **state) {
        Fixture *f = *state;
        NodeRef *refs = NULL;
        size_t n = 0;
        double ratio, a, b;
        json_object *o = NULL, *cur;

        two_nodes_with_metrics(f, 0);
        ClusterSummary s = summarize(f, &refs, &n);
        assert_int_equal(s.metrics.nodes, 2);
        assert_int_equal(s.metrics.endpoints, 3);
        assert_true(s.metrics.total.v[METRIC_REQUESTS] == 1250);
        assert_true(s.metrics.total.v[METRIC_CACHED_BYTES] == 800);
        assert_true(s.metrics.total.v[METRIC_UFS_READ_BYTES] == 400);
        /* 800 / (800 + 400) = 66.7 %, where the mean of the nodes' 87.5 % and 25 % is 56.25 %. */
        assert_true(metric_values_hit_ratio(&refs[0].view->metrics, &a) && a == 0.875);
        assert_true(metric_values_hit_ratio(&refs[1].view->metrics, &b) && b == 0.25);
        assert_true(metric_values_hit_ratio(&s.metrics.total, &ratio));
        assert_true(ratio == 800.0 / 1200.0);
        assert_true(ratio != (a + b) / 2);
        cluster_summary_done(&s);
        node_refs_free(refs, n);

        o = reparse(({
                json_object *x = NULL;
                assert_int_equal(api_cluster(f->cluster, NULL, NULL, false, T0_MONO, T0_MS, &x), 0);
                x;
        }));
        cur = json_object_object_get(json_object_object_get(o, "metrics"), "current");
        assert_true(json_get_double(cur, "hit_rate", -1) == 800.0 / 1200.0);
        assert_int_equal(json_get_int(cur, "endpoints", 0), 3);
        assert_null(json_object_object_get(json_object_object_get(o, "metrics"), "comparisons"));
        json_object_put(o);
}

static void test_metrics_breakdown_sums_endpoints_and_nodes(void **state) {
        Fixture *f = *state;
        NodeRef *refs = NULL;
        size_t n = 0;

        two_nodes_with_metrics(f, 0);
        ClusterSummary s = summarize(f, &refs, &n);
        const MetricsSummary *m = &s.metrics;
        assert_true(m->total.v[METRIC_FUSE_OPS] == 300);
        assert_true(m->total.v[METRIC_FUSE_CONCURRENCY] == 12);
        assert_true(m->total.v[METRIC_UFS_WRITE_BYTES] == 5);
        /* The expected 404s are listed but do not count as errors. */
        assert_true(m->total.v[METRIC_UFS_ERRORS] == 3);
        assert_int_equal(m->n_fuse_ops, 1);
        assert_string_equal(m->fuse_ops[0].key, "read");
        assert_true(m->fuse_ops[0].per_s == 300);
        assert_int_equal(m->n_ufs_errors, 2);
        assert_string_equal(m->ufs_errors[0].error_code, "503");
        assert_true(m->ufs_errors[0].per_s == 3);
        assert_false(m->ufs_errors[0].expected);
        assert_string_equal(m->ufs_errors[1].error_code, "404");
        assert_true(m->ufs_errors[1].expected);
        assert_int_equal(m->n_missing, 1);
        assert_string_equal(m->missing[0], "alluxio_fuse_result");
        cluster_summary_done(&s);
        node_refs_free(refs, n);

        /* A stale node's rates are old news: only node-b (reporting again at 4 s) counts. */
        apply_metrics(f, "node-b", 2, 4,
                (const EndpointSpec[]){{.role = "worker", .requests = 100, .cached = 1, .ufs_read = 1}}, 1);
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 5 * USEC_PER_SEC, T0_MS + 5000), 1);
        s = summarize(f, &refs, &n);
        assert_int_equal(s.metrics.nodes, 1);
        assert_true(s.metrics.total.v[METRIC_REQUESTS] == 100);
        assert_int_equal(s.metrics.n_ufs_errors, 0);
        cluster_summary_done(&s);
        node_refs_free(refs, n);
}

/* The mean over the last hour at now_ms of key of breakdown l of node; -1 when the key has no windows. */
static double key_hour_mean(Fixture *f, const char *node, int64_t now_ms, MetricLabelSeries l,
        const char *key, size_t *ret_n_keys) {
        MetricBreakdown b[_METRIC_LABEL_SERIES_MAX] = {
                {.series = METRIC_LABEL_FUSE_OPS}, {.series = METRIC_LABEL_UFS_ERRORS}};
        MetricWindow w[_METRIC_WINDOW_MAX];
        double v = -1;

        metric_windows_init(now_ms, w);
        assert_int_equal(store_query_metric_history(f->store, node, w, b), 0);
        for (size_t i = 0; i < b[l].n_keys; i++)
                if (streq(b[l].keys[i].key, key))
                        assert_true(metric_window_mean(
                                &b[l].keys[i].w[METRIC_WINDOW_HOUR], metric_label_series_total(l), &v));
        *ret_n_keys = b[l].n_keys;
        for (size_t k = 0; k < _METRIC_LABEL_SERIES_MAX; k++)
                metric_breakdown_done(&b[k]);
        return v;
}

static void test_history_record_writes_fresh_nodes_and_the_cluster(void **state) {
        Fixture *f = *state;
        _cleanup_(metrics_history_freep) MetricsHistory *h = NULL;
        MetricsSettings settings;
        MetricWindow w[_METRIC_WINDOW_MAX];
        int64_t now_ms = T0_MS + 30 * 1000;

        metrics_settings_default(&settings);
        assert_int_equal(metrics_history_new(&settings, &h), 0);
        assert_false(metrics_history_cluster(h, w));
        two_nodes_with_metrics(f, 0);
        apply(f, "node-c", 1, 0, 1, (const char *const[]){"fuse.mount=OK"}); /* no metrics: no points */
        /* An endpoint scraped only once has no rates: no point (it would read as an idle node). */
        apply_metrics(
                f, "node-d", 1, 0, (const EndpointSpec[]){{.role = "worker", .first_scrape = true}}, 1);
        assert_int_equal(metrics_history_record(h, f->cluster, f->store, now_ms), 0);
        /* The same minute again replaces its points. */
        assert_int_equal(metrics_history_record(h, f->cluster, f->store, now_ms + 1000), 0);

        assert_true(metrics_history_cluster(h, w));
        assert_int_equal(w[METRIC_WINDOW_HOUR].to_ms, now_ms + 1000);
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 1);
        assert_true(w[METRIC_WINDOW_HOUR].sum.v[METRIC_REQUESTS] == 1250);
        assert_true(w[METRIC_WINDOW_HOUR].sum.v[METRIC_UFS_ERRORS] == 3);
        metric_windows_init(now_ms + 60000, w);
        assert_int_equal(store_query_metric_windows(f->store, "node-b", w, _METRIC_WINDOW_MAX), 0);
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 1);
        assert_true(w[METRIC_WINDOW_HOUR].sum.v[METRIC_CACHED_BYTES] == 100);
        /* The breakdowns, per node and summed per key for the cluster; the expected 404s left out. */
        size_t n_keys = 0;
        assert_true(
                key_hour_mean(f, "node-a", now_ms + 60000, METRIC_LABEL_FUSE_OPS, "read", &n_keys) == 250);
        assert_int_equal(n_keys, 1);
        assert_true(
                key_hour_mean(f, "node-a", now_ms + 60000, METRIC_LABEL_UFS_ERRORS, "503", &n_keys) == 2.5);
        assert_int_equal(n_keys, 1);
        assert_true(key_hour_mean(f, METRICS_CLUSTER_NODE, now_ms + 60000, METRIC_LABEL_FUSE_OPS, "read",
                            &n_keys) == 300);
        assert_true(key_hour_mean(f, METRICS_CLUSTER_NODE, now_ms + 60000, METRIC_LABEL_UFS_ERRORS, "503",
                            &n_keys) == 3);
        assert_int_equal(n_keys, 1);
        assert_true(
                key_hour_mean(f, "node-d", now_ms + 60000, METRIC_LABEL_FUSE_OPS, "read", &n_keys) == -1);
        assert_int_equal(n_keys, 0);
        metric_windows_init(now_ms + 60000, w);
        assert_int_equal(store_query_metric_windows(f->store, "node-c", w, _METRIC_WINDOW_MAX), 0);
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 0);
        metric_windows_init(now_ms + 60000, w);
        assert_int_equal(store_query_metric_windows(f->store, "node-d", w, _METRIC_WINDOW_MAX), 0);
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 0);

        /* Once stale, a node has no more points; the cluster's are the sums of the others. */
        apply_metrics(f, "node-b", 2, 4,
                (const EndpointSpec[]){{.role = "worker", .requests = 100, .cached = 1, .ufs_read = 1}}, 1);
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 5 * USEC_PER_SEC, T0_MS + 5000), 3);
        assert_int_equal(metrics_history_record(h, f->cluster, f->store, now_ms + 60000), 0);
        metric_windows_init(now_ms + 61000, w);
        assert_int_equal(store_query_metric_windows(f->store, "node-a", w, _METRIC_WINDOW_MAX), 0);
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 1);
        assert_true(metrics_history_cluster(h, w));
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 2);
        assert_true(w[METRIC_WINDOW_HOUR].sum.v[METRIC_REQUESTS] == 1250 + 100);
}

static void test_api_metrics_of_cluster_and_node(void **state) {
        Fixture *f = *state;
        _cleanup_(metrics_history_freep) MetricsHistory *h = NULL;
        MetricsSettings settings;
        json_object *o = NULL, *cmp;

        metrics_settings_default(&settings);
        assert_int_equal(metrics_history_new(&settings, &h), 0);
        two_nodes_with_metrics(f, 0);
        assert_int_equal(metrics_history_record(h, f->cluster, f->store, T0_MS), 0);
        /* A day before: the cluster at 100 reads/s, and a 500 error code gone since. */
        MetricValues day_ago = {.v = {[METRIC_FUSE_OPS] = 100, [METRIC_UFS_ERRORS] = 1}};
        assert_int_equal(store_begin(f->store), 0);
        assert_int_equal(
                store_put_metric_point(f->store, METRICS_CLUSTER_NODE, T0_MS - 86400000, &day_ago), 0);
        assert_int_equal(store_put_metric_label_points(f->store, METRICS_CLUSTER_NODE, T0_MS - 86400000,
                                 METRIC_LABEL_FUSE_OPS, &(MetricKeyRate){"read", 100}, 1),
                0);
        assert_int_equal(store_put_metric_label_points(f->store, METRICS_CLUSTER_NODE, T0_MS - 86400000,
                                 METRIC_LABEL_UFS_ERRORS, &(MetricKeyRate){"500", 1}, 1),
                0);
        assert_int_equal(store_commit(f->store), 0);

        assert_int_equal(api_metrics(f->cluster, f->store, h, NULL, T0_MS + 60000, T0_MONO, &o), 0);
        o = reparse(o);
        assert_true(json_object_is_type(json_object_object_get(o, "name"), json_type_null));
        assert_true(json_get_double(json_object_object_get(o, "current"), "requests_per_s", 0) == 1250);
        assert_int_equal(json_get_int(json_object_object_get(json_object_object_get(o, "windows"), "hour"),
                                 "points", 0),
                1);
        cmp = json_object_object_get(json_object_object_get(o, "comparisons"), "hit_rate");
        assert_true(json_get_double(cmp, "hour", 0) == 800.0 / 1200.0);
        assert_true(json_object_is_type(json_object_object_get(cmp, "day_ago"), json_type_null));
        assert_true(json_object_is_type(json_object_object_get(cmp, "day"), json_type_null));
        assert_true(json_get_double(json_object_object_get(o, "settings"), "change", 0) == 0.25);
        cmp = json_object_object_get(json_object_object_get(o, "comparisons"), "fuse_ops_per_s");
        assert_true(json_get_double(cmp, "day_ago", 0) == 100);
        /* The breakdowns: each key's current rate and its comparison, as the totals'. */
        json_object *b = json_object_object_get(o, "breakdowns"), *k;
        assert_int_equal(json_object_array_length(json_object_object_get(b, "fuse_ops")), 1);
        k = json_object_array_get_idx(json_object_object_get(b, "fuse_ops"), 0);
        assert_string_equal(json_get_string(k, "key", ""), "read");
        assert_true(json_get_double(k, "now", 0) == 300);
        assert_true(json_get_double(k, "hour", 0) == 300);
        assert_true(json_get_double(k, "day_ago", 0) == 100);
        assert_true(json_object_is_type(json_object_object_get(k, "week_ago"), json_type_null));
        /* Tripled since yesterday: +200 %, significant. */
        assert_true(json_get_double(json_object_object_get(k, "day"), "change", 0) == 2);
        assert_true(json_object_get_boolean(
                json_object_object_get(json_object_object_get(k, "day"), "significant")));
        assert_true(json_object_is_type(json_object_object_get(k, "week"), json_type_null));
        /* By code, sorted: 500 only a day ago (now 0: -100 %), 503 only now (new). */
        json_object *errors = json_object_object_get(b, "ufs_errors");
        assert_int_equal(json_object_array_length(errors), 2);
        k = json_object_array_get_idx(errors, 0);
        assert_string_equal(json_get_string(k, "key", ""), "500");
        assert_true(json_get_double(k, "now", -1) == 0);
        assert_true(json_get_double(k, "hour", -1) == 0);
        assert_true(json_get_double(json_object_object_get(k, "day"), "change", 0) == -1);
        assert_true(json_object_get_boolean(
                json_object_object_get(json_object_object_get(k, "day"), "significant")));
        k = json_object_array_get_idx(errors, 1);
        assert_string_equal(json_get_string(k, "key", ""), "503");
        assert_true(json_get_double(k, "now", 0) == 3);
        assert_true(json_get_double(k, "hour", 0) == 3);
        assert_true(json_object_is_type(
                json_object_object_get(json_object_object_get(k, "day"), "change"), json_type_null));
        assert_true(json_object_get_boolean(
                json_object_object_get(json_object_object_get(k, "day"), "significant")));
        json_object_put(o);

        assert_int_equal(api_metrics(f->cluster, f->store, h, "node-b", T0_MS + 60000, T0_MONO, &o), 0);
        o = reparse(o);
        assert_string_equal(json_get_string(o, "name", ""), "node-b");
        assert_true(json_get_double(json_object_object_get(o, "current"), "hit_rate", 0) == 0.25);
        json_object_put(o);
        o = NULL;
        assert_int_equal(api_metrics(f->cluster, f->store, h, "node-x", T0_MS, T0_MONO, &o), -ENOENT);
        assert_null(o);
}

static void test_exposition_is_the_contract(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *text = NULL;
        NodeRef *refs = NULL;
        size_t n = 0, size = 0;
        EtcdSummary etcd = {
                .checked = true,
                .ready = 2,
                .expected = 3,
                .quorum = true,
                .checks = {[VIGIL_OK] = 2, [VIGIL_WARN] = 1},
                .outage_since_ms = T0_MS - 90500,
        };

        two_nodes_with_metrics(f, 0);
        /* A node name that needs escaping, a stale node, and a node without metrics. */
        apply(f, "we\"ird\\node\n\xff", 1, 0, 1, (const char *const[]){"csi.probe=WARN"});
        apply(f, "node-z", 1, -10, 1, (const char *const[]){"fuse.mount=OK"});
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO, T0_MS), 1);
        ClusterSummary s = summarize(f, &refs, &n);
        assert_int_equal(exposition_render(refs, n, &s, &etcd, T0_MS, &text, &size), 0);
        assert_int_equal(size, strlen(text));
        assert_string_equal(text,
                "# HELP vigil_collector_info The collector's version; always 1.\n"
                "# TYPE vigil_collector_info gauge\n"
                "vigil_collector_info{version=\"" VIGIL_VERSION "\"} 1\n"
                "# HELP vigil_nodes Nodes per status; a stale node is CRIT.\n"
                "# TYPE vigil_nodes gauge\n"
                "vigil_nodes{status=\"ok\"} 2\n"
                "vigil_nodes{status=\"warn\"} 1\n"
                "vigil_nodes{status=\"crit\"} 1\n"
                "vigil_nodes{status=\"unknown\"} 0\n"
                "# HELP vigil_node_status A node's status: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN; a stale node is "
                "CRIT.\n"
                "# TYPE vigil_node_status gauge\n"
                "vigil_node_status{node=\"node-a\"} 0\n"
                "vigil_node_status{node=\"node-b\"} 0\n"
                "vigil_node_status{node=\"node-z\"} 2\n"
                "vigil_node_status{node=\"we\\\"ird\\\\node\\n\xef\xbf\xbd\"} 1\n"
                "# HELP vigil_agents_ready Agents whose last report is within the stale window.\n"
                "# TYPE vigil_agents_ready gauge\n"
                "vigil_agents_ready 3\n"
                "# HELP vigil_agents_expected Agents the collector knows (every node that ever reported).\n"
                "# TYPE vigil_agents_expected gauge\n"
                "vigil_agents_expected 4\n"
                "# HELP vigil_checks Checks per family and status: the fresh nodes' checks, the collector's "
                "etcd "
                "checks, and per node one agent check, CRIT when the node is stale.\n"
                "# TYPE vigil_checks gauge\n"
                "vigil_checks{family=\"agent\",status=\"ok\"} 3\n"
                "vigil_checks{family=\"agent\",status=\"warn\"} 0\n"
                "vigil_checks{family=\"agent\",status=\"crit\"} 1\n"
                "vigil_checks{family=\"agent\",status=\"unknown\"} 0\n"
                "vigil_checks{family=\"csi\",status=\"ok\"} 0\n"
                "vigil_checks{family=\"csi\",status=\"warn\"} 1\n"
                "vigil_checks{family=\"csi\",status=\"crit\"} 0\n"
                "vigil_checks{family=\"csi\",status=\"unknown\"} 0\n"
                "vigil_checks{family=\"etcd\",status=\"ok\"} 2\n"
                "vigil_checks{family=\"etcd\",status=\"warn\"} 1\n"
                "vigil_checks{family=\"etcd\",status=\"crit\"} 0\n"
                "vigil_checks{family=\"etcd\",status=\"unknown\"} 0\n"
                "vigil_checks{family=\"fuse\",status=\"ok\"} 2\n"
                "vigil_checks{family=\"fuse\",status=\"warn\"} 0\n"
                "vigil_checks{family=\"fuse\",status=\"crit\"} 0\n"
                "vigil_checks{family=\"fuse\",status=\"unknown\"} 0\n"
                "vigil_checks{family=\"metrics\",status=\"ok\"} 3\n"
                "vigil_checks{family=\"metrics\",status=\"warn\"} 0\n"
                "vigil_checks{family=\"metrics\",status=\"crit\"} 0\n"
                "vigil_checks{family=\"metrics\",status=\"unknown\"} 0\n"
                "# HELP vigil_etcd_members_ready etcd members that answer.\n"
                "# TYPE vigil_etcd_members_ready gauge\n"
                "vigil_etcd_members_ready 2\n"
                "# HELP vigil_etcd_members_expected etcd members configured or listed.\n"
                "# TYPE vigil_etcd_members_expected gauge\n"
                "vigil_etcd_members_expected 3\n"
                "# HELP vigil_etcd_quorum 1 when a quorum of etcd members answers, else 0.\n"
                "# TYPE vigil_etcd_quorum gauge\n"
                "vigil_etcd_quorum 1\n"
                "# HELP vigil_etcd_outage_seconds How long etcd has been unavailable (0 when it is "
                "available).\n"
                "# TYPE vigil_etcd_outage_seconds gauge\n"
                "vigil_etcd_outage_seconds 90.5\n"
                "# HELP vigil_log_errors_last_hour Log errors of the last hour, summed over the fresh "
                "nodes' log "
                "sources.\n"
                "# TYPE vigil_log_errors_last_hour gauge\n"
                "vigil_log_errors_last_hour 0\n"
                "# HELP vigil_log_warnings_last_hour Log warnings of the last hour, summed over the fresh "
                "nodes' "
                "log sources.\n"
                "# TYPE vigil_log_warnings_last_hour gauge\n"
                "vigil_log_warnings_last_hour 0\n"
                "# HELP vigil_cluster_hit_ratio Sum of cached read rates / (sum of cached + sum of UFS read "
                "rates) over the fresh nodes; absent when nothing was read.\n"
                "# TYPE vigil_cluster_hit_ratio gauge\n"
                "vigil_cluster_hit_ratio 0.6666666666666666\n"
                "# HELP vigil_node_hit_ratio Cached read rate / (cached + UFS read rate) of a fresh node; "
                "absent "
                "when it read nothing.\n"
                "# TYPE vigil_node_hit_ratio gauge\n"
                "vigil_node_hit_ratio{node=\"node-a\"} 0.875\n"
                "vigil_node_hit_ratio{node=\"node-b\"} 0.25\n"
                "# HELP vigil_cluster_requests_per_second Workers' request rate summed over the fresh "
                "nodes; "
                "absent when no node sends metrics.\n"
                "# TYPE vigil_cluster_requests_per_second gauge\n"
                "vigil_cluster_requests_per_second 1250\n"
                "# HELP vigil_cluster_ufs_read_bytes_per_second Bytes read from the UFS per second, summed "
                "over "
                "the fresh nodes.\n"
                "# TYPE vigil_cluster_ufs_read_bytes_per_second gauge\n"
                "vigil_cluster_ufs_read_bytes_per_second 400\n"
                "# HELP vigil_cluster_ufs_write_bytes_per_second Bytes written to the UFS per second, "
                "summed over "
                "the fresh nodes.\n"
                "# TYPE vigil_cluster_ufs_write_bytes_per_second gauge\n"
                "vigil_cluster_ufs_write_bytes_per_second 5\n"
                "# HELP vigil_cluster_ufs_errors_per_second UFS errors per second not marked expected, "
                "summed "
                "over the fresh nodes and their UFSes.\n"
                "# TYPE vigil_cluster_ufs_errors_per_second gauge\n"
                "vigil_cluster_ufs_errors_per_second{error_code=\"503\"} 3\n"
                "# HELP vigil_ufs_nodes Fresh nodes that look at the UFS root (check ufs.reachability).\n"
                "# TYPE vigil_ufs_nodes gauge\n"
                "# HELP vigil_ufs_failing_nodes Of those, the nodes that cannot reach it: all of them is a "
                "cluster problem, some a problem of those nodes.\n"
                "# TYPE vigil_ufs_failing_nodes gauge\n");
        cluster_summary_done(&s);
        node_refs_free(refs, n);
}

static void test_exposition_leaves_out_what_is_not_known(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;

        /* No metrics checks, no etcd: the families are there (HELP, TYPE) without samples. */
        apply(f, "node-a", 1, 0, 1, (const char *const[]){"fuse.mount=OK"});
        assert_int_equal(exposition_cluster(f->cluster, NULL, T0_MS, &text, &size), 0);
        assert_null(strstr(text, "vigil_etcd"));
        assert_non_null(strstr(text, "# TYPE vigil_cluster_hit_ratio gauge\n# HELP vigil_node_hit_ratio"));
        assert_non_null(strstr(text, "# TYPE vigil_cluster_requests_per_second gauge\n# HELP"));
        assert_true(size > 0 && text[size - 1] == '\n');
        assert_non_null(strstr(text, "# TYPE vigil_cluster_ufs_errors_per_second gauge\n"));
        assert_null(strstr(text, "vigil_cluster_ufs_errors_per_second{"));
}

/* ---- UFS reachability across nodes ---- */

/* Applies a report of node at t_s with one ufs.reachability check of uri. */
static void apply_ufs_check(Fixture *f, const char *node, uint64_t seq, int t_s, const char *uri,
        const char *status, const char *code, const char *message) {
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__CheckResult c = VIGIL__CHECK_RESULT__INIT, *p = &c;

        r.node = (char *)node;
        r.boot_id = (char *)"b1";
        r.seq = seq;
        r.interval_ms = 1000;
        c.name = (char *)"ufs.reachability";
        c.target = (char *)uri;
        c.status = vigil_status_to_proto(vigil_status_from_string(status));
        c.error_code = (char *)code;
        c.message = (char *)message;
        r.checks = &p;
        r.n_checks = 1;
        apply_packed(f, &r, t_s);
}

static json_object *ufs_root(json_object *cluster, const char *uri) {
        json_object *roots;
        assert_true(json_object_object_get_ex(cluster, "ufs", &roots));
        for (size_t i = 0; i < json_object_array_length(roots); i++) {
                json_object *u = json_object_array_get_idx(roots, i);
                if (streq(json_get_string(u, "target", ""), uri))
                        return u;
        }
        fail_msg("no ufs entry for %s", uri);
        return NULL;
}

static void test_ufs_failing_from_every_node_is_a_cluster_problem_from_some_a_node_problem(void **state) {
        Fixture *f = *state;
        json_object *o = NULL;
        const char *data = "s3://bucket/data", *logs = "s3://logs-bucket/x", *nfs = "file:///mnt/nfs";

        /* data: fails from node-b only; logs: from both; nfs: fine, one node slow */
        apply_ufs_check(f, "node-a", 1, 10, data, "OK", "", "s3://bucket/data reachable in 5 ms");
        apply_ufs_check(
                f, "node-b", 1, 10, data, "CRIT", "ECONNREFUSED", "s3://bucket/data: connection refused");
        apply_ufs_check(
                f, "node-a", 2, 10, logs, "CRIT", "NoSuchBucket", "s3://logs-bucket/x: NoSuchBucket: gone");
        apply_ufs_check(
                f, "node-b", 2, 10, logs, "CRIT", "NoSuchBucket", "s3://logs-bucket/x: NoSuchBucket: gone");
        apply_ufs_check(f, "node-c", 1, 10, nfs, "WARN", "SLOW", "slow");
        /* a stale node's failure is old news */
        apply_ufs_check(f, "node-d", 1, 0, nfs, "CRIT", "HUNG", "hung");
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 10 * USEC_PER_SEC, T0_MS + 10000), 1);

        assert_int_equal(
                api_cluster(f->cluster, NULL, NULL, false, T0_MONO + 10 * USEC_PER_SEC, T0_MS + 10000, &o),
                0);
        o = reparse(o);
        /* each node's report replaced the one before: node-a and node-b now look at logs only */
        json_object *u = ufs_root(o, logs);
        assert_int_equal(json_get_int(u, "nodes", -1), 2);
        assert_int_equal(json_get_int(u, "failing", -1), 2);
        assert_string_equal(json_get_string(u, "scope", ""), "cluster");
        assert_string_equal(json_get_string(u, "error_code", ""), "NoSuchBucket");
        u = ufs_root(o, nfs);
        assert_int_equal(json_get_int(u, "nodes", -1), 1);
        assert_int_equal(json_get_int(u, "slow", -1), 1);
        assert_string_equal(json_get_string(u, "scope", ""), "none");
        json_object_put(o);

        /* node-a sees data fine again, node-b does not: a problem of node-b */
        apply_ufs_check(f, "node-a", 3, 11, data, "OK", "", "ok");
        apply_ufs_check(
                f, "node-b", 3, 11, data, "CRIT", "ECONNREFUSED", "s3://bucket/data: connection refused");
        assert_int_equal(
                api_cluster(f->cluster, NULL, NULL, false, T0_MONO + 11 * USEC_PER_SEC, T0_MS + 11000, &o),
                0);
        o = reparse(o);
        u = ufs_root(o, data);
        assert_int_equal(json_get_int(u, "nodes", -1), 2);
        assert_int_equal(json_get_int(u, "failing", -1), 1);
        assert_string_equal(json_get_string(u, "scope", ""), "node");
        json_object *nodes = json_object_object_get(u, "failing_nodes");
        assert_int_equal(json_object_array_length(nodes), 1);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(nodes, 0)), "node-b");
        assert_string_equal(json_get_string(u, "message", ""), "s3://bucket/data: connection refused");
        json_object_put(o);
        assert_stream_matches_json(f, T0_MONO + 11 * USEC_PER_SEC, T0_MS + 11000);

        /* /metrics says the same per root, for alerts: failing == nodes is the cluster's problem */
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        assert_int_equal(exposition_cluster(f->cluster, NULL, T0_MS + 11000, &text, &size), 0);
        assert_non_null(strstr(text, "\nvigil_ufs_nodes{ufs=\"s3://bucket/data\"} 2\n"));
        assert_non_null(strstr(text, "\nvigil_ufs_failing_nodes{ufs=\"s3://bucket/data\"} 1\n"));
        /* slow is not failing; the stale node-d's HUNG is not counted */
        assert_non_null(strstr(text, "\nvigil_ufs_nodes{ufs=\"file:///mnt/nfs\"} 1\n"));
        assert_non_null(strstr(text, "\nvigil_ufs_failing_nodes{ufs=\"file:///mnt/nfs\"} 0\n"));
        /* no node looks at logs any more: no series */
        assert_null(strstr(text, "s3://logs-bucket/x"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_empty_cluster_is_unknown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_worst_status_and_families, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_node_counts_as_not_ready, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failing_filter_keeps_only_failures, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_cached_checks_render_like_check_result_to_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_streamed_cluster_is_the_same_text, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_report_decoded_into_an_arena_applies_and_replaces, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_logs_summary_counts_the_sources_of_fresh_nodes, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_logs_summary_lists_a_few_sources_crit_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_api_logs_groups_by_node_and_source, setup, teardown),
                cmocka_unit_test_setup_teardown(test_api_logs_filters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_api_logs_bad_parameters, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cluster_hit_rate_is_the_ratio_of_sums, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_metrics_breakdown_sums_endpoints_and_nodes, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_history_record_writes_fresh_nodes_and_the_cluster, setup, teardown),
                cmocka_unit_test_setup_teardown(test_api_metrics_of_cluster_and_node, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exposition_is_the_contract, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_ufs_failing_from_every_node_is_a_cluster_problem_from_some_a_node_problem,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_exposition_leaves_out_what_is_not_known, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
