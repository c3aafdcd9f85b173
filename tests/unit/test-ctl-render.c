/* SPDX-License-Identifier: MIT */
/* vigilctl's `nodes`, `node`, `events`, `logs` and `metrics` views rendered from fixed collector answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl.h"
#include "json-util.h"

typedef int (*render_fn)(json_object *o, bool color, FILE *f);

static char *render(render_fn fn, const char *text, int *ret) {
        _cleanup_json_ json_object *o = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(ctl_parse_json_object(text, strlen(text), &o), 0);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        *ret = fn(o, false, f);
        fclose(f);
        return buf;
}

static const char nodes[] =
        "{\"nodes\": ["
        " {\"name\": \"node-a\", \"cluster\": \"demo\", \"status\": \"CRIT\", \"last_report_age_s\": 1.2,"
        "  \"stale\": false, \"agent_version\": \"0.1.0\", \"checks_total\": 3, \"checks_failing\": 1},"
        " {\"name\": \"node-bb\", \"cluster\": \"demo\", \"status\": \"CRIT\", \"last_report_age_s\": 42.0,"
        "  \"stale\": true, \"agent_version\": \"0.1.0\", \"checks_total\": 3, \"checks_failing\": 0},"
        " {\"name\": \"node-c\", \"cluster\": \"demo\", \"status\": \"OK\", \"last_report_age_s\": 0.5,"
        "  \"stale\": false, \"agent_version\": \"0.1.0\", \"checks_total\": 3, \"checks_failing\": 0}]}";

static void test_nodes_table_has_one_aligned_row_per_node(void **state) {
        int r;
        _cleanup_(freep) char *out = render(ctl_nodes_render, nodes, &r);

        assert_int_equal(r, 2);
        assert_true(startswith(out, "NODE     STATUS   LAST-REPORT       CHECKS  FAILING  AGENT\n") != NULL);
        assert_non_null(strstr(out, "\nnode-a   CRIT     1.2 s ago              3        1  0.1.0\n"));
        assert_non_null(strstr(out, "\nnode-bb  CRIT     42 s ago (stale)       3        0  0.1.0\n"));
        assert_non_null(strstr(out, "\nnode-c   OK       500 ms ago             3        0  0.1.0\n"));
}

static void test_nodes_without_any_node_is_unknown(void **state) {
        int r;
        _cleanup_(freep) char *out = render(ctl_nodes_render, "{\"nodes\": []}", &r);

        assert_int_equal(r, 3);
        assert_string_equal(out, "no agent has reported\n");
}

static void test_node_view_has_header_and_checks_worst_first(void **state) {
        int r;
        _cleanup_(freep) char *out = render(ctl_node_render,
                "{\"name\": \"node-a\", \"cluster\": \"demo\", \"status\": \"WARN\", \"last_report_age_s\": "
                "2.0,"
                " \"stale\": false, \"agent_version\": \"0.1.0\", \"boot_id\": \"b00t\", \"seq\": 7,"
                " \"interval_ms\": 5000, \"checks\": ["
                "  {\"name\": \"fuse.mount\", \"target\": \"/mnt/a\", \"status\": \"OK\", \"message\": "
                "\"ok\","
                "   \"latency_ms\": 0.3},"
                "  {\"name\": \"fuse.read\", \"target\": \"/mnt/a\", \"status\": \"WARN\","
                "   \"message\": \"slow read: 812 ms\", \"latency_ms\": 812.0}]}",
                &r);
        const char *warn, *ok;

        assert_int_equal(r, 1);
        assert_true(startswith(out,
                            "node:        node-a (cluster demo)\n"
                            "status:      WARN\n"
                            "last report: 2.0 s ago, seq 7, every 5.0 s\n"
                            "agent:       0.1.0, boot b00t\n") != NULL);
        warn = strstr(out, "slow read: 812 ms");
        ok = strstr(out, "fuse.mount");
        assert_non_null(warn);
        assert_non_null(ok);
        assert_true(warn < ok);
}

static void test_events_table_shows_local_time_and_transition(void **state) {
        int r;
        _cleanup_(freep) char *out = NULL;

        setenv("TZ", "UTC", 1);
        tzset();
        out = render(ctl_events_render,
                "{\"events\": ["
                " {\"id\": 1, \"time_ms\": 1764075600000, \"node\": \"node-a\", \"check\": \"fuse.mount\","
                "  \"target\": \"/mnt/alluxio\", \"from\": \"NONE\", \"to\": \"CRIT\","
                "  \"message\": \"FUSE daemon gone: transport endpoint is not connected\"},"
                " {\"id\": 2, \"time_ms\": 1764075660500, \"node\": \"node-a\", \"check\": \"fuse.mount\","
                "  \"target\": \"/mnt/alluxio\", \"from\": \"CRIT\", \"to\": \"OK\", \"message\": \"ok\"}]}",
                &r);

        assert_int_equal(r, 0);
        assert_true(startswith(out,
                            "TIME                 NODE    CHECK       TARGET        FROM→TO    MESSAGE\n") !=
                NULL);
        assert_non_null(strstr(out,
                "\n2025-11-25 13:00:00  node-a  fuse.mount  /mnt/alluxio  NONE→CRIT  "
                "FUSE daemon gone: transport endpoint is not connected\n"));
        assert_non_null(
                strstr(out, "\n2025-11-25 13:01:00  node-a  fuse.mount  /mnt/alluxio  CRIT→OK    ok\n"));
}

static void test_events_empty_and_malformed(void **state) {
        int r;
        _cleanup_(freep) char *empty = render(ctl_events_render, "{\"events\": []}", &r);

        assert_int_equal(r, 0);
        assert_string_equal(empty, "no events\n");
        free(render(ctl_events_render, "{\"error\": \"x\"}", &r));
        assert_int_equal(r, -EBADMSG);
}

/* Two sources of node-a (the pod with a previous container) and one of node-b, as GET /v1/logs. */
static const char logs[] =
        "{\"since_ms\": 0, \"logs\": ["
        " {\"node\": \"node-a\", \"source\": \"pod:alluxio/alluxio-worker-0/worker\", \"restart_count\": 3,"
        "  \"lines\": 1000, \"bytes\": 100000, \"lines_cut\": 2, \"bytes_lost\": 0,"
        "  \"counts\": {\"warn\": 2, \"error\": 5, \"fatal\": 0},"
        "  \"signatures\": ["
        "   {\"level\": \"WARN\", \"pattern\": \"Slow RPC #ms\", \"count\": 2, \"first_ms\": 1764075600000,"
        "    \"last_ms\": 1764075660000, \"sample\": \"WARN Slow RPC 812ms\", \"context\": [],"
        "    \"sample_cut\": false},"
        "   {\"level\": \"ERROR\", \"pattern\": \"Failed to list #\", \"count\": 5,"
        "    \"first_ms\": 1764075590000, \"last_ms\": 1764075599000,"
        "    \"sample\": \"ERROR Failed to list hdfs://ns/a\","
        "    \"context\": [\"    at Client.list(Client.java:42)\", \"    at Worker.run(Worker.java:7)\"],"
        "    \"sample_cut\": true}],"
        "  \"previous\": {\"restart_count\": 2, \"signatures\": ["
        "   {\"level\": \"FATAL\", \"pattern\": \"OutOfMemoryError\", \"count\": 1,"
        "    \"first_ms\": 1764075000000, \"last_ms\": 1764075000000,"
        "    \"sample\": \"FATAL java.lang.OutOfMemoryError: Java heap space\","
        "    \"context\": [\"    at Buffer.alloc\"], \"sample_cut\": false}]}},"
        " {\"node\": \"node-b\", \"source\": \"file:/var/log/alluxio/master.log\", \"restart_count\": 0,"
        "  \"lines\": 10, \"bytes\": 1000, \"lines_cut\": 0, \"bytes_lost\": 4096,"
        "  \"counts\": {\"warn\": 0, \"error\": 1, \"fatal\": 0},"
        "  \"signatures\": ["
        "   {\"level\": \"ERROR\", \"pattern\": \"Lost leadership\", \"count\": 1,"
        "    \"first_ms\": 1764075600000, \"last_ms\": 1764075600000,"
        "    \"sample\": \"ERROR Lost leadership\", \"context\": [\"  term 7\"], \"sample_cut\": false}],"
        "  \"previous\": null}]}";

