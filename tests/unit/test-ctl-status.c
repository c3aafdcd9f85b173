/* SPDX-License-Identifier: MIT */
/* vigilctl's `status` screen and exit codes, rendered from fixed /v1/cluster answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl.h"
#include "json-util.h"

/* A cluster of two nodes, one of them stale and one with a dead FUSE daemon, as ?failing=1. */
static const char cluster_failing[] =
        "{\"cluster\": \"demo\", \"status\": \"CRIT\", \"message\": \"2 of 2 nodes CRIT\","
        " \"generated_at_ms\": 1764075600000,"
        " \"agents\": {\"ready\": 1, \"expected\": 2, \"percent\": 50.0, \"stale\": 1},"
        " \"families\": [{\"family\": \"agent\", \"ok\": 1, \"warn\": 0, \"crit\": 1, \"unknown\": 0},"
        "                {\"family\": \"fuse\", \"ok\": 0, \"warn\": 1, \"crit\": 1, \"unknown\": 0}],"
        " \"nodes\": ["
        "  {\"name\": \"node-b\", \"status\": \"CRIT\", \"last_report_age_s\": 42.5, \"stale\": true,"
        "   \"checks\": [{\"name\": \"agent.report\", \"target\": \"\", \"status\": \"CRIT\","
        "                \"message\": \"no report for 42 s\", \"latency_ms\": 0}]},"
        "  {\"name\": \"node-a\", \"status\": \"CRIT\", \"last_report_age_s\": 1.2, \"stale\": false,"
        "   \"checks\": [{\"name\": \"fuse.mount\", \"target\": \"/mnt/alluxio\", \"status\": \"CRIT\","
        "                \"message\": \"FUSE daemon gone: transport endpoint is not connected\","
        "                \"latency_ms\": 0.4, \"errno\": 107, \"errno_name\": \"ENOTCONN\"}]}"
        " ]}";

static const char cluster_ok[] =
        "{\"cluster\": \"demo\", \"status\": \"OK\", \"message\": \"2 of 2 nodes OK\","
        " \"agents\": {\"ready\": 2, \"expected\": 2, \"percent\": 100.0, \"stale\": 0},"
        " \"families\": [{\"family\": \"fuse\", \"ok\": 2, \"warn\": 0, \"crit\": 0, \"unknown\": 0}],"
        " \"nodes\": []}";

static json_object *parse(const char *text) {
        json_object *o = NULL;
        assert_int_equal(ctl_parse_json_object(text, strlen(text), &o), 0);
        return o;
}

/* Renders text and returns the screen (caller frees); *ret_status gets the renderer's result. */
static char *render(const char *text, unsigned max_nodes, int *ret_status) {
        _cleanup_json_ json_object *o = parse(text);
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        *ret_status = ctl_status_render(o, max_nodes, false, f);
        fclose(f);
        return buf;
}

static bool has_line(const char *screen, const char *line) {
        size_t l = strlen(line);
        for (const char *p = screen; p; p = strchr(p, '\n')) {
                if (*p == '\n')
                        p++;
                if (strncmp(p, line, l) == 0 && (p[l] == '\n' || p[l] == 0))
                        return true;
        }
        return false;
}

static void test_status_first_line_is_the_cluster_verdict(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(cluster_failing, 20, &s);

        assert_true(startswith(screen, "cluster demo: CRIT — 2 of 2 nodes CRIT\n") != NULL);
}

static void test_status_shows_agents_ready_in_kubectl_form(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(cluster_failing, 20, &s);

        assert_true(has_line(screen, "agents: 1 ready / 2 expected = 50 %"));
        free(screen);
        screen = render(cluster_ok, 20, &s);
        assert_true(has_line(screen, "agents: 2 ready / 2 expected = 100 %"));
}

static void test_status_agents_percent_never_rounds_up_to_100(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(
                "{\"status\": \"CRIT\", \"agents\": {\"ready\": 199, \"expected\": 200, \"percent\": 99.5}}",
                20, &s);

        assert_true(has_line(screen, "agents: 199 ready / 200 expected = 99 %"));
}

