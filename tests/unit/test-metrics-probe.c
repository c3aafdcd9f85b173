/* SPDX-License-Identifier: MIT */
/* The metrics probe without a network: pages are filled in as the child would, scrape times are set
 * by the test, and the rates, hit rate, filtered error rates and checks come out exactly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "metrics/metrics-probe.h"
#include "ufs.h"

typedef struct Fixture {
        void *state;
        MetricsSettings s;
        CheckList results;
        const char *role;
} Fixture;

static int setup_role(void **state, const char *role) {
        Fixture *f = calloc(1, sizeof(Fixture));
        assert_non_null(f);
        f->role = role;
        probe_settings_init(&metrics_probe_ops, &f->s);
        f->s.url = strdup("http://127.0.0.1:1/metrics");
        assert_int_equal(metrics_probe_ops.init(role, &f->state), 0);
        *state = f;
        return 0;
}

static int setup_worker(void **state) {
        return setup_role(state, "worker");
}

static int setup_fuse(void **state) {
        return setup_role(state, "fuse-pvc-a");
}

static int teardown(void **state) {
        Fixture *f = *state;
        check_list_clear(&f->results);
        probe_settings_done(&metrics_probe_ops, &f->s);
        probe_free(&metrics_probe_ops, f->state);
        free(f);
        return 0;
}

/* A sample as the parser hands it over: name, value, then label name/value pairs up to NULL. */
static void sample(Fixture *f, const char *name, double value, ...) {
        PromLabel labels[8];
        size_t n = 0;
        va_list ap;
        va_start(ap, value);
        for (const char *k; (k = va_arg(ap, const char *));) {
                labels[n].name = k;
                labels[n].value = va_arg(ap, const char *);
                n++;
        }
        va_end(ap);
        PromSample s = {.name = name,
                .family = name,
                .type = PROM_COUNTER,
                .labels = labels,
                .n_labels = n,
                .value = value};
        metrics_shared_add_sample(metrics_probe_shared(f->state), &f->s, &s);
}

/* Starts a scrape (as .start does) that the child will have made at at_s seconds. */
static MetricsShared *begin(Fixture *f, double at_s) {
        MetricsShared *sh = metrics_probe_shared(f->state);
        assert_int_equal(metrics_probe_ops.start(f->state, &f->s), 0);
        sh->at = (usec_t)(1000 * USEC_PER_SEC + at_s * USEC_PER_SEC);
        sh->op = (OpRecord){.state = OP_FINISHED, .latency_usec = 1000};
        sh->http_status = 200;
        sh->page_bytes = 1234;
        sh->samples = 42;
        return sh;
}

static void collect_outcome(Fixture *f, ProbeOutcome o) {
        check_list_clear(&f->results);
        assert_int_equal(metrics_probe_ops.collect(f->state, &f->s, &o, &f->results), 0);
}

static void collect(Fixture *f) {
        collect_outcome(f, (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_EXITED});
}

static const CheckResult *find(Fixture *f, const char *name) {
        for (size_t i = 0; i < f->results.n; i++)
                if (streq(f->results.items[i]->name, name))
                        return f->results.items[i];
        return NULL;
}

static const CheckResult *get(Fixture *f, const char *name) {
        const CheckResult *c = find(f, name);
        if (!c)
                fail_msg("no %s result", name);
        assert_string_equal(c->target, f->role);
        return c;
}

static const Vigil__MetricsDetails *details(Fixture *f) {
        const CheckResult *c = get(f, "metrics.scrape");
        assert_non_null(c->metrics);
        return c->metrics;
}

static bool missing(const Vigil__MetricsDetails *d, const char *name) {
        for (size_t i = 0; i < d->n_missing; i++)
                if (streq(d->missing[i], name))
                        return true;
        return false;
}

/* A worker page: requests by method, cached bytes, UFS bytes by method, UFS errors. */
static void worker_page(Fixture *f, double at_s, double reads, double writes, double cached, double ufs_read,
        double ufs_write) {
        begin(f, at_s);
        sample(f, "alluxio_data_access_bytes_count", reads, "method", "read", NULL);
        sample(f, "alluxio_data_access_bytes_count", writes, "method", "write", NULL);
        sample(f, "alluxio_cached_data_read_bytes_total", cached, "instance", "w1", NULL);
        sample(f, "alluxio_ufs_data_access_bytes_total", ufs_read, "method", "read", NULL);
        sample(f, "alluxio_ufs_data_access_bytes_total", ufs_write, "method", "write", NULL);
        sample(f, "alluxio_ufs_error", 5, "ufs", "s3://bucket/data", "error_code", "404", NULL);
}

/* --- pure parts ----------------------------------------------------------------------------- */

