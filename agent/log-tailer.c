/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "log-journal.h"
#include "log-tailer.h"
#include "log.h"
#include "time-util.h"

/* Bytes read per source before the loop gets a turn again. */
#define SLICE (4 * 1024 * 1024)
#define DEFAULT_RESCAN (10 * USEC_PER_SEC)
#define POLL_INTERVAL USEC_PER_SEC

typedef struct Tailed {
        LogTailer *tailer;
        LogSource *source;
        char *dir; /* the directory watched for it (NULL: journal) */
        sd_event_source *watch; /* inotify or journal io; NULL: polled */
        bool seen; /* pods: found by the latest rescan */
        bool polled_said; /* the log said this source is polled */
} Tailed;

struct LogTailer {
        sd_event *event;
        LogTailerConfig c;
        char **pod_globs, **log_files, **journal_units; /* owned copies */
        char *pods_log_dir, *journal_dir, *state_dir;
        LogState *state;
        Tailed *sources;
        size_t n_sources;
        sd_event_source *pump; /* defer: read a slice of everything that may have grown */
        sd_event_source *pods_watch; /* inotify on the pods log dir */
        sd_event_source *timer; /* rescan and polling */
        bool initial_scan_done;
        Vigil__LogSourceBatch **unsaved; /* found but not yet sealed (a failed seal) */
        size_t n_unsaved;
        char **forget; /* keys of sources gone, to delete with the next seal */
        int seal_error; /* -errno of the last seal, 0 when it worked */
};

static void tailed_done(Tailed *t) {
        t->watch = sd_event_source_disable_unref(t->watch);
        t->source = log_source_free(t->source);
        t->dir = mfree(t->dir);
}

LogTailer *log_tailer_free(LogTailer *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_sources; i++)
                tailed_done(&t->sources[i]);
        free(t->sources);
        for (size_t i = 0; i < t->n_unsaved; i++)
                vigil__log_source_batch__free_unpacked(t->unsaved[i], NULL);
        free(t->unsaved);
        strv_free(t->forget);
        sd_event_source_disable_unref(t->pump);
        sd_event_source_disable_unref(t->pods_watch);
        sd_event_source_disable_unref(t->timer);
        log_state_free(t->state);
        strv_free(t->pod_globs);
        strv_free(t->log_files);
        strv_free(t->journal_units);
        free(t->pods_log_dir);
        free(t->journal_dir);
        free(t->state_dir);
        sd_event_unref(t->event);
        return mfree(t);
}

static void kick(LogTailer *t) {
        if (t->pump)
                (void)sd_event_source_set_enabled(t->pump, SD_EVENT_ONESHOT);
}

static int on_pump(sd_event_source *src, void *userdata) {
        LogTailer *t = userdata;
        bool more = false;
        int64_t now_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);

        for (size_t i = 0; i < t->n_sources; i++) {
                LogSource *s = t->sources[i].source;
                size_t budget = SLICE;
                s->now_ms = now_ms;
                if (s->ops->read(s, &budget) > 0)
                        more = true;
                s->now_ms = 0;
        }
        if (more)
                kick(t); /* after whatever else is waiting in the loop */
        return 0;
}

static int on_inotify(sd_event_source *src, const struct inotify_event *ev, void *userdata) {
        kick(userdata);
        return 0;
}

static int on_journal_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Tailed *td = userdata;
        if (log_journal_source_process(td->source) > 0) /* SD_JOURNAL_APPEND or _INVALIDATE */
                kick(td->tailer);
        return 0;
}

/* Watches what the source reads; without a watch the source is polled. */
static void watch(LogTailer *t, Tailed *td) {
        if (td->watch)
                return;
        if (!td->dir) {
                int fd = log_journal_source_fd(td->source);
                if (fd >= 0 && sd_event_add_io(t->event, &td->watch, fd, EPOLLIN, on_journal_io, td) >= 0)
                        (void)sd_event_source_set_description(td->watch, "journal");
                else
                        td->watch = NULL;
                return;
        }
        /* Renames (rotation), new files (restarts, a re-created log) and appends. */
        int r = sd_event_add_inotify(t->event, &td->watch, td->dir,
                IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ONLYDIR,
                on_inotify, t);
        if (r < 0) {
                td->watch = NULL;
                if (!td->polled_said)
                        log_warning_errno(r, "Cannot watch %s for changes (%m); polling %s every second",
                                td->dir, td->source->name);
                td->polled_said = true;
        } else if (td->polled_said) {
                log_notice("watching %s for changes again", td->dir);
                td->polled_said = false;
        }
}