static void test_status_shows_csi_and_etcd_lines_when_the_collector_has_them(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(
                "{\"status\": \"CRIT\", \"agents\": {\"ready\": 3, \"expected\": 3, \"percent\": 100},"
                " \"csi\": {\"ready\": 2, \"expected\": 3, \"percent\": 66.7},"
                " \"etcd\": {\"status\": \"CRIT\", \"members\": {\"ready\": 1, \"expected\": 3, "
                "\"percent\": 33},"
                "  \"quorum\": false, \"leader\": \"\", \"workers\": {\"live\": 2, \"registered\": 3, "
                "\"failed\": 1},"
                "  \"message\": \"etcd unavailable for 1h12m; IO continues for up to 24h: 22h48m left\"}}",
                20, &s);

        assert_true(has_line(screen, "csi plugins: 2 ready / 3 expected = 66 %"));
        assert_true(has_line(screen,
                "etcd: CRIT — members 1 ready / 3 expected = 33 %, no leader; workers 2 live / 3 "
                "registered, 1 failed"));
        assert_true(has_line(
                screen, "      etcd unavailable for 1h12m; IO continues for up to 24h: 22h48m left"));
        free(screen);
        /* A collector without etcd or CSI plugins shows neither line. */
        screen = render(cluster_ok, 20, &s);
        assert_null(strstr(screen, "etcd:"));
        assert_null(strstr(screen, "csi plugins:"));
}

/* The screen of an OK cluster with n_ok log sources, all OK, that saw errors errors. */
static char *render_quiet_logs(int n_ok, int errors, int *ret_status) {
        _cleanup_(freep) char *text = NULL;
        assert_true(
                asprintf(&text,
                        "{\"status\": \"OK\", \"logs\": {\"sources\": {\"ok\": %d, \"warn\": 0, \"crit\": "
                        "0, \"unknown\": 0}, \"errors_last_hour\": %d, \"warnings_last_hour\": 0, "
                        "\"failing\": []}}",
                        n_ok, errors) > 0);
        return render(text, 20, ret_status);
}

static void test_status_shows_the_log_findings_of_the_last_hour(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(
                "{\"status\": \"CRIT\", \"agents\": {\"ready\": 3, \"expected\": 3, \"percent\": 100},"
                " \"logs\": {\"sources\": {\"ok\": 1, \"warn\": 1, \"crit\": 2, \"unknown\": 1},"
                "  \"errors_last_hour\": 12, \"warnings_last_hour\": 1,"
                "  \"failing\": [{\"node\": \"node-a\", \"source\": \"pod:alluxio/alluxio-worker-0/worker\","
                "   \"status\": \"CRIT\"},"
                "   {\"node\": \"node-b\", \"source\": \"journal:alluxio-fuse.service\", \"status\": "
                "\"CRIT\"}]}}",
                20, &s);

        /* Five sources, four of them failing, of which the collector listed two. */
        assert_true(has_line(screen,
                "logs: 12 errors, 1 warning in the last hour from 5 sources; burst: node-a "
                "pod:alluxio/alluxio-worker-0/worker (CRIT), node-b journal:alluxio-fuse.service (CRIT) "
                "and 1 more; 1 unreadable"));
        free(screen);
        screen = render_quiet_logs(1, 1, &s);
        assert_true(has_line(screen, "logs: 1 error, 0 warnings in the last hour from 1 source"));
        free(screen);
        /* No agent watches a log (or an older collector): no line. */
        screen = render_quiet_logs(0, 0, &s);
        assert_null(strstr(screen, "logs:"));
        free(screen);
        screen = render(cluster_ok, 20, &s);
        assert_null(strstr(screen, "logs:"));
}