static void endpoint_names_are_a_role_with_an_optional_suffix(void **state) {
        assert_int_equal(metrics_role_from_name("worker"), METRICS_ROLE_WORKER);
        assert_int_equal(metrics_role_from_name("fuse"), METRICS_ROLE_FUSE);
        assert_int_equal(metrics_role_from_name("coordinator"), METRICS_ROLE_COORDINATOR);
        assert_int_equal(metrics_role_from_name("fuse-pvc-a1"), METRICS_ROLE_FUSE);
        assert_int_equal(metrics_role_from_name("Worker"), -EINVAL);
        assert_int_equal(metrics_role_from_name("fuse-"), -EINVAL);
        assert_int_equal(metrics_role_from_name("fusex"), -EINVAL);
        assert_int_equal(metrics_role_from_name("worker-a/b"), -EINVAL);
        assert_int_equal(metrics_role_from_name("/mnt/a"), -EINVAL);
        assert_int_equal(metrics_role_from_name(""), -EINVAL);
}

static void a_counter_that_went_down_was_reset(void **state) {
        assert_true(metrics_counter_increase(100, 130) == 30);
        assert_true(metrics_counter_increase(130, 130) == 0);
        assert_true(metrics_counter_increase(1000, 7) == 7);
        assert_true(metrics_counter_increase(0, 0) == 0);
}

static void expected_errors_are_per_scheme_with_a_fallback(void **state) {
        /* Default: 404 everywhere. */
        assert_int_equal(ufs_error_expected(NULL, "s3://bucket/x", "404"), 1);
        assert_int_equal(ufs_error_expected(NULL, "hdfs://nn:8020/", "404"), 1);
        assert_int_equal(ufs_error_expected(NULL, "s3://bucket/x", "403"), 0);
        const char *spec = "s3:404,403 hdfs: *:404";
        assert_int_equal(ufs_error_expected(spec, "s3://bucket", "403"), 1);
        assert_int_equal(ufs_error_expected(spec, "S3://bucket", "404"), 1);
        assert_int_equal(ufs_error_expected(spec, "s3://bucket", "500"), 0);
        assert_int_equal(ufs_error_expected(spec, "hdfs://nn/", "404"), 0);
        assert_int_equal(ufs_error_expected(spec, "gcs://b", "404"), 1);
        /* A label holding only the scheme. */
        assert_int_equal(ufs_error_expected(spec, "hdfs", "404"), 0);
        /* Without "*", other schemes expect nothing. */
        assert_int_equal(ufs_error_expected("s3:404", "oss://b", "404"), 0);
        assert_int_equal(ufs_error_expected("", "s3://b", "404"), 0);
        assert_int_equal(ufs_error_expected("s3", "", ""), -EINVAL);
        assert_int_equal(ufs_error_expected(":404", "", ""), -EINVAL);
        assert_int_equal(ufs_error_expected("s3:404,,403", "", ""), -EINVAL);
        assert_int_equal(ufs_error_expected("s3:404,", "", ""), -EINVAL);
}

static void checks_default_by_role(void **state) {
        unsigned c;
        assert_int_equal(metrics_checks_parse(NULL, METRICS_ROLE_WORKER, &c), 0);
        assert_int_equal(c, METRICS_CHECK_RPS | METRICS_CHECK_HIT_RATE | METRICS_CHECK_UFS_ERRORS);
        assert_int_equal(metrics_checks_parse(NULL, METRICS_ROLE_FUSE, &c), 0);
        assert_int_equal(c, 0);
        assert_int_equal(metrics_checks_parse("ufs_errors, hit_rate", METRICS_ROLE_FUSE, &c), 0);
        assert_int_equal(c, METRICS_CHECK_HIT_RATE | METRICS_CHECK_UFS_ERRORS);
        assert_int_equal(metrics_checks_parse("none", METRICS_ROLE_WORKER, &c), 0);
        assert_int_equal(c, 0);
        assert_int_equal(metrics_checks_parse("rps bogus", METRICS_ROLE_WORKER, &c), -EINVAL);
        assert_int_equal(metrics_checks_parse("none rps", METRICS_ROLE_WORKER, &c), -EINVAL);
}

