/* SPDX-License-Identifier: MIT */
/* The collector's store and its in-memory state: schema, dedup, events, reload, staleness. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "collector-fixture.h"

#include <ftw.h>
#include <math.h>
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

/* ---- log findings ---- */

#define MINUTE_MS 60000LL

/* One batch of a report: one source with one signature (and its minute), and maybe evidence of a
 * previous container. */
typedef struct LogSpec {
        uint64_t id;
        const char *source;
        Vigil__LogLevel level;
        const char *pattern; /* also makes the signature's hash */
        uint64_t count;
        int64_t first_ms, last_ms;
        const char *sample;
        uint64_t lines;
        uint32_t restart_count;
        uint32_t previous_restart; /* 0: no previous-container evidence */
} LogSpec;

static uint64_t fnv1a(const char *s) {
        uint64_t h = 14695981039346656037ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* Packs a report of node at seq (boot b1) carrying, for log state `state`, one batch per spec. */
static size_t make_logs_report(uint8_t *buf, size_t buf_size, const char *node, uint64_t seq,
        const char *state, const LogSpec *specs, size_t n) {
        Vigil__NodeReport r = VIGIL__NODE_REPORT__INIT;
        Vigil__LogBatch b[4], *bp[4];
        Vigil__LogSourceBatch src[4], *srcp[4];
        Vigil__LogSignature sig[4], *sigp[4], prev[4], *prevp[4];
        Vigil__LogMinute min[4], *minp[4];
        static char *context[] = {(char *)"    at Frame.one", (char *)"    at Frame.two"};

        assert_true(n <= 4);
        r.node = (char *)node;
        r.boot_id = (char *)"b1";
        r.seq = seq;
        r.interval_ms = 1000;
        r.log_state_id = (char *)state;
        for (size_t i = 0; i < n; i++) {
                const LogSpec *sp = &specs[i];
                vigil__log_batch__init(&b[i]);
                vigil__log_source_batch__init(&src[i]);
                vigil__log_signature__init(&sig[i]);
                vigil__log_minute__init(&min[i]);
                sig[i].hash = fnv1a(sp->pattern);
                sig[i].level = sp->level;
                sig[i].pattern = (char *)sp->pattern;
                sig[i].count = sp->count;
                sig[i].first_ms = sp->first_ms;
                sig[i].last_ms = sp->last_ms;
                sig[i].sample = (char *)sp->sample;
                sig[i].context = context;
                sig[i].n_context = ELEMENTSOF(context);
                sigp[i] = &sig[i];
                min[i].minute_ms = sp->last_ms / MINUTE_MS * MINUTE_MS;
                min[i].warn = sp->level == VIGIL__LOG_LEVEL__LOG_LEVEL_WARN ? sp->count : 0;
                min[i].error = sp->level == VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR ? sp->count : 0;
                min[i].fatal = sp->level == VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL ? sp->count : 0;
                minp[i] = &min[i];
                src[i].source = (char *)sp->source;
                src[i].lines = sp->lines;
                src[i].bytes = sp->lines * 100;
                src[i].restart_count = sp->restart_count;
                src[i].minutes = &minp[i];
                src[i].n_minutes = 1;
                src[i].signatures = &sigp[i];
                src[i].n_signatures = 1;
                if (sp->previous_restart > 0) {
                        vigil__log_signature__init(&prev[i]);
                        prev[i].hash = 1;
                        prev[i].level = VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL;
                        prev[i].pattern = (char *)"OutOfMemoryError: Java heap space";
                        prev[i].count = 1;
                        prev[i].first_ms = prev[i].last_ms = sp->last_ms - 1000;
                        prev[i].sample = (char *)"FATAL OutOfMemoryError: Java heap space";
                        prevp[i] = &prev[i];
                        src[i].previous = &prevp[i];
                        src[i].n_previous = 1;
                        src[i].previous_restart_count = sp->previous_restart;
                }
                srcp[i] = &src[i];
                b[i].id = sp->id;
                b[i].sealed_ms = sp->last_ms;
                b[i].sources = &srcp[i];
                b[i].n_sources = 1;
                bp[i] = &b[i];
        }
        r.log_batches = bp;
        r.n_log_batches = n;
        size_t size = vigil__node_report__get_packed_size(&r);
        assert_true(size <= buf_size);
        return vigil__node_report__pack(&r, buf);
}

static ClusterResult apply_logs(
        Fixture *f, const char *node, uint64_t seq, const char *state, const LogSpec *specs, size_t n) {
        uint8_t buf[4096];
        size_t size = make_logs_report(buf, sizeof(buf), node, seq, state, specs, n);
        ClusterReport item = {
                .report = vigil__node_report__unpack(NULL, size, buf), .raw = buf, .raw_size = size};
        assert_non_null(item.report);
        assert_int_equal(cluster_apply(f->cluster, &item, 1, T0_MONO, T0_MS), 0);
        return item.result;
}

typedef struct LogRow {
        char node[16], source[64];
        uint64_t lines, warn, error, fatal;
        uint32_t restart_count, previous_restart_count;
        size_t n_previous;
        char previous_pattern[64];
} LogRow;

typedef struct SigRow {
        char node[16], source[64], pattern[64], sample[64], context0[64];
        int level;
        uint64_t count;
        int64_t first_ms, last_ms;
        size_t n_context;
} SigRow;

typedef struct LogResult {
        size_t n_sources, n_sigs;
        LogRow src[8];
        SigRow sig[8];
} LogResult;

static int collect_log_source(const StoreLogSource *s, void *userdata) {
        LogResult *l = userdata;
        assert_true(l->n_sources < ELEMENTSOF(l->src));
        LogRow *row = &l->src[l->n_sources++];
        snprintf(row->node, sizeof(row->node), "%s", s->node);
        snprintf(row->source, sizeof(row->source), "%s", s->source);
        row->lines = s->lines;
        row->warn = s->warn;
        row->error = s->error;
        row->fatal = s->fatal;
        row->restart_count = s->restart_count;
        row->previous_restart_count = s->previous_restart_count;
        row->n_previous = s->n_previous;
        if (s->n_previous > 0)
                snprintf(
                        row->previous_pattern, sizeof(row->previous_pattern), "%s", s->previous[0]->pattern);
        return 0;
}

static int collect_log_signature(
        const char *node, const char *source, const Vigil__LogSignature *sig, void *userdata) {
        LogResult *l = userdata;
        assert_true(l->n_sigs < ELEMENTSOF(l->sig));
        SigRow *row = &l->sig[l->n_sigs++];
        snprintf(row->node, sizeof(row->node), "%s", node);
        snprintf(row->source, sizeof(row->source), "%s", source);
        snprintf(row->pattern, sizeof(row->pattern), "%s", sig->pattern);
        snprintf(row->sample, sizeof(row->sample), "%s", sig->sample);
        row->level = sig->level;
        row->count = sig->count;
        row->first_ms = sig->first_ms;
        row->last_ms = sig->last_ms;
        row->n_context = sig->n_context;
        if (sig->n_context > 0)
                snprintf(row->context0, sizeof(row->context0), "%s", sig->context[0]);
        return 0;
}

static LogResult query_logs(Fixture *f, StoreLogQuery q) {
        LogResult l = {};
        assert_int_equal(store_query_logs(f->store, &q, collect_log_source, collect_log_signature, &l), 0);
        return l;
}

#define SRC "pod:alluxio/alluxio-worker-0/worker"
#define ERROR_SPEC(batch_id, n, t_ms)                                                                       \
        ((LogSpec){.id = (batch_id),                                                                        \
                .source = SRC,                                                                              \
                .level = VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR,                                                 \
                .pattern = "Failed to list the path hdfs://#/#",                                            \
                .count = (n),                                                                               \
                .first_ms = (t_ms),                                                                         \
                .last_ms = (t_ms),                                                                          \
                .sample = "ERROR Failed to list the path hdfs://ns/" #batch_id,                             \
                .lines = 10})

/* The one signature of node-a's source SRC (asserted to be the only one). */
static SigRow the_signature(Fixture *f) {
        LogResult l = query_logs(f, (StoreLogQuery){});
        assert_int_equal(l.n_sigs, 1);
        return l.sig[0];
}

static void test_version_2_database_gains_the_log_tables(void **state) {
        Fixture *f = *state;
        LogSpec b1 = ERROR_SPEC(1, 3, T0_MS);
        sqlite3 *db = NULL;

        apply(f, "node-a", "b1", 1, VIGIL__STATUS__STATUS_OK, "mounted", 0);
        f->cluster = cluster_free(f->cluster);
        f->store = store_free(f->store);
        /* What a collector of schema version 2 left behind. */
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                 "DROP TABLE log_states; DROP TABLE log_sources; DROP TABLE log_minutes; "
                                 "DROP TABLE log_signatures; DROP TABLE metric_points; "
                                 "DROP TABLE metric_label_points; PRAGMA user_version = 2",
                                 NULL, NULL, NULL),
                SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(store_open(f->path, &f->store), 0);
        assert_int_equal(cluster_new(f->store, 0, &f->cluster), 0);
        assert_int_equal(cluster_size(f->cluster), 1);
        assert_int_equal(apply_logs(f, "node-a", 2, "st1", &b1, 1), CLUSTER_APPLIED);
        assert_int_equal(the_signature(f).count, 3);
}