/* A cluster whose agents send metrics; comparisons as the collector renders them. */
static const char cluster_metrics[] =
        "{\"status\": \"OK\", \"agents\": {\"ready\": 2, \"expected\": 2, \"percent\": 100},"
        " \"metrics\": {\"current\": {\"nodes\": 2, \"endpoints\": 3, \"requests_per_s\": 1250.0,"
        "  \"fuse_ops_per_s\": 300.0, \"fuse_concurrency\": 12.0, \"cached_read_bytes_per_s\": 8.4e8,"
        "  \"ufs_read_bytes_per_s\": 1.2e8, \"ufs_write_bytes_per_s\": 0.0, \"ufs_errors_per_s\": 3.0,"
        "  \"hit_rate\": 0.875, \"fuse_ops\": [],"
        "  \"ufs_errors\": [{\"ufs\": \"S3\", \"error_code\": \"503\", \"per_s\": 3.0, \"expected\": false},"
        "   {\"ufs\": \"S3\", \"error_code\": \"404\", \"per_s\": 1.0, \"expected\": true}], \"missing\": "
        "[]},"
        "  \"windows\": {}, \"comparisons\": {\"hit_rate\": {\"hour\": 0.87, \"day_ago\": 0.891, "
        "\"week_ago\": 0.866,"
        "   \"day\": {\"change_pts\": -2.1, \"significant\": false},"
        "   \"week\": {\"change_pts\": 0.4, \"significant\": false}}}}}";

static void test_status_shows_the_metrics_line(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(cluster_metrics, 20, &s);

        assert_int_equal(s, VIGIL_OK);
        assert_true(has_line(screen,
                "metrics: 1250 req/s, hit rate 87.5 % (day -2.1 pts, week +0.4 pts), UFS 120 MB/s read, "
                "3 errors/s (S3 503)"));
        free(screen);
        /* Without history yet, nothing read, writes and no errors; a significant change is marked. */
        screen = render(
                "{\"status\": \"OK\", \"metrics\": {\"current\": {\"endpoints\": 1, \"requests_per_s\": 0.5,"
                " \"ufs_read_bytes_per_s\": 0, \"ufs_write_bytes_per_s\": 2500000, \"ufs_errors_per_s\": 0,"
                " \"hit_rate\": null}, \"windows\": null, \"comparisons\": null}}",
                20, &s);
        assert_true(has_line(
                screen, "metrics: 0.5 req/s, nothing read, UFS 0 B/s read, 2.5 MB/s write, no UFS errors"));
        free(screen);
        screen = render(
                "{\"status\": \"OK\", \"metrics\": {\"current\": {\"endpoints\": 1, \"hit_rate\": 0.5},"
                " \"comparisons\": {\"hit_rate\": {\"day\": {\"change_pts\": -30.0, \"significant\": true},"
                " \"week\": null}}}}",
                20, &s);
        assert_true(has_line(screen,
                "metrics: 0 req/s, hit rate 50.0 % (day -30.0 pts*), UFS 0 B/s read, no UFS errors"));
        free(screen);
        /* No agent sends metrics (or an older collector): no line. */
        screen = render(cluster_ok, 20, &s);
        assert_null(strstr(screen, "metrics:"));
}

static void test_status_says_whose_problem_a_failing_ufs_is(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(
                "{\"status\": \"CRIT\", \"agents\": {\"ready\": 3, \"expected\": 3, \"percent\": 100},"
                " \"ufs\": ["
                "  {\"target\": \"s3://bucket/data\", \"nodes\": 3, \"failing\": 0, \"slow\": 1, \"scope\": "
                "\"none\","
                "   \"failing_nodes\": []},"
                "  {\"target\": \"s3://logs\", \"nodes\": 3, \"failing\": 3, \"slow\": 0, \"scope\": "
                "\"cluster\","
                "   \"failing_nodes\": [\"a\", \"b\", \"c\"], \"error_code\": \"NoSuchBucket\","
                "   \"message\": \"s3://logs: NoSuchBucket: The specified bucket does not exist\"},"
                "  {\"target\": \"file:///mnt/nfs\", \"nodes\": 8, \"failing\": 6, \"slow\": 0, \"scope\": "
                "\"node\","
                "   \"failing_nodes\": [\"n1\", \"n2\", \"n3\", \"n4\", \"n5\"], \"error_code\": \"HUNG\","
                "   \"message\": \"file:///mnt/nfs did not answer: the look hung for 4.0 s\"},"
                "  {\"target\": \"s3://one\", \"nodes\": 1, \"failing\": 1, \"slow\": 0, \"scope\": "
                "\"cluster\","
                "   \"failing_nodes\": [\"a\"], \"message\": \"\"}]}",
                20, &s);

        assert_true(has_line(screen, "ufs: s3://bucket/data reachable from 3 of 3 nodes (1 slow)"));
        assert_true(has_line(screen,
                "ufs: s3://logs failing from all 3 nodes: a cluster problem (NoSuchBucket: The specified "
                "bucket does not exist)"));
        assert_true(has_line(screen,
                "ufs: file:///mnt/nfs failing from 6 of 8 nodes: a problem of n1, n2, n3, n4, n5 and 1 more "
                "(file:///mnt/nfs did not answer: the look hung for 4.0 s)"));
        assert_true(has_line(screen, "ufs: s3://one failing from the only node: a cluster problem"));
        free(screen);
        /* no agent looks at a UFS: no line */
        screen = render(cluster_ok, 20, &s);
        assert_null(strstr(screen, "ufs:"));
}

