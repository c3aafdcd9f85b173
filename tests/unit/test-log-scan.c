/* SPDX-License-Identifier: MIT */
/* The log line parser and the scanner: forms, context, framing, chunking, cut lines, carry-over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "log-scan.h"

#define ERROR_LEVEL VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR
#define WARN_LEVEL VIGIL__LOG_LEVEL__LOG_LEVEL_WARN

/* What a scanner emitted, flattened to text: "LEVEL|line|ctx1|ctx2\n" per event. */
typedef struct Seen {
        char *text;
        size_t len;
        unsigned events;
        int64_t last_time;
        bool last_cut;
} Seen;

static void on_event(const LogEvent *e, void *userdata) {
        Seen *s = userdata;
        size_t need = e->line_len + 64;
        for (size_t i = 0; i < e->n_context; i++)
                need += strlen(e->context[i]) + 1;
        s->text = realloc(s->text, s->len + need + 1);
        assert_non_null(s->text);
        s->len += (size_t)sprintf(s->text + s->len, "%s|%.*s", log_line_level_name(e->level),
                (int)MIN(e->line_len, (size_t)200), e->line);
        for (size_t i = 0; i < e->n_context; i++)
                s->len += (size_t)sprintf(s->text + s->len, "|%s", e->context[i]);
        s->len += (size_t)sprintf(s->text + s->len, "\n");
        s->events++;
        s->last_time = e->time_ms;
        s->last_cut = e->line_cut;
}

static const char log4j[] =
        "2024-07-04 17:29:52,001 INFO Worker - Started, 0 errors so far\n"
        "2024-07-04 17:29:53,499 ERROR HdfsUfsStatusIterator - Failed to list the path hdfs://nn:8020/a\n"
        "java.io.IOException: Connection refused\n"
        "\tat org.apache.hadoop.ipc.Client.call(Client.java:1479)\n"
        "Caused by: java.net.ConnectException: Connection refused\n"
        "\t... 12 more\n"
        "2024-07-05 14:22:28,290 [QuotaCoordinatorTimerThread] ERROR quota.QuotaCoordinator "
        "(QuotaCoordinator.java:lambda$new$0) - Failed to run quota janitor job\n"
        "2024-07-05 14:22:29,000 WARN BlockWorker - Slow heartbeat: 1200 ms\n"
        "2024-07-05 14:22:30,000 INFO BlockWorker - an ERROR word in an INFO line is not an event\n"
        "{\"level\":\"error\",\"time\":\"2024-08-09T04:06:19.986Z\",\"caller\":\"csi/driver.go:89\","
        "\"msg\":\"NodePublishVolume failed\"}\n"
        "{\"level\":\"info\",\"time\":\"2024-08-09T04:06:20.000Z\",\"msg\":\"an error that is info\"}\n";

static const char log4j_events_a1[] =
        "ERROR|2024-07-04 17:29:53,499 ERROR HdfsUfsStatusIterator - Failed to list the path "
        "hdfs://nn:8020/a"
        "|java.io.IOException: Connection refused\n"
        "ERROR|2024-07-05 14:22:28,290 [QuotaCoordinatorTimerThread] ERROR quota.QuotaCoordinator "
        "(QuotaCoordinator.java:lambda$new$0) - Failed to run quota janitor job\n"
        "WARN|2024-07-05 14:22:29,000 WARN BlockWorker - Slow heartbeat: 1200 ms\n"
        "ERROR|{\"level\":\"error\",\"time\":\"2024-08-09T04:06:19.986Z\",\"caller\":\"csi/driver.go:89\","
        "\"msg\":\"NodePublishVolume failed\"}\n";

static LogScanner *scanner(LogFormat f, unsigned context, size_t max_line, Seen *seen) {
        LogScanner *s;
        LogScanOptions o = {.format = f, .context = context, .max_line = max_line};
        assert_int_equal(log_scanner_new(&o, on_event, seen, &s), 0);
        return s;
}