static void test_log_batch_applied_once(void **state) {
        Fixture *f = *state;
        LogSpec b1 = ERROR_SPEC(1, 3, T0_MS);

        assert_int_equal(apply_logs(f, "node-a", 1, "st1", &b1, 1), CLUSTER_APPLIED);
        SigRow sig = the_signature(f);
        assert_int_equal(sig.count, 3);
        assert_string_equal(sig.source, SRC);
        assert_int_equal(sig.level, VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR);
        assert_int_equal(sig.n_context, 2);
        assert_string_equal(sig.context0, "    at Frame.one");
        LogResult l = query_logs(f, (StoreLogQuery){});
        assert_int_equal(l.n_sources, 1);
        assert_int_equal(l.src[0].lines, 10);
        assert_int_equal(l.src[0].error, 3);
        assert_int_equal(l.src[0].n_previous, 0);
}

static void test_resent_batch_is_not_counted_twice(void **state) {
        Fixture *f = *state;
        LogSpec b1 = ERROR_SPEC(1, 3, T0_MS);

        apply_logs(f, "node-a", 1, "st1", &b1, 1);
        /* The answer was lost: the agent's next report carries batch 1 again. */
        assert_int_equal(apply_logs(f, "node-a", 2, "st1", &b1, 1), CLUSTER_APPLIED);
        assert_int_equal(the_signature(f).count, 3);
        LogResult l = query_logs(f, (StoreLogQuery){});
        assert_int_equal(l.src[0].lines, 10);
        assert_int_equal(l.src[0].error, 3);
}

static void test_lower_batch_id_is_ignored(void **state) {
        Fixture *f = *state;
        LogSpec b5 = ERROR_SPEC(5, 2, T0_MS), b3 = ERROR_SPEC(3, 7, T0_MS);

        apply_logs(f, "node-a", 1, "st1", &b5, 1);
        apply_logs(f, "node-a", 2, "st1", &b3, 1);
        assert_int_equal(the_signature(f).count, 2);
}

static void test_new_state_id_starts_from_scratch(void **state) {
        Fixture *f = *state;
        LogSpec b5 = ERROR_SPEC(5, 2, T0_MS), b1 = ERROR_SPEC(1, 4, T0_MS + 1000);

        apply_logs(f, "node-a", 1, "st1", &b5, 1);
        /* The agent's state database was replaced: its batch ids start again at 1. */
        apply_logs(f, "node-a", 2, "st2", &b1, 1);
        assert_int_equal(the_signature(f).count, 6);
        /* The ids are per node too: another node's batch 1 of the same state id is its own. */
        apply_logs(f, "node-b", 1, "st2", &b1, 1);
        LogResult l = query_logs(f, (StoreLogQuery){.node = "node-b"});
        assert_int_equal(l.n_sigs, 1);
        assert_int_equal(l.sig[0].count, 4);
}

