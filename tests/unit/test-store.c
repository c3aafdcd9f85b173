/* SPDX-License-Identifier: MIT */
/* The collector's store and its in-memory state: schema, dedup, events, reload, staleness. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "collector-fixture.h"

#include <ftw.h>
#include <sqlite3.h>

#include "cluster.h"
#include "store.h"

static void reopen(Fixture *f) {
        f->cluster = cluster_free(f->cluster);
        f->store = store_free(f->store);
        assert_int_equal(store_open(f->path, &f->store), 0);
        assert_int_equal(cluster_new(f->store, 0, &f->cluster), 0);
}

/* Packs a report of node with one fuse.mount check of the given status. */
static size_t make_report(uint8_t *buf, size_t size, const char *node, const char *boot_id, uint64_t seq,
        int status, const char *message) {
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__CheckResult c = VIGIL__CHECK_RESULT__INIT, c2 = VIGIL__CHECK_RESULT__INIT,
                           *checks[] = {&c, &c2};
        r.node = (char *)node;
        r.cluster = (char *)"demo";
        r.boot_id = (char *)boot_id;
        r.seq = seq;
        r.interval_ms = 1000;
        c.name = (char *)"fuse.mount";
        c.target = (char *)"/mnt/a";
        c.status = status;
        c.message = (char *)message;
        c2.name = (char *)"csi.probe";
        c2.target = (char *)"/csi.sock";
        c2.status = VIGIL__STATUS__STATUS_OK;
        c2.message = (char *)"ready";
        r.checks = checks;
        r.n_checks = 2;
        size_t n = vigil__node_report__get_packed_size(&r);
        assert_true(n <= size);
        vigil__node_report__pack(&r, buf);
        return n;
}

/* Applies one report at time t_s seconds after T0; returns its result. */
static ClusterResult apply(Fixture *f, const char *node, const char *boot_id, uint64_t seq, int status,
        const char *message, int t_s) {
        uint8_t buf[1024];
        size_t n = make_report(buf, sizeof(buf), node, boot_id, seq, status, message);
        ClusterReport item = {.report = vigil__node_report__unpack(NULL, n, buf), .raw = buf, .raw_size = n};
        assert_non_null(item.report);
        assert_int_equal(
                cluster_apply(f->cluster, &item, 1, T0_MONO + t_s * USEC_PER_SEC, T0_MS + t_s * 1000LL), 0);
        assert_null(item.report);
        return item.result;
}

typedef struct EventList {
        size_t n;
        char check[8][32], from[8][16], to[8][16], message[8][64];
} EventList;

static int collect_event(const StoreEvent *e, void *userdata) {
        EventList *l = userdata;
        if (l->n < 8) {
                snprintf(l->check[l->n], 32, "%s", e->check_name);
                snprintf(l->from[l->n], 16, "%s", e->from_status);
                snprintf(l->to[l->n], 16, "%s", e->to_status);
                snprintf(l->message[l->n], 64, "%s", e->message);
        }
        l->n++;
        return 0;
}

static EventList events(Fixture *f, int64_t since_ms, const char *node) {
        EventList l = {};
        assert_int_equal(store_query_events(f->store, since_ms, node, 1000, collect_event, &l), 0);
        return l;
}

static NodeRef get(Fixture *f, const char *name) {
        NodeRef ref;
        assert_int_equal(cluster_get(f->cluster, name, &ref), 0);
        return ref;
}

static void test_open_creates_schema(void **state) {
        Fixture *f = *state;
        Store *again = NULL;
        /* A second open of the same file finds the schema at its version and changes nothing. */
        assert_int_equal(store_open(f->path, &again), 0);
        store_free(again);
        assert_int_equal(cluster_size(f->cluster), 0);
        assert_int_equal(events(f, -1, NULL).n, 0);
}

static void test_open_refuses_missing_directory(void **state) {
        Store *s = NULL;
        assert_true(store_open("/nonexistent-dir-for-vigil/collector.db", &s) < 0);
        assert_null(s);
}

static void test_applied_report_is_stored(void **state) {
        Fixture *f = *state;
        assert_int_equal(
                apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_OK, "mounted", 0), CLUSTER_APPLIED);
        NodeRef ref = get(f, "node-a");
        assert_int_equal(ref.view->report->seq, 1);
        assert_string_equal(ref.view->report->cluster, "demo");
        assert_int_equal(ref.view->status, VIGIL_OK);
        assert_false(ref.stale);
        node_view_unref(ref.view);
        assert_int_equal(cluster_size(f->cluster), 1);
}

static void test_same_boot_and_seq_is_duplicate(void **state) {
        Fixture *f = *state;
        assert_int_equal(
                apply(f, "node-a", "b1", 5, VIGIL__STATUS__STATUS_OK, "mounted", 0), CLUSTER_APPLIED);
        /* Same seq, and an older one, with a status change that must not be applied. */
        assert_int_equal(
                apply(f, "node-a", "b1", 5, VIGIL__STATUS__STATUS_CRIT, "gone", 1), CLUSTER_DUPLICATE);
        assert_int_equal(
                apply(f, "node-a", "b1", 4, VIGIL__STATUS__STATUS_CRIT, "gone", 1), CLUSTER_DUPLICATE);
        NodeRef ref = get(f, "node-a");
        assert_int_equal(ref.view->status, VIGIL_OK);
        assert_int_equal(ref.view->report->seq, 5);
        node_view_unref(ref.view);
        assert_int_equal(events(f, -1, NULL).n, 0);
}