/* Feeds text the way a tailer does: chunks of `step` bytes, offering what was not taken again. */
static void feed_chunked(LogScanner *s, const char *text, size_t len, size_t step, bool eof) {
        size_t off = 0, avail = 0;
        while (off < len) {
                avail = MIN(len - off, avail + step);
                bool last = off + avail == len;
                size_t taken = log_scanner_feed(s, text + off, avail, eof && last);
                off += taken;
                avail -= taken;
                if (last && taken == 0)
                        break;
        }
}

static void classify_forms(void **state) {
        LogLineInfo i;
        const char *l = "2024-07-04 17:29:53,499 ERROR HdfsUfsStatusIterator - Failed to list the path";
        log_line_classify(l, strlen(l), &i);
        assert_true(i.record);
        assert_int_equal(i.level, ERROR_LEVEL);
        assert_int_equal(i.time_ms, INT64_C(1720114193499));
        assert_string_equal(l + i.msg_offset, "Failed to list the path");

        l = "2024-07-05 14:22:28,290 [Quota Thread] WARN quota.Q (Q.java:1) - janitor";
        log_line_classify(l, strlen(l), &i);
        assert_int_equal(i.level, WARN_LEVEL);
        assert_string_equal(l + i.msg_offset, "janitor");

        l = "{\"level\":\"error\",\"ts\":1723176379.5,\"msg\":\"boom 42\"}";
        log_line_classify(l, strlen(l), &i);
        assert_true(i.record);
        assert_int_equal(i.level, ERROR_LEVEL);
        assert_int_equal(i.time_ms, INT64_C(1723176379500));
        assert_int_equal(i.msg_len, 7);
        assert_memory_equal(l + i.msg_offset, "boom 42", 7);

        l = "ERROR: disk full";
        log_line_classify(l, strlen(l), &i);
        assert_true(i.record);
        assert_int_equal(i.level, ERROR_LEVEL);

        static const char *const continuations[] = {"\tat a.b.C.d(C.java:1)", "Caused by: x.Y: z",
                "java.io.IOException: Connection refused", "  ... 3 more", "Error: prose, not a record", ""};
        for (size_t k = 0; k < ELEMENTSOF(continuations); k++) {
                log_line_classify(continuations[k], strlen(continuations[k]), &i);
                assert_false(i.record);
        }
        l = "2024-07-04T17:29:53.499+02:00 something without a level";
        log_line_classify(l, strlen(l), &i);
        assert_true(i.record);
        assert_int_equal(i.level, 0);
        assert_int_equal(i.time_ms, INT64_C(1720114193499) - 2 * 3600 * 1000);
}

static void signatures_mask_numbers_and_ids(void **state) {
        char a[256], b[256];
        const char *m1 = "Failed to list worker-1b4bad64-f195-46a8-be5f-27825a8100a4 at 10.0.0.12:29999 "
                         "after 3 tries";
        const char *m2 = "Failed to list worker-9c0ffee1-0000-46a8-be5f-000000000001 at 10.0.0.7:29999 "
                         "after 12 tries";
        uint64_t h1 = log_signature(ERROR_LEVEL, m1, strlen(m1), a, sizeof(a));
        uint64_t h2 = log_signature(ERROR_LEVEL, m2, strlen(m2), b, sizeof(b));
        assert_string_equal(a, b);
        assert_true(h1 == h2);
        assert_string_equal(a, "Failed to list worker-#-#-#-#-# at #.#.#.#:# after # tries");
        assert_true(log_signature(WARN_LEVEL, m1, strlen(m1), b, sizeof(b)) != h1);
        const char *m3 = "log4j v2 cannot parse 0x7ffdeadbeef";
        log_signature(ERROR_LEVEL, m3, strlen(m3), a, sizeof(a));
        assert_string_equal(a, "log4j v2 cannot parse #");
}