static void settings_need_an_http_url_and_valid_lists(void **state) {
        Fixture *f = *state;
        char *reason = NULL;
        assert_int_equal(metrics_probe_ops.settings_check("worker", &f->s, &reason), 0);

        f->s.url = mfree(f->s.url);
        assert_int_equal(metrics_probe_ops.settings_check("worker", &f->s, &reason), -EINVAL);
        assert_non_null(strstr(reason, "--metrics worker=URL"));
        reason = mfree(reason);

        f->s.url = strdup("unix:///run/x.sock");
        assert_int_equal(metrics_probe_ops.settings_check("worker", &f->s, &reason), -EINVAL);
        assert_non_null(strstr(reason, "http://"));
        reason = mfree(reason);

        free(f->s.url);
        f->s.url = strdup("http://127.0.0.1:30000/metrics");
        f->s.expected_errors = strdup("s3=404");
        assert_int_equal(metrics_probe_ops.settings_check("worker", &f->s, &reason), -EINVAL);
        assert_non_null(strstr(reason, "expected_errors"));
        reason = mfree(reason);
        f->s.expected_errors = mfree(f->s.expected_errors);

        f->s.ufs_errors_crit = 0.01;
        assert_int_equal(metrics_probe_ops.settings_check("worker", &f->s, &reason), -EINVAL);
        assert_non_null(strstr(reason, "ufs_errors_crit"));
        reason = mfree(reason);
        f->s.ufs_errors_crit = 1;

        f->s.metric[METRICS_REQUESTS] = strdup("");
        assert_int_equal(metrics_probe_ops.settings_check("worker", &f->s, &reason), -EINVAL);
        assert_non_null(strstr(reason, "'requests_metric' is empty"));
        reason = mfree(reason);

        /* The deadline of the child leaves the transfer time to fail on its own. */
        assert_true(metrics_probe_ops.default_timeout(&f->s) > f->s.scrape_timeout);
}

static void numbers_parse_with_ranges_and_percentages(void **state) {
        Fixture *f = *state;
        const ConfigOption *hit = NULL, *factor = NULL;
        char *err = NULL;
        for (size_t i = 0; i < metrics_probe_ops.n_options; i++) {
                if (streq(metrics_probe_ops.options[i].key, "hit_rate_warn"))
                        hit = &metrics_probe_ops.options[i];
                if (streq(metrics_probe_ops.options[i].key, "rps_factor"))
                        factor = &metrics_probe_ops.options[i];
        }
        assert_non_null(hit);
        assert_non_null(factor);
        assert_int_equal(config_set(hit, &f->s, "80%", &err), 0);
        assert_true(f->s.hit_rate_warn == 0.8);
        assert_int_equal(config_set(hit, &f->s, "0.25", &err), 0);
        assert_true(f->s.hit_rate_warn == 0.25);
        assert_int_equal(config_set(hit, &f->s, "1.5", &err), -EINVAL);
        assert_non_null(strstr(err, "'hit_rate_warn'"));
        err = mfree(err);
        assert_int_equal(config_set(factor, &f->s, "nan", &err), -EINVAL);
        err = mfree(err);
        assert_int_equal(config_set(factor, &f->s, "3", &err), 0);
        assert_true(f->s.rps_factor == 3);
}

static void further_keys_are_folded_into_one_series(void **state) {
        Fixture *f = *state;
        MetricsShared *sh = begin(f, 0);
        char op[16];
        for (int i = 0; i < METRICS_SERIES_MAX + 8; i++) {
                snprintf(op, sizeof(op), "op%d", i);
                sample(f, "alluxio_fuse_result", 1, "method", op, NULL);
        }
        const MetricsSums *m = &sh->sums[METRICS_FUSE_OPS];
        assert_int_equal(m->samples, METRICS_SERIES_MAX + 8);
        assert_int_equal(m->n, METRICS_SERIES_MAX);
        assert_int_equal(m->folded, 9);
        assert_string_equal(m->series[METRICS_SERIES_MAX - 1].key, "(other)");
        assert_true(m->series[METRICS_SERIES_MAX - 1].value == 9);
        /* A key seen before still adds to its own series. */
        sample(f, "alluxio_fuse_result", 10, "method", "op0", NULL);
        assert_true(m->series[0].value == 11);
}

static int on_sample(const PromSample *s, void *userdata) {
        Fixture *f = userdata;
        metrics_shared_add_sample(metrics_probe_shared(f->state), &f->s, s);
        return 0;
}

