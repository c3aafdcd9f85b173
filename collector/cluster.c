/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <sched.h>

#include "cluster.h"
#include "json-util.h"

#define DEFAULT_INTERVAL_MS 5000u
#define STALE_INTERVALS 3
#define RENDER_BUSY_RETRY (5 * USEC_PER_MSEC)

typedef struct ClusterNode {
        char *name;
        NodeView *view; /* published; NULL while the node's first report is not committed */
        bool stale; /* published */
        /* The writer's view of the batch being applied, published after the commit. */
        NodeView *staged;
        bool staged_stale;
        bool touched;
        bool render_queued; /* guarded by render_lock */
} ClusterNode;

struct Cluster {
        Store *store;
        usec_t stale_after;
        pthread_rwlock_t lock; /* guards nodes[] and each node's published fields */
        ClusterNode **nodes; /* sorted by name */
        size_t n_nodes, n_alloc;
        size_t n_published;
        /* Writer only: the nodes touched by the batch being applied. */
        ClusterNode **touched;
        size_t n_touched, n_touched_alloc;
        /* Background renderer: nodes whose new view has not been rendered yet (each once). */
        pthread_mutex_t render_lock;
        pthread_cond_t render_wake;
        ClusterNode **render_queue;
        size_t n_render, n_render_alloc;
        bool render_started, render_stop;
        bool busy; /* atomic: the writer has a backlog (cluster_set_busy()) */
        pthread_t render_thread;
};

/* A block of an arena; the first one holds the arena itself. */
typedef struct ArenaBlock {
        struct ArenaBlock *next;
        size_t size; /* usable bytes after the header */
        max_align_t data[];
} ArenaBlock;

struct ReportArena {
        ArenaBlock *blocks; /* most recent first; the last one is where the arena lives */
        uint8_t *pos, *end; /* free space of the most recent block */
};

/* Enough for every member of a protobuf-c message (no long double there), smaller than malloc's 16. */
#define ARENA_ALIGN ((size_t)8)
_Static_assert(ARENA_ALIGN >= _Alignof(uint64_t) && ARENA_ALIGN >= _Alignof(double) &&
                ARENA_ALIGN >= _Alignof(void *),
        "arena alignment too small");

static void *arena_alloc(void *userdata, size_t size) {
        ReportArena *a = userdata;
        size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
        if (size == 0)
                size = ARENA_ALIGN;
        if ((size_t)(a->end - a->pos) < size) {
                /* Blocks grow so that a report larger than estimated still takes few of them. */
                size_t want = MAX(size, a->blocks->size * 2);
                ArenaBlock *b = malloc(sizeof(ArenaBlock) + want);
                if (!b)
                        return NULL;
                b->size = want;
                b->next = a->blocks;
                a->blocks = b;
                a->pos = (uint8_t *)b->data;
                a->end = a->pos + want;
        }
        void *p = a->pos;
        a->pos += size;
        return p;
}

static void arena_free_nothing(void *userdata, void *p) {
        /* The pieces go with the arena. */
}

ReportArena *report_arena_free(ReportArena *a) {
        if (!a)
                return NULL;
        /* The arena lives in its first block, the last of the list: free that one last. */
        for (ArenaBlock *b = a->blocks, *next; b; b = next) {
                next = b->next;
                free(b);
        }
        return NULL;
}

int report_decode(const void *data, size_t size, Vigil__NodeReport **ret_report, ReportArena **ret_arena) {
        /*
         * Decoded, a report takes about 3.2 times its encoded size (pointers, struct padding, NUL
         * terminators: 4,864 bytes for 1,538 with ten FUSE-heavy checks), so one block usually
         * holds it all. Sizes are rounded to 1 KiB so that the blocks of a node's successive
         * reports are interchangeable for malloc (unrounded sizes fragmented the heap: +60 % RSS).
         */
        size_t first = (MAX(3 * size + 1024, (size_t)4096) + 1023) & ~(size_t)1023;
        ArenaBlock *b = malloc(sizeof(ArenaBlock) + first);
        ReportArena *a;

        if (!b)
                return -ENOMEM;
        b->next = NULL;
        b->size = first;
        a = (ReportArena *)b->data;
        *a = (ReportArena){.blocks = b,
                .pos = (uint8_t *)b->data + ((sizeof(ReportArena) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1)),
                .end = (uint8_t *)b->data + first};

        ProtobufCAllocator allocator = {
                .alloc = arena_alloc, .free = arena_free_nothing, .allocator_data = a};
        Vigil__NodeReport *report = vigil__node_report__unpack(&allocator, size, data ?: (const void *)"");
        if (!report) {
                report_arena_free(a);
                return -EBADMSG; /* protobuf-c does not tell a bad message from OOM */
        }
        *ret_report = report;
        *ret_arena = a;
        return 0;
}

