/* SPDX-License-Identifier: MIT */
/* The Prometheus text format parser: every form, families, escapes, values, errors with their line
 * numbers, streaming in any pieces, the callback's stop. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "metrics/prom-parse.h"

/* What the callback saw, flattened to text: one line per sample,
 * "name|family|type|l1=v1,l2=v2|value[|@timestamp] #line". */
typedef struct Seen {
        char *text;
        size_t len, cap;
        unsigned samples;
        int stop_at; /* return -ECANCELED for this sample (1-based), 0: never */
} Seen;

static const char *const type_names[] = {"untyped", "counter", "gauge", "histogram", "summary"};

_printf_(2, 3) static void append(Seen *s, const char *fmt, ...) {
        va_list ap;
        for (;;) {
                va_start(ap, fmt);
                int k = vsnprintf(s->text + s->len, s->cap - s->len, fmt, ap);
                va_end(ap);
                assert_true(k >= 0);
                if (s->len + (size_t)k < s->cap) {
                        s->len += (size_t)k;
                        return;
                }
                s->cap = (s->cap + (size_t)k) * 2 + 256;
                s->text = realloc(s->text, s->cap);
                assert_non_null(s->text);
        }
}

static void append_value(Seen *s, double v) {
        if (isnan(v))
                append(s, "NaN");
        else if (isinf(v))
                append(s, v > 0 ? "+Inf" : "-Inf");
        else
                append(s, "%.17g", v);
}

static int on_sample(const PromSample *x, void *userdata) {
        Seen *s = userdata;
        s->samples++;
        if (s->stop_at && (int)s->samples == s->stop_at)
                return -ECANCELED;
        append(s, "%s|%s|%s|", x->name, x->family, type_names[x->type]);
        for (size_t k = 0; k < x->n_labels; k++)
                append(s, "%s%s=%s", k ? "," : "", x->labels[k].name, x->labels[k].value);
        append(s, "|");
        append_value(s, x->value);
        if (x->has_timestamp)
                append(s, "|@%" PRId64, x->timestamp_ms);
        append(s, " #%" PRIu64 "\n", x->line);
        return 0;
}

/* Parses text whole; returns what was seen (free it) and the return in *ret. */
static char *parse(const char *text, int *ret, char **ret_error) {
        Seen s = {};
        char *error = NULL;
        int r = prom_parse_buffer(text, strlen(text), on_sample, &s, &error);
        *ret = r;
        if (ret_error)
                *ret_error = error;
        else
                free(error);
        return s.text ?: strdup("");
}

/* Parses text that must be valid and returns what was seen. */
static char *parse_ok(const char *text) {
        char *error = NULL;
        int r;
        char *seen = parse(text, &r, &error);
        if (r != 0)
                fail_msg("parse failed (%d): %s", r, strempty(error));
        assert_null(error);
        return seen;
}

static void expect_samples(const char *text, const char *expected) {
        char *seen = parse_ok(text);
        assert_string_equal(seen, expected);
        free(seen);
}

/* Parses text that must fail with r and exactly this message. */
static void expect_error(const char *text, int r_expected, const char *message) {
        char *error = NULL;
        int r;
        free(parse(text, &r, &error));
        assert_int_equal(r, r_expected);
        assert_non_null(error);
        assert_string_equal(error, message);
        free(error);
}

static void counter_gauge_untyped_with_help_and_type(void **state) {
        expect_samples("# HELP alluxio_fuse_calls Calls of the FUSE layer.\n"
                       "# TYPE alluxio_fuse_calls counter\n"
                       "alluxio_fuse_calls{method=\"read\"} 1027\n"
                       "alluxio_fuse_calls{method=\"write\"} 3\n"
                       "# HELP mem_bytes Resident memory.\n"
                       "# TYPE mem_bytes gauge\n"
                       "mem_bytes 1.5e+09\n"
                       "no_type_at_all 42\n"
                       "# TYPE explicit untyped\n"
                       "explicit -7\n",
                "alluxio_fuse_calls|alluxio_fuse_calls|counter|method=read|1027 #3\n"
                "alluxio_fuse_calls|alluxio_fuse_calls|counter|method=write|3 #4\n"
                "mem_bytes|mem_bytes|gauge||1500000000 #7\n"
                "no_type_at_all|no_type_at_all|untyped||42 #8\n"
                "explicit|explicit|untyped||-7 #10\n");
}

