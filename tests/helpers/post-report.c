/* SPDX-License-Identifier: MIT */
/*
 * post-report: builds a realistic vigil.NodeReport and POSTs it to a collector, for the
 * integration tests. Prints one line per post: "<HTTP status> <body>" (or "ERR <reason>" when no
 * answer came). Exits 0 when every post got a 2xx answer, 1 otherwise, 2 on bad usage.
 *
 * Log findings: --log-state ID names the agent's log state; each --log-batch adds one signature
 * (its pattern is its sample) to the batch of that id, in the source given; --log-context,
 * --log-restart and --log-previous apply to the signature last added. Every post of a run
 * carries the same batches, as an agent resends them until one is acknowledged.
 *
 * Metrics: --metrics-detail ROLE:KEY=VALUE[,KEY=VALUE]... attaches a MetricsDetails to the check
 * last added, as the agent's metrics probe would: keys requests, cached, ufs_read, ufs_write,
 * concurrency (rates per second), interval (seconds between the scrapes, default 5), op.NAME (FUSE
 * operations per second), error.UFS/CODE and expected.UFS/CODE (UFS errors per second), missing
 * (a metric name absent from the page, repeatable). hit_rate and has_hit_rate are derived from
 * cached and ufs_read the way the agent derives them.
 */
#include <getopt.h>
#include <inttypes.h>

#include <systemd/sd-id128.h>

#include "http-client.h"
#include "macros.h"
#include "status.h"
#include "vigil.pb-c.h"

#define MAX_CHECK_DETAILS 8
#define MAX_METRICS_KEYS 16

/* A MetricsDetails with room for its lists; the strings are heap copies (metrics_free()). */
typedef struct Metrics {
        Vigil__MetricsDetails d;
        Vigil__KeyRate ops[MAX_METRICS_KEYS], *op_ptrs[MAX_METRICS_KEYS];
        Vigil__UfsErrorRate errors[MAX_METRICS_KEYS], *error_ptrs[MAX_METRICS_KEYS];
        char *missing[MAX_METRICS_KEYS];
} Metrics;

static Metrics *metrics_free(Metrics *m) {
        if (!m)
                return NULL;
        free(m->d.role);
        for (size_t i = 0; i < m->d.n_fuse_ops_per_s; i++)
                free(m->ops[i].key);
        for (size_t i = 0; i < m->d.n_ufs_errors; i++) {
                free(m->errors[i].ufs);
                free(m->errors[i].error_code);
        }
        for (size_t i = 0; i < m->d.n_missing; i++)
                free(m->missing[i]);
        return mfree(m);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Metrics *, metrics_free);

/* One KEY=VALUE of --metrics-detail into m. */
static int parse_metrics_key(Metrics *m, const char *key, const char *value) {
        Vigil__MetricsDetails *d = &m->d;
        const char *name, *slash;
        char *end;
        double v = 0;

        if (!streq(key, "missing")) {
                v = strtod(value, &end);
                if (end == value || *end)
                        return -EINVAL;
        }
        if (streq(key, "requests"))
                d->requests_per_s = v;
        else if (streq(key, "cached"))
                d->cached_read_bytes_per_s = v;
        else if (streq(key, "ufs_read"))
                d->ufs_read_bytes_per_s = v;
        else if (streq(key, "ufs_write"))
                d->ufs_write_bytes_per_s = v;
        else if (streq(key, "concurrency"))
                d->fuse_concurrency = v;
        else if (streq(key, "interval"))
                d->interval_s = v;
        else if ((name = startswith(key, "op."))) {
                if (d->n_fuse_ops_per_s == MAX_METRICS_KEYS)
                        return -EINVAL;
                Vigil__KeyRate *k = &m->ops[d->n_fuse_ops_per_s];
                vigil__key_rate__init(k);
                k->key = strdup(name);
                k->per_s = v;
                m->op_ptrs[d->n_fuse_ops_per_s++] = k;
                if (!k->key)
                        return -ENOMEM;
        } else if ((name = startswith(key, "error.")) || (name = startswith(key, "expected."))) {
                slash = strrchr(name, '/');
                if (!slash || d->n_ufs_errors == MAX_METRICS_KEYS)
                        return -EINVAL;
                Vigil__UfsErrorRate *e = &m->errors[d->n_ufs_errors];
                vigil__ufs_error_rate__init(e);
                e->ufs = strndup(name, slash - name);
                e->error_code = strdup(slash + 1);
                e->per_s = v;
                e->expected = startswith(key, "expected.") != NULL;
                m->error_ptrs[d->n_ufs_errors++] = e;
                if (!e->ufs || !e->error_code)
                        return -ENOMEM;
        } else if (streq(key, "missing")) {
                if (d->n_missing == MAX_METRICS_KEYS || !(m->missing[d->n_missing] = strdup(value)))
                        return -EINVAL;
                d->n_missing++;
        } else
                return -EINVAL;
        return 0;
}