static void test_numbers_read_like_an_operator_writes_them(void **state) {
        char buf[64];

        assert_string_equal(ctl_format_number(buf, sizeof(buf), 1250), "1250");
        assert_string_equal(ctl_format_number(buf, sizeof(buf), 87.46), "87.5");
        assert_string_equal(ctl_format_number(buf, sizeof(buf), 3), "3");
        assert_string_equal(ctl_format_number(buf, sizeof(buf), 0.125), "0.125");
        assert_string_equal(ctl_format_number(buf, sizeof(buf), 0), "0");
        assert_string_equal(ctl_format_number(buf, sizeof(buf), 99.96), "100");
        assert_string_equal(ctl_format_bytes_per_s(buf, sizeof(buf), 512), "512 B/s");
        assert_string_equal(ctl_format_bytes_per_s(buf, sizeof(buf), 1.2e8), "120 MB/s");
        assert_string_equal(ctl_format_bytes_per_s(buf, sizeof(buf), 1.25e9), "1.25 GB/s");
        assert_string_equal(ctl_format_bytes_per_s(buf, sizeof(buf), 999.9e3), "1 MB/s");
}

static void test_status_counts_nodes_per_check_family(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(cluster_failing, 20, &s);

        assert_true(has_line(screen, "FAMILY    OK  WARN  CRIT  UNKNOWN"));
        assert_true(has_line(screen, "agent      1     0     1        0"));
        assert_true(has_line(screen, "fuse       0     1     1        0"));
}

static void test_status_lists_failing_checks_under_their_node(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(cluster_failing, 20, &s);
        const char *a = strstr(screen, "node-a: CRIT (last report 1.2 s ago)\n");
        const char *b = strstr(screen, "node-b: CRIT (stale, last report 42 s ago)\n");

        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(strstr(a,
                "\n    CRIT     fuse.mount    /mnt/alluxio  "
                "FUSE daemon gone: transport endpoint is not connected\n"));
        assert_non_null(strstr(b, "\n    CRIT     agent.report                no report for 42 s\n"));
}

static void test_status_limits_the_failing_nodes_listed(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(cluster_failing, 1, &s);

        /* Same status, same name order: node-a comes first, node-b is summarised. */
        assert_non_null(strstr(screen, "node-a: CRIT"));
        assert_null(strstr(screen, "node-b: CRIT"));
        assert_non_null(strstr(screen, "... and 1 more failing node "));
}

static void test_status_all_ok_says_so(void **state) {
        int s;
        _cleanup_(freep) char *screen = render(cluster_ok, 20, &s);

        assert_int_equal(s, 0);
        assert_true(has_line(screen, "no failing nodes"));
        assert_null(strstr(screen, "failing nodes:"));
}

static void test_status_exit_code_is_the_cluster_status(void **state) {
        int s;
        free(render(cluster_failing, 20, &s));
        assert_int_equal(s, 2);
        free(render("{\"status\": \"WARN\"}", 20, &s));
        assert_int_equal(s, 1);
        free(render("{\"status\": \"UNKNOWN\", \"message\": \"no agent has reported\"}", 20, &s));
        assert_int_equal(s, 3);
}