static int add_source(LogTailer *t, LogSource *s, const char *dir) {
        Tailed *v = realloc(t->sources, sizeof(Tailed) * (t->n_sources + 1));
        if (!v)
                return -ENOMEM;
        t->sources = v;
        /* The journal io sources point at their Tailed: re-point them after the move. */
        for (size_t i = 0; i < t->n_sources; i++)
                if (v[i].watch && !v[i].dir)
                        (void)sd_event_source_set_userdata(v[i].watch, &v[i]);
        Tailed *td = &v[t->n_sources++];
        *td = (Tailed){.tailer = t, .source = s, .seen = true};
        if (dir && !(td->dir = strdup(dir)))
                return -ENOMEM;
        watch(t, td);
        return 0;
}

static Tailed *find_key(LogTailer *t, const char *key) {
        for (size_t i = 0; i < t->n_sources; i++)
                if (streq(t->sources[i].source->key, key))
                        return &t->sources[i];
        return NULL;
}

/* "<ns>_<pod>_<uid>" -> ns, pod */
static bool split_pod_dir(const char *name, char *ns, char *pod, size_t size) {
        const char *a = strchr(name, '_'), *b = a ? strchr(a + 1, '_') : NULL;
        if (!a || !b || (size_t)(a - name) >= size || (size_t)(b - a - 1) >= size)
                return false;
        snprintf(ns, size, "%.*s", (int)(a - name), name);
        snprintf(pod, size, "%.*s", (int)(b - a - 1), a + 1);
        return true;
}

static bool pod_selected(LogTailer *t, const char *triple) {
        STRV_FOREACH (g, t->pod_globs)
                if (fnmatch(*g, triple, 0) == 0)
                        return true;
        return false;
}

/* One container directory: a source for it unless there is one. */
static void add_container(
        LogTailer *t, const char *pod_dir, const char *ns, const char *pod, const char *container) {
        char dir[PATH_MAX], triple[768], name[800];
        LogSource *s;

        if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", pod_dir, container) >= sizeof(dir))
                return;
        snprintf(triple, sizeof(triple), "%s/%s/%s", ns, pod, container);
        if (!pod_selected(t, triple))
                return;
        Tailed *td = find_key(t, dir);
        if (td) {
                td->seen = true;
                return;
        }
        LogSourceSettings set = t->c.settings;
        /* A container that appears while we run is read from its first line. */
        set.from_head = set.from_head || t->initial_scan_done;
        snprintf(name, sizeof(name), "pod:%s", triple);
        if (log_pod_source_new(dir, name, &set, t->state, &s) < 0)
                return;
        if (add_source(t, s, dir) < 0)
                log_source_free(s);
}

static int seal(LogTailer *t);

