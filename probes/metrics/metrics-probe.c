/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>

#include "http-client.h"
#include "json-util.h"
#include "metrics-probe.h"
#include "ufs.h"

#define DEFAULT_SCRAPE_TIMEOUT (2 * USEC_PER_SEC)
#define DEFAULT_MAX_PAGE (8u * 1024 * 1024)
#define DEFAULT_HIT_RATE_WARN 0.5
#define DEFAULT_HIT_RATE_MIN_READ (1024 * 1024)
#define DEFAULT_UFS_ERRORS_WARN 0.1
#define DEFAULT_UFS_ERRORS_CRIT 1.0
#define DEFAULT_RPS_FACTOR 2.0
#define DEFAULT_RPS_WINDOW (10 * USEC_PER_MINUTE)
#define DEFAULT_RPS_FLOOR 10.0
/* The child's deadline beyond the transfer's: time to start and to write its page. */
#define DEADLINE_MARGIN (500 * USEC_PER_MSEC)
#define RPS_HISTORY_MAX 512
#define OTHER_KEY "(other)"
#define ROLE_NAME_MAX 63

static const char *const role_names[_METRICS_ROLE_MAX] = {
        [METRICS_ROLE_WORKER] = "worker",
        [METRICS_ROLE_FUSE] = "fuse",
        [METRICS_ROLE_COORDINATOR] = "coordinator",
};

static const char *const default_metric[_METRICS_FAMILY_MAX] = {
        [METRICS_REQUESTS] = "alluxio_data_access_bytes_count",
        [METRICS_CACHED_READ] = "alluxio_cached_data_read_bytes_total",
        [METRICS_UFS_BYTES] = "alluxio_ufs_data_access_bytes_total",
        [METRICS_FUSE_OPS] = "alluxio_fuse_result",
        [METRICS_FUSE_CONCURRENCY] = "alluxio_fuse_concurrency",
        [METRICS_UFS_ERRORS] = "alluxio_ufs_error",
};

/* The metrics each role is expected to serve: the others' absence is not news. */
static const unsigned role_families[_METRICS_ROLE_MAX] = {
        [METRICS_ROLE_WORKER] = 1u << METRICS_REQUESTS | 1u << METRICS_CACHED_READ |
                1u << METRICS_UFS_BYTES | 1u << METRICS_UFS_ERRORS,
        [METRICS_ROLE_FUSE] = 1u << METRICS_FUSE_OPS | 1u << METRICS_FUSE_CONCURRENCY,
        [METRICS_ROLE_COORDINATOR] = 0,
};

MetricsRole metrics_role_from_name(const char *name) {
        if (isempty(name) || strlen(name) > ROLE_NAME_MAX)
                return -EINVAL;
        for (MetricsRole r = 0; r < _METRICS_ROLE_MAX; r++) {
                const char *rest = startswith(name, role_names[r]);
                if (!rest)
                        continue;
                if (*rest == 0)
                        return r;
                if (*rest != '-' || rest[1] == 0)
                        continue;
                for (const char *p = rest + 1; *p; p++)
                        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("-_.", *p))
                                return -EINVAL;
                return r;
        }
        return -EINVAL;
}

const char *metrics_role_to_string(MetricsRole r) {
        return r >= 0 && r < _METRICS_ROLE_MAX ? role_names[r] : NULL;
}

const char *metrics_family_name(const MetricsSettings *s, MetricsFamily f) {
        return s->metric[f] ?: default_metric[f];
}

/* --- settings ----------------------------------------------------------------------------- */

static int parse_number(
        const char *value, double min, double max, bool percent, double *ret, char **ret_reason) {
        char *end = NULL;
        double v;

        errno = 0;
        v = strtod(value, &end);
        if (percent && end != value && *end == '%') {
                v /= 100;
                end++;
        }
        if (errno != 0 || end == value || *end || !isfinite(v) || v < min || v > max)
                return asprintf(ret_reason, "'%s' is not a number from %g to %g%s", value, min, max,
                               percent ? " (or a percentage)" : "") < 0
                        ? -ENOMEM
                        : -EINVAL;
        *ret = v;
        return 0;
}

#define DEFINE_NUMBER_PARSER(field, min, max, percent)                                                      \
        static int parse_##field(void *obj, const char *value, char **ret_reason) {                         \
                return parse_number(                                                                        \
                        value, min, max, percent, &((MetricsSettings *)obj)->field, ret_reason);            \
        }

DEFINE_NUMBER_PARSER(hit_rate_warn, 0, 1, true)
DEFINE_NUMBER_PARSER(ufs_errors_warn, 0, 1e9, false)
DEFINE_NUMBER_PARSER(ufs_errors_crit, 0, 1e9, false)
DEFINE_NUMBER_PARSER(rps_factor, 1, 1e6, false)
DEFINE_NUMBER_PARSER(rps_floor, 0, 1e9, false)

#define O(field) offsetof(MetricsSettings, field)