static void histogram_samples_carry_their_family(void **state) {
        expect_samples("# HELP rpc_seconds Latency.\n"
                       "# TYPE rpc_seconds histogram\n"
                       "rpc_seconds_bucket{op=\"get\",le=\"0.005\"} 3\n"
                       "rpc_seconds_bucket{op=\"get\",le=\"+Inf\"} 10\n"
                       "rpc_seconds_sum{op=\"get\"} 0.25\n"
                       "rpc_seconds_count{op=\"get\"} 10\n"
                       "rpc_seconds_created{op=\"get\"} 1.7e9\n"
                       "rpc_seconds_total 1\n"
                       "rpc_seconds_sum 2\n",
                "rpc_seconds_bucket|rpc_seconds|histogram|op=get,le=0.005|3 #3\n"
                "rpc_seconds_bucket|rpc_seconds|histogram|op=get,le=+Inf|10 #4\n"
                "rpc_seconds_sum|rpc_seconds|histogram|op=get|0.25 #5\n"
                "rpc_seconds_count|rpc_seconds|histogram|op=get|10 #6\n"
                "rpc_seconds_created|rpc_seconds|histogram|op=get|1700000000 #7\n"
                /* _total is no histogram suffix: a family of its own, and the histogram is over */
                "rpc_seconds_total|rpc_seconds_total|untyped||1 #8\n"
                "rpc_seconds_sum|rpc_seconds_sum|untyped||2 #9\n");
}

static void summary_samples_carry_their_family(void **state) {
        expect_samples("# TYPE go_gc_duration_seconds summary\n"
                       "go_gc_duration_seconds{quantile=\"0\"} 2.1e-05\n"
                       "go_gc_duration_seconds{quantile=\"0.5\"} 4.5e-05\n"
                       "go_gc_duration_seconds{quantile=\"1\"} NaN\n"
                       "go_gc_duration_seconds_sum 0.012\n"
                       "go_gc_duration_seconds_count 187\n"
                       "go_gc_duration_seconds_bucket 1\n",
                "go_gc_duration_seconds|go_gc_duration_seconds|summary|quantile=0|2.0999999999999999e-05 "
                "#2\n"
                "go_gc_duration_seconds|go_gc_duration_seconds|summary|quantile=0.5|4.5000000000000003e-05 "
                "#3\n"
                "go_gc_duration_seconds|go_gc_duration_seconds|summary|quantile=1|NaN #4\n"
                "go_gc_duration_seconds_sum|go_gc_duration_seconds|summary||0.012 #5\n"
                "go_gc_duration_seconds_count|go_gc_duration_seconds|summary||187 #6\n"
                "go_gc_duration_seconds_bucket|go_gc_duration_seconds_bucket|untyped||1 #7\n");
}

static void help_keeps_the_type_of_its_family(void **state) {
        /* TYPE before HELP, HELP text with escapes and anything after it, a HELP of another family. */
        expect_samples("# TYPE a_total counter\n"
                       "# HELP a_total Text with \\\\ and \\n and \"quotes\" {x=\"y\"} 1 2 3\n"
                       "a_total 1\n"
                       "# HELP b\n"
                       "b 2\n",
                "a_total|a_total|counter||1 #3\n"
                "b|b|untyped||2 #5\n");
}

static void label_values_unescape(void **state) {
        expect_samples("x{path=\"C:\\\\dir\\\\file\",msg=\"say \\\"hi\\\"\",text=\"two\\nlines\"} 1\n"
                       "x{empty=\"\",utf8=\"caf\xc3\xa9 \xe2\x82\xac\",braces=\"}{,=\"} 2\n",
                "x|x|untyped|path=C:\\dir\\file,msg=say \"hi\",text=two\nlines|1 #1\n"
                "x|x|untyped|empty=,utf8=caf\xc3\xa9 \xe2\x82\xac,braces=}{,=|2 #2\n");
}

