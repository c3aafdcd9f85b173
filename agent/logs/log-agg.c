/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "log-agg.h"

#define PATTERN_MAX 256
#define BUCKET_MS (10 * 1000)
#define N_BUCKETS 360 /* one hour of 10 s buckets */
#define MINUTE_BUCKETS 6
#define MAX_MINUTES 1440 /* per batch; older lines read in one go share the oldest entries */
#define OTHER_HASH UINT64_C(0)

typedef Vigil__LogSignature Sig;

typedef struct Bucket {
        int64_t index; /* time / BUCKET_MS */
        uint32_t errors, warnings;
} Bucket;

struct LogAgg {
        LogAggOptions o;
        Sig **sigs; /* this batch's groups */
        size_t n_sigs;
        Vigil__LogMinute **minutes;
        size_t n_minutes;
        Bucket buckets[N_BUCKETS];
        int64_t first_bucket; /* when counting started */
        Sig **last; /* ring of the latest events, for restarts */
        size_t n_last, last_head;
        Sig **previous; /* evidence to ship with the next batch */
        size_t n_previous;
        uint32_t previous_restart_count;
        uint32_t restarts; /* restarts seen since the agent started */
};

int log_agg_new(const LogAggOptions *o, LogAgg **ret) {
        LogAgg *a = calloc(1, sizeof(LogAgg));

        if (!a)
                return -ENOMEM;
        a->o = *o;
        if (a->o.max_signatures == 0)
                a->o.max_signatures = 200;
        if (a->o.previous_keep == 0)
                a->o.previous_keep = 5;
        if (a->o.burst_warn_factor <= 0)
                a->o.burst_warn_factor = 5;
        if (a->o.burst_crit_factor <= 0)
                a->o.burst_crit_factor = 20;
        if (a->o.burst_min_per_minute == 0)
                a->o.burst_min_per_minute = 10;
        a->last = calloc(a->o.previous_keep, sizeof(Sig *));
        if (!a->last)
                return mfree(a), -ENOMEM;
        a->first_bucket = -1;
        *ret = a;
        return 0;
}

static void sig_free(Sig *s) {
        if (s)
                vigil__log_signature__free_unpacked(s, NULL);
}

static void sigs_free(Sig **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                sig_free(v[i]);
        free(v);
}

LogAgg *log_agg_free(LogAgg *a) {
        if (!a)
                return NULL;
        sigs_free(a->sigs, a->n_sigs);
        for (size_t i = 0; i < a->n_minutes; i++)
                vigil__log_minute__free_unpacked(a->minutes[i], NULL);
        free(a->minutes);
        sigs_free(a->last, a->o.previous_keep);
        sigs_free(a->previous, a->n_previous);
        return mfree(a);
}

/* Replaces s's sample with the event's line and context. */
static int set_sample(Sig *s, const LogEvent *e) {
        char *sample = strndup(e->line, e->line_len);
        char **ctx = calloc(MAX(e->n_context, (size_t)1), sizeof(char *));

        if (!sample || !ctx)
                goto oom;
        for (size_t i = 0; i < e->n_context; i++)
                if (!(ctx[i] = strdup(e->context[i]))) {
                        strv_free(ctx);
                        ctx = NULL;
                        goto oom;
                }
        if (s->sample != protobuf_c_empty_string)
                free(s->sample);
        for (size_t i = 0; i < s->n_context; i++)
                free(s->context[i]);
        free(s->context);
        s->sample = sample;
        s->context = ctx;
        s->n_context = e->n_context;
        s->sample_cut = e->line_cut;
        return 0;
oom:
        free(sample);
        free(ctx);
        return -ENOMEM;
}

static Sig *sig_new(uint64_t hash, LogLevel level, const char *pattern) {
        Sig *s = malloc(sizeof(Sig));
        if (!s)
                return NULL;
        vigil__log_signature__init(s);
        s->hash = hash;
        s->level = level;
        if (!(s->pattern = strdup(pattern)))
                return mfree(s);
        return s;
}

static Sig *find_or_add(LogAgg *a, uint64_t hash, LogLevel level, const char *pattern) {
        for (size_t i = 0; i < a->n_sigs; i++)
                if (a->sigs[i]->hash == hash)
                        return a->sigs[i];
        if (a->n_sigs >= a->o.max_signatures) {
                /* Too many kinds: the rest share one group, per level. */
                for (size_t i = 0; i < a->n_sigs; i++)
                        if (a->sigs[i]->hash == (OTHER_HASH ^ (uint64_t)level))
                                return a->sigs[i];
                hash = OTHER_HASH ^ (uint64_t)level;
                pattern = "(other messages)";
        }
        Sig **v = realloc(a->sigs, sizeof(Sig *) * (a->n_sigs + 1));
        if (!v)
                return NULL;
        a->sigs = v;
        Sig *s = sig_new(hash, level, pattern);
        if (s)
                a->sigs[a->n_sigs++] = s;
        return s;
}