static const ConfigOption metrics_options[] = {
        {"url", 0, CONFIG_STRING, O(url), "URL", "the endpoint's page, e.g. http://127.0.0.1:30000/metrics"},
        {"scrape_timeout", 0, CONFIG_DURATION, O(scrape_timeout), "DURATION",
                "deadline of the HTTP transfer (the probe's deadline adds 500ms unless 'timeout' is set)"},
        {"max_page", 0, CONFIG_SIZE, O(max_page), "BYTES",
                "a larger page is an error, never buffered (parsed as it arrives)"},
        {"requests_metric", 0, CONFIG_STRING, O(metric[METRICS_REQUESTS]), "NAME",
                "worker requests, a counter by method (default: alluxio_data_access_bytes_count)"},
        {"cached_read_metric", 0, CONFIG_STRING, O(metric[METRICS_CACHED_READ]), "NAME",
                "bytes read from the cache, a counter (default: alluxio_cached_data_read_bytes_total)"},
        {"ufs_bytes_metric", 0, CONFIG_STRING, O(metric[METRICS_UFS_BYTES]), "NAME",
                "bytes read from and written to the UFS, a counter by method (default: "
                "alluxio_ufs_data_access_bytes_total)"},
        {"fuse_ops_metric", 0, CONFIG_STRING, O(metric[METRICS_FUSE_OPS]), "NAME",
                "FUSE operations, a counter by operation (default: alluxio_fuse_result)"},
        {"fuse_concurrency_metric", 0, CONFIG_STRING, O(metric[METRICS_FUSE_CONCURRENCY]), "NAME",
                "FUSE operations in flight, a gauge (default: alluxio_fuse_concurrency)"},
        {"ufs_errors_metric", 0, CONFIG_STRING, O(metric[METRICS_UFS_ERRORS]), "NAME",
                "UFS errors, a counter by UFS and error code (default: alluxio_ufs_error)"},
        {"method_label", 0, CONFIG_STRING, O(method_label), "LABEL",
                "label of the requests and UFS bytes metrics that names the method (default: method)"},
        {"ufs_read_method", 0, CONFIG_STRING, O(ufs_read_method), "VALUE",
                "method of UFS reads; samples without the label count as reads too (default: read)"},
        {"ufs_write_method", 0, CONFIG_STRING, O(ufs_write_method), "VALUE",
                "method of UFS writes (default: write)"},
        {"fuse_op_label", 0, CONFIG_STRING, O(fuse_op_label), "LABEL",
                "label of the FUSE operations metric that names the operation (default: method)"},
        {"ufs_label", 0, CONFIG_STRING, O(ufs_label), "LABEL",
                "label of the UFS errors metric that names the UFS, a URI or a scheme (default: ufs)"},
        {"error_code_label", 0, CONFIG_STRING, O(error_code_label), "LABEL",
                "label of the UFS errors metric that holds the error code (default: error_code)"},
        {"expected_errors", 0, CONFIG_STRING, O(expected_errors), "LIST",
                "UFS error codes that are normal, per UFS scheme, e.g. 's3:404,403 hdfs: *:404' ('*': "
                "every other scheme; 'hdfs:': none) (default: *:404)"},
        {"checks", 0, CONFIG_STRING, O(checks), "LIST",
                "checks besides metrics.scrape: rps, hit_rate, ufs_errors, or none (default: all three for "
                "a "
                "worker, none for fuse and coordinator)"},
        {"hit_rate_warn", 0, CONFIG_CUSTOM, O(hit_rate_warn), "RATIO",
                "metrics.hit_rate is WARN below this, 0..1 or a percentage (default: 0.5)", 0,
                parse_hit_rate_warn},
        {"hit_rate_min_read", 0, CONFIG_SIZE, O(hit_rate_min_read), "BYTES",
                "bytes read per second (cached + UFS) below which the hit rate is shown but not judged"},
        {"ufs_errors_warn", 0, CONFIG_CUSTOM, O(ufs_errors_warn), "PER_S",
                "metrics.ufs_errors is WARN above this many unexpected UFS errors per second (default: 0.1)",
                0, parse_ufs_errors_warn},
        {"ufs_errors_crit", 0, CONFIG_CUSTOM, O(ufs_errors_crit), "PER_S",
                "... and CRIT above this many (default: 1)", 0, parse_ufs_errors_crit},
        {"rps_factor", 0, CONFIG_CUSTOM, O(rps_factor), "FACTOR",
                "metrics.rps is WARN when requests per second rose more than this factor above the lowest "
                "rate within rps_window (default: 2)",
                0, parse_rps_factor},
        {"rps_window", 0, CONFIG_DURATION, O(rps_window), "DURATION", "the window of rps_factor"},
        {"rps_floor", 0, CONFIG_CUSTOM, O(rps_floor), "PER_S",
                "the rise is measured from at least this many requests per second, so that an idle worker "
                "waking up is no warning (default: 10)",
                0, parse_rps_floor},
};

static void metrics_settings_init(void *p) {
        *(MetricsSettings *)p = (MetricsSettings){
                .scrape_timeout = DEFAULT_SCRAPE_TIMEOUT,
                .max_page = DEFAULT_MAX_PAGE,
                .hit_rate_warn = DEFAULT_HIT_RATE_WARN,
                .hit_rate_min_read = DEFAULT_HIT_RATE_MIN_READ,
                .ufs_errors_warn = DEFAULT_UFS_ERRORS_WARN,
                .ufs_errors_crit = DEFAULT_UFS_ERRORS_CRIT,
                .rps_factor = DEFAULT_RPS_FACTOR,
                .rps_window = DEFAULT_RPS_WINDOW,
                .rps_floor = DEFAULT_RPS_FLOOR,
        };
}

static void metrics_settings_done(void *p) {
        config_free_fields(metrics_options, ELEMENTSOF(metrics_options), p);
}

int metrics_checks_parse(const char *value, MetricsRole role, unsigned *ret) {
        static const struct {
                const char *name;
                unsigned bit;
        } names[] = {
                {"rps", METRICS_CHECK_RPS},
                {"hit_rate", METRICS_CHECK_HIT_RATE},
                {"ufs_errors", METRICS_CHECK_UFS_ERRORS},
        };
        unsigned bits = 0;
        bool none = false;

        if (!value) {
                *ret = role == METRICS_ROLE_WORKER
                        ? METRICS_CHECK_RPS | METRICS_CHECK_HIT_RATE | METRICS_CHECK_UFS_ERRORS
                        : 0;
                return 0;
        }
        for (const char *p = value; *p;) {
                size_t n = strcspn(p, " \t,");
                size_t i;
                if (n == 0) {
                        p++;
                        continue;
                }
                if (n == 4 && strncmp(p, "none", 4) == 0)
                        none = true;
                else {
                        for (i = 0; i < ELEMENTSOF(names); i++)
                                if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
                                        break;
                        if (i >= ELEMENTSOF(names))
                                return -EINVAL;
                        bits |= names[i].bit;
                }
                p += n;
        }
        if (none && bits)
                return -EINVAL;
        *ret = bits;
        return 0;
}

double metrics_counter_increase(double prev, double cur) {
        return cur >= prev ? cur - prev : cur;
}

static int reason(char **ret_reason, const char *format, ...) _printf_(2, 3);
static int reason(char **ret_reason, const char *format, ...) {
        va_list ap;
        int r;
        va_start(ap, format);
        r = vasprintf(ret_reason, format, ap);
        va_end(ap);
        return r < 0 ? -ENOMEM : -EINVAL;
}

