/* SPDX-License-Identifier: MIT */
/*
 * The journald log source against real journal files, written by Debian's systemd-journal-remote
 * from export-format text: a unit's entries only, levels from the text or else PRIORITY, one
 * MESSAGE with a stack trace as one event, and the cursor saved in the agent's state so that a
 * restart neither repeats nor loses an entry.
 */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test-util.h"

#include <endian.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log-journal.h"
#include "log-source.h"
#include "log-state.h"

#define JOURNAL_REMOTE "/lib/systemd/systemd-journal-remote"
#define BOOT_ID "0123456789abcdef0123456789abcdef"
#define T0_S 1720000000LL /* the first entry's __REALTIME_TIMESTAMP, 40 s into a minute */
#define T0_MINUTE_MS 1719999960000LL
#define LOG4J_MINUTE_MS 1720114140000LL /* 2024-07-04 17:29 UTC */

#define ERROR VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR
#define WARN VIGIL__LOG_LEVEL__LOG_LEVEL_WARN
#define FATAL VIGIL__LOG_LEVEL__LOG_LEVEL_FATAL

typedef struct Entry {
        const char *unit; /* _SYSTEMD_UNIT */
        const char *message;
        int priority; /* -1: no PRIORITY field */
        const char *about; /* UNIT=, as PID 1 writes about a unit; NULL: none */
        int pid; /* 0: 4242 */
} Entry;

typedef struct Fixture {
        char dir[64];
        char journal[96]; /* the journal directory */
        char state[96]; /* the agent's state directory */
        unsigned n_files;
        unsigned clock; /* seconds after T0_S of the next entry */
        LogState *st;
} Fixture;

/* The first journal file: two units, log4j lines with and without stack traces, PRIORITY-only
 * errors, PID 1 about a unit, a JSON line. Unit a.service: 11 lines, 3 errors, 3 warnings. */
static const Entry first[] = {
        {"a.service",
                "2024-07-04 17:29:53,499 ERROR HdfsUfsStatusIterator - Failed to list the path "
                "hdfs://nn1:8020/data/7\n"
                "java.io.IOException: Connection refused",
                6},
        {"a.service", "2024-07-04 17:29:54,100 WARN BlockWorker - Slow write of block 4711 took 5300 ms", 6},
        {"a.service", "2024-07-04 17:29:55,000 INFO BlockWorker - Started block worker", 6},
        {"a.service", "Out of memory: cannot allocate 4096 bytes", 3},
        {"a.service",
                "2024-07-04 17:29:56,250 ERROR HdfsUfsStatusIterator - Failed to list the path "
                "hdfs://nn1:8020/data/8\n"
                "java.net.ConnectException: Connection refused\n"
                "\tat org.apache.hadoop.ipc.Client.call(Client.java:1476)\n",
                6},
        /* No level, no PRIORITY: a line, not an event, and not the context of the error before it. */
        {"a.service", "just some output", -1},
        {"init.scope", "a.service: Main process exited, code=killed, status=9/KILL", 4, "a.service", 1},
        /* The text's own level wins over PRIORITY. */
        {"a.service", "{\"level\":\"warn\",\"msg\":\"queue 17 is full\"}", 3},
        /* Says it is about a.service, but is not PID 1: b.service's. */
        {"b.service", "ERROR spoofed message about a", 6, "a.service"},
        {"b.service", "Failed to bind port 8080", 3},
        {"b.service", "Assertion failed, aborting", 2},
};