static void test_counts_accumulate_across_batches(void **state) {
        Fixture *f = *state;
        LogSpec b[] = {ERROR_SPEC(1, 3, T0_MS + 5000), ERROR_SPEC(2, 2, T0_MS + 2 * MINUTE_MS),
                ERROR_SPEC(3, 1, T0_MS)};

        /* Two batches in one report, one more later whose lines are older (a slow file). */
        apply_logs(f, "node-a", 1, "st1", b, 2);
        apply_logs(f, "node-a", 2, "st1", &b[2], 1);
        SigRow sig = the_signature(f);
        assert_int_equal(sig.count, 6);
        assert_int_equal(sig.first_ms, T0_MS);
        assert_int_equal(sig.last_ms, T0_MS + 2 * MINUTE_MS);
        /* The sample is the latest occurrence's, not the last batch's. */
        assert_string_equal(sig.sample, "ERROR Failed to list the path hdfs://ns/2");
        LogResult l = query_logs(f, (StoreLogQuery){});
        assert_int_equal(l.src[0].lines, 30);
        assert_int_equal(l.src[0].error, 6);
        /* Minute counts of the window only: the minutes that end after since. */
        l = query_logs(f, (StoreLogQuery){.since_ms = T0_MS + MINUTE_MS});
        assert_int_equal(l.src[0].error, 2);
}

static void test_duplicate_report_still_applies_new_batches(void **state) {
        Fixture *f = *state;
        LogSpec b[] = {ERROR_SPEC(1, 3, T0_MS), ERROR_SPEC(2, 5, T0_MS)};

        assert_int_equal(apply_logs(f, "node-a", 7, "st1", b, 1), CLUSTER_APPLIED);
        /* Same boot id and seq: the report is a duplicate, but batch 2 is new. */
        assert_int_equal(apply_logs(f, "node-a", 7, "st1", b, 2), CLUSTER_DUPLICATE);
        assert_int_equal(the_signature(f).count, 8);
        assert_int_equal(apply_logs(f, "node-a", 7, "st1", b, 2), CLUSTER_DUPLICATE);
        assert_int_equal(the_signature(f).count, 8);
}

static void test_log_batches_roll_back_with_the_reports(void **state) {
        Fixture *f = *state;
        LogSpec b1 = ERROR_SPEC(1, 3, T0_MS);
        uint8_t good[4096], bad[4096];
        size_t n_good = make_logs_report(good, sizeof(good), "node-a", 1, "st1", &b1, 1);
        size_t n_bad = make_logs_report(bad, sizeof(bad), "", 1, "st1", &b1, 1);
        ClusterReport items[] = {
                {.report = vigil__node_report__unpack(NULL, n_good, good), .raw = good, .raw_size = n_good},
                {.report = vigil__node_report__unpack(NULL, n_bad, bad), .raw = bad, .raw_size = n_bad},
        };

        /* The second report fails the transaction: the first one's batch is not applied either... */
        assert_int_equal(cluster_apply(f->cluster, items, 2, T0_MONO, T0_MS), -EINVAL);
        assert_int_equal(query_logs(f, (StoreLogQuery){}).n_sigs, 0);
        /* ...so when the agent sends it again, it is. */
        assert_int_equal(apply_logs(f, "node-a", 1, "st1", &b1, 1), CLUSTER_APPLIED);
        assert_int_equal(the_signature(f).count, 3);
}

static void test_applied_batch_ids_survive_restart(void **state) {
        Fixture *f = *state;
        LogSpec b1 = ERROR_SPEC(1, 3, T0_MS);

        apply_logs(f, "node-a", 1, "st1", &b1, 1);
        reopen(f);
        apply_logs(f, "node-a", 2, "st1", &b1, 1);
        assert_int_equal(the_signature(f).count, 3);
}

static void test_log_query_filters(void **state) {
        Fixture *f = *state;
        LogSpec warn = {.id = 1,
                .source = "file:/var/log/alluxio/master.log",
                .level = VIGIL__LOG_LEVEL__LOG_LEVEL_WARN,
                .pattern = "Slow RPC #ms",
                .count = 4,
                .first_ms = T0_MS,
                .last_ms = T0_MS + 10000,
                .sample = "WARN Slow RPC 812ms",
                .lines = 100};
        LogSpec err = ERROR_SPEC(2, 1, T0_MS + 20000), other = ERROR_SPEC(1, 1, T0_MS);
        err.restart_count = 3;
        err.previous_restart = 2;
        other.source = "journal:alluxio-fuse.service";

        apply_logs(f, "node-a", 1, "st1", (LogSpec[]){warn, err}, 2);
        apply_logs(f, "node-b", 1, "st1", &other, 1);

        LogResult l = query_logs(f, (StoreLogQuery){});
        assert_int_equal(l.n_sources, 3);
        /* Sorted by node, then source. */
        assert_string_equal(l.src[0].source, "file:/var/log/alluxio/master.log");
        assert_string_equal(l.src[1].source, SRC);
        assert_int_equal(l.src[1].restart_count, 3);
        assert_int_equal(l.src[1].previous_restart_count, 2);
        assert_int_equal(l.src[1].n_previous, 1);
        assert_string_equal(l.src[1].previous_pattern, "OutOfMemoryError: Java heap space");
        assert_string_equal(l.src[2].node, "node-b");
        assert_int_equal(l.n_sigs, 3);

        l = query_logs(f, (StoreLogQuery){.node = "node-b"});
        assert_int_equal(l.n_sources, 1);
        assert_int_equal(l.n_sigs, 1);
        /* A source by name, or by GLOB pattern. */
        l = query_logs(f, (StoreLogQuery){.source = SRC});
        assert_int_equal(l.n_sources, 1);
        l = query_logs(f, (StoreLogQuery){.source = "pod:alluxio/*"});
        assert_int_equal(l.n_sources, 1);
        assert_int_equal(l.n_sigs, 1);
        l = query_logs(f, (StoreLogQuery){.source = "*alluxio*"});
        assert_int_equal(l.n_sources, 3);
        l = query_logs(f, (StoreLogQuery){.source = "pod:*", .node = "node-b"});
        assert_int_equal(l.n_sources, 0);
        /* Least level: the previous container's FATAL passes ERROR, the WARN does not. */
        l = query_logs(f, (StoreLogQuery){.min_level = VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR});
        assert_int_equal(l.n_sigs, 2);
        assert_int_equal(l.src[1].n_previous, 1);
        l = query_logs(f, (StoreLogQuery){.min_level = VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL});
        assert_int_equal(l.n_sigs, 0);
        assert_int_equal(l.src[1].n_previous, 1);
        /* since: by the time of the signature's last line. */
        l = query_logs(f, (StoreLogQuery){.since_ms = T0_MS + 10000});
        assert_int_equal(l.n_sigs, 2);
        l = query_logs(f, (StoreLogQuery){.since_ms = T0_MS + 20001});
        assert_int_equal(l.n_sigs, 0);
        assert_int_equal(l.src[1].n_previous, 0);
}