static void scan_pods(LogTailer *t) {
        size_t before = t->n_sources;
        _cleanup_(closedirp) DIR *d = NULL;
        char ns[256], pod[256];
        struct dirent *de;

        if (isempty(t->pods_log_dir))
                return;
        if (!t->pods_watch &&
                sd_event_add_inotify(t->event, &t->pods_watch, t->pods_log_dir,
                        IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR, on_inotify, t) < 0)
                t->pods_watch = NULL;
        for (size_t i = 0; i < t->n_sources; i++)
                if (startswith(t->sources[i].source->name, "pod:"))
                        t->sources[i].seen = false;
        if (!(d = opendir(t->pods_log_dir)))
                return;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !split_pod_dir(de->d_name, ns, pod, sizeof(ns)))
                        continue;
                char pod_dir[PATH_MAX];
                if ((size_t)snprintf(pod_dir, sizeof(pod_dir), "%s/%s", t->pods_log_dir, de->d_name) >=
                        sizeof(pod_dir))
                        continue;
                _cleanup_(closedirp) DIR *pd = opendir(pod_dir);
                struct dirent *ce;
                while (pd && (ce = readdir(pd)))
                        if (ce->d_name[0] != '.' && ce->d_type == DT_DIR)
                                add_container(t, pod_dir, ns, pod, ce->d_name);
        }
        /* New containers are read from their start: save that position now, so that an agent
         * stopped before its next cycle does not start them again from their end. */
        if (t->initial_scan_done && t->n_sources > before)
                t->seal_error = MIN(seal(t), 0);
        /* Pods that are gone: read what is left, then forget them (and their position). */
        for (size_t i = 0; i < t->n_sources;) {
                Tailed *td = &t->sources[i];
                struct stat st;
                if (td->seen || !startswith(td->source->name, "pod:") || stat(td->dir, &st) >= 0) {
                        i++;
                        continue;
                }
                size_t budget = SIZE_MAX;
                (void)td->source->ops->read(td->source, &budget);
                Vigil__LogSourceBatch *b = NULL;
                log_scanner_flush(td->source->scanner);
                if (log_source_take_batch(td->source, &b) >= 0 && b) {
                        Vigil__LogSourceBatch **v = realloc(t->unsaved, sizeof(*v) * (t->n_unsaved + 1));
                        if (v) {
                                t->unsaved = v;
                                v[t->n_unsaved++] = b;
                        } else
                                vigil__log_source_batch__free_unpacked(b, NULL);
                }
                (void)strv_extend(&t->forget, td->source->key);
                tailed_done(td);
                memmove(td, td + 1, sizeof(Tailed) * (t->n_sources - i - 1));
                t->n_sources--;
                for (size_t k = 0; k < t->n_sources; k++)
                        if (t->sources[k].watch && !t->sources[k].dir)
                                (void)sd_event_source_set_userdata(t->sources[k].watch, &t->sources[k]);
        }
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        LogTailer *t = userdata;
        bool polled = false;

        scan_pods(t);
        for (size_t i = 0; i < t->n_sources; i++) {
                watch(t, &t->sources[i]);
                polled |= !t->sources[i].watch;
        }
        kick(t);
        usec_t next =
                polled || !t->pods_watch ? MIN(POLL_INTERVAL, t->c.rescan_interval) : t->c.rescan_interval;
        (void)sd_event_source_set_time_relative(src, next);
        (void)sd_event_source_set_enabled(src, SD_EVENT_ON);
        return 0;
}

static bool wanted(const LogTailerConfig *c) {
        return strv_length(c->log_files) > 0 || strv_length(c->journal_units) > 0 ||
                (!isempty(c->pods_log_dir) && access(c->pods_log_dir, F_OK) >= 0);
}