static int metrics_settings_check(const char *target, const void *p, char **ret_reason) {
        const MetricsSettings *s = p;
        MetricsRole role = metrics_role_from_name(target);
        unsigned checks;

        if (role < 0)
                return reason(ret_reason,
                        "'%s' is not an endpoint name: worker, fuse or coordinator, optionally with -NAME",
                        target);
        if (isempty(s->url))
                return reason(ret_reason, "no 'url': set url = URL in [metrics %s] or give --metrics %s=URL",
                        target, target);
        if (!startswith(s->url, "http://") && !startswith(s->url, "https://"))
                return reason(ret_reason, "'url' %s is not an http:// or https:// URL", s->url);
        if (s->scrape_timeout == 0)
                return reason(ret_reason, "'scrape_timeout' must be more than 0");
        if (s->max_page < 1024)
                return reason(ret_reason, "'max_page' must be at least 1K");
        for (size_t i = 0; i < ELEMENTSOF(metrics_options); i++) {
                const ConfigOption *o = &metrics_options[i];
                const char *v =
                        o->type == CONFIG_STRING ? *(char *const *)((const char *)s + o->offset) : NULL;
                /* A name or label can be changed, not emptied; empty lists are lists of nothing. */
                if (v && !*v && !streq(o->key, "checks") && !streq(o->key, "expected_errors"))
                        return reason(ret_reason, "'%s' is empty", o->key);
        }
        if (metrics_checks_parse(s->checks, role, &checks) < 0)
                return reason(ret_reason, "'checks' is not a list of rps, hit_rate, ufs_errors, or none");
        if (ufs_error_expected(s->expected_errors, "", "") < 0)
                return reason(ret_reason,
                        "'expected_errors' is not a list of SCHEME:CODE,CODE entries (e.g. 's3:404 *:404')");
        if (s->ufs_errors_crit < s->ufs_errors_warn)
                return reason(ret_reason, "'ufs_errors_crit' is below 'ufs_errors_warn'");
        if (s->rps_window == 0)
                return reason(ret_reason, "'rps_window' must be more than 0");
        return 0;
}

static int metrics_target_normalize(const char *target, char **ret, char **ret_reason) {
        if (metrics_role_from_name(target) < 0) {
                if (ret_reason)
                        return reason(ret_reason,
                                "'%s' is not an endpoint name: worker, fuse or coordinator, optionally with "
                                "-NAME",
                                target);
                return -EINVAL;
        }
        char *copy = strdup(target);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static usec_t metrics_default_timeout(const void *p) {
        return ((const MetricsSettings *)p)->scrape_timeout + DEADLINE_MARGIN;
}

/* --- reducing a page (the child) ---------------------------------------------------------- */

static const char *label_value(const PromSample *s, const char *name) {
        for (size_t i = 0; i < s->n_labels; i++)
                if (streq(s->labels[i].name, name))
                        return s->labels[i].value;
        return NULL;
}

static void sums_add(MetricsSums *m, const char *key, const char *code, double v) {
        char k[METRICS_KEY_MAX], c[METRICS_CODE_MAX];
        MetricsSeries *x = NULL;

        snprintf(k, sizeof(k), "%s", strempty(key));
        snprintf(c, sizeof(c), "%s", strempty(code));
        m->samples++;
        if (isnan(v))
                return; /* present, but says nothing */
        for (uint32_t i = 0; i < m->n && !x; i++)
                if (streq(m->series[i].key, k) && streq(m->series[i].code, c))
                        x = &m->series[i];
        if (!x && m->n < METRICS_SERIES_MAX - 1) {
                x = &m->series[m->n++];
                memcpy(x->key, k, sizeof(k));
                memcpy(x->code, c, sizeof(c));
        }
        if (!x) {
                /* Out of room: further keys are summed into one last series rather than dropped. */
                m->folded++;
                x = &m->series[METRICS_SERIES_MAX - 1];
                if (m->n < METRICS_SERIES_MAX) {
                        m->n = METRICS_SERIES_MAX;
                        snprintf(x->key, sizeof(x->key), OTHER_KEY);
                        x->code[0] = 0;
                        x->value = 0;
                }
        }
        x->value += v;
}

void metrics_shared_add_sample(MetricsShared *sh, const MetricsSettings *s, const PromSample *sample) {
        for (MetricsFamily f = 0; f < _METRICS_FAMILY_MAX; f++) {
                const char *key = NULL, *code = NULL;
                if (!streq(sample->name, metrics_family_name(s, f)))
                        continue;
                switch (f) {
                case METRICS_REQUESTS:
                case METRICS_UFS_BYTES:
                        key = label_value(sample, s->method_label ?: "method");
                        break;
                case METRICS_FUSE_OPS:
                        key = label_value(sample, s->fuse_op_label ?: "method");
                        break;
                case METRICS_UFS_ERRORS:
                        key = label_value(sample, s->ufs_label ?: "ufs");
                        code = label_value(sample, s->error_code_label ?: "error_code");
                        break;
                default:
                        break;
                }
                sums_add(&sh->sums[f], key, code, sample->value);
        }
}

typedef struct Scrape {
        MetricsShared *sh;
        const MetricsSettings *s;
        HttpTransfer *transfer;
        PromParser *parser;
        int parse_error;
} Scrape;

static int on_sample(const PromSample *sample, void *userdata) {
        Scrape *sc = userdata;
        metrics_shared_add_sample(sc->sh, sc->s, sample);
        return 0;
}

/* The page is parsed as it arrives and never kept: memory stays bounded by the parser's line. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
        Scrape *sc = userdata;
        MetricsShared *sh = sc->sh;
        size_t n = size * nmemb;
        int r;

        if (sh->at == 0) {
                long status = 0;
                sh->at = now_usec(CLOCK_MONOTONIC);
                (void)curl_easy_getinfo(sc->transfer->easy, CURLINFO_RESPONSE_CODE, &status);
                sh->http_status = status;
        }
        if (sh->page_bytes + n > sc->s->max_page) {
                sc->transfer->too_big = true;
                return 0;
        }
        sh->page_bytes += n;
        if (sh->http_status != 200)
                return n; /* an error page: only its status matters */
        r = prom_parser_feed(sc->parser, data, n);
        if (r < 0) {
                sc->parse_error = r;
                return 0;
        }
        return n;
}

static int parse_failed(MetricsShared *sh, const PromParser *p, int r) {
        const char *e = prom_parser_error(p);
        if (r == -E2BIG && !e)
                e = "a line longer than 64 KiB";
        snprintf(sh->error, sizeof(sh->error), "%s", e ?: "malformed page");
        return r == -E2BIG ? -E2BIG : -EBADMSG;
}