static unsigned logs_after_context;

static int render_logs_with_context(json_object *o, bool color, FILE *f) {
        return ctl_logs_render(o, logs_after_context, color, f);
}

static char *render_logs(unsigned after_context, const char *text, int *ret) {
        logs_after_context = after_context;
        return render(render_logs_with_context, text, ret);
}

static void test_logs_read_like_grep_after_context(void **state) {
        int r;
        _cleanup_(freep) char *out = NULL;

        setenv("TZ", "UTC", 1);
        tzset();
        out = render_logs(1, logs, &r);
        assert_int_equal(r, 0);
        assert_string_equal(out,
                "==> node-a pod:alluxio/alluxio-worker-0/worker <== 5 errors, 2 warnings, 0 fatal; restarts "
                "3; "
                "2 lines cut\n"
                "[WARN 2x 2025-11-25 13:00:00 .. 13:01:00] WARN Slow RPC 812ms\n"
                "--\n"
                "[ERROR 5x 2025-11-25 12:59:50 .. 12:59:59] ERROR Failed to list hdfs://ns/a [cut]\n"
                "    at Client.list(Client.java:42)\n"
                "--\n"
                "previous container (restart 2):\n"
                "[FATAL 1x 2025-11-25 12:50:00] FATAL java.lang.OutOfMemoryError: Java heap space\n"
                "    at Buffer.alloc\n"
                "--\n"
                "==> node-b file:/var/log/alluxio/master.log <== 1 error, 0 warnings, 0 fatal; 4096 bytes "
                "lost "
                "unread\n"
                "[ERROR 1x 2025-11-25 13:00:00] ERROR Lost leadership\n"
                "  term 7\n");
}

