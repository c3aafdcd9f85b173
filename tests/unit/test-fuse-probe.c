/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fuse/fuse-probe.h"

/* Records op as finished with the given latency and errno. */
static void done(FuseShared *sh, int op, usec_t latency, int error) {
        sh->ops[op] = (OpRecord){.start_usec = now_usec(CLOCK_MONOTONIC) - latency,
                .latency_usec = latency,
                .error = error,
                .state = 2};
}

static FuseSettings settings(void) {
        return (FuseSettings){.warn_latency = 500 * USEC_PER_MSEC, .readdir_entries = 16};
}

static CheckList classify(const FuseSettings *s, const FuseShared *sh, ProbeOutcome o, int64_t waiting) {
        CheckList l = {};
        assert_int_equal(
                fuse_probe_classify("/mnt/a", s, sh, &o, "fuse.bindfs", "/src", 42, waiting, &l), 0);
        return l;
}

static void healthy_mount_is_ok(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        done(&sh, FUSE_OP_STATFS, 100, 0);
        done(&sh, FUSE_OP_STAT, 100, 0);
        done(&sh, FUSE_OP_READDIR, 200, 0);
        CheckList l = classify(&s, &sh, (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_EXITED}, 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.items[0]->name, "fuse.mount");
        assert_int_equal(check_status(l.items[0]), VIGIL_OK);
        assert_int_equal(l.items[0]->fuse->n_operations, 3);
        assert_int_equal(l.items[0]->fuse->waiting, 0);
        check_list_clear(&l);
}

static void enotconn_is_crit_daemon_gone(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        done(&sh, FUSE_OP_STATFS, 50, ENOTCONN);
        CheckList l = classify(&s, &sh, (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_EXITED}, -1);
        assert_int_equal(check_status(l.items[0]), VIGIL_CRIT);
        assert_int_equal(l.items[0]->errno_value, ENOTCONN);
        assert_string_equal(l.items[0]->error_code, "ENOTCONN");
        assert_non_null(
                strstr(l.items[0]->message, "FUSE daemon gone: transport endpoint is not connected"));
        check_list_clear(&l);
}

