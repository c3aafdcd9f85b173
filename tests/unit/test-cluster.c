/* SPDX-License-Identifier: MIT */
/* Cluster aggregation and its JSON answer: readiness, families, worst status, failing filter. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "collector-fixture.h"

#include <ftw.h>

#include "api.h"
#include "cluster.h"
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
        assert_int_equal(api_cluster(f->cluster, NULL, false, T0_MONO, T0_MS, &o), 0);
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
                api_cluster(f->cluster, NULL, false, T0_MONO + 12 * USEC_PER_SEC, T0_MS + 12000, &o), 0);
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

        assert_int_equal(api_cluster(f->cluster, NULL, true, T0_MONO, T0_MS, &o), 0);
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
        assert_int_equal(api_cluster(f->cluster, NULL, false, T0_MONO, T0_MS, &o), 0);
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

        assert_int_equal(api_cluster(f->cluster, NULL, false, now_mono, now_ms, &o), 0);
        assert_int_equal(api_cluster_stream(f->cluster, NULL, now_mono, now_ms, &st), 0);
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

/* Applies a report of node at t_s whose checks are one logs.errors check per source. */
static void apply_log_checks(
        Fixture *f, const char *node, uint64_t seq, int t_s, size_t n, const LogCheck *lc) {
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__CheckResult c[4], *p[4];
        Vigil__Detail d[4][2], *dp[4][2];
        uint8_t buf[2048];

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
        size_t size = vigil__node_report__pack(&r, buf);
        ClusterReport item = {
                .report = vigil__node_report__unpack(NULL, size, buf), .raw = buf, .raw_size = size};
        assert_int_equal(
                cluster_apply(f->cluster, &item, 1, T0_MONO + t_s * USEC_PER_SEC, T0_MS + t_s * 1000LL), 0);
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
                api_cluster(f->cluster, NULL, false, T0_MONO + 10 * USEC_PER_SEC, T0_MS + 10000, &o), 0);
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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