static void page_is_reduced_to_sums_by_key(void **state) {
        Fixture *f = *state;
        MetricsShared *sh = begin(f, 0);
        static const char page[] = "# TYPE alluxio_data_access_bytes histogram\n"
                                   "alluxio_data_access_bytes_bucket{method=\"read\",le=\"+Inf\"} 7\n"
                                   "alluxio_data_access_bytes_count{method=\"read\"} 7\n"
                                   "alluxio_data_access_bytes_count{method=\"write\"} 3\n"
                                   "# TYPE alluxio_ufs_error counter\n"
                                   "alluxio_ufs_error{ufs=\"s3://b\",error_code=\"404\"} 2\n"
                                   "alluxio_ufs_error{ufs=\"s3://b\",error_code=\"404\",op=\"get\"} 3\n"
                                   "alluxio_ufs_error{ufs=\"s3://b\",error_code=\"503\"} 1\n"
                                   "alluxio_fuse_concurrency NaN\n";
        char *err = NULL;

        /* Through the real parser, as the child's write callback feeds it. */
        assert_int_equal(prom_parse_buffer(page, strlen(page), on_sample, f, &err), 0);
        const MetricsSums *req = &sh->sums[METRICS_REQUESTS];
        assert_int_equal(req->samples, 2); /* the _bucket line is another name */
        assert_int_equal(req->n, 2);
        assert_string_equal(req->series[0].key, "read");
        assert_true(req->series[0].value == 7);
        assert_string_equal(req->series[1].key, "write");
        const MetricsSums *e = &sh->sums[METRICS_UFS_ERRORS];
        assert_int_equal(e->n, 2);
        assert_string_equal(e->series[0].key, "s3://b");
        assert_string_equal(e->series[0].code, "404");
        assert_true(e->series[0].value == 5); /* other labels are summed over */
        assert_string_equal(e->series[1].code, "503");
        /* NaN: the metric is on the page, its value counts for nothing. */
        assert_int_equal(sh->sums[METRICS_FUSE_CONCURRENCY].samples, 1);
        assert_int_equal(sh->sums[METRICS_FUSE_CONCURRENCY].n, 0);
}

/* --- rates and checks ---------------------------------------------------------------------- */

static void first_scrape_has_no_rates_yet(void **state) {
        Fixture *f = *state;
        worker_page(f, 0, 100, 10, 1000, 100, 0);
        collect(f);
        assert_int_equal(f->results.n, 4);
        const Vigil__MetricsDetails *d = details(f);
        assert_true(d->interval_s == 0);
        assert_false(d->has_hit_rate);
        assert_string_equal(d->role, "worker");
        assert_int_equal(d->n_missing, 0);
        assert_int_equal(d->samples, 42);
        assert_int_equal(d->page_bytes, 1234);
        assert_int_equal(check_status(get(f, "metrics.scrape")), VIGIL_OK);
        assert_string_equal(get(f, "metrics.scrape")->message, "42 samples, 1.2 KiB");
        static const char *const names[] = {"metrics.rps", "metrics.hit_rate", "metrics.ufs_errors"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const CheckResult *c = get(f, names[i]);
                assert_int_equal(check_status(c), VIGIL_OK);
                assert_non_null(strstr(c->message, "first scrape"));
        }
}

static void rates_from_two_scrapes_are_exact(void **state) {
        Fixture *f = *state;
        f->s.hit_rate_min_read = 0;
        worker_page(f, 0, 1000, 200, 1e9, 4e8, 5e7);
        sample(f, "alluxio_ufs_error", 10, "ufs", "s3://bucket/data", "error_code", "403", NULL);
        collect(f);
        /* 2.5 s later: 250 + 50 requests, 3000 bytes from the cache, 1000 from the UFS. */
        worker_page(f, 2.5, 1250, 250, 1e9 + 3000, 4e8 + 1000, 5e7 + 500);
        sample(f, "alluxio_ufs_error", 15, "ufs", "s3://bucket/data", "error_code", "403", NULL);
        collect(f);
        const Vigil__MetricsDetails *d = details(f);
        assert_true(d->interval_s == 2.5);
        assert_true(d->requests_per_s == 300 / 2.5);
        assert_true(d->cached_read_bytes_per_s == 3000 / 2.5);
        assert_true(d->ufs_read_bytes_per_s == 1000 / 2.5);
        assert_true(d->ufs_write_bytes_per_s == 500 / 2.5);
        assert_true(d->has_hit_rate);
        assert_true(d->hit_rate == 0.75);
        /* The 404s did not move (no rate); the 403s did and are not expected by default. */
        assert_int_equal(d->n_ufs_errors, 1);
        assert_string_equal(d->ufs_errors[0]->ufs, "s3://bucket/data");
        assert_string_equal(d->ufs_errors[0]->error_code, "403");
        assert_true(d->ufs_errors[0]->per_s == 5 / 2.5);
        assert_false(d->ufs_errors[0]->expected);

        const CheckResult *hit = get(f, "metrics.hit_rate");
        assert_int_equal(check_status(hit), VIGIL_OK);
        assert_string_equal(hit->message, "hit rate 75.0 %: 1.2 KiB/s from the cache, 400 B/s from the UFS");
        const CheckResult *rps = get(f, "metrics.rps");
        assert_int_equal(check_status(rps), VIGIL_OK);
        assert_string_equal(rps->message, "120.0 requests/s");
        const CheckResult *err = get(f, "metrics.ufs_errors");
        assert_int_equal(check_status(err), VIGIL_CRIT); /* 2/s > 1/s */
        assert_string_equal(
                err->message, "unexpected UFS errors 2.00/s (above 1/s): s3://bucket/data 403 2.00/s");
}

