/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "log.h"
#include "scheduler.h"

/* Deadlines are what "hung" is measured against: keep them tight. */
#define DEADLINE_ACCURACY USEC_PER_MSEC

typedef struct Instance Instance;

struct Instance {
        Scheduler *scheduler;
        ProbeTarget target;
        usec_t timeout;
        void *state;

        pid_t pid; /* 0: no child */
        usec_t child_started; /* CLOCK_MONOTONIC */
        bool killed; /* SIGKILL sent at the deadline */
        bool in_cycle; /* results for the current cycle still to come */
        bool dropped; /* no longer configured: freed when its child is reaped */
        sd_event_source *child_source;
        sd_event_source *deadline_source;
        CheckList results;
};

struct Scheduler {
        sd_event *event;
        Instance **instances;
        size_t n_instances;
        Instance **dropped; /* removed instances whose child is still alive */
        size_t n_dropped;
        unsigned pending;
        bool busy;
        scheduler_cycle_fn done;
        void *userdata;
        CheckResult **view; /* borrowed pointers, rebuilt by scheduler_results() */
};

static Instance *instance_free(Instance *i) {
        if (!i)
                return NULL;
        sd_event_source_disable_unref(i->child_source);
        sd_event_source_disable_unref(i->deadline_source);
        check_list_clear(&i->results);
        probe_stop(i->target.ops, i->state);
        probe_free(i->target.ops, i->state);
        probe_target_done(&i->target);
        return mfree(i);
}

static void instance_finish(Instance *i) {
        Scheduler *s = i->scheduler;
        if (!i->in_cycle)
                return;
        i->in_cycle = false;
        if (--s->pending == 0 && s->busy) {
                s->busy = false;
                s->done(s, s->userdata);
        }
}

/* Replaces the instance's results by what its probe makes of outcome. */
static void instance_collect(Instance *i, const ProbeOutcome *o) {
        int r;
        check_list_clear(&i->results);
        r = i->target.ops->collect(i->state, i->target.settings, o, &i->results);
        if (r < 0) {
                /* A probe that cannot even say what happened is UNKNOWN, never silently absent. */
                CheckResult *c = check_new(i->target.ops->name, i->target.target);
                if (c &&
                        check_set(c, VIGIL_UNKNOWN, -r, NULL, "probe failed to report: %s", strerror(-r)) >=
                                0 &&
                        check_list_add(&i->results, c) >= 0)
                        c = NULL;
                check_free(c);
        }
        instance_finish(i);
}

static void drop_from_list(Scheduler *s, Instance *i) {
        for (size_t k = 0; k < s->n_dropped; k++)
                if (s->dropped[k] == i) {
                        s->dropped[k] = s->dropped[--s->n_dropped];
                        return;
                }
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata) {
        Instance *i = userdata;

        i->child_source = sd_event_source_disable_unref(i->child_source);
        i->deadline_source = sd_event_source_disable_unref(i->deadline_source);
        usec_t age = now_usec(CLOCK_MONOTONIC) - i->child_started;
        i->pid = 0;

        if (i->killed) {
                /* Reaped after its deadline was reported: nothing more to say. */
                log_debug("probe %s %s: child %d reaped %s after start", i->target.ops->name,
                        i->target.target, (int)si->si_pid, FORMAT_DURATION(age));
                i->killed = false;
                if (i->dropped) {
                        drop_from_list(i->scheduler, i);
                        instance_free(i);
                }
                return 0;
        }
        ProbeOutcome o = {
                .kind = PROBE_EXITED,
                .child_code = si->si_code,
                .child_status = si->si_status,
                .elapsed = age,
                .timeout = i->timeout,
        };
        instance_collect(i, &o);
        return 0;
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata) {
        Instance *i = userdata;

        i->deadline_source = sd_event_source_disable_unref(i->deadline_source);
        if (i->pid <= 0)
                return 0;
        probe_deadline(i->target.ops, i->state);
        /* SIGKILL ends a wait on a request the daemon has not read yet; if the daemon read it and
         * never answers, the child stays in D state and the child source reaps it whenever. */
        (void)kill(i->pid, SIGKILL);
        i->killed = true;
        ProbeOutcome o = {
                .kind = PROBE_TIMED_OUT,
                .pid = i->pid,
                .elapsed = now_usec(CLOCK_MONOTONIC) - i->child_started,
                .timeout = i->timeout,
        };
        instance_collect(i, &o);
        return 0;
}