static void label_names_repeat_change_and_clash_across_samples(void **state) {
        /* Names the samples before had at the same place, longer or shorter, then a clash with one. */
        expect_samples("a{b=\"1\"} 1\n"
                       "a{c=\"1\",b=\"2\"} 2\n"
                       "a{quantile=\"0.5\",instance=\"x\",a_very_long_label_name=\"y\"} 3\n"
                       "a{quantile=\"0.9\",instance=\"x\",a_very_long_label_name=\"z\"} 4\n"
                       "a{quantilf=\"0.9\",instancE=\"x\",a_very_long_label_namf=\"z\"} 5\n"
                       "a{b=\"1\"} 6\n",
                "a|a|untyped|b=1|1 #1\n"
                "a|a|untyped|c=1,b=2|2 #2\n"
                "a|a|untyped|quantile=0.5,instance=x,a_very_long_label_name=y|3 #3\n"
                "a|a|untyped|quantile=0.9,instance=x,a_very_long_label_name=z|4 #4\n"
                "a|a|untyped|quantilf=0.9,instancE=x,a_very_long_label_namf=z|5 #5\n"
                "a|a|untyped|b=1|6 #6\n");
        expect_error("a{b=\"1\"} 1\na{c=\"1\",b=\"2\"} 2\na{b=\"1\",b=\"2\"} 3\n", -EBADMSG,
                "line 3: duplicate label 'b' in 'a'");
        expect_error("a{b=\"1\",c=\"2\"} 1\na{c=\"1\",c=\"2\"} 2\n", -EBADMSG,
                "line 2: duplicate label 'c' in 'a'");
        /* A name the last sample had, but not followed by '='. */
        expect_error("a{bb=\"1\"} 1\na{bb+=\"1\"} 2\n", -EBADMSG,
                "line 2: expected '=' after label name 'bb', got '+'");
}

static void blanks_and_trailing_comma_are_accepted(void **state) {
        expect_samples("  x\t{ a = \"1\" ,b=\"2\",\t} \t 3 \t 1700000000000 \t\n"
                       "y{} 4\n"
                       "z {a=\"b\",} 5\n"
                       "w{a=\"b\"}6\n",
                "x|x|untyped|a=1,b=2|3|@1700000000000 #1\n"
                "y|y|untyped||4 #2\n"
                "z|z|untyped|a=b|5 #3\n"
                "w|w|untyped|a=b|6 #4\n");
}

static void special_values_in_every_spelling(void **state) {
        expect_samples("a NaN\na nan\na NAN\n"
                       "a Inf\na +Inf\na -Inf\na inf\na +inf\na -INF\na Infinity\na -infinity\n",
                "a|a|untyped||NaN #1\na|a|untyped||NaN #2\na|a|untyped||NaN #3\n"
                "a|a|untyped||+Inf #4\na|a|untyped||+Inf #5\na|a|untyped||-Inf #6\n"
                "a|a|untyped||+Inf #7\na|a|untyped||+Inf #8\na|a|untyped||-Inf #9\n"
                "a|a|untyped||+Inf #10\na|a|untyped||-Inf #11\n");
}

static void numbers_parse_exactly(void **state) {
        static const char *const numbers[] = {
                "0",
                "-0",
                "+0",
                "1",
                "-1",
                "+17",
                "007",
                "0.1",
                ".5",
                "5.",
                "-.5e3",
                "1e5",
                "1E-5",
                "1e+22",
                "1e23",
                "1e-22",
                "1e-23",
                "3.14159265358979323846",
                "9007199254740993",
                "18446744073709551615",
                "123456789012345678901234567890",
                "0.000000000000000000000000000000001",
                "4.9e-324",
                "1e-400",
                "2.2250738585072014e-308",
                "1.7976931348623157e308",
                "0.30000000000000004",
                "123.456e-7",
                "99999999999999999999e-20",
                "1234567890123456789",
                "12345678901234567890",
        };
        for (size_t k = 0; k < ELEMENTSOF(numbers); k++) {
                char text[128];
                snprintf(text, sizeof(text), "n %s\n", numbers[k]);
                char *seen = parse_ok(text);
                char expected[128];
                double d = strtod(numbers[k], NULL);
                snprintf(expected, sizeof(expected), "n|n|untyped||%.17g #1\n", d);
                assert_string_equal(seen, expected);
                free(seen);
        }
        /* -0 keeps its sign. */
        Seen s = {};
        assert_int_equal(prom_parse_buffer("n -0\n", 5, on_sample, &s, NULL), 0);
        assert_string_equal(s.text, "n|n|untyped||-0 #1\n");
        free(s.text);
}

static int store_value(const PromSample *x, void *userdata) {
        *(double *)userdata = x->value;
        return 0;
}

