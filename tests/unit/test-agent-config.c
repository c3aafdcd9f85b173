/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test-util.h"

#include "agent-config.h"
#include "fuse/fuse-probe.h"
#include "metrics/metrics-probe.h"
#include "ufs/ufs-probe.h"

/* Loads argv (NULL-terminated); returns r and the error line (caller frees). */
static int load(AgentConfig *c, char **ret_error, ...) {
        char *argv[32] = {(char *)"vigil-agent"};
        int argc = 1;
        va_list ap;
        va_start(ap, ret_error);
        for (char *a; (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        *ret_error = NULL;
        return agent_config_load(argc, argv, c, ret_error);
}

static void flags_set_values_and_defaults_fill_the_rest(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--fuse", "/mnt/a//", "--interval", "200ms", "--timeout", "100ms",
                                 "--node", "n1", NULL),
                0);
        assert_int_equal(c.interval, 200 * USEC_PER_MSEC);
        assert_int_equal(c.timeout, 100 * USEC_PER_MSEC);
        assert_string_equal(c.node, "n1");
        assert_string_equal(c.cluster, "default");
        assert_int_equal(c.n_targets, 1);
        assert_string_equal(c.targets[0].target, "/mnt/a");
        agent_config_done(&c);
}

static void timeout_not_below_interval_is_rejected_naming_the_key(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(
                load(&c, &err, "--fuse", "/mnt/a", "--interval", "1s", "--timeout", "1s", NULL), -EINVAL);
        assert_non_null(strstr(err, "'timeout'"));
        assert_non_null(strstr(err, "not shorter than the interval"));
        free(err);
}

static void default_timeout_stays_inside_a_short_interval(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--fuse", "/m", NULL), 0);
        assert_int_equal(c.timeout, 2 * USEC_PER_SEC);
        agent_config_done(&c);
        assert_int_equal(load(&c, &err, "--fuse", "/m", "--interval", "1s", NULL), 0);
        assert_int_equal(c.timeout, 500 * USEC_PER_MSEC);
        agent_config_done(&c);
}

static void bad_duration_names_key_and_flag(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--fuse", "/mnt/a", "--interval", "5x", NULL), -EINVAL);
        assert_string_equal(
                err, "bad value for 'interval' (--interval): '5x' is not a duration (e.g. 5s, 200ms, 1h)");
        free(err);
}

static void relative_mount_path_is_rejected(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--fuse", "mnt/a", NULL), -EINVAL);
        assert_non_null(strstr(err, "'fuse'"));
        free(err);
}

static void nothing_to_check_is_an_error(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--csi-discover", "", "--pods-log-dir", "", NULL), -EINVAL);
        assert_non_null(strstr(err, "nothing to check"));
        free(err);
}

static void log_settings_defaults_and_overrides(void **state) {
        AgentConfig c;
        char *err = NULL;

        /* Log sources alone are something to check. */
        assert_int_equal(
                load(&c, &err, "--csi-discover", "", "--log-file", "//opt/alluxio/./logs/worker.log",
                        "--journal-unit", "alluxio-fuse.service", NULL),
                0);
        assert_string_equal(c.log_file[0], "/opt/alluxio/logs/worker.log");
        assert_string_equal(c.journal_unit[0], "alluxio-fuse.service");
        assert_string_equal(c.pods_log_dir, "/var/log/pods");
        assert_string_equal(c.state_dir, "/var/lib/vigil");
        /* The Alluxio worker, fuse, coordinator and CSI node plugin pods. */
        assert_int_equal(strv_length(c.pod_log), 4);
        assert_string_equal(c.pod_log[0], "*/*-worker-*/*");
        assert_string_equal(c.pod_log[3], "*/*csi-nodeplugin*/*");
        assert_int_equal(c.log_level_mask,
                LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_WARN) |
                        LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR) |
                        LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL));
        assert_int_equal(c.log_context, 1);
        assert_int_equal(c.log_max_line, 64 * 1024);
        agent_config_done(&c);

        assert_int_equal(load(&c, &err, "--fuse", "/m", "--pod-log", "alluxio/*/worker", "--log-levels",
                                 "error", "--log-context", "3", "--log-max-line", "1M", NULL),
                0);
        assert_int_equal(strv_length(c.pod_log), 1);
        assert_int_equal(c.log_level_mask, LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR));
        assert_int_equal(c.log_context, 3);
        assert_int_equal(c.log_max_line, 1024 * 1024);
        agent_config_done(&c);

        assert_int_equal(load(&c, &err, "--fuse", "/m", "--log-context", "101", NULL), -EINVAL);
        assert_non_null(strstr(err, "log_context"));
        free(err);
}