static int scrape(MetricsShared *sh, const MetricsSettings *s) {
        _cleanup_(http_transfer_freep) HttpTransfer *t = NULL;
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        Scrape sc = {.sh = sh, .s = s};
        HttpRequest req = {
                .url = s->url,
                .accept = "text/plain;version=0.0.4;q=1,*/*;q=0.1",
                .timeout = s->scrape_timeout,
                .max_response = s->max_page,
        };
        int r;

        http_global_init();
        r = prom_parser_new(0, on_sample, &sc, &p);
        if (r < 0)
                return r;
        r = http_transfer_new(&req, &t);
        if (r < 0)
                return r;
        sc.transfer = t;
        sc.parser = p;
        curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, &sc);
        curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");

        CURLcode code = curl_easy_perform(t->easy);
        if (sc.parse_error < 0)
                return parse_failed(sh, p, sc.parse_error);
        r = http_transfer_finish(t, code);
        if (r < 0)
                return r;
        sh->http_status = t->response.status;
        if (sh->at == 0)
                sh->at = now_usec(CLOCK_MONOTONIC);
        if (sh->http_status != 200)
                return 0;
        r = prom_parser_finish(p);
        if (r < 0)
                return parse_failed(sh, p, r);
        sh->samples = prom_parser_samples(p);
        return 0;
}

/* --- instance ----------------------------------------------------------------------------- */

/*
 * The base of the next rates: the time of the last good page and, per family, the sums of the last
 * page that had the family. A family that left the page for a while is compared, when it returns,
 * with its own last values over its own interval (as irate() takes a series' last two samples),
 * rather than counted from 0 as a spike.
 */
typedef struct MetricsBase {
        usec_t at;
        usec_t seen_at[_METRICS_FAMILY_MAX]; /* 0: not seen on any page yet */
        MetricsSums sums[_METRICS_FAMILY_MAX];
} MetricsBase;

typedef struct RpsPoint {
        usec_t at;
        double rps;
} RpsPoint;

typedef struct MetricsProbe {
        char *name; /* the target: "worker", "fuse-pvc-a" */
        MetricsRole role;
        MetricsShared *shared; /* MAP_SHARED, written by the child */
        MetricsBase *base; /* what the last good scrapes said; NULL before the first */
        char *base_signature; /* the settings they were made with */
        /* Request rates of the window, a monotonic queue: rates increase from the oldest kept, so the
         * oldest is the window's lowest. */
        RpsPoint rps[RPS_HISTORY_MAX];
        size_t rps_head, rps_n;
} MetricsProbe;

MetricsShared *metrics_probe_shared(void *state) {
        return ((MetricsProbe *)state)->shared;
}

static void *metrics_probe_free(void *p) {
        MetricsProbe *m = p;
        if (!m)
                return NULL;
        probe_shared_free(m->shared, sizeof(MetricsShared));
        free(m->base);
        free(m->base_signature);
        free(m->name);
        return mfree(m);
}

static int metrics_probe_init(const char *target, void **ret_state) {
        MetricsRole role = metrics_role_from_name(target);
        MetricsProbe *m;

        if (role < 0)
                return -EINVAL;
        m = calloc(1, sizeof(MetricsProbe));
        if (!m)
                return -ENOMEM;
        m->role = role;
        m->name = strdup(target);
        m->shared = probe_shared_new(sizeof(MetricsShared));
        if (!m->name || !m->shared) {
                metrics_probe_free(m);
                return -ENOMEM;
        }
        *ret_state = m;
        return 0;
}

static int metrics_probe_start(void *state, const void *settings) {
        MetricsProbe *m = state;
        memset(m->shared, 0, sizeof(MetricsShared));
        return 0;
}

static int metrics_probe_run(void *state, const void *settings) {
        MetricsShared *sh = ((MetricsProbe *)state)->shared;
        int r;

        op_record_begin(&sh->op);
        r = scrape(sh, settings);
        op_record_end(&sh->op, r < 0 ? -r : 0);
        return 0;
}

/* --- rates (the agent) -------------------------------------------------------------------- */

static RpsPoint *rps_at(MetricsProbe *m, size_t i) {
        return &m->rps[(m->rps_head + i) % RPS_HISTORY_MAX];
}

/* The lowest rate since 'since', if any was kept. */
static bool rps_lowest(MetricsProbe *m, usec_t since, double *ret) {
        while (m->rps_n > 0 && rps_at(m, 0)->at < since) {
                m->rps_head = (m->rps_head + 1) % RPS_HISTORY_MAX;
                m->rps_n--;
        }
        if (m->rps_n == 0)
                return false;
        *ret = rps_at(m, 0)->rps;
        return true;
}

static void rps_push(MetricsProbe *m, usec_t at, double rps) {
        while (m->rps_n > 0 && rps_at(m, m->rps_n - 1)->rps >= rps)
                m->rps_n--;
        if (m->rps_n == RPS_HISTORY_MAX) {
                /* A rise longer than the queue: compare with a later, higher base. */
                m->rps_head = (m->rps_head + 1) % RPS_HISTORY_MAX;
                m->rps_n--;
        }
        *rps_at(m, m->rps_n++) = (RpsPoint){.at = at, .rps = rps};
}

/* What decides whether two scrapes may be compared: the URL, the names and the labels. */
static int settings_signature(const MetricsSettings *s, char **ret) {
        _cleanup_(freep) char *sig = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&sig, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s", strempty(s->url));
        for (MetricsFamily i = 0; i < _METRICS_FAMILY_MAX; i++)
                fprintf(f, "\n%s", metrics_family_name(s, i));
        fprintf(f, "\n%s\n%s\n%s\n%s", strempty(s->method_label), strempty(s->fuse_op_label),
                strempty(s->ufs_label), strempty(s->error_code_label));
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(sig);
        return 0;
}

static const MetricsSeries *find_series(const MetricsSums *m, const MetricsSeries *like) {
        for (uint32_t i = 0; m && i < m->n; i++)
                if (streq(m->series[i].key, like->key) && streq(m->series[i].code, like->code))
                        return &m->series[i];
        return NULL;
}

/* A series absent from the previous page counts from 0: labelled counters appear at their first
 * increment, and a restarted process starts them at 0 too. */
static double series_increase(const MetricsSums *prev, const MetricsSeries *cur) {
        const MetricsSeries *p = find_series(prev, cur);
        return metrics_counter_increase(p ? p->value : 0, cur->value);
}

