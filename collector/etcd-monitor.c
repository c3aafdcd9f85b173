/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <pthread.h>

#include "etcd-monitor.h"
#include "json-util.h"

#define MAX_CHECKS 8

struct EtcdMonitor {
        const EtcdConfig *config;
        usec_t interval;
        EtcdMonitorHooks hooks;
        pthread_t thread;
        bool thread_started;

        pthread_mutex_t lock; /* guards everything below */
        pthread_cond_t wake;
        bool stopping;
        EtcdOutage outage;
        char *json; /* latest snapshot document, rendered (json-c objects are not safe to share) */
        EtcdSummary summary;
        struct {
                char name[32];
                char target[256];
                VigilStatus status;
        } last[MAX_CHECKS]; /* statuses of the previous cycle, for events */
        size_t n_last;
};

static int64_t now_ms(void) {
        return (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
}

/* The previous status of check name on target; UNKNOWN-as-"NONE" is signalled by -1. */
static int previous(EtcdMonitor *m, const char *name, const char *target) {
        for (size_t i = 0; i < m->n_last; i++)
                if (streq(m->last[i].name, name) && streq(m->last[i].target, target))
                        return m->last[i].status;
        return -1;
}

static void emit_changes(EtcdMonitor *m, const CheckList *checks, int64_t t) {
        typeof(m->last) next;
        size_t n = 0;

        for (size_t i = 0; i < checks->n && n < MAX_CHECKS; i++) {
                const CheckResult *c = checks->items[i];
                VigilStatus now = check_status(c);
                int before = previous(m, c->name, c->target);
                /* A check first seen OK is no news; first seen failing, or changed, is an event. */
                if ((before < 0 && now != VIGIL_OK) || (before >= 0 && (VigilStatus)before != now)) {
                        if (m->hooks.event)
                                (void)m->hooks.event(m->hooks.userdata, t, c->name, c->target,
                                        before < 0 ? _VIGIL_STATUS_INVALID : (VigilStatus)before, now,
                                        c->message);
                }
                snprintf(next[n].name, sizeof(next[n].name), "%s", c->name);
                snprintf(next[n].target, sizeof(next[n].target), "%s", c->target);
                next[n].status = now;
                n++;
        }
        memcpy(m->last, next, sizeof(next[0]) * n);
        m->n_last = n;
}

static void summarize(
        const EtcdSnapshot *s, const CheckList *checks, const EtcdOutage *outage, EtcdSummary *ret) {
        EtcdSummary sum = {
                .checked = true,
                .status = check_list_worst(checks),
                .ready = s->ready,
                .expected = s->expected,
                .percent = etcd_percent(s->ready, s->expected),
                .quorum = s->quorum,
                .live = s->n_live,
                .registered = s->n_registered,
                .failed = s->n_failed,
                .outage_since_ms = outage->since_ms,
        };
        if (s->leader_name)
                snprintf(sum.leader, sizeof(sum.leader), "%s", s->leader_name);
        else if (s->leader_id)
                snprintf(sum.leader, sizeof(sum.leader), "%" PRIx64, s->leader_id);
        const CheckResult *worst = NULL;
        for (size_t i = 0; i < checks->n; i++)
                sum.checks[check_status(checks->items[i])]++;
        for (size_t i = 0; i < checks->n; i++)
                if (!worst ||
                        vigil_status_severity(check_status(checks->items[i])) >
                                vigil_status_severity(check_status(worst)))
                        worst = checks->items[i];
        if (worst)
                snprintf(sum.message, sizeof(sum.message), "%s", worst->message);
        *ret = sum;
}

/* One cycle: check, advance the outage clock, persist and report, publish. */
static void cycle(EtcdMonitor *m) {
        _cleanup_(etcd_snapshot_freep) EtcdSnapshot *s = NULL;
        _cleanup_(strv_freep) char **nodes = NULL;
        CheckList checks = {};
        int64_t ended_after = 0, t;
        int r;

        if (etcd_check_run(m->config, &s) < 0)
                return;
        t = now_ms();

        pthread_mutex_lock(&m->lock);
        EtcdOutage outage = m->outage;
        pthread_mutex_unlock(&m->lock);
        r = etcd_outage_update(&outage, etcd_snapshot_available(s), t, &ended_after);
        if ((r == ETCD_OUTAGE_BEGAN || r == ETCD_OUTAGE_ENDED) && m->hooks.save_outage)
                (void)m->hooks.save_outage(m->hooks.userdata, outage.since_ms);
        if (r == ETCD_OUTAGE_ENDED && m->hooks.event) {
                _cleanup_(freep) char *msg = NULL;
                if (etcd_outage_ended_message(ended_after, &msg) >= 0)
                        (void)m->hooks.event(m->hooks.userdata, t, "etcd.outage", s->live_prefix, VIGIL_CRIT,
                                VIGIL_OK, msg);
        }

        if (etcd_snapshot_checks(s, &outage, t, &checks) < 0)
                return;
        if (m->hooks.agent_nodes)
                nodes = m->hooks.agent_nodes(m->hooks.userdata);
        EtcdCrossCheck x = {};
        CheckResult *agents = NULL;
        if (etcd_cross_check(s, nodes, &x) >= 0 && etcd_cross_check_result(s, &x, &agents) >= 0 &&
                check_list_add(&checks, agents) < 0)
                check_free(agents);
        etcd_cross_check_done(&x);

        json_object *doc = NULL;
        if (etcd_snapshot_to_json(s, &outage, t, &doc) >= 0) {
                /* The document's checks are etcd_snapshot_checks(); add the cross-check to them. */
                json_object *arr = NULL;
                if (agents && json_object_object_get_ex(doc, "checks", &arr))
                        json_object_array_add(arr, check_result_to_json(agents));
                /* ... and let it count in the document's status, as it does in the summary. */
                json_object_object_add(doc, "status",
                        json_object_new_string(vigil_status_to_string(check_list_worst(&checks))));
        }

        char *text = doc ? strdup(json_object_to_json_string_ext(
                                   doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
                         : NULL;
        json_object_put(doc);

        pthread_mutex_lock(&m->lock);
        m->outage = outage;
        emit_changes(m, &checks, t);
        summarize(s, &checks, &outage, &m->summary);
        if (text) {
                free(m->json);
                m->json = text;
        }
        pthread_mutex_unlock(&m->lock);
        check_list_clear(&checks);
}

static void *thread_main(void *userdata) {
        EtcdMonitor *m = userdata;

        pthread_mutex_lock(&m->lock);
        while (!m->stopping) {
                pthread_mutex_unlock(&m->lock);
                cycle(m);
                pthread_mutex_lock(&m->lock);
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                usec_t end =
                        (usec_t)until.tv_sec * USEC_PER_SEC + (usec_t)until.tv_nsec / 1000 + m->interval;
                until.tv_sec = (time_t)(end / USEC_PER_SEC);
                until.tv_nsec = (long)(end % USEC_PER_SEC) * 1000;
                /* Sleep the interval; etcd_monitor_stop() wakes it early. */
                while (!m->stopping && pthread_cond_timedwait(&m->wake, &m->lock, &until) == 0)
                        ;
        }
        pthread_mutex_unlock(&m->lock);
        return NULL;
}

int etcd_monitor_start(const EtcdConfig *c, usec_t interval, int64_t outage_since_ms,
        const EtcdMonitorHooks *hooks, EtcdMonitor **ret) {
        EtcdMonitor *m = calloc(1, sizeof(EtcdMonitor));
        pthread_condattr_t attr;
        int r;

        if (!m)
                return -ENOMEM;
        m->config = c;
        m->interval = interval;
        m->hooks = *hooks;
        m->outage.since_ms = outage_since_ms;
        pthread_mutex_init(&m->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&m->wake, &attr);
        pthread_condattr_destroy(&attr);
        r = pthread_create(&m->thread, NULL, thread_main, m);
        if (r != 0) {
                etcd_monitor_stop(m);
                return -r;
        }
        m->thread_started = true;
        *ret = m;
        return 0;
}

EtcdMonitor *etcd_monitor_stop(EtcdMonitor *m) {
        if (!m)
                return NULL;
        if (m->thread_started) {
                pthread_mutex_lock(&m->lock);
                m->stopping = true;
                pthread_cond_broadcast(&m->wake);
                pthread_mutex_unlock(&m->lock);
                pthread_join(m->thread, NULL);
        }
        free(m->json);
        pthread_cond_destroy(&m->wake);
        pthread_mutex_destroy(&m->lock);
        return mfree(m);
}

int etcd_monitor_json(EtcdMonitor *m, char **ret) {
        pthread_mutex_lock(&m->lock);
        bool have = m->json;
        char *copy = have ? strdup(m->json) : NULL;
        pthread_mutex_unlock(&m->lock);
        if (!have)
                return -EAGAIN;
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

void etcd_monitor_summary(EtcdMonitor *m, EtcdSummary *ret) {
        pthread_mutex_lock(&m->lock);
        *ret = m->summary;
        pthread_mutex_unlock(&m->lock);
}