static void unknown_flag_is_an_error(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--fuse", "/m", "--bogus", NULL), -EINVAL);
        assert_non_null(strstr(err, "--bogus"));
        free(err);
}

static void file_sections_configure_mounts_and_flags_override(void **state) {
        char *path = test_write_temp("[agent]\n"
                                     "interval = 10s\n"
                                     "cluster = prod\n"
                                     "[fuse /mnt/alluxio]\n"
                                     "canary = .vigil-canary\n"
                                     "expect = ok\n"
                                     "warn_latency = 300ms\n"
                                     "timeout = 1s\n");
        AgentConfig c;
        char *err;
        assert_int_equal(
                load(&c, &err, "--config", path, "--cluster", "override", "--fuse", "/mnt/alluxio", NULL),
                0);
        assert_int_equal(c.interval, 10 * USEC_PER_SEC);
        assert_string_equal(c.cluster, "override");
        assert_int_equal(c.n_targets, 1); /* --fuse of the same mount does not duplicate it */
        const FuseSettings *s = c.targets[0].settings;
        assert_string_equal(s->canary, ".vigil-canary");
        assert_string_equal(s->expect, "ok");
        assert_int_equal(s->warn_latency, 300 * USEC_PER_MSEC);
        assert_int_equal(c.targets[0].timeout, USEC_PER_SEC);
        agent_config_done(&c);
        unlink(path);
        free(path);
}

static void file_errors_name_file_line_and_key(void **state) {
        char *path = test_write_temp("[agent]\ninterval = 5s\nbogus = 1\n");
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--config", path, "--fuse", "/m", NULL), -EINVAL);
        char expect[256];
        snprintf(expect, sizeof(expect), "%s:3: unknown key 'bogus' in [agent]", path);
        assert_string_equal(err, expect);
        free(err);
        unlink(path);
        free(path);

        path = test_write_temp("[fuse /m]\nexpect = x\n");
        assert_int_equal(load(&c, &err, "--config", path, NULL), -EINVAL);
        assert_non_null(strstr(err, "'expect' needs a 'canary' file"));
        free(err);
        unlink(path);
        free(path);

        path = test_write_temp("[nfs /m]\nx = 1\n");
        assert_int_equal(load(&c, &err, "--config", path, NULL), -EINVAL);
        assert_non_null(strstr(err, "unknown probe 'nfs'"));
        free(err);
        unlink(path);
        free(path);
}

static void section_without_keys_declares_the_mount(void **state) {
        char *path = test_write_temp("[fuse /mnt/a]\n[fuse /mnt/b]\n# nothing else\n");
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--config", path, NULL), 0);
        assert_int_equal(c.n_targets, 2);
        assert_string_equal(c.targets[1].target, "/mnt/b");
        agent_config_done(&c);
        unlink(path);
        free(path);
}

static void missing_config_file_is_an_error(void **state) {
        AgentConfig c;
        char *err;
        assert_int_equal(load(&c, &err, "--config", "/nonexistent/agent.ini", NULL), -EINVAL);
        assert_non_null(strstr(err, "cannot read config file /nonexistent/agent.ini"));
        free(err);
}

static void metrics_flag_declares_an_endpoint_by_role(void **state) {
        AgentConfig c;
        char *err = NULL;
        /* An endpoint alone is something to check. */
        assert_int_equal(load(&c, &err, "--csi-discover", "", "--pods-log-dir", "", "--metrics",
                                 "worker=http://127.0.0.1:30000/metrics", "--metrics",
                                 "fuse-pvc-a=http://127.0.0.1:49999/metrics", NULL),
                0);
        assert_int_equal(c.n_targets, 2);
        assert_ptr_equal(c.targets[0].ops, &metrics_probe_ops);
        assert_string_equal(c.targets[0].target, "worker");
        const MetricsSettings *s = c.targets[0].settings;
        assert_string_equal(s->url, "http://127.0.0.1:30000/metrics");
        assert_string_equal(c.targets[1].target, "fuse-pvc-a");
        /* The child's deadline: the transfer's timeout and a margin. */
        assert_int_equal(c.targets[0].timeout, s->scrape_timeout + 500 * USEC_PER_MSEC);
        agent_config_done(&c);
}