/* The sum of the increases of family f since base, and the seconds they took. */
static double family_increase(const MetricsBase *base, const MetricsShared *cur, MetricsFamily f,
        bool (*match)(const MetricsSeries *x, const void *userdata), const void *userdata,
        double *ret_interval) {
        /* A family never seen before is new since the last page: it counts from 0 over that interval. */
        const MetricsSums *prev = base->seen_at[f] ? &base->sums[f] : NULL;
        usec_t since = base->seen_at[f] ?: base->at;
        double sum = 0;

        for (uint32_t i = 0; i < cur->sums[f].n; i++)
                if (!match || match(&cur->sums[f].series[i], userdata))
                        sum += series_increase(prev, &cur->sums[f].series[i]);
        *ret_interval = (double)(cur->at - since) / USEC_PER_SEC;
        return sum;
}

/* Matches UFS reads: the read method, or no method label at all. */
static bool is_read(const MetricsSeries *x, const void *userdata) {
        const MetricsSettings *s = userdata;
        return isempty(x->key) || strcasecmp(x->key, s->ufs_read_method ?: "read") == 0;
}

static bool is_write(const MetricsSeries *x, const void *userdata) {
        const MetricsSettings *s = userdata;
        return !is_read(x, userdata) && strcasecmp(x->key, s->ufs_write_method ?: "write") == 0;
}

/* Matches one series (to take a family's increase key by key). */
static bool series_is(const MetricsSeries *x, const void *userdata) {
        const MetricsSeries *like = userdata;
        return streq(x->key, like->key) && streq(x->code, like->code);
}

/* Remembers cur as the base of the next rates, keeping the last values of families it lacks. */
static void base_update(MetricsBase *base, const MetricsShared *cur) {
        base->at = cur->at;
        for (MetricsFamily f = 0; f < _METRICS_FAMILY_MAX; f++)
                if (cur->sums[f].samples > 0) {
                        base->seen_at[f] = cur->at;
                        base->sums[f] = cur->sums[f];
                }
}

typedef struct Derived {
        double interval_s; /* since the last good page; 0: the first scrape */
        unsigned missing; /* bits of families the role or its checks need that are not on the page */
        double unexpected_errors_per_s;
        double expected_errors_per_s;
} Derived;

static unsigned wanted_families(MetricsRole role, unsigned checks) {
        unsigned w = role_families[role];
        if (checks & METRICS_CHECK_RPS)
                w |= 1u << METRICS_REQUESTS;
        if (checks & METRICS_CHECK_HIT_RATE)
                w |= 1u << METRICS_CACHED_READ | 1u << METRICS_UFS_BYTES;
        if (checks & METRICS_CHECK_UFS_ERRORS)
                w |= 1u << METRICS_UFS_ERRORS;
        return w;
}

static int cmp_key_rate(const void *a, const void *b) {
        double x = (*(Vigil__KeyRate *const *)a)->per_s, y = (*(Vigil__KeyRate *const *)b)->per_s;
        return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_error_rate(const void *a, const void *b) {
        double x = (*(Vigil__UfsErrorRate *const *)a)->per_s, y = (*(Vigil__UfsErrorRate *const *)b)->per_s;
        return x < y ? 1 : x > y ? -1 : 0;
}

static Vigil__MetricsDetails *details_free(Vigil__MetricsDetails *d) {
        if (d)
                protobuf_c_message_free_unpacked(&d->base, NULL);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Vigil__MetricsDetails *, details_free);

static int add_key_rate(Vigil__MetricsDetails *d, const char *key, double per_s) {
        Vigil__KeyRate *k = malloc(sizeof(Vigil__KeyRate));
        if (!k)
                return -ENOMEM;
        vigil__key_rate__init(k);
        k->per_s = per_s;
        if (!(k->key = strdup(key))) {
                free(k);
                return -ENOMEM;
        }
        d->fuse_ops_per_s[d->n_fuse_ops_per_s++] = k;
        return 0;
}

static int add_error_rate(Vigil__MetricsDetails *d, const MetricsSeries *x, double per_s, bool expected) {
        Vigil__UfsErrorRate *e = malloc(sizeof(Vigil__UfsErrorRate));
        if (!e)
                return -ENOMEM;
        vigil__ufs_error_rate__init(e);
        e->per_s = per_s;
        e->expected = expected;
        d->ufs_errors[d->n_ufs_errors++] = e;
        if (!(e->ufs = strdup(x->key)) || !(e->error_code = strdup(x->code)))
                return -ENOMEM; /* freed with d: the unset string stays NULL */
        return 0;
}

/* Computes what cur says against base (NULL: the first scrape) into *ret_details and *ret. */
static int derive(const MetricsBase *base, const MetricsShared *cur, const MetricsSettings *s,
        MetricsRole role, unsigned checks, Vigil__MetricsDetails **ret_details, Derived *ret) {
        _cleanup_(details_freep) Vigil__MetricsDetails *d = malloc(sizeof(Vigil__MetricsDetails));
        Derived x = {};
        double inc, dt;
        int r;

        if (!d)
                return -ENOMEM;
        vigil__metrics_details__init(d);
        if (!(d->role = strdup(role_names[role])))
                return -ENOMEM;
        d->samples = cur->samples;
        d->page_bytes = cur->page_bytes;

        unsigned wanted = wanted_families(role, checks);
        for (MetricsFamily f = 0; f < _METRICS_FAMILY_MAX; f++)
                if ((wanted & (1u << f)) && cur->sums[f].samples == 0)
                        x.missing |= 1u << f;
        if (x.missing) {
                d->missing = calloc(_METRICS_FAMILY_MAX, sizeof(char *));
                if (!d->missing)
                        return -ENOMEM;
                for (MetricsFamily f = 0; f < _METRICS_FAMILY_MAX; f++)
                        if (x.missing & (1u << f)) {
                                if (!(d->missing[d->n_missing] = strdup(metrics_family_name(s, f))))
                                        return -ENOMEM;
                                d->n_missing++;
                        }
        }
        const MetricsSums *conc = &cur->sums[METRICS_FUSE_CONCURRENCY];
        for (uint32_t i = 0; i < conc->n; i++)
                d->fuse_concurrency += conc->series[i].value;

        if (base && cur->at > base->at)
                x.interval_s = (double)(cur->at - base->at) / USEC_PER_SEC;
        d->interval_s = x.interval_s;
        if (x.interval_s <= 0) {
                *ret_details = TAKE_PTR(d);
                *ret = x;
                return 0;
        }

        /* Each family over its own interval: the page's, unless the family was away for a while. */
        inc = family_increase(base, cur, METRICS_REQUESTS, NULL, NULL, &dt);
        d->requests_per_s = inc / dt;
        double cached = family_increase(base, cur, METRICS_CACHED_READ, NULL, NULL, &dt);
        d->cached_read_bytes_per_s = cached / dt;
        double cached_dt = dt;
        double ufs_read = family_increase(base, cur, METRICS_UFS_BYTES, is_read, s, &dt);
        d->ufs_read_bytes_per_s = ufs_read / dt;
        inc = family_increase(base, cur, METRICS_UFS_BYTES, is_write, s, &dt);
        d->ufs_write_bytes_per_s = inc / dt;
        if (cur->sums[METRICS_CACHED_READ].samples > 0 && cur->sums[METRICS_UFS_BYTES].samples > 0 &&
                cached + ufs_read > 0) {
                /* Over one interval, a ratio of the increases: it does not depend on the time at all. */
                if (cached_dt == dt)
                        d->hit_rate = cached / (cached + ufs_read);
                else
                        d->hit_rate = d->cached_read_bytes_per_s /
                                (d->cached_read_bytes_per_s + d->ufs_read_bytes_per_s);
                d->has_hit_rate = true;
        }

        const MetricsSums *m = &cur->sums[METRICS_FUSE_OPS];
        if (m->n > 0 && !(d->fuse_ops_per_s = calloc(m->n, sizeof(Vigil__KeyRate *))))
                return -ENOMEM;
        for (uint32_t i = 0; i < m->n; i++) {
                inc = family_increase(base, cur, METRICS_FUSE_OPS, series_is, &m->series[i], &dt);
                if (inc > 0 && (r = add_key_rate(d, m->series[i].key, inc / dt)) < 0)
                        return r;
        }
        if (d->n_fuse_ops_per_s > 1)
                qsort(d->fuse_ops_per_s, d->n_fuse_ops_per_s, sizeof(Vigil__KeyRate *), cmp_key_rate);

        m = &cur->sums[METRICS_UFS_ERRORS];
        if (m->n > 0 && !(d->ufs_errors = calloc(m->n, sizeof(Vigil__UfsErrorRate *))))
                return -ENOMEM;
        double unexpected = 0, expected = 0;
        for (uint32_t i = 0; i < m->n; i++) {
                inc = family_increase(base, cur, METRICS_UFS_ERRORS, series_is, &m->series[i], &dt);
                if (inc <= 0)
                        continue;
                bool e = ufs_error_expected(s->expected_errors, m->series[i].key, m->series[i].code) > 0;
                if (e)
                        expected += inc;
                else
                        unexpected += inc;
                if ((r = add_error_rate(d, &m->series[i], inc / dt, e)) < 0)
                        return r;
        }
        /* One family, one interval: dt is the same for every series of it. */
        x.unexpected_errors_per_s = m->n > 0 ? unexpected / dt : 0;
        x.expected_errors_per_s = m->n > 0 ? expected / dt : 0;
        if (d->n_ufs_errors > 1)
                qsort(d->ufs_errors, d->n_ufs_errors, sizeof(Vigil__UfsErrorRate *), cmp_error_rate);

        *ret_details = TAKE_PTR(d);
        *ret = x;
        return 0;
}

/* --- checks ------------------------------------------------------------------------------- */

static const char *format_bytes(char *buf, size_t size, double bytes) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        size_t u = 0;
        while (bytes >= 1024 && u + 1 < ELEMENTSOF(units)) {
                bytes /= 1024;
                u++;
        }
        snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
        return buf;
}
#define FORMAT_BYTES(b) format_bytes((char[32]){}, 32, (b))