static void test_newer_seq_and_new_boot_are_applied(void **state) {
        Fixture *f = *state;
        assert_int_equal(
                apply(f, "node-a", "b1", 5, VIGIL__STATUS__STATUS_OK, "mounted", 0), CLUSTER_APPLIED);
        assert_int_equal(
                apply(f, "node-a", "b1", 6, VIGIL__STATUS__STATUS_OK, "mounted", 1), CLUSTER_APPLIED);
        /* An agent restart starts again at seq 1 with a new boot id. */
        assert_int_equal(
                apply(f, "node-a", "b2", 1, VIGIL__STATUS__STATUS_OK, "mounted", 2), CLUSTER_APPLIED);
        NodeRef ref = get(f, "node-a");
        assert_string_equal(ref.view->report->boot_id, "b2");
        assert_int_equal(ref.view->report->seq, 1);
        node_view_unref(ref.view);
}

static void test_duplicates_within_one_batch(void **state) {
        Fixture *f = *state;
        uint8_t b1[512], b2[512], b3[512];
        size_t n1 = make_report(b1, sizeof(b1), "node-a", "b1", 1, VIGIL__STATUS__STATUS_OK, "ok");
        size_t n2 = make_report(b2, sizeof(b2), "node-a", "b1", 1, VIGIL__STATUS__STATUS_OK, "ok");
        size_t n3 = make_report(b3, sizeof(b3), "node-a", "b1", 2, VIGIL__STATUS__STATUS_WARN, "slow");
        ClusterReport items[] = {
                {.report = vigil__node_report__unpack(NULL, n1, b1), .raw = b1, .raw_size = n1},
                {.report = vigil__node_report__unpack(NULL, n2, b2), .raw = b2, .raw_size = n2},
                {.report = vigil__node_report__unpack(NULL, n3, b3), .raw = b3, .raw_size = n3},
        };
        assert_int_equal(cluster_apply(f->cluster, items, 3, T0_MONO, T0_MS), 0);
        assert_int_equal(items[0].result, CLUSTER_APPLIED);
        assert_int_equal(items[1].result, CLUSTER_DUPLICATE);
        assert_int_equal(items[2].result, CLUSTER_APPLIED);
        NodeRef ref = get(f, "node-a");
        assert_int_equal(ref.view->report->seq, 2);
        node_view_unref(ref.view);
        EventList l = events(f, -1, NULL);
        /* The third report is compared with the first, staged in the same batch. */
        assert_int_equal(l.n, 1);
        assert_string_equal(l.from[0], "OK");
        assert_string_equal(l.to[0], "WARN");
}

static void test_status_change_writes_event(void **state) {
        Fixture *f = *state;
        apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_OK, "mounted", 0);
        assert_int_equal(events(f, -1, NULL).n, 0); /* first appearance OK: no event */
        apply(f, "node-a", "b1", 2, VIGIL__STATUS__STATUS_CRIT, "FUSE daemon gone", 1);
        EventList l = events(f, -1, NULL);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.check[0], "fuse.mount");
        assert_string_equal(l.from[0], "OK");
        assert_string_equal(l.to[0], "CRIT");
        assert_string_equal(l.message[0], "FUSE daemon gone");
}

static void test_no_change_writes_no_event(void **state) {
        Fixture *f = *state;
        apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_CRIT, "gone", 0);
        assert_int_equal(events(f, -1, NULL).n, 1); /* first appearance not OK: NONE -> CRIT */
        apply(f, "node-a", "b1", 2, VIGIL__STATUS__STATUS_CRIT, "still gone", 1);
        apply(f, "node-a", "b1", 3, VIGIL__STATUS__STATUS_CRIT, "still gone", 2);
        assert_int_equal(events(f, -1, NULL).n, 1);
}

static void test_events_since_time_and_node(void **state) {
        Fixture *f = *state;
        apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_CRIT, "gone", 0);
        apply(f, "node-b", "b1", 1, VIGIL__STATUS__STATUS_WARN, "slow", 10);
        apply(f, "node-a", "b1", 2, VIGIL__STATUS__STATUS_OK, "back", 20);
        assert_int_equal(events(f, 0, NULL).n, 3);
        assert_int_equal(events(f, T0_MS + 10 * 1000, NULL).n, 2);
        assert_int_equal(events(f, T0_MS + 11 * 1000, NULL).n, 1);
        assert_int_equal(events(f, 0, "node-a").n, 2);
        assert_int_equal(events(f, T0_MS + 1, "node-a").n, 1);
        assert_int_equal(events(f, -1, "node-b").n, 1);

        /* Without since: the latest `limit`, still oldest first. */
        EventList l = {};
        assert_int_equal(store_query_events(f->store, -1, NULL, 2, collect_event, &l), 0);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.to[0], "WARN");
        assert_string_equal(l.to[1], "OK");
}