/* ROLE:KEY=VALUE[,KEY=VALUE]... into a new Metrics. */
static int parse_metrics(const char *spec, Metrics **ret) {
        _cleanup_(metrics_freep) Metrics *m = calloc(1, sizeof(Metrics));
        const char *colon = strchr(spec, ':');
        int r;

        if (!m)
                return -ENOMEM;
        if (!colon)
                return -EINVAL;
        vigil__metrics_details__init(&m->d);
        m->d.role = strndup(spec, colon - spec);
        if (!m->d.role)
                return -ENOMEM;
        m->d.interval_s = 5;
        m->d.fuse_ops_per_s = m->op_ptrs;
        m->d.ufs_errors = m->error_ptrs;
        m->d.missing = m->missing;
        for (const char *p = colon + 1; *p;) {
                size_t len = strcspn(p, ",");
                char *item = strndupa(p, len), *eq = strrchr(item, '=');
                if (!eq)
                        return -EINVAL;
                *eq = 0;
                r = parse_metrics_key(m, item, eq + 1);
                if (r < 0)
                        return r;
                p += len + (p[len] == ',');
        }
        /* What the agent derives: cached / (cached + UFS read) when anything was read. */
        m->d.has_hit_rate = m->d.cached_read_bytes_per_s + m->d.ufs_read_bytes_per_s > 0;
        if (m->d.has_hit_rate)
                m->d.hit_rate = m->d.cached_read_bytes_per_s /
                        (m->d.cached_read_bytes_per_s + m->d.ufs_read_bytes_per_s);
        m->d.samples = 1000;
        m->d.page_bytes = 64 * 1024;
        *ret = TAKE_PTR(m);
        return 0;
}

typedef struct Check {
        char *name, *target, *message;
        VigilStatus status;
        Metrics *metrics; /* --metrics-detail of this check, or NULL */
        /* --detail KEY=INTEGER of this check: the keys heap strings, the details made per post */
        char *detail_keys[MAX_CHECK_DETAILS];
        int64_t detail_values[MAX_CHECK_DETAILS];
        size_t n_details;
} Check;

/* The checks given with --check (heap strings); the built-in defaults are literals and not here. */
typedef struct CheckSet {
        Check items[64];
        size_t n;
} CheckSet;

static void check_set_done(CheckSet *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].name);
                free(s->items[i].target);
                free(s->items[i].message);
                for (size_t k = 0; k < s->items[i].n_details; k++)
                        free(s->items[i].detail_keys[k]);
                metrics_free(s->items[i].metrics);
        }
        s->n = 0;
}

/* One signature of a log batch (--log-batch and what follows it). */
typedef struct LogEntry {
        uint64_t batch;
        char *source, *sample;
        Vigil__LogLevel level;
        uint64_t count;
        int64_t age_ms; /* the signature's last line was this long before the post */
        char **context;
        uint32_t restart_count; /* of its source */
        uint32_t previous_restart; /* > 0: evidence of the previous container (that restart) */
} LogEntry;

#define MAX_LOG_ENTRIES 64