/* Names of the families in bits, ", "-separated, into buf. */
static const char *family_list(const MetricsSettings *s, unsigned bits, char *buf, size_t size) {
        size_t l = 0;
        buf[0] = 0;
        for (MetricsFamily f = 0; f < _METRICS_FAMILY_MAX; f++)
                if (bits & (1u << f))
                        l += snprintf(buf + l, l < size ? size - l : 0, "%s%s", l ? ", " : "",
                                metrics_family_name(s, f));
        return buf;
}

static int results_add(CheckList *results, CheckResult **c) {
        int r = check_list_add(results, *c);
        if (r >= 0)
                *c = NULL;
        return r;
}

/* Sets the metrics.scrape result from the child's page; *ret_ok: the page can be used. */
static int classify_scrape(CheckResult *c, const MetricsSettings *s, const MetricsShared *sh,
        const ProbeOutcome *o, bool *ret_ok) {
        usec_t now = now_usec(CLOCK_MONOTONIC);
        const char *url = s->url;
        int e = sh->op.error;

        *ret_ok = false;
        c->latency_us = op_record_latency(&sh->op, now);
        switch (o->kind) {
        case PROBE_EXITED:
                break;
        case PROBE_TIMED_OUT:
        case PROBE_STUCK:
                c->latency_us = o->elapsed;
                return check_set(c, VIGIL_CRIT, 0, "HUNG", "scrape of %s hung for %s%s", url,
                        FORMAT_DURATION(o->elapsed),
                        o->kind == PROBE_STUCK ? ": probe process survived SIGKILL" : "");
        case PROBE_FORK_FAILED:
                return check_set(c, VIGIL_UNKNOWN, -o->error, NULL, "cannot start the probe process: %s",
                        strerror(-o->error));
        default:
                return check_set(c, VIGIL_UNKNOWN, 0, NULL, "no scrape this cycle");
        }
        if (o->child_code != CLD_EXITED)
                return check_set(c, VIGIL_UNKNOWN, 0, "PROBE_DIED", "probe process died: %s",
                        strsignal(o->child_status));
        if (sh->op.state != OP_FINISHED)
                return check_set(c, VIGIL_UNKNOWN, 0, "PROBE_DIED", "probe process exited without scraping");
        switch (e) {
        case 0:
                break;
        case ECONNREFUSED:
                return check_set(
                        c, VIGIL_CRIT, e, NULL, "endpoint unreachable: nothing listening at %s", url);
        case ETIMEDOUT:
                return check_set(c, VIGIL_CRIT, e, NULL, "endpoint unreachable: no answer from %s within %s",
                        url, FORMAT_DURATION(s->scrape_timeout));
        case EHOSTUNREACH:
                return check_set(
                        c, VIGIL_CRIT, e, NULL, "endpoint unreachable: no route to the host of %s", url);
        case ECONNRESET:
                return check_set(
                        c, VIGIL_CRIT, e, NULL, "endpoint unreachable: %s closed the connection", url);
        case EACCES:
                return check_set(c, VIGIL_CRIT, e, NULL, "TLS: the certificate of %s is not trusted", url);
        case EFBIG:
                return check_set(c, VIGIL_CRIT, e, "PAGE_TOO_BIG", "page of %s is larger than max_page (%s)",
                        url, FORMAT_BYTES((double)s->max_page));
        case EBADMSG:
        case E2BIG:
                return check_set(c, VIGIL_CRIT, e, "PARSE_ERROR", "not a Prometheus text page at %s: %s",
                        url, sh->error);
        default:
                return check_set(c, VIGIL_CRIT, e, NULL, "scrape of %s failed: %s", url, strerror(e));
        }
        if (sh->http_status != 200) {
                char code[32];
                snprintf(code, sizeof(code), "HTTP_%" PRIi64, sh->http_status);
                return check_set(c, VIGIL_CRIT, 0, code, "HTTP %" PRIi64 " from %s", sh->http_status, url);
        }
        *ret_ok = true;
        return 0;
}