static void random_decimals_match_strtod(void **state) {
        /* The fast path against strtod, bit for bit, on decimals of every length and exponent. */
        uint64_t x = 0x9e3779b97f4a7c15u;
        for (unsigned k = 0; k < 200000; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                char num[64];
                unsigned digits = 1 + (unsigned)(x % 20), point = (unsigned)((x >> 8) % (digits + 1));
                int exp = (int)((x >> 16) % 61) - 30;
                size_t n = 0;
                uint64_t y = x;
                if (x & (1u << 30))
                        num[n++] = '-';
                for (unsigned d = 0; d < digits; d++) {
                        if (d == point && d > 0)
                                num[n++] = '.';
                        y = y * 6364136223846793005u + 1442695040888963407u;
                        num[n++] = (char)('0' + (y >> 60) % 10);
                }
                if (x & (1u << 31))
                        n += (size_t)sprintf(num + n, "e%d", exp);
                num[n] = 0;

                double want = strtod(num, NULL), got = NAN;
                char line[80];
                int len = snprintf(line, sizeof(line), "n %s\n", num);
                assert_int_equal(prom_parse_buffer(line, (size_t)len, store_value, &got, NULL), 0);
                if (memcmp(&want, &got, sizeof(double)) != 0)
                        fail_msg("'%s': strtod %.17g, parser %.17g", num, want, got);
        }
}

static void timestamps_are_optional_and_signed(void **state) {
        expect_samples("a 1 1700000000123\n"
                       "a 2 -5\n"
                       "a 3 +9223372036854775807\n"
                       "a 4 -9223372036854775808\n"
                       "a 5\n",
                "a|a|untyped||1|@1700000000123 #1\n"
                "a|a|untyped||2|@-5 #2\n"
                "a|a|untyped||3|@9223372036854775807 #3\n"
                "a|a|untyped||4|@-9223372036854775808 #4\n"
                "a|a|untyped||5 #5\n");
}

static void openmetrics_forms_are_accepted(void **state) {
        expect_samples("# TYPE requests counter\n"
                       "# HELP requests Requests served.\n"
                       "requests_total{code=\"200\"} 12\n"
                       "requests_created{code=\"200\"} 1.7e9\n"
                       "requests{code=\"500\"} 1\n"
                       "# TYPE lat summary\n"
                       "lat_created 1\n"
                       "# EOF\n"
                       "\n",
                "requests_total|requests|counter|code=200|12 #3\n"
                "requests_created|requests|counter|code=200|1700000000 #4\n"
                "requests|requests|counter|code=500|1 #5\n"
                "lat_created|lat|summary||1 #7\n");
        expect_error("# EOF\nx 1\n", -EBADMSG, "line 2: 'x 1' after '# EOF'");
}

static void comments_blank_lines_and_crlf(void **state) {
        expect_samples("# a comment\r\n"
                       "#\n"
                       "#no space before a word\n"
                       "# HELPFUL is not HELP\n"
                       "\n"
                       "   \t \r\n"
                       "\r\n"
                       "# TYPE up gauge\r\n"
                       "up{job=\"node\"} 1\r\n"
                       "up{job=\"x\"} 0 1700000000000\r\n"
                       "last 9",
                "up|up|gauge|job=node|1 #9\n"
                "up|up|gauge|job=x|0|@1700000000000 #10\n"
                "last|last|untyped||9 #11\n");
}