typedef struct LogSet {
        LogEntry items[MAX_LOG_ENTRIES];
        size_t n;
} LogSet;

static void log_set_done(LogSet *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].source);
                free(s->items[i].sample);
                strv_free(s->items[i].context);
        }
        s->n = 0;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: post-report --collector URL --node NAME [--token T] [--cluster C] [--boot-id ID]\n"
                "                   [--seq N] [--count N] [--interval-ms MS] [--check "
                "NAME:TARGET:STATUS:MESSAGE [--detail KEY=INTEGER]...\n"
                "                    [--metrics-detail ROLE:KEY=VALUE[,KEY=VALUE]...]]...\n"
                "                   [--raw-body FILE] [--content-type CT]\n"
                "                   [--log-state ID] [--log-batch ID:SOURCE:LEVEL:COUNT[@AGE_S]:SAMPLE\n"
                "                    [--log-context LINE]... [--log-restart N] [--log-previous "
                "RESTART]]...\n");
}

/* The first ":LEVEL:" in s, its level in *ret_level and its length in *ret_len; NULL when none. */
static const char *find_level(const char *s, Vigil__LogLevel *ret_level, size_t *ret_len) {
        const char *best = NULL;

        for (int v = VIGIL__LOG_LEVEL__LOG_LEVEL_TRACE; v <= VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL; v++) {
                char token[32];
                snprintf(token, sizeof(token), ":%s:",
                        protobuf_c_enum_descriptor_get_value(&vigil__log_level__descriptor, v)->name +
                                strlen("LOG_LEVEL_"));
                const char *p = strstr(s, token);
                if (p && (!best || p < best)) {
                        best = p;
                        *ret_level = v;
                        *ret_len = strlen(token);
                }
        }
        return best;
}

/* ID:SOURCE:LEVEL:COUNT[@AGE_S]:SAMPLE, where SOURCE and SAMPLE may contain ':' (LEVEL is found by value).
 */
static int parse_log_entry(const char *spec, LogEntry *ret) {
        Vigil__LogLevel level = 0;
        const char *source, *at;
        size_t len = 0;
        char *end;
        uint64_t id, count;
        int64_t age_s = 0;

        id = strtoull(spec, &end, 10);
        if (end == spec || *end != ':')
                return -EINVAL;
        source = end + 1;
        at = find_level(source, &level, &len);
        if (!at || at == source)
                return -EINVAL;
        count = strtoull(at + len, &end, 10);
        if (end == at + len)
                return -EINVAL;
        if (*end == '@')
                age_s = strtoll(end + 1, &end, 10);
        if (*end != ':')
                return -EINVAL;
        *ret = (LogEntry){
                .batch = id,
                .source = strndup(source, at - source),
                .sample = strdup(end + 1),
                .level = level,
                .count = count,
                .age_ms = age_s * 1000,
        };
        return ret->source && ret->sample ? 0 : -ENOMEM;
}

/* The protobuf of a LogSet, in fixed arrays: each parent's children are one run of a pointer array. */
typedef struct LogProto {
        Vigil__LogBatch batches[MAX_LOG_ENTRIES], *batch_ptrs[MAX_LOG_ENTRIES];
        Vigil__LogSourceBatch sources[MAX_LOG_ENTRIES], *source_ptrs[MAX_LOG_ENTRIES];
        Vigil__LogSignature sigs[MAX_LOG_ENTRIES], *sig_ptrs[MAX_LOG_ENTRIES];
        Vigil__LogMinute minutes[MAX_LOG_ENTRIES], *minute_ptrs[MAX_LOG_ENTRIES];
        size_t n_batches, n_sources, n_sigs, n_minutes;
} LogProto;