void report_free(Vigil__NodeReport *report, ReportArena *arena) {
        if (arena)
                report_arena_free(arena);
        else if (report)
                vigil__node_report__free_unpacked(report, NULL);
}

NodeView *node_view_ref(NodeView *v) {
        if (v)
                __atomic_add_fetch(&v->n_ref, 1, __ATOMIC_RELAXED);
        return v;
}

NodeView *node_view_unref(NodeView *v) {
        if (!v || __atomic_sub_fetch(&v->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        report_free(v->report, v->arena);
        free(v->checks_json);
        return mfree(v);
}

const RenderedJson *node_view_checks_json(NodeView *v) {
        RenderedJson *s = __atomic_load_n(&v->checks_json, __ATOMIC_ACQUIRE);
        const char *text, *name;
        size_t len, name_len;

        if (s)
                return s;
        _cleanup_json_ json_object *a = report_checks_to_json(v->report);
        _cleanup_json_ json_object *n = json_object_new_string(v->report->node);
        if (!a || !n)
                return NULL;
        text = json_object_to_json_string_length(a, CLUSTER_JSON_FLAGS, &len);
        name = json_object_to_json_string_length(n, CLUSTER_JSON_FLAGS, &name_len);
        if (!text || !name)
                return NULL;
        s = malloc(sizeof(RenderedJson) + len + 1 + name_len + 1);
        if (!s)
                return NULL;
        s->len = len;
        memcpy(s->text, text, len + 1);
        memcpy(s->text + len + 1, name, name_len + 1);
        s->name = s->text + len + 1;
        s->name_len = name_len;
        /* Two threads may render at once: the first to publish wins, the other frees its copy. */
        RenderedJson *expected = NULL;
        if (!__atomic_compare_exchange_n(
                    &v->checks_json, &expected, s, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                free(s);
                return expected;
        }
        return s;
}

NodeRef *node_refs_free(NodeRef *refs, size_t n) {
        for (size_t i = 0; refs && i < n; i++)
                node_view_unref(refs[i].view);
        return mfree(refs);
}

static VigilStatus check_status(const Vigil__CheckResult *c) {
        return vigil_status_from_proto(c->status);
}

static size_t family_len(const char *name) {
        const char *dot = strchr(name, '.');
        return dot ? (size_t)(dot - name) : strlen(name);
}

/* Makes a view owning report (and its arena, which may be NULL); on failure the caller keeps them. */
static int node_view_new(Vigil__NodeReport *report, ReportArena *arena, int64_t last_seen_ms,
        usec_t last_seen_mono, NodeView **ret) {
        /* One allocation: the view, then room for one family per check (the most there can be). */
        NodeView *v = calloc(1, sizeof(NodeView) + report->n_checks * sizeof(FamilyStatus));
        if (!v)
                return -ENOMEM;
        v->n_ref = 1;
        v->report = report;
        v->arena = arena;
        v->last_seen_ms = last_seen_ms;
        v->last_seen_mono = last_seen_mono;
        v->status = VIGIL_OK;
        v->families = (FamilyStatus *)(v + 1);
        for (size_t i = 0; i < report->n_checks; i++) {
                const Vigil__CheckResult *c = report->checks[i];
                VigilStatus s = check_status(c);
                const char *name = strempty(c->name);
                size_t len = family_len(name), j;

                v->status = vigil_status_worst(v->status, s);
                if (s != VIGIL_OK)
                        v->checks_failing++;
                if (c->metrics) {
                        metric_values_add(&v->metrics, c->metrics);
                        v->metrics_endpoints++;
                        v->metrics_rated += c->metrics->interval_s > 0;
                }
                for (j = 0; j < v->n_families; j++)
                        if (v->families[j].len == len && memcmp(v->families[j].name, name, len) == 0)
                                break;
                if (j == v->n_families)
                        v->families[v->n_families++] = (FamilyStatus){.name = name, .len = len, .status = s};
                else
                        v->families[j].status = vigil_status_worst(v->families[j].status, s);
        }
        *ret = v;
        return 0;
}

static ClusterNode *cluster_node_free(ClusterNode *n) {
        if (!n)
                return NULL;
        node_view_unref(n->view);
        node_view_unref(n->staged);
        free(n->name);
        return mfree(n);
}

Cluster *cluster_free(Cluster *c) {
        if (!c)
                return NULL;
        if (c->render_started) {
                pthread_mutex_lock(&c->render_lock);
                c->render_stop = true;
                pthread_cond_signal(&c->render_wake);
                pthread_mutex_unlock(&c->render_lock);
                pthread_join(c->render_thread, NULL);
        }
        free(c->render_queue);
        pthread_mutex_destroy(&c->render_lock);
        pthread_cond_destroy(&c->render_wake);
        for (size_t i = 0; i < c->n_nodes; i++)
                cluster_node_free(c->nodes[i]);
        free(c->nodes);
        free(c->touched);
        pthread_rwlock_destroy(&c->lock);
        return mfree(c);
}

/* Index of name in nodes[], or -(insertion point) - 1. Caller holds the lock or is the writer. */
static ssize_t cluster_find(const Cluster *c, const char *name) {
        size_t lo = 0, hi = c->n_nodes;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int d = strcmp(c->nodes[mid]->name, name);
                if (d == 0)
                        return (ssize_t)mid;
                if (d < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -(ssize_t)lo - 1;
}

/* Inserts a node without a view (invisible to readers) at position pos. Writer only. */
static int cluster_insert(Cluster *c, size_t pos, const char *name, ClusterNode **ret) {
        _cleanup_(freep) ClusterNode *n = calloc(1, sizeof(ClusterNode));
        if (!n)
                return -ENOMEM;
        n->name = strdup(name);
        if (!n->name)
                return -ENOMEM;

        pthread_rwlock_wrlock(&c->lock);
        if (c->n_nodes == c->n_alloc) {
                size_t a = MAX(c->n_alloc * 2, (size_t)64);
                ClusterNode **p = realloc(c->nodes, a * sizeof(ClusterNode *));
                if (!p) {
                        pthread_rwlock_unlock(&c->lock);
                        free(n->name);
                        return -ENOMEM;
                }
                c->nodes = p;
                c->n_alloc = a;
        }
        memmove(c->nodes + pos + 1, c->nodes + pos, (c->n_nodes - pos) * sizeof(ClusterNode *));
        c->nodes[pos] = n;
        c->n_nodes++;
        pthread_rwlock_unlock(&c->lock);
        *ret = TAKE_PTR(n);
        return 0;
}

/* Drops the nodes that never got a committed view (after a failed transaction). */
static void cluster_remove_unpublished(Cluster *c) {
        size_t j = 0;
        pthread_rwlock_wrlock(&c->lock);
        for (size_t i = 0; i < c->n_nodes; i++) {
                if (c->nodes[i]->view)
                        c->nodes[j++] = c->nodes[i];
                else
                        cluster_node_free(c->nodes[i]);
        }
        c->n_nodes = j;
        pthread_rwlock_unlock(&c->lock);
}

typedef struct LoadContext {
        Cluster *c;
        usec_t now_mono;
        int64_t now_ms;
} LoadContext;

static int load_node(const StoreNode *sn, void *userdata) {
        LoadContext *l = userdata;
        Cluster *c = l->c;
        Vigil__NodeReport *report;
        ReportArena *arena;
        ClusterNode *n;
        NodeView *v;
        ssize_t pos;
        int r;

        r = report_decode(sn->report, sn->report_size, &report, &arena);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (isempty(report->node) || !streq(report->node, sn->name)) {
                report_arena_free(arena);
                return 0;
        }
        /* Ages continue from the stored wall-clock time; a clock that went back counts as age 0. */
        int64_t age_ms = MAX(l->now_ms - sn->last_seen_ms, (int64_t)0);
        usec_t age = (usec_t)age_ms * USEC_PER_MSEC;
        usec_t mono = l->now_mono > age ? l->now_mono - age : 0;
        r = node_view_new(report, arena, sn->last_seen_ms, mono, &v);
        if (r < 0) {
                report_arena_free(arena);
                return r;
        }
        pos = cluster_find(c, sn->name);
        if (pos >= 0) { /* cannot happen with a PRIMARY KEY, but never leak */
                node_view_unref(v);
                return 0;
        }
        r = cluster_insert(c, (size_t)(-pos - 1), sn->name, &n);
        if (r < 0) {
                node_view_unref(v);
                return r;
        }
        n->view = v;
        n->stale = sn->stale;
        c->n_published++;
        return 0;
}

int cluster_new(Store *store, usec_t stale_after, Cluster **ret) {
        _cleanup_(cluster_freep) Cluster *c = calloc(1, sizeof(Cluster));
        int r;

        if (!c)
                return -ENOMEM;
        c->store = store;
        c->stale_after = stale_after;
        pthread_rwlock_init(&c->lock, NULL);
        pthread_mutex_init(&c->render_lock, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&c->render_wake, &attr);
        pthread_condattr_destroy(&attr);

        LoadContext l = {.c = c,
                .now_mono = now_usec(CLOCK_MONOTONIC),
                .now_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC)};
        r = store_load_nodes(store, load_node, &l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

usec_t cluster_stale_window(const Cluster *c, const NodeView *v) {
        if (c->stale_after > 0)
                return c->stale_after;
        return STALE_INTERVALS * (usec_t)(v->report->interval_ms ?: DEFAULT_INTERVAL_MS) * USEC_PER_MSEC;
}

static int touch(Cluster *c, ClusterNode *n) {
        if (n->touched)
                return 0;
        if (c->n_touched == c->n_touched_alloc) {
                size_t a = MAX(c->n_touched_alloc * 2, (size_t)64);
                ClusterNode **p = realloc(c->touched, a * sizeof(ClusterNode *));
                if (!p)
                        return -ENOMEM;
                c->touched = p;
                c->n_touched_alloc = a;
        }
        c->touched[c->n_touched++] = n;
        n->touched = true;
        n->staged_stale = n->stale;
        return 0;
}

/* Queues the touched nodes for the renderer (before they are untouched). */
static void render_enqueue(Cluster *c) {
        bool any = false;

        pthread_mutex_lock(&c->render_lock);
        for (size_t i = 0; i < c->n_touched; i++) {
                ClusterNode *n = c->touched[i];
                if (n->render_queued || !n->view)
                        continue;
                if (c->n_render == c->n_render_alloc) {
                        size_t a = MAX(c->n_render_alloc * 2, (size_t)256);
                        ClusterNode **p = realloc(c->render_queue, a * sizeof(ClusterNode *));
                        if (!p)
                                break; /* readers render it themselves */
                        c->render_queue = p;
                        c->n_render_alloc = a;
                }
                c->render_queue[c->n_render++] = n;
                n->render_queued = true;
                any = true;
        }
        if (any)
                pthread_cond_signal(&c->render_wake);
        pthread_mutex_unlock(&c->render_lock);
}

static void *render_thread(void *userdata) {
        Cluster *c = userdata;
        struct sched_param param = {};

        (void)pthread_setname_np(pthread_self(), "vigil-render");
        /* Only spare CPU: ingest and requests always come first. */
        (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
        pthread_mutex_lock(&c->render_lock);
        for (;;) {
                while (c->n_render == 0 && !c->render_stop)
                        pthread_cond_wait(&c->render_wake, &c->render_lock);
                if (c->render_stop)
                        break;
                /*
                 * While reports queue up faster than the writer commits them, every CPU cycle
                 * is better spent on ingest, and most views would be replaced before anyone reads
                 * them: look again later. (SCHED_IDLE alone does not do it: the request pipeline
                 * leaves the CPUs idle for short moments all the time, and each was spent here.)
                 */
                if (__atomic_load_n(&c->busy, __ATOMIC_RELAXED)) {
                        usec_t until = now_usec(CLOCK_MONOTONIC) + RENDER_BUSY_RETRY;
                        struct timespec ts = {.tv_sec = (time_t)(until / USEC_PER_SEC),
                                .tv_nsec = (long)(until % USEC_PER_SEC) * 1000};
                        (void)pthread_cond_timedwait(&c->render_wake, &c->render_lock, &ts);
                        continue;
                }
                ClusterNode *n = c->render_queue[--c->n_render];
                n->render_queued = false;
                pthread_mutex_unlock(&c->render_lock);

                /* Nodes are freed only by cluster_free() (after this thread) or when never published. */
                pthread_rwlock_rdlock(&c->lock);
                NodeView *v = node_view_ref(n->view);
                pthread_rwlock_unlock(&c->lock);
                if (v)
                        (void)node_view_checks_json(v);
                node_view_unref(v);

                pthread_mutex_lock(&c->render_lock);
        }
        pthread_mutex_unlock(&c->render_lock);
        return NULL;
}

void cluster_set_busy(Cluster *c, bool busy) {
        __atomic_store_n(&c->busy, busy, __ATOMIC_RELAXED);
}

int cluster_start_renderer(Cluster *c) {
        int r;
        if (c->render_started)
                return 0;
        r = pthread_create(&c->render_thread, NULL, render_thread, c);
        if (r != 0)
                return -r;
        c->render_started = true;
        return 0;
}

/* Publishes (committed) or drops (failed) what the batch staged. */
static void finish_batch(Cluster *c, bool committed) {
        _cleanup_(freep) NodeView **old = calloc(c->n_touched ?: 1, sizeof(NodeView *));
        size_t n_old = 0;
        bool any_new = false;

        pthread_rwlock_wrlock(&c->lock);
        for (size_t i = 0; i < c->n_touched; i++) {
                ClusterNode *n = c->touched[i];
                if (committed) {
                        if (n->staged) {
                                if (!n->view)
                                        c->n_published++;
                                if (old)
                                        old[n_old++] = n->view;
                                else
                                        node_view_unref(n->view); /* OOM: free under the lock */
                                n->view = TAKE_PTR(n->staged);
                        }
                        n->stale = n->staged_stale;
                } else {
                        if (old)
                                old[n_old++] = n->staged;
                        else
                                node_view_unref(n->staged);
                        n->staged = NULL;
                        any_new = any_new || !n->view;
                }
                n->touched = false;
        }
        pthread_rwlock_unlock(&c->lock);

        if (committed && c->render_started)
                render_enqueue(c);
        c->n_touched = 0;

        /* Reports are freed outside the lock so readers never wait for it. */
        for (size_t i = 0; i < n_old; i++)
                node_view_unref(old[i]);
        if (any_new)
                cluster_remove_unpublished(c);
}

/* The check of report with the same name and target, or NULL. hint: where it usually is. */
static const Vigil__CheckResult *find_check(
        const Vigil__NodeReport *report, const Vigil__CheckResult *c, size_t hint) {
        if (!report)
                return NULL;
        if (hint < report->n_checks && streq_ptr(report->checks[hint]->name, c->name) &&
                streq_ptr(report->checks[hint]->target, c->target))
                return report->checks[hint];
        for (size_t i = 0; i < report->n_checks; i++)
                if (streq_ptr(report->checks[i]->name, c->name) &&
                        streq_ptr(report->checks[i]->target, c->target))
                        return report->checks[i];
        return NULL;
}

static int apply_one(Cluster *c, ClusterReport *item, usec_t now_mono, int64_t now_ms) {
        _cleanup_(node_view_unrefp) NodeView *v = NULL;
        Vigil__NodeReport *report = item->report;
        ClusterNode *n;
        ssize_t pos;
        int r;

        if (isempty(report->node))
                return -EINVAL;
        pos = cluster_find(c, report->node);
        if (pos >= 0)
                n = c->nodes[pos];
        else {
                r = cluster_insert(c, (size_t)(-pos - 1), report->node, &n);
                if (r < 0)
                        return r;
        }
        r = touch(c, n);
        if (r < 0)
                return r;

        /*
         * Log batches go by their own ids, whether the report is new or not: an agent resends each
         * batch until a report carrying it is acknowledged, and a resent report may carry batches
         * sealed since.
         */
        for (size_t i = 0; i < report->n_log_batches; i++) {
                r = store_apply_log_batch(
                        c->store, report->node, report->log_state_id, report->log_batches[i], now_ms);
                if (r < 0)
                        return r;
        }

        NodeView *cur = n->staged ?: n->view;
        if (cur && streq_ptr(cur->report->boot_id, report->boot_id) && report->seq <= cur->report->seq) {
                item->result = CLUSTER_DUPLICATE;
                report_free(report, item->arena);
                item->report = NULL;
                item->arena = NULL;
                return 0;
        }

        r = node_view_new(report, item->arena, now_ms, now_mono, &v);
        if (r < 0)
                return r;
        item->report = NULL;
        item->arena = NULL;

        if (cur && n->staged_stale) {
                char msg[96];
                snprintf(msg, sizeof(msg), "report received again after %s",
                        FORMAT_DURATION(
                                now_mono > cur->last_seen_mono ? now_mono - cur->last_seen_mono : 0));
                r = store_add_event(c->store,
                        &(StoreEvent){.time_ms = now_ms,
                                .node = report->node,
                                .check_name = "agent.report",
                                .from_status = "CRIT",
                                .to_status = "OK",
                                .message = msg});
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < report->n_checks; i++) {
                const Vigil__CheckResult *check = report->checks[i];
                const Vigil__CheckResult *prev = find_check(cur ? cur->report : NULL, check, i);
                VigilStatus to = check_status(check);

                if (prev ? check_status(prev) == to : to == VIGIL_OK)
                        continue;
                r = store_add_event(c->store,
                        &(StoreEvent){
                                .time_ms = now_ms,
                                .node = report->node,
                                .check_name = check->name,
                                .target = check->target,
                                .from_status = prev ? vigil_status_to_string(check_status(prev)) : "NONE",
                                .to_status = vigil_status_to_string(to),
                                .message = check->message,
                        });
                if (r < 0)
                        return r;
        }

        r = store_put_node(c->store,
                &(StoreNode){
                        .name = report->node,
                        .cluster = report->cluster,
                        .boot_id = report->boot_id,
                        .seq = report->seq,
                        .last_seen_ms = now_ms,
                        .interval_ms = report->interval_ms,
                        .status = vigil_status_to_string(v->status),
                        .stale = false,
                        .report = item->raw,
                        .report_size = item->raw_size,
                });
        if (r < 0)
                return r;

        node_view_unref(n->staged);
        n->staged = TAKE_PTR(v);
        n->staged_stale = false;
        item->result = CLUSTER_APPLIED;
        return 0;
}

int cluster_apply(Cluster *c, ClusterReport *items, size_t n, usec_t now_mono, int64_t now_ms) {
        int r;

        r = store_begin(c->store);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < n; i++) {
                r = apply_one(c, &items[i], now_mono, now_ms);
                if (r < 0)
                        goto fail;
        }
        r = store_commit(c->store);
        if (r < 0)
                goto fail;
        finish_batch(c, true);
        return 0;

fail:
        store_rollback(c->store);
        finish_batch(c, false);
        for (size_t i = 0; i < n; i++)
                if (items[i].report) {
                        report_free(items[i].report, items[i].arena);
                        items[i].report = NULL;
                        items[i].arena = NULL;
                }
        return r;
}

int cluster_sweep(Cluster *c, usec_t now_mono, int64_t now_ms) {
        size_t count = 0;
        int r;

        /* The writer is the only mutator, so it may read the published fields without the lock. */
        for (size_t i = 0; i < c->n_nodes; i++) {
                ClusterNode *n = c->nodes[i];
                if (!n->view || n->stale)
                        continue;
                usec_t age = now_mono > n->view->last_seen_mono ? now_mono - n->view->last_seen_mono : 0;
                if (age <= cluster_stale_window(c, n->view))
                        continue;
                if (count == 0) {
                        r = store_begin(c->store);
                        if (r < 0)
                                return r;
                }
                char msg[64];
                snprintf(msg, sizeof(msg), "no report for %" PRIu64 " s", age / USEC_PER_SEC);
                r = store_add_event(c->store,
                        &(StoreEvent){.time_ms = now_ms,
                                .node = n->name,
                                .check_name = "agent.report",
                                .from_status = "OK",
                                .to_status = "CRIT",
                                .message = msg});
                if (r >= 0)
                        r = store_set_stale(c->store, n->name, true);
                if (r >= 0)
                        r = touch(c, n);
                if (r < 0) {
                        store_rollback(c->store);
                        finish_batch(c, false);
                        return r;
                }
                n->staged_stale = true;
                count++;
        }
        if (count == 0)
                return 0;
        r = store_commit(c->store);
        if (r < 0) {
                store_rollback(c->store);
                finish_batch(c, false);
                return r;
        }
        finish_batch(c, true);
        return (int)MIN(count, (size_t)INT32_MAX);
}

int cluster_snapshot(Cluster *c, NodeRef **ret_refs, size_t *ret_n) {
        NodeRef *refs;
        size_t k = 0;

        pthread_rwlock_rdlock(&c->lock);
        refs = calloc(c->n_published ?: 1, sizeof(NodeRef));
        if (!refs) {
                pthread_rwlock_unlock(&c->lock);
                return -ENOMEM;
        }
        for (size_t i = 0; i < c->n_nodes && k < c->n_published; i++) {
                ClusterNode *n = c->nodes[i];
                if (!n->view)
                        continue;
                refs[k++] = (NodeRef){.view = node_view_ref(n->view), .stale = n->stale};
        }
        pthread_rwlock_unlock(&c->lock);
        *ret_refs = refs;
        *ret_n = k;
        return 0;
}

int cluster_get(Cluster *c, const char *name, NodeRef *ret) {
        int r = -ENOENT;

        pthread_rwlock_rdlock(&c->lock);
        ssize_t pos = cluster_find(c, name);
        if (pos >= 0 && c->nodes[pos]->view) {
                *ret = (NodeRef){.view = node_view_ref(c->nodes[pos]->view), .stale = c->nodes[pos]->stale};
                r = 0;
        }
        pthread_rwlock_unlock(&c->lock);
        return r;
}

size_t cluster_size(Cluster *c) {
        pthread_rwlock_rdlock(&c->lock);
        size_t n = c->n_published;
        pthread_rwlock_unlock(&c->lock);
        return n;
}

/* Counts status under the family name[0..len) of the list *families (n used, *n_alloc allocated). */
static int family_add(FamilyCount **families, size_t *n, size_t *n_alloc, const char *name, size_t len,
        VigilStatus status) {
        size_t i;
        for (i = 0; i < *n; i++)
                if ((*families)[i].len == len && memcmp((*families)[i].name, name, len) == 0)
                        break;
        if (i == *n) {
                if (*n == *n_alloc) {
                        size_t a = MAX(*n_alloc * 2, (size_t)8);
                        FamilyCount *p = realloc(*families, a * sizeof(FamilyCount));
                        if (!p)
                                return -ENOMEM;
                        *families = p;
                        *n_alloc = a;
                }
                (*families)[(*n)++] = (FamilyCount){.name = name, .len = len};
        }
        (*families)[i].count[status]++;
        return 0;
}

static int compare_families(const void *a, const void *b) {
        const FamilyCount *x = a, *y = b;
        int d = memcmp(x->name, y->name, MIN(x->len, y->len));
        return d ?: (x->len > y->len) - (x->len < y->len);
}

static int64_t detail_int(const Vigil__CheckResult *c, const char *key) {
        for (size_t i = 0; i < c->n_details; i++)
                if (streq_ptr(c->details[i]->key, key) &&
                        c->details[i]->value_case == VIGIL__DETAIL__VALUE_INT_VALUE)
                        return c->details[i]->int_value;
        return 0;
}

/* Counts one logs.errors check (target: the source) of node. */
static void logs_add(LogsSummary *l, const char *node, const Vigil__CheckResult *c) {
        VigilStatus st = vigil_status_from_proto(c->status);
        size_t at = l->n_failing;

        l->by_status[st]++;
        l->errors_last_hour += (uint64_t)MAX(detail_int(c, "errors_last_hour"), (int64_t)0);
        l->warnings_last_hour += (uint64_t)MAX(detail_int(c, "warnings_last_hour"), (int64_t)0);
        if (st != VIGIL_CRIT && st != VIGIL_WARN)
                return;
        /* CRIT sources before WARN ones; each kind in the order met (by node name). */
        while (st == VIGIL_CRIT && at > 0 && l->failing[at - 1].status == VIGIL_WARN)
                at--;
        if (at == CLUSTER_LOGS_LISTED)
                return;
        memmove(&l->failing[at + 1], &l->failing[at],
                (MIN(l->n_failing, (size_t)CLUSTER_LOGS_LISTED - 1) - at) * sizeof(LogSourceRef));
        l->failing[at] = (LogSourceRef){.node = node, .source = strempty(c->target), .status = st};
        l->n_failing = MIN(l->n_failing + 1, (size_t)CLUSTER_LOGS_LISTED);
}

UfsScope ufs_root_scope(const UfsRootSummary *r) {
        if (r->failing == 0)
                return UFS_SCOPE_NONE;
        return r->failing == r->nodes ? UFS_SCOPE_CLUSTER : UFS_SCOPE_NODE;
}

const char *ufs_scope_to_string(UfsScope s) {
        static const char *const names[] = {"none", "node", "cluster"};
        return s >= 0 && (size_t)s < ELEMENTSOF(names) ? names[s] : "none";
}

/* Counts one ufs.reachability check (target: the UFS root) of node. */
static void ufs_add(UfsSummary *u, const char *node, const Vigil__CheckResult *c) {
        const char *target = strempty(c->target);
        VigilStatus st = vigil_status_from_proto(c->status);
        UfsRootSummary *r = NULL;

        for (size_t i = 0; i < u->n && !r; i++)
                if (streq(u->roots[i].target, target))
                        r = &u->roots[i];
        if (!r) {
                if (u->n == CLUSTER_UFS_ROOTS) {
                        u->dropped++;
                        return;
                }
                r = &u->roots[u->n++];
                *r = (UfsRootSummary){.target = target};
        }
        r->nodes++;
        if (st == VIGIL_WARN)
                r->slow++;
        if (st != VIGIL_CRIT && st != VIGIL_UNKNOWN)
                return;
        if (r->failing < CLUSTER_UFS_NODES_LISTED)
                r->failing_nodes[r->failing] = node;
        if (r->failing == 0) {
                r->error_code = strempty(c->error_code);
                r->message = strempty(c->message);
        }
        r->failing++;
}

/* Adds what the node of ref contributes to the families of s (nodes) and to its check families. */
static int summarize_families(
        ClusterSummary *s, size_t *n_alloc, size_t *n_checks_alloc, const NodeRef *ref) {
        const NodeView *v = ref->view;
        int r;

        r = family_add(
                &s->families, &s->n_families, n_alloc, "agent", 5, ref->stale ? VIGIL_CRIT : VIGIL_OK);
        for (size_t j = 0; r >= 0 && j < v->n_families; j++)
                r = family_add(&s->families, &s->n_families, n_alloc, v->families[j].name,
                        v->families[j].len, v->families[j].status);
        if (r >= 0)
                r = family_add(&s->check_families, &s->n_check_families, n_checks_alloc, "agent", 5,
                        ref->stale ? VIGIL_CRIT : VIGIL_OK);
        for (size_t j = 0; r >= 0 && !ref->stale && j < v->report->n_checks; j++) {
                const char *name = strempty(v->report->checks[j]->name);
                r = family_add(&s->check_families, &s->n_check_families, n_checks_alloc, name,
                        family_len(name), check_status(v->report->checks[j]));
        }
        return r;
}

int cluster_summarize(const NodeRef *refs, size_t n, ClusterSummary *ret) {
        ClusterSummary s = {
                .cluster = "", .status = n > 0 ? VIGIL_OK : VIGIL_UNKNOWN, .expected = (unsigned)n};
        size_t n_alloc = 0, n_checks_alloc = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                const NodeView *v = refs[i].view;
                VigilStatus st = node_ref_status(&refs[i]);

                s.status = vigil_status_worst(s.status, st);
                s.by_status[st]++;
                if (refs[i].stale)
                        s.stale++;
                else
                        s.ready++;
                if (isempty(s.cluster) && !isempty(v->report->cluster))
                        s.cluster = v->report->cluster;
                /* "csi plugins: N ready / M expected", the way operators count the node plugin pods. */
                for (size_t j = 0; !refs[i].stale && j < v->report->n_checks; j++)
                        if (streq(v->report->checks[j]->name, "csi.probe")) {
                                s.csi_expected++;
                                s.csi_ready +=
                                        vigil_status_from_proto(v->report->checks[j]->status) == VIGIL_OK;
                        } else if (streq(v->report->checks[j]->name, "logs.errors"))
                                logs_add(&s.logs, v->report->node, v->report->checks[j]);
                        else if (streq(v->report->checks[j]->name, "ufs.reachability"))
                                ufs_add(&s.ufs, v->report->node, v->report->checks[j]);
                r = summarize_families(&s, &n_alloc, &n_checks_alloc, &refs[i]);
                if (r >= 0 && !refs[i].stale && v->metrics_endpoints > 0)
                        r = metrics_summary_add_report(&s.metrics, v->report);
                if (r < 0) {
                        cluster_summary_done(&s);
                        return r;
                }
        }
        if (s.families)
                qsort(s.families, s.n_families, sizeof(FamilyCount), compare_families);
        if (s.check_families)
                qsort(s.check_families, s.n_check_families, sizeof(FamilyCount), compare_families);
        metrics_summary_finish(&s.metrics);
        s.percent = n > 0 ? 100.0 * s.ready / (double)n : 0.0;
        *ret = s;
        return 0;
}

void cluster_summary_done(ClusterSummary *s) {
        s->families = mfree(s->families);
        s->n_families = 0;
        s->check_families = mfree(s->check_families);
        s->n_check_families = 0;
        metrics_summary_done(&s->metrics);
}

int cluster_snapshot_summary(Cluster *c, NodeRef **ret_refs, size_t *ret_n, ClusterSummary *ret) {
        NodeRef *refs = NULL;
        size_t n = 0;
        int r;

        r = cluster_snapshot(c, &refs, &n);
        if (r < 0)
                return r;
        r = cluster_summarize(refs, n, ret);
        if (r < 0) {
                node_refs_free(refs, n);
                return r;
        }
        *ret_refs = refs;
        *ret_n = n;
        return 0;
}