static void plain_events_with_context(void **state) {
        Seen seen = {};
        LogScanner *s = scanner(LOG_FORMAT_AUTO, 1, 0, &seen);
        assert_int_equal(log_scanner_feed(s, log4j, strlen(log4j), false), strlen(log4j));
        log_scanner_flush(s);
        assert_int_equal(log_scanner_format(s), LOG_FORMAT_PLAIN);
        assert_string_equal(seen.text, log4j_events_a1);
        LogScanStats st;
        log_scanner_get_stats(s, &st);
        assert_int_equal(st.lines, 11);
        assert_int_equal(st.bytes, strlen(log4j));
        log_scanner_free(s);
        free(seen.text);

        /* -A 3 takes the frames, never the next record. */
        seen = (Seen){};
        s = scanner(LOG_FORMAT_PLAIN, 3, 0, &seen);
        log_scanner_feed(s, log4j, strlen(log4j), true);
        log_scanner_flush(s);
        assert_non_null(strstr(seen.text,
                "|java.io.IOException: Connection refused|\tat org.apache.hadoop.ipc."
                "Client.call(Client.java:1479)|Caused by: java.net.ConnectException: "
                "Connection refused\n"));
        assert_int_equal(seen.events, 4);
        log_scanner_free(s);
        free(seen.text);

        /* -A 0 */
        seen = (Seen){};
        s = scanner(LOG_FORMAT_PLAIN, 0, 0, &seen);
        log_scanner_feed(s, log4j, strlen(log4j), true);
        assert_int_equal(seen.events, 4);
        assert_null(strstr(seen.text, "|java"));
        log_scanner_free(s);
        free(seen.text);
}

/* However the bytes arrive, the events are the same. */
static void chunking_never_changes_events(void **state) {
        static const size_t steps[] = {1, 2, 3, 7, 16, 17, 64, 100, 4096};
        for (size_t k = 0; k < ELEMENTSOF(steps); k++) {
                Seen seen = {};
                LogScanner *s = scanner(LOG_FORMAT_AUTO, 1, 0, &seen);
                feed_chunked(s, log4j, strlen(log4j), steps[k], false);
                log_scanner_flush(s);
                assert_string_equal(seen.text, log4j_events_a1);
                log_scanner_free(s);
                free(seen.text);
        }
}

static void cri_joins_partial_lines(void **state) {
        /* The level word itself is split across two P records; a stack frame follows as its own record. */
        static const char cri[] =
                "2024-07-04T17:29:53.000000001Z stdout F 2024-07-04 17:29:53,000 INFO W - fine\n"
                "2024-07-04T17:29:53.100000000Z stderr P 2024-07-04 17:29:53,100 ERR\n"
                "2024-07-04T17:29:53.100000001Z stderr P OR Client - Failed to\n"
                "2024-07-04T17:29:53.100000002Z stderr F  connect to 10.0.0.1\n"
                "2024-07-04T17:29:53.200000000Z stderr F \tat a.B.c(B.java:1)\n"
                "2024-07-04T17:29:54.000000000Z stdout F {\"level\":\"warn\",\"msg\":\"slow\"}\n";
        for (size_t step = 1; step < 200; step += 37) {
                Seen seen = {};
                LogScanner *s = scanner(LOG_FORMAT_AUTO, 1, 0, &seen);
                feed_chunked(s, cri, strlen(cri), step, false);
                log_scanner_flush(s);
                assert_int_equal(log_scanner_format(s), LOG_FORMAT_CRI);
                assert_string_equal(seen.text,
                        "ERROR|2024-07-04 17:29:53,100 ERROR Client - Failed to connect to 10.0.0.1|\tat "
                        "a.B.c(B.java:1)\n"
                        "WARN|{\"level\":\"warn\",\"msg\":\"slow\"}\n");
                /* The JSON line has no time: the CRI record's is used. */
                assert_int_equal(seen.last_time, INT64_C(1720114194000));
                LogScanStats st;
                log_scanner_get_stats(s, &st);
                assert_int_equal(st.lines, 4);
                log_scanner_free(s);
                free(seen.text);
        }
}

