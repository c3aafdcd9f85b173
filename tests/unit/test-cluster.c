/* SPDX-License-Identifier: MIT */
/* Cluster aggregation and its JSON answer: readiness, families, worst status, failing filter. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <ftw.h>

#include "api.h"
#include "cluster.h"
#include "json-util.h"

#define T0_MS 1700000000000LL
#define T0_MONO (1000 * USEC_PER_SEC)

typedef struct Fixture {
        char dir[64];
        Store *store;
        Cluster *cluster;
} Fixture;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        char path[128];
        assert_non_null(f);
        strcpy(f->dir, "/tmp/test-cluster-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(path, sizeof(path), "%s/collector.db", f->dir);
        assert_int_equal(store_open(path, &f->store), 0);
        assert_int_equal(cluster_new(f->store, 0, &f->cluster), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        cluster_free(f->cluster);
        store_free(f->store);
        nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

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
        assert_int_equal(api_cluster(f->cluster, false, T0_MONO, T0_MS, &o), 0);
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

        assert_int_equal(api_cluster(f->cluster, false, T0_MONO + 12 * USEC_PER_SEC, T0_MS + 12000, &o), 0);
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

        assert_int_equal(api_cluster(f->cluster, true, T0_MONO, T0_MS, &o), 0);
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
        assert_int_equal(api_cluster(f->cluster, false, T0_MONO, T0_MS, &o), 0);
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_empty_cluster_is_unknown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_worst_status_and_families, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_node_counts_as_not_ready, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failing_filter_keeps_only_failures, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_cached_checks_render_like_check_result_to_json, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
