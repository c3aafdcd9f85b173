/* SPDX-License-Identifier: MIT */
/*
 * File and pod sources with the agent state: rotation (kubelet and log4j), restarts of the agent
 * (a new source from the saved position), container restarts, truncation. The writer and the
 * reader take turns in one thread, at pseudo-random points, so every interleaving tried is exact
 * and reproducible.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "log-source.h"

typedef struct Fixture {
        char dir[64];
        char state_dir[96];
        LogState *state;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        strcpy(f->dir, "/tmp/vigil-files-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->state_dir, sizeof(f->state_dir), "%s/state", f->dir);
        assert_int_equal(log_state_open(f->state_dir, &f->state), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char cmd[128];
        log_state_free(f->state);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static const LogSourceSettings settings = {.scan = {.context = 1}, .from_head = true};

/* Reads everything there is. */
static void drain(LogSource *s) {
        for (int i = 0; i < 1000; i++) {
                size_t budget = 1 << 20;
                int r = s->ops->read(s, &budget);
                if (r == 0)
                        return;
                assert_true(r > 0);
        }
        fail_msg("source never caught up");
}

typedef struct Totals {
        uint64_t lines, errors, warns, files_lost;
        uint32_t restart_count, previous_restart_count;
        size_t n_previous;
        char previous_pattern[256];
} Totals;

/* Takes the batch, and saves the position with it, as a cycle of the agent does. */
static void cycle(Fixture *f, LogSource *s, Totals *t) {
        Vigil__LogSourceBatch *b = NULL;
        Vigil__LogPosition *p = NULL;
        assert_int_equal(s->ops->position(s, &p), 0);
        assert_int_equal(log_source_take_batch(s, &b), 0);
        Vigil__LogBatch batch = VIGIL__LOG_BATCH__INIT;
        batch.sources = b ? &b : NULL;
        batch.n_sources = b ? 1 : 0;
        assert_true(log_state_seal(f->state, &(LogStatePut){.source = s->key, .position = p}, 1,
                            b ? &batch : NULL, 0) >= 0);
        vigil__log_position__free_unpacked(p, NULL);
        if (!b)
                return;
        t->lines += b->lines;
        t->files_lost += b->files_lost;
        t->restart_count = b->restart_count;
        for (size_t i = 0; i < b->n_signatures; i++) {
                if (b->signatures[i]->level == VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR)
                        t->errors += b->signatures[i]->count;
                if (b->signatures[i]->level == VIGIL__LOG_LEVEL__LOG_LEVEL_WARN)
                        t->warns += b->signatures[i]->count;
        }
        if (b->previous) {
                t->previous_restart_count = b->previous_restart_count;
                t->n_previous = b->n_previous;
                if (b->n_previous > 0)
                        snprintf(t->previous_pattern, sizeof(t->previous_pattern), "%s",
                                b->previous[b->n_previous - 1]->pattern);
        }
        vigil__log_source_batch__free_unpacked(b, NULL);
}

