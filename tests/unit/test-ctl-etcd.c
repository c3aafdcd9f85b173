/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ctl.h"
#include "json-util.h"

static const char snapshot[] =
        "{\"cluster\": \"default-alluxio\", \"status\": \"WARN\","
        " \"members\": {\"ready\": 2, \"expected\": 3, \"percent\": 66, \"quorum\": true, \"list\": ["
        "  {\"endpoint\": \"http://127.0.0.1:23791\", \"name\": \"m1\", \"state\": \"ready\", "
        "\"latency_ms\": 1.25,"
        "   \"version\": \"3.4.23\", \"db_size\": 20480, \"raft_term\": 2, \"is_leader\": true},"
        "  {\"endpoint\": \"http://127.0.0.1:23792\", \"name\": \"m2\", \"state\": \"ready\", "
        "\"latency_ms\": 0.9,"
        "   \"version\": \"3.4.23\", \"db_size\": 20480, \"raft_term\": 2, \"is_leader\": false},"
        "  {\"endpoint\": \"http://127.0.0.1:23793\", \"state\": \"down\", \"latency_ms\": 0.2,"
        "   \"error\": \"connection refused\"}]},"
        " \"leader\": {\"id\": \"8e9e05c52164694d\", \"name\": \"m1\", \"endpoint\": "
        "\"http://127.0.0.1:23791\"},"
        " \"workers\": {\"live_prefix\": \"/ServiceDiscovery/default-alluxio/\", \"live\": 1, "
        "\"registered\": 2,"
        "  \"failed\": 1, \"stale\": false, \"list\": ["
        "   {\"id\": \"worker-1\", \"live\": true, \"registered\": true, \"failed\": false, \"host\": "
        "\"node-a\"},"
        "   {\"id\": \"worker-2\", \"live\": false, \"registered\": true, \"failed\": true}]},"
        " \"outage\": null,"
        " \"checks\": [{\"name\": \"etcd.members\", \"target\": \"http://127.0.0.1:23791\", \"status\": "
        "\"WARN\","
        "  \"message\": \"members: 2 ready / 3 expected = 66 %: http://127.0.0.1:23793 connection refused\","
        "  \"latency_ms\": 1.0}]}";

static char *render(const char *text, int *ret_code) {
        json_object *o = json_tokener_parse(text);
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        assert_non_null(o);
        *ret_code = ctl_etcd_render(o, false, f);
        fclose(f);
        json_object_put(o);
        return buf;
}

static void etcd_screen_shows_members_leader_workers_and_checks(void **state) {
        int code;
        char *out = render(snapshot, &code);
        assert_int_equal(code, 1);
        assert_non_null(strstr(out, "etcd of cluster default-alluxio: WARN\n"));
        assert_non_null(strstr(out, "members: 2 ready / 3 expected = 66 %, quorum held\n"));
        assert_non_null(strstr(out, "leader: m1 (http://127.0.0.1:23791, id 8e9e05c52164694d)\n"));
        assert_non_null(strstr(out, "http://127.0.0.1:23793  -           down"));
        assert_non_null(strstr(out, "connection refused\n"));
        assert_non_null(strstr(
                out, "workers: 1 live, 2 registered, 1 failed (/ServiceDiscovery/default-alluxio/)\n"));
        assert_non_null(strstr(out, "worker-2  no    yes         yes"));
        assert_non_null(strstr(out, "WARN     etcd.members"));
        free(out);
}

static void snapshot_without_status_is_rejected(void **state) {
        int code;
        char *out = render("{\"members\": {}}", &code);
        assert_int_equal(code, -EBADMSG);
        free(out);
}

static void doc_sections_are_found_by_heading(void **state) {
        const char *doc = "# etcd\n\n## Runbook: a\nstep a\n## Runbook: rebuild a lost etcd\n1. stop\n";
        assert_string_equal(ctl_doc_section(doc, "## Runbook: rebuild a lost etcd"),
                "## Runbook: rebuild a lost etcd\n1. stop\n");
        assert_null(ctl_doc_section(doc, "## Nothing"));
        assert_string_equal(ctl_doc_section(doc, "# etcd"), doc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(etcd_screen_shows_members_leader_workers_and_checks),
                cmocka_unit_test(snapshot_without_status_is_rejected),
                cmocka_unit_test(doc_sections_are_found_by_heading),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
