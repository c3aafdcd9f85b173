/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "config.h"
#include "status.h"
#include "time-util.h"

static void durations_parse_units_and_compounds(void **state) {
        usec_t u;
        assert_int_equal(parse_duration("5", USEC_PER_SEC, &u), 0);
        assert_int_equal(u, 5 * USEC_PER_SEC);
        assert_int_equal(parse_duration("200ms", USEC_PER_SEC, &u), 0);
        assert_int_equal(u, 200 * USEC_PER_MSEC);
        assert_int_equal(parse_duration("1h30m", USEC_PER_SEC, &u), 0);
        assert_int_equal(u, 90 * USEC_PER_MINUTE);
        assert_int_equal(parse_duration("1.5s", USEC_PER_SEC, &u), 0);
        assert_int_equal(u, 1500 * USEC_PER_MSEC);
        assert_int_equal(parse_duration("5x", USEC_PER_SEC, &u), -EINVAL);
        assert_int_equal(parse_duration("", USEC_PER_SEC, &u), -EINVAL);
        assert_int_equal(parse_duration("-1s", USEC_PER_SEC, &u), -EINVAL);
        assert_int_equal(parse_duration("99999999999999999d", USEC_PER_SEC, &u), -ERANGE);
}

static void durations_format_for_humans(void **state) {
        assert_string_equal(FORMAT_DURATION(812 * USEC_PER_MSEC), "812 ms");
        assert_string_equal(FORMAT_DURATION(2 * USEC_PER_SEC), "2.0 s");
        assert_string_equal(FORMAT_DURATION(42 * USEC_PER_SEC), "42 s");
        assert_string_equal(FORMAT_DURATION(72 * USEC_PER_MINUTE), "1h12m");
        assert_string_equal(FORMAT_DURATION(22 * USEC_PER_HOUR + 48 * USEC_PER_MINUTE), "22h48m");
}

static void sizes_parse_suffixes(void **state) {
        uint64_t v;
        assert_int_equal(parse_size("64K", &v), 0);
        assert_int_equal(v, 65536);
        assert_int_equal(parse_size("1M", &v), 0);
        assert_int_equal(v, 1048576);
        assert_int_equal(parse_size("1MiB", &v), 0);
        /* ufsIOTest's spelling: --io-size 512m, 4G */
        assert_int_equal(parse_size("512m", &v), 0);
        assert_int_equal(v, 512ULL * 1048576);
        assert_int_equal(parse_size("4g", &v), 0);
        assert_int_equal(v, 4ULL << 30);
        assert_int_equal(parse_size("2T", &v), 0);
        assert_int_equal(v, 2ULL << 40);
        assert_int_equal(parse_size("12", &v), 0);
        assert_int_equal(v, 12);
        assert_int_equal(parse_size("1X", &v), -EINVAL);
        assert_int_equal(parse_size("-1", &v), -EINVAL);
}

static void status_names_and_worst_of(void **state) {
        assert_string_equal(vigil_status_to_string(VIGIL_CRIT), "CRIT");
        assert_int_equal(vigil_status_from_string("warn"), VIGIL_WARN);
        assert_int_equal(vigil_status_from_string("nope"), -EINVAL);
        assert_int_equal(vigil_status_worst(VIGIL_OK, VIGIL_WARN), VIGIL_WARN);
        assert_int_equal(vigil_status_worst(VIGIL_UNKNOWN, VIGIL_WARN), VIGIL_UNKNOWN);
        assert_int_equal(vigil_status_worst(VIGIL_UNKNOWN, VIGIL_CRIT), VIGIL_CRIT);
        for (int s = 0; s < _VIGIL_STATUS_MAX; s++)
                assert_int_equal(vigil_status_from_proto(vigil_status_to_proto(s)), s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(durations_parse_units_and_compounds),
                cmocka_unit_test(durations_format_for_humans),
                cmocka_unit_test(sizes_parse_suffixes),
                cmocka_unit_test(status_names_and_worst_of),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