static int count_minute(LogAgg *a, int64_t t, LogLevel level) {
        int64_t m = t - (t % 60000 + 60000) % 60000;
        Vigil__LogMinute *e = NULL;

        for (size_t i = a->n_minutes; i > 0; i--)
                if (a->minutes[i - 1]->minute_ms == m) {
                        e = a->minutes[i - 1];
                        break;
                }
        if (!e && a->n_minutes >= MAX_MINUTES)
                e = a->minutes[a->n_minutes - 1];
        if (!e) {
                Vigil__LogMinute **v = realloc(a->minutes, sizeof(*v) * (a->n_minutes + 1));
                if (!v)
                        return -ENOMEM;
                a->minutes = v;
                if (!(e = malloc(sizeof(*e))))
                        return -ENOMEM;
                vigil__log_minute__init(e);
                e->minute_ms = m;
                a->minutes[a->n_minutes++] = e;
        }
        switch (level) {
        case VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL:
                e->fatal++;
                break;
        case VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR:
                e->error++;
                break;
        case VIGIL__LOG_LEVEL__LOG_LEVEL_WARN:
                e->warn++;
                break;
        case VIGIL__LOG_LEVEL__LOG_LEVEL_INFO:
                e->info++;
                break;
        default:
                break;
        }
        return 0;
}

static Bucket *bucket(LogAgg *a, int64_t now_ms) {
        int64_t idx = now_ms / BUCKET_MS;
        Bucket *b = &a->buckets[idx % N_BUCKETS];
        if (b->index != idx)
                *b = (Bucket){.index = idx};
        if (a->first_bucket < 0)
                a->first_bucket = idx;
        return b;
}

static int remember_last(LogAgg *a, uint64_t hash, const LogEvent *e, const char *pattern, int64_t t) {
        Sig *s = sig_new(hash, e->level, pattern);
        if (!s || set_sample(s, e) < 0) {
                sig_free(s);
                return -ENOMEM;
        }
        s->count = 1;
        s->first_ms = s->last_ms = t;
        size_t slot = (a->last_head + a->n_last) % a->o.previous_keep;
        if (a->n_last == a->o.previous_keep) {
                slot = a->last_head;
                a->last_head = (a->last_head + 1) % a->o.previous_keep;
                sig_free(a->last[slot]);
        } else
                a->n_last++;
        a->last[slot] = s;
        return 0;
}

int log_agg_add(LogAgg *a, const LogEvent *e, int64_t now_ms) {
        char pattern[PATTERN_MAX];
        int64_t t = e->time_ms ?: now_ms;
        size_t off = MIN(e->msg_offset, e->line_len);
        uint64_t hash = log_signature(
                e->level, e->line + off, MIN(e->msg_len, e->line_len - off), pattern, sizeof(pattern));
        if (hash == OTHER_HASH)
                hash = 1;

        Sig *s = find_or_add(a, hash, e->level, pattern);
        if (!s)
                return -ENOMEM;
        if (s->count == 0 || t < s->first_ms)
                s->first_ms = t;
        if (s->count == 0 || t >= s->last_ms) {
                s->last_ms = t;
                if (set_sample(s, e) < 0)
                        return -ENOMEM;
        }
        s->count++;
        if (count_minute(a, t, e->level) < 0)
                return -ENOMEM;
        Bucket *b = bucket(a, now_ms);
        if (e->level >= VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR)
                b->errors++;
        else if (e->level == VIGIL__LOG_LEVEL__LOG_LEVEL_WARN)
                b->warnings++;
        return remember_last(a, hash, e, pattern, t);
}

void log_agg_note_restart(LogAgg *a, uint32_t from, uint32_t to) {
        sigs_free(a->previous, a->n_previous);
        a->previous = calloc(MAX(a->n_last, (size_t)1), sizeof(Sig *));
        a->n_previous = 0;
        for (size_t i = 0; i < a->n_last; i++) {
                size_t k = (a->last_head + i) % a->o.previous_keep;
                if (a->previous)
                        a->previous[a->n_previous++] = a->last[k];
                else
                        sig_free(a->last[k]);
                a->last[k] = NULL;
        }
        a->n_last = a->last_head = 0;
        a->previous_restart_count = from;
        a->restarts += to > from ? to - from : 1;
}