static void counter_reset_counts_the_new_value(void **state) {
        Fixture *f = *state;
        worker_page(f, 0, 5000, 0, 1e6, 1e6, 0);
        collect(f);
        /* The worker restarted: every counter starts again from 0. */
        worker_page(f, 2, 40, 0, 600, 200, 0);
        collect(f);
        const Vigil__MetricsDetails *d = details(f);
        assert_true(d->requests_per_s == 20);
        assert_true(d->cached_read_bytes_per_s == 300);
        assert_true(d->ufs_read_bytes_per_s == 100);
        assert_true(d->hit_rate == 0.75);
        /* ... and the next interval is an ordinary one again. */
        worker_page(f, 4, 60, 0, 700, 300, 0);
        collect(f);
        d = details(f);
        assert_true(d->requests_per_s == 10);
        assert_true(d->hit_rate == 0.5);
}

static void missing_metric_is_named_never_zero(void **state) {
        Fixture *f = *state;
        begin(f, 0);
        sample(f, "alluxio_data_access_bytes_count", 10, "method", "read", NULL);
        sample(f, "alluxio_ufs_data_access_bytes_total", 10, "method", "read", NULL);
        collect(f);
        begin(f, 1);
        sample(f, "alluxio_data_access_bytes_count", 20, "method", "read", NULL);
        sample(f, "alluxio_ufs_data_access_bytes_total", 20, "method", "read", NULL);
        collect(f);
        const Vigil__MetricsDetails *d = details(f);
        assert_true(missing(d, "alluxio_cached_data_read_bytes_total"));
        assert_true(missing(d, "alluxio_ufs_error"));
        assert_int_equal(d->n_missing, 2);
        assert_false(d->has_hit_rate);
        assert_string_equal(get(f, "metrics.scrape")->message,
                "42 samples, 1.2 KiB; not on the page: alluxio_cached_data_read_bytes_total, "
                "alluxio_ufs_error");
        const CheckResult *hit = get(f, "metrics.hit_rate");
        assert_int_equal(check_status(hit), VIGIL_UNKNOWN);
        assert_string_equal(hit->error_code, "MISSING_METRIC");
        assert_non_null(strstr(hit->message, "alluxio_cached_data_read_bytes_total not on the page"));
        /* Error counters appear with the first error: their absence is said, and is no fault. */
        const CheckResult *err = get(f, "metrics.ufs_errors");
        assert_int_equal(check_status(err), VIGIL_OK);
        assert_non_null(strstr(err->message, "alluxio_ufs_error is not on the page"));
        assert_int_equal(check_status(get(f, "metrics.rps")), VIGIL_OK);

        /* A renamed metric, configured: found again. */
        begin(f, 2);
        sample(f, "alluxio_data_access_bytes_count", 20, "method", "read", NULL);
        collect(f);
        assert_int_equal(check_status(get(f, "metrics.rps")), VIGIL_OK);
        begin(f, 3);
        collect(f);
        const CheckResult *rps = get(f, "metrics.rps");
        assert_int_equal(check_status(rps), VIGIL_UNKNOWN);
        assert_string_equal(rps->message,
                "alluxio_data_access_bytes_count is not on the page (if this release names it differently: "
                "requests_metric)");
}

static void a_metric_back_on_the_page_is_compared_with_its_last_values(void **state) {
        Fixture *f = *state;
        f->s.hit_rate_min_read = 0;
        worker_page(f, 0, 0, 0, 5000, 1000, 0);
        collect(f);
        /* Two pages without the cached bytes. */
        for (int t = 1; t <= 2; t++) {
                begin(f, t);
                sample(f, "alluxio_ufs_data_access_bytes_total", 1000 + 100 * t, "method", "read", NULL);
                collect(f);
                assert_false(details(f)->has_hit_rate);
        }
        /* Back at 4 s: 8000 more than 4 s ago is 2000/s, not 13000 bytes in the last second. */
        worker_page(f, 4, 0, 0, 13000, 1400, 0);
        collect(f);
        const Vigil__MetricsDetails *d = details(f);
        assert_true(d->interval_s == 2);
        assert_true(d->cached_read_bytes_per_s == 2000);
        assert_true(d->ufs_read_bytes_per_s == 100);
        assert_true(d->hit_rate == 2000.0 / 2100.0);
}