static int check_rps(MetricsProbe *m, const MetricsSettings *s, const MetricsShared *cur, const Derived *x,
        const Vigil__MetricsDetails *d, CheckResult *c) {
        const char *name = metrics_family_name(s, METRICS_REQUESTS);
        double low;
        int r;

        if (x->missing & (1u << METRICS_REQUESTS))
                return check_set(c, VIGIL_UNKNOWN, 0, "MISSING_METRIC",
                        "%s is not on the page (if this release names it differently: requests_metric)",
                        name);
        if (x->interval_s <= 0)
                return check_set(
                        c, VIGIL_OK, 0, NULL, "first scrape: the request rate comes with the next one");
        if ((r = check_add_double(c, "requests_per_s", d->requests_per_s, "1/s")) < 0)
                return r;
        bool have = rps_lowest(m, cur->at > s->rps_window ? cur->at - s->rps_window : 0, &low);
        rps_push(m, cur->at, d->requests_per_s);
        if (!have)
                return check_set(c, VIGIL_OK, 0, NULL, "%.1f requests/s", d->requests_per_s);
        if ((r = check_add_double(c, "window_low_per_s", low, "1/s")) < 0)
                return r;
        double base = MAX(low, s->rps_floor);
        if (base > 0 && d->requests_per_s > s->rps_factor * base)
                return check_set(c, VIGIL_WARN, 0, "RPS_RISING",
                        "requests rose %.1fx within %s: %.1f/s, lowest %.1f/s (warn above %gx): capacity "
                        "may "
                        "run short",
                        d->requests_per_s / base, FORMAT_DURATION(s->rps_window), d->requests_per_s, low,
                        s->rps_factor);
        return check_set(c, VIGIL_OK, 0, NULL, "%.1f requests/s (lowest within %s: %.1f/s)",
                d->requests_per_s, FORMAT_DURATION(s->rps_window), low);
}

static int check_hit_rate(
        const MetricsSettings *s, const Derived *x, const Vigil__MetricsDetails *d, CheckResult *c) {
        unsigned need = x->missing & (1u << METRICS_CACHED_READ | 1u << METRICS_UFS_BYTES);
        char names[256];
        int r;

        if (need)
                return check_set(c, VIGIL_UNKNOWN, 0, "MISSING_METRIC",
                        "no hit rate: %s not on the page (if this release names %s differently: "
                        "cached_read_metric, ufs_bytes_metric)",
                        family_list(s, need, names, sizeof(names)), need & (need - 1) ? "them" : "it");
        if (x->interval_s <= 0)
                return check_set(c, VIGIL_OK, 0, NULL, "first scrape: the hit rate comes with the next one");
        if ((r = check_add_double(c, "cached_read_bytes_per_s", d->cached_read_bytes_per_s, "B/s")) < 0 ||
                (r = check_add_double(c, "ufs_read_bytes_per_s", d->ufs_read_bytes_per_s, "B/s")) < 0)
                return r;
        if (!d->has_hit_rate)
                return check_set(c, VIGIL_OK, 0, NULL, "no reads");
        if ((r = check_add_double(c, "hit_rate", d->hit_rate, NULL)) < 0)
                return r;
        double read = d->cached_read_bytes_per_s + d->ufs_read_bytes_per_s;
        if (read < (double)s->hit_rate_min_read)
                return check_set(c, VIGIL_OK, 0, NULL,
                        "hit rate %.1f %% on %s/s of reads (not judged below hit_rate_min_read, %s/s)",
                        d->hit_rate * 100, FORMAT_BYTES(read), FORMAT_BYTES((double)s->hit_rate_min_read));
        if (d->hit_rate < s->hit_rate_warn)
                return check_set(c, VIGIL_WARN, 0, "LOW_HIT_RATE",
                        "hit rate %.1f %% below %.1f %%: %s/s from the cache, %s/s from the UFS",
                        d->hit_rate * 100, s->hit_rate_warn * 100, FORMAT_BYTES(d->cached_read_bytes_per_s),
                        FORMAT_BYTES(d->ufs_read_bytes_per_s));
        return check_set(c, VIGIL_OK, 0, NULL, "hit rate %.1f %%: %s/s from the cache, %s/s from the UFS",
                d->hit_rate * 100, FORMAT_BYTES(d->cached_read_bytes_per_s),
                FORMAT_BYTES(d->ufs_read_bytes_per_s));
}