static void docker_json_file(void **state) {
        static const char docker[] = "{\"log\":\"2024-07-04 17:29:53,000 ERROR X - bad \\\"thing\\\"\\n\","
                                     "\"stream\":\"stderr\",\"time\":\"2024-07-04T17:29:53.0Z\"}\n"
                                     "{\"log\":\"2024-07-04 17:29:54,000 WA\",\"stream\":\"stdout\","
                                     "\"time\":\"2024-07-04T17:29:54.0Z\"}\n"
                                     "{\"log\":\"RN X - split\\n\",\"stream\":\"stdout\","
                                     "\"time\":\"2024-07-04T17:29:54.0Z\"}\n";
        Seen seen = {};
        LogScanner *s = scanner(LOG_FORMAT_AUTO, 1, 0, &seen);
        log_scanner_feed(s, docker, strlen(docker), false);
        log_scanner_flush(s);
        assert_int_equal(log_scanner_format(s), LOG_FORMAT_DOCKER);
        assert_string_equal(seen.text,
                "ERROR|2024-07-04 17:29:53,000 ERROR X - bad \"thing\"\n"
                "WARN|2024-07-04 17:29:54,000 WARN X - split\n");
        log_scanner_free(s);
        free(seen.text);
}

/* A line of 10 MiB is cut at max_line, never held whole, and the next line is found. */
static void huge_line_is_cut(void **state) {
        size_t big = 10 * 1024 * 1024;
        const char *head = "2024-07-04 17:29:53,000 ERROR Huge - ";
        const char *tail = "\n2024-07-04 17:29:54,000 WARN After - next\n";
        size_t hl = strlen(head), tl = strlen(tail), len = hl + big + tl;
        char *text = malloc(len + 1);
        if (!text)
                abort();
        memcpy(text, head, hl);
        memset(text + hl, 'x', big);
        memcpy(text + hl + big, tail, tl + 1);

        for (int fmt = 0; fmt < 2; fmt++) {
                Seen seen = {};
                LogScanner *s = scanner(LOG_FORMAT_PLAIN, 1, 4096, &seen);
                feed_chunked(s, text, len, 65536, false);
                log_scanner_flush(s);
                assert_int_equal(seen.events, 2);
                assert_non_null(strstr(seen.text, "ERROR|2024-07-04 17:29:53,000 ERROR Huge - xxx"));
                assert_non_null(strstr(seen.text, "\nWARN|2024-07-04 17:29:54,000 WARN After - next\n"));
                LogScanStats st;
                log_scanner_get_stats(s, &st);
                assert_int_equal(st.lines_cut, 1);
                assert_int_equal(st.lines, 2);
                assert_int_equal(st.bytes, len);
                log_scanner_free(s);
                free(seen.text);
        }
        free(text);
}

/* A huge CRI line split into P parts: cut once, its later parts dropped, the next line found. */
static void huge_cri_line_is_cut(void **state) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        fprintf(f, "2024-07-04T17:29:53.0Z stderr P 2024-07-04 17:29:53,000 ERROR Huge - ");
        for (int i = 0; i < 640; i++) {
                fputs("\n2024-07-04T17:29:53.0Z stderr P ", f);
                for (int k = 0; k < 16384; k++)
                        fputc('y', f);
        }
        fputs("\n2024-07-04T17:29:53.0Z stderr F end\n2024-07-04T17:29:54.0Z stdout F ERROR next\n", f);
        fclose(f);
        Seen seen = {};
        LogScanner *s = scanner(LOG_FORMAT_AUTO, 1, 8192, &seen);
        feed_chunked(s, text, len, 100000, false);
        log_scanner_flush(s);
        assert_int_equal(seen.events, 2);
        assert_true(seen.text[strlen(seen.text) - 2] == 't');
        LogScanStats st;
        log_scanner_get_stats(s, &st);
        assert_int_equal(st.lines_cut, 1);
        assert_int_equal(st.lines, 2);
        log_scanner_free(s);
        free(seen.text);
        free(text);
}