int log_tailer_new(sd_event *e, const LogTailerConfig *c, LogTailer **ret) {
        _cleanup_(log_tailer_freep) LogTailer *t = calloc(1, sizeof(LogTailer));
        int r;

        if (!t)
                return -ENOMEM;
        t->event = sd_event_ref(e);
        t->c = *c;
        if (t->c.rescan_interval == 0)
                t->c.rescan_interval = DEFAULT_RESCAN;
        if ((c->pod_globs && !(t->pod_globs = strv_copy((char **)c->pod_globs))) ||
                (c->log_files && !(t->log_files = strv_copy((char **)c->log_files))) ||
                (c->journal_units && !(t->journal_units = strv_copy((char **)c->journal_units))) ||
                (c->pods_log_dir && !(t->pods_log_dir = strdup(c->pods_log_dir))) ||
                (c->journal_dir && !(t->journal_dir = strdup(c->journal_dir))) ||
                !(t->state_dir = strdup(c->state_dir)))
                return -ENOMEM;
        if (!wanted(c)) {
                *ret = NULL;
                return 0;
        }
        r = log_state_open(t->state_dir, &t->state);
        if (r < 0)
                return r;
        STRV_FOREACH (f, t->log_files) {
                LogSource *s;
                _cleanup_(freep) char *dir = strdup(*f);
                if (!dir)
                        return -ENOMEM;
                char *slash = strrchr(dir, '/');
                if (slash)
                        slash[slash == dir ? 1 : 0] = 0;
                r = log_file_source_new(*f, &c->settings, t->state, &s);
                if (r < 0)
                        return r;
                r = add_source(t, s, dir);
                if (r < 0)
                        return log_source_free(s), r;
        }
        STRV_FOREACH (u, t->journal_units) {
                LogSource *s;
                r = log_journal_source_new(*u, t->journal_dir, &c->settings, t->state, &s);
                if (r < 0)
                        return r;
                r = add_source(t, s, NULL);
                if (r < 0)
                        return log_source_free(s), r;
        }
        scan_pods(t);
        t->initial_scan_done = true;
        /* Where each source starts is saved before anything is read. */
        r = seal(t);
        if (r < 0)
                return r;
        r = sd_event_add_defer(e, &t->pump, on_pump, t);
        if (r < 0)
                return r;
        (void)sd_event_source_set_priority(t->pump, SD_EVENT_PRIORITY_IDLE);
        kick(t);
        r = sd_event_add_time_relative(
                e, &t->timer, CLOCK_MONOTONIC, POLL_INTERVAL, 100 * USEC_PER_MSEC, on_timer, t);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int log_tailer_checks(LogTailer *t, CheckList *l) {
        int64_t now_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
        int r;

        if (t && t->seal_error < 0) {
                /* Findings stay in memory meanwhile: nothing is lost unless the agent stops. */
                _cleanup_(check_freep) CheckResult *c = check_new("logs.state", t->state_dir);
                if (!c)
                        return -ENOMEM;
                r = check_set(c, VIGIL_WARN, -t->seal_error, NULL,
                        "cannot save log positions in %s/agent.db: %s; holding findings in memory",
                        t->state_dir, strerror(-t->seal_error));
                if (r >= 0)
                        r = check_list_add(l, c);
                if (r < 0)
                        return r;
                TAKE_PTR(c);
        }
        for (size_t i = 0; t && i < t->n_sources; i++) {
                LogSource *s = t->sources[i].source;
                CheckResult *c;
                r = log_agg_check(s->agg, s->name, now_ms, s->error, s->error_what, &c);
                if (r >= 0)
                        r = check_list_add(l, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int seal(LogTailer *t) {
        Vigil__LogBatch batch = VIGIL__LOG_BATCH__INIT;
        size_t n_forget = strv_length(t->forget);
        LogStatePut *puts = calloc(t->n_sources + n_forget + 1, sizeof(LogStatePut));
        int r = 0;

        if (!puts)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_sources; i++) {
                LogSource *s = t->sources[i].source;
                Vigil__LogSourceBatch *b = NULL;
                Vigil__LogPosition *p = NULL;
                if ((r = s->ops->position(s, &p)) < 0)
                        break;
                puts[i] = (LogStatePut){.source = s->key, .position = p};
                if ((r = log_source_take_batch(s, &b)) < 0)
                        break;
                if (b) {
                        Vigil__LogSourceBatch **v = realloc(t->unsaved, sizeof(*v) * (t->n_unsaved + 1));
                        if (!v) {
                                vigil__log_source_batch__free_unpacked(b, NULL);
                                r = -ENOMEM;
                                break;
                        }
                        t->unsaved = v;
                        v[t->n_unsaved++] = b;
                }
        }
        if (r >= 0) {
                batch.sealed_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
                batch.sources = t->unsaved;
                batch.n_sources = t->n_unsaved;
                (void)log_batch_fit(&batch, LOG_BATCH_MAX);
                for (size_t i = 0; i < n_forget; i++)
                        puts[t->n_sources + i] = (LogStatePut){.source = t->forget[i]};
                r = log_state_seal(t->state, puts, t->n_sources + n_forget, t->n_unsaved > 0 ? &batch : NULL,
                        t->c.max_batches);
                if (r >= 0) {
                        t->forget = strv_free(t->forget);
                        for (size_t i = 0; i < t->n_unsaved; i++)
                                vigil__log_source_batch__free_unpacked(t->unsaved[i], NULL);
                        t->unsaved = mfree(t->unsaved);
                        t->n_unsaved = 0;
                }
        }
        for (size_t i = 0; i < t->n_sources; i++)
                if (puts[i].position)
                        vigil__log_position__free_unpacked((Vigil__LogPosition *)puts[i].position, NULL);
        free(puts);
        return r;
}

int log_tailer_seal(LogTailer *t, size_t max, Vigil__LogBatch ***ret, size_t *ret_n) {
        int r = seal(t);
        t->seal_error = MIN(r, 0);
        /* What was saved before is still worth sending when this seal failed. */
        return log_state_pending(t->state, max, ret, ret_n);
}

int log_tailer_seal_error(LogTailer *t) {
        return t->seal_error;
}

void log_tailer_ack(LogTailer *t, uint64_t id) {
        (void)log_state_ack(t->state, id);
}

const char *log_tailer_state_id(LogTailer *t) {
        return log_state_id(t->state);
}

size_t log_tailer_n_sources(LogTailer *t) {
        return t ? t->n_sources : 0;
}