static void test_log_query_limits_signatures_per_source_most_recent_first(void **state) {
        Fixture *f = *state;
        LogSpec b[] = {
                ERROR_SPEC(1, 1, T0_MS), ERROR_SPEC(2, 1, T0_MS + 1000), ERROR_SPEC(3, 1, T0_MS + 2000)};
        b[1].pattern = "second";
        b[2].pattern = "third";
        LogSpec other = b[0];
        other.id = 4;
        other.source = "file:/var/log/x.log";

        apply_logs(f, "node-a", 1, "st1", b, 3);
        apply_logs(f, "node-a", 2, "st1", &other, 1);
        LogResult l = query_logs(f, (StoreLogQuery){.limit = 2});
        assert_int_equal(l.n_sigs, 3); /* one of file:, two of pod: */
        assert_string_equal(l.sig[0].source, "file:/var/log/x.log");
        assert_string_equal(l.sig[1].pattern, "third");
        assert_string_equal(l.sig[2].pattern, "second");
}

static void test_prune_logs(void **state) {
        Fixture *f = *state;
        /* Lines of 10 minutes before and after T0, the time of the report. */
        LogSpec b[] = {ERROR_SPEC(1, 1, T0_MS - 10 * MINUTE_MS), ERROR_SPEC(2, 1, T0_MS + 10 * MINUTE_MS)};
        b[1].source = "file:/var/log/x.log";

        apply_logs(f, "node-a", 1, "st1", b, 2);
        assert_int_equal(store_begin(f->store), 0);
        /* The pod's minute and signature go; its source stays: it was updated at T0. */
        assert_int_equal(store_prune_logs(f->store, T0_MS - 5 * MINUTE_MS, 1000), 2);
        assert_int_equal(store_commit(f->store), 0);
        LogResult l = query_logs(f, (StoreLogQuery){});
        assert_int_equal(l.n_sigs, 1);
        assert_string_equal(l.sig[0].source, "file:/var/log/x.log");
        assert_int_equal(l.n_sources, 2);
        assert_int_equal(l.src[1].error, 0);
        /* Once the source itself is old, it goes too, but only without signatures. */
        assert_int_equal(store_begin(f->store), 0);
        assert_int_equal(store_prune_logs(f->store, T0_MS + 1, 1000), 1);
        assert_int_equal(store_commit(f->store), 0);
        l = query_logs(f, (StoreLogQuery){});
        assert_int_equal(l.n_sources, 1);
        assert_string_equal(l.src[0].source, "file:/var/log/x.log");
        /* The batch ids are kept: a resent batch 2 is still not counted again. */
        apply_logs(f, "node-a", 2, "st1", b, 2);
        assert_int_equal(query_logs(f, (StoreLogQuery){}).n_sigs, 1);
}

/* ---- metrics history ---- */

#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

/* Values of a point: requests, fuse ops, concurrency, cached, UFS read, UFS write, errors. */
static MetricValues values(double requests, double cached, double ufs_read, double errors) {
        MetricValues v = {};
        v.v[METRIC_REQUESTS] = requests;
        v.v[METRIC_FUSE_OPS] = requests / 2;
        v.v[METRIC_FUSE_CONCURRENCY] = 4;
        v.v[METRIC_CACHED_BYTES] = cached;
        v.v[METRIC_UFS_READ_BYTES] = ufs_read;
        v.v[METRIC_UFS_WRITE_BYTES] = 1000;
        v.v[METRIC_UFS_ERRORS] = errors;
        return v;
}

/* Writes the same point for each of the minutes [from_ms, to_ms) of node. */
static void put_points(Fixture *f, const char *node, int64_t from_ms, int64_t to_ms, MetricValues v) {
        assert_int_equal(store_begin(f->store), 0);
        for (int64_t t = from_ms; t < to_ms; t += MINUTE_MS)
                assert_int_equal(store_put_metric_point(f->store, node, t, &v), 0);
        assert_int_equal(store_commit(f->store), 0);
}

static void windows_at(Fixture *f, const char *node, int64_t now_ms, MetricWindow w[_METRIC_WINDOW_MAX]) {
        metric_windows_init(now_ms, w);
        assert_int_equal(store_query_metric_windows(f->store, node, w, _METRIC_WINDOW_MAX), 0);
}

static double mean(const MetricWindow *w, MetricSeries s) {
        double v = -1;
        assert_true(metric_window_mean(w, s, &v));
        return v;
}

static void test_version_3_database_gains_the_metric_points(void **state) {
        Fixture *f = *state;
        MetricWindow w[_METRIC_WINDOW_MAX];
        sqlite3 *db = NULL;

        f->cluster = cluster_free(f->cluster);
        f->store = store_free(f->store);
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(
                sqlite3_exec(db,
                        "DROP TABLE metric_points; DROP TABLE metric_label_points; PRAGMA user_version = 3",
                        NULL, NULL, NULL),
                SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(store_open(f->path, &f->store), 0);
        assert_int_equal(cluster_new(f->store, 0, &f->cluster), 0);
        put_points(f, "node-a", T0_MS - 10 * MINUTE_MS, T0_MS, values(100, 900, 100, 0));
        windows_at(f, "node-a", T0_MS, w);
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 10);
        assert_true(mean(&w[METRIC_WINDOW_HOUR], METRIC_REQUESTS) == 100);
}