/* Stopping anywhere, saving the carry-over and going on in a new scanner changes nothing. */
static void carry_over_survives_a_restart(void **state) {
        static const char cri[] = "2024-07-04T17:29:53.1Z stderr P 2024-07-04 17:29:53,100 ERROR A - one\n"
                                  "2024-07-04T17:29:53.1Z stderr F  two\n"
                                  "2024-07-04T17:29:53.2Z stderr F \tat x.Y(Y.java:1)\n"
                                  "2024-07-04T17:29:53.3Z stderr F 2024-07-04 17:29:53,300 WARN B - three\n";
        Seen whole = {};
        LogScanner *s = scanner(LOG_FORMAT_AUTO, 1, 0, &whole);
        log_scanner_feed(s, cri, strlen(cri), false);
        log_scanner_flush(s);
        log_scanner_free(s);

        for (size_t cut = 1; cut < strlen(cri); cut++) {
                Seen seen = {};
                s = scanner(LOG_FORMAT_AUTO, 1, 0, &seen);
                size_t taken = log_scanner_feed(s, cri, cut, false);
                uint8_t *buf;
                size_t size;
                assert_int_equal(log_scanner_save(s, &buf, &size), 0);
                log_scanner_free(s);
                s = scanner(LOG_FORMAT_AUTO, 1, 0, &seen);
                assert_int_equal(log_scanner_load(s, buf, size), 0);
                free(buf);
                feed_chunked(s, cri + taken, strlen(cri) - taken, 5, false);
                log_scanner_flush(s);
                assert_string_equal(seen.text, whole.text);
                log_scanner_free(s);
                free(seen.text);
        }
        free(whole.text);

        s = scanner(LOG_FORMAT_AUTO, 1, 0, &whole);
        assert_int_equal(log_scanner_load(s, (const uint8_t *)"\xff\xff\xff", 3), -EBADMSG);
        log_scanner_free(s);
}

static void unfinished_last_line(void **state) {
        static const char text[] =
                "2024-07-04 17:29:53,000 INFO A - x\n2024-07-04 17:29:54,000 ERROR B - no newline";
        Seen seen = {};
        LogScanner *s = scanner(LOG_FORMAT_AUTO, 1, 0, &seen);
        /* Not at the end of the stream: the writer may still be writing it. */
        size_t taken = log_scanner_feed(s, text, strlen(text), false);
        assert_int_equal(taken, strlen("2024-07-04 17:29:53,000 INFO A - x\n"));
        assert_int_equal(seen.events, 0);
        /* A rotated file read to its end: the line is complete. */
        assert_int_equal(
                log_scanner_feed(s, text + taken, strlen(text) - taken, true), strlen(text) - taken);
        log_scanner_flush(s);
        assert_int_equal(seen.events, 1);
        log_scanner_free(s);
        free(seen.text);
}

static void level_list_parses(void **state) {
        LogLevelMask m;
        assert_int_equal(log_line_levels_parse("warn, ERROR,fatal", &m), 0);
        assert_int_equal(m,
                LOG_LEVEL_BIT(WARN_LEVEL) | LOG_LEVEL_BIT(ERROR_LEVEL) |
                        LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL));
        assert_int_equal(log_line_levels_parse("ERROR,LOUD", &m), -EINVAL);
        assert_int_equal(log_line_levels_parse("", &m), -EINVAL);

        /* INFO among the levels: INFO lines become events too. */
        Seen seen = {};
        LogScanner *s;
        LogScanOptions o = {.levels = LOG_LEVEL_BIT(VIGIL__LOG_LEVEL__LOG_LEVEL_INFO)};
        assert_int_equal(log_scanner_new(&o, on_event, &seen, &s), 0);
        log_scanner_feed(s, log4j, strlen(log4j), true);
        log_scanner_flush(s);
        assert_int_equal(seen.events, 3);
        log_scanner_free(s);
        free(seen.text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(classify_forms),
                cmocka_unit_test(signatures_mask_numbers_and_ids),
                cmocka_unit_test(plain_events_with_context),
                cmocka_unit_test(chunking_never_changes_events),
                cmocka_unit_test(cri_joins_partial_lines),
                cmocka_unit_test(docker_json_file),
                cmocka_unit_test(huge_line_is_cut),
                cmocka_unit_test(huge_cri_line_is_cut),
                cmocka_unit_test(carry_over_survives_a_restart),
                cmocka_unit_test(unfinished_last_line),
                cmocka_unit_test(level_list_parses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