static void test_logs_without_context_have_no_separators(void **state) {
        int r;
        _cleanup_(freep) char *none = render_logs(0, logs, &r), *more = NULL;

        assert_int_equal(r, 0);
        assert_null(strstr(none, "--\n"));
        assert_null(strstr(none, "    at "));
        assert_non_null(
                strstr(none, "] ERROR Failed to list hdfs://ns/a [cut]\nprevious container (restart 2):\n"));
        /* More context than there is: all of it, nothing more. */
        more = render_logs(5, logs, &r);
        assert_non_null(
                strstr(more, "    at Client.list(Client.java:42)\n    at Worker.run(Worker.java:7)\n--\n"));
}

static void test_logs_empty_and_malformed(void **state) {
        int r;
        _cleanup_(freep) char *empty = render_logs(1, "{\"since_ms\": 0, \"logs\": []}", &r);

        assert_int_equal(r, 0);
        assert_string_equal(empty, "no log findings\n");
        free(render_logs(1, "{\"events\": []}", &r));
        assert_int_equal(r, -EBADMSG);
}

static void test_url_helpers_escape(void **state) {
        _cleanup_(freep) char *path = NULL, *url = strdup("/v1/events");

        assert_int_equal(ctl_url_path("/v1/nodes/", "a b/c", &path), 0);
        assert_string_equal(path, "/v1/nodes/a%20b%2Fc");
        assert_int_equal(ctl_url_append_query(&url, "since", "1764075600"), 0);
        assert_int_equal(ctl_url_append_query(&url, "node", "n&1"), 0);
        assert_string_equal(url, "/v1/events?since=1764075600&node=n%261");
}