static int check_ufs_errors(
        const MetricsSettings *s, const Derived *x, const Vigil__MetricsDetails *d, CheckResult *c) {
        const char *name = metrics_family_name(s, METRICS_UFS_ERRORS);
        char list[512], expected[64] = "";
        size_t l = 0;
        int r;

        /* Error counters appear at the first error: absence is reported as such, and is not a fault. */
        if (x->missing & (1u << METRICS_UFS_ERRORS))
                return check_set(c, VIGIL_OK, 0, NULL,
                        "%s is not on the page: no UFS error counted yet (or this release names it "
                        "differently: ufs_errors_metric)",
                        name);
        if (x->interval_s <= 0)
                return check_set(
                        c, VIGIL_OK, 0, NULL, "first scrape: UFS error rates come with the next one");
        double unexpected = x->unexpected_errors_per_s, expected_rate = x->expected_errors_per_s;
        if ((r = check_add_double(c, "unexpected_per_s", unexpected, "1/s")) < 0 ||
                (r = check_add_double(c, "expected_per_s", expected_rate, "1/s")) < 0)
                return r;
        if (expected_rate > 0)
                snprintf(expected, sizeof(expected), "; expected ones %.2f/s", expected_rate);
        if (unexpected <= 0)
                return check_set(c, VIGIL_OK, 0, NULL, "no unexpected UFS errors%s", expected);

        list[0] = 0;
        for (size_t i = 0, shown = 0; i < d->n_ufs_errors && shown < 3; i++) {
                const Vigil__UfsErrorRate *e = d->ufs_errors[i];
                if (e->expected)
                        continue;
                l += snprintf(list + l, l < sizeof(list) ? sizeof(list) - l : 0, "%s%s%s%s %.2f/s",
                        shown ? ", " : "", e->ufs, isempty(e->ufs) ? "" : " ",
                        isempty(e->error_code) ? "(no code)" : e->error_code, e->per_s);
                shown++;
        }
        VigilStatus st = unexpected > s->ufs_errors_crit ? VIGIL_CRIT
                : unexpected > s->ufs_errors_warn        ? VIGIL_WARN
                                                         : VIGIL_OK;
        if (st == VIGIL_OK)
                return check_set(c, st, 0, NULL, "unexpected UFS errors %.2f/s, within %g/s: %s%s",
                        unexpected, s->ufs_errors_warn, list, expected);
        return check_set(c, st, 0, "UFS_ERRORS", "unexpected UFS errors %.2f/s (above %g/s): %s%s",
                unexpected, st == VIGIL_CRIT ? s->ufs_errors_crit : s->ufs_errors_warn, list, expected);
}

static int scrape_ok_message(
        CheckResult *c, const MetricsSettings *s, const MetricsShared *sh, const Derived *x) {
        char names[256];
        int r;

        if ((r = check_add_int(c, "samples", (int64_t)sh->samples, NULL)) < 0 ||
                (r = check_add_int(c, "page_bytes", (int64_t)sh->page_bytes, "B")) < 0)
                return r;
        if (x->missing)
                return check_set(c, VIGIL_OK, 0, NULL, "%" PRIu64 " samples, %s; not on the page: %s",
                        sh->samples, FORMAT_BYTES((double)sh->page_bytes),
                        family_list(s, x->missing, names, sizeof(names)));
        return check_set(c, VIGIL_OK, 0, NULL, "%" PRIu64 " samples, %s", sh->samples,
                FORMAT_BYTES((double)sh->page_bytes));
}

static const struct {
        unsigned bit;
        const char *name;
} check_names[] = {
        {METRICS_CHECK_RPS, "metrics.rps"},
        {METRICS_CHECK_HIT_RATE, "metrics.hit_rate"},
        {METRICS_CHECK_UFS_ERRORS, "metrics.ufs_errors"},
};

static int metrics_probe_collect(
        void *state, const void *settings, const ProbeOutcome *o, CheckList *results) {
        MetricsProbe *m = state;
        const MetricsSettings *s = settings;
        _cleanup_(check_freep) CheckResult *sc = check_new("metrics.scrape", m->name);
        _cleanup_(details_freep) Vigil__MetricsDetails *d = NULL;
        _cleanup_(freep) char *sig = NULL;
        unsigned checks;
        Derived x;
        bool ok;
        int r;

        if (!sc)
                return -ENOMEM;
        if ((r = metrics_checks_parse(s->checks, m->role, &checks)) < 0)
                return r;
        if ((r = check_add_string(sc, "url", strempty(s->url))) < 0)
                return r;
        if ((r = classify_scrape(sc, s, m->shared, o, &ok)) < 0)
                return r;
        if (!ok) {
                /* The other checks stay in the report, so that they keep their history. */
                if ((r = results_add(results, &sc)) < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(check_names); i++) {
                        if (!(checks & check_names[i].bit))
                                continue;
                        _cleanup_(check_freep) CheckResult *c = check_new(check_names[i].name, m->name);
                        if (!c)
                                return -ENOMEM;
                        if ((r = check_set(c, VIGIL_UNKNOWN, 0, "NO_SCRAPE", "no data: the scrape failed")) <
                                        0 ||
                                (r = results_add(results, &c)) < 0)
                                return r;
                }
                return 0;
        }

        /* Another URL or other names since the last scrape: the two pages are not comparable. */
        if ((r = settings_signature(s, &sig)) < 0)
                return r;
        if (m->base && !streq_ptr(m->base_signature, sig)) {
                m->base = mfree(m->base);
                m->rps_n = 0;
        }
        if ((r = derive(m->base, m->shared, s, m->role, checks, &d, &x)) < 0)
                return r;

        /* d goes into the scrape's result; the other checks borrow it (results own it from here). */
        const Vigil__MetricsDetails *details = d;
        if ((r = scrape_ok_message(sc, s, m->shared, &x)) < 0)
                return r;
        sc->metrics = TAKE_PTR(d);
        if ((r = results_add(results, &sc)) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(check_names); i++) {
                if (!(checks & check_names[i].bit))
                        continue;
                _cleanup_(check_freep) CheckResult *c = check_new(check_names[i].name, m->name);
                if (!c)
                        return -ENOMEM;
                switch (check_names[i].bit) {
                case METRICS_CHECK_RPS:
                        r = check_rps(m, s, m->shared, &x, details, c);
                        break;
                case METRICS_CHECK_HIT_RATE:
                        r = check_hit_rate(s, &x, details, c);
                        break;
                default:
                        r = check_ufs_errors(s, &x, details, c);
                }
                if (r < 0 || (r = results_add(results, &c)) < 0)
                        return r;
        }

        /* Only now is this page the base of the next rates. */
        if (!m->base && !(m->base = calloc(1, sizeof(MetricsBase))))
                return -ENOMEM;
        base_update(m->base, m->shared);
        free(m->base_signature);
        m->base_signature = TAKE_PTR(sig);
        return 0;
}

const ProbeOps metrics_probe_ops = {
        .name = "metrics",
        .options = metrics_options,
        .n_options = ELEMENTSOF(metrics_options),
        .settings_size = sizeof(MetricsSettings),
        .settings_init = metrics_settings_init,
        .settings_done = metrics_settings_done,
        .settings_check = metrics_settings_check,
        .target_normalize = metrics_target_normalize,
        .default_timeout = metrics_default_timeout,
        .default_timeout_key = "scrape_timeout",
        .init = metrics_probe_init,
        .start = metrics_probe_start,
        .run = metrics_probe_run,
        .collect = metrics_probe_collect,
        .free = metrics_probe_free,
};