static void errors_say_the_line_and_what_is_wrong(void **state) {
        expect_error(
                "a 1\nb{1x=\"y\"} 2\n", -EBADMSG, "line 2: expected a label name or '}' in 'b', got '1'");
        expect_error("a 1\n\nrpc{le 3\n", -EBADMSG, "line 3: expected '=' after label name 'le', got '3'");
        expect_error(
                "rpc{le=5} 3\n", -EBADMSG, "line 1: expected '\"' to open the value of label 'le', got '5'");
        expect_error("a 1\nb\n", -EBADMSG, "line 2: missing value for 'b'");
        expect_error("b{a=\"1\"}\n", -EBADMSG, "line 1: missing value for 'b'");
        expect_error("b{a=\"1\"}   \r\n", -EBADMSG, "line 1: missing value for 'b'");
        expect_error("x 1\ny 2\nb{a=\"open} 1\n", -EBADMSG, "line 3: unterminated value of label 'a'");
        expect_error("b{a=\"ends in a backslash\\", -EBADMSG, "line 1: unterminated value of label 'a'");
        expect_error("b{a=\"\\t\"} 1\n", -EBADMSG, "line 1: bad escape '\\t' in the value of label 'a'");
        expect_error("b{a=\"x\" b=\"y\"} 1\n", -EBADMSG,
                "line 1: expected ',' or '}' after the value of label 'a', got 'b'");
        expect_error("b{a=\"x\",a=\"y\"} 1\n", -EBADMSG, "line 1: duplicate label 'a' in 'b'");
        expect_error("b{a=\"\xff\"} 1\n", -EBADMSG, "line 1: invalid UTF-8 in the value of label 'a'");
        expect_error(
                "b{a=\"\xed\xa0\x80\"} 1\n", -EBADMSG, "line 1: invalid UTF-8 in the value of label 'a'");
        expect_error("b 12a\n", -EBADMSG, "line 1: bad value '12a' for 'b'");
        expect_error("b 1,5\n", -EBADMSG, "line 1: bad value '1,5' for 'b'");
        expect_error("b 0x10\n", -EBADMSG, "line 1: bad value '0x10' for 'b'");
        expect_error("b 1_000\n", -EBADMSG, "line 1: bad value '1_000' for 'b'");
        expect_error("b 1e\n", -EBADMSG, "line 1: bad value '1e' for 'b'");
        expect_error("b .\n", -EBADMSG, "line 1: bad value '.' for 'b'");
        expect_error("b +NaN\n", -EBADMSG, "line 1: bad value '+NaN' for 'b'");
        expect_error("b Infinit\n", -EBADMSG, "line 1: bad value 'Infinit' for 'b'");
        expect_error("b 1e400\n", -EBADMSG, "line 1: value '1e400' of 'b' is out of range");
        expect_error("b 1 1.5\n", -EBADMSG, "line 1: bad timestamp '1.5' for 'b'");
        expect_error("b 1 9223372036854775808\n", -EBADMSG,
                "line 1: bad timestamp '9223372036854775808' for 'b'");
        expect_error("b 1 2 3\n", -EBADMSG, "line 1: unexpected '3' after the timestamp of 'b'");
        expect_error("b\"x\" 1\n", -EBADMSG, "line 1: unexpected '\"' after metric name 'b'");
        expect_error("9b 1\n", -EBADMSG, "line 1: expected a metric name, got '9'");
        expect_error("# TYPE x bogus\n", -EBADMSG, "line 1: unknown metric type 'bogus' for 'x'");
        expect_error("# TYPE x\n", -EBADMSG, "line 1: missing the type in TYPE line for 'x'");
        expect_error("# TYPE x gauge extra\n", -EBADMSG, "line 1: unexpected 'extra' after the type of 'x'");
        expect_error("# HELP 1x text\n", -EBADMSG, "line 1: expected a metric name after HELP, got '1x'");
        expect_error("b{a=\"x\\x00\"} 1\n", -EBADMSG, "line 1: bad escape '\\x' in the value of label 'a'");
        /* A NUL byte cannot be passed in a C string: feed it with its length. */
        char *error = NULL;
        assert_int_equal(prom_parse_buffer("b{a=\"\0\"} 1\n", 11, NULL, NULL, &error), -EBADMSG);
        assert_string_equal(error, "line 1: NUL byte in the value of label 'a'");
        free(error);
        /* Unprintable bytes are shown escaped, long tokens cut. */
        expect_error("b \x01\x7f\n", -EBADMSG, "line 1: bad value '\\x01\\x7f' for 'b'");
        expect_error("b 1234567890123456789012345678901234567890123456789012345678901234567890x\n", -EBADMSG,
                "line 1: bad value '123456789012345678901234567890123456789012345678...' for 'b'");
}