static void each_classified_errno_has_its_operator_message(void **state) {
        static const struct {
                int error;
                const char *words;
        } cases[] = {
                {EIO, "I/O error"},
                {ESTALE, "stale file handle"},
                {EACCES, "permission denied"},
                {EHOSTDOWN, "host is down"},
                {ENOTCONN, "FUSE daemon gone"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                FuseShared sh = {};
                FuseSettings s = settings();
                done(&sh, FUSE_OP_STATFS, 10, 0);
                done(&sh, FUSE_OP_STAT, 10, cases[i].error);
                CheckList l = classify(
                        &s, &sh, (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_EXITED}, -1);
                assert_int_equal(check_status(l.items[0]), VIGIL_CRIT);
                assert_non_null(strstr(l.items[0]->message, cases[i].words));
                assert_non_null(strstr(l.items[0]->message, "in stat"));
                assert_string_equal(l.items[0]->error_code, strerrorname_np(cases[i].error));
                check_list_clear(&l);
        }
}

static void slow_operation_is_warn_naming_it(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        done(&sh, FUSE_OP_STATFS, 10, 0);
        done(&sh, FUSE_OP_STAT, 10, 0);
        done(&sh, FUSE_OP_READDIR, 812 * USEC_PER_MSEC, 0);
        CheckList l = classify(&s, &sh, (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_EXITED}, -1);
        assert_int_equal(check_status(l.items[0]), VIGIL_WARN);
        assert_string_equal(l.items[0]->message, "slow: readdir took 812 ms (threshold 500 ms)");
        check_list_clear(&l);
}

static void deadline_is_crit_hung_naming_the_operation(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        done(&sh, FUSE_OP_STATFS, 10, 0);
        sh.ops[FUSE_OP_STAT] = (OpRecord){.start_usec = now_usec(CLOCK_MONOTONIC), .state = 1};
        CheckList l = classify(
                &s, &sh, (ProbeOutcome){.kind = PROBE_TIMED_OUT, .pid = 99, .elapsed = 2 * USEC_PER_SEC}, 3);
        assert_int_equal(check_status(l.items[0]), VIGIL_CRIT);
        assert_string_equal(l.items[0]->error_code, "HUNG");
        assert_string_equal(l.items[0]->message,
                "hung for 2.0 s in stat: FUSE daemon not answering; 3 requests waiting");
        assert_string_equal(l.items[0]->fuse->hung_in, "stat");
        assert_false(l.items[0]->fuse->operations[1]->finished);
        check_list_clear(&l);
}

static void stuck_child_is_reported_with_age_and_pid(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        s.canary = (char *)"canary";
        done(&sh, FUSE_OP_STATFS, 10, 0);
        done(&sh, FUSE_OP_STAT, 10, 0);
        done(&sh, FUSE_OP_READDIR, 10, 0);
        done(&sh, FUSE_OP_OPEN, 10, 0);
        sh.ops[FUSE_OP_READ] = (OpRecord){.start_usec = now_usec(CLOCK_MONOTONIC), .state = 1};
        CheckList l = classify(
                &s, &sh, (ProbeOutcome){.kind = PROBE_STUCK, .pid = 1234, .elapsed = 17 * USEC_PER_SEC}, 1);
        assert_int_equal(l.n, 2);
        /* The mount answered; the read is what hangs. */
        assert_int_equal(check_status(l.items[0]), VIGIL_OK);
        assert_int_equal(check_status(l.items[1]), VIGIL_CRIT);
        assert_non_null(
                strstr(l.items[1]->message, "hung for 17 s in read: probe process 1234 survived SIGKILL"));
        assert_int_equal(l.items[1]->fuse->stuck_pid, 1234);
        check_list_clear(&l);
}

static void canary_mismatch_is_crit(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        s.canary = (char *)"canary";
        s.expect = (char *)"hello";
        done(&sh, FUSE_OP_STATFS, 10, 0);
        done(&sh, FUSE_OP_STAT, 10, 0);
        done(&sh, FUSE_OP_READDIR, 10, 0);
        done(&sh, FUSE_OP_OPEN, 10, 0);
        done(&sh, FUSE_OP_READ, 10, 0);
        sh.canary_mismatch = 1;
        sh.canary_bytes = 5;
        strcpy(sh.canary_sample, "jello");
        CheckList l = classify(&s, &sh, (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_EXITED}, -1);
        assert_int_equal(check_status(l.items[1]), VIGIL_CRIT);
        assert_string_equal(l.items[1]->error_code, "CONTENT_MISMATCH");
        assert_non_null(strstr(l.items[1]->message, "expected \"hello\", read \"jello\""));
        check_list_clear(&l);
}

static void canary_not_read_when_mount_failed(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        s.canary = (char *)"canary";
        done(&sh, FUSE_OP_STATFS, 10, EIO);
        CheckList l = classify(&s, &sh, (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_EXITED}, -1);
        assert_int_equal(check_status(l.items[0]), VIGIL_CRIT);
        assert_int_equal(check_status(l.items[1]), VIGIL_UNKNOWN);
        check_list_clear(&l);
}

static void crashed_probe_is_unknown(void **state) {
        FuseShared sh = {};
        FuseSettings s = settings();
        CheckList l = classify(&s, &sh,
                (ProbeOutcome){.kind = PROBE_EXITED, .child_code = CLD_KILLED, .child_status = SIGSEGV}, -1);
        assert_int_equal(check_status(l.items[0]), VIGIL_UNKNOWN);
        assert_string_equal(l.items[0]->error_code, "PROBE_DIED");
        check_list_clear(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(healthy_mount_is_ok),
                cmocka_unit_test(enotconn_is_crit_daemon_gone),
                cmocka_unit_test(each_classified_errno_has_its_operator_message),
                cmocka_unit_test(slow_operation_is_warn_naming_it),
                cmocka_unit_test(deadline_is_crit_hung_naming_the_operation),
                cmocka_unit_test(stuck_child_is_reported_with_age_and_pid),
                cmocka_unit_test(canary_mismatch_is_crit),
                cmocka_unit_test(canary_not_read_when_mount_failed),
                cmocka_unit_test(crashed_probe_is_unknown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