static void test_metric_windows_sum_the_points_of_their_hour_only(void **state) {
        Fixture *f = *state;
        MetricWindow w[_METRIC_WINDOW_MAX];

        /* Two hours of points: only the last 60 minutes are the current hour. */
        put_points(f, "node-a", T0_MS - 2 * HOUR_MS, T0_MS - HOUR_MS, values(10, 0, 0, 0));
        put_points(f, "node-a", T0_MS - HOUR_MS, T0_MS, values(20, 0, 0, 0));
        put_points(f, "node-b", T0_MS - HOUR_MS, T0_MS, values(999, 0, 0, 0));
        /* A minute written again replaces its point. */
        put_points(f, "node-a", T0_MS - MINUTE_MS, T0_MS, values(80, 0, 0, 0));
        windows_at(f, "node-a", T0_MS, w);
        assert_int_equal(w[METRIC_WINDOW_HOUR].from_ms, T0_MS - HOUR_MS);
        assert_int_equal(w[METRIC_WINDOW_HOUR].to_ms, T0_MS);
        assert_int_equal(w[METRIC_WINDOW_HOUR].points, 60);
        assert_true(w[METRIC_WINDOW_HOUR].sum.v[METRIC_REQUESTS] == 59 * 20 + 80);
        assert_int_equal(w[METRIC_WINDOW_DAY_AGO].points, 0);
        assert_int_equal(w[METRIC_WINDOW_WEEK_AGO].points, 0);
        assert_false(metric_window_mean(&w[METRIC_WINDOW_DAY_AGO], METRIC_REQUESTS, &(double){0}));
}

static void test_hour_hit_ratio_is_from_summed_bytes(void **state) {
        Fixture *f = *state;
        MetricWindow w[_METRIC_WINDOW_MAX];
        double ratio;

        /* A busy minute at 90 % and a quiet one at 10 %: the hour served 910 of 1100 bytes from the
         * cache (82.7 %), not the 50 % a mean of the two ratios would say. */
        put_points(f, "node-a", T0_MS - 2 * MINUTE_MS, T0_MS - MINUTE_MS, values(1, 900, 100, 0));
        put_points(f, "node-a", T0_MS - MINUTE_MS, T0_MS, values(1, 10, 90, 0));
        windows_at(f, "node-a", T0_MS, w);
        assert_true(metric_window_hit_ratio(&w[METRIC_WINDOW_HOUR], &ratio));
        assert_true(ratio == 910.0 / 1100.0);
        assert_false(metric_window_hit_ratio(&w[METRIC_WINDOW_DAY_AGO], &ratio));
}

static void test_day_and_week_over_week_on_old_points(void **state) {
        Fixture *f = *state;
        MetricWindow w[_METRIC_WINDOW_MAX];
        MetricsSettings settings;
        MetricChange c;

        metrics_settings_default(&settings);
        /* Now: 1000 req/s, 80 % hits (1.6 GB/s cached), 0.5 errors/s; a day ago 1250 req/s, 90 %
         * hits, no errors; a week ago 1100 req/s and 80 % hits. */
        put_points(f, METRICS_CLUSTER_NODE, T0_MS - HOUR_MS, T0_MS, values(1000, 16e8, 4e8, 0.5));
        put_points(f, METRICS_CLUSTER_NODE, T0_MS - DAY_MS - HOUR_MS, T0_MS - DAY_MS,
                values(1250, 18e8, 2e8, 0));
        put_points(f, METRICS_CLUSTER_NODE, T0_MS - 7 * DAY_MS - HOUR_MS, T0_MS - 7 * DAY_MS,
                values(1100, 16e8, 4e8, 0));
        /* Points just outside the windows count in none. */
        put_points(f, METRICS_CLUSTER_NODE, T0_MS - DAY_MS, T0_MS - DAY_MS + 5 * MINUTE_MS,
                values(1e6, 0, 1e12, 1e3));
        windows_at(f, METRICS_CLUSTER_NODE, T0_MS, w);
        for (size_t k = 0; k < _METRIC_WINDOW_MAX; k++)
                assert_int_equal(w[k].points, 60);

        /* -20 % requests: a change, but under the 25 % that makes it significant. */
        c = metrics_compare(&settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_DAY_AGO], METRIC_REQUESTS);
        assert_true(c.comparable);
        assert_true(fabs(c.change - (-0.2)) < 1e-12);
        assert_false(c.significant);
        c = metrics_compare(&settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_WEEK_AGO], METRIC_REQUESTS);
        assert_true(fabs(c.change - (1000.0 / 1100 - 1)) < 1e-12);
        /* The hit rate fell 10 points: the UFS share of reads doubled, which is significant. */
        c = metrics_compare_hit_ratio(&settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_DAY_AGO]);
        assert_true(c.comparable);
        assert_true(fabs(c.change - (-10.0)) < 1e-9);
        assert_true(c.significant);
        c = metrics_compare_hit_ratio(&settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_WEEK_AGO]);
        assert_true(fabs(c.change) < 1e-9);
        assert_false(c.significant);
        /* Errors out of nothing: no relative change exists, and at 0.5/s it is significant. */
        c = metrics_compare(&settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_DAY_AGO], METRIC_UFS_ERRORS);
        assert_true(c.comparable);
        assert_true(isnan(c.change));
        assert_true(c.significant);
        /* ... but not under a least volume of 1 error/s. */
        settings.min_volume[METRIC_VOLUME_UFS_ERRORS] = 1;
        c = metrics_compare(&settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_DAY_AGO], METRIC_UFS_ERRORS);
        assert_false(c.significant);
        /* A smaller threshold makes the -20 % significant. */
        settings.change = 0.2;
        c = metrics_compare(&settings, &w[METRIC_WINDOW_HOUR], &w[METRIC_WINDOW_DAY_AGO], METRIC_REQUESTS);
        assert_true(c.significant);
        /* Without points a day ago there is nothing to compare. */
        c = metrics_compare(&settings, &w[METRIC_WINDOW_HOUR], &(MetricWindow){}, METRIC_REQUESTS);
        assert_false(c.comparable);
}