static const char metrics_answer[] =
        "{\"name\": null, \"generated_at_ms\": 1764075600000,"
        " \"settings\": {\"change\": 0.25, \"min_volume\": {\"requests\": 1}},"
        " \"current\": {\"nodes\": 2, \"endpoints\": 3, \"requests_per_s\": 1250.0, \"fuse_ops_per_s\": "
        "300.0,"
        "  \"fuse_concurrency\": 12.0, \"cached_read_bytes_per_s\": 8e8, \"ufs_read_bytes_per_s\": 4e8,"
        "  \"ufs_write_bytes_per_s\": 5e6, \"ufs_errors_per_s\": 3.0, \"hit_rate\": 0.6666666666666666,"
        "  \"fuse_ops\": [{\"operation\": \"getattr\", \"per_s\": 50.0}, {\"operation\": \"read\", "
        "\"per_s\": 250.0}],"
        "  \"ufs_errors\": [{\"ufs\": \"s3\", \"error_code\": \"503\", \"per_s\": 3.0, \"expected\": false},"
        "   {\"ufs\": \"s3\", \"error_code\": \"404\", \"per_s\": 1.0, \"expected\": true}],"
        "  \"missing\": [\"alluxio_fuse_result\"]},"
        " \"windows\": {\"hour\": {\"points\": 60}, \"day_ago\": {\"points\": 60}, \"week_ago\": "
        "{\"points\": 0}},"
        " \"comparisons\": {"
        "  \"requests_per_s\": {\"hour\": 1200.0, \"day_ago\": 1500.0, \"week_ago\": null,"
        "   \"day\": {\"change\": -0.2, \"significant\": false}, \"week\": null},"
        "  \"ufs_errors_per_s\": {\"hour\": 3.0, \"day_ago\": 0.0, \"week_ago\": null,"
        "   \"day\": {\"change\": null, \"significant\": true}, \"week\": null},"
        "  \"hit_rate\": {\"hour\": 0.7, \"day_ago\": 0.9, \"week_ago\": null,"
        "   \"day\": {\"change_pts\": -20.0, \"significant\": true}, \"week\": null}}}";

static void test_metrics_table_compares_each_series(void **state) {
        int r;
        _cleanup_(freep) char *out = render(ctl_metrics_render, metrics_answer, &r);

        assert_int_equal(r, 0);
        assert_string_equal(out,
                "cluster: 2 nodes, 3 metrics endpoints\n"
                "history: last hour 60 points, a day ago 60, a week ago 0 (one point a minute)\n"
                "\n"
                "SERIES                    NOW  LAST HOUR  DAY AGO  WEEK AGO   DAY CHANGE  WEEK CHANGE\n"
                "requests               1250/s     1200/s   1500/s         -      -20.0 %            -\n"
                "FUSE operations         300/s          -        -         -            -            -\n"
                "  getattr                50/s\n"
                "  read                  250/s\n"
                "FUSE concurrency           12          -        -         -            -            -\n"
                "cached reads         800 MB/s          -        -         -            -            -\n"
                "UFS reads            400 MB/s          -        -         -            -            -\n"
                "UFS writes             5 MB/s          -        -         -            -            -\n"
                "UFS errors                3/s        3/s      0/s         -        new *            -\n"
                "  s3 503                  3/s\n"
                "  s3 404 (expected)       1/s\n"
                "hit rate               66.7 %     70.0 %   90.0 %         -  -20.0 pts *            -\n"
                "not on the metrics pages (their rates read 0): alluxio_fuse_result\n"
                "* significant: a change of 25 % or more (the hit rate: of the share of reads served by the "
                "UFS) at enough volume\n");
}

/* The answer of a collector that keeps the breakdowns' history. */
static const char metrics_breakdowns_answer[] =
        "{\"name\": null,"
        " \"settings\": {\"change\": 0.25},"
        " \"current\": {\"nodes\": 1, \"endpoints\": 2, \"requests_per_s\": 100.0, \"fuse_ops_per_s\": "
        "300.0,"
        "  \"ufs_errors_per_s\": 3.0,"
        "  \"fuse_ops\": [{\"operation\": \"read\", \"per_s\": 300.0}],"
        "  \"ufs_errors\": [{\"ufs\": \"s3\", \"error_code\": \"503\", \"per_s\": 2.0, \"expected\": false},"
        "   {\"ufs\": \"hdfs\", \"error_code\": \"503\", \"per_s\": 1.0, \"expected\": false},"
        "   {\"ufs\": \"s3\", \"error_code\": \"404\", \"per_s\": 1.0, \"expected\": true}]},"
        " \"windows\": {\"hour\": {\"points\": 60}, \"day_ago\": {\"points\": 60}, \"week_ago\": "
        "{\"points\": 60}},"
        " \"comparisons\": {},"
        " \"breakdowns\": {"
        "  \"fuse_ops\": [{\"key\": \"read\", \"now\": 300.0, \"hour\": 290.0, \"day_ago\": 100.0,"
        "   \"week_ago\": 280.0, \"day\": {\"change\": 1.9, \"significant\": true},"
        "   \"week\": {\"change\": 0.0357, \"significant\": false}},"
        "   {\"key\": \"write\", \"now\": 0.0, \"hour\": 5.0, \"day_ago\": 0.0, \"week_ago\": 0.0,"
        "   \"day\": {\"change\": null, \"significant\": true}, \"week\": {\"change\": null, "
        "\"significant\": true}}],"
        "  \"ufs_errors\": [{\"key\": \"500\", \"now\": 0.0, \"hour\": 0.0, \"day_ago\": 2.0, "
        "\"week_ago\": 0.0,"
        "   \"day\": {\"change\": -1.0, \"significant\": true}, \"week\": {\"change\": 0.0, "
        "\"significant\": false}},"
        "   {\"key\": \"503\", \"now\": 3.0, \"hour\": 3.0, \"day_ago\": null, \"week_ago\": null,"
        "   \"day\": null, \"week\": null}]}}";