static void line_too_long_is_an_error_with_its_number(void **state) {
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        Seen s = {};

        /* A complete line longer than max_line. */
        assert_int_equal(prom_parser_new(16, on_sample, &s, &p), 0);
        assert_int_equal(prom_parser_feed(p, "a 1\nshort 2\nlonger_name_than_16 3\nb 4\n", 40), -E2BIG);
        assert_string_equal(prom_parser_error(p), "line 3: line longer than 16 bytes");
        assert_int_equal(s.samples, 2);
        p = prom_parser_free(p);

        /* A line that grows past max_line over several feeds fails before its newline comes. */
        assert_int_equal(prom_parser_new(16, on_sample, &s, &p), 0);
        assert_int_equal(prom_parser_feed(p, "a 1\nlonger_", 11), 0);
        assert_int_equal(prom_parser_feed(p, "name", 4), 0);
        assert_int_equal(prom_parser_feed(p, "_than_16", 8), -E2BIG);
        assert_string_equal(prom_parser_error(p), "line 2: line longer than 16 bytes");
        p = prom_parser_free(p);

        /* Exactly max_line bytes is fine, split or not; "\r" counts. */
        assert_int_equal(prom_parser_new(8, on_sample, &s, &p), 0);
        assert_int_equal(prom_parser_feed(p, "abcdef 1\nabcd", 13), 0);
        assert_int_equal(prom_parser_feed(p, "ef 2\nabcde 3\r\n", 14), 0);
        assert_int_equal(prom_parser_feed(p, "abcdef 4\r\n", 10), -E2BIG);
        assert_string_equal(prom_parser_error(p), "line 4: line longer than 8 bytes");
        assert_int_equal(prom_parser_samples(p), 3);
        free(s.text);
}

static void errors_are_sticky(void **state) {
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        Seen s = {};

        assert_int_equal(prom_parser_new(0, on_sample, &s, &p), 0);
        assert_null(prom_parser_error(p));
        assert_int_equal(prom_parser_feed(p, "a 1\nb x\nc 3\n", 12), -EBADMSG);
        assert_int_equal(prom_parser_feed(p, "d 4\n", 4), -EBADMSG);
        assert_int_equal(prom_parser_finish(p), -EBADMSG);
        assert_string_equal(prom_parser_error(p), "line 2: bad value 'x' for 'b'");
        assert_int_equal(s.samples, 1);
        assert_int_equal(prom_parser_samples(p), 1);
        free(s.text);

        /* Finishing twice is fine; feeding after the end is not. */
        p = prom_parser_free(p);
        assert_int_equal(prom_parser_new(0, NULL, NULL, &p), 0);
        assert_int_equal(prom_parser_feed(p, "a 1\nb 2", 7), 0);
        assert_int_equal(prom_parser_samples(p), 1);
        assert_int_equal(prom_parser_finish(p), 0);
        assert_int_equal(prom_parser_finish(p), 0);
        assert_int_equal(prom_parser_samples(p), 2);
        assert_int_equal(prom_parser_feed(p, "c 3\n", 4), -EINVAL);
}

static const char page[] = "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
                           "# TYPE node_cpu_seconds_total counter\n"
                           "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 123456.78\n"
                           "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 42.5\n"
                           "# HELP rpc Latency with \\\\ and \\n.\n"
                           "# TYPE rpc histogram\n"
                           "rpc_bucket{path=\"/a\\\\b\",msg=\"q\\\"x\\ny\",le=\"0.1\"} 5 1700000000000\r\n"
                           "rpc_bucket{path=\"/a\\\\b\",msg=\"q\\\"x\\ny\",le=\"+Inf\"} 7\n"
                           "rpc_sum{path=\"/a\\\\b\",msg=\"q\\\"x\\ny\"} 0.75\n"
                           "rpc_count{path=\"/a\\\\b\",msg=\"q\\\"x\\ny\"} 7\n"
                           "\n"
                           "# TYPE s summary\n"
                           "s{quantile=\"0.99\"} NaN\n"
                           "s_sum -Inf\n"
                           "s_count 0\n"
                           "# just a comment\n"
                           "untyped_thing{a=\"caf\xc3\xa9\"} 1.0e-3 -12\n"
                           "# EOF";