static void test_prune_metric_points(void **state) {
        Fixture *f = *state;
        MetricWindow w[_METRIC_WINDOW_MAX];

        put_points(f, "node-a", T0_MS - 9 * DAY_MS, T0_MS - 9 * DAY_MS + 10 * MINUTE_MS, values(1, 1, 1, 0));
        put_points(f, "node-a", T0_MS - DAY_MS - HOUR_MS, T0_MS - DAY_MS, values(1, 1, 1, 0));
        assert_int_equal(store_begin(f->store), 0);
        /* At most a batch per call. */
        assert_int_equal(store_prune_metric_points(f->store, T0_MS - 8 * DAY_MS, 4), 4);
        assert_int_equal(store_prune_metric_points(f->store, T0_MS - 8 * DAY_MS, 1000), 6);
        assert_int_equal(store_prune_metric_points(f->store, T0_MS - 8 * DAY_MS, 1000), 0);
        assert_int_equal(store_commit(f->store), 0);
        windows_at(f, "node-a", T0_MS, w);
        assert_int_equal(w[METRIC_WINDOW_DAY_AGO].points, 60);
}

/* Writes the same labelled points (the n keys) of series for each of the minutes [from_ms, to_ms) of
 * node, replacing those of the series there. */
static void put_label_keys(Fixture *f, const char *node, MetricLabelSeries series, int64_t from_ms,
        int64_t to_ms, const MetricKeyRate *keys, size_t n) {
        assert_int_equal(store_begin(f->store), 0);
        for (int64_t t = from_ms; t < to_ms; t += MINUTE_MS)
                assert_int_equal(store_put_metric_label_points(f->store, node, t, series, keys, n), 0);
        assert_int_equal(store_commit(f->store), 0);
}

static void put_label_points(Fixture *f, const char *node, MetricLabelSeries series, int64_t from_ms,
        int64_t to_ms, const char *key, double per_s) {
        put_label_keys(f, node, series, from_ms, to_ms, &(MetricKeyRate){key, per_s}, 1);
}

typedef struct History {
        MetricWindow w[_METRIC_WINDOW_MAX];
        MetricBreakdown b[_METRIC_LABEL_SERIES_MAX];
} History;

static void history_at(Fixture *f, const char *node, int64_t now_ms, History *h) {
        *h = (History){.b = {{.series = METRIC_LABEL_FUSE_OPS}, {.series = METRIC_LABEL_UFS_ERRORS}}};
        metric_windows_init(now_ms, h->w);
        assert_int_equal(store_query_metric_history(f->store, node, h->w, h->b), 0);
        for (size_t l = 0; l < _METRIC_LABEL_SERIES_MAX; l++)
                metric_breakdown_finish(&h->b[l]);
}

static void history_done(History *h) {
        for (size_t l = 0; l < _METRIC_LABEL_SERIES_MAX; l++)
                metric_breakdown_done(&h->b[l]);
}

static const MetricKeyWindows *history_key(const History *h, MetricLabelSeries l, const char *key) {
        for (size_t i = 0; i < h->b[l].n_keys; i++)
                if (streq(h->b[l].keys[i].key, key))
                        return &h->b[l].keys[i];
        return NULL;
}

static void test_version_4_database_gains_the_metric_label_points(void **state) {
        Fixture *f = *state;
        History h;
        sqlite3 *db = NULL;
        int64_t version = 0;

        /* What a collector of schema version 4 left behind: points, no labelled ones. */
        put_points(f, "node-a", T0_MS - 10 * MINUTE_MS, T0_MS, values(100, 900, 100, 0));
        f->cluster = cluster_free(f->cluster);
        f->store = store_free(f->store);
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "DROP TABLE metric_label_points; PRAGMA user_version = 4", NULL,
                                 NULL, NULL),
                SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(store_open(f->path, &f->store), 0);
        assert_int_equal(cluster_new(f->store, 0, &f->cluster), 0);

        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        version = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        assert_int_equal(version, 5);

        /* The version 4 points are still there, and labelled points can be written and read. */
        put_label_points(f, "node-a", METRIC_LABEL_FUSE_OPS, T0_MS - 10 * MINUTE_MS, T0_MS, "read", 30);
        history_at(f, "node-a", T0_MS, &h);
        assert_int_equal(h.w[METRIC_WINDOW_HOUR].points, 10);
        assert_true(mean(&h.w[METRIC_WINDOW_HOUR], METRIC_REQUESTS) == 100);
        assert_int_equal(h.b[METRIC_LABEL_FUSE_OPS].n_keys, 1);
        assert_true(mean(&history_key(&h, METRIC_LABEL_FUSE_OPS, "read")->w[METRIC_WINDOW_HOUR],
                            METRIC_FUSE_OPS) == 30);
        history_done(&h);
}