_noreturn_ static void child_main(Instance *i) {
        sigset_t all;

        /* If the agent dies, so does the probe (when it can still die). */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Hold none of the agent's sockets or files: a stuck child must not keep them open. That
         * includes its standard output and error: a child stuck in the kernel would keep a pipe
         * from `vigil-agent --once | ...` open, and its reader waiting, long after the agent
         * exited. Children report through shared memory only. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                for (int fd = 0; fd <= 2; fd++)
                        (void)dup2(null, fd);
        }
        (void)close_range(3, ~0U, 0);
        sigemptyset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, NULL);
        _exit(i->target.ops->run(i->state, i->target.settings));
}

static void instance_start(Instance *i) {
        Scheduler *s = i->scheduler;
        int r;

        i->in_cycle = true;
        s->pending++;

        if (i->pid > 0) {
                ProbeOutcome o = {
                        .kind = PROBE_STUCK,
                        .pid = i->pid,
                        .elapsed = now_usec(CLOCK_MONOTONIC) - i->child_started,
                        .timeout = i->timeout,
                };
                instance_collect(i, &o);
                return;
        }
        r = i->target.ops->start(i->state, i->target.settings);
        if (r != 0) {
                ProbeOutcome o = {.kind = r > 0 ? PROBE_NO_CHILD : PROBE_FORK_FAILED, .error = r};
                instance_collect(i, &o);
                return;
        }

        pid_t pid = fork();
        if (pid < 0) {
                ProbeOutcome o = {.kind = PROBE_FORK_FAILED, .error = -errno};
                instance_collect(i, &o);
                return;
        }
        if (pid == 0)
                child_main(i);

        i->pid = pid;
        i->killed = false;
        i->child_started = now_usec(CLOCK_MONOTONIC);
        r = sd_event_add_child(s->event, &i->child_source, pid, WEXITED, on_child, i);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &i->deadline_source, CLOCK_MONOTONIC, i->timeout,
                        DEADLINE_ACCURACY, on_deadline, i);
        if (r < 0) {
                /* Cannot watch it: kill and reap synchronously rather than leak it. */
                (void)kill(pid, SIGKILL);
                i->child_source = sd_event_source_disable_unref(i->child_source);
                (void)waitpid(pid, NULL, 0);
                i->pid = 0;
                ProbeOutcome o = {.kind = PROBE_FORK_FAILED, .error = r};
                instance_collect(i, &o);
        }
}

int scheduler_new(sd_event *event, scheduler_cycle_fn done, void *userdata, Scheduler **ret) {
        Scheduler *s = calloc(1, sizeof(Scheduler));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->done = done;
        s->userdata = userdata;
        *ret = s;
        return 0;
}

static void kill_child(Instance *i) {
        if (i->pid > 0)
                (void)kill(i->pid, SIGKILL);
}

Scheduler *scheduler_free(Scheduler *s) {
        if (!s)
                return NULL;
        for (size_t k = 0; k < s->n_instances; k++) {
                kill_child(s->instances[k]);
                instance_free(s->instances[k]);
        }
        for (size_t k = 0; k < s->n_dropped; k++) {
                kill_child(s->dropped[k]);
                instance_free(s->dropped[k]);
        }
        free(s->instances);
        free(s->dropped);
        free(s->view);
        sd_event_unref(s->event);
        return mfree(s);
}

static Instance *find_instance(Scheduler *s, const ProbeTarget *t) {
        for (size_t k = 0; k < s->n_instances; k++)
                if (s->instances[k] && s->instances[k]->target.ops == t->ops &&
                        streq(s->instances[k]->target.target, t->target))
                        return s->instances[k];
        return NULL;
}

