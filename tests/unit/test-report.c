/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "report.h"

static const AgentIdentity id = {
        .node = "node-a",
        .cluster = "demo",
        .boot_id = "b00t",
        .kernel_boot_id = "k",
        .interval_ms = 5000,
};

static void report_round_trips_through_protobuf(void **state) {
        CheckResult *c[2] = {check_new("fuse.mount", "/mnt/a"), check_new("fuse.read", "/mnt/a")};
        assert_int_equal(check_set(c[0], VIGIL_CRIT, ENOTCONN, NULL, "FUSE daemon gone"), 0);
        assert_int_equal(check_add_int(c[0], "waiting", 3, NULL), 0);
        assert_int_equal(check_add_string(c[0], "fs", "fuse.bindfs"), 0);
        assert_int_equal(check_add_double(c[0], "ratio", 0.5, "%"), 0);
        assert_int_equal(check_set(c[1], VIGIL_OK, 0, NULL, "read 5 bytes"), 0);
        c[1]->latency_us = 1234;

        uint8_t *buf;
        size_t size;
        assert_int_equal(report_encode(&id, 7, 1700000000000, c, 2, NULL, &buf, &size), 0);
        Vigil__NodeReport *r = vigil__node_report__unpack(NULL, size, buf);
        assert_non_null(r);
        assert_string_equal(r->node, "node-a");
        assert_string_equal(r->cluster, "demo");
        assert_string_equal(r->boot_id, "b00t");
        assert_int_equal(r->seq, 7);
        assert_int_equal(r->interval_ms, 5000);
        assert_int_equal(r->time_unix_ms, 1700000000000);
        assert_int_equal(r->n_checks, 2);
        assert_int_equal(vigil_status_from_proto(r->checks[0]->status), VIGIL_CRIT);
        assert_int_equal(r->checks[0]->errno_value, ENOTCONN);
        assert_string_equal(r->checks[0]->error_code, "ENOTCONN");
        assert_int_equal(r->checks[0]->n_details, 3);
        assert_string_equal(r->checks[0]->details[0]->key, "waiting");
        assert_int_equal(r->checks[0]->details[0]->int_value, 3);
        assert_string_equal(r->checks[0]->details[1]->string_value, "fuse.bindfs");
        assert_int_equal(r->checks[1]->latency_us, 1234);
        vigil__node_report__free_unpacked(r, NULL);
        free(buf);
        check_free(c[0]);
        check_free(c[1]);
}

static void missing_status_decodes_as_unknown_not_ok(void **state) {
        Vigil__CheckResult c = VIGIL__CHECK_RESULT__INIT;
        c.name = (char *)"x";
        uint8_t buf[64];
        size_t n = vigil__check_result__pack(&c, buf);
        Vigil__CheckResult *d = vigil__check_result__unpack(NULL, n, buf);
        assert_int_equal(vigil_status_from_proto(d->status), VIGIL_UNKNOWN);
        vigil__check_result__free_unpacked(d, NULL);
}

static void unknown_fields_from_newer_agents_are_skipped(void **state) {
        /* A CheckResult with field 99 (varint 1) appended, as a newer agent might send. */
        Vigil__CheckResult c = VIGIL__CHECK_RESULT__INIT;
        c.name = (char *)"fuse.mount";
        uint8_t buf[64];
        size_t n = vigil__check_result__pack(&c, buf);
        buf[n++] = ((99 << 3) & 0x7f) | 0x80; /* tag 99, wire type 0: varint 792 */
        buf[n++] = 99 >> 4;
        buf[n++] = 1;
        Vigil__CheckResult *d = vigil__check_result__unpack(NULL, n, buf);
        assert_non_null(d);
        assert_string_equal(d->name, "fuse.mount");
        vigil__check_result__free_unpacked(d, NULL);
}

static void node_status_is_worst_check(void **state) {
        CheckResult *c[3] = {check_new("a", "t"), check_new("b", "t"), check_new("c", "t")};
        check_set(c[0], VIGIL_OK, 0, NULL, "ok");
        check_set(c[1], VIGIL_WARN, 0, NULL, "slow");
        check_set(c[2], VIGIL_OK, 0, NULL, "ok");
        assert_int_equal(report_status(c, 3), VIGIL_WARN);
        check_set(c[2], VIGIL_UNKNOWN, 0, NULL, "?");
        assert_int_equal(report_status(c, 3), VIGIL_UNKNOWN);
        check_set(c[0], VIGIL_CRIT, 0, NULL, "bad");
        assert_int_equal(report_status(c, 3), VIGIL_CRIT);
        assert_int_equal(report_status(c, 0), VIGIL_UNKNOWN);

        char *summary;
        assert_int_equal(report_summary(c, 3, &summary), 0);
        assert_string_equal(summary, "3 checks: 0 OK, 1 WARN, 1 CRIT, 1 UNKNOWN — a t: bad");
        free(summary);
        for (int i = 0; i < 3; i++)
                check_free(c[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(report_round_trips_through_protobuf),
                cmocka_unit_test(missing_status_decodes_as_unknown_not_ok),
                cmocka_unit_test(unknown_fields_from_newer_agents_are_skipped),
                cmocka_unit_test(node_status_is_worst_check),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