static void test_breakdown_day_over_day_on_old_points(void **state) {
        Fixture *f = *state;
        MetricsSettings settings;
        const MetricKeyWindows *k;
        MetricChange c;
        History h;

        metrics_settings_default(&settings);
        put_points(f, METRICS_CLUSTER_NODE, T0_MS - HOUR_MS, T0_MS, values(1000, 16e8, 4e8, 3));
        put_points(f, METRICS_CLUSTER_NODE, T0_MS - DAY_MS - HOUR_MS, T0_MS - DAY_MS,
                values(1000, 16e8, 4e8, 1));
        /* "read" doubled since yesterday; "write" is new, and only in half of the last hour. */
        put_label_points(f, METRICS_CLUSTER_NODE, METRIC_LABEL_FUSE_OPS, T0_MS - HOUR_MS,
                T0_MS - 30 * MINUTE_MS, "read", 400);
        put_label_keys(f, METRICS_CLUSTER_NODE, METRIC_LABEL_FUSE_OPS, T0_MS - 30 * MINUTE_MS, T0_MS,
                (const MetricKeyRate[]){{"read", 400}, {"write", 10}}, 2);
        put_label_points(f, METRICS_CLUSTER_NODE, METRIC_LABEL_FUSE_OPS, T0_MS - DAY_MS - HOUR_MS,
                T0_MS - DAY_MS, "read", 200);
        /* UFS errors by code: 503 steady, the other series and another node apart. */
        put_label_points(
                f, METRICS_CLUSTER_NODE, METRIC_LABEL_UFS_ERRORS, T0_MS - HOUR_MS, T0_MS, "503", 1.1);
        put_label_points(f, METRICS_CLUSTER_NODE, METRIC_LABEL_UFS_ERRORS, T0_MS - DAY_MS - HOUR_MS,
                T0_MS - DAY_MS, "503", 1);
        put_label_points(f, "node-a", METRIC_LABEL_FUSE_OPS, T0_MS - HOUR_MS, T0_MS, "read", 1e6);
        /* Just outside the last hour: in no window. */
        put_label_points(
                f, METRICS_CLUSTER_NODE, METRIC_LABEL_FUSE_OPS, T0_MS, T0_MS + 5 * MINUTE_MS, "read", 1e9);

        history_at(f, METRICS_CLUSTER_NODE, T0_MS, &h);
        assert_int_equal(h.b[METRIC_LABEL_FUSE_OPS].n_keys, 2);
        k = history_key(&h, METRIC_LABEL_FUSE_OPS, "read");
        assert_non_null(k);
        assert_int_equal(k->w[METRIC_WINDOW_HOUR].points, 60);
        assert_true(mean(&k->w[METRIC_WINDOW_HOUR], METRIC_FUSE_OPS) == 400);
        assert_true(mean(&k->w[METRIC_WINDOW_DAY_AGO], METRIC_FUSE_OPS) == 200);
        /* No points a week ago at all: no mean and nothing to compare. */
        assert_int_equal(k->w[METRIC_WINDOW_WEEK_AGO].points, 0);
        c = metrics_compare(
                &settings, &k->w[METRIC_WINDOW_HOUR], &k->w[METRIC_WINDOW_DAY_AGO], METRIC_FUSE_OPS);
        assert_true(c.comparable);
        assert_true(fabs(c.change - 1.0) < 1e-12);
        assert_true(c.significant);
        c = metrics_compare(
                &settings, &k->w[METRIC_WINDOW_HOUR], &k->w[METRIC_WINDOW_WEEK_AGO], METRIC_FUSE_OPS);
        assert_false(c.comparable);

        /* Absent from a minute of the window counts as 0: 30 minutes of 10/s are 5/s over the hour;
         * out of nothing a day ago it is new, and at 5/s above the least volume of 1 significant. */
        k = history_key(&h, METRIC_LABEL_FUSE_OPS, "write");
        assert_non_null(k);
        assert_true(mean(&k->w[METRIC_WINDOW_HOUR], METRIC_FUSE_OPS) == 5);
        assert_true(mean(&k->w[METRIC_WINDOW_DAY_AGO], METRIC_FUSE_OPS) == 0);
        c = metrics_compare(
                &settings, &k->w[METRIC_WINDOW_HOUR], &k->w[METRIC_WINDOW_DAY_AGO], METRIC_FUSE_OPS);
        assert_true(c.comparable);
        assert_true(isnan(c.change));
        assert_true(c.significant);

        /* +10 % of errors: under the 25 % that makes a change significant. */
        assert_int_equal(h.b[METRIC_LABEL_UFS_ERRORS].n_keys, 1);
        k = history_key(&h, METRIC_LABEL_UFS_ERRORS, "503");
        c = metrics_compare(
                &settings, &k->w[METRIC_WINDOW_HOUR], &k->w[METRIC_WINDOW_DAY_AGO], METRIC_UFS_ERRORS);
        assert_true(c.comparable);
        assert_true(fabs(c.change - 0.1) < 1e-9);
        assert_false(c.significant);
        history_done(&h);

        /* Writing a minute again replaces its labelled points of that series. */
        assert_int_equal(store_begin(f->store), 0);
        assert_int_equal(store_put_metric_label_points(f->store, METRICS_CLUSTER_NODE, T0_MS - MINUTE_MS,
                                 METRIC_LABEL_FUSE_OPS, &(MetricKeyRate){"read", 460}, 1),
                0);
        assert_int_equal(store_commit(f->store), 0);
        history_at(f, METRICS_CLUSTER_NODE, T0_MS, &h);
        assert_true(mean(&history_key(&h, METRIC_LABEL_FUSE_OPS, "read")->w[METRIC_WINDOW_HOUR],
                            METRIC_FUSE_OPS) == 401);
        assert_true(mean(&history_key(&h, METRIC_LABEL_FUSE_OPS, "write")->w[METRIC_WINDOW_HOUR],
                            METRIC_FUSE_OPS) == (29 * 10.0) / 60);
        assert_int_equal(h.b[METRIC_LABEL_UFS_ERRORS].n_keys, 1);
        history_done(&h);
}

static void test_prune_metric_label_points(void **state) {
        Fixture *f = *state;
        History h;

        put_points(f, "node-a", T0_MS - 9 * DAY_MS, T0_MS - 9 * DAY_MS + 2 * MINUTE_MS, values(1, 1, 1, 0));
        put_label_points(f, "node-a", METRIC_LABEL_FUSE_OPS, T0_MS - 9 * DAY_MS,
                T0_MS - 9 * DAY_MS + 10 * MINUTE_MS, "read", 1);
        put_points(f, "node-a", T0_MS - DAY_MS - HOUR_MS, T0_MS - DAY_MS, values(1, 1, 1, 0));
        put_label_points(
                f, "node-a", METRIC_LABEL_UFS_ERRORS, T0_MS - DAY_MS - HOUR_MS, T0_MS - DAY_MS, "503", 2);
        assert_int_equal(store_begin(f->store), 0);
        /* One batch for both tables, the points first: 2 points and 2 labelled points, then 8. */
        assert_int_equal(store_prune_metric_points(f->store, T0_MS - 8 * DAY_MS, 4), 4);
        assert_int_equal(store_prune_metric_points(f->store, T0_MS - 8 * DAY_MS, 1000), 8);
        assert_int_equal(store_prune_metric_points(f->store, T0_MS - 8 * DAY_MS, 1000), 0);
        assert_int_equal(store_commit(f->store), 0);
        history_at(f, "node-a", T0_MS - 8 * DAY_MS + HOUR_MS, &h);
        assert_int_equal(h.b[METRIC_LABEL_FUSE_OPS].n_keys, 0);
        history_done(&h);
        history_at(f, "node-a", T0_MS, &h);
        assert_int_equal(h.w[METRIC_WINDOW_DAY_AGO].points, 60);
        assert_true(mean(&history_key(&h, METRIC_LABEL_UFS_ERRORS, "503")->w[METRIC_WINDOW_DAY_AGO],
                            METRIC_UFS_ERRORS) == 2);
        history_done(&h);
}