static uint64_t fnv1a(uint64_t h, const char *s) {
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static void add_signature(LogProto *p, const LogEntry *e, int64_t now_ms) {
        Vigil__LogSignature *g = &p->sigs[p->n_sigs];

        vigil__log_signature__init(g);
        g->hash = fnv1a(fnv1a(14695981039346656037ULL, e->sample), e->source) ^ (uint64_t)e->level;
        g->level = e->level;
        g->pattern = e->sample;
        g->sample = e->sample;
        g->count = e->count;
        g->last_ms = now_ms - e->age_ms;
        g->first_ms = g->last_ms - (e->count > 1 ? 1000 : 0);
        g->context = e->context;
        g->n_context = strv_length(e->context);
        p->sig_ptrs[p->n_sigs++] = g;
}

/* Counts e's lines in the minute of its last line (one minute row per minute of the source). */
static void add_minute(LogProto *p, Vigil__LogSourceBatch *s, const LogEntry *e, int64_t now_ms) {
        int64_t minute = (now_ms - e->age_ms) / 60000 * 60000;
        Vigil__LogMinute *m = NULL;

        for (size_t i = 0; i < s->n_minutes; i++)
                if (s->minutes[i]->minute_ms == minute)
                        m = s->minutes[i];
        if (!m) {
                m = &p->minutes[p->n_minutes];
                vigil__log_minute__init(m);
                m->minute_ms = minute;
                p->minute_ptrs[p->n_minutes++] = m;
                s->n_minutes++;
        }
        if (e->level == VIGIL__LOG_LEVEL__LOG_LEVEL_WARN)
                m->warn += e->count;
        else if (e->level == VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR)
                m->error += e->count;
        else if (e->level == VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL)
                m->fatal += e->count;
        else if (e->level == VIGIL__LOG_LEVEL__LOG_LEVEL_INFO)
                m->info += e->count;
}

static bool same_source(const LogEntry *a, const LogEntry *b) {
        return a->batch == b->batch && streq(a->source, b->source);
}

/* One source of one batch: the entries of set like set->items[first]. */
static void add_source(LogProto *p, Vigil__LogBatch *b, const LogSet *set, size_t first, int64_t now_ms) {
        Vigil__LogSourceBatch *s = &p->sources[p->n_sources];

        vigil__log_source_batch__init(s);
        s->source = set->items[first].source;
        p->source_ptrs[p->n_sources++] = s;
        b->n_sources++;
        s->signatures = &p->sig_ptrs[p->n_sigs];
        for (size_t i = first; i < set->n; i++)
                if (same_source(&set->items[i], &set->items[first]) && set->items[i].previous_restart == 0) {
                        add_signature(p, &set->items[i], now_ms);
                        s->n_signatures++;
                        s->lines += set->items[i].count * (1 + strv_length(set->items[i].context));
                        s->bytes += set->items[i].count * (strlen(set->items[i].sample) + 1);
                }
        s->previous = &p->sig_ptrs[p->n_sigs];
        s->minutes = &p->minute_ptrs[p->n_minutes];
        for (size_t i = first; i < set->n; i++) {
                const LogEntry *e = &set->items[i];
                if (!same_source(e, &set->items[first]))
                        continue;
                s->restart_count = MAX(s->restart_count, e->restart_count);
                if (e->previous_restart == 0) {
                        add_minute(p, s, e, now_ms);
                        continue;
                }
                add_signature(p, e, now_ms);
                s->n_previous++;
                s->previous_restart_count = e->previous_restart;
        }
}

/* Sets the log batches of report from set (their memory is p's). */
static void log_proto_build(LogProto *p, const LogSet *set, int64_t now_ms, Vigil__NodeReport *report) {
        *p = (LogProto){};
        for (size_t i = 0; i < set->n; i++) {
                bool seen = false;
                for (size_t j = 0; j < i; j++)
                        seen = seen || set->items[j].batch == set->items[i].batch;
                if (seen)
                        continue;
                Vigil__LogBatch *b = &p->batches[p->n_batches];
                vigil__log_batch__init(b);
                b->id = set->items[i].batch;
                b->sealed_ms = now_ms;
                b->sources = &p->source_ptrs[p->n_sources];
                p->batch_ptrs[p->n_batches++] = b;
                for (size_t j = i; j < set->n; j++) {
                        bool source_seen = set->items[j].batch != b->id;
                        for (size_t k = i; !source_seen && k < j; k++)
                                source_seen = same_source(&set->items[k], &set->items[j]);
                        if (!source_seen)
                                add_source(p, b, set, j, now_ms);
                }
        }
        report->log_batches = p->batch_ptrs;
        report->n_log_batches = p->n_batches;
}

/* NAME:TARGET:STATUS:MESSAGE, where TARGET and MESSAGE may contain ':' (STATUS is found by value). */
static int parse_check(const char *spec, Check *ret) {
        static const char *const names[] = {":OK:", ":WARN:", ":CRIT:", ":UNKNOWN:"};
        const char *colon = strchr(spec, ':'), *best = NULL;
        size_t best_len = 0;

        if (!colon)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *p = strstr(colon, names[i]);
                if (p && (!best || p < best)) {
                        best = p;
                        best_len = strlen(names[i]);
                }
        }
        if (!best)
                return -EINVAL;
        *ret = (Check){
                .name = strndup(spec, colon - spec),
                .target = strndup(colon + 1, best - colon - 1),
                .message = strdup(best + best_len),
                .status = vigil_status_from_string(strndupa(best + 1, best_len - 2)),
        };
        return ret->name && ret->target && ret->message ? 0 : -ENOMEM;
}