static void test_state_reloads_after_reopen(void **state) {
        Fixture *f = *state;
        apply(f, "node-b", "b1", 7, VIGIL__STATUS__STATUS_CRIT, "gone", 0);
        apply(f, "node-a", "b1", 3, VIGIL__STATUS__STATUS_OK, "mounted", 0);
        reopen(f);
        assert_int_equal(cluster_size(f->cluster), 2);
        NodeRef ref = get(f, "node-b");
        assert_int_equal(ref.view->report->seq, 7);
        assert_int_equal(ref.view->status, VIGIL_CRIT);
        node_view_unref(ref.view);
        /* Dedup state survives too. */
        assert_int_equal(apply(f, "node-b", "b1", 7, VIGIL__STATUS__STATUS_OK, "ok", 1), CLUSTER_DUPLICATE);
        /* And so do the previous statuses: the same status again is no new event. */
        apply(f, "node-b", "b1", 8, VIGIL__STATUS__STATUS_CRIT, "gone", 1);
        assert_int_equal(events(f, -1, NULL).n, 1);

        NodeRef *refs;
        size_t n;
        assert_int_equal(cluster_snapshot(f->cluster, &refs, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(refs[0].view->report->node, "node-a"); /* sorted by name */
        node_refs_free(refs, n);
}

static void test_stale_sweep_writes_event(void **state) {
        Fixture *f = *state;
        apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_OK, "mounted", 0);
        /* interval 1 s: stale after 3 s without a report. */
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 3 * USEC_PER_SEC, T0_MS + 3000), 0);
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 4 * USEC_PER_SEC, T0_MS + 4000), 1);
        NodeRef ref = get(f, "node-a");
        assert_true(ref.stale);
        assert_int_equal(node_ref_status(&ref), VIGIL_CRIT);
        node_view_unref(ref.view);
        EventList l = events(f, -1, NULL);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.check[0], "agent.report");
        assert_string_equal(l.to[0], "CRIT");
        assert_string_equal(l.message[0], "no report for 4 s");
        /* Once stale, no second event; the flag survives a restart. */
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 9 * USEC_PER_SEC, T0_MS + 9000), 0);
        reopen(f);
        ref = get(f, "node-a");
        assert_true(ref.stale);
        node_view_unref(ref.view);
        /* The next report brings it back, with an event. */
        apply(f, "node-a", "b1", 2, VIGIL__STATUS__STATUS_OK, "mounted", 10);
        ref = get(f, "node-a");
        assert_false(ref.stale);
        node_view_unref(ref.view);
        l = events(f, -1, NULL);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.check[1], "agent.report");
        assert_string_equal(l.from[1], "CRIT");
        assert_string_equal(l.to[1], "OK");
}

static void test_fixed_stale_window_overrides_interval(void **state) {
        Fixture *f = *state;
        f->cluster = cluster_free(f->cluster);
        assert_int_equal(cluster_new(f->store, 60 * USEC_PER_SEC, &f->cluster), 0);
        apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_OK, "mounted", 0);
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 59 * USEC_PER_SEC, T0_MS + 59000), 0);
        assert_int_equal(cluster_sweep(f->cluster, T0_MONO + 61 * USEC_PER_SEC, T0_MS + 61000), 1);
}

static void test_prune_events(void **state) {
        Fixture *f = *state;
        apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_CRIT, "gone", 0);
        apply(f, "node-a", "b1", 2, VIGIL__STATUS__STATUS_OK, "back", 100);
        apply(f, "node-a", "b1", 3, VIGIL__STATUS__STATUS_CRIT, "gone", 200);
        assert_int_equal(store_begin(f->store), 0);
        assert_int_equal(store_prune_events(f->store, T0_MS + 50 * 1000, 0, 1000), 1);
        assert_int_equal(store_commit(f->store), 0);
        assert_int_equal(events(f, -1, NULL).n, 2);
        assert_int_equal(store_begin(f->store), 0);
        assert_int_equal(store_prune_events(f->store, 0, 1, 1000), 1);
        assert_int_equal(store_commit(f->store), 0);
        EventList l = events(f, -1, NULL);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.message[0], "gone");
}

static void test_newer_schema_is_refused(void **state) {
        Fixture *f = *state;
        f->cluster = cluster_free(f->cluster);
        f->store = store_free(f->store);
        /* A database from a future collector: refuse rather than corrupt it. */
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(store_open(f->path, &f->store), -EPROTONOSUPPORT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
                cmocka_unit_test(test_open_refuses_missing_directory),
                cmocka_unit_test_setup_teardown(test_applied_report_is_stored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_same_boot_and_seq_is_duplicate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_newer_seq_and_new_boot_are_applied, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicates_within_one_batch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_status_change_writes_event, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_change_writes_no_event, setup, teardown),
                cmocka_unit_test_setup_teardown(test_events_since_time_and_node, setup, teardown),
                cmocka_unit_test_setup_teardown(test_state_reloads_after_reopen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_sweep_writes_event, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fixed_stale_window_overrides_interval, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prune_events, setup, teardown),
                cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