static void test_key_rates_are_bounded(void **state) {
        MetricKeyRate ops[40], *ret = NULL;
        char names[40][16];
        MetricUfsError errors[] = {
                {.ufs = "s3", .error_code = "503", .per_s = 2},
                {.ufs = "hdfs", .error_code = "503", .per_s = 0.5},
                {.ufs = "s3", .error_code = "404", .expected = true, .per_s = 9},
                {.ufs = "s3", .error_code = "500", .per_s = 0},
        };
        MetricsSummary m = {.fuse_ops = ops, .n_fuse_ops = 40, .ufs_errors = errors, .n_ufs_errors = 4};
        size_t n = 0;

        /* op00 at 1/s ... op39 at 40/s. */
        for (size_t i = 0; i < 40; i++) {
                snprintf(names[i], sizeof(names[i]), "op%02zu", i);
                ops[i] = (MetricKeyRate){names[i], (double)(i + 1)};
        }
        assert_int_equal(metrics_summary_key_rates(&m, METRIC_LABEL_FUSE_OPS, 0, &ret, &n), 0);
        assert_int_equal(n, 40);
        ret = mfree(ret);
        /* The 31 highest (op09 to op39), and op00 to op08 (1 + ... + 9 = 45/s) under "(other)". */
        assert_int_equal(
                metrics_summary_key_rates(&m, METRIC_LABEL_FUSE_OPS, METRIC_LABEL_KEYS_MAX, &ret, &n), 0);
        assert_int_equal(n, METRIC_LABEL_KEYS_MAX);
        assert_string_equal(ret[0].key, METRIC_LABEL_OTHER); /* sorted by key: '(' first */
        assert_true(ret[0].per_s == 45);
        assert_string_equal(ret[1].key, "op09");
        assert_string_equal(ret[31].key, "op39");
        ret = mfree(ret);
        /* By code over the UFSes; the expected ones and those at 0 left out. */
        assert_int_equal(
                metrics_summary_key_rates(&m, METRIC_LABEL_UFS_ERRORS, METRIC_LABEL_KEYS_MAX, &ret, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(ret[0].key, "503");
        assert_true(ret[0].per_s == 2.5);
        ret = mfree(ret);
}

static void test_metrics_settings_parse(void **state) {
        MetricsSettings s;
        const char *reason = NULL;
        double change;

        metrics_settings_default(&s);
        assert_true(s.change == 0.25);
        assert_true(s.min_volume[METRIC_VOLUME_REQUESTS] == 1);
        assert_true(s.min_volume[METRIC_VOLUME_BYTES] == 1024 * 1024);
        assert_true(s.min_volume[METRIC_VOLUME_UFS_ERRORS] == 0.1);
        assert_int_equal(metrics_min_volume_parse("requests=10,bytes=2K", s.min_volume, &reason), 0);
        assert_true(s.min_volume[METRIC_VOLUME_REQUESTS] == 10);
        assert_true(s.min_volume[METRIC_VOLUME_BYTES] == 2048);
        assert_true(s.min_volume[METRIC_VOLUME_FUSE_OPS] == 1); /* not given: kept */
        assert_int_equal(metrics_min_volume_parse("requests=5,bogus=1", s.min_volume, &reason), -EINVAL);
        assert_non_null(strstr(reason, "unknown key"));
        assert_true(s.min_volume[METRIC_VOLUME_REQUESTS] == 10); /* nothing applied */
        assert_int_equal(metrics_min_volume_parse("requests=-1", s.min_volume, &reason), -EINVAL);
        assert_int_equal(metrics_min_volume_parse("requests", s.min_volume, &reason), -EINVAL);
        assert_int_equal(metrics_change_parse("0.1", &change), 0);
        assert_true(change == 0.1);
        assert_int_equal(metrics_change_parse("30%", &change), 0);
        assert_true(fabs(change - 0.3) < 1e-15);
        assert_int_equal(metrics_change_parse("0", &change), -EINVAL);
        assert_int_equal(metrics_change_parse("1M", &change), -EINVAL);
        assert_int_equal(metrics_change_parse("soon", &change), -EINVAL);
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
                cmocka_unit_test_setup_teardown(
                        test_version_2_database_gains_the_log_tables, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_batch_applied_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resent_batch_is_not_counted_twice, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lower_batch_id_is_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_state_id_starts_from_scratch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_counts_accumulate_across_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_duplicate_report_still_applies_new_batches, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_log_batches_roll_back_with_the_reports, setup, teardown),
                cmocka_unit_test_setup_teardown(test_applied_batch_ids_survive_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_query_filters, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_log_query_limits_signatures_per_source_most_recent_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prune_logs, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_version_3_database_gains_the_metric_points, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_metric_windows_sum_the_points_of_their_hour_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hour_hit_ratio_is_from_summed_bytes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_day_and_week_over_week_on_old_points, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prune_metric_points, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_version_4_database_gains_the_metric_label_points, setup, teardown),
                cmocka_unit_test_setup_teardown(test_breakdown_day_over_day_on_old_points, setup, teardown),
                cmocka_unit_test_setup_teardown(test_prune_metric_label_points, setup, teardown),
                cmocka_unit_test(test_key_rates_are_bounded),
                cmocka_unit_test(test_metrics_settings_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