static void byte_by_byte_equals_all_at_once(void **state) {
        int r;
        char *whole = parse_ok(page);
        assert_non_null(strstr(
                whole, "rpc_bucket|rpc|histogram|path=/a\\b,msg=q\"x\ny,le=0.1|5|@1700000000000 #7\n"));

        /* One byte at a time. */
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        Seen s = {};
        assert_int_equal(prom_parser_new(0, on_sample, &s, &p), 0);
        for (size_t i = 0; i < strlen(page); i++)
                assert_int_equal(prom_parser_feed(p, page + i, 1), 0);
        assert_int_equal(prom_parser_finish(p), 0);
        assert_string_equal(s.text, whole);
        assert_int_equal(prom_parser_samples(p), 10);
        free(s.text);

        /* Two pieces, cut at every place, with empty feeds between. */
        for (size_t cut = 0; cut <= strlen(page); cut++) {
                Seen t = {};
                p = prom_parser_free(p);
                assert_int_equal(prom_parser_new(0, on_sample, &t, &p), 0);
                assert_int_equal(prom_parser_feed(p, page, cut), 0);
                assert_int_equal(prom_parser_feed(p, page + cut, 0), 0);
                assert_int_equal(prom_parser_feed(p, page + cut, strlen(page) - cut), 0);
                assert_int_equal(prom_parser_finish(p), 0);
                assert_string_equal(t.text, whole);
                free(t.text);
        }
        free(whole);

        /* An error is the same error whichever way the page comes. */
        const char *bad = "a 1\nb{x=\"y\"} 2\nc{x=\"\\q\"} 3\nd 4\n";
        char *error = NULL;
        free(parse(bad, &r, &error));
        assert_int_equal(r, -EBADMSG);
        p = prom_parser_free(p);
        assert_int_equal(prom_parser_new(0, NULL, NULL, &p), 0);
        r = 0;
        for (size_t i = 0; i < strlen(bad) && r == 0; i++)
                r = prom_parser_feed(p, bad + i, 1);
        assert_int_equal(r, -EBADMSG);
        assert_string_equal(prom_parser_error(p), error);
        assert_string_equal(error, "line 3: bad escape '\\q' in the value of label 'x'");
        free(error);
}

static void callback_can_stop_parsing(void **state) {
        _cleanup_(prom_parser_freep) PromParser *p = NULL;
        Seen s = {.stop_at = 2};

        assert_int_equal(prom_parser_new(0, on_sample, &s, &p), 0);
        assert_int_equal(prom_parser_feed(p, "a 1\nb 2\nc 3\n", 12), -ECANCELED);
        assert_int_equal(s.samples, 2); /* c was never handed over */
        assert_string_equal(s.text, "a|a|untyped||1 #1\n");
        assert_string_equal(prom_parser_error(p), "line 2: stopped by the sample callback: ECANCELED");
        assert_int_equal(prom_parser_feed(p, "d 4\n", 4), -ECANCELED);
        assert_int_equal(prom_parser_finish(p), -ECANCELED);
        free(s.text);

        /* The same through prom_parse_buffer(), on the last line without a newline. */
        Seen t = {.stop_at = 3};
        char *error = NULL;
        assert_int_equal(prom_parse_buffer("a 1\nb 2\nc 3", 11, on_sample, &t, &error), -ECANCELED);
        assert_string_equal(error, "line 3: stopped by the sample callback: ECANCELED");
        free(error);
        free(t.text);
}

static void empty_and_comment_only_pages_have_no_samples(void **state) {
        char *error = (char *)1;
        assert_int_equal(prom_parse_buffer("", 0, NULL, NULL, &error), 0);
        assert_null(error);
        expect_samples("# HELP a b\n# TYPE a gauge\n\n", "");
        assert_int_equal(prom_parse_buffer("# EOF\n", 6, NULL, NULL, NULL), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(counter_gauge_untyped_with_help_and_type),
                cmocka_unit_test(histogram_samples_carry_their_family),
                cmocka_unit_test(summary_samples_carry_their_family),
                cmocka_unit_test(help_keeps_the_type_of_its_family),
                cmocka_unit_test(label_values_unescape),
                cmocka_unit_test(label_names_repeat_change_and_clash_across_samples),
                cmocka_unit_test(blanks_and_trailing_comma_are_accepted),
                cmocka_unit_test(special_values_in_every_spelling),
                cmocka_unit_test(numbers_parse_exactly),
                cmocka_unit_test(random_decimals_match_strtod),
                cmocka_unit_test(timestamps_are_optional_and_signed),
                cmocka_unit_test(openmetrics_forms_are_accepted),
                cmocka_unit_test(comments_blank_lines_and_crlf),
                cmocka_unit_test(errors_say_the_line_and_what_is_wrong),
                cmocka_unit_test(line_too_long_is_an_error_with_its_number),
                cmocka_unit_test(errors_are_sticky),
                cmocka_unit_test(byte_by_byte_equals_all_at_once),
                cmocka_unit_test(callback_can_stop_parsing),
                cmocka_unit_test(empty_and_comment_only_pages_have_no_samples),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