static int read_file(const char *path, void **ret, size_t *ret_size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0, alloc = 0;

        if (!f)
                return -errno;
        for (;;) {
                if (n == alloc) {
                        alloc = MAX(alloc * 2, (size_t)65536);
                        char *p = realloc(buf, alloc);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                size_t k = fread(buf + n, 1, alloc - n, f);
                n += k;
                if (k == 0)
                        break;
        }
        if (ferror(f))
                return -EIO;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                {"collector", required_argument, NULL, 'C'},
                {"token", required_argument, NULL, 't'},
                {"node", required_argument, NULL, 'n'},
                {"cluster", required_argument, NULL, 'c'},
                {"boot-id", required_argument, NULL, 'b'},
                {"seq", required_argument, NULL, 's'},
                {"count", required_argument, NULL, 'N'},
                {"interval-ms", required_argument, NULL, 'i'},
                {"check", required_argument, NULL, 'k'},
                {"raw-body", required_argument, NULL, 'r'},
                {"content-type", required_argument, NULL, 'T'},
                {"detail", required_argument, NULL, 'D'},
                {"log-state", required_argument, NULL, 'L'},
                {"log-batch", required_argument, NULL, 'B'},
                {"log-context", required_argument, NULL, 'X'},
                {"log-restart", required_argument, NULL, 'R'},
                {"log-previous", required_argument, NULL, 'P'},
                {"metrics-detail", required_argument, NULL, 'M'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *collector = NULL, *token = NULL, *node = NULL, *cluster = "test", *boot_id = NULL;
        const char *raw_path = NULL, *content_type = "application/x-protobuf", *log_state = NULL;
        _cleanup_(log_set_done) LogSet logs = {};
        LogEntry *last_log = NULL;
        uint64_t seq = 1, count = 1;
        uint32_t interval_ms = 1000;
        _cleanup_(check_set_done) CheckSet parsed = {};
        Check *checks = parsed.items;
        size_t n_checks = 0;
        int c, failures = 0;

        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'C':
                        collector = optarg;
                        break;
                case 't':
                        token = optarg;
                        break;
                case 'n':
                        node = optarg;
                        break;
                case 'c':
                        cluster = optarg;
                        break;
                case 'b':
                        boot_id = optarg;
                        break;
                case 's':
                        seq = strtoull(optarg, NULL, 10);
                        break;
                case 'N':
                        count = strtoull(optarg, NULL, 10);
                        break;
                case 'i':
                        interval_ms = (uint32_t)strtoul(optarg, NULL, 10);
                        break;
                case 'k':
                        if (n_checks == ELEMENTSOF(parsed.items) ||
                                parse_check(optarg, &checks[n_checks]) < 0) {
                                fprintf(stderr,
                                        "post-report: bad --check '%s' (NAME:TARGET:STATUS:MESSAGE)\n",
                                        optarg);
                                return 2;
                        }
                        parsed.n = ++n_checks;
                        break;
                case 'r':
                        raw_path = optarg;
                        break;
                case 'T':
                        content_type = optarg;
                        break;
                case 'D': {
                        Check *last = n_checks > 0 ? &checks[n_checks - 1] : NULL;
                        const char *eq = strchr(optarg, '=');
                        if (!last || !eq || last->n_details == MAX_CHECK_DETAILS) {
                                fprintf(stderr,
                                        "post-report: bad --detail '%s' (KEY=INTEGER after a --check)\n",
                                        optarg);
                                return 2;
                        }
                        last->detail_keys[last->n_details] = strndup(optarg, eq - optarg);
                        last->detail_values[last->n_details++] = strtoll(eq + 1, NULL, 10);
                        break;
                }
                case 'M': {
                        Check *last = n_checks > 0 ? &checks[n_checks - 1] : NULL;
                        if (!last || last->metrics || parse_metrics(optarg, &last->metrics) < 0) {
                                fprintf(stderr,
                                        "post-report: bad --metrics-detail '%s' (ROLE:KEY=VALUE,... once "
                                        "after a --check)\n",
                                        optarg);
                                return 2;
                        }
                        break;
                }
                case 'L':
                        log_state = optarg;
                        break;
                case 'B':
                        if (logs.n == ELEMENTSOF(logs.items) ||
                                parse_log_entry(optarg, &logs.items[logs.n]) < 0) {
                                fprintf(stderr,
                                        "post-report: bad --log-batch '%s' "
                                        "(ID:SOURCE:LEVEL:COUNT[@AGE_S]:SAMPLE)\n",
                                        optarg);
                                return 2;
                        }
                        last_log = &logs.items[logs.n++];
                        break;
                case 'X':
                case 'R':
                case 'P':
                        if (!last_log) {
                                fprintf(stderr,
                                        "post-report: --log-context, --log-restart and --log-previous "
                                        "follow a --log-batch\n");
                                return 2;
                        }
                        if (c == 'X' && strv_extend(&last_log->context, optarg) < 0)
                                return 1;
                        if (c == 'R')
                                last_log->restart_count = (uint32_t)strtoul(optarg, NULL, 10);
                        if (c == 'P')
                                last_log->previous_restart = (uint32_t)MAX(strtoul(optarg, NULL, 10), 1ul);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!collector || (!node && !raw_path)) {
                usage(stderr);
                return 2;
        }
        /* Like an agent run: a fresh boot id per invocation unless one is given, so that each
         * run is applied (give --boot-id and --seq to test duplicates). */
        char random_boot_id[SD_ID128_STRING_MAX];
        if (!boot_id) {
                sd_id128_t id;
                if (sd_id128_randomize(&id) < 0)
                        return 2;
                boot_id = sd_id128_to_string(id, random_boot_id);
        }
        if (n_checks == 0) {
                checks[n_checks++] = (Check){"fuse.mount", "/mnt/alluxio",
                        "mounted (fuse.alluxio-fuse), statfs 0.3 ms", VIGIL_OK};
                checks[n_checks++] =
                        (Check){"fuse.read", "/mnt/alluxio/.canary", "read 4096 bytes in 1.1 ms", VIGIL_OK};
                checks[n_checks++] = (Check){
                        "csi.probe", "/var/lib/kubelet/plugins/csi.alluxio.com/csi.sock", "ready", VIGIL_OK};
        }

        _cleanup_(freep) char *url = NULL;
        if (asprintf(&url, "%s/v1/reports", collector) < 0)
                return 1;
        http_global_init();

        for (uint64_t k = 0; k < count; k++) {
                _cleanup_(freep) void *body = NULL;
                size_t size = 0;
                int r;

                if (raw_path) {
                        r = read_file(raw_path, &body, &size);
                        if (r < 0) {
                                fprintf(stderr, "post-report: cannot read %s: %s\n", raw_path, strerror(-r));
                                return 2;
                        }
                } else {
                        Vigil__NodeReport report = VIGIL__NODE_REPORT__INIT;
                        Vigil__CheckResult results[64], *ptrs[64];
                        Vigil__Detail detail = VIGIL__DETAIL__INIT, *details[1] = {&detail};
                        Vigil__Detail given[64][MAX_CHECK_DETAILS], *given_ptrs[64][MAX_CHECK_DETAILS];
                        Vigil__FuseDetails fuse = VIGIL__FUSE_DETAILS__INIT;

                        detail.key = (char *)"waiting";
                        detail.value_case = VIGIL__DETAIL__VALUE_INT_VALUE;
                        detail.int_value = 0;
                        fuse.fs_type = (char *)"fuse.alluxio-fuse";
                        fuse.source = (char *)"alluxio-fuse";
                        fuse.waiting = 0;
                        report.node = (char *)node;
                        report.cluster = (char *)cluster;
                        report.agent_version = (char *)"post-report/" VIGIL_VERSION;
                        report.boot_id = (char *)boot_id;
                        report.seq = seq + k;
                        report.time_unix_ms = (int64_t)(now_usec(CLOCK_REALTIME) / USEC_PER_MSEC);
                        report.interval_ms = interval_ms;
                        report.kernel_boot_id = (char *)"00000000-0000-4000-8000-000000000000";
                        for (size_t i = 0; i < n_checks; i++) {
                                vigil__check_result__init(&results[i]);
                                results[i].name = checks[i].name;
                                results[i].target = checks[i].target;
                                results[i].message = checks[i].message;
                                results[i].status = vigil_status_to_proto(checks[i].status);
                                results[i].latency_us = 300 + 10 * i;
                                if (startswith(checks[i].name, "fuse.")) {
                                        results[i].n_details = 1;
                                        results[i].details = details;
                                        results[i].fuse = &fuse;
                                }
                                for (size_t j = 0; j < checks[i].n_details; j++) {
                                        vigil__detail__init(&given[i][j]);
                                        given[i][j].key = checks[i].detail_keys[j];
                                        given[i][j].value_case = VIGIL__DETAIL__VALUE_INT_VALUE;
                                        given[i][j].int_value = checks[i].detail_values[j];
                                        given_ptrs[i][j] = &given[i][j];
                                }
                                if (checks[i].n_details > 0) {
                                        results[i].n_details = checks[i].n_details;
                                        results[i].details = given_ptrs[i];
                                }
                                if (checks[i].metrics)
                                        results[i].metrics = &checks[i].metrics->d;
                                ptrs[i] = &results[i];
                        }
                        report.n_checks = n_checks;
                        report.checks = ptrs;
                        report.log_state_id = (char *)strempty(log_state);
                        _cleanup_(freep) LogProto *log_proto = calloc(1, sizeof(LogProto));
                        if (!log_proto)
                                return 1;
                        log_proto_build(log_proto, &logs, report.time_unix_ms, &report);
                        size = vigil__node_report__get_packed_size(&report);
                        body = malloc(size ?: 1);
                        if (!body)
                                return 1;
                        vigil__node_report__pack(&report, body);
                }

                HttpRequest req = {
                        .method = "POST",
                        .url = url,
                        .content_type = content_type,
                        .body = body,
                        .body_size = size,
                        .bearer_token = token,
                        .timeout = 30 * USEC_PER_SEC,
                };
                HttpResponse resp = {};
                r = http_request(&req, &resp);
                if (r < 0) {
                        printf("ERR %s\n", strerror(-r));
                        fflush(stdout);
                        return 1;
                }
                printf("%ld %s\n", resp.status, strempty(resp.body));
                fflush(stdout);
                if (resp.status < 200 || resp.status > 299)
                        failures++;
                http_response_done(&resp);
        }
        return failures > 0 ? 1 : 0;
}