static void expected_ufs_errors_are_kept_but_filtered(void **state) {
        Fixture *f = *state;
        f->s.expected_errors = strdup("s3:404,403 hdfs: *:404");
        begin(f, 0);
        sample(f, "alluxio_ufs_error", 100, "ufs", "s3://b", "error_code", "404", NULL);
        sample(f, "alluxio_ufs_error", 100, "ufs", "s3://b", "error_code", "403", NULL);
        sample(f, "alluxio_ufs_error", 100, "ufs", "hdfs://nn/", "error_code", "404", NULL);
        sample(f, "alluxio_ufs_error", 100, "ufs", "gcs://g", "error_code", "404", NULL);
        collect(f);
        begin(f, 4);
        sample(f, "alluxio_ufs_error", 140, "ufs", "s3://b", "error_code", "404", NULL);
        sample(f, "alluxio_ufs_error", 102, "ufs", "s3://b", "error_code", "403", NULL);
        sample(f, "alluxio_ufs_error", 101, "ufs", "hdfs://nn/", "error_code", "404", NULL);
        sample(f, "alluxio_ufs_error", 120, "ufs", "gcs://g", "error_code", "404", NULL);
        /* A series new since the last page counts from 0. */
        sample(f, "alluxio_ufs_error", 2, "ufs", "s3://b", "error_code", "500", NULL);
        collect(f);
        const Vigil__MetricsDetails *d = details(f);
        assert_int_equal(d->n_ufs_errors, 5);
        /* Highest rate first. */
        assert_string_equal(d->ufs_errors[0]->error_code, "404");
        assert_string_equal(d->ufs_errors[0]->ufs, "s3://b");
        assert_true(d->ufs_errors[0]->per_s == 10);
        assert_true(d->ufs_errors[0]->expected);
        assert_string_equal(d->ufs_errors[1]->ufs, "gcs://g");
        assert_true(d->ufs_errors[1]->per_s == 5);
        assert_true(d->ufs_errors[1]->expected);
        double unexpected = 0;
        for (size_t i = 0; i < d->n_ufs_errors; i++)
                if (!d->ufs_errors[i]->expected)
                        unexpected += d->ufs_errors[i]->per_s;
        /* 403 at 0.5/s is expected on s3; hdfs 404 at 0.25/s and s3 500 at 0.5/s are not. */
        assert_true(unexpected == 0.75);
        const CheckResult *c = get(f, "metrics.ufs_errors");
        assert_int_equal(check_status(c), VIGIL_WARN);
        assert_string_equal(c->message,
                "unexpected UFS errors 0.75/s (above 0.1/s): s3://b 500 0.50/s, hdfs://nn/ 404 0.25/s; "
                "expected ones "
                "15.50/s");
        assert_true(c->n_details == 2 && c->details[0]->double_value == 0.75);

        /* Nothing moves: OK, and the list is empty. */
        begin(f, 8);
        sample(f, "alluxio_ufs_error", 140, "ufs", "s3://b", "error_code", "404", NULL);
        collect(f);
        assert_int_equal(details(f)->n_ufs_errors, 0);
        assert_int_equal(check_status(get(f, "metrics.ufs_errors")), VIGIL_OK);
        assert_string_equal(get(f, "metrics.ufs_errors")->message, "no unexpected UFS errors");
}

static void hit_rate_below_the_floor_warns_and_idle_is_ok(void **state) {
        Fixture *f = *state;
        f->s.hit_rate_min_read = 1000;
        worker_page(f, 0, 0, 0, 0, 0, 0);
        collect(f);
        /* 1000 B/s of reads, 40 % from the cache. */
        worker_page(f, 10, 0, 0, 4000, 6000, 0);
        collect(f);
        const CheckResult *c = get(f, "metrics.hit_rate");
        assert_int_equal(check_status(c), VIGIL_WARN);
        assert_string_equal(c->error_code, "LOW_HIT_RATE");
        assert_string_equal(
                c->message, "hit rate 40.0 % below 50.0 %: 400 B/s from the cache, 600 B/s from the UFS");
        /* Too little traffic to judge. */
        worker_page(f, 20, 0, 0, 4400, 6500, 0);
        collect(f);
        c = get(f, "metrics.hit_rate");
        assert_int_equal(check_status(c), VIGIL_OK);
        assert_non_null(strstr(c->message, "not judged"));
        assert_true(details(f)->hit_rate == 400.0 / 900.0);
        /* No reads at all. */
        worker_page(f, 30, 0, 0, 4400, 6500, 0);
        collect(f);
        c = get(f, "metrics.hit_rate");
        assert_int_equal(check_status(c), VIGIL_OK);
        assert_string_equal(c->message, "no reads");
        assert_false(details(f)->has_hit_rate);
}