static void test_metrics_breakdown_rows_have_history(void **state) {
        int r;
        _cleanup_(freep) char *out = render(ctl_metrics_render, metrics_breakdowns_answer, &r);

        assert_int_equal(r, 0);
        /* The breakdown rows under FUSE operations and UFS errors get every column; the UFS errors by
         * code (over the UFSes), then the expected ones, which have no history, by UFS. */
        assert_string_equal(out,
                "cluster: 1 node, 2 metrics endpoints\n"
                "history: last hour 60 points, a day ago 60, a week ago 60 (one point a minute)\n"
                "\n"
                "SERIES                 NOW  LAST HOUR  DAY AGO  WEEK AGO  DAY CHANGE  WEEK CHANGE\n"
                "requests             100/s          -        -         -           -            -\n"
                "FUSE operations      300/s          -        -         -           -            -\n"
                "  read               300/s      290/s    100/s     280/s  +190.0 % *       +3.6 %\n"
                "  write                0/s        5/s      0/s       0/s       new *        new *\n"
                "FUSE concurrency         -          -        -         -           -            -\n"
                "cached reads             -          -        -         -           -            -\n"
                "UFS reads                -          -        -         -           -            -\n"
                "UFS writes               -          -        -         -           -            -\n"
                "UFS errors             3/s          -        -         -           -            -\n"
                "  500                  0/s        0/s      2/s       0/s  -100.0 % *       +0.0 %\n"
                "  503                  3/s        3/s        -         -           -            -\n"
                "  s3 404 (expected)    1/s\n"
                "hit rate                 -          -        -         -           -            -\n"
                "* significant: a change of 25 % or more (the hit rate: of the share of reads served by the "
                "UFS) at enough volume\n");
}

static void test_metrics_of_a_stale_node_without_history(void **state) {
        int r;
        _cleanup_(freep) char *out = render(ctl_metrics_render,
                "{\"name\": \"node-a\", \"stale\": true, \"last_report_age_s\": 42.0,"
                " \"current\": {\"endpoints\": 1, \"requests_per_s\": 10.0}, \"windows\": null, "
                "\"comparisons\": null}",
                &r);

        assert_int_equal(r, 0);
        assert_true(startswith(out,
                "node node-a (stale, last report 42 s ago): 1 metrics endpoint\n"
                "history: none yet\n"));
        assert_null(strstr(out, "significant"));
        free(out);
        out = render(ctl_metrics_render, "{\"metrics\": []}", &r);
        assert_int_equal(r, -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nodes_table_has_one_aligned_row_per_node),
                cmocka_unit_test(test_nodes_without_any_node_is_unknown),
                cmocka_unit_test(test_node_view_has_header_and_checks_worst_first),
                cmocka_unit_test(test_events_table_shows_local_time_and_transition),
                cmocka_unit_test(test_events_empty_and_malformed),
                cmocka_unit_test(test_logs_read_like_grep_after_context),
                cmocka_unit_test(test_logs_without_context_have_no_separators),
                cmocka_unit_test(test_logs_empty_and_malformed),
                cmocka_unit_test(test_url_helpers_escape),
                cmocka_unit_test(test_metrics_table_compares_each_series),
                cmocka_unit_test(test_metrics_breakdown_rows_have_history),
                cmocka_unit_test(test_metrics_of_a_stale_node_without_history),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