static void append(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void write_line(const char *path, unsigned n, bool error) {
        char line[160];
        snprintf(line, sizeof(line), "2024-07-04 17:29:53,%03u %s Worker - request %u %s\n", n % 1000,
                error ? "ERROR" : "INFO", n, error ? "failed" : "served");
        append(path, line);
}

/* log4j rolling: worker.log -> worker.log.1 -> worker.log.2 ... (numbers shift up). */
static void roll_log4j(const char *path, unsigned *rolls) {
        char a[256], b[256];
        for (unsigned k = *rolls; k >= 1; k--) {
                snprintf(a, sizeof(a), "%s.%u", path, k);
                snprintf(b, sizeof(b), "%s.%u", path, k + 1);
                assert_int_equal(rename(a, b), 0);
        }
        snprintf(a, sizeof(a), "%s.1", path);
        assert_int_equal(rename(path, a), 0);
        (*rolls)++;
}

/* Writer and reader interleaved; the agent "restarts" (new source from the state) now and then. */
static void rolling_with_restarts_counts_each_line_once(void **state) {
        Fixture *f = *state;
        char path[128];
        unsigned rolls = 0, errors = 0, lines = 3000;
        Totals t = {};
        LogSource *s;

        snprintf(path, sizeof(path), "%s/worker.log", f->dir);
        append(path, "");
        assert_int_equal(log_file_source_new(path, &settings, f->state, &s), 0);
        /* The agent saves a new source's position at once (log-tailer.c). */
        cycle(f, s, &t);
        const char *seed = getenv("VIGIL_TEST_SEED");
        srand(seed ? (unsigned)atoi(seed) : 42);
        for (unsigned n = 0; n < lines; n++) {
                bool error = n % 7 == 3;
                errors += error;
                write_line(path, n, error);
                int dice = rand() % 100;
                if (dice < 3)
                        roll_log4j(path, &rolls);
                else if (dice < 13)
                        drain(s);
                else if (dice < 16)
                        cycle(f, s, &t);
                else if (dice < 18) {
                        /* kill -9: whatever was read after the last cycle is read again */
                        log_source_free(s);
                        assert_int_equal(log_file_source_new(path, &settings, f->state, &s), 0);
                } else if (dice < 19) {
                        /* stop after a cycle, several rolls while stopped */
                        cycle(f, s, &t);
                        log_source_free(s);
                        write_line(path, ++n, false);
                        roll_log4j(path, &rolls);
                        write_line(path, ++n, true);
                        errors++;
                        roll_log4j(path, &rolls);
                        assert_int_equal(log_file_source_new(path, &settings, f->state, &s), 0);
                }
        }
        drain(s);
        cycle(f, s, &t);
        /* The last event waited a cycle for its context. */
        cycle(f, s, &t);
        assert_int_equal(t.errors, errors);
        assert_int_equal(t.files_lost, 0);
        assert_true(rolls > 50);
        log_source_free(s);
}

static void cri_line(const char *path, const char *tag, const char *text) {
        char line[512];
        snprintf(line, sizeof(line), "2024-07-04T17:29:53.000000000Z stderr %s %s\n", tag, text);
        append(path, line);
}

/* kubelet: 0.log -> 0.log.<stamp>, a partial line across the rotation; then the container
 * restarts into 1.log and the previous one's last errors are kept. */
static void pod_rotation_and_restart(void **state) {
        Fixture *f = *state;
        char dir[128], log0[160], rot[192], log1[160];
        Totals t = {};
        LogSource *s;

        snprintf(dir, sizeof(dir), "%s/alluxio_worker-0_u1/worker", f->dir);
        char parent[128];
        snprintf(parent, sizeof(parent), "%s/alluxio_worker-0_u1", f->dir);
        assert_int_equal(mkdir(parent, 0755), 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(log0, sizeof(log0), "%s/0.log", dir);
        snprintf(log1, sizeof(log1), "%s/1.log", dir);
        snprintf(rot, sizeof(rot), "%s/0.log.20240704-172953", dir);
        cri_line(log0, "F", "2024-07-04 17:29:53,000 INFO W - up");
        assert_int_equal(log_pod_source_new(dir, "pod:alluxio/worker-0/worker", &settings, f->state, &s), 0);
        assert_string_equal(s->key, dir);
        drain(s);
        cri_line(log0, "P", "2024-07-04 17:29:53,000 ERR");
        drain(s);
        cycle(f, s, &t);
        /* The agent stops here; the rotation happens while it is away. */
        log_source_free(s);
        assert_int_equal(rename(log0, rot), 0);
        cri_line(log0, "F", "OR W - Failed across a rotation");
        cri_line(log0, "F", "2024-07-04 17:29:54,000 ERROR W - Failed to commit block 7");
        assert_int_equal(log_pod_source_new(dir, "pod:alluxio/worker-0/worker", &settings, f->state, &s), 0);
        drain(s);
        cycle(f, s, &t);
        cycle(f, s, &t);
        assert_int_equal(t.errors, 2);
        assert_int_equal(t.lines, 3);
        assert_int_equal(t.restart_count, 0);
        /* The container dies with a last error and restarts. */
        cri_line(log0, "F", "2024-07-04 17:29:55,000 ERROR W - Exiting: disk full");
        cri_line(log1, "F", "2024-07-04 17:30:00,000 WARN W - recovered");
        drain(s);
        cycle(f, s, &t);
        cycle(f, s, &t);
        assert_int_equal(t.errors, 3);
        assert_int_equal(t.warns, 1);
        assert_int_equal(t.restart_count, 1);
        assert_int_equal(t.previous_restart_count, 0);
        assert_int_equal(t.n_previous, 3);
        assert_string_equal(t.previous_pattern, "Exiting: disk full");
        log_source_free(s);
}

static void truncation_and_missing_file(void **state) {
        Fixture *f = *state;
        char path[128];
        Totals t = {};
        LogSource *s;

        snprintf(path, sizeof(path), "%s/later.log", f->dir);
        assert_int_equal(log_file_source_new(path, &settings, f->state, &s), 0);
        size_t budget = 1 << 20;
        assert_int_equal(s->ops->read(s, &budget), -ENOENT);
        assert_int_equal(s->error, -ENOENT);
        assert_non_null(strstr(s->error_what, "later.log"));
        for (unsigned n = 0; n < 10; n++)
                write_line(path, n, true);
        drain(s);
        assert_int_equal(s->error, 0);
        /* copytruncate */
        assert_int_equal(truncate(path, 0), 0);
        write_line(path, 100, true);
        drain(s);
        cycle(f, s, &t);
        assert_int_equal(t.errors, 10); /* the last one waits a cycle for its context */
        cycle(f, s, &t);
        assert_int_equal(t.errors, 11);
        log_source_free(s);

        /* The file is replaced by another one while the agent is stopped (same name, maybe even
         * the same inode): the old position does not apply to it. */
        assert_int_equal(unlink(path), 0);
        write_line(path, 1, true);
        write_line(path, 2, true);
        assert_int_equal(log_file_source_new(path, &settings, f->state, &s), 0);
        drain(s);
        cycle(f, s, &t);
        cycle(f, s, &t);
        assert_int_equal(t.errors, 13);
        assert_int_equal(t.files_lost, 1);
        log_source_free(s);
}

/* However much was found, a sealed batch fits the size a report can carry; no count is lost. */
static void batch_fits_whatever_was_found(void **state) {
        LogAgg *a;
        LogAggOptions o = {};
        static char line[60000];
        assert_int_equal(log_agg_new(&o, &a), 0);
        for (unsigned i = 0; i < 300; i++) {
                /* 300 kinds of message (letters differ, so masking keeps them apart), each 60 KB. */
                int n = snprintf(line, sizeof(line), "2024-07-04 17:29:53,000 ERROR W - kind %c%c ",
                        'g' + i % 20, 'g' + i / 20);
                memset(line + n, 'z', sizeof(line) - (size_t)n - 1);
                LogEvent e = {.level = VIGIL__LOG_LEVEL__LOG_LEVEL_ERROR,
                        .line = line,
                        .line_len = sizeof(line) - 1,
                        .msg_offset = 29,
                        .msg_len = sizeof(line) - 30};
                assert_int_equal(log_agg_add(a, &e, 1720114193000), 0);
        }
        Vigil__LogSourceBatch *sb;
        assert_int_equal(log_agg_take_batch(a, "file:/x", &(LogScanStats){.lines = 300}, 0, 0, &sb), 0);
        Vigil__LogBatch b = VIGIL__LOG_BATCH__INIT;
        b.sources = &sb;
        b.n_sources = 1;
        assert_true(vigil__log_batch__get_packed_size(&b) > 10 * 1024 * 1024);
        assert_true(log_batch_fit(&b, 256 * 1024) <= 256 * 1024);
        uint64_t total = 0;
        for (size_t i = 0; i < sb->n_signatures; i++) {
                total += sb->signatures[i]->count;
                assert_true(sb->signatures[i]->sample_cut);
        }
        assert_int_equal(total, 300);
        /* 200 kinds kept apart, the rest counted together. */
        assert_int_equal(sb->n_signatures, 201);
        vigil__log_source_batch__free_unpacked(sb, NULL);
        log_agg_free(a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        rolling_with_restarts_counts_each_line_once, setup, teardown),
                cmocka_unit_test_setup_teardown(pod_rotation_and_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(truncation_and_missing_file, setup, teardown),
                cmocka_unit_test(batch_fits_whatever_was_found),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