static void requests_rising_fast_within_the_window_warn(void **state) {
        Fixture *f = *state;
        double count = 0;
        f->s.rps_floor = 10;
        f->s.rps_window = 60 * USEC_PER_SEC;
        /* 10 s intervals: 50/s, 40/s, 60/s, then 90/s (2.25x the lowest, 40/s). */
        static const double rates[] = {50, 50, 40, 60, 90};
        for (size_t i = 0; i < ELEMENTSOF(rates); i++) {
                count += rates[i] * 10;
                worker_page(f, 10.0 * i, count, 0, 0, 0, 0);
                collect(f);
        }
        const CheckResult *c = get(f, "metrics.rps");
        assert_int_equal(check_status(c), VIGIL_WARN);
        assert_string_equal(c->error_code, "RPS_RISING");
        assert_string_equal(c->message,
                "requests rose 2.2x within 60 s: 90.0/s, lowest 40.0/s (warn above 2x): capacity may run "
                "short");
        /* 90/s goes on; at 90 s the 40/s (at 20 s) has left the window: 90/s against 60/s is fine. */
        for (int t = 50; t <= 90; t += 10) {
                count += 90 * 10;
                worker_page(f, t, count, 0, 0, 0, 0);
                collect(f);
                assert_int_equal(check_status(get(f, "metrics.rps")), t < 90 ? VIGIL_WARN : VIGIL_OK);
        }
        assert_string_equal(get(f, "metrics.rps")->message, "90.0 requests/s (lowest within 60 s: 60.0/s)");
}

static void an_idle_worker_waking_up_is_measured_from_the_floor(void **state) {
        Fixture *f = *state;
        f->s.rps_floor = 10;
        worker_page(f, 0, 0, 0, 0, 0, 0);
        collect(f);
        worker_page(f, 1, 1, 0, 0, 0, 0); /* 1/s */
        collect(f);
        worker_page(f, 2, 16, 0, 0, 0, 0); /* 15/s: 15x the lowest, but under 2x the floor */
        collect(f);
        assert_int_equal(check_status(get(f, "metrics.rps")), VIGIL_OK);
        worker_page(f, 3, 41, 0, 0, 0, 0); /* 25/s */
        collect(f);
        assert_int_equal(check_status(get(f, "metrics.rps")), VIGIL_WARN);
}

static void unreachable_endpoint_is_crit_and_the_rest_unknown(void **state) {
        Fixture *f = *state;
        MetricsShared *sh = begin(f, 0);
        sh->op.error = ECONNREFUSED;
        sh->http_status = 0;
        collect(f);
        const CheckResult *c = get(f, "metrics.scrape");
        assert_int_equal(check_status(c), VIGIL_CRIT);
        assert_string_equal(c->error_code, "ECONNREFUSED");
        assert_string_equal(
                c->message, "endpoint unreachable: nothing listening at http://127.0.0.1:1/metrics");
        assert_null(c->metrics);
        assert_int_equal(f->results.n, 4);
        for (size_t i = 1; i < f->results.n; i++) {
                assert_int_equal(check_status(f->results.items[i]), VIGIL_UNKNOWN);
                assert_string_equal(f->results.items[i]->message, "no data: the scrape failed");
        }
}

static void http_errors_parse_errors_and_hangs_are_crit(void **state) {
        Fixture *f = *state;
        MetricsShared *sh = begin(f, 0);
        sh->http_status = 503;
        collect(f);
        assert_int_equal(check_status(get(f, "metrics.scrape")), VIGIL_CRIT);
        assert_string_equal(get(f, "metrics.scrape")->error_code, "HTTP_503");
        assert_string_equal(get(f, "metrics.scrape")->message, "HTTP 503 from http://127.0.0.1:1/metrics");

        sh = begin(f, 1);
        sh->op.error = EBADMSG;
        snprintf(sh->error, sizeof(sh->error), "line 12: expected '=' after label name 'le'");
        collect(f);
        assert_string_equal(get(f, "metrics.scrape")->error_code, "PARSE_ERROR");
        assert_string_equal(get(f, "metrics.scrape")->message,
                "not a Prometheus text page at http://127.0.0.1:1/metrics: line 12: expected '=' after "
                "label name "
                "'le'");

        sh = begin(f, 2);
        sh->op.error = EFBIG;
        collect(f);
        assert_non_null(strstr(get(f, "metrics.scrape")->message, "larger than max_page (8.0 MiB)"));

        begin(f, 3);
        collect_outcome(f, (ProbeOutcome){.kind = PROBE_TIMED_OUT, .elapsed = 2500 * USEC_PER_MSEC});
        assert_int_equal(check_status(get(f, "metrics.scrape")), VIGIL_CRIT);
        assert_string_equal(get(f, "metrics.scrape")->error_code, "HUNG");

        /* None of these was a page: the next good one is a first scrape. */
        worker_page(f, 4, 1, 1, 1, 1, 1);
        collect(f);
        assert_true(details(f)->interval_s == 0);
}

