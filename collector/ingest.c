/* SPDX-License-Identifier: MIT */
#include <pthread.h>

#include "ingest.h"

#define PRUNE_INTERVAL (60 * USEC_PER_SEC)
#define PRUNE_BATCH 10000u

struct Ingest {
        Cluster *cluster;
        Store *store;
        IngestOptions options;

        pthread_mutex_t lock;
        pthread_cond_t wake; /* writer: work queued or stop */
        pthread_cond_t idle; /* waiters of ingest_wait_idle() */
        IngestRequest *head, **tail;
        bool busy; /* the writer is applying a batch */
        bool closed; /* no more submissions */
        bool stop; /* writer: exit once the queue is empty */
        struct Job *jobs; /* ingest_submit_job(), oldest first */
        struct Job **jobs_tail;
        bool started; /* thread exists */
        pthread_t thread;

        int64_t metrics_minute; /* writer: the wall-clock minute last recorded (0: none yet) */

        ClusterReport *items; /* writer's batch buffer */
        size_t n_items_alloc;
};

static usec_t now_mono(void) {
        return now_usec(CLOCK_MONOTONIC);
}

static int64_t now_wall_ms(void) {
        return (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
}

static void apply_batch(Ingest *i, IngestRequest *batch) {
        size_t n = 0;
        int r;

        for (IngestRequest *q = batch; q; q = q->next)
                n++;
        if (n > i->n_items_alloc) {
                size_t a = MAX(n, i->n_items_alloc * 2);
                ClusterReport *p = realloc(i->items, a * sizeof(ClusterReport));
                if (p) {
                        i->items = p;
                        i->n_items_alloc = a;
                }
        }
        if (n <= i->n_items_alloc) {
                size_t k = 0;
                for (IngestRequest *q = batch; q; q = q->next)
                        i->items[k++] = q->item;
                r = cluster_apply(i->cluster, i->items, n, now_mono(), now_wall_ms());
                k = 0;
                for (IngestRequest *q = batch; q; q = q->next) {
                        q->item = i->items[k++];
                        q->r = r;
                }
        } else
                /* No memory for a batch: apply one by one rather than fail them all. */
                for (IngestRequest *q = batch; q; q = q->next)
                        q->r = cluster_apply(i->cluster, &q->item, 1, now_mono(), now_wall_ms());

        for (IngestRequest *q = batch, *next; q; q = next) {
                next = q->next; /* q belongs to its submitter again once done() runs */
                q->next = NULL;
                q->done(q);
        }
}

/* Milliseconds of wall clock before which rows are older than retention. */
static int64_t retention_cutoff_ms(usec_t retention) {
        return now_wall_ms() - (int64_t)MIN(retention / USEC_PER_MSEC, (usec_t)INT64_MAX / 2);
}

/* One pass of the retention, in a transaction of its own; returns the rows deleted or -errno. */
static int prune(Ingest *i) {
        const IngestOptions *o = &i->options;
        int r, total = 0;

        r = store_begin(i->store);
        if (r >= 0 && (o->events_retention > 0 || o->events_max_rows > 0)) {
                r = store_prune_events(i->store,
                        o->events_retention > 0 ? retention_cutoff_ms(o->events_retention) : INT64_MIN,
                        o->events_max_rows, PRUNE_BATCH);
                total += MAX(r, 0);
        }
        if (r >= 0 && o->logs_retention > 0) {
                r = store_prune_logs(i->store, retention_cutoff_ms(o->logs_retention), PRUNE_BATCH);
                total += MAX(r, 0);
        }
        if (r >= 0 && o->metrics_retention > 0) {
                r = store_prune_metric_points(
                        i->store, retention_cutoff_ms(o->metrics_retention), PRUNE_BATCH);
                total += MAX(r, 0);
        }
        if (r >= 0)
                r = store_commit(i->store);
        if (r < 0) {
                store_rollback(i->store);
                return r;
        }
        return total;
}

static void background_work(Ingest *i, usec_t *next_prune) {
        const IngestOptions *o = &i->options;
        int r;

        r = cluster_sweep(i->cluster, now_mono(), now_wall_ms());
        if (r < 0 && o->on_error)
                o->on_error("mark stale nodes", r);

        /* After the sweep, so that a node that just went stale is not in this minute's points. */
        int64_t now_ms = now_wall_ms(), minute = now_ms / 60000;
        if (o->metrics && minute != i->metrics_minute) {
                i->metrics_minute = minute;
                r = metrics_history_record(o->metrics, i->cluster, i->store, now_ms);
                if (r < 0 && o->on_error)
                        o->on_error("record the metrics history", r);
        }

        if (now_mono() < *next_prune ||
                (o->events_retention == 0 && o->events_max_rows == 0 && o->logs_retention == 0 &&
                        o->metrics_retention == 0))
                return;
        *next_prune = now_mono() + PRUNE_INTERVAL;
        r = prune(i);
        if (r < 0) {
                if (o->on_error)
                        o->on_error("prune old events, log findings and metrics history", r);
        } else if ((unsigned)r >= PRUNE_BATCH)
                *next_prune = now_mono(); /* more to delete: continue at the next sweep */
}

typedef struct Job {
        int (*run)(Store *store, void *userdata);
        void *userdata;
        void (*free_fn)(void *userdata);
        struct Job *next;
} Job;

static void run_jobs(Ingest *i, Job *jobs) {
        for (Job *j = jobs, *next; j; j = next) {
                next = j->next;
                int r = store_begin(i->store);
                if (r >= 0)
                        r = j->run(i->store, j->userdata);
                if (r >= 0)
                        r = store_commit(i->store);
                if (r < 0) {
                        store_rollback(i->store);
                        if (i->options.on_error)
                                i->options.on_error("write cluster-level state", r);
                }
                if (j->free_fn)
                        j->free_fn(j->userdata);
                free(j);
        }
}

int ingest_submit_job(Ingest *i, int (*run)(Store *store, void *userdata), void *userdata,
        void (*free_fn)(void *userdata)) {
        Job *j = calloc(1, sizeof(Job));
        if (!j) {
                if (free_fn)
                        free_fn(userdata);
                return -ENOMEM;
        }
        *j = (Job){.run = run, .userdata = userdata, .free_fn = free_fn};
        pthread_mutex_lock(&i->lock);
        if (i->closed) {
                pthread_mutex_unlock(&i->lock);
                if (free_fn)
                        free_fn(userdata);
                free(j);
                return -ESHUTDOWN;
        }
        *i->jobs_tail = j;
        i->jobs_tail = &j->next;
        pthread_cond_signal(&i->wake);
        pthread_mutex_unlock(&i->lock);
        return 0;
}

static void *writer_thread(void *userdata) {
        Ingest *i = userdata;
        usec_t next_sweep = now_mono() + i->options.sweep_interval, next_prune = now_mono();

        (void)pthread_setname_np(pthread_self(), "vigil-writer");

        pthread_mutex_lock(&i->lock);
        for (;;) {
                if (i->head) {
                        IngestRequest *batch = i->head;
                        i->head = NULL;
                        i->tail = &i->head;
                        i->busy = true;
                        pthread_mutex_unlock(&i->lock);

                        apply_batch(i, batch);

                        pthread_mutex_lock(&i->lock);
                        i->busy = false;
                        /* More arrived while this batch was applied: ingest is saturated. */
                        cluster_set_busy(i->cluster, i->head != NULL);
                        if (!i->head)
                                pthread_cond_broadcast(&i->idle);
                        continue;
                }
                if (i->jobs) {
                        Job *jobs = i->jobs;
                        i->jobs = NULL;
                        i->jobs_tail = &i->jobs;
                        i->busy = true;
                        pthread_mutex_unlock(&i->lock);
                        run_jobs(i, jobs);
                        pthread_mutex_lock(&i->lock);
                        i->busy = false;
                        if (!i->head)
                                pthread_cond_broadcast(&i->idle);
                        continue;
                }
                if (i->stop)
                        break;
                usec_t now = now_mono();
                if (now >= next_sweep) {
                        pthread_mutex_unlock(&i->lock);
                        background_work(i, &next_prune);
                        pthread_mutex_lock(&i->lock);
                        next_sweep = now_mono() + i->options.sweep_interval;
                        continue;
                }
                struct timespec ts = {
                        .tv_sec = (time_t)(next_sweep / USEC_PER_SEC),
                        .tv_nsec = (long)(next_sweep % USEC_PER_SEC) * 1000,
                };
                pthread_cond_timedwait(&i->wake, &i->lock, &ts);
        }
        pthread_mutex_unlock(&i->lock);
        return NULL;
}

Ingest *ingest_free(Ingest *i) {
        if (!i)
                return NULL;
        if (i->started) {
                pthread_mutex_lock(&i->lock);
                i->closed = true;
                i->stop = true;
                pthread_cond_signal(&i->wake);
                pthread_mutex_unlock(&i->lock);
                pthread_join(i->thread, NULL);
        }
        pthread_cond_destroy(&i->wake);
        pthread_cond_destroy(&i->idle);
        pthread_mutex_destroy(&i->lock);
        free(i->items);
        return mfree(i);
}

int ingest_new(Cluster *c, Store *store, const IngestOptions *o, Ingest **ret) {
        _cleanup_(ingest_freep) Ingest *i = calloc(1, sizeof(Ingest));
        pthread_condattr_t attr;
        int r;

        if (!i)
                return -ENOMEM;
        i->cluster = c;
        i->store = store;
        if (o)
                i->options = *o;
        if (i->options.sweep_interval == 0)
                i->options.sweep_interval = USEC_PER_SEC;
        i->tail = &i->head;
        i->jobs_tail = &i->jobs;
        pthread_mutex_init(&i->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&i->wake, &attr);
        pthread_condattr_destroy(&attr);
        pthread_cond_init(&i->idle, NULL);

        r = pthread_create(&i->thread, NULL, writer_thread, i);
        if (r != 0)
                return -r;
        i->started = true;
        *ret = TAKE_PTR(i);
        return 0;
}

int ingest_submit(Ingest *i, IngestRequest *req) {
        pthread_mutex_lock(&i->lock);
        if (i->closed) {
                pthread_mutex_unlock(&i->lock);
                return -ESHUTDOWN;
        }
        req->next = NULL;
        *i->tail = req;
        i->tail = &req->next;
        /* Only a writer waiting for work needs the signal; a busy one looks at the queue anyway. */
        if (!i->busy)
                pthread_cond_signal(&i->wake);
        pthread_mutex_unlock(&i->lock);
        return 0;
}

void ingest_close(Ingest *i) {
        pthread_mutex_lock(&i->lock);
        i->closed = true;
        pthread_mutex_unlock(&i->lock);
}

void ingest_wait_idle(Ingest *i) {
        pthread_mutex_lock(&i->lock);
        while (i->head || i->jobs || i->busy)
                pthread_cond_wait(&i->idle, &i->lock);
        pthread_mutex_unlock(&i->lock);
}