int log_agg_take_batch(LogAgg *a, const char *source, const LogScanStats *delta, uint64_t bytes_lost,
        uint32_t restart_count, Vigil__LogSourceBatch **ret) {
        Vigil__LogSourceBatch *b;

        *ret = NULL;
        if (delta->lines == 0 && delta->bytes == 0 && a->n_sigs == 0 && bytes_lost == 0 && !a->previous)
                return 0;
        if (!(b = malloc(sizeof(*b))))
                return -ENOMEM;
        vigil__log_source_batch__init(b);
        if (!(b->source = strdup(source))) {
                free(b);
                return -ENOMEM;
        }
        b->lines = delta->lines;
        b->bytes = delta->bytes;
        b->lines_cut = delta->lines_cut;
        b->bytes_lost = bytes_lost;
        b->restart_count = restart_count;
        b->signatures = TAKE_PTR(a->sigs);
        b->n_signatures = a->n_sigs;
        a->n_sigs = 0;
        b->minutes = TAKE_PTR(a->minutes);
        b->n_minutes = a->n_minutes;
        a->n_minutes = 0;
        if (a->previous) {
                b->previous = TAKE_PTR(a->previous);
                b->n_previous = a->n_previous;
                b->previous_restart_count = a->previous_restart_count;
                a->n_previous = 0;
        }
        *ret = b;
        return 0;
}

int log_agg_check(LogAgg *a, const char *source, int64_t now_ms, int read_error, const char *read_what,
        CheckResult **ret) {
        _cleanup_(check_freep) CheckResult *c = check_new("logs.errors", source);
        uint64_t errors_hour = 0, warnings_hour = 0, errors_minute = 0, errors_before = 0;
        int64_t now = now_ms / BUCKET_MS;
        int r;

        if (!c)
                return -ENOMEM;
        for (int64_t i = now - N_BUCKETS + 1; i <= now; i++) {
                const Bucket *b = &a->buckets[((i % N_BUCKETS) + N_BUCKETS) % N_BUCKETS];
                if (b->index != i)
                        continue;
                errors_hour += b->errors;
                warnings_hour += b->warnings;
                if (i > now - MINUTE_BUCKETS)
                        errors_minute += b->errors;
                else
                        errors_before += b->errors;
        }
        /* The baseline: errors per minute over the part of the hour before the last minute that
         * this agent has watched (none yet: 0, so a first burst stands out). */
        int64_t watched = a->first_bucket < 0
                ? 0
                : MIN(now - MINUTE_BUCKETS + 1 - a->first_bucket, (int64_t)N_BUCKETS - MINUTE_BUCKETS);
        double baseline = watched > 0 ? (double)errors_before / ((double)watched * BUCKET_MS / 60000.0) : 0;

        if (read_error < 0)
                r = check_set(c, VIGIL_UNKNOWN, -read_error, NULL, "cannot read %s: %s", strempty(read_what),
                        strerror(-read_error));
        else if (errors_minute >= a->o.burst_min_per_minute &&
                (double)errors_minute >= a->o.burst_crit_factor * baseline)
                r = check_set(c, VIGIL_CRIT, 0, "BURST",
                        "error burst: %" PRIu64 " in the last minute, baseline %.1f/min", errors_minute,
                        baseline);
        else if (errors_minute >= a->o.burst_min_per_minute &&
                (double)errors_minute >= a->o.burst_warn_factor * baseline)
                r = check_set(c, VIGIL_WARN, 0, "BURST",
                        "error burst: %" PRIu64 " in the last minute, baseline %.1f/min", errors_minute,
                        baseline);
        else
                r = check_set(c, VIGIL_OK, 0, NULL,
                        "%" PRIu64 " errors, %" PRIu64 " warnings in the last hour", errors_hour,
                        warnings_hour);
        if (r >= 0)
                r = check_add_int(c, "errors_last_hour", (int64_t)errors_hour, NULL);
        if (r >= 0)
                r = check_add_int(c, "warnings_last_hour", (int64_t)warnings_hour, NULL);
        if (r >= 0)
                r = check_add_int(c, "errors_last_minute", (int64_t)errors_minute, NULL);
        if (r >= 0)
                r = check_add_double(c, "baseline_per_minute", baseline, NULL);
        if (r >= 0)
                r = check_add_int(c, "restarts", a->restarts, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* Cuts s at n bytes (in place; a string of the message, malloc'd or protobuf-c's empty one). */
static bool cut_string(char *s, size_t n) {
        if (!s || strlen(s) <= n)
                return false;
        s[n] = 0;
        return true;
}

static void fit_signatures(Sig **v, size_t n, unsigned level) {
        for (size_t i = 0; i < n; i++) {
                Sig *g = v[i];
                size_t keep = level == 1 ? 1024 : 0;
                if (level <= 2) {
                        if (cut_string(g->sample, keep))
                                g->sample_cut = true;
                        for (size_t k = 0; k < g->n_context; k++)
                                (void)cut_string(g->context[k], keep);
                } else
                        (void)cut_string(g->pattern, 64);
        }
}

size_t log_batch_fit(Vigil__LogBatch *b, size_t max) {
        size_t size = vigil__log_batch__get_packed_size(b);

        for (unsigned level = 1; level <= 3 && size > max; level++) {
                for (size_t i = 0; i < b->n_sources; i++) {
                        fit_signatures(b->sources[i]->signatures, b->sources[i]->n_signatures, level);
                        fit_signatures(b->sources[i]->previous, b->sources[i]->n_previous, level);
                }
                size = vigil__log_batch__get_packed_size(b);
        }
        return size;
}