int scheduler_set_targets(Scheduler *s, ProbeTarget *targets, size_t n, usec_t default_timeout) {
        _cleanup_(freep) Instance **next = calloc(n ?: 1, sizeof(Instance *));
        int r;

        if (s->busy)
                return -EBUSY;
        if (!next)
                return -ENOMEM;
        /* Make every new instance first, so a failure leaves the old set untouched. */
        for (size_t k = 0; k < n; k++) {
                if (find_instance(s, &targets[k]))
                        continue;
                Instance *i = calloc(1, sizeof(Instance));
                if (!i)
                        r = -ENOMEM;
                else
                        r = targets[k].ops->init(targets[k].target, &i->state);
                if (r < 0) {
                        free(i);
                        for (size_t j = 0; j < k; j++)
                                if (next[j]) {
                                        probe_free(next[j]->target.ops, next[j]->state);
                                        free(next[j]);
                                }
                        return r;
                }
                i->scheduler = s;
                next[k] = i;
        }
        Instance **dropped = realloc(s->dropped, sizeof(Instance *) * (s->n_dropped + s->n_instances + 1));
        if (!dropped)
                return -ENOMEM;
        s->dropped = dropped;

        for (size_t k = 0; k < n; k++) {
                Instance *i = next[k] ?: find_instance(s, &targets[k]);
                if (!next[k]) {
                        /* Keep state and any stuck child; take the new settings. */
                        for (size_t j = 0; j < s->n_instances; j++)
                                if (s->instances[j] == i)
                                        s->instances[j] = NULL;
                        probe_target_done(&i->target);
                }
                i->target = targets[k];
                targets[k] = (ProbeTarget){};
                i->timeout = i->target.timeout ?: default_timeout;
                next[k] = i;
        }
        for (size_t j = 0; j < s->n_instances; j++) {
                Instance *old = s->instances[j];
                if (!old)
                        continue;
                if (old->pid > 0) {
                        old->dropped = true;
                        old->killed = true;
                        kill_child(old);
                        s->dropped[s->n_dropped++] = old;
                } else
                        instance_free(old);
        }
        free(s->instances);
        s->instances = TAKE_PTR(next);
        s->n_instances = n;
        return 0;
}

int scheduler_add_target(Scheduler *s, ProbeTarget *t) {
        int r;

        if (s->busy)
                return -EBUSY;
        if (find_instance(s, t))
                return 0;
        Instance **v = realloc(s->instances, sizeof(Instance *) * (s->n_instances + 1));
        if (!v)
                return -ENOMEM;
        s->instances = v;
        Instance *i = calloc(1, sizeof(Instance));
        if (!i)
                return -ENOMEM;
        r = t->ops->init(t->target, &i->state);
        if (r < 0) {
                free(i);
                return r;
        }
        i->scheduler = s;
        i->target = *t;
        *t = (ProbeTarget){};
        i->timeout = i->target.timeout;
        s->instances[s->n_instances++] = i;
        return 1;
}

int scheduler_start_cycle(Scheduler *s) {
        if (s->busy)
                return -EBUSY;
        s->busy = true;
        s->pending = 1; /* held until every instance has started, so done() fires once */
        for (size_t k = 0; k < s->n_instances; k++)
                instance_start(s->instances[k]);
        if (--s->pending == 0) {
                s->busy = false;
                s->done(s, s->userdata);
        }
        return 0;
}

bool scheduler_busy(const Scheduler *s) {
        return s->busy;
}

int scheduler_results(Scheduler *s, CheckResult ***ret_checks, size_t *ret_n) {
        size_t n = 0;
        for (size_t k = 0; k < s->n_instances; k++)
                n += s->instances[k]->results.n;
        CheckResult **v = realloc(s->view, sizeof(CheckResult *) * (n + 1));
        if (!v)
                return -ENOMEM;
        s->view = v;
        n = 0;
        for (size_t k = 0; k < s->n_instances; k++)
                for (size_t j = 0; j < s->instances[k]->results.n; j++)
                        v[n++] = s->instances[k]->results.items[j];
        *ret_checks = v;
        *ret_n = n;
        return 0;
}