static void a_failed_scrape_keeps_the_last_good_one_as_base(void **state) {
        Fixture *f = *state;
        worker_page(f, 0, 100, 0, 0, 0, 0);
        collect(f);
        MetricsShared *sh = begin(f, 2);
        sh->op.error = ETIMEDOUT;
        collect(f);
        assert_non_null(strstr(get(f, "metrics.scrape")->message, "no answer from"));
        worker_page(f, 4, 180, 0, 0, 0, 0);
        collect(f);
        assert_true(details(f)->interval_s == 4);
        assert_true(details(f)->requests_per_s == 20);
}

static void changed_names_start_over(void **state) {
        Fixture *f = *state;
        worker_page(f, 0, 100, 0, 0, 0, 0);
        collect(f);
        f->s.metric[METRICS_REQUESTS] = strdup("alluxio_requests_total");
        begin(f, 1);
        sample(f, "alluxio_requests_total", 5, NULL);
        collect(f);
        assert_true(details(f)->interval_s == 0);
}

static void fuse_endpoint_reports_operations_and_concurrency(void **state) {
        Fixture *f = *state;
        begin(f, 0);
        sample(f, "alluxio_fuse_result", 10, "method", "read", "result", "success", NULL);
        sample(f, "alluxio_fuse_result", 1, "method", "read", "result", "failure", NULL);
        sample(f, "alluxio_fuse_result", 4, "method", "getattr", "result", "success", NULL);
        sample(f, "alluxio_fuse_concurrency", 3, NULL);
        collect(f);
        /* fuse: the scrape alone by default. */
        assert_int_equal(f->results.n, 1);
        begin(f, 2);
        sample(f, "alluxio_fuse_result", 20, "method", "read", "result", "success", NULL);
        sample(f, "alluxio_fuse_result", 1, "method", "read", "result", "failure", NULL);
        sample(f, "alluxio_fuse_result", 34, "method", "getattr", "result", "success", NULL);
        sample(f, "alluxio_fuse_result", 2, "method", "open", "result", "success", NULL);
        sample(f, "alluxio_fuse_concurrency", 7, NULL);
        collect(f);
        const Vigil__MetricsDetails *d = details(f);
        assert_string_equal(d->role, "fuse");
        assert_int_equal(d->n_fuse_ops_per_s, 3);
        assert_string_equal(d->fuse_ops_per_s[0]->key, "getattr");
        assert_true(d->fuse_ops_per_s[0]->per_s == 15);
        assert_string_equal(d->fuse_ops_per_s[1]->key, "read");
        assert_true(d->fuse_ops_per_s[1]->per_s == 5);
        assert_string_equal(d->fuse_ops_per_s[2]->key, "open");
        assert_true(d->fuse_ops_per_s[2]->per_s == 1);
        assert_true(d->fuse_concurrency == 7);
        /* A FUSE endpoint is not expected to serve worker metrics. */
        assert_int_equal(d->n_missing, 0);
        assert_int_equal(check_status(get(f, "metrics.scrape")), VIGIL_OK);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(endpoint_names_are_a_role_with_an_optional_suffix),
                cmocka_unit_test(a_counter_that_went_down_was_reset),
                cmocka_unit_test(expected_errors_are_per_scheme_with_a_fallback),
                cmocka_unit_test(checks_default_by_role),
                cmocka_unit_test_setup_teardown(
                        settings_need_an_http_url_and_valid_lists, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        numbers_parse_with_ranges_and_percentages, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        further_keys_are_folded_into_one_series, setup_fuse, teardown),
                cmocka_unit_test_setup_teardown(page_is_reduced_to_sums_by_key, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(first_scrape_has_no_rates_yet, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(rates_from_two_scrapes_are_exact, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(counter_reset_counts_the_new_value, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(missing_metric_is_named_never_zero, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        expected_ufs_errors_are_kept_but_filtered, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        a_metric_back_on_the_page_is_compared_with_its_last_values, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        hit_rate_below_the_floor_warns_and_idle_is_ok, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        requests_rising_fast_within_the_window_warn, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        an_idle_worker_waking_up_is_measured_from_the_floor, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        unreachable_endpoint_is_crit_and_the_rest_unknown, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        http_errors_parse_errors_and_hangs_are_crit, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        a_failed_scrape_keeps_the_last_good_one_as_base, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(changed_names_start_over, setup_worker, teardown),
                cmocka_unit_test_setup_teardown(
                        fuse_endpoint_reports_operations_and_concurrency, setup_fuse, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
