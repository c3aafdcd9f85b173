/* SPDX-License-Identifier: MIT */
/* vigilctl's command line: options before or after the command, defaults, usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl.h"

typedef struct Parsed {
        CtlSettings s;
        char **args;
        char *error;
        int r;
} Parsed;

static void parsed_done(Parsed *p) {
        ctl_settings_done(&p->s);
        strv_free(p->args);
        free(p->error);
}

/* Parses a NULL-terminated argument list after "vigilctl". */
static Parsed parse(const char *first, ...) {
        Parsed p = {};
        char *argv[32] = {(char *)"vigilctl"};
        int argc = 1;
        va_list ap;

        va_start(ap, first);
        for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
                argv[argc++] = (char *)a;
        va_end(ap);
        assert_int_equal(ctl_settings_init(&p.s), 0);
        p.r = ctl_parse_argv(&p.s, argc, argv, &p.args, &p.error);
        return p;
}

static void test_defaults_without_environment(void **state) {
        unsetenv("VIGIL_COLLECTOR");
        _cleanup_(parsed_done) Parsed p = parse("status", NULL);

        assert_int_equal(p.r, 0);
        assert_string_equal(p.s.collector, "http://127.0.0.1:7070");
        assert_int_equal(p.s.timeout, 5 * USEC_PER_SEC);
        assert_false(p.s.json);
        assert_null(p.s.token_file);
        assert_false(p.s.limit_set);
}

static void test_collector_from_environment_and_flag_wins(void **state) {
        setenv("VIGIL_COLLECTOR", "http://10.0.0.5:7070", 1);
        _cleanup_(parsed_done) Parsed env = parse("status", NULL);
        _cleanup_(parsed_done) Parsed flag = parse("--collector", "http://h:1", "status", NULL);
        unsetenv("VIGIL_COLLECTOR");

        assert_string_equal(env.s.collector, "http://10.0.0.5:7070");
        assert_string_equal(flag.s.collector, "http://h:1");
}

static void test_options_before_and_after_the_command_read_the_same(void **state) {
        _cleanup_(parsed_done) Parsed before = parse("--json", "--timeout", "2s", "node", "node-a", NULL);
        _cleanup_(parsed_done) Parsed middle = parse("node", "--json", "node-a", "--timeout=2s", NULL);
        _cleanup_(parsed_done) Parsed after = parse("node", "node-a", "--timeout", "2s", "--json", NULL);
        Parsed *all[] = {&before, &middle, &after};

        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                assert_int_equal(all[i]->r, 0);
                assert_true(all[i]->s.json);
                assert_int_equal(all[i]->s.timeout, 2 * USEC_PER_SEC);
                assert_int_equal(strv_length(all[i]->args), 2);
                assert_string_equal(all[i]->args[0], "node");
                assert_string_equal(all[i]->args[1], "node-a");
        }
}

static void test_event_options(void **state) {
        _cleanup_(parsed_done) Parsed p =
                parse("events", "--since", "1h", "--node", "n1", "--limit", "0", NULL);

        assert_int_equal(p.r, 0);
        assert_string_equal(p.s.since, "1h");
        assert_string_equal(p.s.node, "n1");
        assert_true(p.s.limit_set);
        assert_int_equal(p.s.limit, 0);
}

static void test_log_options(void **state) {
        _cleanup_(parsed_done) Parsed defaults = parse("logs", NULL);
        _cleanup_(parsed_done) Parsed p = parse("logs", "--node", "n1", "--source", "pod:alluxio/*",
                "--level", "error", "-A", "0", "--since", "1h", NULL);
        _cleanup_(parsed_done) Parsed bad_level = parse("logs", "--level", "LOUD", NULL);
        _cleanup_(parsed_done) Parsed bad_context = parse("logs", "-A", "x", NULL);

        assert_int_equal(defaults.r, 0);
        assert_int_equal(defaults.s.after_context, 1);
        assert_false(defaults.s.after_context_set);
        assert_null(defaults.s.level);
        assert_int_equal(p.r, 0);
        assert_string_equal(p.s.node, "n1");
        assert_string_equal(p.s.source, "pod:alluxio/*");
        assert_string_equal(p.s.level, "ERROR");
        assert_int_equal(p.s.after_context, 0);
        assert_true(p.s.after_context_set);
        assert_string_equal(p.s.since, "1h");
        assert_int_equal(bad_level.r, -EINVAL);
        assert_non_null(strstr(bad_level.error, "--level"));
        assert_non_null(strstr(bad_level.error, "'LOUD'"));
        assert_int_equal(bad_context.r, -EINVAL);
        assert_non_null(strstr(bad_context.error, "--after-context"));
}

static void test_double_dash_ends_options(void **state) {
        _cleanup_(parsed_done) Parsed p = parse("node", "--", "--json", NULL);

        assert_int_equal(p.r, 0);
        assert_false(p.s.json);
        assert_int_equal(strv_length(p.args), 2);
        assert_string_equal(p.args[1], "--json");
}

static void test_help_and_version_anywhere(void **state) {
        _cleanup_(parsed_done) Parsed h = parse("status", "--help", NULL);
        _cleanup_(parsed_done) Parsed v = parse("--version", NULL);

        assert_int_equal(h.r, 1);
        assert_int_equal(v.r, 2);
}

static void test_usage_errors_name_the_option(void **state) {
        _cleanup_(parsed_done) Parsed unknown = parse("status", "--bogus", NULL);
        _cleanup_(parsed_done) Parsed timeout = parse("--timeout", "soon", "status", NULL);
        _cleanup_(parsed_done) Parsed zero = parse("--timeout", "0", "status", NULL);
        _cleanup_(parsed_done) Parsed limit = parse("events", "--limit", "-1", NULL);
        _cleanup_(parsed_done) Parsed missing = parse("status", "--collector", NULL);

        assert_int_equal(unknown.r, -EINVAL);
        assert_non_null(strstr(unknown.error, "--bogus"));
        assert_int_equal(timeout.r, -EINVAL);
        assert_non_null(strstr(timeout.error, "--timeout"));
        assert_int_equal(zero.r, -EINVAL);
        assert_non_null(strstr(zero.error, "--timeout"));
        assert_int_equal(limit.r, -EINVAL);
        assert_non_null(strstr(limit.error, "--limit"));
        assert_int_equal(missing.r, -EINVAL);
        assert_non_null(strstr(missing.error, "--collector"));
}

static void test_no_command_gives_no_args(void **state) {
        _cleanup_(parsed_done) Parsed p = parse("--json", NULL);

        assert_int_equal(p.r, 0);
        assert_null(p.args);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_without_environment),
                cmocka_unit_test(test_collector_from_environment_and_flag_wins),
                cmocka_unit_test(test_options_before_and_after_the_command_read_the_same),
                cmocka_unit_test(test_event_options),
                cmocka_unit_test(test_log_options),
                cmocka_unit_test(test_double_dash_ends_options),
                cmocka_unit_test(test_help_and_version_anywhere),
                cmocka_unit_test(test_usage_errors_name_the_option),
                cmocka_unit_test(test_no_command_gives_no_args),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