static const Entry second[] = {
        {"a.service",
                "2024-07-04 17:31:02,000 ERROR MasterClient - Lost connection to master 10.0.0.1:19998", 6},
        {"b.service", "Failed to bind port 8081", 3},
        {"a.service", "No space left on device", 3},
};

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        assert_non_null(f);
        strcpy(f->dir, "/tmp/vigil-journal-test-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->journal, sizeof(f->journal), "%s/journal", f->dir);
        snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
        assert_int_equal(mkdir(f->journal, 0755), 0);
        assert_int_equal(log_state_open(f->state, &f->st), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        log_state_free(f->st);
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

/* Writes entries into a new journal file of the directory, in export format through
 * systemd-journal-remote; each entry one second after the one before. Returns the file's path. */
static char *write_journal(Fixture *f, const Entry *e, size_t n) {
        char *path, *cmd;

        assert_true(asprintf(&path, "%s/part%u.journal", f->journal, f->n_files++) > 0);
        assert_true(asprintf(&cmd, JOURNAL_REMOTE " --output=%s - 2>/dev/null", path) > 0);
        FILE *p = popen(cmd, "w");
        assert_non_null(p);
        for (size_t i = 0; i < n; i++) {
                uint64_t t = f->clock++;
                fprintf(p, "__REALTIME_TIMESTAMP=%" PRIu64 "\n", (uint64_t)(T0_S + t) * 1000000);
                fprintf(p, "__MONOTONIC_TIMESTAMP=%" PRIu64 "\n", (1000 + t) * 1000000);
                fprintf(p, "_BOOT_ID=" BOOT_ID "\n");
                fprintf(p, "_SYSTEMD_UNIT=%s\n_PID=%d\n", e[i].unit, e[i].pid ?: 4242);
                if (e[i].about)
                        fprintf(p, "UNIT=%s\n", e[i].about);
                if (e[i].priority >= 0)
                        fprintf(p, "PRIORITY=%d\n", e[i].priority);
                /* The binary-safe form: the name, a newline, the length as 64-bit little endian. */
                uint64_t le = htole64(strlen(e[i].message));
                fprintf(p, "MESSAGE\n");
                fwrite(&le, sizeof(le), 1, p);
                fprintf(p, "%s\n\n", e[i].message);
        }
        assert_int_equal(pclose(p), 0);
        free(cmd);
        return path;
}

static void write_journal_file(Fixture *f, const Entry *e, size_t n) {
        free(write_journal(f, e, n));
}

static LogSource *source_new(Fixture *f, const char *unit, bool from_head) {
        LogSourceSettings set = {.scan.context = 5, .from_head = from_head};
        LogSource *s = NULL;
        assert_int_equal(log_journal_source_new(unit, f->journal, &set, f->st, &s), 0);
        assert_non_null(s);
        return s;
}

/* Reads until caught up, in slices of budget bytes. */
static void read_all(LogSource *s, size_t budget) {
        int r;
        do {
                size_t b = budget;
                r = s->ops->read(s, &b);
                assert_int_equal(r < 0 ? r : 0, 0);
        } while (r > 0);
        assert_int_equal(s->error, 0);
}

/* The saved position of s goes into the state, as the agent seals it with each batch. */
static void save(Fixture *f, LogSource *s) {
        Vigil__LogPosition *p = NULL;
        assert_int_equal(s->ops->position(s, &p), 0);
        LogStatePut put = {.source = s->name, .position = p};
        assert_true(log_state_seal(f->st, &put, 1, NULL, 0) >= 0);
        vigil__log_position__free_unpacked(p, NULL);
}

static Vigil__LogSourceBatch *take(LogSource *s) {
        Vigil__LogSourceBatch *b = NULL;
        assert_int_equal(log_source_take_batch(s, &b), 0);
        return b;
}

static void batch_free(Vigil__LogSourceBatch *b) {
        if (b)
                vigil__log_source_batch__free_unpacked(b, NULL);
}

static const Vigil__LogSignature *find_sig(const Vigil__LogSourceBatch *b, LogLevel l, const char *text) {
        for (size_t i = 0; b && i < b->n_signatures; i++)
                if (b->signatures[i]->level == l && strstr(b->signatures[i]->pattern, text))
                        return b->signatures[i];
        return NULL;
}

static uint64_t count_level(const Vigil__LogSourceBatch *b, LogLevel l) {
        uint64_t n = 0;
        for (size_t i = 0; b && i < b->n_signatures; i++)
                if (b->signatures[i]->level == l)
                        n += b->signatures[i]->count;
        return n;
}

static const Vigil__LogMinute *find_minute(const Vigil__LogSourceBatch *b, int64_t minute_ms) {
        for (size_t i = 0; i < b->n_minutes; i++)
                if (b->minutes[i]->minute_ms == minute_ms)
                        return b->minutes[i];
        return NULL;
}

static void counts_the_units_events_by_text_level_or_priority(void **state) {
        Fixture *f = *state;
        write_journal_file(f, first, ELEMENTSOF(first));

        _cleanup_(log_source_freep) LogSource *s = source_new(f, "a.service", true);
        assert_string_equal(s->name, "journal:a.service");
        read_all(s, 1 << 20);
        Vigil__LogSourceBatch *b = take(s);
        assert_non_null(b);
        assert_string_equal(b->source, "journal:a.service");
        assert_int_equal(b->lines, 11);
        assert_int_equal(count_level(b, ERROR), 3);
        assert_int_equal(count_level(b, WARN), 3);
        assert_int_equal(count_level(b, FATAL), 0);

        /* Two errors of one kind; the latest sample keeps its own stack trace and no more: the next
         * entry's line is not its context. */
        const Vigil__LogSignature *g = find_sig(b, ERROR, "Failed to list the path");
        assert_non_null(g);
        assert_int_equal(g->count, 2);
        assert_int_equal(g->first_ms, LOG4J_MINUTE_MS + 53499);
        assert_int_equal(g->last_ms, LOG4J_MINUTE_MS + 56250);
        assert_int_equal(g->n_context, 2);
        assert_string_equal(g->context[0], "java.net.ConnectException: Connection refused");
        assert_string_equal(g->context[1], "\tat org.apache.hadoop.ipc.Client.call(Client.java:1476)");

        /* PRIORITY 3 without a level in the text is an error, at the entry's time. */
        g = find_sig(b, ERROR, "Out of memory");
        assert_non_null(g);
        assert_int_equal(g->count, 1);
        assert_int_equal(g->first_ms, (T0_S + 3) * 1000);
        assert_non_null(strstr(g->sample, "Out of memory: cannot allocate 4096 bytes"));

        /* PID 1 about the unit is the unit's; the JSON line's "warn" beats its PRIORITY 3. */
        assert_non_null(find_sig(b, WARN, "Main process exited"));
        assert_non_null(find_sig(b, WARN, "queue"));
        assert_null(find_sig(b, ERROR, "spoofed"));

        const Vigil__LogMinute *m = find_minute(b, LOG4J_MINUTE_MS);
        assert_non_null(m);
        assert_int_equal(m->error, 2);
        assert_int_equal(m->warn, 1);
        m = find_minute(b, T0_MINUTE_MS);
        assert_non_null(m);
        assert_int_equal(m->error, 1);
        assert_int_equal(m->warn, 2);
        batch_free(b);

        /* The other unit sees only its own, the spoof included; PRIORITY 2 is fatal. */
        _cleanup_(log_source_freep) LogSource *o = source_new(f, "b.service", true);
        read_all(o, 1 << 20);
        b = take(o);
        assert_non_null(b);
        assert_int_equal(b->lines, 3);
        assert_int_equal(count_level(b, ERROR), 2);
        assert_int_equal(count_level(b, FATAL), 1);
        assert_non_null(find_sig(b, ERROR, "spoofed"));
        assert_non_null(find_sig(b, FATAL, "Assertion failed"));
        assert_null(find_sig(b, ERROR, "Failed to list"));
        batch_free(b);
}

static void restart_goes_on_after_the_saved_cursor(void **state) {
        Fixture *f = *state;
        write_journal_file(f, first, ELEMENTSOF(first));

        LogSource *s = source_new(f, "a.service", true);
        read_all(s, 1 << 20);
        Vigil__LogSourceBatch *b = take(s);
        assert_int_equal(count_level(b, ERROR), 3);
        batch_free(b);
        save(f, s);
        s = log_source_free(s);

        write_journal_file(f, second, ELEMENTSOF(second));

        /* The agent restarts: the saved cursor wins over from_head. */
        s = source_new(f, "a.service", true);
        read_all(s, 1 << 20);
        b = take(s);
        assert_non_null(b);
        assert_int_equal(b->lines, 2);
        assert_int_equal(count_level(b, ERROR), 2);
        assert_int_equal(count_level(b, WARN), 0);
        assert_non_null(find_sig(b, ERROR, "Lost connection to master"));
        assert_non_null(find_sig(b, ERROR, "No space left on device"));
        assert_null(find_sig(b, ERROR, "Failed to list"));
        batch_free(b);
        save(f, s);
        s = log_source_free(s);

        /* Once more with nothing new: nothing. */
        s = source_new(f, "a.service", true);
        read_all(s, 1 << 20);
        b = take(s);
        assert_true(!b || (b->lines == 0 && b->n_signatures == 0));
        batch_free(b);
        log_source_free(s);
}

static void restarts_between_any_two_entries_count_each_once(void **state) {
        Fixture *f = *state;
        uint64_t lines = 0, errors = 0, warnings = 0;
        unsigned rounds = 0;
        int r;

        write_journal_file(f, first, ELEMENTSOF(first));
        /* A budget of one byte reads one entry: a restart after each. */
        do {
                LogSource *s = source_new(f, "a.service", true);
                size_t budget = 1;
                r = s->ops->read(s, &budget);
                assert_true(r >= 0);
                Vigil__LogSourceBatch *b = take(s);
                if (b) {
                        lines += b->lines;
                        errors += count_level(b, ERROR);
                        warnings += count_level(b, WARN);
                }
                batch_free(b);
                save(f, s);
                log_source_free(s);
                assert_true(++rounds < 50);
        } while (r > 0);

        assert_int_equal(lines, 11);
        assert_int_equal(errors, 3);
        assert_int_equal(warnings, 3);
}

static void running_source_sees_new_journal_files(void **state) {
        Fixture *f = *state;
        write_journal_file(f, first, ELEMENTSOF(first));

        _cleanup_(log_source_freep) LogSource *s = source_new(f, "a.service", true);
        assert_true(log_journal_source_fd(s) >= 0);
        read_all(s, 1 << 20);
        batch_free(take(s));

        write_journal_file(f, second, ELEMENTSOF(second));
        assert_true(log_journal_source_process(s) >= 0);
        /* Small slices, as a busy agent reads. */
        read_all(s, 16);
        Vigil__LogSourceBatch *b = take(s);
        assert_non_null(b);
        assert_int_equal(b->lines, 2);
        assert_int_equal(count_level(b, ERROR), 2);
        assert_null(find_sig(b, ERROR, "Failed to list"));
        batch_free(b);
}

static void without_a_position_starts_at_the_end(void **state) {
        Fixture *f = *state;
        write_journal_file(f, first, ELEMENTSOF(first));

        _cleanup_(log_source_freep) LogSource *s = source_new(f, "a.service", false);
        read_all(s, 1 << 20);
        Vigil__LogSourceBatch *b = take(s);
        assert_true(!b || (b->lines == 0 && b->n_signatures == 0));
        batch_free(b);
        /* Saved before anything new came: the restart does not start from the head. */
        save(f, s);
        s = log_source_free(s);

        write_journal_file(f, second, ELEMENTSOF(second));
        s = source_new(f, "a.service", false);
        read_all(s, 1 << 20);
        b = take(s);
        assert_non_null(b);
        assert_int_equal(b->lines, 2);
        assert_int_equal(count_level(b, ERROR), 2);
        batch_free(b);
}

static void empty_journal_at_the_start_misses_nothing_after(void **state) {
        Fixture *f = *state;

        _cleanup_(log_source_freep) LogSource *s = source_new(f, "a.service", false);
        read_all(s, 1 << 20);
        write_journal_file(f, second, ELEMENTSOF(second));
        read_all(s, 1 << 20);
        Vigil__LogSourceBatch *b = take(s);
        assert_non_null(b);
        assert_int_equal(count_level(b, ERROR), 2);
        batch_free(b);
}

static void unknown_unit_has_no_events_and_no_error(void **state) {
        Fixture *f = *state;
        write_journal_file(f, first, ELEMENTSOF(first));

        _cleanup_(log_source_freep) LogSource *s = source_new(f, "nosuch.service", true);
        read_all(s, 1 << 20);
        assert_int_equal(s->error, 0);
        Vigil__LogSourceBatch *b = take(s);
        assert_true(!b || (b->lines == 0 && b->n_signatures == 0));
        batch_free(b);
}

static void missing_journal_dir_is_an_error_until_it_appears(void **state) {
        Fixture *f = *state;
        LogSourceSettings set = {.from_head = false};
        _cleanup_(log_source_freep) LogSource *s = NULL;
        char missing[128];

        snprintf(missing, sizeof(missing), "%s/later", f->dir);
        assert_int_equal(log_journal_source_new("a.service", missing, &set, f->st, &s), 0);
        assert_int_equal(s->error, -ENOENT);
        assert_non_null(s->error_what);
        assert_non_null(strstr(s->error_what, missing));
        assert_int_equal(log_journal_source_fd(s), -EBADF);

        size_t budget = 1 << 20;
        assert_int_equal(s->ops->read(s, &budget), -ENOENT);
        assert_int_equal(s->error, -ENOENT);

        /* Once it is there, all of it is new: read from its head although from_head is off. */
        strcpy(f->journal, missing);
        assert_int_equal(mkdir(missing, 0755), 0);
        write_journal_file(f, first, ELEMENTSOF(first));
        read_all(s, 1 << 20);
        assert_int_equal(s->error, 0);
        assert_true(log_journal_source_fd(s) >= 0);
        Vigil__LogSourceBatch *b = take(s);
        assert_non_null(b);
        assert_int_equal(count_level(b, ERROR), 3);
        batch_free(b);
}

static void vacuumed_cursor_goes_on_with_what_is_left(void **state) {
        Fixture *f = *state;

        char *old = write_journal(f, first, ELEMENTSOF(first));
        LogSource *s = source_new(f, "a.service", true);
        read_all(s, 1 << 20);
        batch_free(take(s));
        save(f, s);
        s = log_source_free(s);

        /* New entries land in a new file, and the one holding the saved cursor's entry is vacuumed. */
        write_journal_file(f, second, ELEMENTSOF(second));
        assert_int_equal(unlink(old), 0);
        free(old);

        s = source_new(f, "a.service", true);
        read_all(s, 1 << 20);
        Vigil__LogSourceBatch *b = take(s);
        assert_non_null(b);
        assert_int_equal(b->files_lost, 1);
        assert_int_equal(b->lines, 2);
        assert_int_equal(count_level(b, ERROR), 2);
        assert_non_null(find_sig(b, ERROR, "Lost connection to master"));
        batch_free(b);
        log_source_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        counts_the_units_events_by_text_level_or_priority, setup, teardown),
                cmocka_unit_test_setup_teardown(restart_goes_on_after_the_saved_cursor, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        restarts_between_any_two_entries_count_each_once, setup, teardown),
                cmocka_unit_test_setup_teardown(running_source_sees_new_journal_files, setup, teardown),
                cmocka_unit_test_setup_teardown(without_a_position_starts_at_the_end, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        empty_journal_at_the_start_misses_nothing_after, setup, teardown),
                cmocka_unit_test_setup_teardown(unknown_unit_has_no_events_and_no_error, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        missing_journal_dir_is_an_error_until_it_appears, setup, teardown),
                cmocka_unit_test_setup_teardown(vacuumed_cursor_goes_on_with_what_is_left, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