static void bad_metrics_values_name_the_key(void **state) {
        AgentConfig c;
        char *err = NULL;
        assert_int_equal(load(&c, &err, "--metrics", "http://127.0.0.1:30000/metrics", NULL), -EINVAL);
        assert_string_equal(err,
                "bad value for 'metrics' (--metrics): 'http://127.0.0.1:30000/metrics' is not ROLE=URL");
        free(err);
        assert_int_equal(load(&c, &err, "--metrics", "worker", NULL), -EINVAL);
        assert_string_equal(err, "bad value for 'metrics' (--metrics): 'worker' is not ROLE=URL");
        free(err);
        assert_int_equal(load(&c, &err, "--metrics", "master=http://m:19999/metrics", NULL), -EINVAL);
        assert_non_null(strstr(err, "'master' is not an endpoint name"));
        free(err);
        assert_int_equal(load(&c, &err, "--metrics", "worker=ftp://w/metrics", NULL), -EINVAL);
        assert_string_equal(err,
                "bad settings for [metrics worker]: 'url' ftp://w/metrics is not an http:// or https:// "
                "URL");
        free(err);
}

static void metrics_sections_set_endpoint_settings_and_the_flag_its_url(void **state) {
        char *path = test_write_temp("[agent]\n"
                                     "metrics = coordinator=http://127.0.0.1:19999/metrics\n"
                                     "[metrics worker]\n"
                                     "url = http://127.0.0.1:1/metrics\n"
                                     "expected_errors = s3:404,403 hdfs:\n"
                                     "hit_rate_warn = 80%\n"
                                     "ufs_errors_warn = 0.5\n"
                                     "rps_window = 30m\n"
                                     "requests_metric = alluxio_worker_requests_total\n"
                                     "checks = hit_rate\n"
                                     "scrape_timeout = 1s\n"
                                     "timeout = 3s\n");
        AgentConfig c;
        char *err = NULL;
        assert_int_equal(load(&c, &err, "--config", path, "--metrics",
                                 "worker=http://127.0.0.1:30000/metrics", "--csi-discover", "", NULL),
                0);
        assert_int_equal(c.n_targets, 2);
        assert_string_equal(c.targets[0].target, "worker");
        const MetricsSettings *s = c.targets[0].settings;
        assert_string_equal(s->url, "http://127.0.0.1:30000/metrics");
        assert_string_equal(s->expected_errors, "s3:404,403 hdfs:");
        assert_true(s->hit_rate_warn == 0.8);
        assert_true(s->ufs_errors_warn == 0.5);
        assert_int_equal(s->rps_window, 30 * USEC_PER_MINUTE);
        assert_string_equal(metrics_family_name(s, METRICS_REQUESTS), "alluxio_worker_requests_total");
        assert_string_equal(
                metrics_family_name(s, METRICS_CACHED_READ), "alluxio_cached_data_read_bytes_total");
        assert_string_equal(s->checks, "hit_rate");
        assert_int_equal(s->scrape_timeout, USEC_PER_SEC);
        assert_int_equal(c.targets[0].timeout, 3 * USEC_PER_SEC);
        /* The main section's key works as the flag does. */
        assert_string_equal(c.targets[1].target, "coordinator");
        assert_string_equal(
                ((const MetricsSettings *)c.targets[1].settings)->url, "http://127.0.0.1:19999/metrics");
        agent_config_done(&c);
        unlink(path);
        free(path);
}

static void metrics_section_errors_say_what_to_do(void **state) {
        AgentConfig c;
        char *err = NULL;
        char *path = test_write_temp("[metrics worker]\nhit_rate_warn = 0.5\n");
        assert_int_equal(load(&c, &err, "--config", path, NULL), -EINVAL);
        assert_string_equal(err,
                "bad settings for [metrics worker]: no 'url': set url = URL in [metrics worker] "
                "or give --metrics worker=URL");
        free(err);
        unlink(path);
        free(path);

        path = test_write_temp("[metrics /mnt/x]\nurl = http://x/\n");
        assert_int_equal(load(&c, &err, "--config", path, NULL), -EINVAL);
        assert_non_null(strstr(err, "'/mnt/x' is not an endpoint name"));
        free(err);
        unlink(path);
        free(path);

        path = test_write_temp("[metrics worker]\nurl = http://x/\nexpected_errors = 404\n");
        assert_int_equal(load(&c, &err, "--config", path, NULL), -EINVAL);
        assert_non_null(strstr(err, "'expected_errors' is not a list"));
        free(err);
        unlink(path);
        free(path);

        path = test_write_temp("[metrics worker]\nurl = http://x/\nhit_rate_warn = 2\n");
        assert_int_equal(load(&c, &err, "--config", path, NULL), -EINVAL);
        assert_non_null(strstr(err, "'hit_rate_warn'"));
        free(err);
        unlink(path);
        free(path);

        /* The default deadline (2.5 s) must fit in the interval. */
        assert_int_equal(load(&c, &err, "--metrics", "worker=http://x/", "--interval", "1s", NULL), -EINVAL);
        assert_non_null(strstr(err, "'scrape_timeout' of metrics worker"));
        assert_non_null(strstr(err, "2.5 s, is not shorter than the interval (1.0 s)"));
        free(err);
}