static void test_status_answer_without_status_is_an_error(void **state) {
        int s;
        free(render("{\"cluster\": \"demo\"}", 20, &s));
        assert_int_equal(s, -EBADMSG);
}

static void test_exit_code_follows_nagios(void **state) {
        assert_int_equal(ctl_exit_code_from_string("OK"), 0);
        assert_int_equal(ctl_exit_code_from_string("WARN"), 1);
        assert_int_equal(ctl_exit_code_from_string("CRIT"), 2);
        assert_int_equal(ctl_exit_code_from_string("UNKNOWN"), 3);
        assert_int_equal(ctl_exit_code_from_string("crit"), 2);
        /* Anything the collector may add later, or nothing at all, is not known to be fine. */
        assert_int_equal(ctl_exit_code_from_string("DEGRADED"), 3);
        assert_int_equal(ctl_exit_code_from_string(NULL), 3);
        assert_int_equal(CTL_EXIT_ERROR, 3);
}

static void test_nodes_exit_code_is_the_worst_node(void **state) {
        _cleanup_json_ json_object *mixed = parse("{\"nodes\": [{\"name\": \"a\", \"status\": \"OK\"},"
                                                  " {\"name\": \"b\", \"status\": \"CRIT\"},"
                                                  " {\"name\": \"c\", \"status\": \"UNKNOWN\"},"
                                                  " {\"name\": \"d\", \"status\": \"WARN\"}]}");
        _cleanup_json_ json_object *warn = parse("{\"nodes\": [{\"name\": \"a\", \"status\": \"OK\"},"
                                                 " {\"name\": \"d\", \"status\": \"WARN\"}]}");
        _cleanup_json_ json_object *none = parse("{\"nodes\": []}");
        _cleanup_json_ json_object *bad = parse("{\"node\": []}");

        assert_int_equal(ctl_nodes_status(mixed), 2);
        assert_int_equal(ctl_nodes_status(warn), 1);
        assert_int_equal(ctl_nodes_status(none), 3);
        assert_int_equal(ctl_nodes_status(bad), -EBADMSG);
}

static void test_answer_that_is_not_one_json_object_is_rejected(void **state) {
        json_object *o = NULL;
        static const char *const bad[] = {"", "<html>502 Bad Gateway</html>", "{\"status\": ", "[1, 2]",
                "{\"a\": 1} trailing", "{\"a\": 1}{\"b\": 2}"};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(ctl_parse_json_object(bad[i], strlen(bad[i]), &o), -EBADMSG);
        assert_int_equal(ctl_parse_json_object("{\"a\": 1}\n", 9, &o), 0);
        json_object_put(o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_first_line_is_the_cluster_verdict),
                cmocka_unit_test(test_status_shows_agents_ready_in_kubectl_form),
                cmocka_unit_test(test_status_agents_percent_never_rounds_up_to_100),
                cmocka_unit_test(test_status_shows_csi_and_etcd_lines_when_the_collector_has_them),
                cmocka_unit_test(test_status_shows_the_log_findings_of_the_last_hour),
                cmocka_unit_test(test_status_shows_the_metrics_line),
                cmocka_unit_test(test_numbers_read_like_an_operator_writes_them),
                cmocka_unit_test(test_status_counts_nodes_per_check_family),
                cmocka_unit_test(test_status_lists_failing_checks_under_their_node),
                cmocka_unit_test(test_status_limits_the_failing_nodes_listed),
                cmocka_unit_test(test_status_all_ok_says_so),
                cmocka_unit_test(test_status_exit_code_is_the_cluster_status),
                cmocka_unit_test(test_status_answer_without_status_is_an_error),
                cmocka_unit_test(test_status_says_whose_problem_a_failing_ufs_is),
                cmocka_unit_test(test_exit_code_follows_nagios),
                cmocka_unit_test(test_nodes_exit_code_is_the_worst_node),
                cmocka_unit_test(test_answer_that_is_not_one_json_object_is_rejected),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