static void ufs_roots_are_one_spelling_with_their_section_settings(void **state) {
        AgentConfig c;
        char *err;
        char *path = test_write_temp("[ufs s3a://bucket/data]\nendpoint = http://minio:9000\n"
                                     "access_key = K\nsecret_key = S\nlatency_warn = 500ms\n");

        /* s3a:// and a trailing '/' are the same root as the section's */
        assert_int_equal(load(&c, &err, "--config", path, "--ufs", "s3://bucket/data/", NULL), 0);
        assert_int_equal(c.n_targets, 1);
        assert_ptr_equal(c.targets[0].ops, &ufs_probe_ops);
        assert_string_equal(c.targets[0].target, "s3://bucket/data");
        const UfsProbeSettings *s = c.targets[0].settings;
        assert_string_equal(s->endpoint, "http://minio:9000");
        assert_int_equal(s->latency_warn, 500 * USEC_PER_MSEC);
        assert_int_equal(c.targets[0].timeout, 4 * USEC_PER_SEC); /* request_timeout + 1 s */
        agent_config_done(&c);
        unlink(path);
        free(path);
}

static void ufs_errors_say_what_is_wrong(void **state) {
        AgentConfig c;
        char *err;

        assert_int_equal(load(&c, &err, "--ufs", "hdfs://nn:8020/x", NULL), -EINVAL);
        assert_non_null(strstr(err, "bad value for 'ufs' (--ufs): hdfs://nn:8020/x: unsupported scheme"));
        free(err);
        assert_int_equal(load(&c, &err, "--ufs", "s3://Bad_Bucket", NULL), -EINVAL);
        assert_non_null(strstr(err, "not a valid bucket name"));
        free(err);

        char *path = test_write_temp("[ufs s3://bucket/x]\naddressing = sideways\n");
        assert_int_equal(load(&c, &err, "--config", path, NULL), -EINVAL);
        assert_non_null(strstr(err, "'addressing' must be auto, path or virtual"));
        free(err);
        unlink(path);
        free(path);

        /* the default deadline (request_timeout + 1 s = 4 s) must fit in the interval */
        assert_int_equal(load(&c, &err, "--ufs", "/mnt/nfs", "--interval", "2s", NULL), -EINVAL);
        assert_non_null(strstr(err, "'request_timeout' of ufs file:///mnt/nfs"));
        free(err);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(flags_set_values_and_defaults_fill_the_rest),
                cmocka_unit_test(ufs_roots_are_one_spelling_with_their_section_settings),
                cmocka_unit_test(ufs_errors_say_what_is_wrong),
                cmocka_unit_test(timeout_not_below_interval_is_rejected_naming_the_key),
                cmocka_unit_test(default_timeout_stays_inside_a_short_interval),
                cmocka_unit_test(bad_duration_names_key_and_flag),
                cmocka_unit_test(relative_mount_path_is_rejected),
                cmocka_unit_test(nothing_to_check_is_an_error),
                cmocka_unit_test(unknown_flag_is_an_error),
                cmocka_unit_test(log_settings_defaults_and_overrides),
                cmocka_unit_test(file_sections_configure_mounts_and_flags_override),
                cmocka_unit_test(file_errors_name_file_line_and_key),
                cmocka_unit_test(section_without_keys_declares_the_mount),
                cmocka_unit_test(missing_config_file_is_an_error),
                cmocka_unit_test(metrics_flag_declares_an_endpoint_by_role),
                cmocka_unit_test(bad_metrics_values_name_the_key),
                cmocka_unit_test(metrics_sections_set_endpoint_settings_and_the_flag_its_url),
                cmocka_unit_test(metrics_section_errors_say_what_to_do),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
